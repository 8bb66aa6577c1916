# SPDX-License-Identifier: Apache-2.0
"""Apache Kafka Java AdminClient 3.9 (java/SpillwayAdmin.java): everything
the other clients do plus topic ids, delete/describe by id and the restart
test."""
import uuid

import pytest

import scenarios as s
from conftest import JAVA_OPTS, java_classpath, unique_topic

P = "java"


@pytest.fixture(scope="module")
def D():
    return s.Driver(["java", *JAVA_OPTS, "-cp", java_classpath(), "SpillwayAdmin"],
                    caps={"config_source", "topic_id"}, name="java-admin")


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


def test_describe_by_id(D, broker):
    t = unique_topic(P)
    assert D.call(broker.bootstrap, "create", t, 2, 1)["error"] is None
    d = s.eventually(lambda: s._described(D, broker, t))
    r = D.call(broker.bootstrap, "describe-id", d["id"])
    assert r["error"] is None and r["name"] == t and r["partitions"] == 2, r
    assert r["id"] == d["id"]
    r = D.call(broker.bootstrap, "describe-id", uuid.uuid4().hex)
    assert r["error"] == "UNKNOWN_TOPIC_ID", r
    assert D.call(broker.bootstrap, "delete", t)["error"] is None


def test_restart_persists(D, broker_factory):
    s.restart_persists(D, broker_factory, P)
