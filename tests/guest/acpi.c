/*
 * acpi: checks the ACPI tables the monitor gives the guest.
 *
 * Every table's checksum (RSDP both checksums, RSDT, XSDT and each table
 * they list, DSDT), RSDT and XSDT listing the same tables, FADT fields
 * (PM1a_CNT, PM timer, reset register), the MADT's enabled local APICs
 * against "ncpus=N", and \_S5_ in the DSDT.  Optional expectations from
 * the command line: pm1a_cnt=PORT, s5=N, reset=PORT, reset_value=N.
 * References: ACPI 6.4 §5.2.5-5.2.12.
 */
#include "kit.h"

static uint32_t rd32(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Walk the root table by hand; every entry must hold a valid table. */
static unsigned
check_root(const struct acpi_sdt *root, unsigned width, uint64_t *ents,
    unsigned max)
{
	const uint8_t *p = (const uint8_t *)(root + 1);
	unsigned i, n = (root->length - (unsigned)sizeof(*root)) / width;
	const struct acpi_sdt *t;
	uint64_t pa;

	GCHECK_EQ((root->length - sizeof(*root)) % width, 0);
	for (i = 0; i < n; i++) {
		pa = width == 8 ? rd64(p + 8 * i) : rd32(p + 4 * i);
		if (i < max)
			ents[i] = pa;
		GCHECK(pa >= 0x1000 && pa < (4ULL << 30));
		if (pa < 0x1000 || pa >= (4ULL << 30))
			continue;
		t = (const struct acpi_sdt *)(uintptr_t)pa;
		printf("  %.4s at 0x%08lx len %4u rev %u oem \"%.6s\" \"%.8s\"\n",
		    t->sig, pa, t->length, t->revision, t->oem_id,
		    t->oem_table_id);
		GCHECK(t->length >= sizeof(*t) && t->length < (1U << 20));
		if (t->length >= sizeof(*t) && t->length < (1U << 20))
			GCHECK(acpi_checksum_ok(t, t->length));
	}
	return (n);
}

static void
check_madt(const struct acpi_sdt *madt)
{
	const uint8_t *p = (const uint8_t *)madt, *e;
	unsigned off, lapics = 0, ioapics = 0, ncpus;
	uint8_t ids[256] = { 0 };

	GCHECK(madt->length >= 44);
	if (madt->length < 44)
		return;
	printf("MADT: local APIC address 0x%08x flags 0x%x\n", rd32(p + 36),
	    rd32(p + 40));
	GCHECK_EQ(rd32(p + 36), 0xfee00000);
	for (off = 44; off + 2 <= madt->length; off += e[1]) {
		e = p + off;
		if (e[1] < 2 || off + e[1] > madt->length) {
			printf("MADT: bad entry length %u at offset %u\n", e[1],
			    off);
			GCHECK(0);
			break;
		}
		switch (e[0]) {
		case 0:		/* Processor Local APIC (§5.2.12.2) */
			GCHECK_EQ(e[1], 8);
			if (e[1] != 8 || (rd32(e + 4) & 1) == 0)
				break;
			lapics++;
			GCHECK(ids[e[3]] == 0);		/* unique APIC IDs */
			ids[e[3]] = 1;
			break;
		case 1:		/* I/O APIC (§5.2.12.3) */
			GCHECK_EQ(e[1], 12);
			if (e[1] != 12)
				break;
			ioapics++;
			printf("MADT: I/O APIC id %u at 0x%08x GSI base %u\n",
			    e[2], rd32(e + 4), rd32(e + 8));
			GCHECK_EQ(rd32(e + 4), 0xfec00000);
			break;
		case 9:		/* Processor Local x2APIC (§5.2.12.12) */
			if (e[1] == 16 && (rd32(e + 8) & 1))
				lapics++;
			break;
		default:
			break;
		}
	}
	ncpus = (unsigned)arg_get_u64("ncpus", 0);
	printf("MADT: %u enabled local APICs, %u I/O APICs (ncpus=%u)\n",
	    lapics, ioapics, ncpus);
	GCHECK(lapics >= 1);
	GCHECK_EQ(ioapics, 1);
	if (ncpus != 0)
		GCHECK_EQ(lapics, ncpus);
}

static void
check_fadt(const struct acpi_info *a)
{
	const uint8_t *f = (const uint8_t *)a->fadt;
	uint32_t len = a->fadt->length;
	uint64_t facs;

	printf("FADT: rev %u len %u PM1a_CNT 0x%x PM_TMR 0x%x SCI %u "
	    "flags 0x%x\n", a->fadt->revision, len, a->pm1a_cnt, a->pm_tmr,
	    len >= 48 ? f[46] | f[47] << 8 : 0, len >= 116 ? rd32(f + 112) : 0);
	GCHECK(len >= 116);			/* the ACPI 1.0 fields */
	if (len < 116)
		return;
	GCHECK(a->pm1a_cnt != 0);
	GCHECK(f[89] >= 2);			/* PM1_CNT_LEN */
	GCHECK(a->pm_tmr != 0);
	GCHECK_EQ(f[91], 4);			/* PM_TMR_LEN */
	if (arg_get("pm1a_cnt") != NULL)
		GCHECK_EQ(a->pm1a_cnt, arg_get_u64("pm1a_cnt", 0));

	/* FACS: no checksum, but a signature and a length (§5.2.10). */
	facs = len >= 140 ? rd64(f + 132) : 0;
	if (facs == 0)
		facs = rd32(f + 36);
	if (facs != 0 && facs < (4ULL << 30)) {
		GCHECK(memcmp((const void *)(uintptr_t)facs, "FACS", 4) == 0);
		GCHECK(rd32((const void *)(uintptr_t)(facs + 4)) >= 64);
	}

	if (a->reset_reg_ok)
		printf("FADT: RESET_REG space %u width %u address 0x%lx "
		    "value 0x%x\n", a->reset_reg.space, a->reset_reg.bit_width,
		    a->reset_reg.address, a->reset_value);
	else
		printf("FADT: no reset register\n");
	if (arg_get("reset") != NULL) {
		GCHECK(a->reset_reg_ok);
		GCHECK_EQ(a->reset_reg.space, 1);	/* system I/O */
		GCHECK_EQ(a->reset_reg.bit_width, 8);
		GCHECK_EQ(a->reset_reg.address, arg_get_u64("reset", 0));
		GCHECK_EQ(a->reset_value, arg_get_u64("reset_value", 6));
	}
}

int
guest_main(void)
{
	const struct hvm_start_info *si = guest_start_info();
	const struct acpi_info *a = acpi_get();
	uint64_t rsdt_ents[64], xsdt_ents[64], scan = acpi_scan_rsdp();
	unsigned i, nr = 0, nx = 0;

	printf("RSDP: start_info 0x%lx, scan 0x%lx, using 0x%lx\n",
	    si != NULL ? si->rsdp_paddr : 0, scan, a->rsdp_pa);
	GCHECK(a->rsdp != NULL);
	if (a->rsdp == NULL)
		return (1);
	printf("RSDP: rev %u oem \"%.6s\"\n", a->rsdp[15], a->rsdp + 9);
	GCHECK(acpi_checksum_ok(a->rsdp, 20));
	if (a->rsdp[15] >= 2) {
		GCHECK_EQ(rd32(a->rsdp + 20), 36);
		GCHECK(acpi_checksum_ok(a->rsdp, 36));
		GCHECK(a->xsdt != NULL);
	}
	if (rd32(a->rsdp + 16) != 0)
		GCHECK(a->rsdt != NULL);
	if (a->rsdt != NULL) {
		printf("RSDT at 0x%x:\n", rd32(a->rsdp + 16));
		nr = check_root(a->rsdt, 4, rsdt_ents, 64);
	}
	if (a->xsdt != NULL) {
		printf("XSDT at 0x%lx:\n", rd64(a->rsdp + 24));
		nx = check_root(a->xsdt, 8, xsdt_ents, 64);
	}
	if (a->rsdt != NULL && a->xsdt != NULL) {
		GCHECK_EQ(nr, nx);
		for (i = 0; i < nr && i < nx && i < 64; i++)
			GCHECK_EQ(rsdt_ents[i], xsdt_ents[i]);
	}

	GCHECK(a->fadt != NULL);
	if (a->fadt != NULL)
		check_fadt(a);
	GCHECK(a->madt != NULL);
	if (a->madt != NULL)
		check_madt(a->madt);

	GCHECK(a->dsdt != NULL);
	if (a->dsdt != NULL)
		printf("DSDT: len %u oem \"%.6s\"\n", a->dsdt->length,
		    a->dsdt->oem_id);
	GCHECK(a->s5_found);
	if (a->s5_found)
		printf("\\_S5_: SLP_TYPa %u SLP_TYPb %u\n", a->s5_typ_a,
		    a->s5_typ_b);
	if (arg_get("s5") != NULL)
		GCHECK_EQ(a->s5_typ_a, arg_get_u64("s5", 0));
	return (0);
}
