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
CFLAGS   += $(CFLAGS_BASE) $(OPT) -Icollector/include -Icollector -MMD -MP
LIBS     := -lyajl -lev -ldl -lm
LDFLAGS  += $(LDSAN)

DEB_PACKAGES := build-essential pkg-config libyajl-dev libev-dev libcmocka-dev zlib1g-dev jq \
                clang-tidy cppcheck clang-format valgrind

LIB_SRCS := $(filter-out collector/main.c,$(wildcard collector/*.c)) \
            $(wildcard runners/*.c) $(wildcard sinks/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS := $(wildcard tools/bench/*.c) $(wildcard tools/testchild/*.c)
TOOL_BINS := $(patsubst %.c,$(BUILD)/%,$(TOOL_SRCS))
PLUGIN_SRCS := $(wildcard tools/examples/*.c)
PLUGIN_SOS := $(patsubst %.c,$(BUILD)/%.so,$(PLUGIN_SRCS))

.PHONY: all deps test unit integration asan valgrind bench install clean format format-check \
	lint docs
.SECONDARY:
all: $(BUILD)/collector $(BUILD)/libcollector.a $(BUILD)/libcollector.so $(UNIT_BINS) \
     $(TOOL_BINS) $(PLUGIN_SOS)

deps:
	@if [ "$$(id -u)" -ne 0 ]; then echo "make deps: run as root (apt-get install)"; exit 1; fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libcollector.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libcollector.so: $(LIB_OBJS)
	$(CC) -shared -o $@ $^ $(LDFLAGS) $(LIBS)

# Plugins resolve the library's symbols in the binary: keep all of them, exported.
$(BUILD)/collector: $(BUILD)/obj/collector/main.o $(BUILD)/libcollector.a
	$(CC) -rdynamic -o $@ $< -Wl,--whole-archive $(BUILD)/libcollector.a -Wl,--no-whole-archive \
		$(LDFLAGS) $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libcollector.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(BUILD)/libcollector.a $(LDFLAGS) $(LIBS) -lcmocka

$(BUILD)/tools/%: $(BUILD)/obj/tools/%.o $(BUILD)/libcollector.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(BUILD)/libcollector.a $(LDFLAGS) $(LIBS)

$(BUILD)/tools/examples/%.so: $(BUILD)/obj/tools/examples/%.o
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $< $(LDFLAGS)

test: unit integration

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: all
	@BUILD=$(abspath $(BUILD)) bash tests/integration/run.sh

asan:
	$(MAKE) BUILD=build-asan SAN=1 test

valgrind: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do \
		valgrind -q --leak-check=full --errors-for-leak-kinds=all --error-exitcode=1 $$t >/dev/null; \
		echo "valgrind clean: $$t"; done

bench: all
	@BUILD=$(abspath $(BUILD)) bash tools/bench/pipeline.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/collector
	install -m 0755 $(BUILD)/collector $(DESTDIR)$(PREFIX)/bin/collector
	install -m 0644 $(BUILD)/libcollector.a $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(BUILD)/libcollector.so $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 collector/include/collector/*.h $(DESTDIR)$(PREFIX)/include/collector/

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
LINT_SRCS := $(LIB_SRCS) collector/main.c

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

lint:
	clang-tidy --quiet $(LINT_SRCS) -- $(CFLAGS_BASE) -Icollector/include -Icollector
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppressions-list=.cppcheck-suppressions -D_GNU_SOURCE \
		-Icollector/include -Icollector $(LINT_SRCS)

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
