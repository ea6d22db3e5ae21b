/*
 * net_tap.c: the tap network backend (bhyve's net_backends.c tap_init()
 * and friends; on Linux, Documentation/networking/tuntap.rst and QEMU's
 * net/tap-linux.c): Ethernet frames through a tap interface, opened on
 * /dev/net/tun with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, one descriptor
 * per queue pair with IFF_MULTI_QUEUE.
 *
 * Keys of the device's node:
 *	backend=tapN, vmnetN or any name that begins with "tap" or "vmnet"
 *			the interface (bhyve's names)
 *	backend=tap, ifname=NAME
 *			any interface name
 *	backend=tap, fd=N[:N...]
 *			descriptors a manager opened (libvirt's way); khyve
 *			takes them over and closes them at exit
 *	vhost=BOOL	ask for vhost-net (see tap_vhost())
 *
 * An interface that does not exist is created (that needs CAP_NET_ADMIN)
 * and goes away when khyve exits; a persistent one (`ip tuntap add NAME
 * mode tap user USER`) can be attached by its owner without privileges.
 * khyve never configures the interface: addresses, bridges and the link
 * state are the host's business (docs/networking.md).
 *
 * The kernel's header.  With IFF_VNET_HDR every frame carries a struct
 * virtio_net_hdr of TUNSETVNETHDRSZ bytes (10 or 12) in front; the
 * device asks for 10, 12 or none (netbe_set_cap).  For none, the backend
 * keeps the kernel's 10 bytes to itself: an all-zero header on transmit
 * (no offload), and the one it receives dropped (with no TUNSETOFFLOAD
 * flag set, the kernel sends only whole frames with full checksums).
 *
 * Receiving.  A read from a tap returns one whole frame, or what fits of
 * it, and there is no way to learn a frame's length without reading it:
 * netbe_peek_recvlen() reads the next frame into the queue's buffer and
 * netbe_recv() copies it out (bhyve's tap_peek_recvlen() does the same).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <sys/socket.h>
#include "backend/net_backend.h"
#include "config.h"
#include "log.h"
#include "virtio/iov.h"

#define TAP_DEV		"/dev/net/tun"
#define TAP_MAXQ	31	/* virtio-net's queue pairs (VNET_MAX_PAIRS) */
#define TAP_HDR_DEFAULT	NETBE_VNET_HDR_LEN	/* the kernel's default */
/* The largest frame with the largest header. */
#define TAP_BUFLEN	(NETBE_FRAME_MAX + NETBE_VNET_HDR_MRG_LEN)
/* iovecs in one frame the device hands us (virtio-net: 513 at most). */
#define TAP_IOV_MAX	520

struct tap_q {
	int		fd;
	uint8_t		*buf;		/* the frame peeked at */
	size_t		len;		/* ... its length with the kernel's
					 * header, 0: none */
};

struct tap_be {
	int		tb_nq;
	bool		tb_vnet;	/* IFF_VNET_HDR on every fd */
	bool		tb_mq;		/* IFF_MULTI_QUEUE */
	unsigned	tb_khdr;	/* the kernel's header: 0, 10, 12 */
	uint32_t	tb_offl;	/* offloads the kernel took (caps) */
	char		tb_name[IFNAMSIZ];
	struct tap_q	tb_q[TAP_MAXQ];
};

static bool
tap_match(const char *name)
{
	return (strncmp(name, "tap", 3) == 0 || strncmp(name, "vmnet", 5) == 0);
}

/* The kernel's dev_valid_name(): what an interface may be called. */
static bool
tap_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= IFNAMSIZ || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return (false);
	return (strpbrk(name, "/: \t\n\r\v\f") == NULL);
}

/*
 * What kind of interface name is, from its driver (ethtool's
 * GDRVINFO, which sees the caller's network namespace, where sysfs may
 * show another's): TAP_KIND_NONE when there is no such interface.
 */
enum { TAP_KIND_NONE, TAP_KIND_TAP, TAP_KIND_TUN, TAP_KIND_OTHER };

static int
tap_kind(const char *name)
{
	struct ethtool_drvinfo di;
	struct ifreq ifr;
	int s, kind;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return (TAP_KIND_OTHER);	/* then TUNSETIFF will say */
	memset(&ifr, 0, sizeof(ifr));
	(void)snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
		kind = errno == ENODEV ? TAP_KIND_NONE : TAP_KIND_OTHER;
		(void)close(s);
		return (kind);
	}
	memset(&di, 0, sizeof(di));
	di.cmd = ETHTOOL_GDRVINFO;
	ifr.ifr_data = (void *)&di;
	kind = TAP_KIND_OTHER;
	/* drivers/net/tun.c: driver "tun", bus_info "tap" or "tun". */
	if (ioctl(s, SIOCETHTOOL, &ifr) == 0 && strcmp(di.driver, "tun") ==
	    0)
		kind = strcmp(di.bus_info, "tap") == 0 ? TAP_KIND_TAP :
		    TAP_KIND_TUN;
	(void)close(s);
	return (kind);
}

/* Why TUNSETIFF failed, in one line; returns the error for nb_init. */
static int
tap_open_error(const char *devname, const char *name, int e, bool existed)
{
	if (e == EPERM && existed)
		log_warnx("%s: tap %s: no permission to attach it (it belongs "
		    "to another user; as root: ip tuntap add %s mode tap user "
		    "USER)", devname, name, name);
	else if (e == EPERM)
		log_warnx("%s: tap %s: no such interface, and no permission to "
		    "create it (that needs CAP_NET_ADMIN; as root: ip tuntap "
		    "add %s mode tap user USER)", devname, name, name);
	else if (e == EBUSY)
		log_warnx("%s: tap %s: in use by another program", devname,
		    name);
	else
		log_warnx("%s: tap %s: cannot attach: %s", devname, name,
		    strerror(e));
	return (-e);
}

/* Open /dev/net/tun and attach it to name; the fd or -errno (logged). */
static int
tap_open_one(const char *devname, const char *name, short flags,
    bool existed, bool quiet)
{
	struct ifreq ifr;
	int fd, e;

	if ((fd = open(TAP_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) {
		e = errno;
		if (e == ENOENT || e == ENODEV || e == ENXIO)
			log_warnx("%s: tap %s: %s: %s (load the tun module: "
			    "modprobe tun)", devname, name, TAP_DEV,
			    strerror(e));
		else if (e == EACCES || e == EPERM)
			log_warnx("%s: tap %s: %s: %s (khyve's user needs read "
			    "and write access to it)", devname, name, TAP_DEV,
			    strerror(e));
		else
			log_warnx("%s: tap %s: %s: %s", devname, name, TAP_DEV,
			    strerror(e));
		return (-e);
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	(void)snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		(void)close(fd);
		if (quiet && e == EINVAL)
			return (-e);
		return (tap_open_error(devname, name, e, existed));
	}
	return (fd);
}

/*
 * The offloads this kernel takes on the tap (QEMU's tap_probe_has_ufo()
 * and friends): the largest set TUNSETOFFLOAD accepts, then none again.
 */
static uint32_t
tap_probe_offloads(int fd)
{
	static const struct {
		unsigned	tun;
		uint32_t	caps;
	} sets[] = {
		{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN |
		    TUN_F_UFO, NETBE_CAP_CSUM | NETBE_CAP_TSO4 |
		    NETBE_CAP_TSO6 | NETBE_CAP_TSO_ECN | NETBE_CAP_UFO },
		{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
		    NETBE_CAP_CSUM | NETBE_CAP_TSO4 | NETBE_CAP_TSO6 |
		    NETBE_CAP_TSO_ECN },
		{ TUN_F_CSUM, NETBE_CAP_CSUM },
	};
	uint32_t caps = 0;
	size_t i;

	for (i = 0; i < nitems(sets) && caps == 0; i++)
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)sets[i].tun) == 0)
			caps = sets[i].caps;
	(void)ioctl(fd, TUNSETOFFLOAD, 0UL);
	return (caps);
}

/* TUNSETOFFLOAD's flags for the offloads in caps. */
static unsigned long
tap_tunflags(uint32_t caps)
{
	unsigned long f = 0;

	if (caps & NETBE_CAP_CSUM)
		f |= TUN_F_CSUM;
	if (caps & NETBE_CAP_TSO4)
		f |= TUN_F_TSO4;
	if (caps & NETBE_CAP_TSO6)
		f |= TUN_F_TSO6;
	if (caps & NETBE_CAP_TSO_ECN)
		f |= TUN_F_TSO_ECN;
	if (caps & NETBE_CAP_UFO)
		f |= TUN_F_UFO;
	return (f);
}

/* Attach by name: nq descriptors (one if the interface has one). */
static int
tap_attach(struct tap_be *tb, const char *devname, const char *name,
    int nq)
{
	const short base = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	bool existed;
	int kind, i, fd;

	switch ((kind = tap_kind(name))) {
	case TAP_KIND_TUN:
		log_warnx("%s: tap %s: a tun (layer 3) interface, not a tap",
		    devname, name);
		return (-EINVAL);
	case TAP_KIND_OTHER:
		log_warnx("%s: tap %s: the interface is not a tap", devname,
		    name);
		return (-EINVAL);
	}
	existed = kind == TAP_KIND_TAP;
	/*
	 * A persistent tap's multi_queue flag must be asked for as it was
	 * made (tun_set_iff() says EINVAL otherwise): try the one wanted,
	 * then the other.
	 */
	tb->tb_mq = nq > 1;
	fd = tap_open_one(devname, name, base | (tb->tb_mq ? IFF_MULTI_QUEUE :
	    0), existed, existed);
	if (fd == -EINVAL && existed) {
		tb->tb_mq = !tb->tb_mq;
		fd = tap_open_one(devname, name, base | (tb->tb_mq ?
		    IFF_MULTI_QUEUE : 0), existed, false);
	}
	if (fd < 0)
		return (fd);
	tb->tb_q[0].fd = fd;
	tb->tb_nq = 1;
	for (i = 1; tb->tb_mq && i < nq; i++) {
		fd = tap_open_one(devname, name, base | IFF_MULTI_QUEUE, true,
		    false);
		if (fd < 0)
			return (fd);
		tb->tb_q[i].fd = fd;
		tb->tb_nq = i + 1;
	}
	tb->tb_vnet = true;
	(void)snprintf(tb->tb_name, sizeof(tb->tb_name), "%s", name);
	if (!existed)
		log_info("%s: tap %s: created; it goes away when khyve exits "
		    "and is down until the host configures it", devname, name);
	return (0);
}

/* fd=N[:N...]: descriptors already attached to a tap. */
static int
tap_adopt(struct tap_be *tb, const char *devname, const char *spec)
{
	struct ifreq ifr;
	const char *p = spec;
	char *end;
	long v;
	int i, fd, fl;

	for (i = 0; *p != '\0'; i++) {
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno != 0 || v < 0 || v > INT_MAX ||
		    (*end != '\0' && *end != ':') || (*end == ':' &&
		    end[1] == '\0') || !(*p >= '0' && *p <= '9')) {
			log_warnx("%s: fd=%s: want descriptor numbers "
			    "separated by ':'", devname, spec);
			return (-EINVAL);
		}
		if (i == TAP_MAXQ) {
			log_warnx("%s: fd=%s: more than %d descriptors",
			    devname, spec, TAP_MAXQ);
			return (-EINVAL);
		}
		fd = (int)v;
		p = *end == ':' ? end + 1 : end;
		memset(&ifr, 0, sizeof(ifr));
		if (fd <= 2 || fcntl(fd, F_GETFD) < 0 ||
		    ioctl(fd, TUNGETIFF, &ifr) < 0) {
			log_warnx("%s: fd=%d: not an open tap descriptor",
			    devname, fd);
			return (-EINVAL);
		}
		if ((ifr.ifr_flags & IFF_TAP) == 0 ||
		    (ifr.ifr_flags & IFF_NO_PI) == 0) {
			log_warnx("%s: fd=%d: %.*s was opened without IFF_TAP "
			    "and IFF_NO_PI", devname, fd, IFNAMSIZ,
			    ifr.ifr_name);
			return (-EINVAL);
		}
		if (i > 0 && (((ifr.ifr_flags & IFF_VNET_HDR) != 0) !=
		    tb->tb_vnet || strncmp(ifr.ifr_name, tb->tb_name,
		    IFNAMSIZ) != 0)) {
			log_warnx("%s: fd=%d: not the same tap, or not opened "
			    "the same way, as fd=%d", devname, fd,
			    tb->tb_q[0].fd);
			return (-EINVAL);
		}
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			log_warn("%s: fd=%d", devname, fd);
			return (-errno);
		}
		tb->tb_vnet = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
		tb->tb_mq = (ifr.ifr_flags & IFF_MULTI_QUEUE) != 0;
		(void)snprintf(tb->tb_name, sizeof(tb->tb_name), "%.*s",
		    IFNAMSIZ - 1, ifr.ifr_name);
		tb->tb_q[i].fd = fd;
		tb->tb_nq = i + 1;
	}
	if (tb->tb_nq == 0) {
		log_warnx("%s: fd=: no descriptor given", devname);
		return (-EINVAL);
	}
	return (0);
}

/*
 * vhost=true.  khyve's virtio-net keeps its queues in user space:
 * handing them to the kernel's vhost-net needs the rings, the guest's
 * memory map and the notify and interrupt eventfds of the transport, and
 * is not built.  The key is taken so that a bhyve or QEMU configuration
 * runs, and the user learns once which path the frames take.
 */
static int
tap_vhost(const char *devname, struct config_node *nvl)
{
	bool vhost;

	if (config_get_bool(nvl, "vhost", false, &vhost) != 0) {
		log_warnx("%s: vhost=%s: not a boolean", devname,
		    config_get(nvl, "vhost"));
		return (-EINVAL);
	}
	if (!vhost)
		return (0);
	if (access("/dev/vhost-net", R_OK | W_OK) != 0)
		log_warnx("%s: vhost=true: /dev/vhost-net: %s; frames take the "
		    "user-space path", devname, strerror(errno));
	else
		log_warnx("%s: vhost=true: khyve has no vhost-net data path; "
		    "frames take the user-space path", devname);
	return (0);
}

/* Free the buffers, and close the descriptors when closefds. */
static void
tap_close(struct tap_be *tb, bool closefds)
{
	int i;

	for (i = 0; i < TAP_MAXQ; i++) {
		if (closefds && tb->tb_q[i].fd >= 0)
			(void)close(tb->tb_q[i].fd);
		tb->tb_q[i].fd = -1;
		free(tb->tb_q[i].buf);
		tb->tb_q[i].buf = NULL;
	}
	tb->tb_nq = 0;
}

static void
tap_cleanup(struct net_backend *be)
{
	tap_close(be->be_priv, true);
}

static int
tap_init(struct net_backend *be, const char *devname, const char *name,
    struct config_node *nvl, int nqueues)
{
	struct tap_be *tb = be->be_priv;
	const char *ifname, *fds;
	int error, i;

	for (i = 0; i < TAP_MAXQ; i++)
		tb->tb_q[i].fd = -1;
	ifname = config_get(nvl, "ifname");
	fds = config_get(nvl, "fd");
	if (fds != NULL && ifname != NULL) {
		log_warnx("%s: fd= and ifname= name the tap twice", devname);
		return (-EINVAL);
	}
	if (strcmp(name, "tap") != 0 && (ifname != NULL || fds != NULL)) {
		log_warnx("%s: backend=%s with %s=: use backend=tap", devname,
		    name, fds != NULL ? "fd" : "ifname");
		return (-EINVAL);
	}
	if (strcmp(name, "tap") == 0 && ifname == NULL && fds == NULL) {
		log_warnx("%s: backend=tap: name the interface (tap0, or "
		    "ifname=NAME) or pass fd=N", devname);
		return (-EINVAL);
	}
	if (ifname == NULL)
		ifname = name;
	if (fds == NULL && !tap_name_ok(ifname)) {
		log_warnx("%s: tap %s: not an interface name (1 to %d "
		    "characters, no '/', ':' or blanks)", devname, ifname,
		    IFNAMSIZ - 1);
		return (-EINVAL);
	}
	if ((error = tap_vhost(devname, nvl)) != 0)
		return (error);
	nqueues = nqueues > TAP_MAXQ ? TAP_MAXQ : nqueues;
	error = fds != NULL ? tap_adopt(tb, devname, fds) :
	    tap_attach(tb, devname, ifname, nqueues);
	if (error != 0)
		goto fail;
	for (i = 0; i < tb->tb_nq; i++) {
		if ((tb->tb_q[i].buf = malloc(TAP_BUFLEN)) == NULL) {
			error = -ENOMEM;
			goto fail;
		}
	}
	if (tb->tb_vnet) {
		tb->tb_khdr = TAP_HDR_DEFAULT;
		for (i = 0; i < tb->tb_nq; i++) {
			if (ioctl(tb->tb_q[i].fd, TUNSETVNETHDRSZ,
			    &(int){ TAP_HDR_DEFAULT }) < 0) {
				error = -errno;
				log_warn("%s: tap %s: TUNSETVNETHDRSZ", devname,
				    tb->tb_name);
				goto fail;
			}
		}
		tb->tb_offl = tap_probe_offloads(tb->tb_q[0].fd);
	}
	log_info("%s: tap %s: %d queue%s, %s", devname, tb->tb_name,
	    tb->tb_nq, tb->tb_nq == 1 ? "" : "s", !tb->tb_vnet ?
	    "no virtio-net header" : tb->tb_offl != 0 ? "offloads" :
	    "no offloads");
	return (0);

fail:
	/* Adopted descriptors stay the manager's when we refuse them. */
	tap_close(tb, fds == NULL);
	return (error);
}

static int
tap_fd(struct net_backend *be, int q)
{
	struct tap_be *tb = be->be_priv;

	return (q >= 0 && q < tb->tb_nq ? tb->tb_q[q].fd : -1);
}

static uint32_t
tap_get_cap(struct net_backend *be)
{
	struct tap_be *tb = be->be_priv;

	if (!tb->tb_vnet)
		return (tb->tb_nq > 1 ? NETBE_CAP_MQ : 0);
	return (NETBE_CAP_VNET_HDR | tb->tb_offl |
	    (tb->tb_nq > 1 ? NETBE_CAP_MQ : 0));
}

static int
tap_set_cap(struct net_backend *be, uint32_t caps, unsigned hdrlen)
{
	struct tap_be *tb = be->be_priv;
	int i, sz = hdrlen != 0 ? (int)hdrlen : TAP_HDR_DEFAULT;

	if (!tb->tb_vnet)
		return (caps == 0 && hdrlen == 0 ? 0 : -EINVAL);
	for (i = 0; i < tb->tb_nq; i++) {
		if (ioctl(tb->tb_q[i].fd, TUNSETVNETHDRSZ, &sz) < 0 ||
		    ioctl(tb->tb_q[i].fd, TUNSETOFFLOAD,
		    tap_tunflags(caps & ~NETBE_CAP_MQ)) < 0)
			return (-errno);
		/* A frame read with the old header is not this one's. */
		tb->tb_q[i].len = 0;
	}
	tb->tb_khdr = (unsigned)sz;
	return (0);
}

/* A tap descriptor's error as the backend contract names it. */
static ssize_t
tap_err(int e)
{
	switch (e) {
	case EAGAIN:
	case EINTR:
	case ENOBUFS:
	case ENOMEM:
		return (-EAGAIN);
	case EBADFD:		/* the interface was deleted */
	case ENXIO:
	case ENODEV:
		return (-EPIPE);
	case EIO:		/* the link is down */
		return (-ENETDOWN);
	default:
		return (-e);
	}
}

static ssize_t
tap_send(struct net_backend *be, int q, const struct iovec *iov,
    int iovcnt)
{
	struct tap_be *tb = be->be_priv;
	static const uint8_t zhdr[NETBE_VNET_HDR_LEN];
	struct iovec v[TAP_IOV_MAX + 1];
	ssize_t n;

	if (q < 0 || q >= tb->tb_nq)
		return (-EINVAL);
	if (tb->tb_khdr == be->be_hdrlen) {
		n = writev(tb->tb_q[q].fd, iov, iovcnt);
		return (n < 0 ? tap_err(errno) : n);
	}
	/* Bare frames from the device, the kernel's header from us. */
	if (iovcnt > TAP_IOV_MAX)
		return (-EMSGSIZE);
	v[0].iov_base = (void *)(uintptr_t)zhdr;
	v[0].iov_len = tb->tb_khdr;
	memcpy(v + 1, iov, (size_t)iovcnt * sizeof(*iov));
	n = writev(tb->tb_q[q].fd, v, iovcnt + 1);
	if (n < 0)
		return (tap_err(errno));
	return (n >= (ssize_t)tb->tb_khdr ? n - (ssize_t)tb->tb_khdr : 0);
}

/* The frame waiting on queue q, read into its buffer: as for peek. */
static ssize_t
tap_fill(struct tap_be *tb, struct tap_q *tq)
{
	ssize_t n;

	while (tq->len == 0) {
		n = read(tq->fd, tq->buf, TAP_BUFLEN);
		if (n < 0)
			return (tap_err(errno) == -EAGAIN ? 0 :
			    tap_err(errno));
		if (n == 0)
			return (-EPIPE);
		/* Nothing real is shorter than the header and a MAC. */
		if ((size_t)n > tb->tb_khdr)
			tq->len = (size_t)n;
	}
	return ((ssize_t)tq->len);
}

static ssize_t
tap_peek_recvlen(struct net_backend *be, int q)
{
	struct tap_be *tb = be->be_priv;
	ssize_t n;

	if (q < 0 || q >= tb->tb_nq)
		return (-EINVAL);
	n = tap_fill(tb, &tb->tb_q[q]);
	if (n <= 0)
		return (n);
	return (n - (ssize_t)tb->tb_khdr + (ssize_t)be->be_hdrlen);
}

static ssize_t
tap_recv(struct net_backend *be, int q, const struct iovec *iov,
    int iovcnt)
{
	struct tap_be *tb = be->be_priv;
	struct tap_q *tq;
	size_t skip, len;
	ssize_t n;

	if (q < 0 || q >= tb->tb_nq)
		return (-EINVAL);
	tq = &tb->tb_q[q];
	if ((n = tap_fill(tb, tq)) <= 0)
		return (n);
	/* With the device's header, or without any: skip the difference. */
	skip = tb->tb_khdr - be->be_hdrlen;
	len = tq->len - skip;
	tq->len = 0;
	if (buf_to_iov(iov, (unsigned)iovcnt, 0, tq->buf + skip, len) != len)
		return (-EMSGSIZE);
	return ((ssize_t)len);
}

const struct net_beops net_tap_beops = {
	.nb_name = "tap",
	.nb_priv = sizeof(struct tap_be),
	.nb_match = tap_match,
	.nb_init = tap_init,
	.nb_cleanup = tap_cleanup,
	.nb_fd = tap_fd,
	.nb_send = tap_send,
	.nb_peek_recvlen = tap_peek_recvlen,
	.nb_recv = tap_recv,
	.nb_get_cap = tap_get_cap,
	.nb_set_cap = tap_set_cap,
};
NET_BACKEND_SET(net_tap_beops);
