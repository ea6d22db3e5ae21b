/*
 * khyve-slirp: the user-mode network stack of khyve's slirp backend, in
 * a process of its own (the design of FreeBSD bhyve's slirp helper,
 * usr.sbin/bhyve/slirp/slirp-helper.c).  libslirp parses every packet
 * the guest sends; here a bug in it reaches a process that holds no
 * guest memory, no KVM descriptor, no disk, and (started as root) no
 * privileges.
 *
 * khyve starts it (src/backend/net_slirp.c) with one SOCK_SEQPACKET
 * socket as fd 3 and nothing else but stdio; argv[1] names the device,
 * for messages.  The conversation is in src/backend/net_slirp_proto.h:
 * one configuration message, one answer, then one Ethernet frame per
 * message each way.  The program is not meant to be run by hand.
 *
 * Order of start-up, each step before the next:
 *	1. stdin and stdout become /dev/null; stderr stays for messages
 *	2. the configuration is read and checked
 *	3. libslirp is set up and the host forwards bound (slirp_add_hostfwd
 *	   binds and listens at once, so ports below 1024 work for root)
 *	4. root becomes nobody (setgroups, setresgid, setresuid, checked)
 *	5. PR_SET_NO_NEW_PRIVS; the parent-death signal is set again (a
 *	   change of credentials clears it)
 *	6. the answer; then the poll loop, which never blocks on khyve's
 *	   socket: a frame khyve has no room for is dropped
 * The process ends when khyve closes the socket or dies (SIGKILL from
 * PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <slirp/libslirp.h>
#include "backend/net_slirp_proto.h"
#include "sandbox.h"

#define SLIRP_NET	0x0a000200u	/* 10.0.2.0/24 */
#define SLIRP_NETMASK	0xffffff00u
#define SLIRP_HOST	0x0a000202u	/* 10.0.2.2: router, host */
#define SLIRP_DHCP	0x0a00020fu	/* 10.0.2.15: first DHCP address */
#define SLIRP_DNS	0x0a000203u	/* 10.0.2.3: DNS (open=true only) */
#define FRAME_BUF	(65536 + 64)	/* > NETBE_FRAME_MAX */
#define ETH_MIN		14
#define ETH_OVERHEAD	18		/* header and a VLAN tag */
#define RX_BATCH	64		/* frames from khyve per round */
#define CONFIG_WAIT_MS	10000

struct htimer {
	SlirpTimerCb	t_cb;
	void		*t_opaque;
	int64_t		t_expire;	/* ms on clock_ms(); -1: not armed */
	bool		t_due;		/* expired in this round */
	struct htimer	*t_next;
};

struct helper {
	Slirp		*h_slirp;
	int		h_sock;		/* to khyve */
	size_t		h_framemax;	/* largest frame from khyve */
	struct pollfd	*h_pfd;
	size_t		h_npfd;
	size_t		h_cap;
	struct htimer	*h_timers;
	bool		h_notified;	/* slirp asked to be polled again */
	bool		h_gone;		/* khyve closed its end */
	uint64_t	h_dropped;	/* frames khyve had no room for */
};

static char devname[64] = "?";

static void __attribute__((format(printf, 1, 2)))
hmsg(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "khyve-slirp: %s: %s\n", devname, buf);
}

static int64_t
clock_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

/* libslirp's callbacks. */

static ssize_t
cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct helper *h = opaque;

	if (send(h->h_sock, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
			h->h_dropped++;	/* TCP retransmits; UDP is lossy */
		else
			h->h_gone = true;
	}
	return ((ssize_t)len);
}

static void
cb_guest_error(const char *msg, void *opaque)
{
	static time_t sec;
	static unsigned count;
	time_t now = time(NULL);

	(void)opaque;
	if (now != sec) {
		sec = now;
		count = 0;
	}
	if (count++ < 5)	/* the guest controls how often */
		hmsg("guest error: %.200s", msg);
}

static int64_t
cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return (clock_ns());
}

static void *
cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct helper *h = opaque;
	struct htimer *t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		hmsg("out of memory for a timer");
		exit(1);
	}
	t->t_cb = cb;
	t->t_opaque = cb_opaque;
	t->t_expire = -1;
	t->t_next = h->h_timers;
	h->h_timers = t;
	return (t);
}

static void
cb_timer_free(void *timer, void *opaque)
{
	struct helper *h = opaque;
	struct htimer **pp;

	for (pp = &h->h_timers; *pp != NULL; pp = &(*pp)->t_next) {
		if (*pp == timer) {
			*pp = ((struct htimer *)timer)->t_next;
			free(timer);
			return;
		}
	}
}

static void
cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	((struct htimer *)timer)->t_expire = expire_ms < 0 ? 0 : expire_ms;
}

static void
cb_poll_fd(int fd, void *opaque)
{
	/* Nothing to do: SIGPIPE is ignored, the poll set is rebuilt. */
	(void)fd;
	(void)opaque;
}

static void
cb_notify(void *opaque)
{
	((struct helper *)opaque)->h_notified = true;
}

static const SlirpCb helper_cbs = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_poll_fd,
	.unregister_poll_fd = cb_poll_fd,
	.notify = cb_notify,
};

/* The poll set, rebuilt every round (slirp_pollfds_fill). */

static int
poll_add(struct helper *h, int fd, short events)
{
	struct pollfd *p;
	size_t cap;

	if (h->h_npfd == h->h_cap) {
		cap = h->h_cap == 0 ? 16 : h->h_cap * 2;
		if ((p = realloc(h->h_pfd, cap * sizeof(*p))) == NULL)
			return (-1);	/* libslirp skips a socket at -1 */
		h->h_pfd = p;
		h->h_cap = cap;
	}
	h->h_pfd[h->h_npfd].fd = fd;
	h->h_pfd[h->h_npfd].events = events;
	h->h_pfd[h->h_npfd].revents = 0;
	return ((int)h->h_npfd++);
}

static int
cb_add_poll(int fd, int events, void *opaque)
{
	short ev = 0;

	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	return (poll_add(opaque, fd, ev));
}

static int
cb_get_revents(int idx, void *opaque)
{
	struct helper *h = opaque;
	short rev;
	int r = 0;

	if (idx < 0 || (size_t)idx >= h->h_npfd)
		return (0);
	rev = h->h_pfd[idx].revents;
	if (rev & POLLIN)
		r |= SLIRP_POLL_IN;
	if (rev & POLLOUT)
		r |= SLIRP_POLL_OUT;
	if (rev & POLLPRI)
		r |= SLIRP_POLL_PRI;
	if (rev & POLLERR)
		r |= SLIRP_POLL_ERR;
	if (rev & POLLHUP)
		r |= SLIRP_POLL_HUP;
	return (r);
}

/* Milliseconds to the next armed timer, -1 if none. */
static int64_t
timers_next(struct helper *h, int64_t now)
{
	struct htimer *t;
	int64_t best = -1;

	for (t = h->h_timers; t != NULL; t = t->t_next)
		if (t->t_expire >= 0 && (best < 0 || t->t_expire < best))
			best = t->t_expire;
	return (best < 0 ? -1 : best <= now ? 0 : best - now);
}

/*
 * Fire what has expired, each timer at most once a round (a callback may
 * re-arm, free or create timers, so the list is walked afresh each time).
 */
static void
timers_run(struct helper *h)
{
	int64_t now = clock_ns() / 1000000;
	struct htimer *t;

	for (t = h->h_timers; t != NULL; t = t->t_next)
		t->t_due = t->t_expire >= 0 && t->t_expire <= now;
	for (;;) {
		for (t = h->h_timers; t != NULL && !t->t_due; t = t->t_next)
			;
		if (t == NULL)
			break;
		t->t_due = false;
		t->t_expire = -1;
		t->t_cb(t->t_opaque);
	}
}

/* Frames from khyve: at most RX_BATCH, never waiting. */
static void
frames_in(struct helper *h)
{
	static unsigned char buf[FRAME_BUF];
	ssize_t n;
	int i;

	for (i = 0; i < RX_BATCH; i++) {
		n = recv(h->h_sock, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n == 0) {
			h->h_gone = true;
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				h->h_gone = true;
			return;
		}
		if ((size_t)n < ETH_MIN || (size_t)n > h->h_framemax ||
		    (size_t)n > sizeof(buf))
			continue;	/* khyve checks too; a runt is noise */
		slirp_input(h->h_slirp, buf, (int)n);
	}
}

static _Noreturn void
helper_loop(struct helper *h)
{
	uint32_t timeout;
	int64_t next;
	int r, to;

	for (;;) {
		h->h_npfd = 0;
		(void)poll_add(h, h->h_sock, POLLIN);	/* index 0 */
		timeout = UINT32_MAX;
		slirp_pollfds_fill(h->h_slirp, &timeout, cb_add_poll, h);
		to = timeout == UINT32_MAX ? -1 :
		    timeout > INT32_MAX ? INT32_MAX : (int)timeout;
		next = timers_next(h, clock_ns() / 1000000);
		if (next >= 0 && (to < 0 || next < to))
			to = (int)(next > INT32_MAX ? INT32_MAX : next);
		if (h->h_notified)
			to = 0;
		h->h_notified = false;
		r = poll(h->h_pfd, h->h_npfd, to);
		if (r < 0 && errno != EINTR) {
			hmsg("poll: %s", strerror(errno));
			exit(1);
		}
		/*
		 * The guest's frames first: slirp_pollfds_poll() ends in
		 * if_start(), which sends what waited for the ARP reply that
		 * may be among them (libslirp drops such a packet a second
		 * after its ARP request, and with nothing else to do the next
		 * round may be that second away).
		 */
		if (r > 0 && h->h_pfd[0].revents != 0)
			frames_in(h);
		slirp_pollfds_poll(h->h_slirp, r < 0, cb_get_revents, h);
		timers_run(h);
		if (h->h_gone)
			exit(0);	/* khyve is gone: so are we */
	}
}

/* Send the answer to the configuration; a failure ends the process. */
static void
answer(int sock, int err, int rule, const char *text)
{
	unsigned char buf[SLIRP_PROTO_MSG_MAX];
	size_t len;

	len = slirp_proto_reply_encode(err, rule, text, buf, sizeof(buf));
	if (len == 0 || send(sock, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
		hmsg("cannot answer khyve: %s", strerror(errno));
		exit(1);
	}
	if (err != 0)
		exit(1);
}

static void
read_config(int sock, struct slirp_proto_config *cfg)
{
	unsigned char buf[SLIRP_PROTO_MSG_MAX];
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	const char *why;
	ssize_t n;
	int r;

	do
		r = poll(&pfd, 1, CONFIG_WAIT_MS);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		hmsg("no configuration from khyve");
		exit(1);
	}
	n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n <= 0)
		exit(1);	/* khyve went away */
	if ((size_t)n > sizeof(buf))
		answer(sock, EPROTO, -1, "configuration message too long");
	if (slirp_proto_config_decode(buf, (size_t)n, cfg, &why) != 0)
		answer(sock, EPROTO, -1, why);
}

int
main(int argc, char **argv)
{
	static struct helper hs;
	struct helper *h = &hs;
	struct slirp_proto_config cfg;
	SlirpConfig sc;
	struct in_addr ha, ga;
	const char *why = NULL;
	pid_t ppid = getppid();
	socklen_t sl;
	int fd, type = 0, e;
	uint32_t i;

	if (argc > 1)
		snprintf(devname, sizeof(devname), "%s", argv[1]);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != ppid)
		exit(0);
	sl = sizeof(type);
	if (getsockopt(SLIRP_PROTO_FD, SOL_SOCKET, SO_TYPE, &type, &sl) != 0 ||
	    type != SOCK_SEQPACKET) {
		fprintf(stderr, "khyve-slirp: fd %d is not a SOCK_SEQPACKET "
		    "socket: khyve starts this program, it is not run by "
		    "hand\n", SLIRP_PROTO_FD);
		return (64);
	}
	if ((fd = open("/dev/null", O_RDWR)) < 0 ||
	    dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0) {
		hmsg("/dev/null: %s", strerror(errno));
		return (1);
	}
	(void)close_range(SLIRP_PROTO_FD + 1, ~0u, 0);
	(void)signal(SIGPIPE, SIG_IGN);	/* a host peer may hang up */
	h->h_sock = SLIRP_PROTO_FD;

	read_config(h->h_sock, &cfg);
	h->h_framemax = cfg.pc_mtu + ETH_OVERHEAD;

	/* The usual QEMU/bhyve layout; no IPv6, no TFTP, no boot file. */
	memset(&sc, 0, sizeof(sc));
	sc.version = 4;
	sc.restricted = !cfg.pc_open;
	sc.in_enabled = true;
	sc.vnetwork.s_addr = htonl(SLIRP_NET);
	sc.vnetmask.s_addr = htonl(SLIRP_NETMASK);
	sc.vhost.s_addr = htonl(SLIRP_HOST);
	sc.vdhcp_start.s_addr = htonl(SLIRP_DHCP);
	sc.vnameserver.s_addr = htonl(SLIRP_DNS);
	sc.in6_enabled = false;
	sc.if_mtu = cfg.pc_mtu;
	sc.if_mru = cfg.pc_mtu;
	sc.enable_emu = false;		/* libslirp: "isn't safe" */
	sc.disable_host_loopback = false;
	if ((h->h_slirp = slirp_new(&sc, &helper_cbs, h)) == NULL)
		answer(h->h_sock, EIO, -1,
		    "libslirp refused the configuration");

	for (i = 0; i < cfg.pc_nfwd; i++) {
		ha.s_addr = cfg.pc_fwd[i].pf_haddr;
		ga.s_addr = cfg.pc_fwd[i].pf_gaddr;
		errno = 0;
		if (slirp_add_hostfwd(h->h_slirp, cfg.pc_fwd[i].pf_udp, ha,
		    cfg.pc_fwd[i].pf_hport, ga, cfg.pc_fwd[i].pf_gport) != 0) {
			e = errno != 0 ? errno : EIO;
			answer(h->h_sock, e, (int)i, e == EADDRINUSE ?
			    "address in use" : strerror(e));
		}
	}

	/* Root gives up root; anyone else keeps what it is. */
	if ((getuid() == 0 || geteuid() == 0) &&
	    (e = -sandbox_become("nobody", &why)) != 0)
		answer(h->h_sock, e, -1, why);
	/* Becoming nobody cleared the parent-death signal. */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != ppid)
		exit(0);
	/* The SANDBOX_SLIRP allowlist (src/sandbox.c), unless khyve's is off. */
	if (cfg.pc_sandbox) {
		sandbox_init("khyve-slirp", NULL, false);
		if ((e = -sandbox_install(SANDBOX_SLIRP, true, NULL, &why)) != 0)
			answer(h->h_sock, e, -1, why);
	}
	answer(h->h_sock, 0, -1, NULL);
	helper_loop(h);
}
