/*
 * virtio_net.c: the network device (virtio 1.2 §5.1; bhyve's
 * pci_virtio_net.c), set-up, features, transmit and the control queue;
 * receive is virtio_net_rx.c.
 *
 *	-s N,virtio-net,BACKEND[,mac=xx:xx:xx:xx:xx:xx][,mtu=N]
 *	    [,num_queues=N][,backend keys...]
 *
 * Frames move through a network backend (backend/net_backend.h: tap,
 * slirp, passt), which the device polls on the worker thread.  When the
 * backend carries struct virtio_net_hdr (NETBE_CAP_VNET_HDR) the guest's
 * header goes to it and comes from it as it is, and the offloads the
 * backend can do are offered (CSUM, HOST_TSO4/6/ECN/UFO, and their
 * GUEST_ receive equivalents); otherwise the device strips the guest's
 * header on transmit and writes a zeroed one on receive, and offers no
 * offload.  The header is 12 bytes with VERSION_1 or MRG_RXBUF, else 10
 * (§5.1.6, "Legacy Interface: Device Operation").
 *
 * Queues (§5.1.2): receiveq1, transmitq1, ... receiveqN, transmitqN,
 * controlq, where N is max_virtqueue_pairs with MQ negotiated and 1
 * otherwise, so the control queue is queue 2 for a driver without MQ.
 *
 * The control queue accepts every RX mode command, MAC_TABLE_SET,
 * MAC_ADDR_SET, MQ_VQ_PAIRS_SET and GUEST_OFFLOADS_SET.  The device does
 * not filter: RX modes and MAC tables are acknowledged and recorded, and
 * the guest gets every frame the backend delivers (the commands are
 * "best-effort", §5.1.6.5.1).
 *
 * All of it runs under vs_mtx, on the worker (queue notifications, the
 * backend's fds) or a vCPU (configuration, reset, features); backend
 * calls never block.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend/net_backend.h"
#include "config.h"
#include "log.h"
#include "md5.h"
#include "pci/pci_emul.h"
#include "virtio/iov.h"
#include "virtio/virtio.h"
#include "virtio/virtio_net_impl.h"

/* bhyve's net_genmac(): the NetApp OUI bhyve has always used. */
static const uint8_t vnet_oui[3] = { 0x00, 0xa0, 0x98 };

extern const struct pci_devemu pci_de_vnet;

/* ---- MAC addresses ---- */

void
vnet_genmac(int slot, int func, const char *vmname, uint8_t mac[6])
{
	uint8_t digest[MD5_DIGEST_LEN];
	char nstr[80];		/* bhyve's size: longer names are cut */

	snprintf(nstr, sizeof(nstr), "%d-%d-%s", slot, func,
	    vmname != NULL ? vmname : "(null)");
	md5(nstr, strlen(nstr), digest);
	memcpy(mac, vnet_oui, 3);
	memcpy(mac + 3, digest, 3);
}

static int
vnet_hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

int
vnet_parse_mac(const char *s, uint8_t mac[6])
{
	int i, d, v, n;

	for (i = 0; i < 6; i++) {
		for (v = 0, n = 0; n < 2 && (d = vnet_hexdigit(*s)) >= 0; n++,
		    s++)
			v = v * 16 + d;
		if (n == 0 || *s != (i < 5 ? ':' : '\0'))
			return (-EINVAL);
		mac[i] = (uint8_t)v;
		if (i < 5)
			s++;
	}
	/* bhyve's net_parsemac(): no group address, not all zero. */
	if ((mac[0] & 1) != 0 || (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] |
	    mac[5]) == 0)
		return (-EINVAL);
	return (0);
}

/* ---- configuration space and link ---- */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint16_t
get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] | p[1] << 8));
}

static void
vnet_config(struct vnet_softc *sc)
{
	memcpy(sc->vn_cfg + VNET_CFG_MAC, sc->vn_mac, 6);
	put16(sc->vn_cfg + VNET_CFG_STATUS, sc->vn_gone ? 0 :
	    VIRTIO_NET_S_LINK_UP);
	put16(sc->vn_cfg + VNET_CFG_PAIRS, (uint16_t)sc->vn_npairs);
	put16(sc->vn_cfg + VNET_CFG_MTU, sc->vn_mtu);
}

void
vnet_link_down(struct vnet_softc *sc)
{
	int b;

	if (sc->vn_gone)
		return;
	sc->vn_gone = true;
	put16(sc->vn_cfg + VNET_CFG_STATUS, 0);
	/* §5.1.4: the driver re-reads status on a configuration change. */
	if (sc->vn_vs.vs_status & VIRTIO_S_DRIVER_OK)
		virtio_config_changed(&sc->vn_vs);
	/* A peer that hung up leaves its fd readable for ever. */
	for (b = 0; b < sc->vn_npairs; b++)
		vnet_poll_update(sc, b);
}

/*
 * Legacy drivers without CTRL_MAC_ADDR set the MAC by writing it here
 * ("Legacy Interface: Device configuration layout", §5.1.4.2); for a
 * VERSION_1 driver the configuration is read-only.
 */
static void
vnet_cfgwrite(void *dev, unsigned off, unsigned size, uint32_t val)
{
	struct vnet_softc *sc = dev;
	unsigned i;

	if (sc->vn_neg & VIRTIO_F_VERSION_1)
		return;
	for (i = 0; i < size; i++)
		if (off + i < 6)
			sc->vn_cfg[off + i] = (uint8_t)(val >> (8 * i));
}

/* ---- features ---- */

/* What the backend can do, as the feature bits that go with it. */
static uint64_t
vnet_offload_features(uint32_t caps)
{
	uint64_t f = 0;

	if ((caps & NETBE_CAP_VNET_HDR) == 0 || (caps & NETBE_CAP_CSUM) == 0)
		return (0);
	/* §5.1.3.1: TSO and UFO need CSUM, ECN needs TSO. */
	f |= VIRTIO_NET_F_CSUM | VIRTIO_NET_F_GUEST_CSUM;
	if (caps & NETBE_CAP_TSO4)
		f |= VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_GUEST_TSO4;
	if (caps & NETBE_CAP_TSO6)
		f |= VIRTIO_NET_F_HOST_TSO6 | VIRTIO_NET_F_GUEST_TSO6;
	if ((caps & NETBE_CAP_TSO_ECN) && (caps & (NETBE_CAP_TSO4 |
	    NETBE_CAP_TSO6)))
		f |= VIRTIO_NET_F_HOST_ECN | VIRTIO_NET_F_GUEST_ECN;
	if (caps & NETBE_CAP_UFO)
		f |= VIRTIO_NET_F_HOST_UFO | VIRTIO_NET_F_GUEST_UFO;
	return (f | VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
}

/*
 * The backend's offloads for the receive offloads the guest takes: what
 * it may put in the frames it gives us (QEMU's
 * virtio_net_apply_guest_offloads() does the same with a tap).  On
 * transmit the guest only uses the HOST_ offloads it was offered, which
 * the backend reported it takes.
 */
static uint32_t
vnet_caps_for(uint64_t goffl)
{
	uint32_t caps = 0;

	if (goffl & VIRTIO_NET_F_GUEST_CSUM)
		caps |= NETBE_CAP_CSUM;
	if (goffl & VIRTIO_NET_F_GUEST_TSO4)
		caps |= NETBE_CAP_TSO4;
	if (goffl & VIRTIO_NET_F_GUEST_TSO6)
		caps |= NETBE_CAP_TSO6;
	if (goffl & VIRTIO_NET_F_GUEST_ECN)
		caps |= NETBE_CAP_TSO_ECN;
	if (goffl & VIRTIO_NET_F_GUEST_UFO)
		caps |= NETBE_CAP_UFO;
	return (caps);
}

/* Header length and offloads for the backend; 0 or -errno. */
static int
vnet_apply_caps(struct vnet_softc *sc, uint64_t goffl)
{
	int error;

	if ((sc->vn_becaps & NETBE_CAP_VNET_HDR) == 0) {
		sc->vn_behdr = 0;
		return (goffl != 0 ? -EINVAL : 0);
	}
	error = netbe_set_cap(sc->vn_be, vnet_caps_for(goffl), sc->vn_hdrlen);
	if (error == 0) {
		sc->vn_behdr = sc->vn_hdrlen;
		sc->vn_goffl = goffl;
	}
	return (error);
}

static void
vnet_features(void *dev, uint64_t neg)
{
	struct vnet_softc *sc = dev;
	int error;

	/* Chains held for a frame (a legacy driver may come back to set
	 * features again) are still the guest's buffers: kept. */
	sc->vn_neg = neg;
	sc->vn_hdrlen = (neg & (VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MRG_RXBUF)) ?
	    NETBE_VNET_HDR_MRG_LEN : NETBE_VNET_HDR_LEN;
	sc->vn_layout = (neg & VIRTIO_NET_F_MQ) ? sc->vn_npairs : 1;
	sc->vn_ctrlq = (neg & VIRTIO_NET_F_CTRL_VQ) ? 2 * sc->vn_layout : -1;
	sc->vn_active = 1;
	sc->vn_goffl = 0;
	error = vnet_apply_caps(sc, neg & VNET_GUEST_OFFLOADS);
	if (error != 0) {
		/* Bare frames still work; offloads do not. */
		log_warnx_rl("%s: backend refused a %u-byte header: %s",
		    sc->vn_vs.vs_pi->pi_name, sc->vn_hdrlen, strerror(-error));
		if (netbe_set_cap(sc->vn_be, 0, 0) != 0)
			log_warnx_rl("%s: backend refused bare frames",
			    sc->vn_vs.vs_pi->pi_name);
		sc->vn_behdr = 0;
	}
}

static void
vnet_reset(void *dev)
{
	struct vnet_softc *sc = dev;
	int b;

	/* Nothing is in flight but chains held for a frame: forget them. */
	vnet_rx_reset(sc);
	sc->vn_neg = 0;
	sc->vn_hdrlen = NETBE_VNET_HDR_LEN;
	sc->vn_layout = 1;
	sc->vn_ctrlq = -1;
	sc->vn_active = 1;
	sc->vn_goffl = 0;
	sc->vn_rxmode = 0;
	if (netbe_hdrlen(sc->vn_be) != 0 && netbe_set_cap(sc->vn_be, 0, 0) != 0)
		log_warnx_rl("%s: backend refused bare frames",
		    sc->vn_vs.vs_pi->pi_name);
	sc->vn_behdr = 0;
	/* MAC_ADDR_SET and legacy writes last until reset, as in QEMU. */
	vnet_config(sc);
	for (b = 0; b < sc->vn_npairs; b++) {
		sc->vn_bq[b].paused = false;
		vnet_poll_update(sc, b);
	}
}

/* ---- transmit ---- */

/*
 * One transmit chain: the header, then the frame, all device-readable
 * (§5.1.6.2: "The header and packet are added as one output descriptor
 * to the transmitq").  A chain with device-writable buffers, shorter
 * than the header plus an Ethernet header, or longer than the backend
 * takes is the driver's error, not the ring's: it is dropped and
 * completed, and the queue goes on.  The used length is 0 (the legacy
 * section of §5.1.6 has drivers ignore it).
 */
static void
vnet_tx_one(struct vnet_softc *sc, int pair, const struct vq_req *req)
{
	struct vnet_stats *st = &sc->vn_st;
	const struct iovec *iov = sc->vn_chain;
	uint64_t flen;
	ssize_t r;
	int cnt;

	if (req->vr_nwrite != 0 || req->vr_rbytes < sc->vn_hdrlen +
	    VNET_ETHER_HDR || req->vr_rbytes - sc->vn_hdrlen >
	    NETBE_FRAME_MAX) {
		st->tx_bad++;
		log_warnx_rl("%s: transmit queue %d: dropped a chain of %llu "
		    "readable and %llu writable bytes", sc->vn_vs.vs_pi->pi_name,
		    pair, (unsigned long long)req->vr_rbytes,
		    (unsigned long long)req->vr_wbytes);
		return;
	}
	flen = req->vr_rbytes - sc->vn_hdrlen;
	if (sc->vn_behdr == sc->vn_hdrlen) {
		cnt = (int)req->vr_nread;
	} else {
		/* Bare frames: leave the header out. */
		cnt = iov_slice(iov, req->vr_nread, sc->vn_hdrlen,
		    (size_t)flen, sc->vn_slice, nitems(sc->vn_slice));
		if (cnt <= 0) {
			st->tx_bad++;
			return;
		}
		iov = sc->vn_slice;
	}
	r = netbe_send(sc->vn_be, pair, iov, cnt);
	if (r < 0)
		st->tx_dropped++;	/* full or gone: the backend counts */
	else
		st->tx_frames++;
}

static void
vnet_tx(struct vnet_softc *sc, int pair, int q)
{
	struct vqueue *vq = virtio_vq(&sc->vn_vs, q);
	struct vq_req req;
	int n;

	/* One batch: at most a ring's worth of chains (virtqueue.h). */
	while ((n = vq_getchain(vq, sc->vn_chain, nitems(sc->vn_chain),
	    &req)) > 0) {
		vnet_tx_one(sc, pair, &req);
		vq_relchain(vq, &req, 0);
	}
	if (n < 0)
		virtio_needs_reset(&sc->vn_vs, q);
	if (vq_endchains(vq))
		virtio_vq_interrupt(&sc->vn_vs, q);
	if (n == 0 && vq_has_descs(vq))
		virtio_requeue(&sc->vn_vs, q);
}

/* ---- the control queue (§5.1.6.5) ---- */

static uint8_t
vnet_ctrl_rx(struct vnet_softc *sc, uint8_t cmd, const struct iovec *iov,
    unsigned n, uint64_t dlen)
{
	uint8_t on;

	if ((sc->vn_neg & VIRTIO_NET_F_CTRL_RX) == 0 || cmd >
	    VIRTIO_NET_CTRL_RX_NOBCAST || (cmd > VIRTIO_NET_CTRL_RX_ALLMULTI &&
	    (sc->vn_neg & VIRTIO_NET_F_CTRL_RX_EXTRA) == 0) || dlen != 1)
		return (VIRTIO_NET_ERR);
	(void)iov_to_buf(iov, n, 2, &on, 1);
	if (on > 1)
		return (VIRTIO_NET_ERR);
	/* Recorded, not enforced: every frame reaches the guest. */
	if (on)
		sc->vn_rxmode |= (uint8_t)(1u << cmd);
	else
		sc->vn_rxmode &= (uint8_t)~(1u << cmd);
	return (VIRTIO_NET_OK);
}

static uint8_t
vnet_ctrl_mac(struct vnet_softc *sc, uint8_t cmd, const struct iovec *iov,
    unsigned n, uint64_t dlen)
{
	uint8_t mac[6], le[4];
	uint64_t off, n1, n2;

	if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
		if ((sc->vn_neg & VIRTIO_NET_F_CTRL_MAC_ADDR) == 0 || dlen != 6)
			return (VIRTIO_NET_ERR);
		(void)iov_to_buf(iov, n, 2, mac, 6);
		if (mac[0] & 1)
			return (VIRTIO_NET_ERR);
		/* §5.1.6.5.2: mac is updated before the command is used. */
		memcpy(sc->vn_cfg + VNET_CFG_MAC, mac, 6);
		return (VIRTIO_NET_OK);
	}
	if (cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET ||
	    (sc->vn_neg & VIRTIO_NET_F_CTRL_RX) == 0 || dlen < 8)
		return (VIRTIO_NET_ERR);
	/* Two tables, le32 entries then entries * 6 bytes each; exactly. */
	(void)iov_to_buf(iov, n, 2, le, 4);
	n1 = (uint64_t)le[0] | (uint64_t)le[1] << 8 | (uint64_t)le[2] << 16 |
	    (uint64_t)le[3] << 24;
	if (4 + 6 * n1 + 4 > dlen)
		return (VIRTIO_NET_ERR);
	off = 2 + 4 + 6 * n1;
	(void)iov_to_buf(iov, n, (size_t)off, le, 4);
	n2 = (uint64_t)le[0] | (uint64_t)le[1] << 8 | (uint64_t)le[2] << 16 |
	    (uint64_t)le[3] << 24;
	if (4 + 6 * n1 + 4 + 6 * n2 != dlen)
		return (VIRTIO_NET_ERR);
	return (VIRTIO_NET_OK);
}

static uint8_t
vnet_ctrl_mq(struct vnet_softc *sc, uint8_t cmd, const struct iovec *iov,
    unsigned n, uint64_t dlen)
{
	uint8_t le[2];
	unsigned pairs;
	int b;

	if ((sc->vn_neg & VIRTIO_NET_F_MQ) == 0 ||
	    cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || dlen != 2)
		return (VIRTIO_NET_ERR);
	(void)iov_to_buf(iov, n, 2, le, 2);
	pairs = get16(le);
	if (pairs < 1 || pairs > (unsigned)sc->vn_npairs)
		return (VIRTIO_NET_ERR);
	/*
	 * Receive queues past pairs get no frames now (§5.1.6.5.5): the
	 * backend's queue b feeds the guest's b % pairs, so no flow the
	 * host steered to a queue the guest gave up is lost.  Chains held
	 * for a frame stay with their queue, for its next frame.
	 */
	sc->vn_active = (int)pairs;
	for (b = 0; b < sc->vn_npairs; b++) {
		sc->vn_bq[b].paused = false;
		vnet_poll_update(sc, b);
	}
	return (VIRTIO_NET_OK);
}

static uint8_t
vnet_ctrl_offloads(struct vnet_softc *sc, uint8_t cmd,
    const struct iovec *iov, unsigned n, uint64_t dlen)
{
	uint8_t le[8];
	uint64_t off = 0;
	int i;

	if ((sc->vn_neg & VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) == 0 ||
	    cmd != VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET || dlen != 8)
		return (VIRTIO_NET_ERR);
	(void)iov_to_buf(iov, n, 2, le, 8);
	for (i = 7; i >= 0; i--)
		off = off << 8 | le[i];
	/* §5.1.6.5.6: only receive offloads that were negotiated. */
	if ((off & ~(sc->vn_neg & VNET_GUEST_OFFLOADS)) != 0)
		return (VIRTIO_NET_ERR);
	return (vnet_apply_caps(sc, off) == 0 ? VIRTIO_NET_OK : VIRTIO_NET_ERR);
}

/* The ack for one command of rbytes readable bytes. */
static uint8_t
vnet_ctrl_cmd(struct vnet_softc *sc, const struct iovec *iov, unsigned n,
    uint64_t rbytes)
{
	uint8_t hdr[2];

	if (rbytes < 2 || iov_to_buf(iov, n, 0, hdr, 2) != 2)
		return (VIRTIO_NET_ERR);
	switch (hdr[0]) {
	case VIRTIO_NET_CTRL_RX:
		return (vnet_ctrl_rx(sc, hdr[1], iov, n, rbytes - 2));
	case VIRTIO_NET_CTRL_MAC:
		return (vnet_ctrl_mac(sc, hdr[1], iov, n, rbytes - 2));
	case VIRTIO_NET_CTRL_MQ:
		return (vnet_ctrl_mq(sc, hdr[1], iov, n, rbytes - 2));
	case VIRTIO_NET_CTRL_GUEST_OFFLOADS:
		return (vnet_ctrl_offloads(sc, hdr[1], iov, n, rbytes - 2));
	default:
		/* VLAN and ANNOUNCE are not offered; no other class exists. */
		return (VIRTIO_NET_ERR);
	}
}

static void
vnet_ctrl(struct vnet_softc *sc, int q)
{
	struct vqueue *vq = virtio_vq(&sc->vn_vs, q);
	struct iovec iov[VNET_CTRL_NIOV];
	struct vq_req req;
	uint8_t ack;
	int n;

	while ((n = vq_getchain(vq, iov, nitems(iov), &req)) > 0) {
		/* No room for the ack: nothing can be said (§5.1.6.5). */
		if (req.vr_wbytes == 0) {
			sc->vn_st.ctrl_err++;
			log_warnx_rl("%s: control queue: a command with no ack "
			    "byte", sc->vn_vs.vs_pi->pi_name);
			vq_relchain(vq, &req, 0);
			continue;
		}
		ack = vnet_ctrl_cmd(sc, iov, req.vr_nread, req.vr_rbytes);
		if (ack == VIRTIO_NET_OK)
			sc->vn_st.ctrl_ok++;
		else
			sc->vn_st.ctrl_err++;
		(void)buf_to_iov(iov + req.vr_nread, req.vr_nwrite, 0, &ack, 1);
		vq_relchain(vq, &req, 1);
	}
	if (n < 0)
		virtio_needs_reset(&sc->vn_vs, q);
	if (vq_endchains(vq))
		virtio_vq_interrupt(&sc->vn_vs, q);
	if (n == 0 && vq_has_descs(vq))
		virtio_requeue(&sc->vn_vs, q);
}

static void
vnet_notify(void *dev, int q)
{
	struct vnet_softc *sc = dev;

	if (q == sc->vn_ctrlq)
		vnet_ctrl(sc, q);
	else if (q < 2 * sc->vn_layout && (q & 1))
		vnet_tx(sc, q / 2, q);
	else if (q < 2 * sc->vn_layout)
		vnet_rx_notify(sc, q / 2);
	/* Queues past the layout the driver negotiated are not used. */
}

static const struct virtio_devops vnet_ops = {
	.vd_name = "virtio-net",
	.vd_type = VIRTIO_ID_NET,
	.vd_class = 0x02,		/* network controller */
	.vd_subclass = 0x00,		/* Ethernet */
	.vd_reset = vnet_reset,
	.vd_notify = vnet_notify,
	.vd_cfgwrite = vnet_cfgwrite,
	.vd_features = vnet_features,
};

/* ---- set-up ---- */

static int
vnet_keys(struct vnet_softc *sc, struct pci_devinst *pi,
    struct config_node *nvl, int *want, bool *explicit)
{
	const char *mac = config_get(nvl, "mac");
	uint64_t v;

	if (mac != NULL && vnet_parse_mac(mac, sc->vn_mac) != 0) {
		log_warnx("%s: mac=%s: want six hexadecimal bytes "
		    "xx:xx:xx:xx:xx:xx of a unicast address, not all zero",
		    pi->pi_name, mac);
		return (-EINVAL);
	}
	if (mac == NULL)
		vnet_genmac(pi->pi_slot, pi->pi_func, config_get(NULL, "name"),
		    sc->vn_mac);
	if (config_get(nvl, "mtu") != NULL) {
		if (config_get_uint64(nvl, "mtu", 0, &v) != 0 || v < 68 ||
		    v > 65535) {
			log_warnx("%s: mtu=%s: want 68 to 65535", pi->pi_name,
			    config_get(nvl, "mtu"));
			return (-EINVAL);
		}
		sc->vn_mtu = (uint16_t)v;
	}
	*explicit = config_get(nvl, "num_queues") != NULL;
	v = (uint64_t)pi->pi_ctx->dc_ncpus;
	if (config_get_uint64(nvl, "num_queues", v, &v) != 0 ||
	    (*explicit && (v < 1 || v > VNET_MAX_PAIRS))) {
		log_warnx("%s: num_queues=%s: want 1 to %d queue pairs",
		    pi->pi_name, config_get(nvl, "num_queues"), VNET_MAX_PAIRS);
		return (-EINVAL);
	}
	*want = (int)MAX(1, MIN(v, (uint64_t)VNET_MAX_PAIRS));
	return (0);
}

static void
vnet_free(struct vnet_softc *sc)
{
	netbe_cleanup(sc->vn_be);
	free(sc->vn_rxq);
	free(sc->vn_bq);
	free(sc);
}

static int
vnet_fds(struct vnet_softc *sc)
{
	struct vnet_bq *bq;
	int b, o, error = 0;

	for (b = 0; b < sc->vn_npairs; b++) {
		bq = &sc->vn_bq[b];
		bq->fd = netbe_fd(sc->vn_be, b);
		if (bq->fd < 0)
			return (-EBADF);
		bq->polling = true;
		for (o = 0; o < b && sc->vn_bq[o].fd != bq->fd; o++)
			;
		bq->owner = o == b;
	}
	/* The worker runs already: it may call back as soon as fds are in. */
	pthread_mutex_lock(&sc->vn_vs.vs_mtx);
	for (b = 0; b < sc->vn_npairs && error == 0; b++)
		if (sc->vn_bq[b].owner)
			error = virtio_worker_add_fd(&sc->vn_vs, sc->vn_bq[b].fd,
			    vnet_rx_fd);
	pthread_mutex_unlock(&sc->vn_vs.vs_mtx);
	return (error);
}

static int
vnet_init(struct pci_devinst *pi, struct config_node *nvl)
{
	struct vnet_softc *sc;
	uint64_t features;
	bool explicit;
	int want, error;

	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return (-ENOMEM);
	if ((error = vnet_keys(sc, pi, nvl, &want, &explicit)) != 0)
		goto fail;
	if ((error = netbe_init(&sc->vn_be, pi->pi_name, nvl, want)) != 0)
		goto fail;
	sc->vn_becaps = netbe_get_cap(sc->vn_be);
	sc->vn_npairs = MIN(netbe_nqueues(sc->vn_be), want);
	if (explicit && sc->vn_npairs < want)
		log_warnx("%s: num_queues=%d: backend %s has %d queue pair(s)",
		    pi->pi_name, want, config_get(nvl, "backend"),
		    sc->vn_npairs);
	sc->vn_rxq = calloc((size_t)sc->vn_npairs, sizeof(*sc->vn_rxq));
	sc->vn_bq = calloc((size_t)sc->vn_npairs, sizeof(*sc->vn_bq));
	if (sc->vn_rxq == NULL || sc->vn_bq == NULL) {
		error = -ENOMEM;
		goto fail;
	}
	sc->vn_hdrlen = NETBE_VNET_HDR_LEN;
	sc->vn_layout = sc->vn_active = 1;
	sc->vn_ctrlq = -1;
	vnet_config(sc);
	features = VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS |
	    VIRTIO_NET_F_MRG_RXBUF | VIRTIO_NET_F_CTRL_VQ |
	    VIRTIO_NET_F_CTRL_RX | VIRTIO_NET_F_CTRL_RX_EXTRA |
	    VIRTIO_NET_F_CTRL_MAC_ADDR | vnet_offload_features(sc->vn_becaps) |
	    (sc->vn_mtu != 0 ? VIRTIO_NET_F_MTU : 0) |
	    (sc->vn_npairs > 1 ? VIRTIO_NET_F_MQ : 0);
	error = virtio_pci_init(&sc->vn_vs, pi, nvl, &vnet_ops, sc,
	    2 * sc->vn_npairs + 1, VNET_QSIZE, features, sc->vn_cfg,
	    sizeof(sc->vn_cfg));
	if (error != 0)
		goto fail_pci;
	if ((error = vnet_fds(sc)) != 0) {
		log_warnx("%s: cannot poll the backend: %s", pi->pi_name,
		    strerror(-error));
		goto fail_pci;
	}
	log_info("%s: backend %s, %02x:%02x:%02x:%02x:%02x:%02x, %d queue "
	    "pair(s)%s", pi->pi_name, config_get(nvl, "backend"), sc->vn_mac[0],
	    sc->vn_mac[1], sc->vn_mac[2], sc->vn_mac[3], sc->vn_mac[4],
	    sc->vn_mac[5], sc->vn_npairs, (sc->vn_becaps &
	    NETBE_CAP_VNET_HDR) ? ", offloads" : "");
	return (0);

fail_pci:
	/* The worker stops before the backend it polls is closed. */
	virtio_pci_fini(&sc->vn_vs);
	pi->pi_arg = NULL;
fail:
	vnet_free(sc);
	return (error);
}

/* pci_fini: the worker stops first, then the backend closes. */
static void
vnet_fini(struct pci_devinst *pi)
{
	struct virtio_softc *vs = pi->pi_arg;
	struct vnet_softc *sc;

	if (vs == NULL)
		return;
	sc = vs->vs_dev;
	virtio_pci_fini(&sc->vn_vs);
	vnet_free(sc);
	pi->pi_arg = NULL;
}

/*
 * "BACKEND[,key=value...]" (bhyve's netbe_legacy_config()): the first
 * word names the backend, the rest are keys; a first word with '=' in it
 * is a key like the others (backend=tap0,mac=...).
 */
static int
vnet_legacy_config(struct config_node *nvl, const char *opts)
{
	const char *comma;
	char *be;
	int error;

	if (opts == NULL)
		return (0);
	comma = strchr(opts, ',');
	be = comma != NULL ? strndup(opts, (size_t)(comma - opts)) :
	    strdup(opts);
	if (be == NULL)
		return (-ENOMEM);
	if (strchr(be, '=') != NULL) {
		free(be);
		return (pci_parse_kv(nvl, "virtio-net", opts));
	}
	error = be[0] != '\0' ? config_set(nvl, "backend", be) : 0;
	free(be);
	if (error == 0 && comma != NULL)
		error = pci_parse_kv(nvl, "virtio-net", comma + 1);
	return (error != 0 ? -EINVAL : 0);
}

struct vnet_softc *
vnet_softc(struct pci_devinst *pi)
{
	if (pi == NULL || pi->pi_d != &pci_de_vnet || pi->pi_arg == NULL)
		return (NULL);
	return (((struct virtio_softc *)pi->pi_arg)->vs_dev);
}

const struct pci_devemu pci_de_vnet = {
	.pe_emu = "virtio-net",
	.pe_alias = "virtio-net-pci",	/* QEMU's name */
	.pe_init = vnet_init,
	.pe_legacy_config = vnet_legacy_config,
	.pe_fini = vnet_fini,
	VIRTIO_PCI_HOOKS,
};
PCI_EMUL_SET(pci_de_vnet);
