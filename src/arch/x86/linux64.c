/*
 * linux64.c: page tables, GDT and registers for the Linux 64-bit boot
 * protocol, as Firecracker's and cloud-hypervisor's direct loaders set
 * them (arch/x86_64/regs.rs) and boot.rst requires.
 */
#include <string.h>
#include "arch/x86/linux64.h"

#define PTE_P		0x001ULL
#define PTE_RW		0x002ULL
#define PTE_PS		0x080ULL

#define CR0_PE		0x00000001ULL
#define CR0_ET		0x00000010ULL
#define CR0_PG		0x80000000ULL
#define CR4_PAE		0x00000020ULL
#define EFER_LME	0x00000100ULL
#define EFER_LMA	0x00000400ULL

static int
write_page_tables(struct gmem *mem)
{
	uint64_t page[512];
	int i, d, error;

	memset(page, 0, sizeof(page));
	page[0] = LINUX_PDPT_GPA | PTE_P | PTE_RW;
	error = gmem_write(mem, LINUX_PML4_GPA, page, sizeof(page));
	memset(page, 0, sizeof(page));
	for (d = 0; d < 4; d++)
		page[d] = (LINUX_PD_GPA + d * 4096) | PTE_P | PTE_RW;
	if (error == 0)
		error = gmem_write(mem, LINUX_PDPT_GPA, page, sizeof(page));
	for (d = 0; d < 4 && error == 0; d++) {
		for (i = 0; i < 512; i++)
			page[i] = ((uint64_t)d * GiB + (uint64_t)i * 2 * MiB) |
			    PTE_P | PTE_RW | PTE_PS;
		error = gmem_write(mem, LINUX_PD_GPA + d * 4096, page,
		    sizeof(page));
	}
	return (error);
}

static struct boot_seg
flat_seg(uint16_t sel, uint8_t type, int code64)
{
	struct boot_seg s;

	memset(&s, 0, sizeof(s));
	s.base = 0;
	s.limit = 0xffffffff;
	s.selector = sel;
	s.type = type;
	s.s = 1;
	s.present = 1;
	s.g = 1;
	s.l = code64 ? 1 : 0;
	s.db = code64 ? 0 : 1;
	return (s);
}

int
linux64_setup(struct gmem *mem, uint64_t entry, uint64_t zero_page,
    struct boot_cpu_state *cpu)
{
	int error;

	memset(cpu, 0, sizeof(*cpu));
	cpu->mode = BOOT_MODE_LONG64;
	cpu->rip = entry;
	cpu->rsi = zero_page;
	cpu->rsp = LINUX_STACK_GPA;
	cpu->rflags = BOOT_RFLAGS_FIXED;
	cpu->cr0 = CR0_PE | CR0_ET | CR0_PG;
	cpu->cr3 = LINUX_PML4_GPA;
	cpu->cr4 = CR4_PAE;
	cpu->efer = EFER_LME | EFER_LMA;
	cpu->cs = flat_seg(BOOT_SEL_CS, 0xb, 1);	/* execute/read, accessed */
	cpu->ds = flat_seg(BOOT_SEL_DS, 0x3, 0);	/* read/write, accessed */
	cpu->es = cpu->fs = cpu->gs = cpu->ss = cpu->ds;
	memset(&cpu->tr, 0, sizeof(cpu->tr));
	cpu->tr.selector = BOOT_SEL_TSS;
	cpu->tr.limit = 0x67;
	cpu->tr.type = 0xb;				/* busy 64-bit TSS */
	cpu->tr.present = 1;
	cpu->ldt.unusable = 1;
	cpu->gdt_base = PVH_GDT_GPA;
	cpu->gdt_limit = PVH_GDT_ENTRIES * 8 - 1;
	error = write_page_tables(mem);
	if (error == 0)
		error = boot_gdt_write(mem, PVH_GDT_GPA, PVH_GDT_ENTRIES, cpu);
	return (error);
}
