# SPDX-License-Identifier: Apache-2.0
"""Power loss: what Spillway acknowledged with acks=all survives losing
everything that was only in the page cache.

The broker's log dir is an ext4 on a loop device (power_disk.py: commit=300,
so nothing reaches the device unless Spillway forces it). A producer writes
identifiable records (key "topic:partition:seq", value derived from the key)
to 3 topics x 4 partitions (two of them rolling segments every 256 KiB) and
keeps producing while the broker is killed with kill -9. Right after the
kill, before anything flushes the page cache, the loop device is copied with
O_DIRECT: the image a power cut would leave. That image is mounted on a new
loop device (journal replay) and a new broker starts on it. It must take one
new acks=all record per partition at its recovered end; then a consumer
from offset 0 (power_read.py, its own process) must read every partition
through to that record: every acknowledged record at its acknowledged
offset, byte-identical, no offset missing up to the last acknowledged one,
and only records that were produced to that partition. Offsets of lost,
unacknowledged records may have no record (a rolled segment that lost its
tail leaves such a range); reads must get past them, as on Kafka.

Negative control: the same with acks=1 and no flush policy (the default)
must lose acknowledged records; if it did not, the image would not be a
power-loss image and the positive test would prove nothing.

Regression covered: a roll used not to sync the sealed segment and recovery
CRC-checked only the active one, so a cut between a roll and the next group
commit left a sealed segment ending in part of an unacknowledged batch,
which the broker served (librdkafka aborted on it). Now a roll asks for a
sync and recovery cuts torn tails of sealed segments too: no segment may
end in part of a batch after recovery.

Spillway only: a single Kafka broker does not fsync before acknowledging
acks=all (its durability comes from replication), so it would fail the
positive test by design."""
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

import data_scenarios as ds
import power_disk
import power_read
from conftest import HERE, Broker, backend_name
from power_read import key_of, value_of

pytestmark = pytest.mark.data_path

TOPICS = 3
PARTS = 4
ACKED_TARGET = 50000      # kill once this many records are acknowledged...
PRODUCE_S_MAX = 10.0      # ...or after this long
OUTSTANDING_MAX = 4000    # produced but not yet reported, so nothing expires queued
MESSAGE_TIMEOUT_MS = 4000
# Dirty pages older than vm.dirty_expire_centisecs (30 s by default) are
# written back by the kernel: the negative control must cut the power sooner.
WRITEBACK_EXPIRE_S = 30.0
STALL_S = 10.0            # no record for this long: the rest is unreadable
APPENDED_SEQ = 99999999   # the record appended to every partition after recovery
# Topic 0 keeps one active segment; the others roll every 256 KiB, so the
# cut also finds segments (files and directory entries) made under load.
TOPIC_CONFIGS = [{}] + [{"segment.bytes": "262144", "segment.index.bytes": "65536"}] * 2


class Rig:
    """Disk images, mounts and brokers of one test; close() releases all."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="spillway-powerloss-")
        self.disk = power_disk.PowerLossDisk(self.dir)
        self.brokers = []

    def broker(self, mount):
        b = Broker("spillway")
        b.data = mount.mnt / "data"  # log.dirs on the power-loss disk
        self.brokers.append(b)
        return b.start()

    def close(self):
        try:
            for b in self.brokers:
                b.cleanup()
        finally:
            self.disk.close()   # even if a broker would not stop: bounded, lazy umount
        if not os.environ.get("SPILLWAY_KEEP_DIRS"):  # keeps the images to look at
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def rig():
    if backend_name() != "spillway":
        pytest.skip("Spillway only: needs its own broker with log.dirs on a loop device "
                    "(and a single Kafka broker does not fsync before acks=all)")
    why = power_disk.unavailable()
    if why:
        pytest.skip(f"power-loss disk unavailable: {why}")
    r = Rig()
    try:
        yield r
    finally:
        r.close()


class Load:
    """A confluent-kafka producer writing round-robin to every partition of
    topics from a thread until stopped; records what was acknowledged."""

    def __init__(self, bootstrap, topics, acks):
        from confluent_kafka import Producer
        self.topics = topics
        self.p = Producer({"bootstrap.servers": bootstrap, "acks": acks,
                           "linger.ms": 5, "message.timeout.ms": MESSAGE_TIMEOUT_MS,
                           "request.timeout.ms": MESSAGE_TIMEOUT_MS - 1000,
                           "reconnect.backoff.ms": 100, "reconnect.backoff.max.ms": 500,
                           "log_level": 2})  # the kill's connection errors are expected
        self.acked = []    # (topic index, partition, offset, key)
        self.errors = 0
        self.first_error = None
        self.produced = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _report(self, err, msg):
        if err is None:
            ti = int(msg.key().split(b":", 1)[0])
            self.acked.append((ti, msg.partition(), msg.offset(), msg.key()))
        else:
            self.errors += 1
            self.first_error = self.first_error or str(err)

    def _run(self):
        seq = 0
        while not self.stop.is_set():
            if self.produced - len(self.acked) - self.errors > OUTSTANDING_MAX:
                self.p.poll(0.005)
                continue
            for ti, topic in enumerate(self.topics):
                for part in range(PARTS):
                    k = key_of(ti, part, seq)
                    try:
                        self.p.produce(topic, value_of(k), k, part, on_delivery=self._report)
                        self.produced += 1
                    except BufferError:
                        self.p.poll(0.01)
            seq += 1
            self.p.poll(0)

    def start(self):
        self.thread.start()
        return self

    def finish(self):
        """Stop producing and wait for every report (the rest expire)."""
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive(), "producer thread did not stop"
        left = self.p.flush(MESSAGE_TIMEOUT_MS / 1000 + 20)
        assert left == 0, f"{left} records without a delivery report"
        assert len(self.acked) + self.errors == self.produced


def read_log(bootstrap, topics):
    """power_read.py in its own process (see there): ({(topic index,
    partition): [(offset, key, value ok)]}, {tp: log end}, {tp: offset where
    reading stalled below the end})."""
    argv = [ds.PY, str(HERE / "power_read.py"), bootstrap, str(PARTS), str(STALL_S)] + topics
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=power_read.READ_S_MAX + 60)
    except subprocess.TimeoutExpired:
        raise AssertionError("reading the recovered log did not finish") from None
    assert r.returncode == 0, \
        f"reading the recovered log failed (rc {r.returncode}):\n{r.stderr[-3000:]}"
    res = json.loads(r.stdout)

    def tp(s):
        ti, part = s.split(":")
        return int(ti), int(part)

    got = {tp(k): [(o, None if key is None else key.encode("latin-1"), ok)
                   for o, key, ok in v] for k, v in res["recs"].items()}
    return got, {tp(k): v for k, v in res["ends"].items()}, \
        {tp(k): v for k, v in res["stalls"].items()}


def power_cut(rig, acks, configs=TOPIC_CONFIGS):
    """Produce with acks to a broker on a fresh power-loss disk, kill -9 it
    while producing, snapshot the device, and start a broker on the snapshot.
    Returns (load, recovered broker, its data dir, topics, timings)."""
    disk = rig.disk.create("disk")
    b = rig.broker(disk)
    t0 = time.monotonic()
    topics = [ds.create_topic(b.bootstrap, ds.unique_topic(f"power{ti}"), PARTS,
                              configs[ti]) for ti in range(TOPICS)]
    load = Load(b.bootstrap, topics, acks).start()
    t_load = time.monotonic()
    while len(load.acked) < ACKED_TARGET and time.monotonic() - t_load < PRODUCE_S_MAX:
        assert b.alive(), f"broker died under load:\n{b.log_tail()}"
        time.sleep(0.05)
    b.kill()                               # mid-production: the producer keeps sending
    t_kill = time.monotonic()
    image = rig.disk.workdir / "crash.img"
    disk.snapshot(image)                   # before umount: the page cache stays out
    t_snap = time.monotonic()
    load.finish()
    disk.close()
    crash = rig.disk.attach(image, "crash")
    t_mount = time.monotonic()
    b2 = rig.broker(crash)
    timings = {"dio": disk.dio, "since_create_s": t_snap - t0, "produce_s": t_kill - t_load,
               "snapshot_s": t_snap - t_kill, "restart_s": time.monotonic() - t_mount}
    return load, b2, b2.data, topics, timings


def log_ends(b2, topics):
    """{(topic index, partition): log end offset} of the recovered broker."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": b2.bootstrap, "group.id": "powerloss-ends"})
    try:
        return {(ti, part): c.get_watermark_offsets(TopicPartition(topic, part), timeout=15)[1]
                for ti, topic in enumerate(topics) for part in range(PARTS)}
    finally:
        c.close()


def append_after(b2, topics, ends):
    """The recovered log takes a new acks=all record per partition, at its end."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": b2.bootstrap, "acks": "all"})
    offsets, errors = {}, []

    def report(err, msg):
        if err is not None:
            errors.append(str(err))
        offsets[(msg.topic(), msg.partition())] = msg.offset()

    for ti, topic in enumerate(topics):
        for part in range(PARTS):
            k = key_of(ti, part, APPENDED_SEQ)
            p.produce(topic, value_of(k), k, part, on_delivery=report)
    assert p.flush(30) == 0, "appends after recovery not acknowledged in 30 s"
    assert not errors, f"append after recovery: {errors[:3]}"
    for ti, topic in enumerate(topics):
        for part in range(PARTS):
            assert offsets[(topic, part)] == ends[(ti, part)], \
                f"{topic}-{part}: append after recovery at {offsets[(topic, part)]}, " \
                f"log end was {ends[(ti, part)]}"


class Recovered:
    """What the recovered broker holds, read two ways and checked against
    what was produced: its segment files read directly (after recovery,
    before anything is appended) and a consumer from offset 0 (after one record was appended
    to every partition at the recovered end, ends)."""

    def __init__(self, load, topics, data):
        self.load, self.topics = load, topics
        self.disk, self.torn = {}, []
        for ti, topic in enumerate(topics):
            for part in range(PARTS):
                recs, torn = power_read.scan_partition_dir(data / f"{topic}-{part}")
                self.disk[(ti, part)] = recs
                self.torn += [(f"{topic}-{part}",) + t for t in torn]
        self.count = sum(len(r) for r in self.disk.values())
        self.missing = self._missing(self.disk)
        self.consumer_error, self.gaps = None, 0

    def _check(self, got, what):
        at = {}
        for (ti, part), recs in got.items():
            name = f"{self.topics[ti]}-{part}"
            offsets = [o for o, _, _ in recs]
            assert offsets == sorted(set(offsets)), f"{what} {name}: offsets not increasing"
            for o, k, ok in recs:
                assert k is not None and k.startswith(b"%d:%d:" % (ti, part)), \
                    f"{what} {name}@{o}: key {k!r} was not produced there"
                assert ok, f"{what} {name}@{o}: value of {k!r} differs"
                at[(ti, part, o)] = k
        return at

    def _missing(self, got, what="on disk"):
        at = self._check(got, what)
        return [a for a in self.load.acked if at.get(a[:3]) != a[3]]

    def consume(self, b2, ends):
        """Read through the broker; a failure is kept in consumer_error."""
        try:
            got, _, stalls = read_log(b2.bootstrap, self.topics)
            # Lost records may leave offsets that no batch holds below the
            # end: reads skip them, as Kafka's do, and must reach the
            # appended record; a read that stops for good below it strands
            # every consumer there.
            assert not stalls, ("a consumer from offset 0 stopped below the log end "
                                f"(partition: offset): {stalls}")
            for (ti, part), recs in got.items():
                assert recs and recs[-1][:2] == (ends[(ti, part)],
                                                 key_of(ti, part, APPENDED_SEQ)), \
                    f"{self.topics[ti]}-{part}: the record appended after recovery is not " \
                    f"last at {ends[(ti, part)]}"
                self.gaps += ends[(ti, part)] - (len(recs) - 1)
            missing = self._missing(got, "consumed")
            assert missing == self.missing, \
                f"a consumer misses {len(missing)} acknowledged records, the segment files " \
                f"{len(self.missing)}: {missing[:5]}"
        except AssertionError as e:
            self.consumer_error = e

    def holes_below(self, last_acked):
        """Partitions whose offsets up to their last acknowledged one are not
        all on disk (acks=all is acknowledged after every batch before it is
        durable too, so the acknowledged part of a log is a prefix)."""
        holes = {}
        for tp, recs in self.disk.items():
            last = last_acked.get(tp, -1)
            held = [o for o, _, _ in recs if o <= last]
            if held != list(range(last + 1)):
                holes[tp] = (len(held), last + 1)
        return holes

    def check_served(self):
        """Recovery must leave whole batches only, in the active segment and
        in sealed ones (a torn batch served breaks consumers: librdkafka
        2.0.2 aborted on one in rd_slice_narrow_copy), and the consumer read
        must have worked."""
        assert not self.torn, (f"recovery left torn tails (partition, segment, sealed, "
                               f"whole-batch bytes, size): {self.torn}")
        if self.consumer_error is not None:
            raise self.consumer_error


def summary(label, load, rec, timings):
    print(f"\n{label}: produced {load.produced}, acked {len(load.acked)}, "
          f"failed {load.errors}, on disk {rec.count}, acked missing {len(rec.missing)}, "
          f"offsets skipped by the consumer {rec.gaps}, torn segments {rec.torn}"
          f"{', consumer failed' if rec.consumer_error else ''}; "
          + ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                      for k, v in timings.items()))


def recover(rig, acks, configs=TOPIC_CONFIGS):
    load, b2, data, topics, timings = power_cut(rig, acks, configs)
    ends = log_ends(b2, topics)            # answered once every partition is open: recovered
    rec = Recovered(load, topics, data)
    append_after(b2, topics, ends)
    rec.consume(b2, ends)
    summary(f"acks={acks}", load, rec, timings)
    assert not b2.crashed(), f"recovered broker died:\n{b2.log_tail()}"
    return load, rec, timings


def test_acks_all_survives_power_loss(rig):
    load, rec, _ = recover(rig, "all")
    last_acked = {}
    for ti, part, o, _ in load.acked:
        last_acked[(ti, part)] = max(o, last_acked.get((ti, part), -1))
    assert len(last_acked) == TOPICS * PARTS, \
        f"only {len(last_acked)} partitions got acks (first error: {load.first_error})"
    assert len(load.acked) >= 1000, f"too few acks to mean anything: {len(load.acked)}"
    assert not rec.missing, (f"{len(rec.missing)} of {len(load.acked)} acknowledged records "
                             f"lost in the power cut, e.g. {rec.missing[:5]}")
    holes = rec.holes_below(last_acked)
    assert not holes, f"offsets missing below the last acknowledged (held, wanted): {holes}"
    rec.check_served()


def test_acks1_without_flush_loses_data(rig):
    """Negative control: acks=1 is acknowledged before any fsync and the
    default flush policy never flushes, so the power-loss image must lack
    acknowledged records. No topic rolls here: a roll syncs the sealed
    segment (and with spillway.storage.flush.mode=auto a syncfs covers the
    whole file system), as Kafka flushes on roll."""
    load, rec, timings = recover(rig, "1", [{}] * TOPICS)
    assert len(load.acked) >= 1000, f"too few acks to mean anything: {len(load.acked)}"
    assert rec.missing, (
        f"all {len(load.acked)} acks=1 records survived the power cut: the snapshot is not "
        f"a power-loss image ({timings['since_create_s']:.1f} s from topic creation to "
        f"snapshot; the kernel writes back dirty pages after {WRITEBACK_EXPIRE_S:.0f} s)")
    rec.check_served()
