/*
 * boot64: the Linux 64-bit boot protocol, as khyve enters an ELF64 kernel
 * that has no PVH note (docs/boot.md "The 64-bit boot protocol").
 *
 * Linux Documentation/arch/x86/boot.rst, "64-bit BOOT PROTOCOL": at entry
 * the CPU is in 64-bit mode with paging on, the kernel, zero page and
 * command line identity-mapped, a GDT with flat __BOOT_CS (0x10,
 * execute/read) and __BOOT_DS (0x18, read/write), CS = __BOOT_CS, DS = ES
 * = SS = __BOOT_DS, interrupts off, and %rsi = the struct boot_params.
 *
 * The guest links with boot64.ld: the kit's layout without its PVH note,
 * entered at boot64_start below instead of the kit's pvh_start32.  That
 * entry records the state it was given, then moves to the kit's GDT, page
 * tables and stack and runs kit_start(); the body checks the record, the
 * loader's page tables and GDT, and the zero page (boot.rst "THE
 * REAL-MODE KERNEL HEADER", zeropage.rst) against what the runner passes:
 *
 *   zeropage=ADDR   where %rsi must point (docs/boot.md: 0x7000)
 *   cmdline_pa=ADDR where cmd_line_ptr must point (0x20000)
 *   memsize=SIZE    the -m the VM was given (below 3 GiB)
 *
 * It prints the command line it found; the runner checks the string.
 */
#include "kit.h"

#define STR_(x)		#x
#define STR(x)		STR_(x)

#define MiB		(1ULL << 20)
#define GiB		(1ULL << 30)

#define CR0_PE		(1ULL << 0)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define MSR_EFER	0xc0000080

#define BOOT_CS		0x10		/* boot.rst __BOOT_CS */
#define BOOT_DS		0x18		/* boot.rst __BOOT_DS */

/* Paging structures (Intel SDM vol. 3A §4.5, tables 4-14 to 4-20). */
#define PTE_P		0x001ULL
#define PTE_RW		0x002ULL
#define PTE_PS		0x080ULL
#define PTE_ADDR	0x000ffffffffff000ULL
#define NOT_MAPPED	(~0ULL)

/* struct boot_params offsets (zeropage.rst; boot.rst for the header). */
#define ZP_ACPI_RSDP_ADDR	0x070	/* u64 */
#define ZP_EXT_CMD_LINE_PTR	0x0c8	/* u32, bits 63:32 */
#define ZP_E820_ENTRIES		0x1e8	/* u8 */
#define ZP_SENTINEL		0x1ef	/* u8, 0 from a loader that zeroes */
#define ZP_BOOT_FLAG		0x1fe	/* u16, 0xaa55 */
#define ZP_HEADER		0x202	/* "HdrS" */
#define ZP_VERSION		0x206	/* u16 */
#define ZP_TYPE_OF_LOADER	0x210	/* u8, 0xff: no assigned id */
#define ZP_RAMDISK_IMAGE	0x218	/* u32 */
#define ZP_RAMDISK_SIZE		0x21c	/* u32 */
#define ZP_CMD_LINE_PTR		0x228	/* u32 */
#define ZP_CMDLINE_SIZE		0x238	/* u32, excludes the NUL */
#define ZP_E820_TABLE		0x2d0	/* struct boot_e820_entry[128] */
#define ZP_E820_MAX		128	/* E820_MAX_ENTRIES_ZEROPAGE */
#define ZP_SIZE			4096

#define E820_RAM		1
#define E820_RESERVED		2

/* docs/boot.md "The memory map": RAM stops below the EBDA. */
#define EBDA_START		0x9fc00ULL
#define LOW_1M			(1 * MiB)

struct boot_e820_entry {		/* bootparam.h */
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/*
 * What boot64_start found, before it changed anything: one 8-byte slot
 * each (selectors and the GDT limit zero-extended).  In .data, not .bss:
 * the entry fills it before it zeroes .bss.
 */
#define ENT_RSI		0
#define ENT_RFLAGS	1
#define ENT_CR0		2
#define ENT_CR3		3
#define ENT_CR4		4
#define ENT_EFER	5
#define ENT_GDT_BASE	6
#define ENT_GDT_LIMIT	7
#define ENT_CS		8
#define ENT_SS		9
#define ENT_DS		10
#define ENT_ES		11
#define ENT_FS		12
#define ENT_GS		13
#define ENT_N		14

extern uint64_t boot64_entry[ENT_N];
uint64_t boot64_entry[ENT_N] __attribute__((section(".data")));

#define SLOT(i)		"boot64_entry + 8 * " STR(i)
#define SAVE(what, i)	"\t" what ", " SLOT(i) "\n"

/*
 * The entry: record the registers first (RSI before anything, RFLAGS on
 * a stack of our own, as the protocol promises none), then switch to the
 * kit's GDT (kit_gdt, entry.S: its last descriptor is the 16-byte TSS at
 * SEL_TSS) with a far return, the kit's page tables, zero .bss and go on
 * as the kit's PVH entry does, without start_info.
 */
__asm__(
	"\t.pushsection .text, \"ax\"\n"
	"\t.code64\n"
	"\t.globl boot64_start\n"
	"boot64_start:\n"
	SAVE("movq %rsi", ENT_RSI)
	"\tmovq $boot_stack_top, %rsp\n"
	"\tpushfq\n"
	"\tpopq " SLOT(ENT_RFLAGS) "\n"
	"\tcli\n"
	"\tcld\n"
	"\tmovq %cr0, %rax\n"
	SAVE("movq %rax", ENT_CR0)
	"\tmovq %cr3, %rax\n"
	SAVE("movq %rax", ENT_CR3)
	"\tmovq %cr4, %rax\n"
	SAVE("movq %rax", ENT_CR4)
	"\tmovl $" STR(MSR_EFER) ", %ecx\n"
	"\trdmsr\n"
	SAVE("movl %eax", ENT_EFER)
	"\tmovl %edx, " SLOT(ENT_EFER) " + 4\n"
	"\tsubq $16, %rsp\n"
	"\tsgdt (%rsp)\n"			/* 2-byte limit, 8-byte base */
	"\tmovzwl (%rsp), %eax\n"
	SAVE("movq %rax", ENT_GDT_LIMIT)
	"\tmovq 2(%rsp), %rax\n"
	SAVE("movq %rax", ENT_GDT_BASE)
	"\taddq $16, %rsp\n"
	SAVE("movw %cs", ENT_CS)
	SAVE("movw %ss", ENT_SS)
	SAVE("movw %ds", ENT_DS)
	SAVE("movw %es", ENT_ES)
	SAVE("movw %fs", ENT_FS)
	SAVE("movw %gs", ENT_GS)
	"\tlgdt boot64_kit_gdtr\n"
	"\tpushq $" STR(SEL_KCODE) "\n"
	"\tpushq $1f\n"
	"\tlretq\n"
	"1:\tmovl $" STR(SEL_KDATA) ", %eax\n"
	"\tmovl %eax, %ds\n"
	"\tmovl %eax, %es\n"
	"\tmovl %eax, %ss\n"
	"\txorl %eax, %eax\n"
	"\tmovl %eax, %fs\n"
	"\tmovl %eax, %gs\n"
	"\tmovq $pml4, %rax\n"
	"\tmovq %rax, %cr3\n"
	"\tmovq $__bss_start, %rdi\n"
	"\tmovq $__bss_end, %rcx\n"
	"\tsubq %rdi, %rcx\n"
	"\tshrq $3, %rcx\n"
	"\txorl %eax, %eax\n"
	"\trep stosq\n"
	"\txorl %ebp, %ebp\n"
	"\txorl %edi, %edi\n"		/* no start_info */
	"\tcall kit_start\n"
	"2:\tcli\n"
	"\thlt\n"
	"\tjmp 2b\n"
	"\t.popsection\n"
	"\t.pushsection .data, \"aw\"\n"
	"\t.balign 8\n"
	"\t.word 0, 0, 0\n"
	"boot64_kit_gdtr:\n"
	"\t.word " STR(SEL_TSS) " + 16 - 1\n"
	"\t.quad kit_gdt\n"
	"\t.popsection\n");

static const uint8_t *zp;		/* the zero page, once validated */

static uint32_t
zp32(unsigned off)
{
	uint32_t v;

	memcpy(&v, zp + off, sizeof(v));
	return (v);
}

static uint64_t
zp64(unsigned off)
{
	uint64_t v;

	memcpy(&v, zp + off, sizeof(v));
	return (v);
}

/*
 * va through the 4-level tables at cr3 (SDM vol. 3A §4.5): the physical
 * address, or NOT_MAPPED unless every level is present and writable.
 */
static uint64_t
walk(uint64_t cr3, uint64_t va)
{
	uint64_t table = cr3 & PTE_ADDR, e, mask;
	unsigned shift;

	for (shift = 39; shift >= 12; shift -= 9) {
		if (table >= 4 * GiB)
			return (NOT_MAPPED);
		e = ((const uint64_t *)(uintptr_t)table)[(va >> shift) & 511];
		if ((e & (PTE_P | PTE_RW)) != (PTE_P | PTE_RW))
			return (NOT_MAPPED);
		mask = (1ULL << shift) - 1;
		if (shift == 12 || (shift <= 30 && (e & PTE_PS)))
			return ((e & PTE_ADDR & ~mask) | (va & mask));
		table = e & PTE_ADDR;
	}
	return (NOT_MAPPED);
}

/*
 * A flat 4 GiB segment descriptor (SDM vol. 3A §3.4.5, figure 3-8): base
 * 0, limit 0xfffff in 4 KiB units, present, code or data (S = 1).
 */
static void
check_flat(uint64_t d, const char *what)
{
	uint64_t base = ((d >> 16) & 0xffffff) | ((d >> 56) << 24);
	uint64_t limit = (d & 0xffff) | (((d >> 48) & 0xf) << 16);

	printf("GDT %s: 0x%016lx\n", what, d);
	GCHECK_EQ(base, 0);
	GCHECK_EQ(limit, 0xfffff);
	GCHECK(d & (1ULL << 55));		/* G */
	GCHECK(d & (1ULL << 47));		/* P */
	GCHECK(d & (1ULL << 44));		/* S: code or data */
}

static void
check_cpu(void)
{
	const uint64_t *e = boot64_entry, cr3 = e[ENT_CR3];
	const uint64_t *gdt = (const uint64_t *)(uintptr_t)e[ENT_GDT_BASE];
	int gdt_ok = e[ENT_GDT_LIMIT] >= BOOT_DS + 7 &&
	    e[ENT_GDT_BASE] < 4 * GiB;
	uint64_t va, cs, ds;
	unsigned bad = 0;

	printf("entry: rsi 0x%lx cs 0x%lx ss 0x%lx ds 0x%lx es 0x%lx fs 0x%lx "
	    "gs 0x%lx rflags 0x%lx\n", e[ENT_RSI], e[ENT_CS], e[ENT_SS],
	    e[ENT_DS], e[ENT_ES], e[ENT_FS], e[ENT_GS], e[ENT_RFLAGS]);
	printf("entry: cr0 0x%lx cr3 0x%lx cr4 0x%lx efer 0x%lx gdt 0x%lx "
	    "limit 0x%lx\n", e[ENT_CR0], cr3, e[ENT_CR4], e[ENT_EFER],
	    e[ENT_GDT_BASE], e[ENT_GDT_LIMIT]);
	GCHECK_EQ(e[ENT_CS], BOOT_CS);
	GCHECK_EQ(e[ENT_DS], BOOT_DS);
	GCHECK_EQ(e[ENT_ES], BOOT_DS);
	GCHECK_EQ(e[ENT_SS], BOOT_DS);
	GCHECK_EQ(e[ENT_RFLAGS] & RFLAGS_IF, 0);
	GCHECK_EQ(e[ENT_CR0] & (CR0_PE | CR0_PG), CR0_PE | CR0_PG);
	GCHECK_EQ(e[ENT_CR4] & CR4_PAE, CR4_PAE);
	GCHECK_EQ(e[ENT_EFER] & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);

	/* __BOOT_CS: 64-bit code (L = 1, D = 0), execute/read. */
	GCHECK(gdt_ok);
	if (gdt_ok) {
		cs = gdt[BOOT_CS / 8];
		ds = gdt[BOOT_DS / 8];
		check_flat(cs, "__BOOT_CS");
		GCHECK_EQ((cs >> 40) & 0xa, 0xa);	/* code, readable */
		GCHECK_EQ((cs >> 53) & 3, 1);		/* L = 1, D = 0 */
		check_flat(ds, "__BOOT_DS");
		GCHECK_EQ((ds >> 40) & 0xa, 0x2);	/* data, writable */
	}

	/* The loader's tables map [0, 4 GiB) 1:1, writable. */
	for (va = 0; va < 4 * GiB; va += 2 * MiB) {
		if (walk(cr3, va) != va ||
		    walk(cr3, va + 2 * MiB - 1) != va + 2 * MiB - 1) {
			if (bad++ < 4)
				printf("cr3 0x%lx: 0x%lx maps to 0x%lx\n",
				    cr3, va, walk(cr3, va));
		}
	}
	printf("identity map [0, 4 GiB) through cr3: %u of 2048 2 MiB "
	    "ranges wrong\n", bad);
	GCHECK_EQ(bad, 0);
}

static const struct boot_e820_entry *
e820_at(unsigned i)
{
	return ((const struct boot_e820_entry *)(uintptr_t)(zp +
	    ZP_E820_TABLE) + i);
}

/* The e820 entry of type type that holds all of [a, a + len), or NULL. */
static const struct boot_e820_entry *
e820_find(uint64_t a, uint64_t len, uint32_t type)
{
	const struct boot_e820_entry *e;
	unsigned i;

	for (i = 0; i < zp[ZP_E820_ENTRIES] && i < ZP_E820_MAX; i++) {
		e = e820_at(i);
		if (e->type == type && e->addr <= a && a + len <= e->addr +
		    e->size)
			return (e);
	}
	return (NULL);
}

/* docs/boot.md "The memory map", for a VM below 3 GiB. */
static void
check_e820(uint64_t memsize)
{
	const struct boot_e820_entry *e;
	uint64_t ram = 0, end = 0;
	unsigned i, n = zp[ZP_E820_ENTRIES];

	printf("e820: %u entries\n", n);
	GCHECK(n > 0 && n <= ZP_E820_MAX);
	for (i = 0; i < n && i < ZP_E820_MAX; i++) {
		e = e820_at(i);
		printf("e820: [0x%09lx, 0x%09lx) type %u\n", e->addr,
		    e->addr + e->size, e->type);
		GCHECK(e->size > 0);
		GCHECK(e->addr >= end);		/* sorted, no overlap */
		end = e->addr + e->size;
		if (e->type != E820_RAM)
			continue;
		ram += e->size;
		/* No RAM in the EBDA, VGA and BIOS area. */
		GCHECK(end <= EBDA_START || e->addr >= LOW_1M);
	}
	GCHECK(e820_find(0, EBDA_START, E820_RAM) != NULL);
	GCHECK(e820_find(EBDA_START, LOW_1M - EBDA_START, E820_RESERVED) !=
	    NULL);
	GCHECK(e820_find(LOW_1M, memsize - LOW_1M, E820_RAM) != NULL);
	/* What -m gave, less the 385 KiB from the EBDA to 1 MiB. */
	printf("e820: %lu KiB of RAM for -m %lu KiB\n", ram >> 10,
	    memsize >> 10);
	GCHECK_EQ(ram, memsize - (LOW_1M - EBDA_START));
}

/* acpi_rsdp_addr: the RSDP (ACPI 6.4 §5.2.5.3), outside RAM. */
static void
check_rsdp(void)
{
	uint64_t rsdp = zp64(ZP_ACPI_RSDP_ADDR);
	const char *p = (const char *)(uintptr_t)rsdp;

	printf("acpi_rsdp_addr 0x%lx, BIOS area scan 0x%lx\n", rsdp,
	    acpi_scan_rsdp());
	GCHECK(rsdp != 0 && rsdp < LOW_1M);
	if (rsdp == 0 || rsdp >= LOW_1M)
		return;
	GCHECK_EQ(memcmp(p, "RSD PTR ", 8), 0);
	GCHECK(acpi_checksum_ok(p, 20));
	GCHECK_EQ(rsdp, acpi_scan_rsdp());
	GCHECK(e820_find(rsdp, 36, E820_RESERVED) != NULL);
}

/* cmd_line_ptr with its ext_ half; the kit's arguments come from it. */
static void
check_cmdline(void)
{
	uint64_t pa = zp32(ZP_CMD_LINE_PTR) |
	    (uint64_t)zp32(ZP_EXT_CMD_LINE_PTR) << 32;
	uint32_t max = zp32(ZP_CMDLINE_SIZE);
	size_t len;

	GCHECK(pa != 0 && pa < LOW_1M);
	if (pa == 0 || pa >= LOW_1M)
		return;
	len = strlen((const char *)(uintptr_t)pa);
	printf("cmd_line_ptr 0x%lx, %zu bytes (cmdline_size %u)\n", pa, len,
	    max);
	GCHECK(len <= max);
	kit_args_init(pa);
	printf("cmdline \"%s\"\n", guest_cmdline());
	GCHECK_EQ(pa, arg_get_u64("cmdline_pa", 0));
	GCHECK(e820_find(pa, len + 1, E820_RAM) != NULL);
}

int
guest_main(void)
{
	uint64_t rsi = boot64_entry[ENT_RSI], memsize;

	check_cpu();
	GCHECK(rsi != 0 && rsi < LOW_1M);
	if (rsi == 0 || rsi >= LOW_1M)
		return (1);
	zp = (const uint8_t *)(uintptr_t)rsi;
	check_cmdline();
	GCHECK_EQ(rsi, arg_get_u64("zeropage", 0));
	memsize = arg_get_u64("memsize", 0);
	GCHECK(memsize > LOW_1M && memsize <= 3 * GiB);

	printf("boot_params: header \"%.4s\" version 0x%x, type_of_loader "
	    "0x%x\n", (const char *)zp + ZP_HEADER,
	    zp[ZP_VERSION] | zp[ZP_VERSION + 1] << 8, zp[ZP_TYPE_OF_LOADER]);
	GCHECK_EQ(zp[ZP_SENTINEL], 0);
	GCHECK_EQ(zp[ZP_BOOT_FLAG] | zp[ZP_BOOT_FLAG + 1] << 8, 0xaa55);
	GCHECK_EQ(memcmp(zp + ZP_HEADER, "HdrS", 4), 0);
	GCHECK_EQ(zp[ZP_TYPE_OF_LOADER], 0xff);
	GCHECK_EQ(zp32(ZP_RAMDISK_IMAGE), 0);	/* no --initrd */
	GCHECK_EQ(zp32(ZP_RAMDISK_SIZE), 0);
	GCHECK(e820_find(rsi, ZP_SIZE, E820_RAM) != NULL);
	if (memsize > LOW_1M && memsize <= 3 * GiB)
		check_e820(memsize);
	check_rsdp();
	return (0);
}
