#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Seeds of the group fuzz target (fuzz_group.c; run by hand, writes
tests/fuzz/corpus/group/): whole group lives as step sequences, built with
the raw codecs of tests/lib/kgroups.py. Member ids are the target's
predictable ones (fuzz_random)."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import kgroups as g  # noqa: E402

APIS = ["find", "join", "sync", "hb", "leave", "commit", "fetch", "odelete",
        "describe", "list", "delete"]
ACCEPT_MIN = {"commit": 2, "fetch": 1}
ADVANCE, COMPLETE, FAIL = 0x10, 0x20, 0x40


def mid(n):
    return f"fuzz-00000000-0000-4000-8000-{n:012x}"


def step(api, version, body, flags=0):
    body = bytes(body)
    v = version - ACCEPT_MIN.get(api, 0)
    return bytes([APIS.index(api) | flags, v]) + struct.pack("<H", len(body)) + body


def sub(topics=("t",)):
    return [("range", g.subscription(list(topics)))]


def seeds():
    T = [("t", [(0, 5, "m"), (1, 7, "")])]
    out = {}
    # v5 member: MEMBER_ID_REQUIRED, rejoin, sync, heartbeat, commit, fetch,
    # describe, list, leave, delete.
    out["life-v5"] = b"".join([
        step("find", 4, g.find_coordinator_body(4, ["G"])),
        step("join", 5, g.join_group_body(5, "G", "", sub())),
        step("join", 5, g.join_group_body(5, "G", mid(1), sub())),
        step("sync", 5, g.sync_group_body(5, "G", 1, mid(1),
                                          [(mid(1), g.assignment({"t": [0, 1]}))]), ADVANCE),
        step("hb", 4, g.heartbeat_body(4, "G", 1, mid(1))),
        step("commit", 8, g.offset_commit_body(8, "G", T, 1, mid(1))),
        step("fetch", 7, g.offset_fetch_body(7, [("G", None)]), COMPLETE),
        step("describe", 5, g.describe_groups_body(5, ["G", "nope"])),
        step("list", 5, g.list_groups_body(5, ["Stable"], ["classic"])),
        step("leave", 5, g.leave_group_body(5, "G", [(mid(1), None)])),
        step("delete", 2, g.delete_groups_body(2, ["G", "nope"]), COMPLETE),
    ])
    # v0 members: two join, rebalance, stale generation, expiry by clock.
    out["two-v0"] = b"".join([
        step("join", 0, g.join_group_body(0, "H", "", sub())),
        step("sync", 0, g.sync_group_body(0, "H", 1, mid(1), [(mid(1), b"")])),
        step("join", 1, g.join_group_body(1, "H", "", sub())),
        step("hb", 0, g.heartbeat_body(0, "H", 1, mid(1))),
        step("join", 1, g.join_group_body(1, "H", mid(1), sub())),
        step("commit", 2, g.offset_commit_body(2, "H", T, 1, mid(1))),
        step("hb", 1, g.heartbeat_body(1, "H", 2, mid(2)), ADVANCE),
        step("fetch", 1, g.offset_fetch_body(1, [("H", [("t", [0, 1])])]), COMPLETE | FAIL),
    ])
    # Static members (v5+): replace, fencing, batched leave.
    out["static-v9"] = b"".join([
        step("join", 9, g.join_group_body(9, "S", "", sub(), instance_id="i1")),
        step("sync", 5, g.sync_group_body(5, "S", 1, mid(1), [(mid(1), b"")], "i1")),
        step("join", 9, g.join_group_body(9, "S", "", sub(), instance_id="i1")),
        step("hb", 4, g.heartbeat_body(4, "S", 1, mid(1), "i1")),
        step("commit", 9, g.offset_commit_body(9, "S", T, 1, mid(1), "i1")),
        step("leave", 5, g.leave_group_body(5, "S", [(mid(2), "i1"), ("", "i9")])),
    ])
    # Simple consumers: commits without membership, multi-group fetch, delete.
    out["simple"] = b"".join([
        step("commit", 9, g.offset_commit_body(9, "A", T)),
        step("commit", 5, g.offset_commit_body(5, "B", T), COMPLETE),
        step("fetch", 9, g.offset_fetch_body(9, [("A", None), ("B", [("t", [0])])]), COMPLETE),
        step("odelete", 0, g.offset_delete_body("A", [("t", [0, 1])])),
        step("delete", 1, g.delete_groups_body(1, ["A", "B"]), COMPLETE),
        step("list", 0, g.list_groups_body(0)),
    ])
    return out


def main():
    d = os.path.join(HERE, "corpus", "group")
    os.makedirs(d, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
