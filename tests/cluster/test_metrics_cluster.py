# SPDX-License-Identifier: Apache-2.0
"""The cluster families of /metrics, scraped from every broker: one
controller among them, every broker alive, the leaders' partition counts
adding up, and after a follower dies the leaders it followed report
under-replicated partitions and ISR shrinks, and follower lag families
exist on both sides."""
import re
import urllib.request

import failover as fo
import harness
import zk as zkmod


def _scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode()


def _value(text, name):
    m = re.search(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+-]+)$", text, re.M)
    assert m is not None, f"{name} missing"
    return float(m.group(1))


def _make(cluster_factory):
    ports = {i: zkmod.free_port() for i in (1, 2, 3)}
    c = cluster_factory(3)
    for b in c.brokers.values():
        b.overrides["spillway.metrics.listen"] = f"127.0.0.1:{ports[b.id]}"
        b.kill()
    for b in c.brokers.values():
        b.start()
    c.wait_formed(harness.FAILOVER_S)
    return c, ports


def test_cluster_metrics(cluster_factory):
    if harness.backend() == "kafka":
        import pytest
        pytest.skip("Spillway's /metrics")
    c, ports = _make(cluster_factory)
    topics = fo.make_topics(c, "mx", count=1, parts=6)
    texts = {i: _scrape(p) for i, p in ports.items()}
    assert sum(_value(t, "spillway_cluster_controller") for t in texts.values()) == 1
    for t in texts.values():
        assert _value(t, "spillway_cluster_brokers") == 3
        assert _value(t, "spillway_cluster_under_replicated_partitions") == 0
        assert "# TYPE spillway_replica_follower_lag_messages gauge" in t
        assert "# TYPE spillway_replica_fetcher_lag_messages gauge" in t
    led = sum(_value(t, "spillway_cluster_leader_partitions") for t in texts.values())
    assert led >= 6         # the topic's 6, plus any internal topic's

    victim = c.brokers[3]
    victim.kill()
    c.wait_partitions(topics, lambda p, _b: victim.id not in p.isr and p.leader >= 0,
                      timeout=harness.FAILOVER_S, what="ISRs without broker 3")
    live = {i: _scrape(p) for i, p in ports.items() if i != victim.id}
    assert sum(_value(t, "spillway_cluster_under_replicated_partitions")
               for t in live.values()) >= 6
    for t in live.values():
        assert _value(t, "spillway_cluster_brokers") == 2
