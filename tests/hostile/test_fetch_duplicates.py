# SPDX-License-Identifier: Apache-2.0
"""Issue 11, item 8: one partition listed 40,000 times in one Fetch turned a
1.1 MB request into a 1.24 GB response and 13.9 s of CPU (quadratic). Kafka
keys a Fetch's partitions by topic-partition, so duplicates merge into one
(the last one listed wins) and the answer names the partition once. How:
100 records of 1 KiB in one partition, then Fetch v11 listing it 40,000
times (in one topic entry, or as 40,000 topic entries), beside the
bystander: answered within a second, a response of bounded size, the
partition once with its records."""
import time

import pytest

import kwire

DUPLICATES = 40000
ANSWER_S = 1.0
RESPONSE_BYTES_MAX = 2 << 20
SOCKET_S = 60.0


@pytest.mark.parametrize("shape", ["partitions", "topics"])
def test_fetch_one_partition_40000_times(hostile, shape):
    h = hostile(topics={"dup": 1})
    got = kwire.parse_produce(7, kwire.call(h.bootstrap, kwire.PRODUCE, 7, kwire.produce_body(
        7, [("dup", [(0, kwire.record_batch([b"d" * 1024] * 100, timestamp_ms=0))])])))
    assert got[0][2] == 0, got
    one = (0, 0, 1 << 20)                           # partition, offset, max bytes
    if shape == "partitions":
        topics = [("dup", [one] * DUPLICATES)]
    else:
        topics = [("dup", [one])] * DUPLICATES
    body = kwire.fetch_body(11, topics, max_bytes=50 << 20, max_wait_ms=0, min_bytes=0)
    h.figure(request_mb=round(len(body) / 1e6, 2))
    with h.phase("attack"):
        t0 = time.monotonic()
        size = None
        try:
            with kwire.connect(h.bootstrap, SOCKET_S) as s:
                s.sendall(kwire.request(kwire.FETCH, 11, 9, body))
                size = int.from_bytes(kwire.recv_exact(s, 4), "big", signed=True)
                # Read (and count) what the broker sends, but do not keep a
                # gigabyte of it: the bound decides.
                if size <= RESPONSE_BYTES_MAX:
                    data = kwire.recv_exact(s, size)
                else:
                    data = None
        except (OSError, ValueError) as e:
            h.check(False, f"no answer to the duplicated Fetch: {e!r}")
            data = None
        took = time.monotonic() - t0
    h.figure(answer_s=round(took, 2), response_bytes=size)
    if size is not None:
        h.check(size <= RESPONSE_BYTES_MAX,
                f"response of {size / 1e6:.1f} MB (bound {RESPONSE_BYTES_MAX / 1e6:.0f} MB)")
        h.check(took < ANSWER_S, f"answered after {took:.1f} s")
    if data is not None:
        _err, answered = kwire.parse_fetch_topics(11, kwire.response(kwire.FETCH, 11, data[4:]))
        named = [(t, p[0]) for t, ps in answered for p in ps]
        h.check(named == [("dup", 0)], f"partitions in the answer: {len(named)} "
                                       f"(want dup-0 once), first {named[:3]}")
        recs = [p[3] for _, ps in answered for p in ps]
        h.check(recs and recs[0] and len(recs[0]) > 100 * 1024,
                f"the answer lacks the partition's records ({len(recs[0] or b'') if recs else 0}"
                f" bytes)")
    h.finish()
