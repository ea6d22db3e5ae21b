/*
 * decompress.c: gzip, xz, lzma, lz4 (legacy), zstd, bzip2 and lzo
 * payloads, decoded with the host's libraries into a growing buffer.
 *
 * The streaming decoders share one loop shape: give the library all the
 * remaining input and the free part of the buffer, account what it
 * consumed and produced, grow the buffer when it is full.  A call that
 * neither consumes nor produces while output space is free means the
 * input ended early (or the library is stuck), so every loop ends: input
 * is finite and output is capped at maxout + 1 bytes, one more than the
 * caller allows, which is how "too big" is told apart from "exactly
 * maxout".
 *
 * The two block formats (LZ4 legacy, lzop) are in decompress_blk.c.
 */
#define ZLIB_CONST
#include <bzlib.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include "decompress.h"
#include "decompress_impl.h"

/* liblzma dictionary memory we allow; xz -9 and lzma -9 need 64 MiB. */
#define DECOMP_LZMA_MEMLIMIT	(256 * MiB)
/* zstd window: 2^27 is libzstd's default cap and what zstd -22 uses. */
#define DECOMP_ZSTD_WLOG_MAX	27
/* A caller's limit is clamped so that limit + slack cannot overflow. */
#define DECOMP_MAX_LIMIT	(SIZE_MAX / 4)

int
decomp_err(struct dctx *dc, int rc, const char *fmt, ...)
{
	va_list ap;

	if (dc->dc_err != NULL && dc->dc_errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(dc->dc_err, dc->dc_errlen, fmt, ap);
		va_end(ap);
	}
	return (rc);
}

int
decomp_toobig(struct dctx *dc)
{
	size_t max = dc->dc_out.d_max;

	if (max >= MiB && max % MiB == 0)
		return (decomp_err(dc, -EFBIG,
		    "decompressed size exceeds %zu MiB", (size_t)(max / MiB)));
	return (decomp_err(dc, -EFBIG, "decompressed size exceeds %zu bytes",
	    max));
}

/*
 * Make at least `want` bytes free after d_len without allocating more
 * than `limit` bytes in all.  Grows geometrically so a long stream costs
 * few copies.
 */
int
decomp_reserve(struct dctx *dc, size_t want, size_t limit)
{
	struct dbuf *b = &dc->dc_out;
	size_t need, ncap;
	uint8_t *nbuf;

	if (b->d_cap - b->d_len >= want)
		return (0);
	if (want > limit || b->d_len > limit - want)
		return (decomp_toobig(dc));
	need = b->d_len + want;
	ncap = b->d_cap == 0 ? b->d_hint : b->d_cap;
	while (ncap < need)
		ncap = ncap > limit / 2 ? limit : ncap * 2;
	if (ncap > limit)
		ncap = limit;
	nbuf = realloc(b->d_buf, ncap);
	if (nbuf == NULL)
		return (decomp_err(dc, -ENOMEM, "%s: out of memory (%zu MiB)",
		    dc->dc_name, (size_t)(ncap / MiB)));
	b->d_buf = nbuf;
	b->d_cap = ncap;
	return (0);
}

/*
 * Free space for a streaming decoder: when the buffer is full, double
 * it, up to max + 1 bytes in all (dstep() catches the extra byte).
 */
static int
dbuf_stream_space(struct dctx *dc)
{
	struct dbuf *b = &dc->dc_out;

	if (b->d_len < b->d_cap)
		return (0);
	return (decomp_reserve(dc, 1, b->d_max + 1));
}

/*
 * Account one step of a streaming decoder: 1 to go on, or -errno when
 * the output passed the limit or the step made no progress (the input
 * ended early, or the library is stuck).
 */
static int
dstep(struct dctx *dc, size_t produced, size_t consumed, size_t in_left)
{
	struct dbuf *b = &dc->dc_out;

	b->d_len += produced;
	if (b->d_len > b->d_max)
		return (decomp_toobig(dc));
	if (produced != 0 || consumed != 0)
		return (1);
	if (in_left == 0)
		return (decomp_err(dc, -EINVAL,
		    "%s: data error: input is truncated", dc->dc_name));
	return (decomp_err(dc, -EINVAL,
	    "%s: data error: decoder made no progress", dc->dc_name));
}

static int
dec_gzip(struct dctx *dc, const uint8_t *in, size_t inlen)
{
	struct dbuf *b = &dc->dc_out;
	z_stream zs;
	size_t fed, ain, aout;
	int zr, rc;

	memset(&zs, 0, sizeof(zs));
	/* 16 + MAX_WBITS: expect a gzip header and trailer (zlib.h). */
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return (decomp_err(dc, -ENOMEM,
		    "gzip: cannot initialise zlib"));
	fed = 0;
	for (;;) {
		if (zs.avail_in == 0 && fed < inlen) {
			zs.next_in = in + fed;
			zs.avail_in = (uInt)MIN(inlen - fed, (size_t)UINT_MAX);
			fed += zs.avail_in;
		}
		if ((rc = dbuf_stream_space(dc)) != 0)
			break;
		zs.next_out = b->d_buf + b->d_len;
		zs.avail_out = (uInt)MIN(b->d_cap - b->d_len, (size_t)UINT_MAX);
		ain = zs.avail_in;
		aout = zs.avail_out;
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT) {
			rc = decomp_err(dc, -EINVAL, "gzip: data error: %s",
			    zs.msg != NULL ? zs.msg : "needs a dictionary");
			break;
		}
		if (zr == Z_MEM_ERROR || zr == Z_STREAM_ERROR) {
			rc = decomp_err(dc, -ENOMEM, "gzip: zlib error %d", zr);
			break;
		}
		rc = dstep(dc, aout - zs.avail_out, ain - zs.avail_in,
		    zs.avail_in + (inlen - fed));
		if (rc < 0 || zr == Z_STREAM_END)
			break;
	}
	inflateEnd(&zs);
	return (rc < 0 ? rc : 0);
}

static const char *
lzma_errstr(lzma_ret r)
{
	switch (r) {
	case LZMA_FORMAT_ERROR:
		return ("bad stream header");
	case LZMA_OPTIONS_ERROR:
		return ("unsupported options");
	case LZMA_DATA_ERROR:
		return ("compressed data is corrupt");
	case LZMA_BUF_ERROR:
		return ("input is truncated");
	case LZMA_MEMLIMIT_ERROR:
		return ("dictionary is larger than 256 MiB");
	case LZMA_UNSUPPORTED_CHECK:
		return ("unsupported integrity check");
	default:
		return ("decoder error");
	}
}

/* .xz (lzma_stream_decoder) and .lzma (lzma_alone_decoder). */
static int
dec_lzma(struct dctx *dc, const uint8_t *in, size_t inlen, bool xz)
{
	struct dbuf *b = &dc->dc_out;
	lzma_stream ls = LZMA_STREAM_INIT;
	size_t ain, aout;
	lzma_ret r;
	int rc;

	/*
	 * No LZMA_CONCATENATED: decoding stops after the first stream, so
	 * the size trailer the kernel build appends is not parsed.
	 */
	r = xz ? lzma_stream_decoder(&ls, DECOMP_LZMA_MEMLIMIT, 0) :
	    lzma_alone_decoder(&ls, DECOMP_LZMA_MEMLIMIT);
	if (r != LZMA_OK)
		return (decomp_err(dc, -ENOMEM, "%s: cannot initialise liblzma",
		    dc->dc_name));
	ls.next_in = in;
	ls.avail_in = inlen;
	for (;;) {
		if ((rc = dbuf_stream_space(dc)) != 0)
			break;
		ls.next_out = b->d_buf + b->d_len;
		ls.avail_out = b->d_cap - b->d_len;
		ain = ls.avail_in;
		aout = ls.avail_out;
		r = lzma_code(&ls, LZMA_FINISH);
		if (r == LZMA_MEM_ERROR) {
			rc = decomp_err(dc, -ENOMEM, "%s: out of memory",
			    dc->dc_name);
			break;
		}
		if (r != LZMA_OK && r != LZMA_STREAM_END &&
		    r != LZMA_BUF_ERROR) {
			rc = decomp_err(dc, -EINVAL, "%s: data error: %s",
			    dc->dc_name, lzma_errstr(r));
			break;
		}
		rc = dstep(dc, aout - ls.avail_out, ain - ls.avail_in,
		    ls.avail_in);
		if (rc < 0 || r == LZMA_STREAM_END)
			break;
	}
	lzma_end(&ls);
	return (rc < 0 ? rc : 0);
}

static bool
zstd_frame_next(const uint8_t *p, size_t left)
{
	return (left >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f &&
	    p[3] == 0xfd);
}

static int
dec_zstd(struct dctx *dc, const uint8_t *in, size_t inlen)
{
	struct dbuf *b = &dc->dc_out;
	ZSTD_DCtx *zd;
	ZSTD_inBuffer ib;
	ZSTD_outBuffer ob;
	size_t r, ipos;
	int rc;

	if ((zd = ZSTD_createDCtx()) == NULL)
		return (decomp_err(dc, -ENOMEM,
		    "zstd: cannot create a context"));
	r = ZSTD_DCtx_setParameter(zd, ZSTD_d_windowLogMax,
	    DECOMP_ZSTD_WLOG_MAX);
	if (ZSTD_isError(r)) {
		ZSTD_freeDCtx(zd);
		return (decomp_err(dc, -EINVAL, "zstd: %s",
		    ZSTD_getErrorName(r)));
	}
	ib.src = in;
	ib.size = inlen;
	ib.pos = 0;
	for (;;) {
		if ((rc = dbuf_stream_space(dc)) != 0)
			break;
		ob.dst = b->d_buf + b->d_len;
		ob.size = b->d_cap - b->d_len;
		ob.pos = 0;
		ipos = ib.pos;
		r = ZSTD_decompressStream(zd, &ob, &ib);
		if (ZSTD_isError(r)) {
			rc = decomp_err(dc, -EINVAL, "zstd: data error: %s",
			    ZSTD_getErrorName(r));
			break;
		}
		rc = dstep(dc, ob.pos, ib.pos - ipos, ib.size - ib.pos);
		if (rc <= 0)
			break;
		/*
		 * r == 0: a frame is complete and flushed.  Go on only into
		 * another zstd frame; anything else is the size trailer.
		 */
		if (r == 0 && !zstd_frame_next(in + ib.pos, inlen - ib.pos))
			break;
	}
	ZSTD_freeDCtx(zd);
	return (rc < 0 ? rc : 0);
}

static int
dec_bzip2(struct dctx *dc, const uint8_t *in, size_t inlen)
{
	struct dbuf *b = &dc->dc_out;
	bz_stream bs;
	size_t fed, ain, aout;
	int br, rc;

	memset(&bs, 0, sizeof(bs));
	if (BZ2_bzDecompressInit(&bs, 0, 0) != BZ_OK)
		return (decomp_err(dc, -ENOMEM,
		    "bzip2: cannot initialise libbz2"));
	fed = 0;
	for (;;) {
		if (bs.avail_in == 0 && fed < inlen) {
			/* libbz2 takes a non-const pointer but only reads. */
			bs.next_in = (char *)(uintptr_t)(in + fed);
			bs.avail_in = (unsigned)MIN(inlen - fed,
			    (size_t)UINT_MAX);
			fed += bs.avail_in;
		}
		if ((rc = dbuf_stream_space(dc)) != 0)
			break;
		bs.next_out = (char *)(b->d_buf + b->d_len);
		bs.avail_out = (unsigned)MIN(b->d_cap - b->d_len,
		    (size_t)UINT_MAX);
		ain = bs.avail_in;
		aout = bs.avail_out;
		br = BZ2_bzDecompress(&bs);
		if (br == BZ_DATA_ERROR || br == BZ_DATA_ERROR_MAGIC) {
			rc = decomp_err(dc, -EINVAL, "bzip2: data error: %s",
			    br == BZ_DATA_ERROR ? "CRC or block data corrupt" :
			    "bad stream magic");
			break;
		}
		if (br != BZ_OK && br != BZ_STREAM_END) {
			rc = decomp_err(dc, br == BZ_MEM_ERROR ? -ENOMEM :
			    -EINVAL, "bzip2: libbz2 error %d", br);
			break;
		}
		rc = dstep(dc, aout - bs.avail_out, ain - bs.avail_in,
		    bs.avail_in + (inlen - fed));
		if (rc < 0 || br == BZ_STREAM_END)
			break;
	}
	BZ2_bzDecompressEnd(&bs);
	return (rc < 0 ? rc : 0);
}

enum decomp_fmt
decompress_detect(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (len >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 0x08)
		return (DECOMP_GZIP);
	if (len >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0)
		return (DECOMP_XZ);
	if (len >= 4 && decomp_le32(p) == LZ4_LEGACY_MAGIC)
		return (DECOMP_LZ4);
	if (zstd_frame_next(p, len))
		return (DECOMP_ZSTD);
	if (len >= 4 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' &&
	    p[3] >= '1' && p[3] <= '9')
		return (DECOMP_BZIP2);
	if (len >= LZOP_MAGIC_LEN &&
	    memcmp(p, decomp_lzop_magic, LZOP_MAGIC_LEN) == 0)
		return (DECOMP_LZO);
	/* lc=3 lp=0 pb=2, as every lzma -N writes (lib/decompress.c). */
	if (len >= 2 && p[0] == 0x5d && p[1] == 0x00)
		return (DECOMP_LZMA);
	return (DECOMP_UNKNOWN);
}

const char *
decompress_fmt_name(enum decomp_fmt fmt)
{
	switch (fmt) {
	case DECOMP_GZIP:
		return ("gzip");
	case DECOMP_XZ:
		return ("xz");
	case DECOMP_LZMA:
		return ("lzma");
	case DECOMP_LZ4:
		return ("lz4");
	case DECOMP_ZSTD:
		return ("zstd");
	case DECOMP_BZIP2:
		return ("bzip2");
	case DECOMP_LZO:
		return ("lzo");
	case DECOMP_UNKNOWN:
		break;
	}
	return ("unknown");
}

int
decompress(const void *in, size_t inlen, size_t maxout, void **out,
    size_t *outlen, char *err, size_t errlen)
{
	struct dctx dc;
	enum decomp_fmt fmt;
	const uint8_t *p = in;
	uint8_t *shrunk;
	int rc;

	*out = NULL;
	*outlen = 0;
	memset(&dc, 0, sizeof(dc));
	dc.dc_err = err;
	dc.dc_errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	fmt = decompress_detect(in, inlen);
	dc.dc_name = decompress_fmt_name(fmt);
	if (fmt == DECOMP_UNKNOWN)
		return (decomp_err(&dc, -ENOEXEC, "not a known compressed "
		    "format (starts %02x %02x %02x %02x)", inlen > 0 ? p[0] : 0,
		    inlen > 1 ? p[1] : 0, inlen > 2 ? p[2] : 0,
		    inlen > 3 ? p[3] : 0));
	if (maxout == 0)
		return (decomp_err(&dc, -EINVAL, "output limit is 0"));
	dc.dc_out.d_max = MIN(maxout, (size_t)DECOMP_MAX_LIMIT);
	/* Kernels compress about 4:1; start there, within the limit. */
	dc.dc_out.d_hint = MIN(MAX(inlen, (size_t)(64 * KiB)),
	    (size_t)DECOMP_MAX_LIMIT / 4) * 4;
	dc.dc_out.d_hint = MIN(dc.dc_out.d_hint, dc.dc_out.d_max + 1);

	switch (fmt) {
	case DECOMP_GZIP:
		rc = dec_gzip(&dc, p, inlen);
		break;
	case DECOMP_XZ:
	case DECOMP_LZMA:
		rc = dec_lzma(&dc, p, inlen, fmt == DECOMP_XZ);
		break;
	case DECOMP_LZ4:
		rc = decomp_lz4(&dc, p, inlen);
		break;
	case DECOMP_ZSTD:
		rc = dec_zstd(&dc, p, inlen);
		break;
	case DECOMP_BZIP2:
		rc = dec_bzip2(&dc, p, inlen);
		break;
	case DECOMP_LZO:
		rc = decomp_lzo(&dc, p, inlen);
		break;
	default:
		rc = decomp_err(&dc, -ENOEXEC, "unsupported format");
		break;
	}
	if (rc == 0 && dc.dc_out.d_buf == NULL)
		rc = decomp_reserve(&dc, 1, dc.dc_out.d_max + 1);
	if (rc != 0) {
		free(dc.dc_out.d_buf);
		return (rc);
	}
	/* Give back the slack of the last doubling. */
	if (dc.dc_out.d_len > 0 && dc.dc_out.d_cap > dc.dc_out.d_len &&
	    (shrunk = realloc(dc.dc_out.d_buf, dc.dc_out.d_len)) != NULL)
		dc.dc_out.d_buf = shrunk;
	*out = dc.dc_out.d_buf;
	*outlen = dc.dc_out.d_len;
	return (0);
}
