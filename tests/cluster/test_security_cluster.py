# SPDX-License-Identifier: Apache-2.0
"""ACLs across the cluster (issue 17): they live in ZooKeeper in Kafka's
ZooKeeper-mode layout (/kafka-acl/<ResourceType>/<name>, change
notifications under /kafka-acl-changes), so an ACL created through one
broker is enforced by every broker, one deleted through another is gone
everywhere, and they survive a restart of every broker. Enforcement is seen
on the wire: Metadata naming the topic answers TOPIC_AUTHORIZATION_FAILED
when the anonymous client may not DESCRIBE it. The ACL admin is Kafka's
kafka-acls tool (AclCommand) bootstrapped at one chosen broker only."""
import json
import shutil
import subprocess

import pytest

import harness

AUTHORIZER = "kafka.security.authorizer.AclAuthorizer"
ME = "User:ANONYMOUS"
OTHER = "User:someone-else"
TOPIC_AUTHORIZATION_FAILED = 29
WAIT = 30
LIBS = harness.KAFKA_LIBS
JAVA_OPTS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss1m"]


@pytest.fixture(scope="module", autouse=True)
def need_tools():
    if shutil.which("java") is None or not any(LIBS.glob("kafka_2.13-*.jar")):
        pytest.skip(f"java or Kafka's jars missing in {LIBS} (kafka-ref.sh fetch)")


def kafka_tool(main, b, *args):
    r = subprocess.run(["java", *JAVA_OPTS, "-cp", f"{LIBS}/*", main,
                        "--bootstrap-server", b.bootstrap, *args],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, f"{main} {args}: {r.stdout}\n{r.stderr}"
    return r.stdout


def acls(b, *args):
    return kafka_tool("kafka.admin.AclCommand", b, *args)


def add_acl(b, principal, op, topic, pattern="literal"):
    acls(b, "--add", "--allow-principal", principal, "--operation", op, "--topic", topic,
         "--resource-pattern-type", pattern)


def described(b, topic):
    """{(resource pattern, acl line)} kafka-acls --list gives for topic."""
    out, res, got = acls(b, "--list", "--topic", topic, "--resource-pattern-type", "any"), \
        None, set()
    for line in out.splitlines():
        if line.startswith("Current ACLs for resource"):
            res = line.split("`")[1]
        elif line.strip().startswith("(principal="):
            got.add((res, line.strip()))
    return got


def acl_line(principal, op):
    return f"(principal={principal}, host=*, operation={op}, permissionType=ALLOW)"


def topic_error(b, topic):
    return b.metadata([topic]).topics[topic].error


@pytest.fixture
def secured(cluster_factory):
    c = cluster_factory(3, overrides={"authorizer.class.name": AUTHORIZER,
                                      "allow.everyone.if.no.acl.found": "true"})
    c.create_topics(["sec-a", "sec-b"], 1, 3)
    return c


def lines(b, topic):
    return {acl for _, acl in described(b, topic)}


def test_acl_created_on_one_enforced_on_all_deleted_and_restarted(secured):
    c = secured
    b1, b2, b3 = c.brokers[1], c.brokers[2], c.brokers[3]
    assert topic_error(b3, "sec-a") == 0
    # Broker 1 writes ZooKeeper; broker 3 now denies the anonymous client.
    add_acl(b1, OTHER, "Read", "sec-a")
    harness.wait_for(lambda: topic_error(b3, "sec-a") == TOPIC_AUTHORIZATION_FAILED, WAIT,
                     "broker 3 denying DESCRIBE on sec-a")
    add_acl(b1, ME, "Describe", "sec-a")
    harness.wait_for(lambda: topic_error(b3, "sec-a") == 0, WAIT,
                     "broker 3 allowing DESCRIBE on sec-a")
    want = {acl_line(OTHER, "READ"), acl_line(ME, "DESCRIBE")}
    for b in (b1, b2, b3):
        harness.wait_for(lambda b=b: lines(b, "sec-a") == want, WAIT,
                         f"broker {b.id} listing both ACLs", interval=1)
    if c.backend != "kafka":
        znode = c.zk.cli("get", "/kafka-acl/Topic/sec-a")
        doc = json.loads(next(x for x in znode.splitlines() if x.startswith("{")))
        assert doc["version"] == 1
        assert {(a["principal"], a["operation"], a["permissionType"], a["host"])
                for a in doc["acls"]} == {(OTHER, "Read", "Allow", "*"),
                                          (ME, "Describe", "Allow", "*")}
    assert "acl_changes_" in c.zk.cli("ls", "/kafka-acl-changes")
    # Deleted through broker 2: gone everywhere.
    acls(b2, "--remove", "--force", "--topic", "sec-a")
    for b in (b1, b2, b3):
        harness.wait_for(lambda b=b: lines(b, "sec-a") == set(), WAIT,
                         f"broker {b.id} listing no ACLs", interval=1)
    assert topic_error(b3, "sec-a") == 0
    # A prefixed ACL through broker 3 denies on broker 1, and survives a
    # restart of every broker.
    add_acl(b3, OTHER, "Read", "sec-", pattern="prefixed")
    harness.wait_for(lambda: topic_error(b1, "sec-b") == TOPIC_AUTHORIZATION_FAILED, WAIT,
                     "broker 1 denying through a prefixed ACL")
    assert "sec-" in c.zk.cli("ls", "/kafka-acl-extended/prefixed/Topic")
    for b in (b1, b2, b3):
        b.kill()
    for b in (b1, b2, b3):
        b.start(wait=False)
    for b in (b1, b2, b3):
        b.wait_accepting()
    c.wait_formed(timeout=60, ids=[1, 2, 3])
    for b in (b1, b2, b3):
        harness.wait_for(lambda b=b: topic_error(b, "sec-b") == TOPIC_AUTHORIZATION_FAILED,
                         WAIT, f"broker {b.id} denying after the restart")
    assert lines(b2, "sec-") == {acl_line(OTHER, "READ")}


# -- SCRAM credentials and client quotas: /config/users, /config/clients ----

def configs(b, *args):
    out = kafka_tool("kafka.admin.ConfigCommand", b, *args)
    return "\n".join(x for x in out.splitlines() if "log4j" not in x)


@pytest.fixture
def sasl_cluster():
    """Three brokers, each with a SASL_PLAINTEXT listener next to PLAINTEXT."""
    import conftest
    conftest._require()
    o = {"sasl.enabled.mechanisms": "SCRAM-SHA-256,SCRAM-SHA-512"}
    if harness.backend() == "kafka":     # Kafka needs a server login module per mechanism
        for m in ("scram-sha-256", "scram-sha-512"):
            o[f"listener.name.sasl_plaintext.{m}.sasl.jaas.config"] = \
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    c = harness.Cluster(3, o)
    for b in c.brokers.values():
        b.sasl_port = harness.zkmod.free_port()
        b.overrides["listeners"] = (f"PLAINTEXT://127.0.0.1:{b.port},"
                                    f"SASL_PLAINTEXT://127.0.0.1:{b.sasl_port}")
    c.start()
    conftest._clusters.append(c)
    yield c
    conftest._finish(c)


def scram_ok(b, user, password, mech="SCRAM-SHA-256"):
    """A librdkafka client authenticating on b's SASL listener: True when
    it gets metadata."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient
    a = AdminClient({"bootstrap.servers": f"127.0.0.1:{b.sasl_port}",
                     "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": mech,
                     "sasl.username": user, "sasl.password": password})
    try:
        a.list_topics(timeout=5)
        return True
    except KafkaException:
        return False


def test_scram_user_created_on_one_authenticates_on_another(sasl_cluster):
    c = sasl_cluster
    b1, b2, b3 = c.brokers[1], c.brokers[2], c.brokers[3]
    assert not scram_ok(b2, "alice", "alice-secret")
    configs(b1, "--alter", "--add-config",
            "SCRAM-SHA-256=[iterations=4096,password=alice-secret]",
            "--entity-type", "users", "--entity-name", "alice")
    harness.wait_for(lambda: scram_ok(b2, "alice", "alice-secret"), WAIT,
                     "alice authenticating on broker 2")
    assert scram_ok(b3, "alice", "alice-secret")
    assert not scram_ok(b2, "alice", "wrong")
    if c.backend != "kafka":
        out = c.zk.cli("get", "/config/users/alice")
        doc = json.loads(next(x for x in out.splitlines() if x.startswith("{")))
        cred = doc["config"]["SCRAM-SHA-256"]
        assert cred.startswith("salt=") and cred.endswith(",iterations=4096")
        assert "stored_key=" in cred and "server_key=" in cred
        assert "users/alice" in c.zk.cli("get", "/config/changes/" + sorted(
            x for x in c.zk.cli("ls", "/config/changes").split("[")[-1].strip(" ]\n")
            .split(", ") if x)[-1])
    # A quota through broker 3 shares the user's znode and is listed by broker 1.
    configs(b3, "--alter", "--add-config", "producer_byte_rate=1024,consumer_byte_rate=2048",
            "--entity-type", "users", "--entity-name", "alice")
    configs(b3, "--alter", "--add-config", "request_percentage=50",
            "--entity-type", "users", "--entity-name", "alice",
            "--entity-type", "clients", "--entity-name", "c1")
    configs(b3, "--alter", "--add-config", "producer_byte_rate=4096",
            "--entity-type", "clients", "--entity-default")

    def listed():
        a = configs(b1, "--describe", "--entity-type", "users", "--entity-name", "alice")
        ac = configs(b1, "--describe", "--entity-type", "users", "--entity-name", "alice",
                     "--entity-type", "clients", "--entity-name", "c1")
        d = configs(b1, "--describe", "--entity-type", "clients", "--entity-default")
        return ("consumer_byte_rate=2048.0" in a and "producer_byte_rate=1024.0" in a and
                "request_percentage=50.0" in ac and "producer_byte_rate=4096.0" in d)
    harness.wait_for(listed, WAIT, "broker 1 describing the quotas", interval=1)
    if c.backend != "kafka":
        out = c.zk.cli("get", "/config/users/alice")
        doc = json.loads(next(x for x in out.splitlines() if x.startswith("{")))
        assert doc["config"]["producer_byte_rate"] == "1024"
        assert "SCRAM-SHA-256" in doc["config"]
        assert "request_percentage" in c.zk.cli("get", "/config/users/alice/clients/c1")
        assert "4096" in c.zk.cli("get", "/config/clients/<default>")
    # The credential survives the quota write, and a restart of broker 2.
    b2.kill()
    b2.start()
    c.wait_formed(timeout=60, ids=[1, 2, 3])
    harness.wait_for(lambda: scram_ok(b2, "alice", "alice-secret"), WAIT,
                     "alice authenticating on broker 2 after its restart")
