# SPDX-License-Identifier: Apache-2.0
"""kafkajs 2.2.4 admin (js/admin.js; `npm ci` in js/). kafkajs does not
negotiate like the others: it picks its own versions from ApiVersions, needs
a live controller id in Metadata and shows no topic ids."""
import shutil

import pytest

import scenarios as s
from conftest import client_missing, HERE

P = "kjs"


@pytest.fixture(scope="module")
def D():
    if shutil.which("node") is None:
        client_missing("node not installed")
    if not (HERE / "js" / "node_modules" / "kafkajs").is_dir():
        client_missing("kafkajs not installed (run tests/integration/setup.sh)")
    return s.Driver(["node", str(HERE / "js" / "admin.js")], caps={"config_source"},
                    name="kafkajs")


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
