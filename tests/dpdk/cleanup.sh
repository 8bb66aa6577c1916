#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Removes what a crashed or killed dpdk-suite run left behind: processes in
# and namespaces named spw-{s,c,m,p}-*, links named spw[scmnt]*, DPDK
# runtime dirs and hugepage files with the spw prefix, and relay/broker temp
# dirs. Hugepages: a run adds pages to vm.nr_hugepages only when too few are
# free, notes the count in /run/spw-hugepages-RUN_ID and takes them away at
# the end; this takes away what such notes of dead runs say.
#
#   tests/dpdk/cleanup.sh [--dry-run] [RUN_ID]
#
# With RUN_ID (6 hex digits, in every name of that run) only that run's
# leftovers go; without, every spw-* leftover.
# Do not run it without RUN_ID while another dpdk-suite run is going.
set -euo pipefail

dry=0 run=""
while (($# > 0)); do
	case "$1" in
	--dry-run) dry=1; shift ;;
	-h | --help) sed -n '3,14p' "$0"; exit 0 ;;
	*) run=$1; shift ;;
	esac
done
[[ $EUID -eq 0 ]] || { echo "cleanup.sh: needs root" >&2; exit 1; }

do_() {
	echo "+ $*"
	((dry)) || "$@" || true
}

for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^spw-[scmp]-${run}"); do
	for pid in $(ip netns pids "$ns" 2>/dev/null); do
		do_ kill -TERM "$pid"
	done
	sleep 0.5
	for pid in $(ip netns pids "$ns" 2>/dev/null); do
		do_ kill -KILL "$pid"
	done
	do_ ip netns del "$ns"
done

for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 |
	grep -E "^spw[scmnt]${run}"); do
	do_ ip link del "$link"
done

for d in /var/run/dpdk/spw${run}*; do
	[[ -e $d ]] && do_ rm -rf "$d"
done
for d in /dev/hugepages /mnt/huge; do
	for f in "$d"/spw${run}*map_*; do
		[[ -e $f ]] && do_ rm -f "$f"
	done
done
for d in "${TMPDIR:-/tmp}"/spw-dpdk-${run}* "${TMPDIR:-/tmp}"/spw-relay-${run}*; do
	[[ -e $d ]] && do_ rm -rf "$d"
done

for note in /run/spw-hugepages-${run}*; do
	[[ -e $note ]] || continue
	pages=$(cat "$note")
	cur=$(cat /proc/sys/vm/nr_hugepages)
	new=$((cur > pages ? cur - pages : 0))
	echo "+ vm.nr_hugepages $cur -> $new ($note)"
	((dry)) || { echo "$new" >/proc/sys/vm/nr_hugepages; rm -f "$note"; }
done
grep -E '^HugePages_(Total|Free|Surp)' /proc/meminfo
