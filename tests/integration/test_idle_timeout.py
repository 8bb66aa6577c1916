# SPDX-License-Identifier: Apache-2.0
"""connections.max.idle.ms (issue 11, item 6): a silent connection is closed
after the idle time and not before; traffic in either direction keeps one
open, including a large request trickled in (received in place, not through
the provided buffers), and connections accepted in a burst are not mistaken
for idle (an accept time later than the sweep's clock once closed them)."""
import socket
import struct
import time

import pytest

import kwire
from sockio import eof, read_frame

IDLE_MS = 1500


def api_versions(s, corr):
    hdr = struct.pack(">hhih", 18, 0, corr, 4) + b"idle"
    s.sendall(struct.pack(">i", len(hdr)) + hdr)
    assert read_frame(s)[0] == corr


@pytest.fixture
def idle_broker(broker_factory):
    return broker_factory(overrides={"connections.max.idle.ms": str(IDLE_MS)})


def test_silent_connection_closed_after_idle_time(idle_broker):
    s = kwire.connect(idle_broker)
    time.sleep(IDLE_MS / 2000)
    assert not eof(s), "closed before half the idle time"
    deadline = time.monotonic() + IDLE_MS / 1000 + 5
    while time.monotonic() < deadline and not eof(s):
        time.sleep(0.1)
    assert eof(s), "a silent connection outlived connections.max.idle.ms by 5 s"


def test_active_connections_stay_open(idle_broker):
    socks = [kwire.connect(idle_broker) for _ in range(200)]
    t_end = time.monotonic() + 3 * IDLE_MS / 1000
    corr = 0
    while time.monotonic() < t_end:
        for s in socks:
            corr += 1
            api_versions(s, corr)
        time.sleep(IDLE_MS / 4000)
    for s in socks:
        assert not eof(s)
        s.close()


def test_large_request_trickled_in_is_not_idle(idle_broker):
    """A 1 MiB Produce sent in pieces over twice the idle time, each gap
    shorter than it: answered (unknown topic), not cut off."""
    records = b"\0" * (1 << 20)
    body = (struct.pack(">h", -1) + struct.pack(">hi", 1, 30000) + struct.pack(">i", 1) +
            struct.pack(">h", 8) + b"nosuchtp" + struct.pack(">i", 1) +
            struct.pack(">i", 0) + struct.pack(">i", len(records)) + records)
    frame = kwire.request(0, 3, 9, body)
    s = kwire.connect(idle_broker)
    pieces = 8
    step = len(frame) // pieces + 1
    for i in range(pieces):
        s.sendall(frame[i * step:(i + 1) * step])
        time.sleep(IDLE_MS / 1000 * 2 / pieces)
    s.settimeout(30)
    try:
        corr = read_frame(s)[0]
    except (ConnectionError, OSError) as e:
        pytest.fail(f"the connection was closed mid-request: {e!r}")
    assert corr == 9
    s.close()
