#!/usr/bin/env bats
# tests/install/deb.bats — the Debian package, end to end: built from the
# tree (its `make dist` tarball) with dpkg-buildpackage, checked by lintian,
# installed with apt, used by podman through its containers.conf drop-in
# alone, then purged.
#
# The tests run in order and share $BATS_FILE_TMPDIR. Whatever fails, the
# package is purged at the end if this file installed it; the host's own
# `make install` (/usr/local) is never touched, and a host where the ocirun
# package is already installed is left alone (the file is skipped).
# Build dir: as tests/install/install.bats ($OCIRUN_BUILD_DIR).

load helpers

W=$BATS_FILE_TMPDIR
MARK_INSTALLED=$W/installed-by-test
# podman's files outside the dirs it is given; those absent at the start
# are removed at the end
PODMAN_HOST_PATHS=(/var/lib/containers/cache/blob-info-cache-v1.boltdb /var/lib/containers/cache
	/var/lib/containers /run/containers/networks /run/containers)

setup_file() {
	local p
	if [ "$(dpkg-query -W -f '${Status}' ocirun 2>/dev/null)" = "install ok installed" ]; then
		echo "the ocirun package is installed on this host: not replacing it" >"$W/skip"
	fi
	sha256sum /usr/local/sbin/ocirun >"$W/local-ocirun.sha256" 2>/dev/null || true
	for p in "${PODMAN_HOST_PATHS[@]}"; do
		[ -e "$p" ] && echo "$p"
	done >"$W/podman-host-paths"
	# podman's default cgroup parent on cgroupfs, made by conmon: ours to
	# remove unless it was there before
	ls -d /sys/fs/cgroup/*/libpod_parent >"$W/libpod-parents" 2>/dev/null || true
	return 0
}

# remove_cgroup_tree DIR: rmdir DIR and what is below, deepest first. A
# hierarchy the host does not mount is a plain tmpfs directory where
# conmon still wrote a "tasks" file: files go first there.
remove_cgroup_tree() {
	local x
	find "$1" -depth -type d 2>/dev/null | while read -r x; do
		[ "$(stat -f -c %T "$x")" = tmpfs ] && find "$x" -maxdepth 1 -type f -delete
		rmdir "$x" 2>/dev/null || echo "# could not remove cgroup $x" >&2
	done
}

teardown_file() {
	local d p
	if [ -d "$W/podman" ]; then
		pm rm -a -f -t 0 >/dev/null 2>&1
		pm system reset -f >/dev/null 2>&1
		for d in $(awk -v w="$W/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
			umount -l "$d"
		done
	fi
	for d in /sys/fs/cgroup/*/libpod_parent; do
		[ -d "$d" ] && ! grep -qxF "$d" "$W/libpod-parents" && remove_cgroup_tree "$d"
	done
	for p in "${PODMAN_HOST_PATHS[@]}"; do
		grep -qxF "$p" "$W/podman-host-paths" && continue
		if [ -f "$p" ]; then rm -f "$p"; else rmdir "$p" 2>/dev/null; fi
	done
	if [ -e "$MARK_INSTALLED" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq ocirun >/dev/null 2>&1
	fi
	return 0
}

setup() {
	[ ! -e "$W/skip" ] || skip "$(cat "$W/skip")"
	find_build_dir
	DEB=$(ls "$W"/ocirun_*.deb 2>/dev/null | head -n 1)
}

# pm ARGS...: root's podman on private storage under $W, with no
# containers.conf but the system's (the package's drop-in included).
pm() {
	env -u CONTAINERS_CONF timeout -k 5 60 podman --root "$W/podman/root" --runroot "$W/podman/runroot" \
		--tmpdir "$W/podman/tmp" --events-backend none "$@"
}

@test "the package builds from the tree with dpkg-buildpackage, and lintian finds no error" {
	local version src arch
	version=$(built_version)
	arch=$(dpkg --print-architecture)
	run -0 make -s -C "$BUILD" dist-gzip
	tar -C "$W" -xzf "$BUILD/ocirun-$version.tar.gz"
	rm -f "$BUILD/ocirun-$version.tar.gz"
	src=$W/ocirun-$version
	# the package's version is ocirun's (a native package)
	assert_equal "$(cd "$src" && dpkg-parsechangelog -S Version)" "$version"
	# the unit tests are tests/run.sh's, not repeated here
	(cd "$src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) >"$W/build.log" 2>&1 ||
		{ tail -n 30 "$W/build.log"; fail "dpkg-buildpackage failed (log above)"; }
	run -0 ls "$W/ocirun_${version}_${arch}.deb" "$W/ocirun_${version}_${arch}.changes"
	# (it warns that it runs as root: stderr)
	run --separate-stderr lintian --fail-on error "$W/ocirun_${version}_${arch}.changes"
	[ "$status" -eq 0 ] || fail "lintian found errors: $output $stderr"
}

@test "apt installs it: the binary, the man pages, the completion, podman's drop-in" {
	[ -n "$DEB" ] || fail "no package built"
	DEBIAN_FRONTEND=noninteractive run -0 apt-get install -y -qq --no-install-recommends "$DEB"
	touch "$MARK_INSTALLED"
	dpkg -L ocirun | sort >"$W/package-files"
	local page conf=/etc/containers/containers.conf.d/50-ocirun.conf
	run -0 /usr/sbin/ocirun --version
	assert_line --index 0 "ocirun version $(built_version)"
	while read -r page; do
		grep -qxF "/usr/share/man/man8/$page.gz" "$W/package-files" || fail "no $page in the package"
		run -0 --separate-stderr env MANWIDTH=80 LC_ALL=C.UTF-8 man -l "/usr/share/man/man8/$page.gz"
		[ -z "$stderr" ] || fail "man -l $page: $stderr"
		assert_line --regexp "^ +${page%.8} - [a-z]"
	done < <(man_pages)
	cmp /usr/share/bash-completion/completions/ocirun "$REPO_ROOT/completions/bash/ocirun"
	run -0 bash --norc --noprofile -c 'source "$1" && complete -p ocirun' - \
		/usr/share/bash-completion/completions/ocirun
	assert_output 'complete -F _ocirun ocirun'
	# the drop-in registers the packaged binary and is a conffile
	grep -qxF 'ocirun = ["/usr/sbin/ocirun"]' "$conf" || fail "$conf does not register /usr/sbin/ocirun"
	run -0 dpkg-query -W -f '${Conffiles}' ocirun
	assert_output --partial "$conf"
}

@test "podman --runtime ocirun runs a container with no other configuration" {
	grep -q . "$W/package-files" 2>/dev/null || fail "the package is not installed"
	local img=localhost/ocirun-deb-test:1 limits=()
	mkdir -p "$W/podman"
	"$REPO_ROOT/tests/make-bundle.sh" --rootfs-only "$W/podman/bundle" >/dev/null
	tar -C "$W/podman/bundle/rootfs" -cf "$W/podman/busybox.tar" .
	run -0 pm import "$W/podman/busybox.tar" "$img"
	# Without CAP_SYS_RESOURCE (a host in a container), podman's default
	# rlimits for root (1048576 files) cannot be set, whatever the runtime:
	# ask for the current ones there.
	if (($(( 16#$(awk '/^CapEff:/ { print $2 }' /proc/self/status) >> 24 & 1 )) == 0)); then
		limits=(--ulimit "nofile=$(ulimit -Sn):$(ulimit -Hn)" --ulimit nproc=4096:4096)
	fi
	run -0 --separate-stderr pm --log-level debug --runtime ocirun run --rm --network none \
		"${limits[@]}" "$img" sh -c 'echo hello from ocirun; id -u'
	assert_output $'hello from ocirun\n0'
	# podman found the runtime through the drop-in and nowhere else
	[[ $stderr == *'Using OCI runtime \"/usr/sbin/ocirun\"'* ]] ||
		fail "podman did not use /usr/sbin/ocirun: $(grep -i 'oci runtime' <<<"$stderr")"
	run -0 pm ps -a -q
	assert_output ""
}

@test "apt purge leaves nothing of the package, and /usr/local's ocirun as it was" {
	grep -q . "$W/package-files" 2>/dev/null || fail "the package was not installed"
	DEBIAN_FRONTEND=noninteractive run -0 apt-get purge -y -qq ocirun
	rm -f "$MARK_INSTALLED"
	run dpkg-query -W -f '${Status}' ocirun
	[[ $output != *"installed"* || $output == *"not-installed"* ]] || fail "still installed: $output"
	local f left=""
	while read -r f; do
		# the directories the package shares (/usr/sbin, /etc/containers ...)
		[ -d "$f" ] && continue
		[ -e "$f" ] && left+=" $f"
	done <"$W/package-files"
	[ -z "$left" ] || fail "left after purge:$left"
	[ ! -e /etc/containers/containers.conf.d/50-ocirun.conf ] || fail "the drop-in is left"
	if [ -s "$W/local-ocirun.sha256" ]; then
		sha256sum -c --quiet "$W/local-ocirun.sha256" || fail "/usr/local/sbin/ocirun changed"
	fi
}
