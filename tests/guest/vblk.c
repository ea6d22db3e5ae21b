/*
 * vblk: a virtio-blk disk through the kit's driver (virtio 1.2 §5.2).
 *
 * Runs at CPL0 (a driver is exit-heavy).  With a disk in any slot of bus
 * 0 it reads the configuration (capacity, blk_size, seg_max), asks for
 * the serial (GET_ID: a printable string, the expected one if given),
 * sends an unknown request type (UNSUPP), reads the ranges it will write
 * (checking the runner's pattern with "base"), writes a pattern to count
 * sectors at each offset, all in flight at once, each request shaped
 * differently (one data buffer, one per sector, an indirect table),
 * tries writes past the end and across it (IOERR), FLUSHes, reads
 * everything back in other shapes and compares, reads past the end
 * (IOERR, buffer untouched), and tries WRITE_ZEROES and DISCARD when
 * asked (zeroes read back), checks that a GET_ID raises the MSI-X
 * interrupt, and resets the device with 32 reads in flight (nothing is
 * written after the status reads 0; the device comes up again).  Waits
 * alternate between polling the used ring and the MSI-X interrupt.
 *
 * Command line (sectors are 512 bytes):
 *	transport=auto|modern|legacy	registers to use (default auto)
 *	offsets=A,B,...	first sectors of the ranges; -N is capacity - N
 *			(default 0,100,-8: the last sector is written)
 *	count=N		sectors per range (default 8; 2 to 64)
 *	seed=N		pattern seed (default 1)
 *	serial=S	GET_ID must return S
 *	capacity=N	the disk must have N sectors
 *	base		the disk holds the base pattern (below) at first
 *	ro		a read-only disk: RO offered, writes fail with IOERR,
 *			reads return the base pattern
 *	zero=S:N	WRITE_ZEROES N sectors at S (must be offered)
 *	discard=S:N	DISCARD N sectors at S (must be offered)
 *	discard_zeroes	discarded sectors must read back as zeroes
 *	msix=0		never wait for an interrupt
 *	indirect=0	do not negotiate INDIRECT_DESC
 *	strict		(modern) FEATURES_OK must be refused without
 *			VERSION_1 and with a feature not offered
 *
 * Each 512-byte sector of a pattern is 16 records of 32 bytes: the text
 * "vblk seed=S sector=N" (written) or "base sector=N" (the runner's
 * image) padded with spaces to 31 bytes, then a newline; the runner
 * builds the same bytes with printf and compares the image with cmp.
 */
#include "kit.h"
#include "virtio_blk.h"

#define MAX_RANGES	8
#define MAX_COUNT	64
#define SECTOR		VBLK_SECTOR
#define WAIT_MS		5000

static struct vblk blk;
static unsigned seed;
static int use_intr;			/* MSI-X works: alternate waits */
static unsigned nwaits;

struct range {
	uint64_t	sector;
	uint8_t		*wbuf;		/* what is written */
	uint8_t		*rbuf;		/* what is read */
};

static struct range ranges[MAX_RANGES];
static unsigned nranges;

/* One sector of a pattern: tag "vblk" (seed) or "base". */
static void
fill_sector(uint8_t *p, int base, uint64_t sector)
{
	char text[40], rec[33];
	uint64_t w[4], *d = (uint64_t *)(void *)p;
	unsigned i;

	if (base)
		snprintf(text, sizeof(text), "base sector=%llu",
		    (unsigned long long)sector);
	else
		snprintf(text, sizeof(text), "vblk seed=%u sector=%llu", seed,
		    (unsigned long long)sector);
	snprintf(rec, sizeof(rec), "%-31s\n", text);
	memcpy(w, rec, 32);
	for (i = 0; i < SECTOR / 8; i += 4) {
		d[i] = w[0];
		d[i + 1] = w[1];
		d[i + 2] = w[2];
		d[i + 3] = w[3];
	}
}

static void
fill(uint8_t *p, int base, uint64_t sector, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		fill_sector(p + i * SECTOR, base, sector + i);
}

/* 0 when equal; else prints the first differing sector. */
static int
compare(const char *what, const uint8_t *got, const uint8_t *want,
    uint64_t sector, unsigned n)
{
	const uint64_t *g = (const void *)got, *w = (const void *)want;
	unsigned i, words = n * SECTOR / 8;

	for (i = 0; i < words; i++) {
		if (g[i] == w[i])
			continue;
		i = i * 8 / SECTOR;
		printf("%s: sector %llu differs: got \"%.31s\", want "
		    "\"%.31s\"\n", what, (unsigned long long)(sector + i),
		    (const char *)got + i * SECTOR,
		    (const char *)want + i * SECTOR);
		return (-1);
	}
	return (0);
}

static int
all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	const uint64_t *w = (const void *)p;
	uint64_t pat = 0x0101010101010101ULL * v;
	size_t i;

	for (i = 0; i < n / 8; i++)
		if (w[i] != pat)
			return (0);
	return (1);
}

/* Polling and interrupt waits in turn, when MSI-X is there. */
static enum virtq_how
how(void)
{
	return (use_intr && (nwaits++ & 1) ? VIRTQ_INTR : VIRTQ_POLL);
}

/*
 * Split [p, p + n sectors) for a chain of shape 0 (one buffer), 1 (one
 * per sector, at most seg) or 2 (the same through an indirect table).
 */
static unsigned
split(uint8_t *p, unsigned n, unsigned shape, unsigned seg,
    struct virtq_buf *b)
{
	unsigned i, k, per;

	if (shape == 0 || n == 1) {
		b[0] = (struct virtq_buf){ p, n * SECTOR, 0 };
		return (1);
	}
	k = n < seg ? n : seg;
	per = (n + k - 1) / k;
	for (i = 0; i * per < n; i++)
		b[i] = (struct virtq_buf){ p + i * per * SECTOR,
		    (n - i * per < per ? n - i * per : per) * SECTOR, 0 };
	return (i);
}

/* The range requests, all in flight at once; 0 when each got want. */
static int
batch(uint32_t type, unsigned count, unsigned shape0, int want)
{
	struct virtq_buf b[VIRTQ_INDIRECT_MAX];
	unsigned i, n, shape, seg, got = 0, bad = 0;
	int head, heads[MAX_RANGES];
	uint8_t status;
	uint32_t len;

	seg = blk.seg_max < VIRTQ_INDIRECT_MAX - 3 ? blk.seg_max :
	    VIRTQ_INDIRECT_MAX - 3;
	for (i = 0; i < nranges; i++) {
		shape = (shape0 + i) % 3;
		if (shape == 2 && blk.vq.indirect == NULL)
			shape = 1;
		n = split(type == VBLK_T_OUT ? ranges[i].wbuf : ranges[i].rbuf,
		    count, shape, seg, b);
		heads[i] = vblk_submit(&blk, type, ranges[i].sector, b, n,
		    shape == 2);
		GCHECK(heads[i] >= 0);
		if (heads[i] < 0)
			return (-1);
	}
	virtq_kick(&blk.vq);
	for (got = 0; got < nranges; got++) {
		head = vblk_reap(&blk, how(), WAIT_MS, &status, &len);
		if (head < 0) {
			printf("%s batch: %u of %u completed\n",
			    type == VBLK_T_OUT ? "write" : "read", got, nranges);
			GCHECK(head >= 0);
			return (-1);
		}
		for (i = 0; i < nranges && heads[i] != head; i++)
			;
		GCHECK(i < nranges);
		if (status != want) {
			printf("%s of %u sectors at %llu: status %u, want %d\n",
			    type == VBLK_T_OUT ? "write" : "read", count,
			    (unsigned long long)(i < nranges ?
			    ranges[i].sector : 0), status, want);
			bad++;
		}
		/* A read's used length is its data and the status byte. */
		if (type == VBLK_T_IN && want == VBLK_S_OK &&
		    len != count * SECTOR + 1) {
			printf("read at %llu: used length %u, want %u\n",
			    (unsigned long long)(i < nranges ?
			    ranges[i].sector : 0), len, count * SECTOR + 1);
			bad++;
		}
	}
	GCHECK_EQ(bad, 0);
	return (bad != 0 ? -1 : 0);
}

/* A read of n sectors at sector past or across the end: IOERR, the
 * buffer as it was. */
static void
read_past_end(uint64_t sector, unsigned n)
{
	uint8_t *buf = ranges[0].rbuf;
	int st;

	memset(buf, 0xa5, n * SECTOR);
	st = vblk_io(&blk, VBLK_T_IN, sector, buf, n * SECTOR, how());
	printf("read %u at %llu (capacity %llu): status %d\n", n,
	    (unsigned long long)sector, (unsigned long long)blk.capacity, st);
	GCHECK_EQ(st, VBLK_S_IOERR);
	GCHECK(all_bytes(buf, n * SECTOR, 0xa5));
}

static void
write_past_end(uint64_t sector, unsigned n)
{
	uint8_t *buf = ranges[0].rbuf;
	int st;

	/* What must never reach the disk: the runner would see it. */
	memset(buf, 'X', n * SECTOR);
	st = vblk_io(&blk, VBLK_T_OUT, sector, buf, n * SECTOR, how());
	printf("write %u at %llu (capacity %llu): status %d\n", n,
	    (unsigned long long)sector, (unsigned long long)blk.capacity, st);
	GCHECK_EQ(st, VBLK_S_IOERR);
}

/*
 * With MSI-X: a GET_ID must raise the queue's interrupt (the waits above
 * may all have found their element before it came).
 */
static void
check_interrupt(void)
{
	uint64_t khz = guest_tsc_khz(), t0;
	unsigned long c0 = virtio_intr_count[0];
	static uint8_t id[VBLK_ID_BYTES];
	struct virtq_buf d = { id, sizeof(id), 0 };
	uint8_t status;
	uint32_t len;
	int head;

	__asm__ volatile("sti; nop; cli" ::: "memory");
	c0 = virtio_intr_count[0];
	head = vblk_submit(&blk, VBLK_T_GET_ID, 0, &d, 1, 0);
	GCHECK(head >= 0);
	if (head < 0)
		return;
	virtq_kick(&blk.vq);
	t0 = rdtsc();
	while (virtio_intr_count[0] == c0 && (khz == 0 ||
	    rdtsc() - t0 < WAIT_MS * khz))
		__asm__ volatile("sti; nop; cli; pause" ::: "memory");
	printf("interrupt: %s after GET_ID (%lu in all)\n",
	    virtio_intr_count[0] != c0 ? "came" : "did not come",
	    virtio_intr_count[0]);
	GCHECK(virtio_intr_count[0] != c0);
	GCHECK_EQ(vblk_reap(&blk, VIRTQ_POLL, WAIT_MS, &status, &len), head);
	GCHECK_EQ(status, VBLK_S_OK);
}

static void
check_id(void)
{
	static uint8_t id[VBLK_ID_BYTES + 1];
	const char *want = arg_get("serial");
	char copy[VBLK_ID_BYTES + 1], w[VBLK_ID_BYTES + 1];
	unsigned i, n;
	int st;

	/* arg_get()'s buffer lasts until its next call: copy it now. */
	if (want != NULL)
		snprintf(w, sizeof(w), "%s", want);
	memset(id, 0xee, VBLK_ID_BYTES);
	st = vblk_io(&blk, VBLK_T_GET_ID, 0, id, VBLK_ID_BYTES, how());
	for (n = 0; n < VBLK_ID_BYTES && id[n] != 0 && id[n] != 0xee; n++)
		;
	memcpy(copy, id, n);
	copy[n] = '\0';
	printf("GET_ID: status %d, serial \"%s\" (%u bytes)\n", st, copy, n);
	GCHECK_EQ(st, VBLK_S_OK);
	GCHECK(n > 0);
	/* Up to 20 bytes, NUL-terminated when shorter (§5.2.6). */
	GCHECK(n == VBLK_ID_BYTES || id[n] == 0);
	for (i = 0; i < n; i++)
		GCHECK(id[i] >= 0x20 && id[i] < 0x7f);
	if (want != NULL)
		GCHECK(strcmp(copy, w) == 0);
}

/*
 * "strict" (modern registers): FEATURES_OK is refused without VERSION_1
 * and with a feature bit the device did not offer (§3.1.1 step 5, §6.1;
 * QEMU instead drops unoffered bits and lets a driver go on without
 * VERSION_1, which §2.2.2 also allows).  Offsets of §4.1.4.3.
 */
static void
check_features_ok(void)
{
	const struct virtio_dev *vd = &blk.vd;
	uint64_t f[2], bit = 0;
	unsigned i, b;
	uint8_t st;

	for (b = 63; b > 0 && bit == 0; b--)
		if (!(vd->offered & (1ULL << b)))
			bit = 1ULL << b;
	f[0] = vd->features & ~VIRTIO_F_VERSION_1;
	f[1] = vd->features | bit;
	for (i = 0; i < 2; i++) {
		GCHECK_EQ(virtio_reset(vd), 0);
		virtio_set_status(vd, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
		mmio_write32(vd->common + 0x08, 0);		/* GFSELECT */
		mmio_write32(vd->common + 0x0c, (uint32_t)f[i]);
		mmio_write32(vd->common + 0x08, 1);
		mmio_write32(vd->common + 0x0c, (uint32_t)(f[i] >> 32));
		virtio_set_status(vd, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER |
		    VIRTIO_S_FEATURES_OK);
		st = virtio_status(vd);
		printf("features 0x%llx (%s): status 0x%02x, FEATURES_OK %s\n",
		    (unsigned long long)f[i], i == 0 ? "no VERSION_1" :
		    "one not offered", st, (st & VIRTIO_S_FEATURES_OK) ?
		    "accepted" : "refused");
		GCHECK_EQ(st & VIRTIO_S_FEATURES_OK, 0);
	}
}

/*
 * A reset with reads in flight (§4.1.4.3.2, §2.4): once the status reads
 * 0 the device writes nothing more, neither used elements nor data; then
 * the device comes up again and reads range 0 as before.
 */
static void
check_reset(unsigned count)
{
	enum { NR = 32, BS = 4096 };
	static uint8_t *buf[NR], *shadow;
	struct virtq_buf d;
	uint64_t khz = guest_tsc_khz(), t0;
	volatile uint16_t *uidx = (volatile uint16_t *)(blk.vq.used + 2);
	uint16_t idx;
	unsigned i, n = 0, same = 1;

	shadow = virtio_alloc(NR * BS, BS);
	for (i = 0; i < NR && shadow != NULL; i++)
		if ((buf[i] = virtio_alloc(BS, BS)) == NULL)
			shadow = NULL;
	GCHECK(shadow != NULL);
	if (shadow == NULL)
		return;
	for (i = 0; i < NR; i++) {
		memset(buf[i], 0xc3, BS);
		d = (struct virtq_buf){ buf[i], BS, 0 };
		if (vblk_submit(&blk, VBLK_T_IN, (uint64_t)i * 64 %
		    (blk.capacity - 8), &d, 1, 0) >= 0)
			n++;
	}
	virtq_kick(&blk.vq);
	GCHECK_EQ(virtio_reset(&blk.vd), 0);
	idx = *uidx;
	for (i = 0; i < NR; i++)
		memcpy(shadow + i * BS, buf[i], BS);
	t0 = rdtsc();
	while (khz != 0 && rdtsc() - t0 < 50 * khz)
		cpu_relax();
	for (i = 0; i < NR; i++)
		if (memcmp(shadow + i * BS, buf[i], BS) != 0)
			same = 0;
	printf("reset with %u reads in flight: %u done before it; used idx "
	    "%s, buffers %s 50 ms later\n", n, (uint16_t)(idx -
	    blk.vq.last_used), *uidx == idx ? "still" : "MOVED",
	    same ? "unchanged" : "CHANGED");
	GCHECK_EQ(n, NR);
	GCHECK_EQ(*uidx, idx);
	GCHECK(same);

	/* Up again: the same driver set-up, range 0 reads as before. */
	if (vblk_open(&blk, blk.vd.legacy ? VIRTIO_LEGACY : VIRTIO_MODERN,
	    blk.vd.features, 0, use_intr) != 0) {
		GCHECK(0);
		return;
	}
	memset(ranges[0].rbuf, 0, count * SECTOR);
	GCHECK_EQ(vblk_io(&blk, VBLK_T_IN, ranges[0].sector, ranges[0].rbuf,
	    count * SECTOR, VIRTQ_POLL), VBLK_S_OK);
	GCHECK(compare("after reset", ranges[0].rbuf, ranges[0].wbuf,
	    ranges[0].sector, count) == 0);
}

/* "S:N" into sector and count; 0 when present and well-formed. */
static int
parse_range(const char *name, uint64_t *s, uint32_t *n)
{
	const char *v = arg_get(name), *e;

	if (v == NULL)
		return (-1);
	*s = strtou64(v, &e, 0);
	if (*e != ':')
		return (-1);
	*n = (uint32_t)strtou64(e + 1, NULL, 0);
	return (*n != 0 ? 0 : -1);
}

/* WRITE_ZEROES or DISCARD of a range, then zeroes read back. */
static void
dwz(uint32_t type, const char *name, uint64_t feature, int zeroes)
{
	uint8_t *buf;
	uint64_t s;
	uint32_t n, len;
	uint8_t status = VBLK_S_NONE;
	int head;

	if (parse_range(name, &s, &n) != 0)
		return;
	printf("%s %u sectors at %llu: %s\n", name, n, (unsigned long long)s,
	    (blk.vd.features & feature) ? "offered" : "not offered");
	GCHECK(blk.vd.features & feature);
	if (!(blk.vd.features & feature))
		return;
	buf = virtio_alloc((size_t)n * SECTOR, 4096);
	GCHECK(buf != NULL);
	if (buf == NULL)
		return;
	head = vblk_submit_dwz(&blk, type, s, n, 0);
	GCHECK(head >= 0);
	if (head < 0)
		return;
	virtq_kick(&blk.vq);
	GCHECK_EQ(vblk_reap(&blk, how(), WAIT_MS, &status, &len), head);
	GCHECK_EQ(status, VBLK_S_OK);
	if (!zeroes)
		return;
	memset(buf, 0x5a, (size_t)n * SECTOR);
	GCHECK_EQ(vblk_io(&blk, VBLK_T_IN, s, buf, n * SECTOR, how()),
	    VBLK_S_OK);
	if (!all_bytes(buf, (size_t)n * SECTOR, 0))
		printf("%s: the range does not read back as zeroes\n", name);
	GCHECK(all_bytes(buf, (size_t)n * SECTOR, 0));
}

/* offsets=A,B,-N into ranges[]. */
static void
parse_offsets(unsigned count)
{
	const char *p = arg_get("offsets");
	char list[128];
	uint64_t v;
	int neg;

	snprintf(list, sizeof(list), "%s", p != NULL ? p : "0,100,-8");
	for (p = list; *p != '\0' && nranges < MAX_RANGES;) {
		neg = *p == '-';
		if (neg)
			p++;
		v = strtou64(p, &p, 0);
		if (neg)
			v = v <= blk.capacity ? blk.capacity - v : 0;
		if (v + count > blk.capacity)
			v = blk.capacity - count;
		ranges[nranges].sector = v;
		ranges[nranges].wbuf = virtio_alloc(count * SECTOR, 4096);
		ranges[nranges].rbuf = virtio_alloc(count * SECTOR, 4096);
		GCHECK(ranges[nranges].wbuf != NULL &&
		    ranges[nranges].rbuf != NULL);
		if (ranges[nranges].rbuf == NULL)
			break;
		nranges++;
		while (*p != '\0' && *p != ',')
			p++;
		if (*p == ',')
			p++;
	}
}

int
guest_main(void)
{
	const char *t = arg_get("transport");	/* valid until arg_get() */
	enum virtio_mode mode = t == NULL ? VIRTIO_AUTO :
	    strcmp(t, "modern") == 0 ? VIRTIO_MODERN :
	    strcmp(t, "legacy") == 0 ? VIRTIO_LEGACY : VIRTIO_AUTO;
	unsigned count = (unsigned)arg_get_u64("count", 8), i;
	int ro = arg_get("ro") != NULL, base = arg_get("base") != NULL || ro;
	uint64_t want, cap = arg_get_u64("capacity", 0);
	int st;

	seed = (unsigned)arg_get_u64("seed", 1);
	if (count < 2 || count > MAX_COUNT)
		count = 8;
	want = VBLK_F_SEG_MAX | VBLK_F_BLK_SIZE | VBLK_F_FLUSH | VBLK_F_RO |
	    VBLK_F_SIZE_MAX | VBLK_F_TOPOLOGY | VBLK_F_DISCARD |
	    VBLK_F_WRITE_ZEROES;
	if (arg_get_u64("indirect", 1) != 0)
		want |= VIRTIO_F_INDIRECT_DESC;
	if (vblk_open(&blk, mode, want, 0, arg_get_u64("msix", 1) != 0) != 0) {
		GCHECK(0);
		return (1);
	}
	use_intr = blk.vq.msix_entry != VIRTIO_NO_VECTOR;
	printf("virtio-blk 0:%u.%u: device %04x, %s, features offered 0x%llx "
	    "negotiated 0x%llx\n", blk.vd.slot, blk.vd.fn, blk.vd.device_id,
	    blk.vd.legacy ? "legacy" : "modern",
	    (unsigned long long)blk.vd.offered,
	    (unsigned long long)blk.vd.features);
	printf("capacity %llu sectors, blk_size %u, seg_max %u, size_max %u, "
	    "queue size %u, %s\n", (unsigned long long)blk.capacity,
	    blk.blk_size, blk.seg_max, blk.size_max, blk.vq.size,
	    use_intr ? "MSI-X" : "polled");
	GCHECK(blk.capacity >= MAX_COUNT);
	if (cap != 0)
		GCHECK_EQ(blk.capacity, cap);
	GCHECK_EQ(blk.blk_size, SECTOR);
	GCHECK(blk.seg_max >= 1);
	GCHECK_EQ(!!(blk.vd.features & VBLK_F_RO), ro);
	if (blk.capacity < MAX_COUNT)
		return (1);

	check_id();
	st = vblk_io(&blk, 0x7f, 0, NULL, 0, how());
	printf("request type 0x7f: status %d\n", st);
	GCHECK_EQ(st, VBLK_S_UNSUPP);

	parse_offsets(count);
	for (i = 0; i < nranges; i++) {
		fill(ranges[i].wbuf, 0, ranges[i].sector, count);
		printf("range %u: %u sectors at %llu\n", i, count,
		    (unsigned long long)ranges[i].sector);
	}
	if (base) {
		/* What the runner put there, in three chain shapes. */
		if (batch(VBLK_T_IN, count, 0, VBLK_S_OK) == 0)
			for (i = 0; i < nranges; i++) {
				fill(ranges[i].wbuf, 1, ranges[i].sector,
				    count);
				GCHECK(compare("before", ranges[i].rbuf,
				    ranges[i].wbuf, ranges[i].sector,
				    count) == 0);
				fill(ranges[i].wbuf, 0, ranges[i].sector,
				    count);
			}
	}
	batch(VBLK_T_OUT, count, 0, ro ? VBLK_S_IOERR : VBLK_S_OK);
	write_past_end(blk.capacity, 1);
	write_past_end(blk.capacity - 1, 2);
	st = vblk_io(&blk, VBLK_T_FLUSH, 0, NULL, 0, how());
	printf("flush: status %d\n", st);
	GCHECK_EQ(st, VBLK_S_OK);
	for (i = 0; i < nranges; i++)
		memset(ranges[i].rbuf, 0, count * SECTOR);
	if (batch(VBLK_T_IN, count, 1, VBLK_S_OK) == 0)
		for (i = 0; i < nranges; i++) {
			if (ro)
				fill(ranges[i].wbuf, 1, ranges[i].sector,
				    count);
			GCHECK(compare("after", ranges[i].rbuf, ranges[i].wbuf,
			    ranges[i].sector, count) == 0);
		}
	read_past_end(blk.capacity, 1);
	read_past_end(blk.capacity - 1, 2);
	if (!ro) {
		dwz(VBLK_T_WRITE_ZEROES, "zero", VBLK_F_WRITE_ZEROES, 1);
		dwz(VBLK_T_DISCARD, "discard", VBLK_F_DISCARD,
		    arg_get("discard_zeroes") != NULL);
	}
	printf("queue: %llu notifications, %llu left out; %lu interrupts so "
	    "far\n",
	    (unsigned long long)blk.vq.kicks,
	    (unsigned long long)blk.vq.kicks_skipped, virtio_intr_count[0]);
	if (use_intr)
		check_interrupt();
	GCHECK_EQ(blk.vq.num_free, blk.vq.size);
	check_reset(count);
	if (arg_get("strict") != NULL && !blk.vd.legacy)
		check_features_ok();
	return (0);
}
