/*
 * ttyrig.h: what the terminal-backend tests share: an owner that records
 * its notifications and reads all input, the event loop in a thread, and
 * small socket, pipe and file helpers.
 */
#ifndef TTYRIG_H
#define TTYRIG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "backend/tty.h"

/* What the owner's notify callback saw; the callback reads all input. */
struct owner {
	pthread_mutex_t	mtx;
	struct tty_backend *tb;
	char		in[256];
	size_t		nin;
	unsigned	noutput;	/* TTY_EV_OUTPUT notifications */
	unsigned	ninput;		/* TTY_EV_INPUT notifications */
	unsigned	npeer;		/* TTY_EV_PEER notifications */
	bool		full;		/* no room: read nothing (a full FIFO) */
};

void	owner_notify(void *arg, unsigned ev);
/* tty_open(spec) with this owner, input enabled. */
int	owner_open(struct owner *o, const char *spec);
/* Wait up to 5 s for the input to contain s. */
bool	owner_wait_input(struct owner *o, const char *s);
/* Wait up to 5 s for tty_has_peer() to be want. */
bool	wait_peer(struct tty_backend *tb, bool want);

/* mevent_dispatch() in a thread, and stopping it. */
void	loop_start(void);
void	loop_stop(void);

/* Read from fd until n bytes or EOF or 5 s; the count, -1 on EOF first. */
ssize_t	recv_n(int fd, char *buf, size_t n);
ssize_t	send_str(int fd, const char *s);
int	connect_to(const struct sockaddr_storage *ss, socklen_t len);
const uint8_t *u8(const char *s);
/* A path in a private temporary directory (removed at exit if empty). */
const char *tmp_path(const char *name);

#endif /* TTYRIG_H */
