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
 * writes when the fd is ready.  When that buffer is full the owner keeps
 * the rest (the guest sees a busy transmitter) until the peer reads.  A
 * peer that takes less than 1 KiB within the stall timeout
 * (tty_set_timeouts()) of the owner being refused is declared stalled:
 * from then on output is discarded and counted (the owner is told it
 * has room), until the peer has read all that was buffered and output
 * flows again.  With nothing connected (no client, a
 * FIFO without a reader, a terminal or pipe that went away) output is
 * discarded as on a disconnected line.  A FIFO is opened write-only and
 * without blocking, and opened again (at most once a second, when there
 * is output) after it had no reader, so a reader that comes later gets
 * output from then on.  At exit, tty_drain_all() writes out what is
 * buffered, for a bounded time.
 *
 * Input is read by the owner when told it is ready, and only while the
 * owner has enabled it (tty_set_input), so input the owner has no room
 * for waits in the kernel instead of being dropped.  A socket client that
 * hangs up is dropped at once, its unread input with it, so the next
 * client can connect; stdin or a terminal at end of file keeps what is
 * still unread for the owner, then stops.
 *
 * Threads: tty_read/tty_write/tty_set_input may be called from any thread
 * (the backend has its own lock); the notify callback runs on the
 * event-loop thread (or in tty_drain() with owners) without that lock
 * held and may call them.  Lock order: owner's lock, then the backend's.
 */
#ifndef TTY_H
#define TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "khyve.h"

#define TTY_OUTBUF_SIZE	(64 * 1024)	/* bytes buffered for a slow peer */
#define TTY_STALL_MS	2000	/* default stall timeout */
#define TTY_DRAIN_MS	3000	/* default drain timeout at exit */

/* Events passed to the owner's notify callback (a bit mask). */
#define TTY_EV_INPUT	0x1	/* input may be waiting: call tty_read() */
#define TTY_EV_OUTPUT	0x2	/* room again after a short tty_write() */
/*
 * tty_has_peer() may have changed: a client connected or went away, a
 * FIFO got a reader, output stopped for good.  A change that the owner's
 * own tty_read() or tty_write() caused (a client found gone) is reported
 * with the backend's next event, so an owner that tracks the peer looks
 * at tty_has_peer() after those calls too.
 */
#define TTY_EV_PEER	0x4

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
 * Whether tb's peer is declared stalled (its output is being discarded),
 * and if dropped is not NULL the bytes discarded since it was.
 */
bool	tty_stalled(struct tty_backend *tb, uint64_t *dropped);

/*
 * The console policy for every backend (console.stall_timeout and
 * console.drain_timeout): a peer that takes less than 1 KiB of output in
 * stall_ms after the owner was refused is declared stalled (0: as soon as
 * the buffer is full); tty_drain_all() waits up to drain_ms (0: not at
 * all).  Call
 * before tty_open(): a backend keeps the stall timeout it was opened
 * with.  Defaults TTY_STALL_MS and TTY_DRAIN_MS.
 */
void	tty_set_timeouts(unsigned stall_ms, unsigned drain_ms);

/*
 * Write out what every open backend buffered, waiting up to timeout_ms
 * for peers that read slowly; a backend whose peer is already declared
 * stalled is written only what its fd takes at once, never waited for.
 * With owners, an owner whose tty_write() came up short is told
 * TTY_EV_OUTPUT on this thread whenever there is room, so it pushes what
 * it still holds (a UART's TX FIFO): only when this thread holds no
 * owner's lock and nothing else writes (event loop stopped, vCPUs
 * joined).  Logs what could not be written.  Returns the bytes left
 * unwritten (0: everything went out).  Not idempotent: for tests and
 * tty_drain_all().
 */
size_t	tty_drain(unsigned timeout_ms, bool owners);

/*
 * Once per process: tty_drain(drain_ms, true).  For main() after the
 * event loop returned (vCPUs joined).  The exit() path runs the same
 * drain without owners (the ring only: an exit() from elsewhere may hold
 * any lock) unless this ran first.
 */
void	tty_drain_all(void);

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

/*
 * For fatal-signal handlers: tty_restore_all(), then remove every unix=
 * socket file (from a fixed table filled at set-up).  Async-signal-safe:
 * no locks, no allocation, only tcsetattr, fcntl and unlink.
 */
void	tty_signal_cleanup(void);

/*
 * The SANDBOX_NEED_* bits the open consoles need after set-up: a FIFO
 * reopened for a new reader, socket files removed at exit.
 */
unsigned tty_sandbox_needs(void);

#endif /* TTY_H */
