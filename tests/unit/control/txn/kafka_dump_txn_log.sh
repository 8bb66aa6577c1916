#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Kafka's own DumpLogSegments --transaction-log-decoder must decode the
# __transaction_state records Spillway writes (control/txn/txn_rec.c, in a
# segment written by storage/plog.c: write_txn_log.c says what it holds).
# Usage: kafka_dump_txn_log.sh WRITE_TXN_LOG_BIN REPO_ROOT
# Skips (77) without java or the Kafka jars (tests/lib/kafka_jars.sh).
set -u
bin="$1"
root="$2"
. "$root/tests/lib/kafka_jars.sh"
kafka_jars_require kafka_dump_txn_log 'kafka_*.jar'

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
"$bin" "$dir" || { echo "kafka_dump_txn_log: writing the log failed" >&2; exit 1; }
seg="$dir/__transaction_state-0/00000000000000000000.log"
java -cp "$libs/*" kafka.tools.DumpLogSegments --transaction-log-decoder --files "$seg" \
	>"$dir/out.txt" 2>&1
rc=$?
cat "$dir/out.txt"
fail=0
if [ $rc -ne 0 ]; then
	echo "FAIL: DumpLogSegments exited $rc" >&2
	fail=1
fi

# expect OFFSET TEXT: the record at OFFSET decodes to a line holding TEXT.
expect() {
	line="$(grep "^| offset: $1 " "$dir/out.txt")"
	case "$line" in
	*"$2"*) ;;
	*) echo "FAIL: offset $1 lacks '$2': $line" >&2; fail=1 ;;
	esac
}
# parts OFFSET LIST: the record's partitions, in any order (Kafka prints a
# hash set), are exactly LIST (space-separated, sorted).
parts() {
	got="$(grep "^| offset: $1 " "$dir/out.txt" | sed -n 's/.*partitions=\[\([^]]*\)\].*/\1/p' |
		tr ',' '\n' | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')"
	if [ "$got" != "$2" ]; then
		echo "FAIL: offset $1 partitions '$got', want '$2'" >&2
		fail=1
	fi
}

all="orders-0 orders-1 orders-2 payments-5 payments-7"
key="key: transaction_metadata::transactionalId"
expect 0 "$key=app-1 payload: producerId:4000,producerEpoch:3,state=Ongoing,"
expect 0 ",txnLastUpdateTimestamp=1700000000001,txnTimeoutMs=60000"
parts 0 "$all"
expect 1 "$key=app-1 payload: producerId:4000,producerEpoch:3,state=PrepareCommit,"
expect 1 ",txnLastUpdateTimestamp=1700000000002,txnTimeoutMs=60000"
parts 1 "$all"
expect 2 "$key=app-1 payload: producerId:4000,producerEpoch:3,state=CompleteCommit,"
expect 2 ",partitions=[],txnLastUpdateTimestamp=1700000000003,txnTimeoutMs=60000"
# Value version 1 (flexible, with the tagged fields Kafka 3.9 skips).
expect 3 "$key=app-2 payload: producerId:4001,producerEpoch:0,state=PrepareAbort,"
expect 3 ",txnLastUpdateTimestamp=1700000000005,txnTimeoutMs=30000"
parts 3 "orders-0 orders-1 orders-2"
expect 4 "$key=app-2 payload: producerId:4001,producerEpoch:0,state=CompleteAbort,"
expect 4 ",partitions=[],txnLastUpdateTimestamp=1700000000006,txnTimeoutMs=30000"
expect 5 "$key=app-3 payload: producerId:4002,producerEpoch:9,state=Empty,"
expect 5 ",partitions=[],txnLastUpdateTimestamp=1700000000007,txnTimeoutMs=900000"
expect 6 "$key=app-3 payload: <DELETE>"
[ "$(grep -c '^| offset: ' "$dir/out.txt")" = 7 ] || { echo "FAIL: not 7 records" >&2; fail=1; }
grep -qi "exception\|unknown::\|isValid: false\|corrupt" "$dir/out.txt" && fail=1
exit $fail
