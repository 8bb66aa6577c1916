# SPDX-License-Identifier: Apache-2.0
"""Storage faults at integration level: a torn write at the tail of the
active segment, missing/corrupt .index/.timeindex files, a torn .txnindex, a
full disk, and Kafka's DumpLogSegments reading a segment that a real
producer wrote.

Torn tail and indexes run against real Kafka too: the broker is killed
(kill -9, no clean shutdown, which is how torn writes happen) and Kafka's
recovery must cope the same way. The full-disk test is Spillway only: Kafka
takes a log dir that fails a write offline and, with its only log dir gone,
shuts down (and its 10 MB preallocated indexes do not fit the 16 MB disk)."""
import os
import struct
import subprocess
import time
from pathlib import Path

import pytest

import data_scenarios as ds
from conftest import REPO, Broker, backend_name, client_missing

pytestmark = pytest.mark.data_path

ONE_PER_BATCH = ["linger.ms=0", "batch.num.messages=1", "max.in.flight.requests.per.connection=1"]


def seg_dir(b, topic, part=0):
    return Path(b.data) / f"{topic}-{part}"


def batches(log_path):
    """(position, base offset, length) of every record batch in a segment."""
    data = log_path.read_bytes()
    out, pos = [], 0
    while pos + 12 <= len(data):
        base, length = struct.unpack(">qi", data[pos:pos + 12])
        if length <= 0 or pos + 12 + length > len(data):
            break
        out.append((pos, base, length))
        pos += 12 + length
    return out


def produce_numbered(b, topic, tmp_path, lo, hi, codec="none"):
    recs = [ds.Rec(0, b"k%d" % i, b"value-%06d" % i, [("n", b"%d" % i)], ds.BASE_TS + 1000 * i)
            for i in range(lo, hi)]
    spec = tmp_path / f"spec-{lo}.jsonl"
    ds.write_spec(spec, recs)
    res = ds.data_driver("rdkafka").produce(b.bootstrap, topic, spec, codec, "all",
                                            ONE_PER_BATCH)
    assert res["errors"] == [], res["errors"][:5]
    return res


def values(b, topic):
    recs = ds.consume_all(b.bootstrap, topic, 1)
    assert [r["o"] for r in recs] == list(range(len(recs))), "offsets not contiguous from 0"
    return [r["v"] for r in recs]


def test_torn_write(broker_factory, tmp_path):
    b = broker_factory()
    topic = ds.new_topic(b, "torn", parts=1)
    produce_numbered(b, topic, tmp_path, 0, 20)
    b.kill()
    log = seg_dir(b, topic) / ("0" * 20 + ".log")
    bl = batches(log)
    assert len(bl) == 20 and bl[-1][1] == 19, f"unexpected batches in {log}: {bl}"
    pos, _, length = bl[-1]
    os.truncate(log, pos + 12 + length // 2)  # the last batch, cut in half
    b.start()
    assert values(b, topic) == [b"value-%06d" % i for i in range(19)]
    res = produce_numbered(b, topic, tmp_path, 19, 25)
    assert [o for _, o in res["acked"]] == list(range(19, 25)), res["acked"]
    assert values(b, topic) == [b"value-%06d" % i for i in range(25)]


def _kp_consumer(b):
    from kafka import KafkaConsumer
    return KafkaConsumer(bootstrap_servers=b.bootstrap, group_id=None, enable_auto_commit=False,
                         api_version_auto_timeout_ms=10000, consumer_timeout_ms=10000)


def _read_from(c, tp, offset, n):
    c.seek(tp, offset)
    got, deadline = [], time.monotonic() + 30
    while len(got) < n and time.monotonic() < deadline:
        for msgs in c.poll(timeout_ms=500).values():
            got += [(m.offset, m.value, m.timestamp) for m in msgs]
    return got[:n]


@pytest.mark.parametrize("damage", ["delete", "corrupt"])
def test_index_rebuilt(broker_factory, tmp_path, damage):
    from kafka import TopicPartition
    b = broker_factory({"log.index.interval.bytes": "128"})  # dense index entries
    topic = ds.new_topic(b, f"idx-{damage}", parts=1)
    produce_numbered(b, topic, tmp_path, 0, 300)
    b.kill()
    d = seg_dir(b, topic)
    for suffix in (".index", ".timeindex"):
        f = d / ("0" * 20 + suffix)
        if damage == "delete":
            f.unlink(missing_ok=True)
        elif f.exists():
            size = max(f.stat().st_size, 4096)
            with open(f, "r+b") as fh:  # garbage entries: offsets/timestamps going backwards
                fh.write(bytes([0xA5, 0x5A, 0xFF, 0x01] * (size // 4)))
    b.start()
    c = _kp_consumer(b)
    try:
        tp = TopicPartition(topic, 0)
        c.assign([tp])
        for off in (0, 1, 150, 299):
            got = _read_from(c, tp, off, 1)
            assert got and got[0][:2] == (off, b"value-%06d" % off), f"seek {off}: {got}"
        for i in (0, 7, 123, 299):
            want = ds.BASE_TS + 1000 * i
            r = c.offsets_for_times({tp: want - 500})[tp]
            assert r is not None and r.offset == i and r.timestamp == want, f"ts {want}: {r}"
        assert c.offsets_for_times({tp: ds.BASE_TS + 1000 * 300})[tp] is None
    finally:
        c.close()
    produce_numbered(b, topic, tmp_path, 300, 310)
    assert values(b, topic) == [b"value-%06d" % i for i in range(310)]


@pytest.mark.skipif(backend_name() != "spillway",
                    reason="Kafka takes its only log dir offline on a failed write and "
                           "shuts down; its preallocated indexes do not fit 16 MB")
def test_full_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    from confluent_kafka import KafkaError, Producer
    b = Broker("spillway")
    b.data.mkdir(parents=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(b.data)],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        pytest.skip(f"cannot mount tmpfs: {r.stderr}")
    try:
        filler = b.data / "filler"
        filler.write_bytes(b"\0" * (2 << 20))
        b.start()
        topic = ds.new_topic(b, "full", parts=1)
        p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 5,
                      "message.send.max.retries": 0, "message.timeout.ms": 20000,
                      "max.in.flight.requests.per.connection": 1})
        acked, errors = [], []

        def cb(err, msg):
            (errors if err else acked).append(err or int(msg.value()[:8]))

        value = b"%08d" + os.urandom(32 * 1024)
        deadline, i = time.monotonic() + 90, 0
        while not errors and i < 2000 and time.monotonic() < deadline:
            p.produce(topic, b"%08d" % i + value[8:], partition=0, on_delivery=cb)
            i += 1
            p.flush(20)
        assert errors, f"no error after {i} records ({i * 32} KB) into a 16 MB disk"
        assert errors[0].code() == KafkaError.KAFKA_STORAGE_ERROR, errors[0]
        assert acked == list(range(len(acked))) and len(acked) > 100
        got = ds.consume_all(b.bootstrap, topic, 1)
        assert [int(r["v"][:8]) for r in got[:len(acked)]] == acked
        assert all(r["v"][8:] == value[8:] for r in got)
        filler.unlink()  # space comes back
        more, errors[:] = len(acked), []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            p.produce(topic, b"%08d" % 99999999 + value[8:], partition=0, on_delivery=cb)
            p.flush(20)
            if len(acked) > more:
                break
            time.sleep(0.5)
        assert len(acked) > more, f"produce still fails after freeing space: {errors[-1:]}"
        got = ds.consume_all(b.bootstrap, topic, 1)
        assert [int(r["v"][:8]) for r in got[:more]] == acked[:more]
    finally:
        b.stop()
        subprocess.run(["umount", "-l", str(b.data)], capture_output=True, timeout=30)
        b.cleanup()


def test_dump_log_segments(broker_factory, tmp_path):
    """Kafka's own DumpLogSegments reads a segment written by the Java
    producer (gzip, headers) and shows every record."""
    libs = REPO / ".cache" / "kafka" / "libs"
    if not any(libs.glob("kafka_2.13-*.jar")):
        client_missing(f"Kafka jars missing in {libs} (tests/integration/kafka/kafka-ref.sh fetch)")
    b = broker_factory()
    topic = ds.new_topic(b, "dump", parts=1)
    recs = [ds.Rec(0, b"key-%d" % i, b"payload-%d" % i, [("h", b"x%d" % i)], ds.BASE_TS + i)
            for i in range(30)]
    spec = tmp_path / "spec.jsonl"
    ds.write_spec(spec, recs)
    res = ds.data_driver("java").produce(b.bootstrap, topic, spec, "gzip", "all")
    assert res["errors"] == []
    b.stop()  # segment complete on disk
    seg = seg_dir(b, topic) / ("0" * 20 + ".log")
    r = subprocess.run(["java", "-Xmx256m", "-cp", f"{libs}/*", "kafka.tools.DumpLogSegments",
                        "--files", str(seg), "--deep-iteration", "--print-data-log"],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    for bad in ("Exception", "corrupt", "Found invalid"):
        assert bad not in out, out[-3000:]
    for i in range(30):
        assert f"offset: {i} " in out and f"payload: payload-{i}" in out, \
            f"record {i} not shown:\n{out[-3000:]}"
    assert "compresscodec: gzip" in out.lower() or "compresscodec: GZIP" in out, out[-2000:]
    assert "headerKeys: [h]" in out, out[-2000:]


def _txn_entry(pid, first, last, lso):
    """One .txnindex entry in Kafka's layout (AbortedTxn, version 0)."""
    return struct.pack(">hqqqq", 0, pid, first, last, lso)


@pytest.mark.skipif(backend_name() != "spillway",
                    reason="Kafka rebuilds the .txnindex of a recovered segment from the "
                           "log's markers; this log has none, so it empties the file")
def test_txnindex_repaired_and_deleted(broker_factory, tmp_path):
    """A .txnindex left torn by a crash (a partial entry, an entry whose
    marker is past the recovered log end) is cut back to its good entries at
    start, the log is served unchanged, and the file goes with its topic."""
    from confluent_kafka.admin import AdminClient
    b = broker_factory()
    topic = ds.new_topic(b, "txnidx", parts=1)
    produce_numbered(b, topic, tmp_path, 0, 20)
    b.kill()
    d = seg_dir(b, topic)
    idx = d / ("0" * 20 + ".txnindex")
    good = _txn_entry(7, 0, 4, 0) + _txn_entry(123456789012, 3, 9, 3)
    idx.write_bytes(good + _txn_entry(9, 10, 25, 10) + b"\0\0\1\2\3")
    b.start()
    assert values(b, topic) == [b"value-%06d" % i for i in range(20)]
    assert idx.read_bytes() == good
    b.stop()
    b.start()
    assert idx.read_bytes() == good, "a clean restart keeps the good entries"
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.delete_topics([topic])[topic].result(timeout=30)
    deadline = time.monotonic() + 30
    while idx.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not idx.exists(), "the .txnindex outlived its topic"
