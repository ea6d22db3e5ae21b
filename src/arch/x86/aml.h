/*
 * aml.h: a small builder for ACPI Machine Language byte code.
 *
 * Enough of ACPI 6.x chapter 20 ("ACPI Machine Language Specification")
 * to emit the DSDT of a simple PC: scopes, devices, names, methods that
 * return a constant, packages, integers, strings, buffers, EISA IDs and
 * resource templates (chapter 6.4).  No external ASL compiler is used.
 *
 * The output grows in a heap buffer.  Objects with a PkgLength (Scope,
 * Device, Method, Package, Buffer) are opened with *_begin() and closed
 * with aml_end(); the PkgLength is inserted when the object is closed,
 * once its size is known (section 20.2.4).  Errors are sticky: after the
 * first failure every call is a no-op and aml_finish() reports it, so a
 * caller can emit a whole table and check once.
 *
 *	struct aml a;
 *	aml_init(&a);
 *	aml_scope_begin(&a, "\\_SB");
 *	aml_device_begin(&a, "PCI0");
 *	aml_name_eisaid(&a, "_HID", "PNP0A03");
 *	aml_end(&a);
 *	aml_end(&a);
 *	error = aml_finish(&a);
 *	... a.a_buf, a.a_len ...
 *	aml_free(&a);
 */
#ifndef AML_H
#define AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "khyve.h"

#define AML_MAX_DEPTH		16		/* nesting of open objects */
#define AML_MAX_LEN		(1U << 20)	/* sanity cap on the output */
#define AML_PKGLEN_MAX		0x0fffffffU	/* 28 bits, section 20.2.4 */

/* Opcodes (ACPI 6.x section 20.3). */
#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_METHOD_OP		0x14
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_EXT_OP_PREFIX	0x5b
#define AML_ROOT_CHAR		0x5c		/* '\\' */
#define AML_PARENT_CHAR		0x5e		/* '^' */
#define AML_RETURN_OP		0xa4
#define AML_ONES_OP		0xff
#define AML_EXT_DEVICE_OP	0x82		/* after AML_EXT_OP_PREFIX */

/* Resource descriptor tags (section 6.4.2 small, 6.4.3 large). */
#define AML_RES_IRQ		0x22		/* IRQ, 2-byte mask form */
#define AML_RES_IO		0x47		/* I/O port, 7 data bytes */
#define AML_RES_END_TAG		0x79		/* end tag, 1 data byte */
#define AML_RES_FIXED_MEM32	0x86
#define AML_RES_DWORD_ADDR	0x87
#define AML_RES_WORD_ADDR	0x88
#define AML_RES_EXT_IRQ		0x89
#define AML_RES_QWORD_ADDR	0x8a

/* Address space descriptor resource types (section 6.4.3.5). */
#define AML_ADDR_MEM		0
#define AML_ADDR_IO		1
#define AML_ADDR_BUS		2

/* Extended interrupt flags (section 6.4.3.6). */
#define AML_IRQ_CONSUMER	0x01
#define AML_IRQ_EDGE		0x02
#define AML_IRQ_ACTIVE_LOW	0x04
#define AML_IRQ_SHARED		0x08

struct aml {
	uint8_t		*a_buf;		/* output, a_len bytes valid */
	size_t		a_len;		/* bytes emitted */
	size_t		a_cap;		/* bytes allocated */
	int		a_err;		/* first error (-errno), sticky */
	unsigned	a_depth;	/* open objects */
	struct {
		size_t	o_pkg;		/* where the PkgLength goes */
		size_t	o_data;		/* Buffer: start of the byte list */
		bool	o_buffer;	/* insert a BufferSize on close */
	} a_open[AML_MAX_DEPTH];
};

/* Start an empty builder.  Never fails; memory is taken on first use. */
void	aml_init(struct aml *a);
/* Release the buffer; a may be aml_init()'d again. */
void	aml_free(struct aml *a);
/*
 * Check the result: 0 when every call succeeded and every object was
 * closed, else the first error (-ENOMEM, -EINVAL, -E2BIG) or -EINVAL for
 * an object left open.
 */
int	aml_finish(const struct aml *a) __must_check;

/*
 * Encode a PkgLength value (which counts its own bytes) into out[0..3].
 * Returns the number of bytes (1-4), or 0 if len exceeds AML_PKGLEN_MAX.
 */
unsigned aml_pkglength_encode(uint32_t len, uint8_t out[4]);

/*
 * Compress a 7-character EISA ID ("PNP0A03": three letters A-Z, four
 * upper-case hex digits) into the 32-bit value whose little-endian bytes
 * AML carries (section 6.1.5).  Returns 0 or -EINVAL.
 */
int	aml_eisaid(const char *id, uint32_t *out) __must_check;

/* Raw bytes (for callers that know the encoding). */
void	aml_bytes(struct aml *a, const void *p, size_t len);
void	aml_byte(struct aml *a, uint8_t b);

/*
 * NameString (section 20.2.2): "\\" or "^"... prefixes, then dot-separated
 * segments of 1-4 characters ([A-Z_][A-Z0-9_]*), padded with '_'.
 */
void	aml_namestring(struct aml *a, const char *name);

/* Data objects (section 20.2.3). */
void	aml_integer(struct aml *a, uint64_t v);	/* shortest encoding */
void	aml_string(struct aml *a, const char *s);	/* ASCII 0x01-0x7f */

/* Name (name, <data>): the caller emits the data object next. */
void	aml_name(struct aml *a, const char *name);
void	aml_name_integer(struct aml *a, const char *name, uint64_t v);
void	aml_name_string(struct aml *a, const char *name, const char *s);
void	aml_name_eisaid(struct aml *a, const char *name, const char *id);

/* Objects with a PkgLength, closed by aml_end(). */
void	aml_scope_begin(struct aml *a, const char *name);
void	aml_device_begin(struct aml *a, const char *name);
/* nargs 0-7; serialized per section 19.6.85. */
void	aml_method_begin(struct aml *a, const char *name, unsigned nargs,
	    bool serialized);
/* nelem: the number of elements the caller then emits (<= 255). */
void	aml_package_begin(struct aml *a, unsigned nelem);
/* The BufferSize is computed from the bytes emitted before aml_end(). */
void	aml_buffer_begin(struct aml *a);
void	aml_end(struct aml *a);

/* Return (integer). */
void	aml_return_integer(struct aml *a, uint64_t v);

/*
 * Resource templates (section 6.4): a Buffer holding descriptors and an
 * end tag whose checksum makes the bytes sum to zero.  Use between
 * aml_restemplate_begin() and aml_restemplate_end().
 */
void	aml_restemplate_begin(struct aml *a);
void	aml_restemplate_end(struct aml *a);
/* I/O port descriptor, 16-bit decode (section 6.4.2.5). */
void	aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
	    uint8_t len);
/* IRQ descriptor without flags: edge, active-high (section 6.4.2.1). */
void	aml_res_irq_noflags(struct aml *a, unsigned irq);
/* Extended interrupt descriptor, one interrupt (section 6.4.3.6). */
void	aml_res_ext_irq(struct aml *a, uint8_t flags, uint32_t irq);
/* 32-bit fixed memory range descriptor (section 6.4.3.4). */
void	aml_res_fixed_mem32(struct aml *a, bool rw, uint32_t base,
	    uint32_t len);
/*
 * Address space descriptors for a producer (a bridge window) with fixed
 * minimum and maximum (sections 6.4.3.5.1-6.4.3.5.3).  max is inclusive.
 */
void	aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void	aml_res_dword_io(struct aml *a, uint32_t min, uint32_t max);
void	aml_res_dword_mem(struct aml *a, bool cacheable, uint32_t min,
	    uint32_t max);
void	aml_res_qword_mem(struct aml *a, bool cacheable, uint64_t min,
	    uint64_t max);

#endif /* AML_H */
