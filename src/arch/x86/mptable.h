/*
 * mptable.h: the Intel MultiProcessor Specification 1.4 table (bhyve's
 * amd64/mptbl.c), for guests that look for processors and interrupt
 * routing there instead of in ACPI.  Disabled with x86.mptable=false.
 */
#ifndef MPTABLE_H
#define MPTABLE_H

#include <stdint.h>
#include "arch/x86/acpi.h"
#include "gmem.h"
#include "khyve.h"

#define MPTABLE_MAX_CPUS	254	/* 8-bit APIC IDs; 0xff is broadcast */

/* MP table bus IDs (as bhyve: PCI is bus 0, ISA bus 1). */
#define MPTABLE_BUS_PCI		0
#define MPTABLE_BUS_ISA		1

/*
 * Write the floating pointer structure and the configuration table at
 * MPTABLE_BASE: one processor entry per vCPU (APIC ID = index, BSP = 0),
 * buses PCI 0 and ISA 1, the IOAPIC (ID 0, 0xFEC00000), I/O interrupt
 * entries for IOAPIC pins 0-15 (ExtINT on pin 0, ISA IRQ0 on pin 2, the
 * SCI level/active-low) and local interrupt entries (ExtINT on LINT0, NMI
 * on LINT1).  Writes only inside [MPTABLE_BASE, +MPTABLE_MAX_LENGTH).
 * Returns 0, -EINVAL (ncpus outside 1..MPTABLE_MAX_CPUS), -ENOSPC or
 * -EFAULT (window not RAM).
 */
int	mptable_build(struct gmem *mem, int ncpus) __must_check;

/*
 * The same, plus one I/O interrupt entry per routed PCI INTx line (bus
 * 0, IRQ field = slot << 2 | pin - 1, as MP spec section 4.3.4 / D.3).
 * Returns -EINVAL for an entry out of range.
 */
int	mptable_build_intx(struct gmem *mem, int ncpus,
	    const struct acpi_intx *intx, unsigned nintx) __must_check;

#endif /* MPTABLE_H */
