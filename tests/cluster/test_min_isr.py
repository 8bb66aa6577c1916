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


def _produce_idem(bootstrap, t, i, value, pid, epoch, seq, acks):
    """One record of an idempotent producer: (error code, base offset)."""
    from krecords import record_batch
    import kwire
    batch = record_batch([value], producer_id=pid, producer_epoch=epoch, base_sequence=seq)
    body = kwire.produce_body(9, [(t, [(i, batch)])], acks=acks)
    out = kwire.parse_produce(9, kwire.call(bootstrap, kwire.PRODUCE, 9, body, timeout=15.0))
    assert len(out) == 1, out
    return out[0][2], out[0][3]


def test_idempotent_retry_of_a_written_batch_below_min_isr(cluster_factory):
    """A retry of a batch that is already in the log, sent while the ISR is
    below min.insync.replicas, is answered NOT_ENOUGH_REPLICAS, as Kafka
    answers it (Partition.appendRecordsToLeader checks the ISR before the
    log's duplicate check): the answer says "not written" of a written
    batch. Once the ISR is back the same retry is found a duplicate and
    answered with its first offset, never written twice. librdkafka 2.0.2
    trusts the NOT_ENOUGH_REPLICAS, and when an OUT_OF_ORDER_SEQUENCE on
    another partition makes it bump its epoch it sends such a record again
    under the new epoch, which no broker can tell from a new one: the one
    duplicate test_failover.py::test_controller_kill saw (librdkafka
    #4953; its debug log showed this sequence)."""
    import kwire
    c = cluster_factory(3)
    topics = fo.make_topics(c, "idemisr", count=1, parts=1)
    t = topics[0]
    leader = c.brokers[c.leader(t, 0)]
    others = [b for b in c.brokers.values() if b.id != leader.id]
    pid, epoch = kwire.init_producer_id(leader.bootstrap)

    err, first = _produce_idem(leader.bootstrap, t, 0, b"s0", pid, epoch, 0, acks=-1)
    assert err == kmeta.NONE, err
    for b in others:
        b.kill()
    _only_survivor(c, topics, leader.id)
    # Written with acks=1 while the ISR is short: the batch is in the log.
    err, base = _produce_idem(leader.bootstrap, t, 0, b"s1", pid, epoch, 1, acks=1)
    assert err == kmeta.NONE and base == first + 1, (err, base, first)
    # Its acks=all retry: the ISR check comes first, as in Kafka.
    err, _ = _produce_idem(leader.bootstrap, t, 0, b"s1", pid, epoch, 1, acks=-1)
    assert err == kmeta.NOT_ENOUGH_REPLICAS, err

    for b in others:
        b.start()
    c.wait_formed(timeout=60, ids=[1, 2, 3])
    c.wait_full_isr(topics, fo.RF, timeout=90)
    lb = c.brokers[c.leader(t, 0)]
    err, again = _produce_idem(lb.bootstrap, t, 0, b"s1", pid, epoch, 1, acks=-1)
    assert err == kmeta.NONE and again == base, ("the retry was not deduplicated", err,
                                                 again, base)
    err, nxt = _produce_idem(lb.bootstrap, t, 0, b"s2", pid, epoch, 2, acks=-1)
    assert err == kmeta.NONE and nxt == base + 1, (err, nxt, base)

    from history import History
    ends = c.end_offsets(topics)
    h = History()
    load.consume_all(lb.bootstrap, topics, h, ends)
    values = [v for (tt, _i, _o), v in sorted(h.consumed.items()) if tt == t]
    assert values == [b"s0", b"s1", b"s2"], values
