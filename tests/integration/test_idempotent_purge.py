# SPDX-License-Identifier: Apache-2.0
"""librdkafka's idempotent producer with purges (rd_kafka_purge) and dropped
connections (issue 18). The broker advertises a relay (chaos_proxy.py) that
the driver (clients/idem_purge.py, own process) controls:

- stream: numbered records to 4 partitions, acks=all, 5 in flight; after
  every round of a few hundred records every connection is cut, and in two
  rounds out of three the queued and in-flight records are purged. Then a
  read_uncommitted consumer reads every partition: every acknowledged record
  is there exactly once at its acknowledged offset, nothing is there twice,
  nothing but acknowledged or purged records is there, and each partition
  holds its records in production order.
- first: the producer has its producer id, the relay holds the leader's
  connection, the first records are produced and purged before anything is
  sent; then every later record is acknowledged, with no error at all.

Run with Debian's confluent-kafka 1.7 (librdkafka 2.0.2) and with the 2.6.1
wheel (.cache/integration/py-ck2, librdkafka 2.6.1: KIP-360 epoch bumps).
IDEM_PURGE_DEBUG=eos,msg,... sets librdkafka's debug contexts and keeps the
driver's log in $TMPDIR/idem-purge-<mode>-<client>.log."""
import json
import os
import subprocess
import tempfile
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import pytest

import data_scenarios as ds
from chaos_proxy import ChaosProxy
from conftest import HERE, REPO, client_missing, free_port
from test_list_offsets_clients import describe_producers

pytestmark = pytest.mark.data_path

PARTS = 4
ROUNDS, PER_ROUND = 12, 400
FIRST_N = 2000
DRIVER = HERE / "clients" / "idem_purge.py"
CK2 = REPO / ".cache" / "integration" / "py-ck2"
CLIENTS = ["ck1.7", "ck2.6"]


def run_driver(client, args, timeout=180):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if client == "ck2.6":
        if not (CK2 / "confluent_kafka").is_dir():
            client_missing(f"confluent-kafka 2.x missing in {CK2} (run tests/integration/setup.sh)")
        env["PYTHONPATH"] = str(CK2)
    r = subprocess.run(["/usr/bin/python3", str(DRIVER), *map(str, args)],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout, env=env)
    if os.environ.get("IDEM_PURGE_DEBUG"):
        Path(tempfile.gettempdir(), f"idem-purge-{args[0]}-{client}.log").write_text(r.stderr)
    assert r.returncode == 0, f"driver failed ({r.returncode}):\n{r.stdout}\n{r.stderr[-3000:]}"
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert not res["fatal"], f"{client}: fatal errors {res['fatal']}\n{r.stderr[-3000:]}"
    return res


@pytest.fixture
def relayed(broker_factory):
    """A broker of its own advertising a relay port (the driver runs the relay)."""
    pport = free_port()
    b = broker_factory({"advertised.listeners": f"PLAINTEXT://127.0.0.1:{pport}"})
    return b, pport


@contextmanager
def plain_relay(pport, b):
    """The advertised address forwarding plainly, for the admin client and
    the consumer (while no driver runs its own relay there)."""
    proxy = ChaosProxy(pport, "127.0.0.1", b.port).start()
    try:
        yield
    finally:
        proxy.stop()


def create_topic(b, pport, prefix):
    with plain_relay(pport, b):
        return ds.create_topic(b.bootstrap, ds.unique_topic(prefix), parts=PARTS)


def consume_all(b, pport, topic):
    with plain_relay(pport, b):
        return ds.consume_all(b.bootstrap, topic, PARTS)


def by_partition(recs):
    got = defaultdict(list)
    for r in recs:
        got[r["p"]].append((int(r["v"][4:]), r["o"]))
    return got


def check_log(res, recs, label):
    """The log against what the producer was told."""
    acked = {i: (p, o) for p, i, o in res["acked"]}
    purged = set(res["purged_queue"]) | set(res["purged_inflight"])
    assert len(acked) == len(res["acked"]), f"{label}: a record acknowledged twice"
    values = [int(r["v"][4:]) for r in recs]
    dups = sorted(i for i in set(values) if values.count(i) > 1)
    assert not dups, f"{label}: {len(dups)} records in the log twice, e.g. {dups[:10]}"
    unknown = sorted(set(values) - set(acked) - purged)
    assert not unknown, f"{label}: records in the log never acked nor purged: {unknown[:10]}"
    for p, lst in by_partition(recs).items():
        for i, o in lst:
            if i in acked:
                assert acked[i] == (p, o), \
                    f"{label}: record {i} acked at {acked[i]}, in the log at {(p, o)}"
            assert i % PARTS == p, f"{label}: record {i} in partition {p}"
        seq = [i for i, _ in lst]
        assert seq == sorted(seq), f"{label}: partition {p} out of production order"
    missing = sorted(set(acked) - set(values))
    assert not missing, f"{label}: {len(missing)} acknowledged records missing: {missing[:10]}"
    return len(purged & set(values))


def check_clean(res, label):
    assert not res["fatal"], f"{label}: fatal errors {res['fatal']}"
    assert not res["errors"], f"{label}: delivery errors {res['errors'][:10]}"
    assert not res["unfinished"], f"{label}: {res['unfinished']} records never reported"


# Not with librdkafka 2.0.2: before 2.3.0 (librdkafka #4438) a batch whose
# request failed with the connection counts as persisted, so once the next
# one answers OUT_OF_ORDER_SEQUENCE_NUMBER (its predecessor was purged, or
# never reached the log) the producer goes fatal ("sequence
# desynchronization"), against Apache Kafka 3.9.1 just as against Spillway.
@pytest.mark.parametrize("client", ["ck2.6"])
def test_purge_and_cuts_mid_stream(relayed, client):
    b, pport = relayed
    via = f"127.0.0.1:{pport}"
    topic = create_topic(b, pport, "idem-purge")
    res = run_driver(client, ["stream", via, pport, b.port, topic, PARTS, ROUNDS, PER_ROUND])
    label = f"{client} {res['version']} proxy {res['proxy']}"
    n = ROUNDS * PER_ROUND
    purged = set(res["purged_queue"]) | set(res["purged_inflight"])
    print(f"{label}: {len(res['acked'])} acked, {len(res['purged_queue'])} purged in queue, "
          f"{len(res['purged_inflight'])} purged in flight, rounds {res['rounds']}")
    check_clean(res, label)
    assert len(res["rounds"]) == ROUNDS, f"{label}: ran out of time: {res['rounds']}"
    assert res["proxy"]["kill_events"] == ROUNDS and res["proxy"]["killed"] >= ROUNDS, \
        f"{label}: too few connections cut"
    assert purged, f"{label}: the purges purged nothing"
    # Every record not purged is acknowledged: the producer recovers.
    acked = {i for _, i, _ in res["acked"]}
    lost = sorted(set(range(n)) - acked - purged)
    assert not lost, f"{label}: {len(lost)} records neither acked nor purged: {lost[:10]}"
    assert len(acked) > n // 4, f"{label}: too few acknowledged"
    written = check_log(res, consume_all(b, pport, topic), label)
    print(f"{label}: {written} purged records are in the log")


@pytest.mark.parametrize("leader", ["held", "up"])
@pytest.mark.parametrize("client", CLIENTS)
def test_first_request_purged(relayed, client, leader):
    """held: the leader's connection is not up when the first records are
    purged (librdkafka then starts the partitions' sequences at 0 anyway).
    up: it is (one record to the last partition acked first), the first
    records of the other partitions are purged before their linger ends, so
    their first batch in the log starts at sequence 3 for a producer the
    partition never saw: accepted, as Kafka accepts any sequence then (were it
    refused, librdkafka would bump its epoch and resend from 0)."""
    b, pport = relayed
    topic = create_topic(b, pport, "idem-first")
    res = run_driver(client, ["first", b.bootstrap, pport, b.port, topic, PARTS, FIRST_N,
                              int(leader == "up")])
    label = f"{client} {res['version']} leader {leader}"
    print(f"{label}: {len(res['acked'])} acked, purged {sorted(res['purged_queue'])} "
          f"{res['purged_inflight']}, proxy {res['proxy']}")
    check_clean(res, label)
    assert not res["client_errors"], f"{label}: client errors {res['client_errors']}"
    # Nothing the broker answered needed recovering: the producer id and
    # epoch it started with (librdkafka 2.0.2 bumps the epoch, 2.6.1 takes a
    # new id, silently, after an OUT_OF_ORDER_SEQUENCE_NUMBER).
    assert res["producer"] == res["producer_start"], \
        f"{label}: producer id/epoch {res['producer_start']} became {res['producer']}"
    first = res["first_purged"]
    assert sorted(res["purged_queue"] + res["purged_inflight"]) == sorted(first), \
        f"{label}: the first records were not purged: {res['purged_queue'][:20]} " \
        f"{res['purged_inflight'][:20]}"
    later = set(range(3 * PARTS, 3 * PARTS + FIRST_N))
    warm = {PARTS - 1} if leader == "up" else set()
    acked = {i for _, i, _ in res["acked"]}
    assert acked == later | warm, f"{label}: {len(later - acked)} later records not acked"
    recs = consume_all(b, pport, topic)
    assert {int(r["v"][4:]) for r in recs} == later | warm
    check_log(res, recs, label)
    if leader == "up":
        # The broker's producer state: the first batches of partitions
        # 0..PARTS-2 did start at sequence 3 (3 purged, FIRST_N / PARTS after).
        pid = res["producer"][0]
        got = describe_producers(b, [(topic, list(range(PARTS)))])[0][1]
        last = {p: [x[2] for x in prods if x[0] == pid] for p, _, _, prods in got}
        per = FIRST_N // PARTS
        want = {p: [per + 2 if p < PARTS - 1 else per] for p in range(PARTS)}
        assert last == want, f"{label}: last sequences {last}, expected {want}"
