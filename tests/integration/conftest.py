# SPDX-License-Identifier: Apache-2.0
"""Broker fixtures for the integration suite.

Backends, chosen by environment:
  default                     start build/spillway (SPILLWAY_BIN overrides the path)
  SPILLWAY_TEST_BACKEND=kafka start real Apache Kafka via kafka/kafka-ref.sh
                              (validates that the tests check Kafka's behaviour,
                              restart and per-test-config tests included)
  SPILLWAY_BOOTSTRAP=h:p      use an already running broker; tests that need
                              their own broker (restart, special config) skip,
                              except the auto-create-off test when
                              SPILLWAY_BOOTSTRAP_NOAUTOCREATE=h:p names a broker
                              started with auto.create.topics.enable=false.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CACHE = Path(os.environ.get("SPILLWAY_IT_CACHE", REPO / ".cache" / "integration"))
KAFKA_REF = HERE / "kafka" / "kafka-ref.sh"

# tests/lib (kwire.py, sockio.py, ...), shared with the hostile and dpdk suites.
if str(HERE.parent / "lib") not in sys.path:
    sys.path.append(str(HERE.parent / "lib"))

START_TIMEOUT = float(os.environ.get("SPILLWAY_START_TIMEOUT", "30"))
STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 80

_live_brokers = []

# The line main.c logs per listener once bound (port-0 listeners: the port
# the kernel gave), and the summary that follows the last of them.
LISTENER_LINE = re.compile(r"listener (\S+) \((\S+)\) on (\S+):(\d+), advertised as (\S+):(\d+)")
LISTENING_LINE = re.compile(r"spillway \S+ listening on ")



def client_missing(reason):
    """A client or driver is not installed: skip locally, but fail under CI
    (or SPILLWAY_REQUIRE_CLIENTS=1), where setup.sh must have installed every
    client and a silent skip would hide a broken install step."""
    if os.environ.get("CI") or os.environ.get("SPILLWAY_REQUIRE_CLIENTS"):
        pytest.fail(f"required client missing: {reason}", pytrace=False)
    pytest.skip(reason)

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def unique_topic(prefix):
    """Topic names unique per test run, so a shared external broker is fine."""
    return f"it-{prefix}-{uuid.uuid4().hex[:10]}"


def stop_process_group(proc, timeout=STOP_TIMEOUT):
    """Stop a broker started with start_new_session=True: SIGTERM to its
    process group, SIGKILL if it is still there after timeout. Shared with
    tests/dpdk's NetBroker."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass


def log_tail(path, n=LOG_TAIL_LINES):
    """The last n lines of a broker's log file."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no broker log)"
    return "\n".join(lines[-n:])


class Broker:
    """One broker process on 127.0.0.1 with its own data dir."""

    restartable = True

    def __init__(self, backend, overrides=None, port=None):
        self.backend = backend
        self.overrides = dict(overrides or {})
        self.port = port or free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix=f"spillway-it-{backend}-"))
        self.data = self.dir / "data"
        self.log_path = self.dir / "broker.stderr"
        self.proc = None
        self.stopped_by_us = False
        # With a listeners override: {name: {"protocol", "host", "port",
        # "advertised"}} from the broker's log, filled by start().
        self.listeners = {}

    # -- spillway -----------------------------------------------------------
    def _spillway_argv(self):
        binary = os.environ.get("SPILLWAY_BIN", str(REPO / "build" / "spillway"))
        if not os.access(binary, os.X_OK):
            client_missing(f"spillway binary not found at {binary} (set SPILLWAY_BIN)")
        # Metrics off unless a test asks (their default port, 9644, would
        # collide between brokers started in parallel or in a row).
        argv = [binary]
        if "listeners" not in self.overrides:
            argv += ["--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}"]
        argv += ["--override", f"log.dirs={self.data}",
                "--override", "spillway.metrics.listen="]
        for k, v in self.overrides.items():
            argv += ["--override", f"{k}={v}"]
        return argv

    def start(self):
        self.stopped_by_us = False
        if self.backend == "kafka":
            kv = [f"{k}={v}" for k, v in self.overrides.items()]
            r = subprocess.run([str(KAFKA_REF), "start", str(self.port), str(self.dir)] + kv,
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=180)
            if r.returncode != 0:
                shutil.rmtree(self.dir, ignore_errors=True)
                raise RuntimeError(f"kafka-ref start failed:\n{r.stdout}\n{r.stderr}")
            self.log_path = self.dir / "server.log"
            _live_brokers.append(self)
            return self
        self.data.mkdir(parents=True, exist_ok=True)
        log_from = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self._spillway_argv(), stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        _live_brokers.append(self)
        deadline = time.monotonic() + START_TIMEOUT
        if "listeners" in self.overrides:
            self._await_listeners(log_from, deadline)
        while not port_accepts(self.port):
            if self.proc.poll() is not None:
                msg = (f"spillway exited with {self.proc.returncode} during "
                       f"startup:\n{self.log_tail()}")
                self.cleanup()
                raise RuntimeError(msg)
            if time.monotonic() > deadline:
                self.stop()
                shutil.rmtree(self.dir, ignore_errors=True)
                raise RuntimeError(f"spillway did not accept on {self.bootstrap} within "
                                   f"{START_TIMEOUT}s:\n{self.log_tail()}")
            time.sleep(0.05)
        return self

    def _await_listeners(self, log_from, deadline):
        """Wait for the listener lines of this start (the log from byte
        log_from on) and take each listener's bound port from them; the
        first listener's becomes .port and .bootstrap."""
        while True:
            text = self.log_path.read_bytes()[log_from:].decode(errors="replace")
            if LISTENING_LINE.search(text):
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                return  # the port wait below reports it
            time.sleep(0.05)
        self.listeners = {}
        for name, proto, host, port, adv_host, adv_port in LISTENER_LINE.findall(text):
            host = host.strip("[]")
            self.listeners[name] = {"protocol": proto, "host": host, "port": int(port),
                                    "advertised": f"{adv_host}:{adv_port}"}
        first = next(iter(self.listeners.values()))
        self.port = first["port"]
        self.bootstrap = f"127.0.0.1:{self.port}"

    def listener_bootstrap(self, name):
        """host:port to connect to listener name (a wildcard host: 127.0.0.1)."""
        ep = self.listeners[name]
        host = "127.0.0.1" if ep["host"] in ("*", "0.0.0.0") else ep["host"]
        return f"[{host}]:{ep['port']}" if ":" in host else f"{host}:{ep['port']}"

    def alive(self):
        if self.backend == "kafka":
            return port_accepts(self.port)
        return self.proc is not None and self.proc.poll() is None

    def crashed(self):
        """True if the process ended without us stopping it."""
        return (self.backend != "kafka" and self.proc is not None
                and not self.stopped_by_us and self.proc.poll() is not None)

    def stop(self):
        self.stopped_by_us = True
        if self in _live_brokers:
            _live_brokers.remove(self)
        if self.backend == "kafka":
            subprocess.run([str(KAFKA_REF), "stop", str(self.port), str(self.dir)],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            return
        stop_process_group(self.proc)

    def kill(self):
        """kill -9 the broker (no clean shutdown); start() brings it back on
        the same port and data dir."""
        self.stopped_by_us = True
        if self in _live_brokers:
            _live_brokers.remove(self)
        if self.backend == "kafka":
            pidf = self.dir / "kafka.pid"
            try:
                pid = int(pidf.read_text())
                os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + STOP_TIMEOUT
                while time.monotonic() < deadline:
                    os.kill(pid, 0)
                    time.sleep(0.05)
            except (OSError, ValueError):
                pass
            pidf.unlink(missing_ok=True)
        elif self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT)
        deadline = time.monotonic() + 30
        while port_accepts(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)

    def restart(self):
        """Graceful stop, then start again on the same port and data dir."""
        self.stop()
        deadline = time.monotonic() + 30
        while port_accepts(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.start()

    def log_tail(self, n=LOG_TAIL_LINES):
        return log_tail(self.log_path, n)

    def cleanup(self):
        self.stop()
        if os.environ.get("SPILLWAY_KEEP_DIRS"):
            return
        shutil.rmtree(self.dir, ignore_errors=True)


class ExternalBroker:
    restartable = False
    backend = "external"

    def __init__(self, bootstrap):
        self.bootstrap = bootstrap

    def alive(self):
        return True

    def crashed(self):
        return False

    def log_tail(self, n=LOG_TAIL_LINES):
        return "(external broker)"

    def cleanup(self):
        pass


def _backend():
    return os.environ.get("SPILLWAY_TEST_BACKEND", "spillway")


def _teardown(b):
    crashed = b.crashed()
    tail = b.log_tail() if crashed else ""
    b.cleanup()
    if crashed:
        pytest.fail(f"broker {b.bootstrap} died (rc {b.proc.returncode}):\n{tail}",
                    pytrace=False)


@pytest.fixture(scope="module")
def _module_broker():
    ext = os.environ.get("SPILLWAY_BOOTSTRAP")
    if ext:
        yield [ExternalBroker(ext)]
        return
    holder = [Broker(_backend()).start()]
    yield holder
    holder[0].cleanup()  # a crash is reported by the test during which it happened


@pytest.fixture
def broker(_module_broker):
    """A running broker shared by the tests of one module. Yields an object with
    .bootstrap ("127.0.0.1:PORT"). If an earlier test crashed it, this test
    fails with the log and later tests get a fresh one."""
    b = _module_broker[0]
    if b.crashed():
        tail, rc = b.log_tail(), b.proc.returncode
        b.cleanup()
        _module_broker[0] = Broker(b.backend).start()
        pytest.fail(f"broker died before this test (rc {rc}); restarted:\n{tail}",
                    pytrace=False)
    yield b
    if b.crashed():
        pytest.fail(f"broker {b.bootstrap} died during this test (rc {b.proc.returncode}):\n"
                    f"{b.log_tail()}", pytrace=False)


@pytest.fixture
def broker_factory():
    """broker_factory(overrides={...}, port=None) -> a fresh broker of its own
    (restartable; port: one chosen in advance, e.g. to name it in
    advertised.listeners). Skips with an external broker."""
    made = []

    def make(overrides=None, port=None):
        if os.environ.get("SPILLWAY_BOOTSTRAP"):
            pytest.skip("needs its own broker; SPILLWAY_BOOTSTRAP is set")
        b = Broker(_backend(), overrides, port).start()
        made.append(b)
        return b

    yield make
    for b in made:
        _teardown(b)


def backend_name():
    """"spillway", "kafka" or "external"."""
    return "external" if os.environ.get("SPILLWAY_BOOTSTRAP") else _backend()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for b in list(_live_brokers):
            rep.sections.append((f"broker {b.bootstrap} log (last {LOG_TAIL_LINES} lines)",
                                 b.log_tail()))


@pytest.fixture
def noauto_broker(broker_factory):
    """A broker started with auto.create.topics.enable=false."""
    ext = os.environ.get("SPILLWAY_BOOTSTRAP_NOAUTOCREATE")
    if ext:
        return ExternalBroker(ext)
    return broker_factory({"auto.create.topics.enable": "false"})


def find_tool(env_name, *candidates):
    """Path of a built helper: $env_name, else the first existing candidate
    (relative to the repo); skips the test when none is there."""
    p = os.environ.get(env_name)
    if p:
        return p
    for c in candidates:
        path = REPO / c
        if os.access(path, os.X_OK):
            return str(path)
    client_missing(f"{env_name} not set and none of {candidates} built "
                f"(run tests/integration/setup.sh)")


def java_classpath(with_classes=True):
    """Classpath for the Java driver / kafka-tools from setup.sh's cache."""
    lib, classes = CACHE / "java" / "lib", CACHE / "java" / "classes"
    if shutil.which("java") is None or not any(lib.glob("kafka-clients-*.jar")):
        client_missing(f"java or Kafka jars missing in {lib} (run tests/integration/setup.sh)")
    if with_classes and not (classes / "SpillwayAdmin.class").exists():
        client_missing(f"{classes}/SpillwayAdmin.class missing (run tests/integration/setup.sh)")
    return f"{lib}/*" + (f":{classes}" if with_classes else "")


JAVA_OPTS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss1m",
             "-Dorg.slf4j.simpleLogger.defaultLogLevel=error"]
