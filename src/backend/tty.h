/*
 * tty.h: terminal backends for serial devices (bhyve's uart_backend.c).
 *
 * A backend is chosen by a spec string:
 *	stdio		stdin/stdout; stdin in raw mode if it is a terminal
 *	PATH		a terminal (/dev/pts/N, /dev/ttyS0) read and written in
 *			raw mode, or a regular file or FIFO for output only
 *			(a missing file is created)
 *	tcp=IP:PORT	a TCP server, IPv4 or [IPv6]; one client at a time
 *	unix=PATH	the same on a Unix-domain stream socket
 *
 * Output never blocks the caller: tty_write() writes what the fd takes
 * now and keeps up to TTY_OUTBUF_SIZE more bytes that the event loop
 * writes when the fd is ready.  With nothing connected (no client, or the
 * terminal went away) output is discarded as on a disconnected line.
 * Input is read by the owner when told it is ready, and only while the
 * owner has enabled it (tty_set_input), so input the owner has no room
 * for waits in the kernel instead of being dropped.
 *
 * Threads: tty_read/tty_write/tty_set_input may be called from any thread
 * (the backend has its own lock); the notify callback runs on the
 * event-loop thread without that lock held and may call them.  Lock
 * order: owner's lock, then the backend's.
 */
#ifndef TTY_H
#define TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "khyve.h"

#define TTY_OUTBUF_SIZE	(64 * 1024)	/* bytes buffered for a slow peer */

/* Events passed to the owner's notify callback (a bit mask). */
#define TTY_EV_INPUT	0x1	/* input may be waiting: call tty_read() */
#define TTY_EV_OUTPUT	0x2	/* room again after a short tty_write() */

struct tty_backend;

typedef void (*tty_notify_t)(void *arg, unsigned events);

/*
 * Open the backend named by spec for the device called owner (used in
 * messages) and register its events with mevent.  Input starts disabled.
 * Returns 0 and *tbp, or -errno after one log_warnx line naming the spec
 * and the problem: -EINVAL (unknown or malformed spec, bad address),
 * -EBUSY (stdio already in use), -EEXIST (unix= path is not a socket),
 * -EADDRINUSE, -ENAMETOOLONG, or what open/socket/bind returned.
 */
int	tty_open(const char *spec, const char *owner, tty_notify_t notify,
	    void *arg, struct tty_backend **tbp) __must_check;

/*
 * Delete the events, close the fds, restore a terminal's settings and
 * remove a unix= socket file.  Call when no callback is in flight (event
 * loop stopped, or from its thread).  NULL is a no-op.
 */
void	tty_close(struct tty_backend *tb);

/*
 * Read up to len bytes of input.  Returns the count, 0 when nothing is
 * waiting (or there is no input at all).  A client that hung up is
 * dropped (the listener takes the next one); a terminal at end of file
 * stops being read.  Never blocks.
 */
size_t	tty_read(struct tty_backend *tb, uint8_t *buf, size_t len);

/*
 * Offer len bytes of output.  Returns how many were taken (written or
 * buffered; discarded bytes count as taken when nothing is connected).
 * A short count means the buffer is full: the owner keeps the rest and
 * gets TTY_EV_OUTPUT when there is room.  Never blocks.
 */
size_t	tty_write(struct tty_backend *tb, const uint8_t *buf, size_t len);

/* Enable or disable TTY_EV_INPUT notifications (idempotent). */
void	tty_set_input(struct tty_backend *tb, bool on);

/* Whether output currently reaches someone (a client, a terminal, a file). */
bool	tty_has_peer(struct tty_backend *tb);

/* Output bytes buffered and not yet written. */
size_t	tty_pending(struct tty_backend *tb);

/*
 * The listening address of a tcp= or unix= backend (to learn an
 * ephemeral port).  Returns 0, or -ENOTSOCK for other backends.
 */
int	tty_local_addr(struct tty_backend *tb, struct sockaddr_storage *ss,
	    socklen_t *lenp);

/*
 * Put the terminal settings (and file status flags) of stdin/stdout back
 * as they were before a stdio backend changed them.  Async-signal-safe
 * (tcsetattr and fcntl only): the machine calls it from fatal-signal
 * handlers; an atexit() handler calls it on every exit().
 */
void	tty_restore_all(void);

#endif /* TTY_H */
