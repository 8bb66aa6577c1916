# SPDX-License-Identifier: Apache-2.0
"""Produce's timeout_ms bounds the acks=all wait for the ISR, per partition,
as Kafka's DelayedProduce: one raw Produce v9 (acks=-1, timeout_ms=500) to
the leader of two partitions, one RF 1 on that leader and one RF 3 whose
follower is paused (SIGSTOP, shorter than the ZooKeeper session; a long
replica.lag.time.max.ms keeps it in the ISR, so the high watermark cannot
pass the batch): the RF 1 partition answers NONE, the RF 3 one
REQUEST_TIMED_OUT with the offset it was appended at, and the answer comes
after the timeout and well before the request's own end. The record
stays: resumed, the follower fetches it and the high watermark passes it.
A timeout of 0 answers REQUEST_TIMED_OUT at once."""
import time

import harness
import kmeta
import kwire

REQUEST_TIMED_OUT = 7
TIMEOUT_MS = 500


def _produce(bootstrap, parts, timeout_ms):
    """parts: [(topic, partition, value)] in one Produce v9 acks=-1:
    ({(topic, partition): (error, base offset)}, seconds it took)."""
    from krecords import record_batch
    topics = {}
    for t, i, v in parts:
        topics.setdefault(t, []).append((i, record_batch([v])))
    body = kwire.produce_body(9, list(topics.items()), acks=-1, timeout_ms=timeout_ms)
    t0 = time.monotonic()
    r = kwire.call(bootstrap, kwire.PRODUCE, 9, body, timeout=15.0)
    took = time.monotonic() - t0
    return {(t, i): (err, base) for t, i, err, base, _m in kwire.parse_produce(9, r)}, took


def test_acks_all_times_out_per_partition(cluster_factory):
    c = cluster_factory(3, {"replica.lag.time.max.ms": 60000})
    suffix = str(int(time.time() * 1000) % 1000000)
    rf3, rf1 = f"pt3-{suffix}", f"pt1-{suffix}"
    c.create_topics([rf3], 1, 3)
    c.wait_full_isr([rf3], 3, timeout=60)
    leader = c.brokers[c.leader(rf3, 0)]
    # RF 1 over three partitions: one on each broker, one on that leader.
    c.create_topics([rf1], 3, 1)
    p1 = next(i for i in range(3) if c.leader(rf1, i) == leader.id)
    follower = c.brokers[next(b for b in c.brokers if b != leader.id)]

    # Both replicated in time (Kafka's followers may take a moment to
    # start fetching a new topic): NONE for both.
    got, _ = _produce(leader.bootstrap, [(rf3, 0, b"first"), (rf1, p1, b"first")], 10000)
    assert got == {(rf3, 0): (kmeta.NONE, 0), (rf1, p1): (kmeta.NONE, 0)}, got

    follower.pause()
    try:
        got, took = _produce(leader.bootstrap, [(rf3, 0, b"late"), (rf1, p1, b"second")],
                             TIMEOUT_MS)
        zero, took0 = _produce(leader.bootstrap, [(rf3, 0, b"zero")], 0)
    finally:
        follower.resume()
    assert got[(rf1, p1)] == (kmeta.NONE, 1), got
    assert got[(rf3, 0)] == (REQUEST_TIMED_OUT, 1), got
    assert TIMEOUT_MS / 1000 - 0.05 <= took < TIMEOUT_MS / 1000 + 2.0, took
    assert zero[(rf3, 0)] == (REQUEST_TIMED_OUT, 2), zero
    assert took0 < 1.0, took0

    # The timed-out records stay: the follower fetches them, the high
    # watermark passes them, and the partition is still in full ISR.
    harness.wait_for(lambda: kmeta.list_latest(leader.bootstrap, [(rf3, 0)])[(rf3, 0)] == 3,
                     30, "the high watermark past the timed-out records")
    got, _ = _produce(leader.bootstrap, [(rf3, 0, b"after")], TIMEOUT_MS)
    assert got == {(rf3, 0): (kmeta.NONE, 3)}, got
    p = c.partition(rf3, 0)
    assert sorted(p.isr) == sorted(p.replicas), p
