# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the cluster suite: a real ZooKeeper and brokers 1..N (see
harness.py for the backends). `cluster` is shared by the tests of a module
that leave it whole; `cluster_factory` gives a test a cluster of its own
(tests that kill, pause and restart brokers). Processes and temp dirs go
at the end whatever happened; a broker that died without the test killing
it fails the test with its log."""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for p in (HERE, HERE.parent / "lib"):
    if str(p) not in sys.path:
        sys.path.append(str(p))

import harness  # noqa: E402

_clusters = []


def _require():
    why = harness.missing()
    if why:
        if os.environ.get("CI") or os.environ.get("SPILLWAY_REQUIRE_CLIENTS"):
            pytest.fail(f"cluster suite cannot run: {why}", pytrace=False)
        pytest.skip(why)
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        pytest.skip("confluent-kafka (python3-confluent-kafka) missing")


def _make(n, overrides, racks):
    _require()
    c = harness.Cluster(n, overrides, racks).start()
    _clusters.append(c)
    return c


def _finish(c):
    crashed = c.crashed()
    logs = [(b.id, b.proc.returncode, b.log_tail()) for b in crashed]
    c.cleanup()
    if c in _clusters:
        _clusters.remove(c)
    if logs:
        pytest.fail("brokers died on their own: " + "\n".join(
            f"broker {i} (rc {rc}):\n{tail}" for i, rc, tail in logs), pytrace=False)


@pytest.fixture(scope="module")
def cluster():
    """Three brokers + ZooKeeper shared by a module's tests."""
    c = _make(3, None, False)
    yield c
    _finish(c)


@pytest.fixture
def cluster_factory():
    """make(n=3, overrides=None, racks=False) -> a started Cluster of the test's own."""
    made = []

    def make(n=3, overrides=None, racks=False):
        c = _make(n, overrides, racks)
        made.append(c)
        return c
    yield make
    for c in made:
        _finish(c)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for c in _clusters:
            for title, text in c.logs():
                rep.sections.append((title, text))
