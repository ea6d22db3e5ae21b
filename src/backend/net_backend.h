/*
 * net_backend.h: the network engine every network device shares (bhyve's
 * net_backends.c: tap, netmap and slirp behind one ops table).
 *
 * A device (virtio-net, later e1000) moves whole Ethernet frames through
 * a backend.  The backend never sees a descriptor or a ring: it gets host
 * iovecs that already point into guest RAM (or into the device's own
 * buffers) and reads or writes only inside them.
 *
 * Backends, one file each, in the net_backend_set linker set:
 *	tap	tapN, vmnetN or any tap interface name, or fd=N (net_tap.c)
 *	slirp	user-mode networking in a helper process (net_slirp.c)
 *	passt	the passt program over its Unix stream socket (net_passt.c)
 *
 * The virtio-net header.  Frames may carry a struct virtio_net_hdr
 * (virtio 1.2 §5.1.6) in front: the device asks the backend with
 * netbe_set_cap() to take and give frames with a header of hdrlen bytes
 * (10, or 12 with MRG_RXBUF or VERSION_1; 0: bare frames).  A backend
 * that cannot carry a header (netbe_get_cap() reports no NETBE_CAP_VNET_HDR)
 * only ever works with bare frames, and the device adds and strips the
 * header itself (bhyve's be_vnet_hdr_len vs fe_vnet_hdr_len).  Offload
 * features (checksum, TSO, UFO) are only offered to the guest when the
 * backend carries the header.
 *
 * Threads and blocking.  All calls on one backend come from one thread
 * at a time (the device's worker, under its lock).  No call ever blocks:
 * a frame the host side cannot take now is dropped (and counted), a
 * receive with nothing waiting returns 0.  The device polls netbe_fd():
 * when it is readable, netbe_peek_recvlen() or netbe_recv() may have a
 * frame; the device stops polling it while the guest has no receive
 * buffers (else a level-triggered poll would spin) and polls it again
 * when buffers come.
 *
 * A backend that is gone (the peer closed, the helper died) says so once
 * with -EPIPE from netbe_recv()/netbe_peek_recvlen(); the device then
 * stops polling it and may show the link down.  netbe_send() to a gone
 * backend drops the frame.
 */
#ifndef NET_BACKEND_H
#define NET_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include "khyve.h"

struct config_node;
struct net_backend;

/* Capabilities (netbe_get_cap) and requests (netbe_set_cap). */
#define NETBE_CAP_VNET_HDR	(1u << 0)	/* frames may carry the header */
#define NETBE_CAP_CSUM		(1u << 1)	/* partial checksums (tx and rx) */
#define NETBE_CAP_TSO4		(1u << 2)
#define NETBE_CAP_TSO6		(1u << 3)
#define NETBE_CAP_TSO_ECN	(1u << 4)
#define NETBE_CAP_UFO		(1u << 5)
#define NETBE_CAP_MQ		(1u << 6)	/* several queue pairs */

/* The largest frame a backend passes: a 64 KiB GSO frame plus headers. */
#define NETBE_FRAME_MAX		(65536 + 14 + 4)
/* The header sizes netbe_set_cap() accepts besides 0. */
#define NETBE_VNET_HDR_LEN	10	/* struct virtio_net_hdr */
#define NETBE_VNET_HDR_MRG_LEN	12	/* ... with num_buffers */

/* Counters a backend keeps (netbe_stats). */
struct netbe_stats {
	uint64_t	ns_tx_frames;	/* frames handed to the host side */
	uint64_t	ns_tx_bytes;
	uint64_t	ns_tx_dropped;	/* host side full, gone or frame bad */
	uint64_t	ns_rx_frames;	/* frames given to the device */
	uint64_t	ns_rx_bytes;
	uint64_t	ns_rx_dropped;	/* too big or truncated */
};

struct net_beops {
	const char	*nb_name;	/* the "backend" value, or its prefix */
	size_t		nb_priv;	/* bytes of private state (zeroed) */
	/*
	 * Does this backend serve the name the user gave ("tap0", "slirp")?
	 * NULL: only nb_name itself.
	 */
	bool	(*nb_match)(const char *name);
	/*
	 * Open the backend for device devname (for messages) with name and
	 * nvl, the device's config node (backend-specific keys: fd,
	 * hostfwd, open, socket, ...), and nqueues queue pairs (1 unless
	 * NETBE_CAP_MQ is reported).  Everything is acquired here, before
	 * the guest runs.  Returns 0, or -EINVAL for a bad key value and
	 * another -errno for a failure to set up, after one message naming
	 * devname, the key and the problem.  Nothing to undo on failure.
	 */
	int	(*nb_init)(struct net_backend *be, const char *devname,
		    const char *name, struct config_node *nvl, int nqueues);
	/* Close everything nb_init opened (a helper: stopped and reaped). */
	void	(*nb_cleanup)(struct net_backend *be);
	/* The fd to poll for queue pair q (readable: a frame may wait). */
	int	(*nb_fd)(struct net_backend *be, int q);
	/* Send one frame (header first when hdrlen > 0). */
	ssize_t	(*nb_send)(struct net_backend *be, int q,
		    const struct iovec *iov, int iovcnt);
	/* Length of the next frame (with its header), 0 if none, -errno. */
	ssize_t	(*nb_peek_recvlen)(struct net_backend *be, int q);
	/* Receive the next frame into iov; its length, 0 if none, -errno. */
	ssize_t	(*nb_recv)(struct net_backend *be, int q,
		    const struct iovec *iov, int iovcnt);
	/* Capabilities; NULL: none. */
	uint32_t (*nb_get_cap)(struct net_backend *be);
	/* Set the header length and offloads; NULL: only (0, 0) works. */
	int	(*nb_set_cap)(struct net_backend *be, uint32_t caps,
		    unsigned hdrlen);
};

#define NET_BACKEND_SET(x)	DATA_SET(net_backend_set, x)
SET_DECLARE(net_backend_set, const struct net_beops);

/* What every backend's private state is reached through. */
struct net_backend {
	const struct net_beops *be_ops;
	const char	*be_devname;	/* "virtio-net 0:2:0", for messages */
	int		be_nqueues;
	unsigned	be_hdrlen;	/* as netbe_set_cap() last set it */
	uint32_t	be_caps;	/* ... and the offloads */
	bool		be_gone;	/* -EPIPE was reported */
	struct netbe_stats be_stats;
	void		*be_priv;	/* nb_priv bytes */
};

/*
 * Open the backend nvl's "backend" key names (bhyve's netbe_init()), for
 * device devname, with nqueues queue pairs wanted: the backend may offer
 * fewer (netbe_nqueues()).  Returns 0 and *bep, or -EINVAL (no backend
 * key, no backend of that name, or a bad key of the backend's) or another
 * -errno (a failure to set up), after one message naming devname.
 */
int	netbe_init(struct net_backend **bep, const char *devname,
	    struct config_node *nvl, int nqueues) __must_check;
/* Close and free the backend (NULL is fine). */
void	netbe_cleanup(struct net_backend *be);
/* Queue pairs the backend has (1 unless it reports NETBE_CAP_MQ). */
int	netbe_nqueues(const struct net_backend *be);
uint32_t netbe_get_cap(struct net_backend *be);
/*
 * Ask for hdrlen-byte headers (0, NETBE_VNET_HDR_LEN or
 * NETBE_VNET_HDR_MRG_LEN) and the offloads in caps (a subset of
 * netbe_get_cap()).  Returns 0 or -EINVAL / -errno, changing nothing.
 */
int	netbe_set_cap(struct net_backend *be, uint32_t caps, unsigned hdrlen)
	    __must_check;
/* The header length frames carry now. */
unsigned netbe_hdrlen(const struct net_backend *be);
int	netbe_fd(struct net_backend *be, int q);
/*
 * Send one frame: iov holds netbe_hdrlen() bytes of header then the
 * frame.  Returns the bytes taken, or a negative errno when the frame was
 * dropped (-EAGAIN: the host side is full; -EPIPE: gone; -EMSGSIZE: over
 * NETBE_FRAME_MAX).  Never blocks.
 */
ssize_t	netbe_send(struct net_backend *be, int q, const struct iovec *iov,
	    int iovcnt);
/* Length of the next waiting frame (header included), 0, or -errno. */
ssize_t	netbe_peek_recvlen(struct net_backend *be, int q);
/*
 * Receive the next frame (header first) into iov: returns its length,
 * 0 when none waits, or -errno (-EPIPE once the backend is gone).  A
 * frame longer than iov is truncated and dropped: the call returns
 * -EMSGSIZE (use netbe_peek_recvlen() first).  Never blocks.
 */
ssize_t	netbe_recv(struct net_backend *be, int q, const struct iovec *iov,
	    int iovcnt);
/* The backend's counters. */
const struct netbe_stats *netbe_stats(const struct net_backend *be);

/*
 * For backends on a socket: a socket call's errno as this contract
 * names it (-EAGAIN: full or interrupted, try later; -EPIPE: the peer is
 * gone; else -errno).
 */
ssize_t	netbe_sockerr(int e);

/* For `-s help`-style listings: the backend names, comma-separated. */
void	netbe_list(char *buf, size_t len);

#endif /* NET_BACKEND_H */
