# SPDX-License-Identifier: Apache-2.0
"""Issue 11: 10,000 idle consumers long-polling one empty partition
(fetch.max.wait.ms 500, min_bytes 1, a new Fetch as soon as one returns) on
one broker, and a producer's produce->ack p99 under 10 ms meanwhile. With
main, 700 such consumers took a producer's median from 1 ms to 300 ms. How:
bench/idle-fetchers (raw Fetch v11 frames on epoll, from 127.0.0.2) holds
the consumers and times single-record acks=1 Produce requests at 200/s on
its own connection, first without consumers (the baseline), then with
them. The broker's connection table (spillway.connections.max) and both
processes' descriptor limits are raised above 10,000."""
import json
import subprocess

import pytest

from conftest import NOFILE, idle_fetchers_bin

CONSUMERS = 10000
P99_MS = 10.0
RSS_BOUND_MB = 1024         # the connection table and 10,000 sockets' state


def run_tool(h, consumers, duration, warmup):
    argv = [idle_fetchers_bin(), "--bootstrap", h.bootstrap, "--topic", "idle",
            "--connections", str(consumers), "--source", "127.0.0.2",
            "--connect-rate", "4000", "--connect-timeout", "60", "--max-wait-ms", "500",
            "--warmup", str(warmup), "--duration", str(duration),
            "--produce-topic", "probe", "--produce-rate", "200", "--acks", "1"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=180,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"idle-fetchers rc={r.returncode}: {r.stderr[-1000:]}"
    return json.loads(r.stdout)


def ms(us):
    return round(us / 1000, 2)


def test_10000_idle_consumers_producer_p99(hostile):
    if NOFILE < CONSUMERS + 1024:
        pytest.skip(f"RLIMIT_NOFILE is {NOFILE}; {CONSUMERS} consumers need more")
    h = hostile(overrides={"spillway.connections.max": str(CONSUMERS + 2000)},
                topics={"idle": 1, "probe": 1}, bystander=False, rss_bound_mb=RSS_BOUND_MB)
    base = run_tool(h, 0, 5, 0.5)["produce"]
    h.figure(produce_alone={"p50_ms": ms(base["ack"]["p50_us"]),
                            "p99_ms": ms(base["ack"]["p99_us"]),
                            "p999_ms": ms(base["ack"]["p999_us"]),
                            "max_ms": ms(base["ack"]["max_us"])})
    with h.phase("attack"):
        res = run_tool(h, CONSUMERS, 10, 2)
    p, ack, rtt = res["produce"], res["produce"]["ack"], res["fetch_rtt"]
    h.figure(consumers={k: res[k] for k in ("connected", "connect_s", "closed_by_broker",
                                             "fetch_responses", "fetch_errors")},
             fetch_rtt={"p50_ms": ms(rtt["p50_us"]), "p99_ms": ms(rtt["p99_us"]),
                        "max_ms": ms(rtt["max_us"])},
             produce_with_consumers={"sent": p["sent"], "acked": p["acked"],
                                     "errors": p["errors"], "p50_ms": ms(ack["p50_us"]),
                                     "p99_ms": ms(ack["p99_us"]),
                                     "p999_ms": ms(ack["p999_us"]), "max_ms": ms(ack["max_us"])})
    h.check(res["connected"] == CONSUMERS, f"{res['connected']} of {CONSUMERS} connected "
                                           f"({res['connect_errors']} failed)")
    h.check(res["closed_by_broker"] == 0, f"{res['closed_by_broker']} consumers closed")
    h.check(res["fetch_errors"] == 0, f"{res['fetch_errors']} Fetch errors")
    h.check(p["acked"] == p["sent"] and not p["errors"] and not p["closed"],
            f"producer: {p['sent']} sent, {p['acked']} acked, {p['errors']} errors, "
            f"closed={p['closed']}")
    h.check(ack["count"] > 0 and ack["p99_us"] < P99_MS * 1000,
            f"produce->ack p99 {ms(ack['p99_us'])} ms over {ack['count']} acks with "
            f"{CONSUMERS} idle consumers (bound {P99_MS} ms; alone "
            f"{ms(base['ack']['p99_us'])} ms)")
    h.check(rtt["p99_us"] < 600_000, f"long polls of 500 ms took {ms(rtt['p99_us'])} ms (p99)")
    h.finish(after_s=1.0, settle_s=30.0)
