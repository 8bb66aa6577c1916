# SPDX-License-Identifier: Apache-2.0
"""Raw Kafka frames for tests that must say exactly what goes on the wire:
request encoders for the handful of APIs the hostile suite replays, response
decoders, RecordBatch v2 (CRC-32C, varints, compression bombs) and a small
blocking connection. Written from the protocol spec (JSON schemas in
kafka-protocol/); nothing here knows Spillway. Versions below each API's
first flexible version use the classic encodings; flexible ones are noted."""
import os
import socket
import struct
import zlib

from sockio import eof, read_frame, recv_exact  # noqa: F401  (re-exported)

# API keys
PRODUCE, FETCH, LIST_OFFSETS, METADATA = 0, 1, 2, 3
API_VERSIONS, CREATE_TOPICS, DELETE_TOPICS, DESCRIBE_CONFIGS = 18, 19, 20, 32

# First flexible version of each API (request header v2, response header v1).
FLEXIBLE = {PRODUCE: 9, FETCH: 12, LIST_OFFSETS: 6, METADATA: 9, API_VERSIONS: 3,
            CREATE_TOPICS: 5, DELETE_TOPICS: 4, DESCRIBE_CONFIGS: 4}

INT32_MAX = 2**31 - 1
CLIENT_ID = b"hostile"


# -- primitives ---------------------------------------------------------------

def i8(v): return struct.pack(">b", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)


def string(s):
    """STRING / NULLABLE_STRING (None -> -1)."""
    if s is None:
        return i16(-1)
    b = s.encode() if isinstance(s, str) else s
    return i16(len(b)) + b


def nbytes(b):
    """BYTES / NULLABLE_BYTES / RECORDS (None -> -1)."""
    return i32(-1) if b is None else i32(len(b)) + b


def array(items, enc=lambda x: x):
    """ARRAY of encoded items (None -> null array)."""
    if items is None:
        return i32(-1)
    items = list(items)
    return i32(len(items)) + b"".join(enc(x) for x in items)


def uvarint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def varint(v):
    """Zig-zag signed varint (32 or 64 bit: the encoding is the same)."""
    return uvarint((v << 1) ^ (v >> 63))


def compact_string(s):
    if s is None:
        return uvarint(0)
    b = s.encode() if isinstance(s, str) else s
    return uvarint(len(b) + 1) + b


def compact_array(items, enc=lambda x: x):
    if items is None:
        return uvarint(0)
    items = list(items)
    return uvarint(len(items) + 1) + b"".join(enc(x) for x in items)


TAGS = b"\x00"      # an empty tagged-field section


# -- frames -------------------------------------------------------------------

def request(api_key, version, correlation, body, client_id=CLIENT_ID):
    """A size-prefixed request frame: header v1, or v2 for flexible versions."""
    hdr = struct.pack(">hhi", api_key, version, correlation) + string(client_id)
    if version >= FLEXIBLE.get(api_key, 1 << 15):
        hdr += TAGS
    payload = hdr + body
    return i32(len(payload)) + payload


def response_body(api_key, version, data):
    """Strips the response header (v1 carries tagged fields) after the
    correlation id; ApiVersions always answers with header v0."""
    if api_key != API_VERSIONS and version >= FLEXIBLE.get(api_key, 1 << 15):
        r = Reader(data)
        r.tags()
        return data[r.pos:]
    return data


class Reader:
    """Bounded cursor over a response body; raises on truncation."""

    def __init__(self, data, pos=0):
        self.data, self.pos = data, pos

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return v if len(v) > 1 else v[0]

    def i8(self): return self.take(">b")
    def i16(self): return self.take(">h")
    def i32(self): return self.take(">i")
    def i64(self): return self.take(">q")

    def raw(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(f"truncated: {n} bytes at {self.pos} of {len(self.data)}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def string(self):
        n = self.i16()
        return None if n < 0 else self.raw(n).decode()

    def nbytes(self):
        n = self.i32()
        return None if n < 0 else self.raw(n)

    def uvarint(self):
        shift = v = 0
        while True:
            b = self.take(">B")
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    def compact_string(self):
        n = self.uvarint()
        return None if n == 0 else self.raw(n - 1).decode()

    def compact_bytes(self):
        n = self.uvarint()
        return None if n == 0 else self.raw(n - 1)

    def array_len(self, flexible):
        if flexible:
            n = self.uvarint()
            return -1 if n == 0 else n - 1
        return self.i32()

    def str_(self, flexible):
        return self.compact_string() if flexible else self.string()

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.raw(self.uvarint())

    def done(self):
        return self.pos == len(self.data)


# -- connection ---------------------------------------------------------------

def parse_bootstrap(bootstrap):
    host, port = bootstrap.rsplit(":", 1)
    return host, int(port)


def connect(bootstrap, timeout=10.0, source=None):
    """A blocking TCP connection to the broker; source: a local address to
    bind (e.g. "127.0.0.2", to come from another loopback address)."""
    host, port = parse_bootstrap(bootstrap)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if source:
        s.bind((source, 0))
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def call(bootstrap, api_key, version, body, timeout=10.0, sock=None, correlation=7):
    """One request on a new (or the given) connection; the response body."""
    own = sock is None
    s = connect(bootstrap, timeout) if own else sock
    try:
        s.sendall(request(api_key, version, correlation, body))
        corr, data = read_frame(s)
        if corr != correlation:
            raise ValueError(f"correlation {corr} != {correlation}")
        return response_body(api_key, version, data)
    finally:
        if own:
            s.close()


# -- request bodies -----------------------------------------------------------

def api_versions_v0():
    return b""


def metadata_v1(topics=None):
    """Metadata v1; topics None asks for every topic."""
    return array(None if topics is None else [string(t) for t in topics])


def create_topics_v4(names, partitions=1, timeout_ms=30000, validate_only=False):
    def one(n):
        return string(n) + i32(partitions) + i16(1) + i32(0) + i32(0)
    return array(names, one) + i32(timeout_ms) + struct.pack(">?", validate_only)


def delete_topics_v1(names, timeout_ms=30000):
    return array(names, string) + i32(timeout_ms)


def describe_configs_v1(resources, synonyms=False):
    """resources: [(type, name, config_names or None)] (type 2 topic, 4 broker)."""
    def one(r):
        rtype, name, keys = r
        return i8(rtype) + string(name) + array(None if keys is None else
                                                [string(k) for k in keys])
    return array(resources, one) + struct.pack(">?", synonyms)


def fetch(version, topics, max_wait_ms=500, min_bytes=1, max_bytes=52428800,
          isolation=0):
    """Fetch v4..v11 (topics by name, non-flexible). topics: [(name,
    [(partition, fetch_offset, partition_max_bytes)])]."""
    assert 4 <= version <= 11, version
    body = i32(-1) + i32(max_wait_ms) + i32(min_bytes) + i32(max_bytes) + i8(isolation)
    if version >= 7:
        body += i32(0) + i32(-1)                    # no fetch session
    def part(p):
        idx, offset, pmax = p
        out = i32(idx)
        if version >= 9:
            out += i32(-1)                          # current leader epoch
        out += i64(offset)
        if version >= 5:
            out += i64(-1)                          # log start offset (consumer)
        return out + i32(pmax)
    body += array(topics, lambda t: string(t[0]) + array(t[1], part))
    if version >= 7:
        body += array([])                           # forgotten topics
    if version >= 11:
        body += string("")                          # rack id
    return body


def produce(version, topics, acks=1, timeout_ms=30000):
    """Produce v3..v8 (non-flexible). topics: [(name, [(partition, records)])]."""
    assert 3 <= version <= 8, version
    return (string(None) + i16(acks) + i32(timeout_ms) +
            array(topics, lambda t: string(t[0]) +
                  array(t[1], lambda p: i32(p[0]) + nbytes(p[1]))))


def list_offsets(version, topics, isolation=0):
    """ListOffsets v1..v7. topics: [(name, [(partition, timestamp)])]."""
    assert 1 <= version <= 7, version
    flex = version >= 6
    arr = compact_array if flex else array
    st = compact_string if flex else string

    def part(p):
        out = i32(p[0])
        if version >= 4:
            out += i32(-1)                          # current leader epoch
        out += i64(p[1])
        return out + (TAGS if flex else b"")
    body = i32(-1)
    if version >= 2:
        body += i8(isolation)
    body += arr(topics, lambda t: st(t[0]) + arr(t[1], part) + (TAGS if flex else b""))
    return body + (TAGS if flex else b"")


# -- response decoders --------------------------------------------------------

def parse_fetch(version, data):
    """Fetch v4..v11 -> {"error", "topics": [(name, [{"partition", "error",
    "hw", "records": bytes|None}])]}."""
    r = Reader(data)
    r.i32()                                         # throttle
    out = {"error": 0, "topics": []}
    if version >= 7:
        out["error"] = r.i16()
        r.i32()                                     # session id
    for _ in range(r.i32()):
        name, parts = r.string(), []
        for _ in range(r.i32()):
            p = {"partition": r.i32(), "error": r.i16(), "hw": r.i64()}
            r.i64()                                 # last stable offset
            if version >= 5:
                r.i64()                             # log start offset
            n = r.i32()
            for _ in range(max(n, 0)):
                r.i64(), r.i64()                    # aborted: producer id, first offset
            if version >= 11:
                r.i32()                             # preferred read replica
            p["records"] = r.nbytes()
            parts.append(p)
        out["topics"].append((name, parts))
    if not r.done():
        raise ValueError(f"{len(data) - r.pos} bytes after the Fetch response")
    return out


def parse_produce(version, data):
    """Produce v3..v8 -> [(topic, partition, error, base_offset, message)]."""
    r = Reader(data)
    out = []
    for _ in range(r.i32()):
        name = r.string()
        for _ in range(r.i32()):
            idx, err, base = r.i32(), r.i16(), r.i64()
            r.i64()                                 # log append time
            if version >= 5:
                r.i64()                             # log start offset
            msg = None
            if version >= 8:
                for _ in range(r.i32()):
                    r.i32(), r.string()             # record errors
                msg = r.string()
            out.append((name, idx, err, base, msg))
    r.i32()                                         # throttle
    return out


def parse_list_offsets(version, data):
    """ListOffsets v1..v7 -> [(topic, partition, error, timestamp, offset)];
    raises on a truncated or over-long body."""
    flex = version >= 6
    r = Reader(data)
    if version >= 2:
        r.i32()                                     # throttle
    out = []
    for _ in range(r.array_len(flex)):
        name = r.str_(flex)
        for _ in range(r.array_len(flex)):
            idx, err, ts, off = r.i32(), r.i16(), r.i64(), r.i64()
            if version >= 4:
                r.i32()                             # leader epoch
            if flex:
                r.tags()
            out.append((name, idx, err, ts, off))
        if flex:
            r.tags()
    if flex:
        r.tags()
    if not r.done():
        raise ValueError(f"{len(data) - r.pos} bytes after the ListOffsets response")
    return out


def parse_create_topics_v4(data):
    r = Reader(data)
    r.i32()                                         # throttle
    out = {}
    for _ in range(r.i32()):
        name, err, _msg = r.string(), r.i16(), r.string()
        out[name] = err
    return out


# -- record batches -----------------------------------------------------------

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def crc32c(data, crc=0):
    """CRC-32C (Castagnoli), as RecordBatch v2 uses it. Pure Python: about
    2 MB/s, so callers CRC a payload once and reuse the batch."""
    crc ^= 0xFFFFFFFF
    t = _CRC32C
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def record(value, key=None, offset_delta=0, timestamp_delta=0):
    """One Record (v2): length-prefixed, no headers."""
    body = (i8(0) + varint(timestamp_delta) + varint(offset_delta) +
            (varint(-1) if key is None else varint(len(key)) + key) +
            (varint(-1) if value is None else varint(len(value)) + value) +
            varint(0))
    return varint(len(body)) + body


def record_header(value_len, offset_delta=0, key=None):
    """The bytes of a record up to its value, for a value_len-byte value that
    the caller streams after it (followed by record_trailer())."""
    k = varint(-1) if key is None else varint(len(key)) + key
    rest = i8(0) + varint(0) + varint(offset_delta) + k + varint(value_len)
    return varint(len(rest) + value_len + 1) + rest


def record_trailer():
    return varint(0)                                # no headers


COMPRESSION = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def batch(payload, record_count, compression="none", base_timestamp=0,
          producer_id=-1, producer_epoch=-1, base_sequence=-1, max_timestamp=None):
    """A RecordBatch v2 around payload (the records, already compressed
    when compression is not "none")."""
    attrs = COMPRESSION[compression]
    max_ts = base_timestamp if max_timestamp is None else max_timestamp
    after_crc = (i16(attrs) + i32(record_count - 1) + i64(base_timestamp) +
                 i64(max_ts) + i64(producer_id) + i16(producer_epoch) +
                 i32(base_sequence) + i32(record_count) + payload)
    crc = crc32c(after_crc)
    tail = i32(-1) + i8(2) + struct.pack(">I", crc) + after_crc
    return i64(0) + i32(len(tail)) + tail


def plain_batch(values, base_timestamp=0, step_ms=0):
    """An uncompressed batch of values; record i has timestamp
    base_timestamp + i * step_ms."""
    recs = b"".join(record(v, offset_delta=i, timestamp_delta=i * step_ms)
                    for i, v in enumerate(values))
    return batch(recs, len(values), "none", base_timestamp,
                 max_timestamp=base_timestamp + (len(values) - 1) * step_ms)


def zero_records(count, value_len, key_len=0):
    """Yields the uncompressed records of a bomb: count records whose values
    are value_len zero bytes (keys: key_len random bytes, which sets the
    compression ratio), in chunks of at most 1 MiB."""
    zeros = bytes(min(value_len, 1 << 20))
    for i in range(count):
        yield record_header(value_len, i, os.urandom(key_len) if key_len else None)
        left = value_len
        while left:
            n = min(left, len(zeros))
            yield zeros if n == len(zeros) else zeros[:n]
            left -= n
        yield record_trailer()


def gzip_bomb(count, value_len, level=9):
    """A gzip RecordBatch whose records decompress to count * value_len zero
    bytes (deflate tops out near 1:1032)."""
    z = zlib.compressobj(level, zlib.DEFLATED, 31)
    out = [z.compress(chunk) for chunk in zero_records(count, value_len)]
    out.append(z.flush())
    return batch(b"".join(out), count, "gzip")


def zstd_bomb(count, value_len, key_len=0, level=3):
    """A zstd RecordBatch (one frame) whose records decompress to about
    count * value_len zero bytes. zstd squeezes zeros far beyond deflate's
    1:1032; key_len random bytes per record bring the ratio down to a chosen
    level. Needs python3-zstandard."""
    import zstandard
    c = zstandard.ZstdCompressor(level=level).compressobj()
    out = [c.compress(chunk) for chunk in zero_records(count, value_len, key_len)]
    out.append(c.flush())
    return batch(b"".join(out), count, "zstd")
