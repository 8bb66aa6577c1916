# SPDX-License-Identifier: Apache-2.0
"""Many connections against a broker with two dataplane cores: 1,000 open
at once (ApiVersions and Metadata answered on every one, spread over both
cores), thousands of connect/request/close cycles, clients that reset
(SO_LINGER 0) mid-request, mid-long-poll and mid-response. Afterwards the
broker is alive, serves a bystander connection opened before and a real
client, and its open-connection gauge is back to where it was."""
import resource
import selectors
import socket
import struct
import time

import pytest

from . import netns as N
from . import nsclients as C
from .nsclients import ds

BROKER_CORES = 2
CONNS = 1000


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < n:
        new = n if hard == resource.RLIM_INFINITY else min(n, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= n - 64, "RLIMIT_NOFILE too low"


def open_gauge(broker):
    return sum(broker.metric("spillway_connections_open").values())


def wait_open_at_most(broker, n, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        cur = open_gauge(broker)
        if cur <= n:
            return cur
        if time.monotonic() > deadline:
            raise AssertionError(f"connections_open still {cur} (want <= {n}) after {timeout}s: "
                                 f"{broker.metric('spillway_connections_open')}")
        time.sleep(0.2)


def rst_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def connect_all(n, timeout):
    """n non-blocking connects at once; -> connected sockets (all or fail)."""
    sel = selectors.DefaultSelector()
    socks, done = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.setblocking(False)
            err = s.connect_ex((N.SERVER_IP, N.KAFKA_PORT))
            assert err in (0, 115), f"connect_ex: {err}"      # EINPROGRESS
            socks.append(s)
            sel.register(s, selectors.EVENT_WRITE)
        deadline = time.monotonic() + timeout
        while len(done) < n:
            left = deadline - time.monotonic()
            assert left > 0, f"only {len(done)} of {n} connected within {timeout}s"
            for key, _ in sel.select(min(left, 1.0)):
                s = key.fileobj
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                assert err == 0, f"connect failed after {len(done)} ok: errno {err}"
                sel.unregister(s)
                done.append(s)
        return socks
    except BaseException:
        for s in socks:
            s.close()
        raise
    finally:
        sel.close()


def request_all(socks, make_req, check, timeout):
    """Send one request on every socket, read every answer, check each."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for i, s in enumerate(socks):
        _send_nb(s, make_req(i))
        bufs[s] = (i, bytearray())
        sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    answered = 0
    try:
        while answered < len(socks):
            left = deadline - time.monotonic()
            assert left > 0, f"{answered} of {len(socks)} answered within {timeout}s"
            for key, _ in sel.select(min(left, 1.0)):
                s = key.fileobj
                i, buf = bufs[s]
                chunk = s.recv(65536)
                assert chunk, f"connection {i} closed by the broker"
                buf += chunk
                if len(buf) >= 4:
                    size = struct.unpack_from(">i", buf)[0]
                    if len(buf) >= 4 + size:
                        assert len(buf) == 4 + size, f"conn {i}: extra bytes"
                        corr = struct.unpack_from(">i", buf, 4)[0]
                        assert corr == i, f"conn {i}: correlation {corr}"
                        check(bytes(buf[8:]))
                        sel.unregister(s)
                        answered += 1
    finally:
        sel.close()


def _send_nb(s, data):
    deadline = time.monotonic() + 10
    view = memoryview(data)
    while view:
        try:
            n = s.send(view)
            view = view[n:]
        except BlockingIOError:
            assert time.monotonic() < deadline, "send blocked for 10s"
            time.sleep(0.01)


def api_versions_ok(broker, timeout=10):
    with socket.create_connection((N.SERVER_IP, N.KAFKA_PORT), timeout=timeout) as s:
        s.settimeout(timeout)
        s.sendall(C.api_versions_req(99))
        return C.read_answer(s, 99)


def small_round_trip(broker, tmp_path, label):
    d = C.data_driver("rdkafka", broker)
    with broker.client():
        ds.round_trip(d, d, broker, tmp_path, "lz4", "all", prefix=f"dp-{label}")


@pytest.mark.timeout(300)
def test_thousand_concurrent_connections(broker, tmp_path):
    raise_nofile(CONNS + 512)
    base = open_gauge(broker)
    accepted0 = broker.metric("spillway_connections_accepted_total")
    with broker.client():
        socks = connect_all(CONNS, timeout=60)
        try:
            request_all(socks, C.api_versions_req, C.check_api_versions, timeout=60)
            request_all(socks, lambda i: C.metadata_req(i), C.check_metadata_v1, timeout=60)
            # a second round on every connection: they stay usable
            request_all(socks, C.api_versions_req, C.check_api_versions, timeout=60)
            assert open_gauge(broker) >= base + CONNS
            accepted = broker.metric("spillway_connections_accepted_total")
            per_core = {k: accepted[k] - accepted0.get(k, 0) for k in accepted}
            print(f"accepted per core: {per_core}")
            assert len(per_core) == BROKER_CORES, per_core
            # spread over the cores (RSS / reuseport hashing): each core
            # has at least a fifth of them
            assert all(v >= CONNS // 5 for v in per_core.values()), \
                f"connections per core: {per_core}"
            # while they are all open, a real client is served
            small_round_trip(broker, tmp_path, "conns-1000")
        finally:
            for s in socks:
                s.close()
    wait_open_at_most(broker, base, timeout=30)


@pytest.mark.timeout(300)
def test_connection_churn(broker, tmp_path):
    """3,000 x (connect, ApiVersions, close); every third close is a reset.
    Bounded in time; the broker's connection table drains afterwards."""
    cycles, limit = 3000, 150
    base = open_gauge(broker)
    t0 = time.monotonic()
    with broker.client():
        for i in range(cycles):
            s = socket.create_connection((N.SERVER_IP, N.KAFKA_PORT), timeout=10)
            s.settimeout(10)
            s.sendall(C.api_versions_req(i))
            C.check_api_versions(C.read_answer(s, i))
            if i % 3 == 2:
                rst_close(s)
            else:
                s.close()
            assert time.monotonic() - t0 < limit, f"only {i} cycles in {limit}s"
    elapsed = time.monotonic() - t0
    print(f"{cycles} cycles in {elapsed:.1f}s")
    wait_open_at_most(broker, base, timeout=30)
    with broker.client():
        C.check_api_versions(api_versions_ok(broker))
        small_round_trip(broker, tmp_path, "churn")


@pytest.mark.timeout(300)
def test_client_resets(broker, tmp_path):
    """Resets mid-frame, right after connect, during a Fetch long poll and
    while a large Fetch response is being sent; 40 of each. A bystander
    connection opened before keeps working."""
    with broker.client():
        topic = ds.new_topic(broker, "dp-rst", parts=1)
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
        for i in range(2000):
            p.produce(topic, bytes([i % 251]) * 1000, partition=0)
            if i % 200 == 0:
                p.poll(0)
        assert p.flush(60) == 0
        base = open_gauge(broker)
        bystander = socket.create_connection((N.SERVER_IP, N.KAFKA_PORT), timeout=10)
        bystander.settimeout(10)
        for round_ in range(40):
            # 1: reset right after the handshake
            s = socket.create_connection((N.SERVER_IP, N.KAFKA_PORT), timeout=10)
            rst_close(s)
            # 2: half a frame, then reset
            s = socket.create_connection((N.SERVER_IP, N.KAFKA_PORT), timeout=10)
            req = C.metadata_req(1, [topic])
            s.sendall(req[:len(req) // 2])
            rst_close(s)
            # 3: a Fetch that long-polls past the end of the log, then reset
            s = socket.create_connection((N.SERVER_IP, N.KAFKA_PORT), timeout=10)
            s.sendall(C.fetch_req(3, topic, 0, 2000, 1 << 20, wait_ms=5000, min_bytes=1 << 20))
            time.sleep(0.005)
            rst_close(s)
            # 4: a 2 MB Fetch response, a few KB read, then reset
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(10)
            s.connect((N.SERVER_IP, N.KAFKA_PORT))
            s.sendall(C.fetch_req(4, topic, 0, 0, 2 << 20))
            C.recv_exact(s, 4096)
            rst_close(s)
            if round_ % 10 == 9:
                bystander.sendall(C.api_versions_req(round_))
                C.check_api_versions(C.read_answer(bystander, round_))
        bystander.sendall(C.metadata_req(7))
        C.check_metadata_v1(C.read_answer(bystander, 7))
        bystander.close()
    wait_open_at_most(broker, base, timeout=30)
    small_round_trip(broker, tmp_path, "after-rst")
