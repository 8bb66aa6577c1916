# SPDX-License-Identifier: Apache-2.0
"""The integration suite's admin and produce/consume scenarios, from the
client netns over each transport: librdkafka C, confluent-kafka-python and
the Java AdminClient run tests/integration/scenarios.py; kcat, librdkafka C,
confluent-kafka-python and Java round-trip data_scenarios.make_records
byte for byte (keys, null keys, tombstones, binary, headers, CreateTime),
each with itself and across clients; large incompressible records; kcat -L
shows the advertised 10.99.0.2:9092. SPILLWAY_DPDK_FULL=1 runs every admin
scenario and every codec instead of the default subset."""
import json
import os
import subprocess

import pytest

from . import netns as N
from . import nsclients as C
from .nsclients import ds, s

FULL = os.environ.get("SPILLWAY_DPDK_FULL", "") not in ("", "0")

ADMIN = ["cluster", "lifecycle", "duplicate", "invalid_names", "partitions_errors",
         "broker_configs"]
if FULL:
    ADMIN += ["replication_factor", "unknown_topic", "validate_only", "broker_defaults",
              "replica_assignment"]
ADMIN_CASES = [(c, sc) for c in ("rdkafka", "confluent", "java") for sc in ADMIN]
if FULL:
    ADMIN_CASES.append(("java", "delete_by_id"))


@pytest.mark.timeout(180)
@pytest.mark.parametrize("client,scenario", ADMIN_CASES,
                         ids=[f"{c}-{sc}" for c, sc in ADMIN_CASES])
def test_admin(broker, client, scenario):
    s.run(scenario, C.admin_driver(client, broker), broker, f"dp-{client}")


def test_kcat_metadata(broker):
    """kcat -L -J from the client netns: one broker at 10.99.0.2:9092, and a
    topic made by the C admin driver with its 3 partitions led by it."""
    C.need("kcat")
    admin = C.admin_driver("rdkafka", broker)
    t = N.it.unique_topic("kcat-md")
    assert admin.call(broker.bootstrap, "create", t, 3, 1)["error"] is None

    def shown():
        r = subprocess.run(N.ns_argv(broker.client_ns, ["kcat", "-b", broker.bootstrap,
                                                        "-m", "20", "-L", "-J"]),
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        md = json.loads(r.stdout)
        assert [b["name"] for b in md["brokers"]] == [f"{N.SERVER_IP}:{N.KAFKA_PORT}"], md
        topics = {x["topic"]: x for x in md["topics"]}
        assert t in topics, sorted(topics)
        parts = topics[t]["partitions"]
        assert len(parts) == 3 and all(p["leader"] == md["brokers"][0]["id"] for p in parts)
    s.eventually(shown)


CODECS = ds.CODECS if FULL else ["none", "zstd"]
RT = [(c, z) for c in C.DATA_CLIENTS for z in CODECS]


@pytest.mark.timeout(180)
@pytest.mark.parametrize("client,codec", RT, ids=[f"{c}-{z}" for c, z in RT])
def test_round_trip(broker, tmp_path, client, codec):
    d = C.data_driver(client, broker)
    with broker.client():
        ds.round_trip(d, d, broker, tmp_path, codec, "all", prefix=f"dp-rt-{client}")


CROSS = [("java", "rdkafka", "zstd"), ("rdkafka", "java", "lz4"),
         ("kcat", "confluent", "gzip"), ("confluent", "kcat", "snappy"),
         ("confluent", "java", "none")]


@pytest.mark.timeout(180)
@pytest.mark.parametrize("prod,cons,codec", CROSS, ids=[f"{p}-to-{c}-{z}" for p, c, z in CROSS])
def test_cross(broker, tmp_path, prod, cons, codec):
    with broker.client():
        ds.round_trip(C.data_driver(prod, broker), C.data_driver(cons, broker), broker,
                      tmp_path, codec, "all", prefix=f"dp-x-{prod}")


ACKS = [("rdkafka", "0", "snappy"), ("rdkafka", "1", "lz4"), ("java", "1", "none")]


@pytest.mark.timeout(180)
@pytest.mark.parametrize("client,acks,codec", ACKS, ids=[f"{c}-acks{a}" for c, a, _ in ACKS])
def test_acks(broker, tmp_path, client, acks, codec):
    d = C.data_driver(client, broker)
    with broker.client():
        ds.round_trip(d, d, broker, tmp_path, codec, acks, prefix=f"dp-acks-{client}")


@pytest.mark.timeout(180)
def test_large_records(broker, tmp_path):
    """24 incompressible records of 64 KB..900 KB (about 11 MB): many
    full-sized segments each way, windows filling up; confluent-kafka-python
    produces, Java and librdkafka read it back byte for byte. (Not the C
    driver as producer: its hex parser is quadratic in the value size.)"""
    import random
    rnd = random.Random(7)
    sizes = [64 << 10, 900 << 10, 300 << 10, 1, 700 << 10, 128 << 10] * 4
    recs = [ds.Rec(i % 2, b"big-%d" % i, rnd.randbytes(n), ts=ds.BASE_TS + i)
            for i, n in enumerate(sizes)]
    spec = tmp_path / "spec.jsonl"
    ds.write_spec(spec, recs)
    prod = C.data_driver("confluent", broker)
    with broker.client():
        topic = ds.new_topic(broker, "dp-large")
    res = prod.produce(broker.bootstrap, topic, spec, "none", "all")
    assert res["errors"] == [], res["errors"][:3]
    for cons in ("java", "rdkafka"):
        _, got = C.data_driver(cons, broker).consume(broker.bootstrap, topic, 2, len(recs),
                                                     tmp_path / f"out-{cons}.jsonl")
        ds.check_round_trip(recs, res["acked"], got, set(), None, f"large -> {cons}")
