#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The cost of TLS against PLAINTEXT on one broker: the same data produced
and consumed with kcat (librdkafka) through a PLAINTEXT and an SSL listener
of one Spillway, reporting wall time, MB/s and the broker's CPU seconds per
GB (utime + stime of the process, from /proc). Certificates are made with
the openssl CLI (EC P-256, TLS 1.3 negotiated).

    bench/tls_cost.py [--bin build/spillway] [--mb 256] [--record 1000]

Client and broker share the machine: kcat's own TLS work is in the wall
time, not in the broker's CPU figure."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINE = re.compile(r"listener (\S+) \((\S+)\) on (\S+):(\d+)")


def sh(*argv, cwd=None):
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True, timeout=120)


def pki(d):
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=ca", cwd=d)
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", "s.key", "-out", "s.csr", "-subj", "/CN=localhost", cwd=d)
    (d / "s.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    sh("openssl", "x509", "-req", "-in", "s.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
       "-CAcreateserial", "-out", "s.pem", "-days", "2", "-extfile", "s.ext", cwd=d)
    (d / "ks.pem").write_text((d / "s.key").read_text() + (d / "s.pem").read_text())


def cpu_s(pid):
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def start(binary, d):
    log = open(d / "broker.log", "w")
    proc = subprocess.Popen([binary, "--override",
                             "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
                             "--override", f"log.dir={d / 'data'}",
                             "--override", "spillway.metrics.listen=",
                             "--override", "ssl.keystore.type=PEM",
                             "--override", f"ssl.keystore.location={d / 'ks.pem'}"],
                            stdout=log, stderr=subprocess.STDOUT)
    ports = {}
    for _ in range(200):
        ports = {m.group(1): int(m.group(4)) for m in LINE.finditer((d / "broker.log").read_text())}
        if len(ports) == 2:
            return proc, ports
        time.sleep(0.05)
    proc.kill()
    sys.exit("broker did not start:\n" + (d / "broker.log").read_text())


def run(proc, argv, stdin=None):
    c0, t0 = cpu_s(proc.pid), time.monotonic()
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as f:
        r = subprocess.run(argv, stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=900)
    if r.returncode != 0:
        sys.exit(f"{argv}: {r.stderr.decode()[-2000:]}")
    return time.monotonic() - t0, cpu_s(proc.pid) - c0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(REPO / "build" / "spillway"))
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--record", type=int, default=1000)
    a = ap.parse_args()
    if shutil.which("kcat") is None:
        sys.exit("kcat is needed")
    d = Path(tempfile.mkdtemp(prefix="spw-tls-bench-"))
    try:
        pki(d)
        n = a.mb * 1000000 // (a.record + 1)
        data = d / "records.txt"
        with open(data, "w") as f:
            line = "r" * a.record + "\n"
            for _ in range(n):
                f.write(line)
        proc, ports = start(a.bin, d)
        gb = n * a.record / 1e9
        print(f"{n} records of {a.record} bytes ({gb * 1000:.0f} MB), kcat, one broker core")
        print(f"{'listener':10} {'phase':8} {'s':>7} {'MB/s':>8} {'broker cpu s/GB':>16}")
        for name in ("PLAINTEXT", "SSL"):
            x = [] if name == "PLAINTEXT" else ["-X", "security.protocol=ssl",
                                                 "-X", f"ssl.ca.location={d / 'ca.pem'}"]
            base = ["kcat", "-b", f"127.0.0.1:{ports[name]}", *x, "-t", f"bench-{name}"]
            wall, cpu = run(proc, [*base, "-P", "-p", "0", "-l", str(data),
                                   "-X", "linger.ms=5", "-X", "batch.size=1000000"])
            print(f"{name:10} {'produce':8} {wall:7.2f} {gb * 1000 / wall:8.1f} {cpu / gb:16.2f}")
            wall, cpu = run(proc, [*base, "-C", "-p", "0", "-o", "beginning", "-e", "-q"])
            print(f"{name:10} {'consume':8} {wall:7.2f} {gb * 1000 / wall:8.1f} {cpu / gb:16.2f}")
        proc.terminate()
        proc.wait(timeout=20)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
