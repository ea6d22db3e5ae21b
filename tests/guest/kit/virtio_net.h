/*
 * virtio_net.h: a virtio-net driver on top of the kit's virtio core
 * (virtio 1.2 §5.1), for the network tests and benchmarks.  CPL0 only.
 *
 * One queue pair: receiveq1 (queue 0) and transmitq1 (queue 1), §5.1.2.
 * Negotiated: VERSION_1, MAC (and STATUS when offered), nothing else: no
 * checksum or segmentation offloads, no mergeable receive buffers, no
 * control queue.  With VERSION_1 the header is always the 12 bytes of
 * struct virtio_net_hdr including num_buffers (§5.1.6), all zero on
 * transmit (§5.1.6.2: no flags, GSO_NONE).  The legacy registers
 * (virtio_open's VIRTIO_LEGACY) work too: there the header is 10 bytes
 * (§5.1.6.1, legacy interface).
 *
 * Buffers: every descriptor is one 2 KiB slot in DMA memory holding the
 * header and the frame, one descriptor per chain (a transmit chain's
 * head is its slot; receive slots are given back in any order, so the
 * driver keeps which slot each receive head holds).  Receive slots are device-writable and at least the 1526
 * bytes §5.1.6.3.1 asks for without MRG_RXBUF or GUEST_TSO; the receive
 * queue is kept full.  Transmit slots are filled in place (vnet_tx_buf),
 * queued (vnet_tx_queue) and published (vnet_tx_kick); used transmit
 * buffers are taken back whenever the ring runs short.
 *
 * Completion: polled, or, with msix, MSI-X entry 0 for the receive queue
 * and entry 1 for the transmit queue (virtq_wait's VIRTQ_INTR).
 */
#ifndef KIT_VIRTIO_NET_H
#define KIT_VIRTIO_NET_H

#include "virtio.h"

/* Feature bits (§5.1.3). */
#define VNET_F_CSUM		(1ULL << 0)
#define VNET_F_MTU		(1ULL << 3)
#define VNET_F_MAC		(1ULL << 5)
#define VNET_F_MRG_RXBUF	(1ULL << 15)
#define VNET_F_STATUS		(1ULL << 16)
#define VNET_F_CTRL_VQ		(1ULL << 17)

/* struct virtio_net_config offsets (§5.1.4). */
#define VNET_CFG_MAC		0
#define VNET_CFG_STATUS		6
#define VNET_CFG_MAX_PAIRS	8
#define VNET_CFG_MTU		10
#define VNET_S_LINK_UP		1

#define VNET_HDR_LEN		12	/* §5.1.6: VERSION_1 header */
#define VNET_HDR_LEN_LEGACY	10	/* §5.1.6.1: legacy, no MRG_RXBUF */
#define VNET_SLOT		2048	/* header + frame */
#define VNET_FRAME_MAX		(VNET_SLOT - VNET_HDR_LEN)
#define VNET_ETH_MAX		1514	/* frame without FCS, MTU 1500 */
#define VNET_RXQ		0
#define VNET_TXQ		1

struct vnet {
	struct virtio_dev vd;
	struct virtq	rxq;
	struct virtq	txq;
	uint8_t		mac[6];
	uint16_t	hdr_len;	/* VNET_HDR_LEN, or legacy's 10 */
	uint16_t	status;		/* config status, if STATUS */
	enum virtq_how	rx_how;		/* VIRTQ_INTR with MSI-X */
	uint8_t		*rx_slot;	/* rxq.size slots */
	uint8_t		*tx_slot;	/* txq.size slots */
	uint16_t	*rx_slot_of;	/* receive head -> its slot */
	unsigned	rx_unkicked;	/* buffers given back, not published */
	/* Counters. */
	uint64_t	rx_frames, rx_bytes, rx_bad;
	uint64_t	tx_frames, tx_bytes, tx_full;
};

/*
 * Find the index-th virtio-net function, open it in mode, negotiate
 * (VERSION_1 for modern, MAC, STATUS), read the MAC, set up both queues
 * with qsize entries (0: the device's), fill the receive queue, bind
 * MSI-X entries when msix (and the device has a table), set DRIVER_OK
 * and publish the receive buffers.  Returns 0, or -1 after a message.
 */
int	vnet_open(struct vnet *n, unsigned index, enum virtio_mode mode,
	    unsigned qsize, int msix);

/*
 * A free transmit slot's frame area (VNET_FRAME_MAX bytes) to build the
 * next frame in, taking back used buffers first when none is free;
 * NULL when the device has returned none within timeout_ms.
 */
uint8_t	*vnet_tx_buf(struct vnet *n, uint64_t timeout_ms);
/* Queue the frame built in the slot vnet_tx_buf() gave (len bytes, at
 * least 14 and at most VNET_ETH_MAX), not yet published.  0 or -1. */
int	vnet_tx_queue(struct vnet *n, uint32_t len);
/* Publish and notify (virtq_kick). */
void	vnet_tx_kick(struct vnet *n);
/* Copy a frame in, queue and kick it: 0, or -1 (ring full, bad len). */
int	vnet_send(struct vnet *n, const void *frame, uint32_t len);
/*
 * Queue len bytes at buf, a header (hdr_len bytes, zero) and a frame the
 * caller keeps unchanged until the device has used it, without copying
 * (the benchmarks send one buffer over and over); takes back used
 * buffers, and kicks and waits up to timeout_ms, when the ring is full.
 * Not published.  0, or -1 when the ring stayed full.
 */
int	vnet_tx_queue_ref(struct vnet *n, const void *buf, uint32_t len,
	    uint64_t timeout_ms);
/* Take back every used transmit buffer; returns how many. */
unsigned vnet_tx_reap(struct vnet *n);

/*
 * The next received frame, waiting at most timeout_ms: returns its slot
 * (give it back with vnet_rx_done), *frame its first byte after the
 * header and *len its length; -1 on timeout, -2 on a bad used element.
 * Elements shorter than a header and an Ethernet header count in rx_bad
 * and are given back at once.
 */
int	vnet_recv(struct vnet *n, uint64_t timeout_ms, uint8_t **frame,
	    uint32_t *len);
/* Give slot back to the receive queue; publish now when kick, else once
 * a quarter of the ring waits (so a batch costs one notification). */
void	vnet_rx_done(struct vnet *n, int slot, int kick);

#endif /* KIT_VIRTIO_NET_H */
