#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages Spillway needs, only those missing.
#   scripts/install-deps.sh          build + run
#   scripts/install-deps.sh --test   also what the test suites need
# Needs root (or sudo) when something is missing. Non-interactive.
set -euo pipefail

# libdpdk-dev: the dpdk backend (meson -Ddpdk=auto finds it with pkg-config).
# Its Depends bring every package whose .pc `pkg-config --libs libdpdk`
# resolves (libbsd-dev, libibverbs-dev, libssl-dev, libxdp-dev, libbpf-dev,
# libpcap0.8-dev, libelf-dev, libjansson-dev, ...) and the PMDs (librte-net-*).
# libssl-dev: TLS and SCRAM; libpcre2-dev: ssl.principal.mapping.rules;
# libzookeeper-mt-dev, libjansson-dev: cluster mode (ZooKeeper, znode JSON).
build_pkgs=(meson ninja-build pkg-config gcc liburing-dev libck-dev liburcu-dev libisal-dev
	zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev libdpdk-dev libssl-dev libpcre2-dev
	libzookeeper-mt-dev libjansson-dev)
# dpdk suite: iproute2 (ip netns, tc), ethtool (veth offloads), kmod (modprobe),
# psmisc (fuser, for hugepages-setup.sh), dpdk (dpdk-devbind.py, dpdk-testpmd),
# openssl (the CLI makes the TLS tests' certificates); zookeeper and a JRE:
# the real ZooKeeper the cluster tests start; nftables: the cluster suite's
# network partition (test_netpart.py).
test_pkgs=(libcriterion-dev clang libfuzzer-14-dev libclang-rt-14-dev python3
	iproute2 ethtool kmod psmisc dpdk openssl zookeeper default-jre-headless
	nftables)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then
	want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
	sudo_cmd=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
