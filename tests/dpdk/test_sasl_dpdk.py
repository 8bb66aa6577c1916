# SPDX-License-Identifier: Apache-2.0
"""SASL on each transport (uring over veth, and DPDK with utcp): one broker
with three listeners, PLAINTEXT on 9092, SASL_PLAINTEXT on 9093 (PLAIN) and
SASL_SSL on 9094 (SCRAM-SHA-512 over OpenSSL on memory BIOs on dpdk).
Users are created as a Kafka deployment bootstraps them: Apache Kafka's
kafka-configs (AlterUserScramCredentials) over the PLAINTEXT listener of
the same broker; bob is a PLAIN user of the listener's JAAS config. From
the client netns kcat and Kafka's Java tools (VerifiableProducer,
ConsoleConsumer with a client config) produce and consume over
SASL_PLAINTEXT+PLAIN and SASL_SSL+SCRAM-SHA-512. A wrong password gets
SASL_AUTHENTICATION_FAILED with Kafka's message (kcat, Java, and on the
wire: the answer, then a close) while a consumer that authenticated before
keeps receiving and an authenticated raw connection keeps being served.
With connections.max.reauth.ms=2000, re-authentication (KIP-368) over
SASL_SSL: raw, and by the Java producer."""
import socket
import ssl
import subprocess
import time

import pytest

from . import netns as N
from . import nsclients as C
from .conftest import start_broker

import kwire                  # noqa: E402  (tests/lib, via netns)
import test_sasl as isasl     # noqa: E402  (tests/integration/test_sasl.py, via netns)
import test_tls as itls       # noqa: E402  (tests/integration/test_tls.py, via netns)

CALL_TIMEOUT = 120
SASL_PORT, SSL_PORT = 9093, 9094
PLAIN_BS = f"{N.SERVER_IP}:{N.KAFKA_PORT}"
SASL_BS = f"{N.SERVER_IP}:{SASL_PORT}"
SSL_BS = f"{N.SERVER_IP}:{SSL_PORT}"
ALICE = ("alice", "alice-secret")           # SCRAM store, made with kafka-configs
BOB = ("bob", "bob-secret")                 # JAAS user of the SASL_PLAINTEXT listener
JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
        f'user_{BOB[0]}="{BOB[1]}";')
# (listener bootstrap, security.protocol, mechanism)
SASL_PLAIN = (SASL_BS, "SASL_PLAINTEXT", "PLAIN")
SASL_SCRAM = (SSL_BS, "SASL_SSL", "SCRAM-SHA-512")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("dpdk-sasl-pki")
    itls._ca(d, "ca")
    itls._cert(d, "server", "ca", "/CN=spillway", f"IP:{N.SERVER_IP},DNS:localhost")
    return d


def _overrides(pki):
    return {
        "listeners": f"PLAINTEXT://{PLAIN_BS},SASL_PLAINTEXT://{SASL_BS},SASL_SSL://{SSL_BS}",
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-512",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS,
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(pki / "server.keystore.pem"),
    }


@pytest.fixture(scope="module")
def sb(request, transport, pki):
    """The module's broker on `transport`, alice's SCRAM-SHA-512 credential
    added with kafka-configs over its PLAINTEXT listener."""
    b = start_broker(transport, overrides=_overrides(pki))
    request.addfinalizer(b.cleanup)
    with b.client():
        isasl.kafka_configs(PLAIN_BS, "--alter", "--add-config",
                            f"SCRAM-SHA-512=[password={ALICE[1]}]",
                            "--entity-type", "users", "--entity-name", ALICE[0])
    return b


@pytest.fixture
def broker_ok(sb):
    yield sb
    if sb.crashed():
        pytest.fail(f"broker ({sb.transport}) died (rc {sb.proc.returncode}):\n"
                    f"{sb.log_tail()}", pytrace=False)


def _kcat_argv(pki, listener, user, password, *args):
    C.need("kcat")
    bs, proto, mech = listener
    x = [f"security.protocol={proto}", f"sasl.mechanisms={mech}",
         f"sasl.username={user}", f"sasl.password={password}"]
    if proto == "SASL_SSL":
        x.append(f"ssl.ca.location={pki / 'ca.pem'}")
    return ["kcat", "-b", bs, "-m", "20", *[y for kv in x for y in ("-X", kv)], *args]


def _kcat(b, pki, listener, user, password, *args, stdin=None):
    return subprocess.run(N.ns_argv(b.client_ns, _kcat_argv(pki, listener, user, password,
                                                           *args)),
                          input=stdin, capture_output=True, text=True, timeout=CALL_TIMEOUT)


def _kcat_round_trip(b, pki, listener, cred, n, size):
    topic = N.it.unique_topic("dp-sasl")
    lines = [f"{i:06d}-" + "s" * size for i in range(n)]
    p = _kcat(b, pki, listener, *cred, "-P", "-t", topic, "-p", "0",
              stdin="\n".join(lines) + "\n")
    assert p.returncode == 0, p.stderr
    c = _kcat(b, pki, listener, *cred, "-C", "-t", topic, "-p", "0", "-o", "beginning",
              "-e", "-q")
    assert c.returncode == 0, c.stderr
    assert c.stdout.splitlines() == lines


@pytest.mark.timeout(300)
@pytest.mark.parametrize("listener,cred", [
    (SASL_PLAIN, BOB), (SASL_PLAIN, ALICE), (SASL_SCRAM, ALICE)],
    ids=["plaintext-plain-jaas", "plaintext-plain-scram-store", "ssl-scram-sha-512"])
def test_kcat_round_trips(broker_ok, pki, listener, cred):
    _kcat_round_trip(broker_ok, pki, listener, cred, 50, 100)
    _kcat_round_trip(broker_ok, pki, listener, cred, 4000, 1000)    # 4 MB, several fetches


def _java_config(pki, path, listener, cred, extra=()):
    _bs, proto, mech = listener
    module = ("org.apache.kafka.common.security.plain.PlainLoginModule" if mech == "PLAIN"
              else "org.apache.kafka.common.security.scram.ScramLoginModule")
    lines = [f"security.protocol={proto}", f"sasl.mechanism={mech}",
             f'sasl.jaas.config={module} required username="{cred[0]}" '
             f'password="{cred[1]}";']
    if proto == "SASL_SSL":
        lines += ["ssl.truststore.type=PEM", f"ssl.truststore.location={pki / 'ca.pem'}"]
    path.write_text("\n".join([*lines, *extra]) + "\n")
    return str(path)


def _java(b, cls, *args, timeout=CALL_TIMEOUT):
    cp = N.it.java_classpath(with_classes=False)
    return subprocess.run(N.ns_argv(b.client_ns, ["java", *N.it.JAVA_OPTS, "-cp", cp, cls,
                                                  *args]),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("listener", [SASL_PLAIN, SASL_SCRAM],
                         ids=["plaintext-plain", "ssl-scram-sha-512"])
def test_java_producer_and_console_consumer(broker_ok, pki, tmp_path, listener):
    cfg = _java_config(pki, tmp_path / "client.properties", listener, ALICE)
    topic = N.it.unique_topic("dp-sasl-java")
    p = _java(broker_ok, "org.apache.kafka.tools.VerifiableProducer",
              "--bootstrap-server", listener[0], "--topic", topic, "--max-messages", "10",
              "--acks", "-1", "--producer.config", cfg)
    assert p.stdout.count('"name":"producer_send_success"') == 10, p.stdout[-2000:] + p.stderr
    c = _java(broker_ok, "org.apache.kafka.tools.consumer.ConsoleConsumer",
              "--bootstrap-server", listener[0], "--topic", topic, "--from-beginning",
              "--max-messages", "10", "--timeout-ms", "30000", "--consumer.config", cfg)
    assert c.stdout.split() == [str(i) for i in range(10)], c.stderr[-2000:]


def _raw_scram(bs):
    """A raw connection to a SASL_PLAINTEXT listener, authenticated as
    alice with SCRAM-SHA-512 (tests/integration/test_sasl.py's client)."""
    s, _life = isasl.scram_login(bs, *ALICE, "SCRAM-SHA-512")
    return s


def _raw_plain_wrong(bs):
    """PLAIN with bob's name and a wrong password, raw: (error, message,
    closed after the answer)."""
    s = kwire.connect(bs, timeout=10)
    with s:
        err, mechs = isasl.handshake(s, "PLAIN")
        assert err == 0, (err, mechs)
        err, msg, _data, _life = isasl.authenticate(s, f"\0{BOB[0]}\0wrong".encode())
        return err, msg, isasl.closed(s)


@pytest.mark.timeout(300)
def test_wrong_password_fails_cleanly_others_served(broker_ok, pki, tmp_path):
    b = broker_ok
    topic = N.it.unique_topic("dp-sasl-bad")
    p = _kcat(b, pki, SASL_SCRAM, *ALICE, "-P", "-t", topic, "-p", "0",
              stdin="".join(f"before-{i}\n" for i in range(10)))
    assert p.returncode == 0, p.stderr
    # A consumer over SASL_SSL that authenticated (and read) before the
    # failures and must receive what is produced after them.
    consumer = subprocess.Popen(
        N.ns_argv(b.client_ns, _kcat_argv(pki, SASL_SCRAM, *ALICE, "-C", "-t", topic, "-p",
                                          "0", "-o", "beginning", "-c", "20", "-q", "-u")),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        got = [consumer.stdout.readline().strip() for _ in range(10)]
        assert got == [f"before-{i}" for i in range(10)], got
        with b.client():
            raw = _raw_scram(SASL_BS)
        with raw:
            for listener, (user, _pw) in ((SASL_PLAIN, BOB), (SASL_PLAIN, ALICE),
                                          (SASL_SCRAM, ALICE)):
                r = _kcat(b, pki, listener, user, "wrong", "-L")
                assert r.returncode != 0, r.stdout
                assert isasl.FAILED_MSG.format(listener[2]) in r.stderr, r.stderr[-2000:]
            cfg = _java_config(pki, tmp_path / "bad.properties", SASL_SCRAM, (ALICE[0], "x"),
                               ["max.block.ms=20000"])
            j = _java(b, "org.apache.kafka.tools.VerifiableProducer", "--bootstrap-server",
                      SSL_BS, "--topic", topic, "--max-messages", "1", "--producer.config", cfg)
            assert "producer_send_success" not in j.stdout, j.stdout[-2000:]
            assert "SaslAuthenticationException" in j.stdout + j.stderr, \
                (j.stdout + j.stderr)[-2000:]
            with b.client():
                err, msg, was_closed = _raw_plain_wrong(SASL_BS)
                assert (err, msg) == (isasl.SASL_AUTHENTICATION_FAILED,
                                      isasl.FAILED_MSG.format("PLAIN")), (err, msg)
                assert was_closed
                assert isasl.metadata_ok(raw)       # authenticated before: still served
        p = _kcat(b, pki, SASL_SCRAM, *ALICE, "-P", "-t", topic, "-p", "0",
                  stdin="".join(f"after-{i}\n" for i in range(10)))
        assert p.returncode == 0, p.stderr
        out, err = consumer.communicate(timeout=60)
        assert consumer.returncode == 0, err[-2000:]
        assert out.split() == [f"after-{i}" for i in range(10)], out
    finally:
        if consumer.poll() is None:
            consumer.kill()
            consumer.wait()
    _kcat_round_trip(b, pki, SASL_PLAIN, BOB, 3, 10)


# ---- re-authentication (KIP-368) over SASL_SSL ----

def _tls_connect(pki, bs):
    host, port = bs.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    raw = socket.create_connection((host, int(port)), timeout=10)
    return ctx.wrap_socket(raw, server_hostname=host)


def _tls_scram(s):
    """One SCRAM-SHA-512 exchange as alice on s: the session lifetime (ms)."""
    assert isasl.handshake(s, "SCRAM-SHA-512")[0] == 0
    c = isasl.Scram(*ALICE, "SCRAM-SHA-512")
    err, msg, sf, _ = isasl.authenticate(s, c.first())
    assert err == 0, msg
    err, msg, final, life = isasl.authenticate(s, c.final(sf))
    assert err == 0 and final.startswith(b"v="), msg
    return life


def _tls_closed(s, timeout=5):
    s.settimeout(timeout)
    try:
        while True:
            if s.recv(4096) == b"":
                return True
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
        return True
    except socket.timeout:
        return False


@pytest.mark.timeout(300)
def test_reauthentication_over_sasl_ssl(transport, pki, tmp_path):
    """connections.max.reauth.ms=2000: a raw TLS connection authenticates
    again three times and stays served, then lets its session end and is
    closed at its next request; a Java producer keeps producing for three
    session lifetimes (it re-authenticates) and every record arrives."""
    b = start_broker(transport, overrides={**_overrides(pki),
                                           "connections.max.reauth.ms": "2000"})
    try:
        with b.client():
            isasl.kafka_configs(PLAIN_BS, "--alter", "--add-config",
                                f"SCRAM-SHA-512=[password={ALICE[1]}]",
                                "--entity-type", "users", "--entity-name", ALICE[0])
            with _tls_connect(pki, SSL_BS) as s:
                assert _tls_scram(s) == 2000
                for _ in range(3):
                    time.sleep(1.2)
                    assert _tls_scram(s) == 2000
                    assert isasl.metadata_ok(s)
                time.sleep(2.5)
                s.sendall(kwire.request(kwire.METADATA, 1, 9, kwire.Writer().arr(0).b))
                assert _tls_closed(s)
        cfg = _java_config(pki, tmp_path / "reauth.properties", SASL_SCRAM, ALICE)
        topic = N.it.unique_topic("dp-sasl-reauth")
        # 14 records at 2 a second: 7 s, over three 2 s sessions
        p = _java(b, "org.apache.kafka.tools.VerifiableProducer", "--bootstrap-server", SSL_BS,
                  "--topic", topic, "--max-messages", "14", "--throughput", "2", "--acks", "-1",
                  "--producer.config", cfg)
        assert p.stdout.count('"name":"producer_send_success"') == 14, \
            (p.stdout + p.stderr)[-2000:]
        c = _kcat(b, pki, SASL_SCRAM, *ALICE, "-C", "-t", topic, "-p", "0", "-o", "beginning",
                  "-e", "-q")
        assert c.stdout.split() == [str(i) for i in range(14)], c.stderr
        # raw: 4 exchanges; Java: at least its first and one more per lifetime
        ok = b.metric("spillway_sasl_authentications_total")[
            '{listener="SASL_SSL",mechanism="SCRAM-SHA-512",result="succeeded"}']
        assert ok >= 4 + 4, ok
        assert not b.crashed(), b.log_tail()
    finally:
        b.cleanup()
