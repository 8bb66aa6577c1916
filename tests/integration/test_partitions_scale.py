# SPDX-License-Identifier: Apache-2.0
"""Partitions at scale and what a topic leaves on disk (issue 11).

Descriptors are a budgeted resource: the broker runs under a low
RLIMIT_NOFILE (prlimit) and must still create, write, read and delete far
more partitions than it has descriptors: 1,000 within 1,024 (every one of
them written at once by one producer), and 100,000 within 65,536 (or the
hard limit, when that is lower; marked `scale`, a few minutes). After a
delete the directories go (moved aside under "-delete" names, then removed
in the background) and the descriptor count returns to where it was.

A CreateTopics that fails midway (a tmpfs log dir out of inodes) leaves no
trace: no directory, no descriptor, the topic store byte for byte as it
was, nothing after a restart, and a later create succeeds.

Start-up removes directories of partitions that metadata does not know and
finishes "-delete" directories an interrupted delete left.

Spillway only: the descriptor limits are sized for Spillway's cache (Kafka
keeps every segment open), and the other cases test Spillway's own log dir
handling."""
import os
import resource
import subprocess
import time
from pathlib import Path

import pytest

import data_scenarios as ds
from conftest import Broker, backend_name, unique_topic

pytestmark = pytest.mark.skipif(backend_name() != "spillway",
                                reason="Spillway's descriptor budget and log dir handling")

LOG_DIR_FILES = {"meta.properties", "__spillway_topics", "__spillway_producer_ids"}


class LimitedBroker(Broker):
    """A broker whose RLIMIT_NOFILE (soft and hard) is nofile: prlimit
    execs the broker, so proc.pid is the broker's."""

    def __init__(self, nofile, overrides=None):
        super().__init__("spillway", overrides)
        self.nofile = nofile

    def _spillway_argv(self):
        return ["prlimit", f"--nofile={self.nofile}:{self.nofile}", "--"] + \
            super()._spillway_argv()


@pytest.fixture
def limited_broker():
    made = []

    def make(nofile, overrides=None):
        if os.environ.get("SPILLWAY_BOOTSTRAP"):
            pytest.skip("needs its own broker; SPILLWAY_BOOTSTRAP is set")
        b = LimitedBroker(nofile, overrides).start()
        made.append(b)
        return b

    yield make
    for b in made:
        crashed = b.crashed()
        tail = b.log_tail() if crashed else ""
        b.cleanup()
        if crashed:
            pytest.fail(f"broker died (rc {b.proc.returncode}):\n{tail}", pytrace=False)


def fds(b):
    return len(os.listdir(f"/proc/{b.proc.pid}/fd"))


def internal_fds(b):
    """Descriptors on __consumer_offsets segments: loading the groups after a
    restart reads every partition, and the file cache keeps what it opened
    (the topic exists once a client's group.id made librdkafka look up its
    coordinator, as on Kafka)."""
    d = f"/proc/{b.proc.pid}/fd"
    n = 0
    for f in os.listdir(d):
        try:
            n += "/__consumer_offsets-" in os.readlink(f"{d}/{f}")
        except OSError:
            pass
    return n


def settled_fds(b):
    """fds(b) once the broker has answered a request. Its port accepts
    connections from dp_create() on, before storage starts its reaper
    rings and before the cores run, so a count taken as soon as the port
    answers can be short of the broker's own descriptors."""
    admin(b).list_topics(timeout=30)
    return fds(b)


def fd_kinds(b):
    """What the process's descriptors point at, counted by kind (socket,
    anon_inode:[io_uring], a file under the data dir...), to say what a
    count over the baseline is made of."""
    kinds = {}
    d = f"/proc/{b.proc.pid}/fd"
    for n in os.listdir(d):
        try:
            t = os.readlink(f"{d}/{n}")
        except OSError:
            continue
        t = t.split(":[")[0] if t.startswith(("socket:", "pipe:")) else \
            ("<data>" + t[len(str(b.data)):].split("/")[-1] if t.startswith(str(b.data)) else t)
        kinds[t] = kinds.get(t, 0) + 1
    return kinds


def rss_mb(b):
    with open(f"/proc/{b.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return -1


def entries(b):
    """Names in the log dir besides the store's own files and the
    partitions of __consumer_offsets (created by the first FindCoordinator,
    which librdkafka sends for its group.id even when it only assigns, and
    kept like any internal topic)."""
    return sorted(n for n in set(os.listdir(b.data)) - LOG_DIR_FILES
                  if not n.startswith("__consumer_offsets-"))


def wait_until(what, cond, timeout, detail=lambda: ""):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} {detail()}")
        time.sleep(0.2)


def admin(b):
    from confluent_kafka.admin import AdminClient
    return AdminClient({"bootstrap.servers": b.bootstrap, "socket.timeout.ms": 300000})


def create(b, topics, parts, timeout=600):
    from confluent_kafka.admin import NewTopic
    a = admin(b)
    fs = a.create_topics([NewTopic(t, parts, 1) for t in topics], operation_timeout=timeout,
                         request_timeout=timeout)
    for t in topics:
        fs[t].result(timeout)


def delete(b, topics, timeout=600):
    a = admin(b)  # alive until the results are in
    fs = a.delete_topics(topics, operation_timeout=timeout, request_timeout=timeout)
    for t in topics:
        fs[t].result(timeout)


def produce(b, targets, acks="all"):
    """One record to each (topic, partition); every one acknowledged."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": acks, "linger.ms": 20,
                  "message.timeout.ms": 120000, "queue.buffering.max.messages": 1000000})
    errors = []

    def cb(err, msg):
        if err is not None:
            errors.append((msg.topic(), msg.partition(), str(err)))

    for t, q in targets:
        p.produce(t, b"value-%s-%d" % (t.encode(), q), partition=q, on_delivery=cb)
        p.poll(0)
    assert p.flush(180) == 0, "records still in flight"
    assert errors == [], errors[:5]


def consume(b, targets, timeout=120):
    """The record produce() wrote to each (topic, partition), read back."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "scale-check",
                  "enable.auto.commit": False})
    want = {(t, q): b"value-%s-%d" % (t.encode(), q) for t, q in targets}
    got = {}
    try:
        c.assign([TopicPartition(t, q, 0) for t, q in targets])
        deadline = time.monotonic() + timeout
        while len(got) < len(want) and time.monotonic() < deadline:
            for m in c.consume(1000, 1.0):
                if m.error() is None:
                    got[(m.topic(), m.partition())] = m.value()
    finally:
        c.close()
    assert got == want, f"{len(got)} of {len(want)} read back"


def listed(b, topic):
    return topic in admin(b).list_topics(timeout=30).topics


def test_thousand_partitions_within_1024_descriptors(limited_broker):
    b = limited_broker(1024)
    base, base_kinds = settled_fds(b), fd_kinds(b)
    topic = unique_topic("fd1k")
    t0 = time.monotonic()
    create(b, [topic], 1000)
    created_s = time.monotonic() - t0
    assert fds(b) < 1024 - 100, f"{fds(b)} descriptors: no room left for clients"
    # One producer writes every partition at once: more writes in flight
    # than the cache's budget; they wait for descriptors, none fails.
    everything = [(topic, q) for q in range(1000)]
    produce(b, everything)
    consume(b, sorted(set(everything[::37] + [(topic, 998)])))
    b.restart()
    if settled_fds(b) < base:
        base, base_kinds = fds(b), fd_kinds(b)
    consume(b, everything[::101])
    delete(b, [topic])
    wait_until("the partition directories to go", lambda: entries(b) == [], 120)
    wait_until("descriptors back to the baseline",
               lambda: fds(b) - internal_fds(b) <= base + 4, 30,
               lambda: f"{fd_kinds(b)} (baseline {base_kinds})")
    print(f"1000 partitions under nofile 1024: created in {created_s:.1f}s, "
          f"{fds(b)} fds after delete (baseline {base})")


def _hard_nofile():
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


@pytest.mark.scale
def test_hundred_thousand_partitions(limited_broker):
    """100,000 partitions (10 topics x 10,000, Kafka's per-request maximum
    here) created, sampled, recovered after a restart and deleted."""
    hard = _hard_nofile()
    nofile = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    if nofile < 4096:
        pytest.skip(f"hard RLIMIT_NOFILE {hard} is too low to mean anything here")
    b = limited_broker(nofile)
    base = settled_fds(b)
    topics = [unique_topic(f"fd100k{i}") for i in range(10)]
    timings = {}
    t0 = time.monotonic()
    for t in topics:
        create(b, [t], 10000)
    timings["create"] = time.monotonic() - t0
    assert fds(b) < nofile, "bounded by the budget"
    sample = [(t, q) for t in topics for q in (0, 4999, 9999, 1234 + topics.index(t))]
    t0 = time.monotonic()
    produce(b, sample)
    consume(b, sample)
    timings["produce+consume"] = time.monotonic() - t0
    rss = rss_mb(b)
    t0 = time.monotonic()
    b.restart()
    timings["restart"] = time.monotonic() - t0
    consume(b, sample)
    base = min(base, settled_fds(b))
    t0 = time.monotonic()
    delete(b, topics)
    timings["delete"] = time.monotonic() - t0
    t0 = time.monotonic()
    wait_until("100,000 directories to go", lambda: entries(b) == [], 900)
    timings["removal"] = time.monotonic() - t0
    wait_until("descriptors back to the baseline",
               lambda: fds(b) - internal_fds(b) <= base + 4, 30)
    print(f"100,000 partitions under nofile {nofile}: "
          + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())
          + f", RSS {rss} MB with them open")


@pytest.fixture
def tmpfs_broker():
    """A broker whose log dir is a tmpfs of 600 inodes (each partition takes
    six), mounted before it starts."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    b = Broker("spillway")
    b.data.mkdir(parents=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,nr_inodes=600", "tmpfs",
                        str(b.data)], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        pytest.skip(f"cannot mount tmpfs: {r.stderr}")
    try:
        yield b.start()
    finally:
        b.stop()
        subprocess.run(["umount", "-l", str(b.data)], capture_output=True, timeout=30)
        b.cleanup()


def test_failed_create_leaves_no_trace(tmpfs_broker):
    from confluent_kafka import KafkaError, KafkaException
    b = tmpfs_broker
    keep = unique_topic("keep")
    create(b, [keep], 2)
    produce(b, [(keep, 0), (keep, 1)])
    store = (b.data / "__spillway_topics").read_bytes()
    before, base = entries(b), settled_fds(b)
    big = unique_topic("toobig")
    with pytest.raises(KafkaException) as e:
        create(b, [big], 200)           # 1,200 inodes: fails a few dozen in
    assert e.value.args[0].code() == KafkaError.KAFKA_STORAGE_ERROR, e.value
    wait_until("the partial topic's directories to go", lambda: entries(b) == before, 30)
    assert fds(b) - internal_fds(b) <= base + 4, "descriptors of the failed create stay open"
    assert (b.data / "__spillway_topics").read_bytes() == store, "topic store changed"
    assert not listed(b, big)
    consume(b, [(keep, 0), (keep, 1)])
    b.restart()
    assert entries(b) == before
    assert not listed(b, big)
    consume(b, [(keep, 0), (keep, 1)])
    # The room the rollback gave back is there: a create that fits works.
    small = unique_topic("fits")
    create(b, [small], 20)
    produce(b, [(small, 19)])
    consume(b, [(small, 19)])


def test_startup_removes_unknown_directories(broker_factory):
    b = broker_factory()
    topic = ds.new_topic(b, "known", parts=2)
    produce(b, [(topic, 0), (topic, 1)])
    b.stop()
    data = Path(b.data)
    strays = {
        "ghost-0": ["00000000000000000000.log", "partition.metadata"],   # no such topic
        f"{topic}-7": ["00000000000000000000.log"],                       # beyond its count
        f"{topic}-1.0123456789abcdef0123456789abcdef-delete": ["00000000000000000000.log"],
    }
    for name, files in strays.items():
        (data / name).mkdir()
        for f in files:
            (data / name / f).write_bytes(b"old bytes")
    (data / "notes-3").write_text("a file, not a partition directory: not ours to judge\n")
    (data / "lost+found").mkdir()
    b.start()
    wait_until("the stray directories to go (moved aside, then removed)",
               lambda: not any(n in strays or n.endswith("-delete") for n in entries(b)), 30)
    assert (data / "notes-3").exists() and (data / "lost+found").exists()
    assert sorted(entries(b)) == sorted([f"{topic}-0", f"{topic}-1", "lost+found", "notes-3"])
    consume(b, [(topic, 0), (topic, 1)])
    log = b.log_path.read_text(errors="replace")
    for n in ("ghost-0", f"{topic}-7", "-delete"):
        assert n in log, f"removal of {n} not logged"
