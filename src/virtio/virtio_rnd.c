/*
 * virtio_rnd.c: the entropy device (virtio 1.2 §5.4; bhyve's
 * pci_virtio_rnd.c), the smallest virtio device and the worked example
 * of docs/devices.md.
 *
 * One queue of device-writable buffers, filled from getrandom(2).  Each
 * request gets at most VRND_REQ_MAX bytes (Firecracker's bound), so a
 * guest cannot make one request cost the host more than that.  With
 * rate=BYTES (per second) a token bucket holding one second's worth
 * limits the total: a request the bucket cannot cover waits on the ring
 * (vq_retchain) until a timer says there are tokens again.  A chain
 * with device-readable buffers is a driver error (§5.4.6.1: "The driver
 * MUST NOT place driver-readable buffers into the queue"): it is
 * completed with nothing written.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "log.h"
#include "pci/pci_emul.h"
#include "virtio/virtio.h"

#define VRND_QSIZE	64		/* bhyve's queue size */
#define VRND_REQ_MAX	(64 * 1024)	/* bytes per request */
#define VRND_NIOV	64

struct vrnd_softc {
	struct virtio_softc vr_vs;
	uint64_t	vr_rate;	/* bytes per second; 0: no limit */
	uint64_t	vr_tokens;	/* bytes that may be given now */
	struct timespec	vr_refill;	/* when tokens were last added */
	int		vr_timerfd;	/* wakes a request waiting for tokens */
	bool		vr_waiting;
	uint64_t	vr_bytes;	/* given so far */
};

static void
vrnd_refill(struct vrnd_softc *sc)
{
	struct timespec now;
	uint64_t ns, add;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)(now.tv_sec - sc->vr_refill.tv_sec) * 1000000000ULL +
	    (uint64_t)now.tv_nsec - (uint64_t)sc->vr_refill.tv_nsec;
	add = ns / 1000 * sc->vr_rate / 1000000;
	if (add == 0)
		return;
	sc->vr_tokens = MIN(sc->vr_tokens + add, sc->vr_rate);
	sc->vr_refill = now;
}

/* Wake up when n more bytes' worth of tokens have accrued. */
static void
vrnd_wait(struct vrnd_softc *sc, uint64_t n)
{
	struct itimerspec its;
	uint64_t ns;

	ns = (n * 1000000000ULL) / sc->vr_rate + 1;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(ns / 1000000000ULL);
	its.it_value.tv_nsec = (long)(ns % 1000000000ULL);
	(void)timerfd_settime(sc->vr_timerfd, 0, &its, NULL);
	sc->vr_waiting = true;
}

/* Fill the writable iovecs with up to max random bytes; the count. */
static size_t
vrnd_fill(const struct iovec *iov, unsigned n, size_t max)
{
	size_t done = 0, len, off;
	ssize_t r;
	unsigned i;

	for (i = 0; i < n && done < max; i++) {
		len = MIN(iov[i].iov_len, max - done);
		for (off = 0; off < len; off += (size_t)r, done += (size_t)r) {
			r = getrandom((uint8_t *)iov[i].iov_base + off,
			    len - off, 0);
			if (r <= 0)
				return (done);
		}
	}
	return (done);
}

static void
vrnd_notify(void *arg, int qidx)
{
	struct vrnd_softc *sc = arg;
	struct vqueue *vq = virtio_vq(&sc->vr_vs, 0);
	struct iovec iov[VRND_NIOV];
	struct vq_req req;
	size_t want, got;
	int n;

	if (sc->vr_waiting)
		return;			/* the timer will call again */
	while ((n = vq_getchain(vq, iov, nitems(iov), &req)) > 0) {
		if (req.vr_nread != 0) {
			vq_relchain(vq, &req, 0);
			continue;
		}
		want = (size_t)MIN(req.vr_wbytes, VRND_REQ_MAX);
		if (sc->vr_rate != 0) {
			vrnd_refill(sc);
			if (sc->vr_tokens == 0) {
				vq_retchain(vq, &req);
				vrnd_wait(sc, MIN(want, sc->vr_rate));
				break;
			}
			want = (size_t)MIN(want, sc->vr_tokens);
		}
		got = vrnd_fill(iov + req.vr_nread, req.vr_nwrite, want);
		if (sc->vr_rate != 0)
			sc->vr_tokens -= got;
		sc->vr_bytes += got;
		vq_relchain(vq, &req, (uint32_t)got);
	}
	if (n < 0)
		virtio_needs_reset(&sc->vr_vs, 0);
	if (vq_endchains(vq))
		virtio_vq_interrupt(&sc->vr_vs, 0);
}

static void
vrnd_timer(void *arg, int fd)
{
	struct vrnd_softc *sc = arg;
	uint64_t n;

	(void)!read(fd, &n, sizeof(n));
	sc->vr_waiting = false;
	vrnd_notify(sc, 0);
}

static void
vrnd_reset(void *arg)
{
	struct vrnd_softc *sc = arg;
	struct itimerspec off;

	memset(&off, 0, sizeof(off));
	(void)timerfd_settime(sc->vr_timerfd, 0, &off, NULL);
	sc->vr_waiting = false;
}

static const struct virtio_devops vrnd_ops = {
	.vd_name = "virtio-rnd",
	.vd_type = VIRTIO_ID_ENTROPY,
	.vd_class = 0xff,		/* "other" (QEMU uses the same) */
	.vd_subclass = 0x00,
	.vd_reset = vrnd_reset,
	.vd_notify = vrnd_notify,
};

static int
vrnd_init(struct pci_devinst *pi, struct config_node *nvl)
{
	struct vrnd_softc *sc;
	int error;

	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return (-ENOMEM);
	if (config_get_uint64(nvl, "rate", 0, &sc->vr_rate) != 0) {
		log_warnx("%s: rate=%s: want bytes per second", pi->pi_name,
		    config_get(nvl, "rate"));
		free(sc);
		return (-EINVAL);
	}
	sc->vr_tokens = sc->vr_rate;
	clock_gettime(CLOCK_MONOTONIC, &sc->vr_refill);
	sc->vr_timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC |
	    TFD_NONBLOCK);
	if (sc->vr_timerfd < 0) {
		error = -errno;
		free(sc);
		return (error);
	}
	error = virtio_pci_init(&sc->vr_vs, pi, nvl, &vrnd_ops, sc, 1,
	    VRND_QSIZE, 0, NULL, 0);
	if (error == 0 && (error = virtio_worker_add_fd(&sc->vr_vs,
	    sc->vr_timerfd, vrnd_timer)) != 0)
		log_warnx("%s: cannot set up: %s", pi->pi_name,
		    strerror(-error));
	if (error != 0) {
		/* The transport undoes as much as it had set up. */
		virtio_pci_fini(&sc->vr_vs);
		close(sc->vr_timerfd);
		free(sc);
		pi->pi_arg = NULL;
	}
	return (error);
}

/* pci_fini: the worker stops before the timer it waits on is closed. */
static void
vrnd_fini(struct pci_devinst *pi)
{
	struct virtio_softc *vs = pi->pi_arg;
	struct vrnd_softc *sc;

	if (vs == NULL)
		return;
	sc = vs->vs_dev;
	virtio_pci_fini(&sc->vr_vs);
	close(sc->vr_timerfd);
	free(sc);
	pi->pi_arg = NULL;
}

const struct pci_devemu pci_de_vrnd = {
	.pe_emu = "virtio-rnd",
	.pe_init = vrnd_init,
	.pe_fini = vrnd_fini,
	VIRTIO_PCI_HOOKS,
};
PCI_EMUL_SET(pci_de_vrnd);
