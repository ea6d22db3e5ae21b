/*
 * virtqueue.c: the split-virtqueue core (virtio 1.2 section 2.7).
 *
 * Shape from bhyve's usr.sbin/bhyve/virtio.c (vq_getchain, vq_relchain,
 * vq_endchains) and kvmtool's virtio/core.c; the copy-check-use walk
 * from Firecracker's DescriptorChain (src/vmm/src/devices/virtio/
 * queue.rs).  Section numbers below are those of virtio 1.2.
 *
 * Guest memory is reached only through gmem.  The three ring areas are
 * checked once at vq_init(); when an area lies in one RAM region its
 * host address is kept, otherwise each access is translated afresh
 * (an area may span adjacent regions, and a field may even straddle
 * them if a region boundary is oddly aligned: then the access is a
 * copy through gmem_read/gmem_write).
 *
 * Shared fields are read with relaxed atomic loads, or copied out with
 * memcpy followed by a compiler barrier, so a value is fetched from guest
 * memory exactly once: the compiler may not re-load it later, when the
 * guest may have changed it.  Ordering against the driver uses explicit
 * fences at the points the spec names (2.7.13.3.1, 2.7.8.2, 2.7.10).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include "log.h"
#include "virtio/virtqueue.h"

/* struct virtq_desc (2.7.5), as it sits in guest memory (little-endian). */
struct vring_desc {
	uint64_t	addr;
	uint32_t	len;
	uint16_t	flags;
	uint16_t	next;
};
_Static_assert(sizeof(struct vring_desc) == 16, "virtq_desc is 16 bytes");

/* Offsets into the available ring (2.7.6) and the used ring (2.7.8). */
#define AVAIL_FLAGS		0
#define AVAIL_IDX		2
#define AVAIL_RING(i)		(4 + 2 * (uint64_t)(i))
#define AVAIL_USED_EVENT(sz)	AVAIL_RING(sz)
#define USED_FLAGS		0
#define USED_IDX		2
#define USED_RING(i)		(4 + 8 * (uint64_t)(i))
#define USED_AVAIL_EVENT(sz)	USED_RING(sz)

/* Area sizes, from the table at the start of 2.7. */
#define DESC_AREA(sz)		(16 * (uint64_t)(sz))
#define AVAIL_AREA(sz)		(6 + 2 * (uint64_t)(sz))
#define USED_AREA(sz)		(6 + 8 * (uint64_t)(sz))

static const struct {
	const char	*name;
	int		error;
} vq_rules[VQ_RULE_COUNT] = {
	[VQ_RULE_NONE] = { "none", 0 },
	[VQ_RULE_AVAIL_IDX] = { "avail idx more than queue size ahead "
	    "(2.7.13.3)", -EINVAL },
	[VQ_RULE_INFLIGHT] = { "more chains in flight than the queue size "
	    "(2.7.5)", -EINVAL },
	[VQ_RULE_HEAD] = { "head index >= queue size (2.7.6)", -EINVAL },
	[VQ_RULE_NEXT] = { "next index >= queue size (2.7.5)", -EINVAL },
	[VQ_RULE_CHAIN_LEN] = { "chain longer than the queue size "
	    "(2.7.5.3.1)", -ELOOP },
	[VQ_RULE_INDIRECT_FEAT] = { "INDIRECT flag without "
	    "VIRTIO_F_INDIRECT_DESC (2.7.5.3.1)", -EINVAL },
	[VQ_RULE_INDIRECT_NEXT] = { "INDIRECT flag with NEXT (2.7.5.3.1)",
	    -EINVAL },
	[VQ_RULE_INDIRECT_NESTED] = { "INDIRECT flag in an indirect table "
	    "(2.7.5.3.1)", -EINVAL },
	[VQ_RULE_INDIRECT_LEN] = { "indirect table length not a non-zero "
	    "multiple of 16 (2.7.5.3)", -EINVAL },
	[VQ_RULE_INDIRECT_MAX] = { "indirect table over 1024 entries "
	    "(2.7.4.1)", -EINVAL },
	[VQ_RULE_INDIRECT_RAM] = { "indirect table not in RAM (2.7.5.3)",
	    -EFAULT },
	[VQ_RULE_INDIRECT_IDX] = { "indirect next >= table length "
	    "(2.7.5.3)", -EINVAL },
	[VQ_RULE_INDIRECT_LOOP] = { "indirect chain longer than its table "
	    "(2.7.5.3)", -ELOOP },
	[VQ_RULE_WRITE_ORDER] = { "device-readable descriptor after a "
	    "device-writable one (2.7.4.2)", -EINVAL },
	[VQ_RULE_BUF_RAM] = { "buffer not in RAM (2.7.5)", -EFAULT },
	[VQ_RULE_TOTAL_LEN] = { "chain longer than 2^32-1 bytes (2.7.5.2)",
	    -EMSGSIZE },
	[VQ_RULE_NIOV] = { "chain has more segments than the device "
	    "takes (2.7.4.1)", -E2BIG },
	[VQ_RULE_RING_RAM] = { "ring access outside RAM", -EFAULT },
};

const char *
vq_rule_name(enum vq_rule rule)
{
	if ((unsigned)rule >= VQ_RULE_COUNT)
		return ("unknown");
	return (vq_rules[rule].name);
}

bool
vq_broken(const struct vqueue *vq)
{
	return (vq->vq_broken);
}

/*
 * Mark the queue broken for rule; returns the errno every later
 * vq_getchain() returns.  Logged once per break (later calls return
 * before they get here), and rate-limited across queues.
 */
static int
vq_fail(struct vqueue *vq, enum vq_rule rule)
{
	vq->vq_broken = true;
	vq->vq_rule = rule;
	vq->vq_error = vq_rules[rule].error;
	vq->vq_stats.vs_errors++;
	log_warnx_rl("%s: virtqueue broken: %s", vq->vq_name,
	    vq_rules[rule].name);
	return (vq->vq_error);
}

/* A fetched copy must not be replaced by a second fetch: see the top. */
static inline void
copy_once(void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Host address of bytes [off, off+len) of a ring area, or NULL. */
static void *
area_ptr(const struct vqueue *vq, uint8_t *hva, uint64_t gpa, uint64_t off,
    uint64_t len)
{
	if (hva != NULL)
		return (hva + off);
	return (gmem_ptr(vq->vq_mem, gpa + off, len));
}

static int
ring_load16(const struct vqueue *vq, uint8_t *hva, uint64_t gpa, uint64_t off,
    uint16_t *val)
{
	uint16_t *p, v;

	p = area_ptr(vq, hva, gpa, off, 2);
	if (p != NULL && ((uintptr_t)p & 1) == 0)
		v = __atomic_load_n(p, __ATOMIC_RELAXED);
	else if (gmem_read(vq->vq_mem, gpa + off, &v, 2) != 0)
		return (-EFAULT);
	else
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	*val = le16toh(v);
	return (0);
}

static int
ring_store16(const struct vqueue *vq, uint8_t *hva, uint64_t gpa,
    uint64_t off, uint16_t val)
{
	uint16_t *p, v = htole16(val);

	p = area_ptr(vq, hva, gpa, off, 2);
	if (p != NULL && ((uintptr_t)p & 1) == 0) {
		__atomic_store_n(p, v, __ATOMIC_RELAXED);
		return (0);
	}
	return (gmem_write(vq->vq_mem, gpa + off, &v, 2));
}

#define AVAIL_LOAD(vq, off, v)						\
	ring_load16((vq), (vq)->vq_avail_hva, (vq)->vq_avail_gpa, (off), (v))
#define USED_STORE(vq, off, v)						\
	ring_store16((vq), (vq)->vq_used_hva, (vq)->vq_used_gpa, (off), (v))

/*
 * Start a new generation with no configuration; the name, the maximum
 * size and the counters stay.
 */
static void
vq_clear(struct vqueue *vq)
{
	const char *name = vq->vq_name;
	uint16_t maxsize = vq->vq_maxsize;
	unsigned gen = vq->vq_gen + 1;
	struct vq_stats stats = vq->vq_stats;

	memset(vq, 0, sizeof(*vq));
	vq->vq_name = name;
	vq->vq_maxsize = maxsize;
	vq->vq_gen = gen;
	vq->vq_stats = stats;
}

void
vq_create(struct vqueue *vq, const char *name, uint16_t maxsize)
{
	memset(vq, 0, sizeof(*vq));
	vq->vq_name = name != NULL ? name : "virtqueue";
	/* A host setting: round anything odd down to a power of two. */
	if (maxsize == 0 || maxsize > VQ_MAX_SIZE)
		maxsize = VQ_MAX_SIZE;
	while ((maxsize & (maxsize - 1)) != 0)
		maxsize &= maxsize - 1;
	vq->vq_maxsize = maxsize;
}

void
vq_reset(struct vqueue *vq)
{
	vq_clear(vq);
}

/* [gpa, gpa+len) is RAM, computed without wrapping. */
static bool
area_ok(const struct gmem *mem, uint64_t gpa, uint64_t len)
{
	return (gpa + len > gpa && gmem_is_ram(mem, gpa, len));
}

int
vq_init(struct vqueue *vq, struct gmem *mem, uint16_t size, uint64_t desc,
    uint64_t avail, uint64_t used, uint64_t features)
{
	const char *why;

	vq_clear(vq);
	if (size == 0 || size > VQ_MAX_SIZE || (size & (size - 1)) != 0)
		why = "size not a power of two in 1..32768 (2.7)";
	else if (size > vq->vq_maxsize)
		why = "size over the device's maximum";
	else if ((features & VIRTIO_F_RING_PACKED) != 0)
		why = "packed ring negotiated; only split rings are supported";
	else if ((desc & 15) != 0 || (avail & 1) != 0 || (used & 3) != 0)
		why = "ring area misaligned (2.7.1)";
	else if (!area_ok(mem, desc, DESC_AREA(size)))
		why = "descriptor table not in RAM";
	else if (!area_ok(mem, avail, AVAIL_AREA(size)))
		why = "available ring not in RAM";
	else if (!area_ok(mem, used, USED_AREA(size)))
		why = "used ring not in RAM";
	else
		why = NULL;
	if (why != NULL) {
		log_warnx_rl("%s: queue not enabled: %s", vq->vq_name, why);
		return (-EINVAL);
	}
	vq->vq_mem = mem;
	vq->vq_size = size;
	vq->vq_features = features &
	    (VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX);
	vq->vq_desc_gpa = desc;
	vq->vq_avail_gpa = avail;
	vq->vq_used_gpa = used;
	vq->vq_desc_hva = gmem_ptr(mem, desc, DESC_AREA(size));
	vq->vq_avail_hva = gmem_ptr(mem, avail, AVAIL_AREA(size));
	vq->vq_used_hva = gmem_ptr(mem, used, USED_AREA(size));
	vq->vq_notify = true;
	vq->vq_ready = true;
	return (0);
}

/* A chain being walked. */
struct walk {
	struct iovec	*iov;
	unsigned	niov;
	struct vq_req	*req;
	uint64_t	total;		/* bytes so far, both directions */
	bool		writing;	/* a device-writable one was seen */
};

/*
 * Add one buffer descriptor to the chain: an iovec per RAM region it
 * covers, or {NULL, 0} for a zero-length one.
 */
static int
walk_buf(struct vqueue *vq, struct walk *w, const struct vring_desc *d)
{
	struct vq_req *r = w->req;
	uint64_t gpa = d->addr, left = d->len, n;
	unsigned *cnt;
	void *p;

	/* 2.7.4.2: device-writable elements follow device-readable ones. */
	if ((d->flags & VIRTQ_DESC_F_WRITE) != 0)
		w->writing = true;
	else if (w->writing)
		return (vq_fail(vq, VQ_RULE_WRITE_ORDER));
	/* 2.7.5.2: no chain over 2^32 bytes; used.len is 32 bits. */
	w->total += d->len;
	if (w->total > UINT32_MAX)
		return (vq_fail(vq, VQ_RULE_TOTAL_LEN));
	cnt = w->writing ? &r->vr_nwrite : &r->vr_nread;
	if (w->writing)
		r->vr_wbytes += d->len;
	else
		r->vr_rbytes += d->len;
	r->vr_ndesc++;
	if (left == 0) {
		if (r->vr_nread + r->vr_nwrite == w->niov)
			return (vq_fail(vq, VQ_RULE_NIOV));
		w->iov[r->vr_nread + r->vr_nwrite] =
		    (struct iovec){ .iov_base = NULL, .iov_len = 0 };
		(*cnt)++;
		r->vr_nzero++;
		return (0);
	}
	if (gpa + left < gpa)
		return (vq_fail(vq, VQ_RULE_BUF_RAM));
	while (left > 0) {
		p = gmem_ptr_prefix(vq->vq_mem, gpa, left, &n);
		if (p == NULL)
			return (vq_fail(vq, VQ_RULE_BUF_RAM));
		if (r->vr_nread + r->vr_nwrite == w->niov)
			return (vq_fail(vq, VQ_RULE_NIOV));
		w->iov[r->vr_nread + r->vr_nwrite] =
		    (struct iovec){ .iov_base = p, .iov_len = (size_t)n };
		(*cnt)++;
		gpa += n;
		left -= n;
	}
	return (0);
}

/*
 * Read descriptor idx of a table (the queue's own when tbl_hva/tbl_gpa
 * are the descriptor area's) once into *d, in host byte order.
 */
static int
read_desc(const struct vqueue *vq, const uint8_t *tbl_hva, uint64_t tbl_gpa,
    unsigned idx, struct vring_desc *d)
{
	struct vring_desc raw;

	if (tbl_hva != NULL)
		copy_once(&raw, tbl_hva + 16 * (uint64_t)idx, sizeof(raw));
	else if (gmem_read(vq->vq_mem, tbl_gpa + 16 * (uint64_t)idx, &raw,
	    sizeof(raw)) != 0)
		return (-EFAULT);
	else
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	d->addr = le64toh(raw.addr);
	d->len = le32toh(raw.len);
	d->flags = le16toh(raw.flags);
	d->next = le16toh(raw.next);
	return (0);
}

/*
 * Walk the chain at head into iov.  Each descriptor is read once into d
 * and only d is used.  Loops are caught by counting: a direct chain has
 * at most vq_size descriptors, an indirect one at most its table's
 * entries (2.7.5.3.1: "A driver MUST NOT create a descriptor chain
 * longer than the Queue Size of the device").
 */
static int
walk_chain(struct vqueue *vq, uint16_t head, struct walk *w)
{
	const uint8_t *tbl_hva = vq->vq_desc_hva;
	uint64_t tbl_gpa = vq->vq_desc_gpa;
	unsigned tbl_len = vq->vq_size, seen = 0, idx = head;
	bool indirect = false;
	struct vring_desc d;
	int error;

	for (;;) {
		if (seen == tbl_len)
			return (vq_fail(vq, indirect ? VQ_RULE_INDIRECT_LOOP :
			    VQ_RULE_CHAIN_LEN));
		seen++;
		if (read_desc(vq, tbl_hva, tbl_gpa, idx, &d) != 0)
			return (vq_fail(vq, indirect ? VQ_RULE_INDIRECT_RAM :
			    VQ_RULE_RING_RAM));
		if ((d.flags & VIRTQ_DESC_F_INDIRECT) != 0) {
			/* 2.7.5.3.1; the WRITE flag here is ignored (2.7.5.3.2). */
			if ((vq->vq_features & VIRTIO_F_INDIRECT_DESC) == 0)
				return (vq_fail(vq, VQ_RULE_INDIRECT_FEAT));
			if (indirect)
				return (vq_fail(vq, VQ_RULE_INDIRECT_NESTED));
			if ((d.flags & VIRTQ_DESC_F_NEXT) != 0)
				return (vq_fail(vq, VQ_RULE_INDIRECT_NEXT));
			if (d.len == 0 || (d.len & 15) != 0)
				return (vq_fail(vq, VQ_RULE_INDIRECT_LEN));
			if (d.len / 16 > VQ_INDIRECT_MAX)
				return (vq_fail(vq, VQ_RULE_INDIRECT_MAX));
			if (!area_ok(vq->vq_mem, d.addr, d.len))
				return (vq_fail(vq, VQ_RULE_INDIRECT_RAM));
			tbl_gpa = d.addr;
			tbl_len = d.len / 16;
			tbl_hva = gmem_ptr(vq->vq_mem, d.addr, d.len);
			idx = 0;
			seen = 0;
			indirect = true;
			w->req->vr_indirect = true;
			continue;
		}
		if ((error = walk_buf(vq, w, &d)) != 0)
			return (error);
		if ((d.flags & VIRTQ_DESC_F_NEXT) == 0)
			return (0);
		if (d.next >= tbl_len)
			return (vq_fail(vq, indirect ? VQ_RULE_INDIRECT_IDX :
			    VQ_RULE_NEXT));
		idx = d.next;
	}
}

int
vq_getchain(struct vqueue *vq, struct iovec *iov, unsigned niov,
    struct vq_req *req)
{
	struct walk w = { .iov = iov, .niov = niov, .req = req };
	uint16_t idx, head, slot;
	int error;

	memset(req, 0, sizeof(*req));
	if (vq->vq_broken)
		return (vq->vq_error);
	if (!vq->vq_ready)
		return (0);
	if (!vq->vq_in_batch) {
		/*
		 * One read of avail->idx per batch.  The acquire fence pairs
		 * with the driver's barrier before its idx update (2.7.13.3.1):
		 * ring entries and descriptors are read only after it.
		 */
		if (AVAIL_LOAD(vq, AVAIL_IDX, &idx) != 0)
			return (vq_fail(vq, VQ_RULE_RING_RAM));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		/* A driver cannot expose more than size heads (2.7.13.3). */
		if ((uint16_t)(idx - vq->vq_last_avail) > vq->vq_size)
			return (vq_fail(vq, VQ_RULE_AVAIL_IDX));
		vq->vq_avail_snap = idx;
		vq->vq_in_batch = true;
	}
	if (vq->vq_last_avail == vq->vq_avail_snap)
		return (0);
	/*
	 * Every chain holds a descriptor of the size-entry table until its
	 * used element reaches the driver, so a driver never has more than
	 * size chains with the device: more means reused descriptors.
	 */
	if (vq->vq_inflight >= vq->vq_size)
		return (vq_fail(vq, VQ_RULE_INFLIGHT));
	slot = vq->vq_last_avail & (vq->vq_size - 1);
	if (AVAIL_LOAD(vq, AVAIL_RING(slot), &head) != 0)
		return (vq_fail(vq, VQ_RULE_RING_RAM));
	if (head >= vq->vq_size)
		return (vq_fail(vq, VQ_RULE_HEAD));
	if ((error = walk_chain(vq, head, &w)) != 0) {
		memset(req, 0, sizeof(*req));
		return (error);
	}
	req->vr_head = head;
	req->vr_gen = vq->vq_gen;
	req->vr_slot = vq->vq_last_avail;
	vq->vq_last_avail++;
	vq->vq_inflight++;
	vq->vq_stats.vs_chains++;
	vq->vq_stats.vs_descs += req->vr_ndesc;
	return (1);
}

void
vq_retchain(struct vqueue *vq, const struct vq_req *req)
{
	if (req->vr_gen != vq->vq_gen || !vq->vq_ready || vq->vq_broken ||
	    req->vr_slot != (uint16_t)(vq->vq_last_avail - 1) ||
	    vq->vq_inflight == 0) {
		log_warnx_rl("%s: vq_retchain of chain %u out of turn",
		    vq->vq_name, req->vr_head);
		return;
	}
	vq->vq_last_avail--;
	vq->vq_inflight--;
	vq->vq_stats.vs_chains--;
	vq->vq_stats.vs_descs -= req->vr_ndesc;
}

void
vq_relchain(struct vqueue *vq, const struct vq_req *req, uint32_t written)
{
	uint16_t slot;
	uint32_t elem[2];
	void *p;
	int error;

	if (req->vr_gen != vq->vq_gen || !vq->vq_ready || vq->vq_broken) {
		vq->vq_stats.vs_stale++;
		return;
	}
	if (req->vr_head >= vq->vq_size || vq->vq_inflight == 0) {
		/* A device bug, not the guest's: do not break the queue. */
		log_warnx_rl("%s: vq_relchain of chain %u not in flight",
		    vq->vq_name, req->vr_head);
		return;
	}
	if (written > req->vr_wbytes)
		written = (uint32_t)req->vr_wbytes;
	/* struct virtq_used_elem (2.7.8): le32 id, le32 len. */
	elem[0] = htole32(req->vr_head);
	elem[1] = htole32(written);
	slot = vq->vq_used_idx & (vq->vq_size - 1);
	p = area_ptr(vq, vq->vq_used_hva, vq->vq_used_gpa, USED_RING(slot),
	    sizeof(elem));
	if (p != NULL) {
		memcpy(p, elem, sizeof(elem));
		error = 0;
	} else
		error = gmem_write(vq->vq_mem, vq->vq_used_gpa + USED_RING(slot),
		    elem, sizeof(elem));
	if (error != 0) {
		(void)vq_fail(vq, VQ_RULE_RING_RAM);
		return;
	}
	vq->vq_used_idx++;
	vq->vq_inflight--;
	vq->vq_stats.vs_used++;
}

bool
vq_endchains(struct vqueue *vq)
{
	uint16_t old, new, val;
	bool intr;

	vq->vq_in_batch = false;
	if (!vq->vq_ready || vq->vq_broken)
		return (false);
	vq->vq_stats.vs_batches++;
	old = vq->vq_used_pub;
	new = vq->vq_used_idx;
	/*
	 * 2.7.10: ask for a notification when the driver makes the next
	 * slot available.  Done at every batch end while notifications are
	 * on, so the driver does not kick for chains already taken.
	 */
	if ((vq->vq_features & VIRTIO_F_EVENT_IDX) != 0 && vq->vq_notify &&
	    USED_STORE(vq, USED_AVAIL_EVENT(vq->vq_size), vq->vq_last_avail) != 0)
		goto fault;
	if (new != old) {
		/* 2.7.8.2: the elements (and len) before used->idx. */
		__atomic_thread_fence(__ATOMIC_RELEASE);
		if (USED_STORE(vq, USED_IDX, new) != 0)
			goto fault;
		vq->vq_used_pub = new;
	}
	/*
	 * The used->idx (and avail_event) stores must be visible before
	 * used_event or flags is read: the driver re-enables interrupts by
	 * writing used_event and then re-reads used->idx, and without a
	 * store-load barrier both sides can miss each other's update (the
	 * missed-interrupt race).
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (new == old)
		return (false);
	if ((vq->vq_features & VIRTIO_F_EVENT_IDX) != 0) {
		/* 2.7.7.2: notify when used->idx passed used_event. */
		if (AVAIL_LOAD(vq, AVAIL_USED_EVENT(vq->vq_size), &val) != 0)
			goto fault;
		intr = vq_need_event(val, new, old);
	} else {
		/* 2.7.7.2: flags 1 means no notification wanted. */
		if (AVAIL_LOAD(vq, AVAIL_FLAGS, &val) != 0)
			goto fault;
		intr = (val & VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
	}
	if (intr)
		vq->vq_stats.vs_intr++;
	return (intr);
fault:
	(void)vq_fail(vq, VQ_RULE_RING_RAM);
	return (false);
}

bool
vq_has_descs(struct vqueue *vq)
{
	uint16_t idx;

	if (!vq->vq_ready || vq->vq_broken)
		return (false);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (AVAIL_LOAD(vq, AVAIL_IDX, &idx) != 0) {
		(void)vq_fail(vq, VQ_RULE_RING_RAM);
		return (false);
	}
	return (idx != vq->vq_last_avail);
}

void
vq_set_notify(struct vqueue *vq, bool enable)
{
	int error;

	if (!vq->vq_ready || vq->vq_broken)
		return;
	vq->vq_notify = enable;
	/*
	 * 2.7.10.2: with EVENT_IDX flags stays 0 and avail_event does the
	 * work; left stale when disabled, it lets the driver kick again
	 * only after 2^16 more chains.  Without it, the NO_NOTIFY flag.
	 */
	if ((vq->vq_features & VIRTIO_F_EVENT_IDX) != 0)
		error = enable ? USED_STORE(vq, USED_AVAIL_EVENT(vq->vq_size),
		    vq->vq_last_avail) : 0;
	else
		error = USED_STORE(vq, USED_FLAGS,
		    enable ? 0 : VIRTQ_USED_F_NO_NOTIFY);
	if (error != 0) {
		(void)vq_fail(vq, VQ_RULE_RING_RAM);
		return;
	}
	/* Make the change visible before the caller's vq_has_descs(). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
