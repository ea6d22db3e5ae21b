/*
 * test_net_passt.c: the passt backend (src/backend/net_passt.c) driving
 * the real /usr/bin/passt through the backend API, from the host: no
 * guest.  The test plays the guest with frames built by netframe.c.
 * passt gives the guest the host's own address and gateway, so the test
 * learns both from its DHCP offer.  A fake peer on a Unix socket (the
 * socket= mode) checks the stream framing: partial frames, bad lengths,
 * a send the socket takes only in part.
 *
 * Without /usr/bin/passt every test that needs it says SKIP loudly; so
 * does one on a host where passt finds no interface with a default route
 * (it copies the host's addresses: an `unshare -n` namespace has none).
 * The last test prints frames per second through a UDP forward, passt
 * against slirp (build/khyve-slirp) with one harness.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "backend/net_backend.h"
#include "config.h"
#include "netframe.h"
#include "test.h"
#include "testproc.h"

/* Named so the backends' linker-set entries are linked in. */
extern const struct net_beops net_passt_beops, net_slirp_beops;

#define PASST	"/usr/bin/passt"
static const uint8_t gmac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t zero6[6];

#define NEED_PASST() do {						\
	if (access(PASST, X_OK) != 0)					\
		TEST_SKIP("SKIP: %s not installed (apt-get install passt)", \
		    PASST);						\
} while (0)

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return (n);
}

/* A device node for backend be with the given keys (NULL-terminated). */
static struct config_node *
node(const char *be, const char *k, ...)
{
	struct config_node *n;
	va_list ap;
	const char *v;

	if (strcmp(net_passt_beops.nb_name, "passt") != 0 ||
	    strcmp(net_slirp_beops.nb_name, "slirp") != 0)
		abort();		/* (and links the backends in) */
	config_init();
	n = config_create_node(NULL, "pci.0.2.0");
	if (n == NULL || config_set(n, "backend", be) != 0)
		abort();
	va_start(ap, k);
	for (; k != NULL; k = va_arg(ap, const char *)) {
		v = va_arg(ap, const char *);
		if (config_set(n, k, v) != 0)
			abort();
	}
	va_end(ap);
	return (n);
}

static ssize_t
send_frame(struct net_backend *be, const void *f, size_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)f, .iov_len = len };

	return (netbe_send(be, 0, &iov, 1));
}

/* The guest's address, answered in ARP on the way (slirp asks). */
static uint32_t guest_ip;

/* The next frame for the guest within ms, 0 on timeout, or -errno. */
static ssize_t
recv_frame(struct net_backend *be, uint8_t *f, size_t len, int ms)
{
	struct pollfd pfd = { .fd = netbe_fd(be, 0), .events = POLLIN };
	struct iovec iov = { .iov_base = f, .iov_len = len };
	uint8_t reply[64];
	size_t rl;
	ssize_t n;

	for (;;) {
		if ((n = netbe_recv(be, 0, &iov, 1)) == 0) {
			if (poll(&pfd, 1, ms) <= 0)
				return (0);
			continue;
		}
		if (n < 0)
			return (n);
		if ((rl = nf_arp_answer(f, (size_t)n, gmac, guest_ip,
		    reply)) != 0) {
			(void)send_frame(be, reply, rl);
			continue;
		}
		return (n);
	}
}

/*
 * Start passt with keys k...; -1: passt cannot run on this host (no
 * interface with a default route), after a SKIP reason.
 */
static int
start(struct net_backend **be, struct config_node *n)
{
	const char *msg;
	int error;

	cap_start();
	error = netbe_init(be, "vnet0", n, 1);
	msg = cap_end();
	if (error != 0 && strstr(msg, "routable interface") != NULL) {
		printf("  skip reason: SKIP: passt found no interface with a "
		    "default route to copy (a namespace without one, as "
		    "unshare -n makes)\n");
		test_skipped = 1;
		return (-1);
	}
	if (error != 0) {
		printf("  netbe_init: %d: %s", error, msg);
		test_failed++;
	}
	return (error);
}

/* DISCOVER, then the OFFER into f: its length, 0 if none came. */
static ssize_t
dhcp_offer(struct net_backend *be, uint8_t *f, size_t len)
{
	uint8_t d[600];
	ssize_t n;
	int tries;

	if (send_frame(be, d, nf_dhcp_discover(d, gmac)) <= 0)
		return (0);
	for (tries = 0; tries < 10; tries++) {
		n = recv_frame(be, f, len, 2000);
		if (n <= 0)
			return (n);
		if (n >= 14 + 20 + 8 + 240 && nf_get16(f + 12) == 0x0800 &&
		    f[14 + 9] == 17 && nf_get16(f + 34) == 67 &&
		    nf_get16(f + 36) == 68)
			return (n);
	}
	return (0);
}

/* The guest's address and router from passt's OFFER (0 if none). */
static bool
learn(struct net_backend *be, uint32_t *gw)
{
	uint8_t f[2048], ol;
	const uint8_t *o;
	ssize_t n;

	guest_ip = 0;
	*gw = 0;
	if ((n = dhcp_offer(be, f, sizeof(f))) <= 0)
		return (false);
	memcpy(&guest_ip, f + 42 + 16, 4);		/* yiaddr */
	if ((o = nf_dhcp_opt(f, (size_t)n, 3, &ol)) != NULL && ol >= 4)
		memcpy(gw, o, 4);
	return (guest_ip != 0 && *gw != 0);
}

/* The OFFER: the host's own address, a router, the MTU khyve asked. */
TEST(dhcp_offer)
{
	struct net_backend *be;
	uint8_t f[2048], ol;
	const uint8_t *o;
	ssize_t n;

	NEED_PASST();
	if (start(&be, node("passt", "mtu", "1400", NULL)) != 0)
		return;
	n = dhcp_offer(be, f, sizeof(f));
	CHECK(n > 0);
	if (n > 0) {
		CHECK_EQ(f[42], 2);				/* BOOTREPLY */
		o = nf_dhcp_opt(f, (size_t)n, 53, &ol);
		CHECK(o != NULL && ol == 1 && o[0] == 2);	/* OFFER */
		CHECK(nf_get32(f + 42 + 16) != 0);		/* yiaddr */
		CHECK(nf_dhcp_opt(f, (size_t)n, 3, &ol) != NULL);
		o = nf_dhcp_opt(f, (size_t)n, 26, &ol);		/* MTU */
		CHECK(o != NULL && ol == 2 && nf_get16(o) == 1400);
	}
	netbe_cleanup(be);
	CHECK(no_children());
	config_fini();
}

/* ARP who-has the gateway: passt answers for the guest's MAC. */
TEST(arp_gateway)
{
	struct net_backend *be;
	uint8_t f[2048], q[64];
	uint32_t gw, a;
	ssize_t n;
	int i;

	NEED_PASST();
	if (start(&be, node("passt", NULL)) != 0)
		return;
	CHECK(learn(be, &gw));
	CHECK_EQ(send_frame(be, q, nf_arp(q, 1, gmac, guest_ip, zero6, gw)),
	    42);
	for (i = 0; i < 10; i++) {
		n = recv_frame(be, f, sizeof(f), 2000);
		if (n <= 0 || (n >= 42 && nf_get16(f + 12) == 0x0806))
			break;
	}
	CHECK(n >= 42);
	if (n >= 42) {
		CHECK_EQ(nf_get16(f + 20), 2);			/* reply */
		memcpy(&a, f + 28, 4);
		CHECK_EQ(a, gw);
		CHECK(memcmp(f, gmac, 6) == 0);
	}
	netbe_cleanup(be);
	config_fini();
}

static int
free_port(int type)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int s = socket(AF_INET, type, 0), port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(s, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	if (s >= 0)
		close(s);
	return (port);
}

/*
 * A host forward both ways for a UDP socket s on the host: the first
 * datagram to guest port 5000, and where it came from.
 */
struct udpflow {
	uint8_t		mac[6];		/* passt's (or slirp's) MAC */
	uint32_t	src;		/* the sender as the guest sees it */
	uint16_t	sport;
};

static bool
udp_seen(const uint8_t *f, ssize_t n, struct udpflow *fl)
{
	uint32_t dst;

	if (n < 14 + 20 + 8 || nf_get16(f + 12) != 0x0800 || f[23] != 17)
		return (false);
	memcpy(&dst, f + 30, 4);
	if (dst != guest_ip || nf_get16(f + 36) != 5000)
		return (false);
	if (fl != NULL) {
		memcpy(fl->mac, f + 6, 6);
		memcpy(&fl->src, f + 26, 4);
		fl->sport = nf_get16(f + 34);
	}
	return (true);
}

/* hostfwd=udp:127.0.0.1:P-:5000: "ping" in, "pong" back out. */
TEST(udp_hostfwd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct net_backend *be;
	struct udpflow fl;
	struct pollfd pfd;
	char rule[64], got[16];
	uint8_t f[4096], r[128];
	uint32_t gw;
	ssize_t n = 0;
	int port, s, i, seen = 0;

	NEED_PASST();
	port = free_port(SOCK_DGRAM);
	snprintf(rule, sizeof(rule), "udp:127.0.0.1:%d-:5000", port);
	if (start(&be, node("passt", "hostfwd", rule, NULL)) != 0)
		return;
	CHECK(learn(be, &gw));
	s = socket(AF_INET, SOCK_DGRAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	CHECK_EQ(sendto(s, "ping", 4, 0, (struct sockaddr *)&sa, sizeof(sa)),
	    4);
	for (i = 0; i < 20 && !seen; i++) {
		n = recv_frame(be, f, sizeof(f), 1000);
		seen = udp_seen(f, n, &fl) && memcmp(f + 42, "ping", 4) == 0;
	}
	CHECK(seen);
	if (seen) {
		CHECK(send_frame(be, r, nf_udp(r, fl.mac, gmac, guest_ip, 5000,
		    fl.src, fl.sport, "pong", 4)) > 0);
		pfd.fd = s;
		pfd.events = POLLIN;
		CHECK_EQ(poll(&pfd, 1, 3000), 1);
		n = recv(s, got, sizeof(got), MSG_DONTWAIT);
		CHECK(n == 4 && memcmp(got, "pong", 4) == 0);
	}
	close(s);
	netbe_cleanup(be);
	config_fini();
}

/* hostfwd=tcp:127.0.0.1:P-:2222: a connect to P is a SYN to :2222. */
TEST(tcp_hostfwd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct net_backend *be;
	char rule[64];
	uint8_t f[4096];
	uint32_t gw, dst;
	ssize_t n;
	int port, s, i, syn = 0;

	NEED_PASST();
	port = free_port(SOCK_STREAM);
	snprintf(rule, sizeof(rule), "tcp:127.0.0.1:%d-:2222", port);
	if (start(&be, node("passt", "hostfwd", rule, NULL)) != 0)
		return;
	CHECK(learn(be, &gw));
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	CHECK(connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 ||
	    errno == EINPROGRESS);
	for (i = 0; i < 20 && !syn; i++) {
		n = recv_frame(be, f, sizeof(f), 1000);
		if (n < 54 || nf_get16(f + 12) != 0x0800 || f[23] != 6)
			continue;
		memcpy(&dst, f + 30, 4);
		syn = dst == guest_ip && nf_get16(f + 36) == 2222 &&
		    (f[47] & NF_TH_SYN) != 0;
	}
	CHECK(syn);
	close(s);
	netbe_cleanup(be);
	config_fini();
}

/* Started by root, passt binds a port below 1024 before it is nobody. */
TEST(privileged_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct net_backend *be;
	char rule[64];
	int port, s;

	NEED_PASST();
	if (geteuid() != 0)
		TEST_SKIP("SKIP: not root: no port below 1024 to forward");
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (port = 1023; port > 900; port--) {
		s = socket(AF_INET, SOCK_STREAM, 0);
		sa.sin_port = htons((uint16_t)port);
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(s);
			break;
		}
		close(s);
	}
	snprintf(rule, sizeof(rule), "tcp:127.0.0.1:%d-:22", port);
	if (start(&be, node("passt", "hostfwd", rule, NULL)) != 0)
		return;
	s = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	netbe_cleanup(be);
	config_fini();
}

/* passt killed: -EPIPE, said once; cleanup reaps; nothing left open. */
TEST(passt_killed)
{
	struct net_backend *be;
	struct pollfd pfd;
	uint8_t f[2048];
	struct iovec iov = { .iov_base = f, .iov_len = sizeof(f) };
	char path[64], env[64];
	const char *msg, *p;
	pid_t pid;
	int fds = count_fds(), gone = 0, fd;
	ssize_t n;

	NEED_PASST();
	if (start(&be, node("passt", NULL)) != 0)
		return;
	pid = child_pid();
	CHECK(pid > 0);
	/* passt runs with an empty environment. */
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if ((fd = open(path, O_RDONLY)) >= 0) {
		CHECK_EQ(read(fd, env, sizeof(env)), 0);
		close(fd);
	}
	CHECK_EQ(netbe_peek_recvlen(be, 0), 0);
	CHECK_EQ(kill(pid, SIGKILL), 0);
	pfd.fd = netbe_fd(be, 0);
	pfd.events = POLLIN;
	CHECK_EQ(poll(&pfd, 1, 5000), 1);
	cap_start();
	/* passt may have sent something (a router advertisement) first. */
	while ((n = netbe_recv(be, 0, &iov, 1)) > 0)
		;
	CHECK_EQ(n, -EPIPE);
	CHECK_EQ(netbe_recv(be, 0, &iov, 1), -EPIPE);
	CHECK_EQ(netbe_peek_recvlen(be, 0), -EPIPE);
	CHECK(send_frame(be, f, 60) < 0);
	msg = cap_end();
	for (p = msg; (p = strstr(p, "is gone")) != NULL; p++)
		gone++;
	CHECK_EQ(gone, 1);
	netbe_cleanup(be);
	CHECK(no_children());
	CHECK_EQ(count_fds(), fds);
	config_fini();
}

/* A process gone or a zombie (its parent's to collect). */
static bool
proc_gone(pid_t pid)
{
	char path[64], buf[512], *p;
	bool gone = true;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (true);
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		gone = p[2] == 'Z' || p[2] == 'X';
	fclose(f);
	return (gone);
}

/*
 * passt holds no descriptor of ours but its socket, runs as nobody when
 * we are root, and dies with khyve (parent-death signal; its socket's
 * end of file too) even when khyve is killed and cleans nothing up.
 */
TEST(passt_confined)
{
	struct net_backend *be;
	char path[300], link[300], val[300];
	struct dirent *e;
	FILE *f;
	DIR *d;
	pid_t pid, kid;
	int marker, pp[2], i, bad = 0;

	NEED_PASST();
	/* Not CLOEXEC: the child must close it itself. */
	marker = open("/dev/zero", O_RDONLY);
	if (start(&be, node("passt", NULL)) != 0)
		return;
	pid = child_pid();
	CHECK(pid > 0);
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)pid,
			    e->d_name);
			ssize_t n = readlink(path, link, sizeof(link) - 1);
			if (n < 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, "/dev/zero") == 0)
				bad++;
		}
		closedir(d);
	}
	CHECK_EQ(bad, 0);
	if (geteuid() == 0) {
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		val[0] = '\0';
		if ((f = fopen(path, "r")) != NULL) {
			while (fgets(link, sizeof(link), f) != NULL)
				if (strncmp(link, "Uid:", 4) == 0)
					snprintf(val, sizeof(val), "%s", link);
			fclose(f);
		}
		CHECK(strstr(val, "65534") != NULL);
	}
	netbe_cleanup(be);
	config_fini();
	close(marker);

	/* khyve killed: passt goes too. */
	CHECK_EQ(pipe(pp), 0);
	if ((kid = fork()) == 0) {
		close(pp[0]);
		cap_start();
		if (netbe_init(&be, "vnet0", node("passt", NULL), 1) != 0)
			_exit(1);
		pid = child_pid();
		(void)!write(pp[1], &pid, sizeof(pid));
		pause();
		_exit(0);
	}
	close(pp[1]);
	pid = -1;
	CHECK_EQ(read(pp[0], &pid, sizeof(pid)), (ssize_t)sizeof(pid));
	close(pp[0]);
	CHECK(pid > 0);
	CHECK_EQ(kill(kid, SIGKILL), 0);
	CHECK_EQ(waitpid(kid, NULL, 0), kid);
	for (i = 0; i < 50 && pid > 0 && !proc_gone(pid); i++)
		usleep(100 * 1000);
	CHECK(pid > 0 && proc_gone(pid));
	CHECK(no_children());
}

/* A Unix socket path under /tmp for a listener, and the listener. */
static char sockpath[108];

static int
listen_unix(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int s;

	snprintf(sockpath, sizeof(sockpath), "/tmp/khyve-passt-test.%d.sock",
	    (int)getpid());
	(void)unlink(sockpath);
	strcpy(sun.sun_path, sockpath);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(s, 4) != 0)
		abort();
	return (s);
}

/* socket= against a passt the test starts itself (passt -s PATH). */
TEST(socket_mode)
{
	struct net_backend *be;
	uint8_t f[2048], q[64];
	uint32_t gw;
	ssize_t n;
	pid_t pid;
	int i;

	NEED_PASST();
	snprintf(sockpath, sizeof(sockpath), "/tmp/khyve-passt-test.%d.sock",
	    (int)getpid());
	(void)unlink(sockpath);
	if ((pid = fork()) == 0) {
		/* Its start-up banner is not for the test's output. */
		dup2(open("/dev/null", O_WRONLY), 2);
		char *av[] = { (char *)"passt", (char *)"-f", (char *)"-q",
		    (char *)"-e", (char *)"-1", (char *)"-s", sockpath,
		    (char *)"--runas", (char *)"65534:65534", NULL };

		if (geteuid() != 0)
			av[7] = NULL;	/* a user's passt stays that user */
		execv(PASST, av);
		_exit(127);
	}
	CHECK(pid > 0);
	for (i = 0; i < 100 && access(sockpath, F_OK) != 0; i++)
		usleep(50 * 1000);
	if (waitpid(pid, NULL, WNOHANG) == pid) {
		printf("  skip reason: SKIP: passt -s %s exited (no interface "
		    "with a default route?)\n", sockpath);
		test_skipped = 1;
		return;
	}
	CHECK_EQ(start(&be, node("passt", "socket", sockpath, NULL)), 0);
	if (be != NULL) {
		CHECK(learn(be, &gw));
		CHECK_EQ(send_frame(be, q, nf_arp(q, 1, gmac, guest_ip, zero6,
		    gw)), 42);
		for (i = 0; i < 10; i++) {
			n = recv_frame(be, f, sizeof(f), 2000);
			if (n <= 0 || (n >= 42 && nf_get16(f + 12) == 0x0806))
				break;
		}
		CHECK(n >= 42 && nf_get16(f + 20) == 2);
		netbe_cleanup(be);
	}
	/* -1: passt ends with its one client. */
	for (i = 0; i < 50 && waitpid(pid, NULL, WNOHANG) == 0; i++)
		usleep(100 * 1000);
	if (i == 50) {
		CHECK(!"passt -1 outlived its client");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	(void)unlink(sockpath);
	config_fini();
}

/* A frame byte by byte from a fake peer: nothing until the last byte. */
TEST(partial_frames)
{
	struct net_backend *be;
	uint8_t w[4 + 300], f[512];
	struct iovec iov = { .iov_base = f, .iov_len = sizeof(f) };
	size_t i;
	int l, p;

	l = listen_unix();
	CHECK_EQ(start(&be, node("passt", "socket", sockpath, NULL)), 0);
	p = accept(l, NULL, NULL);
	CHECK(be != NULL && p >= 0);
	if (be == NULL)
		return;
	nf_put32(w, 300);
	for (i = 0; i < 300; i++)
		w[4 + i] = (uint8_t)(i * 7);
	for (i = 0; i < sizeof(w); i++) {
		CHECK_EQ(netbe_peek_recvlen(be, 0), 0);
		CHECK_EQ(write(p, w + i, 1), 1);
	}
	CHECK_EQ(netbe_peek_recvlen(be, 0), 300);
	CHECK_EQ(netbe_peek_recvlen(be, 0), 300);	/* still the same */
	CHECK_EQ(netbe_recv(be, 0, &iov, 1), 300);
	CHECK(memcmp(f, w + 4, 300) == 0);
	CHECK_EQ(netbe_recv(be, 0, &iov, 1), 0);
	/* Two frames in one write, then one too big for the iov. */
	nf_put32(w, 10);
	nf_put32(w + 14, 20);
	CHECK_EQ(write(p, w, 38), 38);
	CHECK_EQ(netbe_recv(be, 0, &iov, 1), 10);
	CHECK_EQ(netbe_recv(be, 0, &iov, 1), 20);
	CHECK(memcmp(f, w + 18, 20) == 0);
	nf_put32(w, 300);
	CHECK_EQ(write(p, w, sizeof(w)), (ssize_t)sizeof(w));
	iov.iov_len = 100;
	CHECK_EQ(netbe_recv(be, 0, &iov, 1), -EMSGSIZE);
	CHECK_EQ(netbe_recv(be, 0, &iov, 1), 0);	/* dropped, in step */
	CHECK_EQ(netbe_stats(be)->ns_rx_dropped, 1);
	/* The peer closes: gone. */
	close(p);
	cap_start();
	CHECK_EQ(netbe_recv(be, 0, &iov, 1), -EPIPE);
	cap_end();
	netbe_cleanup(be);
	close(l);
	unlink(sockpath);
	config_fini();
}

/* Lengths of 0 and of more than NETBE_FRAME_MAX: gone, said once. */
TEST(bad_length)
{
	static const uint32_t bad[] = { 0, NETBE_FRAME_MAX + 1, 0xffffffffu };
	struct net_backend *be;
	uint8_t w[8], f[64];
	struct iovec iov = { .iov_base = f, .iov_len = sizeof(f) };
	const char *msg;
	size_t k;
	int l, p;

	l = listen_unix();
	for (k = 0; k < nitems(bad); k++) {
		CHECK_EQ(start(&be, node("passt", "socket", sockpath, NULL)),
		    0);
		p = accept(l, NULL, NULL);
		if (be == NULL || p < 0)
			break;
		nf_put32(w, bad[k]);
		CHECK_EQ(write(p, w, sizeof(w)), (ssize_t)sizeof(w));
		cap_start();
		CHECK_EQ(netbe_peek_recvlen(be, 0), -EPIPE);
		CHECK_EQ(netbe_recv(be, 0, &iov, 1), -EPIPE);
		CHECK(send_frame(be, f, 60) == -EPIPE);
		msg = cap_end();
		CHECK(strstr(msg, "out of step") != NULL);
		CHECK_EQ(count_lines(msg), 2);	/* why, and "gone" */
		netbe_cleanup(be);
		close(p);
		config_fini();
	}
	close(l);
	unlink(sockpath);
}

/*
 * Sends into a peer that does not read: the socket takes part of a frame
 * at last; the rest goes out before anything else once the peer reads,
 * and the peer sees every frame the backend took, whole and in order.
 */
TEST(partial_send)
{
	struct net_backend *be;
	static uint8_t f[9000], got[4 << 20];
	size_t have = 0, off, n = 0, took = 0, i;
	uint32_t len;
	ssize_t r;
	int l, p, sz = 65536, full = 0;

	l = listen_unix();
	CHECK_EQ(start(&be, node("passt", "socket", sockpath, NULL)), 0);
	p = accept(l, NULL, NULL);
	if (be == NULL || p < 0)
		return;
	(void)setsockopt(p, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	for (i = 0; i < 2000 && full < 50; i++) {
		f[0] = (uint8_t)i;
		memset(f + 1, (int)(i & 0xff), sizeof(f) - 1);
		r = send_frame(be, f, 1000 + (i * 37) % 8000);
		if (r > 0)
			took++;
		else {
			CHECK_EQ(r, -EAGAIN);
			full++;
		}
	}
	CHECK(full > 0);
	/* Read everything, letting the backend finish its half frame. */
	for (i = 0; i < 1000; i++) {
		(void)netbe_peek_recvlen(be, 0);
		r = recv(p, got + have, sizeof(got) - have, MSG_DONTWAIT);
		if (r > 0)
			have += (size_t)r;
		else if (i > 20)
			break;
	}
	for (off = 0, i = 0; off + 4 <= have; i++) {
		len = nf_get32(got + off);
		if (off + 4 + len > have)
			break;
		/* Frames are the ones taken, in order: first byte, length. */
		while (n < 2000 && 1000 + (n * 37) % 8000 != len)
			n++;
		CHECK(got[off + 4] == (uint8_t)n);
		CHECK(got[off + 4 + len - 1] == (uint8_t)(n & 0xff));
		off += 4 + len;
		n++;
	}
	CHECK_EQ(off, have);			/* no half frame at the end */
	CHECK_EQ(i, took);
	netbe_cleanup(be);
	close(p);
	close(l);
	unlink(sockpath);
	config_fini();
}

/* Set-up errors: one line naming the key, -EINVAL or another -errno. */
TEST(setup_errors)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct net_backend *be = NULL;
	char rule[64];
	const char *msg;
	socklen_t sl = sizeof(sa);
	int fds = count_fds(), s, port;

	cap_start();
	CHECK_EQ(netbe_init(&be, "vnet0", node("passt", "socket",
	    "/nonexistent/passt.sock", NULL), 1), -ENOENT);
	msg = cap_end();
	CHECK(strstr(msg, "vnet0: socket=/nonexistent/passt.sock") != NULL);
	CHECK_EQ(count_lines(msg), 1);
	config_fini();

	cap_start();
	CHECK_EQ(netbe_init(&be, "vnet0", node("passt", "passt",
	    "/nonexistent/passt", NULL), 1), -ENOENT);
	msg = cap_end();
	CHECK(strstr(msg, "vnet0: passt=/nonexistent/passt") != NULL);
	CHECK_EQ(count_lines(msg), 1);
	config_fini();

	cap_start();
	CHECK_EQ(netbe_init(&be, "vnet0", node("passt", "hostfwd",
	    "tcp::2222-10.0.2.16:22", NULL), 1), -EINVAL);
	msg = cap_end();
	CHECK(strstr(msg, "hostfwd=tcp::2222-10.0.2.16:22") != NULL);
	CHECK(strstr(msg, "guest address") != NULL);
	CHECK_EQ(count_lines(msg), 1);
	config_fini();

	cap_start();
	CHECK_EQ(netbe_init(&be, "vnet0", node("passt", "hostfwd", "tcp::0-:22",
	    NULL), 1), -EINVAL);
	CHECK_EQ(netbe_init(&be, "vnet0", node("passt", "mtu", "67", NULL), 1),
	    -EINVAL);
	CHECK_EQ(netbe_init(&be, "vnet0", node("passt", "mtu", "65521", NULL),
	    1), -EINVAL);
	CHECK_EQ(netbe_init(&be, "vnet0", node("passt", "socket", "/x",
	    "hostfwd", "tcp::2222-:22", NULL), 1), -EINVAL);
	CHECK_EQ(netbe_init(&be, "vnet0", node("passt", "socket", "", NULL),
	    1), -EINVAL);
	msg = cap_end();
	CHECK(strstr(msg, "hostfwd=tcp::0-:22") != NULL);
	CHECK(strstr(msg, "mtu=65521") != NULL);
	CHECK(strstr(msg, "hostfwd= is for a passt khyve starts") != NULL);
	CHECK_EQ(count_lines(msg), 5);
	config_fini();

	/* A host port taken: -EADDRINUSE before passt starts. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    listen(s, 1) == 0 &&
	    getsockname(s, (struct sockaddr *)&sa, &sl) == 0);
	port = ntohs(sa.sin_port);
	snprintf(rule, sizeof(rule), "tcp:127.0.0.1:%d-:22", port);
	cap_start();
	CHECK_EQ(netbe_init(&be, "vnet0", node("passt", "passt", PASST,
	    "hostfwd", rule, NULL), 1), -EADDRINUSE);
	msg = cap_end();
	CHECK(strstr(msg, "host port") != NULL);
	CHECK_EQ(count_lines(msg), 1);
	close(s);
	config_fini();

	/* A program exec refuses: its errno, nothing left behind. */
	{
		char junk[] = "/tmp/khyve-passt-junk.XXXXXX";
		int jfd = mkstemp(junk);

		CHECK(jfd >= 0 && write(jfd, "\x7f\x01junk", 6) == 6);
		close(jfd);
		chmod(junk, 0755);
		cap_start();
		CHECK_EQ(netbe_init(&be, "vnet0", node("passt", "passt", junk,
		    NULL), 1), -ENOEXEC);
		msg = cap_end();
		CHECK(strstr(msg, "Exec format error") != NULL);
		CHECK_EQ(count_lines(msg), 1);
		unlink(junk);
		config_fini();
	}

	/* A program that exits at once (false): reported, reaped. */
	cap_start();
	CHECK_EQ(netbe_init(&be, "vnet0", node("passt", "passt", "/bin/false",
	    NULL), 1), -EIO);
	msg = cap_end();
	CHECK(strstr(msg, "exited at start-up") != NULL);
	config_fini();
	CHECK(be == NULL);
	CHECK(no_children());
	CHECK_EQ(count_fds(), fds);
}

/* No vnet header; cycles of start and cleanup leave nothing behind. */
TEST(cleanup_leaves_nothing)
{
	struct net_backend *be;
	int fds, i;

	NEED_PASST();
	fds = count_fds();
	for (i = 0; i < 3; i++) {
		if (start(&be, node("passt", NULL)) != 0)
			return;
		CHECK_EQ(netbe_get_cap(be) & NETBE_CAP_VNET_HDR, 0);
		CHECK_EQ(netbe_set_cap(be, 0, NETBE_VNET_HDR_LEN), -EINVAL);
		netbe_cleanup(be);
		config_fini();
		CHECK(no_children());
		CHECK_EQ(count_fds(), fds);
	}
}

/*
 * Frames per second through a UDP host forward, the same harness for
 * passt and slirp: 1000-byte datagrams from a host socket to the guest
 * (frames the test receives), then from the guest to the host socket
 * (datagrams the socket receives), each for RATE_MS, in bursts of 32.
 * Figures only: the machine is shared, so nothing is asserted beyond
 * "some went through".
 */
#define RATE_MS		1000
#define RATE_BURST	32

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6);
}

static bool
rate(struct net_backend *be, int port, double *h2g, double *g2h)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	static uint8_t f[70000], r[1100], data[1000];
	struct udpflow fl;
	struct pollfd pfd;
	double t0, t;
	long in = 0, out = 0;
	ssize_t n;
	int s, i, seen = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	(void)sendto(s, "ping", 4, 0, (struct sockaddr *)&sa, sizeof(sa));
	for (i = 0; i < 20 && !seen; i++) {
		n = recv_frame(be, f, sizeof(f), 1000);
		seen = udp_seen(f, n, &fl);
	}
	if (!seen) {
		close(s);
		return (false);
	}
	t0 = now_ms();
	while ((t = now_ms()) - t0 < RATE_MS) {
		for (i = 0; i < RATE_BURST; i++)
			(void)sendto(s, data, sizeof(data), 0,
			    (struct sockaddr *)&sa, sizeof(sa));
		/* Take what is there; wait 1 ms only when nothing is. */
		for (i = 0; (n = recv_frame(be, f, sizeof(f), i > 0 ? 0 : 1)) >
		    0; i++)
			in += udp_seen(f, n, NULL);
	}
	*h2g = (double)in * 1e3 / (t - t0);
	while (recv_frame(be, f, sizeof(f), 50) > 0)
		;
	n = (ssize_t)nf_udp(r, fl.mac, gmac, guest_ip, 5000, fl.src, fl.sport,
	    data, sizeof(data));
	pfd.fd = s;
	pfd.events = POLLIN;
	t0 = now_ms();
	while ((t = now_ms()) - t0 < RATE_MS) {
		for (i = 0; i < RATE_BURST; i++)
			(void)send_frame(be, r, (size_t)n);
		(void)netbe_peek_recvlen(be, 0);
		(void)poll(&pfd, 1, 1);
		while (recv(s, f, sizeof(f), MSG_DONTWAIT) > 0)
			out++;
	}
	*g2h = (double)out * 1e3 / (t - t0);
	close(s);
	return (in > 0 && out > 0);
}

/* build/khyve-slirp, next to build/tests/. */
static bool
slirp_helper(char *buf, size_t len)
{
	char exe[PATH_MAX - 32], *p;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
		return (false);
	exe[n] = '\0';
	if ((p = strrchr(exe, '/')) == NULL)
		return (false);
	*p = '\0';
	snprintf(buf, len, "%s/../khyve-slirp", exe);
	return (access(buf, X_OK) == 0);
}

TEST(throughput_vs_slirp)
{
	struct net_backend *be;
	char rule[64], helper[PATH_MAX];
	double ph2g = 0, pg2h = 0, sh2g = 0, sg2h = 0;
	uint32_t gw;
	int port;

	NEED_PASST();
	port = free_port(SOCK_DGRAM);
	snprintf(rule, sizeof(rule), "udp:127.0.0.1:%d-:5000", port);
	if (start(&be, node("passt", "hostfwd", rule, NULL)) != 0)
		return;
	CHECK(learn(be, &gw));
	CHECK(rate(be, port, &ph2g, &pg2h));
	netbe_cleanup(be);
	config_fini();
	printf("  passt: host->guest %.0f frames/s, guest->host %.0f frames/s "
	    "(1000-byte UDP)\n", ph2g, pg2h);
	if (!slirp_helper(helper, sizeof(helper)))
		TEST_SKIP("SKIP: %s not built: no slirp figures", helper);
	guest_ip = nf_ip4("10.0.2.15");
	CHECK_EQ(netbe_init(&be, "vnet0", node("slirp", "helper", helper,
	    "open", "true", "hostfwd", rule, NULL), 1), 0);
	if (be == NULL)
		return;
	CHECK(rate(be, port, &sh2g, &sg2h));
	netbe_cleanup(be);
	config_fini();
	printf("  slirp: host->guest %.0f frames/s, guest->host %.0f frames/s "
	    "(1000-byte UDP)\n", sh2g, sg2h);
}

TEST_MAIN()
