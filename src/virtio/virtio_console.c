/*
 * virtio_console.c: the console device (virtio 1.2 §5.3; bhyve's
 * pci_virtio_console.c, QEMU's hw/char/virtio-serial-bus.c).
 *
 *	-s N,virtio-console,NAME=PATH[,NAME=PATH...][,console][,cols=C]
 *	    [,rows=R]
 *
 * Up to 16 ports, port.N.{name,path[,console]} in the config tree.  Each
 * port is a terminal backend (backend/tty.h): a path is a Unix socket
 * khyve creates (unix=PATH: one client at a time, a stale socket
 * replaced, the file removed at exit and on fatal signals), "stdio" is
 * khyve's standard input and output, tcp=IP:PORT a TCP listener.  With
 * more than one port, a name, or a port other than 0, the device offers
 * MULTIPORT and the ports are announced on the control queues
 * (virtio_console_ctl.c); a port on stdio, or every port 0 with
 * console=true, is a console port (CONSOLE_PORT), which Linux makes
 * hvc0, hvc1, ...  One port 0 without a name needs no MULTIPORT: a Linux
 * driver then makes it hvc0 by itself.  Features: SIZE (cols and rows,
 * for port 0; console ports also get a RESIZE), EMERG_WRITE (a write to
 * emerg_wr emits its low byte on the first console port, else on the
 * lowest-numbered one), MULTIPORT as above.
 *
 * Receive (backend to guest).  Input is read straight into the guest's
 * receive buffers, and only while the guest has buffers posted and its
 * side of the port is open (PORT_OPEN, or always without MULTIPORT; a
 * Linux port that is not open discards what it receives).  Otherwise
 * the backend's input events are off (tty_set_input), as the UART does
 * with a full RX FIFO: input waits in the kernel, nothing is dropped.  A
 * pass gives at most VCON_RX_MAX bytes; the backend's level-triggered
 * input event brings the next one.
 *
 * Transmit (guest to backend).  Each chain is offered to the backend
 * (tty_write).  When the backend is full the chain stays unfinished: it
 * goes back to the ring (vq_retchain) with a note of how much was
 * written, and is taken again, from that point, when the backend says
 * it has room (TTY_EV_OUTPUT).  No copy is kept, so memory is bounded;
 * the time is bounded by the backend's stall policy, which discards the
 * output of a peer that stops reading (console.stall_timeout) and then
 * reports room.  With no client connected output is discarded at once.
 *
 * Threads and locks.  vs_mtx protects the whole device.  Queue work runs
 * on the device's virtio worker (vd_notify) and configuration writes on
 * vCPU threads, both under vs_mtx.  The backends' notify callback runs
 * on the event-loop thread (or in the exit drain) without the backend's
 * lock, and takes vs_mtx itself, like the UART's sc_mtx: so the lock
 * order is vs_mtx, then a backend's tb_mtx, everywhere.  The callback
 * does its bounded pass at once rather than bouncing it to the worker,
 * so that the exit drain, which asks owners to push what they hold,
 * finds the output written when the callback returns.
 *
 * Reset with data in flight: the part of a transmit chain already
 * written has gone out, the rest goes with the ring; input waits in the
 * backend for the next driver; what the backend buffered still drains
 * to its peer.  A guest that breaks a ring gets NEEDS_RESET; a device
 * without a port's queues (sparse port numbers, MULTIPORT not
 * negotiated) completes what is sent there unread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend/tty.h"
#include "config.h"
#include "log.h"
#include "pci/pci_emul.h"
#include "virtio/virtio_console_impl.h"

#define VCON_COLS	80		/* bhyve's defaults */
#define VCON_ROWS	25

extern const struct pci_devemu pci_de_vcon;

bool
vcon_qlive(struct vcon_softc *sc, int q)
{
	struct virtio_softc *vs = &sc->sc_vs;
	struct virtio_queue *vq;

	if (q < 0 || q >= vs->vs_nqueues)
		return (false);
	vq = &vs->vs_queues[q];
	/* §3.1.1: nothing is used before DRIVER_OK. */
	return (vq->enabled && vq->vq.vq_ready && !vq_broken(&vq->vq) &&
	    (vs->vs_status & (VIRTIO_S_DRIVER_OK | VIRTIO_S_NEEDS_RESET)) ==
	    VIRTIO_S_DRIVER_OK);
}

bool
vcon_port_live(struct vcon_softc *sc, const struct vcon_port *p)
{
	if (!p->p_on || p->p_tb == NULL || sc->sc_closed)
		return (false);
	return (sc->sc_mp ? p->p_ready && p->p_guest_open : p->p_id == 0);
}

/* The port whose data queue q is, or NULL. */
static struct vcon_port *
vcon_qport(struct vcon_softc *sc, int q)
{
	struct vcon_port *p;
	unsigned id;

	if (q < 2)
		id = 0;
	else if (!sc->sc_mp)
		return (NULL);
	else
		id = (unsigned)q / 2 - 1;
	if (id >= sc->sc_max_ports)
		return (NULL);
	p = &sc->sc_ports[id];
	return (p->p_on && p->p_tb != NULL ? p : NULL);
}

void
vcon_qend(struct vcon_softc *sc, int q, bool empty)
{
	struct vqueue *vq = virtio_vq(&sc->sc_vs, q);

	/* Always, even when nothing was used: the batch ends. */
	if (vq_endchains(vq))
		virtio_vq_interrupt(&sc->sc_vs, q);
	/*
	 * With EVENT_IDX a driver that added chains during the pass may not
	 * notify for them: it compared with the avail_event of before
	 * (§2.7.10).  So a pass that ran out of chains looks once more, and
	 * queues another pass on the worker when there are some.
	 */
	if (empty && vq_has_descs(vq))
		virtio_requeue(&sc->sc_vs, q);
}

void
vcon_input(struct vcon_port *p, bool on)
{
	if (p->p_input == on || p->p_tb == NULL)
		return;
	p->p_input = on;
	tty_set_input(p->p_tb, on);
}

/* Read input into iov[0..n), at most max bytes; the count. */
static size_t
vcon_read(struct vcon_port *p, const struct iovec *iov, unsigned n,
    size_t max)
{
	size_t got = 0, len, r;
	unsigned i;

	for (i = 0; i < n && got < max; i++) {
		len = MIN(iov[i].iov_len, max - got);
		if (len == 0)
			continue;
		r = tty_read(p->p_tb, iov[i].iov_base, len);
		got += r;
		if (r < len)
			break;
	}
	return (got);
}

void
vcon_rx(struct vcon_softc *sc, struct vcon_port *p)
{
	struct vqueue *vq;
	struct vq_req req;
	size_t total = 0, got;
	bool waiting = false;
	int n = 0;

	if (!vcon_port_live(sc, p) || !vcon_qlive(sc, p->p_rxq)) {
		vcon_input(p, false);
		return;
	}
	vq = virtio_vq(&sc->sc_vs, p->p_rxq);
	while (total < VCON_RX_MAX && (n = vq_getchain(vq, sc->sc_iov,
	    nitems(sc->sc_iov), &req)) > 0) {
		if (req.vr_nread != 0 || req.vr_wbytes == 0) {
			/* §5.3.6.1: no device-readable buffers here. */
			if (req.vr_nread != 0)
				log_warnx_rl("%s: port %u: device-readable "
				    "receive buffer given back unused",
				    sc->sc_vs.vs_pi->pi_name, p->p_id);
			vq_relchain(vq, &req, 0);
			continue;
		}
		got = vcon_read(p, sc->sc_iov + req.vr_nread, req.vr_nwrite,
		    VCON_RX_MAX - total);
		if (got == 0) {
			/* Nothing to give: the buffer waits for input. */
			vq_retchain(vq, &req);
			waiting = true;
			break;
		}
		vq_relchain(vq, &req, (uint32_t)got);
		total += got;
	}
	if (n < 0)
		virtio_needs_reset(&sc->sc_vs, p->p_rxq);
	/* Stopped at the bound: more buffers may be there, and input. */
	if (total >= VCON_RX_MAX && n > 0)
		waiting = true;
	vcon_input(p, waiting);
	p->p_rx_bytes += total;
	vcon_qend(sc, p->p_rxq, n == 0);
}

/*
 * Offer the readable iov[0..n) to the backend from byte skip on.
 * Returns the bytes of the chain written so far (skip included).
 */
static uint64_t
vcon_write(struct vcon_port *p, const struct iovec *iov, unsigned n,
    uint64_t skip)
{
	uint64_t off = 0;
	size_t start, len, w;
	unsigned i;

	for (i = 0; i < n; off += len, i++) {
		len = iov[i].iov_len;
		if (len == 0 || skip >= off + len)
			continue;
		start = skip > off ? (size_t)(skip - off) : 0;
		w = tty_write(p->p_tb, (const uint8_t *)iov[i].iov_base + start,
		    len - start);
		p->p_tx_bytes += w;
		if (w < len - start)
			return (off + start + w);
	}
	return (off);
}

/* The transmitq q of port p (NULL: a queue without a port). */
static void
vcon_tx(struct vcon_softc *sc, int q, struct vcon_port *p)
{
	struct vqueue *vq = virtio_vq(&sc->sc_vs, q);
	struct vq_req req;
	uint64_t skip, done;
	int n;

	while ((n = vq_getchain(vq, sc->sc_iov, nitems(sc->sc_iov),
	    &req)) > 0) {
		if (req.vr_nwrite != 0) {
			/* §5.3.6.1: no device-writable buffers here. */
			log_warnx_rl("%s: queue %d: device-writable transmit "
			    "buffer given back unused",
			    sc->sc_vs.vs_pi->pi_name, q);
			vq_relchain(vq, &req, 0);
			continue;
		}
		if (p == NULL) {
			vq_relchain(vq, &req, 0);	/* nowhere to go */
			continue;
		}
		/* The same chain again (not one of a queue set up anew). */
		skip = p->p_tx_part && p->p_tx_head == req.vr_head &&
		    p->p_tx_gen == req.vr_gen ? p->p_tx_done : 0;
		done = vcon_write(p, sc->sc_iov, req.vr_nread, skip);
		if (done < req.vr_rbytes) {
			/* The backend is full: this chain waits for
			 * TTY_EV_OUTPUT, from where it stopped. */
			p->p_tx_part = true;
			p->p_tx_head = req.vr_head;
			p->p_tx_gen = req.vr_gen;
			p->p_tx_done = done;
			vq_retchain(vq, &req);
			break;
		}
		p->p_tx_part = false;
		vq_relchain(vq, &req, 0);
	}
	if (n < 0)
		virtio_needs_reset(&sc->sc_vs, q);
	vcon_qend(sc, q, n == 0);
}

/* A backend's events (event-loop thread, or the exit drain). */
static void
vcon_tty_notify(void *arg, unsigned ev)
{
	struct vcon_port *p = arg;
	struct vcon_softc *sc = p->p_sc;

	pthread_mutex_lock(&sc->sc_vs.vs_mtx);
	if (!sc->sc_closed && p->p_tb != NULL) {
		if ((ev & TTY_EV_OUTPUT) && vcon_qlive(sc, p->p_txq))
			vcon_tx(sc, p->p_txq, p);
		if (ev & TTY_EV_INPUT)
			vcon_rx(sc, p);
		vcon_ctl_peer(sc, p);
		vcon_ctl_flush(sc);
	}
	pthread_mutex_unlock(&sc->sc_vs.vs_mtx);
}

static void
vcon_notify(void *arg, int q)
{
	struct vcon_softc *sc = arg;
	struct vcon_port *p;

	/* Before DRIVER_OK: the transport calls again when it comes. */
	if (sc->sc_closed || !vcon_qlive(sc, q))
		return;
	if (q == VCON_CTRL_RXQ || q == VCON_CTRL_TXQ) {
		if (!sc->sc_mp)
			return;			/* no such queues */
		if (q == VCON_CTRL_TXQ)
			vcon_ctl_recv(sc);
		else
			vcon_ctl_flush(sc);
		return;
	}
	p = vcon_qport(sc, q);
	if (q & 1)
		vcon_tx(sc, q, p);
	else if (p != NULL)
		vcon_rx(sc, p);
	if (p != NULL) {
		/* Our own reads and writes may have found a client gone. */
		vcon_ctl_peer(sc, p);
		vcon_ctl_flush(sc);
	}
}

static void
vcon_reset(void *arg)
{
	struct vcon_softc *sc = arg;
	struct vcon_port *p;
	unsigned i;

	for (i = 0; i < VCON_MAX_PORTS; i++) {
		p = &sc->sc_ports[i];
		p->p_ready = false;
		p->p_guest_open = p->p_host_open = false;
		p->p_ctl = 0;
		p->p_tx_part = false;
		p->p_tx_done = 0;
		vcon_input(p, false);
	}
	sc->sc_ready = false;
	sc->sc_mp = false;
}

/* §5.3.5: emerg_wr may be written at any time, even before set-up. */
static void
vcon_cfgwrite(void *arg, unsigned off, unsigned size, uint32_t val)
{
	struct vcon_softc *sc = arg;
	uint8_t c = (uint8_t)val;

	if (off != VCON_CFG_EMERG_WR || sc->sc_closed || sc->sc_emerg == NULL ||
	    sc->sc_emerg->p_tb == NULL)
		return;				/* the rest is read-only */
	/* Best effort: a full backend loses the byte. */
	sc->sc_emerg_bytes += tty_write(sc->sc_emerg->p_tb, &c, 1);
}

static void
vcon_features(void *arg, uint64_t negotiated)
{
	struct vcon_softc *sc = arg;

	sc->sc_mp = (negotiated & VIRTIO_CONSOLE_F_MULTIPORT) != 0;
	if (sc->sc_multiport && !sc->sc_mp)
		log_warnx_rl("%s: the driver did not accept MULTIPORT: only "
		    "port 0 is used", sc->sc_vs.vs_pi->pi_name);
}

static const struct virtio_devops vcon_ops = {
	.vd_name = "virtio-console",
	.vd_type = VIRTIO_ID_CONSOLE,
	.vd_class = 0x07,		/* simple communication controller */
	.vd_subclass = 0x80,		/* other, as QEMU says */
	.vd_reset = vcon_reset,
	.vd_notify = vcon_notify,
	.vd_cfgwrite = vcon_cfgwrite,
	.vd_features = vcon_features,
};

/* ---- set-up ---- */

/* The tty spec of a port's path: stdio, tcp=, unix=, or a socket path. */
static char *
vcon_spec(const char *path)
{
	char *s;

	if (strcmp(path, "stdio") == 0 || strncmp(path, "tcp=", 4) == 0 ||
	    strncmp(path, "unix=", 5) == 0)
		return (strdup(path));
	if (asprintf(&s, "unix=%s", path) < 0)
		return (NULL);
	return (s);
}

/* Port n from its node pn (NULL: the console=true port 0 on stdio). */
static int
vcon_port_config(struct vcon_softc *sc, const char *dev,
    struct config_node *pn, unsigned n, bool console)
{
	struct vcon_port *p = &sc->sc_ports[n];
	struct config_node *k;
	const char *path = NULL, *name = NULL, *kn;
	bool cons;

	for (k = pn != NULL ? config_node_first(pn) : NULL; k != NULL;
	    k = config_node_next(k)) {
		kn = config_node_name(k);
		if (!config_node_is_leaf(k) || (strcmp(kn, "path") != 0 &&
		    strcmp(kn, "name") != 0 && strcmp(kn, "console") != 0)) {
			log_warnx("%s: port.%u.%s: unknown variable (want "
			    "path, name or console)", dev, n, kn);
			return (-EINVAL);
		}
	}
	if (pn != NULL) {
		path = config_get(pn, "path");
		name = config_get(pn, "name");
	}
	if (path == NULL && n == 0 && console)
		path = "stdio";
	if (path == NULL || *path == '\0') {
		log_warnx("%s: port.%u.path: missing (a socket path, or stdio)",
		    dev, n);
		return (-EINVAL);
	}
	if (name != NULL && (*name == '\0' || strlen(name) > VCON_NAME_MAX)) {
		log_warnx("%s: port.%u.name: want 1 to %d bytes", dev, n,
		    VCON_NAME_MAX);
		return (-EINVAL);
	}
	if (config_get_bool(pn, "console", strcmp(path, "stdio") == 0 ||
	    (n == 0 && console), &cons) != 0) {
		log_warnx("%s: port.%u.console=%s: want true or false", dev, n,
		    config_get(pn, "console"));
		return (-EINVAL);
	}
	p->p_on = true;
	p->p_console = cons;
	p->p_spec = vcon_spec(path);
	p->p_name = name != NULL ? strdup(name) : NULL;
	if (p->p_spec == NULL || (name != NULL && p->p_name == NULL))
		return (-ENOMEM);
	sc->sc_nports++;
	return (0);
}

/* "N": a port number below VCON_MAX_PORTS, or -1. */
static int
vcon_port_number(const char *s)
{
	if (s[0] >= '0' && s[0] <= '9' && s[1] == '\0')
		return (s[0] - '0');
	if (s[0] == '1' && s[1] >= '0' && s[1] <= '5' && s[2] == '\0')
		return (10 + s[1] - '0');
	return (-1);
}

static int
vcon_config(struct vcon_softc *sc, const char *dev, struct config_node *nvl)
{
	struct config_node *ports, *pn;
	uint64_t cols, rows;
	bool console, named = false;
	unsigned i, top = 0;
	int n, error;

	if (config_get_bool(nvl, "console", false, &console) != 0) {
		log_warnx("%s: console=%s: want true or false", dev,
		    config_get(nvl, "console"));
		return (-EINVAL);
	}
	if (config_get_uint64(nvl, "cols", VCON_COLS, &cols) != 0 ||
	    cols == 0 || cols > UINT16_MAX ||
	    config_get_uint64(nvl, "rows", VCON_ROWS, &rows) != 0 ||
	    rows == 0 || rows > UINT16_MAX) {
		log_warnx("%s: cols and rows: want 1 to 65535", dev);
		return (-EINVAL);
	}
	sc->sc_cols = (uint16_t)cols;
	sc->sc_rows = (uint16_t)rows;
	ports = config_find_node(nvl, "port");
	if (ports == NULL && config_get(nvl, "port") != NULL) {
		log_warnx("%s: port: want port.N.path (N from 0 to %d)", dev,
		    VCON_MAX_PORTS - 1);
		return (-EINVAL);
	}
	for (pn = ports != NULL ? config_node_first(ports) : NULL; pn != NULL;
	    pn = config_node_next(pn)) {
		n = vcon_port_number(config_node_name(pn));
		if (n < 0 || config_node_is_leaf(pn)) {
			log_warnx("%s: port.%s: want port.N.path, N from 0 to "
			    "%d", dev, config_node_name(pn),
			    VCON_MAX_PORTS - 1);
			return (-EINVAL);
		}
		if ((error = vcon_port_config(sc, dev, pn, (unsigned)n,
		    console)) != 0)
			return (error);
	}
	if (console && !sc->sc_ports[0].p_on &&
	    (error = vcon_port_config(sc, dev, NULL, 0, true)) != 0)
		return (error);
	if (sc->sc_nports == 0) {
		log_warnx("%s: no ports (want NAME=PATH, console, or "
		    "port.N.path)", dev);
		return (-EINVAL);
	}
	for (i = 0; i < VCON_MAX_PORTS; i++) {
		if (!sc->sc_ports[i].p_on)
			continue;
		top = i;
		named |= sc->sc_ports[i].p_name != NULL;
	}
	sc->sc_multiport = sc->sc_nports > 1 || named || top > 0;
	sc->sc_max_ports = sc->sc_multiport ? top + 1 : 1;
	for (i = 0; i < VCON_MAX_PORTS; i++) {
		struct vcon_port *p = &sc->sc_ports[i];

		p->p_sc = sc;
		p->p_id = i;
		p->p_rxq = VCON_PORT_RXQ(i);
		p->p_txq = VCON_PORT_TXQ(i);
		if (p->p_on && sc->sc_multiport && p->p_name == NULL &&
		    asprintf(&p->p_name, "port%u", i) < 0) {
			p->p_name = NULL;
			return (-ENOMEM);
		}
		if (p->p_on && p->p_console && sc->sc_emerg == NULL)
			sc->sc_emerg = p;
	}
	for (i = 0; i < VCON_MAX_PORTS && sc->sc_emerg == NULL; i++)
		if (sc->sc_ports[i].p_on)
			sc->sc_emerg = &sc->sc_ports[i];
	return (0);
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

/*
 * Take the device down: the backends first, while the worker may still
 * be around (it finds sc_closed under vs_mtx and leaves them alone), then
 * the worker and the transport.  The event loop must not be in a
 * backend's callback (tests stop it before pci_fini).  Also for a device
 * whose set-up failed part-way.
 */
static void
vcon_free(struct vcon_softc *sc)
{
	struct tty_backend *tbs[VCON_MAX_PORTS];
	bool transport = sc->sc_vs.vs_ops != NULL;	/* its mutex exists */
	unsigned i;

	if (transport)
		pthread_mutex_lock(&sc->sc_vs.vs_mtx);
	sc->sc_closed = true;
	for (i = 0; i < VCON_MAX_PORTS; i++) {
		tbs[i] = sc->sc_ports[i].p_tb;
		sc->sc_ports[i].p_tb = NULL;
	}
	if (transport)
		pthread_mutex_unlock(&sc->sc_vs.vs_mtx);
	for (i = 0; i < VCON_MAX_PORTS; i++)
		tty_close(tbs[i]);
	virtio_pci_fini(&sc->sc_vs);
	for (i = 0; i < VCON_MAX_PORTS; i++) {
		free(sc->sc_ports[i].p_name);
		free(sc->sc_ports[i].p_spec);
	}
	free(sc);
}

static int
vcon_init(struct pci_devinst *pi, struct config_node *nvl)
{
	struct vcon_softc *sc;
	struct tty_backend *tb;
	struct vcon_port *p;
	char owner[64];
	uint64_t features;
	unsigned i;
	int error;

	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return (-ENOMEM);
	error = vcon_config(sc, pi->pi_name, nvl);
	if (error != 0)
		goto fail;
	put16(sc->sc_cfg + VCON_CFG_COLS, sc->sc_cols);
	put16(sc->sc_cfg + VCON_CFG_ROWS, sc->sc_rows);
	put32(sc->sc_cfg + VCON_CFG_MAX_NR_PORTS, sc->sc_max_ports);
	features = VIRTIO_CONSOLE_F_SIZE | VIRTIO_CONSOLE_F_EMERG_WRITE |
	    (sc->sc_multiport ? VIRTIO_CONSOLE_F_MULTIPORT : 0);
	error = virtio_pci_init(&sc->sc_vs, pi, nvl, &vcon_ops, sc,
	    sc->sc_multiport ? 2 * ((int)sc->sc_max_ports + 1) : 2,
	    VCON_QSIZE, features, sc->sc_cfg, sizeof(sc->sc_cfg));
	if (error != 0)
		goto fail;
	/* After virtio_pci_init: a callback takes vs_mtx. */
	for (i = 0; i < VCON_MAX_PORTS; i++) {
		p = &sc->sc_ports[i];
		if (!p->p_on)
			continue;
		snprintf(owner, sizeof(owner), "%s port %u", pi->pi_name, i);
		error = tty_open(p->p_spec, owner, vcon_tty_notify, p, &tb);
		if (error != 0)
			goto fail;
		pthread_mutex_lock(&sc->sc_vs.vs_mtx);
		p->p_tb = tb;
		pthread_mutex_unlock(&sc->sc_vs.vs_mtx);
		log_debug("%s: port %u%s%s%s: %s", pi->pi_name, i,
		    p->p_name != NULL ? " \"" : "",
		    p->p_name != NULL ? p->p_name : "",
		    p->p_name != NULL ? "\"" : "", p->p_spec);
	}
	log_info("%s: %u port(s)%s", pi->pi_name, sc->sc_nports,
	    sc->sc_multiport ? ", multiport" : "");
	return (0);
fail:
	vcon_free(sc);
	pi->pi_arg = NULL;
	return (error);
}

static bool
vcon_device_key(const char *k)
{
	return (strcmp(k, "console") == 0 || strcmp(k, "cols") == 0 ||
	    strcmp(k, "rows") == 0 || strcmp(k, "transport") == 0 ||
	    strncmp(k, "port.", 5) == 0);
}

/*
 * "NAME=PATH[,NAME=PATH...]" plus the device's own keys (bhyve's
 * pci_vtcon_legacy_config()): each NAME=PATH is the next port,
 * port.N.name=NAME and port.N.path=PATH, from N = 0, or from 1 when
 * console is set (port 0 is then the console on stdio).  A key that
 * starts with "port." (port.3.path=...) is set as it is; a bare device
 * key means key=true.  NAME may have dots (org.qemu.guest_agent.0).
 */
static int
vcon_legacy_config(struct config_node *nvl, const char *opts)
{
	char *copy, *item, *save, *val, *items[3 * VCON_MAX_PORTS];
	unsigned i, nitem = 0, n;
	bool console = false;
	char key[32];
	int error = 0;

	if (opts == NULL)
		return (0);
	if ((copy = strdup(opts)) == NULL)
		return (-ENOMEM);
	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		if (nitem == nitems(items)) {
			log_warnx("virtio-console: %s: too many options", opts);
			free(copy);
			return (-EINVAL);
		}
		items[nitem++] = item;
	}
	/* console anywhere in the list keeps port 0 for itself. */
	for (i = 0; i < nitem && error == 0; i++)
		if (strcmp(items[i], "console") == 0)
			console = true;
		else if (strncmp(items[i], "console=", 8) == 0 &&
		    config_parse_bool(items[i] + 8, &console) != 0) {
			log_warnx("virtio-console: %s: want true or false",
			    items[i]);
			error = -EINVAL;
		}
	n = console ? 1 : 0;
	for (i = 0; i < nitem && error == 0; i++) {
		item = items[i];
		val = strchr(item, '=');
		if (val != NULL)
			*val++ = '\0';
		if (*item == '\0') {
			log_warnx("virtio-console: %s: an option without a "
			    "name", opts);
			error = -EINVAL;
		} else if (vcon_device_key(item)) {
			error = config_set(nvl, item, val != NULL ? val :
			    "true");
		} else if (val == NULL || *val == '\0') {
			log_warnx("virtio-console: port %s: no path (want "
			    "NAME=PATH)", item);
			error = -EINVAL;
		} else if (n >= VCON_MAX_PORTS) {
			log_warnx("virtio-console: too many ports (at most %d)",
			    VCON_MAX_PORTS);
			error = -EINVAL;
		} else {
			snprintf(key, sizeof(key), "port.%u.name", n);
			error = config_set(nvl, key, item);
			snprintf(key, sizeof(key), "port.%u.path", n++);
			if (error == 0)
				error = config_set(nvl, key, val);
		}
	}
	free(copy);
	return (error != 0 ? -EINVAL : 0);
}

struct tty_backend *
vcon_port_backend(struct pci_devinst *pi, unsigned n)
{
	struct vcon_softc *sc;
	struct tty_backend *tb;

	if (pi == NULL || pi->pi_d != &pci_de_vcon || pi->pi_arg == NULL ||
	    n >= VCON_MAX_PORTS)
		return (NULL);
	sc = ((struct virtio_softc *)pi->pi_arg)->vs_dev;
	pthread_mutex_lock(&sc->sc_vs.vs_mtx);
	tb = sc->sc_ports[n].p_tb;
	pthread_mutex_unlock(&sc->sc_vs.vs_mtx);
	return (tb);
}

static void
vcon_fini(struct pci_devinst *pi)
{
	struct virtio_softc *vs = pi->pi_arg;

	if (vs == NULL)
		return;
	vcon_free(vs->vs_dev);
	pi->pi_arg = NULL;
}

const struct pci_devemu pci_de_vcon = {
	.pe_emu = "virtio-console",
	.pe_init = vcon_init,
	.pe_legacy_config = vcon_legacy_config,
	.pe_fini = vcon_fini,
	VIRTIO_PCI_HOOKS,
};
PCI_EMUL_SET(pci_de_vcon);
