#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""confluent-kafka-python consumer-group driver (protocol in ../group_scenarios.py).

    group_confluent.py BOOTSTRAP GROUP TOPIC [--max N] [--commit sync|revoke|auto]
                       [--deadline S] [--assignor A] [--instance ID] [k=v ...]

Subscribes TOPIC in GROUP and prints one JSON line per event (flushed):
start, assigned/revoked/lost (partitions of the callback, the whole
assignment after it, the generation), rec (p, o, v), commit (offsets
committed after processing), error / fatal (error_cb), exit. Records are
taken one poll() at a time, so a rebalance callback only ever sees records
already processed; the revoke callback commits them before the partitions go.
--commit revoke commits only in the revoke callback and before close: with
cooperative-sticky, librdkafka 2.0.2 drops its whole assignment when a commit
sent during a rebalance fails with ILLEGAL_GENERATION (librdkafka #4059,
fixed in 2.10), so the cooperative test commits only at the handoffs.
Stops cleanly (close = LeaveGroup for a dynamic member) on a "stop" line or
EOF on stdin, after --max records, at --deadline seconds or on a fatal error.
"""
import json
import select
import struct
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition


def now_ms():
    return int(time.time() * 1000)


def out(obj):
    obj.setdefault("t", now_ms())
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def group_meta(cons):
    """(generation, member id) from librdkafka's serialized group metadata
    ("CGMDv2:" int32 generation, then NUL-terminated group and member ids)."""
    try:
        b = cons.consumer_group_metadata()
        if isinstance(b, bytes) and b.startswith(b"CGMDv2:"):
            gen = struct.unpack("<i", b[7:11])[0]
            member = b[11:].split(b"\0")[1].decode(errors="replace")
            return gen, member
    except Exception:  # noqa: BLE001 - metadata is informational
        pass
    return None, None


def main(argv):
    bootstrap, group, topic = argv[:3]
    maxn, commit, deadline, conf = -1, "sync", 120.0, {}
    i = 3
    while i < len(argv):
        a = argv[i]
        if a in ("--max", "--commit", "--deadline", "--assignor", "--instance"):
            v = argv[i + 1]
            i += 2
            if a == "--max":
                maxn = int(v)
            elif a == "--commit":
                commit = v
            elif a == "--deadline":
                deadline = float(v)
            elif a == "--assignor":
                conf["partition.assignment.strategy"] = v
            else:
                conf["group.instance.id"] = v
            continue
        k, v = a.split("=", 1)
        conf[k] = v
        i += 1
    fatal = []

    def on_error(err):
        # error_cb's KafkaError is _FATAL without .fatal() set (1.7.0)
        if err.fatal() or err.code() == KafkaError._FATAL:
            fatal.append(err)
            out({"ev": "fatal", "err": err.name(), "msg": err.str()})
        else:
            out({"ev": "error", "err": err.name(), "msg": err.str()})

    c = {"bootstrap.servers": bootstrap, "group.id": group,
         "auto.offset.reset": "earliest", "enable.auto.commit": commit == "auto",
         "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
         "error_cb": on_error}
    c.update(conf)
    owned = set()
    pending = {}  # partition -> next offset, processed but not committed

    def do_commit(parts, retry=False):
        """Commit the processed offsets of parts; with retry, a failed commit
        (e.g. REBALANCE_IN_PROGRESS) leaves them pending for the next one."""
        offs = sorted((p, pending.pop(p)) for p in list(parts) if p in pending)
        if not offs or commit == "auto":
            return
        tps = [TopicPartition(topic, p, o) for p, o in offs]
        try:
            res = cons.commit(offsets=tps, asynchronous=False)
            errs = [str(t.error) for t in res or [] if t.error]
        except KafkaException as e:
            errs = [str(e)]
        if not errs:
            out({"ev": "commit", "offs": [[p, o] for p, o in offs]})
            return
        out({"ev": "error", "err": "commit: " + "; ".join(errs)})
        if retry:
            for p, o in offs:
                if p in owned:
                    pending.setdefault(p, o)

    def ev(name):
        def cb(consumer, parts):
            ps = sorted(p.partition for p in parts)
            if name == "revoked":
                do_commit(ps)
            for p in ps:
                if name == "lost":
                    pending.pop(p, None)
            if name == "assigned":
                owned.update(ps)
            else:
                owned.difference_update(ps)
            gen, member = group_meta(consumer)
            out({"ev": name, "parts": ps, "own": sorted(owned), "gen": gen, "member": member})
        return cb

    cons = Consumer(c)
    cons.subscribe([topic], on_assign=ev("assigned"), on_revoke=ev("revoked"),
                   on_lost=ev("lost"))
    out({"ev": "start", "client": "confluent", "group": group})
    n, stop_at = 0, time.monotonic() + deadline
    while time.monotonic() < stop_at and (maxn < 0 or n < maxn) and not fatal:
        r, _, _ = select.select([sys.stdin], [], [], 0)
        if r:
            line = sys.stdin.readline()
            if not line or line.strip() == "stop":
                break
        m, batch = cons.poll(0.2), 0
        while m is not None:
            if m.error():
                on_error(m.error())  # a fatal error comes this way too
            else:
                v = m.value()
                out({"ev": "rec", "p": m.partition(), "o": m.offset(),
                     "v": None if v is None else v.decode(errors="replace")})
                pending[m.partition()] = m.offset() + 1
                n += 1
                batch += 1
            if batch >= 100 or (maxn >= 0 and n >= maxn) or fatal:
                break
            m = cons.poll(0)
        if commit == "sync":
            do_commit(list(pending), retry=True)
    do_commit(list(pending))
    rc = 3 if fatal else 0
    try:
        cons.close()
    except KafkaException as e:
        out({"ev": "fatal" if fatal else "error", "err": f"close: {e}"})
    out({"ev": "exit", "n": n, "rc": rc})
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
