#!/usr/bin/env bats
# Hooks (config.md "POSIX-platform Hooks"): each stage at its moment, in its
# namespaces, with the state on stdin, args/env/timeout honoured; a failing
# hook before start rolls back, a failing poststart stops and deletes the
# container, a failing poststop warns and the others still run.

load helpers
load plumbing_helpers

# The recording hook: one line per call in LOG (its 2nd argument):
#   STAGE status=S pid=P alive=yes|no own_mnt=... pid_mnt=... var=$HOOKVAR argv0=$0
# Busybox and dash both run it; it is copied into the rootfs for the hooks
# that run inside the container.
write_hook() {
	cat >"$1" <<'HOOK'
#!/bin/sh
state=$(cat)
pid=$(echo "$state" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
status=$(echo "$state" | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')
id=$(echo "$state" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
alive=no
[ -n "$pid" ] && [ -e "/proc/$pid/ns" ] && alive=yes
echo "$1 status=$status id=$id pid=$pid alive=$alive own_mnt=$(readlink /proc/self/ns/mnt) own_uts=$(readlink /proc/self/ns/uts) pid_mnt=$(readlink /proc/$pid/ns/mnt 2>/dev/null) host=$(hostname) var=$HOOKVAR argv0=$0" >>"$2"
exit ${HOOK_EXIT:-0}
HOOK
	chmod 755 "$1"
}

setup() {
	setup_bundle
	update_config '.root.readonly = false'
	HOOK="$TEST_TMP/hook.sh"
	LOG="$TEST_TMP/hooks.log"
	write_hook "$HOOK"
	write_hook "$BUNDLE/rootfs/hook.sh"
}

teardown() { teardown_plumbing; }

# add_hook STAGE PATH [EXTRA_JSON]: append a recording hook to STAGE that
# logs to $LOG (or /tmp/in.log for startContainer, inside the container).
add_hook() {
	local stage=$1 path=$2 log=$LOG extra=${3:-{\}}
	[ "$stage" = startContainer ] && log=/tmp/in.log
	update_config ".hooks.$stage += [{\"path\": \$p, \"args\": [\"myhook\", \$s, \$l], \"env\": [\"HOOKVAR=v-$stage\"]} + $extra]" \
		--arg p "$path" --arg s "$stage" --arg l "$log"
}

field() { # field LINE NAME
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

@test "every hook stage runs once, in order, in the right namespaces, with the state on stdin" {
	for s in prestart createRuntime createContainer poststart poststop; do add_hook $s "$HOOK"; done
	add_hook startContainer /hook.sh
	set_args sh -c 'echo main >> /tmp/in.log'
	run -0 ocirun run "$CID"
	run cat "$LOG"
	echo "$output"
	[ "${#lines[@]}" -eq 5 ]
	local host_mnt host_uts
	host_mnt=$(readlink /proc/self/ns/mnt)
	host_uts=$(readlink /proc/self/ns/uts)
	local want=(prestart createRuntime createContainer poststart poststop) i line
	for i in 0 1 2 3 4; do
		line=${lines[$i]}
		[ "$(echo "$line" | cut -d' ' -f1)" = "${want[$i]}" ]
		[ "$(field "$line" id)" = "$CID" ]
		[ "$(field "$line" var)" = "v-${want[$i]}" ]
		[ -n "$(field "$line" pid)" ]
	done
	# prestart, createRuntime: runtime namespace, the init exists already in
	# its own mount namespace.
	for i in 0 1; do
		line=${lines[$i]}
		[ "$(field "$line" own_mnt)" = "$host_mnt" ]
		[ "$(field "$line" own_uts)" = "$host_uts" ]
		[ "$(field "$line" alive)" = yes ]
		[ "$(field "$line" pid_mnt)" != "$host_mnt" ]
		# The spec's lifecycle runs them at step 3-4, and "created" is
		# "after step 2" (runc 1.1 says "creating"; crun "created").
		[ "$(field "$line" status)" = created ]
	done
	# createContainer: in the container's namespaces (mount, uts: hostname).
	line=${lines[2]}
	[ "$(field "$line" own_mnt)" != "$host_mnt" ]
	[ "$(field "$line" own_mnt)" = "$(field "${lines[0]}" pid_mnt)" ]
	[ "$(field "$line" host)" = "$(jq -r .hostname "$BUNDLE/config.json")" ]
	[ "$(field "$line" status)" = created ]
	# poststart: runtime namespace, container running.
	line=${lines[3]}
	[ "$(field "$line" own_mnt)" = "$host_mnt" ]
	[ "$(field "$line" status)" = running ]
	# poststop: runtime namespace, the process is gone.
	line=${lines[4]}
	[ "$(field "$line" own_mnt)" = "$host_mnt" ]
	[ "$(field "$line" status)" = stopped ]
	[ "$(field "$line" alive)" = no ]
	# startContainer: inside the container (after pivot_root: /hook.sh is
	# the rootfs's), before the process runs.
	run cat "$BUNDLE/rootfs/tmp/in.log"
	[ "${#lines[@]}" -eq 2 ]
	[ "$(echo "${lines[0]}" | cut -d' ' -f1)" = startContainer ]
	[ "$(field "${lines[0]}" var)" = v-startContainer ]
	[ "$(field "${lines[0]}" status)" = created ]
	[ "$(field "${lines[0]}" own_mnt)" != "$host_mnt" ]
	[ "${lines[1]}" = main ]
	assert_no_leftovers
}

@test "create/start split: createRuntime at create, startContainer and poststart at start, poststop at delete" {
	for s in createRuntime poststart poststop; do add_hook $s "$HOOK"; done
	add_hook startContainer /hook.sh
	set_args sleep 100
	ocirun create "$CID" </dev/null >/dev/null 2>&1 3>&-
	run cat "$LOG"
	assert_output --regexp '^createRuntime '
	[ ! -e "$BUNDLE/rootfs/tmp/in.log" ]
	ocirun start "$CID"
	wait_for_file "$BUNDLE/rootfs/tmp/in.log"
	run cat "$LOG"
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 1 --regexp '^poststart status=running'
	ocirun delete --force "$CID"
	run cat "$LOG"
	[ "${#lines[@]}" -eq 3 ]
	assert_line --index 2 --regexp '^poststop status=stopped'
}

# runc runs the hooks from the bundle (its create chdirs there), and hooks
# written for it use paths relative to it. createContainer runs from the
# rootfs, as in runc: it runs in the init before pivot_root, with the
# container's mounts in place (crun runs it from the bundle).
@test "the runtime's hooks run with the bundle as working directory, createContainer with the rootfs" {
	local s
	for s in prestart createRuntime createContainer poststart poststop; do
		update_config ".hooks.$s += [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"echo $s \$(pwd) >> \$0\", \$l]}]" \
			--arg l "$LOG"
	done
	update_config '.hooks.createContainer += [{"path": "/bin/sh", "args": ["sh", "-c", "test -e proc/self"]}]'
	set_args true
	cd /
	run -0 ocirun run --bundle "$BUNDLE" "$CID"
	run -0 cat "$LOG"
	assert_equal "$output" "$(printf '%s\n' "prestart $BUNDLE" "createRuntime $BUNDLE" \
		"createContainer $BUNDLE/rootfs" "poststart $BUNDLE" "poststop $BUNDLE")"
	assert_no_leftovers
}

@test "poststop hooks still run, where delete runs, when the bundle was removed first" {
	update_config '.hooks.poststop += [{"path": "/bin/sh", "args": ["sh", "-c", "echo poststop $(pwd) >> $0", $l]}]' \
		--arg l "$LOG"
	# the rootfs stays where the container can use it; only the bundle dir goes
	mv "$BUNDLE/rootfs" "$TEST_TMP/rootfs"
	update_config '.root.path = $r' --arg r "$TEST_TMP/rootfs"
	set_args sleep 100
	create_container "$CID"
	cd /
	rm -rf "$BUNDLE"
	run -0 ocirun delete --force "$CID"
	refute_output --partial "chdir"
	run -0 cat "$LOG"
	assert_output "poststop /"
	assert_no_leftovers
}

@test "with linux.timeOffsets, the runtime's hooks see the host's clocks and the process its own" {
	update_config '.linux.namespaces += [{"type": "time"}] |
		.linux.timeOffsets = {"monotonic": {"secs": 86400, "nanosecs": 0},
		                      "boottime": {"secs": 172800, "nanosecs": 0}}'
	for s in prestart createRuntime poststart poststop; do
		update_config ".hooks.$s += [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\",
			\"echo $s \$(readlink /proc/self/ns/time) \$(cut -d. -f1 /proc/uptime) >> $LOG\"]}]"
	done
	set_args sh -c 'echo "process $(readlink /proc/self/ns/time) $(cut -d. -f1 /proc/uptime)"'
	run -0 ocirun run "$CID"
	local host_ns host_up
	host_ns=$(readlink /proc/self/ns/time)
	host_up=$(cut -d. -f1 /proc/uptime)
	# The process: another namespace, two days more uptime (boottime).
	local words=($output)
	[ "${words[0]}" = process ]
	[ "${words[1]}" != "$host_ns" ]
	[ "${words[2]}" -ge $((host_up + 172800 - 60)) ]
	run cat "$LOG"
	[ "${#lines[@]}" -eq 4 ]
	for line in "${lines[@]}"; do
		words=($line)
		[ "${words[1]}" = "$host_ns" ] || fail "$line: not the host's time namespace ($host_ns)"
		[ "${words[2]}" -le "$host_up" ] || fail "$line: uptime is not the host's ($host_up)"
	done
	assert_no_leftovers
}

@test "delete --force while a foreground run waits: the poststop hooks run once" {
	# The hook is slow, so run's own cleanup comes while delete is in it.
	update_config '.hooks.poststop = [{"path": "/bin/sh",
		"args": ["sh", "-c", "echo poststop >> \"$0\"; sleep 1", $l]}]' --arg l "$LOG"
	set_args sleep 100
	run_bg run ocirun run "$CID"
	wait_for_status "$CID" running
	run -0 ocirun delete --force "$CID"
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$(cat "$TEST_TMP/run.pid")" 2>/dev/null || break
		sleep 0.1
	done
	run cat "$LOG"
	assert_output "poststop"
	assert_no_leftovers
}

# A failing hook before start: create fails naming stage and path, nothing
# of the container remains, the process never ran.
assert_create_fails_with_hook() {
	local stage=$1 path=$2
	add_hook "$stage" "$path" '{"env": ["HOOK_EXIT=3"]}'
	add_hook poststop "$HOOK"
	set_args touch /tmp/ran
	run ocirun run "$CID"
	assert_failure
	assert_output --partial "$stage"
	assert_output --partial "$path"
	assert_output --partial "status 3"
	[ ! -e "$BUNDLE/rootfs/tmp/ran" ]
	# and the lifecycle went on with poststop, as the spec says
	run grep -c '^poststop status=stopped' "$LOG"
	assert_output 1
	assert_no_leftovers
}

@test "a failing prestart hook aborts create and rolls back" {
	assert_create_fails_with_hook prestart "$HOOK"
}

@test "a failing createRuntime hook aborts create and rolls back" {
	assert_create_fails_with_hook createRuntime "$HOOK"
}

@test "a failing createContainer hook aborts create and rolls back" {
	assert_create_fails_with_hook createContainer "$HOOK"
}

@test "a missing hook binary aborts create naming it" {
	add_hook createRuntime /no/such/hook
	run ocirun create "$CID" </dev/null 3>&-
	assert_failure
	assert_output --partial /no/such/hook
	assert_output --partial createRuntime
	assert_no_leftovers
}

@test "a failing startContainer hook stops the container before its process runs" {
	add_hook startContainer /hook.sh '{"env": ["HOOK_EXIT=4"]}'
	set_args touch /tmp/ran
	run ocirun run "$CID"
	assert_failure
	assert_output --partial startContainer
	[ ! -e "$BUNDLE/rootfs/tmp/ran" ]
	assert_no_leftovers
}

@test "start fails when a startContainer hook fails: the error names the hook, poststart does not run, the process never runs" {
	add_hook startContainer /hook.sh '{"env": ["HOOK_EXIT=4"]}'
	add_hook poststart "$HOOK"
	set_args touch /tmp/ran
	ocirun create "$CID" </dev/null >/dev/null 2>&1 3>&-
	run ocirun start "$CID"
	assert_failure
	assert_output --partial startContainer
	assert_output --partial /hook.sh
	assert_output --partial "$CID"
	[ ! -e "$BUNDLE/rootfs/tmp/ran" ]
	[ ! -e "$LOG" ]
	wait_for_status "$CID" stopped
	run -0 ocirun delete "$CID"
	assert_no_leftovers
}

@test "run --detach with a failing startContainer hook fails and leaves nothing" {
	add_hook startContainer /hook.sh '{"env": ["HOOK_EXIT=4"]}'
	set_args touch /tmp/ran
	run ocirun run -d "$CID" </dev/null 3>&-
	assert_failure
	assert_output --partial startContainer
	[ ! -e "$BUNDLE/rootfs/tmp/ran" ]
	run ocirun state "$CID"
	assert_failure
	assert_no_leftovers
}

@test "a relative hook path is a config error naming the field, before anything runs" {
	update_config '.hooks.poststop = [{"path": "bin/true"}]'
	run ocirun run "$CID"
	assert_failure
	assert_output --partial 'config.json: hooks.poststop[0].path: must be an absolute path'
	assert_no_leftovers
}

@test "a hook that runs past its timeout is killed and create fails" {
	update_config '.hooks.createRuntime = [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]'
	local t0=$SECONDS
	run ocirun run "$CID"
	assert_failure
	assert_output --partial "timed out"
	assert_output --partial createRuntime
	[ $((SECONDS - t0)) -lt 10 ]
	assert_no_leftovers
}

# The warning has crun's words ("poststop hook failed with exit code N"),
# which its users grep for, and names the container and the hook.
@test "a failing poststop hook warns, and the poststop hooks after it still run" {
	add_hook poststop "$HOOK" '{"env": ["HOOK_EXIT=6"]}'
	add_hook poststop "$HOOK"
	set_args sh -c 'exit 7'
	run -7 ocirun run "$CID"
	assert_output "ocirun: warning: container \"$CID\": error running hook: poststop hook failed with exit code 6 (hook #0 \"$HOOK\")"
	run -0 grep -c '^poststop status=stopped' "$LOG"
	assert_output 2
	assert_no_leftovers
}

# Runtime spec 1.2, lifecycle: a failing poststart hook is an error; the
# container is stopped and the lifecycle goes on with delete (poststop).
@test "run: a failing poststart hook is an error, the container is stopped and deleted, poststop runs" {
	add_hook poststart "$HOOK" '{"env": ["HOOK_EXIT=5"]}'
	add_hook poststop "$HOOK"
	set_args sleep 100
	local t0=$SECONDS
	run ocirun run "$CID"
	assert_failure
	assert_output --partial 'poststart hook #0'
	assert_output --partial "exited with status 5"
	[ $((SECONDS - t0)) -lt 20 ]
	run -0 grep -c '^poststop status=stopped' "$LOG"
	assert_output 1
	run ocirun state "$CID"
	assert_failure
	assert_no_leftovers
}

@test "start: a failing poststart hook fails start, and the container is deleted with poststop" {
	add_hook poststart "$HOOK" '{"env": ["HOOK_EXIT=5"]}'
	add_hook poststop "$HOOK"
	set_args sleep 100
	create_container "$CID"
	run ocirun start "$CID"
	assert_failure
	assert_output --partial 'poststart hook #0'
	assert_output --partial "$CID"
	run -0 grep -c '^poststop status=stopped' "$LOG"
	assert_output 1
	run ocirun state "$CID"
	assert_failure
	assert_no_leftovers
}

# A hook without an "env" key gets the runtime's environment, as with runc
# and crun (Go's exec.Cmd inherits a nil Env; crun passes environ), which
# hooks that find their tools through the caller's PATH rely on; "env": []
# is an empty environment. The poststop hook runs in `delete`, with delete's.
@test "a hook without env gets the runtime's environment; \"env\": [] gets none" {
	update_config '.hooks.prestart = [{"path": $p, "args": ["h", "prestart", $l]}]
		| .hooks.createRuntime = [{"path": $p, "args": ["h", "createRuntime", $l], "env": []}]
		| .hooks.poststop = [{"path": $p, "args": ["h", "poststop", $l]}]' \
		--arg p "$HOOK" --arg l "$LOG"
	set_args true
	export HOOKVAR=from-create
	create_container "$CID"
	run -0 ocirun start "$CID"
	wait_for_status "$CID" stopped
	export HOOKVAR=from-delete
	run -0 ocirun delete "$CID"
	unset HOOKVAR
	run -0 cat "$LOG"
	assert_line --regexp '^prestart .* var=from-create argv0='
	assert_line --regexp '^createRuntime .* var= argv0='
	assert_line --regexp '^poststop .* var=from-delete argv0='
	assert_no_leftovers
}

# say_hook STAGE: a hook that writes one line to its stdout and one to its
# stderr (/bin/sh, which is also the rootfs's busybox for the hooks that
# run inside the container).
say_hook() {
	update_config ".hooks.$1 += [{\"path\": \"/bin/sh\",
		\"args\": [\"sh\", \"-c\", \"echo $1 stdout message; echo $1 stderr message >&2\"]}]"
}

@test "run.oci.hooks.stdout and run.oci.hooks.stderr: every hook's output goes to those files" {
	skip_unless_ocirun "crun's annotations; runc has no such switch"
	for s in prestart createRuntime createContainer startContainer poststart poststop; do say_hook $s; done
	echo "before" >"$TEST_TMP/hooks.out"
	update_config '.annotations["run.oci.hooks.stdout"] = $o | .annotations["run.oci.hooks.stderr"] = $e' \
		--arg o "$TEST_TMP/hooks.out" --arg e "$TEST_TMP/hooks.err"
	set_args echo main
	run -0 ocirun run "$CID"
	# Nothing of the hooks' on the runtime's own stdout/stderr.
	assert_output "main"
	# Appended to an existing file; created (0600) when missing.
	run -0 cat "$TEST_TMP/hooks.out"
	assert_output "before
prestart stdout message
createRuntime stdout message
createContainer stdout message
startContainer stdout message
poststart stdout message
poststop stdout message"
	run -0 cat "$TEST_TMP/hooks.err"
	assert_output "prestart stderr message
createRuntime stderr message
createContainer stderr message
startContainer stderr message
poststart stderr message
poststop stderr message"
	run -0 stat -c %a "$TEST_TMP/hooks.err"
	assert_output "600"
	assert_no_leftovers
}

@test "run.oci.hooks.stderr that cannot be opened is an error naming the annotation, and nothing is left" {
	skip_unless_ocirun "crun's annotations; runc has no such switch"
	say_hook prestart
	update_config '.annotations["run.oci.hooks.stderr"] = $e' --arg e "$TEST_TMP/no/such/dir/err"
	run -1 ocirun run "$CID"
	assert_ocirun_output "run.oci.hooks.stderr: open \"$TEST_TMP/no/such/dir/err\": No such file or directory"
	refute_output --partial "stderr message"
	assert_no_leftovers
}
