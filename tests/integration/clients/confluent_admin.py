#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Driver: confluent-kafka-python AdminClient (Debian python3-confluent-kafka)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from confluent_kafka import KafkaException  # noqa: E402
from confluent_kafka.admin import (AdminClient, ConfigResource, NewPartitions,  # noqa: E402
                                   NewTopic)

from common_args import CONFIG_SOURCES, kafka_error_name, out, parse_create  # noqa: E402

TIMEOUT = 30


def err(e):
    if isinstance(e, KafkaException):
        ke = e.args[0]
        return kafka_error_name(ke.code(), ke.name())
    raise e


def wait(futures):
    (f,) = futures.values()
    try:
        f.result(timeout=TIMEOUT)
        return None
    except KafkaException as e:
        return err(e)


def main():
    bootstrap, op, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    a = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 20000})
    if op == "cluster":
        md = a.list_topics(timeout=TIMEOUT)
        out({"brokers": sorted(md.brokers), "controller": md.controller_id,
             "cluster_id": md.cluster_id})
    elif op == "create":
        name, parts, rf, validate, assign, configs = parse_create(args)
        if assign:
            nt = NewTopic(name, num_partitions=len(assign), replication_factor=-1,
                          replica_assignment=assign, config=configs)
        else:
            nt = NewTopic(name, num_partitions=parts, replication_factor=rf, config=configs)
        out({"error": wait(a.create_topics([nt], validate_only=validate,
                                           operation_timeout=TIMEOUT))})
    elif op == "list":
        md = a.list_topics(timeout=TIMEOUT)
        out({"topics": sorted(t for t in md.topics if not t.startswith("__"))})
    elif op == "describe":
        # Metadata for all topics: a metadata request naming the topic would
        # auto-create it from this (producer-type) librdkafka handle.
        md = a.list_topics(timeout=TIMEOUT)
        t = md.topics.get(args[0])
        if t is None:
            out({"error": "UNKNOWN_TOPIC_OR_PARTITION", "partitions": 0, "id": None})
        else:
            out({"error": kafka_error_name(t.error.code(), t.error.name()) if t.error else None,
                 "partitions": len(t.partitions), "id": None})
    elif op == "configs":
        rtype = ConfigResource.Type.TOPIC if args[0] == "topic" else ConfigResource.Type.BROKER
        fs = a.describe_configs([ConfigResource(rtype, args[1])], request_timeout=TIMEOUT)
        (f,) = fs.values()
        try:
            entries = f.result(timeout=TIMEOUT)
        except KafkaException as e:
            out({"error": err(e), "configs": {}})
            return
        out({"error": None,
             "configs": {k: {"value": e.value, "source": CONFIG_SOURCES.get(int(e.source), str(e.source))} for k, e in entries.items()}})
    elif op == "partitions":
        out({"error": wait(a.create_partitions([NewPartitions(args[0], int(args[1]))],
                                               operation_timeout=TIMEOUT))})
    elif op == "delete":
        out({"error": wait(a.delete_topics([args[0]], operation_timeout=TIMEOUT))})
    else:
        sys.exit(f"unsupported op {op}")


if __name__ == "__main__":
    main()
