# SPDX-License-Identifier: Apache-2.0
"""Regressions found by the Kafka-vs-Spillway differential sweep
(test_differential.py), each checked on one broker of either backend (run
with SPILLWAY_TEST_BACKEND=kafka, they pass against Apache Kafka 3.9.1):
requests and answers through the schema-driven codec (kschema.py), which
needs the schemas in the reference Kafka's kafka-clients jar."""
import time
import uuid

import pytest

from conftest import REPO
import kschema
import kwire

LIBS = REPO / ".cache" / "kafka" / "libs"
INVALID_REQUEST, INCONSISTENT_GROUP_PROTOCOL = 42, 23


@pytest.fixture(scope="module")
def codec():
    src = kschema.find_source(LIBS)
    if src is None:
        pytest.skip(f"no Kafka schemas: kafka-clients jar missing in {LIBS} "
                    "(tests/integration/setup.sh --with-kafka-ref)")
    return kschema.Schemas(src)


@pytest.mark.parametrize("version", [10, 11])
def test_metadata_topic_ids_before_v12_refused(broker, codec, version):
    """Metadata v10-11 carry topic ids and nullable names, but Kafka serves
    neither before v12: a null name or a non-zero id fails the request with
    INVALID_REQUEST, answered as MetadataRequest.getErrorResponse (no
    brokers, controller -1, every topic as sent with a null name as "")."""
    tid = uuid.uuid4().bytes
    msg = {"Topics": [{"Name": None, "TopicId": tid}, {"Name": "x", "TopicId": bytes(16)}]}
    got = kschema.call(codec, broker, kwire.METADATA, version, msg)
    assert got is not None, "connection closed"
    assert (got["Brokers"], got["ClusterId"], got["ControllerId"]) == ([], None, -1)
    assert [(t["ErrorCode"], t["Name"], t["TopicId"], t["Partitions"]) for t in got["Topics"]] \
        == [(INVALID_REQUEST, "", tid, []), (INVALID_REQUEST, "x", bytes(16), [])]
