/*
 * linux64.h: the Linux 64-bit boot protocol entry state
 * (Documentation/arch/x86/boot.rst, "64-bit BOOT PROTOCOL"): long mode
 * with paging, the low 4 GiB identity-mapped, a GDT with flat __BOOT_CS
 * (0x10) and __BOOT_DS (0x18), interrupts off, %rsi = boot_params.
 *
 * Where it puts things (inside the boot area of layout.h, beside the PVH
 * structures of pvh.h, which share the GDT and command-line slots):
 *
 *	0x01000  GDT (pvh.h PVH_GDT_GPA)
 *	0x07000  boot_params, the "zero page" (4 KiB)
 *	0x08ff0  initial stack pointer (the kernel sets its own at once)
 *	0x09000  PML4; 0x0a000 PDPT; 0x0b000 - 0x0efff four page directories
 *	0x20000  command line (pvh.h PVH_CMDLINE_GPA)
 */
#ifndef LINUX64_H
#define LINUX64_H

#include <stdint.h>
#include "arch/x86/pvh.h"
#include "gmem.h"
#include "khyve.h"

#define LINUX_ZEROPAGE_GPA	0x7000ULL
#define LINUX_STACK_GPA		0x8ff0ULL
#define LINUX_PML4_GPA		0x9000ULL
#define LINUX_PDPT_GPA		0xa000ULL
#define LINUX_PD_GPA		0xb000ULL	/* 4 pages */
#define LINUX_CMDLINE_GPA	PVH_CMDLINE_GPA

/*
 * Write identity page tables for [0, 4 GiB) with 2 MiB pages and the boot
 * GDT, and fill *cpu with the 64-bit entry state: rip = entry, rsi =
 * zero_page.  Returns 0 or -EFAULT when the boot area is not RAM.
 */
int	linux64_setup(struct gmem *mem, uint64_t entry, uint64_t zero_page,
	    struct boot_cpu_state *cpu) __must_check;

#endif /* LINUX64_H */
