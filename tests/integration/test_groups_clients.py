# SPDX-License-Identifier: Apache-2.0
"""Consumer groups with real clients (issue 13): committed offsets survive a
consumer restart, a graceful broker restart and a kill -9 of the broker;
each time the next member resumes exactly at the committed offsets. A mixed
group (kcat -G, Java, confluent-kafka-python, franz-go) on six partitions
under a steady keyed producer: members join one by one, one leaves cleanly,
one is kill -9'd and expires; every generation gives each partition to
exactly one member, nothing is skipped, nothing is read twice past a commit."""
import collections
import time
import uuid

import pytest

import data_scenarios as ds
import group_scenarios as gs

pytestmark = pytest.mark.data_path

PARTS = 3
FAST = {"group.initial.rebalance.delay.ms": "0"}


def _resume_check(evs, committed, label):
    first = {}
    for e in evs:
        if e["ev"] == "rec":
            first.setdefault(e["p"], e["o"])
    for p, o in first.items():
        assert o == committed.get(p, 0), \
            f"{label}: partition {p} resumed at {o}, committed {committed.get(p, 0)}"


def _committed(evs, committed):
    for e in evs:
        if e["ev"] == "commit":
            for p, o in e["offs"]:
                committed[p] = max(committed.get(p, 0), o)
    return committed


@pytest.mark.parametrize("client", gs.GROUP_CLIENTS)
def test_commits_survive_restarts(broker_factory, client):
    b = broker_factory(FAST)
    topic = ds.create_topic(b.bootstrap, ds.unique_topic(f"grp-commit-{client}"), PARTS)
    group = f"it-grp-{uuid.uuid4().hex[:10]}"
    gs.produce_numbered(b.bootstrap, topic, PARTS, 0, 300)
    committed, seen = {}, set()
    steps = ["consumer restart", "broker restart", "broker kill -9", "final"]
    for step in steps:
        evs = gs.run_group(client, b.bootstrap, group, topic,
                           ["--max", "70", "--deadline", "40"])
        _resume_check(evs, committed, f"{client} after {step}")
        recs = [(e["p"], e["o"]) for e in evs if e["ev"] == "rec"]
        assert len(recs) == 70, f"{client}: {len(recs)} records before {step}"
        dup = seen & set(recs)
        assert not dup, f"{client}: records consumed twice across a commit: {sorted(dup)[:10]}"
        seen |= set(recs)
        _committed(evs, committed)
        if step == "broker restart":
            b.restart()
        elif step == "broker kill -9":
            b.kill()
            b.start()
    assert len(seen) == 280


MIXED_PARTS = 6


def _owners_per_generation(members):
    """{gen: {member: own}} from the assigned events (the last one of each
    member in each generation)."""
    gens = collections.defaultdict(dict)
    for e in gs.group_events(members, "assigned"):
        assert e.get("gen") is not None, f"assigned event without generation: {e}"
        gens[e["gen"]][e["m"]] = set(e["own"])
    return gens


def test_mixed_group_join_leave_kill(broker):
    g = gs.Members(broker.bootstrap, f"it-mix-{uuid.uuid4().hex[:10]}",
                   ds.create_topic(broker.bootstrap, ds.unique_topic("grp-mixed"), MIXED_PARTS))
    t0 = time.monotonic()
    try:
        prod = g.own_thread(gs.KeyedProducer(broker.bootstrap, g.topic, rate=150))
        stable = []  # the assignments the group settled on, in order
        # range is the one assignor all four offer (franz-go defaults to cooperative-sticky)
        joins = [("kcat", "kcat", []), ("java", "java", []),
                 ("confluent", "confluent", []), ("franz", "franz", ["--assignor", "range"])]
        for name, client, opts in joins:
            m = g.add(name, client, [*opts, "--deadline", "100"])
            stable.append(gs.wait_stable(g.live(), MIXED_PARTS, what=f"a stable group after {name} joined"))
            m.wait(lambda e: e["ev"] == "rec", 20, "a record after joining")
        assert len(stable[-1]) == 4 and all(stable[-1].values()), stable[-1]
        # kcat is the one killed: on SIGTERM it drops the record it polled last
        # after librdkafka stored its offset (kcat.c consume_cb returns when
        # !conf.run), so its clean close would skip one record
        kcat, java = g.all[0], g.all[1]
        java.stop()
        stable.append(gs.wait_stable(g.live(), MIXED_PARTS, what="a stable group after java left"))
        time.sleep(1)
        kcat.kill9()
        killed_at = int(time.time() * 1000)
        stable.append(gs.wait_stable(g.live(), MIXED_PARTS, timeout=40,
                                     what="a stable group after kcat was killed and expired"))
        assert set(stable[-1]) == {"confluent", "franz"}, stable[-1]
        time.sleep(1)
        prod.stop()
        ends = prod.ends()
        assert sorted(ends) == list(range(MIXED_PARTS)) and sum(ends.values()) >= 1000, ends
        gs.wait_read_all(g.all, ends)
        for m in g.live():
            m.stop()
    finally:
        g.cleanup()

    # every generation: each partition owned by one member at most; the
    # generations the group settled in: by exactly one
    gens = _owners_per_generation(g.all)
    for gen, owners in gens.items():
        flat = [p for o in owners.values() for p in o]
        assert len(flat) == len(set(flat)), f"generation {gen}: a partition owned twice: {owners}"
    settled = 0
    for owns in stable:
        gen = [gen for gen, owners in gens.items()
               if {k: v for k, v in owners.items() if k in owns} == owns]
        assert gen, f"no generation with the stable assignment {owns}: {dict(gens)}"
        assert sorted(p for o in gens[gen[-1]].values() for p in o) == list(range(MIXED_PARTS)), \
            f"generation {gen[-1]}: {gens[gen[-1]]}"
        settled += 1
    assert settled == 6 and len(gens) >= 6, dict(gens)

    # nothing read twice past a committed offset: a record read again was read
    # first by the killed member (kcat: auto commit every 500 ms, no commit
    # events), again only after the kill, and per partition the re-read
    # records are the tail of what it read there (its last commit .. the kill)
    reads = collections.defaultdict(list)
    for e in gs.group_events(g.all, "rec"):
        reads[(e["p"], e["o"])].append(e)
    again = {k: v for k, v in reads.items() if len(v) > 1}
    for (p, o), rs in again.items():
        assert rs[0]["m"] == "kcat" and len(rs) == 2 and rs[1]["t"] >= killed_at, \
            f"record {p}@{o} read twice past a commit: {[(r['m'], r['t']) for r in rs]}"
    for p in {p for p, _ in again}:
        kcat_tail = sorted(o for (q, o), rs in reads.items() if q == p and rs[0]["m"] == "kcat")
        re_read = sorted(o for q, o in again if q == p)
        assert re_read == kcat_tail[len(kcat_tail) - len(re_read):] and len(re_read) <= 300, \
            f"partition {p}: re-read {re_read[:5]}..{re_read[-5:]} is not the tail of kcat's reads"
    # nothing skipped (wait_read_all) and nothing outside what was produced
    assert all(o < ends[p] for p, o in reads), "read an offset never produced"
    assert time.monotonic() - t0 < 110
    print(f"mixed group: {sum(ends.values())} records, {len(gens)} generations, "
          f"{len(again)} re-read after the kill")
