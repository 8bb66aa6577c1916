# SPDX-License-Identifier: Apache-2.0
"""Apache Kafka's kafka-topics tool (org.apache.kafka.tools.TopicCommand,
kafka-tools 3.9): output parsed the way an operator reads it."""
import re
import subprocess

import pytest

import scenarios as s
from conftest import JAVA_OPTS, java_classpath, unique_topic

P = "ktcli"
TIMEOUT = 90


@pytest.fixture(scope="module")
def cp():
    return java_classpath(with_classes=False)


def kt(cp, bootstrap, *args, ok=True):
    cmd = ["java", *JAVA_OPTS, "-cp", cp, "org.apache.kafka.tools.TopicCommand",
           "--bootstrap-server", bootstrap, *args]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=TIMEOUT)
    if ok:
        assert r.returncode == 0, f"kafka-topics {args}: rc={r.returncode}\n{r.stdout}\n{r.stderr}"
    else:
        assert r.returncode != 0, f"kafka-topics {args} should fail:\n{r.stdout}\n{r.stderr}"
    return r


def describe(cp, bootstrap, t):
    """{'id':..., 'count':N, 'rf':N, 'configs':{..}, 'partitions':[lines]}"""
    out = kt(cp, bootstrap, "--describe", "--topic", t).stdout
    head = re.search(r"^Topic: (\S+)\tTopicId: (\S+)\tPartitionCount: (\d+)\t"
                     r"ReplicationFactor: (\d+)\tConfigs: ?(.*)$", out, re.M)
    assert head and head[1] == t, out
    cfg = dict(kv.split("=", 1) for kv in head[5].split(",") if kv)
    parts = re.findall(r"^\tTopic: \S+\tPartition: (\d+)\tLeader: (-?\d+)\tReplicas: (\S+)"
                       r"\tIsr: (\S+)", out, re.M)
    return {"id": head[2], "count": int(head[3]), "rf": int(head[4]), "configs": cfg,
            "partitions": parts}


def test_create_list_describe_alter_delete(cp, broker):
    b = broker.bootstrap
    t = unique_topic(P)
    r = kt(cp, b, "--create", "--topic", t, "--partitions", "3", "--replication-factor", "1",
           "--config", "retention.ms=123456789")
    assert f"Created topic {t}." in r.stdout
    s.eventually(lambda: _in_list(cp, b, t, True))

    def d3():
        d = describe(cp, b, t)
        assert d["count"] == 3 and d["rf"] == 1 and len(d["partitions"]) == 3, d
        return d
    d = s.eventually(d3)
    assert d["configs"] == {"retention.ms": "123456789"}, d
    assert d["id"] != "AAAAAAAAAAAAAAAAAAAAAA" and len(d["id"]) == 22, d
    for p, leader, replicas, isr in d["partitions"]:
        assert replicas == leader and isr == leader, d["partitions"]

    kt(cp, b, "--alter", "--topic", t, "--partitions", "5")

    def d5():
        d2 = describe(cp, b, t)
        assert d2["count"] == 5 and len(d2["partitions"]) == 5, d2
        return d2
    assert s.eventually(d5)["id"] == d["id"]

    kt(cp, b, "--delete", "--topic", t)
    s.eventually(lambda: _in_list(cp, b, t, False))


def _in_list(cp, b, t, present):
    names = kt(cp, b, "--list").stdout.split()
    assert (t in names) == present, names


def test_errors(cp, broker):
    b = broker.bootstrap
    t = unique_topic(P)
    kt(cp, b, "--create", "--topic", t, "--partitions", "2")
    r = kt(cp, b, "--create", "--topic", t, "--partitions", "1", ok=False)
    assert "TopicExistsException" in r.stderr, r.stderr
    for bad in s.INVALID_NAMES:
        r = kt(cp, b, "--create", "--topic", bad, ok=False)
        assert "InvalidTopicException" in r.stderr, r.stderr
    r = kt(cp, b, "--create", "--topic", unique_topic(P), "--replication-factor", "3", ok=False)
    assert "InvalidReplicationFactorException" in r.stderr, r.stderr

    def d2():
        assert describe(cp, b, t)["count"] == 2
    s.eventually(d2)
    r = kt(cp, b, "--alter", "--topic", t, "--partitions", "1", ok=False)
    assert "InvalidPartitionsException" in r.stderr, r.stderr
    missing = unique_topic(P + "-none")
    r = kt(cp, b, "--delete", "--topic", missing, ok=False)
    assert "does not exist" in r.stderr, r.stderr
    r = kt(cp, b, "--describe", "--topic", missing, ok=False)
    assert "does not exist" in r.stderr, r.stderr
    kt(cp, b, "--delete", "--topic", t)


def test_defaults_from_broker(cp, broker):
    """No --partitions/--replication-factor: the broker's defaults (1, 1)."""
    b = broker.bootstrap
    t = unique_topic(P)
    kt(cp, b, "--create", "--topic", t)

    def d1():
        d = describe(cp, b, t)
        assert d["count"] == 1 and d["rf"] == 1 and d["configs"] == {}, d
    s.eventually(d1)
    kt(cp, b, "--delete", "--topic", t)
