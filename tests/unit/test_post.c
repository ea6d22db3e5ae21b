/*
 * test_post.c: the POST port latches writes, reads them back and calls
 * its hook.
 */
#include "arch/x86/layout.h"
#include "fake.h"
#include "hw/post.h"
#include "test.h"

static unsigned hook_calls;
static uint8_t hook_last;

static void
hook(void *arg, uint8_t val)
{
	CHECK(arg == &hook_calls);
	hook_calls++;
	hook_last = val;
}

TEST(latch_and_hook)
{
	struct fake_vm fv;
	struct post_softc *sc;

	fake_vm_init(&fv, 0, 1);
	sc = post_init(&fv.dc);
	CHECK(sc != NULL);
	if (sc == NULL)
		return;
	CHECK_EQ(io_register(&fv.bus, IO_PIO, IO_POST, 1, post_io, sc,
	    "post"), 0);
	CHECK_EQ(fake_in(&fv, IO_POST, 1), 0xff);
	fake_out(&fv, IO_POST, 1, 0x12);
	CHECK_EQ(fake_in(&fv, IO_POST, 1), 0x12);
	CHECK_EQ(hook_calls, 0);
	post_set_hook(sc, hook, &hook_calls);
	fake_out(&fv, IO_POST, 1, 0x34);
	fake_out(&fv, IO_POST, 1, 0x34);
	CHECK_EQ(hook_calls, 2);
	CHECK_EQ(hook_last, 0x34);
	CHECK_EQ(fake_in(&fv, IO_POST, 1), 0x34);
	post_set_hook(sc, NULL, NULL);
	fake_out(&fv, IO_POST, 1, 0x56);
	CHECK_EQ(hook_calls, 2);
	post_fini(sc);
	fake_vm_fini(&fv);
}

TEST_MAIN()
