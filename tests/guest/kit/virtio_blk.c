/*
 * virtio_blk.c: virtio-blk requests for the test guests (virtio_blk.h;
 * virtio 1.2 §5.2).
 */
#include "kit.h"
#include "virtio_blk.h"

#define IO_TIMEOUT_MS	5000

int
vblk_open(struct vblk *b, enum virtio_mode mode, uint64_t want,
    unsigned qsize, int msix)
{
	struct virtio_dev *vd = &b->vd;

	memset(b, 0, sizeof(*b));
	if (virtio_find(VIRTIO_ID_BLOCK, 0, vd) != 0) {
		printf("virtio-blk: no device on bus 0\n");
		return (-1);
	}
	if (virtio_open(vd, mode) != 0 || virtio_negotiate(vd, want) != 0)
		return (-1);
	b->capacity = virtio_cfg_read64(vd, VBLK_CFG_CAPACITY);
	b->blk_size = (vd->features & VBLK_F_BLK_SIZE) ?
	    virtio_cfg_read32(vd, VBLK_CFG_BLK_SIZE) : VBLK_SECTOR;
	b->seg_max = (vd->features & VBLK_F_SEG_MAX) ?
	    virtio_cfg_read32(vd, VBLK_CFG_SEG_MAX) : 1;
	b->size_max = (vd->features & VBLK_F_SIZE_MAX) ?
	    virtio_cfg_read32(vd, VBLK_CFG_SIZE_MAX) : 0;
	if (b->blk_size < VBLK_SECTOR || (b->blk_size & (b->blk_size - 1)))
		b->blk_size = VBLK_SECTOR;
	if (b->seg_max == 0)
		b->seg_max = 1;
	if (virtq_setup(vd, &b->vq, 0, qsize) != 0)
		return (-1);
	b->slot = virtio_alloc(sizeof(*b->slot) * b->vq.size, 64);
	if (b->slot == NULL) {
		printf("virtio-blk: out of DMA memory\n");
		return (-1);
	}
	if (msix && virtio_msix_vector(vd, 0) == 0 &&
	    virtq_set_vector(&b->vq, 0) != 0)
		printf("virtio-blk: the device refused MSI-X entry 0 for "
		    "queue 0: polling\n");
	virtio_driver_ok(vd);
	if (virtio_status(vd) & VIRTIO_S_NEEDS_RESET) {
		printf("virtio-blk: device needs reset after DRIVER_OK "
		    "(status 0x%02x)\n", virtio_status(vd));
		return (-1);
	}
	return (0);
}

/* Header, optional segment, data, status: one chain. */
static int
submit(struct vblk *b, uint32_t type, uint64_t sector,
    const struct virtq_buf *data, unsigned n, int indirect, int seg)
{
	struct virtq_buf c[VIRTQ_INDIRECT_MAX];
	struct vblk_slot *s;
	unsigned i, k = 0, max = indirect ? VIRTQ_INDIRECT_MAX : b->vq.size;
	int head, wr = type == VBLK_T_IN || type == VBLK_T_GET_ID;

	if (n + 3 > max || n + 3 > VIRTQ_INDIRECT_MAX)
		return (-1);
	/* The head is the first free descriptor: its slot holds the rest. */
	s = &b->slot[b->vq.free_head];
	s->type = type;
	s->ioprio = 0;
	s->sector = sector;
	s->status = VBLK_S_NONE;
	c[k++] = (struct virtq_buf){ s, 16, 0 };
	if (seg)
		c[k++] = (struct virtq_buf){ &s->seg_sector, 16, 0 };
	for (i = 0; i < n; i++)
		c[k++] = (struct virtq_buf){ data[i].addr, data[i].len, wr };
	c[k++] = (struct virtq_buf){ &s->status, 1, 1 };
	head = virtq_add(&b->vq, c, k, indirect);
	if (head >= 0 && &b->slot[head] != s) {
		printf("virtio-blk: head %d is not the free head\n", head);
		return (-1);
	}
	return (head);
}

int
vblk_submit(struct vblk *b, uint32_t type, uint64_t sector,
    const struct virtq_buf *data, unsigned n, int indirect)
{
	return (submit(b, type, sector, data, n, indirect, 0));
}

int
vblk_submit_dwz(struct vblk *b, uint32_t type, uint64_t sector,
    uint32_t nsect, uint32_t flags)
{
	struct vblk_slot *s = &b->slot[b->vq.free_head];

	s->seg_sector = sector;
	s->seg_num = nsect;
	s->seg_flags = flags;
	return (submit(b, type, 0, NULL, 0, 0, 1));
}

int
vblk_reap(struct vblk *b, enum virtq_how how, uint64_t timeout_ms,
    uint8_t *status, uint32_t *len)
{
	int head = virtq_wait(&b->vq, len, how, timeout_ms);

	if (head >= 0)
		*status = *(volatile uint8_t *)&b->slot[head].status;
	return (head);
}

int
vblk_io(struct vblk *b, uint32_t type, uint64_t sector, void *buf,
    uint32_t len, enum virtq_how how)
{
	struct virtq_buf d = { buf, len, 0 };
	uint8_t status;
	uint32_t ulen;
	int head;

	head = vblk_submit(b, type, sector, &d, buf != NULL ? 1 : 0, 0);
	if (head < 0)
		return (-1);
	virtq_kick(&b->vq);
	if (vblk_reap(b, how, IO_TIMEOUT_MS, &status, &ulen) != head) {
		printf("virtio-blk: request type %u at sector %llu: no "
		    "completion\n", type, (unsigned long long)sector);
		return (-1);
	}
	return (status);
}
