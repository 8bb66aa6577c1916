# SPDX-License-Identifier: Apache-2.0
"""Consumer-group drivers shared by the test_groups_*.py modules.

Every driver: DRIVER BOOTSTRAP GROUP TOPIC [--max N] [--commit sync|auto]
[--deadline S] [--assignor A] [--instance ID] [k=v ...] subscribes TOPIC in
GROUP and prints one JSON line per event, each with "t" (ms since the epoch):
  start {client, group}
  assigned|revoked|lost {parts: of the callback, own: assignment after it, gen?}
  rec {p, o, v}          a record, printed before its offset is committed
  commit {offs: [[p, next_offset], ..]}  after a successful synchronous commit
  error {err} | fatal {err, msg} | exit {n, rc}
A "stop" line or EOF on stdin closes the consumer cleanly (LeaveGroup for
dynamic members); --max N stops after N records; --deadline bounds the run.
Drivers: clients/group_confluent.py, java/SpillwayGroup.java, go/group (franz).
"""
import json
import os
import subprocess

from conftest import CACHE, HERE, JAVA_OPTS, client_missing, find_tool, java_classpath

PY = "/usr/bin/python3"
GROUP_CLIENTS = ["confluent", "java", "franz"]


def group_argv(name):
    if name == "confluent":
        return [PY, str(HERE / "clients" / "group_confluent.py")]
    if name == "java":
        cp = java_classpath(with_classes=False) + f":{CACHE / 'java' / 'classes'}"
        if not (CACHE / "java" / "classes" / "SpillwayGroup.class").exists():
            client_missing("SpillwayGroup.class missing (run tests/integration/setup.sh)")
        return ["java", *JAVA_OPTS, "-cp", cp, "SpillwayGroup"]
    if name == "franz":
        return [find_tool("FRANZ_GROUP_BIN", ".cache/integration/bin/franz_group")]
    raise KeyError(name)


def run_group(name, bootstrap, group, topic, opts=(), timeout=90):
    """Run a driver to its end (--max / --deadline in opts); its events."""
    argv = group_argv(name) + [bootstrap, group, topic, *opts]
    rfd, wfd = os.pipe()  # stdin stays open: EOF would stop the driver
    try:
        r = subprocess.run(argv, stdin=rfd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{name} group driver timed out after {timeout}s\n"
                             f"stdout: {str(e.stdout)[-2000:]}\nstderr: {str(e.stderr)[-2000:]}")
    finally:
        os.close(rfd)
        os.close(wfd)
    evs = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    assert r.returncode == 0 and evs and evs[-1]["ev"] == "exit", \
        f"{name} rc={r.returncode}\nstdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}"
    return evs


def produce_numbered(bootstrap, topic, parts, start, n):
    """Values g-%08d for i in [start, start+n), partition i % parts."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    for i in range(start, start + n):
        p.produce(topic, value=b"g-%08d" % i, partition=i % parts)
        p.poll(0)
    assert p.flush(30) == 0, "records not delivered"
