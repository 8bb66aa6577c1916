# SPDX-License-Identifier: Apache-2.0
"""A real ZooKeeper (Debian's `zookeeper` package) on a free loopback port
with its own temp data dir, for the cluster suite; started and stopped by the
tests. tickTime 250 ms lets sessions be 0.5-5 s."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

# (slf4j-log4j12 is optional: without it the server logs nothing.)
ZK_JARS = ["/etc/zookeeper/conf", "/usr/share/java/zookeeper.jar",
           "/usr/share/java/zookeeper-jute.jar", "/usr/share/java/slf4j-api.jar",
           "/usr/share/java/log4j-1.2.jar", "/usr/share/java/slf4j-log4j12.jar"]
ZK_CLI = "/usr/share/zookeeper/bin/zkCli.sh"
START_TIMEOUT = 60.0
START_TRIES = 3
STOP_TIMEOUT = 10.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def four_letter(port, word, timeout=2.0, host="127.0.0.1"):
    """ZooKeeper's four-letter command on host:port; '' if it fails."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(word.encode())
            out = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    return out.decode(errors="replace")
                out += chunk
    except OSError:
        return ""


def missing():
    """Why ZooKeeper cannot run here, or None."""
    if shutil.which("java") is None:
        return "java not found"
    absent = [j for j in ZK_JARS[1:3] if not os.path.exists(j)]
    if absent:
        return f"ZooKeeper jars missing ({', '.join(absent)}): apt-get install zookeeper"
    return None


class ZooKeeper:
    """One standalone ZooKeeper server; .connect is "HOST:PORT" (host: the
    address it listens on, 127.0.0.1 unless told)."""

    def __init__(self, base_dir=None, host="127.0.0.1"):
        self.port = free_port()
        self.host = host
        self.connect = f"{host}:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="spillway-zk-", dir=base_dir))
        self.proc = None

    def start(self):
        """Start the server and wait for `ruok`. A server that exits at once
        (its port, free when chosen, taken meanwhile by another process on
        this shared machine) is started again on another port."""
        for attempt in range(START_TRIES):
            if self._start_once(last=attempt == START_TRIES - 1):
                return self
            self.port = free_port()
            self.connect = f"{self.host}:{self.port}"
        return self

    def _start_once(self, last):
        (self.dir / "data").mkdir(exist_ok=True)
        cfg = self.dir / "zoo.cfg"
        cfg.write_text(f"tickTime=250\ndataDir={self.dir}/data\nclientPort={self.port}\n"
                       f"clientPortAddress={self.host}\nadmin.enableServer=false\n"
                       "4lw.commands.whitelist=*\nmaxClientCnxns=0\n")
        argv = ["java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", ":".join(ZK_JARS), f"-Dzookeeper.log.dir={self.dir}",
                "-Dzookeeper.root.logger=INFO,CONSOLE",
                "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(cfg)]
        with open(self.dir / "zookeeper.log", "ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while four_letter(self.port, "ruok", timeout=0.5, host=self.host) != "imok":
            exited = self.proc.poll() is not None
            if exited and not last:
                return False
            if exited or time.monotonic() > deadline:
                tail = self.log_tail()
                self.cleanup()
                raise RuntimeError(f"ZooKeeper did not start on {self.connect} "
                                   f"(exit status {self.proc.poll()}):\n{tail}")
            time.sleep(0.1)
        return True

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT)
        except ProcessLookupError:
            pass

    def cleanup(self):
        self.stop()
        if not os.environ.get("SPILLWAY_KEEP_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, n=40):
        try:
            lines = (self.dir / "zookeeper.log").read_text(errors="replace").splitlines()
        except OSError:
            return "(no zookeeper log)"
        return "\n".join(lines[-n:])

    def cli(self, *args, timeout=60):
        """zkCli.sh against this server (e.g. "ls", "/brokers/ids"): its stdout."""
        r = subprocess.run([ZK_CLI, "-server", self.connect, *args],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
        return r.stdout

    def dump(self):
        """The `dump` four-letter answer: sessions and their ephemeral nodes."""
        return four_letter(self.port, "dump", host=self.host)
