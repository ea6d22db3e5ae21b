/*
 * test_e820.c: the E820 memory map.
 */
#include <errno.h>
#include "arch/x86/e820.h"
#include "arch/x86/layout.h"
#include "test.h"

/* Sorted, non-empty, non-overlapping, known types. */
static void
check_well_formed(const struct e820_entry *e, int n)
{
	int i;

	CHECK(n > 0);
	for (i = 0; i < n; i++) {
		CHECK(e[i].size > 0);
		CHECK(e[i].type == E820_RAM || e[i].type == E820_RESERVED);
		CHECK(e[i].addr + e[i].size > e[i].addr);
		if (i > 0)
			CHECK(e[i - 1].addr + e[i - 1].size <= e[i].addr);
	}
}

static uint64_t
ram_bytes(const struct e820_entry *e, int n)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < n; i++)
		if (e[i].type == E820_RAM)
			sum += e[i].size;
	return (sum);
}

static void
check_low_part(const struct e820_entry *e, uint64_t lowmem)
{
	CHECK_EQ(e[0].addr, 0);
	CHECK_EQ(e[0].size, EBDA_START);
	CHECK_EQ(e[0].type, E820_RAM);
	CHECK_EQ(e[1].addr, EBDA_START);
	CHECK_EQ(e[1].size, LEGACY_HOLE_END - EBDA_START);
	CHECK_EQ(e[1].type, E820_RESERVED);
	CHECK_EQ(e[2].addr, 1 * MiB);
	CHECK_EQ(e[2].size, lowmem - 1 * MiB);
	CHECK_EQ(e[2].type, E820_RAM);
	CHECK_EQ(e[3].addr, PCI_ECAM_BASE);
	CHECK_EQ(e[3].size, 4 * GiB - PCI_ECAM_BASE);
	CHECK_EQ(e[3].type, E820_RESERVED);
}

TEST(guest_256m)
{
	struct e820_entry e[E820_BUILD_MAX];
	int n;

	n = e820_build(e, E820_BUILD_MAX, 256 * MiB, 0);
	CHECK_EQ(n, 4);
	check_well_formed(e, n);
	check_low_part(e, 256 * MiB);
	CHECK_EQ(ram_bytes(e, n), 256 * MiB - (LEGACY_HOLE_END - EBDA_START));
}

TEST(guest_3g)
{
	struct e820_entry e[E820_BUILD_MAX];
	int n;

	n = e820_build(e, E820_BUILD_MAX, 3 * GiB, 0);
	CHECK_EQ(n, 4);
	check_well_formed(e, n);
	check_low_part(e, 3 * GiB);
	/* The 32-bit PCI window stays a gap. */
	CHECK_EQ(e[2].addr + e[2].size, PCI_MMIO32_BASE);
}

TEST(guest_4g)
{
	struct e820_entry e[E820_BUILD_MAX];
	int n;

	/* 4 GiB of RAM: 3 GiB low, 1 GiB from 4 GiB up. */
	n = e820_build(e, E820_BUILD_MAX, LOWMEM_LIMIT, 1 * GiB);
	CHECK_EQ(n, 5);
	check_well_formed(e, n);
	check_low_part(e, LOWMEM_LIMIT);
	CHECK_EQ(e[4].addr, 4 * GiB);
	CHECK_EQ(e[4].size, 1 * GiB);
	CHECK_EQ(e[4].type, E820_RAM);
}

TEST(guest_6g)
{
	struct e820_entry e[E820_BUILD_MAX];
	int n;

	n = e820_build(e, E820_BUILD_MAX, LOWMEM_LIMIT, 3 * GiB);
	CHECK_EQ(n, 5);
	check_well_formed(e, n);
	CHECK_EQ(e[4].addr, HIGHMEM_BASE);
	CHECK_EQ(e[4].size, 3 * GiB);
	CHECK_EQ(ram_bytes(e, n), 6 * GiB - (LEGACY_HOLE_END - EBDA_START));
}

TEST(acpi_and_mptable_are_reserved)
{
	struct e820_entry e[E820_BUILD_MAX];
	int i, n;

	n = e820_build(e, E820_BUILD_MAX, 512 * MiB, 0);
	CHECK_EQ(n, 4);
	for (i = 0; i < n; i++) {
		if (e[i].type != E820_RAM)
			continue;
		/* No RAM entry covers the BIOS area or the legacy hole. */
		CHECK(e[i].addr + e[i].size <= EBDA_START ||
		    e[i].addr >= LEGACY_HOLE_END);
		/* Nor the IOAPIC / LAPIC pages. */
		CHECK(!(e[i].addr <= IOAPIC_BASE &&
		    IOAPIC_BASE < e[i].addr + e[i].size));
	}
	CHECK(e[1].addr <= MPTABLE_BASE);
	CHECK(e[1].addr + e[1].size >= ACPI_BASE + ACPI_MAX_LENGTH);
}

TEST(too_small_table)
{
	struct e820_entry e[E820_BUILD_MAX];

	CHECK_EQ(e820_build(e, 3, 256 * MiB, 0), -ENOSPC);
	CHECK_EQ(e820_build(e, 4, 256 * MiB, 0), 4);
	CHECK_EQ(e820_build(e, 4, LOWMEM_LIMIT, 1 * GiB), -ENOSPC);
	CHECK_EQ(e820_build(e, 0, 256 * MiB, 0), -ENOSPC);
}

TEST(bad_sizes)
{
	struct e820_entry e[E820_BUILD_MAX];

	CHECK_EQ(e820_build(e, E820_BUILD_MAX, 1 * MiB, 0), -EINVAL);
	CHECK_EQ(e820_build(e, E820_BUILD_MAX, 0, 0), -EINVAL);
	CHECK_EQ(e820_build(e, E820_BUILD_MAX, LOWMEM_LIMIT + 4096, 0),
	    -EINVAL);
	CHECK_EQ(e820_build(e, E820_BUILD_MAX, LOWMEM_LIMIT,
	    UINT64_MAX - 4 * GiB + 2), -EINVAL);
	CHECK_EQ(e820_build(NULL, 4, 256 * MiB, 0), -EINVAL);
}

TEST(type_names)
{
	CHECK_STR(e820_type_name(E820_RAM), "RAM");
	CHECK_STR(e820_type_name(E820_RESERVED), "reserved");
	CHECK_STR(e820_type_name(E820_ACPI), "ACPI");
	CHECK_STR(e820_type_name(E820_NVS), "NVS");
	CHECK_STR(e820_type_name(99), "unknown");
}

TEST_MAIN()
