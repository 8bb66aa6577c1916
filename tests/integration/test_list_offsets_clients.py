# SPDX-License-Identifier: Apache-2.0
"""Offsets and producer state over many partitions, as clients and tools ask
for them (run with SPILLWAY_TEST_BACKEND=kafka to check against Kafka 3.9):
DescribeProducers v0 on the wire and through kafka-transactions.sh
describe-producers, kafka-get-offsets.sh (GetOffsetShell) with --time
-1/-2/-3/<timestamp> over many partitions, and offsets_for_times for every
partition of 3 topics x 8 partitions at once from librdkafka
(confluent-kafka-python) and the Java consumer (java/SpillwayOffsets.java)."""
import json
import re
import subprocess
import time

import pytest

import kwire as k
from conftest import HERE, JAVA_OPTS, backend_name, java_classpath
from krecords import record_batch

DESCRIBE_PRODUCERS, DELETE_RECORDS = 61, 21
TIMEOUT = 120
TOPICS, PARTS = 3, 8
UNKNOWN_MSG = "This server does not host this topic-partition."

k.FLEXIBLE_FROM.setdefault(DESCRIBE_PRODUCERS, 0)
k.FLEXIBLE_FROM.setdefault(DELETE_RECORDS, 2)


# ---- wire helpers ----

def produce(broker, topic, partition, batch, acks=-1):
    body = k.produce_body(7, [(topic, [(partition, batch)])], acks=acks)
    out = k.parse_produce(7, k.call(broker, k.PRODUCE, 7, body, timeout=30))
    assert out[0][2] == 0, out
    return out[0][3]


def describe_producers(broker, topics):
    """topics: [(name, [partition])]. The whole response as
    [(topic, [(partition, error, message, sorted producers)])], a producer
    being (id, epoch, last sequence, last timestamp, coordinator epoch,
    transaction start). Kafka lists producers in its hash map's order:
    sorted here."""
    w = k.Writer(True)
    w.arr(len(topics))
    for name, parts in topics:
        w.str(name).arr(len(parts))
        for p in parts:
            w.i32(p)
        w.tags()
    w.tags()
    r = k.call(broker, DESCRIBE_PRODUCERS, 0, w.b, timeout=60)
    r.i32()                                 # throttle
    out = []
    for _ in range(r.arr()):
        name, parts = r.str(), []
        for _ in range(r.arr()):
            idx, err, msg, prods = r.i32(), r.i16(), r.str(), []
            for _ in range(r.arr()):
                prods.append((r.i64(), r.i32(), r.i32(), r.i64(), r.i32(), r.i64()))
                r.tags()
            r.tags()
            parts.append((idx, err, msg, sorted(prods)))
        r.tags()
        out.append((name, parts))
    r.tags()
    r.end("DescribeProducers")
    return out


def delete_records(broker, topic, partition, offset):
    w = k.Writer(True)
    w.topics([(topic, [(partition, offset)])], lambda p: w.i32(p[0]).i64(p[1]))
    w.i32(30000).tags()
    r = k.call(broker, DELETE_RECORDS, 2, w.b, timeout=60)
    r.i32(), r.arr(), r.str(), r.arr()
    _, low, err = r.i32(), r.i64(), r.i16()
    assert (low, err) == (offset, 0), (low, err)


# ---- data: 3 topics x 8 partitions with known timestamps ----

def fill(broker):
    """Creates TOPICS topics of PARTS partitions; partition (t, p) gets
    4 + (t * PARTS + p) % 9 records in two batches, record i at timestamp
    base + t * 100000 + p * 1000 + i * 10. Returns (names, {(name, p):
    [timestamps]})."""
    names = k.make_topics(broker, "lo", TOPICS, PARTS)
    base = (int(time.time() * 1000) - 3_600_000) // 1000 * 1000
    data = {}
    for ti, name in enumerate(names):
        for p in range(PARTS):
            n = 4 + (ti * PARTS + p) % 9
            ts = [base + ti * 100_000 + p * 1000 + i * 10 for i in range(n)]
            half = (n + 1) // 2
            produce(broker, name, p, record_batch([b"a"] * half, ts[0], 10), acks=1)
            produce(broker, name, p, record_batch([b"b"] * (n - half), ts[half], 10), acks=1)
            data[(name, p)] = ts
    return names, data


def targets(data):
    """Per partition a timestamp to look up and the answer expected: just
    before record j (its offset j), or after the last record (none: -1)."""
    out = {}
    for n, ((name, p), ts) in enumerate(sorted(data.items())):
        j = n % (len(ts) + 1)
        if j < len(ts):
            out[(name, p)] = (ts[j] - 5, j, ts[j])
        else:
            out[(name, p)] = (ts[-1] + 1, -1, -1)
    return out


# ---- DescribeProducers ----

def test_describe_producers_wire(broker):
    """Several topics and partitions in one request: each partition's
    producers (id, epoch, last sequence, last batch's max timestamp,
    coordinator epoch and transaction start -1), and the errors in Kafka's
    order and wording; a topic listed twice answers twice."""
    b = broker.bootstrap
    t0, t1, t2 = k.make_topics(broker, "dp", 3, 4)
    (pa, ea), (pb, eb) = k.init_producer_id(b), k.init_producer_id(b)
    now = int(time.time() * 1000) // 1000 * 1000
    idem = lambda pid, ep, seq, n, ts: record_batch(  # noqa: E731
        [b"x"] * n, ts, 7, producer_id=pid, producer_epoch=ep, base_sequence=seq)
    produce(broker, t0, 0, idem(pa, ea, 0, 5, now - 9000))
    produce(broker, t0, 0, idem(pa, ea, 5, 3, now - 8000))
    produce(broker, t0, 1, idem(pa, ea, 0, 2, now - 7000))
    produce(broker, t0, 1, idem(pb, eb, 0, 4, now - 6000))
    produce(broker, t1, 2, idem(pb, eb, 0, 1, now - 5000))
    produce(broker, t2, 0, record_batch([b"plain"], now - 4000))
    bad = "bad/name"
    got = describe_producers(broker, [
        (t0, [0, 1, 2, 9]), (t1, [2, 0]), (t2, [0]), ("lo-no-such-topic", [0, 1]),
        (bad, [0]), (t0, [1]), (t1, [])])
    st = lambda pid, ep, last, ts: (pid, ep, last, ts, -1, -1)  # noqa: E731
    t0p1 = (1, 0, None, sorted([st(pa, ea, 1, now - 7000 + 7), st(pb, eb, 3, now - 6000 + 21)]))
    assert got == [
        (t0, [(0, 0, None, [st(pa, ea, 7, now - 8000 + 14)]), t0p1,
              (2, 0, None, []), (9, k.UNKNOWN_TOPIC_OR_PARTITION, None, [])]),
        (t1, [(2, 0, None, [st(pb, eb, 0, now - 5000)]), (0, 0, None, [])]),
        (t2, [(0, 0, None, [])]),
        ("lo-no-such-topic", [(0, k.UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_MSG, []),
                              (1, k.UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_MSG, [])]),
        (bad, [(0, k.INVALID_TOPIC_EXCEPTION,
                f"Topic name is invalid: '{bad}' contains one or more characters other "
                "than ASCII alphanumerics, '.', '_' and '-'", [])]),
        (t0, [t0p1]),
        (t1, []),
    ], got


def test_describe_producers_survives_restart(broker_factory):
    """The producer state DescribeProducers reports is the same after a
    graceful restart (snapshots) and after kill -9 (rebuilt from the log)."""
    b = broker_factory()
    t0, t1 = k.make_topics(b, "dpr", 2, 2)
    (pa, ea), (pb, eb) = k.init_producer_id(b.bootstrap), k.init_producer_id(b.bootstrap)
    now = int(time.time() * 1000) // 1000 * 1000
    for seq, n in ((0, 3), (3, 4), (7, 2)):
        produce(b, t0, 0, record_batch([b"s"] * n, now + seq, 3, producer_id=pa,
                                       producer_epoch=ea, base_sequence=seq))
    produce(b, t0, 1, record_batch([b"s"], now, producer_id=pb, producer_epoch=eb,
                                   base_sequence=0))
    produce(b, t1, 1, record_batch([b"s"] * 2, now + 50, 1, producer_id=pb,
                                   producer_epoch=eb, base_sequence=0))
    ask = [(t0, [0, 1]), (t1, [0, 1])]
    before = describe_producers(b, ask)
    st = lambda pid, ep, last, ts: [(pid, ep, last, ts, -1, -1)]  # noqa: E731
    assert before == [(t0, [(0, 0, None, st(pa, ea, 8, now + 10)),
                            (1, 0, None, st(pb, eb, 0, now))]),
                      (t1, [(0, 0, None, []), (1, 0, None, st(pb, eb, 1, now + 51))])], before
    b.restart()
    k.wait_for_leaders(b, [t0, t1])
    assert describe_producers(b, ask) == before
    b.kill()
    b.start()
    k.wait_for_leaders(b, [t0, t1])
    assert describe_producers(b, ask) == before


def test_describe_producers_no_leak(broker_factory, monkeypatch):
    """The producer lists storage hands the core are freed with their
    request: a broker under LeakSanitizer answers DescribeProducers for
    partitions with producers and stops with no leak report."""
    if backend_name() != "spillway":
        pytest.skip("spillway's own exit")
    monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=1")
    b = broker_factory()
    (t,) = k.make_topics(b, "dpleak", 1, 4)
    now = int(time.time() * 1000)
    for p in range(4):
        for _ in range(p):
            pid, ep = k.init_producer_id(b.bootstrap)
            produce(b, t, p, record_batch([b"l"], now, producer_id=pid, producer_epoch=ep,
                                          base_sequence=0))
    for _ in range(5):
        got = describe_producers(b, [(t, [0, 1, 2, 3, 3])])
        assert [len(x[3]) for x in got[0][1]] == [0, 1, 2, 3, 3], got
    b.stop()
    log = b.log_path.read_text(errors="replace")
    assert "LeakSanitizer" not in log, log[-4000:]
    assert b.proc.returncode == 0, log[-2000:]


def tool(cls, *args):
    cmd = ["java", *JAVA_OPTS, "-cp", java_classpath(with_classes=False),
           f"org.apache.kafka.tools.{cls}", *args]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, f"{cls} {args}: rc={r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def test_kafka_transactions_describe_producers(broker):
    """kafka-transactions.sh describe-producers: one row per producer of
    the partition, and none for a partition without producers."""
    b = broker.bootstrap
    (t,) = k.make_topics(broker, "dpcli", 1, 2)
    pids = [k.init_producer_id(b) for _ in range(3)]
    now = int(time.time() * 1000) // 1000 * 1000
    for i, (pid, ep) in enumerate(pids):
        batch = record_batch([b"r"] * (i + 2), now - 1000 * i, 1, producer_id=pid,
                             producer_epoch=ep, base_sequence=0)
        produce(broker, t, 0, batch)
    out = tool("TransactionsCommand", "--bootstrap-server", b, "describe-producers",
               "--topic", t, "--partition", "0")
    lines = [ln.split() for ln in out.strip().splitlines()]
    assert lines[0] == ["ProducerId", "ProducerEpoch", "LatestCoordinatorEpoch",
                        "LastSequence", "LastTimestamp", "CurrentTransactionStartOffset"], out
    rows = sorted(tuple(int(x) if re.fullmatch(r"-?\d+", x) else x for x in ln)
                  for ln in lines[1:])
    want = sorted((pid, ep, -1, i + 1, now - 1000 * i + i + 1, "None")
                  for i, (pid, ep) in enumerate(pids))
    assert rows == want, out
    out = tool("TransactionsCommand", "--bootstrap-server", b, "describe-producers",
               "--topic", t, "--partition", "1")
    assert out.strip().splitlines()[1:] == [], out


# ---- kafka-get-offsets.sh ----

def get_offsets(b, spec, time_arg):
    out = tool("GetOffsetShell", "--bootstrap-server", b, "--topic-partitions", spec,
               "--time", str(time_arg))
    got = {}
    for ln in out.strip().splitlines():
        name, p, off = ln.rsplit(":", 2)
        got[(name, int(p))] = int(off) if off else None
    return got


def test_get_offset_shell(broker):
    """GetOffsetShell over 24 partitions: latest, earliest (after
    DeleteRecords moved some starts up), max timestamp and a timestamp."""
    b = broker.bootstrap
    names, data = fill(broker)
    starts = {}
    for ti, name in enumerate(names):
        for p in range(0, PARTS, 3):
            starts[(name, p)] = 1 + (ti + p) % 3
            delete_records(broker, name, p, starts[(name, p)])
    spec = ",".join(f"{n}:0-" for n in names)
    assert get_offsets(b, spec, -1) == {tp: len(ts) for tp, ts in data.items()}
    assert get_offsets(b, spec, -2) == {tp: starts.get(tp, 0) for tp in data}
    assert get_offsets(b, spec, -3) == {tp: len(ts) - 1 for tp, ts in data.items()}
    # One timestamp for all: each partition answers its first record at or
    # after it (none: printed without an offset).
    mid = data[(names[1], 4)][2] - 3
    want = {}
    for tp, ts in data.items():
        first = next((i for i, v in enumerate(ts) if v >= mid), None)
        if first is not None:
            first = max(first, starts.get(tp, 0))
        want[tp] = first
    got = get_offsets(b, spec, mid)
    assert {tp: v for tp, v in got.items() if v is not None} == \
        {tp: v for tp, v in want.items() if v is not None}, got
    # A partition range of one topic (its upper bound excluded).
    assert get_offsets(b, f"{names[2]}:2-4", -1) == \
        {(names[2], p): len(data[(names[2], p)]) for p in (2, 3)}


# ---- offsets_for_times over many partitions ----

def test_offsets_for_times_librdkafka(broker):
    """confluent-kafka-python's offsets_for_times (librdkafka) for all 24
    partitions in one call: each partition's offset, -1 where no record
    is as late."""
    from confluent_kafka import Consumer, TopicPartition
    names, data = fill(broker)
    want = targets(data)
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "lo-oft",
                  "enable.auto.commit": False})
    try:
        res = c.offsets_for_times([TopicPartition(n, p, want[(n, p)][0])
                                   for (n, p) in sorted(want)], timeout=60)
    finally:
        c.close()
    assert len(res) == len(want)
    got = {}
    for tp in res:
        assert tp.error is None, tp
        got[(tp.topic, tp.partition)] = tp.offset
    assert got == {tp: w[1] for tp, w in want.items()}, got


def test_offsets_for_times_java(broker):
    """The Java consumer's offsetsForTimes for all 24 partitions at once:
    each offset and its record's timestamp, null where none."""
    names, data = fill(broker)
    want = targets(data)
    args = [f"{n}:{p}:{want[(n, p)][0]}" for (n, p) in sorted(want)]
    cmd = ["java", *JAVA_OPTS, "-cp", java_classpath(with_classes=False),
           str(HERE / "java" / "SpillwayOffsets.java"), broker.bootstrap, *args]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, f"rc={r.returncode}\n{r.stdout}\n{r.stderr}"
    got = {}
    for ln in r.stdout.strip().splitlines():
        d = json.loads(ln)
        got[(d["t"], d["p"])] = (d["o"], d["ts"]) if d["o"] is not None else (-1, -1)
    assert got == {tp: (w[1], w[2]) for tp, w in want.items()}, r.stdout

