# SPDX-License-Identifier: Apache-2.0
"""A network partition (issue 17): three brokers, each in its own network
namespace (netns.py), ZooKeeper and the clients in the root namespace.

The leader of an RF 3 partition is cut off from the other brokers, from
ZooKeeper and from the load's clients by nftables in its namespace, while a
probe client (its own source address) still reaches it:
  - an acks=all Produce to it is never acknowledged (the followers cannot
    fetch and it cannot shrink the ISR without ZooKeeper): it times out or
    fails with a retriable error;
  - acks=1 Produces to it succeed: a divergent tail only it has;
  - its ZooKeeper session expires and the controller elects another ISR
    member, which takes new acks=all records at the same offsets.
The partition heals in two steps: first the old leader hears ZooKeeper and
the brokers again (still no client but the probe: an idempotent producer
that asked it for metadata would send it sequence numbers it never saw) and
registers again, becomes a follower of the new leader, then the clients
come back. It truncates its tail (KIP-279) and rejoins the ISR: its log
of the partition (the batches in its segment files) equals the new
leader's, no tail record is anywhere, and every record an idempotent acks=all
producer (running throughout) had acknowledged is there exactly once
(history.py)."""
import os
import struct
import time

import pytest

import conftest
import harness
import kmeta
import kwire
import load
import netns
from history import History
from krecords import record_batch

SESSION_MS = 3000
TOPIC = "netpart"
RETRIABLE_ACKS_ALL = {kmeta.NOT_LEADER_OR_FOLLOWER, kmeta.NOT_ENOUGH_REPLICAS,
                      kmeta.NOT_ENOUGH_REPLICAS_AFTER_APPEND, 7}   # 7: REQUEST_TIMED_OUT
TAIL = [f"tail-{i}".encode() for i in range(5)]


@pytest.fixture
def net_cluster():
    """Brokers 1..3 in namespaces around a ZooKeeper on the bridge; the
    namespaces, links and nft tables go at the end whatever happened."""
    why = netns.missing()
    if why:
        pytest.skip(why)
    conftest._require()
    net = netns.Net([1, 2, 3]).setup()
    c = None
    try:
        c = harness.Cluster(3, {"zookeeper.session.timeout.ms": SESSION_MS}, net=net)
        c.start()
        conftest._clusters.append(c)
        yield c, net
    finally:
        try:
            if c is not None:
                conftest._finish(c)
        finally:
            net.cleanup()


def _probe(bootstrap, api, version, body, timeout):
    sock = kwire.connect(bootstrap, timeout, source=netns.PROBE_ADDR)
    try:
        return kwire.call(bootstrap, api, version, body, timeout, sock=sock)
    finally:
        sock.close()


def probe_leader(broker):
    """TOPIC/0's leader in broker's Metadata, asked from the probe address."""
    r = _probe(broker.bootstrap, kwire.METADATA, kmeta.METADATA_V,
               kmeta.metadata_body([TOPIC]), 5)
    t = kmeta.parse_metadata(r).topics.get(TOPIC)
    p = t.partitions.get(0) if t is not None else None
    return p.leader if p is not None else None


def produce_raw(bootstrap, values, acks, timeout_ms, sock_timeout):
    """One Produce v9 of values to TOPIC/0 with the broker-side timeout
    timeout_ms, from the probe address: (error code, base offset), or None
    when the broker did not answer within sock_timeout seconds."""
    w = kwire.Writer(kwire.flexible(kwire.PRODUCE, 9))
    w.str(None).i16(acks).i32(timeout_ms)
    w.topics([(TOPIC, [(0, record_batch(values))])], lambda p: w.i32(p[0]).bytes(p[1]))
    w.tags()
    try:
        r = _probe(bootstrap, kwire.PRODUCE, 9, w.b, sock_timeout)
    except (TimeoutError, OSError):
        return None
    out = kwire.parse_produce(9, r)
    return out[0][2], out[0][3]


def batches(broker):
    """[(base offset, last offset delta, leader epoch, crc)] of every batch
    in broker's segment files of TOPIC/0, in offset order."""
    d = broker.data / f"{TOPIC}-0"
    out = []
    for f in sorted(d.glob("*.log")):
        data = f.read_bytes()
        pos = 0
        while pos + 27 <= len(data):
            base, length, epoch = struct.unpack_from(">qii", data, pos)
            if length <= 0 or pos + 12 + length > len(data):
                break
            crc, _attr, last = struct.unpack_from(">IhI", data, pos + 17)
            out.append((base, last, epoch, crc))
            pos += 12 + length
    return out


def segment_bytes(broker):
    d = broker.data / f"{TOPIC}-0"
    return b"".join(f.read_bytes() for f in sorted(d.glob("*.log")))


def _in_sync_without(c, old, others):
    return c.wait_partitions([TOPIC], lambda p, _b: p.leader in others and old not in p.isr,
                             timeout=SESSION_MS / 1000 + 25, brokers=others,
                             what=f"a leader other than {old}")


def test_partitioned_leader_truncates(net_cluster):
    c, net = net_cluster
    t0 = time.monotonic()
    c.create_topics([TOPIC], 1, 3)
    c.wait_full_isr([TOPIC], 3, timeout=30)
    h = History()
    prod = load.ProducerLoad("np", c.bootstrap(), [TOPIC], h, rate=100,
                             extra={"request.timeout.ms": 4000, "message.timeout.ms": 60000})
    prod.start()
    harness.wait_for(lambda: len(h.acked) >= 50, 20, "acks before the partition")

    old = c.leader(TOPIC, 0)
    others = [i for i in c.brokers if i != old]
    net.isolate(old)
    ob = c.brokers[old]

    # The isolated leader still takes acks=1 (nothing asks it to step down)...
    tail_at = []
    for v in TAIL:
        err, base = produce_raw(ob.bootstrap, [v], 1, 5000, 10)
        assert err == kmeta.NONE, f"acks=1 to the isolated leader: {err}"
        tail_at.append(base)
    # ... but never acknowledges acks=all: no follower can fetch, and the ISR
    # cannot shrink without ZooKeeper.
    got = produce_raw(ob.bootstrap, [b"isolated-all"], -1, 2000, 8)
    assert got is None or got[0] in RETRIABLE_ACKS_ALL, f"acks=all while isolated: {got}"

    # Its session expires; the controller elects another ISR member.
    views = _in_sync_without(c, old, others)
    new = views[others[0]].topics[TOPIC].partitions[0].leader
    nb = c.brokers[new]
    # The new leader takes acks=all records at the tail's offsets.
    harness.wait_for(lambda: kmeta.list_latest(nb.bootstrap, [(TOPIC, 0)])[(TOPIC, 0)]
                     > tail_at[-1] + 5, 30, "acks=all records past the tail on the new leader")
    assert got is None or got[0] != kmeta.NONE

    # Half healed: it registers again and follows the new leader.
    assert probe_leader(ob) == old
    net.cut_clients(old, c.zk.port)
    harness.wait_for(lambda: probe_leader(ob) == new, 30,
                     f"broker {old} to see {new} leading")
    # Healed: it catches up and is back in the ISR.
    net.heal(old)
    assert netns.TABLE not in net.rules(old)
    c.wait_partitions([TOPIC], lambda p, _b: p.leader == new and sorted(p.isr) == [1, 2, 3],
                      timeout=40, what=f"{old} back in the ISR of leader {new}")
    assert prod.stop(flush_timeout=60) == 0, "producer could not resolve every record"
    load.assert_only_retriable([prod])

    # Its log of the partition is the new leader's: same batches, no tail.
    def same_logs():
        logs = {b.id: batches(b) for b in c.brokers.values()}
        return logs[old] == logs[new] and logs[others[0]] == logs[new] and logs
    logs = harness.wait_for(same_logs, 20, "the same batches on every broker")
    assert any(b[0] <= tail_at[0] <= b[0] + b[1] for b in logs[new]), (tail_at, logs[new][-3:])
    for b in c.brokers.values():
        data = segment_bytes(b)
        for v in TAIL + [b"isolated-all"]:
            assert v not in data, f"{v} still in broker {b.id}'s log after the heal"

    # Every acknowledged acks=all record exactly once, read through the leader.
    ends = c.end_offsets([TOPIC])
    load.consume_all(nb.bootstrap, [TOPIC], h, ends, timeout=30)
    for v in TAIL + [b"isolated-all"]:
        assert v not in h.consumed.values(), v
    h.check().assert_ok(min_acked=100)
    elapsed = time.monotonic() - t0
    print(f"netpart: old leader {old}, new {new}, tail at {tail_at}, isolated acks=all: "
          f"{got or 'no answer'}, {h.check().counts}, "
          f"{elapsed:.1f}s after the cluster formed")
    assert elapsed < float(os.environ.get("SPILLWAY_NETPART_BUDGET", "90"))
