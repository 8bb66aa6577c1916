# SPDX-License-Identifier: Apache-2.0
"""Issue 11, items 1 and 2: waiting requests must hold no network resources.
Connections that pipeline dozens of long-poll Fetches (max_wait_ms
2147483647, min_bytes unmet on an empty partition) and then disconnect must
leave nothing waiting behind them (each such Fetch held one of the core's 512
receive buffers, or one of its 1,024 pending-request slots, until it
expired: 24.8 days), and hundreds of ordinary idle consumers long-polling
with fetch.max.wait.ms 500 (bench/idle-fetchers, raw frames) must not slow
the bystander's round trips. How: raw Fetch v11 frames from Python, a
bystander (librdkafka) beside them, and after the attacker leaves the
connection, pending-request and descriptor gauges back at baseline and a new
connection answered at once."""
import json
import subprocess
import time

import pytest

import kwire
from conftest import idle_fetchers_bin

FETCH_V = 11


def long_poll_fetch(topic, correlation, max_wait_ms=kwire.INT32_MAX):
    body = kwire.fetch_body(FETCH_V, [(topic, [(0, 0, 1 << 20)])], max_bytes=50 << 20,
                            max_wait_ms=max_wait_ms, min_bytes=1 << 20)
    return kwire.request(kwire.FETCH, FETCH_V, correlation, body)


def probe_new_connection(h, timeout=2.0):
    """A new client's ApiVersions and Produce are answered within timeout
    (the core can still receive and has pending slots for a Produce)."""
    t0 = time.monotonic()
    try:
        with kwire.connect(h.bootstrap, timeout) as s:
            kwire.call(h.bootstrap, kwire.API_VERSIONS, 0, b"", sock=s)
            batch = kwire.record_batch([b"probe"], timestamp_ms=0)
            body = kwire.produce_body(7, [("probe", [(0, batch)])])
            res = kwire.parse_produce(7, kwire.call(h.bootstrap, kwire.PRODUCE, 7, body,
                                                    sock=s, correlation=8))
    except (OSError, ValueError) as e:
        h.check(False, f"new connection after the attack: {e!r} after "
                       f"{time.monotonic() - t0:.1f} s")
        return
    took = time.monotonic() - t0
    h.figure(probe_ms=round(took * 1000, 1))
    h.check(res and res[0][2] == 0, f"probe Produce after the attack answered {res}")
    h.check(took < timeout, f"probe after the attack took {took:.1f} s")


@pytest.mark.parametrize("conns,depth", [(12, 60), (20, 55)],
                         ids=["item1-12x60-receive-buffers", "item2-20x55-pending-pool"])
def test_pipelined_long_polls_then_disconnect(hostile, conns, depth):
    h = hostile(topics={"longpoll": 1, "probe": 1})
    socks = []
    with h.phase("attack"):
        socks = [kwire.connect(h.bootstrap) for _ in range(conns)]
        # One Fetch per segment, a pause between rounds: each arrives in a
        # receive of its own (one receive buffer each), as a client that
        # pipelines over time would send them.
        for i in range(depth):
            for c, s in enumerate(socks):
                s.sendall(long_poll_fetch("longpoll", c * 1000 + i))
            time.sleep(0.01)
        time.sleep(2.0)             # every Fetch read and waiting
        h.figure(waiting_during=(h.gauges() or {}).get("waiting"))
        for s in socks:
            s.close()
    probe_new_connection(h)
    h.finish()


def test_700_idle_long_polling_consumers(hostile):
    """750 consumers long-polling an empty partition (max wait 500 ms, as
    fetch.max.wait.ms defaults to) for 8 s: the bystander's p99 must stay
    under 50 ms, and each long poll must return about when it should."""
    h = hostile(topics={"idle": 1})
    argv = [idle_fetchers_bin(), "--bootstrap", h.bootstrap, "--topic", "idle",
            "--connections", "750", "--max-wait-ms", "500", "--warmup", "1",
            "--duration", "8", "--connect-timeout", "20"]
    with h.phase("attack"):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=90,
                           stdin=subprocess.DEVNULL)
    h.check(r.returncode == 0, f"idle-fetchers rc={r.returncode}: {r.stderr[-500:]}")
    res = json.loads(r.stdout) if r.returncode == 0 else {}
    if res:
        rtt = res["fetch_rtt"]
        h.figure(idle_fetchers={k: res[k] for k in ("connected", "closed_by_broker",
                                                     "fetch_responses", "fetch_errors")},
                 fetch_rtt_p50_ms=rtt["p50_us"] / 1000, fetch_rtt_p99_ms=rtt["p99_us"] / 1000)
        h.check(res["connected"] == 750, f"{res['connected']} of 750 consumers connected")
        h.check(res["closed_by_broker"] == 0, f"{res['closed_by_broker']} consumers closed")
        h.check(res["fetch_errors"] == 0, f"{res['fetch_errors']} Fetch errors")
        # 750 consumers x 7 s of measuring at one poll per 0.5 s.
        h.check(res["fetch_responses"] >= 750 * 10,
                f"only {res['fetch_responses']} long polls returned")
        h.check(rtt["p99_us"] < 600_000,
                f"long polls of 500 ms returned after {rtt['p99_us'] / 1000:.0f} ms (p99)")
    h.finish()
