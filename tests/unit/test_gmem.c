/*
 * test_gmem.c: the bounds-checked guest memory module.
 */
#include <errno.h>
#include <stdint.h>
#include "gmem.h"
#include "test.h"

static uint8_t lo[4096], hi[4096], adj[4096];

static void
setup(struct gmem *gm)
{
	gmem_init(gm);
	CHECK_EQ(gmem_add(gm, 0x1000, sizeof(lo), lo), 0);
	CHECK_EQ(gmem_add(gm, 0x100000000ULL, sizeof(hi), hi), 0);
	/* adjacent to lo: [0x2000, 0x3000) */
	CHECK_EQ(gmem_add(gm, 0x2000, sizeof(adj), adj), 0);
}

TEST(add_rejects_bad_ranges)
{
	struct gmem gm;
	static uint8_t b[16];
	int i;

	setup(&gm);
	CHECK_EQ(gmem_add(&gm, 0x5000, 0, b), -EINVAL);
	CHECK_EQ(gmem_add(&gm, UINT64_MAX - 4, 16, b), -EINVAL);
	CHECK_EQ(gmem_add(&gm, 0x1800, 16, b), -EINVAL);	/* overlap */
	CHECK_EQ(gmem_add(&gm, 0x0ff8, 16, b), -EINVAL);	/* overlap start */
	CHECK_EQ(gmem_add(&gm, 0x5000, 16, NULL), -EINVAL);
	for (i = 3; i < GMEM_MAX_REGIONS; i++)
		CHECK_EQ(gmem_add(&gm, 0x10000 + i * 0x100, 16, b), 0);
	CHECK_EQ(gmem_add(&gm, 0x90000, 16, b), -ENOSPC);
}

TEST(ptr_needs_whole_range_in_one_region)
{
	struct gmem gm;

	setup(&gm);
	CHECK(gmem_ptr(&gm, 0x1000, 4096) == lo);
	CHECK(gmem_ptr(&gm, 0x1ffc, 4) == lo + 0xffc);
	CHECK(gmem_ptr(&gm, 0x1ffc, 8) == NULL);	/* spans two regions */
	CHECK(gmem_ptr(&gm, 0x1000, 0) == NULL);
	CHECK(gmem_ptr(&gm, 0x0fff, 2) == NULL);	/* starts in a hole */
	CHECK(gmem_ptr(&gm, 0x3000, 1) == NULL);
	CHECK(gmem_ptr(&gm, 0x100000000ULL + 4095, 1) == hi + 4095);
	CHECK(gmem_ptr(&gm, 0x100000000ULL + 4095, 2) == NULL);
	CHECK(gmem_ptr(&gm, 0x1000, UINT64_MAX) == NULL);
	CHECK(gmem_ptr(&gm, UINT64_MAX, 2) == NULL);
}

TEST(ptr_prefix_stops_at_region_end)
{
	struct gmem gm;
	uint64_t n;

	setup(&gm);
	CHECK(gmem_ptr_prefix(&gm, 0x1ff0, 0x20, &n) == lo + 0xff0);
	CHECK_EQ(n, 0x10);			/* the rest is in adj */
	CHECK(gmem_ptr_prefix(&gm, 0x2000, 0x10, &n) == adj);
	CHECK_EQ(n, 0x10);
	CHECK(gmem_ptr_prefix(&gm, 0x2ff0, 0x100, &n) == adj + 0xff0);
	CHECK_EQ(n, 0x10);			/* then a hole */
	CHECK(gmem_ptr_prefix(&gm, 0x3000, 1, &n) == NULL);
	CHECK_EQ(n, 0);
	CHECK(gmem_ptr_prefix(&gm, 0x1000, 0, &n) == NULL);
	CHECK_EQ(n, 0);
	CHECK(gmem_ptr_prefix(&gm, 0x100000000ULL, UINT64_MAX, &n) == hi);
	CHECK_EQ(n, 4096);
}

TEST(copy_spans_adjacent_regions_only)
{
	struct gmem gm;
	uint8_t buf[16], out[16];
	int i;

	setup(&gm);
	for (i = 0; i < 16; i++)
		buf[i] = i + 1;
	CHECK_EQ(gmem_write(&gm, 0x1ff8, buf, 16), 0);
	CHECK_EQ(lo[4095], 8);
	CHECK_EQ(adj[0], 9);
	CHECK_EQ(gmem_read(&gm, 0x1ff8, out, 16), 0);
	CHECK(memcmp(buf, out, 16) == 0);
	/* [0x2ff8, 0x3008) runs into a hole: nothing written. */
	adj[4095] = 0xaa;
	CHECK_EQ(gmem_write(&gm, 0x2ff8, buf, 16), -EFAULT);
	CHECK_EQ(adj[4095], 0xaa);
	CHECK_EQ(gmem_read(&gm, UINT64_MAX - 3, out, 8), -EFAULT);
	CHECK_EQ(gmem_read(&gm, 0x1000, out, 0), 0);
	CHECK(gmem_is_ram(&gm, 0x1000, 0x2000));
	CHECK(!gmem_is_ram(&gm, 0x1000, 0x2001));
	CHECK(!gmem_is_ram(&gm, 0x1000, 0));
}

TEST(scalars_are_little_endian)
{
	struct gmem gm;
	uint32_t v32;
	uint64_t v64;

	setup(&gm);
	CHECK_EQ(gmem_write32(&gm, 0x1010, 0x11223344), 0);
	CHECK_EQ(lo[0x10], 0x44);
	CHECK_EQ(lo[0x13], 0x11);
	CHECK_EQ(gmem_read32(&gm, 0x1010, &v32), 0);
	CHECK_EQ(v32, 0x11223344);
	CHECK_EQ(gmem_write64(&gm, 0x1ffc, 0x0102030405060708ULL), 0);
	CHECK_EQ(gmem_read64(&gm, 0x1ffc, &v64), 0);
	CHECK_EQ(v64, 0x0102030405060708ULL);
	CHECK_EQ(adj[3], 0x01);
	CHECK_EQ(gmem_read64(&gm, 0x2ffc, &v64), -EFAULT);
	CHECK_EQ(gmem_fill(&gm, 0x1000, 0x5a, 8192), 0);
	CHECK_EQ(adj[4095], 0x5a);
	CHECK_EQ(gmem_fill(&gm, 0x1000, 0, 8193), -EFAULT);
	CHECK_EQ(adj[4095], 0x5a);
}

TEST_MAIN()
