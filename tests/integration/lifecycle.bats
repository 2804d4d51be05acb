#!/usr/bin/env bats
# The basic runc-compatible lifecycle: run, create/start, kill, delete, list,
# state, ids, and the error paths of create. Every test runs unchanged
# against runc (OCIRUN=/usr/sbin/runc) as a control; checks of ocirun's own
# message wording go through assert_ocirun_output.

load helpers

setup() {
	setup_bundle
	# Tests write marker files into the (private) rootfs.
	update_config '.root.readonly = false'
}

@test "run prints from inside the container and returns its exit code" {
	set_args sh -c 'echo hello from inside; exit 3'
	run -3 ocirun run "$CID"
	assert_output "hello from inside"
	# run = create + start + wait + delete: nothing may remain.
	assert_no_leftovers
}

@test "run of the example config prints from inside" {
	run -0 ocirun run "$CID"
	refute_output ""
}

@test "run returns 128+N when the container is killed by signal N" {
	set_args sleep 100
	ocirun run "$CID" </dev/null >/dev/null 2>&1 3>&- &
	local runner=$!
	wait_for_status "$CID" running
	run -0 ocirun kill "$CID" KILL
	local status=0
	wait "$runner" || status=$?
	[ "$status" -eq 137 ]
	assert_no_leftovers
}

@test "create leaves a created container whose process is not yet the program" {
	set_args sh -c 'touch /started; exec sleep 100'
	create_container "$CID"
	run -0 ocirun state "$CID"
	assert_equal "$(jq -r .status <<<"$output")" created
	assert_equal "$(jq -r .id <<<"$output")" "$CID"
	local pid
	pid=$(jq -r .pid <<<"$output")
	[ "$pid" -gt 0 ]
	[ -d "/proc/$pid" ]
	# The user program has not run: no marker, and not its command line.
	sleep 0.2
	[ ! -e "$BUNDLE/rootfs/started" ]
	run cat "/proc/$pid/cmdline"
	refute_output --partial "touch /started"
	refute_output --partial "sleep"

	run -0 ocirun start "$CID"
	wait_for_file "$BUNDLE/rootfs/started"
	assert_equal "$(container_status "$CID")" running
	assert_equal "$(container_pid "$CID")" "$pid"
	run cat "/proc/$pid/cmdline"
	assert_output --partial "sleep"

	run -0 ocirun kill "$CID" KILL
	wait_for_status "$CID" stopped
	run -0 ocirun delete "$CID"
	[ ! -e "$ROOT/$CID" ]
	assert_no_leftovers
}

@test "a started container stops when its program exits" {
	set_args sh -c 'exit 0'
	create_container "$CID"
	run -0 ocirun start "$CID"
	wait_for_status "$CID" stopped
	run -0 ocirun delete "$CID"
	assert_no_leftovers
}

@test "start of a container that is not created fails naming the id" {
	run -1 ocirun start "$CID"
	assert_ocirun_output "$CID"
}

@test "kill accepts signal names and numbers" {
	set_args sleep 100
	local sig id
	for sig in KILL SIGKILL 9; do
		id="$CID-$sig"
		create_container "$id"
		run -0 ocirun start "$id"
		wait_for_status "$id" running
		run -0 ocirun kill "$id" "$sig"
		wait_for_status "$id" stopped
		run -0 ocirun delete "$id"
		assert_no_leftovers "$id"
	done
}

@test "kill without a signal sends SIGTERM, which the program can catch" {
	set_args sh -c 'trap "touch /got-term; exit 0" TERM; touch /ready; while :; do sleep 0.1; done'
	create_container "$CID"
	run -0 ocirun start "$CID"
	wait_for_file "$BUNDLE/rootfs/ready"
	run -0 ocirun kill "$CID"
	wait_for_status "$CID" stopped
	[ -e "$BUNDLE/rootfs/got-term" ]
}

@test "kill --all reaches every process in the container; on a stopped one it succeeds, plain kill fails" {
	set_args sleep 100
	run_detached "$CID"
	wait_for_status "$CID" running
	ocirun exec -d --pid-file "$TEST_TMP/second" "$CID" sleep 100 </dev/null >/dev/null 2>&1 3>&-
	local init second i
	init=$(container_pid "$CID")
	second=$(cat "$TEST_TMP/second")
	run -0 ocirun kill --all "$CID" KILL
	for ((i = 0; i < 40; i++)); do
		[ -d "/proc/$init" ] || [ -d "/proc/$second" ] || break
		sleep 0.05
	done
	[ ! -d "/proc/$init" ] && [ ! -d "/proc/$second" ]
	wait_for_status "$CID" stopped
	run -0 ocirun kill --all "$CID" KILL
	run ocirun kill "$CID" KILL
	assert_failure
	assert_output --partial "$CID"
}

@test "kill with an unknown signal fails" {
	set_args sleep 100
	create_container "$CID"
	run ocirun kill "$CID" NOSUCHSIG
	assert_failure
	assert_ocirun_output "NOSUCHSIG"
	assert_equal "$(container_status "$CID")" created
}

@test "delete removes the state dir of a created container" {
	set_args sleep 100
	create_container "$CID"
	[ -d "$ROOT/$CID" ]
	local pid
	pid=$(container_pid "$CID")
	run -0 ocirun delete "$CID"
	[ ! -e "$ROOT/$CID" ]
	run ocirun state "$CID"
	assert_failure
	assert_ocirun_output "$CID"
	# The init process is gone (it may linger as a zombie only briefly).
	local i
	for ((i = 0; i < 40; i++)); do [ -d "/proc/$pid" ] || break; sleep 0.05; done
	[ ! -d "/proc/$pid" ]
	assert_no_leftovers
}

@test "delete refuses a running container; delete --force removes it" {
	set_args sleep 100
	run_detached "$CID"
	wait_for_status "$CID" running
	local pid
	pid=$(container_pid "$CID")
	run ocirun delete "$CID"
	assert_failure
	assert_output --partial "$CID"
	assert_equal "$(container_status "$CID")" running

	run -0 ocirun delete --force "$CID"
	[ ! -e "$ROOT/$CID" ]
	local i
	for ((i = 0; i < 40; i++)); do [ -d "/proc/$pid" ] || break; sleep 0.05; done
	[ ! -d "/proc/$pid" ]
	assert_no_leftovers
}

@test "delete --force removes the state dir a killed create left without state.json; plain delete names the id" {
	# What `create` leaves when it is SIGKILLed before it writes state.json.
	mkdir -p "$ROOT/$CID"
	run ocirun delete "$CID"
	assert_failure
	assert_output --partial "$CID"
	[ -d "$ROOT/$CID" ]
	run -0 ocirun delete --force "$CID"
	[ ! -e "$ROOT/$CID" ]
	# and the id can be used again
	set_args true
	run -0 ocirun run "$CID"
	assert_no_leftovers
}

@test "delete --regex deletes every container whose id matches, and only those" {
	set_args sleep 100
	local id
	for id in "$CID-web1" "$CID-web2" "$CID-db1"; do create_container "$id"; done
	run_detached "$CID-webrun"
	wait_for_status "$CID-webrun" running
	# not anchored, as crun's: "web" matches all three web containers; the
	# running one is refused without --force, the created ones still go
	run ocirun delete --regex "$CID-web"
	assert_failure
	assert_output --partial "$CID-webrun"
	[ ! -e "$ROOT/$CID-web1" ] && [ ! -e "$ROOT/$CID-web2" ]
	assert_equal "$(container_status "$CID-webrun")" running
	assert_equal "$(container_status "$CID-db1")" created
	run -0 ocirun delete -f -r "^$CID-web"
	[ ! -e "$ROOT/$CID-webrun" ]
	assert_equal "$(container_status "$CID-db1")" created
	run -0 ocirun delete --force --regex "$CID-db1\$"
	run -0 ocirun list -q
	assert_output ""
	for id in "$CID-web1" "$CID-web2" "$CID-db1" "$CID-webrun"; do assert_no_leftovers "$id"; done
}

@test "delete --regex: an invalid pattern is a usage error naming it, deleting nothing" {
	set_args sleep 100
	create_container "$CID"
	run ocirun delete --regex "$CID("
	assert_failure
	assert_output --partial "--regex \"$CID(\""
	assert_equal "$(container_status "$CID")" created
}

@test "--config FILE: the configuration comes from FILE, the rootfs from the bundle" {
	set_args sh -c 'echo from-bundle-config'
	mkdir "$TEST_TMP/other"
	jq '.process.args = ["sh", "-c", "echo from-other-config; hostname"] | .hostname = "other"' \
		config.json >"$TEST_TMP/other/conf.json"
	run -0 ocirun run --config "$TEST_TMP/other/conf.json" "$CID"
	assert_output $'from-other-config\nother'
	# relative to the current directory, as every path option; create too
	cd "$TEST_TMP"
	create_container --config other/conf.json "$CID"
	assert_equal "$(ocirun state "$CID" | jq -r .bundle)" "$BUNDLE"
	run -0 ocirun start "$CID"
	run -0 ocirun delete --force "$CID"
	assert_no_leftovers
}

@test "--config FILE: its errors name FILE, not config.json, and leave nothing" {
	jq '.process.args = []' config.json >"$TEST_TMP/bad.json"
	run ocirun run --config "$TEST_TMP/bad.json" "$CID"
	assert_failure
	assert_output --partial "$TEST_TMP/bad.json: process.args: must not be empty"
	jq '.annotations["run.oci.hooks.stdout"] = "/nonexistent/out"' config.json >"$TEST_TMP/bad.json"
	run ocirun run --config "$TEST_TMP/bad.json" "$CID"
	assert_failure
	assert_output --partial "$TEST_TMP/bad.json: annotations: run.oci.hooks.stdout"
	run ocirun run --config "$TEST_TMP/missing.json" "$CID"
	assert_failure
	assert_output --partial "$TEST_TMP/missing.json"
	assert_no_leftovers
}

@test "list shows the containers' ids, -q and json" {
	set_args sleep 100
	create_container "$CID-a"
	create_container "$CID-b"

	run -0 ocirun list -q
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "$CID-a $CID-b "

	run -0 ocirun list --format json
	assert_equal "$(jq -r '.[].id' <<<"$output" | sort | tr '\n' ' ')" "$CID-a $CID-b "
	assert_equal "$(jq -r '.[].status' <<<"$output" | sort -u)" created

	run -0 ocirun list
	assert_line --index 0 --regexp '^ID +PID +STATUS'
	assert_output --partial "$CID-a"
}

@test "list of an empty root prints nothing with -q" {
	run -0 ocirun list -q
	assert_output ""
}

@test "a duplicate id is an error naming the id" {
	set_args sleep 100
	create_container "$CID"
	run ocirun create --bundle "$BUNDLE" "$CID" </dev/null
	assert_failure
	assert_ocirun_output "$CID"
	# The first container is untouched.
	assert_equal "$(container_status "$CID")" created
}

@test "invalid container ids are rejected" {
	local id
	for id in "a/b" ".." "" "../escape"; do
		run ocirun create --bundle "$BUNDLE" "$id" </dev/null
		assert_failure
		[ -n "$id" ] && assert_ocirun_output "$id"
	done
	# Nothing was made outside the state dir.
	[ ! -e "$TEST_TMP/escape" ]
	[ ! -e "$TEST_TMP/state.json" ]
	[ ! -e "$ROOT/a" ]
}

# A new id also names cgroups, a systemd unit and a state directory: runc's
# characters only (a space or ':' is refused as runc refuses it), and no
# leading '.' (list skips such entries of the state root; runc takes it).
@test "new container ids: only runc's characters, no leading '.'" {
	local id
	for id in "foo bar" "a:b" ".foo" "tab$(printf '\t')x"; do
		# Into a file: a created init would hold a pipe of `run` open.
		if ocirun create --bundle "$BUNDLE" "$id" </dev/null >"$TEST_TMP/out" 2>&1; then
			ocirun delete -f "$id"
			fail "\"$id\" was taken"
		fi
		run -0 cat "$TEST_TMP/out"
		assert_ocirun_output "invalid container ID"
		if is_runtime ocirun && [ "$id" != ".foo" ]; then
			assert_output --partial "invalid character"
		fi
	done
	assert_no_leftovers
	set_args true
	run -0 ocirun run "A,b+c-d.e_F9" </dev/null
	run -1 ocirun state "A,b+c-d.e_F9"
	assert_no_leftovers "A,b+c-d.e_F9"
}

@test "the hostname inside is the config's" {
	update_config '.hostname = "ocitest-host"'
	set_args hostname
	run -0 ocirun run "$CID"
	assert_output "ocitest-host"
}

@test "the program is PID 1 in the container's ps" {
	set_args ps -o pid,args
	run -0 ocirun run "$CID"
	assert_line --regexp '^ *1 +ps -o pid,args$'
	# Only the program itself: no runtime helper inside the pid namespace.
	assert_equal "${#lines[@]}" 2
}

@test "a new network namespace has only lo, and it is up" {
	set_args sh -c 'ls /sys/class/net; cat /sys/class/net/lo/operstate; ip -o link show lo'
	run -0 ocirun run "$CID"
	assert_line --index 0 "lo"
	assert_line --partial "LOOPBACK,UP"
	refute_output --partial "eth"
}

@test "the container has its own pid namespace" {
	set_args sh -c 'echo pid=$$; readlink /proc/self/ns/pid; cat /proc/self/status'
	run -0 ocirun run "$CID"
	assert_line "pid=1"
	# Seen through the container's /proc, cat is in one pid namespace only.
	assert_line --regexp '^NSpid:[[:space:]]+[0-9]+$'
	refute_output --partial "$(readlink /proc/self/ns/pid)"
}

@test "the host sees the container's init in a nested pid namespace" {
	set_args sleep 100
	create_container "$CID"
	run -0 ocirun start "$CID"
	local pid
	pid=$(container_pid "$CID")
	# NSpid lists the pid in each namespace: the host's, then the container's 1.
	run grep NSpid "/proc/$pid/status"
	assert_output --regexp "^NSpid:[[:space:]]+$pid[[:space:]]+1$"
}

@test "run --detach returns while the container keeps running" {
	set_args sleep 100
	run_detached "$CID"
	assert_equal "$(container_status "$CID")" running
	local pid
	pid=$(container_pid "$CID")
	[ -d "/proc/$pid" ]
	run -0 ocirun delete --force "$CID"
	assert_no_leftovers
}

@test "--pid-file is written with the init pid (create and run -d)" {
	set_args sleep 100
	create_container --pid-file "$TEST_TMP/create.pid" "$CID"
	assert_equal "$(cat "$TEST_TMP/create.pid")" "$(container_pid "$CID")"

	run_detached --pid-file "$TEST_TMP/run.pid" "$CID-d"
	assert_equal "$(cat "$TEST_TMP/run.pid")" "$(container_pid "$CID-d")"
}

@test "--pid-file in a shared directory never writes through a planted symlink" {
	set_args sleep 100
	local pubdir=$TEST_TMP/pub
	mkdir -m 1777 "$pubdir"
	echo precious >"$TEST_TMP/victim"
	# What another user of a sticky /tmp-like directory could plant: the
	# pid file itself and the fixed temporary name once used beside it.
	ln -s "$TEST_TMP/victim" "$pubdir/pid"
	ln -s "$TEST_TMP/victim" "$pubdir/pid.tmp"
	create_container --pid-file "$pubdir/pid" "$CID"
	assert_equal "$(cat "$TEST_TMP/victim")" "precious"
	[ -f "$pubdir/pid" ] && [ ! -L "$pubdir/pid" ]
	assert_equal "$(cat "$pubdir/pid")" "$(container_pid "$CID")"
	# Nothing else left in the directory: no temporary file.
	assert_equal "$(ls "$pubdir" | tr '\n' ' ')" "pid pid.tmp "
}

@test "state of an unknown container fails naming the id" {
	run ocirun state "$CID"
	assert_failure
	assert_ocirun_output "$CID"
}

# The spec: process is optional until start, and start MUST fail without
# one. create makes the container (its namespaces, mounts, cgroup); exec
# into it inherits nothing; start refuses it and leaves it stopped; delete
# removes it. run, which starts at once, refuses the config up front.
@test "a config without process: created, start refuses it (stopped), delete removes it; run refuses it" {
	skip_unless_ocirun "runc 1.1 refuses it at create"
	update_config 'del(.process)'
	create_container "$CID"
	assert_equal "$(container_status "$CID")" created
	local pid
	pid=$(container_pid "$CID")
	[ -d "/proc/$pid" ]
	# exec has no process to inherit from: root in "/", no capability.
	run -0 ocirun exec "$CID" sh -c 'pwd; grep CapEff /proc/self/status'
	assert_line --index 0 /
	assert_line --index 1 --regexp '^CapEff:[[:space:]]+0+$'
	run -1 ocirun start "$CID"
	assert_output --partial "container \"$CID\": its config.json has no process: nothing to start"
	wait_for_status "$CID" stopped
	run -0 ocirun delete "$CID"
	assert_no_leftovers
	run -1 ocirun run "$CID"
	assert_output --partial "config.json: process: required to run a container"
	assert_no_leftovers
}

@test "missing config.json is an error naming it, leaving nothing" {
	rm "$BUNDLE/config.json"
	run ocirun run "$CID" </dev/null
	assert_failure
	assert_output --partial "config.json"
	assert_no_leftovers
}

@test "invalid JSON in config.json is an error naming the file and line" {
	printf '{\n  "ociVersion": "1.0.2",\n  "process": nonsense\n}\n' >"$BUNDLE/config.json"
	run ocirun run "$CID" </dev/null
	assert_failure
	assert_ocirun_output "config.json"
	is_runtime ocirun && assert_output --regexp 'line[^0-9]{0,3}3'
	assert_no_leftovers
}

@test "a bind mount of a missing source is an error naming the source, leaving nothing" {
	update_config '.mounts += [{"destination": "/mnt/x", "type": "bind",
		"source": "/nonexistent-ocitest-src", "options": ["bind"]}]'
	run ocirun run "$CID" </dev/null
	assert_failure
	assert_output --partial "/nonexistent-ocitest-src"
	[ ! -e "$ROOT/$CID" ]
	assert_no_leftovers
}

@test "a missing rootfs is an error, leaving nothing" {
	rm -rf "$BUNDLE/rootfs"
	run ocirun run "$CID" </dev/null
	assert_failure
	assert_output --partial "rootfs"
	assert_no_leftovers
}

@test "apparmorProfile and selinuxLabel are refused on a host without them, leaving nothing" {
	skip_unless_ocirun "runc ignores labels when the LSM is absent"
	update_config '.process.apparmorProfile = "docker-default"'
	run -1 ocirun run "$CID"
	assert_output --partial "process.apparmorProfile"
	assert_output --partial "AppArmor is not enabled"
	assert_no_leftovers
	update_config 'del(.process.apparmorProfile) | .process.selinuxLabel = "system_u:system_r:container_t:s0"'
	run -1 ocirun run "$CID"
	assert_output --partial "process.selinuxLabel"
	assert_no_leftovers
}

@test "--debug: runc's text lines on stderr; with --log only in the file, as text or JSON" {
	set_args echo hello
	run -0 --separate-stderr ocirun --debug run "$CID"
	assert_output hello
	[[ "$stderr" == *'level=debug msg="'* ]] || fail "no runc-style debug line on stderr: $stderr"
	local fmt log
	for fmt in text json; do
		log="$BATS_TEST_TMPDIR/log.$fmt"
		run -0 --separate-stderr ocirun --debug --log "$log" --log-format "$fmt" run "$CID"
		[[ "$stderr" != *level=debug* ]] || fail "debug lines on stderr with --log: $stderr"
		if [ "$fmt" = text ]; then
			grep -q '^time="[^"]*" level=debug msg="' "$log" || fail "$(cat "$log")"
		else
			grep -q '^{"level":"debug","msg":"' "$log" || fail "$(cat "$log")"
		fi
	done
	# The milestones in runc's words, from the runtime and from the init
	# (its lines reach the same log), which runc's tests and scripts grep.
	local m
	for m in "nsexec container setup" "child process in init()" \
		"init: closing the pipe to signal completion"; do
		grep -qF "$m" "$log" || fail "no \"$m\" in: $(cat "$log")"
	done
	# exec's, also before a seccomp filter that would refuse write(2)
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["write"], "action": "SCMP_ACT_ERRNO"}]}'
	set_args sleep 600
	run_detached "$CID"
	run -0 --separate-stderr ocirun --debug exec "$CID" true
	for m in "nsexec container setup" "child process in init()" "setns_init: about to exec"; do
		[[ "$stderr" == *"$m"* ]] || fail "no \"$m\" in: $stderr"
	done
}
