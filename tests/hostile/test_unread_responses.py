# SPDX-License-Identifier: Apache-2.0
"""Issue 11, item 4: unread responses must not grow without bound. A client
that pipelines DescribeConfigs naming the broker 10,000 times (an 80 KB
request; the answer was 52 MB) 64 deep without reading, or 150 connections
pipelining Metadata without reading, must cost the broker a bounded amount
of memory (as Kafka does: it stops reading a connection whose responses are
not drained), and another client's CreateTopics, on a new connection every
half second, must be answered promptly meanwhile. How: raw frames written
without reading from non-blocking sockets for a fixed time, the broker's
RSS sampled throughout, and the bystander's windows judged."""
import threading
import time

import kwire

ATTACK_S = 6.0
CREATE_PROMPT_S = 1.0


class CreateProbe:
    """Creates a 1-partition topic on a new connection every period seconds
    in a thread and keeps each call's duration (None: failed)."""

    def __init__(self, bootstrap, prefix, period=0.5, timeout=15.0):
        self.bootstrap, self.prefix, self.period, self.timeout = \
            bootstrap, prefix, period, timeout
        self.times, self.errors = [], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def once(self, name):
        t0 = time.monotonic()
        try:
            got = {n: e for n, e, _ in kwire.create_topics(self.bootstrap, [(name, 1)],
                                                           timeout=self.timeout)}
            if got != {name: 0}:
                self.errors.append(f"{name}: {got}")
        except (OSError, ValueError) as e:
            self.errors.append(f"{name}: {e!r}")
            self.times.append(None)
            return None
        took = time.monotonic() - t0
        self.times.append(took)
        return took

    def _run(self):
        i = 0
        while not self._stop.wait(self.period if i else 0):
            self.once(f"{self.prefix}-{i}")
            i += 1

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(self.timeout + 5)


def flood(socks, payload, seconds, chunk=1 << 16):
    """Writes payload (bytes, or a function of the socket index returning
    the next bytes) on every socket without ever reading, round robin and
    non-blocking, for seconds; returns the bytes each one got out."""
    sent = [0] * len(socks)
    pending = [b""] * len(socks)
    done = [False] * len(socks)
    for s in socks:
        s.setblocking(False)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(done):
        for i, s in enumerate(socks):
            if done[i]:
                continue
            if not pending[i]:
                nxt = payload(i) if callable(payload) else (payload if not sent[i] else None)
                if not nxt:
                    done[i] = True
                    continue
                pending[i] = nxt
            try:
                n = s.send(pending[i][:chunk])
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                done[i] = True              # closed by the broker: fine too
                continue
            sent[i] += n
            pending[i] = pending[i][n:]
        time.sleep(0.01)
    time.sleep(max(0.0, deadline - time.monotonic()))
    return sent


def check_creates(h, probe):
    ok = [t for t in probe.times if t is not None]
    h.figure(create_topics_during={"count": len(probe.times), "failed": len(probe.errors),
                                   "max_s": round(max(ok, default=0), 3)})
    h.check(probe.times, "no CreateTopics completed during the attack")
    h.check(not probe.errors, f"CreateTopics during the attack failed: {probe.errors[:3]}")
    slow = [round(t, 2) for t in ok if t > CREATE_PROMPT_S]
    h.check(not slow, f"CreateTopics took {slow} s (bound {CREATE_PROMPT_S} s)")
    # Each created topic's partition may hold descriptors for life.
    h.fd_slack += 3 * len(probe.times)


# Each of the 10,000 resources of one request lists every broker config
# (null names): the queued answers grow with the key count, which cluster
# mode took from 92 to 108 keys. The bound follows (512 MB was set at 92).
DESCRIBE_CONFIGS_RSS_BOUND_MB = 640


def test_describe_configs_10000_names_64_deep_unread(hostile):
    h = hostile(rss_bound_mb=DESCRIBE_CONFIGS_RSS_BOUND_MB)
    base = CreateProbe(h.bootstrap, "ct-base")
    h.figure(create_topics_baseline_s=round(base.once("ct-base") or -1, 3))
    h.fd_slack += 3
    body = kwire.describe_configs_body(1, [(4, "1")] * 10000)
    h.figure(request_bytes=len(body))
    payload = b"".join(kwire.request(kwire.DESCRIBE_CONFIGS, 1, i, body) for i in range(64))
    s = kwire.connect(h.bootstrap)
    with h.phase("attack"):
        with CreateProbe(h.bootstrap, "ct") as probe:
            sent = flood([s], payload, ATTACK_S)
        h.figure(attacker_sent_bytes=sent[0])
        s.close()
    check_creates(h, probe)
    h.finish()


def test_150_unread_metadata_connections(hostile):
    topics = {f"md-{i:02d}-" + "x" * 60: 1 for i in range(20)}
    h = hostile(topics=topics)
    req = kwire.request(kwire.METADATA, 1, 1, kwire.metadata_body(1, None))
    chunk = req * (65536 // len(req))
    socks = [kwire.connect(h.bootstrap) for _ in range(150)]
    with h.phase("attack"):
        with CreateProbe(h.bootstrap, "ct") as probe:
            sent = flood(socks, lambda i: chunk, ATTACK_S)
        h.figure(attacker_sent_mb=round(sum(sent) / 1e6, 1))
        for s in socks:
            s.close()
    check_creates(h, probe)
    h.finish()
