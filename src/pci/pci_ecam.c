/*
 * pci_ecam.c: the PCIe enhanced configuration access mechanism (PCI
 * Express Base Specification 4.0, §7.2.2; ACPI MCFG in acpi.c): the
 * configuration space of every function memory-mapped in one window,
 * 4 KiB per function.  khyve's functions have the 256-byte PCI space;
 * the extended bytes 256-4095 read 0, which says "no extended
 * capabilities" (§7.6.3), and ignore writes.
 */
#include "pci/pci_emul.h"

#define ECAM_BUS(off)	((int)((off) >> 20) & 0xff)
#define ECAM_SLOT(off)	((int)((off) >> 15) & 0x1f)
#define ECAM_FUNC(off)	((int)((off) >> 12) & 0x7)
#define ECAM_REG(off)	((int)(off) & 0xfff)

int
pci_ecam_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
    uint64_t *val)
{
	int bus = ECAM_BUS(off), slot = ECAM_SLOT(off), func = ECAM_FUNC(off);
	int reg = ECAM_REG(off);
	uint64_t hi;

	/* A qword is two dwords (the bus only passes aligned-in-range). */
	if (size == 8) {
		hi = *val >> 32;
		(void)pci_ecam_io(arg, dir, off, 4, val);
		(void)pci_ecam_io(arg, dir, off + 4, 4, &hi);
		if (dir == IO_READ)
			*val = (*val & 0xffffffffULL) | hi << 32;
		return (0);
	}
	if (reg + (int)size > PCI_REGMAX + 1) {
		/* Extended space (or an access straddling into it). */
		if (dir == IO_READ)
			*val = reg > PCI_REGMAX && pci_find_dev(bus, slot,
			    func) != NULL ? 0 : ~0ULL;
		return (0);
	}
	if (dir == IO_READ)
		*val = pci_cfg_read(bus, slot, func, reg, (int)size);
	else
		pci_cfg_write(bus, slot, func, reg, (int)size, (uint32_t)*val);
	return (0);
}
