/*
 * test_pvm.c: the PVM command-line quirks, the #PF-entry patch forms, the
 * arming and re-patching of the entry (kexec included), and which user
 * faults at LSTAR count as a SYSCALL.
 */
#include <errno.h>
#include "arch/x86/pvm.h"
#include "test.h"

#define RAM		0x10000
#define ENTRY_A		0x2000		/* gpa of a #PF entry */
#define ENTRY_B		0x5000		/* a kexec'd kernel's */
#define LINUX_SFMASK	0x47700		/* TF DF IF IOPL NT AC */

static uint8_t ram[RAM];

static struct gmem
ram_init(void)
{
	struct gmem gm;

	memset(ram, 0xcc, sizeof(ram));
	gmem_init(&gm);
	if (gmem_add(&gm, 0, sizeof(ram), ram) != 0)
		abort();
	return (gm);
}

static void
put(uint64_t gpa, const uint8_t *b, size_t n)
{
	memcpy(ram + gpa, b, n);
}

#define BLACKLISTS "initcall_blacklist=ftrace_check_for_weak_functions " \
	"initcall_blacklist=trace_eval_init " \
	"initcall_blacklist=blake2s_mod_init,crypto_kdf108_init"

TEST(cmdline_adds_each_switch_once)
{
	char buf[512] = "console=ttyS0 panic=-1";
	const char *added;

	CHECK_EQ(pvm_cmdline_quirks(buf, sizeof(buf), &added), 8);
	CHECK_STR(buf, "console=ttyS0 panic=-1 noxsave "
	    "clearcpuid=137,141,151,308 cryptomgr.notests nowatchdog "
	    "init_on_alloc=0 " BLACKLISTS);
	CHECK_STR(added, "noxsave clearcpuid=137,141,151,308 "
	    "cryptomgr.notests nowatchdog init_on_alloc=0 " BLACKLISTS);
	/* A second pass adds nothing. */
	CHECK_EQ(pvm_cmdline_quirks(buf, sizeof(buf), &added), 0);
	CHECK_STR(added, "");
}

TEST(user_values_win)
{
	char buf[512] = "init_on_alloc=1 noxsave clearcpuid=1";
	const char *added;

	CHECK_EQ(pvm_cmdline_quirks(buf, sizeof(buf), &added), 5);
	CHECK_STR(buf, "init_on_alloc=1 noxsave clearcpuid=1 "
	    "cryptomgr.notests nowatchdog " BLACKLISTS);
	/* "noxsaveopt" is another switch, not "noxsave". */
	strcpy(buf, "noxsaveopt");
	CHECK_EQ(pvm_cmdline_quirks(buf, sizeof(buf), NULL), 8);
}

TEST(blacklists_accumulate)
{
	char buf[512] = "initcall_blacklist=foo "
	    "initcall_blacklist=trace_eval_init";
	const char *p;

	/* The kernel adds every initcall_blacklist= to one list: khyve's go
	 * in beside the user's, but not twice. */
	CHECK_EQ(pvm_cmdline_quirks(buf, sizeof(buf), NULL), 7);
	CHECK(strstr(buf, "initcall_blacklist=foo ") != NULL);
	CHECK(strstr(buf, "=ftrace_check_for_weak_functions") != NULL);
	p = strstr(buf, "trace_eval_init");
	CHECK(p != NULL && strstr(p + 1, "trace_eval_init") == NULL);
}

TEST(cmdline_too_small)
{
	char buf[24] = "console=ttyS0";

	CHECK_EQ(pvm_cmdline_quirks(buf, sizeof(buf), NULL), -E2BIG);
}

TEST(patch_forms)
{
	static const uint8_t endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	static const uint8_t nop3[] = { 0x0f, 0x1f, 0x00, 0xfc };
	static const uint8_t nop4[] = { 0x0f, 0x1f, 0x40, 0x00 };
	static const uint8_t ours[] = { 0xe6, PVM_HOOK_PORT, 0x90, 0xfc };
	static const uint8_t other[] = { 0x55, 0x48, 0x89, 0xe5 };
	static const uint8_t pad3[] = { 0x90, 0x90, 0x90, 0xfc };
	static const uint8_t pad2[] = { 0x90, 0x90, 0xfc, 0x90 };
	uint8_t out[4];

	CHECK_EQ(pvm_patch_for(endbr, 4, out), 4);
	CHECK_EQ(out[0], 0xe6);
	CHECK_EQ(out[1], PVM_HOOK_PORT);
	CHECK_EQ(out[2], 0x66);
	CHECK_EQ(out[3], 0x90);
	CHECK_EQ(pvm_patch_for(nop3, 4, out), 3);
	CHECK_EQ(out[2], 0x90);
	CHECK_EQ(pvm_patch_for(nop4, 4, out), 4);
	CHECK_EQ(pvm_patch_for(ours, 4, out), 0);
	CHECK_EQ(pvm_patch_for(other, 4, out), 0);
	CHECK_EQ(pvm_patch_for(endbr, 3, out), 0);
	CHECK_EQ(pvm_patch_for(pad3, 4, out), 3);
	CHECK_EQ(out[2], 0x90);
	CHECK_EQ(pvm_patch_for(pad2, 4, out), 2);
}

static const uint8_t nop3[] = { 0x0f, 0x1f, 0x00 };
static const uint8_t pad3[] = { 0x90, 0x90, 0x90 };
static const uint8_t hook3[] = { 0xe6, PVM_HOOK_PORT, 0x90 };

TEST(arm_patches_once)
{
	struct pvm_state ps = PVM_STATE_INITIALIZER;
	struct gmem gm = ram_init();

	put(ENTRY_A, nop3, 3);
	CHECK_EQ(pvm_arm_at(&ps, &gm, 0xffff2000, ENTRY_A), 0);
	CHECK(memcmp(ram + ENTRY_A, hook3, 3) == 0);
	CHECK_EQ(ram[ENTRY_A + 3], 0xcc);
	CHECK_EQ(ps.ps_pf_gpa, ENTRY_A);
	CHECK_EQ(ps.ps_entry, 0xffff2000);
	/* Another CPU's LSTAR write changes nothing. */
	ram[ENTRY_A + 3] = 0x11;
	CHECK_EQ(pvm_arm_at(&ps, &gm, 0xffff2000, ENTRY_A), 0);
	CHECK(memcmp(ram + ENTRY_A, hook3, 3) == 0);
	CHECK_EQ(ram[ENTRY_A + 3], 0x11);
	/* An entry across a page, or outside RAM. */
	CHECK_EQ(pvm_arm_at(&ps, &gm, 0, 0xffd), -EFAULT);
	CHECK_EQ(pvm_arm_at(&ps, &gm, 0, RAM), -EFAULT);
}

TEST(arm_refuses_unknown_bytes)
{
	static const uint8_t prologue[] = { 0x55, 0x48, 0x89, 0xe5 };
	struct pvm_state ps = PVM_STATE_INITIALIZER;
	struct gmem gm = ram_init();

	put(ENTRY_A, prologue, 4);
	CHECK_EQ(pvm_arm_at(&ps, &gm, 0, ENTRY_A), -ENOEXEC);
	CHECK_EQ(pvm_arm_at(&ps, &gm, 0, ENTRY_A), -ENOEXEC);
	CHECK(memcmp(ram + ENTRY_A, prologue, 4) == 0);
	CHECK_EQ(ps.ps_pf_gpa, 0);
	/* A later kernel with a known entry is armed all the same. */
	put(ENTRY_B, nop3, 3);
	CHECK_EQ(pvm_arm_at(&ps, &gm, 0, ENTRY_B), 0);
	CHECK_EQ(ps.ps_pf_gpa, ENTRY_B);
}

TEST(repatch_is_bounded)
{
	struct pvm_state ps = PVM_STATE_INITIALIZER;
	struct gmem gm = ram_init();
	unsigned i;

	put(ENTRY_A, pad3, 3);
	CHECK_EQ(pvm_arm_at(&ps, &gm, 0, ENTRY_A), 0);
	/* Intact: nothing written. */
	pvm_check_patch(&ps, &gm);
	CHECK(memcmp(ram + ENTRY_A, hook3, 3) == 0);
	CHECK_EQ(ps.ps_rewrites, 0);
	/* Alternatives put an optimised NOP back: patched again. */
	for (i = 0; i < PVM_REPATCH_MAX; i++) {
		put(ENTRY_A, i % 2 ? pad3 : nop3, 3);
		pvm_check_patch(&ps, &gm);
		CHECK(memcmp(ram + ENTRY_A, hook3, 3) == 0);
	}
	/* ... but not forever. */
	put(ENTRY_A, nop3, 3);
	pvm_check_patch(&ps, &gm);
	pvm_check_patch(&ps, &gm);
	CHECK(memcmp(ram + ENTRY_A, nop3, 3) == 0);
	/* The guest's next LSTAR write arms it afresh. */
	CHECK_EQ(pvm_arm_at(&ps, &gm, 0, ENTRY_A), 0);
	CHECK(memcmp(ram + ENTRY_A, hook3, 3) == 0);
	CHECK_EQ(ps.ps_rewrites, 0);
}

TEST(repatch_leaves_other_bytes)
{
	static const uint8_t endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	static const uint8_t code[] = { 0x48, 0x89, 0xe5 };
	struct pvm_state ps = PVM_STATE_INITIALIZER;
	struct gmem gm = ram_init();

	put(ENTRY_A, nop3, 3);
	CHECK_EQ(pvm_arm_at(&ps, &gm, 0, ENTRY_A), 0);
	/* Not a NOP form: the guest's own code now. */
	put(ENTRY_A, code, 3);
	pvm_check_patch(&ps, &gm);
	CHECK(memcmp(ram + ENTRY_A, code, 3) == 0);
	/* A NOP form of another length is not what was replaced either. */
	put(ENTRY_A, endbr, 4);
	pvm_check_patch(&ps, &gm);
	CHECK(memcmp(ram + ENTRY_A, endbr, 4) == 0);
}

TEST(kexec_moves_the_entry)
{
	struct pvm_state ps = PVM_STATE_INITIALIZER;
	struct gmem gm = ram_init();
	unsigned i;

	put(ENTRY_A, nop3, 3);
	CHECK_EQ(pvm_arm_at(&ps, &gm, 0xffff2000, ENTRY_A), 0);
	/* The new kernel's IDT points elsewhere; it writes LSTAR. */
	put(ENTRY_B, nop3, 3);
	CHECK_EQ(pvm_arm_at(&ps, &gm, 0xffff5000, ENTRY_B), 0);
	CHECK(memcmp(ram + ENTRY_B, hook3, 3) == 0);
	CHECK_EQ(ps.ps_pf_gpa, ENTRY_B);
	CHECK_EQ(ps.ps_entry, 0xffff5000);
	/* The old entry is the new kernel's memory: NOPs there stay. */
	put(ENTRY_A, pad3, 3);
	for (i = 0; i < 4; i++)
		pvm_check_patch(&ps, &gm);
	CHECK(memcmp(ram + ENTRY_A, pad3, 3) == 0);
	CHECK(memcmp(ram + ENTRY_B, hook3, 3) == 0);
}

TEST(kexec_same_address)
{
	struct pvm_state ps = PVM_STATE_INITIALIZER;
	struct gmem gm = ram_init();

	/* The same kernel again: its fresh text at the old address. */
	put(ENTRY_A, nop3, 3);
	CHECK_EQ(pvm_arm_at(&ps, &gm, 0, ENTRY_A), 0);
	put(ENTRY_A, pad3, 3);
	CHECK_EQ(pvm_arm_at(&ps, &gm, 0, ENTRY_A), 0);
	CHECK(memcmp(ram + ENTRY_A, hook3, 3) == 0);
}

TEST(syscall_left)
{
	static const uint8_t sc[2] = { 0x0f, 0x05 };
	static const uint8_t other[2] = { 0x0f, 0x0b };

	/* The frame shows R11 masked by SFMASK (and RF), as PVM leaves it. */
	CHECK(pvm_syscall_left(sc, 0x246, 0x046, LINUX_SFMASK));
	CHECK(pvm_syscall_left(sc, 0x246, 0x10046, LINUX_SFMASK));
	CHECK(pvm_syscall_left(sc, 0x202, 0x10002, LINUX_SFMASK));
	CHECK(pvm_syscall_left(sc, 0x642, 0x042, LINUX_SFMASK));
	/* R11 must claim no privilege: IOPL 3 or IF 0 is refused. */
	CHECK(!pvm_syscall_left(sc, 0x3246, 0x046, LINUX_SFMASK));
	CHECK(!pvm_syscall_left(sc, 0x046, 0x046, LINUX_SFMASK));
	/* The unmasked form is not what a SYSCALL leaves here. */
	CHECK(!pvm_syscall_left(sc, 0x246, 0x246, LINUX_SFMASK));
	CHECK(!pvm_syscall_left(sc, 0x3246, 0x3246, LINUX_SFMASK));
	CHECK(!pvm_syscall_left(sc, 0x3046, 0x3046, LINUX_SFMASK));
	/* A jump to LSTAR: no syscall before RCX, or R11 made up. */
	CHECK(!pvm_syscall_left(NULL, 0x246, 0x246, LINUX_SFMASK));
	CHECK(!pvm_syscall_left(other, 0x246, 0x246, LINUX_SFMASK));
	CHECK(!pvm_syscall_left(sc, 0x3002, 0x246, LINUX_SFMASK));
	CHECK(!pvm_syscall_left(sc, 0x3002, 0x202, LINUX_SFMASK));
	CHECK(!pvm_syscall_left(sc, 0x3202, 0x202, LINUX_SFMASK));
	CHECK(!pvm_syscall_left(sc, 0x002, 0x202, LINUX_SFMASK));
	CHECK(!pvm_syscall_left(sc, 0x20246, 0x246, LINUX_SFMASK));
	/* Without IF in SFMASK the masked form must keep IF = 1, IOPL 0. */
	CHECK(!pvm_syscall_left(sc, 0x3202, 0x202, 0x3000));
	CHECK(!pvm_syscall_left(sc, 0x3002, 0x002, 0x3000));
}

TEST_MAIN()
