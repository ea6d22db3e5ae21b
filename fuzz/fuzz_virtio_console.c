/*
 * fuzz_virtio_console.c: virtio-console driven by a guest made of the
 * input: control messages, transmit and receive chains, host input,
 * EMERG_WRITE and configuration accesses, resets and raw ring pokes.
 *
 * The device is built once (a fake machine, the PCI transport, the test
 * driver of tests/unit/vdriver.h): multiport, ports 0 (a console), 1
 * and 3 on Unix sockets in a private directory; ports 0 and 1 have a
 * client connected (accepted by the event loop, which then stops), port
 * 3 has none.  Each input starts with a device reset and a fresh set-up
 * of all ten queues; queue work is run on this thread, by calling the
 * device's notify under vs_mtx as the worker does (the worker may still
 * run the passes DRIVER_OK asks for, under the same lock).
 *
 * Input: a header byte (bit 0 MULTIPORT, 1 EVENT_IDX, 2 INDIRECT_DESC,
 * 3 SIZE), then steps: an op byte, low 4 bits the action, high 4 bits a
 * parameter p, then its operands:
 *	0 ctl	a control message on the control transmitq: id selector,
 *		event, value (p 14: 0 bytes long, p 15: 4 bytes)
 *	1 tx	a chain on queue [1] % 12 of 1 + (p & 3) descriptors,
 *		lengths [..] * 16, from the data area; p & 4 indirect, p & 8
 *		the last one device-writable
 *	2 rx	1 + (p & 7) receive buffers on queue [1] % 12 of [2] * 8
 *		bytes; p & 8: device-readable
 *	3 crx	1 + (p & 7) control receive buffers (p & 8: [1] bytes, or
 *		device-readable when [1] is odd)
 *	4 input	[1] bytes of host input on port p & 1's client
 *	5 drain	the clients read; the backends flushed, owners told
 *	6 cfg	a device configuration write at [1] % 12, size 1 << (p & 3)
 *		clipped to 4, value [2..5]; and a read
 *	7 reset	status 0, then set up again with header [1]
 *	8 poke	p + 1 bytes at ring offset [1..2] (hostile rings)
 *	9 kick	notify queue [1] % 12
 *	10 status  write [1] to the device status
 * Checked after every step: every control message the device put in a
 * control receive buffer is one a device sends (DEVICE_ADD, PORT_NAME,
 * CONSOLE_PORT, RESIZE, PORT_OPEN) for a configured port; ASan and UBSan
 * the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "arch/x86/layout.h"
#include "backend/tty.h"
#include "config.h"
#include "fake.h"
#include "mevent.h"
#include "pci/pci_emul.h"
#include "vdriver.h"
#include "virtio/virtio.h"
#include "virtio/virtio_console.h"

#define SLOT	4
#define NQ	10		/* 4 ports: 2 * (4 + 1) queues */
#define QSIZE	64
#define RINGS	0x10000ULL	/* queue q at RINGS + q * 4 KiB */
#define RINGS_LEN (NQ * 0x1000ULL)
#define CBUF	0x40000ULL	/* control receive buffers: 512 per desc */
#define BUFS	0x50000ULL	/* other buffers: 512 per desc */
#define ITBL	0x58000ULL	/* an indirect table */
#define CTX	0x59000ULL	/* control messages the driver sends */
#define DATA	0x80000ULL	/* transmit data, from the input */
#define DATA_LEN 0x10000ULL
#define RAM	(1 * MiB)

static struct fake_vm fv;
static struct vdrv d;
static struct pci_devinst *pi;
static int clients[2] = { -1, -1 };
static char dir[64];

struct fq {
	uint64_t	desc, avail, used;
	uint16_t	aidx;		/* next avail->idx */
	uint16_t	next;		/* next descriptor to use */
	uint16_t	useen;		/* used elements checked */
};
static struct fq fqs[NQ];
static bool hostile;		/* rings poked: skip the content check */

struct fz {
	const uint8_t	*p, *end;
};

static unsigned
get8(struct fz *f)
{
	return (f->p < f->end ? *f->p++ : 0);
}

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_virtio_console: %s\n", what);
	abort();
}

static void *
loop_main(void *arg)
{
	(void)mevent_dispatch();
	return (NULL);
}

static void
rm_dir(void)
{
	(void)rmdir(dir);
}

static void
set_port(unsigned n, const char *name)
{
	char key[64], path[96];

	snprintf(path, sizeof(path), "%s/p%u", dir, n);
	snprintf(key, sizeof(key), "pci.0.%d.0.port.%u.path", SLOT, n);
	if (config_set(NULL, key, path) != 0)
		fail("config");
	snprintf(key, sizeof(key), "pci.0.%d.0.port.%u.name", SLOT, n);
	if (config_set(NULL, key, name) != 0)
		fail("config");
}

static int
connect_port(unsigned n)
{
	struct sockaddr_un sun;
	int fd, i;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/p%u", dir, n);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		fail("connect");
	for (i = 0; i < 5000 && !tty_has_peer(vcon_port_backend(pi, n)); i++)
		usleep(1000);
	if (!tty_has_peer(vcon_port_backend(pi, n)))
		fail("the client was not accepted");
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	return (fd);
}

static void
setup_once(void)
{
	static const struct pci_windows win = {
		.io_base = IO_PCI_IOBASE, .io_limit = IO_PCI_IOLIMIT,
		.mem32_base = PCI_MMIO32_BASE, .mem32_limit = PCI_MMIO32_LIMIT,
		.mem64_base = 32 * GiB, .mem64_limit = 64 * GiB,
	};
	pthread_t loop;
	char key[64];

	snprintf(dir, sizeof(dir), "/tmp/khyve-fuzz-vcon-XXXXXX");
	if (mkdtemp(dir) == NULL)
		fail("mkdtemp");
	atexit(rm_dir);		/* after the backends remove their sockets */
	if (mevent_init() != 0)
		fail("mevent_init");
	config_init();
	snprintf(key, sizeof(key), "pci.0.%d.0.device", SLOT);
	if (config_set(NULL, key, "virtio-console") != 0)
		fail("config");
	set_port(0, "console");
	snprintf(key, sizeof(key), "pci.0.%d.0.port.0.console", SLOT);
	if (config_set(NULL, key, "true") != 0)
		fail("config");
	set_port(1, "org.khyve.agent.0");
	set_port(3, "nobody");
	tty_set_timeouts(TTY_STALL_MS, 0);
	fake_vm_init(&fv, RAM, 1);
	if (pci_init(&fv.dc, &win) != 0)
		fail("pci_init");
	pi = pci_find_dev(0, SLOT, 0);
	if (vdrv_probe(&d, &fv, SLOT, false) != 0)
		fail("probe");
	/* The event loop runs only to accept the two clients. */
	if (pthread_create(&loop, NULL, loop_main, NULL) != 0)
		fail("pthread_create");
	clients[0] = connect_port(0);
	clients[1] = connect_port(1);
	mevent_stop(0);
	pthread_join(loop, NULL);
}

/* Queue work on this thread, as the worker does it. */
static void
fz_kick(int q)
{
	struct virtio_softc *vs = pi->pi_arg;
	struct virtio_queue *vq;

	if (q < 0 || q >= vs->vs_nqueues)
		return;
	vq = &vs->vs_queues[q];
	pthread_mutex_lock(&vs->vs_mtx);
	if (vq->enabled && vq->vq.vq_ready && !vq_broken(&vq->vq) &&
	    (vs->vs_status & VIRTIO_S_NEEDS_RESET) == 0)
		vs->vs_ops->vd_notify(vs->vs_dev, q);
	pthread_mutex_unlock(&vs->vs_mtx);
}

static void
start(unsigned h)
{
	uint64_t f = VIRTIO_F_VERSION_1;
	int q;

	if (h & 1)
		f |= VIRTIO_CONSOLE_F_MULTIPORT;
	if (h & 2)
		f |= VIRTIO_F_EVENT_IDX;
	if (h & 4)
		f |= VIRTIO_F_INDIRECT_DESC;
	if (h & 8)
		f |= VIRTIO_CONSOLE_F_SIZE;
	(void)vdrv_negotiate(&d, f);
	memset(fv.ram + RINGS, 0, RINGS_LEN);
	memset(fqs, 0, sizeof(fqs));
	for (q = 0; q < NQ; q++) {
		fqs[q].desc = RINGS + (uint64_t)q * 0x1000;
		fqs[q].avail = fqs[q].desc + 0x400;
		fqs[q].used = fqs[q].desc + 0x800;
		vdrv_queue(&d, q, QSIZE, fqs[q].desc, fqs[q].avail,
		    fqs[q].used, VIRTIO_MSI_NO_VECTOR);
	}
	vdrv_set_status(&d, 0x0f);
	hostile = false;
}

static void
post(int q, uint16_t head)
{
	struct fq *t = &fqs[q];

	vdrv_avail(&d, t->avail, QSIZE, t->aidx++, head);
}

/* One descriptor at the queue's next index; returns the index. */
static uint16_t
desc(int q, uint64_t addr, uint32_t len, uint16_t flags)
{
	struct fq *t = &fqs[q];
	uint16_t i = t->next++ % QSIZE;

	vdrv_desc(&d, t->desc, i, addr, len, flags, (uint16_t)((i + 1) %
	    QSIZE));
	return (i);
}

static void
op_ctl(struct fz *f, unsigned p)
{
	unsigned sel = get8(f), ev = get8(f), val = get8(f);
	uint32_t id = sel < 0xf0 ? sel % 6 : 0xffffffffu - (sel & 15);
	uint32_t len = p == 14 ? 0 : p == 15 ? 4 : VCON_CTRL_LEN;
	uint64_t at = CTX + (uint64_t)(fqs[3].next % QSIZE) * 16;
	uint16_t e = (uint16_t)(ev % 10);
	uint16_t v = (uint16_t)((val & 0x80) ? val & 0x7f : 1);

	memcpy(fv.ram + at, &id, 4);
	memcpy(fv.ram + at + 4, &e, 2);
	memcpy(fv.ram + at + 6, &v, 2);
	post(3, desc(3, at, len, 0));
	fz_kick(3);
}

static void
op_tx(struct fz *f, unsigned p)
{
	int q = (int)(get8(f) % 12), n = 1 + (int)(p & 3), i;
	uint64_t tbl = ITBL;
	uint16_t head = 0, flags;
	uint32_t len;
	uint64_t off;

	if (q >= NQ)
		return;
	for (i = 0; i < n; i++) {
		len = get8(f) * 16;
		off = (get8(f) * 256ULL) % DATA_LEN;
		if (off + len > DATA_LEN)
			len = (uint32_t)(DATA_LEN - off);
		flags = (uint16_t)((i + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
		    (i + 1 == n && (p & 8) ? VIRTQ_DESC_F_WRITE : 0));
		if (p & 4) {
			vdrv_desc(&d, tbl, (unsigned)i, DATA + off, len, flags,
			    (uint16_t)(i + 1));
			continue;
		}
		if (i == 0)
			head = desc(q, DATA + off, len, flags);
		else
			(void)desc(q, DATA + off, len, flags);
	}
	if (p & 4)
		head = desc(q, tbl, (uint32_t)(16 * n), VIRTQ_DESC_F_INDIRECT);
	post(q, head);
	fz_kick(q);
}

static void
op_rx(struct fz *f, unsigned p, bool ctl)
{
	int q = ctl ? VCON_CTRL_RXQ : (int)(get8(f) % 12);
	unsigned n = 1 + (p & 7), len, i, a = get8(f);
	uint16_t h;

	if (q >= NQ)
		return;
	len = ctl ? ((p & 8) ? a : 512) : a * 8;
	for (i = 0; i < n; i++) {
		h = fqs[q].next % QSIZE;
		/* Control buffers always at CBUF + 512 * index (checked),
		 * also those a plain rx step puts in the control queue. */
		h = desc(q, q == VCON_CTRL_RXQ ? CBUF + 512ULL * h :
		    BUFS + 512ULL * h,
		    MIN(len, 512), (uint16_t)(((p & 8) && (!ctl || (a & 1))) ?
		    0 : VIRTQ_DESC_F_WRITE));
		post(q, h);
	}
	fz_kick(q);
}

static void
op_input(struct fz *f, unsigned p)
{
	unsigned n = get8(f);
	uint8_t buf[256];
	unsigned i;

	for (i = 0; i < n; i++)
		buf[i] = (uint8_t)get8(f);
	(void)send(clients[p & 1], buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void
drain_clients(void)
{
	static uint8_t sink[64 * 1024];
	int i;

	for (i = 0; i < 2; i++)
		while (recv(clients[i], sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
}

static void
op_drain(void)
{
	drain_clients();
	(void)tty_drain(0, true);	/* owners get TTY_EV_OUTPUT here */
	drain_clients();
}

static void
op_cfg(struct fz *f, unsigned p)
{
	unsigned off = get8(f) % VCON_CFG_LEN, size = MIN(1u << (p & 3), 4u);
	uint32_t v = (uint32_t)get8(f) | (uint32_t)get8(f) << 8 |
	    (uint32_t)get8(f) << 16 | (uint32_t)get8(f) << 24;

	if (off + size > VCON_CFG_LEN)
		off = VCON_CFG_LEN - size;
	vdrv_config_write(&d, off, size, v);
	(void)vdrv_config(&d, off, size);
}

static void
op_poke(struct fz *f, unsigned p)
{
	uint64_t off = (get8(f) | get8(f) << 8) % RINGS_LEN;
	unsigned i;

	for (i = 0; i <= p && off + i < RINGS_LEN; i++)
		fv.ram[RINGS + off + i] = (uint8_t)get8(f);
	hostile = true;
}

/* Every control message the device sent is a device's message. */
static void
check_ctl(void)
{
	struct fq *t = &fqs[VCON_CTRL_RXQ];
	uint16_t idx, ev;
	uint32_t id, len, port;
	const uint8_t *m;

	memcpy(&idx, fv.ram + t->used + 2, 2);
	for (; t->useen != idx; t->useen++) {
		vdrv_used_elem(&d, t->used, QSIZE, t->useen, &id, &len);
		if (hostile || len < VCON_CTRL_LEN || id >= QSIZE)
			continue;
		m = fv.ram + CBUF + 512ULL * id;
		memcpy(&port, m, 4);
		memcpy(&ev, m + 4, 2);
		if (port != 0 && port != 1 && port != 3)
			fail("control message for a port that is not there");
		if (ev != VIRTIO_CONSOLE_DEVICE_ADD &&
		    ev != VIRTIO_CONSOLE_PORT_NAME &&
		    ev != VIRTIO_CONSOLE_CONSOLE_PORT &&
		    ev != VIRTIO_CONSOLE_RESIZE &&
		    ev != VIRTIO_CONSOLE_PORT_OPEN)
			fail("the device sent a driver's control message");
		if ((ev == VIRTIO_CONSOLE_CONSOLE_PORT ||
		    ev == VIRTIO_CONSOLE_RESIZE) && port != 0)
			fail("a console message for a port that is no console");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fz f = { data, data + size };
	unsigned op, p, steps = 0;

	if (!ready) {
		setup_once();
		ready = true;
	}
	/* The data area: the input, repeated. */
	for (uint64_t i = 0; i < DATA_LEN; i++)
		fv.ram[DATA + i] = size > 0 ? data[i % size] : 0;
	start(get8(&f));
	while (f.p < f.end && steps++ < 256) {
		op = get8(&f);
		p = op >> 4;
		switch (op & 15) {
		case 0:
			op_ctl(&f, p);
			break;
		case 1:
			op_tx(&f, p);
			break;
		case 2:
			op_rx(&f, p, false);
			break;
		case 3:
			op_rx(&f, p, true);
			break;
		case 4:
			op_input(&f, p);
			break;
		case 5:
			op_drain();
			break;
		case 6:
			op_cfg(&f, p);
			break;
		case 7:
			start(get8(&f));
			break;
		case 8:
			op_poke(&f, p);
			break;
		case 9:
			fz_kick((int)(get8(&f) % 12));
			break;
		case 10:
			vdrv_set_status(&d, (uint8_t)get8(&f));
			break;
		default:
			break;
		}
		check_ctl();
	}
	/* Nothing carries over but what the backends buffered. */
	vdrv_set_status(&d, 0);
	op_drain();
	return (0);
}
