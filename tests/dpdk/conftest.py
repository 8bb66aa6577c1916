# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the dpdk suite: a broker in a server network namespace per
transport (uring-veth, dpdk-tap, dpdk-afpacket; see netns.py), clients in a
client namespace, hugepages for the DPDK brokers, per-test timeouts, and
cleanup of everything on every way out (failure, Ctrl-C, SIGTERM).

Environment:
  SPILLWAY_BIN                 broker binary (default build/spillway)
  SPILLWAY_DPDK_TRANSPORTS     comma list, default all three
  SPILLWAY_DPDK_REQUIRED=1     a DPDK transport that cannot run fails instead
                               of skipping (binary without DPDK, no hugepages)
  SPILLWAY_DPDK_FULL=1         every admin scenario and codec, not the subset
  SPILLWAY_DPDK_IMPAIR=relay   use relay.py even where the kernel has netem
  SPILLWAY_KEEP_DIRS=1         keep broker data dirs and logs
  CI=true                      a missing tool or client fails instead of skipping
"""
import os
import shutil
import signal

import pytest

from . import netns as N

DEFAULT_TIMEOUT = 240


def pytest_configure(config):
    config.addinivalue_line("markers", "timeout(seconds): per-test time limit (SIGALRM)")


def pytest_sessionstart(session):
    if os.geteuid() != 0:
        pytest.exit("the dpdk suite needs root (network namespaces, hugepages)",
                    returncode=77)
    missing = [t for t in ("ip", "ethtool", "tc") if shutil.which(t) is None]
    if missing:
        msg = f"missing tools: {', '.join(missing)} (iproute2, ethtool)"
        pytest.exit(msg, returncode=1 if N.ci() else 77)
    # meson (and CI runners) stop a run with SIGTERM: make it unwind like
    # Ctrl-C so that every fixture finalizer runs.
    def on_term(*_):
        raise KeyboardInterrupt("SIGTERM")
    signal.signal(signal.SIGTERM, on_term)


def pytest_sessionfinish(session, exitstatus):
    N.cleanup_all()
    _hugepages.release()


_hugepages = N.Hugepages()
_dpdk_unavailable = []      # the broker's message, once seen


def _selected_transports():
    env = os.environ.get("SPILLWAY_DPDK_TRANSPORTS")
    if not env:
        return N.TRANSPORTS
    sel = [t.strip() for t in env.split(",") if t.strip()]
    bad = set(sel) - set(N.TRANSPORTS)
    if bad:
        raise pytest.UsageError(f"SPILLWAY_DPDK_TRANSPORTS: unknown {sorted(bad)}; "
                                f"known: {N.TRANSPORTS}")
    return sel


def start_broker(transport, cores=1, relay=False, overrides=None):
    """A started NetBroker, or a skip (fail where required) for a DPDK
    transport that cannot run here. The caller owns cleanup()."""
    if transport.startswith("dpdk"):
        if _dpdk_unavailable:
            N.dpdk_skip(f"{transport}: {_dpdk_unavailable[0]}")
        if not _hugepages.reserve(N.HUGEPAGES_PER_BROKER):
            N.dpdk_skip(f"{transport}: hugepages: {_hugepages.reason}")
    b = N.NetBroker(transport, cores=cores, relay=relay, overrides=overrides)
    try:
        return b.start()
    except N.DpdkUnavailable as e:
        b.cleanup()
        _dpdk_unavailable.append(str(e))
        N.dpdk_skip(f"{transport}: the broker says: {e}")
    except BaseException:
        b.cleanup()
        raise


@pytest.fixture(scope="module", params=_selected_transports())
def transport(request):
    return request.param


class _Holder:
    """A module's broker, replaced (and the test failed) when it died."""

    def __init__(self, factory):
        self.factory = factory
        self.b = factory()

    def get(self):
        b = self.b
        if b.crashed():
            tail, rc = b.log_tail(), b.proc.returncode
            b.cleanup()
            self.b = self.factory()
            pytest.fail(f"broker died before this test (rc {rc}); restarted:\n{tail}",
                        pytrace=False)
        return b


def _module_broker(request, transport, **kw):
    cores = getattr(request.module, "BROKER_CORES", 1)
    relay = getattr(request.module, "BROKER_RELAY", False)
    overrides = getattr(request.module, "BROKER_OVERRIDES", None)
    holder = _Holder(lambda: start_broker(transport, cores=cores, relay=relay,
                                          overrides=overrides))
    request.addfinalizer(lambda: holder.b.cleanup())
    return holder


@pytest.fixture(scope="module")
def _broker_holder(request, transport):
    return _module_broker(request, transport)


@pytest.fixture
def broker(_broker_holder):
    """The module's broker on `transport` (module attributes BROKER_CORES,
    BROKER_RELAY, BROKER_OVERRIDES shape it). .bootstrap is 10.99.0.2:9092,
    reachable only from .client_ns; `with broker.client():` runs this thread
    there."""
    b = _broker_holder.get()
    yield b
    if b.crashed():
        pytest.fail(f"broker ({b.transport}) died during this test (rc {b.proc.returncode}):\n"
                    f"{b.log_tail()}", pytrace=False)


@pytest.fixture
def broker_factory(transport):
    """broker_factory(cores=1, relay=False, overrides=None) -> a broker of the
    test's own on the module's transport."""
    made = []

    def make(**kw):
        b = start_broker(transport, **kw)
        made.append(b)
        return b
    yield make
    failed = []
    for b in made:
        if b.crashed():
            failed.append(f"{b.transport} rc {b.proc.returncode}:\n{b.log_tail()}")
        b.cleanup()
    if failed:
        pytest.fail("broker died:\n" + "\n".join(failed), pytrace=False)


# -- per-test time limit ------------------------------------------------------

class TestTimeout(Exception):
    pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    m = item.get_closest_marker("timeout")
    limit = int(m.args[0]) if m else DEFAULT_TIMEOUT

    def on_alarm(*_):
        raise TestTimeout(f"test exceeded its {limit}s limit")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(limit)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for o in list(N._live):
            if isinstance(o, N.NetBroker):
                rep.sections.append((f"broker {o.transport} {o.topo.id} log "
                                     f"(last {N.it.LOG_TAIL_LINES} lines)", o.log_tail()))
                if o.alive():
                    try:
                        text = o.metrics_text()
                        keep = [l for l in text.splitlines() if not l.startswith("#") and
                                ("utcp" in l or "dpdk" in l or "connections" in l or
                                 "network" in l or "protocol_errors" in l)]
                        rep.sections.append((f"broker {o.transport} metrics (network)",
                                             "\n".join(keep[-200:])))
                    except Exception as e:   # noqa: BLE001
                        rep.sections.append((f"broker {o.transport} metrics", repr(e)))
                if o.topo.relay_dir:
                    rep.sections.append((f"relay {o.topo.id}", o.topo.relay_log()))
