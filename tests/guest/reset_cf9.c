/*
 * reset_cf9: resets through the FADT reset register, or port 0xCF9 when
 * the FADT has none (khyve exit status 0).
 */
#include "kit.h"

int
guest_main(void)
{
	printf("resetting through the reset control register\n");
	guest_reset_cf9();
}
