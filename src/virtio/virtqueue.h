/*
 * virtqueue.h: the split-virtqueue core (virtio 1.2, section 2.7).
 *
 * The one place that touches a ring.  A transport (PCI modern, PCI
 * legacy, MMIO) embeds one struct vqueue per queue, calls vq_create()
 * once, vq_init() when the driver enables the queue and vq_reset() when
 * the driver resets the device or the queue.  A device model sees the
 * ring only through three calls, as bhyve's do (usr.sbin/bhyve/virtio.c):
 *
 *	while ((n = vq_getchain(vq, iov, nitems(iov), &req)) > 0) {
 *		... parse iov[0..req.vr_nread) (device-readable),
 *		    fill iov[req.vr_nread..+req.vr_nwrite) (device-writable) ...
 *		vq_relchain(vq, &req, written);
 *	}
 *	if (n < 0)
 *		... set DEVICE_NEEDS_RESET (the queue is broken) ...
 *	if (vq_endchains(vq))
 *		... send the used buffer notification (interrupt) ...
 *	if (vq_has_descs(vq))
 *		... more arrived during the batch: schedule another batch ...
 *
 * Devices never see a descriptor.  Every descriptor is read once from
 * guest memory into a local copy, checked, and only the copy is used
 * (Firecracker's DescriptorChain; bhyve CVE-2024-51563 is the bug class).
 *
 * Thread model: the core takes no lock.  All calls on one vqueue must be
 * serialized by the caller (one thread at a time: the device's notify
 * handler, or its completion thread, under a per-queue lock).  Different
 * queues are independent.  Ordering against the guest's vCPUs is the
 * core's job: the barriers the spec requires are inside these calls.
 */
#ifndef VIRTIO_VIRTQUEUE_H
#define VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "gmem.h"
#include "khyve.h"

/* Feature bits the core understands (virtio 1.2 section 6). */
#define VIRTIO_F_INDIRECT_DESC	(1ULL << 28)
#define VIRTIO_F_EVENT_IDX	(1ULL << 29)
#define VIRTIO_F_RING_PACKED	(1ULL << 34)	/* refused: split rings only */

/* Descriptor flags (2.7.5) and ring flags (2.7.6, 2.7.8). */
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	1

#define VQ_MAX_SIZE		32768	/* 2.7: the largest Queue Size */
/*
 * Entries an indirect table may have: a device limit (2.7.4.1 allows
 * one), 16 KiB of descriptors.  An indirect chain is bounded by its
 * table, not by the queue size: 2.7.5.3.1 asks drivers for the latter,
 * but a device that offers a seg_max above a small queue size still
 * works (DPDK's vhost is stricter and refuses tables over the size).
 */
#define VQ_INDIRECT_MAX		1024
/*
 * So a chain has at most vq_size direct descriptors plus VQ_INDIRECT_MAX
 * from one table, and, since every descriptor but the one naming the
 * table yields at least one iovec, no more than niov + 2 descriptors are
 * read before vq_getchain() gives up: work per chain is bounded by the
 * caller's niov, work per batch by vq_size chains.
 */

/* The rule a guest broke, kept in vq_rule when the queue breaks. */
enum vq_rule {
	VQ_RULE_NONE = 0,
	VQ_RULE_AVAIL_IDX,	/* avail->idx ran more than size ahead */
	VQ_RULE_INFLIGHT,	/* more than size chains with the device */
	VQ_RULE_HEAD,		/* head index >= queue size */
	VQ_RULE_NEXT,		/* next >= queue size */
	VQ_RULE_CHAIN_LEN,	/* chain longer than the queue size: a loop */
	VQ_RULE_INDIRECT_FEAT,	/* INDIRECT without VIRTIO_F_INDIRECT_DESC */
	VQ_RULE_INDIRECT_NEXT,	/* INDIRECT together with NEXT */
	VQ_RULE_INDIRECT_NESTED, /* INDIRECT inside an indirect table */
	VQ_RULE_INDIRECT_LEN,	/* table len 0 or not a multiple of 16 */
	VQ_RULE_INDIRECT_MAX,	/* table over VQ_INDIRECT_MAX entries */
	VQ_RULE_INDIRECT_RAM,	/* table not wholly in RAM */
	VQ_RULE_INDIRECT_IDX,	/* next >= table length */
	VQ_RULE_INDIRECT_LOOP,	/* chain longer than its table: a loop */
	VQ_RULE_WRITE_ORDER,	/* device-readable after device-writable */
	VQ_RULE_BUF_RAM,	/* buffer not wholly in RAM (or wraps) */
	VQ_RULE_TOTAL_LEN,	/* chain over UINT32_MAX bytes */
	VQ_RULE_NIOV,		/* chain needs more iovecs than the caller has */
	VQ_RULE_RING_RAM,	/* a ring access failed (RAM changed) */
	VQ_RULE_COUNT
};

/* A chain taken by vq_getchain(), to be given back with vq_relchain(). */
struct vq_req {
	uint16_t	vr_head;	/* head descriptor index */
	unsigned	vr_gen;		/* queue generation it came from */
	uint16_t	vr_slot;	/* available ring position it came from */
	unsigned	vr_nread;	/* iov[0..nread) are device-readable */
	unsigned	vr_nwrite;	/* then nwrite device-writable ones */
	uint64_t	vr_rbytes;	/* bytes in the readable iovecs */
	uint64_t	vr_wbytes;	/* bytes in the writable iovecs */
	unsigned	vr_ndesc;	/* buffer descriptors (zero-length too) */
	unsigned	vr_nzero;	/* of which zero-length */
	bool		vr_indirect;	/* went through an indirect table */
};

struct vq_stats {
	uint64_t	vs_chains;	/* chains handed out */
	uint64_t	vs_descs;	/* buffer descriptors in them */
	uint64_t	vs_used;	/* used elements written */
	uint64_t	vs_batches;	/* vq_endchains() calls on a live queue */
	uint64_t	vs_intr;	/* ... that asked for an interrupt */
	uint64_t	vs_stale;	/* completions dropped (old generation) */
	uint64_t	vs_errors;	/* times the queue broke */
};

struct vqueue {
	/* Set once by vq_create(). */
	const char	*vq_name;	/* for log messages */
	uint16_t	vq_maxsize;	/* the device's largest queue size */

	/* Set by vq_init(); vq_ready says they are valid. */
	bool		vq_ready;	/* configured and enabled */
	struct gmem	*vq_mem;	/* guest RAM */
	uint16_t	vq_size;	/* Queue Size, a power of two */
	uint64_t	vq_features;	/* negotiated: INDIRECT_DESC, EVENT_IDX */
	uint64_t	vq_desc_gpa;	/* descriptor table (Descriptor Area) */
	uint64_t	vq_avail_gpa;	/* available ring (Driver Area) */
	uint64_t	vq_used_gpa;	/* used ring (Device Area) */
	uint8_t		*vq_desc_hva;	/* host view when in one region */
	uint8_t		*vq_avail_hva;	/* ... else NULL: per-access lookup */
	uint8_t		*vq_used_hva;

	/* Ring state, private to the core. */
	uint16_t	vq_last_avail;	/* next avail ring slot to take */
	uint16_t	vq_avail_snap;	/* avail->idx read for this batch */
	bool		vq_in_batch;	/* vq_avail_snap is valid */
	uint16_t	vq_used_idx;	/* next used ring slot to fill */
	uint16_t	vq_used_pub;	/* used->idx as last published */
	bool		vq_notify;	/* driver notifications wanted */
	unsigned	vq_inflight;	/* chains taken, not yet released */
	unsigned	vq_gen;		/* bumped by every init and reset */
	bool		vq_broken;	/* a guest broke a rule; see vq_rule */
	int		vq_error;	/* what getchain returns when broken */
	enum vq_rule	vq_rule;	/* the rule, for logs and tests */
	struct vq_stats	vq_stats;
};

/*
 * Prepare vq for its transport: name (kept by pointer, for log messages)
 * and the device's largest queue size (0 means VQ_MAX_SIZE).  The queue
 * is unconfigured (vq_ready false) until vq_init().
 */
void	vq_create(struct vqueue *vq, const char *name, uint16_t maxsize);

/*
 * Configure and enable the queue: size entries, the three areas at the
 * guest-physical addresses the driver gave (for a legacy transport, the
 * ones it computed from the page frame number), and the negotiated
 * features.  Checks (2.7, 2.7.1): size a power of two in 1..32768 and <=
 * vq_maxsize; desc 16-aligned, avail 2-aligned, used 4-aligned; each
 * whole area (16*size, 6+2*size, 6+8*size bytes) in guest RAM, without
 * overflow; no VIRTIO_F_RING_PACKED.  Always starts a new generation, so
 * completions of chains taken before are dropped.  mem must not change
 * while the queue is configured.  Returns 0, or -EINVAL and leaves the
 * queue unconfigured.  Writes nothing to guest memory.
 */
int	vq_init(struct vqueue *vq, struct gmem *mem, uint16_t size,
	    uint64_t desc, uint64_t avail, uint64_t used, uint64_t features)
	    __must_check;

/*
 * Return the queue to the unconfigured state (device or queue reset)
 * and start a new generation: chains still in flight may be given back
 * later with vq_relchain(), which then drops them.  Clears vq_broken.
 */
void	vq_reset(struct vqueue *vq);

/*
 * Take the next available chain.  Fills iov[0..niov) with host iovecs,
 * device-readable ones first, then device-writable ones; each iovec with
 * iov_len > 0 lies wholly within one RAM region (a buffer crossing from
 * one region into an adjacent one takes two); a zero-length descriptor
 * gives an iovec {NULL, 0}.  *req gets the head, generation, counts and
 * byte totals (zeroed first, so it is never stale).
 *
 * Returns 1 with a chain; 0 when none is available in this batch or the
 * queue is unconfigured; or a negative errno when the guest broke a rule
 * of section 2.7: -EINVAL (bad index, flags, order or avail->idx),
 * -ELOOP (chain longer than the queue or its indirect table), -EFAULT
 * (buffer or indirect table not in RAM), -EMSGSIZE (more than UINT32_MAX
 * bytes), -E2BIG (more than niov iovecs needed).  An error marks the
 * queue broken, is logged once (rate-limited), and every later call
 * returns it until vq_reset() or vq_init().
 *
 * A batch runs from the first call after vq_endchains() (or vq_init()),
 * which reads avail->idx once, to the next vq_endchains(): it hands out
 * at most vq_size chains, however the guest moves avail->idx meanwhile.
 */
int	vq_getchain(struct vqueue *vq, struct iovec *iov, unsigned niov,
	    struct vq_req *req) __must_check;

/*
 * Undo the vq_getchain() that returned req, which must be the chain
 * taken last (no other vq_getchain() since): the next vq_getchain()
 * takes that available ring slot again, re-reading and re-checking it.
 * For a device that took a chain it cannot use yet (a network receive
 * buffer too small for the packet at hand).  Anything else is ignored
 * and logged (a device bug).
 */
void	vq_retchain(struct vqueue *vq, const struct vq_req *req);

/*
 * Give a chain back: write the used element {req->vr_head, written} to
 * the used ring.  written is clamped to req->vr_wbytes (saying how many
 * bytes the device really wrote is the device's duty, 2.7.8.2).  Chains
 * may be given back in any order (2.7.8: used order need not follow
 * available order).  The element becomes visible to the guest at the
 * next vq_endchains(), which publishes used->idx.  A chain from an older
 * generation (the queue was reset meanwhile), or any chain on a broken
 * or unconfigured queue, is dropped without touching guest memory.
 */
void	vq_relchain(struct vqueue *vq, const struct vq_req *req,
	    uint32_t written);

/*
 * End a batch: publish used->idx (after a write barrier, so the guest
 * sees the elements first), with VIRTIO_F_EVENT_IDX write avail_event =
 * the next slot to take (when notifications are enabled, 2.7.10), then a
 * full barrier, then decide whether the driver wants a used buffer
 * notification (2.7.7): with EVENT_IDX when used_event lies in the
 * published range (vq_need_event()), else unless the driver set
 * VIRTQ_AVAIL_F_NO_INTERRUPT.  Returns true when the caller must
 * interrupt the guest; false when nothing new was published, the
 * driver suppressed it, or the queue is broken or unconfigured.
 */
bool	vq_endchains(struct vqueue *vq);

/*
 * True when the driver has made chains available that were not taken
 * yet (reads avail->idx afresh, after a full barrier).  False on a
 * broken or unconfigured queue.  Does not change the current batch.
 */
bool	vq_has_descs(struct vqueue *vq);

/*
 * Ask the driver for available buffer notifications (enable) or tell it
 * they are not needed (a polling device), 2.7.10: VIRTQ_USED_F_NO_NOTIFY
 * in used->flags, or with EVENT_IDX avail_event (refreshed by every
 * vq_endchains() while enabled, left stale while disabled).  Ends with a
 * full barrier: after enabling, call vq_has_descs() to catch chains made
 * available before the driver could see the change.
 */
void	vq_set_notify(struct vqueue *vq, bool enable);

/* True once the guest broke a rule; vq_rule says which. */
bool	vq_broken(const struct vqueue *vq);

/* A short description of a rule, for messages. */
const char *vq_rule_name(enum vq_rule rule);

/*
 * The event-index test of 2.7.7.2 and 2.7.10 (the spec's
 * vring_need_event(), appendix "virtio_queue.h"): true when event_idx is
 * in [old_idx, new_idx) modulo 2^16, i.e. the other side asked to be
 * told when the index passed event_idx and this update moved it from
 * old_idx to new_idx.  The u16 wrap is intended.
 */
static inline bool
vq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return ((uint16_t)(new_idx - event_idx - 1) <
	    (uint16_t)(new_idx - old_idx));
}

#endif /* VIRTIO_VIRTQUEUE_H */
