# bash completion for collector: commands, their options, runner names and each runner's
# options, sink types, and the choices of an option (from --help, so it cannot drift).
# Works with the bash-completion package and without it (plain `complete -F`).

# The commands `collector --help` lists (help too).
_collector_commands()
{
	"$1" --help 2>/dev/null | awk '/^commands:/ { c = 1; next } c && /^$/ { exit }
		c && /^  [a-z]/ { print $1 }'
	echo help
}

# Runner (or sink, with $2 = sinks) type names from `collector list`.
_collector_types()
{
	"$1" list 2>/dev/null | awk -v want="$2:" '/^[a-z]+:$/ { in_it = ($1 == want); next }
		in_it && NF { print $1 }'
}

# The choices "(a|b|c)" of option $2 in help text $1, one a line.
_collector_choices()
{
	printf '%s\n' "$1" | grep -E -- "^ +((-[a-zA-Z], )?$2|$2, --[a-z-]+)[ =[]" | head -n 1 |
		grep -oE '\([a-z0-9_]+(\|[a-z0-9_]+)+\)' | tail -n 1 | tr -d '()' | tr '|' '\n'
}

# Whether option $2 takes a value in help text $1 ("--name VALUE", "-s, --sink VALUE").
_collector_takes_value()
{
	printf '%s\n' "$1" | grep -qE -- "^ +(-[a-zA-Z], )?$2 [A-Z]+ " ||
		printf '%s\n' "$1" | grep -qE -- "^ +$2, --[a-z-]+ [A-Z]+ "
}

# COMPREPLY from compgen's words, one a line.
_collector_reply()
{
	mapfile -t COMPREPLY < <(compgen "$@")
}

_collector_files()
{
	if declare -F _filedir >/dev/null; then
		_filedir
	else
		_collector_reply -f -- "$cur"
	fi
}

_collector()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -n := || return
	else
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	fi
	local self=${words[0]} command=${words[1]} i help runner="" runners

	if [ "$cword" -eq 1 ]; then
		_collector_reply -W "$(_collector_commands "$self")" -- "$cur"
		return
	fi
	# After `--`: the command a runner runs, then its arguments.
	for ((i = 2; i < cword; i++)); do
		if [ "${words[i]}" = "--" ]; then
			if [ $((i + 1)) -eq "$cword" ]; then
				_collector_reply -c -- "$cur"
			else
				_collector_files
			fi
			return
		fi
	done
	if [ "$command" = run ]; then
		runners=" $(_collector_types "$self" runners | tr '\n' ' ') "
		for ((i = 2; i < cword; i++)); do
			if [[ "$runners" == *" ${words[i]} "* ]]; then
				runner=${words[i]}
				break
			fi
		done
		help=$("$self" run ${runner:+"$runner"} --help 2>/dev/null)
	else
		help=$("$self" "$command" --help 2>/dev/null)
	fi
	# The value of an option: its choices, a sink type, or a file.
	if [[ "$prev" == -* ]] && _collector_takes_value "$help" "$prev"; then
		case "$prev" in
		-s | --sink)
			compopt -o nospace 2>/dev/null
			_collector_reply -W "$(_collector_types "$self" sinks | sed 's/$/:/') stdout" -- "$cur"
			return
			;;
		esac
		local choices
		choices=$(_collector_choices "$help" "$prev")
		if [ -n "$choices" ]; then
			_collector_reply -W "$choices" -- "$cur"
		else
			_collector_files
		fi
		return
	fi
	if [[ "$cur" == -* ]]; then
		_collector_reply -W "$(printf '%s\n' "$help" | grep -oE -- '^ +(-[a-zA-Z], )?--[a-z][a-z0-9-]*' |
			grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)" -- "$cur"
	elif [ "$command" = run ] && [ -z "$runner" ]; then
		_collector_reply -W "$runners" -- "$cur"
	elif [ "$command" = validate ] || [ "$command" = show ]; then
		_collector_files
	fi
}
complete -F _collector collector
