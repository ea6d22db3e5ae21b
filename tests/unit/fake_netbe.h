/*
 * fake_netbe.h: a network backend for device tests and fuzz targets,
 * named "fake" in the net_backend_set linker set (backend=fake).
 *
 * Frames a test pushes wait in a per-queue list and are given to the
 * device by nb_peek_recvlen/nb_recv; frames the device sends are
 * recorded.  Its fd per queue is an eventfd that is readable exactly
 * while frames wait (or the backend is gone), as a tap's is.
 *
 * Keys it reads from the device's node at nb_init:
 *	fake_caps=N	NETBE_CAP_* bits it reports (default 0)
 *	fake_queues=N	at most N queue pairs (default FAKE_NETBE_QMAX)
 *	fake_shared	one fd for every queue
 *	fake_quiet	its fds never become readable: the caller runs
 *			receive itself (fuzz targets, for determinism)
 *	fake_refuse	nb_set_cap refuses any header
 *	fake_bad=V	nb_init fails with -EINVAL after a message (a bad
 *			backend key)
 */
#ifndef FAKE_NETBE_H
#define FAKE_NETBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "backend/net_backend.h"

#define FAKE_NETBE_QMAX		8
#define FAKE_NETBE_RXMAX	4096	/* frames waiting per queue */
#define FAKE_NETBE_TXMAX	1024	/* frames recorded */

extern const struct net_beops fake_netbe_ops;

struct fake_netbe;

/* The backend opened last (NULL when none is open). */
struct fake_netbe *fake_netbe_last(void);
/* The fake behind a backend a device opened (NULL if not a fake). */
struct fake_netbe *fake_netbe_of(struct net_backend *be);
/* Queue a frame (header included when the device set a header length)
 * for queue q; -ENOSPC when full. */
int	fake_netbe_push(struct fake_netbe *fb, int q, const void *frame,
	    size_t len);
/* Frames still waiting on queue q. */
unsigned fake_netbe_pending(struct fake_netbe *fb, int q);
/* Sends fail with -EAGAIN while full. */
void	fake_netbe_set_full(struct fake_netbe *fb, bool full);
/* The peer went away: -EPIPE from now on, fds readable. */
void	fake_netbe_set_gone(struct fake_netbe *fb);
/* Frames recorded so far; a copy of frame i (its length, or 0). */
unsigned fake_netbe_tx_count(struct fake_netbe *fb);
size_t	fake_netbe_tx_frame(struct fake_netbe *fb, unsigned i, void *buf,
	    size_t max, int *q);
/* Forget recorded and waiting frames. */
void	fake_netbe_clear(struct fake_netbe *fb);
int	fake_netbe_fd(struct fake_netbe *fb, int q);
int	fake_netbe_nqueues(struct fake_netbe *fb);

/* What the device asked of it. */
struct fake_netbe_calls {
	uint64_t	peeks, recvs, sends, set_caps;
	uint32_t	caps;		/* as nb_set_cap last set them */
	unsigned	hdrlen;
};
void	fake_netbe_calls(struct fake_netbe *fb, struct fake_netbe_calls *c);

#endif /* FAKE_NETBE_H */
