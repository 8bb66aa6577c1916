# SPDX-License-Identifier: Apache-2.0
"""Admin requests from one client cannot starve another's (issue 11). One
connection pipelines 64 heavy DescribeConfigs (the broker named 300 times,
with synonyms and documentation: megabytes of configs each) and drains the
answers in a thread; meanwhile other connections' CreateTopics and
DescribeConfigs round trips must stay short. Spillway's control thread runs
forwarded requests one at a time, round-robin over connections, so a
bystander waits for at most the one heavy request in progress; it used to
wait for the whole pipeline (seconds). A generous bound (1 s): this is a
functional test, not a benchmark. Runs against Kafka too, which serves
each connection's requests one at a time on a pool of threads."""
import struct
import threading
import time
import uuid

from kwire import (
    CREATE_TOPICS, DESCRIBE_CONFIGS, connect, create_topics, create_topics_body,
    describe_configs_body, parse_describe_configs, recv_response, request, roundtrip,
)
from sockio import recv_exact as read_exact

BROKER = 4
HEAVY_REQUESTS = 64
HEAVY_RESOURCES = 300
ROUND_TRIP_MAX_S = 1.0


class Flood:
    """One connection that pipelines heavy DescribeConfigs and reads the
    answers in a thread (so the test measures control time, not unsent
    bytes piling up)."""

    def __init__(self, broker):
        self.sock = connect(broker, timeout=120)
        self.answered = 0
        self.error = None
        body = describe_configs_body(4, [(BROKER, "1")] * HEAVY_RESOURCES, synonyms=True,
                                     docs=True)
        self.sock.sendall(b"".join(request(DESCRIBE_CONFIGS, 4, i, body)
                                   for i in range(HEAVY_REQUESTS)))
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        try:
            while self.answered < HEAVY_REQUESTS:
                size = struct.unpack(">i", read_exact(self.sock, 4))[0]
                read_exact(self.sock, size)
                self.answered += 1
        except OSError as e:
            self.error = e

    def close(self):
        self.sock.close()
        self.thread.join(timeout=10)


def timed(fn):
    t0 = time.monotonic()
    out = fn()
    return time.monotonic() - t0, out


def test_admin_flood_does_not_delay_other_clients(broker):
    flood = Flood(broker)
    try:
        time.sleep(0.3)                 # the flood is queued and running
        times = []
        for i in range(5):
            name = f"cf-fair-{uuid.uuid4().hex[:8]}"
            took, got = timed(lambda: create_topics(broker, [(name, 1)]))
            assert [(n, e) for n, e, _ in got] == [(name, 0)]
            times.append(("CreateTopics", took))
            # The broker, not the new topic: Kafka may not list that yet.
            took, r = timed(lambda: roundtrip(broker, DESCRIBE_CONFIGS, 4,
                                              describe_configs_body(4, [(BROKER, "1")])))
            assert [e for _, _, e, _, _ in parse_describe_configs(4, r)] == [0]
            times.append(("DescribeConfigs", took))
        slow = [(api, round(t, 3)) for api, t in times if t > ROUND_TRIP_MAX_S]
        assert not slow, f"bystander round trips over {ROUND_TRIP_MAX_S} s: {slow}"
        assert flood.answered < HEAVY_REQUESTS, "the flood ended before the checks"
    finally:
        flood.close()
    assert flood.error is None or isinstance(flood.error, OSError)


def test_pipelined_admin_requests_of_one_connection_stay_in_order(broker):
    """Round-robin between connections must not reorder one connection's
    requests: CreateTopics and DescribeConfigs pipelined on one connection,
    interleaved with another connection's, are answered in order."""
    names = [f"cf-order-{uuid.uuid4().hex[:8]}-{i}" for i in range(20)]
    a, b = connect(broker), connect(broker)
    try:
        for s, base in ((a, 0), (b, 100)):
            frames = b""
            for i, n in enumerate(names):
                if i % 2 == 0:
                    frames += request(CREATE_TOPICS, 4, base + i,
                                      create_topics_body(4, [(n + f"-{base}", 1)]))
                else:
                    frames += request(DESCRIBE_CONFIGS, 4, base + i,
                                      describe_configs_body(4, [(BROKER, "1")]))
            s.sendall(frames)
        for s, base in ((a, 0), (b, 100)):
            got = []
            for i in range(len(names)):
                api = CREATE_TOPICS if i % 2 == 0 else DESCRIBE_CONFIGS
                corr, _ = recv_response(s, api, 4)
                got.append(corr)
            assert got == [base + i for i in range(len(names))]
    finally:
        a.close()
        b.close()
