/*
 * fault: touches an address outside the kit's identity map.  The kit must
 * report the #PF (vector, error code, RIP, CR2) and end the VM with
 * "FAIL exception" and a triple fault; the runner expects exactly that.
 */
#include "kit.h"

#define UNMAPPED	(8ULL << 30)	/* the kit maps 0-4 GiB only */

int
guest_main(void)
{
	printf("reading 0x%llx, which is not mapped\n", UNMAPPED);
	(void)*(volatile uint32_t *)(uintptr_t)UNMAPPED;
	printf("the read did not fault\n");
	return (1);
}
