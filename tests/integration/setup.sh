#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs and builds everything tests/integration needs. Idempotent and
# non-interactive; run as root on Debian 12:
#
#   tests/integration/setup.sh [--with-kafka-ref]
#
# apt packages (only when the tool is missing), kafkajs (npm ci), Kafka client
# and kafka-tools jars (mvn), the Java driver (javac), the franz-go driver
# (go build) and the librdkafka C driver (cc; meson builds it too). Outputs go
# to <repo>/.cache/integration/; --with-kafka-ref also fetches the Apache
# Kafka server jars for kafka/kafka-ref.sh.
set -euo pipefail
export CI=true DEBIAN_FRONTEND=noninteractive
exec </dev/null

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="$repo/.cache/integration"
mkdir -p "$cache/bin" "$cache/java"

say() { echo "setup: $*"; }

# --- apt ------------------------------------------------------------------
missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need_pkg() { dpkg -s "$1" >/dev/null 2>&1 || missing+=("$1"); }
need_cmd kcat kcat
need_cmd promtool prometheus      # test_metrics.py: promtool check metrics
need_pkg librdkafka-dev
need_pkg python3-confluent-kafka
need_pkg python3-pip                # confluent-kafka 2.x below (PyPI)
need_pkg python3-kafka
need_pkg python3-pytest
need_pkg python3-pytest-timeout      # tests/hostile: every case bounded
need_pkg python3-snappy             # kafka-python codecs (data-path tests)
need_pkg python3-lz4
need_pkg python3-zstandard
need_cmd node nodejs
need_cmd npm npm
need_cmd javac default-jdk-headless
need_cmd mvn maven
need_cmd go golang-go
command -v cc >/dev/null 2>&1 || missing+=(gcc)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if [ ${#missing[@]} -gt 0 ]; then
	say "apt-get install ${missing[*]}"
	if [ "$(id -u)" != 0 ]; then
		say "not root: install these yourself"; exit 1
	fi
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
	say "apt packages present"
fi

# --- confluent-kafka 2.x (PyPI) -------------------------------------------
# Its wheel bundles librdkafka 2.6, with the admin calls Debian's 2.0.2
# lacks (IncrementalAlterConfigs). Kept apart in the cache and used only by
# clients/ck2_incremental_alter.py in its own process (PYTHONPATH).
ck2="$cache/py-ck2"
ck2_version=2.6.1
if [ ! -f "$ck2/.installed-$ck2_version" ]; then
	say "pip install confluent-kafka==$ck2_version -> $ck2"
	rm -rf "$ck2"
	/usr/bin/python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
		--no-deps --break-system-packages --target "$ck2" "confluent-kafka==$ck2_version"
	touch "$ck2/.installed-$ck2_version"
fi

# --- kafkajs --------------------------------------------------------------
js="$here/js"
if [ ! -f "$js/node_modules/.package-lock.json" ] || \
   [ "$js/package-lock.json" -nt "$js/node_modules/.package-lock.json" ]; then
	say "npm ci in $js"
	(cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
else
	say "kafkajs already installed"
fi

# --- Java: jars + driver --------------------------------------------------
lib="$cache/java/lib"
if [ ! -f "$lib/.complete" ] || [ "$here/java/pom.xml" -nt "$lib/.complete" ]; then
	say "mvn dependency:copy-dependencies -> $lib"
	rm -rf "$lib"
	mvn -q -B -f "$here/java/pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib"
	touch "$lib/.complete"
else
	say "Java jars already in $lib"
fi
classes="$cache/java/classes"
if [ ! -f "$classes/SpillwayAdmin.class" ] || \
   [ "$here/java/SpillwayAdmin.java" -nt "$classes/SpillwayAdmin.class" ]; then
	say "javac SpillwayAdmin.java -> $classes"
	mkdir -p "$classes"
	javac -nowarn -d "$classes" -cp "$lib/*" "$here/java/SpillwayAdmin.java"
else
	say "Java driver up to date"
fi
if [ ! -f "$classes/SpillwayData.class" ] || \
   [ "$here/java/SpillwayData.java" -nt "$classes/SpillwayData.class" ]; then
	say "javac SpillwayData.java -> $classes"
	mkdir -p "$classes"
	javac -nowarn -d "$classes" -cp "$lib/*" "$here/java/SpillwayData.java"
else
	say "Java data driver up to date"
fi

if [ ! -f "$classes/SpillwayGroup.class" ] || \
   [ "$here/java/SpillwayGroup.java" -nt "$classes/SpillwayGroup.class" ]; then
	say "javac SpillwayGroup.java -> $classes"
	mkdir -p "$classes"
	javac -nowarn -d "$classes" -cp "$lib/*" "$here/java/SpillwayGroup.java"
else
	say "Java group driver up to date"
fi

# --- franz-go driver ------------------------------------------------------
gobin="$cache/bin/franz_admin"
if [ ! -x "$gobin" ] || [ -n "$(find "$here/go" -newer "$gobin" -type f)" ]; then
	say "go build ($(go version | cut -d' ' -f3)) -> $gobin"
	(cd "$here/go" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go mod download && \
	 GOTOOLCHAIN=local GOFLAGS=-mod=readonly go build -o "$gobin" .)
else
	say "franz-go driver up to date"
fi
gobin="$cache/bin/franz_data"
if [ ! -x "$gobin" ] || [ -n "$(find "$here/go" -newer "$gobin" -type f)" ]; then
	say "go build ./data -> $gobin"
	(cd "$here/go" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go build -o "$gobin" ./data)
else
	say "franz-go data driver up to date"
fi

gobin="$cache/bin/franz_group"
if [ ! -x "$gobin" ] || [ -n "$(find "$here/go" -newer "$gobin" -type f)" ]; then
	say "go build ./group -> $gobin"
	(cd "$here/go" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go build -o "$gobin" ./group)
else
	say "franz-go group driver up to date"
fi

# --- librdkafka C drivers (meson builds the same files), with the helpers
# they share with bench/ ----
bench="$repo/bench"
for drv in rdkafka_admin rdkafka_data; do
	cbin="$cache/bin/$drv"
	srcs="$here/clients/$drv.c $bench/bench_client.c $bench/bench_rdk.c"
	# shellcheck disable=SC2086  # srcs: a list of paths without spaces
	if [ ! -x "$cbin" ] || [ -n "$(find $srcs "$bench"/bench_*.h -newer "$cbin")" ]; then
		say "cc $drv.c -> $cbin"
		cc -std=gnu11 -O1 -Wall -Wextra -D_GNU_SOURCE -I"$bench" -o "$cbin" $srcs \
			$(pkg-config --cflags --libs rdkafka)
	else
		say "$drv up to date"
	fi
done

if [ "${1:-}" = "--with-kafka-ref" ]; then
	"$here/kafka/kafka-ref.sh" fetch
fi
say "done"
