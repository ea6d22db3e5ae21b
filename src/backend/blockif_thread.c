/*
 * blockif_thread.c: the worker-thread engine (bhyve's blockif_thr() and
 * blockif_proc() in usr.sbin/bhyve/block_if.c): a small pool per disk
 * takes requests from one FIFO and runs them with blocking system calls.
 * The io_uring engine uses a one-thread pool for the block-device ioctls
 * io_uring cannot issue.
 *
 * A finished request goes to its queue's done list and the queue's
 * eventfd, so both engines complete the same way: the callbacks run in
 * the queue owner's thread, in blockif_reap().
 *
 * Unlike bhyve, requests are not held back behind a busy request that
 * ends where they start (bhyve's BST_BLOCK): overlapping requests in
 * flight at once have no defined order on real disks either.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include "backend/blockif_impl.h"
#include "log.h"
#include "sandbox.h"

#define BLOCKIF_STACK	(128 * 1024)	/* the workers call no deep code */

/* READ, WRITE, or WRITE_ZEROES by writing: until done, retrying the rest. */
static int
blockif_exec_xfer(struct blockif *bc, struct blockif_req *br)
{
	const struct iovec *iov;
	uint64_t off;
	ssize_t res;
	int cnt, err;

	for (;;) {
		if ((err = blockif_xfer_prep(bc, br, &iov, &cnt, &off)) != 0)
			return (err);
		if (br->br_op == BLOCKIF_OP_READ)
			res = preadv(bc->bc_fd, iov, cnt, (off_t)off);
		else
			res = pwritev(bc->bc_fd, iov, cnt, (off_t)off);
		if (blockif_xfer_done(bc, br, res < 0 ? -errno : res))
			return (br->br_priv.bp_error);
	}
}

static int
blockif_exec_delete(struct blockif *bc, struct blockif_req *br)
{
	uint64_t range[2] = { br->br_offset, br->br_len };
	int mode, res;

	if (bc->bc_isblk) {
		if (ioctl(bc->bc_fd, br->br_op == BLOCKIF_OP_DISCARD ?
		    BLKDISCARD : BLKZEROOUT, range) == 0)
			return (0);
		/* Discard is advisory. */
		if (br->br_op == BLOCKIF_OP_DISCARD && errno == EOPNOTSUPP)
			return (0);
		return (-errno);
	}
	for (;;) {
		mode = blockif_falloc_mode(bc, br);
		if (mode < 0)
			return (0);
		if (mode == 0)
			return (blockif_exec_xfer(bc, br));
		res = fallocate(bc->bc_fd, mode, (off_t)br->br_offset,
		    (off_t)br->br_len) == 0 ? 0 : -errno;
		if (blockif_falloc_done(bc, br, res))
			return (br->br_priv.bp_error);
	}
}

static int
blockif_exec(struct blockif *bc, struct blockif_req *br)
{
	switch (br->br_op) {
	case BLOCKIF_OP_READ:
	case BLOCKIF_OP_WRITE:
		return (blockif_exec_xfer(bc, br));
	case BLOCKIF_OP_FLUSH:
		/* Covers every write that returned before it (blockif.h). */
		return (blockif_sync(bc));
	case BLOCKIF_OP_DISCARD:
	case BLOCKIF_OP_WRITE_ZEROES:
		return (blockif_exec_delete(bc, br));
	}
	return (-EINVAL);
}

static void *
blockif_worker(void *arg)
{
	struct blockif *bc = arg;
	struct blockif_req *br;

	pthread_mutex_lock(&bc->bc_mtx);
	for (;;) {
		while (bc->bc_work == NULL && !bc->bc_closing)
			pthread_cond_wait(&bc->bc_cond, &bc->bc_mtx);
		if ((br = bc->bc_work) == NULL)
			break;
		if ((bc->bc_work = br->br_priv.bp_next) == NULL)
			bc->bc_work_tail = &bc->bc_work;
		pthread_mutex_unlock(&bc->bc_mtx);
		br->br_priv.bp_error = blockif_exec(bc, br);
		/* br may be reused as soon as it is posted. */
		blockif_post(br->br_priv.bp_q, br, true);
		pthread_mutex_lock(&bc->bc_mtx);
	}
	pthread_mutex_unlock(&bc->bc_mtx);
	return (NULL);
}

int
blockif_pool_start(struct blockif *bc, int nthr)
{
	pthread_attr_t attr;
	sigset_t all, old;
	char name[16];
	int i, err;

	if ((bc->bc_thr = calloc((size_t)nthr, sizeof(*bc->bc_thr))) == NULL)
		return (-ENOMEM);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, BLOCKIF_STACK);
	/* Signals are the event loop's: the workers block the rest. */
	sandbox_thread_sigset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = 0;
	for (i = 0; i < nthr; i++) {
		if ((err = pthread_create(&bc->bc_thr[i], &attr, blockif_worker,
		    bc)) != 0)
			break;
		snprintf(name, sizeof(name), "blk-%d", i);
		(void)pthread_setname_np(bc->bc_thr[i], name);
		bc->bc_nthr++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err != 0) {
		blockif_pool_stop(bc);
		return (-err);
	}
	return (0);
}

void
blockif_pool_stop(struct blockif *bc)
{
	int i;

	pthread_mutex_lock(&bc->bc_mtx);
	bc->bc_closing = true;
	pthread_cond_broadcast(&bc->bc_cond);
	pthread_mutex_unlock(&bc->bc_mtx);
	for (i = 0; i < bc->bc_nthr; i++)
		pthread_join(bc->bc_thr[i], NULL);
	bc->bc_nthr = 0;
	free(bc->bc_thr);
	bc->bc_thr = NULL;
}

void
blockif_pool_queue(struct blockif *bc, struct blockif_req *head,
    struct blockif_req **tail, unsigned n)
{
	if (bc->bc_nthr == 0) {		/* cannot happen: no pool, no staging */
		log_warnx("%s: request for a disk without workers",
		    bc->bc_ident);
		abort();
	}
	pthread_mutex_lock(&bc->bc_mtx);
	*bc->bc_work_tail = head;
	bc->bc_work_tail = tail;
	if (n == 1)
		pthread_cond_signal(&bc->bc_cond);
	else
		pthread_cond_broadcast(&bc->bc_cond);
	pthread_mutex_unlock(&bc->bc_mtx);
}
