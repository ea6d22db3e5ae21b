/*
 * test_vqused.c: the virtqueue core after a chain is taken: the used
 * ring, interrupt decisions (EVENT_IDX and NO_INTERRUPT), notification
 * suppression, u16 wrap, batches, reset with requests in flight, and
 * the guest changing descriptors under the device.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <ucontext.h>
#include "test.h"
#include "vqring.h"

#define QSZ	8
#define USED_EVENT	(VQT_AVAIL + 4 + 2 * QSZ)
#define AVAIL_EVENT	(VQT_USED + 4 + 8 * QSZ)
#define USED_ID(s)	(VQT_USED + 4 + 8 * ((s) & (QSZ - 1)))
#define USED_LEN(s)	(USED_ID(s) + 4)

/*
 * The driver makes head (a one-descriptor writable chain of 64 bytes at
 * VQT_BUF) available in the next slot.
 */
static void
post(struct vqt *t, struct vqueue *vq, uint16_t head)
{
	vqt_desc(t, VQT_DESC, head, VQT_BUF, 64, W_, 0);
	vqt_post(t, VQT_AVAIL, vq->vq_size, vqt_get16(t, VQT_AVAIL + 2), head);
}

static int
take(struct vqueue *vq, struct vq_req *req)
{
	struct iovec iov[4];

	return (vq_getchain(vq, iov, nitems(iov), req));
}

/*
 * Post then take, as the first call of a batch (a batch sees only what
 * was available when it started).
 */
static int
post_take(struct vqt *t, struct vqueue *vq, uint16_t head, struct vq_req *req)
{
	post(t, vq, head);
	return (take(vq, req));
}

/* n full round trips, one batch each, to move both indices. */
static void
advance(struct vqt *t, struct vqueue *vq, unsigned n)
{
	struct vq_req req;
	unsigned k;

	for (k = 0; k < n; k++) {
		if (post_take(t, vq, k % vq->vq_size, &req) != 1) {
			CHECK(0);
			return;
		}
		vq_relchain(vq, &req, 1);
		(void)vq_endchains(vq);
	}
}

TEST(need_event_rows)
{
	static const struct {
		uint16_t	event, new, old;
		bool		want;
	} rows[] = {
		{ 0, 1, 0, true },		/* the spec's example */
		{ 0, 0, 0, false },		/* nothing new */
		{ 1, 1, 0, false },		/* not there yet */
		{ 5, 10, 5, true },
		{ 9, 10, 5, true },
		{ 10, 10, 5, false },
		{ 4, 10, 5, false },		/* already passed */
		{ 0xffff, 1, 0xfffe, true },	/* across the wrap */
		{ 0xfffe, 1, 0xfffe, true },
		{ 0, 1, 0xfffe, true },
		{ 1, 1, 0xfffe, false },
		{ 0xfffd, 1, 0xfffe, false },
		{ 0xffff, 0, 0xffff, true },
		{ 0, 0, 0xffff, false },
		{ 0x7fff, 0x8000, 0, true },	/* a big step */
		{ 0x8000, 0x8000, 0, false },
		{ 0x1234, 0x1234, 0x1234, false },
	};
	unsigned i;

	for (i = 0; i < nitems(rows); i++) {
		if (vq_need_event(rows[i].event, rows[i].new, rows[i].old) !=
		    rows[i].want) {
			printf("  need_event(%u, %u, %u) != %d\n", rows[i].event,
			    rows[i].new, rows[i].old, rows[i].want);
			test_failed++;
		}
	}
}

TEST(endchains_rows)
{
	static const struct {
		const char	*name;
		uint64_t	feat;
		unsigned	start;		/* round trips before */
		uint16_t	flags;		/* avail->flags */
		uint16_t	used_event;
		unsigned	n;		/* chains completed in the batch */
		bool		want;
	} rows[] = {
		{ "no EVENT_IDX, flags 0", 0, 0, 0, 0, 1, true },
		{ "no EVENT_IDX, NO_INTERRUPT", 0, 0, 1, 0, 1, false },
		{ "no EVENT_IDX, nothing completed", 0, 0, 0, 0, 0, false },
		{ "no EVENT_IDX ignores used_event", 0, 3, 0, 0, 2, true },
		{ "EVENT_IDX ignores NO_INTERRUPT", VIRTIO_F_EVENT_IDX, 0, 1, 0,
		  1, true },
		{ "EVENT_IDX, used_event = old", VIRTIO_F_EVENT_IDX, 0, 0, 0, 3,
		  true },
		{ "EVENT_IDX, used_event inside", VIRTIO_F_EVENT_IDX, 0, 0, 2, 3,
		  true },
		{ "EVENT_IDX, used_event = new", VIRTIO_F_EVENT_IDX, 0, 0, 3, 3,
		  false },
		{ "EVENT_IDX, used_event behind", VIRTIO_F_EVENT_IDX, 5, 0, 4, 2,
		  false },
		{ "EVENT_IDX, nothing completed", VIRTIO_F_EVENT_IDX, 0, 0, 0, 0,
		  false },
		{ "EVENT_IDX across the wrap, event 0xffff", VIRTIO_F_EVENT_IDX,
		  65534, 0, 0xffff, 4, true },
		{ "EVENT_IDX across the wrap, event 0", VIRTIO_F_EVENT_IDX,
		  65534, 0, 0, 4, true },
		{ "EVENT_IDX across the wrap, event = new", VIRTIO_F_EVENT_IDX,
		  65534, 0, 2, 4, false },
		{ "EVENT_IDX across the wrap, event behind", VIRTIO_F_EVENT_IDX,
		  65534, 0, 0xfffd, 4, false },
		{ "no EVENT_IDX across the wrap", 0, 65534, 0, 0, 4, true },
	};
	struct vq_req req[QSZ];
	struct vqueue vq;
	struct vqt t;
	unsigned i, k;
	uint16_t end;
	int before;

	for (i = 0; i < nitems(rows); i++) {
		before = test_failed;
		vqt_setup(&t, false);
		vqt_queue(&t, &vq, QSZ, rows[i].feat);
		advance(&t, &vq, rows[i].start);
		for (k = 0; k < rows[i].n; k++)
			post(&t, &vq, k);
		for (k = 0; k < rows[i].n; k++)
			CHECK_EQ(take(&vq, &req[k]), 1);
		for (k = 0; k < rows[i].n; k++)
			vq_relchain(&vq, &req[k], 1);
		vqt_put16(&t, VQT_AVAIL, rows[i].flags);
		vqt_put16(&t, USED_EVENT, rows[i].used_event);
		CHECK_EQ(vq_endchains(&vq), rows[i].want);
		end = (uint16_t)(rows[i].start + rows[i].n);
		CHECK_EQ(vqt_get16(&t, VQT_USED + 2), end);
		if (rows[i].feat & VIRTIO_F_EVENT_IDX)
			CHECK_EQ(vqt_get16(&t, AVAIL_EVENT), end);
		else
			CHECK_EQ(vqt_get16(&t, AVAIL_EVENT), 0);
		if (test_failed != before)
			printf("  row \"%s\" failed\n", rows[i].name);
	}
}

/* Both indices run through 65535 -> 0; heads and used elements stay right. */
TEST(index_wrap)
{
	struct vq_req req[QSZ];
	struct vqueue vq;
	struct vqt t;
	unsigned k;

	vqt_setup(&t, false);
	vqt_queue(&t, &vq, QSZ, 0);
	advance(&t, &vq, 65533);
	CHECK_EQ(vq.vq_last_avail, 65533);
	CHECK_EQ(vqt_get16(&t, VQT_USED + 2), 65533);
	for (k = 0; k < QSZ; k++)
		post(&t, &vq, (k * 3) & 7);
	for (k = 0; k < QSZ; k++) {
		CHECK_EQ(take(&vq, &req[k]), 1);
		CHECK_EQ(req[k].vr_head, (k * 3) & 7);
	}
	CHECK_EQ(vqt_get16(&t, VQT_AVAIL + 2), (uint16_t)(65533 + QSZ));
	for (k = 0; k < QSZ; k++)
		vq_relchain(&vq, &req[k], k);
	CHECK(vq_endchains(&vq));
	CHECK_EQ(vqt_get16(&t, VQT_USED + 2), (uint16_t)(65533 + QSZ));
	for (k = 0; k < QSZ; k++) {
		CHECK_EQ(vqt_get32(&t, USED_ID(65533 + k)), (k * 3) & 7);
		CHECK_EQ(vqt_get32(&t, USED_LEN(65533 + k)), k);
	}
	CHECK(!vq_broken(&vq));
}

/*
 * Completions in any order (2.7.8), each written length clamped to the
 * chain's writable bytes.
 */
TEST(relchain_out_of_order_and_clamped)
{
	struct iovec iov[4];
	struct vq_req r[3];
	struct vqueue vq;
	struct vqt t;
	static const uint16_t heads[3] = { 1, 4, 6 };
	unsigned k;

	vqt_setup(&t, false);
	vqt_queue(&t, &vq, QSZ, 0);
	for (k = 0; k < 3; k++) {
		vqt_desc(&t, VQT_DESC, heads[k], VQT_BUF, 16, N_, heads[k] + 1);
		vqt_desc(&t, VQT_DESC, heads[k] + 1, VQT_BUF + 0x100, 100, W_,
		    0);
		vqt_post(&t, VQT_AVAIL, QSZ, k, heads[k]);
	}
	for (k = 0; k < 3; k++) {
		CHECK_EQ(vq_getchain(&vq, iov, 4, &r[k]), 1);
		CHECK_EQ(r[k].vr_head, heads[k]);
		CHECK_EQ(r[k].vr_wbytes, 100);
	}
	vq_relchain(&vq, &r[2], 50);
	vq_relchain(&vq, &r[0], 1000);		/* a device bug: clamped */
	vq_relchain(&vq, &r[1], 0);
	/* Nothing is visible before vq_endchains(). */
	CHECK_EQ(vqt_get16(&t, VQT_USED + 2), 0);
	CHECK(vq_endchains(&vq));
	CHECK_EQ(vqt_get16(&t, VQT_USED + 2), 3);
	CHECK_EQ(vqt_get32(&t, USED_ID(0)), 6);
	CHECK_EQ(vqt_get32(&t, USED_LEN(0)), 50);
	CHECK_EQ(vqt_get32(&t, USED_ID(1)), 1);
	CHECK_EQ(vqt_get32(&t, USED_LEN(1)), 100);
	CHECK_EQ(vqt_get32(&t, USED_ID(2)), 4);
	CHECK_EQ(vqt_get32(&t, USED_LEN(2)), 0);
	/* Giving a chain back twice is a device bug; the ring is unchanged. */
	vq_relchain(&vq, &r[1], 0);
	CHECK_EQ(vq.vq_stats.vs_used, 3);
	CHECK(!vq_endchains(&vq));
	CHECK_EQ(vqt_get16(&t, VQT_USED + 2), 3);
}

/* Checklist 6.9: completions for a reset queue are dropped. */
TEST(reset_with_requests_in_flight)
{
	struct vq_req a, b, c;
	struct vqueue vq;
	struct vqt t;
	uint8_t before[8 + 8 * QSZ];

	vqt_setup(&t, false);
	vqt_queue(&t, &vq, QSZ, 0);
	post(&t, &vq, 1);
	post(&t, &vq, 2);
	CHECK_EQ(take(&vq, &a), 1);
	CHECK_EQ(take(&vq, &b), 1);
	vq_reset(&vq);
	CHECK(!vq.vq_ready);
	/* Given back while unconfigured: dropped. */
	vq_relchain(&vq, &a, 10);
	CHECK(!vq_endchains(&vq));
	CHECK_EQ(vq.vq_stats.vs_stale, 1);
	/* The driver re-initializes the ring and the queue. */
	memset(vqt_ram_a + VQT_AVAIL, 0, 0x2000);
	CHECK_EQ(vq_init(&vq, &t.gm, QSZ, VQT_DESC, VQT_AVAIL, VQT_USED, 0), 0);
	memcpy(before, vqt_ram_a + VQT_USED, sizeof(before));
	/* The old generation's completion is dropped, guest memory intact. */
	vq_relchain(&vq, &b, 20);
	CHECK(memcmp(before, vqt_ram_a + VQT_USED, sizeof(before)) == 0);
	CHECK_EQ(vq.vq_stats.vs_stale, 2);
	CHECK(!vq_endchains(&vq));
	CHECK_EQ(vqt_get16(&t, VQT_USED + 2), 0);
	/* The new generation works from slot 0. */
	CHECK_EQ(post_take(&t, &vq, 3, &c), 1);
	CHECK(c.vr_gen != b.vr_gen);
	vq_relchain(&vq, &c, 30);
	CHECK(vq_endchains(&vq));
	CHECK_EQ(vqt_get16(&t, VQT_USED + 2), 1);
	CHECK_EQ(vqt_get32(&t, USED_ID(0)), 3);
	CHECK_EQ(vqt_get32(&t, USED_LEN(0)), 30);
}

/* A broken queue stays broken, writes nothing, and recovers on reset. */
TEST(broken_is_sticky_until_reset)
{
	struct iovec iov[4];
	struct vq_req a, r;
	struct vqueue vq;
	struct vqt t;

	vqt_setup(&t, false);
	vqt_queue(&t, &vq, QSZ, 0);
	CHECK_EQ(post_take(&t, &vq, 1, &a), 1);
	(void)vq_endchains(&vq);
	vqt_post(&t, VQT_AVAIL, QSZ, 1, 200);		/* bad head */
	CHECK_EQ(vq_getchain(&vq, iov, 4, &r), -EINVAL);
	CHECK(vq_broken(&vq));
	CHECK_EQ(vq.vq_rule, VQ_RULE_HEAD);
	CHECK_STR(vq_rule_name(vq.vq_rule), "head index >= queue size (2.7.6)");
	/* Fixing the ring does not help: the queue needs a reset. */
	vqt_post(&t, VQT_AVAIL, QSZ, 1, 1);
	CHECK_EQ(vq_getchain(&vq, iov, 4, &r), -EINVAL);
	CHECK_EQ(vq.vq_stats.vs_errors, 1);		/* logged once */
	vq_relchain(&vq, &a, 5);
	CHECK(!vq_endchains(&vq));
	CHECK_EQ(vqt_get16(&t, VQT_USED + 2), 0);
	CHECK_EQ(vqt_get32(&t, USED_ID(0)), 0);
	CHECK_EQ(vqt_get32(&t, USED_LEN(0)), 0);
	vq_set_notify(&vq, false);
	CHECK_EQ(vqt_get16(&t, VQT_USED), 0);
	vq_reset(&vq);
	CHECK(!vq_broken(&vq));
	CHECK_EQ(vq_getchain(&vq, iov, 4, &r), 0);
	memset(vqt_ram_a + VQT_AVAIL, 0, 0x2000);
	CHECK_EQ(vq_init(&vq, &t.gm, QSZ, VQT_DESC, VQT_AVAIL, VQT_USED, 0), 0);
	CHECK_EQ(post_take(&t, &vq, 4, &r), 1);
	CHECK_EQ(vq_rule_name(VQ_RULE_COUNT)[0], 'u');
}

/*
 * Checklist 6.10: a guest that keeps adding chains while the device
 * works gets at most size chains per batch.
 */
TEST(bounded_work_per_batch)
{
	struct iovec iov[4];
	struct vq_req r;
	struct vqueue vq;
	struct vqt t;
	unsigned got, batch;
	uint16_t idx;

	vqt_setup(&t, false);
	vqt_queue(&t, &vq, QSZ, 0);
	vqt_desc(&t, VQT_DESC, 0, VQT_BUF, 8, 0, 0);
	for (idx = 0; idx < QSZ; idx++)
		vqt_post(&t, VQT_AVAIL, QSZ, idx, 0);
	for (batch = 0; batch < 3; batch++) {
		got = 0;
		while (vq_getchain(&vq, iov, 4, &r) == 1) {
			got++;
			vq_relchain(&vq, &r, 0);
			/* The racing guest refills the slot at once. */
			vqt_post(&t, VQT_AVAIL, QSZ, idx++, 0);
			if (got > 100)
				break;
		}
		CHECK_EQ(got, QSZ);
		CHECK(vq_has_descs(&vq));
		(void)vq_endchains(&vq);
	}
	CHECK(!vq_broken(&vq));
	/*
	 * avail->idx moved out of range during a batch is only seen when the
	 * next batch reads it.
	 */
	vqt_put16(&t, VQT_AVAIL + 2, (uint16_t)(vq.vq_last_avail + 1));
	CHECK_EQ(vq_getchain(&vq, iov, 4, &r), 1);
	vq_relchain(&vq, &r, 0);
	vqt_put16(&t, VQT_AVAIL + 2, (uint16_t)(vq.vq_last_avail + 100));
	CHECK_EQ(vq_getchain(&vq, iov, 4, &r), 0);
	CHECK(vq_endchains(&vq));
	CHECK_EQ(vq_getchain(&vq, iov, 4, &r), -EINVAL);
	CHECK_EQ(vq.vq_rule, VQ_RULE_AVAIL_IDX);
}

/* A driver cannot have more than size chains with the device. */
TEST(inflight_bounded_by_size)
{
	struct vq_req r;
	struct vqueue vq;
	struct vqt t;
	unsigned k;

	vqt_setup(&t, false);
	vqt_queue(&t, &vq, 4, 0);
	for (k = 0; k < 4; k++)
		post(&t, &vq, k);
	for (k = 0; k < 4; k++)
		CHECK_EQ(take(&vq, &r), 1);
	(void)vq_endchains(&vq);
	/* Reposting heads the device still holds. */
	CHECK_EQ(post_take(&t, &vq, 0, &r), -EINVAL);
	CHECK_EQ(vq.vq_rule, VQ_RULE_INFLIGHT);
}

TEST(retchain)
{
	struct iovec iov[4];
	struct vq_req a, b, c;
	struct vqueue vq;
	struct vqt t;

	vqt_setup(&t, false);
	vqt_queue(&t, &vq, QSZ, 0);
	post(&t, &vq, 3);
	post(&t, &vq, 4);
	CHECK_EQ(take(&vq, &a), 1);
	CHECK_EQ(take(&vq, &b), 1);
	vq_retchain(&vq, &a);			/* not the last: ignored */
	CHECK_EQ(vq.vq_last_avail, 2);
	vq_retchain(&vq, &b);
	CHECK_EQ(vq.vq_last_avail, 1);
	CHECK_EQ(vq.vq_inflight, 1);
	CHECK_EQ(vq_getchain(&vq, iov, 4, &c), 1);
	CHECK_EQ(c.vr_head, 4);
	/* The slot is read again: a guest change is seen and checked. */
	vq_retchain(&vq, &c);
	vqt_put16(&t, VQT_AVAIL + 4 + 2, 9);
	CHECK_EQ(vq_getchain(&vq, iov, 4, &c), -EINVAL);
	CHECK_EQ(vq.vq_rule, VQ_RULE_HEAD);
}

TEST(notify_suppression)
{
	struct vq_req r;
	struct vqueue vq;
	struct vqt t;

	/* Without EVENT_IDX: VIRTQ_USED_F_NO_NOTIFY in used->flags. */
	vqt_setup(&t, false);
	vqt_queue(&t, &vq, QSZ, 0);
	CHECK(!vq_has_descs(&vq));
	vq_set_notify(&vq, false);
	CHECK_EQ(vqt_get16(&t, VQT_USED), VIRTQ_USED_F_NO_NOTIFY);
	vqt_post(&t, VQT_AVAIL, QSZ, 0, 0);
	CHECK(vq_has_descs(&vq));
	vq_set_notify(&vq, true);
	CHECK_EQ(vqt_get16(&t, VQT_USED), 0);
	CHECK_EQ(vqt_get16(&t, AVAIL_EVENT), 0);

	/* With EVENT_IDX: avail_event, flags left 0 (2.7.10.2). */
	vqt_setup(&t, false);
	vqt_queue(&t, &vq, QSZ, VIRTIO_F_EVENT_IDX);
	post(&t, &vq, 0);
	post(&t, &vq, 1);
	CHECK_EQ(take(&vq, &r), 1);
	CHECK_EQ(take(&vq, &r), 1);
	CHECK(!vq_has_descs(&vq));
	vq_set_notify(&vq, true);
	CHECK_EQ(vqt_get16(&t, AVAIL_EVENT), 2);
	vq_set_notify(&vq, false);
	CHECK_EQ(vqt_get16(&t, VQT_USED), 0);
	(void)vq_endchains(&vq);
	CHECK_EQ(post_take(&t, &vq, 2, &r), 1);
	(void)vq_endchains(&vq);
	CHECK_EQ(vqt_get16(&t, AVAIL_EVENT), 2);	/* left stale */
	vq_set_notify(&vq, true);
	CHECK_EQ(vqt_get16(&t, AVAIL_EVENT), 3);
	vqt_post(&t, VQT_AVAIL, QSZ, 3, 3);
	CHECK(vq_has_descs(&vq));			/* the re-check */
	CHECK_EQ(vqt_get16(&t, VQT_USED), 0);
}

TEST(unconfigured_queue_is_inert)
{
	struct iovec iov[2];
	struct vq_req r;
	struct vqueue vq;

	vq_create(&vq, "idle", 0);
	memset(&r, 0x5a, sizeof(r));
	CHECK_EQ(vq_getchain(&vq, iov, 2, &r), 0);
	CHECK_EQ(r.vr_nread + r.vr_nwrite, 0);		/* zeroed, not stale */
	CHECK(!vq_has_descs(&vq));
	CHECK(!vq_endchains(&vq));
	vq_set_notify(&vq, false);
	vq_relchain(&vq, &r, 1);
	vq_retchain(&vq, &r);
	CHECK(!vq_broken(&vq));
}

/*
 * The iovecs come from the one read of each descriptor: a guest that
 * rewrites the descriptor after vq_getchain() changes nothing the device
 * holds, and the next chain sees the new contents, checked again.
 */
TEST(double_fetch_after_getchain)
{
	struct iovec iov[4];
	struct vq_req r;
	struct vqueue vq;
	struct vqt t;

	vqt_setup(&t, false);
	vqt_queue(&t, &vq, QSZ, 0);
	vqt_desc(&t, VQT_DESC, 0, VQT_BUF, 16, 0, 0);
	vqt_post(&t, VQT_AVAIL, QSZ, 0, 0);
	CHECK_EQ(vq_getchain(&vq, iov, 4, &r), 1);
	vqt_desc(&t, VQT_DESC, 0, VQT_HOLE, 0x100000, W_, 0);
	CHECK_EQ(vqt_gpa(&t, iov[0].iov_base), VQT_BUF);
	CHECK_EQ(iov[0].iov_len, 16);
	CHECK_EQ(r.vr_nread, 1);
	CHECK_EQ(r.vr_rbytes, 16);
	vq_relchain(&vq, &r, 16);
	CHECK_EQ(vqt_get32(&t, USED_LEN(0)), 0);	/* no writable bytes */
	vqt_post(&t, VQT_AVAIL, QSZ, 1, 0);
	(void)vq_endchains(&vq);
	CHECK_EQ(vq_getchain(&vq, iov, 4, &r), -EFAULT);
}

/*
 * A vCPU rewriting a descriptor while the device walks it: whatever the
 * core returns must describe RAM and agree with itself.  Version X is
 * {BUF, 16}, Y is {B end - 16, 1 MiB} (off RAM); the racer flips addr
 * and len separately, so torn mixes happen too.  A core that checked one
 * fetch of len and used another would hand out an iovec past RAM.
 */
struct racer {
	struct vqt	*t;
	atomic_bool	stop;
};

static void *
race(void *arg)
{
	struct racer *rc = arg;
	uint64_t *addr = (uint64_t *)(vqt_ram_a + VQT_DESC);
	uint32_t *len = (uint32_t *)(vqt_ram_a + VQT_DESC + 8);
	unsigned k = 0;

	while (!atomic_load(&rc->stop)) {
		__atomic_store_n(addr, (k & 1) ? VQT_BUF : VQT_B + VQT_B_LEN - 16,
		    __ATOMIC_RELAXED);
		__atomic_store_n(len, (k & 2) ? 16 : 0x100000, __ATOMIC_RELAXED);
		k++;
	}
	return (NULL);
}

static bool
iov_in_ram(const struct vqt *t, const struct iovec *v)
{
	uint64_t g = vqt_gpa(t, v->iov_base);

	return (g != UINT64_MAX &&
	    vqt_gpa(t, (const uint8_t *)v->iov_base + v->iov_len - 1) ==
	    g + v->iov_len - 1 && v->iov_len <= VQT_A_LEN + VQT_B_LEN);
}

TEST(double_fetch_race)
{
	struct iovec iov[4];
	struct racer rc;
	struct vq_req r;
	struct vqueue vq;
	struct vqt t;
	pthread_t th;
	unsigned k, ok = 0, bad = 0, i;
	uint64_t sum;

	vqt_setup(&t, false);
	vqt_queue(&t, &vq, QSZ, 0);
	vqt_desc(&t, VQT_DESC, 0, VQT_BUF, 16, 0, 0);
	rc.t = &t;
	atomic_init(&rc.stop, false);
	CHECK_EQ(pthread_create(&th, NULL, race, &rc), 0);
	for (k = 0; k < 200000 && test_failed == 0; k++) {
		vqt_post(&t, VQT_AVAIL, QSZ, vq.vq_last_avail, 0);
		switch (vq_getchain(&vq, iov, 4, &r)) {
		case 1:
			ok++;
			sum = 0;
			for (i = 0; i < r.vr_nread; i++) {
				CHECK(iov_in_ram(&t, &iov[i]));
				sum += iov[i].iov_len;
			}
			CHECK_EQ(sum, r.vr_rbytes);
			CHECK(sum == 16);
			vq_relchain(&vq, &r, 0);
			(void)vq_endchains(&vq);
			break;
		case -EFAULT:
			bad++;
			CHECK_EQ(vq.vq_rule, VQ_RULE_BUF_RAM);
			CHECK_EQ(vq_init(&vq, &t.gm, QSZ, VQT_DESC, VQT_AVAIL,
			    VQT_USED, 0), 0);
			memset(vqt_ram_a + VQT_AVAIL, 0, 0x2000);
			break;
		default:
			CHECK(0);
			break;
		}
	}
	atomic_store(&rc.stop, true);
	pthread_join(th, NULL);
	printf("  %u chains taken, %u refused while the descriptor changed\n",
	    ok, bad);
}

/*
 * The deterministic form: the test single-steps vq_getchain() (x86 trap
 * flag) and the SIGTRAP handler, playing a racing vCPU, rewrites guest
 * memory between every two instructions, to one of two versions picked
 * at random.  A value the core fetched twice would differ between the
 * fetches in about half of the 24 runs per row; the result must always
 * describe RAM and agree with itself.
 */
#if defined(__x86_64__)
#define TF	0x100

static volatile sig_atomic_t step_on;
static volatile uint8_t *flip_at;		/* guest bytes to rewrite */
static uint8_t flip_v[2][16];			/* the two versions */
static size_t flip_len;
static volatile unsigned long flip_n;		/* steps taken */
static uint32_t flip_rng;			/* picks the version per step */

static void
on_trap(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	size_t i;

	if (!step_on) {
		uc->uc_mcontext.gregs[REG_EFL] &= ~TF;
		return;
	}
	/*
	 * A pseudo-random version per step (xorshift32), so two fetches any
	 * number of instructions apart differ in about half the runs.
	 */
	flip_n++;
	flip_rng ^= flip_rng << 13;
	flip_rng ^= flip_rng >> 17;
	flip_rng ^= flip_rng << 5;
	for (i = 0; i < flip_len; i++)
		flip_at[i] = flip_v[flip_rng & 1][i];
}

static void
step_start(void)
{
	step_on = 1;
	__asm__ volatile("pushfq\n\torq $0x100, (%%rsp)\n\tpopfq" ::: "memory",
	    "cc");
}

static void
step_stop(void)
{
	step_on = 0;
	__asm__ volatile("nop" ::: "memory");	/* the trap that clears TF */
}

static void
desc_bytes(uint8_t *b, uint64_t addr, uint32_t len, uint16_t flags,
    uint16_t next)
{
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);
	uint16_t f = htole16(flags), n = htole16(next);

	memcpy(b, &a, 8);
	memcpy(b + 8, &l, 4);
	memcpy(b + 12, &f, 2);
	memcpy(b + 14, &n, 2);
}

/* The result of one getchain is self-consistent and inside RAM. */
static void
check_consistent(const struct vqt *t, const struct vqueue *vq, int ret,
    const struct iovec *iov, const struct vq_req *r)
{
	uint64_t rb = 0, wb = 0;
	unsigned i;

	if (ret <= 0) {
		CHECK(ret == 0 || vq_broken(vq));
		return;
	}
	CHECK(r->vr_head < vq->vq_size);
	for (i = 0; i < r->vr_nread + r->vr_nwrite; i++) {
		if (iov[i].iov_len == 0) {
			CHECK(iov[i].iov_base == NULL);
			continue;
		}
		CHECK(iov_in_ram(t, &iov[i]));
		if (i < r->vr_nread)
			rb += iov[i].iov_len;
		else
			wb += iov[i].iov_len;
	}
	CHECK_EQ(rb, r->vr_rbytes);
	CHECK_EQ(wb, r->vr_wbytes);
	CHECK(rb + wb <= UINT32_MAX);
}

TEST(double_fetch_single_step)
{
	enum { F_DESC0, F_HEAD, F_AVAIL_IDX, F_IND0, F_DESC1 };
	static const struct {
		const char	*name;
		int		what;
	} rows[] = {
		{ "descriptor: {BUF,16,R} vs {B end-16,1M,W|NEXT}", F_DESC0 },
		{ "avail ring head: 0 vs 200", F_HEAD },
		{ "avail idx: +1 vs +100", F_AVAIL_IDX },
		{ "indirect entry: {BUF,16,R} vs {hole,1M,INDIRECT}", F_IND0 },
		{ "indirect pointer: {IND,32} vs {IND,2M}", F_DESC1 },
	};
	struct sigaction sa, old;
	struct iovec iov[8];
	struct vq_req r;
	struct vqueue vq;
	struct vqt t;
	unsigned i, k;
	int before, ret;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	CHECK_EQ(sigaction(SIGTRAP, &sa, &old), 0);
	for (i = 0; i < nitems(rows); i++) {
		before = test_failed;
		for (k = 0; k < 24; k++) {
			vqt_setup(&t, false);
			vqt_queue(&t, &vq, QSZ, VIRTIO_F_INDIRECT_DESC);
			/* head 0: desc 0 -> desc 1 (indirect, 2 entries). */
			vqt_desc(&t, VQT_DESC, 0, VQT_BUF, 16, N_, 1);
			vqt_desc(&t, VQT_DESC, 1, VQT_IND, 32, I_, 0);
			vqt_desc(&t, VQT_IND, 0, VQT_BUF + 64, 16, N_, 1);
			vqt_desc(&t, VQT_IND, 1, VQT_BUF + 128, 8, W_, 0);
			vqt_post(&t, VQT_AVAIL, QSZ, 0, 0);
			switch (rows[i].what) {
			case F_DESC0:
				flip_at = vqt_ram_a + VQT_DESC;
				flip_len = 16;
				desc_bytes(flip_v[0], VQT_BUF, 16, N_, 1);
				desc_bytes(flip_v[1], VQT_B + VQT_B_LEN - 16,
				    0x100000, W_ | N_, 1);
				break;
			case F_HEAD:
				flip_at = vqt_ram_a + VQT_AVAIL + 4;
				flip_len = 2;
				flip_v[0][0] = 0;
				flip_v[1][0] = 200;
				flip_v[0][1] = flip_v[1][1] = 0;
				break;
			case F_AVAIL_IDX:
				flip_at = vqt_ram_a + VQT_AVAIL + 2;
				flip_len = 2;
				flip_v[0][0] = 1;
				flip_v[1][0] = 100;
				flip_v[0][1] = flip_v[1][1] = 0;
				break;
			case F_IND0:
				flip_at = vqt_ram_a + VQT_IND;
				flip_len = 16;
				desc_bytes(flip_v[0], VQT_BUF + 64, 16, N_, 1);
				desc_bytes(flip_v[1], VQT_HOLE, 0x100000, I_ | N_,
				    1);
				break;
			default:
				flip_at = vqt_ram_a + VQT_DESC + 16;
				flip_len = 16;
				desc_bytes(flip_v[0], VQT_IND, 32, I_, 0);
				desc_bytes(flip_v[1], VQT_IND, 0x200000, I_, 0);
				break;
			}
			flip_n = 0;
			flip_rng = 0x9e3779b9u * (k + 1);
			memset(iov, 0, sizeof(iov));
			step_start();
			ret = vq_getchain(&vq, iov, nitems(iov), &r);
			step_stop();
			CHECK(flip_n > 100);		/* really single-stepped */
			check_consistent(&t, &vq, ret, iov, &r);
		}
		if (test_failed != before)
			printf("  row \"%s\" failed\n", rows[i].name);
	}
	CHECK_EQ(sigaction(SIGTRAP, &old, NULL), 0);
}
#endif /* __x86_64__ */

TEST_MAIN()
