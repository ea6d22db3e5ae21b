/*
 * virtio_blk.h: virtio-blk requests on top of the kit's virtio driver
 * (virtio 1.2 §5.2), for the block tests and benchmarks.  CPL0 only.
 *
 * One request queue (queue 0).  A request is a chain: the 16-byte header
 * (device-readable), for DISCARD and WRITE_ZEROES one 16-byte segment,
 * the caller's data buffers (device-writable for IN and GET_ID, readable
 * for OUT), and the status byte (device-writable), §5.2.6.  Header,
 * segment and status live in a per-head slot, so as many requests can be
 * in flight as the ring has room for; the slot's status is set to 0xff
 * before submission, so a status the device never wrote shows.
 */
#ifndef KIT_VIRTIO_BLK_H
#define KIT_VIRTIO_BLK_H

#include "virtio.h"

/* Feature bits (§5.2.3). */
#define VBLK_F_SIZE_MAX		(1ULL << 1)
#define VBLK_F_SEG_MAX		(1ULL << 2)
#define VBLK_F_RO		(1ULL << 5)
#define VBLK_F_BLK_SIZE		(1ULL << 6)
#define VBLK_F_FLUSH		(1ULL << 9)
#define VBLK_F_TOPOLOGY		(1ULL << 10)
#define VBLK_F_MQ		(1ULL << 12)
#define VBLK_F_DISCARD		(1ULL << 13)
#define VBLK_F_WRITE_ZEROES	(1ULL << 14)

/* struct virtio_blk_config offsets (§5.2.4). */
#define VBLK_CFG_CAPACITY	0
#define VBLK_CFG_SIZE_MAX	8
#define VBLK_CFG_SEG_MAX	12
#define VBLK_CFG_BLK_SIZE	20
#define VBLK_CFG_NUM_QUEUES	34
#define VBLK_CFG_MAX_DISCARD	36
#define VBLK_CFG_MAX_WZ		48

/* Request types and statuses (§5.2.6). */
#define VBLK_T_IN		0
#define VBLK_T_OUT		1
#define VBLK_T_FLUSH		4
#define VBLK_T_GET_ID		8
#define VBLK_T_DISCARD		11
#define VBLK_T_WRITE_ZEROES	13
#define VBLK_S_OK		0
#define VBLK_S_IOERR		1
#define VBLK_S_UNSUPP		2
#define VBLK_S_NONE		0xff	/* the device wrote no status */

#define VBLK_SECTOR		512
#define VBLK_ID_BYTES		20
#define VBLK_WZ_UNMAP		1	/* write-zeroes flag */

struct vblk_slot {			/* per head, in DMA memory */
	uint32_t	type;		/* struct virtio_blk_req header */
	uint32_t	ioprio;
	uint64_t	sector;
	uint64_t	seg_sector;	/* discard/write-zeroes segment */
	uint32_t	seg_num;
	uint32_t	seg_flags;
	uint8_t		status;
	uint8_t		pad[15];
};

struct vblk {
	struct virtio_dev vd;
	struct virtq	vq;
	uint64_t	capacity;	/* 512-byte sectors */
	uint32_t	blk_size;	/* BLK_SIZE, else 512 */
	uint32_t	seg_max;	/* SEG_MAX, else 1 (data buffers) */
	uint32_t	size_max;	/* SIZE_MAX, else 0 (none) */
	struct vblk_slot *slot;		/* vq.size of them */
};

/*
 * Find the first virtio-blk function, open it in mode, negotiate want
 * (plus VERSION_1 for modern), read the configuration, set up queue 0
 * with qsize entries (0: the device's), with MSI-X entry 0 for it when
 * msix (and the device has a table; b->vq.msix_entry says whether it
 * worked), and set DRIVER_OK.  Returns 0, or -1 after a message.
 */
int	vblk_open(struct vblk *b, enum virtio_mode mode, uint64_t want,
	    unsigned qsize, int msix);
/*
 * Queue a request without publishing it: type at sector with n data
 * buffers (their direction follows the type), through an indirect table
 * when indirect.  Returns the head, or -1 when the ring is full.
 */
int	vblk_submit(struct vblk *b, uint32_t type, uint64_t sector,
	    const struct virtq_buf *data, unsigned n, int indirect);
/* DISCARD or WRITE_ZEROES of nsect sectors at sector (one segment). */
int	vblk_submit_dwz(struct vblk *b, uint32_t type, uint64_t sector,
	    uint32_t nsect, uint32_t flags);
/*
 * Wait for one completion (virtq_wait): its head, *status the byte the
 * device wrote (VBLK_S_NONE if none) and *len the used length.  -1 on
 * timeout, -2 on a bad used element.
 */
int	vblk_reap(struct vblk *b, enum virtq_how how, uint64_t timeout_ms,
	    uint8_t *status, uint32_t *len);
/*
 * One request with one data buffer (none for FLUSH: buf NULL), submitted,
 * kicked and waited for (5 s).  Returns the status, or -1 when the
 * request could not be queued or did not complete.
 */
int	vblk_io(struct vblk *b, uint32_t type, uint64_t sector, void *buf,
	    uint32_t len, enum virtq_how how);

#endif /* KIT_VIRTIO_BLK_H */
