# SPDX-License-Identifier: Apache-2.0
"""TLS and mutual TLS on a client listener (issue 16).

Certificates are made here with the openssl CLI: a CA, a server certificate
for localhost/127.0.0.1, client certificates (one of this CA, one of another
CA), and server certificates that clients must refuse (expired, of another
CA, for another host). One broker serves PLAINTEXT, SSL, an mTLS listener
(ssl.client.auth=required, principal mapping rules) and three listeners with
the bad server certificates through listener.name.<l>.ssl.* overrides.

kcat (librdkafka), confluent-kafka-python, the Java client (Kafka's console
producer and consumer with a client config) and kafkajs produce and consume
over SSL and mTLS; a missing or foreign client certificate under `required`
fails; PLAINTEXT Kafka and garbage on the SSL port are closed while another
client keeps working; a stalled handshake is closed after
spillway.ssl.handshake.timeout.ms; the handshake counters show in /metrics.
"""
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import (JAVA_OPTS, Broker, _backend, _teardown, client_missing, free_port,
                      java_classpath)

HERE = Path(__file__).resolve().parent
HANDSHAKE_MS = 1500
CALL_TIMEOUT = 90


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _ca(d, name):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
             "-subj", f"/CN={name}", cwd=d)


def _cert(d, name, ca, subj, san=None, days="2"):
    """name.key (PKCS#8) and name.pem signed by ca; name.keystore.pem holds
    both (Kafka's PEM key store: key and chain in one file)."""
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subj, cwd=d)
    ext = []
    if san:
        (d / f"{name}.ext").write_text(f"subjectAltName={san}\n")
        ext = ["-extfile", f"{name}.ext"]
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-out", f"{name}.pem", "-days", days, *ext, cwd=d)
    (d / f"{name}.keystore.pem").write_text((d / f"{name}.key").read_text() +
                                            (d / f"{name}.pem").read_text())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if shutil.which("openssl") is None:
        client_missing("the openssl CLI is not installed")
    d = tmp_path_factory.mktemp("pki")
    _ca(d, "ca")
    _ca(d, "otherca")
    _cert(d, "server", "ca", "/CN=localhost", "DNS:localhost,IP:127.0.0.1")
    _cert(d, "expired", "ca", "/CN=localhost", "DNS:localhost,IP:127.0.0.1", days="-1")
    _cert(d, "foreign", "otherca", "/CN=localhost", "DNS:localhost,IP:127.0.0.1")
    _cert(d, "wronghost", "ca", "/CN=other.example", "DNS:other.example,IP:10.9.9.9")
    _cert(d, "alice", "ca", "/C=US/O=Acme/CN=alice")
    _cert(d, "mallory", "otherca", "/C=US/O=Acme/CN=mallory")
    # An encrypted key store: ssl.key.password decrypts it.
    _openssl("pkcs8", "-topk8", "-in", "server.key", "-out", "server.enc.key", "-passout",
             "pass:s3cret", "-v2", "aes-256-cbc", cwd=d)
    (d / "server.enc.keystore.pem").write_text((d / "server.enc.key").read_text() +
                                               (d / "server.pem").read_text())
    return d


def _overrides(pki, metrics_port):
    names = ["PLAINTEXT", "SSL", "MTLS", "EXPIRED", "FOREIGN", "WRONGHOST", "INLINE"]
    o = {
        "listeners": ",".join(f"{n}://127.0.0.1:0" for n in names),
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT," +
        ",".join(f"{n}:SSL" for n in names[1:]),
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(pki / "server.enc.keystore.pem"),
        "ssl.key.password": "s3cret",
        "listener.name.mtls.ssl.client.auth": "required",
        "listener.name.mtls.ssl.truststore.type": "PEM",
        "listener.name.mtls.ssl.truststore.location": str(pki / "ca.pem"),
        "listener.name.mtls.ssl.principal.mapping.rules":
            "RULE:^CN=(.*?),O=Acme.*$/$1/L,DEFAULT",
        "spillway.ssl.handshake.timeout.ms": str(HANDSHAKE_MS),
        "spillway.metrics.listen": f"127.0.0.1:{metrics_port}",
    }
    # Inline PEM key store and trust store; client certificates requested.
    o["listener.name.inline.ssl.keystore.certificate.chain"] = (pki / "server.pem").read_text()
    o["listener.name.inline.ssl.keystore.key"] = (pki / "server.enc.key").read_text()
    o["listener.name.inline.ssl.client.auth"] = "requested"
    o["listener.name.inline.ssl.truststore.type"] = "PEM"
    o["listener.name.inline.ssl.truststore.certificates"] = (pki / "ca.pem").read_text()
    for n in ("expired", "foreign", "wronghost"):
        o[f"listener.name.{n}.ssl.keystore.location"] = str(pki / f"{n}.keystore.pem")
        o[f"listener.name.{n}.ssl.key.password"] = ""
    return o


@pytest.fixture(scope="module")
def tls_broker(pki):
    if os.environ.get("SPILLWAY_BOOTSTRAP") or os.environ.get("SPILLWAY_TEST_BACKEND"):
        pytest.skip("needs a Spillway broker of its own with TLS listeners")
    metrics_port = free_port()
    b = Broker(_backend(), _overrides(pki, metrics_port)).start()
    b.metrics_port = metrics_port
    yield b
    _teardown(b)


def _hp(broker, name):
    return broker.listener_bootstrap(name)


def _topic(prefix):
    return f"it-tls-{prefix}-{uuid.uuid4().hex[:8]}"


def _kcat(bootstrap, *args, ssl=(), stdin=None, timeout=CALL_TIMEOUT):
    if shutil.which("kcat") is None:
        client_missing("kcat is not installed")
    argv = ["kcat", "-b", bootstrap, *[x for kv in ssl for x in ("-X", kv)], *args]
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)


def _kcat_ssl(pki, cert=None):
    x = ["security.protocol=ssl", f"ssl.ca.location={pki / 'ca.pem'}",
         "ssl.endpoint.identification.algorithm=https"]
    if cert:
        x += [f"ssl.certificate.location={pki / (cert + '.pem')}",
              f"ssl.key.location={pki / (cert + '.key')}"]
    return x


def _kcat_roundtrip(pki, bootstrap, cert=None, n=50):
    topic = _topic("kcat")
    lines = [f"kcat-{i}-" + "x" * (i * 37 % 3000) for i in range(n)]
    p = _kcat(bootstrap, "-P", "-t", topic, "-p", "0", ssl=_kcat_ssl(pki, cert),
              stdin="\n".join(lines) + "\n")
    assert p.returncode == 0, p.stderr
    c = _kcat(bootstrap, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q",
              ssl=_kcat_ssl(pki, cert))
    assert c.returncode == 0, c.stderr
    assert c.stdout.splitlines() == lines


def test_kcat_over_ssl(pki, tls_broker):
    _kcat_roundtrip(pki, _hp(tls_broker, "SSL"))


def test_kcat_over_mtls(pki, tls_broker):
    _kcat_roundtrip(pki, _hp(tls_broker, "MTLS"), cert="alice")


def test_inline_pem_stores_and_requested_client_auth(pki, tls_broker):
    """ssl.keystore.certificate.chain/key and ssl.truststore.certificates as
    inline PEM; under `requested` a client with or without a certificate is
    served, one with a certificate of an unknown CA is refused."""
    _kcat_roundtrip(pki, _hp(tls_broker, "INLINE"), n=3)
    _kcat_roundtrip(pki, _hp(tls_broker, "INLINE"), cert="alice", n=3)
    _kcat_refused(pki, _hp(tls_broker, "INLINE"), cert="mallory")


def test_large_fetch_over_ssl(pki, tls_broker):
    """20 MB produced and fetched back: Fetch file regions are encrypted
    from the page cache in pieces."""
    topic = _topic("big")
    lines = [f"{i:06d}-" + "y" * 1000 for i in range(20000)]
    b = _hp(tls_broker, "SSL")
    p = _kcat(b, "-P", "-t", topic, "-p", "0", ssl=_kcat_ssl(pki), stdin="\n".join(lines) + "\n")
    assert p.returncode == 0, p.stderr
    c = _kcat(b, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q", ssl=_kcat_ssl(pki))
    assert c.returncode == 0, c.stderr
    assert c.stdout.splitlines() == lines
    # Out of the page cache: the slices that miss it are read through
    # io_uring (counted), and the bytes are the same.
    before = _metric(tls_broker, "spillway_tls_file_reads_async_total", None)
    for _ in range(8):      # pages under writeback are not dropped: again
        for f in (tls_broker.data).rglob(f"{topic}-0/*"):
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
                os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        c = _kcat(b, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q",
                  ssl=_kcat_ssl(pki))
        assert c.returncode == 0, c.stderr
        assert c.stdout.splitlines() == lines
        if _metric(tls_broker, "spillway_tls_file_reads_async_total", None) > before:
            break
        time.sleep(1)
    assert _metric(tls_broker, "spillway_tls_file_reads_async_total", None) > before


def _kcat_refused(pki, bootstrap, cert=None):
    r = _kcat(bootstrap, "-L", "-m", "5", ssl=_kcat_ssl(pki, cert), timeout=30)
    assert r.returncode != 0, r.stdout
    return r.stderr


@pytest.mark.parametrize("listener,why", [("EXPIRED", "certificate has expired"),
                                          ("FOREIGN", "unable to get local issuer certificate"),
                                          ("WRONGHOST", "IP address mismatch")])
def test_client_refuses_bad_server_certificate(pki, tls_broker, listener, why):
    """kcat refuses the handshake; Python's ssl (OpenSSL too) says why."""
    err = _kcat_refused(pki, _hp(tls_broker, listener))
    assert "certificate verify failed" in err, err
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    with socket.create_connection(("127.0.0.1", tls_broker.listeners[listener]["port"])) as s:
        with pytest.raises(ssl.SSLCertVerificationError) as e:
            ctx.wrap_socket(s, server_hostname="127.0.0.1")
    assert why in str(e.value), e.value
    # The good certificate on the SSL listener passes the same check.
    with socket.create_connection(("127.0.0.1", tls_broker.listeners["SSL"]["port"])) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            assert t.version() in ("TLSv1.2", "TLSv1.3")


def test_mtls_without_client_certificate_fails(pki, tls_broker):
    _kcat_refused(pki, _hp(tls_broker, "MTLS"))
    # The broker says why before it closes: TLS 1.3's certificate_required
    # alert (the client's handshake is done by then; its first read gets it).
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    with socket.create_connection(("127.0.0.1", tls_broker.listeners["MTLS"]["port"])) as s:
        with pytest.raises(ssl.SSLError) as e:
            t = ctx.wrap_socket(s, server_hostname="127.0.0.1")
            t.sendall(API_VERSIONS_V0)
            t.settimeout(5)
            t.recv(100)
    assert "CERTIFICATE_REQUIRED" in str(e.value).upper(), e.value


def test_mtls_with_foreign_client_certificate_fails(pki, tls_broker):
    _kcat_refused(pki, _hp(tls_broker, "MTLS"), cert="mallory")


def test_confluent_kafka_python_over_ssl_and_mtls(pki, tls_broker):
    try:
        from confluent_kafka import Consumer, Producer, TopicPartition
    except ImportError:
        client_missing("python3-confluent-kafka is not installed")
    for listener, cert in (("SSL", None), ("MTLS", "alice")):
        conf = {"bootstrap.servers": _hp(tls_broker, listener), "security.protocol": "SSL",
                "ssl.ca.location": str(pki / "ca.pem")}
        if cert:
            conf.update({"ssl.certificate.location": str(pki / f"{cert}.pem"),
                         "ssl.key.location": str(pki / f"{cert}.key")})
        topic = _topic("ck")
        p = Producer(conf)
        acked = []
        for i in range(20):
            p.produce(topic, value=f"ck-{i}".encode(), partition=0,
                      on_delivery=lambda err, msg: acked.append(err))
        assert p.flush(30) == 0
        assert acked == [None] * 20
        c = Consumer({**conf, "group.id": "tls-ck", "enable.auto.commit": False})
        c.assign([TopicPartition(topic, 0, 0)])
        got, deadline = [], time.time() + 30
        while len(got) < 20 and time.time() < deadline:
            m = c.poll(1.0)
            if m is not None and m.error() is None:
                got.append(m.value().decode())
        c.close()
        assert got == [f"ck-{i}" for i in range(20)], listener


def _java_client_config(pki, path, cert=None):
    lines = ["security.protocol=SSL", "ssl.truststore.type=PEM",
             f"ssl.truststore.location={pki / 'ca.pem'}"]
    if cert:
        lines += ["ssl.keystore.type=PEM", f"ssl.keystore.location={pki / (cert + '.keystore.pem')}"]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_java_producer_and_console_consumer_over_ssl_and_mtls(pki, tls_broker, tmp_path):
    """Kafka's own tools with a client config: kafka-verifiable-producer.sh
    (VerifiableProducer) and kafka-console-consumer.sh (ConsoleConsumer)."""
    cp = java_classpath(with_classes=False)
    for listener, cert in (("SSL", None), ("MTLS", "alice")):
        cfg = _java_client_config(pki, tmp_path / f"{listener}.properties", cert)
        b, topic = _hp(tls_broker, listener), _topic("java")
        p = subprocess.run(["java", *JAVA_OPTS, "-cp", cp, "org.apache.kafka.tools.VerifiableProducer",
                            "--bootstrap-server", b, "--topic", topic, "--max-messages", "10",
                            "--acks", "-1", "--producer.config", cfg],
                           capture_output=True, text=True, timeout=CALL_TIMEOUT)
        assert p.returncode == 0, p.stderr[-2000:]
        assert p.stdout.count('"name":"producer_send_success"') == 10, p.stdout[-2000:]
        c = subprocess.run(["java", *JAVA_OPTS, "-cp", cp,
                            "org.apache.kafka.tools.consumer.ConsoleConsumer",
                            "--bootstrap-server", b, "--topic", topic, "--from-beginning",
                            "--max-messages", "10", "--timeout-ms", "30000",
                            "--consumer.config", cfg],
                           capture_output=True, text=True, timeout=CALL_TIMEOUT)
        assert c.stdout.split() == [str(i) for i in range(10)], (listener, c.stderr[-2000:])


def test_kafkajs_over_ssl_and_mtls(pki, tls_broker):
    if shutil.which("node") is None or not (HERE / "js" / "node_modules" / "kafkajs").exists():
        client_missing("node or js/node_modules missing (run tests/integration/setup.sh)")
    for listener, cert in (("SSL", None), ("MTLS", "alice")):
        topic = _topic("js")
        extra = [str(pki / f"{cert}.pem"), str(pki / f"{cert}.key")] if cert else []
        r = subprocess.run(["node", str(HERE / "js" / "tls.js"), _hp(tls_broker, listener), topic,
                            "10", str(pki / "ca.pem"), *extra],
                           capture_output=True, text=True, timeout=CALL_TIMEOUT)
        out = json.loads(r.stdout.strip().splitlines()[-1])
        assert out.get("consumed") == [f"kafkajs-{i}" for i in range(10)], (listener, out)


def _closed_within(sock, seconds):
    """True when the broker closes sock (EOF or reset) within seconds."""
    sock.settimeout(seconds)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


API_VERSIONS_V0 = bytes.fromhex("0000000a" "0012" "0000" "00000001" "0000")


@pytest.mark.parametrize("payload", [API_VERSIONS_V0, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                                     bytes(range(256)) * 8],
                         ids=["plaintext-kafka", "http", "binary-garbage"])
def test_not_tls_on_ssl_port_is_closed_others_served(pki, tls_broker, payload):
    bad = socket.create_connection(("127.0.0.1", tls_broker.listeners["SSL"]["port"]))
    bad.sendall(payload)
    t0 = time.time()
    assert _closed_within(bad, 5)
    assert time.time() - t0 < 4
    bad.close()
    _kcat_roundtrip(pki, _hp(tls_broker, "SSL"), n=3)


def test_stalled_handshakes_time_out(pki, tls_broker):
    """A client that never sends a ClientHello, and one that stops halfway
    through it, are closed after spillway.ssl.handshake.timeout.ms."""
    port = tls_broker.listeners["SSL"]["port"]
    silent = socket.create_connection(("127.0.0.1", port))
    half = socket.create_connection(("127.0.0.1", port))
    half.sendall(bytes.fromhex("160301020001"))  # a record header and a few bytes
    t0 = time.time()
    assert _closed_within(silent, HANDSHAKE_MS / 1000 + 5)
    assert _closed_within(half, 2)
    took = time.time() - t0
    assert HANDSHAKE_MS / 1000 * 0.8 < took < HANDSHAKE_MS / 1000 + 5, took
    silent.close()
    half.close()
    _kcat_roundtrip(pki, _hp(tls_broker, "SSL"), n=3)


def test_plaintext_listener_still_plaintext(tls_broker):
    r = _kcat(_hp(tls_broker, "PLAINTEXT"), "-L", "-m", "10")
    assert r.returncode == 0, r.stderr


def _metric(broker, name, listener):
    body = urllib.request.urlopen(f"http://127.0.0.1:{broker.metrics_port}/metrics",
                                  timeout=10).read().decode()
    want = name + (f'{{listener="{listener}"}}' if listener else "") + " "
    for line in body.splitlines():
        if line.startswith(want):
            return float(line.split()[-1])
    raise AssertionError(f"{name} for {listener} missing")


def test_handshake_metrics(pki, tls_broker):
    before_ok = _metric(tls_broker, "spillway_tls_handshakes_total", "MTLS")
    before_bad = _metric(tls_broker, "spillway_tls_handshakes_failed_total", "MTLS")
    _kcat_roundtrip(pki, _hp(tls_broker, "MTLS"), cert="alice", n=2)
    _kcat_refused(pki, _hp(tls_broker, "MTLS"))
    assert _metric(tls_broker, "spillway_tls_handshakes_total", "MTLS") > before_ok
    assert _metric(tls_broker, "spillway_tls_handshakes_failed_total", "MTLS") > before_bad


@pytest.mark.parametrize("overrides,key", [
    ({"ssl.keystore.type": "JKS"}, "ssl.keystore.type"),
    ({"ssl.keystore.type": "PKCS12"}, "ssl.keystore.type"),
    ({"ssl.keystore.location": "/nonexistent/ks.pem"}, "ssl.keystore.location"),
    ({"ssl.key.password": "wrong"}, "ssl.key.password"),
    ({"ssl.client.auth": "sometimes"}, "ssl.client.auth"),
    ({"ssl.client.auth": "required"}, "ssl.truststore"),
    ({"ssl.enabled.protocols": "TLSv1.1"}, "ssl.enabled.protocols"),
    ({"ssl.cipher.suites": "TLS_NOT_A_SUITE"}, "ssl.cipher.suites"),
    ({"ssl.principal.mapping.rules": "RULE:^CN=(.*$/$1/"}, "ssl.principal.mapping.rules"),
])
def test_bad_tls_config_stops_startup_naming_the_key(pki, tmp_path, overrides, key):
    if os.environ.get("SPILLWAY_BOOTSTRAP") or os.environ.get("SPILLWAY_TEST_BACKEND"):
        pytest.skip("starts Spillway itself")
    base = {"listeners": "SSL://127.0.0.1:0", "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(pki / "server.enc.keystore.pem"),
            "ssl.key.password": "s3cret", "log.dir": str(tmp_path / "data"),
            "spillway.metrics.listen": ""}
    base.update(overrides)
    argv = [os.environ.get("SPILLWAY_BIN", str(HERE.parents[1] / "build" / "spillway"))]
    for k, v in base.items():
        argv += ["--override", f"{k}={v}"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert key in r.stderr, r.stderr


def _served_cn(port):
    """The subject CN of the certificate a new connection to port gets."""
    ctx = ssl.create_default_context(cafile=None)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port)) as s:
        with ctx.wrap_socket(s) as t:
            der = t.getpeercert(binary_form=True)
    text = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject"],
                          input=der, capture_output=True, timeout=10).stdout.decode()
    return text.strip().split("CN = ")[-1]


def _kafka_configs(bootstrap, *args):
    """kafka-configs.sh (ConfigCommand): (returncode, output)."""
    libs = HERE.parents[1] / ".cache" / "kafka" / "libs"
    if not (libs / "kafka_2.13-3.9.1.jar").exists():
        client_missing(f"Kafka 3.9.1 jars missing in {libs} (kafka-ref.sh fetch)")
    r = subprocess.run(["java", *JAVA_OPTS, "-cp", f"{libs}/*", "kafka.admin.ConfigCommand",
                        "--bootstrap-server", bootstrap, *args], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=CALL_TIMEOUT)
    return r.returncode, r.stdout + r.stderr


def test_certificate_reload_without_restart(pki, tls_broker, tmp_path):
    """kafka-configs --alter listener.name.ssl.ssl.keystore.location: new
    connections get the new certificate, a connection opened before keeps
    working; the same path again re-reads the file; a key store that does
    not load is refused and the old one stays."""
    port = tls_broker.listeners["SSL"]["port"]
    plain = _hp(tls_broker, "PLAINTEXT")
    _cert(pki, "reload1", "ca", "/CN=reloaded-one", "DNS:localhost,IP:127.0.0.1")
    _cert(pki, "reload2", "ca", "/CN=reloaded-two", "DNS:localhost,IP:127.0.0.1")
    ks = tmp_path / "live.keystore.pem"
    shutil.copy(pki / "reload1.keystore.pem", ks)
    assert _served_cn(port) == "localhost"
    old = socket.create_connection(("127.0.0.1", port))
    octx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    old = octx.wrap_socket(old, server_hostname="127.0.0.1")

    alter = ["--entity-type", "brokers", "--entity-name", "1", "--alter", "--add-config"]
    rc, out = _kafka_configs(plain, *alter, f"listener.name.ssl.ssl.keystore.location={ks}")
    assert rc == 0, out
    assert _served_cn(port) == "reloaded-one"
    # The same path again, after the file changed: re-read.
    shutil.copy(pki / "reload2.keystore.pem", ks)
    rc, out = _kafka_configs(plain, *alter, f"listener.name.ssl.ssl.keystore.location={ks}")
    assert rc == 0, out
    assert _served_cn(port) == "reloaded-two"
    # A key store that does not load: refused, the last good one stays.
    rc, out = _kafka_configs(plain, *alter,
                             f"listener.name.ssl.ssl.keystore.location={tmp_path / 'nope.pem'}")
    assert rc != 0 and "keystore.location" in out, out
    assert _served_cn(port) == "reloaded-two"
    # The connection made before the reloads still speaks (ApiVersions v0).
    old.sendall(API_VERSIONS_V0)
    old.settimeout(10)
    head = old.recv(8)
    assert len(head) >= 8 and head[4:8] == b"\x00\x00\x00\x01", head
    old.close()
    # Clients verifying the new certificate work.
    _kcat_roundtrip(pki, _hp(tls_broker, "SSL"), n=3)
    # Back to the original for the other tests.
    rc, out = _kafka_configs(plain, "--entity-type", "brokers", "--entity-name", "1",
                             "--alter", "--delete-config",
                             "listener.name.ssl.ssl.keystore.location")
    assert rc == 0, out
    assert _served_cn(port) == "localhost"


def test_burst_of_handshakes(pki, tls_broker):
    """60 clients handshake at once (a core takes a few handshake steps per
    turn, the rest the next turns): every one completes and gets an answer,
    and another client is served meanwhile."""
    import concurrent.futures

    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    port = tls_broker.listeners["SSL"]["port"]

    def one(_):
        with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
            with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                t.sendall(API_VERSIONS_V0)
                head = t.recv(8)
                return head[4:8] == b"\x00\x00\x00\x01"

    with concurrent.futures.ThreadPoolExecutor(max_workers=60) as ex:
        answers = list(ex.map(one, range(60)))
        _kcat_roundtrip(pki, _hp(tls_broker, "SSL"), n=3)
    assert answers == [True] * 60
