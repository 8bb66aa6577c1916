# SPDX-License-Identifier: Apache-2.0
"""Client load for the cluster tests: idempotent acks=all producers
(confluent-kafka, librdkafka) that record every send and acknowledgement in
a History, and consumers that read every partition to its end into it."""
import logging
import os
import threading
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

import history as hist

# librdkafka errors a client reports while brokers die and leaders move: the
# connection ones (error_cb) and what it retries on its own.
TRANSIENT = {KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._RESOLVE,
             KafkaError._TIMED_OUT, KafkaError.REQUEST_TIMED_OUT,
             KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
             KafkaError.NOT_ENOUGH_REPLICAS, KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
             KafkaError.NETWORK_EXCEPTION, KafkaError.BROKER_NOT_AVAILABLE,
             KafkaError.REPLICA_NOT_AVAILABLE, KafkaError.NOT_COORDINATOR,
             KafkaError.COORDINATOR_NOT_AVAILABLE, KafkaError._WAIT_COORD,
             KafkaError.UNKNOWN_TOPIC_OR_PART}


class _PidChanges(logging.Handler):
    """Keeps librdkafka's log lines that change the producer id or epoch (an
    epoch bump re-sequences unacknowledged records: duplicates from the
    client, librdkafka #4953), at most LIMIT of them."""
    LIMIT = 100

    def __init__(self, out):
        super().__init__(logging.DEBUG)
        self.out = out

    def emit(self, record):
        msg = record.getMessage()
        first = "PID{Invalid} ->" in msg         # each partition's first id
        if len(self.out) < self.LIMIT and not first and (
                "changed PID" in msg or "epoch bump" in msg.lower() or "Bumping" in msg):
            self.out.append(f"{time.strftime('%H:%M:%S')} {msg}")


class ProducerLoad:
    """One idempotent producer (acks=all) in its own thread sending
    b"<name>:<seq>" values keyed over topics, rate records per second,
    until stop()."""

    def __init__(self, name, bootstrap, topics, history, rate=200, keys=64, extra=None):
        self.name, self.topics, self.history = name, list(topics), history
        self.rate, self.keys = rate, keys
        self.errors = []            # (where, KafkaError) the client reported
        self.pid_changes = []       # librdkafka's lines on a new producer id / epoch
        conf = {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                "linger.ms": 5, "message.timeout.ms": 120000, "request.timeout.ms": 10000,
                "retry.backoff.ms": 100, "socket.timeout.ms": 10000,
                "topic.metadata.refresh.interval.ms": 2000,
                "error_cb": lambda e: self.errors.append(("error_cb", e))}
        conf.update(extra or {})
        debug_dir = os.environ.get("LOAD_DEBUG_DIR")
        if debug_dir:   # librdkafka's own log, to see why a record stalls
            log = logging.getLogger(f"rdkafka-{name}-{id(self)}")
            log.setLevel(logging.DEBUG)
            log.propagate = False
            h = logging.FileHandler(os.path.join(debug_dir, f"{name}.log"))
            h.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d %(message)s", "%H:%M:%S"))
            log.addHandler(h)
            conf.update({"debug": "eos,protocol,broker,topic,msg", "logger": log})
        else:           # its producer id / epoch changes, for a failing verdict
            log = logging.getLogger(f"rdkafka-eos-{name}-{id(self)}")
            log.setLevel(logging.DEBUG)
            log.propagate = False
            conf.update({"debug": "eos", "logger": log})
        log.addHandler(_PidChanges(self.pid_changes))   # with or without the full log
        self.p = Producer(conf)
        self.seq = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"producer-{name}", daemon=True)

    def _report(self, seq, topic):
        def cb(err, msg):
            if err is not None:
                self.errors.append(("delivery", err))
                self.history.fail(self.name, seq, err)
            else:
                self.history.ack(self.name, seq, topic, msg.partition(), msg.offset())
        return cb

    def _send_one(self):
        seq = self.seq
        topic = self.topics[seq % len(self.topics)]
        key = f"k{seq % self.keys}".encode()
        self.history.send(self.name, seq, topic, key)
        while True:
            try:
                self.p.produce(topic, hist.value_of(self.name, seq), key,
                               on_delivery=self._report(seq, topic))
                break
            except BufferError:
                self.p.poll(0.1)
        self.seq += 1

    def _run(self):
        start = time.monotonic()
        while not self._stop.is_set():
            due = int((time.monotonic() - start) * self.rate) + 1
            while self.seq < due and not self._stop.is_set():
                self._send_one()
            self.p.poll(0.02)

    def start(self):
        self.thread.start()
        return self

    def stop(self, flush_timeout=150):
        """Stop sending; wait for every outstanding acknowledgement. Returns
        the number still unresolved (0 unless flush timed out)."""
        self._stop.set()
        self.thread.join(timeout=30)
        left = self.p.flush(flush_timeout)
        return left

    def fatal_errors(self):
        return [(w, e) for w, e in self.errors if e.fatal()]

    def delivery_errors(self):
        return [(w, e) for w, e in self.errors if w == "delivery"]

    def non_retriable(self):
        """Errors the application saw that a client may not see under
        failover: fatal ones, failed deliveries, unexpected error_cb codes."""
        return [(w, e) for w, e in self.errors
                if e.fatal() or w == "delivery" or e.code() not in TRANSIENT]


def assert_only_retriable(producers):
    bad = [(p.name, w, str(e)) for p in producers for w, e in p.non_retriable()]
    assert not bad, f"producers saw non-retriable errors: {bad[:10]}"


def consume_all(bootstrap, topics, history, ends, group=None, timeout=120):
    """Read every partition of topics from offset 0 until each reaches its
    end offset in ends, into history. group: a consumer group subscribing
    (else assign()). Returns the number of records read; fails on timeout
    or when two readers disagree about an offset's record."""
    conf = {"bootstrap.servers": bootstrap, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "fetch.wait.max.ms": 100,
            "group.id": group or "spillway-assign", "session.timeout.ms": 10000,
            "topic.metadata.refresh.interval.ms": 2000}
    c = Consumer(conf)
    pos = {tp: 0 for tp in ends}
    read = 0
    try:
        if group:
            c.subscribe(list(topics))
        else:
            c.assign([TopicPartition(t, p, 0) for (t, p) in ends])
        deadline = time.monotonic() + timeout
        while any(pos[tp] < ends[tp] for tp in ends):
            assert time.monotonic() < deadline, (
                f"consumer ({group or 'assign'}) via {bootstrap} stalled: " +
                str({tp: (pos[tp], ends[tp]) for tp in ends if pos[tp] < ends[tp]}))
            for m in c.consume(500, 0.5):
                if m.error():
                    assert m.error().code() in TRANSIENT or \
                        m.error().code() == KafkaError._PARTITION_EOF, m.error()
                    continue
                tp = (m.topic(), m.partition())
                assert history.consume(tp[0], tp[1], m.offset(), m.value()), (
                    f"offset {tp} {m.offset()} read as two different records")
                pos[tp] = max(pos.get(tp, 0), m.offset() + 1)
                read += 1
        return read
    finally:
        c.close()
