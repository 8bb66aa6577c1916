#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""confluent-kafka-python consumer-group driver (protocol in ../group_scenarios.py).

    group_confluent.py BOOTSTRAP GROUP TOPIC [--max N] [--commit sync|auto]
                       [--deadline S] [k=v ...]

Subscribes TOPIC in GROUP and prints one JSON line per event (flushed):
start, assigned/revoked/lost (with the partitions of the callback and the
whole assignment after it), rec (p, o, v), commit (offsets committed after
processing), error, exit. Stops cleanly (close = LeaveGroup) on a "stop" line
or EOF on stdin, after --max records, or at --deadline seconds.
"""
import json
import select
import sys
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition


def now_ms():
    return int(time.time() * 1000)


def out(obj):
    obj.setdefault("t", now_ms())
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(argv):
    bootstrap, group, topic = argv[:3]
    maxn, commit, deadline, conf = -1, "sync", 120.0, {}
    i = 3
    while i < len(argv):
        a = argv[i]
        if a in ("--max", "--commit", "--deadline"):
            v = argv[i + 1]
            i += 2
            if a == "--max":
                maxn = int(v)
            elif a == "--commit":
                commit = v
            else:
                deadline = float(v)
            continue
        k, v = a.split("=", 1)
        conf[k] = v
        i += 1
    c = {"bootstrap.servers": bootstrap, "group.id": group,
         "auto.offset.reset": "earliest", "enable.auto.commit": commit == "auto",
         "session.timeout.ms": 6000, "heartbeat.interval.ms": 500}
    c.update(conf)
    owned = set()

    def ev(name):
        def cb(consumer, parts):
            ps = sorted(p.partition for p in parts)
            if name == "assigned":
                owned.update(ps)
            else:
                owned.difference_update(ps)
            out({"ev": name, "parts": ps, "own": sorted(owned)})
        return cb

    cons = Consumer(c)
    cons.subscribe([topic], on_assign=ev("assigned"), on_revoke=ev("revoked"),
                   on_lost=ev("lost"))
    out({"ev": "start", "client": "confluent", "group": group})
    n, stop_at = 0, time.monotonic() + deadline
    rc = 0
    while time.monotonic() < stop_at and (maxn < 0 or n < maxn):
        r, _, _ = select.select([sys.stdin], [], [], 0)
        if r:
            line = sys.stdin.readline()
            if not line or line.strip() == "stop":
                break
        msgs = cons.consume(num_messages=100 if maxn < 0 else min(100, maxn - n), timeout=0.2)
        done = {}
        for m in msgs:
            if m.error():
                out({"ev": "error", "err": str(m.error())})
                continue
            v = m.value()
            out({"ev": "rec", "p": m.partition(), "o": m.offset(),
                 "v": None if v is None else v.decode(errors="replace")})
            done[m.partition()] = m.offset() + 1
            n += 1
        if done and commit == "sync":
            tps = [TopicPartition(topic, p, o) for p, o in sorted(done.items())]
            try:
                res = cons.commit(offsets=tps, asynchronous=False)
                errs = [str(t.error) for t in res or [] if t.error]
                if errs:
                    out({"ev": "error", "err": "commit: " + "; ".join(errs)})
                else:
                    out({"ev": "commit", "offs": [[t.partition, t.offset] for t in tps]})
            except KafkaException as e:
                out({"ev": "error", "err": f"commit: {e}"})
    cons.close()
    out({"ev": "exit", "n": n, "rc": rc})
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
