/*
 * virtio_net.c: a virtio-net driver for the test guests (virtio_net.h;
 * virtio 1.2 §5.1).
 */
#include "kit.h"
#include "virtio_net.h"

/*
 * Post slot on the receive queue (§5.1.6.3): one device-writable buffer
 * in whichever descriptor is free (slots come back in any order).
 */
static int
rx_post(struct vnet *n, unsigned slot)
{
	struct virtq_buf b = { n->rx_slot + (size_t)slot * VNET_SLOT,
	    VNET_SLOT, 1 };
	int head;

	head = virtq_add(&n->rxq, &b, 1, 0);
	if (head < 0)
		return (-1);
	n->rx_slot_of[head] = (uint16_t)slot;
	return (0);
}

int
vnet_open(struct vnet *n, unsigned index, enum virtio_mode mode,
    unsigned qsize, int msix)
{
	struct virtio_dev *vd = &n->vd;
	unsigned i;

	memset(n, 0, sizeof(*n));
	n->rx_how = VIRTQ_POLL;
	if (virtio_find(VIRTIO_ID_NET, index, vd) != 0) {
		printf("virtio-net: no device %u on bus 0\n", index);
		return (-1);
	}
	if (virtio_open(vd, mode) != 0 ||
	    virtio_negotiate(vd, VNET_F_MAC | VNET_F_STATUS) != 0)
		return (-1);
	if ((vd->features & VNET_F_MAC) == 0) {
		/* §5.1.5: without MAC the driver picks one; the tests want
		 * the device's, so say so rather than invent one. */
		printf("virtio-net: the device offers no MAC address\n");
		return (-1);
	}
	for (i = 0; i < 6; i++)
		n->mac[i] = virtio_cfg_read8(vd, VNET_CFG_MAC + i);
	/* §5.1.6.1 legacy: without VERSION_1 (or MRG_RXBUF) the header
	 * has no num_buffers. */
	n->hdr_len = (vd->features & VIRTIO_F_VERSION_1) ? VNET_HDR_LEN :
	    VNET_HDR_LEN_LEGACY;
	if (vd->features & VNET_F_STATUS)
		n->status = virtio_cfg_read16(vd, VNET_CFG_STATUS);
	if (virtq_setup(vd, &n->rxq, VNET_RXQ, qsize) != 0 ||
	    virtq_setup(vd, &n->txq, VNET_TXQ, qsize) != 0)
		return (-1);
	n->rx_slot = virtio_alloc((size_t)n->rxq.size * VNET_SLOT, 4096);
	n->tx_slot = virtio_alloc((size_t)n->txq.size * VNET_SLOT, 4096);
	n->rx_slot_of = virtio_alloc(sizeof(uint16_t) * n->rxq.size, 64);
	if (n->rx_slot == NULL || n->tx_slot == NULL ||
	    n->rx_slot_of == NULL) {
		printf("virtio-net: out of DMA memory\n");
		return (-1);
	}
	/* §5.1.6.3.1: the receive queue full of buffers; they are
	 * published (avail->idx) only after DRIVER_OK, §3.1.1. */
	for (i = 0; i < n->rxq.size; i++)
		if (rx_post(n, i) != 0) {
			printf("virtio-net: receive buffer %u not posted\n", i);
			return (-1);
		}
	if (msix && virtio_msix_vector(vd, 0) == 0) {
		if (virtq_set_vector(&n->rxq, 0) != 0)
			printf("virtio-net: the device refused MSI-X entry 0 "
			    "for the receive queue: polling\n");
		else
			n->rx_how = VIRTQ_INTR;
		if (virtio_msix_vector(vd, 1) != 0 ||
		    virtq_set_vector(&n->txq, 1) != 0)
			printf("virtio-net: the device refused MSI-X entry 1 "
			    "for the transmit queue: polling\n");
	}
	virtio_driver_ok(vd);
	if (virtio_status(vd) & VIRTIO_S_NEEDS_RESET) {
		printf("virtio-net: device needs reset after DRIVER_OK "
		    "(status 0x%02x)\n", virtio_status(vd));
		return (-1);
	}
	virtq_kick(&n->rxq);
	return (0);
}

unsigned
vnet_tx_reap(struct vnet *n)
{
	unsigned got = 0;

	while (virtq_get(&n->txq, NULL) >= 0)
		got++;
	return (got);
}

uint8_t *
vnet_tx_buf(struct vnet *n, uint64_t timeout_ms)
{
	if (n->txq.num_free == 0)
		vnet_tx_reap(n);
	if (n->txq.num_free == 0) {
		n->tx_full++;
		/* What is queued must reach the device to come back. */
		virtq_kick(&n->txq);
		if (virtq_wait(&n->txq, NULL, VIRTQ_POLL, timeout_ms) < 0)
			return (NULL);
	}
	return (n->tx_slot + (size_t)n->txq.free_head * VNET_SLOT +
	    n->hdr_len);
}

int
vnet_tx_queue(struct vnet *n, uint32_t len)
{
	unsigned slot = n->txq.free_head;
	uint8_t *p = n->tx_slot + (size_t)slot * VNET_SLOT;
	struct virtq_buf b = { p, n->hdr_len + len, 0 };

	if (n->txq.num_free == 0 || len < 14 || len > VNET_ETH_MAX)
		return (-1);
	/* §5.1.6.2: no offload asked, GSO_NONE, num_buffers 0. */
	memset(p, 0, n->hdr_len);
	if (virtq_add(&n->txq, &b, 1, 0) != (int)slot)
		return (-1);
	n->tx_frames++;
	n->tx_bytes += len;
	return (0);
}

int
vnet_tx_queue_ref(struct vnet *n, const void *buf, uint32_t len,
    uint64_t timeout_ms)
{
	struct virtq_buf b = { buf, len, 0 };

	if (len < n->hdr_len + 14u || len > n->hdr_len + (uint32_t)VNET_ETH_MAX)
		return (-1);
	if (n->txq.num_free == 0 && vnet_tx_reap(n) == 0) {
		n->tx_full++;
		virtq_kick(&n->txq);
		if (virtq_wait(&n->txq, NULL, VIRTQ_POLL, timeout_ms) < 0)
			return (-1);
	}
	if (virtq_add(&n->txq, &b, 1, 0) < 0)
		return (-1);
	n->tx_frames++;
	n->tx_bytes += len - n->hdr_len;
	return (0);
}

void
vnet_tx_kick(struct vnet *n)
{
	virtq_kick(&n->txq);
}

int
vnet_send(struct vnet *n, const void *frame, uint32_t len)
{
	uint8_t *p;

	if (len < 14 || len > VNET_ETH_MAX)
		return (-1);
	if ((p = vnet_tx_buf(n, 1000)) == NULL)
		return (-1);
	memcpy(p, frame, len);
	if (vnet_tx_queue(n, len) != 0)
		return (-1);
	vnet_tx_kick(n);
	return (0);
}

void
vnet_rx_done(struct vnet *n, int slot, int kick)
{
	if (slot < 0 || slot >= n->rxq.size || rx_post(n, (unsigned)slot) != 0) {
		printf("virtio-net: receive slot %d not given back\n", slot);
		return;
	}
	if (kick || ++n->rx_unkicked >= n->rxq.size / 4u) {
		virtq_kick(&n->rxq);
		n->rx_unkicked = 0;
	}
}

int
vnet_recv(struct vnet *n, uint64_t timeout_ms, uint8_t **frame,
    uint32_t *len)
{
	uint64_t khz = guest_tsc_khz(), t0 = rdtsc(), lim, left;
	uint32_t ulen;
	int head, slot;

	lim = (khz != 0 ? khz : 1000000) * timeout_ms;
	for (;;) {
		/* Buffers given back are published only before a wait, not
		 * per frame: a flood costs a notification per quarter ring. */
		head = virtq_get(&n->rxq, &ulen);
		if (head == -1) {
			if (n->rx_unkicked != 0) {
				virtq_kick(&n->rxq);
				n->rx_unkicked = 0;
			}
			left = rdtsc() - t0;
			left = left < lim ? (lim - left) /
			    (khz != 0 ? khz : 1000000) : 0;
			head = virtq_wait(&n->rxq, &ulen, n->rx_how, left);
		}
		if (head < 0)
			return (head);
		slot = n->rx_slot_of[head];
		/* The used length covers the header and the frame
		 * (§2.7.8); the device may write no more than the slot. */
		if (ulen < n->hdr_len + 14u || ulen > VNET_SLOT) {
			n->rx_bad++;
			vnet_rx_done(n, slot, 1);
			continue;
		}
		n->rx_frames++;
		n->rx_bytes += ulen - n->hdr_len;
		*frame = n->rx_slot + (size_t)slot * VNET_SLOT + n->hdr_len;
		*len = ulen - n->hdr_len;
		return (slot);
	}
}
