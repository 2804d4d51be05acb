#!/usr/bin/env bats
# tests/install/install.bats — what `make install` puts where, and that
# `make uninstall` takes all of it back; `make distcheck`.
#
# Needs a configured build dir: $OCIRUN_BUILD_DIR (tests/run.sh exports its
# own), else the directory of $OCIRUN when it holds a Makefile. Installs
# into a DESTDIR under the test's temp dir, never onto the host.

load helpers

setup() {
	find_build_dir
}

@test "make install installs the binary, a man page per command and the bash completion; uninstall removes them" {
	local dest=$BATS_TEST_TMPDIR/dest sbindir man8dir compdir page want got
	{ read -r sbindir; read -r man8dir; read -r compdir; } < <(make_vars sbindir man8dir bashcompletiondir)
	run -0 make -s -C "$BUILD" install DESTDIR="$dest"

	# exactly these files, nothing else
	want=$( {
		echo "$sbindir/ocirun"
		man_pages | sed "s|^|$man8dir/|"
		echo "$compdir/ocirun"
	} | sort)
	got=$(cd "$dest" && find . ! -type d | sed 's|^\.||' | sort)
	assert_equal "$got" "$want"
	[ "$(man_pages | wc -l)" -ge 16 ] || fail "too few commands in ocirun --help"

	# the binary is the one built
	assert_equal "$("$dest$sbindir/ocirun" --version)" "$("$BUILD/ocirun" --version)"
	[ "$(stat -c %a "$dest$sbindir/ocirun")" = 755 ] || fail "mode of ocirun: $(stat -c %a "$dest$sbindir/ocirun")"

	# each man page renders without a groff warning, under its own title,
	# with the version in the footer
	local version
	version=$(built_version)
	while read -r page; do
		local file=$dest$man8dir/$page title=${page%.8}
		title=${title^^}
		run -0 --separate-stderr env LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$file"
		[ -z "$output$stderr" ] || fail "groff warns about $page: $output$stderr"
		run -0 --separate-stderr env MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$file"
		[ -z "$stderr" ] || fail "man -l $page: $stderr"
		assert_line --index 0 --regexp "^$title\(8\) +System Manager's Manual +$title\(8\)\$"
		assert_line --regexp "^ +${page%.8} - [a-z]"
		assert_line --regexp "^ocirun $version +$title\(8\)\$"
	done < <(man_pages)

	# the completion is the tree's
	cmp "$dest$compdir/ocirun" "$REPO_ROOT/completions/bash/ocirun"

	run -0 make -s -C "$BUILD" uninstall DESTDIR="$dest"
	got=$(cd "$dest" && find . ! -type d)
	assert_equal "$got" ""
}

@test "the bash completion goes where bash-completion looks under the prefix" {
	local prefix compdir
	{ read -r prefix; read -r compdir; } < <(make_vars prefix bashcompletiondir)
	# bash-completion loads completions from DIR/bash-completion/completions
	# for each DIR of XDG_DATA_DIRS (/usr/local/share:/usr/share by default)
	assert_equal "$compdir" "$prefix/share/bash-completion/completions"
}

@test "make distcheck passes: the tarball builds out of tree, unit tests pass, uninstall is clean" {
	local version log=$BATS_TEST_TMPDIR/distcheck.log
	version=$(built_version)
	# distcheck builds from its own tarball; it leaves only the tarball
	if ! make -C "$BUILD" distcheck >"$log" 2>&1; then
		rm -f "$BUILD/ocirun-$version.tar.gz"
		tail -n 40 "$log"
		fail "make distcheck failed (log above)"
	fi
	grep -q "ocirun-$version archives ready for distribution" "$log" || fail "no 'ready for distribution' line"
	# the tarball carries the man pages' sources, the completion and debian/
	run -0 tar -tzf "$BUILD/ocirun-$version.tar.gz"
	rm -f "$BUILD/ocirun-$version.tar.gz"
	assert_line "ocirun-$version/docs/ocirun-run.8.md"
	assert_line "ocirun-$version/completions/bash/ocirun"
	assert_line "ocirun-$version/debian/rules"
	assert_line "ocirun-$version/debian/containers.conf.d/50-ocirun.conf"
	# and no build product
	refute_line --regexp '\.(o|a|8|log|trs)$'
}
