# SPDX-License-Identifier: Apache-2.0
"""Leader failover under acks=all load from two idempotent producers: kill -9
of partition leaders (five rounds), of the controller, and a ZooKeeper
session expiry (SIGSTOP past the session timeout, then SIGCONT). After each
the survivors elect new leaders from the ISR with a larger leader epoch, the
cluster keeps taking acks=all writes, the broker comes back into the ISR;
over every record: zero acknowledged records lost, none duplicated, each
producer's order kept per partition, and the clients saw only retriable
errors."""
import time

import failover as fo
import harness

ROUNDS = 5
EXPIRY = harness.FAILOVER_S


def _failed_over(cluster, topics, dead, before):
    """Survivors agree: no partition led by dead or with it in the ISR (the
    controller drops it from the ISR of the partitions it followed in a
    later step than the elections, so wait for both); the ones it led have
    a new leader from the ISR and a larger leader epoch."""
    views = cluster.wait_partitions(
        topics, lambda p, _b: p.leader >= 0 and p.leader != dead and dead not in p.isr,
        timeout=EXPIRY, what=f"failover away from broker {dead}")
    for via, md in views.items():
        for t in topics:
            for i, p in md.topics[t].partitions.items():
                assert p.leader in p.isr, (via, t, i, p)
                if before[(t, i)][0] == dead:
                    assert p.leader_epoch > before[(t, i)][1], (via, t, i, p, before[(t, i)])


def _state(cluster, topics):
    md = cluster.metadata(topics=topics)
    return {(t, i): (p.leader, p.leader_epoch) for t in topics
            for i, p in md.topics[t].partitions.items()}


def test_leader_kill_loop(cluster_factory):
    c = cluster_factory(3)
    topics = fo.make_topics(c, "fo-kill")
    ld = fo.Load(c, topics)
    ld.wait_progress(200)
    parts = sorted(_state(c, topics))
    for r in range(ROUNDS):
        t, i = parts[(r * 5) % len(parts)]
        before = _state(c, topics)
        victim = c.brokers[before[(t, i)][0]]
        victim.kill()
        _failed_over(c, topics, victim.id, before)
        ld.wait_progress(100, what=f"acks with broker {victim.id} down (round {r})")
        victim.start()
        c.wait_formed(timeout=60, ids=[1, 2, 3])
        c.wait_full_isr(topics, fo.RF, timeout=90)
        ld.wait_progress(100, what=f"acks after broker {victim.id} returned (round {r})")
    ld.finish()


def test_controller_kill(cluster_factory):
    c = cluster_factory(3)
    topics = fo.make_topics(c, "fo-ctl")
    ld = fo.Load(c, topics)
    ld.wait_progress(200)
    before = _state(c, topics)
    old = c.controller()
    c.brokers[old].kill()
    new = c.wait_controller(timeout=EXPIRY, not_in=[old])
    assert new != old
    _failed_over(c, topics, old, before)
    ld.wait_progress(100, what="acks with the controller down")
    # The new controller runs the next failover too.
    before = _state(c, topics)
    victim = next(b for b in c.live() if b.id != new)
    victim.kill()
    _failed_over(c, topics, victim.id, before)
    c.brokers[old].start()
    victim.start()
    c.wait_formed(timeout=60, ids=[1, 2, 3])
    assert c.controller() == new
    c.wait_full_isr(topics, fo.RF, timeout=90)
    ld.wait_progress(100, what="acks after both returned")
    ld.finish()


def test_session_expiry(cluster_factory):
    c = cluster_factory(3)
    topics = fo.make_topics(c, "fo-pause")
    ld = fo.Load(c, topics)
    ld.wait_progress(200)
    before = _state(c, topics)
    ctl = c.controller()
    # A leader that is not the controller: the controller stays put.
    victim = next(c.brokers[lead] for lead, _e in before.values() if lead != ctl)
    victim.pause()
    rest = [i for i in c.brokers if i != victim.id]
    c.wait_formed(timeout=EXPIRY, ids=rest)
    _failed_over(c, topics, victim.id, before)
    ld.wait_progress(100, what=f"acks with broker {victim.id} stopped")
    time.sleep(1.0)
    victim.resume()
    # Its session is gone: it registers again and follows the new leaders.
    c.wait_formed(timeout=60, ids=[1, 2, 3])
    c.wait_full_isr(topics, fo.RF, timeout=90)
    assert c.controller() == ctl
    ld.wait_progress(100, what="acks after the resume")
    ld.finish()
