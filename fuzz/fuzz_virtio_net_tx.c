/*
 * fuzz_virtio_net_tx.c: virtio-net's transmit path and control queue,
 * guest chains laid out by the input turned into backend frames.
 *
 * As fuzz_virtio_net_rx.c: two devices built once on the fake machine
 * and the quiet fake backend (slot 4 without the header, slot 5 with
 * it, every offload and two queue pairs), queue work run on this thread
 * under vs_mtx as the worker runs it, and each input starts with a
 * reset and a set-up with the features its first byte picks.
 *
 * Input: [0] device (bit 0) and features (bit 1 MRG_RXBUF, 2 EVENT_IDX,
 * 3 INDIRECT_DESC, 4 CSUM and HOST_TSO4, 7 legacy registers), then
 * steps: an op byte, low 3 bits the action, high 5 bits a parameter p:
 *	0 tx	a chain of 1 + p % 8 descriptors on transmitq (p & 8: of
 *		pair 2), each of length [..] (two bytes; 0xffff: past
 *		NETBE_FRAME_MAX) at input-chosen offsets of the data area,
 *		[..] bit 0 device-writable, bit 1 through an indirect table;
 *		then the queue is run
 *	1 ctrl	a control command of [1] % 8 bytes after class [2] % 7 and
 *		command [3] % 4, the bytes from the data area, with or
 *		without ([4] & 1) an ack byte; then the queue is run
 *	2 full	the backend is full ([1] & 1) or not
 *	3 poke	p + 1 bytes at ring offset [1..2] (hostile rings)
 *	4 reset	status 0, then set up again with feature byte [1]
 *	5 kick	run queue [1] % 5
 * Checked (unless the rings were poked): each transmit chain gives the
 * backend exactly the model's frame (the readable bytes, without the
 * header for a backend that has none) or nothing when the model says
 * the chain is malformed (device-writable buffers, shorter than the
 * header and an Ethernet header, longer than NETBE_FRAME_MAX) or the
 * backend is full; every chain is used with length 0, every control
 * command with 1 and an ack of 0 or 1 (0 for a command without one);
 * the device never needs reset.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arch/x86/layout.h"
#include "config.h"
#include "fake.h"
#include "fake_netbe.h"
#include "pci/pci_emul.h"
#include "vdriver.h"
#include "virtio/virtio.h"
#include "virtio/virtio_net_impl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM	(8 * MiB)
#define QS	256
#define NQ	5
#define RINGS	0x100000ULL	/* queue q at RINGS + q * 0x8000 */
#define ITBL	0x140000ULL	/* an indirect table */
#define ACK	0x150000ULL	/* ack bytes, one per head */
#define DATA	0x200000ULL	/* transmit data: the input, repeated */
#define DATA_LEN 0x40000ULL
#define BIG	(DATA + DATA_LEN)	/* room for an oversized buffer */

struct fq {
	uint64_t	desc, avail, used;
	uint16_t	aidx, next, useen;
};

struct dev {
	struct vnet_softc *sc;
	struct fake_netbe *fb;
	struct vdrv	d;
	int		slot;
};

static struct fake_vm fv;
static struct dev devs[2];
static struct dev *cur;
static struct fq fqs[NQ];
static bool hostile, full;
static uint8_t want[NETBE_FRAME_MAX + 64], got[NETBE_FRAME_MAX + 64];

struct fz {
	const uint8_t	*p, *end;
};

static unsigned
get8(struct fz *f)
{
	return (f->p < f->end ? *f->p++ : 0);
}

static unsigned
get16(struct fz *f)
{
	unsigned v = get8(f);

	return (v | get8(f) << 8);
}

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_virtio_net_tx: %s\n", what);
	abort();
}

static void
setup_once(void)
{
	static const struct pci_windows win = {
		.io_base = IO_PCI_IOBASE, .io_limit = IO_PCI_IOLIMIT,
		.mem32_base = PCI_MMIO32_BASE, .mem32_limit = PCI_MMIO32_LIMIT,
		.mem64_base = 32 * GiB, .mem64_limit = 64 * GiB,
	};
	static const char *kv[] = {
		"pci.0.4.0.device", "virtio-net", "pci.0.4.0.backend", "fake",
		"pci.0.4.0.fake_quiet", "true",
		"pci.0.5.0.device", "virtio-net", "pci.0.5.0.backend", "fake",
		"pci.0.5.0.fake_quiet", "true", "pci.0.5.0.fake_caps", "127",
		"pci.0.5.0.num_queues", "2", "name", "fuzz", NULL,
	};
	int i;

	config_init();
	for (i = 0; kv[i] != NULL; i += 2)
		if (config_set(NULL, kv[i], kv[i + 1]) != 0)
			fail("config");
	fake_vm_init(&fv, RAM, 1);
	if (pci_init(&fv.dc, &win) != 0)
		fail("pci_init");
	for (i = 0; i < 2; i++) {
		devs[i].slot = 4 + i;
		devs[i].sc = vnet_softc(pci_find_dev(0, 4 + i, 0));
		if (devs[i].sc == NULL)
			fail("no device");
		devs[i].fb = fake_netbe_of(devs[i].sc->vn_be);
	}
}

static uint16_t
qsize(void)
{
	return (cur->d.legacy ? VNET_QSIZE : QS);
}

static void
start(unsigned h)
{
	bool legacy = (h & 0x80) != 0;
	uint64_t f = VIRTIO_NET_F_MAC | VIRTIO_NET_F_CTRL_VQ |
	    VIRTIO_NET_F_CTRL_RX | VIRTIO_NET_F_CTRL_RX_EXTRA |
	    VIRTIO_NET_F_CTRL_MAC_ADDR | VIRTIO_NET_F_MQ |
	    VIRTIO_NET_F_CTRL_GUEST_OFFLOADS | VIRTIO_NET_F_GUEST_CSUM;
	struct fq *t;
	int q;

	cur = &devs[h & 1];
	if (vdrv_probe(&cur->d, &fv, cur->slot, legacy) != 0)
		fail("probe");
	if (!legacy)
		f |= VIRTIO_F_VERSION_1;
	if (h & 2)
		f |= VIRTIO_NET_F_MRG_RXBUF;
	if (h & 4)
		f |= VIRTIO_F_EVENT_IDX;
	if (h & 8)
		f |= VIRTIO_F_INDIRECT_DESC;
	if (h & 16)
		f |= VIRTIO_NET_F_CSUM | VIRTIO_NET_F_HOST_TSO4;
	f &= vdrv_device_features(&cur->d) | VIRTIO_F_VERSION_1;
	(void)vdrv_negotiate(&cur->d, f);
	fake_netbe_clear(cur->fb);
	fake_netbe_set_full(cur->fb, false);
	full = false;
	memset(fv.ram + RINGS, 0, NQ * 0x8000ULL);
	memset(fqs, 0, sizeof(fqs));
	for (q = 0; q < NQ && q < 2 * cur->sc->vn_npairs + 1; q++) {
		t = &fqs[q];
		t->desc = RINGS + (uint64_t)q * 0x8000;
		t->avail = t->desc + 16ULL * (legacy ? VNET_QSIZE : QS);
		t->used = legacy ? (t->avail + 6 + 2ULL * VNET_QSIZE + 4095) &
		    ~4095ULL : t->avail + 0x1000;
		vdrv_queue(&cur->d, q, QS, t->desc, t->avail, t->used,
		    VIRTIO_MSI_NO_VECTOR);
	}
	vdrv_set_status(&cur->d, legacy ? 0x07 : 0x0f);
	hostile = false;
}

static void
kick(int q)
{
	struct virtio_softc *vs = &cur->sc->vn_vs;
	struct virtio_queue *vq = &vs->vs_queues[q];

	pthread_mutex_lock(&vs->vs_mtx);
	if (q < vs->vs_nqueues && vq->enabled && vq->vq.vq_ready &&
	    !vq_broken(&vq->vq) && (vs->vs_status & VIRTIO_S_NEEDS_RESET) == 0)
		vs->vs_ops->vd_notify(vs->vs_dev, q);
	pthread_mutex_unlock(&vs->vs_mtx);
}

/* The next used element of q: it must be there, with length len. */
static void
check_used(int q, uint16_t head, uint32_t len)
{
	struct fq *t = &fqs[q];
	uint32_t id, l;
	uint16_t idx;

	if (hostile)
		return;
	memcpy(&idx, fv.ram + t->used + 2, 2);
	if (idx == t->useen)
		fail("a chain was not used");
	vdrv_used_elem(&cur->d, t->used, qsize(), t->useen++, &id, &l);
	if (id != head || l != len)
		fail("used element");
}

static void
op_tx(struct fz *f, unsigned p)
{
	struct vnet_softc *sc = cur->sc;
	int q = (p & 8) && sc->vn_layout > 1 ? 3 : 1;
	struct fq *t = &fqs[q];
	unsigned n = 1 + p % 8, i, hl, before;
	unsigned flags = get8(f);
	bool writable = false, indirect = (flags & 2) != 0;
	uint64_t addr, total = 0, wl = 0, wantlen;
	uint32_t len;
	uint16_t head = t->next, df;
	size_t gl;

	if (t->next + (indirect ? 1 : n) > qsize() || q >= NQ)
		return;
	for (i = 0; i < n; i++) {
		len = get16(f);
		addr = DATA + (get16(f) * 16ULL) % DATA_LEN;
		if (len == 0xffff) {
			len = NETBE_FRAME_MAX + 64;
			addr = BIG;
		} else if (addr + len > DATA + DATA_LEN)
			len = (uint32_t)(DATA + DATA_LEN - addr);
		df = (uint16_t)((i + 1 == n && (flags & 1)) ?
		    VIRTQ_DESC_F_WRITE : 0);
		if (df)
			writable = true;
		else if (wl + len <= sizeof(want) && addr + len <= RAM) {
			memcpy(want + wl, fv.ram + addr, len);
			wl += len;
		}
		total += df ? 0 : len;
		df = (uint16_t)(df | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		if (indirect)
			vdrv_desc(&cur->d, ITBL, i, addr, len, df,
			    (uint16_t)(i + 1));
		else
			vdrv_desc(&cur->d, t->desc, (uint16_t)(t->next + i),
			    addr, len, df, (uint16_t)(t->next + i + 1));
	}
	if (indirect)
		vdrv_desc(&cur->d, t->desc, head, ITBL, 16 * n,
		    VIRTQ_DESC_F_INDIRECT, 0);
	t->next = (uint16_t)(t->next + (indirect ? 1 : n));
	/* Before the chain is visible: the worker may run the queue too. */
	before = fake_netbe_tx_count(cur->fb);
	vdrv_avail(&cur->d, t->avail, qsize(), t->aidx++, head);
	kick(q);
	if (indirect && !(sc->vn_neg & VIRTIO_F_INDIRECT_DESC))
		hostile = true;		/* a broken ring, rightly */
	check_used(q, head, 0);
	if (hostile)
		return;
	hl = sc->vn_hdrlen;
	if (getenv("FUZZ_VIRTIO_TRACE") != NULL)
		fprintf(stderr, "tx q %d: %u descriptors%s, %ju readable bytes%s, "
		    "header %u, backend header %u, %u -> %u frames\n", q, n,
		    indirect ? " (indirect)" : "", (uintmax_t)total,
		    writable ? " and a writable one" : "", hl, sc->vn_behdr,
		    before, fake_netbe_tx_count(cur->fb));
	/* The model: what §5.1.6.2 and NETBE_FRAME_MAX allow. */
	if (writable || total < hl + VNET_ETHER_HDR ||
	    total - hl > NETBE_FRAME_MAX || full) {
		if (fake_netbe_tx_count(cur->fb) != before)
			fail("a malformed chain reached the backend");
		return;
	}
	if (fake_netbe_tx_count(cur->fb) != before + 1) {
		if (before == FAKE_NETBE_TXMAX)
			return;
		fail("a good chain did not reach the backend");
	}
	gl = fake_netbe_tx_frame(cur->fb, before, got, sizeof(got), NULL);
	wantlen = sc->vn_behdr != 0 ? total : total - hl;
	if (gl != wantlen || wl != total)
		fail("frame length");
	if (memcmp(got, want + (sc->vn_behdr != 0 ? 0 : hl), gl) != 0)
		fail("frame bytes");
}

static void
op_ctrl(struct fz *f)
{
	struct vnet_softc *sc = cur->sc;
	int q = sc->vn_ctrlq;
	unsigned len = get8(f) % 8, cls = get8(f) % 7, cmd = get8(f) % 4;
	bool ack = (get8(f) & 1) == 0;
	uint64_t a = DATA + 0x100;
	struct fq *t;
	uint16_t head;

	if (q < 0 || q >= NQ)
		return;
	t = &fqs[q];
	if (t->next + 2 > qsize())
		return;
	head = t->next;
	fv.ram[a] = (uint8_t)cls;
	fv.ram[a + 1] = (uint8_t)cmd;
	fv.ram[ACK + head] = 0xee;
	vdrv_desc(&cur->d, t->desc, head, a, 2 + len, ack ? VIRTQ_DESC_F_NEXT :
	    0, (uint16_t)(head + 1));
	vdrv_desc(&cur->d, t->desc, (uint16_t)(head + 1), ACK + head, 1,
	    VIRTQ_DESC_F_WRITE, 0);
	t->next = (uint16_t)(t->next + 2);
	vdrv_avail(&cur->d, t->avail, qsize(), t->aidx++, head);
	kick(q);
	check_used(q, head, ack ? 1 : 0);
	if (!hostile && ack && fv.ram[ACK + head] > 1)
		fail("an ack that is neither OK nor ERR");
	if (!hostile && !ack && fv.ram[ACK + head] != 0xee)
		fail("an ack written where none was asked");
	/* The layout may have changed (MQ pairs): not for the queues. */
}

static void
op_poke(struct fz *f, unsigned p)
{
	uint64_t off = get16(f) % (NQ * 0x8000ULL);
	unsigned i;

	for (i = 0; i <= p && off + i < NQ * 0x8000ULL; i++)
		fv.ram[RINGS + off + i] = (uint8_t)get8(f);
	hostile = true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fz f = { data, data + size };
	unsigned op, p, steps = 0;
	uint64_t i;

	if (!ready) {
		setup_once();
		ready = true;
	}
	for (i = 0; i < DATA_LEN; i++)
		fv.ram[DATA + i] = size > 0 ? data[i % size] : 0;
	start(get8(&f));
	while (f.p < f.end && steps++ < 200) {
		op = get8(&f);
		p = op >> 3;
		switch (op & 7) {
		case 0:
			op_tx(&f, p);
			break;
		case 1:
			op_ctrl(&f);
			break;
		case 2:
			full = get8(&f) & 1;
			fake_netbe_set_full(cur->fb, full);
			break;
		case 3:
			op_poke(&f, p);
			break;
		case 4:
			vdrv_set_status(&cur->d, 0);
			start(get8(&f));
			break;
		case 5:
			kick((int)(get8(&f) % NQ));
			break;
		default:
			break;
		}
		if (!hostile && (cur->sc->vn_vs.vs_status &
		    VIRTIO_S_NEEDS_RESET))
			fail("needs reset on a well-formed ring");
	}
	vdrv_set_status(&cur->d, 0);
	fake_netbe_clear(cur->fb);
	return (0);
}
