#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Kafka's own DumpLogSegments must read segments and indexes Spillway wrote
# (.log, .index, .timeindex and .txnindex).
# Usage: kafka_dump_log.sh WRITE_SEGMENT_BIN REPO_ROOT
# Skips (77) without java or the Kafka jars (tests/lib/kafka_jars.sh).
set -u
bin="$1"
root="$2"
. "$root/tests/lib/kafka_jars.sh"
kafka_jars_require kafka_dump_log 'kafka_*.jar'

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
"$bin" "$dir" || { echo "kafka_dump_log: writing the log failed" >&2; exit 1; }
seg="$dir/t-0/00000000000000000000"
dump() {
	java -cp "$libs/*" kafka.tools.DumpLogSegments --files "$1" --deep-iteration \
		>"$dir/out.txt" 2>&1
	rc=$?
	cat "$dir/out.txt"
	return $rc
}
fail=0
dump "$seg.log" || fail=1
grep -q "baseOffset: 0 lastOffset: 2 count: 3" "$dir/out.txt" || fail=1
grep -q "isValid: false" "$dir/out.txt" && fail=1
grep -q "offset: 2 .*payload" "$dir/out.txt" || grep -q "offset: 2 " "$dir/out.txt" || fail=1
dump "$seg.index" || fail=1
grep -qi "mismatch\|corrupt\|exception" "$dir/out.txt" && fail=1
dump "$seg.timeindex" || fail=1
grep -qi "mismatch\|corrupt\|exception" "$dir/out.txt" && fail=1
# The aborted-transaction index: Kafka decodes both entries, in order.
dump "$seg.txnindex" || fail=1
grep -qi "exception" "$dir/out.txt" && fail=1
txns="$(grep "producerId:" "$dir/out.txt")"
want="version: 0 producerId: 4242 firstOffset: 0 lastOffset: 2 lastStableOffset: 0
version: 0 producerId: 123456789012 firstOffset: 1 lastOffset: 5 lastStableOffset: 1"
if [ "$txns" != "$want" ]; then
	echo "kafka_dump_log: .txnindex entries differ; want:" >&2
	echo "$want" >&2
	fail=1
fi
# Transactions as storage writes them: batches, markers and the abort's
# .txnindex entry (tests/unit/storage/write_segment.c write_txn_log).
tseg="$dir/txn/t-0/00000000000000000000"
dump "$tseg.log" || fail=1
grep -q "isValid: false" "$dir/out.txt" && fail=1
grep -q "baseOffset: 0 lastOffset: 1 count: 2 .*producerId: 777 .*isTransactional: true" \
	"$dir/out.txt" || fail=1
grep -q "offset: 3 .*endTxnMarker: ABORT coordinatorEpoch: 5" "$dir/out.txt" || fail=1
grep -q "offset: 4 .*endTxnMarker: COMMIT coordinatorEpoch: 5" "$dir/out.txt" || fail=1
grep -q "baseOffset: 3 .*isTransactional: true isControl: true" "$dir/out.txt" || fail=1
dump "$tseg.txnindex" || fail=1
txns="$(grep "producerId:" "$dir/out.txt")"
want="version: 0 producerId: 777 firstOffset: 0 lastOffset: 3 lastStableOffset: 2"
if [ "$txns" != "$want" ]; then
	echo "kafka_dump_log: the abort's .txnindex entry differs; want:" >&2
	echo "$want" >&2
	fail=1
fi
exit $fail
