# SPDX-License-Identifier: Apache-2.0
"""Authorization (issue 16 part 5): Apache Kafka's kafka-acls tool
(kafka.admin.AclCommand, kafka_2.13 3.9.1 from .cache/kafka/libs) adds, lists
and removes ACLs on a broker with authorizer.class.name set; kcat,
confluent-kafka-python (librdkafka) and raw frames (tests/lib/kwire.py) then
see what Kafka's StandardAuthorizer would decide: no READ ->
TOPIC_AUTHORIZATION_FAILED on Fetch, no WRITE -> on Produce, no DESCRIBE ->
the topic is left out of a Metadata listing and answered
TOPIC_AUTHORIZATION_FAILED when named; DENY beats ALLOW; PREFIXED and "*"
patterns; super users bypass; ACLs survive a restart; groups and cluster
APIs; the denials metric.

Until SASL lands every client here is User:ANONYMOUS from 127.0.0.1: ACLs are
made for PRINCIPAL (and for OTHER, so that a resource has ACLs that do not
match). With named users, give PRINCIPAL's client its credentials and the
same tests check a named principal. allow.everyone.if.no.acl.found=true keeps
the cluster resource (ACL admin, CreateTopics) open, as no ACL names it."""
import os
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import REPO, client_missing, free_port
from kwire import (
    FETCH, METADATA, PRODUCE, fetch_body, make_topics, metadata_body, parse_fetch,
    parse_produce, produce_body, record_batch, roundtrip,
)

PRINCIPAL = "User:ANONYMOUS"
OTHER = "User:someone-else"
HOST = "127.0.0.1"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
TOPIC_AUTHORIZATION_FAILED = 29
UNKNOWN_TOPIC_OR_PARTITION = 3
TIMEOUT = 90
JAVA_OPTS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss1m"]
LIBS = REPO / ".cache" / "kafka" / "libs"

pytestmark = pytest.mark.skipif(
    os.environ.get("SPILLWAY_TEST_BACKEND", "spillway") != "spillway"
    or bool(os.environ.get("SPILLWAY_BOOTSTRAP")),
    reason="starts its own Spillway brokers with an authorizer")


@pytest.fixture(scope="module", autouse=True)
def need_tools():
    if shutil.which("java") is None or not any(LIBS.glob("kafka_2.13-*.jar")):
        client_missing(f"java or Kafka's jars missing in {LIBS} (kafka-ref.sh fetch)")
    if shutil.which("kcat") is None:
        client_missing("kcat not installed")


def base_overrides(**extra):
    o = {"authorizer.class.name": AUTHORIZER, "allow.everyone.if.no.acl.found": "true",
         "auto.create.topics.enable": "false"}
    o.update(extra)
    return o


@pytest.fixture
def broker(broker_factory):
    return broker_factory(base_overrides())


def kafka_acls(broker, *args):
    r = subprocess.run(["java", *JAVA_OPTS, "-cp", f"{LIBS}/*", "kafka.admin.AclCommand",
                        "--bootstrap-server", broker.bootstrap, *args],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, f"kafka-acls {args}: {r.stdout}\n{r.stderr}"
    return r.stdout


def allow(broker, op, topic, principal=PRINCIPAL, pattern="literal", deny=False, host=None):
    who = "--deny-principal" if deny else "--allow-principal"
    args = [who, principal, "--operation", op, "--topic", topic,
            "--resource-pattern-type", pattern]
    if host:
        args += ["--deny-host" if deny else "--allow-host", host]
    kafka_acls(broker, "--add", *args)


def listed(broker, *args):
    """kafka-acls --list: {(resource pattern line, acl line)}."""
    out, res, got = kafka_acls(broker, "--list", *args), None, set()
    for line in out.splitlines():
        if line.startswith("Current ACLs for resource"):
            res = line.split("`")[1]
        elif line.strip().startswith("(principal="):
            got.add((res, line.strip()))
    return got


def wait_applied(check, timeout=10):
    """ACLs reach the cores with the next snapshot: poll a check briefly."""
    end = time.monotonic() + timeout
    while True:
        ok = check()
        if ok or time.monotonic() > end:
            return ok
        time.sleep(0.05)


def produce_error(broker, topic):
    r = roundtrip(broker, PRODUCE, 7, produce_body(7, [(topic, [(0, record_batch([b"v"]))])]))
    return parse_produce(7, r)[0][2]


def fetch_error(broker, topic):
    r = roundtrip(broker, FETCH, 11, fetch_body(11, [(topic, [(0, 0, 1 << 20)])]))
    return parse_fetch(11, r)[1][0][2]


def metadata_topics(broker, names):
    """{name: error} of a Metadata v12 answer (names None: all topics)."""
    r = roundtrip(broker, METADATA, 9, metadata_body(9, names))
    r.i32()
    for _ in range(r.arr()):
        r.i32(), r.str(), r.i32(), r.str()
        r.tags()
    r.str()
    r.i32()
    out = {}
    for _ in range(r.arr()):
        err, name = r.i16(), r.str()
        r.bool()
        for _ in range(r.arr()):
            r.i16(), r.i32(), r.i32(), r.i32()
            for _ in range(3):
                n = r.arr()
                r.pos += 4 * max(n, 0)
            r.tags()
        r.i32()
        r.tags()
        out[name] = err
    return out


def kcat(broker, *args, data=None):
    return subprocess.run(["kcat", "-b", broker.bootstrap, "-m", "15", *args],
                          input=data, capture_output=True, text=True, timeout=TIMEOUT)


def test_add_list_remove_with_kafka_acls(broker):
    t = f"acl-{uuid.uuid4().hex[:8]}"
    allow(broker, "Read", t)
    allow(broker, "Write", "pfx-", pattern="prefixed")
    allow(broker, "Describe", t, principal=OTHER, deny=True, host=HOST)
    got = listed(broker)
    assert (f"ResourcePattern(resourceType=TOPIC, name={t}, patternType=LITERAL)",
            f"(principal={PRINCIPAL}, host=*, operation=READ, permissionType=ALLOW)") in got
    assert ("ResourcePattern(resourceType=TOPIC, name=pfx-, patternType=PREFIXED)",
            f"(principal={PRINCIPAL}, host=*, operation=WRITE, permissionType=ALLOW)") in got
    assert (f"ResourcePattern(resourceType=TOPIC, name={t}, patternType=LITERAL)",
            f"(principal={OTHER}, host={HOST}, operation=DESCRIBE, "
            "permissionType=DENY)") in got
    assert len(got) == 3
    # --list --topic X shows the ACLs that apply to X, prefixed ones too.
    assert {r for r, _ in listed(broker, "--topic", "pfx-a", "--resource-pattern-type",
                                 "match")} == {
        "ResourcePattern(resourceType=TOPIC, name=pfx-, patternType=PREFIXED)"}
    kafka_acls(broker, "--remove", "--force", "--topic", t)
    assert {r for r, _ in listed(broker)} == {
        "ResourcePattern(resourceType=TOPIC, name=pfx-, patternType=PREFIXED)"}


def test_no_read_no_fetch_no_write_no_produce(broker):
    t, = make_topics(broker, "acl", 1, 1)
    assert produce_error(broker, t) == 0
    # Another principal's ACL: the topic has ACLs, none for ours.
    allow(broker, "All", t, principal=OTHER)
    assert wait_applied(lambda: fetch_error(broker, t) == TOPIC_AUTHORIZATION_FAILED)
    assert produce_error(broker, t) == TOPIC_AUTHORIZATION_FAILED
    r = kcat(broker, "-C", "-t", t, "-o", "beginning", "-e", "-q")
    assert "Topic authorization failed" in r.stderr + r.stdout, r
    r = kcat(broker, "-P", "-t", t, data="x\n")
    assert "authorization failed" in (r.stderr + r.stdout).lower(), r
    # READ only: fetch works, produce still not.
    allow(broker, "Read", t)
    assert wait_applied(lambda: fetch_error(broker, t) == 0)
    assert produce_error(broker, t) == TOPIC_AUTHORIZATION_FAILED
    r = kcat(broker, "-C", "-t", t, "-o", "beginning", "-e", "-q")
    assert r.returncode == 0 and r.stdout.split() == ["v"], r
    allow(broker, "Write", t)
    assert wait_applied(lambda: produce_error(broker, t) == 0)
    r = kcat(broker, "-P", "-t", t, data="y\n")
    assert r.returncode == 0, r


def test_no_describe_hides_topic_in_metadata(broker):
    seen, hidden = make_topics(broker, "acl", 2, 1)
    allow(broker, "Read", hidden, principal=OTHER)
    assert wait_applied(lambda: hidden not in metadata_topics(broker, None))
    assert seen in metadata_topics(broker, None)
    assert metadata_topics(broker, [hidden]) == {hidden: TOPIC_AUTHORIZATION_FAILED}
    # kcat -L lists what Metadata listed.
    r = kcat(broker, "-L")
    assert seen in r.stdout and hidden not in r.stdout, r.stdout
    # WRITE implies DESCRIBE.
    allow(broker, "Write", hidden)
    assert wait_applied(lambda: hidden in metadata_topics(broker, None))
    assert metadata_topics(broker, [hidden]) == {hidden: 0}


def test_deny_beats_allow(broker):
    t, = make_topics(broker, "acl", 1, 1)
    allow(broker, "All", "*", principal="User:*")
    allow(broker, "Read", t, deny=True, host=HOST)
    assert wait_applied(lambda: fetch_error(broker, t) == TOPIC_AUTHORIZATION_FAILED)
    assert produce_error(broker, t) == 0               # only READ is denied
    kafka_acls(broker, "--remove", "--force", "--deny-principal", PRINCIPAL, "--operation",
               "Read", "--topic", t, "--deny-host", HOST)
    assert wait_applied(lambda: fetch_error(broker, t) == 0)


def test_prefixed_and_wildcard_patterns(broker):
    tag = uuid.uuid4().hex[:6]
    a, b = make_topics(broker, f"pfx{tag}", 2, 1)
    other, = make_topics(broker, f"oth{tag}", 1, 1)
    prefix = a[:len(f"cf-pfx{tag}-")]
    allow(broker, "Write", prefix, pattern="prefixed")
    allow(broker, "Read", "*", principal=OTHER)      # every topic now has an ACL
    assert wait_applied(lambda: produce_error(broker, other) == TOPIC_AUTHORIZATION_FAILED)
    assert produce_error(broker, a) == 0
    assert produce_error(broker, b) == 0
    assert fetch_error(broker, a) == TOPIC_AUTHORIZATION_FAILED
    # The "*" literal for our principal opens READ everywhere.
    allow(broker, "Read", "*")
    assert wait_applied(lambda: fetch_error(broker, other) == 0)
    assert fetch_error(broker, a) == 0


def test_super_users_bypass(broker_factory):
    b = broker_factory(base_overrides(**{"super.users": f"User:admin;{PRINCIPAL}"}))
    t, = make_topics(b, "acl", 1, 1)
    allow(b, "All", "*", principal="User:*", deny=True)
    assert produce_error(b, t) == 0
    assert fetch_error(b, t) == 0
    assert t in metadata_topics(b, None)


def test_acls_survive_restart(broker):
    t, = make_topics(broker, "acl", 1, 1)
    allow(broker, "All", t, principal=OTHER)
    allow(broker, "Read", t)
    before = listed(broker)
    assert wait_applied(lambda: produce_error(broker, t) == TOPIC_AUTHORIZATION_FAILED)
    broker.restart()
    assert listed(broker) == before
    assert produce_error(broker, t) == TOPIC_AUTHORIZATION_FAILED
    assert fetch_error(broker, t) == 0


def test_no_authorizer_is_security_disabled(broker_factory):
    b = broker_factory({})
    r = subprocess.run(["java", *JAVA_OPTS, "-cp", f"{LIBS}/*", "kafka.admin.AclCommand",
                        "--bootstrap-server", b.bootstrap, "--list"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert "SecurityDisabledException" in r.stdout + r.stderr, r


def allow_group(broker, op, group, principal=PRINCIPAL, deny=False):
    who = "--deny-principal" if deny else "--allow-principal"
    kafka_acls(broker, "--add", who, principal, "--operation", op, "--group", group)


def test_groups_need_group_and_topic_acls(broker):
    import kgroups as g
    GROUP_AUTHORIZATION_FAILED = 30
    t, = make_topics(broker, "acl", 1, 1)
    grp = f"acl-g-{uuid.uuid4().hex[:8]}"
    g.wait_coordinator(broker, "warmup")
    allow_group(broker, "All", grp, principal=OTHER)        # the group has ACLs
    commit = [(t, [(0, 1, "")])]
    assert wait_applied(lambda: g.find_coordinator(broker, [grp])[0][1] ==
                        GROUP_AUTHORIZATION_FAILED)
    assert [e for *_, e in g.offset_commit(broker, 9, grp, commit)] == \
        [GROUP_AUTHORIZATION_FAILED]
    assert g.offset_fetch(broker, 8, [(grp, None)])[0][1] == GROUP_AUTHORIZATION_FAILED
    # READ on the group (implies DESCRIBE): the topic's READ decides.
    allow_group(broker, "Read", grp)
    allow(broker, "Write", t, principal=OTHER)              # the topic has ACLs
    assert wait_applied(lambda: g.find_coordinator(broker, [grp])[0][1] == 0)
    assert [e for *_, e in g.offset_commit(broker, 9, grp, commit)] == \
        [TOPIC_AUTHORIZATION_FAILED]
    allow(broker, "Read", t)
    assert wait_applied(lambda: [e for *_, e in g.offset_commit(broker, 9, grp, commit)]
                        == [0])
    assert g.committed(broker, grp) == {(t, 0): 1}
    # kcat's balanced consumer: the group is refused with DENY.
    allow_group(broker, "Read", grp, deny=True)
    r = kcat(broker, "-G", grp, t, "-e", "-q", "-o", "beginning")
    assert "authorization failed" in (r.stderr + r.stdout).lower(), r


def test_denials_metric(broker_factory):
    import urllib.request
    import promtext
    port = free_port()
    b = broker_factory(base_overrides(**{"spillway.metrics.listen": f"127.0.0.1:{port}"}))
    t, = make_topics(b, "acl", 1, 1)
    allow(b, "All", t, principal=OTHER)
    assert wait_applied(lambda: produce_error(b, t) == TOPIC_AUTHORIZATION_FAILED)
    assert fetch_error(b, t) == TOPIC_AUTHORIZATION_FAILED
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        samples = promtext.parse(r.read().decode(), strict=True)
    got = {(dict(labels).get("operation"), dict(labels).get("resource_type")): v
           for (name, labels), v in samples.items()
           if name == "spillway_authorization_denials_total"}
    assert got.get(("WRITE", "TOPIC"), 0) >= 1, got
    assert got.get(("READ", "TOPIC"), 0) >= 1, got


def init_producer_id_error(broker):
    from kwire import INIT_PRODUCER_ID, Writer, flexible
    w = Writer(flexible(INIT_PRODUCER_ID, 4))
    w.str(None).i32(60000).i64(-1).i16(-1).tags()
    r = roundtrip(broker, INIT_PRODUCER_ID, 4, w.b)
    r.i32()
    return r.i16()


def test_cluster_apis_need_cluster_acls(broker):
    from kwire import (DESCRIBE_CONFIGS, create_topics, describe_configs_body,
                       parse_describe_configs_values)
    CLUSTER_AUTHORIZATION_FAILED = 31
    t, = make_topics(broker, "acl", 1, 1)
    assert init_producer_id_error(broker) == 0
    allow(broker, "All", "*", principal=OTHER)              # every topic has ACLs
    kafka_acls(broker, "--add", "--deny-principal", PRINCIPAL, "--operation", "All",
               "--cluster")

    def refused():
        return init_producer_id_error(broker) == CLUSTER_AUTHORIZATION_FAILED
    assert wait_applied(refused)
    name = f"acl-new-{uuid.uuid4().hex[:8]}"
    assert create_topics(broker, [(name, 1)]) == [
        (name, TOPIC_AUTHORIZATION_FAILED, "Authorization failed.")]
    r = roundtrip(broker, DESCRIBE_CONFIGS, 1, describe_configs_body(1, [(4, "1"), (2, t)]))
    got = [(rt, err) for rt, _n, err, *_ in parse_describe_configs_values(1, r)]
    assert got == [(4, CLUSTER_AUTHORIZATION_FAILED), (2, TOPIC_AUTHORIZATION_FAILED)]
    # ElectLeaders v1 needs ALTER on the cluster: every listed partition fails.
    from kwire import FLEXIBLE_FROM, Writer
    FLEXIBLE_FROM.setdefault(43, 2)
    w = Writer(False).i8(0).arr(1).str(t).arr(1).i32(0).i32(30000)
    r = roundtrip(broker, 43, 1, w.b)
    r.i32()
    assert r.i16() == CLUSTER_AUTHORIZATION_FAILED
    assert r.arr() == 1 and r.str() == t and r.arr() == 1
    assert (r.i32(), r.i16()) == (0, CLUSTER_AUTHORIZATION_FAILED)
    # AlterPartitionReassignments (ALTER) and ListPartitionReassignments
    # (DESCRIBE on the cluster): Kafka's error answers.
    FLEXIBLE_FROM.setdefault(45, 0)
    FLEXIBLE_FROM.setdefault(46, 0)
    w = Writer(True).i32(30000).arr(1).str(t).arr(1).i32(0).arr(1).i32(1).tags().tags().tags()
    r = roundtrip(broker, 45, 0, w.b)
    r.i32()
    assert (r.i16(), r.str()) == (CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.")
    assert r.arr() == 1 and r.str() == t and r.arr() == 1
    assert (r.i32(), r.i16()) == (0, CLUSTER_AUTHORIZATION_FAILED)
    r = roundtrip(broker, 46, 0, Writer(True).i32(30000).arr(None).tags().b)
    r.i32()
    assert r.i16() == CLUSTER_AUTHORIZATION_FAILED and r.str() == "Cluster authorization failed."
    assert r.arr() == 0
    # kafka-acls itself needs DESCRIBE / ALTER on the cluster now.
    r = subprocess.run(["java", *JAVA_OPTS, "-cp", f"{LIBS}/*", "kafka.admin.AclCommand",
                        "--bootstrap-server", broker.bootstrap, "--list"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert "ClusterAuthorizationException" in r.stdout + r.stderr, r


def test_idempotent_producer_by_topic_write(broker):
    CLUSTER_AUTHORIZATION_FAILED = 31
    t, = make_topics(broker, "acl", 1, 1)
    allow(broker, "All", "*", principal=OTHER)
    kafka_acls(broker, "--add", "--allow-principal", PRINCIPAL, "--operation", "Alter",
               "--operation", "Describe", "--cluster")
    assert wait_applied(lambda: init_producer_id_error(broker) == CLUSTER_AUTHORIZATION_FAILED)
    # No IDEMPOTENT_WRITE on the cluster, but WRITE on a topic (Kafka 3.x).
    allow(broker, "Write", t)
    assert wait_applied(lambda: init_producer_id_error(broker) == 0)
    allow(broker, "Write", t, deny=True)
    assert wait_applied(lambda: init_producer_id_error(broker) == CLUSTER_AUTHORIZATION_FAILED)


def test_confluent_kafka_sees_authorization_errors(broker):
    try:
        from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
    except ImportError:
        client_missing("python3-confluent-kafka is not installed")
    t, = make_topics(broker, "acl", 1, 1)
    assert produce_error(broker, t) == 0
    allow(broker, "All", t, principal=OTHER)
    assert wait_applied(lambda: fetch_error(broker, t) == TOPIC_AUTHORIZATION_FAILED)
    errors = []
    p = Producer({"bootstrap.servers": broker.bootstrap, "message.timeout.ms": 10000})
    p.produce(t, b"x", partition=0, on_delivery=lambda err, _m: errors.append(err))
    p.flush(30)
    assert errors and errors[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, errors
    # DESCRIBE but no READ: the topic's leader is known, its Fetch refused.
    allow(broker, "Describe", t)
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"acl-{t}",
                  "enable.auto.commit": False})
    try:
        c.assign([TopicPartition(t, 0, 0)])
        seen = None
        end = time.monotonic() + 30
        while seen is None and time.monotonic() < end:
            m = c.poll(1.0)
            if m is not None and m.error() is not None:
                seen = m.error().code()
        assert seen == KafkaError.TOPIC_AUTHORIZATION_FAILED, seen
    finally:
        c.close()


# ---- the ACL APIs against Apache Kafka with its StandardAuthorizer ----

def test_acl_apis_match_kafka():
    """CreateAcls, DescribeAcls and DeleteAcls at every version, against
    Kafka 3.9 (kafka-ref.sh) with StandardAuthorizer and
    allow.everyone.if.no.acl.found: the same results, codes and messages
    (resources compared in key order: Kafka groups them in a hash map)."""
    import kschema
    from conftest import Broker
    from test_differential import LIBS as KAFKA_LIBS, Side, canonical, diff, schema_source
    if not any(KAFKA_LIBS.glob("kafka_2.13-*.jar")):
        client_missing("Kafka's jars missing (kafka-ref.sh fetch)")
    schemas = kschema.Schemas(schema_source())
    made, sides = [], []
    try:
        for name in ("spillway", "kafka"):
            b = Broker(name, base_overrides())
            made.append(b)
            b.start()
            sides.append(Side(name, b, schemas))
        _acl_api_sequence(sides, canonical, diff)
    finally:
        for s in sides:
            s.close()
        for b in made:
            b.cleanup()


def _binding(rtype, name, pattern, principal, host, op, perm):
    return {"ResourceType": rtype, "ResourceName": name, "ResourcePatternType": pattern,
            "Principal": principal, "Host": host, "Operation": op, "PermissionType": perm}


def _filter(rtype, name, pattern, principal=None, host=None, op=1, perm=1):
    return {"ResourceTypeFilter": rtype, "ResourceNameFilter": name,
            "PatternTypeFilter": pattern, "PrincipalFilter": principal, "HostFilter": host,
            "Operation": op, "PermissionType": perm}


def _acl_api_sequence(sides, canonical, diff):
    CREATE, DESCRIBE, DELETE = 30, 29, 31
    creations = [
        _binding(2, "orders", 3, OTHER, "*", 3, 3),
        _binding(2, "orders", 3, OTHER, HOST, 4, 2),
        _binding(2, "app.", 4, "User:*", "*", 2, 3),
        _binding(3, "billing", 3, OTHER, "*", 3, 3),
        # Our principal keeps the cluster (kafka-acls' own calls).
        _binding(4, "kafka-cluster", 3, PRINCIPAL, "*", 2, 3),
        _binding(4, "other", 3, OTHER, "*", 7, 3),          # not the cluster's name
        _binding(3, "", 3, OTHER, "*", 3, 3),               # empty name
    ]
    # ANY / MATCH codes: Kafka's broker cannot build the binding, the
    # whole request is UNKNOWN_SERVER_ERROR.
    unbuildable = [
        _binding(1, "x", 3, OTHER, "*", 3, 3),
        _binding(2, "x", 2, OTHER, "*", 3, 3),
        _binding(2, "x", 3, OTHER, "*", 1, 3),
        _binding(2, "x", 3, OTHER, "*", 3, 1),
    ]
    out = []

    def acls_sorted(v):
        """Bindings within a resource in a fixed order (Kafka's is a hash's)."""
        if isinstance(v, dict):
            return {k: (sorted(x, key=repr) if k in ("Acls", "MatchingAcls") else
                        acls_sorted(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [acls_sorted(x) for x in v]
        return v

    def same(api, v, msg, settle=False):
        end = time.monotonic() + (15 if settle else 0)
        while True:
            got = [acls_sorted(canonical(s.call(api, v, msg))) for s in sides]
            diffs = []
            diff(got[0], got[1], "", ("ThrottleTimeMs",), diffs)
            if not diffs or time.monotonic() > end:
                out.extend(f"api {api} v{v} {d}" for d in diffs)
                return
            time.sleep(0.2)     # Kafka applies ACLs through its metadata log

    for v in range(0, 4):
        msg = {"Creations": [c for c in creations if v > 0 or c["ResourcePatternType"] == 3]}
        same(CREATE, v, msg)
        for bad in unbuildable:
            if v > 0 or bad["ResourcePatternType"] == 3:
                same(CREATE, v, {"Creations": [creations[0], bad]})
        for f in (_filter(1, None, 1), _filter(2, None, 1), _filter(2, "orders", 3),
                  _filter(2, "app.x", 2), _filter(1, None, 1, OTHER, "*"),
                  _filter(2, "orders", 1, None, None, 4, 2)):
            if v > 0 or f["PatternTypeFilter"] in (1, 3):
                same(DESCRIBE, v, f, settle=True)
        filters = [_filter(2, "orders", 3, op=4), _filter(3, None, 1)]
        same(DELETE, v, {"Filters": filters}, settle=False)
        same(DESCRIBE, v, _filter(1, None, 1), settle=True)
        # An UNKNOWN resource type: both close the connection.
        same(DELETE, v, {"Filters": [_filter(0, None, 1)]})
        same(DELETE, v, {"Filters": [_filter(2, None, 1), _filter(3, None, 1)]})
        same(DESCRIBE, v, _filter(1, None, 1), settle=True)
    assert not out, "\n".join(out[:40])
