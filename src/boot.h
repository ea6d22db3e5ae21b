/*
 * boot.h: the boot image (--kernel, --initrd, --cmdline) and the boot
 * timer.
 *
 * boot_check() validates the files before the VM exists, so bad input is
 * a usage error (EX_USAGE) with nothing created; boot_load() puts the
 * image in guest memory and the BSP in the entry state.
 */
#ifndef BOOT_H
#define BOOT_H

#include <stdint.h>

struct machine;
struct post_softc;

/* Read and validate boot.kernel / boot.initrd; exits 64 on bad input. */
void	boot_check(void);
/* Where the ACPI RSDP is, for start_info / boot_params. */
void	boot_set_rsdp(uint64_t gpa);
/* Load the image and set up vCPU 0.  Exits 4 on failure. */
void	boot_load(struct machine *m, struct post_softc *post);

/*
 * Boot timer (boot.timer=true): log milestones with the time since exec.
 * boot_timer_start() is called first thing in main().
 */
void	boot_timer_start(void);
void	boot_timer_mark(const char *what);

#endif /* BOOT_H */
