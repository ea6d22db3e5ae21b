/*
 * virtio_console_ctl.c: the control queues of the console device
 * (virtio 1.2 §5.3.6.2, Multiport Device Operation).
 *
 * The handshake, as Linux's drivers/char/virtio_console.c drives it and
 * QEMU's hw/char/virtio-serial-bus.c answers it:
 *
 *	driver				device
 *	DEVICE_READY(1)		->
 *				<-	DEVICE_ADD(id), for every port
 *	PORT_READY(id, 1)	->
 *				<-	PORT_NAME(id) + name, if it has one
 *				<-	CONSOLE_PORT(id, 1), RESIZE(id) + cols,
 *					rows, for a console port
 *				<-	PORT_OPEN(id, 1) while a peer is there
 *	PORT_OPEN(id, 1)	->	(a console port, or a program opened it)
 *
 * and afterwards PORT_OPEN from the device whenever the backend's peer
 * comes or goes (TTY_EV_PEER), PORT_OPEN from the driver when the
 * guest's side opens or closes.  Memory is bounded however slowly the
 * driver posts control buffers: what a port still has to say is a set
 * of bits (VCON_CTL_*), sent in that order when buffers are there, and a
 * PORT_OPEN carries the state at the time it goes out.
 *
 * The driver's messages are read once into a local copy (iov_to_buf),
 * then checked.  A message shorter than the header, with an id that is
 * not a port the driver was told of, or with an event the driver does
 * not send is dropped with a rate-limited message; its buffer is given
 * back at once in every case, because Linux spins until it is (its
 * __send_control_msg).  A broken ring marks the device NEEDS_RESET.
 */
#include <string.h>
#include "backend/tty.h"
#include "log.h"
#include "virtio/iov.h"
#include "virtio/virtio_console_impl.h"

static const char *const vcon_event_names[] = {
	"DEVICE_READY", "DEVICE_ADD", "DEVICE_REMOVE", "PORT_READY",
	"CONSOLE_PORT", "RESIZE", "PORT_OPEN", "PORT_NAME",
};

static const char *
vcon_event_name(uint16_t ev)
{
	return (ev < nitems(vcon_event_names) ? vcon_event_names[ev] :
	    "unknown event");
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* A message the driver sent that we drop. */
static void
vcon_ctl_bad(struct vcon_softc *sc, const char *why, uint32_t id,
    uint16_t ev)
{
	sc->sc_ctl_errors++;
	log_warnx_rl("%s: control message %s for port %u dropped: %s",
	    sc->sc_vs.vs_pi->pi_name, vcon_event_name(ev), id, why);
}

/*
 * The port a message names, or NULL.  A configured port counts even when
 * this driver was not told of it since the last reset: a Linux driver
 * resuming from suspend sends PORT_READY for the ports it had, without
 * a DEVICE_READY first (virtcons_restore()).
 */
static struct vcon_port *
vcon_ctl_port(struct vcon_softc *sc, uint32_t id, uint16_t ev)
{
	if (id >= sc->sc_max_ports || !sc->sc_ports[id].p_on) {
		vcon_ctl_bad(sc, "no such port", id, ev);
		return (NULL);
	}
	return (&sc->sc_ports[id]);
}

static void
vcon_ctl_handle(struct vcon_softc *sc, uint32_t id, uint16_t ev,
    uint16_t value)
{
	struct vcon_port *p;
	unsigned i;

	switch (ev) {
	case VIRTIO_CONSOLE_DEVICE_READY:
		if (value != 1) {
			log_warnx_rl("%s: the driver could not set up the "
			    "device", sc->sc_vs.vs_pi->pi_name);
			sc->sc_ready = false;
			return;
		}
		if (sc->sc_ready)
			return;			/* announced already */
		sc->sc_ready = true;
		for (i = 0; i < sc->sc_max_ports; i++)
			if (sc->sc_ports[i].p_on)
				sc->sc_ports[i].p_ctl |= VCON_CTL_ADD;
		return;
	case VIRTIO_CONSOLE_PORT_READY:
		if ((p = vcon_ctl_port(sc, id, ev)) == NULL)
			return;
		if (value != 1) {
			log_warnx_rl("%s: port %u: the driver could not set it "
			    "up", sc->sc_vs.vs_pi->pi_name, id);
			p->p_ready = false;
			return;
		}
		/* Again (a driver resuming): say it all again. */
		p->p_ready = true;
		p->p_host_open = false;
		if (p->p_name != NULL)
			p->p_ctl |= VCON_CTL_NAME;
		if (p->p_console)
			p->p_ctl |= VCON_CTL_CONSOLE | VCON_CTL_RESIZE;
		vcon_ctl_peer(sc, p);
		return;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if ((p = vcon_ctl_port(sc, id, ev)) == NULL)
			return;
		if (!p->p_ready) {
			vcon_ctl_bad(sc, "port not ready", id, ev);
			return;
		}
		p->p_guest_open = value != 0;
		/* Input waits in the backend while the guest's side is
		 * closed (Linux discards what a closed port receives). */
		if (p->p_guest_open)
			vcon_rx(sc, p);
		else
			vcon_input(p, false);
		return;
	default:
		vcon_ctl_bad(sc, "not a driver's message", id, ev);
		return;
	}
}

void
vcon_ctl_recv(struct vcon_softc *sc)
{
	struct vqueue *vq = virtio_vq(&sc->sc_vs, VCON_CTRL_TXQ);
	uint8_t msg[VCON_CTRL_LEN];
	struct vq_req req;
	uint32_t id;
	uint16_t ev, value;
	int n;

	while ((n = vq_getchain(vq, sc->sc_iov, nitems(sc->sc_iov),
	    &req)) > 0) {
		/* Copied once; only the copy is looked at. */
		if (iov_to_buf(sc->sc_iov, req.vr_nread, 0, msg, sizeof(msg)) !=
		    sizeof(msg)) {
			sc->sc_ctl_errors++;
			log_warnx_rl("%s: control message of %llu bytes "
			    "dropped: shorter than its header",
			    sc->sc_vs.vs_pi->pi_name,
			    (unsigned long long)req.vr_rbytes);
		} else {
			id = (uint32_t)msg[0] | (uint32_t)msg[1] << 8 |
			    (uint32_t)msg[2] << 16 | (uint32_t)msg[3] << 24;
			ev = (uint16_t)(msg[4] | msg[5] << 8);
			value = (uint16_t)(msg[6] | msg[7] << 8);
			vcon_ctl_handle(sc, id, ev, value);
		}
		vq_relchain(vq, &req, 0);
	}
	if (n < 0)
		virtio_needs_reset(&sc->sc_vs, VCON_CTRL_TXQ);
	vcon_qend(sc, VCON_CTRL_TXQ, n == 0);
	vcon_ctl_flush(sc);
}

/*
 * The next message of port p into msg (header and payload); returns its
 * length, or 0 when the bit needs no message after all (a PORT_OPEN
 * saying what the driver was told already).  *open: the state a
 * PORT_OPEN says.
 */
static size_t
vcon_ctl_build(struct vcon_softc *sc, struct vcon_port *p, unsigned bit,
    uint8_t *msg, bool *open)
{
	size_t len = VCON_CTRL_LEN, nlen;
	uint16_t ev, value = 1;

	switch (bit) {
	case VCON_CTL_ADD:
		ev = VIRTIO_CONSOLE_DEVICE_ADD;
		break;
	case VCON_CTL_NAME:
		ev = VIRTIO_CONSOLE_PORT_NAME;
		nlen = strlen(p->p_name);	/* at most VCON_NAME_MAX */
		memcpy(msg + len, p->p_name, nlen);
		len += nlen;
		break;
	case VCON_CTL_CONSOLE:
		ev = VIRTIO_CONSOLE_CONSOLE_PORT;
		break;
	case VCON_CTL_RESIZE:
		ev = VIRTIO_CONSOLE_RESIZE;
		value = 0;
		/* struct virtio_console_resize: cols, then rows. */
		put16(msg + len, sc->sc_cols);
		put16(msg + len + 2, sc->sc_rows);
		len += 4;
		break;
	default:
		*open = p->p_tb != NULL && tty_has_peer(p->p_tb);
		if (*open == p->p_host_open)
			return (0);
		ev = VIRTIO_CONSOLE_PORT_OPEN;
		value = *open;
		break;
	}
	put32(msg, p->p_id);
	put16(msg + 4, ev);
	put16(msg + 6, value);
	return (len);
}

/*
 * Put one message into the next control receive buffer.  Returns 1 when
 * it went out, 0 when there is no buffer (it waits), -1 when the ring is
 * broken.  A buffer that cannot take a header is a driver error: given
 * back empty, and the next one is tried.
 */
static int
vcon_ctl_put(struct vcon_softc *sc, struct vqueue *vq, const uint8_t *msg,
    size_t len)
{
	struct vq_req req;
	size_t put;
	int n;

	while ((n = vq_getchain(vq, sc->sc_iov, nitems(sc->sc_iov),
	    &req)) > 0) {
		if (req.vr_nread == 0 && req.vr_wbytes >= VCON_CTRL_LEN)
			break;
		/* §5.3.6.1: no device-readable buffers in a receiveq. */
		sc->sc_ctl_errors++;
		log_warnx_rl("%s: control receive buffer with %llu readable "
		    "and %llu writable bytes given back unused",
		    sc->sc_vs.vs_pi->pi_name,
		    (unsigned long long)req.vr_rbytes,
		    (unsigned long long)req.vr_wbytes);
		vq_relchain(vq, &req, 0);
	}
	if (n <= 0)
		return (n < 0 ? -1 : 0);
	/* A name longer than the buffer is cut to what fits. */
	put = buf_to_iov(sc->sc_iov + req.vr_nread, req.vr_nwrite, 0, msg,
	    len);
	vq_relchain(vq, &req, (uint32_t)put);
	return (1);
}

void
vcon_ctl_flush(struct vcon_softc *sc)
{
	struct vqueue *vq = virtio_vq(&sc->sc_vs, VCON_CTRL_RXQ);
	uint8_t msg[VCON_CTRL_LEN + VCON_NAME_MAX];
	struct vcon_port *p;
	unsigned i, bit;
	size_t len;
	bool open = false;
	int r = 1;

	if (!sc->sc_mp || !vcon_qlive(sc, VCON_CTRL_RXQ))
		return;
	for (i = 0; i < sc->sc_max_ports && sc->sc_ports[i].p_ctl == 0; i++)
		;
	if (i == sc->sc_max_ports)
		return;				/* nothing to say */
	for (i = 0; i < sc->sc_max_ports && r > 0; i++) {
		p = &sc->sc_ports[i];
		while (p->p_ctl != 0 && r > 0) {
			bit = p->p_ctl & -p->p_ctl;	/* lowest first */
			len = vcon_ctl_build(sc, p, bit, msg, &open);
			if (len != 0 && (r = vcon_ctl_put(sc, vq, msg,
			    len)) <= 0)
				break;			/* it waits */
			p->p_ctl &= ~bit;
			if (len != 0 && bit == VCON_CTL_OPEN)
				p->p_host_open = open;
		}
	}
	if (r < 0)
		virtio_needs_reset(&sc->sc_vs, VCON_CTRL_RXQ);
	/* Out of buffers with messages left: buffers may have come. */
	vcon_qend(sc, VCON_CTRL_RXQ, r == 0);
}

void
vcon_ctl_peer(struct vcon_softc *sc, struct vcon_port *p)
{
	bool open;

	if (!sc->sc_mp || !p->p_ready || p->p_tb == NULL)
		return;
	open = tty_has_peer(p->p_tb);
	if (open != p->p_host_open)
		p->p_ctl |= VCON_CTL_OPEN;
}
