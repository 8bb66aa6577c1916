# SPDX-License-Identifier: Apache-2.0
"""Several listeners: one broker with two PLAINTEXT-protocol listeners under
their own names (INTERNAL, EXTERNAL, both on port 0, mapped by
listener.security.protocol.map) and different advertised addresses.

INTERNAL advertises 127.0.0.1 with port 0 (the bound port, as Kafka
advertises a port-0 listener); EXTERNAL advertises localhost and the port of
a forwarding proxy in front of it, so an address a client can only have
learnt from EXTERNAL's Metadata still reaches that listener. Each client
(kcat -L, the Java AdminClient's DescribeCluster / Metadata /
FindCoordinator) sees its own listener's endpoint; records produced through
one listener (kcat, confluent-kafka) are consumed through the other. Bad
listener configs stop the broker with a message naming the key.

Spillway only: Kafka's port-0 listeners are not learnt from its log."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import kschema
from chaos_proxy import ChaosProxy
from conftest import (HERE, JAVA_OPTS, REPO, backend_name, client_missing, free_port,
                      java_classpath, unique_topic)
from scenarios import eventually

LIBS = Path(os.environ.get("SPILLWAY_KAFKA_LIBS", REPO / ".cache" / "kafka" / "libs"))
METADATA, FIND_COORDINATOR, DESCRIBE_CLUSTER = 3, 10, 60

pytestmark = pytest.mark.skipif(backend_name() != "spillway",
                                reason="port-0 listeners are learnt from Spillway's log")

MAP = "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT"


@pytest.fixture
def two(broker_factory):
    """(broker, internal bootstrap, external bootstrap, proxy)."""
    proxy_port = free_port()
    b = broker_factory({
        "listeners": "INTERNAL://127.0.0.1:0,EXTERNAL://127.0.0.1:0",
        "listener.security.protocol.map": MAP,
        "advertised.listeners": f"INTERNAL://127.0.0.1:0,EXTERNAL://localhost:{proxy_port}",
    })
    assert set(b.listeners) == {"INTERNAL", "EXTERNAL"}, b.listeners
    internal, external = b.listeners["INTERNAL"], b.listeners["EXTERNAL"]
    assert internal["port"] != external["port"]
    assert internal["advertised"] == f"127.0.0.1:{internal['port']}"
    assert external["advertised"] == f"localhost:{proxy_port}"
    proxy = ChaosProxy(proxy_port, "127.0.0.1", external["port"]).start()
    yield b, b.listener_bootstrap("INTERNAL"), f"localhost:{proxy_port}", proxy
    proxy.stop()


def need(tool):
    if shutil.which(tool) is None:
        client_missing(f"{tool} not installed")


def kcat(bootstrap, *args, stdin=None):
    r = subprocess.run(["kcat", "-b", bootstrap, "-m", "20", *args], input=stdin,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"kcat {args} rc={r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def brokers_of(bootstrap):
    md = json.loads(kcat(bootstrap, "-L", "-J"))
    return [f"{b['name']}" for b in md["brokers"]]


def test_each_listener_advertises_itself(two):
    b, internal, external, _ = two
    need("kcat")
    port_in = b.listeners["INTERNAL"]["port"]
    port_ex = b.listeners["EXTERNAL"]["port"]
    assert brokers_of(internal) == [f"127.0.0.1:{port_in}"]
    # Straight to EXTERNAL's own port, and through the advertised proxy.
    assert brokers_of(f"127.0.0.1:{port_ex}") == [external]
    assert brokers_of(external) == [external]


def test_java_admin_sees_its_listener(two):
    b, internal, external, _ = two
    need("kcat")
    cp = java_classpath(with_classes=False)
    t = unique_topic("lis-java")
    kcat(internal, "-P", "-t", t, stdin="x\n")
    for bootstrap, want in ((internal, internal), (external, external)):
        r = subprocess.run(["java", *JAVA_OPTS, "-cp", cp,
                            str(HERE / "java" / "SpillwayListeners.java"), bootstrap, t,
                            "lis-group"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
        seen = json.loads(r.stdout.strip().splitlines()[-1])
        assert seen == {"cluster": [want], "leader": want, "coordinator": want}, seen


def test_every_version_answers_with_its_listener(two):
    """Raw Metadata v0-12, DescribeCluster v0-1 and FindCoordinator v0-6
    (v4+ batched) on each listener's own port: the broker endpoint in
    every answer is that listener's advertised one."""
    b, internal, external, _ = two
    src = kschema.find_source(LIBS)
    if src is None:
        client_missing(f"Kafka's schemas (kafka-clients jar) missing in {LIBS}")
    schemas = kschema.Schemas(src)
    for name, want in (("INTERNAL", internal), ("EXTERNAL", external)):
        target = b.listener_bootstrap(name)
        host, port = want.rsplit(":", 1)
        seen = set()
        for v in range(0, 13):
            md = kschema.call(schemas, target, METADATA, v, {"Topics": [] if v == 0 else None})
            seen |= {(x["Host"], x["Port"]) for x in md["Brokers"]}
        for v in range(0, 2):
            dc = kschema.call(schemas, target, DESCRIBE_CLUSTER, v, {"EndpointType": 1})
            assert dc["ErrorCode"] == 0, dc
            seen |= {(x["Host"], x["Port"]) for x in dc["Brokers"]}
        for v in range(0, 7):
            msg = ({"Key": "lis-g", "KeyType": 0} if v < 4
                   else {"KeyType": 0, "CoordinatorKeys": ["lis-g"]})

            def found():
                fc = kschema.call(schemas, target, FIND_COORDINATOR, v, msg)
                answers = fc["Coordinators"] if v >= 4 else [fc]
                assert all(a["ErrorCode"] == 0 for a in answers), fc
                return {(a["Host"], a["Port"]) for a in answers}
            seen |= eventually(found)
        assert seen == {(host, int(port))}, (name, seen)


def confluent_consume(bootstrap, topic, n):
    from confluent_kafka import Consumer, TopicPartition  # Debian's 1.7.0
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "lis-" + topic,
                  "enable.auto.commit": False, "socket.timeout.ms": 20000})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        got = []
        for _ in range(200):
            m = c.poll(0.2)
            if m is not None and m.error() is None:
                got.append(m.value().decode())
            if len(got) >= n:
                break
        return got
    finally:
        c.close()


def confluent_produce(bootstrap, topic, values):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    errors = []
    for v in values:
        p.produce(topic, v.encode(),
                  on_delivery=lambda err, _m: errors.append(err) if err else None)
    assert p.flush(30) == 0
    assert errors == []


def test_produce_on_one_consume_on_other(two):
    b, internal, external, proxy = two
    need("kcat")
    pytest.importorskip("confluent_kafka")
    t = unique_topic("lis-data")
    kcat(internal, "-P", "-t", t, "-p", "0", stdin="a1\na2\na3\n")
    assert confluent_consume(external, t, 3) == ["a1", "a2", "a3"]
    assert proxy.stats["accepted"] > 0, "the consumer followed EXTERNAL's advertised address"
    confluent_produce(external, t, ["b1", "b2"])
    out = kcat(internal, "-C", "-t", t, "-p", "0", "-o", "beginning", "-e", "-q")
    assert out.split() == ["a1", "a2", "a3", "b1", "b2"]


def start_fails(overrides):
    """Run the broker with overrides; it must refuse to start. Its output."""
    binary = os.environ.get("SPILLWAY_BIN", str(HERE.parents[1] / "build" / "spillway"))
    argv = [binary, "--override", "spillway.metrics.listen=", "--override",
            "log.dir=/nonexistent-spillway-lis"]
    for k, v in overrides.items():
        argv += ["--override", f"{k}={v}"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode != 0, r.stdout + r.stderr
    return r.stdout + r.stderr


@pytest.mark.parametrize("overrides,key,part", [
    ({"listeners": "A://127.0.0.1:0,A://127.0.0.1:0",
      "listener.security.protocol.map": "A:PLAINTEXT"},
     "listeners", "different name"),
    ({"listeners": "PLAINTEXT://127.0.0.1:19093,SASL_PLAINTEXT://127.0.0.1:19093"},
     "listeners", "different port"),
    ({"listeners": "CLIENT://127.0.0.1:0"},
     "listeners", "no security protocol defined for listener CLIENT"),
    ({"listeners": "CLIENT://127.0.0.1:0", "listener.security.protocol.map": "CLIENT:TLS"},
     "listener.security.protocol.map", "unknown security protocol 'TLS'"),
    ({"listeners": "PLAINTEXT://127.0.0.1:0",
      "advertised.listeners": "PLAINTEXT://h:1,OTHER://h:2"},
     "advertised.listeners", "Found OTHER"),
    ({"listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
      "advertised.listeners": "PLAINTEXT://h:1"},
     "advertised.listeners", "SASL_PLAINTEXT"),
])
def test_bad_configs_name_the_key(overrides, key, part):
    out = start_fails(overrides)
    assert key in out and part in out, out
