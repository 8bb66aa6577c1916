# SPDX-License-Identifier: Apache-2.0
"""Apache Kafka's kafka-consumer-groups tool (org.apache.kafka.tools.consumer.
group.ConsumerGroupCommand, kafka-tools 3.9.1) on groups made in raw frames:
--list, --describe with LAG, --reset-offsets, --delete."""
import re
import subprocess
import uuid

import pytest

import kgroups as g
from conftest import JAVA_OPTS, java_classpath
from kwire import PRODUCE, make_topics, parse_produce, produce_body, record_batch, roundtrip

TIMEOUT = 90
CLS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"


@pytest.fixture(scope="module")
def cp():
    return java_classpath(with_classes=False)


def kcg(cp, bootstrap, *args):
    r = subprocess.run(["java", *JAVA_OPTS, "-cp", cp, CLS, "--bootstrap-server", bootstrap,
                        *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, f"kafka-consumer-groups {args}: {r.stdout}\n{r.stderr}"
    return r.stdout


def lags(out, topic):
    """{partition: (current offset, log end offset, lag)} from --describe."""
    return {int(m[1]): (int(m[2]), int(m[3]), int(m[4])) for m in re.finditer(
        rf"^\S+\s+{re.escape(topic)}\s+(\d+)\s+(-|\d+)\s+(\d+)\s+(-|\d+)", out, re.M)}


def test_list_describe_lag_reset_delete(cp, broker):
    b = broker.bootstrap
    g.wait_coordinator(broker, "warmup")
    topic, = make_topics(broker, "cli", 1, 3)
    n = {0: 10, 1: 7, 2: 5}
    for p, k in n.items():
        got = parse_produce(7, roundtrip(broker, PRODUCE, 7, produce_body(7, [(topic, [(
            p, record_batch([b"v%d" % i for i in range(k)]))])])))
        assert got[0][2] == 0, got
    grp = f"cli-{uuid.uuid4().hex[:8]}"
    m = {0: 4, 1: 7, 2: 0}
    assert {e for *_, e in g.offset_commit(broker, 9, grp, [(topic, [(p, o, "")
                                                                      for p, o in m.items()])])} == {0}
    assert grp in kcg(cp, b, "--list").split()
    assert lags(kcg(cp, b, "--describe", "--group", grp), topic) == \
        {p: (m[p], n[p], n[p] - m[p]) for p in n}
    kcg(cp, b, "--reset-offsets", "--group", grp, "--topic", topic, "--to-earliest", "--execute")
    assert g.committed(broker, grp) == {(topic, p): 0 for p in n}
    kcg(cp, b, "--reset-offsets", "--group", grp, "--topic", topic, "--to-offset", "3",
        "--execute")
    assert g.committed(broker, grp) == {(topic, p): 3 for p in n}
    kcg(cp, b, "--delete", "--group", grp)
    assert grp not in kcg(cp, b, "--list").split()
    assert g.committed(broker, grp) == {}
