/*
 * pvh.h: the Xen PVH direct boot ABI, which Linux (CONFIG_PVH), FreeBSD
 * and several unikernels implement: the kernel is entered in 32-bit
 * protected mode at the address of its XEN_ELFNOTE_PHYS32_ENTRY note
 * with %ebx pointing at a struct hvm_start_info.
 *
 * Sources: Xen xen/include/public/arch-x86/hvm/start_info.h (structures)
 * and docs/misc/pvh.pandoc (CPU state); QEMU hw/i386/x86.c and Firecracker
 * src/vmm/src/arch/x86_64 for how a loader without Xen fills them.
 *
 * Also here: struct boot_cpu_state, the neutral description of a boot
 * vCPU's registers that the KVM layer copies into kvm_regs/kvm_sregs.
 *
 * Where pvh_setup() puts things (all inside the boot area of layout.h):
 *
 *	0x01000 - 0x0103f  GDT: 0x10 code, 0x18 data, 0x20 TSS
 *	0x02000 - 0x02037  struct hvm_start_info
 *	0x02040 - 0x0205f  module list (one entry: the initrd)
 *	0x03000 - 0x03bff  memory map (up to PVH_MEMMAP_MAX entries)
 *	0x04000 - 0x1ffff  unused by PVH (room for other boot paths)
 *	0x20000 - 0x2ffff  command line, NUL-terminated
 */
#ifndef PVH_H
#define PVH_H

#include <stdint.h>
#include "arch/x86/e820.h"
#include "gmem.h"
#include "khyve.h"

#define XEN_HVM_START_MAGIC_VALUE 0x336ec578	/* "xEn3" | 0x80 in 'E' */
#define PVH_START_INFO_VERSION	1		/* memmap fields present */

#define PVH_GDT_GPA		0x1000ULL
#define PVH_GDT_ENTRIES		8		/* 0x00 .. 0x38 */
#define PVH_START_INFO_GPA	0x2000ULL
#define PVH_MODLIST_GPA		0x2040ULL
#define PVH_MEMMAP_GPA		0x3000ULL
#define PVH_MEMMAP_MAX		128
#define PVH_CMDLINE_GPA		0x20000ULL
#define PVH_CMDLINE_MAX		(64 * KiB)	/* bytes, NUL included */
#define PVH_AREA_END		(PVH_CMDLINE_GPA + PVH_CMDLINE_MAX)

/* Selectors of the boot GDT (the Linux boot protocol's __BOOT_CS/DS). */
#define BOOT_SEL_CS		0x10
#define BOOT_SEL_DS		0x18
#define BOOT_SEL_TSS		0x20

/* Guest-visible structures: all fields little-endian, no padding. */
struct hvm_start_info {
	uint32_t	magic;		/* XEN_HVM_START_MAGIC_VALUE */
	uint32_t	version;	/* PVH_START_INFO_VERSION */
	uint32_t	flags;		/* SIF_xxx; 0 */
	uint32_t	nr_modules;	/* entries at modlist_paddr */
	uint64_t	modlist_paddr;	/* struct hvm_modlist_entry[] */
	uint64_t	cmdline_paddr;	/* NUL-terminated; 0 = none */
	uint64_t	rsdp_paddr;	/* ACPI RSDP; 0 = none */
	uint64_t	memmap_paddr;	/* struct hvm_memmap_table_entry[] */
	uint32_t	memmap_entries;	/* 0 = no map (version >= 1) */
	uint32_t	reserved;	/* 0 */
};

struct hvm_modlist_entry {
	uint64_t	paddr;		/* module's first byte */
	uint64_t	size;		/* bytes */
	uint64_t	cmdline_paddr;	/* module's command line; 0 = none */
	uint64_t	reserved;	/* 0 */
};

struct hvm_memmap_table_entry {
	uint64_t	addr;		/* base */
	uint64_t	size;		/* bytes */
	uint32_t	type;		/* E820_RAM ... (e820.h) */
	uint32_t	reserved;	/* 0 */
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "start_info.h layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "start_info.h layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24,
    "start_info.h layout");

struct pvh_params {
	const char	*cmdline;	/* NULL or "" = empty command line */
	uint64_t	initrd_gpa;	/* module 0, already in guest RAM */
	uint64_t	initrd_size;	/* 0 = no module */
	uint64_t	rsdp_gpa;	/* 0 = no ACPI tables */
	const struct e820_entry *e820;	/* memory map for the guest */
	int		ne820;		/* entries, 1..PVH_MEMMAP_MAX */
};

/*
 * Write the GDT, hvm_start_info, module list, memory map and command line
 * at the addresses above and return the start_info address in
 * *start_info_gpa (for %ebx).  Writes nothing outside [PVH_GDT_GPA,
 * PVH_AREA_END).  Returns 0; -E2BIG for a command line of
 * PVH_CMDLINE_MAX bytes or more; -EINVAL for an e820 count outside
 * 1..PVH_MEMMAP_MAX, or an initrd that wraps, is not RAM or overlaps
 * the PVH area; -EFAULT when the boot area is not RAM.
 */
int	pvh_setup(struct gmem *mem, const struct pvh_params *p,
	    uint64_t *start_info_gpa) __must_check;

/* One segment register, in the form of struct kvm_segment. */
struct boot_seg {
	uint64_t	base;
	uint32_t	limit;		/* in bytes: 0xffffffff when g = 1 */
	uint16_t	selector;
	uint8_t		type;		/* descriptor type field, 0..15 */
	uint8_t		s;		/* 1 code/data, 0 system */
	uint8_t		dpl;
	uint8_t		present;
	uint8_t		db;		/* 32-bit default size */
	uint8_t		l;		/* 64-bit code */
	uint8_t		g;		/* limit in 4 KiB units */
	uint8_t		unusable;	/* not loaded (LDTR, null selectors) */
};

#define BOOT_MODE_PROT32	1	/* flat 32-bit, paging off */
#define BOOT_MODE_LONG64	2	/* long mode, identity paging at cr3 */

/* Everything the KVM layer loads into the boot vCPU; the rest is 0. */
struct boot_cpu_state {
	int		mode;		/* BOOT_MODE_* */
	uint64_t	rip;
	uint64_t	rsp;
	uint64_t	rbx;		/* PVH: start_info address */
	uint64_t	rsi;		/* Linux boot protocol: zero page */
	uint64_t	rflags;		/* 0x2: only the fixed bit */
	uint64_t	cr0;
	uint64_t	cr3;
	uint64_t	cr4;
	uint64_t	efer;
	uint64_t	gdt_base;
	uint16_t	gdt_limit;
	uint64_t	idt_base;
	uint16_t	idt_limit;
	struct boot_seg	cs, ds, es, fs, gs, ss;
	struct boot_seg	tr;		/* busy 32-bit TSS */
	struct boot_seg	ldt;		/* unusable */
};

#define BOOT_CR0_PE		0x00000001ULL
#define BOOT_RFLAGS_FIXED	0x00000002ULL

/*
 * The vCPU state the PVH ABI requires at entry (pvh.pandoc, "x86/HVM
 * direct boot ABI"): rip = entry, rbx = start_info; cr0 = PE only; cr4 =
 * 0; cs a flat 32-bit execute/read segment (selector 0x10); ds, es, ss
 * (and fs, gs) flat 32-bit read/write segments (0x18); tr a busy 32-bit
 * TSS with base 0, limit 0x67 (0x20); eflags 0x2 (IF, TF and VM clear);
 * the GDT register at PVH_GDT_GPA, IDT limit 0, rsp 0.  Never fails.
 */
void	pvh_cpu_state(uint64_t entry, uint64_t start_info,
	    struct boot_cpu_state *cpu);

/* The 8-byte GDT descriptor for seg (Intel SDM vol. 3A, 3.4.5). */
uint64_t boot_seg_descriptor(const struct boot_seg *seg);

/*
 * Write a GDT at gdt_gpa holding the descriptors of cpu's cs, ds and tr
 * at their selectors (the other data segments must share ds's
 * selector), all else zero, so a guest that reloads a selector from the
 * GDT gets the state it was started with.  nent entries are written.
 * Returns 0, -EINVAL (a selector outside the table or clashing), or
 * -EFAULT.
 */
int	boot_gdt_write(struct gmem *mem, uint64_t gdt_gpa, unsigned nent,
	    const struct boot_cpu_state *cpu) __must_check;

#endif /* PVH_H */
