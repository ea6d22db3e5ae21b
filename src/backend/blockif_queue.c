/*
 * blockif_queue.c: the disk engine's queues: request checks, submission
 * to an engine, completion lists and the eventfd, and the progress of a
 * request through short transfers and fallocate fallbacks (shared by
 * blockif_thread.c and blockif_uring.c).
 *
 * Short transfers follow QEMU's block/io_uring.c (luring_resubmit_short_read):
 * the rest is resubmitted, and a read that meets the end of the file is
 * zero-filled after it, so the guest never sees stale buffer contents
 * (security-checklist §6.14).
 */
#include <errno.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backend/blockif_impl.h"
#include "log.h"

/*
 * Writes of zeroes come from here.  Not const, so it lives in .bss (no
 * space in the binary) and, never written, stays the kernel's zero page.
 */
uint8_t blockif_zero_buf[BLOCKIF_ZERO_SIZE] __attribute__((aligned(4096)));
uint64_t blockif_xfer_limit;

/* ---- Queues ------------------------------------------------------------- */

int
blockif_queue_open(struct blockif *bc, unsigned depth,
    struct blockif_queue **qp)
{
	struct blockif_queue *q;
	const char *step;
	int err;

	if (depth == 0 || depth > BLOCKIF_DEPTH_MAX) {
		log_warnx("%s: queue depth %u out of range 1-%u", bc->bc_ident,
		    depth, BLOCKIF_DEPTH_MAX);
		return (-EINVAL);
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		log_warnx("%s: out of memory", bc->bc_ident);
		return (-ENOMEM);
	}
	q->q_bc = bc;
	q->q_depth = depth;
	q->q_stage_tail = &q->q_stage;
	q->q_done_tail = &q->q_done;
	pthread_mutex_init(&q->q_mtx, NULL);
	pthread_cond_init(&q->q_cond, NULL);
	if ((q->q_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		err = -errno;
		log_warn("%s: eventfd", bc->bc_ident);
		goto fail_q;
	}
	if (bc->bc_engine == BLOCKIF_ENGINE_URING &&
	    (err = blockif_uring_qopen(q, &step)) != 0) {
		log_warnx("%s: %s: io_uring queue: %s: %s", bc->bc_ident,
		    bc->bc_path, step, strerror(-err));
		goto fail_efd;
	}
	atomic_fetch_add(&bc->bc_nqueues, 1);
	*qp = q;
	return (0);

fail_efd:
	close(q->q_efd);
fail_q:
	pthread_cond_destroy(&q->q_cond);
	pthread_mutex_destroy(&q->q_mtx);
	free(q);
	return (err);
}

void
blockif_queue_close(struct blockif_queue *q)
{
	if (q == NULL)
		return;
	blockif_queue_quiesce(q);
	if (q->q_ur != NULL)
		blockif_uring_qclose(q);
	/* The last worker to post has let go of the lock. */
	pthread_mutex_lock(&q->q_mtx);
	pthread_mutex_unlock(&q->q_mtx);
	close(q->q_efd);
	pthread_cond_destroy(&q->q_cond);
	pthread_mutex_destroy(&q->q_mtx);
	atomic_fetch_sub(&q->q_bc->bc_nqueues, 1);
	free(q);
}

int
blockif_queue_fd(const struct blockif_queue *q)
{
	return (q->q_efd);
}

void
blockif_efd_signal(struct blockif_queue *q)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is full, so the fd is readable anyway. */
	(void)!write(q->q_efd, &one, sizeof(one));
}

/*
 * Check a request before it reaches an engine.  Returns 0 to go ahead
 * (bp_total set), 1 to complete it at once with success, or -errno.
 */
static int
blockif_check(struct blockif *bc, struct blockif_req *br)
{
	uint64_t total;
	int i;

	switch (br->br_op) {
	case BLOCKIF_OP_READ:
	case BLOCKIF_OP_WRITE:
		if (br->br_op == BLOCKIF_OP_WRITE && bc->bc_rdonly)
			return (-EROFS);
		if (br->br_iovcnt < 0 || br->br_iovcnt > IOV_MAX ||
		    (br->br_iovcnt > 0 && br->br_iov == NULL))
			return (-EINVAL);
		total = 0;
		for (i = 0; i < br->br_iovcnt; i++) {
			if (br->br_iov[i].iov_len > UINT64_MAX - total)
				return (-EIO);
			total += br->br_iov[i].iov_len;
		}
		break;
	case BLOCKIF_OP_FLUSH:
		/* Nothing of a read-only disk can be unwritten. */
		return (bc->bc_rdonly ? 1 : 0);
	case BLOCKIF_OP_DISCARD:
	case BLOCKIF_OP_WRITE_ZEROES:
		if (bc->bc_rdonly)
			return (-EROFS);
		if (br->br_op == BLOCKIF_OP_DISCARD && !bc->bc_candelete)
			return (-EOPNOTSUPP);
		total = br->br_len;
		break;
	default:
		return (-EINVAL);
	}
	if (br->br_offset > bc->bc_size || total > bc->bc_size - br->br_offset)
		return (-EIO);
	if (bc->bc_nocache &&
	    ((br->br_offset | total) & (bc->bc_dio_offalign - 1)) != 0)
		return (-EINVAL);
	br->br_priv.bp_total = total;
	return (total == 0 ? 1 : 0);
}

/* With O_DIRECT, iovecs the kernel would refuse go through a bounce buffer. */
static int
blockif_bounce(struct blockif *bc, struct blockif_req *br)
{
	struct blockif_req_priv *bp = &br->br_priv;
	uintptr_t mask;
	size_t sz;
	int i;

	if (!bc->bc_nocache ||
	    (br->br_op != BLOCKIF_OP_READ && br->br_op != BLOCKIF_OP_WRITE))
		return (0);
	mask = bc->bc_dio_memalign - 1;
	for (i = 0; i < br->br_iovcnt; i++)
		if ((((uintptr_t)br->br_iov[i].iov_base |
		    br->br_iov[i].iov_len) & mask) != 0)
			break;
	if (i == br->br_iovcnt)
		return (0);
	sz = (size_t)MIN(bp->bp_total, (uint64_t)BLOCKIF_BOUNCE_MAX);
	if (posix_memalign(&bp->bp_bounce, MAX(bc->bc_dio_memalign,
	    (uint32_t)sizeof(void *)), sz) != 0) {
		bp->bp_bounce = NULL;
		return (-ENOMEM);
	}
	bp->bp_bouncesz = sz;
	return (0);
}

int
blockif_submit(struct blockif_queue *q, struct blockif_req *br)
{
	struct blockif *bc = q->q_bc;
	int err;

	if (q->q_inflight >= q->q_depth)
		return (-EAGAIN);
	memset(&br->br_priv, 0, sizeof(br->br_priv));
	br->br_priv.bp_q = q;
	q->q_inflight++;
	err = blockif_check(bc, br);
	if (err == 0)
		err = blockif_bounce(bc, br);
	if (err != 0) {
		br->br_priv.bp_error = err < 0 ? err : 0;
		blockif_post(q, br, false);
		return (0);
	}
	if (q->q_ur != NULL && !(bc->bc_isblk &&
	    (br->br_op == BLOCKIF_OP_DISCARD ||
	    br->br_op == BLOCKIF_OP_WRITE_ZEROES))) {
		blockif_uring_submit(q, br);
		return (0);
	}
	*q->q_stage_tail = br;
	q->q_stage_tail = &br->br_priv.bp_next;
	return (0);
}

void
blockif_flush_submits(struct blockif_queue *q)
{
	struct blockif_req *br;
	unsigned n;

	if (q->q_ur != NULL)
		blockif_uring_flush(q);
	if (q->q_stage == NULL)
		return;
	n = 0;
	for (br = q->q_stage; br != NULL; br = br->br_priv.bp_next)
		n++;
	pthread_mutex_lock(&q->q_mtx);
	q->q_busy += n;
	pthread_mutex_unlock(&q->q_mtx);
	blockif_pool_queue(q->q_bc, q->q_stage, q->q_stage_tail, n);
	q->q_stage = NULL;
	q->q_stage_tail = &q->q_stage;
}

void
blockif_post(struct blockif_queue *q, struct blockif_req *br, bool from_pool)
{
	bool was_empty;

	br->br_priv.bp_next = NULL;
	pthread_mutex_lock(&q->q_mtx);
	was_empty = q->q_done == NULL;
	*q->q_done_tail = br;
	q->q_done_tail = &br->br_priv.bp_next;
	if (from_pool)
		q->q_busy--;
	/*
	 * The reaper reads the eventfd before it takes the list, so a list
	 * that was not empty already has a wake-up coming.  Signalled with
	 * the lock held: once the owner has taken br, the queue may be
	 * closed, and a worker must not touch it (or its fd number) then.
	 */
	if (was_empty)
		blockif_efd_signal(q);
	pthread_cond_broadcast(&q->q_cond);
	pthread_mutex_unlock(&q->q_mtx);
}

void
blockif_finish(struct blockif_req *br)
{
	struct blockif_req_priv *bp = &br->br_priv;

	bp->bp_q->q_inflight--;
	free(bp->bp_rem);
	free(bp->bp_bounce);
	bp->bp_rem = NULL;
	bp->bp_bounce = NULL;
	br->br_callback(br, bp->bp_error);
}

int
blockif_reap(struct blockif_queue *q)
{
	struct blockif_req *head, *br, *last;
	uint64_t v;
	bool more;
	int n, k;

	(void)!read(q->q_efd, &v, sizeof(v));
	n = q->q_ur != NULL ? blockif_uring_reap(q, BLOCKIF_REAP_MAX) : 0;
	/* Take at most BLOCKIF_REAP_MAX - n from the front of q_done. */
	pthread_mutex_lock(&q->q_mtx);
	head = NULL;
	if (n < BLOCKIF_REAP_MAX && q->q_done != NULL) {
		head = last = q->q_done;
		for (k = n + 1; last->br_priv.bp_next != NULL &&
		    k < BLOCKIF_REAP_MAX; k++)
			last = last->br_priv.bp_next;
		q->q_done = last->br_priv.bp_next;
		last->br_priv.bp_next = NULL;
		if (q->q_done == NULL)
			q->q_done_tail = &q->q_done;
	}
	more = q->q_done != NULL;
	pthread_mutex_unlock(&q->q_mtx);
	while ((br = head) != NULL) {
		head = br->br_priv.bp_next;
		blockif_finish(br);
		n++;
	}
	if (more || (q->q_ur != NULL && blockif_uring_ready(q)))
		blockif_efd_signal(q);
	return (n);
}

void
blockif_queue_quiesce(struct blockif_queue *q)
{
	blockif_flush_submits(q);
	while (q->q_inflight > 0) {
		if (blockif_reap(q) > 0)
			continue;
		if (q->q_ur != NULL && blockif_uring_busy(q)) {
			blockif_uring_wait(q);
			continue;
		}
		pthread_mutex_lock(&q->q_mtx);
		while (q->q_done == NULL && q->q_busy > 0)
			pthread_cond_wait(&q->q_cond, &q->q_mtx);
		pthread_mutex_unlock(&q->q_mtx);
	}
}

/* ---- Request progress --------------------------------------------------- */

/* Copy len bytes between iov at byte off and buf (to_iov: buf -> iov). */
static void
blockif_iov_copy(const struct iovec *iov, int cnt, uint64_t off, uint8_t *buf,
    uint64_t len, bool to_iov)
{
	uint64_t n;
	int i;

	for (i = 0; i < cnt && len > 0; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = MIN(iov[i].iov_len - off, len);
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off, buf, n);
		else
			memcpy(buf, (uint8_t *)iov[i].iov_base + off, n);
		buf += n;
		len -= n;
		off = 0;
	}
}

/* Zero the request's buffers from byte off to the end. */
static void
blockif_iov_zero(const struct iovec *iov, int cnt, uint64_t off)
{
	int i;

	for (i = 0; i < cnt; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		memset((uint8_t *)iov[i].iov_base + off, 0, iov[i].iov_len - off);
		off = 0;
	}
}

int
blockif_xfer_prep(struct blockif *bc, struct blockif_req *br,
    const struct iovec **iovp, int *cntp, uint64_t *offp)
{
	struct blockif_req_priv *bp = &br->br_priv;
	uint64_t left, want, skip, n;
	int i, k;

	left = bp->bp_total - bp->bp_done;
	want = left;
	if (blockif_xfer_limit != 0 && want > blockif_xfer_limit)
		want = blockif_xfer_limit;
	*offp = br->br_offset + bp->bp_done;
	if (bp->bp_zeroes || bp->bp_bounce != NULL) {
		if (bp->bp_zeroes) {
			want = MIN(want, (uint64_t)BLOCKIF_ZERO_SIZE);
			bp->bp_biov.iov_base = blockif_zero_buf;
		} else {
			want = MIN(want, (uint64_t)bp->bp_bouncesz);
			bp->bp_biov.iov_base = bp->bp_bounce;
			if (br->br_op == BLOCKIF_OP_WRITE)
				blockif_iov_copy(br->br_iov, br->br_iovcnt,
				    bp->bp_done, bp->bp_bounce, want, false);
		}
		bp->bp_biov.iov_len = (size_t)want;
		*iovp = &bp->bp_biov;
		*cntp = 1;
		return (0);
	}
	if (bp->bp_done == 0 && want == left) {
		*iovp = br->br_iov;
		*cntp = br->br_iovcnt;
		return (0);
	}
	/* The rest of the iovecs after a short transfer. */
	if (bp->bp_rem == NULL) {
		bp->bp_rem = calloc((size_t)br->br_iovcnt, sizeof(*bp->bp_rem));
		if (bp->bp_rem == NULL)
			return (-ENOMEM);
		bp->bp_remcnt = br->br_iovcnt;
	}
	skip = bp->bp_done;
	for (i = k = 0; i < br->br_iovcnt && want > 0; i++) {
		if (skip >= br->br_iov[i].iov_len) {
			skip -= br->br_iov[i].iov_len;
			continue;
		}
		n = MIN(br->br_iov[i].iov_len - skip, want);
		bp->bp_rem[k].iov_base = (uint8_t *)br->br_iov[i].iov_base + skip;
		bp->bp_rem[k].iov_len = (size_t)n;
		k++;
		want -= n;
		skip = 0;
	}
	*iovp = bp->bp_rem;
	*cntp = k;
	return (0);
}

/* Whether disk offset off is at or past the end of the image file now. */
static bool
blockif_past_eof(struct blockif *bc, uint64_t off)
{
	struct stat st;

	if (bc->bc_isblk)
		return (false);
	return (fstat(bc->bc_fd, &st) == 0 && off >= (uint64_t)st.st_size);
}

bool
blockif_xfer_done(struct blockif *bc, struct blockif_req *br, int64_t res)
{
	struct blockif_req_priv *bp = &br->br_priv;
	bool rd = br->br_op == BLOCKIF_OP_READ;
	uint64_t asked;

	if ((res == -EINTR || res == -EAGAIN) &&
	    bp->bp_retries++ < BLOCKIF_MAX_RETRIES)
		return (false);
	if (res < 0) {
		bp->bp_error = (int)res;
		return (true);
	}
	asked = bp->bp_total - bp->bp_done;
	if (blockif_xfer_limit != 0)
		asked = MIN(asked, blockif_xfer_limit);
	if (bp->bp_zeroes || bp->bp_bounce != NULL)
		asked = MIN(asked, (uint64_t)bp->bp_biov.iov_len);
	if ((uint64_t)res > asked) {		/* a kernel bug; never trust it */
		bp->bp_error = -EIO;
		return (true);
	}
	if (rd && bp->bp_bounce != NULL)
		blockif_iov_copy(br->br_iov, br->br_iovcnt, bp->bp_done,
		    bp->bp_bounce, (uint64_t)res, true);
	bp->bp_done += (uint64_t)res;
	if (bp->bp_done == bp->bp_total) {
		bp->bp_error = 0;
		return (true);
	}
	if ((uint64_t)res == asked)		/* a full piece: the next one */
		return (false);
	if (!rd) {
		if (res == 0) {
			bp->bp_error = -EIO;
			return (true);
		}
		return (false);
	}
	/* Short read: at the end of the file the rest reads as zeroes. */
	if (res == 0 || blockif_past_eof(bc, br->br_offset + bp->bp_done)) {
		blockif_iov_zero(br->br_iov, br->br_iovcnt, bp->bp_done);
		bp->bp_error = 0;
		return (true);
	}
	return (false);
}

/* fallocate refusals that mean "this filesystem cannot", not "this failed". */
static bool
blockif_refusal(int res)
{
	return (res == -EOPNOTSUPP || res == -ENOSYS || res == -EINVAL);
}

int
blockif_falloc_mode(struct blockif *bc, struct blockif_req *br)
{
	struct blockif_req_priv *bp = &br->br_priv;
	unsigned refused = atomic_load(&bc->bc_refused);

	if (br->br_op == BLOCKIF_OP_DISCARD) {
		/* Discard is advisory: a filesystem that cannot, did not. */
		if (refused & (1u << BLOCKIF_WZ_PUNCH))
			return (-1);
		return (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
	}
	if (bp->bp_stage == BLOCKIF_WZ_PUNCH &&
	    (bc->bc_nodelete || (refused & (1u << BLOCKIF_WZ_PUNCH))))
		bp->bp_stage = BLOCKIF_WZ_ZERORANGE;
	if (bp->bp_stage == BLOCKIF_WZ_ZERORANGE &&
	    (refused & (1u << BLOCKIF_WZ_ZERORANGE)))
		bp->bp_stage = BLOCKIF_WZ_WRITE;
	switch (bp->bp_stage) {
	case BLOCKIF_WZ_PUNCH:
		return (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
	case BLOCKIF_WZ_ZERORANGE:
		return (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
	default:
		bp->bp_zeroes = true;
		return (0);
	}
}

bool
blockif_falloc_done(struct blockif *bc, struct blockif_req *br, int res)
{
	struct blockif_req_priv *bp = &br->br_priv;

	if ((res == -EINTR || res == -EAGAIN) &&
	    bp->bp_retries++ < BLOCKIF_MAX_RETRIES)
		return (false);
	if (res == 0 || !blockif_refusal(res)) {
		bp->bp_error = res;
		return (true);
	}
	if (br->br_op == BLOCKIF_OP_DISCARD) {
		atomic_fetch_or(&bc->bc_refused, 1u << BLOCKIF_WZ_PUNCH);
		bp->bp_error = 0;
		return (true);
	}
	atomic_fetch_or(&bc->bc_refused, 1u << bp->bp_stage);
	bp->bp_stage++;
	return (false);
}
