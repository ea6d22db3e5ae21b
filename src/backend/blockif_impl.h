/*
 * blockif_impl.h: what blockif.c, blockif_thread.c and blockif_uring.c
 * share; not for other files (tests excepted).
 *
 * A request moves through these states, each owned by one list or place:
 *	staged	 on q_stage until blockif_flush_submits() (the pool's work)
 *	in ring	 an SQE/CQE of the queue's io_uring (q_ur_busy counts them)
 *	in pool	 on bc_work or in a worker (q_busy counts them)
 *	done	 on q_done until blockif_reap() runs its callback
 * q_inflight counts all of them; it drops just before the callback.
 */
#ifndef BLOCKIF_IMPL_H
#define BLOCKIF_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "backend/blockif.h"

enum blockif_engine_kind {
	BLOCKIF_ENGINE_THREAD,
	BLOCKIF_ENGINE_URING,
};

#define BLOCKIF_NUMTHR		8		/* thread engine: workers per disk */
#define BLOCKIF_BOUNCE_MAX	(1024 * 1024)	/* bounce buffer per request */
#define BLOCKIF_ZERO_SIZE	(1024 * 1024)	/* blockif_zero_buf */
#define BLOCKIF_MAX_RETRIES	16		/* EINTR/EAGAIN resubmissions */

/* File WRITE_ZEROES methods, tried in this order (bp_stage). */
enum {
	BLOCKIF_WZ_PUNCH,	/* fallocate PUNCH_HOLE|KEEP_SIZE (not with nodelete) */
	BLOCKIF_WZ_ZERORANGE,	/* fallocate ZERO_RANGE|KEEP_SIZE */
	BLOCKIF_WZ_WRITE,	/* write zeroes */
};

struct blockif {
	int		bc_fd;
	char		*bc_ident;	/* "virtio-blk 0:3:0", for messages */
	char		*bc_path;
	bool		bc_rdonly;
	bool		bc_isblk;	/* a block device (else a regular file) */
	bool		bc_nocache;	/* O_DIRECT */
	bool		bc_nodelete;	/* no hole punching at all */
	bool		bc_candelete;	/* DISCARD offered */
	uint64_t	bc_size;	/* bytes, a multiple of bc_sectsz */
	uint32_t	bc_sectsz;	/* logical sector */
	uint32_t	bc_psectsz;	/* physical sector */
	uint32_t	bc_psectoff;	/* offset of the first aligned one */
	uint32_t	bc_dio_offalign; /* nocache: offset/length alignment */
	uint32_t	bc_dio_memalign; /* nocache: buffer alignment */
	enum blockif_engine_kind bc_engine;
	atomic_uint	bc_refused;	/* 1 << BLOCKIF_WZ_*: fallocate modes refused */
	atomic_uint	bc_nqueues;	/* open queues */

	/* The worker pool (thread engine; io_uring: block-device ioctls). */
	pthread_mutex_t	bc_mtx;		/* protects the next three */
	pthread_cond_t	bc_cond;	/* work arrived, or closing */
	struct blockif_req *bc_work;	/* FIFO of requests to run */
	struct blockif_req **bc_work_tail;
	bool		bc_closing;
	pthread_t	*bc_thr;
	int		bc_nthr;
};

struct blockif_uring;

struct blockif_queue {
	struct blockif	*q_bc;
	int		q_efd;		/* eventfd: completions to reap */
	unsigned	q_depth;
	unsigned	q_inflight;	/* owner thread only */
	struct blockif_req *q_stage;	/* for the pool at the next flush */
	struct blockif_req **q_stage_tail;
	struct blockif_uring *q_ur;	/* NULL: thread engine */

	pthread_mutex_t	q_mtx;		/* protects the next four */
	pthread_cond_t	q_cond;		/* a request reached q_done */
	struct blockif_req *q_done;	/* FIFO of completed requests */
	struct blockif_req **q_done_tail;
	unsigned	q_busy;		/* in the pool */
};

extern uint8_t blockif_zero_buf[BLOCKIF_ZERO_SIZE];

/*
 * For tests: when non-zero, the most bytes one read or write system call
 * (or io_uring READV/WRITEV) asks for, so short transfers are exercised.
 */
extern uint64_t blockif_xfer_limit;

/* blockif.c: request progress, shared by both engines. */

/*
 * The next piece of a READ, WRITE or WRITE_ZEROES-by-writing: the iovecs
 * and the disk offset for one preadv/pwritev (a WRITE's bounce buffer is
 * filled here).  Returns 0, or -ENOMEM.
 */
int	blockif_xfer_prep(struct blockif *bc, struct blockif_req *br,
	    const struct iovec **iovp, int *cntp, uint64_t *offp);
/*
 * Account the result of that piece (bytes, or -errno).  Returns true when
 * the request is finished (bp_error set), false when the rest must be
 * submitted with blockif_xfer_prep() again.
 */
bool	blockif_xfer_done(struct blockif *bc, struct blockif_req *br,
	    int64_t res);
/*
 * DISCARD or WRITE_ZEROES of a file: the fallocate mode of the method to
 * try now; 0 when zeroes must be written instead (bp_zeroes is then set);
 * -1 when nothing is to be done (a DISCARD the filesystem refuses).
 */
int	blockif_falloc_mode(struct blockif *bc, struct blockif_req *br);
/* Account a fallocate result; as blockif_xfer_done(). */
bool	blockif_falloc_done(struct blockif *bc, struct blockif_req *br,
	    int res);
/* Put a finished request on its queue's done list (any thread). */
void	blockif_post(struct blockif_queue *q, struct blockif_req *br,
	    bool from_pool);
/* Run a finished request's callback (owner thread). */
void	blockif_finish(struct blockif_req *br);
void	blockif_efd_signal(struct blockif_queue *q);

/* blockif_thread.c: the worker pool. */
int	blockif_pool_start(struct blockif *bc, int nthr);
void	blockif_pool_stop(struct blockif *bc);
void	blockif_pool_queue(struct blockif *bc, struct blockif_req *head,
	    struct blockif_req **tail, unsigned n);

/* blockif_uring.c: the io_uring engine. */
struct io_uring;
/*
 * Set up ring with entries SQEs: created disabled, fd registered as fixed
 * file 0, efd (unless -1) as the completion eventfd, the restrictions
 * (READV, plus WRITEV, FSYNC and FALLOCATE unless rdonly; fixed files
 * only; no further registrations), then enabled.  Returns 0, or -errno
 * and *stepp naming the step that failed (the ring is then freed).
 */
int	blockif_uring_setup(struct io_uring *ring, unsigned entries, int fd,
	    int efd, bool rdonly, const char **stepp);
int	blockif_uring_probe(struct blockif *bc, const char **stepp);
int	blockif_uring_qopen(struct blockif_queue *q, const char **stepp);
void	blockif_uring_qclose(struct blockif_queue *q);
void	blockif_uring_submit(struct blockif_queue *q, struct blockif_req *br);
void	blockif_uring_flush(struct blockif_queue *q);
/* Process up to max CQEs; returns the callbacks run. */
int	blockif_uring_reap(struct blockif_queue *q, int max);
bool	blockif_uring_ready(struct blockif_queue *q);	/* CQEs waiting */
bool	blockif_uring_busy(struct blockif_queue *q);	/* SQEs in flight */
void	blockif_uring_wait(struct blockif_queue *q);	/* for one CQE */

#endif /* BLOCKIF_IMPL_H */
