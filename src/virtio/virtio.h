/*
 * virtio.h: virtio devices on PCI (virtio 1.2 §4.1; bhyve's virtio.h).
 *
 * A virtio device file (virtio_blk.c, virtio_rnd.c, ...) fills in a
 * struct virtio_devops and calls virtio_pci_init() from its pe_init; the
 * transport (virtio_pci.c, with the register layouts in virtio_modern.c
 * and virtio_legacy.c) does the rest: PCI identity and BARs, feature
 * negotiation, device status and reset, queue configuration, the device
 * configuration space, notifications and interrupts.  By default a
 * device is transitional: the legacy 0.9.5 registers in I/O BAR 0 and the
 * virtio 1.x capabilities (common, notify, ISR, device, PCI access) in
 * memory BAR 4, with its MSI-X table in BAR 1; the "transport" key (or
 * virtio.transport) picks "modern" or "legacy" alone, and virtio_msix
 * (bhyve's -W) replaces MSI-X by MSI.
 *
 * A device sees its rings only through virtqueue.h's vq_getchain(),
 * vq_relchain() and vq_endchains(), and interrupts the driver with
 * virtio_vq_interrupt().  Its code runs under the device's vs_mtx, on
 * the device's worker thread (queue notifications: ioeventfds; the
 * device's own fds added with virtio_worker_add_fd()) or on a vCPU
 * thread (configuration access, reset): one thread at a time, never
 * concurrently.  Queue work thus runs off the vCPU threads.
 */
#ifndef VIRTIO_H
#define VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "pci/pci_emul.h"
#include "virtio/virtqueue.h"

/* Device types (virtio 1.2 §5). */
#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_CONSOLE	3
#define VIRTIO_ID_ENTROPY	4

/* Feature bits the transport owns (§6). */
#define VIRTIO_F_NOTIFY_ON_EMPTY (1ULL << 24)	/* legacy */
#define VIRTIO_F_ANY_LAYOUT	(1ULL << 27)
#define VIRTIO_F_VERSION_1	(1ULL << 32)

/* Device status (§2.1). */
#define VIRTIO_S_ACKNOWLEDGE	0x01
#define VIRTIO_S_DRIVER		0x02
#define VIRTIO_S_DRIVER_OK	0x04
#define VIRTIO_S_FEATURES_OK	0x08
#define VIRTIO_S_NEEDS_RESET	0x40
#define VIRTIO_S_FAILED		0x80

#define VIRTIO_MSI_NO_VECTOR	0xffff
#define VIRTIO_ISR_QUEUE	0x1
#define VIRTIO_ISR_CONFIG	0x2

#define VIRTIO_MAX_QUEUES	64

struct virtio_softc;

struct virtio_devops {
	const char	*vd_name;	/* "virtio-blk": messages, thread name */
	uint16_t	vd_type;	/* VIRTIO_ID_* */
	uint8_t		vd_class;	/* PCI class of the function */
	uint8_t		vd_subclass;
	/*
	 * Required.  The device's state back to reset: every request is
	 * finished or cancelled, so that no completion reaches the queues
	 * (they are reset after this returns).  vs_mtx held.
	 */
	void	(*vd_reset)(void *dev);
	/* Required.  Queue q was notified (or has work again).  vs_mtx held. */
	void	(*vd_notify)(void *dev, int q);
	/*
	 * Optional.  The driver wrote size bytes at off of the device
	 * configuration space (reads are served from vs_cfg).  Writes to a
	 * device without it are ignored.  vs_mtx held.
	 */
	void	(*vd_cfgwrite)(void *dev, unsigned off, unsigned size,
		    uint32_t val);
	/*
	 * Optional.  Features were accepted (FEATURES_OK): the device may
	 * look at vs_negotiated now.  vs_mtx held.
	 */
	void	(*vd_features)(void *dev, uint64_t negotiated);
};

enum virtio_transport {
	VIRTIO_TRANSITIONAL,	/* legacy and modern registers */
	VIRTIO_MODERN,		/* virtio 1.x only */
	VIRTIO_LEGACY,		/* virtio 0.9.5 only */
};

struct virtio_queue {
	struct vqueue	vq;		/* the ring (virtqueue.c) */
	uint16_t	size;		/* queue_size as the driver set it */
	uint16_t	msix_vector;
	bool		enabled;	/* queue_enable / a legacy PFN */
	uint64_t	desc, avail, used;
	uint32_t	legacy_pfn;
	int		kickfd;		/* eventfd the notify ioeventfd signals */
};

struct virtio_worker_fd;

struct virtio_softc {
	const struct virtio_devops *vs_ops;
	void		*vs_dev;	/* the device's softc */
	struct pci_devinst *vs_pi;
	pthread_mutex_t	vs_mtx;		/* everything here and the device */
	enum virtio_transport vs_transport;
	bool		vs_use_msix;	/* MSI-X (true) or MSI (virtio_msix) */
	uint64_t	vs_features;	/* offered */
	uint64_t	vs_negotiated;	/* accepted by the driver */
	uint8_t		vs_status;
	uint8_t		vs_isr;
	uint16_t	vs_msix_config;	/* config change vector */
	uint8_t		vs_cfg_gen;	/* config_generation */
	uint32_t	vs_dfselect;	/* device_feature_select */
	uint32_t	vs_gfselect;	/* driver_feature_select */
	uint16_t	vs_qsel;	/* queue_select */
	int		vs_nqueues;
	uint16_t	vs_qsize_max;
	struct virtio_queue vs_queues[VIRTIO_MAX_QUEUES];
	uint8_t		*vs_cfg;	/* device configuration, vs_cfglen bytes */
	unsigned	vs_cfglen;
	bool		vs_needs_reset_logged;
	/* The worker thread: ioeventfds and the device's own fds. */
	pthread_t	vs_thread;
	bool		vs_thread_started;
	int		vs_epfd;
	int		vs_stopfd;	/* eventfd: the worker exits */
	struct virtio_worker_fd *vs_fds; /* device fds (list) */
	/* Where the notify registers sit now (for their ioeventfds). */
	uint64_t	vs_notify_addr;	/* modern: BAR 4 + notify offset */
	bool		vs_notify_on;
	uint64_t	vs_legacy_port;	/* legacy: BAR 0 */
	bool		vs_legacy_on;
	/* A notify the vCPU delivered itself (no ioeventfd), per queue. */
	uint64_t	vs_kicks_by_exit;
};

/*
 * Make pi a virtio device: ops, the device's softc, nqueues queues of at
 * most qsize_max entries (a power of two), the device feature bits it
 * offers (the transport adds VERSION_1, INDIRECT_DESC and EVENT_IDX), and
 * a device configuration space of cfglen bytes at cfg (the device keeps it
 * current under vs_mtx; virtio_config_changed() tells the driver).  Reads
 * nvl's "transport" key (transitional | modern | legacy; default the
 * global virtio.transport, else transitional) and the global virtio_msix.
 * Starts the worker thread.  Returns 0 or -errno after a message.
 */
int	virtio_pci_init(struct virtio_softc *vs, struct pci_devinst *pi,
	    struct config_node *nvl, const struct virtio_devops *ops,
	    void *dev, int nqueues, uint16_t qsize_max, uint64_t features,
	    uint8_t *cfg, unsigned cfglen) __must_check;

/*
 * Undo virtio_pci_init(), from the device's pe_fini: stop the worker
 * thread and wait for it, so that no device code runs on it afterwards;
 * take down the notify ioeventfds if a BAR still decodes; close the
 * queue eventfds and the worker's epoll and stop eventfds; free the
 * list of virtio_worker_add_fd() entries (their fds stay the device's
 * to close).  Requests still with the device's backend are the
 * device's to finish (closing its backend) after this returns, while
 * the queues and guest RAM are still there.  Safe on a softc whose
 * virtio_pci_init() failed part-way or never ran (zeroed).
 */
void	virtio_pci_fini(struct virtio_softc *vs);

/*
 * Stop the worker thread and wait for it (the first step of
 * virtio_pci_fini), so that the caller owns what the worker owned: for a
 * device's pe_stop.  Nothing else is taken down; a stopped worker stays
 * stopped.  Safe when there is none.
 */
void	virtio_worker_stop(struct virtio_softc *vs);

/* The queue's ring, for vq_getchain() and friends. */
static inline struct vqueue *
virtio_vq(struct virtio_softc *vs, int q)
{
	return (&vs->vs_queues[q].vq);
}

/*
 * Tell the driver about used buffers on queue q: its MSI-X vector, or
 * the ISR bit and INTx (or MSI).  Call when vq_endchains() says so.
 */
void	virtio_vq_interrupt(struct virtio_softc *vs, int q);
/* The device configuration changed: bump the generation, interrupt. */
void	virtio_config_changed(struct virtio_softc *vs);
/*
 * A guest broke the protocol on queue q (vq_getchain() failed): set
 * DEVICE_NEEDS_RESET, interrupt with a configuration change and log once
 * per reset.  The queue stays broken until the driver resets the device.
 */
void	virtio_needs_reset(struct virtio_softc *vs, int q);

/*
 * Have the worker call cb(dev, fd) under vs_mtx whenever fd is readable
 * (a disk's completion eventfd).  From pe_init.  Returns 0 or -errno.
 */
int	virtio_worker_add_fd(struct virtio_softc *vs, int fd,
	    void (*cb)(void *dev, int fd)) __must_check;
/*
 * Stop (enable false) or resume watching an fd given to
 * virtio_worker_add_fd(): a network device stops polling its backend
 * while the guest has no receive buffers.  Returns 0 or -errno.
 */
int	virtio_worker_fd_enable(struct virtio_softc *vs, int fd, bool enable)
	    __must_check;
/* Run vd_notify(q) again on the worker soon (more work than one batch). */
void	virtio_requeue(struct virtio_softc *vs, int q);

/*
 * The pci_devemu hooks of every virtio device (its pi_arg is the
 * virtio_softc): BAR registers, BAR moves (ioeventfds follow the notify
 * registers) and the PCI configuration access capability.
 */
uint64_t virtio_pci_barread(struct pci_devinst *pi, int baridx, uint64_t off,
	    int size);
void	virtio_pci_barwrite(struct pci_devinst *pi, int baridx, uint64_t off,
	    int size, uint64_t val);
void	virtio_pci_baraddr(struct pci_devinst *pi, int baridx, bool enabled,
	    uint64_t addr);
int	virtio_pci_cfgread(struct pci_devinst *pi, int off, int bytes,
	    uint32_t *val);
int	virtio_pci_cfgwrite(struct pci_devinst *pi, int off, int bytes,
	    uint32_t val);
#define VIRTIO_PCI_HOOKS						\
	.pe_barread = virtio_pci_barread,				\
	.pe_barwrite = virtio_pci_barwrite,				\
	.pe_baraddr = virtio_pci_baraddr,				\
	.pe_cfgread = virtio_pci_cfgread,				\
	.pe_cfgwrite = virtio_pci_cfgwrite

#endif /* VIRTIO_H */
