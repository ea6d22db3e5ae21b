/*
 * blockif_uring.c: the io_uring engine, one ring per queue (QEMU's
 * block/io_uring.c has one per AioContext; liburing's io_uring_setup(2),
 * io_uring_register(2) and io_uring_enable_rings(3) pages for the set-up).
 *
 * Set-up, done before any sandbox:
 *   1. io_uring_queue_init with IORING_SETUP_R_DISABLED: nothing can be
 *	submitted until step 5;
 *   2. the disk fd becomes fixed file 0 (IORING_REGISTER_FILES);
 *   3. the queue's eventfd is registered (IORING_REGISTER_EVENTFD): the
 *	kernel signals it for every CQE;
 *   4. IORING_REGISTER_RESTRICTIONS: the SQE opcodes READV, WRITEV, FSYNC
 *	and FALLOCATE (READV alone for a read-only disk), IOSQE_FIXED_FILE
 *	required and no other SQE flag allowed, and no register opcode at
 *	all, so the ring can reach no file but the disk and gain no new one;
 *   5. IORING_REGISTER_ENABLE_RINGS.
 * A kernel too old for a step (R_DISABLED and restrictions are Linux 5.10)
 * makes the engine fall back to the worker threads (blockif_open).
 *
 * IORING_SETUP_SINGLE_ISSUER is not set: the kernel would bind the ring to
 * the thread that enables it, the set-up thread, while the device's worker
 * submits.  One owner thread per queue is the caller's contract instead.
 *
 * Completions: each CQE's user_data is its request.  A short READV/WRITEV
 * is resubmitted for the rest from blockif_reap(), and everything queued
 * there is submitted before it returns (QEMU's "io_uring: avoid getting
 * stuck after resubmit" fix, 2025: a resubmission left in the SQ waits
 * forever).
 */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "backend/blockif_impl.h"
#include "log.h"

struct blockif_uring {
	struct io_uring	ur_ring;
	unsigned	ur_busy;	/* SQEs prepared and not yet completed */
};

/*
 * io_uring_register(2) for the two steps liburing 2.3 leaves out of its
 * shared library's symbol map (io_uring_register_restrictions and
 * io_uring_enable_rings are only in liburing.a there).
 */
static int
blockif_uring_register(struct io_uring *ring, unsigned op, const void *arg,
    unsigned nr)
{
	return (syscall(__NR_io_uring_register, ring->ring_fd, op, arg, nr) == 0 ?
	    0 : -errno);
}

int
blockif_uring_setup(struct io_uring *ring, unsigned entries, int fd, int efd,
    bool rdonly, const char **stepp)
{
	struct io_uring_restriction res[6];
	struct io_uring_params p;
	unsigned n;
	int err;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_R_DISABLED;
	*stepp = "io_uring_queue_init";
	if ((err = io_uring_queue_init_params(entries, ring, &p)) != 0)
		return (err);
	*stepp = "IORING_REGISTER_FILES";
	if ((err = io_uring_register_files(ring, &fd, 1)) != 0)
		goto fail;
	*stepp = "IORING_REGISTER_EVENTFD";
	if (efd >= 0 && (err = io_uring_register_eventfd(ring, efd)) != 0)
		goto fail;

	memset(res, 0, sizeof(res));
	n = 0;
	res[n].opcode = IORING_RESTRICTION_SQE_OP;
	res[n++].sqe_op = IORING_OP_READV;
	if (!rdonly) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = IORING_OP_WRITEV;
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = IORING_OP_FSYNC;
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = IORING_OP_FALLOCATE;
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[n++].sqe_flags = IOSQE_FIXED_FILE;
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[n++].sqe_flags = IOSQE_FIXED_FILE;
	*stepp = "IORING_REGISTER_RESTRICTIONS";
	if ((err = blockif_uring_register(ring, IORING_REGISTER_RESTRICTIONS,
	    res, n)) != 0)
		goto fail;
	*stepp = "IORING_REGISTER_ENABLE_RINGS";
	if ((err = blockif_uring_register(ring, IORING_REGISTER_ENABLE_RINGS,
	    NULL, 0)) != 0)
		goto fail;
	return (0);

fail:
	io_uring_queue_exit(ring);
	return (err);
}

int
blockif_uring_probe(struct blockif *bc, const char **stepp)
{
	struct io_uring ring;
	int err;

	err = blockif_uring_setup(&ring, 1, bc->bc_fd, -1, bc->bc_rdonly,
	    stepp);
	if (err == 0)
		io_uring_queue_exit(&ring);
	return (err);
}

int
blockif_uring_qopen(struct blockif_queue *q, const char **stepp)
{
	struct blockif_uring *ur;
	int err;

	if ((ur = calloc(1, sizeof(*ur))) == NULL) {
		*stepp = "calloc";
		return (-ENOMEM);
	}
	err = blockif_uring_setup(&ur->ur_ring, q->q_depth, q->q_bc->bc_fd,
	    q->q_efd, q->q_bc->bc_rdonly, stepp);
	if (err != 0) {
		free(ur);
		return (err);
	}
	q->q_ur = ur;
	return (0);
}

void
blockif_uring_qclose(struct blockif_queue *q)
{
	io_uring_queue_exit(&q->q_ur->ur_ring);
	free(q->q_ur);
	q->q_ur = NULL;
}

static struct io_uring_sqe *
blockif_uring_sqe(struct blockif_uring *ur)
{
	struct io_uring_sqe *sqe;

	/*
	 * In-flight requests never outnumber the SQ entries, so this only
	 * fails if SQEs were prepared and not yet taken by the kernel.
	 */
	if ((sqe = io_uring_get_sqe(&ur->ur_ring)) == NULL) {
		(void)io_uring_submit(&ur->ur_ring);
		sqe = io_uring_get_sqe(&ur->ur_ring);
	}
	return (sqe);
}

/* Prepare the SQE for the next step of br; on failure it is posted done. */
void
blockif_uring_submit(struct blockif_queue *q, struct blockif_req *br)
{
	enum { UR_READV, UR_WRITEV, UR_FSYNC, UR_FALLOCATE } kind;
	struct blockif_uring *ur = q->q_ur;
	struct blockif *bc = q->q_bc;
	struct io_uring_sqe *sqe;
	const struct iovec *iov = NULL;
	uint64_t off = 0;
	int cnt = 0, err, mode = 0;

	switch (br->br_op) {
	case BLOCKIF_OP_FLUSH:
		kind = UR_FSYNC;
		break;
	case BLOCKIF_OP_DISCARD:
	case BLOCKIF_OP_WRITE_ZEROES:
		if (!br->br_priv.bp_zeroes) {
			mode = blockif_falloc_mode(bc, br);
			if (mode < 0) {		/* nothing to do */
				err = 0;
				goto fail;
			}
			if (mode > 0) {
				kind = UR_FALLOCATE;
				break;
			}
		}
		/* Zeroes are written. */
		__attribute__((fallthrough));
	case BLOCKIF_OP_READ:
	case BLOCKIF_OP_WRITE:
		if ((err = blockif_xfer_prep(bc, br, &iov, &cnt, &off)) != 0)
			goto fail;
		kind = br->br_op == BLOCKIF_OP_READ ? UR_READV : UR_WRITEV;
		break;
	default:
		err = -EINVAL;
		goto fail;
	}
	if ((sqe = blockif_uring_sqe(ur)) == NULL) {
		log_warnx_rl("%s: io_uring submission queue full",
		    bc->bc_ident);
		err = -EIO;
		goto fail;
	}
	switch (kind) {
	case UR_READV:
		io_uring_prep_readv(sqe, 0, iov, (unsigned)cnt, off);
		break;
	case UR_WRITEV:
		io_uring_prep_writev(sqe, 0, iov, (unsigned)cnt, off);
		break;
	case UR_FSYNC:
		/* Covers every write that completed before it (blockif.h). */
		io_uring_prep_fsync(sqe, 0, IORING_FSYNC_DATASYNC);
		break;
	case UR_FALLOCATE:
		io_uring_prep_fallocate(sqe, 0, mode, (off_t)br->br_offset,
		    (off_t)br->br_len);
		break;
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, br);
	ur->ur_busy++;
	return;

fail:
	br->br_priv.bp_error = err;
	blockif_post(q, br, false);
}

void
blockif_uring_flush(struct blockif_queue *q)
{
	struct io_uring *ring = &q->q_ur->ur_ring;
	int n;

	/*
	 * The kernel stops taking SQEs after one it refuses (it completes
	 * that one with the error), so submit until all are taken.
	 */
	while (io_uring_sq_ready(ring) > 0) {
		n = io_uring_submit(ring);
		if (n > 0 || n == -EINTR)
			continue;
		if (n < 0)
			/* -EAGAIN/-EBUSY: retried at the next flush or reap. */
			log_warnx_rl("%s: io_uring_submit: %s",
			    q->q_bc->bc_ident, strerror(-n));
		break;
	}
}

/* One CQE of br: finished (callback run) or its next step prepared. */
static bool
blockif_uring_complete(struct blockif_queue *q, struct blockif_req *br,
    int res)
{
	struct blockif *bc = q->q_bc;
	bool done;

	switch (br->br_op) {
	case BLOCKIF_OP_FLUSH:
		br->br_priv.bp_error = res < 0 ? res : 0;
		done = true;
		break;
	case BLOCKIF_OP_DISCARD:
	case BLOCKIF_OP_WRITE_ZEROES:
		if (!br->br_priv.bp_zeroes) {
			done = blockif_falloc_done(bc, br, res);
			break;
		}
		__attribute__((fallthrough));
	default:
		done = blockif_xfer_done(bc, br, res);
		break;
	}
	if (done) {
		blockif_finish(br);
		return (true);
	}
	blockif_uring_submit(q, br);
	return (false);
}

int
blockif_uring_reap(struct blockif_queue *q, int max)
{
	struct blockif_uring *ur = q->q_ur;
	struct io_uring_cqe *cqe;
	struct blockif_req *br;
	int i, n, res;

	n = 0;
	for (i = 0; i < max; i++) {
		if (io_uring_peek_cqe(&ur->ur_ring, &cqe) != 0)
			break;
		br = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&ur->ur_ring, cqe);
		ur->ur_busy--;
		if (br != NULL && blockif_uring_complete(q, br, res))
			n++;
	}
	blockif_uring_flush(q);
	return (n);
}

bool
blockif_uring_ready(struct blockif_queue *q)
{
	return (io_uring_cq_ready(&q->q_ur->ur_ring) > 0);
}

bool
blockif_uring_busy(struct blockif_queue *q)
{
	return (q->q_ur->ur_busy > 0);
}

void
blockif_uring_wait(struct blockif_queue *q)
{
	struct io_uring_cqe *cqe;
	int err;

	do
		err = io_uring_submit_and_wait(&q->q_ur->ur_ring, 1);
	while (err == -EINTR);
	if (err < 0)
		(void)io_uring_wait_cqe(&q->q_ur->ur_ring, &cqe);
}
