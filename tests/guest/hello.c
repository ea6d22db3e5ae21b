/*
 * hello: the smallest guest.  Prints a line and powers off through ACPI
 * S5 (khyve exit status 1).
 */
#include "kit.h"

int
guest_main(void)
{
	const struct hvm_start_info *si = guest_start_info();

	printf("hello from a khyve test guest (CPL%u)\n", cpu_cpl());
	if (si != NULL)
		printf("start_info v%u at %p, cmdline \"%s\"\n", si->version,
		    (const void *)si, guest_cmdline());
	GCHECK(si != NULL);
	return (0);
}
