# SPDX-License-Identifier: Apache-2.0
"""TLS on each transport (uring over veth, and DPDK with utcp: OpenSSL over
memory BIOs, no kernel socket): the broker's one listener is SSL
(certificate for 10.99.0.2, made with the openssl CLI as in
tests/integration/test_tls.py). From the client netns kcat and Kafka's Java
tools (VerifiableProducer, ConsoleConsumer with a client config) produce and
consume over SSL; 12 MB fetched back byte for byte (Fetch file regions
encrypted a record at a time); garbage instead of a ClientHello is closed
while a client is served. With ssl.client.auth=required: a client
certificate is needed (kcat and Java with one work, kcat without fails)."""
import socket
import subprocess

import pytest

from . import netns as N
from . import nsclients as C

import test_tls as itls  # noqa: E402  (tests/integration/test_tls.py, via netns)

CALL_TIMEOUT = 120


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("dpdk-pki")
    itls._ca(d, "ca")
    itls._cert(d, "server", "ca", "/CN=spillway", f"IP:{N.SERVER_IP},DNS:localhost")
    itls._cert(d, "alice", "ca", "/C=US/O=Acme/CN=alice")
    return d


def _overrides(pki, client_auth="none"):
    o = {"listeners": f"SSL://{N.SERVER_IP}:{N.KAFKA_PORT}",
         "ssl.keystore.type": "PEM",
         "ssl.keystore.location": str(pki / "server.keystore.pem"),
         "ssl.client.auth": client_auth}
    if client_auth != "none":
        o.update({"ssl.truststore.type": "PEM", "ssl.truststore.location": str(pki / "ca.pem")})
    return o


def _kcat(broker, pki, *args, cert=None, stdin=None):
    C.need("kcat")
    x = ["security.protocol=ssl", f"ssl.ca.location={pki / 'ca.pem'}"]
    if cert:
        x += [f"ssl.certificate.location={pki / (cert + '.pem')}",
              f"ssl.key.location={pki / (cert + '.key')}"]
    argv = ["kcat", "-b", broker.bootstrap, *[y for kv in x for y in ("-X", kv)], *args]
    return subprocess.run(N.ns_argv(broker.client_ns, argv), input=stdin, capture_output=True,
                          text=True, timeout=CALL_TIMEOUT)


def _kcat_round_trip(broker, pki, n, size, cert=None):
    topic = N.it.unique_topic("dp-tls")
    lines = [f"{i:06d}-" + "z" * size for i in range(n)]
    p = _kcat(broker, pki, "-P", "-t", topic, "-p", "0", cert=cert, stdin="\n".join(lines) + "\n")
    assert p.returncode == 0, p.stderr
    c = _kcat(broker, pki, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q",
              cert=cert)
    assert c.returncode == 0, c.stderr
    assert c.stdout.splitlines() == lines


def _java(broker, pki, tmp_path, cert=None):
    cp = N.it.java_classpath(with_classes=False)
    cfg = itls._java_client_config(pki, tmp_path / "client.properties", cert)
    topic = N.it.unique_topic("dp-tls-java")
    p = subprocess.run(N.ns_argv(broker.client_ns, [
        "java", *N.it.JAVA_OPTS, "-cp", cp, "org.apache.kafka.tools.VerifiableProducer",
        "--bootstrap-server", broker.bootstrap, "--topic", topic, "--max-messages", "10",
        "--acks", "-1", "--producer.config", cfg]),
        capture_output=True, text=True, timeout=CALL_TIMEOUT)
    assert p.stdout.count('"name":"producer_send_success"') == 10, p.stdout[-2000:] + p.stderr
    c = subprocess.run(N.ns_argv(broker.client_ns, [
        "java", *N.it.JAVA_OPTS, "-cp", cp, "org.apache.kafka.tools.consumer.ConsoleConsumer",
        "--bootstrap-server", broker.bootstrap, "--topic", topic, "--from-beginning",
        "--max-messages", "10", "--timeout-ms", "30000", "--consumer.config", cfg]),
        capture_output=True, text=True, timeout=CALL_TIMEOUT)
    assert c.stdout.split() == [str(i) for i in range(10)], c.stderr[-2000:]


@pytest.mark.timeout(300)
def test_ssl_clients_and_garbage(broker_factory, pki, tmp_path):
    b = broker_factory(overrides=_overrides(pki))
    _kcat_round_trip(b, pki, 50, 100)
    _kcat_round_trip(b, pki, 12000, 1000)        # 12 MB: fetched in file regions
    _java(b, pki, tmp_path)
    with b.client():
        bad = socket.create_connection((N.SERVER_IP, N.KAFKA_PORT), timeout=10)
        bad.sendall(b"GET / HTTP/1.1\r\n\r\n" + bytes(range(256)))
        assert itls._closed_within(bad, 5)
        bad.close()
    _kcat_round_trip(b, pki, 3, 10)
    assert b.metric("spillway_tls_handshakes_total")['{listener="SSL"}'] >= 4
    assert b.metric("spillway_tls_handshakes_failed_total")['{listener="SSL"}'] >= 1


@pytest.mark.timeout(300)
def test_mtls_required(broker_factory, pki, tmp_path):
    b = broker_factory(overrides=_overrides(pki, "required"))
    _kcat_round_trip(b, pki, 20, 100, cert="alice")
    _java(b, pki, tmp_path, cert="alice")
    r = _kcat(b, pki, "-L", "-m", "5")
    assert r.returncode != 0, r.stdout
