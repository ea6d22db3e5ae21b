/*
 * test_md5.c: MD5 against the test suite of RFC 1321 (appendix A.5), fed
 * in one piece and in every split of two, and a message whose padding
 * needs a second block.
 */
#include <stdio.h>
#include "khyve.h"
#include "md5.h"
#include "test.h"

static void
hex(const uint8_t *d, char *out)
{
	int i;

	for (i = 0; i < MD5_DIGEST_LEN; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static const struct {
	const char *msg, *digest;
} vectors[] = {
	{ "", "d41d8cd98f00b204e9800998ecf8427e" },
	{ "a", "0cc175b9c0f1b6a831c399e269772661" },
	{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
	{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
	{ "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	    "d174ab98d277d9f5a5611c2c9f419d9f" },
	{ "1234567890123456789012345678901234567890123456789012345678901234"
	    "5678901234567890", "57edf4a22be3c955ac49da2e2107b67a" },
	/* bhyve's net_genmac() input for slot 5, function 0, VM "vm0". */
	{ "5-0-vm0", "1bc807b6080486cd837ea7e9c5ea1377" },
};

TEST(rfc1321_suite)
{
	uint8_t d[MD5_DIGEST_LEN];
	char h[2 * MD5_DIGEST_LEN + 1];
	size_t i;

	for (i = 0; i < nitems(vectors); i++) {
		md5(vectors[i].msg, strlen(vectors[i].msg), d);
		hex(d, h);
		CHECK_STR(h, vectors[i].digest);
	}
}

TEST(split_updates)
{
	struct md5_ctx ctx;
	uint8_t d[MD5_DIGEST_LEN];
	char h[2 * MD5_DIGEST_LEN + 1];
	size_t i, cut, len;
	const char *m;

	for (i = 0; i < nitems(vectors); i++) {
		m = vectors[i].msg;
		len = strlen(m);
		for (cut = 0; cut <= len; cut++) {
			md5_init(&ctx);
			md5_update(&ctx, m, cut);
			md5_update(&ctx, m + cut, len - cut);
			md5_final(&ctx, d);
			hex(d, h);
			if (strcmp(h, vectors[i].digest) != 0) {
				printf("  vector %zu cut at %zu: %s\n", i, cut, h);
				test_failed++;
			}
		}
	}
}

/* 55, 56 and 64 bytes: the padding fits, just does not, and a full block. */
TEST(padding_edges)
{
	static const struct {
		size_t len;
		const char *digest;
	} rows[] = {
		{ 55, "ef1772b6dff9a122358552954ad0df65" },
		{ 56, "3b0c8ac703f828b04c6c197006d17218" },
		{ 64, "014842d480b571495a4a0363793f7367" },
	};
	char buf[64], h[2 * MD5_DIGEST_LEN + 1];
	uint8_t d[MD5_DIGEST_LEN];
	size_t i;

	memset(buf, 'a', sizeof(buf));
	for (i = 0; i < nitems(rows); i++) {
		md5(buf, rows[i].len, d);
		hex(d, h);
		CHECK_STR(h, rows[i].digest);
	}
}

TEST_MAIN()
