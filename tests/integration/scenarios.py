# SPDX-License-Identifier: Apache-2.0
"""Admin scenarios, run by test_admin.py once for every client in ADMIN_CLIENTS.

Every client has a small driver program speaking one protocol:

    <driver...> BOOTSTRAP OP ARGS...   -> one JSON object on the last stdout line

  cluster                                {"brokers":[id..], "controller":id|null}
  create NAME PARTS RF [--validate-only] [--assign P0B,P0B;P1B...] [k=v ...]
                                         {"error":E}
  list                                   {"topics":[name..]}   (no internal topics)
  describe NAME                          {"error":E, "partitions":N, "id":HEX32|null}
  configs topic|broker NAME              {"error":E, "configs":{k:{"value":v,"source":S}}}
  partitions NAME TOTAL                  {"error":E}
  delete NAME                            {"error":E}
  delete-id HEX32                        {"error":E}

E is null or Kafka's error name (TOPIC_ALREADY_EXISTS, ...); S is Kafka's
ConfigSource name (DEFAULT_CONFIG, DYNAMIC_TOPIC_CONFIG, ...); topic ids are the
16 UUID bytes in hex. Each driver maps its own client's error representation to
those names; the tests then check Kafka's behaviour once for every client.
"""
import json
import re
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import (HERE, JAVA_OPTS, client_missing, find_tool, java_classpath,
                      unique_topic)

CALL_TIMEOUT = 90


class Driver:
    def __init__(self, argv, caps=(), env=None, name="driver", prefix="drv"):
        self.argv = list(argv)
        self.caps = set(caps)
        self.env = env
        self.name = name
        self.prefix = prefix  # of the topics its scenarios create

    def call(self, bootstrap, op, *args, timeout=CALL_TIMEOUT):
        cmd = self.argv + [bootstrap, op] + [str(a) for a in args]
        return run_json(cmd, f"{self.name} {op} {args}", timeout, self.env)


def run_json(cmd, what, timeout=CALL_TIMEOUT, env=None):
    """Run a driver program; the JSON object on its last stdout line. A
    timeout, a non-zero exit or no JSON fails the test with its output."""
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{what} timed out after {timeout}s\n"
                             f"stdout: {str(e.stdout)[-3000:]}\n"
                             f"stderr: {str(e.stderr)[-3000:]}") from None
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    if r.returncode != 0 or not lines:
        raise AssertionError(f"{what} failed rc={r.returncode}\n"
                             f"stdout: {r.stdout[-3000:]}\nstderr: {r.stderr[-3000:]}")
    try:
        return json.loads(lines[-1])
    except ValueError:
        raise AssertionError(f"{what}: no JSON on last line\n"
                             f"stdout: {r.stdout[-3000:]}\nstderr: {r.stderr[-3000:]}") from None


class AdminClient:
    """One admin client of the suite: its driver command (built lazily, so a
    client that is not installed skips its tests instead of failing
    collection), the topic-name prefix and what it can do (caps):

      config_source   reports ConfigSource per config
      topic_id        shows topic ids (describe, delete-id)
      create_id       CreateTopics answer carries the new topic's id
      describe_id     describe-id NAME -> {"error", "name", "partitions", "id"}
      default_counts  can send -1 partitions / replication factor
      restart         runs the restart test (one client per language is enough)
      metadata        metadata NAME auto|noauto -> {"error", "partitions"}
    """

    def __init__(self, id, prefix, caps, argv, doc):
        self.id, self.prefix, self.caps, self._argv, self.doc = id, prefix, set(caps), argv, doc
        self._driver = None

    def argv(self):
        """The driver's command (skips the test if the client is missing)."""
        return self._argv()

    def driver(self):
        if self._driver is None:
            self._driver = Driver(self.argv(), caps=self.caps, name=self.id,
                                  prefix=self.prefix)
        return self._driver


def _kafkajs_argv():
    if shutil.which("node") is None:
        client_missing("node not installed")
    if not (HERE / "js" / "node_modules" / "kafkajs").is_dir():
        client_missing("kafkajs not installed (run tests/integration/setup.sh)")
    return ["node", str(HERE / "js" / "admin.js")]


ADMIN_CLIENTS = [
    AdminClient(
        "confluent-python", "cfpy", {"config_source", "default_counts"},
        lambda: ["/usr/bin/python3", str(HERE / "clients" / "confluent_admin.py")],
        "confluent-kafka-python AdminClient (Debian python3-confluent-kafka 1.7.0, "
        "librdkafka 2.0.2). No topic ids in this client version."),
    AdminClient(
        "kafka-python", "kpy", {"config_source"},
        lambda: ["/usr/bin/python3", str(HERE / "clients" / "kafka_python_admin.py")],
        "kafka-python KafkaAdminClient (Debian python3-kafka 2.0.2). It negotiates "
        "versions itself from ApiVersions v0 and cannot send -1 partitions/RF."),
    AdminClient(
        "franz-go", "franz",
        {"config_source", "topic_id", "create_id", "default_counts", "restart"},
        lambda: [find_tool("FRANZ_ADMIN_BIN", ".cache/integration/bin/franz_admin")],
        "franz-go kadm (go/main.go, franz-go v1.15 / kadm v1.11): topic ids "
        "(CreateTopics v7 returns them), delete by id and the restart test."),
    AdminClient(
        "java", "java",
        {"config_source", "topic_id", "describe_id", "default_counts", "restart"},
        lambda: ["java", *JAVA_OPTS, "-cp", java_classpath(), "SpillwayAdmin"],
        "Apache Kafka Java AdminClient 3.9 (java/SpillwayAdmin.java): topic ids, "
        "delete/describe by id and the restart test."),
    AdminClient(
        "rdkafka-c", "rdc", {"config_source", "default_counts", "metadata"},
        lambda: [find_tool("RDKAFKA_ADMIN_BIN", "build/tests/integration/rdkafka_admin",
                           ".cache/integration/bin/rdkafka_admin")],
        "librdkafka 2.0.2 admin API from C (clients/rdkafka_admin.c): no topic ids, "
        "no delete-by-id; Metadata AllowAutoTopicCreation."),
    AdminClient(
        "kafkajs", "kjs", {"config_source", "default_counts"}, _kafkajs_argv,
        "kafkajs 2.2.4 admin (js/admin.js; `npm ci` in js/). kafkajs does not "
        "negotiate like the others: it picks its own versions from ApiVersions, "
        "needs a live controller id in Metadata and shows no topic ids."),
]


def admin_client(id):
    """The AdminClient of ADMIN_CLIENTS with that id."""
    for c in ADMIN_CLIENTS:
        if c.id == id:
            return c
    raise KeyError(id)


# scenarios called as fn(d, b); the others as fn(d, b, prefix)
_NO_PREFIX = {"cluster", "invalid_names", "broker_configs"}


def run(name, d, b, prefix=None):
    """Run the scenario called name with driver d against broker b; prefix
    (of its topic names) defaults to the driver's."""
    fn = globals()[name]
    if name in _NO_PREFIX:
        return fn(d, b)
    return fn(d, b, prefix or d.prefix)


def eventually(fn, timeout=20.0, interval=0.3):
    """Retry fn until it stops raising AssertionError (metadata propagates
    asynchronously in Kafka, even on one node)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(interval)


def is_topic_id(x):
    return isinstance(x, str) and re.fullmatch(r"[0-9a-f]{32}", x) and x != "0" * 32


INVALID_NAMES = ["bad/name", "..", "x" * 250]
RETENTION = "123456789"


# ---------------------------------------------------------------------------
def lifecycle(d, b, prefix):
    """create (3 partitions + retention.ms) -> list -> describe -> configs ->
    add partitions -> delete."""
    t = unique_topic(prefix)
    r = d.call(b.bootstrap, "create", t, 3, 1, f"retention.ms={RETENTION}")
    assert r["error"] is None, r

    def listed():
        assert t in d.call(b.bootstrap, "list")["topics"]
    eventually(listed)

    def has_partitions(n):
        r = d.call(b.bootstrap, "describe", t)
        assert r["error"] is None, r
        assert r["partitions"] == n, r
        return r
    desc = eventually(lambda: has_partitions(3))
    if "topic_id" in d.caps:
        assert is_topic_id(desc["id"]), desc

    cfg = d.call(b.bootstrap, "configs", "topic", t)
    assert cfg["error"] is None, cfg
    c = cfg["configs"]
    assert c["retention.ms"]["value"] == RETENTION, c.get("retention.ms")
    assert c["cleanup.policy"]["value"] == "delete", c.get("cleanup.policy")
    assert c["max.message.bytes"]["value"] == "1048588", c.get("max.message.bytes")
    if "config_source" in d.caps:
        assert c["retention.ms"]["source"] == "DYNAMIC_TOPIC_CONFIG", c["retention.ms"]
        assert c["cleanup.policy"]["source"] == "DEFAULT_CONFIG", c["cleanup.policy"]

    r = d.call(b.bootstrap, "partitions", t, 5)
    assert r["error"] is None, r
    desc2 = eventually(lambda: has_partitions(5))
    if "topic_id" in d.caps:
        assert desc2["id"] == desc["id"], (desc, desc2)

    r = d.call(b.bootstrap, "delete", t)
    assert r["error"] is None, r

    def gone():
        assert t not in d.call(b.bootstrap, "list")["topics"]
    eventually(gone)


def duplicate(d, b, prefix):
    t = unique_topic(prefix)
    assert d.call(b.bootstrap, "create", t, 1, 1)["error"] is None
    r = d.call(b.bootstrap, "create", t, 1, 1)
    assert r["error"] == "TOPIC_ALREADY_EXISTS", r
    assert d.call(b.bootstrap, "delete", t)["error"] is None


def invalid_names(d, b, names=INVALID_NAMES):
    for name in names:
        r = d.call(b.bootstrap, "create", name, 1, 1)
        assert r["error"] == "INVALID_TOPIC_EXCEPTION", (name[:20], r)


def replication_factor(d, b, prefix):
    t = unique_topic(prefix)
    r = d.call(b.bootstrap, "create", t, 1, 3)
    assert r["error"] == "INVALID_REPLICATION_FACTOR", r
    assert t not in d.call(b.bootstrap, "list")["topics"]


def partitions_errors(d, b, prefix):
    t = unique_topic(prefix)
    assert d.call(b.bootstrap, "create", t, 3, 1)["error"] is None
    eventually(lambda: _assert_partitions(d, b, t, 3))
    r = d.call(b.bootstrap, "partitions", t, 2)
    assert r["error"] == "INVALID_PARTITIONS", r
    r = d.call(b.bootstrap, "partitions", t, 3)
    assert r["error"] == "INVALID_PARTITIONS", r
    assert d.call(b.bootstrap, "describe", t)["partitions"] == 3
    r = d.call(b.bootstrap, "partitions", unique_topic(prefix + "-none"), 4)
    assert r["error"] == "UNKNOWN_TOPIC_OR_PARTITION", r
    assert d.call(b.bootstrap, "delete", t)["error"] is None


def _assert_partitions(d, b, t, n):
    r = d.call(b.bootstrap, "describe", t)
    assert r["error"] is None and r["partitions"] == n, r


def unknown_topic(d, b, prefix):
    t = unique_topic(prefix + "-none")
    r = d.call(b.bootstrap, "delete", t)
    assert r["error"] == "UNKNOWN_TOPIC_OR_PARTITION", r
    r = d.call(b.bootstrap, "describe", t)
    assert r["error"] == "UNKNOWN_TOPIC_OR_PARTITION", r
    # describing must not have auto-created it
    assert t not in d.call(b.bootstrap, "list")["topics"]


def validate_only(d, b, prefix):
    t = unique_topic(prefix)
    r = d.call(b.bootstrap, "create", t, 2, 1, "--validate-only", "retention.ms=1000")
    assert r["error"] is None, r
    r = d.call(b.bootstrap, "create", t, 2, 3, "--validate-only")
    assert r["error"] == "INVALID_REPLICATION_FACTOR", r
    time.sleep(0.5)
    assert t not in d.call(b.bootstrap, "list")["topics"]
    r = d.call(b.bootstrap, "describe", t)
    assert r["error"] == "UNKNOWN_TOPIC_OR_PARTITION", r


def broker_defaults(d, b, prefix):
    """-1 partitions / -1 replication factor take the broker defaults
    (num.partitions=1, default.replication.factor=1)."""
    t = unique_topic(prefix)
    r = d.call(b.bootstrap, "create", t, -1, -1)
    assert r["error"] is None, r
    eventually(lambda: _assert_partitions(d, b, t, 1))
    assert d.call(b.bootstrap, "delete", t)["error"] is None


def replica_assignment(d, b, prefix):
    cl = d.call(b.bootstrap, "cluster")
    assert len(cl["brokers"]) == 1, cl
    node = cl["brokers"][0]
    t = unique_topic(prefix)
    r = d.call(b.bootstrap, "create", t, -1, -1, "--assign", f"{node};{node}")
    assert r["error"] is None, r
    eventually(lambda: _assert_partitions(d, b, t, 2))
    assert d.call(b.bootstrap, "delete", t)["error"] is None
    # a replica on a broker that does not exist
    t2 = unique_topic(prefix)
    r = d.call(b.bootstrap, "create", t2, -1, -1, "--assign", f"{node + 1000}")
    assert r["error"] == "INVALID_REPLICA_ASSIGNMENT", r


def cluster(d, b):
    cl = d.call(b.bootstrap, "cluster")
    assert len(cl["brokers"]) == 1, cl
    if cl.get("controller") is not None:
        # a live broker (kafkajs relies on it)
        assert cl["controller"] in cl["brokers"], cl


def broker_configs(d, b):
    node = d.call(b.bootstrap, "cluster")["brokers"][0]
    r = d.call(b.bootstrap, "configs", "broker", node)
    assert r["error"] is None, r
    c = r["configs"]
    assert c["log.retention.hours"]["value"] == "168", c.get("log.retention.hours")
    assert c["num.partitions"]["value"] == "1", c.get("num.partitions")
    if "config_source" in d.caps:
        assert c["log.retention.hours"]["source"] == "DEFAULT_CONFIG", c["log.retention.hours"]


def delete_by_id(d, b, prefix):
    t = unique_topic(prefix)
    assert d.call(b.bootstrap, "create", t, 2, 1)["error"] is None
    desc = eventually(lambda: described(d, b, t))
    tid = desc["id"]
    assert is_topic_id(tid), desc
    r = d.call(b.bootstrap, "delete-id", tid)
    assert r["error"] is None, r

    def gone():
        assert t not in d.call(b.bootstrap, "list")["topics"]
    eventually(gone)
    r = d.call(b.bootstrap, "delete-id", uuid.uuid4().hex)
    assert r["error"] == "UNKNOWN_TOPIC_ID", r


def described(d, b, t):
    r = d.call(b.bootstrap, "describe", t)
    assert r["error"] is None, r
    return r


def restart_persists(d, broker_factory, prefix):
    """Topic, partition count, id and config survive a broker restart."""
    b = broker_factory()
    t = unique_topic(prefix)
    assert d.call(b.bootstrap, "create", t, 4, 1, f"retention.ms={RETENTION}",
                  "cleanup.policy=compact")["error"] is None
    before = eventually(lambda: described(d, b, t))
    b.restart()
    after = eventually(lambda: described(d, b, t), timeout=60)
    assert after["partitions"] == 4, after
    if "topic_id" in d.caps:
        assert is_topic_id(before["id"]) and after["id"] == before["id"], (before, after)
    c = d.call(b.bootstrap, "configs", "topic", t)["configs"]
    assert c["retention.ms"]["value"] == RETENTION, c["retention.ms"]
    assert c["cleanup.policy"]["value"] == "compact", c["cleanup.policy"]
    if "config_source" in d.caps:
        assert c["retention.ms"]["source"] == "DYNAMIC_TOPIC_CONFIG"
