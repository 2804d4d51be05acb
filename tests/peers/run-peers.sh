#!/bin/bash
# tests/peers/run-peers.sh — run the peers' own conformance suites against a runtime.
#
#   tests/peers/run-peers.sh [--runtime PATH] [--out DIR] [SUITE...]
#
# SUITE is runtime-tools, runc or crun (default: all three). Each one runs
# from a checkout you made and built beforehand (see tests/peers/README.md:
# this script never fetches anything and never builds the suites' code):
#
#   RUNTIME_TOOLS_DIR  opencontainers/runtime-tools, with runtimetest and
#                      validation/*/*.t built
#   RUNC_DIR           opencontainers/runc, with contrib/cmd/recvtty/recvtty,
#                      contrib/cmd/sd-helper/sd-helper and
#                      contrib/cmd/seccompagent/seccompagent built
#   CRUN_DIR           containers/crun, with tests/init built statically
#
# What the suites need that is not theirs, this script makes under --out:
# runc's two images (a busybox one whose applets are hard links, since one
# test chmods them, and a "debian" one: busybox plus the host's libc and
# ldconfig, enough for hooks.bats) in RUNC_DIR's testdata when missing, and
# a shim named for crun's tests to call. crun's files run with their stdout on
# a pseudoterminal (on-pty.py): its terminal tests skip themselves otherwise.
#
# Options and environment:
#   --runtime PATH   the runtime under test (default: $OCIRUN, else ocirun
#                    on PATH); /usr/sbin/runc or /usr/bin/crun work as well
#   --out DIR        TAP output and logs (default: /tmp/ocirun-peers)
#   RUNTIME_TOOLS_FILES, RUNC_FILES, CRUN_FILES
#                    run only these (space-separated: validation names such
#                    as "hooks linux_devices", bats files such as
#                    "dev.bats update.bats", python files such as
#                    "test_devices.py")
#   PEERS_TIMEOUT    time limit in seconds for one file (default 600); a file
#                    that hangs counts only the results it printed
#
# Output: one line per suite, e.g.
#   runc: 150 passed, 5 failed, 20 skipped (/tmp/ocirun-peers/runc*)
# Exit status: 0 when every suite ran (failures included), 2 on a usage or
# setup error. Run as root. CI does not run it.
set -uo pipefail

die() { echo "run-peers.sh: $*" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

runtime=${OCIRUN:-$(command -v ocirun || true)}
out=/tmp/ocirun-peers
suites=()
while [ $# -gt 0 ]; do
	case "$1" in
	--runtime) runtime=${2:?--runtime needs a path}; shift 2 ;;
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	-h|--help) sed -n '2,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	runtime-tools|runc|crun) suites+=("$1"); shift ;;
	*) die "unknown argument $1 (suites: runtime-tools runc crun)" ;;
	esac
done
[ ${#suites[@]} -gt 0 ] || suites=(runtime-tools runc crun)
[ "$(id -u)" -eq 0 ] || die "run as root"
if [ -z "$runtime" ] || [ ! -x "$runtime" ]; then
	die "no runtime to test: --runtime PATH or OCIRUN"
fi
runtime=$(readlink -f "$runtime")
timeout_s=${PEERS_TIMEOUT:-600}
mkdir -p "$out" || die "cannot make $out"
out=$(cd "$out" && pwd)

need_dir() { # VAR NAME
	local dir=${!1:-}
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then
		die "$2: set $1 to its checkout"
	fi
	(cd "$dir" && pwd)
}

need_file() { # PATH WHAT
	[ -x "$1" ] || die "$1 is missing: $2"
}

# "ok", "not ok" and "ok ... # skip" lines of TAP files -> P F S.
tap_counts() {
	awk '/^not ok /{f++; next}
	     /^ok / && tolower($0) ~ /# *skip/{s++; next}
	     /^ok /{p++}
	     END{printf "%d %d %d\n", p, f, s}' "$@"
}

report() { # SUITE TAPFILE...
	local suite=$1; shift
	local p f s
	read -r p f s < <(tap_counts "$@")
	printf '%s: %d passed, %d failed, %d skipped (%s)\n' "$suite" "$p" "$f" "$s" "$out/$suite*"
}

# ---- opencontainers/runtime-tools validation ---------------------------
# One executable per file, each a TAP stream; a file passes when it exits 0
# with no "not ok" line, which is how the issue's table counts them.
run_runtime_tools() {
	local dir t name files=0 passed=0
	dir=$(need_dir RUNTIME_TOOLS_DIR runtime-tools)
	need_file "$dir/runtimetest" "build runtime-tools' runtimetest (static) first"
	mkdir -p "$out/runtime-tools"
	rm -f "$out/runtime-tools.failed" "$out"/runtime-tools/*.tap
	local list=()
	if [ -n "${RUNTIME_TOOLS_FILES:-}" ]; then
		for name in $RUNTIME_TOOLS_FILES; do list+=("$dir/validation/$name/$name.t"); done
	else
		list=("$dir"/validation/*/*.t)
	fi
	for t in "${list[@]}"; do
		need_file "$t" "build runtime-tools' validation executables first"
		name=$(basename "$t" .t)
		files=$((files + 1))
		# They find runtimetest and rootfs-ARCH.tar.gz in the working directory.
		if (cd "$dir" && RUNTIME=$runtime timeout "$timeout_s" "$t") \
			>"$out/runtime-tools/$name.tap" 2>&1 &&
			! grep -q '^not ok' "$out/runtime-tools/$name.tap"; then
			passed=$((passed + 1))
		else
			echo "  failed: $name" >>"$out/runtime-tools.failed"
		fi
	done
	local p f s
	read -r p f s < <(tap_counts "$out"/runtime-tools/*.tap)
	printf 'runtime-tools: %d/%d files passed (%d tests passed, %d failed, %d skipped; %s)\n' \
		"$passed" "$files" "$p" "$f" "$s" "$out/runtime-tools/"
}

# ---- opencontainers/runc tests/integration -----------------------------
go_arch() {
	case "$(uname -m)" in
	x86_64) echo amd64 ;; aarch64) echo arm64 ;; i?86) echo 386 ;;
	*) uname -m ;;
	esac
}

# A busybox root filesystem as a tarball, every applet a hard link to the
# one static busybox (a symlink to /bin/busybox would make a test's chmod of
# an applet change them all), with the users the busybox image has.
make_busybox_tree() { # DIR
	local root=$1 bb a
	bb=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
	mkdir -p "$root"/{bin,dev,etc,home,root,tmp,usr/sbin,var/spool/mail,var/www}
	chmod 1777 "$root/tmp"
	chmod 700 "$root/root"
	cp "$bb" "$root/bin/busybox"
	for a in $("$bb" --list); do
		[ "$a" = busybox ] || ln -f "$root/bin/busybox" "$root/bin/$a"
	done
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'daemon:x:1:1:daemon:/usr/sbin:/bin/false' \
		'bin:x:2:2:bin:/bin:/bin/false' 'sys:x:3:3:sys:/dev:/bin/false' \
		'mail:x:8:8:mail:/var/spool/mail:/bin/false' 'www-data:x:33:33:www-data:/var/www:/bin/false' \
		'nobody:x:65534:65534:nobody:/home:/bin/false' >"$root/etc/passwd"
	printf '%s\n' 'root:x:0:' 'daemon:x:1:' 'bin:x:2:' 'sys:x:3:' 'adm:x:4:' 'tty:x:5:' \
		'disk:x:6:' 'wheel:x:10:root' 'mail:x:8:' 'www-data:x:33:' 'users:x:100:' \
		'nogroup:x:65534:' >"$root/etc/group"
}

make_runc_images() { # TESTDATA
	local testdata=$1 arch tmp
	arch=$(go_arch)
	tmp=$(mktemp -d "$out/images.XXXXXX")
	if [ ! -e "$testdata/busybox-$arch.tar.xz" ]; then
		make_busybox_tree "$tmp/busybox"
		tar -C "$tmp/busybox" -cJf "$testdata/busybox-$arch.tar.xz" . || die "busybox image"
	fi
	if [ ! -e "$testdata/debian-$arch.tar.xz" ]; then
		# hooks.bats only needs a dynamic loader, libc and ldconfig.
		make_busybox_tree "$tmp/debian"
		rm -f "$tmp/debian/bin/ldconfig"
		mkdir -p "$tmp/debian/sbin" "$tmp/debian/lib" "$tmp/debian/lib64"
		cp "$(command -v ldconfig)" "$tmp/debian/sbin/ldconfig"
		cp -L "$(ldd /bin/true | awk '/libc\.so/{print $3}')" "$tmp/debian/lib/"
		cp -L /lib64/ld-linux-x86-64.so.2 "$tmp/debian/lib64/" 2>/dev/null || true
		echo /lib >"$tmp/debian/etc/ld.so.conf"
		tar -C "$tmp/debian" -cJf "$testdata/debian-$arch.tar.xz" . || die "debian image"
	fi
	rm -rf "$tmp"
}

run_runc() {
	local dir c f files=()
	dir=$(need_dir RUNC_DIR runc)
	for c in recvtty sd-helper seccompagent; do
		need_file "$dir/contrib/cmd/$c/$c" "build runc's contrib/cmd/$c first"
	done
	command -v go >/dev/null || die "runc's get-images.sh needs go (apt-get install golang-go)"
	make_runc_images "$dir/tests/integration/testdata"
	if [ -n "${RUNC_FILES:-}" ]; then
		read -ra files <<<"$RUNC_FILES"
	else
		files=()
		for f in "$dir"/tests/integration/*.bats; do files+=("$(basename "$f")"); done
	fi
	# Through a link named runc: help.bats and version.bats read the program
	# name in "runc -h" and "runc -v", which ocirun takes from argv[0].
	mkdir -p "$out/runc-bin" "$out/runc"
	ln -sfn "$runtime" "$out/runc-bin/runc"
	rm -f "$out"/runc/*.tap
	for f in "${files[@]}"; do # one bats per file: a hang costs one file only
		(cd "$dir/tests/integration" && RUNC=$out/runc-bin/runc timeout "$timeout_s" bats --tap "$f") \
			>"$out/runc/$(basename "$f" .bats).tap" 2>&1
	done
	report runc "$out"/runc/*.tap
}

# ---- containers/crun tests/*.py ----------------------------------------
# crun's tests call the runtime as "crun", with crun's --config option: the
# shim stands in for crun and drops --config for a runtime without it (runc;
# the bundle's config.json is the default anyway). ocirun takes it.
make_crun_shim() {
	local drop=1
	"$runtime" create --help 2>/dev/null | grep -q -- '--config' && drop=0
	cat >"$out/crun-shim" <<EOF
#!/bin/bash
# made by tests/peers/run-peers.sh: crun's test suite -> $runtime
args=()
while [ \$# -gt 0 ]; do
	if [ $drop = 1 ] && [ "\$1" = --config ]; then shift 2; continue; fi
	args+=("\$1"); shift
done
exec "$runtime" "\${args[@]}"
EOF
	chmod 755 "$out/crun-shim"
}

run_crun() {
	local dir t name
	dir=$(need_dir CRUN_DIR crun)
	need_file "$dir/tests/init" "build crun's tests/init (static) first"
	make_crun_shim
	mkdir -p "$out/crun"
	local list=()
	if [ -n "${CRUN_FILES:-}" ]; then
		for name in $CRUN_FILES; do list+=("$dir/tests/$name"); done
	else
		list=("$dir"/tests/test_*.py)
	fi
	for t in "${list[@]}"; do
		name=$(basename "$t" .py)
		rm -f "$out/crun/$name.tap"
		(cd "$dir" && OCI_RUNTIME="$out/crun-shim" INIT="$dir/tests/init" \
			timeout "$timeout_s" python3 "$here/on-pty.py" python3 -u "$t") \
			>"$out/crun/$name.tap" 2>"$out/crun/$name.log"
	done
	report crun "$out"/crun/*.tap
}

# The suites leave cgroups behind when a test fails half-way, and crun's
# test_delete leaves its init frozen in a freezer cgroup of its own. Every
# cgroup that appears while a suite runs is the suite's: its processes are
# thawed and killed, then the cgroup removed, deepest first. (Run the
# suites alone: a cgroup another tool makes meanwhile would go too.)
cgroup_dirs() { find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null | sort; }

clean_new_cgroups() { # clean_new_cgroups BEFORE_LIST
	local d pid
	# never what systemd manages (a login's scope made meanwhile)
	comm -13 "$1" <(cgroup_dirs) | grep -vE '\.(slice|scope|service|socket|mount)(/|$)' |
		sort -r >"$1.new"
	while read -r d; do
		[ -w "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
		[ -w "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
		while read -r pid; do kill -9 "$pid" 2>/dev/null; done <"$d/cgroup.procs"
	done <"$1.new"
	sleep 0.5
	while read -r d; do rmdir "$d" 2>/dev/null || [ ! -d "$d" ] || echo "run-peers.sh: cannot remove $d" >&2; done <"$1.new"
	rm -f "$1.new"
}

for s in "${suites[@]}"; do
	cgroup_dirs >"$out/.cgroups-before"
	case "$s" in
	runtime-tools) run_runtime_tools ;;
	runc) run_runc ;;
	crun) run_crun ;;
	esac
	clean_new_cgroups "$out/.cgroups-before"
	rm -f "$out/.cgroups-before"
	rm -rf /tmp/ocitest[0-9]* # runtime-tools' bundles of tests that failed
done
