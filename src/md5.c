/*
 * md5.c: MD5 as RFC 1321 describes it (§3: padding, length, four rounds
 * of sixteen steps over each 64-byte block, little-endian words).  The
 * per-step constants are RFC 1321's T[i] = floor(2^32 * |sin(i)|); the
 * shift amounts are its S11..S44.
 */
#include <string.h>
#include "md5.h"

static const uint32_t md5_t[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
	0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
	0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
	0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
	0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Shift amounts, four per round (S11-S14, S21-S24, S31-S34, S41-S44). */
static const uint8_t md5_s[16] = {
	7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21,
};

static uint32_t
rol(uint32_t x, unsigned n)
{
	return ((x << n) | (x >> (32 - n)));
}

static void
md5_block(uint32_t st[4], const uint8_t *p)
{
	uint32_t x[16], a = st[0], b = st[1], c = st[2], d = st[3], f, t;
	unsigned i, g;

	for (i = 0; i < 16; i++)
		x[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		    (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
	for (i = 0; i < 64; i++) {
		/* The auxiliary functions F, G, H, I and the word order. */
		switch (i / 16) {
		case 0:
			f = (b & c) | (~b & d);
			g = i;
			break;
		case 1:
			f = (b & d) | (c & ~d);
			g = (5 * i + 1) % 16;
			break;
		case 2:
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
			break;
		default:
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
			break;
		}
		t = d;
		d = c;
		c = b;
		b = b + rol(a + f + md5_t[i] + x[g], md5_s[(i / 16) * 4 +
		    i % 4]);
		a = t;
	}
	st[0] += a;
	st[1] += b;
	st[2] += c;
	st[3] += d;
}

void
md5_init(struct md5_ctx *ctx)
{
	/* RFC 1321 §3.3: the initial words, low-order bytes first. */
	ctx->state[0] = 0x67452301;
	ctx->state[1] = 0xefcdab89;
	ctx->state[2] = 0x98badcfe;
	ctx->state[3] = 0x10325476;
	ctx->bytes = 0;
}

void
md5_update(struct md5_ctx *ctx, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t have = (size_t)(ctx->bytes % 64), n;

	ctx->bytes += len;
	if (have != 0) {
		n = 64 - have < len ? 64 - have : len;
		memcpy(ctx->buf + have, p, n);
		p += n;
		len -= n;
		if (have + n < 64)
			return;
		md5_block(ctx->state, ctx->buf);
	}
	for (; len >= 64; p += 64, len -= 64)
		md5_block(ctx->state, p);
	if (len > 0)
		memcpy(ctx->buf, p, len);
}

void
md5_final(struct md5_ctx *ctx, uint8_t digest[MD5_DIGEST_LEN])
{
	static const uint8_t pad[64] = { 0x80 };
	uint64_t bits = ctx->bytes * 8;
	uint8_t len[8];
	size_t have = (size_t)(ctx->bytes % 64);
	unsigned i;

	/* §3.1-3.2: a one bit, zeroes to 56 mod 64, the bit length. */
	for (i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (8 * i));
	md5_update(ctx, pad, have < 56 ? 56 - have : 120 - have);
	md5_update(ctx, len, 8);
	for (i = 0; i < 16; i++)
		digest[i] = (uint8_t)(ctx->state[i / 4] >> (8 * (i % 4)));
	memset(ctx, 0, sizeof(*ctx));
}

void
md5(const void *data, size_t len, uint8_t digest[MD5_DIGEST_LEN])
{
	struct md5_ctx ctx;

	md5_init(&ctx);
	md5_update(&ctx, data, len);
	md5_final(&ctx, digest);
}
