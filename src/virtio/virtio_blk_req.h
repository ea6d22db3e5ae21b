/*
 * virtio_blk_req.h: parsing a virtio-blk request (virtio 1.2 §5.2.6)
 * from the iovecs of one chain, apart from doing it, so that the parser
 * can be tested and fuzzed on its own.
 */
#ifndef VIRTIO_BLK_REQ_H
#define VIRTIO_BLK_REQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "khyve.h"

/* Request types and statuses (§5.2.6). */
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13

#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

#define VIRTIO_BLK_SECTOR	512
#define VIRTIO_BLK_ID_BYTES	20
#define VIRTIO_BLK_HDR_LEN	16
#define VIRTIO_BLK_DWZ_LEN	16	/* one discard/write-zeroes segment */
#define VIRTIO_BLK_DWZ_UNMAP	0x1

/* What the device offers, for the parser's checks. */
struct vblk_limits {
	uint64_t	capacity;	/* in 512-byte sectors */
	uint32_t	blk_size;	/* logical block: lengths multiple of it */
	bool		ro;
	bool		flush;		/* VIRTIO_BLK_F_FLUSH offered */
	bool		discard;	/* DISCARD offered */
	bool		write_zeroes;	/* WRITE_ZEROES offered */
	uint32_t	max_dwz_sectors; /* per segment */
};

enum vblk_op {
	VBLK_DONE,		/* nothing to do: status already decided */
	VBLK_READ,
	VBLK_WRITE,
	VBLK_FLUSH,
	VBLK_GET_ID,
	VBLK_DISCARD,
	VBLK_WRITE_ZEROES,
};

struct vblk_parsed {
	enum vblk_op	op;
	uint8_t		status;		/* for VBLK_DONE */
	bool		has_status;	/* there is a status byte to write */
	uint32_t	type;		/* the header's type */
	uint64_t	offset;		/* bytes */
	uint64_t	len;		/* bytes (READ, WRITE, DISCARD, WZ) */
	size_t		data_off;	/* READ/GET_ID: in the writable part;
					 * WRITE: in the readable part */
	size_t		status_off;	/* in the writable part */
};

/*
 * Parse the chain iov[0..nread) (device-readable, rbytes) then
 * iov[nread..nread+nwrite) (device-writable, wbytes).  The header and
 * any discard segment are copied out of guest memory once.  Sets *p to
 * the operation and where its data and status byte lie; a request that
 * is malformed, past the end, unaligned, writing a read-only disk or of
 * an unknown or unoffered type becomes VBLK_DONE with IOERR or UNSUPP
 * (no status byte: VBLK_DONE without has_status).  Never fails.
 */
void	vblk_parse(const struct iovec *iov, unsigned nread, unsigned nwrite,
	    uint64_t rbytes, uint64_t wbytes, const struct vblk_limits *lim,
	    struct vblk_parsed *p);

#endif /* VIRTIO_BLK_REQ_H */
