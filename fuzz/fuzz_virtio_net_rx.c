/*
 * fuzz_virtio_net_rx.c: virtio-net's receive path, backend frames into
 * guest buffers laid out by the input.
 *
 * Two devices are built once on the fake machine (tests/unit/fake.h), on
 * the fake backend (tests/unit/fake_netbe.h) in its quiet mode (its fds
 * never wake the worker: receive runs when the input says, on this
 * thread, under vs_mtx as the worker would run it): slot 4 on a backend
 * without the header, slot 5 on one that carries it with every offload
 * and two queue pairs.  Each input resets the chosen device and sets it
 * up again with the features the first bytes pick.
 *
 * Input: [0] device (bit 0) and features (bit 1 MRG_RXBUF, 2 EVENT_IDX,
 * 3 INDIRECT_DESC, 4 GUEST_CSUM, 5 GUEST_TSO4, 6 MTU-sized limit via
 * mtu, 7 legacy registers), then steps: an op byte, low 3 bits the
 * action, high 5 bits a parameter p:
 *	0 bufs	1 + p % 8 receive chains of 1 + [1] % 4 descriptors of
 *		[2..3] % 4097 bytes each; [1] bit 2 indirect, bit 3 one
 *		descriptor device-readable
 *	1 frame	a frame of [1..2] % 20000 bytes (its first bytes: the
 *		backend header from the input when the device has one) on
 *		backend queue 0
 *	2 rx	run receive (the backend's fd is readable)
 *	3 kick	notify receive queue (p & 1) * 2
 *	4 ctrl	VQ_PAIRS_SET [1] or GUEST_OFFLOADS_SET [1]
 *	5 poke	p + 1 bytes at ring offset [1..2] (hostile rings)
 *	6 reset	status 0, then set up again with feature byte [1]
 * Checked (unless the rings were poked): every used element of a
 * receive queue belongs to a frame the backend gave, in order: the
 * first buffer of each starts with a header whose num_buffers is the
 * number of used buffers the frame spans (1 without MRG_RXBUF), whose
 * bytes are zero without a backend header and hold only what the guest
 * accepted with one; the buffers hold exactly the frame's bytes; all
 * but the last of a frame are full; the device never needs reset.
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
#define ITBL	0x140000ULL	/* indirect tables: 256 bytes per head */
#define CTLBUF	0x180000ULL	/* a control command and its ack */
#define BUFS	0x200000ULL	/* descriptor buffers: 4 KiB per index */
#define MAXF	20000
#define NFR	64		/* frames remembered per backend queue */

struct fq {
	uint64_t	desc, avail, used;
	uint16_t	aidx, next, useen;
	/* For each head: its writable buffers in order. */
	uint64_t	baddr[QS][4];
	uint32_t	blen[QS][4];
	uint8_t		nb[QS];
};

struct dev {
	struct pci_devinst *pi;
	struct vnet_softc *sc;
	struct fake_netbe *fb;
	struct vdrv	d;
	int		slot;
};

static struct fake_vm fv;
static struct dev devs[2];
static struct dev *cur;
static struct fq fqs[NQ];
static bool hostile;
static uint8_t frames[NFR][MAXF + 12];	/* what the backend was given */
static size_t flen[NFR];
static unsigned fpush, fnext;		/* pushed, checked so far */
static uint8_t pend[MAXF + 12];		/* a frame being reassembled */
static size_t plen;
static unsigned pbufs, pleft;

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
	fprintf(stderr, "fuzz_virtio_net_rx: %s\n", what);
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
		"pci.0.4.0.fake_quiet", "true", "pci.0.4.0.mtu", "1500",
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
		devs[i].pi = pci_find_dev(0, 4 + i, 0);
		devs[i].sc = vnet_softc(devs[i].pi);
		if (devs[i].sc == NULL)
			fail("no device");
		devs[i].fb = fake_netbe_of(devs[i].sc->vn_be);
	}
}

static void
start(unsigned h)
{
	bool legacy = (h & 0x80) != 0;
	uint64_t f = VIRTIO_NET_F_MAC | VIRTIO_NET_F_CTRL_VQ |
	    VIRTIO_NET_F_MQ | VIRTIO_NET_F_CTRL_GUEST_OFFLOADS;
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
		f |= VIRTIO_NET_F_GUEST_CSUM;
	if (h & 32)
		f |= VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_CSUM;
	if (h & 64)
		f |= VIRTIO_NET_F_MTU;
	/* Only what the device offers (a driver may not ask for more). */
	f &= vdrv_device_features(&cur->d) | VIRTIO_F_VERSION_1;
	(void)vdrv_negotiate(&cur->d, f);
	fake_netbe_clear(cur->fb);
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
	fpush = fnext = 0;
	plen = 0;
	pbufs = pleft = 0;
}

static uint16_t
qsize(void)
{
	return (cur->d.legacy ? VNET_QSIZE : QS);
}

static void
op_bufs(struct fz *f, unsigned p)
{
	unsigned n = 1 + p % 8, k, i, nd;
	unsigned shape = get8(f), len = get16(f) % 4097;
	int q = 0;
	struct fq *t = &fqs[q];
	uint16_t head, idx, flags;
	uint64_t a;

	nd = 1 + shape % 4;
	/* An indirect chain without INDIRECT_DESC breaks the ring, rightly. */
	if ((shape & 4) && !(cur->sc->vn_neg & VIRTIO_F_INDIRECT_DESC))
		hostile = true;
	for (k = 0; k < n; k++) {
		/* Descriptors are never reused within an input. */
		head = t->next;
		if (head >= QS || t->next + ((shape & 4) ? 1 : nd) > qsize())
			return;
		t->nb[head] = 0;
		for (i = 0; i < nd; i++) {
			flags = (uint16_t)(((shape & 8) && i == 0) ? 0 :
			    VIRTQ_DESC_F_WRITE);
			idx = (uint16_t)(t->next + i);
			a = BUFS + 4096ULL * (head * 4 + i);
			if (flags & VIRTQ_DESC_F_WRITE) {
				t->baddr[head][t->nb[head]] = a;
				t->blen[head][t->nb[head]++] = len;
			}
			if (shape & 4)
				vdrv_desc(&cur->d, ITBL + 256ULL * head, i, a,
				    len, (uint16_t)(flags | (i + 1 < nd ?
				    VIRTQ_DESC_F_NEXT : 0)), (uint16_t)(i + 1));
			else
				vdrv_desc(&cur->d, t->desc, idx, a, len,
				    (uint16_t)(flags | (i + 1 < nd ?
				    VIRTQ_DESC_F_NEXT : 0)),
				    (uint16_t)((idx + 1) % qsize()));
		}
		if (shape & 4) {
			vdrv_desc(&cur->d, t->desc, head, ITBL + 256ULL * head,
			    16 * nd, VIRTQ_DESC_F_INDIRECT, 0);
			t->next = (uint16_t)(t->next + 1);
		} else
			t->next = (uint16_t)(t->next + nd);
		vdrv_avail(&cur->d, t->avail, qsize(), t->aidx++, head);
	}
}

static void
op_frame(struct fz *f, unsigned p)
{
	struct vnet_softc *sc = cur->sc;
	size_t len = get16(f) % MAXF, i;
	unsigned slot = fpush % NFR;
	uint8_t *fr = frames[slot];

	if (fpush - fnext >= NFR)
		return;
	for (i = 0; i < len; i++)
		fr[i] = (uint8_t)get8(f);
	/* One backend queue: the frames reach the guest in this order. */
	(void)sc;
	if (fake_netbe_push(cur->fb, 0, fr, len) == 0) {
		flen[slot] = len;
		fpush++;
	}
}

static void
locked(void (*fn)(struct vnet_softc *, int), int arg)
{
	struct virtio_softc *vs = &cur->sc->vn_vs;

	pthread_mutex_lock(&vs->vs_mtx);
	fn(cur->sc, arg);
	pthread_mutex_unlock(&vs->vs_mtx);
}

static void
do_rx(struct vnet_softc *sc, int arg)
{
	int b;

	for (b = 0; b < sc->vn_npairs; b++)
		vnet_rx_fd(sc, sc->vn_bq[b].fd);
}

static void
do_kick(struct vnet_softc *sc, int q)
{
	struct virtio_softc *vs = &sc->vn_vs;
	struct virtio_queue *vq = &vs->vs_queues[q];

	if (q < vs->vs_nqueues && vq->enabled && vq->vq.vq_ready &&
	    !vq_broken(&vq->vq) && (vs->vs_status & VIRTIO_S_NEEDS_RESET) == 0)
		vs->vs_ops->vd_notify(vs->vs_dev, q);
}

/* A control command, sent and run at once. */
static void
op_ctrl(struct fz *f, unsigned p)
{
	struct vnet_softc *sc = cur->sc;
	int q = sc->vn_ctrlq;
	struct fq *t;
	uint64_t a = CTLBUF, off;
	uint16_t h;
	unsigned v = get8(f);

	if (q < 0 || q >= NQ)
		return;
	t = &fqs[q];
	if (t->next + 2 > qsize())
		return;
	if (p & 1) {
		fv.ram[a] = VIRTIO_NET_CTRL_GUEST_OFFLOADS;
		fv.ram[a + 1] = 0;
		off = v & VNET_GUEST_OFFLOADS;
		memcpy(fv.ram + a + 2, &off, 8);
	} else {
		fv.ram[a] = VIRTIO_NET_CTRL_MQ;
		fv.ram[a + 1] = 0;
		fv.ram[a + 2] = (uint8_t)(v % 4);
		fv.ram[a + 3] = 0;
	}
	h = (uint16_t)(t->next % qsize());
	vdrv_desc(&cur->d, t->desc, h, a, (p & 1) ? 10 : 4, VIRTQ_DESC_F_NEXT,
	    (uint16_t)((h + 1) % qsize()));
	vdrv_desc(&cur->d, t->desc, (h + 1) % qsize(), a + 64, 1,
	    VIRTQ_DESC_F_WRITE, 0);
	t->next = (uint16_t)(t->next + 2);
	vdrv_avail(&cur->d, t->avail, qsize(), t->aidx++, h);
	locked(do_kick, q);
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

/* The next frame that could have been delivered (skipping drops). */
static bool
frame_matches(const uint8_t *got, size_t len)
{
	struct vnet_softc *sc = cur->sc;
	unsigned be = sc->vn_behdr;

	while (fnext != fpush) {
		const uint8_t *fr = frames[fnext % NFR];
		size_t fl = flen[fnext % NFR];

		fnext++;
		if (fl > be && fl - be == len && memcmp(fr + be, got, len) == 0)
			return (true);
	}
	return (false);
}

static void
check_hdr(const uint8_t *h)
{
	struct vnet_softc *sc = cur->sc;
	static const uint8_t zero[12];
	uint64_t o = sc->vn_goffl;

	if (sc->vn_behdr == 0) {
		if (memcmp(h, zero, 10) != 0)
			fail("a header that is not zero from a bare backend");
		return;
	}
	if ((h[0] & ~3) != 0 || (!(o & VIRTIO_NET_F_GUEST_CSUM) && h[0] != 0))
		fail("header flags the guest did not accept");
	if ((h[1] & 0x7f) != 0 && !((h[1] & 0x7f) == 1 &&
	    (o & VIRTIO_NET_F_GUEST_TSO4)) && !((h[1] & 0x7f) == 4 &&
	    (o & VIRTIO_NET_F_GUEST_TSO6)) && !((h[1] & 0x7f) == 3 &&
	    (o & VIRTIO_NET_F_GUEST_UFO)))
		fail("a GSO type the guest did not accept");
	if ((h[1] & 0x80) && !(o & VIRTIO_NET_F_GUEST_ECN))
		fail("ECN the guest did not accept");
}

static void
check_rx(void)
{
	struct vnet_softc *sc = cur->sc;
	struct fq *t = &fqs[0];
	unsigned hl = sc->vn_hdrlen, i;
	uint32_t id, len, left, take;
	uint16_t idx, nb;
	uint64_t full;

	memcpy(&idx, fv.ram + t->used + 2, 2);
	for (; t->useen != idx; t->useen++) {
		vdrv_used_elem(&cur->d, t->used, qsize(), t->useen, &id, &len);
		if (hostile)
			continue;
		if (id >= QS)
			fail("used id out of range");
		if (len == 0)
			continue;		/* a chain given back unused */
		for (full = 0, i = 0; i < t->nb[id]; i++)
			full += t->blen[id][i];
		if (len > full)
			fail("used length past the buffers");
		if (pleft == 0)
			plen = 0;
		for (i = 0, left = len; i < t->nb[id] && left > 0; i++) {
			take = MIN(t->blen[id][i], left);
			if (plen + take <= sizeof(pend))
				memcpy(pend + plen, fv.ram + t->baddr[id][i],
				    take);
			plen += take;
			left -= take;
		}
		if (pleft == 0) {
			/* The first buffer of a frame: the header. */
			if (len < hl)
				fail("a frame's first buffer without a header");
			check_hdr(pend);
			nb = hl == 12 ? (uint16_t)(pend[10] | pend[11] << 8) : 1;
			if (nb == 0 || (!(sc->vn_neg & VIRTIO_NET_F_MRG_RXBUF) &&
			    nb != 1))
				fail("num_buffers");
			pleft = pbufs = nb;
		}
		if (pleft > 1 && len != full)
			fail("a buffer that is not the frame's last is not full");
		if (--pleft == 0 && (plen < hl || plen > sizeof(pend) ||
		    !frame_matches(pend + hl, plen - hl)))
			fail("a frame the backend did not give, or out of order");
	}
	if (!hostile && (sc->vn_vs.vs_status & VIRTIO_S_NEEDS_RESET))
		fail("needs reset on a well-formed ring");
}

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
	start(get8(&f));
	while (f.p < f.end && steps++ < 200) {
		op = get8(&f);
		p = op >> 3;
		switch (op & 7) {
		case 0:
			op_bufs(&f, p);
			break;
		case 1:
			op_frame(&f, p);
			break;
		case 2:
			locked(do_rx, 0);
			break;
		case 3:
			locked(do_kick, (int)(p & 1) * 2);
			break;
		case 4:
			op_ctrl(&f, p);
			break;
		case 5:
			op_poke(&f, p);
			break;
		case 6:
			vdrv_set_status(&cur->d, 0);
			start(get8(&f));
			break;
		default:
			break;
		}
		pthread_mutex_lock(&cur->sc->vn_vs.vs_mtx);
		check_rx();
		pthread_mutex_unlock(&cur->sc->vn_vs.vs_mtx);
	}
	if (getenv("FUZZ_VIRTIO_TRACE") != NULL)
		fprintf(stderr, "device %d: %u frames pushed, %u checked, header "
		    "%u, backend header %u, %ju given, %ju dropped too big, %ju "
		    "bad header, %ju over the MTU%s\n", cur->slot, fpush, fnext,
		    cur->sc->vn_hdrlen, cur->sc->vn_behdr,
		    (uintmax_t)cur->sc->vn_st.rx_frames,
		    (uintmax_t)cur->sc->vn_st.rx_toobig,
		    (uintmax_t)cur->sc->vn_st.rx_badhdr,
		    (uintmax_t)cur->sc->vn_st.rx_mtu, hostile ? ", hostile" : "");
	vdrv_set_status(&cur->d, 0);
	fake_netbe_clear(cur->fb);
	return (0);
}
