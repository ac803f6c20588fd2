# collector: build, test, sanitizers, benchmarks, install.
# `make deps && make` on a fresh Debian 12 machine; `make test` runs every suite.

BUILD    ?= build
PREFIX   ?= /usr/local
CC       ?= cc
SAN      ?=

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
               -Wno-missing-field-initializers -fPIC -g
ifeq ($(SAN),1)
OPT      := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN    := -fsanitize=address,undefined
else
OPT      := -O2
LDSAN    :=
endif
CFLAGS   ?=
# Only the public headers are on the include path: runners, sinks, loaders and
# tools see collector/include/collector/*; the core's own headers are found
# next to the core's sources, and unit tests of private modules add them.
CFLAGS   += $(CFLAGS_BASE) $(OPT) -Icollector/include -MMD -MP
LIBS     := -lyajl -lev -lmicrohttpd -lrdkafka -lhttp_parser -lnghttp2 -lcurl -lprotobuf-c -lz -lpthread -ldl -lm -lcapstone -lbrotlidec -lzstd -lisal
LDFLAGS  += $(LDSAN)
# gRPC C core: the algorithm runner's service (runners/algorithm/service*.c).
LIBS     += -lgrpc -lgpr

DEB_PACKAGES := build-essential pkg-config libyajl-dev libev-dev libcmocka-dev zlib1g-dev jq \
                libmicrohttpd-dev curl procps util-linux \
                clang-tidy cppcheck clang-format valgrind doxygen \
                clang llvm libclang-rt-14-dev bpftool libbpf-dev libelf-dev libbpf-tools \
                librdkafka-dev kcat rsyslog \
                libhttp-parser-dev openssl curl gnutls-bin wget python3 bpftrace \
                libcurl4-openssl-dev protobuf-c-compiler libprotobuf-c-dev protobuf-compiler \
                libgrpc-dev python3-grpcio python3-grpc-tools python3-protobuf \
                golang-go golang-google-grpc-dev golang-google-protobuf-dev \
                python3-fastapi python3-uvicorn docker.io podman busybox-static \
                nghttp2-server libnghttp2-dev libcapstone-dev libbrotli-dev libzstd-dev \
                android-libboringssl-dev nginx chromium chromium-driver bash-completion zsh \
                expect hyperfine libisal-dev

# BPF programs: vmlinux.h from this machine's BTF, clang -target bpf, bpftool skeletons.
BPF_PROGS := $(wildcard bpf/*.bpf.c)
BPF_SKELS := $(BPF_PROGS:bpf/%.bpf.c=$(BUILD)/bpf/%.skel.h)
# Every C file of bpf/ but the kernel programs and the standalone loaders' main().
LOADER_SRCS := $(filter-out bpf/loader_main.c %.bpf.c,$(wildcard bpf/*.c))
LOADER_OBJS := $(LOADER_SRCS:%.c=$(BUILD)/obj/%.o)
LOADER_BINS := $(patsubst bpf/%_loader.c,$(BUILD)/bpf/%-loader,$(filter bpf/%_loader.c,$(LOADER_SRCS)))
BPF_LIBS := -lbpf -lelf -lz
# The health monitor's skeleton is part of the library itself.
LIBS     += $(BPF_LIBS)

# The loaders are part of the library: a BPF runner's ops name its loader's main.
LIB_SRCS := $(filter-out collector/main.c,$(wildcard collector/*.c)) \
            $(wildcard runners/*.c) $(wildcard runners/*/*.c) $(wildcard sinks/*.c) $(wildcard sinks/*/*.c) \
            $(LOADER_SRCS)
# Protocol buffers: proto/**.proto -> $(BUILD)/proto/**.pb-c.[ch] (protoc-c), part of the library;
# code includes them as "path/name.pb-c.h" relative to proto/.
PROTO_SRCS := $(shell find proto -name '*.proto' 2>/dev/null)
PROTO_GEN  := $(PROTO_SRCS:proto/%.proto=$(BUILD)/proto/%.pb-c.c)
# The web page's files (collector/ui/), embedded in the library as C arrays: no build step for users.
UI_FILES := $(sort $(wildcard collector/ui/*.html collector/ui/*.js collector/ui/*.css collector/ui/*.svg))
UI_GEN   := $(BUILD)/gen/ui_assets.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(PROTO_GEN:%.c=%.o) $(UI_GEN:%.c=%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS := $(wildcard tools/bench/*.c) $(wildcard tools/testchild/*.c) \
             $(wildcard tools/algo-sim/*.c) $(wildcard tools/algo-host/*.c)
TOOL_BINS := $(patsubst %.c,$(BUILD)/%,$(TOOL_SRCS))
# TLS test programs of the ssl runner (rules below), each when its toolchain or library is
# here (make deps installs them all; the cases that need one skip without it).
TLS_PROGS := $(if $(shell command -v go),$(addprefix $(BUILD)/tls-progs/,go-client \
	go-client-stripped go-client-pie go-server go-server-stripped)) \
	$(if $(wildcard /usr/lib/x86_64-linux-gnu/libssl.a),$(addprefix $(BUILD)/tls-progs/, \
	ssl-client-static ssl-client-static-stripped)) \
	$(if $(wildcard /usr/include/android/openssl/ssl.h),$(BUILD)/tls-progs/ssl-client-boring)
PLUGIN_SRCS := $(wildcard tools/examples/*.c)
PLUGIN_SOS := $(patsubst %.c,$(BUILD)/%.so,$(PLUGIN_SRCS))
# LD_PRELOAD shims the fault suite puts under the collector (tools/faultlib/).
SHIM_SRCS := $(wildcard tools/faultlib/*.c)
SHIM_SOS := $(patsubst %.c,$(BUILD)/%.so,$(SHIM_SRCS))

.PHONY: all deps test unit integration faults asan valgrind bench bench-metrics bench-health \
	bench-process bench-sinks bench-ssl bench-runners install clean format format-check lint docs fuzz
.SECONDARY:
all: $(BUILD)/collector $(BUILD)/libcollector.a $(BUILD)/libcollector.so $(UNIT_BINS) \
     $(TOOL_BINS) $(PLUGIN_SOS) $(SHIM_SOS) $(LOADER_BINS) $(BUILD)/collector.8 $(TLS_PROGS)

deps:
	@if [ "$$(id -u)" -ne 0 ]; then echo "make deps: run as root (apt-get install)"; exit 1; fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES)
	npm ci --prefix tools/ui-test --no-audit --no-fund
	npm ci --prefix tools/otlp-receiver --no-audit --no-fund

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/proto
	protoc-c --proto_path=proto --c_out=$(BUILD)/proto $<

# protoc-c's initializers of a oneof miss a brace level: its code, not ours.
$(BUILD)/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c
	$(CC) $(CFLAGS) -Wno-missing-braces -I$(BUILD)/proto -c $< -o $@

# Sources that use generated messages see $(BUILD)/proto and wait for its headers.
ifneq ($(PROTO_SRCS),)
CFLAGS += -I$(BUILD)/proto
$(filter-out $(PROTO_GEN:%.c=%.o),$(LIB_OBJS)): $(PROTO_GEN:%.c=%.h)
endif

$(UI_GEN): $(UI_FILES) tools/ui-embed.sh
	@mkdir -p $(dir $@)
	sh tools/ui-embed.sh $(UI_FILES) > $@.tmp && mv $@.tmp $@

$(UI_GEN:%.c=%.o): $(UI_GEN)
	$(CC) $(CFLAGS) -Icollector -c $< -o $@

$(BUILD)/libcollector.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libcollector.so: $(LIB_OBJS)
	$(CC) -shared -o $@ $^ $(LDFLAGS) $(LIBS)

$(BUILD)/bpf/vmlinux.h:
	@test -r /sys/kernel/btf/vmlinux || { echo "error: /sys/kernel/btf/vmlinux is missing:" \
		"building the BPF programs needs a kernel with BTF (CONFIG_DEBUG_INFO_BTF=y)"; exit 1; }
	@mkdir -p $(dir $@)
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/%.h $(BUILD)/bpf/vmlinux.h
	clang -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -I$(BUILD)/bpf -Ibpf -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	bpftool gen skeleton $< > $@.tmp && mv $@.tmp $@

$(LOADER_OBJS) $(BUILD)/obj/collector/main.o: CFLAGS += -I$(BUILD)/bpf -Ibpf
$(LOADER_OBJS): $(BPF_SKELS)
$(BUILD)/obj/collector/health_monitor.o: CFLAGS += -I$(BUILD)/bpf -Ibpf
# A BPF runner names its loader's entry point (bpf/NAME_loader.h) and may read the
# records its program shares with the loader (bpf/NAME.h), as the ssl runner does.
$(BUILD)/obj/runners/%.o: CFLAGS += -Ibpf
$(BUILD)/obj/collector/health_monitor.o: $(BUILD)/bpf/health.skel.h

$(BUILD)/obj/bpf/%-loader-main.o: bpf/loader_main.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DLOADER_NAME='"$*"' -c $< -o $@

# The same loader code, standalone for debugging: build/bpf/process-loader.
$(BUILD)/bpf/%-loader: $(BUILD)/obj/bpf/%-loader-main.o $(BUILD)/libcollector.a
	$(CC) -o $@ $< $(BUILD)/libcollector.a $(LDFLAGS) $(LIBS) $(BPF_LIBS)

# Plugins resolve the library's symbols in the binary: keep all of them, exported.
# A runner re-executes this binary as `collector loader NAME` to run its loader.
$(BUILD)/collector: $(BUILD)/obj/collector/main.o $(BUILD)/libcollector.a
	$(CC) -rdynamic -o $@ $< -Wl,--whole-archive $(BUILD)/libcollector.a \
		-Wl,--no-whole-archive $(LDFLAGS) $(LIBS) $(BPF_LIBS)

# TLS test programs of the ssl runner (tools/tls-progs/): Go's crypto/tls built offline with
# Debian's Go (plain, stripped, stripped PIE), and a C client on OpenSSL's libssl.a (plain and
# stripped) and on Debian's BoringSSL. Not sanitized: they are what is traced, not our code.
GO_BUILD := GO111MODULE=off GOFLAGS= go build -trimpath
BORINGSSL := /usr/lib/x86_64-linux-gnu/android
$(BUILD)/tls-progs/go-client: tools/tls-progs/goclient.go
	@mkdir -p $(dir $@)
	$(GO_BUILD) -o $@ $<
$(BUILD)/tls-progs/go-client-stripped: tools/tls-progs/goclient.go
	@mkdir -p $(dir $@)
	$(GO_BUILD) -ldflags='-s -w' -o $@ $<
$(BUILD)/tls-progs/go-client-pie: tools/tls-progs/goclient.go
	@mkdir -p $(dir $@)
	$(GO_BUILD) -buildmode=pie -ldflags='-s -w' -o $@ $<
$(BUILD)/tls-progs/go-server: tools/tls-progs/goserver.go
	@mkdir -p $(dir $@)
	$(GO_BUILD) -o $@ $<
$(BUILD)/tls-progs/go-server-stripped: tools/tls-progs/goserver.go
	@mkdir -p $(dir $@)
	$(GO_BUILD) -ldflags='-s -w' -o $@ $<
$(BUILD)/tls-progs/ssl-client-static: tools/tls-progs/sslclient.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -o $@ $< -Wl,-Bstatic -lssl -lcrypto -Wl,-Bdynamic -ldl -lpthread
$(BUILD)/tls-progs/ssl-client-static-stripped: $(BUILD)/tls-progs/ssl-client-static
	strip -o $@ $<
$(BUILD)/tls-progs/ssl-client-boring: tools/tls-progs/sslclient.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -I/usr/include/android -o $@ $< -L$(BORINGSSL) -Wl,-rpath,$(BORINGSSL) -lssl -lcrypto

# The man page comes from the same option tables as --help.
$(BUILD)/collector.8: $(BUILD)/collector
	$(BUILD)/collector man > $@.tmp && mv $@.tmp $@

# Unit tests may test what a loader and its runner share (bpf/ssl_calls.c) and
# the core's private modules (router, event_queue, crash_cli).
$(BUILD)/obj/tests/unit/%.o: CFLAGS += -Ibpf -Icollector
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libcollector.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(BUILD)/libcollector.a $(LDFLAGS) $(LIBS) -lcmocka

# The decoder's test makes its brotli input with the encoder.
$(BUILD)/tests/test_body_decode: LIBS += -lbrotlienc

$(BUILD)/tools/%: $(BUILD)/obj/tools/%.o $(BUILD)/libcollector.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(BUILD)/libcollector.a $(LDFLAGS) $(LIBS)

$(BUILD)/tools/examples/%.so: $(BUILD)/obj/tools/examples/%.o
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $< $(LDFLAGS)

# Without sanitizers: the shim goes under `timeout` and the children too.
$(BUILD)/tools/faultlib/%.so: tools/faultlib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O2 -shared -o $@ $< -ldl

# The fault suite runs after the others, never beside them (it loads the machine on purpose).
test: unit integration
	@$(MAKE) --no-print-directory faults

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: all
	@BUILD=$(abspath $(BUILD)) bash tests/integration/run.sh $(CASES)

# Fault injection (tests/faults/): crashing children, full disks, dead sinks, broker errors,
# signals at random moments, fd and memory limits. CASES selects case files; FAULT_SEEDS the
# seeds of the random signal delays.
faults: all
	@BUILD=$(abspath $(BUILD)) bash tests/faults/run.sh $(CASES)

asan:
	$(MAKE) BUILD=build-asan SAN=1 test

valgrind: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do \
		valgrind -q --leak-check=full --errors-for-leak-kinds=all --suppressions=.valgrind-suppressions --error-exitcode=1 $$t >/dev/null; \
		echo "valgrind clean: $$t"; done

bench: all
	@BUILD=$(abspath $(BUILD)) BASELINE=$(BASELINE) bash tools/bench/pipeline.sh

# Fuzz targets (tests/fuzz/fuzz_*.c, libFuzzer): each runs FUZZ_SECONDS from its seed
# corpus in tests/fuzz/corpus/NAME; what it finds goes to build-fuzz/corpus/NAME, a
# crashing input to build-fuzz/NAME-crash-* and fails the target.
FUZZ_SECONDS ?= 30
FUZZ_BUILD := build-fuzz
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
              -Icollector/include -Icollector

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRCS) $(PROTO_GEN) $(UI_GEN) $(BPF_SKELS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -I$(BUILD)/bpf -Ibpf -I$(BUILD)/proto -o $@ $(filter %.c,$^) $(LIBS)

fuzz: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_BINS); do \
		name=$$(basename $$t); mkdir -p $(FUZZ_BUILD)/corpus/$$name; \
		echo "== $$name ($(FUZZ_SECONDS) s)"; \
		$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_BUILD)/$$name- $(FUZZ_BUILD)/corpus/$$name \
			tests/fuzz/corpus/$$name 2>$(FUZZ_BUILD)/$$name.log || \
			{ tail -n 40 $(FUZZ_BUILD)/$$name.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' $(FUZZ_BUILD)/$$name.log; \
	done

bench-metrics: all
	@BUILD=$(abspath $(BUILD)) bash tools/bench/metrics.sh

bench-health: all
	@BUILD=$(abspath $(BUILD)) bash tools/bench/health.sh

# The algorithm runner's gRPC service with the Go client (tools/service-clients/go).
.PHONY: bench-service
bench-service: all
	@BUILD=$(abspath $(BUILD)) bash tools/bench/service.sh

# Crash -> algorithm.crash latency over CRASHES (1000) SIGKILLed algorithm children.
.PHONY: bench-algo-crash
bench-algo-crash: all
	@BUILD=$(abspath $(BUILD)) bash tools/bench/algo_crash.sh

# Root only: the process runner against libbpf-tools' execsnoop + exitsnoop.
bench-process: all
	@BUILD=$(abspath $(BUILD)) bash tools/bench/process.sh

# exec -> kafka mock with and without a spool (docs/sinks.md, Delivery guarantees).
.PHONY: bench-spool
bench-spool: all
	BUILD=$(BUILD) bash tools/bench/spool.sh

bench-sinks: all
	@BUILD=$(abspath $(BUILD)) bash tools/bench/sinks.sh

# Container start -> first event -> exit beside `docker run --rm`; an http probe beside curl -w.
bench-runners: all
	@BUILD=$(abspath $(BUILD)) bash tools/bench/runners.sh

# TLS capture: throughput cost on 64 MiB transfers, HTTP exchanges rebuilt per second (root).
bench-ssl: all
	@BUILD=$(abspath $(BUILD)) bash tools/bench/ssl.sh

# The HTTP/2 decoder alone: frames/s and streams/s replaying a capture on one core.
.PHONY: bench-h2
bench-h2: all
	@BUILD=$(abspath $(BUILD)) bash tools/bench/h2.sh

# Root only: every runner at once into file + kafka sinks for SOAK_MINUTES, with verdicts
# (tools/bench/soak/soak.py). SAN=1 soaks the ASan build in build-asan.
SOAK_MINUTES ?= 30
SOAK_ARGS ?=
.PHONY: soak soak-run
soak:
	@$(MAKE) --no-print-directory SAN=$(SAN) \
		BUILD=$(if $(filter command line,$(origin BUILD)),$(BUILD),$(if $(filter 1,$(SAN)),build-asan,$(BUILD))) soak-run
soak-run: all
	@BUILD=$(abspath $(BUILD)) python3 tools/bench/soak/soak.py --minutes $(SOAK_MINUTES) $(SOAK_ARGS)

# SYSCONFDIR: where the example configuration goes (/etc for a system install).
SYSCONFDIR ?= $(PREFIX)/etc
# ZSH_COMPDIR: where zsh looks for completion functions (Debian: /usr/share/zsh/vendor-completions).
ZSH_COMPDIR ?= $(PREFIX)/share/zsh/site-functions
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/collector $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(SYSCONFDIR)/collector \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(ZSH_COMPDIR)
	install -m 0755 $(BUILD)/collector $(DESTDIR)$(PREFIX)/bin/collector
	install -m 0644 $(BUILD)/libcollector.a $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(BUILD)/libcollector.so $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 collector/include/collector/*.h $(DESTDIR)$(PREFIX)/include/collector/
	cd proto && find . -name '*.proto' -exec install -D -m 0644 {} \
		$(DESTDIR)$(PREFIX)/share/collector/proto/{} \;
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(shell $(BUILD)/collector version | cut -d" " -f2)|' \
		collector/dist/collector.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/collector.pc
	install -m 0644 $(BUILD)/collector.8 $(DESTDIR)$(PREFIX)/share/man/man8/collector.8
	sed 's|@BINDIR@|$(PREFIX)/bin|g' collector/dist/collector.service \
		> $(DESTDIR)$(PREFIX)/lib/systemd/system/collector.service
	install -m 0640 collector/dist/collector.json $(DESTDIR)$(SYSCONFDIR)/collector/collector.json
	install -m 0644 collector/dist/collector.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/collector
	install -m 0644 collector/dist/_collector $(DESTDIR)$(ZSH_COMPDIR)/_collector

# Tracked and new (not ignored) C files; outside a git checkout, the source directories.
FORMAT_FILES = $(shell { git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null \
		|| find collector runners sinks bpf tools tests -name '*.[ch]'; } | sort -u)
LINT_SRCS = $(LIB_SRCS) collector/main.c $(PLUGIN_SRCS) bpf/loader_main.c
# Generated skeletons are system headers to the analysers: their code is bpftool's.
# libbpf's headers are not: the analyser assumes a system function never frees what
# it is given, and would call every skeleton's bpf_object__destroy_skeleton() a leak.
# Generated protobuf-c code is protoc-c's: a system header to them too.
LINT_FLAGS = $(CFLAGS_BASE) -Icollector/include -Icollector -isystem $(BUILD)/bpf -Ibpf \
             -isystem $(BUILD)/proto \
             -DLOADER_NAME='"process"' \
             --no-system-header-prefix=bpf/
# protoc-c's generated messages are system headers too: their code is protoc-c's.
ifneq ($(PROTO_SRCS),)
LINT_FLAGS += -isystem $(BUILD)/proto
endif

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

# One clang-tidy process per file: clang-tidy 14 caches its analyser's function
# lookups across the files of one run, and then misreports va_start in every
# file after the first as an uninitialized va_list.
lint: $(BPF_SKELS) $(PROTO_GEN:%.c=%.h)
	@rc=0; for f in $(LINT_SRCS); do \
		out=$$(clang-tidy --quiet $$f -- $(LINT_FLAGS) 2>&1) || rc=1; \
		[ -z "$$out" ] || printf '%s\n' "$$out" | grep -v '^[0-9]* warnings* generated\.$$'; \
	done; \
	cppcheck --quiet --error-exitcode=1 --std=c11 --library=posix \
		--enable=warning,performance,portability --inline-suppr \
		--suppressions-list=.cppcheck-suppressions -D_GNU_SOURCE \
		-Icollector/include -Icollector -Ibpf $(LINT_SRCS) || rc=1; \
	tools/lint/hand-json.sh $(LINT_SRCS) || rc=1; \
	if [ $$rc -eq 0 ]; then echo "lint: clean"; fi; exit $$rc

# The public headers' API reference (Doxyfile); any doxygen warning fails it.
docs:
	@mkdir -p $(BUILD)/docs
	{ cat Doxyfile; echo "OUTPUT_DIRECTORY = $(BUILD)/docs"; } | doxygen -
	@echo "docs: $(BUILD)/docs/html/index.html"

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
