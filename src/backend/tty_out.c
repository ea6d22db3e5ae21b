/*
 * tty_out.c: the output side of the terminal backends: the ring kept for
 * a slow peer, the policy for a peer that does not read at all, FIFOs
 * whose reader comes and goes, and the drain at exit.
 *
 * Stalls.  When the ring is full, tty_write() comes up short and the
 * owner keeps the rest: a UART then shows a busy transmitter, which is
 * what a slow line looks like, and nothing is lost.  But a peer may never
 * read (a TCP client that stopped, a paused FIFO reader), and then the
 * guest would wait for as long as the peer likes: anyone who can connect
 * to the console could stall the guest's kernel (security-checklist
 * §6.13: console output is a host resource the guest controls; drop
 * under pressure).  bhyve drops output at once.  Here the guest waits up
 * to the stall timeout, then the peer is declared stalled: new output
 * is discarded and counted, and the owner is told it has room.  The
 * clock starts when the owner is first refused and stops only when the
 * peer has taken TTY_STALL_PROGRESS bytes since, or all that was
 * buffered: a peer that takes a byte now and then must not hold the
 * guest back for ever either.  No fd event comes for a peer that does
 * nothing, so a timer checks: it is armed with the clock, ticks every
 * quarter of the timeout, and disarms itself once the clock has stopped.
 * What was buffered stays; output is discarded
 * until the peer has read the whole ring, so the peer gets the output up
 * to the stall, a gap, then the output from the moment it caught up,
 * never fragments in between.
 *
 * Drain.  The event loop has stopped when the VM's fate is decided, so
 * tty_drain() polls the output fds itself, for a bounded time.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "backend/tty_impl.h"
#include "log.h"
#include "mevent.h"

#define NS_PER_MS	1000000ULL
#define FIFO_RETRY_NS	(1000 * NS_PER_MS)	/* reopen a reader-less FIFO */
#define STALL_TICKS	4			/* timer ticks per stall timeout */
#define TTY_STALL_PROGRESS 1024			/* bytes that stop the clock */

static unsigned	tty_stall_ms = TTY_STALL_MS;	/* atomic */
static unsigned	tty_drain_ms = TTY_DRAIN_MS;	/* atomic */
static bool	tty_drained;			/* atomic: the drain ran */

uint64_t
tty_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

void
tty_set_timeouts(unsigned stall_ms, unsigned drain_ms)
{
	__atomic_store_n(&tty_stall_ms, stall_ms, __ATOMIC_RELAXED);
	__atomic_store_n(&tty_drain_ms, drain_ms, __ATOMIC_RELAXED);
}

/* Less than TTY_STALL_PROGRESS in the stall timeout: discard from now on. */
static void
tty_stall(struct tty_backend *tb)
{
	tb->tb_dropping = true;
	tb->tb_dropped = 0;
	tb->tb_wait_ns = 0;
	if (tb->tb_stall_ms == 0)
		log_warnx_rl("%s: the peer's buffer is full; discarding output "
		    "until it has read it", tb->tb_name);
	else
		log_warnx_rl("%s: the peer took %zu bytes of output in %u ms; "
		    "discarding output until it has read what is buffered",
		    tb->tb_name, tb->tb_wait_taken, tb->tb_stall_ms);
	if (tb->tb_blocked) {
		tb->tb_blocked = false;
		tb->tb_deferred |= TTY_EV_OUTPUT;
	}
}

/* The ring drained while discarding: output flows again.  tb_mtx held. */
static void
tty_caught_up(struct tty_backend *tb)
{
	tb->tb_dropping = false;
	log_warnx_rl("%s: the peer caught up; %" PRIu64 " bytes of output "
	    "were discarded", tb->tb_name, tb->tb_dropped);
}

void
tty_out_reset(struct tty_backend *tb)
{
	tb->tb_olen = tb->tb_ohead = 0;
	tb->tb_wait_ns = 0;
	if (tb->tb_dropping) {
		tb->tb_dropping = false;
		log_warnx_rl("%s: %" PRIu64 " bytes of output were discarded "
		    "while the peer stalled", tb->tb_name, tb->tb_dropped);
	}
	if (tb->tb_blocked) {
		tb->tb_blocked = false;
		tb->tb_deferred |= TTY_EV_OUTPUT;
	}
}

/*
 * Output failed for good (the reader left: EPIPE, EIO, or error 0 for a
 * hangup); tb_mtx held.  A client is dropped; a FIFO is opened again when
 * a reader comes; anything else discards output from now on.
 */
static void
tty_stop_output(struct tty_backend *tb, int error)
{
	const char *why = error != 0 ? strerror(error) : "hung up";

	if (tb->tb_sock) {
		tty_drop_client(tb);
		return;
	}
	if (tb->tb_fifo != NULL)
		log_warnx("%s: the reader left (%s); discarding output until "
		    "another one opens the FIFO", tb->tb_name, why);
	else
		log_warnx("%s: output: %s; discarding output", tb->tb_name,
		    why);
	if (tb->tb_wev != NULL)
		(void)mevent_delete(tb->tb_wev);
	tb->tb_wev = NULL;
	if (tb->tb_ofd >= 0)
		close(tb->tb_ofd);
	tb->tb_ofd = -1;
	tb->tb_fifo_retry_ns = tty_now_ns() + FIFO_RETRY_NS;
	tty_out_reset(tb);
	tb->tb_deferred |= TTY_EV_PEER;
}

int
tty_fifo_open(struct tty_backend *tb)
{
	int fd, error;

	/* Write-only: holding a read end ourselves, we would never see the
	 * reader leave, and would fill the pipe for nobody. */
	fd = open(tb->tb_fifo, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return (-errno);
	tb->tb_wev = mevent_add_disabled(fd, EVF_WRITE, tty_write_cb, tb);
	if (tb->tb_wev == NULL) {
		error = -errno;
		close(fd);
		return (error);
	}
	tb->tb_ofd = fd;
	tb->tb_opoll = true;
	return (0);
}

/* A FIFO without a reader: try again, at most once a second. */
static void
tty_fifo_retry(struct tty_backend *tb)
{
	uint64_t now = tty_now_ns();
	int error;

	if (now < tb->tb_fifo_retry_ns)
		return;
	tb->tb_fifo_retry_ns = now + FIFO_RETRY_NS;
	error = tty_fifo_open(tb);
	if (error == 0) {
		log_info("%s: a reader opened the FIFO", tb->tb_name);
		tb->tb_deferred |= TTY_EV_PEER;
	}
	else if (error != -ENXIO)
		log_warnx_rl("%s: cannot open: %s", tb->tb_name,
		    strerror(-error));
}

/*
 * Write what the fd takes now.  Returns the count written; on a hard
 * error the output is stopped (tb_ofd becomes -1).
 */
static size_t
tty_out(struct tty_backend *tb, const uint8_t *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len && tb->tb_ofd >= 0) {
		if (tb->tb_sock)
			n = send(tb->tb_ofd, buf + done, len - done,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			n = write(tb->tb_ofd, buf + done, len - done);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		tty_stop_output(tb, n < 0 ? errno : EIO);
	}
	return (done);
}

/* Arm or disarm the write event to match the ring; tb_mtx held. */
static void
tty_arm_output(struct tty_backend *tb)
{
	if (tb->tb_wev == NULL)
		return;
	if (tb->tb_olen > 0)
		(void)mevent_enable(tb->tb_wev);
	else
		(void)mevent_disable(tb->tb_wev);
}

/* Append to the ring what fits; returns the count taken. */
static size_t
tty_ring_put(struct tty_backend *tb, const uint8_t *buf, size_t len)
{
	size_t k, tail;

	k = MIN(len, TTY_OUTBUF_SIZE - tb->tb_olen);
	tail = (tb->tb_ohead + tb->tb_olen) % TTY_OUTBUF_SIZE;
	if (k > TTY_OUTBUF_SIZE - tail) {
		memcpy(tb->tb_obuf + tail, buf, TTY_OUTBUF_SIZE - tail);
		memcpy(tb->tb_obuf, buf + TTY_OUTBUF_SIZE - tail,
		    k - (TTY_OUTBUF_SIZE - tail));
	} else {
		memcpy(tb->tb_obuf + tail, buf, k);
	}
	tb->tb_olen += k;
	return (k);
}

/* The owner was refused bytes: start the stall clock.  tb_mtx held. */
static void
tty_block(struct tty_backend *tb)
{
	tb->tb_blocked = true;
	if (tb->tb_wait_ns != 0)
		return;				/* still running */
	tb->tb_wait_ns = tty_now_ns();
	tb->tb_wait_taken = 0;
	if (tb->tb_tev != NULL && !tb->tb_tev_on &&
	    mevent_enable(tb->tb_tev) == 0)
		tb->tb_tev_on = true;
}

size_t
tty_write(struct tty_backend *tb, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	pthread_mutex_lock(&tb->tb_mtx);
	if (tb->tb_ofd < 0 && tb->tb_fifo != NULL)
		tty_fifo_retry(tb);
	if (tb->tb_dropping) {
		tb->tb_dropped += len;
		done = len;
	} else {
		if (tb->tb_ofd >= 0 && tb->tb_olen == 0)
			done = tty_out(tb, buf, len);
		if (tb->tb_ofd < 0 || !tb->tb_opoll) {
			/* Nothing connected, or a file that took what it could. */
			done = len;
		} else if (done < len) {
			done += tty_ring_put(tb, buf + done, len - done);
			if (done < len && tb->tb_stall_ms == 0) {
				tty_stall(tb);
				tb->tb_dropped += len - done;
				done = len;
			} else if (done < len) {
				tty_block(tb);
			}
			tty_arm_output(tb);
		}
	}
	pthread_mutex_unlock(&tb->tb_mtx);
	return (done);
}

/* Write what the ring holds and the fd takes; tb_mtx held. */
static void
tty_flush(struct tty_backend *tb)
{
	size_t chunk, n;

	while (tb->tb_olen > 0 && tb->tb_ofd >= 0) {
		chunk = MIN(tb->tb_olen, TTY_OUTBUF_SIZE - tb->tb_ohead);
		n = tty_out(tb, tb->tb_obuf + tb->tb_ohead, chunk);
		if (tb->tb_ofd < 0)
			return;			/* stopped: the ring is reset */
		tb->tb_ohead = (tb->tb_ohead + n) % TTY_OUTBUF_SIZE;
		tb->tb_olen -= n;
		tb->tb_wait_taken += n;
		if (n < chunk)
			break;
	}
	if (tb->tb_ofd < 0)
		return;
	if (tb->tb_wait_taken >= TTY_STALL_PROGRESS || tb->tb_olen == 0)
		tb->tb_wait_ns = 0;		/* progress: stop the clock */
	tty_arm_output(tb);
	if (tb->tb_dropping && tb->tb_olen == 0)
		tty_caught_up(tb);
	if (tb->tb_blocked && tb->tb_olen < TTY_OUTBUF_SIZE) {
		tb->tb_blocked = false;
		tb->tb_deferred |= TTY_EV_OUTPUT;
	}
}

void
tty_write_cb(int fd, enum ev_type type, void *arg)
{
	struct tty_backend *tb = arg;
	unsigned ev;

	pthread_mutex_lock(&tb->tb_mtx);
	/* A hangup comes while the ring is empty: the reader has gone. */
	if (type == EVF_HANGUP)
		tty_stop_output(tb, 0);
	else
		tty_flush(tb);
	ev = tb->tb_deferred;
	tb->tb_deferred = 0;
	pthread_mutex_unlock(&tb->tb_mtx);
	tty_notify(tb, ev);
}

static void
tty_stall_cb(int fd, enum ev_type type, void *arg)
{
	struct tty_backend *tb = arg;
	unsigned ev;

	pthread_mutex_lock(&tb->tb_mtx);
	if (tb->tb_wait_ns != 0 && !tb->tb_dropping && tty_now_ns() -
	    tb->tb_wait_ns >= tb->tb_stall_ms * NS_PER_MS)
		tty_stall(tb);
	if (tb->tb_wait_ns == 0 && tb->tb_tev_on) {
		(void)mevent_disable(tb->tb_tev);
		tb->tb_tev_on = false;
	}
	ev = tb->tb_deferred;
	tb->tb_deferred = 0;
	pthread_mutex_unlock(&tb->tb_mtx);
	tty_notify(tb, ev);
}

int
tty_out_init(struct tty_backend *tb)
{
	unsigned period;

	tb->tb_stall_ms = __atomic_load_n(&tty_stall_ms, __ATOMIC_RELAXED);
	if (tb->tb_stall_ms == 0)
		return (0);			/* stalls are declared at once */
	period = MAX(tb->tb_stall_ms / STALL_TICKS, 1u);
	tb->tb_tev = mevent_add_disabled((int)period, EVF_TIMER, tty_stall_cb,
	    tb);
	return (tb->tb_tev == NULL ? -errno : 0);
}

bool
tty_has_peer(struct tty_backend *tb)
{
	bool peer;

	pthread_mutex_lock(&tb->tb_mtx);
	peer = tb->tb_ofd >= 0;
	pthread_mutex_unlock(&tb->tb_mtx);
	return (peer);
}

size_t
tty_pending(struct tty_backend *tb)
{
	size_t n;

	pthread_mutex_lock(&tb->tb_mtx);
	n = tb->tb_olen;
	pthread_mutex_unlock(&tb->tb_mtx);
	return (n);
}

bool
tty_stalled(struct tty_backend *tb, uint64_t *dropped)
{
	bool stalled;

	pthread_mutex_lock(&tb->tb_mtx);
	stalled = tb->tb_dropping;
	if (dropped != NULL)
		*dropped = stalled ? tb->tb_dropped : 0;
	pthread_mutex_unlock(&tb->tb_mtx);
	return (stalled);
}

/*
 * One pass of tty_drain() over tb: write what the fd takes, give the
 * owner what it is owed (with owners), and add tb's fd to pfd when it
 * still has buffered output worth waiting for.  Returns whether the
 * owner was called (it may have written more).
 */
static bool
tty_drain_one(struct tty_backend *tb, bool owners, struct pollfd *pfd,
    size_t *np)
{
	unsigned ev = 0;

	pthread_mutex_lock(&tb->tb_mtx);
	if (tb->tb_olen > 0 && tb->tb_ofd >= 0)
		tty_flush(tb);
	if (owners) {
		ev = tb->tb_deferred;
		tb->tb_deferred = 0;
	}
	if (tb->tb_olen > 0 && tb->tb_ofd >= 0 && !tb->tb_dropping) {
		pfd[*np].fd = tb->tb_ofd;
		pfd[*np].events = POLLOUT;
		pfd[*np].revents = 0;
		(*np)++;
	}
	pthread_mutex_unlock(&tb->tb_mtx);
	if (ev == 0)
		return (false);
	tty_notify(tb, ev);
	return (true);
}

size_t
tty_drain(unsigned timeout_ms, bool owners)
{
	struct tty_backend **tbs, *tb;
	struct pollfd *pfd;
	uint64_t deadline, now;
	size_t n = 0, i, np, left = 0;
	bool again;

	pthread_mutex_lock(&tty_list_mtx);
	for (tb = tty_list; tb != NULL; tb = tb->tb_next)
		n++;
	tbs = calloc(n + 1, sizeof(*tbs));
	pfd = calloc(n + 1, sizeof(*pfd));
	for (tb = tty_list, i = 0; tbs != NULL && tb != NULL;
	    tb = tb->tb_next)
		tbs[i++] = tb;
	pthread_mutex_unlock(&tty_list_mtx);
	if (tbs == NULL || pfd == NULL) {
		free(tbs);
		free(pfd);
		return (0);
	}

	deadline = tty_now_ns() + timeout_ms * NS_PER_MS;
	for (;;) {
		np = 0;
		again = false;
		for (i = 0; i < n; i++)
			again |= tty_drain_one(tbs[i], owners, pfd, &np);
		now = tty_now_ns();
		if (now >= deadline || (np == 0 && !again))
			break;
		/* An owner pushed bytes: write them before waiting. */
		if (!again && poll(pfd, np, (int)MAX((deadline - now) /
		    NS_PER_MS, 1)) < 0 && errno != EINTR)
			break;
	}

	for (i = 0; i < n; i++) {
		tb = tbs[i];
		pthread_mutex_lock(&tb->tb_mtx);
		if (tb->tb_olen > 0 && tb->tb_ofd >= 0)
			log_warnx("%s: %zu bytes of output not taken by the "
			    "peer at exit", tb->tb_name, tb->tb_olen);
		if (tb->tb_dropping)
			log_warnx("%s: %" PRIu64 " bytes of output discarded at "
			    "exit since the peer stalled", tb->tb_name,
			    tb->tb_dropped);
		if (tb->tb_ofd >= 0)
			left += tb->tb_olen;
		pthread_mutex_unlock(&tb->tb_mtx);
	}
	free(tbs);
	free(pfd);
	return (left);
}

void
tty_drain_all(void)
{
	if (__atomic_exchange_n(&tty_drained, true, __ATOMIC_SEQ_CST))
		return;
	(void)tty_drain(__atomic_load_n(&tty_drain_ms, __ATOMIC_RELAXED),
	    true);
}

void
tty_drain_exit(void)
{
	if (__atomic_exchange_n(&tty_drained, true, __ATOMIC_SEQ_CST))
		return;
	(void)tty_drain(__atomic_load_n(&tty_drain_ms, __ATOMIC_RELAXED),
	    false);
}
