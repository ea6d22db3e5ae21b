/*
 * virtio_net_rx.c: virtio-net's receive side (virtio 1.2 §5.1.6.3,
 * §5.1.6.4; bhyve's pci_vtnet_rx()).
 *
 * The worker watches each backend queue's fd.  When one is readable the
 * device asks the backend how long the next frame is
 * (netbe_peek_recvlen), takes guest receive chains until they hold the
 * header and the frame, and receives the frame straight into them: with
 * MRG_RXBUF over as many chains as it needs (num_buffers says how many),
 * otherwise into one chain, and a frame one chain cannot hold is dropped.
 * Chains taken for a frame that could not be completed yet (the guest
 * ran out of buffers half-way) are held for the next attempt, in the
 * queue generation they came from; a reset forgets them.
 *
 * When the guest has no receive buffers the device stops watching the
 * fd (the poll is level-triggered: the frame would wake the worker for
 * ever) and watches it again when the guest notifies the receive queue.
 * A pass handles at most a ring's worth of frames; a readable fd brings
 * the worker back for the rest after the other queues had their turn.
 *
 * With MQ the backend's queue b feeds the guest's receive queue
 * b % (pairs in use): after reset only receiveq1 (§5.1.6.5.5).
 */
#include <errno.h>
#include <string.h>
#include "backend/net_backend.h"
#include "log.h"
#include "virtio/iov.h"
#include "virtio/virtio.h"
#include "virtio/virtio_net_impl.h"

static uint8_t vnet_sink[1];	/* receiving into it drops a frame */

bool
vnet_queue_live(struct vnet_softc *sc, int q)
{
	struct virtio_softc *vs = &sc->vn_vs;
	struct virtio_queue *vq = &vs->vs_queues[q];

	/* A legacy driver may use queues before DRIVER_OK (§2.1.2). */
	return (vq->enabled && vq->vq.vq_ready && !vq_broken(&vq->vq) &&
	    (vs->vs_status & VIRTIO_S_NEEDS_RESET) == 0 &&
	    ((vs->vs_status & VIRTIO_S_DRIVER_OK) != 0 ||
	    (sc->vn_neg & VIRTIO_F_VERSION_1) == 0));
}

/* The fd of backend pair b is shared with others; watch it if all may. */
void
vnet_poll_update(struct vnet_softc *sc, int b)
{
	struct vnet_bq *bq = &sc->vn_bq[b], *o = NULL;
	bool want = !sc->vn_gone;
	int i, error;

	for (i = 0; i < sc->vn_npairs; i++) {
		if (sc->vn_bq[i].fd != bq->fd)
			continue;
		if (sc->vn_bq[i].owner)
			o = &sc->vn_bq[i];
		if (sc->vn_bq[i].paused)
			want = false;
	}
	if (o == NULL || o->polling == want)
		return;
	error = virtio_worker_fd_enable(&sc->vn_vs, o->fd, want);
	if (error == 0)
		o->polling = want;
	else
		log_warnx_rl("%s: backend fd %d: %s", sc->vn_vs.vs_pi->pi_name,
		    o->fd, strerror(-error));
}

void
vnet_rx_reset(struct vnet_softc *sc)
{
	int g;

	for (g = 0; g < sc->vn_npairs; g++) {
		sc->vn_rxq[g].nheld = 0;
		sc->vn_rxq[g].niov = 0;
		sc->vn_rxq[g].have = 0;
	}
}

/* Drop the first k held chains (they were used); keep the rest. */
static void
vnet_rx_shift(struct vnet_rxq *rq, unsigned k)
{
	unsigned i, niov = 0;
	uint64_t bytes = 0;

	for (i = 0; i < k; i++) {
		niov += rq->held_niov[i];
		bytes += rq->held[i].vr_wbytes;
	}
	memmove(rq->held, rq->held + k, (rq->nheld - k) * sizeof(rq->held[0]));
	memmove(rq->held_niov, rq->held_niov + k, (rq->nheld - k) *
	    sizeof(rq->held_niov[0]));
	memmove(rq->iov, rq->iov + niov, (rq->niov - niov) * sizeof(rq->iov[0]));
	rq->nheld -= k;
	rq->niov -= niov;
	rq->have -= bytes;
}

/*
 * Take chains until the held ones have need bytes.  Returns 1 when they
 * do, 0 when the guest has no more buffers, -1 when the frame cannot be
 * held at all (no MRG_RXBUF and the chain is too small, or more chains
 * or iovecs than the device keeps), -2 when the ring is broken.
 */
static int
vnet_rx_gather(struct vnet_softc *sc, int q, struct vnet_rxq *rq,
    uint64_t need)
{
	struct vqueue *vq = virtio_vq(&sc->vn_vs, q);
	bool mrg = (sc->vn_neg & VIRTIO_NET_F_MRG_RXBUF) != 0;
	struct iovec iov[VNET_CHAIN_NIOV];
	struct vq_req req;
	int n;

	if (rq->nheld > 0 && rq->gen != vq->vq_gen) {
		/* The queue was reset or set up again meanwhile. */
		rq->nheld = rq->niov = 0;
		rq->have = 0;
	}
	while (rq->have < need) {
		if (rq->nheld > 0 && (!mrg || rq->nheld == VNET_RX_CHAINS))
			return (-1);
		n = vq_getchain(vq, iov, nitems(iov), &req);
		if (n <= 0)
			return (n < 0 ? -2 : 0);
		/*
		 * §5.1.6.3.1: receive buffers are device-writable, and with
		 * MRG_RXBUF each holds at least the header.  Another chain
		 * is given back empty and the queue goes on.
		 */
		if (req.vr_nread != 0 || req.vr_wbytes < sc->vn_hdrlen) {
			sc->vn_st.rx_badchain++;
			log_warnx_rl("%s: receive queue %d: a chain of %llu "
			    "readable and %llu writable bytes is no receive "
			    "buffer", sc->vn_vs.vs_pi->pi_name, q / 2,
			    (unsigned long long)req.vr_rbytes,
			    (unsigned long long)req.vr_wbytes);
			vq_relchain(vq, &req, 0);
			continue;
		}
		if (rq->niov + req.vr_nwrite > VNET_RX_NIOV) {
			vq_retchain(vq, &req);
			return (-1);
		}
		memcpy(rq->iov + rq->niov, iov, req.vr_nwrite * sizeof(iov[0]));
		rq->held[rq->nheld] = req;
		rq->held_niov[rq->nheld++] = req.vr_nwrite;
		rq->niov += req.vr_nwrite;
		rq->have += req.vr_wbytes;
		rq->gen = req.vr_gen;
	}
	return (1);
}

/*
 * The backend's header, checked against what the guest accepted
 * (§5.1.6.4.1): flags only with GUEST_CSUM, each GSO type only with its
 * GUEST_ feature.  Returns false for a frame the guest cannot take.
 */
static bool
vnet_rx_hdr(struct vnet_softc *sc, uint8_t *h)
{
	uint64_t o = sc->vn_goffl;
	uint8_t gso = h[1] & ~VIRTIO_NET_HDR_GSO_ECN;

	if ((o & VIRTIO_NET_F_GUEST_CSUM) == 0)
		h[0] = 0;
	h[0] &= VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
	if ((h[1] & VIRTIO_NET_HDR_GSO_ECN) && !(o & VIRTIO_NET_F_GUEST_ECN))
		return (false);
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return (true);
	case VIRTIO_NET_HDR_GSO_TCPV4:
		o &= VIRTIO_NET_F_GUEST_TSO4;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		o &= VIRTIO_NET_F_GUEST_TSO6;
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
		o &= VIRTIO_NET_F_GUEST_UFO;
		break;
	default:
		return (false);
	}
	return (o != 0 && (h[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0);
}

/* Receive and drop the next frame of backend pair b. */
static void
vnet_rx_drop(struct vnet_softc *sc, int b)
{
	struct iovec sink = { vnet_sink, sizeof(vnet_sink) };

	(void)netbe_recv(sc->vn_be, b, &sink, 1);
}

/*
 * Deliver the frame that waits on backend pair b into the held chains
 * of guest queue q.  Returns the chains used, 0 when the frame was
 * dropped, -1 when there was none after all or the backend is gone.
 */
static int
vnet_rx_frame(struct vnet_softc *sc, int b, int q, struct vnet_rxq *rq)
{
	struct vqueue *vq = virtio_vq(&sc->vn_vs, q);
	uint8_t hdr[NETBE_VNET_HDR_MRG_LEN];
	uint64_t left, total, flen;
	unsigned k, hl = sc->vn_hdrlen;
	uint32_t w;
	ssize_t r;
	int cnt, off = 0;

	memset(hdr, 0, sizeof(hdr));
	/* The header lands in the device's copy, the frame in the guest. */
	if (sc->vn_behdr != 0) {
		sc->vn_slice[0].iov_base = hdr;
		sc->vn_slice[0].iov_len = sc->vn_behdr;
		off = 1;
	}
	cnt = iov_slice(rq->iov, rq->niov, hl, (size_t)(rq->have - hl),
	    sc->vn_slice + off, nitems(sc->vn_slice) - (unsigned)off);
	if (cnt < 0) {
		vnet_rx_drop(sc, b);	/* cannot be: the chains hold it */
		return (0);
	}
	r = netbe_recv(sc->vn_be, b, sc->vn_slice, cnt + off);
	if (r == -EPIPE)
		vnet_link_down(sc);
	if (r == 0 || (r < 0 && r != -EMSGSIZE))
		return (-1);
	if (r <= (ssize_t)sc->vn_behdr) {
		sc->vn_st.rx_toobig++;
		return (0);
	}
	flen = (uint64_t)r - sc->vn_behdr;
	if (sc->vn_behdr != 0 && !vnet_rx_hdr(sc, hdr)) {
		sc->vn_st.rx_badhdr++;
		log_warnx_rl("%s: backend gave a frame with flags %#x, GSO "
		    "type %#x the guest did not accept",
		    sc->vn_vs.vs_pi->pi_name, hdr[0], hdr[1]);
		return (0);
	}
	/* §5.1.4.1: no plain frame over the MTU the driver accepted. */
	if ((sc->vn_neg & VIRTIO_NET_F_MTU) && (hdr[1] &
	    ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_NONE &&
	    flen > (uint64_t)sc->vn_mtu + VNET_ETHER_HDR + VNET_VLAN_HDR) {
		sc->vn_st.rx_mtu++;
		return (0);
	}
	/* Chains used: all but the last filled up (§5.1.6.4.1). */
	total = hl + flen;
	for (k = 0, left = total; left > 0 && k < rq->nheld; k++)
		left -= MIN(left, rq->held[k].vr_wbytes);
	if (hl == NETBE_VNET_HDR_MRG_LEN) {
		hdr[VNET_HDR_NUM_BUFFERS] = (uint8_t)k;
		hdr[VNET_HDR_NUM_BUFFERS + 1] = (uint8_t)(k >> 8);
	}
	(void)buf_to_iov(rq->iov, rq->niov, 0, hdr, hl);
	for (k = 0, left = total; left > 0 && k < rq->nheld; k++) {
		w = (uint32_t)MIN(left, rq->held[k].vr_wbytes);
		vq_relchain(vq, &rq->held[k], w);
		left -= w;
	}
	vnet_rx_shift(rq, k);
	sc->vn_st.rx_frames++;
	sc->vn_st.rx_bytes += flen;
	return ((int)k);
}

/* Frames from backend pair b into the guest's queue for it. */
static void
vnet_rx(struct vnet_softc *sc, int b)
{
	int g = b % sc->vn_active, q = 2 * g, n = 0;
	struct vnet_rxq *rq = &sc->vn_rxq[g];
	struct vqueue *vq = virtio_vq(&sc->vn_vs, q);
	uint64_t need;
	ssize_t len;
	int ok;

	if (sc->vn_gone || !vnet_queue_live(sc, q)) {
		sc->vn_bq[b].paused = true;
		vnet_poll_update(sc, b);
		return;
	}
	for (; n < vq->vq_size; n++) {
		len = netbe_peek_recvlen(sc->vn_be, b);
		if (len == -EPIPE)
			vnet_link_down(sc);
		if (len <= 0)
			break;
		if ((size_t)len <= sc->vn_behdr || (size_t)len - sc->vn_behdr >
		    NETBE_FRAME_MAX) {
			vnet_rx_drop(sc, b);
			continue;
		}
		need = (uint64_t)len - sc->vn_behdr + sc->vn_hdrlen;
		ok = vnet_rx_gather(sc, q, rq, need);
		if (ok == -2) {
			virtio_needs_reset(&sc->vn_vs, q);
			break;
		}
		if (ok == 0) {
			/* Out of buffers: wait for the guest's notify. */
			sc->vn_st.rx_nobufs++;
			sc->vn_bq[b].paused = true;
			vnet_poll_update(sc, b);
			break;
		}
		if (ok < 0) {
			sc->vn_st.rx_toobig++;
			log_warnx_rl("%s: receive queue %d: a frame of %zd bytes "
			    "does not fit the guest's buffers (dropped)",
			    sc->vn_vs.vs_pi->pi_name, g, len);
			vnet_rx_drop(sc, b);
			continue;
		}
		/* A frame the backend said was there and is not: stop. */
		if (vnet_rx_frame(sc, b, q, rq) < 0 || sc->vn_gone)
			break;
	}
	if (vq_endchains(vq))
		virtio_vq_interrupt(&sc->vn_vs, q);
	/* Buffers the guest added while the fd was being paused. */
	if (sc->vn_bq[b].paused && vq_has_descs(vq)) {
		sc->vn_bq[b].paused = false;
		vnet_poll_update(sc, b);
		virtio_requeue(&sc->vn_vs, q);
	}
}

void
vnet_rx_fd(void *dev, int fd)
{
	struct vnet_softc *sc = dev;
	int b;

	for (b = 0; b < sc->vn_npairs; b++)
		if (sc->vn_bq[b].fd == fd)
			vnet_rx(sc, b);
}

void
vnet_rx_notify(struct vnet_softc *sc, int g)
{
	int b;

	for (b = 0; b < sc->vn_npairs; b++) {
		if (b % sc->vn_active != g)
			continue;
		sc->vn_bq[b].paused = false;
		vnet_poll_update(sc, b);
		vnet_rx(sc, b);
	}
	/* Always end the batch, even with no backend queue for g now. */
	if (vq_endchains(virtio_vq(&sc->vn_vs, 2 * g)))
		virtio_vq_interrupt(&sc->vn_vs, 2 * g);
}
