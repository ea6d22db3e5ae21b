/*
 * test_iobus.c: registration rules and dispatch of the I/O bus.
 */
#include <errno.h>
#include "iobus.h"
#include "test.h"

struct rec {
	enum io_dir	dir;
	uint64_t	off;
	unsigned	size;
	uint64_t	val;
	int		calls;
};

static int
h_rec(void *arg, enum io_dir dir, uint64_t off, unsigned size, uint64_t *val)
{
	struct rec *r = arg;

	r->dir = dir;
	r->off = off;
	r->size = size;
	r->calls++;
	if (dir == IO_READ)
		*val = 0x1122334455667788ULL;
	else
		r->val = *val;
	return (0);
}

static struct iobus *rereg_bus;

/* A handler that moves its own range (as a BAR write would). */
static int
h_rereg(void *arg, enum io_dir dir, uint64_t off, unsigned size, uint64_t *val)
{
	CHECK_EQ(io_unregister(rereg_bus, IO_MMIO, 0x1000), 0);
	CHECK_EQ(io_register(rereg_bus, IO_MMIO, 0x2000, 0x100, h_rereg, arg,
	    "moved"), 0);
	return (0);
}

TEST(register_rules)
{
	struct iobus bus;
	struct rec r = { 0 };

	CHECK_EQ(iobus_init(&bus), 0);
	CHECK_EQ(io_register(&bus, IO_PIO, 0x3f8, 8, h_rec, &r, "com1"), 0);
	CHECK_EQ(io_register(&bus, IO_PIO, 0x3f8, 0, h_rec, &r, "z"), -EINVAL);
	CHECK_EQ(io_register(&bus, IO_PIO, 0x3f0, 9, h_rec, &r, "o"), -EEXIST);
	CHECK_EQ(io_register(&bus, IO_PIO, 0x3ff, 1, h_rec, &r, "o"), -EEXIST);
	CHECK_EQ(io_register(&bus, IO_PIO, 0x3fa, 1, h_rec, &r, "o"), -EEXIST);
	CHECK_EQ(io_register(&bus, IO_PIO, 0x3f0, 8, h_rec, &r, "below"), 0);
	CHECK_EQ(io_register(&bus, IO_PIO, 0x400, 8, h_rec, &r, "above"), 0);
	CHECK_EQ(io_register(&bus, IO_PIO, 0xfff0, 0x20, h_rec, &r, "x"),
	    -EINVAL);
	CHECK_EQ(io_register(&bus, IO_PIO, 0x10000, 1, h_rec, &r, "x"), -EINVAL);
	CHECK_EQ(io_register(&bus, IO_PIO, 0xffff, 1, h_rec, &r, "last"), 0);
	CHECK_EQ(io_register(&bus, IO_MMIO, UINT64_MAX - 15, 32, h_rec, &r,
	    "wrap"), -EINVAL);
	CHECK_EQ(io_register(&bus, IO_MMIO, UINT64_MAX - 15, 16, h_rec, &r,
	    "top"), 0);
	CHECK_EQ(io_register(&bus, IO_MMIO, 0x3f8, 8, NULL, &r, "null"),
	    -EINVAL);
	/* Port and MMIO spaces are separate. */
	CHECK_EQ(io_register(&bus, IO_MMIO, 0x3f8, 8, h_rec, &r, "mmio"), 0);
	CHECK_STR(io_lookup_name(&bus, IO_PIO, 0x3ff), "com1");
	CHECK_STR(io_lookup_name(&bus, IO_PIO, 0x3f7), "below");
	CHECK(io_lookup_name(&bus, IO_PIO, 0x408) == NULL);
	CHECK_EQ(io_unregister(&bus, IO_PIO, 0x3f9), -ENOENT);
	CHECK_EQ(io_unregister(&bus, IO_PIO, 0x3f8), 0);
	CHECK(io_lookup_name(&bus, IO_PIO, 0x3f8) == NULL);
	iobus_fini(&bus);
}

TEST(dispatch)
{
	struct iobus bus;
	struct rec r = { 0 };
	uint64_t v;

	CHECK_EQ(iobus_init(&bus), 0);
	CHECK_EQ(io_register(&bus, IO_PIO, 0x3f8, 8, h_rec, &r, "com1"), 0);
	v = 0x41;
	CHECK_EQ(io_dispatch(&bus, IO_PIO, IO_WRITE, 0x3fb, 1, &v), 0);
	CHECK_EQ(r.off, 3);
	CHECK_EQ(r.val, 0x41);
	CHECK_EQ(io_dispatch(&bus, IO_PIO, IO_READ, 0x3fc, 2, &v), 0);
	CHECK_EQ(v, 0x7788);			/* truncated to the size */
	CHECK_EQ(r.dir, IO_READ);
	/* Unclaimed: all-ones, -ENOENT. */
	CHECK_EQ(io_dispatch(&bus, IO_PIO, IO_READ, 0x80, 4, &v), -ENOENT);
	CHECK_EQ(v & 0xffffffff, 0xffffffff);
	/* Straddling the end of the range is not dispatched. */
	r.calls = 0;
	CHECK_EQ(io_dispatch(&bus, IO_PIO, IO_READ, 0x3fe, 4, &v), -ENOENT);
	CHECK_EQ(r.calls, 0);
	CHECK_EQ(io_dispatch(&bus, IO_PIO, IO_READ, 0x3f8, 3, &v), -EINVAL);
	CHECK_EQ(io_dispatch(&bus, IO_MMIO, IO_READ, UINT64_MAX, 2, &v),
	    -EINVAL);
	iobus_fini(&bus);
}

TEST(handler_may_move_its_range)
{
	struct iobus bus;
	uint64_t v = 0;

	CHECK_EQ(iobus_init(&bus), 0);
	rereg_bus = &bus;
	CHECK_EQ(io_register(&bus, IO_MMIO, 0x1000, 0x100, h_rereg, NULL,
	    "bar"), 0);
	CHECK_EQ(io_dispatch(&bus, IO_MMIO, IO_WRITE, 0x1010, 4, &v), 0);
	CHECK(io_lookup_name(&bus, IO_MMIO, 0x1010) == NULL);
	CHECK_STR(io_lookup_name(&bus, IO_MMIO, 0x2010), "moved");
	iobus_fini(&bus);
}

TEST(many_ranges_stay_sorted)
{
	struct iobus bus;
	struct rec r = { 0 };
	uint64_t v;
	int i;

	CHECK_EQ(iobus_init(&bus), 0);
	/* Register in a scrambled order. */
	for (i = 0; i < 100; i++)
		CHECK_EQ(io_register(&bus, IO_MMIO, ((i * 37) % 100) * 0x1000,
		    0x800, h_rec, &r, "r"), 0);
	for (i = 0; i < 100; i++) {
		r.calls = 0;
		CHECK_EQ(io_dispatch(&bus, IO_MMIO, IO_READ, i * 0x1000 + 0x7fc,
		    4, &v), 0);
		CHECK_EQ(r.off, 0x7fc);
		CHECK_EQ(io_dispatch(&bus, IO_MMIO, IO_READ, i * 0x1000 + 0x800,
		    4, &v), -ENOENT);
	}
	iobus_fini(&bus);
}

TEST_MAIN()
