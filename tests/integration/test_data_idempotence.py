# SPDX-License-Identifier: Apache-2.0
"""Idempotent producers over connections that break: the broker advertises a
chaos proxy (chaos_proxy.py) so that every client connection goes through it,
and the proxy resets connections at random moments while the default Java
producer (idempotent since 3.0) or librdkafka with enable.idempotence=true
sends a numbered sequence. Every acknowledged record must then be in the log
exactly once, in order, with no gaps."""
import pytest

import data_scenarios as ds
from chaos_proxy import ChaosProxy
from conftest import free_port

pytestmark = pytest.mark.data_path

N = 40000  # about 2-4 s of sending (the drivers pause 1 ms every 20 records)
CLIENTS = {
    # Defaults: idempotent, acks=all, 5 in flight.
    "java": ["linger.ms=2", "batch.size=4096", "delivery.timeout.ms=60000",
             "request.timeout.ms=5000", "reconnect.backoff.ms=20"],
    "rdkafka": ["enable.idempotence=true", "linger.ms=2", "batch.size=4096",
                "message.timeout.ms=60000", "request.timeout.ms=5000",
                "reconnect.backoff.ms=20", "reconnect.backoff.max.ms=200"],
}


@pytest.fixture
def proxied(broker_factory):
    pport = free_port()
    b = broker_factory({"advertised.listeners": f"PLAINTEXT://127.0.0.1:{pport}"})
    proxy = ChaosProxy(pport, "127.0.0.1", b.port, seed=pport).start()
    yield b, proxy, f"127.0.0.1:{pport}"
    proxy.stop()


@pytest.mark.parametrize("client", list(CLIENTS))
def test_idempotent_under_connection_kills(proxied, client):
    b, proxy, via = proxied
    d = ds.data_driver(client)
    topic = ds.create_topic(via, ds.unique_topic(f"idem-{client}"), parts=1)
    proxy.arm(kills=10, min_gap=0.1, max_gap=0.4, until=12)
    res = d.seq(via, topic, N, CLIENTS[client], timeout=150)
    proxy.disarm()
    print(f"{client}: proxy {proxy.stats}, {len(res['acked'])} acked")
    assert proxy.stats["kill_events"] >= 3 and proxy.stats["killed"] > 0, \
        f"too few connection kills during the run: {proxy.stats}"
    assert res["acked"], f"nothing acknowledged: {res}"
    recs = ds.consume_all(via, topic, 1)
    values = [r["v"] for r in recs]
    assert [r["o"] for r in recs] == list(range(len(recs)))
    ds.check_sequence(values, res["acked"], N, label=f"{client} {proxy.stats}")
    # The idempotent producer retries through every reset: all of it lands.
    assert len(res["acked"]) == N, f"{N - len(res['acked'])} not acked: {res['first_errors']}"
