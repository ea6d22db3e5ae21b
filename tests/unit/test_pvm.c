/*
 * test_pvm.c: the PVM command-line quirks and the #PF-entry patch forms.
 */
#include <errno.h>
#include "arch/x86/pvm.h"
#include "test.h"

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

TEST_MAIN()
