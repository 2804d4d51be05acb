# tests/integration/userns_helpers.bash — user namespaces, rootless users and
# escape tests (userns.bats, rootless.bats, escape.bats). Load after helpers:
#
#     load helpers
#     load userns_helpers
#
# Functions:
#   add_userns HOSTID SIZE     config: new user ns, uid+gid 0 -> HOSTID, SIZE ids
#   all_caps_json              JSON array of every capability we hold (bounding)
#   ns_pid HOSTPID             the pid as seen inside its own (innermost) pid ns
#   make_rootless_user         create $RL_USER (+ $RL_UID, $RL_HOME, $XDG), an
#                              XDG_RUNTIME_DIR of its own; ROOT becomes its
#                              state root so teardown_bundle cleans its
#                              containers; removed by teardown_userns
#   as_rl CMD...               run CMD as $RL_USER with XDG_RUNTIME_DIR set
#   rl_ocirun ARGS...          $OCIRUN --root $ROOT ARGS as $RL_USER (timeout)
#   make_rl_bundle [NETNS]     $RL_BUNDLE from `ocirun spec --rootless` by the
#                              user, non-terminal; NETNS=1 adds a network ns
#   userns_bundle HOSTID SIZE  add_userns + rootfs chowned to HOSTID
#   rl_update_config JQ ...    edit $RL_BUNDLE/config.json
#   teardown_userns            teardown_bundle, then remove the user

# add_userns HOSTID SIZE: a new user namespace mapping 0..SIZE-1 to HOSTID..
add_userns() {
	local host=$1 size=$2
	update_config '.linux.namespaces |= (map(select(.type != "user")) + [{"type": "user"}])
		| .linux.uidMappings = [{"containerID": 0, "hostID": $h, "size": $s}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": $h, "size": $s}]' \
		--argjson h "$host" --argjson s "$size"
}

# userns_bundle HOSTID SIZE: add_userns, and the rootfs owned by the mapped
# root, as an engine would prepare it.
userns_bundle() {
	chown -R "$1:$1" "$BUNDLE/rootfs"
	add_userns "$1" "$2"
}

# all_caps_json: ["CAP_CHOWN", ...]: every capability in our bounding set.
all_caps_json() {
	capsh --decode="$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)" | sed 's/.*=//' |
		tr 'a-z' 'A-Z' | jq -Rc 'split(",")'
}

# ns_pid HOSTPID: the last NSpid field of /proc/HOSTPID/status.
ns_pid() {
	awk '/^NSpid:/ { print $NF }' "/proc/$1/status"
}

RL_USER=
make_rootless_user() {
	command -v useradd >/dev/null || skip "useradd missing"
	RL_USER="ocirun-rl${BATS_TEST_NUMBER:-0}-$$"
	RL_USER=${RL_USER:0:31}
	useradd -m "$RL_USER" >&2
	RL_UID=$(id -u "$RL_USER")
	RL_GID=$(id -g "$RL_USER")
	XDG="$TEST_TMP/xdg"
	mkdir -p "$XDG"
	chown "$RL_USER:" "$XDG"
	chmod 700 "$XDG"
	ROOT="$XDG/ocirun"
	export RL_USER RL_UID RL_GID XDG ROOT
	rl_reachable_binary
}

# The build may sit where only root can go (a 0700 temp dir, a checkout
# under /root): give the user a copy it can execute.
rl_reachable_binary() {
	as_rl test -x "$OCIRUN" && return 0
	mkdir -p "$TEST_TMP/rlbin"
	chmod 755 "$TEST_TMP" "$TEST_TMP/rlbin"
	install -m 755 "$OCIRUN" "$TEST_TMP/rlbin/ocirun"
	OCIRUN="$TEST_TMP/rlbin/ocirun"
	export OCIRUN
}

# as_rl CMD...: CMD as the rootless user (its uid, gid and groups), with a
# runtime dir of its own; the rest of the environment is kept.
as_rl() {
	setpriv --reuid "$RL_UID" --regid "$RL_GID" --init-groups --reset-env \
		env XDG_RUNTIME_DIR="$XDG" HOME="$TEST_TMP" PATH="${RL_PATH:-/usr/local/bin:/usr/bin:/bin}" "$@"
}

rl_ocirun() {
	as_rl "$(command -v timeout)" --kill-after=5 "$OCIRUN_TIMEOUT" "$OCIRUN" --root "$ROOT" "$@"
}

# make_rl_bundle [NETNS]: the user's bundle with a copy of the test rootfs
# (owned by host root, readable by anyone: inside it shows as nobody).
make_rl_bundle() {
	RL_BUNDLE="$TEST_TMP/rl"
	mkdir -p "$RL_BUNDLE"
	cp -a "$BUNDLE/rootfs" "$RL_BUNDLE/rootfs"
	chown "$RL_USER:" "$RL_BUNDLE"
	(cd "$RL_BUNDLE" && as_rl "$OCIRUN" spec --rootless) || return 1
	rl_update_config '.process.terminal = false'
	if [ "${1:-0}" = 1 ]; then
		rl_update_config '.linux.namespaces += [{"type": "network"}]'
	fi
	export RL_BUNDLE
}

rl_update_config() {
	local expr=$1
	shift
	jq "$@" "$expr" "$RL_BUNDLE/config.json" >"$RL_BUNDLE/config.json.new" &&
		mv "$RL_BUNDLE/config.json.new" "$RL_BUNDLE/config.json" &&
		chown "$RL_USER:" "$RL_BUNDLE/config.json"
}

# rl_set_args ARG...: process.args of the rootless bundle.
rl_set_args() {
	local json
	json=$(jq -nc '$ARGS.positional' --args -- "$@")
	rl_update_config '.process.args = $a' --argjson a "$json"
}

teardown_userns() {
	local status=0
	teardown_bundle || status=$?
	if [ -n "$RL_USER" ] && id "$RL_USER" >/dev/null 2>&1; then
		# Its processes are gone with its containers; userdel refuses otherwise.
		userdel -r "$RL_USER" >/dev/null 2>&1 || userdel -f -r "$RL_USER" >/dev/null 2>&1 || status=1
	fi
	RL_USER=
	return "$status"
}
