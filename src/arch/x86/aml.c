/*
 * aml.c: ACPI Machine Language byte-code builder.  Section numbers are
 * those of the ACPI 6.5 specification: chapter 20 for the AML grammar,
 * chapter 6.4 for resource descriptors.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/aml.h"

void
aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void
aml_free(struct aml *a)
{
	free(a->a_buf);
	memset(a, 0, sizeof(*a));
}

int
aml_finish(const struct aml *a)
{
	if (a->a_err != 0)
		return (a->a_err);
	if (a->a_depth != 0)
		return (-EINVAL);
	return (0);
}

static void
aml_fail(struct aml *a, int error)
{
	if (a->a_err == 0)
		a->a_err = error;
}

/* Make room for n more bytes.  Returns false (error recorded) if not. */
static bool
aml_reserve(struct aml *a, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (a->a_err != 0)
		return (false);
	if (n > AML_MAX_LEN || a->a_len > AML_MAX_LEN - n) {
		aml_fail(a, -E2BIG);
		return (false);
	}
	if (a->a_len + n <= a->a_cap)
		return (true);
	cap = a->a_cap != 0 ? a->a_cap : 256;
	while (cap < a->a_len + n)
		cap *= 2;
	p = realloc(a->a_buf, cap);
	if (p == NULL) {
		aml_fail(a, -ENOMEM);
		return (false);
	}
	a->a_buf = p;
	a->a_cap = cap;
	return (true);
}

void
aml_bytes(struct aml *a, const void *p, size_t len)
{
	if (len == 0 || !aml_reserve(a, len))
		return;
	memcpy(a->a_buf + a->a_len, p, len);
	a->a_len += len;
}

void
aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

/* Insert len bytes at offset off (<= a_len), moving what follows. */
static void
aml_insert(struct aml *a, size_t off, const uint8_t *p, size_t len)
{
	if (!aml_reserve(a, len))
		return;
	memmove(a->a_buf + off + len, a->a_buf + off, a->a_len - off);
	memcpy(a->a_buf + off, p, len);
	a->a_len += len;
}

static void
aml_le(struct aml *a, uint64_t v, unsigned n)
{
	uint8_t b[8];
	unsigned i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, n);
}

/*
 * Section 20.2.4: a one-byte PkgLength holds 0-63 in bits 0-5.  Longer
 * ones put the count of following bytes (1-3) in bits 6-7 of the lead
 * byte, the low nibble of the value in its bits 0-3, and the rest of the
 * value, least significant first, in the following bytes.
 */
unsigned
aml_pkglength_encode(uint32_t len, uint8_t out[4])
{
	unsigned n, i;

	if (len <= 0x3f) {
		out[0] = (uint8_t)len;
		return (1);
	}
	if (len <= 0xfff)
		n = 2;
	else if (len <= 0xfffff)
		n = 3;
	else if (len <= AML_PKGLEN_MAX)
		n = 4;
	else
		return (0);
	out[0] = (uint8_t)(((n - 1) << 6) | (len & 0x0f));
	for (i = 1; i < n; i++)
		out[i] = (uint8_t)(len >> (4 + 8 * (i - 1)));
	return (n);
}

/* Section 6.1.5 (_HID): EISA ID compression as in the ASL EISAID macro. */
int
aml_eisaid(const char *id, uint32_t *out)
{
	uint32_t v;
	unsigned i, d;
	char c;

	if (strlen(id) != 7)
		return (-EINVAL);
	v = 0;
	for (i = 0; i < 3; i++) {
		c = id[i];
		if (c < 'A' || c > 'Z')
			return (-EINVAL);
		v = (v << 5) | (uint32_t)(c - 0x40);
	}
	for (i = 3; i < 7; i++) {
		c = id[i];
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return (-EINVAL);
		v = (v << 4) | d;
	}
	/* The 32 bits are stored big-endian: swap to the AML DWord value. */
	*out = ((v >> 24) & 0xff) | ((v >> 8) & 0xff00) |
	    ((v << 8) & 0xff0000) | ((v << 24) & 0xff000000U);
	return (0);
}

static bool
aml_seg_char(char c, bool lead)
{
	if ((c >= 'A' && c <= 'Z') || c == '_')
		return (true);
	return (!lead && c >= '0' && c <= '9');
}

/* Section 20.2.2: NameString, NameSeg, DualNamePath, MultiNamePath. */
void
aml_namestring(struct aml *a, const char *name)
{
	uint8_t segs[255][4];
	const char *p;
	unsigned nseg, i;
	size_t npfx;

	if (a->a_err != 0)
		return;
	for (p = name; *p == AML_ROOT_CHAR || *p == AML_PARENT_CHAR; p++) {
		/* One root prefix, alone; or any number of parent prefixes. */
		if (*p == AML_ROOT_CHAR && p != name)
			goto bad;
		if (*p == AML_PARENT_CHAR && name[0] == AML_ROOT_CHAR)
			goto bad;
	}
	npfx = (size_t)(p - name);
	nseg = 0;
	while (*p != '\0') {
		if (nseg == nitems(segs))
			goto bad;
		memset(segs[nseg], '_', 4);
		for (i = 0; *p != '\0' && *p != '.'; i++, p++) {
			if (i == 4 || !aml_seg_char(*p, i == 0))
				goto bad;
			segs[nseg][i] = (uint8_t)*p;
		}
		if (i == 0)
			goto bad;
		nseg++;
		if (*p == '.') {
			p++;
			if (*p == '\0')
				goto bad;
		}
	}
	aml_bytes(a, name, npfx);
	if (nseg == 0)
		aml_byte(a, 0x00);		/* NullName */
	else if (nseg == 2)
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	else if (nseg > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)nseg);
	}
	for (i = 0; i < nseg; i++)
		aml_bytes(a, segs[i], 4);
	return;
bad:
	aml_fail(a, -EINVAL);
}

/* Section 20.2.3: ComputationalData, shortest form. */
void
aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0)
		aml_byte(a, AML_ZERO_OP);
	else if (v == 1)
		aml_byte(a, AML_ONE_OP);
	else if (v == UINT64_MAX)
		aml_byte(a, AML_ONES_OP);
	else if (v <= UINT8_MAX) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_le(a, v, 1);
	} else if (v <= UINT16_MAX) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= UINT32_MAX) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

/* Section 20.2.3: String := StringPrefix AsciiCharList NullChar. */
void
aml_string(struct aml *a, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p > 0x7f) {
			aml_fail(a, -EINVAL);
			return;
		}
	}
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

void
aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME_OP);
	aml_namestring(a, name);
}

void
aml_name_integer(struct aml *a, const char *name, uint64_t v)
{
	aml_name(a, name);
	aml_integer(a, v);
}

void
aml_name_string(struct aml *a, const char *name, const char *s)
{
	aml_name(a, name);
	aml_string(a, s);
}

void
aml_name_eisaid(struct aml *a, const char *name, const char *id)
{
	uint32_t v;

	if (aml_eisaid(id, &v) != 0) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_name(a, name);
	/* Always a DWord, as an ASL compiler emits EISAID(). */
	aml_byte(a, AML_DWORD_PREFIX);
	aml_le(a, v, 4);
}

/* Open an object whose PkgLength goes at the current offset. */
static void
aml_open(struct aml *a, bool buffer)
{
	if (a->a_err != 0)
		return;
	if (a->a_depth == AML_MAX_DEPTH) {
		aml_fail(a, -E2BIG);
		return;
	}
	a->a_open[a->a_depth].o_pkg = a->a_len;
	a->a_open[a->a_depth].o_data = a->a_len;
	a->a_open[a->a_depth].o_buffer = buffer;
	a->a_depth++;
}

void
aml_scope_begin(struct aml *a, const char *name)
{
	aml_byte(a, AML_SCOPE_OP);
	aml_open(a, false);
	aml_namestring(a, name);
}

void
aml_device_begin(struct aml *a, const char *name)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_EXT_DEVICE_OP);
	aml_open(a, false);
	aml_namestring(a, name);
}

/* Section 20.2.5.2: MethodFlags bits 0-2 ArgCount, bit 3 SerializeFlag. */
void
aml_method_begin(struct aml *a, const char *name, unsigned nargs,
    bool serialized)
{
	if (nargs > 7) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_byte(a, AML_METHOD_OP);
	aml_open(a, false);
	aml_namestring(a, name);
	aml_byte(a, (uint8_t)(nargs | (serialized ? 0x08 : 0)));
}

/* Section 20.2.5.4: DefPackage := PackageOp PkgLength NumElements List. */
void
aml_package_begin(struct aml *a, unsigned nelem)
{
	if (nelem > UINT8_MAX) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_byte(a, AML_PACKAGE_OP);
	aml_open(a, false);
	aml_byte(a, (uint8_t)nelem);
}

/* Section 20.2.5.4: DefBuffer := BufferOp PkgLength BufferSize ByteList. */
void
aml_buffer_begin(struct aml *a)
{
	aml_byte(a, AML_BUFFER_OP);
	aml_open(a, true);
}

void
aml_end(struct aml *a)
{
	struct aml tmp;
	uint8_t pkg[4];
	size_t body;
	unsigned n;

	if (a->a_err != 0)
		return;
	if (a->a_depth == 0) {
		aml_fail(a, -EINVAL);
		return;
	}
	a->a_depth--;
	if (a->a_open[a->a_depth].o_buffer) {
		/* BufferSize is a TermArg: encode it apart, then insert. */
		aml_init(&tmp);
		aml_integer(&tmp, a->a_len - a->a_open[a->a_depth].o_data);
		if (tmp.a_err != 0) {
			aml_fail(a, tmp.a_err);
			aml_free(&tmp);
			return;
		}
		aml_insert(a, a->a_open[a->a_depth].o_data, tmp.a_buf,
		    tmp.a_len);
		aml_free(&tmp);
	}
	/*
	 * The PkgLength counts its own bytes, so its size depends on the
	 * total: pick the smallest encoding that holds body + itself.
	 */
	body = a->a_len - a->a_open[a->a_depth].o_pkg;
	for (n = 1; n <= 4; n++) {
		if (body + n <= AML_PKGLEN_MAX &&
		    aml_pkglength_encode((uint32_t)(body + n), pkg) == n)
			break;
	}
	if (n > 4) {
		aml_fail(a, -E2BIG);
		return;
	}
	aml_insert(a, a->a_open[a->a_depth].o_pkg, pkg, n);
}

void
aml_return_integer(struct aml *a, uint64_t v)
{
	aml_byte(a, AML_RETURN_OP);
	aml_integer(a, v);
}

void
aml_restemplate_begin(struct aml *a)
{
	aml_buffer_begin(a);
}

/* Section 6.4.2.9: End Tag := 0x79, checksum (bytes sum to zero). */
void
aml_restemplate_end(struct aml *a)
{
	size_t i, start;
	uint8_t sum;

	if (a->a_err != 0)
		return;
	if (a->a_depth == 0 || !a->a_open[a->a_depth - 1].o_buffer) {
		aml_fail(a, -EINVAL);
		return;
	}
	start = a->a_open[a->a_depth - 1].o_data;
	sum = AML_RES_END_TAG;
	for (i = start; i < a->a_len; i++)
		sum = (uint8_t)(sum + a->a_buf[i]);
	aml_byte(a, AML_RES_END_TAG);
	aml_byte(a, (uint8_t)(0x100 - sum));
	aml_end(a);
}

/* Section 6.4.2.5: I/O Port Descriptor, Information bit 0 = 16-bit. */
void
aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
    uint8_t len)
{
	aml_byte(a, AML_RES_IO);
	aml_byte(a, 0x01);
	aml_le(a, min, 2);
	aml_le(a, max, 2);
	aml_byte(a, align);
	aml_byte(a, len);
}

/* Section 6.4.2.1: IRQ Descriptor, length 2: a 16-bit mask of IRQs. */
void
aml_res_irq_noflags(struct aml *a, unsigned irq)
{
	if (irq > 15) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_byte(a, AML_RES_IRQ);
	aml_le(a, 1U << irq, 2);
}

/* Section 6.4.3.6: Extended Interrupt Descriptor with one interrupt. */
void
aml_res_ext_irq(struct aml *a, uint8_t flags, uint32_t irq)
{
	aml_byte(a, AML_RES_EXT_IRQ);
	aml_le(a, 6, 2);		/* flags, count, one DWord */
	aml_byte(a, flags);
	aml_byte(a, 1);
	aml_le(a, irq, 4);
}

/* Section 6.4.3.4: 32-Bit Fixed Memory Range Descriptor. */
void
aml_res_fixed_mem32(struct aml *a, bool rw, uint32_t base, uint32_t len)
{
	aml_byte(a, AML_RES_FIXED_MEM32);
	aml_le(a, 9, 2);
	aml_byte(a, rw ? 1 : 0);
	aml_le(a, base, 4);
	aml_le(a, len, 4);
}

/*
 * Sections 6.4.3.5.1-3: QWord/DWord/Word Address Space Descriptors.
 * General flags 0x0c: _MAF and _MIF set (fixed window), positive decode,
 * bit 0 clear (producer: a bridge window).  Fields are granularity, min,
 * max, translation offset and length, each `size' bytes.
 */
static void
aml_res_addr(struct aml *a, uint8_t tag, unsigned size, uint8_t type,
    uint8_t tflags, uint64_t min, uint64_t max)
{
	if (max < min || (size < 8 &&
	    max - min + 1 > (UINT64_MAX >> (64 - 8 * size)))) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_byte(a, tag);
	aml_le(a, 3 + 5 * size, 2);
	aml_byte(a, type);
	aml_byte(a, 0x0c);
	aml_byte(a, tflags);
	aml_le(a, 0, size);		/* granularity */
	aml_le(a, min, size);
	aml_le(a, max, size);
	aml_le(a, 0, size);		/* translation offset */
	aml_le(a, max - min + 1, size);
}

void
aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	aml_res_addr(a, AML_RES_WORD_ADDR, 2, AML_ADDR_BUS, 0, min, max);
}

/* I/O type-specific flags 0x03: _RNG = entire range (ISA and non-ISA). */
void
aml_res_dword_io(struct aml *a, uint32_t min, uint32_t max)
{
	aml_res_addr(a, AML_RES_DWORD_ADDR, 4, AML_ADDR_IO, 0x03, min, max);
}

/*
 * Memory type-specific flags (section 6.4.3.5.4.1 Table 6.50): bit 0
 * read-write, bits 1-2 _MEM (0 non-cacheable, 1 cacheable).
 */
void
aml_res_dword_mem(struct aml *a, bool cacheable, uint32_t min, uint32_t max)
{
	aml_res_addr(a, AML_RES_DWORD_ADDR, 4, AML_ADDR_MEM,
	    (uint8_t)(0x01 | (cacheable ? 0x02 : 0)), min, max);
}

void
aml_res_qword_mem(struct aml *a, bool cacheable, uint64_t min, uint64_t max)
{
	/* A window covering all 2^64 bytes has no representable length. */
	if (min == 0 && max == UINT64_MAX) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_res_addr(a, AML_RES_QWORD_ADDR, 8, AML_ADDR_MEM,
	    (uint8_t)(0x01 | (cacheable ? 0x02 : 0)), min, max);
}
