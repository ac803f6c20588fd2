# A hostile algorithm child: it truncates the image pool, reads what the collector inherited,
# looks for its secrets, outlives a killed collector. None of it reaches the host or survives.

# The user nobody must reach the child and its package: a world-readable directory.
HOSTILE=$(mktemp -d /tmp/collector-hostile.XXXXXX)
chmod 755 "$HOSTILE"
cat >"$HOSTILE/hostile.py" <<'PY'
import json, os, sys, threading, time

mode = sys.argv[1]


def send(m):
    sys.stdout.write(json.dumps(m) + "\n")
    sys.stdout.flush()


def truncate_forever(path):
    while True:
        os.truncate(path, 0)
        time.sleep(0.0002)


def probe(call):
    """What the child can reach: inherited descriptors, the environment, the pool for writing."""
    fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))
    try:
        leaked = os.read(8, 64).decode(errors="replace")
    except OSError:
        leaked = None
    try:
        with open("/dev/shm" + call["shared_mem_id"], "r+b"):
            writable = True
    except OSError:
        writable = False
    return {"fds": fds, "fd8": leaked, "writable": writable,
            "secret": os.environ.get("SECRET_TOKEN"), "home": os.environ.get("HOME")}


send({"type": "hello", "protocol": 1, "name": "hostile"})
truncated = False
for line in sys.stdin:
    m = json.loads(line)
    if m["type"] == "ping":
        send({"type": "pong", "seq": m["seq"]})
    elif m["type"] == "shutdown":
        break
    elif m["type"] == "call":
        data = {}
        if mode == "truncate" and "shared_mem_id" in m and not truncated:
            os.truncate("/dev/shm" + m["shared_mem_id"], 0)
            truncated = True
            data = {"truncated": True}
        elif mode == "truncate-loop" and "shared_mem_id" in m and not truncated:
            path = "/dev/shm" + m["shared_mem_id"]
            threading.Thread(target=truncate_forever, args=(path,), daemon=True).start()
            truncated = True
        elif mode == "probe":
            data = probe(m)
        send({"type": "result", "id": m["id"], "ok": True, "data": data})
# A lingering child outlives the end of its stdin.
while mode == "linger":
    time.sleep(1)
PY
chmod 644 "$HOSTILE/hostile.py"

# hostile_pkg NAME MODE [LIMITS]: a package running hostile.py in MODE, readable by nobody.
hostile_pkg() {
	mkdir -p "$HOSTILE/$1"
	cat >"$HOSTILE/$1/manifest.json" <<JSON
{"name":"$1","version":"1.0.0","protocol":1,"entry_point":["python3","$HOSTILE/hostile.py","$2"],
 "limits":{${3:+$3,}"call_timeout_ms":5000,"handshake_timeout_ms":5000,"grace_ms":300}}
JSON
	chmod -R a+rX "$HOSTILE/$1"
	echo "$HOSTILE/$1"
}

{ printf 'P6\n4 4\n255\n'; head -c 48 /dev/zero | tr '\0' '\7'; } >"$HOSTILE/frame.ppm"
chmod 644 "$HOSTILE/frame.ppm"
: >"$HOSTILE/image.calls"
for i in 1 2 3 4 5; do
	echo "{\"method\":\"execute\",\"params\":{\"n\":$i},\"image\":\"$HOSTILE/frame.ppm\"}" >>"$HOSTILE/image.calls"
done

# Big enough that the host is often copying one when the pool is truncated under it.
{ printf 'P6\n800 600\n255\n'; head -c 1440000 /dev/zero | tr '\0' '\5'; } >"$HOSTILE/big.ppm"
for i in $(seq 1 30); do
	echo "{\"method\":\"execute\",\"params\":{\"n\":$i},\"image\":\"$HOSTILE/big.ppm\"}"
done >"$HOSTILE/big.calls"

# pool_and_tmpdirs EVENTS: the pool and temporary directories a run's algorithm.spawn events name, if they still exist.
pool_and_tmpdirs() {
	jq -r 'select(.type=="algorithm.spawn") | "/dev/shm\(.data.shm)", .data.tmpdir' "$1" | sort -u |
		while read -r p; do [ -e "$p" ] && echo "$p"; done
}

if command -v python3 >/dev/null; then
	begin "algorithm: a child truncates the image pool on its first call: that call is bad_output, the collector goes on"
	out=$WORK/hostile-truncate.jsonl
	"$C" run algorithm --package "$(hostile_pkg truncate truncate)" --calls "$HOSTILE/image.calls" >"$out" 2>"$WORK/hostile-truncate.err"
	eq "collector exit status: 1, a call failed (not 135, SIGBUS)" 1 $?
	eq "the truncating call is bad_output, the rest ok" "bad_output ok ok ok ok" \
		"$(jq -r 'select(.type=="algorithm.result") | .data.outcome' "$out" | xargs)"
	eq "reported as a protocol error" 1 "$(count "$out" '.type=="algorithm.protocol_error" and .data.reason=="pool_resized"')"
	eq "pool and tmpdir removed" "" "$(pool_and_tmpdirs "$out")"
	end

	begin "algorithm: a child truncates the pool in a loop while the host copies images into it: no SIGBUS"
	out=$WORK/hostile-truncate-loop.jsonl
	"$C" run algorithm --package "$(hostile_pkg truncate-loop truncate-loop '"max_inflight":4')" --calls "$HOSTILE/big.calls" >"$out" 2>/dev/null
	eq "collector exit status: 1, calls failed (not 135, SIGBUS)" 1 $?
	eq "one result per call" 30 "$(count "$out" '.type=="algorithm.result"')"
	eq "outcomes only ok or bad_output" "" "$(jq -r 'select(.type=="algorithm.result") | .data.outcome' "$out" | grep -vx 'ok\|bad_output' | sort -u)"
	check "the calls under the truncation are bad_output" test "$(count "$out" '.type=="algorithm.result" and .data.outcome=="bad_output"')" -ge 1
	eq "pool and tmpdir removed" "" "$(pool_and_tmpdirs "$out")"
	end

	begin "algorithm: descriptors the collector inherited do not reach the child"
	out=$WORK/hostile-fds.jsonl
	echo "not for children" >"$WORK/secret-file"
	chmod 600 "$WORK/secret-file"
	head -1 "$HOSTILE/image.calls" >"$HOSTILE/one.calls"
	(exec 8<"$WORK/secret-file" 9>"$WORK/other-file"
		"$C" run algorithm --package "$(hostile_pkg probe probe)" --calls "$HOSTILE/one.calls" >"$out" 2>/dev/null)
	eq "collector exit status" 0 $?
	eq "fd 8 unreadable" null "$(field "$out" algorithm.result .data.data.fd8)"
	eq "no descriptor but stdin, stdout, stderr (and the one listing them)" "[0,1,2,3]" \
		"$(field "$out" algorithm.result '.data.data.fds | tostring')"
	end

	if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
		begin "algorithm --user nobody: no inherited descriptor, a clean environment, a pool it can read but not write"
		out=$WORK/hostile-user.jsonl
		(exec 8<"$WORK/secret-file"
			SECRET_TOKEN=hunter2 HOME=/root "$C" run algorithm --package "$HOSTILE/probe" --user nobody \
				--calls "$HOSTILE/one.calls" >"$out" 2>/dev/null)
		eq "collector exit status" 0 $?
		eq "outcome" ok "$(field "$out" algorithm.result .data.outcome)"
		eq "fd 8 unreadable" null "$(field "$out" algorithm.result .data.data.fd8)"
		eq "no SECRET_TOKEN" null "$(field "$out" algorithm.result .data.data.secret)"
		eq "HOME is nobody's" "$(getent passwd nobody | cut -d: -f6)" "$(field "$out" algorithm.result .data.data.home)"
		eq "the pool cannot be opened for writing" false "$(field "$out" algorithm.result .data.data.writable)"
		end
	else
		skip "algorithm --user nobody: descriptors, environment, pool" "needs root and the user nobody"
	fi

	begin "algorithm: kill -9 of the collector: its child dies with it, the next start removes what it left"
	pkg=$(hostile_pkg lingering linger '"memory_mb":256')
	fifo=$WORK/hostile-calls.fifo
	mkfifo "$fifo"
	out=$WORK/hostile-killed.jsonl
	"$C" run algorithm --package "$pkg" --calls "$fifo" >"$out" 2>/dev/null &
	victim=$!
	exec 7>"$fifo"
	for _ in $(seq 100); do grep -q '"algorithm.ready"' "$out" 2>/dev/null && break; sleep 0.05; done
	child=$(field "$out" algorithm.spawn .pid)
	left=$(pool_and_tmpdirs "$out")
	kill -9 "$victim"
	wait "$victim" 2>/dev/null
	exec 7>&-
	for _ in $(seq 40); do kill -0 "$child" 2>/dev/null || break; sleep 0.05; done
	check "the child (pid $child) is gone" test -n "$child" -a ! -d "/proc/$child"
	check "the pool and tmpdir were left behind ($left)" test -n "$left"
	# A later start of any algorithm run cleans up what a dead collector left.
	"$C" run algorithm --package "$HOSTILE/truncate" --calls /dev/null >/dev/null 2>&1
	eq "the pool and tmpdir are gone" "" "$(for p in $left; do [ -e "$p" ] && echo "$p"; done)"
	eq "no cgroup of the dead collector" "" "$(stale_algo_cgroups | grep "collector-algo\.$victim\." || true)"
	kill -9 "$child" 2>/dev/null
	end
else
	skip "algorithm: hostile children" "needs python3"
fi
rm -rf "$HOSTILE"
