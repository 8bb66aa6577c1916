# SPDX-License-Identifier: Apache-2.0
"""socket.send.buffer.bytes / socket.receive.buffer.bytes: Kafka's keys and
defaults (100 KB each) size the broker's side of every client connection,
as `ss -tm` reads them from the kernel (which doubles a size set by
SO_SNDBUF/SO_RCVBUF for its bookkeeping); -1 leaves the OS's autotuned
sizes. Against SPILLWAY_TEST_BACKEND=kafka the same assertions hold for
Apache Kafka. A fixed size bounds what a client that never reads makes the
broker build (tests/hostile/test_unread_responses.py)."""
import re
import subprocess

import kwire

METADATA = 3


def server_side_skmem(broker, sock):
    """{rb, tb} of the broker's end of sock: the established socket whose
    local port is the broker's and whose peer is sock's local address."""
    sock.sendall(kwire.request(METADATA, 9, 5, kwire.metadata_body(9, [])))
    kwire.recv_response(sock, METADATA, 9)          # accepted and served
    client_port = sock.getsockname()[1]
    port = broker.bootstrap.rsplit(":", 1)[1]
    out = subprocess.run(["ss", "-tmnH", "state", "established",
                          f"( sport = :{port} and dport = :{client_port} )"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    m = re.search(r"skmem:\(r\d+,rb(\d+),t\d+,tb(\d+)", out)
    assert m, f"no socket from port {port} to {client_port} in: {out!r}"
    return {"rb": int(m.group(1)), "tb": int(m.group(2))}


def test_default_is_kafkas_100_kb(broker_factory):
    b = broker_factory()
    with kwire.connect(b) as s:
        got = server_side_skmem(b, s)
    assert got == {"rb": 2 * 102400, "tb": 2 * 102400}, got


def test_sizes_given_and_os_default(broker_factory):
    b = broker_factory(overrides={"socket.send.buffer.bytes": "65536",
                                  "socket.receive.buffer.bytes": "-1"})
    with open("/proc/sys/net/ipv4/tcp_rmem") as f:
        rmem_max = int(f.read().split()[2])
    with kwire.connect(b) as s:
        got = server_side_skmem(b, s)
    assert got["tb"] == 2 * 65536, got
    # Not fixed: the kernel's initial size, free to grow up to tcp_rmem's max.
    assert got["rb"] != 2 * 102400 and got["rb"] <= rmem_max, got
