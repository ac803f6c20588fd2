#!/usr/bin/env bash
# `make lint`: no JSON written by hand outside the event builder and the JSON codec.
#
# Events' JSON is built with the event builder (collector/event_builder.h), which
# places every brace, comma and colon through yajl_gen. The JSON codec is not
# checked: the builder, the encoder (the envelope) and the decoder
# (collector/json_decoder.c, which keeps a line's members as their exact bytes,
# joined without re-encoding them: the exec runner's hot path). This check fails
# on any other C statement that hands JSON punctuation to an output call: a lone
# `{ } [ ] , :` literal given to buffer_append/appendf/APPEND_LITERAL/put*, or a
# literal holding an escaped key (`{\"`, `,\"`, `\":`) given to one of those or
# to a printf-family function. Statements are joined up to their `;`, so a call
# spread over lines counts; help texts and error messages are not output calls.
# Usage: tools/lint/hand-json.sh FILE...   Exit status 1 when a file does.
set -euo pipefail

rc=0
for f in "$@"; do
	case "$f" in
	collector/event_builder.c | collector/event_encoder.c | collector/json_decoder.c) continue ;;
	esac
	awk -v file="$f" '
	function check(stmt, line) {
		if (stmt ~ /(buffer_append|appendf|APPEND_LITERAL|[^a-z_]put[a-z_]*) *\(/ &&
		    stmt ~ /"[][{},:]"/)
			hit(line, stmt)
		else if (stmt ~ /(buffer_append|appendf|APPEND_LITERAL|[^a-z_]put[a-z_]*|printf) *\(/ &&
			 stmt ~ /"[^"]*(\{\\"|,\\"|\\":)/)
			hit(line, stmt)
	}
	function hit(line, stmt) {
		gsub(/[ \t]+/, " ", stmt)
		printf "%s:%d: JSON written by hand (use the event builder): %.120s\n", file, line, stmt
		bad = 1
	}
	# Comments out, then statements joined up to their semicolon.
	{
		sub(/\/\/.*$/, "")
		if (incomment) {
			if (!sub(/^.*\*\//, "")) next
			incomment = 0
		}
		gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "")
		if (sub(/\/\*.*$/, "")) incomment = 1
		if (stmt == "") start = NR
		stmt = stmt " " $0
		if ($0 ~ /;[ \t]*$|^[ \t]*[{}][ \t]*$|\)[ \t]*$/) {
			check(stmt, start)
			stmt = ""
		}
	}
	END { exit bad }' "$f" || rc=1
done
exit $rc
