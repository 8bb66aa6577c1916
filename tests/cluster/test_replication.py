# SPDX-License-Identifier: Apache-2.0
"""Replicated topics on three brokers: RF 3 partitions spread over the
brokers with the whole assignment in the ISR; acks=all records from two
idempotent producers, read back by a consumer group and by a reader
bootstrapped at each broker, all agree and the history checker finds
nothing lost, duplicated or reordered; kafka-topics --describe shows the
leaders and ISRs; a broker that does not lead a partition answers
NOT_LEADER_OR_FOLLOWER."""
import re
import time
import uuid

import pytest

import kmeta
import load
from history import History

TOPICS = [f"rep-{i}-{uuid.uuid4().hex[:6]}" for i in range(3)]
PARTS = 8
RF = 3
PER_PRODUCER = 3000


@pytest.fixture(scope="module")
def topics(cluster):
    cluster.create_topics(TOPICS, PARTS, RF, {"min.insync.replicas": "2"})
    return TOPICS


def test_rf3_topics_spread_with_full_isr(cluster, topics):
    views = cluster.wait_full_isr(TOPICS, RF, timeout=60)
    leaders = set()
    for via, md in views.items():
        for t in TOPICS:
            tm = md.topics[t]
            assert sorted(tm.partitions) == list(range(PARTS)), (via, t)
            for p in tm.partitions.values():
                assert sorted(p.replicas) == [1, 2, 3], (via, t, p)
                assert p.leader == p.replicas[0], (via, t, p)   # the preferred replica
                assert p.offline == [], (via, t, p)
                leaders.add(p.leader)
    assert leaders == {1, 2, 3}, leaders
    # Every broker's Metadata says the same thing.
    first = next(iter(views.values()))
    for md in views.values():
        assert {t: md.topics[t].partitions for t in TOPICS} == \
            {t: first.topics[t].partitions for t in TOPICS}


def test_acks_all_read_back_from_every_view(cluster, topics):
    cluster.wait_full_isr(TOPICS, RF, timeout=60)
    h = History()
    producers = [load.ProducerLoad(f"p{i}", cluster.bootstrap(), TOPICS, h, rate=1000)
                 for i in range(2)]
    for p in producers:
        p.start()
    deadline = time.monotonic() + 60
    while any(p.seq < PER_PRODUCER for p in producers) and time.monotonic() < deadline:
        time.sleep(0.1)
    for p in producers:
        assert p.stop() == 0, f"{p.name}: acknowledgements missing after flush"
    load.assert_only_retriable(producers)
    ends = cluster.end_offsets(TOPICS)
    assert sum(ends.values()) == len(h.acked), (sum(ends.values()), len(h.acked))

    n = load.consume_all(cluster.bootstrap(), TOPICS, h, ends,
                         group=f"g-{uuid.uuid4().hex[:6]}")
    assert n >= len(h.acked)
    for b in cluster.brokers.values():
        # Bootstrapped at one broker: its view of the cluster leads the
        # client to every leader.
        load.consume_all(b.bootstrap, TOPICS, h, ends)
    v = h.check()
    v.assert_ok(min_acked=2 * PER_PRODUCER)
    assert v.counts["consumed"] == len(h.acked), v


def test_kafka_topics_describe(cluster, topics):
    from conftest_cli import kafka_topics
    out = kafka_topics(cluster.bootstrap(), "--describe", "--topic", TOPICS[0])
    head = re.search(r"^Topic: (\S+)\tTopicId: \S+\tPartitionCount: (\d+)\t"
                     r"ReplicationFactor: (\d+)\tConfigs: ?(.*)$", out, re.M)
    assert head and head[1] == TOPICS[0], out
    assert int(head[2]) == PARTS and int(head[3]) == RF, out
    assert "min.insync.replicas=2" in head[4], out
    rows = re.findall(r"^\tTopic: \S+\tPartition: (\d+)\tLeader: (-?\d+)\tReplicas: (\S+)"
                      r"\tIsr: (\S+)", out, re.M)
    assert len(rows) == PARTS, out
    md = cluster.metadata(topics=[TOPICS[0]]).topics[TOPICS[0]]
    for part, leader, replicas, isr in rows:
        p = md.partitions[int(part)]
        assert int(leader) == p.leader, (rows, p)
        assert [int(x) for x in replicas.split(",")] == p.replicas, (rows, p)
        assert sorted(int(x) for x in isr.split(",")) == [1, 2, 3], rows


def test_not_leader_answers(cluster, topics):
    t = TOPICS[1]
    md = cluster.metadata(topics=[t]).topics[t]
    p = md.partitions[0]
    other = next(i for i in cluster.brokers if i != p.leader)
    err, _ = kmeta.produce(cluster.brokers[other].bootstrap, t, 0, [b"x"], acks=-1)
    assert err == kmeta.NOT_LEADER_OR_FOLLOWER, err
    err, base = kmeta.produce(cluster.brokers[p.leader].bootstrap, t, 0, [b"y"], acks=-1)
    assert err == 0 and base >= 0, (err, base)
