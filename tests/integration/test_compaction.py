# SPDX-License-Identifier: Apache-2.0
"""Log compaction (storage/cleaner*.c) against a real broker, driven by
confluent-kafka: a cleanup.policy=compact topic with small segments takes
keyed updates and tombstones in every codec librdkafka offers; once the
cleaner's metrics show segments cleaned, a consumer from the beginning must
read, at the offsets they were produced at, a subset of the produced records
that ends on the model's latest value (or tombstone) for every key, with
fewer records than produced. Then kill -9 the broker a few times while the
cleaner works (throttled so it is mid-run) and check the same after each
restart. Last, stopped, the segment files are read directly (batch
headers) and a consumer of the restarted broker, cleaner off, must read
exactly the records they hold: a fetch must not skip what is on disk (one
that landed in the gap after a cleaned segment once did). Bounded: a few
thousand records, every wait has a deadline."""
import os
import random
import struct
import time
import urllib.request

import pytest

import promtext
from conftest import _backend, client_missing, free_port, unique_topic

KEYS = 60
ROUND_RECORDS = 1500
KILL_CYCLES = int(os.environ.get("SPILLWAY_COMPACTION_CYCLES", "3"))
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
WAIT_S = 60


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return promtext.parse(r.read().decode(), strict=True)


def metric(port, name):
    return promtext.value(scrape(port), name)


def wait_for(pred, what, timeout=WAIT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def ck():
    try:
        import confluent_kafka
        from confluent_kafka.admin import AdminClient, NewTopic
    except ImportError:
        client_missing("python3-confluent-kafka is not installed")
    return confluent_kafka, AdminClient, NewTopic


def produce_round(ck, bootstrap, topic, produced, model, rng, records):
    """records keyed updates (10% tombstones), a producer per codec; each
    acknowledged record goes into produced[offset] and the model."""
    confluent_kafka = ck[0]
    per = records // len(CODECS)
    for codec in CODECS:
        try:
            p = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "acks": "all",
                                          "compression.type": codec, "linger.ms": 5,
                                          "batch.num.messages": 50})
        except confluent_kafka.KafkaException:
            continue  # codec not built into this librdkafka
        acked = []

        def done(err, msg, acked=acked):
            assert err is None, err
            acked.append((msg.offset(), msg.key(), msg.value()))

        for _ in range(per):
            k = f"key-{rng.randrange(KEYS)}".encode()
            v = None if rng.random() < 0.1 else f"{k.decode()}={rng.random()}".encode() * 4
            p.produce(topic, v, key=k, on_delivery=done)
            p.poll(0)
        assert p.flush(60) == 0
        for off, k, v in sorted(acked):
            produced[off] = (k, v)
            model[k] = (off, v)


def consume_all(ck, bootstrap, topic, end_offset):
    confluent_kafka = ck[0]
    c = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "compaction-it",
                                  "enable.auto.commit": False,
                                  "auto.offset.reset": "earliest"})
    c.assign([confluent_kafka.TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        for m in c.consume(num_messages=1000, timeout=0.5):
            assert m.error() is None, m.error()
            got.append((m.offset(), m.key(), m.value()))
        if got and got[-1][0] >= end_offset - 1:
            break
    c.close()
    return got


def check(got, produced, model):
    offsets = [o for o, _, _ in got]
    assert offsets == sorted(set(offsets)), "offsets strictly increase"
    for off, k, v in got:
        assert produced.get(off) == (k, v), f"offset {off} changed"
    last = {}
    for off, k, v in got:
        last[k] = (off, v)
    for k, (off, v) in model.items():
        if v is None and k not in last:
            continue  # a tombstone past delete.retention.ms may be gone
        assert last.get(k) == (off, v), \
            f"key {k!r}: got {last.get(k)}, want offset {off}; read {len(got)} records, " \
            f"offsets {got[0][0]}..{got[-1][0]}, around: " \
            f"{[o for o, _, _ in got if abs(o - off) < 20]}"
    assert set(last) <= set(model)


def disk_batches(part_dir):
    """(base offset, last offset, record count) of every data batch with
    records in the partition's segment files (v2 headers only: no codec)."""
    out = []
    assert not list(part_dir.glob("*.swap")), "a clean stop leaves no swap half done"
    for f in sorted(part_dir.glob("*.log")):
        data = f.read_bytes()
        pos = 0
        while pos + 61 <= len(data):
            base, length = struct.unpack_from(">qi", data, pos)
            attributes, last_delta = struct.unpack_from(">hi", data, pos + 21)
            count = struct.unpack_from(">i", data, pos + 57)[0]
            assert pos + 12 + length <= len(data), f"{f.name}: torn batch at {pos}"
            if not attributes & 0x20 and count > 0:
                out.append((base, base + last_delta, count))
            pos += 12 + length
        assert pos == len(data), f"{f.name}: {len(data) - pos} bytes after the last batch"
    return out


def check_consumed_is_disk(batches, got):
    """Every record on disk was consumed, and nothing else."""
    offsets = sorted(o for o, _, _ in got)
    assert len(offsets) == sum(c for _, _, c in batches), \
        f"consumed {len(offsets)} records, the segment files hold " \
        f"{sum(c for _, _, c in batches)}"
    i = 0
    for base, last, count in batches:
        n = 0
        while i < len(offsets) and offsets[i] <= last:
            assert offsets[i] >= base, f"offset {offsets[i]} is in no batch on disk"
            n += 1
            i += 1
        assert n == count, f"batch {base}..{last}: {count} records on disk, {n} consumed"


def test_compaction_and_kill9(broker_factory, ck):
    if _backend() != "spillway":
        pytest.skip("waits on Spillway's cleaner metrics")
    _, AdminClient, NewTopic = ck
    port = free_port()
    b = broker_factory(overrides={"spillway.metrics.listen": f"127.0.0.1:{port}",
                                  "log.cleaner.enable": "true",
                                  "log.cleaner.backoff.ms": "100"})
    topic = unique_topic("compact")
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1, config={
        "cleanup.policy": "compact", "segment.bytes": "16384",
        "min.cleanable.dirty.ratio": "0.01", "delete.retention.ms": "3600000",
        "min.compaction.lag.ms": "0",
        # Dense offset indexes: a fetch that starts from a wrong index entry
        # skips batches (check_consumed_is_disk finds it).
        "index.interval.bytes": "256"})])[topic].result(timeout=30)
    rng = random.Random(13)
    produced, model = {}, {}

    produce_round(ck, b.bootstrap, topic, produced, model, rng, ROUND_RECORDS * 2)
    end = max(produced) + 1
    wait_for(lambda: metric(port, "spillway_log_cleaner_segments_cleaned_total") > 0,
             "the cleaner to swap in a cleaned segment")
    assert metric(port, "spillway_log_cleaner_bytes_reclaimed_total") > 0
    got = consume_all(ck, b.bootstrap, topic, end)
    check(got, produced, model)
    assert len(got) < len(produced), "compaction removed records"

    # kill -9 while the cleaner works: throttled, it takes a while per run.
    for cycle in range(KILL_CYCLES):
        b.stop()
        b.overrides["log.cleaner.io.max.bytes.per.second"] = "200000"
        b.start()
        produce_round(ck, b.bootstrap, topic, produced, model, rng, ROUND_RECORDS)
        time.sleep(0.3 + 0.4 * rng.random())
        b.kill()
        b.overrides.pop("log.cleaner.io.max.bytes.per.second")
        b.start()
        end = max(produced) + 1
        got = consume_all(ck, b.bootstrap, topic, end)
        check(got, produced, model)
    wait_for(lambda: metric(port, "spillway_log_cleaner_passes_total") >= 2,
             "a cleaner pass after the last restart")
    got = consume_all(ck, b.bootstrap, topic, max(produced) + 1)
    check(got, produced, model)
    assert metric(port, "spillway_log_cleaner_errors_total") == 0

    # What a consumer reads is what is on disk, batch for batch.
    b.stop()
    batches = disk_batches(b.data / f"{topic}-0")
    assert batches, "segment files found"
    b.overrides["log.cleaner.enable"] = "false"
    b.start()
    got = consume_all(ck, b.bootstrap, topic, max(produced) + 1)
    check(got, produced, model)
    check_consumed_is_disk(batches, got)
