/*
 * tty_sock.c: the tcp= and unix= backends (bhyve's uart_backend.c
 * uart_tcp_backend): a listening socket, one client at a time; an extra
 * client is told so and closed; when the client leaves, the listener
 * takes the next one.  Output while nobody is connected is discarded.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "backend/tty_impl.h"
#include "log.h"

static const char tty_busy_msg[] = "khyve: this console already has a client\r\n";

int
tty_local_addr(struct tty_backend *tb, struct sockaddr_storage *ss,
    socklen_t *lenp)
{
	int error = 0;

	pthread_mutex_lock(&tb->tb_mtx);
	*lenp = sizeof(*ss);
	if (tb->tb_lfd < 0)
		error = -ENOTSOCK;
	else if (getsockname(tb->tb_lfd, (struct sockaddr *)ss, lenp) < 0)
		error = -errno;
	pthread_mutex_unlock(&tb->tb_mtx);
	return (error);
}

void
tty_accept_cb(int lfd, enum ev_type type, void *arg)
{
	struct tty_backend *tb = arg;
	unsigned ev;
	int fd, one = 1;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	pthread_mutex_lock(&tb->tb_mtx);
	if (tb->tb_ifd >= 0) {
		/* One client at a time; bhyve tells the extra one and closes. */
		(void)send(fd, tty_busy_msg, sizeof(tty_busy_msg) - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		pthread_mutex_unlock(&tb->tb_mtx);
		return;
	}
	/* Interactive: keystrokes and echoes should not wait for Nagle. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	tb->tb_ifd = fd;
	tb->tb_ofd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (tb->tb_ofd < 0 || tty_add_events(tb) != 0) {
		log_warn("%s: cannot take the client", tb->tb_name);
		tty_drop_client(tb);
	} else {
		log_info("%s: client connected", tb->tb_name);
		tb->tb_deferred |= TTY_EV_PEER;
	}
	ev = tb->tb_deferred;
	tb->tb_deferred = 0;
	pthread_mutex_unlock(&tb->tb_mtx);
	tty_notify(tb, ev);
}

/*
 * "IP:PORT" or "[IPv6]:PORT" (numeric only) into the address to listen
 * on.  inet_pton rather than getaddrinfo: no name service, which also
 * keeps the statically linked binary free of NSS.
 */
static int
tty_parse_inet(const char *s, struct sockaddr_storage *ss, socklen_t *lenp)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	char host[INET6_ADDRSTRLEN];
	const char *port, *end;
	bool v6 = false;
	size_t len;
	long p;

	if (*s == '[') {
		end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return (-EINVAL);
		s++;
		port = end + 2;
		v6 = true;
	} else {
		end = strrchr(s, ':');
		if (end == NULL || memchr(s, ':', (size_t)(end - s)) != NULL)
			return (-EINVAL);
		port = end + 1;
	}
	len = (size_t)(end - s);
	if (len == 0 || len >= sizeof(host) || *port == '\0' ||
	    strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
		return (-EINVAL);
	p = strtol(port, NULL, 10);
	if (p > 65535)
		return (-EINVAL);
	memcpy(host, s, len);
	host[len] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return (-EINVAL);
		*lenp = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return (-EINVAL);
		*lenp = sizeof(*sin);
	}
	return (0);
}

int
tty_open_tcp(struct tty_backend *tb, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int error, one = 1;

	tb->tb_sock = true;
	error = tty_parse_inet(addr, &ss, &sslen);
	if (error != 0) {
		log_warnx("%s: bad address (want tcp=IP:PORT or "
		    "tcp=[IPv6]:PORT)", tb->tb_name);
		return (-EINVAL);
	}
	tb->tb_lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (tb->tb_lfd < 0 ||
	    setsockopt(tb->tb_lfd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) < 0 ||
	    bind(tb->tb_lfd, (struct sockaddr *)&ss, sslen) < 0 ||
	    listen(tb->tb_lfd, 1) < 0) {
		error = -errno;
		log_warnx("%s: cannot listen: %s", tb->tb_name,
		    strerror(errno));
	}
	return (error);
}

int
tty_open_unix(struct tty_backend *tb, const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, error;

	tb->tb_sock = true;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (*path == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("%s: bad socket path", tb->tb_name);
		return (*path == '\0' ? -EINVAL : -ENAMETOOLONG);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("%s: exists and is not a socket; not "
			    "replacing it", tb->tb_name);
			return (-EEXIST);
		}
		/* A socket someone still listens on is not stale. */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0) {
			close(fd);
			log_warnx("%s: socket is in use", tb->tb_name);
			return (-EADDRINUSE);
		}
		if (fd >= 0)
			close(fd);
		(void)unlink(path);
	}
	tb->tb_lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (tb->tb_lfd < 0 ||
	    bind(tb->tb_lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		error = -errno;
		log_warnx("%s: cannot bind: %s", tb->tb_name, strerror(errno));
		return (error);
	}
	tb->tb_unlink = strdup(path);
	if (tb->tb_unlink == NULL) {
		(void)unlink(path);
		log_warnx("%s: out of memory", tb->tb_name);
		return (-ENOMEM);
	}
	/* For a fatal signal, which can take no lock to walk tty_list. */
	tb->tb_unlink_slot = tty_unlink_register(path);
	if (tb->tb_unlink_slot < 0)
		log_warnx("%s: too many sockets: a fatal signal will leave "
		    "this one behind", tb->tb_name);
	if (listen(tb->tb_lfd, 1) < 0) {
		error = -errno;
		log_warnx("%s: cannot listen: %s", tb->tb_name,
		    strerror(errno));
		return (error);
	}
	return (0);
}
