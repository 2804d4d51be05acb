# tests/integration/plumbing_helpers.bash — helpers for exec, hooks,
# terminal and fd/signal tests (on top of helpers.bash: load that first).
#
#   RECVTTY                  the console-socket receiver (tests/helpers/recvtty
#                            next to $OCIRUN in a build dir, or in the repo)
#   run_bg NAME CMD...       start CMD in the background, stdio to
#                            $TEST_TMP/NAME.out; its pid in $TEST_TMP/NAME.pid;
#                            killed by teardown_plumbing if still alive
#   start_detached           `ocirun run -d $CID` with stdio away from bats
#   wait_for_file PATH [S]   poll until PATH exists (default 5 s; helpers.bash)
#   wait_for_text FILE TEXT [S]  poll until FILE contains TEXT
#   ns_of PID                the namespace links of PID, one "type:[ino]" a line
#   teardown_plumbing        kill what run_bg started, then teardown_bundle

_find_recvtty() {
	local d
	for d in "$(dirname "$OCIRUN")/tests/helpers" "$REPO_ROOT/tests/helpers"; do
		[ -x "$d/recvtty" ] && { echo "$d/recvtty"; return; }
	done
}
RECVTTY=${RECVTTY:-$(_find_recvtty)}

run_bg() {
	local name=$1
	shift
	"$@" </dev/null >"$TEST_TMP/$name.out" 2>&1 3>&- &
	echo $! >"$TEST_TMP/$name.pid"
	echo $! >>"$TEST_TMP/.bg-pids"
}

start_detached() { run_detached "$@" "$CID"; }

# wait_for_file is in helpers.bash.
wait_for_text() {
	local i
	for ((i = 0; i < ${3:-5} * 20; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "'$2' did not appear in $1:" >&2
	cat "$1" >&2 2>/dev/null
	return 1
}

ns_of() {
	local t
	for t in cgroup ipc mnt net pid time user uts; do
		[ -e "/proc/$1/ns/$t" ] && echo "$t $(readlink "/proc/$1/ns/$t")"
	done
}

teardown_plumbing() {
	local p
	if [ -n "${TEST_TMP:-}" ] && [ -f "$TEST_TMP/.bg-pids" ]; then
		for p in $(cat "$TEST_TMP/.bg-pids"); do
			kill -9 "$p" 2>/dev/null || true
		done
	fi
	teardown_bundle
}
