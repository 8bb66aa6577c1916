# SPDX-License-Identifier: Apache-2.0
"""Three brokers on one ZooKeeper find each other: each registers under
/brokers/ids, one wins /controller, and every broker's Metadata and
DescribeCluster list all three with that controller. A broker that dies
leaves the lists once its session ends and comes back when restarted; a
dead controller is replaced."""
import json
import re

import harness

N = 3


def zk_get(cluster, path):
    """The JSON data of a znode, through zkCli."""
    out = cluster.zk.cli("get", path)
    m = re.search(r"^(\{.*\})$", out, re.M)
    assert m, f"no JSON at {path}: {out[-400:]}"
    return json.loads(m[1])


def zk_ls(cluster, path):
    out = cluster.zk.cli("ls", path)
    m = re.search(r"^\[(.*)\]$", out, re.M)
    assert m, f"no listing of {path}: {out[-400:]}"
    return sorted(x.strip() for x in m[1].split(",") if x.strip())


def test_metadata_from_each_broker_lists_all(cluster):
    views = cluster.views()
    assert sorted(views) == [1, 2, 3]
    controllers = {md.controller_id for md in views.values()}
    assert len(controllers) == 1 and controllers <= {1, 2, 3}, controllers
    cluster_ids = {md.cluster_id for md in views.values()}
    assert len(cluster_ids) == 1 and None not in cluster_ids, cluster_ids
    for via, md in views.items():
        assert set(md.brokers) == {1, 2, 3}, (via, md.brokers)
        for bid, (host, port, rack) in md.brokers.items():
            assert (host, port) == ("127.0.0.1", cluster.brokers[bid].port), (via, md.brokers)
            assert rack is None


def test_describe_cluster_names_the_controller(cluster):
    ctl = cluster.controller()
    for b in cluster.brokers.values():
        d = b.describe_cluster()
        assert d.error == 0, d
        assert d.controller_id == ctl, (b.id, d, ctl)
        assert {i: (h, p) for i, (h, p, _r) in d.brokers.items()} == \
            {i: ("127.0.0.1", x.port) for i, x in cluster.brokers.items()}, d


def test_zookeeper_registration(cluster):
    assert zk_ls(cluster, "/brokers/ids") == ["1", "2", "3"]
    for b in cluster.brokers.values():
        reg = zk_get(cluster, f"/brokers/ids/{b.id}")
        assert f"PLAINTEXT://127.0.0.1:{b.port}" in reg["endpoints"], reg
        assert reg["port"] == b.port and reg["host"] == "127.0.0.1", reg
        assert reg["listener_security_protocol_map"].get("PLAINTEXT") == "PLAINTEXT", reg
        assert "rack" not in reg or reg["rack"] is None, reg
    ctl = zk_get(cluster, "/controller")
    assert ctl["brokerid"] == cluster.controller(), ctl
    assert int(cluster.zk.cli("get", "/controller_epoch").split("\n")[-2].strip()) >= 1


def test_dead_broker_leaves_and_returns(cluster):
    ctl = cluster.controller()
    victim = next(b for b in cluster.brokers.values() if b.id != ctl)
    victim.kill()
    rest = [i for i in cluster.brokers if i != victim.id]
    # Gone once its ZooKeeper session expires (SESSION_MS) and the
    # controller and brokers see it.
    cluster.wait_formed(timeout=harness.FAILOVER_S, ids=rest)
    assert victim.id not in cluster.brokers[rest[0]].describe_cluster().brokers
    victim.start()
    cluster.wait_formed(timeout=60, ids=[1, 2, 3])
    assert cluster.controller() == ctl      # no new election for a follower's return


def test_dead_controller_is_replaced(cluster):
    old = cluster.controller()
    cluster.brokers[old].kill()
    new = cluster.wait_controller(timeout=harness.FAILOVER_S, not_in=[old])
    assert new != old
    epoch_seen = zk_get(cluster, "/controller")
    assert epoch_seen["brokerid"] == new, epoch_seen
    cluster.brokers[old].start()
    cluster.wait_formed(timeout=60, ids=[1, 2, 3])
    assert cluster.controller() == new      # the old one does not take it back


def test_racks_are_registered(cluster_factory):
    c = cluster_factory(3, racks=True)
    for via, md in c.views().items():
        assert {i: r for i, (_h, _p, r) in md.brokers.items()} == \
            {1: "r1", 2: "r2", 3: "r3"}, (via, md.brokers)
    assert zk_get(c, "/brokers/ids/2")["rack"] == "r2"
