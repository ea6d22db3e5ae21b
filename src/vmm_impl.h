/*
 * vmm_impl.h: what vmm.c and vmm_irq.c share; not for other files.
 */
#ifndef VMM_IMPL_H
#define VMM_IMPL_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include "vmm.h"

/* An MSI route of the GSI routing table (an irqfd's target). */
struct vm_msi_route {
	bool		in_use;
	uint64_t	addr;
	uint32_t	data;
};

struct vmctx {
	const char	*name;
	int		kvmfd;			/* /dev/kvm */
	int		vmfd;
	int		run_size;		/* mmap size of kvm_run */
	struct kvm_cpuid2 *cpuid;		/* supported leaves */
	struct vm_topology topo;
	int		memfd;
	uint8_t		*res;			/* RAM and its guards */
	size_t		reslen;
	uint8_t		*mem;			/* RAM below 4 GiB */
	uint8_t		*highmem_hva;		/* RAM from 4 GiB, or NULL */
	uint64_t	memsize;
	uint64_t	lowmem, highmem;
	struct gmem	gmem;
	pthread_mutex_t	irq_lock;		/* the MSI routes below */
	struct vm_msi_route *msi;		/* vm_msi_route_alloc() */
	unsigned	nmsi;
};

struct vcpu {
	struct vmctx	*ctx;
	int		id;
	int		fd;
	struct kvm_run	*run;
};

/* ioctl() retried on EINTR: the result, or -errno. */
int	kvm_ioctl(int fd, unsigned long req, void *arg);
/* The PC platform's GSI routing (vmm_irq.c), at VM creation. */
int	vm_setup_irq_routing(struct vmctx *ctx);

#endif /* VMM_IMPL_H */
