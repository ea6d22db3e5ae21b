/*
 * test_mevent.c: the epoll event loop: fds, timers, signals, deletion
 * from callbacks and stopping.
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "mevent.h"
#include "test.h"

static int reads, ticks, sigs;
static struct mevent *rd_ev, *tm_ev;

static void
rd_cb(int fd, enum ev_type type, void *arg)
{
	char c;

	CHECK_EQ(type, EVF_READ);
	CHECK_EQ(read(fd, &c, 1), 1);
	CHECK_EQ(c, 'x');
	reads++;
	/* Deleting itself from its own callback is allowed. */
	CHECK_EQ(mevent_delete(rd_ev), 0);
}

static void
tm_cb(int fd, enum ev_type type, void *arg)
{
	CHECK_EQ(type, EVF_TIMER);
	CHECK_EQ(fd, 5);			/* the period we asked for */
	if (++ticks == 3) {
		CHECK_EQ(mevent_delete(tm_ev), 0);
		CHECK_EQ(kill(getpid(), SIGUSR2), 0);
	}
}

static void
sig_cb(int sig, enum ev_type type, void *arg)
{
	CHECK_EQ(type, EVF_SIGNAL);
	CHECK_EQ(sig, SIGUSR2);
	sigs++;
	mevent_stop(42);
}

TEST(fd_timer_signal_stop)
{
	int p[2];

	CHECK_EQ(mevent_init(), 0);
	CHECK_EQ(pipe(p), 0);
	rd_ev = mevent_add(p[0], EVF_READ, rd_cb, NULL);
	CHECK(rd_ev != NULL);
	CHECK_EQ(write(p[1], "xx", 2), 2);
	tm_ev = mevent_add(5, EVF_TIMER, tm_cb, NULL);
	CHECK(tm_ev != NULL);
	CHECK(mevent_add(SIGUSR2, EVF_SIGNAL, sig_cb, NULL) != NULL);
	CHECK_EQ(mevent_dispatch(), 42);
	/* The second byte was never read: the event was deleted. */
	CHECK_EQ(reads, 1);
	CHECK_EQ(ticks, 3);
	CHECK_EQ(sigs, 1);
	close(p[0]);
	close(p[1]);
}

static int wr_calls;
static struct mevent *wr_ev;

static void
wr_cb(int fd, enum ev_type type, void *arg)
{
	CHECK_EQ(type, EVF_WRITE);
	wr_calls++;
	CHECK_EQ(mevent_disable(wr_ev), 0);
	mevent_stop(7);
}

TEST(disabled_events_do_not_fire)
{
	int p[2];

	CHECK_EQ(pipe(p), 0);
	wr_ev = mevent_add_disabled(p[1], EVF_WRITE, wr_cb, NULL);
	CHECK(wr_ev != NULL);
	CHECK(mevent_add(-1, EVF_READ, wr_cb, NULL) == NULL);
	CHECK(mevent_add(0, EVF_TIMER, wr_cb, NULL) == NULL);
	CHECK_EQ(mevent_enable(wr_ev), 0);
	CHECK_EQ(mevent_dispatch(), 7);
	CHECK_EQ(wr_calls, 1);
	CHECK_EQ(mevent_delete_close(wr_ev), 0);
	CHECK_EQ(mevent_delete(wr_ev), -2);	/* -ENOENT: already deleted */
	close(p[0]);
}

static int tk_calls;
static struct mevent *tk_ev;

static void
tk_cb(int fd, enum ev_type type, void *arg)
{
	tk_calls++;
	mevent_stop(9);
}

/* A disabled timer is stopped, and enabling it starts a fresh period. */
TEST(disabled_timer_is_disarmed)
{
	struct timespec t0, t1;
	double ms;

	tk_ev = mevent_add(20, EVF_TIMER, tk_cb, NULL);
	CHECK(tk_ev != NULL);
	CHECK_EQ(mevent_disable(tk_ev), 0);
	usleep(60 * 1000);		/* three periods while disabled */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(mevent_enable(tk_ev), 0);
	CHECK_EQ(mevent_dispatch(), 9);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	CHECK_EQ(tk_calls, 1);
	/* Had it stayed armed it would be readable at once; a full period
	 * (20 ms, less a scheduling margin) must pass after enabling. */
	CHECK(ms >= 15.0);
	CHECK_EQ(mevent_delete(tk_ev), 0);
}

static int hup_calls, hup_other, hup_ticks;
static struct mevent *hup_tm;

static void
hup_cb(int fd, enum ev_type type, void *arg)
{
	if (type == EVF_HANGUP)
		hup_calls++;
	else
		hup_other++;
}

static void
hup_tick_cb(int fd, enum ev_type type, void *arg)
{
	if (++hup_ticks == 10) {
		CHECK_EQ(mevent_delete(hup_tm), 0);
		mevent_stop(11);
	}
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

/*
 * A disabled event on a hung-up fd (a pipe whose writer closed with a byte
 * unread, a socket whose peer closed) is reported once as EVF_HANGUP, and
 * the loop does not spin on it: epoll reports EPOLLHUP whatever the mask.
 */
TEST(disabled_hangup_reported_once)
{
	int p[2], sv[2];
	struct mevent *a, *b, *c;
	double cpu0;

	hup_calls = hup_other = hup_ticks = 0;
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(write(p[1], "x", 1), 1);
	close(p[1]);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_EQ(write(sv[1], "y", 1), 1);
	close(sv[1]);
	a = mevent_add_disabled(p[0], EVF_READ, hup_cb, NULL);
	b = mevent_add_disabled(sv[0], EVF_READ, hup_cb, NULL);
	/* Disabled after having been enabled: the same. */
	c = mevent_add(dup(sv[0]), EVF_WRITE, hup_cb, NULL);
	CHECK(a != NULL && b != NULL && c != NULL);
	CHECK_EQ(mevent_disable(c), 0);
	hup_tm = mevent_add(20, EVF_TIMER, hup_tick_cb, NULL);
	CHECK(hup_tm != NULL);
	cpu0 = cpu_seconds();
	CHECK_EQ(mevent_dispatch(), 11);
	/* Ten 20 ms ticks: the loop slept, it did not spin. */
	CHECK(cpu_seconds() - cpu0 < 0.1);
	CHECK_EQ(hup_calls, 3);
	CHECK_EQ(hup_other, 0);
	CHECK_EQ(mevent_delete_close(a), 0);
	CHECK_EQ(mevent_delete_close(b), 0);
	CHECK_EQ(mevent_delete_close(c), 0);
}

TEST_MAIN()
