/*
 * fuzz_virtio_pci.c: the virtio PCI transport (modern common, ISR,
 * device and notify structures, the PCI configuration access window, the
 * legacy I/O BAR) with virtio-rnd (0:5.0) and virtio-blk (0:6.0, on a
 * small image made once per process) behind it, driven by a random guest:
 * accesses of every size at every offset of BARs 0, 1 (MSI-X) and 4,
 * configuration writes (BAR moves and sizing, decode and INTx disable,
 * MSI and MSI-X control), status writes and resets at any moment, queues
 * of any size at any address (in RAM or not), ring contents, virtio-blk
 * requests, and notifies through the ioeventfds and through the
 * registers.  The devices are created and destroyed per input.
 *
 * The devices' workers run on their own threads.  After every step the
 * target waits (50 ms at most) until no queue eventfd is pending, no
 * chain is in flight and no worker holds its lock; a step that times
 * out marks the input racy and the RAM and ISR checks are skipped.
 *
 * Checked: no crash or undefined behaviour (ASan, UBSan); after every
 * step each device's status has only bits the driver wrote since its
 * last reset plus NEEDS_RESET, and reads 0 right after a reset; at the
 * end each I/O APIC pin is the OR of the functions driving it and a
 * function drives INTx only with its ISR set; every byte of guest RAM
 * the devices changed lies in a used ring or a device-writable buffer
 * of a queue that was live (a shadow of what the driver wrote, and a
 * map of what it offered, taken whenever the devices could run; not
 * when a writable buffer overlapped a descriptor table, as the devices
 * then follow descriptors they wrote themselves); and the process has
 * the fds it had before, and no more threads once the kernel's
 * io_uring workers have gone; after every step a vector is pending in
 * the MSI-X PBA only while MSI-X is off or the function or the vector is
 * masked (an unmask delivers it, PCI 3.0 §6.8.2.9), and no bit past the
 * table is set.
 *
 * The input: two configuration bytes, then steps (op byte, operands).
 *	c0: bits 0-1, 2-3 rnd, blk transport (transitional, modern,
 *	    legacy, transitional); 4 MSI instead of MSI-X; 5 thread engine
 *	    (else io_uring); 6 read-only disk; 7 two blk queues
 *	c1: bits 0-1 blk queue_size 16, 4, 64, 256; 2 nodelete;
 *	    3 sectorsize=4096
 * Each step is an op byte, an argument byte a (a & 3: access size 1, 2,
 * 4, 8) and more operands; op bit 7 picks virtio-blk, else virtio-rnd.
 *	0, 1	BAR 0, 1 or 4 ((a >> 2) % 3) write (a & 0x80: through the
 *		ioeventfds) or read, at any offset up to 8 past the end
 *		(a & 0x40: in the first 128 bytes of one of the first pages)
 *	2, 3	configuration write or read, any offset
 *	4	BAR (a >> 2) % 6 moved: to RAM or elsewhere, onto the other
 *		device's BAR, sized (all-ones), or a raw value
 *	5	command register: decode enables, bus master, INTx disable
 *	6	MSI-X control (a & 4), or program one table entry
 *	7	MSI address, data and control
 *	8	driver start: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK
 *		(and DRIVER_OK), modern or legacy registers
 *	9	status write: modern, legacy, or through the PCI cfg window
 *	10	queue set-up: size, addresses (RAM or not), vector, enable,
 *		or a legacy PFN
 *	11, 12	a descriptor in queue q's table, or anywhere in RAM
 *	13	make a head available (n times), or avail flags / used_event
 *	14	raw bytes anywhere in RAM
 *	15	a virtio-blk request built from parts, posted and notified
 *	16	notify: modern or legacy, by ioeventfd or by register
 *	17	notify, then reset at once (a request in flight)
 *	18, 19	ISR read; device configuration read or write
 *	20	the PCI configuration access window: any BAR, offset, length
 *	21	collect the MSI-X irqfds
 *	22	the MSI-X PBA: a read (a & 4: a write) anywhere in it
 * With FUZZ_VIRTIO_TRACE set in the environment the target prints each
 * step, RAM the devices changed where they should not have, and what
 * each queue did (to check a seed does what it was made for).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "arch/x86/layout.h"
#include "config.h"
#include "fake.h"
#include "pci/pci_emul.h"
#include "virtio/virtio.h"
#include "virtio/virtio_blk_req.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct pci_devemu pci_de_vrnd, pci_de_vblk;

#define RAMSZ		(128 * 1024)
#define DISKSZ		(64 * 1024)
#define NDEV		2
#define WAIT_NS		(50 * 1000000LL)
#define MAXSTEPS	512

#define FAIL(...) do {							\
	fprintf(stderr, "fuzz_virtio_pci: " __VA_ARGS__);		\
	fprintf(stderr, "\n");						\
	abort();							\
} while (0)

struct fdev {
	int		slot;
	struct pci_devinst *pi;
	struct virtio_softc *vs;
	bool		modern, legacy;	/* register sets it has */
	uint8_t		st_written;	/* status bits written since reset */
};

static struct {
	const uint8_t	*p, *end;
	struct fake_vm	fv;
	struct fdev	d[NDEV];
	uint8_t		shadow[RAMSZ];	/* guest RAM as the driver wrote it */
	uint8_t		allowed[RAMSZ];	/* 1: the devices may write it */
	uint8_t		meta[RAMSZ];	/* 1: a descriptor table */
	bool		dirty;		/* the driver wrote RAM */
	uint64_t	qkey[NDEV][VIRTIO_MAX_QUEUES][3]; /* queues seen last */
	bool		racy;		/* a wait timed out */
	bool		trace;		/* FUZZ_VIRTIO_TRACE set */
} F;

static int img_fd = -1;
static char img_path[64];
static int base_fds = -1, base_threads = -1;

static const struct pci_windows win = {
	.io_base = IO_PCI_IOBASE, .io_limit = IO_PCI_IOLIMIT,
	.mem32_base = PCI_MMIO32_BASE, .mem32_limit = PCI_MMIO32_LIMIT,
	.mem64_base = 32 * GiB, .mem64_limit = 64 * GiB,
};

/* ---- input ---- */

static unsigned
get8(void)
{
	return (F.p < F.end ? *F.p++ : 0);
}

static unsigned
get16(void)
{
	unsigned v = get8();

	return (v | get8() << 8);
}

static uint32_t
get32(void)
{
	uint32_t v = get16();

	return (v | (uint32_t)get16() << 16);
}

static uint64_t
get64(void)
{
	uint64_t v = get32();

	return (v | (uint64_t)get32() << 32);
}

/* An address a guest would give: in RAM (aligned to align), anywhere. */
static uint64_t
get_addr(uint64_t align)
{
	unsigned mode = get8();
	uint64_t v = (mode & 0x80) ? get32() : get16();

	switch (mode & 7) {
	case 0:
	case 1:
		return (v * align % RAMSZ);
	case 2:
		return (v % RAMSZ);			/* misaligned */
	case 3:
		return (RAMSZ - v % 64);		/* across the end */
	case 4:
		return (RAMSZ + v);			/* past RAM */
	case 5:
		return (PCI_MMIO32_BASE + v % 0x100000);	/* onto BARs */
	case 6:
		return (UINT64_MAX - v % 0x1000);	/* wrapping */
	default:
		return (get64());
	}
}

/* ---- the machine ---- */

static int
count_dir(const char *path)
{
	struct dirent *e;
	DIR *dir = opendir(path);
	int n = 0;

	if (dir == NULL)
		FAIL("%s: %s", path, strerror(errno));
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return (n);
}

static void
ram_write(uint64_t off, const void *buf, size_t n)
{
	if (off >= RAMSZ)
		return;
	if (n > RAMSZ - off)
		n = RAMSZ - off;
	memcpy(F.fv.ram + off, buf, n);
	memcpy(F.shadow + off, buf, n);
	F.dirty = true;
}

static void
ram_put(uint64_t off, uint64_t v, size_t n)
{
	uint8_t b[8];
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	ram_write(off, b, n);
}

static uint64_t
ram_get(uint64_t off, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n && off + i < RAMSZ; i++)
		v |= (uint64_t)__atomic_load_n(&F.fv.ram[off + i],
		    __ATOMIC_RELAXED) << (8 * i);
	return (v);
}

static void
mark(uint8_t *map, uint64_t gpa, uint64_t len)
{
	if (gpa >= RAMSZ || len == 0)
		return;
	memset(map + gpa, 1, len > RAMSZ - gpa ? RAMSZ - gpa : len);
}

/* One descriptor at gpa: its buffer may be written if WRITE is set. */
static void
allow_desc(uint64_t gpa, bool indirect_ok)
{
	uint64_t addr = ram_get(gpa, 8), tab, n, i;
	uint32_t len = (uint32_t)ram_get(gpa + 8, 4);
	uint16_t flags = (uint16_t)ram_get(gpa + 12, 2);

	if (gpa + 16 > RAMSZ)
		return;
	if ((flags & VIRTQ_DESC_F_INDIRECT) && indirect_ok) {
		tab = addr;
		n = len / 16 > VQ_INDIRECT_MAX ? VQ_INDIRECT_MAX : len / 16;
		mark(F.meta, tab, 16 * n);
		for (i = 0; i < n && tab < RAMSZ && tab + 16 * i < RAMSZ; i++)
			allow_desc(tab + 16 * i, false);
	} else if (flags & VIRTQ_DESC_F_WRITE)
		mark(F.allowed, addr, len);
}

/*
 * What the devices may write when they run from the current RAM and
 * queue state: each live queue's used ring and every buffer its tables
 * mark device-writable (a superset of the chains it can take).  Taken
 * before every register write (which may start a worker) and after
 * every step, for the queues that changed or all when the driver wrote
 * RAM.
 */
static void
snapshot_allowed(void)
{
	const struct vqueue *vq;
	struct fdev *d;
	uint64_t key[3];
	int i, q;

	for (i = 0; i < NDEV; i++) {
		d = &F.d[i];
		pthread_mutex_lock(&d->vs->vs_mtx);
		for (q = 0; q < d->vs->vs_nqueues; q++) {
			vq = &d->vs->vs_queues[q].vq;
			key[0] = vq->vq_ready;
			key[1] = vq->vq_desc_gpa | (uint64_t)vq->vq_size << 48;
			key[2] = vq->vq_used_gpa;
			if (!F.dirty && memcmp(key, F.qkey[i][q], sizeof(key)) == 0)
				continue;
			memcpy(F.qkey[i][q], key, sizeof(key));
			if (!vq->vq_ready)
				continue;
			mark(F.allowed, vq->vq_used_gpa, 6 + 8ULL * vq->vq_size);
			mark(F.meta, vq->vq_desc_gpa, 16ULL * vq->vq_size);
			for (unsigned k = 0; k < vq->vq_size; k++)
				allow_desc(vq->vq_desc_gpa + 16ULL * k, true);
		}
		pthread_mutex_unlock(&d->vs->vs_mtx);
	}
	F.dirty = false;
}

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

/* Work pending for a worker: a queue eventfd set or a chain in flight. */
static bool
busy(void)
{
	struct pollfd pfd[NDEV * VIRTIO_MAX_QUEUES];
	unsigned n = 0, i;
	int q;
	bool b = false;

	for (i = 0; i < NDEV; i++)
		for (q = 0; q < F.d[i].vs->vs_nqueues; q++) {
			pfd[n].fd = F.d[i].vs->vs_queues[q].kickfd;
			pfd[n].events = POLLIN;
			n++;
		}
	if (poll(pfd, n, 0) > 0)
		return (true);
	for (i = 0; i < NDEV && !b; i++) {
		pthread_mutex_lock(&F.d[i].vs->vs_mtx);
		for (q = 0; q < F.d[i].vs->vs_nqueues; q++)
			if (F.d[i].vs->vs_queues[q].vq.vq_inflight > 0)
				b = true;
		pthread_mutex_unlock(&F.d[i].vs->vs_mtx);
	}
	return (b);
}

/*
 * Let the workers finish what the last step gave them.  Taking each
 * worker's lock twice when nothing looks pending closes the gap between
 * a worker reading its eventfd and locking.
 */
static void
wait_idle(void)
{
	struct timespec ts = { 0, 20000 };
	long long end;

	snapshot_allowed();
	if (!busy() && !busy())
		return;
	end = now_ns() + WAIT_NS;
	while (busy() || busy()) {
		if (now_ns() > end) {
			F.racy = true;
			return;
		}
		nanosleep(&ts, NULL);
	}
}

/* ---- registers ---- */

static uint64_t
bar_base(struct fdev *d, int idx)
{
	return (d->pi->pi_bar[idx].addr);
}

/* A write to bus address addr hits d's status register (size 1). */
static bool
status_hit(struct fdev *d, enum io_space sp, uint64_t addr, unsigned size)
{
	const struct pcibar *b;

	if (size != 1)
		return (false);
	b = &d->pi->pi_bar[4];
	if (d->modern && sp == IO_MMIO && b->decoding &&
	    addr == b->addr + 0x14)
		return (true);
	b = &d->pi->pi_bar[0];
	return (d->legacy && sp == IO_PIO && b->decoding &&
	    addr == b->addr + 0x12);
}

static void
status_wrote(struct fdev *d, uint8_t v)
{
	uint8_t s;

	if (v != 0) {
		d->st_written |= v;
		return;
	}
	d->st_written = 0;
	pthread_mutex_lock(&d->vs->vs_mtx);
	s = d->vs->vs_status;
	pthread_mutex_unlock(&d->vs->vs_mtx);
	if (s != 0)
		FAIL("%s: status %#x right after a reset", d->pi->pi_name, s);
}

/* A guest write: through the ioeventfds (as KVM) or straight to the bus. */
static void
bus_write(enum io_space sp, uint64_t addr, unsigned size, uint64_t val,
    bool ioev)
{
	bool hit[NDEV];
	int i;

	snapshot_allowed();
	for (i = 0; i < NDEV; i++)
		hit[i] = status_hit(&F.d[i], sp, addr, size);
	if (ioev)
		(void)fake_guest_write(&F.fv, sp, addr, size, val);
	else
		(void)io_dispatch(&F.fv.bus, sp, IO_WRITE, addr, size, &val);
	for (i = 0; i < NDEV; i++)
		if (hit[i])
			status_wrote(&F.d[i], (uint8_t)val);
}

static uint64_t
bus_read(enum io_space sp, uint64_t addr, unsigned size)
{
	uint64_t v = 0;

	(void)io_dispatch(&F.fv.bus, sp, IO_READ, addr, size, &v);
	return (v);
}

static void
mwr(struct fdev *d, uint64_t off, unsigned size, uint64_t val)
{
	bus_write(IO_MMIO, bar_base(d, 4) + off, size, val, false);
}

static void
pwr(struct fdev *d, uint64_t off, unsigned size, uint64_t val)
{
	bus_write(IO_PIO, bar_base(d, 0) + off, size, val, false);
}

/* The VIRTIO_PCI_CAP_PCI_CFG capability's offset, or -1. */
static int
pcicap(struct fdev *d)
{
	int i;

	for (i = 0; i < d->pi->pi_ncaps; i++)
		if (d->pi->pi_cap[i].pc_id == PCIY_VENDOR &&
		    d->pi->pi_cfgspace[d->pi->pi_cap[i].pc_off + 3] == 5)
			return (d->pi->pi_cap[i].pc_off);
	return (-1);
}

static void
cfg_write(struct fdev *d, int off, int bytes, uint32_t val)
{
	int cap = pcicap(d);
	const uint8_t *cs = d->pi->pi_cfgspace;
	bool st = false;
	uint32_t boff = 0, blen = 0;

	if (cap >= 0 && bytes == 4 && off == cap + 16 && cs[cap + 4] == 4) {
		memcpy(&boff, cs + cap + 8, 4);
		memcpy(&blen, cs + cap + 12, 4);
		st = boff == 0x14 && blen == 1;
	}
	snapshot_allowed();
	pci_cfg_write(0, d->slot, 0, off, bytes, val);
	if (st)
		status_wrote(d, (uint8_t)val);
}

static void
set_status(struct fdev *d, bool legacy, uint8_t v)
{
	if (legacy)
		pwr(d, 0x12, 1, v);
	else
		mwr(d, 0x14, 1, v);
}

static void
enable_decode(struct fdev *d)
{
	cfg_write(d, PCIR_COMMAND, 2, PCIM_CMD_PORTEN | PCIM_CMD_MEMEN |
	    PCIM_CMD_BUSMASTEREN);
}

/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK (DRIVER_OK). */
static void
op_init(struct fdev *d, unsigned fl)
{
	bool legacy = d->legacy && (!d->modern || (fl & 1));
	uint64_t want = get32() | (uint64_t)get8() << 32, feat;

	enable_decode(d);
	set_status(d, legacy, 0);
	set_status(d, legacy, 1);
	set_status(d, legacy, 3);
	if (legacy)
		pwr(d, 0x04, 4, (uint32_t)(d->vs->vs_features & want));
	else {
		feat = (d->vs->vs_features & want) | VIRTIO_F_VERSION_1;
		if (fl & 2)
			feat = want;			/* maybe not offered */
		mwr(d, 0x08, 4, 0);
		mwr(d, 0x0c, 4, (uint32_t)feat);
		mwr(d, 0x08, 4, 1);
		mwr(d, 0x0c, 4, feat >> 32);
		set_status(d, false, 0x0b);
	}
	if (fl & 4)
		set_status(d, legacy, legacy ? 0x07 : 0x0f);
}

/* Queue set-up through the modern or the legacy registers. */
static void
op_queue(struct fdev *d, unsigned fl)
{
	unsigned q = get8() % (unsigned)(d->vs->vs_nqueues + 1);
	bool legacy = d->legacy && (!d->modern || (fl & 1));
	uint16_t size, vec = (fl & 2) ? (uint16_t)get8() : 0xffff;
	uint64_t desc, avail, used;

	switch ((fl >> 2) & 3) {
	case 0:
		size = d->vs->vs_qsize_max;
		break;
	case 1:
		size = (uint16_t)(1u << (get8() % 11));
		break;
	default:
		size = (uint16_t)get16();
		break;
	}
	if (fl & 0x10) {
		/* The legacy layout from a page in RAM: likely valid. */
		desc = (uint64_t)(get8() % (RAMSZ / 4096)) * 4096;
		avail = desc + 16ULL * size;
		used = (avail + 6 + 2ULL * size + 4095) & ~4095ULL;
	} else {
		desc = get_addr(16);
		avail = get_addr(2);
		used = get_addr(4);
	}
	if (legacy) {
		pwr(d, 0x0e, 2, q);
		if (d->vs->vs_use_msix)
			pwr(d, 0x16, 2, vec);
		pwr(d, 0x08, 4, (fl & 0x20) ? get32() : desc >> 12);
		return;
	}
	mwr(d, 0x16, 2, q);
	mwr(d, 0x18, 2, size);
	mwr(d, 0x1a, 2, vec);
	if (fl & 0x40) {
		mwr(d, 0x20, 8, desc);
		mwr(d, 0x28, 8, avail);
		mwr(d, 0x30, 8, used);
	} else {
		mwr(d, 0x20, 4, (uint32_t)desc);
		mwr(d, 0x24, 4, desc >> 32);
		mwr(d, 0x28, 4, (uint32_t)avail);
		mwr(d, 0x2c, 4, avail >> 32);
		mwr(d, 0x30, 4, (uint32_t)used);
		mwr(d, 0x34, 4, used >> 32);
	}
	if (!(fl & 0x80))
		mwr(d, 0x1c, 2, 1);
}

/* The queue's areas as the driver gave them (0 size: none). */
static void
queue_areas(struct fdev *d, unsigned q, uint64_t *desc, uint64_t *avail,
    uint16_t *size)
{
	const struct virtio_queue *vq = &d->vs->vs_queues[q];

	*desc = vq->desc;
	*avail = vq->avail;
	*size = vq->size;
	if (*size == 0 || (*size & (*size - 1)) != 0)
		*size = 0;
}

static void
put_desc(uint64_t gpa, uint64_t addr, uint32_t len, uint16_t flags,
    uint16_t next)
{
	ram_put(gpa, addr, 8);
	ram_put(gpa + 8, len, 4);
	ram_put(gpa + 12, flags, 2);
	ram_put(gpa + 14, next, 2);
}

static uint32_t
get_len(void)
{
	unsigned m = get8();

	switch (m & 3) {
	case 0:
		return (m >> 2);
	case 1:
		return (get16());
	case 2:
		return (512u << (m >> 2) % 4);
	default:
		return (get32());
	}
}

/* Make head available on queue q (count times), notify optional. */
static void
post(struct fdev *d, unsigned q, uint16_t head, unsigned count)
{
	uint64_t desc, avail;
	uint16_t size, idx;

	queue_areas(d, q, &desc, &avail, &size);
	if (size == 0)
		return;
	idx = (uint16_t)ram_get(avail + 2, 2);
	while (count-- > 0) {
		ram_put(avail + 4 + 2ULL * (idx & (size - 1)), head, 2);
		idx++;
	}
	ram_put(avail + 2, idx, 2);
}

/* Notify queue q: by ioeventfd (modern or legacy) or by the register. */
static void
notify(struct fdev *d, unsigned q, unsigned how)
{
	switch (how & 3) {
	case 0:
		bus_write(IO_MMIO, bar_base(d, 4) + 0x3000 + 4ULL * q, 2, q,
		    true);
		break;
	case 1:
		bus_write(IO_PIO, bar_base(d, 0) + 0x10, 2, q, true);
		break;
	case 2:
		/* No ioeventfd: the register, as a vCPU exit would. */
		bus_write(IO_MMIO, bar_base(d, 4) + 0x3000 + 4ULL * q, 2, q,
		    false);
		break;
	default:
		bus_write(IO_PIO, bar_base(d, 0) + 0x10, 2, q, false);
		break;
	}
}

/*
 * A virtio-blk request: header (maybe split), data (maybe in two),
 * status, as a direct chain from head or in an indirect table.
 */
struct chunk {
	uint64_t	a;
	uint32_t	l;
	uint16_t	f;
};

static void
op_blkreq(struct fdev *d, unsigned fl)
{
	static const uint32_t types[] = { VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT,
	    VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD,
	    VIRTIO_BLK_T_WRITE_ZEROES, VIRTIO_BLK_T_IN, 0x7fffffff };
	unsigned q = get8() % (unsigned)d->vs->vs_nqueues, n = 0;
	uint32_t type = types[get8() % 8], dlen = get_len(), split;
	uint64_t sector = (fl & 0x80) ? get64() : get8(), hdr, buf, sts, tab;
	uint64_t desc, avail, seg[2];
	uint16_t size, head, dflag;
	unsigned i;
	struct chunk c[6];

	queue_areas(d, q, &desc, &avail, &size);
	if (size == 0)
		return;
	head = (uint16_t)(get8() % size);
	hdr = get16() % RAMSZ & ~15ULL;
	buf = get16() % RAMSZ;
	sts = get16() % RAMSZ;
	ram_put(hdr, type, 4);
	ram_put(hdr + 4, 0, 4);
	ram_put(hdr + 8, sector, 8);
	if (type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES) {
		seg[0] = get8();
		seg[1] = get8() | (uint64_t)(get8() & 3) << 32;
		ram_write(buf, seg, 16);
		dlen = 16;
	}
	dflag = (type == VIRTIO_BLK_T_OUT || type == VIRTIO_BLK_T_DISCARD ||
	    type == VIRTIO_BLK_T_WRITE_ZEROES) ? 0 : VIRTQ_DESC_F_WRITE;
	if (fl & 1) {				/* header in two */
		split = 1 + get8() % 15;
		c[n++] = (struct chunk){ hdr, split, 0 };
		c[n++] = (struct chunk){ hdr + split, 16 - split, 0 };
	} else
		c[n++] = (struct chunk){ hdr, 16, 0 };
	if (dlen != 0 && (fl & 2)) {		/* data in two */
		split = dlen / 2;
		c[n++] = (struct chunk){ buf, split, dflag };
		c[n++] = (struct chunk){ buf + split, dlen - split, dflag };
	} else if (dlen != 0)
		c[n++] = (struct chunk){ buf, dlen, dflag };
	if (!(fl & 4))				/* (no status byte) */
		c[n++] = (struct chunk){ sts, 1, VIRTQ_DESC_F_WRITE };
	if (fl & 8) {
		tab = get16() % RAMSZ & ~15ULL;
		for (i = 0; i < n; i++)
			put_desc(tab + 16ULL * i, c[i].a, c[i].l, c[i].f |
			    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0), i + 1);
		put_desc(desc + 16ULL * head, tab, 16 * n,
		    VIRTQ_DESC_F_INDIRECT, 0);
	} else {
		for (i = 0; i < n; i++)
			put_desc(desc + 16ULL * ((head + i) & (size - 1)),
			    c[i].a, c[i].l, c[i].f | (i + 1 < n ?
			    VIRTQ_DESC_F_NEXT : 0), (head + i + 1) & (size - 1));
	}
	post(d, q, head, 1);
	if (!(fl & 0x10))
		notify(d, q, fl >> 5);
}

/* ---- set-up and checks ---- */

static void
make_image(void)
{
	char tmpl[] = "/tmp/khyve-fuzz-vblk-XXXXXX";

	img_fd = mkstemp(tmpl);
	if (img_fd < 0 || ftruncate(img_fd, DISKSZ) != 0)
		FAIL("image: %s", strerror(errno));
	unlink(tmpl);
	/* The unlinked file by its /proc name: nothing left behind. */
	snprintf(img_path, sizeof(img_path), "/proc/self/fd/%d", img_fd);
}

static void
setup(unsigned c0, unsigned c1)
{
	static const char *const tr[] = { "transitional", "modern", "legacy",
	    "transitional" };
	static const char *const qs[] = { "16", "4", "64", "256" };
	int i, t;

	if (ftruncate(img_fd, 0) != 0 || ftruncate(img_fd, DISKSZ) != 0)
		FAIL("image: %s", strerror(errno));
	config_init();
	if (config_set(NULL, "pci.0.5.0.device", "virtio-rnd") != 0 ||
	    config_set(NULL, "pci.0.5.0.transport", tr[c0 & 3]) != 0 ||
	    config_set(NULL, "pci.0.6.0.device", "virtio-blk") != 0 ||
	    config_set(NULL, "pci.0.6.0.path", img_path) != 0 ||
	    config_set(NULL, "pci.0.6.0.transport", tr[(c0 >> 2) & 3]) != 0 ||
	    config_set(NULL, "pci.0.6.0.engine", (c0 & 0x20) ? "thread" :
	    "io_uring") != 0 ||
	    config_set(NULL, "pci.0.6.0.num_queues", (c0 & 0x80) ? "2" :
	    "1") != 0 ||
	    config_set(NULL, "pci.0.6.0.queue_size", qs[c1 & 3]) != 0 ||
	    ((c0 & 0x10) && config_set(NULL, "virtio_msix", "false") != 0) ||
	    ((c0 & 0x40) && config_set(NULL, "pci.0.6.0.ro", "true") != 0) ||
	    ((c1 & 4) && config_set(NULL, "pci.0.6.0.nodelete", "true") != 0) ||
	    ((c1 & 8) && config_set(NULL, "pci.0.6.0.sectorsize", "4096") !=
	    0))
		abort();
	fake_vm_init(&F.fv, RAMSZ, 2);
	if (pci_init(&F.fv.dc, &win) != 0)
		FAIL("pci_init failed");
	memset(F.shadow, 0, sizeof(F.shadow));
	memset(F.allowed, 0, sizeof(F.allowed));
	memset(F.meta, 0, sizeof(F.meta));
	memset(F.qkey, 0xff, sizeof(F.qkey));
	F.dirty = true;
	F.racy = false;
	for (i = 0; i < NDEV; i++) {
		F.d[i].slot = i == 0 ? 5 : 6;
		F.d[i].pi = pci_find_dev(0, F.d[i].slot, 0);
		F.d[i].vs = F.d[i].pi->pi_arg;
		t = i == 0 ? (int)(c0 & 3) : (int)((c0 >> 2) & 3);
		F.d[i].modern = t != 2;
		F.d[i].legacy = t != 1;
		F.d[i].st_written = 0;
	}
}

/* Status bits: only what the driver wrote, and NEEDS_RESET. */
static void
check_status(void)
{
	uint8_t s;
	int i;

	for (i = 0; i < NDEV; i++) {
		pthread_mutex_lock(&F.d[i].vs->vs_mtx);
		s = F.d[i].vs->vs_status;
		pthread_mutex_unlock(&F.d[i].vs->vs_mtx);
		if (s & ~(F.d[i].st_written | VIRTIO_S_NEEDS_RESET))
			FAIL("%s: status %#x, the driver wrote %#x",
			    F.d[i].pi->pi_name, s, F.d[i].st_written);
	}
}

/* MSI-X: pending only while something masks the vector (§6.8.2.9). */
static void
check_msix(void)
{
	const struct pci_msix *mx;
	bool pending, masked;
	int i, v;

	for (i = 0; i < NDEV; i++) {
		mx = &F.d[i].pi->pi_msix;
		if (mx->capoff == 0)
			continue;
		pthread_mutex_lock(&F.d[i].pi->pi_intr_lock);
		for (v = 0; (uint32_t)v < mx->pba_size * 8; v++) {
			pending = (mx->pba[v / 64] >> (v % 64)) & 1;
			masked = v < mx->table_count && (!mx->enabled ||
			    mx->function_mask ||
			    (mx->table[v].vector_control & 1));	/* Mask Bit */
			if (pending && !masked)
				FAIL("%s: MSI-X vector %d pending in the PBA, "
				    "%s", F.d[i].pi->pi_name, v,
				    v < mx->table_count ? "nothing masks it" :
				    "past the table");
		}
		pthread_mutex_unlock(&F.d[i].pi->pi_intr_lock);
	}
}

static void
check_intx(void)
{
	struct fdev *d;
	int g, i, want;

	for (i = 0; i < NDEV; i++) {
		d = &F.d[i];
		pthread_mutex_lock(&d->vs->vs_mtx);
		if (d->pi->pi_lintr_want && d->vs->vs_isr == 0)
			FAIL("%s: INTx asserted with the ISR clear",
			    d->pi->pi_name);
		pthread_mutex_unlock(&d->vs->vs_mtx);
	}
	for (g = 16; g < 24; g++) {
		want = 0;
		for (i = 0; i < NDEV; i++)
			if (F.d[i].pi->pi_lintr_driving &&
			    (int)F.d[i].pi->pi_lintr_gsi == g)
				want = 1;
		if (F.fv.irq_level[g] != want)
			FAIL("I/O APIC pin %d at %d, want %d", g,
			    F.fv.irq_level[g], want);
	}
}

/*
 * After pci_fini: every byte the devices changed was theirs to write.
 * Unless a writable buffer or used ring overlapped a descriptor table:
 * then the devices rewrote descriptors they went on to follow, in states
 * no snapshot saw.
 */
static void
check_ram(void)
{
	uint64_t a, m;
	unsigned i, k;

	for (i = 0; i < RAMSZ; i += 8) {
		memcpy(&a, F.allowed + i, 8);
		memcpy(&m, F.meta + i, 8);
		if (a & m)
			return;
	}

	for (k = 0; k < RAMSZ; k += 4096) {
		if (memcmp(F.fv.ram + k, F.shadow + k, 4096) == 0)
			continue;
		for (i = k; i < k + 4096; i++)
			if (F.fv.ram[i] != F.shadow[i] && !F.allowed[i])
				FAIL("guest RAM byte %#x changed (%#x, driver "
				    "wrote %#x) outside every used ring and "
				    "writable buffer", i, F.fv.ram[i],
				    F.shadow[i]);
	}
}

static void
list_fds(void)
{
	char path[300], link[256];
	struct dirent *e;
	DIR *dir = opendir("/proc/self/fd");
	ssize_t n;

	while (dir != NULL && (e = readdir(dir)) != NULL) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		fprintf(stderr, "  fd %s: %s\n", e->d_name, link);
	}
	if (dir != NULL)
		closedir(dir);
}

static void
check_leaks(void)
{
	struct timespec ts = { 0, 50000 };
	int n, i;

	if ((n = count_dir("/proc/self/fd")) != base_fds) {
		list_fds();
		FAIL("%d fds open, %d before the devices", n, base_fds);
	}
	/* The kernel's io_uring workers leave on their own, soon. */
	for (i = 0; (n = count_dir("/proc/self/task")) > base_threads; i++) {
		if (i == 40000)			/* 2 s */
			FAIL("%d threads, %d before the devices", n,
			    base_threads);
		nanosleep(&ts, NULL);
	}
}

/* FUZZ_VIRTIO_TRACE set: what the devices did, to check the seeds. */
static void
trace(void)
{
	const struct vqueue *vq;
	int i, q;

	(void)fake_irqfd_poll(&F.fv);
	for (i = 0; i < NDEV; i++) {
		fprintf(stderr, "%s: status %#x isr %#x%s\n",
		    F.d[i].pi->pi_name, F.d[i].vs->vs_status, F.d[i].vs->vs_isr,
		    F.racy ? " (racy)" : "");
		for (q = 0; q < F.d[i].vs->vs_nqueues; q++) {
			vq = &F.d[i].vs->vs_queues[q].vq;
			fprintf(stderr, "  queue %d: ready %d size %u chains %ju "
			    "used %ju batches %ju broken %d (%s)\n", q,
			    vq->vq_ready, vq->vq_size,
			    (uintmax_t)vq->vq_stats.vs_chains,
			    (uintmax_t)vq->vq_stats.vs_used,
			    (uintmax_t)vq->vq_stats.vs_batches, vq->vq_broken,
			    vq_rule_name(vq->vq_rule));
		}
	}
	fprintf(stderr, "msi %u, irq 16 %u rises, 17 %u rises\n", F.fv.nmsi,
	    F.fv.irq_rises[16], F.fv.irq_rises[17]);
}

static void
step(unsigned op)
{
	static const unsigned sizes[4] = { 1, 2, 4, 8 };
	struct fdev *d = &F.d[(op >> 7) & 1];
	unsigned a = get8(), sz = sizes[a & 3], bar, idx;
	uint64_t v, off, bsize;
	int cap;

	switch (op & 0x1f) {
	case 0:		/* BAR write: BAR 0, 1 or 4, any offset and size */
	case 1:		/* BAR read */
		bar = (a >> 2) % 3 == 0 ? 0 : (a >> 2) % 3 == 1 ? 1 : 4;
		bsize = d->pi->pi_bar[bar].size;
		if (a & 0x40)	/* near the start of a page: the registers */
			off = (get8() & 0x7f) + 0x1000 * (get8() % 4);
		else
			off = get16() % (bsize + 8);
		if (bar == 0 && sz == 8)
			sz = 4;
		if ((op & 0x1f) == 1) {
			(void)bus_read(bar == 0 ? IO_PIO : IO_MMIO,
			    bar_base(d, (int)bar) + off, sz);
			break;
		}
		v = get64();
		bus_write(bar == 0 ? IO_PIO : IO_MMIO, bar_base(d, (int)bar) +
		    off, sz, v, (a & 0x80) != 0);
		break;
	case 2:		/* configuration write */
		sz = sz > 4 ? 4 : sz;
		off = get8() & ~(uint64_t)(sz - 1);
		cfg_write(d, (int)off, (int)sz, get32());
		break;
	case 3:		/* configuration read */
		sz = sz > 4 ? 4 : sz;
		(void)pci_cfg_read(0, d->slot, 0, (int)(get8() & ~(sz - 1)),
		    (int)sz);
		break;
	case 4:		/* move a BAR: RAM, another BAR, sizing, anywhere */
		idx = (a >> 2) % 6;
		switch ((a >> 5) & 3) {
		case 0:
			v = (uint32_t)get_addr(4096);
			break;
		case 1:
			v = F.d[!((op >> 7) & 1)].pi->pi_bar[get8() % 6].addr;
			break;
		case 2:
			v = 0xffffffff;
			break;
		default:
			v = get32();
			break;
		}
		cfg_write(d, PCIR_BAR(idx), 4, (uint32_t)v);
		break;
	case 5:		/* command: decode enables, INTx disable */
		cfg_write(d, PCIR_COMMAND, 2, (a & 7) | ((a & 8) ?
		    PCIM_CMD_INTxDIS : 0));
		break;
	case 6:		/* MSI-X: control, or one table entry */
		cap = pci_emul_find_capability(d->pi, PCIY_MSIX);
		if (cap == 0)
			break;
		if (a & 4) {
			cfg_write(d, cap + 3, 1, a & 0xc0);
			break;
		}
		off = (uint64_t)(get8() % (d->vs->vs_nqueues + 2)) * 16;
		bus_write(IO_MMIO, bar_base(d, 1) + off, 8, 0xfee00000 |
		    (uint64_t)get8() << 12, false);
		bus_write(IO_MMIO, bar_base(d, 1) + off + 8, 4, get8(), false);
		bus_write(IO_MMIO, bar_base(d, 1) + off + 12, 4, (a >> 3) & 1,
		    false);
		break;
	case 7:		/* MSI: address, data, control */
		cap = pci_emul_find_capability(d->pi, PCIY_MSI);
		if (cap == 0)
			break;
		cfg_write(d, cap + 4, 4, 0xfee00000);
		cfg_write(d, cap + 12, 2, get8());
		cfg_write(d, cap + 2, 2, a & 0x71);
		break;
	case 8:
		op_init(d, a);
		break;
	case 9:		/* status: modern, legacy, through the window */
		v = get8();
		if ((a & 4) && (cap = pcicap(d)) >= 0) {
			cfg_write(d, cap + 4, 1, 4);
			cfg_write(d, cap + 8, 4, 0x14);
			cfg_write(d, cap + 12, 4, 1);
			cfg_write(d, cap + 16, 4, (uint32_t)v);
		} else
			set_status(d, d->legacy && (!d->modern || (a & 8)),
			    (uint8_t)v);
		break;
	case 10:
		op_queue(d, a);
		break;
	case 11:	/* one descriptor of queue q's table */
	{
		uint64_t desc, avail;
		uint16_t size;
		unsigned q = a % (unsigned)d->vs->vs_nqueues;

		queue_areas(d, q, &desc, &avail, &size);
		idx = get16();
		off = get_addr(1);
		v = get_len();
		put_desc(desc + 16ULL * (size ? idx % size : idx), off,
		    (uint32_t)v, (uint16_t)get8(), (uint16_t)get16());
		break;
	}
	case 12:	/* a descriptor anywhere in RAM (an indirect table) */
		off = get16() % RAMSZ & ~15ULL;
		v = get_addr(1);
		put_desc(off, v, get_len(), (uint16_t)get8(), (uint16_t)get8());
		break;
	case 13:	/* make head available (a times), or ring flags */
		if (a & 0x80) {
			uint64_t desc, avail;
			uint16_t size;

			queue_areas(d, a % (unsigned)d->vs->vs_nqueues, &desc,
			    &avail, &size);
			off = (a & 0x40) || size == 0 ? avail : avail + 4 +
			    2ULL * size;
			ram_put(off, get16(), 2);	/* flags or used_event */
		} else
			post(d, a % (unsigned)d->vs->vs_nqueues, (uint16_t)get16(),
			    1 + ((a >> 2) & 0x1f));
		break;
	case 14:	/* raw bytes anywhere in RAM */
	{
		uint8_t b[32];
		unsigned n = a % 32, k;

		off = get32() % RAMSZ;
		for (k = 0; k < n; k++)
			b[k] = (uint8_t)get8();
		ram_write(off, b, n);
		break;
	}
	case 15:
		op_blkreq(&F.d[1], a);
		break;
	case 16:	/* notify queue q (any number) */
		notify(d, (a & 0x40) ? get16() : (a >> 2) % 3, a);
		break;
	case 17:	/* notify, and reset before the worker is done */
		notify(d, (a >> 2) % 2, a);
		set_status(d, d->legacy && (!d->modern || (a & 0x80)), 0);
		break;
	case 18:	/* ISR read */
		if (a & 4)
			(void)bus_read(IO_PIO, bar_base(d, 0) + 0x13, 1);
		else
			(void)bus_read(IO_MMIO, bar_base(d, 4) + 0x1000, sz);
		break;
	case 19:	/* device configuration */
		off = get8() % 80;
		if (a & 4)
			(void)bus_read(IO_MMIO, bar_base(d, 4) + 0x2000 + off,
			    sz);
		else if (a & 8)
			bus_write(IO_MMIO, bar_base(d, 4) + 0x2000 + off, sz,
			    get32(), false);
		else
			(void)bus_read(IO_PIO, bar_base(d, 0) + 0x14 + off,
			    sz > 4 ? 4 : sz);
		break;
	case 20:	/* the PCI configuration access window */
		if ((cap = pcicap(d)) < 0)
			break;
		cfg_write(d, cap + 4, 1, (a & 4) ? 4 : get8());
		cfg_write(d, cap + 8, 4, get16() % 0x4100);
		cfg_write(d, cap + 12, 4, 1u << ((a >> 3) & 3));
		if (a & 0x20)
			cfg_write(d, cap + 16, 4, get32());
		else
			(void)pci_cfg_read(0, d->slot, 0, cap + 16, 4);
		break;
	case 21:
		(void)fake_irqfd_poll(&F.fv);
		break;
	case 22:	/* the MSI-X PBA: any access in it */
	{
		const struct pci_msix *mx = &d->pi->pi_msix;

		if (mx->capoff == 0)
			break;
		off = bar_base(d, mx->bar) + mx->pba_offset + get8() %
		    mx->pba_size;
		if (a & 4)
			bus_write(IO_MMIO, off, sz, get64(), false);
		v = bus_read(IO_MMIO, off, sz);
		if (F.trace)
			fprintf(stderr, "  PBA at %#jx (%u bytes): %#jx\n",
			    (uintmax_t)(off - bar_base(d, mx->bar)), sz,
			    (uintmax_t)v);
		break;
	}
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned c0, c1, steps = 0;

	if (img_fd < 0) {
		if (pci_emul_finddev("virtio-rnd") != &pci_de_vrnd ||
		    pci_emul_finddev("virtio-blk") != &pci_de_vblk)
			abort();
		make_image();
	}
	/* Per input: the sanitizers' symbolizer pipes come and go. */
	base_fds = count_dir("/proc/self/fd");
	base_threads = count_dir("/proc/self/task");
	F.p = data;
	F.end = data + size;
	F.trace = getenv("FUZZ_VIRTIO_TRACE") != NULL;
	c0 = get8();
	c1 = get8();
	setup(c0, c1);
	while (F.p < F.end && steps++ < MAXSTEPS) {
		if (F.trace)
			fprintf(stderr, "step %u at %zu: op %#x\n", steps,
			    (size_t)(F.p - data), *F.p);
		step(get8());
		wait_idle();
		if (F.trace)
			for (unsigned k = 0; k < RAMSZ; k++)
				if (F.fv.ram[k] != F.shadow[k] && !F.allowed[k])
					fprintf(stderr, "  RAM %#x: %#x, not %#x\n",
					    k, F.fv.ram[k], F.shadow[k]);
		check_status();
		check_msix();
	}
	wait_idle();
	if (!F.racy)
		check_intx();
	if (F.trace)
		trace();
	pci_fini();
	if (!F.racy)
		check_ram();
	fake_vm_fini(&F.fv);
	config_fini();
	check_leaks();
	return (0);
}
