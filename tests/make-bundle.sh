#!/bin/bash
# tests/make-bundle.sh — make an OCI bundle with a busybox root filesystem.
#
# Usage:
#   tests/make-bundle.sh [OPTIONS] DIR [CONFIG] [-- ARG...]
#
#   DIR      the bundle directory (created; a rootfs this script made
#            there before is replaced)
#   CONFIG   config.json to copy (default: the repo's config.json.example;
#            if that does not exist: `runc spec`, made non-terminal)
#   ARG...   replace process.args in the copied config
#
# Options:
#   --rootfs-only      make DIR/rootfs only, no config.json
#   --rootfs PATH      do not make a rootfs; point root.path at the existing
#                      absolute PATH instead (share one read-only rootfs)
#   --from ROOTFS      make DIR/rootfs as a copy (cp -a) of ROOTFS, a rootfs
#                      made earlier by this script (fast, for per-test bundles)
#
# The rootfs: Debian's static busybox (/bin/busybox from busybox-static) with a
# symlink per applet in /bin (sbin, usr/bin, usr/sbin point to it), the usual
# empty mount points (proc sys dev tmp ...), and /etc/passwd, /etc/group with
# root (0), test (1000) and nobody (65534).
set -euo pipefail

die() { echo "make-bundle.sh: $*" >&2; exit 1; }

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
rootfs_only=0
shared_rootfs=
copy_from=
while [ $# -gt 0 ]; do
	case "$1" in
	--rootfs-only) rootfs_only=1; shift ;;
	--rootfs) shared_rootfs=${2:?--rootfs needs a path}; shift 2 ;;
	--from) copy_from=${2:?--from needs a path}; shift 2 ;;
	-h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--) break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || die "usage: make-bundle.sh [--rootfs-only|--rootfs PATH|--from ROOTFS] DIR [CONFIG] [-- ARG...]"
dir=$1; shift
config=
if [ $# -gt 0 ] && [ "$1" != "--" ]; then config=$1; shift; fi
args=()
if [ $# -gt 0 ] && [ "$1" = "--" ]; then shift; args=("$@"); fi

make_rootfs() {
	local rootfs=$1 busybox d
	busybox=$(command -v busybox || true)
	[ -n "$busybox" ] || die "busybox not found (apt-get install busybox-static)"
	# The rootfs must hold a static binary: a dynamic one would need its libs.
	local lddout
	lddout=$(LC_ALL=C ldd "$busybox" 2>&1 || true)
	if [[ "$lddout" != *"not a dynamic executable"* ]]; then
		die "$busybox is dynamically linked; install busybox-static"
	fi
	mkdir -p "$rootfs"
	for d in bin proc sys dev etc tmp root mnt run var/tmp home/test usr; do
		mkdir -p "$rootfs/$d"
	done
	chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
	chmod 700 "$rootfs/root"
	cp "$busybox" "$rootfs/bin/busybox"
	# One process makes all ~270 applet links (a loop of ln takes seconds).
	# They point at the host's busybox path (/usr/bin/busybox on Debian 12),
	# which resolves inside the rootfs too: usr/bin and usr/sbin link to bin.
	ln -sfn bin "$rootfs/sbin"
	ln -sfn ../bin "$rootfs/usr/bin"
	ln -sfn ../bin "$rootfs/usr/sbin"
	"$busybox" --install -s "$rootfs/bin"
	rm -f "$rootfs/bin/busybox.tmp"
	[ -L "$rootfs/bin/sh" ] || die "busybox --install made no applet links in $rootfs/bin"
	cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
test:x:1000:1000:test:/home/test:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
	cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
test:x:1000:
nogroup:x:65534:
GROUP
	chown 1000:1000 "$rootfs/home/test"
	echo "ocirun-test" >"$rootfs/etc/hostname"
	: >"$rootfs/etc/resolv.conf"
	: >"$rootfs/etc/hosts"
}

default_config() {
	local out=$1 tmp
	if [ -f "$SRCDIR/config.json.example" ]; then
		cp "$SRCDIR/config.json.example" "$out"
		return
	fi
	command -v runc >/dev/null || die "no config.json.example and no runc to generate a config (apt-get install runc)"
	tmp=$(mktemp -d)
	(cd "$tmp" && runc spec)
	jq '.process.terminal = false
	    | .process.args = ["sh", "-c", "echo Hello from inside an ocirun container; hostname; id"]' \
		"$tmp/config.json" >"$out"
	rm -rf "$tmp"
}

mkdir -p "$dir"
if [ -z "$shared_rootfs" ]; then
	if [ -e "$dir/rootfs" ]; then
		# Re-running replaces a rootfs this script made; anything else stays.
		[ -x "$dir/rootfs/bin/busybox" ] || die "$dir/rootfs exists and was not made by make-bundle.sh"
		if awk -v d="$(realpath "$dir/rootfs")" 'index($5, d) == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
			die "$dir/rootfs has mounts (a container still running?)"
		fi
		rm -rf --one-file-system "$dir/rootfs"
	fi
	if [ -n "$copy_from" ]; then
		[ -x "$copy_from/bin/busybox" ] || die "--from $copy_from: not a rootfs made by make-bundle.sh"
		cp -a "$copy_from" "$dir/rootfs"
	else
		make_rootfs "$dir/rootfs"
	fi
fi
[ "$rootfs_only" = 1 ] && exit 0

if [ -n "$config" ]; then
	[ -f "$config" ] || die "config $config: no such file"
	cp "$config" "$dir/config.json"
else
	default_config "$dir/config.json"
fi
jq empty "$dir/config.json" 2>/dev/null || die "$dir/config.json is not valid JSON"

if [ -n "$shared_rootfs" ]; then
	case "$shared_rootfs" in /*) ;; *) die "--rootfs needs an absolute path" ;; esac
	[ -x "$shared_rootfs/bin/busybox" ] || die "--rootfs $shared_rootfs: not a rootfs made by make-bundle.sh"
	jq --arg p "$shared_rootfs" '.root.path = $p' "$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
fi
if [ ${#args[@]} -gt 0 ]; then
	# "--" keeps jq from parsing an argument such as "-c" as its own option.
	json_args=$(jq -nc '$ARGS.positional' --args -- "${args[@]}")
	jq --argjson a "$json_args" '.process.args = $a' "$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
fi
