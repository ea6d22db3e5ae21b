/*
 * net_passt.c: the passt network backend.  passt (https://passt.top,
 * Debian's passt package) is a user-mode network stack that speaks to
 * the guest with Ethernet frames over a Unix stream socket and to the
 * world with ordinary sockets of its own: it gives the guest the host's
 * own address and routes (no NAT network of its own, unlike slirp) and
 * runs sandboxed (namespaces, seccomp, no privileges).  QEMU talks to it
 * with -netdev stream; khyve speaks the same protocol.
 *
 * Keys of the device's node:
 *	backend=passt
 *	socket=PATH		connect to a running passt's socket (passt -s)
 *	hostfwd=RULE[;RULE...]	net_hostfwd.h; become passt's -t/-u options
 *	mtu=N			the MTU passt's DHCP gives, 68..65520
 *				(default 1500; the device reads it too)
 *	passt=PROGRAM		the program (default: passt on the PATH)
 * Without socket= khyve starts passt itself on one end of a socketpair
 * (passt -F FD); hostfwd= and passt= only go with that mode, and mtu=
 * only tells the device there (a running passt has its own -m).
 *
 * The stream (passt's tap.c, QEMU's net/stream.c): every frame is a
 * 4-byte big-endian length then the bare Ethernet frame, no virtio-net
 * header.  A stream can give part of a frame and take part of one, so:
 *  - receive reads exactly what the frame at hand still lacks (its
 *    length, then its bytes), never more: what the kernel holds stays
 *    visible to the device's level-triggered poll, and at most one frame
 *    waits here (the one netbe_peek_recvlen() reported);
 *  - send that the socket takes only in part keeps the rest of that frame
 *    and writes it before any other: a frame cut in half would put every
 *    later length out of step.  While a rest waits, new frames are
 *    dropped (-EAGAIN) as a full tap queue would drop them.
 * A length of 0 or over NETBE_FRAME_MAX cannot come from passt: the
 * stream is corrupt and the backend is gone (-EPIPE, once).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "backend/net_backend.h"
#include "backend/net_hostfwd.h"
#include "backend/net_spawn.h"
#include "config.h"
#include "log.h"

#define PASST_HDR		4	/* the big-endian frame length */
#define PASST_MTU_DEFAULT	1500
#define PASST_MTU_MIN		68
#define PASST_MTU_MAX		65520	/* passt's own limit (-m) */
/* How long passt may take to set up (bind the forwards, sandbox). */
#define PASST_START_MS		10000
/*
 * Who passt becomes when khyve is root: nobody and nogroup (65534 on
 * Debian; a static khyve cannot use getpwnam()).
 */
#define PASST_NOBODY		65534
#define PASST_NOBODY_STR	"65534:65534"
#define PASST_SOCKBUF		(1024 * 1024)
/* Room for one -t/-u argument: "255.255.255.255/65535:65535". */
#define PASST_PORTARG		32
#define PASST_ARGV_MAX		(20 + 2 * NET_HOSTFWD_MAX)

struct passt_be {
	int		pb_fd;		/* our end of the stream */
	pid_t		pb_pid;		/* passt, when we started it */
	bool		pb_dead;	/* the stream is out of step */
	size_t		pb_rxhave;	/* bytes of the frame at hand read */
	size_t		pb_rxlen;	/* its length, once its header is in */
	size_t		pb_txoff;	/* the rest of a half-sent frame */
	size_t		pb_txlen;
	uint8_t		pb_rx[PASST_HDR + NETBE_FRAME_MAX];
	uint8_t		pb_tx[PASST_HDR + NETBE_FRAME_MAX];
};

/*
 * The forward as passt's -t/-u argument: [haddr/]hport:gport.  passt
 * forwards to the guest's one address (the host's, which it gives by
 * DHCP), so a rule naming another guest address cannot be kept.
 */
static int
passt_fwd_arg(const struct net_hostfwd *hf, const char *devname, char *buf,
    size_t len)
{
	char rule[NET_HOSTFWD_STRLEN], a[INET_ADDRSTRLEN] = "";

	if (ntohl(hf->hf_gaddr.s_addr) != NET_HOSTFWD_GUEST_DEFAULT) {
		log_warnx("%s: hostfwd=%s: passt cannot forward to a guest "
		    "address (it forwards to the guest's one address): leave "
		    "it empty", devname, net_hostfwd_format(hf, rule,
		    sizeof(rule)));
		return (-EINVAL);
	}
	if (hf->hf_haddr.s_addr != 0) {
		inet_ntop(AF_INET, &hf->hf_haddr, a, sizeof(a));
		strcat(a, "/");
	}
	snprintf(buf, len, "%s%u:%u", a, hf->hf_hport, hf->hf_gport);
	return (0);
}

/*
 * passt does not fail when a host port is taken (it binds what it can,
 * IPv6 too): try each one here first, so a port in use is one clear
 * error now and not a forward that never works.
 */
static int
passt_fwd_probe(const struct net_hostfwd *hf, const char *devname)
{
	struct sockaddr_in sin;
	char rule[NET_HOSTFWD_STRLEN];
	int s, one = 1, error = 0;

	s = socket(AF_INET, (hf->hf_udp ? SOCK_DGRAM : SOCK_STREAM) |
	    SOCK_CLOEXEC, 0);
	if (s < 0)
		return (-errno);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = hf->hf_haddr;
	sin.sin_port = htons(hf->hf_hport);
	/* As passt binds: a port in TIME_WAIT is free. */
	(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		error = -errno;
		log_warnx("%s: hostfwd=%s: host port: %s", devname,
		    net_hostfwd_format(hf, rule, sizeof(rule)),
		    strerror(errno));
	}
	(void)close(s);
	return (error);
}

/*
 * passt writes its pid file after it has set up (forwards bound,
 * sandbox in place): the pipe at fd 4 is that file, and a line on it is
 * passt saying it is ready.  End of file first: passt exited.
 */
static int
passt_wait_ready(struct passt_be *pb, int pidr, const char *devname,
    const char *path)
{
	struct pollfd pfd = { .fd = pidr, .events = POLLIN };
	char buf[32];
	size_t have = 0;
	ssize_t n;
	int r, st;

	while (have < sizeof(buf) && memchr(buf, '\n', have) == NULL) {
		do
			r = poll(&pfd, 1, PASST_START_MS);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			log_warnx("%s: passt %s did not start in %d s", devname,
			    path, PASST_START_MS / 1000);
			return (-ETIMEDOUT);
		}
		n = read(pidr, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0) {
			have += (size_t)n;
			continue;
		}
		while (waitpid(pb->pb_pid, &st, 0) < 0 && errno == EINTR)
			;
		pb->pb_pid = -1;
		log_warnx("%s: passt %s exited at start-up (status %d; see "
		    "its message above)", devname, path, WIFEXITED(st) ?
		    WEXITSTATUS(st) : 128 + WTERMSIG(st));
		return (-EIO);
	}
	return (0);
}

/*
 * Start passt on a socketpair; on success pb has its pid and our end.
 * passt gets the socket (fd 3), the pid pipe (fd 4), /dev/null as stdin
 * and stdout, khyve's stderr, nothing else.  The parent-death signal
 * covers it until it changes credentials: started by root, passt binds
 * the forwards (ports below 1024 too) and then becomes nobody (--runas),
 * which clears the signal (prctl(2)); from then on its exit at the
 * socket's end of file (--one-off) ends it with khyve, whose death
 * closes the socket.
 */
static int
passt_spawn(struct passt_be *pb, const char *devname, const char *path,
    char *const argv[])
{
	struct net_spawn sp = { .ns_path = path, .ns_argv = argv,
	    .ns_nfds = 2, .ns_pdeathsig = true, .ns_devnull = true };
	int sv[2], pp[2], fds[2], error, sz = PASST_SOCKBUF;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		error = -errno;
		log_warn("%s: passt: socketpair", devname);
		return (error);
	}
	if (pipe2(pp, O_CLOEXEC) < 0) {
		error = -errno;
		log_warn("%s: passt: pipe", devname);
		goto fail_sv;
	}
	/* passt opens the pipe again by /proc/self/fd/4 as nobody. */
	if (geteuid() == 0 && fchown(pp[1], PASST_NOBODY, PASST_NOBODY) < 0) {
		error = -errno;
		log_warn("%s: passt: fchown", devname);
		goto fail_pp;
	}
	/* Best effort: the kernel caps these at net.core.[rw]mem_max. */
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	fds[0] = sv[1];
	fds[1] = pp[1];
	sp.ns_fds = fds;
	if ((error = net_spawn(&sp, &pb->pb_pid)) != 0) {
		log_warnx("%s: passt %s: %s", devname, path, strerror(-error));
		goto fail_pp;
	}
	(void)close(sv[1]);
	(void)close(pp[1]);
	pb->pb_fd = sv[0];
	error = passt_wait_ready(pb, pp[0], devname, path);
	(void)close(pp[0]);
	if (error != 0) {
		net_spawn_reap(&pb->pb_pid);
		(void)close(pb->pb_fd);
		pb->pb_fd = -1;
	}
	return (error);

fail_pp:
	(void)close(pp[0]);
	(void)close(pp[1]);
fail_sv:
	(void)close(sv[0]);
	(void)close(sv[1]);
	return (error);
}

/* socket=PATH: a passt someone else started (passt -s PATH). */
static int
passt_connect(struct passt_be *pb, const char *devname, const char *path)
{
	struct sockaddr_un sun;
	int s, error;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("%s: socket=%s: not a socket path (1 to %zu bytes)",
		    devname, path, sizeof(sun.sun_path) - 1);
		return (-EINVAL);
	}
	strcpy(sun.sun_path, path);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0) {
		error = -errno;
		log_warn("%s: passt: socket", devname);
		return (error);
	}
	/*
	 * Non-blocking: a Unix connect completes at once or fails, EAGAIN
	 * when the listener's backlog is full (a passt busy with another
	 * guest), where a blocking one would wait for ever.
	 */
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		error = -errno;
		log_warnx("%s: socket=%s: cannot connect to passt: %s", devname,
		    path, errno == EAGAIN ? "it is busy (its backlog is full)" :
		    strerror(errno));
		(void)close(s);
		return (error);
	}
	pb->pb_fd = s;
	return (0);
}

/* The argument vector for passt -F: foreground, quiet, errors to stderr. */
static int
passt_argv(char *argv[], char (*ports)[PASST_PORTARG], char *mtu,
    size_t mtulen, uint64_t mtuval, const struct net_hostfwd *fwd,
    size_t nfwd, const char *devname)
{
	int n = 0, error;
	size_t i;

	argv[n++] = (char *)"passt";
	argv[n++] = (char *)"--foreground";
	argv[n++] = (char *)"--quiet";
	argv[n++] = (char *)"--stderr";
	argv[n++] = (char *)"--one-off";
	argv[n++] = (char *)"--fd";
	argv[n++] = (char *)"3";		/* NET_SPAWN_FD0 */
	argv[n++] = (char *)"--pid";
	argv[n++] = (char *)"/proc/self/fd/4";	/* NET_SPAWN_FD0 + 1 */
	if (geteuid() == 0) {
		argv[n++] = (char *)"--runas";
		argv[n++] = (char *)PASST_NOBODY_STR;
	}
	snprintf(mtu, mtulen, "%u", (unsigned)mtuval);
	argv[n++] = (char *)"--mtu";
	argv[n++] = mtu;
	for (i = 0; i < nfwd; i++) {
		if ((error = passt_fwd_arg(&fwd[i], devname, ports[i],
		    PASST_PORTARG)) != 0)
			return (error);
		argv[n++] = (char *)(fwd[i].hf_udp ? "-u" : "-t");
		argv[n++] = ports[i];
	}
	argv[n] = NULL;
	return (0);
}

static int
passt_init(struct net_backend *be, const char *devname, const char *name,
    struct config_node *nvl, int nqueues)
{
	struct passt_be *pb = be->be_priv;
	struct net_hostfwd fwd[NET_HOSTFWD_MAX];
	char ports[NET_HOSTFWD_MAX][PASST_PORTARG], mtu[16], path[PATH_MAX];
	char *argv[PASST_ARGV_MAX];
	const char *spec, *sock, *prog, *key = NULL;
	uint64_t mtuval;
	size_t i, nfwd = 0;
	int error;

	pb->pb_fd = -1;
	pb->pb_pid = -1;
	if ((sock = config_get(nvl, "socket")) != NULL) {
		if (config_get(nvl, "hostfwd") != NULL)
			key = "hostfwd";
		else if (config_get(nvl, "passt") != NULL)
			key = "passt";
		if (key != NULL) {
			log_warnx("%s: %s= is for a passt khyve starts, not "
			    "with socket= (give it to the running passt)",
			    devname, key);
			return (-EINVAL);
		}
		if ((error = passt_connect(pb, devname, sock)) != 0)
			return (error);
		goto opened;
	}
	/* Every key is checked before passt starts. */
	if ((spec = config_get(nvl, "hostfwd")) != NULL &&
	    (error = net_hostfwd_parse(spec, fwd, nitems(fwd), &nfwd,
	    devname)) != 0)
		return (error);
	if (config_get_uint64(nvl, "mtu", PASST_MTU_DEFAULT, &mtuval) != 0 ||
	    mtuval < PASST_MTU_MIN || mtuval > PASST_MTU_MAX) {
		log_warnx("%s: mtu=%s: not a number from %d to %d", devname,
		    config_get(nvl, "mtu"), PASST_MTU_MIN, PASST_MTU_MAX);
		return (-EINVAL);
	}
	if ((error = passt_argv(argv, ports, mtu, sizeof(mtu), mtuval, fwd,
	    nfwd, devname)) != 0)
		return (error);
	if ((prog = config_get(nvl, "passt")) == NULL)
		prog = "passt";
	if ((error = net_spawn_which(prog, path, sizeof(path))) != 0) {
		log_warnx("%s: passt=%s: %s (install passt, or set "
		    "passt=PROGRAM)", devname, path, strerror(-error));
		return (error);
	}
	for (i = 0; i < nfwd; i++)
		if ((error = passt_fwd_probe(&fwd[i], devname)) != 0)
			return (error);
	if ((error = passt_spawn(pb, devname, path, argv)) != 0)
		return (error);
opened:
	if (fcntl(pb->pb_fd, F_SETFL, O_NONBLOCK) < 0) {
		error = -errno;
		log_warn("%s: passt: fcntl", devname);
		net_spawn_reap(&pb->pb_pid);
		(void)close(pb->pb_fd);
		pb->pb_fd = -1;
		return (error);
	}
	if (sock != NULL)
		log_info("%s: passt: connected to %s", devname, sock);
	else
		log_info("%s: passt: %s, pid %d, %zu forward%s", devname, path,
		    (int)pb->pb_pid, nfwd, nfwd == 1 ? "" : "s");
	return (0);
}

static void
passt_cleanup(struct net_backend *be)
{
	struct passt_be *pb = be->be_priv;

	net_spawn_reap(&pb->pb_pid);
	if (pb->pb_fd >= 0)
		(void)close(pb->pb_fd);
	pb->pb_fd = -1;
}

static int
passt_fd(struct net_backend *be, int q)
{
	return (((struct passt_be *)be->be_priv)->pb_fd);
}

/* Write the rest of a half-sent frame: 0 when none is left. */
static ssize_t
passt_flush(struct passt_be *pb)
{
	ssize_t n;

	while (pb->pb_txoff < pb->pb_txlen) {
		n = send(pb->pb_fd, pb->pb_tx + pb->pb_txoff, pb->pb_txlen -
		    pb->pb_txoff, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return (netbe_sockerr(errno));
		pb->pb_txoff += (size_t)n;
	}
	pb->pb_txoff = pb->pb_txlen = 0;
	return (0);
}

static void
passt_put32(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A frame in more pieces than one sendmsg takes here: copy it whole. */
static ssize_t
passt_send_linear(struct passt_be *pb, const struct iovec *iov, int iovcnt,
    size_t len)
{
	size_t off = PASST_HDR;
	ssize_t r;
	int i;

	passt_put32(pb->pb_tx, len);
	for (i = 0; i < iovcnt; i++) {
		memcpy(pb->pb_tx + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	pb->pb_txoff = 0;
	pb->pb_txlen = off;
	r = passt_flush(pb);
	if (r != 0 && pb->pb_txoff == 0) {
		pb->pb_txlen = 0;	/* nothing went: the frame is dropped */
		return (r);
	}
	return ((ssize_t)len);	/* sent, or its rest waits */
}

static ssize_t
passt_send(struct net_backend *be, int q, const struct iovec *iov,
    int iovcnt)
{
	struct passt_be *pb = be->be_priv;
	struct iovec v[1 + 64];
	struct msghdr mh;
	uint8_t hdr[PASST_HDR];
	size_t len = 0, done, skip, c;
	ssize_t n, r;
	int i;

	if (pb->pb_dead)
		return (-EPIPE);
	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;	/* netbe_send() bounded the sum */
	if ((r = passt_flush(pb)) != 0)
		return (r);
	if (iovcnt > (int)nitems(v) - 1)
		return (passt_send_linear(pb, iov, iovcnt, len));
	for (i = 0; i < iovcnt; i++)
		v[1 + i] = iov[i];
	passt_put32(hdr, len);
	v[0].iov_base = hdr;
	v[0].iov_len = sizeof(hdr);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = v;
	mh.msg_iovlen = (size_t)iovcnt + 1;
	n = sendmsg(pb->pb_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return (netbe_sockerr(errno));
	done = (size_t)n;
	if (done == PASST_HDR + len)
		return ((ssize_t)len);
	/* Keep what the socket did not take; it goes out first next time. */
	pb->pb_txlen = 0;
	for (i = 0; i <= iovcnt; i++) {
		skip = done < v[i].iov_len ? done : v[i].iov_len;
		done -= skip;
		c = v[i].iov_len - skip;
		memcpy(pb->pb_tx + pb->pb_txlen, (uint8_t *)v[i].iov_base +
		    skip, c);
		pb->pb_txlen += c;
	}
	pb->pb_txoff = 0;
	(void)passt_flush(pb);
	return ((ssize_t)len);
}

/*
 * Read what the frame at hand still lacks.  Returns its length once it
 * is all here, 0 while it is not, -EPIPE when passt is gone or the
 * stream is out of step.
 */
static ssize_t
passt_fill(struct net_backend *be)
{
	struct passt_be *pb = be->be_priv;
	uint8_t *h = pb->pb_rx;
	size_t want;
	uint32_t flen;
	ssize_t n;

	if (pb->pb_dead)
		return (-EPIPE);
	(void)passt_flush(pb);		/* a reader also moves the writer on */
	for (;;) {
		if (pb->pb_rxhave < PASST_HDR)
			want = PASST_HDR - pb->pb_rxhave;
		else if ((want = PASST_HDR + pb->pb_rxlen - pb->pb_rxhave) == 0)
			return ((ssize_t)pb->pb_rxlen);
		n = recv(pb->pb_fd, pb->pb_rx + pb->pb_rxhave, want,
		    MSG_DONTWAIT);
		if (n == 0) {
			pb->pb_dead = true;	/* passt closed or died */
			return (-EPIPE);
		}
		if (n < 0) {
			n = netbe_sockerr(errno);
			if (n == -EAGAIN)
				return (0);
			if (n == -EPIPE)
				pb->pb_dead = true;
			return (n);
		}
		pb->pb_rxhave += (size_t)n;
		if (pb->pb_rxhave != PASST_HDR)
			continue;
		flen = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
		    (uint32_t)h[2] << 8 | h[3];
		if (flen == 0 || flen > NETBE_FRAME_MAX) {
			log_warnx("%s: passt sent a frame length of %u: the "
			    "stream is out of step", be->be_devname, flen);
			pb->pb_dead = true;
			return (-EPIPE);
		}
		pb->pb_rxlen = flen;
	}
}

static ssize_t
passt_peek_recvlen(struct net_backend *be, int q)
{
	return (passt_fill(be));
}

static ssize_t
passt_recv(struct net_backend *be, int q, const struct iovec *iov,
    int iovcnt)
{
	struct passt_be *pb = be->be_priv;
	size_t off = 0, c;
	ssize_t r;
	int i;

	if ((r = passt_fill(be)) <= 0)
		return (r);
	for (i = 0; i < iovcnt && off < (size_t)r; i++) {
		c = (size_t)r - off < iov[i].iov_len ? (size_t)r - off :
		    iov[i].iov_len;
		memcpy(iov[i].iov_base, pb->pb_rx + PASST_HDR + off, c);
		off += c;
	}
	pb->pb_rxhave = pb->pb_rxlen = 0;
	return (off < (size_t)r ? -EMSGSIZE : r);
}

const struct net_beops net_passt_beops = {
	.nb_name = "passt",
	.nb_priv = sizeof(struct passt_be),
	.nb_init = passt_init,
	.nb_cleanup = passt_cleanup,
	.nb_fd = passt_fd,
	.nb_send = passt_send,
	.nb_peek_recvlen = passt_peek_recvlen,
	.nb_recv = passt_recv,
};
NET_BACKEND_SET(net_passt_beops);
