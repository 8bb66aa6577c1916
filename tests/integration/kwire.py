# SPDX-License-Identifier: Apache-2.0
"""Raw Kafka request builders and response parsers for the differential
tests (test_conformance_limits.py, test_control_fairness.py): both
encodings (classic and flexible), the handful of APIs those tests speak,
and RecordBatch v2 with its CRC-32C. Written from the protocol's JSON
schemas; each builder takes the version and picks the fields it has."""
import socket
import struct
import time

from sockio import recv_exact as read_exact

# API keys.
PRODUCE, FETCH, LIST_OFFSETS, METADATA = 0, 1, 2, 3
CREATE_TOPICS, DELETE_TOPICS, INIT_PRODUCER_ID = 19, 20, 22
OFFSET_FOR_LEADER_EPOCH, DESCRIBE_CONFIGS, CREATE_PARTITIONS = 23, 32, 37

# First flexible version of each request (and response) we speak.
FLEXIBLE_FROM = {
    PRODUCE: 9, FETCH: 12, LIST_OFFSETS: 6, METADATA: 9, CREATE_TOPICS: 5,
    DELETE_TOPICS: 4, INIT_PRODUCER_ID: 2, OFFSET_FOR_LEADER_EPOCH: 4,
    DESCRIBE_CONFIGS: 4, CREATE_PARTITIONS: 2,
}

# Error codes named in the tests.
NONE, OFFSET_OUT_OF_RANGE, CORRUPT_MESSAGE, UNKNOWN_TOPIC_OR_PARTITION = 0, 1, 2, 3
TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REQUEST = 36, 37, 42
FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH = 74, 75
TRANSACTIONAL_ID_AUTHORIZATION_FAILED, INVALID_TOPIC_EXCEPTION = 53, 17


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
    return uvarint((n << 1) ^ (n >> 63))


class Writer:
    """Appends fields in the classic or the flexible (compact) encoding."""

    def __init__(self, flex=False):
        self.b = bytearray()
        self.flex = flex

    def i8(self, v):
        self.b += struct.pack(">b", v)
        return self

    def i16(self, v):
        self.b += struct.pack(">h", v)
        return self

    def i32(self, v):
        self.b += struct.pack(">i", v)
        return self

    def i64(self, v):
        self.b += struct.pack(">q", v)
        return self

    def bool(self, v):
        self.b += struct.pack(">?", v)
        return self

    def uuid(self, v=b"\x00" * 16):
        self.b += v
        return self

    def str(self, s):
        if s is None:
            self.b += b"\x00" if self.flex else struct.pack(">h", -1)
            return self
        e = s.encode() if isinstance(s, str) else s
        self.b += uvarint(len(e) + 1) if self.flex else struct.pack(">h", len(e))
        self.b += e
        return self

    def bytes(self, v):
        if v is None:
            self.b += b"\x00" if self.flex else struct.pack(">i", -1)
            return self
        self.b += uvarint(len(v) + 1) if self.flex else struct.pack(">i", len(v))
        self.b += v
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


class Reader:
    """Reads fields in the classic or the flexible encoding."""

    def __init__(self, data, flex=False):
        self.d, self.pos, self.flex = data, 0, flex

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.pos)
        self.pos += struct.calcsize(fmt)
        return v[0]

    def i8(self):
        return self.take(">b")

    def i16(self):
        return self.take(">h")

    def i32(self):
        return self.take(">i")

    def i64(self):
        return self.take(">q")

    def bool(self):
        return self.take(">?")

    def uuid(self):
        self.pos += 16
        return self.d[self.pos - 16:self.pos]

    def uvarint(self):
        n = shift = 0
        while True:
            b = self.d[self.pos]
            self.pos += 1
            n |= (b & 0x7F) << shift
            if b < 0x80:
                return n
            shift += 7

    def str(self):
        n = self.uvarint() - 1 if self.flex else self.i16()
        if n < 0:
            return None
        v = self.d[self.pos:self.pos + n].decode()
        self.pos += n
        return v

    def bytes(self):
        n = self.uvarint() - 1 if self.flex else self.i32()
        if n < 0:
            return None
        v = self.d[self.pos:self.pos + n]
        self.pos += n
        return v

    def arr(self):
        return self.uvarint() - 1 if self.flex else self.i32()

    def tags(self):
        if self.flex:
            for _ in range(self.uvarint()):
                self.uvarint()
                size = self.uvarint()   # not "pos += uvarint()": that loses its advance
                self.pos += size

    def done(self):
        return self.pos == len(self.d)


# ---- framing and round trips ----

def request(api_key, version, correlation, body):
    client = b"conformance"
    hdr = struct.pack(">hhih", api_key, version, correlation, len(client)) + client
    if flexible(api_key, version):
        hdr += b"\x00"
    payload = hdr + bytes(body)
    return struct.pack(">i", len(payload)) + payload


def connect(broker, timeout=30):
    host, port = broker.bootstrap.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout)
    s.settimeout(timeout)
    return s


def recv_response(sock, api_key, version):
    """(correlation id, Reader over the body after the response header)."""
    size = struct.unpack(">i", read_exact(sock, 4))[0]
    data = read_exact(sock, size)
    r = Reader(data, flexible(api_key, version))
    corr = r.i32()
    r.tags()                                # response header v1
    return corr, r


def roundtrip(broker, api_key, version, body, timeout=60):
    """Send one request on a new connection and return a Reader over its
    response body, or None when the broker closed the connection."""
    with connect(broker, timeout) as s:
        s.sendall(request(api_key, version, 77, body))
        try:
            corr, r = recv_response(s, api_key, version)
        except (ConnectionError, OSError):
            return None
        assert corr == 77
        return r


def closed_without_answer(sock, timeout=10):
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


# ---- RecordBatch v2 ----

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def record_batch(values, producer_id=-1, producer_epoch=-1, base_sequence=-1,
                 transactional=False, timestamp_ms=None):
    """An uncompressed RecordBatch v2 holding one record per value."""
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    recs = bytearray()
    for i, v in enumerate(values):
        body = b"\x00" + varint(0) + varint(i) + varint(-1) + varint(len(v)) + v + varint(0)
        recs += varint(len(body)) + body
    attributes = 0x10 if transactional else 0
    after_crc = struct.pack(">hiqqqhii", attributes, len(values) - 1, ts, ts, producer_id,
                            producer_epoch, base_sequence, len(values)) + recs
    crc = crc32c(after_crc)
    after_length = struct.pack(">ibI", -1, 2, crc) + after_crc    # leader epoch, magic, crc
    return struct.pack(">qi", 0, len(after_length)) + after_length


def batch_count(records):
    """How many batches a Fetch response's records field holds (whole ones)."""
    n = pos = 0
    while records is not None and pos + 12 <= len(records):
        length = struct.unpack_from(">i", records, pos + 8)[0]
        if pos + 12 + length > len(records):
            break
        n += 1
        pos += 12 + length
    return n


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


def create_topics(broker, topics, version=4, validate_only=False):
    r = roundtrip(broker, CREATE_TOPICS, version,
                  create_topics_body(version, topics, validate_only))
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


def metadata(broker, names, allow_auto=False, version=9):
    """{name: (error, internal, {partition: leader_epoch}, topic id (v10+))}."""
    r = roundtrip(broker, METADATA, version, metadata_body(version, names, allow_auto))
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


def produce_body(version, topics, acks=1, transactional_id=None):
    """topics: [(name, [(partition, records bytes or None)])]."""
    w = Writer(flexible(PRODUCE, version))
    w.str(transactional_id).i16(acks).i32(30000)
    w.arr(len(topics))
    for name, parts in topics:
        w.str(name).arr(len(parts))
        for index, records in parts:
            w.i32(index).bytes(records).tags()
        w.tags()
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
    w.arr(len(topics))
    for name, parts in topics:
        w.str(name).arr(len(parts))
        for index, offset, pmax in parts:
            w.i32(index)
            if version >= 9:
                w.i32(-1)
            w.i64(offset)
            if version >= 12:
                w.i32(-1)
            if version >= 5:
                w.i64(-1)
            w.i32(pmax).tags()
        w.tags()
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
    w.arr(len(topics))
    for name, parts in topics:
        w.str(name).arr(len(parts))
        for index, ts, epoch in parts:
            w.i32(index)
            if version >= 4:
                w.i32(epoch)
            w.i64(ts).tags()
        w.tags()
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
    return out


def offset_for_leader_epoch_body(version, topics):
    """topics: [(name, [(partition, current_leader_epoch, leader_epoch)])]."""
    w = Writer(flexible(OFFSET_FOR_LEADER_EPOCH, version))
    if version >= 3:
        w.i32(-1)
    w.arr(len(topics))
    for name, parts in topics:
        w.str(name).arr(len(parts))
        for index, current, epoch in parts:
            w.i32(index).i32(current).i32(epoch).tags()
        w.tags()
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
