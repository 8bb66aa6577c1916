#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The NIC half of hugepages-setup.sh (sourced by it, not run alone): list
# the host's NICs, bind one to vfio-pci or igb_uio (ENA write combining
# included) and unbind it back to its kernel driver. Uses the main script's
# helpers (run, put, die, record, ...) and its globals (DRY, STATE_DIR).
# shellcheck shell=bash

DPDK_DRIVERS=" vfio-pci igb_uio uio_pci_generic "

# Canonical PCI address (0000:00:06.0), from a full or a short (00:06.0) one.
pci_addr() {
	local a=${1,,}
	[[ $a =~ ^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] && a="0000:$a"
	[[ $a =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] ||
		usage_error "'$1' is not a PCI address (expected e.g. 0000:00:06.0)"
	[[ -d $PCI_DEVICES/$a ]] ||
		die "unknown PCI address $a: no such device (see: $PROG list)"
	echo "$a"
}

pci_driver() {
	local link
	link=$(readlink "$PCI_DEVICES/$1/driver" 2>/dev/null || true)
	echo "${link##*/}"
}

# Network interfaces of a PCI device, also those a bus in between owns
# (virtio-net: .../0000:00:03.0/virtio0/net/eth0).
pci_ifaces() {
	local d path
	for d in /sys/class/net/*; do
		[[ -e $d/device ]] || continue
		path=$(readlink -f "$d/device")
		if [[ ${path##*/} == "$1" || $path == */"$1"/* ]]; then
			echo "${d##*/}"
		fi
	done
	return 0
}

is_ena() {
	local vendor device
	vendor=$(read_num "$PCI_DEVICES/$1/vendor")
	device=$(read_num "$PCI_DEVICES/$1/device")
	[[ $vendor == 0x1d0f ]] && [[ " 0x0ec2 0x1ec2 0xec20 0xec21 " == *" $device "* ]]
}

iface_has_default_route() {
	[[ -n $(ip -4 route show default dev "$1" 2>/dev/null) ]] ||
		[[ -n $(ip -6 route show default dev "$1" 2>/dev/null) ]]
}

iface_is_up() {
	ip -o link show dev "$1" 2>/dev/null | grep -q '<[^>]*\bUP\b[^>]*>'
}

iface_routes() {
	ip -4 route show dev "$1" 2>/dev/null
	ip -6 route show dev "$1" 2>/dev/null | grep -v '^fe80::' || true
}

# One line per network-class PCI device.
nic_table() {
	local d a class drv ifs if_list kind any=0 flags numa
	for d in "$PCI_DEVICES"/*; do
		[[ -d $d ]] || continue
		class=$(read_num "$d/class")
		[[ $class == 0x02* ]] || continue
		a=${d##*/}
		drv=$(pci_driver "$a")
		kind="$(read_num "$d/vendor"):$(read_num "$d/device")"
		is_ena "$a" && kind="$kind ENA"
		numa=$(read_num "$d/numa_node")
		if_list=""
		flags=""
		for ifs in $(pci_ifaces "$a"); do
			if_list="$if_list$ifs "
			if command -v ip >/dev/null 2>&1; then
				if iface_has_default_route "$ifs"; then
					flags="$flags [$ifs: default route, do not bind]"
				elif iface_is_up "$ifs"; then
					flags="$flags [$ifs: up]"
				fi
			fi
		done
		if [[ -z $drv ]]; then
			drv="(none)"
		elif [[ $DPDK_DRIVERS == *" $drv "* ]]; then
			flags="$flags [DPDK-ready]"
		fi
		printf '  %s  %-16s drv=%-10s numa=%-2s if=%s%s\n' "$a" "$kind" "$drv" "$numa" \
			"${if_list:-none }" "$flags"
		any=1
	done
	((any == 1)) || echo "  (no network PCI devices)"
}

cmd_list() {
	(($# == 0)) || usage_error "list: unexpected argument '$1'"
	if command -v dpdk-devbind.py >/dev/null 2>&1 &&
		dpdk-devbind.py --status 2> >(grep -v 'libkmod' >&2); then
		echo
		echo "Summary:"
	fi
	nic_table
}

# Loaded as a module, or built in (then only its PCI driver may show).
module_loaded() {
	[[ -d /sys/module/${1//-/_} || -d /sys/bus/pci/drivers/$1 ]]
}

load_module() {
	local mod=$1
	shift
	if module_loaded "$mod"; then
		return 0
	fi
	if ! command -v modprobe >/dev/null 2>&1; then
		fail_or_warn "modprobe not found (Debian package kmod); cannot load $mod"
		return 0
	fi
	if ! modprobe -n "$mod" >/dev/null 2>&1; then
		local hint=""
		[[ -d /lib/modules/$(uname -r) ]] || hint=" (/lib/modules/$(uname -r) does not exist: this kernel has no loadable modules installed)"
		if [[ $mod == igb_uio ]]; then
			hint="$hint. igb_uio is not part of the kernel: install Debian's dpdk-kmods-dkms (apt-get install dpdk-kmods-dkms linux-headers-$(uname -r)), or use --driver vfio-pci"
		fi
		fail_or_warn "kernel module $mod not found for kernel $(uname -r)$hint"
	fi
	run modprobe "$mod" "$@" || die "modprobe $mod $* failed (see dmesg)"
}

prepare_vfio() {
	local noiommu=$1 param=/sys/module/vfio/parameters/enable_unsafe_noiommu_mode
	if [[ -n $(ls -A /sys/kernel/iommu_groups 2>/dev/null) ]]; then
		load_module vfio-pci
		return 0
	fi
	if [[ -r $param && $(<"$param") == Y ]]; then
		load_module vfio-pci
		return 0
	fi
	if ((noiommu == 0)); then
		fail_or_warn "no IOMMU is active (/sys/kernel/iommu_groups is empty), so vfio-pci cannot bind.
  Either turn the IOMMU on (kernel command line intel_iommu=on or amd_iommu=on, iommu=pt;
  EC2 metal instances have one), or use vfio's no-IOMMU mode (rerun with --noiommu):
      modprobe vfio enable_unsafe_noiommu_mode=1
  No-IOMMU mode gives the device unrestricted DMA to all memory and taints the kernel;
  it is what most virtualized EC2 instances need for vfio-pci. For ENA, --driver igb_uio --wc
  (write combining for the LLQ) is usually the better choice on such instances."
		return 0
	fi
	note "no IOMMU: turning on vfio no-IOMMU mode (unsafe: the device can DMA anywhere)"
	if module_loaded vfio; then
		put Y "$param"
	else
		load_module vfio enable_unsafe_noiommu_mode=1
	fi
	load_module vfio-pci
}

# Checks an interface before it leaves the kernel; with --force takes it down.
check_iface() {
	local ifs=$1 routes
	if ! command -v ip >/dev/null 2>&1; then
		((FORCE == 1)) && return 0
		die "ip (Debian package iproute2) not found: cannot check whether $ifs is in use (--force skips the check)"
	fi
	if iface_has_default_route "$ifs"; then
		((FORCE == 1)) || die "$ifs carries the default route: it is most likely the interface this machine is reached through (on EC2: the primary ENI). Binding it to DPDK cuts the machine off the network. Attach a second NIC/ENI for DPDK; --force binds anyway."
		warn "$ifs carries the default route; binding anyway (--force)"
	fi
	routes=$(iface_routes "$ifs")
	if iface_is_up "$ifs" || [[ -n $routes ]]; then
		if ((FORCE == 0)); then
			die "$ifs is still up or has routes:
${routes:-  (no routes)}
  Take it down first (ip link set dev $ifs down), or pass --force to do so."
		fi
		run ip link set dev "$ifs" down || die "cannot take $ifs down"
	fi
}

cmd_bind() {
	local addr="" driver=vfio-pci wc=0 noiommu=0 cur ifs dev POSITIONAL=""
	while (($# > 0)); do
		case "$1" in
		--driver | --driver=*)
			opt_value "$@"; driver=$OPT_VALUE; shift "$OPT_WORDS" ;;
		--wc) wc=1; shift ;;
		--noiommu) noiommu=1; shift ;;
		--force) FORCE=1; shift ;;
		-*) usage_error "bind: unknown option '$1'" ;;
		*) positional bind "$1" "one PCI address at a time"; shift ;;
		esac
	done
	addr=$POSITIONAL
	[[ -n $addr ]] || usage_error "bind: which device? (bind PCI-ADDR; see: $PROG list)"
	case "$driver" in
	vfio-pci | igb_uio) ;;
	*) usage_error "--driver: '$driver' is not vfio-pci or igb_uio" ;;
	esac
	addr=$(pci_addr "$addr")
	dev=$PCI_DEVICES/$addr
	cur=$(pci_driver "$addr")
	if [[ $(read_num "$dev/class") != 0x02* ]]; then
		((FORCE == 1)) || die "$addr is not a network controller (PCI class $(read_num "$dev/class")); --force binds it anyway"
		warn "$addr is not a network controller (PCI class $(read_num "$dev/class")); binding anyway (--force)"
	fi
	if is_ena "$addr"; then
		if [[ $driver == igb_uio ]] && ((wc == 0)); then
			note "$addr is an ENA device: loading igb_uio with wc_activate=1 (write combining for the LLQ)"
			wc=1
		elif [[ $driver == vfio-pci ]]; then
			warn "$addr is an ENA device: Debian's vfio-pci maps the LLQ BAR without write combining, which costs a lot of performance; prefer --driver igb_uio --wc, or AWS's WC-patched vfio-pci"
		fi
	fi
	if ((wc == 1)) && [[ $driver != igb_uio ]]; then
		usage_error "--wc applies to igb_uio (wc_activate=1); vfio-pci needs a WC-patched kernel module instead"
	fi
	if [[ $cur == "$driver" ]]; then
		note "$addr is already bound to $driver, nothing to do"
		return 0
	fi
	for ifs in $(pci_ifaces "$addr"); do
		check_iface "$ifs"
	done
	need_root "binding a device"
	if [[ $driver == vfio-pci ]]; then
		prepare_vfio "$noiommu"
	else
		load_module uio
		if ((wc == 1)) && module_loaded igb_uio; then
			warn "igb_uio is already loaded; write combining needs it loaded with wc_activate=1 (if it was not: unbind its devices, rmmod igb_uio, bind again)"
		fi
		if ((wc == 1)); then
			load_module igb_uio wc_activate=1
		else
			load_module igb_uio
		fi
	fi
	if [[ -n $cur && $DPDK_DRIVERS != *" $cur "* ]]; then
		record "driver-$addr" "$cur"
	fi
	if [[ -n $cur ]]; then
		put "$addr" "$dev/driver/unbind"
	fi
	put "$driver" "$dev/driver_override"
	put "$addr" /sys/bus/pci/drivers_probe
	if ((DRY == 0)); then
		cur=$(pci_driver "$addr")
		[[ $cur == "$driver" ]] || die "$addr did not bind to $driver (now: ${cur:-no driver}); see dmesg"
		if [[ $driver == vfio-pci ]]; then
			note "$addr bound to vfio-pci (group $(basename "$(readlink "$dev/iommu_group" 2>/dev/null || echo noiommu)"))"
		else
			note "$addr bound to igb_uio$( ((wc == 1)) && echo ' (wc_activate=1)')"
		fi
		note "EAL: -a $addr; give it back with: $PROG unbind $addr"
	fi
	((ERRORS == 0)) || exit 1
}

# The kernel driver to give a device back to.
kernel_driver_for() {
	local addr=$1 rec alias
	rec=$(state_file "driver-$addr")
	if [[ -f $rec ]]; then
		cat "$rec"
		return 0
	fi
	if is_ena "$addr"; then
		echo ena
		return 0
	fi
	if command -v modprobe >/dev/null 2>&1; then
		alias=$(cat "$PCI_DEVICES/$addr/modalias" 2>/dev/null || true)
		if [[ -n $alias ]]; then
			modprobe -R "$alias" 2>/dev/null | grep -v -x -e vfio_pci -e igb_uio | head -n 1 | tr _ - || true
		fi
	fi
}

cmd_unbind() {
	local addr="" driver="" cur dev POSITIONAL=""
	while (($# > 0)); do
		case "$1" in
		--driver | --driver=*)
			opt_value "$@"; driver=$OPT_VALUE; shift "$OPT_WORDS" ;;
		-*) usage_error "unbind: unknown option '$1'" ;;
		*) positional unbind "$1" "one PCI address at a time"; shift ;;
		esac
	done
	addr=$POSITIONAL
	[[ -n $addr ]] || usage_error "unbind: which device? (unbind PCI-ADDR; see: $PROG list)"
	addr=$(pci_addr "$addr")
	dev=$PCI_DEVICES/$addr
	cur=$(pci_driver "$addr")
	[[ -n $driver ]] || driver=$(kernel_driver_for "$addr")
	[[ -n $driver ]] || die "cannot tell which kernel driver $addr belongs to; pass --driver NAME (e.g. ena, ixgbe, i40e, mlx5_core)"
	if [[ $cur == "$driver" ]]; then
		note "$addr is already bound to $driver, nothing to do"
		return 0
	fi
	need_root "unbinding a device"
	[[ -d /sys/bus/pci/drivers/$driver ]] || load_module "$driver"
	if [[ -n $cur ]]; then
		put "$addr" "$dev/driver/unbind"
	fi
	put "$driver" "$dev/driver_override"
	put "$addr" /sys/bus/pci/drivers_probe
	put "" "$dev/driver_override"
	[[ -f $(state_file "driver-$addr") ]] && run rm -f "$(state_file "driver-$addr")"
	if ((DRY == 0)); then
		cur=$(pci_driver "$addr")
		[[ $cur == "$driver" ]] || die "$addr did not bind to $driver (now: ${cur:-no driver}); see dmesg"
		note "$addr back on $driver; interfaces: $(pci_ifaces "$addr" | tr '\n' ' ')(bring them up with: ip link set dev IF up)"
	fi
	((ERRORS == 0)) || exit 1
}

# -- main -------------------------------------------------------------------------
