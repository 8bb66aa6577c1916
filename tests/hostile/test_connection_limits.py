# SPDX-License-Identifier: Apache-2.0
"""Issue 11, item 6: no idle timeout, no connection limits. 4,096 silent
sockets locked every new client out of a core for good. Kafka closes a
connection idle for connections.max.idle.ms and bounds connections with
max.connections and max.connections.per.ip; a refused connection is counted
(spillway_connections_rejected_total) and logged, rate-limited. How: the
attacker connects from other loopback addresses (127.0.0.2 and up) so a
per-IP limit cannot hit the bystander on 127.0.0.1; silent sockets must be
closed after the idle time (and not long before), a full connection table
must free itself, and connections beyond a limit must go unanswered or be
closed while those within it and the bystander are served."""
import select
import time

import pytest

import kwire

IDLE_MS = 2000


def start(hostile, overrides, **kw):
    """The harness, or a failed test naming the keys the broker refused."""
    try:
        return hostile(overrides=overrides, **kw)
    except RuntimeError as e:
        pytest.fail(f"the broker does not start with {overrides}:\n{str(e)[-600:]}",
                    pytrace=False)


def open_from(h, source, n):
    """n connections from source; the ones the kernel refused are None."""
    out = []
    for _ in range(n):
        try:
            out.append(kwire.connect(h.bootstrap, 5.0, source=source))
        except OSError:
            out.append(None)
    return out


def answered(socks, wait_s=2.0):
    """Sends ApiVersions v0 on every socket; (answered, closed, silent)
    counts after wait_s."""
    live = {}
    closed = 0
    for i, s in enumerate(socks):
        if s is None:
            closed += 1
            continue
        try:
            s.sendall(kwire.request(kwire.API_VERSIONS, 0, i, b""))
            live[s.fileno()] = s
        except OSError:
            closed += 1
    ok = 0
    deadline = time.monotonic() + wait_s
    while live and time.monotonic() < deadline:
        ready, _, _ = select.select(list(live.values()), [], [], 0.1)
        for s in ready:
            del live[s.fileno()]
            try:
                kwire.read_frame(s)
                ok += 1
            except (OSError, ValueError):
                closed += 1
    return ok, closed, len(live)


def close_all(socks):
    for s in socks:
        if s is not None:
            s.close()


def test_idle_sockets_are_closed_and_free_the_table(hostile):
    table = 256
    h = start(hostile, {"connections.max.idle.ms": str(IDLE_MS),
                        "spillway.connections.max": str(table)})
    with h.phase("attack"):
        t0 = time.monotonic()
        silent = [s for s in open_from(h, "127.0.0.2", table) if s is not None]
        active = kwire.connect(h.bootstrap, 5.0, source="127.0.0.3")
        time.sleep(IDLE_MS / 2000)
        h.check(not any(kwire.eof(s) for s in silent),
                f"silent sockets closed after {IDLE_MS / 2000:.1f} s, before the idle time")
        # The table is full: a newcomer from 127.0.0.1 waits for idle ones to go.
        deadline = t0 + IDLE_MS / 1000 + 6
        newcomer_s = None
        while time.monotonic() < deadline and newcomer_s is None:
            active.sendall(kwire.request(kwire.API_VERSIONS, 0, 1, b""))
            kwire.read_frame(active)
            try:
                kwire.call(h.bootstrap, kwire.API_VERSIONS, 0, b"", timeout=0.5)
                newcomer_s = time.monotonic() - t0
            except (OSError, ValueError):
                time.sleep(0.25)
        # Sockets the full table left in the listen backlog are accepted as
        # idle ones go, and get an idle time of their own.
        still = sum(not kwire.eof(s) for s in silent)
        while still and time.monotonic() < t0 + 2 * IDLE_MS / 1000 + 3:
            time.sleep(0.2)
            active.sendall(kwire.request(kwire.API_VERSIONS, 0, 1, b""))
            kwire.read_frame(active)
            still = sum(not kwire.eof(s) for s in silent)
        h.figure(silent_opened=len(silent), silent_still_open=still,
                 newcomer_served_after_s=newcomer_s and round(newcomer_s, 2))
        h.check(still == 0, f"{still} of {len(silent)} silent sockets still open "
                            f"{time.monotonic() - t0:.1f} s later (idle {IDLE_MS} ms, "
                            f"twice that for those accepted late)")
        h.check(newcomer_s is not None, "a new client was locked out of the full table")
        try:
            active.sendall(kwire.request(kwire.API_VERSIONS, 0, 2, b""))
            kwire.read_frame(active)
        except (OSError, ValueError) as e:
            h.check(False, f"a connection active every 0.5 s was closed: {e!r}")
        close_all(silent + [active])
    h.finish()


def test_connection_limits_per_ip_and_total(hostile):
    per_ip, total = 50, 120
    h = start(hostile, {"max.connections.per.ip": str(per_ip),
                        "max.connections": str(total)})
    before = h.gauges() or {}
    with h.phase("attack-per-ip"):
        socks = open_from(h, "127.0.0.2", per_ip + 20)
        ok, closed, silent = answered(socks)
        h.figure(per_ip={"answered": ok, "closed": closed, "unanswered": silent})
        h.check(ok == per_ip, f"{ok} connections from one address answered "
                              f"(max.connections.per.ip {per_ip})")
        close_all(socks)
    time.sleep(2.5)     # a whole bystander window between the two attacks
    with h.phase("attack-total"):
        base = int(before.get("connections") or 0)
        socks = []
        for i in range(3):
            socks += open_from(h, f"127.0.0.{4 + i}", 45)
        ok, closed, silent = answered(socks)
        h.figure(total={"answered": ok, "closed": closed, "unanswered": silent,
                        "bystander_connections": base})
        h.check(ok <= total - base, f"{ok} answered beyond max.connections {total} "
                                    f"(the bystander holds {base})")
        h.check(ok >= total - base - 5, f"only {ok} answered below max.connections {total}")
        close_all(socks)
    time.sleep(1.0)
    try:
        kwire.call(h.bootstrap, kwire.API_VERSIONS, 0, b"", timeout=2.0)
    except (OSError, ValueError) as e:
        h.check(False, f"a new client after the attackers left: {e!r}")
    after = h.gauges() or {}
    refused = (after.get("rejected") or 0) - (before.get("rejected") or 0)
    h.figure(rejected_counted=refused)
    h.check(refused >= 20, f"spillway_connections_rejected_total rose by {refused} only")
    log = [l for l in h.broker.log_tail(100000).splitlines()
           if "connection" in l.lower() and any(w in l.lower() for w in
                                                 ("refus", "reject", "limit", "max.conn"))]
    h.figure(refusal_log_lines=len(log))
    h.check(0 < len(log) < max(refused, 1), f"{len(log)} log lines for {refused} refused "
                                            "connections (want some, rate-limited)")
    h.finish()
