#!/bin/bash
# tests/engines/podman.sh — podman end to end, with the runtime under test.
#
#   RUNTIME=/path/to/runtime tests/engines/podman.sh
#
# Runs a private podman (Debian 12's podman 4.3) whose only OCI runtime is
# $RUNTIME (reached through a wrapper that logs each call): its own storage
# root, run root, tmp dir, containers.conf and storage.conf under a temp dir,
# k8s-file logs, no network but "none"/"host", and a busybox image imported
# from a local tar. The cgroup manager is ENGINE_CGROUP_MANAGER:
#   cgroupfs (default): no systemd needed; file events; containers in a
#     cgroup parent of this run's own;
#   systemd: systemd as PID 1; podman's systemd defaults (journald events,
#     the runtime run with --systemd-cgroup, each container a scope
#     libpod-ID.scope in machine.slice, conmon in libpod-conmon-ID.scope);
#     also checks systemd's view of the scopes and `run --sdnotify=container`
#     in a Type=notify service.
# The cgroup files checked are those of the host's hierarchy (v1 or v2).
# Prints TAP; exits non-zero when a check fails. Everything it creates
# (containers, mounts, cgroups, units, state, temp dirs) is removed at exit,
# even on failure.
#
# Environment: RUNTIME (or OCIRUN, or $1) the runtime binary;
# ENGINE_CGROUP_MANAGER (cgroupfs or systemd); STORAGE_DRIVER (default
# overlay, else vfs); ENGINE_TIMEOUT seconds per podman command; KEEP_WORK=1
# keeps the temp dir for inspection.

source "$(dirname "$0")/lib.sh"

setup_cgroup_manager
setup_runtime "${1:-}"
command -v podman >/dev/null && command -v conmon >/dev/null ||
	die "podman and conmon are needed: apt-get install -y podman"

IMG=localhost/busybox:test
STORAGE_DRIVER=${STORAGE_DRIVER:-overlay}
P=$WORK/podman
# cgroupfs: a cgroup parent of our own: podman's cgroupfs manager puts
# containers in <parent>/libpod-<id> and conmon in <parent>/conmon, so
# everything this run makes is under one name in each hierarchy.
# systemd: podman's default parent, machine.slice; the container's scope is
# libpod-<id>.scope (cgroupsPath machine.slice:libpod:<id>), conmon's
# libpod-conmon-<id>.scope, both in that slice.
CGPARENT=ocirun-engines-podman-$$
SLICE=machine.slice
EVENTS=file
systemd_mode && EVENTS=journald
# the Type=notify service of the --sdnotify check
NOTIFY_UNIT=ocirun-engines-notify-$$.service
# podman leaves conmon in the caller's cgroup when it runs in a systemd
# service ($INVOCATION_ID set), else it makes conmon's scope: behave as from
# a login shell whatever runs this script
systemd_mode && unset INVOCATION_ID
PODMAN_ARGS=(--root "$P/root" --runroot "$P/runroot" --storage-driver "$STORAGE_DRIVER"
	--cgroup-manager "$ENGINE_CGROUP_MANAGER" --events-backend "$EVENTS")

pm() {
	timeout -k 5 "$ENGINE_TIMEOUT" podman "${PODMAN_ARGS[@]}" "$@"
}

# prun ARGS...: podman run in our cgroup parent (cgroupfs) or in podman's
# default slice (systemd).
prun() {
	if systemd_mode; then
		pm run "$@"
	else
		pm run --cgroup-parent "/$CGPARENT" "$@"
	fi
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
cgroup_manager = "$ENGINE_CGROUP_MANAGER"
events_logger = "$EVENTS"
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

# run_ids: every container id the runtime was called with in this run, and
# those podman still lists.
run_ids() {
	{
		grep -oE '[0-9a-f]{64}' "$RUNTIME_CALLS"
		all_ids
	} | sort -u
}

# our_units: the loaded systemd units of this run's containers (their
# scopes, conmon's scopes) and the --sdnotify check's service.
our_units() {
	local ids
	ids=$(run_ids)
	{
		[ -n "$ids" ] && units_like 'libpod-*' | grep -F "$ids"
		units_like "$NOTIFY_UNIT"
	} | sort -u
	return 0
}

cleanup() {
	local rc=$? id d p units=
	trap - EXIT INT TERM
	if systemd_mode; then
		systemctl kill -s SIGKILL "$NOTIFY_UNIT" >/dev/null 2>&1
		units=$(our_units)
	fi
	if [ -d "$P/root" ]; then
		pm rm -a -f -t 0 >/dev/null 2>&1
		pm system reset -f >/dev/null 2>&1
	fi
	if systemd_mode; then
		# the scopes of this run's containers and conmons (their processes
		# are ours), also those that podman rm left
		stop_units $units $(our_units)
	else
		# Anything still in our cgroups was started by this run (conmon,
		# the container): kill those PIDs only, then remove the cgroups.
		for p in $(pids_in_cgroups "$CGPARENT"); do
			kill -9 "$p" 2>/dev/null
		done
		sleep 0.2
		remove_cgroups "$CGPARENT"
	fi
	for d in $(mounts_under "$WORK"); do
		umount -l "$d" 2>/dev/null
	done
	for p in "${HOST_PATHS[@]}"; do
		[ -n "${HOST_PATH_EXISTED[$p]:-}" ] && continue
		if [ -f "$p" ]; then rm -f "$p"; else rmdir "$p" 2>/dev/null; fi
	done
	rootless_cleanup
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

# cg NAME WHAT: a cgroup setting (lib.sh's cg_read: memory, pids, cpu,
# freezer) of a running container, read from the host through the cgroup of
# its init process.
cg() {
	local pid
	pid=$(pid_of "$1")
	[ "$pid" -gt 0 ] || fail "container $1 has no pid"
	cg_read "$pid" "$2"
}

# scope_of NAME: the systemd scope of a container (systemd mode).
scope_of() { echo "libpod-$(cid "$1").scope"; }

# assert_no_units_of ID...: no unit of these containers (libpod-ID.scope,
# libpod-conmon-ID.scope) is left, within 20 s.
assert_no_units_of() {
	local pats=() id
	systemd_mode || return 0
	for id in "$@"; do
		pats+=("libpod-$id*" "libpod-conmon-$id*")
	done
	assert_units_gone 20 "${pats[@]}"
}

# --- rootless podman (systemd mode, ENGINE_ROOTLESS_USER) -------------------
#
# A user of the host's (with /etc/subuid and /etc/subgid ranges and a
# running user manager: `loginctl enable-linger USER`) runs a podman of its
# own (storage, run root, containers.conf under $RL_DIR) with the same
# runtime, reached through a wrapper that logs to $RL_CALLS. podman runs the
# runtime inside its user namespace (uid 0 there) with the user's
# XDG_RUNTIME_DIR and session bus: the runtime's state goes under
# $XDG_RUNTIME_DIR, its scope to the user's manager (user.slice in
# user@UID.service).

RL_USER=${ENGINE_ROOTLESS_USER:-}
RL_DIR=$WORK/rootless
RL_CALLS=$RL_DIR/runtime-calls.log
RL_ERR=
RL_UID=
RL_RUN=
RL_HOME=
RL_RUN_BEFORE=
RL_PAUSE_PID=
# what rootless podman makes in the user's home (with --root and
# CONTAINERS_CONF still): removed at exit if new, deepest first
RL_HOME_DIRS=(.config/containers/podman .config/containers
	.config/cni/net.d/cni.lock .config/cni/net.d .config/cni .config
	.local/share/containers/cache/blob-info-cache-v1.boltdb .local/share/containers/cache
	.local/share/containers .local/share .local)
RL_HOME_NEW=()

# rl CMD...: CMD as the rootless user, in the environment of its session.
rl() {
	timeout -k 5 "$ENGINE_TIMEOUT" runuser -u "$RL_USER" -- env -i PATH="$PATH" \
		HOME="$RL_HOME" USER="$RL_USER" LOGNAME="$RL_USER" XDG_RUNTIME_DIR="$RL_RUN" \
		DBUS_SESSION_BUS_ADDRESS="unix:path=$RL_RUN/bus" \
		CONTAINERS_CONF="$RL_DIR/containers.conf" CONTAINERS_STORAGE_CONF="$RL_DIR/storage.conf" "$@"
}

rpm() {
	rl podman --root "$RL_DIR/root" --runroot "$RL_DIR/runroot" \
		--cgroup-manager systemd --events-backend file "$@"
}

# rl_units PATTERN: units of the user's manager matching PATTERN.
rl_units() {
	rl systemctl --user list-units --all --plain --no-legend "$1" 2>/dev/null | awk '{ print $1 }'
}
rl_no_units() { [ -z "$(rl_units "$1")" ]; }

# rootless_setup: check the user, write its podman's configuration and
# import the image from $1 (a tar of the rootfs); sets RL_ERR on failure.
rootless_setup() {
	RL_UID=$(id -u "$RL_USER" 2>/dev/null) || { RL_ERR="no user $RL_USER"; return 1; }
	RL_HOME=$(getent passwd "$RL_USER" | cut -d: -f6)
	RL_RUN=/run/user/$RL_UID
	cgroup_v2 || { RL_ERR="rootless with the systemd driver needs cgroup v2"; return 1; }
	grep -q "^$RL_USER:" /etc/subuid && grep -q "^$RL_USER:" /etc/subgid ||
		{ RL_ERR="$RL_USER has no range in /etc/subuid and /etc/subgid"; return 1; }
	[ -S "$RL_RUN/bus" ] ||
		{ RL_ERR="no user bus $RL_RUN/bus: is $RL_USER's manager running (loginctl enable-linger $RL_USER)?"; return 1; }
	RL_RUN_BEFORE=$(ls -A "$RL_RUN")
	for e in "${RL_HOME_DIRS[@]}"; do
		[ -e "$RL_HOME/$e" ] || RL_HOME_NEW+=("$RL_HOME/$e")
	done
	mkdir -p "$RL_DIR"/{root,runroot,tmp,bin}
	RUNTIME_CALLS=$RL_CALLS make_runtime_wrapper "$RL_DIR/bin/runtime"
	: >"$RL_CALLS"
	cat >"$RL_DIR/containers.conf" <<EOF
[containers]
log_driver = "k8s-file"
netns = "none"

[engine]
cgroup_manager = "systemd"
events_logger = "file"
events_logfile_path = "$RL_DIR/events.log"
tmp_dir = "$RL_DIR/tmp"
static_dir = "$RL_DIR/root/libpod"
volume_path = "$RL_DIR/root/volumes"
runtime = "ocirun"
runtime_supports_json = ["crun", "runc", "ocirun"]
runtime_supports_nocgroups = ["crun", "ocirun"]

[engine.runtimes]
ocirun = ["$RL_DIR/bin/runtime"]
EOF
	# vfs: rootless overlay needs user xattrs on the file system of the temp
	# dir (tmpfs has them from Linux 6.6 only) or fuse-overlayfs
	printf '[storage]\ndriver = "vfs"\nrunroot = "%s"\ngraphroot = "%s"\n' "$RL_DIR/runroot" "$RL_DIR/root" \
		>"$RL_DIR/storage.conf"
	cp "$1" "$RL_DIR/busybox.tar"
	chown -R "$RL_USER:" "$RL_DIR"
	[ -f "$RL_RUN/libpod/tmp/pause.pid" ] || RL_PAUSE_PID=new
	rpm import "$RL_DIR/busybox.tar" "$IMG" >"$WORK/logs/rootless-import.log" 2>&1 ||
		{ RL_ERR="rootless podman import failed: $(tail -n 3 "$WORK/logs/rootless-import.log")"; return 1; }
	rm -f "$RL_DIR/busybox.tar"
}

# rootless_cleanup: the user's containers, their units, the pause process
# and the entries of its runtime dir that this run made.
rootless_cleanup() {
	local ids id e
	[ -n "$RL_UID" ] && [ -d "$RL_DIR/root" ] || return 0
	ids=$(grep -oE '[0-9a-f]{64}' "$RL_CALLS" 2>/dev/null | sort -u)
	rpm rm -a -f -t 0 >/dev/null 2>&1
	rpm system reset -f >/dev/null 2>&1
	for id in $ids; do
		rl systemctl --user kill -s SIGKILL "libpod-$id.scope" "libpod-conmon-$id.scope" >/dev/null 2>&1
		rl systemctl --user stop "libpod-$id.scope" "libpod-conmon-$id.scope" >/dev/null 2>&1
		rl systemctl --user reset-failed "libpod-$id.scope" "libpod-conmon-$id.scope" >/dev/null 2>&1
	done
	if [ "$RL_PAUSE_PID" = new ] && [ -f "$RL_RUN/libpod/tmp/pause.pid" ]; then
		kill -9 "$(cat "$RL_RUN/libpod/tmp/pause.pid")" 2>/dev/null
	fi
	# what podman and the runtime made in the user's runtime dir
	for e in containers libpod podman netns runc crun ocirun; do
		printf '%s\n' "$RL_RUN_BEFORE" | qgrep -x "$e" || rm -rf "${RL_RUN:?}/$e"
	done
	for e in "${RL_HOME_NEW[@]}"; do
		if [ -d "$e" ]; then rmdir "$e" 2>/dev/null; else rm -f "$e"; fi
	done
	return 0
}

# --- set-up ----------------------------------------------------------------

write_config
echo "# runtime: $RUNTIME ($("$RUNTIME" --version 2>&1 | head -n1))"
echo "# podman: $(podman --version), storage driver $STORAGE_DRIVER, $(cgroup_mode_desc), work dir $WORK"

make_busybox_rootfs "$WORK/rootfs"
tar -C "$WORK/rootfs" -cf "$WORK/busybox.tar" . || bail "image" "tar of the rootfs failed"
pm import "$WORK/busybox.tar" "$IMG" >"$WORK/logs/import.log" 2>&1 ||
	{ diag "$WORK/logs/import.log"; bail "image" "podman import failed"; }
if systemd_mode && [ -n "$RL_USER" ]; then
	rootless_setup "$WORK/busybox.tar"
fi
rm -rf "$WORK/rootfs" "$WORK/busybox.tar"
SD_NOTIFY=
if systemd_mode && build_sd_notify "$WORK/bin/sd-notify" >"$WORK/logs/sd-notify.log" 2>&1; then
	SD_NOTIFY=$WORK/bin/sd-notify
fi

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

# called ERE: the runtime was called with arguments matching ERE.
called() {
	grep -qE -- "$1" "$RUNTIME_CALLS" || fail "no runtime call matching /$1/ in $RUNTIME_CALLS"
}

# systemd mode: podman had conmon run the runtime with --systemd-cgroup and
# cgroupsPath machine.slice:libpod:ID; the container's init is in the active
# scope libpod-ID.scope of machine.slice (Delegate=yes), conmon in
# libpod-conmon-ID.scope.
t_systemd_scope() {
	local id pid cpid unit cunit bundle
	read -r id pid cpid < <(pm inspect -f '{{.Id}} {{.State.Pid}} {{.State.ConmonPid}}' d1)
	unit=libpod-$id.scope
	cunit=libpod-conmon-$id.scope
	called "--systemd-cgroup .*create .*$id => 0"
	bundle=$(grep -oE -- "create .*--bundle [^ ]+ .*$id" "$RUNTIME_CALLS" | head -n 1 |
		sed -E 's/.*--bundle ([^ ]+).*/\1/')
	assert_eq "$(jq -r .linux.cgroupsPath "$bundle/config.json")" "$SLICE:libpod:$id" \
		"cgroupsPath in $bundle/config.json"
	assert_eq "$(unit_prop "$unit" ActiveState)" active "ActiveState of $unit"
	assert_eq "$(unit_prop "$unit" Slice)" "$SLICE" "Slice of $unit"
	assert_eq "$(unit_prop "$unit" Delegate)" yes "Delegate of $unit"
	assert_eq "$(unit_prop "$unit" ControlGroup)" "/$SLICE/$unit" "ControlGroup of $unit"
	assert_eq "$(cgroup_path "$pid" name=systemd)" "/$SLICE/$unit" "cgroup of the container's init $pid"
	assert_eq "$(unit_prop "$cunit" ActiveState)" active "ActiveState of $cunit"
	assert_eq "$(unit_prop "$cunit" Slice)" "$SLICE" "Slice of $cunit"
	assert_eq "$(cgroup_path "$cpid" name=systemd)" "/$SLICE/$cunit" "cgroup of conmon $cpid"
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
	out=$(cg d1 freezer)
	assert_eq "$out" FROZEN "freezer state"
	# (plain `podman ps` leaves paused containers out)
	pm ps -a --format '{{.Names}} {{.Status}}' | qgrep -i '^d1 paused' || fail "ps -a does not show d1 paused"
	pm unpause d1
	assert_eq "$(status_of d1)" running "status after unpause"
	assert_eq "$(cg d1 freezer)" THAWED "freezer state after unpause"
	out=$(pm exec d1 echo alive)
	assert_eq "$out" alive "exec after unpause"
}

t_update() {
	pm update --memory 64m --cpu-quota 20000 --cpu-period 100000 d1
	assert_eq "$(cg d1 memory)" 67108864 "memory limit after update"
	assert_eq "$(cg d1 cpu)" "20000 100000" "cpu quota and period after update"
	if systemd_mode; then
		local unit
		unit=$(scope_of d1)
		assert_eq "$(unit_prop "$unit" MemoryMax)" 67108864 "MemoryMax of $unit after update"
		assert_eq "$(unit_prop "$unit" CPUQuotaPerSecUSec)" 200ms "CPUQuotaPerSecUSec of $unit after update"
	fi
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
	local elapsed id
	run_trapping g1 "'echo got-term; exit 0' TERM"
	elapsed=$(timed_stop g1 20)
	[ "$elapsed" -lt 10 ] || fail "stop took ${elapsed}s: SIGTERM not delivered?"
	assert_eq "$(status_of g1)" exited "status after stop"
	assert_eq "$(exit_code_of g1)" 0 "exit code after SIGTERM handler"
	pm logs g1 | qgrep got-term || fail "the TERM handler did not run: $(pm logs g1 2>&1)"
	id=$(cid g1)
	pm rm g1
	assert_no_units_of "$id"
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
	local id unit
	prun -d --name r1 --memory 32m --pids-limit 50 --cpus 0.5 "$IMG" sleep 1000
	retry 10 is_status r1 running
	assert_eq "$(cg r1 memory)" 33554432 "memory limit"
	assert_eq "$(cg r1 pids)" 50 "pids.max"
	assert_eq "$(cg r1 cpu)" "50000 100000" "cpu quota and period"
	# the container's own view of its memory cgroup
	assert_eq "$(pm exec r1 cat "$(cg_memory_file_inside)")" 33554432 \
		"$(cg_memory_file_inside) seen inside"
	id=$(cid r1)
	if systemd_mode; then
		unit=libpod-$id.scope
		assert_eq "$(unit_prop "$unit" ActiveState)" active "ActiveState of $unit"
		assert_eq "$(unit_prop "$unit" MemoryMax)" 33554432 "MemoryMax of $unit"
		assert_eq "$(unit_prop "$unit" TasksMax)" 50 "TasksMax of $unit"
		assert_eq "$(unit_prop "$unit" CPUQuotaPerSecUSec)" 500ms "CPUQuotaPerSecUSec of $unit"
	fi
	pm rm -f -t 0 r1
	assert_no_units_of "$id"
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
	# (one container for both: each podman run costs seconds in an emulated VM)
	out=$(prun --rm -v "$dir:/data:ro" --tmpfs /scratch:size=1m "$IMG" sh -c '
		echo x > /data/z 2>/dev/null || echo refused
		awk "\$2 == \"/scratch\" { print \$3 }" /proc/mounts; echo hi > /scratch/f && cat /scratch/f')
	assert_eq "$(sed -n 1p <<<"$out")" refused "write to a :ro bind"
	[ ! -e "$dir/z" ] || fail ":ro bind was writable"
	assert_eq "$(sed -n '2,$p' <<<"$out")" $'tmpfs\nhi' "--tmpfs /scratch"
}

t_identity() {
	local out
	out=$(prun --rm --hostname ocirun-test --user 1000:1000 --workdir /home --env FOO=bar "$IMG" \
		sh -c 'hostname; id -u; id -g; pwd; echo "$FOO"')
	assert_eq "$(sed -n 1p <<<"$out")" ocirun-test "--hostname"
	assert_eq "$(sed -n 2,3p <<<"$out")" $'1000\n1000' "--user 1000:1000 (uid, gid)"
	assert_eq "$(sed -n 4p <<<"$out")" /home "--workdir"
	assert_eq "$(sed -n 5p <<<"$out")" bar "--env"
	assert_eq "$(sed -n '6,$p' <<<"$out")" "" "more output"
	out=$(prun --rm --user nobody "$IMG" id -un)
	assert_eq "$out" nobody "--user nobody"
}

t_network_none() {
	local out
	out=$(prun --rm --network none "$IMG" ls /sys/class/net)
	assert_eq "$out" lo "interfaces with --network none"
	out=$(prun --rm --network host "$IMG" ls /sys/class/net)
	assert_eq "$out" "$(ls /sys/class/net)" "interfaces with --network host"
}

t_rm_force() {
	local pid id
	pid=$(pid_of d1)
	id=$(cid d1)
	pm rm -f -t 0 d1
	pm ps -a --format '{{.Names}}' | qgrep -x d1 && fail "d1 still listed"
	retry 5 sh -c "! kill -0 $pid 2>/dev/null" || fail "pid $pid of d1 still alive"
	assert_no_units_of "$id"
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
	local i n ids pids=() failed=0
	# started concurrently: ten podman processes, ten runtime creates at once
	for i in $(seq 1 10); do
		prun -d --name "m$i" "$IMG" sleep 1000 >/dev/null &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || failed=$((failed + 1))
	done
	assert_eq "$failed" 0 "podman run -d that failed"
	n=$(pm ps --filter status=running --format '{{.Names}}' | grep -c '^m')
	assert_eq "$n" 10 "running containers"
	ids=$(pm inspect -f '{{.Id}}' $(seq -f 'm%g' 1 10))
	if systemd_mode; then
		n=$(units_like 'libpod-*' | grep -F "$ids" | grep -vc conmon || true)
		assert_eq "$n" 10 "container scopes"
	fi
	pm rm -f -t 0 $(seq -f 'm%g' 1 10) >/dev/null
	n=$(pm ps -a --format '{{.Names}}' | grep -c '^m' || true)
	assert_eq "$n" 0 "containers left after rm -f"
	assert_no_units_of $ids
}

notify_state() { unit_prop "$NOTIFY_UNIT" ActiveState; }
notify_state_is() { [ "$(notify_state)" = "$1" ]; }

# systemd mode: `podman run --sdnotify=container` as a Type=notify service:
# podman, conmon and the runtime pass the service's NOTIFY_SOCKET on into
# the container (the runtime binds a socket of its own there and relays its
# READY=1). The service is "activating" while the container runs until the
# container sends READY=1 (a static helper, busybox cannot), then "active".
t_sdnotify() {
	local gate=$WORK/notify-gate id sock
	mkdir -p "$gate"
	systemd-run --quiet --no-block --collect --unit="$NOTIFY_UNIT" \
		-p Type=notify -p NotifyAccess=all -p TimeoutStartSec=300 -p RuntimeMaxSec=600 \
		--setenv=CONTAINERS_CONF="$CONTAINERS_CONF" \
		--setenv=CONTAINERS_STORAGE_CONF="$CONTAINERS_STORAGE_CONF" \
		"$(command -v podman)" "${PODMAN_ARGS[@]}" run --name n1 --sdnotify=container \
		-v "$gate:/gate" -v "$SD_NOTIFY:/usr/bin/sd-notify:ro" "$IMG" sh -c '
			echo "$NOTIFY_SOCKET" > /gate/waiting
			while [ ! -e /gate/go ]; do sleep 0.1; done
			sd-notify READY=1 && touch /gate/notified
			while [ ! -e /gate/stop ]; do sleep 0.1; done'
	retry 60 test -s "$gate/waiting" ||
		fail "the container did not start: $(notify_state); $(journalctl -q -u "$NOTIFY_UNIT" | tail -n 5)"
	sock=$(cat "$gate/waiting")
	note "NOTIFY_SOCKET in the container: $sock"
	[ -n "$sock" ] || fail "no NOTIFY_SOCKET in the container"
	assert_eq "$(notify_state)" activating "$NOTIFY_UNIT with the container running, before READY=1"
	sleep 2
	assert_eq "$(notify_state)" activating "$NOTIFY_UNIT 2 s later, still before READY=1"
	touch "$gate/go"
	retry 30 notify_state_is active ||
		fail "$NOTIFY_UNIT not active after READY=1: $(notify_state); $(journalctl -q -u "$NOTIFY_UNIT" | tail -n 5)"
	[ -e "$gate/notified" ] || fail "sd-notify in the container failed"
	id=$(cid n1)
	# podman tells systemd that conmon is the service's main process
	assert_eq "$(unit_prop "$NOTIFY_UNIT" MainPID)" "$(pm inspect -f '{{.State.ConmonPid}}' n1)" \
		"MainPID of $NOTIFY_UNIT (conmon)"
	touch "$gate/stop"
	retry 60 no_units_like "$NOTIFY_UNIT" ||
		fail "$NOTIFY_UNIT still loaded after the container exited: $(notify_state)"
	retry 10 is_status n1 exited || fail "n1: $(status_of n1)"
	assert_eq "$(exit_code_of n1)" 0 "exit code of n1"
	pm rm n1
	assert_no_units_of "$id"
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

# ENGINE_ROOTLESS_USER: that user's podman runs a container with limits
# through the runtime: the runtime is called with --systemd-cgroup, the
# container is the scope libpod-ID.scope in the user manager's user.slice
# (with MemoryMax, TasksMax), the limits are in its cgroup files; after rm
# no unit, runtime state or process is left.
t_rootless() {
	local out id pid unit cgp rtroot
	# the user's runtime calls go to run_test's diagnostics too
	trap 'cat "$RL_CALLS" >>"$RUNTIME_CALLS" 2>/dev/null; : >"$RL_CALLS"' EXIT
	[ -z "$RL_ERR" ] || fail "$RL_ERR"
	out=$(rpm run --rm "$IMG" sh -c 'echo hello; id -u')
	assert_eq "$out" $'hello\n0' "output of a rootless run (uid 0 in the user namespace)"
	rpm run -d --name rl1 --memory 32m --pids-limit 50 "$IMG" sleep 1000
	read -r id pid < <(rpm inspect -f '{{.Id}} {{.State.Pid}}' rl1)
	unit=libpod-$id.scope
	grep -qE -- "--systemd-cgroup .*create .*$id => 0" "$RL_CALLS" ||
		fail "no runtime call '--systemd-cgroup ... create ... $id' in $RL_CALLS"
	cgp=/user.slice/user-$RL_UID.slice/user@$RL_UID.service/user.slice/$unit
	assert_eq "$(cgroup_path "$pid")" "$cgp" "cgroup of the container's init $pid"
	assert_eq "$(rl systemctl --user show -P ActiveState "$unit")" active "ActiveState of $unit (user manager)"
	assert_eq "$(rl systemctl --user show -P Slice "$unit")" user.slice "Slice of $unit"
	assert_eq "$(rl systemctl --user show -P MemoryMax "$unit")" 33554432 "MemoryMax of $unit"
	assert_eq "$(rl systemctl --user show -P TasksMax "$unit")" 50 "TasksMax of $unit"
	assert_eq "$(cg_read "$pid" memory)" 33554432 "memory.max"
	assert_eq "$(cg_read "$pid" pids)" 50 "pids.max"
	assert_eq "$(rpm exec rl1 cat /sys/fs/cgroup/memory.max)" 33554432 "memory.max seen inside"
	# the runtime's state: under the user's runtime dir, as runc's and crun's
	rtroot=$(find "$RL_RUN" -mindepth 2 -maxdepth 2 -name "$id" 2>/dev/null | head -n 1)
	note "runtime state of rl1: ${rtroot:-none found under $RL_RUN}"
	rpm rm -f -t 0 rl1
	retry 20 rl_no_units "libpod-*$id*" || fail "units left: $(rl_units "libpod-*$id*" | tr '\n' ' ')"
	retry 5 sh -c "! kill -0 $pid 2>/dev/null" || fail "pid $pid of rl1 still alive"
	[ -z "$rtroot" ] || [ ! -e "$rtroot" ] || fail "runtime state $rtroot left"
	[ ! -d "/sys/fs/cgroup$cgp" ] || fail "cgroup $cgp left"
}

# count_of NAME: the last number the counting loop of NAME wrote, in its
# own /tmp (the container's writable layer, which --export carries).
count_of() { pm exec "$1" tail -n 1 /tmp/count 2>/dev/null; }
counted_to() { [ "$(count_of "$1")" -ge "$2" ] 2>/dev/null; }

# assert_counting NAME: /tmp/count of NAME is 1, 2, 3 ... without a gap or
# a repeat: a restored loop goes on, a restarted one would begin at 1 again.
assert_counting() {
	local bad
	bad=$(pm exec "$1" awk '$1 != NR { print "line " NR ": " $1; exit }' /tmp/count)
	assert_eq "$bad" "" "/tmp/count of $1"
}

# podman container checkpoint / restore, and --export / --import (moving a
# container to another host), with the runtime's checkpoint and restore.
t_checkpoint() {
	local at
	prun -d --name ck1 "$IMG" sh -c 'i=0; while :; do i=$((i+1)); echo $i >>/tmp/count; sleep 0.2; done' >/dev/null
	retry 60 counted_to ck1 3 || fail "ck1 does not count: $(count_of ck1)"
	# a dump or restore under emulation (the VM tier) takes up to a minute
	ENGINE_TIMEOUT=180 pm container checkpoint ck1 >/dev/null || fail "checkpoint ck1"
	called "checkpoint .*--image-path .*$(cid ck1) => 0"
	assert_eq "$(status_of ck1)" exited "status of ck1 after checkpoint"
	ENGINE_TIMEOUT=180 pm container restore ck1 >/dev/null || fail "restore ck1"
	called "restore .*--image-path .*$(cid ck1) => 0"
	assert_eq "$(status_of ck1)" running "status of ck1 after restore"
	at=$(count_of ck1)
	retry 60 counted_to ck1 $((at + 3)) || fail "ck1 does not count on from $at: $(count_of ck1)"
	assert_counting ck1

	ENGINE_TIMEOUT=180 pm container checkpoint --export "$WORK/ck1.tar.gz" ck1 >/dev/null ||
		fail "checkpoint --export"
	pm rm -f ck1 >/dev/null
	ENGINE_TIMEOUT=180 pm container restore --import "$WORK/ck1.tar.gz" >/dev/null ||
		fail "restore --import"
	assert_eq "$(status_of ck1)" running "status of ck1 after --import"
	at=$(count_of ck1)
	retry 60 counted_to ck1 $((at + 3)) || fail "the imported ck1 does not count on from $at"
	assert_counting ck1
	pm rm -f -t 0 ck1 >/dev/null
}

# After every container is gone: nothing of theirs remains.
t_leftovers() {
	local id d ids
	pm rm -a -f -t 0 >/dev/null
	assert_eq "$(all_ids | wc -l)" 0 "containers left"
	if systemd_mode; then
		ids=$(run_ids)
		[ -n "$ids" ] || fail "no container ids in $RUNTIME_CALLS"
		retry 20 sh -c '[ -z "$(systemctl list-units --all --plain --no-legend "libpod-*" | grep -F "$1")" ]' \
			- "$ids" || fail "units left: $(units_like 'libpod-*' | grep -F "$ids" | tr '\n' ' ')"
		d=$(units_like "$NOTIFY_UNIT")
		[ -z "$d" ] || fail "unit left: $d"
		# (no cgroup: no process left in one either)
		d=$(cgroup_dirs_under "$SLICE" | grep -F "$ids" || true)
		[ -z "$d" ] || fail "container cgroups left: $d"
	else
		d=$(cgroup_dirs_under "$CGPARENT" | grep '/libpod-' || true)
		[ -z "$d" ] || fail "container cgroups left: $d"
		d=$(pids_in_cgroups "$CGPARENT" | tr '\n' ' ')
		[ -z "$d" ] || fail "processes left in our cgroups: $d"
	fi
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
# systemd-only checks are not listed at all in cgroupfs mode (not skipped:
# there is nothing to check on a host without systemd)
if systemd_mode; then
	run_test "systemd: libpod-ID.scope in $SLICE, conmon's scope" t_systemd_scope
fi
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
if ! systemd_mode; then
	:
elif [ -z "$SD_NOTIFY" ]; then
	skip_test "run --sdnotify=container in a Type=notify service" \
		"cannot build the static sd-notify helper: $(tail -n 1 "$WORK/logs/sd-notify.log")"
else
	run_test "run --sdnotify=container in a Type=notify service" t_sdnotify
fi
run_test "runtime errors reach the user" t_runtime_errors
# CRIU 3.17 (Debian 12) dumps on Debian 12's 6.1 kernel, not on newer ones:
# the VM tier (tests/vm/check-host.sh) runs this with ENGINE_CHECKPOINT=1.
if [ "${ENGINE_CHECKPOINT:-0}" = 1 ]; then
	run_test "container checkpoint / restore, --export / --import" t_checkpoint
else
	skip_test "container checkpoint / restore" "ENGINE_CHECKPOINT=1 only (CRIU needs a kernel it supports: the VM tier)"
fi
if systemd_mode && [ -n "$RL_USER" ]; then
	run_test "rootless podman (user $RL_USER): scope in the user's manager, limits" t_rootless
elif systemd_mode; then
	skip_test "rootless podman" "ENGINE_CGROUP_MANAGER=systemd and ENGINE_ROOTLESS_USER=NAME only"
fi
run_test "nothing left behind" t_leftovers

tap_done
