# SPDX-License-Identifier: Apache-2.0
"""franz-go kadm (go/main.go, franz-go v1.15 / kadm v1.11): every admin
scenario plus topic ids (CreateTopics v7 returns them), delete by id and the
restart test."""
import pytest

import scenarios as s
from conftest import find_tool, unique_topic

P = "franz"


@pytest.fixture(scope="module")
def D():
    exe = find_tool("FRANZ_ADMIN_BIN", ".cache/integration/bin/franz_admin")
    return s.Driver([exe], caps={"config_source", "topic_id"}, name="franz_admin")


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


def test_delete_by_id(D, broker):
    s.delete_by_id(D, broker, P)


def test_create_returns_topic_id(D, broker):
    """CreateTopics v7 carries the new topic's id; Metadata must agree."""
    t = unique_topic(P)
    r = D.call(broker.bootstrap, "create", t, 1, 1)
    assert r["error"] is None and s.is_topic_id(r["id"]), r
    d = s.eventually(lambda: s._described(D, broker, t))
    assert d["id"] == r["id"], (r, d)
    assert D.call(broker.bootstrap, "delete", t)["error"] is None


def test_restart_persists(D, broker_factory):
    s.restart_persists(D, broker_factory, P)
