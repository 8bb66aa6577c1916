# SPDX-License-Identifier: Apache-2.0
"""__consumer_offsets as Kafka writes it: Apache Kafka's DumpLogSegments
--offsets-decoder decodes the segment a broker wrote for a group (its
GroupMetadata record from JoinGroup/SyncGroup, its OffsetCommit records);
a broker restart, graceful or kill -9, loads the group and its committed
offsets back; Metadata shows the topic as internal, as Kafka 3.9 does. Every
test runs against Spillway and against Kafka (SPILLWAY_TEST_BACKEND=kafka)."""
import re
import subprocess
import time
import uuid

import pytest

import kgroups as g
from conftest import REPO, client_missing
from kwire import make_topics

OFFSETS = "__consumer_offsets"
NO_DELAY = {"group.initial.rebalance.delay.ms": "0"}


def partition_of(group, partitions=50):
    """Kafka's Utils.abs(groupId.hashCode) % partitions (ASCII ids)."""
    h = 0
    for ch in group:
        h = (h * 31 + ord(ch)) & 0xFFFFFFFF
    if h >= 1 << 31:
        h -= 1 << 32
    return 0 if h == -(1 << 31) else abs(h) % partitions


def dump_offsets(broker, group):
    """DumpLogSegments --offsets-decoder over every segment of the group's
    __consumer_offsets partition (the broker must be stopped)."""
    libs = REPO / ".cache" / "kafka" / "libs"
    if not any(libs.glob("kafka_2.13-*.jar")):
        client_missing(f"Kafka jars missing in {libs} (tests/integration/kafka/kafka-ref.sh fetch)")
    d = broker.data / f"{OFFSETS}-{partition_of(group)}"
    segs = sorted(d.glob("*.log"))
    assert segs, f"no segment in {d}"
    r = subprocess.run(["java", "-Xmx256m", "-cp", f"{libs}/*", "kafka.tools.DumpLogSegments",
                        "--offsets-decoder", "--files", ",".join(map(str, segs))],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    for bad in ("Exception", "corrupt", "Found invalid", "Could not", "isvalid: false"):
        assert bad not in out, out[-3000:]
    # The batches as Kafka's coordinator writes them.
    assert "isvalid: true" in out and "compresscodec: none" in out, out[-3000:]
    assert "producerId: -1" in out and "isTransactional: false" in out, out[-3000:]
    return out


def group_records(out, group):
    """The decoded GroupMetadata payloads of group, in log order."""
    key = re.escape(f'"group":"{group}"')
    return re.findall(rf'key: \{{"type":"2","data":\{{{key}\}}\}} payload: (\S+)', out)


def offset_records(out, group):
    """[(topic, partition, payload)] of group's OffsetCommit records."""
    return re.findall(rf'key: \{{"type":"1","data":\{{"group":"{re.escape(group)}",'
                      r'"topic":"([^"]+)","partition":(\d+)\}\} payload: (\S+)', out)


def new_group(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_loaded(b, grp, timeout=60):
    """The coordinator answers for grp: __consumer_offsets exists (the first
    FindCoordinator creates it) and grp's partition is loaded
    (COORDINATOR_LOAD_IN_PROGRESS before; Kafka also answers NOT_COORDINATOR
    for a moment after FindCoordinator first succeeds)."""
    g.wait_coordinator(b, grp, timeout)
    deadline = time.monotonic() + timeout
    while True:
        d = g.describe_groups(b, [grp])[0]
        if d["error"] not in g.RETRIABLE:
            return d
        assert time.monotonic() < deadline, d
        time.sleep(0.2)


def test_dump_log_decodes_group_metadata(broker_factory):
    """JoinGroup + SyncGroup persist the group (membership + log only)."""
    b = broker_factory(NO_DELAY)
    grp = new_group("dump-g")
    wait_loaded(b, grp)
    m, = g.stable_group(b, grp, 1, topics=("t",))
    gen, member = m.generation, m.member_id
    m.close()
    b.stop()
    recs = group_records(dump_offsets(b, grp), grp)
    assert recs, f"no GroupMetadata record for {grp}"
    last = recs[-1]
    assert '"protocolType":"consumer"' in last, last
    assert f'"generation":{gen}' in last, last
    assert '"protocol":"range"' in last, last
    assert f'"leader":"{member}"' in last, last
    assert f'"memberId":"{member}"' in last, last


def test_dump_log_decodes_offset_commits(broker_factory):
    """OffsetCommit records (needs the offsets part) decode with the group,
    topic, partition and offset committed; the last one per key wins."""
    b = broker_factory(NO_DELAY)
    topic, = make_topics(b, "dump-o", 1, 2)
    grp = new_group("dump-o")
    wait_loaded(b, grp)
    got = g.offset_commit(b, 9, grp, [(topic, [(0, 5, "m0"), (1, 7, "")])])
    assert {e for *_, e in got} == {0}, got
    got = g.offset_commit(b, 9, grp, [(topic, [(0, 9, "m1")])])
    assert {e for *_, e in got} == {0}, got
    b.stop()
    recs = offset_records(dump_offsets(b, grp), grp)
    # Kafka orders the records of one commit as its map iterates: a set.
    assert len(recs) == 3, recs
    first = {int(p): v for t, p, v in recs[:2] if t == topic}
    assert sorted(first) == [0, 1], recs
    assert '"offset":5' in first[0] and '"metadata":"m0"' in first[0], recs
    assert '"offset":7' in first[1], recs
    assert recs[2][:2] == (topic, "0"), recs
    assert '"offset":9' in recs[2][2] and '"metadata":"m1"' in recs[2][2], recs


@pytest.mark.parametrize("how", ["restart", "kill9"])
def test_restart_reloads_group(broker_factory, how):
    """The group's metadata survives the broker: generation, protocol and
    its member, restored Stable (Kafka restores members with fresh sessions)."""
    b = broker_factory(NO_DELAY)
    grp = new_group(f"reload-g-{how}")
    wait_loaded(b, grp)
    m, = g.stable_group(b, grp, 1, topics=("t",), session_ms=60000)
    before = g.describe_groups(b, [grp])[0]
    assert before["state"] == "Stable", before
    b.restart() if how == "restart" else (b.kill(), b.start())
    after = wait_loaded(b, grp)
    assert after["error"] == 0, after
    assert after["state"] == "Stable", after
    assert after["protocol_type"] == "consumer" and after["protocol"] == "range", after
    assert [x["member_id"] for x in after["members"]] == [m.member_id], after
    m.close()


@pytest.mark.parametrize("how", ["restart", "kill9"])
def test_restart_reloads_committed_offsets(broker_factory, how):
    """Committed offsets (needs the offsets part) survive the broker, the
    last commit of a partition winning; a deleted group's offsets stay gone."""
    b = broker_factory(NO_DELAY)
    topic, = make_topics(b, f"reload-{how}", 1, 3)
    grp, gone = new_group(f"reload-o-{how}"), new_group(f"reload-x-{how}")
    wait_loaded(b, grp)
    wait_loaded(b, gone)
    for offsets in ([(0, 1, ""), (1, 2, ""), (2, 3, "")], [(1, 20, "x")]):
        got = g.offset_commit(b, 9, grp, [(topic, offsets)])
        assert {e for *_, e in got} == {0}, got
    got = g.offset_commit(b, 9, gone, [(topic, [(0, 4, "")])])
    assert {e for *_, e in got} == {0}, got
    assert g.delete_groups(b, [gone]) == [(gone, 0)]
    want = {(topic, 0): 1, (topic, 1): 20, (topic, 2): 3}
    assert g.committed(b, grp) == want
    b.restart() if how == "restart" else (b.kill(), b.start())
    wait_loaded(b, grp)
    deadline = time.monotonic() + 60
    while True:
        try:
            got = g.committed(b, grp)
            break
        except AssertionError:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert got == want
    assert g.committed(b, gone) == {}


def test_metadata_shows_the_topic_internal(broker_factory):
    """Kafka 3.9 lists __consumer_offsets in an all-topics Metadata request
    and by name, is_internal true either way."""
    from kwire import metadata
    b = broker_factory(NO_DELAY)
    wait_loaded(b, new_group("md"))
    for version in (9, 12):
        every = metadata(b, None, version=version)
        assert OFFSETS in every, (version, sorted(every))
        assert every[OFFSETS][0] == 0 and every[OFFSETS][1] is True, every[OFFSETS]
        assert len(every[OFFSETS][2]) == 50
        named = metadata(b, [OFFSETS], version=version)
        assert named[OFFSETS][:2] == (0, True), named


def test_admin_on_the_internal_topic_as_kafka(broker_factory):
    """KRaft Kafka 3.9 refuses only __cluster_metadata: __consumer_offsets may
    be created, grown and deleted like any topic; FindCoordinator then
    creates it again and groups work on the new, empty topic."""
    from kwire import (CREATE_PARTITIONS, DELETE_TOPICS, call, create_partitions_body,
                       create_topics, delete_topics_body, metadata, parse_create_partitions,
                       parse_delete_topics)
    b = broker_factory(NO_DELAY)
    assert create_topics(b, [(OFFSETS, 3)], version=5, validate_only=True) == \
        [(OFFSETS, 0, None)]
    grp = new_group("admin")
    wait_loaded(b, grp)
    m, = g.stable_group(b, grp, 1)
    m.close()
    got = create_topics(b, [(OFFSETS, 3)], version=5)
    assert [(n, e) for n, e, _ in got] == [(OFFSETS, 36)], got
    assert parse_create_partitions(2, call(b, CREATE_PARTITIONS, 2, create_partitions_body(
        2, [(OFFSETS, 51)], True))) == [(OFFSETS, 0, None)]
    assert parse_delete_topics(4, call(b, DELETE_TOPICS, 4, delete_topics_body(
        4, [OFFSETS]))) == [(OFFSETS, 0, None)]
    deadline = time.monotonic() + 30
    while metadata(b, [OFFSETS])[OFFSETS][:2] != (3, True):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    grp2 = new_group("admin2")
    wait_loaded(b, grp2)
    m, = g.stable_group(b, grp2, 1)
    assert g.describe_groups(b, [grp2])[0]["state"] == "Stable"
    m.close()


def test_group_requests_before_the_topic_exists(broker_factory):
    """Before the first FindCoordinator Kafka coordinates no group: group
    requests get NOT_COORDINATOR and do not create __consumer_offsets."""
    from kwire import metadata
    b = broker_factory(NO_DELAY)
    grp = new_group("nofc")
    assert g.describe_groups(b, [grp])[0]["error"] == g.NOT_COORDINATOR
    assert g.Member(b, grp).join()["error"] == g.NOT_COORDINATOR
    assert metadata(b, [OFFSETS])[OFFSETS][:2] == (3, True)    # UNKNOWN_TOPIC_OR_PARTITION
    wait_loaded(b, grp)
    assert g.describe_groups(b, [grp])[0]["error"] == 0
