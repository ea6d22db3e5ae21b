/*
 * test_virtio_console.c: virtio-console through the test driver
 * (vdriver.h) on a fake machine, with its ports on real Unix sockets
 * served by the event loop: identity and configuration, one port
 * without MULTIPORT, the multiport handshake (DEVICE_READY, DEVICE_ADD,
 * PORT_READY, PORT_NAME, CONSOLE_PORT, RESIZE, PORT_OPEN both ways),
 * data both ways through a socket client, flow control (input waits in
 * the socket while the guest has no buffers, nothing is lost), a
 * transmit chain the backend takes in pieces, a client that stops
 * reading or is absent, EMERG_WRITE, hostile control messages and
 * rings, a reset with data in flight, the legacy transport, and the
 * option syntax.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "arch/x86/layout.h"
#include "backend/tty.h"
#include "config.h"
#include "fake.h"
#include "pci/pci_emul.h"
#include "test.h"
#include "ttyrig.h"
#include "vdriver.h"
#include "virtio/virtio.h"
#include "virtio/virtio_console.h"

extern const struct pci_devemu pci_de_vcon;	/* links virtio_console.o */

#define SLOT	7
#define QSIZE	64
#define RINGS	0x100000ULL	/* queue q's rings at RINGS + q * 4 KiB */
#define BUFS	0x200000ULL	/* queue q's buffers: 32 KiB each, 512 a slot */
#define BIG	0x600000ULL	/* a large transmit buffer */
#define BIGLEN	(1024 * 1024)
#define SLOTLEN	512

static struct fake_vm fv;
static struct vdrv d;
static char sock[VCON_MAX_PORTS][108];
static const struct pci_windows win = {
	.io_base = IO_PCI_IOBASE, .io_limit = IO_PCI_IOLIMIT,
	.mem32_base = PCI_MMIO32_BASE, .mem32_limit = PCI_MMIO32_LIMIT,
	.mem64_base = 32 * GiB, .mem64_limit = 64 * GiB,
};

/* The driver's side of one queue. */
struct tq {
	int		q;
	uint64_t	desc, avail, used;
	uint16_t	aidx;		/* next avail->idx */
	uint16_t	useen;		/* used elements consumed */
};
static struct tq tqs[2 * (VCON_MAX_PORTS + 1)];

static uint64_t
slot_gpa(int q, unsigned slot)
{
	return (BUFS + (uint64_t)q * 0x8000 + (slot % QSIZE) * SLOTLEN);
}

static void
set(const char *k, const char *v)
{
	char key[96];

	snprintf(key, sizeof(key), "pci.0.%d.0.%s", SLOT, k);
	CHECK_EQ(config_set(NULL, key, v), 0);
}

/* Port n on a fresh socket path. */
static void
set_port(unsigned n, const char *name)
{
	char key[32], file[32];

	snprintf(file, sizeof(file), "vcon%u.sock", n);
	snprintf(sock[n], sizeof(sock[n]), "%s", tmp_path(file));
	snprintf(key, sizeof(key), "port.%u.path", n);
	set(key, sock[n]);
	if (name != NULL) {
		snprintf(key, sizeof(key), "port.%u.name", n);
		set(key, name);
	}
}

static void
begin(void)
{
	CHECK(pci_emul_finddev("virtio-console") == &pci_de_vcon);
	config_init();
	tty_set_timeouts(TTY_STALL_MS, 0);
	set("device", "virtio-console");
	memset(tqs, 0, sizeof(tqs));
}

/* The config is set: build the machine and find the device. */
static int
build(void)
{
	int error;

	fake_vm_init(&fv, 8 * MiB, 1);
	error = pci_init(&fv.dc, &win);
	if (error == 0)
		loop_start();
	return (error);
}

static struct pci_devinst *
devinst(void)
{
	return (pci_find_dev(0, SLOT, 0));
}

static void
teardown(void)
{
	loop_stop();			/* no backend callback during pe_fini */
	pci_fini();
	fake_vm_fini(&fv);
	config_fini();
	tty_set_timeouts(TTY_STALL_MS, TTY_DRAIN_MS);
}

static void
tq_setup(int q)
{
	struct tq *t = &tqs[q];

	t->q = q;
	t->desc = RINGS + (uint64_t)q * 0x1000;
	t->avail = t->desc + 0x400;
	t->used = t->desc + 0x800;
	memset(fv.ram + t->desc, 0, 0x1000);
	vdrv_queue(&d, q, QSIZE, t->desc, t->avail, t->used,
	    VIRTIO_MSI_NO_VECTOR);
}

/* Post one buffer as a chain of one descriptor; returns its head. */
static uint16_t
tq_post(int q, uint64_t gpa, uint32_t len, bool writable)
{
	struct tq *t = &tqs[q];
	uint16_t head = t->aidx % QSIZE;

	vdrv_desc(&d, t->desc, head, gpa, len,
	    writable ? VIRTQ_DESC_F_WRITE : 0, 0);
	vdrv_avail(&d, t->avail, QSIZE, t->aidx++, head);
	return (head);
}

static uint16_t
tq_used_idx(int q)
{
	return (__atomic_load_n((uint16_t *)(void *)(fv.ram + tqs[q].used +
	    2), __ATOMIC_ACQUIRE));
}

/* Wait for the next used element of q; false after ms. */
static bool
tq_pop(int q, int ms, uint32_t *id, uint32_t *len)
{
	struct tq *t = &tqs[q];
	int i;

	/* used->idx may pass several elements at once. */
	for (i = 0; i < ms && tq_used_idx(q) == t->useen; i++)
		usleep(1000);
	if (tq_used_idx(q) == t->useen)
		return (false);
	vdrv_used_elem(&d, t->used, QSIZE, t->useen++, id, len);
	return (true);
}

/* Negotiate features, set up queues 0..nq-1 and start the driver. */
static void
drv_start(uint64_t features, int nq)
{
	int q;

	CHECK(vdrv_negotiate(&d, VIRTIO_F_VERSION_1 | features) &
	    VIRTIO_S_FEATURES_OK);
	for (q = 0; q < nq; q++)
		tq_setup(q);
	vdrv_set_status(&d, 0x0f);
}

/* Guest output: len bytes of s on queue q, waited for. */
static bool
guest_tx(int q, const void *s, uint32_t len)
{
	uint32_t id, l;
	uint16_t head;
	uint64_t gpa = slot_gpa(q, tqs[q].aidx);

	CHECK(len <= SLOTLEN);
	memcpy(fv.ram + gpa, s, len);
	head = tq_post(q, gpa, len, false);
	vdrv_notify(&d, q);
	if (!tq_pop(q, 5000, &id, &l))
		return (false);
	CHECK_EQ(id, head);
	return (true);
}

/* Post n receive buffers of len bytes on queue q. */
static void
guest_rx_post(int q, unsigned n, uint32_t len)
{
	while (n-- > 0)
		(void)tq_post(q, slot_gpa(q, tqs[q].aidx), len, true);
	vdrv_notify(&d, q);
}

/* Collect received bytes from q into buf until want bytes or ms pass. */
static size_t
guest_rx_collect(int q, char *buf, size_t want, int ms)
{
	uint32_t id, len;
	size_t got = 0;

	while (got < want && tq_pop(q, ms, &id, &len)) {
		CHECK(len <= SLOTLEN);
		memcpy(buf + got, fv.ram + slot_gpa(q, id), MIN(len,
		    want - got));
		got += len;
	}
	return (got);
}

static int
client(unsigned n)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock[n], strlen(sock[n]));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		fd = -1;
	}
	CHECK(fd >= 0);
	CHECK(wait_peer(vcon_port_backend(devinst(), n), true));
	return (fd);
}

/* The client closes and the backend has noticed. */
static void
client_close(unsigned n, int fd)
{
	close(fd);
	CHECK(wait_peer(vcon_port_backend(devinst(), n), false));
}

/* ---- control queue helpers (multiport) ---- */

struct cmsg {
	uint32_t	id;
	uint16_t	event, value;
	char		data[SLOTLEN];
	size_t		dlen;
};

static void
ctl_send(uint32_t id, uint16_t event, uint16_t value)
{
	uint8_t m[VCON_CTRL_LEN];

	memcpy(m, &id, 4);
	memcpy(m + 4, &event, 2);
	memcpy(m + 6, &value, 2);
	CHECK(guest_tx(VCON_CTRL_TXQ, m, sizeof(m)));
}

/* The next message from the device, waiting up to ms. */
static bool
ctl_recv(struct cmsg *m, int ms)
{
	uint32_t id, len;
	const uint8_t *p;

	if (!tq_pop(VCON_CTRL_RXQ, ms, &id, &len))
		return (false);
	CHECK(len >= VCON_CTRL_LEN && len <= SLOTLEN);
	p = fv.ram + slot_gpa(VCON_CTRL_RXQ, id);
	memcpy(&m->id, p, 4);
	memcpy(&m->event, p + 4, 2);
	memcpy(&m->value, p + 6, 2);
	m->dlen = len - VCON_CTRL_LEN;
	memcpy(m->data, p + VCON_CTRL_LEN, m->dlen);
	m->data[m->dlen] = '\0';
	/* Give the buffer back to the device, as Linux does. */
	guest_rx_post(VCON_CTRL_RXQ, 1, SLOTLEN);
	return (true);
}

/* The next message is event ev for port id (with value, or any if -1). */
static void
expect(struct cmsg *m, uint32_t id, uint16_t ev, int value)
{
	bool got = ctl_recv(m, 5000);

	CHECK(got);
	if (!got)
		return;
	CHECK_EQ(m->id, id);
	CHECK_EQ(m->event, ev);
	if (value >= 0)
		CHECK_EQ(m->value, value);
}

/* Nothing more from the device within ms. */
static void
expect_none(int ms)
{
	struct cmsg m;

	CHECK(!ctl_recv(&m, ms));
}

/* Multiport start: all queues, control buffers, DEVICE_READY. */
static void
mp_start(unsigned max_ports)
{
	uint64_t f;

	CHECK_EQ(vdrv_probe(&d, &fv, SLOT, false), 0);
	f = vdrv_device_features(&d);
	CHECK(f & VIRTIO_CONSOLE_F_MULTIPORT);
	CHECK_EQ(vdrv_config(&d, VCON_CFG_MAX_NR_PORTS, 4), max_ports);
	CHECK_EQ(vdrv_num_queues(&d), 2 * (max_ports + 1));
	drv_start(VIRTIO_CONSOLE_F_MULTIPORT | VIRTIO_CONSOLE_F_SIZE,
	    2 * ((int)max_ports + 1));
	guest_rx_post(VCON_CTRL_RXQ, 16, SLOTLEN);
	ctl_send(0xffffffff, VIRTIO_CONSOLE_DEVICE_READY, 1);
}

/* ---- tests ---- */

TEST(identity_and_config)
{
	uint64_t f;

	begin();
	set_port(0, NULL);
	set("cols", "132");
	set("rows", "43");
	CHECK_EQ(build(), 0);
	CHECK_EQ(pci_cfg_read(0, SLOT, 0, PCIR_DEVICE, 2), 0x1003);
	CHECK_EQ(pci_cfg_read(0, SLOT, 0, PCIR_SUBDEV_0, 2), VIRTIO_ID_CONSOLE);
	CHECK_EQ(pci_cfg_read(0, SLOT, 0, PCIR_CLASS, 1), 0x07);
	CHECK_EQ(vdrv_probe(&d, &fv, SLOT, false), 0);
	f = vdrv_device_features(&d);
	CHECK(f & VIRTIO_CONSOLE_F_SIZE);
	CHECK(f & VIRTIO_CONSOLE_F_EMERG_WRITE);
	CHECK_EQ(f & VIRTIO_CONSOLE_F_MULTIPORT, 0);	/* one unnamed port */
	CHECK_EQ(vdrv_num_queues(&d), 2);
	CHECK_EQ(vdrv_queue_max(&d, 0), QSIZE);
	CHECK_EQ(vdrv_config(&d, VCON_CFG_COLS, 2), 132);
	CHECK_EQ(vdrv_config(&d, VCON_CFG_ROWS, 2), 43);
	CHECK_EQ(vdrv_config(&d, VCON_CFG_MAX_NR_PORTS, 4), 1);
	CHECK_EQ(vdrv_config(&d, VCON_CFG_EMERG_WR, 4), 0);
	/* The socket exists while the device does, and goes with it. */
	CHECK_EQ(access(sock[0], F_OK), 0);
	teardown();
	CHECK(access(sock[0], F_OK) < 0);
}

/* One port, no MULTIPORT: port 0 carries data as soon as DRIVER_OK. */
TEST(single_port_data)
{
	char buf[64];
	int c;

	begin();
	set_port(0, NULL);
	CHECK_EQ(build(), 0);
	CHECK_EQ(vdrv_probe(&d, &fv, SLOT, false), 0);
	drv_start(0, 2);
	c = client(0);
	CHECK(guest_tx(1, "hello, host", 11));
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv_n(c, buf, 11), 11);
	CHECK_STR(buf, "hello, host");
	guest_rx_post(0, 4, SLOTLEN);
	CHECK_EQ(send_str(c, "hello, guest"), 12);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(guest_rx_collect(0, buf, 12, 5000), 12);
	CHECK_STR(buf, "hello, guest");
	client_close(0, c);
	/* No client: output is discarded, the guest is not held up. */
	CHECK(guest_tx(1, "nobody", 6));
	teardown();
}

TEST(multiport_handshake)
{
	struct cmsg m;
	int c;

	begin();
	set_port(0, "org.khyve.console");
	set("port.0.console", "true");
	set_port(1, NULL);
	set_port(3, "agent");
	CHECK_EQ(build(), 0);
	mp_start(4);
	/* Every port is announced, in order; port 2 does not exist. */
	expect(&m, 0, VIRTIO_CONSOLE_DEVICE_ADD, -1);
	expect(&m, 1, VIRTIO_CONSOLE_DEVICE_ADD, -1);
	expect(&m, 3, VIRTIO_CONSOLE_DEVICE_ADD, -1);
	expect_none(100);
	/* Port 0 gets its name, is made a console and sized. */
	ctl_send(0, VIRTIO_CONSOLE_PORT_READY, 1);
	expect(&m, 0, VIRTIO_CONSOLE_PORT_NAME, -1);
	CHECK_STR(m.data, "org.khyve.console");
	CHECK_EQ(m.dlen, strlen("org.khyve.console"));	/* no NUL */
	expect(&m, 0, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
	expect(&m, 0, VIRTIO_CONSOLE_RESIZE, -1);
	CHECK_EQ(m.dlen, 4);
	/* struct virtio_console_resize: cols, rows. */
	CHECK_EQ((uint8_t)m.data[0] | (uint8_t)m.data[1] << 8, 80);
	CHECK_EQ((uint8_t)m.data[2] | (uint8_t)m.data[3] << 8, 25);
	expect_none(100);		/* no client: not open */
	/* The driver opens the console port (§5.3.6.2 says it must). */
	ctl_send(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
	/* Port 1: the default name is portN. */
	ctl_send(1, VIRTIO_CONSOLE_PORT_READY, 1);
	expect(&m, 1, VIRTIO_CONSOLE_PORT_NAME, -1);
	CHECK_STR(m.data, "port1");
	expect_none(100);
	/* A client connecting opens the host side; leaving closes it. */
	c = client(1);
	expect(&m, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
	client_close(1, c);
	expect(&m, 1, VIRTIO_CONSOLE_PORT_OPEN, 0);
	/* A client already there when the port becomes ready. */
	c = client(3);
	expect_none(100);		/* port 3 is not ready yet */
	ctl_send(3, VIRTIO_CONSOLE_PORT_READY, 1);
	expect(&m, 3, VIRTIO_CONSOLE_PORT_NAME, -1);
	CHECK_STR(m.data, "agent");
	expect(&m, 3, VIRTIO_CONSOLE_PORT_OPEN, 1);
	close(c);
	expect(&m, 3, VIRTIO_CONSOLE_PORT_OPEN, 0);
	CHECK_EQ(vdrv_status(&d) & VIRTIO_S_NEEDS_RESET, 0);
	teardown();
}

/* Bring port n of a multiport device to "open on both sides". */
static int
mp_open(unsigned n)
{
	struct cmsg m;
	int c;

	ctl_send(n, VIRTIO_CONSOLE_PORT_READY, 1);
	expect(&m, n, VIRTIO_CONSOLE_PORT_NAME, -1);
	c = client(n);
	expect(&m, n, VIRTIO_CONSOLE_PORT_OPEN, 1);
	ctl_send(n, VIRTIO_CONSOLE_PORT_OPEN, 1);
	return (c);
}

TEST(multiport_data)
{
	struct cmsg m;
	char buf[64];
	int c1, c2;

	begin();
	set_port(1, "one");
	set_port(2, "two");
	CHECK_EQ(build(), 0);
	mp_start(3);
	expect(&m, 1, VIRTIO_CONSOLE_DEVICE_ADD, -1);
	expect(&m, 2, VIRTIO_CONSOLE_DEVICE_ADD, -1);
	c1 = mp_open(1);
	/* Input before the guest's side is open waits in the socket. */
	ctl_send(2, VIRTIO_CONSOLE_PORT_READY, 1);
	expect(&m, 2, VIRTIO_CONSOLE_PORT_NAME, -1);
	c2 = client(2);
	expect(&m, 2, VIRTIO_CONSOLE_PORT_OPEN, 1);
	CHECK_EQ(send_str(c2, "early"), 5);
	guest_rx_post(VCON_PORT_RXQ(2), 4, SLOTLEN);
	usleep(100000);
	CHECK_EQ(tq_used_idx(VCON_PORT_RXQ(2)), 0);
	ctl_send(2, VIRTIO_CONSOLE_PORT_OPEN, 1);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(guest_rx_collect(VCON_PORT_RXQ(2), buf, 5, 5000), 5);
	CHECK_STR(buf, "early");
	/* Each port's queues carry its own data. */
	CHECK(guest_tx(VCON_PORT_TXQ(1), "to one", 6));
	CHECK(guest_tx(VCON_PORT_TXQ(2), "to two", 6));
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv_n(c1, buf, 6), 6);
	CHECK_STR(buf, "to one");
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv_n(c2, buf, 6), 6);
	CHECK_STR(buf, "to two");
	guest_rx_post(VCON_PORT_RXQ(1), 4, SLOTLEN);
	CHECK_EQ(send_str(c1, "from one"), 8);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(guest_rx_collect(VCON_PORT_RXQ(1), buf, 8, 5000), 8);
	CHECK_STR(buf, "from one");
	/* The guest closes port 1: input waits again. */
	ctl_send(1, VIRTIO_CONSOLE_PORT_OPEN, 0);
	CHECK_EQ(send_str(c1, "later"), 5);
	usleep(100000);
	CHECK_EQ((uint16_t)(tq_used_idx(VCON_PORT_RXQ(1)) -
	    tqs[VCON_PORT_RXQ(1)].useen), 0);
	ctl_send(1, VIRTIO_CONSOLE_PORT_OPEN, 1);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(guest_rx_collect(VCON_PORT_RXQ(1), buf, 5, 5000), 5);
	CHECK_STR(buf, "later");
	/* Port 0's queues have no port: output there goes nowhere. */
	CHECK(guest_tx(1, "void", 4));
	close(c1);
	close(c2);
	teardown();
}

/* The client fills the socket while the guest has no buffers. */
TEST(flow_control_nothing_lost)
{
	static char out[512 * 1024], in[512 * 1024];
	size_t sent = 0, got = 0;
	uint32_t id, len;
	ssize_t r;
	int c, i, rounds = 0;

	begin();
	set_port(0, NULL);
	CHECK_EQ(build(), 0);
	CHECK_EQ(vdrv_probe(&d, &fv, SLOT, false), 0);
	drv_start(0, 2);
	c = client(0);
	for (i = 0; i < (int)sizeof(out); i++)
		out[i] = (char)(i * 31 % 251);
	/* Nobody takes the input: the socket fills and pushes back. */
	(void)fcntl(c, F_SETFL, O_NONBLOCK);
	while (sent < sizeof(out) && (r = send(c, out + sent,
	    sizeof(out) - sent, MSG_NOSIGNAL)) > 0)
		sent += (size_t)r;
	CHECK(sent > 0 && sent < sizeof(out));
	usleep(50000);
	while (sent < sizeof(out) && (r = send(c, out + sent,
	    sizeof(out) - sent, MSG_NOSIGNAL)) > 0)
		sent += (size_t)r;
	CHECK(sent < sizeof(out));	/* the device did not soak it up */
	/* Buffers come a few at a time; every byte arrives, in order. */
	while (got < sent && rounds++ < 10000) {
		guest_rx_post(0, 8, SLOTLEN);
		for (i = 0; i < 8 && got < sent; i++) {
			if (!tq_pop(0, 5000, &id, &len))
				break;
			CHECK(len > 0 && len <= SLOTLEN && got + len <= sent);
			memcpy(in + got, fv.ram + slot_gpa(0, id), len);
			got += len;
		}
		if (i < 8 && got < sent)
			break;			/* stuck */
	}
	CHECK_EQ(got, sent);
	CHECK(memcmp(in, out, sent) == 0);
	close(c);
	teardown();
}

/*
 * EVENT_IDX: the driver notifies only when avail_event asks (§2.7.10),
 * so buffers it adds while the device works through the ring may come
 * without a notification; every one is used all the same.
 */
TEST(event_idx_notifications)
{
	static char out[8 * SLOTLEN], in[8 * SLOTLEN];
	uint32_t id, len;
	size_t got = 0;
	int c, i;

	begin();
	set_port(0, NULL);
	CHECK_EQ(build(), 0);
	CHECK_EQ(vdrv_probe(&d, &fv, SLOT, false), 0);
	drv_start(VIRTIO_F_EVENT_IDX, 2);
	c = client(0);
	for (i = 0; i < (int)sizeof(out); i++)
		out[i] = (char)('a' + i % 26);
	CHECK_EQ(send(c, out, sizeof(out), MSG_NOSIGNAL), (ssize_t)sizeof(out));
	usleep(20000);
	/* One buffer with a notification, seven more notified only as
	 * EVENT_IDX asks (§2.7.10): the device may be in the middle of a
	 * pass when the driver looks at avail_event. */
	guest_rx_post(0, 1, SLOTLEN);
	for (i = 0; i < 7; i++) {
		uint16_t old = tqs[0].aidx, ev;

		(void)tq_post(0, slot_gpa(0, tqs[0].aidx), SLOTLEN, true);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		ev = __atomic_load_n((uint16_t *)(void *)(fv.ram +
		    tqs[0].used + 4 + 8 * QSIZE), __ATOMIC_ACQUIRE);
		if (vq_need_event(ev, tqs[0].aidx, old))
			vdrv_notify(&d, 0);
	}
	while (got < sizeof(in) && tq_pop(0, 5000, &id, &len)) {
		CHECK(len <= SLOTLEN && got + len <= sizeof(in));
		memcpy(in + got, fv.ram + slot_gpa(0, id), len);
		got += len;
	}
	CHECK_EQ(got, sizeof(in));
	CHECK(memcmp(in, out, sizeof(in)) == 0);
	close(c);
	teardown();
}

/* A big transmit chain that the socket takes a piece at a time. */
TEST(tx_resumes_where_it_stopped)
{
	static char buf[BIGLEN];
	uint32_t id, len;
	ssize_t n;
	int c, i;

	begin();
	set_port(0, NULL);
	CHECK_EQ(build(), 0);
	CHECK_EQ(vdrv_probe(&d, &fv, SLOT, false), 0);
	drv_start(0, 2);
	c = client(0);
	for (i = 0; i < BIGLEN; i++)
		fv.ram[BIG + i] = (uint8_t)(i * 7 % 253);
	/* Three descriptors, so the resumption crosses iovecs. */
	vdrv_desc(&d, tqs[1].desc, 0, BIG, 1000, VIRTQ_DESC_F_NEXT, 1);
	vdrv_desc(&d, tqs[1].desc, 1, BIG + 1000, BIGLEN / 2,
	    VIRTQ_DESC_F_NEXT, 2);
	vdrv_desc(&d, tqs[1].desc, 2, BIG + 1000 + BIGLEN / 2,
	    BIGLEN / 2 - 1000, 0, 0);
	vdrv_avail(&d, tqs[1].avail, QSIZE, tqs[1].aidx++, 0);
	vdrv_notify(&d, 1);
	n = recv_n(c, buf, BIGLEN);
	CHECK_EQ(n, BIGLEN);
	CHECK(memcmp(buf, fv.ram + BIG, BIGLEN) == 0);
	CHECK(tq_pop(1, 5000, &id, &len));
	CHECK_EQ(id, 0);
	CHECK_EQ(len, 0);
	close(c);
	teardown();
}

/* A client that reads nothing holds the guest up to the stall timeout. */
TEST(stalled_client_frees_the_guest)
{
	uint64_t dropped;
	uint32_t id, len;
	int c;

	begin();
	tty_set_timeouts(300, 0);
	set_port(0, NULL);
	CHECK_EQ(build(), 0);
	CHECK_EQ(vdrv_probe(&d, &fv, SLOT, false), 0);
	drv_start(0, 2);
	c = client(0);
	memset(fv.ram + BIG, 'x', BIGLEN);
	vdrv_desc(&d, tqs[1].desc, 0, BIG, BIGLEN, 0, 0);
	vdrv_avail(&d, tqs[1].avail, QSIZE, tqs[1].aidx++, 0);
	vdrv_notify(&d, 1);
	/* The backend's ring fills; the chain waits. */
	for (int i = 0; i < 5000 && tty_pending(vcon_port_backend(devinst(),
	    0)) < TTY_OUTBUF_SIZE; i++)
		usleep(1000);
	CHECK_EQ(tty_pending(vcon_port_backend(devinst(), 0)),
	    TTY_OUTBUF_SIZE);
	/* Then the peer is declared stalled and the chain completes. */
	CHECK(tq_pop(1, 10000, &id, &len));
	CHECK(tty_stalled(vcon_port_backend(devinst(), 0), &dropped));
	CHECK(dropped > 0);
	/* Later output is discarded at once while the peer stays stalled. */
	CHECK(guest_tx(1, "more", 4));
	close(c);
	teardown();
}

TEST(emergency_write)
{
	char buf[8];
	int c;

	begin();
	set_port(0, "plain");
	set_port(2, "cons");
	set("port.2.console", "true");
	CHECK_EQ(build(), 0);
	CHECK_EQ(vdrv_probe(&d, &fv, SLOT, false), 0);
	c = client(2);
	/* Before any set-up (§5.3.5): the low byte, on the console port. */
	vdrv_config_write(&d, VCON_CFG_EMERG_WR, 4, 0x1234521);
	vdrv_config_write(&d, VCON_CFG_EMERG_WR, 1, 'k');
	vdrv_config_write(&d, VCON_CFG_COLS, 2, 7);	/* read-only */
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv_n(c, buf, 2), 2);
	CHECK_STR(buf, "!k");
	CHECK_EQ(vdrv_config(&d, VCON_CFG_COLS, 2), 80);
	close(c);
	teardown();
}

TEST(hostile_control_messages)
{
	struct cmsg m;
	uint8_t junk[4] = { 1, 2, 3, 4 };
	uint32_t id, len;

	begin();
	set_port(0, "a");
	set_port(2, "b");
	CHECK_EQ(build(), 0);
	CHECK_EQ(vdrv_probe(&d, &fv, SLOT, false), 0);
	drv_start(VIRTIO_CONSOLE_F_MULTIPORT, 8);
	/* Not a port. */
	ctl_send(1, VIRTIO_CONSOLE_PORT_READY, 1);
	/* A device-readable control receive buffer is refused (given back
	 * empty); the message goes into the next good one. */
	(void)tq_post(VCON_CTRL_RXQ, slot_gpa(VCON_CTRL_RXQ,
	    tqs[VCON_CTRL_RXQ].aidx), SLOTLEN, false);
	guest_rx_post(VCON_CTRL_RXQ, 8, SLOTLEN);
	expect_none(100);
	ctl_send(0xffffffff, VIRTIO_CONSOLE_DEVICE_READY, 1);
	CHECK(tq_pop(VCON_CTRL_RXQ, 5000, &id, &len));
	CHECK_EQ(id, 0);
	CHECK_EQ(len, 0);
	expect(&m, 0, VIRTIO_CONSOLE_DEVICE_ADD, -1);
	expect(&m, 2, VIRTIO_CONSOLE_DEVICE_ADD, -1);
	/* Dropped, each given back: short, bad ids, not a driver's. */
	CHECK(guest_tx(VCON_CTRL_TXQ, junk, sizeof(junk)));
	CHECK(guest_tx(VCON_CTRL_TXQ, junk, 0));
	ctl_send(1, VIRTIO_CONSOLE_PORT_READY, 1);	/* no port 1 */
	ctl_send(3, VIRTIO_CONSOLE_PORT_READY, 1);	/* >= max_nr_ports */
	ctl_send(0xfffffffe, VIRTIO_CONSOLE_PORT_OPEN, 1);
	ctl_send(0, VIRTIO_CONSOLE_DEVICE_ADD, 1);
	ctl_send(0, VIRTIO_CONSOLE_PORT_NAME, 1);
	ctl_send(0, 0x7777, 1);
	ctl_send(0, VIRTIO_CONSOLE_PORT_OPEN, 1);	/* not ready yet */
	ctl_send(0xffffffff, VIRTIO_CONSOLE_DEVICE_READY, 1);	/* again */
	expect_none(100);
	/* A PORT_READY without DEVICE_READY first (a driver resuming)
	 * is answered. */
	vdrv_set_status(&d, 0);
	memset(tqs, 0, sizeof(tqs));
	drv_start(VIRTIO_CONSOLE_F_MULTIPORT, 8);
	guest_rx_post(VCON_CTRL_RXQ, 8, SLOTLEN);
	ctl_send(0, VIRTIO_CONSOLE_PORT_READY, 1);
	expect(&m, 0, VIRTIO_CONSOLE_PORT_NAME, -1);
	CHECK_STR(m.data, "a");
	/* The device still answers a good message. */
	ctl_send(2, VIRTIO_CONSOLE_PORT_READY, 1);
	expect(&m, 2, VIRTIO_CONSOLE_PORT_NAME, -1);
	CHECK_STR(m.data, "b");
	/* A data buffer in the wrong direction is given back unused. */
	(void)tq_post(VCON_PORT_TXQ(2), slot_gpa(VCON_PORT_TXQ(2), 0), 16,
	    true);
	vdrv_notify(&d, VCON_PORT_TXQ(2));
	CHECK(tq_pop(VCON_PORT_TXQ(2), 5000, &id, &len));
	CHECK_EQ(len, 0);
	CHECK_EQ(vdrv_status(&d) & VIRTIO_S_NEEDS_RESET, 0);
	/* A broken ring: NEEDS_RESET. */
	vdrv_avail(&d, tqs[VCON_CTRL_TXQ].avail, QSIZE,
	    tqs[VCON_CTRL_TXQ].aidx++, 200);
	vdrv_notify(&d, VCON_CTRL_TXQ);
	for (int i = 0; i < 5000 && !(vdrv_status(&d) & VIRTIO_S_NEEDS_RESET);
	    i++)
		usleep(1000);
	CHECK(vdrv_status(&d) & VIRTIO_S_NEEDS_RESET);
	teardown();
}

/* Read what the device sent until it has nothing more buffered. */
static void
drain_client(int c)
{
	static char sink[64 * 1024];
	struct tty_backend *tb = vcon_port_backend(devinst(), 0);
	int quiet = 0, i;

	(void)fcntl(c, F_SETFL, O_NONBLOCK);
	for (i = 0; i < 20000 && quiet < 3; i++) {
		if (recv(c, sink, sizeof(sink), 0) > 0 || tty_pending(tb) > 0)
			quiet = 0;
		else
			quiet++;
		usleep(quiet > 0 ? 20000 : 100);
	}
	(void)fcntl(c, F_SETFL, 0);
}

/* A reset while output waits for a full socket and input waits too. */
TEST(reset_with_data_in_flight)
{
	struct cmsg m;
	char buf[16];
	int c;

	begin();
	set_port(0, "p");
	CHECK_EQ(build(), 0);
	mp_start(1);
	expect(&m, 0, VIRTIO_CONSOLE_DEVICE_ADD, -1);
	c = mp_open(0);
	memset(fv.ram + BIG, 'y', BIGLEN);
	vdrv_desc(&d, tqs[1].desc, 0, BIG, BIGLEN, 0, 0);
	vdrv_avail(&d, tqs[1].avail, QSIZE, tqs[1].aidx++, 0);
	vdrv_notify(&d, 1);
	for (int i = 0; i < 5000 && tty_pending(vcon_port_backend(devinst(),
	    0)) < TTY_OUTBUF_SIZE; i++)
		usleep(1000);
	CHECK_EQ(send_str(c, "kept"), 4);
	/* Reset: the waiting chain is forgotten; when the client reads
	 * and the backend has room again, nothing is written to the old
	 * rings. */
	vdrv_set_status(&d, 0);
	CHECK_EQ(vdrv_status(&d), 0);
	memset(fv.ram + RINGS, 0, 0x10000);
	drain_client(c);
	CHECK_EQ(tq_used_idx(1), 0);
	CHECK_EQ(tq_used_idx(0), 0);
	memset(tqs, 0, sizeof(tqs));
	mp_start(1);
	expect(&m, 0, VIRTIO_CONSOLE_DEVICE_ADD, -1);
	ctl_send(0, VIRTIO_CONSOLE_PORT_READY, 1);
	expect(&m, 0, VIRTIO_CONSOLE_PORT_NAME, -1);
	expect(&m, 0, VIRTIO_CONSOLE_PORT_OPEN, 1);
	ctl_send(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
	/* The input sent before the reset comes now. */
	guest_rx_post(0, 2, SLOTLEN);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(guest_rx_collect(0, buf, 4, 5000), 4);
	CHECK_STR(buf, "kept");
	CHECK(guest_tx(1, "again", 5));
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv_n(c, buf, 5), 5);
	CHECK_STR(buf, "again");
	close(c);
	teardown();
}

TEST(legacy_transport)
{
	char buf[16];
	uint32_t id, len;
	int c;

	begin();
	set_port(0, NULL);
	set("transport", "legacy");
	CHECK_EQ(config_set(NULL, "virtio_msix", "false"), 0);
	CHECK_EQ(build(), 0);
	CHECK_EQ(vdrv_probe(&d, &fv, SLOT, true), 0);
	CHECK_EQ(vdrv_config(&d, VCON_CFG_COLS, 2), 80);
	(void)vdrv_negotiate(&d, 0);
	tqs[0].desc = RINGS;
	tqs[0].avail = RINGS + 16 * QSIZE;
	tqs[0].used = RINGS + 0x1000;
	tqs[1].desc = RINGS + 0x2000;
	tqs[1].avail = RINGS + 0x2000 + 16 * QSIZE;
	tqs[1].used = RINGS + 0x3000;
	vdrv_queue(&d, 0, QSIZE, tqs[0].desc, 0, 0, 0);
	vdrv_queue(&d, 1, QSIZE, tqs[1].desc, 0, 0, 0);
	vdrv_set_status(&d, 0x07);
	c = client(0);
	memcpy(fv.ram + BUFS, "legacy", 6);
	(void)tq_post(1, BUFS, 6, false);
	vdrv_notify(&d, 1);
	CHECK(tq_pop(1, 5000, &id, &len));
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv_n(c, buf, 6), 6);
	CHECK_STR(buf, "legacy");
	vdrv_config_write(&d, VCON_CFG_EMERG_WR, 4, '#');
	CHECK_EQ(recv_n(c, buf, 1), 1);
	CHECK_EQ(buf[0], '#');
	close(c);
	teardown();
}

/* The -s option string (pe_legacy_config). */
TEST(option_syntax)
{
	struct config_node *n;

	config_init();
	n = config_create_node(NULL, "dev");
	CHECK_EQ(pci_de_vcon.pe_legacy_config(n,
	    "port1=/tmp/a.sock,org.x.agent=/tmp/b,cols=100"), 0);
	CHECK_STR(config_get(n, "port.0.name"), "port1");
	CHECK_STR(config_get(n, "port.0.path"), "/tmp/a.sock");
	CHECK_STR(config_get(n, "port.1.name"), "org.x.agent");
	CHECK_STR(config_get(n, "port.1.path"), "/tmp/b");
	CHECK_STR(config_get(n, "cols"), "100");
	config_fini();

	config_init();
	n = config_create_node(NULL, "dev");
	/* console keeps port 0 (stdio) wherever it stands. */
	CHECK_EQ(pci_de_vcon.pe_legacy_config(n, "p=/tmp/p,console"), 0);
	CHECK_STR(config_get(n, "console"), "true");
	CHECK(config_get(n, "port.0.path") == NULL);
	CHECK_STR(config_get(n, "port.1.path"), "/tmp/p");
	config_fini();

	config_init();
	n = config_create_node(NULL, "dev");
	CHECK_EQ(pci_de_vcon.pe_legacy_config(n, "nopath"), -EINVAL);
	CHECK_EQ(pci_de_vcon.pe_legacy_config(n, "x="), -EINVAL);
	CHECK_EQ(pci_de_vcon.pe_legacy_config(n, "=y"), -EINVAL);
	CHECK_EQ(pci_de_vcon.pe_legacy_config(n, "console=maybe"), -EINVAL);
	CHECK_EQ(pci_de_vcon.pe_legacy_config(n, "a=1,b=2,c=3,d=4,e=5,f=6,"
	    "g=7,h=8,i=9,j=10,k=11,l=12,m=13,n=14,o=15,p=16,q=17"), -EINVAL);
	CHECK_EQ(pci_de_vcon.pe_legacy_config(n, "port.3.path=/tmp/s"), 0);
	CHECK_STR(config_get(n, "port.3.path"), "/tmp/s");
	config_fini();
}

static int
try_config(const char *k1, const char *v1, const char *k2, const char *v2)
{
	int error;

	begin();
	if (k1 != NULL)
		set(k1, v1);
	if (k2 != NULL)
		set(k2, v2);
	fake_vm_init(&fv, 8 * MiB, 1);
	error = pci_init(&fv.dc, &win);
	pci_fini();
	fake_vm_fini(&fv);
	config_fini();
	return (error);
}

TEST(config_errors)
{
	CHECK_EQ(try_config(NULL, NULL, NULL, NULL), -EINVAL);	/* no ports */
	CHECK_EQ(try_config("port.16.path", "/tmp/x", NULL, NULL), -EINVAL);
	CHECK_EQ(try_config("port.01.path", "/tmp/x", NULL, NULL), -EINVAL);
	CHECK_EQ(try_config("port.a.path", "/tmp/x", NULL, NULL), -EINVAL);
	CHECK_EQ(try_config("port.0.name", "x", NULL, NULL), -EINVAL);
	CHECK_EQ(try_config("port.0.path", "/tmp/x", "port.0.colour", "red"),
	    -EINVAL);
	CHECK_EQ(try_config("port.0.path", "/tmp/x", "port.0.console", "pf"),
	    -EINVAL);
	CHECK_EQ(try_config("port.0.path", "/tmp/x", "cols", "0"), -EINVAL);
	CHECK_EQ(try_config("port.0.path", "/tmp/x", "rows", "65536"),
	    -EINVAL);
	CHECK_EQ(try_config("port", "/tmp/x", NULL, NULL), -EINVAL);
	CHECK_EQ(try_config("console", "perhaps", NULL, NULL), -EINVAL);
	CHECK_EQ(try_config("port.0.path", "tcp=nowhere", NULL, NULL),
	    -EINVAL);
}

static int
count_dir(const char *path)
{
	struct dirent *e;
	DIR *dir = opendir(path);
	int n = 0;

	if (dir == NULL)
		return (-1);
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return (n - (strcmp(path, "/proc/self/fd") == 0));	/* dir's own */
}

/*
 * Let the event loop run a batch, which frees the events deleted while it
 * was stopped (mevent closes a deleted timer's fd then).
 */
static void
loop_reap(void)
{
	loop_start();
	usleep(50000);			/* in epoll_wait: the stop is a batch */
	loop_stop();
}

/*
 * pci_fini() takes the device down (pe_fini): the worker joined, the
 * backends closed (their sockets gone, a connected client dropped), the
 * queue eventfds closed; nothing is left over after 20 cycles.
 */
TEST(create_destroy_cycles)
{
	int fds, thr, i, c;

	loop_reap();
	fds = count_dir("/proc/self/fd");
	thr = count_dir("/proc/self/task");
	for (i = 0; i < 20; i++) {
		begin();
		set_port(0, "a");
		set_port(2, "b");
		CHECK_EQ(build(), 0);
		mp_start(3);
		c = client(2);
		CHECK(guest_tx(VCON_PORT_TXQ(2), "bye", 3));
		teardown();
		CHECK(access(sock[0], F_OK) < 0 && access(sock[2], F_OK) < 0);
		close(c);
	}
	loop_reap();
	CHECK_EQ(count_dir("/proc/self/fd"), fds);
	CHECK_EQ(count_dir("/proc/self/task"), thr);
}

TEST_MAIN()
