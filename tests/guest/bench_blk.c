/*
 * bench_blk: virtio-blk benchmarks for bench/run.sh (docs/performance.md).
 *
 * Runs at CPL0 through the kit's driver (kit/virtio_blk.h), on the first
 * virtio-blk disk, modern registers, one queue of the device's size.
 * Command line:
 *
 *	tests=LIST	which of rr1,rr32,sr,sw,rt,mmio (default all, in
 *			that order)
 *	time_ms=T	each disk figure runs T ms (default 2000) ...
 *	ops=N		... or N requests, whichever ends first
 *	span=S		random reads fall in the first S sectors (default
 *			the whole disk)
 *	wait=intr|poll	disk requests end by the MSI-X interrupt (default)
 *			or by polling the used ring with the queue's vector
 *			off (no interrupt at all)
 *	rt=N		N GET_ID round trips each way (default 2000)
 *	mmio=N		N reads of num_queues (default 20000)
 *	pm1a_cnt=P s5=T	power off through port P directly (as bench_exit)
 *
 * Figures, one line each after "BENCH up":
 *
 *	rr1, rr32	4 KiB reads at random 4 KiB-aligned offsets, queue
 *			depth 1 and 32 (32 kept in flight: each completion
 *			is replaced, one notification per refill)
 *	sr, sw		128 KiB sequential reads and writes, depth 1, from
 *			sector 0 on, wrapping at the end of the disk
 *		BENCH name=rr1 ops=N ms=M iops=X mbps=Y.Y
 *	rt_poll		GET_ID (no disk I/O: the device answers from memory):
 *			notify -> used element, polling the used ring, the
 *			queue's interrupt off
 *	rt_intr		the same, waiting for the MSI-X interrupt (taken by
 *			the kit's handler, EOI included) before the used ring
 *			is read
 *	mmio		1: movzwl (%rsi),%eax; dec %rcx; jnz 1b with %rsi =
 *			the common configuration's num_queues (BAR 4 + 0x12
 *			under khyve): a register the device model serves in
 *			user space (bench/rawkvm.c's mmio16 runs the same
 *			bytes against a hole)
 *		BENCH name=rt_poll iters=N ns_per_iter=X.Y value=0xV
 *
 * Times come from the TSC calibrated against the ACPI PM timer (the kit's
 * guest_tsc_khz(), as bench_exit).  A failed request prints "BENCH error"
 * and stops that figure.
 */
#include "kit.h"
#include "virtio_blk.h"

#define RAND_BS		4096
#define SEQ_BS		(128 * 1024)
#define QD_MAX		32
#define WAIT_MS		10000
#define SLP_EN		(1u << 13)	/* ACPI 6.4 §4.8.3.2.1 */

static struct vblk blk;
static uint64_t khz;
static enum virtq_how wait_how = VIRTQ_INTR;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint8_t *rbuf[QD_MAX];		/* one per request in flight */
static int rbuf_of[1024];		/* head -> rbuf index */
static uint8_t *seqbuf;

/* xorshift64 (Marsaglia 2003). */
static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng);
}

static int
wanted(const char *name)
{
	const char *t = arg_get("tests");
	size_t n = strlen(name);

	if (t == NULL)
		return (1);
	while (*t != '\0') {
		if (strncmp(t, name, n) == 0 && (t[n] == ',' || t[n] == '\0'))
			return (1);
		while (*t != '\0' && *t != ',')
			t++;
		if (*t == ',')
			t++;
	}
	return (0);
}

/* Print v / 10^d with d decimals. */
static void
print_fixed(const char *key, uint64_t v, unsigned d)
{
	uint64_t p = 1;
	unsigned i;

	for (i = 0; i < d; i++)
		p *= 10;
	printf(" %s=%llu", key, (unsigned long long)(v / p));
	if (d > 0)
		printf(".%0*llu", (int)d, (unsigned long long)(v % p));
}

/* Nanoseconds of TSC ticks, without 128-bit arithmetic. */
static uint64_t
ns_of(uint64_t ticks)
{
	return (ticks / khz * 1000000 + ticks % khz * 1000000 / khz);
}

static void
report_io(const char *name, uint64_t ops, uint64_t ticks, uint64_t bs)
{
	uint64_t ns = ns_of(ticks);

	if (ns == 0)
		ns = 1;
	printf("BENCH name=%s ops=%llu ms=%llu", name, (unsigned long long)ops,
	    (unsigned long long)(ns / 1000000));
	/* ops * 1e9 / ns, and bytes / us = MB/s (10^6 bytes). */
	print_fixed("iops", ops * 1000000 / (ns / 1000 != 0 ? ns / 1000 : 1),
	    0);
	print_fixed("mbps", ops * bs * 10 / (ns / 1000 != 0 ? ns / 1000 : 1),
	    1);
	printf(" bs=%llu\n", (unsigned long long)bs);
}

static void
report_iter(const char *name, uint64_t n, uint64_t ticks, uint32_t value)
{
	uint64_t ps = ns_of(ticks) * 1000 / (n != 0 ? n : 1);

	printf("BENCH name=%s iters=%llu", name, (unsigned long long)n);
	print_fixed("ns_per_iter", ps / 100, 1);
	printf(" tsc_khz=%llu value=0x%x\n", (unsigned long long)khz, value);
}

static int
submit_read(uint64_t sector, unsigned bi)
{
	struct virtq_buf d = { rbuf[bi], RAND_BS, 0 };
	int head = vblk_submit(&blk, VBLK_T_IN, sector, &d, 1, 0);

	if (head >= 0)
		rbuf_of[head] = (int)bi;
	return (head);
}

static uint64_t
rand_sector(uint64_t span)
{
	uint64_t blocks = span / (RAND_BS / VBLK_SECTOR);

	return (rnd() % blocks * (RAND_BS / VBLK_SECTOR));
}

/* Random 4 KiB reads, qd in flight, for ms or ops. */
static void
bench_rand(const char *name, unsigned qd, uint64_t ms, uint64_t maxops,
    uint64_t span)
{
	uint64_t t0, lim = ms * khz, done = 0, issued = 0;
	unsigned i, inflight = 0, refill;
	uint8_t status;
	uint32_t len;
	int head;

	t0 = rdtsc();
	for (i = 0; i < qd && issued < maxops; i++, issued++, inflight++)
		if (submit_read(rand_sector(span), i) < 0)
			goto fail;
	virtq_kick(&blk.vq);
	while (inflight > 0) {
		head = vblk_reap(&blk, wait_how, WAIT_MS, &status, &len);
		if (head < 0 || status != VBLK_S_OK)
			goto fail;
		inflight--;
		done++;
		refill = 0;
		/* Take what else has come, then refill and kick once. */
		do {
			if (rdtsc() - t0 < lim && issued < maxops) {
				if (submit_read(rand_sector(span),
				    (unsigned)rbuf_of[head]) < 0)
					goto fail;
				issued++;
				inflight++;
				refill++;
			}
			head = virtq_get(&blk.vq, &len);
			if (head >= 0) {
				if (blk.slot[head].status != VBLK_S_OK)
					goto fail;
				inflight--;
				done++;
			}
		} while (head >= 0);
		if (refill > 0)
			virtq_kick(&blk.vq);
	}
	report_io(name, done, rdtsc() - t0, RAND_BS);
	return;
fail:
	printf("BENCH error name=%s after %llu requests\n", name,
	    (unsigned long long)done);
}

/* Sequential 128 KiB requests at depth 1. */
static void
bench_seq(const char *name, uint32_t type, uint64_t ms, uint64_t maxops)
{
	uint64_t t0, lim = ms * khz, n = 0, sector = 0;
	int st;

	t0 = rdtsc();
	while (rdtsc() - t0 < lim && n < maxops) {
		if (sector + SEQ_BS / VBLK_SECTOR > blk.capacity)
			sector = 0;
		st = vblk_io(&blk, type, sector, seqbuf, SEQ_BS, wait_how);
		if (st != VBLK_S_OK) {
			printf("BENCH error name=%s status %d at sector %llu\n",
			    name, st, (unsigned long long)sector);
			return;
		}
		sector += SEQ_BS / VBLK_SECTOR;
		n++;
	}
	report_io(name, n, rdtsc() - t0, SEQ_BS);
}

/* GET_ID round trips: polled with the vector off, or by interrupt. */
static void
bench_rt(const char *name, uint64_t n, int intr)
{
	static uint8_t id[VBLK_ID_BYTES];
	struct virtq_buf d = { id, sizeof(id), 0 };
	volatile unsigned long *cnt = &virtio_intr_count[0];
	uint64_t i, t0, t;
	unsigned long c;
	uint32_t len;
	int head;

	if (blk.vd.msix_on &&
	    virtq_set_vector(&blk.vq, intr ? 0 : VIRTIO_NO_VECTOR) != 0) {
		printf("BENCH error name=%s: no MSI-X vector\n", name);
		return;
	}
	t0 = rdtsc();
	for (i = 0; i < n; i++) {
		head = vblk_submit(&blk, VBLK_T_GET_ID, 0, &d, 1, 0);
		c = *cnt;
		virtq_kick(&blk.vq);
		if (intr) {
			t = rdtsc();
			while (*cnt == c && rdtsc() - t < WAIT_MS * khz)
				__asm__ volatile("sti; nop; cli; pause" :::
				    "memory");
		}
		if (head < 0 || virtq_wait(&blk.vq, &len, VIRTQ_POLL,
		    WAIT_MS) != head || blk.slot[head].status != VBLK_S_OK) {
			printf("BENCH error name=%s after %llu\n", name,
			    (unsigned long long)i);
			return;
		}
	}
	report_iter(name, n, rdtsc() - t0, 0);
}

static void
bench_mmio(uint64_t n)
{
	uint64_t addr = blk.vd.common + 0x12, t0, t1, cnt = n;
	uint32_t v = 0;

	t0 = rdtsc();
	/* 0f b7 06 48 ff c9 75 f8, as bench/rawkvm.c's mmio16. */
	__asm__ volatile("1: movzwl (%%rsi), %%eax; dec %%rcx; jnz 1b"
	    : "+c"(cnt), "=&a"(v) : "S"(addr) : "cc", "memory");
	t1 = rdtsc();
	report_iter("mmio", n, t1 - t0, v);
}

static void
fast_poweroff(void)
{
	uint64_t port = arg_get_u64("pm1a_cnt", 0), typ = arg_get_u64("s5", 8);

	if (port != 0 && port <= 0xffff && typ <= 7)
		outw((uint16_t)port, (uint16_t)(typ << 10 | SLP_EN));
	guest_poweroff();
}

int
guest_main(void)
{
	uint64_t ms = arg_get_u64("time_ms", 2000);
	uint64_t ops = arg_get_u64("ops", ~0ULL), span;
	const char *w = arg_get("wait");	/* valid until arg_get() */
	int poll = w != NULL && strcmp(w, "poll") == 0;
	unsigned i;

	printf("BENCH up\n");
	khz = guest_tsc_khz();
	GCHECK(khz != 0);
	if (khz == 0 || vblk_open(&blk, VIRTIO_MODERN, VBLK_F_SEG_MAX |
	    VBLK_F_BLK_SIZE | VBLK_F_FLUSH, 0, 1) != 0) {
		printf("BENCH error: no disk\n");
		return (1);
	}
	if (poll)
		wait_how = VIRTQ_POLL;
	if (blk.vq.msix_entry == VIRTIO_NO_VECTOR)
		wait_how = VIRTQ_POLL;
	/* Disk figures: the queue's vector on only for interrupt waits. */
	if (wait_how == VIRTQ_POLL && blk.vq.msix_entry != VIRTIO_NO_VECTOR)
		(void)virtq_set_vector(&blk.vq, VIRTIO_NO_VECTOR);
	span = arg_get_u64("span", blk.capacity);
	if (span > blk.capacity || span < RAND_BS / VBLK_SECTOR)
		span = blk.capacity;
	printf("BENCH disk sectors=%llu queue=%u wait=%s tsc_khz=%llu "
	    "device=%04x\n", (unsigned long long)blk.capacity, blk.vq.size,
	    wait_how == VIRTQ_POLL ? "poll" : "intr", (unsigned long long)khz,
	    blk.vd.device_id);
	for (i = 0; i < QD_MAX; i++)
		rbuf[i] = virtio_alloc(RAND_BS, RAND_BS);
	seqbuf = virtio_alloc(SEQ_BS, RAND_BS);
	GCHECK(rbuf[QD_MAX - 1] != NULL && seqbuf != NULL);
	if (seqbuf == NULL || blk.vq.size > sizeof(rbuf_of) / sizeof(rbuf_of[0]))
		return (1);
	memset(seqbuf, 0x5a, SEQ_BS);
	if (wanted("rr1"))
		bench_rand("rr1", 1, ms, ops, span);
	if (wanted("rr32"))
		bench_rand("rr32", QD_MAX, ms, ops, span);
	if (wanted("sr"))
		bench_seq("sr", VBLK_T_IN, ms, ops);
	if (wanted("sw"))
		bench_seq("sw", VBLK_T_OUT, ms, ops);
	if (wanted("rt")) {
		bench_rt("rt_poll", arg_get_u64("rt", 2000), 0);
		if (blk.vd.msix_on)
			bench_rt("rt_intr", arg_get_u64("rt", 2000), 1);
	}
	if (wanted("mmio"))
		bench_mmio(arg_get_u64("mmio", 20000));
	printf("BENCH done\n");
	if (kit_failures == 0)
		fast_poweroff();
	return (0);
}
