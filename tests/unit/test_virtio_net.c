/*
 * test_virtio_net.c: virtio-net on the fake backend (fake_netbe.h)
 * through the test driver (vdriver.h): the header in every feature
 * combination that changes it (legacy or VERSION_1, with or without
 * MRG_RXBUF, a backend with or without the header), a frame split over
 * mergeable buffers, a frame too big for one buffer, offload headers
 * passed through and checked, every control command and malformed
 * control chains, multiqueue steering, receive with no buffers (the
 * backend's fd is no longer polled until the guest notifies), the
 * backend going away, the MTU, malformed transmit chains, a reset with
 * a frame half gathered, bhyve's MAC rule and bad keys.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "arch/x86/layout.h"
#include "config.h"
#include "fake.h"
#include "fake_netbe.h"
#include "pci/pci_emul.h"
#include "test.h"
#include "vdriver.h"
#include "virtio/virtio.h"
#include "virtio/virtio_net_impl.h"

extern const struct pci_devemu pci_de_vnet;

#define SLOT	5
#define RAM	(16 * MiB)
#define RINGS	0x100000ULL	/* queue q at RINGS + q * 0x8000 */
#define BUFS	0x400000ULL	/* buffers: 64 KiB apiece */
#define QS	256		/* modern queue size (legacy: 1024) */

struct tq {
	uint64_t	desc, avail, used;
	uint16_t	size, aidx, useen, next;
};

static struct fake_vm fv;
static struct vdrv d;
static struct fake_netbe *fb;
static struct vnet_softc *sc;
static struct tq tqs[VIRTIO_MAX_QUEUES];
static unsigned nextbuf;
static const struct pci_windows win = {
	.io_base = IO_PCI_IOBASE, .io_limit = IO_PCI_IOLIMIT,
	.mem32_base = PCI_MMIO32_BASE, .mem32_limit = PCI_MMIO32_LIMIT,
	.mem64_base = 32 * GiB, .mem64_limit = 64 * GiB,
};

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A copy of the device's counters, taken under its lock. */
static struct vnet_stats
stats(void)
{
	struct vnet_stats st;

	pthread_mutex_lock(&sc->vn_vs.vs_mtx);
	st = sc->vn_st;
	pthread_mutex_unlock(&sc->vn_vs.vs_mtx);
	return (st);
}

#define WAIT_FOR(cond) do {						\
	int __i;							\
	for (__i = 0; __i < 3000 && !(cond); __i++)			\
		msleep(1);						\
	CHECK(cond);							\
} while (0)

/* A fresh config tree with the device at SLOT on the fake backend. */
static void
keys(const char *const *kv)
{
	char key[64];

	config_init();
	CHECK_EQ(config_set(NULL, "name", "vm0"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.5.0.device", "virtio-net"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.5.0.backend", "fake"), 0);
	for (; kv != NULL && kv[0] != NULL; kv += 2) {
		snprintf(key, sizeof(key), "pci.0.5.0.%s", kv[0]);
		CHECK_EQ(config_set(NULL, key, kv[1]), 0);
	}
}

static void
setup_queue(int q, bool legacy)
{
	struct tq *t = &tqs[q];

	memset(t, 0, sizeof(*t));
	t->desc = RINGS + (uint64_t)q * 0x8000;
	t->size = legacy ? VNET_QSIZE : QS;
	t->avail = t->desc + 16ULL * t->size;
	t->used = legacy ? (t->avail + 6 + 2ULL * t->size + 4095) & ~4095ULL :
	    t->avail + 0x1000;
	memset(fv.ram + t->desc, 0, 0x8000);
	vdrv_queue(&d, q, t->size, t->desc, t->avail, t->used,
	    VIRTIO_MSI_NO_VECTOR);
}

/* Negotiate features (plus VERSION_1 unless legacy) and set queues up. */
static void
start(uint64_t features, bool legacy, int nq)
{
	int q;

	CHECK_EQ(vdrv_probe(&d, &fv, SLOT, legacy), 0);
	if (!legacy)
		features |= VIRTIO_F_VERSION_1;
	vdrv_negotiate(&d, features);
	if (!legacy)
		CHECK(vdrv_status(&d) & VIRTIO_S_FEATURES_OK);
	for (q = 0; q < nq; q++)
		setup_queue(q, legacy);
	vdrv_set_status(&d, legacy ? 0x07 : 0x0f);
}

static void
up(const char *const *kv, uint64_t features, bool legacy, int nq)
{
	keys(kv);
	fake_vm_init(&fv, RAM, 2);
	CHECK_EQ(pci_init(&fv.dc, &win), 0);
	fb = fake_netbe_last();
	sc = vnet_softc(pci_find_dev(0, SLOT, 0));
	CHECK(fb != NULL && sc != NULL);
	nextbuf = 0;
	start(features, legacy, nq);
}

static void
down(void)
{
	pci_fini();
	fake_vm_fini(&fv);
	config_fini();
	fb = NULL;
	sc = NULL;
}

static uint64_t
buf(void)
{
	return (BUFS + 0x10000ULL * (nextbuf++ % 128));
}

/* One chain of n descriptors on queue q; returns the head. */
static uint16_t
chain(int q, unsigned n, const uint64_t *addr, const uint32_t *len,
    const uint16_t *flags)
{
	struct tq *t = &tqs[q];
	uint16_t head = t->next % t->size, i, cur, nxt;

	for (i = 0; i < n; i++) {
		cur = (uint16_t)((t->next + i) % t->size);
		nxt = (uint16_t)((t->next + i + 1) % t->size);
		vdrv_desc(&d, t->desc, cur, addr[i], len[i], (uint16_t)(flags[i] |
		    ((unsigned)i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)), nxt);
	}
	t->next = (uint16_t)(t->next + n);
	vdrv_avail(&d, t->avail, t->size, t->aidx++, head);
	return (head);
}

/* n receive buffers of len bytes each, one descriptor per chain. */
static void
rx_bufs(int q, unsigned n, uint32_t len, uint64_t *at)
{
	uint16_t w = VIRTQ_DESC_F_WRITE;
	uint64_t a;
	unsigned i;

	for (i = 0; i < n; i++) {
		a = buf();
		memset(fv.ram + a, 0xee, len);
		if (at != NULL)
			at[i] = a;
		(void)chain(q, 1, &a, &len, &w);
	}
	vdrv_notify(&d, q);
}

static bool
used(int q, uint16_t n)
{
	return (vdrv_wait_used(&d, tqs[q].used, n, 3000));
}

static void
used_elem(int q, uint16_t slot, uint32_t *id, uint32_t *len)
{
	vdrv_used_elem(&d, tqs[q].used, tqs[q].size, slot, id, len);
}

/* A frame of len bytes: a fixed pattern seeded by seed. */
static void
frame(uint8_t *f, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		f[i] = (uint8_t)(i * 13 + seed);
	if (len >= 12) {
		memset(f, 0xff, 6);	/* broadcast to */
		f[6] = 0x02;		/* from a local address */
	}
}

/* A control command on queue q: returns the ack (0xee: none written). */
static uint8_t
ctrl(int q, uint8_t cls, uint8_t cmd, const void *data, uint32_t dlen)
{
	uint64_t a[2] = { buf(), 0 };
	uint32_t l[2] = { 2 + dlen, 1 };
	uint16_t f[2] = { 0, VIRTQ_DESC_F_WRITE };
	uint32_t id, len;

	a[1] = a[0] + 0x8000;
	fv.ram[a[0]] = cls;
	fv.ram[a[0] + 1] = cmd;
	memcpy(fv.ram + a[0] + 2, data, dlen);
	fv.ram[a[1]] = 0xee;
	(void)chain(q, 2, a, l, f);
	vdrv_notify(&d, q);
	CHECK(used(q, tqs[q].aidx));
	used_elem(q, tqs[q].useen++, &id, &len);
	CHECK_EQ(len, 1);
	return (fv.ram[a[1]]);
}

/* ---- the header in every combination ---- */

TEST(header_matrix)
{
	static const struct {
		const char *name;
		const char *caps;	/* fake_caps */
		bool legacy, mrg, refuse;
		uint64_t extra;		/* more driver features */
		unsigned hdrlen, behdr;
	} rows[] = {
		{ "modern, bare backend", "0", false, false, false, 0, 12, 0 },
		{ "modern+MRG, bare", "0", false, true, false, 0, 12, 0 },
		{ "legacy, bare", "0", true, false, false, 0, 10, 0 },
		{ "legacy+MRG, bare", "0", true, true, false, 0, 12, 0 },
		{ "modern, header backend", "1", false, false, false, 0, 12, 12 },
		{ "legacy, header backend", "1", true, false, false, 0, 10, 10 },
		{ "legacy+MRG, header backend", "1", true, true, false, 0, 12,
		    12 },
		{ "modern+csum, offloads", "7", false, true, false,
		    VIRTIO_NET_F_CSUM | VIRTIO_NET_F_GUEST_CSUM |
		    VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_HOST_TSO4, 12, 12 },
		{ "backend refuses the header", "7", false, true, true, 0, 12,
		    0 },
	};
	uint8_t f[1600], out[1700], vh[12];
	struct fake_netbe_calls c;
	uint64_t at[1], feat, a[2];
	uint32_t id, len, l[2];
	uint16_t fl[2] = { 0, 0 };
	size_t i, got;
	int q;

	for (i = 0; i < nitems(rows); i++) {
		const char *kv[] = { "fake_caps", rows[i].caps, "fake_refuse",
		    rows[i].refuse ? "true" : "false", NULL };

		printf("  row %s\n", rows[i].name);
		keys(kv);
		fake_vm_init(&fv, RAM, 1);
		CHECK_EQ(pci_init(&fv.dc, &win), 0);
		fb = fake_netbe_last();
		sc = vnet_softc(pci_find_dev(0, SLOT, 0));
		CHECK_EQ(vdrv_probe(&d, &fv, SLOT, rows[i].legacy), 0);
		feat = vdrv_device_features(&d);
		/* Offloads exactly when the backend has the header and CSUM. */
		CHECK_EQ((feat & VIRTIO_NET_F_CSUM) != 0,
		    strcmp(rows[i].caps, "7") == 0);
		CHECK(feat & VIRTIO_NET_F_MAC);
		CHECK_EQ(feat & VIRTIO_NET_F_MTU, 0);
		CHECK_EQ(feat & VIRTIO_NET_F_MQ, 0);
		start(VIRTIO_NET_F_MAC | rows[i].extra | (rows[i].mrg ?
		    VIRTIO_NET_F_MRG_RXBUF : 0), rows[i].legacy, 3);
		CHECK_EQ(sc->vn_hdrlen, rows[i].hdrlen);
		CHECK_EQ(sc->vn_behdr, rows[i].behdr);
		fake_netbe_calls(fb, &c);
		CHECK_EQ(c.hdrlen, rows[i].behdr);
		if (rows[i].extra & VIRTIO_NET_F_GUEST_TSO4)
			CHECK_EQ(c.caps, NETBE_CAP_CSUM | NETBE_CAP_TSO4);

		/* Receive: the backend's header as it is, or zeroes. */
		memset(vh, 0, sizeof(vh));
		if (rows[i].behdr != 0) {
			vh[0] = rows[i].extra ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0;
			vh[4] = 0x11;		/* gso_size: kept */
			vh[6] = 34;		/* csum_start */
			vh[8] = 16;		/* csum_offset */
			vh[10] = 0x77;		/* num_buffers: replaced */
		}
		memcpy(f, vh, rows[i].behdr);
		frame(f + rows[i].behdr, 1000, (unsigned)i);
		CHECK_EQ(fake_netbe_push(fb, 0, f, rows[i].behdr + 1000), 0);
		rx_bufs(0, 1, 2048, at);
		CHECK(used(0, 1));
		used_elem(0, 0, &id, &len);
		CHECK_EQ(len, rows[i].hdrlen + 1000);
		if (rows[i].behdr != 0) {
			CHECK_EQ(memcmp(fv.ram + at[0], vh, 10), 0);
		} else {
			memset(vh, 0, sizeof(vh));
			CHECK_EQ(memcmp(fv.ram + at[0], vh, 10), 0);
		}
		if (rows[i].hdrlen == 12) {
			CHECK_EQ(fv.ram[at[0] + 10], 1);	/* num_buffers */
			CHECK_EQ(fv.ram[at[0] + 11], 0);
		}
		CHECK_EQ(memcmp(fv.ram + at[0] + rows[i].hdrlen,
		    f + rows[i].behdr, 1000), 0);
		CHECK_EQ(fv.ram[at[0] + rows[i].hdrlen + 1000], 0xee);

		/* Transmit: the header split from the frame, kept or not. */
		a[0] = buf();
		a[1] = buf();
		l[0] = rows[i].hdrlen;
		l[1] = 600;
		memset(fv.ram + a[0], 0x5a, l[0]);
		frame(fv.ram + a[1], 600, 99);
		q = 1;
		(void)chain(q, 2, a, l, fl);
		vdrv_notify(&d, q);
		CHECK(used(q, 1));
		used_elem(q, 0, &id, &len);
		CHECK_EQ(len, 0);
		CHECK_EQ(fake_netbe_tx_count(fb), 1);
		got = fake_netbe_tx_frame(fb, 0, out, sizeof(out), NULL);
		CHECK_EQ(got, rows[i].behdr + 600);
		CHECK_EQ(memcmp(out + rows[i].behdr, fv.ram + a[1], 600), 0);
		if (rows[i].behdr != 0)
			CHECK_EQ(memcmp(out, fv.ram + a[0], rows[i].behdr), 0);
		down();
	}
}

/* ---- mergeable buffers ---- */

TEST(mrg_split)
{
	uint8_t f[1500];
	uint64_t at[4];
	uint32_t id, len, want[3] = { 600, 600, 312 };
	uint16_t i;

	up(NULL, VIRTIO_NET_F_MRG_RXBUF, false, 3);
	rx_bufs(0, 4, 600, at);
	frame(f, sizeof(f), 3);
	CHECK_EQ(fake_netbe_push(fb, 0, f, sizeof(f)), 0);
	CHECK(used(0, 3));
	for (i = 0; i < 3; i++) {
		used_elem(0, i, &id, &len);
		CHECK_EQ(len, want[i]);
		CHECK_EQ(id, i);
	}
	CHECK_EQ(fv.ram[at[0] + 10], 3);		/* num_buffers */
	CHECK_EQ(memcmp(fv.ram + at[0] + 12, f, 588), 0);
	CHECK_EQ(memcmp(fv.ram + at[1], f + 588, 600), 0);
	CHECK_EQ(memcmp(fv.ram + at[2], f + 1188, 312), 0);
	CHECK_EQ(fv.ram[at[3]], 0xee);			/* untouched */
	/* The fourth buffer takes the next small frame alone. */
	CHECK_EQ(fake_netbe_push(fb, 0, f, 100), 0);
	CHECK(used(0, 4));
	used_elem(0, 3, &id, &len);
	CHECK_EQ(len, 112);
	CHECK_EQ(fv.ram[at[3] + 10], 1);
	down();
}

/* Without MRG_RXBUF one chain holds the frame; two descriptors are fine. */
TEST(no_mrg_one_chain)
{
	uint8_t f[1500];
	uint64_t a[2];
	uint32_t id, len, l[2] = { 12, 1500 };
	uint16_t w[2] = { VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE };
	uint32_t small = 1000;
	uint64_t b0;

	up(NULL, 0, false, 3);
	/* A buffer too small: the frame is dropped, the buffer kept. */
	b0 = buf();
	(void)chain(0, 1, &b0, &small, w);
	vdrv_notify(&d, 0);
	frame(f, sizeof(f), 1);
	CHECK_EQ(fake_netbe_push(fb, 0, f, sizeof(f)), 0);
	WAIT_FOR(stats().rx_toobig == 1);
	CHECK_EQ(fake_netbe_pending(fb, 0), 0);
	CHECK_EQ(fake_netbe_push(fb, 0, f, 500), 0);
	CHECK(used(0, 1));
	used_elem(0, 0, &id, &len);
	CHECK_EQ(len, 512);
	CHECK_EQ(memcmp(fv.ram + b0 + 12, f, 500), 0);
	/* Header and frame in two descriptors of one chain. */
	a[0] = buf();
	a[1] = buf();
	(void)chain(0, 2, a, l, w);
	vdrv_notify(&d, 0);
	CHECK_EQ(fake_netbe_push(fb, 0, f, sizeof(f)), 0);
	CHECK(used(0, 2));
	used_elem(0, 1, &id, &len);
	CHECK_EQ(len, 1512);
	CHECK_EQ(fv.ram[a[0] + 10], 1);
	CHECK_EQ(memcmp(fv.ram + a[1], f, 1500), 0);
	down();
}

/* Receive chains that are no buffers are given back; the queue goes on. */
TEST(rx_bad_chains)
{
	uint8_t f[200];
	uint64_t a[2];
	uint32_t id, len, l[2] = { 64, 2048 }, tiny = 8;
	uint16_t rw[2] = { 0, VIRTQ_DESC_F_WRITE }, w = VIRTQ_DESC_F_WRITE;

	up(NULL, VIRTIO_NET_F_MRG_RXBUF, false, 3);
	a[0] = buf();
	a[1] = buf();
	(void)chain(0, 2, a, l, rw);		/* has a readable part */
	(void)chain(0, 1, a, &tiny, &w);	/* shorter than the header */
	rx_bufs(0, 1, 2048, a);
	frame(f, sizeof(f), 5);
	CHECK_EQ(fake_netbe_push(fb, 0, f, sizeof(f)), 0);
	CHECK(used(0, 3));
	used_elem(0, 0, &id, &len);
	CHECK_EQ(len, 0);
	used_elem(0, 1, &id, &len);
	CHECK_EQ(len, 0);
	used_elem(0, 2, &id, &len);
	CHECK_EQ(len, 212);
	CHECK_EQ(stats().rx_badchain, 2);
	CHECK_EQ(vdrv_status(&d) & VIRTIO_S_NEEDS_RESET, 0);
	down();
}

/* ---- offloads ---- */

TEST(offload_header_checked)
{
	const char *kv[] = { "fake_caps", "15", NULL };	/* hdr csum tso4/6 */
	uint8_t f[12 + 3000];
	uint64_t at[4];
	uint32_t id, len;

	up(kv, VIRTIO_NET_F_MRG_RXBUF | VIRTIO_NET_F_GUEST_CSUM |
	    VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_CTRL_VQ |
	    VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, false, 3);
	rx_bufs(0, 4, 4096, at);
	/* A TSO4 frame with a partial checksum: verbatim. */
	memset(f, 0, 12);
	f[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	f[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	f[2] = 54;			/* hdr_len */
	f[4] = 0xb4;			/* gso_size 1460 */
	f[5] = 0x05;
	f[6] = 34;
	f[8] = 16;
	frame(f + 12, 3000, 7);
	CHECK_EQ(fake_netbe_push(fb, 0, f, sizeof(f)), 0);
	CHECK(used(0, 1));
	used_elem(0, 0, &id, &len);
	CHECK_EQ(len, sizeof(f));
	CHECK_EQ(memcmp(fv.ram + at[0], f, 10), 0);
	CHECK_EQ(fv.ram[at[0] + 10], 1);
	/* TSO6 was not accepted: such a frame is dropped. */
	f[1] = VIRTIO_NET_HDR_GSO_TCPV6;
	CHECK_EQ(fake_netbe_push(fb, 0, f, sizeof(f)), 0);
	WAIT_FOR(stats().rx_badhdr == 1);
	/* GSO without NEEDS_CSUM breaks §5.1.6.4.1: dropped too. */
	f[0] = 0;
	f[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	CHECK_EQ(fake_netbe_push(fb, 0, f, sizeof(f)), 0);
	WAIT_FOR(stats().rx_badhdr == 2);
	/* The guest turns TSO4 off: the backend is told, TSO4 dropped. */
	{
		uint64_t off = VIRTIO_NET_F_GUEST_CSUM;
		struct fake_netbe_calls c;

		CHECK_EQ(ctrl(2, VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0, &off, 8),
		    VIRTIO_NET_OK);
		fake_netbe_calls(fb, &c);
		CHECK_EQ(c.caps, NETBE_CAP_CSUM);
		off = VIRTIO_NET_F_GUEST_TSO6;	/* not negotiated */
		CHECK_EQ(ctrl(2, VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0, &off, 8),
		    VIRTIO_NET_ERR);
	}
	f[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	CHECK_EQ(fake_netbe_push(fb, 0, f, sizeof(f)), 0);
	WAIT_FOR(stats().rx_badhdr == 3);
	down();
}

/* ---- the control queue ---- */

TEST(ctrl_commands)
{
	static const struct {
		const char *name;
		uint8_t cls, cmd;
		uint8_t data[24];
		uint32_t dlen;
		uint8_t ack;
	} rows[] = {
		{ "promisc on", 0, 0, { 1 }, 1, VIRTIO_NET_OK },
		{ "promisc off", 0, 0, { 0 }, 1, VIRTIO_NET_OK },
		{ "allmulti on", 0, 1, { 1 }, 1, VIRTIO_NET_OK },
		{ "alluni on", 0, 2, { 1 }, 1, VIRTIO_NET_OK },
		{ "nomulti on", 0, 3, { 1 }, 1, VIRTIO_NET_OK },
		{ "nouni on", 0, 4, { 1 }, 1, VIRTIO_NET_OK },
		{ "nobcast on", 0, 5, { 1 }, 1, VIRTIO_NET_OK },
		{ "rx mode 6", 0, 6, { 1 }, 1, VIRTIO_NET_ERR },
		{ "rx value 2", 0, 0, { 2 }, 1, VIRTIO_NET_ERR },
		{ "rx two bytes", 0, 0, { 1, 1 }, 2, VIRTIO_NET_ERR },
		{ "rx no data", 0, 0, { 0 }, 0, VIRTIO_NET_ERR },
		{ "mac table 1+1", 1, 0, { 1, 0, 0, 0, 2, 0, 0, 0, 0, 1, 1, 0,
		    0, 0, 1, 0, 0x5e, 0, 0, 1 }, 20, VIRTIO_NET_OK },
		{ "mac table empty", 1, 0, { 0 }, 8, VIRTIO_NET_OK },
		{ "mac table short", 1, 0, { 2, 0, 0, 0 }, 12, VIRTIO_NET_ERR },
		{ "mac table long", 1, 0, { 0 }, 9, VIRTIO_NET_ERR },
		{ "mac table huge count", 1, 0, { 0xff, 0xff, 0xff, 0xff }, 8,
		    VIRTIO_NET_ERR },
		{ "mac addr set", 1, 1, { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 },
		    6, VIRTIO_NET_OK },
		{ "mac addr multicast", 1, 1, { 0x01, 0, 0, 0, 0, 1 }, 6,
		    VIRTIO_NET_ERR },
		{ "mac addr short", 1, 1, { 0x02 }, 5, VIRTIO_NET_ERR },
		{ "mac command 2", 1, 2, { 0 }, 0, VIRTIO_NET_ERR },
		{ "vlan (not offered)", 2, 0, { 1, 0 }, 2, VIRTIO_NET_ERR },
		{ "announce (not offered)", 3, 0, { 0 }, 0, VIRTIO_NET_ERR },
		{ "mq without MQ", 4, 0, { 1, 0 }, 2, VIRTIO_NET_ERR },
		{ "offloads without the feature", 5, 0, { 0 }, 8,
		    VIRTIO_NET_ERR },
		{ "class 9", 9, 0, { 0 }, 0, VIRTIO_NET_ERR },
	};
	uint64_t a[3];
	uint32_t id, len, l[3];
	uint16_t f[3];
	size_t i;

	up(NULL, VIRTIO_NET_F_CTRL_VQ | VIRTIO_NET_F_CTRL_RX |
	    VIRTIO_NET_F_CTRL_RX_EXTRA | VIRTIO_NET_F_CTRL_MAC_ADDR |
	    VIRTIO_NET_F_MAC, false, 3);
	CHECK_EQ(sc->vn_ctrlq, 2);
	for (i = 0; i < nitems(rows); i++) {
		uint8_t ack = ctrl(2, rows[i].cls, rows[i].cmd, rows[i].data,
		    rows[i].dlen);

		if (ack != rows[i].ack) {
			printf("  row \"%s\": ack %u\n", rows[i].name, ack);
			test_failed++;
		}
	}
	/* Recorded modes; the MAC in the configuration space. */
	CHECK_EQ(sc->vn_rxmode, 0x3e);
	CHECK_EQ(vdrv_config(&d, 0, 1), 0x02);
	CHECK_EQ(vdrv_config(&d, 5, 1), 0x55);

	/* Malformed chains: only the class byte; no ack byte at all. */
	a[0] = buf();
	fv.ram[a[0]] = 0;
	a[1] = buf();
	fv.ram[a[1]] = 0xee;
	l[0] = 1;
	l[1] = 1;
	f[0] = 0;
	f[1] = VIRTQ_DESC_F_WRITE;
	(void)chain(2, 2, a, l, f);
	l[0] = 3;
	(void)chain(2, 1, a, l, f);
	/* The command split over two readable descriptors works. */
	a[2] = a[1];
	a[1] = a[0] + 1;
	fv.ram[a[0]] = 0;
	fv.ram[a[0] + 1] = 0;
	fv.ram[a[0] + 2] = 1;
	l[0] = 1;
	l[1] = 2;
	l[2] = 1;
	f[1] = 0;
	f[2] = VIRTQ_DESC_F_WRITE;
	vdrv_notify(&d, 2);
	CHECK(used(2, tqs[2].aidx));
	used_elem(2, tqs[2].useen++, &id, &len);
	CHECK_EQ(len, 1);
	CHECK_EQ(fv.ram[a[2]], VIRTIO_NET_ERR);
	used_elem(2, tqs[2].useen++, &id, &len);
	CHECK_EQ(len, 0);
	fv.ram[a[2]] = 0xee;
	(void)chain(2, 3, a, l, f);
	vdrv_notify(&d, 2);
	CHECK(used(2, tqs[2].aidx));
	used_elem(2, tqs[2].useen++, &id, &len);
	CHECK_EQ(fv.ram[a[2]], VIRTIO_NET_OK);
	CHECK_EQ(vdrv_status(&d) & VIRTIO_S_NEEDS_RESET, 0);
	/* Reset: the configured MAC again, no modes. */
	vdrv_set_status(&d, 0);
	CHECK_EQ(vdrv_config(&d, 0, 1), 0x00);
	CHECK_EQ(sc->vn_rxmode, 0);
	down();

	/* Without CTRL_RX the RX class is refused. */
	up(NULL, VIRTIO_NET_F_CTRL_VQ, false, 3);
	CHECK_EQ(ctrl(2, 0, 0, "\1", 1), VIRTIO_NET_ERR);
	down();
}

/* ---- multiqueue ---- */

TEST(mq_pairs)
{
	const char *kv[] = { "fake_caps", "64", "num_queues", "4", NULL };
	uint8_t f[100], out[200];
	uint64_t a[2];
	uint32_t id, len, l[2] = { 12, 60 };
	uint16_t pairs, fl[2] = { 0, 0 };
	int q;

	up(kv, VIRTIO_NET_F_MQ | VIRTIO_NET_F_CTRL_VQ |
	    VIRTIO_NET_F_MRG_RXBUF, false, 9);
	CHECK(vdrv_device_features(&d) & VIRTIO_NET_F_MQ);
	CHECK_EQ(vdrv_config(&d, VNET_CFG_PAIRS, 2), 4);
	CHECK_EQ(vdrv_num_queues(&d), 9);
	CHECK_EQ(sc->vn_ctrlq, 8);
	for (q = 0; q < 4; q++)
		rx_bufs(2 * q, 4, 2048, NULL);
	/* After reset every frame goes to receiveq1 (§5.1.6.5.5). */
	frame(f, sizeof(f), 1);
	CHECK_EQ(fake_netbe_push(fb, 3, f, sizeof(f)), 0);
	CHECK(used(0, 1));
	/* Pairs 0 and 5 are refused, 2 accepted. */
	pairs = 0;
	CHECK_EQ(ctrl(8, 4, 0, &pairs, 2), VIRTIO_NET_ERR);
	pairs = 5;
	CHECK_EQ(ctrl(8, 4, 0, &pairs, 2), VIRTIO_NET_ERR);
	pairs = 2;
	CHECK_EQ(ctrl(8, 4, 0, &pairs, 2), VIRTIO_NET_OK);
	CHECK_EQ(ctrl(8, 4, 1, &pairs, 2), VIRTIO_NET_ERR);	/* RSS */
	/* Backend queue 3 feeds receiveq2 now, queue 2 receiveq1. */
	CHECK_EQ(fake_netbe_push(fb, 3, f, sizeof(f)), 0);
	CHECK(used(2, 1));
	CHECK_EQ(fake_netbe_push(fb, 2, f, sizeof(f)), 0);
	CHECK(used(0, 2));
	CHECK_EQ(fake_netbe_push(fb, 1, f, sizeof(f)), 0);
	CHECK(used(2, 2));
	used_elem(2, 1, &id, &len);
	CHECK_EQ(len, 112);
	/* Transmit on transmitq2 reaches backend queue 1. */
	a[0] = buf();
	a[1] = buf();
	memset(fv.ram + a[0], 0, 12);
	frame(fv.ram + a[1], 60, 2);
	(void)chain(3, 2, a, l, fl);
	vdrv_notify(&d, 3);
	CHECK(used(3, 1));
	q = -1;
	CHECK_EQ(fake_netbe_tx_frame(fb, 0, out, sizeof(out), &q), 60);
	CHECK_EQ(q, 1);
	down();

	/* Without MQ negotiated: one pair, the control queue is queue 2. */
	up(kv, VIRTIO_NET_F_CTRL_VQ, false, 3);
	CHECK_EQ(sc->vn_ctrlq, 2);
	CHECK_EQ(ctrl(2, 4, 0, "\1\0", 2), VIRTIO_NET_ERR);
	rx_bufs(0, 2, 2048, NULL);
	CHECK_EQ(fake_netbe_push(fb, 2, f, sizeof(f)), 0);
	CHECK(used(0, 1));
	down();
}

/* Chains held for a frame stay the queue's across VQ_PAIRS_SET. */
TEST(mq_keeps_held_chains)
{
	const char *kv[] = { "fake_caps", "64", "num_queues", "2", NULL };
	uint8_t f[1500];
	uint64_t at[3];
	uint16_t pairs = 1;
	uint32_t id, len;

	up(kv, VIRTIO_NET_F_MQ | VIRTIO_NET_F_CTRL_VQ |
	    VIRTIO_NET_F_MRG_RXBUF, false, 5);
	rx_bufs(0, 1, 600, at);
	frame(f, sizeof(f), 8);
	CHECK_EQ(fake_netbe_push(fb, 0, f, sizeof(f)), 0);
	WAIT_FOR(stats().rx_nobufs >= 1);
	CHECK_EQ(ctrl(4, 4, 0, &pairs, 2), VIRTIO_NET_OK);
	CHECK_EQ(sc->vn_rxq[0].nheld, 1);
	rx_bufs(0, 2, 600, at + 1);
	CHECK(used(0, 3));
	used_elem(0, 0, &id, &len);
	CHECK_EQ(id, 0);
	CHECK_EQ(len, 600);
	CHECK_EQ(fv.ram[at[0] + 10], 3);
	CHECK_EQ(memcmp(fv.ram + at[2], f + 1188, 312), 0);
	down();
}

/* ---- no buffers, backend gone ---- */

TEST(rx_no_buffers_stops_polling)
{
	struct fake_netbe_calls c0, c1;
	uint8_t f[300];
	uint64_t at[1];
	uint32_t id, len;

	up(NULL, VIRTIO_NET_F_MRG_RXBUF, false, 3);
	frame(f, sizeof(f), 4);
	CHECK_EQ(fake_netbe_push(fb, 0, f, sizeof(f)), 0);
	WAIT_FOR(stats().rx_nobufs >= 1);
	fake_netbe_calls(fb, &c0);
	msleep(100);
	fake_netbe_calls(fb, &c1);
	/* The fd is readable all along, but nobody asks: no spinning. */
	CHECK_EQ(c1.peeks, c0.peeks);
	CHECK_EQ(fake_netbe_pending(fb, 0), 1);
	rx_bufs(0, 1, 2048, at);
	CHECK(used(0, 1));
	used_elem(0, 0, &id, &len);
	CHECK_EQ(len, 312);
	CHECK_EQ(memcmp(fv.ram + at[0] + 12, f, 300), 0);
	/* And polling is back: a new frame arrives by itself. */
	rx_bufs(0, 1, 2048, at);
	CHECK_EQ(fake_netbe_push(fb, 0, f, 100), 0);
	CHECK(used(0, 2));
	down();
}

TEST(backend_gone)
{
	uint64_t a[2];
	uint32_t l[2] = { 12, 100 };
	uint16_t fl[2] = { 0, 0 };
	struct fake_netbe_calls c0, c1;

	up(NULL, VIRTIO_NET_F_STATUS, false, 3);
	CHECK_EQ(vdrv_config(&d, VNET_CFG_STATUS, 2), VIRTIO_NET_S_LINK_UP);
	(void)vdrv_isr(&d);
	rx_bufs(0, 2, 2048, NULL);
	fake_netbe_set_gone(fb);
	WAIT_FOR(vdrv_config(&d, VNET_CFG_STATUS, 2) == 0);
	CHECK(vdrv_isr(&d) & VIRTIO_ISR_CONFIG);
	fake_netbe_calls(fb, &c0);
	msleep(100);
	fake_netbe_calls(fb, &c1);
	CHECK_EQ(c1.peeks, c0.peeks);		/* not polled any more */
	/* Transmit still completes; the frame goes nowhere. */
	a[0] = buf();
	a[1] = buf();
	frame(fv.ram + a[1], 100, 0);
	(void)chain(1, 2, a, l, fl);
	vdrv_notify(&d, 1);
	CHECK(used(1, 1));
	CHECK_EQ(stats().tx_dropped, 1);
	/* A reset does not bring the link back. */
	vdrv_set_status(&d, 0);
	CHECK_EQ(vdrv_config(&d, VNET_CFG_STATUS, 2), 0);
	down();
}

TEST(tx_full_and_malformed)
{
	uint64_t a[2];
	uint32_t id, len, l[2];
	uint16_t fl[2];

	up(NULL, 0, false, 3);
	a[0] = buf();
	a[1] = buf();
	frame(fv.ram + a[1], 2000, 0);
	/* Writable descriptor; too short; too long; then a good one. */
	l[0] = 12;
	l[1] = 100;
	fl[0] = 0;
	fl[1] = VIRTQ_DESC_F_WRITE;
	(void)chain(1, 2, a, l, fl);
	l[0] = 12 + 13;
	(void)chain(1, 1, a, l, fl);
	l[0] = 12;
	l[1] = NETBE_FRAME_MAX + 1;
	fl[1] = 0;
	(void)chain(1, 2, a, l, fl);
	l[1] = 14;
	(void)chain(1, 2, a, l, fl);
	vdrv_notify(&d, 1);
	CHECK(used(1, 4));
	used_elem(1, 3, &id, &len);
	CHECK_EQ(len, 0);
	CHECK_EQ(stats().tx_bad, 3);
	CHECK_EQ(fake_netbe_tx_count(fb), 1);
	CHECK_EQ(vdrv_status(&d) & VIRTIO_S_NEEDS_RESET, 0);
	/* A full backend drops; the chain completes anyway. */
	fake_netbe_set_full(fb, true);
	(void)chain(1, 2, a, l, fl);
	vdrv_notify(&d, 1);
	CHECK(used(1, 5));
	CHECK_EQ(stats().tx_dropped, 1);
	/* A broken ring is a reset matter: head index out of range. */
	vdrv_avail(&d, tqs[1].avail, tqs[1].size, tqs[1].aidx++, 999);
	vdrv_notify(&d, 1);
	WAIT_FOR(vdrv_status(&d) & VIRTIO_S_NEEDS_RESET);
	down();
}

/* ---- MTU ---- */

TEST(mtu)
{
	const char *kv[] = { "mtu", "1400", NULL };
	uint8_t f[1500];
	uint32_t id, len;

	up(kv, VIRTIO_NET_F_MTU | VIRTIO_NET_F_MRG_RXBUF, false, 3);
	CHECK(vdrv_device_features(&d) & VIRTIO_NET_F_MTU);
	CHECK_EQ(vdrv_config(&d, VNET_CFG_MTU, 2), 1400);
	rx_bufs(0, 4, 2048, NULL);
	frame(f, sizeof(f), 0);
	CHECK_EQ(fake_netbe_push(fb, 0, f, 1400 + 18 + 1), 0);
	WAIT_FOR(stats().rx_mtu == 1);
	CHECK_EQ(fake_netbe_push(fb, 0, f, 1400 + 18), 0);
	CHECK(used(0, 1));
	used_elem(0, 0, &id, &len);
	CHECK_EQ(len, 12 + 1418);
	down();
}

/* ---- reset with a frame half gathered ---- */

TEST(reset_half_gathered)
{
	uint8_t f[1500];
	uint64_t at[2], old;
	uint32_t id, len;
	unsigned i;

	up(NULL, VIRTIO_NET_F_MRG_RXBUF, false, 3);
	rx_bufs(0, 1, 600, at);
	old = at[0];
	frame(f, sizeof(f), 9);
	CHECK_EQ(fake_netbe_push(fb, 0, f, sizeof(f)), 0);
	WAIT_FOR(stats().rx_nobufs >= 1);
	CHECK_EQ(sc->vn_rxq[0].nheld, 1);
	vdrv_set_status(&d, 0);
	CHECK_EQ(sc->vn_rxq[0].nheld, 0);
	start(VIRTIO_NET_F_MRG_RXBUF, false, 3);
	rx_bufs(0, 2, 1024, at);
	CHECK(used(0, 2));
	used_elem(0, 0, &id, &len);
	CHECK_EQ(len, 1024);
	used_elem(0, 1, &id, &len);
	CHECK_EQ(len, 1512 - 1024);
	CHECK_EQ(fv.ram[at[0] + 10], 2);
	for (i = 0; i < 600 && fv.ram[old + i] == 0xee; i++)
		;
	CHECK_EQ(i, 600);	/* the old buffer was never written */
	down();
}

/* ---- MAC addresses and keys ---- */

TEST(mac_rule)
{
	/* MD5("5-0-vm0") = 1bc807b6...: bhyve gives 00:a0:98:1b:c8:07. */
	static const uint8_t want[6] = { 0x00, 0xa0, 0x98, 0x1b, 0xc8, 0x07 };
	uint8_t mac[6];
	char longname[200];
	int i;

	vnet_genmac(5, 0, "vm0", mac);
	CHECK_EQ(memcmp(mac, want, 6), 0);
	/* MD5("3-1-khyve") = e3612d55... */
	vnet_genmac(3, 1, "khyve", mac);
	CHECK(mac[3] == 0xe3 && mac[4] == 0x61 && mac[5] == 0x2d);
	/* Names past bhyve's 80-byte buffer make the same address. */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	vnet_genmac(5, 0, longname, mac);
	{
		uint8_t mac2[6];

		longname[100] = '\0';
		vnet_genmac(5, 0, longname, mac2);
		CHECK_EQ(memcmp(mac, mac2, 6), 0);
	}
	/* On a device: the configuration space has it. */
	up(NULL, VIRTIO_NET_F_MAC, false, 3);
	for (i = 0; i < 6; i++)
		CHECK_EQ(vdrv_config(&d, (unsigned)i, 1), want[i]);
	down();
	{
		const char *kv[] = { "mac", "2:0:0:a:bc:DE", NULL };

		up(kv, VIRTIO_NET_F_MAC, false, 3);
		CHECK_EQ(vdrv_config(&d, 0, 1), 2);
		CHECK_EQ(vdrv_config(&d, 4, 1), 0xbc);
		CHECK_EQ(vdrv_config(&d, 5, 1), 0xde);
		down();
	}
}

TEST(parse_mac_rows)
{
	static const struct {
		const char *s;
		int ok;
	} rows[] = {
		{ "02:11:22:33:44:55", 1 }, { "0:a0:98:1:2:3", 1 },
		{ "AA:BB:CC:DD:EE:FF", 1 }, { "ab:bb:cc:dd:ee:ff", 0 },
		{ "00:00:00:00:00:00", 0 }, { "01:00:5e:00:00:01", 0 },
		{ "02:11:22:33:44", 0 }, { "02:11:22:33:44:55:66", 0 },
		{ "02:11:22:33:44:555", 0 }, { "02-11-22-33-44-55", 0 },
		{ "02:11:22:33:44:5g", 0 }, { "", 0 }, { ":::::", 0 },
		{ "02:11:22:33:44:55:", 0 }, { "002:11:22:33:44:55", 0 },
	};
	uint8_t mac[6];
	size_t i;

	for (i = 0; i < nitems(rows); i++)
		if ((vnet_parse_mac(rows[i].s, mac) == 0) != rows[i].ok) {
			printf("  \"%s\": wrong verdict\n", rows[i].s);
			test_failed++;
		}
}

TEST(bad_keys)
{
	static const struct {
		const char *k, *v;
	} rows[] = {
		{ "mac", "zz" }, { "mac", "01:02:03:04:05:06" },
		{ "mac", "00:00:00:00:00:00" }, { "mtu", "67" },
		{ "mtu", "65536" }, { "mtu", "1500x" }, { "num_queues", "0" },
		{ "num_queues", "32" }, { "num_queues", "two" },
		{ "backend", "nosuch" }, { "backend", "" },
		{ "fake_bad", "1" }, { "transport", "weird" },
	};
	size_t i;

	for (i = 0; i < nitems(rows); i++) {
		const char *kv[] = { rows[i].k, rows[i].v, NULL };

		keys(kv);
		fake_vm_init(&fv, RAM, 1);
		if (pci_init(&fv.dc, &win) != -EINVAL) {
			printf("  %s=%s: not -EINVAL\n", rows[i].k, rows[i].v);
			test_failed++;
		}
		CHECK(fake_netbe_last() == NULL);	/* closed again */
		pci_fini();
		fake_vm_fini(&fv);
		config_fini();
	}
	/* No backend key at all. */
	config_init();
	CHECK_EQ(config_set(NULL, "pci.0.5.0.device", "virtio-net"), 0);
	fake_vm_init(&fv, RAM, 1);
	CHECK_EQ(pci_init(&fv.dc, &win), -EINVAL);
	pci_fini();
	fake_vm_fini(&fv);
	config_fini();
}

TEST(command_line)
{
	struct config_node *n;

	CHECK(pci_emul_finddev("virtio-net") == &pci_de_vnet);
	CHECK(pci_emul_finddev("virtio-net-pci") == &pci_de_vnet);
	CHECK(pci_emul_finddev("e1000") != &pci_de_vnet);
	config_init();
	CHECK_EQ(pci_parse_slot("5,virtio-net,tap0,mac=02:00:00:00:00:01,"
	    "mtu=9000,num_queues=2"), 0);
	n = config_find_node(NULL, "pci.0.5.0");
	CHECK_STR(config_get(n, "backend"), "tap0");
	CHECK_STR(config_get(n, "mac"), "02:00:00:00:00:01");
	CHECK_STR(config_get(n, "mtu"), "9000");
	CHECK_STR(config_get(n, "num_queues"), "2");
	CHECK_EQ(pci_parse_slot("6,virtio-net,slirp,hostfwd=tcp::2222-:22"), 0);
	CHECK_STR(config_get(NULL, "pci.0.6.0.backend"), "slirp");
	CHECK_STR(config_get(NULL, "pci.0.6.0.hostfwd"), "tcp::2222-:22");
	CHECK_EQ(pci_parse_slot("7,virtio-net,backend=fake,fake_caps=1"), 0);
	CHECK_STR(config_get(NULL, "pci.0.7.0.backend"), "fake");
	CHECK_EQ(pci_parse_slot("8,virtio-net-pci,fake"), 0);
	CHECK_STR(config_get(NULL, "pci.0.8.0.device"), "virtio-net");
	config_fini();
}

static int
count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	if (dir == NULL)
		return (-1);
	while (readdir(dir) != NULL)
		n++;
	closedir(dir);
	return (n);
}

/* Set-up and teardown leave nothing behind; num_queues by default. */
TEST(create_destroy)
{
	const char *mq[] = { "fake_caps", "64", NULL };
	int before, i;

	before = count_fds();
	for (i = 0; i < 3; i++) {
		keys(mq);
		fake_vm_init(&fv, RAM, 3);
		CHECK_EQ(pci_init(&fv.dc, &win), 0);
		sc = vnet_softc(pci_find_dev(0, SLOT, 0));
		/* One pair per vCPU with a multiqueue backend. */
		CHECK_EQ(sc->vn_npairs, 3);
		down();
		keys(NULL);
		fake_vm_init(&fv, RAM, 3);
		CHECK_EQ(pci_init(&fv.dc, &win), 0);
		sc = vnet_softc(pci_find_dev(0, SLOT, 0));
		CHECK_EQ(sc->vn_npairs, 1);
		down();
	}
	CHECK_EQ(count_fds(), before);
}

/* A backend with one fd for all queues: still polled, still paused. */
TEST(shared_fd)
{
	const char *kv[] = { "fake_caps", "64", "fake_shared", "true",
	    "num_queues", "2", NULL };
	uint8_t f[100];

	up(kv, VIRTIO_NET_F_MQ | VIRTIO_NET_F_CTRL_VQ, false, 5);
	frame(f, sizeof(f), 0);
	CHECK_EQ(fake_netbe_push(fb, 1, f, sizeof(f)), 0);
	WAIT_FOR(stats().rx_nobufs >= 1);
	rx_bufs(0, 2, 2048, NULL);
	CHECK(used(0, 1));
	down();
}

TEST_MAIN()
