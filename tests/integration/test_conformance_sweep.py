# SPDX-License-Identifier: Apache-2.0
"""Regressions found by the Kafka-vs-Spillway differential sweep
(test_differential.py), each checked on one broker of either backend (run
with SPILLWAY_TEST_BACKEND=kafka, they pass against Apache Kafka 3.9.1):
requests and answers through the schema-driven codec (kschema.py), which
needs the schemas in the reference Kafka's kafka-clients jar."""
import os
import time
import uuid
from pathlib import Path

import pytest

from conftest import REPO
import kschema
import kwire

LIBS = Path(os.environ.get("SPILLWAY_KAFKA_LIBS", REPO / ".cache" / "kafka" / "libs"))
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


def fetch_msg(topics, isolation):
    return {"ReplicaId": -1, "MaxWaitMs": 0, "MinBytes": 0, "MaxBytes": 1 << 20,
            "IsolationLevel": isolation, "SessionId": 0, "SessionEpoch": -1,
            "Topics": [{"Topic": n, "Partitions": [
                {"Partition": i, "FetchOffset": off, "CurrentLeaderEpoch": -1,
                 "LastFetchedEpoch": -1, "LogStartOffset": -1, "PartitionMaxBytes": 1 << 20}
                for i, off in ps]} for n, ps in topics]}


@pytest.mark.parametrize("isolation", [0, 1])
def test_fetch_aborted_transactions_null_or_empty(broker, codec, isolation):
    """Fetch's AbortedTransactions: an empty list for a partition Kafka
    refuses before reading (unknown topic or partition:
    FetchResponse.partitionResponse keeps the default), null for a failed
    read (offset out of range) at either isolation level, and for a read
    null under read_uncommitted, empty under read_committed."""
    name, = kwire.make_topics(broker, "sweep-fetch", 1, 1)
    got = kschema.call(codec, broker, kwire.FETCH, 12, fetch_msg(
        [(name, [(0, 0)]), (name, [(3, 0)]), (f"{name}-nosuch", [(0, 0)])], isolation))
    by = {(t["Topic"], p["PartitionIndex"]): p for t in got["Responses"] for p in t["Partitions"]}
    assert by[(name, 0)]["AbortedTransactions"] == (None if isolation == 0 else [])
    assert by[(name, 3)]["AbortedTransactions"] == []
    assert by[(f"{name}-nosuch", 0)]["AbortedTransactions"] == []
    got = kschema.call(codec, broker, kwire.FETCH, 12, fetch_msg([(name, [(0, 100)])], isolation))
    part = got["Responses"][0]["Partitions"][0]
    assert (part["ErrorCode"], part["AbortedTransactions"]) == (kwire.OFFSET_OUT_OF_RANGE, None)


@pytest.mark.parametrize("version", [5, 7])
def test_create_topics_refused_topic_has_empty_configs(broker, codec, version):
    """CreateTopics v5+: a refused topic's Configs is an empty list (the
    schema's default, as Kafka's CreatableTopicResult), not null."""
    name, = kwire.make_topics(broker, "sweep-ct", 1, 1)
    msg = {"Topics": [{"Name": name, "NumPartitions": 1, "ReplicationFactor": 1},
                      {"Name": "bad name!", "NumPartitions": 1, "ReplicationFactor": 1}],
           "timeoutMs": 30000, "validateOnly": True}
    got = kschema.call(codec, broker, kwire.CREATE_TOPICS, version, msg)
    assert [(t["ErrorCode"], t["Configs"]) for t in got["Topics"]] == [
        (kwire.TOPIC_ALREADY_EXISTS, []), (kwire.INVALID_TOPIC_EXCEPTION, [])]


def test_create_topics_validate_only_answers_a_throwaway_id(broker, codec):
    """CreateTopics v7 validate_only: Kafka's controller draws the topic id
    before it checks validateOnly, so the answer carries a random id (a new
    one each time) that names no topic, not the zero id."""
    name = f"sweep-validate-{uuid.uuid4().hex[:8]}"
    msg = {"Topics": [{"Name": name, "NumPartitions": 2, "ReplicationFactor": 1}],
           "timeoutMs": 30000, "validateOnly": True}
    ids = [kschema.call(codec, broker, kwire.CREATE_TOPICS, 7, msg)["Topics"][0]["TopicId"]
           for _ in range(2)]
    assert bytes(16) not in ids and ids[0] != ids[1], ids
    assert kwire.metadata(broker, [name])[name][0] == kwire.UNKNOWN_TOPIC_OR_PARTITION


def test_produce_duplicate_partition_appended_once(broker, codec):
    """Produce naming a partition twice (in one topic entry and again in a
    second): Kafka keys the batches by partition, so only the last listing
    is appended and the partition is answered once."""
    name, = kwire.make_topics(broker, "sweep-dup", 1, 1)
    batch = [kwire.record_batch([v], timestamp_ms=1_700_000_000_000) for v in (b"a", b"b", b"c")]
    msg = {"Acks": -1, "TimeoutMs": 30000, "TopicData": [
        {"Name": name, "PartitionData": [{"Index": 0, "Records": batch[0]},
                                         {"Index": 0, "Records": batch[1]}]},
        {"Name": name, "PartitionData": [{"Index": 0, "Records": batch[2]}]}]}
    got = kschema.call(codec, broker, kwire.PRODUCE, 9, msg)
    parts = [(p["Index"], p["ErrorCode"], p["BaseOffset"])
             for t in got["Responses"] for p in t["PartitionResponses"]]
    assert parts == [(0, 0, 0)]
    r = kwire.roundtrip(broker, kwire.FETCH, 12,
                        kwire.fetch_body(12, [(name, [(0, 0, 1 << 20)])]))
    _, rows = kwire.parse_fetch(12, r)
    assert [v for _off, _key, v in kwire.parse_batches(rows[0][4])] == [b"c"]


def test_offset_commit_and_fetch_duplicates_answered_once(broker, codec):
    """OffsetCommit and OffsetFetch naming a partition twice, and a topic in
    two entries: each partition committed (the last listing's offset) and
    answered once, under one entry per topic, as Kafka's maps do."""
    name, = kwire.make_topics(broker, "sweep-off", 1, 2)
    group = f"sweep-{uuid.uuid4().hex[:8]}"
    commit = {"GroupId": group, "GenerationIdOrMemberEpoch": -1, "MemberId": "", "Topics": [
        {"Name": name, "Partitions": [{"PartitionIndex": 0, "CommittedOffset": 1},
                                      {"PartitionIndex": 0, "CommittedOffset": 2}]},
        {"Name": name, "Partitions": [{"PartitionIndex": 1, "CommittedOffset": 3}]}]}
    got = None
    # The group topic is created by a FindCoordinator and loads a while.
    for _ in range(150):
        coord = kschema.call(codec, broker, kwire.FIND_COORDINATOR, 3, {"Key": group})
        got = kschema.call(codec, broker, kwire.OFFSET_COMMIT, 8, commit)
        if coord["ErrorCode"] == 0 and all(
                p["ErrorCode"] == 0 for t in got["Topics"] for p in t["Partitions"]):
            break
        time.sleep(0.2)
    assert [(t["Name"], sorted((p["PartitionIndex"], p["ErrorCode"]) for p in t["Partitions"]))
            for t in got["Topics"]] == [(name, [(0, 0), (1, 0)])]
    fetch = {"GroupId": group, "Topics": [{"Name": name, "PartitionIndexes": [0, 0, 1]},
                                          {"Name": name, "PartitionIndexes": [1]}]}
    got = kschema.call(codec, broker, kwire.OFFSET_FETCH, 7, fetch)
    assert [(t["Name"], sorted((p["PartitionIndex"], p["CommittedOffset"])
                               for p in t["Partitions"])) for t in got["Topics"]] \
        == [(name, [(0, 2), (1, 3)])]


def test_sync_group_v5_needs_protocol_type_and_name(broker, codec):
    """SyncGroup v5 with a null ProtocolType or ProtocolName:
    INCONSISTENT_GROUP_PROTOCOL before the group is looked at
    (KafkaApis.handleSyncGroupRequest)."""
    msg = {"GroupId": f"sweep-{uuid.uuid4().hex[:8]}", "GenerationId": 1, "MemberId": "m",
           "ProtocolType": None, "ProtocolName": None, "Assignments": []}
    got = kschema.call(codec, broker, kwire.SYNC_GROUP, 5, msg)
    assert got["ErrorCode"] == INCONSISTENT_GROUP_PROTOCOL


def test_offset_commit_unknown_partitions_and_v0(broker, codec):
    """OffsetCommit's unknown partitions are answered as listed (duplicates
    too: Kafka adds them before its coordinator's map), under one entry per
    topic. v0 (ZooKeeper's) with a known partition is refused as a whole,
    echoing the request (UNSUPPORTED_VERSION, 35); with unknown partitions
    only, they are answered UNKNOWN_TOPIC_OR_PARTITION first."""
    name, = kwire.make_topics(broker, "sweep-v0", 1, 1)
    nosuch = f"{name}-nosuch"
    group = f"sweep-{uuid.uuid4().hex[:8]}"

    def commit(version, topics):
        msg = {"GroupId": group, "GenerationIdOrMemberEpoch": -1, "MemberId": "",
               "Topics": [{"Name": n, "Partitions": [{"PartitionIndex": i} for i in ps]}
                          for n, ps in topics]}
        got = kschema.call(codec, broker, kwire.OFFSET_COMMIT, version, msg)
        return [(t["Name"], sorted((p["PartitionIndex"], p["ErrorCode"]) for p in t["Partitions"]))
                for t in got["Topics"]]

    unknown = [(nosuch, [0, 0]), (nosuch, [1])]
    want = [(nosuch, [(0, 3), (0, 3), (1, 3)])]
    assert commit(2, unknown) == want
    assert commit(0, unknown) == want
    assert commit(0, [(name, [0, 0]), (name, [0]), (nosuch, [0])]) == [
        (name, [(0, 35), (0, 35)]), (name, [(0, 35)]), (nosuch, [(0, 35)])]


@pytest.mark.parametrize("version", [3, 5])
def test_init_producer_id_invalid_requests(broker, codec, version):
    """InitProducerId: a producer id without an epoch (or the reverse) and
    an empty transactional id are INVALID_REQUEST with id and epoch -1, as
    Kafka (KafkaApis.handleInitProducerIdRequest, TransactionCoordinator);
    a null transactional id with both gets a fresh id."""
    def init(txn, pid, epoch):
        got = kschema.call(codec, broker, kwire.INIT_PRODUCER_ID, version, {
            "TransactionalId": txn, "TransactionTimeoutMs": 60000, "ProducerId": pid,
            "ProducerEpoch": epoch})
        return got["ErrorCode"], got["ProducerId"], got["ProducerEpoch"]

    kwire.init_producer_id(broker)      # Kafka: retriable until its first id block
    assert init(None, 7, -1) == (INVALID_REQUEST, -1, -1)
    assert init(None, -1, 3) == (INVALID_REQUEST, -1, -1)
    assert init("", -1, -1) == (INVALID_REQUEST, -1, -1)
    err, pid, epoch = init(None, -1, -1)
    assert (err, epoch) == (0, 0) and pid >= 0
