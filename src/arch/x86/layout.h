/*
 * layout.h: the guest-physical memory map and the platform's fixed
 * addresses, ports and interrupt lines (bhyve's layout on amd64).
 *
 *   0x00000000  RAM ........................ lowmem (up to 3 GiB)
 *     0x00001000 - 0x0009ffff  boot structures built by the loader
 *     0x000a0000 - 0x000fffff  legacy hole: reserved in the e820 map;
 *                              0xf0000 MP table, 0xf2400 ACPI tables
 *   0xc0000000  32-bit PCI MMIO window
 *   0xe0000000  PCIe ECAM (256 MiB)
 *   0xfec00000  IOAPIC
 *   0xfee00000  LAPIC
 *   0x100000000 RAM ........................ highmem (the rest)
 */
#ifndef LAYOUT_H
#define LAYOUT_H

#include "khyve.h"

#define LOWMEM_LIMIT		(3 * GiB)	/* bhyve's lowmem_limit */
#define HIGHMEM_BASE		(4 * GiB)

/* Boot structures (page tables, GDT, start_info, zero page, cmdline). */
#define BOOT_AREA_START		0x1000ULL
#define BOOT_AREA_END		0xa0000ULL
#define EBDA_START		0x9fc00ULL	/* e820: RAM ends here */
#define LEGACY_HOLE_START	0xa0000ULL
#define LEGACY_HOLE_END		0x100000ULL
#define BIOS_AREA_START		0xe0000ULL	/* where RSDP may be found */

#define MPTABLE_BASE		0xf0000ULL	/* bhyve's MPTABLE_BASE */
#define MPTABLE_MAX_LENGTH	(0x2400ULL)
#define ACPI_BASE		0xf2400ULL	/* bhyve's ACPI_BASE */
#define ACPI_MAX_LENGTH		(0x100000ULL - ACPI_BASE)

#define PCI_MMIO32_BASE		0xc0000000ULL
#define PCI_MMIO32_LIMIT	0xe0000000ULL
#define PCI_ECAM_BASE		0xe0000000ULL
#define PCI_ECAM_SIZE		(256 * MiB)
#define IOAPIC_BASE		0xfec00000ULL
#define LAPIC_BASE		0xfee00000ULL

/* Port I/O. */
#define IO_PIT			0x40
#define IO_KBD_DATA		0x60
#define IO_KBD_STATUS		0x64
#define IO_RTC			0x70
#define IO_POST			0x80
#define IO_PCI_CFGADDR		0xcf8
#define IO_PCI_CFGDATA		0xcfc
#define IO_RESET_CONTROL	0xcf9
#define IO_COM1			0x3f8
#define IO_COM2			0x2f8
#define IO_COM3			0x3e8
#define IO_COM4			0x2e8
#define IO_PM1A_EVT		0x400	/* PM1a_EVT_BLK: STS (2) + EN (2) */
#define IO_PM1A_CNT		0x404	/* PM1a_CNT_BLK (2) */
#define IO_PM_TIMER		0x408	/* PM_TMR_BLK (4) */
#define IO_PCI_IOBASE		0x2000	/* I/O BAR window */
#define IO_PCI_IOLIMIT		0x10000

/* ISA interrupt lines (GSI = ISA IRQ except IRQ0 -> pin 2). */
#define IRQ_KBD			1
#define IRQ_COM2_4		3
#define IRQ_COM1_3		4
#define IRQ_RTC			8
#define IRQ_SCI			9
#define IRQ_AUX			12
#define IOAPIC_NPINS		24

/* ACPI S5 sleep type written to PM1a_CNT.SLP_TYP (bhyve's value). */
#define ACPI_S5_SLP_TYP		5

#endif /* LAYOUT_H */
