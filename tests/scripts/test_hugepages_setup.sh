#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tests hugepages-setup.sh: usage errors (exit 2), error paths (exit 1),
# --dry-run output that changes nothing, and, as root where the hugepage
# counters are writable, a real reserve -> status -> release round trip that
# puts vm.nr_hugepages back where it was. Binding is only tried with
# --dry-run. Usage: test_hugepages_setup.sh [path/to/hugepages-setup.sh]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
script=${1:-$here/../../hugepages-setup.sh}
[[ -x $script ]] || {
	echo "not executable: $script" >&2
	exit 1
}
tmp=$(mktemp -d /tmp/spw-hpt.XXXXXX)
export SPILLWAY_HUGEPAGES_STATE_DIR=$tmp/state
mnt=$tmp/huge
pool=/sys/kernel/mm/hugepages/hugepages-2048kB
passed=0
failed=0
out=""
rc=0

cleanup() {
	# Only what this test made: its mount, and the pages its reserve added.
	if awk -v m="$mnt" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; then
		umount "$mnt" || true
	fi
	if compgen -G "$SPILLWAY_HUGEPAGES_STATE_DIR/pages-*" >/dev/null; then
		"$script" release --pagesize 2M >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}

not_ok() {
	local lines
	mapfile -t lines <<<"$out"
	failed=$((failed + 1))
	echo "not ok - $1"
	printf '  rc=%s output:\n' "$rc"
	printf '    %s\n' "${lines[@]}"
}

# t DESCRIPTION EXPECTED_RC ARGS...: run the script, keep rc and output.
t() {
	local what=$1 want=$2
	shift 2
	rc=0
	out=$("$script" "$@" 2>&1) || rc=$?
	if [[ $rc == "$want" ]]; then
		ok "$what (exit $want)"
		return 0
	fi
	not_ok "$what: expected exit $want"
	return 1
}

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
	local what=$1
	shift
	if "$@"; then
		ok "$what"
	else
		not_ok "$what"
	fi
}

has() {
	if grep -qF -- "$2" <<<"$out"; then
		ok "$1"
	else
		not_ok "$1: output lacks '$2'"
	fi
}

lacks() {
	if grep -qF -- "$2" <<<"$out"; then
		not_ok "$1: output has '$2'"
	else
		ok "$1"
	fi
}

iface_up() {
	ip -o link show dev "$1" | grep -q '[<,]UP[,>]'
}

no_records() {
	! compgen -G "$SPILLWAY_HUGEPAGES_STATE_DIR/*" >/dev/null
}

# -- usage and errors ---------------------------------------------------------

t "--help" 0 --help && has "help names the commands" "reserve [N | --mb MB]"
t "help after a command" 0 bind --help
t "no arguments" 2
t "unknown command" 2 frobnicate && has "says which command" "unknown command 'frobnicate'"
t "old flag" 2 --pages 4 && has "points to the new commands" "reserve, status and release"
t "reserve without a count" 2 reserve
t "reserve with a bad count" 2 reserve many
t "reserve with count and --mb" 2 reserve 4 --mb 8
t "reserve with a bad page size" 2 reserve 4 --pagesize 3M
t "reserve with a bad node" 2 reserve 4 --node first
t "reserve with a relative mount" 2 reserve 4 --mount huge
t "reserve with an unknown option" 2 reserve 4 --bogus
t "status with an argument" 2 status extra
t "release with an unknown option" 2 release --bogus
t "bind without an address" 2 bind
t "bind with a malformed address" 2 bind not-a-pci-address
t "bind with an unknown driver" 2 bind 0000:00:00.0 --driver e1000
t "bind of an unknown device" 1 bind ffff:ff:1f.7 && has "names the address" "unknown PCI address ffff:ff:1f.7"
t "unbind of an unknown device" 1 --dry-run unbind ffff:ff:1f.7

# -- --dry-run: prints, changes nothing ----------------------------------------

if [[ -w $pool/nr_hugepages || -r $pool/nr_hugepages ]] && grep -qw hugetlbfs /proc/filesystems; then
	before=$(<"$pool/nr_hugepages")
	want=$((before + 3))
	t "dry-run reserve" 0 --dry-run reserve "$want" --mount "$mnt"
	has "dry-run prints the page count write" "+ echo $want > $pool/nr_hugepages"
	has "dry-run prints the mount" "+ mount -t hugetlbfs -o pagesize=2M nodev $mnt"
	check "dry-run created no mount point" test ! -e "$mnt"
	check "dry-run recorded nothing" test ! -e "$SPILLWAY_HUGEPAGES_STATE_DIR"
	after=$(<"$pool/nr_hugepages")
	# Someone else may change the count meanwhile, but never to exactly ours.
	check "dry-run left nr_hugepages alone" test "$after" != "$want"
	t "dry-run reserve --mb" 0 --dry-run reserve --mb $(((before + 5) * 2))
	has "--mb converts to pages" "+ echo $((before + 5)) > $pool/nr_hugepages"
	t "reserve of what is there" 0 --dry-run reserve 0
	has "is a no-op" "nothing to do"
	lacks "and prints no command" "+ "

	mkdir -p "$SPILLWAY_HUGEPAGES_STATE_DIR"
	echo "0 $before" >"$SPILLWAY_HUGEPAGES_STATE_DIR/pages-2048kB-global"
	t "dry-run release" 0 --dry-run release --pagesize 2M
	if ((before > 0)); then
		has "dry-run release prints the recorded count" "+ echo 0 > $pool/nr_hugepages"
	fi
	check "dry-run release kept the record" test -f "$SPILLWAY_HUGEPAGES_STATE_DIR/pages-2048kB-global"
	rm -rf "$SPILLWAY_HUGEPAGES_STATE_DIR"
	t "release without records changes no count" 0 --dry-run release --pagesize 2M
	has "says so" "nothing recorded by reserve"
	lacks "and prints no command" "+ "
	t "status" 0 status
	has "status lists the pools" "global  2M"
	has "status lists the NICs" "NICs:"
else
	echo "# skipping hugepage dry-runs: no 2M hugepages in this kernel"
fi

# -- --dry-run bind/unbind ------------------------------------------------------

# The PCI address a network interface sits on (virtio-net: one level up).
pci_of_iface() {
	local path
	path=$(readlink -f "/sys/class/net/$1/device" 2>/dev/null) || return 0
	while [[ $path == /sys/devices/* ]]; do
		if [[ ${path##*/} =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]]; then
			echo "${path##*/}"
			return 0
		fi
		path=${path%/*}
	done
}

dflt=""
if command -v ip >/dev/null 2>&1; then
	dflt=$(ip -4 route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
fi
dflt_pci=""
[[ -n $dflt ]] && dflt_pci=$(pci_of_iface "$dflt")
if [[ -n $dflt_pci ]]; then
	t "bind refuses the default-route NIC" 1 --dry-run bind "$dflt_pci"
	has "and says why" "$dflt carries the default route"
	lacks "before printing any command" "+ "
	rc=0
	out=$("$script" --dry-run bind "$dflt_pci" --force --driver igb_uio --wc 2>&1) || rc=$?
	has "--force takes it down (dry-run)" "+ ip link set dev $dflt down"
	has "--force binds it (dry-run)" "+ echo igb_uio > /sys/bus/pci/devices/$dflt_pci/driver_override"
	check "dry-run left $dflt up" iface_up "$dflt"
else
	echo "# skipping the default-route refusal: no PCI NIC carries the default route"
fi

# True when a network interface sits on PCI device $1.
has_iface() {
	local n
	for n in /sys/class/net/*; do
		[[ -e $n/device ]] || continue
		[[ $(pci_of_iface "${n##*/}") == "$1" ]] && return 0
	done
	return 1
}

# Any PCI device that has no network interface, for the plain dry-run bind
# (--force: it need not be a network controller).
spare=""
for d in /sys/bus/pci/devices/*; do
	[[ -d $d ]] || continue
	a=${d##*/}
	drv=$(readlink "$d/driver" 2>/dev/null || true)
	[[ ${drv##*/} == igb_uio ]] && continue
	if ! has_iface "$a"; then
		spare=$a
		break
	fi
done
if [[ -n $spare ]]; then
	rc=0
	if [[ $(cat "/sys/bus/pci/devices/$spare/class") != 0x02* ]]; then
		t "bind refuses a device that is not a NIC" 1 --dry-run bind "$spare"
		has "and says why" "not a network controller"
	fi
	rc=0
	out=$("$script" --dry-run bind "$spare" --force --driver igb_uio --wc 2>&1) || rc=$?
	check "dry-run bind of $spare ran (exit $rc, 1 = module missing)" test "$rc" -le 1
	has "dry-run bind sets driver_override" "+ echo igb_uio > /sys/bus/pci/devices/$spare/driver_override"
	has "dry-run bind probes" "+ echo $spare > /sys/bus/pci/drivers_probe"
	if ((rc == 1)); then
		has "a missing module is named" "a real run would stop here"
	else
		has "igb_uio gets write combining" "wc_activate=1"
	fi
	t "dry-run unbind to a named driver" "$rc" --dry-run unbind "$spare" --driver ena
	has "dry-run unbind clears driver_override" "+ echo '' > /sys/bus/pci/devices/$spare/driver_override"
	check "dry-run left driver_override of $spare alone" \
		test "$(cat "/sys/bus/pci/devices/$spare/driver_override" 2>/dev/null || true)" != igb_uio
else
	echo "# skipping the dry-run bind: no PCI device without a network interface"
fi

# -- real round trip (root) ------------------------------------------------------

if ((EUID != 0)); then
	echo "# skipping the reserve/status/release round trip: not root"
elif [[ ! -w $pool/nr_hugepages ]] || ! grep -qw hugetlbfs /proc/filesystems; then
	echo "# skipping the reserve/status/release round trip: hugepage counters not writable here"
else
	orig=$(<"$pool/nr_hugepages")
	want=$((orig + 2))
	rc=0
	out=$("$script" reserve "$want" --mount "$mnt" 2>&1) || rc=$?
	if ((rc != 0)) && grep -q "got .* of $want" <<<"$out"; then
		echo "# skipping the round trip: the kernel could not give 2 more pages"
		"$script" release --pagesize 2M --mount "$mnt" >/dev/null 2>&1 || true
	elif ((rc != 0)); then
		not_ok "reserve $want --mount $mnt"
	else
		ok "reserve $want --mount $mnt"
		now=$(<"$pool/nr_hugepages")
		check "nr_hugepages grew ($orig -> $now, want >= $want)" test "$now" -ge "$want"
		check "hugetlbfs mounted on $mnt" mountpoint -q "$mnt"
		t "reserving it again" 0 reserve "$want" --mount "$mnt"
		has "is a no-op" "nothing to do"
		lacks "and changes nothing" "->"
		: >"$mnt/spwtestmap_0"
		t "status" 0 status
		has "status shows the mount" "$mnt (pagesize 2M)"
		has "status shows the record" "was $orig, set to $want"
		has "status shows the stale DPDK file" "$mnt/spwtestmap_0"
		t "release" 0 release --pagesize 2M
		check "the mount point it made is gone (so: unmounted, stale file removed)" test ! -e "$mnt"
		now=$(<"$pool/nr_hugepages")
		if ((now == orig)); then
			ok "nr_hugepages back to $orig"
		elif grep -q "count changed since reserve" <<<"$out"; then
			ok "nr_hugepages changed by someone else meanwhile; reserve's 2 pages taken back ($now)"
		else
			not_ok "nr_hugepages is $now, not $orig"
		fi
		check "no records left" no_records
	fi
fi

echo "# $passed passed, $failed failed"
((failed == 0))
