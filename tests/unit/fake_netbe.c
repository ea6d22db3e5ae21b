/*
 * fake_netbe.c: the "fake" network backend of fake_netbe.h.  All state
 * is under one mutex: the test thread pushes frames while the device's
 * worker takes them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "config.h"
#include "fake_netbe.h"
#include "log.h"

struct fake_frame {
	uint8_t		*data;
	size_t		len;
	int		q;
};

struct fake_netbe {
	pthread_mutex_t	mtx;
	int		nq;
	int		efd[FAKE_NETBE_QMAX];
	bool		signalled[FAKE_NETBE_QMAX];
	struct fake_frame rx[FAKE_NETBE_QMAX][FAKE_NETBE_RXMAX];
	unsigned	rxhead[FAKE_NETBE_QMAX], rxcnt[FAKE_NETBE_QMAX];
	struct fake_frame tx[FAKE_NETBE_TXMAX];
	unsigned	ntx;
	uint32_t	caps;
	bool		shared, quiet, refuse, full, gone;
	struct fake_netbe_calls calls;
};

static struct fake_netbe *fake_last;

/* The eventfd of q readable iff frames wait on a queue using it. */
static void
fb_signal(struct fake_netbe *fb)
{
	uint64_t v = 1;
	bool want;
	int q, i;

	for (q = 0; q < fb->nq; q++) {
		if (fb->shared && q > 0)
			break;
		want = fb->gone;
		for (i = 0; i < fb->nq; i++)
			if ((fb->shared || i == q) && fb->rxcnt[i] > 0)
				want = true;
		if (fb->quiet || want == fb->signalled[q])
			continue;
		if (want)
			(void)!write(fb->efd[q], &v, sizeof(v));
		else
			(void)!read(fb->efd[q], &v, sizeof(v));
		fb->signalled[q] = want;
	}
}

static int
fb_init(struct net_backend *be, const char *devname, const char *name,
    struct config_node *nvl, int nqueues)
{
	struct fake_netbe *fb;
	uint64_t caps, nq;
	int q;

	if (config_get(nvl, "fake_bad") != NULL) {
		log_warnx("%s: fake_bad=%s: refused", devname,
		    config_get(nvl, "fake_bad"));
		return (-EINVAL);
	}
	if (config_get_uint64(nvl, "fake_caps", 0, &caps) != 0 ||
	    config_get_uint64(nvl, "fake_queues", FAKE_NETBE_QMAX, &nq) != 0 ||
	    nq < 1) {
		log_warnx("%s: fake_caps or fake_queues: not a number", devname);
		return (-EINVAL);
	}
	fb = calloc(1, sizeof(*fb));
	if (fb == NULL)
		return (-ENOMEM);
	pthread_mutex_init(&fb->mtx, NULL);
	fb->caps = (uint32_t)caps;
	fb->shared = config_bool(nvl, "fake_shared", false);
	fb->quiet = config_bool(nvl, "fake_quiet", false);
	fb->refuse = config_bool(nvl, "fake_refuse", false);
	fb->nq = (int)MIN((uint64_t)nqueues, MIN(nq, FAKE_NETBE_QMAX));
	if ((fb->caps & NETBE_CAP_MQ) == 0)
		fb->nq = 1;
	for (q = 0; q < fb->nq; q++) {
		fb->efd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fb->efd[q] < 0)
			abort();
	}
	be->be_nqueues = fb->nq;
	*(struct fake_netbe **)be->be_priv = fb;
	fake_last = fb;
	return (0);
}

static struct fake_netbe *
fb_of(struct net_backend *be)
{
	return (*(struct fake_netbe **)be->be_priv);
}

static void
fb_free_frames(struct fake_netbe *fb)
{
	unsigned i, q;

	for (q = 0; q < FAKE_NETBE_QMAX; q++) {
		for (i = 0; i < fb->rxcnt[q]; i++)
			free(fb->rx[q][(fb->rxhead[q] + i) % FAKE_NETBE_RXMAX].data);
		fb->rxcnt[q] = fb->rxhead[q] = 0;
	}
	for (i = 0; i < fb->ntx; i++)
		free(fb->tx[i].data);
	fb->ntx = 0;
}

static void
fb_cleanup(struct net_backend *be)
{
	struct fake_netbe *fb = fb_of(be);
	int q;

	fb_free_frames(fb);
	for (q = 0; q < fb->nq; q++)
		close(fb->efd[q]);
	pthread_mutex_destroy(&fb->mtx);
	if (fake_last == fb)
		fake_last = NULL;
	free(fb);
}

static int
fb_fd(struct net_backend *be, int q)
{
	struct fake_netbe *fb = fb_of(be);

	if (q < 0 || q >= fb->nq)
		return (-1);
	return (fb->efd[fb->shared ? 0 : q]);
}

static ssize_t
fb_send(struct net_backend *be, int q, const struct iovec *iov, int iovcnt)
{
	struct fake_netbe *fb = fb_of(be);
	struct fake_frame *f;
	size_t len = 0, off = 0;
	ssize_t r;
	int i;

	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	pthread_mutex_lock(&fb->mtx);
	fb->calls.sends++;
	if (fb->gone)
		r = -EPIPE;
	else if (fb->full)
		r = -EAGAIN;
	else if (fb->ntx == FAKE_NETBE_TXMAX)
		r = (ssize_t)len;	/* taken, not recorded */
	else {
		f = &fb->tx[fb->ntx];
		f->data = malloc(len);
		if (f->data == NULL)
			abort();
		for (i = 0; i < iovcnt; i++) {
			if (iov[i].iov_len > 0)
				memcpy(f->data + off, iov[i].iov_base,
				    iov[i].iov_len);
			off += iov[i].iov_len;
		}
		f->len = len;
		f->q = q;
		fb->ntx++;
		r = (ssize_t)len;
	}
	pthread_mutex_unlock(&fb->mtx);
	return (r);
}

static ssize_t
fb_peek(struct net_backend *be, int q)
{
	struct fake_netbe *fb = fb_of(be);
	ssize_t r;

	pthread_mutex_lock(&fb->mtx);
	fb->calls.peeks++;
	if (fb->gone)
		r = -EPIPE;
	else if (q < 0 || q >= fb->nq || fb->rxcnt[q] == 0)
		r = 0;
	else
		r = (ssize_t)fb->rx[q][fb->rxhead[q]].len;
	pthread_mutex_unlock(&fb->mtx);
	return (r);
}

static ssize_t
fb_recv(struct net_backend *be, int q, const struct iovec *iov, int iovcnt)
{
	struct fake_netbe *fb = fb_of(be);
	struct fake_frame *f;
	size_t off = 0, n;
	ssize_t r;
	int i;

	pthread_mutex_lock(&fb->mtx);
	fb->calls.recvs++;
	if (fb->gone) {
		pthread_mutex_unlock(&fb->mtx);
		return (-EPIPE);
	}
	if (q < 0 || q >= fb->nq || fb->rxcnt[q] == 0) {
		pthread_mutex_unlock(&fb->mtx);
		return (0);
	}
	f = &fb->rx[q][fb->rxhead[q]];
	for (i = 0; i < iovcnt && off < f->len; i++) {
		n = MIN(iov[i].iov_len, f->len - off);
		if (n > 0)
			memcpy(iov[i].iov_base, f->data + off, n);
		off += n;
	}
	r = off < f->len ? -EMSGSIZE : (ssize_t)f->len;
	free(f->data);
	fb->rxhead[q] = (fb->rxhead[q] + 1) % FAKE_NETBE_RXMAX;
	fb->rxcnt[q]--;
	fb_signal(fb);
	pthread_mutex_unlock(&fb->mtx);
	return (r);
}

static uint32_t
fb_get_cap(struct net_backend *be)
{
	return (fb_of(be)->caps);
}

static int
fb_set_cap(struct net_backend *be, uint32_t caps, unsigned hdrlen)
{
	struct fake_netbe *fb = fb_of(be);

	pthread_mutex_lock(&fb->mtx);
	fb->calls.set_caps++;
	if (fb->refuse && hdrlen != 0) {
		pthread_mutex_unlock(&fb->mtx);
		return (-EINVAL);
	}
	fb->calls.caps = caps;
	fb->calls.hdrlen = hdrlen;
	pthread_mutex_unlock(&fb->mtx);
	return (0);
}

const struct net_beops fake_netbe_ops = {
	.nb_name = "fake",
	.nb_priv = sizeof(struct fake_netbe *),
	.nb_init = fb_init,
	.nb_cleanup = fb_cleanup,
	.nb_fd = fb_fd,
	.nb_send = fb_send,
	.nb_peek_recvlen = fb_peek,
	.nb_recv = fb_recv,
	.nb_get_cap = fb_get_cap,
	.nb_set_cap = fb_set_cap,
};
NET_BACKEND_SET(fake_netbe_ops);

struct fake_netbe *
fake_netbe_last(void)
{
	return (fake_last);
}

struct fake_netbe *
fake_netbe_of(struct net_backend *be)
{
	return (be != NULL && be->be_ops == &fake_netbe_ops ? fb_of(be) : NULL);
}

int
fake_netbe_push(struct fake_netbe *fb, int q, const void *frame, size_t len)
{
	struct fake_frame *f;
	int error = 0;

	pthread_mutex_lock(&fb->mtx);
	if (q < 0 || q >= fb->nq || fb->rxcnt[q] == FAKE_NETBE_RXMAX)
		error = -ENOSPC;
	else {
		f = &fb->rx[q][(fb->rxhead[q] + fb->rxcnt[q]) % FAKE_NETBE_RXMAX];
		f->data = malloc(len > 0 ? len : 1);
		if (f->data == NULL)
			abort();
		memcpy(f->data, frame, len);
		f->len = len;
		f->q = q;
		fb->rxcnt[q]++;
		fb_signal(fb);
	}
	pthread_mutex_unlock(&fb->mtx);
	return (error);
}

unsigned
fake_netbe_pending(struct fake_netbe *fb, int q)
{
	unsigned n;

	pthread_mutex_lock(&fb->mtx);
	n = q >= 0 && q < fb->nq ? fb->rxcnt[q] : 0;
	pthread_mutex_unlock(&fb->mtx);
	return (n);
}

void
fake_netbe_set_full(struct fake_netbe *fb, bool full)
{
	pthread_mutex_lock(&fb->mtx);
	fb->full = full;
	pthread_mutex_unlock(&fb->mtx);
}

void
fake_netbe_set_gone(struct fake_netbe *fb)
{
	pthread_mutex_lock(&fb->mtx);
	fb->gone = true;
	fb_signal(fb);
	pthread_mutex_unlock(&fb->mtx);
}

unsigned
fake_netbe_tx_count(struct fake_netbe *fb)
{
	unsigned n;

	pthread_mutex_lock(&fb->mtx);
	n = fb->ntx;
	pthread_mutex_unlock(&fb->mtx);
	return (n);
}

size_t
fake_netbe_tx_frame(struct fake_netbe *fb, unsigned i, void *buf, size_t max,
    int *q)
{
	size_t len = 0;

	pthread_mutex_lock(&fb->mtx);
	if (i < fb->ntx) {
		len = fb->tx[i].len;
		memcpy(buf, fb->tx[i].data, MIN(len, max));
		if (q != NULL)
			*q = fb->tx[i].q;
	}
	pthread_mutex_unlock(&fb->mtx);
	return (len);
}

void
fake_netbe_clear(struct fake_netbe *fb)
{
	pthread_mutex_lock(&fb->mtx);
	fb_free_frames(fb);
	fb_signal(fb);
	pthread_mutex_unlock(&fb->mtx);
}

int
fake_netbe_fd(struct fake_netbe *fb, int q)
{
	return (fb->efd[fb->shared ? 0 : q]);
}

int
fake_netbe_nqueues(struct fake_netbe *fb)
{
	return (fb->nq);
}

void
fake_netbe_calls(struct fake_netbe *fb, struct fake_netbe_calls *c)
{
	pthread_mutex_lock(&fb->mtx);
	*c = fb->calls;
	pthread_mutex_unlock(&fb->mtx);
}
