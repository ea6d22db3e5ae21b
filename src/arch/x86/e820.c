/*
 * e820.c: the guest's E820 memory map.
 *
 * bhyve builds its map in amd64/e820.c (e820_init): RAM [0, lowmem) and
 * [4 GiB, +highmem) with the VGA and ROM windows [0xA0000, 0x100000)
 * punched out, and only devices that claim a range (GVT-d, the fw_cfg
 * ACPI tables) add reserved entries.  khyve differs in two documented
 * ways:
 *
 *  - RAM stops at EBDA_START and [EBDA_START, 1 MiB) is listed as
 *    reserved rather than left as a gap, so a guest never treats the BIOS
 *    area holding the MP and ACPI tables (layout.h) as free memory, as a
 *    real BIOS reports it.
 *  - [PCI_ECAM_BASE, 4 GiB) is reserved.  bhyve lists nothing there;
 *    Linux only trusts an MCFG window that firmware reserved (E820 or a
 *    PNP0C02 resource, arch/x86/pci/mmconfig-shared.c), and reserving
 *    the chipset range keeps it from placing BARs over the IOAPIC or
 *    LAPIC.  Cloud Hypervisor reserves its PCI MMCONFIG range the same
 *    way.
 */
#include <errno.h>
#include "arch/x86/e820.h"
#include "arch/x86/layout.h"

#define E820_4G		(4 * GiB)

static int
e820_add(struct e820_entry *out, int max, int *n, uint64_t addr,
    uint64_t end, uint32_t type)
{
	if (end <= addr)
		return (0);
	if (*n >= max)
		return (-ENOSPC);
	out[*n].addr = addr;
	out[*n].size = end - addr;
	out[*n].type = type;
	(*n)++;
	return (0);
}

int
e820_build(struct e820_entry *out, int max, uint64_t lowmem, uint64_t highmem)
{
	int error, n;

	if (max < 0 || (max > 0 && out == NULL))
		return (-EINVAL);
	if (lowmem <= LEGACY_HOLE_END || lowmem > LOWMEM_LIMIT)
		return (-EINVAL);
	if (highmem > UINT64_MAX - HIGHMEM_BASE)
		return (-EINVAL);

	n = 0;
	if ((error = e820_add(out, max, &n, 0, EBDA_START, E820_RAM)) != 0 ||
	    (error = e820_add(out, max, &n, EBDA_START, LEGACY_HOLE_END,
	    E820_RESERVED)) != 0 ||
	    (error = e820_add(out, max, &n, LEGACY_HOLE_END, lowmem,
	    E820_RAM)) != 0 ||
	    (error = e820_add(out, max, &n, PCI_ECAM_BASE, E820_4G,
	    E820_RESERVED)) != 0)
		return (error);
	if (highmem > 0 && (error = e820_add(out, max, &n, HIGHMEM_BASE,
	    HIGHMEM_BASE + highmem, E820_RAM)) != 0)
		return (error);
	return (n);
}

const char *
e820_type_name(uint32_t type)
{
	switch (type) {
	case E820_RAM:
		return ("RAM");
	case E820_RESERVED:
		return ("reserved");
	case E820_ACPI:
		return ("ACPI");
	case E820_NVS:
		return ("NVS");
	default:
		return ("unknown");
	}
}
