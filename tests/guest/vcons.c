/*
 * vcons: a virtio-console port as a guest driver sees it, through the
 * legacy (virtio 0.9.5) registers in I/O BAR 0 and a tiny driver of its
 * own (virtio 1.2 §4.1.4.8 "Legacy Interfaces", §2.7 split rings, §5.3
 * the console device).
 *
 * The runner gives khyve -s 4,virtio-console,console (port 0 on its
 * standard input and output, no MULTIPORT) with "ping" on standard
 * input, and COM1 in a file for the kit's verdict.  The guest finds the
 * device (1af4:1003, subsystem 3), checks its features and configuration
 * (SIZE and EMERG_WRITE offered, no MULTIPORT, 80x25, max_nr_ports 1),
 * writes a line through emerg_wr before setting anything up, sets up
 * receiveq0 and transmitq0, writes a line in one descriptor and one
 * split over three, reads its input into posted buffers and writes back
 * what it read.  The runner checks those lines on khyve's standard
 * output.  Command line: slot=N (default: search bus 0).
 */
#include "kit.h"

#define VIRTIO_VENDOR	0x1af4
#define VCON_LEGACY_ID	0x1003

/* Legacy registers (§4.1.4.8), no MSI-X: device configuration at 0x14. */
#define VL_HOST_FEATURES	0x00
#define VL_GUEST_FEATURES	0x04
#define VL_QUEUE_PFN		0x08
#define VL_QUEUE_SIZE		0x0c
#define VL_QUEUE_SEL		0x0e
#define VL_QUEUE_NOTIFY		0x10
#define VL_STATUS		0x12
#define VL_ISR			0x13
#define VL_CONFIG		0x14

#define F_SIZE		(1u << 0)
#define F_MULTIPORT	(1u << 1)
#define F_EMERG_WRITE	(1u << 2)

#define S_ACKNOWLEDGE	1
#define S_DRIVER	2
#define S_DRIVER_OK	4

#define DESC_F_NEXT	1
#define DESC_F_WRITE	2

#define QMAX		256		/* the largest ring this guest builds */

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vq {
	uint16_t size;
	struct vring_desc *desc;
	volatile uint16_t *avail;	/* flags, idx, ring[] */
	volatile uint16_t *used;	/* flags, idx, then {id, len} pairs */
	uint16_t avail_idx;
	uint16_t used_seen;
	uint16_t next_desc;
};

/* The legacy layout (§2.7.2 "Legacy Interfaces"): descriptors, then the
 * available ring, the used ring on the next 4 KiB boundary. */
static uint8_t ring_mem[2][3 * 4096 + 16 * QMAX] __attribute__((aligned(4096)));
static char bufs[8][128];
static uint16_t iobase;
static uint64_t tsc_khz;

static void
wmb(void)
{
	__asm__ volatile("" ::: "memory");	/* x86: stores stay in order */
}

static int
find_device(void)
{
	unsigned slot, first = 0, last = 31;
	uint64_t want = arg_get_u64("slot", 32);

	if (want < 32)
		first = last = (unsigned)want;
	for (slot = first; slot <= last; slot++)
		if (pci_cfg_read16(0, slot, 0, 0x00) == VIRTIO_VENDOR &&
		    pci_cfg_read16(0, slot, 0, 0x02) == VCON_LEGACY_ID)
			return ((int)slot);
	return (-1);
}

static void
vq_setup(struct vq *q, int idx)
{
	uint8_t *m = ring_mem[idx];
	uint64_t used_off;

	outw(iobase + VL_QUEUE_SEL, (uint16_t)idx);
	q->size = inw(iobase + VL_QUEUE_SIZE);
	GCHECK(q->size > 0 && q->size <= QMAX);
	if (q->size == 0 || q->size > QMAX)
		return;
	used_off = (16ULL * q->size + 6 + 2ULL * q->size + 4095) & ~4095ULL;
	q->desc = (struct vring_desc *)m;
	q->avail = (volatile uint16_t *)(m + 16 * q->size);
	q->used = (volatile uint16_t *)(m + used_off);
	outl(iobase + VL_QUEUE_PFN, (uint32_t)((uintptr_t)m >> 12));
}

/* Make chain head available and tell the device. */
static void
vq_kick(struct vq *q, int idx, uint16_t head)
{
	q->avail[2 + q->avail_idx % q->size] = head;
	wmb();
	q->avail[1] = ++q->avail_idx;
	wmb();
	outw(iobase + VL_QUEUE_NOTIFY, (uint16_t)idx);
}

/* Wait up to ms for a used element; its id and len. */
static int
vq_wait(struct vq *q, unsigned ms, uint32_t *id, uint32_t *len)
{
	uint64_t end = rdtsc() + tsc_khz * ms;
	volatile uint32_t *e;

	while (q->used[1] == q->used_seen) {
		if (rdtsc() > end)
			return (-1);
		cpu_relax();
	}
	e = (volatile uint32_t *)(q->used + 2) + 2 * (q->used_seen % q->size);
	*id = e[0];
	*len = e[1];
	q->used_seen++;
	return (0);
}

static uint16_t
vq_desc(struct vq *q, const void *buf, uint32_t len, uint16_t flags)
{
	uint16_t i = q->next_desc++ % q->size;

	q->desc[i].addr = (uint64_t)(uintptr_t)buf;
	q->desc[i].len = len;
	q->desc[i].flags = flags;
	q->desc[i].next = (uint16_t)((i + 1) % q->size);
	return (i);
}

static size_t
slen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return (n);
}

/* Output through transmitq0, one descriptor per piece. */
static void
tx(struct vq *q, const char *const *pieces, int n)
{
	uint32_t id, len;
	uint16_t head = 0, d;
	int i;

	for (i = 0; i < n; i++) {
		d = vq_desc(q, pieces[i], (uint32_t)slen(pieces[i]),
		    i + 1 < n ? DESC_F_NEXT : 0);
		if (i == 0)
			head = d;
	}
	vq_kick(q, 1, head);
	GCHECK_EQ(vq_wait(q, 5000, &id, &len), 0);
	GCHECK_EQ(id, head);
}

static void
emerg_write(const char *s)
{
	while (*s != '\0')
		outl(iobase + VL_CONFIG + 8, (uint8_t)*s++);
}

int
guest_main(void)
{
	static char line[160], got[64];
	struct vq rxq = { 0 }, txq = { 0 };
	uint32_t feat, id, len;
	const char *one[1], *three[3];
	size_t ngot = 0;
	int slot, i;

	tsc_khz = guest_tsc_khz();
	if (tsc_khz == 0)
		tsc_khz = 3000000;		/* no PM timer: assume 3 GHz */
	slot = find_device();
	GCHECK(slot >= 0);
	if (slot < 0)
		return (1);
	GCHECK_EQ(pci_cfg_read16(0, (unsigned)slot, 0, 0x2e), 3);
	iobase = (uint16_t)(pci_cfg_read32(0, (unsigned)slot, 0, 0x10) & ~3u);
	GCHECK(pci_cfg_read32(0, (unsigned)slot, 0, 0x10) & 1);
	pci_cfg_write16(0, (unsigned)slot, 0, 0x04, 0x5);	/* I/O, master */
	printf("virtio-console at 0:%d.0, I/O BAR at 0x%x\n", slot, iobase);

	/* §5.3.5: emerg_wr works on a device nobody has set up. */
	outb(iobase + VL_STATUS, 0);
	emerg_write("vcons: emergency before set-up\n");

	outb(iobase + VL_STATUS, S_ACKNOWLEDGE);
	outb(iobase + VL_STATUS, S_ACKNOWLEDGE | S_DRIVER);
	feat = inl(iobase + VL_HOST_FEATURES);
	printf("features 0x%08x\n", feat);
	GCHECK(feat & F_SIZE);
	GCHECK(feat & F_EMERG_WRITE);
	GCHECK_EQ(feat & F_MULTIPORT, 0);
	outl(iobase + VL_GUEST_FEATURES, F_SIZE);
	GCHECK_EQ(inw(iobase + VL_CONFIG + 0), 80);		/* cols */
	GCHECK_EQ(inw(iobase + VL_CONFIG + 2), 25);		/* rows */
	GCHECK_EQ(inl(iobase + VL_CONFIG + 4), 1);		/* max_nr_ports */
	vq_setup(&rxq, 0);
	vq_setup(&txq, 1);
	if (rxq.size == 0 || txq.size == 0)
		return (1);
	outb(iobase + VL_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_DRIVER_OK);

	one[0] = "vcons: hello through transmitq0\n";
	tx(&txq, one, 1);
	three[0] = "vcons: one line ";
	three[1] = "in three ";
	three[2] = "descriptors\n";
	tx(&txq, three, 3);

	/* Input: "ping\n" from khyve's standard input. */
	for (i = 0; i < 4; i++)
		vq_kick(&rxq, 0, vq_desc(&rxq, bufs[i], sizeof(bufs[i]),
		    DESC_F_WRITE));
	while (ngot < 5 && vq_wait(&rxq, 10000, &id, &len) == 0) {
		GCHECK(id < 4 && len <= sizeof(bufs[0]));
		if (id >= 4 || len > sizeof(bufs[0]))
			break;
		for (i = 0; i < (int)len && ngot < sizeof(got) - 1; i++)
			got[ngot++] = bufs[id][i];
	}
	got[ngot] = '\0';
	printf("read %u bytes\n", (unsigned)ngot);
	GCHECK(ngot >= 5 && got[0] == 'p' && got[1] == 'i' && got[2] == 'n' &&
	    got[3] == 'g' && got[4] == '\n');
	if (ngot >= 1 && got[ngot - 1] == '\n')
		got[--ngot] = '\0';
	snprintf(line, sizeof(line), "vcons: read \"%s\"\n", got);
	one[0] = line;
	tx(&txq, one, 1);
	emerg_write("vcons: emergency after\n");
	(void)inb(iobase + VL_ISR);
	return (0);
}
