/*
 * boot.c: load the boot image named by boot.kernel / boot.initrd /
 * boot.cmdline and put vCPU 0 at its entry point.
 *
 * Kernel formats:
 *   - ELF with a XEN_ELFNOTE_PHYS32_ENTRY note: the PVH boot ABI
 *     (pvh.h): 32-bit protected mode, %ebx = hvm_start_info.
 *   - ELF without it (a Linux vmlinux): the Linux 64-bit boot protocol
 *     (linux64.h) at e_entry, as Firecracker does.
 *   - Linux bzImage: by default the monitor decompresses the payload into
 *     the ELF vmlinux, loads its segments and enters startup_64 directly,
 *     so the kernel's own decompressor never runs; with
 *     boot.decompress=guest the protected-mode kernel is loaded as is and
 *     entered at its 64-bit entry (load address + 0x200).
 * The file is read whole into host memory first, and checked and (for a
 * bzImage) decompressed before the VM exists, so a bad image is a usage
 * error that costs nothing.  Every loader checks what it reads against
 * the file size and guest RAM.
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
#include "arch/x86/bzimage.h"
#include "arch/x86/e820.h"
#include "arch/x86/elf.h"
#include "arch/x86/layout.h"
#include "arch/x86/linux64.h"
#include "arch/x86/pvh.h"
#include "arch/x86/pvm.h"
#include "boot.h"
#include "config.h"
#include "decompress.h"
#include "hw/post.h"
#include "log.h"
#include "machine.h"

#define BOOT_FILE_MAX		(1 * GiB)	/* kernel or initrd */
#define BOOT_VMLINUX_MAX	(1 * GiB)	/* decompressed payload */
#define BOOT_CMDLINE_MAX	(PVH_CMDLINE_MAX - 1)

struct boot_file {
	const char	*path;
	uint8_t		*data;
	size_t		len;
};

static struct boot_file kernel, initrd;
static enum {
	KERNEL_ELF,		/* kernel.data is an ELF file */
	KERNEL_BZIMAGE,		/* a bzImage entered at its 64-bit entry */
} kernel_kind;
static bool kernel_is_linux;		/* the PVM quirks are for Linux */
static struct bzimage_info bzinfo;	/* setup header (bzImage, or made up) */
static void *vmlinux;			/* payload decompressed by the monitor */
static size_t vmlinux_len;
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

/*
 * POST port writes: an OS marks its progress (e.g. init reached).  The
 * guest decides how often: Linux's io_delay writes there routinely, and a
 * loop can write millions of times, so the lines are rate-limited like
 * every other guest-triggered message.
 */
static void
boot_post_hook(void *arg, uint8_t val)
{
	static struct log_rl rl;
	char what[40];

	if (!boot_timer || !log_ratelimit(&rl))
		return;
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

/*
 * A setup header for a bare vmlinux, which has none: what the 64-bit
 * entry reads (boot.rst: boot_flag, "HdrS", version, loadflags,
 * initrd_addr_max, kernel_alignment, xloadflags, cmdline_size), with
 * Firecracker's values.
 */
static void
boot_synth_header(struct bzimage_info *bi)
{
	uint8_t *h = bi->bi_hdr;

#define HDR(off)	(h + (off) - BZ_HDR_OFF)
	memset(bi, 0, sizeof(*bi));
	HDR(0x1fe)[0] = 0x55;			/* boot_flag 0xaa55 */
	HDR(0x1fe)[1] = 0xaa;
	memcpy(HDR(0x202), "HdrS", 4);
	HDR(0x206)[0] = 0x0f;			/* version 2.15 */
	HDR(0x206)[1] = 0x02;
	HDR(0x211)[0] = BZ_LOADED_HIGH;
	memcpy(HDR(0x22c), "\xff\xff\xff\x7f", 4);	/* initrd_addr_max */
	memcpy(HDR(0x230), "\x00\x00\x00\x01", 4);	/* kernel_alignment */
	HDR(0x236)[0] = BZ_XLF_KERNEL_64;
	memcpy(HDR(0x238), "\xff\x07\x00\x00", 4);	/* cmdline_size 2047 */
#undef HDR
	bi->bi_hdr_len = 0x264 - BZ_HDR_OFF;
	bi->bi_version = 0x020f;
	bi->bi_initrd_addr_max = 0x7fffffff;
	bi->bi_cmdline_size = 2047;
	bi->bi_xloadflags = BZ_XLF_KERNEL_64;
	bi->bi_loadflags = BZ_LOADED_HIGH;
}

/* Decompress a bzImage's payload into the vmlinux ELF (monitor path). */
static void
boot_decompress(void)
{
	struct timespec t0, t1;
	char err[256];
	const char *k = kernel.path;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	err[0] = '\0';
	if (decompress(bzinfo.bi_payload, bzinfo.bi_payload_len,
	    BOOT_VMLINUX_MAX, &vmlinux, &vmlinux_len, err, sizeof(err)) != 0)
		fatalx(KHYVE_EXIT_USAGE, "--kernel %s: payload: %s", k, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!elf_probe(vmlinux, vmlinux_len))
		fatalx(KHYVE_EXIT_USAGE, "--kernel %s: the decompressed payload "
		    "is not an ELF vmlinux", k);
	log_info("--kernel %s: %s payload, %zu bytes -> vmlinux %zu bytes in "
	    "%.1f ms", k, decompress_fmt_name(decompress_detect(
	    bzinfo.bi_payload, bzinfo.bi_payload_len)), bzinfo.bi_payload_len,
	    vmlinux_len, (t1.tv_sec - t0.tv_sec) * 1e3 +
	    (t1.tv_nsec - t0.tv_nsec) / 1e6);
}

void
boot_check(void)
{
	const char *k, *i, *d;
	char err[256];
	int error;

	boot_timer = config_bool(NULL, "boot.timer", false);
	k = config_get(NULL, "boot.kernel");
	i = config_get(NULL, "boot.initrd");
	d = config_get(NULL, "boot.decompress");
	if (d != NULL && strcmp(d, "monitor") != 0 && strcmp(d, "guest") != 0)
		fatalx(KHYVE_EXIT_USAGE, "config: boot.decompress: '%s' is not "
		    "'monitor' or 'guest'", d);
	if (k == NULL)
		fatalx(KHYVE_EXIT_USAGE, "no boot image: give a kernel with "
		    "--kernel FILE");
	boot_read(&kernel, "--kernel", k);
	if (i != NULL)
		boot_read(&initrd, "--initrd", i);
	if (elf_probe(kernel.data, kernel.len)) {
		kernel_kind = KERNEL_ELF;
		/* A Linux vmlinux carries its banner in .rodata. */
		kernel_is_linux = memmem(kernel.data, kernel.len,
		    "Linux version ", 14) != NULL;
		boot_synth_header(&bzinfo);
		return;
	}
	err[0] = '\0';
	error = bzimage_parse(kernel.data, kernel.len, &bzinfo, err,
	    sizeof(err));
	if (error == -ENOEXEC)
		fatalx(KHYVE_EXIT_USAGE, "--kernel %s: not an ELF file or a "
		    "Linux bzImage", k);
	if (error != 0)
		fatalx(KHYVE_EXIT_USAGE, "--kernel %s: %s", k, err);
	kernel_kind = KERNEL_BZIMAGE;
	kernel_is_linux = true;
	if (d == NULL || strcmp(d, "monitor") == 0)
		boot_decompress();
}

void
boot_set_rsdp(uint64_t gpa)
{
	rsdp_gpa = gpa;
}

/*
 * The command line: boot.cmdline, plus the PVM host's switches when
 * x86.pvm_quirks is on and the kernel is Linux.  Returns a malloc'd
 * string.
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
	if (m->m_pvm_quirks && kernel_is_linux) {
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

/*
 * The Linux 64-bit boot protocol: zero page, command line, initrd, page
 * tables and GDT, vCPU 0 at entry.
 */
static void
boot_linux64(struct machine *m, uint64_t entry, uint64_t kernel_end,
    const char *cmdline)
{
	struct gmem *mem = vm_gmem(m->m_ctx);
	struct e820_entry map[E820_BUILD_MAX];
	struct boot_params_args a;
	struct boot_cpu_state cpu;
	uint8_t zp[BOOT_PARAMS_SIZE];
	int n, error;

	n = e820_build(map, (int)nitems(map), vm_get_lowmem_size(m->m_ctx),
	    vm_get_highmem_size(m->m_ctx));
	if (n < 0)
		fatalx(KHYVE_EXIT_ERROR, "cannot build the memory map");
	memset(&a, 0, sizeof(a));
	a.cmdline_gpa = LINUX_CMDLINE_GPA;
	a.cmdline_len = strlen(cmdline);
	if (a.cmdline_len > bzinfo.bi_cmdline_size)
		fatalx(KHYVE_EXIT_USAGE, "--cmdline: %zu bytes; this kernel "
		    "takes at most %u", a.cmdline_len, bzinfo.bi_cmdline_size);
	a.rsdp_gpa = rsdp_gpa;
	a.e820 = map;
	a.e820_count = (size_t)n;
	if (initrd.data != NULL) {
		if (bzimage_initrd_addr(&bzinfo, vm_get_lowmem_size(m->m_ctx),
		    initrd.len, kernel_end, &a.initrd_gpa) != 0)
			fatalx(KHYVE_EXIT_USAGE, "--initrd %s: %zu bytes do not "
			    "fit in guest memory between the kernel and "
			    "0x%x", initrd.path, initrd.len,
			    bzinfo.bi_initrd_addr_max);
		if (gmem_write(mem, a.initrd_gpa, initrd.data, initrd.len) != 0)
			fatalx(KHYVE_EXIT_ERROR, "--initrd: guest memory");
		a.initrd_size = initrd.len;
	}
	error = bzimage_boot_params(zp, &bzinfo, &a);
	if (error == 0)
		error = gmem_write(mem, LINUX_ZEROPAGE_GPA, zp, sizeof(zp));
	if (error == 0)
		error = gmem_write(mem, LINUX_CMDLINE_GPA, cmdline,
		    a.cmdline_len + 1);
	if (error == 0)
		error = linux64_setup(mem, entry, LINUX_ZEROPAGE_GPA, &cpu);
	if (error != 0)
		fatalx(KHYVE_EXIT_ERROR, "cannot write the Linux boot "
		    "structures: %s", strerror(-error));
	error = vm_set_boot_state(m->m_vcpus[0].vi_vcpu, &cpu);
	if (error != 0) {
		errno = -error;
		fatal(KHYVE_EXIT_ERROR, "cannot set the boot vCPU's registers");
	}
	log_info("Linux 64-bit boot: entry 0x%" PRIx64 ", boot_params 0x%llx",
	    entry, (unsigned long long)LINUX_ZEROPAGE_GPA);
}

/* boot.decompress=guest: load the protected-mode kernel as it is. */
static void
boot_bzimage_classic(struct machine *m, const char *cmdline)
{
	uint64_t load, need;

	load = bzinfo.bi_pref_address;
	if (bzinfo.bi_relocatable && bzinfo.bi_kernel_alignment != 0)
		load = roundup2(MAX(load, LEGACY_HOLE_END),
		    (uint64_t)bzinfo.bi_kernel_alignment);
	need = MAX((uint64_t)bzinfo.bi_init_size, bzinfo.bi_kernel_len);
	if (load < LEGACY_HOLE_END || !gmem_is_ram(vm_gmem(m->m_ctx), load, need))
		fatalx(KHYVE_EXIT_USAGE, "--kernel %s: needs %" PRIu64 " MiB "
		    "of RAM from 0x%" PRIx64 "; give the VM more memory (-m)",
		    kernel.path, (uint64_t)(need / MiB), load);
	if (gmem_write(vm_gmem(m->m_ctx), load, bzinfo.bi_kernel,
	    bzinfo.bi_kernel_len) != 0)
		fatalx(KHYVE_EXIT_ERROR, "--kernel: guest memory");
	boot_linux64(m, load + 0x200, load + need, cmdline);
}

void
boot_load(struct machine *m, struct post_softc *post)
{
	struct elf_info ei;
	char err[256], *cmdline;
	const void *elf;
	size_t elflen;

	post_set_hook(post, boot_post_hook, NULL);
	cmdline = boot_cmdline(m);
	if (kernel_kind == KERNEL_BZIMAGE && vmlinux == NULL) {
		boot_bzimage_classic(m, cmdline);
		goto done;
	}
	elf = vmlinux != NULL ? vmlinux : kernel.data;
	elflen = vmlinux != NULL ? vmlinux_len : kernel.len;
	err[0] = '\0';
	if (elf_load(elf, elflen, vm_gmem(m->m_ctx), &ei, err, sizeof(err)) != 0)
		fatalx(KHYVE_EXIT_USAGE, "--kernel %s: %s%s", kernel.path,
		    vmlinux != NULL ? "decompressed vmlinux: " : "", err);
	/* A vmlinux from a bzImage is entered at startup_64 even with a PVH note. */
	if (ei.has_pvh && vmlinux == NULL)
		boot_pvh(m, &ei, cmdline);
	else if (ei.elfclass != 64)
		fatalx(KHYVE_EXIT_USAGE, "--kernel %s: a 32-bit ELF file without "
		    "a PVH note cannot be booted", kernel.path);
	else
		boot_linux64(m, ei.entry, ei.hi, cmdline);
done:
	free(cmdline);
	free(kernel.data);
	free(initrd.data);
	free(vmlinux);
	kernel.data = initrd.data = NULL;
	vmlinux = NULL;
}
