# SPDX-License-Identifier: Apache-2.0
"""kcat -L (Debian kcat 1.7.1, librdkafka 2.0.2): metadata as printed by the
tool, plain text and -J JSON. Topics are made with the librdkafka C driver
when it is built, else with confluent-kafka-python."""
import json
import re
import shutil
import subprocess

import pytest

import scenarios as s
from conftest import client_missing, HERE, REPO, unique_topic

P = "kcat"
TIMEOUT = 60


@pytest.fixture(scope="module", autouse=True)
def need_kcat():
    if shutil.which("kcat") is None:
        client_missing("kcat not installed")


@pytest.fixture(scope="module")
def admin():
    exe = REPO / "build/tests/integration/rdkafka_admin"
    alt = REPO / ".cache/integration/bin/rdkafka_admin"
    for p in (exe, alt):
        if p.exists():
            return s.Driver([str(p)], name="rdkafka_admin")
    return s.Driver(["/usr/bin/python3", str(HERE / "clients" / "confluent_admin.py")],
                    name="confluent-python")


def kcat(bootstrap, *args):
    r = subprocess.run(["kcat", "-b", bootstrap, "-m", "20", *args],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, f"kcat {args} rc={r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


TOPIC_RE = re.compile(r'^  topic "(?P<name>[^"]+)" with (?P<n>\d+) partitions:(?P<err>.*)$')
PART_RE = re.compile(r"^    partition (?P<p>\d+), leader (?P<leader>-?\d+), "
                     r"replicas: (?P<replicas>[\d,]*), isrs: (?P<isrs>[\d,]*)(?P<err>.*)$")
BROKER_RE = re.compile(r"^  broker (?P<id>-?\d+) at (?P<addr>\S+)(?P<ctrl> \(controller\))?$")


def parse_L(text):
    """Parse `kcat -L` plain output into brokers and topics."""
    brokers, topics, cur = {}, {}, None
    for line in text.splitlines():
        m = BROKER_RE.match(line)
        if m:
            brokers[int(m["id"])] = {"addr": m["addr"], "controller": bool(m["ctrl"])}
            continue
        m = TOPIC_RE.match(line)
        if m:
            cur = topics[m["name"]] = {"n": int(m["n"]), "err": m["err"].strip() or None,
                                       "partitions": {}}
            continue
        m = PART_RE.match(line)
        if m and cur is not None:
            cur["partitions"][int(m["p"])] = {
                "leader": int(m["leader"]),
                "replicas": [int(x) for x in m["replicas"].split(",") if x],
                "isrs": [int(x) for x in m["isrs"].split(",") if x],
                "err": m["err"].strip() or None}
    return brokers, topics


def test_list_brokers_and_topics(broker, admin):
    t = unique_topic(P)
    assert admin.call(broker.bootstrap, "create", t, 3, 1, "retention.ms=60000")["error"] is None

    def shown():
        brokers, topics = parse_L(kcat(broker.bootstrap, "-L"))
        assert len(brokers) == 1, brokers
        (bid, b), = brokers.items()
        assert b["addr"] == broker.bootstrap, b
        assert b["controller"], "the only broker must be the controller"
        assert t in topics, topics.keys()
        assert topics[t]["n"] == 3 and topics[t]["err"] is None, topics[t]
        for p in range(3):
            part = topics[t]["partitions"][p]
            assert part["leader"] == bid and part["replicas"] == [bid], part
            assert part["isrs"] == [bid] and part["err"] is None, part
        assert not any(name.startswith("__") and name == t for name in topics)
    s.eventually(shown)
    assert admin.call(broker.bootstrap, "delete", t)["error"] is None


def test_list_json(broker, admin):
    t = unique_topic(P)
    assert admin.call(broker.bootstrap, "create", t, 2, 1)["error"] is None

    def shown():
        md = json.loads(kcat(broker.bootstrap, "-L", "-J", "-t", t))
        assert md["controllerid"] == md["brokers"][0]["id"], md
        (top,) = md["topics"]
        assert top["topic"] == t and "error" not in top, top
        assert [p["partition"] for p in top["partitions"]] == [0, 1], top
    s.eventually(shown)
    assert admin.call(broker.bootstrap, "delete", t)["error"] is None


def test_auto_create_on(broker):
    """kcat's producer handle asks for auto-creation: the topic appears."""
    t = unique_topic(P + "-auto")
    kcat(broker.bootstrap, "-L", "-t", t)

    def created():
        _, topics = parse_L(kcat(broker.bootstrap, "-L", "-t", t))
        assert topics[t]["err"] is None and topics[t]["n"] == 1, topics[t]
    s.eventually(created)
    _, topics = parse_L(kcat(broker.bootstrap, "-L"))
    assert t in topics


def test_auto_create_off(noauto_broker):
    t = unique_topic(P + "-off")
    for _ in range(3):
        _, topics = parse_L(kcat(noauto_broker.bootstrap, "-L", "-t", t))
        assert topics[t]["n"] == 0, topics[t]
        assert topics[t]["err"] == "Broker: Unknown topic or partition", topics[t]
    _, topics = parse_L(kcat(noauto_broker.bootstrap, "-L"))
    assert t not in topics
