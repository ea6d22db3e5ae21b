/*
 * virtio_blk.c: the block device (virtio 1.2 §5.2; bhyve's
 * pci_virtio_block.c).
 *
 *	-s N,virtio-blk,PATH[,ro][,nocache][,direct][,nodelete]
 *	    [,sectorsize=L[/P]][,ser=S][,num_queues=N][,queue_size=N]
 *	    [,engine=io_uring|thread|auto]
 *
 * Features: SEG_MAX, BLK_SIZE, FLUSH, TOPOLOGY, RO for a read-only disk,
 * DISCARD and WRITE_ZEROES when the disk can punch holes, MQ with more
 * than one queue (one per vCPU by default).  Each queue has its own
 * submission context in the disk engine (backend/blockif.h: io_uring,
 * batched: one submit per notification), whose completions come back on
 * the device's worker thread.  A request is parsed once
 * (virtio_blk_req.c); the data moves between the disk and guest RAM
 * directly, through the iovecs of the chain.
 *
 * Reset with requests in flight: vd_reset waits for every queue's
 * requests to complete (blockif_queue_quiesce) before the transport
 * resets the rings, so nothing is written to guest memory afterwards.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend/blockif.h"
#include "config.h"
#include "log.h"
#include "pci/pci_emul.h"
#include "virtio/iov.h"
#include "virtio/virtio.h"
#include "virtio/virtio_blk_req.h"

/* Feature bits (§5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX	(1ULL << 2)
#define VIRTIO_BLK_F_RO		(1ULL << 5)
#define VIRTIO_BLK_F_BLK_SIZE	(1ULL << 6)
#define VIRTIO_BLK_F_FLUSH	(1ULL << 9)
#define VIRTIO_BLK_F_TOPOLOGY	(1ULL << 10)
#define VIRTIO_BLK_F_MQ		(1ULL << 12)
#define VIRTIO_BLK_F_DISCARD	(1ULL << 13)
#define VIRTIO_BLK_F_WRITE_ZEROES (1ULL << 14)

#define VBLK_QSIZE		256
#define VBLK_SEG_MAX		126	/* data descriptors per request */
#define VBLK_NIOV		(2 * (VBLK_SEG_MAX + 2)) /* region splits */
#define VBLK_DWZ_MAX		(1U << 22)	/* sectors per segment: 2 GiB */
#define VBLK_CFG_LEN		60

struct vblk_softc;

struct vblk_req {
	struct blockif_req br;
	struct vq_req	vr;
	struct vblk_queue *q;
	struct iovec	iov[VBLK_NIOV];		/* the chain */
	struct iovec	data[VBLK_NIOV];	/* the data part of it */
	uint64_t	wbytes;			/* writable bytes */
	unsigned	nread, nwrite;
	size_t		status_off;
	uint32_t	written;		/* used.len on success */
	struct vblk_req	*next;			/* free list */
};

struct vblk_queue {
	struct vblk_softc *sc;
	int		idx;
	struct blockif_queue *bq;
	int		fd;			/* its completion eventfd */
	struct vblk_req	*reqs;			/* queue size of them */
	struct vblk_req	*free;
	bool		need_end;		/* used elements to publish */
};

struct vblk_softc {
	struct virtio_softc vb_vs;
	struct blockif	*vb_bc;
	struct vblk_limits vb_lim;
	int		vb_nqueues;
	struct vblk_queue vb_q[VIRTIO_MAX_QUEUES];
	char		vb_ident[VIRTIO_BLK_ID_BYTES + 1];
	uint8_t		vb_cfg[VBLK_CFG_LEN];
};

static void
vblk_status(struct vblk_req *r, uint8_t status)
{
	(void)buf_to_iov(r->iov + r->nread, r->nwrite, r->status_off, &status,
	    1);
}

/* Give the chain back (the written count includes the status byte). */
static void
vblk_complete(struct vblk_req *r, uint8_t status, uint32_t written)
{
	struct vblk_queue *q = r->q;

	vblk_status(r, status);
	vq_relchain(virtio_vq(&q->sc->vb_vs, q->idx), &r->vr, written);
	r->next = q->free;
	q->free = r;
	q->need_end = true;
}

static void
vblk_publish(struct vblk_queue *q)
{
	if (!q->need_end)
		return;
	q->need_end = false;
	if (vq_endchains(virtio_vq(&q->sc->vb_vs, q->idx)))
		virtio_vq_interrupt(&q->sc->vb_vs, q->idx);
}

/* A disk request finished (blockif_reap on the worker, vs_mtx held). */
static void
vblk_done(struct blockif_req *br, int error)
{
	struct vblk_req *r = br->br_param;

	if (error != 0)
		log_warnx_rl("%s: request at byte %llu: %s",
		    r->q->sc->vb_vs.vs_pi->pi_name,
		    (unsigned long long)br->br_offset, strerror(-error));
	vblk_complete(r, error == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR,
	    error == 0 ? r->written : 1);
}

/* Start the parsed request, or finish it at once. */
static void
vblk_start(struct vblk_softc *sc, struct vblk_req *r,
    const struct vblk_parsed *p)
{
	struct blockif_req *br = &r->br;
	const struct iovec *part;
	unsigned n;
	int cnt;

	if (p->op == VBLK_DONE) {
		vblk_complete(r, p->status, p->has_status ? 1 : 0);
		return;
	}
	if (p->op == VBLK_GET_ID) {
		(void)buf_to_iov(r->iov + r->nread, r->nwrite, 0, sc->vb_ident,
		    (size_t)p->len);
		vblk_complete(r, VIRTIO_BLK_S_OK, (uint32_t)p->len + 1);
		return;
	}
	memset(br, 0, sizeof(*br));
	br->br_offset = p->offset;
	br->br_callback = vblk_done;
	br->br_param = r;
	r->written = 1;
	switch (p->op) {
	case VBLK_READ:
	case VBLK_WRITE:
		part = p->op == VBLK_READ ? r->iov + r->nread : r->iov;
		n = p->op == VBLK_READ ? r->nwrite : r->nread;
		cnt = iov_slice(part, n, p->data_off, (size_t)p->len, r->data,
		    nitems(r->data));
		if (cnt < 0) {
			vblk_complete(r, VIRTIO_BLK_S_IOERR, 1);
			return;
		}
		br->br_op = p->op == VBLK_READ ? BLOCKIF_OP_READ :
		    BLOCKIF_OP_WRITE;
		br->br_iov = r->data;
		br->br_iovcnt = cnt;
		if (p->op == VBLK_READ)
			r->written = (uint32_t)p->len + 1;
		break;
	case VBLK_FLUSH:
		br->br_op = BLOCKIF_OP_FLUSH;
		break;
	case VBLK_DISCARD:
	case VBLK_WRITE_ZEROES:
		br->br_op = p->op == VBLK_DISCARD ? BLOCKIF_OP_DISCARD :
		    BLOCKIF_OP_WRITE_ZEROES;
		br->br_len = p->len;
		break;
	default:
		vblk_complete(r, VIRTIO_BLK_S_UNSUPP, 1);
		return;
	}
	if (blockif_submit(r->q->bq, br) != 0)
		vblk_complete(r, VIRTIO_BLK_S_IOERR, 1);
}

static void
vblk_notify(void *arg, int qidx)
{
	struct vblk_softc *sc = arg;
	struct vblk_queue *q = &sc->vb_q[qidx];
	struct vqueue *vq = virtio_vq(&sc->vb_vs, qidx);
	struct vblk_parsed p;
	struct vblk_req *r;
	int n;

	for (;;) {
		/* More chains than requests cannot be: the queue is sized
		 * like the ring.  Stop anyway rather than trust it. */
		if ((r = q->free) == NULL)
			break;
		n = vq_getchain(vq, r->iov, nitems(r->iov), &r->vr);
		if (n <= 0) {
			if (n < 0)
				virtio_needs_reset(&sc->vb_vs, qidx);
			break;
		}
		q->free = r->next;
		r->nread = r->vr.vr_nread;
		r->nwrite = r->vr.vr_nwrite;
		r->wbytes = r->vr.vr_wbytes;
		vblk_parse(r->iov, r->nread, r->nwrite, r->vr.vr_rbytes,
		    r->vr.vr_wbytes, &sc->vb_lim, &p);
		r->status_off = p.status_off;
		vblk_start(sc, r, &p);
	}
	blockif_flush_submits(q->bq);
	/* Always: vq_endchains also ends the batch, so the next notify
	 * reads avail->idx afresh even when nothing completed yet. */
	q->need_end = true;
	vblk_publish(q);
}

/* The disk engine has completions for one of the queues. */
static void
vblk_reap(void *arg, int fd)
{
	struct vblk_softc *sc = arg;
	int i;

	for (i = 0; i < sc->vb_nqueues; i++) {
		if (sc->vb_q[i].fd != fd)
			continue;
		while (blockif_reap(sc->vb_q[i].bq) == BLOCKIF_REAP_MAX)
			;
		vblk_publish(&sc->vb_q[i]);
		/* Requests were waiting for free slots: look again. */
		if (vq_has_descs(virtio_vq(&sc->vb_vs, i)))
			virtio_requeue(&sc->vb_vs, i);
	}
}

static void
vblk_reset(void *arg)
{
	struct vblk_softc *sc = arg;
	int i;

	/* Every request completes (and is given back) before the rings go. */
	for (i = 0; i < sc->vb_nqueues; i++) {
		blockif_queue_quiesce(sc->vb_q[i].bq);
		sc->vb_q[i].need_end = false;
	}
}

static const struct virtio_devops vblk_ops = {
	.vd_name = "virtio-blk",
	.vd_type = VIRTIO_ID_BLOCK,
	.vd_class = 0x01,		/* mass storage */
	.vd_subclass = 0x00,		/* SCSI, as QEMU and bhyve say */
	.vd_reset = vblk_reset,
	.vd_notify = vblk_notify,
};

static void
put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* struct virtio_blk_config (§5.2.4). */
static void
vblk_config(struct vblk_softc *sc, uint32_t psz, uint32_t poff)
{
	uint8_t *c = sc->vb_cfg;
	uint64_t cap = sc->vb_lim.capacity;
	unsigned exp = 0;

	memcpy(c + 0, &cap, 8);
	put32(c + 12, VBLK_SEG_MAX);
	put32(c + 20, sc->vb_lim.blk_size);
	while ((sc->vb_lim.blk_size << exp) < psz && exp < 15)
		exp++;
	c[24] = (uint8_t)exp;				/* physical_block_exp */
	c[25] = (uint8_t)(poff / sc->vb_lim.blk_size);	/* alignment_offset */
	put16(c + 26, 1);				/* min_io_size */
	put16(c + 34, (uint16_t)sc->vb_nqueues);
	put32(c + 36, VBLK_DWZ_MAX);		/* max_discard_sectors */
	put32(c + 40, 1);			/* max_discard_seg */
	put32(c + 44, sc->vb_lim.blk_size / VIRTIO_BLK_SECTOR);
	put32(c + 48, VBLK_DWZ_MAX);		/* max_write_zeroes_sectors */
	put32(c + 52, 1);
	c[56] = 1;				/* write_zeroes_may_unmap */
}

/*
 * The serial number GET_ID returns: ser=, else "KHYVE-" and 14 hex
 * digits of a hash of the path, stable across restarts as bhyve's MD5
 * one is (FNV-1a: no cryptography needed for a name).
 */
static void
vblk_ident(struct vblk_softc *sc, struct config_node *nvl)
{
	const char *ser = config_get(nvl, "ser"), *path = config_get(nvl,
	    "path");
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *s;

	if (ser != NULL) {
		snprintf(sc->vb_ident, sizeof(sc->vb_ident), "%s", ser);
		return;
	}
	for (s = path; s != NULL && *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	snprintf(sc->vb_ident, sizeof(sc->vb_ident), "KHYVE-%04X-%04X-%04X",
	    (unsigned)(h >> 48), (unsigned)(h >> 32) & 0xffff,
	    (unsigned)(h >> 16) & 0xffff);
}

static int
vblk_queues(struct vblk_softc *sc, struct pci_devinst *pi,
    struct config_node *nvl, uint16_t *qsize)
{
	uint64_t nq, qs;

	if (config_get_uint64(nvl, "num_queues", (uint64_t)pi->pi_ctx->dc_ncpus,
	    &nq) != 0 || nq < 1 || nq > VIRTIO_MAX_QUEUES) {
		log_warnx("%s: num_queues=%s: want 1 to %d", pi->pi_name,
		    config_get(nvl, "num_queues"), VIRTIO_MAX_QUEUES);
		return (-EINVAL);
	}
	if (config_get_uint64(nvl, "queue_size", VBLK_QSIZE, &qs) != 0 ||
	    qs < 4 || qs > 1024 || (qs & (qs - 1)) != 0) {
		log_warnx("%s: queue_size=%s: want a power of two, 4 to 1024",
		    pi->pi_name, config_get(nvl, "queue_size"));
		return (-EINVAL);
	}
	sc->vb_nqueues = (int)nq;
	*qsize = (uint16_t)qs;
	return (0);
}

/*
 * Everything vblk_init() set up, however far it got (sc from calloc):
 * the worker stops first, so the queues' owner is this thread; closing
 * each queue completes what is still in flight (into guest RAM, which is
 * still there), then the disk goes.
 */
static void
vblk_free(struct vblk_softc *sc)
{
	int i;

	virtio_pci_fini(&sc->vb_vs);
	for (i = 0; i < sc->vb_nqueues; i++) {
		blockif_queue_close(sc->vb_q[i].bq);
		free(sc->vb_q[i].reqs);
	}
	blockif_close(sc->vb_bc);
	free(sc);
}

static int
vblk_init(struct pci_devinst *pi, struct config_node *nvl)
{
	struct vblk_softc *sc;
	struct vblk_queue *q;
	uint64_t features;
	uint32_t psz, poff;
	uint16_t qsize;
	int i, j, error;

	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return (-ENOMEM);
	if (config_get(nvl, "path") == NULL) {
		log_warnx("%s: no disk image (-s %d,virtio-blk,PATH)",
		    pi->pi_name, pi->pi_slot);
		error = -EINVAL;
		goto fail;
	}
	if ((error = vblk_queues(sc, pi, nvl, &qsize)) != 0)
		goto fail;
	error = blockif_open(nvl, pi->pi_name, &sc->vb_bc);
	if (error != 0)
		goto fail;
	sc->vb_lim.capacity = blockif_size(sc->vb_bc) / VIRTIO_BLK_SECTOR;
	sc->vb_lim.blk_size = blockif_sectsz(sc->vb_bc);
	sc->vb_lim.ro = blockif_is_ro(sc->vb_bc);
	sc->vb_lim.flush = true;
	sc->vb_lim.discard = sc->vb_lim.write_zeroes = !sc->vb_lim.ro &&
	    blockif_candelete(sc->vb_bc);
	sc->vb_lim.max_dwz_sectors = VBLK_DWZ_MAX;
	blockif_psectsz(sc->vb_bc, &psz, &poff);
	vblk_ident(sc, nvl);
	vblk_config(sc, psz, poff);

	features = VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE |
	    VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_TOPOLOGY |
	    (sc->vb_lim.ro ? VIRTIO_BLK_F_RO : 0) |
	    (sc->vb_lim.discard ? VIRTIO_BLK_F_DISCARD |
	    VIRTIO_BLK_F_WRITE_ZEROES : 0) |
	    (sc->vb_nqueues > 1 ? VIRTIO_BLK_F_MQ : 0);
	error = virtio_pci_init(&sc->vb_vs, pi, nvl, &vblk_ops, sc,
	    sc->vb_nqueues, qsize, features, sc->vb_cfg, sizeof(sc->vb_cfg));
	if (error != 0)
		goto fail;
	for (i = 0; i < sc->vb_nqueues; i++) {
		q = &sc->vb_q[i];
		q->sc = sc;
		q->idx = i;
		q->reqs = calloc(qsize, sizeof(*q->reqs));
		if (q->reqs == NULL) {
			error = -ENOMEM;
			goto fail;
		}
		for (j = qsize - 1; j >= 0; j--) {
			q->reqs[j].q = q;
			q->reqs[j].next = q->free;
			q->free = &q->reqs[j];
		}
		error = blockif_queue_open(sc->vb_bc, qsize, &q->bq);
		if (error == 0) {
			q->fd = blockif_queue_fd(q->bq);
			error = virtio_worker_add_fd(&sc->vb_vs, q->fd,
			    vblk_reap);
		}
		if (error != 0) {
			log_warnx("%s: queue %d: %s", pi->pi_name, i,
			    strerror(-error));
			goto fail;
		}
	}
	log_info("%s: %s, %llu sectors of 512, %u-byte blocks, %d queue(s), "
	    "%s%s", pi->pi_name, config_get(nvl, "path"),
	    (unsigned long long)sc->vb_lim.capacity, sc->vb_lim.blk_size,
	    sc->vb_nqueues, blockif_engine(sc->vb_bc),
	    sc->vb_lim.ro ? ", read-only" : "");
	return (0);
fail:
	vblk_free(sc);
	pi->pi_arg = NULL;
	return (error);
}

/* pci_fini */
static void
vblk_fini(struct pci_devinst *pi)
{
	struct virtio_softc *vs = pi->pi_arg;

	if (vs == NULL)
		return;
	vblk_free(vs->vs_dev);
	pi->pi_arg = NULL;
}

/*
 * pe_stop: as vblk_fini up to the disk, without freeing anything: with
 * the worker stopped, every request still with the disk completes (its
 * status goes to the used ring), then the image is synced, so that each
 * write the guest was told of, or had handed to the disk, is on stable
 * storage when khyve exits.
 */
static void
vblk_stop(struct pci_devinst *pi)
{
	struct virtio_softc *vs = pi->pi_arg;
	struct vblk_softc *sc;
	int i, error;

	if (vs == NULL)
		return;
	sc = vs->vs_dev;
	virtio_worker_stop(&sc->vb_vs);
	for (i = 0; i < sc->vb_nqueues; i++)
		blockif_queue_quiesce(sc->vb_q[i].bq);
	error = blockif_sync(sc->vb_bc);
	if (error != 0) {
		errno = -error;
		log_warn("%s: cannot sync the disk", pi->pi_name);
	} else
		log_info("%s: disk synced", pi->pi_name);
}

/* "PATH[,opts]" (bhyve's blockif_legacy_config()). */
static int
vblk_legacy_config(struct config_node *nvl, const char *opts)
{
	const char *comma;
	char *path;
	int error;

	if (opts == NULL)
		return (0);
	comma = strchr(opts, ',');
	path = comma != NULL ? strndup(opts, (size_t)(comma - opts)) :
	    strdup(opts);
	if (path == NULL)
		return (-ENOMEM);
	if (strchr(path, '=') != NULL) {
		/* All key=value: the path is one of them. */
		free(path);
		return (pci_parse_kv(nvl, "virtio-blk", opts));
	}
	error = config_set(nvl, "path", path);
	free(path);
	if (error == 0 && comma != NULL)
		error = pci_parse_kv(nvl, "virtio-blk", comma + 1);
	return (error != 0 ? -EINVAL : 0);
}

const struct pci_devemu pci_de_vblk = {
	.pe_emu = "virtio-blk",
	.pe_init = vblk_init,
	.pe_legacy_config = vblk_legacy_config,
	.pe_fini = vblk_fini,
	.pe_stop = vblk_stop,
	VIRTIO_PCI_HOOKS,
};
PCI_EMUL_SET(pci_de_vblk);
