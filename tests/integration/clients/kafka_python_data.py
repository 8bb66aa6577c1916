#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""kafka-python 2.0.2 data driver (protocol in ../data_scenarios.py).
Codecs need python3-snappy, python3-lz4 and python3-zstandard."""
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from data_common import extra_conf, main, out, read_spec, write_records


def produce(bootstrap, topic, spec, codec, acks, extra):
    conf = dict(bootstrap_servers=bootstrap,
                compression_type=None if codec == "none" else codec,
                acks=acks if acks == "all" else int(acks), linger_ms=5,
                max_in_flight_requests_per_connection=1, api_version_auto_timeout_ms=10000)
    conf.update({k: int(v) if v.isdigit() else v for k, v in extra_conf(extra).items()})
    p = KafkaProducer(**conf)
    futs = []
    for part, k, v, h, ts in read_spec(spec):
        futs.append(p.send(topic, value=v, key=k, partition=part, timestamp_ms=ts,
                           headers=h))
    p.flush(60)
    acked, errors = [], []
    for i, f in enumerate(futs):
        try:
            md = f.get(timeout=30)
            acked.append([md.partition, md.offset if md.offset is not None else -1])
        except Exception as e:  # noqa: BLE001 - report every failure
            errors.append(f"#{i}: {e!r}")
    p.close(10)
    out({"acked": acked, "errors": errors})


def consume(bootstrap, topic, parts, count, path):
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                      api_version_auto_timeout_ms=10000)
    tps = [TopicPartition(topic, p) for p in range(parts)]
    c.assign(tps)
    for tp in tps:
        c.seek(tp, 0)
    got, deadline = [], time.monotonic() + 60
    while len(got) < count and time.monotonic() < deadline:
        for tp, msgs in c.poll(timeout_ms=500).items():
            for m in msgs:
                got.append((m.partition, m.offset, m.key, m.value,
                            list(m.headers or []), m.timestamp))
    c.close()
    out({"count": write_records(path, got)})


if __name__ == "__main__":
    main(produce, consume)
