/*
 * net_backend.c: finding a network backend by name and the checks every
 * backend shares (bhyve's net_backends.c, netbe_init() and friends).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend/net_backend.h"
#include "config.h"
#include "log.h"

static const struct net_beops *
netbe_find(const char *name)
{
	const struct net_beops *const *pp, *ops;

	SET_FOREACH(pp, net_backend_set) {
		ops = *pp;
		if (ops->nb_match != NULL ? ops->nb_match(name) :
		    strcmp(ops->nb_name, name) == 0)
			return (ops);
	}
	return (NULL);
}

void
netbe_list(char *buf, size_t len)
{
	const struct net_beops *const *pp;
	size_t off = 0;
	int n;

	if (len == 0)
		return;
	buf[0] = '\0';
	SET_FOREACH(pp, net_backend_set) {
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		    (*pp)->nb_name);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
}

int
netbe_init(struct net_backend **bep, const char *devname,
    struct config_node *nvl, int nqueues)
{
	const struct net_beops *ops;
	struct net_backend *be;
	const char *name;
	char names[128];
	int error;

	*bep = NULL;
	name = config_get(nvl, "backend");
	if (name == NULL || name[0] == '\0') {
		netbe_list(names, sizeof(names));
		log_warnx("%s: no backend given (one of: %s)", devname, names);
		return (-EINVAL);
	}
	if ((ops = netbe_find(name)) == NULL) {
		netbe_list(names, sizeof(names));
		log_warnx("%s: backend=%s: no such network backend (one of: %s)",
		    devname, name, names);
		return (-EINVAL);
	}
	be = calloc(1, sizeof(*be));
	if (be == NULL)
		return (-ENOMEM);
	if (ops->nb_priv != 0 && (be->be_priv = calloc(1, ops->nb_priv)) ==
	    NULL) {
		free(be);
		return (-ENOMEM);
	}
	be->be_ops = ops;
	be->be_devname = devname;
	be->be_nqueues = nqueues < 1 ? 1 : nqueues;
	error = ops->nb_init(be, devname, name, nvl, be->be_nqueues);
	if (error != 0) {
		free(be->be_priv);
		free(be);
		return (error);
	}
	if ((netbe_get_cap(be) & NETBE_CAP_MQ) == 0)
		be->be_nqueues = 1;
	*bep = be;
	return (0);
}

void
netbe_cleanup(struct net_backend *be)
{
	if (be == NULL)
		return;
	be->be_ops->nb_cleanup(be);
	free(be->be_priv);
	free(be);
}

int
netbe_nqueues(const struct net_backend *be)
{
	return (be->be_nqueues);
}

uint32_t
netbe_get_cap(struct net_backend *be)
{
	return (be->be_ops->nb_get_cap != NULL ? be->be_ops->nb_get_cap(be) :
	    0);
}

int
netbe_set_cap(struct net_backend *be, uint32_t caps, unsigned hdrlen)
{
	uint32_t have = netbe_get_cap(be);
	int error;

	if (hdrlen != 0 && hdrlen != NETBE_VNET_HDR_LEN &&
	    hdrlen != NETBE_VNET_HDR_MRG_LEN)
		return (-EINVAL);
	if ((caps & ~have) != 0 || (hdrlen != 0 &&
	    (have & NETBE_CAP_VNET_HDR) == 0))
		return (-EINVAL);
	if (be->be_ops->nb_set_cap == NULL) {
		if (caps != 0 || hdrlen != 0)
			return (-EINVAL);
	} else if ((error = be->be_ops->nb_set_cap(be, caps, hdrlen)) != 0)
		return (error);
	be->be_caps = caps;
	be->be_hdrlen = hdrlen;
	return (0);
}

unsigned
netbe_hdrlen(const struct net_backend *be)
{
	return (be->be_hdrlen);
}

int
netbe_fd(struct net_backend *be, int q)
{
	return (be->be_ops->nb_fd(be, q));
}

/* A frame's length: header plus frame, saturating. */
static size_t
netbe_iovlen(const struct iovec *iov, int iovcnt)
{
	size_t len = 0;
	int i;

	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SIZE_MAX - len)
			return (SIZE_MAX);
		len += iov[i].iov_len;
	}
	return (len);
}

ssize_t
netbe_send(struct net_backend *be, int q, const struct iovec *iov,
    int iovcnt)
{
	struct netbe_stats *st = &be->be_stats;
	size_t len = netbe_iovlen(iov, iovcnt);
	ssize_t r;

	if (be->be_gone)
		r = -EPIPE;
	else if (len <= be->be_hdrlen || len - be->be_hdrlen > NETBE_FRAME_MAX)
		r = -EMSGSIZE;
	else
		r = be->be_ops->nb_send(be, q, iov, iovcnt);
	if (r < 0) {
		st->ns_tx_dropped++;
		return (r);
	}
	st->ns_tx_frames++;
	st->ns_tx_bytes += (uint64_t)r;
	return (r);
}

/* A backend said it is gone: remember, and say it once. */
static ssize_t
netbe_rxerr(struct net_backend *be, ssize_t r)
{
	if (r == -EPIPE && !be->be_gone) {
		be->be_gone = true;
		log_warnx("%s: backend %s is gone: no more frames", be->be_devname,
		    be->be_ops->nb_name);
	}
	return (r);
}

ssize_t
netbe_peek_recvlen(struct net_backend *be, int q)
{
	ssize_t r;

	if (be->be_gone)
		return (-EPIPE);
	r = be->be_ops->nb_peek_recvlen(be, q);
	return (r < 0 ? netbe_rxerr(be, r) : r);
}

ssize_t
netbe_recv(struct net_backend *be, int q, const struct iovec *iov,
    int iovcnt)
{
	struct netbe_stats *st = &be->be_stats;
	ssize_t r;

	if (be->be_gone)
		return (-EPIPE);
	r = be->be_ops->nb_recv(be, q, iov, iovcnt);
	if (r == -EMSGSIZE)
		st->ns_rx_dropped++;
	if (r < 0)
		return (netbe_rxerr(be, r));
	if (r > 0) {
		st->ns_rx_frames++;
		st->ns_rx_bytes += (uint64_t)r;
	}
	return (r);
}

const struct netbe_stats *
netbe_stats(const struct net_backend *be)
{
	return (&be->be_stats);
}

ssize_t
netbe_sockerr(int e)
{
	switch (e) {
	case EAGAIN:
	case ENOBUFS:
	case EINTR:
		return (-EAGAIN);
	case EPIPE:
	case ECONNRESET:
	case ENOTCONN:
		return (-EPIPE);
	default:
		return (-e);
	}
}
