/*
 * mptable.c: Intel MultiProcessor Specification 1.4 tables (bhyve's
 * amd64/mptbl.c).  Section numbers are those of the MP spec 1.4.
 *
 *	MPTABLE_BASE		floating pointer structure (16 bytes)
 *	MPTABLE_BASE + 16	configuration table header, then entries
 *				sorted by type: processors, buses, IOAPIC,
 *				I/O interrupts, local interrupts
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"

#define MPFP_LEN		16	/* section 4.1 */
#define MPCH_LEN		44	/* section 4.2 */
#define MP_SPEC_REV		4	/* version 1.4 */
#define MPE_PROC_LEN		20
#define MPE_SHORT_LEN		8	/* bus, IOAPIC, interrupt entries */

/* Entry types (Table 4-3). */
#define MPE_PROC		0
#define MPE_BUS			1
#define MPE_IOAPIC		2
#define MPE_IOINT		3
#define MPE_LINT		4

/* Interrupt types (Table 4-10) and flags (Table 4-11). */
#define MPI_INT			0
#define MPI_NMI			1
#define MPI_EXTINT		3
#define MPI_CONFORM		0x0
#define MPI_ACTIVE_LOW		0x3
#define MPI_LEVEL		(0x3 << 2)

#define MP_PROC_EN		0x1
#define MP_PROC_BP		0x2
/*
 * Processor signature and features as CPUID leaf 1 reports them (section
 * 4.3.1): family 6, and FPU | APIC.  Guests take the real values from
 * CPUID; these only have to be plausible.
 */
#define MP_PROC_SIG		(6 << 8)
#define MP_PROC_FEATURES	((1U << 0) | (1U << 9))
#define LAPIC_VERSION		0x14	/* KVM's local APIC */
#define IOAPIC_VERSION		0x11	/* KVM's 24-pin IOAPIC */
#define MP_IOAPIC_ID		0	/* as the MADT and bhyve */
#define MP_ISA_PINS		16
#define MP_ALL_LAPICS		0xff

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint8_t
mp_cksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len-- > 0)
		sum = (uint8_t)(sum + *p++);
	return ((uint8_t)(0x100 - sum));
}

/* I/O (type 3) or local (type 4) interrupt assignment entry, 4.3.4-5. */
static uint8_t *
mp_int(uint8_t *e, uint8_t type, uint8_t itype, uint16_t flags, uint8_t bus,
    uint8_t irq, uint8_t dst, uint8_t pin)
{
	e[0] = type;
	e[1] = itype;
	put16(e + 2, flags);
	e[4] = bus;
	e[5] = irq;
	e[6] = dst;
	e[7] = pin;
	return (e + MPE_SHORT_LEN);
}

static uint8_t *
mp_bus(uint8_t *e, uint8_t id, const char *name)
{
	e[0] = MPE_BUS;
	e[1] = id;
	memcpy(e + 2, name, 6);			/* Table 4-8, blank padded */
	return (e + MPE_SHORT_LEN);
}

int
mptable_build_intx(struct gmem *mem, int ncpus, const struct acpi_intx *intx,
    unsigned nintx)
{
	uint8_t *img, *ch, *e;
	size_t len;
	unsigned nent, i;
	int error;

	if (ncpus < 1 || ncpus > MPTABLE_MAX_CPUS ||
	    (nintx != 0 && intx == NULL) || nintx > 256)
		return (-EINVAL);
	for (i = 0; i < nintx; i++) {
		if (intx[i].ai_slot >= 32 || intx[i].ai_pin < 1 ||
		    intx[i].ai_pin > 4 || intx[i].ai_gsi >= IOAPIC_NPINS)
			return (-EINVAL);
	}
	nent = (unsigned)ncpus + 2 + 1 + MP_ISA_PINS + nintx + 2;
	len = MPFP_LEN + MPCH_LEN + (size_t)ncpus * MPE_PROC_LEN +
	    (nent - (unsigned)ncpus) * MPE_SHORT_LEN;
	if (len > MPTABLE_MAX_LENGTH)
		return (-ENOSPC);
	img = calloc(1, len);
	if (img == NULL)
		return (-ENOMEM);

	/* Floating pointer (section 4.1): features 0 = table present. */
	memcpy(img, "_MP_", 4);
	put32(img + 4, (uint32_t)(MPTABLE_BASE + MPFP_LEN));
	img[8] = 1;				/* length in 16-byte units */
	img[9] = MP_SPEC_REV;
	img[10] = mp_cksum(img, MPFP_LEN);

	/* Configuration table header (section 4.2). */
	ch = img + MPFP_LEN;
	memcpy(ch, "PCMP", 4);
	put16(ch + 4, (uint16_t)(len - MPFP_LEN));
	ch[6] = MP_SPEC_REV;
	memcpy(ch + 8, "KHYVE   ", 8);
	memcpy(ch + 16, "KHYVE VM    ", 12);
	put16(ch + 34, (uint16_t)nent);
	put32(ch + 36, (uint32_t)LAPIC_BASE);
	/* No extended entries: length 0 at 40, checksum 0 at 42. */

	e = ch + MPCH_LEN;
	for (i = 0; i < (unsigned)ncpus; i++) {		/* section 4.3.1 */
		e[0] = MPE_PROC;
		e[1] = (uint8_t)i;
		e[2] = LAPIC_VERSION;
		e[3] = MP_PROC_EN | (i == 0 ? MP_PROC_BP : 0);
		put32(e + 4, MP_PROC_SIG);
		put32(e + 8, MP_PROC_FEATURES);
		e += MPE_PROC_LEN;
	}
	e = mp_bus(e, MPTABLE_BUS_PCI, "PCI   ");
	e = mp_bus(e, MPTABLE_BUS_ISA, "ISA   ");

	e[0] = MPE_IOAPIC;				/* section 4.3.3 */
	e[1] = MP_IOAPIC_ID;
	e[2] = IOAPIC_VERSION;
	e[3] = 1;					/* enabled */
	put32(e + 4, (uint32_t)IOAPIC_BASE);
	e += MPE_SHORT_LEN;

	/*
	 * IOAPIC pins 0-15 as the default configurations of section 5.3:
	 * the 8259 on pin 0, ISA IRQ0 on pin 2, others identity mapped.
	 */
	for (i = 0; i < MP_ISA_PINS; i++) {
		if (i == 0)
			e = mp_int(e, MPE_IOINT, MPI_EXTINT, MPI_CONFORM,
			    MPTABLE_BUS_ISA, 0, MP_IOAPIC_ID, 0);
		else if (i == 2)
			e = mp_int(e, MPE_IOINT, MPI_INT, MPI_CONFORM,
			    MPTABLE_BUS_ISA, 0, MP_IOAPIC_ID, 2);
		else if (i == IRQ_SCI)
			e = mp_int(e, MPE_IOINT, MPI_INT,
			    MPI_ACTIVE_LOW | MPI_LEVEL, MPTABLE_BUS_ISA,
			    IRQ_SCI, MP_IOAPIC_ID, IRQ_SCI);
		else
			e = mp_int(e, MPE_IOINT, MPI_INT, MPI_CONFORM,
			    MPTABLE_BUS_ISA, (uint8_t)i, MP_IOAPIC_ID,
			    (uint8_t)i);
	}
	/* PCI INTx (Appendix D.3): IRQ field = device << 2 | INTx# - 1. */
	for (i = 0; i < nintx; i++)
		e = mp_int(e, MPE_IOINT, MPI_INT, MPI_CONFORM, MPTABLE_BUS_PCI,
		    (uint8_t)(intx[i].ai_slot << 2 | (intx[i].ai_pin - 1)),
		    MP_IOAPIC_ID, intx[i].ai_gsi);

	/* Local interrupts (section 4.3.5): ExtINT LINT0, NMI LINT1. */
	e = mp_int(e, MPE_LINT, MPI_EXTINT, MPI_CONFORM, MPTABLE_BUS_ISA, 0,
	    MP_ALL_LAPICS, 0);
	e = mp_int(e, MPE_LINT, MPI_NMI, MPI_CONFORM, MPTABLE_BUS_ISA, 0,
	    MP_ALL_LAPICS, 1);

	ch[7] = mp_cksum(ch, len - MPFP_LEN);
	error = (size_t)(e - img) == len ? 0 : -EINVAL;
	if (error == 0)
		error = gmem_write(mem, MPTABLE_BASE, img, len);
	free(img);
	return (error);
}

int
mptable_build(struct gmem *mem, int ncpus)
{
	return (mptable_build_intx(mem, ncpus, NULL, 0));
}
