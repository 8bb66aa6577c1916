#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# txn_rec encodes the records of __transaction_state to the bytes Kafka's own
# generated classes write, and decodes Kafka's bytes to the same fields
# (KafkaTxnRecords.java prints them, txn_rec_kafka.c compares).
# Usage: kafka_txn_rec_bytes.sh TXN_REC_KAFKA_BIN REPO_ROOT
# Skips (77) without java or the Kafka jars (tests/lib/kafka_jars.sh).
set -u
bin="$1"
root="$2"
here="$root/tests/unit/control/txn"
. "$root/tests/lib/kafka_jars.sh"
kafka_jars_require kafka_txn_rec_bytes 'kafka-transaction-coordinator-*.jar'

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
java -cp "$libs/*" "$here/KafkaTxnRecords.java" >"$out" || {
	echo "kafka_txn_rec_bytes: KafkaTxnRecords.java failed" >&2
	exit 1
}
cat "$out"
"$bin" <"$out"
