/*
 * fuzz_virtqueue.c: the split-virtqueue core against a guest driven by
 * the input.
 *
 * Guest RAM: A [0, 64 KiB) (optionally split in two adjacent regions at
 * an input-chosen, possibly odd, offset), B [64 KiB, 80 KiB) adjacent to
 * A, C [1 MiB, 1 MiB + 4 KiB) between holes.
 *
 * Input: an 8-byte header, then a program of steps.
 *	[0]	queue size: bit 7 clear: 1 << ([0] % 11); set: [1..2] raw
 *	[3]	bit 0 INDIRECT_DESC, bit 1 EVENT_IDX, bit 2 RING_PACKED,
 *		bit 3 split A at [4..5], bits 4-5 ring layout, bits 6-7 the
 *		device's maximum size (32768, 256, 64, 8)
 *	[6..7]	layout parameter
 * Each step is an op byte (low 4 bits) and its operands:
 *	0 desc	write descriptor [1] of the table: addr/len/flags/next (7)
 *	1 put	write a descriptor anywhere in A/B: gpa [1..2]*2, then 7
 *	2 post	head [1..2] into the next avail slot, avail->idx += [3]
 *		(bit 7 of the op: += [3] * 256 instead)
 *	3 get	vq_getchain with niov 1 + [1] % 48; with op bit 4, on a
 *		chain, the iovec helpers at offset [2..3], length [4..5]
 *	4 rel	vq_relchain of pending chain [1], written [2..5]
 *	5 end	vq_endchains
 *	6 reset	vq_reset, then (op bit 4) vq_init again
 *	7 poke	write the next [3] % 32 input bytes at A/B offset [1..2]
 *	8 notify vq_set_notify(op bit 4)
 *	9 has	vq_has_descs
 *	10 ret	vq_retchain of the last chain taken
 *	11 flags avail->flags (op bit 4) or used_event := [1..2]
 *
 * Checked after each step: every iovec handed out lies within one RAM
 * region (or is {NULL, 0}), counts and byte totals agree, totals fit in
 * 32 bits, no batch yields more than size chains, a broken queue stays
 * broken with the same error, the used element written is the one given
 * back (clamped), the interrupt decision matches vq_need_event() or the
 * NO_INTERRUPT flag, vq_init accepts exactly the valid layouts, and each
 * vq_getchain() answer (result, rule, every iovec) equals that of an
 * independent reference walk over guest memory.  ASan and UBSan catch
 * the rest.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gmem.h"
#include "virtio/iov.h"
#include "virtio/virtqueue.h"

#define A_LEN	0x10000ULL
#define B_GPA	0x10000ULL
#define B_LEN	0x4000ULL
#define C_GPA	0x100000ULL
#define C_LEN	0x1000ULL
#define NPEND	64
#define MAXIOV	48

static uint8_t ram_a[A_LEN], ram_b[B_LEN], ram_c[C_LEN];
/* The device's maximum queue size, header byte 3 bits 6-7. */
static const uint16_t maxsizes[4] = { 0, 256, 64, 8 };

struct fz {
	const uint8_t	*p, *end;
	struct gmem	gm;
	struct vqueue	vq;
	uint16_t	size, maxsize;
	uint64_t	feat, desc, avail, used;
	struct vq_req	pend[NPEND];
	unsigned	npend;
	struct vq_req	last;		/* for vq_retchain */
	bool		have_last;
	unsigned	batch;		/* chains in the current batch */
	uint16_t	avail_idx;	/* the driver's next idx */
};

#define FAIL(...) do {							\
	fprintf(stderr, "fuzz_virtqueue: " __VA_ARGS__);		\
	fprintf(stderr, "\n");						\
	abort();							\
} while (0)

static unsigned
get8(struct fz *f)
{
	return (f->p < f->end ? *f->p++ : 0);
}

static unsigned
get16(struct fz *f)
{
	unsigned v = get8(f);

	return (v | get8(f) << 8);
}

static uint32_t
get32(struct fz *f)
{
	uint32_t v = get16(f);

	return (v | (uint32_t)get16(f) << 16);
}

static void
put_le(struct fz *f, uint64_t gpa, uint64_t v, size_t n)
{
	uint8_t b[8];
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = v >> (8 * i);
	(void)!gmem_write(&f->gm, gpa, b, n);	/* outside RAM: dropped */
}

static uint64_t
get_le(struct fz *f, uint64_t gpa, size_t n)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;
	size_t i;

	if (gmem_read(&f->gm, gpa, b, n) != 0)
		return (UINT64_MAX);
	for (i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return (v);
}

/* A descriptor from 7 input bytes: addr mode, addr, len, flags, next. */
static void
write_desc(struct fz *f, uint64_t gpa)
{
	unsigned mode = get8(f), a = get16(f), l = get16(f), fl = get8(f);
	unsigned next = get8(f);
	uint64_t addr;
	uint32_t len;

	switch (mode & 3) {
	case 0:
		addr = (uint64_t)a * 2;		/* A, B, then the hole */
		break;
	case 1:
		addr = C_GPA - 0x800 + a % 0x2000;
		break;
	case 2:
		addr = (uint64_t)a << 16;
		break;
	default:
		addr = UINT64_MAX - a;
		break;
	}
	len = l;
	if (mode & 4)
		len = (uint32_t)l << 8;
	if (mode & 8)
		len = UINT32_MAX - l;
	if (mode & 16)
		next |= (unsigned)get8(f) << 8;
	put_le(f, gpa, addr, 8);
	put_le(f, gpa + 8, len, 4);
	put_le(f, gpa + 12, fl, 2);
	put_le(f, gpa + 14, next, 2);
}

/* [p, p+len) lies within one region's host buffer. */
static bool
host_in_one_region(const struct fz *f, const void *p, size_t len)
{
	const struct gmem_region *r;
	const uint8_t *b = p;
	unsigned i;

	for (i = 0; i < f->gm.gm_nregions; i++) {
		r = &f->gm.gm_region[i];
		if (b >= r->gr_hva && (uint64_t)(b - r->gr_hva) < r->gr_len &&
		    len <= r->gr_len - (uint64_t)(b - r->gr_hva))
			return (true);
	}
	return (false);
}

static bool
layout_valid(struct fz *f)
{
	uint64_t s = f->size;

	if (s == 0 || s > 32768 || (s & (s - 1)) != 0 || s > f->maxsize)
		return (false);
	if (f->feat & VIRTIO_F_RING_PACKED)
		return (false);
	if ((f->desc & 15) || (f->avail & 1) || (f->used & 3))
		return (false);
	return (f->desc + 16 * s > f->desc && gmem_is_ram(&f->gm, f->desc,
	    16 * s) && f->avail + 6 + 2 * s > f->avail &&
	    gmem_is_ram(&f->gm, f->avail, 6 + 2 * s) &&
	    f->used + 6 + 8 * s > f->used &&
	    gmem_is_ram(&f->gm, f->used, 6 + 8 * s));
}

static void
do_init(struct fz *f)
{
	int ret;

	ret = vq_init(&f->vq, &f->gm, f->size, f->desc, f->avail, f->used,
	    f->feat);
	if ((ret == 0) != layout_valid(f))
		FAIL("vq_init returned %d for size %u desc %#jx avail %#jx "
		    "used %#jx", ret, f->size, (uintmax_t)f->desc,
		    (uintmax_t)f->avail, (uintmax_t)f->used);
	if (ret != 0 && ret != -EINVAL)
		FAIL("vq_init returned %d", ret);
	f->batch = 0;
	f->avail_idx = 0;
	f->have_last = false;
}

/*
 * The reference model: what vq_getchain() must return for the ring as
 * it is in guest memory now, computed independently (every field through
 * gmem_read, regions split by hand) with the same order of checks, so a
 * wrong bound in the core shows up as a different answer.
 */
struct ref {
	int		ret;
	enum vq_rule	rule;
	unsigned	n, nread;
	uint64_t	gpa[MAXIOV], len[MAXIOV];
};

static int
ref_fail(struct ref *o, enum vq_rule rule, int error)
{
	o->rule = rule;
	o->ret = error;
	return (error);
}

/* Split [gpa, gpa+len) over the regions; false at a hole or wrap. */
static int
ref_buf(struct fz *f, struct ref *o, unsigned niov, uint64_t gpa,
    uint64_t len)
{
	const struct gmem_region *r;
	uint64_t n;
	unsigned i;

	if (len == 0) {
		if (o->n == niov)
			return (ref_fail(o, VQ_RULE_NIOV, -E2BIG));
		o->gpa[o->n] = UINT64_MAX;
		o->len[o->n++] = 0;
		return (0);
	}
	if (gpa > UINT64_MAX - len)
		return (ref_fail(o, VQ_RULE_BUF_RAM, -EFAULT));
	while (len > 0) {
		for (i = 0; i < f->gm.gm_nregions; i++) {
			r = &f->gm.gm_region[i];
			if (gpa >= r->gr_gpa && gpa < r->gr_gpa + r->gr_len)
				break;
		}
		if (i == f->gm.gm_nregions)
			return (ref_fail(o, VQ_RULE_BUF_RAM, -EFAULT));
		if (o->n == niov)
			return (ref_fail(o, VQ_RULE_NIOV, -E2BIG));
		n = r->gr_gpa + r->gr_len - gpa;
		if (n > len)
			n = len;
		o->gpa[o->n] = gpa;
		o->len[o->n++] = n;
		gpa += n;
		len -= n;
	}
	return (0);
}

static void
ref_getchain(struct fz *f, unsigned niov, struct ref *o)
{
	const struct vqueue *vq = &f->vq;
	uint64_t tbl = f->desc, total = 0, addr, a;
	unsigned ntbl = f->size, count = 0, i, flags, next, len;
	uint16_t snap, last = vq->vq_last_avail, head;
	bool ind = false, w = false;

	memset(o, 0, sizeof(*o));
	if (vq->vq_broken) {
		o->ret = vq->vq_error;
		o->rule = vq->vq_rule;
		return;
	}
	if (!vq->vq_ready)
		return;
	if (vq->vq_in_batch)
		snap = vq->vq_avail_snap;
	else {
		snap = (uint16_t)get_le(f, f->avail + 2, 2);
		if ((uint16_t)(snap - last) > f->size) {
			ref_fail(o, VQ_RULE_AVAIL_IDX, -EINVAL);
			return;
		}
	}
	if (snap == last)
		return;
	if (vq->vq_inflight >= f->size) {
		ref_fail(o, VQ_RULE_INFLIGHT, -EINVAL);
		return;
	}
	head = (uint16_t)get_le(f, f->avail + 4 + 2ULL * (last % f->size), 2);
	if (head >= f->size) {
		ref_fail(o, VQ_RULE_HEAD, -EINVAL);
		return;
	}
	i = head;
	for (;;) {
		if (count++ == ntbl) {
			ref_fail(o, ind ? VQ_RULE_INDIRECT_LOOP :
			    VQ_RULE_CHAIN_LEN, -ELOOP);
			return;
		}
		a = tbl + 16ULL * i;
		if (!gmem_is_ram(&f->gm, a, 16)) {
			ref_fail(o, ind ? VQ_RULE_INDIRECT_RAM :
			    VQ_RULE_RING_RAM, -EFAULT);
			return;
		}
		addr = get_le(f, a, 8);
		len = (unsigned)get_le(f, a + 8, 4);
		flags = (unsigned)get_le(f, a + 12, 2);
		next = (unsigned)get_le(f, a + 14, 2);
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			if (!(f->feat & VIRTIO_F_INDIRECT_DESC))
				ref_fail(o, VQ_RULE_INDIRECT_FEAT, -EINVAL);
			else if (ind)
				ref_fail(o, VQ_RULE_INDIRECT_NESTED, -EINVAL);
			else if (flags & VIRTQ_DESC_F_NEXT)
				ref_fail(o, VQ_RULE_INDIRECT_NEXT, -EINVAL);
			else if (len == 0 || len % 16 != 0)
				ref_fail(o, VQ_RULE_INDIRECT_LEN, -EINVAL);
			else if (len / 16 > VQ_INDIRECT_MAX)
				ref_fail(o, VQ_RULE_INDIRECT_MAX, -EINVAL);
			else if (addr > UINT64_MAX - len ||
			    !gmem_is_ram(&f->gm, addr, len))
				ref_fail(o, VQ_RULE_INDIRECT_RAM, -EFAULT);
			if (o->ret != 0)
				return;
			tbl = addr;
			ntbl = len / 16;
			i = 0;
			count = 0;
			ind = true;
			continue;
		}
		if (flags & VIRTQ_DESC_F_WRITE)
			w = true;
		else if (w) {
			ref_fail(o, VQ_RULE_WRITE_ORDER, -EINVAL);
			return;
		}
		total += len;
		if (total > UINT32_MAX) {
			ref_fail(o, VQ_RULE_TOTAL_LEN, -EMSGSIZE);
			return;
		}
		if (ref_buf(f, o, niov, addr, len) != 0)
			return;
		if (!w)
			o->nread = o->n;
		if (!(flags & VIRTQ_DESC_F_NEXT)) {
			o->ret = 1;
			return;
		}
		if (next >= ntbl) {
			ref_fail(o, ind ? VQ_RULE_INDIRECT_IDX : VQ_RULE_NEXT,
			    -EINVAL);
			return;
		}
		i = next;
	}
}

/* Guest-physical address of host pointer p (UINT64_MAX for NULL). */
static uint64_t
gpa_of(const struct fz *f, const void *p)
{
	const struct gmem_region *r;
	const uint8_t *b = p;
	unsigned i;

	for (i = 0; p != NULL && i < f->gm.gm_nregions; i++) {
		r = &f->gm.gm_region[i];
		if (b >= r->gr_hva && (uint64_t)(b - r->gr_hva) < r->gr_len)
			return (r->gr_gpa + (uint64_t)(b - r->gr_hva));
	}
	return (UINT64_MAX);
}

/*
 * The iovec helpers on the chain just taken, at input-chosen offsets:
 * copy out, write the same bytes back (guest memory unchanged), slice.
 */
static void
check_iov_helpers(struct fz *f, const struct iovec *iov, unsigned n,
    uint64_t total)
{
	static uint8_t buf[0x10000];
	struct iovec dst[MAXIOV];
	size_t off = get16(f), len = get16(f), want, got;
	int k;

	want = off < total ? (size_t)(total - off) : 0;
	if (want > len)
		want = len;
	got = iov_to_buf(iov, n, off, buf, len);
	if (got != want || buf_to_iov(iov, n, off, buf, len) != want)
		FAIL("iov_to_buf/buf_to_iov moved %zu bytes, not %zu", got,
		    want);
	if (iov_size(iov, n) != total)
		FAIL("iov_size");
	k = iov_slice(iov, n, off, len, dst, MAXIOV);
	if (off + len > total) {
		if (k != -ERANGE)
			FAIL("iov_slice past the end returned %d", k);
	} else if (k < 0 || (unsigned)k > n || iov_size(dst, (unsigned)k) !=
	    len)
		FAIL("iov_slice returned %d", k);
}

static void
do_get(struct fz *f, bool helpers)
{
	struct iovec iov[MAXIOV];
	struct vq_req r;
	unsigned niov = 1 + get8(f) % MAXIOV, i, n;
	bool was_broken = vq_broken(&f->vq);
	int was_err = f->vq.vq_error, ret;
	uint64_t rb = 0, wb = 0;
	struct ref o;

	ref_getchain(f, niov, &o);
	ret = vq_getchain(&f->vq, iov, niov, &r);
	if (ret != o.ret || (ret < 0 && f->vq.vq_rule != o.rule))
		FAIL("getchain returned %d (rule %d), the model %d (rule %d)",
		    ret, f->vq.vq_rule, o.ret, o.rule);
	if (was_broken && ret != was_err)
		FAIL("broken queue returned %d, not %d", ret, was_err);
	if (ret < 0) {
		if (!vq_broken(&f->vq) || ret != f->vq.vq_error ||
		    f->vq.vq_rule == VQ_RULE_NONE)
			FAIL("error %d without a broken queue", ret);
		if (ret != -EINVAL && ret != -ELOOP && ret != -EFAULT &&
		    ret != -EMSGSIZE && ret != -E2BIG)
			FAIL("unexpected error %d", ret);
		if (r.vr_nread + r.vr_nwrite != 0)
			FAIL("error with a non-empty request");
		return;
	}
	if (ret == 0)
		return;
	if (ret != 1)
		FAIL("getchain returned %d", ret);
	if (++f->batch > f->size)
		FAIL("%u chains in one batch of a queue of %u", f->batch,
		    f->size);
	if (r.vr_head >= f->size || r.vr_gen != f->vq.vq_gen)
		FAIL("head %u gen %u", r.vr_head, r.vr_gen);
	n = r.vr_nread + r.vr_nwrite;
	if (n > niov || n == 0 || r.vr_ndesc == 0 || r.vr_nzero > r.vr_ndesc)
		FAIL("%u iovecs for niov %u, %u descs", n, niov, r.vr_ndesc);
	if (f->vq.vq_inflight > f->size)
		FAIL("%u in flight", f->vq.vq_inflight);
	for (i = 0; i < n; i++) {
		if (iov[i].iov_len == 0) {
			if (iov[i].iov_base != NULL)
				FAIL("zero-length iovec with a base");
			continue;
		}
		if (!host_in_one_region(f, iov[i].iov_base, iov[i].iov_len))
			FAIL("iovec %u (%zu bytes) not in one region", i,
			    iov[i].iov_len);
		if (i < r.vr_nread)
			rb += iov[i].iov_len;
		else
			wb += iov[i].iov_len;
	}
	if (n != o.n || r.vr_nread != o.nread)
		FAIL("%u iovecs (%u readable), the model %u (%u)", n,
		    r.vr_nread, o.n, o.nread);
	for (i = 0; i < n; i++)
		if (gpa_of(f, iov[i].iov_base) != o.gpa[i] ||
		    iov[i].iov_len != o.len[i])
			FAIL("iovec %u differs from the model", i);
	if (rb != r.vr_rbytes || wb != r.vr_wbytes || rb + wb > UINT32_MAX)
		FAIL("bytes %ju/%ju vs %ju/%ju", (uintmax_t)rb, (uintmax_t)wb,
		    (uintmax_t)r.vr_rbytes, (uintmax_t)r.vr_wbytes);
	/* Touch every byte, as a device would: ASan checks the bounds. */
	for (i = 0; i < n; i++) {
		if (iov[i].iov_len > 0) {
			volatile uint8_t *b = iov[i].iov_base;
			b[0] = b[0];
			b[iov[i].iov_len - 1] = b[iov[i].iov_len - 1];
		}
	}
	if (helpers)
		check_iov_helpers(f, iov, n, rb + wb);
	f->last = r;
	f->have_last = true;
	if (f->npend == NPEND) {
		vq_relchain(&f->vq, &f->pend[0], 0);
		memmove(&f->pend[0], &f->pend[1], sizeof(f->pend[0]) *
		    (NPEND - 1));
		f->npend--;
	}
	f->pend[f->npend++] = r;
}

static void
do_rel(struct fz *f)
{
	struct vq_req r;
	unsigned k = get8(f);
	uint32_t written = get32(f);
	uint64_t used_before = f->vq.vq_stats.vs_used, slot, id, len;
	bool live;

	if (f->npend == 0)
		return;
	k %= f->npend;
	r = f->pend[k];
	memmove(&f->pend[k], &f->pend[k + 1], sizeof(f->pend[0]) *
	    (f->npend - k - 1));
	f->npend--;
	if (f->have_last && f->last.vr_slot == r.vr_slot &&
	    f->last.vr_gen == r.vr_gen)
		f->have_last = false;
	live = r.vr_gen == f->vq.vq_gen && f->vq.vq_ready &&
	    !vq_broken(&f->vq) && f->vq.vq_inflight > 0;
	slot = f->vq.vq_used_idx & (f->size - 1);
	vq_relchain(&f->vq, &r, written);
	if (!live) {
		if (f->vq.vq_stats.vs_used != used_before)
			FAIL("stale completion written");
		return;
	}
	if (vq_broken(&f->vq))
		return;		/* the used ring left RAM: cannot happen */
	if (f->vq.vq_stats.vs_used != used_before + 1)
		FAIL("completion not written");
	id = get_le(f, f->used + 4 + 8 * slot, 4);
	len = get_le(f, f->used + 8 + 8 * slot, 4);
	if (id != r.vr_head || len != (written < r.vr_wbytes ? written :
	    r.vr_wbytes))
		FAIL("used elem {%ju, %ju} for head %u written %u",
		    (uintmax_t)id, (uintmax_t)len, r.vr_head, written);
}

static void
do_end(struct fz *f)
{
	uint16_t old = f->vq.vq_used_pub, new = f->vq.vq_used_idx;
	bool live = f->vq.vq_ready && !vq_broken(&f->vq), intr, want;
	uint64_t v;

	intr = vq_endchains(&f->vq);
	f->batch = 0;
	if (!live || vq_broken(&f->vq)) {
		if (intr)
			FAIL("interrupt from a dead queue");
		return;
	}
	if (new != old && get_le(f, f->used + 2, 2) != new)
		FAIL("used->idx not published");
	if ((f->feat & VIRTIO_F_EVENT_IDX) && f->vq.vq_notify &&
	    get_le(f, f->used + 4 + 8ULL * f->size, 2) != f->vq.vq_last_avail)
		FAIL("avail_event not written");
	if (new == old)
		want = false;
	else if (f->feat & VIRTIO_F_EVENT_IDX) {
		v = get_le(f, f->avail + 4 + 2ULL * f->size, 2);
		want = vq_need_event((uint16_t)v, new, old);
	} else {
		v = get_le(f, f->avail, 2);
		want = (v & VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
	}
	if (intr != want)
		FAIL("interrupt %d, expected %d", intr, want);
}

static void
setup(struct fz *f, const uint8_t *data, size_t size)
{
	unsigned s, fl, split, mode, par;

	memset(f, 0, sizeof(*f));
	f->p = data;
	f->end = data + size;
	memset(ram_a, 0, sizeof(ram_a));
	memset(ram_b, 0, sizeof(ram_b));
	memset(ram_c, 0, sizeof(ram_c));
	s = get8(f);
	f->size = (s & 0x80) ? (uint16_t)get16(f) : (uint16_t)(1u << (s % 11));
	if (!(s & 0x80))
		(void)get16(f);
	fl = get8(f);
	split = get16(f) % A_LEN;
	par = get16(f);
	gmem_init(&f->gm);
	if ((fl & 8) && split != 0) {
		if (gmem_add(&f->gm, 0, split, ram_a) != 0 ||
		    gmem_add(&f->gm, split, A_LEN - split, ram_a + split) != 0)
			abort();
	} else if (gmem_add(&f->gm, 0, A_LEN, ram_a) != 0)
		abort();
	if (gmem_add(&f->gm, B_GPA, B_LEN, ram_b) != 0 ||
	    gmem_add(&f->gm, C_GPA, C_LEN, ram_c) != 0)
		abort();
	f->feat = ((fl & 1) ? VIRTIO_F_INDIRECT_DESC : 0) |
	    ((fl & 2) ? VIRTIO_F_EVENT_IDX : 0) |
	    ((fl & 4) ? VIRTIO_F_RING_PACKED : 0);
	mode = (fl >> 4) & 3;
	switch (mode) {
	case 0:		/* contiguous from par*16 */
		f->desc = (uint64_t)(par % 0x400) * 16;
		f->avail = f->desc + 16ULL * f->size;
		f->used = (f->avail + 6 + 2ULL * f->size + 3) & ~3ULL;
		break;
	case 1:		/* across the A|B boundary */
		f->desc = B_GPA - 16ULL * (par % 64 + 1);
		f->avail = f->desc + 16ULL * f->size;
		f->used = (f->avail + 6 + 2ULL * f->size + 3) & ~3ULL;
		break;
	case 2:		/* from the input, maybe misaligned or off RAM */
		f->desc = (uint64_t)get16(f) * 4;
		f->avail = (uint64_t)get16(f) * 2 + (par & 1);
		f->used = (uint64_t)get16(f) * 4 + (par & 2);
		break;
	default:	/* in C, or wrapping */
		f->desc = (par & 1) ? UINT64_MAX - 15 : C_GPA;
		f->avail = C_GPA + 0x400;
		f->used = C_GPA + 0x800;
		break;
	}
	vq_create(&f->vq, "fuzz", maxsizes[fl >> 6]);
	f->maxsize = f->vq.vq_maxsize;
	do_init(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz f;
	unsigned op, steps = 0, n, off, k;

	setup(&f, data, size);
	while (f.p < f.end && steps++ < 4096) {
		op = get8(&f);
		switch (op & 15) {
		case 0:
			k = get8(&f);
			write_desc(&f, f.desc + 16ULL * (k % (f.size ? f.size :
			    1)));
			break;
		case 1:
			write_desc(&f, (uint64_t)get16(&f) * 2 % (A_LEN + B_LEN));
			break;
		case 2:
			k = get16(&f);
			put_le(&f, f.avail + 4 + 2ULL * (f.avail_idx &
			    (uint16_t)(f.size - 1)), k, 2);
			n = get8(&f);
			f.avail_idx += (op & 0x80) ? n * 256 : n;
			put_le(&f, f.avail + 2, f.avail_idx, 2);
			break;
		case 3:
			do_get(&f, (op & 0x10) != 0);
			break;
		case 4:
			do_rel(&f);
			break;
		case 5:
			do_end(&f);
			break;
		case 6:
			vq_reset(&f.vq);
			if (vq_broken(&f.vq) || f.vq.vq_ready)
				FAIL("reset left the queue live");
			f.batch = 0;
			if (op & 0x10)
				do_init(&f);
			break;
		case 7:
			off = get16(&f) % (A_LEN + B_LEN);
			n = get8(&f) % 32;
			for (k = 0; k < n; k++)
				put_le(&f, off + k, get8(&f), 1);
			break;
		case 8:
			vq_set_notify(&f.vq, (op & 0x10) != 0);
			break;
		case 9:
			(void)vq_has_descs(&f.vq);
			break;
		case 10:
			if (!f.have_last)
				break;
			k = f.vq.vq_last_avail;
			vq_retchain(&f.vq, &f.last);
			f.have_last = false;
			if (k != f.vq.vq_last_avail) {
				/* Taken back: the next batch call re-takes it. */
				if (f.npend == 0 || f.pend[f.npend - 1].vr_slot !=
				    f.last.vr_slot)
					FAIL("retchain of a chain not last");
				f.npend--;
				f.batch--;
			}
			break;
		case 11:
			put_le(&f, (op & 0x10) ? f.avail : f.avail + 4 +
			    2ULL * f.size, get16(&f), 2);
			break;
		default:
			break;
		}
	}
	return (0);
}
