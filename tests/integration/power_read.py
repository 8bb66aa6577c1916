# SPDX-License-Identifier: Apache-2.0
"""The records of test_power_loss.py, and a reader of what a broker holds
after the power cut, run as its own process: a broker serving a broken log
can make librdkafka abort (an assert in rdbuf.c was seen), which must fail
the test, not kill pytest before its fixtures unmount the loop devices.

  power_read.py BOOTSTRAP PARTS STALL_S TOPIC...
      reads every partition group-less from offset 0 toward its end; stdout:
      {"ends": {"ti:p": log end}, "recs": {"ti:p": [[offset, key, ok]]},
       "stalls": {"ti:p": offset}} with key as text and ok whether the value
      is the one value_of(key) gives. A partition stalls when no record
      arrives for STALL_S while it is below its end (an unreadable range).
"""
import hashlib
import json
import struct
import sys
import time
import uuid
import zlib
from pathlib import Path

READ_S_MAX = 180
BATCH_HEADER = struct.Struct(">qiibIhiqqqhii")   # RecordBatch v2 up to recordsCount


def key_of(ti, part, seq):
    return b"%d:%d:%08d" % (ti, part, seq)


def value_of(key):
    """1..1500 bytes that only this key has."""
    n = 1 + zlib.crc32(key) % 1500
    d = hashlib.sha256(key).digest()
    return (d * (n // len(d) + 1))[:n]


def read(bootstrap, topics, parts, stall_s):
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"powerloss-{uuid.uuid4().hex}",
                  "enable.auto.commit": False, "enable.auto.offset.store": False})
    try:
        ends, tps = {}, []
        for ti, topic in enumerate(topics):
            for part in range(parts):
                lo, hi = c.get_watermark_offsets(TopicPartition(topic, part), timeout=15)
                if lo != 0:
                    raise SystemExit(f"{topic}-{part}: log start {lo} after recovery")
                ends[f"{ti}:{part}"] = hi
                tps.append(TopicPartition(topic, part, OFFSET_BEGINNING))
        recs = {tp: [] for tp in ends}
        index = {t: ti for ti, t in enumerate(topics)}
        todo = {tp for tp, hi in ends.items() if hi > 0}
        if todo:
            c.assign(tps)
        deadline, last_record = time.monotonic() + READ_S_MAX, time.monotonic()
        while todo and time.monotonic() < deadline and time.monotonic() - last_record < stall_s:
            for m in c.consume(1000, 0.5):
                if m.error() is not None:
                    raise SystemExit(f"consume: {m.error()}")
                last_record = time.monotonic()
                tp = f"{index[m.topic()]}:{m.partition()}"
                k = m.key()
                recs[tp].append([m.offset(), None if k is None else k.decode("latin-1"),
                                 k is not None and m.value() == value_of(k)])
                if m.offset() + 1 >= ends[tp]:
                    todo.discard(tp)
        if time.monotonic() >= deadline:
            raise SystemExit(f"partitions not read in {READ_S_MAX} s: {sorted(todo)}")
        stalls = {tp: recs[tp][-1][0] + 1 if recs[tp] else 0 for tp in todo}
        return {"ends": ends, "recs": recs, "stalls": stalls}
    finally:
        c.close()


def _varint(buf, pos):
    """Zigzag varint at pos: (value, next pos)."""
    shift = raw = 0
    while True:
        b = buf[pos]
        pos += 1
        raw |= (b & 0x7F) << shift
        if not b & 0x80:
            return (raw >> 1) ^ -(raw & 1), pos
        shift += 7


def _records(buf, pos, base, count):
    """(offset, key) of count uncompressed v2 records from pos."""
    for _ in range(count):
        length, pos = _varint(buf, pos)
        end = pos + length
        pos += 1                               # attributes
        _, pos = _varint(buf, pos)             # timestampDelta
        delta, pos = _varint(buf, pos)
        klen, pos = _varint(buf, pos)
        key = None if klen < 0 else bytes(buf[pos:pos + klen])
        pos += max(klen, 0)
        vlen, pos = _varint(buf, pos)
        value = None if vlen < 0 else bytes(buf[pos:pos + vlen])
        yield base + delta, key, value
        pos = end


def scan_partition_dir(path):
    """What a partition directory's segment files hold, read directly:
    ([(offset, key, value ok)], [(segment, "active"|"sealed", whole-batch
    bytes, file size)] for every segment with bytes after its last whole
    batch: a torn tail that recovery left in place)."""
    recs, torn = [], []
    segs = sorted(Path(path).glob("*.log"))
    for seg in segs:
        buf = seg.read_bytes()
        pos = 0
        while pos + BATCH_HEADER.size <= len(buf):
            (base, length, _, magic, _, attrs, _, _, _, _, _, _,
             count) = BATCH_HEADER.unpack_from(buf, pos)
            if length < BATCH_HEADER.size - 12 or pos + 12 + length > len(buf) or magic != 2:
                break
            assert attrs & 0x7 == 0, f"{seg}: compressed batch at {pos}"
            recs += [(o, k, k is not None and v == value_of(k))
                     for o, k, v in _records(buf, pos + BATCH_HEADER.size, base, count)]
            pos += 12 + length
        if pos != len(buf):
            torn.append((seg.name, "active" if seg == segs[-1] else "sealed", pos, len(buf)))
    return recs, torn


if __name__ == "__main__":
    bootstrap, parts, stall_s, topics = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
        sys.argv[4:]
    json.dump(read(bootstrap, topics, parts, stall_s), sys.stdout)
