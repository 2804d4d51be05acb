#!/usr/bin/env bats
# tests/integration/cli.bats — the command line itself: options, help, usage
# errors, exit statuses, the log, and the man pages staying in step with
# --help. Nothing here needs a container: every test works on a private
# empty --root and a temp dir, removed by teardown.
#
# The binary is $OCIRUN (default: ocirun on PATH).

bats_require_minimum_version 1.5.0

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

COMMANDS=(create start run exec kill delete state list ps pause resume update events spec features checkpoint restore)
# Commands whose first argument is a container id.
ID_COMMANDS=(create start run exec kill delete state ps pause resume update events checkpoint restore)

setup() {
	OCIRUN=${OCIRUN:-$(command -v ocirun)}
	[ -x "$OCIRUN" ] || skip "no ocirun binary: set OCIRUN"
	DOCS="$BATS_TEST_DIRNAME/../../docs"
	TEST_TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/ocirun-cli.XXXXXX")
	ROOT="$TEST_TMP/root"
	mkdir "$ROOT"
}

teardown() {
	rm -rf "$TEST_TMP"
}

# ocirun with this test's private state root.
oci() {
	"$OCIRUN" --root "$ROOT" "$@"
}

# Long option names ("--bundle") listed in a --help text on stdin.
help_options() {
	grep -oE '^ +(-[a-z], )?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+' | sort -u
}

# Long option names documented in a man page's OPTIONS section.
man_options() {
	sed -n '/^# OPTIONS/,/^# /p' "$1" |
		grep -E '^(\*\*-[a-z]\*\*, )?\*\*--[a-z0-9-]+\*\*( \*[^*]+\*)?$' |
		grep -oE -- '--[a-z0-9-]+' | sort -u
}

# ---- version and help -------------------------------------------------

@test "--version and -v print the version, commit, spec and libseccomp versions" {
	run -0 "$OCIRUN" --version
	# runc's layout (version, commit, spec, go, libseccomp) without "go:".
	assert_equal "${#lines[@]}" 4
	assert_line --index 0 --regexp '^ocirun version [0-9]+\.[0-9]+\.[0-9]+$'
	# git describe of the source: a hash or tag-N-ghash, maybe -dirty;
	# "unknown" when built outside a git checkout.
	assert_line --index 1 --regexp '^commit: ([0-9a-f]{7,}|[^ ]+-g[0-9a-f]{7,}|v?[0-9][^ ]*|unknown)(-dirty)?$'
	assert_line --index 2 'spec: 1.2.0'
	assert_line --index 3 --regexp '^libseccomp: [0-9]+\.[0-9]+\.[0-9]+$'
	local long=$output
	# The same versions `features` reports.
	local spec=${lines[2]#spec: } seccomp=${lines[3]#libseccomp: }
	run -0 "$OCIRUN" features
	assert_output --regexp "\"ociVersionMax\": *\"$spec\""
	assert_output --regexp "\"io.github.seccomp.libseccomp.version\": *\"$seccomp\""
	run -0 "$OCIRUN" -v
	assert_equal "$output" "$long"
}

@test "--version's commit is the source tree's as of the build, not of configure" {
	# Only for the binary tests/run.sh has just built from this checkout.
	[ -n "${OCIRUN_BUILD_DIR:-}" ] && [ "$OCIRUN" = "$OCIRUN_BUILD_DIR/ocirun" ] ||
		skip "not the binary built by tests/run.sh"
	local src
	src=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	[ -e "$src/.git" ] || skip "the source is not a git checkout"
	run -0 "$OCIRUN" --version
	assert_line --index 1 "commit: $(git -C "$src" describe --always --dirty)"
}

@test "--help lists every command with a one-line description" {
	run -0 "$OCIRUN" --help
	# runc's first two lines (urfave/cli's), which scripts and runc's tests read.
	assert_line --index 0 'NAME:'
	assert_line --index 1 '   ocirun - Open Container Initiative runtime'
	assert_line --index 2 --partial 'Usage: ocirun'
	for cmd in "${COMMANDS[@]}"; do
		assert_line --regexp "^  $cmd +[a-z].{8,}"
	done
	for opt in --root --log --log-format --debug --systemd-cgroup --cgroup-manager --rootless --criu --version --help; do
		assert_output --partial -- "$opt"
	done
}

@test "no command prints the help and succeeds, as runc" {
	run -0 "$OCIRUN"
	assert_line --index 0 'NAME:'
	assert_line --index 2 --partial 'Usage: ocirun'
}

@test "help and --version name the program as it was called, as runc's scripts expect of runc" {
	ln -s "$OCIRUN" "$TEST_TMP/runc"
	run -0 "$TEST_TMP/runc" --version
	assert_line --index 0 --regexp '^runc version [0-9]+\.[0-9]+\.[0-9]+$'
	run -0 "$TEST_TMP/runc" --help
	assert_line --index 1 '   runc - Open Container Initiative runtime'
	run -0 "$TEST_TMP/runc" delete -h
	assert_line --index 1 --regexp '^   runc delete - [a-z]'
}

@test "every command has --help, -h and 'help CMD', all the same text" {
	for cmd in "${COMMANDS[@]}"; do
		run -0 "$OCIRUN" "$cmd" --help
		assert_line --index 0 'NAME:'
		assert_line --index 1 --regexp "^   ocirun $cmd - [a-z]"
		assert_line --index 2 --partial "Usage: ocirun $cmd"
		assert_output --partial 'Options:'
		local long=$output
		run -0 "$OCIRUN" "$cmd" -h
		assert_equal "$output" "$long"
		run -0 "$OCIRUN" help "$cmd"
		assert_equal "$output" "$long"
	done
}

@test "command help shows runc's option names and short forms" {
	run -0 "$OCIRUN" create --help
	assert_output --partial '-b, --bundle DIR'
	for opt in --console-socket --pid-file --no-pivot --no-new-keyring --preserve-fds; do
		assert_output --partial -- "$opt"
	done
	run -0 "$OCIRUN" run --help
	assert_output --partial '-d, --detach'
	assert_output --partial '--keep'
	run -0 "$OCIRUN" exec --help
	for opt in '-p, --process' '-t, --tty' '-e, --env' '-u, --user' '-g, --additional-gids' \
		'-c, --cap' '-d, --detach' --cwd --no-new-privs --apparmor --process-label --ignore-paused; do
		assert_output --partial -- "$opt"
	done
	run -0 "$OCIRUN" kill --help
	assert_output --partial '-a, --all'
	run -0 "$OCIRUN" delete --help
	assert_output --partial '-f, --force'
	run -0 "$OCIRUN" list --help
	assert_output --partial '-f, --format'
	assert_output --partial '-q, --quiet'
	run -0 "$OCIRUN" update --help
	for opt in '-r, --resources' --memory --memory-swap --memory-reservation --cpu-share \
		--cpu-quota --cpu-period --cpuset-cpus --cpuset-mems --pids-limit --blkio-weight; do
		assert_output --partial -- "$opt"
	done
	run -0 "$OCIRUN" events --help
	assert_output --partial '--interval'
	assert_output --partial '--stats'
}

# ---- man pages ---------------------------------------------------------

@test "each command's man page documents exactly the options of its --help" {
	for cmd in "${COMMANDS[@]}"; do
		local page="$DOCS/ocirun-$cmd.8.md"
		[ -f "$page" ] || fail "missing man page $page"
		local from_help from_man
		from_help=$("$OCIRUN" "$cmd" --help | help_options)
		from_man=$(man_options "$page")
		[ "$from_help" = "$from_man" ] ||
			fail "$page and 'ocirun $cmd --help' differ: help: [$(echo $from_help)] man: [$(echo $from_man)]"
		# ... and says what --help says about each of them (a long option's
		# text is on the line after it: joined first).
		local desc
		while IFS= read -r desc; do
			grep -qF -- ":   $desc" "$page" || fail "$page lacks the --help text: $desc"
		done < <("$OCIRUN" "$cmd" --help | sed -n '/^Options:/,$p' |
			sed -E '/^ +(-[a-z], )?--[a-z0-9-]+( [^ ]+)?$/{N;s/\n +/  /}' | grep -E '^ +-' |
			sed -E 's/^ +(-[a-z], )?--[a-z0-9-]+( [^ ]+)? +//')
		for section in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' EXAMPLES; do
			grep -q "^# $section\$" "$page" || fail "$page has no $section section"
		done
	done
}

@test "ocirun.8 documents the global options and every command" {
	local page="$DOCS/ocirun.8.md"
	local from_help from_man
	from_help=$("$OCIRUN" --help | help_options)
	from_man=$(sed -n '/^# GLOBAL OPTIONS/,/^# COMMAND OPTIONS/p' "$page" |
		grep -oE '^(\*\*-[a-z]\*\*, )?\*\*--[a-z0-9-]+\*\*' | grep -oE -- '--[a-z0-9-]+' | sort -u)
	assert_equal "$from_man" "$from_help"
	for cmd in "${COMMANDS[@]}"; do
		grep -q "^\*\*$cmd\*\*\$" "$page" || fail "ocirun.8.md does not list $cmd"
	done
}

# ---- usage errors ------------------------------------------------------

@test "an unknown command fails with runc's status 3 and names the command" {
	run -3 --separate-stderr "$OCIRUN" frobnicate
	assert_equal "$output" ""
	[[ "$stderr" == *'unknown command "frobnicate"'* ]] || fail "stderr: $stderr"
	# runc's words, with and without -h, and for `help`.
	[[ "$stderr" == *"No help topic for 'frobnicate'"* ]] || fail "stderr: $stderr"
	run -3 "$OCIRUN" frobnicate -h
	assert_output --partial "No help topic for 'frobnicate'"
	run -3 "$OCIRUN" help frobnicate
	assert_output --partial "No help topic for 'frobnicate'"
}

@test "an unknown global option fails with status 1 and names it" {
	run -1 "$OCIRUN" --frobnicate list
	assert_output --partial -- '--frobnicate'
	run -1 "$OCIRUN" --log-format xml list
	assert_output --partial '"xml"'
	run -1 "$OCIRUN" --cgroup-manager foo list
	assert_output --partial '"foo"'
	run -1 "$OCIRUN" --rootless maybe list
	assert_output --partial '"maybe"'
	run -1 "$OCIRUN" --root
	assert_output --partial -- '--root'
}

@test "an unknown command option fails with status 1 and names it, for every command" {
	for cmd in "${COMMANDS[@]}"; do
		run -1 oci "$cmd" --frobnicate x
		assert_output --partial "$cmd: unknown option --frobnicate"
	done
	run -1 oci kill -z x
	assert_output --partial 'unknown option -z'
}

@test "a missing container id is a clear usage error" {
	for cmd in "${ID_COMMANDS[@]}"; do
		run -1 oci "$cmd"
		assert_output --partial "$cmd: container id cannot be empty"
		run -1 oci "$cmd" ""
		assert_output --partial "$cmd: container id cannot be empty"
	done
}

@test "extra arguments are refused and named" {
	run -1 oci state c1 c2
	assert_output --partial 'unexpected argument "c2"'
	run -1 oci delete c1 c2
	assert_output --partial 'unexpected argument "c2"'
	run -1 oci kill c1 KILL extra
	assert_output --partial 'unexpected argument "extra"'
	run -1 oci list extra
	assert_output --partial 'unexpected argument "extra"'
	run -1 oci features extra
	assert_output --partial 'unexpected argument "extra"'
}

@test "an option without its value is an error naming the option" {
	run -1 oci create c1 --bundle
	assert_output --partial 'option --bundle needs a value'
	run -1 oci create c1 -b
	assert_output --partial 'option --bundle needs a value'
}

# ---- option syntax (checked through values the CLI itself rejects) -----

@test "--opt=value, --opt value, -opt value and -o value are the same" {
	local forms=(
		"--preserve-fds=abc c1"
		"--preserve-fds abc c1"
		"-preserve-fds abc c1"
		"-preserve-fds=abc c1"
		"c1 --preserve-fds abc"
	)
	for f in "${forms[@]}"; do
		# shellcheck disable=SC2086
		run -1 oci create $f
		assert_output --partial 'invalid value "abc" for --preserve-fds'
	done
	for f in "-f xml" "-fxml" "--format=xml" "--format xml" "-format xml"; do
		# shellcheck disable=SC2086
		run -1 oci list $f
		assert_output --partial 'invalid --format "xml"'
	done
}

@test "boolean options take =true/=false like Go flags and reject other values" {
	run -1 oci create --no-pivot=maybe c1
	assert_output --partial 'invalid boolean value "maybe" for --no-pivot'
	run -1 oci delete --force=nope c1
	assert_output --partial 'invalid boolean value "nope" for --force'
	# Accepted forms get past parsing. Without force, deleting a missing
	# container is an error naming it; with force it succeeds, as runc's
	# does (engines clean up with it blindly).
	run -1 oci delete --force=false c1
	refute_output --partial 'invalid'
	assert_output --partial 'c1'
	for f in --force --force=true -f -force; do
		run -0 oci delete $f c1
		refute_output --partial 'invalid'
		refute_output --partial 'unknown option'
	done
}

@test "global --root=DIR and --root DIR give the same result, naming the container" {
	run -1 "$OCIRUN" --root="$ROOT" state foo
	local eq=$output
	run -1 "$OCIRUN" --root "$ROOT" state foo
	assert_equal "$output" "$eq"
	run -1 "$OCIRUN" -root "$ROOT" state foo
	assert_equal "$output" "$eq"
	assert_output --partial 'foo'
}

@test "options may follow the container id, except for exec and ps" {
	run -1 oci kill c1 --all=bad
	assert_output --partial 'invalid boolean value "bad" for --all'
	# After exec's id, --preserve-fds belongs to the command: no option error,
	# the exec fails on the container with runc's exec status 255.
	run -255 oci exec c1 true --preserve-fds abc
	refute_output --partial 'preserve-fds'
	assert_output --partial 'c1'
	run -255 oci exec --preserve-fds 0 c1 true
	assert_output --partial 'c1'
}

@test "-- ends the options" {
	run -1 oci state -- --not-an-option
	refute_output --partial 'unknown option'
	assert_output --partial -- '--not-an-option'
}

# ---- per-command checks that need no container --------------------------

@test "kill: an unknown signal is an error naming it; names are case-insensitive" {
	run -1 oci kill c1 FOO
	assert_output --partial 'unknown signal "FOO"'
	run -1 oci kill c1 sigfoo
	assert_output --partial 'unknown signal "sigfoo"'
	run -1 oci kill c1 99999
	assert_output --partial 'unknown signal "99999"'
	# Valid spellings get past parsing to the (missing) container.
	for sig in KILL SIGKILL sigkill kill 9 TERM usr1 RTMIN+1; do
		run -1 oci kill c1 "$sig"
		refute_output --partial 'unknown signal'
		assert_output --partial 'c1'
	done
}

@test "exec: no command and no --process is a usage error" {
	run -1 oci exec c1
	assert_output --partial 'no command given'
	run -1 oci exec -u abc c1 true
	assert_output --partial 'invalid --user "abc"'
	run -1 oci exec -g x c1 true
	assert_output --partial 'invalid --additional-gids "x"'
}

@test "exec: an unreadable --process file fails with 255 naming it" {
	run -255 oci exec --process "$TEST_TMP/nope.json" c1
	assert_output --partial "$TEST_TMP/nope.json"
}

@test "update: bad sizes and numbers name the option and value" {
	run -1 oci update --memory 12x c1
	assert_output --partial 'invalid --memory "12x"'
	run -1 oci update --cpu-period -5 c1
	assert_output --partial 'invalid --cpu-period "-5"'
	run -1 oci update --pids-limit lots c1
	assert_output --partial 'invalid --pids-limit "lots"'
	run -1 oci update --resources "$TEST_TMP/nope.json" c1
	assert_output --partial "$TEST_TMP/nope.json"
	# Good values get past parsing (to the missing container).
	run -1 oci update --memory 512m --memory-swap -1 --cpu-share 512 --cpu-quota 50000 \
		--cpuset-cpus 0 --pids-limit -1 --blkio-weight 500 c1
	refute_output --partial 'invalid'
	refute_output --partial 'unknown option'
}

@test "events: --interval takes Go durations and rejects others" {
	run -1 oci events --interval 5 c1
	assert_output --partial 'invalid --interval "5"'
	run -1 oci events --interval 0s c1
	assert_output --partial 'must be greater than 0'
	for d in 1m30s 500ms 1.5h 10us; do
		run -1 oci events --interval "$d" c1
		refute_output --partial 'interval'
	done
}

@test "list and ps reject an unknown --format" {
	run -1 oci list --format yaml
	assert_output --partial 'invalid --format "yaml"'
	run -1 oci ps --format yaml c1
	assert_output --partial 'invalid --format "yaml"'
}

@test "list on an empty root: table header, json null, quiet nothing" {
	run -0 --separate-stderr oci list
	assert_output --regexp '^ID +PID +STATUS +BUNDLE +CREATED +OWNER$'
	run -0 --separate-stderr oci list --format json
	assert_output 'null'
	run -0 --separate-stderr oci list -q
	assert_output ''
}

@test "state of a missing container fails naming it" {
	run -1 --separate-stderr oci state nonexistent
	assert_output ''
	[[ "$stderr" == "ocirun: "*nonexistent* ]] || fail "stderr: $stderr"
}

# ---- spec --------------------------------------------------------------

@test "spec writes a config.json that jq parses" {
	run -0 oci spec --bundle "$TEST_TMP"
	[ -f "$TEST_TMP/config.json" ] || fail "no config.json written"
	run -0 jq -r .ociVersion "$TEST_TMP/config.json"
	assert_output --regexp '^1\.'
	run -0 jq -r '.process.args[0]' "$TEST_TMP/config.json"
	assert_output 'sh'
}

@test "spec --rootless writes a config with a user namespace" {
	mkdir "$TEST_TMP/b"
	run -0 oci spec --rootless -b "$TEST_TMP/b"
	run -0 jq -r '[.linux.namespaces[].type] | index("user") != null' "$TEST_TMP/b/config.json"
	assert_output 'true'
}

# runc 1.1's namespace lists: engines and scripts that start from `spec`
# add a cgroup namespace themselves (runc's own tests do) and would get
# "duplicate namespace type" if it were there.
@test "spec and spec --rootless list runc 1.1's namespaces: no cgroup namespace" {
	mkdir "$TEST_TMP/b"
	run -0 oci spec -b "$TEST_TMP"
	run -0 jq -c '[.linux.namespaces[].type]' "$TEST_TMP/config.json"
	assert_output '["pid","network","ipc","uts","mount"]'
	run -0 oci spec --rootless -b "$TEST_TMP/b"
	run -0 jq -c '[.linux.namespaces[].type]' "$TEST_TMP/b/config.json"
	assert_output '["pid","ipc","uts","mount","user"]'
}

# Byte for byte what `runc spec` writes (tabs, key order, lists) but for the
# deliberate ociVersion (the spec ocirun implements), hostname and final
# newline, so scripts that sed or diff runc's file work on ocirun's.
@test "spec and spec --rootless write runc's file but for ociVersion and hostname" {
	command -v runc >/dev/null || skip "runc not installed"
	local mode
	for mode in "" --rootless; do
		rm -rf "$TEST_TMP/o" "$TEST_TMP/r"
		mkdir "$TEST_TMP/o" "$TEST_TMP/r"
		run -0 oci spec $mode -b "$TEST_TMP/o"
		(cd "$TEST_TMP/r" && runc spec $mode) || fail "runc spec $mode failed"
		# runc writes no final newline: append one to compare the rest.
		echo >>"$TEST_TMP/r/config.json"
		sed -i -e 's/^\t"ociVersion": ".*",$/\t"ociVersion": "V",/' \
			-e 's/^\t"hostname": ".*",$/\t"hostname": "H",/' "$TEST_TMP/o/config.json" "$TEST_TMP/r/config.json"
		run diff "$TEST_TMP/r/config.json" "$TEST_TMP/o/config.json"
		[ "$status" = 0 ] || fail "spec $mode differs from runc's: $output"
	done
}

@test "spec refuses to overwrite an existing config.json" {
	echo '{"keep": "me"}' >"$TEST_TMP/config.json"
	run -1 oci spec -b "$TEST_TMP"
	assert_output --partial 'exists. Remove it first'
	assert_output --partial "$TEST_TMP/config.json"
	run -0 cat "$TEST_TMP/config.json"
	assert_output '{"keep": "me"}'
}

@test "spec into a missing directory fails naming it" {
	run -1 oci spec -b "$TEST_TMP/missing"
	assert_output --partial "$TEST_TMP/missing"
}

@test "features prints indented JSON" {
	run -0 --separate-stderr oci features
	echo "$output" | jq -e .ociVersionMax >/dev/null || fail "not features JSON: $output"
	assert_line --index 1 --regexp '^  "'
}

# ---- the log -------------------------------------------------------------

@test "--log-format json --log F writes the error as a JSON line with msg" {
	local log="$TEST_TMP/log.json"
	run -1 oci --log-format json --log "$log" state nonexistent
	[ -s "$log" ] || fail "nothing logged"
	run -0 jq -r 'select(.level == "error") | .msg' "$log"
	assert_output --partial 'nonexistent'
	run -0 jq -r '.time' "$log"
	assert_output --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
}

@test "usage errors reach the json log too" {
	local log="$TEST_TMP/log.json"
	run -1 oci --log-format=json --log="$log" kill c1 NOSUCHSIG
	run -0 jq -r 'select(.level == "error") | .msg' "$log"
	assert_output --partial 'unknown signal "NOSUCHSIG"'
}

@test "--log F in text format writes level=error and the message" {
	local log="$TEST_TMP/log.txt"
	run -1 oci --log "$log" state nonexistent
	run -0 cat "$log"
	assert_output --partial 'level=error'
	# logfmt, as logrus writes it: the quotes inside the message escaped
	assert_output --partial 'msg="container \"nonexistent\" does not exist"'
}

@test "an unwritable --log fails naming the file" {
	run -1 oci --log "$TEST_TMP/no/such/dir/log" list
	assert_output --partial "$TEST_TMP/no/such/dir/log"
}
