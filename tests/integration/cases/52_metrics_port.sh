# A metrics port beyond 65535 is a usage error, not a wrap to another port.

begin "--metrics with a port beyond 65535: exit 2 and one line saying why, nothing bound"
d=$WORK/metrics-port
mkdir -p "$d"
for addr in 127.0.0.1:99999 127.0.0.1:65536 '[::1]:70000' 127.0.0.1:-1 127.0.0.1:; do
	timeout 10 "$C" run --metrics="$addr" exec -- true >"$d/out" 2>"$d/err"
	eq "$addr: exit status" 2 $?
	eq "$addr: one line saying why" 1 "$(grep -c 'expected HOST:PORT with PORT 0 to 65535' "$d/err")"
	eq "$addr: nothing served" 0 "$(grep -c 'http://' "$d/err")"
done
printf '{"metrics": "127.0.0.1:99999", "runners": [{"name": "e", "type": "exec", "command": ["true"]}]}\n' >"$d/c.json"
timeout 10 "$C" run --config "$d/c.json" >"$d/out" 2>"$d/err"
eq "in a config file: exit status" 2 $?
check "in a config file: says why" grep -q 'expected HOST:PORT with PORT 0 to 65535' "$d/err"
end
