# SPDX-License-Identifier: Apache-2.0
"""librdkafka's idempotent producer (confluent-kafka-python) with purges and
dropped connections, for test_idempotent_purge.py. Runs in its own process,
so the test can run it with Debian's confluent-kafka 1.7 (librdkafka 2.0.2)
and with the 2.6.1 wheel in .cache/integration/py-ck2 alike. It owns the
relay (chaos_proxy.py) the broker advertises, so it can cut every
connection at the moments it chooses. Prints one JSON line.

    idem_purge.py stream BOOTSTRAP PROXY_PORT BROKER_PORT TOPIC PARTS ROUNDS PER_ROUND
        Produces ROUNDS * PER_ROUND numbered records (record i to partition
        i % PARTS); after each round cuts every connection, and in three
        rounds out of four purges the queued and in-flight records (before or
        after the cut, or while the relay holds the requests sent).
    idem_purge.py first BOOTSTRAP PROXY_PORT BROKER_PORT TOPIC PARTS N UP
        BOOTSTRAP is the broker itself. UP=0: the relay holds every
        connection to the advertised (leader) address: once the producer has
        its producer id, the first records are produced and purged at once,
        before any poll; then the relay lets the connections through and N
        numbered records follow. UP=1: the same with the leader's connection
        up (see first()).

Output: {"acked": [[partition, i, offset], ..], "purged_queue": [i, ..],
"purged_inflight": [i, ..], "errors": [[i, error], ..], "fatal": [..],
"client_errors": [..], "proxy": {...}, "version": [..],
"producer": [producer id, epoch] at the end}."""
import json
import os
import sys
import time
from pathlib import Path

import confluent_kafka
from confluent_kafka import KafkaError, KafkaException, Producer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from chaos_proxy import ChaosProxy  # noqa: E402

DEADLINE = 120.0  # seconds for the whole run


def purge(p, wait):
    """Purge queued and in-flight records. confluent-kafka-python (1.7 and
    2.6 alike) inverts its blocking argument: blocking=True passes
    RD_KAFKA_PURGE_F_NON_BLOCKING to rd_kafka_purge (librdkafka's debug log
    says "Purging queues with flags queue,inflight,non-blocking"), so
    blocking=False is the call that waits for every broker thread."""
    p.purge(in_queue=True, in_flight=True, blocking=not wait)


def value(i):
    return b"seq-%08d" % i


class Run:
    def __init__(self, bootstrap, extra=None):
        self.out = {"acked": [], "purged_queue": [], "purged_inflight": [], "errors": [],
                    "fatal": [], "client_errors": [],
                    "version": [confluent_kafka.version()[0], confluent_kafka.libversion()[0]]}
        self.idemp_state = None
        self.up_nodes = set()
        self.round_base, self.round_acked = 0, 0
        conf = {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                "max.in.flight.requests.per.connection": 5, "linger.ms": 5,
                "batch.num.messages": 40, "message.timeout.ms": 90000,
                "request.timeout.ms": 5000, "reconnect.backoff.ms": 20,
                "reconnect.backoff.max.ms": 200, "retry.backoff.ms": 20,
                "error_cb": self.on_error, "statistics.interval.ms": 100,
                "stats_cb": self.on_stats}
        if os.environ.get("IDEM_PURGE_DEBUG"):
            conf["debug"] = os.environ["IDEM_PURGE_DEBUG"]
        conf.update(extra or {})
        self.p = Producer(conf)

    def on_error(self, err):
        if err.fatal():
            self.out["fatal"].append(str(err))
        elif err.code() not in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN):
            self.out["client_errors"].append(str(err))

    def on_stats(self, js):
        st = json.loads(js)
        self.idemp_state = st.get("eos", {}).get("idemp_state")
        self.out["producer"] = [st.get("eos", {}).get(k) for k in ("producer_id",
                                                                   "producer_epoch")]
        self.up_nodes = {b["nodeid"] for b in st.get("brokers", {}).values()
                         if b.get("state") == "UP" and b.get("nodeid", -1) >= 0}

    def on_delivery(self, err, msg):
        i = int(msg.value()[4:])
        if err is None:
            self.out["acked"].append([msg.partition(), i, msg.offset()])
            self.round_acked += i >= self.round_base
        elif err.code() == KafkaError._PURGE_QUEUE:
            self.out["purged_queue"].append(i)
        elif err.code() == KafkaError._PURGE_INFLIGHT:
            self.out["purged_inflight"].append(i)
        else:
            self.out["errors"].append([i, str(err)])

    def produce(self, topic, i, part):
        while True:
            try:
                self.p.produce(topic, value(i), partition=part, on_delivery=self.on_delivery)
                return
            except BufferError:
                self.p.poll(0.01)

    def finish(self, proxy):
        left = self.p.flush(max(1.0, self.end - time.monotonic()))
        self.p.poll(0.3)  # statistics after the last answer: the final epoch
        self.out["unfinished"] = left
        self.out["proxy"] = dict(proxy.stats)
        proxy.stop()
        print(json.dumps(self.out), flush=True)


def stream(bootstrap, pport, bport, topic, parts, rounds, per_round):
    proxy = ChaosProxy(pport, "127.0.0.1", bport).start()
    r = Run(bootstrap)
    r.end = time.monotonic() + DEADLINE
    r.out["rounds"] = []
    for rnd in range(rounds):
        r.round_base, r.round_acked = rnd * per_round, 0
        for j in range(per_round):
            i = rnd * per_round + j
            r.produce(topic, i, i % parts)
            if j % 25 == 0:
                r.p.poll(0)
                time.sleep(0.002)
        # Mid-stream: half of the round acknowledged, the rest queued and
        # in flight (the connections are up again after the last cut).
        while r.round_acked < per_round // 2 and time.monotonic() < r.end:
            r.p.poll(0.002)
        kind = ("cut", "purge+cut", "cut+purge", "stall+purge+cut")[rnd % 4]
        if kind == "stall+purge+cut":
            # Requests sent but held in the relay are purged in flight, then
            # reach the broker late (they may be written), then the cut.
            proxy.pause()
            r.p.poll(0.05)
            purge(r.p, wait=rnd % 2 == 0)
            proxy.resume()
            r.p.poll(0.05)
        if kind == "purge+cut":
            purge(r.p, wait=rnd % 2 == 0)
        proxy.kill_now(everything=True)
        if kind == "cut+purge":
            purge(r.p, wait=rnd % 2 == 0)
        r.out["rounds"].append(kind)
        r.p.poll(0.05)
        if time.monotonic() > r.end:
            break
    r.finish(proxy)


def wait_for(r, proxy, what, cond):
    while not cond():
        r.p.poll(0.05)
        if time.monotonic() > r.end:
            r.out["fatal"].append(f"timed out waiting for {what}")
            r.finish(proxy)
            return False
    return True


def first(bootstrap, pport, bport, topic, parts, n, up):
    """up=0: the relay holds the leader's connection while the first records
    (3 per partition) are produced and purged. up=1: the leader's connection
    is up (record parts-1 to the last partition is acked first) and the first
    records of the other partitions are purged once in the leader's transmit
    queue (numbered from sequence 0 there), before their linger ends, so
    their sequence has a gap at its start (librdkafka does not rewind it)."""
    proxy = ChaosProxy(pport, "127.0.0.1", bport).start()
    if not up:
        proxy.hold()
    r = Run(bootstrap, {"linger.ms": 1000} if up else None)
    r.end = time.monotonic() + DEADLINE
    # The producer id comes over the bootstrap connection; the leader's
    # (advertised, relayed) connection stays held unless up.
    if not wait_for(r, proxy, "a producer id", lambda: r.idemp_state == "Assigned"):
        return
    r.out["producer_start"] = list(r.out["producer"])
    md = r.p.list_topics(topic, timeout=30)
    r.out["leaders"] = sorted(p.leader for p in md.topics[topic].partitions.values())
    first_ids = list(range(3 * parts))
    if up:
        r.produce(topic, parts - 1, parts - 1)
        r.p.flush(30)
        if not wait_for(r, proxy, "the leader's connection", lambda: r.up_nodes):
            return
        first_ids = [i for i in first_ids if i % parts != parts - 1]
    # The first records, one produce request's worth per partition, purged
    # before anything could send them.
    for i in first_ids:
        r.produce(topic, i, i % parts)
    if up:
        # The leader's broker thread takes them at once into its transmit
        # queue, which numbers them from sequence 0; they linger there.
        r.p.poll(0.3)
    purge(r.p, wait=True)
    r.out["first_purged"] = first_ids
    if not wait_for(r, proxy, "the purge's reports", lambda: len(r.out["purged_queue"]) +
                    len(r.out["purged_inflight"]) >= len(first_ids)):
        return
    proxy.release()
    r.p.poll(0.5 if not up else 0)
    for i in range(3 * parts, 3 * parts + n):
        r.produce(topic, i, i % parts)
        if i % 25 == 0:
            r.p.poll(0)
    r.finish(proxy)


def main(argv):
    mode, bootstrap, pport, bport, topic, parts = argv[1:7]
    nums = [int(x) for x in argv[7:]]
    run = {"stream": stream, "first": first}[mode]
    try:
        run(bootstrap, int(pport), int(bport), topic, int(parts), *nums)
    except KafkaException as e:  # a fatal error raised by poll/flush
        print(json.dumps({"fatal": [str(e)], "raised": True}), flush=True)


if __name__ == "__main__":
    main(sys.argv)
