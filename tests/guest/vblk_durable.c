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

int
guest_main(void)
{
	static uint8_t *buf[BATCH_MAX];
	struct virtq_buf d;
	uint64_t nblocks, seq = 0, i, n;
	unsigned batch = (unsigned)arg_get_u64("batch", 8);

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
