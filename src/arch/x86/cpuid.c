/*
 * cpuid.c: topology leaves for each vCPU.
 *
 * APIC IDs are the vCPU index, as bhyve's MADT and ours say; the shift
 * widths in leaf 0BH/1FH are the bits needed for threads and cores, so a
 * power-of-two topology decodes to the expected package/core/thread.
 */
#include <errno.h>
#include <stdbool.h>
#include "cpuid.h"

unsigned
cpuid_order(unsigned n)
{
	unsigned bits = 0;

	while ((1u << bits) < n)
		bits++;
	return (bits);
}

/* Extended topology (0BH / 1FH): level 0 SMT, level 1 core. */
static void
topo_leaf(struct kvm_cpuid_entry2 *e, unsigned apicid,
    const struct vm_topology *t)
{
	unsigned smt = cpuid_order(t->threads);
	unsigned core = cpuid_order(t->cores);

	e->edx = apicid;
	switch (e->index) {
	case 0:
		e->eax = smt;
		e->ebx = t->threads;
		e->ecx = 0 | (1u << 8);		/* type 1: SMT */
		break;
	case 1:
		e->eax = smt + core;
		e->ebx = (uint32_t)t->threads * t->cores;
		e->ecx = 1 | (2u << 8);		/* type 2: core */
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = e->index;		/* type 0: invalid */
		break;
	}
}

void
cpuid_apply_topology(struct kvm_cpuid_entry2 *ent, unsigned nent,
    unsigned vcpu_id, const struct vm_topology *t)
{
	unsigned i, per_pkg, cache_level, sharing;
	struct kvm_cpuid_entry2 *e;

	per_pkg = (unsigned)t->threads * t->cores;
	for (i = 0; i < nent; i++) {
		e = &ent[i];
		switch (e->function) {
		case 1:
			e->ebx &= 0x0000ffff;
			e->ebx |= vcpu_id << 24;
			e->ebx |= (MIN(per_pkg, 255u) & 0xff) << 16;
			if (per_pkg > 1)
				e->edx |= 1u << 28;	/* HTT */
			else
				e->edx &= ~(1u << 28);
			break;
		case 4:
			if ((e->eax & 0x1f) == 0)	/* no more caches */
				break;
			cache_level = (e->eax >> 5) & 0x7;
			sharing = cache_level >= 3 ? per_pkg : t->threads;
			e->eax &= 0x3fff;
			e->eax |= ((uint32_t)(MIN(t->cores, 64) - 1) & 0x3f) << 26;
			e->eax |= ((uint32_t)(sharing - 1) & 0xfff) << 14;
			break;
		case 0xb:
		case 0x1f:
			topo_leaf(e, vcpu_id, t);
			break;
		case 0x80000008:
			/* ECX[7:0]: cores per package - 1; [15:12]: ID bits. */
			e->ecx &= ~0xf0ffu;
			e->ecx |= (per_pkg - 1) & 0xff;
			e->ecx |= (cpuid_order(per_pkg) & 0xf) << 12;
			break;
		case 0x8000001e:
			e->eax = vcpu_id;
			e->ebx = (e->ebx & ~0xff00u) |
			    (((uint32_t)t->threads - 1) & 0xff) << 8 |
			    (vcpu_id / t->threads) % t->cores;
			e->ecx = (e->ecx & ~0xffu) | (vcpu_id / per_pkg);
			break;
		default:
			break;
		}
	}
}

int
cpuid_add_topology_subleaves(struct kvm_cpuid_entry2 *ent, unsigned *nent,
    unsigned max)
{
	static const uint32_t leaves[] = { 0xb, 0x1f };
	const struct kvm_cpuid_entry2 *base;
	unsigned i, j, sub;
	bool found;

	for (i = 0; i < nitems(leaves); i++) {
		base = NULL;
		for (j = 0; j < *nent; j++)
			if (ent[j].function == leaves[i] && ent[j].index == 0)
				base = &ent[j];
		if (base == NULL)
			continue;
		for (sub = 1; sub <= 2; sub++) {
			found = false;
			for (j = 0; j < *nent; j++)
				if (ent[j].function == leaves[i] &&
				    ent[j].index == sub)
					found = true;
			if (found)
				continue;
			if (*nent >= max)
				return (-ENOSPC);
			ent[*nent] = *base;
			ent[*nent].index = sub;
			ent[*nent].flags |= KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
			(*nent)++;
		}
	}
	return (0);
}
