# SPDX-License-Identifier: Apache-2.0
"""Runs the bystander client (tests/hostile/clients/bystander.c: a librdkafka
producer + consumer at a steady rate) and judges its report: per one-second
window (by send time) every record answered without error, p99 produce->ack
and produce->consume under a bound; overall nothing lost, duplicated or
reordered. The windows that count start WARMUP_S after the client reported
its first round trip on both partitions (its connections, metadata and
InitProducerId are done by then; the extra second keeps the broker's
first-touch of pools out of the figures)."""
import json
import os
import select
import signal
import subprocess
import time

WARMUP_S = 1.0
P99_MS = 50.0


class Bystander:
    def __init__(self, binary, bootstrap, topic, log_path, rate1=200, rate_all=50,
                 record_bytes=1024, seconds=240):
        self.argv = [binary, bootstrap, topic, f"rate1={rate1}", f"rate_all={rate_all}",
                     f"bytes={record_bytes}", f"seconds={seconds}", "drain_s=20"]
        self.log_path = log_path
        self.proc = None
        self.ready = None               # realtime of the first round trip
        self.result = None

    def start(self, timeout=30.0):
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self._log, env=env)
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                self.kill()
                raise AssertionError(f"bystander made no round trip within {timeout}s "
                                     f"(log {self.log_path})")
            c = os.read(self.proc.stdout.fileno(), 1)
            if not c:
                raise AssertionError(f"bystander exited rc={self.proc.wait()} "
                                     f"(log {self.log_path})")
            line += c
        self.ready = json.loads(line)["ready"]
        return self

    def warm_until(self):
        """Realtime from which windows count."""
        return self.ready + WARMUP_S

    def stop(self, timeout=60.0):
        """Ends the load, lets the client drain (bounded inside it) and
        returns its report."""
        if self.proc is None:
            return self.result
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"bystander did not finish its drain in {timeout}s")
        finally:
            self._log.close()
        self.proc = None
        lines = [l for l in out.decode(errors="replace").splitlines() if l.strip()]
        if not lines:
            raise AssertionError(f"bystander printed no report (log {self.log_path})")
        self.result = json.loads(lines[-1])
        return self.result

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def label(result, marks):
    """[(phase, window)]: each window after the warm-up with a phase it
    overlaps, an attack phase first (so a short attack has its windows),
    else the latest. marks: [(phase, realtime start)] in order, the last one
    ending the previous (the last phase runs on to the end); windows ending before the first mark are warm-up
    and left out."""
    out = []
    spans = [(n, t, marks[i + 1][1] if i + 2 < len(marks) else float("inf"))
             for i, (n, t) in enumerate(marks[:-1])]
    for w in result["windows"]:
        t0, t1 = w["t"], w["t"] + 1.0
        if t1 <= marks[0][1] + 1e-6:
            continue
        over = [n for n, a, b in spans if a < t1 and b > t0] or [spans[-1][0]]
        attack = [n for n in over if n != "baseline" and not n.startswith("after")]
        out.append((attack[0] if attack else over[-1], w))
    return out


def judge(result, marks, p99_ms=P99_MS):
    """Failure texts (empty when fine): every window after the warm-up, and
    the totals."""
    bad = []
    labelled = label(result, marks)
    seen = {n for n, _ in labelled}
    for n, _ in marks[:-1]:
        if n not in seen:
            bad.append(f"{n}: no bystander window")
    for name, w in labelled:
        why = []
        if w["unanswered"]:
            why.append(f"{w['unanswered']} unanswered")
        if w["ack_errors"]:
            why.append(f"{w['ack_errors']} delivery errors")
        if w["ack_p99_us"] > p99_ms * 1000:
            why.append(f"ack p99 {w['ack_p99_us'] / 1000:.1f} ms")
        if w["e2e_p99_us"] > p99_ms * 1000:
            why.append(f"e2e p99 {w['e2e_p99_us'] / 1000:.1f} ms")
        if w["consumed"] < w["acked"]:
            why.append(f"{w['acked'] - w['consumed']} acked, never consumed")
        if why:
            bad.append(f"{name} window +{w['t'] - result['start']:.0f}s: " + ", ".join(why))
    for key in ("lost", "dups", "reordered", "unacked", "ack_errors"):
        if result[key]:
            bad.append(f"bystander {key}: {result[key]}")
    if result["errors"]:
        bad.append(f"bystander errors ({result['errors_count']}): {result['errors'][:4]}")
    return bad


def summary(result, marks):
    """{phase: worst p99s (ms), windows, records sent}."""
    out = {}
    for name, w in label(result, marks):
        s = out.setdefault(name, {"windows": 0, "ack_p99_ms_max": 0.0,
                                  "e2e_p99_ms_max": 0.0, "ack_max_ms": 0.0, "sent": 0})
        s["windows"] += 1
        s["ack_p99_ms_max"] = max(s["ack_p99_ms_max"], w["ack_p99_us"] / 1000)
        s["e2e_p99_ms_max"] = max(s["e2e_p99_ms_max"], w["e2e_p99_us"] / 1000)
        s["ack_max_ms"] = max(s["ack_max_ms"], w["ack_max_us"] / 1000)
        s["sent"] += w["sent"]
    return out
