# Shell completion: bash (with and without the bash-completion package) and zsh, driven as the shells call it.

DIST=${COLLECTOR_DIST:-$(cd ../../collector/dist && pwd)}

# bash_complete [--bc] WORDS...: what bash offers for the last word (a non-interactive
# bash calls the function as `complete -F` would, with COMP_WORDS and COMP_CWORD).
bash_complete() {
	local pre=":"
	if [ "$1" = --bc ]; then
		pre=". /usr/share/bash-completion/bash_completion"
		shift
	fi
	bash --norc --noprofile -c "$pre"'
. "$0"
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
$(complete -p collector | sed "s/.*-F \([^ ]*\) .*/\1/") collector "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
printf "%s\n" "${COMPREPLY[@]}"' "$DIST/collector.bash" "$@" | sort -u | paste -sd ' ' -
}

# zsh_complete WORDS...: what the zsh function offers (compadd, _files and _command_names
# stand in for the completion system's, filtering by the prefix as it does).
zsh_complete() {
	zsh -f -c '
compadd() { local a skip=1; for a in "$@"; do if [[ $skip == 1 ]]; then [[ $a == -- ]] && skip=0; continue; fi; [[ $a == ${PREFIX}* ]] && print -r -- "$a"; done }
_files() { print FILES }
_command_names() { print COMMANDS }
words=("$@"); CURRENT=$#; PREFIX=${words[CURRENT]}
fpath=("'"$DIST"'" $fpath); autoload -Uz _collector; _collector' zsh "$@" | sort -u | paste -sd ' ' -
}

# has LIST WORD: WORD is one of the words of LIST.
has() {
	[[ " $1 " == *" $2 "* ]]
}

for flavour in plain bash-completion zsh; do
	case $flavour in
	plain) complete_words() { bash_complete "$@"; } ;;
	bash-completion)
		if [ ! -r /usr/share/bash-completion/bash_completion ]; then
			skip "bash completion with the bash-completion package" "not installed"
			continue
		fi
		complete_words() { bash_complete --bc "$@"; }
		;;
	zsh)
		if ! command -v zsh >/dev/null; then
			skip "zsh completion" "zsh is not installed"
			continue
		fi
		complete_words() { zsh_complete "$@"; }
		;;
	esac
	begin "completion ($flavour): commands, runners, the runner's options, choices, sink types"
	cmds=$(complete_words "$C" "")
	check "commands: crashes ($cmds)" has "$cmds" crashes
	check "commands: run, validate, doctor" eval 'has "$cmds" run && has "$cmds" validate && has "$cmds" doctor'
	eq "commands: help once" 1 "$(tr ' ' '\n' <<<"$cmds" | grep -cx help)"
	eq "runner names" process "$(complete_words "$C" run pro)"
	opts=$(complete_words "$C" run process --c)
	check "the runner's options after its name ($opts)" eval 'has "$opts" --comm && has "$opts" --cgroup'
	check "the run options too" has "$opts" --config
	eq "another runner's options" "--timeout" "$(complete_words "$C" run exec --timeo)"
	eq "an option's choices" "drop_newest drop_oldest" "$(complete_words "$C" run --policy drop)"
	eq "a runner option's choices" "debug" "$(complete_words "$C" run process --log-level d)"
	check "sink types" has "$(complete_words "$C" run -s fi)" file:
	check "the command after --" eval 'has "$(complete_words "$C" run exec -- ech)" echo || has "$(complete_words "$C" run exec -- ech)" COMMANDS'
	eq "a command's own options" "--help" "$(complete_words "$C" doctor --h)"
	end
done

begin "bash: the file registers the function for collector, with or without bash-completion"
check "complete -p" grep -q -- "-F _collector collector" <<<"$(bash --norc --noprofile -c ". '$DIST/collector.bash'; complete -p collector")"
check "zsh: a #compdef header" grep -q "^#compdef collector" "$DIST/_collector"
end
