# SPDX-License-Identifier: Apache-2.0
"""tests/integration's client drivers, run inside a broker's client netns,
plus the raw Kafka frames the connection tests send."""
import shutil
import struct

from . import netns as N

import data_scenarios as ds   # noqa: E402  (tests/integration, on sys.path via netns)
import scenarios as s         # noqa: E402
from sockio import read_frame, recv_exact  # noqa: E402,F401  (tests/lib, via conftest)

it = N.it
ADMIN_CLIENTS = ["kcat", "rdkafka", "confluent", "java"]
# their entries in tests/integration's scenarios.ADMIN_CLIENTS (kcat has none)
_ADMIN_IDS = {"rdkafka": "rdkafka-c", "confluent": "confluent-python", "java": "java"}
DATA_CLIENTS = ["kcat", "rdkafka", "confluent", "java"]


def admin_driver(name, broker):
    """scenarios.Driver of a client, running in broker's client netns. kcat
    has no admin API: its admin checks are metadata listings (kcat -L -J)."""
    c = s.admin_client(_ADMIN_IDS[name])
    return s.Driver(N.ns_argv(broker.client_ns, c.argv()), caps=c.caps, name=f"{name}-admin")


def data_driver(name, broker):
    """data_scenarios.DataDriver of a client, running in broker's client netns."""
    d = ds.data_driver(name)
    d.argv = N.ns_argv(broker.client_ns, d.argv)
    return d


def need(tool):
    if shutil.which(tool) is None:
        it.client_missing(f"{tool} not installed")


# -- raw Kafka frames ---------------------------------------------------------

API_VERSIONS, METADATA, FETCH = 18, 3, 1


def frame(api_key, version, correlation, body=b"", client=b"spw-dpdk"):
    hdr = struct.pack(">hhih", api_key, version, correlation, len(client)) + client
    return struct.pack(">i", len(hdr) + len(body)) + hdr + body


def read_answer(s, corr):
    """One response off socket s: its body after the correlation id."""
    got, body = read_frame(s)
    assert got == corr
    return body


def api_versions_req(correlation):
    return frame(API_VERSIONS, 0, correlation)


def metadata_req(correlation, topics=None):
    """Metadata v1; topics None = all topics."""
    if topics is None:
        body = struct.pack(">i", -1)
    else:
        body = struct.pack(">i", len(topics)) + b"".join(s16(t) for t in topics)
    return frame(METADATA, 1, correlation, body)


def s16(text):
    b = text.encode()
    return struct.pack(">h", len(b)) + b


def check_api_versions(body):
    """ApiVersions v0 body: error 0 and Produce/Fetch/Metadata listed."""
    err, n = struct.unpack_from(">hi", body, 0)
    assert err == 0, f"ApiVersions error {err}"
    keys = {struct.unpack_from(">h", body, 6 + 6 * i)[0] for i in range(n)}
    assert {0, 1, 3, 18} <= keys, sorted(keys)


def check_metadata_v1(body):
    """Metadata v1 body: one broker, 10.99.0.2:9092."""
    n = struct.unpack_from(">i", body, 0)[0]
    assert n == 1, f"{n} brokers"
    pos = 4
    node = struct.unpack_from(">i", body, pos)[0]
    pos += 4
    hl = struct.unpack_from(">h", body, pos)[0]
    host = body[pos + 2:pos + 2 + hl].decode()
    pos += 2 + hl
    port = struct.unpack_from(">i", body, pos)[0]
    assert (host, port) == (N.SERVER_IP, N.KAFKA_PORT), (node, host, port)


def fetch_req(correlation, topic, partition, offset, max_bytes, wait_ms=500, min_bytes=1):
    """Fetch v4 (non-flexible) for one partition."""
    body = struct.pack(">iiiib", -1, wait_ms, min_bytes, max_bytes, 0)
    body += struct.pack(">i", 1) + s16(topic)
    body += struct.pack(">i", 1) + struct.pack(">iqi", partition, offset, max_bytes)
    return frame(FETCH, 4, correlation, body)


def parse_fetch_v4(body):
    """-> (error, high_watermark, records bytes) of the single partition."""
    pos = 4                                   # throttle
    nt = struct.unpack_from(">i", body, pos)[0]
    assert nt == 1, nt
    pos += 4
    nl = struct.unpack_from(">h", body, pos)[0]
    pos += 2 + nl
    np_ = struct.unpack_from(">i", body, pos)[0]
    assert np_ == 1, np_
    pos += 4
    _idx, err, hw, _lso, aborted = struct.unpack_from(">ihqqi", body, pos)
    pos += 4 + 2 + 8 + 8 + 4 + max(aborted, 0) * 16
    rl = struct.unpack_from(">i", body, pos)[0]
    pos += 4
    recs = body[pos:pos + max(rl, 0)]
    assert len(recs) == max(rl, 0), "short records"
    return err, hw, recs


def _varint(buf, pos):
    shift = result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
    return (result >> 1) ^ -(result & 1), pos


def parse_batches(data):
    """Uncompressed v2 record batches -> [(offset, key, value)]; a partial
    batch at the end (Fetch may cut one) is ignored."""
    out, pos = [], 0
    while pos + 12 <= len(data):
        base, blen = struct.unpack_from(">qi", data, pos)
        end = pos + 12 + blen
        if end > len(data):
            break
        magic = data[pos + 16]
        assert magic == 2, f"magic {magic} at {base}"
        attrs = struct.unpack_from(">h", data, pos + 21)[0]
        assert attrs & 7 == 0, "compressed batch"
        count = struct.unpack_from(">i", data, pos + 57)[0]
        p = pos + 61
        for _ in range(count):
            _len, p = _varint(data, p)
            p += 1                                  # attributes
            _ts, p = _varint(data, p)
            od, p = _varint(data, p)
            kl, p = _varint(data, p)
            key = None if kl < 0 else data[p:p + kl]
            p += max(kl, 0)
            vl, p = _varint(data, p)
            val = None if vl < 0 else data[p:p + vl]
            p += max(vl, 0)
            nh, p = _varint(data, p)
            for _ in range(nh):
                hk, p = _varint(data, p)
                p += hk
                hv, p = _varint(data, p)
                p += max(hv, 0)
            out.append((base + od, key, val))
        pos = end
    return out
