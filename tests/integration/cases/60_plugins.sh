# The example plugins of tools/examples, loaded with --plugin (docs/writing-a-*.md).
# 50_cli_config.sh checks the ticker alone; here it feeds the tsv sink.

TICKER=$BUILD/tools/examples/ticker.so
TSV=$BUILD/tools/examples/tsv.so

begin "ticker runner plugin into the tsv sink plugin: exactly the events sent"
out=$WORK/plugins.jsonl
tsv=$WORK/plugins.tsv
"$C" run --plugin "$TICKER" --plugin "$TSV" --sink stdout --sink "tsv:$tsv" \
	--name clock ticker --count 25 --interval 2ms >"$out"
eq "exit status" 0 "$?"
eq "the runner produced its ticks" 25 "$(count "$out" '.type == "ticker.tick"')"
check "the tsv sink got what stdout got, line for line" \
	cmp -s "$tsv" <(jq -r '"\(.type)\t\(.seq)\t\(.runner)"' "$out")
eq "last line" "$(printf 'ticker.tick\t24\tclock')" "$(tail -n 1 "$tsv")"
end

begin "tsv sink on a late FIFO reader: backpressure, every line once, in order"
fifo=$WORK/plugins.fifo
got=$WORK/plugins-fifo.tsv
mkfifo "$fifo"
# This shell holds a read end, so the sink's non-blocking open finds a reader.
exec 4<>"$fifo"
# It starts reading after 1 s: the 64 KiB pipe fills long before.
sh -c 'sleep 1; exec cat' <"$fifo" >"$got" 4>&- &
reader=$!
"$C" run --plugin "$TSV" --sink "tsv:$fifo" --queue-events 256 \
	exec --format json -- "$BUILD/tools/bench/gen" 20000 4>&- >/dev/null
eq "collector exit status" 0 "$?"
exec 4>&-
wait "$reader"
# gen's 20000 lines, then its stderr summary line and exec.exit.
eq "lines the reader got" 20002 "$(wc -l <"$got" | tr -d ' ')"
eq "bench events" 20000 "$(grep -c '^bench\.event' "$got")"
check "every seq once, in order" cmp -s <(cut -f2 "$got") <(seq 0 20001)
rm -f "$fifo"
end

begin "tsv sink: a FIFO without a reader is a clear error"
mkfifo "$fifo"
err=$WORK/plugins.err
"$C" run --plugin "$TSV" --plugin "$TICKER" --sink "tsv:$fifo" ticker >/dev/null 2>"$err"
eq "exit status (setup error: 2)" 2 "$?"
check "says why" grep -q "a FIFO with no reader" "$err"
rm -f "$fifo"
end

begin "plugins built for another ABI, or without the entry points, are refused"
bad=$WORK/plugin-bad
cat >"$bad-abi.c" <<'EOF'
struct error;
const int collector_plugin_abi = 999;
int collector_plugin_init(struct error *err) { (void)err; return 0; }
EOF
printf 'int not_a_plugin = 1;\n' >"$bad-none.c"
cc -shared -fPIC -o "$bad-abi.so" "$bad-abi.c" && cc -shared -fPIC -o "$bad-none.so" "$bad-none.c"
"$C" run --plugin "$bad-abi.so" ticker >/dev/null 2>"$err"
eq "other ABI: exit status" 2 "$?"
check "other ABI: names both versions" grep -q "built for plugin ABI 999, this collector has" "$err"
"$C" run --plugin "$bad-none.so" ticker >/dev/null 2>"$err"
eq "no entry points: exit status" 2 "$?"
check "no entry points: names them" grep -q "missing collector_plugin_abi or collector_plugin_init" "$err"
"$C" run --plugin "$WORK/no-such-plugin.so" ticker >/dev/null 2>"$err"
eq "missing file: exit status" 2 "$?"
check "missing file: says so" grep -q "no-such-plugin.so: cannot open shared object file" "$err"
end

begin "collector list --plugin shows the plugins' types"
"$C" list --plugin "$TICKER" --plugin "$TSV" >"$WORK/list.out"
eq "exit status" 0 $?
check "the runner plugin is listed" grep -Eq '^  ticker +example plugin' "$WORK/list.out"
check "the sink plugin is listed" grep -Eq '^  tsv +example plugin' "$WORK/list.out"
end
