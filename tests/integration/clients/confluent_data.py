#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""confluent-kafka-python data driver (protocol in ../data_scenarios.py)."""
import time

from confluent_kafka import Consumer, Producer, TopicPartition

from data_common import extra_conf, main, out, read_spec, write_records


def produce(bootstrap, topic, spec, codec, acks, extra):
    conf = {"bootstrap.servers": bootstrap, "compression.codec": codec, "acks": acks,
            "linger.ms": 5, "max.in.flight.requests.per.connection": 1}
    conf.update(extra_conf(extra))
    p = Producer(conf)
    recs = read_spec(spec)
    acked, errors = [None] * len(recs), []

    def cb(i):
        def f(err, msg):
            if err is not None:
                errors.append(f"#{i}: {err}")
            else:
                acked[i] = [msg.partition(), msg.offset() if msg.offset() is not None else -1]
        return f

    for i, (part, k, v, h, ts) in enumerate(recs):
        while True:
            try:
                p.produce(topic, value=v, key=k, partition=part, timestamp=ts,
                          headers=h if h else None, on_delivery=cb(i))
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    left = p.flush(60)
    if left:
        errors.append(f"{left} records not delivered after 60 s")
    out({"acked": [a if a else [-1, -1] for a in acked] if not errors else
         [a for a in acked if a], "errors": errors})


def consume(bootstrap, topic, parts, count, path):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "assign-only",
                  "enable.auto.commit": False, "enable.auto.offset.store": False})
    c.assign([TopicPartition(topic, p, 0) for p in range(parts)])
    got, deadline = [], time.monotonic() + 60
    while len(got) < count and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        got.append((m.partition(), m.offset(), m.key(), m.value(),
                    m.headers() or [], m.timestamp()[1]))
    c.close()
    out({"count": write_records(path, got)})


if __name__ == "__main__":
    main(produce, consume)
