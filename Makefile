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
#   make iso          the live ISO, p2vkit.iso (ISO=FILE for another name)
#   make install      the programs and their man pages: PREFIX (/usr/local),
#                     BINDIR, MANDIR and DESTDIR as usual; make uninstall

VERSION = 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man

CC ?= cc
CFLAGS ?= -O2 -g
WARNFLAGS = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes
PKGS = libzstd zlib libxxhash libsodium libxml-2.0 blkid libparted libguestfs \
	ext2fs com_err
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
	-DP2V_VERSION='"$(VERSION)"' -Iimaging $(WARNFLAGS) $(PKG_CFLAGS) \
	$(CFLAGS) $(EXTRA_CFLAGS)
# --as-needed: a program records only the libraries it uses, so that the
# ones without the inventory do not load libparted (which runs dmidecode
# when it is loaded).
ALL_LDFLAGS = -Wl,--as-needed $(LDFLAGS) $(EXTRA_LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread

IMAGING_SRCS = $(wildcard imaging/*.c)
IMAGING_OBJS = $(IMAGING_SRCS:.c=.o)
LIBIMAGING = imaging/libimaging.a

# What the p2v programs share (the inventory), on top of imaging/.
P2V_SRCS = $(wildcard p2v/common/*.c)
P2V_OBJS = $(P2V_SRCS:.c=.o)
LIBP2V = p2v/common/libp2v.a
P2V_CFLAGS = -Ip2v/common
# The guest fixup's rules (device name rewrites), on top of imaging/.
FIXUP_SRCS = $(wildcard fixup/*.c)
FIXUP_OBJS = $(FIXUP_SRCS:.c=.o)
LIBFIXUP = fixup/libfixup.a
FIXUP_CFLAGS = -Ifixup
# What the v2p programs share (targets, partition and filesystem growth),
# on top of imaging/.
V2P_SRCS = $(wildcard v2p/common/*.c)
V2P_OBJS = $(V2P_SRCS:.c=.o)
LIBV2P = v2p/common/libv2p.a
V2P_CFLAGS = -Iv2p/common
# The inventory schema is built into the programs (inventory-schema.c),
# and so are p2v-domxml's template and the fixup report's schema
# (builtin-files.c).
INVENTORY_SCHEMA = templates/inventory.rng
DOMAIN_TEMPLATE = templates/domain.xml
FIXUP_REPORT_SCHEMA = templates/fixup-report.rng
SCHEMA_CFLAGS = -DINVENTORY_SCHEMA_FILE='"$(CURDIR)/$(INVENTORY_SCHEMA)"' \
	-DDOMAIN_TEMPLATE_FILE='"$(CURDIR)/$(DOMAIN_TEMPLATE)"' \
	-DFIXUP_REPORT_SCHEMA_FILE='"$(CURDIR)/$(FIXUP_REPORT_SCHEMA)"'

# Every program: bin/NAME built from the .c files in its folder.  The
# programs under p2v/ also link p2v/common/libp2v.a; those under fixup/ link
# fixup/libfixup.a and libp2v.a (the inventory) too; those under v2p/ link
# v2p/common/libv2p.a.
PROGRAMS = p2v/send:p2v-send p2v/recv:p2v-recv p2v/inventory:p2v-inventory \
	v2p/write:v2p-write fixup/p2v-fixup:p2v-fixup p2v/convert:p2v-convert \
	p2v/domxml:p2v-domxml v2p/send:v2p-send v2p/recv:v2p-recv
BINS = $(foreach p,$(PROGRAMS),bin/$(word 2,$(subst :, ,$(p))))
# The live-ISO builder, a shell script, installed with the files it puts
# in the ISO appended to it (p2v/iso/p2v-make-iso --bundle).
SCRIPTS = bin/p2v-make-iso
ISO_FILES = $(shell find p2v/iso -type f)
ISO ?= p2vkit.iso
# Every program's man page (tests/t-man.sh checks them against --help).
MANS = $(patsubst bin/%,man/%.1,$(BINS) $(SCRIPTS))

UNIT_SRCS = $(wildcard tests/unit/test-*.c)
UNIT_BINS = $(UNIT_SRCS:.c=)

.PHONY: all deps check check-fast check-valgrind check-asan lint format \
	fuzz bench demo iso install uninstall clean

all: $(BINS) $(SCRIPTS) $(UNIT_BINS)

%.o: %.c $(wildcard imaging/*.h)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# XXH3 built for AVX2, used only where the processor has it (digest.c).
imaging/digest-avx2.o: ALL_CFLAGS += -mavx2

$(LIBIMAGING): $(IMAGING_OBJS)
	rm -f $@
	ar rcs $@ $^

p2v/common/%.o: p2v/common/%.c $(wildcard p2v/common/*.h) $(wildcard imaging/*.h)
	$(CC) $(ALL_CFLAGS) $(P2V_CFLAGS) -c -o $@ $<

p2v/common/inventory-schema.o p2v/common/builtin-files.o: ALL_CFLAGS += $(SCHEMA_CFLAGS)
p2v/common/inventory-schema.o: $(INVENTORY_SCHEMA)
p2v/common/builtin-files.o: $(DOMAIN_TEMPLATE) $(FIXUP_REPORT_SCHEMA)

$(LIBP2V): $(P2V_OBJS)
	rm -f $@
	ar rcs $@ $^

fixup/%.o: fixup/%.c $(wildcard fixup/*.h) $(wildcard imaging/*.h)
	$(CC) $(ALL_CFLAGS) $(FIXUP_CFLAGS) -c -o $@ $<

$(LIBFIXUP): $(FIXUP_OBJS)
	rm -f $@
	ar rcs $@ $^

v2p/common/%.o: v2p/common/%.c $(wildcard v2p/common/*.h) $(wildcard imaging/*.h)
	$(CC) $(ALL_CFLAGS) $(V2P_CFLAGS) -c -o $@ $<

$(LIBV2P): $(V2P_OBJS)
	rm -f $@
	ar rcs $@ $^

# p2v/common/libp2v.a comes before libimaging.a, which it uses.
define program_rule
bin/$(2): $$(patsubst %.c,%.o,$$(wildcard $(1)/*.c)) $(if $(filter fixup/%,$(1)),$$(LIBFIXUP)) $(if $(filter p2v/% fixup/%,$(1)),$$(LIBP2V)) $(if $(filter v2p/%,$(1)),$$(LIBV2P)) $$(LIBIMAGING)
	@mkdir -p bin
	$$(CC) $$(ALL_CFLAGS) $$(ALL_LDFLAGS) -o $$@ $$^ $$(LIBS)
$(1)/%.o: $(1)/%.c $$(wildcard $(1)/*.h) $$(wildcard imaging/*.h) $(if $(filter p2v/% fixup/%,$(1)),$$(wildcard p2v/common/*.h)) $(if $(filter fixup/%,$(1)),$$(wildcard fixup/*.h)) $(if $(filter v2p/%,$(1)),$$(wildcard v2p/common/*.h))
	$$(CC) $$(ALL_CFLAGS) -I$(1) $(if $(filter p2v/% fixup/%,$(1)),$$(P2V_CFLAGS)) $(if $(filter fixup/%,$(1)),$$(FIXUP_CFLAGS)) $(if $(filter v2p/%,$(1)),$$(V2P_CFLAGS)) -c -o $$@ $$<
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))

bin/p2v-make-iso: $(ISO_FILES)
	@mkdir -p bin
	P2V_VERSION=$(VERSION) p2v/iso/p2v-make-iso --bundle $@

tests/unit/test-%: tests/unit/test-%.c $(wildcard tests/unit/*.h) $(LIBFIXUP) $(LIBP2V) $(LIBIMAGING) \
  $(wildcard p2v/common/*.h) $(wildcard fixup/*.h)
	$(CC) $(ALL_CFLAGS) $(P2V_CFLAGS) $(FIXUP_CFLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.c %.a,$^) $(LIBS)

deps:
	scripts/deps check

# The build runs in a second make, after deps: on a fresh machine the
# PKG_CFLAGS and PKG_LIBS above were computed before pkg-config and the
# libraries were installed.  The tests run TEST_JOBS at a time (one per
# CPU: most keep one busy).
TEST_JOBS ?= $(shell nproc)

check: deps
	$(MAKE) all
	tests/run-tests -j $(TEST_JOBS)

check-fast: deps
	$(MAKE) all
	tests/run-tests --fast -j $(TEST_JOBS)

check-valgrind: deps
	$(MAKE) all
	VG="valgrind --quiet --error-exitcode=119 --leak-check=full --errors-for-leak-kinds=definite \
	  --suppressions=$(CURDIR)/tests/valgrind.supp" \
	  tests/run-tests --fast

check-asan: deps
	$(MAKE) clean
	$(MAKE) all EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined"
	ASAN_OPTIONS=detect_leaks=1:suppressions=$(CURDIR)/tests/asan.supp \
	  UBSAN_OPTIONS=halt_on_error=1 tests/run-tests --fast
	$(MAKE) clean

C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]')

lint:
	clang-format-16 --dry-run --Werror $(C_FILES)

format:
	clang-format-16 -i $(C_FILES)

FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,tests/fuzz/%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_CFLAGS = -std=gnu11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -DP2V_VERSION='"$(VERSION)"' \
	-Iimaging $(P2V_CFLAGS) $(FIXUP_CFLAGS) $(SCHEMA_CFLAGS) -g -O1 \
	-fsanitize=fuzzer,address,undefined $(PKG_CFLAGS)
FUZZ_SECONDS ?= 60

# imaging/, p2v/common/ and fixup/ built for fuzzing, as archives: each target
# links only the objects it uses (a target that does not collect an
# inventory does not load libparted, whose start-up code trips ASan on
# machines without DMI tables).
FUZZ_OBJDIR = tests/fuzz/obj
FUZZ_IMAGING_OBJS = $(patsubst %.c,$(FUZZ_OBJDIR)/%.o,$(IMAGING_SRCS))
FUZZ_P2V_OBJS = $(patsubst %.c,$(FUZZ_OBJDIR)/%.o,$(P2V_SRCS))
FUZZ_FIXUP_OBJS = $(patsubst %.c,$(FUZZ_OBJDIR)/%.o,$(FIXUP_SRCS))
FUZZ_ARCHIVES = $(FUZZ_OBJDIR)/libfixup.a $(FUZZ_OBJDIR)/libp2v.a \
	$(FUZZ_OBJDIR)/libimaging.a

$(FUZZ_OBJDIR)/%.o: %.c $(wildcard imaging/*.h p2v/common/*.h fixup/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_OBJDIR)/p2v/common/inventory-schema.o: $(INVENTORY_SCHEMA)
$(FUZZ_OBJDIR)/p2v/common/builtin-files.o: $(DOMAIN_TEMPLATE) $(FIXUP_REPORT_SCHEMA)

$(FUZZ_OBJDIR)/libimaging.a: $(FUZZ_IMAGING_OBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_OBJDIR)/libp2v.a: $(FUZZ_P2V_OBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_OBJDIR)/libfixup.a: $(FUZZ_FIXUP_OBJS)
	rm -f $@
	ar rcs $@ $^

tests/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_ARCHIVES)
	clang $(FUZZ_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(FUZZ_ARCHIVES) $(LIBS)

fuzz: deps $(FUZZ_TARGETS)
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p $$t-work && \
	  $$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    $$(test -f $$t.dict && echo -dict=$$t.dict) $$t-work $$t-corpus || exit 1; \
	done

bench: deps
	scripts/deps check bench
	$(MAKE) all
	bench/imaging.sh
	bench/stream.sh
	bench/fixup.sh
	bench/precopy.sh

demo: deps
	$(MAKE) all
	scripts/demo

iso: deps
	$(MAKE) all
	bin/p2v-make-iso -v --force --out $(ISO)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BINS) $(SCRIPTS) $(DESTDIR)$(BINDIR)
	install -m 644 $(MANS) $(DESTDIR)$(MANDIR)/man1

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(BINS) $(SCRIPTS))) \
	  $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MANS)))

clean:
	rm -f imaging/*.o imaging/*.a p2v/common/*.o p2v/common/*.a \
	  v2p/common/*.o v2p/common/*.a fixup/*.o fixup/*.a $(foreach p,$(PROGRAMS),$(word 1,$(subst :, ,$(p)))/*.o) \
	  $(BINS) $(SCRIPTS) $(UNIT_BINS) $(FUZZ_TARGETS)
	rm -rf tests/fuzz/*-work $(FUZZ_OBJDIR)
