/*
 * test_iov.c: the iovec helpers devices parse requests with.
 */
#include <errno.h>
#include <stdint.h>
#include "test.h"
#include "virtio/iov.h"

static uint8_t a[3], b[5], c[2];

/* {a,3} {NULL,0} {b,5} {c,2}: bytes 0-2 in a, 3-7 in b, 8-9 in c. */
static void
setup(struct iovec *iov)
{
	unsigned i;

	for (i = 0; i < 3; i++)
		a[i] = 0x10 + i;
	for (i = 0; i < 5; i++)
		b[i] = 0x20 + i;
	for (i = 0; i < 2; i++)
		c[i] = 0x30 + i;
	iov[0] = (struct iovec){ a, 3 };
	iov[1] = (struct iovec){ NULL, 0 };
	iov[2] = (struct iovec){ b, 5 };
	iov[3] = (struct iovec){ c, 2 };
}

TEST(size_saturates)
{
	struct iovec iov[4];

	setup(iov);
	CHECK_EQ(iov_size(iov, 4), 10);
	CHECK_EQ(iov_size(iov, 0), 0);
	iov[1].iov_len = SIZE_MAX - 5;	/* never dereferenced */
	CHECK(iov_size(iov, 4) == SIZE_MAX);
}

TEST(to_buf_across_entries)
{
	static const struct {
		size_t	off, len, want;
		uint8_t	first;
	} rows[] = {
		{ 0, 10, 10, 0x10 },
		{ 2, 5, 5, 0x12 },	/* a[2], then b, skipping the empty one */
		{ 3, 1, 1, 0x20 },
		{ 7, 3, 3, 0x24 },
		{ 9, 5, 1, 0x31 },	/* short: one byte left */
		{ 10, 1, 0, 0 },	/* at the end */
		{ SIZE_MAX, 1, 0, 0 },
		{ 4, 0, 0, 0 },
	};
	struct iovec iov[4];
	uint8_t buf[16];
	unsigned i;

	setup(iov);
	for (i = 0; i < nitems(rows); i++) {
		memset(buf, 0, sizeof(buf));
		CHECK_EQ(iov_to_buf(iov, 4, rows[i].off, buf, rows[i].len),
		    rows[i].want);
		if (rows[i].want > 0)
			CHECK_EQ(buf[0], rows[i].first);
	}
	CHECK_EQ(iov_to_buf(iov, 4, 2, buf, 5), 5);
	CHECK(memcmp(buf, "\x12\x20\x21\x22\x23", 5) == 0);
}

TEST(from_buf_across_entries)
{
	struct iovec iov[4];
	uint8_t src[10];
	unsigned i;

	setup(iov);
	for (i = 0; i < 10; i++)
		src[i] = 0xa0 + i;
	CHECK_EQ(buf_to_iov(iov, 4, 2, src, 3), 3);
	CHECK_EQ(a[2], 0xa0);
	CHECK_EQ(b[0], 0xa1);
	CHECK_EQ(b[1], 0xa2);
	CHECK_EQ(b[2], 0x22);			/* untouched */
	CHECK_EQ(buf_to_iov(iov, 4, 8, src, 10), 2);
	CHECK_EQ(c[0], 0xa0);
	CHECK_EQ(c[1], 0xa1);
	CHECK_EQ(buf_to_iov(iov, 4, 10, src, 1), 0);
	CHECK_EQ(buf_to_iov(iov, 4, 0, src, 0), 0);
}

TEST(slice_rows)
{
	static const struct {
		size_t	off, len;
		unsigned ndst;
		int	ret;
		size_t	first_len, last_len;
	} rows[] = {
		{ 0, 10, 8, 3, 3, 2 },	/* the empty entry is left out */
		{ 2, 6, 8, 2, 1, 5 },
		{ 3, 5, 8, 1, 5, 5 },
		{ 4, 5, 8, 2, 4, 1 },
		{ 0, 10, 2, -ENOSPC, 0, 0 },
		{ 0, 11, 8, -ERANGE, 0, 0 },
		{ 10, 1, 8, -ERANGE, 0, 0 },
		{ 10, 0, 8, 0, 0, 0 },
		{ 11, 0, 8, -ERANGE, 0, 0 },
		{ SIZE_MAX, 2, 8, -ERANGE, 0, 0 },
		{ 9, 1, 1, 1, 1, 1 },
	};
	struct iovec iov[4], dst[8];
	unsigned i;
	int n, before;

	setup(iov);
	for (i = 0; i < nitems(rows); i++) {
		before = test_failed;
		n = iov_slice(iov, 4, rows[i].off, rows[i].len, dst,
		    rows[i].ndst);
		CHECK_EQ(n, rows[i].ret);
		if (n > 0) {
			CHECK_EQ(dst[0].iov_len, rows[i].first_len);
			CHECK_EQ(dst[n - 1].iov_len, rows[i].last_len);
			CHECK_EQ(iov_size(dst, n), rows[i].len);
		}
		if (test_failed != before)
			printf("  slice row %u failed\n", i);
	}
}

/* A virtio-blk request: 16-byte header | data | 1 status byte. */
TEST(blk_style_split)
{
	static uint8_t hdr[16], data[512], tail[8];
	struct iovec iov[3], d[4];
	uint8_t got[16], st;
	size_t total;
	int n;

	memset(hdr, 0x11, sizeof(hdr));
	iov[0] = (struct iovec){ hdr, 12 };	/* header split oddly */
	iov[1] = (struct iovec){ data, sizeof(data) };
	iov[2] = (struct iovec){ tail, sizeof(tail) };
	memcpy(data, "\x11\x11\x11\x11", 4);
	total = iov_size(iov, 3);
	CHECK_EQ(iov_to_buf(iov, 3, 0, got, 16), 16);
	n = iov_slice(iov, 3, 16, total - 17, d, nitems(d));
	CHECK_EQ(n, 2);
	CHECK(d[0].iov_base == data + 4);
	CHECK_EQ(d[0].iov_len, 508);
	CHECK_EQ(d[1].iov_len, 7);
	st = 0x5a;
	CHECK_EQ(buf_to_iov(iov, 3, total - 1, &st, 1), 1);
	CHECK_EQ(tail[7], 0x5a);
}

TEST_MAIN()
