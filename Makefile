# khyve: bhyve's monitor on Linux KVM.
#
#   make            build build/khyve
#   make check      build and run every test; ends with "N passed, N failed"
#   make demo       boot a Linux guest to a shell (see README.md)
#   make fuzz       build the libFuzzer targets (clang)
#   make fuzz-smoke every fuzz target over its seeds plus 2000 inputs
#   make fuzz-long SECONDS=N [TARGETS="virtqueue ..."]  a fuzzing campaign
#   make bench      run the benchmarks (QUICK=1 for a short run)
#   make chaos      the hostile guest, one seed (SEED=1, N=1000000 accesses)
#   make check SANITIZE=address,undefined
#                   the same under ASan and UBSan, in build-san/

CC	?= cc
FUZZCC	?= clang

# --- hardening and sanitizers (docs/testing.md#the-hardened-build) -------
# Every build is hardened: fortified libc calls, stack protector and
# stack-clash probes, CET (IBT and shadow-stack notes), PIE with full
# RELRO and a non-executable stack; tests/harden/run.sh checks the
# binaries for each.  SANITIZE=LIST builds everything with
# -fsanitize=LIST into its own directory instead, without _FORTIFY_SOURCE
# (its checks and ASan's interceptors get in each other's way) and with
# khyve linked dynamically (ASan has no static runtime).
HARDEN_CFLAGS = -fstack-protector-strong -fstack-clash-protection \
	-fcf-protection -fPIE
HARDEN_LDFLAGS = -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack
ifneq ($(SANITIZE),)
BUILD	?= build-san
CFLAGS	?= -O1 -g
# clang unless CC is given: gcc links ASan and UBSan as two runtimes,
# and UBSan's reports then ignore log_path (GCC PR 94328), which the
# tests rely on (tests/san.sh).
ifeq ($(origin CC),default)
CC	= clang
endif
SAN_FLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
# clang counts libseccomp's SCMP_A0_32(op, datum) as an initializer with
# a field missing; the gcc build keeps that warning for our own code.
HARDEN_CFLAGS += $(SAN_FLAGS) -DKHYVE_SANITIZE -Wno-missing-field-initializers
HARDEN_LDFLAGS += $(SAN_FLAGS)
KHYVE_LDFLAGS ?=
else
HARDEN_CFLAGS += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3
# The monitor itself is linked statically (as a static PIE): no dynamic
# loader at start-up and about 1.3 MB less resident memory.
KHYVE_LDFLAGS ?= -static-pie
endif
# --- end of hardening ------------------------------------------------------

BUILD	?= build

WARNINGS = -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wmissing-prototypes -Wstrict-prototypes -Wshadow -Wformat=2 \
	-Wpointer-arith -Wundef -Wvla -Wwrite-strings -Wold-style-definition \
	-Wmissing-declarations -Wnested-externs -Wimplicit-fallthrough
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE -pthread $(WARNINGS) -Isrc -MMD -MP
CFLAGS	+= $(HARDEN_CFLAGS)
LDFLAGS	+= -pthread
LDFLAGS	+= $(HARDEN_LDFLAGS)
LDLIBS	+= -lz -llzma -llz4 -lzstd -lbz2 -llzo2 -luring -lseccomp

SRCS	:= $(sort $(shell find src -name '*.c'))
LIBSRCS	:= $(filter-out src/main.c,$(SRCS))
LIBOBJS	:= $(LIBSRCS:%.c=$(BUILD)/%.o)

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_SUPPORT := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
UNIT_SUPPORT_OBJS := $(UNIT_SUPPORT:%.c=$(BUILD)/%.o)

FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz/%)

all: $(BUILD)/khyve

$(BUILD)/khyve: $(BUILD)/src/main.o $(BUILD)/libkhyve.a
	$(CC) $(LDFLAGS) $(KHYVE_LDFLAGS) -o $@ $(BUILD)/src/main.o \
	    -Wl,--whole-archive $(BUILD)/libkhyve.a -Wl,--no-whole-archive $(LDLIBS)

$(BUILD)/libkhyve.a: $(LIBOBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# Unit tests link the objects they use from the library (a test that
# needs a device's linker-set entry names the device's ops table), plus
# the fakes in tests/unit/.
$(BUILD)/tests/%: tests/unit/%.c $(UNIT_SUPPORT_OBJS) $(BUILD)/libkhyve.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(UNIT_SUPPORT_OBJS) \
	    $(BUILD)/libkhyve.a $(LDLIBS)

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -c -o $@ $<

unit: $(UNIT_BINS)

# libFuzzer targets: the library is rebuilt with clang and sanitizers.
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread -g -O1 -Isrc \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJS := $(LIBSRCS:%.c=$(BUILD)/fuzzobj/%.o)
$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZCC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
$(BUILD)/libkhyve-fuzz.a: $(FUZZ_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^
# The fake machine and the test virtio driver (tests/unit/) come along.
FUZZ_SUPPORT := $(BUILD)/fuzzobj/tests/unit/fake.o \
	$(BUILD)/fuzzobj/tests/unit/vdriver.o $(BUILD)/fuzzobj/tests/unit/fake_netbe.o
$(BUILD)/fuzz/%: fuzz/%.c $(BUILD)/libkhyve-fuzz.a $(FUZZ_SUPPORT)
	@mkdir -p $(@D)
	$(FUZZCC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Itests/unit -o $@ $< \
	    $(FUZZ_SUPPORT) $(BUILD)/libkhyve-fuzz.a $(LDLIBS)
fuzz: $(FUZZ_BINS)

# The same targets built with the normal compiler and no libFuzzer, with
# fuzz/replay.c as main(): the unit tests replay fuzz/corpus/NAME (the
# seeds and the inputs of fixed crashes) through them.
REPLAY_BINS := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/replay/%)
REPLAY_SUPPORT := $(BUILD)/fuzz/replay.o $(BUILD)/tests/unit/fake.o \
	$(BUILD)/tests/unit/vdriver.o $(BUILD)/tests/unit/fake_netbe.o
$(BUILD)/replay/%: fuzz/%.c $(REPLAY_SUPPORT) $(BUILD)/libkhyve.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(REPLAY_SUPPORT) \
	    $(BUILD)/libkhyve.a $(LDLIBS)
unit: $(REPLAY_BINS)

# Campaigns (docs/testing.md#fuzzing): SECONDS per target, one target at
# a time, on the persistent corpora in $(BUILD)/fuzz-corpus.
SECONDS ?= 600
fuzz-smoke: fuzz
	@tests/fuzz/smoke.sh $(BUILD) $(TARGETS)
fuzz-long: fuzz
	@tests/fuzz/long.sh $(BUILD) $(SECONDS) $(TARGETS)

# --- slirp: the user-mode network helper (khyve-slirp) -------------------
# A program of its own, linked dynamically with libslirp (and the glib it
# brings): libslirp parses the guest's packets outside the monitor, and
# the statically linked khyve never links it.  It shares only the control
# protocol (src/backend/net_slirp_proto.c) with khyve.  `all` (and so
# check and demo) builds it; the slirp unit test runs it.
SLIRP_HELPER := $(BUILD)/khyve-slirp
SLIRP_HELPER_OBJS := $(BUILD)/helper/khyve-slirp.o \
	$(BUILD)/src/backend/net_slirp_proto.o $(BUILD)/src/sandbox.o
SLIRP_HELPER_LIBS := -lslirp -lseccomp
all: $(SLIRP_HELPER)
$(SLIRP_HELPER): $(SLIRP_HELPER_OBJS)
	$(CC) $(LDFLAGS) -o $@ $(SLIRP_HELPER_OBJS) $(SLIRP_HELPER_LIBS)
$(BUILD)/tests/test_net_slirp: $(SLIRP_HELPER)
# --- end of slirp ----------------------------------------------------------

GUEST_MK = tests/guest/guest.mk
-include $(GUEST_MK)

# check and demo first install what the build and the tests need
# (scripts/deps.sh: quiet when everything is there), then build.
deps:
	@scripts/deps.sh

# make check also runs the unit and guest tests under ASan and UBSan,
# from a build of their own (SAN_BUILD; CHECK_SANITIZE= leaves them out);
# make check SANITIZE=LIST runs the whole suite that way instead.
CHECK_SANITIZE ?= address,undefined
SAN_BUILD ?= build-san
check: deps
	@$(MAKE) --no-print-directory all unit fuzz guests
ifeq ($(SANITIZE)$(if $(CHECK_SANITIZE),,none),)
	@$(MAKE) --no-print-directory SANITIZE=$(CHECK_SANITIZE) \
	    BUILD=$(SAN_BUILD) all unit guests
	@tests/run-all.sh $(BUILD) $(SAN_BUILD)
else
	@tests/run-all.sh $(BUILD)
endif

# The hostile guest alone, one seed, as many accesses as asked
# (docs/testing.md, "The chaos guest"): make chaos SEED=7 N=10000000.
SEED	?= 1
N	?= 1000000
chaos: all guests
	@tests/guest/chaos.sh $(BUILD) $(SEED) $(N)

# The Linux boot tests alone, whatever the host (slow on PVM hosts).
check-linux: all
	@tests/linux/run.sh $(BUILD) | \
	    tee $(BUILD)/check-linux.log; \
	    echo "$$(grep -c '^PASS ' $(BUILD)/check-linux.log) passed, $$(grep -c '^FAIL ' $(BUILD)/check-linux.log) failed, $$(grep -c '^SKIP ' $(BUILD)/check-linux.log) skipped"; \
	    ! grep -q '^FAIL ' $(BUILD)/check-linux.log

bench: all guests $(BUILD)/bench/blk_host $(BUILD)/bench/net_host
	@bench/run.sh $(BUILD) $(if $(QUICK),quick,full)

# The host disk figures, raw and through blockif (run by hand:
# build/bench/blk_host -h for its options).
$(BUILD)/bench/blk_host: bench/blk_host.c $(BUILD)/libkhyve.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libkhyve.a $(LDLIBS)

# The host end of the network figures: UDP sink and source
# (build/bench/net_host with no arguments for its usage).
$(BUILD)/bench/net_host: bench/net_host.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# khyve's status 0 (guest reboot) and 1 (guest poweroff) are normal ends.
demo: deps
	@$(MAKE) --no-print-directory all
	@tests/linux/demo.sh $(BUILD) || [ $$? -le 1 ]

clean:
	rm -rf $(BUILD)

.PHONY: all deps unit fuzz fuzz-smoke fuzz-long check check-linux chaos bench \
	demo clean guests
.DELETE_ON_ERROR:
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
