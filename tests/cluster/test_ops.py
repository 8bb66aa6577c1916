# SPDX-License-Identifier: Apache-2.0
"""Operator APIs in cluster mode (issue 17 part 5). ElectLeaders: Kafka's
kafka-leader-election.sh (LeaderElectionCommand) moves leadership back to
the preferred replicas after a broker bounce; an UNCLEAN election brings a
partition whose whole ISR is gone back online on a live replica; the
answers for partitions that need no election, whose preferred replica is
down, and that do not exist, asked of a broker that is not the
controller."""
import shutil
import subprocess

import pytest

import kwire
from conftest_cli import JAVA_OPTS, classpath
from kwire import Writer

ELECT_LEADERS = 43
kwire.FLEXIBLE_FROM.setdefault(ELECT_LEADERS, 2)
PREFERRED, UNCLEAN = 0, 1
NONE, UNKNOWN_TOPIC_OR_PARTITION = 0, 3
PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE, ELECTION_NOT_NEEDED = 80, 83, 84


def elect_leaders(bootstrap, etype, parts, timeout_ms=30000):
    """ElectLeaders v2 ({topic: [partitions]}, None: all):
    (top error, {(topic, partition): (error, message)})."""
    w = Writer(True).i8(etype)
    if parts is None:
        w.arr(None)
    else:
        w.arr(len(parts))
        for t, ps in parts.items():
            w.str(t).arr(len(ps))
            for p in ps:
                w.i32(p)
            w.tags()
    w.i32(timeout_ms).tags()
    r = kwire.call(bootstrap, ELECT_LEADERS, 2, w.b, timeout=timeout_ms / 1000 + 10)
    r.i32()
    top, out = r.i16(), {}
    for _ in range(r.arr()):
        t = r.str()
        for _ in range(r.arr()):
            p, err, msg = r.i32(), r.i16(), r.str()
            r.tags()
            out[(t, p)] = (err, msg)
        r.tags()
    r.tags()
    return top, out


def leader_election(bootstrap, *args, timeout=90):
    """kafka-leader-election.sh: (exit code, stdout + stderr)."""
    if shutil.which("java") is None:
        pytest.skip("java not found")
    cmd = ["java", *JAVA_OPTS, "-cp", classpath(), "org.apache.kafka.tools.LeaderElectionCommand",
           "--bootstrap-server", bootstrap, *args]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def _preferred(p, _b):
    return p.leader == p.replicas[0] and sorted(p.isr) == sorted(p.replicas)


def test_preferred_election_cli(cluster_factory):
    c = cluster_factory(3)
    topic = "ops-pref"
    c.create_topics([topic], 3, 3)
    c.wait_full_isr([topic], 3)
    c.wait_partitions([topic], _preferred, what="preferred leaders")
    victim = c.brokers[c.leader(topic, 0)]
    victim.kill()
    c.wait_leaders_not([topic], {victim.id})
    victim.start()
    c.wait_formed(timeout=30, ids=[1, 2, 3])
    c.wait_full_isr([topic], 3)
    md = c.metadata(topics=[topic])
    moved = sorted(i for i, p in md.topics[topic].partitions.items() if p.leader != p.replicas[0])
    assert moved, md.topics[topic]         # the bounce left it off its preferred partitions
    # Ask a broker that is neither the controller nor the victim.
    via = next(b for b in c.live() if b.id not in (victim.id, c.controller()))
    rc, out = leader_election(via.bootstrap, "--election-type", "preferred",
                              "--all-topic-partitions")
    assert rc == 0, out
    assert "Successfully completed leader election (PREFERRED)" in out, out
    for i in moved:
        assert f"{topic}-{i}" in out, out
    views = c.wait_partitions([topic], _preferred, timeout=30, what="preferred leaders back")
    # Everyone agrees, at a larger leader epoch than before.
    for md2 in views.values():
        for i in moved:
            assert md2.topics[topic].partitions[i].leader_epoch > \
                md.topics[topic].partitions[i].leader_epoch
    # Nothing left to do: the CLI has no partition to report, the wire
    # answers ELECTION_NOT_NEEDED for listed partitions.
    rc, out = leader_election(via.bootstrap, "--election-type", "preferred",
                              "--all-topic-partitions")
    assert rc == 0 and "Successfully completed" not in out, out
    top, res = elect_leaders(via.bootstrap, PREFERRED, {topic: [0, 1, 2]})
    assert top == NONE
    assert {k: e for k, (e, _m) in res.items()} == \
        {(topic, i): ELECTION_NOT_NEEDED for i in range(3)}


def test_elect_errors(cluster_factory):
    c = cluster_factory(3)
    topic = "ops-err"
    c.create_topics([topic], 2, 2)
    c.wait_full_isr([topic], 2)
    c.wait_partitions([topic], _preferred, what="preferred leaders")
    md = c.metadata(topics=[topic]).topics[topic]
    pref = md.partitions[0].replicas[0]
    via = next(b for b in c.live() if b.id != pref)
    top, res = elect_leaders(via.bootstrap, UNCLEAN, {topic: [0, 1, 7], "ops-nosuch": [0]})
    assert top == NONE
    assert res[(topic, 0)] == (ELECTION_NOT_NEEDED,
                               "Leader election not needed for topic partition.")
    assert res[(topic, 1)][0] == ELECTION_NOT_NEEDED
    assert res[(topic, 7)] == (UNKNOWN_TOPIC_OR_PARTITION, f"No such partition as {topic}-7")
    assert res[("ops-nosuch", 0)] == (UNKNOWN_TOPIC_OR_PARTITION, "No such topic as ops-nosuch")
    # The preferred replica down: moved away, and it cannot come back.
    c.brokers[pref].kill()
    c.wait_leaders_not([topic], {pref})
    top, res = elect_leaders(via.bootstrap, PREFERRED, {topic: [0]})
    assert res[(topic, 0)] == (PREFERRED_LEADER_NOT_AVAILABLE,
                               "The preferred leader was not available."), res


def test_unclean_election(cluster_factory):
    """Replicas {a, b}: b dies (ISR {a}), then a dies (no leader, ISR {a});
    b comes back but is not in the ISR, so it stays offline until an
    UNCLEAN election makes b the leader with ISR {b}."""
    c = cluster_factory(3)
    topic = "ops-unclean"
    c.create_topics([topic], 1, 2)
    c.wait_full_isr([topic], 2)
    p = c.partition(topic, 0)
    a, b = p.replicas[0], p.replicas[1]
    if p.leader != a:
        a, b = b, a
    c.brokers[b].kill()
    c.wait_partitions([topic], lambda q, _b: q.isr == [a], what=f"ISR [{a}]")
    c.brokers[a].kill()
    c.wait_partitions([topic], lambda q, _b: q.leader < 0, timeout=60, what="no leader")
    c.brokers[b].start()
    c.wait_formed(timeout=30)
    c.wait_partitions([topic], lambda q, _b: q.leader < 0, what="still no leader")
    via = next(x for x in c.live() if x.id != b)
    top, res = elect_leaders(via.bootstrap, PREFERRED, {topic: [0]})
    assert res[(topic, 0)][0] == PREFERRED_LEADER_NOT_AVAILABLE, res
    rc, out = leader_election(via.bootstrap, "--election-type", "unclean", "--topic", topic,
                              "--partition", "0")
    assert rc == 0, out
    assert "Successfully completed leader election (UNCLEAN)" in out, out
    c.wait_partitions([topic], lambda q, _b: q.leader == b and q.isr == [b],
                      what=f"leader {b}")
    top, res = elect_leaders(via.bootstrap, UNCLEAN, {topic: [0]})
    assert res[(topic, 0)][0] == ELECTION_NOT_NEEDED, res
    c.brokers[a].start()
    c.wait_full_isr([topic], 2, timeout=60)
