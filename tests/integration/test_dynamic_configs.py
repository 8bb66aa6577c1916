# SPDX-License-Identifier: Apache-2.0
"""Dynamic configuration: AlterConfigs and IncrementalAlterConfigs for topics
and for the broker's dynamic keys (this broker and the cluster default),
driven by Kafka's kafka-configs tool (kafka.admin.ConfigCommand, 3.9.1),
confluent-kafka-python (librdkafka: Debian's 2.0.2 for AlterConfigs, 2.6 from
PyPI for IncrementalAlterConfigs) and raw requests; answers as Kafka's."""
import json
import re
import subprocess
import time

import pytest

import kwire as k
import scenarios as s
from conftest import JAVA_OPTS, REPO, backend_name, unique_topic

P = "dyncfg"
TIMEOUT = 90
T, BR = k.RESOURCE_TOPIC, k.RESOURCE_BROKER
SRC_TOPIC, SRC_BROKER, SRC_DEFAULT, SRC_STATIC, SRC_KAFKA = 1, 2, 3, 4, 5


@pytest.fixture(scope="module")
def cp():
    libs = REPO / ".cache" / "kafka" / "libs"
    if not (libs / "kafka_2.13-3.9.1.jar").exists():
        pytest.skip(f"Kafka 3.9.1 jars missing in {libs} (kafka-ref.sh fetch)")
    return f"{libs}/*"


def kc(cp, bootstrap, *args, ok=True):
    """kafka-configs.sh: (returncode, stdout + stderr)."""
    cmd = ["java", *JAVA_OPTS, "-cp", cp, "kafka.admin.ConfigCommand",
           "--bootstrap-server", bootstrap, *args]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=TIMEOUT)
    out = r.stdout + r.stderr
    if ok:
        assert r.returncode == 0, f"kafka-configs {args}: rc={r.returncode}\n{out}"
    else:
        assert r.returncode != 0, f"kafka-configs {args} should fail:\n{out}"
    return out


def describe(b, rtype, name, keys=None):
    """{key: (value, source, [(synonym, value, source)])} with synonyms."""
    w = k.Writer(False)
    w.arr(1).i8(rtype).str(name)
    if keys is None:
        w.arr(None)
    else:
        w.arr(len(keys))
        for key in keys:
            w.str(key)
    w.bool(True)
    r = k.roundtrip(b, k.DESCRIBE_CONFIGS, 1, w.b)
    r.i32()
    assert r.arr() == 1
    err, msg = r.i16(), r.str()
    r.i8(), r.str()
    assert err == 0, (err, msg)
    out = {}
    for _ in range(max(r.arr(), 0)):
        key, value, _ro, src, _sens = r.str(), r.str(), r.bool(), r.i8(), r.bool()
        out[key] = (value, src, [(r.str(), r.str(), r.i8()) for _ in range(r.arr())])
    return out


def create(b, *names, parts=1):
    res = k.create_topics(b, [(n, parts) for n in names])
    assert all(e == 0 for _, e, *_ in res), res
    k.wait_for_leaders(b, list(names))


def test_cli_topics(cp, broker):
    b = broker.bootstrap
    t1, t2 = unique_topic(P), unique_topic(P)
    create(broker, t1, t2)
    kc(cp, b, "--entity-type", "topics", "--entity-name", t1, "--alter",
       "--add-config", "retention.ms=3600000,cleanup.policy=[delete,compact]")
    kc(cp, b, "--entity-type", "topics", "--entity-name", t2, "--alter",
       "--add-config", "max.message.bytes=2000000")

    def check():
        d = describe(broker, T, t1, ["retention.ms", "cleanup.policy", "segment.bytes"])
        assert d["retention.ms"][:2] == ("3600000", SRC_TOPIC), d
        assert d["cleanup.policy"][:2] == ("delete,compact", SRC_TOPIC), d
        assert d["segment.bytes"][1] == SRC_KAFKA, d
        assert describe(broker, T, t2, ["max.message.bytes"])["max.message.bytes"][:2] == \
            ("2000000", SRC_TOPIC)
    s.eventually(check)
    out = kc(cp, b, "--entity-type", "topics", "--entity-name", t1, "--describe")
    assert "retention.ms=3600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:" \
           "retention.ms=3600000}" in out, out
    kc(cp, b, "--entity-type", "topics", "--entity-name", t1, "--alter",
       "--delete-config", "retention.ms")
    s.eventually(lambda: _assert_eq(
        describe(broker, T, t1, ["retention.ms"])["retention.ms"][1], SRC_KAFKA))
    out = kc(cp, b, "--entity-type", "topics", "--entity-name", t1, "--alter",
             "--add-config", "retention.ms=abc", ok=False)
    assert "Invalid value abc for configuration retention.ms: Not a number of type LONG" \
        in out, out
    out = kc(cp, b, "--entity-type", "topics", "--entity-name", t1, "--alter",
             "--add-config", "no.such.config=1", ok=False)
    assert "Unknown topic config name: no.such.config" in out, out


def _assert_eq(a, b):
    assert a == b, (a, b)


def test_cli_brokers(cp, broker):
    b = broker.bootstrap
    t = unique_topic(P)
    create(broker, t)
    kc(cp, b, "--entity-type", "brokers", "--entity-default", "--alter",
       "--add-config", "log.retention.ms=7200000,log.segment.bytes=20000000")
    kc(cp, b, "--entity-type", "brokers", "--entity-name", "1", "--alter",
       "--add-config", "log.retention.ms=3600000")

    def check():
        d = describe(broker, BR, "1", ["log.retention.ms", "log.segment.bytes"])
        assert d["log.retention.ms"][:2] == ("3600000", SRC_BROKER), d
        assert d["log.retention.ms"][2][:2] == [("log.retention.ms", "3600000", SRC_BROKER),
                                                ("log.retention.ms", "7200000", SRC_DEFAULT)], d
        assert d["log.segment.bytes"][:2] == ("20000000", SRC_DEFAULT), d
        dd = describe(broker, BR, "")
        assert dd["log.retention.ms"][:2] == ("7200000", SRC_DEFAULT), dd
        assert dd["log.segment.bytes"][:2] == ("20000000", SRC_DEFAULT), dd
        # Topics without an override inherit the dynamic values.
        td = describe(broker, T, t, ["retention.ms", "segment.bytes"])
        assert td["retention.ms"][:2] == ("3600000", SRC_BROKER), td
        assert td["segment.bytes"][:2] == ("20000000", SRC_DEFAULT), td
    s.eventually(check)
    out = kc(cp, b, "--entity-type", "brokers", "--entity-name", "1", "--describe")
    assert re.search(r"log\.retention\.ms=3600000 sensitive=false synonyms=\{"
                     r"DYNAMIC_BROKER_CONFIG:log\.retention\.ms=3600000, "
                     r"DYNAMIC_DEFAULT_BROKER_CONFIG:log\.retention\.ms=7200000", out), out
    out = kc(cp, b, "--entity-type", "brokers", "--entity-default", "--describe")
    assert "log.segment.bytes=20000000" in out, out
    out = kc(cp, b, "--entity-type", "brokers", "--entity-name", "1", "--alter",
             "--add-config", "num.partitions=3", ok=False)
    assert "Cannot update these configs dynamically: Set(num.partitions)" in out, out
    out = kc(cp, b, "--entity-type", "brokers", "--entity-default", "--alter",
             "--add-config", "log.segment.bytes=1", ok=False)
    assert "Invalid value 1 for configuration log.segment.bytes: Value must be at least 14" \
        in out, out
    kc(cp, b, "--entity-type", "brokers", "--entity-name", "1", "--alter",
       "--delete-config", "log.retention.ms")
    kc(cp, b, "--entity-type", "brokers", "--entity-default", "--alter",
       "--delete-config", "log.retention.ms,log.segment.bytes")
    s.eventually(lambda: _assert_eq(
        describe(broker, T, t, ["retention.ms"])["retention.ms"][1], SRC_KAFKA))


def test_many_resources_one_request(broker):
    t1, t2, t3 = unique_topic(P), unique_topic(P), unique_topic(P)
    create(broker, t1, t2, t3)
    missing = unique_topic(P)
    res = k.incremental_alter_configs(broker, [
        (T, t1, [("retention.ms", k.OP_SET, "1000000"),
                 ("cleanup.policy", k.OP_APPEND, "compact")]),
        (T, t2, [("retention.ms", k.OP_APPEND, "1")]),
        (T, missing, [("retention.ms", k.OP_SET, "1")]),
        (T, t3, [("segment.bytes", k.OP_SET, "abc")]),
        (BR, "1", [("num.partitions", k.OP_SET, "2"), ("log.dirs", k.OP_SET, "/x")]),
        (BR, "7", [("log.retention.ms", k.OP_SET, "1")]),
        (T, t3 + "x", [("retention.ms", k.OP_SET, None)]),
        (T, "", [("retention.ms", k.OP_SET, "1")]),
        (3, "x", [("a", k.OP_SET, "1")]),
    ])
    assert res == [
        (0, None, T, t1),
        (40, "Can't APPEND to key retention.ms because its type is not LIST.", T, t2),
        (3, f"The topic '{missing}' does not exist.", T, missing),
        (40, "Invalid value abc for configuration segment.bytes: Not a number of type INT",
         T, t3),
        (42, "Cannot update these configs dynamically: Set(num.partitions, log.dirs)", BR,
         "1"),
        (42, "Unexpected broker id, expected 1, but received 7", BR, "7"),
        (42, "Null value not supported for : retention.ms", T, t3 + "x"),
        (42, "Default topic resources are not allowed.", T, ""),
        (42, "Unknown resource type 3", 3, "x"),
    ], res

    def check():
        d = describe(broker, T, t1, ["retention.ms", "cleanup.policy"])
        assert d["retention.ms"][:2] == ("1000000", SRC_TOPIC), d
        assert d["cleanup.policy"][:2] == ("delete,compact", SRC_TOPIC), d
    s.eventually(check)
    # validate_only checks everything and changes nothing.
    assert k.incremental_alter_configs(broker, [(T, t2, [("retention.ms", k.OP_SET, "5")])],
                                       validate_only=True) == [(0, None, T, t2)]
    # AlterConfigs replaces the whole set: t1 keeps only segment.ms.
    assert k.alter_configs(broker, [(T, t1, [("segment.ms", "100000")]),
                                    (T, t2, [("retention.ms", "x")])]) == [
        (0, None, T, t1),
        (40, "Invalid value x for configuration retention.ms: Not a number of type LONG",
         T, t2)]

    def replaced():
        d = describe(broker, T, t1, ["retention.ms", "segment.ms", "cleanup.policy"])
        assert d["segment.ms"][:2] == ("100000", SRC_TOPIC), d
        assert d["retention.ms"][1] == SRC_KAFKA and d["cleanup.policy"][1] == SRC_KAFKA, d
        assert describe(broker, T, t2, ["retention.ms"])["retention.ms"][1] == SRC_KAFKA
    s.eventually(replaced)


def test_list_ops(broker):
    t = unique_topic(P)
    create(broker, t)
    ops = [("cleanup.policy", k.OP_SUBTRACT, "compact")]
    assert k.incremental_alter_configs(broker, [(T, t, ops)]) == [(0, None, T, t)]
    s.eventually(lambda: _assert_eq(
        describe(broker, T, t, ["cleanup.policy"])["cleanup.policy"][:2], ("delete", SRC_TOPIC)))
    ops = [("cleanup.policy", k.OP_APPEND, "delete,compact")]
    assert k.incremental_alter_configs(broker, [(T, t, ops)]) == [(0, None, T, t)]
    s.eventually(lambda: _assert_eq(
        describe(broker, T, t, ["cleanup.policy"])["cleanup.policy"][0], "delete,compact"))
    ops = [("cleanup.policy", k.OP_SUBTRACT, "delete")]
    assert k.incremental_alter_configs(broker, [(T, t, ops)]) == [(0, None, T, t)]
    s.eventually(lambda: _assert_eq(
        describe(broker, T, t, ["cleanup.policy"])["cleanup.policy"][0], "compact"))
    res = k.incremental_alter_configs(broker, [(BR, "", [("log.retention.ms", k.OP_APPEND, "1")])])
    assert res == [(40, "Config value append is not allowed for config key: log.retention.ms",
                    BR, "")], res


@pytest.mark.skipif(backend_name() == "kafka",
                    reason="Kafka 3.9 never answers a request naming a resource twice")
def test_duplicate_resources(broker):
    t = unique_topic(P)
    create(broker, t)
    res = k.alter_configs(broker, [(T, t, [("retention.ms", "1")]),
                                   (T, t, [("retention.ms", "2")])])
    assert res == [(42, "Each resource must appear at most once.", T, t)] * 2, res


def test_confluent_kafka_alter_configs(broker):
    """librdkafka's AlterConfigs (confluent-kafka-python 1.7; its librdkafka
    has no IncrementalAlterConfigs): several resources in one request."""
    ck = pytest.importorskip("confluent_kafka")
    from confluent_kafka.admin import AdminClient, ConfigResource
    t1, t2 = unique_topic(P), unique_topic(P)
    create(broker, t1, t2)
    a = AdminClient({"bootstrap.servers": broker.bootstrap})
    fs = a.alter_configs([
        ConfigResource("topic", t1, set_config={"retention.ms": "4000000",
                                                "cleanup.policy": "compact"}),
        ConfigResource("topic", t2, set_config={"segment.bytes": "5000000"}),
        ConfigResource("broker", "1", set_config={"message.max.bytes": "2000000"}),
    ])
    for f in fs.values():
        f.result(timeout=30)
    bad = a.alter_configs([ConfigResource("topic", t1, set_config={"retention.ms": "x"})])
    with pytest.raises(ck.KafkaException) as e:
        list(bad.values())[0].result(timeout=30)
    assert "Not a number of type LONG" in str(e.value), e.value

    def check():
        got = a.describe_configs([ConfigResource("topic", t1), ConfigResource("topic", t2),
                                  ConfigResource("broker", "1")])
        c1, c2, cb = (f.result(timeout=30) for f in got.values())
        assert c1["retention.ms"].value == "4000000", c1["retention.ms"]
        assert c1["cleanup.policy"].value == "compact", c1["cleanup.policy"]
        assert c2["segment.bytes"].value == "5000000", c2["segment.bytes"]
        assert cb["message.max.bytes"].value == "2000000", cb["message.max.bytes"]
        assert cb["message.max.bytes"].source == SRC_BROKER
    s.eventually(check)
    # The broker's whole dynamic set is replaced: none left.
    for f in a.alter_configs([ConfigResource("broker", "1", set_config={})]).values():
        f.result(timeout=30)
    s.eventually(lambda: _assert_eq(
        describe(broker, BR, "1", ["message.max.bytes"])["message.max.bytes"][1], SRC_KAFKA))


CK2 = REPO / ".cache" / "integration" / "py-ck2"
CK2_DRIVER = REPO / "tests" / "integration" / "clients" / "ck2_incremental_alter.py"


def test_librdkafka_incremental_alter_configs(broker):
    """librdkafka's IncrementalAlterConfigs (confluent-kafka 2.6 from PyPI,
    its own process): SET / APPEND on a topic and SET on the broker in one
    call, read back as dynamic; DELETE / SUBTRACT take them back to Kafka's
    defaults; APPEND on a non-list key is INVALID_CONFIG."""
    if not (CK2 / "confluent_kafka").is_dir():
        pytest.skip("confluent-kafka 2.x not installed (tests/integration/setup.sh)")
    topic = unique_topic(P)
    create(broker, topic)
    r = subprocess.run(["/usr/bin/python3", str(CK2_DRIVER), broker.bootstrap, topic, "1"],
                       env={"PYTHONPATH": str(CK2), "PATH": "/usr/bin:/bin"},
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["set"] == {topic: "ok", "1": "ok"}, got
    src_topic, src_broker = SRC_TOPIC, SRC_BROKER
    assert got["after_set"] == {
        "retention.ms": ["4000000", src_topic], "cleanup.policy": ["delete,compact", src_topic],
        "segment.bytes": ["5000000", src_topic],
        "log.retention.bytes": ["7000000000", src_broker]}, got
    assert got["unset"] == {topic: "ok", "1": "ok"}, got
    after = got["after_unset"]
    assert after["retention.ms"] == ["604800000", SRC_KAFKA], got
    assert after["cleanup.policy"] == ["compact", src_topic], got
    assert after["segment.bytes"] == ["5000000", src_topic], got
    assert after["log.retention.bytes"] == ["-1", SRC_KAFKA], got
    assert got["bad"] == {topic: "INVALID_CONFIG"}, got


def _produce(b, topic, n, size):
    ck = pytest.importorskip("confluent_kafka")
    p = ck.Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0,
                     "batch.num.messages": 1})
    for i in range(n):
        p.produce(topic, value=b"x" * size, key=str(i).encode())
        p.poll(0)
    assert p.flush(30) == 0


def _low_watermark(b, topic):
    ck = pytest.importorskip("confluent_kafka")
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "dyncfg-wm"})
    try:
        return c.get_watermark_offsets(ck.TopicPartition(topic, 0), timeout=10)
    finally:
        c.close()


def test_retention_change_applies_live_and_survives_restart(cp, broker_factory):
    """A retention change made with kafka-configs deletes old segments on the
    next check, without a restart: a topic override (t1) and the cluster
    default its topics inherit (t2); a restart keeps both changes."""
    b = broker_factory({"log.retention.check.interval.ms": "1000"})
    t1, t2 = unique_topic(P), unique_topic(P)
    create(b, t1, t2)
    for t in (t1, t2):
        kc(cp, b.bootstrap, "--entity-type", "topics", "--entity-name", t, "--alter",
           "--add-config", "segment.bytes=16384")
        s.eventually(lambda: _assert_eq(
            describe(b, T, t, ["segment.bytes"])["segment.bytes"][0], "16384"))
        _produce(b, t, 60, 1000)
        assert _low_watermark(b, t) == (0, 60)
    time.sleep(1.5)
    kc(cp, b.bootstrap, "--entity-type", "topics", "--entity-name", t1, "--alter",
       "--add-config", "retention.ms=1000")
    kc(cp, b.bootstrap, "--entity-type", "brokers", "--entity-default", "--alter",
       "--add-config", "log.retention.ms=1000,log.retention.bytes=123456789")

    def trimmed():
        for t in (t1, t2):
            lo, hi = _low_watermark(b, t)
            assert lo > 0 and hi == 60, (t, lo, hi)
    s.eventually(trimmed, timeout=60, interval=1)
    b.restart()
    k.wait_for_leaders(b, [t1, t2])

    def kept():
        d = describe(b, T, t1, ["retention.ms", "segment.bytes", "retention.bytes"])
        assert d["retention.ms"][:2] == ("1000", SRC_TOPIC), d
        assert d["segment.bytes"][:2] == ("16384", SRC_TOPIC), d
        assert d["retention.bytes"][:2] == ("123456789", SRC_DEFAULT), d
        d = describe(b, T, t2, ["retention.ms"])
        assert d["retention.ms"][:2] == ("1000", SRC_DEFAULT), d
    s.eventually(kept)
    assert _low_watermark(b, t2)[0] > 0


def test_message_max_bytes_applies_live(broker_factory):
    ck = pytest.importorskip("confluent_kafka")
    b = broker_factory()
    t = unique_topic(P)
    create(b, t)
    res = k.incremental_alter_configs(b, [(BR, "", [("message.max.bytes", k.OP_SET, "2000")])])
    assert res == [(0, None, BR, "")], res
    p = ck.Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0,
                     "message.max.bytes": 100000, "compression.type": "none"})
    errs = []

    def sent():
        errs.clear()
        p.produce(t, value=b"y" * 5000, on_delivery=lambda err, msg: errs.append(err))
        p.flush(30)
        assert errs and errs[0] is not None and \
            errs[0].code() == ck.KafkaError.MSG_SIZE_TOO_LARGE, errs
    s.eventually(sent)


@pytest.mark.skipif(backend_name() == "kafka", reason="spillway.log.level is Spillway's key")
def test_log_level_applies_live(broker_factory):
    b = broker_factory()
    quiet, loud = unique_topic(P), unique_topic(P)
    res = k.incremental_alter_configs(b, [(BR, "1", [("spillway.log.level", k.OP_SET, "error")])])
    assert res == [(0, None, BR, "1")], res
    assert describe(b, BR, "1", ["spillway.log.level"])["spillway.log.level"][:2] == \
        ("error", SRC_BROKER)
    create(b, quiet)
    res = k.incremental_alter_configs(b, [(BR, "1", [("spillway.log.level", k.OP_DELETE, None)])])
    assert res == [(0, None, BR, "1")], res
    create(b, loud)
    log = b.log_path.read_text()
    assert f"created topic {loud}" in log, log[-2000:]
    assert f"created topic {quiet}" not in log, log[-2000:]


@pytest.mark.parametrize("api,version", [("legacy", 0), ("legacy", 1), ("legacy", 2),
                                         ("incremental", 0), ("incremental", 1)])
def test_every_version(broker, api, version):
    t = unique_topic(P)
    create(broker, t)
    if api == "legacy":
        res = k.alter_configs(broker, [(T, t, [("retention.ms", "2000000")]),
                                       (T, t + "-none", [("retention.ms", "1")])], version)
    else:
        res = k.incremental_alter_configs(
            broker, [(T, t, [("retention.ms", k.OP_SET, "2000000")]),
                     (T, t + "-none", [("retention.ms", k.OP_SET, "1")])], version)
    assert res == [(0, None, T, t),
                   (3, f"The topic '{t}-none' does not exist.", T, t + "-none")], res
    s.eventually(lambda: _assert_eq(
        describe(broker, T, t, ["retention.ms"])["retention.ms"][:2], ("2000000", SRC_TOPIC)))
