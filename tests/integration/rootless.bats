#!/usr/bin/env bats
# Rootless: an unprivileged user runs ocirun on a bundle made by
# `ocirun spec --rootless`, with a state root in its own XDG_RUNTIME_DIR.
# Each test creates a user and removes it (teardown_userns).

load helpers
load userns_helpers

setup() {
	setup_bundle
	make_rootless_user
	make_rl_bundle 1
}

teardown() { teardown_userns; }

@test "rootless run: the caller is root inside, no cgroup of its own, only lo in its netns" {
	rl_set_args sh -c 'id -u; cat /proc/self/uid_map /proc/self/gid_map; cat /proc/self/setgroups
		tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; sed -n "\$p" /proc/self/cgroup
		find /sys/fs/cgroup -maxdepth 2 -name cgroup.procs | wc -l'
	local own
	own=$(sed -n '$p' /proc/self/cgroup)
	run -0 rl_ocirun run --bundle "$RL_BUNDLE" "$CID"
	assert_line --index 0 0
	[ "$(echo "${lines[1]}" | tr -s ' ')" = " 0 $RL_UID 1" ]
	[ "$(echo "${lines[2]}" | tr -s ' ')" = " 0 $RL_GID 1" ]
	# Mapping its own gid alone, the user had to deny setgroups.
	assert_line --index 3 deny
	# Only lo: the network namespace is the container's own.
	assert_line --index 4 lo
	# The caller's own cgroup, none made for it; seen from the host's root:
	# `spec --rootless` makes no cgroup namespace (runc 1.1's list).
	assert_line --index 5 "$own"
	# Its "cgroup" mount shows those cgroups (bound, as runc does), not an
	# empty directory with a warning on stderr.
	[ "${lines[6]}" -gt 0 ] || fail "/sys/fs/cgroup is empty inside: $output"
	[ "${#lines[@]}" = 7 ]
	# No cgroup named after the container (teardown checks the same).
	[ -z "$(find /sys/fs/cgroup -maxdepth 3 -name "*$CID*" 2>/dev/null)" ]
}

@test "rootless: create/start/state/kill/delete by the user; state dir is the user's" {
	rl_set_args sleep 100
	rl_ocirun create --bundle "$RL_BUNDLE" "$CID" </dev/null >/dev/null 2>&1 3>&-
	[ "$(stat -c %U "$ROOT/$CID")" = "$RL_USER" ]
	run -0 rl_ocirun start "$CID"
	run -0 rl_ocirun state "$CID"
	[ "$(echo "$output" | jq -r .status)" = running ]
	[ "$(echo "$output" | jq -r .owner)" = "$RL_USER" ]
	local pid
	pid=$(echo "$output" | jq -r .pid)
	[ "$(stat -c %u "/proc/$pid")" = "$RL_UID" ]
	run -0 rl_ocirun kill "$CID" KILL
	wait_for_status "$CID" stopped
	run -0 rl_ocirun delete "$CID"
	[ ! -e "$ROOT/$CID" ]
}

@test "rootless: exec joins the container (its user namespace before its pid namespace)" {
	rl_set_args sleep 100
	rl_ocirun run -d --bundle "$RL_BUNDLE" "$CID" </dev/null >/dev/null 2>&1 3>&-
	run -0 rl_ocirun exec "$CID" sh -c 'id -u; readlink /proc/$$/ns/pid; ls /proc/$$/fd; true'
	assert_line --index 0 0
	assert_line --index 1 "$(readlink "/proc/$(container_pid "$CID")/ns/pid")"
	[ "${lines[*]:2}" = "0 1 2" ]
}

@test "rootless: more than its own id goes through newuidmap/newgidmap and /etc/subuid" {
	command -v newuidmap >/dev/null && command -v newgidmap >/dev/null || skip "uidmap not installed"
	local sub subg
	sub=$(awk -F: -v u="$RL_USER" '$1 == u { print $2; exit }' /etc/subuid)
	subg=$(awk -F: -v u="$RL_USER" '$1 == u { print $2; exit }' /etc/subgid)
	[ -n "$sub" ] && [ -n "$subg" ] || skip "useradd gave $RL_USER no subordinate ids"
	rl_update_config '.linux.uidMappings += [{"containerID": 1, "hostID": $s, "size": 1000}]
		| .linux.gidMappings += [{"containerID": 1, "hostID": $g, "size": 1000}]' \
		--argjson s "$sub" --argjson g "$subg"
	rl_set_args sh -c 'cat /proc/self/uid_map /proc/self/gid_map'
	run -0 rl_ocirun run --bundle "$RL_BUNDLE" "$CID"
	[ "$(echo "${lines[0]}" | tr -s ' ')" = " 0 $RL_UID 1" ]
	[ "$(echo "${lines[1]}" | tr -s ' ')" = " 1 $sub 1000" ]
	[ "$(echo "${lines[2]}" | tr -s ' ')" = " 0 $RL_GID 1" ]
	[ "$(echo "${lines[3]}" | tr -s ' ')" = " 1 $subg 1000" ]
}

@test "rootless: ids it does not own are refused with an error naming linux.uidMappings" {
	# Not in its /etc/subuid range: newuidmap refuses, ocirun says so.
	rl_update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 3000000, "size": 10}]'
	run ! rl_ocirun run --bundle "$RL_BUNDLE" "$CID"
	assert_ocirun_output "linux.uidMappings"
	[ ! -e "$ROOT/$CID" ]

	# Without newuidmap on PATH only the user's own id can be mapped.
	mkdir "$TEST_TMP/emptybin"
	RL_PATH="$TEST_TMP/emptybin" run ! rl_ocirun run --bundle "$RL_BUNDLE" "$CID"
	assert_ocirun_output "linux.uidMappings"
	assert_ocirun_output "newuidmap"
	[ ! -e "$ROOT/$CID" ]
}

@test "rootless: cgroup limits without a delegated cgroup: error naming linux.resources" {
	# A cgroup the user may write would make this legitimately work.
	as_rl test -w /sys/fs/cgroup/unified && skip "cgroup writable by the user"
	rl_update_config '.linux.resources = {"pids": {"limit": 10}}'
	run ! rl_ocirun run --bundle "$RL_BUNDLE" "$CID"
	assert_ocirun_output "linux.resources"
	assert_output --partial "cgroup"
	[ ! -e "$ROOT/$CID" ]
}

@test "rootless: the runtime runs from a sealed memfd copy (it cannot make a read-only mount)" {
	skip_unless_ocirun "ocirun's binary protection"
	rl_set_args sleep 100
	rl_ocirun run --bundle "$RL_BUNDLE" "$CID" </dev/null >/dev/null 2>&1 3>&- &
	local bg=$! i p exes=""
	wait_for_status "$CID" running
	# The runtime (not the `timeout` wrapping it): named ocirun again.
	for p in $(pgrep -u "$RL_UID" -x ocirun); do
		exes+="$(readlink "/proc/$p/exe") "
	done
	rl_ocirun kill "$CID" KILL || true
	wait "$bg" || true
	echo "runtime exe: $exes"
	[[ "$exes" == /memfd:ocirun* ]]
}

@test "rootless without a cgroup: delete --force of a damaged state.json still kills the init" {
	rl_set_args sleep 1000
	rl_ocirun run -d --bundle "$RL_BUNDLE" "$CID" </dev/null >/dev/null 2>&1 3>&-
	local pid i
	pid=$(container_pid "$CID")
	[ -n "$pid" ] && [ -d "/proc/$pid" ]
	# No cgroup to find it by: only its own record leads to the init.
	echo '{"id": "'"$CID"'", "pid": "damaged"}' >"$ROOT/$CID/state.json"
	run -0 --separate-stderr rl_ocirun list --format json
	[ "$(jq -r '.[0].status' <<<"$output")" = unknown ]
	run -0 rl_ocirun delete --force "$CID"
	[ ! -e "$ROOT/$CID" ]
	for ((i = 0; i < 40; i++)); do
		[ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" = S ] || break
		sleep 0.05
	done
	run awk '{ print $3 }' "/proc/$pid/stat"
	[ -z "$output" ] || [ "$output" = Z ]
}
