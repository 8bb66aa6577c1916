# SPDX-License-Identifier: Apache-2.0
"""A reader that closes its TCP window: a raw-socket consumer with a tiny
SO_RCVBUF fetches a 12 MB topic, stops reading for seconds at a time (its
window goes to zero; the broker must hold the rest, probe the window and
resume when it opens), then must receive every record byte for byte.
Meanwhile other clients are served normally: ApiVersions answers come
quickly and a librdkafka round trip completes while the reader stalls."""
import hashlib
import socket
import struct
import threading
import time

import pytest

from . import netns as N
from . import nsclients as C
from .nsclients import ds

RECORDS = 12_000
VALUE_BYTES = 1000
STALL_S = 4.0
FETCH_MAX = 1 << 20


def value(i):
    """Deterministic, incompressible-looking 1000-byte value of record i."""
    seed = hashlib.sha256(b"slow-%d" % i).digest()
    return (struct.pack(">I", i) + seed * 32)[:VALUE_BYTES]


@pytest.fixture(scope="module")
def big_topic(_broker_holder):
    broker = _broker_holder.b
    from confluent_kafka import Producer
    with broker.client():
        topic = ds.new_topic(broker, "dp-slow", parts=1)
        p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 20,
                      "batch.size": 256 << 10})
        for i in range(RECORDS):
            while True:
                try:
                    p.produce(topic, value(i), key=b"%d" % i, partition=0)
                    break
                except BufferError:
                    p.poll(0.05)
            if i % 500 == 0:
                p.poll(0)
        assert p.flush(120) == 0
    return topic


class Bystander(threading.Thread):
    """ApiVersions round trips on their own connection while the reader
    stalls; records the slowest answer. Runs in the client netns."""

    def __init__(self, broker, seconds):
        super().__init__(daemon=True)
        self.broker, self.seconds = broker, seconds
        self.worst, self.count, self.error = 0.0, 0, None

    def run(self):
        try:
            with self.broker.client():
                with socket.create_connection((N.SERVER_IP, N.KAFKA_PORT), timeout=10) as s:
                    s.settimeout(10)
                    end = time.monotonic() + self.seconds
                    while time.monotonic() < end:
                        t = time.monotonic()
                        s.sendall(C.api_versions_req(self.count))
                        C.read_answer(s, self.count)
                        self.worst = max(self.worst, time.monotonic() - t)
                        self.count += 1
                        time.sleep(0.05)
        except Exception as e:   # noqa: BLE001
            self.error = e


@pytest.mark.timeout(300)
def test_slow_reader_gets_everything(broker, big_topic, tmp_path):
    got = []
    with broker.client():
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        s.settimeout(30)
        s.connect((N.SERVER_IP, N.KAFKA_PORT))
        offset, corr, fetches = 0, 0, 0
        t0 = time.monotonic()
        while offset < RECORDS:
            corr += 1
            s.sendall(C.fetch_req(corr, big_topic, 0, offset, FETCH_MAX))
            fetches += 1
            if fetches in (1, 4):
                # stop reading: the broker's response fills our 2 KB buffer
                # and the window closes; others must be served meanwhile
                by = Bystander(broker, STALL_S)
                by.start()
                if fetches == 1:
                    small = C.data_driver("rdkafka", broker)
                    ds.round_trip(small, small, broker, tmp_path, "none", "all",
                                  prefix="dp-slow-side")
                by.join(STALL_S + 30)
                assert by.error is None, f"bystander failed: {by.error!r}"
                assert by.count >= 5 and by.worst < 2.0, \
                    f"bystander: {by.count} answers, slowest {by.worst:.2f}s"
            err, hw, recs = C.parse_fetch_v4(C.read_answer(s, corr))
            assert err == 0, f"fetch error {err} at offset {offset}"
            assert hw == RECORDS, hw
            batch = C.parse_batches(recs)
            assert batch, f"no whole batch at offset {offset} ({len(recs)} bytes)"
            for o, k, v in batch:
                if o < offset:
                    continue            # a batch may start before the fetch offset
                assert o == offset, f"offset {o}, expected {offset}"
                assert k == b"%d" % o and v == value(o), f"record {o} differs"
                got.append(o)
                offset += 1
        s.close()
    assert got == list(range(RECORDS))
    print(f"{RECORDS} records in {fetches} fetches, {time.monotonic() - t0:.1f}s")
