/*
 * halt: cli; hlt with no way to wake (khyve exit status 2: every vCPU
 * halted with interrupts off).
 */
#include "kit.h"

int
guest_main(void)
{
	printf("halting with interrupts off\n");
	guest_halt();
}
