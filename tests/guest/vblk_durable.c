/*
 * vblk_durable: sequence-numbered blocks, each batch FLUSHed, for the
 * kill -9 durability test (tests/guest/durable.sh).
 *
 * Runs at CPL0.  Block n (4 KiB, 8 sectors, at byte n * 4096) holds 128
 * records of 32 bytes: "durable seq=n" padded with spaces to 31 bytes,
 * then a newline.  The guest writes blocks 0, 1, 2, ... in batches of
 * batch= (default 8, at most 32) requests in flight at once; once every
 * write of a batch has completed it sends a FLUSH, and once the FLUSH has
 * completed it prints "FLUSHED n", n the highest block written so far
 * (virtio 1.2 §5.2.6.1: a completed FLUSH makes every write completed
 * before it durable).  It prints "DURABLE start blocks=M batch=B" first
 * and "DURABLE done" after the last block of the disk (or blocks=M), and
 * powers off.
 *
 * With "edges" it first checks the end of the disk, whatever its size
 * (the image need not be a whole number of blocks): a write of one sector
 * at the sector after the last, and one of two sectors across the end,
 * must fail with IOERR; then it writes "durable last sector" (padded
 * with spaces to 511 bytes, then a newline) to the last sector, FLUSHes
 * and prints "EDGES ok".  With "noflush" it sends no FLUSH and prints
 * "WROTE n" once each batch has completed instead of "FLUSHED n" (the
 * SIGINT test, signals.py: khyve syncs the disk when it stops the VM).
 *
 * The runner kills the monitor at a random moment and then checks the
 * image: every block up to the last "FLUSHED n" it saw must be there,
 * byte for byte; a block after it may be there or still zero (it may
 * have been written, or flushed with the line not yet out, up to two
 * batches on); nothing else.
 */
#include "kit.h"
#include "virtio_blk.h"

#define BLOCK		4096
#define SECT_PER_BLOCK	(BLOCK / VBLK_SECTOR)
#define BATCH_MAX	32
#define WAIT_MS		10000

static struct vblk blk;

static void
fill_block(uint8_t *p, uint64_t seq)
{
	char text[40], rec[33];
	uint64_t w[4], *d = (uint64_t *)(void *)p;
	unsigned i;

	snprintf(text, sizeof(text), "durable seq=%llu",
	    (unsigned long long)seq);
	snprintf(rec, sizeof(rec), "%-31s\n", text);
	memcpy(w, rec, 32);
	for (i = 0; i < BLOCK / 8; i += 4) {
		d[i] = w[0];
		d[i + 1] = w[1];
		d[i + 2] = w[2];
		d[i + 3] = w[3];
	}
}

/* Wait for n completions; 0 when all were OK. */
static int
reap(unsigned n, const char *what)
{
	uint8_t status;
	uint32_t len;
	int head;

	while (n-- > 0) {
		head = vblk_reap(&blk, VIRTQ_POLL, WAIT_MS, &status, &len);
		if (head < 0 || status != VBLK_S_OK) {
			printf("%s: %s (status %u)\n", what, head < 0 ?
			    "no completion" : "failed", head < 0 ? 0 : status);
			return (-1);
		}
	}
	return (0);
}

/* One request of the sectors of d at sector; its status (0xff: none). */
static uint8_t
one_io(uint32_t type, uint64_t sector, struct virtq_buf *d)
{
	uint8_t status;
	uint32_t len;

	if (vblk_submit(&blk, type, sector, d, d != NULL ? 1 : 0, 0) < 0)
		return (0xff);
	virtq_kick(&blk.vq);
	if (vblk_reap(&blk, VIRTQ_POLL, WAIT_MS, &status, &len) < 0)
		return (0xff);
	return (status);
}

/* "edges": nothing is written past the end of the disk (see above). */
static int
edges(uint8_t *p)
{
	uint64_t cap = blk.capacity;
	struct virtq_buf d = { p, 2 * VBLK_SECTOR, 0 };
	uint8_t st;

	memset(p, 'X', 2 * VBLK_SECTOR);
	st = one_io(VBLK_T_OUT, cap - 1, &d);
	GCHECK_EQ(st, VBLK_S_IOERR);
	d.len = VBLK_SECTOR;
	st = one_io(VBLK_T_OUT, cap, &d);
	GCHECK_EQ(st, VBLK_S_IOERR);
	snprintf((char *)p, VBLK_SECTOR, "%-511s", "durable last sector");
	p[VBLK_SECTOR - 1] = '\n';
	GCHECK_EQ(one_io(VBLK_T_OUT, cap - 1, &d), VBLK_S_OK);
	GCHECK_EQ(one_io(VBLK_T_FLUSH, 0, NULL), VBLK_S_OK);
	printf("EDGES %s (last sector %llu)\n", (kit_failures != 0) ? "FAILED" :
	    "ok", (unsigned long long)(cap - 1));
	return ((kit_failures != 0) ? -1 : 0);
}

int
guest_main(void)
{
	static uint8_t *buf[BATCH_MAX];
	struct virtq_buf d;
	uint64_t nblocks, seq = 0, i, n;
	unsigned batch = (unsigned)arg_get_u64("batch", 8);
	int noflush = arg_get("noflush") != NULL;

	if (batch == 0 || batch > BATCH_MAX)
		batch = 8;
	if (vblk_open(&blk, VIRTIO_AUTO, VBLK_F_SEG_MAX | VBLK_F_BLK_SIZE |
	    VBLK_F_FLUSH, 0, 0) != 0) {
		GCHECK(0);
		return (1);
	}
	GCHECK(blk.vd.features & VBLK_F_FLUSH);
	nblocks = blk.capacity / SECT_PER_BLOCK;
	n = arg_get_u64("blocks", nblocks);
	if (n < nblocks)
		nblocks = n;
	for (i = 0; i < batch; i++) {
		buf[i] = virtio_alloc(BLOCK, BLOCK);
		GCHECK(buf[i] != NULL);
		if (buf[i] == NULL)
			return (1);
	}
	printf("DURABLE start blocks=%llu batch=%u\n",
	    (unsigned long long)nblocks, batch);
	if (arg_get("edges") != NULL && edges(buf[0]) != 0)
		return (1);
	while (seq < nblocks) {
		n = nblocks - seq < batch ? nblocks - seq : batch;
		for (i = 0; i < n; i++) {
			fill_block(buf[i], seq + i);
			d = (struct virtq_buf){ buf[i], BLOCK, 0 };
			if (vblk_submit(&blk, VBLK_T_OUT, (seq + i) *
			    SECT_PER_BLOCK, &d, 1, 0) < 0) {
				GCHECK(0);
				return (1);
			}
		}
		virtq_kick(&blk.vq);
		if (reap((unsigned)n, "write") != 0)
			return (1);
		seq += n;
		if (noflush) {
			printf("WROTE %llu\n", (unsigned long long)(seq - 1));
			continue;
		}
		if (vblk_submit(&blk, VBLK_T_FLUSH, 0, NULL, 0, 0) < 0)
			return (1);
		virtq_kick(&blk.vq);
		if (reap(1, "flush") != 0)
			return (1);
		printf("FLUSHED %llu\n", (unsigned long long)(seq - 1));
	}
	printf("DURABLE done\n");
	return (0);
}
