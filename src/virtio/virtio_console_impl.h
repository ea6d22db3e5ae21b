/*
 * virtio_console_impl.h: what virtio_console.c (ports, data queues,
 * set-up) and virtio_console_ctl.c (the control queues) share; not for
 * other files.  Everything below is protected by sc_vs.vs_mtx.
 */
#ifndef VIRTIO_CONSOLE_IMPL_H
#define VIRTIO_CONSOLE_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include "virtio/virtio.h"
#include "virtio/virtio_console.h"

#define VCON_QSIZE	64		/* bhyve's ring size */
/*
 * iovecs for one chain: a chain has at most VCON_QSIZE direct
 * descriptors, or those plus one indirect table, and a buffer may take
 * two iovecs where it crosses from one RAM region into the next; so no
 * chain a driver may legally build runs out (E2BIG breaks the queue).
 */
#define VCON_NIOV	(2 * (VCON_QSIZE + VQ_INDIRECT_MAX))
#define VCON_RX_MAX	(64 * 1024)	/* bytes given per receive pass */

/* Control messages a port still has to send (p_ctl), in sending order. */
#define VCON_CTL_ADD		0x01	/* DEVICE_ADD */
#define VCON_CTL_NAME		0x02	/* PORT_NAME */
#define VCON_CTL_CONSOLE	0x04	/* CONSOLE_PORT */
#define VCON_CTL_RESIZE		0x08	/* RESIZE */
#define VCON_CTL_OPEN		0x10	/* PORT_OPEN with the peer's state */

struct vcon_softc;

struct vcon_port {
	struct vcon_softc *p_sc;
	unsigned	p_id;		/* port number (port.N) */
	bool		p_on;		/* configured */
	bool		p_console;	/* announced with CONSOLE_PORT */
	char		*p_name;	/* for PORT_NAME; NULL: none */
	char		*p_spec;	/* the backend's spec */
	struct tty_backend *p_tb;	/* NULL until opened, after close */
	int		p_rxq, p_txq;	/* its queues */
	/* The driver's view; cleared by a reset. */
	bool		p_ready;	/* PORT_READY(1) received */
	bool		p_guest_open;	/* PORT_OPEN(1) received */
	bool		p_host_open;	/* the last PORT_OPEN sent said open */
	unsigned	p_ctl;		/* VCON_CTL_* still to send */
	/* A transmit chain the backend took only part of (retried). */
	bool		p_tx_part;
	uint16_t	p_tx_head;	/* its head */
	unsigned	p_tx_gen;	/* ... and queue generation */
	uint64_t	p_tx_done;	/* bytes of it already written */
	bool		p_input;	/* backend input enabled */
	/* Counters. */
	uint64_t	p_rx_bytes;	/* given to the guest */
	uint64_t	p_tx_bytes;	/* taken from the guest */
};

struct vcon_softc {
	struct virtio_softc sc_vs;
	struct vcon_port sc_ports[VCON_MAX_PORTS];
	unsigned	sc_nports;	/* configured */
	unsigned	sc_max_ports;	/* max_nr_ports */
	bool		sc_multiport;	/* MULTIPORT offered */
	bool		sc_mp;		/* ... and negotiated */
	bool		sc_ready;	/* DEVICE_READY(1) received */
	bool		sc_closed;	/* pci_fini() is taking it down */
	struct vcon_port *sc_emerg;	/* where emerg_wr goes */
	uint16_t	sc_cols, sc_rows;
	uint64_t	sc_emerg_bytes;
	uint64_t	sc_ctl_errors;	/* malformed control messages */
	uint8_t		sc_cfg[VCON_CFG_LEN];
	struct iovec	sc_iov[VCON_NIOV];	/* one chain at a time */
};

/* virtio_console.c */
/* Queue q is configured, enabled, unbroken and the driver is running. */
bool	vcon_qlive(struct vcon_softc *sc, int q);
/*
 * End a pass over queue q (vq_endchains, the interrupt); empty: the pass
 * stopped because the batch had no more chains, so look for chains that
 * came meanwhile.
 */
void	vcon_qend(struct vcon_softc *sc, int q, bool empty);
/* The port carries data now: its driver side is open. */
bool	vcon_port_live(struct vcon_softc *sc, const struct vcon_port *p);
/* Move what the backend has into the port's receive buffers. */
void	vcon_rx(struct vcon_softc *sc, struct vcon_port *p);
/* Enable or disable the backend's input events, on a change only. */
void	vcon_input(struct vcon_port *p, bool on);

/* virtio_console_ctl.c */
/* The driver's control transmitq: messages from the driver. */
void	vcon_ctl_recv(struct vcon_softc *sc);
/* Send what the ports have pending, while the control receiveq has room. */
void	vcon_ctl_flush(struct vcon_softc *sc);
/* Queue a PORT_OPEN when the peer's state differs from the one sent. */
void	vcon_ctl_peer(struct vcon_softc *sc, struct vcon_port *p);

#endif /* VIRTIO_CONSOLE_IMPL_H */
