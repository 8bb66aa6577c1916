# SPDX-License-Identifier: Apache-2.0
"""Issue 11, item 7: compression bombs must not stall a core. One ~6 MB
Produce of 100 gzip batches (each ~62 KB inflating to 60 MiB of zero-valued
records, deflate's ~1:1000) stalled every client on the core for 14.7 s;
~2 MB of zstd (20 batches of ~108 KB, each 100 MB; zstd squeezes zeros far
beyond 1:1000, so 1 KiB random keys hold the ratio there) for 2.7 s. The
broker must reject such batches (CORRUPT_MESSAGE or INVALID_RECORD; we also
accept MESSAGE_TOO_LARGE) for every partition without doing all the work
first, and the bystander must not notice. How: valid RecordBatch v2 bombs
built here (kwire: CRC-32C, varints), one Produce v7, acks=1, one batch per
partition (Kafka refuses more than one per partition since Produce v3, with
INVALID_RECORD, before looking inside), so 100 and 20 partitions."""
import time

import pytest

import kwire

CORRUPT_MESSAGE, MESSAGE_TOO_LARGE, INVALID_RECORD = 2, 10, 87
REJECTED = {CORRUPT_MESSAGE, MESSAGE_TOO_LARGE, INVALID_RECORD}
ANSWER_S = 30.0             # socket bound: main answered after 14.7 s
PROMPT_S = 1.0              # a rejection costs no more than this

# codec: (partitions, one bomb per partition)
BOMBS = {
    "gzip": (100, lambda: kwire.gzip_bomb(60, 1 << 20)),
    "zstd": (20, lambda: kwire.zstd_bomb(100, 1 << 20, key_len=1024)),
}
_built = {}


def bomb(codec):
    """One batch per codec, built once: the CRC is pure Python."""
    if codec not in _built:
        if codec == "zstd":
            pytest.importorskip("zstandard", reason="python3-zstandard not installed")
        _built[codec] = BOMBS[codec][1]()
    return _built[codec]


@pytest.mark.parametrize("codec", list(BOMBS))
def test_compression_bombs(hostile, codec):
    parts = BOMBS[codec][0]
    one = bomb(codec)
    h = hostile(topics={"bombs": parts})
    body = kwire.produce_body(7, [("bombs", [(p, one) for p in range(parts)])], acks=1)
    h.figure(request_mb=round(len(body) / 1e6, 2), batches=parts,
             batch_kb=round(len(one) / 1024, 1))
    with h.phase("attack"):
        t0 = time.monotonic()
        try:
            got = kwire.parse_produce(7, kwire.call(h.bootstrap, kwire.PRODUCE, 7, body,
                                                    timeout=ANSWER_S))
        except (OSError, ValueError) as e:
            got = None
            h.check(False, f"no answer to the bomb Produce: {e!r}")
        took = time.monotonic() - t0
    h.figure(answer_s=round(took, 2))
    if got is not None:
        codes = {p: err for _, p, err, _, _ in got}
        h.figure(error_codes=sorted(set(codes.values())))
        h.check(sorted(codes) == list(range(parts)),
                f"partitions answered {sorted(codes)}, want 0..{parts - 1}")
        accepted = sorted(p for p, err in codes.items() if err not in REJECTED)
        h.check(not accepted, f"bombs not rejected on partitions {accepted} "
                              f"(codes {sorted(set(codes.values()))})")
        h.check(took < PROMPT_S, f"the bomb Produce was answered after {took:.1f} s")
    # The topic still takes ordinary records.
    ok = kwire.parse_produce(7, kwire.call(h.bootstrap, kwire.PRODUCE, 7, kwire.produce_body(
        7, [("bombs", [(0, kwire.record_batch([b"after"], timestamp_ms=0))])]), timeout=ANSWER_S))
    h.check(ok[0][2] == 0, f"an ordinary Produce after the bombs: {ok}")
    h.finish()
