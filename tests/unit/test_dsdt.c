/*
 * test_dsdt.c: the DSDT that acpi_build_dsdt() generates, decoded with a
 * small AML reader written here, independent of aml.c.
 */
#include <errno.h>
#include "test.h"
#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"

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
			__attribute__((fallthrough));
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

/*
 * Generate the DSDT for c into *buf, check its header and checksum, and
 * decode it into r.  Returns 0 or the error.
 */
static int
read_dsdt(const struct acpi_config *c, struct reader *r, uint8_t **buf)
{
	size_t len;
	int error;

	memset(r, 0, sizeof(*r));
	*buf = NULL;
	error = acpi_build_dsdt(c, buf, &len);
	if (error != 0)
		return (error);
	CHECK(memcmp(*buf, "DSDT", 4) == 0);
	CHECK_EQ(rd32(*buf + 4), len);
	CHECK_EQ((*buf)[8], 2);				/* 64-bit integers */
	CHECK_EQ(sum8(*buf, len), 0);
	CHECK(memcmp(*buf + 10, "KHYVE KHYVEVM ", 14) == 0);
	r->p = *buf + 36;
	r->end = *buf + len;
	r_terms(r, r->end, "\\");
	CHECK(!r->bad);
	return (0);
}

#define READ_OR_RETURN(c, r, buf) do {					\
	int __e = read_dsdt((c), (r), (buf));				\
	CHECK_EQ(__e, 0);						\
	if (__e != 0)							\
		return;							\
} while (0)

TEST(dsdt_s5)
{
	struct acpi_config c = default_config(1);
	const struct named *s5;
	uint8_t *buf;
	struct reader r;
	struct named e;
	unsigned i;
	uint64_t want[4] = { ACPI_S5_SLP_TYP, ACPI_S5_SLP_TYP, 0, 0 };

	READ_OR_RETURN(&c, &r, &buf);
	s5 = find(&r, "\\_S5_");
	CHECK(s5 != NULL);
	if (s5 != NULL) {
		CHECK_EQ(s5->op, 0x12);
		CHECK_EQ(s5->len, 4);
		r.p = s5->data;
		r.end = buf + rd32(buf + 4);
		for (i = 0; i < 4 && i < s5->len; i++) {
			r_data(&r, &e);
			CHECK_EQ(e.ival, want[i]);
		}
	}
	free(buf);
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
	uint8_t *buf;
	struct reader r;

	c.intx = ix;
	c.nintx = 2;
	READ_OR_RETURN(&c, &r, &buf);
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
	free(buf);

	/* An explicit window is used as given. */
	c.mmio64_base = 64 * GiB;
	c.mmio64_size = 1 * GiB;
	READ_OR_RETURN(&c, &r, &buf);
	d = res_find(find(&r, "\\_SB_.PCI0._CRS"), 0x8a, 64 * GiB);
	CHECK(d != NULL && rd64(d + 22) == 65 * GiB - 1);
	free(buf);
}

TEST(dsdt_isa_devices)
{
	struct acpi_config c = default_config(1);
	const struct named *o;
	const uint8_t *d;
	uint8_t *buf;
	struct reader r;

	c.com_mask = 0x5;				/* COM1, COM3 */
	READ_OR_RETURN(&c, &r, &buf);
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
	free(buf);

	/* Without PCI the ISA devices sit in \_SB. */
	c.pci = false;
	c.ps2_mouse = true;
	READ_OR_RETURN(&c, &r, &buf);
	CHECK(find(&r, "\\_SB_.PCI0._HID") == NULL);
	CHECK(find(&r, "\\_SB_.RTC_._HID") != NULL);
	CHECK(find(&r, "\\_SB_.COM1._HID") != NULL);
	o = find(&r, "\\_SB_.MOU_._CRS");
	d = res_find(o, 0x22, 0);
	CHECK(d != NULL && rd16(d + 1) == 1U << 12);
	free(buf);
}

TEST(refuses_bad_configs)
{
	static const struct acpi_intx badpin[] = { { 3, 0, 16 } };
	struct acpi_config c;
	uint8_t *buf;
	size_t len;

	c = default_config(0);
	CHECK_EQ(acpi_build_dsdt(&c, &buf, &len), -EINVAL);
	c = default_config(1);
	c.intx = badpin;
	c.nintx = 1;
	CHECK_EQ(acpi_build_dsdt(&c, &buf, &len), -EINVAL);
	c.nintx = 129;
	CHECK_EQ(acpi_build_dsdt(&c, &buf, &len), -EINVAL);
}

TEST_MAIN()
