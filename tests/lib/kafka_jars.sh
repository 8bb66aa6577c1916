# SPDX-License-Identifier: Apache-2.0
# Sourced by the unit-suite scripts that run Apache Kafka's own classes
# against what Spillway wrote. Needs $root (the repository); sets $libs to
# the Kafka jars (tests/integration/kafka/kafka-ref.sh fetch puts them
# there). kafka_jars_require NAME GLOB: skip (77) without java or a jar
# matching GLOB in $libs, except under CI=true, where that is a failure.
libs="$root/.cache/kafka/libs"

kafka_jars_require() {
	if ! command -v java >/dev/null 2>&1; then
		kafka_jars_missing "$1" "java not found"
	fi
	# shellcheck disable=SC2086  # GLOB is a pattern
	if ! ls "$libs"/$2 >/dev/null 2>&1; then
		kafka_jars_missing "$1" "no Kafka jars in $libs"
	fi
}

kafka_jars_missing() {
	echo "$1: $2" >&2
	if [ "${CI:-}" = "true" ]; then exit 1; fi
	exit 77
}
