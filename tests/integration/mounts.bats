#!/usr/bin/env bats
# Mount options that are flags, not filesystem data (nosymfollow, symfollow,
# iversion, silent, loud, defaults: before, they went to the filesystem,
# which refused them or, on a bind mount, never saw them), and a mount's
# own uidMappings/gidMappings without the idmap option.

load helpers

setup() {
	setup_bundle
	mkdir "$TEST_TMP/src"
	echo secret >"$TEST_TMP/src/file"
	ln -s file "$TEST_TMP/src/link"
}

teardown() { teardown_bundle; }

# add_mount JSON: append a mount to the config.
add_mount() {
	update_config '.mounts += [$m]' --argjson m "$1"
}

# The options of the mount at $1 as the container's mountinfo shows them.
MOUNT_OPTS='awk -v d="$0" '"'"'$5 == d { print $6 }'"'"' /proc/self/mountinfo'

@test "nosymfollow on a bind mount: symlinks on it are not followed" {
	add_mount '{"destination": "/mnt", "source": "'"$TEST_TMP/src"'", "options": ["bind", "nosymfollow"]}'
	set_args sh -c "$MOUNT_OPTS; cat /mnt/file; cat /mnt/link" /mnt
	run -1 ocirun run "$CID" </dev/null
	assert_line --index 0 --regexp '(^|,)nosymfollow(,|$)'
	assert_line --index 1 secret
	assert_line --index 2 --partial "Too many levels of symbolic links"
}

@test "rnosymfollow reaches the mounts below an rbind; symfollow undoes nosymfollow" {
	mkdir "$TEST_TMP/src/sub"
	mount -t tmpfs ocitest "$TEST_TMP/src/sub"
	echo below >"$TEST_TMP/src/sub/file"
	ln -s file "$TEST_TMP/src/sub/link"
	add_mount '{"destination": "/mnt", "source": "'"$TEST_TMP/src"'", "options": ["rbind", "rnosymfollow"]}'
	add_mount '{"destination": "/m2", "source": "'"$TEST_TMP/src"'", "options": ["bind", "nosymfollow", "symfollow"]}'
	set_args sh -c 'cat /m2/link; cat /mnt/sub/link'
	run ocirun run "$CID" </dev/null
	umount "$TEST_TMP/src/sub"
	[ "$status" -eq 1 ]
	assert_line --index 0 secret
	assert_line --index 1 --partial "Too many levels of symbolic links"
}

@test "iversion, noiversion, silent, loud and defaults are flags, never filesystem data" {
	skip_unless_ocirun "runc 1.1 passes iversion to the filesystem"
	# tmpfs refuses any option it does not know: each reaching it as data
	# would fail the run.
	add_mount '{"destination": "/t1", "type": "tmpfs", "source": "tmpfs", "options": ["iversion", "silent", "defaults", "nosymfollow", "mode=700"]}'
	add_mount '{"destination": "/t2", "type": "tmpfs", "source": "tmpfs", "options": ["noiversion", "loud", "defaults", "mode=711"]}'
	set_args sh -c "$MOUNT_OPTS; stat -c %a /t1 /t2" /t1
	run -0 ocirun run "$CID" </dev/null
	assert_line --index 0 --regexp '(^|,)nosymfollow(,|$)'
	assert_line --index 1 700
	assert_line --index 2 711
}

@test "a mount's uidMappings and gidMappings apply without the idmap option" {
	skip_unless_ocirun "runc 1.1 has no idmapped mounts"
	# Files of uid/gid 0 on the host show as 1000/2000 through the mount.
	chown 0:0 "$TEST_TMP/src/file"
	add_mount '{"destination": "/mnt", "source": "'"$TEST_TMP/src"'", "options": ["bind"],
		"uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
		"gidMappings": [{"containerID": 0, "hostID": 2000, "size": 1}]}'
	set_args stat -c '%u:%g' /mnt/file
	run -0 ocirun run "$CID" </dev/null
	assert_output "1000:2000"
}
