#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""kcat data driver (protocol in ../data_scenarios.py), driving kcat 1.7.1.

kcat's producer reads records from stdin split by -D (multi-byte) and -K
(one byte) delimiters, so: keys must not contain the key delimiter 0x1f, an
empty key is sent as null, a record's CreateTime is the send time (no
timestamp option), headers (-H) apply to every record of a run, and -Z turns
empty values into tombstones. produce runs kcat once per partition; extra
args: headers=name=value;name=value (-H for all records) and tombstones=1
(-Z). Offsets are not reported by kcat: acks carry -1."""
import subprocess
import sys

from data_common import main, out, read_spec, write_records

KEY_DELIM = b"\x1f"
MSG_DELIM = b"\x1e\x1e\x1e\x1e"


def produce(bootstrap, topic, spec, codec, acks, extra):
    opts = dict(a.split("=", 1) for a in extra)
    recs = read_spec(spec)
    acked, errors = [None] * len(recs), []
    for part in sorted({r[0] for r in recs}):
        idx = [i for i, r in enumerate(recs) if r[0] == part]
        data = b""
        for i in idx:
            _, k, v, _, _ = recs[i]
            assert k is None or (k and KEY_DELIM not in k), "kcat cannot send this key"
            data += (b"" if k is None else k + KEY_DELIM) + (v or b"") + MSG_DELIM
        argv = ["kcat", "-P", "-b", bootstrap, "-t", topic, "-p", str(part),
                "-z", codec, "-X", f"acks={acks}", "-K", KEY_DELIM.decode(),
                "-D", MSG_DELIM.decode()]
        if opts.get("tombstones") == "1":
            argv.append("-Z")
        for h in filter(None, opts.get("headers", "").split(";")):
            argv += ["-H", h]
        r = subprocess.run(argv, input=data, capture_output=True, timeout=60)
        if r.returncode != 0 or b"fail" in r.stderr.lower():
            errors.append(f"kcat p{part} rc={r.returncode}: {r.stderr[-500:]!r}")
            continue
        for i in idx:
            acked[i] = [part, -1]
    out({"acked": [a for a in acked if a], "errors": errors})


def consume(bootstrap, topic, parts, count, path):
    got = []
    for part in range(parts):
        r = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-p", str(part),
                            "-o", "beginning", "-e", "-q", "-f", "%p %o %K %S %T %h\n%k%s\n"],
                           capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            sys.exit(f"kcat -C failed: {r.stderr[-1000:]!r}")
        buf, pos = r.stdout, 0
        while pos < len(buf):
            nl = buf.index(b"\n", pos)
            fields = buf[pos:nl].decode().split(" ", 5)
            p, o, klen, vlen, ts = (int(x) for x in fields[:5])
            hdrs = []
            if len(fields) > 5 and fields[5]:
                for kv in fields[5].split(","):
                    n, _, v = kv.partition("=")
                    hdrs.append((n, v.encode()))
            pos = nl + 1
            k = None if klen < 0 else buf[pos:pos + klen]
            pos += max(klen, 0)
            v = None if vlen < 0 else buf[pos:pos + vlen]
            pos += max(vlen, 0) + 1
            got.append((p, o, k, v, hdrs, ts))
    out({"count": write_records(path, got[:count] if count else got)})


if __name__ == "__main__":
    main(produce, consume)
