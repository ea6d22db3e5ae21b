/*
 * tty_impl.h: what tty.c and tty_sock.c share; not for other files.
 */
#ifndef TTY_IMPL_H
#define TTY_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <termios.h>
#include "backend/tty.h"
#include "mevent.h"

struct tty_backend {
	pthread_mutex_t	tb_mtx;		/* protects everything below */
	char		*tb_name;	/* "owner: spec", for messages */
	tty_notify_t	tb_notify;	/* owner's callback */
	void		*tb_arg;	/* its argument */
	bool		tb_stdio;	/* the stdio backend */

	int		tb_ifd;		/* input, -1 if none */
	int		tb_ofd;		/* output, -1: discard */
	int		tb_lfd;		/* listening socket, -1 if none */
	bool		tb_sock;	/* ifd/ofd are an accepted client */
	bool		tb_opoll;	/* ofd is pollable (else written synchronously) */
	struct mevent	*tb_rev;	/* EVF_READ on ifd */
	struct mevent	*tb_wev;	/* EVF_WRITE on ofd, enabled while olen > 0 */
	struct mevent	*tb_lev;	/* EVF_READ on lfd */
	struct mevent	*tb_tev;	/* stall timer, on while tb_tev_on */
	bool		tb_tev_on;
	bool		tb_in_on;	/* owner wants input */
	bool		tb_in_hup;	/* input hung up (noted once) */
	unsigned	tb_stall_ms;	/* stall timeout, from tty_set_timeouts() */
	bool		tb_blocked;	/* a tty_write came up short */
	uint64_t	tb_wait_ns;	/* owner refused since (MONOTONIC), or 0 */
	size_t		tb_wait_taken;	/* bytes the peer took since then */
	bool		tb_dropping;	/* peer stalled: output discarded */
	uint64_t	tb_dropped;	/* bytes discarded since it stalled */
	unsigned	tb_deferred;	/* TTY_EV_* to deliver from the loop */

	char		*tb_fifo;	/* a FIFO's path: reopened for a new reader */
	uint64_t	tb_fifo_retry_ns; /* no reopen before this */

	struct termios	tb_tios;	/* a path terminal's settings before raw */
	bool		tb_tios_saved;	/* tb_tios is valid */
	char		*tb_unlink;	/* unix= socket file, removed on close/exit */
	int		tb_unlink_slot;	/* its tty_signal_cleanup() slot, or -1 */

	uint8_t		*tb_obuf;	/* output ring, TTY_OUTBUF_SIZE bytes */
	size_t		tb_ohead;	/* index of the oldest byte */
	size_t		tb_olen;	/* bytes in the ring */
	struct tty_backend *tb_next;	/* on tty_list */
};

/* Drop the connected client (tb_mtx held); the listener takes the next. */
void	tty_drop_client(struct tty_backend *tb);
/* Register the input/output events of tb_ifd/tb_ofd (tb_mtx held). */
int	tty_add_events(struct tty_backend *tb);
/*
 * Give the owner ev, then what the backend deferred meanwhile; called
 * without tb_mtx, on the event-loop thread or from tty_drain().
 */
void	tty_notify(struct tty_backend *tb, unsigned ev);

/* tty_out.c: the output side. */
/* The write event's callback (EVF_WRITE, or EVF_HANGUP: the reader left). */
void	tty_write_cb(int fd, enum ev_type type, void *arg);
/* Create the stall timer (tb_mtx not needed: before the backend is shared). */
int	tty_out_init(struct tty_backend *tb);
/* Forget buffered output and any stall; wake a blocked owner (tb_mtx held). */
void	tty_out_reset(struct tty_backend *tb);
/*
 * Open the FIFO tb_fifo for writing without blocking (tb_mtx held).
 * Returns 0, -ENXIO while it has no reader, or another -errno.
 */
int	tty_fifo_open(struct tty_backend *tb);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t tty_now_ns(void);
/* The exit() path's drain: the ring only, once (see tty_drain_all()). */
void	tty_drain_exit(void);

/* tty.c: the list of open backends, for tty_drain(). */
extern pthread_mutex_t	tty_list_mtx;
extern struct tty_backend *tty_list;

/*
 * Remember a unix= socket file for tty_signal_cleanup().  Returns its
 * slot, or -1 when the fixed table is full (the file is then removed on
 * close and exit() only).
 */
int	tty_unlink_register(const char *path);
void	tty_unlink_unregister(int slot);
/* Set up the listening socket of tcp=ADDR / unix=PATH; logs on error. */
int	tty_open_tcp(struct tty_backend *tb, const char *addr);
int	tty_open_unix(struct tty_backend *tb, const char *path);
/* The listener's EVF_READ callback. */
void	tty_accept_cb(int lfd, enum ev_type type, void *arg);

#endif /* TTY_IMPL_H */
