# SPDX-License-Identifier: Apache-2.0
"""Bad input against the real broker process, in raw Kafka frames: what Kafka
closes the connection for (a frame above socket.request.max.bytes, an unknown
API key, an unsupported version, an undecodable body, a runt frame) closes
that connection only, while another client keeps being served; ApiVersions of
an unknown version gets Kafka's v0 fallback; pipelined requests are answered
in order. Also the command line: --version, --help, and a bad config value
that must stop startup with a message naming the key."""
import os
import socket
import struct
import subprocess

import pytest

from conftest import REPO

API_VERSIONS, METADATA = 18, 3


def frame(api_key, version, correlation, body=b"", flexible_header=False):
    client = b"wire-test"
    hdr = struct.pack(">hhih", api_key, version, correlation, len(client)) + client
    if flexible_header:
        hdr += b"\x00"          # no tagged fields
    payload = hdr + body
    return struct.pack(">i", len(payload)) + payload


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def read_response(sock):
    size = struct.unpack(">i", read_exact(sock, 4))[0]
    data = read_exact(sock, size)
    return struct.unpack(">i", data[:4])[0], data[4:]


def connect(broker):
    host, port = broker.bootstrap.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    s.settimeout(10)
    return s


def assert_closed(sock):
    """The broker closed the connection (EOF or reset), without answering."""
    try:
        assert sock.recv(1) == b""
    except ConnectionResetError:
        pass


def api_versions_v0(broker, correlation=1):
    with connect(broker) as s:
        s.sendall(frame(API_VERSIONS, 0, correlation))
        corr, body = read_response(s)
        assert corr == correlation
        return struct.unpack(">h", body[:2])[0]


def test_oversize_frame_closes_only_that_connection(broker):
    bystander = connect(broker)
    with connect(broker) as s:
        s.sendall(struct.pack(">i", 200 * 1024 * 1024) + b"\x00" * 64)
        assert_closed(s)
    bystander.sendall(frame(API_VERSIONS, 0, 7))
    assert read_response(bystander)[0] == 7
    bystander.close()


@pytest.mark.parametrize("raw", [
    frame(999, 0, 1),                                   # unknown api key
    frame(METADATA, 99, 1),                             # unsupported version
    frame(METADATA, 9, 1, b"\xff\xff\xff", True),       # undecodable body
    struct.pack(">i", 3) + b"abc",                      # runt frame
    struct.pack(">i", -5),                              # negative size
], ids=["unknown-key", "bad-version", "bad-body", "runt", "negative-size"])
def test_protocol_errors_close_the_connection(broker, raw):
    with connect(broker) as s:
        s.sendall(raw)
        assert_closed(s)
    assert api_versions_v0(broker) == 0     # the broker itself is fine


def test_api_versions_unknown_version_gets_v0_fallback(broker):
    with connect(broker) as s:
        s.sendall(frame(API_VERSIONS, 99, 42, b"\x00\x00\x00", True))
        corr, body = read_response(s)
        assert corr == 42
        err, count = struct.unpack(">hi", body[:6])
        assert err == 35                    # UNSUPPORTED_VERSION
        keys = [struct.unpack(">hhh", body[6 + 6 * i:12 + 6 * i]) for i in range(count)]
        assert any(k[0] == API_VERSIONS and k[2] >= 3 for k in keys), keys


def test_pipelined_requests_answered_in_order(broker):
    with connect(broker) as s:
        # Mix core-answered (ApiVersions, Metadata) requests with ones that
        # go through control (Metadata that auto-creates), all in one write.
        reqs = b""
        for i in range(60):
            if i % 3 == 2:
                topic = f"wire-pipe-{os.getpid()}-{i}".encode()
                body = struct.pack(">ih", 1, len(topic)) + topic + b"\x01"   # v4
                reqs += frame(METADATA, 4, 1000 + i, body)
            else:
                reqs += frame(API_VERSIONS, 0, 1000 + i)
        s.sendall(reqs)
        got = [read_response(s)[0] for _ in range(60)]
        assert got == [1000 + i for i in range(60)]


def _spillway_bin():
    if os.environ.get("SPILLWAY_TEST_BACKEND") == "kafka" or os.environ.get("SPILLWAY_BOOTSTRAP"):
        pytest.skip("command-line tests are for the spillway binary")
    path = os.environ.get("SPILLWAY_BIN", str(REPO / "build" / "spillway"))
    if not os.access(path, os.X_OK):
        pytest.skip(f"no spillway binary at {path}")
    return path


def test_version_and_help():
    exe = _spillway_bin()
    r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and r.stdout.startswith("spillway ")
    r = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0
    for key in ("listeners", "log.dirs", "num.partitions", "spillway.backend",
                "spillway.dataplane.cores", "socket.request.max.bytes"):
        assert key in r.stdout, key


@pytest.mark.parametrize("override,key", [
    ("num.partitions=zero", "num.partitions"),
    ("no.such.key=1", "no.such.key"),
    ("spillway.backend=quantum", "spillway.backend"),
    ("listeners=SSL://127.0.0.1:9093", "listeners"),
])
def test_bad_config_names_the_key(tmp_path, override, key):
    exe = _spillway_bin()
    r = subprocess.run([exe, "--override", f"log.dirs={tmp_path}", "--override", override],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode != 0
    assert key in r.stderr, r.stderr
