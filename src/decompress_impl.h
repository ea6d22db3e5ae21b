/*
 * decompress_impl.h: what decompress.c shares with decompress_blk.c, the
 * decoders of the two block formats (LZ4 legacy, lzop).  Internal to
 * those two files.
 */
#ifndef DECOMPRESS_IMPL_H
#define DECOMPRESS_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include "khyve.h"

/* LZ4 legacy frame (lz4 programs/lz4io.c, LEGACY_MAGICNUMBER). */
#define LZ4_LEGACY_MAGIC	0x184c2102u
#define LZ4_LEGACY_BLOCK	(8 * MiB)	/* a block's output, at most */

/* lzop file magic (lzop conf.h). */
#define LZOP_MAGIC_LEN		9
extern const uint8_t decomp_lzop_magic[LZOP_MAGIC_LEN];

/* The output buffer. */
struct dbuf {
	uint8_t	*d_buf;		/* malloc'd output */
	size_t	d_len;		/* bytes produced */
	size_t	d_cap;		/* bytes allocated */
	size_t	d_max;		/* caller's limit on d_len */
	size_t	d_hint;		/* size of the first allocation */
};

/* Decoder context: the buffer and where messages go. */
struct dctx {
	struct dbuf	dc_out;		/* output */
	const char	*dc_name;	/* format name, message prefix */
	char		*dc_err;	/* caller's message buffer */
	size_t		dc_errlen;	/* its size */
};

/* Write a message to the caller's buffer; returns rc. */
int	decomp_err(struct dctx *dc, int rc, const char *fmt, ...)
	    __printflike(3, 4);
/* The "exceeds maxout" message; returns -EFBIG. */
int	decomp_toobig(struct dctx *dc);
/*
 * Make at least want bytes free after d_len, allocating no more than
 * limit bytes in all: 0, -EFBIG (limit too small) or -ENOMEM.
 */
int	decomp_reserve(struct dctx *dc, size_t want, size_t limit);

/* The block formats: 0 or -errno with a message, output in dc_out. */
int	decomp_lz4(struct dctx *dc, const uint8_t *in, size_t inlen);
int	decomp_lzo(struct dctx *dc, const uint8_t *in, size_t inlen);

static inline uint32_t
decomp_le32(const uint8_t *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24);
}

#endif /* DECOMPRESS_IMPL_H */
