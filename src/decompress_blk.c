/*
 * decompress_blk.c: the two block formats behind decompress(), LZ4
 * legacy frames and lzop files.
 *
 * The framing is parsed here; each block goes to liblz4 or liblzo2.
 * Linux lib/decompress_unlz4.c and lib/decompress_unlzo.c show the
 * framing the kernel build produces; the lzop 1.04 sources (lzop.c,
 * conf.h) give the header fields, flags and checksums.
 */
#define ZLIB_CONST
#include <errno.h>
#include <inttypes.h>
#include <lz4.h>
#include <lzo/lzo1x.h>
#include <stdbool.h>
#include <string.h>
#include <zlib.h>
#include "decompress_impl.h"

/* lzop file format (lzop conf.h). */
#define LZOP_MIN_VERSION	0x0940	/* fields below exist from here on */
#define LZOP_MAX_BLOCK		(64 * MiB)	/* MAX_BLOCK_SIZE */
#define LZOP_F_ADLER32_D	0x0001u
#define LZOP_F_ADLER32_C	0x0002u
#define LZOP_F_H_EXTRA_FIELD	0x0040u
#define LZOP_F_CRC32_D		0x0100u
#define LZOP_F_CRC32_C		0x0200u
#define LZOP_F_H_FILTER		0x0800u
#define LZOP_F_H_CRC32		0x1000u
#define LZOP_M_LZO1X_1		1
#define LZOP_M_LZO1X_1_15	2
#define LZOP_M_LZO1X_999	3

const uint8_t decomp_lzop_magic[LZOP_MAGIC_LEN] = {
	0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a
};

/*
 * LZ4 legacy frame: the magic, then blocks of [le32 compressed size]
 * [LZ4 block], each decoding to at most 8 MiB; no end marker, no
 * checksums.  Another magic may start a concatenated frame.  The
 * kernel's payload is followed by the le32 uncompressed size, which
 * would parse as the header of a block with no data: exactly four bytes
 * left that equal the output size (mod 2^32) end the stream.
 */
int
decomp_lz4(struct dctx *dc, const uint8_t *in, size_t inlen)
{
	struct dbuf *b = &dc->dc_out;
	size_t pos, left, bound;
	uint32_t csize;
	int n, rc;

	bound = (size_t)LZ4_compressBound((int)LZ4_LEGACY_BLOCK);
	pos = 4;
	while (pos < inlen) {
		left = inlen - pos;
		if (left < 4)
			return (decomp_err(dc, -EINVAL,
			    "lz4: data error: %zu stray bytes at the end",
			    left));
		csize = decomp_le32(in + pos);
		if (csize == LZ4_LEGACY_MAGIC) {
			pos += 4;
			continue;
		}
		if (left == 4 && csize == (uint32_t)b->d_len)
			break;
		pos += 4;
		if (csize == 0 || csize > bound)
			return (decomp_err(dc, -EINVAL, "lz4: data error: "
			    "bad block size %" PRIu32 " at offset %zu", csize,
			    pos - 4));
		if (csize > inlen - pos)
			return (decomp_err(dc, -EINVAL, "lz4: data error: "
			    "block at offset %zu is truncated", pos - 4));
		/* Room for a whole block, so a failure means corrupt data. */
		if ((rc = decomp_reserve(dc, LZ4_LEGACY_BLOCK,
		    b->d_max + LZ4_LEGACY_BLOCK)) != 0)
			return (rc);
		n = LZ4_decompress_safe((const char *)in + pos,
		    (char *)b->d_buf + b->d_len, (int)csize,
		    (int)LZ4_LEGACY_BLOCK);
		if (n < 0)
			return (decomp_err(dc, -EINVAL, "lz4: data error: "
			    "corrupt block at offset %zu", pos - 4));
		b->d_len += (size_t)n;
		if (b->d_len > b->d_max)
			return (decomp_toobig(dc));
		pos += csize;
	}
	return (0);
}

static int
lzo_bad(struct dctx *dc, const char *what)
{
	return (decomp_err(dc, -EINVAL, "lzo: data error: %s", what));
}

/* Bounds-checked reader over the lzop input. */
struct lzrd {
	const uint8_t	*r_p;		/* input */
	size_t		r_len;		/* its length */
	size_t		r_pos;		/* next byte */
	bool		r_short;	/* a read ran past the end */
};

static const uint8_t *
lzrd_take(struct lzrd *r, size_t n)
{
	const uint8_t *p;

	if (r->r_short || n > r->r_len - r->r_pos) {
		r->r_short = true;
		return (NULL);
	}
	p = r->r_p + r->r_pos;
	r->r_pos += n;
	return (p);
}

static uint32_t
lzrd_be(struct lzrd *r, size_t n)
{
	const uint8_t *p;
	uint32_t v;
	size_t i;

	if ((p = lzrd_take(r, n)) == NULL)
		return (0);
	for (v = 0, i = 0; i < n; i++)
		v = v << 8 | p[i];
	return (v);
}

/* Parse the lzop header (lzop.c read_header); returns the flags. */
static int
lzop_header(struct dctx *dc, struct lzrd *r, uint32_t *flagsp)
{
	uint32_t version, method, flags, want, got, xlen;
	size_t hstart;
	uLong sum;

	r->r_pos = LZOP_MAGIC_LEN;
	hstart = r->r_pos;
	version = lzrd_be(r, 2);
	(void)lzrd_be(r, 2);			/* lib_version */
	if (version < LZOP_MIN_VERSION && !r->r_short)
		return (decomp_err(dc, -EINVAL, "lzo: lzop version 0x%04" PRIx32
		    " is not supported", version));
	(void)lzrd_be(r, 2);			/* version_needed_to_extract */
	method = lzrd_be(r, 1);
	(void)lzrd_be(r, 1);			/* level */
	flags = lzrd_be(r, 4);
	if (flags & LZOP_F_H_FILTER)
		(void)lzrd_be(r, 4);		/* filter */
	(void)lzrd_be(r, 4);			/* mode */
	(void)lzrd_be(r, 4);			/* mtime_low */
	(void)lzrd_be(r, 4);			/* mtime_high */
	(void)lzrd_take(r, lzrd_be(r, 1));	/* name_len, name */
	if (r->r_short)
		return (lzo_bad(dc, "truncated header"));
	/* The header checksum covers everything after the magic. */
	if (flags & LZOP_F_H_CRC32)
		sum = crc32(0, r->r_p + hstart, (uInt)(r->r_pos - hstart));
	else
		sum = adler32(1, r->r_p + hstart, (uInt)(r->r_pos - hstart));
	want = (uint32_t)sum;
	got = lzrd_be(r, 4);
	if (flags & LZOP_F_H_EXTRA_FIELD) {
		xlen = lzrd_be(r, 4);
		(void)lzrd_take(r, xlen);
		(void)lzrd_be(r, 4);		/* its checksum */
	}
	if (r->r_short)
		return (lzo_bad(dc, "truncated header"));
	if (got != want)
		return (lzo_bad(dc, "header checksum mismatch"));
	if (method != LZOP_M_LZO1X_1 && method != LZOP_M_LZO1X_1_15 &&
	    method != LZOP_M_LZO1X_999)
		return (decomp_err(dc, -EINVAL, "lzo: method %" PRIu32
		    " is not supported", method));
	*flagsp = flags;
	return (0);
}

/* Check the optional Adler-32 / CRC-32 words of one lzop block. */
static bool
lzop_sums_ok(const uint8_t *p, size_t n, bool has_adler, uint32_t adler,
    bool has_crc, uint32_t crc)
{
	if (has_adler && (uint32_t)adler32(1, p, (uInt)n) != adler)
		return (false);
	if (has_crc && (uint32_t)crc32(0, p, (uInt)n) != crc)
		return (false);
	return (true);
}

/*
 * lzop blocks: [be32 dst_len] (0 ends the file) [be32 src_len]
 * [checksums of the decoded data] [checksums of the compressed data,
 * only when src_len < dst_len] [data].  src_len == dst_len means the
 * block is stored (lzop.c x_decompress).
 */
int
decomp_lzo(struct dctx *dc, const uint8_t *in, size_t inlen)
{
	struct dbuf *b = &dc->dc_out;
	struct lzrd r = { .r_p = in, .r_len = inlen };
	uint32_t flags = 0, dlen, slen, dad, dcrc, cad, ccrc;
	const uint8_t *src;
	uint8_t *dst;
	lzo_uint olen;
	int rc, lr;

	if (lzo_init() != LZO_E_OK)
		return (decomp_err(dc, -ENOMEM,
		    "lzo: cannot initialise liblzo2"));
	if ((rc = lzop_header(dc, &r, &flags)) != 0)
		return (rc);
	for (;;) {
		dlen = lzrd_be(&r, 4);
		if (dlen == 0 && !r.r_short)
			break;
		slen = lzrd_be(&r, 4);
		dad = (flags & LZOP_F_ADLER32_D) ? lzrd_be(&r, 4) : 0;
		dcrc = (flags & LZOP_F_CRC32_D) ? lzrd_be(&r, 4) : 0;
		cad = ccrc = 0;
		if (slen < dlen) {
			cad = (flags & LZOP_F_ADLER32_C) ? lzrd_be(&r, 4) : 0;
			ccrc = (flags & LZOP_F_CRC32_C) ? lzrd_be(&r, 4) : 0;
		}
		if (r.r_short)
			return (lzo_bad(dc, "truncated block header"));
		if (dlen > LZOP_MAX_BLOCK || slen > dlen || slen == 0)
			return (decomp_err(dc, -EINVAL, "lzo: data error: "
			    "bad block sizes %" PRIu32 "/%" PRIu32, slen,
			    dlen));
		if ((src = lzrd_take(&r, slen)) == NULL)
			return (lzo_bad(dc, "truncated block"));
		if (slen < dlen && !lzop_sums_ok(src, slen,
		    flags & LZOP_F_ADLER32_C, cad, flags & LZOP_F_CRC32_C,
		    ccrc))
			return (lzo_bad(dc, "checksum mismatch (compressed)"));
		if (dlen > b->d_max - b->d_len)
			return (decomp_toobig(dc));
		if ((rc = decomp_reserve(dc, dlen, b->d_max)) != 0)
			return (rc);
		dst = b->d_buf + b->d_len;
		if (slen == dlen) {
			memcpy(dst, src, slen);
		} else {
			olen = dlen;
			lr = lzo1x_decompress_safe(
			    (lzo_bytep)(uintptr_t)src, slen, dst, &olen, NULL);
			if (lr != LZO_E_OK || olen != dlen)
				return (decomp_err(dc, -EINVAL,
				    "lzo: data error: corrupt block "
				    "(liblzo2 error %d)", lr));
		}
		if (!lzop_sums_ok(dst, dlen, flags & LZOP_F_ADLER32_D, dad,
		    flags & LZOP_F_CRC32_D, dcrc))
			return (lzo_bad(dc, "checksum mismatch"));
		b->d_len += dlen;
	}
	return (0);
}
