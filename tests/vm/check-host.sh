#!/bin/bash
# tests/vm/check-host.sh — the VM tier: ocirun on the hosts people run
# (systemd as PID 1, pure cgroup v2; systemd on the legacy hierarchy), in
# throwaway QEMU machines (tests/vm/run-vm.sh). What `make check-host` runs,
# and tests/run.sh as its last step.
#
#   tests/vm/check-host.sh BUILD_DIR        (BUILD_DIR holds the built ocirun
#                                            and the unit test programs)
#
# One boot per machine, everything for that machine inside it:
#   systemd (pure v2):  the cgroup and systemd unit tests; tests/vm/systemd.bats;
#                       tests/integration/cgroups.bats with the systemd driver
#                       and with cgroupfs; tests/vm/checkpoint.bats (CRIU);
#                       the engine suites (podman, containerd) with their
#                       systemd defaults, podman's checkpoint/restore too
#   systemd-legacy:     tests/vm/systemd.bats (the driver on RHEL 8 / Ubuntu
#                       20.04 style hosts; cgroups.bats with both drivers
#                       runs on the hybrid development host already)
# Prints TAP lines ("ok"/"not ok", each named after its machine and file,
# as tests/run.sh counts them), a machine that failed to boot or timed out
# being one "not ok". Exit status 0 only when nothing failed.
#
# Environment: OCIRUN_VM_MACHINES (default "systemd systemd-legacy");
# OCIRUN_VM_ENGINES=0 leaves out the engine suites; OCIRUN_VM_TIMEOUT (s, per
# machine, default 2000); the rest as in tests/vm/run-vm.sh.
set -uo pipefail
# The whole script is one block, read before it runs: editing the file
# while a (long) run is going cannot change what that run does.
{

HERE=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$HERE/../.." && pwd)
BUILD=$(realpath "${1:?usage: $0 BUILD_DIR}")
[ -x "$BUILD/ocirun" ] || { echo "check-host.sh: $BUILD/ocirun not built" >&2; exit 2; }
MACHINES=${OCIRUN_VM_MACHINES:-systemd systemd-legacy}
export OCIRUN_VM_TIMEOUT=${OCIRUN_VM_TIMEOUT:-2000}

# The unit test programs the guest runs (make builds them on demand).
UNITS=(tests/unit/test_cgroup tests/unit/test_systemd)
for u in "${UNITS[@]}"; do
	[ -x "$BUILD/$u" ] || make -C "$BUILD" "$u" >/dev/null || exit 2
done

# The guest's side: runs each step, prefixing its TAP lines with the
# machine and the step so that results from both machines stay apart.
inner=$(mktemp "$BUILD/.check-host.XXXXXX")
trap 'rm -f "$inner"' EXIT
cat >"$inner" <<'EOF'
#!/bin/bash
# arguments: MACHINE SRCDIR BUILD ENGINES
set -uo pipefail
machine=$1 src=$2 build=$3 engines=$4
# Everything the tests read, copied onto the guest's tmpfs first: the shared
# directories are 9p without a page cache, where every exec of the runtime
# and every `load helpers` would cross to the host again.
work=/tmp/ocirun-vm
mkdir -p "$work/bin" "$work/src"
cp -a "$src/tests" "$src/config.json.example" "$work/src/"
cp "$build/ocirun" "$build/tests/unit/test_cgroup" "$build/tests/unit/test_systemd" \
	"$build/tests/helpers/recvtty" "$work/bin/"
src=$work/src build=
export OCIRUN=$work/bin/ocirun OCIRUN_TEST_TMPDIR=/tmp/ocirun-vm-tests RECVTTY=$work/bin/recvtty
mkdir -p "$OCIRUN_TEST_TMPDIR"
cd "$src"

# step NAME CMD...: run CMD, its TAP lines renamed "[machine] NAME: ...";
# a step that fails without a failing TAP line is one "not ok" itself.
step() {
	local name=$1 out rc
	shift
	out=$(mktemp)
	echo "# [$machine] $name" >&2
	SECONDS=0
	"$@" >"$out" 2>&1
	rc=$?
	sed -nE "s/^(not ok|ok) [0-9]+ (- )?/\1 - [$machine] $name: /p; /^#/p" "$out"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$out"; then
		echo "not ok - [$machine] $name: exited $rc"
		tail -n 30 "$out" | sed 's/^/#   /'
	fi
	echo "# [$machine] $name took ${SECONDS}s"
	rm -f "$out"
}

echo "# [$machine] $(uname -r); /sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup); systemd $(systemctl is-system-running 2>&1)"
if [ "$machine" = systemd ]; then
	for u in test_cgroup test_systemd; do
		step "unit $u" env CMOCKA_MESSAGE_OUTPUT=TAP "$work/bin/$u"
	done
fi
if [ "$machine" = systemd ]; then
	step "systemd.bats" bats --tap tests/vm/systemd.bats
else
	step "systemd.bats" bats --tap --filter-tags '!v2-only' tests/vm/systemd.bats
fi
if [ "$machine" = systemd ]; then
	step "cgroups.bats (systemd driver)" env OCIRUN_CGROUP_MANAGER=systemd \
		bats --tap --filter-tags '!cgroupfs-only,!no-systemd' tests/integration/cgroups.bats
	step "cgroups.bats (cgroupfs driver)" bats --tap --filter-tags '!no-systemd' tests/integration/cgroups.bats
	# CRIU 3.17 dumps on this 6.1 kernel, not on the development host's
	step "checkpoint.bats" bats --tap tests/vm/checkpoint.bats
	if [ "$engines" = 1 ]; then
		# rootless podman: a user with subordinate ids and a lingering
		# systemd --user, as on a desktop or a rootless server
		rl=ocirun-rl
		id "$rl" >/dev/null 2>&1 || useradd -m "$rl"
		# useradd gives a new user subordinate ids already; a second,
		# overlapping range makes newuidmap fail, so add one only if none
		grep -q "^$rl:" /etc/subuid || usermod --add-subuids 300000-365535 "$rl"
		grep -q "^$rl:" /etc/subgid || usermod --add-subgids 300000-365535 "$rl"
		loginctl enable-linger "$rl"
		for _ in $(seq 120); do
			[ -S "/run/user/$(id -u "$rl")/bus" ] && break
			sleep 0.5
		done
		step "podman (systemd)" env ENGINE_CGROUP_MANAGER=systemd ENGINE_ROOTLESS_USER="$rl" \
			ENGINE_CHECKPOINT=1 RUNTIME="$OCIRUN" bash tests/engines/podman.sh
		step "containerd (systemd)" env ENGINE_CGROUP_MANAGER=systemd RUNTIME="$OCIRUN" bash tests/engines/containerd.sh
	fi
fi
EOF
chmod +x "$inner"

failed=0
for m in $MACHINES; do
	echo "# booting the $m machine (1.5-4 minutes under emulation)"
	SECONDS=0
	out=$(mktemp)
	"$HERE/run-vm.sh" --mode "$m" --share "$BUILD" -- \
		"$inner" "$m" "$SRCDIR" "$BUILD" "${OCIRUN_VM_ENGINES:-1}" | tee "$out"
	rc=${PIPESTATUS[0]}
	case $rc in
	0) ;;
	124) echo "not ok - [$m] the machine timed out after ${OCIRUN_VM_TIMEOUT}s" ;;
	125) echo "not ok - [$m] the machine failed (see above)" ;;
	*) grep -q '^not ok' "$out" || echo "not ok - [$m] the guest script exited $rc" ;;
	esac
	grep -q '^not ok' "$out" && failed=1
	rm -f "$out"
	echo "# [$m] machine done in ${SECONDS}s"
done
exit "$failed"
}
