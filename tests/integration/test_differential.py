# SPDX-License-Identifier: Apache-2.0
"""Kafka-vs-Spillway differential conformance (issue 15): one Spillway and
one real Apache Kafka 3.9 (kafka/kafka-ref.sh), whatever
SPILLWAY_TEST_BACKEND says, set up identically (same topics, same records,
same committed offsets); then every case sends the same request to both at
every version both advertise, decodes both answers with one generic
schema-driven decoder (kschema.py, reading the schemas Kafka itself ships
in its kafka-clients jar) and diffs them field by field. Only fields that
legitimately differ are allowed to: ALLOW (every API) and each case's own
list, and DOCUMENTED (known differences, each also in README.md's
"Compatibility notes"). Topic ids are compared by the topic they name,
ports by whether they are the broker's own, and lists Kafka builds from
hash maps in key order; a closed connection compares as "closed".

A failure lists every differing field at every version (path, Spillway's
value, Kafka's): fix Spillway, or, if the difference is deliberate, add it
to DOCUMENTED with the reason and to the README."""
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest

from conftest import REPO, Broker
import kschema
import kwire
from sockio import read_frame

LIBS = Path(os.environ.get("SPILLWAY_KAFKA_LIBS", REPO / ".cache" / "kafka" / "libs"))
TS = 1_700_000_000_000                      # record timestamps (the same on both)
TAG = uuid.uuid4().hex[:6]
A, B, C, P, D = (f"diff-{TAG}-{x}" for x in "abcpd")  # 3, 2, 1, 2 and 1 partitions
UNKNOWN = f"diff-{TAG}-nosuch"
GROUP = f"diff-{TAG}-g"                     # a group with committed offsets (Empty)
NOGROUP = f"diff-{TAG}-nogroup"
RANDOM_ID = uuid.uuid4().bytes

# Fields that differ between any two brokers (paths without list indices).
ALLOW = ("ThrottleTimeMs", "ClusterId", "*.ClusterId")

# Known differences, each also in README.md "Compatibility notes":
# (case id pattern, field pattern), the reason above each.
DOCUMENTED = {
    # ListOffsets MAX_TIMESTAMP (-3) when a batch's largest timestamp is not
    # its last record's: Kafka answers the first record with it, Spillway
    # the batch's last offset (the record needs reading back at query time;
    # test_conformance_limits.py's xfail).
    ("list-offsets-max-timestamp-middle", "Topics.Partitions.Offset"),
    # Reassignments: Spillway answers as Kafka's ZooKeeper-mode controller
    # (its messages, "" top-level messages); the oracle is KRaft, whose
    # controller words the same error codes differently.
    ("alter-reassignments-*", "ErrorMessage"),
    ("alter-reassignments-*", "Responses.Partitions.ErrorMessage"),
    ("list-reassignments-*", "ErrorMessage"),
}

DELETE_RECORDS, DESCRIBE_LOG_DIRS, DESCRIBE_PRODUCERS = 21, 35, 61
ALTER_CONFIGS, INCREMENTAL_ALTER_CONFIGS = 33, 44
DESCRIBE_CLIENT_QUOTAS, ALTER_CLIENT_QUOTAS, DESCRIBE_USER_SCRAM_CREDENTIALS = 48, 49, 50
DESCRIBE_ACLS, CREATE_ACLS, DELETE_ACLS = 29, 30, 31
SASL_HANDSHAKE, SASL_AUTHENTICATE, ALTER_USER_SCRAM_CREDENTIALS = 17, 36, 51
ELECT_LEADERS = 43
ALTER_PARTITION_REASSIGNMENTS, LIST_PARTITION_REASSIGNMENTS = 45, 46
SCRAM_USER = f"diff-{TAG}-scram"
SALTED = bytes(range(32))                   # a salted password (any bytes will do)
TOPIC, BROKER = 2, 4                        # config resource types
QCLIENT, QUSER = f"diff-{TAG}-client", f"diff-{TAG}-user"
# DescribeLogDirs: each broker's own directory and file system.
LOG_DIR_OWN = ("Results.LogDir", "Results.TotalBytes", "Results.UsableBytes")

# Versions advertised but deliberately not served like Kafka 3.9 does:
# Produce v0-2 close the connection as in Kafka 4 (advertised for
# librdkafka before 2.11.1, KAFKA-18659; see kp_api_table.c).
ACCEPT_FROM = {kwire.PRODUCE: 3}
# Versions answered below the advertised range (kp_api_table.c: as Kafka
# 3.9, which advertises them; Kafka 4.0 starts where Spillway advertises).
ANSWERED_FROM = {kwire.OFFSET_COMMIT: 0, kwire.OFFSET_FETCH: 0}


def schema_source():
    src = kschema.find_source(LIBS)
    if not (LIBS / ".complete").exists() or src is None or shutil.which("java") is None:
        pytest.skip(f"Apache Kafka jars or java missing in {LIBS} "
                    "(tests/integration/setup.sh --with-kafka-ref)")
    return src


class Side:
    """One broker as the diff sees it: its port and its topic ids."""

    def __init__(self, name, broker, schemas):
        self.name, self.broker, self.schemas = name, broker, schemas
        self.port = broker.port
        self.ids = {}
        self.sock = None

    def tid(self, name):
        return self.ids[name]

    def call(self, api_key, version, msg):
        """The decoded response, or "closed" when the broker hung up."""
        body = self.schemas.request(api_key).encode(msg, version)
        if self.sock is None:
            self.sock = kwire.connect(self.broker, timeout=30)
        try:
            self.sock.sendall(kschema.frame(self.schemas, api_key, version, 7, body))
            corr, data = read_frame(self.sock)
        except (ConnectionError, OSError):
            self.sock.close()
            self.sock = None
            return "closed"
        assert corr == 7
        data = kschema.strip_response_header(self.schemas, api_key, version, data)
        return self.normalize(self.schemas.response(api_key).decode(data, version))

    def normalize(self, v, key=""):
        """Topic ids become the topic's name; the broker's own port "self"."""
        if isinstance(v, dict):
            return {k: self.normalize(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [self.normalize(x, key) for x in v]
        if isinstance(v, bytes) and len(v) == 16 and key.endswith("Id"):
            if v == bytes(16):
                return "uuid:zero"
            names = [n for n, i in self.ids.items() if i == v]
            return f"uuid:{names[0]}" if names else "uuid:other"
        if key == "Port" and v == self.port:
            return "self"
        return v

    def close(self):
        if self.sock is not None:
            self.sock.close()


# ---- setup: the same topics, records and offsets on both ----

def batch(values, ts=TS):
    return kwire.record_batch(values, timestamp_ms=ts, step_ms=1)


def unordered_batch():
    """Three records whose largest timestamp is the middle one's."""
    recs = b"".join(kwire.record(v, offset_delta=i, timestamp_delta=d)
                    for i, (v, d) in enumerate([(b"d0", 5), (b"d1", 9), (b"d2", 1)]))
    return kwire.batch(recs, 3, base_timestamp=TS, max_timestamp=TS + 9)


def setup_side(side):
    b = side.broker
    got = kwire.create_topics(b, [(A, 3), (B, 2), (C, 1), (P, 2), (D, 1)])
    assert [e for _, e, _ in got] == [0] * 5, got
    kwire.wait_for_leaders(b, [A, B, C, P, D])
    md = kwire.metadata(b, [A, B, C, P, D], version=12)
    side.ids = {n: md[n][3] for n in md}
    produce = [(A, [(0, batch([b"a0", b"a1", b"a2"])), (1, batch([b"b0"], TS + 100))]),
               (B, [(0, batch([b"c0", b"c1"], TS + 200))]), (D, [(0, unordered_batch())])]
    r = kwire.roundtrip(b, kwire.PRODUCE, 9, kwire.produce_body(9, produce, acks=-1))
    assert [p[2] for p in kwire.parse_produce(9, r)] == [0, 0, 0, 0]
    kwire.init_producer_id(b)      # Kafka: retriable errors until its first id block
    # Kafka creates __consumer_offsets on the first FindCoordinator.
    coord = {"Key": GROUP, "KeyType": 0}
    for _ in range(150):
        if side.call(kwire.FIND_COORDINATOR, 3, coord)["ErrorCode"] == 0:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"{side.name}: no group coordinator")
    commit = {"GroupId": GROUP, "GenerationIdOrMemberEpoch": -1, "MemberId": "",
              "Topics": [{"Name": A, "Partitions": [
                  {"PartitionIndex": 0, "CommittedOffset": 2, "CommittedMetadata": "m"},
                  {"PartitionIndex": 1, "CommittedOffset": 1, "CommittedMetadata": None}]}]}
    for _ in range(150):        # Kafka: NOT_COORDINATOR while the group topic loads
        got = side.call(kwire.OFFSET_COMMIT, 8, commit)
        if all(p["ErrorCode"] == 0 for t in got["Topics"] for p in t["Partitions"]):
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"{side.name}: OffsetCommit {got}")


@pytest.fixture(scope="module")
def pair():
    schemas = kschema.Schemas(schema_source())
    made, sides = [], []
    try:
        for name in ("spillway", "kafka"):
            b = Broker(name)
            made.append(b)
            b.start()
            sides.append(Side(name, b, schemas))
        for s in sides:
            setup_side(s)
        sides_ranges = [api_ranges(s) for s in sides]
        yield sides[0], sides[1], sides_ranges
    finally:
        for s in sides:
            s.close()
        for b in made:
            b.cleanup()


def api_ranges(side):
    got = side.call(kwire.API_VERSIONS, 3, {"ClientSoftwareName": "diff",
                                            "ClientSoftwareVersion": "1"})
    assert got["ErrorCode"] == 0
    return {k["ApiKey"]: (k["MinVersion"], k["MaxVersion"]) for k in got["ApiKeys"]}


# ---- the diff ----

MISSING = "<absent>"


def diff(a, b, path, allow, out):
    key = re.sub(r"\[\d+\]", "", path)
    if any(fnmatch(key, p) for p in allow):
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            diff(a.get(k, MISSING), b.get(k, MISSING), f"{path}.{k}".lstrip("."), allow, out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", allow, out)
    elif a != b:
        out.append(f"{path or '<response>'}: spillway={_short(a)} kafka={_short(b)}")


def _short(v):
    s = repr(v)
    return s if len(s) <= 300 else s[:300] + "..."


# Keys that identify an entry of a response list. Kafka builds most answers
# from hash maps, so the order of topics, partitions, groups or resources is
# not part of the contract: both answers are put in key order (a stable sort,
# so duplicates keep theirs) before the diff.
ENTRY_KEYS = ("Name", "Topic", "TopicId", "GroupId", "ResourceType", "ResourceName",
              "PartitionIndex", "Partition", "Index", "Key", "Entity", "EntityType",
              "User")


def canonical(v):
    if isinstance(v, dict):
        return {k: canonical(x) for k, x in v.items()}
    if isinstance(v, list):
        v = [canonical(x) for x in v]
        if v and all(isinstance(x, dict) for x in v):
            v.sort(key=lambda x: tuple(repr(x.get(k)) for k in ENTRY_KEYS))
        return v
    return v


@dataclass
class Case:
    id: str
    api: int
    msg: object                 # dict, or fn(side, version) -> dict
    vmin: int = 0               # lowest version the case makes sense at
    vmax: int = 1 << 15
    allow: tuple = ()

    def build(self, side, v):
        return self.msg(side, v) if callable(self.msg) else self.msg


def run_case(pair, case):
    spw, kfk, (r_spw, r_kfk) = pair
    if case.api not in r_spw or case.api not in r_kfk:
        pytest.fail(f"api {case.api} not advertised by both: {r_spw.get(case.api)} "
                    f"{r_kfk.get(case.api)}")
    lo_spw = min(r_spw[case.api][0], ANSWERED_FROM.get(case.api, 1 << 15))
    lo = max(lo_spw, r_kfk[case.api][0], case.vmin, ACCEPT_FROM.get(case.api, 0))
    hi = min(r_spw[case.api][1], r_kfk[case.api][1], case.vmax)
    assert lo <= hi, (case.id, lo, hi)
    allow = ALLOW + case.allow + tuple(f for (c, f) in DOCUMENTED if fnmatch(case.id, c))
    out = []
    for v in range(lo, hi + 1):
        got = [s.call(case.api, v, case.build(s, v)) for s in (spw, kfk)]
        got = [canonical(g) for g in got]
        diffs = []
        diff(got[0], got[1], "", allow, diffs)
        out += [f"v{v} {d}" for d in diffs]
    assert not out, f"{case.id}: {len(out)} differences\n" + "\n".join(out[:60])


# ---- the cases ----

def scram_alter(deletions, upsertions):
    return {"Deletions": [{"Name": n, "Mechanism": m} for n, m in deletions],
            "Upsertions": [{"Name": n, "Mechanism": m, "Iterations": i, "Salt": salt,
                            "SaltedPassword": sp} for n, m, i, salt, sp in upsertions]}


def md(names, auto=False):
    return {"Topics": None if names is None else [{"Name": n} for n in names],
            "AllowAutoTopicCreation": auto}


def md_by_id(side, v):
    return {"Topics": [{"Name": None, "TopicId": side.tid(A)},
                       {"Name": None, "TopicId": RANDOM_ID}]}


def produce(topics, acks=-1):
    return {"TransactionalId": None, "Acks": acks, "TimeoutMs": 30000,
            "TopicData": [{"Name": n, "PartitionData": [{"Index": i, "Records": r}
                                                        for i, r in ps]}
                          for n, ps in topics]}


def fetch(topics, max_bytes=1 << 20, isolation=0, part_max=1 << 20, session=(0, -1)):
    """A Fetch of topics [(name, [(partition, offset[, current_leader_epoch])])]:
    from v13 each topic by its id on that side (a name neither knows: an id
    derived from the name, the same on both)."""
    def tid(side, n):
        return side.ids.get(n) or uuid.uuid5(uuid.NAMESPACE_URL, n).bytes

    def part(p, max_b):
        i, off, epoch = (p + (-1,))[:3]
        return {"Partition": i, "CurrentLeaderEpoch": epoch, "FetchOffset": off,
                "LastFetchedEpoch": -1, "LogStartOffset": -1, "PartitionMaxBytes": max_b}

    return lambda side, v: {
        "ReplicaId": -1, "MaxWaitMs": 0, "MinBytes": 0, "MaxBytes": max_bytes,
        "IsolationLevel": isolation, "SessionId": session[0], "SessionEpoch": session[1],
        "RackId": "", "Topics": [{"Topic": n, "TopicId": tid(side, n),
                                  "Partitions": [part(p, part_max) for p in ps]}
                                 for n, ps in topics]}


def list_offsets(topics, epoch=-1):
    return {"ReplicaId": -1, "IsolationLevel": 0, "Topics": [
        {"Name": n, "Partitions": [{"PartitionIndex": i, "CurrentLeaderEpoch": epoch,
                                    "Timestamp": ts, "MaxNumOffsets": 1} for i, ts in ps]}
        for n, ps in topics]}


def ofle(topics):
    return {"ReplicaId": -1, "Topics": [
        {"Topic": n, "Partitions": [{"Partition": i, "CurrentLeaderEpoch": cur,
                                     "LeaderEpoch": e} for i, cur, e in ps]}
        for n, ps in topics]}


def create_topics(topics, validate=True):
    return {"Topics": [{"Name": n, "NumPartitions": p, "ReplicationFactor": rf}
                       for n, p, rf in topics], "timeoutMs": 30000, "validateOnly": validate}


def offset_fetch(groups):
    """groups: [(group, topics or None)]; v0-7 take the first."""
    topics = lambda ts: None if ts is None else [  # noqa: E731
        {"Name": n, "PartitionIndexes": list(ps)} for n, ps in ts]
    g0, t0 = groups[0]
    return {"GroupId": g0, "Topics": topics(t0), "RequireStable": False,
            "Groups": [{"GroupId": g, "MemberId": None, "MemberEpoch": -1,
                        "Topics": topics(ts)} for g, ts in groups]}


def join(group, member="", session=10000, protocols=(("range", b"\x00"),)):
    return {"GroupId": group, "SessionTimeoutMs": session, "RebalanceTimeoutMs": 10000,
            "MemberId": member, "GroupInstanceId": None, "ProtocolType": "consumer",
            "Protocols": [{"Name": n, "Metadata": m} for n, m in protocols], "Reason": None}


def alter_configs(resources, validate=True):
    return {"ValidateOnly": validate, "Resources": [
        {"ResourceType": t, "ResourceName": n,
         "Configs": [{"Name": k, "Value": v} for k, v in cs]} for t, n, cs in resources]}


def inc_alter_configs(resources, validate=True):
    """cs: (name, op, value); op 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT."""
    return {"ValidateOnly": validate, "Resources": [
        {"ResourceType": t, "ResourceName": n,
         "Configs": [{"Name": k, "ConfigOperation": op, "Value": v} for k, op, v in cs]}
        for t, n, cs in resources]}


def quota_entry(entity, ops):
    return {"Entity": [{"EntityType": t, "EntityName": n} for t, n in entity],
            "Ops": [{"Key": k, "Value": v, "Remove": r} for k, v, r in ops]}


def quota_filter(components, strict=False):
    """components: (entity type, match type 0 exact / 1 default / 2 any, match)."""
    return {"Strict": strict, "Components": [
        {"EntityType": t, "MatchType": m, "Match": n} for t, m, n in components]}


def acl_binding(rtype, name, pattern, principal, host, op, perm):
    return {"ResourceType": rtype, "ResourceName": name, "ResourcePatternType": pattern,
            "Principal": principal, "Host": host, "Operation": op, "PermissionType": perm}


def acl_filter(rtype, name, pattern, principal=None, host=None, op=1, perm=1):
    """A DescribeAcls request, or one DeleteAcls filter (the same fields)."""
    return {"ResourceTypeFilter": rtype, "ResourceNameFilter": name,
            "PatternTypeFilter": pattern, "PrincipalFilter": principal, "HostFilter": host,
            "Operation": op, "PermissionType": perm}


def settled(api, version, msg, ready):
    """msg, sent once the broker shows a change made by an earlier case:
    Kafka applies config and quota changes through its controller and its
    broker's metadata cache sees them a moment later (Spillway at once)."""
    def build(side, v):
        for _ in range(100):
            got = side.call(api, version, msg)
            if got != "closed" and ready(got):
                break
            time.sleep(0.1)
        return msg
    return build


def produce_p(side, v):
    return produce([(P, [(0, batch([b"p%d" % v])), (1, batch([b"q", b"r"]))])])


CASES = [
    # Metadata
    Case("metadata-multi", kwire.METADATA, md([A, B, C])),
    Case("metadata-duplicates", kwire.METADATA, md([A, B, A])),
    Case("metadata-unknown", kwire.METADATA, md([A, UNKNOWN]), vmin=4),
    Case("metadata-invalid-name", kwire.METADATA, md(["bad name!", "a" * 250]), vmin=4),
    Case("metadata-empty", kwire.METADATA, md([]), vmin=1),
    Case("metadata-all", kwire.METADATA, md(None), vmin=1),
    Case("metadata-authorized-ops", kwire.METADATA,
         dict(md([A]), IncludeClusterAuthorizedOperations=True,
              IncludeTopicAuthorizedOperations=True), vmin=8),
    Case("metadata-by-id", kwire.METADATA, md_by_id, vmin=10),
    # Produce (topic P only: it appends)
    Case("produce-multi", kwire.PRODUCE, produce_p),
    Case("produce-unknown", kwire.PRODUCE,
         produce([(UNKNOWN, [(0, batch([b"x"]))]), (P, [(9, batch([b"x"]))])])),
    Case("produce-duplicates", kwire.PRODUCE,
         produce([(P, [(0, batch([b"d"])), (0, batch([b"e"]))])])),
    Case("produce-empty", kwire.PRODUCE, produce([])),
    Case("produce-bad-acks", kwire.PRODUCE, produce([(P, [(0, batch([b"x"]))])], acks=2)),
    # Fetch (what the Produce cases above appended, too)
    Case("fetch-produced", kwire.FETCH, fetch([(P, [(0, 0), (1, 0)])])),
    Case("fetch-multi", kwire.FETCH, fetch([(A, [(0, 0), (1, 0), (2, 0)]), (B, [(0, 1)])])),
    Case("fetch-middle-offset", kwire.FETCH, fetch([(A, [(0, 1), (0, 2)])])),
    Case("fetch-unknown", kwire.FETCH, fetch([(UNKNOWN, [(0, 0)]), (A, [(7, 0)])])),
    Case("fetch-read-committed", kwire.FETCH, fetch(
        [(A, [(0, 0), (1, 1000)]), (UNKNOWN, [(0, 0)]), (B, [(9, 0)])], isolation=1)),
    Case("fetch-out-of-range", kwire.FETCH, fetch([(A, [(0, 1000), (1, -5)])])),
    Case("fetch-duplicates", kwire.FETCH, fetch([(A, [(0, 0), (0, 1)]), (A, [(1, 0)])])),
    Case("fetch-empty", kwire.FETCH, fetch([])),
    Case("fetch-partition-max-bytes", kwire.FETCH,
         fetch([(A, [(0, 0), (1, 0)]), (D, [(0, 0)])], part_max=1)),
    Case("fetch-bad-isolation", kwire.FETCH, fetch([(A, [(0, 0)]), (B, [(0, 0)])], isolation=2)),
    Case("fetch-session-unknown", kwire.FETCH,
         fetch([(A, [(0, 0)])], session=(12345, 3)), vmin=7),
    Case("fetch-leader-epochs", kwire.FETCH, fetch([(A, [(0, 0, 5), (1, 0, 0)])]), vmin=9),
    # Any negative current_leader_epoch is "not set" to Kafka.
    Case("fetch-negative-leader-epoch", kwire.FETCH,
         fetch([(A, [(0, 0, -2), (1, 0, -7)])]), vmin=9),
    # v13+: topics by id; ids neither broker knows are UNKNOWN_TOPIC_ID
    # (each its own topic entry), next to known ones and unknown partitions.
    Case("fetch-by-id-unknown", kwire.FETCH, fetch(
        [(A, [(0, 0), (9, 0)]), (UNKNOWN, [(0, 0), (1, 0), (0, 0)]), (B, [(0, 0)]),
         (UNKNOWN + "2", [(3, 0)]), (A, [(1, 0)])]), vmin=13),
    Case("fetch-by-id-only-unknown", kwire.FETCH,
         fetch([(UNKNOWN, [(0, 0)]), (UNKNOWN + "2", [(0, 0)])]), vmin=13),
    Case("fetch-max-bytes", kwire.FETCH,
         fetch([(A, [(0, 0), (1, 0)]), (B, [(0, 0)])], max_bytes=1), vmin=3),
    # ListOffsets
    Case("list-offsets-multi", kwire.LIST_OFFSETS, list_offsets([
        (A, [(0, -2), (1, -2), (2, -2)]), (B, [(0, -1), (1, -1)]),
        (C, [(0, TS)])])),
    Case("list-offsets-timestamps", kwire.LIST_OFFSETS, list_offsets([
        (A, [(0, TS + 1), (1, TS + 1), (2, TS)]), (B, [(0, TS + 201), (1, 0)])])),
    Case("list-offsets-max-timestamp", kwire.LIST_OFFSETS,
         list_offsets([(A, [(0, -3), (1, -3), (2, -3)])]), vmin=7),
    Case("list-offsets-unordered-timestamps", kwire.LIST_OFFSETS,
         list_offsets([(D, [(0, TS + 2), (0, TS + 6), (0, TS + 10)])])),
    Case("list-offsets-max-timestamp-middle", kwire.LIST_OFFSETS,
         list_offsets([(D, [(0, -3)])]), vmin=7),
    Case("list-offsets-unknown", kwire.LIST_OFFSETS,
         list_offsets([(UNKNOWN, [(0, -1)]), (A, [(5, -1)])])),
    Case("list-offsets-duplicates", kwire.LIST_OFFSETS,
         list_offsets([(A, [(0, -1), (0, -2), (1, -1)])])),
    Case("list-offsets-empty", kwire.LIST_OFFSETS, list_offsets([])),
    Case("list-offsets-epochs", kwire.LIST_OFFSETS,
         list_offsets([(A, [(0, -1)])], epoch=5), vmin=4),
    # OffsetForLeaderEpoch
    Case("ofle-multi", kwire.OFFSET_FOR_LEADER_EPOCH,
         ofle([(A, [(0, -1, 0), (1, -1, 0), (2, 0, 0)]), (B, [(0, -1, 3), (1, 9, 0)])])),
    Case("ofle-unknown", kwire.OFFSET_FOR_LEADER_EPOCH,
         ofle([(UNKNOWN, [(0, -1, 0)]), (A, [(8, -1, 0)])])),
    Case("ofle-duplicates", kwire.OFFSET_FOR_LEADER_EPOCH,
         ofle([(A, [(0, -1, 0), (0, 0, 0), (0, 3, 0)]), (A, [(0, -1, 0)])])),
    Case("ofle-empty", kwire.OFFSET_FOR_LEADER_EPOCH, ofle([])),
    # DescribeConfigs (the handler is owned elsewhere; compared all the same)
    Case("describe-configs-keys", kwire.DESCRIBE_CONFIGS, {"Resources": [
        {"ResourceType": 2, "ResourceName": A,
         "ConfigurationKeys": ["cleanup.policy", "retention.ms", "segment.bytes"]},
        {"ResourceType": 2, "ResourceName": UNKNOWN, "ConfigurationKeys": None}]}),
    Case("describe-configs-all", kwire.DESCRIBE_CONFIGS, {"Resources": [
        {"ResourceType": 2, "ResourceName": A, "ConfigurationKeys": None}],
        "IncludeSynonyms": True, "IncludeDocumentation": False}),
    Case("describe-configs-duplicates", kwire.DESCRIBE_CONFIGS, {"Resources": [
        {"ResourceType": 2, "ResourceName": A, "ConfigurationKeys": ["retention.ms"]},
        {"ResourceType": 2, "ResourceName": A, "ConfigurationKeys": ["cleanup.policy"]}]}),
    Case("describe-configs-empty", kwire.DESCRIBE_CONFIGS, {"Resources": []}),
    # CreateTopics / DeleteTopics / CreatePartitions error paths
    Case("create-topics-errors", kwire.CREATE_TOPICS, create_topics(
        [(A, 3, 1), ("bad name!", 1, 1), (f"diff-{TAG}-zero", 0, 1),
         (f"diff-{TAG}-rf", 1, 3), (f"diff-{TAG}-dup", 1, 1), (f"diff-{TAG}-dup", 2, 1)])),
    # validate_only: a throwaway random id on both (uuid:other), not zero.
    Case("create-topics-validate", kwire.CREATE_TOPICS,
         create_topics([(f"diff-{TAG}-new", 4, 1), (f"diff-{TAG}-new2", -1, -1)])),
    Case("create-topics-empty", kwire.CREATE_TOPICS, create_topics([])),
    Case("delete-topics-unknown", kwire.DELETE_TOPICS,
         {"TopicNames": [UNKNOWN], "Topics": [{"Name": UNKNOWN}], "TimeoutMs": 30000}),
    Case("delete-topics-unknown-id", kwire.DELETE_TOPICS,
         {"Topics": [{"Name": None, "TopicId": RANDOM_ID}], "TimeoutMs": 30000}, vmin=6),
    Case("delete-topics-duplicates", kwire.DELETE_TOPICS,
         {"TopicNames": [UNKNOWN, UNKNOWN], "Topics": [{"Name": UNKNOWN}, {"Name": UNKNOWN}],
          "TimeoutMs": 30000}),
    Case("delete-topics-empty", kwire.DELETE_TOPICS, {"TimeoutMs": 30000}),
    Case("create-partitions-errors", kwire.CREATE_PARTITIONS, {
        "Topics": [{"Name": A, "Count": 3, "Assignments": None},
                   {"Name": B, "Count": 1, "Assignments": None},
                   {"Name": UNKNOWN, "Count": 4, "Assignments": None},
                   {"Name": C, "Count": 2, "Assignments": None},
                   {"Name": C, "Count": 3, "Assignments": None}],
        "TimeoutMs": 30000, "ValidateOnly": True}),
    Case("create-partitions-empty", kwire.CREATE_PARTITIONS,
         {"Topics": [], "TimeoutMs": 30000, "ValidateOnly": True}),
    # InitProducerId, DescribeCluster
    Case("init-producer-id", kwire.INIT_PRODUCER_ID,
         {"TransactionalId": None, "TransactionTimeoutMs": 60000, "ProducerId": -1,
          "ProducerEpoch": -1}, allow=("ProducerId",)),
    Case("describe-cluster-ops", 60, {"IncludeClusterAuthorizedOperations": True,
                                      "EndpointType": 1}),
    Case("init-producer-id-transactional", kwire.INIT_PRODUCER_ID,
         {"TransactionalId": "", "TransactionTimeoutMs": 60000, "ProducerId": -1,
          "ProducerEpoch": -1}, allow=("ProducerId",)),
    Case("init-producer-id-bad-epoch", kwire.INIT_PRODUCER_ID,
         {"TransactionalId": None, "TransactionTimeoutMs": 60000, "ProducerId": 7,
          "ProducerEpoch": -1}, vmin=3),
    Case("describe-cluster", 60, {"IncludeClusterAuthorizedOperations": False,
                                  "EndpointType": 1}),
    # Groups
    Case("find-coordinator", kwire.FIND_COORDINATOR,
         {"Key": GROUP, "KeyType": 0, "CoordinatorKeys": [GROUP, NOGROUP]}),
    Case("find-coordinator-bad-type", kwire.FIND_COORDINATOR,
         {"Key": GROUP, "KeyType": 9, "CoordinatorKeys": [GROUP]}, vmin=1),
    Case("find-coordinator-empty", kwire.FIND_COORDINATOR,
         {"KeyType": 0, "CoordinatorKeys": []}, vmin=4),
    Case("join-group-empty-id", kwire.JOIN_GROUP, join("")),
    Case("join-group-unknown-member", kwire.JOIN_GROUP, join(NOGROUP + "-j", "bogus")),
    Case("join-group-bad-session", kwire.JOIN_GROUP, join(NOGROUP + "-s", session=1)),
    Case("join-group-no-protocols", kwire.JOIN_GROUP, join(NOGROUP + "-p", protocols=())),
    # From v4 a new member is sent back for its id at once (below, the
    # join waits out the rebalance delay: seconds per version).
    Case("join-group-new-member", kwire.JOIN_GROUP, join(NOGROUP + "-n"), vmin=4,
         allow=("MemberId",)),
    Case("heartbeat-empty-id", kwire.HEARTBEAT,
         {"GroupId": "", "GenerationId": 1, "MemberId": "m", "GroupInstanceId": None}),
    Case("join-group-static-unknown", kwire.JOIN_GROUP,
         dict(join(NOGROUP + "-st", "bogus"), GroupInstanceId="inst"), vmin=5),
    Case("heartbeat-empty-group", kwire.HEARTBEAT,
         {"GroupId": GROUP, "GenerationId": -1, "MemberId": "m", "GroupInstanceId": None}),
    Case("heartbeat-unknown", kwire.HEARTBEAT,
         {"GroupId": NOGROUP, "GenerationId": 1, "MemberId": "m", "GroupInstanceId": None}),
    Case("leave-group-members", kwire.LEAVE_GROUP,
         {"GroupId": GROUP, "Members": [{"MemberId": "m1"}, {"MemberId": "",
                                                              "GroupInstanceId": "i"}]},
         vmin=3),
    Case("leave-group-unknown", kwire.LEAVE_GROUP,
         {"GroupId": NOGROUP, "MemberId": "m", "Members": [{"MemberId": "m"}]}),
    Case("sync-group-unknown", kwire.SYNC_GROUP,
         {"GroupId": NOGROUP, "GenerationId": 1, "MemberId": "m", "Assignments": []}),
    Case("sync-group-named-protocol", kwire.SYNC_GROUP,
         {"GroupId": NOGROUP, "GenerationId": 1, "MemberId": "m", "Assignments": [],
          "ProtocolType": "consumer", "ProtocolName": "range"}),
    Case("sync-group-empty-id", kwire.SYNC_GROUP,
         {"GroupId": "", "GenerationId": 1, "MemberId": "m", "Assignments": [],
          "ProtocolType": "consumer", "ProtocolName": "range"}),
    Case("describe-groups", kwire.DESCRIBE_GROUPS, {"Groups": [GROUP, NOGROUP, ""]}),
    Case("describe-groups-duplicates", kwire.DESCRIBE_GROUPS,
         {"Groups": [GROUP, GROUP, NOGROUP, NOGROUP]}),
    Case("describe-groups-ops", kwire.DESCRIBE_GROUPS,
         {"Groups": [GROUP], "IncludeAuthorizedOperations": True}, vmin=3),
    Case("describe-groups-empty", kwire.DESCRIBE_GROUPS, {"Groups": []}),
    Case("list-groups", kwire.LIST_GROUPS, {}),
    Case("list-groups-filter-none", kwire.LIST_GROUPS,
         {"StatesFilter": ["Stable"], "TypesFilter": ["consumer"]}, vmin=4),
    Case("list-groups-filter", kwire.LIST_GROUPS,
         {"StatesFilter": ["Empty"], "TypesFilter": ["classic"]}, vmin=4),
    Case("delete-groups-unknown", kwire.DELETE_GROUPS, {"GroupsNames": [NOGROUP, ""]}),
    Case("delete-groups-empty", kwire.DELETE_GROUPS, {"GroupsNames": []}),
    Case("offset-fetch", kwire.OFFSET_FETCH,
         offset_fetch([(GROUP, [(A, [0, 1, 2]), (UNKNOWN, [0])])])),
    Case("offset-fetch-duplicates", kwire.OFFSET_FETCH,
         offset_fetch([(GROUP, [(A, [0, 0, 1]), (A, [1])])])),
    Case("offset-fetch-all", kwire.OFFSET_FETCH, offset_fetch([(GROUP, None)]), vmin=2),
    Case("offset-fetch-unknown-group", kwire.OFFSET_FETCH,
         offset_fetch([(NOGROUP, [(A, [0])])])),
    Case("offset-fetch-groups", kwire.OFFSET_FETCH,
         offset_fetch([(GROUP, [(A, [1])]), (NOGROUP, None)]), vmin=8),
    Case("offset-commit-unknown-topic", kwire.OFFSET_COMMIT,
         {"GroupId": NOGROUP + "-c", "GenerationIdOrMemberEpoch": -1, "MemberId": "",
          "Topics": [{"Name": UNKNOWN, "Partitions": [{"PartitionIndex": 0}]},
                     {"Name": A, "Partitions": [{"PartitionIndex": 7}]}]}),
    Case("offset-commit-duplicates", kwire.OFFSET_COMMIT,
         {"GroupId": NOGROUP + "-d", "GenerationIdOrMemberEpoch": -1, "MemberId": "",
          "Topics": [{"Name": B, "Partitions": [{"PartitionIndex": 0, "CommittedOffset": 1},
                                                {"PartitionIndex": 0, "CommittedOffset": 2}]},
                     {"Name": B, "Partitions": [{"PartitionIndex": 1}]}]}),
    Case("offset-fetch-after-duplicates", kwire.OFFSET_FETCH,
         offset_fetch([(NOGROUP + "-d", [(B, [0, 1])])])),
    Case("offset-fetch-empty-partitions", kwire.OFFSET_FETCH,
         offset_fetch([(GROUP, [(A, []), (B, [0])])])),
    Case("offset-commit-empty-partitions", kwire.OFFSET_COMMIT,
         {"GroupId": NOGROUP + "-d", "GenerationIdOrMemberEpoch": -1, "MemberId": "",
          "Topics": [{"Name": A, "Partitions": []}]}),
    Case("offset-commit-empty", kwire.OFFSET_COMMIT,
         {"GroupId": NOGROUP + "-e", "GenerationIdOrMemberEpoch": -1, "MemberId": "",
          "Topics": []}),
    Case("offset-commit-unknown-duplicates", kwire.OFFSET_COMMIT,
         {"GroupId": NOGROUP + "-u", "GenerationIdOrMemberEpoch": -1, "MemberId": "",
          "Topics": [{"Name": UNKNOWN, "Partitions": [{"PartitionIndex": 0},
                                                      {"PartitionIndex": 0}]},
                     {"Name": UNKNOWN, "Partitions": [{"PartitionIndex": 1}]}]}),
    Case("offset-commit-unknown-member", kwire.OFFSET_COMMIT,
         {"GroupId": GROUP, "GenerationIdOrMemberEpoch": 3, "MemberId": "m",
          "Topics": [{"Name": A, "Partitions": [{"PartitionIndex": 0}]}]}),
    Case("offset-delete", kwire.OFFSET_DELETE,
         {"GroupId": NOGROUP, "Topics": [{"Name": A, "Partitions": [{"PartitionIndex": 0}]}]}),
    # Last: these change GROUP.
    Case("offset-delete-group", kwire.OFFSET_DELETE,
         {"GroupId": GROUP, "Topics": [{"Name": A, "Partitions": [{"PartitionIndex": 0},
                                                                  {"PartitionIndex": 9}]},
                                       {"Name": UNKNOWN, "Partitions": [{"PartitionIndex": 0}]}]}),
    Case("delete-groups", kwire.DELETE_GROUPS, {"GroupsNames": [GROUP, GROUP, NOGROUP]}),
    # DescribeLogDirs: the directory's path and the file system's sizes are
    # each broker's own; partitions and their sizes are compared.
    Case("describe-log-dirs", DESCRIBE_LOG_DIRS,
         {"Topics": [{"Topic": A, "Partitions": [0, 1, 2, 9]},
                     {"Topic": B, "Partitions": [1, 0, 1]},
                     {"Topic": UNKNOWN, "Partitions": [0]}]}, allow=LOG_DIR_OWN),
    Case("describe-log-dirs-empty", DESCRIBE_LOG_DIRS,
         {"Topics": [{"Topic": C, "Partitions": []}]}, allow=LOG_DIR_OWN),
    Case("describe-log-dirs-none", DESCRIBE_LOG_DIRS, {"Topics": []}, allow=LOG_DIR_OWN),
    # AlterConfigs / IncrementalAlterConfigs: checks first (validate_only),
    # then real changes to P, read back through DescribeConfigs.
    Case("alter-configs-validate", ALTER_CONFIGS, alter_configs([
        (TOPIC, A, [("retention.ms", "1000"), ("cleanup.policy", "compact")]),
        (TOPIC, UNKNOWN, [("retention.ms", "1")]),
        (TOPIC, B, [("nosuch.config", "x")]),
        (TOPIC, C, [("retention.ms", "abc")]),
        (TOPIC, D, [("min.insync.replicas", "0")]),
        (BROKER, "1", [("log.retention.ms", "1000")]),
        (BROKER, "", [("log.retention.bytes", "-1")]),
        (BROKER, "7", [("log.retention.ms", "1")]),
        (BROKER, "x", [("log.retention.ms", "1")])])),
    Case("alter-configs-broker-read-only", ALTER_CONFIGS, alter_configs([
        (BROKER, "1", [("log.dirs", "/tmp/x"), ("log.retention.ms", "1000")])])),
    Case("alter-configs-duplicate-keys", ALTER_CONFIGS, alter_configs([
        (TOPIC, B, [("retention.ms", "1000"), ("retention.ms", "3")])])),
    Case("alter-configs-empty", ALTER_CONFIGS, alter_configs([])),
    Case("alter-configs-null-value", ALTER_CONFIGS, alter_configs([
        (TOPIC, A, [("retention.ms", None)])])),
    Case("incremental-alter-configs-validate", INCREMENTAL_ALTER_CONFIGS, inc_alter_configs([
        (TOPIC, A, [("retention.ms", 0, "1000"), ("segment.ms", 1, None),
                    ("cleanup.policy", 2, "compact"), ("cleanup.policy", 3, "delete")])])),
    Case("incremental-alter-configs-append-scalar", INCREMENTAL_ALTER_CONFIGS,
         inc_alter_configs([(TOPIC, B, [("retention.ms", 2, "5")])])),
    Case("incremental-alter-configs-unknown", INCREMENTAL_ALTER_CONFIGS, inc_alter_configs([
        (TOPIC, D, [("nosuch.config", 0, "5")]), (TOPIC, UNKNOWN, [("retention.ms", 0, "5")])])),
    Case("incremental-alter-configs-broker", INCREMENTAL_ALTER_CONFIGS, inc_alter_configs([
        (BROKER, "1", [("log.retention.ms", 0, "1000"), ("log.cleanup.policy", 2, "compact")])])),
    Case("incremental-alter-configs-broker-read-only", INCREMENTAL_ALTER_CONFIGS,
         inc_alter_configs([(BROKER, "", [("log.dirs", 0, "/tmp/y")])])),
    Case("incremental-alter-configs-duplicate-keys", INCREMENTAL_ALTER_CONFIGS,
         inc_alter_configs([(TOPIC, B, [("retention.ms", 0, "1"), ("retention.ms", 1, None)])])),
    Case("incremental-alter-configs-empty", INCREMENTAL_ALTER_CONFIGS, inc_alter_configs([])),
    Case("alter-configs-apply", ALTER_CONFIGS, alter_configs([
        (TOPIC, P, [("retention.bytes", "1048576"), ("max.message.bytes", "65536")])],
        validate=False)),
    Case("incremental-alter-configs-apply", INCREMENTAL_ALTER_CONFIGS, inc_alter_configs([
        (TOPIC, P, [("cleanup.policy", 2, "compact"), ("max.message.bytes", 1, None)])],
        validate=False)),
    Case("describe-configs-after-alter", kwire.DESCRIBE_CONFIGS, settled(
        kwire.DESCRIBE_CONFIGS, 1,
        {"Resources": [{"ResourceType": TOPIC, "ResourceName": P, "ConfigurationKeys": [
            "cleanup.policy", "retention.bytes", "max.message.bytes"]}],
         "IncludeSynonyms": True, "IncludeDocumentation": False},
        lambda got: any(c["Name"] == "cleanup.policy" and "compact" in (c["Value"] or "")
                        for r in got["Results"] for c in r["Configs"])), vmin=1),
    # Client quotas: checks, a real change, and reading it back.
    Case("alter-client-quotas-validate", ALTER_CLIENT_QUOTAS, {"ValidateOnly": True, "Entries": [
        quota_entry([("client-id", "c1")], [("producer_byte_rate", 1000.0, False)]),
        quota_entry([("user", "u1"), ("client-id", None)],
                    [("consumer_byte_rate", 2000.0, False), ("request_percentage", 50.0, False)]),
        quota_entry([("client-id", "c2")], [("nosuch_rate", 1.0, False)]),
        quota_entry([("client-id", "c3")], [("producer_byte_rate", -5.0, False)]),
        quota_entry([("client-id", "c4")], [("producer_byte_rate", 1.5, False)]),
        quota_entry([("nosuch", "x")], [("producer_byte_rate", 1.0, False)]),
        quota_entry([("ip", "10.0.0.1")], [("producer_byte_rate", 1.0, False)]),
        quota_entry([("client-id", "c5"), ("client-id", "c6")],
                    [("producer_byte_rate", 1.0, False)]),
        quota_entry([], [("producer_byte_rate", 1.0, False)])]}),
    Case("alter-client-quotas-apply", ALTER_CLIENT_QUOTAS, {"ValidateOnly": False, "Entries": [
        quota_entry([("client-id", QCLIENT)], [("producer_byte_rate", 1048576.0, False),
                                               ("consumer_byte_rate", 2097152.0, False)]),
        quota_entry([("user", QUSER), ("client-id", QCLIENT)],
                    [("request_percentage", 200.0, False)])]}),
    Case("describe-client-quotas-exact", DESCRIBE_CLIENT_QUOTAS,
         settled(DESCRIBE_CLIENT_QUOTAS, 0, quota_filter([("client-id", 0, QCLIENT)]),
                 lambda got: len(got["Entries"]) == 2)),
    Case("describe-client-quotas-specified", DESCRIBE_CLIENT_QUOTAS,
         quota_filter([("user", 2, None)])),
    Case("describe-client-quotas-strict", DESCRIBE_CLIENT_QUOTAS,
         quota_filter([("user", 0, QUSER)], strict=True)),
    Case("describe-client-quotas-nomatch", DESCRIBE_CLIENT_QUOTAS,
         quota_filter([("client-id", 0, "nosuch"), ("user", 1, None)])),
    Case("describe-client-quotas-bad", DESCRIBE_CLIENT_QUOTAS,
         quota_filter([("nosuch", 0, "x")])),
    Case("describe-client-quotas-duplicate", DESCRIBE_CLIENT_QUOTAS,
         quota_filter([("user", 0, "a"), ("user", 0, "b")])),
    Case("describe-scram-credentials", DESCRIBE_USER_SCRAM_CREDENTIALS,
         {"Users": [{"Name": "alice"}, {"Name": "bob"}, {"Name": "alice"}]}),
    Case("describe-scram-credentials-all", DESCRIBE_USER_SCRAM_CREDENTIALS, {"Users": None}),
    # ACLs: neither oracle has an authorizer, so both answer
    # SECURITY_DISABLED (test_acls.py covers the authorizer).
    Case("describe-acls-any", DESCRIBE_ACLS, acl_filter(1, None, 1)),
    Case("describe-acls-topic", DESCRIBE_ACLS, acl_filter(2, A, 3, "User:alice", "*", 3, 3)),
    Case("create-acls", CREATE_ACLS, {"Creations": [
        acl_binding(2, A, 3, "User:alice", "*", 3, 3),
        acl_binding(4, "kafka-cluster", 3, "User:*", "127.0.0.1", 7, 2),
        acl_binding(4, "other", 3, "User:bob", "*", 7, 3),
        acl_binding(3, "", 3, "User:bob", "*", 3, 3)]}),
    Case("create-acls-empty", CREATE_ACLS, {"Creations": []}),
    Case("delete-acls", DELETE_ACLS, {"Filters": [
        acl_filter(2, A, 3, "User:alice", "*", 3, 3),
        acl_filter(1, None, 1)]}),
    Case("delete-acls-empty", DELETE_ACLS, {"Filters": []}),
    # SASL on a PLAINTEXT listener (SASL listeners: test_sasl.py).
    Case("sasl-handshake-plaintext", SASL_HANDSHAKE, {"Mechanism": "PLAIN"}),
    Case("sasl-handshake-plaintext-unknown", SASL_HANDSHAKE, {"Mechanism": "NOSUCH"}),
    Case("sasl-authenticate-plaintext", SASL_AUTHENTICATE, {"AuthBytes": b"\x00a\x00b"}),
    # SCRAM credentials: each check, one change, and reading it back.
    Case("alter-scram-too-few-iterations", ALTER_USER_SCRAM_CREDENTIALS, scram_alter(
        [], [(SCRAM_USER, 1, 100, b"salt", SALTED)])),
    Case("alter-scram-too-many-iterations", ALTER_USER_SCRAM_CREDENTIALS, scram_alter(
        [], [(SCRAM_USER, 2, 20000, b"salt", SALTED)])),
    Case("alter-scram-unknown-mechanism", ALTER_USER_SCRAM_CREDENTIALS, scram_alter(
        [(SCRAM_USER, 0)], [(SCRAM_USER + "x", 3, 4096, b"salt", SALTED)])),
    Case("alter-scram-delete-missing", ALTER_USER_SCRAM_CREDENTIALS, scram_alter(
        [(SCRAM_USER, 1)], [])),
    Case("alter-scram-duplicate", ALTER_USER_SCRAM_CREDENTIALS, scram_alter(
        [(SCRAM_USER, 1)], [(SCRAM_USER, 1, 4096, b"salt", SALTED)])),
    Case("alter-scram-empty", ALTER_USER_SCRAM_CREDENTIALS, scram_alter([], [])),
    Case("alter-scram-duplicate-upsert", ALTER_USER_SCRAM_CREDENTIALS, scram_alter(
        [], [(SCRAM_USER, 1, 8192, b"salt", SALTED), (SCRAM_USER, 2, 4096, b"pepper", SALTED)])),
    Case("alter-scram-apply", ALTER_USER_SCRAM_CREDENTIALS, scram_alter(
        [], [(SCRAM_USER, 1, 8192, b"salt", SALTED)])),
    Case("describe-scram-after-alter", DESCRIBE_USER_SCRAM_CREDENTIALS, settled(
        DESCRIBE_USER_SCRAM_CREDENTIALS, 0, {"Users": [{"Name": SCRAM_USER}]},
        lambda got: got["Results"][0]["ErrorCode"] == 0)),
    # ElectLeaders: a single broker's partitions (replication factor 1)
    # never need an election; unknown topics and partitions.
    Case("elect-leaders-preferred", ELECT_LEADERS, {"ElectionType": 0, "TimeoutMs": 30000,
         "TopicPartitions": [{"Topic": A, "Partitions": [0, 1, 9]},
                             {"Topic": UNKNOWN, "Partitions": [0]},
                             {"Topic": B, "Partitions": []}]}),
    Case("elect-leaders-unclean", ELECT_LEADERS, {"ElectionType": 1, "TimeoutMs": 30000,
         "TopicPartitions": [{"Topic": A, "Partitions": [2, -1]},
                             {"Topic": C, "Partitions": [0]}]}, vmin=1),
    Case("elect-leaders-all", ELECT_LEADERS, {"ElectionType": 0, "TimeoutMs": 30000,
                                              "TopicPartitions": None}),
    Case("elect-leaders-empty", ELECT_LEADERS, {"ElectionType": 0, "TimeoutMs": 30000,
                                                "TopicPartitions": []}),
    # Reassignments on one broker (node 1 on both): a partition can only
    # stay where it is (accepted, nothing moves), nothing is ever in
    # progress; Kafka's checks of the replica lists.
    Case("alter-reassignments-same", ALTER_PARTITION_REASSIGNMENTS, {"TimeoutMs": 30000,
         "Topics": [{"Name": A, "Partitions": [{"PartitionIndex": 0, "Replicas": [1]},
                                               {"PartitionIndex": 1, "Replicas": None},
                                               {"PartitionIndex": 9, "Replicas": [1]}]},
                    {"Name": UNKNOWN, "Partitions": [{"PartitionIndex": 0, "Replicas": [1]}]}]}),
    Case("alter-reassignments-invalid", ALTER_PARTITION_REASSIGNMENTS, {"TimeoutMs": 30000,
         "Topics": [{"Name": A, "Partitions": [{"PartitionIndex": 0, "Replicas": []},
                                               {"PartitionIndex": 1, "Replicas": [1, 1]},
                                               {"PartitionIndex": 2, "Replicas": [1, 99]}]},
                    {"Name": B, "Partitions": [{"PartitionIndex": 0, "Replicas": [-1]}]}]}),
    Case("alter-reassignments-empty", ALTER_PARTITION_REASSIGNMENTS,
         {"TimeoutMs": 30000, "Topics": []}),
    Case("list-reassignments-all", LIST_PARTITION_REASSIGNMENTS,
         {"TimeoutMs": 30000, "Topics": None}),
    Case("list-reassignments-some", LIST_PARTITION_REASSIGNMENTS, {"TimeoutMs": 30000,
         "Topics": [{"Name": A, "PartitionIndexes": [0, 1, 9]},
                    {"Name": UNKNOWN, "PartitionIndexes": [0]}]}),
    # DescribeProducers: the setup's records carry no producer id, so the
    # answers are the errors and empty producer lists.
    Case("describe-producers", DESCRIBE_PRODUCERS,
         {"Topics": [{"Name": A, "PartitionIndexes": [0, 1, 2, 9, 1]},
                     {"Name": UNKNOWN, "PartitionIndexes": [0]},
                     {"Name": "bad/name", "PartitionIndexes": [0]},
                     {"Name": B, "PartitionIndexes": []}]}),
    Case("describe-producers-empty", DESCRIBE_PRODUCERS, {"Topics": []}),
    # Last: DeleteRecords moves log start offsets (each version repeats the
    # same moves, so later versions see the no-op answers).
    Case("delete-records", DELETE_RECORDS,
         {"TimeoutMs": 30000, "Topics": [
             {"Name": B, "Partitions": [{"PartitionIndex": 0, "Offset": 1},
                                        {"PartitionIndex": 1, "Offset": -1},
                                        {"PartitionIndex": 7, "Offset": 0}]},
             {"Name": C, "Partitions": [{"PartitionIndex": 0, "Offset": 5}]},
             {"Name": UNKNOWN, "Partitions": [{"PartitionIndex": 0, "Offset": 0}]}]}),
    Case("delete-records-duplicates", DELETE_RECORDS,
         {"TimeoutMs": 30000, "Topics": [
             {"Name": A, "Partitions": [{"PartitionIndex": 0, "Offset": 1},
                                        {"PartitionIndex": 0, "Offset": 2}]},
             {"Name": A, "Partitions": [{"PartitionIndex": 1, "Offset": 0}]},
             {"Name": C, "Partitions": [{"PartitionIndex": 0, "Offset": -2}]}]}),
    Case("delete-records-empty", DELETE_RECORDS, {"TimeoutMs": 30000, "Topics": []}),
    Case("list-offsets-after-delete", kwire.LIST_OFFSETS,
         list_offsets([(A, [(0, -2), (1, -2)]), (B, [(0, -2), (0, TS)])]), vmin=1),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_differential(pair, case):
    run_case(pair, case)


def test_every_api_has_cases(pair):
    """Every API Spillway advertises is swept (ApiVersions by
    test_api_versions): a newly advertised API needs its cases here."""
    _spw, _kfk, (r_spw, _r_kfk) = pair
    missing = set(r_spw) - {c.api for c in CASES} - {kwire.API_VERSIONS}
    assert not missing, f"advertised APIs without a differential case: {sorted(missing)}"
    assert len({c.id for c in CASES}) == len(CASES)


def test_api_versions(pair):
    """ApiVersions lists differ by design (Spillway advertises a subset):
    every API Spillway advertises is one Kafka advertises, over a range
    inside Kafka's; the error paths answer alike."""
    spw, kfk, (r_spw, r_kfk) = pair
    for key, (lo, hi) in r_spw.items():
        assert key in r_kfk, key
        assert r_kfk[key][0] <= lo and hi <= r_kfk[key][1], (key, (lo, hi), r_kfk[key])
    for v in range(0, 5):
        msg = {"ClientSoftwareName": "bad name!", "ClientSoftwareVersion": "1"}
        got = [s.call(kwire.API_VERSIONS, v, msg)["ErrorCode"] for s in (spw, kfk)]
        assert got[0] == got[1], (v, got)
    # A version neither knows: UNSUPPORTED_VERSION (35) in a v0 answer.
    got = [raw_api_versions(s, 99) for s in (spw, kfk)]
    assert got[0] == got[1] == 35, got


def test_produce_v0_to_v2_close(pair):
    """Documented: Produce v0-2 are advertised but close the connection
    (ACCEPT_FROM); Kafka 3.9 still answers them."""
    spw, kfk, _ranges = pair
    msg = produce([(P, [(0, batch([b"old"]))])])
    for v in range(0, 3):
        assert spw.call(kwire.PRODUCE, v, msg) == "closed"
        assert isinstance(kfk.call(kwire.PRODUCE, v, msg), dict)


def raw_api_versions(side, version):
    """The error code of an ApiVersions answered at v0 (the schema cannot
    encode an unknown version: an empty v3+ body, as clients send)."""
    frame = kschema.frame(side.schemas, kwire.API_VERSIONS, version, 9, b"\x00\x00\x00")
    with kwire.connect(side.broker, timeout=30) as sock:
        sock.sendall(frame)
        corr, data = read_frame(sock)
    assert corr == 9
    return side.schemas.response(kwire.API_VERSIONS).decode(data, 0)["ErrorCode"]
