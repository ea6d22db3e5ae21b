/*
 * test_decompress.c: payload decompression, against files made here by
 * the real command-line compressors (a format whose tool is missing is
 * reported as SKIP).
 */
#include <errno.h>
#include <unistd.h>
#include "decompress.h"
#include "test.h"

#define LIMIT		(64 * MiB)
#define SMALL_LEN	(300 * 1024)	/* > one 256 KiB lzop block */

struct fmt_case {
	const char	*tool;		/* program that must exist */
	const char	*cmd;		/* stdin to stdout */
	enum decomp_fmt	fmt;		/* what decompress_detect() says */
	int		checked;	/* format detects corruption itself */
};

static const struct fmt_case fmts[] = {
	{ "gzip", "gzip -9 -n -c", DECOMP_GZIP, 1 },
	{ "xz", "xz -c --check=crc32", DECOMP_XZ, 1 },
	{ "xz", "xz --format=lzma -c", DECOMP_LZMA, 0 },
	{ "lz4", "lz4 -l -9 -c", DECOMP_LZ4, 0 },
	{ "zstd", "zstd -q -c", DECOMP_ZSTD, 1 },
	{ "bzip2", "bzip2 -c", DECOMP_BZIP2, 1 },
	{ "lzop", "lzop -c", DECOMP_LZO, 1 },
};

/* Compressible but not trivial: words from a small PRNG. */
static uint8_t *
make_data(size_t len)
{
	static const char *words[] = { "kernel ", "payload ", "bhyve ",
	    "\177ELF", "zero page ", "\0\0\0\0", "setup ", "khyve\n" };
	uint8_t *p = malloc(len);
	uint32_t x = 12345;
	size_t i, n;

	for (i = 0; i < len; ) {
		x = x * 1103515245 + 12345;
		n = strlen(words[(x >> 16) % 8]);
		if (n == 0)
			n = 4;
		n = MIN(n, len - i);
		memcpy(p + i, words[(x >> 16) % 8], n);
		if ((x >> 8) % 7 == 0)
			p[i] = (uint8_t)(x >> 24);
		i += n;
	}
	return (p);
}

static int
have_tool(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return (system(cmd) == 0);
}

/* Run `cmd < data > result`; returns a malloc'd result or NULL. */
static uint8_t *
run_tool(const char *cmd, const uint8_t *data, size_t len, size_t *outlen)
{
	char in[] = "/tmp/khyve-dcin-XXXXXX", out[] = "/tmp/khyve-dcout-XXXXXX";
	char sh[512];
	uint8_t *res = NULL;
	FILE *f;
	long n;
	int fi, fo;

	if ((fi = mkstemp(in)) < 0)
		return (NULL);
	if ((fo = mkstemp(out)) < 0) {
		close(fi);
		unlink(in);
		return (NULL);
	}
	close(fo);
	if (write(fi, data, len) != (ssize_t)len)
		goto done;
	snprintf(sh, sizeof(sh), "%s < %s > %s", cmd, in, out);
	if (system(sh) != 0 || (f = fopen(out, "rb")) == NULL)
		goto done;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	res = malloc((size_t)n + 16);
	if (res != NULL && fread(res, 1, (size_t)n, f) != (size_t)n) {
		free(res);
		res = NULL;
	}
	*outlen = (size_t)n;
	fclose(f);
done:
	close(fi);
	unlink(in);
	unlink(out);
	return (res);
}

static int
same(const void *a, size_t alen, const void *b, size_t blen)
{
	return (alen == blen && memcmp(a, b, alen) == 0);
}

/* Decompress, expect success and the original bytes. */
static void
expect_ok(const uint8_t *c, size_t clen, size_t max, const uint8_t *orig,
    size_t olen)
{
	char err[160] = "";
	void *out = NULL;
	size_t outlen = 0;
	int rc;

	rc = decompress(c, clen, max, &out, &outlen, err, sizeof(err));
	CHECK_EQ(rc, 0);
	if (rc != 0)
		printf("  error: %s\n", err);
	CHECK(out != NULL && same(out, outlen, orig, olen));
	free(out);
}

/* Decompress, expect rc and a message starting with prefix. */
static void
expect_err(const uint8_t *c, size_t clen, size_t max, int want,
    const char *prefix)
{
	char err[160] = "";
	void *out = (void *)1;
	size_t outlen = 1;
	int rc;

	rc = decompress(c, clen, max, &out, &outlen, err, sizeof(err));
	CHECK_EQ(rc, want);
	CHECK(out == NULL);
	CHECK_EQ(outlen, 0);
	CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		printf("  message \"%s\" does not start with \"%s\"\n", err,
		    prefix);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/*
 * One format end to end: round trip, the kernel's 4-byte size trailer,
 * trailing garbage, truncation, corruption and the output cap.
 */
static void
check_format(const struct fmt_case *fc)
{
	const char *name = decompress_fmt_name(fc->fmt);
	char prefix[32], err[160];
	uint8_t *data, *c, *bad;
	size_t clen, i, outlen;
	void *out;
	int rc;

	data = make_data(SMALL_LEN);
	c = run_tool(fc->cmd, data, SMALL_LEN, &clen);
	CHECK(c != NULL);
	if (c == NULL) {
		free(data);
		return;
	}
	snprintf(prefix, sizeof(prefix), "%s: ", name);
	CHECK_EQ(decompress_detect(c, clen), fc->fmt);
	expect_ok(c, clen, LIMIT, data, SMALL_LEN);

	/* The size trailer the kernel build appends (size_append). */
	put_le32(c + clen, SMALL_LEN);
	expect_ok(c, clen + 4, LIMIT, data, SMALL_LEN);
	/* Other bytes after the stream: only LZ4 legacy cannot tell. */
	memcpy(c + clen, "junk-after-end", 14);
	if (fc->fmt != DECOMP_LZ4)
		expect_ok(c, clen + 14, LIMIT, data, SMALL_LEN);
	else
		expect_err(c, clen + 14, LIMIT, -EINVAL, prefix);

	/* Truncated in the middle and just before the end. */
	expect_err(c, clen / 2, LIMIT, -EINVAL, prefix);
	expect_err(c, clen - 1, LIMIT, -EINVAL, prefix);

	/* Corrupted in the middle of the data. */
	bad = malloc(clen);
	memcpy(bad, c, clen);
	for (i = clen / 2; i < clen / 2 + 16; i++)
		bad[i] ^= 0x5a;
	out = NULL;
	rc = decompress(bad, clen, LIMIT, &out, &outlen, err, sizeof(err));
	if (fc->checked) {
		CHECK_EQ(rc, -EINVAL);
		CHECK(strstr(err, "data error") != NULL);
	} else {
		/* No checksum: an error or, at least, different bytes. */
		CHECK(rc != 0 || !same(out, outlen, data, SMALL_LEN));
	}
	free(out);
	free(bad);

	/* The cap: exactly the size fits, one byte less does not. */
	expect_ok(c, clen, SMALL_LEN, data, SMALL_LEN);
	expect_err(c, clen, SMALL_LEN - 1, -EFBIG,
	    "decompressed size exceeds");
	free(c);
	free(data);
}

#define FORMAT_TEST(tname, idx)						\
	TEST(tname)							\
	{								\
		if (!have_tool(fmts[idx].tool))				\
			TEST_SKIP("%s is not installed", fmts[idx].tool); \
		check_format(&fmts[idx]);				\
	}

FORMAT_TEST(gzip, 0)
FORMAT_TEST(xz, 1)
FORMAT_TEST(lzma, 2)
FORMAT_TEST(lz4_legacy, 3)
FORMAT_TEST(zstd, 4)
FORMAT_TEST(bzip2, 5)
FORMAT_TEST(lzo, 6)

/* LZ4 legacy with several 8 MiB blocks, the trailer, and bad framing. */
TEST(lz4_multiblock)
{
	size_t len = 17 * MiB + 123, clen;
	uint8_t *data, *c;

	if (!have_tool("lz4"))
		TEST_SKIP("lz4 is not installed");
	data = make_data(len);
	c = run_tool("lz4 -l -1 -c", data, len, &clen);
	CHECK(c != NULL);
	if (c == NULL) {
		free(data);
		return;
	}
	expect_ok(c, clen, LIMIT, data, len);
	put_le32(c + clen, (uint32_t)len);
	expect_ok(c, clen + 4, LIMIT, data, len);
	/* Four bytes that are not the size: a block header with no data. */
	put_le32(c + clen, 100);
	expect_err(c, clen + 4, LIMIT, -EINVAL, "lz4: data error: block");
	/* A block size past the compress bound. */
	put_le32(c + 4, 0x7fffffff);
	expect_err(c, clen, LIMIT, -EINVAL, "lz4: data error: bad block size");
	/* A cap that falls inside the second block. */
	put_le32(c + clen, (uint32_t)len);
	free(c);
	c = run_tool("lz4 -l -1 -c", data, len, &clen);
	CHECK(c != NULL);
	if (c != NULL)
		expect_err(c, clen, 10 * MiB, -EFBIG,
		    "decompressed size exceeds 10 MiB");
	free(c);
	free(data);
}

/* lzop's header checksum covers the header, so a flipped mtime fails. */
TEST(lzo_header_checksum)
{
	uint8_t *data, *c;
	size_t clen;

	if (!have_tool("lzop"))
		TEST_SKIP("lzop is not installed");
	data = make_data(1000);
	c = run_tool("lzop -c", data, 1000, &clen);
	CHECK(c != NULL);
	if (c == NULL) {
		free(data);
		return;
	}
	expect_ok(c, clen, LIMIT, data, 1000);
	c[9 + 2 + 2 + 2 + 1 + 1 + 4 + 4 + 1] ^= 1;	/* mtime_low */
	expect_err(c, clen, LIMIT, -EINVAL, "lzo: data error: header checksum");
	free(c);
	free(data);
}

TEST(detect)
{
	static const uint8_t gz[] = { 0x1f, 0x8b, 0x08 };
	static const uint8_t xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	static const uint8_t lz4[] = { 0x02, 0x21, 0x4c, 0x18 };
	static const uint8_t zst[] = { 0x28, 0xb5, 0x2f, 0xfd };
	static const uint8_t lzo[] = { 0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a,
	    0x1a, 0x0a };

	CHECK_EQ(decompress_detect(gz, sizeof(gz)), DECOMP_GZIP);
	CHECK_EQ(decompress_detect(gz, 2), DECOMP_UNKNOWN);
	CHECK_EQ(decompress_detect(xz, sizeof(xz)), DECOMP_XZ);
	CHECK_EQ(decompress_detect("\x5d\0\0\x80", 4), DECOMP_LZMA);
	CHECK_EQ(decompress_detect(lz4, sizeof(lz4)), DECOMP_LZ4);
	CHECK_EQ(decompress_detect(zst, sizeof(zst)), DECOMP_ZSTD);
	CHECK_EQ(decompress_detect("BZh9", 4), DECOMP_BZIP2);
	CHECK_EQ(decompress_detect("BZh0", 4), DECOMP_UNKNOWN);
	CHECK_EQ(decompress_detect(lzo, sizeof(lzo)), DECOMP_LZO);
	CHECK_EQ(decompress_detect(lzo, sizeof(lzo) - 1), DECOMP_UNKNOWN);
	CHECK_EQ(decompress_detect("\x7f" "ELF", 4), DECOMP_UNKNOWN);
	CHECK_STR(decompress_fmt_name(DECOMP_LZ4), "lz4");
	CHECK_STR(decompress_fmt_name(DECOMP_LZO), "lzo");
	CHECK_STR(decompress_fmt_name((enum decomp_fmt)99), "unknown");
}

TEST(unknown_and_empty)
{
	expect_err((const uint8_t *)"\x7f" "ELF\2\1\1", 7, LIMIT, -ENOEXEC,
	    "not a known compressed format (starts 7f 45 4c 46)");
	expect_err((const uint8_t *)"", 0, LIMIT, -ENOEXEC,
	    "not a known compressed format");
}

/* Headers alone and garbage after a magic fail cleanly. */
TEST(hostile_headers)
{
	static const uint8_t lz4_zero[] = { 0x02, 0x21, 0x4c, 0x18, 0, 0, 0, 0,
	    1, 2 };
	static const uint8_t lz4_short[] = { 0x02, 0x21, 0x4c, 0x18, 9, 0, 0,
	    0, 0x90 };
	static const uint8_t zst[] = { 0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff };
	static const uint8_t lzma_big[] = { 0x5d, 0x00, 0x00, 0x00, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	static const uint8_t lzo_old[] = { 0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a,
	    0x1a, 0x0a, 0x09, 0x00 };

	expect_err(lz4_zero, sizeof(lz4_zero), LIMIT, -EINVAL,
	    "lz4: data error: bad block size 0");
	expect_err(lz4_short, sizeof(lz4_short), LIMIT, -EINVAL,
	    "lz4: data error: block at offset 4 is truncated");
	expect_err(zst, sizeof(zst), LIMIT, -EINVAL, "zstd: data error");
	/* A 4 GiB dictionary is past the memory limit. */
	expect_err(lzma_big, sizeof(lzma_big), LIMIT, -EINVAL,
	    "lzma: data error: dictionary");
	expect_err(lzo_old, sizeof(lzo_old), LIMIT, -EINVAL, "lzo: ");
	/* An LZ4 frame with no blocks is empty, not an error. */
	expect_ok(lz4_zero, 4, LIMIT, (const uint8_t *)"", 0);
}

TEST(zero_limit)
{
	static const uint8_t lz4[] = { 0x02, 0x21, 0x4c, 0x18 };

	expect_err(lz4, sizeof(lz4), 0, -EINVAL, "output limit is 0");
}

TEST_MAIN()
