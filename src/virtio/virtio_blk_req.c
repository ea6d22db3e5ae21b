/*
 * virtio_blk_req.c: the virtio-blk request parser (virtio 1.2 §5.2.6,
 * "Device Operation"; bhyve's pci_virtio_block.c pci_vtblk_proc()).
 *
 * A request is a header (type, reserved, sector: 16 bytes) in the
 * device-readable part, the data, and one status byte, the last byte of
 * the device-writable part.  With VERSION_1 (and legacy ANY_LAYOUT) the
 * split into descriptors is the driver's choice, so everything is found
 * by byte offset, not by descriptor.
 */
#include <string.h>
#include "virtio/iov.h"
#include "virtio/virtio_blk_req.h"

static void
done(struct vblk_parsed *p, uint8_t status)
{
	p->op = VBLK_DONE;
	p->status = status;
}

/* [sector, sector + bytes / 512) within the disk; overflow-checked. */
static bool
in_range(const struct vblk_limits *lim, uint64_t sector, uint64_t bytes)
{
	uint64_t n = bytes / VIRTIO_BLK_SECTOR;

	return (sector <= lim->capacity && n <= lim->capacity - sector);
}

/* One discard/write-zeroes segment (§5.2.6.2: one, max_*_seg = 1). */
static void
parse_dwz(const struct iovec *iov, unsigned nread, uint64_t rbytes,
    const struct vblk_limits *lim, struct vblk_parsed *p, bool discard)
{
	uint8_t seg[VIRTIO_BLK_DWZ_LEN];
	uint64_t sector;
	uint32_t num, flags;

	if ((discard && !lim->discard) || (!discard && !lim->write_zeroes)) {
		done(p, VIRTIO_BLK_S_UNSUPP);
		return;
	}
	if (lim->ro) {
		done(p, VIRTIO_BLK_S_IOERR);
		return;
	}
	if (rbytes != VIRTIO_BLK_HDR_LEN + VIRTIO_BLK_DWZ_LEN ||
	    iov_to_buf(iov, nread, VIRTIO_BLK_HDR_LEN, seg, sizeof(seg)) !=
	    sizeof(seg)) {
		done(p, VIRTIO_BLK_S_UNSUPP);
		return;
	}
	memcpy(&sector, seg, 8);
	memcpy(&num, seg + 8, 4);
	memcpy(&flags, seg + 12, 4);
	/* Discard with unmap, or unknown flags: unsupported (§5.2.6.2). */
	if ((flags & ~(uint32_t)VIRTIO_BLK_DWZ_UNMAP) != 0 ||
	    (discard && (flags & VIRTIO_BLK_DWZ_UNMAP))) {
		done(p, VIRTIO_BLK_S_UNSUPP);
		return;
	}
	if (num == 0 || num > lim->max_dwz_sectors ||
	    !in_range(lim, sector, (uint64_t)num * VIRTIO_BLK_SECTOR) ||
	    ((uint64_t)num * VIRTIO_BLK_SECTOR) % lim->blk_size != 0 ||
	    (sector * VIRTIO_BLK_SECTOR) % lim->blk_size != 0) {
		done(p, VIRTIO_BLK_S_IOERR);
		return;
	}
	p->op = discard ? VBLK_DISCARD : VBLK_WRITE_ZEROES;
	p->offset = sector * VIRTIO_BLK_SECTOR;
	p->len = (uint64_t)num * VIRTIO_BLK_SECTOR;
}

void
vblk_parse(const struct iovec *iov, unsigned nread, unsigned nwrite,
    uint64_t rbytes, uint64_t wbytes, const struct vblk_limits *lim,
    struct vblk_parsed *p)
{
	uint8_t hdr[VIRTIO_BLK_HDR_LEN];
	uint64_t sector, dlen;

	memset(p, 0, sizeof(*p));
	/* Without a status byte nothing can be reported: drop it. */
	if (wbytes == 0) {
		done(p, VIRTIO_BLK_S_IOERR);
		return;
	}
	p->has_status = true;
	p->status_off = (size_t)(wbytes - 1);
	if (rbytes < VIRTIO_BLK_HDR_LEN ||
	    iov_to_buf(iov, nread, 0, hdr, sizeof(hdr)) != sizeof(hdr)) {
		done(p, VIRTIO_BLK_S_IOERR);
		return;
	}
	memcpy(&p->type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);

	switch (p->type) {
	case VIRTIO_BLK_T_IN:
		dlen = wbytes - 1;
		if (rbytes != VIRTIO_BLK_HDR_LEN || dlen % lim->blk_size != 0 ||
		    (sector * VIRTIO_BLK_SECTOR) % lim->blk_size != 0 ||
		    sector > UINT64_MAX / VIRTIO_BLK_SECTOR ||
		    !in_range(lim, sector, dlen)) {
			done(p, VIRTIO_BLK_S_IOERR);
			return;
		}
		p->op = VBLK_READ;
		p->offset = sector * VIRTIO_BLK_SECTOR;
		p->len = dlen;
		p->data_off = 0;
		return;
	case VIRTIO_BLK_T_OUT:
		dlen = rbytes - VIRTIO_BLK_HDR_LEN;
		/* A read-only disk refuses writes (§5.2.6.2). */
		if (lim->ro || wbytes != 1 || dlen % lim->blk_size != 0 ||
		    (sector * VIRTIO_BLK_SECTOR) % lim->blk_size != 0 ||
		    sector > UINT64_MAX / VIRTIO_BLK_SECTOR ||
		    !in_range(lim, sector, dlen)) {
			done(p, VIRTIO_BLK_S_IOERR);
			return;
		}
		p->op = VBLK_WRITE;
		p->offset = sector * VIRTIO_BLK_SECTOR;
		p->len = dlen;
		p->data_off = VIRTIO_BLK_HDR_LEN;
		return;
	case VIRTIO_BLK_T_FLUSH:
		if (!lim->flush) {
			done(p, VIRTIO_BLK_S_UNSUPP);
			return;
		}
		p->op = VBLK_FLUSH;
		return;
	case VIRTIO_BLK_T_GET_ID:
		/* The serial, up to 20 bytes, not NUL-terminated if 20. */
		p->op = VBLK_GET_ID;
		p->data_off = 0;
		p->len = MIN(wbytes - 1, VIRTIO_BLK_ID_BYTES);
		return;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		parse_dwz(iov, nread, rbytes, lim, p,
		    p->type == VIRTIO_BLK_T_DISCARD);
		return;
	default:
		done(p, VIRTIO_BLK_S_UNSUPP);
		return;
	}
}
