# SPDX-License-Identifier: Apache-2.0
"""A TCP proxy for the integration suite that kills connections at random.

    proxy = ChaosProxy(listen_port, "127.0.0.1", broker_port, seed=1)
    proxy.start(); ...; proxy.arm(kills=8, min_gap=0.3, max_gap=1.0, until=10)
    ...; proxy.stop()

Every accepted connection is forwarded to the target by two pump threads.
Once armed, a killer thread waits a random gap, then resets (SO_LINGER 0 ->
RST) one or all live connections, at most `kills` times and never after
`until` seconds; then the proxy just forwards. Counts are in .stats.
hold() makes it accept connections without forwarding them (nothing
reaches the target, the client waits for answers) until release();
pause() holds what clients send on live connections until resume().
Also runnable: python3 chaos_proxy.py LISTEN_PORT TARGET_PORT [KILLS].
"""
import random
import socket
import struct
import sys
import threading
import time


class ChaosProxy:
    def __init__(self, listen_port, target_host, target_port, seed=None):
        self.listen_port, self.target = listen_port, (target_host, target_port)
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.conns = []  # [client_sock, server_sock]
        self.stats = {"accepted": 0, "killed": 0, "kill_events": 0}
        self._stop = threading.Event()
        self._calm = threading.Event()
        self._open = threading.Event()
        self._open.set()
        self._flowing = threading.Event()
        self._flowing.set()
        self._threads = []
        self.lsock = None

    # -- plumbing -------------------------------------------------------------
    def start(self):
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", self.listen_port))
        self.lsock.listen(64)
        self.lsock.settimeout(0.2)
        self._spawn(self._accept_loop)
        return self

    def _spawn(self, fn, *args):
        t = threading.Thread(target=fn, args=args, daemon=True)
        t.start()
        self._threads.append(t)

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self._open.is_set():
                self._forward(c)
            else:
                self._spawn(self._held, c)

    def _held(self, c):
        while not self._open.wait(0.1):
            if self._stop.is_set():
                c.close()
                return
        self._forward(c)

    def _forward(self, c):
        try:
            s = socket.create_connection(self.target, timeout=5)
        except OSError:
            c.close()  # broker down: the client sees a refused/closed connection
            return
        s.settimeout(None)
        c.settimeout(None)
        for x in (c, s):
            x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pair = [c, s]
        with self.lock:
            self.conns.append(pair)
            self.stats["accepted"] += 1
        self._spawn(self._pump, c, s, pair, self._flowing)
        self._spawn(self._pump, s, c, pair)

    def _pump(self, src, dst, pair, gate=None):
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                while gate is not None and not gate.wait(0.05):
                    with self.lock:
                        if pair not in self.conns:
                            raise OSError("cut while paused")
                dst.sendall(b)
        except OSError:
            pass
        self._close(pair, reset=False)

    def _close(self, pair, reset):
        with self.lock:
            if pair in self.conns:
                self.conns.remove(pair)
        for x in pair:
            try:
                if reset:
                    x.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                x.close()
            except OSError:
                pass

    # -- chaos ----------------------------------------------------------------
    def kill_now(self, everything=True):
        with self.lock:
            victims = list(self.conns) if everything else \
                ([self.rng.choice(self.conns)] if self.conns else [])
        for pair in victims:
            self._close(pair, reset=True)
        self.stats["killed"] += len(victims)
        self.stats["kill_events"] += 1
        return len(victims)

    def arm(self, kills=8, min_gap=0.2, max_gap=1.0, until=15.0):
        """Kill connections `kills` times at random moments within `until` s."""
        end = time.monotonic() + until

        def run():
            for _ in range(kills):
                gap = self.rng.uniform(min_gap, max_gap)
                if self._stop.wait(gap) or self._calm.is_set() or time.monotonic() > end:
                    return
                self.kill_now(everything=self.rng.random() < 0.5)
        self._spawn(run)

    def hold(self):
        """Connections accepted from now on wait, unforwarded, for release()."""
        self._open.clear()

    def release(self):
        self._open.set()

    def pause(self):
        """Bytes from clients wait in the proxy (requests sent, not arrived)
        until resume(); answers still flow."""
        self._flowing.clear()

    def resume(self):
        self._flowing.set()

    def disarm(self):
        """No more kills; keep forwarding."""
        self._calm.set()

    def stop(self):
        self._stop.set()
        try:
            self.lsock.close()
        except OSError:
            pass
        if self._threads:  # the accept loop: the port is free once it returned
            self._threads[0].join(timeout=2)
        with self.lock:
            pairs = list(self.conns)
        for pair in pairs:
            self._close(pair, reset=False)


if __name__ == "__main__":
    p = ChaosProxy(int(sys.argv[1]), "127.0.0.1", int(sys.argv[2])).start()
    if len(sys.argv) > 3:
        p.arm(kills=int(sys.argv[3]), until=60)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        p.stop()
