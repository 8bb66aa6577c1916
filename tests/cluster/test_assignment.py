# SPDX-License-Identifier: Apache-2.0
"""CreateTopics with the request's own replica assignment in a cluster
(kafka-topics --replica-assignment, NewTopic(replica_assignment=...)): each
partition gets exactly the listed replicas in that order, the first one
leads, all in the ISR; a broker listed twice in a partition or partitions
of different sizes answer INVALID_REPLICA_ASSIGNMENT, as Kafka's
ZooKeeper-mode validateTopicCreate does."""
import uuid

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

INVALID_REPLICA_ASSIGNMENT = 39


def _create(c, name, assignment):
    admin = AdminClient({"bootstrap.servers": c.bootstrap()})
    fut = admin.create_topics([NewTopic(name, len(assignment), replica_assignment=assignment)],
                              operation_timeout=30, request_timeout=30)[name]
    return fut.result(timeout=60)


def test_explicit_assignment(cluster):
    c = cluster
    name = f"assigned-{uuid.uuid4().hex[:6]}"
    want = [[2, 3], [3, 1], [1, 2], [3, 2], [1, 3], [2, 1]]
    _create(c, name, want)
    views = c.wait_partitions([name], lambda p, _b: p.leader >= 0 and
                              sorted(p.isr) == sorted(p.replicas), timeout=60,
                              what="leaders and full ISRs")
    for bid, md in views.items():
        parts = md.topics[name].partitions
        assert sorted(parts) == list(range(len(want))), (bid, parts)
        for i, rs in enumerate(want):
            assert list(parts[i].replicas) == rs, (bid, i, parts[i])
            assert parts[i].leader == rs[0], (bid, i, parts[i])


@pytest.mark.parametrize("assignment", [[[1, 1]], [[1, 2], [3]], [[2, 3], [1, 2, 2]]])
def test_bad_assignment(cluster, assignment):
    name = f"bad-assigned-{uuid.uuid4().hex[:6]}"
    with pytest.raises(KafkaException) as e:
        _create(cluster, name, assignment)
    assert e.value.args[0].code() == INVALID_REPLICA_ASSIGNMENT, e.value
    md = cluster.metadata(topics=None)
    assert name not in md.topics
