# SPDX-License-Identifier: Apache-2.0
"""Fetch to a reader that does not keep up: the broker sends records from
the segment file through a pipe to the socket (splice); when the socket
buffer is full the send must wait, not fail. Regression: the broker closed
the connection (splice EAGAIN), so consumers of many partitions under load
received nothing. The reader here shrinks its receive buffer and pauses
before reading a multi-megabyte Fetch response."""
import os
import socket
import struct
import time

import pytest

import data_scenarios as ds
from sockio import recv_exact as read_exact

pytestmark = pytest.mark.data_path

FETCH, TOPIC_BYTES = 1, 4 * 1024 * 1024


def s16(text):
    b = text.encode()
    return struct.pack(">h", len(b)) + b


def test_fetch_waits_for_a_slow_reader(broker):
    import confluent_kafka
    topic = ds.new_topic(broker, "backpressure", parts=1)
    p = confluent_kafka.Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    value = os.urandom(1000)
    for _ in range(TOPIC_BYTES // 1000):
        p.produce(topic, value, partition=0)
        p.poll(0)
    assert p.flush(60) == 0

    body = struct.pack(">iiiib", -1, 500, 1, TOPIC_BYTES, 0)     # replica, wait, min, max, iso
    body += struct.pack(">i", 1) + s16(topic)
    body += struct.pack(">i", 1) + struct.pack(">iqi", 0, 0, TOPIC_BYTES)
    hdr = struct.pack(">hhih", FETCH, 4, 11, 4) + b"slow"
    host, port = broker.bootstrap.rsplit(":", 1)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, int(port)))
    s.settimeout(30)
    s.sendall(struct.pack(">i", len(hdr) + len(body)) + hdr + body)
    time.sleep(1.0)                     # let the broker fill the socket
    size = struct.unpack(">i", read_exact(s, 4))[0]
    data = read_exact(s, size)
    s.close()
    assert struct.unpack(">i", data[:4])[0] == 11
    # throttle, topics(1), name, partitions(1), index, error, hw, lso,
    # aborted (null or empty), records
    pos = 4 + 4 + 4
    name_len = struct.unpack_from(">h", data, pos)[0]
    pos += 2 + name_len + 4
    index, error, hw, _lso, aborted = struct.unpack_from(">ihqqi", data, pos)
    pos += 4 + 2 + 8 + 8 + 4 + max(aborted, 0) * 16
    records_len = struct.unpack_from(">i", data, pos)[0]
    assert (index, error) == (0, 0)
    assert hw >= TOPIC_BYTES // 1000
    assert records_len > TOPIC_BYTES // 2, records_len
    assert len(data) == pos + 4 + records_len
