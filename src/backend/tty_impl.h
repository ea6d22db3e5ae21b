/*
 * tty_impl.h: what tty.c and tty_sock.c share; not for other files.
 */
#ifndef TTY_IMPL_H
#define TTY_IMPL_H

#include <pthread.h>
#include <stdbool.h>
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
	bool		tb_in_on;	/* owner wants input */
	bool		tb_blocked;	/* a tty_write came up short */
	unsigned	tb_deferred;	/* TTY_EV_* to deliver from the loop */

	struct termios	tb_tios;	/* a path terminal's settings before raw */
	bool		tb_tios_saved;	/* tb_tios is valid */
	char		*tb_unlink;	/* unix= socket file, removed on close/exit */

	uint8_t		*tb_obuf;	/* output ring, TTY_OUTBUF_SIZE bytes */
	size_t		tb_ohead;	/* index of the oldest byte */
	size_t		tb_olen;	/* bytes in the ring */
	struct tty_backend *tb_next;	/* on tty_list */
};

/* Drop the connected client (tb_mtx held); the listener takes the next. */
void	tty_drop_client(struct tty_backend *tb);
/* Register the input/output events of tb_ifd/tb_ofd (tb_mtx held). */
int	tty_add_events(struct tty_backend *tb);
/* Set up the listening socket of tcp=ADDR / unix=PATH; logs on error. */
int	tty_open_tcp(struct tty_backend *tb, const char *addr);
int	tty_open_unix(struct tty_backend *tb, const char *path);
/* The listener's EVF_READ callback. */
void	tty_accept_cb(int lfd, enum ev_type type, void *arg);

#endif /* TTY_IMPL_H */
