# SPDX-License-Identifier: Apache-2.0
"""Data-path scenarios shared by the test_data_*.py modules.

Every client has a data driver speaking one protocol (files carry the records,
stdout's last line is one JSON object):

  produce BOOTSTRAP TOPIC SPEC CODEC ACKS [k=v ...]
      SPEC: JSON lines {"p":part,"k":hex|null,"v":hex|null,
                        "h":[[name,hex|null],..],"ts":ms}
      produced in file order, one record at a time, waiting for all at the end
      -> {"acked":[[part,offset]..] (spec order; offset -1 if unknown),
          "errors":[..]}
  consume BOOTSTRAP TOPIC PARTS COUNT OUT
      assign partitions 0..PARTS-1 from offset 0 (no consumer group), read
      until COUNT records or a timeout; OUT: JSON lines
      {"p","o","k","v","h","ts"} -> {"count":n}
  seq BOOTSTRAP TOPIC N [k=v ...]            (C and Java only)
      produce values "seq-%08d" % i for i < N to partition 0 with the client's
      default (idempotent) settings plus k=v
      -> {"acked":[i..], "errors":n}

CODEC is none|gzip|snappy|lz4|zstd, ACKS 0|1|all. Extra k=v pairs are the
client's own producer configuration names.
"""
import json
import os
import time
import uuid
from pathlib import Path

import pytest

from conftest import CACHE, HERE, JAVA_OPTS, client_missing, find_tool, java_classpath, \
    unique_topic
from clients.data_common import read_jsonl
from scenarios import run_json

CALL_TIMEOUT = 120
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
BASE_TS = 1_700_000_000_000
PARTS = 2


ALL = {"tombstone", "empty", "binary", "headers", "dup_header", "null_header", "timestamp"}
PY = "/usr/bin/python3"

# What each client can express (see make_records) and which codecs it produces.
CLIENTS = {
    # kcat: keys without 0x1f, no empty keys, one header set per run, no
    # timestamps (see clients/kcat_data.py); its extras have their own test.
    "kcat": set(),
    "rdkafka": ALL,
    "confluent": ALL,
    "kafka_python": ALL - {"null_header"},   # headers must be (str, bytes)
    "kafkajs": ALL - {"null_header"},        # header values must be Buffer|string
    "java": ALL,
    "franz": ALL,
}


def data_driver(name):
    """The DataDriver of a client; skips (fails under CI) when it is missing."""
    import shutil
    c = HERE / "clients"
    if name == "kcat":
        if shutil.which("kcat") is None:
            client_missing("kcat not installed")
        argv = [PY, str(c / "kcat_data.py")]
    elif name == "rdkafka":
        argv = [find_tool("RDKAFKA_DATA_BIN", "build/tests/integration/rdkafka_data",
                          ".cache/integration/bin/rdkafka_data")]
    elif name == "confluent":
        argv = [PY, str(c / "confluent_data.py")]
    elif name == "kafka_python":
        argv = [PY, str(c / "kafka_python_data.py")]
    elif name == "kafkajs":
        if shutil.which("node") is None or not (HERE / "js" / "node_modules" / "kafkajs-lz4").exists():
            client_missing("node or js/node_modules missing (run tests/integration/setup.sh)")
        argv = ["node", str(HERE / "js" / "data.js")]
    elif name == "java":
        cp = java_classpath(with_classes=False) + f":{CACHE / 'java' / 'classes'}"
        if not (CACHE / "java" / "classes" / "SpillwayData.class").exists():
            client_missing("SpillwayData.class missing (run tests/integration/setup.sh)")
        argv = ["java", *JAVA_OPTS, "-cp", cp, "SpillwayData"]
    elif name == "franz":
        argv = [find_tool("FRANZ_DATA_BIN", ".cache/integration/bin/franz_data")]
    else:
        raise KeyError(name)
    return DataDriver(argv, CLIENTS[name], name=name)


class Rec:
    __slots__ = ("p", "k", "v", "h", "ts")

    def __init__(self, p, k, v, h=(), ts=None):
        self.p, self.k, self.v, self.h, self.ts = p, k, v, list(h), ts

    def spec(self):
        hx = lambda b: None if b is None else b.hex()
        return {"p": self.p, "k": hx(self.k), "v": hx(self.v),
                "h": [[n, hx(x)] for n, x in self.h], "ts": self.ts}


def make_records(caps, n_bulk=40):
    """The round-trip record set; features the client cannot express (caps)
    are left out. Records alternate between the partitions."""
    recs = []

    def add(k, v, h=()):
        recs.append(Rec(len(recs) % PARTS, k, v, h, BASE_TS + 1000 * len(recs)))

    add(b"key-0", b"plain text value")
    add(None, b"null key")
    add(b"key-utf8", "värde ✓ 日本".encode())
    if "tombstone" in caps:
        add(b"tomb", None)
    if "empty" in caps:
        add(b"empty-value", b"")
        add(b"", b"empty key")
    if "binary" in caps:
        add(bytes(range(256)), bytes(range(255, -1, -1)) * 4)
        add(b"\x00\x01\xff", b"\x00" * 100 + b"\xff\xfe\x00")
    if "headers" in caps:
        add(b"hdr", b"one header", [("h1", b"v1")])
        add(b"hdr-multi", b"several headers", [("a", b"1"), ("b", b""), ("c", b"xyz" * 10)])
        if "binary" in caps:
            add(b"hdr-bin", b"binary header", [("bin", bytes(range(256)))])
        if "dup_header" in caps:
            add(b"hdr-dup", b"duplicate header keys", [("dup", b"first"), ("dup", b"second"),
                                                       ("dup", b"third"), ("x", b"y")])
        if "null_header" in caps:
            add(b"hdr-null", b"null header value", [("nul", None), ("n2", b"v")])
    big = b"".join(b"compressible-%06d|" % i for i in range(2000))  # ~40 KB
    add(b"big", big)
    for i in range(n_bulk):
        add(b"bulk-%d" % i, b"bulk value %d " % i * (1 + i % 7))
    return recs


def write_spec(path, recs):
    with open(path, "w") as f:
        for r in recs:
            f.write(json.dumps(r.spec()) + "\n")


def run_driver(argv, timeout=CALL_TIMEOUT, env=None, name="driver"):
    # A driver built in the sanitized test build is a short-lived client:
    # its leaks at exit are not what the suite checks, and LeakSanitizer's
    # exit status would fail the run. The broker keeps leak detection.
    env = dict(os.environ if env is None else env)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
    return run_json(argv, f"{name} {argv[-6:]}", timeout, env)


class DataDriver:
    def __init__(self, argv, caps, codecs=CODECS, env=None, name="driver"):
        self.argv, self.caps, self.codecs = list(argv), set(caps), list(codecs)
        self.env, self.name = env, name

    def produce(self, bootstrap, topic, spec, codec="none", acks="all", extra=(),
                timeout=CALL_TIMEOUT):
        return run_driver(self.argv + ["produce", bootstrap, topic, str(spec), codec, acks,
                                       *extra], timeout, self.env, f"{self.name} produce")

    def consume(self, bootstrap, topic, parts, count, out, timeout=CALL_TIMEOUT):
        res = run_driver(self.argv + ["consume", bootstrap, topic, str(parts), str(count),
                                      str(out)], timeout, self.env, f"{self.name} consume")
        return res, read_records(out)

    def seq(self, bootstrap, topic, n, extra=(), timeout=CALL_TIMEOUT):
        return run_driver(self.argv + ["seq", bootstrap, topic, str(n), *extra], timeout,
                          self.env, f"{self.name} seq")


read_records = read_jsonl       # a driver's consume output: one record per line


# -- topics (through confluent-kafka's AdminClient in this process) ----------

def create_topic(bootstrap, name, parts=PARTS, config=None, timeout=30):
    from confluent_kafka.admin import AdminClient, NewTopic
    a = AdminClient({"bootstrap.servers": bootstrap})
    fs = a.create_topics([NewTopic(name, parts, 1, config=dict(config or {}))],
                         operation_timeout=timeout, request_timeout=timeout)
    fs[name].result(timeout)
    # metadata propagates asynchronously in Kafka: wait until the leaders show up
    deadline = time.monotonic() + timeout
    while True:
        md = a.list_topics(name, timeout=10)
        t = md.topics.get(name)
        if t and t.error is None and len(t.partitions) == parts and \
                all(p.leader >= 0 for p in t.partitions.values()):
            return name
        if time.monotonic() > deadline:
            raise AssertionError(f"topic {name} has no leaders after {timeout}s: {t}")
        time.sleep(0.2)


def new_topic(broker, prefix, parts=PARTS, config=None):
    return create_topic(broker.bootstrap, unique_topic(prefix), parts, config)


# -- checks ------------------------------------------------------------------

def _norm_rec(d):
    return (d["k"], d["v"], [tuple(h) for h in d["h"]])


def check_round_trip(recs, acked, got, caps=(), ts_window=None, label=""):
    """got (consumed records) must be exactly recs: per partition in produce
    order, offsets contiguous from 0, byte-exact keys/values/headers and the
    CreateTime as sent; acked offsets (when known) match."""
    caps = set(caps)
    by_part = {}
    for r in recs:
        by_part.setdefault(r.p, []).append(r)
    got_by_part = {}
    for d in got:
        got_by_part.setdefault(d["p"], []).append(d)
    assert sorted(got_by_part) == sorted(by_part), \
        f"{label}: partitions {sorted(got_by_part)} != {sorted(by_part)}"
    if acked is not None:
        assert len(acked) == len(recs), f"{label}: {len(acked)} acks for {len(recs)} records"
    for p, want in by_part.items():
        have = got_by_part[p]
        offs = [d["o"] for d in have]
        assert offs == list(range(len(want))), \
            f"{label}: partition {p} offsets not contiguous from 0: {offs[:20]}..."
        for i, (w, d) in enumerate(zip(want, have)):
            exp = w.spec()
            assert _norm_rec(d) == (exp["k"], exp["v"], [tuple(h) for h in exp["h"]]), \
                f"{label}: p{p} offset {i} differs:\n want {exp}\n have {d}"
            if "timestamp" in caps:
                assert d["ts"] == w.ts, f"{label}: p{p}@{i} timestamp {d['ts']} != {w.ts}"
            elif ts_window:
                assert ts_window[0] - 5000 <= d["ts"] <= ts_window[1] + 5000, \
                    f"{label}: p{p}@{i} timestamp {d['ts']} outside {ts_window}"
    if acked is not None:
        pos = {}
        for r, (p, o) in zip(recs, acked):
            assert p == r.p, f"{label}: acked partition {p} != {r.p}"
            want_o = pos.get(p, 0)
            pos[p] = want_o + 1
            if o >= 0:
                assert o == want_o, f"{label}: acked offset {o} != {want_o} (p{p})"


def round_trip(prod, cons, broker, tmp_path, codec="none", acks="all", extra=(),
               prefix="rt"):
    """prod produces the record set with codec/acks, cons consumes it back."""
    caps = prod.caps & cons.caps | ({"timestamp"} & prod.caps)  # every consumer reports it
    if codec not in prod.codecs:
        pytest.skip(f"{prod.name} cannot produce {codec} here")
    recs = make_records(caps)
    topic = new_topic(broker, f"{prefix}-{codec}-{acks}")
    spec = tmp_path / f"spec-{uuid.uuid4().hex[:6]}.jsonl"
    write_spec(spec, recs)
    t0 = int(time.time() * 1000)
    res = prod.produce(broker.bootstrap, topic, spec, codec, acks, extra)
    t1 = int(time.time() * 1000)
    assert res["errors"] == [], f"{prod.name} produce errors: {res['errors'][:5]}"
    out = tmp_path / f"out-{uuid.uuid4().hex[:6]}.jsonl"
    _, got = cons.consume(broker.bootstrap, topic, PARTS, len(recs), out)
    check_round_trip(recs, res["acked"], got, caps, (t0, t1),
                     f"{prod.name}->{cons.name} {codec} acks={acks}")
    return topic, recs


# -- sequences (idempotence, crash) ------------------------------------------

def seq_value(i, tag="seq"):
    return b"%s-%08d" % (tag.encode(), i)


def check_sequence(values, acked, n, tag="seq", exact=True, label=""):
    """values: the consumed values (bytes) of one producer, in log order.
    Every acked index must be there exactly once, in increasing order; with
    exact, nothing but 0..n-1 may be in the log, each once."""
    pre = tag.encode() + b"-"
    idx = [int(v[len(pre):]) for v in values if v is not None and v.startswith(pre)]
    dups = len(idx) - len(set(idx))
    assert dups == 0, f"{label}: {dups} duplicated records, e.g. " \
                      f"{[i for i in set(idx) if idx.count(i) > 1][:10]}"
    assert idx == sorted(idx), f"{label}: records out of order"
    missing = sorted(set(acked) - set(idx))
    assert not missing, f"{label}: {len(missing)} acknowledged records missing: {missing[:20]}"
    assert all(0 <= i < n for i in idx), f"{label}: unknown sequence numbers"
    if exact and acked:
        top = max(acked)
        gaps = sorted(set(range(top + 1)) - set(idx))
        assert not gaps, f"{label}: gaps below the last acknowledged record: {gaps[:20]}"


def consume_all(bootstrap, topic, parts=1, timeout=90):
    """Every record of topic (partitions 0..parts-1) up to the end, read by
    the librdkafka driver (group-less): list of dicts {"p","o","k","v",..}
    with k/v as bytes."""
    import tempfile
    d = data_driver("rdkafka")
    with tempfile.TemporaryDirectory() as t:
        res = run_driver(d.argv + ["consume", bootstrap, topic, str(parts), "-1",
                                   f"{t}/out.jsonl"], timeout, None, "rdkafka consume")
        recs = read_records(f"{t}/out.jsonl")
    for r in recs:
        r["k"] = None if r["k"] is None else bytes.fromhex(r["k"])
        r["v"] = None if r["v"] is None else bytes.fromhex(r["v"])
    return recs
