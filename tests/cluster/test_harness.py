# SPDX-License-Identifier: Apache-2.0
"""The harness itself, independent of cluster mode: ZooKeeper starts and is
gone after cleanup; brokers start with the cluster configuration, answer
Metadata, and the kill / SIGTERM / SIGSTOP+SIGCONT / restart operations do
what they say; the history checker finds each kind of fault."""
import os
import socket
import time

import pytest

import harness
import kmeta
import zk as zkmod
from history import History, value_of


@pytest.fixture
def started_brokers():
    """ZooKeeper and three brokers started, without waiting for a cluster."""
    why = harness.missing()
    if why:
        pytest.skip(why)
    c = harness.Cluster(3)
    try:
        c.zk.start()
        for b in c.brokers.values():
            b.start()
        yield c
    finally:
        c.cleanup()


def test_zookeeper_start_and_cleanup():
    why = zkmod.missing()
    if why:
        pytest.skip(why)
    z = zkmod.ZooKeeper().start()
    try:
        assert zkmod.four_letter(z.port, "ruok") == "imok"
        assert "[zookeeper]" in z.cli("ls", "/")
    finally:
        z.cleanup()
    assert not z.alive() and not z.dir.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", z.port), timeout=1).close()


def test_broker_process_control(started_brokers):
    c = started_brokers
    def lists_itself(b):
        # Kafka opens its port before its metadata cache knows itself.
        return harness.wait_for(lambda: b.metadata().brokers.get(b.id, (0, 0))[1] == b.port,
                                30, f"broker {b.id} in its own Metadata")
    for b in c.brokers.values():
        lists_itself(b)
    b1, b2, b3 = c.brokers[1], c.brokers[2], c.brokers[3]
    b1.kill()
    assert not b1.alive() and not b1.crashed() and not harness.port_accepts(b1.port)
    b1.start()
    lists_itself(b1)
    rc = b2.term()
    assert rc is not None and not b2.alive()
    b2.restart()
    assert b2.alive()
    b3.pause()
    assert b3 not in c.live()
    with pytest.raises(OSError):
        kmeta.metadata(b3.bootstrap, timeout=1.0)      # stopped: no answer
    b3.resume()
    lists_itself(b3)
    assert b1.starts == 2 and b2.starts == 2 and b3.starts == 1
    assert not c.crashed()


def test_cleanup_leaves_nothing():
    why = harness.missing()
    if why:
        pytest.skip(why)
    c = harness.Cluster(2)
    c.zk.start()
    for b in c.brokers.values():
        b.start()
    c.brokers[2].pause()          # cleanup must also end a stopped process
    pids = [b.proc.pid for b in c.brokers.values()] + [c.zk.proc.pid]
    c.cleanup()
    time.sleep(0.2)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not c.dir.exists()


def _history(n=5):
    h = History()
    for i in range(n):
        h.send("a", i, "t", b"k")
        h.ack("a", i, "t", 0, i)
    return h


def test_checker_clean():
    h = _history()
    for i in range(5):
        assert h.consume("t", 0, i, value_of("a", i))
        assert h.consume("t", 0, i, value_of("a", i))      # a second reader
    v = h.check()
    assert v.ok(), v
    v.assert_ok(min_acked=5)


def test_checker_finds_each_fault():
    h = _history()
    h.send("a", 5, "t", b"k")                   # unresolved: may be absent or present
    h.send("b", 0, "t", b"k")
    h.fail("b", 0, "timed out")                 # failed: may be present
    for i in (0, 2, 1):                         # 1 and 2 swapped
        h.consume("t", 0, i, value_of("a", i if i == 0 else 3 - i))
    h.consume("t", 0, 3, b"never-sent")
    # a:3 acknowledged at 3, which holds the phantom; a:3 itself at 5 -> moved
    h.consume("t", 0, 5, value_of("a", 3))
    h.consume("t", 0, 6, value_of("a", 0))      # a:0 twice
    h.consume("t", 0, 7, value_of("b", 0))
    assert not h.consume("t", 0, 7, value_of("a", 4)), "readers disagreeing is reported"
    v = h.check()
    assert v.lost == [("a", 4)], v
    assert [m[0] for m in v.moved] == [("a", 1), ("a", 2), ("a", 3)], v
    assert [d[0] for d in v.duplicated] == [("a", 0)], v
    assert v.reordered and v.phantom == [(("t", 0, 3), b"never-sent")], v
    assert not v.ok()
    with pytest.raises(AssertionError):
        v.assert_ok()


def test_checker_excuses_duplicates_only_after_a_client_epoch_bump():
    """A record twice in the log fails the check unless its producer's
    client bumped its epoch (librdkafka #4953); the later copy then leaves
    the order check, which still catches a real reorder."""
    def dup_history():
        h = _history(4)
        h.ack("a", 3, "t", 0, 4)
        h.send("b", 0, "t", b"k")
        h.ack("b", 0, "t", 0, 10)
        for i, seq in enumerate([0, 1, 2, 2, 3]):       # a:2 twice, in a row
            h.consume("t", 0, i, value_of("a", seq))
        h.consume("t", 0, 10, value_of("b", 0))
        return h
    v = dup_history().check()
    assert not v.ok() and [d[0] for d in v.duplicated] == [("a", 2)], v
    v.excuse_epoch_bumps(["b"])                         # another producer bumped
    assert not v.ok(), v
    v = dup_history().check()
    v.excuse_epoch_bumps(["a"])
    assert v.ok() and [d[0] for d in v.client_dups] == [("a", 2)], v
    assert "client_dups" in str(v)
    # The re-sent copy far behind: excused, but a real reorder still fails.
    h = _history(5)
    for i, seq in enumerate([0, 1, 3, 2, 4, 1]):
        h.ack("a", seq, "t", 0, i)
        h.consume("t", 0, i, value_of("a", seq))
    h.ack("a", 1, "t", 0, 1)
    v = h.check()
    v.excuse_epoch_bumps(["a"])
    assert [d[0] for d in v.client_dups] == [("a", 1)], v
    assert v.reordered and not v.ok(), v


def test_checker_implicit_ack_without_offset():
    """librdkafka acknowledges a retried batch implicitly, without an offset,
    when a later batch of the same idempotent producer succeeded: that record
    only has to be in its partition (it must still not be lost or twice)."""
    h = _history(3)
    h.ack("a", 1, "t", 0, None)
    for i in range(3):
        h.consume("t", 0, 10 + i, value_of("a", i))
    v = h.check()
    assert [m[0] for m in v.moved] == [("a", 0), ("a", 2)], v     # real offsets still checked
    h = _history(2)
    h.ack("a", 1, "t", 0, None)
    h.consume("t", 0, 0, value_of("a", 0))
    h.consume("t", 1, 0, value_of("a", 1))                       # another partition
    assert [m[0] for m in h.check().moved] == [("a", 1)]
    h = _history(2)
    h.ack("a", 1, "t", 0, None)
    h.consume("t", 0, 0, value_of("a", 0))
    h.consume("t", 0, 1, value_of("a", 1))
    assert h.check().ok()
