# SPDX-License-Identifier: Apache-2.0
"""min.insync.replicas on an RF 3 topic with min.insync.replicas=2: with one
broker down acks=all still succeeds (ISR 2); with two down the survivor
leads every partition with ISR [itself] and answers acks=all with
NOT_ENOUGH_REPLICAS (nothing written) while acks=1 is taken; once the
brokers are back in the ISR acks=all succeeds again and the acks=1 records
are there."""
import failover as fo
import harness
import kmeta
import load

EXPIRY = harness.FAILOVER_S


def _only_survivor(c, topics, survivor):
    return c.wait_partitions(topics, lambda p, _b: p.leader == survivor and p.isr == [survivor],
                             timeout=EXPIRY, what=f"leader {survivor} alone in the ISR")


def test_not_enough_replicas(cluster_factory):
    c = cluster_factory(3)
    topics = fo.make_topics(c, "minisr", count=1, parts=3)
    t = topics[0]
    survivor, others = c.brokers[1], [c.brokers[2], c.brokers[3]]

    # One down: ISR 2 = min.insync.replicas, acks=all goes through.
    others[0].kill()
    c.wait_partitions(topics, lambda p, _b: others[0].id not in p.isr and p.leader >= 0,
                      timeout=EXPIRY, what="ISR without one broker")
    for i in range(3):
        leader = c.brokers[c.leader(t, i)]
        err, _ = kmeta.produce(leader.bootstrap, t, i, [b"one-down"], acks=-1)
        assert err == kmeta.NONE, (i, err)

    # Two down: the survivor alone.
    others[1].kill()
    _only_survivor(c, topics, survivor.id)
    acks1 = {}
    for i in range(3):
        err, first = kmeta.produce(survivor.bootstrap, t, i, [b"acks-1-a"], acks=1)
        assert err == kmeta.NONE, (i, err)
        err, _ = kmeta.produce(survivor.bootstrap, t, i, [b"all-refused"], acks=-1)
        assert err == kmeta.NOT_ENOUGH_REPLICAS, (i, err)
        # Nothing of the refused batch was written: the next offset is free.
        err, second = kmeta.produce(survivor.bootstrap, t, i, [b"acks-1-b"], acks=1)
        assert err == kmeta.NONE and second == first + 1, (i, err, first, second)
        acks1[i] = second

    for b in others:
        b.start()
    c.wait_formed(timeout=60, ids=[1, 2, 3])
    c.wait_full_isr(topics, fo.RF, timeout=90)
    for i in range(3):
        leader = c.brokers[c.leader(t, i)]
        err, base = kmeta.produce(leader.bootstrap, t, i, [b"all-back"], acks=-1)
        assert err == kmeta.NONE and base == acks1[i] + 1, (i, err, base, acks1)

    # The acks=1 records survived on every replica: read them through each broker.
    from history import History
    ends = c.end_offsets(topics)
    h = History()
    for b in c.brokers.values():
        load.consume_all(b.bootstrap, topics, h, ends)
    for i in range(3):
        assert h.consumed[(t, i, acks1[i] - 1)] == b"acks-1-a", i
        assert h.consumed[(t, i, acks1[i])] == b"acks-1-b", i
        assert h.consumed[(t, i, acks1[i] + 1)] == b"all-back", i
    assert b"all-refused" not in h.consumed.values()
