# SPDX-License-Identifier: Apache-2.0
"""RecordBatch v2 for the raw-frame tests (kwire.py re-exports it): CRC-32C,
records, plain batches and compression bombs to produce, and a decoder for
the uncompressed batches a Fetch answers. Written from the protocol spec."""
import os
import struct
import time
import zlib

from kwire import Reader, varint


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


def _nullable(b):
    return varint(-1) if b is None else varint(len(b)) + b


def record(value, key=None, offset_delta=0, timestamp_delta=0):
    """One Record (v2): length-prefixed, no headers."""
    body = (b"\x00" + varint(timestamp_delta) + varint(offset_delta) + _nullable(key) +
            _nullable(value) + varint(0))
    return varint(len(body)) + body


def record_header(value_len, offset_delta=0, key=None):
    """The bytes of a record up to its value, for a value_len-byte value that
    the caller streams after it (followed by record_trailer())."""
    rest = b"\x00" + varint(0) + varint(offset_delta) + _nullable(key) + varint(value_len)
    return varint(len(rest) + value_len + 1) + rest


def record_trailer():
    return varint(0)                                # no headers


COMPRESSION = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
TRANSACTIONAL = 0x10


def batch(payload, record_count, compression="none", base_timestamp=0,
          producer_id=-1, producer_epoch=-1, base_sequence=-1, max_timestamp=None,
          transactional=False):
    """A RecordBatch v2 around payload (the records, already compressed
    when compression is not "none")."""
    attrs = COMPRESSION[compression] | (TRANSACTIONAL if transactional else 0)
    max_ts = base_timestamp if max_timestamp is None else max_timestamp
    after_crc = struct.pack(">hiqqqhii", attrs, record_count - 1, base_timestamp, max_ts,
                            producer_id, producer_epoch, base_sequence,
                            record_count) + payload
    tail = struct.pack(">ibI", -1, 2, crc32c(after_crc)) + after_crc  # leader epoch, magic
    return struct.pack(">qi", 0, len(tail)) + tail


def record_batch(values, timestamp_ms=None, step_ms=0, **producer):
    """An uncompressed batch of values; record i has timestamp timestamp_ms
    (default: now) + i * step_ms. producer: producer_id, producer_epoch,
    base_sequence, transactional (see batch())."""
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    recs = b"".join(record(v, offset_delta=i, timestamp_delta=i * step_ms)
                    for i, v in enumerate(values))
    return batch(recs, len(values), "none", ts,
                 max_timestamp=ts + (len(values) - 1) * step_ms, **producer)


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


def _batches(records):
    """(position, length) of each whole batch in a Fetch response's records
    field; a partial batch at the end (Fetch may cut one) is left out."""
    pos = 0
    while records is not None and pos + 12 <= len(records):
        length = struct.unpack_from(">i", records, pos + 8)[0]
        if pos + 12 + length > len(records):
            return
        yield pos, length
        pos += 12 + length


def batch_count(records):
    """How many batches a Fetch response's records field holds (whole ones)."""
    return sum(1 for _ in _batches(records))


def parse_batches(records):
    """Uncompressed whole v2 batches -> [(offset, key, value)]."""
    out = []
    for pos, _length in _batches(records):
        r = Reader(records)
        r.pos = pos
        base = r.i64()
        r.raw(4 + 4)                                # length, leader epoch
        magic = r.i8()
        assert magic == 2, f"magic {magic} at {base}"
        r.raw(4)                                    # crc
        assert r.i16() & 7 == 0, "compressed batch"
        r.raw(4 + 8 + 8 + 8 + 2 + 4)                # up to the record count
        for _ in range(r.i32()):
            r.varint(), r.i8(), r.varint()          # length, attributes, timestamp delta
            delta = r.varint()
            key, val = r.varbytes(), r.varbytes()
            for _ in range(r.varint()):             # headers
                r.varbytes(), r.varbytes()
            out.append((base + delta, key, val))
    return out
