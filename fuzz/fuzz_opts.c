/*
 * fuzz_opts.c: the command line and the config parsers.
 *
 * The input is split into words at NUL or newline bytes (at most 64) and
 * given to opts_parse() as argv; then each word goes through -o, the size
 * and boolean parsers and a read with %(var) expansion, the tree is
 * dumped, and finally the whole input is loaded as a -k file (through a
 * memfd, so nothing touches the disk).  None of these may exit, abort or
 * overrun.
 *
 * '/' in the words becomes '_', so "-k /dev/zero" or "-k /dev/tty" cannot
 * make a run read forever or block; a -k name then resolves (and almost
 * always fails) in the current directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "config.h"
#include "opts.h"
#include "pci/pci_emul.h"

#define MAXWORDS	64

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Named so the host bridge's linker-set entry is linked in. */
extern const struct pci_devemu pci_de_hostbridge;

/* Read every leaf back, expanding its %(var) references. */
static void
read_back(const char *path, const char *value, void *arg)
{
	(void)value;
	(void)arg;
	(void)config_get(NULL, path);
}

static int memfd = -1;
static char memfd_path[64];
static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* -h, -s help and -l help print on stdout; nothing reads stdin. */
	if (freopen("/dev/null", "w", stdout) == NULL ||
	    freopen("/dev/null", "r", stdin) == NULL)
		abort();
	devnull = fopen("/dev/null", "w");
	memfd = memfd_create("fuzz_opts", 0);
	if (memfd < 0 || devnull == NULL || pci_de_hostbridge.pe_emu == NULL)
		abort();
	snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[MAXWORDS + 2], *p, *end;
	uint64_t u;
	bool b;
	int argc, i, rc;

	buf = malloc(size + 1);
	if (buf == NULL)
		return (0);
	memcpy(buf, data, size);
	buf[size] = '\0';

	argc = 0;
	argv[argc++] = (char *)"khyve";
	for (p = buf, end = buf + size; p <= end && argc <= MAXWORDS; ) {
		argv[argc++] = p;
		while (p < end && *p != '\0' && *p != '\n') {
			if (*p == '/')
				*p = '_';
			p++;
		}
		*p++ = '\0';
	}
	argv[argc] = NULL;

	config_init();
	rc = opts_parse(argc, argv);
	if (rc != 0 && rc != -1 && rc != 64)
		abort();

	/* Word by word, on whatever tree the flags left. */
	for (i = 1; i < argc; i++) {
		(void)!config_parse_assignment(argv[i]);
		(void)!config_parse_size(argv[i], MiB, &u);
		(void)!config_parse_size(argv[i], 1, &u);
		(void)!config_parse_bool(argv[i], &b);
		(void)config_get(NULL, argv[i]);
		(void)!config_get_size(NULL, argv[i], 0, MiB, &u);
	}
	config_walk(NULL, read_back, NULL);
	config_dump(devnull);

	/* The same bytes as a -k file. */
	if (ftruncate(memfd, 0) == 0 &&
	    pwrite(memfd, data, size, 0) == (ssize_t)size) {
		config_init();
		(void)!config_load_file(memfd_path);
		config_walk(NULL, read_back, NULL);
		config_dump(devnull);
	}
	config_fini();
	free(buf);
	return (0);
}
