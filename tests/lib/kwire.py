# SPDX-License-Identifier: Apache-2.0
"""Raw Kafka frames for tests that must say exactly what goes on the wire,
shared by the integration, hostile and dpdk suites (tests/lib is on their
sys.path): request builders and response parsers in both encodings (classic
and flexible; each builder takes the version and picks the fields it has),
blocking round trips, and (re-exported from krecords.py) RecordBatch v2. Written from the protocol's JSON schemas; nothing here knows Spillway."""
import socket
import struct
import time

from sockio import eof, read_frame, recv_exact  # noqa: F401  (re-exported)

# API keys.
PRODUCE, FETCH, LIST_OFFSETS, METADATA = 0, 1, 2, 3
API_VERSIONS, CREATE_TOPICS, DELETE_TOPICS, INIT_PRODUCER_ID = 18, 19, 20, 22
OFFSET_FOR_LEADER_EPOCH, DESCRIBE_CONFIGS, CREATE_PARTITIONS = 23, 32, 37
# Group APIs (codecs in kgroups.py).
OFFSET_COMMIT, OFFSET_FETCH, FIND_COORDINATOR, JOIN_GROUP, HEARTBEAT = 8, 9, 10, 11, 12
LEAVE_GROUP, SYNC_GROUP, DESCRIBE_GROUPS, LIST_GROUPS = 13, 14, 15, 16
DELETE_GROUPS, OFFSET_DELETE = 42, 47

# First flexible version of each request (and response) we speak.
FLEXIBLE_FROM = {
    PRODUCE: 9, FETCH: 12, LIST_OFFSETS: 6, METADATA: 9, API_VERSIONS: 3, CREATE_TOPICS: 5,
    DELETE_TOPICS: 4, INIT_PRODUCER_ID: 2, OFFSET_FOR_LEADER_EPOCH: 4,
    DESCRIBE_CONFIGS: 4, CREATE_PARTITIONS: 2,
    OFFSET_COMMIT: 8, OFFSET_FETCH: 6, FIND_COORDINATOR: 3, JOIN_GROUP: 6, HEARTBEAT: 4,
    LEAVE_GROUP: 4, SYNC_GROUP: 4, DESCRIBE_GROUPS: 5, LIST_GROUPS: 3, DELETE_GROUPS: 2,
    OFFSET_DELETE: 99,
}
# Client quotas (DescribeClientQuotas, AlterClientQuotas) and SCRAM describe.
DESCRIBE_CLIENT_QUOTAS, ALTER_CLIENT_QUOTAS, DESCRIBE_USER_SCRAM_CREDENTIALS = 48, 49, 50
FLEXIBLE_FROM.update({DESCRIBE_CLIENT_QUOTAS: 1, ALTER_CLIENT_QUOTAS: 1,
                      DESCRIBE_USER_SCRAM_CREDENTIALS: 0})
# SASL (SaslHandshake is never flexible) and SCRAM credential changes.
SASL_HANDSHAKE, SASL_AUTHENTICATE, ALTER_USER_SCRAM_CREDENTIALS = 17, 36, 51
FLEXIBLE_FROM.update({SASL_HANDSHAKE: 99, SASL_AUTHENTICATE: 2,
                      ALTER_USER_SCRAM_CREDENTIALS: 0})

# Error codes named in the tests.
NONE, OFFSET_OUT_OF_RANGE, CORRUPT_MESSAGE, UNKNOWN_TOPIC_OR_PARTITION = 0, 1, 2, 3
TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REQUEST = 36, 37, 42
FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH = 74, 75
TRANSACTIONAL_ID_AUTHORIZATION_FAILED, INVALID_TOPIC_EXCEPTION = 53, 17

INT32_MAX = 2**31 - 1
CLIENT_ID = b"kwire"


def flexible(api_key, version):
    return version >= FLEXIBLE_FROM[api_key]


# ---- primitives ----

def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def varint(n):
    """Zig-zag signed varint (32 or 64 bit: the encoding is the same)."""
    return uvarint((n << 1) ^ (n >> 63))


class Writer:
    """Appends fields in the classic or the flexible (compact) encoding."""

    def __init__(self, flex=False):
        self.b = bytearray()
        self.flex = flex

    def put(self, fmt, v):
        """One fixed-size field, struct format fmt."""
        self.b += struct.pack(fmt, v)
        return self

    def i8(self, v): return self.put(">b", v)
    def i16(self, v): return self.put(">h", v)
    def i32(self, v): return self.put(">i", v)
    def i64(self, v): return self.put(">q", v)
    def bool(self, v): return self.put(">?", v)

    def uuid(self, v=b"\x00" * 16):
        self.b += v
        return self

    def str(self, s):
        return self.bytes(None if s is None else s.encode() if isinstance(s, str) else s,
                          ">h")

    def bytes(self, v, classic_len=">i"):
        """BYTES / RECORDS (and, with classic_len ">h", STRING); None: null."""
        n = -1 if v is None else len(v)
        self.b += uvarint(n + 1) if self.flex else struct.pack(classic_len, n)
        self.b += v or b""
        return self

    def arr(self, n):
        """An array length; None writes a null array."""
        n = -1 if n is None else n
        self.b += uvarint(n + 1) if self.flex else struct.pack(">i", n)
        return self

    def tags(self):
        if self.flex:
            self.b += b"\x00"
        return self

    def topics(self, topics, partition):
        """The [(name, [partition entry])] array every partition-level
        request has; partition(entry) writes one entry's fields (tagged
        fields are added here)."""
        self.arr(len(topics))
        for name, parts in topics:
            self.str(name).arr(len(parts))
            for entry in parts:
                partition(entry)
                self.tags()
            self.tags()
        return self


class Reader:
    """Reads fields in the classic or the flexible encoding; raises on a
    truncated body."""

    def __init__(self, data, flex=False):
        self.d, self.pos, self.flex = data, 0, flex

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.pos)
        self.pos += struct.calcsize(fmt)
        return v[0]

    def i8(self): return self.take(">b")
    def i16(self): return self.take(">h")
    def i32(self): return self.take(">i")
    def i64(self): return self.take(">q")
    def bool(self): return self.take(">?")

    def raw(self, n):
        if n < 0 or self.pos + n > len(self.d):
            raise ValueError(f"truncated: {n} bytes at {self.pos} of {len(self.d)}")
        self.pos += n
        return self.d[self.pos - n:self.pos]

    def uuid(self):
        return self.raw(16)

    def uvarint(self):
        n = shift = 0
        while True:
            b = self.take(">B")
            n |= (b & 0x7F) << shift
            if b < 0x80:
                return n
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    def varint(self):
        u = self.uvarint()
        return (u >> 1) ^ -(u & 1)

    def varbytes(self):
        """A record's key, value or header part: varint length, -1 null."""
        n = self.varint()
        return None if n < 0 else self.raw(n)

    def str(self):
        v = self.bytes(">h")
        return None if v is None else v.decode()

    def bytes(self, classic_len=">i"):
        n = self.uvarint() - 1 if self.flex else self.take(classic_len)
        return None if n < 0 else self.raw(n)

    def arr(self):
        return self.uvarint() - 1 if self.flex else self.i32()

    def tags(self):
        if self.flex:
            for _ in range(self.uvarint()):
                self.uvarint()
                self.raw(self.uvarint())

    def done(self):
        return self.pos == len(self.d)

    def end(self, what):
        """Raises unless the whole body was read."""
        if not self.done():
            raise ValueError(f"{len(self.d) - self.pos} bytes after the {what} response")


# ---- framing and round trips ----

def request(api_key, version, correlation, body, client_id=CLIENT_ID):
    """A size-prefixed request frame: header v1, or v2 for flexible versions."""
    hdr = struct.pack(">hhih", api_key, version, correlation, len(client_id)) + client_id
    if flexible(api_key, version):
        hdr += b"\x00"
    payload = hdr + bytes(body)
    return struct.pack(">i", len(payload)) + payload


def connect(target, timeout=30, source=None):
    """A blocking TCP connection (TCP_NODELAY) to target: a "host:port"
    bootstrap or a broker object with one. source: a local address to bind
    (e.g. "127.0.0.2", to come from another loopback address)."""
    host, port = getattr(target, "bootstrap", target).rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if source:
        s.bind((source, 0))
    s.settimeout(timeout)
    s.connect((host, int(port)))
    return s


def response(api_key, version, data):
    """Reader over a response's body, given the bytes after its correlation
    id: flexible responses carry header v1 (tagged fields); ApiVersions
    always answers with header v0."""
    r = Reader(data, flexible(api_key, version))
    if api_key != API_VERSIONS:
        r.tags()
    return r


def recv_response(sock, api_key, version):
    """(correlation id, Reader over the body after the response header)."""
    corr, data = read_frame(sock)
    return corr, response(api_key, version, data)


def call(target, api_key, version, body, timeout=10.0, sock=None, correlation=7):
    """One request on a new (or the given) connection; a Reader over the
    response body. Raises when the broker closes the connection instead."""
    own = sock is None
    s = connect(target, timeout) if own else sock
    try:
        s.sendall(request(api_key, version, correlation, body))
        corr, r = recv_response(s, api_key, version)
        if corr != correlation:
            raise ValueError(f"correlation {corr} != {correlation}")
        return r
    finally:
        if own:
            s.close()


def roundtrip(broker, api_key, version, body, timeout=60):
    """Send one request on a new connection and return a Reader over its
    response body, or None when the broker closed the connection."""
    with connect(broker, timeout) as s:
        try:
            return call(broker, api_key, version, body, sock=s, correlation=77)
        except (ConnectionError, OSError):
            return None


# ---- RecordBatch v2: krecords.py (built on the Reader above), re-exported ----

from krecords import (  # noqa: E402,F401
    COMPRESSION, batch, batch_count, crc32c, gzip_bomb, parse_batches, record, record_batch,
    zstd_bomb,
)


# ---- requests ----

def create_topics_body(version, topics, validate_only=False):
    """topics: [(name, partitions)]; replication factor 1."""
    w = Writer(flexible(CREATE_TOPICS, version))
    w.arr(len(topics))
    for name, parts in topics:
        w.str(name).i32(parts).i16(1).arr(0).arr(0).tags()
    w.i32(30000).bool(validate_only).tags()
    return w.b


def parse_create_topics(version, r, with_configs=False):
    """[(name, error, message)] in response order, or with the config
    count (v5+, -1: null) as a fourth element."""
    if version >= 2:
        r.i32()                             # throttle
    out = []
    for _ in range(r.arr()):
        name = r.str()
        if version >= 7:
            r.uuid()
        err = r.i16()
        msg = r.str() if version >= 1 else None
        n = None
        if version >= 5:
            r.i32()                         # partitions
            r.i16()                         # replication factor
            n = r.arr()
            for _ in range(max(n, 0)):
                r.str(), r.str(), r.bool(), r.i8(), r.bool()
                r.tags()
        r.tags()
        out.append((name, err, msg, n) if with_configs else (name, err, msg))
    return out


def create_topics(broker, topics, version=4, validate_only=False, timeout=60):
    """[(name, error, message)]; raises if the broker closes the connection."""
    r = call(broker, CREATE_TOPICS, version,
             create_topics_body(version, topics, validate_only), timeout=timeout)
    return parse_create_topics(version, r)


def make_topics(broker, prefix, count, parts):
    """Create count topics of parts partitions each; returns their names."""
    import uuid
    tag = uuid.uuid4().hex[:8]
    names = [f"cf-{prefix}-{tag}-{i}" for i in range(count)]
    got = create_topics(broker, [(n, parts) for n in names])
    assert [(n, e) for n, e, _ in got] == [(n, 0) for n in names], got
    wait_for_leaders(broker, names)
    return names


def metadata_body(version, names, allow_auto=False):
    w = Writer(flexible(METADATA, version))
    if names is None:
        w.arr(None)
    else:
        w.arr(len(names))
        for n in names:
            if version >= 10:
                w.uuid()
            w.str(n).tags()
    if version >= 4:
        w.bool(allow_auto)
    if 8 <= version <= 10:
        w.bool(False)
    if version >= 8:
        w.bool(False)
    w.tags()
    return w.b


def parse_metadata(version, r):
    """A Metadata response body (after the header) as {name: (error,
    internal, {partition: leader_epoch}, topic id (v10+))}, in answer order."""
    r.i32()
    for _ in range(r.arr()):
        r.i32(), r.str(), r.i32(), r.str()
        r.tags()
    r.str()
    r.i32()
    out = {}
    for _ in range(r.arr()):
        err, name = r.i16(), r.str()
        tid = r.uuid() if version >= 10 else None
        internal = r.bool()
        parts = {}
        for _ in range(r.arr()):
            _perr, index, _leader, epoch = r.i16(), r.i32(), r.i32(), r.i32()
            for _ in range(3):
                n = r.arr()
                r.pos += 4 * max(n, 0)
            r.tags()
            parts[index] = epoch
        r.i32()                             # authorized operations (v8+)
        r.tags()
        out[name] = (err, internal, parts, tid)
    return out


def metadata(broker, names, allow_auto=False, version=9):
    """{name: (error, internal, {partition: leader_epoch}, topic id (v10+))}."""
    r = roundtrip(broker, METADATA, version, metadata_body(version, names, allow_auto))
    return parse_metadata(version, r)


def wait_for_leaders(broker, names, timeout=30):
    """Kafka answers CreateTopics before every partition has its leader:
    wait until Metadata lists them all and ListOffsets answers on each."""
    deadline = time.monotonic() + timeout
    while True:
        got = metadata(broker, names)
        if all(n in got and got[n][0] == 0 and len(got[n][2]) > 0 for n in names):
            topics = [(n, [(i, -1, -1) for i in got[n][2]]) for n in names]
            r = roundtrip(broker, LIST_OFFSETS, 7, list_offsets_body(7, topics))
            if all(p[2] == 0 for p in parse_list_offsets(7, r)):
                return got
        assert time.monotonic() < deadline, got
        time.sleep(0.2)


def init_producer_id(broker, version=4, timeout=20):
    """An idempotent producer id and epoch. Kafka answers a retriable error
    until its first block of ids is allocated: retry for a while."""
    deadline = time.monotonic() + timeout
    while True:
        w = Writer(flexible(INIT_PRODUCER_ID, version))
        w.str(None).i32(60000)
        if version >= 3:
            w.i64(-1).i16(-1)
        w.tags()
        r = roundtrip(broker, INIT_PRODUCER_ID, version, w.b)
        r.i32()
        err, pid, epoch = r.i16(), r.i64(), r.i16()
        if err == 0:
            return pid, epoch
        assert time.monotonic() < deadline, err
        time.sleep(0.2)


def produce_body(version, topics, acks=1, transactional_id=None, timeout_ms=30000):
    """topics: [(name, [(partition, records bytes or None)])]."""
    w = Writer(flexible(PRODUCE, version))
    w.str(transactional_id).i16(acks).i32(timeout_ms)
    w.topics(topics, lambda p: w.i32(p[0]).bytes(p[1]))
    w.tags()
    return w.b


def parse_produce(version, r):
    """[(topic, partition, error, base_offset, error_message)] in order."""
    out = []
    for _ in range(r.arr()):
        name = r.str()
        for _ in range(r.arr()):
            index, err, base = r.i32(), r.i16(), r.i64()
            r.i64()                         # log append time
            if version >= 5:
                r.i64()
            msg = None
            if version >= 8:
                for _ in range(r.arr()):
                    r.i32(), r.str()
                    r.tags()
                msg = r.str()
            r.tags()
            out.append((name, index, err, base, msg))
        r.tags()
    r.i32()                                 # throttle
    r.tags()
    return out


def fetch_body(version, topics, max_bytes=1 << 20, isolation=0, max_wait_ms=0,
               min_bytes=0):
    """topics: [(name, [(partition, offset, partition_max_bytes)])]."""
    w = Writer(flexible(FETCH, version))
    w.i32(-1).i32(max_wait_ms).i32(min_bytes).i32(max_bytes).i8(isolation)
    if version >= 7:
        w.i32(0).i32(-1)                    # no session

    def partition(p):
        index, offset, pmax = p
        w.i32(index)
        if version >= 9:
            w.i32(-1)                       # current leader epoch
        w.i64(offset)
        if version >= 12:
            w.i32(-1)                       # last fetched epoch
        if version >= 5:
            w.i64(-1)                       # log start offset
        w.i32(pmax)
    w.topics(topics, partition)
    if version >= 7:
        w.arr(0)
    if version >= 11:
        w.str("")
    w.tags()
    return w.b


def parse_fetch_topics(version, r):
    """(top error, [(topic, [(partition, error, high watermark, records)])]):
    the response's topic entries as sent."""
    r.i32()                                 # throttle
    top = 0
    if version >= 7:
        top = r.i16()
        r.i32()
    out = []
    for _ in range(r.arr()):
        name, parts = r.str(), []
        for _ in range(r.arr()):
            index, err, hw = r.i32(), r.i16(), r.i64()
            r.i64()
            if version >= 5:
                r.i64()
            for _ in range(max(r.arr(), 0)):
                r.i64(), r.i64()
                r.tags()
            if version >= 11:
                r.i32()
            records = r.bytes()
            r.tags()
            parts.append((index, err, hw, records))
        r.tags()
        out.append((name, parts))
    r.tags()
    r.end("Fetch")
    return top, out


def parse_fetch(version, r):
    """(top error, [(topic, partition, error, high watermark, records)])."""
    top, topics = parse_fetch_topics(version, r)
    return top, [(name, *part) for name, parts in topics for part in parts]


def list_offsets_body(version, topics, isolation=0):
    """topics: [(name, [(partition, timestamp, current_leader_epoch)])]."""
    w = Writer(flexible(LIST_OFFSETS, version))
    w.i32(-1)
    if version >= 2:
        w.i8(isolation)

    def partition(p):
        index, ts, epoch = p
        w.i32(index)
        if version >= 4:
            w.i32(epoch)
        w.i64(ts)
    w.topics(topics, partition)
    w.tags()
    return w.b


def parse_list_offsets(version, r):
    """[(topic, partition, error, timestamp, offset, leader_epoch)]."""
    if version >= 2:
        r.i32()
    out = []
    for _ in range(r.arr()):
        name = r.str()
        for _ in range(r.arr()):
            index, err, ts, off = r.i32(), r.i16(), r.i64(), r.i64()
            epoch = r.i32() if version >= 4 else None
            r.tags()
            out.append((name, index, err, ts, off, epoch))
        r.tags()
    r.tags()
    r.end("ListOffsets")
    return out


def offset_for_leader_epoch_body(version, topics):
    """topics: [(name, [(partition, current_leader_epoch, leader_epoch)])]."""
    w = Writer(flexible(OFFSET_FOR_LEADER_EPOCH, version))
    if version >= 3:
        w.i32(-1)
    w.topics(topics, lambda p: w.i32(p[0]).i32(p[1]).i32(p[2]))
    w.tags()
    return w.b


def parse_offset_for_leader_epoch(version, r):
    """[(topic, partition, error, leader_epoch, end_offset)]."""
    r.i32()
    out = []
    for _ in range(r.arr()):
        name = r.str()
        for _ in range(r.arr()):
            err, index, epoch, end = r.i16(), r.i32(), r.i32(), r.i64()
            r.tags()
            out.append((name, index, err, epoch, end))
        r.tags()
    r.tags()
    return out


def describe_configs_body(version, resources, synonyms=False, docs=False):
    """resources: [(type, name)]; all keys."""
    w = Writer(flexible(DESCRIBE_CONFIGS, version))
    w.arr(len(resources))
    for rtype, name in resources:
        w.i8(rtype).str(name).arr(None).tags()
    w.bool(synonyms)
    if version >= 3:
        w.bool(docs)
    w.tags()
    return w.b


def parse_describe_configs_values(version, r):
    """[(type, name, error, message, config count, {config: value})] in
    response order (config count -1: a null array)."""
    r.i32()
    out = []
    for _ in range(r.arr()):
        err, msg, rtype, name = r.i16(), r.str(), r.i8(), r.str()
        n, values = r.arr(), {}
        for _ in range(max(n, 0)):
            key, value = r.str(), r.str()
            r.bool()
            if version == 0:
                r.bool()
            else:
                r.i8()
            r.bool()
            if version >= 1:
                for _ in range(r.arr()):
                    r.str(), r.str(), r.i8()
                    r.tags()
            if version >= 3:
                r.i8(), r.str()
            r.tags()
            values[key] = value
        r.tags()
        out.append((rtype, name, err, msg, n, values))
    r.tags()
    return out


def parse_describe_configs(version, r):
    """[(type, name, error, message, config count)] in response order."""
    return [res[:5] for res in parse_describe_configs_values(version, r)]


def delete_topics_body(version, names):
    """names: topic names, or (v6) (name or None, 16-byte id) pairs."""
    w = Writer(flexible(DELETE_TOPICS, version))
    w.arr(len(names))
    for n in names:
        if version >= 6:
            name, tid = n if isinstance(n, tuple) else (n, b"\x00" * 16)
            w.str(name).uuid(tid).tags()
        else:
            w.str(n)
    w.i32(30000).tags()
    return w.b


def parse_delete_topics(version, r, with_ids=False):
    """[(name, error, message)], or [(name, id, error, message)]."""
    r.i32()
    out = []
    for _ in range(r.arr()):
        name = r.str()
        tid = r.uuid() if version >= 6 else None
        err = r.i16()
        msg = r.str() if version >= 5 else None
        r.tags()
        out.append((name, tid, err, msg) if with_ids else (name, err, msg))
    r.tags()
    return out


def create_partitions_body(version, topics, validate_only=False):
    """topics: [(name, new total count)]."""
    w = Writer(flexible(CREATE_PARTITIONS, version))
    w.arr(len(topics))
    for name, count in topics:
        w.str(name).i32(count).arr(None).tags()
    w.i32(30000).bool(validate_only).tags()
    return w.b


def parse_create_partitions(version, r):
    """[(name, error, message)]."""
    r.i32()
    out = []
    for _ in range(r.arr()):
        name, err, msg = r.str(), r.i16(), r.str()
        r.tags()
        out.append((name, err, msg))
    r.tags()
    return out


# ---- AlterConfigs / IncrementalAlterConfigs ----

ALTER_CONFIGS, INCREMENTAL_ALTER_CONFIGS = 33, 44
FLEXIBLE_FROM.update({ALTER_CONFIGS: 2, INCREMENTAL_ALTER_CONFIGS: 1})
RESOURCE_TOPIC, RESOURCE_BROKER, RESOURCE_BROKER_LOGGER = 2, 4, 8
OP_SET, OP_DELETE, OP_APPEND, OP_SUBTRACT = 0, 1, 2, 3


def alter_configs_body(version, resources, validate_only=False):
    """resources: [(type, name, [(key, value or None)])]."""
    w = Writer(flexible(ALTER_CONFIGS, version))
    w.arr(len(resources))
    for rtype, name, configs in resources:
        w.i8(rtype).str(name).arr(len(configs))
        for key, value in configs:
            w.str(key).str(value).tags()
        w.tags()
    w.bool(validate_only).tags()
    return w.b


def incremental_alter_configs_body(version, resources, validate_only=False):
    """resources: [(type, name, [(key, op, value or None)])]."""
    w = Writer(flexible(INCREMENTAL_ALTER_CONFIGS, version))
    w.arr(len(resources))
    for rtype, name, configs in resources:
        w.i8(rtype).str(name).arr(len(configs))
        for key, op, value in configs:
            w.str(key).i8(op).str(value).tags()
        w.tags()
    w.bool(validate_only).tags()
    return w.b


def parse_alter_configs(version, r):
    """[(error, message, type, name)] (both APIs answer alike)."""
    r.i32()
    out = []
    for _ in range(r.arr()):
        err, msg, rtype, name = r.i16(), r.str(), r.i8(), r.str()
        r.tags()
        out.append((err, msg, rtype, name))
    r.tags()
    return out


def alter_configs(broker, resources, version=1, validate_only=False):
    r = roundtrip(broker, ALTER_CONFIGS, version,
                  alter_configs_body(version, resources, validate_only))
    return parse_alter_configs(version, r)


def incremental_alter_configs(broker, resources, version=1, validate_only=False):
    r = roundtrip(broker, INCREMENTAL_ALTER_CONFIGS, version,
                  incremental_alter_configs_body(version, resources, validate_only))
    return parse_alter_configs(version, r)
