#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# txn_rec encodes the records of __transaction_state to the bytes Kafka's own
# generated classes write, and decodes Kafka's bytes to the same fields
# (KafkaTxnRecords.java prints them, txn_rec_kafka.c compares).
# Usage: kafka_txn_rec_bytes.sh TXN_REC_KAFKA_BIN REPO_ROOT
# Skips (77) without java or the Kafka jars (tests/integration/kafka/
# kafka-ref.sh fetch), except under CI=true, where that is a failure.
set -u
bin="$1"
root="$2"
libs="$root/.cache/kafka/libs"
here="$root/tests/unit/control/txn"

missing() {
	echo "kafka_txn_rec_bytes: $1" >&2
	if [ "${CI:-}" = "true" ]; then exit 1; fi
	exit 77
}
command -v java >/dev/null 2>&1 || missing "java not found"
ls "$libs"/kafka-transaction-coordinator-*.jar >/dev/null 2>&1 || missing "no Kafka jars in $libs"

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
java -cp "$libs/*" "$here/KafkaTxnRecords.java" >"$out" || {
	echo "kafka_txn_rec_bytes: KafkaTxnRecords.java failed" >&2
	exit 1
}
cat "$out"
"$bin" <"$out"
