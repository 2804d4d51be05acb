#!/usr/bin/env bats
# tests/integration/completion.bats — the bash completion,
# completions/bash/ocirun, against the CLI it completes: every command and
# every option that `ocirun --help` and `ocirun COMMAND --help` list (and no
# other) is offered, options that take a value complete a value, and
# container ids come from the runtime. The lists are read from --help, so an
# option added to the CLI without its completion fails here.
#
# Each completion runs in a fresh bash that sources bash-completion and the
# file, as an interactive shell would, with COMP_WORDS/COMP_CWORD set as
# readline sets them.

load helpers

COMPLETION="$REPO_ROOT/completions/bash/ocirun"
BASH_COMPLETION=/usr/share/bash-completion/bash_completion

setup() {
	skip_unless_ocirun "ocirun's own completion"
	[ -r "$BASH_COMPLETION" ] || fail "$BASH_COMPLETION missing: apt-get install bash-completion (tests/deps.sh does)"
}

# complete_lines: for each command line on stdin (the cursor at its end; a
# trailing space starts a new word), one output line: the words bash would
# offer, sorted, space-separated. "ocirun" is replaced by $OCIRUN so that
# container ids and capabilities come from the binary under test.
complete_lines() {
	bash --norc --noprofile -c '
		source "$1" && source "$2" || exit 1
		while IFS= read -r line; do
			line="$3${line#ocirun}"
			read -ra COMP_WORDS <<<"$line"
			[[ $line == *" " ]] && COMP_WORDS+=("")
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			COMP_LINE=$line COMP_POINT=${#line} COMPREPLY=()
			_ocirun ocirun "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
			printf "%s\n" "${COMPREPLY[@]}" | sort -u | paste -sd " " -
		done' - "$BASH_COMPLETION" "$COMPLETION" "$OCIRUN"
}

# complete_line LINE: the words offered for LINE.
complete_line() { complete_lines <<<"$1"; }

# The commands `ocirun --help` lists.
help_commands() {
	"$OCIRUN" --help | sed -n '/^Commands:$/,/^$/p' | awk 'NR > 1 && NF { print $1 }'
}

# help_option_table: "NAME VALUE|BOOL" for each option (long and short) of a
# --help text on stdin, from its "Options:" or "Global options:" section. An
# option takes a value when its label has a placeholder: "-b, --bundle DIR".
help_option_table() {
	sed -n '/^\(Global options\|Options\):$/,/^$/p' |
		grep -E '^ +(-[a-zA-Z], )?--[a-z0-9-]+' |
		sed -E 's/^ +//; s/  .*//' |
		awk '{ kind = ($NF ~ /^--?[a-z]/) ? "BOOL" : "VALUE"
		       for (i = 1; i <= NF; i++) if ($i ~ /^-/) { sub(/,$/, "", $i); print $i, kind } }' |
		sort -u
}

sorted_words() { tr ' ' '\n' | grep . | sort -u | paste -sd ' ' -; }

@test "sourcing the completion registers it for ocirun" {
	run -0 bash --norc --noprofile -c 'source "$1" && source "$2" && complete -p ocirun' - \
		"$BASH_COMPLETION" "$COMPLETION"
	assert_output 'complete -F _ocirun ocirun'
}

@test "the first word completes to every command of ocirun --help" {
	local want
	want=$(help_commands | sorted_words)
	[ "$(wc -w <<<"$want")" -ge 15 ] || fail "too few commands in --help: $want"
	assert_equal "$(complete_line 'ocirun ')" "$want"
	assert_equal "$(complete_line 'ocirun --debug ')" "$want"
	assert_equal "$(complete_line 'ocirun --root /tmp ')" "$want"
	assert_equal "$(complete_line 'ocirun help ')" "$want"
	assert_equal "$(complete_line 'ocirun st')" "start state"
}

@test "the global options complete to exactly those of ocirun --help" {
	local table
	table=$("$OCIRUN" --help | help_option_table)
	[ -n "$table" ] || fail "no option parsed from ocirun --help"
	assert_equal "$(complete_line 'ocirun -')" "$(awk '{ print $1 }' <<<"$table" | sorted_words)"
}

@test "each command's options complete to exactly those of its --help" {
	local cmd table input="" want
	for cmd in $(help_commands); do
		[ "$cmd" = help ] && continue
		input+="ocirun $cmd -"$'\n'
	done
	local -a replies
	mapfile -t replies < <(printf '%s' "$input" | complete_lines)
	assert_equal "${#replies[@]}" "$(printf '%s' "$input" | wc -l)"
	local i=0
	for cmd in $(help_commands); do
		[ "$cmd" = help ] && continue
		table=$("$OCIRUN" "$cmd" --help | help_option_table)
		want=$(awk '{ print $1 }' <<<"$table" | sorted_words)
		[ "${replies[i]}" = "$want" ] ||
			fail "ocirun $cmd -<TAB>: offers [${replies[i]}], --help lists [$want]"
		i=$((i + 1))
	done
}

@test "every option that takes a value completes a value, every boolean the next option" {
	# After "ocirun CMD OPT -": a value option wants its value (no option is
	# offered), a boolean one is followed by the next option (--help is).
	local cmd name kind input="" expect=() i reply
	while read -r name kind; do
		input+="ocirun $name -"$'\n'
		expect+=("global $name $kind")
	done < <("$OCIRUN" --help | help_option_table | grep -vE '^(-v|--version|-h|--help) ')
	for cmd in $(help_commands); do
		[ "$cmd" = help ] && continue
		while read -r name kind; do
			input+="ocirun $cmd $name -"$'\n'
			expect+=("$cmd $name $kind")
		done < <("$OCIRUN" "$cmd" --help | help_option_table | grep -vE '^(-h|--help) ')
	done
	[ "${#expect[@]}" -ge 60 ] || fail "only ${#expect[@]} options parsed from --help"
	local -a replies
	mapfile -t replies < <(printf '%s' "$input" | complete_lines)
	assert_equal "${#replies[@]}" "${#expect[@]}"
	for i in "${!expect[@]}"; do
		read -r cmd name kind <<<"${expect[i]}"
		reply=" ${replies[i]} "
		if [ "$kind" = VALUE ] && [[ $reply == *" --help "* ]]; then
			fail "$cmd $name takes a value (--help shows one) but completes as a boolean: [${replies[i]}]"
		elif [ "$kind" = BOOL ] && [[ $reply != *" --help "* ]]; then
			fail "$cmd $name is a boolean but the completion waits for its value: [${replies[i]}]"
		fi
	done
}

@test "option values: choices, capabilities, signals, =VALUE forms, nothing after exec's id" {
	assert_equal "$(complete_line 'ocirun --log-format ')" "json text"
	assert_equal "$(complete_line 'ocirun --log-format=j')" "json"
	assert_equal "$(complete_line 'ocirun -log-format ')" "json text"
	assert_equal "$(complete_line 'ocirun --cgroup-manager ')" "cgroupfs disabled systemd"
	assert_equal "$(complete_line 'ocirun --rootless ')" "auto false true"
	assert_equal "$(complete_line 'ocirun --debug=')" "false true"
	assert_equal "$(complete_line 'ocirun list --format ')" "json table"
	assert_equal "$(complete_line 'ocirun ps -f ')" "json table"
	# delete's -f is --force, a boolean: the next option follows
	[[ " $(complete_line 'ocirun delete -f -') " == *" --help "* ]] || fail "delete -f takes no value"
	local caps
	caps=$(complete_line 'ocirun exec --cap CAP_SYS_')
	[[ " $caps " == *" CAP_SYS_ADMIN "* && " $caps " == *" CAP_SYS_PTRACE "* ]] ||
		fail "exec --cap CAP_SYS_<TAB>: $caps"
	# after exec's and ps's container id, the words are the program's
	assert_equal "$(complete_line 'ocirun exec c1 -')" ""
	assert_equal "$(complete_line 'ocirun exec -t c1 ls -')" ""
	assert_equal "$(complete_line 'ocirun ps c1 -')" ""
	# directories for --bundle and --root
	mkdir -p "$BATS_TEST_TMPDIR/bundles/b1" && touch "$BATS_TEST_TMPDIR/bundles/file"
	assert_equal "$(complete_line "ocirun run --bundle $BATS_TEST_TMPDIR/bundles/")" "$BATS_TEST_TMPDIR/bundles/b1"
	assert_equal "$(complete_line "ocirun --root $BATS_TEST_TMPDIR/bundles/")" "$BATS_TEST_TMPDIR/bundles/b1"
}

@test "container ids come from the --root given, kill's second word is a signal" {
	setup_bundle
	set_args sleep 100
	create_container "$CID"
	assert_equal "$(complete_line "ocirun --root $ROOT start ")" "$CID"
	assert_equal "$(complete_line "ocirun -root=$ROOT state ")" "$CID"
	assert_equal "$(complete_line "ocirun --root $ROOT exec --tty ")" "$CID"
	assert_equal "$(complete_line "ocirun --root $ROOT kill ")" "$CID"
	[[ " $(complete_line "ocirun --root $ROOT kill $CID SIGK") " == *" SIGKILL "* ]] ||
		fail "kill ID SIGK<TAB> does not offer SIGKILL"
	# create and run name a new container: no id is offered
	assert_equal "$(complete_line "ocirun --root $ROOT create ")" ""
	run -0 ocirun delete --force "$CID"
	assert_equal "$(complete_line "ocirun --root $ROOT start ")" ""
}
