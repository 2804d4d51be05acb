#!/usr/bin/env bats
# Faults the runtime must survive without leaving a container nobody can
# remove or a command that never returns: a damaged state.json (list still
# shows the container, delete --force still kills and removes everything it
# owns), and peers that never answer (a frozen cgroup, a container that
# never says READY=1, a seccomp agent that must get the listener before the
# container's first notified call). Every runtime command is bounded by
# the `ocirun` helper's timeout; background ones by `timeout` here.

load helpers
load plumbing_helpers

setup() {
	setup_bundle
	update_config '.root.readonly = false'
}

teardown() {
	stop_agent
	# Thawed first: a frozen process cannot die of the kill that follows
	# (the test's frozen cgroup, and a paused container the runtime failed
	# to remove).
	local d
	for d in ${FROZEN_CG:-} $(_cgroups_of "${CID:-none}"); do
		if [ -f "$d/freezer.state" ]; then
			echo THAWED >"$d/freezer.state" || true
		elif [ -f "$d/cgroup.freeze" ]; then
			echo 0 >"$d/cgroup.freeze" || true
		fi
	done
	teardown_plumbing
	if [ -n "${BYSTANDER:-}" ]; then
		kill -9 "$BYSTANDER" 2>/dev/null || true
		wait "$BYSTANDER" 2>/dev/null || true
		rmdir "$BYSTANDER_CG" 2>/dev/null || true
	fi
	# The frozen cgroup, and its namesakes the runtime made as parents of
	# a cgroupsPath below it in the other hierarchies.
	if [ -n "${FROZEN_NAME:-}" ]; then
		find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "$FROZEN_NAME" 2>/dev/null |
			while read -r d; do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
	fi
	return 0
}

# --- a damaged state.json -----------------------------------------------

# damaged_state_test HOW: a running container (a child process beside its
# init), state.json damaged by the shell command HOW (run in $ROOT/$CID),
# then: list shows it with the reason on stderr, delete without --force
# names it, delete --force kills every process and removes cgroups and state.
damaged_state_test() {
	set_args sh -c 'sleep 1000 & exec sleep 1000'
	run_detached "$CID"
	wait_for_status "$CID" running
	local pid
	pid=$(container_pid "$CID")
	(cd "$ROOT/$CID" && eval "$1")

	run -0 --separate-stderr ocirun list --format json
	assert_equal "$(jq -r --arg id "$CID" '.[] | select(.id == $id) | .status' <<<"$output")" unknown
	assert_equal "$(jq -r --arg id "$CID" '.[] | select(.id == $id) | .pid' <<<"$output")" 0
	[[ "$stderr" == *"$CID"*state.json* ]]
	run -0 --separate-stderr ocirun list -q
	assert_output "$CID"

	run -1 ocirun delete "$CID"
	assert_output --partial "$CID"
	assert_output --partial state.json
	[ -d "/proc/$pid" ]

	run -0 ocirun delete --force "$CID"
	assert_no_leftovers
	run -0 ocirun list -q
	assert_output ""
}

@test "damaged state.json, truncated: list shows it, delete --force removes everything" {
	damaged_state_test 'head -c 40 state.json >s && mv s state.json'
}

@test "damaged state.json, emptied: list shows it, delete --force removes everything" {
	damaged_state_test ': >state.json'
}

@test "damaged state.json, garbage: list shows it, delete --force removes everything" {
	damaged_state_test 'head -c 300 /dev/urandom >state.json'
}

@test "damaged state.json, not an object: list shows it, delete --force removes everything" {
	damaged_state_test 'echo "[1, 2]" >state.json'
}

@test "damaged state.json, wrong types (pid a string, cgroup a number): delete --force still removes everything" {
	# Read as zeros, this said "stopped, no cgroup": delete removed the
	# state and left the container running.
	damaged_state_test 'jq ".pid = \"1\" | .cgroup = 5" state.json >s && mv s state.json'
}

@test "damaged state.json, pid_start lost: pid 1 is not taken for the init" {
	# Without its start time any process behind the pid passed for the init:
	# list said "running" with pid 1, and kill signalled the host's init.
	damaged_state_test 'jq ".pid_start = 0 | .pid = 1" state.json >s && mv s state.json'
}

@test "damaged state.json naming another cgroup: delete --force kills only the container's" {
	# A bystander in a cgroup of its own, which the container's state.json
	# is made to name: following it, delete would kill the bystander.
	local other="/sys/fs/cgroup/pids/ocibystander-${CID#ocitest-}" alive=0
	is_cgroup_v2 && other="/sys/fs/cgroup/ocibystander-${CID#ocitest-}"
	mkdir "$other"
	BYSTANDER_CG=$other
	sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
	BYSTANDER=$!
	echo "$BYSTANDER" >"$other/cgroup.procs"
	set_args sleep 1000
	run_detached "$CID"
	wait_for_status "$CID" running
	jq --arg d "$other" '.cgroup |= (fromjson | .mode = "v2" | .v1 = []
		| .v2 = {controllers: "", mount: "/", path: "/", dir: $d} | tojson)' \
		"$ROOT/$CID/state.json" >"$TEST_TMP/s" && mv "$TEST_TMP/s" "$ROOT/$CID/state.json"
	run -1 ocirun delete "$CID"
	assert_output --partial "not the cgroup create recorded"
	run -1 ocirun kill --all "$CID" KILL
	assert_output --partial "not the cgroup create recorded"
	run -0 ocirun delete --force "$CID"
	kill -0 "$BYSTANDER" 2>/dev/null && alive=1
	[ "$alive" = 1 ]
	assert_no_leftovers
}

@test "damaged state.json of a paused container: delete --force thaws and removes everything" {
	set_args sleep 1000
	run_detached "$CID"
	wait_for_status "$CID" running
	run -0 ocirun pause "$CID"
	echo '{"id": ' >"$ROOT/$CID/state.json"
	run -0 ocirun delete --force "$CID"
	assert_no_leftovers
}

# --- waits that must end ------------------------------------------------

@test "start waiting for READY=1 that never comes does not hold up delete --force" {
	set_args sleep 1000
	# The host socket is only used once READY=1 comes: it never does.
	NOTIFY_SOCKET="$TEST_TMP/host.sock" create_container "$CID"
	(NOTIFY_SOCKET="$TEST_TMP/host.sock" OCIRUN_TIMEOUT=20 ocirun start "$CID" \
		</dev/null >"$TEST_TMP/start.out" 2>&1 3>&-) &
	local start=$! t0
	wait_for_status "$CID" running
	t0=$(date +%s)
	OCIRUN_TIMEOUT=10 run -0 ocirun delete --force "$CID"
	# Promptly: not after start gave up (the lock was held over the wait).
	[ $(($(date +%s) - t0)) -le 5 ]
	# And start ends with the container it waited for.
	run -0 timeout 10 bash -c "while kill -0 $start 2>/dev/null; do sleep 0.05; done"
	wait "$start" || echo "start: status $?" >&2
	assert_no_leftovers
}

# frozen_cgroup NAME: a frozen cgroup /NAME (freezer hierarchy on v1 and
# hybrid hosts), thawed and removed by teardown.
frozen_cgroup() {
	FROZEN_NAME=$1
	if is_cgroup_v2; then
		FROZEN_CG=/sys/fs/cgroup/$1
		mkdir "$FROZEN_CG"
		echo 1 >"$FROZEN_CG/cgroup.freeze"
	else
		FROZEN_CG=/sys/fs/cgroup/freezer/$1
		mkdir "$FROZEN_CG"
		echo FROZEN >"$FROZEN_CG/freezer.state"
	fi
}

# run_into_frozen CGROUPS_PATH: `run` of a container in CGROUPS_PATH, which
# must fail within 10 s. Its output goes to a file, not a pipe: a frozen
# init would hold a pipe open, and the test wait for its EOF forever.
run_into_frozen() {
	update_config '.linux.cgroupsPath = $p' --arg p "$1"
	set_args true
	run -1 _run_to_file
	output=$(cat "$TEST_TMP/run.out")
}

_run_to_file() {
	OCIRUN_TIMEOUT=10 ocirun run "$CID" </dev/null >"$TEST_TMP/run.out" 2>&1 3>&-
}

@test "run into a frozen cgroup (cgroupsPath) fails naming it instead of hanging" {
	uses_systemd_driver && skip "cgroupsPath names a systemd unit under the systemd driver"
	# Not named after $CID: it is the test's, not the container's, and stays.
	frozen_cgroup "ocifrozen-${CID#ocitest-}"
	run_into_frozen "/$FROZEN_NAME"
	assert_output --partial "$FROZEN_NAME"
	assert_output --partial "container's cgroup unexpectedly frozen" # runc's words
	[ -d "$FROZEN_CG" ]
	assert_no_leftovers
}

@test "run below a frozen cgroup fails naming it instead of hanging" {
	uses_systemd_driver && skip "cgroupsPath names a systemd unit under the systemd driver"
	frozen_cgroup "ocifrozen-${CID#ocitest-}"
	run_into_frozen "/$FROZEN_NAME/$CID"
	assert_output --partial "$FROZEN_NAME/$CID"
	assert_output --partial frozen
	assert_no_leftovers
}

# notify_agent ANSWER NAMES_JSON: linux.seccomp notifies NAMES to the test
# agent (tests/helpers/seccomp-agent), started here, which answers ANSWER
# (an errno, or "continue"); its log is $AGENT_OUT (.syscalls).
notify_agent() {
	local agent a sock="$TEST_TMP/agent.sock"
	for a in "${SECCOMP_AGENT:-}" "$(dirname "$OCIRUN")/tests/helpers/seccomp-agent" \
		"$REPO_ROOT/tests/helpers/seccomp-agent"; do
		[ -n "$a" ] && [ -x "$a" ] && { agent=$a; break; }
	done
	[ -n "${agent:-}" ] || skip "tests/helpers/seccomp-agent not built (set SECCOMP_AGENT)"
	AGENT_OUT="$TEST_TMP/agent.json"
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": $p,
	               "syscalls": [{"names": $n, "action": "SCMP_ACT_NOTIFY"}]}' \
		--arg p "$sock" --argjson n "$2"
	timeout 60 "$agent" "$sock" "$AGENT_OUT" "$1" </dev/null >"$TEST_TMP/agent.log" 2>&1 3>&- &
	AGENT_PID=$!
	wait_for_file "$sock"
}

# What the runtime's process itself calls once the filter is loaded, up to
# execve, and the container's first calls: each waits in the kernel until
# the agent has the listener, so it must have reached the agent first.
HANDOVER_CALLS='["read", "close", "close_range", "fcntl", "openat", "open", "access",
                 "faccessat", "faccessat2", "recvmsg", "execve"]'

# handover_test NO_NEW_PRIVILEGES: with the calls above notified and
# answered "continue", the container runs as without a filter.
handover_test() {
	skip_unless_ocirun "runc refuses other calls and uses other ones"
	notify_agent continue "$HANDOVER_CALLS"
	update_config ".process.noNewPrivileges = $1"
	set_args sh -c 'echo hello'
	run -0 ocirun run "$CID"
	assert_output hello
	run -0 cat "$AGENT_OUT.syscalls"
	assert_line execve
	assert_no_leftovers
}

@test "seccomp notify: the calls around the listener's hand-over reach the agent (noNewPrivileges)" {
	handover_test true
}

@test "seccomp notify: the calls around the listener's hand-over reach the agent (no noNewPrivileges)" {
	handover_test false
}

@test "seccomp notify on sendmsg, which hands the listener over, is refused instead of a deadlock" {
	skip_unless_ocirun "runc refuses write (what its init uses) instead"
	notify_agent continue '["sendmsg"]'
	set_args true
	run -1 ocirun run "$CID"
	assert_output --partial 'linux.seccomp.syscalls[0].names[0]: SCMP_ACT_NOTIFY cannot be used for "sendmsg"'
	assert_no_leftovers
}

@test "seccomp notify: an exec'd process's listener reaches the agent too" {
	skip_unless_ocirun "the test agent's log format"
	notify_agent 100 '["mkdir", "mkdirat"]'
	set_args sleep 1000
	run_detached "$CID"
	wait_for_status "$CID" running
	# Its own filter, its own listener: not the init's. ENETDOWN (100) is
	# the agent's answer; without the listener the call fails with ENOSYS.
	run -1 ocirun exec "$CID" mkdir /tmp/d
	assert_output --partial "Network is down"
	run -0 jq -s -r 'length, (.[0].pid != .[1].pid), .[1].state.id' "$AGENT_OUT"
	assert_output "$(printf '2\ntrue\n%s' "$CID")"
	run -0 ocirun delete --force "$CID"
	assert_no_leftovers
}

@test "seccomp notify: an agent that accepts no connection fails run after a bound, not never" {
	skip_unless_ocirun "runc waits for the agent as long as it takes"
	local sock="$TEST_TMP/agent.sock"
	# Listens, and the one connection its backlog takes is its own.
	timeout 60 python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(0)
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])
time.sleep(60)' "$sock" </dev/null >/dev/null 2>&1 3>&- &
	AGENT_PID=$!
	wait_for_file "$sock"
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": $p,
	               "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}' --arg p "$sock"
	set_args true
	OCIRUN_TIMEOUT=25 run -1 ocirun run "$CID"
	assert_output --partial "failed to connect with seccomp agent: linux.seccomp.listenerPath \"$sock\": connect: no connection accepted in 10 s"
	assert_no_leftovers
}

@test "seccomp notify: no agent at listenerPath fails run in runc's words, nothing left" {
	skip_unless_ocirun "message wording"
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": $p,
	               "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}' \
		--arg p "$TEST_TMP/no-agent.sock"
	set_args true
	run -1 ocirun run "$CID"
	assert_output --partial "failed to connect with seccomp agent: linux.seccomp.listenerPath \"$TEST_TMP/no-agent.sock\": connect: No such file or directory"
	assert_no_leftovers
}

@test "NOTIFY_SOCKET: a service manager that reads nothing fails start after a bound, not never" {
	skip_unless_ocirun "runc waits as long as it takes"
	local host="$TEST_TMP/host.sock" start
	# Its queue filled with messages to itself, and never read.
	timeout 60 python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setblocking(False)
try:
    while True:
        s.sendto(b"x" * 1024, sys.argv[1])
except BlockingIOError:
    pass
open(sys.argv[1] + ".full", "w").close()
time.sleep(60)' "$host" </dev/null >/dev/null 2>&1 3>&- &
	AGENT_PID=$!
	wait_for_file "$host.full"
	set_args sleep 1000
	NOTIFY_SOCKET="$host" create_container "$CID"
	(NOTIFY_SOCKET="$host" OCIRUN_TIMEOUT=30 ocirun start "$CID" \
		</dev/null >"$TEST_TMP/start.out" 2>&1 3>&- || echo $? >"$TEST_TMP/start.status") &
	start=$!
	# The container's READY=1, sent to its socket from the host.
	wait_for_file "$ROOT/$CID/notify/notify.sock"
	python3 -c '
import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", sys.argv[1])' \
		"$ROOT/$CID/notify/notify.sock"
	wait "$start"
	run cat "$TEST_TMP/start.status"
	assert_output 1
	run cat "$TEST_TMP/start.out"
	assert_output --partial "NOTIFY_SOCKET: send to \"$host\": its queue stayed full for 10 s"
	run -0 ocirun delete --force "$CID"
	assert_no_leftovers
}

@test "list shows a container whose create died before state.json; delete --force removes it" {
	# What `create` leaves when it is SIGKILLed before it writes state.json:
	# the directory and its first record, no lock holder.
	mkdir -p "$ROOT/$CID"
	run -0 --separate-stderr ocirun list --format json
	assert_equal "$(jq -r '.[0].id + " " + .[0].status' <<<"$output")" "$CID unknown"
	[[ "$stderr" == *"$CID"*state.json* ]]
	run -0 ocirun delete --force "$CID"
	run -0 ocirun list -q
	assert_output ""
	assert_no_leftovers
}

@test "list leaves out a container being created (its lock is held)" {
	mkdir -p "$ROOT/$CID"
	# A create in progress holds the lock on the directory until state.json.
	flock "$ROOT/$CID" sleep 3 &
	local holder=$!
	sleep 0.5
	run -0 --separate-stderr ocirun list -q
	assert_output ""
	assert_equal "$stderr" ""
	wait "$holder"
	run -0 ocirun delete --force "$CID"
}
