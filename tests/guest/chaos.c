/*
 * chaos: a hostile guest.  Seeded random port I/O, MMIO, PCI
 * configuration writes and virtqueue set-ups against every device khyve
 * has, to show that nothing a guest does crashes, hangs or grows the
 * monitor (tests/guest/run.sh, "make chaos"; docs/testing.md).
 *
 *   chaos seed=S n=N [go]
 *
 * prints "chaos: seed=S n=N" first (so a failure replays), makes exactly
 * N accesses (one in/out, one rep ins/outs, one MMIO read or write, one
 * configuration read or write each), prints "chaos: done accesses=N" and
 * powers off.  With "go" it waits, after its "chaos: start" line and
 * after the done line, for a byte on COM1 (at most 60 s): the runner
 * samples khyve's memory then.
 *
 * What it does, mixed at random (xorshift64*, Vigna 2016):
 *   - every I/O port 0-0xffff in a sweep that reads each one with sizes
 *     1, 2 and 4 and writes each one with each size (393216 accesses;
 *     then random ports), and rep ins/outs of 1-4096 elements;
 *   - every BAR of every function on bus 0 (read from configuration
 *     space at the start, then followed through every write), at random
 *     offsets and sizes, and the MMIO hole from the end of RAM to 4 GiB;
 *   - configuration reads and writes through 0xCF8/0xCFC and ECAM (from
 *     MCFG) at random registers: BARs moved onto RAM, onto each other,
 *     above 4 GiB and back, the command register toggled, the MSI and
 *     MSI-X capabilities and the virtio configuration window written,
 *     random address latches (absent buses and functions);
 *   - virtqueues of every queue of every virtio function, and one past
 *     the last, through the modern and the legacy registers: random
 *     sizes, garbage descriptors (a chain through the whole table that
 *     loops, indirect tables of garbage, nested indirection, zero and
 *     huge lengths, addresses past RAM, in the hole, above 4 GiB and next
 *     to 2^64), garbage avail rings, misaligned rings, random features,
 *     notifies, status toggled and resets while requests are in flight.
 *
 * The guest must survive what it does (the exclusions):
 *   - devices write only where descriptors and used rings point, so
 *     descriptor tables (direct and indirect) and used rings live in a
 *     ring area of RAM from 32 MiB, every descriptor points into a buffer
 *     area above it or outside RAM, and no random write reaches
 *     queue_desc or queue_device (common configuration 0x20-0x27,
 *     0x30-0x37), the legacy queue PFN (0x08), or the configuration
 *     window while it is aimed at them or at the MSI-X table;
 *   - not written: 0xCF9 (reset), 0x64 commands 0xD1 and even 0xF0-0xFE
 *     (the reset line), PM1a_CNT with SLP_EN and SLP_TYP 5 (made type 4,
 *     which khyve ignores), COM1 (the console; it is read), the 8259s
 *     (KVM's in-kernel chip: a vector base below 32 would deliver
 *     interrupts through exception gates), the I/O APIC and local APIC
 *     pages (KVM's: INIT, SIPI or SMI restart a CPU);
 *   - MSI and MSI-X messages keep a vector >= 32 and a delivery mode of
 *     fixed, lowest priority or NMI (SMI, INIT, SIPI and ExtINT messages
 *     restart or redirect a CPU by design: Intel SDM vol. 3A §11.11.2);
 *   - MMIO stays below 4 GiB (the kit's map) and off RAM outside the
 *     buffer area.
 *
 * Nested software KVM runs guest kernel code ~300 times slower than user
 * code (docs/testing.md), so the accesses are drawn at CPL3 into a batch
 * of records and carried out at CPL0 by a short loop (guest_kcall()).
 * BAR registers are followed from the values written (PCI 3.0 §6.2.5.1)
 * and read back after every batch; a difference is adopted and counted
 * ("chaos: ... BAR surprises").  The trap hook takes NMIs and every
 * vector >= 32 (with an EOI), whatever the scribbled MSI-X tables send.
 */
#include "kit.h"
#include "virtio.h"

#define GIB4		(4ULL << 30)
#define RING_BASE	(32ULL << 20)	/* rings and descriptor tables */
#define MAXFN		32
#define MAXQ		16
#define LAPIC		0xfee00000ULL
#define IOAPIC		0xfec00000ULL
#define SWEEP		(6 * 65536)	/* ports x {r, w} x {1, 2, 4} */
#define BATCH		4096
#define GO_MS		60000
#define STI_PAUSES	500		/* the longest interrupt window */

#define PCIR_COMMAND	0x04
#define PCIR_BAR(i)	(0x10 + 4 * (i))
#define PCIR_CAP_PTR	0x34
#define PCIY_MSI	0x05
#define PCIY_VENDOR	0x09
#define PCIY_MSIX	0x11

/* virtio 1.2 §4.1.4.3 common configuration, §4.1.4.8 legacy registers. */
#define CC_DFSEL	0x00
#define CC_GFSEL	0x08
#define CC_GF		0x0c
#define CC_MSIX		0x10
#define CC_STATUS	0x14
#define CC_QSEL		0x16
#define CC_QSIZE	0x18
#define CC_QMSIX	0x1a
#define CC_QENABLE	0x1c
#define CC_QNOFF	0x1e
#define CC_QDESC	0x20
#define CC_QDRIVER	0x28
#define CC_QDEVICE	0x30
#define VL_GF		0x04
#define VL_PFN		0x08
#define VL_QSIZE	0x0c
#define VL_QSEL		0x0e
#define VL_NOTIFY	0x10
#define VL_STATUS	0x12

struct fn {
	unsigned	slot, func;
	uint32_t	reg[6];		/* BAR registers as last written */
	uint32_t	orig[6];	/* ... as khyve set them */
	uint64_t	size[6];	/* BAR i's size; 0: none or upper half */
	uint8_t		io[6], is64[6];
	uint16_t	cmd;		/* command register as written */
	unsigned	msi, msi_data;	/* MSI capability, its data offset */
	unsigned	msix, msix_bir, msix_n;
	uint32_t	msix_off;
	unsigned	wincap;		/* virtio PCI configuration access */
	uint8_t		win[12];	/* its bar .. length, as written */
	int		virtio, legacy;	/* legacy registers in I/O BAR 0 */
	int		cbar, nbar;	/* common, notify BAR, or -1 */
	uint32_t	coff, noff, nmult;
	unsigned	nq;
	uint16_t	qmax[MAXQ], qnoff[MAXQ];
	uint64_t	qslot[MAXQ];
};

/* Writes a random access may not make, or must fix. */
enum { P_DENY, P_QADDR, P_MSIX };
struct prot {
	uint64_t	lo, hi;		/* [lo, hi) */
	int		io, kind;
};

/* One access for the CPL0 loop. */
enum { R_PIO_R, R_PIO_W, R_MEM_R, R_MEM_W, R_CFG_R, R_CFG_W, R_INS,
    R_OUTS, R_STI };
struct rec {
	uint8_t		kind, size;
	uint16_t	port;
	uint32_t	cf8;		/* R_CFG_*: the address latch */
	uint64_t	addr;		/* MMIO address, string buffer */
	uint64_t	val;		/* value, string count */
};

static struct fn fns[MAXFN];
static unsigned nfns;
static struct prot prots[4 * MAXFN + 8];
static unsigned nprots;
static struct rec batch[BATCH];
static unsigned nrec;
static uint64_t rs;			/* rng state */
static uint64_t done, limit;		/* accesses drawn, to draw */
static uint64_t ram_end, buf_base, ecam, khz;
static uint64_t qmax_all, slot_size, uoff, ioff, nslots;
static uint64_t sweep, surprises;
static volatile unsigned long nmis, irqs;

static uint64_t
rnd(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return (rs * 0x2545f4914f6cdd1dULL);
}

/* Uniform in [0, n) (multiply-shift, n < 2^32). */
static uint32_t
rndn(uint32_t n)
{
	return ((uint32_t)(((rnd() >> 32) * n) >> 32));
}

/* ---- the CPL0 side ---- */

/* The address BAR i decodes with registers reg (its size's mask). */
static uint64_t
bar_decode(const struct fn *f, const uint32_t *reg, unsigned i)
{
	uint64_t a, m = ~(f->size[i] - 1);

	if (f->io[i])
		return (reg[i] & m & ~3ULL);
	a = reg[i] & m & 0xfffffff0ULL;
	if (f->is64[i])
		a |= ((uint64_t)reg[i + 1] << 32) & m;
	return (a);
}

static uint64_t
bar_addr(const struct fn *f, unsigned i)
{
	return (bar_decode(f, f->reg, i));
}

static void
bar_readback(void)
{
	struct fn *f;
	unsigned i, j;
	uint32_t v;

	for (i = 0; i < nfns; i++) {
		f = &fns[i];
		for (j = 0; j < 6; j++) {
			if (f->size[j] == 0 && (j == 0 || !f->is64[j - 1]))
				continue;
			v = pci_cfg_read32(0, f->slot, f->func, PCIR_BAR(j));
			/* Compare the address bits only. */
			if (((v ^ f->reg[j]) & (j > 0 && f->is64[j - 1] ?
			    (uint32_t)(~(f->size[j - 1] - 1) >> 32) :
			    (uint32_t)~(f->size[j] - 1) & ~0xfu)) != 0)
				surprises++;
			f->reg[j] = v;
		}
	}
}

static void
port_io(int write, uint16_t port, unsigned size, uint64_t v)
{
	switch (size * 2 + write) {
	case 2: (void)inb(port); break;
	case 3: outb(port, (uint8_t)v); break;
	case 4: (void)inw(port); break;
	case 5: outw(port, (uint16_t)v); break;
	case 8: (void)inl(port); break;
	default: outl(port, (uint32_t)v); break;
	}
}

static void
mem_io(int write, uint64_t a, unsigned size, uint64_t v)
{
	switch (size * 2 + write) {
	case 2: (void)mmio_read8(a); break;
	case 3: mmio_write8(a, (uint8_t)v); break;
	case 4: (void)mmio_read16(a); break;
	case 5: mmio_write16(a, (uint16_t)v); break;
	case 8: (void)mmio_read32(a); break;
	case 9: mmio_write32(a, (uint32_t)v); break;
	case 16: (void)mmio_read64(a); break;
	default: mmio_write64(a, v); break;
	}
}

/* rep ins/outs of cnt elements between port and buf (RDI or RSI). */
#define REP_IO(insn, ptr) __asm__ volatile("cld; rep " insn		\
	: "+" ptr(buf), "+c"(cnt) : "d"(r->port) : "memory")

static long
batch_k(long n)
{
	const struct rec *r;
	uint64_t buf, cnt, v;
	unsigned long seen;
	unsigned j;
	long i;

	for (i = 0; i < n; i++) {
		r = &batch[i];
		switch (r->kind) {
		case R_PIO_R:
		case R_PIO_W:
			port_io(r->kind == R_PIO_W, r->port, r->size, r->val);
			break;
		case R_MEM_R:
		case R_MEM_W:
			mem_io(r->kind == R_MEM_W, r->addr, r->size, r->val);
			break;
		case R_CFG_R:
		case R_CFG_W:
			outl(0xcf8, r->cf8);
			port_io(r->kind == R_CFG_W, r->port, r->size, r->val);
			break;
		case R_INS:
		case R_OUTS:
			buf = r->addr;
			cnt = r->val;
			switch ((r->kind == R_OUTS) * 3 + r->size / 2) {
			case 0: REP_IO("insb", "D"); break;
			case 1: REP_IO("insw", "D"); break;
			case 2: REP_IO("insl", "D"); break;
			case 3: REP_IO("outsb", "S"); break;
			case 4: REP_IO("outsw", "S"); break;
			default: REP_IO("outsl", "S"); break;
			}
			break;
		default:
			/* Only when the local APIC holds a request (IRR,
			 * vectors 32-255): nested KVM delivers it some
			 * instructions after sti, not at the first boundary. */
			for (j = 1, v = 0; j < 8 && v == 0; j++)
				v = mmio_read32(LAPIC + 0x200 + 0x10 * j);
			if (v == 0)
				break;
			seen = irqs;
			__asm__ volatile("sti" ::: "memory");
			for (j = 0; j < STI_PAUSES && irqs == seen; j++)
				cpu_relax();
			__asm__ volatile("cli" ::: "memory");
			break;
		}
	}
	bar_readback();
	return (0);
}

static void prot_build(void);

static void
flush(void)
{
	if (nrec == 0)
		return;
	guest_kcall(batch_k, (long)nrec);
	nrec = 0;
	prot_build();
}

/* ---- drawing accesses (CPL3) ---- */

/* The next record (a batch carried out first when full); NULL once the
 * N accesses are drawn. */
static struct rec *
rec_add(int kind, unsigned size, uint16_t port, uint64_t addr, uint64_t v)
{
	struct rec *r;

	if (done >= limit)
		return (NULL);
	if (nrec >= BATCH - 1)
		flush();
	if ((++done & 1023) == 0)
		batch[nrec++].kind = R_STI;	/* an interrupt window */
	r = &batch[nrec++];
	*r = (struct rec){ .kind = (uint8_t)kind, .size = (uint8_t)size,
	    .port = port, .addr = addr, .val = v };
	return (r);
}

static void
pio(int kind, uint16_t port, unsigned size, uint64_t v)
{
	(void)rec_add(kind, size, port, 0, v);
}

static void
mem(int kind, uint64_t a, unsigned size, uint64_t v)
{
	(void)rec_add(kind, size, 0, a, v);
}

static void
cfg(int kind, const struct fn *f, unsigned reg, unsigned size, uint64_t v)
{
	struct rec *r = rec_add(kind, size, (uint16_t)(0xcfc + (reg & 3)), 0,
	    v);

	if (r != NULL)
		r->cf8 = 0x80000000u | f->slot << 11 | f->func << 8 |
		    (reg & 0xfc);
}

/* ---- what may be written ---- */

/* Byte pos (0: vector, 1: delivery mode in bits 2:0) of MSI data. */
static uint8_t
msg_fix(unsigned pos, uint8_t b)
{
	unsigned m = b & 7;

	if (pos == 0 && b < 0x20)
		return ((uint8_t)(b | 0x20));
	if (pos == 1 && m != 0 && m != 1 && m != 4)
		return ((uint8_t)(b & ~6u));
	return (b);
}

/* msg_fix for the bytes of v (size bytes at a) on the data at data. */
static uint64_t
msg_fix_value(uint64_t a, unsigned size, uint64_t v, uint64_t data)
{
	unsigned i;
	uint64_t pos;
	uint8_t b;

	for (i = 0; i < size; i++) {
		pos = a + i - data;
		if (pos > 1)
			continue;
		b = (uint8_t)(v >> (8 * i));
		v &= ~(0xffULL << (8 * i));
		v |= (uint64_t)msg_fix((unsigned)pos, b) << (8 * i);
	}
	return (v);
}

static void
prot_add(uint64_t lo, uint64_t len, int io, int kind)
{
	if (len == 0 || nprots == sizeof(prots) / sizeof(prots[0]))
		return;
	prots[nprots++] = (struct prot){ lo, lo + len, io, kind };
}

static void
prot_build(void)
{
	const struct fn *f;
	unsigned i;
	uint64_t c;

	nprots = 0;
	prot_add(LAPIC, 4096, 0, P_DENY);
	prot_add(IOAPIC, 4096, 0, P_DENY);
	prot_add(0x3f8, 8, 1, P_DENY);
	prot_add(0x20, 2, 1, P_DENY);
	prot_add(0xa0, 2, 1, P_DENY);
	prot_add(0xcfc, 4, 1, P_DENY);	/* through cfg_write() */
	for (i = 0; i < nfns; i++) {
		f = &fns[i];
		if (f->legacy)
			prot_add(bar_addr(f, 0) + VL_PFN, 4, 1, P_QADDR);
		if (f->cbar >= 0) {
			c = bar_addr(f, (unsigned)f->cbar) + f->coff;
			prot_add(c + CC_QDESC, 8, 0, P_QADDR);
			prot_add(c + CC_QDEVICE, 8, 0, P_QADDR);
		}
		if (f->msix != 0)
			prot_add(bar_addr(f, f->msix_bir) + f->msix_off,
			    16ULL * f->msix_n, f->io[f->msix_bir], P_MSIX);
	}
}

/*
 * May a random write of size bytes at a (a port when io) be made, and
 * with which value?  qaddr: v is a ring address of ours, which may go to
 * the queue address registers.
 */
static int
write_ok(int io, uint64_t a, unsigned size, uint64_t *v, int qaddr)
{
	const struct prot *p;
	uint64_t e;
	unsigned i;

	for (i = 0; i < nprots; i++) {
		p = &prots[i];
		if (p->io != io || a >= p->hi || a + size <= p->lo)
			continue;
		if (p->kind == P_DENY || (p->kind == P_QADDR && !qaddr))
			return (0);
		if (p->kind == P_MSIX)
			for (e = a > p->lo ? (a - p->lo) & ~15ULL : 0;
			    p->lo + e < a + size; e += 16)
				*v = msg_fix_value(a, size, *v, p->lo + e + 8);
	}
	if (!io)
		return (1);
	if (a == 0xcf9 && size == 1)
		return (0);
	if (a == 0x64 && size == 1 &&
	    ((uint8_t)*v == 0xd1 || ((uint8_t)*v >= 0xf0 && !(*v & 1))))
		return (0);
	/* PM1a_CNT: SLP_TYP (bits 12:10) 5 -> 4, SLP_EN or not. */
	if (a == 0x404 && size == 2 && ((*v >> 10) & 7) == 5)
		*v ^= 0x0400;
	if (a == 0x405 && size == 1 && ((*v >> 2) & 7) == 5)
		*v ^= 0x04;
	return (1);
}

static void
pio_write(uint16_t port, unsigned size, uint64_t v, int qaddr)
{
	if (write_ok(1, port, size, &v, qaddr))
		pio(R_PIO_W, port, size, v);
}

/* Memory the guest may touch: the hole up to 4 GiB, the buffer area. */
static int
mem_safe(uint64_t a, uint64_t len)
{
	if (a + len < a || a + len > GIB4)
		return (0);
	return (a >= ram_end || (a >= buf_base && a + len <= ram_end));
}

/* The configuration window (§4.1.4.9) aims at a queue address or the
 * MSI-X table (bar and offset as written, with some slack). */
static int
window_bad(const struct fn *f)
{
	unsigned bar = f->win[0];
	uint32_t off;

	memcpy(&off, &f->win[4], 4);
	if (((int)bar == f->cbar || (int)(bar & 7) == f->cbar) &&
	    off + 8 > f->coff + CC_QDESC && off < f->coff + CC_QDEVICE + 12)
		return (1);
	return (f->msix != 0 && (bar == f->msix_bir ||
	    (bar & 7) == f->msix_bir) && off + 8 > f->msix_off &&
	    off < f->msix_off + 16 * f->msix_n + 4);
}

/* A random configuration write: 0 when it may not be made; else *v
 * fixed and the shadows (BARs, window) updated. */
static int
cfg_fix(struct fn *f, unsigned reg, unsigned size, uint64_t *v)
{
	unsigned i, pos;
	uint8_t b;

	if (reg + size > 0x1000)
		return (0);
	if (f->msi != 0)
		*v = msg_fix_value(reg, size, *v, f->msi_data);
	if (f->wincap != 0 && reg + size > f->wincap + 16 &&
	    reg < f->wincap + 20 && window_bad(f))
		return (0);
	for (i = 0; i < size; i++) {
		pos = reg + i;
		b = (uint8_t)(*v >> (8 * i));
		if (pos == PCIR_COMMAND || pos == PCIR_COMMAND + 1)
			f->cmd = (uint16_t)((f->cmd & ~(0xffu << (8 *
			    (pos & 1)))) | (unsigned)b << (8 * (pos & 1)));
		else if (pos >= PCIR_BAR(0) && pos < PCIR_BAR(6)) {
			pos -= PCIR_BAR(0);
			f->reg[pos / 4] = (f->reg[pos / 4] &
			    ~(0xffu << (8 * (pos % 4)))) |
			    (uint32_t)b << (8 * (pos % 4));
		} else if (f->wincap != 0 && pos >= f->wincap + 4 &&
		    pos < f->wincap + 16)
			f->win[pos - f->wincap - 4] = b;
	}
	return (1);
}

static void
cfg_write(struct fn *f, unsigned reg, unsigned size, uint64_t v)
{
	if (reg + size <= 0x100 && cfg_fix(f, reg, size, &v)) {
		cfg(R_CFG_W, f, reg, size, v);
		prot_build();
	}
}

static void
mem_write(uint64_t a, unsigned size, uint64_t v, int qaddr)
{
	unsigned i;

	if (!mem_safe(a, size))
		return;
	if (ecam != 0 && a >= ecam && a < ecam + (1ULL << 20)) {
		/* Bus 0 through ECAM: the configuration rules apply. */
		for (i = 0; i < nfns; i++)
			if (((a - ecam) >> 12) == (fns[i].slot << 3 |
			    fns[i].func)) {
				if (cfg_fix(&fns[i], (unsigned)(a & 0xfff),
				    size, &v)) {
					mem(R_MEM_W, a, size, v);
					prot_build();
				}
				return;
			}
	}
	if (write_ok(0, a, size, &v, qaddr))
		mem(R_MEM_W, a, size, v);
}

/* ---- PCI functions (CPL0, at the start) ---- */

/* Size BAR i (decoding off, PCI 3.0 §6.2.5.1); returns the next index. */
static unsigned
bar_probe(struct fn *f, unsigned i)
{
	uint32_t lo, m, hi = 0, mh = ~0u;

	lo = pci_cfg_read32(0, f->slot, f->func, PCIR_BAR(i));
	pci_cfg_write32(0, f->slot, f->func, PCIR_BAR(i), ~0u);
	m = pci_cfg_read32(0, f->slot, f->func, PCIR_BAR(i));
	pci_cfg_write32(0, f->slot, f->func, PCIR_BAR(i), lo);
	f->reg[i] = f->orig[i] = lo;
	if (m == 0)
		return (i + 1);
	f->io[i] = lo & 1;
	f->is64[i] = !f->io[i] && (lo & 6) == 4 && i < 5;
	if (f->is64[i]) {
		hi = pci_cfg_read32(0, f->slot, f->func, PCIR_BAR(i + 1));
		pci_cfg_write32(0, f->slot, f->func, PCIR_BAR(i + 1), ~0u);
		mh = pci_cfg_read32(0, f->slot, f->func, PCIR_BAR(i + 1));
		pci_cfg_write32(0, f->slot, f->func, PCIR_BAR(i + 1), hi);
		f->reg[i + 1] = f->orig[i + 1] = hi;
	}
	f->size[i] = ~(((uint64_t)mh << 32) | (m & (f->io[i] ? ~3u : ~0xfu)))
	    + 1;
	if (!f->is64[i])
		f->size[i] &= 0xffffffffULL;
	return (f->is64[i] ? i + 2 : i + 1);
}

static uint8_t
c8(const struct fn *f, unsigned reg)
{
	return (pci_cfg_read8(0, f->slot, f->func, reg));
}

static uint32_t
c32(const struct fn *f, unsigned reg)
{
	return (pci_cfg_read32(0, f->slot, f->func, reg));
}

static void
caps_probe(struct fn *f)
{
	unsigned cap, n, type;

	f->cbar = f->nbar = -1;
	if ((pci_cfg_read16(0, f->slot, f->func, 0x06) & 0x10) == 0)
		return;
	cap = c8(f, PCIR_CAP_PTR) & ~3u;
	for (n = 0; cap >= 0x40 && n < 48; n++, cap = c8(f, cap + 1) & ~3u) {
		switch (c8(f, cap)) {
		case PCIY_MSI:
			f->msi = cap;
			f->msi_data = cap + ((c8(f, cap + 2) & 0x80) ? 12 : 8);
			break;
		case PCIY_MSIX:
			f->msix_n = (c32(f, cap) >> 16 & 0x7ff) + 1;
			f->msix_off = c32(f, cap + 4) & ~7u;
			f->msix_bir = c32(f, cap + 4) & 7;
			f->msix = f->msix_bir <= 5 ? cap : 0;
			break;
		case PCIY_VENDOR:
			type = c8(f, cap + 3);
			if (type == 1) {
				f->cbar = c8(f, cap + 4);
				f->coff = c32(f, cap + 8);
			} else if (type == 2) {
				f->nbar = c8(f, cap + 4);
				f->noff = c32(f, cap + 8);
				f->nmult = c32(f, cap + 16);
			} else if (type == 5) {
				f->wincap = cap;
				for (type = 0; type < 12; type++)
					f->win[type] = c8(f, cap + 4 + type);
			}
			break;
		}
	}
	if (f->cbar > 5 || (f->cbar >= 0 && f->size[f->cbar] == 0))
		f->cbar = -1;
	if (f->nbar > 5 || (f->nbar >= 0 && f->size[f->nbar] == 0))
		f->nbar = -1;
}

/* Queue sizes and notify offsets: modern queue_size, else legacy. */
static void
queues_probe(struct fn *f)
{
	uint64_t c = f->cbar >= 0 ? bar_addr(f, (unsigned)f->cbar) + f->coff :
	    0;
	uint16_t io = (uint16_t)bar_addr(f, 0), m;
	unsigned q;

	for (q = 0; q < MAXQ; q++) {
		if (c != 0) {
			mmio_write16(c + CC_QSEL, (uint16_t)q);
			m = mmio_read16(c + CC_QSIZE);
			f->qnoff[q] = mmio_read16(c + CC_QNOFF);
		} else if (f->legacy) {
			outw((uint16_t)(io + VL_QSEL), (uint16_t)q);
			m = inw((uint16_t)(io + VL_QSIZE));
		} else
			m = 0;
		if (m == 0 || m == 0xffff)
			break;
		f->qmax[q] = m;
		if (m > qmax_all)
			qmax_all = m;
	}
	f->nq = q;
}

static void
ram_probe(void)
{
	const struct hvm_start_info *si = guest_start_info();
	const struct hvm_memmap_entry *e;
	uint32_t i;

	if (si == NULL || si->version < 1 || si->memmap_paddr < 0x1000)
		return;
	e = (const struct hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;
	for (i = 0; i < si->memmap_entries && i < 128; i++)
		if (e[i].type == 1 && e[i].addr <= RING_BASE &&
		    e[i].addr + e[i].size > RING_BASE)
			ram_end = e[i].addr + e[i].size;
	if (ram_end > 3 * (GIB4 / 4))
		ram_end = 3 * (GIB4 / 4);
}

static int
trap(struct trap_frame *t)
{
	if (t->vector == 2) {
		nmis++;
		return (1);
	}
	if (t->vector >= 32) {
		irqs++;
		mmio_write32(LAPIC + 0xb0, 0);	/* EOI */
		return (1);
	}
	return (0);
}

static long
init_k(long unused)
{
	const struct acpi_sdt *mcfg;
	unsigned s, fu, i, nf;
	struct fn *f;

	(void)unused;
	khz = guest_tsc_khz();
	(void)acpi_get();			/* for the poweroff */
	mcfg = acpi_find_table("MCFG", 0);
	if (mcfg != NULL && mcfg->length >= 52)
		memcpy(&ecam, (const uint8_t *)mcfg + 44, 8);
	ram_probe();
	for (s = 0; s < 32; s++) {
		nf = (pci_cfg_read8(0, s, 0, 0x0e) & 0x80) ? 8 : 1;
		for (fu = 0; fu < nf && nfns < MAXFN; fu++) {
			if (pci_cfg_read16(0, s, fu, 0) == 0xffff)
				continue;
			f = &fns[nfns++];
			f->slot = s;
			f->func = fu;
			pci_cfg_write16(0, s, fu, PCIR_COMMAND, 0);
			for (i = 0; i < 6;)
				i = bar_probe(f, i);
			pci_cfg_write16(0, s, fu, PCIR_COMMAND, 0x0007);
			f->cmd = 0x0007;
			caps_probe(f);
			f->virtio = pci_cfg_read16(0, s, fu, 0) == 0x1af4;
			f->legacy = f->virtio && f->io[0] &&
			    pci_cfg_read16(0, s, fu, 2) < 0x1040;
			if (f->virtio)
				queues_probe(f);
		}
	}
	mmio_write32(LAPIC + 0xf0, 0x1ff);	/* SVR: on, spurious 0xff */
	guest_set_trap_hook(trap);
	return (0);
}

/* With "go": wait for a byte on COM1 (the runner's memory sample). */
static long
wait_go_k(long unused)
{
	uint64_t end = rdtsc() + khz * GO_MS;

	(void)unused;
	while ((inb(0x3fd) & 1) == 0)
		if (rdtsc() > end)
			return (-1);
	(void)inb(0x3f8);
	return (0);
}

static void
wait_go(void)
{
	if (arg_get("go") != NULL && guest_kcall(wait_go_k, 0) != 0)
		printf("chaos: no go byte after %u ms\n", GO_MS);
}

/* ---- virtqueues ---- */

/* A buffer address: mostly the buffer area, else past RAM, the hole,
 * above 4 GiB, or next to 2^64. */
static uint64_t
rnd_buf(void)
{
	switch (rndn(16)) {
	case 0: return (ram_end - rndn(4096));
	case 1: return (0xc0000000ULL + rndn(0x3fffffff));
	case 2: return (GIB4 + (rnd() & 0xffffffffffULL));
	case 3: return (~0ULL - rndn(8192));
	case 4: return (ram_end + rndn(0x10000000));
	default: return (buf_base + rndn((uint32_t)(ram_end - buf_base)));
	}
}

static uint32_t
rnd_len(void)
{
	switch (rndn(8)) {
	case 0: return (0);
	case 1: return ((uint32_t)rnd());
	case 2: return (0xffffffffu);
	case 3: return (rndn(1 << 20));
	default: return (1 + rndn(4096));
	}
}

static void
desc_garbage(struct virtq_desc *d, uint64_t slot, uint16_t n)
{
	uint32_t fl = rndn(8);

	if (rndn(32) == 0)
		fl |= (uint32_t)rnd() & 0xfff8;
	d->flags = (uint16_t)fl;
	d->next = rndn(4) == 0 ? (uint16_t)rnd() : (uint16_t)rndn(n + 1u);
	if (fl & VIRTQ_DESC_F_INDIRECT) {
		d->addr = rndn(8) == 0 ? rnd_buf() :
		    slot + ioff + 16 * rndn(256);
		d->len = rndn(4) == 0 ? rnd_len() : 16 * rndn(257);
	} else {
		d->addr = rnd_buf();
		d->len = rnd_len();
	}
}

/* A slot: descriptors [0, uoff), used ring [uoff, ioff), an indirect
 * table of 256 [ioff, +4096).  At first a chain through the whole table
 * that loops back, garbage everywhere else. */
static void
slot_init(uint64_t slot)
{
	struct virtq_desc *d = (struct virtq_desc *)(uintptr_t)slot;
	uint16_t *w = (uint16_t *)(uintptr_t)(slot + 16 * qmax_all);
	uint64_t i;

	for (i = 0; i < qmax_all; i++) {
		desc_garbage(&d[i], slot, (uint16_t)qmax_all);
		d[i].flags |= VIRTQ_DESC_F_NEXT;
		d[i].next = (uint16_t)((i + 1) % qmax_all);
	}
	d = (struct virtq_desc *)(uintptr_t)(slot + ioff);
	for (i = 0; i < 256; i++)
		desc_garbage(&d[i], slot, 256);
	for (i = 2; i < qmax_all + 3; i++)
		w[i] = (uint16_t)rnd();
	w[0] = w[1] = 0;			/* avail flags, idx */
	*(uint32_t *)(uintptr_t)(slot + uoff) = 0;	/* used flags, idx */
}

/* A few descriptors, avail entries and used fields changed. */
static void
slot_scribble(uint64_t slot, uint64_t avail, uint16_t n)
{
	struct virtq_desc *d = (struct virtq_desc *)(uintptr_t)slot;
	volatile uint16_t *a = (volatile uint16_t *)(uintptr_t)avail;
	unsigned i, k = 1 + rndn(6);

	for (i = 0; i < k; i++) {
		desc_garbage(&d[rndn(n)], slot, n);
		if (rndn(4) == 0)
			desc_garbage((struct virtq_desc *)(uintptr_t)(slot +
			    ioff) + rndn(256), slot, 256);
		a[2 + rndn(n)] = rndn(8) == 0 ? (uint16_t)rnd() :
		    (uint16_t)rndn(n);
	}
	a[0] = (uint16_t)rndn(4);			/* flags */
	/* Mostly a few new chains, so that the device walks them; now and
	 * then a start from scratch or garbage (more than n ahead: broken). */
	a[1] = rndn(16) == 0 ? (uint16_t)rnd() : rndn(4) == 0 ?
	    (uint16_t)rndn(4) : (uint16_t)(a[1] + 1 + rndn(3));
	if (rndn(8) == 0)
		*(volatile uint16_t *)(uintptr_t)(slot + uoff + 2) = 0;
}

/*
 * A well-formed chain at head 0 of n: a device-readable buffer, then one
 * or two device-writable ones, all in the buffer area; published.  With
 * a bring-up that a driver would do (the "sane" set-ups), it makes the
 * device complete requests and send interrupts, which garbage seldom
 * does.
 */
static void
slot_chain(uint64_t slot, uint64_t avail, uint16_t n)
{
	struct virtq_desc *d = (struct virtq_desc *)(uintptr_t)slot;
	volatile uint16_t *a = (volatile uint16_t *)(uintptr_t)avail;
	unsigned i, k = n < 3 ? n : 2 + rndn(2);

	for (i = 0; i < k; i++) {
		d[i].addr = buf_base + rndn((uint32_t)(ram_end - buf_base -
		    65536));
		d[i].len = i == 0 ? 16 : 1 + rndn(4096);
		d[i].flags = (uint16_t)((i + 1 < k ? VIRTQ_DESC_F_NEXT : 0) |
		    (i > 0 ? VIRTQ_DESC_F_WRITE : 0));
		d[i].next = (uint16_t)(i + 1);
	}
	a[0] = 0;
	a[2 + a[1] % n] = 0;
	a[1] = (uint16_t)(a[1] + 1);
}

static const uint8_t statuses[] = { 0, 1, 3, 0x0b, 0x0f, 0x07, 0x8f,
    0x40 };

static uint8_t
rnd_status(void)
{
	return (rndn(8) == 0 ? (uint8_t)rnd() :
	    statuses[rndn(sizeof(statuses))]);
}

static void
mem_write64(uint64_t a, uint64_t v, int qaddr)
{
	mem_write(a, 4, (uint32_t)v, qaddr);
	mem_write(a + 4, 4, v >> 32, qaddr);
}

/* The driver's side of §3.1.1 with random features, queue q on MSI-X
 * entry 0 (modern), then a well-formed chain and its notify. */
static void
vq_modern_sane(struct fn *f, unsigned q, uint64_t slot, uint64_t c)
{
	uint16_t n = q < f->nq ? f->qmax[q] : (uint16_t)qmax_all;

	mem_write(c + CC_STATUS, 1, 0, 0);
	mem_write(c + CC_STATUS, 1, 3, 0);
	mem_write(c + CC_GFSEL, 4, 0, 0);
	mem_write(c + CC_GF, 4, (uint32_t)rnd(), 0);
	mem_write(c + CC_GFSEL, 4, 1, 0);
	mem_write(c + CC_GF, 4, 1, 0);		/* VERSION_1 */
	mem_write(c + CC_STATUS, 1, 0x0b, 0);
	mem_write(c + CC_QSEL, 2, q, 0);
	mem_write(c + CC_QSIZE, 2, n, 0);
	mem_write64(c + CC_QDESC, slot, 1);
	mem_write64(c + CC_QDRIVER, slot + 16 * qmax_all, 0);
	mem_write64(c + CC_QDEVICE, slot + uoff, 1);
	mem_write(c + CC_QMSIX, 2, 0, 0);
	mem_write(c + CC_MSIX, 2, 0, 0);
	mem_write(c + CC_QENABLE, 2, 1, 0);
	mem_write(c + CC_STATUS, 1, 0x0f, 0);
	slot_chain(slot, slot + 16 * qmax_all, n);
	if (f->nbar >= 0 && q < f->nq)
		mem_write(bar_addr(f, (unsigned)f->nbar) + f->noff +
		    (uint64_t)f->qnoff[q] * f->nmult, 2, q, 0);
}

static void
vq_modern(struct fn *f, unsigned q, uint64_t slot)
{
	uint64_t c = bar_addr(f, (unsigned)f->cbar) + f->coff;
	uint64_t desc, avail, used;
	uint16_t max = q < f->nq ? f->qmax[q] : (uint16_t)qmax_all, size;

	if (rndn(4) == 0) {
		vq_modern_sane(f, q, slot, c);
		return;
	}
	mem_write(c + CC_QSEL, 2, q, 0);
	mem(R_MEM_R, c + CC_QSIZE, 2, 0);
	size = rndn(8) == 0 ? (uint16_t)rnd() : (uint16_t)(max >> rndn(4));
	if (rndn(4) == 0) {
		mem_write(c + CC_DFSEL, 4, rndn(3), 0);
		mem(R_MEM_R, c + CC_DFSEL + 4, 4, 0);
		mem_write(c + CC_GFSEL, 4, rndn(3), 0);
		mem_write(c + CC_GF, 4, (uint32_t)rnd(), 0);
	}
	mem_write(c + CC_QSIZE, 2, size, 0);
	if (rndn(4) == 0)
		mem_write(c + CC_QMSIX, 2, rndn(8) == 0 ? (uint16_t)rnd() :
		    rndn(f->msix_n + 1), 0);
	if (rndn(8) == 0)
		mem_write(c + CC_MSIX, 2, (uint16_t)rnd(), 0);
	desc = slot + 16 * (rndn(8) == 0 ? rndn(4) : 0);
	avail = rndn(8) == 0 ? rnd_buf() : slot + 16 * qmax_all;
	used = slot + uoff + (rndn(8) == 0 ? rndn(16) : 0);
	if (avail >= slot && avail < ram_end &&
	    ram_end - avail >= 2 * qmax_all + 6)
		slot_scribble(slot, avail, size != 0 && size <= max ?
		    size : max);
	mem_write64(c + CC_QDESC, desc, 1);
	mem_write64(c + CC_QDRIVER, avail, 0);
	mem_write64(c + CC_QDEVICE, used, 1);
	mem_write(c + CC_QENABLE, 2, rndn(8) == 0 ? (uint16_t)rnd() : 1, 0);
	if (rndn(2) == 0)
		mem_write(c + CC_STATUS, 1, rnd_status(), 0);
	if (f->nbar >= 0)
		mem_write(bar_addr(f, (unsigned)f->nbar) + f->noff +
		    (uint64_t)(q < f->nq ? f->qnoff[q] : rndn(8)) * f->nmult,
		    rndn(4) == 0 ? 4 : 2, rndn(4) == 0 ? (uint32_t)rnd() : q,
		    0);
}

static void
vq_legacy(struct fn *f, unsigned q, uint64_t slot)
{
	uint16_t io = (uint16_t)bar_addr(f, 0);
	uint16_t n = q < f->nq ? f->qmax[q] : (uint16_t)qmax_all;

	if (rndn(4) == 0) {
		/* A driver's bring-up (legacy §4.1.4.8, no FEATURES_OK):
		 * vectors at 0x14/0x16 once MSI-X is on, else device
		 * configuration. */
		pio_write((uint16_t)(io + VL_STATUS), 1, 0, 0);
		pio_write((uint16_t)(io + VL_STATUS), 1, 3, 0);
		pio_write((uint16_t)(io + VL_GF), 4, (uint32_t)rnd(), 0);
		pio_write((uint16_t)(io + VL_QSEL), 2, q, 0);
		pio_write((uint16_t)(io + 0x14), 2, 0, 0);
		pio_write((uint16_t)(io + 0x16), 2, 0, 0);
		pio_write((uint16_t)(io + VL_PFN), 4, (uint32_t)(slot >> 12),
		    1);
		pio_write((uint16_t)(io + VL_STATUS), 1, 7, 0);
		slot_chain(slot, slot + 16ULL * n, n);
		pio_write((uint16_t)(io + VL_NOTIFY), 2, q, 0);
		return;
	}
	pio_write((uint16_t)(io + VL_QSEL), 2, q, 0);
	pio(R_PIO_R, (uint16_t)(io + VL_QSIZE), 2, 0);
	if (rndn(4) == 0)
		pio_write((uint16_t)(io + VL_GF), 4, (uint32_t)rnd(), 0);
	slot_scribble(slot, slot + 16ULL * n, n);
	pio_write((uint16_t)(io + VL_PFN), 4, rndn(16) == 0 ? 0 :
	    (uint32_t)(slot >> 12), 1);
	if (rndn(2) == 0)
		pio_write((uint16_t)(io + VL_STATUS), 1, rnd_status(), 0);
	pio_write((uint16_t)(io + VL_NOTIFY), 2, rndn(8) == 0 ?
	    (uint16_t)rnd() : q, 0);
}

/*
 * BARs back where khyve put them, every decoder on: only what differs,
 * as each change of a BAR or of the command register costs khyve (and
 * KVM) a re-registration of every queue's notification (about a
 * millisecond each on nested KVM).
 */
static void
fn_restore(struct fn *f)
{
	unsigned i;

	for (i = 0; i < 6; i++) {
		if (f->size[i] == 0 ||
		    bar_addr(f, i) == bar_decode(f, f->orig, i))
			continue;
		cfg_write(f, PCIR_BAR(i), 4, f->orig[i]);
		if (f->is64[i])
			cfg_write(f, PCIR_BAR(i + 1), 4, f->orig[i + 1]);
	}
	if (f->cmd != 0x0007)
		cfg_write(f, PCIR_COMMAND, 2, 0x0007);
}

static void msi_plausible(struct fn *f);

static void
op_virtq(void)
{
	struct fn *f = &fns[rndn(nfns)];
	unsigned q;

	if (!f->virtio || f->nq == 0)
		return;
	if (rndn(4) != 0)
		fn_restore(f);
	if (rndn(4) == 0)
		msi_plausible(f);
	q = rndn(f->nq + 1);			/* and one past the last */
	if (f->cbar >= 0 && (!f->legacy || rndn(2) == 0)) {
		if (mem_safe(bar_addr(f, (unsigned)f->cbar) + f->coff, 0x40))
			vq_modern(f, q, f->qslot[q % f->nq]);
	} else if (f->legacy && bar_addr(f, 0) <= 0xffff - 0x20)
		vq_legacy(f, q, f->qslot[q % f->nq]);
}

/* ---- the other kinds of access ---- */

static const unsigned sizes[] = { 1, 2, 4 };

static void
op_port(void)
{
	uint64_t i = sweep < SWEEP ? sweep++ : rndn(SWEEP);
	uint16_t port = (uint16_t)i;
	unsigned size = sizes[(i >> 16) % 3];

	if ((i >> 16) < 3 || (port >= 0xcfc && port <= 0xcff))
		pio(R_PIO_R, port, size, 0);
	else
		pio_write(port, size, rnd(), 0);
}

static void
op_string(void)
{
	uint16_t port = (uint16_t)rnd();
	unsigned size = sizes[rndn(3)], out = rndn(2);
	uint64_t n = rndn(8) == 0 ? 1 + rndn(4096) : 1 + rndn(64), v = 0;

	/* outs sends what the buffer area holds: only to ports whose
	 * writes write_ok() takes whatever the value. */
	if (out && (port == 0x64 || port == 0x404 || port == 0x405 ||
	    port == 0xcf9 || !write_ok(1, port, size, &v, 0)))
		return;
	(void)rec_add(out ? R_OUTS : R_INS, size, port, buf_base +
	    rndn((uint32_t)(ram_end - buf_base - 16384)), n);
}

/*
 * A plausible MSI-X entry (Intel SDM vol. 3A §11.11.1: address 0xFEEx_xxxx
 * with destination APIC ID 0 or 1, random data, mostly unmasked), one
 * past the table now and then, and MSI-X or MSI switched on: the random
 * scribbles alone seldom make a message that reaches a CPU.
 */
static void
msi_plausible(struct fn *f)
{
	uint64_t e;

	if (f->msix != 0 && rndn(4) != 0) {
		e = bar_addr(f, f->msix_bir) + f->msix_off +
		    16ULL * rndn(f->msix_n + 1);
		if (f->io[f->msix_bir] || !mem_safe(e, 16))
			return;
		mem_write(e, 4, 0xfee00000u | rndn(2) << 12 | (rnd() & 0xc), 0);
		mem_write(e + 4, 4, rndn(8) == 0 ? rnd() : 0, 0);
		mem_write(e + 8, 4, rnd(), 0);
		mem_write(e + 12, 4, rndn(4) == 0, 0);
		if (rndn(8) == 0)
			cfg_write(f, f->msix + 2, 2, 0x8000 | rndn(2) << 14);
	} else if (f->msi != 0) {
		cfg_write(f, f->msi + 4, 4, 0xfee00000u | rndn(2) << 12);
		cfg_write(f, f->msi_data, 2, rnd());
		cfg_write(f, f->msi + 2, 2, rndn(4) != 0);
	}
}

static void
op_bar(void)
{
	struct fn *f = &fns[rndn(nfns)];
	unsigned i = rndn(6), size = rndn(16) == 0 ? 8 : sizes[rndn(3)];
	uint64_t off, a, bs = f->size[i];

	if (bs == 0)
		return;
	if (rndn(8) == 0) {
		msi_plausible(f);
		return;
	}
	off = rndn(8) == 0 ? rndn((uint32_t)(bs < 65536 ? bs + 8 : 65536)) :
	    rndn((uint32_t)(bs < 4096 ? bs : 4096));
	a = bar_addr(f, i) + (off & ~(uint64_t)(size - 1));
	if (f->io[i]) {
		if (a > 0xffff || size == 8)
			return;
		if (rndn(2) == 0)
			pio(R_PIO_R, (uint16_t)a, size, 0);
		else
			pio_write((uint16_t)a, size, rnd(), 0);
	} else if (mem_safe(a, size)) {
		if (rndn(2) == 0)
			mem(R_MEM_R, a, size, 0);
		else
			mem_write(a, size, rnd(), 0);
	}
}

static void
op_hole(void)
{
	uint64_t a = rndn(4) == 0 ? ram_end + rndn((uint32_t)(GIB4 - ram_end)) :
	    0xc0000000ULL + rndn(0x40000000);
	unsigned size = sizes[rndn(3)];

	a &= ~(uint64_t)(size - 1);
	if (rndn(2) == 0)
		mem(R_MEM_R, a, size, 0);
	else
		mem_write(a, size, rnd(), 0);
}

/* A BAR moved onto the buffer area, onto another BAR, above 4 GiB,
 * anywhere, or home. */
static void
bar_move(struct fn *f, unsigned i)
{
	const struct fn *o = &fns[rndn(nfns)];
	unsigned j = rndn(6);
	uint64_t to;

	switch (rndn(5)) {
	case 0:
		to = buf_base + rndn((uint32_t)(ram_end - buf_base));
		break;
	case 1:
		to = o->size[j] != 0 ? bar_addr(o, j) : rnd();
		break;
	case 2:
		to = (uint64_t)(1 + rndn(255)) << 32 | f->orig[i];
		break;
	case 3:
		to = rnd();
		break;
	default:
		to = f->orig[i] | (f->is64[i] ? (uint64_t)f->orig[i + 1] << 32 :
		    0);
		break;
	}
	cfg_write(f, PCIR_BAR(i), 4, (uint32_t)to);
	if (f->is64[i])
		cfg_write(f, PCIR_BAR(i + 1), 4, to >> 32);
}

static void
op_config(int via_ecam)
{
	struct fn *f = &fns[rndn(nfns)];
	unsigned size = sizes[rndn(3)], reg, i;
	uint64_t a;
	int write;

	switch (rndn(256)) {
	case 0:
		i = rndn(6);
		if (f->size[i] != 0)
			bar_move(f, i);
		return;
	case 1:
		cfg_write(f, PCIR_COMMAND, 2, rnd() & 0x0547);
		return;
	case 2:
	case 3:
	case 4:
	case 5:
		reg = f->msix != 0 && rndn(2) == 0 ? f->msix + rndn(12) :
		    f->msi != 0 ? f->msi + rndn(16) :
		    f->wincap != 0 ? f->wincap + rndn(20) : rndn(256);
		break;
	case 6:
		fn_restore(f);
		return;
	default:
		reg = rndn(via_ecam ? 4096 : 256);
		break;
	}
	reg &= ~(size - 1);
	/* The command register and the BARs change in the rare cases
	 * above (dear ones); elsewhere they are read. */
	write = rndn(2) == 0 && (reg + size <= PCIR_COMMAND ||
	    (reg >= PCIR_COMMAND + 2 && reg + size <= PCIR_BAR(0)) ||
	    reg >= PCIR_BAR(6));
	if (via_ecam && ecam != 0) {
		a = ecam + ((uint64_t)(f->slot << 3 | f->func) << 12) + reg;
		if (write)
			mem_write(a, size, rnd(), 0);
		else
			mem(R_MEM_R, a, size, 0);
	} else if (rndn(16) == 0) {
		/* A random address latch: absent buses, functions and
		 * registers, or the enable bit clear. */
		pio(R_PIO_W, 0xcf8, 4, (uint32_t)rnd());
		pio(R_PIO_R, (uint16_t)(0xcfc + (reg & 3)), size, 0);
	} else if (write)
		cfg_write(f, reg, size, rnd());
	else
		cfg(R_CFG_R, f, reg, size, 0);
}

static void op_cfg(void) { op_config(0); }
static void op_ecam(void) { op_config(1); }

/*
 * The kinds of access and their shares (in 1/10000, from "from").  BAR
 * moves and command toggles (in cfg and ecam) are rare: each costs
 * khyve and KVM about a millisecond per queue of the function.
 */
static const struct {
	const char	*name;
	unsigned	from;
	void		(*op)(void);
} kinds[] = {
	{ "port", 0, op_port },
	{ "string", 6000, op_string },
	{ "bar", 6020, op_bar },
	{ "hole", 7800, op_hole },
	{ "cfg", 8600, op_cfg },
	{ "ecam", 9300, op_ecam },
	{ "virtq", 9600, op_virtq },
	{ NULL, 10000, NULL },
};

/* "only=KIND": draw that kind alone (to measure it); -1: the mix. */
static int
kind_index(const char *name)
{
	int i;

	for (i = 0; kinds[i].name != NULL; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return (i);
	return (-1);
}

int
guest_main_user(void)
{
	uint64_t seed = arg_get_u64("seed", 1), t0, sp = 0;
	unsigned i, q, r;
	int only;
	struct fn *f;

	limit = arg_get_u64("n", 1000000);
	printf("chaos: seed=%llu n=%llu\n", (unsigned long long)seed,
	    (unsigned long long)limit);
	rs = seed * 0x9e3779b97f4a7c15ULL + 1;
	guest_kcall(init_k, 0);
	for (i = 0; i < nfns; i++)
		nslots += fns[i].nq;
	/* The legacy layout for the largest queue (§2.7.2), then 256
	 * indirect descriptors. */
	uoff = (16 * qmax_all + 6 + 2 * qmax_all + 4095) & ~4095ULL;
	ioff = uoff + ((6 + 8 * qmax_all + 16 + 4095) & ~4095ULL);
	slot_size = ioff + 4096;
	buf_base = (RING_BASE + slot_size * nslots + (2 << 20)) & ~0xfffffULL;
	if (ram_end < buf_base + (16 << 20)) {
		printf("chaos: RAM ends at 0x%llx: %llu queue slots of %llu "
		    "bytes need more\n", (unsigned long long)ram_end,
		    (unsigned long long)nslots,
		    (unsigned long long)slot_size);
		return (2);
	}
	for (i = 0; i < nfns; i++) {
		f = &fns[i];
		for (q = 0; q < f->nq; q++) {
			f->qslot[q] = RING_BASE + slot_size * sp++;
			slot_init(f->qslot[q]);
		}
		printf("chaos: 0:%u.%u%s%s%s%s queues %u\n", f->slot, f->func,
		    f->virtio ? " virtio" : "", f->cbar >= 0 ? " modern" : "",
		    f->legacy ? " legacy" : "", f->msix ? " msix" : "", f->nq);
	}
	printf("chaos: RAM to 0x%llx, buffers from 0x%llx, ECAM 0x%llx\n",
	    (unsigned long long)ram_end, (unsigned long long)buf_base,
	    (unsigned long long)ecam);
	prot_build();
	printf("chaos: start\n");
	wait_go();
	t0 = rdtsc();
	only = arg_get("only") != NULL ? kind_index(arg_get("only")) : -1;
	while (done < limit) {
		r = only >= 0 ? kinds[only].from : rndn(10000);
		for (i = 0; r >= kinds[i + 1].from; i++)
			;
		kinds[i].op();
	}
	flush();
	printf("chaos: port sweep %llu of %u, %lu NMIs, %lu interrupts, "
	    "%llu BAR surprises, %llu ms\n", (unsigned long long)sweep, SWEEP,
	    nmis, irqs, (unsigned long long)surprises,
	    (unsigned long long)((rdtsc() - t0) / (khz != 0 ? khz : 1)));
	printf("chaos: done accesses=%llu\n", (unsigned long long)done);
	wait_go();
	return (0);
}
