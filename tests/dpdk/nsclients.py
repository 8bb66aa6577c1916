# SPDX-License-Identifier: Apache-2.0
"""tests/integration's client drivers, run inside a broker's client netns,
plus the raw Kafka frames the connection tests send."""
import shutil

from . import netns as N

import data_scenarios as ds   # noqa: E402  (tests/integration, on sys.path via netns)
import scenarios as s         # noqa: E402
import kwire                  # noqa: E402  (tests/lib, via conftest)
from sockio import read_frame, recv_exact  # noqa: E402,F401

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


# -- raw Kafka frames (built and parsed by tests/lib/kwire.py) ----------------

def read_answer(s, corr):
    """One response off socket s: its body after the correlation id."""
    got, body = read_frame(s)
    assert got == corr
    return body


def api_versions_req(correlation):
    return kwire.request(kwire.API_VERSIONS, 0, correlation, b"")


def metadata_req(correlation, topics=None):
    """Metadata v1; topics None = all topics."""
    return kwire.request(kwire.METADATA, 1, correlation, kwire.metadata_body(1, topics))


def check_api_versions(body):
    """ApiVersions v0 body: error 0 and Produce/Fetch/Metadata listed."""
    r = kwire.response(kwire.API_VERSIONS, 0, body)
    err = r.i16()
    assert err == 0, f"ApiVersions error {err}"
    keys = set()
    for _ in range(r.arr()):
        keys.add(r.i16())
        r.i16(), r.i16()                            # min, max version
    assert {0, 1, 3, 18} <= keys, sorted(keys)


def check_metadata_v1(body):
    """Metadata v1 body: one broker, 10.99.0.2:9092."""
    r = kwire.response(kwire.METADATA, 1, body)
    n = r.arr()
    assert n == 1, f"{n} brokers"
    node, host, port = r.i32(), r.str(), r.i32()
    assert (host, port) == (N.SERVER_IP, N.KAFKA_PORT), (node, host, port)


def fetch_req(correlation, topic, partition, offset, max_bytes, wait_ms=500, min_bytes=1):
    """Fetch v4 (non-flexible) for one partition."""
    body = kwire.fetch_body(4, [(topic, [(partition, offset, max_bytes)])], max_bytes=max_bytes,
                            max_wait_ms=wait_ms, min_bytes=min_bytes)
    return kwire.request(kwire.FETCH, 4, correlation, body)


def parse_fetch_v4(body):
    """-> (error, high_watermark, records bytes) of the single partition."""
    _top, parts = kwire.parse_fetch(4, kwire.response(kwire.FETCH, 4, body))
    assert len(parts) == 1, parts
    _topic, _idx, err, hw, recs = parts[0]
    return err, hw, recs or b""


parse_batches = kwire.parse_batches
