# SPDX-License-Identifier: Apache-2.0
"""Consumer-group rebalances with real clients (issue 13).

Cooperative-sticky (incremental) rebalancing with the Java KafkaConsumer and
librdkafka (confluent-kafka-python), then franz-go: when a member joins, partitions that do
not move are never revoked and keep being consumed while the group
rebalances (DescribeGroups shows it not Stable).

Static membership (group.instance.id), Java and librdkafka: a static member
restarted within its session timeout gets its partitions back in the same
generation, the other member sees no rebalance; a second instance with the
same group.instance.id takes the member over and the older one is fenced
(FENCED_INSTANCE_ID surfaces in it as a fatal error)."""
import collections
import time
import uuid

import pytest

import data_scenarios as ds
import group_scenarios as gs

pytestmark = pytest.mark.data_path

PARTS = 6
COOP = ["--assignor", "cooperative-sticky"]
# librdkafka 2.0.2 loses its assignment when a commit during a cooperative
# rebalance fails with ILLEGAL_GENERATION (librdkafka #4059): commit at handoffs
CONFLUENT_COMMIT = ["--commit", "revoke"]


def _own_at(m, t):
    """m's assignment after its last rebalance event before t."""
    rb = [e for e in m.events if e["ev"] in ("assigned", "revoked", "lost") and e["t"] < t]
    return set(rb[-1]["own"]) if rb else set()


def _check_incremental_join(states, old, new, joined_at, settled_at, final):
    """A member `new` joined at joined_at and the group settled (final owns) at
    settled_at: the old members revoked only partitions that moved, kept
    consuming the others while the group was not Stable, and a moved
    partition was assigned to its new owner only after its old one revoked it.
    Records read after a member's own first rebalance event in the join (the
    second, incremental round) are what an eager member could not read:
    between its revoke and its next assignment it has nothing."""
    windows = [(a, b) for a, b in states.windows(joined_at) if a <= settled_at]
    assert windows, f"{new.name} joined but the group never left Stable: {states.samples[-5:]}"
    during = {}
    for m in old:
        before, after = _own_at(m, joined_at), final[m.name]
        kept, moved = before & after, before - after
        assert after <= before, f"{m.name} gained {after - before} when {new.name} joined"
        evs = [e for e in m.events if joined_at <= e["t"] <= settled_at]
        for e in evs:
            assert e["ev"] != "lost", f"{m.name} lost partitions: {e}"
            if e["ev"] == "revoked":
                assert set(e["parts"]) <= moved, \
                    f"{m.name} revoked {set(e['parts']) & kept} that did not move ({e})"
        revoked_at = {p: e["t"] for e in evs if e["ev"] == "revoked" for p in e["parts"]}
        assert set(revoked_at) == moved, f"{m.name}: moved {moved}, revoked {set(revoked_at)}"
        for e in new.where("assigned"):
            for p in set(e["parts"]) & moved:
                assert e["t"] >= revoked_at[p], \
                    f"{new.name} got {p} before {m.name} revoked it"
        recs = [e for e in m.where("rec") if e["p"] in kept and
                any(a <= e["t"] <= b for a, b in windows)]
        # and after it had taken part in the first round
        first = min((e["t"] for e in evs if e["ev"] in ("assigned", "revoked")), default=None)
        late = [e for e in recs if first is not None and e["t"] > first]
        if kept:
            assert recs, (f"{m.name} read nothing from its kept partitions {sorted(kept)} "
                          f"while the group rebalanced ({windows})")
        during[m.name] = (len(recs), len(late))
    assert sum(n for _, n in during.values()) > 0, \
        f"no old member read its kept partitions after its first rebalance event: {during}"
    return during


def test_cooperative_sticky_join_keeps_unmoved_partitions(broker):
    g = gs.Members(broker.bootstrap, f"it-coop-{uuid.uuid4().hex[:10]}",
                   ds.create_topic(broker.bootstrap, ds.unique_topic("grp-coop"), PARTS))
    t0 = time.monotonic()
    report = []
    try:
        prod = g.own_thread(gs.KeyedProducer(broker.bootstrap, g.topic, rate=300))
        states = g.own_thread(gs.GroupStates(broker.bootstrap, g.group))
        g.add("java-a", "java", [*COOP, "--deadline", "100"])
        gs.wait_stable(g.live(), PARTS, states, what="java-a alone")
        g.add("confluent-b", "confluent", [*COOP, *CONFLUENT_COMMIT, "--deadline", "100"])
        gs.wait_stable(g.live(), PARTS, states, what="java-a + confluent-b")
        # two joins, each checked from the members already there
        for name, client in (("confluent-c", "confluent"), ("java-d", "java"), ("franz-e", "franz")):
            old = g.live()
            time.sleep(1)
            new = g.add(name, client, [*COOP, "--deadline", "100"] +
                        (CONFLUENT_COMMIT if client == "confluent" else []))
            joined_at = new.wait(lambda e: e["ev"] == "start", 20, "start")["t"]
            final = gs.wait_stable(g.live(), PARTS, states, what=f"a stable group after {name} joined")
            settled_at = int(time.time() * 1000)
            assert final[name], f"{name} got nothing: {final}"
            report.append((name, _check_incremental_join(states, old, new, joined_at,
                                                          settled_at, final)))
        time.sleep(1)
        prod.stop()
        ends = prod.ends()
        gs.wait_read_all(g.all, ends)
        for m in g.live():
            m.stop()
    finally:
        g.cleanup()
    # every handoff committed in the revoke callback: nothing read twice
    reads = collections.Counter((e["p"], e["o"]) for e in gs.group_events(g.all, "rec"))
    twice = [k for k, n in reads.items() if n > 1]
    assert not twice, f"read twice: {sorted(twice)[:10]}"
    assert time.monotonic() - t0 < 100
    print(f"cooperative: {sum(ends.values())} records; kept-partition records read "
          f"during each join's rebalance: {report}")


STATIC_SESSION = ["session.timeout.ms=10000"]


def _first_offsets(m):
    first = {}
    for e in m.where("rec"):
        first.setdefault(e["p"], e["o"])
    return first


@pytest.mark.parametrize("client", ["java", "confluent"])
def test_static_member_restart_and_fencing(broker, client):
    g = gs.Members(broker.bootstrap, f"it-static-{uuid.uuid4().hex[:10]}",
                   ds.create_topic(broker.bootstrap, ds.unique_topic(f"grp-static-{client}"), PARTS))
    t0 = time.monotonic()
    tag = uuid.uuid4().hex[:6]
    opts = lambda inst: ["--instance", f"{inst}-{tag}", "--deadline", "100", *STATIC_SESSION]  # noqa: E731
    try:
        g.own_thread(gs.KeyedProducer(broker.bootstrap, g.topic, rate=100))
        states = g.own_thread(gs.GroupStates(broker.bootstrap, g.group))
        a = g.add("a", client, opts("a"))
        gs.wait_stable(g.live(), PARTS, states, what="static member a alone")
        b = g.add("b", client, opts("b"))
        owns = gs.wait_stable(g.live(), PARTS, states, what="static members a and b")
        b_assigned = b.where("assigned")[-1]
        gen, b_parts = b_assigned["gen"], set(owns["b"])
        a_rebalances = len([e for e in a.events if e["ev"] in ("assigned", "revoked", "lost")])
        b.wait(lambda e: e["ev"] == "commit", 20, "a commit")

        # restart b within its session timeout: no LeaveGroup, no rebalance
        b.stop()
        stopped_at = int(time.time() * 1000)
        b_committed = {}
        for e in b.where("commit"):
            for p, o in e["offs"]:
                b_committed[p] = max(b_committed.get(p, 0), o)
        time.sleep(0.5)
        assert states.state() == "Stable" and states.samples[-1][2] == 2, \
            f"a static member's close left the group: {states.samples[-3:]}"
        b2 = g.add("b2", client, opts("b"))
        e = b2.wait(lambda e: e["ev"] == "assigned", 30, "its assignment back")
        assert int(time.time() * 1000) - stopped_at < 10000, "restart took longer than the session"
        assert e["gen"] == gen and set(e["own"]) == b_parts, \
            f"restarted static member got {e}, had gen {gen} parts {sorted(b_parts)}"
        b2.wait(lambda e: e["ev"] == "rec", 20, "a record after the restart")
        time.sleep(1.5)
        first = _first_offsets(b2)
        for p, o in first.items():
            assert o == b_committed.get(p, 0), \
                f"b2 resumed partition {p} at {o}, b committed {b_committed.get(p, 0)}"
        assert not states.windows(stopped_at), \
            f"the group rebalanced on a static restart: {states.windows(stopped_at)}"
        a_now = [e for e in a.events if e["ev"] in ("assigned", "revoked", "lost")]
        assert len(a_now) == a_rebalances, f"a saw a rebalance: {a_now[a_rebalances:]}"

        # a second instance with the same group.instance.id takes the member
        # over; the older one is fenced (FENCED_INSTANCE_ID)
        b3 = g.add("b3", client, opts("b"))
        e3 = b3.wait(lambda e: e["ev"] == "assigned", 30, "the taken-over assignment")
        fatal = b2.wait(lambda e: e["ev"] == "fatal", 20, "FENCED_INSTANCE_ID in the older instance")
        text = f"{fatal.get('err')} {fatal.get('msg')}".lower()
        assert "fenced" in text, f"b2's fatal error is not a fencing: {fatal}"
        assert b2.proc.wait(20) == 3, f"b2 exited {b2.proc.returncode}"
        assert e3["gen"] == gen and set(e3["own"]) == b_parts, \
            f"the new instance got {e3}, expected gen {gen} parts {sorted(b_parts)}"
        assert not [e for e in b3.events if e["ev"] == "fatal"], b3.tail()
        a_now = [e for e in a.events if e["ev"] in ("assigned", "revoked", "lost")]
        assert len(a_now) == a_rebalances, f"a saw a rebalance: {a_now[a_rebalances:]}"
        for m in (a, b3):
            m.stop()
    finally:
        g.cleanup()
    assert time.monotonic() - t0 < 100
    print(f"static {client}: generation {gen} kept through a restart and a takeover; b2: {fatal}")
