#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Query, reserve and release hugepages per NUMA node and mount hugetlbfs for
# Spillway's DPDK backend (after DPDK's usertools/dpdk-hugepages.py). It only
# touches /sys hugepage counters and one hugetlbfs mount; NIC binding is
# described in the help text, never done here.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: hugepages-setup.sh [--pages N] [--size 2M|1G] [--mount DIR] [--show] [--clear]

  --pages N     reserve N hugepages on EVERY NUMA node (then mount hugetlbfs)
  --size S      page size: 2M (default) or 1G
  --mount DIR   hugetlbfs mount point (default /mnt/huge); "none" skips mounting
  --show        print hugepages per node and the hugetlbfs mounts (default action;
                works without root)
  --clear       unmount DIR if it is a hugetlbfs mount, and set the page count to 0
                on every node (for --size S only when given, else for every size)
  -h, --help    this text

Changes need root. 1G pages usually have to be reserved at boot instead
(kernel command line: default_hugepagesz=1G hugepagesz=1G hugepages=N).

Examples:
  sudo ./hugepages-setup.sh --pages 1024            # 2 GiB of 2M pages per node
  sudo ./hugepages-setup.sh --pages 2 --size 1G --mount /mnt/huge-1G
  ./hugepages-setup.sh --show
  sudo ./hugepages-setup.sh --clear

Binding a NIC to DPDK (bare metal):
  sudo modprobe vfio-pci
  dpdk-devbind.py --status                          # find the PCI address
  sudo ip link set dev eth1 down                    # never the NIC you log in on
  sudo dpdk-devbind.py --bind=vfio-pci 0000:03:00.0
  vfio-pci needs the IOMMU on (intel_iommu=on or amd_iommu=on, plus iommu=pt).

Amazon EC2 (ENA NICs): attach a second ENI for DPDK and keep the primary one
for SSH. DPDK's ENA guide asks for write combining on the device's memory BAR,
or performance drops sharply:
  - with an IOMMU (metal instances, or intel_iommu=on): vfio-pci as above,
    using a kernel/vfio-pci build with write-combining support (DPDK ships
    patches and a script for it in the amzn-drivers repository);
  - without an IOMMU (most virtualized instances): either igb_uio loaded with
    write combining on
      sudo modprobe uio && sudo insmod igb_uio.ko wc_activate=1
      sudo dpdk-devbind.py --bind=igb_uio 0000:00:06.0
    or vfio-pci in no-IOMMU mode:
      sudo modprobe vfio enable_unsafe_noiommu_mode=1 && sudo modprobe vfio-pci
      sudo dpdk-devbind.py --bind=vfio-pci 0000:00:06.0
  ENA needs DPDK's net_ena PMD and gives one queue pair per vCPU up to the
  instance's limit.

Spillway's EAL arguments go in server.properties (or --override), e.g.
  spillway.backend=dpdk
  spillway.dpdk.eal.args=-l 1-2 --file-prefix spillway --in-memory
  spillway.dataplane.cores=2
-l lists the lcores (one per dataplane core), --file-prefix keeps this
process's hugepage files apart from other DPDK processes, and --in-memory
runs without files in the hugetlbfs mount (then no mount is needed at all).
Add -a 0000:03:00.0 to use only that NIC.
EOF
}

die() {
	echo "hugepages-setup.sh: $*" >&2
	exit 1
}

# Page size argument -> size in kB as the kernel names its directories.
size_kb() {
	case "$1" in
	2M | 2m | 2048k | 2048kB) echo 2048 ;;
	1G | 1g | 1024M | 1048576kB) echo 1048576 ;;
	*) die "--size: invalid value '$1' (expected 2M or 1G)" ;;
	esac
}

# Hugepage directories, one per NUMA node, for one size; falls back to the
# global counter on kernels without NUMA.
page_dirs() {
	local kb=$1 found=0 d
	for d in /sys/devices/system/node/node*/hugepages/hugepages-"${kb}"kB; do
		if [[ -d $d ]]; then
			echo "$d"
			found=1
		fi
	done
	if ((found == 0)) && [[ -d /sys/kernel/mm/hugepages/hugepages-${kb}kB ]]; then
		echo "/sys/kernel/mm/hugepages/hugepages-${kb}kB"
	fi
}

node_of() {
	local d=$1
	if [[ $d =~ /node([0-9]+)/ ]]; then
		echo "node${BASH_REMATCH[1]}"
	else
		echo "all"
	fi
}

human_kb() {
	local kb=$1
	if ((kb >= 1048576)); then
		echo "$((kb / 1048576))G"
	else
		echo "$((kb / 1024))M"
	fi
}

show() {
	local d kb total free any=0 sizes
	sizes=$(find /sys/kernel/mm/hugepages -maxdepth 1 -name 'hugepages-*kB' 2>/dev/null |
		sed 's/.*hugepages-\([0-9]*\)kB/\1/' | sort -n)
	printf '%-8s %-6s %10s %10s %12s\n' NODE SIZE TOTAL FREE RESERVED
	for kb in $sizes; do
		while read -r d; do
			[[ -n $d ]] || continue
			total=$(cat "$d/nr_hugepages")
			free=$(cat "$d/free_hugepages")
			printf '%-8s %-6s %10s %10s %12s\n' "$(node_of "$d")" "$(human_kb "$kb")" \
				"$total" "$free" "$(human_kb $((total * kb)))"
			any=1
		done < <(page_dirs "$kb")
	done
	((any == 1)) || echo "(no hugepage support in this kernel)"
	echo
	echo "hugetlbfs mounts:"
	if ! awk '$3 == "hugetlbfs" { print "  " $2 " (" $4 ")"; n++ } END { exit n == 0 }' \
		/proc/mounts; then
		echo "  (none)"
	fi
}

need_root() {
	((EUID == 0)) || die "$1 needs root (try: sudo $0 $ARGS)"
}

is_hugetlbfs() {
	awk -v m="$1" '$2 == m && $3 == "hugetlbfs" { found = 1 } END { exit !found }' /proc/mounts
}

reserve() {
	local pages=$1 kb=$2 mnt=$3 d got
	need_root "reserving hugepages"
	[[ -n $(page_dirs "$kb") ]] || die "no $(human_kb "$kb") hugepages in this kernel"
	while read -r d; do
		echo "$pages" >"$d/nr_hugepages" || die "cannot write $d/nr_hugepages"
		got=$(cat "$d/nr_hugepages")
		if ((got < pages)); then
			echo "warning: $(node_of "$d"): got $got of $pages $(human_kb "$kb") pages" \
				"(memory fragmented? reserve at boot instead)" >&2
		fi
	done < <(page_dirs "$kb")
	if [[ $mnt != none ]] && ! is_hugetlbfs "$mnt"; then
		mkdir -p "$mnt"
		mount -t hugetlbfs -o "pagesize=$(human_kb "$kb")" nodev "$mnt" ||
			die "cannot mount hugetlbfs on $mnt"
	fi
}

clear_pages() {
	local kb_list=$1 mnt=$2 kb d
	need_root "clearing hugepages"
	if [[ $mnt != none ]] && is_hugetlbfs "$mnt"; then
		umount "$mnt" || die "cannot unmount $mnt (still in use?)"
	fi
	for kb in $kb_list; do
		while read -r d; do
			[[ -n $d ]] || continue
			echo 0 >"$d/nr_hugepages" || die "cannot write $d/nr_hugepages"
		done < <(page_dirs "$kb")
	done
}

main() {
	local pages="" size="" mnt=/mnt/huge do_show=0 do_clear=0 kb
	ARGS="$*"
	while (($# > 0)); do
		case "$1" in
		--pages)
			[[ $# -ge 2 ]] || die "--pages needs a value"
			pages=$2
			shift 2
			;;
		--size)
			[[ $# -ge 2 ]] || die "--size needs a value"
			size=$2
			shift 2
			;;
		--mount)
			[[ $# -ge 2 ]] || die "--mount needs a value"
			mnt=$2
			shift 2
			;;
		--show) do_show=1; shift ;;
		--clear) do_clear=1; shift ;;
		-h | --help) usage; exit 0 ;;
		*) die "unknown argument '$1' (see --help)" ;;
		esac
	done
	if [[ -n $pages ]] && ! [[ $pages =~ ^[0-9]+$ ]]; then
		die "--pages: invalid value '$pages' (expected a count >= 0)"
	fi
	if [[ -n $pages ]] && ((do_clear == 1)); then
		die "--pages and --clear cannot be combined"
	fi
	kb=$(size_kb "${size:-2M}")
	if ((do_clear == 1)); then
		if [[ -n $size ]]; then
			clear_pages "$kb" "$mnt"
		else
			clear_pages "$(find /sys/kernel/mm/hugepages -maxdepth 1 \
				-name 'hugepages-*kB' | sed 's/.*hugepages-\([0-9]*\)kB/\1/')" "$mnt"
		fi
	fi
	if [[ -n $pages ]]; then
		reserve "$pages" "$kb" "$mnt"
	fi
	if ((do_show == 1)) || [[ -z $pages && $do_clear == 0 ]] || [[ -n $pages ]]; then
		show
	fi
}

main "$@"
