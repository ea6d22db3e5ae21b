/*
 * reset_kbd: resets through the keyboard controller's pulse-reset command
 * 0xFE on port 0x64 (khyve exit status 0).
 */
#include "kit.h"

int
guest_main(void)
{
	printf("resetting through the keyboard controller\n");
	guest_reset_kbd();
}
