/*
 * virtio_pci.c: the virtio PCI transport, common part (virtio 1.2 §4.1;
 * bhyve's virtio.c): identity and BARs, feature negotiation, status and
 * reset, queue set-up, interrupts, and the worker thread that serves
 * queue notifications off the vCPU threads.
 *
 * Notifications.  Each queue has an eventfd.  KVM signals it directly
 * when the driver writes the queue's notify register (an ioeventfd on the
 * modern notify address and, datamatched on the queue index, on the
 * legacy QUEUE_NOTIFY port), so the vCPU never waits for the device; a
 * notify that reaches the bus anyway (no ioeventfd) signals it by hand.
 * The worker sleeps in epoll on those eventfds and the device's own fds
 * (a disk's completions), and calls the device under vs_mtx.
 *
 * Teardown (virtio_pci_fini, for pci_fini in tests and fuzz targets):
 * the worker is told to stop through vs_stopfd and joined, then the
 * transport's fds are closed; the device closes its own backend after.
 *
 * Reset (status 0) runs on the vCPU thread that wrote it, under vs_mtx:
 * the device finishes or cancels what it has in flight (vd_reset), then
 * every queue is reset, which bumps its generation so that a completion
 * still on its way is dropped (virtqueue.h).  The driver sees status 0
 * only after all of that (§4.1.4.3.2: it must read 0 back before going
 * on).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "config.h"
#include "log.h"
#include "sandbox.h"
#include "virtio/virtio.h"
#include "virtio/virtio_impl.h"

#define VIRTIO_VENDOR		0x1af4
#define VIRTIO_DEV_LEGACY_BASE	0x1000	/* transitional: 0x1000 + id */
#define VIRTIO_DEV_MODERN_BASE	0x1040	/* modern: 0x1040 + type */

struct virtio_worker_fd {
	int		wf_fd;
	void		(*wf_cb)(void *dev, int fd);
	bool		wf_off;		/* taken out of the epoll set */
	struct virtio_worker_fd *wf_next;
};

/* The transitional PCI device ID of a device type (§4.1.2.1). */
static int
virtio_legacy_devid(uint16_t type)
{
	switch (type) {
	case VIRTIO_ID_NET:
		return (VIRTIO_DEV_LEGACY_BASE + 0);
	case VIRTIO_ID_BLOCK:
		return (VIRTIO_DEV_LEGACY_BASE + 1);
	case VIRTIO_ID_CONSOLE:
		return (VIRTIO_DEV_LEGACY_BASE + 3);
	case VIRTIO_ID_ENTROPY:
		return (VIRTIO_DEV_LEGACY_BASE + 5);
	default:
		return (-1);
	}
}

uint16_t
virtio_msix_vector(struct virtio_softc *vs, uint16_t v)
{
	/* A vector the table does not have is refused (§4.1.4.3). */
	if (v != VIRTIO_MSI_NO_VECTOR && (!vs->vs_use_msix ||
	    v >= vs->vs_pi->pi_msix.table_count))
		return (VIRTIO_MSI_NO_VECTOR);
	return (v);
}

static void
virtio_intr(struct virtio_softc *vs, uint16_t vector, uint8_t isr)
{
	struct pci_devinst *pi = vs->vs_pi;

	if (vs->vs_use_msix && pci_msix_enabled(pi)) {
		if (vector != VIRTIO_MSI_NO_VECTOR)
			pci_generate_msix(pi, vector);
		return;
	}
	vs->vs_isr |= isr;
	if (pci_msi_enabled(pi))
		pci_generate_msi(pi, 0);
	else
		pci_lintr_assert(pi);
}

void
virtio_vq_interrupt(struct virtio_softc *vs, int q)
{
	virtio_intr(vs, vs->vs_queues[q].msix_vector, VIRTIO_ISR_QUEUE);
}

void
virtio_config_changed(struct virtio_softc *vs)
{
	vs->vs_cfg_gen++;
	virtio_intr(vs, vs->vs_msix_config, VIRTIO_ISR_CONFIG);
}

void
virtio_needs_reset(struct virtio_softc *vs, int q)
{
	const struct vqueue *vq = virtio_vq(vs, q);

	/* The core has logged the rule broken (once per queue). */
	if (!vs->vs_needs_reset_logged) {
		vs->vs_needs_reset_logged = true;
		log_warnx_rl("%s: queue %d: %s: device needs reset",
		    vs->vs_pi->pi_name, q, vq_rule_name(vq->vq_rule));
	}
	if ((vs->vs_status & VIRTIO_S_NEEDS_RESET) == 0) {
		vs->vs_status |= VIRTIO_S_NEEDS_RESET;
		/* Only a driver that got going can be told (§2.1.2). */
		if (vs->vs_status & VIRTIO_S_DRIVER_OK)
			virtio_config_changed(vs);
	}
}

uint8_t
virtio_read_isr(struct virtio_softc *vs)
{
	uint8_t v = vs->vs_isr;

	/* Reading the ISR acknowledges it and lowers INTx (§4.1.4.5). */
	vs->vs_isr = 0;
	pci_lintr_deassert(vs->vs_pi);
	return (v);
}

static void
virtio_reset(struct virtio_softc *vs)
{
	struct virtio_queue *q;
	int i;

	vs->vs_ops->vd_reset(vs->vs_dev);
	for (i = 0; i < vs->vs_nqueues; i++) {
		q = &vs->vs_queues[i];
		vq_reset(&q->vq);
		q->size = vs->vs_qsize_max;
		q->msix_vector = VIRTIO_MSI_NO_VECTOR;
		q->enabled = false;
		q->desc = q->avail = q->used = 0;
		q->legacy_pfn = 0;
	}
	vs->vs_negotiated = 0;
	vs->vs_status = 0;
	vs->vs_msix_config = VIRTIO_MSI_NO_VECTOR;
	vs->vs_dfselect = vs->vs_gfselect = 0;
	vs->vs_qsel = 0;
	vs->vs_needs_reset_logged = false;
	(void)virtio_read_isr(vs);
}

/*
 * Status writes (§2.1, §3.1.1).  The driver only adds bits; 0 resets.
 * FEATURES_OK is refused (the bit stays clear, which the driver checks)
 * unless the accepted features are a subset of the offered ones and,
 * through the modern interface, include VERSION_1 (§6.1).
 */
void
virtio_set_status(struct virtio_softc *vs, uint8_t val, bool modern)
{
	uint8_t add;

	if (val == 0) {
		virtio_reset(vs);
		return;
	}
	add = val & ~vs->vs_status;
	if (add & VIRTIO_S_FEATURES_OK) {
		if ((vs->vs_negotiated & ~vs->vs_features) != 0 ||
		    (modern && !(vs->vs_negotiated & VIRTIO_F_VERSION_1)))
			val &= ~VIRTIO_S_FEATURES_OK;
		else if (vs->vs_ops->vd_features != NULL)
			vs->vs_ops->vd_features(vs->vs_dev, vs->vs_negotiated);
	}
	vs->vs_status = (uint8_t)((vs->vs_status | val) |
	    (vs->vs_status & VIRTIO_S_NEEDS_RESET));
	/* Work the driver queued before DRIVER_OK is looked at now. */
	if (add & VIRTIO_S_DRIVER_OK) {
		int i;

		for (i = 0; i < vs->vs_nqueues; i++)
			if (vs->vs_queues[i].enabled)
				virtio_requeue(vs, i);
	}
}

void
virtio_queue_enable(struct virtio_softc *vs, int q)
{
	struct virtio_queue *vq = &vs->vs_queues[q];
	int error;

	if (vq->enabled)
		return;
	error = vq_init(&vq->vq, vs->vs_pi->pi_ctx->dc_mem, vq->size,
	    vq->desc, vq->avail, vq->used, vs->vs_negotiated &
	    (VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX));
	vq->enabled = true;
	if (error != 0) {
		/* vq_init said why; the driver learns it from the status. */
		vs->vs_needs_reset_logged = true;
		vs->vs_status |= VIRTIO_S_NEEDS_RESET;
	}
}

void
virtio_queue_disable(struct virtio_softc *vs, int q)
{
	struct virtio_queue *vq = &vs->vs_queues[q];

	vq_reset(&vq->vq);
	vq->enabled = false;
}

void
virtio_kick(struct virtio_softc *vs, int q)
{
	uint64_t one = 1;

	if (q < 0 || q >= vs->vs_nqueues)
		return;
	vs->vs_kicks_by_exit++;
	(void)!write(vs->vs_queues[q].kickfd, &one, sizeof(one));
}

void
virtio_requeue(struct virtio_softc *vs, int q)
{
	uint64_t one = 1;

	if (q >= 0 && q < vs->vs_nqueues)
		(void)!write(vs->vs_queues[q].kickfd, &one, sizeof(one));
}

uint64_t
virtio_devcfg_read(struct virtio_softc *vs, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	if (off < vs->vs_cfglen && size <= vs->vs_cfglen - off)
		memcpy(&v, vs->vs_cfg + off, size);	/* little-endian */
	return (v);
}

void
virtio_devcfg_write(struct virtio_softc *vs, uint64_t off, unsigned size,
    uint64_t val)
{
	if (vs->vs_ops->vd_cfgwrite != NULL && off < vs->vs_cfglen &&
	    size <= vs->vs_cfglen - off && size <= 4)
		vs->vs_ops->vd_cfgwrite(vs->vs_dev, (unsigned)off, size,
		    (uint32_t)val);
}

/* ---- the worker ---- */

/* Queue q's eventfd fired: let the device look at the ring. */
static void
virtio_worker_kick(struct virtio_softc *vs, int q)
{
	struct virtio_queue *vq = &vs->vs_queues[q];
	uint64_t n;

	(void)!read(vq->kickfd, &n, sizeof(n));
	pthread_mutex_lock(&vs->vs_mtx);
	/* A legacy driver has no DRIVER_OK before it queues; modern does. */
	if (vq->enabled && vq->vq.vq_ready && !vq_broken(&vq->vq) &&
	    (vs->vs_status & VIRTIO_S_NEEDS_RESET) == 0)
		vs->vs_ops->vd_notify(vs->vs_dev, q);
	pthread_mutex_unlock(&vs->vs_mtx);
}

static void *
virtio_worker(void *arg)
{
	struct virtio_softc *vs = arg;
	struct epoll_event evs[16];
	struct virtio_worker_fd *wf;
	uintptr_t tag;
	int i, n;

	for (;;) {
		n = epoll_wait(vs->vs_epfd, evs, nitems(evs), -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_warn("%s: worker: epoll_wait", vs->vs_pi->pi_name);
			return (NULL);
		}
		for (i = 0; i < n; i++) {
			tag = (uintptr_t)evs[i].data.u64;
			if (tag == 0)
				return (NULL);		/* vs_stopfd */
			if (tag <= VIRTIO_MAX_QUEUES) {
				virtio_worker_kick(vs, (int)tag - 1);
				continue;
			}
			wf = (struct virtio_worker_fd *)tag;
			pthread_mutex_lock(&vs->vs_mtx);
			wf->wf_cb(vs->vs_dev, wf->wf_fd);
			pthread_mutex_unlock(&vs->vs_mtx);
		}
	}
}

static int
virtio_epoll_add(struct virtio_softc *vs, int fd, uint64_t tag)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = tag;
	return (epoll_ctl(vs->vs_epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0);
}

int
virtio_worker_add_fd(struct virtio_softc *vs, int fd,
    void (*cb)(void *dev, int fd))
{
	struct virtio_worker_fd *wf;
	int error;

	wf = calloc(1, sizeof(*wf));
	if (wf == NULL)
		return (-ENOMEM);
	wf->wf_fd = fd;
	wf->wf_cb = cb;
	error = virtio_epoll_add(vs, fd, (uint64_t)(uintptr_t)wf);
	if (error != 0) {
		free(wf);
		return (error);
	}
	wf->wf_next = vs->vs_fds;
	vs->vs_fds = wf;
	return (0);
}

int
virtio_worker_fd_enable(struct virtio_softc *vs, int fd, bool enable)
{
	struct virtio_worker_fd *wf;
	struct epoll_event ev;

	for (wf = vs->vs_fds; wf != NULL; wf = wf->wf_next)
		if (wf->wf_fd == fd)
			break;
	if (wf == NULL)
		return (-ENOENT);
	if (wf->wf_off == !enable)
		return (0);
	/* Out of the set altogether: a hung-up socket would wake it still. */
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = (uint64_t)(uintptr_t)wf;
	if (epoll_ctl(vs->vs_epfd, enable ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd,
	    &ev) < 0)
		return (-errno);
	wf->wf_off = !enable;
	return (0);
}

static int
virtio_worker_start(struct virtio_softc *vs)
{
	sigset_t all, old;
	char name[16];
	int i, error;

	vs->vs_epfd = epoll_create1(EPOLL_CLOEXEC);
	vs->vs_stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vs->vs_epfd < 0 || vs->vs_stopfd < 0)
		return (-errno);
	if ((error = virtio_epoll_add(vs, vs->vs_stopfd, 0)) != 0)
		return (error);
	for (i = 0; i < vs->vs_nqueues; i++)
		if ((error = virtio_epoll_add(vs, vs->vs_queues[i].kickfd,
		    (uint64_t)i + 1)) != 0)
			return (error);
	/* Signals are the main thread's (machine_signals_init). */
	sandbox_thread_sigset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	error = pthread_create(&vs->vs_thread, NULL, virtio_worker, vs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0)
		return (-error);
	vs->vs_thread_started = true;
	snprintf(name, sizeof(name), "%s %d", vs->vs_ops->vd_name + 7,
	    vs->vs_pi->pi_slot);
	(void)pthread_setname_np(vs->vs_thread, name);
	return (0);
}

void
virtio_worker_stop(struct virtio_softc *vs)
{
	uint64_t one = 1;

	if (vs->vs_ops == NULL || !vs->vs_thread_started)
		return;
	if (write(vs->vs_stopfd, &one, sizeof(one)) != sizeof(one))
		log_warn("%s: worker: cannot stop it", vs->vs_pi->pi_name);
	else
		pthread_join(vs->vs_thread, NULL);
	vs->vs_thread_started = false;
}

void
virtio_pci_fini(struct virtio_softc *vs)
{
	struct virtio_worker_fd *wf;
	int i;

	if (vs->vs_ops == NULL)
		return;			/* virtio_pci_setup never got going */
	virtio_worker_stop(vs);
	/* pci_fini stops the BARs first; anyone else may not have. */
	if (vs->vs_notify_on)
		virtio_pci_baraddr(vs->vs_pi, VIRTIO_MODERN_BAR, false,
		    vs->vs_notify_addr);
	if (vs->vs_legacy_on)
		virtio_pci_baraddr(vs->vs_pi, VIRTIO_LEGACY_BAR, false,
		    vs->vs_legacy_port);
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		if (vs->vs_queues[i].kickfd >= 0)
			close(vs->vs_queues[i].kickfd);
		vs->vs_queues[i].kickfd = -1;
	}
	if (vs->vs_epfd >= 0)
		close(vs->vs_epfd);
	if (vs->vs_stopfd >= 0)
		close(vs->vs_stopfd);
	vs->vs_epfd = vs->vs_stopfd = -1;
	while ((wf = vs->vs_fds) != NULL) {
		vs->vs_fds = wf->wf_next;
		free(wf);
	}
	pthread_mutex_destroy(&vs->vs_mtx);
	vs->vs_ops = NULL;
}

/* ---- PCI glue ---- */

static int
virtio_parse_transport(struct config_node *nvl, const char *name,
    enum virtio_transport *t)
{
	const char *s = config_get(nvl, "transport");

	if (s == NULL)
		s = config_get(NULL, "virtio.transport");
	if (s == NULL || strcmp(s, "transitional") == 0)
		*t = VIRTIO_TRANSITIONAL;
	else if (strcmp(s, "modern") == 0)
		*t = VIRTIO_MODERN;
	else if (strcmp(s, "legacy") == 0)
		*t = VIRTIO_LEGACY;
	else {
		log_warnx("%s: transport=%s: want transitional, modern or "
		    "legacy", name, s);
		return (-EINVAL);
	}
	return (0);
}

static int
virtio_pci_setup(struct virtio_softc *vs, struct pci_devinst *pi,
    struct config_node *nvl, const struct virtio_devops *ops, void *dev,
    int nqueues, uint16_t qsize_max, uint64_t features, uint8_t *cfg,
    unsigned cfglen)
{
	bool modern, legacy;
	int i, error, devid;

	if (ops->vd_reset == NULL || ops->vd_notify == NULL ||
	    nqueues < 1 || nqueues > VIRTIO_MAX_QUEUES || qsize_max == 0 ||
	    (qsize_max & (qsize_max - 1)) != 0 || qsize_max > VQ_MAX_SIZE ||
	    cfglen > 0x1000)
		return (-EINVAL);
	memset(vs, 0, sizeof(*vs));
	pthread_mutex_init(&vs->vs_mtx, NULL);
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vs->vs_queues[i].kickfd = -1;	/* for virtio_pci_fini */
	vs->vs_ops = ops;
	vs->vs_dev = dev;
	vs->vs_pi = pi;
	vs->vs_nqueues = nqueues;
	vs->vs_qsize_max = qsize_max;
	vs->vs_cfg = cfg;
	vs->vs_cfglen = cfglen;
	vs->vs_msix_config = VIRTIO_MSI_NO_VECTOR;
	vs->vs_epfd = vs->vs_stopfd = -1;
	error = virtio_parse_transport(nvl, pi->pi_name, &vs->vs_transport);
	if (error != 0)
		return (error);
	vs->vs_use_msix = config_bool(NULL, "virtio_msix", true);
	modern = vs->vs_transport != VIRTIO_LEGACY;
	legacy = vs->vs_transport != VIRTIO_MODERN;
	vs->vs_features = features | VIRTIO_F_INDIRECT_DESC |
	    VIRTIO_F_EVENT_IDX | (modern ? VIRTIO_F_VERSION_1 : 0) |
	    (legacy ? VIRTIO_F_NOTIFY_ON_EMPTY | VIRTIO_F_ANY_LAYOUT : 0);
	devid = virtio_legacy_devid(ops->vd_type);
	if (legacy && devid < 0)
		return (-EINVAL);
	pi->pi_arg = vs;

	pci_set_cfgdata16(pi, PCIR_VENDOR, VIRTIO_VENDOR);
	pci_set_cfgdata16(pi, PCIR_DEVICE, (uint16_t)(legacy ? devid :
	    VIRTIO_DEV_MODERN_BASE + ops->vd_type));
	pci_set_cfgdata8(pi, PCIR_REVID, legacy ? 0 : 1);
	pci_set_cfgdata8(pi, PCIR_CLASS, ops->vd_class);
	pci_set_cfgdata8(pi, PCIR_SUBCLASS, ops->vd_subclass);
	pci_set_cfgdata16(pi, PCIR_SUBVEND_0, VIRTIO_VENDOR);
	pci_set_cfgdata16(pi, PCIR_SUBDEV_0, ops->vd_type);

	for (i = 0; i < nqueues; i++) {
		vq_create(&vs->vs_queues[i].vq, pi->pi_name, qsize_max);
		vs->vs_queues[i].size = qsize_max;
		vs->vs_queues[i].msix_vector = VIRTIO_MSI_NO_VECTOR;
		vs->vs_queues[i].kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vs->vs_queues[i].kickfd < 0)
			return (-errno);
	}
	if (legacy && (error = pci_emul_alloc_bar(pi, VIRTIO_LEGACY_BAR,
	    PCIBAR_IO, virtio_legacy_bar_size(cfglen), false)) != 0)
		return (error);
	if (vs->vs_use_msix)
		error = pci_emul_add_msixcap(pi, nqueues + 1, VIRTIO_MSIX_BAR);
	else
		error = pci_emul_add_msicap(pi, 1);
	if (error != 0)
		return (error);
	if (modern && ((error = pci_emul_alloc_bar(pi, VIRTIO_MODERN_BAR,
	    PCIBAR_MEM64, VMOD_BAR_SIZE, true)) != 0 ||
	    (error = virtio_modern_caps(vs)) != 0))
		return (error);
	pci_lintr_request(pi);
	return (virtio_worker_start(vs));
}

int
virtio_pci_init(struct virtio_softc *vs, struct pci_devinst *pi,
    struct config_node *nvl, const struct virtio_devops *ops, void *dev,
    int nqueues, uint16_t qsize_max, uint64_t features, uint8_t *cfg,
    unsigned cfglen)
{
	int error;

	error = virtio_pci_setup(vs, pi, nvl, ops, dev, nqueues, qsize_max,
	    features, cfg, cfglen);
	/* -EINVAL (a bad key) and -ENOSPC (BARs) were reported already. */
	if (error != 0 && error != -EINVAL && error != -ENOSPC)
		log_warnx("%s: cannot set up: %s", pi->pi_name,
		    strerror(-error));
	return (error);
}

/* ---- pci_devemu hooks ---- */

uint64_t
virtio_pci_barread(struct pci_devinst *pi, int baridx, uint64_t off,
    int size)
{
	struct virtio_softc *vs = pi->pi_arg;
	uint64_t v = ~0ULL;

	pthread_mutex_lock(&vs->vs_mtx);
	if (baridx == VIRTIO_MODERN_BAR && vs->vs_transport != VIRTIO_LEGACY)
		v = virtio_modern_read(vs, off, (unsigned)size);
	else if (baridx == VIRTIO_LEGACY_BAR &&
	    vs->vs_transport != VIRTIO_MODERN)
		v = virtio_legacy_read(vs, off, (unsigned)size);
	pthread_mutex_unlock(&vs->vs_mtx);
	return (v);
}

void
virtio_pci_barwrite(struct pci_devinst *pi, int baridx, uint64_t off,
    int size, uint64_t val)
{
	struct virtio_softc *vs = pi->pi_arg;

	pthread_mutex_lock(&vs->vs_mtx);
	if (baridx == VIRTIO_MODERN_BAR && vs->vs_transport != VIRTIO_LEGACY)
		virtio_modern_write(vs, off, (unsigned)size, val);
	else if (baridx == VIRTIO_LEGACY_BAR &&
	    vs->vs_transport != VIRTIO_MODERN)
		virtio_legacy_write(vs, off, (unsigned)size, val);
	pthread_mutex_unlock(&vs->vs_mtx);
}

/*
 * A notify BAR moved or changed decode (pi_lock held, vCPU thread): the
 * ioeventfds follow.  One that cannot be registered (no KVM support, too
 * many) leaves the register to the bus handler, which kicks the queue
 * through an exit.
 */
void
virtio_pci_baraddr(struct pci_devinst *pi, int baridx, bool enabled,
    uint64_t addr)
{
	struct virtio_softc *vs = pi->pi_arg;
	const struct devctx *dc = pi->pi_ctx;
	bool modern = baridx == VIRTIO_MODERN_BAR &&
	    vs->vs_transport != VIRTIO_LEGACY;
	bool legacy = baridx == VIRTIO_LEGACY_BAR &&
	    vs->vs_transport != VIRTIO_MODERN;
	uint64_t base;
	int i, error;

	if (!modern && !legacy)
		return;
	base = modern ? addr + VMOD_NOTIFY_OFF : addr + 0x10;
	for (i = 0; i < vs->vs_nqueues; i++) {
		error = dev_ioeventfd(dc, modern ? IO_MMIO : IO_PIO,
		    modern ? base + (uint64_t)i * VMOD_NOTIFY_MULT : base, 2,
		    modern ? -1 : i, vs->vs_queues[i].kickfd, enabled);
		if (error != 0 && enabled && log_verbose() >= 1)
			log_warnx_rl("%s: queue %d: no ioeventfd: %s",
			    pi->pi_name, i, strerror(-error));
	}
	if (modern) {
		vs->vs_notify_addr = addr;
		vs->vs_notify_on = enabled;
	} else {
		vs->vs_legacy_port = addr;
		vs->vs_legacy_on = enabled;
	}
}

int
virtio_pci_cfgread(struct pci_devinst *pi, int off, int bytes,
    uint32_t *val)
{
	return (virtio_modern_cfgread(pi, off, bytes, val));
}

int
virtio_pci_cfgwrite(struct pci_devinst *pi, int off, int bytes,
    uint32_t val)
{
	return (virtio_modern_cfgwrite(pi, off, bytes, val));
}
