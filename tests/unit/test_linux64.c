/*
 * test_linux64.c: the 64-bit boot protocol entry state.
 */
#include "arch/x86/linux64.h"
#include "fake.h"
#include "test.h"

TEST(entry_state_and_tables)
{
	struct fake_vm fv;
	struct boot_cpu_state cpu;
	uint64_t pte, gdt[8];

	fake_vm_init(&fv, 2 * MiB, 1);
	CHECK_EQ(linux64_setup(&fv.mem, 0x1000000, LINUX_ZEROPAGE_GPA, &cpu), 0);
	CHECK_EQ(cpu.mode, BOOT_MODE_LONG64);
	CHECK_EQ(cpu.rip, 0x1000000);
	CHECK_EQ(cpu.rsi, LINUX_ZEROPAGE_GPA);
	CHECK_EQ(cpu.cr3, LINUX_PML4_GPA);
	CHECK(cpu.cr0 & 0x80000001ULL);
	CHECK(cpu.cr4 & 0x20);
	CHECK_EQ(cpu.efer, 0x500);
	CHECK_EQ(cpu.cs.selector, 0x10);
	CHECK_EQ(cpu.cs.l, 1);
	CHECK_EQ(cpu.cs.db, 0);
	CHECK_EQ(cpu.ss.selector, 0x18);
	CHECK_EQ(cpu.rflags & 0x200, 0);		/* interrupts off */
	/* PML4[0] -> PDPT; PDPT[3] -> fourth PD; PD3[511] maps 4 GiB - 2 MiB. */
	CHECK_EQ(gmem_read64(&fv.mem, LINUX_PML4_GPA, &pte), 0);
	CHECK_EQ(pte, LINUX_PDPT_GPA | 3);
	CHECK_EQ(gmem_read64(&fv.mem, LINUX_PDPT_GPA + 3 * 8, &pte), 0);
	CHECK_EQ(pte, (LINUX_PD_GPA + 3 * 4096) | 3);
	CHECK_EQ(gmem_read64(&fv.mem, LINUX_PD_GPA + 3 * 4096 + 511 * 8, &pte),
	    0);
	CHECK_EQ(pte, (4 * GiB - 2 * MiB) | 0x83);
	/* GDT: 0x10 is 64-bit code (L set), 0x18 flat data. */
	CHECK_EQ(gmem_read(&fv.mem, PVH_GDT_GPA, gdt, sizeof(gdt)), 0);
	CHECK_EQ(gdt[0], 0);
	CHECK_EQ(gdt[2], 0x00af9b000000ffffULL);
	CHECK_EQ(gdt[3], 0x00cf93000000ffffULL);
	fake_vm_fini(&fv);
}

TEST(boot_area_must_be_ram)
{
	struct fake_vm fv;
	struct boot_cpu_state cpu;

	fake_vm_init(&fv, 0x8000, 1);			/* no room for tables */
	CHECK(linux64_setup(&fv.mem, 0x1000000, LINUX_ZEROPAGE_GPA, &cpu) != 0);
	fake_vm_fini(&fv);
}

TEST_MAIN()
