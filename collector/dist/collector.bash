# bash completion for collector: commands, options of run, runner and sink types.
_collector()
{
	local cur prev words cword
	_init_completion || return

	if [ "$cword" -eq 1 ]; then
		COMPREPLY=($(compgen -W "run validate status reset-breaker list crashes doctor man version help" -- "$cur"))
		return
	fi
	case "${words[1]}" in
	run) ;;
	validate)
		_filedir json
		return
		;;
	*) return ;;
	esac
	case "$prev" in
	--config | --plugin)
		_filedir
		return
		;;
	-s | --sink)
		local types
		types=$(collector list 2>/dev/null | awk '/^sinks:/{s=1;next} s{print $1 ":"}')
		compopt -o nospace
		COMPREPLY=($(compgen -W "$types stdout" -- "$cur"))
		return
		;;
	--policy)
		COMPREPLY=($(compgen -W "block drop_oldest drop_newest" -- "$cur"))
		return
		;;
	--log-level)
		COMPREPLY=($(compgen -W "error warn info debug" -- "$cur"))
		return
		;;
	--log-format)
		COMPREPLY=($(compgen -W "text json" -- "$cur"))
		return
		;;
	esac
	# After the runner's name, complete that runner's own options.
	local i runner=""
	local runners
	runners=$(collector list 2>/dev/null | awk '/^runners:/{r=1;next} /^sinks:/{r=0} r{print $1}')
	for ((i = 2; i < cword; i++)); do
		if [[ " $runners " == *" ${words[i]} "* ]]; then
			runner=${words[i]}
			break
		fi
	done
	if [[ "$cur" == -* ]]; then
		COMPREPLY=($(compgen -W "$(collector run $runner --help 2>/dev/null |
			grep -o -- '--[a-z][a-z-]*' | sort -u)" -- "$cur"))
	elif [ -z "$runner" ]; then
		COMPREPLY=($(compgen -W "$runners" -- "$cur"))
	fi
}
complete -F _collector collector
