# SPDX-License-Identifier: Apache-2.0
"""SASL on a SASL_PLAINTEXT listener next to a PLAINTEXT one: users created
with Apache Kafka's kafka-configs (AlterUserScramCredentials over
PLAINTEXT, as a Kafka deployment bootstraps its first users), PLAIN users
from a JAAS config (listener.name.sasl_plaintext.plain.sasl.jaas.config),
then kcat (librdkafka), confluent-kafka-python, the Java console
producer/consumer and kafkajs producing and consuming with PLAIN,
SCRAM-SHA-256 and SCRAM-SHA-512. Raw frames check the failures
(SASL_AUTHENTICATION_FAILED with Kafka's message, then a close; a close for
requests before authentication, an oversized token, a SaslAuthenticate
without handshake), the legacy v0 framing, and re-authentication with a
short connections.max.reauth.ms (KIP-368). Another client keeps working
after each failure.

Spillway only: port-0 listeners are learnt from Spillway's log."""
import base64
import hashlib
import hmac
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

import kwire
from conftest import (HERE, JAVA_OPTS, REPO, backend_name, client_missing, free_port,
                      unique_topic)
from kwire import Writer

pytestmark = pytest.mark.skipif(backend_name() != "spillway",
                                reason="port-0 listeners are learnt from Spillway's log")

TIMEOUT = 120
JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
        'username="admin" password="admin-secret" user_bob="bob-secret";')
SASL_AUTHENTICATION_FAILED, UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE = 58, 33, 34
RESOURCE_NOT_FOUND, DUPLICATE_RESOURCE, UNACCEPTABLE_CREDENTIAL = 91, 92, 93
FAILED_MSG = ("Authentication failed during authentication due to invalid credentials "
              "with SASL mechanism {}")


def sasl_overrides(extra=None):
    o = {
        "listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS,
    }
    o.update(extra or {})
    return o


def kafka_libs():
    libs = REPO / ".cache" / "kafka" / "libs"
    if shutil.which("java") is None or not any(Path(libs).glob("kafka_2.13-*.jar")):
        client_missing(f"java or Kafka distribution jars missing in {libs}")
    return f"{libs}/*"


def kafka_configs(bootstrap, *args):
    r = subprocess.run(["java", *JAVA_OPTS, "-cp", kafka_libs(), "kafka.admin.ConfigCommand",
                        "--bootstrap-server", bootstrap, *args], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=TIMEOUT)
    out = "\n".join(x for x in (r.stdout + r.stderr).splitlines() if "log4j" not in x)
    assert r.returncode == 0, f"kafka-configs {args}: rc={r.returncode}\n{out}"
    return out


def add_scram_user(bootstrap, user, password):
    """Both mechanisms, one call each: as Kafka 3.9's controller, Spillway
    takes one change per user and request."""
    for cred in (f"SCRAM-SHA-256=[iterations=8192,password={password}]",
                 f"SCRAM-SHA-512=[password={password}]"):
        kafka_configs(bootstrap, "--alter", "--add-config", cred,
                      "--entity-type", "users", "--entity-name", user)


@pytest.fixture(scope="module")
def sasl(request):
    """(broker, plaintext bootstrap, sasl bootstrap) with user alice in the
    SCRAM store (both mechanisms) and bob in the JAAS config."""
    from conftest import Broker, _backend
    b = Broker(_backend(), sasl_overrides()).start()
    request.addfinalizer(b.cleanup if hasattr(b, "cleanup") else b.stop)
    plain, sasl_bs = b.listener_bootstrap("PLAINTEXT"), b.listener_bootstrap("SASL_PLAINTEXT")
    add_scram_user(plain, "alice", "alice-secret")
    return b, plain, sasl_bs


# ---- raw SASL client (tests/lib/kwire.py framing) ----

def handshake(s, mech, version=1):
    r = kwire.call(None, kwire.SASL_HANDSHAKE, version, Writer().str(mech).b, sock=s)
    err, n = r.i16(), r.arr()
    return err, [r.str() for _ in range(n)]


def authenticate(s, token, version=1):
    """(error, message, auth bytes, session lifetime ms)."""
    flex = version >= 2
    r = kwire.call(None, kwire.SASL_AUTHENTICATE, version, Writer(flex).bytes(token).tags().b,
                   sock=s)
    err = r.i16()
    if flex:
        n = r.uvarint() - 1
        msg = None if n < 0 else r.raw(n).decode()
    else:
        msg = r.str()
    data = r.bytes()
    return err, msg, data, (r.i64() if version >= 1 else None)


class Scram:
    """The client side of one SCRAM exchange (RFC 5802)."""

    def __init__(self, user, password, mech="SCRAM-SHA-256"):
        self.h = hashlib.sha256 if mech.endswith("256") else hashlib.sha512
        self.user, self.password, self.mech = user, password, mech
        self.cnonce = base64.b64encode(os.urandom(18)).decode()
        self.bare = f"n={user},r={self.cnonce}"

    def first(self):
        return ("n,," + self.bare).encode()

    def final(self, server_first, nonce=None, proof_flip=False):
        sf = server_first.decode()
        at = dict(x.split("=", 1) for x in sf.split(","))
        salted = hashlib.pbkdf2_hmac(self.h().name, self.password.encode(),
                                     base64.b64decode(at["s"]), int(at["i"]))
        ck = hmac.new(salted, b"Client Key", self.h).digest()
        wo = f"c=biws,r={nonce or at['r']}"
        sig = hmac.new(self.h(ck).digest(), f"{self.bare},{sf},{wo}".encode(), self.h).digest()
        proof = bytearray(a ^ b for a, b in zip(ck, sig))
        if proof_flip:
            proof[0] ^= 1
        return f"{wo},p={base64.b64encode(bytes(proof)).decode()}".encode()


def scram_login(bootstrap, user, password, mech="SCRAM-SHA-256", version=1):
    s = kwire.connect(bootstrap, timeout=10)
    assert handshake(s, mech)[0] == 0
    c = Scram(user, password, mech)
    err, msg, sf, _ = authenticate(s, c.first(), version)
    assert err == 0, msg
    err, msg, final, life = authenticate(s, c.final(sf), version)
    assert err == 0, msg
    assert final.startswith(b"v=")
    return s, life


def closed(s, timeout=5):
    """True when the broker closes s (EOF) within timeout."""
    s.settimeout(timeout)
    try:
        while True:
            if s.recv(4096) == b"":
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def metadata_ok(s):
    r = kwire.call(None, kwire.METADATA, 1, Writer().arr(0).b, sock=s)
    return r.arr() >= 1


def still_serving(bootstrap):
    s, _ = scram_login(bootstrap, "alice", "alice-secret", "SCRAM-SHA-512")
    with s:
        assert metadata_ok(s)


# ---- kafka-configs and the store ----

def test_kafka_configs_scram_credentials(sasl):
    b, plain, _ = sasl
    add_scram_user(plain, "carol", "carol-secret")
    out = kafka_configs(plain, "--describe", "--entity-type", "users", "--entity-name", "carol")
    assert "SCRAM-SHA-256=iterations=8192" in out and "SCRAM-SHA-512=iterations=4096" in out
    text = (b.data / "scram-credentials").read_text()
    assert "carol-secret" not in text and "alice-secret" not in text
    kafka_configs(plain, "--alter", "--delete-config", "SCRAM-SHA-512", "--entity-type", "users",
                  "--entity-name", "carol")
    out = kafka_configs(plain, "--describe", "--entity-type", "users", "--entity-name", "carol")
    assert "SCRAM-SHA-256=iterations=8192" in out and "SCRAM-SHA-512" not in out
    # The server's own checks, on the wire (kafka-configs checks some first).
    salted = hashlib.pbkdf2_hmac("sha256", b"x", b"salt", 4096)
    assert alter_scram(plain, [], [("dave", 1, 100, b"salt", salted)]) == \
        [("dave", UNACCEPTABLE_CREDENTIAL, "Too few iterations")]
    assert alter_scram(plain, [], [("dave", 1, 20000, b"salt", salted)]) == \
        [("dave", UNACCEPTABLE_CREDENTIAL, "Too many iterations")]
    assert alter_scram(plain, [], [("dave", 3, 4096, b"salt", salted)]) == \
        [("dave", UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism")]
    assert alter_scram(plain, [("dave", 1)], []) == \
        [("dave", RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist")]
    assert alter_scram(plain, [], [("dave", 1, 4096, b"salt", salted),
                                   ("dave", 2, 4096, b"salt", salted)]) == \
        [("dave", DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same "
                                      "request")]
    assert alter_scram(plain, [], [("dave", 1, 4096, b"salt", salted)]) == [("dave", 0, None)]
    still_serving_as(plain)


def alter_scram(bootstrap, deletions, upsertions):
    """AlterUserScramCredentials v0: [(user, error, message)]."""
    w = Writer(True).arr(len(deletions))
    for name, mech in deletions:
        w.str(name).i8(mech).tags()
    w.arr(len(upsertions))
    for name, mech, iterations, salt, salted in upsertions:
        w.str(name).i8(mech).i32(iterations).bytes(salt).bytes(salted).tags()
    w.tags()
    r = kwire.call(bootstrap, kwire.ALTER_USER_SCRAM_CREDENTIALS, 0, w.b)
    r.i32()
    out = []
    for _ in range(r.arr()):
        user = r.raw(r.uvarint() - 1).decode()
        err = r.i16()
        n = r.uvarint() - 1
        out.append((user, err, None if n < 0 else r.raw(n).decode()))
        r.tags()
    return out


def still_serving_as(plain):
    with kwire.connect(plain, timeout=10) as s:
        assert metadata_ok(s)


# ---- clients ----

def kcat(bootstrap, mech, user, password, *args, stdin=None, ok=True):
    if shutil.which("kcat") is None:
        client_missing("kcat not installed")
    r = subprocess.run(["kcat", "-b", bootstrap, "-m", "20", "-X",
                        "security.protocol=SASL_PLAINTEXT", "-X", f"sasl.mechanisms={mech}",
                        "-X", f"sasl.username={user}", "-X", f"sasl.password={password}",
                        *args], input=stdin, capture_output=True, text=True, timeout=60)
    if ok:
        assert r.returncode == 0, f"kcat {args} rc={r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


@pytest.mark.parametrize("mech,user,password", [
    ("PLAIN", "bob", "bob-secret"),             # JAAS user
    ("PLAIN", "alice", "alice-secret"),         # checked against the SCRAM store
    ("SCRAM-SHA-256", "alice", "alice-secret"),
    ("SCRAM-SHA-512", "alice", "alice-secret"),
])
def test_kcat_produce_consume(sasl, mech, user, password):
    _, _, bs = sasl
    t = unique_topic("sasl-kcat")
    values = [f"{mech}-{i}" for i in range(20)]
    kcat(bs, mech, user, password, "-P", "-t", t, stdin="\n".join(values) + "\n")
    r = kcat(bs, mech, user, password, "-C", "-t", t, "-o", "beginning", "-e", "-c", "20")
    assert r.stdout.split() == values


@pytest.mark.parametrize("mech,user,password", [
    ("SCRAM-SHA-256", "alice", "wrong"),
    ("SCRAM-SHA-512", "nobody", "alice-secret"),
    ("PLAIN", "bob", "wrong"),
    ("PLAIN", "nobody", "x"),
])
def test_kcat_bad_credentials(sasl, mech, user, password):
    _, _, bs = sasl
    r = kcat(bs, mech, user, password, "-L", ok=False)
    assert r.returncode != 0
    assert FAILED_MSG.format(mech) in r.stderr, r.stderr
    still_serving(bs)


def test_confluent_python_scram(sasl):
    try:
        from confluent_kafka import Consumer, Producer, TopicPartition
    except ImportError:
        client_missing("confluent-kafka-python not installed")
    _, _, bs = sasl
    t = unique_topic("sasl-ck")
    conf = {"bootstrap.servers": bs, "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "alice",
            "sasl.password": "alice-secret"}
    p = Producer({**conf, "acks": "all"})
    errors = []
    for i in range(30):
        p.produce(t, f"ck-{i}".encode(), on_delivery=lambda e, _m: e and errors.append(e))
    assert p.flush(30) == 0 and not errors
    c = Consumer({**conf, "group.id": "g-" + t, "enable.auto.commit": False})
    try:
        c.assign([TopicPartition(t, 0, 0)])
        got = []
        deadline = time.monotonic() + 30
        while len(got) < 30 and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None and m.error() is None:
                got.append(m.value().decode())
    finally:
        c.close()
    assert got == [f"ck-{i}" for i in range(30)]


def java_client_config(tmp, mech, user, password, extra=""):
    module = ("org.apache.kafka.common.security.plain.PlainLoginModule" if mech == "PLAIN"
              else "org.apache.kafka.common.security.scram.ScramLoginModule")
    path = Path(tmp) / f"client-{mech}.properties"
    path.write_text("security.protocol=SASL_PLAINTEXT\n"
                    f"sasl.mechanism={mech}\n"
                    f'sasl.jaas.config={module} required username="{user}" '
                    f'password="{password}";\n' + extra)
    return str(path)


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "PLAIN"])
def test_java_console_tools(sasl, tmp_path, mech):
    _, _, bs = sasl
    cp = kafka_libs()
    t = unique_topic("sasl-java")
    cfg = java_client_config(tmp_path, mech, "alice", "alice-secret")
    values = [f"java-{i}" for i in range(10)]
    r = subprocess.run(["java", *JAVA_OPTS, "-cp", cp, "kafka.tools.ConsoleProducer",
                        "--bootstrap-server", bs, "--topic", t, "--producer.config", cfg],
                       input="\n".join(values) + "\n", capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["java", *JAVA_OPTS, "-cp", cp,
                        "org.apache.kafka.tools.consumer.ConsoleConsumer",
                        "--bootstrap-server", bs, "--topic", t, "--from-beginning",
                        "--max-messages", "10", "--timeout-ms", "30000",
                        "--consumer.config", cfg], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split() == values


KAFKAJS = r"""
const { Kafka, logLevel } = require('kafkajs')
const [bootstrap, topic, mechanism, username, password] = process.argv.slice(2)
const kafka = new Kafka({ clientId: 'sasl-it', brokers: [bootstrap], logLevel: logLevel.NOTHING,
  sasl: { mechanism, username, password }, retry: { retries: 3 } })
async function main () {
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })
  await admin.disconnect()
  const p = kafka.producer()
  await p.connect()
  await p.send({ topic, messages: [...Array(10).keys()].map(i => ({ value: 'js-' + i })) })
  await p.disconnect()
  const c = kafka.consumer({ groupId: 'g-' + topic })
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


@pytest.mark.parametrize("mech", ["scram-sha-512", "plain"])
def test_kafkajs(sasl, tmp_path, mech):
    modules = None
    for root in (HERE / "js" / "node_modules", Path("/work/main/tests/integration/js/node_modules")):
        if (root / "kafkajs").is_dir():
            modules = root
            break
    if shutil.which("node") is None or modules is None:
        client_missing("node or kafkajs not installed (tests/integration/setup.sh)")
    _, _, bs = sasl
    script = tmp_path / "sasl.js"
    script.write_text(KAFKAJS)
    t = unique_topic("sasl-js")
    user, pw = ("bob", "bob-secret") if mech == "plain" else ("alice", "alice-secret")
    r = subprocess.run(["node", str(script), bs, t, mech, user, pw],
                       env={**os.environ, "NODE_PATH": str(modules)},
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) == [f"js-{i}" for i in range(10)]


# ---- failures on the wire ----

def test_bad_proof_nonce_replay_and_garbage(sasl):
    _, _, bs = sasl
    cases = ["proof", "nonce", "garbage", "replay"]
    for case in cases:
        s = kwire.connect(bs, timeout=10)
        with s:
            assert handshake(s, "SCRAM-SHA-256")[0] == 0
            c = Scram("alice", "alice-secret")
            err, msg, sf, _ = authenticate(s, c.first())
            assert err == 0, msg
            if case == "proof":
                final = c.final(sf, proof_flip=True)
            elif case == "nonce":
                final = c.final(sf, nonce=c.cnonce + "forged")
            elif case == "garbage":
                final = b"\x00\xff garbage \x01"
            else:
                final = c.final(sf)
                err, msg, data, _ = authenticate(s, final)
                assert err == 0 and data.startswith(b"v=")
                # The same client-final again: no exchange is open any more.
                s.sendall(kwire.request(kwire.SASL_AUTHENTICATE, 1, 9, Writer().bytes(final).b))
                corr, r = kwire.recv_response(s, kwire.SASL_AUTHENTICATE, 1)
                assert r.i16() == ILLEGAL_SASL_STATE
                continue
            err, msg, _, _ = authenticate(s, final)
            assert err == SASL_AUTHENTICATION_FAILED, case
            assert msg == FAILED_MSG.format("SCRAM-SHA-256")
            assert closed(s), f"{case}: still open after a failed authentication"
    still_serving(bs)


def test_unknown_user_and_unsupported_mechanism(sasl):
    _, _, bs = sasl
    with kwire.connect(bs, timeout=10) as s:
        assert handshake(s, "SCRAM-SHA-256")[0] == 0
        err, msg, _, _ = authenticate(s, Scram("nobody", "x").first())
        assert err == SASL_AUTHENTICATION_FAILED and msg == FAILED_MSG.format("SCRAM-SHA-256")
        assert closed(s)
    with kwire.connect(bs, timeout=10) as s:
        err, mechs = handshake(s, "GSSAPI")
        assert err == UNSUPPORTED_SASL_MECHANISM
        assert mechs == ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
        assert closed(s)
    still_serving(bs)


def test_requests_before_authentication_close(sasl):
    _, _, bs = sasl
    # ApiVersions is answered before authentication.
    with kwire.connect(bs, timeout=10) as s:
        r = kwire.call(None, kwire.API_VERSIONS, 0, b"", sock=s)
        assert r.i16() == 0
        s.sendall(kwire.request(kwire.METADATA, 1, 8, Writer().arr(0).b))
        assert closed(s)
    # SaslAuthenticate without a handshake.
    with kwire.connect(bs, timeout=10) as s:
        s.sendall(kwire.request(kwire.SASL_AUTHENTICATE, 1, 8, Writer().bytes(b"x").b))
        assert closed(s)
    # A frame over sasl.server.max.receive.size (512 KiB) before authentication.
    with kwire.connect(bs, timeout=10) as s:
        assert handshake(s, "PLAIN")[0] == 0
        big = b"\x00bob\x00" + b"x" * (600 * 1024)
        try:
            s.sendall(kwire.request(kwire.SASL_AUTHENTICATE, 1, 8, Writer().bytes(big).b))
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert closed(s)
    # An oversized token within the frame limit fails as bad credentials.
    with kwire.connect(bs, timeout=10) as s:
        assert handshake(s, "PLAIN")[0] == 0
        err, msg, _, _ = authenticate(s, b"\x00bob\x00" + b"x" * 8000)
        assert err == SASL_AUTHENTICATION_FAILED and msg == FAILED_MSG.format("PLAIN")
        assert closed(s)
    still_serving(bs)


def test_abandoned_exchanges_are_bounded(sasl):
    """Clients that start a SCRAM exchange and vanish (more of them than
    control keeps exchanges for) cost nothing lasting: new clients still
    authenticate, and so does one whose exchange was started long before."""
    _, _, bs = sasl
    early = kwire.connect(bs, timeout=10)
    assert handshake(early, "SCRAM-SHA-256")[0] == 0
    c = Scram("alice", "alice-secret")
    err, _, sf, _ = authenticate(early, c.first())
    assert err == 0
    for _ in range(3):
        socks = []
        for _ in range(200):
            s = kwire.connect(bs, timeout=10)
            assert handshake(s, "SCRAM-SHA-512")[0] == 0
            assert authenticate(s, Scram("alice", "x", "SCRAM-SHA-512").first())[0] == 0
            socks.append(s)
        for s in socks:
            s.close()
        still_serving(bs)
    # 600 exchanges since: the early one's record may have been reused for
    # them; then it fails cleanly (a close), never with a crash.
    try:
        err, _, final, _ = authenticate(early, c.final(sf))
        assert err in (0, SASL_AUTHENTICATION_FAILED)
    except (ConnectionError, OSError, ValueError):
        pass
    early.close()
    still_serving(bs)


def test_plaintext_listener_answers_illegal_state(sasl):
    _, plain, bs = sasl
    with kwire.connect(plain, timeout=10) as s:
        assert handshake(s, "PLAIN") == (ILLEGAL_SASL_STATE, [])
        assert metadata_ok(s)
    # Authenticated, without connections.max.reauth.ms: no re-authentication.
    s, life = scram_login(bs, "alice", "alice-secret")
    with s:
        assert life == 0
        assert handshake(s, "SCRAM-SHA-256") == (ILLEGAL_SASL_STATE, [])
        assert metadata_ok(s)


def test_legacy_v0_bare_tokens(sasl):
    """After a v0 SaslHandshake, tokens travel as bare size-prefixed frames
    (no Kafka header), and so do the answers."""
    _, _, bs = sasl
    with kwire.connect(bs, timeout=10) as s:
        assert handshake(s, "SCRAM-SHA-512", version=0)[0] == 0
        c = Scram("alice", "alice-secret", "SCRAM-SHA-512")
        tok = c.first()
        s.sendall(struct.pack(">i", len(tok)) + tok)
        sf = read_bare(s)
        assert sf.startswith(b"r=" + c.cnonce.encode())
        final = c.final(sf)
        s.sendall(struct.pack(">i", len(final)) + final)
        assert read_bare(s).startswith(b"v=")
        assert metadata_ok(s)       # authenticated, back to Kafka framing
    with kwire.connect(bs, timeout=10) as s:      # PLAIN, wrong password
        assert handshake(s, "PLAIN", version=0)[0] == 0
        tok = b"\x00bob\x00wrong"
        s.sendall(struct.pack(">i", len(tok)) + tok)
        assert closed(s)
    still_serving(bs)


def read_bare(s):
    head = b""
    while len(head) < 4:
        chunk = s.recv(4 - len(head))
        assert chunk, "closed"
        head += chunk
    n = struct.unpack(">i", head)[0]
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        assert chunk, "closed"
        data += chunk
    return data


# ---- re-authentication (KIP-368) ----

@pytest.fixture
def reauth(broker_factory):
    b = broker_factory(sasl_overrides({"connections.max.reauth.ms": "2000",
                                       "spillway.metrics.listen": f"127.0.0.1:{free_port()}"}))
    plain, bs = b.listener_bootstrap("PLAINTEXT"), b.listener_bootstrap("SASL_PLAINTEXT")
    add_scram_user(plain, "alice", "alice-secret")
    return b, plain, bs


def test_session_expires_without_reauthentication(reauth):
    _, _, bs = reauth
    s, life = scram_login(bs, "alice", "alice-secret")
    with s:
        assert life == 2000
        assert metadata_ok(s)
        time.sleep(2.5)
        s.sendall(kwire.request(kwire.METADATA, 1, 8, Writer().arr(0).b))
        assert closed(s)
    # Authenticating again after the end (before any other request) works.
    s, _ = scram_login(bs, "alice", "alice-secret")
    with s:
        time.sleep(2.5)
        assert handshake(s, "SCRAM-SHA-256")[0] == 0
        c = Scram("alice", "alice-secret")
        err, msg, sf, _ = authenticate(s, c.first())
        assert err == 0, msg
        assert authenticate(s, c.final(sf))[0] == 0
        assert metadata_ok(s)


def test_reauthentication_keeps_connection(reauth):
    _, _, bs = reauth
    s, life = scram_login(bs, "alice", "alice-secret", "SCRAM-SHA-512")
    with s:
        for _ in range(3):
            time.sleep(1.2)
            assert handshake(s, "SCRAM-SHA-512")[0] == 0
            c = Scram("alice", "alice-secret", "SCRAM-SHA-512")
            err, msg, sf, _ = authenticate(s, c.first())
            assert err == 0, msg
            err, msg, _, life = authenticate(s, c.final(sf))
            assert err == 0 and life == 2000, msg
            assert metadata_ok(s)
        # Another user on the same connection is refused.
        assert handshake(s, "PLAIN")[0] == 0
        err, msg, _, _ = authenticate(s, b"\x00bob\x00bob-secret")
        assert err == SASL_AUTHENTICATION_FAILED
        assert msg == ("Authentication failed during re-authentication due to invalid "
                       "credentials with SASL mechanism PLAIN")
        assert closed(s)
    b = reauth[0]
    assert sasl_metric(b, "SASL_PLAINTEXT", "SCRAM-SHA-512", "succeeded") == 4
    assert sasl_metric(b, "SASL_PLAINTEXT", "PLAIN", "failed") == 1


def test_java_producer_reauthenticates(reauth, tmp_path):
    """The Java producer re-authenticates (KIP-368) while it keeps
    producing for five session lifetimes: every record arrives."""
    _, _, bs = reauth
    cp = kafka_libs()
    t = unique_topic("sasl-reauth")
    cfg = java_client_config(tmp_path, "SCRAM-SHA-256", "alice", "alice-secret")
    p = subprocess.Popen(["java", *JAVA_OPTS, "-cp", cp, "kafka.tools.ConsoleProducer",
                          "--bootstrap-server", bs, "--topic", t, "--producer.config", cfg,
                          "--producer-property", "linger.ms=0"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    for i in range(20):
        p.stdin.write(f"r-{i}\n")
        p.stdin.flush()
        time.sleep(0.5)
    out, err = p.communicate(timeout=TIMEOUT)      # closes stdin: the producer ends
    assert p.returncode == 0, out + err
    r = kcat(bs, "SCRAM-SHA-256", "alice", "alice-secret", "-C", "-t", t, "-o", "beginning",
             "-e", "-c", "20")
    assert r.stdout.split() == [f"r-{i}" for i in range(20)]
    # One producer over 10 s of 2 s sessions (its JVM start takes some of
    # them): it authenticated again and again (the Java client
    # re-authenticates at 85-95% of the lifetime).
    ok = sasl_metric(reauth[0], "SASL_PLAINTEXT", "SCRAM-SHA-256", "succeeded")
    assert ok >= 4, ok


def sasl_metric(b, listener, mech, result):
    port = b.overrides["spillway.metrics.listen"].rsplit(":", 1)[1]
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    want = (f'spillway_sasl_authentications_total{{listener="{listener}",'
            f'mechanism="{mech}",result="{result}"}} ')
    for line in text.splitlines():
        if line.startswith(want):
            return float(line[len(want):])
    return 0.0


def test_librdkafka_keeps_producing_across_session_ends(reauth):
    """librdkafka 2.0.2 predates its KIP-368 support: the broker closes its
    connection once the session ends and it reconnects, losing nothing."""
    try:
        from confluent_kafka import Producer
    except ImportError:
        client_missing("confluent-kafka-python not installed")
    _, _, bs = reauth
    t = unique_topic("sasl-reauth-rdk")
    p = Producer({"bootstrap.servers": bs, "security.protocol": "SASL_PLAINTEXT",
                  "sasl.mechanisms": "SCRAM-SHA-256", "sasl.username": "alice",
                  "sasl.password": "alice-secret", "acks": "all"})
    errors = []
    for i in range(12):
        p.produce(t, f"k-{i}".encode(), on_delivery=lambda e, _m: e and errors.append(e))
        p.flush(10)
        time.sleep(0.5)
    assert p.flush(30) == 0 and not errors
    r = kcat(bs, "SCRAM-SHA-256", "alice", "alice-secret", "-C", "-t", t, "-o", "beginning",
             "-e", "-c", "12")
    assert r.stdout.split() == [f"k-{i}" for i in range(12)]


# ---- configuration ----

def test_listener_mechanisms_win(broker_factory):
    """listener.name.<l>.sasl.enabled.mechanisms wins over
    sasl.enabled.mechanisms for that listener."""
    b = broker_factory(sasl_overrides({
        "sasl.enabled.mechanisms": "PLAIN",
        "listener.name.sasl_plaintext.sasl.enabled.mechanisms": "SCRAM-SHA-512, GSSAPI"}))
    bs = b.listener_bootstrap("SASL_PLAINTEXT")
    with kwire.connect(bs, timeout=10) as s:
        assert handshake(s, "PLAIN") == (UNSUPPORTED_SASL_MECHANISM, ["SCRAM-SHA-512"])
        assert closed(s)
    with kwire.connect(bs, timeout=10) as s:
        assert handshake(s, "SCRAM-SHA-512") == (0, ["SCRAM-SHA-512"])


def test_bad_jaas_config_stops_startup(tmp_path):
    binary = os.environ.get("SPILLWAY_BIN", str(REPO / "build" / "spillway"))
    key = "listener.name.sasl_plaintext.plain.sasl.jaas.config"
    argv = [binary, "--override", "spillway.metrics.listen=", "--override",
            f"log.dirs={tmp_path}", "--override",
            "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0", "--override",
            f'{key}=org.apache.kafka.common.security.plain.PlainLoginModule required '
            'user_bob="unterminated;']
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode != 0
    assert key in r.stdout + r.stderr and "unterminated" in r.stdout + r.stderr


@pytest.fixture(scope="module")
def franz_sasl(tmp_path_factory):
    """tests/integration/go/sasl built for this run (Go's build cache makes
    it quick; the franz-go module is the suite's own, already cached)."""
    if shutil.which("go") is None:
        client_missing("go not installed")
    out = tmp_path_factory.mktemp("franz") / "franz_sasl"
    r = subprocess.run(["go", "build", "-o", str(out), "./sasl"], cwd=HERE / "go",
                       env={**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly"},
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        client_missing(f"franz-go SASL driver does not build: {r.stderr[-500:]}")
    return str(out)


@pytest.mark.parametrize("mech,user,password", [
    ("SCRAM-SHA-512", "alice", "alice-secret"),
    ("SCRAM-SHA-256", "alice", "alice-secret"),
    ("PLAIN", "bob", "bob-secret"),
])
def test_franz_go(sasl, franz_sasl, mech, user, password):
    _, _, bs = sasl
    t = unique_topic("sasl-franz")
    r = subprocess.run([franz_sasl, bs, t, mech, user, password, "10"], capture_output=True,
                       text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) == [f"go-{i}" for i in range(10)]

