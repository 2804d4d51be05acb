#!/usr/bin/env bats
# exec: every option, namespaces and cgroup joined, process spec applied,
# exit statuses, errors.

load helpers
load plumbing_helpers

setup() {
	setup_bundle
	update_config '.root.readonly = false'
	set_args sleep 1000
}

teardown() { teardown_plumbing; }

@test "exec joins every namespace and the cgroup of the init" {
	start_detached
	local init
	init=$(container_pid "$CID")
	ocirun exec -d --pid-file "$TEST_TMP/exec.pid" "$CID" sleep 100 </dev/null >/dev/null 2>&1 3>&-
	local p
	p=$(cat "$TEST_TMP/exec.pid")
	[ -d "/proc/$p" ]
	# Seen from the host: the same namespace inodes and cgroups.
	[ "$(ns_of "$p")" = "$(ns_of "$init")" ]
	diff "/proc/$init/cgroup" "/proc/$p/cgroup"
	# The namespaces are the container's, not ours.
	[ "$(readlink /proc/$p/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ]
	[ "$(readlink /proc/$p/ns/pid)" != "$(readlink /proc/self/ns/pid)" ]
	# Seen from inside: the init is pid 1 and the hostname the container's.
	run -0 ocirun exec "$CID" sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; hostname'
	assert_line --index 0 "sleep 1000 "
	assert_line --index 1 "$(jq -r .hostname "$BUNDLE/config.json")"
}

@test "exec propagates the exit status: code, 128+N on signal" {
	start_detached
	run -5 ocirun exec "$CID" sh -c 'exit 5'
	run -0 ocirun exec "$CID" true
	run -$((128 + 9)) ocirun exec "$CID" sh -c 'kill -KILL $$'
	run -$((128 + 15)) ocirun exec "$CID" sh -c 'kill -TERM $$'
}

@test "exec --env --cwd --user --additional-gids" {
	start_detached
	run -0 ocirun exec -e FOO=bar --env BAZ=q -e PATH=/bin --cwd /home/test -u 1000:1000 -g 10 -g 20 "$CID" \
		sh -c 'echo "$FOO $BAZ $PATH"; pwd; id -u; id -g; id -G'
	assert_line --index 0 "bar q /bin"
	assert_line --index 1 /home/test
	assert_line --index 2 1000
	assert_line --index 3 1000
	assert_line --index 4 "1000 10 20"
	# Without options: the config's env, cwd and user.
	run -0 ocirun exec "$CID" sh -c 'echo "$TERM"; pwd; id -u'
	assert_output "$(printf 'xterm\n/\n0')"
	# -u UID alone keeps the config's gid.
	run -0 ocirun exec -u 1000 "$CID" sh -c 'id -u; id -g'
	assert_output "$(printf '1000\n0')"
}

@test "exec --cap adds a capability; --no-new-privs; config caps and rlimits apply" {
	start_detached
	# CAP_SYS_ADMIN is bit 21: not in the example config's sets.
	run -0 ocirun exec "$CID" sh -c 'grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; ulimit -n'
	assert_line "CapEff:	0000000020000420"
	assert_line "NoNewPrivs:	1"
	assert_line "1024"
	run -0 ocirun exec --cap CAP_SYS_ADMIN "$CID" sh -c 'grep -E "^(CapEff|CapBnd)" /proc/self/status'
	assert_line "CapEff:	0000000020200420"
	assert_line "CapBnd:	0000000020200420"
	update_config '.process.noNewPrivileges = false'
	run -0 ocirun exec --no-new-privs=false "$CID" grep NoNewPrivs /proc/self/status
	assert_output "NoNewPrivs:	0"
	run -0 ocirun exec --no-new-privs "$CID" grep NoNewPrivs /proc/self/status
	assert_output "NoNewPrivs:	1"
	run -255 ocirun exec --cap CAP_NOPE "$CID" true
	assert_output --partial CAP_NOPE
}

@test "exec applies the container's seccomp profile" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdirat", "mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
	start_detached
	run ocirun exec "$CID" mkdir /tmp/x
	assert_failure
	assert_output --partial "not permitted"
	run -0 ocirun exec "$CID" grep '^Seccomp:' /proc/self/status
	assert_output "Seccomp:	2"
}

@test "exec --process FILE runs a complete process spec" {
	start_detached
	cat >"$TEST_TMP/process.json" <<'JSON'
{
	"terminal": false,
	"user": {"uid": 1000, "gid": 1000},
	"args": ["sh", "-c", "echo $MSG; pwd; id -u; ulimit -n; grep CapEff /proc/self/status; exit 6"],
	"env": ["PATH=/bin", "MSG=from-process-json"],
	"cwd": "/tmp",
	"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 77, "soft": 77}],
	"capabilities": {"bounding": ["CAP_CHOWN"], "effective": [], "permitted": []}
}
JSON
	run -6 ocirun exec --process "$TEST_TMP/process.json" "$CID"
	assert_line --index 0 from-process-json
	assert_line --index 1 /tmp
	assert_line --index 2 1000
	assert_line --index 3 77
	assert_line --index 4 "CapEff:	0000000000000000"
	run -255 ocirun exec -p "$TEST_TMP/missing.json" "$CID"
	assert_output --partial missing.json
}

@test "exec --process FILE without a user runs as uid and gid 0" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	start_detached
	cat >"$TEST_TMP/process.json" <<'JSON'
{"args": ["sh", "-c", "id -u; id -g"], "cwd": "/", "env": ["PATH=/bin"]}
JSON
	run -0 ocirun exec --process "$TEST_TMP/process.json" "$CID"
	assert_output $'0\n0'
}

@test "HOME comes from the container's /etc/passwd when unset or empty, else /" {
	start_detached
	run -0 ocirun exec "$CID" sh -c 'echo "$HOME"'
	assert_output /root
	run -0 ocirun exec --user 1000 "$CID" sh -c 'echo "$HOME"'
	assert_output /home/test
	run -0 ocirun exec --user 1000 --env HOME= "$CID" sh -c 'echo "$HOME"'
	assert_output /home/test
	run -0 ocirun exec --user 4242 "$CID" sh -c 'echo "$HOME"'
	assert_output /
	# one that is set is kept
	run -0 ocirun exec --user 1000 --env HOME=/elsewhere "$CID" sh -c 'echo "$HOME"'
	assert_output /elsewhere
}

@test "the init's HOME comes from the container's /etc/passwd too" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	set_args sh -c 'echo "$HOME"'
	run -0 ocirun run "$CID"
	assert_output /home/test
}

@test "an exec'd process leads a session and process group of its own in the container" {
	start_detached
	# /proc/self/stat fields 1, 5 and 6: pid, process group, session; a
	# group outside the container's pid namespace reads as 0
	run -0 ocirun exec "$CID" cut -d' ' -f1,5,6 /proc/self/stat
	local pid=${output%% *}
	[ "$pid" -gt 1 ]
	assert_output "$pid $pid $pid"
}

@test "exec --detach --pid-file: returns at once, the pid file names the process" {
	start_detached
	local t0 t1
	t0=$(date +%s)
	ocirun exec -d --pid-file "$TEST_TMP/p" "$CID" sh -c 'sleep 3; touch /tmp/done' </dev/null >/dev/null 2>&1 3>&-
	t1=$(date +%s)
	[ $((t1 - t0)) -lt 3 ]
	local p
	p=$(cat "$TEST_TMP/p")
	grep -q 'sleep 3' "/proc/$p/cmdline"
	# Its parent is not ocirun (exited), and it is in the container's pid ns.
	[ "$(readlink /proc/$p/ns/pid)" = "$(readlink /proc/$(container_pid "$CID")/ns/pid)" ]
}

@test "exec --detach under a subreaper, as containerd's shim calls it: every process reaped, status 0, output" {
	# The shim is a child subreaper that reaps with waitpid(-1), runs the
	# runtime with a SIGKILL parent-death signal and reads the exec'd
	# process's output from a pipe (exec_subreaper.py does the same).
	start_detached
	run timeout 120 python3 "$BATS_TEST_DIRNAME/exec_subreaper.py" 40 "$OCIRUN" "$ROOT" "$CID" "$TEST_TMP"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "40 good, 0 bad" ]
}

@test "exec --apparmor / --process-label: clear error, nothing runs" {
	start_detached
	run -255 ocirun exec --apparmor myprofile "$CID" touch /tmp/ran
	assert_output --partial "AppArmor"
	assert_output --partial "not enabled"
	run -255 ocirun exec --process-label system_u:system_r:foo "$CID" touch /tmp/ran
	assert_output --partial "SELinux"
	[ ! -e "$BUNDLE/rootfs/tmp/ran" ]
}

@test "exec --ignore-paused: refused in a paused container unless given" {
	start_detached
	ocirun pause "$CID"
	run -255 ocirun exec "$CID" true
	assert_output --partial "cannot exec in a paused container \"$CID\" (use --ignore-paused)"
	# It returns although the process cannot run before the resume.
	ocirun exec -d --ignore-paused "$CID" touch /tmp/ran </dev/null >/dev/null 2>&1 3>&-
	sleep 0.3
	[ ! -e "$BUNDLE/rootfs/tmp/ran" ]
	ocirun resume "$CID"
	wait_for_file "$BUNDLE/rootfs/tmp/ran"
}

@test "exec into an unknown or stopped container: error naming the id" {
	run -255 ocirun exec nosuchcontainer true
	assert_output --partial '"nosuchcontainer"'
	assert_output --partial "does not exist"
	set_args true
	ocirun create "$CID" </dev/null >/dev/null 2>&1 3>&-
	ocirun start "$CID"
	wait_for_status "$CID" stopped
	run -255 ocirun exec "$CID" true
	assert_output --partial "\"$CID\""
	assert_output --partial stopped
}

@test "exec of a missing command: error, status 255" {
	start_detached
	run -255 ocirun exec "$CID" /no/such/binary
	assert_output --partial "/no/such/binary"
	run -255 ocirun exec "$CID" nosuchcommand
	assert_output --partial "nosuchcommand"
}

@test "exec with --tty and --console-socket: the process gets a pty" {
	[ -x "$RECVTTY" ] || skip "recvtty not built"
	start_detached
	run_bg recvtty "$RECVTTY" --mode print --pid-file "$TEST_TMP/recvtty.pid" "$TEST_TMP/console.sock"
	wait_for_file "$TEST_TMP/recvtty.pid"
	run -0 ocirun exec -d -t --console-socket "$TEST_TMP/console.sock" "$CID" sh -c 'tty; test -t 0 && echo stdin-is-tty'
	wait_for_text "$TEST_TMP/recvtty.out" stdin-is-tty
	run cat "$TEST_TMP/recvtty.out"
	assert_output --partial /dev/pts/
	run -255 ocirun exec -d -t "$CID" true
	assert_output --partial "needs a console socket (use --console-socket)"
}
