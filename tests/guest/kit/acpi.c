/*
 * acpi.c: find the ACPI tables, validate them, and pull out what the exits
 * need: PM1 control ports, the \_S5_ sleep type, the reset register.
 *
 * References: ACPI 6.4 §5.2.5 (RSDP), §5.2.7-8 (RSDT/XSDT), §5.2.9 (FADT
 * field offsets), §5.2.12 (MADT), §20.2.5 (AML NameOp, PackageOp,
 * PkgLength and data objects).  The monitor built these tables, so they
 * are trusted no further than the identity map reaches: every address is
 * range-checked, every length bounded, nothing is written.
 */
#include "kit.h"

#define MAP_LIMIT	(4ULL << 30)	/* entry.S maps 0-4 GiB */
#define PAGE0_END	0x1000ULL	/* page 0 is left unmapped */
#define TABLE_MAX	(1U << 20)	/* no sane table is larger */

static struct acpi_info info;
static int probed;

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static int
pa_ok(uint64_t pa, uint64_t len)
{
	return (pa >= PAGE0_END && len <= MAP_LIMIT && pa <= MAP_LIMIT - len);
}

int
acpi_checksum_ok(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len-- > 0)
		sum = (uint8_t)(sum + *b++);
	return (sum == 0);
}

/* A table at pa with the given signature (NULL: any), valid checksum. */
static const struct acpi_sdt *
table_at(uint64_t pa, const char *sig)
{
	const struct acpi_sdt *t;

	if (!pa_ok(pa, sizeof(*t)))
		return (NULL);
	t = (const struct acpi_sdt *)(uintptr_t)pa;
	if (sig != NULL && memcmp(t->sig, sig, 4) != 0)
		return (NULL);
	if (t->length < sizeof(*t) || t->length > TABLE_MAX ||
	    !pa_ok(pa, t->length))
		return (NULL);
	if (!acpi_checksum_ok(t, t->length)) {
		printf("kit: acpi: %.4s at 0x%lx: bad checksum\n", t->sig, pa);
		return (NULL);
	}
	return (t);
}

static int
rsdp_ok(uint64_t pa)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)pa;
	uint32_t len;

	if (!pa_ok(pa, 36) || memcmp(p, "RSD PTR ", 8) != 0 ||
	    !acpi_checksum_ok(p, 20))
		return (0);
	if (p[15] >= 2) {
		len = rd32(p + 20);
		if (len < 36 || len > 4096 || !pa_ok(pa, len) ||
		    !acpi_checksum_ok(p, len))
			return (0);
	}
	return (1);
}

uint64_t
acpi_scan_rsdp(void)
{
	uint64_t pa;

	/* ACPI 6.4 §5.2.5.1: on 16-byte boundaries in the BIOS ROM area. */
	for (pa = 0xe0000; pa < 0x100000; pa += 16)
		if (rsdp_ok(pa))
			return (pa);
	return (0);
}

const struct acpi_sdt *
acpi_find_table(const char *sig, int index)
{
	const struct acpi_sdt *root;
	const uint8_t *ent;
	unsigned i, n, width;
	uint64_t pa;
	const struct acpi_sdt *t;

	root = info.xsdt != NULL ? info.xsdt : info.rsdt;
	if (root == NULL)
		return (NULL);
	width = root == info.xsdt ? 8 : 4;
	n = (root->length - (unsigned)sizeof(*root)) / width;
	ent = (const uint8_t *)(root + 1);
	for (i = 0; i < n; i++) {
		pa = width == 8 ? rd64(ent + i * 8) : rd32(ent + i * 4);
		t = table_at(pa, sig);
		if (t != NULL && index-- == 0)
			return (t);
	}
	return (NULL);
}

/* AML integer data objects (§20.2.3): ZeroOp, OneOp, OnesOp, prefixes. */
static int
aml_int(const uint8_t *p, const uint8_t *end, uint64_t *v, size_t *used)
{
	static const uint8_t sizes[] = { [0x0a] = 1, [0x0b] = 2, [0x0c] = 4,
	    [0x0e] = 8 };
	size_t n, i;

	if (p >= end)
		return (-1);
	if (*p == 0x00 || *p == 0x01) {
		*v = *p;
		*used = 1;
		return (0);
	}
	if (*p == 0xff) {
		*v = ~0ULL;
		*used = 1;
		return (0);
	}
	if (*p >= sizeof(sizes) || sizes[*p] == 0)
		return (-1);
	n = sizes[*p];
	if ((size_t)(end - p) < n + 1)
		return (-1);
	*v = 0;
	for (i = 0; i < n; i++)
		*v |= (uint64_t)p[1 + i] << (8 * i);
	*used = n + 1;
	return (0);
}

int
acpi_parse_s5(const uint8_t *aml, size_t len, uint8_t *typ_a, uint8_t *typ_b)
{
	const uint8_t *end = aml + len, *p, *q;
	size_t i, used, lenbytes;
	uint64_t a, b;
	unsigned nelem;

	for (i = 1; i + 4 < len; i++) {
		p = aml + i;
		if (memcmp(p, "_S5_", 4) != 0)
			continue;
		/* NameOp, optionally followed by the root prefix '\'. */
		if (!(p[-1] == 0x08 || (p[-1] == '\\' && i >= 2 && p[-2] == 0x08)))
			continue;
		q = p + 4;
		if (q >= end || *q++ != 0x12)		/* PackageOp */
			continue;
		if (q >= end)
			continue;
		lenbytes = *q >> 6;			/* PkgLength §20.2.4 */
		if ((size_t)(end - q) < lenbytes + 2)
			continue;
		q += 1 + lenbytes;
		nelem = *q++;				/* NumElements */
		if (nelem < 1 || aml_int(q, end, &a, &used) != 0)
			continue;
		q += used;
		b = 0;
		if (nelem >= 2 && aml_int(q, end, &b, &used) != 0)
			continue;
		*typ_a = (uint8_t)a;
		*typ_b = (uint8_t)b;
		return (0);
	}
	return (-1);
}

/* A FADT I/O port: the X_ GAS when it names system I/O, else the legacy. */
static uint32_t
fadt_port(const uint8_t *f, uint32_t flen, unsigned legacy, unsigned xoff)
{
	struct acpi_gas g;

	if (flen >= xoff + sizeof(g)) {
		memcpy(&g, f + xoff, sizeof(g));
		if (g.space == 1 && g.address != 0 && g.address < 0x10000)
			return ((uint32_t)g.address);
	}
	return (flen >= legacy + 4 ? rd32(f + legacy) : 0);
}

static void
acpi_probe(void)
{
	const struct hvm_start_info *si = guest_start_info();
	const uint8_t *f, *r;
	const struct acpi_sdt *t;
	uint64_t pa = 0, dsdt_pa;
	uint32_t flen;
	int i;

	if (si != NULL && si->rsdp_paddr != 0) {
		if (rsdp_ok(si->rsdp_paddr)) {
			pa = si->rsdp_paddr;
			info.rsdp_from_start_info = 1;
		} else {
			printf("kit: acpi: start_info.rsdp_paddr 0x%lx: no "
			    "valid RSDP there\n", si->rsdp_paddr);
		}
	}
	if (pa == 0)
		pa = acpi_scan_rsdp();
	if (pa == 0)
		return;
	info.rsdp_pa = pa;
	info.rsdp = r = (const uint8_t *)(uintptr_t)pa;
	info.rsdt = table_at(rd32(r + 16), "RSDT");
	if (r[15] >= 2)
		info.xsdt = table_at(rd64(r + 24), "XSDT");
	info.fadt = acpi_find_table("FACP", 0);
	info.madt = acpi_find_table("APIC", 0);
	if (info.fadt == NULL)
		return;

	f = (const uint8_t *)info.fadt;
	flen = info.fadt->length;
	dsdt_pa = flen >= 148 ? rd64(f + 140) : 0;	/* X_DSDT */
	if (dsdt_pa == 0 && flen >= 44)
		dsdt_pa = rd32(f + 40);			/* DSDT */
	info.dsdt = table_at(dsdt_pa, "DSDT");
	info.pm1a_cnt = fadt_port(f, flen, 64, 172);
	info.pm1b_cnt = fadt_port(f, flen, 68, 184);
	info.pm_tmr = fadt_port(f, flen, 76, 208);
	/* Flags bit 10 RESET_REG_SUP; RESET_REG at 116, RESET_VALUE at 128. */
	if (flen >= 129 && (rd32(f + 112) & (1u << 10))) {
		memcpy(&info.reset_reg, f + 116, sizeof(info.reset_reg));
		info.reset_value = f[128];
		info.reset_reg_ok = info.reset_reg.address != 0;
	}

	if (info.dsdt != NULL && acpi_parse_s5((const uint8_t *)(info.dsdt + 1),
	    info.dsdt->length - sizeof(*info.dsdt), &info.s5_typ_a,
	    &info.s5_typ_b) == 0) {
		info.s5_found = 1;
		return;
	}
	for (i = 0; (t = acpi_find_table("SSDT", i)) != NULL; i++) {
		if (acpi_parse_s5((const uint8_t *)(t + 1),
		    t->length - sizeof(*t), &info.s5_typ_a,
		    &info.s5_typ_b) == 0) {
			info.s5_found = 1;
			return;
		}
	}
}

const struct acpi_info *
acpi_get(void)
{
	if (!probed) {
		probed = 1;
		acpi_probe();
	}
	return (&info);
}

uint32_t
acpi_pm_timer(void)
{
	const struct acpi_info *a = acpi_get();

	return (a->pm_tmr != 0 ? inl((uint16_t)a->pm_tmr) : 0);
}
