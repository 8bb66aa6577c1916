# SPDX-License-Identifier: Apache-2.0
"""Security end to end (issue 16): TLS, SASL and ACLs together on one broker.

One broker serves four listeners with the authorizer on and
allow.everyone.if.no.acl.found=false:
  PLAINTEXT       the admin bootstrap (User:ANONYMOUS is a super user there,
                  as a Kafka deployment bootstraps users and ACLs)
  SSL             ssl.client.auth=required; the principal comes from the
                  client certificate through ssl.principal.mapping.rules
  SASL_SSL        SCRAM-SHA-512 (users made by kafka-configs over PLAINTEXT)
                  and PLAIN (JAAS users, or checked against the SCRAM store)
  SASL_PLAINTEXT  PLAIN only (listener.name.<l>.sasl.enabled.mechanisms)

test_tls.py covers SSL and mTLS and test_sasl.py SASL_PLAINTEXT with kcat,
confluent-kafka-python, the Java client and kafkajs; what they leave out is
here: SASL_SSL with SCRAM-SHA-512 for all four clients, confluent-kafka over
SASL_PLAINTEXT with PLAIN, named principals (SCRAM, PLAIN, certificate)
under ACLs, re-authentication over TLS, failures that cross the layers, and
the metrics all of it leaves.

Spillway only: port-0 listeners are learnt from Spillway's log."""
import base64
import hashlib
import hmac
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

import kwire
from conftest import (HERE, JAVA_OPTS, REPO, Broker, _backend, _teardown, backend_name,
                      client_missing, free_port)
from kwire import Writer

pytestmark = pytest.mark.skipif(
    backend_name() != "spillway" or bool(os.environ.get("SPILLWAY_TEST_BACKEND")),
    reason="starts its own Spillway brokers; port-0 listeners are learnt from its log")

TIMEOUT = 120
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"
SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
JAAS = f'{PLAIN_MODULE} required username="admin" password="admin-secret" user_bob="bob-secret";'
USERS = {"alice": "alice-secret", "admin": "admin-secret"}
ILLEGAL_SASL_STATE, TOPIC_AUTHORIZATION_FAILED = 34, 29
FAILED_MSG = ("Authentication failed during authentication due to invalid credentials "
              "with SASL mechanism {}")
LIBS = REPO / ".cache" / "kafka" / "libs"


# ---- certificates (openssl CLI) ----

def _openssl(d, *args):
    subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)


def _cert(d, name, subj, san=None):
    _openssl(d, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subj)
    ext = []
    if san:
        (d / f"{name}.ext").write_text(f"subjectAltName={san}\n")
        ext = ["-extfile", f"{name}.ext"]
    _openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", *ext)
    (d / f"{name}.keystore.pem").write_text((d / f"{name}.key").read_text() +
                                            (d / f"{name}.pem").read_text())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if shutil.which("openssl") is None:
        client_missing("the openssl CLI is not installed")
    d = tmp_path_factory.mktemp("pki")
    _openssl(d, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=ca")
    _cert(d, "server", "/CN=localhost", "DNS:localhost,IP:127.0.0.1")
    _cert(d, "dave", "/C=US/O=Acme/CN=dave")       # principal User:dave by the rule
    _cert(d, "eve", "/C=US/O=Other/CN=eve")         # DEFAULT: User:CN=eve,O=Other,C=US
    return d


# ---- the broker ----

def overrides(pki, metrics_port, extra=None):
    o = {
        "listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0,"
                     "SASL_PLAINTEXT://127.0.0.1:0",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(pki / "server.keystore.pem"),
        "ssl.key.password": "",
        "listener.name.ssl.ssl.client.auth": "required",
        "listener.name.ssl.ssl.truststore.type": "PEM",
        "listener.name.ssl.ssl.truststore.location": str(pki / "ca.pem"),
        "listener.name.ssl.ssl.principal.mapping.rules": "RULE:^CN=(.*?),O=Acme.*$/$1/L,DEFAULT",
        "sasl.enabled.mechanisms": "SCRAM-SHA-512,PLAIN",
        "listener.name.sasl_plaintext.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.sasl_ssl.plain.sasl.jaas.config": JAAS,
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS,
        "authorizer.class.name": AUTHORIZER,
        "super.users": "User:admin;User:ANONYMOUS",
        "allow.everyone.if.no.acl.found": "false",
        "auto.create.topics.enable": "false",
        "spillway.metrics.listen": f"127.0.0.1:{metrics_port}",
    }
    o.update(extra or {})
    return o


def kafka_libs():
    if shutil.which("java") is None or not any(LIBS.glob("kafka_2.13-*.jar")):
        client_missing(f"java or Kafka distribution jars missing in {LIBS}")
    return f"{LIBS}/*"


def kafka_tool(main, bootstrap, *args):
    r = subprocess.run(["java", *JAVA_OPTS, "-cp", kafka_libs(), main,
                        "--bootstrap-server", bootstrap, *args], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=TIMEOUT)
    out = "\n".join(x for x in (r.stdout + r.stderr).splitlines() if "log4j" not in x)
    assert r.returncode == 0, f"{main} {args}: rc={r.returncode}\n{out}"
    return out


def start_broker(pki, extra=None):
    port = free_port()
    b = Broker(_backend(), overrides(pki, port, extra)).start()
    b.metrics_port = port
    b.plain = b.listener_bootstrap("PLAINTEXT")
    for user, pw in USERS.items():
        kafka_tool("kafka.admin.ConfigCommand", b.plain, "--alter", "--add-config",
                   f"SCRAM-SHA-512=[password={pw}]", "--entity-type", "users",
                   "--entity-name", user)
    return b


@pytest.fixture(scope="module")
def sec(pki):
    if os.environ.get("SPILLWAY_BOOTSTRAP"):
        pytest.skip("needs a Spillway broker of its own")
    b = start_broker(pki)
    yield b
    _teardown(b)


def acl(b, *args):
    kafka_tool("kafka.admin.AclCommand", b.plain, "--add", *args)


def topics(b, prefix, n=1):
    tag = uuid.uuid4().hex[:8]
    names = [f"{prefix}-{tag}-{i}" for i in range(n)]
    got = kwire.create_topics(b.plain, [(t, 1) for t in names])
    assert [(t, e) for t, e, _ in got] == [(t, 0) for t in names], got
    kwire.wait_for_leaders(b.plain, names)
    return names


def wait_until(check, timeout=10):
    """ACLs reach the cores with the next snapshot: poll a check briefly."""
    end = time.monotonic() + timeout
    while True:
        ok = check()
        if ok or time.monotonic() > end:
            return ok
        time.sleep(0.1)


# ---- clients ----

def kcat_conf(pki, protocol, user=None, mech="SCRAM-SHA-512", cert=None):
    x = [f"security.protocol={protocol}"]
    if "SSL" in protocol:
        x += [f"ssl.ca.location={pki / 'ca.pem'}",
              "ssl.endpoint.identification.algorithm=https"]
    if cert:
        x += [f"ssl.certificate.location={pki / (cert + '.pem')}",
              f"ssl.key.location={pki / (cert + '.key')}"]
    if user:
        pw = user[1] if isinstance(user, tuple) else USERS.get(user, f"{user}-secret")
        name = user[0] if isinstance(user, tuple) else user
        x += [f"sasl.mechanisms={mech}", f"sasl.username={name}", f"sasl.password={pw}"]
    return x


def kcat(bootstrap, conf, *args, stdin=None):
    if shutil.which("kcat") is None:
        client_missing("kcat not installed")
    argv = ["kcat", "-b", bootstrap, "-m", "20", *[y for kv in conf for y in ("-X", kv)], *args]
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=TIMEOUT)


def kcat_produce(bootstrap, conf, topic, values):
    return kcat(bootstrap, conf, "-P", "-t", topic, "-p", "0",
                stdin="\n".join(values) + "\n")


def kcat_consume(bootstrap, conf, topic, n):
    return kcat(bootstrap, conf, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e",
                "-c", str(n), "-q")


def ck_conf(pki, bootstrap, protocol, user, mech="SCRAM-SHA-512"):
    c = {"bootstrap.servers": bootstrap, "security.protocol": protocol,
         "sasl.mechanisms": mech, "sasl.username": user,
         "sasl.password": USERS.get(user, f"{user}-secret")}
    if "SSL" in protocol:
        c["ssl.ca.location"] = str(pki / "ca.pem")
    return c


def confluent():
    try:
        import confluent_kafka
    except ImportError:
        client_missing("confluent-kafka-python not installed")
    return confluent_kafka


def ck_produce(conf, topic, values):
    ck = confluent()
    p = ck.Producer({**conf, "acks": "all"})
    errors = []
    for v in values:
        p.produce(topic, v.encode(), on_delivery=lambda e, _m: e and errors.append(e))
    left = p.flush(30)
    return left, errors


def ck_consume_group(conf, topic, group, n, timeout=30):
    """(values, first error) of a subscribed consumer in group."""
    ck = confluent()
    c = ck.Consumer({**conf, "group.id": group, "auto.offset.reset": "earliest",
                     "enable.auto.commit": False})
    got, err = [], None
    try:
        c.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error() is not None:
                if m.error().code() != ck.KafkaError._PARTITION_EOF:
                    err = m.error()
                    break
                continue
            got.append(m.value().decode())
    finally:
        c.close()
    return got, err


def ck_topic_names(conf):
    confluent()
    from confluent_kafka.admin import AdminClient
    a = AdminClient(conf)
    return set(a.list_topics(timeout=30).topics)


def java_config(pki, path, user, mech="SCRAM-SHA-512"):
    module = PLAIN_MODULE if mech == "PLAIN" else SCRAM_MODULE
    path.write_text("security.protocol=SASL_SSL\n"
                    "ssl.truststore.type=PEM\n"
                    f"ssl.truststore.location={pki / 'ca.pem'}\n"
                    f"sasl.mechanism={mech}\n"
                    f'sasl.jaas.config={module} required username="{user}" '
                    f'password="{USERS[user]}";\n')
    return str(path)


# ---- raw frames over SASL_SSL ----

def sasl_plain(pki, bootstrap, user, password, tls=True, sock=None):
    """(socket, error, message, session lifetime) of a PLAIN login."""
    if sock is not None:
        s = sock
    elif tls:
        s = tls_socket(pki, bootstrap, cert=None)
    else:
        host, port = bootstrap.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=10)
    r = kwire.call(None, kwire.SASL_HANDSHAKE, 1, Writer().str("PLAIN").b, sock=s)
    assert r.i16() == 0
    token = b"\0" + user.encode() + b"\0" + password.encode()
    r = kwire.call(None, kwire.SASL_AUTHENTICATE, 1, Writer().bytes(token).b, sock=s)
    err, msg = r.i16(), r.str()
    r.bytes()
    return s, err, msg, r.i64()


def sasl_scram512(s, user, password):
    """A SCRAM-SHA-512 login (RFC 5802) on socket s: (error, message, lifetime)."""
    r = kwire.call(None, kwire.SASL_HANDSHAKE, 1, Writer().str("SCRAM-SHA-512").b, sock=s)
    assert r.i16() == 0
    bare = f"n={user},r={base64.b64encode(os.urandom(18)).decode()}"
    r = kwire.call(None, kwire.SASL_AUTHENTICATE, 1, Writer().bytes(f"n,,{bare}".encode()).b,
                   sock=s)
    err, msg, first = r.i16(), r.str(), r.bytes()
    if err != 0:
        return err, msg, None
    at = dict(x.split("=", 1) for x in first.decode().split(","))
    salted = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(at["s"]),
                                 int(at["i"]))
    ck = hmac.new(salted, b"Client Key", hashlib.sha512).digest()
    wo = f"c=biws,r={at['r']}"
    sig = hmac.new(hashlib.sha512(ck).digest(), f"{bare},{first.decode()},{wo}".encode(),
                   hashlib.sha512).digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(ck, sig))).decode()
    r = kwire.call(None, kwire.SASL_AUTHENTICATE, 1, Writer().bytes(f"{wo},p={proof}".encode()).b,
                   sock=s)
    err, msg = r.i16(), r.str()
    r.bytes()
    return err, msg, r.i64()


def metadata_errors(s, names, allow_auto=False):
    r = kwire.call(None, kwire.METADATA, 9, kwire.metadata_body(9, names, allow_auto), sock=s)
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


# ---- 1. SASL_SSL with SCRAM-SHA-512: every client ----

@pytest.fixture(scope="module")
def alice_prefix(sec):
    """alice may do everything on topics and groups named m-*."""
    acl(sec, "--allow-principal", "User:alice", "--operation", "All", "--topic", "m-",
        "--group", "m-", "--resource-pattern-type", "prefixed")
    return "m"


def test_kcat_sasl_ssl_scram512(pki, sec, alice_prefix):
    bs = sec.listener_bootstrap("SASL_SSL")
    t, = topics(sec, alice_prefix)
    conf = kcat_conf(pki, "SASL_SSL", "alice")
    values = [f"kcat-{i}-" + "y" * (i * 53 % 2000) for i in range(40)]
    assert wait_until(lambda: kcat_produce(bs, conf, t, values).returncode == 0)
    r = kcat_consume(bs, conf, t, len(values))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == values


def test_confluent_sasl_ssl_scram512_with_group(pki, sec, alice_prefix):
    bs = sec.listener_bootstrap("SASL_SSL")
    t, = topics(sec, alice_prefix)
    conf = ck_conf(pki, bs, "SASL_SSL", "alice")
    values = [f"ck-{i}" for i in range(30)]
    assert ck_produce(conf, t, values) == (0, [])
    got, err = ck_consume_group(conf, t, f"{alice_prefix}-g-{t}", len(values))
    assert err is None and got == values, (err, got)


def test_confluent_sasl_plaintext_plain(pki, sec, alice_prefix):
    """PLAIN on SASL_PLAINTEXT: alice checked against the SCRAM store."""
    bs = sec.listener_bootstrap("SASL_PLAINTEXT")
    t, = topics(sec, alice_prefix)
    conf = ck_conf(pki, bs, "SASL_PLAINTEXT", "alice", mech="PLAIN")
    values = [f"plain-{i}" for i in range(20)]
    assert ck_produce(conf, t, values) == (0, [])
    got, err = ck_consume_group(conf, t, f"{alice_prefix}-g-{t}", len(values))
    assert err is None and got == values, (err, got)


def test_java_console_tools_sasl_ssl_scram512(pki, sec, alice_prefix, tmp_path):
    bs = sec.listener_bootstrap("SASL_SSL")
    cp = kafka_libs()
    t, = topics(sec, alice_prefix)
    cfg = java_config(pki, tmp_path / "alice.properties", "alice")
    values = [f"java-{i}" for i in range(10)]
    r = subprocess.run(["java", *JAVA_OPTS, "-cp", cp, "kafka.tools.ConsoleProducer",
                        "--bootstrap-server", bs, "--topic", t, "--producer.config", cfg],
                       input="\n".join(values) + "\n", capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["java", *JAVA_OPTS, "-cp", cp,
                        "org.apache.kafka.tools.consumer.ConsoleConsumer",
                        "--bootstrap-server", bs, "--topic", t, "--from-beginning",
                        "--group", f"{alice_prefix}-java-{t}", "--max-messages", "10",
                        "--timeout-ms", "30000", "--consumer.config", cfg],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split() == values


KAFKAJS = r"""
const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')
const [bootstrap, topic, group, ca, mechanism, username, password] = process.argv.slice(2)
const kafka = new Kafka({ clientId: 'security-it', brokers: [bootstrap],
  logLevel: logLevel.NOTHING, ssl: { ca: [fs.readFileSync(ca, 'utf8')] },
  sasl: { mechanism, username, password }, retry: { retries: 3 }, connectionTimeout: 10000 })
async function main () {
  const p = kafka.producer()
  await p.connect()
  await p.send({ topic, messages: [...Array(10).keys()].map(i => ({ partition: 0, value: 'js-' + i })) })
  await p.disconnect()
  const c = kafka.consumer({ groupId: group })
  await c.connect()
  await c.subscribe({ topic, fromBeginning: true })
  const got = []
  await new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error('timeout')), 60000)
    c.run({ eachMessage: async ({ message }) => {
      got.push(message.value.toString()); if (got.length >= 10) resolve()
    } })
  })
  await c.disconnect()
  console.log(JSON.stringify(got))
}
main().catch(e => { console.error(e); process.exit(2) })
"""


def test_kafkajs_sasl_ssl_scram512(pki, sec, alice_prefix, tmp_path):
    modules = HERE / "js" / "node_modules"
    if shutil.which("node") is None or not (modules / "kafkajs").is_dir():
        client_missing("node or kafkajs not installed (tests/integration/setup.sh)")
    bs = sec.listener_bootstrap("SASL_SSL")
    t, = topics(sec, alice_prefix)
    script = tmp_path / "sasl_ssl.js"
    script.write_text(KAFKAJS)
    r = subprocess.run(["node", str(script), bs, t, f"{alice_prefix}-js-{t}",
                        str(pki / "ca.pem"), "scram-sha-512", "alice", USERS["alice"]],
                       env={**os.environ, "NODE_PATH": str(modules)},
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) == [f"js-{i}" for i in range(10)]


# ---- 2. named principals under ACLs ----

def test_scram_and_plain_principals_under_acls(pki, sec):
    """alice may READ/WRITE t1, not t2; bob (PLAIN, JAAS) may DESCRIBE t1
    only; Metadata lists to each only what it may describe; admin (a
    super user) does everything."""
    t1, t2 = topics(sec, "acl", 2)
    acl(sec, "--allow-principal", "User:alice", "--operation", "Read", "--operation", "Write",
        "--topic", t1)
    acl(sec, "--allow-principal", "User:bob", "--operation", "Describe", "--topic", t1)
    ssl_bs, pt_bs = sec.listener_bootstrap("SASL_SSL"), sec.listener_bootstrap("SASL_PLAINTEXT")
    alice = kcat_conf(pki, "SASL_SSL", "alice")
    assert wait_until(lambda: kcat_produce(ssl_bs, alice, t1, ["a1", "a2"]).returncode == 0)
    r = kcat_consume(ssl_bs, alice, t1, 2)
    assert r.stdout.split() == ["a1", "a2"], r.stderr
    r = kcat_produce(ssl_bs, alice, t2, ["x"])
    assert r.returncode != 0 and "authorization failed" in r.stderr.lower(), r.stderr
    r = kcat_consume(ssl_bs, alice, t2, 1)
    assert r.returncode != 0 and "authorization failed" in r.stderr.lower(), r.stderr
    # Metadata: alice (WRITE/READ imply DESCRIBE) sees t1, bob sees t1, neither t2.
    seen = ck_topic_names(ck_conf(pki, ssl_bs, "SASL_SSL", "alice"))
    assert t1 in seen and t2 not in seen
    bob = ck_conf(pki, pt_bs, "SASL_PLAINTEXT", "bob", mech="PLAIN")
    seen = ck_topic_names(bob)
    assert t1 in seen and t2 not in seen
    left, errors = ck_produce({**bob, "message.timeout.ms": 10000}, t1, ["b"])
    assert errors and all(e.code() == confluent().KafkaError.TOPIC_AUTHORIZATION_FAILED
                          for e in errors), errors
    r = kcat_consume(pt_bs, kcat_conf(pki, "SASL_PLAINTEXT", "bob", mech="PLAIN"), t1, 1)
    assert r.returncode != 0 and "authorization failed" in r.stderr.lower(), r.stderr
    # The super user: no ACL needed, every topic listed.
    admin = kcat_conf(pki, "SASL_SSL", "admin")
    r = kcat_produce(ssl_bs, admin, t2, ["s1"])
    assert r.returncode == 0, r.stderr
    assert kcat_consume(ssl_bs, admin, t2, 1).stdout.split() == ["s1"]
    assert {t1, t2} <= ck_topic_names(ck_conf(pki, ssl_bs, "SASL_SSL", "admin"))


def test_deny_on_prefix_beats_allow_on_literal(pki, sec):
    tag = uuid.uuid4().hex[:8]
    t = f"deny-{tag}-x"
    got = kwire.create_topics(sec.plain, [(t, 1)])
    assert got[0][1] == 0, got
    kwire.wait_for_leaders(sec.plain, [t])
    acl(sec, "--allow-principal", "User:alice", "--operation", "Read", "--operation", "Write",
        "--topic", t)
    bs, alice = sec.listener_bootstrap("SASL_SSL"), kcat_conf(pki, "SASL_SSL", "alice")
    assert wait_until(lambda: kcat_produce(bs, alice, t, ["before"]).returncode == 0)
    acl(sec, "--deny-principal", "User:alice", "--operation", "Write", "--topic",
        f"deny-{tag}", "--resource-pattern-type", "prefixed")

    def refused():
        r = kcat_produce(bs, alice, t, ["after"])
        return r.returncode != 0 and "authorization failed" in r.stderr.lower()
    assert wait_until(refused)
    # READ is not denied: the record written before is still there for alice.
    assert kcat_consume(bs, alice, t, 1).stdout.split() == ["before"]


def test_mtls_principal_has_its_own_acls(pki, sec):
    """CN=dave,O=Acme,C=US maps to User:dave: its ACLs apply, alice's do not."""
    t3, t4 = topics(sec, "mtls", 2)
    acl(sec, "--allow-principal", "User:dave", "--operation", "Read", "--operation", "Write",
        "--topic", t3)
    acl(sec, "--allow-principal", "User:alice", "--operation", "All", "--topic", t4)
    acl(sec, "--allow-principal", "User:CN=dave,O=Acme,C=US", "--operation", "All",
        "--topic", t4)           # the unmapped name is not dave's principal
    bs, dave = sec.listener_bootstrap("SSL"), kcat_conf(pki, "SSL", cert="dave")
    assert wait_until(lambda: kcat_produce(bs, dave, t3, ["d1"]).returncode == 0)
    assert kcat_consume(bs, dave, t3, 1).stdout.split() == ["d1"]
    r = kcat_produce(bs, dave, t4, ["no"])
    assert r.returncode != 0 and "authorization failed" in r.stderr.lower(), r.stderr
    r = kcat(bs, dave, "-L", "-J")
    assert r.returncode == 0, r.stderr
    names = {x["topic"] for x in json.loads(r.stdout)["topics"]}
    assert t3 in names and t4 not in names


def test_consumer_group_needs_read_on_group(pki, sec):
    ck = confluent()
    t, = topics(sec, "grp")
    group = f"grp-{uuid.uuid4().hex[:8]}"
    acl(sec, "--allow-principal", "User:alice", "--operation", "Read", "--operation", "Write",
        "--topic", t)
    bs = sec.listener_bootstrap("SASL_SSL")
    conf = ck_conf(pki, bs, "SASL_SSL", "alice")
    assert wait_until(lambda: ck_produce(conf, t, ["g0", "g1", "g2"]) == (0, []))
    got, err = ck_consume_group(conf, t, group, 3, timeout=20)
    assert got == [] and err is not None, (got, err)
    assert err.code() == ck.KafkaError.GROUP_AUTHORIZATION_FAILED, err
    acl(sec, "--allow-principal", "User:alice", "--operation", "Read", "--group", group)
    got, err = ck_consume_group(conf, t, group, 3)
    assert err is None and got == ["g0", "g1", "g2"], (got, err)


def test_metadata_for_missing_topics_follows_describe(pki, sec, alice_prefix):
    """A topic that does not exist: UNKNOWN_TOPIC_OR_PARTITION where alice
    may describe the name, TOPIC_AUTHORIZATION_FAILED elsewhere."""
    s, err, msg, _ = sasl_plain(pki, sec.listener_bootstrap("SASL_SSL"), "alice",
                                USERS["alice"])
    with s:
        assert err == 0, msg
        assert metadata_errors(s, [f"{alice_prefix}-nothere", "zz-nothere"], True) == {
            f"{alice_prefix}-nothere": 3, "zz-nothere": TOPIC_AUTHORIZATION_FAILED}


def test_mixed_topics_in_one_fetch_and_produce(pki, sec):
    """One Fetch (v4, v11, v12) and one Produce over SASL_SSL naming topics
    alice may and may not read: 600 KB per allowed partition from the page
    cache through TLS, TOPIC_AUTHORIZATION_FAILED for the other, in Kafka's
    order (denied partitions after the others)."""
    t1, t2, t3 = topics(sec, "mix", 3)
    for t in (t1, t3):
        acl(sec, "--allow-principal", "User:alice", "--operation", "Read", "--operation",
            "Write", "--topic", t)
    acl(sec, "--allow-principal", "User:alice", "--operation", "Describe", "--topic", t2)
    big = [os.urandom(200_000) for _ in range(3)]
    for t in (t1, t2, t3):
        r = kwire.call(sec.plain, kwire.PRODUCE, 7,
                       kwire.produce_body(7, [(t, [(0, kwire.record_batch(big))])]), timeout=30)
        assert kwire.parse_produce(7, r)[0][2] == 0
    s, err, msg, _ = sasl_plain(pki, sec.listener_bootstrap("SASL_SSL"), "alice",
                                USERS["alice"])
    with s:
        assert err == 0, msg
        for v in (4, 11, 12):
            body = kwire.fetch_body(v, [(t, [(0, 0, 1 << 20)]) for t in (t1, t2, t3)],
                                    max_bytes=8 << 20)
            _, got = kwire.parse_fetch(v, kwire.call(None, kwire.FETCH, v, body, sock=s,
                                                     timeout=30))
            assert [(n, e) for n, _, e, *_ in got] == [(t1, 0), (t3, 0),
                                                       (t2, TOPIC_AUTHORIZATION_FAILED)]
            assert [len(rec) for n, _, _, _, rec in got[:2]] == [600094, 600094]
        body = kwire.produce_body(9, [(t, [(0, kwire.record_batch([b"x"]))])
                                      for t in (t1, t2, t3)])
        got = kwire.parse_produce(9, kwire.call(None, kwire.PRODUCE, 9, body, sock=s))
        assert [(n, e) for n, _, e, *_ in got] == [(t1, 0), (t2, TOPIC_AUTHORIZATION_FAILED),
                                                   (t3, 0)]


def alter_scram_raw(s, deletions, upsertions):
    """AlterUserScramCredentials v0 on socket s: [(user, error, message)]."""
    w = Writer(True).arr(len(deletions))
    for name, mech in deletions:
        w.str(name).i8(mech).tags()
    w.arr(len(upsertions))
    for name, mech in upsertions:
        w.str(name).i8(mech).i32(4096).bytes(os.urandom(16)).bytes(os.urandom(64)).tags()
    w.tags()
    r = kwire.call(None, kwire.ALTER_USER_SCRAM_CREDENTIALS, 0, w.b, sock=s)
    r.i32()
    out = []
    for _ in range(r.arr()):
        user = r.raw(r.uvarint() - 1).decode()
        err = r.i16()
        n = r.uvarint() - 1
        out.append((user, err, None if n < 0 else r.raw(n).decode()))
        r.tags()
    return out


def test_only_cluster_alter_changes_credentials(pki, sec, tmp_path):
    """Regression: AlterUserScramCredentials needs ALTER on the cluster (it
    changed anyone's password for any authenticated principal). Denied: one
    CLUSTER_AUTHORIZATION_FAILED per distinct user, sorted, nothing applied
    (as Kafka's getErrorResponse); the super user admin may, over SASL_SSL."""
    bs = sec.listener_bootstrap("SASL_SSL")
    s, err, msg, _ = sasl_plain(pki, bs, "alice", USERS["alice"])
    with s:
        assert err == 0, msg
        got = alter_scram_raw(s, [("zed", 2)], [("zed", 2), ("amy", 2), ("admin", 2)])
        denied = "Cluster authorization failed."
        assert got == [("admin", 31, denied), ("amy", 31, denied), ("zed", 31, denied)]
    cfg = java_config(pki, tmp_path / "alice.properties", "alice")
    r = subprocess.run(["java", *JAVA_OPTS, "-cp", kafka_libs(), "kafka.admin.ConfigCommand",
                        "--bootstrap-server", bs, "--command-config", cfg, "--alter",
                        "--add-config", "SCRAM-SHA-512=[password=pwned]", "--entity-type",
                        "users", "--entity-name", "mallory"], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode != 0 and "ClusterAuthorizationException" in r.stdout + r.stderr
    r = kcat(bs, kcat_conf(pki, "SASL_SSL", ("mallory", "pwned")), "-L")
    assert r.returncode != 0 and FAILED_MSG.format("SCRAM-SHA-512") in r.stderr, r.stderr
    r = kcat(bs, kcat_conf(pki, "SASL_SSL", "admin"), "-L")      # admin's password kept
    assert r.returncode == 0, r.stderr
    # The super user over SASL_SSL: users and ACLs through Kafka's tools.
    admin = java_config(pki, tmp_path / "admin.properties", "admin")
    kafka_tool("kafka.admin.ConfigCommand", bs, "--command-config", admin, "--alter",
               "--add-config", "SCRAM-SHA-512=[password=carol-secret]", "--entity-type",
               "users", "--entity-name", "carol")
    out = kafka_tool("kafka.admin.AclCommand", bs, "--command-config", admin, "--list",
                     "--principal", "User:alice")
    assert "principal=User:alice" in out, out
    r = kcat(bs, kcat_conf(pki, "SASL_SSL", "carol"), "-L")
    assert r.returncode == 0, r.stderr


def test_revoking_read_stops_a_live_consumer(pki, sec):
    """A confluent consumer reading over SASL_SSL: once alice's READ is
    removed (kafka-acls --remove over PLAINTEXT) it gets
    TOPIC_AUTHORIZATION_FAILED and none of the records written after."""
    ck = confluent()
    t, = topics(sec, "revoke")
    rule = ["--allow-principal", "User:alice", "--operation", "Read", "--topic", t]
    acl(sec, *rule)
    admin = kcat_conf(pki, "SASL_SSL", "admin")
    bs = sec.listener_bootstrap("SASL_SSL")
    assert kcat_produce(bs, admin, t, [f"before-{i}" for i in range(5)]).returncode == 0
    c = ck.Consumer({**ck_conf(pki, bs, "SASL_SSL", "alice"), "group.id": "unused",
                     "enable.auto.commit": False, "fetch.wait.max.ms": 100})
    got, errors = [], []
    try:
        c.assign([ck.TopicPartition(t, 0, 0)])
        deadline = time.monotonic() + 30
        while len(got) < 5 and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is not None and m.error() is None:
                got.append(m.value().decode())
        assert got == [f"before-{i}" for i in range(5)]
        kafka_tool("kafka.admin.AclCommand", sec.plain, "--remove", "--force", *rule)
        time.sleep(0.5)
        assert kcat_produce(bs, admin, t, [f"after-{i}" for i in range(5)]).returncode == 0
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error() is None:
                got.append(m.value().decode())
            else:
                errors.append(m.error().code())
    finally:
        c.close()
    assert got == [f"before-{i}" for i in range(5)], got
    assert ck.KafkaError.TOPIC_AUTHORIZATION_FAILED in errors, errors


def test_legacy_bare_tokens_over_tls(pki, sec, alice_prefix):
    """SaslHandshake v0 then a bare PLAIN token (old clients' framing) inside
    TLS: an empty bare answer, then Kafka requests as alice; a bad bare
    token closes. Regression: PLAIN's empty bare answer tripped an assert in
    kp_dispatch (on in every build) and stopped the broker."""
    bs = sec.listener_bootstrap("SASL_SSL")
    for password, ok in ((USERS["alice"], True), ("wrong", False)):
        with tls_socket(pki, bs, cert=None) as s:
            r = kwire.call(None, kwire.SASL_HANDSHAKE, 0, Writer().str("PLAIN").b, sock=s)
            assert r.i16() == 0
            token = b"\0alice\0" + password.encode()
            s.sendall(struct.pack(">i", len(token)) + token)
            if not ok:
                assert closed(s)
                continue
            head = b""
            while len(head) < 4:
                more = s.recv(4 - len(head))
                assert more, f"closed after {head!r}"
                head += more
            assert struct.unpack(">i", head)[0] == 0
            t = f"{alice_prefix}-none"
            assert metadata_errors(s, [t]) == {t: 3}


# ---- 3. re-authentication over TLS ----

@pytest.fixture
def reauth(pki):
    b = start_broker(pki, {"connections.max.reauth.ms": "2000"})
    try:
        t, = topics(b, "reauth")
        acl(b, "--allow-principal", "User:alice", "--operation", "Read", "--operation",
            "Write", "--operation", "Describe", "--topic", t)
        yield b, t
    finally:
        _teardown(b)


def test_java_producer_reauthenticates_over_sasl_ssl(pki, reauth, tmp_path):
    b, t = reauth
    bs = b.listener_bootstrap("SASL_SSL")
    cfg = java_config(pki, tmp_path / "alice.properties", "alice")
    p = subprocess.Popen(["java", *JAVA_OPTS, "-cp", kafka_libs(), "kafka.tools.ConsoleProducer",
                          "--bootstrap-server", bs, "--topic", t, "--producer.config", cfg,
                          "--producer-property", "linger.ms=0"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    for i in range(20):
        p.stdin.write(f"r-{i}\n")
        p.stdin.flush()
        time.sleep(0.5)
    out, err = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 0, out + err
    r = kcat_consume(bs, kcat_conf(pki, "SASL_SSL", "alice"), t, 20)
    assert r.stdout.split() == [f"r-{i}" for i in range(20)], r.stderr
    # 10 s of 2 s sessions on one producer (7 s were too few for a JVM slow
    # to start on a loaded machine): it authenticated again and again.
    ok = metric(b, "spillway_sasl_authentications_total",
                listener="SASL_SSL", mechanism="SCRAM-SHA-512", result="succeeded")
    assert ok >= 4, ok


def test_librdkafka_keeps_producing_over_sasl_ssl(pki, reauth):
    """librdkafka 2.0.2 has no KIP-368: the broker closes its TLS connection
    at the session's end and it reconnects, losing nothing."""
    b, t = reauth
    bs = b.listener_bootstrap("SASL_SSL")
    ck = confluent()
    p = ck.Producer({**ck_conf(pki, bs, "SASL_SSL", "alice"), "acks": "all"})
    errors = []
    for i in range(12):
        p.produce(t, f"k-{i}".encode(), on_delivery=lambda e, _m: e and errors.append(e))
        p.flush(10)
        time.sleep(0.5)
    assert p.flush(30) == 0 and not errors
    r = kcat_consume(bs, kcat_conf(pki, "SASL_SSL", "alice"), t, 12)
    assert r.stdout.split() == [f"k-{i}" for i in range(12)], r.stderr


def test_raw_reauthentication_over_tls(pki, reauth):
    """KIP-368 on a TLS connection: three re-authentications keep it, another
    user is refused and closed; without one the session ends with a close."""
    b, t = reauth
    bs = b.listener_bootstrap("SASL_SSL")
    s, err, msg, life = sasl_plain(pki, bs, "alice", USERS["alice"])
    with s:
        assert err == 0 and life == 2000, (err, msg, life)
        for _ in range(3):
            time.sleep(1.2)
            _, err, msg, life = sasl_plain(pki, bs, "alice", USERS["alice"], sock=s)
            assert err == 0 and life == 2000, (err, msg, life)
            assert metadata_errors(s, [t]) == {t: 0}
        _, err, msg, _ = sasl_plain(pki, bs, "admin", USERS["admin"], sock=s)
        assert err == 58 and "re-authentication" in msg, msg
        assert closed(s)
    s, err, msg, _ = sasl_plain(pki, bs, "alice", USERS["alice"])
    with s:
        time.sleep(2.5)
        s.sendall(kwire.request(kwire.METADATA, 1, 8, Writer().arr(0).b))
        assert closed(s)


def test_reauthentication_keeps_its_mechanism(pki, reauth):
    """Regression: a re-authentication with another mechanism than the
    session's (same user, right password) is refused as Kafka's
    REAUTH_BAD_MECHANISM: the handshake answers, SaslAuthenticate fails and
    the connection closes; the same mechanism again is fine."""
    b, t = reauth
    bs = b.listener_bootstrap("SASL_SSL")
    s, err, msg, _ = sasl_plain(pki, bs, "alice", USERS["alice"])
    with s:
        assert err == 0, msg
        _, err, msg, _ = sasl_plain(pki, bs, "alice", USERS["alice"], sock=s)
        assert err == 0, msg
        err, msg, _ = sasl_scram512(s, "alice", USERS["alice"])
        assert err == 58, msg
        assert msg == ("SASL mechanism 'SCRAM-SHA-512' requested by client is not supported "
                       "for re-authentication of mechanism 'PLAIN'")
        assert closed(s)
    with tls_socket(pki, bs, cert=None) as s:
        assert sasl_scram512(s, "alice", USERS["alice"])[:2] == (0, None)
        assert sasl_scram512(s, "alice", USERS["alice"])[:2] == (0, None)
        assert metadata_errors(s, [t]) == {t: 0}


def test_password_change_applies_at_reauthentication(pki, reauth):
    """kafka-configs changes alice's SCRAM password: her open connection
    cannot re-authenticate with the old one (closed), the new one logs in.
    Module-scoped users: reauth's broker is this test's own."""
    b, t = reauth
    bs = b.listener_bootstrap("SASL_SSL")
    s = tls_socket(pki, bs, cert=None)
    with s:
        assert sasl_scram512(s, "alice", USERS["alice"])[:2] == (0, None)
        kafka_tool("kafka.admin.ConfigCommand", b.plain, "--alter", "--add-config",
                   "SCRAM-SHA-512=[password=alice-new]", "--entity-type", "users",
                   "--entity-name", "alice")
        # (the JVM tool outlasts the 2 s session: only a re-authentication
        # is served on this connection now)
        err, msg, _ = sasl_scram512(s, "alice", USERS["alice"])
        assert err == 58 and "re-authentication" in msg, msg
        assert closed(s)
    # After a session's end the connection stays alice's: another user's
    # login on it is a changed principal (regression: it was taken as a
    # first authentication).
    with tls_socket(pki, bs, cert=None) as s:
        assert sasl_scram512(s, "alice", "alice-new")[:2] == (0, None)
        time.sleep(2.3)
        err, msg, _ = sasl_scram512(s, "admin", USERS["admin"])
        assert err == 58 and "re-authentication" in msg, msg
        assert closed(s)
    with tls_socket(pki, bs, cert=None) as s:
        assert sasl_scram512(s, "alice", "alice-new")[:2] == (0, None)
        time.sleep(2.3)
        assert sasl_scram512(s, "alice", "alice-new")[:2] == (0, None)
        assert metadata_errors(s, [t]) == {t: 0}


# ---- 4. failures across the layers ----

def test_wrong_password_over_sasl_ssl(pki, sec):
    bs = sec.listener_bootstrap("SASL_SSL")
    for mech, user in (("SCRAM-SHA-512", ("alice", "wrong")), ("PLAIN", ("bob", "wrong")),
                       ("SCRAM-SHA-512", ("nobody", "x"))):
        r = kcat(bs, kcat_conf(pki, "SASL_SSL", user, mech=mech), "-L")
        assert r.returncode != 0
        assert FAILED_MSG.format(mech) in r.stderr, r.stderr
    r = kcat(bs, kcat_conf(pki, "SASL_SSL", "admin"), "-L")
    assert r.returncode == 0, r.stderr


def tls_socket(pki, bootstrap, cert="dave"):
    host, port = bootstrap.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    if cert:
        ctx.load_cert_chain(str(pki / f"{cert}.pem"), str(pki / f"{cert}.key"))
    raw = socket.create_connection((host, int(port)), timeout=10)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def test_sasl_on_the_ssl_listener(pki, sec):
    """A SaslHandshake on an SSL listener (already authenticated by its
    certificate) answers ILLEGAL_SASL_STATE as Kafka's KafkaApis; a SASL_SSL
    client pointed at it fails cleanly; others keep working."""
    bs = sec.listener_bootstrap("SSL")
    with tls_socket(pki, bs) as s:
        r = kwire.call(None, kwire.SASL_HANDSHAKE, 1, Writer().str("SCRAM-SHA-512").b, sock=s)
        assert r.i16() == ILLEGAL_SASL_STATE
        # The connection still serves its certificate's principal.
        r = kwire.call(None, kwire.API_VERSIONS, 0, b"", sock=s)
        assert r.i16() == 0
    conf = kcat_conf(pki, "SASL_SSL", "alice", cert="dave")
    r = kcat(bs, conf, "-L", "-m", "10")
    assert r.returncode != 0
    r = kcat(bs, kcat_conf(pki, "SSL", cert="dave"), "-L")
    assert r.returncode == 0, r.stderr
    r = kcat(sec.listener_bootstrap("SASL_SSL"), kcat_conf(pki, "SASL_SSL", "admin"), "-L")
    assert r.returncode == 0, r.stderr


def test_tls_to_sasl_plaintext_and_plaintext_to_sasl_ssl(pki, sec):
    """Each side speaking the other layer's protocol is closed; no crash."""
    host, port = sec.listener_bootstrap("SASL_SSL").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(kwire.request(kwire.SASL_HANDSHAKE, 1, 1, Writer().str("PLAIN").b))
        assert closed(s)
    with pytest.raises((ssl.SSLError, OSError)):
        with tls_socket(pki, sec.listener_bootstrap("SASL_PLAINTEXT"), cert=None) as s:
            s.recv(1)
    r = kcat(sec.listener_bootstrap("SASL_SSL"), kcat_conf(pki, "SASL_SSL", "admin"), "-L")
    assert r.returncode == 0, r.stderr


def test_client_certificate_on_sasl_ssl_and_default_mapping(pki):
    """ssl.client.auth=required on SASL_SSL: the certificate is checked but
    the principal is the SASL user's; a subject no rule matches is
    User:<subject> (DEFAULT); auto-creation in Metadata needs CREATE."""
    b = start_broker(pki, {"listener.name.sasl_ssl.ssl.client.auth": "required",
                           "listener.name.sasl_ssl.ssl.truststore.type": "PEM",
                           "listener.name.sasl_ssl.ssl.truststore.location": str(pki / "ca.pem"),
                           "auto.create.topics.enable": "true"})
    try:
        t, t2 = topics(b, "cc", 2)
        acl(b, "--allow-principal", "User:alice", "--operation", "All", "--topic", t)
        acl(b, "--allow-principal", "User:dave", "--operation", "All", "--topic", t2)
        acl(b, "--allow-principal", "User:CN=eve,O=Other,C=US", "--operation", "All",
            "--topic", t2)
        bs, sslb = b.listener_bootstrap("SASL_SSL"), b.listener_bootstrap("SSL")
        alice_dave = kcat_conf(pki, "SASL_SSL", "alice", cert="dave")
        assert kcat_produce(bs, alice_dave, t, ["ok"]).returncode == 0
        assert kcat_produce(bs, alice_dave, t2, ["no"]).returncode != 0
        assert kcat(bs, kcat_conf(pki, "SASL_SSL", "alice"), "-L", "-m", "8").returncode != 0
        eve = kcat_conf(pki, "SSL", cert="eve")
        r = kcat_produce(sslb, eve, t2, ["eve"])
        assert r.returncode == 0, r.stderr
        assert kcat_produce(sslb, eve, t, ["eve"]).returncode != 0
        acl(b, "--allow-principal", "User:alice", "--operation", "Describe", "--topic", "ac-",
            "--resource-pattern-type", "prefixed")
        s, err, msg, _ = sasl_plain(pki, bs, "alice", USERS["alice"], sock=tls_socket(pki, bs))
        with s:
            assert err == 0, msg
            assert metadata_errors(s, ["ac-one"], allow_auto=True) == {
                "ac-one": TOPIC_AUTHORIZATION_FAILED}
            acl(b, "--allow-principal", "User:alice", "--operation", "Create", "--topic",
                "ac-", "--resource-pattern-type", "prefixed")
            assert wait_until(lambda: metadata_errors(s, ["ac-one"], allow_auto=True).get(
                "ac-one") in (0, 5))
    finally:
        _teardown(b)


def closed(s, timeout=10):
    s.settimeout(timeout)
    try:
        while True:
            if not s.recv(4096):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


# ---- 5. metrics ----

def metric(b, name, **labels):
    body = urllib.request.urlopen(f"http://127.0.0.1:{b.metrics_port}/metrics",
                                  timeout=10).read().decode()
    total = 0.0
    for line in body.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, value = line.rsplit(" ", 1)
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


def test_zz_metrics_after_the_suite(pki, sec):
    """Runs last in this module: the tests above left handshakes, failed
    authentications and denials behind."""
    # One more of each, so the test also holds alone.
    bs = sec.listener_bootstrap("SASL_SSL")
    kcat(bs, kcat_conf(pki, "SASL_SSL", ("alice", "wrong")), "-L")
    kcat(sec.listener_bootstrap("SASL_PLAINTEXT"),
         kcat_conf(pki, "SASL_PLAINTEXT", ("bob", "wrong"), mech="PLAIN"), "-L")
    t, = topics(sec, "metrics")
    kcat_produce(bs, kcat_conf(pki, "SASL_SSL", "alice"), t, ["x"])
    for listener in ("SSL", "SASL_SSL"):
        assert metric(sec, "spillway_tls_handshakes_total", listener=listener) > 0, listener
    assert metric(sec, "spillway_tls_handshakes_total", listener="SASL_PLAINTEXT") == 0
    assert metric(sec, "spillway_sasl_authentications_total", listener="SASL_SSL",
                  mechanism="SCRAM-SHA-512", result="failed") >= 1
    assert metric(sec, "spillway_sasl_authentications_total", listener="SASL_SSL",
                  mechanism="SCRAM-SHA-512", result="succeeded") >= 1
    assert metric(sec, "spillway_sasl_authentications_total", listener="SASL_PLAINTEXT",
                  mechanism="PLAIN", result="failed") >= 1
    assert metric(sec, "spillway_sasl_authentications_total", listener="SSL") == 0
    assert metric(sec, "spillway_authorization_denials_total", operation="WRITE",
                  resource_type="TOPIC") >= 1
