# SPDX-License-Identifier: Apache-2.0
"""Consumer groups with real clients (issue 13): committed offsets survive a
consumer restart, a graceful broker restart and a kill -9 of the broker;
each time the next member resumes exactly at the committed offsets."""
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
