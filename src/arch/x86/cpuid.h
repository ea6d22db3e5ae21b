/*
 * cpuid.h: the CPUID table given to each vCPU.
 *
 * Starts from KVM_GET_SUPPORTED_CPUID and rewrites the topology leaves so
 * the guest sees the -c sockets/cores/threads, with APIC ID = vCPU index
 * (Intel SDM vol. 2A, CPUID leaves 01H, 04H, 0BH, 1FH; AMD APM vol. 3,
 * 8000_0008H and 8000_001EH).
 */
#ifndef CPUID_H
#define CPUID_H

#include <linux/kvm.h>
#include <stdint.h>
#include "vmm.h"

/* Number of bits needed to number n items (0 for n <= 1). */
unsigned cpuid_order(unsigned n);

/*
 * Make sure leaves 0BH and 1FH, when present, have subleaves 0, 1 and 2
 * (SMT, core, and the invalid level that ends the list): some hosts
 * report only subleaf 0.  ent has room for max entries; *nent is
 * updated.  Returns 0 or -ENOSPC.
 */
int	cpuid_add_topology_subleaves(struct kvm_cpuid_entry2 *ent,
	    unsigned *nent, unsigned max);

/*
 * Rewrite the entries in place for vCPU vcpu_id of topology topo.
 * Leaves that are not present are not added.
 */
void	cpuid_apply_topology(struct kvm_cpuid_entry2 *ent, unsigned nent,
	    unsigned vcpu_id, const struct vm_topology *topo);

#endif /* CPUID_H */
