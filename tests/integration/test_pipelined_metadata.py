# SPDX-License-Identifier: Apache-2.0
"""A Metadata request pipelined behind a request that waits is answered
with the view as of its turn, as Kafka does (Kafka reads a connection's
next request only after the previous reply went out). Spillway used to
compute it on arrival and hold the answer behind the slow reply: in a
reassignment under load, librdkafka 2.0.2 got a leader that had moved a
second earlier, right before the fresh answer from another broker, and
its partition stayed on the old leader (NOT_LEADER_OR_FOLLOWER) until
message.timeout.ms (tests/cluster/test_reassign.py). Here a long-poll
Fetch is the slow request and a topic created meanwhile is the change;
the same test passes against Kafka (SPILLWAY_TEST_BACKEND=kafka)."""
import time
import uuid

import kwire

FETCH_V, METADATA_V = 11, 9
WAIT_MS = 6000


def test_metadata_behind_a_long_poll_sees_what_changed_meanwhile(broker):
    tag = uuid.uuid4().hex[:8]
    waiting, late = f"pm-wait-{tag}", f"pm-late-{tag}"
    got = kwire.create_topics(broker, [(waiting, 1)])
    assert [(n, e) for n, e, _ in got] == [(waiting, 0)], got
    kwire.wait_for_leaders(broker, [waiting])
    fetch = kwire.fetch_body(FETCH_V, [(waiting, [(0, 0, 1 << 20)])], max_wait_ms=WAIT_MS,
                             min_bytes=1 << 20)
    meta = kwire.metadata_body(METADATA_V, None)
    with kwire.connect(broker, timeout=WAIT_MS / 1000 + 30) as s:
        t0 = time.monotonic()
        s.sendall(kwire.request(kwire.FETCH, FETCH_V, 1, fetch) +
                  kwire.request(kwire.METADATA, METADATA_V, 2, meta))
        time.sleep(0.3)     # both requests are in
        got = kwire.create_topics(broker, [(late, 1)])
        assert [(n, e) for n, e, _ in got] == [(late, 0)], got
        kwire.wait_for_leaders(broker, [late])
        assert kwire.metadata(broker, [late])[late][0] == 0
        # The change is visible before the long poll could have ended.
        changed = time.monotonic() - t0
        assert changed < WAIT_MS / 1000 - 1, f"topic creation took {changed:.1f} s"
        corr, r = kwire.recv_response(s, kwire.FETCH, FETCH_V)
        assert corr == 1
        top, parts = kwire.parse_fetch(FETCH_V, r)
        assert top == 0 and [p[:3] for p in parts] == [(waiting, 0, 0)], (top, parts)
        waited = time.monotonic() - t0
        assert waited >= WAIT_MS / 1000 * 0.9, f"the fetch did not wait: {waited:.1f} s"
        corr, r = kwire.recv_response(s, kwire.METADATA, METADATA_V)
        assert corr == 2
        names = list(kwire.parse_metadata(METADATA_V, r))
    assert waiting in names, names
    assert late in names, (
        "the pipelined Metadata answer predates the topic created while it waited its "
        f"turn: {sorted(n for n in names if tag in n)}")


def test_pipelined_metadata_requests_keep_their_order(broker):
    """Several Metadata requests behind a long poll, then an ApiVersions:
    every answer comes, in request order."""
    tag = uuid.uuid4().hex[:8]
    topic = f"pm-order-{tag}"
    got = kwire.create_topics(broker, [(topic, 1)])
    assert [(n, e) for n, e, _ in got] == [(topic, 0)], got
    kwire.wait_for_leaders(broker, [topic])
    fetch = kwire.fetch_body(FETCH_V, [(topic, [(0, 0, 1 << 20)])], max_wait_ms=500,
                             min_bytes=1 << 20)
    frames = kwire.request(kwire.FETCH, FETCH_V, 1, fetch)
    for corr in range(2, 6):
        frames += kwire.request(kwire.METADATA, METADATA_V, corr,
                                kwire.metadata_body(METADATA_V, [topic]))
    frames += kwire.request(kwire.API_VERSIONS, 0, 6, b"")
    with kwire.connect(broker, timeout=30) as s:
        s.sendall(frames)
        seen = []
        for api, v in [(kwire.FETCH, FETCH_V)] + [(kwire.METADATA, METADATA_V)] * 4 + \
                [(kwire.API_VERSIONS, 0)]:
            corr, r = kwire.recv_response(s, api, v)
            seen.append(corr)
            if api == kwire.METADATA:
                assert topic in kwire.parse_metadata(METADATA_V, r)
    assert seen == [1, 2, 3, 4, 5, 6], seen
