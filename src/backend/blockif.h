/*
 * blockif.h: the disk engine every disk device shares (bhyve's block_if.c).
 *
 * A disk is a raw image file or a host block device.  Devices (virtio-blk,
 * later NVMe and AHCI) hand it requests in bytes with host iovecs that
 * point into guest RAM; the engine reads and writes only inside those
 * iovecs and never sees a descriptor or a queue of the guest's.
 *
 * Two engines behind one interface, chosen by the `engine` key:
 *   io_uring	one ring per queue, the disk a fixed file, the opcodes
 *		limited with IORING_REGISTER_RESTRICTIONS before the ring is
 *		enabled (ready for a sandbox that forbids opening files)
 *   thread	a pool of worker threads per disk doing preadv/pwritev/
 *		fdatasync/fallocate/ioctl, as bhyve's blockif
 * Either way completions are signalled on the queue's eventfd and the
 * callbacks run in the thread that calls blockif_reap().
 *
 * Threads: a disk's queries may be called from any thread.  Each queue
 * has one owner thread (the device's worker) that alone calls
 * blockif_submit/flush_submits/reap/quiesce/queue_close on it; different
 * queues of a disk may be owned by different threads.
 *
 * FLUSH ordering rule (virtio 1.2 §5.2.6.1, NVMe 2.0 §7.1 "Flush"): a
 * FLUSH completes only after every WRITE, DISCARD and WRITE_ZEROES of the
 * disk (any queue) whose callback ran before the FLUSH was submitted is
 * on stable storage.  Requests still in flight when the FLUSH is
 * submitted are not covered, and the engine does not reorder around a
 * FLUSH: a device that needs "everything submitted so far" must wait for
 * those completions first, as guests do.  Both engines get this from
 * fdatasync(2) itself, which covers every write that returned before it
 * was called, so no drain (IOSQE_IO_DRAIN) or barrier is needed.
 */
#ifndef BLOCKIF_H
#define BLOCKIF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "khyve.h"

struct blockif;
struct blockif_queue;
struct blockif_req;
struct config_node;

enum blockif_op {
	BLOCKIF_OP_READ,
	BLOCKIF_OP_WRITE,
	BLOCKIF_OP_FLUSH,
	BLOCKIF_OP_DISCARD,		/* may deallocate; reads after are unspecified */
	BLOCKIF_OP_WRITE_ZEROES,	/* reads after return zeroes */
};

/* Largest number of callbacks one blockif_reap() call runs. */
#define BLOCKIF_REAP_MAX	128
/* Largest queue depth blockif_queue_open() accepts. */
#define BLOCKIF_DEPTH_MAX	4096

typedef void (*blockif_cb_t)(struct blockif_req *br, int error);

/* The engine's part of a request, set by blockif_submit(): hands off. */
struct blockif_req_priv {
	struct blockif_queue *bp_q;	/* queue it was submitted on */
	struct blockif_req *bp_next;	/* staged, work and done lists */
	uint64_t	bp_total;	/* bytes to transfer */
	uint64_t	bp_done;	/* bytes transferred so far */
	struct iovec	*bp_rem;	/* remainder after a short transfer */
	int		bp_remcnt;	/* entries allocated in bp_rem */
	void		*bp_bounce;	/* aligned copy (nocache, unaligned iovecs) */
	size_t		bp_bouncesz;	/* its size */
	struct iovec	bp_biov;	/* the bounce or zero buffer as an iovec */
	int		bp_error;	/* 0 or -errno, for the callback */
	uint8_t		bp_stage;	/* DISCARD/WRITE_ZEROES: method being tried */
	uint8_t		bp_retries;	/* EINTR/EAGAIN resubmissions */
	bool		bp_zeroes;	/* WRITE_ZEROES by writing zeroes */
};

/*
 * A request.  The caller fills the first seven members and keeps the
 * request, its iovec array and the buffers valid and unchanged until the
 * callback runs.
 */
struct blockif_req {
	enum blockif_op	br_op;
	uint64_t	br_offset;	/* bytes from the start of the disk */
	const struct iovec *br_iov;	/* READ, WRITE: host buffers */
	int		br_iovcnt;	/* READ, WRITE: entries, 0..IOV_MAX */
	uint64_t	br_len;		/* DISCARD, WRITE_ZEROES: bytes */
	blockif_cb_t	br_callback;	/* run once, from blockif_reap() */
	void		*br_param;	/* the caller's */
	struct blockif_req_priv br_priv;	/* the engine's */
};

/*
 * Open the disk named by the block keys of the device node nvl (bhyve's
 * block keys, docs/config.md "Block devices"): path (required), ro,
 * nocache, direct (alias sync), nodelete, sectorsize=L[/P],
 * engine=io_uring|thread|auto.  ident names the device in messages
 * ("virtio-blk 0:3:0").  Logs one log_info line naming the engine.
 *
 * With nocache the disk is opened O_DIRECT; requests whose iovecs are not
 * aligned for direct I/O go through an aligned bounce buffer (at most
 * 1 MiB per request at a time), and the logical sector size must be a
 * multiple of the offset alignment direct I/O needs.
 *
 * Returns 0 and *bcp, or after one log_warnx line naming ident and the
 * path (or the key): -EINVAL for a bad or missing key value (the caller
 * exits 64); the errno of open/fstat/ioctl (-ENOENT, -EACCES, ...),
 * -EISDIR for a directory, -ENOTBLK for a path that is neither a regular
 * file nor a block device, -EOPNOTSUPP when O_DIRECT is refused, or the
 * io_uring set-up error when engine=io_uring (the caller exits 4).
 */
int	blockif_open(struct config_node *nvl, const char *ident,
	    struct blockif **bcp) __must_check;

/* Close the disk.  Every queue must have been closed.  NULL is a no-op. */
void	blockif_close(struct blockif *bc);

/*
 * Put every write that has completed (its callback ran, or it was
 * quiesced) on stable storage: fdatasync(2) of the image, as a FLUSH
 * would.  For the machine stopping the VM; call it from any thread once
 * the disk's queues are quiesced.  A read-only disk has nothing to sync.
 * Returns 0 or -errno (no message).
 */
int	blockif_sync(struct blockif *bc) __must_check;

/* Size in bytes: a multiple of blockif_sectsz() (a file is rounded up). */
uint64_t blockif_size(const struct blockif *bc);
/* Logical sector size in bytes (512..32768, a power of two). */
uint32_t blockif_sectsz(const struct blockif *bc);
/* Physical sector size and the offset of the first aligned logical sector. */
void	blockif_psectsz(const struct blockif *bc, uint32_t *size,
	    uint32_t *offset);
bool	blockif_is_ro(const struct blockif *bc);
/* Whether DISCARD is offered (not ro, not nodelete, and the host can). */
bool	blockif_candelete(const struct blockif *bc);
/* "io_uring" or "thread". */
const char *blockif_engine(const struct blockif *bc);

/*
 * Open a submission context for up to depth (1..BLOCKIF_DEPTH_MAX)
 * requests in flight; a multi-queue device opens one per queue.  Call
 * before the sandbox is entered (it creates an io_uring and an eventfd).
 * Returns 0 and *qp, or -EINVAL (depth), -ENOMEM, or the io_uring
 * set-up error, after one log_warnx line.
 */
int	blockif_queue_open(struct blockif *bc, unsigned depth,
	    struct blockif_queue **qp) __must_check;

/*
 * Queue a request; blockif_flush_submits() starts it (it may start
 * sooner, with other work of the queue).  Returns 0: the callback will
 * run exactly once, from blockif_reap() or
 * blockif_queue_quiesce(), with 0 or -errno:
 *	-EIO	  past the end of the disk (offset+len > size, overflow-
 *		  checked: nothing is read or written) or an I/O error
 *	-EROFS	  WRITE, DISCARD or WRITE_ZEROES on a read-only disk
 *	-EOPNOTSUPP DISCARD when blockif_candelete() is false
 *	-EINVAL	  bad op or iovcnt, or with nocache an offset or length not
 *		  aligned for direct I/O
 * A READ that reaches the end of the image file is zero-filled after it;
 * short transfers are retried for the rest.  Returns -EAGAIN without
 * queueing (no callback) when depth requests are already in flight.
 */
int	blockif_submit(struct blockif_queue *q, struct blockif_req *br)
	    __must_check;

/* Start everything queued since the last call (one io_uring_submit). */
void	blockif_flush_submits(struct blockif_queue *q);

/*
 * An eventfd (non-blocking) that is readable when blockif_reap() has work.
 * It stays owned by the queue.
 */
int	blockif_queue_fd(const struct blockif_queue *q);

/*
 * Run the callbacks of completed requests, at most BLOCKIF_REAP_MAX; when
 * more are left the eventfd stays readable.  Returns how many ran.
 * Callbacks may submit and flush on the queue, but not reap, quiesce or
 * close it.  Never blocks.
 */
int	blockif_reap(struct blockif_queue *q);

/*
 * Start what is queued and wait until no request of the queue is in
 * flight, running the callbacks as they complete (for a device reset
 * with requests in flight).  Afterwards the engine refers to no request.
 */
void	blockif_queue_quiesce(struct blockif_queue *q);

/* Quiesce, then free the queue and its eventfd.  NULL is a no-op. */
void	blockif_queue_close(struct blockif_queue *q);

#endif /* BLOCKIF_H */
