/*
 * test_virtqueue.c: vq_getchain() and vq_init() against hostile rings.
 *
 * Table-driven: each row builds a ring in fake guest RAM (vqring.h) and
 * states what the core must return: the chain (iovecs as guest-physical
 * ranges, counts, byte totals) or the error and the rule broken.  A row
 * that fails prints its name before the test's FAIL line.
 */
#include <errno.h>
#include <stdint.h>
#include "test.h"
#include "vqring.h"

struct tdesc {
	int		set;
	uint16_t	i;
	uint64_t	addr;
	uint32_t	len;
	uint16_t	flags;
	uint16_t	next;
};

struct tiov {
	int		set;
	uint64_t	gpa;		/* UINT64_MAX: {NULL, 0} */
	size_t		len;
};

#define D(i_, a_, l_, f_, n_)						\
	{ .set = 1, .i = (i_), .addr = (a_), .len = (l_), .flags = (f_), \
	  .next = (n_) }
#define X(g_, l_)	{ .set = 1, .gpa = (g_), .len = (l_) }
#define ZERO		UINT64_MAX
#define MAXD		12

struct chain_row {
	const char	*name;
	uint16_t	size;		/* 0: 8 */
	uint64_t	feat;
	unsigned	niov;		/* 0: 16 */
	bool		big;		/* needs the BIG region */
	uint16_t	navail;		/* avail->idx the driver publishes */
	uint16_t	avail[4];	/* heads in slots 0..3 */
	struct tdesc	desc[MAXD];	/* in the descriptor table */
	uint64_t	ind_gpa;	/* where ind[] goes */
	struct tdesc	ind[MAXD];
	/* expected */
	int		ret;
	enum vq_rule	rule;
	unsigned	nread, nwrite, nzero;
	uint64_t	rbytes, wbytes;
	struct tiov	iov[MAXD];
};

#define IND	.feat = VIRTIO_F_INDIRECT_DESC, .ind_gpa = VQT_IND
#define B	VQT_BUF

static const struct chain_row chain_rows[] = {
	{ "empty ring", .navail = 0, .ret = 0 },
	{ "one readable buffer", .navail = 1,
	  .desc = { D(0, B, 64, 0, 0) },
	  .ret = 1, .nread = 1, .rbytes = 64, .iov = { X(B, 64) } },
	{ "head in the middle of the table", .navail = 1, .avail = { 5 },
	  .desc = { D(5, B, 8, W_, 0) },
	  .ret = 1, .nwrite = 1, .wbytes = 8, .iov = { X(B, 8) } },
	{ "readable then writable", .navail = 1,
	  .desc = { D(0, B, 16, N_, 3), D(3, B + 0x100, 512, W_ | N_, 2),
	    D(2, B + 0x400, 1, W_, 0) },
	  .ret = 1, .nread = 1, .nwrite = 2, .rbytes = 16, .wbytes = 513,
	  .iov = { X(B, 16), X(B + 0x100, 512), X(B + 0x400, 1) } },
	{ "writable then readable", .navail = 1,
	  .desc = { D(0, B, 16, W_ | N_, 1), D(1, B + 16, 16, 0, 0) },
	  .ret = -EINVAL, .rule = VQ_RULE_WRITE_ORDER },
	{ "head == size", .navail = 1, .avail = { 8 },
	  .ret = -EINVAL, .rule = VQ_RULE_HEAD },
	{ "head 0xffff", .navail = 1, .avail = { 0xffff },
	  .ret = -EINVAL, .rule = VQ_RULE_HEAD },
	{ "next == size", .navail = 1,
	  .desc = { D(0, B, 16, N_, 8) },
	  .ret = -EINVAL, .rule = VQ_RULE_NEXT },
	{ "next 0xffff", .navail = 1,
	  .desc = { D(0, B, 16, N_, 0xffff) },
	  .ret = -EINVAL, .rule = VQ_RULE_NEXT },
	{ "loop a->b->a", .navail = 1,
	  .desc = { D(0, B, 16, N_, 1), D(1, B + 16, 16, N_, 0) },
	  .ret = -ELOOP, .rule = VQ_RULE_CHAIN_LEN },
	{ "self loop", .navail = 1, .avail = { 3 },
	  .desc = { D(3, B, 0, N_, 3) },
	  .ret = -ELOOP, .rule = VQ_RULE_CHAIN_LEN },
	{ "chain as long as the queue", .size = 4, .navail = 1,
	  .desc = { D(0, B, 1, N_, 1), D(1, B + 1, 1, N_, 2),
	    D(2, B + 2, 1, N_, 3), D(3, B + 3, 1, 0, 0) },
	  .ret = 1, .nread = 4, .rbytes = 4,
	  .iov = { X(B, 1), X(B + 1, 1), X(B + 2, 1), X(B + 3, 1) } },
	{ "chain longer than the queue", .size = 4, .navail = 1,
	  .desc = { D(0, B, 1, N_, 1), D(1, B + 1, 1, N_, 2),
	    D(2, B + 2, 1, N_, 3), D(3, B + 3, 1, N_, 0) },
	  .ret = -ELOOP, .rule = VQ_RULE_CHAIN_LEN },
	{ "loop stopped by niov first", .niov = 4, .navail = 1,
	  .desc = { D(0, B, 16, N_, 1), D(1, B + 16, 16, N_, 0) },
	  .ret = -E2BIG, .rule = VQ_RULE_NIOV },
	{ "avail idx size+1 ahead", .navail = 9,
	  .ret = -EINVAL, .rule = VQ_RULE_AVAIL_IDX },
	{ "avail idx 0x8000 ahead", .navail = 0x8000,
	  .ret = -EINVAL, .rule = VQ_RULE_AVAIL_IDX },
	{ "avail idx 0xffff (behind)", .navail = 0xffff,
	  .ret = -EINVAL, .rule = VQ_RULE_AVAIL_IDX },
	{ "avail idx exactly size ahead", .navail = 8,
	  .desc = { D(0, B, 4, 0, 0) },
	  .ret = 1, .nread = 1, .rbytes = 4, .iov = { X(B, 4) } },

	/* Indirect descriptors, 2.7.5.3. */
	{ "indirect without the feature", .navail = 1, .ind_gpa = VQT_IND,
	  .desc = { D(0, VQT_IND, 16, I_, 0) },
	  .ind = { D(0, B, 16, 0, 0) },
	  .ret = -EINVAL, .rule = VQ_RULE_INDIRECT_FEAT },
	{ "indirect: readable and writable", IND, .navail = 1,
	  .desc = { D(0, VQT_IND, 48, I_, 0) },
	  .ind = { D(0, B, 16, N_, 1), D(1, B + 0x100, 32, W_ | N_, 2),
	    D(2, B + 0x200, 1, W_, 0) },
	  .ret = 1, .nread = 1, .nwrite = 2, .rbytes = 16, .wbytes = 33,
	  .iov = { X(B, 16), X(B + 0x100, 32), X(B + 0x200, 1) } },
	{ "indirect with WRITE set (ignored)", IND, .navail = 1,
	  .desc = { D(0, VQT_IND, 16, I_ | W_, 0) },
	  .ind = { D(0, B, 16, 0, 0) },
	  .ret = 1, .nread = 1, .rbytes = 16, .iov = { X(B, 16) } },
	{ "indirect with NEXT", IND, .navail = 1,
	  .desc = { D(0, VQT_IND, 16, I_ | N_, 1), D(1, B, 1, 0, 0) },
	  .ind = { D(0, B, 16, 0, 0) },
	  .ret = -EINVAL, .rule = VQ_RULE_INDIRECT_NEXT },
	{ "nested indirect", IND, .navail = 1,
	  .desc = { D(0, VQT_IND, 32, I_, 0) },
	  .ind = { D(0, B, 16, N_, 1), D(1, VQT_IND, 32, I_, 0) },
	  .ret = -EINVAL, .rule = VQ_RULE_INDIRECT_NESTED },
	{ "indirect len 0", IND, .navail = 1,
	  .desc = { D(0, VQT_IND, 0, I_, 0) },
	  .ret = -EINVAL, .rule = VQ_RULE_INDIRECT_LEN },
	{ "indirect len 24", IND, .navail = 1,
	  .desc = { D(0, VQT_IND, 24, I_, 0) },
	  .ind = { D(0, B, 16, 0, 0) },
	  .ret = -EINVAL, .rule = VQ_RULE_INDIRECT_LEN },
	{ "indirect 1025 entries", IND, .navail = 1,
	  .desc = { D(0, VQT_IND, 1025 * 16, I_, 0) },
	  .ind = { D(0, B, 16, 0, 0) },
	  .ret = -EINVAL, .rule = VQ_RULE_INDIRECT_MAX },
	{ "indirect 1024 entries (the cap)", IND, .navail = 1,
	  .desc = { D(0, VQT_IND, 1024 * 16, I_, 0) },
	  .ind = { D(0, B, 16, 0, 0) },
	  .ret = 1, .nread = 1, .rbytes = 16, .iov = { X(B, 16) } },
	{ "indirect len 0xfffffff0", IND, .navail = 1,
	  .desc = { D(0, VQT_IND, 0xfffffff0, I_, 0) },
	  .ret = -EINVAL, .rule = VQ_RULE_INDIRECT_MAX },
	{ "indirect table in a hole", IND, .navail = 1,
	  .desc = { D(0, VQT_HOLE, 32, I_, 0) },
	  .ret = -EFAULT, .rule = VQ_RULE_INDIRECT_RAM },
	{ "indirect table runs off RAM", IND, .navail = 1,
	  .desc = { D(0, VQT_C + VQT_C_LEN - 16, 32, I_, 0) },
	  .ret = -EFAULT, .rule = VQ_RULE_INDIRECT_RAM },
	{ "indirect table address wraps", IND, .navail = 1,
	  .desc = { D(0, UINT64_MAX - 15, 32, I_, 0) },
	  .ret = -EFAULT, .rule = VQ_RULE_INDIRECT_RAM },
	{ "indirect table spans A|B", .feat = VIRTIO_F_INDIRECT_DESC,
	  .navail = 1, .ind_gpa = VQT_B - 16,
	  .desc = { D(0, VQT_B - 16, 32, I_, 0) },
	  .ind = { D(0, B, 16, N_, 1), D(1, B + 16, 8, W_, 0) },
	  .ret = 1, .nread = 1, .nwrite = 1, .rbytes = 16, .wbytes = 8,
	  .iov = { X(B, 16), X(B + 16, 8) } },
	{ "indirect next out of the table", IND, .navail = 1,
	  .desc = { D(0, VQT_IND, 32, I_, 0) },
	  .ind = { D(0, B, 16, N_, 2), D(2, B, 16, 0, 0) },
	  .ret = -EINVAL, .rule = VQ_RULE_INDIRECT_IDX },
	{ "indirect loop", IND, .navail = 1,
	  .desc = { D(0, VQT_IND, 32, I_, 0) },
	  .ind = { D(0, B, 16, N_, 1), D(1, B, 16, N_, 0) },
	  .ret = -ELOOP, .rule = VQ_RULE_INDIRECT_LOOP },
	{ "direct chain, then indirect (2.7.5.3.2)", IND, .navail = 1,
	  .desc = { D(0, B, 16, N_, 1), D(1, VQT_IND, 16, I_, 0) },
	  .ind = { D(0, B + 0x100, 8, W_, 0) },
	  .ret = 1, .nread = 1, .nwrite = 1, .rbytes = 16, .wbytes = 8,
	  .iov = { X(B, 16), X(B + 0x100, 8) } },
	{ "writable, then indirect readable", IND, .navail = 1,
	  .desc = { D(0, B, 16, W_ | N_, 1), D(1, VQT_IND, 16, I_, 0) },
	  .ind = { D(0, B + 0x100, 8, 0, 0) },
	  .ret = -EINVAL, .rule = VQ_RULE_WRITE_ORDER },
	{ "indirect chain bounded by the cap, not the queue", IND,
	  .size = 2, .navail = 1,
	  .desc = { D(0, VQT_IND, 48, I_, 0) },
	  .ind = { D(0, B, 1, N_, 1), D(1, B + 1, 1, N_, 2),
	    D(2, B + 2, 1, 0, 0) },
	  .ret = 1, .nread = 3, .rbytes = 3,
	  .iov = { X(B, 1), X(B + 1, 1), X(B + 2, 1) } },

	/* Buffers and guest memory, checklist 6.4. */
	{ "buffer in a hole", .navail = 1,
	  .desc = { D(0, VQT_HOLE, 16, 0, 0) },
	  .ret = -EFAULT, .rule = VQ_RULE_BUF_RAM },
	{ "buffer runs from B into a hole", .navail = 1,
	  .desc = { D(0, VQT_B + VQT_B_LEN - 16, 32, 0, 0) },
	  .ret = -EFAULT, .rule = VQ_RULE_BUF_RAM },
	{ "buffer runs off C", .navail = 1,
	  .desc = { D(0, VQT_C + 0xff0, 0x20, W_, 0) },
	  .ret = -EFAULT, .rule = VQ_RULE_BUF_RAM },
	{ "buffer starts in a hole, ends in C", .navail = 1,
	  .desc = { D(0, VQT_C - 8, 16, W_, 0) },
	  .ret = -EFAULT, .rule = VQ_RULE_BUF_RAM },
	{ "buffer spans A|B: two iovecs", .navail = 1,
	  .desc = { D(0, VQT_B - 16, 32, W_, 0) },
	  .ret = 1, .nwrite = 2, .wbytes = 32,
	  .iov = { X(VQT_B - 16, 16), X(VQT_B, 16) } },
	{ "buffer fills all of A and B", .navail = 1,
	  .desc = { D(0, 0, VQT_A_LEN + VQT_B_LEN, 0, 0) },
	  .ret = 1, .nread = 2, .rbytes = VQT_A_LEN + VQT_B_LEN,
	  .iov = { X(0, VQT_A_LEN), X(VQT_B, VQT_B_LEN) } },
	{ "gpa + len wraps", .navail = 1,
	  .desc = { D(0, UINT64_MAX - 15, 32, 0, 0) },
	  .ret = -EFAULT, .rule = VQ_RULE_BUF_RAM },
	{ "gpa at the top, len 1", .navail = 1,
	  .desc = { D(0, UINT64_MAX, 1, 0, 0) },
	  .ret = -EFAULT, .rule = VQ_RULE_BUF_RAM },
	{ "zero-length descriptors", .navail = 1,
	  .desc = { D(0, B, 0, N_, 1), D(1, B, 8, N_, 2),
	    D(2, VQT_HOLE, 0, W_, 0) },
	  .ret = 1, .nread = 2, .nwrite = 1, .nzero = 2, .rbytes = 8,
	  .iov = { X(ZERO, 0), X(B, 8), X(ZERO, 0) } },
	{ "only a zero-length descriptor", .navail = 1,
	  .desc = { D(0, UINT64_MAX, 0, 0, 0) },
	  .ret = 1, .nread = 1, .nzero = 1, .iov = { X(ZERO, 0) } },
	{ "niov too small", .niov = 2, .navail = 1,
	  .desc = { D(0, B, 1, N_, 1), D(1, B, 1, N_, 2), D(2, B, 1, W_, 0) },
	  .ret = -E2BIG, .rule = VQ_RULE_NIOV },
	{ "niov exactly enough", .niov = 3, .navail = 1,
	  .desc = { D(0, B, 1, N_, 1), D(1, B, 1, N_, 2), D(2, B, 1, W_, 0) },
	  .ret = 1, .nread = 2, .nwrite = 1, .rbytes = 2, .wbytes = 1,
	  .iov = { X(B, 1), X(B, 1), X(B, 1) } },
	{ "niov too small for a region split", .niov = 1, .navail = 1,
	  .desc = { D(0, VQT_B - 16, 32, 0, 0) },
	  .ret = -E2BIG, .rule = VQ_RULE_NIOV },
	{ "niov too small for a zero-length one", .niov = 1, .navail = 1,
	  .desc = { D(0, B, 4, N_, 1), D(1, B, 0, W_, 0) },
	  .ret = -E2BIG, .rule = VQ_RULE_NIOV },

	/* Byte totals, 2.7.5.2 (needs 4 GiB of reserved address space). */
	{ "one descriptor of 0xffffffff bytes", .big = true, .navail = 1,
	  .desc = { D(0, VQT_BIG, 0xffffffff, W_, 0) },
	  .ret = 1, .nwrite = 1, .wbytes = 0xffffffff,
	  .iov = { X(VQT_BIG, 0xffffffff) } },
	{ "total UINT32_MAX bytes", .big = true, .navail = 1,
	  .desc = { D(0, VQT_BIG, 0x80000000, N_, 1),
	    D(1, VQT_BIG, 0x7fffffff, W_, 0) },
	  .ret = 1, .nread = 1, .nwrite = 1, .rbytes = 0x80000000,
	  .wbytes = 0x7fffffff,
	  .iov = { X(VQT_BIG, 0x80000000), X(VQT_BIG, 0x7fffffff) } },
	{ "total 2^32 bytes", .big = true, .navail = 1,
	  .desc = { D(0, VQT_BIG, 0x80000000, N_, 1),
	    D(1, VQT_BIG, 0x80000000, W_, 0) },
	  .ret = -EMSGSIZE, .rule = VQ_RULE_TOTAL_LEN },
	{ "total over 2^32 through indirect", .big = true, IND, .navail = 1,
	  .desc = { D(0, VQT_BIG, 0xffffffff, N_, 1),
	    D(1, VQT_IND, 16, I_, 0) },
	  .ind = { D(0, B, 1, W_, 0) },
	  .ret = -EMSGSIZE, .rule = VQ_RULE_TOTAL_LEN },
};

static void
build_chain_row(struct vqt *t, const struct chain_row *r, uint16_t size)
{
	unsigned i;

	for (i = 0; i < MAXD && r->desc[i].set; i++)
		vqt_desc(t, VQT_DESC, r->desc[i].i, r->desc[i].addr,
		    r->desc[i].len, r->desc[i].flags, r->desc[i].next);
	for (i = 0; i < MAXD && r->ind[i].set; i++)
		vqt_desc(t, r->ind_gpa, r->ind[i].i, r->ind[i].addr,
		    r->ind[i].len, r->ind[i].flags, r->ind[i].next);
	for (i = 0; i < 4 && i < size; i++)
		vqt_put16(t, VQT_AVAIL + 4 + 2 * i, r->avail[i]);
	vqt_put16(t, VQT_AVAIL + 2, r->navail);
}

static void
check_chain_row(struct vqt *t, const struct chain_row *r)
{
	struct iovec iov[32];
	struct vq_req req;
	struct vqueue vq;
	uint16_t size = r->size ? r->size : 8;
	unsigned niov = r->niov ? r->niov : 16, i, n, nexp;
	int ret;

	vqt_queue(t, &vq, size, r->feat);
	build_chain_row(t, r, size);
	memset(iov, 0xa5, sizeof(iov));
	ret = vq_getchain(&vq, iov, niov, &req);
	CHECK_EQ(ret, r->ret);
	if (ret < 0) {
		CHECK_EQ(vq.vq_rule, r->rule);
		CHECK(vq_broken(&vq));
		CHECK_EQ(req.vr_nread + req.vr_nwrite, 0);
		/* Sticky: the same error, and no more guest memory use. */
		CHECK_EQ(vq_getchain(&vq, iov, niov, &req), r->ret);
		CHECK(!vq_has_descs(&vq));
		CHECK(!vq_endchains(&vq));
		return;
	}
	CHECK(!vq_broken(&vq));
	if (ret == 0)
		return;
	CHECK_EQ(req.vr_head, r->avail[0]);
	CHECK_EQ(req.vr_gen, vq.vq_gen);
	CHECK_EQ(req.vr_nread, r->nread);
	CHECK_EQ(req.vr_nwrite, r->nwrite);
	CHECK_EQ(req.vr_nzero, r->nzero);
	CHECK_EQ(req.vr_rbytes, r->rbytes);
	CHECK_EQ(req.vr_wbytes, r->wbytes);
	CHECK_EQ(req.vr_indirect, r->ind_gpa != 0 && r->ind[0].set &&
	    (r->feat & VIRTIO_F_INDIRECT_DESC) != 0);
	n = req.vr_nread + req.vr_nwrite;
	for (nexp = 0; nexp < MAXD && r->iov[nexp].set; nexp++)
		;
	CHECK_EQ(n, nexp);
	for (i = 0; i < n && i < nexp; i++) {
		if (r->iov[i].gpa == ZERO)
			CHECK(iov[i].iov_base == NULL);
		else
			CHECK_EQ(vqt_gpa(t, iov[i].iov_base), r->iov[i].gpa);
		CHECK_EQ(iov[i].iov_len, r->iov[i].len);
	}
	CHECK_EQ(vq.vq_last_avail, 1);
	CHECK_EQ(vq.vq_inflight, 1);
}

TEST(getchain_rows)
{
	struct vqt t;
	unsigned i, skipped = 0;
	int before;

	for (i = 0; i < nitems(chain_rows); i++) {
		vqt_setup(&t, chain_rows[i].big);
		if (chain_rows[i].big && t.big == NULL) {
			printf("  row \"%s\": skipped, no 4 GiB mapping\n",
			    chain_rows[i].name);
			skipped++;
			continue;
		}
		before = test_failed;
		check_chain_row(&t, &chain_rows[i]);
		if (test_failed != before)
			printf("  row \"%s\" failed\n", chain_rows[i].name);
		vqt_fini(&t);
	}
	printf("  %zu getchain rows, %u skipped\n", nitems(chain_rows),
	    skipped);
}

struct init_row {
	const char	*name;
	uint16_t	size;
	uint16_t	maxsize;	/* 0: VQ_MAX_SIZE */
	uint64_t	desc, avail, used;
	uint64_t	feat;
	bool		big;
	int		ret;
};

static const struct init_row init_rows[] = {
	{ "standard layout", 8, 0, VQT_DESC, VQT_AVAIL, VQT_USED, 0, false, 0 },
	{ "size 1", 1, 0, VQT_DESC, VQT_AVAIL, VQT_USED, 0, false, 0 },
	{ "size 256", 256, 0, VQT_DESC, VQT_AVAIL, VQT_USED, 0, false, 0 },
	{ "size 0", 0, 0, VQT_DESC, VQT_AVAIL, VQT_USED, 0, false, -EINVAL },
	{ "size 3", 3, 0, VQT_DESC, VQT_AVAIL, VQT_USED, 0, false, -EINVAL },
	{ "size 6", 6, 0, VQT_DESC, VQT_AVAIL, VQT_USED, 0, false, -EINVAL },
	{ "size 0xffff", 0xffff, 0, VQT_DESC, VQT_AVAIL, VQT_USED, 0, false,
	  -EINVAL },
	{ "size 32768", 32768, 0, VQT_BIG, VQT_BIG + 0x80000,
	  VQT_BIG + 0x90000, 0, true, 0 },
	{ "size 32768, rings too big for A", 32768, 0, 0, VQT_AVAIL,
	  VQT_USED, 0, false, -EINVAL },
	{ "size over the device's max", 16, 8, VQT_DESC, VQT_AVAIL, VQT_USED,
	  0, false, -EINVAL },
	{ "size at the device's max", 8, 8, VQT_DESC, VQT_AVAIL, VQT_USED, 0,
	  false, 0 },
	{ "desc 8-aligned", 8, 0, VQT_DESC + 8, VQT_AVAIL, VQT_USED, 0, false,
	  -EINVAL },
	{ "avail odd", 8, 0, VQT_DESC, VQT_AVAIL + 1, VQT_USED, 0, false,
	  -EINVAL },
	{ "avail 2-aligned", 8, 0, VQT_DESC, VQT_AVAIL + 2, VQT_USED, 0,
	  false, 0 },
	{ "used 2-aligned", 8, 0, VQT_DESC, VQT_AVAIL, VQT_USED + 2, 0,
	  false, -EINVAL },
	{ "used 4-aligned", 8, 0, VQT_DESC, VQT_AVAIL, VQT_USED + 4, 0,
	  false, 0 },
	{ "desc in a hole", 8, 0, VQT_HOLE, VQT_AVAIL, VQT_USED, 0, false,
	  -EINVAL },
	{ "desc runs off B", 8, 0, VQT_B + VQT_B_LEN - 64, VQT_AVAIL,
	  VQT_USED, 0, false, -EINVAL },
	{ "avail runs off B", 8, 0, VQT_DESC, VQT_B + VQT_B_LEN - 16,
	  VQT_USED, 0, false, -EINVAL },
	{ "used runs off C", 8, 0, VQT_DESC, VQT_AVAIL,
	  VQT_C + VQT_C_LEN - 68, 0, false, -EINVAL },
	{ "used ends at the end of C", 8, 0, VQT_DESC, VQT_AVAIL,
	  VQT_C + VQT_C_LEN - 72, 0, false, 0 },
	{ "desc wraps", 8, 0, 0xfffffffffffffff0ULL, VQT_AVAIL, VQT_USED, 0,
	  false, -EINVAL },
	{ "avail wraps", 8, 0, VQT_DESC, 0xfffffffffffffffeULL, VQT_USED, 0,
	  false, -EINVAL },
	{ "used wraps", 8, 0, VQT_DESC, VQT_AVAIL, 0xfffffffffffffffcULL, 0,
	  false, -EINVAL },
	{ "areas span A|B", 8, 0, VQT_B - 64, VQT_B - 8, VQT_B - 32, 0, false,
	  0 },
	{ "packed ring refused", 8, 0, VQT_DESC, VQT_AVAIL, VQT_USED,
	  VIRTIO_F_RING_PACKED, false, -EINVAL },
	{ "unknown features ignored", 8, 0, VQT_DESC, VQT_AVAIL, VQT_USED,
	  (1ULL << 32) | VIRTIO_F_EVENT_IDX, false, 0 },
};

TEST(init_rows)
{
	struct vqt t;
	struct vqueue vq;
	struct iovec iov[4];
	struct vq_req req;
	unsigned i, gen;
	int before, ret;

	for (i = 0; i < nitems(init_rows); i++) {
		const struct init_row *r = &init_rows[i];

		vqt_setup(&t, r->big);
		if (r->big && t.big == NULL) {
			printf("  row \"%s\": skipped, no 4 GiB mapping\n",
			    r->name);
			continue;
		}
		before = test_failed;
		vq_create(&vq, "test", r->maxsize);
		gen = vq.vq_gen;
		ret = vq_init(&vq, &t.gm, r->size, r->desc, r->avail, r->used,
		    r->feat);
		CHECK_EQ(ret, r->ret);
		CHECK(vq.vq_gen != gen);
		CHECK_EQ(vq.vq_ready, ret == 0);
		CHECK(!vq_broken(&vq));
		if (ret == 0) {
			CHECK_EQ(vq.vq_features, r->feat &
			    (VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX));
			/* An empty, zeroed ring: nothing to do. */
			CHECK_EQ(vq_getchain(&vq, iov, 4, &req), 0);
		} else {
			/* An unconfigured queue does nothing. */
			CHECK_EQ(vq_getchain(&vq, iov, 4, &req), 0);
			CHECK(!vq_has_descs(&vq));
			CHECK(!vq_endchains(&vq));
		}
		if (test_failed != before)
			printf("  row \"%s\" failed\n", r->name);
		vqt_fini(&t);
	}
	printf("  %zu init rows\n", nitems(init_rows));
}

/* vq_create() rounds a host's odd maximum down to a power of two. */
TEST(create_maxsize)
{
	struct vqueue vq;

	vq_create(&vq, "t", 0);
	CHECK_EQ(vq.vq_maxsize, 32768);
	vq_create(&vq, "t", 300);
	CHECK_EQ(vq.vq_maxsize, 256);
	vq_create(&vq, "t", 65535);
	CHECK_EQ(vq.vq_maxsize, 32768);
	vq_create(&vq, "t", 1);
	CHECK_EQ(vq.vq_maxsize, 1);
	CHECK(!vq.vq_ready);
}

/*
 * One full cycle per step (post, take, give back, publish) on a queue of
 * 8 at desc/avail/used in gm; checks the used ring the guest sees.
 */
static void
cycle(struct vqt *t, uint64_t desc, uint64_t avail, uint64_t used)
{
	struct vqueue vq;
	struct iovec iov[4];
	struct vq_req req;
	unsigned k;

	vq_create(&vq, "span", 0);
	CHECK_EQ(vq_init(&vq, &t->gm, 8, desc, avail, used,
	    VIRTIO_F_EVENT_IDX), 0);
	for (k = 0; k < 12; k++) {
		vqt_desc(t, desc, k & 7, VQT_BUF, 32, W_, 0);
		vqt_post(t, avail, 8, k, k & 7);
		CHECK_EQ(vq_getchain(&vq, iov, 4, &req), 1);
		CHECK_EQ(req.vr_head, k & 7);
		CHECK_EQ(vqt_gpa(t, iov[0].iov_base), VQT_BUF);
		CHECK_EQ(iov[0].iov_len, 32);
		vq_relchain(&vq, &req, 5);
		/* used_event = k: the driver wants to hear about this one. */
		vqt_put16(t, avail + 4 + 2 * 8, k);
		CHECK(vq_endchains(&vq));
		CHECK_EQ(vqt_get16(t, used + 2), k + 1);
		CHECK_EQ(vqt_get32(t, used + 4 + 8 * (k & 7)), k & 7);
		CHECK_EQ(vqt_get32(t, used + 8 + 8 * (k & 7)), 5);
		CHECK_EQ(vqt_get16(t, used + 4 + 8 * 8), k + 1);
	}
	CHECK(!vq_broken(&vq));
}

/*
 * Ring areas that span two adjacent regions are translated per access;
 * with an odd region boundary a 16-bit field or a used element straddles
 * it and is copied through gmem_read/gmem_write.
 */
TEST(rings_spanning_regions)
{
	static const struct {
		const char	*name;
		uint64_t	split;	/* 0: the A|B layout of vqring.h */
		uint64_t	desc, avail, used;
	} rows[] = {
		{ "desc spans A|B", 0, VQT_B - 64, VQT_AVAIL, VQT_USED },
		{ "avail spans A|B", 0, VQT_DESC, VQT_B - 8, VQT_USED },
		{ "used spans A|B", 0, VQT_DESC, VQT_AVAIL, VQT_B - 32 },
		{ "avail flags straddle an odd boundary", VQT_AVAIL + 1,
		  VQT_DESC, VQT_AVAIL, VQT_USED },
		{ "used idx straddles an odd boundary", VQT_USED + 3,
		  VQT_DESC, VQT_AVAIL, VQT_USED },
		{ "a used element straddles an odd boundary", VQT_USED + 13,
		  VQT_DESC, VQT_AVAIL, VQT_USED },
		{ "avail_event straddles an odd boundary", VQT_USED + 69,
		  VQT_DESC, VQT_AVAIL, VQT_USED },
		{ "a descriptor straddles an odd boundary", VQT_DESC + 40,
		  VQT_DESC, VQT_AVAIL, VQT_USED },
	};
	struct vqt t;
	unsigned i;
	int before;

	for (i = 0; i < nitems(rows); i++) {
		before = test_failed;
		vqt_setup(&t, false);
		if (rows[i].split != 0) {
			/* A as two adjacent regions split at an odd address. */
			gmem_init(&t.gm);
			CHECK_EQ(gmem_add(&t.gm, 0, rows[i].split, vqt_ram_a), 0);
			CHECK_EQ(gmem_add(&t.gm, rows[i].split,
			    VQT_A_LEN - rows[i].split, vqt_ram_a + rows[i].split),
			    0);
		}
		cycle(&t, rows[i].desc, rows[i].avail, rows[i].used);
		if (test_failed != before)
			printf("  row \"%s\" failed\n", rows[i].name);
	}
}

TEST_MAIN()
