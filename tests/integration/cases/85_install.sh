# make install: binary, library with headers and pkg-config, man page, unit, completion.

begin "make install puts every piece in place, and a host program builds against it"
inst=$WORK/inst
make -s -C ../.. install PREFIX="$inst" BUILD="$BUILD" >"$WORK/install.log" 2>&1
eq "make install exit status" 0 $?
for f in bin/collector lib/libcollector.a lib/libcollector.so lib/pkgconfig/collector.pc \
	include/collector/collector.h share/man/man8/collector.8 lib/systemd/system/collector.service \
	etc/collector/collector.json share/bash-completion/completions/collector \
	share/zsh/site-functions/_collector; do
	check "installed: $f" test -s "$inst/$f"
done
eq "the example configuration is valid" 0 "$("$inst/bin/collector" validate --config \
	"$inst/etc/collector/collector.json" >/dev/null 2>&1; echo $?)"
cat >"$WORK/host.c" <<'C'
#include <ev.h>
#include <stdio.h>
#include <collector/collector.h>
#include <collector/registry.h>

int main(int argc, char **argv)
{
	struct error err = { 0 };
	struct collector *c;
	struct options *o;
	char *cmd[] = { "echo", "{\"type\":\"host.hello\"}", NULL };
	int rc;

	(void)argc;
	registry_add_builtins();
	c = collector_new(ev_default_loop(0), &err);
	o = options_new(registry_sink("file")->options);
	options_set(o, "path", argv[1], &err);
	options_finish(o, &err);
	if (collector_add_sink(c, "out", "file", o, NULL, &err) < 0)
		goto fail;
	o = options_new(registry_runner("exec")->options);
	for (int i = 0; cmd[i]; i++)
		options_set(o, "command", cmd[i], &err);
	options_finish(o, &err);
	if (collector_add_runner(c, "hello", "exec", o, &err) < 0)
		goto fail;
	rc = collector_run(c);
	collector_free(c);
	return rc;
fail:
	fprintf(stderr, "host: %s\n", err.msg);
	return 1;
}
C
export PKG_CONFIG_PATH="$inst/lib/pkgconfig"
# A sanitizer build's library needs its runtime in the host program too (no `ldd | grep -q`:
# under pipefail, grep quitting early fails the pipeline with SIGPIPE).
san=""
grep -q libasan <<<"$(ldd "$C")" && san="-fsanitize=address,undefined"
# shellcheck disable=SC2046,SC2086
cc $san -o "$WORK/host" "$WORK/host.c" $(pkg-config --cflags collector) \
	-Wl,-rpath,"$inst/lib" $(pkg-config --libs collector) -lev 2>"$WORK/cc.log"
rc=$?
[ "$rc" -eq 0 ] || sed 's/^/  cc: /' "$WORK/cc.log" | head -n 20 >&2
eq "a host program compiles with pkg-config" 0 "$rc"
"$WORK/host" "$WORK/host.jsonl"
eq "the host program runs" 0 $?
eq "its event reached its file" host.hello "$(jq -r 'select(.runner=="hello") | .type' "$WORK/host.jsonl" | head -n 1)"
end

begin "the man page and --help list the same options"
man=$inst/share/man/man8/collector.8
for r in "" $("$C" list | awk '/^runners:/{r=1;next} /^sinks:/{r=0} r{print $1}'); do
	for flag in $("$C" run $r --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		check "man page has $flag${r:+ ($r)}" grep -q -- "$(sed 's/-/\\\\-/g' <<<"$flag")" "$man"
	done
done
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$inst/lib/systemd/system/collector.service" 2>&1 |
		grep -v "man collector(8)" >"$WORK/verify.log"
	eq "systemd-analyze finds nothing wrong with the unit" "" "$(cat "$WORK/verify.log")"
fi
end
