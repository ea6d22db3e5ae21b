/*
 * test_blockif.c: the disk engine on real temporary files (and a loop
 * device when losetup works), each engine in its own row: round trips
 * with odd iovecs and offsets, 256 requests in flight, the end of the
 * disk, zero-fill at the end of a file, short transfers, read-only disks,
 * flush, discard and write-zeroes, the keys, open errors, quiesce,
 * O_DIRECT bounce buffers and the io_uring restrictions.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "backend/blockif.h"
#include "backend/blockif_impl.h"
#include "config.h"
#include "log.h"
#include "test.h"

#define IDENT	"virtio-blk 0:3:0"

static char	tdir[64];		/* the temporary directory */
static int	uring_state;		/* 0 unknown, 1 works, -errno */

/* ---- Helpers ------------------------------------------------------------ */

static const char *
tpath(const char *name)
{
	static char buf[4][128];
	static int i;

	if (tdir[0] == '\0') {
		strcpy(tdir, "/tmp/test_blockif.XXXXXX");
		if (mkdtemp(tdir) == NULL) {
			perror("mkdtemp");
			exit(2);
		}
	}
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tdir, name);
	return (buf[i]);
}

static uint8_t
pat(uint64_t off, unsigned seed)
{
	return ((uint8_t)((off * 131u) ^ (off >> 9) ^ seed));
}

static void
fill(uint8_t *p, size_t len, uint64_t off, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(off + i, seed);
}

static bool
check_pat(const uint8_t *p, size_t len, uint64_t off, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pat(off + i, seed))
			return (false);
	return (true);
}

static bool
all(const uint8_t *p, size_t len, uint8_t v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return (false);
	return (true);
}

/* A file of size bytes of pattern seed (seed < 0: a hole). */
static const char *
mkfile(const char *name, uint64_t size, int seed)
{
	const char *path = tpath(name);
	uint8_t *buf;
	uint64_t off, n;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		perror(path);
		exit(2);
	}
	if (seed >= 0) {
		buf = malloc(MiB);
		for (off = 0; off < size; off += n) {
			n = MIN(size - off, MiB);
			fill(buf, n, off, (unsigned)seed);
			if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) {
				perror("pwrite");
				exit(2);
			}
		}
		free(buf);
		fsync(fd);
	}
	close(fd);
	return (path);
}

static bool
uring_ok(void)
{
	struct io_uring ring;

	if (uring_state == 0) {
		uring_state = io_uring_queue_init(4, &ring, 0);
		if (uring_state == 0) {
			io_uring_queue_exit(&ring);
			uring_state = 1;
		}
	}
	return (uring_state == 1);
}

/* stderr to a file while capturing; the text and its line count after. */
static FILE	*cap_tmp;
static int	cap_saved = -1;
static char	cap_buf[8192];

static void
cap_begin(void)
{
	fflush(stderr);
	cap_tmp = tmpfile();
	cap_saved = dup(2);
	dup2(fileno(cap_tmp), 2);
}

static int
cap_end(void)
{
	size_t n;
	int lines;
	char *p;

	fflush(stderr);
	dup2(cap_saved, 2);
	close(cap_saved);
	rewind(cap_tmp);
	n = fread(cap_buf, 1, sizeof(cap_buf) - 1, cap_tmp);
	cap_buf[n] = '\0';
	fclose(cap_tmp);
	for (lines = 0, p = cap_buf; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	return (lines);
}

/*
 * Open path with the given engine and "key=value" settings (NULL-ended).
 * Messages are captured; *nlines gets their count if not NULL.
 */
static int
open_disk(const char *engine, const char *path, struct blockif **bcp,
    int *nlines, const char *const *kv)
{
	struct config_node *n;
	char key[64];
	const char *eq;
	int err, lines;

	config_init();
	n = config_create_node(NULL, "pci.0.3.0");
	if (path != NULL && config_set(n, "path", path) != 0)
		exit(2);
	if (engine != NULL && config_set(n, "engine", engine) != 0)
		exit(2);
	for (; kv != NULL && *kv != NULL; kv++) {
		eq = strchr(*kv, '=');
		snprintf(key, sizeof(key), "%.*s", (int)(eq - *kv), *kv);
		if (config_set(n, key, eq + 1) != 0)
			exit(2);
	}
	cap_begin();
	err = blockif_open(n, IDENT, bcp);
	lines = cap_end();
	if (nlines != NULL)
		*nlines = lines;
	if (err != 0 && nlines == NULL)
		printf("  open %s: %d: %s", path, err, cap_buf);
	return (err);
}

/* A request and what its callback saw. */
struct treq {
	struct blockif_req br;
	int		ncalls;
	int		err;
	int		*counter;
};

static void
tcb(struct blockif_req *br, int err)
{
	struct treq *t = br->br_param;

	t->ncalls++;
	t->err = err;
	if (t->counter != NULL)
		(*t->counter)++;
}

static void
treq_init(struct treq *t, enum blockif_op op, uint64_t off,
    const struct iovec *iov, int cnt, uint64_t len, int *counter)
{
	memset(t, 0, sizeof(*t));
	t->br.br_op = op;
	t->br.br_offset = off;
	t->br.br_iov = iov;
	t->br.br_iovcnt = cnt;
	t->br.br_len = len;
	t->br.br_callback = tcb;
	t->br.br_param = t;
	t->counter = counter;
	t->err = 1;
}

/* Poll the queue's eventfd and reap until *count reaches want (5 s). */
static int
drain(struct blockif_queue *q, int *count, int want)
{
	struct pollfd pfd = { .fd = blockif_queue_fd(q), .events = POLLIN };
	int n;

	while (*count < want) {
		if (poll(&pfd, 1, 5000) != 1) {
			printf("  drain: timeout at %d of %d\n", *count, want);
			return (-1);
		}
		n = blockif_reap(q);
		if (n > BLOCKIF_REAP_MAX)
			return (-1);
	}
	return (0);
}

/* One request, waited for; returns the callback's error (or 99). */
static int
do_req(struct blockif_queue *q, enum blockif_op op, uint64_t off,
    const struct iovec *iov, int cnt, uint64_t len)
{
	struct treq t;
	int count = 0;

	treq_init(&t, op, off, iov, cnt, len, &count);
	if (blockif_submit(q, &t.br) != 0)
		return (99);
	blockif_flush_submits(q);
	if (drain(q, &count, 1) != 0 || t.ncalls != 1)
		return (99);
	return (t.err);
}

static int
do_rw(struct blockif_queue *q, enum blockif_op op, uint64_t off, void *buf,
    size_t len)
{
	struct iovec iov = { buf, len };

	return (do_req(q, op, off, &iov, 1, 0));
}

/* The file status flags of the disk's fd (from /proc/self/fdinfo). */
static int
fd_flags(struct blockif *bc)
{
	char path[64], line[128];
	unsigned flags = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", bc->bc_fd);
	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "flags: %o", &flags) == 1)
			break;
	fclose(fp);
	return ((int)flags);
}

static uint64_t
file_blocks(const char *path)
{
	struct stat st;

	return (stat(path, &st) == 0 ? (uint64_t)st.st_blocks : 0);
}

/*
 * Each engine gets its own row: NAME_uring (skipped, saying why, when
 * io_uring cannot be set up here) and NAME_thread.
 */
#define ENGINE_TEST(name)						\
	static void name##_body(const char *engine);			\
	TEST(name##_uring)						\
	{								\
		if (!uring_ok())					\
			TEST_SKIP("io_uring_queue_init failed (%s): "	\
			    "the io_uring engine is NOT tested here",	\
			    strerror(-uring_state));			\
		name##_body("io_uring");				\
	}								\
	TEST(name##_thread) { name##_body("thread"); }			\
	static void name##_body(const char *engine)

/* ---- Tests -------------------------------------------------------------- */

ENGINE_TEST(roundtrip)
{
	static const size_t wl[] = { 1, 511, 4103, 3000, 77 };
	static const size_t rl[] = { 4000, 13, 3677 };
	const char *path = mkfile("rt.img", 1 * MiB, -1);
	uint8_t wbuf[8192], rbuf[8192], fbuf[8192];
	struct iovec wiov[nitems(wl)], riov[nitems(rl)];
	struct blockif_queue *q;
	struct blockif *bc;
	uint64_t off = 3 * 4097 + 5;
	size_t i, pos, total;
	int fd;

	if (open_disk(engine, path, &bc, NULL, NULL) != 0) {
		CHECK(0);
		return;
	}
	CHECK_STR(blockif_engine(bc), engine);
	CHECK_EQ(blockif_size(bc), 1 * MiB);
	CHECK_EQ(blockif_sectsz(bc), 512);
	CHECK(!blockif_is_ro(bc));
	CHECK(blockif_queue_open(bc, 8, &q) == 0);
	for (i = pos = 0; i < nitems(wl); pos += wl[i++])
		wiov[i] = (struct iovec){ wbuf + pos, wl[i] };
	total = pos;
	fill(wbuf, total, off, 7);
	CHECK_EQ(do_req(q, BLOCKIF_OP_WRITE, off, wiov, nitems(wiov), 0), 0);

	/* Read back split differently, with a byte on each side untouched. */
	memset(rbuf, 0xAA, sizeof(rbuf));
	for (i = pos = 0; i < nitems(rl); pos += rl[i++])
		riov[i] = (struct iovec){ rbuf + 1 + pos, rl[i] };
	CHECK_EQ(pos, total - 2);
	CHECK_EQ(do_req(q, BLOCKIF_OP_READ, off + 1, riov, nitems(riov), 0), 0);
	CHECK(check_pat(rbuf + 1, total - 2, off + 1, 7));
	CHECK_EQ(rbuf[0], 0xAA);
	CHECK_EQ(rbuf[total - 1], 0xAA);

	/* And through a second fd, with zeroes around what was written. */
	fd = open(path, O_RDONLY);
	CHECK_EQ(pread(fd, fbuf, total + 2, (off_t)off - 1), (ssize_t)total + 2);
	CHECK_EQ(fbuf[0], 0);
	CHECK(check_pat(fbuf + 1, total, off, 7));
	CHECK_EQ(fbuf[total + 1], 0);
	close(fd);

	/* Nothing to do is done at once. */
	CHECK_EQ(do_req(q, BLOCKIF_OP_READ, 0, NULL, 0, 0), 0);
	CHECK_EQ(do_req(q, BLOCKIF_OP_WRITE_ZEROES, 4096, NULL, 0, 0), 0);
	CHECK_EQ(do_req(q, BLOCKIF_OP_READ, 0, NULL, -1, 0), -EINVAL);
	CHECK_EQ(do_req(q, 42, 0, NULL, 0, 0), -EINVAL);
	blockif_queue_close(q);
	blockif_close(bc);
}

ENGINE_TEST(inflight256)
{
	enum { N = 256, SZ = 4096 };
	const char *path = mkfile("if.img", 2 * N * SZ, 3);
	static struct treq t[N + 1];
	static uint8_t buf[N][SZ];
	static struct iovec iov[N];
	struct blockif_queue *q;
	struct blockif *bc;
	int i, count = 0, bad = 0;
	uint64_t off;

	if (open_disk(engine, path, &bc, NULL, NULL) != 0) {
		CHECK(0);
		return;
	}
	CHECK(blockif_queue_open(bc, N, &q) == 0);
	for (i = 0; i < N; i++) {
		off = (uint64_t)i * 2 * SZ;
		iov[i] = (struct iovec){ buf[i], SZ };
		if (i % 2 == 0) {		/* read the pattern */
			memset(buf[i], 0xAA, SZ);
			treq_init(&t[i], BLOCKIF_OP_READ, off, &iov[i], 1, 0,
			    &count);
		} else {			/* write a new one */
			fill(buf[i], SZ, off, 9);
			treq_init(&t[i], BLOCKIF_OP_WRITE, off, &iov[i], 1, 0,
			    &count);
		}
		CHECK_EQ(blockif_submit(q, &t[i].br), 0);
	}
	/* The queue is full: no room, and no callback for it. */
	treq_init(&t[N], BLOCKIF_OP_FLUSH, 0, NULL, 0, 0, &count);
	CHECK_EQ(blockif_submit(q, &t[N].br), -EAGAIN);
	blockif_flush_submits(q);
	/*
	 * Once they are all done, one reap runs BLOCKIF_REAP_MAX callbacks
	 * and leaves the eventfd readable for the rest.
	 */
	usleep(300 * 1000);
	CHECK_EQ(blockif_reap(q), BLOCKIF_REAP_MAX);
	CHECK_EQ(count, BLOCKIF_REAP_MAX);
	CHECK_EQ(poll(&(struct pollfd){ .fd = blockif_queue_fd(q),
	    .events = POLLIN }, 1, 0), 1);
	CHECK_EQ(drain(q, &count, N), 0);
	CHECK_EQ(count, N);
	for (i = 0; i < N; i++) {
		off = (uint64_t)i * 2 * SZ;
		if (t[i].ncalls != 1 || t[i].err != 0)
			bad++;
		else if (i % 2 == 0 && !check_pat(buf[i], SZ, off, 3))
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(t[N].ncalls, 0);
	CHECK_EQ(blockif_reap(q), 0);

	/* The writes landed. */
	for (i = 1; i < N; i += 2) {
		memset(buf[0], 0, SZ);
		off = (uint64_t)i * 2 * SZ;
		if (do_rw(q, BLOCKIF_OP_READ, off, buf[0], SZ) != 0 ||
		    !check_pat(buf[0], SZ, off, 9))
			bad++;
	}
	CHECK_EQ(bad, 0);
	blockif_queue_close(q);
	blockif_close(bc);
}

ENGINE_TEST(past_end)
{
	const char *path = mkfile("pe.img", 64 * 1024, 5);
	uint8_t buf[2048];
	struct iovec iov[2] = { { buf, 512 }, { buf + 512, 512 } };
	struct blockif_queue *q;
	struct blockif *bc;
	uint64_t size = 64 * 1024;
	struct stat st;

	if (open_disk(engine, path, &bc, NULL, NULL) != 0) {
		CHECK(0);
		return;
	}
	CHECK(blockif_queue_open(bc, 4, &q) == 0);
	memset(buf, 0xAA, sizeof(buf));
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, size, buf, 512), -EIO);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, size + 512, buf, 512), -EIO);
	/* Overlapping the end: nothing of it is read. */
	CHECK_EQ(do_req(q, BLOCKIF_OP_READ, size - 512, iov, 2, 0), -EIO);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, size - 1, buf, 2), -EIO);
	/* offset + len wraps around. */
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, UINT64_MAX - 100, buf, 512), -EIO);
	CHECK_EQ(do_req(q, BLOCKIF_OP_DISCARD, 512, NULL, 0, UINT64_MAX), -EIO);
	CHECK(all(buf, sizeof(buf), 0xAA));
	/* Nor written. */
	fill(buf, sizeof(buf), 0, 1);
	CHECK_EQ(do_req(q, BLOCKIF_OP_WRITE, size - 512, iov, 2, 0), -EIO);
	CHECK_EQ(do_req(q, BLOCKIF_OP_WRITE_ZEROES, size - 512, NULL, 0, 1024),
	    -EIO);
	CHECK_EQ(do_req(q, BLOCKIF_OP_DISCARD, size, NULL, 0, 512), -EIO);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_size, (off_t)size);
	/* The last sector itself is fine. */
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, size - 512, buf, 512), 0);
	CHECK(check_pat(buf, 512, size - 512, 5));
	blockif_queue_close(q);
	blockif_close(bc);
}

ENGINE_TEST(eof_zero_fill)
{
	const char *path = mkfile("eof.img", 1000, 4);
	uint8_t buf[1024];
	struct iovec iov[3] = { { buf, 700 }, { buf + 700, 300 },
	    { buf + 1000, 24 } };
	struct blockif_queue *q;
	struct blockif *bc;

	if (open_disk(engine, path, &bc, NULL, NULL) != 0) {
		CHECK(0);
		return;
	}
	/* The size is rounded up to a whole sector that reads as zeroes. */
	CHECK_EQ(blockif_size(bc), 1024);
	CHECK(blockif_queue_open(bc, 4, &q) == 0);
	memset(buf, 0xAA, sizeof(buf));
	CHECK_EQ(do_req(q, BLOCKIF_OP_READ, 0, iov, 3, 0), 0);
	CHECK(check_pat(buf, 1000, 0, 4));
	CHECK(all(buf + 1000, 24, 0));

	/* Short reads of 300 bytes: retried, then zero-filled at the end. */
	blockif_xfer_limit = 300;
	memset(buf, 0xAA, sizeof(buf));
	CHECK_EQ(do_req(q, BLOCKIF_OP_READ, 0, iov, 3, 0), 0);
	CHECK(check_pat(buf, 1000, 0, 4));
	CHECK(all(buf + 1000, 24, 0));
	blockif_xfer_limit = 0;

	/* The file shrinks under the disk: what is gone reads as zeroes. */
	CHECK_EQ(truncate(path, 600), 0);
	memset(buf, 0xAA, sizeof(buf));
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, 512, buf, 512), 0);
	CHECK(check_pat(buf, 88, 512, 4));
	CHECK(all(buf + 88, 512 - 88, 0));
	memset(buf, 0xAA, sizeof(buf));
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, 0, buf, 1024), 0);
	CHECK(check_pat(buf, 600, 0, 4));
	CHECK(all(buf + 600, 424, 0));
	blockif_queue_close(q);
	blockif_close(bc);
}

ENGINE_TEST(short_transfers)
{
	enum { LEN = 20000 };
	static const size_t len[] = { 1, 4095, 10000, 5000, 904 };
	const char *path = mkfile("short.img", 64 * 1024, -1);
	static uint8_t wbuf[LEN], rbuf[LEN];
	struct iovec wiov[nitems(len)], riov[2];
	struct blockif_queue *q;
	struct blockif *bc;
	size_t i, pos;

	if (open_disk(engine, path, &bc, NULL, NULL) != 0) {
		CHECK(0);
		return;
	}
	CHECK(blockif_queue_open(bc, 4, &q) == 0);
	for (i = pos = 0; i < nitems(len); pos += len[i++])
		wiov[i] = (struct iovec){ wbuf + pos, len[i] };
	CHECK_EQ(pos, LEN);
	fill(wbuf, LEN, 1234, 11);
	blockif_xfer_limit = 1000;
	CHECK_EQ(do_req(q, BLOCKIF_OP_WRITE, 1234, wiov, nitems(len), 0), 0);
	blockif_xfer_limit = 777;
	riov[0] = (struct iovec){ rbuf, 3333 };
	riov[1] = (struct iovec){ rbuf + 3333, LEN - 3333 };
	CHECK_EQ(do_req(q, BLOCKIF_OP_READ, 1234, riov, 2, 0), 0);
	blockif_xfer_limit = 0;
	CHECK(memcmp(wbuf, rbuf, LEN) == 0);
	blockif_queue_close(q);
	blockif_close(bc);
}

ENGINE_TEST(read_only)
{
	static const char *const kv[] = { "ro=true", NULL };
	const char *path = mkfile("ro.img", 64 * 1024, 6);
	uint8_t buf[4096];
	struct blockif_queue *q;
	struct blockif *bc;
	int flags;

	if (open_disk(engine, path, &bc, NULL, kv) != 0) {
		CHECK(0);
		return;
	}
	CHECK(blockif_is_ro(bc));
	CHECK(!blockif_candelete(bc));
	flags = fd_flags(bc);
	CHECK(flags >= 0);
	CHECK_EQ(flags & O_ACCMODE, O_RDONLY);
	CHECK(blockif_queue_open(bc, 4, &q) == 0);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(do_rw(q, BLOCKIF_OP_WRITE, 0, buf, sizeof(buf)), -EROFS);
	CHECK_EQ(do_req(q, BLOCKIF_OP_DISCARD, 0, NULL, 0, 4096), -EROFS);
	CHECK_EQ(do_req(q, BLOCKIF_OP_WRITE_ZEROES, 0, NULL, 0, 4096), -EROFS);
	CHECK_EQ(do_req(q, BLOCKIF_OP_FLUSH, 0, NULL, 0, 0), 0);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, 0, buf, sizeof(buf)), 0);
	CHECK(check_pat(buf, sizeof(buf), 0, 6));
	blockif_queue_close(q);
	blockif_close(bc);
}

ENGINE_TEST(flush)
{
	static const char *const kv[] = { "direct=on", NULL };
	const char *path = mkfile("fl.img", 256 * 1024, -1);
	static uint8_t buf[4][16384], rbuf[16384];
	struct treq t[5];
	struct iovec iov[4];
	struct blockif_queue *q, *q2;
	struct blockif *bc;
	int i, count = 0, fd;

	if (open_disk(engine, path, &bc, NULL, NULL) != 0) {
		CHECK(0);
		return;
	}
	CHECK(blockif_queue_open(bc, 8, &q) == 0);
	CHECK(blockif_queue_open(bc, 8, &q2) == 0);
	/* Writes complete, then the flush is submitted (on another queue). */
	for (i = 0; i < 4; i++) {
		fill(buf[i], sizeof(buf[i]), (uint64_t)i * 32768, 13);
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		treq_init(&t[i], BLOCKIF_OP_WRITE, (uint64_t)i * 32768,
		    &iov[i], 1, 0, &count);
		CHECK_EQ(blockif_submit(q, &t[i].br), 0);
	}
	blockif_flush_submits(q);
	CHECK_EQ(drain(q, &count, 4), 0);
	count = 0;
	treq_init(&t[4], BLOCKIF_OP_FLUSH, 0, NULL, 0, 0, &count);
	CHECK_EQ(blockif_submit(q2, &t[4].br), 0);
	blockif_flush_submits(q2);
	CHECK_EQ(drain(q2, &count, 1), 0);
	CHECK_EQ(t[4].ncalls, 1);
	CHECK_EQ(t[4].err, 0);
	/* The data is in the file, as another reader sees it. */
	fd = open(path, O_RDONLY);
	for (i = 0; i < 4; i++) {
		CHECK_EQ(pread(fd, rbuf, sizeof(rbuf), (off_t)i * 32768),
		    (ssize_t)sizeof(rbuf));
		CHECK(memcmp(rbuf, buf[i], sizeof(rbuf)) == 0);
	}
	close(fd);
	blockif_queue_close(q2);
	blockif_queue_close(q);
	blockif_close(bc);

	/* direct (O_SYNC) writes and flushes work too. */
	if (open_disk(engine, path, &bc, NULL, kv) != 0) {
		CHECK(0);
		return;
	}
	CHECK((fd_flags(bc) & O_SYNC) == O_SYNC);
	CHECK(blockif_queue_open(bc, 2, &q) == 0);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_WRITE, 0, buf[3], 4096), 0);
	CHECK_EQ(do_req(q, BLOCKIF_OP_FLUSH, 0, NULL, 0, 0), 0);
	blockif_queue_close(q);
	blockif_close(bc);
}

ENGINE_TEST(discard_zeroes)
{
	static const char *const nodel[] = { "nodelete=true", NULL };
	const char *path = mkfile("dz.img", 8 * MiB, 2);
	static uint8_t buf[MiB + 8192];
	struct blockif_queue *q;
	struct blockif *bc;
	uint64_t before, after;

	if (open_disk(engine, path, &bc, NULL, NULL) != 0) {
		CHECK(0);
		return;
	}
	CHECK(blockif_candelete(bc));
	CHECK(blockif_queue_open(bc, 4, &q) == 0);

	/* Discard frees the blocks; here (punched holes) they read as zeroes. */
	before = file_blocks(path);
	CHECK_EQ(do_req(q, BLOCKIF_OP_DISCARD, 1 * MiB, NULL, 0, MiB), 0);
	after = file_blocks(path);
	CHECK(before >= after + MiB / 512);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, 1 * MiB - 4096, buf, MiB + 8192), 0);
	CHECK(check_pat(buf, 4096, 1 * MiB - 4096, 2));
	CHECK(all(buf + 4096, MiB, 0));
	CHECK(check_pat(buf + 4096 + MiB, 4096, 2 * MiB, 2));

	/* Write-zeroes frees them too, and always reads back zeroes. */
	before = after;
	CHECK_EQ(do_req(q, BLOCKIF_OP_WRITE_ZEROES, 4 * MiB, NULL, 0, MiB), 0);
	after = file_blocks(path);
	CHECK(before >= after + MiB / 512);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, 4 * MiB - 4096, buf, MiB + 8192), 0);
	CHECK(check_pat(buf, 4096, 4 * MiB - 4096, 2));
	CHECK(all(buf + 4096, MiB, 0));
	CHECK(check_pat(buf + 4096 + MiB, 4096, 5 * MiB, 2));

	/* Inside a block: zeroed, its neighbours kept. */
	CHECK_EQ(do_req(q, BLOCKIF_OP_WRITE_ZEROES, 6 * MiB + 100, NULL, 0,
	    1000), 0);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, 6 * MiB, buf, 4096), 0);
	CHECK(check_pat(buf, 100, 6 * MiB, 2));
	CHECK(all(buf + 100, 1000, 0));
	CHECK(check_pat(buf + 1100, 4096 - 1100, 6 * MiB + 1100, 2));

	/* A filesystem that refuses both fallocate modes: zeroes are written. */
	atomic_store(&bc->bc_refused, (1u << BLOCKIF_WZ_PUNCH) |
	    (1u << BLOCKIF_WZ_ZERORANGE));
	before = file_blocks(path);
	CHECK_EQ(do_req(q, BLOCKIF_OP_WRITE_ZEROES, 7 * MiB - 512, NULL, 0,
	    MiB - 512), 0);
	CHECK_EQ(file_blocks(path), before);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, 7 * MiB - 1024, buf, MiB + 1024), 0);
	CHECK(check_pat(buf, 512, 7 * MiB - 1024, 2));
	CHECK(all(buf + 512, MiB - 512, 0));
	CHECK(check_pat(buf + MiB, 1024, 8 * MiB - 1024, 2));
	/* ... and a discard does nothing, successfully (it is advisory). */
	CHECK_EQ(do_req(q, BLOCKIF_OP_DISCARD, 0, NULL, 0, 4096), 0);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, 0, buf, 4096), 0);
	CHECK(check_pat(buf, 4096, 0, 2));
	blockif_queue_close(q);
	blockif_close(bc);

	/* nodelete: no discard at all, and write-zeroes keeps the blocks. */
	path = mkfile("dz.img", 2 * MiB, 2);
	if (open_disk(engine, path, &bc, NULL, nodel) != 0) {
		CHECK(0);
		return;
	}
	CHECK(!blockif_candelete(bc));
	CHECK(blockif_queue_open(bc, 4, &q) == 0);
	CHECK_EQ(do_req(q, BLOCKIF_OP_DISCARD, 0, NULL, 0, 4096), -EOPNOTSUPP);
	before = file_blocks(path);
	CHECK_EQ(do_req(q, BLOCKIF_OP_WRITE_ZEROES, MiB, NULL, 0, 65536), 0);
	CHECK(file_blocks(path) + 65536 / 512 > before);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, MiB, buf, 65536), 0);
	CHECK(all(buf, 65536, 0));
	blockif_queue_close(q);
	blockif_close(bc);
}

ENGINE_TEST(quiesce)
{
	enum { N = 64, SZ = 256 * 1024 };
	const char *path = mkfile("qs.img", 4 * MiB, 8);
	static struct treq t[N];
	static struct iovec iov[N];
	uint8_t *buf;
	struct blockif_queue *q;
	struct blockif *bc;
	int i, count = 0, bad = 0;

	if (open_disk(engine, path, &bc, NULL, NULL) != 0) {
		CHECK(0);
		return;
	}
	buf = malloc((size_t)N * SZ);
	CHECK(blockif_queue_open(bc, N, &q) == 0);
	for (i = 0; i < N; i++) {
		iov[i] = (struct iovec){ buf + (size_t)i * SZ, SZ };
		treq_init(&t[i], i % 4 == 3 ? BLOCKIF_OP_WRITE : BLOCKIF_OP_READ,
		    (uint64_t)(i % 16) * SZ, &iov[i], 1, 0, &count);
		if (i % 4 == 3)
			memset(iov[i].iov_base, 0, SZ);
		CHECK_EQ(blockif_submit(q, &t[i].br), 0);
		if (i == N / 2)		/* half started, half only queued */
			blockif_flush_submits(q);
	}
	blockif_queue_quiesce(q);
	CHECK_EQ(count, N);
	for (i = 0; i < N; i++)
		if (t[i].ncalls != 1 || t[i].err != 0)
			bad++;
	CHECK_EQ(bad, 0);
	CHECK_EQ(blockif_reap(q), 0);
	/* Quiescing an idle queue returns at once; closing quiesces too. */
	blockif_queue_quiesce(q);
	treq_init(&t[0], BLOCKIF_OP_FLUSH, 0, NULL, 0, 0, &count);
	CHECK_EQ(blockif_submit(q, &t[0].br), 0);
	blockif_queue_close(q);
	CHECK_EQ(t[0].ncalls, 1);
	blockif_close(bc);
	free(buf);
}

ENGINE_TEST(nocache_bounce)
{
	static const char *const kv[] = { "nocache=true", NULL };
	static const char *const kv4k[] = { "nocache=true",
	    "sectorsize=4096", NULL };
	const char *path = mkfile("nc.img", 5000, 10);
	uint8_t *a, *wbuf, *rbuf;
	struct iovec iov[3];
	struct blockif_queue *q;
	struct blockif *bc;
	int lines;

	if (open_disk(engine, path, &bc, &lines, kv) != 0) {
		printf("  %s", cap_buf);
		TEST_SKIP("O_DIRECT not available on %s", tdir);
	}
	CHECK((fd_flags(bc) & O_DIRECT) == O_DIRECT);
	CHECK_EQ(blockif_size(bc) % blockif_sectsz(bc), 0);
	CHECK(blockif_size(bc) >= 5000);
	CHECK(blockif_queue_open(bc, 4, &q) == 0);
	CHECK(posix_memalign((void **)&a, 4096, 3 * 65536) == 0);
	wbuf = a;
	rbuf = a + 65536;

	/* Aligned buffers go straight through. */
	memset(rbuf, 0xAA, 8192);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, 0, rbuf, 4096), 0);
	CHECK(check_pat(rbuf, 4096, 0, 10));

	/* Unaligned ones through the bounce buffer, at the end of the file too. */
	memset(rbuf, 0xAA, 8192);
	iov[0] = (struct iovec){ rbuf + 1, 100 };
	iov[1] = (struct iovec){ rbuf + 200, (size_t)blockif_size(bc) - 100 };
	CHECK_EQ(do_req(q, BLOCKIF_OP_READ, 0, iov, 2, 0), 0);
	CHECK_EQ(rbuf[0], 0xAA);
	CHECK(check_pat(rbuf + 1, 100, 0, 10));
	CHECK(check_pat(rbuf + 200, 4900, 100, 10));
	CHECK(all(rbuf + 200 + 4900, (size_t)blockif_size(bc) - 5000, 0));
	CHECK_EQ(rbuf[200 + blockif_size(bc) - 100], 0xAA);

	fill(wbuf + 3, 4096, 512, 12);
	iov[0] = (struct iovec){ wbuf + 3, 1000 };
	iov[1] = (struct iovec){ wbuf + 1003, 3096 };
	CHECK_EQ(do_req(q, BLOCKIF_OP_WRITE, 512, iov, 2, 0), 0);
	memset(rbuf, 0, 4096);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, 512, rbuf, 4096), 0);
	CHECK(check_pat(rbuf, 4096, 512, 12));

	/* Bounced in pieces: a request larger than the bounce buffer. */
	blockif_queue_close(q);
	blockif_close(bc);
	path = mkfile("nc.img", 3 * MiB, 14);
	CHECK_EQ(open_disk(engine, path, &bc, NULL, kv), 0);
	CHECK(blockif_queue_open(bc, 4, &q) == 0);
	free(a);
	a = malloc(2 * MiB + 1);
	memset(a, 0xAA, 2 * MiB + 1);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, 512, a + 1, 2 * MiB), 0);
	CHECK(check_pat(a + 1, 2 * MiB, 512, 14));
	CHECK_EQ(a[0], 0xAA);

	/* Offsets and lengths must stay aligned; write-zeroes works. */
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, 100, a, 512), -EINVAL);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, 0, a, 100), -EINVAL);
	CHECK_EQ(do_req(q, BLOCKIF_OP_WRITE_ZEROES, 0, NULL, 0, 8192), 0);
	atomic_store(&bc->bc_refused, (1u << BLOCKIF_WZ_PUNCH) |
	    (1u << BLOCKIF_WZ_ZERORANGE));
	CHECK_EQ(do_req(q, BLOCKIF_OP_WRITE_ZEROES, MiB, NULL, 0, 8192), 0);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, MiB - 512, a + 1, 9216), 0);
	CHECK(check_pat(a + 1, 512, MiB - 512, 14));
	CHECK(all(a + 513, 8192, 0));
	CHECK(check_pat(a + 513 + 8192, 512, MiB + 8192, 14));
	blockif_queue_close(q);
	blockif_close(bc);
	free(a);

	/* A bigger emulated sector is fine with O_DIRECT. */
	CHECK_EQ(open_disk(engine, path, &bc, NULL, kv4k), 0);
	CHECK_EQ(blockif_sectsz(bc), 4096);
	blockif_close(bc);
}

TEST(uring_restrictions)
{
	const char *path = mkfile("rs.img", 64 * 1024, 1);
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	char buf[512];
	struct iovec iov = { buf, sizeof(buf) };
	const char *step;
	int fd, i, res[4];

	if (!uring_ok())
		TEST_SKIP("io_uring_queue_init failed (%s): the io_uring "
		    "restrictions are NOT tested here", strerror(-uring_state));
	fd = open(path, O_RDONLY);
	CHECK_EQ(blockif_uring_setup(&ring, 8, fd, -1, true, &step), 0);
	/* 0: READV on the fixed file; 1: on a plain fd; 2: NOP; 3: WRITEV. */
	for (i = 0; i < 4; i++) {
		sqe = io_uring_get_sqe(&ring);
		if (i == 2)
			io_uring_prep_nop(sqe);
		else if (i == 3)
			io_uring_prep_writev(sqe, 0, &iov, 1, 0);
		else
			io_uring_prep_readv(sqe, i == 0 ? 0 : fd, &iov, 1, 0);
		if (i != 1)
			sqe->flags |= IOSQE_FIXED_FILE;
		io_uring_sqe_set_data(sqe, (void *)(uintptr_t)(i + 1));
	}
	/* The kernel stops a submission at an SQE it refuses: go on. */
	for (i = 0; i < 4 && io_uring_sq_ready(&ring) > 0; i++)
		CHECK(io_uring_submit(&ring) > 0);
	CHECK_EQ(io_uring_sq_ready(&ring), 0);
	for (i = 0; i < 4; i++) {
		CHECK_EQ(io_uring_wait_cqe(&ring, &cqe), 0);
		res[(uintptr_t)io_uring_cqe_get_data(cqe) - 1] = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	CHECK_EQ(res[0], 512);
	CHECK_EQ(res[1], -EACCES);
	CHECK_EQ(res[2], -EACCES);
	CHECK_EQ(res[3], -EACCES);	/* a read-only disk's ring: READV only */
	/* No new files, buffers or eventfds once enabled. */
	CHECK_EQ(io_uring_register_files_update(&ring, 0, &fd, 1), -EACCES);
	CHECK_EQ(io_uring_register_eventfd(&ring, fd), -EACCES);
	io_uring_queue_exit(&ring);
	close(fd);
}

TEST(sectorsize_keys)
{
	static const struct {
		const char *val;
		uint32_t l, p;		/* 0: -EINVAL */
	} cases[] = {
		{ "512", 512, 512 }, { "4096", 4096, 4096 },
		{ "512/4096", 512, 4096 }, { "32768", 32768, 32768 },
		{ "4096/32768", 4096, 32768 }, { "1024/1024", 1024, 1024 },
		{ "1000", 0, 0 }, { "256", 0, 0 }, { "65536", 0, 0 },
		{ "4096/512", 0, 0 }, { "512/", 0, 0 }, { "/512", 0, 0 },
		{ "abc", 0, 0 }, { "512/4096/8192", 0, 0 }, { "0x200", 0, 0 },
		{ "", 0, 0 }, { "-512", 0, 0 }, { "512 ", 0, 0 },
		{ "512/3000", 0, 0 }, { "99999999999999999999", 0, 0 },
	};
	const char *path = mkfile("ss.img", 5000, 1);
	char kvbuf[64];
	const char *kv[2] = { kvbuf, NULL };
	struct blockif *bc;
	uint32_t p, off;
	unsigned i;
	int err, lines;

	for (i = 0; i < nitems(cases); i++) {
		snprintf(kvbuf, sizeof(kvbuf), "sectorsize=%s", cases[i].val);
		err = open_disk("thread", path, &bc, &lines, kv);
		if (cases[i].l == 0) {
			if (err != -EINVAL || lines != 1)
				printf("  sectorsize=%s: %d, %d lines\n",
				    cases[i].val, err, lines);
			CHECK_EQ(err, -EINVAL);
			CHECK_EQ(lines, 1);
			continue;
		}
		CHECK_EQ(err, 0);
		if (err != 0)
			continue;
		blockif_psectsz(bc, &p, &off);
		CHECK_EQ(blockif_sectsz(bc), cases[i].l);
		CHECK_EQ(p, cases[i].p);
		CHECK_EQ(off, 0);
		CHECK_EQ(blockif_size(bc), roundup2(5000u, cases[i].l));
		blockif_close(bc);
	}
	/* Without the key: 512-byte sectors, the filesystem block as physical. */
	CHECK_EQ(open_disk("thread", path, &bc, NULL, NULL), 0);
	blockif_psectsz(bc, &p, &off);
	CHECK_EQ(blockif_sectsz(bc), 512);
	CHECK(p >= 512 && (p & (p - 1)) == 0);
	CHECK_EQ(blockif_size(bc), 5120);
	blockif_close(bc);
}

TEST(bad_keys)
{
	static const char *const bad[][2] = {
		{ "ro=maybe", NULL }, { "nocache=2", NULL },
		{ "direct=x", NULL }, { "sync=", NULL },
		{ "nodelete=yes please", NULL }, { "engine=aio", NULL },
	};
	const char *path = mkfile("bk.img", 4096, 1);
	struct blockif *bc;
	unsigned i;
	int lines;

	for (i = 0; i < nitems(bad); i++) {
		CHECK_EQ(open_disk(NULL, path, &bc, &lines, bad[i]), -EINVAL);
		CHECK_EQ(lines, 1);
	}
	/* No path at all. */
	CHECK_EQ(open_disk(NULL, NULL, &bc, &lines, NULL), -EINVAL);
	CHECK_EQ(lines, 1);
	CHECK(strstr(cap_buf, IDENT ": path") != NULL);
}

TEST(open_errors)
{
	const char *missing = tpath("missing.img");
	struct blockif *bc;
	char want[256];
	int lines;

	CHECK_EQ(open_disk(NULL, missing, &bc, &lines, NULL), -ENOENT);
	CHECK_EQ(lines, 1);
	snprintf(want, sizeof(want), IDENT ": %s: No such file or directory",
	    missing);
	CHECK(strstr(cap_buf, want) != NULL);

	CHECK_EQ(open_disk(NULL, tdir, &bc, &lines, NULL), -EISDIR);
	CHECK_EQ(lines, 1);
	CHECK(strstr(cap_buf, "Is a directory") != NULL);

	CHECK_EQ(open_disk(NULL, "/dev/null", &bc, &lines, NULL), -ENOTBLK);
	CHECK_EQ(lines, 1);
	CHECK(strstr(cap_buf, IDENT ": /dev/null: not a regular file or "
	    "block device") != NULL);

	CHECK_EQ(mkfifo(tpath("fifo"), 0600), 0);
	CHECK_EQ(open_disk(NULL, tpath("fifo"), &bc, &lines, NULL), -ENOTBLK);
	CHECK_EQ(lines, 1);
}

TEST(engine_choice)
{
	const char *path = mkfile("ec.img", 4096, 1);
	struct blockif *bc;
	int lines;

	log_setverbose(1);
	CHECK_EQ(open_disk(NULL, path, &bc, &lines, NULL), 0);
	CHECK_EQ(lines, 1);
	if (uring_ok()) {
		CHECK_STR(blockif_engine(bc), "io_uring");
		CHECK(strstr(cap_buf, "io_uring engine") != NULL);
	} else {
		CHECK_STR(blockif_engine(bc), "thread");
		CHECK(strstr(cap_buf, "worker-thread engine (io_uring") != NULL);
	}
	blockif_close(bc);
	CHECK_EQ(open_disk("thread", path, &bc, &lines, NULL), 0);
	CHECK_EQ(lines, 1);
	CHECK(strstr(cap_buf, "worker-thread engine") != NULL);
	blockif_close(bc);
	log_setverbose(0);
}

/* ---- A loop block device ------------------------------------------------ */

static char	loopdev[64];

/* Attach path to a free loop device (sector bsz); false if that fails. */
static bool
loop_attach(const char *path, unsigned bsz, char *why, size_t whylen)
{
	char cmd[256];
	FILE *fp;
	size_t n;

	if (geteuid() != 0) {
		snprintf(why, whylen, "not root");
		return (false);
	}
	snprintf(cmd, sizeof(cmd), "losetup -f --show -b %u %s 2>&1", bsz,
	    path);
	if ((fp = popen(cmd, "r")) == NULL) {
		snprintf(why, whylen, "popen: %s", strerror(errno));
		return (false);
	}
	n = fread(loopdev, 1, sizeof(loopdev) - 1, fp);
	loopdev[n] = '\0';
	loopdev[strcspn(loopdev, "\r\n")] = '\0';
	if (pclose(fp) != 0 || strncmp(loopdev, "/dev/loop", 9) != 0) {
		snprintf(why, whylen, "losetup failed: %s", loopdev);
		loopdev[0] = '\0';
		return (false);
	}
	return (true);
}

static void
loop_detach(void)
{
	char cmd[128];

	if (loopdev[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "losetup -d %s", loopdev);
	if (system(cmd) != 0)
		printf("  %s failed\n", cmd);
	loopdev[0] = '\0';
}

static void
loop_body(const char *engine)
{
	static const char *const ss512[] = { "sectorsize=512", NULL };
	static const char *const ss8k[] = { "sectorsize=8192/16384", NULL };
	const char *path = mkfile("loop.img", 4 * MiB, 15);
	static uint8_t buf[65536];
	struct blockif_queue *q;
	struct blockif *bc;
	uint32_t p, off;
	char why[160];
	int lines, fd;

	if (!loop_attach(path, 512, why, sizeof(why)))
		TEST_SKIP("no loop device (%s): block devices are NOT "
		    "tested here", why);
	if (open_disk(engine, loopdev, &bc, NULL, NULL) != 0) {
		CHECK(0);
		loop_detach();
		return;
	}
	CHECK_EQ(blockif_size(bc), 4 * MiB);
	CHECK_EQ(blockif_sectsz(bc), 512);
	blockif_psectsz(bc, &p, &off);
	CHECK(p >= 512);
	CHECK(blockif_queue_open(bc, 8, &q) == 0);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, MiB, buf, 65536), 0);
	CHECK(check_pat(buf, 65536, MiB, 15));
	fill(buf, 65536, 2 * MiB, 16);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_WRITE, 2 * MiB, buf, 65536), 0);
	CHECK_EQ(do_req(q, BLOCKIF_OP_FLUSH, 0, NULL, 0, 0), 0);
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, 4 * MiB, buf, 512), -EIO);
	/* BLKZEROOUT, and BLKDISCARD when the device can. */
	CHECK_EQ(do_req(q, BLOCKIF_OP_WRITE_ZEROES, 3 * MiB, NULL, 0, 65536), 0);
	memset(buf, 0xAA, sizeof(buf));
	CHECK_EQ(do_rw(q, BLOCKIF_OP_READ, 3 * MiB, buf, 65536), 0);
	CHECK(all(buf, 65536, 0));
	if (blockif_candelete(bc))
		CHECK_EQ(do_req(q, BLOCKIF_OP_DISCARD, MiB, NULL, 0, 65536), 0);
	else
		printf("  note: %s cannot discard\n", loopdev);
	blockif_queue_close(q);
	blockif_close(bc);
	/* The write reached the backing file. */
	fd = open(path, O_RDONLY);
	CHECK_EQ(pread(fd, buf, 65536, 2 * MiB), 65536);
	CHECK(check_pat(buf, 65536, 2 * MiB, 16));
	close(fd);
	loop_detach();

	/* A 4K-sector device: its sectors, and nothing smaller emulated. */
	if (!loop_attach(path, 4096, why, sizeof(why)))
		TEST_SKIP("no 4K loop device (%s)", why);
	CHECK_EQ(open_disk(engine, loopdev, &bc, NULL, NULL), 0);
	CHECK_EQ(blockif_sectsz(bc), 4096);
	blockif_close(bc);
	CHECK_EQ(open_disk(engine, loopdev, &bc, &lines, ss512), -EINVAL);
	CHECK_EQ(lines, 1);
	CHECK_EQ(open_disk(engine, loopdev, &bc, NULL, ss8k), 0);
	CHECK_EQ(blockif_sectsz(bc), 8192);
	blockif_psectsz(bc, &p, &off);
	CHECK_EQ(p, 16384);
	blockif_close(bc);
	loop_detach();
}

TEST(loop_device_uring)
{
	if (!uring_ok())
		TEST_SKIP("io_uring_queue_init failed (%s): the io_uring "
		    "engine is NOT tested here", strerror(-uring_state));
	loop_body("io_uring");
}

TEST(loop_device_thread)
{
	loop_body("thread");
}

/* Last: remove the temporary directory. */
TEST(cleanup)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tdir);
	CHECK(tdir[0] != '\0' && system(cmd) == 0);
	config_fini();
}

TEST_MAIN()
