/*
 * triple: loads an empty IDT and raises an exception, a triple fault
 * (khyve exit status 3).
 */
#include "kit.h"

int
guest_main(void)
{
	printf("triple fault now\n");
	guest_triple_fault();
}
