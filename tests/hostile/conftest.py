# SPDX-License-Identifier: Apache-2.0
"""The hostile suite's harness: each test gets a broker of its own (with
/metrics), a bystander (tests/lib/bystander.py) keeping a steady load from
before the attack to after it, a sampler of the broker's RSS and
descriptors, and a list of failed checks that the test ends with, so one
run says everything that went wrong rather than the first thing.

    h = hostile(overrides={...})      # broker + bystander, warmed up, baseline taken
    with h.phase("attack"):
        ...                           # the attacker, from raw frames
    h.check(cond, "what went wrong")  # attack-specific expectations
    h.finish()                        # after-phase, gauges back to baseline,
                                      # bystander windows, RSS bound; raises

Environment: SPILLWAY_BIN (the broker), BYSTANDER_BIN and IDLE_FETCHERS_BIN
(built by meson), HOSTILE_REPORT (a file to append each test's figures to,
as JSON lines)."""
import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))

import bystander as bys  # noqa: E402
import kwire  # noqa: E402
import spwbroker  # noqa: E402

REPO = spwbroker.REPO

# Brokers and tools started here inherit this: hundreds of attacking
# connections must not run into a default soft limit of 1,024 descriptors.
NOFILE = spwbroker.raise_nofile(65536)

# Bound on the broker's RSS during and after an attack. The sanitized build
# idles near 40 MB with the bystander running; 512 MB leaves room for the
# ASan shadow of every preallocated pool and bounded per-connection buffers,
# and is far below what an unbounded response queue reaches in seconds.
RSS_BOUND_MB = int(os.environ.get("HOSTILE_RSS_BOUND_MB", "512"))
BASELINE_S = 2.0        # baseline windows before the attack
AFTER_S = 3.0           # bystander windows after the attacker left
SETTLE_S = 15.0         # bound on gauges returning to baseline


def tool(env_name, *candidates):
    p = os.environ.get(env_name)
    if p:
        return p
    for c in candidates:
        if os.access(REPO / c, os.X_OK):
            return str(REPO / c)
    spwbroker.client_missing(f"{env_name} not set and none of {candidates} built")


def bystander_bin():
    return tool("BYSTANDER_BIN", "build/tests/hostile/bystander",
                "build-test/tests/hostile/bystander")


def idle_fetchers_bin():
    return tool("IDLE_FETCHERS_BIN", "build/bench/idle-fetchers",
                "build-test/bench/idle-fetchers")


def create_topic(bootstrap, name, partitions):
    got = {n: e for n, e, _ in kwire.create_topics(bootstrap, [(name, partitions)], timeout=30)}
    assert got == {name: 0}, f"CreateTopics {name}: {got}"
    return name


class Harness:
    def __init__(self, name, tmp_path, overrides, bystander, rates, fd_slack, rss_bound_mb,
                 topics):
        self.name, self.tmp, self.topics = name, tmp_path, topics
        self.overrides, self.with_bystander, self.rates = overrides, bystander, rates
        self.fd_slack, self.rss_bound_mb = fd_slack, rss_bound_mb
        self.failures, self.figures, self.marks = [], {}, []
        self.broker = self.sampler = self.bystander = None
        self.baseline = None

    # -- set-up ---------------------------------------------------------------
    def start(self):
        if os.environ.get("SPILLWAY_TEST_BACKEND", "spillway") != "spillway" or \
                os.environ.get("SPILLWAY_BOOTSTRAP"):
            pytest.skip("the hostile suite watches a Spillway process of its own")
        self.broker = spwbroker.Broker(self.overrides).start()
        self.bootstrap = self.broker.bootstrap
        self.sampler = spwbroker.Sampler(self.broker).start()
        self.sampler.set_phase("warmup")
        for name, partitions in self.topics.items():
            create_topic(self.bootstrap, name, partitions)
        if self.with_bystander:
            topic = create_topic(self.bootstrap, "bystander", 2)
            self.bystander = bys.Bystander(bystander_bin(), self.bootstrap, topic,
                                           str(self.tmp / "bystander.log"), *self.rates)
            self.bystander.start()
            warm = self.bystander.warm_until()
        else:
            warm = time.time()
        self.sampler.set_phase("baseline")
        self._mark("baseline", warm)
        time.sleep(max(0.0, warm + BASELINE_S - time.time()))
        self.baseline = self._gauge_baseline()
        self.figures["baseline"] = dict(self.baseline, rss_kb=self.broker.rss_kb())
        return self

    def gauges(self):
        """The broker's gauges, or None when /metrics does not answer (its
        control thread may be the one an attack keeps busy)."""
        try:
            return self.broker.gauges()
        except (OSError, ValueError):
            return None

    def _gauge_baseline(self):
        """The most of each gauge over a few readings: a consumer's long
        poll or a reconnect makes them move a little at rest."""
        base = {}
        for _ in range(4):
            for k, v in self.broker.gauges().items():
                if v is not None:
                    base[k] = max(base.get(k, v), v)
                else:
                    base.setdefault(k, None)
            time.sleep(0.15)
        return base

    def _mark(self, name, t=None):
        self.marks.append((name, time.time() if t is None else t))

    # -- during ---------------------------------------------------------------
    @contextmanager
    def phase(self, name="attack"):
        """Marks the attacker's time; the windows overlapping it are judged
        as name, the ones after it as after-<name>."""
        self.sampler.set_phase(name)
        self._mark(name)
        try:
            yield self
        finally:
            self.sampler.set_phase("after")
            self._mark(f"after-{name}")

    def check(self, cond, msg):
        if not cond:
            self.failures.append(msg)
        return cond

    def figure(self, **kv):
        self.figures.update(kv)

    def alive(self):
        return self.broker.alive()

    # -- the end --------------------------------------------------------------
    def finish(self, after_s=AFTER_S, settle_s=SETTLE_S):
        if self.broker.crashed():
            self.failures.append(f"broker died (rc {self.broker.proc.returncode})")
        else:
            time.sleep(after_s)
            self._settle(settle_s)
        self._mark("end")
        self.sampler.stop()
        attack = self.sampler.peak([p for p in self.sampler.max if p not in
                                    ("warmup", "baseline")])
        self.figures["rss_peak_mb"] = round(attack["rss_kb"] / 1024, 1)
        self.figures["fds_peak"] = attack["fds"]
        self.check(attack["rss_kb"] <= self.rss_bound_mb * 1024,
                   f"broker RSS peaked at {attack['rss_kb'] / 1024:.0f} MB "
                   f"(bound {self.rss_bound_mb} MB)")
        if self.bystander is not None:
            res = self.bystander.stop()
            self.failures += bys.judge(res, self.marks)
            self.figures["bystander"] = bys.summary(res, self.marks)
            self.figures["bystander_totals"] = {k: res[k] for k in
                                                ("sent", "acked", "consumed", "lost",
                                                 "transport_errors")}
        self._report()
        if self.failures:
            pytest.fail(f"{len(self.failures)} failed checks:\n  " +
                        "\n  ".join(self.failures), pytrace=False)

    def _settle(self, settle_s):
        """Waits (bounded) for every gauge to come back to its baseline."""
        base = self.baseline

        def back():
            g = self.gauges()
            if g is None:
                return None
            ok = (g["connections"] is None or g["connections"] <= base["connections"]) and \
                g["fds"] <= base["fds"] + self.fd_slack and \
                (g["waiting"] is None or g["waiting"] <= (base["waiting"] or 0))
            return g if ok else None
        t0 = time.monotonic()
        got = spwbroker.wait_until(back, settle_s, 0.25)
        now = self.gauges()
        self.figures["gauges_after"] = now
        self.figures["settle_s"] = round(time.monotonic() - t0, 2)
        if got:
            return
        if now is None:
            self.failures.append(f"/metrics did not answer {settle_s:.0f} s after the attack")
            return
        if now["connections"] is None:
            self.failures.append("no spillway_connections_open gauge on /metrics")
        elif now["connections"] > base["connections"]:
            self.failures.append(f"connections open {now['connections']:.0f} > baseline "
                                 f"{base['connections']:.0f} after {settle_s:.0f} s")
        if now["fds"] > base["fds"] + self.fd_slack:
            self.failures.append(f"descriptors {now['fds']} > baseline {base['fds']} "
                                 f"+ {self.fd_slack} after {settle_s:.0f} s")
        if now["waiting"] is not None and now["waiting"] > (base["waiting"] or 0):
            self.failures.append(f"requests waiting {now['waiting']:.0f} > baseline "
                                 f"{base['waiting']:.0f} after {settle_s:.0f} s")

    def _report(self):
        self.figures["waiting_gauge"] = self.baseline.get("waiting") is not None
        line = json.dumps({"test": self.name, "failures": self.failures, **self.figures})
        print(line)
        path = os.environ.get("HOSTILE_REPORT")
        if path:
            with open(path, "a") as f:
                f.write(line + "\n")

    def close(self):
        if self.bystander is not None:
            self.bystander.kill()
        if self.sampler is not None:
            self.sampler.stop()
        if self.broker is not None:
            self.broker.cleanup()


@pytest.fixture
def hostile(request, tmp_path):
    """hostile(overrides=None, topics=None, bystander=True, rates=(200, 50),
    fd_slack=0, rss_bound_mb=RSS_BOUND_MB) -> a started Harness (topics:
    {name: partitions} created before the baseline, so their descriptors are
    in it); cleaned up after."""
    made = []

    def make(overrides=None, topics=None, bystander=True, rates=(200, 50), fd_slack=0,
             rss_bound_mb=RSS_BOUND_MB):
        h = Harness(request.node.name, tmp_path, overrides or {}, bystander, rates,
                    fd_slack, rss_bound_mb, topics or {})
        made.append(h)
        return h.start()

    yield make
    for h in made:
        h.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for b in list(spwbroker.it._live_brokers):
            rep.sections.append((f"broker {b.bootstrap} log (last 40 lines)",
                                 b.log_tail(40)))
