# SPDX-License-Identifier: Apache-2.0
"""A broker process for suites that watch it from outside: the integration
suite's Broker (tests/integration/conftest.py, loaded under another module
name so two conftest.py files do not collide) with /metrics on a port of its
own, and readings of what the process holds: RSS and descriptors from /proc,
connection and pending-request gauges from /metrics."""
import importlib.util
import os
import resource
import shutil
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import promtext

REPO = Path(__file__).resolve().parents[2]

_spec = importlib.util.spec_from_file_location(
    "integration_conftest", REPO / "tests" / "integration" / "conftest.py")
it = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(it)

free_port = it.free_port
client_missing = it.client_missing

def raise_nofile(want):
    """Raises this process's descriptor limit (inherited by the broker and
    the tools it starts) towards want: up to the hard limit, and beyond it
    where the process may (CAP_SYS_RESOURCE). Returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def data_parent():
    """Where brokers keep their data: $SPILLWAY_DATA_PARENT, else tmpfs
    (/dev/shm) when there is one, else the default temp dir. On tmpfs an
    fsync costs nothing, so a test that times round trips measures the
    broker and not a disk shared with whatever else runs on the machine."""
    p = os.environ.get("SPILLWAY_DATA_PARENT")
    if p:
        return p
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        return "/dev/shm"
    return None


class Broker(it.Broker):
    """A Spillway broker (only; Kafka has no such gauges) with /metrics, its
    data under data_parent()."""

    def __init__(self, overrides=None):
        self.metrics_port = free_port()
        # The base argv turns metrics off; an override given later wins.
        o = {"spillway.metrics.listen": f"127.0.0.1:{self.metrics_port}"}
        o.update(overrides or {})
        super().__init__("spillway", o)
        parent = data_parent()
        if parent:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = Path(tempfile.mkdtemp(prefix="spillway-hostile-", dir=parent))
            self.data = self.dir / "data"
            self.log_path = self.dir / "broker.stderr"

    @property
    def pid(self):
        return self.proc.pid

    def rss_kb(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def metrics(self, timeout=5.0):
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return promtext.parse(r.read().decode())

    family = staticmethod(promtext.family)

    def gauges(self):
        """What must return to baseline after an attack: open connections,
        descriptors, requests waiting (None while the broker has no such
        gauge), plus the refused-connection counter for reports."""
        m = self.metrics()
        return {
            "connections": self.family(m, "spillway_connections_open"),
            "fds": self.fd_count(),
            "waiting": self.family(m, "spillway_requests_waiting"),
            "rejected": self.family(m, "spillway_connections_rejected_total"),
        }


class Sampler:
    """Samples a broker's RSS and descriptor count every period seconds in a
    thread, keeping the maximum of each per named phase."""

    def __init__(self, broker, period=0.1):
        self.broker, self.period = broker, period
        self.phase = "start"
        self.max = {}                   # phase -> {"rss_kb", "fds"}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def set_phase(self, name):
        self.phase = name

    def _run(self):
        while not self._stop.is_set():
            try:
                rss, fds = self.broker.rss_kb(), self.broker.fd_count()
            except OSError:
                return                  # the process is gone
            cur = self.max.setdefault(self.phase, {"rss_kb": 0, "fds": 0})
            cur["rss_kb"] = max(cur["rss_kb"], rss)
            cur["fds"] = max(cur["fds"], fds)
            self._stop.wait(self.period)

    def stop(self):
        self._stop.set()
        self._thread.join(5)

    def peak(self, phases=None):
        rows = [v for k, v in self.max.items() if phases is None or k in phases]
        return {"rss_kb": max((r["rss_kb"] for r in rows), default=0),
                "fds": max((r["fds"] for r in rows), default=0)}


def wait_until(pred, timeout, period=0.2):
    """Polls pred() until it returns a true value or timeout seconds pass;
    returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(period)
