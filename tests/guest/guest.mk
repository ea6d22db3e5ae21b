# tests/guest/guest.mk: the test guests (included by the top Makefile).
#
#   make guests    build every tests/guest/NAME.c into $(BUILD)/guest/NAME.elf
#
# Each guest is linked with the kit in tests/guest/kit/ into a freestanding
# PVH ELF loaded at 1 MiB (see docs/testing.md); boot64 is the one entered
# through the Linux 64-bit boot protocol instead.  The host gcc builds
# them: no libc, no red zone (exceptions push on the current stack), no
# SSE (the kit saves only general registers), no stack protector (there is
# no %fs), no CET notes.

GUEST_DIR	:= tests/guest
GUEST_CC	?= gcc
GUEST_CFLAGS	:= -std=c11 -O2 -g -m64 -ffreestanding -fno-builtin \
	-fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
	-fno-stack-protector -fcf-protection=none \
	-fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns \
	$(WARNINGS) -I$(GUEST_DIR)/kit -MMD -MP
# The linker script, expanded at link time so that a guest can name its
# own; -L lets such a script INCLUDE guest.ld.
GUEST_LDSCRIPT	:= $(GUEST_DIR)/kit/guest.ld
GUEST_LDFLAGS	= -nostdlib -static -no-pie -Wl,-L,$(GUEST_DIR)/kit \
	-Wl,-T,$(GUEST_LDSCRIPT) \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096

KIT_SRCS	:= $(sort $(wildcard $(GUEST_DIR)/kit/*.c $(GUEST_DIR)/kit/*.S))
KIT_OBJS	:= $(KIT_SRCS:$(GUEST_DIR)/kit/%=$(BUILD)/guest/kit/%.o)
GUEST_SRCS	:= $(sort $(wildcard $(GUEST_DIR)/*.c))
GUEST_ELFS	:= $(GUEST_SRCS:$(GUEST_DIR)/%.c=$(BUILD)/guest/%.elf)

.PHONY: guests
guests: $(GUEST_ELFS)

$(BUILD)/guest/kit/%.c.o: $(GUEST_DIR)/kit/%.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(BUILD)/guest/kit/%.S.o: $(GUEST_DIR)/kit/%.S
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(BUILD)/guest/%.o: $(GUEST_DIR)/%.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(BUILD)/guest/%.elf: $(BUILD)/guest/%.o $(KIT_OBJS) $(GUEST_DIR)/kit/guest.ld
	$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $< $(KIT_OBJS)

# boot64 is entered through the Linux 64-bit boot protocol, not PVH: its
# script includes guest.ld without the kit's PVH note and names the
# guest's own 64-bit entry.
$(BUILD)/guest/boot64.elf: GUEST_LDSCRIPT := $(GUEST_DIR)/boot64.ld
$(BUILD)/guest/boot64.elf: $(GUEST_DIR)/boot64.ld

.PRECIOUS: $(BUILD)/guest/%.o $(BUILD)/guest/kit/%.o
