/*
 * test_vmm.c: guest RAM as vm_setup_memory() maps it: each part starts
 * on a huge-page boundary between PROT_NONE guards, a host access just
 * outside it kills the process with SIGSEGV, and gmem's bounds checks
 * still hold at the edges.  Needs /dev/kvm (SKIP otherwise).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>
#include "arch/x86/layout.h"
#include "gmem.h"
#include "test.h"
#include "vmm.h"

#define HUGE_PAGE	(2ULL << 20)

static struct vmctx *
open_vm(void)
{
	struct vmctx *ctx;

	ctx = vm_create("test_vmm");
	if (ctx == NULL)
		printf("  cannot create a VM: %s\n", strerror(errno));
	return (ctx);
}

/*
 * Touch the byte at p (a read or a write) in a child: the child's fate,
 * as a signal number, 0 when it came through, -1 if it could not run.
 */
static int
touch(volatile uint8_t *p, bool write)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return (-1);
	if (pid == 0) {
		/* Not the sanitizer runtime's handler: die of the signal. */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		if (write)
			*p = 0x5a;
		else
			(void)*p;
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid)
		return (-1);
	if (WIFSIGNALED(st))
		return (WTERMSIG(st));
	return (WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1);
}

/* The edges of one RAM part of len bytes at hva (guest-physical gpa). */
static void
check_part(const struct gmem *gm, uint8_t *hva, uint64_t gpa, uint64_t len)
{
	uint8_t b;

	CHECK(hva != NULL);
	if (hva == NULL)
		return;
	CHECK_EQ((uintptr_t)hva % HUGE_PAGE, 0);
	/* Inside: the first and last bytes are RAM, in the parent and a child. */
	CHECK(gmem_ptr(gm, gpa, len) == hva);
	CHECK_EQ(touch(hva, true), 0);
	CHECK_EQ(touch(hva + len - 1, true), 0);
	CHECK_EQ(gmem_read(gm, gpa + len - 1, &b, 1), 0);
	/* One byte beyond either end: the guard. */
	CHECK_EQ(touch(hva - 1, false), SIGSEGV);
	CHECK_EQ(touch(hva - 1, true), SIGSEGV);
	CHECK_EQ(touch(hva + len, false), SIGSEGV);
	CHECK_EQ(touch(hva + len, true), SIGSEGV);
	/* The far end of each guard. */
	CHECK_EQ(touch(hva - HUGE_PAGE, true), SIGSEGV);
	CHECK_EQ(touch(hva + len + HUGE_PAGE - 1, true), SIGSEGV);
	/* gmem never hands out the guard. */
	CHECK(gmem_ptr(gm, gpa + len - 1, 2) == NULL);
	CHECK(gmem_ptr(gm, gpa + len, 1) == NULL);
	CHECK_EQ(gmem_read(gm, gpa + len - 1, &b, 2),
	    gmem_is_ram(gm, gpa + len, 1) ? 0 : -EFAULT);
	if (gpa > 0)
		CHECK(gmem_ptr(gm, gpa - 1, 2) == NULL);
}

TEST(guards_around_ram)
{
	struct vmctx *ctx = open_vm();
	uint64_t len;
	uint8_t *hva;

	if (ctx == NULL)
		TEST_SKIP("no usable /dev/kvm");
	/* Not a multiple of 2 MiB: the end guard starts mid huge page. */
	CHECK_EQ(vm_setup_memory(ctx, 9 * HUGE_PAGE + 4096, false, false), 0);
	hva = vm_guest_base(ctx, &len);
	CHECK_EQ(len, 9 * HUGE_PAGE + 4096);
	CHECK_EQ(vm_get_highmem_size(ctx), 0);
	check_part(vm_gmem(ctx), hva, 0, len);
	/* A second call is refused; the mapping stays. */
	CHECK_EQ(vm_setup_memory(ctx, 4096, false, false), -EINVAL);
	CHECK(gmem_ptr(vm_gmem(ctx), 0, len) == hva);
	vm_destroy(ctx);
}

TEST(guards_around_highmem)
{
	struct vmctx *ctx = open_vm();
	const struct gmem *gm;
	uint64_t high = 3 * HUGE_PAGE;
	uint8_t *low, *hi;

	if (ctx == NULL)
		TEST_SKIP("no usable /dev/kvm");
	/* Sparse: only the pages touched below are ever allocated. */
	CHECK_EQ(vm_setup_memory(ctx, LOWMEM_LIMIT + high, false, false), 0);
	CHECK_EQ(vm_get_lowmem_size(ctx), LOWMEM_LIMIT);
	CHECK_EQ(vm_get_highmem_size(ctx), high);
	gm = vm_gmem(ctx);
	low = vm_guest_base(ctx, NULL);
	hi = gmem_ptr(gm, HIGHMEM_BASE, high);
	check_part(gm, low, 0, LOWMEM_LIMIT);
	check_part(gm, hi, HIGHMEM_BASE, high);
	/* The two parts are apart in the host, a guard between them. */
	CHECK(hi != NULL && hi >= low + LOWMEM_LIMIT + HUGE_PAGE);
	/* And one memfd: the high part is the file past the low part. */
	CHECK_EQ(gmem_write32(gm, HIGHMEM_BASE, 0x12345678), 0);
	CHECK(hi != NULL && *(volatile uint32_t *)hi == 0x12345678);
	vm_destroy(ctx);
}

TEST(bad_sizes)
{
	struct vmctx *ctx = open_vm();

	if (ctx == NULL)
		TEST_SKIP("no usable /dev/kvm");
	CHECK_EQ(vm_setup_memory(ctx, 0, false, false), -EINVAL);
	CHECK_EQ(vm_setup_memory(ctx, 4095, false, false), -EINVAL);
	CHECK_EQ(vm_setup_memory(ctx, UINT64_MAX & ~0xfffULL, false, false),
	    -ENOMEM);
	vm_destroy(ctx);
}

TEST_MAIN()
