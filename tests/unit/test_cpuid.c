/*
 * test_cpuid.c: topology leaves for -c sockets/cores/threads.
 */
#include <errno.h>
#include "arch/x86/cpuid.h"
#include "test.h"

static struct kvm_cpuid_entry2 *
find(struct kvm_cpuid_entry2 *e, int n, uint32_t fn, uint32_t idx)
{
	int i;

	for (i = 0; i < n; i++)
		if (e[i].function == fn && e[i].index == idx)
			return (&e[i]);
	return (NULL);
}

static int
table(struct kvm_cpuid_entry2 *e)
{
	memset(e, 0, 8 * sizeof(*e));
	e[0].function = 1;
	e[0].ebx = 0x00000800;		/* CLFLUSH size, APIC ID 0 */
	e[1].function = 4; e[1].index = 0;
	e[1].eax = 1 | (1 << 5);	/* L1 data */
	e[2].function = 4; e[2].index = 1;
	e[2].eax = 3 | (3 << 5);	/* L3 unified */
	e[3].function = 4; e[3].index = 2;	/* terminator */
	e[4].function = 0xb; e[4].index = 0;
	e[5].function = 0xb; e[5].index = 1;
	e[6].function = 0xb; e[6].index = 2;
	e[7].function = 0x80000008;
	return (8);
}

TEST(order)
{
	CHECK_EQ(cpuid_order(0), 0);
	CHECK_EQ(cpuid_order(1), 0);
	CHECK_EQ(cpuid_order(2), 1);
	CHECK_EQ(cpuid_order(3), 2);
	CHECK_EQ(cpuid_order(4), 2);
	CHECK_EQ(cpuid_order(5), 3);
}

TEST(two_sockets_two_cores_two_threads)
{
	struct kvm_cpuid_entry2 e[8];
	struct vm_topology t = { .sockets = 2, .cores = 2, .threads = 2,
	    .ncpus = 8 };
	int n = table(e);

	cpuid_apply_topology(e, n, 5, &t);
	CHECK_EQ(find(e, n, 1, 0)->ebx >> 24, 5);		/* APIC ID */
	CHECK_EQ((find(e, n, 1, 0)->ebx >> 16) & 0xff, 4);	/* per package */
	CHECK_EQ(find(e, n, 1, 0)->ebx & 0xffff, 0x0800);	/* kept */
	CHECK(find(e, n, 1, 0)->edx & (1u << 28));		/* HTT */
	CHECK_EQ(find(e, n, 4, 0)->eax >> 26, 1);		/* cores - 1 */
	CHECK_EQ((find(e, n, 4, 0)->eax >> 14) & 0xfff, 1);	/* L1: threads */
	CHECK_EQ((find(e, n, 4, 1)->eax >> 14) & 0xfff, 3);	/* L3: package */
	CHECK_EQ(find(e, n, 4, 2)->eax, 0);			/* untouched */
	CHECK_EQ(find(e, n, 0xb, 0)->eax, 1);
	CHECK_EQ(find(e, n, 0xb, 0)->ebx, 2);
	CHECK_EQ(find(e, n, 0xb, 0)->ecx, 0x100);
	CHECK_EQ(find(e, n, 0xb, 0)->edx, 5);
	CHECK_EQ(find(e, n, 0xb, 1)->eax, 2);
	CHECK_EQ(find(e, n, 0xb, 1)->ebx, 4);
	CHECK_EQ(find(e, n, 0xb, 1)->ecx, 0x201);
	CHECK_EQ(find(e, n, 0xb, 2)->ebx, 0);
	CHECK_EQ(find(e, n, 0xb, 2)->ecx, 2);
	CHECK_EQ(find(e, n, 0x80000008, 0)->ecx & 0xff, 3);
}

TEST(one_cpu_has_no_htt)
{
	struct kvm_cpuid_entry2 e[8];
	struct vm_topology t = { 1, 1, 1, 1 };
	int n = table(e);

	e[0].edx = 1u << 28;
	cpuid_apply_topology(e, n, 0, &t);
	CHECK_EQ(find(e, n, 1, 0)->edx & (1u << 28), 0);
	CHECK_EQ((find(e, n, 1, 0)->ebx >> 16) & 0xff, 1);
	CHECK_EQ(find(e, n, 0xb, 1)->ebx, 1);
}

TEST(missing_subleaves_are_added)
{
	struct kvm_cpuid_entry2 e[8];
	struct vm_topology t = { .sockets = 2, .cores = 2, .threads = 1,
	    .ncpus = 4 };
	unsigned n = 2;

	memset(e, 0, sizeof(e));
	e[0].function = 1;
	e[1].function = 0xb;			/* subleaf 0 only */
	CHECK_EQ(cpuid_add_topology_subleaves(e, &n, 8), 0);
	CHECK_EQ(n, 4);
	CHECK(find(e, n, 0xb, 1) != NULL);
	CHECK(find(e, n, 0xb, 2) != NULL);
	CHECK(find(e, n, 0xb, 1)->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
	CHECK(find(e, n, 0x1f, 0) == NULL);	/* absent leaves stay absent */
	cpuid_apply_topology(e, n, 3, &t);
	CHECK_EQ(find(e, n, 0xb, 1)->ebx, 2);
	CHECK_EQ(find(e, n, 0xb, 1)->eax, 1);
	CHECK_EQ(find(e, n, 0xb, 1)->edx, 3);
	/* Already complete: nothing added; full table: -ENOSPC. */
	CHECK_EQ(cpuid_add_topology_subleaves(e, &n, 8), 0);
	CHECK_EQ(n, 4);
	n = 2;
	CHECK_EQ(cpuid_add_topology_subleaves(e, &n, 3), -ENOSPC);
}

TEST_MAIN()
