# SPDX-License-Identifier: Apache-2.0
"""Fetch v13-17 in a cluster (KIP-951): asked of a broker that holds no
replica of a partition, Fetch v16+ answers NOT_LEADER_OR_FOLLOWER with the
partition's current leader and epoch and that leader's endpoint; after a failover, a
fetch at the old leader epoch is FENCED_LEADER_EPOCH naming the new leader;
an unknown topic id is UNKNOWN_TOPIC_ID. Then a real client that negotiates
Fetch v17 by topic id (the Java console consumer, kafka-clients 3.9.1)
keeps consuming while the leader of its partitions is killed."""
import re
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

import failover as fo
import harness
import kmeta
import kschema
from conftest_cli import JAVA_OPTS, classpath
from history import History
import load

REPO = Path(__file__).resolve().parents[2]
FETCH = 1
FENCED_LEADER_EPOCH = 74
UNKNOWN_TOPIC_ID = 100


def _schemas():
    src = kschema.find_source(REPO / ".cache" / "kafka" / "libs")
    if src is None:
        pytest.skip("kafka-clients jar missing (tests/integration/kafka/kafka-ref.sh fetch)")
    return kschema.Schemas(src)


def _fetch(schemas, broker, version, topic_id, parts):
    """Fetch at version of topic_id's parts [(partition, current_leader_epoch)]
    from offset 0, decoded."""
    msg = {"ReplicaId": -1, "MaxWaitMs": 0, "MinBytes": 0, "MaxBytes": 1 << 20,
           "IsolationLevel": 0, "SessionId": 0, "SessionEpoch": -1, "RackId": "",
           "Topics": [{"TopicId": topic_id, "Partitions": [
               {"Partition": i, "CurrentLeaderEpoch": e, "FetchOffset": 0,
                "LastFetchedEpoch": -1, "LogStartOffset": -1, "PartitionMaxBytes": 1 << 20}
               for i, e in parts]}]}
    got = kschema.call(schemas, broker.bootstrap, FETCH, version, msg)
    assert got is not None, f"broker {broker.id} closed the connection at v{version}"
    assert got["ErrorCode"] == 0, got
    return got


def _by_partition(got):
    return {p["PartitionIndex"]: (t["TopicId"], p) for t in got["Responses"]
            for p in t["Partitions"]}


def _leader(p):
    """A partition's CurrentLeader (absent: the defaults -1, -1)."""
    cur = p.get("CurrentLeader") or {}
    return cur.get("LeaderId", -1), cur.get("LeaderEpoch", -1)


def _endpoints(got):
    return {e["NodeId"]: (e["Host"], e["Port"]) for e in got.get("NodeEndpoints") or []}


def _check_not_leader(schemas, c, topic, tid, parts=3):
    """From each broker: partitions it leads answer records; partitions it
    holds no replica of NOT_LEADER_OR_FOLLOWER naming their leader (v16+)
    and its endpoint. A follower: Kafka serves a consumer's v11+ fetch
    (KIP-392), Spillway answers NOT_LEADER_OR_FOLLOWER, with the hint."""
    md = c.metadata(topics=[topic])
    state = {i: p for i, p in md.topics[topic].partitions.items()}
    for b in c.live():
        for v in (13, 15, 16, 17):
            got = _fetch(schemas, b, v, tid, [(i, -1) for i in range(parts)])
            byp = _by_partition(got)
            assert sorted(byp) == list(range(parts)), got
            named = set()
            for i, (rid, p) in byp.items():
                assert rid == tid
                leader, epoch = state[i].leader, state[i].leader_epoch
                cur = _leader(p)
                if leader == b.id:
                    assert p["ErrorCode"] == 0, (b.id, v, i, p)
                    assert p["Records"], (b.id, v, i, "records expected")
                if p["ErrorCode"] == 0:
                    assert b.id in state[i].replicas, (b.id, v, i, p)
                    assert cur == (-1, -1), (b.id, v, i, cur)
                    continue
                assert p["ErrorCode"] == kmeta.NOT_LEADER_OR_FOLLOWER, (b.id, v, i, p)
                want = (leader, epoch) if v >= 16 else (-1, -1)
                assert cur == want, (b.id, v, i, cur)
                named.add(leader)
            eps = _endpoints(got)
            if v < 16:
                assert eps == {}, got
            else:
                assert eps == {n: ("127.0.0.1", c.brokers[n].port) for n in named}, (b.id, eps)
            non_replica = [i for i in range(parts) if b.id not in state[i].replicas]
            assert all(byp[i][1]["ErrorCode"] == kmeta.NOT_LEADER_OR_FOLLOWER
                       for i in non_replica), (b.id, v, non_replica)
    return True


def test_fetch_hints_on_the_wire(cluster_factory):
    schemas = _schemas()
    c = cluster_factory(3)
    topic = f"hint-{uuid.uuid4().hex[:6]}"
    # RF 2 over 3 brokers: each broker holds no replica of some partition.
    c.create_topics([topic], 3, 2, {"min.insync.replicas": "1"})
    c.wait_full_isr([topic], 2, timeout=60)
    md = c.metadata(topics=[topic])
    tid = md.topics[topic].topic_id
    for i, p in md.topics[topic].partitions.items():
        err, _ = kmeta.produce(c.brokers[p.leader].bootstrap, topic, i, [b"x%d" % i], acks=-1)
        assert err == 0, (i, err)
    _check_not_leader(schemas, c, topic, tid)
    # An id nobody has.
    got = _fetch(schemas, c.brokers[1], 13, uuid.uuid4().bytes, [(0, -1), (1, -1)])
    assert [p["ErrorCode"] for _, p in _by_partition(got).values()] == [UNKNOWN_TOPIC_ID] * 2
    # Failover: partition 0's leader dies; at its old epoch the new leader
    # answers FENCED_LEADER_EPOCH naming itself at the new epoch.
    old, old_epoch = md.topics[topic].partitions[0].leader, \
        md.topics[topic].partitions[0].leader_epoch
    c.brokers[old].kill()
    c.wait_leaders_not([topic], {old}, timeout=30)
    p0 = c.metadata(topics=[topic]).topics[topic].partitions[0]
    assert p0.leader != old and p0.leader_epoch > old_epoch, p0
    for v in (16, 17):
        got = _fetch(schemas, c.brokers[p0.leader], v, tid, [(0, old_epoch)])
        (_, p), = _by_partition(got).values()
        assert p["ErrorCode"] == FENCED_LEADER_EPOCH, p
        assert _leader(p) == (p0.leader, p0.leader_epoch), p
        assert _endpoints(got) == {p0.leader: ("127.0.0.1", c.brokers[p0.leader].port)}
    # A new leader's high watermark catches up once its follower fetched
    # (Kafka's too): until then its records are not readable yet.
    harness.wait_for(lambda: _settled(schemas, c, topic, tid), 30,
                     "the survivors' answers after the failover")


def _settled(schemas, c, topic, tid):
    try:
        _check_not_leader(schemas, c, topic, tid)
    except AssertionError:
        return False
    return True


class ConsoleConsumer:
    """kafka-console-consumer (kafka-clients 3.9.1) from the beginning of
    topic, printing partition and offset; its NetworkClient logs at debug
    (the request versions it sends) to a file."""

    LINE = re.compile(r"Partition:(\d+)\s+Offset:(\d+)")

    def __init__(self, bootstrap, topic, logdir):
        self.log = Path(logdir) / f"console-consumer-{uuid.uuid4().hex[:6]}.log"
        self.seen = {}                      # partition -> largest offset read
        self.count = 0
        self.lock = threading.Lock()
        cmd = ["java", *JAVA_OPTS,
               "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.clients.NetworkClient=debug",
               "-cp", classpath(), "org.apache.kafka.tools.consumer.ConsoleConsumer",
               "--bootstrap-server", bootstrap, "--topic", topic, "--from-beginning",
               "--property", "print.partition=true", "--property", "print.offset=true",
               "--consumer-property", "metadata.max.age.ms=60000"]
        self.err = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            m = self.LINE.search(line)
            if m:
                with self.lock:
                    i, off = int(m.group(1)), int(m.group(2))
                    self.seen[i] = max(self.seen.get(i, -1), off)
                    self.count += 1

    def read_past(self, ends):
        with self.lock:
            return all(self.seen.get(i, -1) >= off for i, off in ends.items())

    def fetch_versions(self):
        text = self.log.read_text(errors="replace")
        return {int(v) for v in re.findall(r"apiKey=FETCH, apiVersion=(\d+)", text)}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


def test_consumer_keeps_consuming_across_leader_kill(cluster_factory, tmp_path):
    c = cluster_factory(3)
    topics = fo.make_topics(c, "hint-c", count=1, parts=3)
    topic = topics[0]
    history = History()
    prod = load.ProducerLoad("p0", c.bootstrap(), topics, history, rate=100).start()
    cons = ConsoleConsumer(c.bootstrap(), topic, tmp_path)
    try:
        harness.wait_for(lambda: cons.count >= 200, 90, "the consumer reading 200 records")
        versions = cons.fetch_versions()
        assert versions and max(versions) >= 16, f"Fetch versions sent: {versions}"
        md = c.metadata(topics=[topic])
        victim = md.topics[topic].partitions[0].leader
        led = [i for i, p in md.topics[topic].partitions.items() if p.leader == victim]
        c.brokers[victim].kill()
        c.wait_leaders_not([topic], {victim}, timeout=30)
        # Records acknowledged after the failover, in the partitions the
        # dead broker led: the consumer reads past them.
        time.sleep(2)
        ends = c.end_offsets([topic])
        want = {i: ends[(topic, i)] - 1 for i in led}
        harness.wait_for(lambda: cons.read_past(want), 60,
                         f"the consumer reading past {want} after broker {victim} died "
                         f"(read {cons.seen})")
        assert cons.proc.poll() is None, "the consumer exited"
        versions = cons.fetch_versions()
        assert max(versions) == 17, f"Fetch versions sent: {versions}"
    finally:
        cons.stop()
        left = prod.stop()
    assert left == 0, f"{left} records unacknowledged"
    load.assert_only_retriable([prod])
