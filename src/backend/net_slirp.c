/*
 * net_slirp.c: the slirp network backend, user-mode networking without
 * privileges, with libslirp running in a separate helper process
 * (khyve-slirp, helper/khyve-slirp.c) as FreeBSD 15's bhyve runs it
 * (usr.sbin/bhyve/net_backend_slirp.c and slirp/slirp-helper.c): the
 * guest's packets are parsed by libslirp in a process that has dropped
 * its privileges and holds nothing of the monitor's, so a bug in a
 * packet parser cannot reach guest memory or KVM.  khyve itself never
 * links libslirp.
 *
 * Keys of the device's node:
 *	backend=slirp
 *	hostfwd=RULE[;RULE...]	net_hostfwd.h; checked here before the
 *				helper starts
 *	open=BOOL		false (default): libslirp's restricted mode
 *	mtu=N			the device's MTU, 68..65521, default 1500
 *	helper=PATH		the helper program (also slirp.helper=PATH;
 *				default: khyve-slirp next to khyve)
 *
 * Frames go bare (no virtio-net header: libslirp computes every checksum
 * itself), one per SOCK_SEQPACKET message (net_slirp_proto.h).
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
#include <unistd.h>
#include "backend/net_backend.h"
#include "backend/net_hostfwd.h"
#include "backend/net_slirp_proto.h"
#include "backend/net_spawn.h"
#include "config.h"
#include "log.h"

#define SLIRP_MTU_DEFAULT	1500
#define SLIRP_NET		0x0a000200u	/* 10.0.2.0/24 */
#define SLIRP_NETMASK		0xffffff00u
#define SLIRP_HOST		0x0a000202u	/* 10.0.2.2, the router */
#define SLIRP_DNS		0x0a000203u	/* 10.0.2.3 */
/* How long the helper may take to set up (bind the forwards). */
#define SLIRP_HANDSHAKE_MS	10000
/* Socket buffers: room for a burst of frames either way (bhyve: 1 MiB). */
#define SLIRP_SOCKBUF		(1024 * 1024)
/* Ethernet header plus one VLAN tag in front of an MTU-sized packet. */
#define SLIRP_ETH_OVERHEAD	18
#define SLIRP_ETH_MIN		14

_Static_assert(SLIRP_PROTO_FD == NET_SPAWN_FD0, "the helper's socket is fd 3");

struct slirp_be {
	int		sb_fd;		/* our end of the socketpair */
	pid_t		sb_pid;		/* the helper, -1 once reaped */
	size_t		sb_framemax;	/* largest frame either way */
};

/*
 * The helper program: helper=, then slirp.helper=, then khyve-slirp in
 * the directory of the running khyve.
 */
static int
slirp_helper_path(struct config_node *nvl, char *buf, size_t len)
{
	const char *p;
	char *slash;
	ssize_t n;

	if ((p = config_get(nvl, "helper")) != NULL ||
	    (p = config_get(NULL, "slirp.helper")) != NULL) {
		if (strlen(p) >= len)
			return (-ENAMETOOLONG);
		strcpy(buf, p);
		return (0);
	}
	n = readlink("/proc/self/exe", buf, len - 1);
	if (n < 0)
		return (-errno);
	buf[n] = '\0';
	if ((slash = strrchr(buf, '/')) == NULL)
		return (-ENOENT);
	if ((size_t)(slash - buf) + sizeof("/khyve-slirp") > len)
		return (-ENAMETOOLONG);
	strcpy(slash, "/khyve-slirp");
	return (0);
}

/*
 * Start the helper; on success sb has its pid and our socket.  It gets
 * its end of the socket pair as fd 3 (SLIRP_PROTO_FD), an empty
 * environment and khyve's stdin, stdout and stderr (it sets up the rest
 * itself: /dev/null, nobody, the parent-death signal).
 */
static int
slirp_spawn(struct slirp_be *sb, const char *devname, const char *path)
{
	char *argv[] = { (char *)"khyve-slirp", (char *)devname, NULL };
	struct net_spawn sp = { .ns_path = path, .ns_argv = argv,
	    .ns_nfds = 1 };
	int sv[2], error, sz = SLIRP_SOCKBUF;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		error = -errno;
		log_warn("%s: slirp: socketpair", devname);
		return (error);
	}
	/* Best effort: the kernel caps these at net.core.[rw]mem_max. */
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	sp.ns_fds = &sv[1];
	error = net_spawn(&sp, &sb->sb_pid);
	(void)close(sv[1]);
	if (error != 0) {
		log_warnx("%s: slirp helper %s: %s", devname, path,
		    strerror(-error));
		(void)close(sv[0]);
		return (error);
	}
	sb->sb_fd = sv[0];
	return (0);
}

/* Send the configuration and wait for the helper's answer. */
static int
slirp_handshake(struct slirp_be *sb, const char *devname, const char *path,
    const struct slirp_proto_config *cfg, const struct net_hostfwd *fwd)
{
	unsigned char buf[SLIRP_PROTO_MSG_MAX];
	char text[SLIRP_PROTO_TEXT_MAX], rule[NET_HOSTFWD_STRLEN];
	struct pollfd pfd = { .fd = sb->sb_fd, .events = POLLIN };
	size_t len;
	ssize_t n;
	int err, idx, r;

	len = slirp_proto_config_encode(cfg, buf, sizeof(buf));
	if (len == 0)
		return (-EINVAL);	/* checked before: cannot happen */
	if (send(sb->sb_fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
		log_warnx("%s: slirp helper %s exited at start-up", devname,
		    path);
		return (-EIO);
	}
	do
		r = poll(&pfd, 1, SLIRP_HANDSHAKE_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		log_warnx("%s: slirp helper %s did not answer in %d s", devname,
		    path, SLIRP_HANDSHAKE_MS / 1000);
		return (-ETIMEDOUT);
	}
	n = recv(sb->sb_fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n <= 0) {
		log_warnx("%s: slirp helper %s exited before it was set up "
		    "(see its message above)", devname, path);
		return (-EIO);
	}
	if ((size_t)n > sizeof(buf) || slirp_proto_reply_decode(buf,
	    (size_t)n, &err, &idx, text, sizeof(text)) != 0) {
		log_warnx("%s: slirp helper %s: malformed answer", devname,
		    path);
		return (-EPROTO);
	}
	if (err == 0)
		return (0);
	if (idx >= 0 && (uint32_t)idx < cfg->pc_nfwd)
		log_warnx("%s: hostfwd=%s: %s", devname,
		    net_hostfwd_format(&fwd[idx], rule, sizeof(rule)), text);
	else
		log_warnx("%s: slirp helper: %s", devname, text);
	/* -EINVAL stays the answer for a bad key value (exit status 64). */
	return (err == EINVAL ? -EPROTO : -err);
}

/* The guest side of a forward must be a guest of 10.0.2.0/24. */
static bool
slirp_guest_addr_ok(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return ((h & SLIRP_NETMASK) == SLIRP_NET && h != SLIRP_NET &&
	    h != (SLIRP_NET | ~SLIRP_NETMASK) && h != SLIRP_HOST &&
	    h != SLIRP_DNS);
}

static int
slirp_init(struct net_backend *be, const char *devname, const char *name,
    struct config_node *nvl, int nqueues)
{
	struct slirp_be *sb = be->be_priv;
	struct net_hostfwd fwd[NET_HOSTFWD_MAX];
	struct slirp_proto_config cfg;
	char path[PATH_MAX], rule[NET_HOSTFWD_STRLEN];
	const char *spec;
	uint64_t mtu;
	size_t i, nfwd = 0;
	bool is_open;
	int error;

	sb->sb_fd = -1;
	sb->sb_pid = -1;
	/* Every key is checked before anything is started. */
	if ((spec = config_get(nvl, "hostfwd")) != NULL &&
	    (error = net_hostfwd_parse(spec, fwd, nitems(fwd), &nfwd,
	    devname)) != 0)
		return (error);
	for (i = 0; i < nfwd; i++) {
		if (!slirp_guest_addr_ok(fwd[i].hf_gaddr)) {
			log_warnx("%s: hostfwd=%s: the guest address is not a "
			    "guest's on the slirp network 10.0.2.0/24", devname,
			    net_hostfwd_format(&fwd[i], rule, sizeof(rule)));
			return (-EINVAL);
		}
	}
	if (config_get_bool(nvl, "open", false, &is_open) != 0) {
		log_warnx("%s: open=%s: not a boolean", devname,
		    config_get(nvl, "open"));
		return (-EINVAL);
	}
	if (config_get_uint64(nvl, "mtu", SLIRP_MTU_DEFAULT, &mtu) != 0 ||
	    mtu < SLIRP_PROTO_MTU_MIN || mtu > SLIRP_PROTO_MTU_MAX) {
		log_warnx("%s: mtu=%s: not a number from %d to %d", devname,
		    config_get(nvl, "mtu"), SLIRP_PROTO_MTU_MIN,
		    SLIRP_PROTO_MTU_MAX);
		return (-EINVAL);
	}
	for (i = 0; i < nfwd && !is_open; i++) {
		/* libslirp's restricted udp_input() drops every guest datagram
		 * but DHCP and TFTP before it looks up the forward's socket. */
		if (fwd[i].hf_udp)
			log_warnx("%s: hostfwd=%s: with open=false the guest's "
			    "replies are dropped (libslirp restricted mode)",
			    devname, net_hostfwd_format(&fwd[i], rule,
			    sizeof(rule)));
	}
	if ((error = slirp_helper_path(nvl, path, sizeof(path))) != 0) {
		log_warnx("%s: slirp helper: cannot name it: %s", devname,
		    strerror(-error));
		return (error);
	}
	if (access(path, X_OK) != 0) {
		error = -errno;
		log_warnx("%s: slirp helper %s: %s (build it with make, or set "
		    "slirp.helper=PATH)", devname, path, strerror(errno));
		return (error);
	}

	memset(&cfg, 0, sizeof(cfg));
	cfg.pc_open = is_open;
	cfg.pc_sandbox = config_bool(NULL, "sandbox", true);
	cfg.pc_mtu = (uint32_t)mtu;
	cfg.pc_nfwd = (uint32_t)nfwd;
	for (i = 0; i < nfwd; i++) {
		cfg.pc_fwd[i].pf_udp = fwd[i].hf_udp;
		cfg.pc_fwd[i].pf_haddr = fwd[i].hf_haddr.s_addr;
		cfg.pc_fwd[i].pf_gaddr = fwd[i].hf_gaddr.s_addr;
		cfg.pc_fwd[i].pf_hport = fwd[i].hf_hport;
		cfg.pc_fwd[i].pf_gport = fwd[i].hf_gport;
	}
	sb->sb_framemax = (size_t)mtu + SLIRP_ETH_OVERHEAD;
	if ((error = slirp_spawn(sb, devname, path)) != 0)
		return (error);
	if ((error = slirp_handshake(sb, devname, path, &cfg, fwd)) != 0)
		goto fail_helper;
	if (fcntl(sb->sb_fd, F_SETFL, O_NONBLOCK) < 0) {
		error = -errno;
		log_warn("%s: slirp: fcntl", devname);
		goto fail_helper;
	}
	log_info("%s: slirp: helper %d, %zu forward%s, %s", devname,
	    (int)sb->sb_pid, nfwd, nfwd == 1 ? "" : "s",
	    is_open ? "open" : "restricted");
	return (0);

fail_helper:
	net_spawn_reap(&sb->sb_pid);
	(void)close(sb->sb_fd);
	sb->sb_fd = -1;
	return (error);
}

static void
slirp_cleanup(struct net_backend *be)
{
	struct slirp_be *sb = be->be_priv;

	net_spawn_reap(&sb->sb_pid);
	if (sb->sb_fd >= 0)
		(void)close(sb->sb_fd);
	sb->sb_fd = -1;
}

static int
slirp_fd(struct net_backend *be, int q)
{
	return (((struct slirp_be *)be->be_priv)->sb_fd);
}

static ssize_t
slirp_send(struct net_backend *be, int q, const struct iovec *iov,
    int iovcnt)
{
	struct slirp_be *sb = be->be_priv;
	struct msghdr mh;
	size_t len = 0;
	ssize_t n;
	int i;

	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;	/* netbe_send() bounded the sum */
	if (len < SLIRP_ETH_MIN || len > sb->sb_framemax)
		return (-EMSGSIZE);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = (struct iovec *)(uintptr_t)iov;
	mh.msg_iovlen = (size_t)iovcnt;
	n = sendmsg(sb->sb_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return (netbe_sockerr(errno));
	return (n);
}

static ssize_t
slirp_peek_recvlen(struct net_backend *be, int q)
{
	struct slirp_be *sb = be->be_priv;
	ssize_t n;

	n = recv(sb->sb_fd, NULL, 0, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
	if (n == 0)
		return (-EPIPE);	/* the helper sends no empty frame */
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR ? 0 :
		    netbe_sockerr(errno));
	return (n);
}

static ssize_t
slirp_recv(struct net_backend *be, int q, const struct iovec *iov,
    int iovcnt)
{
	struct slirp_be *sb = be->be_priv;
	struct msghdr mh;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = (struct iovec *)(uintptr_t)iov;
	mh.msg_iovlen = (size_t)iovcnt;
	n = recvmsg(sb->sb_fd, &mh, MSG_DONTWAIT);
	if (n == 0)
		return (-EPIPE);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR ? 0 :
		    netbe_sockerr(errno));
	if ((mh.msg_flags & MSG_TRUNC) != 0)
		return (-EMSGSIZE);
	return (n);
}

const struct net_beops net_slirp_beops = {
	.nb_name = "slirp",
	.nb_priv = sizeof(struct slirp_be),
	.nb_init = slirp_init,
	.nb_cleanup = slirp_cleanup,
	.nb_fd = slirp_fd,
	.nb_send = slirp_send,
	.nb_peek_recvlen = slirp_peek_recvlen,
	.nb_recv = slirp_recv,
};
NET_BACKEND_SET(net_slirp_beops);
