# SPDX-License-Identifier: Apache-2.0
"""The Prometheus endpoint (control/metrics.c) against a real broker: produce,
fetch and an admin call through confluent-kafka, scrape /metrics before and
after, and check the counters moved as they must (Produce/Fetch request
counts, bytes in for the topic, log end offset == records produced), the
produce stage histograms per append and acks mode, a 404 for another
path, and that `promtool check metrics` accepts the text; at
startup /metrics accepts as soon as the Kafka port does, and a taken
metrics port stops startup."""
import os
import shutil
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

import promtext
from conftest import client_missing, free_port, _backend
from promtext import value

RECORDS = 50


def parse(text):
    """The samples of text; a malformed line fails the test."""
    return promtext.parse(text, strict=True)


def scrape(port, path="/metrics"):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return r.read().decode()


@pytest.fixture
def metrics_broker(broker_factory):
    if _backend() != "spillway":
        pytest.skip("the metrics endpoint is Spillway's own")
    port = free_port()
    b = broker_factory(overrides={"spillway.metrics.listen": f"127.0.0.1:{port}"})
    return b, port


def test_metrics_move_and_parse(metrics_broker, tmp_path):
    try:
        import confluent_kafka
        from confluent_kafka.admin import AdminClient, NewTopic
    except ImportError:
        client_missing("python3-confluent-kafka is not installed")
    promtool = shutil.which("promtool")
    if promtool is None:
        client_missing("promtool (Debian prometheus) is not installed")
    b, port = metrics_broker
    topic = "metrics-t"

    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic] \
        .result(timeout=30)
    before = parse(scrape(port))

    p = confluent_kafka.Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0,
                                  "batch.num.messages": 1})
    payload = b"x" * 100
    for i in range(RECORDS):
        p.produce(topic, payload, key=str(i).encode())
        p.poll(0)
    assert p.flush(30) == 0

    c = confluent_kafka.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "m",
                                  "auto.offset.reset": "earliest",
                                  "enable.auto.commit": False})
    c.assign([confluent_kafka.TopicPartition(topic, 0, 0)])
    got = 0
    for _ in range(100):
        msgs = c.consume(num_messages=RECORDS, timeout=0.5)
        got += sum(1 for m in msgs if m.error() is None)
        if got >= RECORDS:
            break
    c.close()
    assert got == RECORDS

    text = scrape(port)
    after = parse(text)
    for api in ("Produce", "Fetch"):
        assert value(after, "spillway_requests_total", api=api) > \
            value(before, "spillway_requests_total", api=api), api
        assert value(after, "spillway_request_duration_seconds_count", api=api) == \
            value(after, "spillway_requests_total", api=api), api
    assert value(after, "spillway_requests_total", api="CreateTopics") >= 1
    assert value(after, "spillway_request_errors_total", api="Produce") == 0
    bytes_in = value(after, "spillway_topic_bytes_in_total", topic=topic)
    assert bytes_in > value(before, "spillway_topic_bytes_in_total", topic=topic)
    assert bytes_in >= RECORDS * len(payload)
    assert value(after, "spillway_topic_records_in_total", topic=topic) == RECORDS
    assert value(after, "spillway_topic_bytes_out_total", topic=topic) > 0
    assert value(after, "spillway_log_end_offset", topic=topic, partition="0") == RECORDS
    assert value(after, "spillway_log_start_offset", topic=topic, partition="0") == 0
    assert value(after, "spillway_log_size_bytes", topic=topic, partition="0") == bytes_in
    assert value(after, "spillway_connections_accepted_total", core="0") > 0
    assert value(after, "spillway_network_received_bytes_total", core="0") > \
        value(before, "spillway_network_received_bytes_total", core="0")
    assert "# TYPE spillway_storage_fsync_duration_seconds histogram" in text
    assert "# TYPE spillway_consumer_group_lag gauge" in text

    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, f"promtool: {r.stdout}{r.stderr}"


STAGE = "spillway_produce_stage_seconds"
STAGES = ("receive", "queue", "issue", "write", "sync_wait", "fsync", "ack", "send")
SYNC_STAGES = ("sync_wait", "fsync")


def test_metrics_produce_stages(metrics_broker):
    """Per-append produce stages (common/stage.h): one Produce per message
    (flushed one at a time, so one append each) with acks=all and then
    acks=1; every stage of each mode counts exactly those appends (acks=1
    has no sync stages), and since the stages follow each other, their
    sums add up to the sum of `total`. No timing thresholds."""
    try:
        import confluent_kafka
        from confluent_kafka.admin import AdminClient, NewTopic
    except ImportError:
        client_missing("python3-confluent-kafka is not installed")
    b, port = metrics_broker
    topic = "metrics-stages"
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[topic] \
        .result(timeout=30)
    appends = {"all": 12, "1": 9}
    for acks, n in appends.items():
        before = parse(scrape(port))
        p = confluent_kafka.Producer({"bootstrap.servers": b.bootstrap, "acks": acks,
                                      "linger.ms": 0, "batch.num.messages": 1})
        for i in range(n):
            p.produce(topic, b"s" * 50, partition=i % 3)
            assert p.flush(30) == 0
        text = scrape(port)
        after = parse(text)
        assert f"# TYPE {STAGE} histogram" in text

        def delta(stage, suffix, acks=acks):
            return value(after, f"{STAGE}_{suffix}", stage=stage, acks=acks) - \
                value(before, f"{STAGE}_{suffix}", stage=stage, acks=acks)

        for stage in STAGES + ("total",):
            if acks == "1" and stage in SYNC_STAGES:
                assert (f"{STAGE}_count", frozenset({("stage", stage), ("acks", "1")})) \
                    not in after, stage
                continue
            assert delta(stage, "count") == n, (acks, stage)
            assert delta(stage, "sum") >= 0, (acks, stage)
            assert value(after, f"{STAGE}_bucket", stage=stage, acks=acks, le="+Inf") == \
                value(after, f"{STAGE}_count", stage=stage, acks=acks), (acks, stage)
        stages_sum = sum(delta(s, "sum") for s in STAGES
                         if acks == "all" or s not in SYNC_STAGES)
        total = delta("total", "sum")
        assert total > 0, acks
        # Contiguous stages: equal but for the 9-digit text of each _sum.
        assert abs(stages_sum - total) <= 0.01 * total + 1e-6, (acks, stages_sum, total)
        if acks == "all":
            assert delta("fsync", "sum") > 0, "an fdatasync takes time"


def test_metrics_other_paths(metrics_broker):
    _, port = metrics_broker
    for path in ("/", "/metricsx", "/favicon.ico"):
        with pytest.raises(urllib.error.HTTPError) as e:
            scrape(port, path)
        assert e.value.code == 404, path
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", method="POST", data=b"")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 405
    assert "spillway_requests_total" in scrape(port)


def test_metrics_listen_before_kafka_port(broker_factory):
    """Startup readiness is one signal: once the Kafka port accepts, so does
    /metrics. (Regression: the metrics socket was bound after the cores had
    started, a few milliseconds after the Kafka listener, and a scrape right
    at startup was refused.) Racy by nature, so several fresh brokers."""
    if _backend() != "spillway":
        pytest.skip("the metrics endpoint is Spillway's own")
    for _ in range(16):
        port = free_port()
        b = broker_factory(overrides={"spillway.metrics.listen": f"127.0.0.1:{port}"})
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        b.stop()


def test_metrics_port_taken_stops_startup(broker_factory):
    """A metrics port that cannot be bound stops startup, naming the key."""
    if _backend() != "spillway":
        pytest.skip("the metrics endpoint is Spillway's own")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=r"exited with 1 during startup"
                           r"(.|\n)*spillway\.metrics\.listen: cannot listen on"):
            broker_factory(overrides={"spillway.metrics.listen": f"127.0.0.1:{port}"})


def test_metrics_consumer_groups(metrics_broker):
    """A group with two members on three partitions commits offsets below the
    log end: /metrics reports its state, members, generation, committed
    offset and lag per partition (log end - committed); a second, simple
    (Empty) group committing past nothing shows lag 0 on a partition it
    committed at the end."""
    try:
        import confluent_kafka
        from confluent_kafka.admin import AdminClient, NewTopic
    except ImportError:
        client_missing("python3-confluent-kafka is not installed")
    import kgroups as g
    b, port = metrics_broker
    topic = "metrics-g"
    admin = AdminClient({"bootstrap.servers": b.bootstrap})  # alive until the result
    admin.create_topics(
        [NewTopic(topic, num_partitions=3, replication_factor=1)])[topic].result(timeout=30)
    p = confluent_kafka.Producer({"bootstrap.servers": b.bootstrap})
    for part in range(3):
        for i in range(10):
            p.produce(topic, b"v", partition=part)
    assert p.flush(30) == 0

    g.wait_coordinator(b, "mg")
    leader, other = g.stable_group(b, "mg", 2, topics=[topic])
    got = leader.commit([(topic, [(0, 4, ""), (1, 10, ""), (2, 0, "")])])
    assert {e for *_, e in got} == {g.NONE}, got
    assert {e for *_, e in g.offset_commit(b, 9, "simple-g", [(topic, [(2, 10, "")])])} \
        == {g.NONE}

    after = parse(scrape(port))
    assert value(after, "spillway_consumer_group_state", group="mg", state="Stable") == 1
    assert value(after, "spillway_consumer_group_state", group="mg", state="Empty") == 0
    assert value(after, "spillway_consumer_group_members", group="mg") == 2
    assert value(after, "spillway_consumer_group_generation", group="mg") == leader.generation
    for part, committed in ((0, 4), (1, 10), (2, 0)):
        labels = {"group": "mg", "topic": topic, "partition": str(part)}
        assert value(after, "spillway_consumer_group_committed_offset", **labels) == committed
        assert value(after, "spillway_consumer_group_lag", **labels) == 10 - committed
    assert value(after, "spillway_consumer_group_state", group="simple-g", state="Empty") == 1
    assert value(after, "spillway_consumer_group_lag", group="simple-g", topic=topic,
                 partition="2") == 0
    leader.close()
    other.close()


def test_metrics_group_commit_across_partitions(metrics_broker):
    """acks=all to 8 partitions in the same Produce requests: the storage
    worker flushes them in group-commit rounds (storage/gsync.c), so the
    partition syncs outnumber the rounds (one device flush covered several
    partitions), some rounds are syncfs, and every acks=all append was
    covered. No timing thresholds."""
    try:
        import confluent_kafka
        from confluent_kafka.admin import AdminClient, NewTopic
    except ImportError:
        client_missing("python3-confluent-kafka is not installed")
    b, port = metrics_broker
    topic, parts, rounds = "metrics-gsync", 8, 20
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=parts, replication_factor=1)])[topic] \
        .result(timeout=30)
    before = parse(scrape(port))
    p = confluent_kafka.Producer({"bootstrap.servers": b.bootstrap, "acks": "all",
                                  "linger.ms": 20})
    for r in range(rounds):
        for part in range(parts):
            p.produce(topic, b"g" * 100, partition=part)
        assert p.flush(30) == 0
    after = parse(scrape(port))

    def delta(name):
        return value(after, name, worker="0") - value(before, name, worker="0")

    flushes = delta("spillway_storage_flush_rounds_total")
    covered = delta("spillway_storage_flush_partitions_total")
    assert flushes >= 1
    assert covered > flushes, f"{covered} partition syncs in {flushes} rounds: no sharing"
    assert covered >= parts, covered
    assert 1 <= delta("spillway_storage_flush_syncfs_total") <= flushes
    assert value(after, "spillway_storage_fsync_duration_seconds_count", worker="0") >= flushes
