/*
 * test_acpi.c: the ACPI tables in guest RAM, read back the way a guest
 * would: RSDP -> XSDT/RSDT -> FADT/MADT -> FACS/DSDT.  The DSDT is decoded
 * with a small AML reader written here, independent of aml.c.
 */
#include <errno.h>
#include "test.h"
#include "fake.h"
#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"

#define RAMSIZE		(2 * MiB)

static uint32_t
rd16(const uint8_t *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (rd16(p) | rd16(p + 2) << 16);
}

static uint64_t
rd64(const uint8_t *p)
{
	return ((uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32);
}

static unsigned
sum8(const uint8_t *p, size_t len)
{
	unsigned s = 0;

	while (len-- > 0)
		s += *p++;
	return (s & 0xff);
}

/* A table at gpa inside the ACPI window, with its checksum verified. */
static const uint8_t *
table_at(struct fake_vm *fv, uint64_t gpa, const char *sig)
{
	const uint8_t *t;
	uint32_t len;

	if (gpa < ACPI_BASE || gpa + 36 > ACPI_BASE + ACPI_MAX_LENGTH)
		return (NULL);
	t = fv->ram + gpa;
	len = rd32(t + 4);
	if (memcmp(t, sig, 4) != 0 || len < 36 ||
	    gpa + len > ACPI_BASE + ACPI_MAX_LENGTH)
		return (NULL);
	if (sum8(t, len) != 0) {
		printf("  %s: bad checksum\n", sig);
		return (NULL);
	}
	if (memcmp(t + 10, "KHYVE ", 6) != 0 ||
	    memcmp(t + 16, "KHYVEVM ", 8) != 0 ||
	    memcmp(t + 28, "KHYV", 4) != 0)
		return (NULL);
	return (t);
}

struct tables {
	const uint8_t	*rsdp, *xsdt, *rsdt, *fadt, *madt, *facs, *dsdt;
	uint64_t	facs_gpa;
};

/* Build with cfg into a fresh 2 MiB fake VM and find every table. */
static int
build(struct fake_vm *fv, const struct acpi_config *cfg, struct tables *t)
{
	uint64_t rsdp, gpa;
	const uint8_t *tb;
	unsigned i, n;
	int error;

	fake_vm_init(fv, RAMSIZE, cfg->ncpus);
	memset(fv->ram, 0xa5, RAMSIZE);
	memset(t, 0, sizeof(*t));
	error = acpi_build(&fv->mem, cfg, &rsdp);
	if (error != 0)
		return (error);
	CHECK_EQ(rsdp, ACPI_BASE);
	t->rsdp = fv->ram + rsdp;
	t->xsdt = table_at(fv, rd64(t->rsdp + 24), "XSDT");
	t->rsdt = table_at(fv, rd32(t->rsdp + 16), "RSDT");
	if (t->xsdt == NULL || t->rsdt == NULL)
		return (-EIO);
	n = (rd32(t->xsdt + 4) - 36) / 8;
	CHECK_EQ(n, 2);
	CHECK_EQ((rd32(t->rsdt + 4) - 36) / 4, n);
	for (i = 0; i < n; i++) {
		gpa = rd64(t->xsdt + 36 + 8 * i);
		CHECK_EQ(rd32(t->rsdt + 36 + 4 * i), gpa);
		if ((tb = table_at(fv, gpa, "FACP")) != NULL)
			t->fadt = tb;
		else if ((tb = table_at(fv, gpa, "APIC")) != NULL)
			t->madt = tb;
	}
	if (t->fadt == NULL || t->madt == NULL)
		return (-EIO);
	t->dsdt = table_at(fv, rd64(t->fadt + 140), "DSDT");
	t->facs_gpa = rd64(t->fadt + 132);
	if (t->dsdt == NULL || t->facs_gpa < ACPI_BASE ||
	    t->facs_gpa + 64 > ACPI_BASE + ACPI_MAX_LENGTH)
		return (-EIO);
	t->facs = fv->ram + t->facs_gpa;
	return (0);
}

/* Build or end the test: nothing below can run without the tables. */
#define BUILD_OR_RETURN(fv, c, t) do {					\
	int __e = build((fv), (c), (t));				\
	CHECK_EQ(__e, 0);						\
	if (__e != 0) {							\
		fake_vm_fini(fv);					\
		return;							\
	}								\
} while (0)

static struct acpi_config
default_config(int ncpus)
{
	struct acpi_config c;

	memset(&c, 0, sizeof(c));
	c.ncpus = ncpus;
	c.lowmem = 1 * GiB;
	c.highmem = 3 * GiB;
	c.pci = true;
	c.com_mask = 0x1;
	return (c);
}

TEST(rsdp_and_roots)
{
	struct acpi_config c = default_config(2);
	struct fake_vm fv;
	struct tables t;
	uint64_t i;

	BUILD_OR_RETURN(&fv, &c, &t);
	CHECK(memcmp(t.rsdp, "RSD PTR ", 8) == 0);
	CHECK_EQ(sum8(t.rsdp, 20), 0);
	CHECK_EQ(sum8(t.rsdp, 36), 0);
	CHECK(memcmp(t.rsdp + 9, "KHYVE ", 6) == 0);
	CHECK_EQ(t.rsdp[15], 2);
	CHECK_EQ(rd32(t.rsdp + 20), 36);
	CHECK_EQ(ACPI_BASE % 16, 0);
	CHECK_EQ(rd32(t.xsdt + 4), 36 + 16);
	/* Nothing outside the window was touched. */
	for (i = 0; i < ACPI_BASE; i++)
		if (fv.ram[i] != 0xa5)
			break;
	CHECK_EQ(i, ACPI_BASE);
	for (i = ACPI_BASE + ACPI_MAX_LENGTH; i < RAMSIZE; i++)
		if (fv.ram[i] != 0xa5)
			break;
	CHECK_EQ(i, RAMSIZE);
	fake_vm_fini(&fv);
}

TEST(fadt_fields)
{
	struct acpi_config c = default_config(1);
	const uint8_t *f;
	struct fake_vm fv;
	struct tables t;
	uint32_t flags;

	BUILD_OR_RETURN(&fv, &c, &t);
	f = t.fadt;
	CHECK_EQ(rd32(f + 4), 276);
	CHECK_EQ(f[8], 6);
	CHECK_EQ(rd32(f + 36), t.facs_gpa);		/* FIRMWARE_CTRL */
	CHECK_EQ(rd32(f + 40), t.dsdt - fv.ram);	/* DSDT */
	CHECK_EQ(rd16(f + 46), 9);			/* SCI_INT */
	CHECK_EQ(rd32(f + 48), 0);			/* SMI_CMD */
	CHECK_EQ(rd32(f + 56), 0x400);			/* PM1a_EVT_BLK */
	CHECK_EQ(rd32(f + 64), 0x404);			/* PM1a_CNT_BLK */
	CHECK_EQ(rd32(f + 76), 0x408);			/* PM_TMR_BLK */
	CHECK_EQ(f[88], 4);
	CHECK_EQ(f[89], 2);
	CHECK_EQ(f[91], 4);
	CHECK_EQ(rd16(f + 109), 0x16);	/* 8042, no VGA, no ASPM */
	flags = rd32(f + 112);
	CHECK((flags & (1U << 0)) != 0);		/* WBINVD */
	CHECK((flags & (1U << 2)) != 0);		/* PROC_C1 */
	CHECK((flags & (1U << 4)) == 0);		/* fixed power button */
	CHECK((flags & (1U << 5)) != 0);		/* no sleep button */
	CHECK((flags & (1U << 8)) == 0);		/* 24-bit timer */
	CHECK((flags & (1U << 10)) != 0);		/* RESET_REG_SUP */
	CHECK((flags & (1U << 20)) == 0);		/* not HW-reduced */
	/* RESET_REG: system I/O, 8 bits, byte access, 0xcf9, value 6. */
	CHECK_EQ(f[116], 1);
	CHECK_EQ(f[117], 8);
	CHECK_EQ(f[119], 1);
	CHECK_EQ(rd64(f + 120), 0xcf9);
	CHECK_EQ(f[128], 6);
	CHECK_EQ(rd64(f + 132), t.facs_gpa);		/* X_FIRMWARE_CTRL */
	CHECK_EQ(rd64(f + 140), rd32(f + 40));		/* X_DSDT */
	CHECK_EQ(f[148], 1);				/* X_PM1a_EVT_BLK */
	CHECK_EQ(f[149], 32);
	CHECK_EQ(rd64(f + 152), 0x400);
	CHECK_EQ(f[173], 16);				/* X_PM1a_CNT_BLK */
	CHECK_EQ(rd64(f + 176), 0x404);
	CHECK_EQ(f[209], 32);				/* X_PM_TMR_BLK */
	CHECK_EQ(rd64(f + 212), 0x408);
	/* FACS: 64-byte aligned, 64 bytes. */
	CHECK_EQ(t.facs_gpa % 64, 0);
	CHECK(memcmp(t.facs, "FACS", 4) == 0);
	CHECK_EQ(rd32(t.facs + 4), 64);
	fake_vm_fini(&fv);

	c.pm_tmr_32bit = true;
	BUILD_OR_RETURN(&fv, &c, &t);
	CHECK((rd32(t.fadt + 112) & (1U << 8)) != 0);
	fake_vm_fini(&fv);
}

/* Walk the MADT and check it describes exactly ncpus processors. */
static void
check_madt(int ncpus)
{
	struct acpi_config c = default_config(ncpus);
	unsigned nlapic, nx2apic, nioapic, niso, nnmi, id;
	const uint8_t *m, *e, *end;
	struct fake_vm fv;
	struct tables t;
	uint8_t seen[ACPI_MAX_CPUS];

	memset(seen, 0, sizeof(seen));
	nlapic = nx2apic = nioapic = niso = nnmi = 0;
	BUILD_OR_RETURN(&fv, &c, &t);
	m = t.madt;
	CHECK_EQ(rd32(m + 36), 0xfee00000);
	CHECK_EQ(rd32(m + 40) & 1, 1);			/* PCAT_COMPAT */
	end = m + rd32(m + 4);
	for (e = m + 44; e + 2 <= end && e[1] >= 2; e += e[1]) {
		switch (e[0]) {
		case 0:
			CHECK_EQ(e[1], 8);
			id = e[3];
			CHECK_EQ(e[2], id);
			CHECK_EQ(rd32(e + 4), 1);
			if (id < (unsigned)ncpus && !seen[id]++)
				nlapic++;
			break;
		case 9:
			CHECK_EQ(e[1], 16);
			id = rd32(e + 4);
			CHECK(id >= 255);
			CHECK_EQ(rd32(e + 8), 1);
			if (id < (unsigned)ncpus && !seen[id]++)
				nx2apic++;
			break;
		case 1:
			CHECK_EQ(e[1], 12);
			CHECK_EQ(e[2], 0);
			CHECK_EQ(rd32(e + 4), 0xfec00000);
			CHECK_EQ(rd32(e + 8), 0);
			nioapic++;
			break;
		case 2:
			CHECK_EQ(e[1], 10);
			CHECK_EQ(e[2], 0);
			if (e[3] == 0) {
				CHECK_EQ(rd32(e + 4), 2);
				CHECK_EQ(rd16(e + 8), 0x5);
			} else {
				CHECK_EQ(e[3], 9);
				CHECK_EQ(rd32(e + 4), 9);
				CHECK_EQ(rd16(e + 8), 0xf);
			}
			niso++;
			break;
		case 4:
			CHECK_EQ(e[2], 0xff);
			CHECK_EQ(e[5], 1);			/* LINT1 */
			nnmi++;
			break;
		case 10:
			CHECK_EQ(rd32(e + 4), 0xffffffff);
			CHECK_EQ(e[8], 1);
			break;
		default:
			CHECK(0);
		}
	}
	CHECK(e == end);
	CHECK_EQ(nlapic + nx2apic, ncpus);
	CHECK_EQ(nlapic, MIN(ncpus, 255));
	CHECK_EQ(nioapic, 1);
	CHECK_EQ(niso, 2);
	CHECK_EQ(nnmi, 1);
	fake_vm_fini(&fv);
}

TEST(madt_1_2_4_16_64)
{
	check_madt(1);
	check_madt(2);
	check_madt(4);
	check_madt(16);
	check_madt(64);
}

TEST(madt_x2apic_beyond_254)
{
	check_madt(255);
	check_madt(300);
	check_madt(ACPI_MAX_CPUS);
}

/*
 * A minimal AML reader: Name, Scope, Device and Method terms; integer,
 * string, buffer and package data.  It records every Name by its full
 * path ("\\_SB_.PCI0._HID").
 */
struct named {
	char		path[64];
	uint8_t		op;		/* 0x12 package, 0x11 buffer, ... */
	uint64_t	ival;		/* integer value */
	const uint8_t	*data;		/* buffer bytes / package elements */
	size_t		len;		/* buffer size / package count */
};

struct reader {
	const uint8_t	*p, *end;
	int		bad;
	struct named	obj[64];
	unsigned	nobj;
};

static size_t
r_pkglen(struct reader *r)
{
	const uint8_t *start = r->p;
	size_t v, n, i;

	if (r->p >= r->end)
		goto bad;
	n = *r->p >> 6;
	v = n == 0 ? (size_t)(*r->p & 0x3f) : (size_t)(*r->p & 0x0f);
	if (n != 0 && (*r->p & 0x30) != 0)
		goto bad;
	if (r->p + 1 + n > r->end)
		goto bad;
	for (i = 0; i < n; i++)
		v |= (size_t)r->p[1 + i] << (4 + 8 * i);
	r->p += 1 + n;
	if (v < 1 + n || start + v > r->end)
		goto bad;
	return ((size_t)(start + v - r->p));	/* bytes after PkgLength */
bad:
	r->bad = 1;
	r->p = r->end;
	return (0);
}

/* Decode a NameString relative to scope into out. */
static void
r_name(struct reader *r, const char *scope, char *out, size_t outlen)
{
	unsigned nseg, i;
	int root = 0;

	if (r->p < r->end && *r->p == '\\') {
		root = 1;
		r->p++;
	}
	if (r->p >= r->end)
		goto bad;
	if (*r->p == 0x2e) {
		nseg = 2;
		r->p++;
	} else if (*r->p == 0x2f) {
		if (r->p + 1 >= r->end)
			goto bad;
		nseg = r->p[1];
		r->p += 2;
	} else if (*r->p == 0x00) {
		nseg = 0;
		r->p++;
	} else
		nseg = 1;
	if (r->p + 4 * nseg > r->end)
		goto bad;
	snprintf(out, outlen, "%s", root ? "\\" : scope);
	for (i = 0; i < nseg; i++, r->p += 4) {
		if (strlen(out) > 1)
			strncat(out, ".", outlen - strlen(out) - 1);
		strncat(out, (const char *)r->p,
		    MIN(4, outlen - strlen(out) - 1));
	}
	return;
bad:
	r->bad = 1;
	r->p = r->end;
}

static void r_data(struct reader *r, struct named *o);

static uint64_t
r_le(struct reader *r, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	if (r->p + n > r->end) {
		r->bad = 1;
		r->p = r->end;
		return (0);
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return (v);
}

static void
r_data(struct reader *r, struct named *o)
{
	const uint8_t *after;
	struct named tmp;
	uint8_t op;
	size_t n, i;

	if (r->p >= r->end) {
		r->bad = 1;
		return;
	}
	op = *r->p++;
	o->op = op;
	switch (op) {
	case 0x00: o->ival = 0; break;
	case 0x01: o->ival = 1; break;
	case 0xff: o->ival = UINT64_MAX; break;
	case 0x0a: o->ival = r_le(r, 1); break;
	case 0x0b: o->ival = r_le(r, 2); break;
	case 0x0c: o->ival = r_le(r, 4); break;
	case 0x0e: o->ival = r_le(r, 8); break;
	case 0x0d:
		o->data = r->p;
		while (r->p < r->end && *r->p != 0)
			r->p++;
		o->len = (size_t)(r->p - o->data);
		r_le(r, 1);
		break;
	case 0x11:
		n = r_pkglen(r);
		after = r->p + n;
		r_data(r, &tmp);			/* BufferSize */
		o->data = r->p;
		o->len = (size_t)tmp.ival;
		if (after - r->p != (long)o->len)
			r->bad = 1;
		r->p = after;
		break;
	case 0x12:
		n = r_pkglen(r);
		after = r->p + n;
		o->len = r_le(r, 1);
		o->data = r->p;
		for (i = 0; i < o->len && !r->bad; i++)
			r_data(r, &tmp);
		if (r->p != after)
			r->bad = 1;
		break;
	default:
		r->bad = 1;
	}
	if (r->bad)
		r->p = r->end;
}

static void
r_terms(struct reader *r, const uint8_t *end, const char *scope)
{
	const uint8_t *save, *after;
	char path[64];
	struct named *o;
	size_t n;

	save = r->end;
	r->end = end;
	while (r->p < r->end && !r->bad) {
		switch (*r->p++) {
		case 0x08:
			r_name(r, scope, path, sizeof(path));
			o = &r->obj[r->nobj < nitems(r->obj) ? r->nobj++ : 0];
			memset(o, 0, sizeof(*o));
			snprintf(o->path, sizeof(o->path), "%s", path);
			r_data(r, o);
			break;
		case 0x5b:
			if (r->p >= r->end || *r->p++ != 0x82)
				goto bad;
			/* FALLTHROUGH */
		case 0x10:
			n = r_pkglen(r);
			after = r->p + n;
			r_name(r, scope, path, sizeof(path));
			r_terms(r, after, path);
			break;
		case 0x14:
			n = r_pkglen(r);
			after = r->p + n;
			r->p = after;			/* skip the body */
			break;
		default:
			goto bad;
		}
	}
	r->end = save;
	return;
bad:
	r->bad = 1;
	r->p = r->end = save;
}

static const struct named *
find(const struct reader *r, const char *path)
{
	unsigned i;

	for (i = 0; i < r->nobj; i++)
		if (strcmp(r->obj[i].path, path) == 0)
			return (&r->obj[i]);
	return (NULL);
}

static void
read_dsdt(struct reader *r, const uint8_t *dsdt)
{
	memset(r, 0, sizeof(*r));
	r->p = dsdt + 36;
	r->end = dsdt + rd32(dsdt + 4);
	r_terms(r, r->end, "\\");
}

TEST(dsdt_s5)
{
	struct acpi_config c = default_config(1);
	const struct named *s5;
	struct fake_vm fv;
	struct tables t;
	struct reader r;
	struct named e;
	unsigned i;
	uint64_t want[4] = { ACPI_S5_SLP_TYP, ACPI_S5_SLP_TYP, 0, 0 };

	BUILD_OR_RETURN(&fv, &c, &t);
	CHECK_EQ(t.dsdt[8], 2);				/* 64-bit integers */
	read_dsdt(&r, t.dsdt);
	CHECK(!r.bad);
	s5 = find(&r, "\\_S5_");
	CHECK(s5 != NULL);
	if (s5 != NULL) {
		CHECK_EQ(s5->op, 0x12);
		CHECK_EQ(s5->len, 4);
		r.p = s5->data;
		r.end = t.dsdt + rd32(t.dsdt + 4);
		for (i = 0; i < 4 && i < s5->len; i++) {
			r_data(&r, &e);
			CHECK_EQ(e.ival, want[i]);
		}
	}
	fake_vm_fini(&fv);
}

/* Find the descriptor with tag (and, for address spaces, min) in a _CRS. */
static const uint8_t *
res_find(const struct named *crs, uint8_t tag, uint64_t min)
{
	const uint8_t *p, *end;
	size_t dlen;

	if (crs == NULL || crs->op != 0x11)
		return (NULL);
	p = crs->data;
	end = p + crs->len;
	while (p < end) {
		if (*p & 0x80) {
			dlen = 3 + rd16(p + 1);
			if (*p == tag && (tag == 0x86 || tag == 0x89 ||
			    (tag == 0x88 && rd16(p + 8) == min) ||
			    (tag == 0x87 && rd32(p + 10) == min) ||
			    (tag == 0x8a && rd64(p + 14) == min)))
				return (p);
		} else {
			dlen = 1 + (*p & 7);
			if ((*p >> 3) == 0xf)		/* end tag */
				return (sum8(crs->data, crs->len) == 0 &&
				    p + 2 == end && tag == 0x79 ? p : NULL);
			if (*p == tag && (tag != 0x47 || rd16(p + 2) == min))
				return (p);
		}
		p += dlen;
	}
	return (NULL);
}

TEST(dsdt_pci0)
{
	struct acpi_config c = default_config(2);
	static const struct acpi_intx ix[] = { { 3, 1, 16 }, { 4, 2, 19 } };
	const struct named *crs, *prt, *o;
	const uint8_t *d;
	struct fake_vm fv;
	struct tables t;
	struct reader r;

	c.intx = ix;
	c.nintx = 2;
	BUILD_OR_RETURN(&fv, &c, &t);
	read_dsdt(&r, t.dsdt);
	CHECK(!r.bad);
	o = find(&r, "\\_SB_.PCI0._HID");
	CHECK(o != NULL && o->op == 0x0c && o->ival == 0x030ad041);
	o = find(&r, "\\_SB_.PCI0._ADR");
	CHECK(o != NULL && o->ival == 0);
	o = find(&r, "\\_SB_.PCI0._BBN");
	CHECK(o != NULL && o->ival == 0);
	o = find(&r, "\\_SB_.PCI0._UID");
	CHECK(o != NULL && o->ival == 0);
	crs = find(&r, "\\_SB_.PCI0._CRS");
	CHECK(res_find(crs, 0x79, 0) != NULL);		/* well formed */
	d = res_find(crs, 0x88, 0);			/* bus 0-255 */
	CHECK(d != NULL && rd16(d + 10) == 255);
	d = res_find(crs, 0x47, 0xcf8);			/* config ports */
	CHECK(d != NULL && d[7] == 8);
	d = res_find(crs, 0x87, 0);			/* I/O below 0xcf8 */
	CHECK(d != NULL && d[3] == 1 && rd32(d + 14) == 0xcf7);
	d = res_find(crs, 0x87, 0xd00);			/* I/O above */
	CHECK(d != NULL && d[3] == 1 && rd32(d + 14) == 0xffff);
	d = res_find(crs, 0x87, 0xc0000000);		/* 32-bit MMIO */
	CHECK(d != NULL && d[3] == 0 && rd32(d + 14) == 0xdfffffff);
	d = res_find(crs, 0x8a, 32 * GiB);		/* above 4G + 3G */
	CHECK(d != NULL && rd64(d + 38) == ACPI_MMIO64_DEFAULT_SIZE);
	prt = find(&r, "\\_SB_.PCI0._PRT");
	CHECK(prt != NULL && prt->op == 0x12 && prt->len == 2);
	/* First entry: {0x0003FFFF, 0 (INTA), 0, 16}. */
	if (prt != NULL)
		CHECK(memcmp(prt->data, "\x12\x0b\x04\x0c\xff\xff\x03\x00"
		    "\x00\x00\x0a\x10", 12) == 0);
	fake_vm_fini(&fv);

	/* An explicit window is used as given. */
	c.mmio64_base = 64 * GiB;
	c.mmio64_size = 1 * GiB;
	BUILD_OR_RETURN(&fv, &c, &t);
	read_dsdt(&r, t.dsdt);
	d = res_find(find(&r, "\\_SB_.PCI0._CRS"), 0x8a, 64 * GiB);
	CHECK(d != NULL && rd64(d + 22) == 65 * GiB - 1);
	fake_vm_fini(&fv);
}

TEST(dsdt_isa_devices)
{
	struct acpi_config c = default_config(1);
	const struct named *o;
	const uint8_t *d;
	struct fake_vm fv;
	struct tables t;
	struct reader r;

	c.com_mask = 0x5;				/* COM1, COM3 */
	BUILD_OR_RETURN(&fv, &c, &t);
	read_dsdt(&r, t.dsdt);
	CHECK(!r.bad);
	o = find(&r, "\\_SB_.PCI0.COM1._HID");
	CHECK(o != NULL && o->ival == 0x0105d041);	/* PNP0501 */
	CHECK(find(&r, "\\_SB_.PCI0.COM2._HID") == NULL);
	CHECK(find(&r, "\\_SB_.PCI0.COM4._HID") == NULL);
	o = find(&r, "\\_SB_.PCI0.COM3._UID");
	CHECK(o != NULL && o->ival == 3);
	o = find(&r, "\\_SB_.PCI0.COM3._CRS");
	d = res_find(o, 0x47, 0x3e8);
	CHECK(d != NULL && d[7] == 8);
	d = res_find(o, 0x22, 0);
	CHECK(d != NULL && rd16(d + 1) == 1U << 4);
	o = find(&r, "\\_SB_.PCI0.RTC_._HID");
	CHECK(o != NULL && o->ival == 0x000bd041);	/* PNP0B00 */
	o = find(&r, "\\_SB_.PCI0.KBD_._HID");
	CHECK(o != NULL && o->ival == 0x0303d041);	/* PNP0303 */
	d = res_find(find(&r, "\\_SB_.PCI0.KBD_._CRS"), 0x47, 0x64);
	CHECK(d != NULL);
	CHECK(find(&r, "\\_SB_.PCI0.MOU_._HID") == NULL);
	fake_vm_fini(&fv);

	/* Without PCI the ISA devices sit in \_SB. */
	c.pci = false;
	c.ps2_mouse = true;
	BUILD_OR_RETURN(&fv, &c, &t);
	read_dsdt(&r, t.dsdt);
	CHECK(!r.bad);
	CHECK(find(&r, "\\_SB_.PCI0._HID") == NULL);
	CHECK(find(&r, "\\_SB_.RTC_._HID") != NULL);
	CHECK(find(&r, "\\_SB_.COM1._HID") != NULL);
	o = find(&r, "\\_SB_.MOU_._CRS");
	d = res_find(o, 0x22, 0);
	CHECK(d != NULL && rd16(d + 1) == 1U << 12);
	fake_vm_fini(&fv);
}

TEST(bad_configs)
{
	static const struct acpi_intx badix[] = { { 32, 1, 16 } };
	static const struct acpi_intx badpin[] = { { 3, 5, 16 } };
	static const struct acpi_intx badgsi[] = { { 3, 1, 24 } };
	struct acpi_config c;
	struct fake_vm fv;
	uint64_t rsdp;

	fake_vm_init(&fv, RAMSIZE, 1);
	c = default_config(0);
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c = default_config(ACPI_MAX_CPUS + 1);
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c = default_config(1);
	c.intx = badix;
	c.nintx = 1;
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c.intx = badpin;
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c.intx = badgsi;
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c.intx = NULL;
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c = default_config(1);
	c.mmio64_base = 4 * GiB;			/* overlaps highmem */
	c.mmio64_size = 1 * GiB;
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c.mmio64_base = UINT64_MAX - 10;		/* wraps */
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c = default_config(1);
	c.lowmem = 4 * GiB;
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	fake_vm_fini(&fv);

	/* The window must be RAM. */
	fake_vm_init(&fv, 512 * KiB, 1);
	c = default_config(1);
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EFAULT);
	fake_vm_fini(&fv);
}

TEST_MAIN()
