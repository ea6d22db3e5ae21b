/*
 * mevent.h: the event loop (bhyve's mevent, on epoll).
 *
 * main() ends in mevent_dispatch().  Callbacks run on the thread that
 * dispatches; mevent_add/enable/disable/delete may be called from any
 * thread.  Timers use timerfd, signals use signalfd (the signal is blocked
 * in every thread by mevent_add).
 */
#ifndef MEVENT_H
#define MEVENT_H

#include "khyve.h"

enum ev_type {
	EVF_READ,	/* fd readable */
	EVF_WRITE,	/* fd writable */
	EVF_TIMER,	/* periodic timer; the "fd" argument is milliseconds */
	EVF_SIGNAL,	/* signal delivered; the "fd" argument is the signo */
	EVF_HANGUP,	/* only passed to callbacks, never registered: see below */
};

struct mevent;

/*
 * A callback gets its event's type, except that the callback of a
 * disabled EVF_READ or EVF_WRITE event gets EVF_HANGUP when its fd hangs
 * up or fails (EPOLLHUP, EPOLLERR, EPOLLRDHUP): once, and again only
 * after the fd's state changes, so a callback that ignores it costs
 * nothing.  An enabled fd event fires while the fd is readable (writable)
 * or hung up; its callback must then read (write), which reports the end
 * (0 bytes, EPIPE, ECONNRESET), or disable or delete the event: otherwise
 * it is called again at once.
 */
typedef void (*mevent_cb_t)(int fd, enum ev_type type, void *arg);

/* Create the epoll instance.  Returns 0 or -errno. */
int	mevent_init(void) __must_check;

/*
 * Add an event; it starts enabled.  For EVF_TIMER, fd is the period in
 * milliseconds and the callback gets the timerfd; for EVF_SIGNAL, fd is
 * the signal number and the callback gets it back.  Returns NULL with
 * errno set on failure.
 */
struct mevent *mevent_add(int fd, enum ev_type type, mevent_cb_t cb,
	    void *arg);
/* Same, but starts disabled. */
struct mevent *mevent_add_disabled(int fd, enum ev_type type, mevent_cb_t cb,
	    void *arg);
int	mevent_enable(struct mevent *evp);
int	mevent_disable(struct mevent *evp);
/*
 * Remove the event.  Safe from within its own callback.  mevent_delete()
 * leaves the fd open (timers' and signals' own fds are always closed);
 * mevent_delete_close() closes it.
 */
int	mevent_delete(struct mevent *evp);
int	mevent_delete_close(struct mevent *evp);

/* Run callbacks until mevent_stop() is called; returns its argument. */
int	mevent_dispatch(void);
/* Make mevent_dispatch() return code (callable from any thread). */
void	mevent_stop(int code);

#endif /* MEVENT_H */
