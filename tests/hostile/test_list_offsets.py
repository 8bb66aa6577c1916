# SPDX-License-Identifier: Apache-2.0
"""Issue 11, item 5: a response must never be silently truncated. ListOffsets
v1-3 naming several partitions was answered for the first one only, so
librdkafka's offsets_for_times() ("Protocol read buffer underflow for
ListOffsets v2") and kafka-python's end_offsets() ("Unable to decode")
failed. How: 52 partitions over four topics, each with its own record count
and timestamps one second apart; raw ListOffsets at every version 1-7
(latest, earliest, by time, and at v7 max timestamp) decoded strictly (a
short or over-long body fails), beside the bystander; then the same
questions through librdkafka, kafka-python and the Java consumer."""
import json
import os
import shutil
import subprocess
import time

import pytest

import kwire
import spwbroker
from conftest import HERE, create_topic

TOPICS = {"lo-a": 4, "lo-b": 3, "lo-c": 5, "lo-d": 40}
T0 = (int(time.time()) - 3600) * 1000
TQ = T0 + 1500              # the first record at or after it is the third
LATEST, EARLIEST, MAX_TIMESTAMP = -1, -2, -3


def count(ti, p):
    return 3 + p % 5 + 3 * ti


def partitions():
    return [(t, p) for t, n in TOPICS.items() for p in range(n)]


def fill(bootstrap):
    """Creates the topics (unless there) and writes count() records to each
    partition, timestamps T0, T0 + 1 s, ..."""
    topics = []
    for ti, (t, n) in enumerate(TOPICS.items()):
        topics.append((t, [(p, kwire.record_batch([b"v%d" % i for i in range(count(ti, p))],
                                                 T0, 1000)) for p in range(n)]))
    got = kwire.parse_produce(7, kwire.call(bootstrap, kwire.PRODUCE, 7,
                                            kwire.produce_body(7, topics, acks=-1)))
    assert len(got) == len(partitions()) and all(e == 0 for _, _, e, _, _ in got), got


def expected(ts):
    """{(topic, partition): offset} the broker must answer for ts."""
    out = {}
    for ti, (t, n) in enumerate(TOPICS.items()):
        for p in range(n):
            c = count(ti, p)
            out[(t, p)] = {LATEST: c, EARLIEST: 0, MAX_TIMESTAMP: c - 1, TQ: 2}[ts]
    return out


def ask(bootstrap, version, ts):
    topics = [(t, [(p, ts, -1) for p in range(n)]) for t, n in TOPICS.items()]
    data = kwire.call(bootstrap, kwire.LIST_OFFSETS, version,
                      kwire.list_offsets_body(version, topics))
    return kwire.parse_list_offsets(version, data)


def test_list_offsets_every_version_raw(hostile):
    h = hostile(topics=TOPICS)
    fill(h.bootstrap)
    with h.phase("attack"):
        for version in range(1, 8):
            for ts in (LATEST, EARLIEST, TQ) + ((MAX_TIMESTAMP,) if version >= 7 else ()):
                label = f"v{version} ts={ts}"
                try:
                    got = ask(h.bootstrap, version, ts)
                except Exception as e:      # struct.error, OSError, ValueError
                    h.check(False, f"{label}: response undecodable: {e}")
                    continue
                answered = {(t, p): (err, off) for t, p, err, _ts, off, _epoch in got}
                h.check(len(got) == len(answered) == len(partitions()),
                        f"{label}: {len(got)} partitions answered of {len(partitions())}")
                want = expected(ts)
                wrong = {k: answered.get(k) for k in want if answered.get(k) != (0, want[k])}
                h.check(not wrong, f"{label}: {len(wrong)} wrong, e.g. "
                                   f"{dict(list(wrong.items())[:3])} (want error 0 and "
                                   f"{[want[k] for k in list(wrong)[:3]]})")
    h.finish()


# -- through clients: one broker for the module, no bystander ----------------

@pytest.fixture(scope="module")
def filled_broker():
    if os.environ.get("SPILLWAY_TEST_BACKEND", "spillway") != "spillway":
        pytest.skip("the hostile suite starts Spillway itself")
    b = spwbroker.Broker().start()
    try:
        for t, n in TOPICS.items():
            create_topic(b.bootstrap, t, n)
        fill(b.bootstrap)
        yield b
    finally:
        b.cleanup()


def want_by_name(ts):
    return {f"{t}:{p}": off for (t, p), off in expected(ts).items()}


def test_librdkafka_offsets_for_times(filled_broker):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": filled_broker.bootstrap, "group.id": "hostile-lo",
                  "enable.auto.commit": False})
    try:
        for ts in (TQ, LATEST, EARLIEST):
            got = c.offsets_for_times([TopicPartition(t, p, ts) for t, p in partitions()],
                                      timeout=20)
            have = {f"{tp.topic}:{tp.partition}": tp.offset for tp in got}
            errs = [(tp.topic, tp.partition, str(tp.error)) for tp in got if tp.error]
            assert not errs, f"ts={ts}: {errs[:3]}"
            assert have == want_by_name(ts), f"ts={ts}"
    finally:
        c.close()


def test_kafka_python_end_offsets(filled_broker):
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=filled_broker.bootstrap, request_timeout_ms=20000)
    try:
        tps = [TopicPartition(t, p) for t, p in partitions()]
        name = lambda m: {f"{tp.topic}:{tp.partition}": v for tp, v in m.items()}
        assert name(c.end_offsets(tps)) == want_by_name(LATEST)
        assert name(c.beginning_offsets(tps)) == want_by_name(EARLIEST)
        times = c.offsets_for_times({tp: TQ for tp in tps})
        assert {k: v.offset for k, v in name(times).items()} == want_by_name(TQ)
    finally:
        c.close()


@pytest.fixture(scope="module")
def java_offsets(tmp_path_factory):
    cp = spwbroker.it.java_classpath(with_classes=False)
    if shutil.which("javac") is None:
        spwbroker.client_missing("javac not installed")
    out = tmp_path_factory.mktemp("java")
    r = subprocess.run(["javac", "-nowarn", "-d", str(out), "-cp", cp,
                        str(HERE / "java" / "HostileOffsets.java")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return ["java", *spwbroker.it.JAVA_OPTS, "-cp", f"{cp}:{out}", "HostileOffsets"]


def test_java_consumer_offsets(filled_broker, java_offsets):
    r = subprocess.run(java_offsets + [filled_broker.bootstrap, str(TQ)] +
                       [f"{t}:{p}" for t, p in partitions()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["end"] == want_by_name(LATEST)
    assert got["beginning"] == want_by_name(EARLIEST)
    assert got["times"] == want_by_name(TQ)
