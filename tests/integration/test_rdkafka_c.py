# SPDX-License-Identifier: Apache-2.0
"""librdkafka 2.0.2 admin API from C (clients/rdkafka_admin.c). librdkafka
2.0.2 has no topic ids and no delete-by-id."""
import pytest

import scenarios as s
from conftest import find_tool, unique_topic

P = "rdc"


@pytest.fixture(scope="module")
def D():
    exe = find_tool("RDKAFKA_ADMIN_BIN", "build/tests/integration/rdkafka_admin",
                    ".cache/integration/bin/rdkafka_admin")
    return s.Driver([exe], caps={"config_source"}, name="rdkafka_admin")


def test_cluster(D, broker):
    s.cluster(D, broker)


def test_lifecycle(D, broker):
    s.lifecycle(D, broker, P)


def test_duplicate(D, broker):
    s.duplicate(D, broker, P)


def test_invalid_names(D, broker):
    s.invalid_names(D, broker)


def test_replication_factor(D, broker):
    s.replication_factor(D, broker, P)


def test_partitions_errors(D, broker):
    s.partitions_errors(D, broker, P)


def test_unknown_topic(D, broker):
    s.unknown_topic(D, broker, P)


def test_validate_only(D, broker):
    s.validate_only(D, broker, P)


def test_broker_defaults(D, broker):
    s.broker_defaults(D, broker, P)


def test_replica_assignment(D, broker):
    s.replica_assignment(D, broker, P)


def test_broker_configs(D, broker):
    s.broker_configs(D, broker)


def test_metadata_auto_create_on(D, broker):
    """Metadata v4+ with AllowAutoTopicCreation=true creates the topic
    (num.partitions=1). Kafka answers the first request with an error while it
    creates it; answering with the new topic right away is fine too."""
    t = unique_topic(P + "-auto")
    r = D.call(broker.bootstrap, "metadata", t, "auto")
    assert r["error"] in (None, "UNKNOWN_TOPIC_OR_PARTITION", "LEADER_NOT_AVAILABLE"), r

    def created():
        r = D.call(broker.bootstrap, "metadata", t, "auto")
        assert r["error"] is None and r["partitions"] == 1, r
    s.eventually(created)
    assert t in D.call(broker.bootstrap, "list")["topics"]
    assert D.call(broker.bootstrap, "delete", t)["error"] is None


def test_metadata_no_auto_create_flag(D, broker):
    """AllowAutoTopicCreation=false: the broker must not create it."""
    t = unique_topic(P + "-noflag")
    for _ in range(3):
        r = D.call(broker.bootstrap, "metadata", t, "noauto")
        assert r["error"] == "UNKNOWN_TOPIC_OR_PARTITION", r
    assert t not in D.call(broker.bootstrap, "list")["topics"]


def test_metadata_auto_create_disabled(D, noauto_broker):
    """auto.create.topics.enable=false on the broker wins over the client."""
    b = noauto_broker
    t = unique_topic(P + "-off")
    for _ in range(3):
        r = D.call(b.bootstrap, "metadata", t, "auto")
        assert r["error"] == "UNKNOWN_TOPIC_OR_PARTITION", r
    assert t not in D.call(b.bootstrap, "list")["topics"]
