/*
 * test_pvm.c: the PVM command-line quirks and the #PF-entry patch forms.
 */
#include <errno.h>
#include "arch/x86/pvm.h"
#include "test.h"

TEST(cmdline_adds_each_switch_once)
{
	char buf[512] = "console=ttyS0 panic=-1";
	const char *added;

	CHECK_EQ(pvm_cmdline_quirks(buf, sizeof(buf), &added), 6);
	CHECK_STR(buf, "console=ttyS0 panic=-1 noxsave "
	    "clearcpuid=137,141,151,308 cryptomgr.notests nowatchdog "
	    "init_on_alloc=0 initcall_blacklist=ftrace_check_for_weak_functions");
	CHECK_STR(added, "noxsave clearcpuid=137,141,151,308 "
	    "cryptomgr.notests nowatchdog init_on_alloc=0 "
	    "initcall_blacklist=ftrace_check_for_weak_functions");
	/* A second pass adds nothing. */
	CHECK_EQ(pvm_cmdline_quirks(buf, sizeof(buf), &added), 0);
	CHECK_STR(added, "");
}

TEST(user_values_win)
{
	char buf[512] = "init_on_alloc=1 noxsave clearcpuid=1";
	const char *added;

	char bl[512] = "initcall_blacklist=foo";

	CHECK_EQ(pvm_cmdline_quirks(buf, sizeof(buf), &added), 3);
	CHECK_STR(buf, "init_on_alloc=1 noxsave clearcpuid=1 "
	    "cryptomgr.notests nowatchdog "
	    "initcall_blacklist=ftrace_check_for_weak_functions");
	/* A blacklist of the user's own is left as it is. */
	CHECK_EQ(pvm_cmdline_quirks(bl, sizeof(bl), NULL), 5);
	CHECK(strstr(bl, "ftrace_check") == NULL);
	/* "noxsaveopt" is another switch, not "noxsave". */
	strcpy(buf, "noxsaveopt");
	CHECK_EQ(pvm_cmdline_quirks(buf, sizeof(buf), NULL), 6);
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

TEST_MAIN()
