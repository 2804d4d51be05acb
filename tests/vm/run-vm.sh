#!/usr/bin/env bash
# tests/vm/run-vm.sh — run a command as root inside a throwaway QEMU VM.
#
# The VM boots Debian 12's 6.1 kernel under software emulation; its root file
# system is this host's own, read-only over 9p with a tmpfs overlay on top,
# so the guest has every tool the host has and may write anywhere (the writes
# are lost at exit). The repository and every --share DIR are read-write at
# the same path. Three machines: pure cgroup v2 without systemd (v2), systemd
# as PID 1 on pure cgroup v2 (systemd), systemd on the hybrid hierarchy
# (systemd-legacy). See tests/vm/README.md and --help.
set -euo pipefail
# The whole script is one block: bash parses it all before running any of it,
# so a run in progress is not derailed when the file is edited under it.
{

PROG=${0##*/}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

MODE=${OCIRUN_VM_MODE:-v2}
TIMEOUT=${OCIRUN_VM_TIMEOUT:-1200}
MEM=${OCIRUN_VM_MEM:-4G}
CPUS=${OCIRUN_VM_CPUS:-2}
DEBUG=${OCIRUN_VM_DEBUG:-}
CACHE=${OCIRUN_VM_CACHE:-/var/cache/ocirun-vm}
KERNEL_PKG=${OCIRUN_VM_KERNEL_PKG:-}
SHARES=()

GUEST_HOSTNAME=ocirun-vm
GUEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# What the initramfs loads to reach the root file system (their dependencies
# come from modules.dep); everything else is loaded on demand in the guest.
INITRD_MODULES="virtio_pci 9pnet_virtio 9p overlay"

usage() {
	cat <<EOF
usage: $PROG [OPTIONS] [--] CMD [ARGS...]

Boots a throwaway QEMU VM (software emulation, Debian 12's 6.1 kernel), runs
CMD as root in it and powers it off. The guest sees this host's files
read-only with a tmpfs overlay (it may write anywhere; the writes are lost),
and the repository ($REPO) plus every --share DIR
read-write at the same path. /tmp, /var/tmp are fresh tmpfs in the guest.
CMD runs in the current directory when that lies in a shared directory,
else in the repository, with stdin /dev/null and PATH, HOME=/root set; its
stdout and stderr both arrive on this script's stdout.

Options (environment defaults in brackets):
  --mode MODE       [OCIRUN_VM_MODE, v2]
                      v2              no systemd; cgroup2 only, every controller
                                      enabled in the root, CMD in /ocirun-vm
                      systemd         systemd PID 1 on pure cgroup v2, D-Bus and
                                      logind running; CMD in a service with
                                      Delegate=yes (boot: minutes)
                      systemd-legacy  the same on the legacy/hybrid hierarchy
  --share DIR       also share DIR read-write at the same path (repeatable)
  --timeout SECS    [OCIRUN_VM_TIMEOUT, 1200] for the whole run, boot included;
                    0: no limit
  --mem SIZE        [OCIRUN_VM_MEM, 4G] guest memory (QEMU syntax: 512M, 4G)
  --cpus N          [OCIRUN_VM_CPUS, 2] guest CPUs
  -h, --help        this text
Environment: OCIRUN_VM_DEBUG=1 shows the whole console (kernel, systemd);
OCIRUN_VM_CACHE [/var/cache/ocirun-vm] holds the extracted kernel;
OCIRUN_VM_KERNEL_PKG picks the kernel package (default: the newest
linux-image-6.1.0-*-amd64-unsigned apt knows).

Exit status:
  CMD's own status (0-255) when CMD ran to its end;
  124  the timeout expired (during boot or while CMD ran);
  125  $PROG or the VM failed: bad usage, missing tools or kernel, the VM
       did not boot or stopped before CMD finished (the end of the console
       log is printed on stderr);
  130/143  $PROG was interrupted (SIGINT/SIGTERM); the VM is stopped.
CMD's own 124 and 125 cannot be told apart from these.
EOF
}

die() {
	echo "$PROG: $*" >&2
	exit 125
}

need_value() {
	[ $# -ge 2 ] && [ -n "$2" ] || die "option $1 needs a value (see --help)"
}

while [ $# -gt 0 ]; do
	case $1 in
	--mode) need_value "$@"; MODE=$2; shift 2 ;;
	--mode=*) MODE=${1#*=}; shift ;;
	--share) need_value "$@"; SHARES+=("$2"); shift 2 ;;
	--share=*) SHARES+=("${1#*=}"); shift ;;
	--timeout) need_value "$@"; TIMEOUT=$2; shift 2 ;;
	--timeout=*) TIMEOUT=${1#*=}; shift ;;
	--mem) need_value "$@"; MEM=$2; shift 2 ;;
	--mem=*) MEM=${1#*=}; shift ;;
	--cpus) need_value "$@"; CPUS=$2; shift 2 ;;
	--cpus=*) CPUS=${1#*=}; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || die "no command given (see --help)"

case $MODE in
v2 | systemd | systemd-legacy) ;;
*) die "--mode must be v2, systemd or systemd-legacy, not '$MODE'" ;;
esac
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout must be a number of seconds, not '$TIMEOUT'"
[[ $CPUS =~ ^[1-9][0-9]*$ ]] || die "--cpus must be a positive number, not '$CPUS'"
[[ $MEM =~ ^[1-9][0-9]*[MGT]?$ ]] || die "--mem must look like 512M or 4G, not '$MEM'"
[ "$(id -u)" = 0 ] || die "must run as root (QEMU shares / with the guest as root)"

# ---- the shared directories: the repository and every --share, parents first
check_share() { # check_share DIR: sets SHARE to its real path
	SHARE=$(realpath -e -- "$1" 2>/dev/null) && [ -d "$SHARE" ] || die "--share $1: no such directory"
	case $SHARE in
	*$'\n'*) die "--share $1: the path holds a newline" ;;
	/) die "--share /: the root is always visible (read-only); share a directory" ;;
	/proc | /proc/* | /sys | /sys/* | /dev | /dev/* | /run | /run/*)
		die "--share $SHARE: the guest mounts its own /proc, /sys, /dev and /run" ;;
	esac
}
check_share "$REPO"
SHARE_LIST=("$SHARE")
for s in "${SHARES[@]}"; do
	check_share "$s"
	SHARE_LIST+=("$SHARE")
done
mapfile -t SHARE_LIST < <(printf '%s\n' "${SHARE_LIST[@]}" | LC_ALL=C sort -u)

# CMD's working directory: where we are, when the guest sees it read-write.
WORKDIR=$REPO
here=$(pwd -P)
for d in "${SHARE_LIST[@]}"; do
	case $here/ in "$d"/*) WORKDIR=$here ;; esac
done

# ---- host tools, installed with apt when missing
APT_OPTS=(-y -qq -o DPkg::Lock::Timeout=600)
apt_updated=
apt_install() {
	local out
	echo "$PROG: installing $*" >&2
	if ! out=$(DEBIAN_FRONTEND=noninteractive apt-get install "${APT_OPTS[@]}" "$@" 2>&1); then
		if [ -z "$apt_updated" ]; then
			apt-get update -qq >/dev/null 2>&1 && apt_updated=1
			out=$(DEBIAN_FRONTEND=noninteractive apt-get install "${APT_OPTS[@]}" "$@" 2>&1) && return 0
		fi
		printf '%s\n' "$out" >&2
		return 1
	fi
}
ensure() { # ensure PROGRAM PACKAGE
	command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || apt_install "$2" || die "cannot install $2"
}
export PATH=$PATH:/usr/sbin:/sbin
ensure qemu-system-x86_64 qemu-system-x86
ensure cpio cpio
ensure depmod kmod
ensure xz xz-utils
# the initramfs needs a static busybox (the busybox package's is dynamic)
if ! [ -x /bin/busybox ] || [[ $(LC_ALL=C ldd /bin/busybox 2>&1) != *"not a dynamic"* ]]; then
	apt_install busybox-static || die "cannot install busybox-static"
fi

# ---- the kernel: extracted (never installed) into $CACHE/<package>
newest_kernel_pkg() {
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' 2>/dev/null |
		awk '{print $1}' | sort -V | tail -n 1
}
mkdir -p "$CACHE" || die "cannot create $CACHE"
if [ -z "$KERNEL_PKG" ]; then
	KERNEL_PKG=$(newest_kernel_pkg)
	if [ -z "$KERNEL_PKG" ] && [ -z "$apt_updated" ]; then
		apt-get update -qq >/dev/null 2>&1 && apt_updated=1
		KERNEL_PKG=$(newest_kernel_pkg)
	fi
	if [ -z "$KERNEL_PKG" ]; then # apt knows none: whatever the cache has
		KERNEL_PKG=$(cd "$CACHE" && ls -d linux-image-*/.complete 2>/dev/null | sed 's,/.*,,' | sort -V | tail -n 1)
	fi
	[ -n "$KERNEL_PKG" ] || die "apt knows no linux-image-6.1.0-*-amd64-unsigned package"
fi
[[ $KERNEL_PKG =~ ^[A-Za-z0-9.+-]+$ ]] || die "bad kernel package name '$KERNEL_PKG'"
KDIR=$CACHE/$KERNEL_PKG

extract_kernel() { # runs under the cache's lock
	local tmp deb kver
	tmp=$(mktemp -d "$CACHE/.extract.XXXXXX") || return 1
	if ! (cd "$tmp" && apt-get download -qq "$KERNEL_PKG" >/dev/null 2>&1); then
		[ -n "$apt_updated" ] || { apt-get update -qq >/dev/null 2>&1 && apt_updated=1; }
		(cd "$tmp" && apt-get download -qq "$KERNEL_PKG" >/dev/null) || {
			rm -rf "$tmp"
			return 1
		}
	fi
	echo "$PROG: extracting $KERNEL_PKG into $KDIR" >&2
	deb=$(ls "$tmp"/*.deb) &&
		dpkg-deb -x "$deb" "$tmp/x" &&
		rm -f "$deb" &&
		kver=$(ls "$tmp/x/lib/modules") &&
		[ -n "$kver" ] && [ -d "$tmp/x/lib/modules/$kver/kernel" ] &&
		mkdir -p "$tmp/k/lib" &&
		mv "$tmp/x/boot/vmlinuz-$kver" "$tmp/k/vmlinuz" &&
		mv "$tmp/x/lib/modules" "$tmp/k/lib/modules" &&
		depmod -b "$tmp/k" "$kver" &&
		echo "$kver" >"$tmp/k/kver" &&
		touch "$tmp/k/.complete" &&
		rm -rf "$KDIR" &&
		mv "$tmp/k" "$KDIR" ||
		{ rm -rf "$tmp"; return 1; }
	rm -rf "$tmp"
}

# make_vmlinux BZIMAGE OUT: the uncompressed ELF kernel inside the bzImage.
# QEMU boots it straight at its PVH entry point when it has one (the Xen ELF
# note of type 18): no real-mode setup, no decompression under emulation, ~3 s.
make_vmlinux() {
	local img=$1 out=$2 magic tool off
	for pair in '\xFD7zXZ\x00:xz' '\x1F\x8B\x08:gzip' '\x28\xB5\x2F\xFD:zstd'; do
		magic=${pair%%:*}
		tool=${pair#*:}
		command -v "$tool" >/dev/null || continue
		for off in $(LC_ALL=C grep -obUaP "$magic" "$img" | head -n 3 | cut -d: -f1); do
			tail -c +$((off + 1)) "$img" | "$tool" -dc >"$out" 2>/dev/null # trailing data: an error
			[ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = 177ELF ] &&
				LC_ALL=C grep -qUaP '\x04\x00\x00\x00[\x04\x08]\x00\x00\x00\x12\x00\x00\x00Xen\x00' "$out" &&
				return 0
		done
	done
	rm -f "$out"
	return 1
}

exec 8>"$CACHE/.lock"
flock 8
if [ ! -f "$KDIR/.complete" ]; then
	if ! extract_kernel; then
		exec 8>&-
		# offline? fall back on the newest kernel already in the cache
		fallback=$(cd "$CACHE" && ls -d linux-image-*/.complete 2>/dev/null | sed 's,/.*,,' | sort -V | tail -n 1)
		[ -n "$fallback" ] || die "cannot download or extract $KERNEL_PKG"
		echo "$PROG: cannot download $KERNEL_PKG, using the cached $fallback" >&2
		KERNEL_PKG=$fallback
		KDIR=$CACHE/$KERNEL_PKG
		exec 8>"$CACHE/.lock"
		flock 8
	fi
fi
if [ ! -e "$KDIR/vmlinux" ] && [ ! -e "$KDIR/.no-vmlinux" ]; then
	if make_vmlinux "$KDIR/vmlinuz" "$KDIR/vmlinux.tmp"; then
		mv "$KDIR/vmlinux.tmp" "$KDIR/vmlinux"
	else
		touch "$KDIR/.no-vmlinux"
	fi
fi
# Hold the kernel in use (shared lock, inherited by QEMU) and prune the
# kernels nobody holds: each is a few hundred MB of modules.
exec 9<"$KDIR/.complete"
flock -s 9
for old in "$CACHE"/linux-image-*; do
	[ "$old" != "$KDIR" ] && [ -d "$old" ] || continue
	if [ -f "$old/.complete" ]; then
		(flock -n -x 7 && rm -rf "$old") 7<"$old/.complete" || true
	else
		rm -rf "$old"
	fi
done
rm -rf "$CACHE"/.extract.* 2>/dev/null || true
exec 8>&- # the cache's lock: only for extracting and pruning
KVER=$(cat "$KDIR/kver")
KERNEL=$KDIR/vmlinuz
[ -f "$KDIR/vmlinux" ] && KERNEL=$KDIR/vmlinux
MODDIR=$KDIR/lib/modules/$KVER

# ---- the run's temporary directory: control share and initramfs
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ocirun-vm.XXXXXX")
CTL=$TMP/ctl
mkdir "$CTL"
qpid=
fpid=
qstarted=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	[ -z "$qpid" ] || { kill -TERM "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null; } || true
	if [ -n "$fpid" ]; then
		# the filter ends with QEMU's output; without QEMU it waits for a writer
		[ -n "$qstarted" ] || kill "$fpid" 2>/dev/null || true
		wait "$fpid" 2>/dev/null || true
	fi
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# the initramfs modules in load order: each one's dependencies (modules.dep
# lists them deepest last) before it
initrd_modules() {
	awk -v want="$INITRD_MODULES" '
	function name(p) { sub(/.*\//, "", p); sub(/\.ko(\.[a-z]+)?$/, "", p); gsub(/-/, "_", p); return p }
	BEGIN { n = split(want, w, " ") }
	{ k = $1; sub(/:$/, "", k); line[name(k)] = $0 }
	END {
		for (i = 1; i <= n; i++) {
			if (!(w[i] in line)) continue
			c = split(line[w[i]], f, " "); sub(/:$/, "", f[1])
			for (j = c; j >= 2; j--) if (!(f[j] in seen)) { seen[f[j]] = 1; print f[j] }
			if (!(f[1] in seen)) { seen[f[1]] = 1; print f[1] }
		}
	}' "$MODDIR/modules.dep"
}

make_initramfs() {
	local root=$TMP/initramfs rel base
	mkdir -p "$root"/{bin,dev,proc,sys,lower,upper,newroot,modules}
	cp /bin/busybox "$root/bin/busybox"
	: >"$root/modules/order"
	while read -r rel; do
		base=${rel##*/}
		base=${base%%.ko*}.ko
		case $rel in
		*.ko) cp "$MODDIR/$rel" "$root/modules/$base" ;;
		*.ko.xz) xz -dc "$MODDIR/$rel" >"$root/modules/$base" ;;
		*) die "cannot unpack module $rel" ;;
		esac
		echo "$base" >>"$root/modules/order"
	done < <(initrd_modules)
	for m in $INITRD_MODULES; do # built in, or in modules.dep?
		grep -q "/${m//_/[-_]}\.ko" "$MODDIR/modules.dep" ||
			grep -q "/${m//_/[-_]}\.ko" "$MODDIR/modules.builtin" ||
			die "module $m not found for kernel $KVER"
	done
	{
		echo '#!/bin/busybox sh'
		printf 'MODE=%s\nKVER=%s\nHOST=%s\n' "$MODE" "$KVER" "$GUEST_HOSTNAME"
		cat <<'INIT'
/bin/busybox --install -s /bin
export PATH=/bin
fail() {
	echo "ocirun-vm: $*"
	poweroff -f
}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for ko in $(cat /modules/order); do insmod "/modules/$ko" || fail "insmod $ko failed"; done
P9=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o $P9,ro,cache=loose hostroot /lower || fail "cannot mount the host's root over 9p"
mount -t tmpfs -o size=75%,mode=0755 upper /upper || fail "no tmpfs"
mkdir -p /upper/u /upper/w
mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot ||
	fail "cannot mount the overlay root"
R=/newroot
mkdir -p $R/.ocirun-vm && mount -t 9p -o $P9 ctl $R/.ocirun-vm || fail "cannot mount the control share"
mkdir -p $R/lib/modules/$KVER && mount -t 9p -o $P9,ro,cache=loose modules $R/lib/modules/$KVER ||
	fail "cannot mount the kernel modules"
# fresh /run, /tmp, /var/tmp: nothing of the host's state (its /run/ocirun,
# /run/containerd...) leaks in
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs $R/run
mkdir -m 1777 $R/run/lock
mount -t tmpfs -o mode=1777 tmpfs $R/tmp
mount -t tmpfs -o mode=1777 tmpfs $R/var/tmp
i=0
while IFS= read -r dir; do
	mkdir -p "$R$dir" && mount -t 9p -o $P9,cache=mmap "share$i" "$R$dir" || fail "cannot mount $dir"
	i=$((i + 1))
done <$R/.ocirun-vm/shares

# An identity of its own, a machine without file systems to check or mount.
# No container markers: when the host is itself a container, its /.dockerenv
# would make systemd believe it runs in one (and ignore the kernel's command
# line, so the cgroup mode with it).
rm -f $R/.dockerenv $R/.containerenv
tr -d '-' </proc/sys/kernel/random/uuid >$R/etc/machine-id
echo $HOST >$R/etc/hostname
echo "127.0.1.1 $HOST" >>$R/etc/hosts
echo '# ocirun-vm: the root is set up by the initramfs' >$R/etc/fstab

if [ $MODE != v2 ]; then
	U=$R/etc/systemd/system
	# The host's own choices (containerd, podman, databases, timers...) are
	# not started: what runs is the distribution's systemd, D-Bus and logind.
	rm -rf $U/*.wants $U/*.requires
	mkdir -p $U/multi-user.target.wants $R/etc/systemd/journald.conf.d
	cp $R/.ocirun-vm/ocirun-vm.service $U/ocirun-vm.service
	ln -s ../ocirun-vm.service $U/multi-user.target.wants/ocirun-vm.service
	for u in $(cat $R/.ocirun-vm/masked); do ln -sf /dev/null $U/$u; done
	# No generators: they make units from fstab, crypttab, GPT partitions,
	# init scripts, gettys... none of which this machine has or needs, and
	# each costs seconds under emulation (the whole set: ~10 s of the boot).
	mkdir -p $R/etc/systemd/system-generators
	for g in $R/usr/lib/systemd/system-generators/* $R/usr/local/lib/systemd/system-generators/*; do
		[ -e "$g" ] && ln -sf /dev/null "$R/etc/systemd/system-generators/${g##*/}"
	done
	printf '[Journal]\nStorage=volatile\n' >$R/etc/systemd/journald.conf.d/ocirun-vm.conf
	mount --move /dev $R/dev
	umount /proc /sys
	exec switch_root $R /lib/systemd/systemd
fi
mount --move /dev $R/dev
umount /proc /sys
exec switch_root $R /bin/bash /.ocirun-vm/stage
INIT
	} >"$root/init"
	chmod +x "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet) >"$TMP/initrd" || die "cannot build the initramfs"
	rm -rf "$root"
}

# ---- what the guest runs
MARK=OCIRUN-VM-START-$RANDOM$RANDOM
END_MARK=OCIRUN-VM-END-$RANDOM$RANDOM
printf '%s\n' "${SHARE_LIST[@]}" >"$CTL/shares"
printf '%s\0' "$@" >"$CTL/argv"

{
	echo '# ocirun-vm: runs the command; PID 1 in v2 mode, a service under systemd'
	printf 'MODE=%q\nWORKDIR=%q\nMARK=%q\nEND_MARK=%q\nGUEST_HOSTNAME=%q\nDEBUG=%q\n' \
		"$MODE" "$WORKDIR" "$MARK" "$END_MARK" "$GUEST_HOSTNAME" "$DEBUG"
	cat <<'STAGE'
C=/.ocirun-vm
if [ "$MODE" = v2 ]; then
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
	mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
	mkdir -p /dev/pts /dev/shm /dev/mqueue
	mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
	mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
	mount -t mqueue mqueue /dev/mqueue
	ln -sfn /proc/self/fd /dev/fd
	ln -sf /proc/self/fd/0 /dev/stdin
	ln -sf /proc/self/fd/1 /dev/stdout
	ln -sf /proc/self/fd/2 /dev/stderr
	hostname "$GUEST_HOSTNAME"
	ip link set lo up 2>/dev/null || /bin/busybox ip link set lo up
	# leave the root cgroup so that it can hand every controller down
	mkdir /sys/fs/cgroup/ocirun-vm
	echo $$ >/sys/fs/cgroup/ocirun-vm/cgroup.procs
	for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
		echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control
	done
fi
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root USER=root LOGNAME=root SHELL=/bin/bash
# stdout is the serial console, a tty: no colours, no pager waiting for keys
export TERM=dumb PAGER=cat SYSTEMD_PAGER=cat
cd "$WORKDIR" || cd /
mapfile -d '' -t argv <"$C/argv"
if [ -z "$DEBUG" ]; then
	# from here on the console is the command's: no kernel messages but
	# panics, no systemd status lines
	echo 1 >/proc/sys/kernel/printk
	[ "$MODE" = v2 ] || kill -s RTMIN+21 1
fi
: >"$C/started"
echo "$MARK"
"${argv[@]}" </dev/null
rc=$?
echo "$END_MARK"
echo "$rc" >"$C/rc"
sync
if [ "$MODE" = v2 ]; then
	/bin/busybox poweroff -f
else
	systemctl poweroff -ff || /bin/busybox poweroff -f
fi
STAGE
} >"$CTL/stage"

cat >"$CTL/ocirun-vm.service" <<EOF
# written by tests/vm/run-vm.sh: the command, then power off
[Unit]
Description=ocirun-vm command
Wants=dbus.service systemd-logind.service
After=multi-user.target dbus.service systemd-logind.service

[Service]
# exec, not oneshot: the boot's last job ends when the command starts, so
# inside it "systemctl is-system-running" says running, not starting
Type=exec
Delegate=yes
ExecStart=/bin/bash /.ocirun-vm/stage
Environment=PATH=$GUEST_PATH HOME=/root
StandardInput=null
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS0
TTYReset=no
TTYVHangup=no
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOF

# Units that only slow the emulated boot down or make no sense in it.
cat >"$CTL/masked" <<'EOF'
getty.target
getty@tty1.service
serial-getty@ttyS0.service
console-getty.service
getty-static.service
systemd-timesyncd.service
apt-daily.timer
apt-daily-upgrade.timer
dpkg-db-backup.timer
e2scrub_all.timer
e2scrub_reap.service
fstrim.timer
man-db.timer
logrotate.timer
podman-auto-update.timer
systemd-tmpfiles-clean.timer
systemd-pstore.service
ldconfig.service
systemd-hwdb-update.service
systemd-journal-catalog-update.service
systemd-update-done.service
systemd-firstboot.service
systemd-machine-id-commit.service
systemd-binfmt.service
proc-sys-fs-binfmt_misc.automount
systemd-ask-password-wall.path
systemd-ask-password-console.path
modprobe@drm.service
modprobe@dm_mod.service
modprobe@loop.service
systemd-remount-fs.service
systemd-sysusers.service
systemd-random-seed.service
systemd-journal-flush.service
systemd-update-utmp.service
systemd-update-utmp-runlevel.service
EOF

make_initramfs

# ---- the machine
APPEND="console=ttyS0 panic=-1 rw mitigations=off"
if [ -n "$DEBUG" ]; then
	APPEND+=" systemd.show_status=1"
else
	# errors reach the console log (shown when the VM fails); the stage
	# silences both just before the command starts
	APPEND+=" quiet systemd.show_status=error"
fi
case $MODE in
v2) APPEND+=" cgroup_no_v1=all" ;;
systemd) APPEND+=" cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1" ;;
systemd-legacy) APPEND+=" systemd.unified_cgroup_hierarchy=0" ;;
esac
APPEND+=" systemd.default_timeout_start_sec=900"

# shellcheck disable=SC2054 # the commas are QEMU's
QEMU=(qemu-system-x86_64 -nodefaults -no-user-config -machine pc -accel tcg -cpu max,la57=off
	-m "$MEM" -smp "$CPUS" -display none -nic none -no-reboot
	-chardev stdio,id=con,signal=off -serial chardev:con
	-kernel "$KERNEL" -initrd "$TMP/initrd" -append "$APPEND"
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=$MODDIR,mount_tag=modules,security_model=none,readonly=on"
	-virtfs "local,path=$CTL,mount_tag=ctl,security_model=none")
i=0
for d in "${SHARE_LIST[@]}"; do
	# QEMU's option syntax: a comma in a value is written twice
	QEMU+=(-virtfs "local,path=${d//,/,,},mount_tag=share$i,security_model=none,multidevs=remap")
	i=$((i + 1))
done

# The console goes whole into $TMP/console.log; stdout gets what lies between
# the two marks (everything with OCIRUN_VM_DEBUG).
AWK=(awk)
awk -W version 2>&1 | grep -q mawk && AWK=(awk -W interactive)
mkfifo "$TMP/console"
"${AWK[@]}" -v start="$MARK" -v end="$END_MARK" -v logf="$TMP/console.log" -v all="$DEBUG" '
	{ sub(/\r+$/, ""); print > logf; fflush(logf) }
	all != "" { print; fflush(); next }
	!go { if (index($0, start)) go = 1; next }
	done { next }
	(i = index($0, end)) { printf "%s", substr($0, 1, i - 1); fflush(); done = 1; next }
	{ print; fflush() }' <"$TMP/console" &
fpid=$!

if [ "$TIMEOUT" = 0 ]; then
	"${QEMU[@]}" </dev/null >"$TMP/console" 2>"$TMP/qemu.err" &
else
	timeout -k 10 "$TIMEOUT" "${QEMU[@]}" </dev/null >"$TMP/console" 2>"$TMP/qemu.err" &
fi
qpid=$!
qstarted=1
qrc=0
wait "$qpid" || qrc=$?
qpid=
wait "$fpid" || true
fpid=

console_tail() {
	if [ -s "$TMP/qemu.err" ]; then
		echo "$PROG: QEMU said:" >&2
		tail -n 20 "$TMP/qemu.err" >&2
	fi
	[ -z "$DEBUG" ] || return 0 # the console is already on the screen
	if [ -s "$TMP/console.log" ]; then
		echo "$PROG: the last lines of the console:" >&2
		tail -n 40 "$TMP/console.log" >&2
	else
		echo "$PROG: nothing on the console (OCIRUN_VM_DEBUG=1 shows the boot)" >&2
	fi
}
if [ -f "$CTL/rc" ]; then
	exit "$(cat "$CTL/rc")"
fi
if [ "$TIMEOUT" != 0 ] && { [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; }; then
	if [ -f "$CTL/started" ]; then
		echo "$PROG: timed out after ${TIMEOUT}s" >&2
	else
		echo "$PROG: timed out after ${TIMEOUT}s, before the command started" >&2
		console_tail
	fi
	exit 124
fi
if [ -f "$CTL/started" ]; then
	# the console's end (kernel panic...) is already above, after the output
	echo "$PROG: the VM stopped before the command finished (QEMU status $qrc)" >&2
	[ ! -s "$TMP/qemu.err" ] || tail -n 20 "$TMP/qemu.err" >&2
else
	echo "$PROG: the VM stopped before the command started (QEMU status $qrc)" >&2
	console_tail
fi
exit 125
}
