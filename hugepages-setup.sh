#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Host setup for Spillway's DPDK backend: reserve, show and release hugepages
# (global or per NUMA node, 2M or 1G, optionally with an own hugetlbfs mount),
# clean up hugepage files that DPDK processes leaked, and bind or unbind a NIC
# to vfio-pci or igb_uio (ENA write combining included). Every command that
# changes the system goes through run()/put(), so --dry-run prints exactly
# what would be done. What reserve and bind change is recorded under
# $SPILLWAY_HUGEPAGES_STATE_DIR (default /run/spillway-hugepages) so that
# release and unbind can put it back.
set -euo pipefail

PROG=hugepages-setup.sh
STATE_DIR=${SPILLWAY_HUGEPAGES_STATE_DIR:-/run/spillway-hugepages}
DRY=0
FORCE=0
ERRORS=0
KERNEL_PAGES=/sys/kernel/mm/hugepages
PCI_DEVICES=/sys/bus/pci/devices

usage() {
	cat <<'EOF'
Usage: hugepages-setup.sh [--dry-run] COMMAND [OPTIONS]

Hugepages and NIC binding for Spillway's DPDK backend (spillway.backend=dpdk).

Commands:
  reserve [N | --mb MB] [--pagesize 2M|1G] [--node ID|all] [--mount DIR]
      Make sure at least N pages (or MB MiB) of the page size (default 2M) are
      reserved: in the kernel's global pool (spread over the NUMA nodes), on
      node ID, or N on every node (all). Never shrinks: reserving what is
      already there does nothing, growing only adds. --mount mounts a
      hugetlbfs of that page size on DIR (for EAL --huge-dir; not needed with
      --in-memory). The previous count is recorded for release.
  status
      Pages total/free/surplus per size and node, hugetlbfs mounts, processes
      holding hugepages, DPDK hugepage files (<prefix>map_*) left in the mounts
      (in use or stale), and which driver each NIC is bound to. No root needed.
  release [--pagesize 2M|1G] [--mount DIR] [--all]
      Remove stale DPDK map files (only those no running process has mapped,
      open or locked), unmount the hugetlbfs mounts reserve made (or DIR), and
      set the page counts back to what reserve recorded. If someone else
      changed a count since, only the pages reserve added are taken back.
      Counts reserve did not record stay as they are, unless --all sets them
      to 0 (pages still in use then stay "surplus" until their process exits).
  bind PCI-ADDR [--driver vfio-pci|igb_uio] [--wc] [--noiommu] [--force]
      Load the module and bind the device to it (default vfio-pci). Refuses
      an interface that is up or has routes, above all one that carries the
      default route (the one you are logged in through), and a device that is
      not a network controller; --force takes the interface down and binds
      anyway.
        --wc        igb_uio with wc_activate=1: write combining for the ENA
                    LLQ (implied for ENA devices bound to igb_uio)
        --noiommu   no IOMMU: turn on vfio's enable_unsafe_noiommu_mode
  unbind PCI-ADDR [--driver NAME]
      Give the device back to its kernel driver (the one bind recorded, the
      one the kernel picks, e.g. ena, or NAME).
  list
      NICs and their drivers (dpdk-devbind.py --status when installed).

Global flags:
  --dry-run     print every command that would change the system; change nothing
  -h, --help    this text

Exit status: 0 ok, 1 error, 2 usage error. Changes need root.

Examples:
  sudo ./hugepages-setup.sh reserve 1024                  # 2 GiB of 2M pages
  sudo ./hugepages-setup.sh reserve --mb 4096 --node 0 --mount /mnt/huge
  sudo ./hugepages-setup.sh reserve 4 --pagesize 1G --mount /mnt/huge-1G
  ./hugepages-setup.sh status
  sudo ./hugepages-setup.sh release
  ./hugepages-setup.sh --dry-run bind 0000:00:06.0 --driver igb_uio --wc
  sudo ./hugepages-setup.sh unbind 0000:00:06.0

Notes:
  1G pages usually have to be reserved at boot (kernel command line:
  default_hugepagesz=1G hugepagesz=1G hugepages=N); 2M pages reserved late
  may come short when memory is fragmented.
  Give every DPDK process its own EAL --file-prefix: at start-up EAL deletes
  every unlocked <prefix>map_* file of its prefix. --in-memory (or
  --huge-unlink) leaves no files behind at all.
  vfio-pci needs an IOMMU (intel_iommu=on or amd_iommu=on, iommu=pt) or,
  without one (most EC2 instances that are not metal), no-IOMMU mode, which
  gives the device DMA access to all memory; --noiommu turns it on.
  igb_uio is not in the mainline kernel: Debian ships it in the package
  dpdk-kmods-dkms (apt-get install dpdk-kmods-dkms linux-headers-$(uname -r)).
  EC2/ENA: bind a second ENI, never the primary one. ENA's LLQ needs write
  combining: igb_uio with wc_activate=1 (bind --driver igb_uio --wc), or
  AWS's WC-patched vfio-pci (amzn-drivers/userspace/dpdk/enav2-vfio-patch);
  Debian's vfio-pci has no write combining. See README.md, "Running on bare
  metal and EC2 (ENA)".
EOF
}

# -- messages and the two ways of changing the system --------------------------

die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

usage_error() {
	echo "$PROG: $*" >&2
	echo "Try '$PROG --help'." >&2
	exit 2
}

warn() {
	echo "$PROG: warning: $*" >&2
}

note() {
	echo "$PROG: $*"
}

# An error that --dry-run only reports: the run would fail here, but the plan
# is still worth printing.
fail_or_warn() {
	if ((DRY == 1)); then
		warn "$* (a real run would stop here)"
		ERRORS=$((ERRORS + 1))
	else
		die "$@"
	fi
}

# Run a command that changes the system, or print it under --dry-run.
run() {
	if ((DRY == 1)); then
		printf '+'
		printf ' %q' "$@"
		printf '\n'
		return 0
	fi
	"$@"
}

# Write VALUE to FILE (sysfs, procfs, state files), or print it.
put() {
	local value=$1 file=$2
	if ((DRY == 1)); then
		printf '+ echo %q > %q\n' "$value" "$file"
		return 0
	fi
	printf '%s\n' "$value" >"$file" 2>/dev/null || die "cannot write '$value' to $file"
}

need_root() {
	((DRY == 1)) && return 0
	((EUID == 0)) || die "$1 needs root (try: sudo $0 ${ARGV[*]})"
}

need_value() {
	[[ $2 -ge 2 ]] || usage_error "$1 needs a value"
}

# opt_value "$@": the value of the option in $1, given as "--opt VALUE" or
# "--opt=VALUE", in OPT_VALUE, and how many words it took in OPT_WORDS (for
# the caller's shift). Every command's option loop reads its values with it.
opt_value() {
	if [[ $1 == *=* ]]; then
		OPT_VALUE=${1#*=}
		OPT_WORDS=1
	else
		need_value "$1" $#
		OPT_VALUE=$2
		OPT_WORDS=2
	fi
}

# positional CMD WORD TOO_MANY: a command's one positional argument, into
# POSITIONAL (which the command declares local and empty); a second one is a
# usage error "CMD: TOO_MANY".
positional() {
	[[ -z $POSITIONAL ]] || usage_error "$1: $3"
	POSITIONAL=$2
}

# -- hugepages ------------------------------------------------------------------

need_hugetlbfs() {
	if ! grep -qw hugetlbfs /proc/filesystems || [[ ! -d $KERNEL_PAGES ]]; then
		die "this kernel has no hugetlbfs support (CONFIG_HUGETLBFS); DPDK can then only run with EAL --no-huge (vdevs only)"
	fi
}

# Page size argument -> size in kB as the kernel names its directories.
size_kb() {
	case "${1,,}" in
	2m | 2mb | 2048k | 2048kb) echo 2048 ;;
	1g | 1gb | 1024m | 1048576k | 1048576kb) echo 1048576 ;;
	*) usage_error "--pagesize: '$1' is not a page size (expected 2M or 1G)" ;;
	esac
}

human_kb() {
	local kb=$1
	if ((kb == 0)); then
		echo 0
	elif ((kb >= 1048576 && kb % 1048576 == 0)); then
		echo "$((kb / 1048576))G"
	elif ((kb >= 1024)); then
		echo "$((kb / 1024))M"
	else
		echo "${kb}k"
	fi
}

# Page sizes this kernel offers, in kB, ascending.
kernel_sizes() {
	local d
	for d in "$KERNEL_PAGES"/hugepages-*kB; do
		[[ -d $d ]] || continue
		d=${d##*/hugepages-}
		echo "${d%kB}"
	done | sort -n
}

nodes() {
	local d
	for d in /sys/devices/system/node/node[0-9]*; do
		[[ -d $d ]] && echo "${d##*/node}"
	done
}

# Counter directory of a target: "global" or a node number.
pool_dir() {
	local kb=$1 target=$2
	if [[ $target == global ]]; then
		echo "$KERNEL_PAGES/hugepages-${kb}kB"
	else
		echo "/sys/devices/system/node/node$target/hugepages/hugepages-${kb}kB"
	fi
}

read_num() {
	local v=0
	[[ -r $1 ]] && v=$(<"$1")
	echo "${v:-0}"
}

is_hugetlbfs() {
	awk -v m="$1" '$2 == m && $3 == "hugetlbfs" { found = 1 } END { exit !found }' /proc/mounts
}

# Mount points of every hugetlbfs, one per line (octal escapes left as is).
hugetlbfs_mounts() {
	awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts
}

mount_pagesize() {
	awk -v m="$1" '$2 == m && $3 == "hugetlbfs" {
		n = split($4, o, ",")
		for (i = 1; i <= n; i++) if (o[i] ~ /^pagesize=/) { sub(/^pagesize=/, "", o[i]); print o[i] }
	}' /proc/mounts | tail -n 1
}

# True when some process has FILE open or mapped, or holds a lock on it
# (DPDK's EAL keeps a shared flock on every hugepage file it uses).
file_in_use() {
	local f=$1
	if command -v fuser >/dev/null 2>&1 && fuser -s "$f" 2>/dev/null; then
		return 0
	fi
	if grep -qsF -- " $f" /proc/[0-9]*/maps 2>/dev/null; then
		return 0
	fi
	if command -v flock >/dev/null 2>&1 && ! flock -n -x "$f" true 2>/dev/null; then
		return 0
	fi
	return 1
}

# DPDK hugepage files in hugetlbfs mounts: "path<TAB>bytes<TAB>in-use|stale".
map_files() {
	local m f size state
	while read -r m; do
		[[ -d $m ]] || continue
		while IFS= read -r -d '' f; do
			size=$(stat -c %s "$f" 2>/dev/null || echo 0)
			state=stale
			file_in_use "$f" && state=in-use
			printf '%s\t%s\t%s\n' "$f" "$size" "$state"
		done < <(find "$m" -maxdepth 1 -type f -name '*map_*' -print0 2>/dev/null)
	done < <(hugetlbfs_mounts)
}

state_file() {
	echo "$STATE_DIR/$1"
}

record() {
	local name=$1 value=$2
	run mkdir -p "$STATE_DIR"
	put "$value" "$(state_file "$name")"
}

reserve_target() {
	local kb=$1 target=$2 want=$3 dir cur got rec
	dir=$(pool_dir "$kb" "$target")
	[[ -d $dir ]] || die "no $(human_kb "$kb") hugepage pool at $dir"
	cur=$(read_num "$dir/nr_hugepages")
	if ((cur >= want)); then
		note "$target $(human_kb "$kb"): $cur pages reserved (>= $want), nothing to do"
		return 0
	fi
	rec="pages-${kb}kB-$target"
	# Keep the count from before the first reserve; note what we set now.
	if [[ ! -f $(state_file "$rec") ]]; then
		record "$rec" "$cur $want"
	else
		record "$rec" "$(cut -d' ' -f1 "$(state_file "$rec")") $want"
	fi
	put "$want" "$dir/nr_hugepages"
	((DRY == 1)) && return 0
	got=$(read_num "$dir/nr_hugepages")
	if ((got < want)); then
		record "$rec" "$(cut -d' ' -f1 "$(state_file "$rec")") $got"
		if ((kb == 1048576)); then
			die "$target: got $got of $want 1G pages; 1G pages usually need reserving at boot (default_hugepagesz=1G hugepagesz=1G hugepages=$want)"
		fi
		die "$target: got $got of $want $(human_kb "$kb") pages (not enough free memory, or fragmented: reserve earlier or at boot with hugepages=$want)"
	fi
	note "$target $(human_kb "$kb"): $cur -> $got pages ($(human_kb $((got * kb))))"
}

cmd_reserve() {
	local count="" mb="" size=2M node="" mnt="" kb n POSITIONAL=""
	while (($# > 0)); do
		case "$1" in
		--mb | --mb=*)
			opt_value "$@"; mb=$OPT_VALUE; shift "$OPT_WORDS" ;;
		--pagesize | --pagesize=* | --size | --size=*)
			opt_value "$@"; size=$OPT_VALUE; shift "$OPT_WORDS" ;;
		--node | --node=*)
			opt_value "$@"; node=$OPT_VALUE; shift "$OPT_WORDS" ;;
		--mount | --mount=*)
			opt_value "$@"; mnt=$OPT_VALUE; shift "$OPT_WORDS" ;;
		-*) usage_error "reserve: unknown option '$1'" ;;
		*)
			positional reserve "$1" "more than one page count ('$POSITIONAL', '$1')"
			shift ;;
		esac
	done
	count=$POSITIONAL
	kb=$(size_kb "$size")
	if [[ -n $count && -n $mb ]]; then
		usage_error "reserve: give a page count or --mb, not both"
	fi
	if [[ -z $count && -z $mb && -z $mnt ]]; then
		usage_error "reserve: how many? (reserve N, or reserve --mb MB)"
	fi
	[[ -z $count || $count =~ ^[0-9]+$ ]] || usage_error "reserve: '$count' is not a page count"
	[[ -z $mb || $mb =~ ^[0-9]+$ ]] || usage_error "--mb: '$mb' is not a number of MiB"
	[[ -z $node || $node == all || $node =~ ^[0-9]+$ ]] ||
		usage_error "--node: '$node' is not a node number or 'all'"
	[[ -z $mnt || $mnt == /* ]] || usage_error "--mount: '$mnt' is not an absolute path"
	if [[ -n $mb ]]; then
		count=$(((mb * 1024 + kb - 1) / kb))
	fi
	need_hugetlbfs
	[[ -d $KERNEL_PAGES/hugepages-${kb}kB ]] ||
		die "this kernel/CPU offers no $(human_kb "$kb") hugepages (sizes here: $(kernel_sizes | while read -r s; do printf '%s ' "$(human_kb "$s")"; done))"
	need_root "reserving hugepages"
	if [[ -n $count ]]; then
		if [[ -z $node ]]; then
			reserve_target "$kb" global "$count"
		elif [[ $node == all ]]; then
			for n in $(nodes); do
				reserve_target "$kb" "$n" "$count"
			done
		else
			[[ -d /sys/devices/system/node/node$node ]] ||
				die "--node: no NUMA node $node (nodes here: $(nodes | tr '\n' ' '))"
			reserve_target "$kb" "$node" "$count"
		fi
	fi
	if [[ -n $mnt ]]; then
		mount_hugetlbfs "$mnt" "$kb"
	fi
	((ERRORS == 0)) || exit 1
}

mount_hugetlbfs() {
	local mnt=$1 kb=$2 have
	if is_hugetlbfs "$mnt"; then
		have=$(mount_pagesize "$mnt")
		if [[ -n $have && $(size_kb "$have") != "$kb" ]]; then
			die "$mnt is already a hugetlbfs mount of page size $have, not $(human_kb "$kb")"
		fi
		note "$mnt: hugetlbfs already mounted, nothing to do"
		return 0
	fi
	if mountpoint -q "$mnt" 2>/dev/null; then
		die "$mnt is already a mount point of another file system"
	fi
	if [[ -d $mnt ]]; then
		record "mount-$(echo "$mnt" | tr / _)" "$mnt existing"
	else
		record "mount-$(echo "$mnt" | tr / _)" "$mnt created"
		run mkdir -p "$mnt"
	fi
	run mount -t hugetlbfs -o "pagesize=$(human_kb "$kb")" nodev "$mnt" ||
		die "cannot mount hugetlbfs on $mnt"
	note "$mnt: hugetlbfs mounted (pagesize $(human_kb "$kb")); EAL: --huge-dir $mnt"
}

cmd_status() {
	(($# == 0)) || usage_error "status: unexpected argument '$1'"
	need_hugetlbfs
	local kb dir n total free surp resv line any=0 rec
	echo "Hugepages:"
	printf '  %-7s %-5s %8s %8s %8s %8s %10s\n' POOL SIZE TOTAL FREE SURPLUS RESV MEMORY
	for kb in $(kernel_sizes); do
		dir=$(pool_dir "$kb" global)
		total=$(read_num "$dir/nr_hugepages")
		free=$(read_num "$dir/free_hugepages")
		surp=$(read_num "$dir/surplus_hugepages")
		resv=$(read_num "$dir/resv_hugepages")
		printf '  %-7s %-5s %8s %8s %8s %8s %10s\n' global "$(human_kb "$kb")" "$total" "$free" \
			"$surp" "$resv" "$(human_kb $(((total + surp) * kb)))"
		for n in $(nodes); do
			dir=$(pool_dir "$kb" "$n")
			[[ -d $dir ]] || continue
			total=$(read_num "$dir/nr_hugepages")
			free=$(read_num "$dir/free_hugepages")
			surp=$(read_num "$dir/surplus_hugepages")
			printf '  %-7s %-5s %8s %8s %8s %8s %10s\n' "node$n" "$(human_kb "$kb")" "$total" "$free" \
				"$surp" - "$(human_kb $(((total + surp) * kb)))"
		done
	done
	for rec in "$STATE_DIR"/pages-*; do
		[[ -f $rec ]] || continue
		read -r n total <"$rec"
		line=${rec##*/pages-}
		echo "  recorded by reserve: ${line%%-*} ${line#*-}: was $n, set to $total"
	done

	echo "hugetlbfs mounts:"
	while read -r line; do
		[[ -n $line ]] || continue
		echo "  $line (pagesize $(mount_pagesize "$line"))"
		any=1
	done < <(hugetlbfs_mounts)
	((any == 1)) || echo "  (none; fine for EAL --in-memory, else: reserve --mount DIR)"

	echo "Processes holding hugepages:"
	any=0
	while read -r line; do
		[[ -n $line ]] || continue
		echo "  $line"
		any=1
	done < <(hugepage_processes)
	((any == 1)) || echo "  (none)"

	echo "DPDK hugepage files in hugetlbfs mounts:"
	any=0
	local path bytes state stale=0
	while IFS=$'\t' read -r path bytes state; do
		[[ -n $path ]] || continue
		printf '  %-8s %8s  %s\n' "$state" "$(human_kb $((bytes / 1024)))" "$path"
		[[ $state == stale ]] && stale=$((stale + 1))
		any=1
	done < <(map_files)
	((any == 1)) || echo "  (none)"
	if ((stale > 0)); then
		echo "  $stale stale file(s) keep their pages allocated; 'release' removes them"
	fi

	echo "NICs:"
	nic_table
}

hugepage_processes() {
	local f pid kb
	for f in /proc/[0-9]*/status; do
		kb=$(awk '$1 == "HugetlbPages:" { print $2 }' "$f" 2>/dev/null || true)
		[[ -n $kb && $kb != 0 ]] || continue
		pid=${f#/proc/}
		pid=${pid%/status}
		printf '%s %s %s\n' "$pid" "$(awk '$1 == "Name:" { print $2 }' "$f" 2>/dev/null || true)" \
			"$(human_kb "$kb")"
	done
}

release_target() {
	local kb=$1 target=$2 rec=$3 dir cur orig was_set to in_use
	dir=$(pool_dir "$kb" "$target")
	[[ -d $dir ]] || return 0
	cur=$(read_num "$dir/nr_hugepages")
	orig=0
	was_set=""
	if [[ -n $rec && -f $rec ]]; then
		read -r orig was_set <"$rec"
	fi
	to=$orig
	# Someone else changed the count since our reserve: take back only what
	# we added.
	if [[ -n $was_set && $cur != "$was_set" ]]; then
		to=$((cur - (was_set - orig)))
		((to >= orig)) || to=$orig
		note "$target $(human_kb "$kb"): count changed since reserve ($was_set -> $cur); taking back only the $((was_set - orig)) pages reserve added"
	fi
	in_use=$(($(read_num "$dir/nr_hugepages") - $(read_num "$dir/free_hugepages")))
	if ((cur == to)); then
		note "$target $(human_kb "$kb"): $cur pages, nothing to do"
	else
		if ((in_use > to)); then
			warn "$target $(human_kb "$kb"): $in_use pages are in use; they stay allocated (as surplus) until their processes exit"
		fi
		put "$to" "$dir/nr_hugepages"
		note "$target $(human_kb "$kb"): $cur -> $to pages"
	fi
	if [[ -n $rec && -f $rec ]]; then
		run rm -f "$rec"
	fi
}

# True when a file in hugetlbfs mount DIR is still in use.
mount_busy() {
	local f
	while IFS= read -r -d '' f; do
		file_in_use "$f" && return 0
	done < <(find "$1" -maxdepth 1 -type f -print0 2>/dev/null)
	return 1
}

cmd_release() {
	local size="" mnt="" all=0 kb rec target m path bytes state kept=0
	while (($# > 0)); do
		case "$1" in
		--all) all=1; shift ;;
		--pagesize | --pagesize=* | --size | --size=*)
			opt_value "$@"; size=$OPT_VALUE; shift "$OPT_WORDS" ;;
		--mount | --mount=*)
			opt_value "$@"; mnt=$OPT_VALUE; shift "$OPT_WORDS" ;;
		*) usage_error "release: unexpected argument '$1'" ;;
		esac
	done
	[[ -z $mnt || $mnt == /* ]] || usage_error "--mount: '$mnt' is not an absolute path"
	[[ -z $size ]] || kb=$(size_kb "$size")
	need_hugetlbfs
	need_root "releasing hugepages"

	# 1. Stale DPDK files first: they hold pages that no count change frees.
	while IFS=$'\t' read -r path bytes state; do
		[[ -n $path ]] || continue
		if [[ $state == in-use ]]; then
			note "keeping $path (in use by a running process)"
			kept=$((kept + 1))
		else
			run rm -f -- "$path"
		fi
	done < <(map_files)

	# 2. Our mounts (or the one named).
	local mounts=()
	if [[ -n $mnt ]]; then
		mounts=("$mnt")
	else
		for rec in "$STATE_DIR"/mount-*; do
			[[ -f $rec ]] || continue
			read -r m _ <"$rec"
			mounts+=("$m")
		done
	fi
	for m in "${mounts[@]}"; do
		rec=$(state_file "mount-$(echo "$m" | tr / _)")
		if ! is_hugetlbfs "$m"; then
			[[ -n $mnt ]] && note "$m: not a hugetlbfs mount, nothing to unmount"
			[[ -f $rec ]] && run rm -f "$rec"
			continue
		fi
		if mount_busy "$m"; then
			warn "$m: files in it are still in use by a running DPDK process; not unmounting"
			ERRORS=$((ERRORS + 1))
			continue
		fi
		run umount "$m" || die "cannot unmount $m"
		if [[ -f $rec ]] && grep -q ' created$' "$rec"; then
			run rmdir "$m" || warn "could not remove directory $m"
		fi
		[[ -f $rec ]] && run rm -f "$rec"
	done

	# 3. Page counts: recorded ones back to their old value, others to 0.
	local sizes
	if [[ -n $size ]]; then
		sizes=$kb
	else
		sizes=$(kernel_sizes)
	fi
	for kb in $sizes; do
		local any=0
		for rec in "$STATE_DIR"/pages-"${kb}"kB-*; do
			[[ -f $rec ]] || continue
			target=${rec##*kB-}
			release_target "$kb" "$target" "$rec"
			any=1
		done
		if ((any == 0)); then
			if ((all == 1)); then
				release_target "$kb" global ""
			else
				note "global $(human_kb "$kb"): nothing recorded by reserve, leaving $(read_num "$(pool_dir "$kb" global)/nr_hugepages") pages (--all sets them to 0)"
			fi
		fi
	done
	if ((kept > 0)); then
		warn "$kept hugepage file(s) in use were kept; their pages return when the process exits"
	fi
	if ((DRY == 0)) && [[ -d $STATE_DIR ]]; then
		rmdir "$STATE_DIR" 2>/dev/null || true
	fi
	((ERRORS == 0)) || exit 1
}

# -- NICs: list, bind, unbind (scripts/hugepages-nic.sh) ---------------------

# shellcheck source=scripts/hugepages-nic.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/scripts/hugepages-nic.sh"

main() {
	local args=() a cmd
	ARGV=("$@")
	for a in "$@"; do
		case "$a" in
		--dry-run) DRY=1 ;;
		-h | --help) usage; exit 0 ;;
		*) args+=("$a") ;;
		esac
	done
	((${#args[@]} > 0)) || {
		usage >&2
		exit 2
	}
	cmd=${args[0]}
	args=("${args[@]:1}")
	case "$cmd" in
	reserve) cmd_reserve "${args[@]}" ;;
	status) cmd_status "${args[@]}" ;;
	release) cmd_release "${args[@]}" ;;
	bind) cmd_bind "${args[@]}" ;;
	unbind) cmd_unbind "${args[@]}" ;;
	list) cmd_list "${args[@]}" ;;
	--pages | --show | --clear | --size | --mount)
		usage_error "'$cmd' is gone: use the commands reserve, status and release" ;;
	*) usage_error "unknown command '$cmd'" ;;
	esac
}

main "$@"
