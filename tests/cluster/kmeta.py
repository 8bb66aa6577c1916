# SPDX-License-Identifier: Apache-2.0
"""Metadata v12 and DescribeCluster v0 on the wire, asked of one chosen
broker (a client library would pick any broker it likes): what each broker
says about the cluster. Written from the protocol's JSON schemas with the
shared codec primitives of tests/lib/kwire.py."""
from dataclasses import dataclass, field

import kwire
from kwire import Reader, Writer

METADATA_V = 12
DESCRIBE_CLUSTER = 60
kwire.FLEXIBLE_FROM.setdefault(DESCRIBE_CLUSTER, 0)

# Error codes the cluster tests name.
NONE = 0
NOT_LEADER_OR_FOLLOWER = 6
REPLICA_NOT_AVAILABLE = 9
LEADER_NOT_AVAILABLE = 5
NOT_ENOUGH_REPLICAS = 19
NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20
NOT_CONTROLLER = 41


@dataclass
class Partition:
    error: int
    index: int
    leader: int
    leader_epoch: int
    replicas: list
    isr: list
    offline: list


@dataclass
class Topic:
    error: int
    name: str
    topic_id: bytes
    partitions: dict = field(default_factory=dict)   # index -> Partition


@dataclass
class Metadata:
    brokers: dict          # node id -> (host, port, rack)
    cluster_id: str
    controller_id: int
    topics: dict           # name -> Topic


def metadata_body(names):
    w = Writer(True)
    if names is None:
        w.arr(None)
    else:
        w.arr(len(names))
        for n in names:
            w.uuid().str(n).tags()
    w.bool(False).bool(False).tags()      # allow auto-create, topic authorized ops
    return w.b


def _int_array(r):
    return [r.i32() for _ in range(max(r.arr(), 0))]


def parse_metadata(r: Reader):
    r.i32()                                 # throttle
    brokers = {}
    for _ in range(r.arr()):
        node, host, port, rack = r.i32(), r.str(), r.i32(), r.str()
        r.tags()
        brokers[node] = (host, port, rack)
    cluster_id, controller = r.str(), r.i32()
    topics = {}
    for _ in range(max(r.arr(), 0)):
        t = Topic(r.i16(), r.str(), r.uuid())
        r.bool()                            # is_internal
        for _ in range(max(r.arr(), 0)):
            err, index, leader, epoch = r.i16(), r.i32(), r.i32(), r.i32()
            p = Partition(err, index, leader, epoch, _int_array(r), _int_array(r),
                          _int_array(r))
            r.tags()
            t.partitions[index] = p
        r.i32()                             # topic authorized operations
        r.tags()
        topics[t.name] = t
    r.tags()
    return Metadata(brokers, cluster_id, controller, topics)


def metadata(bootstrap, names=None, timeout=5.0):
    """Metadata v12 from the broker at bootstrap ("host:port"); names None:
    every topic."""
    r = kwire.call(bootstrap, kwire.METADATA, METADATA_V, metadata_body(names),
                   timeout=timeout)
    return parse_metadata(r)


@dataclass
class ClusterDescription:
    error: int
    cluster_id: str
    controller_id: int
    brokers: dict          # node id -> (host, port, rack)


def describe_cluster(bootstrap, timeout=5.0):
    """DescribeCluster v0 from the broker at bootstrap."""
    w = Writer(True)
    w.bool(False).tags()                    # include cluster authorized operations
    r = kwire.call(bootstrap, DESCRIBE_CLUSTER, 0, w.b, timeout=timeout)
    r.i32()
    err = r.i16()
    r.str()                                 # error message
    cluster_id, controller = r.str(), r.i32()
    brokers = {}
    for _ in range(r.arr()):
        node, host, port, rack = r.i32(), r.str(), r.i32(), r.str()
        r.tags()
        brokers[node] = (host, port, rack)
    r.i32()
    r.tags()
    return ClusterDescription(err, cluster_id, controller, brokers)


def produce(bootstrap, topic, partition, values, acks, timeout=15.0, version=9):
    """One Produce of a RecordBatch of values (bytes) to topic/partition:
    (error code, base offset)."""
    from krecords import record_batch
    body = kwire.produce_body(version, [(topic, [(partition, record_batch(values))])],
                              acks=acks)
    r = kwire.call(bootstrap, kwire.PRODUCE, version, body, timeout=timeout)
    out = kwire.parse_produce(version, r)
    assert len(out) == 1, out
    return out[0][2], out[0][3]


def list_latest(bootstrap, tps, timeout=5.0, version=7):
    """ListOffsets latest (the high watermark) for [(topic, partition)] from
    one broker: {(topic, partition): offset}; AssertionError on any error."""
    topics = {}
    for t, i in tps:
        topics.setdefault(t, []).append((i, -1, -1))
    body = kwire.list_offsets_body(version, list(topics.items()))
    r = kwire.call(bootstrap, kwire.LIST_OFFSETS, version, body, timeout=timeout)
    out = {}
    for t, i, err, _ts, off, _epoch in kwire.parse_list_offsets(version, r):
        assert err == NONE, (bootstrap, t, i, err)
        out[(t, i)] = off
    return out
