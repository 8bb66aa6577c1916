#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Driver: kafka-python KafkaAdminClient (Debian python3-kafka 2.0.2).

kafka-python 2.0.2 returns raw protocol responses; we read the error codes
from them and name them with kafka.errors."""
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafka.errors as Errors  # noqa: E402
from kafka.admin import (ConfigResource, ConfigResourceType, KafkaAdminClient,  # noqa: E402
                         NewPartitions, NewTopic)

from common_args import CONFIG_SOURCES, kafka_error_name, out, parse_create  # noqa: E402

TIMEOUT_MS = 30000


def name(code):
    if code == 0:
        return None
    return kafka_error_name(code, Errors.for_code(code).message)


def first_error(resp_errors):
    # entries are (topic, error_code[, error_message])
    (entry,) = resp_errors
    return name(entry[1])


def main():
    logging.basicConfig(level=logging.ERROR)
    bootstrap, op, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    a = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT_MS,
                         client_id="spillway-it-kafka-python")
    if op == "cluster":
        c = a.describe_cluster()
        out({"brokers": sorted(b["node_id"] for b in c["brokers"]),
             "controller": c.get("controller_id"), "cluster_id": c.get("cluster_id")})
    elif op == "create":
        t, parts, rf, validate, assign, configs = parse_create(args)
        if assign:
            nt = NewTopic(t, -1, -1, replica_assignments={i: r for i, r in enumerate(assign)},
                          topic_configs=configs)
        else:
            nt = NewTopic(t, parts, rf, topic_configs=configs)
        r = a.create_topics([nt], timeout_ms=TIMEOUT_MS, validate_only=validate)
        out({"error": first_error(r.topic_errors)})
    elif op == "list":
        out({"topics": sorted(t for t in a.list_topics() if not t.startswith("__"))})
    elif op == "describe":
        (t,) = a.describe_topics([args[0]])
        out({"error": name(t["error_code"]), "partitions": len(t["partitions"]), "id": None})
    elif op == "configs":
        rtype = ConfigResourceType.TOPIC if args[0] == "topic" else ConfigResourceType.BROKER
        (resp,) = a.describe_configs([ConfigResource(rtype, args[1])])
        (res,) = resp.resources
        err, entries = res[0], res[4]
        cfgs = {}
        for e in entries:
            if resp.API_VERSION == 0:
                src = "DEFAULT_CONFIG" if e[4] else "UNKNOWN"
            else:
                src = CONFIG_SOURCES.get(e[3], str(e[3]))
            cfgs[e[0]] = {"value": e[1], "source": src}
        out({"error": name(err), "configs": cfgs, "version": resp.API_VERSION})
    elif op == "partitions":
        r = a.create_partitions({args[0]: NewPartitions(int(args[1]))}, timeout_ms=TIMEOUT_MS)
        out({"error": first_error(r.topic_errors)})
    elif op == "delete":
        r = a.delete_topics([args[0]], timeout_ms=TIMEOUT_MS)
        out({"error": first_error(r.topic_error_codes)})
    else:
        sys.exit(f"unsupported op {op}")
    a.close()


if __name__ == "__main__":
    try:
        main()
    except Errors.BrokerResponseError as e:
        # kafka-python raises the first per-topic error of admin responses
        out({"error": kafka_error_name(e.errno, e.message), "configs": {}, "partitions": 0, "id": None})
