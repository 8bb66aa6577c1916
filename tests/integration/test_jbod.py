# SPDX-License-Identifier: Apache-2.0
"""log.dirs with several directories (JBOD).

A broker with three log dirs spreads new partitions by count (Kafka's
LogManager.nextLogDirs: the dir holding the fewest partitions), keeps every
partition in its dir across a restart with its data, and DescribeLogDirs
(the wire, and kafka-log-dirs.sh) lists every dir with its own partitions.
A dir that fails is offline and DescribeLogDirs shows it with
KAFKA_STORAGE_ERROR, while a real producer on another dir's partition keeps
working. As Kafka 3.9 (checked with the oracle backend): a dir unusable at
start (here: replaced by a file while the broker is down) leaves its
partitions without a log, answered NOT_LEADER_OR_FOLLOWER to Produce,
Fetch and ListOffsets, and once the dir is back, so is its data; a dir
whose I/O fails while running (an ext4 shut down under it) turns its
partitions KAFKA_STORAGE_ERROR (Kafka's HostedPartition.Offline)."""
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

import kwire as k
from conftest import backend_name, java_classpath, unique_topic
from test_delete_records import (create_topic, describe_log_dirs, fetch_one, java_tool,
                                 produce)

KAFKA_STORAGE_ERROR = 56
NOT_LEADER_OR_FOLLOWER = 6
DIRS = 3


@pytest.fixture
def dirs():
    root = Path(tempfile.mkdtemp(prefix="spillway-jbod-"))
    paths = [root / f"d{i}" for i in range(DIRS)]
    yield paths
    shutil.rmtree(root, ignore_errors=True)


def jbod_broker(broker_factory, paths):
    return broker_factory({"log.dirs": ",".join(str(p) for p in paths)})


def placement(paths, topics):
    """{(topic, partition): dir index} from the disk; each in exactly one."""
    out = {}
    for i, d in enumerate(paths):
        for name in os.listdir(d):
            topic, _, p = name.rpartition("-")
            if topic in topics and p.isdigit():
                assert (topic, int(p)) not in out, f"{name} in two dirs"
                out[(topic, int(p))] = i
    return out


def offsets_error(broker, topic, partition):
    body = k.list_offsets_body(5, [(topic, [(partition, -1, -1)])])
    return k.parse_list_offsets(5, k.call(broker, k.LIST_OFFSETS, 5, body))[0][2]


def produce_error(broker, topic, partition):
    body = k.produce_body(7, [(topic, [(partition, k.record_batch([b"x"]))])])
    return k.parse_produce(7, k.call(broker, k.PRODUCE, 7, body, timeout=30))[0][2]


def test_spread_restart_describe(broker_factory, dirs):
    b = jbod_broker(broker_factory, dirs)
    sizes = {"a": 6, "b": 5, "c": 1}
    names = {t: unique_topic(f"jbod{t}") for t in sizes}
    for t, n in sizes.items():
        create_topic(b, names[t], n)
    where = placement(dirs, set(names.values()))
    assert len(where) == 12, where
    per_dir = [list(where.values()).count(i) for i in range(DIRS)]
    assert per_dir == [4, 4, 4], per_dir
    hw = {}
    for (t, p) in where:
        produce(b, t, p, 1 + p % 3)
        hw[(t, p)] = 5 * (1 + p % 3)

    def check_describe():
        _, got = describe_log_dirs(b, None)
        assert [os.path.realpath(d[1]) for d in got] == [os.path.realpath(d) for d in dirs]
        seen = {}
        for i, (err, _, tmap, total, usable) in enumerate(got):
            assert err == 0 and total > 0 and usable > 0, got[i]
            for t, parts in tmap.items():
                if t in names.values():
                    for p, (size, _, _) in parts.items():
                        assert size > 0, (t, p, size)
                        seen[(t, p)] = i
        assert seen == where

    check_describe()
    b.stop()
    b.start()
    assert placement(dirs, set(names.values())) == where, "a partition moved"
    for (t, p), want in hw.items():
        err, got_hw, _ = fetch_one(b, t, p, 0)
        assert (err, got_hw) == (0, want), (t, p)
    check_describe()
    # New partitions after the restart: the counts (4, 4, 4) came back
    # from the scan, so three more go one to each dir.
    d = unique_topic("jbodd")
    create_topic(b, d, 3)
    assert sorted(placement(dirs, {d}).values()) == [0, 1, 2]

    out = java_tool(java_classpath(with_classes=False), "org.apache.kafka.tools.LogDirsCommand",
                    "--bootstrap-server", b.bootstrap, "--describe",
                    "--topic-list", ",".join(names.values()))
    doc = json.loads(out.strip().splitlines()[-1])
    logdirs = doc["brokers"][0]["logDirs"]
    assert sorted(os.path.realpath(d["logDir"]) for d in logdirs) == \
        sorted(os.path.realpath(d) for d in dirs)
    for d in logdirs:
        i = [os.path.realpath(x) for x in dirs].index(os.path.realpath(d["logDir"]))
        assert d["error"] is None, d
        got = sorted(p["partition"] for p in d["partitions"])
        assert got == sorted(f"{t}-{p}" for (t, p), j in where.items() if j == i), d


def test_failed_dir_takes_only_its_partitions_offline(broker_factory, dirs):
    from confluent_kafka import Producer
    b = jbod_broker(broker_factory, dirs)
    t = unique_topic("jbodfail")
    create_topic(b, t, 6)
    where = placement(dirs, {t})
    for p in range(6):
        produce(b, t, p, 2)
    b.stop()
    aside = dirs[2].with_name("d2.aside")
    dirs[2].rename(aside)
    dirs[2].write_text("not a directory")          # the dir is gone: unusable
    try:
        b.start()
        bad = [p for (_, p), i in where.items() if i == 2]
        good = [p for (_, p), i in where.items() if i == 0]
        assert bad and good
        for p in bad:
            assert produce_error(b, t, p) == NOT_LEADER_OR_FOLLOWER
            assert fetch_one(b, t, p, 0) == (NOT_LEADER_OR_FOLLOWER, -1, -1)
            assert offsets_error(b, t, p) == NOT_LEADER_OR_FOLLOWER
        _, got = describe_log_dirs(b, None)
        assert [(d[0], bool(d[2])) for d in got] == \
            [(0, True), (0, True), (KAFKA_STORAGE_ERROR, False)], got
        assert got[2][3] == -1 and got[2][4] == -1, got[2]
        # A real producer on a partition of a live dir keeps working.
        acked = []
        pr = Producer({"bootstrap.servers": b.bootstrap, "acks": "all",
                       "message.timeout.ms": 20000})
        for i in range(20):
            pr.produce(t, value=b"ok%d" % i, partition=good[0],
                       on_delivery=lambda err, msg: acked.append(err))
        assert pr.flush(30) == 0
        assert acked == [None] * 20, acked
        assert fetch_one(b, t, good[0], 0)[:2] == (0, 30)
        b.stop()
    finally:
        dirs[2].unlink()
        aside.rename(dirs[2])
    # The dir is back: its partitions, with their data, too.
    b.start()
    for p in bad:
        assert fetch_one(b, t, p, 0)[:2] == (0, 10)
        assert produce_error(b, t, p) == 0


EXT4_IOC_SHUTDOWN = 0x8004587D    # _IOR('X', 125, __u32)
EXT4_GOING_FLAGS_NOLOGFLUSH = 2


def test_io_error_takes_its_dir_offline(broker_factory, dirs):
    """The third dir is an ext4 on a loop device; shutting that file system
    down (every I/O on it fails with EIO from then on, as a dead disk) while
    the broker runs takes that dir offline at its first failed write: its
    partitions answer KAFKA_STORAGE_ERROR, the others keep taking records."""
    import fcntl
    import struct

    import power_disk
    why = power_disk.unavailable()
    if why:
        pytest.skip(why)
    from confluent_kafka import Producer
    disk = power_disk.PowerLossDisk(dirs[0].parent, size_mib=64)
    try:
        mount = disk.create("d2disk")
        dirs[2] = mount.mnt / "data"
        b = jbod_broker(broker_factory, dirs)
        t = unique_topic("jbodio")
        create_topic(b, t, 6)
        where = placement(dirs, {t})
        for p in range(6):
            produce(b, t, p, 1)
        bad = [p for (_, p), i in where.items() if i == 2]
        good = [p for (_, p), i in where.items() if i != 2]
        fd = os.open(mount.mnt, os.O_RDONLY)
        try:
            fcntl.ioctl(fd, EXT4_IOC_SHUTDOWN, struct.pack("I", EXT4_GOING_FLAGS_NOLOGFLUSH))
        finally:
            os.close(fd)
        # The write that meets the failure: Kafka's JVM sees it through an
        # index mmap (an InternalError, answered UNKNOWN_SERVER_ERROR); ours
        # through the write's EIO.
        # Kafka takes the dir offline on a thread of its own (its
        # LogDirFailureHandler): the answers settle within moments.
        first = produce_error(b, t, bad[0])
        assert first == KAFKA_STORAGE_ERROR or (backend_name() != "spillway" and first == -1)
        deadline = time.monotonic() + 15
        while produce_error(b, t, bad[-1]) != KAFKA_STORAGE_ERROR:
            assert backend_name() != "spillway" and time.monotonic() < deadline
            time.sleep(0.2)
        for p in bad:
            assert produce_error(b, t, p) == KAFKA_STORAGE_ERROR
            assert fetch_one(b, t, p, 0) == (KAFKA_STORAGE_ERROR, -1, -1)
            assert offsets_error(b, t, p) == KAFKA_STORAGE_ERROR
        _, got = describe_log_dirs(b, None)
        assert [d[0] for d in got] == [0, 0, KAFKA_STORAGE_ERROR], got
        assert got[2][2:] == ({}, -1, -1), got[2]
        acked = []
        pr = Producer({"bootstrap.servers": b.bootstrap, "acks": "all",
                       "message.timeout.ms": 20000})
        for p in good:
            pr.produce(t, value=b"still", partition=p,
                       on_delivery=lambda err, msg: acked.append(err))
        assert pr.flush(30) == 0
        assert acked == [None] * len(good), acked
        for p in good:
            assert fetch_one(b, t, p, 0)[:2] == (0, 6)
        assert b.alive()
        if backend_name() == "spillway":
            log = b.log_path.read_text(errors="replace")
            assert f"log dir {dirs[2]} is offline" in log
        b.stop()
    finally:
        disk.close()
