# SPDX-License-Identifier: Apache-2.0
"""DeleteRecords (key 21) and DescribeLogDirs (key 35): the wire answers as
Kafka 3.9 gives them (run with SPILLWAY_TEST_BACKEND=kafka to check), many
topics and partitions in one request, the log start offset across a restart
with the segments below it deleted, and the clients operators use:
kafka-delete-records.sh, kafka-log-dirs.sh --describe and librdkafka's
rd_kafka_DeleteRecords (clients/rdkafka_admin.c)."""
import json
import os
import re
import subprocess
import tempfile

import pytest

import kwire as k
import scenarios as s
from conftest import JAVA_OPTS, backend_name, find_tool, java_classpath, unique_topic

DELETE_RECORDS, DESCRIBE_LOG_DIRS = 21, 35
POLICY_VIOLATION = 44
TIMEOUT = 90

k.FLEXIBLE_FROM.setdefault(DELETE_RECORDS, 2)
k.FLEXIBLE_FROM.setdefault(DESCRIBE_LOG_DIRS, 2)


# ---- wire helpers ----

def create_topic(broker, name, parts, configs=()):
    """CreateTopics v4 with topic configs [(name, value)]; waits for leaders."""
    w = k.Writer(False)
    w.arr(1).str(name).i32(parts).i16(1).arr(0).arr(len(configs))
    for key, value in configs:
        w.str(key).str(value)
    w.i32(30000).bool(False)
    got = k.parse_create_topics(4, k.call(broker, k.CREATE_TOPICS, 4, w.b, timeout=60))
    assert [(n, e) for n, e, _ in got] == [(name, 0)], got
    k.wait_for_leaders(broker, [name])


def produce(broker, topic, partition, batches, records=5, value=b"v" * 100):
    """batches batches of records records each; returns their base offsets."""
    bases = []
    for _ in range(batches):
        body = k.produce_body(7, [(topic, [(partition, k.record_batch([value] * records))])])
        out = k.parse_produce(7, k.call(broker, k.PRODUCE, 7, body, timeout=30))
        assert out[0][2] == 0, out
        bases.append(out[0][3])
    return bases


def delete_records(broker, topics, version=2):
    """topics: [(name, [(partition, offset)])]. Returns the response as
    [(topic, [(partition, low_watermark, error)])] in response order (the
    whole body read)."""
    w = k.Writer(k.flexible(DELETE_RECORDS, version))
    w.topics(topics, lambda p: w.i32(p[0]).i64(p[1]))
    w.i32(30000).tags()
    r = k.call(broker, DELETE_RECORDS, version, w.b, timeout=60)
    r.i32()                                 # throttle
    out = []
    for _ in range(r.arr()):
        name, parts = r.str(), []
        for _ in range(r.arr()):
            parts.append((r.i32(), r.i64(), r.i16()))
            r.tags()
        r.tags()
        out.append((name, parts))
    r.tags()
    r.end("DeleteRecords")
    return out


def flat(resp):
    """{(topic, partition): (low_watermark, error)}, each listed once."""
    out = {}
    for name, parts in resp:
        for p, low, err in parts:
            assert (name, p) not in out, f"({name}, {p}) answered twice: {resp}"
            out[(name, p)] = (low, err)
    return out


def earliest(broker, topic, partition):
    body = k.list_offsets_body(5, [(topic, [(partition, -2, -1)])])
    out = k.parse_list_offsets(5, k.call(broker, k.LIST_OFFSETS, 5, body))
    assert out[0][2] == 0, out
    return out[0][4]


def fetch_one(broker, topic, partition, offset):
    """(error, high watermark, log start offset) of a Fetch v11."""
    body = k.fetch_body(11, [(topic, [(partition, offset, 1 << 20)])])
    r = k.call(broker, k.FETCH, 11, body)
    r.i32(), r.i16(), r.i32()
    assert r.arr() == 1
    r.str()
    assert r.arr() == 1
    _, err, hw, _, lso = r.i32(), r.i16(), r.i64(), r.i64(), r.i64()
    return err, hw, lso


def describe_log_dirs(broker, topics, version=4):
    """topics: [(name, [partitions])] or None (all). Returns
    (top error, [(error, dir, {topic: {partition: (size, lag, future)}},
    total, usable)])."""
    w = k.Writer(k.flexible(DESCRIBE_LOG_DIRS, version))
    if topics is None:
        w.arr(None)
    else:
        w.arr(len(topics))
        for name, parts in topics:
            w.str(name).arr(len(parts))
            for p in parts:
                w.i32(p)
            w.tags()
    w.tags()
    r = k.call(broker, DESCRIBE_LOG_DIRS, version, w.b, timeout=60)
    r.i32()
    top = r.i16() if version >= 3 else 0
    dirs = []
    for _ in range(r.arr()):
        err, path, tmap = r.i16(), r.str(), {}
        for _ in range(r.arr()):
            name = r.str()
            assert name not in tmap, f"topic {name} twice"
            tmap[name] = {}
            for _ in range(r.arr()):
                p, size, lag, fut = r.i32(), r.i64(), r.i64(), r.bool()
                r.tags()
                tmap[name][p] = (size, lag, fut)
            r.tags()
        total = usable = None
        if version >= 4:
            total, usable = r.i64(), r.i64()
        r.tags()
        dirs.append((err, path, tmap, total, usable))
    r.tags()
    r.end("DescribeLogDirs")
    return top, dirs


# ---- DeleteRecords on the wire ----

def test_delete_records_semantics(broker):
    t = unique_topic("dr")
    create_topic(broker, t, 3)
    produce(broker, t, 0, 2)                # offsets 0-9
    got = flat(delete_records(broker, [(t, [(0, 4)])]))
    assert got == {(t, 0): (4, k.NONE)}, got
    # Below the start: a no-op answering the current start.
    got = flat(delete_records(broker, [(t, [(0, 2)])]))
    assert got == {(t, 0): (4, k.NONE)}, got
    got = flat(delete_records(broker, [(t, [(0, 11), (1, -2), (2, -1)]),
                                        ("no-such-topic-dr", [(0, 1)]), (t, [(7, 0)])]))
    assert got == {(t, 0): (-1, k.OFFSET_OUT_OF_RANGE), (t, 1): (-1, k.OFFSET_OUT_OF_RANGE),
                   (t, 2): (0, k.NONE), ("no-such-topic-dr", 0): (-1, k.UNKNOWN_TOPIC_OR_PARTITION),
                   (t, 7): (-1, k.UNKNOWN_TOPIC_OR_PARTITION)}, got
    # -1: the high watermark; the offset equal to it is allowed.
    got = flat(delete_records(broker, [(t, [(0, -1)])], version=0))
    assert got == {(t, 0): (10, k.NONE)}, got
    produce(broker, t, 0, 1)                # 10-14
    got = flat(delete_records(broker, [(t, [(0, 12)])], version=1))
    assert got == {(t, 0): (12, k.NONE)}, got
    assert earliest(broker, t, 0) == 12
    assert fetch_one(broker, t, 0, 11) == (k.OFFSET_OUT_OF_RANGE, -1, -1)
    err, hw, lso = fetch_one(broker, t, 0, 12)
    assert (err, hw, lso) == (0, 15, 12)


def test_delete_records_many_topics_and_partitions(broker):
    """Several topics, interleaved, with repeats: one entry per topic, one
    per partition, the last listing's offset used (Kafka keys by partition)."""
    names = [unique_topic(f"drm{i}") for i in range(3)]
    for n in names:
        create_topic(broker, n, 4)
        for p in range(4):
            produce(broker, n, p, 1, records=3 + p)
    a, b, c = names
    req = [(a, [(0, 1), (1, 2)]), (b, [(3, -1), (0, 0)]), (a, [(2, 3), (1, 1), (3, 9)]),
           (c, [(0, -1), (1, 2), (2, 3), (3, 4)]), (b, [(1, 1), (2, 2)])]
    resp = delete_records(broker, req)
    assert sorted(n for n, _ in resp) == sorted(names), resp
    got = flat(resp)
    assert got == {
        (a, 0): (1, 0), (a, 1): (1, 0), (a, 2): (3, 0), (a, 3): (-1, k.OFFSET_OUT_OF_RANGE),
        (b, 0): (0, 0), (b, 1): (1, 0), (b, 2): (2, 0), (b, 3): (6, 0),
        (c, 0): (3, 0), (c, 1): (2, 0), (c, 2): (3, 0), (c, 3): (4, 0)}, got
    for (n, p), (low, err) in got.items():
        if err == 0:
            assert earliest(broker, n, p) == low, (n, p)
    # A repeat's last listing wins, even when it is lower.
    got = flat(delete_records(broker, [(c, [(2, 5), (2, 4)])]))
    assert got == {(c, 2): (4, 0)}, got


def test_delete_records_compacted_topic(broker):
    t, t2 = unique_topic("drc"), unique_topic("drcd")
    create_topic(broker, t, 1, [("cleanup.policy", "compact")])
    create_topic(broker, t2, 1, [("cleanup.policy", "compact,delete")])
    for n in (t, t2):
        body = k.produce_body(7, [(n, [(0, k.batch(k.record(b"v", key=b"k"), 1))])])
        assert k.parse_produce(7, k.call(broker, k.PRODUCE, 7, body))[0][2] == 0
    got = flat(delete_records(broker, [(t, [(0, 1), (0, 99)]), (t2, [(0, 1)])]))
    assert got == {(t, 0): (-1, POLICY_VIOLATION), (t2, 0): (1, 0)}, got


def test_delete_records_survives_restart(broker_factory):
    """Segments wholly below the start go (at once here; Kafka's retention
    check deletes them later), and the start survives a restart."""
    b = broker_factory()
    t = unique_topic("drr")
    create_topic(b, t, 1, [("segment.bytes", "1000")])
    bases = produce(b, t, 0, 12)            # ~640 bytes a batch: a segment each
    got = flat(delete_records(b, [(t, [(0, bases[7] + 2)])]))
    assert got == {(t, 0): (bases[7] + 2, 0)}, got
    if backend_name() == "spillway":
        logs = sorted(f for f in os.listdir(b.data / f"{t}-0") if f.endswith(".log"))
        assert int(logs[0][:20]) == bases[7], logs
    b.restart()
    s.eventually(lambda: earliest(b, t, 0) == bases[7] + 2 or pytest.fail("start lost"))
    err, hw, lso = fetch_one(b, t, 0, bases[7] + 2)
    assert (err, hw, lso) == (0, 60, bases[7] + 2)
    assert fetch_one(b, t, 0, bases[7]) == (k.OFFSET_OUT_OF_RANGE, -1, -1)
    body = k.produce_body(7, [(t, [(0, k.record_batch([b"x"]))])])
    r = k.call(b, k.PRODUCE, 7, body)
    r.arr(), r.str(), r.arr()
    assert (r.i32(), r.i16(), r.i64(), r.i64(), r.i64()) == (0, 0, 60, -1, bases[7] + 2)


# ---- DescribeLogDirs on the wire ----

def test_describe_log_dirs(broker):
    t = unique_topic("dld")
    create_topic(broker, t, 3)
    produce(broker, t, 1, 2)
    for version in (1, 2, 3, 4):
        top, dirs = describe_log_dirs(broker, [(t, [0, 1, 1, 7]), ("no-such-topic-dld", [0])],
                                      version)
        assert top == 0 and len(dirs) == 1, dirs
        err, path, tmap, total, usable = dirs[0]
        assert err == 0 and os.path.isabs(path), dirs
        if hasattr(broker, "data"):
            assert path == str(broker.data), path
        assert list(tmap) == [t], tmap
        assert sorted(tmap[t]) == [0, 1], tmap
        assert tmap[t][0] == (0, 0, False), tmap
        size, lag, fut = tmap[t][1]
        assert size > 1000 and lag == 0 and not fut, tmap
        if version >= 4:
            assert total > 0 and 0 < usable <= total, (total, usable)
    _, dirs = describe_log_dirs(broker, None)
    assert sorted(dirs[0][2][t]) == [0, 1, 2], dirs
    _, dirs = describe_log_dirs(broker, [])
    assert dirs[0][0] == 0 and dirs[0][2] == {}, dirs
    _, dirs = describe_log_dirs(broker, [(t, [5])])
    assert dirs[0][2] == {}, dirs


# ---- clients ----

@pytest.fixture(scope="module")
def cp():
    return java_classpath(with_classes=False)


def java_tool(cp, cls, *args):
    r = subprocess.run(["java", *JAVA_OPTS, "-cp", cp, cls, *args], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, f"{cls} {args}: rc={r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def test_kafka_delete_records_cli(cp, broker):
    t = unique_topic("drcli")
    create_topic(broker, t, 2)
    produce(broker, t, 0, 2)
    produce(broker, t, 1, 1)
    spec = {"version": 1, "partitions": [{"topic": t, "partition": 0, "offset": 6},
                                         {"topic": t, "partition": 1, "offset": -1}]}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(spec, f)
        f.flush()
        out = java_tool(cp, "org.apache.kafka.tools.DeleteRecordsCommand",
                        "--bootstrap-server", broker.bootstrap, "--offset-json-file", f.name)
    got = dict(re.findall(r"partition: (\S+)\tlow_watermark: (\d+)", out))
    assert got == {f"{t}-0": "6", f"{t}-1": "5"}, out
    assert earliest(broker, t, 0) == 6 and earliest(broker, t, 1) == 5


def test_kafka_log_dirs_cli(cp, broker):
    t = unique_topic("ldcli")
    create_topic(broker, t, 2)
    produce(broker, t, 0, 1)
    out = java_tool(cp, "org.apache.kafka.tools.LogDirsCommand", "--bootstrap-server",
                    broker.bootstrap, "--describe", "--topic-list", t)
    doc = json.loads(out.strip().splitlines()[-1])
    assert len(doc["brokers"]) == 1, doc
    dirs = doc["brokers"][0]["logDirs"]
    assert len(dirs) == 1 and dirs[0]["error"] is None, dirs
    parts = {p["partition"]: p for p in dirs[0]["partitions"]}
    assert sorted(parts) == [f"{t}-0", f"{t}-1"], parts
    assert parts[f"{t}-0"]["size"] > 0 and parts[f"{t}-1"]["size"] == 0, parts
    assert all(p["offsetLag"] == 0 and p["isFuture"] is False for p in parts.values())


def test_rdkafka_delete_records(broker):
    exe = find_tool("RDKAFKA_ADMIN_BIN", "build/tests/integration/rdkafka_admin",
                    ".cache/integration/bin/rdkafka_admin")
    t = unique_topic("drrdk")
    create_topic(broker, t, 3)
    for p in range(3):
        produce(broker, t, p, 2)
    r = subprocess.run([exe, broker.bootstrap, "delete-records", t, "0:3", "1:-1", "2:99"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    got = {p["partition"]: (p["offset"], p["error"]) for p in doc["partitions"]}
    assert doc["error"] is None and got[0] == (3, None) and got[1] == (10, None), doc
    assert got[2][1] == "OFFSET_OUT_OF_RANGE", doc


def test_delete_records_internal_topic(broker):
    """Kafka refuses internal topics after the unknown-partition check."""
    import kgroups as g
    g.wait_coordinator(broker, "dr-warmup")
    got = flat(delete_records(broker, [("__consumer_offsets", [(0, 0), (999, 0)])]))
    assert got == {("__consumer_offsets", 0): (-1, k.INVALID_TOPIC_EXCEPTION),
                   ("__consumer_offsets", 999): (-1, k.UNKNOWN_TOPIC_OR_PARTITION)}, got


def test_hundred_partitions_in_one_request(broker):
    """5 topics x 20 partitions in one DeleteRecords (shuffled across
    topics) and in one DescribeLogDirs: every partition answered once,
    under one entry per topic, with its own value."""
    import random
    names = [unique_topic(f"drh{i}") for i in range(5)]
    for n in names:
        create_topic(broker, n, 20)
    value = k.record_batch([b"h" * 50] * 5)
    body = k.produce_body(7, [(n, [(p, value) for p in range(20)]) for n in names])
    out = k.parse_produce(7, k.call(broker, k.PRODUCE, 7, body, timeout=60))
    assert len(out) == 100 and all(e == 0 and base == 0 for _, _, e, base, _ in out), out
    pairs = [(n, p) for n in names for p in range(20)]
    random.Random(7).shuffle(pairs)
    req = [(n, [(p, (p + i) % 7)]) for i, (n, p) in enumerate(pairs)]
    got = flat(delete_records(broker, req))
    want = {}
    for i, (n, p) in enumerate(pairs):
        off = (p + i) % 7
        want[(n, p)] = (off, 0) if off <= 5 else (-1, k.OFFSET_OUT_OF_RANGE)
    assert got == want
    _, dirs = describe_log_dirs(broker, [(n, list(range(20))) for n in names])
    tmap = dirs[0][2]
    assert sorted(tmap) == sorted(names), tmap
    assert all(sorted(tmap[n]) == list(range(20)) for n in names), tmap
    assert all(size == len(value) for n in names for size, _, _ in tmap[n].values()), tmap


def test_time_lookup_after_delete_records(broker):
    """ListOffsets by timestamp answers from the log start offset on (Kafka's
    findOffsetByTimestamp(target, logStartOffset)), also inside a batch."""
    t = unique_topic("drts")
    create_topic(broker, t, 1)
    ts = 1700000000000
    body = k.produce_body(7, [(t, [(0, k.record_batch([b"a"] * 5, timestamp_ms=ts,
                                                      step_ms=1))])])
    assert k.parse_produce(7, k.call(broker, k.PRODUCE, 7, body))[0][2] == 0
    assert flat(delete_records(broker, [(t, [(0, 2)])])) == {(t, 0): (2, 0)}

    def at(target):
        body = k.list_offsets_body(5, [(t, [(0, target, -1)])])
        out = k.parse_list_offsets(5, k.call(broker, k.LIST_OFFSETS, 5, body))
        return out[0][2], out[0][3], out[0][4]
    assert at(ts) == (0, ts + 2, 2)
    assert at(ts + 3) == (0, ts + 3, 3)
    assert at(ts + 5) == (0, -1, -1)
