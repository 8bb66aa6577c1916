# SPDX-License-Identifier: Apache-2.0
"""Raw Kafka frames for the classic consumer-group APIs (FindCoordinator,
JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
OffsetDelete, DescribeGroups, ListGroups, DeleteGroups) at every version,
built on kwire's Writer/Reader, plus the consumer protocol's subscription
and assignment blobs and a hand-driven group member. Written from the
protocol's JSON schemas; nothing here knows Spillway."""
import struct
import time

from kwire import (  # noqa: F401  (API keys re-exported)
    DELETE_GROUPS, DESCRIBE_GROUPS, FIND_COORDINATOR, HEARTBEAT, JOIN_GROUP, LEAVE_GROUP,
    LIST_GROUPS, OFFSET_COMMIT, OFFSET_DELETE, OFFSET_FETCH, SYNC_GROUP, Reader, Writer,
    connect, flexible, recv_response, request, roundtrip,
)

# Error codes of the group APIs.
NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
OFFSET_METADATA_TOO_LARGE = 12
COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR = 14, 15, 16
ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL, INVALID_GROUP_ID = 22, 23, 24
UNKNOWN_MEMBER_ID, INVALID_SESSION_TIMEOUT, REBALANCE_IN_PROGRESS = 25, 26, 27
INVALID_COMMIT_OFFSET_SIZE, UNSUPPORTED_VERSION, INVALID_REQUEST = 28, 35, 42
GROUP_NOT_EMPTY, GROUP_ID_NOT_FOUND = 68, 69
MEMBER_ID_REQUIRED, GROUP_MAX_SIZE_REACHED, FENCED_INSTANCE_ID = 79, 81, 82
GROUP_SUBSCRIBED_TO_TOPIC = 86
RETRIABLE = (COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR)


def _w(api, version):
    return Writer(flexible(api, version))


# ---- consumer protocol blobs (ConsumerProtocolSubscription/Assignment v0) ----

def subscription(topics, userdata=b""):
    w = Writer()
    w.i16(0).arr(len(topics))
    for t in topics:
        w.str(t)
    w.bytes(userdata)
    return bytes(w.b)


def parse_subscription(blob):
    r = Reader(blob)
    r.i16()
    return [r.str() for _ in range(r.arr())]


def assignment(parts):
    """parts: {topic: [partition]}."""
    w = Writer()
    w.i16(0).arr(len(parts))
    for t, ps in parts.items():
        w.str(t).arr(len(ps))
        for p in ps:
            w.i32(p)
    w.bytes(b"")
    return bytes(w.b)


def parse_assignment(blob):
    """{topic: [partition]} ({} for an empty blob)."""
    if not blob:
        return {}
    r = Reader(blob)
    r.i16()
    out = {}
    for _ in range(r.arr()):
        t = r.str()
        out[t] = [r.i32() for _ in range(r.arr())]
    return out


# ---- FindCoordinator ----

def find_coordinator_body(version, keys, key_type=0):
    """keys: one key (v0-3) or a list (v4+). Field order: Key (v0-3),
    KeyType (v1+), CoordinatorKeys (v4+)."""
    w = _w(FIND_COORDINATOR, version)
    if version < 4:
        w.str(keys if isinstance(keys, str) else keys[0])
    if version >= 1:
        w.i8(key_type)
    if version >= 4:
        w.arr(len(keys))
        for k in keys:
            w.str(k)
    w.tags()
    return w.b


def parse_find_coordinator(version, r):
    """[(key or None (v0-3), error, message, node, host, port)]."""
    if version >= 1:
        r.i32()
    if version < 4:
        err = r.i16()
        msg = r.str() if version >= 1 else None
        node, host, port = r.i32(), r.str(), r.i32()
        r.tags()
        r.end("FindCoordinator")
        return [(None, err, msg, node, host, port)]
    out = []
    for _ in range(r.arr()):
        key, node, host, port, err, msg = r.str(), r.i32(), r.str(), r.i32(), r.i16(), r.str()
        r.tags()
        out.append((key, err, msg, node, host, port))
    r.tags()
    r.end("FindCoordinator")
    return out


def find_coordinator(broker, keys, version=4, key_type=0):
    return parse_find_coordinator(
        version, roundtrip(broker, FIND_COORDINATOR, version,
                           find_coordinator_body(version, keys, key_type)))


def wait_coordinator(broker, group, timeout=60):
    """Kafka creates __consumer_offsets on the first FindCoordinator and
    answers COORDINATOR_NOT_AVAILABLE until its partition is loaded."""
    deadline = time.monotonic() + timeout
    while True:
        got = find_coordinator(broker, [group])[0]
        if got[1] == NONE:
            return got
        assert got[1] in RETRIABLE and time.monotonic() < deadline, got
        time.sleep(0.2)


# ---- JoinGroup / SyncGroup / Heartbeat / LeaveGroup ----

def join_group_body(version, group, member_id="", protocols=(("range", b""),),
                    session_ms=10000, rebalance_ms=30000, instance_id=None,
                    protocol_type="consumer", reason=None):
    w = _w(JOIN_GROUP, version)
    w.str(group).i32(session_ms)
    if version >= 1:
        w.i32(rebalance_ms)
    w.str(member_id)
    if version >= 5:
        w.str(instance_id)
    w.str(protocol_type).arr(len(protocols))
    for name, meta in protocols:
        w.str(name).bytes(meta).tags()
    if version >= 8:
        w.str(reason)
    w.tags()
    return w.b


def parse_join_group(version, r):
    """dict(error, generation, protocol_type, protocol, leader, skip_assignment,
    member_id, members=[(member_id, instance_id, metadata)])."""
    if version >= 2:
        r.i32()
    out = {"error": r.i16(), "generation": r.i32()}
    out["protocol_type"] = r.str() if version >= 7 else None
    out["protocol"] = r.str()
    out["leader"] = r.str()
    out["skip_assignment"] = r.bool() if version >= 9 else False
    out["member_id"] = r.str()
    members = []
    for _ in range(r.arr()):
        mid = r.str()
        inst = r.str() if version >= 5 else None
        meta = r.bytes()
        r.tags()
        members.append((mid, inst, bytes(meta)))
    out["members"] = members
    r.tags()
    r.end("JoinGroup")
    return out


def sync_group_body(version, group, generation, member_id, assignments=(),
                    instance_id=None, protocol_type="consumer", protocol="range"):
    """assignments: [(member_id, blob)]."""
    w = _w(SYNC_GROUP, version)
    w.str(group).i32(generation).str(member_id)
    if version >= 3:
        w.str(instance_id)
    if version >= 5:
        w.str(protocol_type).str(protocol)
    w.arr(len(assignments))
    for mid, blob in assignments:
        w.str(mid).bytes(blob).tags()
    w.tags()
    return w.b


def parse_sync_group(version, r):
    """(error, protocol_type, protocol, assignment bytes)."""
    if version >= 1:
        r.i32()
    err = r.i16()
    ptype = pname = None
    if version >= 5:
        ptype, pname = r.str(), r.str()
    a = r.bytes()
    r.tags()
    r.end("SyncGroup")
    return err, ptype, pname, None if a is None else bytes(a)


def heartbeat_body(version, group, generation, member_id, instance_id=None):
    w = _w(HEARTBEAT, version)
    w.str(group).i32(generation).str(member_id)
    if version >= 3:
        w.str(instance_id)
    w.tags()
    return w.b


def parse_heartbeat(version, r):
    if version >= 1:
        r.i32()
    err = r.i16()
    r.tags()
    r.end("Heartbeat")
    return err


def leave_group_body(version, group, members):
    """members: [member_id] (v0-2: exactly one) or [(member_id, instance_id)]."""
    w = _w(LEAVE_GROUP, version)
    w.str(group)
    if version < 3:
        m = members[0]
        w.str(m[0] if isinstance(m, tuple) else m)
    else:
        w.arr(len(members))
        for m in members:
            mid, inst = m if isinstance(m, tuple) else (m, None)
            w.str(mid).str(inst)
            if version >= 5:
                w.str("test")
            w.tags()
    w.tags()
    return w.b


def parse_leave_group(version, r):
    """(error, [(member_id, instance_id, error)])."""
    if version >= 1:
        r.i32()
    err = r.i16()
    members = []
    if version >= 3:
        for _ in range(r.arr()):
            members.append((r.str(), r.str(), r.i16()))
            r.tags()
    r.tags()
    r.end("LeaveGroup")
    return err, members


# ---- offsets ----

def offset_commit_body(version, group, topics, generation=-1, member_id="",
                       instance_id=None, retention_ms=-1):
    """topics: [(name, [(partition, offset, metadata)])]."""
    w = _w(OFFSET_COMMIT, version)
    w.str(group)
    if version >= 1:
        w.i32(generation).str(member_id)
    if version >= 7:
        w.str(instance_id)
    if 2 <= version <= 4:
        w.i64(retention_ms)

    def part(p):
        index, offset, meta = p
        w.i32(index).i64(offset)
        if version >= 6:
            w.i32(-1)
        if version == 1:
            w.i64(-1)
        w.str(meta)
    w.topics(topics, part)
    w.tags()
    return w.b


def parse_offset_commit(version, r):
    """[(topic, partition, error)] in response order."""
    if version >= 3:
        r.i32()
    out = []
    for _ in range(r.arr()):
        name = r.str()
        for _ in range(r.arr()):
            out.append((name, r.i32(), r.i16()))
            r.tags()
        r.tags()
    r.tags()
    r.end("OffsetCommit")
    return out


def offset_commit(broker, version, group, topics, **kw):
    return parse_offset_commit(version, roundtrip(
        broker, OFFSET_COMMIT, version, offset_commit_body(version, group, topics, **kw)))


def offset_fetch_body(version, groups, require_stable=False):
    """groups: [(group, [(topic, [partition])] or None: all)]; v0-7 take
    exactly one group (v0-1: topics must not be None)."""
    w = _w(OFFSET_FETCH, version)

    def topics(ts):
        if ts is None:
            w.arr(None)
            return
        w.arr(len(ts))
        for name, parts in ts:
            w.str(name).arr(len(parts))
            for p in parts:
                w.i32(p)
            w.tags()
    if version < 8:
        assert len(groups) == 1
        w.str(groups[0][0])
        topics(groups[0][1])
    else:
        w.arr(len(groups))
        for g, ts in groups:
            w.str(g)
            if version >= 9:
                w.str(None).i32(-1)
            topics(ts)
            w.tags()
    if version >= 7:
        w.bool(require_stable)
    w.tags()
    return w.b


def _fetch_parts(version, r):
    out = []
    for _ in range(r.arr()):
        name = r.str()
        for _ in range(r.arr()):
            index, off = r.i32(), r.i64()
            epoch = r.i32() if version >= 5 else -1
            meta, err = r.str(), r.i16()
            r.tags()
            out.append((name, index, off, epoch, meta, err))
        r.tags()
    return out


def parse_offset_fetch(version, r):
    """[(group or None (v0-7), group error, [(topic, partition, offset,
    leader_epoch, metadata, error)])]; v0-1 have no group error (0)."""
    if version >= 3:
        r.i32()
    if version < 8:
        parts = _fetch_parts(version, r)
        err = r.i16() if version >= 2 else 0
        r.tags()
        r.end("OffsetFetch")
        return [(None, err, parts)]
    out = []
    for _ in range(r.arr()):
        g = r.str()
        parts = _fetch_parts(version, r)
        err = r.i16()
        r.tags()
        out.append((g, err, parts))
    r.tags()
    r.end("OffsetFetch")
    return out


def offset_fetch(broker, version, groups, **kw):
    return parse_offset_fetch(version, roundtrip(
        broker, OFFSET_FETCH, version, offset_fetch_body(version, groups, **kw)))


def committed(broker, group, topics=None, version=8):
    """{(topic, partition): offset} of a group (all its offsets when topics
    is None)."""
    (_, err, parts), = offset_fetch(broker, version, [(group, topics)])
    assert err == NONE, err
    return {(t, p): off for t, p, off, _e, _m, perr in parts if perr == NONE}


def offset_delete_body(group, topics):
    """topics: [(name, [partition])]."""
    w = Writer()
    w.str(group).arr(len(topics))
    for name, parts in topics:
        w.str(name).arr(len(parts))
        for p in parts:
            w.i32(p)
    return w.b


def parse_offset_delete(r):
    """(error, [(topic, partition, error)])."""
    err = r.i16()
    r.i32()
    out = []
    for _ in range(r.arr()):
        name = r.str()
        for _ in range(r.arr()):
            out.append((name, r.i32(), r.i16()))
    r.end("OffsetDelete")
    return err, out


def offset_delete(broker, group, topics):
    return parse_offset_delete(roundtrip(broker, OFFSET_DELETE, 0,
                                         offset_delete_body(group, topics)))


# ---- DescribeGroups / ListGroups / DeleteGroups ----

def describe_groups_body(version, groups, authorized_ops=False):
    w = _w(DESCRIBE_GROUPS, version)
    w.arr(len(groups))
    for g in groups:
        w.str(g)
    if version >= 3:
        w.bool(authorized_ops)
    w.tags()
    return w.b


def parse_describe_groups(version, r):
    """[dict(error, group, state, protocol_type, protocol, members=[dict(
    member_id, instance_id, client_id, client_host, metadata, assignment)],
    authorized_ops)]."""
    if version >= 1:
        r.i32()
    out = []
    for _ in range(r.arr()):
        g = {"error": r.i16(), "group": r.str(), "state": r.str(),
             "protocol_type": r.str(), "protocol": r.str(), "members": []}
        for _ in range(r.arr()):
            m = {"member_id": r.str()}
            m["instance_id"] = r.str() if version >= 4 else None
            m["client_id"], m["client_host"] = r.str(), r.str()
            m["metadata"], m["assignment"] = bytes(r.bytes()), bytes(r.bytes())
            r.tags()
            g["members"].append(m)
        g["authorized_ops"] = r.i32() if version >= 3 else None
        r.tags()
        out.append(g)
    r.tags()
    r.end("DescribeGroups")
    return out


def describe_groups(broker, groups, version=5):
    return parse_describe_groups(version, roundtrip(
        broker, DESCRIBE_GROUPS, version, describe_groups_body(version, groups)))


def list_groups_body(version, states=(), types=()):
    w = _w(LIST_GROUPS, version)
    if version >= 4:
        w.arr(len(states))
        for s in states:
            w.str(s)
    if version >= 5:
        w.arr(len(types))
        for t in types:
            w.str(t)
    w.tags()
    return w.b


def parse_list_groups(version, r):
    """(error, [(group, protocol_type, state (v4+), type (v5+))])."""
    if version >= 1:
        r.i32()
    err = r.i16()
    out = []
    for _ in range(r.arr()):
        g, pt = r.str(), r.str()
        st = r.str() if version >= 4 else None
        ty = r.str() if version >= 5 else None
        r.tags()
        out.append((g, pt, st, ty))
    r.tags()
    r.end("ListGroups")
    return err, out


def list_groups(broker, version=5, states=(), types=()):
    return parse_list_groups(version, roundtrip(
        broker, LIST_GROUPS, version, list_groups_body(version, states, types)))


def delete_groups_body(version, groups):
    w = _w(DELETE_GROUPS, version)
    w.arr(len(groups))
    for g in groups:
        w.str(g)
    w.tags()
    return w.b


def parse_delete_groups(version, r):
    """[(group, error)]."""
    r.i32()
    out = []
    for _ in range(r.arr()):
        out.append((r.str(), r.i16()))
        r.tags()
    r.tags()
    r.end("DeleteGroups")
    return out


def delete_groups(broker, groups, version=2):
    return parse_delete_groups(version, roundtrip(
        broker, DELETE_GROUPS, version, delete_groups_body(version, groups)))


# ---- a group member driven by hand ----

class Member:
    """One classic-protocol member on its own connection. join_send() and
    join_recv() are split because a JoinGroup is answered only when the
    rebalance completes (every known member has rejoined)."""

    _corr = 1000

    def __init__(self, broker, group, version=9, instance_id=None, topics=("t",),
                 protocols=None, session_ms=10000, rebalance_ms=30000, timeout=60):
        self.broker, self.group, self.v = broker, group, version
        self.instance_id = instance_id
        self.protocols = protocols if protocols is not None else [("range", subscription(list(topics)))]
        self.session_ms, self.rebalance_ms = session_ms, rebalance_ms
        self.sock = connect(broker, timeout)
        self.member_id, self.generation, self.last = "", -1, None

    def close(self):
        self.sock.close()

    def _send(self, api, version, body):
        Member._corr += 1
        self.sock.sendall(request(api, version, Member._corr, body))
        return Member._corr

    def _recv(self, api, version, corr):
        got, r = recv_response(self.sock, api, version)
        assert got == corr, (got, corr)
        return r

    def call(self, api, version, body):
        return self._recv(api, version, self._send(api, version, body))

    def join_send(self, version=None):
        v = self.v if version is None else version
        self._pending = (v, self._send(JOIN_GROUP, v, join_group_body(
            v, self.group, self.member_id, self.protocols, self.session_ms,
            self.rebalance_ms, self.instance_id)))

    def join_recv(self):
        v, corr = self._pending
        j = parse_join_group(v, self._recv(JOIN_GROUP, v, corr))
        self.last = j
        if j["error"] in (NONE, MEMBER_ID_REQUIRED):
            self.member_id = j["member_id"]
        if j["error"] == NONE:
            self.generation = j["generation"]
        return j

    def join(self, version=None):
        """One JoinGroup round trip; v4+ MEMBER_ID_REQUIRED is answered by
        rejoining with the given id (as clients do)."""
        self.join_send(version)
        j = self.join_recv()
        if j["error"] == MEMBER_ID_REQUIRED:
            self.join_send(version)
            j = self.join_recv()
        return j

    def sync(self, assignments=(), version=None):
        v = min(self.v, 5) if version is None else version
        pname = self.last["protocol"] if self.last else "range"
        return parse_sync_group(v, self.call(SYNC_GROUP, v, sync_group_body(
            v, self.group, self.generation, self.member_id, assignments, self.instance_id,
            "consumer", pname)))

    def sync_send(self, assignments=(), version=None):
        v = min(self.v, 5) if version is None else version
        pname = self.last["protocol"] if self.last else "range"
        self._pending_sync = (v, self._send(SYNC_GROUP, v, sync_group_body(
            v, self.group, self.generation, self.member_id, assignments, self.instance_id,
            "consumer", pname)))

    def sync_recv(self):
        v, corr = self._pending_sync
        return parse_sync_group(v, self._recv(SYNC_GROUP, v, corr))

    def heartbeat(self, version=4, generation=None, member_id=None):
        g = self.generation if generation is None else generation
        m = self.member_id if member_id is None else member_id
        inst = self.instance_id if version >= 3 else None
        return parse_heartbeat(version, self.call(
            HEARTBEAT, version, heartbeat_body(version, self.group, g, m, inst)))

    def leave(self, version=5):
        m = (self.member_id, self.instance_id) if version >= 3 else self.member_id
        return parse_leave_group(version, self.call(
            LEAVE_GROUP, version, leave_group_body(version, self.group, [m])))

    def commit(self, topics, version=9, generation=None):
        g = self.generation if generation is None else generation
        return parse_offset_commit(version, self.call(
            OFFSET_COMMIT, version, offset_commit_body(
                version, self.group, topics, g, self.member_id,
                self.instance_id if version >= 7 else None)))


def stable_group(broker, group, n, version=9, topics=("t",), **kw):
    """n members joined and synced (the first joiner's JoinGroup completes
    alone, then each newcomer's join is answered once the others rejoin).
    Returns the members, leader first."""
    members = []
    for i in range(n):
        m = Member(broker, group, version, topics=topics, **kw)
        if i == 0:
            assert m.join()["error"] == NONE, m.last
            members.append(m)
            continue
        if version >= 4 and m.instance_id is None:
            m.join_send()
            j = m.join_recv()
            assert j["error"] == MEMBER_ID_REQUIRED, j
        m.join_send()
        # Rejoin only once the coordinator has started the rebalance: a
        # rejoin of a Stable group with unchanged metadata is answered at
        # once with the current generation.
        deadline = time.monotonic() + 30
        while members[0].heartbeat() != REBALANCE_IN_PROGRESS:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        for o in members:
            o.join_send()
        members.append(m)
        for o in members:
            assert o.join_recv()["error"] == NONE, o.last
    leader = [m for m in members if m.member_id == members[0].last["leader"]][0]
    members.remove(leader)
    members.insert(0, leader)
    plan = [(m.member_id, assignment({})) for m in members]
    for m in members[1:]:
        m.sync_send()
    assert leader.sync(plan)[0] == NONE
    for m in members[1:]:
        assert m.sync_recv()[0] == NONE
    return members
