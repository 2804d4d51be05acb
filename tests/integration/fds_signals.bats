#!/usr/bin/env bats
# File descriptors and signals: --preserve-fds, LISTEN_FDS, no runtime fd
# leaks (CVE-2024-21626), signal forwarding and exit statuses of a
# foreground run/exec, stdio inheritance of a detached container, and
# NOTIFY_SOCKET passthrough.

load helpers
load plumbing_helpers

setup() {
	setup_bundle
	update_config '.root.readonly = false'
}

teardown() { teardown_plumbing; }

@test "run --preserve-fds 2: fds 3 and 4 reach the container, nothing else" {
	echo three >"$TEST_TMP/f3"
	echo four >"$TEST_TMP/f4"
	set_args sh -c 'cat <&3; cat <&4; ls /proc/self/fd | sort -n | tr "\n" " "'
	run -0 ocirun run --preserve-fds 2 "$CID" 3<"$TEST_TMP/f3" 4<"$TEST_TMP/f4" 5<"$TEST_TMP/f4"
	assert_line --index 0 three
	assert_line --index 1 four
	# 0-2, 3-4 preserved, and 5 is the directory ls reads; fd 5 of the
	# caller (not preserved) must not be there as a 6th.
	assert_line --index 2 "0 1 2 3 4 5 "
}

@test "run without --preserve-fds: only stdio (and ls's own dir fd)" {
	set_args sh -c 'ls /proc/self/fd | sort -n | tr "\n" " "'
	run -0 ocirun run "$CID" 3<"$BUNDLE/config.json" 4<"$BUNDLE/config.json"
	assert_output "0 1 2 3 "
}

@test "no runtime fd leaks into the container: every fd and cwd point inside it" {
	# CVE-2024-21626: a leaked fd of the host (e.g. a cgroup dir) lets the
	# process escape through /proc/self/fd/N or a cwd outside the root.
	set_args sh -c 'for f in /proc/self/fd/*; do echo "$f -> $(readlink $f)"; done; echo "cwd $(readlink /proc/self/cwd)"; echo "root $(readlink /proc/1/root)"'
	update_config '.process.cwd = "/tmp"'
	run -0 ocirun run "$CID" </dev/null
	assert_line "cwd /tmp"
	refute_output --partial "/sys/fs/cgroup"
	refute_output --partial "$ROOT"
	refute_output --partial "$BUNDLE"
	refute_output --partial "socket:"
}

# listen_run PID_EXPR: ocirun run with LISTEN_FDS=1 and LISTEN_PID=PID_EXPR
# (evaluated by the shell that then execs ocirun: '$$' is ocirun's pid).
listen_run() {
	LISTEN_FDS=1 timeout 60 sh -c "LISTEN_PID=$1 exec \"\$0\" --root \"\$1\" run \"\$2\"" \
		"$OCIRUN" "$ROOT" "$CID" 3<"$TEST_TMP/f3" 4<"$TEST_TMP/f3"
}

@test "fds that cannot be closed before exec are an error: run and exec fail, nothing runs" {
	skip_unless_ocirun "ocirun's fallback and message"
	# Without close_range(2) the runtime walks /proc/self/fd: first check
	# that works, then take the container's /proc away so it cannot.
	local nocr="$BATS_TEST_DIRNAME/no_close_range.py"
	set_args echo the-process-ran
	run -0 python3 "$nocr" "$OCIRUN" --root "$ROOT" run "$CID"
	assert_output "the-process-ran"

	update_config '.mounts |= map(select(.destination != "/proc"))'
	run python3 "$nocr" "$OCIRUN" --root "$ROOT" run "$CID"
	assert_failure
	refute_output --partial "the-process-ran"
	assert_output --partial "close the runtime's fds before exec: open /proc/self/fd"
	assert_no_leftovers

	set_args sleep 100
	run_detached "$CID"
	wait_for_status "$CID" running
	run python3 "$nocr" "$OCIRUN" --root "$ROOT" exec "$CID" echo the-process-ran
	assert_failure
	refute_output --partial "the-process-ran"
	assert_output --partial "close the runtime's fds before exec: open /proc/self/fd"
	run -0 ocirun kill "$CID" KILL
}

@test "LISTEN_FDS=1: fd 3 passes and the process is told LISTEN_FDS=1 LISTEN_PID=1" {
	echo socket-activated >"$TEST_TMP/f3"
	set_args sh -c 'cat <&3; echo "LISTEN_FDS=$LISTEN_FDS LISTEN_PID=$LISTEN_PID"; ls /proc/self/fd | sort -n | tr "\n" " "'
	run -0 listen_run '$$'
	assert_line --index 0 socket-activated
	assert_line --index 1 "LISTEN_FDS=1 LISTEN_PID=1"
	assert_line --index 2 "0 1 2 3 4 "
}

@test "LISTEN_FDS meant for another process (LISTEN_PID not ours) passes nothing" {
	echo socket-activated >"$TEST_TMP/f3"
	set_args sh -c 'cat <&3; echo "LISTEN_FDS=$LISTEN_FDS"; ls /proc/self/fd | sort -n | tr "\n" " "'
	run listen_run 1
	refute_output --partial socket-activated
	assert_line "LISTEN_FDS="
	assert_line "0 1 2 3 "
}

@test "exec --preserve-fds 1: fd 3 reaches the exec'd process" {
	set_args sleep 100
	start_detached
	echo via-exec >"$TEST_TMP/f3"
	run -0 ocirun exec --preserve-fds 1 "$CID" sh -c 'cat <&3; ls /proc/self/fd | sort -n | tr "\n" " "' 3<"$TEST_TMP/f3" 4<"$TEST_TMP/f3"
	assert_line --index 0 via-exec
	assert_line --index 1 "0 1 2 3 4 "
}

# A container whose init records every signal it gets in /tmp/sigs (inside
# its rootfs) and exits 40+N on SIGTERM.
trap_script='for s in HUP INT USR1 USR2 QUIT WINCH; do trap "echo $s >> /tmp/sigs" $s; done; trap "echo TERM >> /tmp/sigs; exit 43" TERM; echo > /tmp/ready; while true; do sleep 0.05; done'

@test "foreground run forwards HUP INT USR1 USR2 QUIT WINCH TERM to the container" {
	set_args sh -c "$trap_script"
	run_bg runner timeout 20 "$OCIRUN" --root "$ROOT" run "$CID"
	local runner
	runner=$(cat "$TEST_TMP/runner.pid")
	wait_for_file "$BUNDLE/rootfs/tmp/ready"
	# The runner is `timeout`; its child is ocirun.
	local oci
	oci=$(pgrep -P "$runner")
	[ -n "$oci" ]
	for s in HUP INT USR1 USR2 QUIT WINCH; do
		kill -s "$s" "$oci"
		wait_for_text "$BUNDLE/rootfs/tmp/sigs" "$s"
	done
	kill -s TERM "$oci"
	local status=0
	wait "$runner" || status=$?
	[ "$status" -eq 43 ]
	run cat "$BUNDLE/rootfs/tmp/sigs"
	assert_output "$(printf 'HUP\nINT\nUSR1\nUSR2\nQUIT\nWINCH\nTERM')"
	assert_no_leftovers
}

@test "foreground exec forwards signals to the exec'd process and returns its status" {
	set_args sleep 100
	start_detached
	run_bg execer timeout 20 "$OCIRUN" --root "$ROOT" exec "$CID" sh -c "$trap_script"
	local runner oci
	runner=$(cat "$TEST_TMP/execer.pid")
	wait_for_file "$BUNDLE/rootfs/tmp/ready"
	oci=$(pgrep -P "$runner")
	kill -s USR1 "$oci"
	wait_for_text "$BUNDLE/rootfs/tmp/sigs" USR1
	kill -s TERM "$oci"
	local status=0
	wait "$runner" || status=$?
	[ "$status" -eq 43 ]
	run cat "$BUNDLE/rootfs/tmp/sigs"
	assert_output "$(printf 'USR1\nTERM')"
}

# What the caller ignores or blocks is not the container's business: the
# container's process, an exec'd one and a hook all start at the defaults.
@test "signals ignored by the caller are at their defaults in the container, exec and hooks" {
	local sigs='grep -E "^Sig(Ign|Blk)" /proc/self/status'
	update_config '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", $c]}]' \
		--arg c "exec $sigs >$TEST_TMP/hook"
	set_args sh -c "exec $sigs"
	run -0 bash -c 'trap "" INT PIPE USR1 TERM; exec "$@"' _ "$OCIRUN" --root "$ROOT" run "$CID" </dev/null
	echo "run: $output"
	assert_line "SigIgn:	0000000000000000"
	assert_line "SigBlk:	0000000000000000"
	run cat "$TEST_TMP/hook"
	echo "hook: $output"
	assert_line "SigIgn:	0000000000000000"
	set_args sleep 100
	ocirun run -d "$CID-x" </dev/null >/dev/null 2>&1 3>&-
	run -0 bash -c 'trap "" INT PIPE USR1 TERM; exec "$@"' _ "$OCIRUN" --root "$ROOT" exec "$CID-x" \
		sh -c "exec $sigs" </dev/null
	echo "exec: $output"
	assert_line "SigIgn:	0000000000000000"
	assert_line "SigBlk:	0000000000000000"
}

@test "run returns 128+N when the process dies of signal N, exit code otherwise" {
	# Not pid 1 of a pid namespace: that one cannot kill itself this way.
	update_config 'del(.linux.namespaces[] | select(.type == "pid"))'
	set_args sh -c 'kill -SEGV $$'
	run -139 ocirun run "$CID"
	set_args sh -c 'exit 5'
	run -5 ocirun run "$CID"
	set_args sh -c 'kill -USR2 $$'
	run -$((128 + 12)) ocirun run "$CID"
}

@test "foreground run reaps orphans left in the container (subreaper)" {
	# Without a pid namespace the orphans of the container are reparented to
	# ocirun run (a subreaper), which must reap them: no zombie remains.
	update_config 'del(.linux.namespaces[] | select(.type == "pid"))'
	set_args sh -c '(sleep 0.1 &) ; (sleep 0.2 & echo $! > /tmp/orphan); while [ ! -e /tmp/done ]; do sleep 0.05; done; exit 4'
	run_bg runner timeout 20 "$OCIRUN" --root "$ROOT" run "$CID"
	local runner oci orphan status=0
	runner=$(cat "$TEST_TMP/runner.pid")
	wait_for_file "$BUNDLE/rootfs/tmp/orphan"
	oci=$(pgrep -P "$runner")
	orphan=$(cat "$BUNDLE/rootfs/tmp/orphan")
	sleep 0.5
	# The orphans were ocirun's children and exited: reaped, no zombie.
	run ps -o pid=,stat= --ppid "$oci"
	refute_output --partial Z
	[ ! -e "/proc/$orphan" ]
	touch "$BUNDLE/rootfs/tmp/done"
	wait "$runner" || status=$?
	[ "$status" -eq 4 ]
}

@test "detached run without a terminal: the container writes to the caller's stdio" {
	set_args sh -c 'echo to-stdout; echo to-stderr >&2; read line; echo "read $line"'
	mkfifo "$TEST_TMP/in"
	# Hold the fifo open for writing so the open below does not block.
	exec 7<>"$TEST_TMP/in"
	ocirun run -d "$CID" <"$TEST_TMP/in" >"$TEST_TMP/out" 2>"$TEST_TMP/err" 3>&-
	echo hello-through-pipe >&7
	exec 7>&-
	wait_for_text "$TEST_TMP/out" "read hello-through-pipe"
	run cat "$TEST_TMP/out"
	assert_line --index 0 to-stdout
	run cat "$TEST_TMP/err"
	assert_output to-stderr
}

@test "run with a pipe as stdout: output arrives through the pipe" {
	set_args sh -c 'echo line1; echo line2'
	run -0 bash -c "'$OCIRUN' --root '$ROOT' run '$CID' | tr a-z A-Z"
	assert_output "$(printf 'LINE1\nLINE2')"
}

# The caller's pipes are root's, mode 0600: a non-root process.user could
# write to the fds it has, but not reopen them as /dev/stdout, what many
# images log to. They go to process.user (runc gives the uid, crun uid and
# gid); a device such as /dev/null stays the host's.
@test "stdio pipes and files go to process.user, so it can reopen /dev/stdout; devices stay as they are" {
	update_config '.process.user = {"uid": 1000, "gid": 1001}'
	local probe='stat -L -c %u:%g /proc/self/fd/0 /proc/self/fd/1; echo via-dev-stdout >>/dev/stdout'
	set_args sh -c "$probe"
	run -0 ocirun run "$CID" </dev/null
	assert_line --index 0 "0:0"
	assert_line --index 1 "1000:1001"
	assert_line --index 2 via-dev-stdout
	# An exec'd process's, too; here stdout is a file of the caller's.
	set_args sleep 100
	start_detached
	ocirun exec "$CID" sh -c "$probe" </dev/null >"$TEST_TMP/exec.out" 2>&1
	run -0 cat "$TEST_TMP/exec.out"
	assert_line --index 1 "1000:1001"
	assert_line --index 2 via-dev-stdout
	run -0 stat -c %u:%g "$TEST_TMP/exec.out"
	assert_output "1000:1001"
}

# notify_bundle ARGS...: give the container the host's socat (its libraries
# bind-mounted read-only) to talk to $NOTIFY_SOCKET, and run ARGS.
notify_bundle() {
	command -v socat >/dev/null || skip "socat not installed (apt-get install socat)"
	ln -sfn usr/lib "$BUNDLE/rootfs/lib"
	ln -sfn usr/lib64 "$BUNDLE/rootfs/lib64"
	cp "$(command -v socat)" "$BUNDLE/rootfs/socat"
	update_config '.mounts += [{"destination": "/usr/lib", "type": "bind", "source": "/usr/lib", "options": ["rbind", "ro"]}]'
	[ -d /usr/lib64 ] && update_config '.mounts += [{"destination": "/usr/lib64", "type": "bind", "source": "/usr/lib64", "options": ["rbind", "ro"]}]'
	set_args "$@"
	run_bg listener socat -u UNIX-RECV:"$TEST_TMP/host.sock" -
	wait_for_file "$TEST_TMP/host.sock"
}

@test "NOTIFY_SOCKET: run relays READY=1 from the container with MAINPID" {
	notify_bundle sh -c 'echo "in=$NOTIFY_SOCKET"; echo -n READY=1 | /socat - UNIX-SENDTO:$NOTIFY_SOCKET && echo sent'
	NOTIFY_SOCKET="$TEST_TMP/host.sock" run -0 ocirun run "$CID"
	assert_line "in=/run/notify/notify.sock"
	assert_line sent
	wait_for_text "$TEST_TMP/listener.out" "MAINPID="
	run cat "$TEST_TMP/listener.out"
	assert_line READY=1
	assert_line --regexp '^MAINPID=[0-9]+$'
}

@test "NOTIFY_SOCKET: start returns once the container said READY=1" {
	notify_bundle sh -c 'sleep 1; echo -n READY=1 | /socat - UNIX-SENDTO:$NOTIFY_SOCKET; sleep 100'
	NOTIFY_SOCKET="$TEST_TMP/host.sock" ocirun create "$CID" </dev/null >/dev/null 2>&1 3>&-
	local t0 pid
	t0=$(date +%s%N)
	NOTIFY_SOCKET="$TEST_TMP/host.sock" ocirun start "$CID"
	# Not before the container's READY (it waits 1 s), and READY is there.
	[ $(($(date +%s%N) - t0)) -ge 900000000 ]
	wait_for_text "$TEST_TMP/listener.out" "MAINPID="
	pid=$(container_pid "$CID")
	run cat "$TEST_TMP/listener.out"
	assert_line READY=1
	assert_line "MAINPID=$pid"
}

@test "without NOTIFY_SOCKET the container gets neither the variable nor the mount" {
	set_args sh -c 'echo "in=${NOTIFY_SOCKET:-none}"; grep -c /run/notify /proc/self/mountinfo'
	NOTIFY_SOCKET= run ocirun run "$CID"
	assert_line "in=none"
	assert_line 0
}
