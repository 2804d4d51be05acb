#!/bin/bash
# tests/run.sh — the whole test suite, as CI runs it. Run as root from anywhere.
#
#   tests/run.sh [--no-build] [BATS_FILE...]
#
# 1. installs missing Debian packages (tests/deps.sh);
# 2. builds ocirun out of tree with --enable-werror;
# 3. runs the C unit tests (make check) and counts cmocka's per-test results;
# 4. runs every tests/integration/*.bats (and the engine scripts in
#    tests/engines when OCIRUN_TEST_ENGINES=1) with bats --tap against
#    $OCIRUN, counting ok / not ok / skip; then, after a build of its own,
#    tests/install/*.bats on the build dir; then a second build with clang,
#    ASan+UBSan and libFuzzer: its unit tests, tests/sanitizers.sh and
#    tests/fuzz/fuzz.sh;
# 5. checks nothing was left behind (mounts, temp dirs, state in /run/ocirun);
# 6. prints the failing tests, then a last line "N passed, N failed, N skipped".
# Exit status: 0 only when nothing failed.
#
# Environment:
#   OCIRUN=PATH            runtime for the bats tests (default: the built
#                          ocirun); OCIRUN=/usr/sbin/runc runs them against runc
#   OCIRUN_BUILD_DIR=DIR   build there and keep it (default: a temp dir,
#                          removed at exit)
#   OCIRUN_TEST_ENGINES=0  leave out tests/engines/*.sh (podman, containerd
#                          end to end; they print TAP); default 1
#   OCIRUN_TEST_VM=0       leave out the VM tier, tests/vm/check-host.sh
#                          (systemd hosts, ~30 min under emulation); default 1
#   OCIRUN_TEST_INSTALL=0  leave out tests/install/*.bats (make install,
#                          make distcheck, the Debian package); default 1
#   OCIRUN_TEST_SANITIZERS=0  leave out the ASan+UBSan build's unit tests
#                          and tests/sanitizers.sh (lifecycle, exec,
#                          config_errors.bats on it); default 1. Measured
#                          at load average 10: the build 39 s, its unit
#                          tests 9 s, sanitizers.sh 3.5-4.5 min
#   OCIRUN_TEST_FUZZ=0     leave out tests/fuzz/fuzz.sh (the config parser's
#                          libFuzzer target, on the same clang build); default 1
#   OCIRUN_FUZZ_SECONDS=S  how long to fuzz (default 60)
#   OCIRUN_BATS_TIMEOUT=S  time limit for one .bats file (default 600)
# Options:
#   --no-build             skip deps, build and unit tests (needs OCIRUN)
#   BATS_FILE...           run only these .bats files
set -uo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BATS_TIMEOUT=${OCIRUN_BATS_TIMEOUT:-600}

passed=0 failed=0 skipped=0
failures=()

say() { printf '==> %s\n' "$*"; }
fail_item() { failures+=("$1"); failed=$((failed + 1)); }

summary_and_exit() {
	echo
	if [ ${#failures[@]} -gt 0 ]; then
		echo "Failed:"
		printf '  %s\n' "${failures[@]}"
		echo
	fi
	[ "$skipped" -eq 0 ] || echo "$skipped skipped (not counted below)"
	# the last line, exactly "N passed, N failed", is what CI reads
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

if [ "$(id -u)" != 0 ]; then
	echo "tests/run.sh: must run as root (containers need namespaces, mounts and cgroups)" >&2
	exit 1
fi

no_build=0
bats_files=()
bats_args=()
for arg in "$@"; do
	case "$arg" in
	--no-build) no_build=1 ;;
	-h | --help) sed -n '2,41p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "tests/run.sh: unknown option $arg" >&2; exit 2 ;;
	*) bats_files+=("$(realpath "$arg")"); bats_args+=("$arg") ;;
	esac
done

# --- clean-up ---------------------------------------------------------------
BUILD_DIR=${OCIRUN_BUILD_DIR:-}
remove_build=0
# The tests' temp dirs go in one dir of this run, so leftovers are told
# apart from those of other runs on the same machine.
OCIRUN_TEST_TMPDIR=$(mktemp -d /tmp/ocirun-tests.XXXXXX)
chmod 755 "$OCIRUN_TEST_TMPDIR"
export OCIRUN_TEST_TMPDIR
cleanup() {
	[ "$remove_build" = 1 ] && [ -n "$BUILD_DIR" ] && rm -rf "$BUILD_DIR"
	[ -n "${SAN_DIR:-}" ] && rm -rf "$SAN_DIR"
	# Never recurse through a mount a test left behind.
	if ! awk -v d="$OCIRUN_TEST_TMPDIR" 'index($5, d) == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
		rm -rf --one-file-system "$OCIRUN_TEST_TMPDIR"
	fi
}
trap cleanup EXIT

# What this run's tests left: their temp dirs and mounts, and the cgroups and
# /run/ocirun state of the container ids helpers.bash recorded in .ids (tests
# use $CID and names made from it). Other runs' leftovers are not counted.
leftover_snapshot() {
	local id
	{
		ls -d "$OCIRUN_TEST_TMPDIR"/* 2>/dev/null
		awk -v d="$OCIRUN_TEST_TMPDIR" 'index($5, d) == 1 { print "mount " $5 }' /proc/self/mountinfo
		sort -u "$OCIRUN_TEST_TMPDIR/.ids" 2>/dev/null | while read -r id; do
			ls -d /run/ocirun/"$id"* 2>/dev/null
			find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -name "*$id*" 2>/dev/null
		done
	} | sort
}

# --- build and unit tests ----------------------------------------------------
# cmocka prints "[       OK ] name", "[  FAILED  ] name", "[  SKIPPED ] name"
# per test (failed and skipped names again in its summary). Count names, not
# cmocka's "N test(s)" summaries: stdout and stderr share the log, so a
# summary line can be glued to another one, and a crash leaves no summary.
cmocka_names() { # LOG TAG
	grep -aoE "\[ *$2 *\] [A-Za-z_][A-Za-z0-9_]*" "$1" | sed -E 's/^\[[^]]*\] //' | sort -u
}
count_cmocka_log() { # LOG PROGRAM
	local log=$1 prog=$2 p f s n
	p=$(grep -aoE '\[       OK \] [A-Za-z_][A-Za-z0-9_]*' "$log" | wc -l)
	f=$(cmocka_names "$log" FAILED | grep -c . || true)
	s=$(cmocka_names "$log" SKIPPED | grep -c . || true)
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	while IFS= read -r n; do
		[ -n "$n" ] && failures+=("unit $prog: $n")
	done < <(cmocka_names "$log" FAILED)
	# A program that crashed or failed without a failing test still fails.
	if [ "$f" -eq 0 ] && grep -qE '^:test-result: (FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null; then
		fail_item "unit $prog: failed without a cmocka failure (crash?), see its log"
	fi
	echo "    $prog: $p passed, $f failed, $s skipped"
}

build_and_unit_test() {
	say "dependencies"
	if ! "$SRCDIR/tests/deps.sh"; then
		fail_item "tests/deps.sh"
		return 1
	fi
	if [ ! -x "$SRCDIR/configure" ] || [ "$SRCDIR/configure.ac" -nt "$SRCDIR/configure" ] ||
		[ "$SRCDIR/Makefile.am" -nt "$SRCDIR/Makefile.in" ]; then
		say "autogen.sh"
		if ! "$SRCDIR/autogen.sh" >/dev/null 2>&1; then
			"$SRCDIR/autogen.sh"
			fail_item "autogen.sh"
			return 1
		fi
	fi
	if [ -z "$BUILD_DIR" ] && [ -f "$SRCDIR/config.status" ]; then
		# Configured in place (the README's first command does that):
		# automake refuses an out-of-tree build of such a tree, so build
		# here, reconfigured with --enable-werror, and keep it.
		BUILD_DIR=$SRCDIR
	elif [ -z "$BUILD_DIR" ]; then
		BUILD_DIR=$(mktemp -d /tmp/ocirun-build.XXXXXX)
		# the rootless tests run the binary as an unprivileged user
		chmod 755 "$BUILD_DIR"
		remove_build=1
	fi
	mkdir -p "$BUILD_DIR"
	say "build in $BUILD_DIR (--enable-werror)"
	local log="$BUILD_DIR/build.log"
	if ! (cd "$BUILD_DIR" && "$SRCDIR/configure" --enable-werror >"$log" 2>&1 && make -j2 >>"$log" 2>&1); then
		grep -E 'error|Error' "$log" | head -n 40
		echo "    (last lines of the build log:)"
		tail -n 15 "$log"
		fail_item "build (configure --enable-werror && make)"
		return 1
	fi

	say "unit tests (make check)"
	(cd "$BUILD_DIR" && make -j2 check >"$BUILD_DIR/check.log" 2>&1)
	local rc=$? logs=() l
	shopt -s nullglob
	logs=("$BUILD_DIR"/tests/unit/*.log)
	shopt -u nullglob
	for l in "${logs[@]}"; do
		count_cmocka_log "$l" "$(basename "${l%.log}")"
	done
	if [ ${#logs[@]} -eq 0 ]; then
		tail -n 30 "$BUILD_DIR/check.log"
		fail_item "make check: no unit test ran (exit status $rc)"
	elif [ $rc -ne 0 ] && ! grep -qE '^(FAIL|ERROR):' "$BUILD_DIR/check.log"; then
		# make check failed without a failing test: a test did not build.
		tail -n 30 "$BUILD_DIR/check.log"
		fail_item "make check (exit status $rc, see above)"
	fi
	for l in "${logs[@]}"; do
		if grep -qE '^\[  (FAILED|ERROR)   ?\]' "$l"; then
			echo "--- $l"
			grep -E '^\[  (FAILED|ERROR|LINE)' "$l" | head -n 40
		fi
	done
	return 0
}

built_ok=0
if [ "$no_build" = 0 ]; then
	build_and_unit_test && [ -x "$BUILD_DIR/ocirun" ] && built_ok=1
fi
# tests/install/*.bats work on the build dir (make install, make distcheck)
[ "$built_ok" = 1 ] && export OCIRUN_BUILD_DIR=$BUILD_DIR

# --- integration tests -------------------------------------------------------
if [ -z "${OCIRUN:-}" ] && [ "$built_ok" = 1 ]; then
	OCIRUN="$BUILD_DIR/ocirun"
fi

# run_tap_file FILE [ARG...]: run a .bats file with bats --tap, or a script
# that prints TAP itself (tests/engines/*.sh, tests/vm/check-host.sh), and
# count its TAP lines. TAP_TIMEOUT overrides the time limit.
run_tap_file() { # FILE [ARG...]
	local file=$1 name out rc line p=0 f=0 s=0 cmd
	shift
	name=${file#"$SRCDIR"/}
	case "$file" in
	*.bats) cmd=(bats --tap "$file") ;;
	*) cmd=(bash "$file" "$@") ;;
	esac
	out=$(mktemp /tmp/ocirun-bats.XXXXXX)
	say "$name"
	timeout --kill-after=10 "${TAP_TIMEOUT:-$BATS_TIMEOUT}" "${cmd[@]}" </dev/null 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	while IFS= read -r line; do
		case "$line" in
		"not ok "*)
			f=$((f + 1))
			failures+=("$name: $(sed -E 's/^not ok [0-9]+ //' <<<"$line")")
			;;
		"ok "*"# skip"* | "ok "*"# SKIP"*) s=$((s + 1)) ;;
		"ok "*) p=$((p + 1)) ;;
		esac
	done <"$out"
	rm -f "$out"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		[ "$rc" -eq 124 ] && fail_item "$name: timed out after ${BATS_TIMEOUT}s" ||
			fail_item "$name: exited $rc without a failing test"
	fi
}

if [ ${#bats_files[@]} -eq 0 ]; then
	shopt -s nullglob
	bats_files=("$SRCDIR"/tests/integration/*.bats)
	if [ "${OCIRUN_TEST_ENGINES:-1}" = 1 ]; then
		# The scripts print TAP per check; engines.bats only wraps them.
		for f in "$SRCDIR"/tests/engines/*.sh; do
			[ "$(basename "$f")" = lib.sh ] || bats_files+=("$f")
		done
	fi
	shopt -u nullglob
fi

if [ ${#bats_files[@]} -eq 0 ]; then
	say "no .bats files: no integration tests"
elif [ -z "${OCIRUN:-}" ] || [ ! -x "${OCIRUN:-}" ]; then
	fail_item "integration tests not run: no runtime to test (build failed and OCIRUN not set)"
else
	export OCIRUN
	say "integration tests against $OCIRUN ($("$OCIRUN" --version 2>/dev/null | head -n1))"
	for f in "${bats_files[@]}"; do
		run_tap_file "$f"
	done
fi

# --- installing: make install and uninstall, make distcheck, the .deb -------
# They need the build dir, so only after a build of our own.
if [ "${OCIRUN_TEST_INSTALL:-1}" = 1 ] && [ ${#bats_args[@]} -eq 0 ]; then
	if [ "$built_ok" = 1 ]; then
		for f in "$SRCDIR"/tests/install/*.bats; do
			run_tap_file "$f"
		done
	else
		fail_item "tests/install not run: ocirun was not built"
	fi
fi

# --- the sanitizer build: ASan+UBSan unit and integration tests, fuzzing ----
# One clang build serves both (--enable-fuzzing implies the sanitizers).
san_tests=${OCIRUN_TEST_SANITIZERS:-1} fuzz_tests=${OCIRUN_TEST_FUZZ:-1}
SAN_DIR=
sanitizer_build() {
	SAN_DIR=$(mktemp -d /tmp/ocirun-asan.XXXXXX)
	chmod 755 "$SAN_DIR"
	say "sanitizer build in $SAN_DIR (clang, ASan+UBSan, libFuzzer)"
	local log="$SAN_DIR/build.log"
	if ! (cd "$SAN_DIR" && "$SRCDIR/configure" CC=clang --enable-werror --enable-fuzzing \
		--disable-man >"$log" 2>&1 && make -j2 all tests/fuzz/fuzz_config >>"$log" 2>&1); then
		tail -n 30 "$log"
		fail_item "sanitizer build (CC=clang configure --enable-fuzzing && make)"
		return 1
	fi
}
if [ "$no_build" = 0 ] && [ ${#bats_args[@]} -eq 0 ] && { [ "$san_tests" = 1 ] || [ "$fuzz_tests" = 1 ]; }; then
	if sanitizer_build; then
		if [ "$san_tests" = 1 ]; then
			say "unit tests on the sanitizer build (make check)"
			(cd "$SAN_DIR" && make -j2 check >"$SAN_DIR/check.log" 2>&1)
			shopt -s nullglob
			for l in "$SAN_DIR"/tests/unit/*.log; do
				count_cmocka_log "$l" "asan $(basename "${l%.log}")"
			done
			shopt -u nullglob
			# The console-socket receiver of the tests is the plain build's:
			# it is not what the sanitizers look at.
			RECVTTY="$BUILD_DIR/tests/helpers/recvtty" \
				run_tap_file "$SRCDIR/tests/sanitizers.sh" "$SAN_DIR"
		fi
		[ "$fuzz_tests" = 1 ] &&
			run_tap_file "$SRCDIR/tests/fuzz/fuzz.sh" "$SAN_DIR/tests/fuzz/fuzz_config" "${OCIRUN_FUZZ_SECONDS:-60}"
	fi
	rm -rf "$SAN_DIR"
fi

# --- the VM tier: systemd hosts ---------------------------------------------------
# Needs the build dir (the guest runs the built binary and unit tests), so
# only after a build of our own.
if [ "${OCIRUN_TEST_VM:-1}" = 1 ] && [ ${#bats_args[@]} -eq 0 ]; then
	if [ "$built_ok" = 1 ]; then
		TAP_TIMEOUT=${OCIRUN_VM_TIER_TIMEOUT:-3000} run_tap_file "$SRCDIR/tests/vm/check-host.sh" "$BUILD_DIR"
	else
		fail_item "tests/vm/check-host.sh not run: ocirun was not built"
	fi
fi

# --- nothing left behind -------------------------------------------------------
new=$(leftover_snapshot)
if [ -n "$new" ]; then
	say "left behind by this run:"
	sed 's/^/    /' <<<"$new"
	fail_item "leftovers after the run: $(wc -l <<<"$new") item(s) listed above"
fi

summary_and_exit
