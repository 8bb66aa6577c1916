# SPDX-License-Identifier: Apache-2.0
"""Consumer-group drivers shared by the test_groups_*.py modules.

Every driver: DRIVER BOOTSTRAP GROUP TOPIC [--max N] [--commit sync|auto]
[--deadline S] [--assignor A] [--instance ID] [k=v ...] (confluent also
--commit revoke; franz --session-ms MS instead of k=v) subscribes TOPIC in
GROUP and prints one JSON line per event, each with "t" (ms since the epoch):
  start {client, group}
  assigned|revoked|lost {parts: of the callback, own: assignment after it,
                         gen (all four drivers), member?}
  rec {p, o, v}          a record, printed before its offset is committed
  commit {offs: [[p, next_offset], ..]}  after a successful synchronous commit
  error {err} | fatal {err, msg} | exit {n, rc}
A "stop" line or EOF on stdin closes the consumer cleanly (LeaveGroup for
dynamic members); --max N stops after N records; --deadline bounds the run.
Drivers: clients/group_confluent.py, java/SpillwayGroup.java, go/group (franz),
clients/group_kcat.py (kcat -G: no commit events, auto commit only).

Member runs a driver in the background (its own process group) for the
multi-member tests; KeyedProducer writes keyed records from a thread and
keeps the (partition, offset) of every delivered record.
"""
import collections
import json
import os
import shutil
import signal
import subprocess
import threading
import time

from conftest import CACHE, HERE, JAVA_OPTS, client_missing, find_tool, java_classpath

PY = "/usr/bin/python3"
GROUP_CLIENTS = ["confluent", "java", "franz"]


def group_argv(name):
    if name == "confluent":
        return [PY, str(HERE / "clients" / "group_confluent.py")]
    if name == "java":
        cp = java_classpath(with_classes=False) + f":{CACHE / 'java' / 'classes'}"
        if not (CACHE / "java" / "classes" / "SpillwayGroup.class").exists():
            client_missing("SpillwayGroup.class missing (run tests/integration/setup.sh)")
        return ["java", *JAVA_OPTS, "-cp", cp, "SpillwayGroup"]
    if name == "franz":
        return [find_tool("FRANZ_GROUP_BIN", ".cache/integration/bin/franz_group")]
    if name == "kcat":
        if not (os.environ.get("KCAT_BIN") or shutil.which("kcat") or shutil.which("kafkacat")):
            client_missing("kcat not installed (run tests/integration/setup.sh)")
        return [PY, str(HERE / "clients" / "group_kcat.py")]
    raise KeyError(name)


def run_group(name, bootstrap, group, topic, opts=(), timeout=90):
    """Run a driver to its end (--max / --deadline in opts); its events."""
    argv = group_argv(name) + [bootstrap, group, topic, *opts]
    rfd, wfd = os.pipe()  # stdin stays open: EOF would stop the driver
    try:
        r = subprocess.run(argv, stdin=rfd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{name} group driver timed out after {timeout}s\n"
                             f"stdout: {str(e.stdout)[-2000:]}\nstderr: {str(e.stderr)[-2000:]}")
    finally:
        os.close(rfd)
        os.close(wfd)
    evs = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    assert r.returncode == 0 and evs and evs[-1]["ev"] == "exit", \
        f"{name} rc={r.returncode}\nstdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}"
    return evs


def produce_numbered(bootstrap, topic, parts, start, n):
    """Values g-%08d for i in [start, start+n), partition i % parts."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    for i in range(start, start + n):
        p.produce(topic, value=b"g-%08d" % i, partition=i % parts)
        p.poll(0)
    assert p.flush(30) == 0, "records not delivered"


class Member:
    """One driver process in the background; .events fill in as it prints."""

    def __init__(self, name, client, bootstrap, group, topic, opts=()):
        self.name, self.client = name, client
        argv = group_argv(client) + [bootstrap, group, topic, *opts]
        self.events = []
        self.err = collections.deque(maxlen=40)
        self.cv = threading.Condition()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, errors="replace",
                                     start_new_session=True)
        self.killed = False
        self._ts = [threading.Thread(target=self._read_out, daemon=True),
                    threading.Thread(target=self._read_err, daemon=True)]
        for t in self._ts:
            t.start()

    def _read_out(self):
        for line in self.proc.stdout:
            if not line.startswith("{"):
                continue
            e = json.loads(line)
            e["m"] = self.name
            with self.cv:
                self.events.append(e)
                self.cv.notify_all()
        with self.cv:
            self.cv.notify_all()

    def _read_err(self):
        for line in self.proc.stderr:
            self.err.append(line.rstrip("\n"))

    def where(self, ev=None):
        return [e for e in list(self.events) if ev is None or e["ev"] == ev]

    def wait(self, pred, timeout, what):
        """The first event (counting from the start) satisfying pred."""
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for e in self.events:
                    if pred(e):
                        return e
                left = end - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._ts[0].is_alive()):
                    raise AssertionError(f"{self.name} ({self.client}): no {what} within "
                                         f"{timeout}s\n{self.tail()}")
                self.cv.wait(min(left, 0.5))

    def own(self):
        """Assignment after the last assigned/revoked/lost event."""
        rb = [e for e in list(self.events) if e["ev"] in ("assigned", "revoked", "lost")]
        return set(rb[-1]["own"]) if rb else set()

    def stop(self, timeout=30):
        """Clean close (LeaveGroup for a dynamic member); its exit event."""
        try:
            self.proc.stdin.write("stop\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not stop within {timeout}s\n{self.tail()}")
        self._ts[0].join(5)
        return self.wait(lambda e: e["ev"] == "exit", 1, "exit event")

    def kill9(self):
        self.killed = True
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        self._ts[0].join(5)

    def cleanup(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        else:  # the driver's children (kcat under group_kcat.py) too
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def tail(self, n=15):
        evs, last = [], None
        for e in list(self.events):
            if e["ev"] in ("rec", "commit") or (e["ev"] == "error" and e.get("err") == last):
                continue  # (repeated errors: Java's RebalanceInProgressException per commit)
            last = e.get("err")
            evs.append(json.dumps(e))
        evs = evs[-n:]
        return (f"-- {self.name} events (no rec/commit):\n" + "\n".join(evs) +
                f"\n-- {self.name} stderr:\n" + "\n".join(list(self.err)[-n:]))


class KeyedProducer(threading.Thread):
    """Writes keyed records (key k<i % 64>, value v<i>) at about rate/s until
    stop(); .delivered: {partition: set(offsets)}."""

    def __init__(self, bootstrap, topic, rate=200):
        super().__init__(daemon=True)
        from confluent_kafka import Producer
        self.p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
        self.topic, self.rate = topic, rate
        self.delivered = collections.defaultdict(set)
        self.failed = []
        self.n = 0
        self._halt = threading.Event()

    def _dr(self, err, msg):
        if err:
            self.failed.append(str(err))
        else:
            self.delivered[msg.partition()].add(msg.offset())

    def run(self):
        t0 = time.monotonic()
        while not self._halt.is_set():
            due = int((time.monotonic() - t0) * self.rate)
            while self.n < due:
                self.p.produce(self.topic, key=b"k%d" % (self.n % 64), value=b"v%d" % self.n,
                               on_delivery=self._dr)
                self.n += 1
            self.p.poll(0.01)

    def stop(self):
        self._halt.set()
        self.join(10)
        left = self.p.flush(30)
        assert left == 0 and not self.failed, f"producer: {left} undelivered, {self.failed[:3]}"
        return self.delivered

    def ends(self):
        return {p: max(os) + 1 for p, os in self.delivered.items()}

    def close(self):
        if self.p is not None:
            self.p.purge()
            self.p.flush(0)
            self.p = None


class GroupStates(threading.Thread):
    """Polls the group's state (DescribeGroups through confluent's
    list_groups) every ~50 ms: .samples = [(t_ms, state, members)]."""

    def __init__(self, bootstrap, group, period=0.05):
        super().__init__(daemon=True)
        from confluent_kafka.admin import AdminClient
        self.a = AdminClient({"bootstrap.servers": bootstrap})
        self.group, self.period = group, period
        self.samples = []
        self.errors = []
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            try:
                gs = self.a.list_groups(self.group, timeout=5)
                g = next((g for g in gs if g.id == self.group), None)
                if g is not None:
                    self.samples.append((int(time.time() * 1000), g.state, len(g.members)))
            except Exception as e:  # noqa: BLE001 - a missed sample is fine
                self.errors.append(str(e))
            self._halt.wait(self.period)

    def stop(self):
        self._halt.set()
        self.join(10)

    def state(self):
        return self.samples[-1][1] if self.samples else None

    def close(self):
        self.a = None

    def windows(self, since_ms=0):
        """[(start_ms, end_ms)] of the non-Stable stretches after since_ms
        (start/end: the first non-Stable / the next Stable sample)."""
        out, start = [], None
        for t, st, _ in [s for s in list(self.samples) if s[0] >= since_ms]:
            if st != "Stable" and start is None:
                start = t
            elif st == "Stable" and start is not None:
                out.append((start, t))
                start = None
        return out


def wait_stable(members, parts, states=None, timeout=45, what="a stable group"):
    """Until the live members' assignments are disjoint and cover
    range(parts), each member has had an assignment, (with states) the
    group is Stable, and this holds for 1 s. {member name: own}."""
    end = time.monotonic() + timeout
    held = None
    while True:
        owns = {m.name: m.own() for m in members}
        flat = [p for o in owns.values() for p in o]
        ok = (sorted(flat) == list(range(parts))
              and all(m.where("assigned") for m in members)
              and (states is None or states.state() == "Stable"))
        if ok:
            if held is None or held[1] != owns:
                held = (time.monotonic(), owns)
            elif time.monotonic() - held[0] >= 1.0:
                return owns
        else:
            held = None
        for m in members:
            if m.proc.poll() is not None:
                raise AssertionError(f"{m.name} exited while waiting for {what}\n{m.tail()}")
        if time.monotonic() > end:
            raise AssertionError(f"no {what} within {timeout}s: owns {owns}, state "
                                 f"{states.state() if states else None}\n" +
                                 "\n".join(m.tail() for m in members))
        time.sleep(0.1)


def wait_read_all(members, ends, timeout=40):
    """Until every offset below ends[p] has been read by some member."""
    end = time.monotonic() + timeout
    while True:
        seen = collections.defaultdict(set)
        for m in members:
            for e in m.where("rec"):
                seen[e["p"]].add(e["o"])
        missing = {p: sorted(set(range(n)) - seen[p])[:5] for p, n in ends.items()
                   if len(seen[p] & set(range(n))) < n}
        if not missing:
            return
        if time.monotonic() > end:
            raise AssertionError(f"records never read (partition: first offsets): {missing}\n" +
                                 "\n".join(m.tail() for m in members))
        time.sleep(0.2)


class Members:
    """The members (and pollers/producers) of one test; cleanup kills what is
    left and prints every member's event tail (shown when the test fails)."""

    def __init__(self, bootstrap, group, topic):
        self.bootstrap, self.group, self.topic = bootstrap, group, topic
        self.all, self.threads = [], []

    def add(self, name, client, opts=()):
        m = Member(name, client, self.bootstrap, self.group, self.topic, opts)
        self.all.append(m)
        return m

    def live(self):
        return [m for m in self.all if m.proc.poll() is None]

    def own_thread(self, t):
        self.threads.append(t)
        t.start()
        return t

    def cleanup(self):
        for t in self.threads:  # their clients too: a failed test's traceback keeps them
            t._halt.set()
            t.join(10)
            t.close()
        for m in self.all:
            m.cleanup()
        for m in self.all:
            print(m.tail(40))
        if os.environ.get("SPILLWAY_GROUP_EVENTS"):  # every event, for debugging
            with open(os.environ["SPILLWAY_GROUP_EVENTS"], "w") as f:
                for e in sorted((e for m in self.all for e in m.events), key=lambda e: e["t"]):
                    f.write(json.dumps(e) + "\n")


def group_events(members, ev):
    return sorted((e for m in members for e in m.where(ev)), key=lambda e: e["t"])
