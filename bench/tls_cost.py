#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The cost of TLS against PLAINTEXT on one broker: the same data produced
and consumed with kcat (librdkafka) through a PLAINTEXT and an SSL listener
of one Spillway (or, with --kafka, of Apache Kafka 3.9.1 started by
tests/integration/kafka/kafka-ref.sh), reporting wall time, MB/s and the
broker's CPU seconds per GB (utime + stime of the process, from /proc).
Certificates are made with the openssl CLI (EC P-256, TLS 1.3 negotiated).

    bench/tls_cost.py [--bin build/spillway] [--kafka] [--mb 256] [--record 1000]

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
    argv = [binary]
    for kv in spillway_tls_overrides(0, 0, d / "ks.pem") + [f"log.dir={d / 'data'}",
                                                            "spillway.metrics.listen="]:
        argv += ["--override", kv]
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    ports = {}
    for _ in range(200):
        ports = {m.group(1): int(m.group(4)) for m in LINE.finditer((d / "broker.log").read_text())}
        if len(ports) == 2:
            return proc, ports
        time.sleep(0.05)
    proc.kill()
    sys.exit("broker did not start:\n" + (d / "broker.log").read_text())


class Pid:
    def __init__(self, pid):
        self.pid = pid


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kafka_tls_overrides(plain, ssl, controller, keystore):
    """kafka-ref.sh key=value overrides for a PLAINTEXT and an SSL listener
    (PEM key store: key + chain in one file, as pki() writes ks.pem); also
    used by bench/compare."""
    return [f"listeners=PLAINTEXT://127.0.0.1:{plain},SSL://127.0.0.1:{ssl},"
            f"CONTROLLER://127.0.0.1:{controller}",
            f"controller.quorum.voters=1@127.0.0.1:{controller}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{plain},SSL://127.0.0.1:{ssl}",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL",
            "ssl.keystore.type=PEM", f"ssl.keystore.location={keystore}"]


def spillway_tls_overrides(plain, ssl, keystore):
    """Spillway --override values for the same two listeners."""
    return [f"listeners=PLAINTEXT://127.0.0.1:{plain},SSL://127.0.0.1:{ssl}",
            "ssl.keystore.type=PEM", f"ssl.keystore.location={keystore}"]


def rdkafka_ssl(d):
    """librdkafka settings of a client of the SSL listener (trusts pki()'s CA)."""
    return {"security.protocol": "ssl", "ssl.ca.location": str(Path(d) / "ca.pem")}


def start_kafka(d):
    """Kafka 3.9.1 with a PLAINTEXT and an SSL listener (PEM key store)."""
    ref = REPO / "tests" / "integration" / "kafka" / "kafka-ref.sh"
    p, s, c = free_port(), free_port(), free_port()
    kv = kafka_tls_overrides(p, s, c, d / "ks.pem")
    subprocess.run([str(ref), "start", str(p), str(d / "kafka"), *kv], check=True,
                   capture_output=True, timeout=180)
    pid = int((d / "kafka" / "kafka.pid").read_text())
    return Pid(pid), {"PLAINTEXT": p, "SSL": s}, lambda: subprocess.run(
        [str(ref), "stop", str(p), str(d / "kafka")], capture_output=True, timeout=60)


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
    ap.add_argument("--kafka", action="store_true", help="measure Apache Kafka instead")
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--record", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat (a JVM's later rounds are warm); each is printed")
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
        if a.kafka:
            proc, ports, stop = start_kafka(d)
        else:
            proc, ports = start(a.bin, d)
            stop = lambda: (proc.terminate(), proc.wait(timeout=20))  # noqa: E731
        gb = n * a.record / 1e9
        print(f"{n} records of {a.record} bytes ({gb * 1000:.0f} MB), kcat, "
              f"{'Kafka 3.9.1' if a.kafka else 'Spillway, one core'}")
        print(f"{'round':5} {'listener':10} {'phase':8} {'s':>7} {'MB/s':>8} "
              f"{'broker cpu s/GB':>16}")
        for rnd in range(1, a.rounds + 1):
            for name in ("PLAINTEXT", "SSL"):
                x = [] if name == "PLAINTEXT" else [
                    a for k, v in rdkafka_ssl(d).items() for a in ("-X", f"{k}={v}")]
                base = ["kcat", "-b", f"127.0.0.1:{ports[name]}", *x, "-t", f"bench-{name}-{rnd}"]
                wall, cpu = run(proc, [*base, "-P", "-p", "0", "-l", str(data),
                                       "-X", "linger.ms=5", "-X", "batch.size=1000000"])
                print(f"{rnd:5} {name:10} {'produce':8} {wall:7.2f} {gb * 1000 / wall:8.1f} "
                      f"{cpu / gb:16.2f}")
                wall, cpu = run(proc, [*base, "-C", "-p", "0", "-o", "beginning", "-e", "-q"])
                print(f"{rnd:5} {name:10} {'consume':8} {wall:7.2f} {gb * 1000 / wall:8.1f} "
                      f"{cpu / gb:16.2f}")
        stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
