# SPDX-License-Identifier: Apache-2.0
"""librdkafka's IncrementalAlterConfigs through confluent-kafka-python 2.x
(the PyPI wheel setup.sh puts in .cache/integration/py-ck2: Debian's
librdkafka 2.0.2 predates the call). Run in its own process, so it never
meets Debian's confluent-kafka 1.7 that the other tests import.

    ck2_incremental_alter.py BOOTSTRAP TOPIC BROKER_ID

SETs, APPENDs, SUBTRACTs and DELETEs on a topic and a broker in one call,
reads them back with DescribeConfigs, and prints one JSON line."""
import json
import sys
import time

import confluent_kafka
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry,
                                   ConfigResource)


def entry(name, op, value=None):
    return ConfigEntry(name, value, incremental_operation=op)


def alter(admin, resources):
    out = {}
    for res, fut in admin.incremental_alter_configs(resources).items():
        try:
            fut.result(timeout=30)
            out[res.name] = "ok"
        except confluent_kafka.KafkaException as e:
            out[res.name] = e.args[0].name()
    return out


def describe(admin, topic, broker):
    got = admin.describe_configs([ConfigResource("topic", topic),
                                  ConfigResource("broker", broker)])
    t, b = (f.result(timeout=30) for f in got.values())
    pick = lambda cs, k: [cs[k].value, cs[k].source]  # noqa: E731
    return {"retention.ms": pick(t, "retention.ms"), "cleanup.policy": pick(t, "cleanup.policy"),
            "segment.bytes": pick(t, "segment.bytes"),
            "log.retention.bytes": pick(b, "log.retention.bytes")}


def main():
    bootstrap, topic, broker = sys.argv[1:4]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    S, D, A, X = (AlterConfigOpType.SET, AlterConfigOpType.DELETE,
                  AlterConfigOpType.APPEND, AlterConfigOpType.SUBTRACT)
    out = {"librdkafka": confluent_kafka.libversion()[0]}
    out["set"] = alter(admin, [
        ConfigResource("topic", topic, incremental_configs=[
            entry("retention.ms", S, "4000000"), entry("cleanup.policy", A, "compact"),
            entry("segment.bytes", S, "5000000")]),
        ConfigResource("broker", broker, incremental_configs=[
            entry("log.retention.bytes", S, "7000000000")])])
    time.sleep(1)       # Kafka: the controller's change reaches the broker
    out["after_set"] = describe(admin, topic, broker)
    out["unset"] = alter(admin, [
        ConfigResource("topic", topic, incremental_configs=[
            entry("retention.ms", D), entry("cleanup.policy", X, "delete")]),
        ConfigResource("broker", broker, incremental_configs=[
            entry("log.retention.bytes", D)])])
    time.sleep(1)
    out["after_unset"] = describe(admin, topic, broker)
    out["bad"] = alter(admin, [ConfigResource("topic", topic, incremental_configs=[
        entry("retention.ms", A, "5")])])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
