/*
 * test_tty.c: terminal backends with real sockets, files and pipes, the
 * event loop running in a thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include "backend/tty.h"
#include "mevent.h"
#include "test.h"
#include "ttyrig.h"

/* One client at a time, a second one turned away, reconnect works. */
static void
exercise_server(struct owner *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[128];
	int c1, c2, c3;

	CHECK_EQ(tty_local_addr(o->tb, &ss, &len), 0);
	CHECK(!tty_has_peer(o->tb));
	CHECK_EQ(tty_write(o->tb, u8("lost"), 4), 4);	/* nobody: discarded */
	CHECK_EQ(tty_pending(o->tb), 0);

	c1 = connect_to(&ss, len);
	CHECK(c1 >= 0);
	CHECK(wait_peer(o->tb, true));
	CHECK_EQ(send_str(c1, "hello"), 5);
	CHECK(owner_wait_input(o, "hello"));
	CHECK_EQ(tty_write(o->tb, u8("world"), 5), 5);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv_n(c1, buf, 5), 5);
	CHECK_STR(buf, "world");			/* "lost" never came */

	c2 = connect_to(&ss, len);
	CHECK(c2 >= 0);
	memset(buf, 0, sizeof(buf));
	CHECK(recv_n(c2, buf, sizeof(buf) - 1) > 0);	/* told, then closed */
	CHECK(strstr(buf, "already") != NULL);
	CHECK_EQ(recv_n(c2, buf, 1), -1);
	close(c2);
	CHECK(tty_has_peer(o->tb));			/* c1 still served */
	CHECK_EQ(send_str(c1, "again"), 5);
	CHECK(owner_wait_input(o, "again"));

	close(c1);
	CHECK(wait_peer(o->tb, false));
	CHECK_EQ(tty_write(o->tb, u8("gone"), 4), 4);

	c3 = connect_to(&ss, len);
	CHECK(c3 >= 0);
	CHECK(wait_peer(o->tb, true));
	CHECK_EQ(send_str(c3, "third"), 5);
	CHECK(owner_wait_input(o, "third"));
	CHECK_EQ(tty_write(o->tb, u8("back"), 4), 4);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv_n(c3, buf, 4), 4);
	CHECK_STR(buf, "back");
	close(c3);
}

TEST(tcp_ipv4)
{
	struct owner o;

	CHECK_EQ(owner_open(&o, "tcp=127.0.0.1:0"), 0);
	if (o.tb == NULL)
		return;
	loop_start();
	exercise_server(&o);
	loop_stop();
	tty_close(o.tb);
}

TEST(tcp_ipv6)
{
	struct owner o;
	int s;

	s = socket(AF_INET6, SOCK_STREAM, 0);
	if (s < 0)
		TEST_SKIP("no IPv6");
	close(s);
	if (owner_open(&o, "tcp=[::1]:0") != 0)
		TEST_SKIP("cannot listen on ::1");
	loop_start();
	exercise_server(&o);
	loop_stop();
	tty_close(o.tb);
}

TEST(tcp_port_in_use)
{
	struct owner o1, o2;
	struct sockaddr_storage ss;
	socklen_t len;
	char spec[64];

	CHECK_EQ(owner_open(&o1, "tcp=127.0.0.1:0"), 0);
	CHECK_EQ(tty_local_addr(o1.tb, &ss, &len), 0);
	snprintf(spec, sizeof(spec), "tcp=127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	CHECK_EQ(owner_open(&o2, spec), -EADDRINUSE);
	CHECK(o2.tb == NULL);
	tty_close(o1.tb);
}

TEST(unix_socket)
{
	struct owner o, o2;
	struct stat st;
	struct sockaddr_un sun;
	char spec[160], path[128];
	int fd;

	snprintf(path, sizeof(path), "%s", tmp_path("console.sock"));
	/* A stale socket file (nobody listening) is replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	CHECK(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path));
	CHECK_EQ(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	CHECK_EQ(lstat(path, &st), 0);

	snprintf(spec, sizeof(spec), "unix=%s", path);
	CHECK_EQ(owner_open(&o, spec), 0);
	if (o.tb == NULL)
		return;
	loop_start();
	exercise_server(&o);
	/* A live one is not (the probe is a client that leaves at once). */
	CHECK_EQ(owner_open(&o2, spec), -EADDRINUSE);
	CHECK(wait_peer(o.tb, false));
	loop_stop();
	tty_close(o.tb);
	CHECK(lstat(path, &st) < 0 && errno == ENOENT);	/* removed */
}

static unsigned
owner_npeer(struct owner *o)
{
	unsigned n;

	pthread_mutex_lock(&o->mtx);
	n = o->npeer;
	pthread_mutex_unlock(&o->mtx);
	return (n);
}

static bool
wait_npeer(struct owner *o, unsigned want)
{
	int i;

	for (i = 0; i < 5000 && owner_npeer(o) < want; i++)
		usleep(1000);
	return (owner_npeer(o) >= want);
}

/* The owner hears of a client coming and going (TTY_EV_PEER). */
TEST(unix_peer_events)
{
	struct owner o;
	struct sockaddr_storage ss;
	socklen_t len;
	char spec[160];
	int c;

	snprintf(spec, sizeof(spec), "unix=%s", tmp_path("peer.sock"));
	CHECK_EQ(owner_open(&o, spec), 0);
	if (o.tb == NULL)
		return;
	CHECK_EQ(tty_local_addr(o.tb, &ss, &len), 0);
	loop_start();
	c = connect_to(&ss, len);
	CHECK(c >= 0);
	CHECK(wait_npeer(&o, 1));
	CHECK(tty_has_peer(o.tb));
	close(c);
	CHECK(wait_npeer(&o, 2));
	CHECK(!tty_has_peer(o.tb));
	loop_stop();
	tty_close(o.tb);
}

TEST(unix_refuses_non_socket)
{
	struct owner o;
	char spec[160], path[128];
	int fd;

	snprintf(path, sizeof(path), "%s", tmp_path("plain"));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "unix=%s", path);
	CHECK_EQ(owner_open(&o, spec), -EEXIST);
	CHECK_EQ(access(path, F_OK), 0);		/* left alone */
	unlink(path);
}

static size_t
file_contents(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return (0);
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return (n > 0 ? (size_t)n : 0);
}

TEST(file_backend_appends)
{
	struct owner o;
	char path[128], buf[64];
	uint8_t in[4];

	snprintf(path, sizeof(path), "%s", tmp_path("console.log"));
	unlink(path);
	CHECK_EQ(owner_open(&o, path), 0);		/* created */
	CHECK(tty_has_peer(o.tb));
	CHECK_EQ(tty_write(o.tb, u8("abc"), 3), 3);
	CHECK_EQ(tty_read(o.tb, in, sizeof(in)), 0);	/* no input */
	tty_close(o.tb);
	CHECK_EQ(owner_open(&o, path), 0);
	CHECK_EQ(tty_write(o.tb, u8("def"), 3), 3);
	tty_close(o.tb);
	CHECK_EQ(file_contents(path, buf, sizeof(buf)), 6);
	CHECK_STR(buf, "abcdef");
	unlink(path);
}

TEST(pipe_output_buffers_then_drains)
{
	struct owner o;
	char spec[64];
	uint8_t chunk[4096], *got;
	size_t took, total = 0, want, i, bad = 0;
	int p[2];

	CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	snprintf(spec, sizeof(spec), "/proc/self/fd/%d", p[1]);
	CHECK_EQ(owner_open(&o, spec), 0);
	if (o.tb == NULL)
		return;
	/* Nobody reads: the pipe fills, then the buffer, then a short count. */
	do {
		for (i = 0; i < sizeof(chunk); i++)
			chunk[i] = (uint8_t)(total + i);
		took = tty_write(o.tb, chunk, sizeof(chunk));
		total += took;
	} while (took == sizeof(chunk) && total < 16 * TTY_OUTBUF_SIZE);
	CHECK(took < sizeof(chunk));
	CHECK_EQ(tty_pending(o.tb), TTY_OUTBUF_SIZE);
	CHECK_EQ(o.noutput, 0);

	loop_start();
	want = total;
	got = malloc(want);
	CHECK(got != NULL);
	CHECK_EQ(recv_n(p[0], (char *)got, want), (ssize_t)want);
	for (i = 0; i < 5000 && tty_pending(o.tb) != 0; i++)
		usleep(1000);
	CHECK_EQ(tty_pending(o.tb), 0);
	pthread_mutex_lock(&o.mtx);
	CHECK(o.noutput >= 1);			/* told that room came back */
	pthread_mutex_unlock(&o.mtx);
	loop_stop();
	for (i = 0; i < want; i++)
		if (got[i] != (uint8_t)i)
			bad++;
	CHECK_EQ(bad, 0);
	free(got);
	tty_close(o.tb);
	close(p[0]);
	close(p[1]);
}

TEST(stdio_only_once)
{
	struct owner o1, o2;

	CHECK_EQ(owner_open(&o1, "stdio"), 0);
	CHECK_EQ(owner_open(&o2, "stdio"), -EBUSY);
	tty_close(o1.tb);
	CHECK_EQ(owner_open(&o2, "stdio"), 0);
	tty_close(o2.tb);
	tty_restore_all();			/* harmless when nothing saved */
}

/* stdio on a pty: raw mode, the shared description left alone, restore. */
TEST(stdio_raw_mode_and_restore)
{
	struct owner o;
	struct termios t;
	char name[64], buf[8];
	int m, s, in0, out1;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 ||
	    ptsname_r(m, name, sizeof(name)) != 0)
		TEST_SKIP("no pty");
	s = open(name, O_RDWR | O_NOCTTY);
	CHECK(s >= 0);
	fflush(stdout);
	in0 = dup(0);
	out1 = dup(1);
	dup2(s, 0);
	dup2(s, 1);

	CHECK_EQ(tcgetattr(0, &t), 0);
	CHECK((t.c_lflag & ICANON) && (t.c_oflag & OPOST));
	CHECK_EQ(owner_open(&o, "stdio"), 0);
	CHECK_EQ(tcgetattr(0, &t), 0);
	CHECK(!(t.c_lflag & (ICANON | ECHO)) && !(t.c_oflag & OPOST));
	CHECK_EQ(fcntl(0, F_GETFL) & O_NONBLOCK, 0);	/* shell's is untouched */
	CHECK_EQ(fcntl(1, F_GETFL) & O_NONBLOCK, 0);
	CHECK_EQ(tty_write(o.tb, u8("out\n"), 4), 4);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv_n(m, buf, 4), 4);
	CHECK_STR(buf, "out\n");			/* no ONLCR */
	loop_start();
	CHECK_EQ(write(m, "in", 2), 2);
	CHECK(owner_wait_input(&o, "in"));
	loop_stop();
	tty_restore_all();				/* as a signal handler */
	CHECK_EQ(tcgetattr(0, &t), 0);
	CHECK(t.c_lflag & ICANON);
	tty_close(o.tb);
	CHECK_EQ(tcgetattr(0, &t), 0);
	CHECK((t.c_lflag & ICANON) && (t.c_oflag & OPOST));

	dup2(in0, 0);
	dup2(out1, 1);
	close(in0);
	close(out1);
	close(s);
	close(m);
}

TEST(bad_specs)
{
	static const struct {
		const char	*spec;
		int		error;
	} cases[] = {
		{ "", -EINVAL },
		{ "serial=1", -EINVAL },
		{ "tcp=", -EINVAL },
		{ "tcp=127.0.0.1", -EINVAL },
		{ "tcp=:23", -EINVAL },
		{ "tcp=127.0.0.1:", -EINVAL },
		{ "tcp=127.0.0.1:99999", -EINVAL },
		{ "tcp=127.0.0.1:12x", -EINVAL },
		{ "tcp=localhost:2323", -EINVAL },	/* numeric only */
		{ "tcp=1.2.3.4.5:23", -EINVAL },
		{ "tcp=::1:23", -EINVAL },		/* v6 needs [] */
		{ "tcp=[::1:23", -EINVAL },
		{ "tcp=[::1]23", -EINVAL },
		{ "tcp=192.0.2.1:2323", -EADDRNOTAVAIL },	/* not ours */
		{ "unix=", -EINVAL },
		{ "/nonexistent-dir/sub/file", -ENOENT },
	};
	struct owner o;
	struct tty_backend *tb;
	char spec[200];
	size_t i;
	int error;

	for (i = 0; i < nitems(cases); i++) {
		tb = (struct tty_backend *)&o;	/* must be cleared */
		error = tty_open(cases[i].spec, "test", owner_notify, &o, &tb);
		CHECK_EQ(error, cases[i].error);
		CHECK(tb == NULL);
		if (error != cases[i].error)
			printf("  with spec \"%s\"\n", cases[i].spec);
	}
	memset(spec, 'a', sizeof(spec) - 1);
	spec[sizeof(spec) - 1] = '\0';
	memcpy(spec, "unix=/", 6);
	CHECK_EQ(owner_open(&o, spec), -ENAMETOOLONG);
	CHECK_EQ(tty_open(NULL, "test", owner_notify, &o, &tb), -EINVAL);
}

TEST_MAIN()
