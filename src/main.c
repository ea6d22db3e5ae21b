/*
 * main.c: khyve, bhyve's monitor on Linux KVM.
 *
 * As in bhyve: parse the command line into the config tree, build the
 * machine from it, start the vCPUs, then run the event loop until the
 * guest decides the VM's fate.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "backend/tty.h"
#include "boot.h"
#include "config.h"
#include "log.h"
#include "machine.h"
#include "mevent.h"
#include "opts.h"

/*
 * A closed stdin, stdout or stderr becomes /dev/null, so that the next
 * descriptor khyve opens (the epoll fd, a disk image) cannot take its
 * number and then be read or written as the console.
 */
static void
reserve_stdio(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", O_RDWR) != fd)
			_exit(KHYVE_EXIT_ERROR);
}

int
main(int argc, char *argv[])
{
	int error, status;

	reserve_stdio();
	boot_timer_start();
	log_init("khyve");
	config_init();
	error = opts_parse(argc, argv);
	if (error < 0)
		exit(0);			/* -h, -s help, -l help */
	if (error > 0)
		exit(error);
	log_setverbose((int)config_int64(NULL, "log.level", 0));
	if (config_bool(NULL, "config.dump", false)) {
		config_dump(stdout);
		exit(0);
	}
	if (mevent_init() != 0)
		fatal(KHYVE_EXIT_ERROR, "cannot create the event loop");
	machine_signals_init();

	machine_build();
	machine_start();
	status = mevent_dispatch();
	tty_drain_all();		/* the guest's last words, bounded */
	machine_report();
	exit(status);
}
