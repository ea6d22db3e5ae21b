/*
 * test_net_slirp.c: the slirp backend (src/backend/net_slirp.c) driving
 * the real helper build/khyve-slirp through the backend API, from the
 * host: no guest.  The test plays the guest, building and parsing the
 * Ethernet frames itself (RFC 826 ARP, RFC 791 IPv4, RFC 768 UDP,
 * RFC 793 TCP, RFC 2131/2132 DHCP).
 *
 * Without build/khyve-slirp every test that needs it says SKIP loudly.
 * SLIRP_TEST_DEBUG=1 in the environment lists every frame received.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "backend/net_backend.h"
#include "config.h"
#include "netframe.h"
#include "test.h"
#include "testproc.h"

/* Named so the backend's linker-set entry is linked in. */
extern const struct net_beops net_slirp_beops;

static const uint8_t gmac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
#define IP_GUEST	"10.0.2.15"
#define IP_HOST		"10.0.2.2"
#define IP_DNS		"10.0.2.3"

static char helper[PATH_MAX];

/* build/khyve-slirp, from build/tests/test_net_slirp. */
static bool
have_helper(void)
{
	char exe[PATH_MAX - 32];
	ssize_t n;
	char *s;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return (false);
	exe[n] = '\0';
	if ((s = strrchr(exe, '/')) == NULL)
		return (false);
	*s = '\0';
	snprintf(helper, sizeof(helper), "%s/../khyve-slirp", exe);
	return (access(helper, X_OK) == 0);
}

#define NEED_HELPER() do {						\
	if (!have_helper())						\
		TEST_SKIP("SKIP: %s not built (make build/khyve-slirp)", \
		    helper);						\
} while (0)

/* A device node with the given keys (pairs, NULL-terminated). */
static struct config_node *
node(const char *k, ...)
{
	struct config_node *n;
	va_list ap;
	const char *v;

	if (strcmp(net_slirp_beops.nb_name, "slirp") != 0)
		abort();		/* (and links the backend in) */
	config_init();
	n = config_create_node(NULL, "pci.0.2.0");
	if (n == NULL || config_set(n, "backend", "slirp") != 0 ||
	    config_set(n, "helper", helper) != 0)
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

/* One frame to the helper, as the device would send it. */
static ssize_t
send_frame(struct net_backend *be, const void *f, size_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)f, .iov_len = len };

	return (netbe_send(be, 0, &iov, 1));
}

static uint8_t slirp_mac[6];

/*
 * The next frame the guest would receive, within ms milliseconds; ARP
 * requests for the guest's address are answered on the way, as a guest
 * would.  Returns its length, 0 on timeout, or -errno.
 */
static ssize_t
recv_frame(struct net_backend *be, uint8_t *f, size_t len, int ms)
{
	struct pollfd pfd = { .fd = netbe_fd(be, 0), .events = POLLIN };
	struct iovec iov = { .iov_base = f, .iov_len = len };
	uint8_t reply[64];
	size_t rl;
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, ms) <= 0)
			return (0);
		n = netbe_recv(be, 0, &iov, 1);
		if (n <= 0)
			return (n);
		if (getenv("SLIRP_TEST_DEBUG") != NULL)
			printf("  frame %zd type %04x proto %d\n", n,
			    nf_get16(f + 12), n > 23 ? f[23] : -1);
		if ((rl = nf_arp_answer(f, (size_t)n, gmac, nf_ip4(IP_GUEST),
		    reply)) != 0) {
			memcpy(slirp_mac, f + 22, 6);
			(void)send_frame(be, reply, rl);
			continue;
		}
		return (n);
	}
}

/* Start a backend on node n, 0 or -errno. */
static int
start(struct net_backend **be, struct config_node *n)
{
	return (netbe_init(be, "vnet0", n, 1));
}

/* Send a DISCOVER, return the OFFER's length in f (0: none came). */
static ssize_t
dhcp_offer(struct net_backend *be, uint8_t *f, size_t len)
{
	uint8_t d[600];
	ssize_t n;
	int tries;

	CHECK(send_frame(be, d, nf_dhcp_discover(d, gmac)) > 0);
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

/*
 * open=false: an OFFER of 10.0.2.15 from 10.0.2.2, but libslirp 4.7's
 * restricted mode names no router and no DNS server (bootp.c), so a
 * guest gets no default route: only the host forwards reach it.
 */
TEST(dhcp_restricted)
{
	struct net_backend *be;
	uint8_t f[2048], ol;
	const uint8_t *o;
	uint32_t a;
	ssize_t n;

	NEED_HELPER();
	CHECK_EQ(start(&be, node(NULL)), 0);
	if (be == NULL)
		return;
	n = dhcp_offer(be, f, sizeof(f));
	CHECK(n > 0);
	if (n > 0) {
		CHECK_EQ(f[42], 2);			/* BOOTREPLY */
		/* To us, or broadcast as asked (RFC 2131 §4.1). */
		CHECK(memcmp(f, gmac, 6) == 0 || memcmp(f, nf_bcast, 6) == 0);
		memcpy(&a, f + 42 + 16, 4);
		CHECK_EQ(a, nf_ip4(IP_GUEST));		/* yiaddr */
		o = nf_dhcp_opt(f, (size_t)n, 53, &ol);
		CHECK(o != NULL && ol == 1 && o[0] == 2);	/* OFFER */
		o = nf_dhcp_opt(f, (size_t)n, 54, &ol);
		CHECK(o != NULL && ol == 4 && memcmp(o, &(uint32_t){
		    nf_ip4(IP_HOST) }, 4) == 0);		/* server id */
		/* No router, no DNS server. */
		CHECK(nf_dhcp_opt(f, (size_t)n, 3, &ol) == NULL);
		CHECK(nf_dhcp_opt(f, (size_t)n, 6, &ol) == NULL);
	}
	netbe_cleanup(be);
	config_fini();
}

/* open=true: the OFFER names router 10.0.2.2 and DNS 10.0.2.3. */
TEST(dhcp_open)
{
	struct net_backend *be;
	uint8_t f[2048], ol;
	const uint8_t *o;
	uint32_t a;
	ssize_t n;

	NEED_HELPER();
	CHECK_EQ(start(&be, node("open", "true", NULL)), 0);
	if (be == NULL)
		return;
	n = dhcp_offer(be, f, sizeof(f));
	CHECK(n > 0);
	if (n > 0) {
		memcpy(&a, f + 42 + 16, 4);
		CHECK_EQ(a, nf_ip4(IP_GUEST));
		o = nf_dhcp_opt(f, (size_t)n, 3, &ol);
		CHECK(o != NULL && ol == 4 && memcmp(o, &(uint32_t){
		    nf_ip4(IP_HOST) }, 4) == 0);
		o = nf_dhcp_opt(f, (size_t)n, 6, &ol);
		CHECK(o != NULL && ol == 4 && memcmp(o, &(uint32_t){
		    nf_ip4(IP_DNS) }, 4) == 0);
		o = nf_dhcp_opt(f, (size_t)n, 1, &ol);	/* netmask /24 */
		CHECK(o != NULL && ol == 4 && memcmp(o, "\xff\xff\xff\x00",
		    4) == 0);
	}
	netbe_cleanup(be);
	config_fini();
}

/* ARP who-has 10.0.2.2 is answered for the guest's MAC. */
TEST(arp_router)
{
	static const uint8_t zero[6];
	struct net_backend *be;
	uint8_t f[2048], q[64];
	uint32_t a;
	ssize_t n;

	NEED_HELPER();
	CHECK_EQ(start(&be, node(NULL)), 0);
	if (be == NULL)
		return;
	CHECK_EQ(send_frame(be, q, nf_arp(q, 1, gmac, nf_ip4(IP_GUEST), zero,
	    nf_ip4(IP_HOST))), 42);
	n = recv_frame(be, f, sizeof(f), 2000);
	CHECK(n >= 42);
	if (n >= 42) {
		CHECK_EQ(nf_get16(f + 12), 0x0806);
		CHECK_EQ(nf_get16(f + 20), 2);		/* reply */
		memcpy(&a, f + 28, 4);
		CHECK_EQ(a, nf_ip4(IP_HOST));		/* sender 10.0.2.2 */
		CHECK(memcmp(f + 32, gmac, 6) == 0);	/* to us */
		CHECK(memcmp(f, gmac, 6) == 0);
	}
	netbe_cleanup(be);
	config_fini();
}

/* A free port on 127.0.0.1 (type SOCK_STREAM or SOCK_DGRAM). */
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

/* The next TCP segment to the guest (its length, or 0). */
static ssize_t
recv_tcp(struct net_backend *be, uint8_t *f, size_t len)
{
	ssize_t n;
	int i;

	for (i = 0; i < 20; i++) {
		n = recv_frame(be, f, len, 1000);
		if (n >= 14 + 20 + 20 && nf_get16(f + 12) == 0x0800 &&
		    f[14 + 9] == 6)
			return (n);
	}
	return (0);
}

/*
 * hostfwd=tcp:127.0.0.1:P-:2222, open=false: a connection to P on the
 * host comes out as a SYN from 10.0.2.2 to 10.0.2.15:2222; the guest's
 * SYN-ACK completes it and data flows both ways (restricted mode lets a
 * forwarded connection through).
 */
TEST(tcp_hostfwd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct net_backend *be;
	struct pollfd pfd;
	char rule[64], got[16];
	uint8_t f[4096], r[128], smac[6];
	uint32_t a, hseq = 0, gseq = 5000;
	uint16_t sport = 0;
	ssize_t n;
	int port, s, i, syn = 0;

	NEED_HELPER();
	port = free_port(SOCK_STREAM);
	CHECK(port > 0);
	snprintf(rule, sizeof(rule), "tcp:127.0.0.1:%d-:2222", port);
	CHECK_EQ(start(&be, node("hostfwd", rule, NULL)), 0);
	if (be == NULL)
		return;
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	CHECK(connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 ||
	    errno == EINPROGRESS);
	for (i = 0; i < 20 && !syn; i++) {
		n = recv_frame(be, f, sizeof(f), 1000);
		if (n < 14 + 20 + 20)
			continue;
		if (nf_get16(f + 12) != 0x0800 || f[14 + 9] != 6)
			continue;
		memcpy(&a, f + 14 + 16, 4);
		CHECK_EQ(a, nf_ip4(IP_GUEST));
		memcpy(&a, f + 14 + 12, 4);
		CHECK_EQ(a, nf_ip4(IP_HOST));
		CHECK_EQ(nf_get16(f + 34 + 2), 2222);	/* dport */
		CHECK_EQ(f[34 + 13] & 0x12, 0x02);	/* SYN, no ACK */
		CHECK(memcmp(f, gmac, 6) == 0);
		sport = nf_get16(f + 34);
		hseq = nf_get32(f + 34 + 4);
		memcpy(smac, f + 6, 6);
		syn = 1;
	}
	CHECK(syn);
	if (!syn)
		goto out;
	/* SYN-ACK from the guest; the host side ACKs it. */
	CHECK(send_frame(be, r, nf_tcp(r, smac, gmac, nf_ip4(IP_GUEST), 2222,
	    nf_ip4(IP_HOST), sport, gseq, hseq + 1, NF_TH_SYN | NF_TH_ACK,
	    NULL, 0)) > 0);
	gseq++;
	n = recv_tcp(be, f, sizeof(f));
	CHECK(n > 0 && (f[34 + 13] & (NF_TH_SYN | NF_TH_ACK)) == NF_TH_ACK &&
	    nf_get32(f + 34 + 8) == gseq);
	/* Host to guest. */
	CHECK_EQ(send(s, "hello", 5, 0), 5);
	do
		n = recv_tcp(be, f, sizeof(f));
	while (n > 0 && (size_t)n < 54 + 5);
	CHECK(n >= 54 + 5 && memcmp(f + 54, "hello", 5) == 0);
	/* Guest to host, acknowledging the hello. */
	CHECK(send_frame(be, r, nf_tcp(r, smac, gmac, nf_ip4(IP_GUEST), 2222,
	    nf_ip4(IP_HOST), sport, gseq, hseq + 1 + 5, NF_TH_ACK | NF_TH_PSH,
	    "world", 5)) > 0);
	pfd.fd = s;
	pfd.events = POLLIN;
	CHECK_EQ(poll(&pfd, 1, 3000), 1);
	n = recv(s, got, sizeof(got), MSG_DONTWAIT);
	CHECK(n == 5 && memcmp(got, "world", 5) == 0);
out:
	close(s);
	netbe_cleanup(be);
	config_fini();
}

/*
 * The guest connects to 10.0.2.2:P, where the host listens on
 * 127.0.0.1:P: open=false answers with a reset and the host sees
 * nothing; open=true connects (10.0.2.2 is the host's loopback) and
 * answers the guest's SYN with a SYN-ACK.
 */
static void
guest_connect(bool open)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct net_backend *be;
	struct pollfd pfd;
	uint8_t f[4096], q[64], r[128];
	socklen_t sl = sizeof(sa);
	ssize_t n;
	int l, port, c;

	l = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(l, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    listen(l, 4) == 0 &&
	    getsockname(l, (struct sockaddr *)&sa, &sl) == 0);
	port = ntohs(sa.sin_port);
	CHECK_EQ(start(&be, node("open", open ? "true" : "false", NULL)), 0);
	if (be == NULL) {
		close(l);
		return;
	}
	/* Learn the router's MAC, as a guest would. */
	CHECK_EQ(send_frame(be, q, nf_arp(q, 1, gmac, nf_ip4(IP_GUEST),
	    (const uint8_t[6]){ 0 },
	    nf_ip4(IP_HOST))), 42);
	n = recv_frame(be, f, sizeof(f), 2000);
	CHECK(n >= 42);
	memcpy(slirp_mac, f + 22, 6);
	CHECK(send_frame(be, r, nf_tcp(r, slirp_mac, gmac, nf_ip4(IP_GUEST),
	    40000,
	    nf_ip4(IP_HOST), (uint16_t)port, 7000, 0, NF_TH_SYN, NULL, 0)) > 0);
	pfd.fd = l;
	pfd.events = POLLIN;
	if (open) {
		CHECK_EQ(poll(&pfd, 1, 3000), 1);	/* slirp connected */
		c = accept(l, NULL, NULL);
		CHECK(c >= 0);
		if (c >= 0)
			close(c);
		n = recv_tcp(be, f, sizeof(f));
		CHECK(n > 0 && (f[34 + 13] & (NF_TH_SYN | NF_TH_ACK)) ==
		    (NF_TH_SYN | NF_TH_ACK) && nf_get32(f + 34 + 8) == 7001);
	} else {
		n = recv_tcp(be, f, sizeof(f));
		CHECK(n > 0 && (f[34 + 13] & 0x04) != 0);	/* RST */
		CHECK_EQ(poll(&pfd, 1, 300), 0);	/* nobody came */
	}
	netbe_cleanup(be);
	config_fini();
	close(l);
}

TEST(guest_connect_restricted)
{
	NEED_HELPER();
	guest_connect(false);
}

TEST(guest_connect_open)
{
	NEED_HELPER();
	guest_connect(true);
}

/*
 * hostfwd=udp:...: a datagram to P reaches 10.0.2.15:5000; the guest's
 * answer reaches the host sender only with open=true (libslirp's
 * restricted udp_input() drops it).
 */
static void
udp_roundtrip(bool open)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct net_backend *be;
	char rule[64], got[16];
	uint8_t f[4096], r[128], smac[6];
	uint32_t src, dst;
	uint16_t sport = 0;
	ssize_t n;
	int port, s, i, seen = 0;

	port = free_port(SOCK_DGRAM);
	CHECK(port > 0);
	snprintf(rule, sizeof(rule), "udp:127.0.0.1:%d-:5000", port);
	cap_start();
	CHECK_EQ(start(&be, node("hostfwd", rule, "open", open ? "on" : "off",
	    NULL)), 0);
	cap_end();
	/* The warning about replies comes with open=false only. */
	CHECK_EQ(strstr(capbuf, "replies are dropped") != NULL, !open);
	if (be == NULL)
		return;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	CHECK_EQ(sendto(s, "ping", 4, 0, (struct sockaddr *)&sa, sizeof(sa)),
	    4);
	for (i = 0; i < 20 && !seen; i++) {
		n = recv_frame(be, f, sizeof(f), 1000);
		if (n < 14 + 20 + 8 + 4 || nf_get16(f + 12) != 0x0800 ||
		    f[14 + 9] != 17)
			continue;
		memcpy(&dst, f + 14 + 16, 4);
		memcpy(&src, f + 14 + 12, 4);
		CHECK_EQ(dst, nf_ip4(IP_GUEST));
		CHECK_EQ(nf_get16(f + 34 + 2), 5000);
		CHECK(memcmp(f + 42, "ping", 4) == 0);
		sport = nf_get16(f + 34);
		memcpy(smac, f + 6, 6);
		seen = 1;
	}
	CHECK(seen);
	if (seen) {
		CHECK(send_frame(be, r, nf_udp(r, smac, gmac, nf_ip4(IP_GUEST),
		    5000,
		    src, sport, "pong", 4)) > 0);
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		if (poll(&pfd, 1, open ? 3000 : 500) == 1) {
			n = recv(s, got, sizeof(got), 0);
			CHECK(open);
			CHECK(n == 4 && memcmp(got, "pong", 4) == 0);
		} else
			CHECK(!open);
	}
	close(s);
	netbe_cleanup(be);
	config_fini();
}

TEST(udp_hostfwd_restricted)
{
	NEED_HELPER();
	udp_roundtrip(false);
}

TEST(udp_hostfwd_open)
{
	NEED_HELPER();
	udp_roundtrip(true);
}

/* A bad rule is refused before any helper is looked for or started. */
TEST(bad_rule_before_helper)
{
	struct net_backend *be = (void *)1;
	struct config_node *n;
	const char *msg;

	have_helper();
	n = node("hostfwd", "tcp:127.0.0.1:0-:22", NULL);
	CHECK_EQ(config_set(n, "helper", "/nonexistent/khyve-slirp"), 0);
	cap_start();
	CHECK_EQ(start(&be, n), -EINVAL);	/* not -ENOENT */
	msg = cap_end();
	CHECK(be == NULL);
	CHECK(strstr(msg, "vnet0: hostfwd=tcp:127.0.0.1:0-:22: host port") !=
	    NULL);
	CHECK(no_children());
	config_fini();

	/* A guest side off the slirp network, likewise. */
	n = node("hostfwd", "tcp::2222-192.168.1.5:22", NULL);
	CHECK_EQ(config_set(n, "helper", "/nonexistent/khyve-slirp"), 0);
	cap_start();
	CHECK_EQ(start(&be, n), -EINVAL);
	msg = cap_end();
	CHECK(strstr(msg, "hostfwd=tcp::2222-192.168.1.5:22") != NULL);
	CHECK(strstr(msg, "10.0.2.0/24") != NULL);
	config_fini();
	n = node("hostfwd", "tcp::2222-10.0.2.2:22", NULL);
	cap_start();
	CHECK_EQ(start(&be, n), -EINVAL);	/* the router is not a guest */
	cap_end();
	config_fini();

	/* Other keys too. */
	cap_start();
	CHECK_EQ(start(&be, node("open", "maybe", NULL)), -EINVAL);
	CHECK_EQ(start(&be, node("mtu", "67", NULL)), -EINVAL);
	CHECK_EQ(start(&be, node("mtu", "65522", NULL)), -EINVAL);
	CHECK_EQ(start(&be, node("mtu", "big", NULL)), -EINVAL);
	msg = cap_end();
	CHECK(strstr(msg, "open=maybe") != NULL);
	CHECK(strstr(msg, "mtu=65522") != NULL);
	CHECK(no_children());
	config_fini();
}

TEST(missing_helper)
{
	struct net_backend *be;
	struct config_node *n;
	const char *msg;
	int fds = count_fds();

	have_helper();
	n = node(NULL);
	CHECK_EQ(config_set(n, "helper", "/nonexistent/khyve-slirp"), 0);
	cap_start();
	CHECK_EQ(start(&be, n), -ENOENT);
	msg = cap_end();
	CHECK(strstr(msg, "/nonexistent/khyve-slirp") != NULL);
	CHECK(strchr(msg, '\n') == strrchr(msg, '\n'));	/* one line */
	config_fini();

	/* slirp.helper= when the node has none. */
	n = node(NULL);
	CHECK_EQ(config_unset(n, "helper"), 0);
	CHECK_EQ(config_set(NULL, "slirp.helper", "/nonexistent/other"), 0);
	cap_start();
	CHECK_EQ(start(&be, n), -ENOENT);
	msg = cap_end();
	CHECK(strstr(msg, "/nonexistent/other") != NULL);
	config_fini();

	/* A file that exists but is no program: exec fails, reported. */
	n = node(NULL);
	CHECK_EQ(config_set(n, "helper", "/dev/null"), 0);
	cap_start();
	CHECK(start(&be, n) < 0);
	cap_end();
	config_fini();
	CHECK(no_children());
	CHECK_EQ(count_fds(), fds);
}

/* A host port already taken: the helper's message, -EADDRINUSE. */
TEST(port_in_use)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct net_backend *be = (void *)1;
	char rule[64], want[96];
	const char *msg;
	int s, port, fds;

	NEED_HELPER();
	s = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(listen(s, 1) == 0);
	socklen_t sl = sizeof(sa);
	CHECK(getsockname(s, (struct sockaddr *)&sa, &sl) == 0);
	port = ntohs(sa.sin_port);
	fds = count_fds();
	snprintf(rule, sizeof(rule), "tcp:127.0.0.1:%d-:22", port);
	cap_start();
	CHECK_EQ(start(&be, node("hostfwd", rule, NULL)), -EADDRINUSE);
	msg = cap_end();
	CHECK(be == NULL);
	snprintf(want, sizeof(want),
	    "vnet0: hostfwd=tcp:127.0.0.1:%d-10.0.2.15:22: address in use",
	    port);
	if (strstr(msg, want) == NULL)
		printf("  wanted \"%s\" in: %s\n", want, msg);
	CHECK(strstr(msg, want) != NULL);
	CHECK(no_children());
	CHECK_EQ(count_fds(), fds);
	close(s);
	config_fini();
}

/*
 * The helper killed: the fd turns readable, recv says -EPIPE (and keeps
 * saying it), the backend says it is gone once; cleanup reaps.
 */
TEST(helper_death)
{
	struct net_backend *be;
	struct pollfd pfd;
	uint8_t f[2048];
	struct iovec iov = { .iov_base = f, .iov_len = sizeof(f) };
	const char *msg, *p;
	pid_t pid;
	int gone = 0;

	NEED_HELPER();
	CHECK_EQ(start(&be, node(NULL)), 0);
	if (be == NULL)
		return;
	pid = child_pid();
	CHECK(pid > 0);
	CHECK_EQ(netbe_recv(be, 0, &iov, 1), 0);	/* nothing yet */
	CHECK_EQ(netbe_peek_recvlen(be, 0), 0);
	CHECK_EQ(kill(pid, SIGKILL), 0);
	pfd.fd = netbe_fd(be, 0);
	pfd.events = POLLIN;
	CHECK_EQ(poll(&pfd, 1, 5000), 1);
	cap_start();
	CHECK_EQ(netbe_recv(be, 0, &iov, 1), -EPIPE);
	CHECK_EQ(netbe_recv(be, 0, &iov, 1), -EPIPE);
	CHECK_EQ(netbe_peek_recvlen(be, 0), -EPIPE);
	CHECK(send_frame(be, f, 60) < 0);		/* dropped */
	msg = cap_end();
	for (p = msg; (p = strstr(p, "is gone")) != NULL; p++)
		gone++;
	CHECK_EQ(gone, 1);
	netbe_cleanup(be);
	CHECK(no_children());
	config_fini();
}

/* The helper holds nothing of ours, and no privileges. */
TEST(helper_confined)
{
	struct net_backend *be;
	char path[300], link[128], val[256], want[32];
	struct passwd *pw;
	struct dirent *e;
	DIR *d;
	int pp[2], nfd = 0, bad = 0;
	pid_t pid;

	NEED_HELPER();
	CHECK(pipe(pp) == 0);		/* inheritable: must not be inherited */
	CHECK_EQ(start(&be, node(NULL)), 0);
	if (be == NULL)
		return;
	pid = child_pid();
	CHECK(pid > 0);
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			nfd++;
			snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)pid,
			    e->d_name);
			ssize_t n = readlink(path, link, sizeof(link) - 1);
			link[n > 0 ? n : 0] = '\0';
			/* Above 3: only libslirp's sockets. */
			if (atoi(e->d_name) > 3 &&
			    strncmp(link, "socket:", 7) != 0)
				bad++;
			if (strcmp(e->d_name, "0") == 0 ||
			    strcmp(e->d_name, "1") == 0)
				CHECK_STR(link, "/dev/null");
			if (strcmp(e->d_name, "3") == 0)
				CHECK(strncmp(link, "socket:", 7) == 0);
		}
		closedir(d);
	}
	CHECK_EQ(bad, 0);
	CHECK(nfd >= 4);
	CHECK(proc_status(pid, "NoNewPrivs", val, sizeof(val)));
	CHECK_STR(val + strspn(val, " \t"), "1");
	/* Its own seccomp filter (SANDBOX_SLIRP), one. */
	CHECK(proc_status(pid, "Seccomp", val, sizeof(val)));
	CHECK_STR(val + strspn(val, " \t"), "2");
	CHECK(proc_status(pid, "Seccomp_filters", val, sizeof(val)));
	CHECK_STR(val + strspn(val, " \t"), "1");
	if (getuid() == 0 && (pw = getpwnam("nobody")) != NULL) {
		snprintf(want, sizeof(want), "%u", (unsigned)pw->pw_uid);
		CHECK(proc_status(pid, "Uid", val, sizeof(val)));
		/* real, effective, saved, fs: all nobody */
		CHECK_EQ(atoi(val), (int)pw->pw_uid);
		CHECK(strstr(val, "\t0") == NULL);
		CHECK(proc_status(pid, "Groups", val, sizeof(val)));
		CHECK_STR(val + strspn(val, " \t"), "");
		CHECK(proc_status(pid, "CapEff", val, sizeof(val)));
		CHECK_STR(val + strspn(val, " \t"), "0000000000000000");
	} else
		printf("  not root: the privilege drop is not exercised\n");
	close(pp[0]);
	close(pp[1]);
	netbe_cleanup(be);
	config_fini();
}

/* -o sandbox=false reaches the helper: it installs no filter then. */
TEST(helper_sandbox_off)
{
	struct net_backend *be;
	struct config_node *n;
	char val[64];
	pid_t pid;

	NEED_HELPER();
	n = node(NULL);
	CHECK_EQ(config_set(NULL, "sandbox", "false"), 0);
	CHECK_EQ(start(&be, n), 0);
	if (be == NULL)
		return;
	pid = child_pid();
	CHECK(pid > 0);
	CHECK(proc_status(pid, "Seccomp", val, sizeof(val)));
	CHECK_STR(val + strspn(val, " \t"), "0");
	netbe_cleanup(be);
	config_fini();
}

/* Frame sizes: runts and frames over the MTU are refused here. */
TEST(frame_sizes)
{
	static uint8_t f[9100];
	struct net_backend *be;

	NEED_HELPER();
	CHECK_EQ(start(&be, node("mtu", "9000", NULL)), 0);
	if (be == NULL)
		return;
	memcpy(f, nf_bcast, 6);
	nf_put16(f + 12, 0x88b5);	/* local experimental ethertype */
	CHECK_EQ(send_frame(be, f, 13), -EMSGSIZE);
	CHECK_EQ(send_frame(be, f, 14), 14);
	CHECK_EQ(send_frame(be, f, 9018), 9018);
	CHECK_EQ(send_frame(be, f, 9019), -EMSGSIZE);
	CHECK_EQ(netbe_get_cap(be), 0);		/* bare frames only */
	CHECK_EQ(netbe_set_cap(be, 0, NETBE_VNET_HDR_LEN), -EINVAL);
	CHECK_EQ(netbe_set_cap(be, 0, 0), 0);
	netbe_cleanup(be);
	config_fini();
}

/* Cycles of start and cleanup leave no fd and no process behind. */
TEST(cleanup_leaves_nothing)
{
	struct net_backend *be;
	uint8_t f[2048];
	int fds, i;

	NEED_HELPER();
	fds = count_fds();
	for (i = 0; i < 5; i++) {
		cap_start();
		CHECK_EQ(start(&be, node("hostfwd", "udp:127.0.0.1:0-:1",
		    NULL)), -EINVAL);
		cap_end();
		CHECK_EQ(start(&be, node(NULL)), 0);
		if (be == NULL)
			break;
		if (i == 0)	/* and it works */
			CHECK(dhcp_offer(be, f, sizeof(f)) > 0);
		netbe_cleanup(be);
		config_fini();
		CHECK(no_children());
		CHECK_EQ(count_fds(), fds);
	}
}

TEST_MAIN()
