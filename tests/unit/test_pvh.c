/*
 * test_pvh.c: hvm_start_info, the boot GDT and the PVH entry state.
 */
#include <errno.h>
#include "arch/x86/e820.h"
#include "arch/x86/layout.h"
#include "arch/x86/pvh.h"
#include "fake.h"
#include "test.h"

#define RAM_SIZE	(64 * MiB)

static uint32_t
rd32(struct fake_vm *fv, uint64_t gpa)
{
	uint32_t v = 0;

	CHECK_EQ(gmem_read32(&fv->mem, gpa, &v), 0);
	return (v);
}

static uint64_t
rd64(struct fake_vm *fv, uint64_t gpa)
{
	uint64_t v = 0;

	CHECK_EQ(gmem_read64(&fv->mem, gpa, &v), 0);
	return (v);
}

static int
setup(struct fake_vm *fv, struct pvh_params *p, struct e820_entry *e)
{
	int n;

	fake_vm_init(fv, RAM_SIZE, 1);
	memset(fv->ram, 0xee, 1 * MiB);
	n = e820_build(e, E820_BUILD_MAX, RAM_SIZE, 0);
	CHECK_EQ(n, 4);
	memset(p, 0, sizeof(*p));
	p->cmdline = "console=ttyS0 root=/dev/vda";
	p->initrd_gpa = 48 * MiB;
	p->initrd_size = 0x123456;
	p->rsdp_gpa = ACPI_BASE;
	p->e820 = e;
	p->ne820 = n;
	return (n);
}

TEST(start_info_fields)
{
	struct fake_vm fv;
	struct pvh_params p;
	struct e820_entry e[E820_BUILD_MAX];
	uint64_t si = 0, mm;
	int i, n;

	n = setup(&fv, &p, e);
	CHECK_EQ(pvh_setup(&fv.mem, &p, &si), 0);
	CHECK_EQ(si, PVH_START_INFO_GPA);
	/* Offsets from start_info.h's layout diagram. */
	CHECK_EQ(rd32(&fv, si + 0), 0x336ec578);
	CHECK_EQ(rd32(&fv, si + 4), 1);
	CHECK_EQ(rd32(&fv, si + 8), 0);
	CHECK_EQ(rd32(&fv, si + 12), 1);
	CHECK_EQ(rd64(&fv, si + 16), PVH_MODLIST_GPA);
	CHECK_EQ(rd64(&fv, si + 24), PVH_CMDLINE_GPA);
	CHECK_EQ(rd64(&fv, si + 32), ACPI_BASE);
	CHECK_EQ(rd64(&fv, si + 40), PVH_MEMMAP_GPA);
	CHECK_EQ(rd32(&fv, si + 48), n);
	CHECK_EQ(rd32(&fv, si + 52), 0);

	/* Memory map: 24-byte entries copied from the e820 map. */
	mm = PVH_MEMMAP_GPA;
	for (i = 0; i < n; i++) {
		CHECK_EQ(rd64(&fv, mm + 24 * i), e[i].addr);
		CHECK_EQ(rd64(&fv, mm + 24 * i + 8), e[i].size);
		CHECK_EQ(rd32(&fv, mm + 24 * i + 16), e[i].type);
		CHECK_EQ(rd32(&fv, mm + 24 * i + 20), 0);
	}
	CHECK_EQ(rd64(&fv, mm + 24 * 2), 1 * MiB);
	CHECK_EQ(rd64(&fv, mm + 24 * 2 + 8), RAM_SIZE - 1 * MiB);

	/* Module 0: the initrd, with no command line of its own. */
	CHECK_EQ(rd64(&fv, PVH_MODLIST_GPA + 0), 48 * MiB);
	CHECK_EQ(rd64(&fv, PVH_MODLIST_GPA + 8), 0x123456);
	CHECK_EQ(rd64(&fv, PVH_MODLIST_GPA + 16), 0);
	CHECK_EQ(rd64(&fv, PVH_MODLIST_GPA + 24), 0);

	CHECK_STR((char *)fv.ram + PVH_CMDLINE_GPA, "console=ttyS0 root=/dev/vda");
	fake_vm_fini(&fv);
}

TEST(no_initrd_no_acpi)
{
	struct fake_vm fv;
	struct pvh_params p;
	struct e820_entry e[E820_BUILD_MAX];
	uint64_t si = 0;

	setup(&fv, &p, e);
	p.initrd_gpa = 0;
	p.initrd_size = 0;
	p.rsdp_gpa = 0;
	p.cmdline = NULL;
	CHECK_EQ(pvh_setup(&fv.mem, &p, &si), 0);
	CHECK_EQ(rd32(&fv, si + 12), 0);	/* nr_modules */
	CHECK_EQ(rd64(&fv, si + 16), 0);	/* modlist_paddr */
	CHECK_EQ(rd64(&fv, si + 32), 0);	/* rsdp_paddr */
	CHECK_EQ(fv.ram[PVH_CMDLINE_GPA], 0);	/* empty string */
	fake_vm_fini(&fv);
}

TEST(cmdline_limits)
{
	struct fake_vm fv;
	struct pvh_params p;
	struct e820_entry e[E820_BUILD_MAX];
	uint64_t si = 0;
	char *big;

	setup(&fv, &p, e);
	big = malloc(PVH_CMDLINE_MAX + 1);
	CHECK(big != NULL);
	memset(big, 'a', PVH_CMDLINE_MAX);
	big[PVH_CMDLINE_MAX] = '\0';
	p.cmdline = big;
	CHECK_EQ(pvh_setup(&fv.mem, &p, &si), -E2BIG);
	big[PVH_CMDLINE_MAX - 1] = '\0';	/* exactly the limit with NUL */
	CHECK_EQ(pvh_setup(&fv.mem, &p, &si), 0);
	CHECK_EQ(strlen((char *)fv.ram + PVH_CMDLINE_GPA), PVH_CMDLINE_MAX - 1);
	CHECK_EQ(fv.ram[PVH_AREA_END], 0xee);	/* nothing past the area */
	free(big);
	fake_vm_fini(&fv);
}

TEST(rejects_bad_params)
{
	struct fake_vm fv;
	struct pvh_params p;
	struct e820_entry e[E820_BUILD_MAX];
	uint64_t si = 0;

	setup(&fv, &p, e);
	p.initrd_gpa = RAM_SIZE - 0x1000;	/* runs off the end of RAM */
	CHECK_EQ(pvh_setup(&fv.mem, &p, &si), -EINVAL);
	p.initrd_gpa = UINT64_MAX - 0x1000;	/* wraps */
	CHECK_EQ(pvh_setup(&fv.mem, &p, &si), -EINVAL);
	p.initrd_gpa = 0x10000;			/* on the boot structures */
	CHECK_EQ(pvh_setup(&fv.mem, &p, &si), -EINVAL);
	p.initrd_gpa = 48 * MiB;
	p.ne820 = 0;
	CHECK_EQ(pvh_setup(&fv.mem, &p, &si), -EINVAL);
	p.ne820 = PVH_MEMMAP_MAX + 1;
	CHECK_EQ(pvh_setup(&fv.mem, &p, &si), -EINVAL);
	p.ne820 = 4;
	CHECK_EQ(si, 0);			/* untouched on failure */
	CHECK_EQ(fv.ram[PVH_START_INFO_GPA], 0xee);
	fake_vm_fini(&fv);

	/* The boot area must be RAM. */
	fake_vm_init(&fv, 0, 1);
	CHECK_EQ(pvh_setup(&fv.mem, &(struct pvh_params){ .e820 = e,
	    .ne820 = 4 }, &si), -EFAULT);
	fake_vm_fini(&fv);
}

TEST(cpu_state)
{
	struct boot_cpu_state c;

	pvh_cpu_state(0x1000010, PVH_START_INFO_GPA, &c);
	CHECK_EQ(c.mode, BOOT_MODE_PROT32);
	CHECK_EQ(c.rip, 0x1000010);
	CHECK_EQ(c.rbx, PVH_START_INFO_GPA);
	CHECK_EQ(c.cr0, 1);			/* PE only */
	CHECK_EQ(c.cr3, 0);
	CHECK_EQ(c.cr4, 0);
	CHECK_EQ(c.efer, 0);
	CHECK_EQ(c.rflags, 0x2);		/* IF, TF, VM clear */
	CHECK_EQ(c.gdt_base, PVH_GDT_GPA);
	CHECK_EQ(c.gdt_limit, PVH_GDT_ENTRIES * 8 - 1);
	CHECK_EQ(c.idt_limit, 0);

	/* cs: 32-bit execute/read, base 0, limit 4 GiB - 1. */
	CHECK_EQ(c.cs.selector, 0x10);
	CHECK_EQ(c.cs.base, 0);
	CHECK_EQ(c.cs.limit, 0xffffffff);
	CHECK_EQ(c.cs.type, 0xb);
	CHECK(c.cs.s && c.cs.present && c.cs.db && c.cs.g && !c.cs.l);
	CHECK_EQ(c.cs.dpl, 0);

	/* ds, es, ss (and fs, gs): 32-bit read/write, flat. */
	const struct boot_seg *d[] = { &c.ds, &c.es, &c.ss, &c.fs, &c.gs };
	for (unsigned i = 0; i < nitems(d); i++) {
		CHECK_EQ(d[i]->selector, 0x18);
		CHECK_EQ(d[i]->base, 0);
		CHECK_EQ(d[i]->limit, 0xffffffff);
		CHECK_EQ(d[i]->type, 0x3);
		CHECK(d[i]->s && d[i]->present && d[i]->db && d[i]->g);
	}

	/* tr: busy 32-bit TSS, base 0, limit 0x67. */
	CHECK_EQ(c.tr.selector, 0x20);
	CHECK_EQ(c.tr.base, 0);
	CHECK_EQ(c.tr.limit, 0x67);
	CHECK_EQ(c.tr.type, 0xb);
	CHECK(!c.tr.s && c.tr.present && !c.tr.g);
	CHECK(c.ldt.unusable);
}

TEST(descriptors)
{
	struct boot_cpu_state c;
	struct boot_seg s;

	pvh_cpu_state(0, 0, &c);
	/* The classic flat descriptors (Intel SDM vol. 3A, figure 3-8). */
	CHECK_EQ(boot_seg_descriptor(&c.cs), 0x00cf9b000000ffffULL);
	CHECK_EQ(boot_seg_descriptor(&c.ds), 0x00cf93000000ffffULL);
	CHECK_EQ(boot_seg_descriptor(&c.tr), 0x00008b0000000067ULL);

	/* Base bits are split 24/8; a 64-bit code segment sets L, not D. */
	memset(&s, 0, sizeof(s));
	s.base = 0x12345678;
	s.limit = 0xfffff;
	s.type = 0xb;
	s.s = 1;
	s.present = 1;
	s.l = 1;
	s.dpl = 3;
	CHECK_EQ(boot_seg_descriptor(&s), 0x122ffb345678ffffULL);
}

TEST(gdt_in_guest_memory)
{
	struct fake_vm fv;
	struct pvh_params p;
	struct e820_entry e[E820_BUILD_MAX];
	struct boot_cpu_state c;
	uint64_t si = 0;
	unsigned i;

	setup(&fv, &p, e);
	CHECK_EQ(pvh_setup(&fv.mem, &p, &si), 0);
	pvh_cpu_state(0x100000, si, &c);
	for (i = 0; i < PVH_GDT_ENTRIES; i++) {
		uint64_t d = rd64(&fv, c.gdt_base + 8 * i);

		if (i * 8 == c.cs.selector)
			CHECK_EQ(d, boot_seg_descriptor(&c.cs));
		else if (i * 8 == c.ds.selector)
			CHECK_EQ(d, boot_seg_descriptor(&c.ds));
		else if (i * 8 == c.tr.selector)
			CHECK_EQ(d, boot_seg_descriptor(&c.tr));
		else
			CHECK_EQ(d, 0);
	}
	/* The byte after the GDT is not touched. */
	CHECK_EQ(fv.ram[PVH_GDT_GPA + PVH_GDT_ENTRIES * 8], 0xee);

	/* Clashing or out-of-range selectors are refused. */
	c.tr.selector = c.ds.selector;
	CHECK_EQ(boot_gdt_write(&fv.mem, PVH_GDT_GPA, PVH_GDT_ENTRIES, &c),
	    -EINVAL);
	c.tr.selector = PVH_GDT_ENTRIES * 8;
	CHECK_EQ(boot_gdt_write(&fv.mem, PVH_GDT_GPA, PVH_GDT_ENTRIES, &c),
	    -EINVAL);
	c.tr.selector = 0;
	CHECK_EQ(boot_gdt_write(&fv.mem, PVH_GDT_GPA, PVH_GDT_ENTRIES, &c),
	    -EINVAL);
	c.tr.selector = 0x20;
	c.ss.selector = 0x28;
	CHECK_EQ(boot_gdt_write(&fv.mem, PVH_GDT_GPA, PVH_GDT_ENTRIES, &c),
	    -EINVAL);
	fake_vm_fini(&fv);
}

TEST_MAIN()
