# SPDX-License-Identifier: Apache-2.0
"""Transactional data in the partition log, before the transaction
coordinator exists (issue 18, storage slice): raw Produce requests carry
transactional batches of a producer id from InitProducerId; Fetch
read_uncommitted sees them, read_committed stops at the last stable offset
(the first offset of the open transaction) with an empty
aborted_transactions list, ListOffsets READ_COMMITTED answers LATEST = LSO,
and all of it survives a kill -9 (the open transaction is rebuilt from the
log); librdkafka's consumer with isolation.level=read_committed reads
only the records below the LSO, read_uncommitted all of them. Refusals: a
non-transactional batch of the producer inside its transaction
(INVALID_TXN_STATE) and a client's control batch (INVALID_RECORD). Markers need the coordinator: tests/unit/storage/
test_plog_txn.c covers them. Spillway only: Kafka 3.9 verifies every
transactional partition with its coordinator first (KIP-890), so it
refuses these Produce requests."""
import struct
import time
import uuid

import pytest

import kschema
from conftest import REPO, backend_name
from krecords import crc32c, record_batch

LIBS = REPO / ".cache" / "kafka" / "libs"
PRODUCE, FETCH, LIST_OFFSETS, CREATE_TOPICS, INIT_PID = 0, 1, 2, 19, 22
INVALID_RECORD, INVALID_TXN_STATE = 87, 48
TXN_ID = "txnstore-it"


@pytest.fixture(scope="module")
def schemas():
    src = kschema.find_source(LIBS)
    if src is None:
        pytest.skip(f"kafka-clients jar missing in {LIBS}")
    return kschema.Schemas(src)


@pytest.fixture
def txb(broker_factory):
    if backend_name() != "spillway":
        pytest.skip("Kafka refuses transactional Produce without its coordinator (KIP-890)")
    return broker_factory()


def call(schemas, b, api, version, msg):
    got = kschema.call(schemas, b.bootstrap, api, version, msg, timeout=60)
    assert got is not None, f"api {api}: connection closed"
    return got


def create_topic(schemas, b, name):
    got = call(schemas, b, CREATE_TOPICS, 5, {
        "Topics": [{"Name": name, "NumPartitions": 1, "ReplicationFactor": 1}],
        "timeoutMs": 30000, "validateOnly": False})
    assert got["Topics"][0]["ErrorCode"] == 0, got


def init_pid(schemas, b):
    got = call(schemas, b, INIT_PID, 4, {"TransactionalId": None,
                                         "TransactionTimeoutMs": 60000,
                                         "ProducerId": -1, "ProducerEpoch": -1})
    assert got["ErrorCode"] == 0, got
    return got["ProducerId"], got["ProducerEpoch"]


def produce(schemas, b, topic, records, txn_id=TXN_ID, retries=50):
    """(error, base offset) of one batch to partition 0, acks=all; retried
    while the new partition has no leader yet."""
    for _ in range(retries):
        got = call(schemas, b, PRODUCE, 9, {
            "TransactionalId": txn_id, "Acks": -1, "TimeoutMs": 30000,
            "TopicData": [{"Name": topic, "PartitionData": [
                {"Index": 0, "Records": records}]}]})
        pr = got["Responses"][0]["PartitionResponses"][0]
        if pr["ErrorCode"] not in (3, 6):       # unknown partition, not leader: not yet
            return pr["ErrorCode"], pr["BaseOffset"]
        time.sleep(0.1)
    raise AssertionError(f"no leader for {topic}: {got}")


def fetch(schemas, b, topic, isolation, offset=0):
    got = call(schemas, b, FETCH, 12, {
        "ReplicaId": -1, "MaxWaitMs": 0, "MinBytes": 0, "MaxBytes": 1 << 20,
        "IsolationLevel": isolation, "SessionId": 0, "SessionEpoch": -1,
        "Topics": [{"Topic": topic, "Partitions": [
            {"Partition": 0, "CurrentLeaderEpoch": -1, "FetchOffset": offset,
             "LastFetchedEpoch": -1, "LogStartOffset": -1, "PartitionMaxBytes": 1 << 20}]}],
        "ForgottenTopicsData": [], "RackId": ""})
    pd = got["Responses"][0]["Partitions"][0]
    assert pd["ErrorCode"] == 0, pd
    return pd


def batch_offsets(records):
    """[(base offset, last offset, attributes)] of the batches in records."""
    out, pos = [], 0
    records = records or b""
    while pos + 61 <= len(records):
        base, length = struct.unpack_from(">qi", records, pos)
        attrs, delta = struct.unpack_from(">hi", records, pos + 21)
        out.append((base, base + delta, attrs))
        pos += 12 + length
    return out


def list_latest(schemas, b, topic, isolation):
    got = call(schemas, b, LIST_OFFSETS, 5, {
        "ReplicaId": -1, "IsolationLevel": isolation, "Topics": [
            {"Name": topic, "Partitions": [{"PartitionIndex": 0, "CurrentLeaderEpoch": -1,
                                            "Timestamp": -1}]}]})
    p = got["Topics"][0]["Partitions"][0]
    assert p["ErrorCode"] == 0, p
    return p["Offset"]


def control_batch(pid, epoch):
    """A COMMIT marker as a client would have to forge it."""
    rec = bytes([0, 0, 0]) + bytes([8]) + struct.pack(">hh", 0, 1) + bytes([12]) + \
        struct.pack(">hi", 0, 0) + bytes([0])
    rec = bytes([len(rec) << 1]) + rec
    after_crc = struct.pack(">hiqqqhii", 0x30, 0, 0, 0, pid, epoch, -1, 1) + rec
    tail = struct.pack(">ibI", -1, 2, crc32c(after_crc)) + after_crc
    return struct.pack(">qi", 0, len(tail)) + tail


def check_visibility(schemas, b, topic, pid):
    hw, lso = 7, 2
    ru = fetch(schemas, b, topic, 0)
    assert (ru["HighWatermark"], ru["LastStableOffset"]) == (hw, lso), ru
    assert [o[:2] for o in batch_offsets(ru["Records"])] == [(0, 1), (2, 4), (5, 6)]
    assert ru["AbortedTransactions"] is None, "read_uncommitted: null list"
    rc = fetch(schemas, b, topic, 1)
    assert (rc["HighWatermark"], rc["LastStableOffset"]) == (hw, lso), rc
    assert [o[:2] for o in batch_offsets(rc["Records"])] == [(0, 1)], \
        "read_committed must stop at the LSO"
    assert rc["AbortedTransactions"] == [], rc
    # At the LSO itself: nothing readable yet, no error.
    at = fetch(schemas, b, topic, 1, offset=lso)
    assert batch_offsets(at["Records"]) == [] and at["LastStableOffset"] == lso
    assert list_latest(schemas, b, topic, 1) == lso
    assert list_latest(schemas, b, topic, 0) == hw


def test_open_transaction_holds_lso(schemas, txb):
    topic = f"txn-store-{uuid.uuid4().hex[:8]}"
    create_topic(schemas, txb, topic)
    pid, epoch = init_pid(schemas, txb)
    assert produce(schemas, txb, topic, record_batch([b"a", b"b"]), txn_id=None) == (0, 0)
    txn = record_batch([b"t0", b"t1", b"t2"], producer_id=pid, producer_epoch=epoch,
                       base_sequence=0, transactional=True)
    assert produce(schemas, txb, topic, txn) == (0, 2)
    assert produce(schemas, txb, topic, record_batch([b"c", b"d"]), txn_id=None) == (0, 5)
    check_visibility(schemas, txb, topic, pid)
    # The producer may not leave its transaction with a plain batch.
    plain = record_batch([b"x"], producer_id=pid, producer_epoch=epoch, base_sequence=3)
    assert produce(schemas, txb, topic, plain, txn_id=None)[0] == INVALID_TXN_STATE
    # Nor write its own marker.
    assert produce(schemas, txb, topic, control_batch(pid, epoch))[0] == INVALID_RECORD
    # kill -9: the open transaction comes back from the log.
    txb.kill()
    txb.start()
    check_visibility(schemas, txb, topic, pid)
    # Its next transactional batch stays in the same transaction.
    more = record_batch([b"t3"], producer_id=pid, producer_epoch=epoch, base_sequence=3,
                        transactional=True)
    assert produce(schemas, txb, topic, more) == (0, 7)
    rc = fetch(schemas, txb, topic, 1)
    assert (rc["HighWatermark"], rc["LastStableOffset"]) == (8, 2), rc


def consume_values(bootstrap, topic, isolation, settle=3.0):
    """The values librdkafka's consumer reads from partition 0 from offset
    0 until nothing came for settle seconds."""
    ck = pytest.importorskip("confluent_kafka")
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{uuid.uuid4().hex[:6]}",
                     "enable.auto.commit": False, "isolation.level": isolation,
                     "fetch.wait.max.ms": 100})
    c.assign([ck.TopicPartition(topic, 0, 0)])
    out, quiet_until = [], time.monotonic() + settle
    try:
        while time.monotonic() < quiet_until:
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            out.append(m.value())
            quiet_until = time.monotonic() + settle
    finally:
        c.close()
    return out


def test_clients_read_committed_stop_at_lso(schemas, txb):
    topic = f"txn-store-c-{uuid.uuid4().hex[:8]}"
    create_topic(schemas, txb, topic)
    pid, epoch = init_pid(schemas, txb)
    assert produce(schemas, txb, topic, record_batch([b"a", b"b"]), txn_id=None) == (0, 0)
    txn = record_batch([b"t0", b"t1", b"t2"], producer_id=pid, producer_epoch=epoch,
                       base_sequence=0, transactional=True)
    assert produce(schemas, txb, topic, txn) == (0, 2)
    assert produce(schemas, txb, topic, record_batch([b"c", b"d"]), txn_id=None) == (0, 5)
    assert consume_values(txb.bootstrap, topic, "read_committed") == [b"a", b"b"]
    assert consume_values(txb.bootstrap, topic, "read_uncommitted") == \
        [b"a", b"b", b"t0", b"t1", b"t2", b"c", b"d"]
