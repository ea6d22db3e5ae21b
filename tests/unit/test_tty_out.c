/*
 * test_tty_out.c: the terminal backends' output policy and hangups, with
 * real pipes, FIFOs and sockets: a stalled peer is dropped after the
 * stall timeout and picked up again, a slow one is waited for, a FIFO's
 * reader may come and go, hung-up clients and readers are let go without
 * spinning, and the drain at exit is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "backend/tty.h"
#include "mevent.h"
#include "test.h"
#include "ttyrig.h"

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static uint8_t
pat(size_t i)
{
	return ((uint8_t)(i * 13 + i / 509));
}

/* Offer the pattern from *sent on until tb refuses; returns the last count. */
static size_t
fill(struct tty_backend *tb, size_t *sent, size_t limit)
{
	uint8_t chunk[4096];
	size_t i, took;

	do {
		for (i = 0; i < sizeof(chunk); i++)
			chunk[i] = pat(*sent + i);
		took = tty_write(tb, chunk, sizeof(chunk));
		*sent += took;
	} while (took == sizeof(chunk) && *sent < limit);
	return (took);
}

/* Read n bytes and count those that differ from the pattern at base. */
static size_t
read_pattern(int fd, size_t base, size_t n, size_t *bad)
{
	uint8_t *buf = malloc(n);
	ssize_t got;
	size_t i;

	if (buf == NULL)
		return (0);
	got = recv_n(fd, (char *)buf, n);
	for (i = 0; got > 0 && i < (size_t)got; i++)
		if (buf[i] != pat(base + i))
			(*bad)++;
	free(buf);
	return (got > 0 ? (size_t)got : 0);
}

static unsigned
owner_noutput(struct owner *o)
{
	unsigned n;

	pthread_mutex_lock(&o->mtx);
	n = o->noutput;
	pthread_mutex_unlock(&o->mtx);
	return (n);
}

static int
small_pipe(int p[2], struct owner *o)
{
	char spec[64];

	if (pipe2(p, O_CLOEXEC) != 0)
		return (-1);
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	snprintf(spec, sizeof(spec), "/proc/self/fd/%d", p[1]);
	return (owner_open(o, spec));
}

/*
 * A peer that reads nothing: the owner is refused for the stall timeout,
 * then output is discarded and counted and the owner told it has room;
 * once the peer has read what was buffered, output flows again.
 */
TEST(stalled_peer_dropped_then_caught_up)
{
	struct owner o;
	uint64_t dropped;
	size_t sent = 0, took, bad = 0, got;
	double t0;
	int p[2], i;

	tty_set_timeouts(100, 0);
	CHECK_EQ(small_pipe(p, &o), 0);
	took = fill(o.tb, &sent, 16 * TTY_OUTBUF_SIZE);
	CHECK(took < 4096);
	CHECK(!tty_stalled(o.tb, NULL));
	loop_start();
	t0 = now_s();
	for (i = 0; i < 2000 && !tty_stalled(o.tb, NULL); i++)
		usleep(1000);
	CHECK(tty_stalled(o.tb, &dropped));
	CHECK(now_s() - t0 >= 0.05);		/* not before the timeout */
	CHECK_EQ(dropped, 0);
	for (i = 0; i < 2000 && owner_noutput(&o) == 0; i++)
		usleep(1000);
	CHECK_EQ(owner_noutput(&o), 1);		/* the owner may write again */
	CHECK_EQ(tty_write(o.tb, u8("gone"), 4), 4);	/* discarded */
	CHECK(tty_stalled(o.tb, &dropped));
	CHECK_EQ(dropped, 4);
	CHECK_EQ(tty_pending(o.tb), TTY_OUTBUF_SIZE);	/* kept, not lost */

	/* The peer reads it all: the pattern without a gap, then "back". */
	got = read_pattern(p[0], 0, sent, &bad);
	CHECK_EQ(got, sent);
	CHECK_EQ(bad, 0);
	for (i = 0; i < 2000 && tty_stalled(o.tb, NULL); i++)
		usleep(1000);
	CHECK(!tty_stalled(o.tb, NULL));
	CHECK_EQ(tty_write(o.tb, u8("back"), 4), 4);
	{
		char buf[8] = "";

		CHECK_EQ(recv_n(p[0], buf, 4), 4);
		CHECK_STR(buf, "back");
	}
	loop_stop();
	tty_close(o.tb);
	close(p[0]);
	close(p[1]);
	tty_set_timeouts(TTY_STALL_MS, TTY_DRAIN_MS);
}

TEST(stall_timeout_zero_drops_at_once)
{
	struct owner o;
	uint64_t dropped;
	size_t sent = 0, took;
	int p[2];

	tty_set_timeouts(0, 0);
	CHECK_EQ(small_pipe(p, &o), 0);
	took = fill(o.tb, &sent, 4 * TTY_OUTBUF_SIZE);
	CHECK_EQ(took, 4096);			/* never refused */
	CHECK(tty_stalled(o.tb, &dropped));
	CHECK(dropped > 0);
	CHECK_EQ(sent, 4 * TTY_OUTBUF_SIZE);
	CHECK_EQ(tty_pending(o.tb) + 4096 + dropped, sent);
	tty_close(o.tb);
	close(p[0]);
	close(p[1]);
	tty_set_timeouts(TTY_STALL_MS, TTY_DRAIN_MS);
}

struct slow_reader {
	int		fd;
	size_t		want, got, bad;
};

static void *
slow_reader_main(void *arg)
{
	struct slow_reader *sr = arg;
	uint8_t buf[2048];
	ssize_t n, i;

	while (sr->got < sr->want) {
		usleep(10000);
		n = read(sr->fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			if (buf[i] != pat(sr->got + (size_t)i))
				sr->bad++;
		sr->got += (size_t)n;
	}
	return (NULL);
}

/* A peer that reads slowly but steadily is waited for, never dropped. */
TEST(slow_peer_is_not_stalled)
{
	struct owner o;
	struct slow_reader sr;
	pthread_t th;
	size_t sent = 0, total = TTY_OUTBUF_SIZE + 48 * 1024, n;
	uint8_t b[512];
	int p[2], spins, i;

	tty_set_timeouts(150, 0);
	CHECK_EQ(small_pipe(p, &o), 0);
	sr = (struct slow_reader){ .fd = p[0], .want = total };
	loop_start();
	CHECK_EQ(pthread_create(&th, NULL, slow_reader_main, &sr), 0);
	/* A guest polling for room, as a UART driver does. */
	for (spins = 0; sent < total && spins < 20000; spins++) {
		n = MIN(sizeof(b), total - sent);
		for (i = 0; i < (int)n; i++)
			b[i] = pat(sent + (size_t)i);
		sent += tty_write(o.tb, b, n);
		if (sent < total)
			usleep(500);
	}
	pthread_join(th, NULL);
	CHECK(!tty_stalled(o.tb, NULL));
	loop_stop();
	CHECK_EQ(sent, total);
	CHECK_EQ(sr.got, total);
	CHECK_EQ(sr.bad, 0);
	tty_close(o.tb);
	close(p[0]);
	close(p[1]);
	tty_set_timeouts(TTY_STALL_MS, TTY_DRAIN_MS);
}

struct trickle {
	int		fd;
	volatile int	stop;
	size_t		got;
};

static void *
trickle_main(void *arg)
{
	struct trickle *tr = arg;
	uint8_t buf[64];
	ssize_t n;

	while (!tr->stop) {
		usleep(20000);
		n = read(tr->fd, buf, sizeof(buf));
		if (n > 0)
			tr->got += (size_t)n;
	}
	return (NULL);
}

/*
 * A peer that takes a little now and then (64 bytes every 20 ms from a
 * pty, which makes room about 1 KiB at a time) holds the guest back for
 * a stall timeout, not for ever.
 */
TEST(trickling_peer_is_stalled)
{
	struct owner o;
	struct trickle tr;
	pthread_t th;
	char name[64];
	size_t sent = 0;
	uint8_t b[16];
	int m, spins, i;
	double t0;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 ||
	    ptsname_r(m, name, sizeof(name)) != 0)
		TEST_SKIP("no pty");
	tty_set_timeouts(200, 0);
	CHECK_EQ(owner_open(&o, name), 0);
	(void)fill(o.tb, &sent, 16 * TTY_OUTBUF_SIZE);
	CHECK_EQ(tty_pending(o.tb), TTY_OUTBUF_SIZE);
	tr = (struct trickle){ .fd = m };
	loop_start();
	t0 = now_s();
	CHECK_EQ(pthread_create(&th, NULL, trickle_main, &tr), 0);
	for (spins = 0; spins < 5000 && !tty_stalled(o.tb, NULL); spins++) {
		for (i = 0; i < (int)sizeof(b); i++)
			b[i] = pat(sent + (size_t)i);
		sent += tty_write(o.tb, b, sizeof(b));
		usleep(1000);
	}
	CHECK(tty_stalled(o.tb, NULL));
	CHECK(now_s() - t0 >= 0.15);
	tr.stop = 1;
	pthread_join(th, NULL);
	CHECK(tr.got > 0);				/* it did read */
	loop_stop();
	tty_close(o.tb);
	close(m);
	tty_set_timeouts(TTY_STALL_MS, TTY_DRAIN_MS);
}

/*
 * A FIFO: write-only, so a reader that is not there never blocks us;
 * output waits for no one, and a reader that comes later is found.
 */
TEST(fifo_reader_comes_and_goes)
{
	struct owner o;
	char path[128], buf[16];
	size_t sent = 0;
	int rfd, i;

	snprintf(path, sizeof(path), "%s", tmp_path("console.fifo"));
	unlink(path);
	CHECK_EQ(mkfifo(path, 0600), 0);
	CHECK_EQ(owner_open(&o, path), 0);		/* no reader: fine */
	if (o.tb == NULL)
		return;
	CHECK(!tty_has_peer(o.tb));
	CHECK_EQ(fill(o.tb, &sent, 8 * TTY_OUTBUF_SIZE), 4096);
	CHECK_EQ(tty_pending(o.tb), 0);			/* discarded */
	loop_start();

	rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	CHECK(rfd >= 0);
	usleep(1100 * 1000);				/* the retry interval */
	CHECK_EQ(tty_write(o.tb, u8("hello"), 5), 5);
	CHECK(tty_has_peer(o.tb));
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv_n(rfd, buf, 5), 5);
	CHECK_STR(buf, "hello");

	/* The reader leaves while nothing is buffered: a hangup, no write. */
	close(rfd);
	CHECK(wait_peer(o.tb, false));
	sent = 0;
	CHECK_EQ(fill(o.tb, &sent, 4 * TTY_OUTBUF_SIZE), 4096);
	CHECK(!tty_stalled(o.tb, NULL));
	for (i = 0; i < 10; i++)
		CHECK_EQ(tty_write(o.tb, u8("x"), 1), 1);
	loop_stop();
	tty_close(o.tb);
	unlink(path);
}

/*
 * A client sends a byte and hangs up while the owner has no room for
 * input (a UART whose RX FIFO is full): it is dropped all the same, at
 * once, with its byte, and the next client is served.
 */
static void
exercise_dead_client(const char *spec)
{
	struct tty_backend *tb;
	struct sockaddr_storage ss;
	struct owner o;
	socklen_t len;
	char buf[128];
	double cpu0;
	int c1, c2;

	memset(&o, 0, sizeof(o));
	pthread_mutex_init(&o.mtx, NULL);
	o.full = true;
	CHECK_EQ(tty_open(spec, "test", owner_notify, &o, &tb), 0);
	if (tb == NULL)
		return;
	o.tb = tb;
	CHECK_EQ(tty_local_addr(tb, &ss, &len), 0);
	loop_start();
	c1 = connect_to(&ss, len);
	CHECK(c1 >= 0);
	CHECK(wait_peer(tb, true));
	CHECK_EQ(send_str(c1, "x"), 1);
	close(c1);
	cpu0 = cpu_seconds();
	CHECK(wait_peer(tb, false));			/* dropped at once */
	usleep(200000);
	CHECK(cpu_seconds() - cpu0 < 0.1);		/* and no spinning */

	c2 = connect_to(&ss, len);
	CHECK(c2 >= 0);
	CHECK(wait_peer(tb, true));
	CHECK_EQ(tty_write(tb, u8("second"), 6), 6);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv_n(c2, buf, 6), 6);
	CHECK_STR(buf, "second");			/* not "already ..." */
	pthread_mutex_lock(&o.mtx);
	CHECK_EQ(o.ninput, 0);		/* input was never enabled */
	o.full = false;
	pthread_mutex_unlock(&o.mtx);
	tty_set_input(tb, true);
	usleep(50000);
	pthread_mutex_lock(&o.mtx);
	CHECK_EQ(o.nin, 0);		/* the dead client's "x" went with it */
	pthread_mutex_unlock(&o.mtx);
	close(c2);
	loop_stop();
	tty_close(tb);
}

TEST(unix_client_hangup_dropped)
{
	char spec[160];

	snprintf(spec, sizeof(spec), "unix=%s", tmp_path("dead.sock"));
	exercise_dead_client(spec);
}

TEST(tcp_client_hangup_dropped)
{
	exercise_dead_client("tcp=127.0.0.1:0");
}

/*
 * stdin at end of file while the owner wants no input: noted once (no
 * spinning), what is unread is delivered once the owner asks, then input
 * stops.
 */
TEST(stdin_eof_keeps_pending_input)
{
	struct owner o;
	uint8_t b[4];
	double cpu0;
	int p[2], in0, i;

	CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
	CHECK_EQ(write(p[1], "abc", 3), 3);
	close(p[1]);
	in0 = dup(0);
	dup2(p[0], 0);
	close(p[0]);
	memset(&o, 0, sizeof(o));
	pthread_mutex_init(&o.mtx, NULL);
	CHECK_EQ(tty_open("stdio", "test", owner_notify, &o, &o.tb), 0);
	dup2(in0, 0);					/* ours has its own */
	close(in0);
	if (o.tb == NULL)
		return;
	cpu0 = cpu_seconds();
	loop_start();
	usleep(200000);
	CHECK(cpu_seconds() - cpu0 < 0.1);
	pthread_mutex_lock(&o.mtx);
	CHECK_EQ(o.ninput, 0);		/* not told while it wants no input */
	pthread_mutex_unlock(&o.mtx);
	tty_set_input(o.tb, true);
	CHECK(owner_wait_input(&o, "abc"));
	for (i = 0; i < 100; i++)
		usleep(1000);
	CHECK_EQ(tty_read(o.tb, b, sizeof(b)), 0);	/* and then no more */
	loop_stop();
	tty_close(o.tb);
}

/* stdout whose reader went away: output stops, without a write. */
TEST(stdout_reader_gone_stops_output)
{
	struct owner o;
	char buf[8] = "";
	int p[2], out1;

	CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
	fflush(stdout);
	out1 = dup(1);
	dup2(p[1], 1);
	close(p[1]);
	CHECK_EQ(owner_open(&o, "stdio"), 0);
	dup2(out1, 1);
	close(out1);
	if (o.tb == NULL)
		return;
	loop_start();
	CHECK_EQ(tty_write(o.tb, u8("abc"), 3), 3);
	CHECK_EQ(recv_n(p[0], buf, 3), 3);
	CHECK_STR(buf, "abc");
	CHECK(tty_has_peer(o.tb));
	close(p[0]);
	CHECK(wait_peer(o.tb, false));
	CHECK_EQ(tty_write(o.tb, u8("lost"), 4), 4);
	loop_stop();
	tty_close(o.tb);
}

static void *
late_reader_main(void *arg)
{
	struct slow_reader *sr = arg;

	usleep(100000);
	sr->got = read_pattern(sr->fd, 0, sr->want, &sr->bad);
	return (NULL);
}

/* The drain waits for a late reader, without the event loop. */
TEST(drain_writes_what_is_buffered)
{
	struct owner o;
	struct slow_reader sr;
	pthread_t th;
	size_t sent = 0;
	double t0;
	int p[2];

	CHECK_EQ(small_pipe(p, &o), 0);
	(void)fill(o.tb, &sent, 16 * TTY_OUTBUF_SIZE);
	CHECK_EQ(tty_pending(o.tb), TTY_OUTBUF_SIZE);
	sr = (struct slow_reader){ .fd = p[0], .want = sent };
	CHECK_EQ(pthread_create(&th, NULL, late_reader_main, &sr), 0);
	t0 = now_s();
	CHECK_EQ(tty_drain(5000, false), 0);
	CHECK(now_s() - t0 < 4);
	pthread_join(th, NULL);
	CHECK_EQ(sr.got, sent);
	CHECK_EQ(sr.bad, 0);
	CHECK_EQ(tty_pending(o.tb), 0);
	tty_close(o.tb);
	close(p[0]);
	close(p[1]);
}

/* The same for a socket client that reads late. */
TEST(drain_socket_client)
{
	struct owner o;
	struct slow_reader sr;
	struct sockaddr_storage ss;
	socklen_t len;
	pthread_t th;
	size_t sent = 0;
	char spec[160];
	int c;

	snprintf(spec, sizeof(spec), "unix=%s", tmp_path("drain.sock"));
	CHECK_EQ(owner_open(&o, spec), 0);
	if (o.tb == NULL)
		return;
	CHECK_EQ(tty_local_addr(o.tb, &ss, &len), 0);
	loop_start();
	c = connect_to(&ss, len);
	CHECK(c >= 0);
	CHECK(wait_peer(o.tb, true));
	loop_stop();
	(void)fill(o.tb, &sent, 256 * TTY_OUTBUF_SIZE);
	CHECK_EQ(tty_pending(o.tb), TTY_OUTBUF_SIZE);
	sr = (struct slow_reader){ .fd = c, .want = sent };
	CHECK_EQ(pthread_create(&th, NULL, late_reader_main, &sr), 0);
	CHECK_EQ(tty_drain(5000, false), 0);
	pthread_join(th, NULL);
	CHECK_EQ(sr.got, sent);
	CHECK_EQ(sr.bad, 0);
	close(c);
	tty_close(o.tb);
}

/* Bounded: nobody reads, 0 waits not at all, a stalled peer not at all. */
TEST(drain_is_bounded)
{
	struct owner o;
	size_t sent = 0;
	double t0;
	int p[2];

	CHECK_EQ(small_pipe(p, &o), 0);
	(void)fill(o.tb, &sent, 16 * TTY_OUTBUF_SIZE);
	t0 = now_s();
	CHECK_EQ(tty_drain(150, false), TTY_OUTBUF_SIZE);
	CHECK(now_s() - t0 >= 0.14 && now_s() - t0 < 2);
	t0 = now_s();
	CHECK_EQ(tty_drain(0, false), TTY_OUTBUF_SIZE);
	CHECK(now_s() - t0 < 1);
	tty_close(o.tb);
	close(p[0]);
	close(p[1]);

	tty_set_timeouts(0, 0);				/* stall at once */
	CHECK_EQ(small_pipe(p, &o), 0);
	sent = 0;
	(void)fill(o.tb, &sent, 4 * TTY_OUTBUF_SIZE);
	CHECK(tty_stalled(o.tb, NULL));
	t0 = now_s();
	CHECK_EQ(tty_drain(5000, false), TTY_OUTBUF_SIZE);
	CHECK(now_s() - t0 < 2);
	tty_close(o.tb);
	close(p[0]);
	close(p[1]);
	tty_set_timeouts(TTY_STALL_MS, TTY_DRAIN_MS);
}

TEST(signal_cleanup_removes_sockets)
{
	struct owner o;
	struct stat st;
	char spec[160], path[128];
	int fd;

	snprintf(path, sizeof(path), "%s", tmp_path("sig.sock"));
	snprintf(spec, sizeof(spec), "unix=%s", path);
	CHECK_EQ(owner_open(&o, spec), 0);
	CHECK_EQ(lstat(path, &st), 0);
	tty_signal_cleanup();
	CHECK(lstat(path, &st) < 0 && errno == ENOENT);
	tty_close(o.tb);
	/* A closed backend's slot is free: its path is not removed again. */
	CHECK_EQ(owner_open(&o, spec), 0);
	tty_close(o.tb);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0);
	close(fd);
	tty_signal_cleanup();
	CHECK_EQ(lstat(path, &st), 0);
	unlink(path);
}

/*
 * exit() drains too (the ring only), for a fatal() after start.  Last:
 * the child's exit() runs this file's atexit handlers as well.
 */
TEST(exit_drains)
{
	struct owner o;
	size_t sent = 0, got, bad = 0;
	int p[2], status;
	pid_t pid;

	CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char spec[64];

		close(p[0]);
		tty_set_timeouts(TTY_STALL_MS, 5000);
		snprintf(spec, sizeof(spec), "/proc/self/fd/%d", p[1]);
		if (owner_open(&o, spec) != 0)
			_exit(2);
		/* The pipe's 4 KiB, then the ring's 64 KiB. */
		(void)fill(o.tb, &sent, 16 * TTY_OUTBUF_SIZE);
		exit(0);
	}
	close(p[1]);
	usleep(300000);					/* a slow reader */
	got = read_pattern(p[0], 0, 4096 + TTY_OUTBUF_SIZE, &bad);
	CHECK_EQ(got, 4096 + TTY_OUTBUF_SIZE);
	CHECK_EQ(bad, 0);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(p[0]);
}

TEST_MAIN()
