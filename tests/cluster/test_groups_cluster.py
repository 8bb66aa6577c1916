# SPDX-License-Identifier: Apache-2.0
"""Consumer groups in a cluster: __consumer_offsets is created with
offsets.topic.replication.factor (the harness sets 3; the broker once
created it with default.replication.factor, so a group whose offsets
partition sat on a killed broker lost its coordinator for good), and a
group's committed offsets survive the death of its coordinator: the
survivor that becomes leader of the group's offsets partition is the new
coordinator and answers the same offsets."""
import uuid

from confluent_kafka import Consumer

import harness
import kgroups
import kmeta

OFFSETS = "__consumer_offsets"


def _coordinator(c, group, via):
    """The group's coordinator id as broker via answers FindCoordinator."""
    got = kgroups.wait_coordinator(c.brokers[via].bootstrap, group, timeout=30)
    return got[3]


def _committed(c, group, coord):
    return kgroups.committed(c.brokers[coord].bootstrap, group)


def test_offsets_topic_rf_and_coordinator_failover(cluster_factory):
    c = cluster_factory(3)
    topic = f"grp-{uuid.uuid4().hex[:6]}"
    group = f"g-{uuid.uuid4().hex[:6]}"
    c.create_topics([topic], 3, 3)
    for p in range(3):
        leader = c.leader(topic, p)
        err, _ = kmeta.produce(c.brokers[leader].bootstrap, topic, p,
                               [b"v%d-%d" % (p, i) for i in range(p + 2)], acks=-1)
        assert err == 0, (p, err)

    # Consume everything with the group and commit: creates __consumer_offsets.
    cons = Consumer({"bootstrap.servers": c.bootstrap(), "group.id": group,
                     "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    want = {(topic, p): p + 2 for p in range(3)}
    try:
        cons.subscribe([topic])
        pos = {}

        def consumed():
            for m in cons.consume(100, 0.5):
                if not m.error():
                    pos[(m.topic(), m.partition())] = m.offset() + 1
            return pos == want
        harness.wait_for(consumed, 60, f"group {group} reading {want}")
        cons.commit(asynchronous=False)
    finally:
        cons.close()

    # Kafka's layout: every offsets partition at the configured RF, all in sync.
    views = c.wait_full_isr([OFFSETS], 3, timeout=60)
    assert len(next(iter(views.values())).topics[OFFSETS].partitions) == 50

    live = [b.id for b in c.live()]
    coord = _coordinator(c, group, live[0])
    assert coord in c.brokers, coord
    assert {_coordinator(c, group, b) for b in live} == {coord}
    assert _committed(c, group, coord) == want

    # The coordinator dies: another broker takes the group's partition and
    # answers the committed offsets.
    c.brokers[coord].kill()
    c.wait_leaders_not([OFFSETS], {coord}, timeout=30)
    survivor = next(b.id for b in c.live())

    def moved():
        n = _coordinator(c, group, survivor)
        return n != coord and n in c.brokers and c.brokers[n].alive() and n
    new = harness.wait_for(moved, 60, f"a coordinator for {group} other than {coord}")
    harness.wait_for(lambda: _committed(c, group, new) == want, 60,
                     f"the committed offsets from coordinator {new}")


def test_commit_right_before_the_coordinator_dies(cluster_factory):
    """An offset commit acknowledged (acks=all to the ISR) just before its
    coordinator is killed is answered by the next coordinator. The survivor
    that takes the group's partition over has the record in its log, but
    its high watermark may not have caught up yet (followers learn it from
    the next fetch): a coordinator loading only up to the high watermark,
    as Spillway's did, answered an older offset. Kafka loads its
    coordinators' partitions up to the log end; so does Spillway now.
    Three rounds, each with a kill -9 right after the commit."""
    from confluent_kafka import TopicPartition
    c = cluster_factory(3)
    topic = f"grpk-{uuid.uuid4().hex[:6]}"
    group = f"gk-{uuid.uuid4().hex[:6]}"
    c.create_topics([topic], 1, 3)
    for rnd in range(3):
        cons = Consumer({"bootstrap.servers": c.bootstrap(), "group.id": group,
                         "enable.auto.commit": False})
        want = 100 * (rnd + 1)
        try:
            cons.commit(offsets=[TopicPartition(topic, 0, want)], asynchronous=False)
        finally:
            cons.close()
        live = [b.id for b in c.live()]
        coord = _coordinator(c, group, live[0])
        c.brokers[coord].kill()
        survivor = next(b.id for b in c.live())

        def moved():
            n = _coordinator(c, group, survivor)
            return n != coord and n in c.brokers and c.brokers[n].alive() and n
        new = harness.wait_for(moved, 60, f"a coordinator for {group} other than {coord}")
        got = harness.wait_for(lambda: _committed(c, group, new) or None, 60,
                               f"offsets from coordinator {new}")
        assert got == {(topic, 0): want}, (rnd, coord, new, got)
        c.brokers[coord].start()
        c.wait_formed(timeout=60, ids=[1, 2, 3])
        c.wait_full_isr([OFFSETS], 3, timeout=90)
