/*
 * boot.c: load the boot image named by boot.kernel / boot.initrd /
 * boot.cmdline and put vCPU 0 at its entry point.
 *
 * Kernel formats:
 *   - ELF with a XEN_ELFNOTE_PHYS32_ENTRY note: the PVH boot ABI
 *     (pvh.h): 32-bit protected mode, %ebx = hvm_start_info.
 * The file is read whole into host memory first; every loader checks
 * what it reads against the file size and guest RAM.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "arch/x86/e820.h"
#include "arch/x86/elf.h"
#include "arch/x86/layout.h"
#include "arch/x86/pvh.h"
#include "arch/x86/pvm.h"
#include "boot.h"
#include "config.h"
#include "hw/post.h"
#include "log.h"
#include "machine.h"

#define BOOT_FILE_MAX		(1 * GiB)	/* kernel or initrd */
#define BOOT_CMDLINE_MAX	(PVH_CMDLINE_MAX - 1)

struct boot_file {
	const char	*path;
	uint8_t		*data;
	size_t		len;
};

static struct boot_file kernel, initrd;
static uint64_t rsdp_gpa;
static struct timespec boot_t0;
static bool boot_timer;

void
boot_timer_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &boot_t0);
}

void
boot_timer_mark(const char *what)
{
	struct timespec now;
	double ms;

	if (!boot_timer)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - boot_t0.tv_sec) * 1e3 +
	    (now.tv_nsec - boot_t0.tv_nsec) / 1e6;
	fprintf(stderr, "khyve: boot.timer: %12.3f ms  %s\r\n", ms, what);
}

/* POST port writes: an OS marks its progress (e.g. init reached). */
static void
boot_post_hook(void *arg, uint8_t val)
{
	char what[40];

	snprintf(what, sizeof(what), "port 0x80 <- 0x%02x", val);
	boot_timer_mark(what);
}

/* Read a whole file; exits EX_USAGE naming the flag on any problem. */
static void
boot_read(struct boot_file *bf, const char *flag, const char *path)
{
	struct stat st;
	ssize_t n;
	size_t off;
	int fd;

	bf->path = path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fatal(KHYVE_EXIT_USAGE, "%s %s", flag, path);
	if (fstat(fd, &st) < 0)
		fatal(KHYVE_EXIT_USAGE, "%s %s", flag, path);
	if (!S_ISREG(st.st_mode))
		fatalx(KHYVE_EXIT_USAGE, "%s %s: not a regular file", flag, path);
	if (st.st_size == 0)
		fatalx(KHYVE_EXIT_USAGE, "%s %s: empty file", flag, path);
	if ((uint64_t)st.st_size > BOOT_FILE_MAX)
		fatalx(KHYVE_EXIT_USAGE, "%s %s: larger than %llu MiB", flag,
		    path, (unsigned long long)(BOOT_FILE_MAX / MiB));
	bf->len = (size_t)st.st_size;
	bf->data = malloc(bf->len);
	if (bf->data == NULL)
		fatal(KHYVE_EXIT_ERROR, "%s %s", flag, path);
	for (off = 0; off < bf->len; off += (size_t)n) {
		n = read(fd, bf->data + off, bf->len - off);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			fatal(KHYVE_EXIT_USAGE, "%s %s: read", flag, path);
	}
	close(fd);
}

void
boot_check(void)
{
	const char *k, *i;

	boot_timer = config_bool(NULL, "boot.timer", false);
	k = config_get(NULL, "boot.kernel");
	i = config_get(NULL, "boot.initrd");
	if (k == NULL)
		fatalx(KHYVE_EXIT_USAGE, "no boot image: give a kernel with "
		    "--kernel FILE");
	boot_read(&kernel, "--kernel", k);
	if (!elf_probe(kernel.data, kernel.len))
		fatalx(KHYVE_EXIT_USAGE, "--kernel %s: not an ELF file", k);
	if (i != NULL)
		boot_read(&initrd, "--initrd", i);
}

void
boot_set_rsdp(uint64_t gpa)
{
	rsdp_gpa = gpa;
}

/*
 * The command line: boot.cmdline, plus the PVM host's switches when
 * x86.pvm_quirks is on.  Returns a malloc'd string.
 */
static char *
boot_cmdline(struct machine *m)
{
	const char *c = config_get(NULL, "boot.cmdline"), *added;
	char *buf;
	int n;

	if (c == NULL)
		c = "";
	if (strlen(c) > BOOT_CMDLINE_MAX)
		fatalx(KHYVE_EXIT_USAGE, "--cmdline: longer than %llu bytes",
		    (unsigned long long)BOOT_CMDLINE_MAX);
	buf = calloc(1, BOOT_CMDLINE_MAX + 1);
	if (buf == NULL)
		fatal(KHYVE_EXIT_ERROR, "cmdline");
	strcpy(buf, c);
	if (m->m_pvm_quirks) {
		n = pvm_cmdline_quirks(buf, BOOT_CMDLINE_MAX + 1, &added);
		if (n < 0)
			fatalx(KHYVE_EXIT_USAGE, "--cmdline: no room for the "
			    "switches this host needs");
		if (n > 0)
			log_warnx("PVM host: appended to the kernel command "
			    "line: %s", added);
	}
	return (buf);
}

/*
 * Put the initrd at the top of low memory (page-aligned), above the
 * kernel.  Returns its guest-physical address.
 */
static uint64_t
boot_place_initrd(struct machine *m, uint64_t kernel_end, uint64_t limit)
{
	uint64_t top, gpa;

	top = MIN(vm_get_lowmem_size(m->m_ctx), limit);
	if (initrd.len > top || rounddown2(top - initrd.len, 4096) < kernel_end)
		fatalx(KHYVE_EXIT_USAGE, "--initrd %s: %zu bytes do not fit in "
		    "guest memory below 0x%" PRIx64 " above the kernel",
		    initrd.path, initrd.len, top);
	gpa = rounddown2(top - initrd.len, 4096);
	if (gmem_write(vm_gmem(m->m_ctx), gpa, initrd.data, initrd.len) != 0)
		fatalx(KHYVE_EXIT_ERROR, "--initrd: cannot write guest memory");
	return (gpa);
}

static void
boot_pvh(struct machine *m, const struct elf_info *ei, const char *cmdline)
{
	struct e820_entry map[E820_BUILD_MAX];
	struct boot_cpu_state cpu;
	struct pvh_params p;
	uint64_t si;
	int n, error;

	n = e820_build(map, (int)nitems(map), vm_get_lowmem_size(m->m_ctx),
	    vm_get_highmem_size(m->m_ctx));
	if (n < 0)
		fatalx(KHYVE_EXIT_ERROR, "cannot build the memory map");
	memset(&p, 0, sizeof(p));
	p.cmdline = cmdline;
	p.rsdp_gpa = rsdp_gpa;
	p.e820 = map;
	p.ne820 = n;
	if (initrd.data != NULL) {
		p.initrd_gpa = boot_place_initrd(m, ei->hi, 4 * GiB);
		p.initrd_size = initrd.len;
	}
	error = pvh_setup(vm_gmem(m->m_ctx), &p, &si);
	if (error != 0)
		fatalx(KHYVE_EXIT_USAGE, "--kernel %s: cannot set up the PVH "
		    "boot structures: %s", kernel.path, strerror(-error));
	pvh_cpu_state(ei->pvh_entry, si, &cpu);
	error = vm_set_boot_state(m->m_vcpus[0].vi_vcpu, &cpu);
	if (error != 0) {
		errno = -error;
		fatal(KHYVE_EXIT_ERROR, "cannot set the boot vCPU's registers");
	}
	log_info("PVH boot: entry 0x%" PRIx64 ", start_info 0x%" PRIx64,
	    ei->pvh_entry, si);
}

void
boot_load(struct machine *m, struct post_softc *post)
{
	struct elf_info ei;
	char err[256], *cmdline;

	post_set_hook(post, boot_post_hook, NULL);
	cmdline = boot_cmdline(m);
	err[0] = '\0';
	if (elf_load(kernel.data, kernel.len, vm_gmem(m->m_ctx), &ei, err,
	    sizeof(err)) != 0)
		fatalx(KHYVE_EXIT_USAGE, "--kernel %s: %s", kernel.path, err);
	if (!ei.has_pvh)
		fatalx(KHYVE_EXIT_USAGE, "--kernel %s: the ELF file has no PVH "
		    "entry note (XEN_ELFNOTE_PHYS32_ENTRY)", kernel.path);
	boot_pvh(m, &ei, cmdline);
	free(cmdline);
	free(kernel.data);
	free(initrd.data);
	kernel.data = initrd.data = NULL;
}
