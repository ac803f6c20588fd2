# Bad input is counted and reported, and the stream goes on.

begin "--format json: invalid lines become collector.error with position"
out=$WORK/badjson.jsonl
"$C" run exec --format json -- printf '%s\n' '{"type":"ok.1"}' '{"type":' 'not json' '[1]' '{"type":"ok.2"}' >"$out"
eq "good events" "ok.1 ok.2" "$(jq -r 'select(.type|startswith("ok.")) | .type' "$out" | xargs)"
eq "errors" 3 "$(count "$out" '.type=="collector.error"')"
eq "first error" "invalid_json 2 16" "$(jq -r 'select(.type=="collector.error") | "\(.data.reason) \(.data.line) \(.data.offset)"' "$out" | head -n 1)"
eq "errors counted in exec.exit" 3 "$(field "$out" exec.exit .data.counters.errors)"
end

begin "--format auto: non-JSON lines are text"
out=$WORK/auto.jsonl
"$C" run exec -- printf '%s\n' '{"type":"a.b"}' '{broken' 'plain' >"$out"
eq "types" "a.b exec.line exec.line exec.exit" "$(jq -r .type "$out" | xargs)"
end

begin "an over-long line is cut, reported, and the next line is intact"
out=$WORK/long.jsonl
"$C" run exec --max-line 100 -- sh -c 'head -c 5000 /dev/zero | tr "\0" x; echo; echo after' >"$out"
eq "reason" line_too_long "$(field "$out" collector.error .data.reason)"
eq "truncated line length" 100 "$(jq -r 'select(.type=="exec.line" and .data.truncated) | .data.line | length' "$out")"
eq "next line" after "$(jq -r 'select(.type=="exec.line") | .data.line' "$out" | tail -n 1)"
eq "discarded bytes" 4900 "$(field "$out" exec.exit .data.counters.discarded_bytes)"
end

begin "invalid UTF-8 is replaced and flagged; NUL bytes survive"
out=$WORK/utf8.jsonl
"$C" run exec -- printf 'bad \377 byte\nnul \000 inside\n' >"$out"
eq "replaced" "bad � byte true" "$(jq -r 'select(.type=="exec.line") | "\(.data.line) \(.data.invalid_utf8)"' "$out" | head -n 1)"
eq "NUL escaped" 'nul \u0000 inside' "$(grep '"exec.line"' "$out" | grep -o 'nul [^"]*inside')"
end

begin "a flood of garbage does not stop the stream"
out=$WORK/garbage.jsonl
"$C" run exec --format json -- sh -c 'head -c 2000000 /dev/urandom; echo; echo "{\"type\":\"after.garbage\"}"' >"$out"
eq "event after garbage" 1 "$(count "$out" '.type=="after.garbage"')"
check "garbage reported" test "$(count "$out" '.type=="collector.error"')" -gt 0
check "every output line is JSON" jq -e . "$out" >/dev/null
end
