#!/bin/bash
# tests/engines/podman.sh — podman end to end, with the runtime under test.
#
#   RUNTIME=/path/to/runtime tests/engines/podman.sh
#
# Runs a private podman (Debian 12's podman 4.3) whose only OCI runtime is
# $RUNTIME (reached through a wrapper that logs each call): its own storage
# root, run root, tmp dir, containers.conf and storage.conf under a temp dir,
# cgroupfs manager (no systemd), file events, k8s-file logs, no network but
# "none"/"host", and a busybox image imported from a local tar. Prints TAP;
# exits non-zero when a check fails. Everything it creates (containers,
# mounts, cgroups, state, temp dirs) is removed at exit, even on failure.
#
# Environment: RUNTIME (or OCIRUN, or $1) the runtime binary; STORAGE_DRIVER
# (default overlay, else vfs); ENGINE_TIMEOUT seconds per podman command;
# KEEP_WORK=1 keeps the temp dir for inspection.

source "$(dirname "$0")/lib.sh"

setup_runtime "${1:-}"
command -v podman >/dev/null && command -v conmon >/dev/null ||
	die "podman and conmon are needed: apt-get install -y podman"

IMG=localhost/busybox:test
STORAGE_DRIVER=${STORAGE_DRIVER:-overlay}
P=$WORK/podman
# A cgroup parent of our own: podman's cgroupfs manager puts containers in
# <parent>/libpod-<id> and conmon in <parent>/conmon, so everything this run
# makes is under one name in each hierarchy.
CGPARENT=ocirun-engines-podman-$$

pm() {
	timeout -k 5 "$ENGINE_TIMEOUT" podman \
		--root "$P/root" --runroot "$P/runroot" --storage-driver "$STORAGE_DRIVER" \
		--cgroup-manager cgroupfs --events-backend file "$@"
}

# prun ARGS...: podman run in our cgroup parent.
prun() {
	pm run --cgroup-parent "/$CGPARENT" "$@"
}

# Host paths podman may create outside its configured dirs (caches, network
# run dir); those absent now are removed at exit if left empty or ours.
HOST_PATHS=(/var/lib/containers/cache/blob-info-cache-v1.boltdb /var/lib/containers/cache
	/var/lib/containers /run/containers/networks /run/containers)
declare -A HOST_PATH_EXISTED=()
for p in "${HOST_PATHS[@]}"; do
	[ -e "$p" ] && HOST_PATH_EXISTED[$p]=1
done

write_config() {
	mkdir -p "$P"/{root,runroot,tmp,net}
	# The host lacks CAP_SYS_RESOURCE here: podman's default rlimits for root
	# (nofile/nproc 1048576) could not be set, so use the current ones.
	cat >"$P/containers.conf" <<EOF
[containers]
log_driver = "k8s-file"
netns = "none"
default_ulimits = ["nofile=$(ulimit -Sn):$(ulimit -Hn)", "nproc=4096:4096"]

[network]
network_config_dir = "$P/net"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$P/events.log"
lock_type = "file"
tmp_dir = "$P/tmp"
static_dir = "$P/root/libpod"
volume_path = "$P/root/volumes"
runtime = "ocirun"
runtime_supports_json = ["crun", "runc", "ocirun"]
runtime_supports_nocgroups = ["crun", "ocirun"]

[engine.runtimes]
ocirun = ["$RUNTIME_WRAPPER"]
EOF
	cat >"$P/storage.conf" <<EOF
[storage]
driver = "$STORAGE_DRIVER"
runroot = "$P/runroot"
graphroot = "$P/root"
EOF
	export CONTAINERS_CONF=$P/containers.conf
	export CONTAINERS_STORAGE_CONF=$P/storage.conf
}

# Container ids this run created, to check the runtime's state for them.
all_ids() {
	pm ps -a -q --no-trunc 2>/dev/null
}

cleanup() {
	local rc=$? id d p
	trap - EXIT INT TERM
	if [ -d "$P/root" ]; then
		pm rm -a -f -t 0 >/dev/null 2>&1
		pm system reset -f >/dev/null 2>&1
	fi
	# Anything still in our cgroups was started by this run (conmon, the
	# container): kill those PIDs only, then remove the cgroups.
	for p in $(pids_in_cgroups "$CGPARENT"); do
		kill -9 "$p" 2>/dev/null
	done
	sleep 0.2
	remove_cgroups "$CGPARENT"
	for d in $(mounts_under "$WORK"); do
		umount -l "$d" 2>/dev/null
	done
	for p in "${HOST_PATHS[@]}"; do
		[ -n "${HOST_PATH_EXISTED[$p]:-}" ] && continue
		if [ -f "$p" ]; then rm -f "$p"; else rmdir "$p" 2>/dev/null; fi
	done
	cleanup_work || rc=1
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cid() { pm inspect -f '{{.Id}}' "$1"; }
status_of() { pm inspect -f '{{.State.Status}}' "$1"; }
pid_of() { pm inspect -f '{{.State.Pid}}' "$1"; }
exit_code_of() { pm inspect -f '{{.State.ExitCode}}' "$1"; }
is_status() { [ "$(status_of "$1")" = "$2" ]; }
logs_have() { pm logs "$1" 2>&1 | qgrep -- "$2"; }

# cg_file NAME CTRL FILE: a v1 controller file of a running container, read
# from the host through the cgroup of its init process.
cg_file() {
	local pid path
	pid=$(pid_of "$1")
	[ "$pid" -gt 0 ] || fail "container $1 has no pid"
	path=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup")
	[ -n "$path" ] || fail "pid $pid has no $2 cgroup"
	cat "/sys/fs/cgroup/$2$path/$3"
}

# --- set-up ----------------------------------------------------------------

write_config
echo "# runtime: $RUNTIME ($("$RUNTIME" --version 2>&1 | head -n1))"
echo "# podman: $(podman --version), storage driver $STORAGE_DRIVER, work dir $WORK"

make_busybox_rootfs "$WORK/rootfs"
tar -C "$WORK/rootfs" -cf "$WORK/busybox.tar" . || bail "image" "tar of the rootfs failed"
pm import "$WORK/busybox.tar" "$IMG" >"$WORK/logs/import.log" 2>&1 ||
	{ diag "$WORK/logs/import.log"; bail "image" "podman import failed"; }
rm -rf "$WORK/rootfs" "$WORK/busybox.tar"

# --- checks -------------------------------------------------------------------

t_run_exit() {
	local out rc=0
	out=$(prun --rm "$IMG" sh -c 'echo hello; exit 3') || rc=$?
	assert_eq "$out" hello "output"
	assert_eq "$rc" 3 "exit status of podman run"
	out=$(prun --rm "$IMG" true)
	assert_eq "$out" "" "output of true"
}

t_detach_ps_logs() {
	local id
	id=$(prun -d --name d1 "$IMG" sh -c 'echo started; exec sleep 1000')
	retry 10 is_status d1 running
	pm ps --format '{{.Names}} {{.Status}}' | tee /dev/stderr | qgrep '^d1 Up' ||
		fail "ps does not show d1 Up"
	assert_eq "$(cid d1)" "$id" "id printed by run -d"
	retry 10 logs_have d1 started ||
		fail "logs lack 'started': $(pm logs d1 2>&1)"
}

t_tty() {
	local out
	out=$(prun --rm -t "$IMG" sh -c 'tty; [ -t 1 ] && echo stdout-is-tty')
	assert_match "$out" '^/dev/pts/[0-9]+' "tty"
	assert_match "$out" 'stdout-is-tty' "stdout on the terminal"
}

t_stdin() {
	local out
	out=$(printf 'line one\nline two\n' | prun --rm -i "$IMG" cat)
	assert_eq "$out" $'line one\nline two' "cat of stdin"
}

t_exec() {
	local out rc=0
	out=$(pm exec d1 sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "')
	assert_match "$out" 'in-exec' "exec output"
	assert_match "$out" 'sleep 1000' "exec sees the container's pid 1"
	pm exec d1 sh -c 'exit 5' || rc=$?
	assert_eq "$rc" 5 "exec exit status"
}

t_exec_tty() {
	local out
	out=$(pm exec -t d1 sh -c 'tty; [ -t 0 ] && echo stdin-is-tty')
	assert_match "$out" '^/dev/pts/[0-9]+' "exec -t tty"
	assert_match "$out" 'stdin-is-tty' "exec -t stdin"
}

t_exec_stdin() {
	local out
	out=$(echo from-host | pm exec -i d1 cat)
	assert_eq "$out" from-host "exec -i"
}

t_exec_env_user_workdir() {
	local out
	out=$(pm exec -e FOO=bar -e BAZ='a b' d1 sh -c 'echo "$FOO|$BAZ"')
	assert_eq "$out" "bar|a b" "exec -e"
	out=$(pm exec -u 1000 d1 sh -c 'id -u; id -g')
	assert_eq "$out" $'1000\n1000' "exec -u 1000 (uid, gid)"
	out=$(pm exec -u nobody d1 id -u)
	assert_eq "$out" 65534 "exec -u nobody"
	out=$(pm exec -w /tmp d1 pwd)
	assert_eq "$out" /tmp "exec -w"
}

t_top() {
	local out
	out=$(pm top d1)
	echo "$out"
	assert_match "$out" 'sleep 1000' "top lists the container's process"
}

t_pause_unpause() {
	local out
	pm pause d1
	assert_eq "$(status_of d1)" paused "status after pause"
	out=$(cg_file d1 freezer freezer.state)
	assert_eq "$out" FROZEN "freezer.state"
	# (plain `podman ps` leaves paused containers out)
	pm ps -a --format '{{.Names}} {{.Status}}' | qgrep -i '^d1 paused' || fail "ps -a does not show d1 paused"
	pm unpause d1
	assert_eq "$(status_of d1)" running "status after unpause"
	assert_eq "$(cg_file d1 freezer freezer.state)" THAWED "freezer.state after unpause"
	out=$(pm exec d1 echo alive)
	assert_eq "$out" alive "exec after unpause"
}

t_update() {
	pm update --memory 64m --cpu-quota 20000 --cpu-period 100000 d1
	assert_eq "$(cg_file d1 memory memory.limit_in_bytes)" 67108864 "memory.limit_in_bytes after update"
	assert_eq "$(cg_file d1 cpu cpu.cfs_quota_us)" 20000 "cpu.cfs_quota_us after update"
}

# run_trapping NAME TRAP-ARGS: a container whose shell sets `trap TRAP-ARGS`
# then loops; returns once it has said "ready" (the trap is in place).
run_trapping() {
	prun -d --name "$1" "$IMG" sh -c "trap $2; echo ready; while :; do sleep 0.1; done"
	retry 10 logs_have "$1" ready || fail "$1 never got ready: $(pm logs "$1" 2>&1)"
}

# timed_stop NAME SECS: podman stop -t SECS; prints the seconds it took.
timed_stop() {
	local start=$SECONDS
	pm stop -t "$2" "$1" >/dev/null
	echo $((SECONDS - start))
}

t_stop_graceful() {
	local elapsed
	run_trapping g1 "'echo got-term; exit 0' TERM"
	elapsed=$(timed_stop g1 20)
	[ "$elapsed" -lt 10 ] || fail "stop took ${elapsed}s: SIGTERM not delivered?"
	assert_eq "$(status_of g1)" exited "status after stop"
	assert_eq "$(exit_code_of g1)" 0 "exit code after SIGTERM handler"
	pm logs g1 | qgrep got-term || fail "the TERM handler did not run: $(pm logs g1 2>&1)"
	pm rm g1
}

t_stop_kill_after_timeout() {
	local elapsed
	run_trapping g2 "'' TERM"
	elapsed=$(timed_stop g2 1)
	[ "$elapsed" -ge 1 ] || fail "stop returned before the 1 s grace period"
	[ "$elapsed" -lt 10 ] || fail "stop took ${elapsed}s"
	assert_eq "$(status_of g2)" exited "status after stop"
	assert_eq "$(exit_code_of g2)" 137 "exit code after SIGKILL"
	pm rm g2
}

t_kill() {
	run_trapping k1 "'echo got-usr1' USR1"
	pm kill -s USR1 k1
	retry 10 logs_have k1 got-usr1 ||
		fail "USR1 not delivered: $(pm logs k1 2>&1)"
	assert_eq "$(status_of k1)" running "status after USR1"
	pm kill k1
	retry 10 is_status k1 exited || fail "status after kill: $(status_of k1)"
	assert_eq "$(exit_code_of k1)" 137 "exit code after kill"
	pm rm k1
}

t_resources() {
	prun -d --name r1 --memory 32m --pids-limit 50 --cpus 0.5 "$IMG" sleep 1000
	retry 10 is_status r1 running
	assert_eq "$(cg_file r1 memory memory.limit_in_bytes)" 33554432 "memory.limit_in_bytes"
	assert_eq "$(cg_file r1 pids pids.max)" 50 "pids.max"
	assert_eq "$(cg_file r1 cpu cpu.cfs_quota_us)" 50000 "cpu.cfs_quota_us"
	assert_eq "$(cg_file r1 cpu cpu.cfs_period_us)" 100000 "cpu.cfs_period_us"
	# the container's own view of its memory cgroup
	assert_eq "$(pm exec r1 cat /sys/fs/cgroup/memory/memory.limit_in_bytes)" 33554432 \
		"memory.limit_in_bytes seen inside"
	pm rm -f -t 0 r1
}

capeff() { prun --rm "$@" "$IMG" awk '/^CapEff/ { print $2 }' /proc/self/status; }

t_caps() {
	local def dropped only
	def=$(capeff)
	(( (16#$def & 1) == 1 )) || fail "default CapEff $def lacks CAP_CHOWN"
	(( (16#$def & (1 << 21)) == 0 )) || fail "default CapEff $def has CAP_SYS_ADMIN"
	dropped=$(capeff --cap-drop CHOWN)
	assert_eq "$((16#$dropped))" "$((16#$def & ~1))" "CapEff with --cap-drop CHOWN ($dropped)"
	only=$(capeff --cap-drop all --cap-add NET_RAW)
	assert_eq "$only" 0000000000002000 "CapEff with --cap-drop all --cap-add NET_RAW"
	only=$(capeff --cap-add SYS_ADMIN)
	(( (16#$only & (1 << 21)) != 0 )) || fail "CapEff $only lacks CAP_SYS_ADMIN after --cap-add"
}

t_read_only() {
	local out
	out=$(prun --rm --read-only "$IMG" sh -c 'touch /x 2>&1 && echo root-writable; touch /tmp/y && echo tmp-writable')
	assert_no_match "$out" root-writable "touch / on a read-only root"
	assert_match "$out" 'read-only' "the error of touch /"
	assert_match "$out" tmp-writable "/tmp stays writable (podman mounts a tmpfs)"
}

t_bind_tmpfs() {
	local dir=$WORK/bind out
	mkdir -p "$dir" && echo from-host >"$dir/in"
	out=$(prun --rm -v "$dir:/data" "$IMG" sh -c 'cat /data/in; echo from-ctr > /data/out')
	assert_eq "$out" from-host "file read through -v"
	assert_eq "$(cat "$dir/out")" from-ctr "file written through -v"
	out=$(prun --rm -v "$dir:/data:ro" "$IMG" sh -c 'echo x > /data/z 2>&1 || echo refused')
	assert_match "$out" refused "write to a :ro bind"
	[ ! -e "$dir/z" ] || fail ":ro bind was writable"
	out=$(prun --rm --tmpfs /scratch:size=1m "$IMG" sh -c 'awk "\$2 == \"/scratch\" { print \$3 }" /proc/mounts; echo hi > /scratch/f && cat /scratch/f')
	assert_eq "$out" $'tmpfs\nhi' "--tmpfs /scratch"
}

t_identity() {
	local out
	out=$(prun --rm --hostname ocirun-test "$IMG" hostname)
	assert_eq "$out" ocirun-test "--hostname"
	out=$(prun --rm --user 1000:1000 "$IMG" sh -c 'id -u; id -g')
	assert_eq "$out" $'1000\n1000' "--user 1000:1000"
	out=$(prun --rm --user nobody "$IMG" id -un)
	assert_eq "$out" nobody "--user nobody"
	out=$(prun --rm --workdir /home "$IMG" pwd)
	assert_eq "$out" /home "--workdir"
	out=$(prun --rm --env FOO=bar "$IMG" sh -c 'echo $FOO')
	assert_eq "$out" bar "--env"
}

t_network_none() {
	local out
	out=$(prun --rm --network none "$IMG" ls /sys/class/net)
	assert_eq "$out" lo "interfaces with --network none"
	out=$(prun --rm --network host "$IMG" ls /sys/class/net)
	assert_eq "$out" "$(ls /sys/class/net)" "interfaces with --network host"
}

t_rm_force() {
	local pid
	pid=$(pid_of d1)
	pm rm -f -t 0 d1
	pm ps -a --format '{{.Names}}' | qgrep -x d1 && fail "d1 still listed"
	retry 5 sh -c "! kill -0 $pid 2>/dev/null" || fail "pid $pid of d1 still alive"
}

t_restart() {
	local rc=0
	prun --name s1 "$IMG" sh -c 'echo ran; exit 4' || rc=$?
	assert_eq "$rc" 4 "first run"
	pm start s1
	retry 10 is_status s1 exited || fail "s1 not exited again: $(status_of s1)"
	assert_eq "$(exit_code_of s1)" 4 "exit code of the second start"
	assert_eq "$(pm logs s1 | grep -c ran)" 2 "'ran' lines in the logs"
	pm rm s1
}

t_many() {
	local i n
	for i in $(seq 1 10); do
		prun -d --name "m$i" "$IMG" sleep 1000 >/dev/null
	done
	n=$(pm ps --filter status=running --format '{{.Names}}' | grep -c '^m')
	assert_eq "$n" 10 "running containers"
	pm rm -f -t 0 $(seq -f 'm%g' 1 10) >/dev/null
	n=$(pm ps -a --format '{{.Names}}' | grep -c '^m' || true)
	assert_eq "$n" 0 "containers left after rm -f"
}

# run_must_fail WHAT REGEX ARGS...: podman run ARGS fails and its error
# output matches REGEX (text that only the runtime can know).
run_must_fail() {
	local what=$1 re=$2 out rc=0
	shift 2
	out=$(prun --rm "$@" 2>&1) || rc=$?
	note "podman run $* -> $rc: $out"
	[ "$rc" -ne 0 ] || fail "$what: podman run succeeded"
	assert_match "$out" "$re" "$what: podman's error output"
	# podman then runs `delete --force ID` for a container the runtime never
	# recorded; that must succeed quietly (runc exits 0), else podman adds
	# "Removing container ... after creation failed" and the runtime's text
	assert_no_match "$out" 'after creation failed' \
		"$what: runtime delete --force of a never-created container failed"
}

no_containers() { [ "$(pm ps -a -q | wc -l)" = 0 ]; }

t_runtime_errors() {
	local sec=$WORK/seccomp-bad-action.json
	write_bad_seccomp_profile "$sec"
	run_must_fail "missing executable" 'no_such_binary.*(no such file|not found)' \
		"$IMG" /bin/no_such_binary
	run_must_fail "unknown sysctl" 'ocirun_no_such_key' \
		--sysctl net.ipv4.ocirun_no_such_key=1 "$IMG" true
	run_must_fail "seccomp action unknown" 'SCMP_ACT_OCIRUN_BOGUS' \
		--security-opt "seccomp=$sec" "$IMG" true
	# CAP_SYS_RESOURCE is missing on this host, nofile is above fs.nr_open
	run_must_fail "rlimit beyond the hard limit" 'rlimit|nofile' \
		--ulimit nofile=99999999:99999999 "$IMG" true
	# None of the failed containers may linger (--rm).
	retry 5 no_containers || fail "containers left after failed runs: $(pm ps -a)"
}

# After every container is gone: nothing of theirs remains.
t_leftovers() {
	local id d
	pm rm -a -f -t 0 >/dev/null
	assert_eq "$(all_ids | wc -l)" 0 "containers left"
	d=$(cgroup_dirs_under "$CGPARENT" | grep '/libpod-' || true)
	[ -z "$d" ] || fail "container cgroups left: $d"
	d=$(pids_in_cgroups "$CGPARENT" | tr '\n' ' ')
	[ -z "$d" ] || fail "processes left in our cgroups: $d"
	d=$(mounts_under "$P/root" | grep -E 'overlay-containers|/merged$' || true)
	[ -z "$d" ] || fail "container mounts left: $d"
	# the runtime's state dir of each container podman ran (default root)
	for id in $(grep -oE '[0-9a-f]{64}' "$RUNTIME_CALLS" | sort -u); do
		for d in /run/ocirun /run/runc /run/crun "$P"/runtime; do
			[ ! -e "$d/$id" ] || fail "runtime state left: $d/$id"
		done
	done
}

run_test "run: output and exit status 3" t_run_exit
run_test "run -d, ps, logs" t_detach_ps_logs
run_test "run -t allocates a terminal" t_tty
run_test "run -i passes stdin" t_stdin
run_test "exec: output, pid namespace, exit status" t_exec
run_test "exec -t" t_exec_tty
run_test "exec -i" t_exec_stdin
run_test "exec -e, -u, -w" t_exec_env_user_workdir
run_test "top" t_top
run_test "pause / unpause" t_pause_unpause
if podman update --help >/dev/null 2>&1; then
	run_test "update --memory --cpu-quota" t_update
else
	skip_test "update" "podman $(podman --version) has no update command"
fi
run_test "stop: SIGTERM handled" t_stop_graceful
run_test "stop -t 1: SIGKILL after TERM is ignored" t_stop_kill_after_timeout
run_test "kill -s USR1, kill" t_kill
run_test "--memory --pids-limit --cpus in the cgroup" t_resources
run_test "--cap-add / --cap-drop (CapEff)" t_caps
run_test "--read-only" t_read_only
run_test "-v bind (rw, ro), --tmpfs" t_bind_tmpfs
run_test "--hostname --user --workdir --env" t_identity
run_test "--network none / host" t_network_none
run_test "rm -f of a running container" t_rm_force
run_test "start again after exit" t_restart
run_test "10 containers at once" t_many
run_test "runtime errors reach the user" t_runtime_errors
run_test "nothing left behind" t_leftovers

tap_done
