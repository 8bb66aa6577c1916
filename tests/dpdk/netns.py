# SPDX-License-Identifier: Apache-2.0
"""Network namespaces, links, hugepages and the broker for the dpdk suite.

Everything this module creates carries the run's unique suffix RUN (6 hex
digits) behind the prefix "spw": namespaces spw-s-RUNn (server), spw-c-RUNn
(client), spw-m-RUNn (impairment relay, only where a test asks), links
spw[scdmt]RUNn, DPDK file prefixes spwRUNn. cleanup.sh removes all of them
after a crash; the fixtures remove their own on every exit path.

Topology (n = a counter per broker, each broker gets namespaces of its own):

  uring-veth     client ns: cif 10.99.0.1/24 <-veth-> server ns: sif 10.99.0.2/24
                 (kernel TCP in the server ns; spillway on io_uring)
  dpdk-afpacket  client ns: cif 10.99.0.1/24, tx off <-veth-> server ns: sif up,
                 no address, GRO off; DPDK net_af_packet on sif owns 10.99.0.2
  dpdk-tap       DPDK net_tap creates the tap in the server ns when it starts;
                 it is moved to the client ns and gets 10.99.0.1/24

With relay=True the two sides meet in a third namespace instead, where
relay.py forwards frames between them and drops, duplicates, delays or
reorders them as told (the kernel here has no sch_netem):

  client ns: cif <-veth-> mid ns: mc  [relay.py]  mid ns: ms <-veth-> server ns: sif
                                                  (dpdk-tap: ms is the tap)
"""
import contextlib
import ctypes
import json
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
INTEGRATION = REPO / "tests" / "integration"
if str(INTEGRATION) not in sys.path:
    sys.path.insert(0, str(INTEGRATION))

# tests/integration's conftest, data_scenarios and scenarios, imported as the
# plain modules they are there (this package's own conftest is dpdk.conftest).
import conftest as it  # noqa: E402

PY = "/usr/bin/python3"
RUN = os.environ.get("SPILLWAY_DPDK_RUN_ID") or uuid.uuid4().hex[:6]
PREFIX = "spw"
SERVER_IP, CLIENT_IP, PLEN = "10.99.0.2", "10.99.0.1", 24
KAFKA_PORT = 9092
METRICS_PORT = 9644
BOOTSTRAP = f"{SERVER_IP}:{KAFKA_PORT}"
TRANSPORTS = ["uring-veth", "dpdk-tap", "dpdk-afpacket"]
START_TIMEOUT = float(os.environ.get("SPILLWAY_START_TIMEOUT", "60"))
STOP_TIMEOUT = 15.0
CMD_TIMEOUT = 30
HUGEPAGES_PER_BROKER = int(os.environ.get("SPILLWAY_DPDK_HUGEPAGES", "512"))  # 2 MiB pages
DPDK_MEM_MB = 512
UNAVAILABLE_RE = re.compile(r"'dpdk' is not available in this build")

_counter = [0]
_live = []           # NetBroker and Topology objects still to tear down


def next_id():
    _counter[0] += 1
    return f"{RUN}{_counter[0]}"


def ci():
    return bool(os.environ.get("CI") or os.environ.get("SPILLWAY_REQUIRE_CLIENTS"))


def dpdk_required():
    """The one switch: SPILLWAY_DPDK_REQUIRED=1 turns every reason a DPDK
    transport would skip (binary without DPDK, no hugepages) into a failure."""
    return os.environ.get("SPILLWAY_DPDK_REQUIRED", "") not in ("", "0")


def dpdk_skip(reason):
    if dpdk_required():
        pytest.fail(f"SPILLWAY_DPDK_REQUIRED is set: {reason}", pytrace=False)
    pytest.skip(reason)


# -- commands -----------------------------------------------------------------

def sh(*argv, check=True, timeout=CMD_TIMEOUT, ns=None):
    """Run a command (in netns ns), return stdout; raise with stderr on failure."""
    argv = [str(a) for a in argv]
    if ns:
        argv = ["ip", "netns", "exec", ns] + argv
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} -> rc {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def ns_argv(ns, argv):
    return ["ip", "netns", "exec", ns] + [str(a) for a in argv]


_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


@contextlib.contextmanager
def in_netns(name):
    """Run this thread in network namespace `name` (sockets it opens and
    threads it starts, librdkafka's included, stay there)."""
    orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns({name}): {os.strerror(e)}")
        try:
            yield
        finally:
            if _libc.setns(orig, CLONE_NEWNET) != 0:
                e = ctypes.get_errno()
                raise OSError(e, f"setns back: {os.strerror(e)}")
    finally:
        os.close(orig)
        os.close(target)


def ns_pids(ns):
    """Processes in ns, this one left out (its main thread may be there,
    inside in_netns)."""
    try:
        return [int(p) for p in sh("ip", "netns", "pids", ns, check=False).split()
                if int(p) != os.getpid()]
    except (ValueError, subprocess.TimeoutExpired):
        return []


def delete_netns(ns):
    """Kill what still runs in ns, then delete it (its links go with it)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = ns_pids(ns)
        if not pids:
            break
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while ns_pids(ns) and time.monotonic() < deadline:
            time.sleep(0.1)
    sh("ip", "netns", "del", ns, check=False)


def netem_available():
    """Whether this kernel has sch_netem (probed once in a scratch netns)."""
    if not hasattr(netem_available, "cached"):
        ns = f"{PREFIX}-p-{next_id()}"
        try:
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
            r = subprocess.run(ns_argv(ns, ["tc", "qdisc", "add", "dev", "lo", "root", "netem",
                                            "delay", "1ms"]),
                               capture_output=True, text=True, timeout=CMD_TIMEOUT)
            netem_available.cached = r.returncode == 0
        finally:
            delete_netns(ns)
    return netem_available.cached


# -- hugepages ----------------------------------------------------------------

NR_HUGEPAGES = Path("/proc/sys/vm/nr_hugepages")


def meminfo(key):
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


class Hugepages:
    """Adds pages to vm.nr_hugepages when fewer than a broker needs are free,
    and takes exactly those away again at the end (other users' reservations
    stay as they were). The count added is kept in RECORD too, so that
    cleanup.sh can give the pages back after a crash."""

    RECORD_DIR = Path("/run")

    def __init__(self):
        self.added = 0
        self.reason = ""
        self.record = self.RECORD_DIR / f"{PREFIX}-hugepages-{RUN}"

    def reserve(self, pages):
        free = meminfo("HugePages_Free")
        if free >= pages:
            return True
        want = pages - free
        cur = int(NR_HUGEPAGES.read_text())
        try:
            NR_HUGEPAGES.write_text(str(cur + want))
        except OSError as e:
            self.reason = f"cannot write {NR_HUGEPAGES}: {e}"
            return False
        got = int(NR_HUGEPAGES.read_text()) - cur
        self.added += max(got, 0)
        self.record.write_text(f"{self.added}\n")
        if meminfo("HugePages_Free") < pages:
            self.reason = (f"asked for {want} more 2 MiB hugepages, got {got} "
                           f"(HugePages_Free {meminfo('HugePages_Free')}, need {pages})")
            return False
        return True

    def release(self):
        if self.added:
            cur = int(NR_HUGEPAGES.read_text())
            NR_HUGEPAGES.write_text(str(max(0, cur - self.added)))
            self.added = 0
        self.record.unlink(missing_ok=True)


# -- topology -----------------------------------------------------------------

class Topology:
    def __init__(self, transport, relay=False):
        self.transport = transport
        self.id = next_id()
        self.srv = f"{PREFIX}-s-{self.id}"
        self.cli = f"{PREFIX}-c-{self.id}"
        self.mid = f"{PREFIX}-m-{self.id}" if relay else None
        self.sif = f"{PREFIX}s{self.id}"          # server-side veth
        self.cif = f"{PREFIX}c{self.id}"          # client-side veth
        self.tap = f"{PREFIX}t{self.id}"          # DPDK's tap
        self.mc, self.ms = f"{PREFIX}m{self.id}", f"{PREFIX}n{self.id}"   # relay ends
        self.relay = None
        self.relay_dir = None
        self.namespaces = []
        _live.append(self)

    @property
    def client_if(self):
        """The client's interface toward the broker (where netem goes)."""
        if self.transport == "dpdk-tap" and not self.mid:
            return self.tap
        return self.cif

    def _add_ns(self, ns):
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        for k in ("all", "default"):
            sh("sysctl", "-qw", f"net.ipv6.conf.{k}.disable_ipv6=1", ns=ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)

    def create(self):
        """Namespaces and the links that exist before the broker starts."""
        for ns in (self.srv, self.cli, self.mid):
            if ns:
                self._add_ns(ns)
        dpdk_side = self.transport == "dpdk-afpacket"
        if self.transport in ("uring-veth", "dpdk-afpacket"):
            peer_of_sif = self.ms if self.mid else self.cif
            sh("ip", "link", "add", self.sif, "type", "veth", "peer", "name", peer_of_sif)
            sh("ip", "link", "set", self.sif, "netns", self.srv)
            sh("ip", "link", "set", peer_of_sif, "netns", self.mid or self.cli)
            if dpdk_side:
                # DPDK reads whole frames from the veth: no GRO super-frames.
                sh("ethtool", "-K", self.sif, "gro", "off", ns=self.srv)
            else:
                sh("ip", "addr", "add", f"{SERVER_IP}/{PLEN}", "dev", self.sif, ns=self.srv)
                if self.mid:
                    sh("ethtool", "-K", self.sif, "tx", "off", ns=self.srv)
            sh("ip", "link", "set", self.sif, "up", ns=self.srv)
        if self.mid or self.transport != "dpdk-tap":
            peer = self.mc if self.mid else None
            if self.mid:
                sh("ip", "link", "add", self.cif, "type", "veth", "peer", "name", peer)
                sh("ip", "link", "set", self.cif, "netns", self.cli)
                sh("ip", "link", "set", peer, "netns", self.mid)
            self._client_addr(self.cif)
        if self.mid and self.transport != "dpdk-tap":
            self._mid_up(self.ms)
        if self.mid:
            self._mid_up(self.mc)
        return self

    def _client_addr(self, ifname):
        sh("ip", "addr", "add", f"{CLIENT_IP}/{PLEN}", "dev", ifname, ns=self.cli)
        # Full checksums and MTU-sized frames toward the broker (af_packet
        # needs it; harmless elsewhere).
        sh("ethtool", "-K", ifname, "tx", "off", ns=self.cli, check=False)
        sh("ip", "link", "set", ifname, "up", ns=self.cli)

    def _mid_up(self, ifname):
        sh("ethtool", "-K", ifname, "gro", "off", "tx", "off", ns=self.mid, check=False)
        sh("ip", "link", "set", ifname, "promisc", "on", "up", ns=self.mid)

    def attach_tap(self, timeout, log_path=None):
        """After the broker started: find DPDK's tap in the server ns, move it
        to the client (or relay) ns and configure it. Waits until the PMD has
        started the port (the tap is UP, or the broker says it listens): the
        PMD configures the tap by name in its own ns until then."""
        deadline = time.monotonic() + timeout
        while True:
            r = subprocess.run(ns_argv(self.srv, ["ip", "-o", "link", "show", self.tap]),
                               capture_output=True, text=True, timeout=CMD_TIMEOUT)
            if r.returncode == 0:
                flags = re.search(r"<([^>]*)>", r.stdout)
                up = flags and "UP" in flags.group(1).split(",")
                listening = log_path is not None and "listening on" in \
                    Path(log_path).read_text(errors="replace")
                if up or listening:
                    break
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        dest = self.mid or self.cli
        sh("ip", "link", "set", self.tap, "netns", dest, ns=self.srv)
        if self.mid:
            self._mid_up(self.tap)
        else:
            self._client_addr(self.tap)
        return True

    # -- relay ------------------------------------------------------------
    def start_relay(self):
        self.relay_dir = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-relay-{self.id}-"))
        self.set_impairment({})
        server_end = self.tap if self.transport == "dpdk-tap" else self.ms
        log = open(self.relay_dir / "relay.log", "ab")
        self.relay = subprocess.Popen(
            ns_argv(self.mid, [PY, HERE / "relay.py", self.mc, server_end,
                               self.relay_dir / "params.json", self.relay_dir / "stats.json"]),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        deadline = time.monotonic() + 10
        while not (self.relay_dir / "stats.json").exists():
            if self.relay.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"relay.py did not start:\n{self.relay_log()}")
            time.sleep(0.05)

    def relay_log(self):
        try:
            return (self.relay_dir / "relay.log").read_text(errors="replace")[-4000:]
        except (OSError, TypeError):
            return "(no relay log)"

    def set_impairment(self, params):
        """params: {"up": {...}, "down": {...}} (see relay.py); up is client
        to server. Applied by the relay within 0.2 s."""
        p = self.relay_dir / "params.json"
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(params))
        os.replace(tmp, p)

    def relay_stats(self):
        """The relay's counters, after it has seen the latest params."""
        return json.loads((self.relay_dir / "stats.json").read_text())

    def destroy(self):
        if self.relay is not None and self.relay.poll() is None:
            try:
                os.killpg(self.relay.pid, signal.SIGTERM)
                self.relay.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.relay.pid, signal.SIGKILL)
        for ns in reversed(self.namespaces):
            delete_netns(ns)
        self.namespaces = []
        # links that never made it into a namespace (a failure between
        # `ip link add` and `ip link set netns`)
        for ifname in (self.sif, self.cif, self.mc, self.ms, self.tap):
            if Path(f"/sys/class/net/{ifname}").exists():
                sh("ip", "link", "del", ifname, check=False)
        if self.relay_dir and not os.environ.get("SPILLWAY_KEEP_DIRS"):
            shutil.rmtree(self.relay_dir, ignore_errors=True)
        if self in _live:
            _live.remove(self)


# -- broker -------------------------------------------------------------------

class DpdkUnavailable(Exception):
    pass


def spillway_bin():
    b = os.environ.get("SPILLWAY_BIN", str(REPO / "build" / "spillway"))
    if not os.access(b, os.X_OK):
        it.client_missing(f"spillway binary not found at {b} (set SPILLWAY_BIN)")
    return b


def tcp_ready(ns, timeout=0.5):
    with in_netns(ns):
        try:
            with socket.create_connection((SERVER_IP, KAFKA_PORT), timeout=timeout):
                return True
        except OSError:
            return False


class NetBroker:
    """spillway in the server ns of its own Topology; clients in topo.cli."""

    restartable = True
    backend = "spillway"

    def __init__(self, transport, cores=1, relay=False, overrides=None):
        self.transport = transport
        self.cores = cores
        self.overrides = dict(overrides or {})
        self.topo = Topology(transport, relay)
        self.bootstrap = BOOTSTRAP
        self.dir = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-dpdk-{self.topo.id}-"))
        self.data = self.dir / "data"
        self.log_path = self.dir / "broker.log"
        self.proc = None
        self.stopped_by_us = False
        self.file_prefix = f"{PREFIX}{self.topo.id}"
        self.pcaps = []
        _live.append(self)

    @property
    def client_ns(self):
        return self.topo.cli

    def client(self):
        """Context manager: this thread in the client ns."""
        return in_netns(self.topo.cli)

    def argv(self):
        a = [spillway_bin(),
             "--override", f"listeners=PLAINTEXT://{SERVER_IP}:{KAFKA_PORT}",
             "--override", f"log.dirs={self.data}",
             # the server ns has a loopback of its own: a fixed port is fine
             "--override", f"spillway.metrics.listen=127.0.0.1:{METRICS_PORT}",
             "--override", f"spillway.dataplane.cores={self.cores}"]
        if self.transport.startswith("dpdk"):
            if self.transport == "dpdk-tap":
                vdev = f"net_tap0,iface={self.topo.tap}"
            else:
                vdev = f"net_af_packet0,iface={self.topo.sif}"
                if self.cores > 1:
                    vdev += f",qpairs={self.cores}"      # one queue pair per core
            lcores = "0" if self.cores == 1 else f"0-{self.cores - 1}"
            eal = (f"-l {lcores} --in-memory --file-prefix {self.file_prefix} "
                   f"-m {DPDK_MEM_MB} --no-pci --vdev={vdev}")
            a += ["--override", "spillway.backend=dpdk",
                  "--override", f"spillway.dpdk.eal.args={eal}",
                  "--override", "spillway.dpdk.port=0",
                  "--override", f"spillway.dpdk.ipv4={SERVER_IP}/{PLEN}",
                  "--override", "spillway.dpdk.mtu=1500",
                  "--override", "spillway.dpdk.idle.sleep.us=200"]
        for k, v in self.overrides.items():
            a += ["--override", f"{k}={v}"]
        return ns_argv(self.topo.srv, a)

    def start(self):
        if not self.topo.namespaces:
            self.topo.create()
        self.stopped_by_us = False
        self.data.mkdir(parents=True, exist_ok=True)
        argv = self.argv()
        with open(self.log_path, "ab") as log:
            log.write(("+ " + " ".join(repr(x) if " " in x else x for x in argv) + "\n")
                      .encode())
            log.flush()
            env = dict(os.environ)
            # ASan's leak report at exit would turn a clean stop into rc 23;
            # the integration suite checks leaks, this one the network path.
            env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         env=env)
        deadline = time.monotonic() + START_TIMEOUT
        tap_done = self.transport != "dpdk-tap"      # every start makes a new tap
        relay_started = self.topo.mid is None or self.topo.relay is not None
        while True:
            if self.proc.poll() is not None:
                tail = self.log_tail()
                if UNAVAILABLE_RE.search(tail):
                    raise DpdkUnavailable(tail.strip().splitlines()[-1])
                raise RuntimeError(f"spillway exited with {self.proc.returncode} during "
                                   f"startup ({self.transport}):\n{tail}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"spillway ({self.transport}) not reachable at "
                                   f"{self.bootstrap} from {self.topo.cli} within "
                                   f"{START_TIMEOUT}s:\n{self.log_tail()}")
            if not tap_done:
                tap_done = self.topo.attach_tap(timeout=0.2, log_path=self.log_path)
                continue
            if not relay_started:
                self.topo.start_relay()
                relay_started = True
            if tcp_ready(self.topo.cli):
                break
            time.sleep(0.1)
        self._start_pcap()
        return self

    def _start_pcap(self):
        """SPILLWAY_DPDK_PCAP=DIR: tcpdump on the client's interface, one file
        per broker start (DIR/<transport>-<id>-<n>.pcap)."""
        d = os.environ.get("SPILLWAY_DPDK_PCAP")
        if not d or shutil.which("tcpdump") is None:
            return
        Path(d).mkdir(parents=True, exist_ok=True)
        n = len(self.pcaps) + 1
        path = Path(d) / f"{self.transport}-{self.topo.id}-{n}.pcap"
        self.pcaps.append(subprocess.Popen(
            ns_argv(self.topo.cli, ["tcpdump", "-nni", self.topo.client_if, "-s", "0",
                                    "-w", path]),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def metrics_text(self, timeout=5):
        """The /metrics page, fetched in the server ns."""
        import urllib.request
        with in_netns(self.topo.srv):
            with urllib.request.urlopen(f"http://127.0.0.1:{METRICS_PORT}/metrics",
                                        timeout=timeout) as r:
                return r.read().decode()

    def metric(self, name):
        """{label string: value} of one metric family ("" for no labels)."""
        out = {}
        for line in self.metrics_text().splitlines():
            m = re.match(r"^" + re.escape(name) + r"(\{[^}]*\})?\s+(\S+)$", line)
            if m:
                out[m.group(1) or ""] = float(m.group(2))
        return out

    def crashed(self):
        return self.proc is not None and not self.stopped_by_us and self.proc.poll() is not None

    def stop(self):
        self.stopped_by_us = True
        it.stop_process_group(self.proc, STOP_TIMEOUT)

    def restart(self):
        """Stop and start on the same data dir (a dpdk-tap broker makes a new
        tap; the relay follows it)."""
        self.stop()
        if self.transport == "dpdk-tap" and self.topo.relay is not None:
            # the relay's tap is gone with the broker: restart the relay too
            self.topo.relay.terminate()
            self.topo.relay.wait(timeout=5)
            self.topo.relay = None
        return self.start()

    def log_tail(self, n=it.LOG_TAIL_LINES):
        return it.log_tail(self.log_path, n)

    def cleanup(self):
        self.stop()
        for p in self.pcaps:
            p.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=5)
        self.topo.destroy()
        if not os.environ.get("SPILLWAY_KEEP_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)
        for d in Path("/var/run/dpdk").glob(f"{self.file_prefix}*"):
            shutil.rmtree(d, ignore_errors=True)
        for d in ("/dev/hugepages", "/mnt/huge"):
            for f in Path(d).glob(f"{self.file_prefix}map_*"):
                with contextlib.suppress(OSError):
                    f.unlink()
        if self in _live:
            _live.remove(self)


def cleanup_all():
    """Everything of this run still alive (brokers first, then topologies)."""
    for obj in list(_live):
        with contextlib.suppress(Exception):
            obj.cleanup() if isinstance(obj, NetBroker) else obj.destroy()
