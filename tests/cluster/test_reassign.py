# SPDX-License-Identifier: Apache-2.0
"""Partition reassignment in cluster mode (issue 17 part 5, KIP-455):
kafka-reassign-partitions.sh --execute then --verify moves replicas (RF 2
partitions to other brokers, and RF 2 -> 3) under idempotent acks=all
producers, after which every acknowledged record is there exactly once,
the replicas and ISRs are the targets and the removed replicas' log
directories are gone; ListPartitionReassignments during a move (the new
replica paused, so the move cannot finish) answers replicas, adding and
removing per partition; a cancel reverts; the error answers. The same
assertions hold with SPILLWAY_TEST_BACKEND=kafka."""
import json
import signal
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

import harness
import kwire
import load
from conftest_cli import JAVA_OPTS, classpath
from history import History
from kwire import Writer

ALTER, LIST = 45, 46
kwire.FLEXIBLE_FROM.setdefault(ALTER, 0)
kwire.FLEXIBLE_FROM.setdefault(LIST, 0)
NONE, UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT = 0, 3, 39
NOT_CONTROLLER, NO_REASSIGNMENT_IN_PROGRESS, REASSIGNMENT_IN_PROGRESS = 41, 85, 60
CREATE_PARTITIONS = 37


def alter(bootstrap, parts, timeout_ms=30000):
    """AlterPartitionReassignments v0 ({(topic, partition): replicas or
    None}): (top error, top message, {(topic, partition): (error, message)})."""
    by_topic = {}
    for (t, p), r in parts.items():
        by_topic.setdefault(t, []).append((p, r))
    w = Writer(True).i32(timeout_ms).arr(len(by_topic))
    for t, ps in by_topic.items():
        w.str(t).arr(len(ps))
        for p, r in ps:
            w.i32(p).arr(None if r is None else len(r))
            for x in r or []:
                w.i32(x)
            w.tags()
        w.tags()
    w.tags()
    r = kwire.call(bootstrap, ALTER, 0, w.b, timeout=timeout_ms / 1000 + 10)
    r.i32()
    top, msg, out = r.i16(), r.str(), {}
    for _ in range(r.arr()):
        t = r.str()
        for _ in range(r.arr()):
            p, err, m = r.i32(), r.i16(), r.str()
            r.tags()
            out[(t, p)] = (err, m)
        r.tags()
    r.tags()
    return top, msg, out


def _ids(r):
    return [r.i32() for _ in range(r.arr())]


def list_reassign(bootstrap, parts=None):
    """ListPartitionReassignments v0 ({topic: [partitions]}, None: all):
    (top error, {(topic, partition): (replicas, adding, removing)})."""
    w = Writer(True).i32(30000)
    if parts is None:
        w.arr(None)
    else:
        w.arr(len(parts))
        for t, ps in parts.items():
            w.str(t).arr(len(ps))
            for p in ps:
                w.i32(p)
            w.tags()
    w.tags()
    r = kwire.call(bootstrap, LIST, 0, w.b, timeout=40)
    r.i32()
    top, _msg, out = r.i16(), r.str(), {}
    for _ in range(r.arr()):
        t = r.str()
        for _ in range(r.arr()):
            p = r.i32()
            out[(t, p)] = (_ids(r), _ids(r), _ids(r))
            r.tags()
        r.tags()
    r.tags()
    return top, out


def create_partitions(bootstrap, topic, count):
    """CreatePartitions v1 of one topic: (error, message)."""
    w = Writer(False).arr(1).str(topic).i32(count).arr(None).i32(30000).bool(False)
    r = kwire.call(bootstrap, CREATE_PARTITIONS, 1, w.b, timeout=40)
    r.i32()
    assert r.arr() == 1
    r.str()
    return r.i16(), r.str()


def reassign_cli(bootstrap, *args, timeout=120):
    """kafka-reassign-partitions.sh: (exit code, stdout + stderr)."""
    if shutil.which("java") is None:
        pytest.skip("java not found")
    cmd = ["java", *JAVA_OPTS, "-cp", classpath(),
           "org.apache.kafka.tools.reassign.ReassignPartitionsCommand",
           "--bootstrap-server", bootstrap, *args]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def _config(c, kind, name, key):
    """A config's value as DescribeConfigs tells (None: not listed)."""
    from confluent_kafka.admin import AdminClient, ConfigResource
    admin = AdminClient({"bootstrap.servers": c.bootstrap(c.live())})
    res = ConfigResource(kind, name)
    entries = admin.describe_configs([res], request_timeout=30)[res].result(timeout=30)
    e = entries.get(key)
    return None if e is None else e.value


def _controller(c):
    return c.brokers[c.controller()]


def _gone(c, broker, topic, p):
    return not (c.brokers[broker].data / f"{topic}-{p}").exists()


def _settled(c, topics, targets):
    """Every live broker shows each partition on its target with the whole
    target in the ISR and a leader from it."""
    want = dict(targets)

    last = {}

    def check():
        for b, md in c.views(topics).items():
            for (t, i), r in want.items():
                p = md.topics[t].partitions.get(i) if t in md.topics else None
                last[(b, t, i)] = p
                if p is None or p.replicas != r or sorted(p.isr) != sorted(r) or \
                        p.leader not in r:
                    return False
        return True
    try:
        return harness.wait_for(check, 90, f"targets {want}")
    except harness.Timeout as e:
        raise AssertionError(f"{e}; views: {last}") from None


def test_execute_verify_under_load(cluster):
    c = cluster
    tag = uuid.uuid4().hex[:6]
    move, grow = f"ra-move-{tag}", f"ra-grow-{tag}"
    topics = [move, grow]
    c.create_topics(topics, 3, 2)
    c.wait_full_isr(topics, 2)
    md = c.metadata(topics=topics)
    targets, removed = {}, []
    for i, p in md.topics[move].partitions.items():
        other = next(b for b in (1, 2, 3) if b not in p.replicas)
        # The preferred (leading) replica goes: leadership moves too.
        targets[(move, i)] = [other, p.replicas[1]]
        removed.append((p.replicas[0], move, i))
    for i, p in md.topics[grow].partitions.items():
        other = next(b for b in (1, 2, 3) if b not in p.replicas)
        targets[(grow, i)] = p.replicas + [other]
    h = History()
    producers = [load.ProducerLoad(f"p{k}", c.bootstrap(), topics, h, rate=300)
                 for k in range(2)]
    for p in producers:
        p.start()
    harness.wait_for(lambda: len(h.acked) > 300, 60, "records before")
    plan = {"version": 1, "partitions": [{"topic": t, "partition": i, "replicas": r}
                                         for (t, i), r in targets.items()]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(plan, f)
    rc, out = reassign_cli(c.bootstrap(), "--execute", "--reassignment-json-file", f.name,
                           "--throttle", "100000000")
    assert rc == 0, out
    assert "Successfully started partition reassignment" in out, out
    # --throttle: the broker and topic throttles are set (stored, and
    # described as Kafka does) until --verify sees the moves done.
    assert _config(c, "BROKER", "1", "leader.replication.throttled.rate") == "100000000"
    assert _config(c, "BROKER", "2", "follower.replication.throttled.rate") == "100000000"
    assert _config(c, "TOPIC", move, "leader.replication.throttled.replicas")
    assert _config(c, "TOPIC", grow, "follower.replication.throttled.replicas")
    deadline = time.monotonic() + 120
    while True:
        rc, out = reassign_cli(c.bootstrap(), "--verify", "--reassignment-json-file", f.name)
        assert rc == 0, out
        if "still in progress" not in out:
            break
        assert time.monotonic() < deadline, out
        time.sleep(1)
    for t, i in targets:
        assert f"Reassignment of partition {t}-{i} is completed" in out, out
    assert "Clearing broker-level throttles" in out, out
    assert "Clearing topic-level throttles" in out, out
    for b in ("1", "2", "3"):
        assert _config(c, "BROKER", b, "leader.replication.throttled.rate") is None
    assert not _config(c, "TOPIC", move, "leader.replication.throttled.replicas")
    # More load on the new replicas, then stop.
    n = len(h.acked)
    harness.wait_for(lambda: len(h.acked) > n + 300, 60, "records after")
    for p in producers:
        assert p.stop() == 0, f"{p.name}: acknowledgements missing after flush"
    # Every record acknowledged: no stall on a moved partition (a Metadata
    # answer computed early and held behind slow acks=all replies once
    # kept librdkafka 2.0.2 on the old leader until message.timeout.ms).
    load.assert_only_retriable(producers)
    _settled(c, topics, targets)
    top, ongoing = list_reassign(_controller(c).bootstrap)
    assert top == NONE and not any(t in topics for t, _ in ongoing), ongoing
    for b, t, i in removed:
        harness.wait_for(lambda: _gone(c, b, t, i), 60, f"{t}-{i} gone from broker {b}")
    # A new leader's high watermark catches up with its followers' next fetch.
    ends = harness.wait_for(lambda: (lambda e: sum(e.values()) >= len(h.acked) and e)(
        c.end_offsets(topics)), 30, "high watermarks")
    load.consume_all(c.bootstrap(), topics, h, ends, group=f"g-{tag}")
    v = h.check()
    v.assert_ok(min_acked=600)
    assert v.counts["consumed"] == len(h.acked), v


def _reverted(target, original):
    """A cancelled move's replicas: the original ones in the order of the
    moving list (target, then the original-only), as Kafka keeps them."""
    full = list(dict.fromkeys(target + original))
    return [x for x in full if x in original]


def _absent_from(md, topic, broker):
    return sorted(i for i, p in md.topics[topic].partitions.items()
                  if broker not in p.replicas)


def test_list_during_move_and_cancel(cluster):
    """The new replica is paused (its ZooKeeper session lives on for
    a while), so the moves cannot finish while List and cancel run."""
    c = cluster
    tag = uuid.uuid4().hex[:6]
    topics = [f"ra-list-{tag}-{k}" for k in range(2)]
    c.create_topics(topics, 6, 2)
    c.wait_full_isr(topics, 2)
    ctl = _controller(c)
    new = next(b for b in c.brokers.values() if b.id != ctl.id)
    md = c.metadata(topics=topics)
    parts, want = {}, {}
    for t in topics:
        a, b = _absent_from(md, t, new.id)[:2]
        pa, pb = md.topics[t].partitions[a], md.topics[t].partitions[b]
        # a: one replica replaced (the leader goes); b: RF 2 -> 3.
        parts[(t, a)] = [new.id, pa.replicas[1]]
        want[(t, a)] = ([new.id, pa.replicas[1], pa.replicas[0]], [new.id], [pa.replicas[0]])
        parts[(t, b)] = pb.replicas + [new.id]
        want[(t, b)] = (pb.replicas + [new.id], [new.id], [])
    cancel = (topics[0], sorted(p for t, p in parts if t == topics[0])[1])
    new.pause()
    try:
        top, _m, res = alter(ctl.bootstrap, parts)
        assert top == NONE and res == {tp: (NONE, None) for tp in parts}, res
        top, got = list_reassign(ctl.bootstrap)
        assert top == NONE
        assert {tp: v for tp, v in got.items() if tp[0] in topics} == want, got
        top, got = list_reassign(ctl.bootstrap, {topics[1]: list(range(6)), "ra-nosuch": [0]})
        assert got == {tp: v for tp, v in want.items() if tp[0] == topics[1]}, got
        assert create_partitions(ctl.bootstrap, topics[1], 8) == (
            REASSIGNMENT_IN_PROGRESS,
            f"A partition reassignment is in progress for the topic '{topics[1]}'.")
        top, _m, res = alter(ctl.bootstrap, {cancel: None})
        assert res == {cancel: (NONE, None)}, res
        top, got = list_reassign(ctl.bootstrap, {topics[0]: list(range(6))})
        assert got == {tp: v for tp, v in want.items() if tp[0] == topics[0] and tp != cancel}
        top, _m, res = alter(ctl.bootstrap, {cancel: None})
        assert res == {cancel: (NO_REASSIGNMENT_IN_PROGRESS,
                                "No partition reassignment is in progress.")}, res
    finally:
        new.resume()
    targets = {tp: r for tp, r in parts.items() if tp != cancel}
    targets[cancel] = _reverted(parts[cancel], md.topics[cancel[0]].partitions[cancel[1]].replicas)
    _settled(c, topics, targets)
    harness.wait_for(lambda: not any(tp[0] in topics for tp in
                                     list_reassign(ctl.bootstrap)[1]), 30, "no reassignment")
    for (t, i), (_r, _a, rem) in want.items():
        for b in rem:
            harness.wait_for(lambda: _gone(c, b, t, i), 60, f"{t}-{i} gone from {b}")
    harness.wait_for(lambda: _gone(c, new.id, *cancel), 60, "cancelled replica gone")


def test_errors(cluster):
    c = cluster
    topic = f"ra-err-{uuid.uuid4().hex[:6]}"
    c.create_topics([topic], 2, 2)
    c.wait_full_isr([topic], 2)
    ctl = _controller(c)
    cur = c.metadata(topics=[topic]).topics[topic].partitions[0]
    top, _m, res = alter(ctl.bootstrap, {
        (topic, 0): [], (topic, 1): [1, 1], (topic, 7): [1], ("ra-nosuch", 0): [2],
        ("ra-nosuch", 1): None})
    assert top == NONE
    assert res[(topic, 0)] == (INVALID_REPLICA_ASSIGNMENT,
                               "Empty replica list specified in partition reassignment."), res
    assert res[(topic, 1)] == (INVALID_REPLICA_ASSIGNMENT, "Duplicate replica ids in "
                               "partition reassignment replica list: ArrayBuffer(1, 1)"), res
    assert res[(topic, 7)] == (UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist."), res
    assert res[("ra-nosuch", 0)] == (UNKNOWN_TOPIC_OR_PARTITION,
                                     "The partition does not exist."), res
    assert res[("ra-nosuch", 1)] == (NO_REASSIGNMENT_IN_PROGRESS,
                                     "No partition reassignment is in progress."), res
    top, _m, res = alter(ctl.bootstrap, {(topic, 0): [1, 9], (topic, 1): [-1, 2]})
    adding = ", ".join(str(x) for x in (1, 9) if x not in cur.replicas)
    err, msg = res[(topic, 0)]
    head = ("Replica assignment has brokers that are not alive. Replica list: "
            f"ArrayBuffer({adding}), live broker list: Set(")
    assert err == INVALID_REPLICA_ASSIGNMENT and msg.startswith(head) and msg.endswith(")"), res
    # A Scala set: its order is Kafka's business.
    assert sorted(int(x) for x in msg[len(head):-1].split(", ")) == [1, 2, 3], res
    assert res[(topic, 1)] == (INVALID_REPLICA_ASSIGNMENT,
                               "Invalid broker id in replica list: ArrayBuffer(-1, 2)"), res
    # The same replicas: accepted, nothing moves.
    top, _m, res = alter(ctl.bootstrap, {(topic, 0): cur.replicas})
    assert res == {(topic, 0): (NONE, None)}, res
    assert c.partition(topic, 0, via=ctl.id).replicas == cur.replicas
    assert list_reassign(ctl.bootstrap, {topic: [0, 1]}) == (NONE, {})
    # Only the controller answers.
    other = next(b for b in c.brokers.values() if b.id != ctl.id)
    top, msg, res = alter(other.bootstrap, {(topic, 0): cur.replicas})
    assert (top, msg, res) == (NOT_CONTROLLER,
                               "This is not the correct controller for this cluster.", {})
    assert list_reassign(other.bootstrap) == (NOT_CONTROLLER, {})


def test_cancel_cli_and_controller_failover(cluster_factory):
    """Moves that cannot finish (the new replica is stopped, then killed,
    before it copied anything): kafka-reassign-partitions.sh --cancel
    reverts one; the controller dies with the other in progress, and the
    next controller finishes it from what ZooKeeper holds once the
    brokers are back."""
    c = cluster_factory(3)
    topic = f"ra-fo-{uuid.uuid4().hex[:6]}"
    c.create_topics([topic], 6, 2)
    c.wait_full_isr([topic], 2)
    ctl = _controller(c)
    new = next(b for b in c.brokers.values() if b.id != ctl.id)
    md = c.metadata(topics=[topic])
    a, b = _absent_from(md, topic, new.id)[:2]
    pa, pb = md.topics[topic].partitions[a], md.topics[topic].partitions[b]
    grow, swap = pa.replicas + [new.id], [new.id, pb.replicas[1]]
    new.pause()
    top, _m, res = alter(ctl.bootstrap, {(topic, a): grow, (topic, b): swap})
    new._signal(signal.SIGKILL)         # never runs again: nothing copied
    new.kill()
    assert res == {(topic, a): (NONE, None), (topic, b): (NONE, None)}, res
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"version": 1, "partitions": [
            {"topic": topic, "partition": b, "replicas": swap}]}, f)
    # --preserve-throttles: clearing them would ask the dead broker too.
    rc, out = reassign_cli(c.bootstrap(c.live()), "--cancel", "--reassignment-json-file",
                           f.name, "--preserve-throttles")
    assert rc == 0, out
    assert "Successfully cancelled partition reassignment" in out, out
    top, got = list_reassign(ctl.bootstrap)
    assert (top, set(got)) == (NONE, {(topic, a)}), got
    ctl.kill()
    c.wait_controller(not_in=(ctl.id, new.id))
    new.start()
    ctl.start()
    targets = {(topic, a): grow, (topic, b): _reverted(swap, pb.replicas)}
    _settled(c, [topic], targets)
    harness.wait_for(lambda: list_reassign(_controller(c).bootstrap) == (NONE, {}), 30,
                     "no reassignment")
    assert c.controller() != ctl.id
