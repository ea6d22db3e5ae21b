/*
 * blk_host.c: what the host's storage gives, and what the disk engine
 * (src/backend/blockif) gives on top of it, on one file.
 *
 *	blk_host [-f FILE] [-s MiB] [-t SECONDS] [-b]
 *
 *   -f  the test file (default /var/tmp/blk_host.img; created, and
 *	 removed at the end unless it existed)
 *   -s  its size in MiB (default 256)
 *   -t  seconds per figure (default 2)
 *   -b  buffered I/O (default O_DIRECT, so the page cache is out of the
 *	 figures; buffered when the filesystem has no O_DIRECT)
 *
 * Figures: 4 KiB random reads at queue depth 1 and 32 (IOPS), 128 KiB
 * sequential reads and writes at depth 1 (MB/s, 10^6 bytes).  "host" is
 * pread/pwrite at depth 1 and a bare io_uring (IORING_OP_READ/WRITE,
 * io_uring_submit_and_wait) at depth 32 and on the "bare io_uring" lines;
 * the other columns go through blockif with each engine, completions
 * reaped after poll(2) on the queue's eventfd as a device would.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "backend/blockif.h"
#include "config.h"
#include "log.h"

#define RAND_BS		4096
#define SEQ_BS		(128 * 1024)
#define QD_MAX		32

static const char *path = "/var/tmp/blk_host.img";
static uint64_t	size = 256 * MiB;
static double	secs = 2;
static bool	direct = true;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static uint64_t	rng = 0x9e3779b97f4a7c15ULL;

/* xorshift64: a random block-aligned offset. */
static uint64_t
rand_off(uint64_t bs)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((rng % (size / bs)) * bs);
}

static void *
xalloc(size_t len)
{
	void *p;

	if (posix_memalign(&p, 4096, len) != 0) {
		perror("posix_memalign");
		exit(1);
	}
	memset(p, 0x5a, len);
	return (p);
}

static int
open_file(int flags)
{
	int fd;

	fd = open(path, flags | (direct ? O_DIRECT : 0));
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	return (fd);
}

/* ---- host: pread/pwrite and a bare io_uring ----------------------------- */

/* Operations per second of pread/pwrite of bs bytes, random or sequential. */
static double
host_sync(bool wr, bool rnd, size_t bs)
{
	uint8_t *buf = xalloc(bs);
	double t0, t;
	uint64_t n, off;
	ssize_t r;
	int fd;

	fd = open_file(wr ? O_RDWR : O_RDONLY);
	t0 = now();
	off = 0;
	for (n = 0; (n & 63) != 0 || (t = now()) - t0 < secs; n++) {
		if (rnd)
			off = rand_off(bs);
		else if ((off += bs) + bs > size)
			off = 0;
		r = wr ? pwrite(fd, buf, bs, (off_t)off) :
		    pread(fd, buf, bs, (off_t)off);
		if (r != (ssize_t)bs) {
			perror("pread/pwrite");
			exit(1);
		}
	}
	if (wr)
		fdatasync(fd);
	t = now();
	close(fd);
	free(buf);
	return ((double)n / (t - t0));
}

/* Queue one read or write of bs bytes from buffer p on ring. */
static void
uring_queue(struct io_uring *ring, int fd, bool wr, bool rnd, size_t bs,
    uint8_t *p, uint64_t *offp)
{
	struct io_uring_sqe *sqe;

	if (rnd)
		*offp = rand_off(bs);
	else if ((*offp += bs) + bs > size)
		*offp = 0;
	sqe = io_uring_get_sqe(ring);
	if (wr)
		io_uring_prep_write(sqe, fd, p, (unsigned)bs, *offp);
	else
		io_uring_prep_read(sqe, fd, p, (unsigned)bs, *offp);
	io_uring_sqe_set_data(sqe, p);
}

/* Operations per second of bs bytes through a bare io_uring at depth qd. */
static double
host_uring(bool wr, bool rnd, size_t bs, unsigned qd)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	uint8_t *buf = xalloc(bs * qd), *p;
	uint64_t n, off = 0;
	double t0, t;
	unsigned i;
	int fd, err;

	fd = open_file(wr ? O_RDWR : O_RDONLY);
	if ((err = io_uring_queue_init(qd, &ring, 0)) != 0) {
		fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-err));
		return (-1);
	}
	for (i = 0; i < qd; i++)
		uring_queue(&ring, fd, wr, rnd, bs, buf + i * bs, &off);
	t0 = now();
	for (n = 0; now() - t0 < secs; ) {
		io_uring_submit_and_wait(&ring, 1);
		while (io_uring_peek_cqe(&ring, &cqe) == 0) {
			if (cqe->res != (int)bs) {
				fprintf(stderr, "io_uring: %d\n", cqe->res);
				exit(1);
			}
			p = io_uring_cqe_get_data(cqe);
			io_uring_cqe_seen(&ring, cqe);
			uring_queue(&ring, fd, wr, rnd, bs, p, &off);
			n++;
		}
	}
	if (wr)
		fdatasync(fd);
	t = now() - t0;
	io_uring_queue_exit(&ring);
	close(fd);
	free(buf);
	return ((double)n / t);
}

/* ---- blockif ------------------------------------------------------------ */

struct bench_req {
	struct blockif_req br;
	struct iovec	iov;
};

static struct {
	struct blockif_queue *q;
	bool		rnd, stop;
	size_t		bs;
	uint64_t	seqoff, done;
	int		errors;
} B;

static void
bench_next(struct bench_req *r)
{
	if (B.rnd)
		r->br.br_offset = rand_off(B.bs);
	else {
		r->br.br_offset = B.seqoff;
		if ((B.seqoff += B.bs) + B.bs > size)
			B.seqoff = 0;
	}
	if (blockif_submit(B.q, &r->br) != 0)
		B.errors++;
}

static void
bench_cb(struct blockif_req *br, int err)
{
	if (err != 0)
		B.errors++;
	B.done++;
	if (!B.stop)
		bench_next(br->br_param);
}

/* Operations per second through blockif with engine at depth qd. */
static double
bif(const char *engine, bool wr, bool rnd, size_t bs, unsigned qd)
{
	struct bench_req r[QD_MAX];
	struct config_node *n;
	struct blockif *bc;
	struct pollfd pfd;
	uint8_t *buf = xalloc(bs * qd);
	double t0, t;
	uint64_t start;
	unsigned i;

	config_init();
	n = config_create_node(NULL, "bench");
	if (config_set(n, "path", path) != 0 ||
	    config_set(n, "engine", engine) != 0 ||
	    config_set(n, "nocache", direct ? "true" : "false") != 0 ||
	    blockif_open(n, "bench", &bc) != 0 ||
	    blockif_queue_open(bc, qd, &B.q) != 0)
		return (0);
	B.rnd = rnd;
	B.bs = bs;
	B.stop = false;
	B.seqoff = 0;
	B.done = 0;
	B.errors = 0;
	for (i = 0; i < qd; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].iov = (struct iovec){ buf + i * bs, bs };
		r[i].br.br_op = wr ? BLOCKIF_OP_WRITE : BLOCKIF_OP_READ;
		r[i].br.br_iov = &r[i].iov;
		r[i].br.br_iovcnt = 1;
		r[i].br.br_callback = bench_cb;
		r[i].br.br_param = &r[i];
	}
	pfd = (struct pollfd){ .fd = blockif_queue_fd(B.q), .events = POLLIN };
	t0 = now();
	for (i = 0; i < qd; i++)
		bench_next(&r[i]);
	blockif_flush_submits(B.q);
	while ((t = now()) - t0 < secs) {
		if (poll(&pfd, 1, 1000) < 0)
			break;
		blockif_reap(B.q);
		blockif_flush_submits(B.q);
	}
	B.stop = true;
	start = B.done;
	blockif_queue_quiesce(B.q);
	if (wr) {
		struct blockif_req fl = { .br_op = BLOCKIF_OP_FLUSH,
		    .br_callback = bench_cb };
		if (blockif_submit(B.q, &fl) == 0)
			blockif_queue_quiesce(B.q);
		t = now();
	}
	blockif_queue_close(B.q);
	blockif_close(bc);
	free(buf);
	if (B.errors != 0)
		fprintf(stderr, "blk_host: %d errors\n", B.errors);
	return ((double)start / (t - t0));
}

/* ---- main --------------------------------------------------------------- */

static void
make_file(void)
{
	uint8_t *buf = xalloc(MiB);
	uint64_t off;
	size_t i;
	int fd;

	for (i = 0; i < MiB; i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 24);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	for (off = 0; off < size; off += MiB)
		if (pwrite(fd, buf, MiB, (off_t)off) != (ssize_t)MiB) {
			perror("pwrite");
			exit(1);
		}
	fsync(fd);
	close(fd);
	free(buf);
	/* Direct I/O where the filesystem has it. */
	if (direct && (fd = open(path, O_RDONLY | O_DIRECT)) < 0) {
		fprintf(stderr, "blk_host: no O_DIRECT on %s: buffered\n", path);
		direct = false;
	} else if (direct)
		close(fd);
}

/* One line of figures; a negative one is printed as "-". */
static void
row(const char *what, double host, double u, double t, double scale)
{
	const double v[3] = { host, u, t };
	static const int w[3] = { 12, 14, 12 };
	int i;

	printf("%-34s", what);
	for (i = 0; i < 3; i++) {
		if (v[i] < 0)
			printf(" %*s", w[i], "-");
		else
			printf(" %*.0f", w[i], v[i] / scale);
	}
	printf("\n");
}

int
main(int argc, char **argv)
{
	struct stat st;
	bool existed;
	double mb = 1e6 / SEQ_BS;
	int c;

	while ((c = getopt(argc, argv, "f:s:t:b")) != -1) {
		switch (c) {
		case 'f':
			path = optarg;
			break;
		case 's':
			size = strtoull(optarg, NULL, 0) * MiB;
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		case 'b':
			direct = false;
			break;
		default:
			fprintf(stderr, "usage: blk_host [-f FILE] [-s MiB] "
			    "[-t SECONDS] [-b]\n");
			return (64);
		}
	}
	if (size < 2 * SEQ_BS || secs <= 0) {
		fprintf(stderr, "blk_host: bad -s or -t\n");
		return (64);
	}
	log_init("blk_host");
	existed = stat(path, &st) == 0;
	make_file();
	printf("blk_host: %s, %llu MiB, %s, %.1f s per figure\n", path,
	    (unsigned long long)(size / MiB), direct ? "O_DIRECT" :
	    "buffered", secs);
	printf("%-34s %12s %14s %12s\n", "", "host", "blockif", "blockif");
	printf("%-34s %12s %14s %12s\n", "", "", "io_uring", "thread");
	row("4K random read QD1 (IOPS)", host_sync(false, true, RAND_BS),
	    bif("io_uring", false, true, RAND_BS, 1),
	    bif("thread", false, true, RAND_BS, 1), 1);
	row("  the same, bare io_uring", host_uring(false, true, RAND_BS, 1),
	    -1, -1, 1);
	row("4K random read QD32 (IOPS)",
	    host_uring(false, true, RAND_BS, QD_MAX),
	    bif("io_uring", false, true, RAND_BS, QD_MAX),
	    bif("thread", false, true, RAND_BS, QD_MAX), 1);
	row("128K sequential read QD1 (MB/s)", host_sync(false, false, SEQ_BS),
	    bif("io_uring", false, false, SEQ_BS, 1),
	    bif("thread", false, false, SEQ_BS, 1), mb);
	row("  the same, bare io_uring", host_uring(false, false, SEQ_BS, 1),
	    -1, -1, mb);
	row("128K sequential write QD1 (MB/s)", host_sync(true, false, SEQ_BS),
	    bif("io_uring", true, false, SEQ_BS, 1),
	    bif("thread", true, false, SEQ_BS, 1), mb);
	row("  the same, bare io_uring", host_uring(true, false, SEQ_BS, 1),
	    -1, -1, mb);
	if (!existed)
		unlink(path);
	config_fini();
	return (0);
}
