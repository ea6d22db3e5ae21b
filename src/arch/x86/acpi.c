/*
 * acpi.c: ACPI tables for the guest (bhyve's acpi.c, without iasl).
 *
 * The tables are assembled in a host buffer that mirrors the window
 * [ACPI_BASE, ACPI_BASE + ACPI_MAX_LENGTH) and copied into guest RAM with
 * one gmem_write().  Section numbers are those of ACPI 6.5 chapter 5
 * (tables) and 6 (device configuration).
 *
 *	ACPI_BASE	RSDP (16-byte aligned, 36 bytes)
 *			XSDT -> FADT, MADT
 *			RSDT -> FADT, MADT
 *			FADT -> FACS, DSDT
 *			FACS (64-byte aligned)
 *			MADT
 *			DSDT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "arch/x86/aml.h"
#include "arch/x86/layout.h"

#define ACPI_HDR_LEN		36	/* section 5.2.6 */
#define RSDP_LEN		36	/* section 5.2.5.3, revision 2 */
#define FADT_LEN		276	/* section 5.2.9, revision 6 */
#define FACS_LEN		64	/* section 5.2.10 */
#define MADT_HDR_LEN		44	/* header + LAPIC address + flags */
#define ACPI_MAX_TABLES	3	/* FADT, MADT, MCFG in the XSDT/RSDT */
#define MCFG_LEN		(ACPI_HDR_LEN + 8 + 16)	/* one allocation */
#define ACPI_MAX_INTX		128

/* FADT Flags (section 5.2.9, Table 5.10). */
#define FADT_WBINVD		(1U << 0)
#define FADT_PROC_C1		(1U << 2)
#define FADT_SLP_BUTTON		(1U << 5)	/* no fixed sleep button */
#define FADT_TMR_VAL_EXT	(1U << 8)
#define FADT_RESET_REG_SUP	(1U << 10)
#define FADT_HEADLESS		(1U << 12)
#define FADT_APIC_PHYSICAL	(1U << 19)	/* as bhyve's FADT */

/* IA-PC Boot Architecture Flags (section 5.2.9.3, Table 5.11). */
#define BOOT_8042		(1U << 1)
#define BOOT_VGA_NOT_PRESENT	(1U << 2)
#define BOOT_PCIE_ASPM		(1U << 4)	/* OSPM must not touch ASPM */

/* Generic Address Structure (section 5.2.3.2). */
#define GAS_SYSTEM_IO		1
#define GAS_ACCESS_BYTE		1
#define GAS_ACCESS_WORD		2
#define GAS_ACCESS_DWORD	3

/* MADT (section 5.2.12). */
#define MADT_PCAT_COMPAT	1
#define MADT_LAPIC		0
#define MADT_IOAPIC		1
#define MADT_ISO		2
#define MADT_LAPIC_NMI		4
#define MADT_X2APIC		9
#define MADT_X2APIC_NMI		10
/* MPS INTI flags (Table 5.26): polarity bits 0-1, trigger bits 2-3. */
#define MPS_ACTIVE_HIGH		0x1
#define MPS_ACTIVE_LOW		0x3
#define MPS_EDGE		(0x1 << 2)
#define MPS_LEVEL		(0x3 << 2)
#define IOAPIC_ID		0	/* as bhyve; KVM's IOAPIC resets to 0 */
#define X2APIC_MIN_ID		255	/* 0xff is the xAPIC broadcast ID */

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

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

uint8_t
acpi_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len-- > 0)
		sum = (uint8_t)(sum + *b++);
	return (sum);
}

/* Store the byte that makes [p, p+len) sum to zero at p[off]. */
static void
acpi_checksum(uint8_t *p, size_t len, size_t off)
{
	p[off] = 0;
	p[off] = (uint8_t)(0x100 - acpi_sum(p, len));
}

/* System Description Table Header (section 5.2.6), checksum left 0. */
static void
acpi_header(uint8_t *p, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(p, sig, 4);
	put32(p + 4, len);
	p[8] = rev;
	memcpy(p + 10, ACPI_OEM_ID, 6);
	memcpy(p + 16, ACPI_OEM_TABLE_ID, 8);
	put32(p + 24, 1);			/* OEM revision */
	memcpy(p + 28, ACPI_CREATOR_ID, 4);
	put32(p + 32, 1);			/* creator revision */
}

/* Generic Address Structure (section 5.2.3.2). */
static void
acpi_gas(uint8_t *p, uint8_t space, uint8_t width, uint8_t access,
    uint64_t addr)
{
	p[0] = space;
	p[1] = width;
	p[2] = 0;				/* bit offset */
	p[3] = access;
	put64(p + 4, addr);
}

void
acpi_mmio64_default(uint64_t highmem, uint64_t *base, uint64_t *size)
{
	*base = roundup2(HIGHMEM_BASE + highmem, ACPI_MMIO64_DEFAULT_SIZE);
	*size = ACPI_MMIO64_DEFAULT_SIZE;
}

static int
acpi_check_config(const struct acpi_config *cfg)
{
	uint64_t ramtop;
	unsigned i;

	if (cfg->ncpus < 1 || cfg->ncpus > ACPI_MAX_CPUS)
		return (-EINVAL);
	if (cfg->lowmem > PCI_MMIO32_BASE ||
	    cfg->highmem > UINT64_MAX / 2)
		return (-EINVAL);
	if (cfg->mmio64_size != 0) {
		ramtop = HIGHMEM_BASE + cfg->highmem;
		if (cfg->mmio64_base < ramtop ||
		    cfg->mmio64_base > UINT64_MAX - cfg->mmio64_size)
			return (-EINVAL);
	}
	if (cfg->nintx > ACPI_MAX_INTX || (cfg->nintx != 0 && cfg->intx == NULL))
		return (-EINVAL);
	if (cfg->ecam_buses > 256 || (cfg->ecam_buses != 0 &&
	    (cfg->ecam_base & ((1ULL << 20) - 1)) != 0))
		return (-EINVAL);
	for (i = 0; i < cfg->nintx; i++) {
		if (cfg->intx[i].ai_slot >= 32 || cfg->intx[i].ai_pin < 1 ||
		    cfg->intx[i].ai_pin > 4 ||
		    cfg->intx[i].ai_gsi >= IOAPIC_NPINS)
			return (-EINVAL);
	}
	return (0);
}

/* ISA devices: the RTC, the i8042 and the COM ports (section 6.2.13). */
static void
dsdt_isa(struct aml *a, const struct acpi_config *cfg)
{
	static const uint16_t com_port[4] = {
		IO_COM1, IO_COM2, IO_COM3, IO_COM4
	};
	static const uint8_t com_irq[4] = {
		IRQ_COM1_3, IRQ_COM2_4, IRQ_COM1_3, IRQ_COM2_4
	};
	static const char *const com_name[4] = {
		"COM1", "COM2", "COM3", "COM4"
	};
	unsigned i;

	aml_device_begin(a, "RTC");
	aml_name_eisaid(a, "_HID", "PNP0B00");
	aml_name(a, "_CRS");
	aml_restemplate_begin(a);
	aml_res_io(a, IO_RTC, IO_RTC, 1, 2);
	aml_res_irq_noflags(a, IRQ_RTC);
	aml_restemplate_end(a);
	aml_end(a);

	aml_device_begin(a, "KBD");
	aml_name_eisaid(a, "_HID", "PNP0303");
	aml_name(a, "_CRS");
	aml_restemplate_begin(a);
	aml_res_io(a, IO_KBD_DATA, IO_KBD_DATA, 1, 1);
	aml_res_io(a, IO_KBD_STATUS, IO_KBD_STATUS, 1, 1);
	aml_res_irq_noflags(a, IRQ_KBD);
	aml_restemplate_end(a);
	aml_end(a);

	if (cfg->ps2_mouse) {
		aml_device_begin(a, "MOU");
		aml_name_eisaid(a, "_HID", "PNP0F13");
		aml_name(a, "_CRS");
		aml_restemplate_begin(a);
		aml_res_irq_noflags(a, IRQ_AUX);
		aml_restemplate_end(a);
		aml_end(a);
	}

	for (i = 0; i < nitems(com_port); i++) {
		if ((cfg->com_mask & (1U << i)) == 0)
			continue;
		aml_device_begin(a, com_name[i]);
		aml_name_eisaid(a, "_HID", "PNP0501");
		aml_name_integer(a, "_UID", i + 1);
		aml_name(a, "_CRS");
		aml_restemplate_begin(a);
		aml_res_io(a, com_port[i], com_port[i], 1, 8);
		aml_res_irq_noflags(a, com_irq[i]);
		aml_restemplate_end(a);
		aml_end(a);
	}
}

/*
 * The PCI host bridge (PCI Firmware Specification 3.2, section 4.1.1;
 * ACPI section 6.2.13 _CRS): bus numbers, the configuration ports, the
 * I/O space around them, the 32-bit MMIO hole and a 64-bit window.
 */
static void
dsdt_pci0(struct aml *a, const struct acpi_config *cfg)
{
	const struct acpi_intx *ix;
	uint64_t base64, size64;
	unsigned i;

	if (cfg->mmio64_size != 0) {
		base64 = cfg->mmio64_base;
		size64 = cfg->mmio64_size;
	} else
		acpi_mmio64_default(cfg->highmem, &base64, &size64);

	aml_device_begin(a, "PCI0");
	aml_name_eisaid(a, "_HID", "PNP0A03");
	aml_name_integer(a, "_ADR", 0);
	aml_name_integer(a, "_UID", 0);
	aml_name_integer(a, "_BBN", 0);
	aml_name(a, "_CRS");
	aml_restemplate_begin(a);
	aml_res_word_bus(a, 0, 255);
	aml_res_io(a, IO_PCI_CFGADDR, IO_PCI_CFGADDR, 1, 8);
	aml_res_dword_io(a, 0x0000, IO_PCI_CFGADDR - 1);
	aml_res_dword_io(a, 0x0d00, 0xffff);
	aml_res_dword_mem(a, false, (uint32_t)PCI_MMIO32_BASE,
	    (uint32_t)(PCI_MMIO32_LIMIT - 1));
	aml_res_qword_mem(a, false, base64, base64 + size64 - 1);
	aml_restemplate_end(a);

	/*
	 * _PRT (section 6.2.13): {Address 0xSSSSFFFF, Pin 0-3, Source 0,
	 * Source Index = GSI}; a zero Source means a hard-wired GSI.
	 */
	if (cfg->nintx != 0) {
		aml_name(a, "_PRT");
		aml_package_begin(a, cfg->nintx);
		for (i = 0; i < cfg->nintx; i++) {
			ix = &cfg->intx[i];
			aml_package_begin(a, 4);
			aml_integer(a, ((uint64_t)ix->ai_slot << 16) | 0xffff);
			aml_integer(a, ix->ai_pin - 1U);
			aml_integer(a, 0);
			aml_integer(a, ix->ai_gsi);
			aml_end(a);
		}
		aml_end(a);
	}
	dsdt_isa(a, cfg);
	aml_end(a);
}

int
acpi_build_dsdt(const struct acpi_config *cfg, uint8_t **bufp, size_t *lenp)
{
	struct aml a;
	uint8_t *buf;
	size_t len;
	int error;

	error = acpi_check_config(cfg);
	if (error != 0)
		return (error);
	aml_init(&a);

	/* \_S5: {SLP_TYPa, SLP_TYPb, reserved, reserved} (section 7.4.2). */
	aml_name(&a, "\\_S5");
	aml_package_begin(&a, 4);
	aml_integer(&a, ACPI_S5_SLP_TYP);
	aml_integer(&a, ACPI_S5_SLP_TYP);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_end(&a);

	aml_scope_begin(&a, "\\_SB");
	if (cfg->pci)
		dsdt_pci0(&a, cfg);
	else
		dsdt_isa(&a, cfg);
	aml_end(&a);

	error = aml_finish(&a);
	if (error != 0)
		goto out;
	len = ACPI_HDR_LEN + a.a_len;
	if (len > ACPI_MAX_LENGTH) {
		error = -ENOSPC;
		goto out;
	}
	buf = calloc(1, len);
	if (buf == NULL) {
		error = -ENOMEM;
		goto out;
	}
	/* Revision 2: integers are 64 bits wide (section 5.2.11.1). */
	acpi_header(buf, "DSDT", (uint32_t)len, 2);
	memcpy(buf + ACPI_HDR_LEN, a.a_buf, a.a_len);
	acpi_checksum(buf, len, 9);
	*bufp = buf;
	*lenp = len;
out:
	aml_free(&a);
	return (error);
}

/* Reserve len bytes at the next multiple of align in the image. */
static int
acpi_alloc(size_t *cur, size_t len, size_t align, size_t *off)
{
	size_t o;

	o = roundup2(*cur, align);
	if (o > ACPI_MAX_LENGTH || len > ACPI_MAX_LENGTH - o)
		return (-ENOSPC);
	*off = o;
	*cur = o + len;
	return (0);
}

/* Fixed ACPI Description Table, revision 6 (section 5.2.9). */
static void
acpi_fadt(uint8_t *p, const struct acpi_config *cfg, uint32_t facs,
    uint32_t dsdt)
{
	uint32_t flags;

	acpi_header(p, "FACP", FADT_LEN, 6);
	put32(p + 36, facs);			/* FIRMWARE_CTRL */
	put32(p + 40, dsdt);
	p[45] = 0;				/* Preferred_PM_Profile */
	put16(p + 46, IRQ_SCI);
	put32(p + 48, 0);			/* SMI_CMD: always ACPI mode */
	put32(p + 56, IO_PM1A_EVT);
	put32(p + 64, IO_PM1A_CNT);
	put32(p + 76, IO_PM_TIMER);
	p[88] = 4;				/* PM1_EVT_LEN */
	p[89] = 2;				/* PM1_CNT_LEN */
	p[91] = 4;				/* PM_TMR_LEN */
	put16(p + 96, 101);			/* P_LVL2_LAT > 100: no C2 */
	put16(p + 98, 1001);			/* P_LVL3_LAT > 1000: no C3 */
	p[108] = ACPI_RTC_CENTURY;
	put16(p + 109, BOOT_8042 | BOOT_VGA_NOT_PRESENT | BOOT_PCIE_ASPM);
	flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON |
	    FADT_RESET_REG_SUP | FADT_HEADLESS | FADT_APIC_PHYSICAL;
	if (cfg->pm_tmr_32bit)
		flags |= FADT_TMR_VAL_EXT;
	put32(p + 112, flags);
	acpi_gas(p + 116, GAS_SYSTEM_IO, 8, GAS_ACCESS_BYTE, IO_RESET_CONTROL);
	p[128] = 6;				/* RESET_VALUE: full reset */
	p[131] = 0;				/* FADT minor version */
	put64(p + 132, facs);			/* X_FIRMWARE_CTRL */
	put64(p + 140, dsdt);			/* X_DSDT */
	acpi_gas(p + 148, GAS_SYSTEM_IO, 32, GAS_ACCESS_WORD, IO_PM1A_EVT);
	acpi_gas(p + 172, GAS_SYSTEM_IO, 16, GAS_ACCESS_WORD, IO_PM1A_CNT);
	acpi_gas(p + 208, GAS_SYSTEM_IO, 32, GAS_ACCESS_DWORD, IO_PM_TIMER);
	acpi_checksum(p, FADT_LEN, 9);
}

/* Firmware ACPI Control Structure (section 5.2.10); no checksum. */
static void
acpi_facs(uint8_t *p)
{
	memcpy(p, "FACS", 4);
	put32(p + 4, FACS_LEN);
	p[32] = 2;				/* version */
}

static size_t
acpi_madt_len(int ncpus)
{
	size_t len;

	len = MADT_HDR_LEN + 12 + 2 * 10 + 6;	/* IOAPIC, 2 ISO, NMI */
	if (ncpus <= X2APIC_MIN_ID)
		return (len + (size_t)ncpus * 8);
	return (len + X2APIC_MIN_ID * 8 +
	    (size_t)(ncpus - X2APIC_MIN_ID) * 16 + 12);
}

static uint8_t *
madt_iso(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	e[0] = MADT_ISO;
	e[1] = 10;
	e[2] = 0;				/* bus: ISA */
	e[3] = irq;
	put32(e + 4, gsi);
	put16(e + 8, flags);
	return (e + 10);
}

/* Multiple APIC Description Table, revision 3 (section 5.2.12). */
static void
acpi_madt(uint8_t *p, size_t len, int ncpus)
{
	uint8_t *e;
	int i;

	acpi_header(p, "APIC", (uint32_t)len, 3);
	put32(p + 36, (uint32_t)LAPIC_BASE);
	put32(p + 40, MADT_PCAT_COMPAT);
	e = p + MADT_HDR_LEN;
	for (i = 0; i < ncpus; i++) {
		if (i < X2APIC_MIN_ID) {
			e[0] = MADT_LAPIC;
			e[1] = 8;
			e[2] = (uint8_t)i;	/* ACPI processor UID */
			e[3] = (uint8_t)i;	/* APIC ID */
			put32(e + 4, 1);	/* enabled */
			e += 8;
		} else {
			/* Section 5.2.12.12: APIC IDs 255 and up. */
			e[0] = MADT_X2APIC;
			e[1] = 16;
			put32(e + 4, (uint32_t)i);
			put32(e + 8, 1);
			put32(e + 12, (uint32_t)i);
			e += 16;
		}
	}
	e[0] = MADT_IOAPIC;
	e[1] = 12;
	e[2] = IOAPIC_ID;
	put32(e + 4, (uint32_t)IOAPIC_BASE);
	put32(e + 8, 0);			/* GSI base */
	e += 12;
	/* The PIT's IRQ0 is wired to pin 2; the SCI is level, active-low. */
	e = madt_iso(e, 0, 2, MPS_ACTIVE_HIGH | MPS_EDGE);
	e = madt_iso(e, IRQ_SCI, IRQ_SCI, MPS_ACTIVE_LOW | MPS_LEVEL);
	/* NMI on LINT1 of every processor (UID 0xff: all). */
	e[0] = MADT_LAPIC_NMI;
	e[1] = 6;
	e[2] = 0xff;
	put16(e + 3, MPS_ACTIVE_HIGH | MPS_EDGE);
	e[5] = 1;
	e += 6;
	if (ncpus > X2APIC_MIN_ID) {
		e[0] = MADT_X2APIC_NMI;
		e[1] = 12;
		put16(e + 2, MPS_ACTIVE_HIGH | MPS_EDGE);
		put32(e + 4, 0xffffffffU);
		e[8] = 1;
		e += 12;
	}
	acpi_checksum(p, len, 9);
}

/*
 * PCI Express memory-mapped configuration (PCI Firmware Specification
 * 3.2, §4.1.2): one allocation for segment 0, buses 0 to ecam_buses - 1.
 */
static void
acpi_mcfg(uint8_t *p, const struct acpi_config *cfg)
{
	acpi_header(p, "MCFG", MCFG_LEN, 1);
	put64(p + 44, cfg->ecam_base);
	put16(p + 52, 0);			/* PCI segment group */
	p[54] = 0;				/* start bus */
	p[55] = (uint8_t)(cfg->ecam_buses - 1);	/* end bus */
	acpi_checksum(p, MCFG_LEN, 9);
}

/* XSDT (64-bit entries) or RSDT (32-bit) listing the n tables at tab. */
static void
acpi_xsdt(uint8_t *p, bool x, const uint32_t *tab, unsigned n)
{
	uint32_t len;
	unsigned i;

	len = ACPI_HDR_LEN + n * (x ? 8 : 4);
	acpi_header(p, x ? "XSDT" : "RSDT", len, 1);
	for (i = 0; i < n; i++) {
		if (x)
			put64(p + 36 + 8 * i, tab[i]);
		else
			put32(p + 36 + 4 * i, tab[i]);
	}
	acpi_checksum(p, len, 9);
}

/* Root System Description Pointer, revision 2 (section 5.2.5.3). */
static void
acpi_rsdp(uint8_t *p, uint32_t rsdt, uint32_t xsdt)
{
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, ACPI_OEM_ID, 6);
	p[15] = 2;
	put32(p + 16, rsdt);
	put32(p + 20, RSDP_LEN);
	put64(p + 24, xsdt);
	acpi_checksum(p, 20, 8);		/* ACPI 1.0 part */
	acpi_checksum(p, RSDP_LEN, 32);		/* extended checksum */
}

int
acpi_build(struct gmem *mem, const struct acpi_config *cfg,
    uint64_t *rsdp_gpa)
{
	size_t cur, rsdp, xsdt, rsdt, fadt, facs, madt, dsdt, madt_len, mcfg;
	size_t dsdt_len;
	uint32_t tab[ACPI_MAX_TABLES];
	unsigned ntab;
	uint8_t *img, *dsdt_buf;
	int error;

#define GPA(off)	((uint32_t)(ACPI_BASE + (off)))
	error = acpi_build_dsdt(cfg, &dsdt_buf, &dsdt_len);
	if (error != 0)
		return (error);
	madt_len = acpi_madt_len(cfg->ncpus);
	ntab = cfg->ecam_buses != 0 ? 3 : 2;
	cur = 0;
	mcfg = 0;
	if ((error = acpi_alloc(&cur, RSDP_LEN, 16, &rsdp)) != 0 ||
	    (error = acpi_alloc(&cur, ACPI_HDR_LEN + 8 * ntab, 16,
	    &xsdt)) != 0 ||
	    (error = acpi_alloc(&cur, ACPI_HDR_LEN + 4 * ntab, 16,
	    &rsdt)) != 0 ||
	    (error = acpi_alloc(&cur, FADT_LEN, 16, &fadt)) != 0 ||
	    (error = acpi_alloc(&cur, FACS_LEN, 64, &facs)) != 0 ||
	    (error = acpi_alloc(&cur, madt_len, 16, &madt)) != 0 ||
	    (ntab == 3 && (error = acpi_alloc(&cur, MCFG_LEN, 16,
	    &mcfg)) != 0) ||
	    (error = acpi_alloc(&cur, dsdt_len, 16, &dsdt)) != 0)
		goto out_dsdt;
	img = calloc(1, cur);
	if (img == NULL) {
		error = -ENOMEM;
		goto out_dsdt;
	}
	memcpy(img + dsdt, dsdt_buf, dsdt_len);
	acpi_facs(img + facs);
	acpi_madt(img + madt, madt_len, cfg->ncpus);
	acpi_fadt(img + fadt, cfg, GPA(facs), GPA(dsdt));
	tab[0] = GPA(fadt);
	tab[1] = GPA(madt);
	if (ntab == 3) {
		acpi_mcfg(img + mcfg, cfg);
		tab[2] = GPA(mcfg);
	}
	acpi_xsdt(img + xsdt, true, tab, ntab);
	acpi_xsdt(img + rsdt, false, tab, ntab);
	acpi_rsdp(img + rsdp, GPA(rsdt), GPA(xsdt));
	error = gmem_write(mem, ACPI_BASE, img, cur);
	if (error == 0)
		*rsdp_gpa = ACPI_BASE + rsdp;
	free(img);
out_dsdt:
	free(dsdt_buf);
	return (error);
#undef GPA
}
