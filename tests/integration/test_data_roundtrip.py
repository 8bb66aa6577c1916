# SPDX-License-Identifier: Apache-2.0
"""Round trips through the data path: every client produces the record set of
data_scenarios.make_records (keys, null keys, tombstones, empty and binary
values, headers with duplicate keys and null values, CreateTime) with every
codec it has, then consumes it back group-less from offset 0 and checks it
byte for byte, in order, offsets contiguous from 0. Then acks=0/1/all for
librdkafka and Java, and records produced by one client read by another."""
import pytest

import data_scenarios as ds

pytestmark = pytest.mark.data_path

MATRIX = [(c, codec) for c in ds.CLIENTS for codec in ds.CODECS]


@pytest.fixture(scope="module")
def drivers():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = ds.data_driver(name)
        return cache[name]
    return get


@pytest.mark.parametrize("client,codec", MATRIX, ids=[f"{c}-{z}" for c, z in MATRIX])
def test_round_trip(drivers, broker, tmp_path, client, codec):
    d = drivers(client)
    ds.round_trip(d, d, broker, tmp_path, codec, "all", prefix=f"rt-{client}")


ACKS = [(c, a) for c in ("rdkafka", "java") for a in ("0", "1", "all")]


@pytest.mark.parametrize("client,acks", ACKS, ids=[f"{c}-acks{a}" for c, a in ACKS])
def test_acks(drivers, broker, tmp_path, client, acks):
    d = drivers(client)
    codec = {"0": "snappy", "1": "lz4", "all": "zstd"}[acks]
    ds.round_trip(d, d, broker, tmp_path, codec, acks, prefix=f"acks-{client}")


# (producer, consumer, codec): each client's data is read by a different one.
# kafkajs reads zstd only from itself: its wasm zstd decoder needs the frame
# content size, which librdkafka's and Java's streaming frames leave out.
CROSS = [("java", "rdkafka", "zstd"), ("rdkafka", "java", "lz4"),
         ("franz", "kafkajs", "snappy"), ("kafkajs", "confluent", "zstd"),
         ("confluent", "kafka_python", "gzip"), ("kafka_python", "franz", "lz4"),
         ("kcat", "java", "gzip"), ("java", "kcat", "snappy"),
         ("rdkafka", "franz", "zstd")]


@pytest.mark.parametrize("prod,cons,codec", CROSS, ids=[f"{p}-to-{c}-{z}" for p, c, z in CROSS])
def test_cross(drivers, broker, tmp_path, prod, cons, codec):
    ds.round_trip(drivers(prod), drivers(cons), broker, tmp_path, codec, "all",
                  prefix=f"x-{prod}")


def test_kcat_tombstones_and_headers(drivers, broker, tmp_path):
    """kcat's own ways: -Z turns empty values into tombstones, -H sets the same
    headers (duplicate names allowed) on every record of a run."""
    kcat = drivers("kcat")
    recs = [ds.Rec(0, b"k%d" % i, b"" if i % 3 == 0 else b"v%d" % i) for i in range(12)]
    topic = ds.new_topic(broker, "kcat-z", parts=1)
    spec = tmp_path / "spec.jsonl"
    ds.write_spec(spec, recs)
    res = kcat.produce(broker.bootstrap, topic, spec, "gzip", "all",
                       ["tombstones=1", "headers=h=1;h=2;other=x"])
    assert res["errors"] == []
    _, got = kcat.consume(broker.bootstrap, topic, 1, len(recs), tmp_path / "out.jsonl")
    hdrs = [["h", b"1".hex()], ["h", b"2".hex()], ["other", b"x".hex()]]
    for r, d in zip(recs, got):
        r.v = None if r.v == b"" else r.v
        r.h = [(n, bytes.fromhex(v)) for n, v in hdrs]
    ds.check_round_trip(recs, res["acked"], got, set(), None, "kcat -Z -H")
    rdk = drivers("rdkafka")
    _, got2 = rdk.consume(broker.bootstrap, topic, 1, len(recs), tmp_path / "out2.jsonl")
    ds.check_round_trip(recs, None, got2, set(), None, "kcat -Z -H read by librdkafka")
