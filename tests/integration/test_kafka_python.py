# SPDX-License-Identifier: Apache-2.0
"""kafka-python KafkaAdminClient (Debian python3-kafka 2.0.2). It negotiates
versions itself from ApiVersions v0 and cannot send -1 partitions/RF."""
import scenarios as s
from conftest import HERE

D = s.Driver(["/usr/bin/python3", str(HERE / "clients" / "kafka_python_admin.py")],
             caps={"config_source"}, name="kafka-python")
P = "kpy"


def test_cluster(broker):
    s.cluster(D, broker)


def test_lifecycle(broker):
    s.lifecycle(D, broker, P)


def test_duplicate(broker):
    s.duplicate(D, broker, P)


def test_invalid_names(broker):
    s.invalid_names(D, broker)


def test_replication_factor(broker):
    s.replication_factor(D, broker, P)


def test_partitions_errors(broker):
    s.partitions_errors(D, broker, P)


def test_unknown_topic(broker):
    s.unknown_topic(D, broker, P)


def test_validate_only(broker):
    s.validate_only(D, broker, P)


def test_replica_assignment(broker):
    s.replica_assignment(D, broker, P)


def test_broker_configs(broker):
    s.broker_configs(D, broker)
