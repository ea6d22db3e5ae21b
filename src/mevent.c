/*
 * mevent.c: the event loop (bhyve's mevent.c, on epoll).
 *
 * Timers are timerfds and signals are signalfds, so every event is an fd
 * in one epoll set.  An event is freed only by the dispatching thread,
 * after the batch of epoll results that may still point at it has been
 * processed, so deleting an event from inside any callback is safe.
 *
 * Hangups.  epoll reports EPOLLHUP and EPOLLERR whatever the event mask
 * (epoll_ctl(2)), so an fd event cannot be silenced by a mask of 0: a
 * hung-up pipe or socket would make epoll_wait return at once, forever.
 * An enabled fd event is level-triggered and its callback does the I/O
 * that reports the end (read 0, EPIPE).  A disabled one stays in the set
 * edge-triggered (EPOLLET) with only the hangup conditions, so a hangup
 * while the owner wants no data is reported once, as EVF_HANGUP, and
 * never again until the fd's state changes.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "log.h"
#include "mevent.h"

struct mevent {
	int		me_fd;		/* fd polled (timerfd/signalfd for those) */
	int		me_arg_fd;	/* what the callback gets as fd */
	enum ev_type	me_type;
	mevent_cb_t	me_cb;
	void		*me_arg;
	bool		me_enabled;
	bool		me_deleted;	/* freed after the current batch */
	bool		me_close;	/* close me_fd when freed */
	struct mevent	*me_next;	/* on the deferred-free list */
	LIST_ENTRY(mevent) me_link;	/* on mev_live until deleted */
};

static int		mev_epfd = -1;
static int		mev_wakefd = -1;	/* eventfd for mevent_stop */
static pthread_mutex_t	mev_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mevent	*mev_dead;		/* deleted, not yet freed */
/*
 * Every event not deleted (bhyve's global_head): epoll's copy of the
 * pointer is out of the leak checker's sight.
 */
static LIST_HEAD(, mevent) mev_live = LIST_HEAD_INITIALIZER(mev_live);
static int		mev_stop_code;		/* atomic */
static bool		mev_stopped;		/* atomic */

int
mevent_init(void)
{
	struct epoll_event ev;

	if (mev_epfd >= 0)
		return (0);
	mev_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (mev_epfd < 0)
		return (-errno);
	mev_wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mev_wakefd < 0)
		return (-errno);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(mev_epfd, EPOLL_CTL_ADD, mev_wakefd, &ev) < 0)
		return (-errno);
	return (0);
}

#define HANGUP_EVENTS	(EPOLLHUP | EPOLLERR | EPOLLRDHUP)

/* The epoll mask of an event in its enabled or disabled state. */
static uint32_t
mevent_events(const struct mevent *mev, bool enabled)
{
	switch (mev->me_type) {
	case EVF_READ:
		return (enabled ? EPOLLIN | EPOLLRDHUP : EPOLLET | EPOLLRDHUP);
	case EVF_WRITE:
		return (enabled ? EPOLLOUT : EPOLLET);
	default:
		/* Timers are disarmed when disabled; signalfds never hang up. */
		return (enabled ? EPOLLIN : 0);
	}
}

/*
 * Start a timerfd's period of ms milliseconds afresh, or stop it.  A
 * disabled timer is disarmed, not only left out of the epoll set: it costs
 * the host nothing while the guest does not use it (the RTC's periodic
 * interrupt, the PM timer's overflow poll), and settime also clears the
 * expirations it had counted (fs/timerfd.c, timerfd_setup).
 */
static int
timer_arm(int tfd, int ms, bool on)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (on) {
		its.it_interval.tv_sec = ms / 1000;
		its.it_interval.tv_nsec = (long)(ms % 1000) * 1000000L;
		its.it_value = its.it_interval;
	}
	return (timerfd_settime(tfd, 0, &its, NULL));
}

static struct mevent *
mevent_add_state(int fd, enum ev_type type, mevent_cb_t cb, void *arg,
    bool enabled)
{
	struct mevent *mev;
	struct epoll_event ev;
	sigset_t set;
	int pfd;

	if (cb == NULL || mevent_init() != 0) {
		errno = EINVAL;
		return (NULL);
	}
	pfd = fd;
	switch (type) {
	case EVF_READ:
	case EVF_WRITE:
		if (fd < 0) {
			errno = EBADF;
			return (NULL);
		}
		break;
	case EVF_TIMER:
		if (fd <= 0) {
			errno = EINVAL;
			return (NULL);
		}
		pfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (pfd < 0)
			return (NULL);
		if (timer_arm(pfd, fd, enabled) < 0) {
			close(pfd);
			return (NULL);
		}
		break;
	case EVF_SIGNAL:
		sigemptyset(&set);
		if (sigaddset(&set, fd) < 0)
			return (NULL);
		/* Blocked here; threads created later inherit the mask. */
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		pfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
		if (pfd < 0)
			return (NULL);
		break;
	default:
		errno = EINVAL;
		return (NULL);
	}

	mev = calloc(1, sizeof(*mev));
	if (mev == NULL)
		goto fail;
	mev->me_fd = pfd;
	mev->me_arg_fd = fd;
	mev->me_type = type;
	mev->me_cb = cb;
	mev->me_arg = arg;
	mev->me_enabled = enabled;
	mev->me_close = (type == EVF_TIMER || type == EVF_SIGNAL);

	memset(&ev, 0, sizeof(ev));
	ev.events = mevent_events(mev, enabled);
	ev.data.ptr = mev;
	pthread_mutex_lock(&mev_lock);
	if (epoll_ctl(mev_epfd, EPOLL_CTL_ADD, pfd, &ev) < 0) {
		pthread_mutex_unlock(&mev_lock);
		goto fail;
	}
	LIST_INSERT_HEAD(&mev_live, mev, me_link);
	pthread_mutex_unlock(&mev_lock);
	return (mev);
fail:
	free(mev);
	if (pfd != fd)
		close(pfd);
	return (NULL);
}

struct mevent *
mevent_add(int fd, enum ev_type type, mevent_cb_t cb, void *arg)
{
	return (mevent_add_state(fd, type, cb, arg, true));
}

struct mevent *
mevent_add_disabled(int fd, enum ev_type type, mevent_cb_t cb, void *arg)
{
	return (mevent_add_state(fd, type, cb, arg, false));
}

static int
mevent_update(struct mevent *mev, bool enable)
{
	struct epoll_event ev;
	int error = 0;

	pthread_mutex_lock(&mev_lock);
	if (mev->me_deleted) {
		error = -ENOENT;
	} else if (mev->me_enabled != enable) {
		memset(&ev, 0, sizeof(ev));
		ev.events = mevent_events(mev, enable);
		ev.data.ptr = mev;
		if (mev->me_type == EVF_TIMER &&
		    timer_arm(mev->me_fd, mev->me_arg_fd, enable) < 0)
			error = -errno;
		else if (epoll_ctl(mev_epfd, EPOLL_CTL_MOD, mev->me_fd, &ev) < 0)
			error = -errno;
		else
			mev->me_enabled = enable;
	}
	pthread_mutex_unlock(&mev_lock);
	return (error);
}

int
mevent_enable(struct mevent *mev)
{
	return (mevent_update(mev, true));
}

int
mevent_disable(struct mevent *mev)
{
	return (mevent_update(mev, false));
}

static int
mevent_delete_common(struct mevent *mev, bool closefd)
{
	pthread_mutex_lock(&mev_lock);
	if (mev->me_deleted) {
		pthread_mutex_unlock(&mev_lock);
		return (-ENOENT);
	}
	(void)epoll_ctl(mev_epfd, EPOLL_CTL_DEL, mev->me_fd, NULL);
	LIST_REMOVE(mev, me_link);
	mev->me_deleted = true;
	if (closefd)
		mev->me_close = true;
	mev->me_next = mev_dead;
	mev_dead = mev;
	pthread_mutex_unlock(&mev_lock);
	return (0);
}

int
mevent_delete(struct mevent *mev)
{
	return (mevent_delete_common(mev, false));
}

int
mevent_delete_close(struct mevent *mev)
{
	return (mevent_delete_common(mev, true));
}

/* Free what was deleted; called between batches on the dispatch thread. */
static void
mevent_reap(void)
{
	struct mevent *mev, *next;

	pthread_mutex_lock(&mev_lock);
	mev = mev_dead;
	mev_dead = NULL;
	pthread_mutex_unlock(&mev_lock);
	for (; mev != NULL; mev = next) {
		next = mev->me_next;
		if (mev->me_close)
			close(mev->me_fd);
		free(mev);
	}
}

/* Consume what made a timer or signal fd readable. */
static void
mevent_drain(struct mevent *mev)
{
	struct signalfd_siginfo si;
	uint64_t ticks;

	if (mev->me_type == EVF_TIMER)
		(void)!read(mev->me_fd, &ticks, sizeof(ticks));
	else if (mev->me_type == EVF_SIGNAL)
		while (read(mev->me_fd, &si, sizeof(si)) == sizeof(si))
			;
}

int
mevent_dispatch(void)
{
	struct epoll_event evs[32];
	struct mevent *mev;
	enum ev_type type;
	uint64_t v;
	bool deleted, enabled;
	int i, n;

	if (mevent_init() != 0)
		fatal(KHYVE_EXIT_ERROR, "mevent: epoll");
	while (!__atomic_load_n(&mev_stopped, __ATOMIC_ACQUIRE)) {
		n = epoll_wait(mev_epfd, evs, nitems(evs), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal(KHYVE_EXIT_ERROR, "mevent: epoll_wait");
		}
		for (i = 0; i < n; i++) {
			mev = evs[i].data.ptr;
			if (mev == NULL) {
				(void)!read(mev_wakefd, &v, sizeof(v));
				continue;
			}
			pthread_mutex_lock(&mev_lock);
			deleted = mev->me_deleted;
			enabled = mev->me_enabled;
			pthread_mutex_unlock(&mev_lock);
			type = mev->me_type;
			/*
			 * Deleted since epoll_wait returned, or disabled: then
			 * only a hangup is news (reported once, see the top).
			 */
			if (deleted)
				continue;
			if (!enabled) {
				if ((type != EVF_READ && type != EVF_WRITE) ||
				    (evs[i].events & HANGUP_EVENTS) == 0)
					continue;
				type = EVF_HANGUP;
			}
			mevent_drain(mev);
			mev->me_cb(mev->me_arg_fd, type, mev->me_arg);
		}
		mevent_reap();
	}
	__atomic_store_n(&mev_stopped, false, __ATOMIC_RELEASE);
	return (__atomic_load_n(&mev_stop_code, __ATOMIC_ACQUIRE));
}

void
mevent_stop(int code)
{
	uint64_t one = 1;

	__atomic_store_n(&mev_stop_code, code, __ATOMIC_RELEASE);
	__atomic_store_n(&mev_stopped, true, __ATOMIC_RELEASE);
	if (mev_wakefd >= 0)
		(void)!write(mev_wakefd, &one, sizeof(one));
}
