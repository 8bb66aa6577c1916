# SPDX-License-Identifier: Apache-2.0
"""Helpers shared by the Python data drivers (protocol in ../data_scenarios.py)."""
import json
import sys


def unhex(x):
    return None if x is None else bytes.fromhex(x)


def hx(b):
    if b is None:
        return None
    if isinstance(b, str):
        b = b.encode()
    return bytes(b).hex()


def read_jsonl(path):
    """The objects of a JSON-lines file (a spec or a consumer's output),
    blank lines skipped; data_scenarios.py reads the drivers' output with it."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_spec(path):
    return [(d["p"], unhex(d["k"]), unhex(d["v"]), [(n, unhex(v)) for n, v in d["h"]], d["ts"])
            for d in read_jsonl(path)]


def extra_conf(args):
    conf = {}
    for a in args:
        k, v = a.split("=", 1)
        conf[k] = v
    return conf


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def write_records(path, recs):
    """recs: iterable of (p, o, key, value, headers[(name, bytes|None)], ts)."""
    n = 0
    with open(path, "w") as f:
        for p, o, k, v, h, ts in recs:
            f.write(json.dumps({"p": p, "o": o, "k": hx(k), "v": hx(v),
                                "h": [[name, hx(val)] for name, val in (h or [])],
                                "ts": ts}) + "\n")
            n += 1
    return n


def main(produce, consume):
    """A data driver's command line (protocol in ../data_scenarios.py):
    produce BOOTSTRAP TOPIC SPEC CODEC ACKS [k=v ...] |
    consume BOOTSTRAP TOPIC PARTS COUNT PATH."""
    a = sys.argv[1:]
    if a[0] == "produce":
        produce(a[1], a[2], a[3], a[4], a[5], a[6:])
    elif a[0] == "consume":
        consume(a[1], a[2], int(a[3]), int(a[4]), a[5])
    else:
        sys.exit(f"unknown op {a[0]}")
