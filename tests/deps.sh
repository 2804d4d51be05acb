#!/bin/bash
# tests/deps.sh — install everything ocirun's build and tests need on Debian 12.
#
# Idempotent: when every package is already installed it does nothing (no
# network). Otherwise it runs `apt-get update` once (only when the package
# lists are missing or older than a day) and installs the missing packages
# without recommends. Must run as root. Quiet unless something fails.
set -euo pipefail

PACKAGES=(
	# build
	build-essential autoconf automake pkg-config
	libyajl-dev libseccomp-dev libcap-dev libmount-dev libsystemd-dev
	# checkpoint/restore: CRIU (its binary, and libcriu's RPC messages) over protobuf-c
	criu libprotobuf-c-dev
	# man pages (go-md2man), bash completion's directory and library
	go-md2man bash-completion
	# C unit tests
	libcmocka-dev
	# integration tests
	bats bats-support bats-assert busybox-static jq
	iproute2 util-linux procps time python3 expect socat
	# tests/install: rendering the man pages, building the Debian package
	man-db groff-base debhelper dpkg-dev fakeroot lintian
	# reference runtimes: the tests' control and the benchmark's peers
	runc crun
)
# The sanitizer build and the fuzz target (OCIRUN_TEST_SANITIZERS=0 and
# OCIRUN_TEST_FUZZ=0 leave them out): clang, and its runtime libraries
# (ASan, UBSan, libFuzzer), only recommended by clang.
if [ "${OCIRUN_TEST_SANITIZERS:-1}" = 1 ] || [ "${OCIRUN_TEST_FUZZ:-1}" = 1 ]; then
	PACKAGES+=(clang libclang-rt-14-dev)
fi
# The engine suites (tests/engines; OCIRUN_TEST_ENGINES=0 leaves them out).
if [ "${OCIRUN_TEST_ENGINES:-1}" = 1 ]; then
	PACKAGES+=(podman conmon containerd uidmap fuse-overlayfs catatonit)
fi
# The VM tier (tests/vm: QEMU machines booting this host's own systemd;
# run-vm.sh fetches the guest kernel with apt-get download itself).
if [ "${OCIRUN_TEST_VM:-1}" = 1 ]; then
	PACKAGES+=(qemu-system-x86 cpio kmod busybox-static systemd dbus libpam-systemd dbus-user-session)
fi

die() { echo "deps.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (it installs Debian packages with apt-get)"
command -v apt-get >/dev/null || die "apt-get not found: this script supports Debian/Ubuntu only"

missing=()
for pkg in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/ocirun-deps.XXXXXX)
trap 'rm -f "$log"' EXIT

# Refresh the package lists only when they are absent or stale (> 1 day).
lists_fresh() {
	local newest
	newest=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n1)
	[ -n "$newest" ]
}
apt_update() {
	echo "deps.sh: apt-get update" >&2
	if ! apt-get update -qq >"$log" 2>&1; then
		cat "$log" >&2
		die "apt-get update failed (no network to the Debian mirror?)"
	fi
}
apt_install() {
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1
}

updated=0
if ! lists_fresh; then
	apt_update
	updated=1
fi
echo "deps.sh: installing ${missing[*]}" >&2
if ! apt_install; then
	# Fresh-looking lists can still be out of date (a package moved on the
	# mirror): refresh once and retry before giving up.
	if [ "$updated" = 0 ]; then
		apt_update
		apt_install && exit 0
	fi
	tail -n 30 "$log" >&2
	die "apt-get install failed for: ${missing[*]}"
fi
