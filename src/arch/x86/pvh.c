/*
 * pvh.c: the boot structures and entry state of the PVH boot ABI.
 *
 * A loader that is not Xen fills hvm_start_info the way QEMU's
 * hw/i386/x86.c (x86_load_linux, PVH branch) and Firecracker's
 * configure_pvh() do: version 1 with the memory map, the command line
 * as a physical pointer, the initrd as module 0, the RSDP address.
 * Nothing is loaded at guest-physical 0, so 0 in an address field means
 * "absent" (start_info.h).
 */
#include <errno.h>
#include <string.h>
#include "arch/x86/layout.h"
#include "arch/x86/pvh.h"

_Static_assert(PVH_AREA_END <= EBDA_START, "PVH area inside the boot area");
_Static_assert(PVH_MEMMAP_GPA + PVH_MEMMAP_MAX *
    sizeof(struct hvm_memmap_table_entry) <= PVH_CMDLINE_GPA,
    "memory map fits below the command line");
_Static_assert(PVH_GDT_GPA + PVH_GDT_ENTRIES * 8 <= PVH_START_INFO_GPA,
    "GDT fits below start_info");
_Static_assert(PVH_START_INFO_GPA + sizeof(struct hvm_start_info) <=
    PVH_MODLIST_GPA, "start_info fits below the module list");

/* Descriptor type fields (Intel SDM vol. 3A, tables 3-1 and 3-2). */
#define SEG_TYPE_CODE_RX_ACC	0xb	/* execute/read, accessed */
#define SEG_TYPE_DATA_RW_ACC	0x3	/* read/write, accessed */
#define SEG_TYPE_TSS32_BUSY	0xb	/* system: busy 32-bit TSS */
#define SEG_TYPE_LDT		0x2	/* system: LDT */

static void
flat_seg(struct boot_seg *seg, uint16_t sel, uint8_t type)
{
	memset(seg, 0, sizeof(*seg));
	seg->base = 0;
	seg->limit = 0xffffffff;
	seg->selector = sel;
	seg->type = type;
	seg->s = 1;
	seg->present = 1;
	seg->db = 1;
	seg->g = 1;
}

void
pvh_cpu_state(uint64_t entry, uint64_t start_info, struct boot_cpu_state *cpu)
{
	memset(cpu, 0, sizeof(*cpu));
	cpu->mode = BOOT_MODE_PROT32;
	cpu->rip = entry;
	cpu->rbx = start_info;
	cpu->rflags = BOOT_RFLAGS_FIXED;
	cpu->cr0 = BOOT_CR0_PE;
	cpu->gdt_base = PVH_GDT_GPA;
	cpu->gdt_limit = PVH_GDT_ENTRIES * 8 - 1;

	flat_seg(&cpu->cs, BOOT_SEL_CS, SEG_TYPE_CODE_RX_ACC);
	flat_seg(&cpu->ds, BOOT_SEL_DS, SEG_TYPE_DATA_RW_ACC);
	cpu->es = cpu->fs = cpu->gs = cpu->ss = cpu->ds;

	/* pvh.pandoc: "tr: 32-bit TSS (active) with a base of 0 and a limit of 0x67". */
	cpu->tr.selector = BOOT_SEL_TSS;
	cpu->tr.base = 0;
	cpu->tr.limit = 0x67;
	cpu->tr.type = SEG_TYPE_TSS32_BUSY;
	cpu->tr.present = 1;

	cpu->ldt.type = SEG_TYPE_LDT;
	cpu->ldt.unusable = 1;
}

uint64_t
boot_seg_descriptor(const struct boot_seg *seg)
{
	uint64_t d, limit;

	/* With G set the descriptor holds the limit in 4 KiB units. */
	limit = seg->g ? seg->limit >> 12 : seg->limit & 0xfffff;
	d = limit & 0xffff;
	d |= (seg->base & 0xffffff) << 16;
	d |= (uint64_t)(seg->type & 0xf) << 40;
	d |= (uint64_t)(seg->s & 1) << 44;
	d |= (uint64_t)(seg->dpl & 3) << 45;
	d |= (uint64_t)(seg->present & 1) << 47;
	d |= ((limit >> 16) & 0xf) << 48;
	d |= (uint64_t)(seg->l & 1) << 53;
	d |= (uint64_t)(seg->db & 1) << 54;
	d |= (uint64_t)(seg->g & 1) << 55;
	d |= ((seg->base >> 24) & 0xff) << 56;
	return (d);
}

int
boot_gdt_write(struct gmem *mem, uint64_t gdt_gpa, unsigned nent,
    const struct boot_cpu_state *cpu)
{
	const struct boot_seg *segs[] = { &cpu->cs, &cpu->ds, &cpu->tr };
	uint64_t gdt[16];
	unsigned i, idx;

	if (nent == 0 || nent > nitems(gdt))
		return (-EINVAL);
	if (cpu->es.selector != cpu->ds.selector ||
	    cpu->ss.selector != cpu->ds.selector ||
	    cpu->fs.selector != cpu->ds.selector ||
	    cpu->gs.selector != cpu->ds.selector)
		return (-EINVAL);
	memset(gdt, 0, sizeof(gdt));
	for (i = 0; i < nitems(segs); i++) {
		idx = segs[i]->selector >> 3;
		/* Selector 0 is the null descriptor; TI (bit 2) means LDT. */
		if (idx == 0 || idx >= nent || (segs[i]->selector & 4) != 0 ||
		    gdt[idx] != 0)
			return (-EINVAL);
		gdt[idx] = boot_seg_descriptor(segs[i]);
	}
	return (gmem_write(mem, gdt_gpa, gdt, nent * sizeof(gdt[0])));
}

static bool
overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return (a < b + blen && b < a + alen);
}

int
pvh_setup(struct gmem *mem, const struct pvh_params *p,
    uint64_t *start_info_gpa)
{
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_table_entry mm[PVH_MEMMAP_MAX];
	struct boot_cpu_state cpu;
	const char *cmdline;
	size_t cmdlen;
	int error, i;

	cmdline = p->cmdline != NULL ? p->cmdline : "";
	cmdlen = strnlen(cmdline, PVH_CMDLINE_MAX);
	if (cmdlen >= PVH_CMDLINE_MAX)
		return (-E2BIG);
	if (p->ne820 < 1 || p->ne820 > PVH_MEMMAP_MAX || p->e820 == NULL)
		return (-EINVAL);
	if (p->initrd_size != 0 &&
	    (p->initrd_gpa == 0 ||
	    p->initrd_gpa > UINT64_MAX - p->initrd_size ||
	    !gmem_is_ram(mem, p->initrd_gpa, p->initrd_size) ||
	    overlaps(p->initrd_gpa, p->initrd_size, 0, PVH_AREA_END)))
		return (-EINVAL);

	/* The GDT matches the segment state pvh_cpu_state() gives the vCPU. */
	pvh_cpu_state(0, PVH_START_INFO_GPA, &cpu);
	if ((error = boot_gdt_write(mem, PVH_GDT_GPA, PVH_GDT_ENTRIES,
	    &cpu)) != 0)
		return (error);

	memset(mm, 0, sizeof(mm));
	for (i = 0; i < p->ne820; i++) {
		mm[i].addr = p->e820[i].addr;
		mm[i].size = p->e820[i].size;
		mm[i].type = p->e820[i].type;
	}
	if ((error = gmem_write(mem, PVH_MEMMAP_GPA, mm,
	    (size_t)p->ne820 * sizeof(mm[0]))) != 0)
		return (error);

	if ((error = gmem_write(mem, PVH_CMDLINE_GPA, cmdline,
	    cmdlen + 1)) != 0)
		return (error);

	memset(&mod, 0, sizeof(mod));
	mod.paddr = p->initrd_gpa;
	mod.size = p->initrd_size;
	if ((error = gmem_write(mem, PVH_MODLIST_GPA, &mod, sizeof(mod))) != 0)
		return (error);

	memset(&si, 0, sizeof(si));
	si.magic = XEN_HVM_START_MAGIC_VALUE;
	si.version = PVH_START_INFO_VERSION;
	si.flags = 0;
	si.nr_modules = p->initrd_size != 0 ? 1 : 0;
	si.modlist_paddr = si.nr_modules != 0 ? PVH_MODLIST_GPA : 0;
	si.cmdline_paddr = PVH_CMDLINE_GPA;
	si.rsdp_paddr = p->rsdp_gpa;
	si.memmap_paddr = PVH_MEMMAP_GPA;
	si.memmap_entries = (uint32_t)p->ne820;
	if ((error = gmem_write(mem, PVH_START_INFO_GPA, &si, sizeof(si))) != 0)
		return (error);

	*start_info_gpa = PVH_START_INFO_GPA;
	return (0);
}
