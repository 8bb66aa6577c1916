# SPDX-License-Identifier: Apache-2.0
"""Three (or N) brokers on one machine around a real ZooKeeper.

Backends (SPILLWAY_TEST_BACKEND):
  spillway (default)  SPILLWAY_BIN (else build/spillway) with zookeeper.connect
  kafka               Apache Kafka 3.9.1 in ZooKeeper mode from .cache/kafka/libs
                      (tests/integration/kafka/kafka-ref.sh fetch): validates
                      that the tests check Kafka's behaviour

Every broker has node.id = broker.id = 1..N, its own loopback port and log
dir under one temp dir, zookeeper.connect, a short ZooKeeper session and
replica lag for tests. The harness kills (-9), stops (SIGTERM), pauses
(SIGSTOP, long enough for its ZooKeeper session to expire), resumes and
restarts brokers, asks each broker for Metadata / DescribeCluster on the
wire, and waits with bounded timeouts. cleanup() stops every process and
removes the temp dir, whatever happened before."""
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import kmeta
import zk as zkmod

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
KAFKA_LIBS = REPO / ".cache" / "kafka" / "libs"
START_TIMEOUT = float(os.environ.get("SPILLWAY_START_TIMEOUT", "60"))
STOP_TIMEOUT = 30.0
SESSION_MS = 3000
LAG_MS = 2000
# Bound on a failover: the session expiring, a controller elected (it reads
# the whole state back from ZooKeeper first) and the new states reaching
# every broker; generous for a loaded 2-core machine.
FAILOVER_S = SESSION_MS / 1000 + 45


class Timeout(AssertionError):
    pass


def wait_for(fn, timeout, what, interval=0.2):
    """Call fn until it returns a truthy value (returned) or timeout seconds
    pass (Timeout naming what and fn's last value or exception)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = fn()
            if v:
                return v
            last = v
        except (AssertionError, OSError, ValueError, EOFError, struct.error) as e:
            last = repr(e)
        if time.monotonic() > deadline:
            raise Timeout(f"timed out after {timeout:.0f}s waiting for {what}; last: {last}")
        time.sleep(interval)


def port_accepts(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def backend():
    return os.environ.get("SPILLWAY_TEST_BACKEND", "spillway")


def missing():
    """Why the cluster suite cannot run here, or None."""
    why = zkmod.missing()
    if why:
        return why
    if backend() == "kafka":
        if not any(KAFKA_LIBS.glob("kafka_2.13-*.jar")):
            return f"Kafka jars missing in {KAFKA_LIBS} (kafka-ref.sh fetch)"
        return None
    binary = spillway_bin()
    if not os.access(binary, os.X_OK):
        return f"spillway binary not found at {binary} (set SPILLWAY_BIN)"
    return None


def spillway_bin():
    return os.environ.get("SPILLWAY_BIN", str(REPO / "build" / "spillway"))


class ClusterBroker:
    """One broker of the cluster; keeps its port and log dir across restarts."""

    def __init__(self, cluster, node_id, overrides):
        self.cluster = cluster
        self.id = node_id
        self.port = zkmod.free_port()
        # cluster.net (netns.Net): the broker runs in its own network namespace
        # and listens on that namespace's address.
        self.host = cluster.net.host(node_id) if cluster.net else "127.0.0.1"
        self.bootstrap = f"{self.host}:{self.port}"
        self.dir = cluster.dir / f"broker-{node_id}"
        self.data = self.dir / "data"
        self.log_path = self.dir / "broker.log"
        self.overrides = dict(overrides)
        self.proc = None
        self.expected_down = False
        self.paused = False
        self.starts = 0

    def config(self):
        c = {"node.id": self.id, "broker.id": self.id,
             "listeners": f"PLAINTEXT://{self.host}:{self.port}",
             "log.dirs": str(self.data),
             "zookeeper.connect": self.cluster.zk.connect,
             "zookeeper.session.timeout.ms": SESSION_MS,
             "replica.lag.time.max.ms": LAG_MS,
             "offsets.topic.replication.factor": min(3, self.cluster.n)}
        if self.cluster.backend == "kafka":
            del c["node.id"]            # ZooKeeper mode: broker.id
            c.update({"group.initial.rebalance.delay.ms": 0,
                      "transaction.state.log.replication.factor": min(3, self.cluster.n),
                      "transaction.state.log.min.isr": 1,
                      "zookeeper.connection.timeout.ms": 30000})
        else:
            c["spillway.metrics.listen"] = ""
        c.update(self.overrides)
        return c

    def _argv(self):
        cfg = self.config()
        if self.cluster.backend == "kafka":
            props = self.dir / "server.properties"
            props.write_text("".join(f"{k}={v}\n" for k, v in cfg.items()))
            log4j = self.dir / "log4j.properties"
            log4j.write_text("log4j.rootLogger=INFO, stdout\n"
                             "log4j.appender.stdout=org.apache.log4j.ConsoleAppender\n"
                             "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\n"
                             "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n")
            return ["java", "-Xmx384m", "-Xms64m", "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
                    f"-Dlog4j.configuration=file:{log4j}", f"-Dkafka.logs.dir={self.dir}",
                    "-cp", f"{KAFKA_LIBS}/*", "kafka.Kafka", str(props)]
        argv = [spillway_bin()]
        for k, v in cfg.items():
            argv += ["--override", f"{k}={v}"]
        return argv

    def argv(self):
        """The command line, run inside the broker's namespace if it has one."""
        pre = self.cluster.net.exec_prefix(self.id) if self.cluster.net else []
        return pre + self._argv()

    def start(self, wait=True):
        assert not self.alive(), f"broker {self.id} already running"
        self.data.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"==== start {self.starts} of broker {self.id} ====\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1
        self.expected_down = False
        self.paused = False
        if wait:
            self.wait_accepting()
        return self

    def wait_accepting(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not port_accepts(self.port, self.host):
            if self.proc.poll() is not None:
                raise RuntimeError(f"broker {self.id} exited with {self.proc.returncode} "
                                   f"during startup:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise Timeout(f"broker {self.id} did not accept on {self.bootstrap} within "
                              f"{timeout}s:\n{self.log_tail()}")
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def crashed(self):
        """True if the process ended without the test stopping it."""
        return (self.proc is not None and not self.expected_down
                and self.proc.poll() is not None)

    def _signal(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self):
        """kill -9: no clean shutdown; start() brings it back on the same
        port and log dir."""
        self.expected_down = True
        if self.alive():
            if self.paused:
                self._signal(signal.SIGCONT)
            self._signal(signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT)
        self.paused = False
        self._wait_port_closed()

    def term(self, timeout=STOP_TIMEOUT):
        """SIGTERM and wait for the exit (a clean, controlled shutdown);
        the exit status, or None when it had to be killed after timeout."""
        self.expected_down = True
        if not self.alive():
            return self.proc.returncode if self.proc else None
        if self.paused:
            self.resume()
        self._signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT)
            rc = None
        self._wait_port_closed()
        return rc

    def pause(self):
        """SIGSTOP: the process keeps its sockets but answers nothing, so its
        ZooKeeper session expires after the session timeout."""
        assert self.alive()
        self._signal(signal.SIGSTOP)
        self.paused = True
        wait_for(self._stopped, 10, f"broker {self.id}'s threads to stop", interval=0.01)

    def _stopped(self):
        """Every thread of the process is stopped (a thread running on
        another CPU takes a moment to get the signal)."""
        tasks = Path(f"/proc/{self.proc.pid}/task")
        states = []
        for t in tasks.iterdir():
            try:
                stat = (t / "stat").read_text()
            except OSError:
                continue            # a thread that just ended
            states.append(stat[stat.rindex(")") + 2])
        return bool(states) and all(st in "tT" for st in states)

    def resume(self):
        self._signal(signal.SIGCONT)
        self.paused = False

    def restart(self, wait=True):
        """SIGTERM, then start again on the same port and log dir."""
        self.term()
        return self.start(wait)

    def _wait_port_closed(self):
        deadline = time.monotonic() + 30
        while port_accepts(self.port, self.host) and time.monotonic() < deadline:
            time.sleep(0.1)

    def metadata(self, topics=None, timeout=5.0):
        return kmeta.metadata(self.bootstrap, topics, timeout)

    def describe_cluster(self, timeout=5.0):
        return kmeta.describe_cluster(self.bootstrap, timeout)

    def log_tail(self, n=60):
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no broker log)"
        return "\n".join(lines[-n:])

    def stop_for_cleanup(self):
        """SIGKILL (the tests that want a clean stop use term()): a SIGTERM
        to every broker at once leaves the last ones in controlled shutdown
        toward a controller that is gone; stop_wait() reaps it."""
        self.expected_down = True
        if self.alive():
            self._signal(signal.SIGKILL)

    def stop_wait(self):
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT)


class Cluster:
    """A ZooKeeper and brokers 1..n. overrides: config for every broker;
    racks: True gives broker i broker.rack=r<i>; net: a set-up netns.Net
    puts each broker in its namespace and ZooKeeper on the bridge address
    (the caller removes it after cleanup())."""

    def __init__(self, n=3, overrides=None, racks=False, net=None):
        self.n = n
        self.net = net
        self.backend = backend()
        self.dir = Path(tempfile.mkdtemp(prefix="spillway-cluster-"))
        self.zk = zkmod.ZooKeeper(base_dir=self.dir, host=net.root if net else "127.0.0.1")
        self.brokers = {}
        for i in range(1, n + 1):
            o = dict(overrides or {})
            if racks:
                o.setdefault("broker.rack", f"r{i}")
            self.brokers[i] = ClusterBroker(self, i, o)

    # -- life cycle ----------------------------------------------------------
    def start(self, timeout=START_TIMEOUT):
        try:
            self.zk.start()
            for b in self.brokers.values():
                b.start(wait=False)
            for b in self.brokers.values():
                self._first_start(b)
            self.wait_formed(timeout)
        except BaseException:
            self.cleanup()
            raise
        return self

    @staticmethod
    def _first_start(b, tries=3):
        """Wait for b's first start; a broker that exits at once (its port,
        free when chosen, taken meanwhile on this shared machine) gets a new
        port and another try."""
        for attempt in range(tries):
            try:
                b.wait_accepting()
                return
            except RuntimeError:
                if b.alive() or attempt == tries - 1:
                    raise
            b.port = zkmod.free_port()
            b.bootstrap = f"127.0.0.1:{b.port}"
            b.start(wait=False)

    def cleanup(self):
        for b in self.brokers.values():
            b.stop_for_cleanup()
        for b in self.brokers.values():
            b.stop_wait()
        self.zk.cleanup()
        if not os.environ.get("SPILLWAY_KEEP_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def crashed(self):
        return [b for b in self.brokers.values() if b.crashed()]

    def logs(self, n=60):
        out = [(f"broker {b.id} ({b.bootstrap}) log", b.log_tail(n))
               for b in self.brokers.values()]
        out.append(("zookeeper log", self.zk.log_tail(20)))
        return out

    # -- views ---------------------------------------------------------------
    def live(self):
        return [b for b in self.brokers.values() if b.alive() and not b.paused]

    def bootstrap(self, brokers=None):
        """Every broker's address (clients find the live ones)."""
        return ",".join(b.bootstrap for b in (brokers or self.brokers.values()))

    def metadata(self, via=None, topics=None):
        """Metadata from broker via (an id), else from the first live broker."""
        b = self.brokers[via] if via else self.live()[0]
        return b.metadata(topics)

    def views(self, topics=None, brokers=None):
        """{broker id: Metadata} from each live broker (or the given ids)."""
        ids = brokers or [b.id for b in self.live()]
        return {i: self.brokers[i].metadata(topics) for i in ids}

    def controller(self, via=None):
        return self.metadata(via).controller_id

    def partition(self, topic, index, via=None):
        md = self.metadata(via, [topic])
        return md.topics[topic].partitions[index]

    def leader(self, topic, index, via=None):
        return self.partition(topic, index, via).leader

    # -- waits ---------------------------------------------------------------
    def wait_formed(self, timeout=60, ids=None):
        """Every live broker's Metadata lists exactly the live brokers (or
        ids) and the same controller, one of them."""
        want = set(ids or [b.id for b in self.live()])

        def formed():
            views = self.views()
            ctl = {md.controller_id for md in views.values()}
            return (all(set(md.brokers) == want for md in views.values())
                    and len(ctl) == 1 and ctl <= want and views)
        return wait_for(formed, timeout, f"brokers {sorted(want)} and one controller")

    def wait_controller(self, timeout=FAILOVER_S, not_in=()):
        """The controller every live broker agrees on, not one of not_in."""
        def agreed():
            ctl = {md.controller_id for md in self.views().values()}
            if len(ctl) == 1:
                c = ctl.pop()
                if c >= 0 and c not in not_in:
                    return c
            return None
        return wait_for(agreed, timeout, f"a controller not in {list(not_in)}")

    def wait_partitions(self, topics, pred, timeout=30, what="partition states",
                        brokers=None):
        """Every live broker's Metadata (or the given ids') has every
        partition of topics (a list) satisfying pred(Partition, broker id);
        returns the last views."""
        def ok():
            views = self.views(topics, brokers)
            for bid, md in views.items():
                for t in topics:
                    tm = md.topics.get(t)
                    if tm is None or tm.error != kmeta.NONE or not tm.partitions:
                        return None
                    if not all(pred(p, bid) for p in tm.partitions.values()):
                        return None
            return views
        return wait_for(ok, timeout, f"{what} of {topics}")

    def wait_full_isr(self, topics, rf, timeout=60):
        """Every partition has a live leader and rf replicas all in the ISR."""
        live = {b.id for b in self.live()}
        return self.wait_partitions(
            topics, lambda p, _b: (p.error == 0 and p.leader in live and len(p.replicas) == rf
                                   and sorted(p.isr) == sorted(p.replicas)),
            timeout, f"full ISR (RF {rf})")

    def wait_leaders_not(self, topics, dead, timeout=FAILOVER_S):
        """Every partition led by a live broker not in dead."""
        return self.wait_partitions(
            topics, lambda p, _b: p.leader >= 0 and p.leader not in dead, timeout,
            f"leaders outside {sorted(dead)}")

    def leaders(self, topics, via=None):
        """{(topic, partition): leader} from one broker's Metadata."""
        md = self.metadata(via, topics)
        return {(t, i): p.leader for t in topics for i, p in md.topics[t].partitions.items()}

    def end_offsets(self, topics, timeout=30):
        """{(topic, partition): high watermark}: ListOffsets latest asked of
        each partition's leader, retried while leaders move."""
        def ask():
            md = self.metadata(topics=topics)
            by_leader = {}
            for t in topics:
                for i, p in md.topics[t].partitions.items():
                    assert p.leader in self.brokers, (t, i, p)
                    by_leader.setdefault(p.leader, []).append((t, i))
            out = {}
            for lead, tps in by_leader.items():
                out.update(kmeta.list_latest(self.brokers[lead].bootstrap, tps))
            return out
        return wait_for(ask, timeout, f"end offsets of {topics}")

    # -- admin ---------------------------------------------------------------
    def create_topics(self, names, partitions, rf, configs=None, timeout=60):
        """CreateTopics through the Admin client of confluent-kafka; waits
        until every live broker's Metadata has each partition with a leader."""
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": self.bootstrap(self.live())})
        futs = admin.create_topics([NewTopic(n, partitions, rf, config=dict(configs or {}))
                                    for n in names], operation_timeout=30, request_timeout=30)
        for n, f in futs.items():
            f.result(timeout=timeout)
        return self.wait_partitions(list(names), lambda p, _b: p.error == 0 and p.leader >= 0,
                                    timeout, "leaders")
