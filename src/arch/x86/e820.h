/*
 * e820.h: the guest's physical memory map in the form the PC BIOS INT 15h
 * E820 call reports it.  Both boot paths hand it to the kernel: PVH copies
 * it into the hvm_start_info memory map, the Linux boot protocol into
 * boot_params.e820_table.
 */
#ifndef E820_H
#define E820_H

#include <stdint.h>
#include "khyve.h"

/* Range types (ACPI 6.5 section 15.1, "INT 15H E820H"). */
#define E820_RAM		1	/* AddressRangeMemory */
#define E820_RESERVED		2	/* AddressRangeReserved */
#define E820_ACPI		3	/* AddressRangeACPI (reclaimable) */
#define E820_NVS		4	/* AddressRangeNVS */

/* Entries e820_build() produces at most; a caller's array of this size is enough. */
#define E820_BUILD_MAX		5

struct e820_entry {
	uint64_t	addr;		/* first byte of the range */
	uint64_t	size;		/* bytes, never 0 */
	uint32_t	type;		/* E820_RAM ... E820_NVS */
};

/*
 * Build the map of a VM with lowmem bytes of RAM from guest-physical 0
 * and highmem bytes from HIGHMEM_BASE (layout.h), in ascending order:
 *
 *	[0, EBDA_START)			RAM
 *	[EBDA_START, 1 MiB)		reserved: EBDA, legacy hole, BIOS area
 *					with the MP and ACPI tables
 *	[1 MiB, lowmem)			RAM
 *	[PCI_ECAM_BASE, 4 GiB)		reserved: ECAM, IOAPIC, LAPIC
 *	[4 GiB, 4 GiB + highmem)	RAM, when highmem > 0
 *
 * The 32-bit PCI window [lowmem, PCI_ECAM_BASE) stays a gap, which is
 * where Linux looks for room for BARs it assigns itself.  Writes at most
 * max entries to out and returns their number; -EINVAL when lowmem is
 * not above 1 MiB or above LOWMEM_LIMIT, or highmem overflows; -ENOSPC
 * when max is too small (nothing useful is in out then).
 */
int	e820_build(struct e820_entry *out, int max, uint64_t lowmem,
	    uint64_t highmem) __must_check;

/* "RAM", "reserved", "ACPI", "NVS" or "unknown": for logs and dumps. */
const char *e820_type_name(uint32_t type);

#endif /* E820_H */
