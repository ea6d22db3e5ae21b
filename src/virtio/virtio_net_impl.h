/*
 * virtio_net_impl.h: what virtio_net.c (set-up, features, transmit, the
 * control queue) and virtio_net_rx.c (receive) share, and the protocol's
 * numbers (virtio 1.2 §5.1) for the unit tests and fuzz targets.
 */
#ifndef VIRTIO_NET_IMPL_H
#define VIRTIO_NET_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "backend/net_backend.h"
#include "virtio/virtio.h"

/* Feature bits (§5.1.3). */
#define VIRTIO_NET_F_CSUM		(1ULL << 0)
#define VIRTIO_NET_F_GUEST_CSUM		(1ULL << 1)
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS (1ULL << 2)
#define VIRTIO_NET_F_MTU		(1ULL << 3)
#define VIRTIO_NET_F_MAC		(1ULL << 5)
#define VIRTIO_NET_F_GUEST_TSO4		(1ULL << 7)
#define VIRTIO_NET_F_GUEST_TSO6		(1ULL << 8)
#define VIRTIO_NET_F_GUEST_ECN		(1ULL << 9)
#define VIRTIO_NET_F_GUEST_UFO		(1ULL << 10)
#define VIRTIO_NET_F_HOST_TSO4		(1ULL << 11)
#define VIRTIO_NET_F_HOST_TSO6		(1ULL << 12)
#define VIRTIO_NET_F_HOST_ECN		(1ULL << 13)
#define VIRTIO_NET_F_HOST_UFO		(1ULL << 14)
#define VIRTIO_NET_F_MRG_RXBUF		(1ULL << 15)
#define VIRTIO_NET_F_STATUS		(1ULL << 16)
#define VIRTIO_NET_F_CTRL_VQ		(1ULL << 17)
#define VIRTIO_NET_F_CTRL_RX		(1ULL << 18)
#define VIRTIO_NET_F_CTRL_VLAN		(1ULL << 19)
#define VIRTIO_NET_F_CTRL_RX_EXTRA	(1ULL << 20)
#define VIRTIO_NET_F_GUEST_ANNOUNCE	(1ULL << 21)
#define VIRTIO_NET_F_MQ			(1ULL << 22)
#define VIRTIO_NET_F_CTRL_MAC_ADDR	(1ULL << 23)

/* The receive offloads (GUEST_OFFLOADS_SET takes these bits, §5.1.6.5.6). */
#define VNET_GUEST_OFFLOADS	(VIRTIO_NET_F_GUEST_CSUM |		\
	VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6 |		\
	VIRTIO_NET_F_GUEST_ECN | VIRTIO_NET_F_GUEST_UFO)

/* struct virtio_net_config (§5.1.4): mac, status, pairs, mtu. */
#define VNET_CFG_MAC		0
#define VNET_CFG_STATUS		6
#define VNET_CFG_PAIRS		8
#define VNET_CFG_MTU		10
#define VNET_CFG_LEN		12
#define VIRTIO_NET_S_LINK_UP	1

/* struct virtio_net_hdr (§5.1.6). */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1
#define VIRTIO_NET_HDR_F_DATA_VALID	2
#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_GSO_TCPV4	1
#define VIRTIO_NET_HDR_GSO_UDP		3
#define VIRTIO_NET_HDR_GSO_TCPV6	4
#define VIRTIO_NET_HDR_GSO_ECN		0x80
#define VNET_HDR_NUM_BUFFERS	10	/* offset of num_buffers */

/* The control queue (§5.1.6.5). */
#define VIRTIO_NET_OK			0
#define VIRTIO_NET_ERR			1
#define VIRTIO_NET_CTRL_RX		0
#define  VIRTIO_NET_CTRL_RX_PROMISC	0
#define  VIRTIO_NET_CTRL_RX_ALLMULTI	1
#define  VIRTIO_NET_CTRL_RX_ALLUNI	2
#define  VIRTIO_NET_CTRL_RX_NOMULTI	3
#define  VIRTIO_NET_CTRL_RX_NOUNI	4
#define  VIRTIO_NET_CTRL_RX_NOBCAST	5
#define VIRTIO_NET_CTRL_MAC		1
#define  VIRTIO_NET_CTRL_MAC_TABLE_SET	0
#define  VIRTIO_NET_CTRL_MAC_ADDR_SET	1
#define VIRTIO_NET_CTRL_VLAN		2
#define VIRTIO_NET_CTRL_ANNOUNCE	3
#define VIRTIO_NET_CTRL_MQ		4
#define  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS	5
#define  VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET 0

#define VNET_QSIZE	1024		/* bhyve's VTNET_RINGSZ */
#define VNET_MAX_PAIRS	((VIRTIO_MAX_QUEUES - 1) / 2)	/* 31 */
#define VNET_ETHER_HDR	14		/* a frame's Ethernet header */
#define VNET_VLAN_HDR	4
/*
 * Receive limits.  A chain may have VNET_CHAIN_NIOV iovecs (a Linux
 * driver's largest receive chain is 2 + MAX_SKB_FRAGS descriptors, each
 * maybe split at a RAM region boundary); a frame may span VNET_RX_CHAINS
 * chains (a 64 KiB frame in 1518-byte mergeable buffers takes 44) and
 * VNET_RX_NIOV iovecs.  A frame that needs more is dropped.
 */
#define VNET_CHAIN_NIOV	64
#define VNET_RX_CHAINS	128
#define VNET_RX_NIOV	512
/* Transmit: iovecs of one chain, and of the part after the header. */
#define VNET_TX_NIOV	512
#define VNET_CTRL_NIOV	64

/* Counters (tests read them; nothing else depends on them). */
struct vnet_stats {
	uint64_t	tx_frames;	/* handed to the backend */
	uint64_t	tx_bad;		/* malformed chains, dropped */
	uint64_t	tx_dropped;	/* refused by the backend (full, gone) */
	uint64_t	rx_frames;	/* given to the guest */
	uint64_t	rx_bytes;
	uint64_t	rx_toobig;	/* no room in the guest's buffers */
	uint64_t	rx_badchain;	/* unusable receive chains, completed */
	uint64_t	rx_badhdr;	/* the backend's header not for this guest */
	uint64_t	rx_mtu;		/* over the MTU the guest was given */
	uint64_t	rx_nobufs;	/* passes that ran out of buffers */
	uint64_t	ctrl_ok;
	uint64_t	ctrl_err;
};

/* One guest receive queue: the chains taken for the frame at hand. */
struct vnet_rxq {
	struct vq_req	held[VNET_RX_CHAINS];
	unsigned	held_niov[VNET_RX_CHAINS]; /* iovecs of each in iov[] */
	unsigned	nheld;
	unsigned	gen;		/* queue generation they came from */
	struct iovec	iov[VNET_RX_NIOV];	/* their writable iovecs */
	unsigned	niov;
	uint64_t	have;		/* writable bytes in them */
};

/* One backend queue pair's receive side. */
struct vnet_bq {
	int		fd;		/* netbe_fd() */
	bool		owner;		/* first pair with this fd: registered */
	bool		paused;		/* its guest queue has no buffers */
	bool		polling;	/* as the worker watches fd now */
};

struct vnet_softc {
	struct virtio_softc vn_vs;
	struct net_backend *vn_be;
	int		vn_npairs;	/* max_virtqueue_pairs */
	int		vn_active;	/* pairs in use (VQ_PAIRS_SET) */
	int		vn_layout;	/* N of §5.1.2: vn_npairs with MQ, else 1 */
	int		vn_ctrlq;	/* controlq index, -1 without CTRL_VQ */
	uint64_t	vn_neg;		/* negotiated features */
	uint64_t	vn_goffl;	/* receive offloads on (GUEST_* bits) */
	unsigned	vn_hdrlen;	/* the guest's header: 10 or 12 */
	unsigned	vn_behdr;	/* the backend's: 0 or vn_hdrlen */
	uint32_t	vn_becaps;	/* netbe_get_cap() */
	uint16_t	vn_mtu;		/* 0: no MTU offered */
	uint8_t		vn_mac[6];	/* mac= or bhyve's generated one */
	uint8_t		vn_rxmode;	/* CTRL_RX modes on, bit per command */
	bool		vn_gone;	/* the backend went away: link down */
	struct vnet_rxq	*vn_rxq;	/* [vn_npairs] */
	struct vnet_bq	*vn_bq;		/* [vn_npairs] */
	struct iovec	vn_chain[VNET_TX_NIOV];	/* a chain being read */
	struct iovec	vn_slice[VNET_RX_NIOV + 1]; /* what goes to the backend */
	struct vnet_stats vn_st;
	uint8_t		vn_cfg[VNET_CFG_LEN];
};

/* virtio_net_rx.c */
/* The worker saw fd readable (virtio_worker_add_fd callback). */
void	vnet_rx_fd(void *dev, int fd);
/* The guest added receive buffers to its queue pair g. */
void	vnet_rx_notify(struct vnet_softc *sc, int g);
/* Forget the chains held for a frame (reset). */
void	vnet_rx_reset(struct vnet_softc *sc);
/* Watch or stop watching backend pair b's fd as its state says. */
void	vnet_poll_update(struct vnet_softc *sc, int b);
/* Is guest queue q ready to be used by the device now? */
bool	vnet_queue_live(struct vnet_softc *sc, int q);

/* virtio_net.c */
/* The backend is gone: link down, tell the driver, stop polling. */
void	vnet_link_down(struct vnet_softc *sc);

/*
 * For tests: the counters and state of the virtio-net device pi, or NULL
 * if pi is not one.  Take vs_mtx around reads that must be consistent.
 */
struct pci_devinst;
struct vnet_softc *vnet_softc(struct pci_devinst *pi);

/*
 * bhyve's default MAC address (net_genmac(), usr.sbin/bhyve/net_utils.c):
 * MD5 of "slot-func-vmname" (at most 79 characters, as bhyve's buffer of
 * 80 cuts it), OUI 00:a0:98, then digest bytes 0..2.
 */
void	vnet_genmac(int slot, int func, const char *vmname, uint8_t mac[6]);
/* "xx:xx:xx:xx:xx:xx" (1 or 2 hex digits each, as ether_aton(3)):
 * 0, or -EINVAL when malformed, multicast or all zero. */
int	vnet_parse_mac(const char *s, uint8_t mac[6]);

#endif /* VIRTIO_NET_IMPL_H */
