/*
 * ttyrig.c: the helpers of ttyrig.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mevent.h"
#include "ttyrig.h"

void
owner_notify(void *arg, unsigned ev)
{
	struct owner *o = arg;
	size_t n;

	pthread_mutex_lock(&o->mtx);
	if (ev & TTY_EV_OUTPUT)
		o->noutput++;
	if (ev & TTY_EV_INPUT)
		o->ninput++;
	if (ev & TTY_EV_PEER)
		o->npeer++;
	if ((ev & TTY_EV_INPUT) && !o->full) {
		do {
			n = tty_read(o->tb, (uint8_t *)o->in + o->nin,
			    sizeof(o->in) - 1 - o->nin);
			o->nin += n;
		} while (n > 0);
		o->in[o->nin] = '\0';
		if (o->nin == sizeof(o->in) - 1)
			tty_set_input(o->tb, false);
	}
	pthread_mutex_unlock(&o->mtx);
}

static pthread_t loop_thread;

static void *
loop_main(void *arg)
{
	(void)mevent_dispatch();
	return (NULL);
}

void
loop_start(void)
{
	if (mevent_init() != 0 ||
	    pthread_create(&loop_thread, NULL, loop_main, NULL) != 0) {
		fprintf(stderr, "cannot start the event loop\n");
		exit(2);
	}
}

void
loop_stop(void)
{
	mevent_stop(0);
	pthread_join(loop_thread, NULL);
}

int
owner_open(struct owner *o, const char *spec)
{
	int error;

	memset(o, 0, sizeof(*o));
	pthread_mutex_init(&o->mtx, NULL);
	error = tty_open(spec, "test", owner_notify, o, &o->tb);
	if (error == 0)
		tty_set_input(o->tb, true);
	return (error);
}

bool
owner_wait_input(struct owner *o, const char *s)
{
	bool found = false;
	int i;

	for (i = 0; i < 5000 && !found; i++) {
		pthread_mutex_lock(&o->mtx);
		found = strstr(o->in, s) != NULL;
		pthread_mutex_unlock(&o->mtx);
		if (!found)
			usleep(1000);
	}
	return (found);
}

bool
wait_peer(struct tty_backend *tb, bool want)
{
	int i;

	for (i = 0; i < 5000 && tty_has_peer(tb) != want; i++)
		usleep(1000);
	return (tty_has_peer(tb) == want);
}

ssize_t
recv_n(int fd, char *buf, size_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t r;

	while (got < n && poll(&pfd, 1, 5000) > 0) {
		r = read(fd, buf + got, n - got);
		if (r <= 0)
			return (got > 0 ? (ssize_t)got : -1);
		got += (size_t)r;
	}
	return ((ssize_t)got);
}

ssize_t
send_str(int fd, const char *s)
{
	return (send(fd, s, strlen(s), MSG_NOSIGNAL));
}

int
connect_to(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (const struct sockaddr *)ss, len) != 0) {
		close(fd);
		fd = -1;
	}
	return (fd);
}

const uint8_t *
u8(const char *s)
{
	return ((const uint8_t *)s);
}

static char tmpdir[64];

static void
tmp_cleanup(void)
{
	(void)rmdir(tmpdir);
}

const char *
tmp_path(const char *name)
{
	static char path[128];

	if (tmpdir[0] == '\0') {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/khyve-tty-XXXXXX");
		if (mkdtemp(tmpdir) == NULL) {
			perror("mkdtemp");
			exit(2);
		}
		atexit(tmp_cleanup);
	}
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return (path);
}
