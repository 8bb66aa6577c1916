#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""kcat -G consumer-group driver (protocol in ../group_scenarios.py).

    group_kcat.py BOOTSTRAP GROUP TOPIC [--deadline S] [--assignor A]
                  [--instance ID] [k=v ...]

Runs `kcat -G GROUP TOPIC` (librdkafka's high-level consumer, auto commit
every 500 ms and on revoke/close) and turns its output into the JSON event
lines of the other drivers: records from `-f 'R %p %o %s'` on stdout,
assigned/revoked from kcat's "% Group G rebalanced (memberid M): assigned:
t [0], .." lines on stderr, the generation from librdkafka's cgrp debug log
("JoinGroup response: GenerationId N"). kcat reports no commits, so there are
no commit events. A "stop" line or EOF on stdin sends kcat SIGTERM (it closes
the consumer: final commit and LeaveGroup).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

REBAL = re.compile(r"^% Group .* rebalanced \(memberid ([^)]*)\): (assigned|revoked): ?(.*)$")
JOIN = re.compile(r"JoinGroup response: GenerationId (-?\d+)")
PART = re.compile(r"\[(\d+)\]")
lock = threading.Lock()


def out(obj):
    obj.setdefault("t", int(time.time() * 1000))
    with lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def main(argv):
    bootstrap, group, topic = argv[:3]
    deadline = 120.0
    conf = {"auto.offset.reset": "earliest", "session.timeout.ms": "6000",
            "heartbeat.interval.ms": "500", "auto.commit.interval.ms": "500",
            "debug": "cgrp"}
    i = 3
    while i < len(argv):
        a = argv[i]
        if a in ("--deadline", "--assignor", "--instance", "--max", "--commit"):
            v = argv[i + 1]
            i += 2
            if a == "--deadline":
                deadline = float(v)
            elif a == "--assignor":
                conf["partition.assignment.strategy"] = v
            elif a == "--instance":
                conf["group.instance.id"] = v
            elif a == "--commit" and v != "auto" or a == "--max":
                sys.stderr.write(f"group_kcat: {a} {v} not supported\n")
                return 2
            continue
        k, v = a.split("=", 1)
        conf[k] = v
        i += 1
    kcat = os.environ.get("KCAT_BIN") or shutil.which("kcat") or shutil.which("kafkacat")
    argv = [kcat, "-b", bootstrap, "-G", group, "-u", "-f", "R %p %o %s\\n"]
    for k, v in conf.items():
        argv += ["-X", f"{k}={v}"]
    argv.append(topic)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace")
    state = {"gen": None, "n": 0}
    owned = set()

    def read_out():
        for line in proc.stdout:
            f = line.rstrip("\n").split(" ", 3)
            if len(f) >= 3 and f[0] == "R":
                out({"ev": "rec", "p": int(f[1]), "o": int(f[2]),
                     "v": f[3] if len(f) > 3 else ""})
                state["n"] += 1

    def read_err():
        for line in proc.stderr:
            line = line.rstrip("\n")
            m = JOIN.search(line)
            if m and int(m.group(1)) >= 0:
                state["gen"] = int(m.group(1))
                continue
            m = REBAL.match(line)
            if m:
                ps = sorted(int(p) for p in PART.findall(m.group(3)))
                if m.group(2) == "assigned":
                    owned.update(ps)
                else:
                    owned.difference_update(ps)
                out({"ev": m.group(2), "parts": ps, "own": sorted(owned),
                     "gen": state["gen"], "member": m.group(1)})
            elif line.startswith("% ERROR") or line.startswith("%3|") or line.startswith("%0|"):
                out({"ev": "error", "err": line[:300]})

    ts = [threading.Thread(target=read_out, daemon=True),
          threading.Thread(target=read_err, daemon=True)]
    for t in ts:
        t.start()

    def stop_on_stdin():
        for line in sys.stdin:
            if line.strip() == "stop":
                break
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)

    threading.Thread(target=stop_on_stdin, daemon=True).start()
    out({"ev": "start", "client": "kcat", "group": group})
    try:
        rc = proc.wait(timeout=deadline)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
    for t in ts:
        t.join(timeout=5)
    out({"ev": "exit", "n": state["n"], "rc": 0 if rc in (0, -signal.SIGTERM) else rc})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
