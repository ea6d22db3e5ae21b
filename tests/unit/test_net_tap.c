/*
 * test_net_tap.c: the tap backend (src/backend/net_tap.c) on real tap
 * interfaces, in a network namespace this test makes for itself
 * (unshare(CLONE_NEWNET): needs root, or SKIP).  The test plays the guest
 * on the backend's side of the tap (frames built with netframe.h) and the
 * host on the other (an address on the interface and UDP sockets), so
 * every frame crosses the kernel's tun driver as a guest's would.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "backend/net_backend.h"
#include "config.h"
#include "netframe.h"
#include "test.h"
#include "testproc.h"

/* Named so the backend's linker-set entry is linked in. */
extern const struct net_beops net_tap_beops;

static const uint8_t gmac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
#define IP_HOST		"10.9.0.1"
#define IP_GUEST	"10.9.0.2"

/*
 * netbe_init() of backend with nq queue pairs and the keys after it
 * (pairs, NULL-terminated), in a fresh device node: its error, the
 * message in capbuf.
 */
static int
init_err(struct net_backend **bep, int nq, const char *backend, ...)
{
	struct config_node *n;
	const char *k, *v;
	va_list ap;
	int error;

	if (strcmp(net_tap_beops.nb_name, "tap") != 0)
		abort();		/* (and links the backend in) */
	config_init();
	n = config_create_node(NULL, "pci.0.3.0");
	if (n == NULL || config_set(n, "backend", backend) != 0)
		abort();
	va_start(ap, backend);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (config_set(n, k, v) != 0)
			abort();
	}
	va_end(ap);
	cap_start();
	error = netbe_init(bep, "virtio-net 0:3:0", n, nq);
	(void)cap_end();
	return (error);
}

/* The namespace: made once; false (and why) when it cannot be. */
static const char *netns_why;

static bool
netns(void)
{
	static int done;

	if (done++ == 0) {
		if (access("/dev/net/tun", R_OK | W_OK) != 0)
			netns_why = "/dev/net/tun is not usable";
		else if (unshare(CLONE_NEWNET) != 0)
			netns_why = "cannot make a network namespace "
			    "(unshare(CLONE_NEWNET) needs root)";
	}
	return (netns_why == NULL);
}

#define NEED_NETNS() do {						\
	if (!netns())							\
		TEST_SKIP("SKIP: %s", netns_why);			\
} while (0)

/* Give name address IP_HOST/24 and bring it up (the host's side). */
static int
host_up(const char *name, uint8_t mac[6])
{
	struct sockaddr_in *sin;
	struct ifreq ifr;
	int s, error = 0;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return (-errno);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = nf_ip4(IP_HOST);
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		error = -errno;
	sin->sin_addr.s_addr = nf_ip4("255.255.255.0");
	if (error == 0 && ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
		error = -errno;
	if (error == 0 && ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		error = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (error == 0 && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		error = -errno;
	if (error == 0 && ioctl(s, SIOCGIFHWADDR, &ifr) < 0)
		error = -errno;
	if (error == 0)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(s);
	return (error);
}

/* A UDP socket bound to IP_HOST:port. */
static int
host_udp(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int s;

	a.sin_port = htons(port);
	a.sin_addr.s_addr = nf_ip4(IP_HOST);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		abort();
	return (s);
}

/* Delete interface name (RTM_DELLINK), as `ip link del` does. */
static int
link_del(const char *name)
{
	struct {
		struct nlmsghdr		nh;
		struct ifinfomsg	ifi;
	} req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char ack[256];
	int s, error = 0;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_DELLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = (int)if_nametoindex(name);
	if (req.ifi.ifi_index == 0)
		return (-ENODEV);
	if ((s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) < 0)
		return (-errno);
	if (sendto(s, &req, sizeof(req), 0, (struct sockaddr *)&sa,
	    sizeof(sa)) < 0 || recv(s, ack, sizeof(ack), 0) < 0)
		error = -errno;
	close(s);
	return (error);
}

/* A persistent tap made the way `ip tuntap add` makes it. */
static int
tap_persist(const char *name, short flags, uid_t owner)
{
	struct ifreq ifr;
	int fd, error = 0;

	if ((fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) < 0)
		return (-errno);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    (owner != (uid_t)-1 && ioctl(fd, TUNSETOWNER,
	    (unsigned long)owner) < 0) || ioctl(fd, TUNSETPERSIST, 1UL) < 0)
		error = -errno;
	close(fd);
	return (error);
}

static ssize_t
send_frame(struct net_backend *be, int q, const void *f, size_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)f, .iov_len = len };

	return (netbe_send(be, q, &iov, 1));
}

/*
 * The next frame on queue q that is not IPv6 (the kernel's router
 * solicitations and MLD reports), within ms milliseconds: its length
 * (header included) in f, 0 on timeout, or -errno.  ARP requests for
 * IP_GUEST are answered on the way, as a guest would, when hdr is 0.
 */
static ssize_t
recv_frame(struct net_backend *be, int q, uint8_t *f, size_t len,
    unsigned hdr, int ms)
{
	struct pollfd pfd = { .fd = netbe_fd(be, q), .events = POLLIN };
	struct iovec iov = { .iov_base = f, .iov_len = len };
	uint8_t reply[64];
	uint8_t *e;
	size_t rl;
	ssize_t n, peek;

	for (;;) {
		if ((peek = netbe_peek_recvlen(be, q)) == 0) {
			if (poll(&pfd, 1, ms) <= 0)
				return (0);
			continue;
		}
		if (peek < 0)
			return (peek);
		n = netbe_recv(be, q, &iov, 1);
		if (n != peek)
			return (n < 0 ? n : -EIO);
		e = f + hdr;
		if (nf_get16(e + 12) == 0x86dd)
			continue;
		if (hdr == 0 && (rl = nf_arp_answer(e, (size_t)n, gmac,
		    nf_ip4(IP_GUEST), reply)) != 0) {
			(void)send_frame(be, q, reply, rl);
			continue;
		}
		return (n);
	}
}

/* Wait for a datagram on s: its length, or -1 after ms milliseconds. */
static ssize_t
host_recv(int s, void *buf, size_t len, int ms)
{
	struct pollfd pfd = { .fd = s, .events = POLLIN };

	if (poll(&pfd, 1, ms) <= 0)
		return (-1);
	return (recv(s, buf, len, MSG_DONTWAIT));
}

/* Host to guest: a datagram to IP_GUEST:port, from host port 5001. */
static void
host_send(int s, uint16_t port, const void *data, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	a.sin_port = htons(port);
	a.sin_addr.s_addr = nf_ip4(IP_GUEST);
	if (sendto(s, data, len, 0, (struct sockaddr *)&a, sizeof(a)) !=
	    (ssize_t)len)
		abort();
}

/* ---- keys, no interface needed ---- */

TEST(bad_keys)
{
	struct net_backend *be;

	CHECK_EQ(init_err(&be, 1, "tap", NULL), -EINVAL);
	CHECK(strstr(capbuf, "name the interface") != NULL);
	CHECK_EQ(init_err(&be, 1, "tap", "ifname", "a/b", NULL), -EINVAL);
	CHECK(strstr(capbuf, "tap a/b: not an interface name") != NULL);
	CHECK_EQ(init_err(&be, 1, "tap", "ifname", "0123456789abcdef", NULL),
	    -EINVAL);
	CHECK_EQ(init_err(&be, 1, "tap0", "ifname", "x", NULL), -EINVAL);
	CHECK(strstr(capbuf, "use backend=tap") != NULL);
	CHECK_EQ(init_err(&be, 1, "tap", "ifname", "x", "fd", "5", NULL),
	    -EINVAL);
	CHECK_EQ(init_err(&be, 1, "tap", "fd", "x", NULL), -EINVAL);
	CHECK(strstr(capbuf, "fd=x: want descriptor numbers") != NULL);
	CHECK_EQ(init_err(&be, 1, "tap", "fd", "7:", NULL), -EINVAL);
	CHECK_EQ(init_err(&be, 1, "tap", "fd", "-1", NULL), -EINVAL);
	CHECK_EQ(init_err(&be, 1, "tap", "fd", "1", NULL), -EINVAL);
	CHECK(strstr(capbuf, "fd=1: not an open tap descriptor") != NULL);
	CHECK_EQ(init_err(&be, 1, "tap", "fd", "999", NULL), -EINVAL);
	CHECK_EQ(init_err(&be, 1, "tap0", "vhost", "maybe", NULL), -EINVAL);
	CHECK(strstr(capbuf, "vhost=maybe: not a boolean") != NULL);
	/* lo is there in every namespace, and is no tap. */
	CHECK_EQ(init_err(&be, 1, "tap", "ifname", "lo", NULL), -EINVAL);
	CHECK(strstr(capbuf, "tap lo: the interface is not a tap") != NULL);
	/* bhyve's names reach this backend; others do not. */
	CHECK_EQ(init_err(&be, 1, "tapx/", NULL), -EINVAL);
	CHECK(strstr(capbuf, "tap tapx/: not an interface name") != NULL);
	CHECK_EQ(init_err(&be, 1, "vmnet/", NULL), -EINVAL);
	CHECK(strstr(capbuf, "tap vmnet/") != NULL);
}

/* ---- on real interfaces ---- */

TEST(udp_both_ways_bare)
{
	struct net_backend *be;
	uint8_t hmac[6], f[2048];
	char buf[64];
	ssize_t n;
	size_t len;
	int s;

	NEED_NETNS();
	CHECK_EQ(init_err(&be, 1, "tap0", NULL), 0);
	if (be == NULL)
		return;
	CHECK(netbe_get_cap(be) & NETBE_CAP_VNET_HDR);
	CHECK_EQ(netbe_nqueues(be), 1);
	CHECK_EQ(netbe_set_cap(be, 0, 0), 0);
	CHECK_EQ(host_up("tap0", hmac), 0);
	s = host_udp(5001);

	/* Guest to host. */
	len = nf_udp(f, hmac, gmac, nf_ip4(IP_GUEST), 6000, nf_ip4(IP_HOST),
	    5001, "from the guest", 14);
	CHECK_EQ(send_frame(be, 0, f, len), (ssize_t)len);
	n = host_recv(s, buf, sizeof(buf), 2000);
	CHECK_EQ(n, 14);
	CHECK(n == 14 && memcmp(buf, "from the guest", 14) == 0);

	/* Host to guest: ARP for the guest first (answered), then UDP. */
	host_send(s, 6000, "to the guest", 12);
	n = recv_frame(be, 0, f, sizeof(f), 0, 2000);
	CHECK_EQ(n, 14 + 20 + 8 + 12);
	CHECK(n > 0 && nf_get16(f + 12) == 0x0800 && f[23] == 17);
	CHECK(n > 0 && memcmp(f, gmac, 6) == 0);
	CHECK(n == 54 && memcmp(f + 42, "to the guest", 12) == 0);
	CHECK_EQ(netbe_stats(be)->ns_tx_frames >= 1, 1);
	close(s);
	netbe_cleanup(be);
	/* khyve made tap0: it is gone with khyve. */
	CHECK_EQ(if_nametoindex("tap0"), 0);
}

/*
 * With the device's 12-byte header and checksum offload: a frame the
 * guest leaves to the host to checksum (NEEDS_CSUM, virtio 1.2 §5.1.6.2)
 * arrives whole; the kernel's frames come with a header.
 */
TEST(vnet_header_and_csum)
{
	struct net_backend *be;
	uint8_t hmac[6], f[2048], hdr[12];
	struct iovec iov[2];
	char buf[64];
	uint32_t sum;
	ssize_t n;
	size_t len;
	int s;

	NEED_NETNS();
	CHECK_EQ(init_err(&be, 1, "tap", "ifname", "khyvetap1", NULL), 0);
	if (be == NULL)
		return;
	CHECK(netbe_get_cap(be) & NETBE_CAP_CSUM);
	CHECK_EQ(netbe_set_cap(be, NETBE_CAP_CSUM, 12), 0);
	CHECK_EQ(netbe_hdrlen(be), 12);
	CHECK_EQ(host_up("khyvetap1", hmac), 0);
	s = host_udp(5002);

	len = nf_udp(f, hmac, gmac, nf_ip4(IP_GUEST), 6000, nf_ip4(IP_HOST),
	    5002, "checksum me", 11);
	/* The UDP checksum field holds the pseudo-header's sum only. */
	sum = (nf_ip4(IP_GUEST) >> 16) + (nf_ip4(IP_GUEST) & 0xffff) +
	    (nf_ip4(IP_HOST) >> 16) + (nf_ip4(IP_HOST) & 0xffff);
	sum = ntohs((uint16_t)(sum % 0xffff)) + 17 + 8 + 11;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	nf_put16(f + 40, (uint16_t)sum);
	memset(hdr, 0, sizeof(hdr));
	hdr[0] = 1;			/* VIRTIO_NET_HDR_F_NEEDS_CSUM */
	hdr[6] = 34;			/* csum_start: the UDP header */
	hdr[8] = 6;			/* csum_offset: its checksum */
	iov[0] = (struct iovec){ hdr, sizeof(hdr) };
	iov[1] = (struct iovec){ f, len };
	CHECK_EQ(netbe_send(be, 0, iov, 2), (ssize_t)(12 + len));
	n = host_recv(s, buf, sizeof(buf), 2000);
	CHECK(n == 11 && memcmp(buf, "checksum me", 11) == 0);

	/* A frame from the kernel: 12 bytes of header, then Ethernet. */
	host_send(s, 6000, "hdr", 3);
	for (;;) {
		n = recv_frame(be, 0, f, sizeof(f), 12, 2000);
		if (n <= 0 || nf_get16(f + 12 + 12) != 0x0806)
			break;
		/* The ARP request, answered past the header. */
		len = nf_arp(f + 12, 2, gmac, nf_ip4(IP_GUEST), hmac,
		    nf_ip4(IP_HOST));
		memset(f, 0, 12);
		CHECK_EQ(send_frame(be, 0, f, 12 + len), (ssize_t)(12 + len));
	}
	CHECK_EQ(n, 12 + 14 + 20 + 8 + 3);
	CHECK(n > 0 && memcmp(f + 12 + 42, "hdr", 3) == 0);
	/* The header's GSO type: none (a small datagram). */
	CHECK(n > 0 && f[1] == 0);
	close(s);
	netbe_cleanup(be);
}

/* One queue pair per descriptor, on an IFF_MULTI_QUEUE tap. */
TEST(multiqueue)
{
	struct net_backend *be;
	struct ifreq ifr;
	unsigned flags;
	int q, o;

	NEED_NETNS();
	CHECK_EQ(init_err(&be, 4, "tap", "ifname", "khyvemq", NULL), 0);
	if (be == NULL)
		return;
	CHECK_EQ(netbe_nqueues(be), 4);
	CHECK(netbe_get_cap(be) & NETBE_CAP_MQ);
	for (q = 0; q < 4; q++)
		for (o = 0; o < q; o++)
			CHECK(netbe_fd(be, q) != netbe_fd(be, o));
	for (q = 0; q < 4; q++) {
		memset(&ifr, 0, sizeof(ifr));
		CHECK_EQ(ioctl(netbe_fd(be, q), TUNGETIFF, &ifr), 0);
		flags = (unsigned short)ifr.ifr_flags;
		CHECK(flags & IFF_MULTI_QUEUE);
		CHECK(flags & IFF_VNET_HDR);
		CHECK_STR(ifr.ifr_name, "khyvemq");
	}
	/* A header size change reaches every queue. */
	CHECK_EQ(netbe_set_cap(be, 0, 12), 0);
	netbe_cleanup(be);
}

/* A persistent tap made without multi_queue: one queue pair. */
TEST(persistent_single_queue)
{
	struct net_backend *be;

	NEED_NETNS();
	CHECK_EQ(tap_persist("khyvep0", IFF_TAP | IFF_NO_PI, (uid_t)-1), 0);
	CHECK_EQ(init_err(&be, 4, "tap", "ifname", "khyvep0", NULL), 0);
	if (be != NULL) {
		CHECK_EQ(netbe_nqueues(be), 1);
		CHECK((netbe_get_cap(be) & NETBE_CAP_MQ) == 0);
		netbe_cleanup(be);
	}
	/* Still there after khyve: it is the host's. */
	CHECK(if_nametoindex("khyvep0") != 0);
	CHECK_EQ(link_del("khyvep0"), 0);
	/* A tun (layer 3) device is refused by name. */
	CHECK_EQ(tap_persist("khyvetun", IFF_TUN | IFF_NO_PI, (uid_t)-1), 0);
	CHECK_EQ(init_err(&be, 1, "tap", "ifname", "khyvetun", NULL), -EINVAL);
	CHECK(strstr(capbuf, "tap khyvetun: a tun (layer 3) interface") !=
	    NULL);
	CHECK_EQ(link_del("khyvetun"), 0);
}

/* fd=: a descriptor a manager opened, taken over. */
TEST(fd_handover)
{
	struct net_backend *be;
	struct ifreq ifr;
	uint8_t hmac[6], f[256];
	char num[16], buf[16];
	ssize_t n;
	size_t len;
	int fd, s;

	NEED_NETNS();
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;	/* no header: bare frames */
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "khyvefd");
	CHECK(fd >= 0 && ioctl(fd, TUNSETIFF, &ifr) == 0);
	snprintf(num, sizeof(num), "%d", fd);
	CHECK_EQ(init_err(&be, 1, "tap", "fd", num, NULL), 0);
	if (be == NULL)
		return;
	CHECK_EQ(netbe_get_cap(be), 0);
	CHECK_EQ(netbe_set_cap(be, 0, 12), -EINVAL);
	CHECK_EQ(host_up("khyvefd", hmac), 0);
	s = host_udp(5003);
	len = nf_udp(f, hmac, gmac, nf_ip4(IP_GUEST), 6000, nf_ip4(IP_HOST),
	    5003, "fd", 2);
	CHECK_EQ(send_frame(be, 0, f, len), (ssize_t)len);
	n = host_recv(s, buf, sizeof(buf), 2000);
	CHECK(n == 2 && memcmp(buf, "fd", 2) == 0);
	close(s);
	netbe_cleanup(be);
	/* khyve closed it: the interface went with the last descriptor. */
	CHECK(fcntl(fd, F_GETFD) < 0);
	CHECK_EQ(if_nametoindex("khyvefd"), 0);

	/* A tun (layer 3) descriptor: refused, and left open. */
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "khyvetunfd");
	CHECK(fd >= 0 && ioctl(fd, TUNSETIFF, &ifr) == 0);
	snprintf(num, sizeof(num), "%d", fd);
	CHECK_EQ(init_err(&be, 1, "tap", "fd", num, NULL), -EINVAL);
	CHECK(strstr(capbuf, "without IFF_TAP and IFF_NO_PI") != NULL);
	CHECK(fcntl(fd, F_GETFD) >= 0);
	close(fd);
}

/* The interface deleted under the backend: gone, once. */
TEST(interface_deleted)
{
	struct net_backend *be;
	uint8_t f[256];
	struct iovec iov = { f, sizeof(f) };

	NEED_NETNS();
	CHECK_EQ(tap_persist("khyvedel", IFF_TAP | IFF_NO_PI | IFF_VNET_HDR,
	    (uid_t)-1), 0);
	CHECK_EQ(init_err(&be, 1, "tap", "ifname", "khyvedel", NULL), 0);
	if (be == NULL)
		return;
	CHECK_EQ(netbe_peek_recvlen(be, 0), 0);
	CHECK_EQ(link_del("khyvedel"), 0);
	cap_start();
	CHECK_EQ(netbe_peek_recvlen(be, 0), -EPIPE);
	CHECK_EQ(netbe_recv(be, 0, &iov, 1), -EPIPE);
	(void)cap_end();
	CHECK(strstr(capbuf, "backend tap is gone") != NULL);
	memset(f, 0, sizeof(f));
	CHECK(send_frame(be, 0, f, 60) < 0);
	netbe_cleanup(be);
}

/*
 * Run the three attaches of the unprivileged test as nobody, in a child;
 * with tun_rw, first over /dev/net/tun a node open to everyone (in a
 * mount namespace of the child's own, as on hosts whose /dev/net/tun
 * is 0666).  Their errors and messages, "E|MSG|" each, in msg.
 */
static void
as_nobody(bool tun_rw, char *msg, size_t len)
{
	struct net_backend *be;
	int pfd[2], status, e;
	char dir[] = "/tmp/khyve-tapXXXXXX", node_path[64];
	size_t n = 0;
	pid_t pid;

	if (pipe(pfd) != 0)
		abort();
	if ((pid = fork()) == 0) {
		close(pfd[0]);
		if (tun_rw) {
			snprintf(node_path, sizeof(node_path), "%s/tun",
			    mkdtemp(dir) != NULL ? dir : "/nonexistent");
			if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL,
			    MS_REC | MS_PRIVATE, NULL) != 0 ||
			    mknod(node_path, S_IFCHR | 0666, makedev(10, 200))
			    != 0 || chmod(node_path, 0666) != 0 ||
			    mount(node_path, "/dev/net/tun", NULL, MS_BIND,
			    NULL) != 0)
				_exit(97);
			(void)unlink(node_path);
			(void)rmdir(dir);
		}
		if (setgroups(0, NULL) != 0 || setresgid(65534, 65534,
		    65534) != 0 || setresuid(65534, 65534, 65534) != 0)
			_exit(99);
		e = init_err(&be, 1, "tapnone", NULL);
		n += (size_t)snprintf(msg + n, len - n, "%d|%s|", e, capbuf);
		e = init_err(&be, 1, "tap", "ifname", "khyveroot", NULL);
		n += (size_t)snprintf(msg + n, len - n, "%d|%s|", e, capbuf);
		e = init_err(&be, 1, "tap", "ifname", "khyvemine", NULL);
		n += (size_t)snprintf(msg + n, len - n, "%d|", e);
		if (write(pfd[1], msg, n) != (ssize_t)n)
			_exit(98);
		_exit(0);
	}
	close(pfd[1]);
	e = (int)read(pfd[0], msg, len - 1);
	close(pfd[0]);
	msg[e > 0 ? e : 0] = '\0';
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		snprintf(msg, len, "child failed: status %#x", status);
}

/* Without privileges: a missing tap, another user's, one's own. */
TEST(unprivileged)
{
	char msg[1024];

	NEED_NETNS();
	CHECK_EQ(tap_persist("khyveroot", IFF_TAP | IFF_NO_PI, 0), 0);
	CHECK_EQ(tap_persist("khyvemine", IFF_TAP | IFF_NO_PI, 65534), 0);
	/* With this host's /dev/net/tun: named when nobody may open it. */
	as_nobody(false, msg, sizeof(msg));
	if (strncmp(msg, "-13|", 4) == 0)
		CHECK(strstr(msg, "tap tapnone: /dev/net/tun: Permission "
		    "denied (khyve's user needs read and write access to "
		    "it)") != NULL);
	/* With one everybody may open: the tap's own rules. */
	as_nobody(true, msg, sizeof(msg));
	CHECK(strncmp(msg, "-1|", 3) == 0);		/* -EPERM */
	CHECK(strstr(msg, "tap tapnone: no such interface, and no "
	    "permission to create it") != NULL);
	CHECK(strstr(msg, "tap khyveroot: no permission to attach it") !=
	    NULL);
	/* A persistent tap of nobody's own: attached without privileges. */
	CHECK(strlen(msg) > 3 && strcmp(msg + strlen(msg) - 3, "|0|") == 0);
	if (test_failed)
		printf("  as nobody: %s\n", msg);
	CHECK_EQ(link_del("khyveroot"), 0);
	CHECK_EQ(link_del("khyvemine"), 0);
}

/* A link that is down: frames dropped, nothing blocks. */
TEST(link_down_drops)
{
	struct net_backend *be;
	uint8_t f[64];
	int i;

	NEED_NETNS();
	CHECK_EQ(init_err(&be, 1, "tap", "ifname", "khyvedown", NULL), 0);
	if (be == NULL)
		return;
	CHECK_EQ(netbe_set_cap(be, 0, 0), 0);
	memset(f, 0xff, 12);
	memset(f + 12, 0, sizeof(f) - 12);
	for (i = 0; i < 1000; i++)
		(void)send_frame(be, 0, f, sizeof(f));
	CHECK_EQ(netbe_peek_recvlen(be, 0), 0);
	CHECK(netbe_stats(be)->ns_tx_frames + netbe_stats(be)->ns_tx_dropped
	    == 1000);
	netbe_cleanup(be);
}

TEST_MAIN()
