# SPDX-License-Identifier: Apache-2.0
"""kill -9 under acks=all load: three cycles of (start producers, kill -9 the
broker while they send, restart it on the same data dir, let them finish).
Producers: the default Java producer (idempotent), librdkafka idempotent, and
librdkafka non-idempotent without retries (so it cannot duplicate). Each
writes a numbered sequence to its own topic per cycle. At the end every
acknowledged record of every cycle must be there exactly once and in order;
for the idempotent producers (which retry through the crash) all of them,
with no gaps."""
import subprocess
import time

import pytest

import data_scenarios as ds

pytestmark = pytest.mark.data_path

N = 40000
CYCLES = 3
PRODUCERS = {
    "java-idem": ("java", ["acks=all", "linger.ms=2", "batch.size=8192",
                           "delivery.timeout.ms=120000", "request.timeout.ms=5000",
                           "reconnect.backoff.ms=50", "reconnect.backoff.max.ms=500"], True),
    "rdkafka-idem": ("rdkafka", ["enable.idempotence=true", "acks=all", "linger.ms=2",
                                 "message.timeout.ms=120000", "request.timeout.ms=5000",
                                 "reconnect.backoff.ms=50", "reconnect.backoff.max.ms=500"], True),
    "rdkafka-plain": ("rdkafka", ["enable.idempotence=false", "acks=all", "linger.ms=2",
                                  "max.in.flight.requests.per.connection=1",
                                  "message.send.max.retries=0", "message.timeout.ms=30000",
                                  "request.timeout.ms=5000"], False),
}


def test_kill9_under_load(broker_factory):
    b = broker_factory()
    written = []  # (label, topic, acked, idempotent)
    for cycle in range(CYCLES):
        procs = {}
        for name, (client, extra, idem) in PRODUCERS.items():
            d = ds.data_driver(client)
            topic = ds.create_topic(b.bootstrap, ds.unique_topic(f"crash{cycle}-{name}"), 1)
            argv = d.argv + ["seq", b.bootstrap, topic, str(N), *extra]
            procs[name] = (topic, idem, subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True))
        time.sleep(2.0)  # JVM start + some load
        b.kill()
        time.sleep(0.5)
        b.start()
        for name, (topic, idem, p) in procs.items():
            try:
                stdout, stderr = p.communicate(timeout=150)
            except subprocess.TimeoutExpired:
                p.kill()
                stdout, stderr = p.communicate()
                raise AssertionError(f"cycle {cycle} {name} did not finish:\n{stderr[-2000:]}")
            assert p.returncode == 0, f"{name} rc={p.returncode}:\n{stderr[-2000:]}"
            res = ds.json.loads(stdout.strip().splitlines()[-1])
            written.append((f"cycle {cycle} {name}", topic, res, idem))
    for label, topic, res, idem in written:
        recs = ds.consume_all(b.bootstrap, topic, 1)
        assert [r["o"] for r in recs] == list(range(len(recs))), f"{label}: offsets"
        ds.check_sequence([r["v"] for r in recs], res["acked"], N, exact=idem, label=label)
        if idem:
            assert len(res["acked"]) == N, \
                f"{label}: {N - len(res['acked'])} not acked: {res['first_errors']}"
        else:
            assert res["acked"], f"{label}: nothing acknowledged: {res['first_errors']}"
