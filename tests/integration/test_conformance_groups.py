# SPDX-License-Identifier: Apache-2.0
"""Classic consumer-group APIs in raw frames (issue 13), asserting what
Apache Kafka 3.9.1 answers (each case was first run against it). Response
partition order is Kafka's hash order, so partition lists compare as sets."""
import uuid

import pytest

import kgroups as g
from kwire import make_topics

NT, NP = 5, 7


@pytest.fixture(scope="module")
def _topics(_module_broker):
    b = _module_broker[0]
    g.wait_coordinator(b, "warmup")
    return make_topics(b, "grp", NT, NP)


@pytest.fixture
def topics(broker, _topics):
    return _topics


def gid(p):
    return f"cg-{p}-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("version", range(7))
def test_find_coordinator(broker, topics, version):
    """v1-3 success carries error_message "NONE" (not null); v4+ answers
    every key in request order, duplicates kept, message "" (not null)."""
    host, port = broker.bootstrap.rsplit(":", 1)
    if version < 4:
        (_, err, msg, node, h, p), = g.find_coordinator(broker, "grp-a", version)
        assert (err, h, p) == (0, host, int(port)) and node >= 0
        assert msg == (None if version == 0 else "NONE")
        return
    keys = [f"k{i}" for i in range(25)] + ["", "k0"]
    got = g.find_coordinator(broker, keys, version)
    assert [k for k, *_ in got] == keys
    assert all((e, m, h, p) == (0, "", host, int(port)) for _, e, m, _n, h, p in got), got


@pytest.mark.parametrize("version", [1, 4, 5])
def test_find_coordinator_bad_key_type(broker, topics, version):
    """Key type 5 (none such): INVALID_REQUEST with Kafka's default message."""
    got = g.find_coordinator(broker, "x" if version < 4 else ["x"], version, key_type=5)
    assert got[0][1] == g.INVALID_REQUEST and got[0][2].startswith("This most likely")


@pytest.mark.parametrize("version", range(10))
def test_single_member_flow(broker, topics, version):
    grp = gid(f"one{version}")
    m = g.Member(broker, grp, version, topics=topics)
    m.join_send()
    j = m.join_recv()
    if version >= 4:
        # MEMBER_ID_REQUIRED: id given, generation -1, protocol "" (v4-6) /
        # null (v7+), leader "", no members.
        assert (j["error"], j["generation"], j["leader"], j["members"]) == \
            (g.MEMBER_ID_REQUIRED, -1, "", [])
        assert j["protocol"] == ("" if version < 7 else None) and j["member_id"]
        m.join_send()
        j = m.join_recv()
    assert (j["error"], j["generation"], j["protocol"]) == (0, 1, "range")
    assert j["protocol_type"] == ("consumer" if version >= 7 else None)
    assert j["leader"] == j["member_id"] == m.member_id
    assert [(mid, meta) for mid, _i, meta in j["members"]] == \
        [(m.member_id, g.subscription(list(topics)))]
    plan = g.assignment({t: list(range(NP)) for t in topics})
    err, pt, pn, a = m.sync([(m.member_id, plan)])
    assert (err, a) == (0, plan)
    assert (pt, pn) == (("consumer", "range") if min(version, 5) >= 5 else (None, None))
    assert m.heartbeat() == 0
    assert m.heartbeat(generation=99) == g.ILLEGAL_GENERATION
    assert m.heartbeat(member_id="nope") == g.UNKNOWN_MEMBER_ID
    d, = g.describe_groups(broker, [grp])
    assert (d["state"], d["protocol"], len(d["members"])) == ("Stable", "range", 1)
    assert d["members"][0]["assignment"] == plan
    assert m.leave()[0] == 0
    d, = g.describe_groups(broker, [grp])
    assert (d["state"], d["protocol"], d["members"]) == ("Empty", "", [])


@pytest.mark.parametrize("version", [0, 3, 4, 5, 9])
def test_two_members_rebalance(broker, topics, version):
    """Leader sees both members' metadata, follower none; during
    PreparingRebalance heartbeat and SyncGroup answer REBALANCE_IN_PROGRESS
    but a commit at the current generation is accepted (0); in
    CompletingRebalance a commit answers REBALANCE_IN_PROGRESS, heartbeat 0."""
    grp = gid(f"two{version}")
    L = g.Member(broker, grp, version, topics=topics)
    assert L.join()["error"] == 0 and L.sync([(L.member_id, b"")])[0] == 0
    F = g.Member(broker, grp, version, topics=topics[:2])
    if version >= 4:
        F.join_send()
        assert F.join_recv()["error"] == g.MEMBER_ID_REQUIRED
    F.join_send()
    import time
    time.sleep(0.5)
    assert L.heartbeat() == g.REBALANCE_IN_PROGRESS
    assert {e for *_, e in L.commit([(topics[0], [(0, 1, "")])])} == {0}
    assert L.sync([])[0] == g.REBALANCE_IN_PROGRESS
    L.join_send()
    jl, jf = L.join_recv(), F.join_recv()
    assert jl["generation"] == jf["generation"] == 2 and jl["leader"] == jf["leader"] == L.member_id
    assert sorted((mid, meta) for mid, _i, meta in jl["members"]) == sorted(
        [(L.member_id, g.subscription(list(topics))), (F.member_id, g.subscription(topics[:2]))])
    assert jf["members"] == []
    assert {e for *_, e in F.commit([(topics[0], [(0, 1, "")])])} == {g.REBALANCE_IN_PROGRESS}
    pl = g.assignment({t: list(range(0, NP, 2)) for t in topics})
    pf = g.assignment({t: list(range(1, NP, 2)) for t in topics[:2]})
    F.sync_send()
    assert L.sync([(F.member_id, pf), (L.member_id, pl)])[::3] == (0, pl)
    assert F.sync_recv()[::3] == (0, pf)
    assert L.heartbeat() == F.heartbeat() == 0
    assert L.heartbeat(generation=1) == g.ILLEGAL_GENERATION
    d, = g.describe_groups(broker, [grp])
    assert {m["member_id"]: m["assignment"] for m in d["members"]} == \
        {L.member_id: pl, F.member_id: pf}
    parts = [(t, [(p, 10 + p, "x") for p in range(NP)]) for t in topics]
    assert {e for *_, e in F.commit(parts)} == {0}
    assert F.commit(parts, generation=1)[0][2] == g.ILLEGAL_GENERATION
    assert F.commit(parts, generation=3)[0][2] == g.ILLEGAL_GENERATION


@pytest.mark.parametrize("version", [3, 4, 5])
def test_leave_batched_with_unknown(broker, topics, version):
    """Top-level 0, per member: 0 / UNKNOWN_MEMBER_ID; v0-2 unknown: top 25."""
    grp = gid(f"leave{version}")
    L, F = g.stable_group(broker, grp, 2, topics=topics)
    top, members = g.parse_leave_group(version, L.call(g.LEAVE_GROUP, version, g.leave_group_body(
        version, grp, [F.member_id, "ghost", ("", "ghost-inst")])))
    assert top == 0 and members == [(F.member_id, None, 0), ("ghost", None, 25),
                                    ("", "ghost-inst", 25)]
    assert L.heartbeat() == g.REBALANCE_IN_PROGRESS
    assert g.parse_leave_group(0, L.call(g.LEAVE_GROUP, 0, g.leave_group_body(
        0, grp, ["ghost"])))[0] == g.UNKNOWN_MEMBER_ID


@pytest.mark.parametrize("version", [5, 9])
def test_static_member_fenced(broker, topics, version):
    """A static member rejoining with the same instance id replaces the old
    one without a rebalance (generation stays 1, old assignment returned).
    v5: leader stays the OLD member id, members []; v9: leader = new id,
    skip_assignment true, members listed. The old id: FENCED_INSTANCE_ID on
    heartbeat, commit (v7), sync; LeaveGroup top 0, member 82."""
    grp = gid("static")
    s1 = g.Member(broker, grp, version, instance_id="inst-1", topics=topics)
    j = s1.join()
    assert j["error"] == 0 and j["members"][0][1] == "inst-1"
    assert s1.sync([(s1.member_id, b"xx")])[0] == 0
    s2 = g.Member(broker, grp, version, instance_id="inst-1", topics=topics)
    j2 = s2.join()
    assert (j2["error"], j2["generation"]) == (0, 1) and j2["member_id"] != s1.member_id
    if version == 5:
        assert (j2["leader"], j2["members"]) == (s1.member_id, [])
    else:
        assert (j2["leader"], j2["skip_assignment"]) == (s2.member_id, True)
        assert [m[0] for m in j2["members"]] == [s2.member_id]
    assert s2.sync([])[::3] == (0, b"xx")
    assert s1.heartbeat(version=3) == g.FENCED_INSTANCE_ID
    assert s1.commit([(topics[0], [(0, 1, "")])], version=7)[0][2] == g.FENCED_INSTANCE_ID
    assert s1.sync([])[0] == g.FENCED_INSTANCE_ID
    assert s1.leave() == (0, [(s1.member_id, "inst-1", g.FENCED_INSTANCE_ID)])


def test_inconsistent_protocol_and_session_timeout(broker, topics):
    grp = gid("incons")
    g.stable_group(broker, grp, 1, topics=topics)
    for protos, ptype in [([("roundrobin", b"")], "consumer"), ([], "consumer"),
                          ([("range", b"")], "connect")]:
        m = g.Member(broker, grp, 9)
        j = g.parse_join_group(9, m.call(g.JOIN_GROUP, 9, g.join_group_body(
            9, grp, "", protos, protocol_type=ptype)))
        assert (j["error"], j["member_id"], j["generation"]) == \
            (g.INCONSISTENT_GROUP_PROTOCOL, "", -1)
    m = g.Member(broker, gid("fresh"), 9)
    for protos, ptype in [([], "consumer"), ([("range", b"")], "")]:
        j = g.parse_join_group(9, m.call(g.JOIN_GROUP, 9, g.join_group_body(
            9, m.group, "", protos, protocol_type=ptype)))
        assert j["error"] == g.INCONSISTENT_GROUP_PROTOCOL
    for st, want in [(1, 26), (5999, 26), (6000, 0), (1800000, 0), (1800001, 26)]:
        assert g.Member(broker, gid("sess"), 9, session_ms=st).join()["error"] == want


def test_invalid_group_id(broker, topics):
    """"" is INVALID_GROUP_ID for Join/Sync/Heartbeat/Leave, but OffsetCommit
    and OffsetFetch accept it (a simple group named "")."""
    m = g.Member(broker, "", 9)
    assert m.join()["error"] == g.INVALID_GROUP_ID
    assert g.Member(broker, "", 0).join()["error"] == g.INVALID_GROUP_ID
    assert g.parse_sync_group(5, m.call(g.SYNC_GROUP, 5, g.sync_group_body(5, "", 1, "m")))[0] == 24
    assert g.parse_heartbeat(4, m.call(g.HEARTBEAT, 4, g.heartbeat_body(4, "", 1, "m"))) == 24
    assert g.parse_leave_group(5, m.call(g.LEAVE_GROUP, 5, g.leave_group_body(5, "", ["m"]))) \
        == (24, [])
    assert g.offset_commit(broker, 9, "", [(topics[0], [(0, 1, "")])])[0][2] == 0


@pytest.mark.parametrize("version", range(1, 10))
def test_offset_commit_fetch_all_versions(broker, topics, version):
    """5 topics x 7 partitions; v0 of both is UNSUPPORTED_VERSION per
    partition on KRaft Kafka. Null metadata reads back as ""."""
    grp = gid(f"oc{version}")
    parts = [(t, [(p, 1000 * i + p, None if p == 3 else f"m{i}.{p}") for p in range(NP)])
             for i, t in enumerate(topics)]
    got = g.offset_commit(broker, version, grp, parts)
    assert sorted(got) == sorted((t, p, 0) for t in topics for p in range(NP))
    want = {(t, p): (1000 * i + p, "" if p == 3 else f"m{i}.{p}")
            for i, t in enumerate(topics) for p in range(NP)}
    for fv in range(1, 10):
        req = [(t, list(range(NP))) for t in topics] + [("nosuch", [0]), (topics[0], [NP])]
        (_, err, fetched), = g.offset_fetch(broker, fv, [(grp, req)])
        assert err == 0
        got = {(t, p): (o, m) for t, p, o, _e, m, pe in fetched if pe == 0}
        assert got == {**want, ("nosuch", 0): (-1, ""), (topics[0], NP): (-1, "")}
        if fv >= 2:
            (_, err, every), = g.offset_fetch(broker, fv, [(grp, None)])
            assert {(t, p): (o, m) for t, p, o, _e, m, _pe in every} == want
    assert {e for *_, e in g.offset_commit(broker, 0, grp, parts)} == {g.UNSUPPORTED_VERSION}


def test_offset_fetch_v8_multi_group(broker, topics):
    a, b, none = gid("mga"), gid("mgb"), gid("mgn")
    g.offset_commit(broker, 9, a, [(topics[0], [(0, 5, "")])])
    g.offset_commit(broker, 9, b, [(topics[1], [(p, p, "") for p in range(NP)])])
    for v in (8, 9):
        got = {grp: (e, {(t, p): o for t, p, o, *_ in parts})
               for grp, e, parts in g.offset_fetch(broker, v, [(a, None), (b, None), (none, None),
                                                               (none, [(topics[0], [0])])])}
        assert got[a] == (0, {(topics[0], 0): 5})
        assert got[b] == (0, {(topics[1], p): p for p in range(NP)})
        assert got[none] in ((0, {}), (0, {(topics[0], 0): -1}))


def test_offset_commit_errors(broker, topics):
    grp = gid("ocerr")
    got = g.offset_commit(broker, 9, grp, [("nosuch", [(0, 1, "")]),
                                           (topics[0], [(NP, 1, ""), (0, 5, ""), (1, -5, "")])])
    assert sorted(got) == sorted([("nosuch", 0, 3), (topics[0], NP, 3), (topics[0], 0, 0),
                                  (topics[0], 1, 0)])
    got = g.offset_commit(broker, 9, grp, [(topics[0], [(2, 1, "a" * 4096), (3, 1, "a" * 4097)])])
    assert sorted(got) == [(topics[0], 2, 0), (topics[0], 3, g.OFFSET_METADATA_TOO_LARGE)]
    assert g.committed(broker, grp)[(topics[0], 1)] == -5         # negative offsets stored
    # A generation >= 0 for a group that does not exist: ILLEGAL_GENERATION,
    # and no group is created; generation -1 with a member id: accepted.
    ghost = gid("ghost")
    for v in (1, 2, 5, 7, 9):
        assert g.offset_commit(broker, v, ghost, [(topics[0], [(0, 1, "")])], generation=5,
                               member_id="m")[0][2] == g.ILLEGAL_GENERATION
    assert g.describe_groups(broker, [ghost])[0]["state"] == "Dead"
    assert g.offset_commit(broker, 9, gid("g2"), [(topics[0], [(0, 1, "")])],
                           member_id="m")[0][2] == 0
    # Simple (gen -1) commit to an active group, or unknown member: 25.
    act = gid("act")
    L, = g.stable_group(broker, act, 1, topics=topics)
    assert g.offset_commit(broker, 9, act, [(topics[0], [(0, 1, "")])])[0][2] == 25
    assert g.offset_commit(broker, 9, act, [(topics[0], [(0, 1, "")])], generation=L.generation,
                           member_id="zz")[0][2] == 25


def test_offset_delete(broker, topics):
    grp = gid("odel")
    L, = g.stable_group(broker, grp, 1, topics=[topics[0]])
    L.commit([(t, [(0, 1, ""), (1, 2, "")]) for t in topics[:2]])
    err, parts = g.offset_delete(broker, grp, [(topics[0], [0, 1]), (topics[1], [0]),
                                               ("nosuch", [0])])
    assert err == 0 and sorted(parts) == sorted([
        (topics[0], 0, g.GROUP_SUBSCRIBED_TO_TOPIC), (topics[0], 1, g.GROUP_SUBSCRIBED_TO_TOPIC),
        (topics[1], 0, 0), ("nosuch", 0, 3)])
    assert g.committed(broker, grp) == {(topics[0], 0): 1, (topics[0], 1): 2, (topics[1], 1): 2}
    assert g.offset_delete(broker, gid("none"), [(topics[0], [0])]) == (g.GROUP_ID_NOT_FOUND, [])


@pytest.mark.parametrize("version", range(6))
def test_describe_list_delete(broker, topics, version):
    act, simple = gid("dact"), gid("dsim")
    g.stable_group(broker, act, 2, topics=topics)
    g.offset_commit(broker, 9, simple, [(topics[0], [(p, 7, "") for p in range(NP)])])
    got = {d["group"]: d for d in g.describe_groups(broker, [act, simple, "none-" + act], version)}
    assert (got[act]["error"], got[act]["state"], len(got[act]["members"])) == (0, "Stable", 2)
    assert (got[simple]["state"], got[simple]["protocol_type"]) == ("Empty", "")
    assert (got["none-" + act]["error"], got["none-" + act]["state"]) == (0, "Dead")
    err, listed = g.list_groups(broker, version)
    by = {x[0]: x for x in listed}
    assert err == 0 and by[act][1] == "consumer" and by[simple][1] == ""
    if version >= 4:
        assert by[act][2] == "Stable" and by[simple][2] == "Empty"
        names = {x[0] for x in g.list_groups(broker, version, ["stable"])[1]}  # case-insensitive
        assert act in names and simple not in names
        assert g.list_groups(broker, version, ["Bogus"]) == (0, [])
    if version >= 5:
        assert by[act][3] == "classic"
    if version <= 2:
        got = g.delete_groups(broker, [act, simple, "none-" + act, simple], version)
        assert sorted(got) == sorted([(act, g.GROUP_NOT_EMPTY), (simple, 0),
                                      ("none-" + act, g.GROUP_ID_NOT_FOUND)])   # deduplicated
        (_, err, parts), = g.offset_fetch(broker, 8, [(simple, [(topics[0], [0, 1])])])
        assert [(p, o) for _t, p, o, *_ in sorted(parts)] == [(0, -1), (1, -1)]


@pytest.mark.parametrize("api,version", [(g.JOIN_GROUP, 9), (g.SYNC_GROUP, 5), (g.HEARTBEAT, 4),
                                         (g.OFFSET_COMMIT, 9), (g.OFFSET_FETCH, 8),
                                         (g.DELETE_GROUPS, 2), (g.LEAVE_GROUP, 0)])
def test_garbage_body_closes_connection_bystander_keeps_working(broker, topics, api, version):
    from kwire import connect, read_frame, request
    L, = g.stable_group(broker, gid("bystand"), 1, topics=topics)
    with connect(broker, 10) as s:
        s.sendall(request(api, version, 5, b"\xff\xff\xff"))
        with pytest.raises((ConnectionError, OSError)):
            read_frame(s)
    assert L.heartbeat() == 0


def test_offset_commit_100k_partitions(broker, topics):
    """One topic of 7 partitions, 100,000 partition entries: Kafka answers
    every entry (0 for existing partitions, UNKNOWN_TOPIC_OR_PARTITION for
    the rest) in well under a second."""
    grp = gid("big")
    got = g.offset_commit(broker, 9, grp, [(topics[0], [(i, 1, "") for i in range(100000)])])
    assert len(got) == 100000
    assert {(p, e) for _t, p, e in got if p < NP} == {(p, 0) for p in range(NP)}
    assert {e for _t, p, e in got if p >= NP} == {g.UNKNOWN_TOPIC_OR_PARTITION}
