# SPDX-License-Identifier: Apache-2.0
"""Issue 11, item 9: decompression contexts were never freed (LeakSanitizer
at exit). The broker runs with LeakSanitizer on (the suite otherwise turns
it off), takes batches in every codec, including one it refuses for
decompressing too far, serves them back, and must stop cleanly with no leak
report. In a build without ASan the check is vacuous; CI's build has it."""
import os

import pytest

import kwire
from conftest import unique_topic


def produce_all_codecs(bootstrap, topic):
    ck = pytest.importorskip("confluent_kafka")
    for codec in ("gzip", "snappy", "lz4", "zstd"):
        p = ck.Producer({"bootstrap.servers": bootstrap, "compression.type": codec,
                         "linger.ms": 5})
        for i in range(300):
            p.produce(topic, f"{codec}-{i}".encode() * 20)
        assert p.flush(30) == 0, f"{codec}: records left unacknowledged"
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "leaks",
                     "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.assign([ck.TopicPartition(topic, 0, 0)])
    got = 0
    for _ in range(100):
        got += len(c.consume(500, timeout=0.2))
        if got >= 1200:
            break
    c.close()
    assert got == 1200


def test_no_leak_at_exit(broker_factory, monkeypatch):
    if os.environ.get("SPILLWAY_TEST_BACKEND", "spillway") != "spillway":
        pytest.skip("spillway's own exit")
    monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=1")
    b = broker_factory(overrides={"num.partitions": "1"})
    topic = unique_topic("leaks")
    produce_all_codecs(b.bootstrap, topic)
    # A gzip batch decompressing far beyond the bound: refused, and its
    # decompressor must still go back.
    bomb = kwire.gzip_bomb(200, 1 << 20)
    body = kwire.produce_body(7, [(topic, [(0, bomb)])], acks=1)
    res = kwire.parse_produce(7, kwire.call(b.bootstrap, kwire.PRODUCE, 7, body, timeout=60))
    assert res[0][2] != 0, "a 200 MiB gzip bomb was accepted"
    b.stop()                                    # SIGTERM, then wait
    rc = b.proc.returncode
    log = b.log_path.read_text(errors="replace")
    assert "LeakSanitizer" not in log, log[-4000:]
    assert rc == 0, f"exit status {rc}:\n{log[-2000:]}"
