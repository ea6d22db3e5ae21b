/*
 * virtio_console.h: the console device's protocol (virtio 1.2 §5.3), for
 * the device and for its tests and fuzz target.
 */
#ifndef VIRTIO_CONSOLE_H
#define VIRTIO_CONSOLE_H

#include <stdint.h>
#include "pci/pci_emul.h"

/* Feature bits (§5.3.3). */
#define VIRTIO_CONSOLE_F_SIZE		(1ULL << 0)
#define VIRTIO_CONSOLE_F_MULTIPORT	(1ULL << 1)
#define VIRTIO_CONSOLE_F_EMERG_WRITE	(1ULL << 2)

/*
 * struct virtio_console_config (§5.3.4), little-endian: cols and rows in
 * this order, as Linux, QEMU and bhyve lay them out (the 1.2 text lists
 * rows first; every implementation reads cols at offset 0).
 */
#define VCON_CFG_COLS		0	/* le16 */
#define VCON_CFG_ROWS		2	/* le16 */
#define VCON_CFG_MAX_NR_PORTS	4	/* le32 */
#define VCON_CFG_EMERG_WR	8	/* le32, write-only */
#define VCON_CFG_LEN		12

/*
 * Queues (§5.3.2): receiveq0, transmitq0, then with MULTIPORT the
 * control receiveq (device to driver) and control transmitq, then one
 * receiveq/transmitq pair per further port.
 */
#define VCON_CTRL_RXQ		2
#define VCON_CTRL_TXQ		3
#define VCON_PORT_RXQ(n)	((n) == 0 ? 0 : 2 * (n) + 2)
#define VCON_PORT_TXQ(n)	(VCON_PORT_RXQ(n) + 1)

#define VCON_MAX_PORTS		16	/* bhyve's limit */

/* struct virtio_console_control (§5.3.6.2): le32 id, le16 event, value. */
#define VCON_CTRL_LEN		8
#define VIRTIO_CONSOLE_DEVICE_READY	0	/* driver: 1 ok, 0 failed */
#define VIRTIO_CONSOLE_DEVICE_ADD	1	/* device: a port (PORT_ADD) */
#define VIRTIO_CONSOLE_DEVICE_REMOVE	2	/* device */
#define VIRTIO_CONSOLE_PORT_READY	3	/* driver: 1 ok, 0 failed */
#define VIRTIO_CONSOLE_CONSOLE_PORT	4	/* device: value 1 */
#define VIRTIO_CONSOLE_RESIZE		5	/* device: + le16 cols, rows */
#define VIRTIO_CONSOLE_PORT_OPEN	6	/* both: 1 open, 0 closed */
#define VIRTIO_CONSOLE_PORT_NAME	7	/* device: + the name, no NUL */

#define VCON_NAME_MAX		255	/* bytes of a port name */

struct tty_backend;

/*
 * For tests and the fuzz target: the backend of port n of the
 * virtio-console device pi (NULL when the port is not configured).
 * pci_fini() closes the backends (their socket files go); the event loop
 * must not be running a backend callback then.
 */
struct tty_backend *vcon_port_backend(struct pci_devinst *pi, unsigned n);

#endif /* VIRTIO_CONSOLE_H */
