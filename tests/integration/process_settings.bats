#!/usr/bin/env bats
# Per-process settings applied with one system call each, observed from
# inside the container: process.ioPriority, process.scheduler and
# linux.memoryPolicy for the init and exec'd processes,
# process.execCPUAffinity and process.oomScoreAdj for exec'd ones. Each was
# ignored before (parsed or not).

load helpers
load plumbing_helpers

setup() {
	setup_bundle
	skip_unless_ocirun "runc 1.1 applies none of these (runc 1.2 and 1.3 added them)"
	set_args sleep 1000
}

teardown() { teardown_plumbing; }

# exec_process JSON ARG...: `exec --process` running ARGS, with the
# settings of JSON on top of a minimal process.
exec_process() {
	local extra=$1
	shift
	jq -n --argjson extra "$extra" \
		'{"cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"], "args": $ARGS.positional} + $extra' \
		--args -- "$@" >"$TEST_TMP/process.json"
	run -0 ocirun exec --process "$TEST_TMP/process.json" "$CID"
}

# /proc/self/sched of the process: its policy and prio (120 + nice for
# the normal policies).
SCHED_OF_SELF='grep -E "^(policy|prio) " /proc/self/sched | tr -s " :" " "'

@test "process.ioPriority applies to the init and to exec'd processes" {
	update_config '.process.ioPriority = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}'
	start_detached
	# The init itself, seen by busybox ionice from inside.
	run -0 ocirun exec "$CID" ionice -p 1
	assert_output "idle"
	# exec without --process takes the config's.
	run -0 ocirun exec "$CID" ionice
	assert_output "idle"
	exec_process '{"ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 6}}' ionice
	assert_output "best-effort: prio 6"
}

@test "process.scheduler applies to the init and to exec'd processes" {
	update_config '.process.scheduler = {"policy": "SCHED_BATCH", "nice": 7}'
	start_detached
	run -0 ocirun exec "$CID" sh -c "${SCHED_OF_SELF//self/1}"
	assert_line "policy 3"
	assert_line "prio 127"
	run -0 ocirun exec "$CID" sh -c "$SCHED_OF_SELF"
	assert_line "policy 3"
	# (A real-time policy would need cpu.rt_runtime_us in the container's
	# cgroup on a v1 host with RT group scheduling.)
	exec_process '{"scheduler": {"policy": "SCHED_IDLE"}}' sh -c "$SCHED_OF_SELF"
	assert_line "policy 5"
}

@test "process.scheduler SCHED_ISO is refused by name: Linux has no such policy" {
	update_config '.process.scheduler = {"policy": "SCHED_ISO"}'
	run -1 ocirun run "$CID" </dev/null
	assert_output --partial "process.scheduler.policy: SCHED_ISO is not implemented by Linux"
	assert_no_leftovers
}

# The kernel's EINVAL for SCHED_DEADLINE names no parameter: the error
# names the rule of sched(7) the triple breaks. Values are uint64 in the
# spec: one above 2^63 is parsed, and refused by the kernel, not the parser.
@test "process.scheduler SCHED_DEADLINE: a refused triple is explained by the rule it breaks" {
	set_args true
	local -a cases=(
		'{"deadline": 20000000}' 'requires `runtime`'
		'{"runtime": 10000000}' 'requires `deadline`'
		'{"runtime": 0, "deadline": 20000000}' 'runtime must be greater than 0'
		'{"runtime": 30000000, "deadline": 20000000, "period": 40000000}' 'runtime 30000000 must be <= deadline 20000000'
		'{"runtime": 10000000, "deadline": 30000000, "period": 20000000}' 'deadline 30000000 must be <= period 20000000'
		'{"runtime": 1023, "deadline": 10000000}' 'runtime 1023 must be between 1024 and'
		# (jq rounds these to 9223372036854776000: still above 2^63 - 1.)
		'{"runtime": 9223372036854775809, "deadline": 9223372036854775810}' 'runtime 922337203685477'
	)
	# (Not `i`: the helpers' loops would move it.)
	local dl_case
	for ((dl_case = 0; dl_case < ${#cases[@]}; dl_case += 2)); do
		update_config '.process.scheduler = {"policy": "SCHED_DEADLINE"} + $p' --argjson p "${cases[dl_case]}"
		run -1 ocirun run "$CID" </dev/null
		assert_output --partial 'process.scheduler: sched_setattr: `SCHED_DEADLINE` '"${cases[dl_case + 1]}"
		[[ ${cases[dl_case + 1]} != "runtime 922"* ]] || assert_output --partial "must be between 1024 and"
		assert_no_leftovers
	done
	# And a valid one runs (no shell: a SCHED_DEADLINE task cannot fork).
	update_config '.process.scheduler = {"policy": "SCHED_DEADLINE", "runtime": 10000000, "deadline": 20000000}'
	set_args cat /proc/self/sched
	run -0 ocirun run "$CID" </dev/null
	assert_line --regexp '^policy +: +6$'
	assert_no_leftovers
}

# With RT group scheduling (a v1 cpu hierarchy with cpu.rt_runtime_us), a
# new cgroup has no real-time budget and the kernel refuses FIFO/RR in it;
# ocirun does not take budget from the parent on its own (nor do runc and
# crun): the error says what to set, and with it the policy applies.
@test "process.scheduler SCHED_FIFO needs linux.resources.cpu.realtimeRuntime where cgroups hold RT budgets" {
	[ -f /sys/fs/cgroup/cpu/cpu.rt_runtime_us ] || skip "no v1 cpu hierarchy with RT group scheduling"
	update_config '.process.scheduler = {"policy": "SCHED_FIFO", "priority": 10}'
	set_args sh -c "$SCHED_OF_SELF"
	run -1 ocirun run "$CID" </dev/null
	assert_output --partial "process.scheduler: sched_setattr SCHED_FIFO (a real-time policy needs CAP_SYS_NICE and"
	assert_output --partial "linux.resources.cpu.realtimeRuntime): Operation not permitted"
	assert_no_leftovers
	update_config '.linux.resources.cpu = {"realtimeRuntime": 10000, "realtimePeriod": 1000000}'
	run -0 ocirun run "$CID" </dev/null
	assert_line "policy 1"
	assert_no_leftovers
}

@test "linux.memoryPolicy sets the NUMA policy of the init and of exec'd processes" {
	update_config '.linux.memoryPolicy = {"mode": "MPOL_INTERLEAVE", "nodes": "0"}'
	start_detached
	# numa_maps shows the policy each mapping runs under: the process's.
	run -0 ocirun exec "$CID" sh -c 'head -1 /proc/1/numa_maps; head -1 /proc/self/numa_maps'
	assert_line --index 0 --regexp '^[0-9a-f]+ interleave:0 '
	assert_line --index 1 --regexp '^[0-9a-f]+ interleave:0 '
}

@test "linux.memoryPolicy the kernel refuses is an error naming the field" {
	# MPOL_BIND needs nodes (set_mempolicy(2)).
	update_config '.linux.memoryPolicy = {"mode": "MPOL_BIND"}'
	run -1 ocirun run "$CID" </dev/null
	assert_output --partial "linux.memoryPolicy: set_mempolicy MPOL_BIND"
	assert_no_leftovers
}

@test "process.oomScoreAdj applies to exec'd processes, not only to the init" {
	# Positive values only: lowering it needs CAP_SYS_RESOURCE, which a
	# test host may not give.
	update_config '.process.oomScoreAdj = 123'
	start_detached
	run -0 ocirun exec "$CID" cat /proc/1/oom_score_adj /proc/self/oom_score_adj
	assert_output "123
123"
	exec_process '{"oomScoreAdj": 456}' cat /proc/self/oom_score_adj
	assert_output "456"
}

@test "process.execCPUAffinity: initial then final for exec'd processes, never the init" {
	[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs, this host has $(nproc)"
	update_config '.process.execCPUAffinity = {"initial": "1"}'
	start_detached
	local all
	all=$(grep Cpus_allowed_list "/proc/$(container_pid "$CID")/status" | cut -f2)
	# exec without --process takes the config's: only initial, which the
	# kernel keeps through the move into the cgroup.
	run -0 ocirun exec "$CID" grep Cpus_allowed_list /proc/1/status /proc/self/status
	assert_line "/proc/1/status:Cpus_allowed_list:	$all"
	assert_line "/proc/self/status:Cpus_allowed_list:	1"
	exec_process '{"execCPUAffinity": {"initial": "1", "final": "0"}}' grep Cpus_allowed_list /proc/self/status
	assert_output "Cpus_allowed_list:	0"
}

# as_groups GIDS ocirun ARGS...: ocirun called with the supplementary
# groups GIDS (comma-separated), as an engine's own groups would be.
as_groups() {
	local gids=$1
	shift 2
	local cg=()
	uses_systemd_driver && cg=(--systemd-cgroup)
	setpriv --groups "$gids" -- timeout --kill-after=5 "$OCIRUN_TIMEOUT" \
		"$OCIRUN" --root "$ROOT" "${cg[@]}" "$@"
}

GROUPS_OF_SELF='grep "^Groups:" /proc/self/status | tr -s " \t" " " | sed "s/ *$//"'

@test "run.oci.keep_original_groups keeps the caller's groups for the init and exec'd processes" {
	update_config '.process.user.additionalGids = [10, 20]'
	set_args sh -c "$GROUPS_OF_SELF"
	# Without the annotation the config's additionalGids replace the caller's.
	run -0 as_groups 1,2,3 ocirun run "$CID"
	assert_output "Groups: 10 20"

	# "0" switches it off, as with crun.
	update_config '.annotations["run.oci.keep_original_groups"] = "0"'
	run -0 as_groups 1,2,3 ocirun run "$CID"
	assert_output "Groups: 10 20"

	update_config '.annotations["run.oci.keep_original_groups"] = "1"'
	run -0 as_groups 1,2,3 ocirun run "$CID"
	assert_output "Groups: 1 2 3"

	# exec takes it from the container's config, with its own caller's groups.
	set_args sleep 1000
	as_groups 4,5 ocirun run -d "$CID" </dev/null >"$TEST_TMP/detach.out" 2>&1 3>&-
	run -0 as_groups 6,7 ocirun exec "$CID" sh -c "$GROUPS_OF_SELF"
	assert_output "Groups: 6 7"
	run -0 ocirun exec "$CID" sh -c "${GROUPS_OF_SELF//self/1}"
	assert_output "Groups: 4 5"
}
