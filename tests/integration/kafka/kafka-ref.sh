#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Reference Apache Kafka (KRaft, one combined broker+controller node on
# loopback), used to validate tests/integration against the real thing and to
# run benchmarks side by side.
#
#   kafka-ref.sh fetch                       jars -> <repo>/.cache/kafka/libs
#   kafka-ref.sh start [PORT] [DIR] [k=v...] format DIR (if new) and start;
#                                            waits until PORT accepts
#   kafka-ref.sh stop  [PORT] [DIR]          kill it (TERM, then KILL)
#
# Defaults: PORT=19092, DIR=<repo>/.cache/kafka/run-PORT. Extra k=v pairs are
# appended to server.properties (e.g. auto.create.topics.enable=false).
# Env: KAFKA_VERSION (default from pom.xml), KAFKA_HEAP (default -Xmx1G),
#      KAFKA_START_TIMEOUT (seconds, default 120).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
cache="$repo/.cache/kafka"
libs="$cache/libs"

log() { echo "kafka-ref: $*" >&2; }

port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

fetch() {
	if [ -f "$libs/.complete" ]; then
		log "jars already in $libs"
		return 0
	fi
	command -v mvn >/dev/null || { log "mvn not found (apt-get install maven)"; exit 1; }
	log "fetching Apache Kafka jars with mvn into $libs"
	mkdir -p "$libs"
	local args=()
	[ -n "${KAFKA_VERSION:-}" ] && args+=("-Dkafka.version=$KAFKA_VERSION")
	mvn -q -B -f "$here/pom.xml" "${args[@]}" dependency:copy-dependencies \
		-DoutputDirectory="$libs" </dev/null
	touch "$libs/.complete"
}

start() {
	local port="${1:-19092}"
	local dir="${2:-$cache/run-$port}"
	shift $(( $# > 2 ? 2 : $# ))
	fetch
	command -v java >/dev/null || { log "java not found"; exit 1; }
	if port_open "$port"; then
		log "port $port already accepts connections"; exit 1
	fi
	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	local cport
	cport="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
	local cp="$libs/*"
	cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
	local kv
	for kv in "$@"; do echo "$kv" >> "$dir/server.properties"; done
	cat > "$dir/log4j.properties" <<PROPS
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
	local jvm=(${KAFKA_HEAP:--Xmx1G -Xms256m} -XX:+UseG1GC -XX:TieredStopAtLevel=1
		-Djava.awt.headless=true -Dlog4j.configuration="file:$dir/log4j.properties"
		-Dkafka.logs.dir="$dir")
	# The first of log.dirs (an override may name several: JBOD).
	local first
	first=$(grep '^log.dirs=' "$dir/server.properties" | tail -1 | cut -d= -f2 | cut -d, -f1)
	if [ ! -f "$first/meta.properties" ]; then
		# A KRaft log dir must be formatted once; re-formatting would lose data.
		log "formatting $dir/data"
		java "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool format \
			-t "$(java "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool random-uuid)" \
			-c "$dir/server.properties" </dev/null >"$dir/format.log" 2>&1 \
			|| { cat "$dir/format.log" >&2; exit 1; }
	fi
	log "starting Kafka on 127.0.0.1:$port (dir $dir)"
	setsid java "${jvm[@]}" -cp "$cp" kafka.Kafka "$dir/server.properties" \
		</dev/null >"$dir/stdout.log" 2>&1 &
	echo $! > "$dir/kafka.pid"
	local deadline=$(( SECONDS + ${KAFKA_START_TIMEOUT:-120} ))
	while ! port_open "$port"; do
		if ! kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
			log "Kafka exited during startup:"; tail -50 "$dir/stdout.log" "$dir/server.log" >&2 || true
			exit 1
		fi
		if (( SECONDS > deadline )); then
			log "timed out waiting for port $port"; stop "$port" "$dir"; exit 1
		fi
		sleep 0.3
	done
	# The port opens before the broker has caught up with the metadata log.
	local i
	for i in $(seq 1 100); do
		grep -q "Kafka Server started\|\[KafkaRaftServer nodeId=1\] Kafka Server started" \
			"$dir/server.log" 2>/dev/null && break
		sleep 0.2
	done
	log "Kafka up: 127.0.0.1:$port pid $(cat "$dir/kafka.pid")"
	echo "127.0.0.1:$port"
}

stop() {
	local port="${1:-19092}"
	local dir="${2:-$cache/run-$port}"
	local pidf="$dir/kafka.pid"
	[ -f "$pidf" ] || { log "no pid file in $dir"; return 0; }
	local pid; pid="$(cat "$pidf")"
	if kill -0 "$pid" 2>/dev/null; then
		log "stopping pid $pid"
		kill -TERM "$pid" 2>/dev/null || true
		local i
		for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		kill -0 "$pid" 2>/dev/null && { log "killing pid $pid"; kill -KILL "$pid" 2>/dev/null || true; }
	fi
	rm -f "$pidf"
}

case "${1:-}" in
fetch) fetch ;;
start) shift; start "$@" ;;
stop) shift; stop "$@" ;;
*) echo "usage: $0 fetch | start [PORT] [DIR] [key=value...] | stop [PORT] [DIR]" >&2; exit 2 ;;
esac
