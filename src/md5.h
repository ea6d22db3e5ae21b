/*
 * md5.h: the MD5 message digest (RFC 1321), for the one place khyve needs
 * bhyve's exact arithmetic: the default MAC address of a network device
 * (bhyve's net_genmac(), net_utils.c).  Not for anything that needs a
 * cryptographic hash.
 */
#ifndef MD5_H
#define MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_DIGEST_LEN	16

struct md5_ctx {
	uint32_t	state[4];	/* A, B, C, D (RFC 1321 §3.3) */
	uint64_t	bytes;		/* message length so far */
	uint8_t		buf[64];	/* a partial block */
};

void	md5_init(struct md5_ctx *ctx);
/* Add len bytes at data (any length, any number of calls). */
void	md5_update(struct md5_ctx *ctx, const void *data, size_t len);
/* Pad, write the 16-byte digest and leave ctx to be initialised again. */
void	md5_final(struct md5_ctx *ctx, uint8_t digest[MD5_DIGEST_LEN]);
/* The digest of one buffer. */
void	md5(const void *data, size_t len, uint8_t digest[MD5_DIGEST_LEN]);

#endif /* MD5_H */
