# p2vkit: plain make.  `make` builds every program into bin/.
#
#   make              build
#   make check        install test dependencies (when root), build, run all tests
#   make check-fast   the fast tier only (no guest boots)
#   make check-valgrind / check-asan   the tests again under valgrind / ASan+UBSan
#   make lint         clang-format check of every C file
#   make fuzz         run the libFuzzer targets for a while
#   make demo         the main job on a built-in example (see README.md)
#   make bench        the benchmarks in bench/
#   make install PREFIX=/usr/local

VERSION = 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin

CC ?= cc
CFLAGS ?= -O2 -g
WARNFLAGS = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes
PKGS = libzstd zlib libxxhash
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
	-DP2V_VERSION='"$(VERSION)"' -Iimaging $(WARNFLAGS) $(PKG_CFLAGS) \
	$(CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(EXTRA_LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread

IMAGING_SRCS = $(wildcard imaging/*.c)
IMAGING_OBJS = $(IMAGING_SRCS:.c=.o)
LIBIMAGING = imaging/libimaging.a

# Every program: bin/NAME built from the .c files in its folder.
PROGRAMS = p2v/send:p2v-send v2p/write:v2p-write
BINS = $(foreach p,$(PROGRAMS),bin/$(word 2,$(subst :, ,$(p))))

UNIT_SRCS = $(wildcard tests/unit/test-*.c)
UNIT_BINS = $(UNIT_SRCS:.c=)

.PHONY: all deps check check-fast check-valgrind check-asan lint format \
	fuzz bench demo install clean

all: $(BINS) $(UNIT_BINS)

%.o: %.c $(wildcard imaging/*.h)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# XXH3 built for AVX2, used only where the processor has it (digest.c).
imaging/digest-avx2.o: ALL_CFLAGS += -mavx2

$(LIBIMAGING): $(IMAGING_OBJS)
	rm -f $@
	ar rcs $@ $^

define program_rule
bin/$(2): $$(patsubst %.c,%.o,$$(wildcard $(1)/*.c)) $$(LIBIMAGING)
	@mkdir -p bin
	$$(CC) $$(ALL_CFLAGS) $$(ALL_LDFLAGS) -o $$@ $$^ $$(LIBS)
$(1)/%.o: $(1)/%.c $$(wildcard $(1)/*.h) $$(wildcard imaging/*.h)
	$$(CC) $$(ALL_CFLAGS) -I$(1) -c -o $$@ $$<
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))

tests/unit/test-%: tests/unit/test-%.c $(LIBIMAGING)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

deps:
	scripts/deps check

# The build runs in a second make, after deps: on a fresh machine the
# PKG_CFLAGS and PKG_LIBS above were computed before pkg-config and the
# libraries were installed.
check: deps
	$(MAKE) all
	tests/run-tests

check-fast: deps
	$(MAKE) all
	tests/run-tests --fast

check-valgrind: deps
	$(MAKE) all
	VG="valgrind --quiet --error-exitcode=119 --leak-check=full --errors-for-leak-kinds=definite" \
	  tests/run-tests --fast

check-asan: deps
	$(MAKE) clean
	$(MAKE) all EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined"
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 tests/run-tests --fast
	$(MAKE) clean

C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]')

lint:
	clang-format-16 --dry-run --Werror $(C_FILES)

format:
	clang-format-16 -i $(C_FILES)

FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,tests/fuzz/%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_CFLAGS = -std=gnu11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -DP2V_VERSION='"$(VERSION)"' \
	-Iimaging -g -O1 \
	-fsanitize=fuzzer,address,undefined $(PKG_CFLAGS)
FUZZ_SECONDS ?= 60

tests/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(IMAGING_SRCS) $(wildcard imaging/*.h)
	clang $(FUZZ_CFLAGS) -o $@ $< $(IMAGING_SRCS) $(LIBS)

fuzz: deps $(FUZZ_TARGETS)
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p $$t-work && \
	  $$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $$t-work $$t-corpus || exit 1; \
	done

bench: deps
	$(MAKE) all
	bench/imaging.sh

demo: deps
	$(MAKE) all
	scripts/demo

install: all
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)

clean:
	rm -f imaging/*.o imaging/*.a $(foreach p,$(PROGRAMS),$(word 1,$(subst :, ,$(p)))/*.o) \
	  $(BINS) $(UNIT_BINS) $(FUZZ_TARGETS)
	rm -rf tests/fuzz/*-work
