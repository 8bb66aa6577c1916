# SPDX-License-Identifier: Apache-2.0
"""Argument parsing shared by the Python drivers (see scenarios.py for the protocol)."""
import json
import sys


def parse_create(args):
    name, parts, rf = args[0], int(args[1]), int(args[2])
    validate, assign, configs = False, None, {}
    i = 3
    while i < len(args):
        a = args[i]
        if a == "--validate-only":
            validate = True
        elif a == "--assign":
            i += 1
            assign = [[int(x) for x in p.split(",")] for p in args[i].split(";")]
        else:
            k, v = a.split("=", 1)
            configs[k] = v
        i += 1
    return name, parts, rf, validate, assign, configs


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


CONFIG_SOURCES = {0: "UNKNOWN", 1: "DYNAMIC_TOPIC_CONFIG", 2: "DYNAMIC_BROKER_CONFIG",
                  3: "DYNAMIC_DEFAULT_BROKER_CONFIG", 4: "STATIC_BROKER_CONFIG",
                  5: "DEFAULT_CONFIG", 6: "DYNAMIC_BROKER_LOGGER_CONFIG"}

# Kafka protocol error codes -> Kafka's names (librdkafka abbreviates some).
KAFKA_ERRORS = {0: None, 2: "CORRUPT_MESSAGE", 3: "UNKNOWN_TOPIC_OR_PARTITION",
                7: "REQUEST_TIMED_OUT", 17: "INVALID_TOPIC_EXCEPTION",
                35: "UNSUPPORTED_VERSION", 36: "TOPIC_ALREADY_EXISTS",
                37: "INVALID_PARTITIONS", 38: "INVALID_REPLICATION_FACTOR",
                39: "INVALID_REPLICA_ASSIGNMENT", 40: "INVALID_CONFIG",
                41: "NOT_CONTROLLER", 42: "INVALID_REQUEST",
                44: "POLICY_VIOLATION", 100: "UNKNOWN_TOPIC_ID"}


def kafka_error_name(code, fallback):
    if code in KAFKA_ERRORS:
        return KAFKA_ERRORS[code]
    return fallback
