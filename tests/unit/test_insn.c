/*
 * test_insn.c: the emulation-failure instruction recogniser, on the byte
 * sequences a Debian 6.1 kernel was seen to produce.
 */
#include "arch/x86/insn.h"
#include "test.h"

static struct insn
dec(const uint8_t *b, size_t n)
{
	struct insn in;

	insn_decode(b, n, &in);
	return (in);
}

#define DEC(...) ({ static const uint8_t __b[] = { __VA_ARGS__ };	\
	dec(__b, sizeof(__b)); })

TEST(int3_and_fwait)
{
	struct insn in;

	in = DEC(0xcc, 0x90, 0x90);
	CHECK_EQ(in.kind, INSN_INT3);
	CHECK_EQ(in.len, 1);
	CHECK_STR(in.name, "int3");
	in = DEC(0x9b);
	CHECK_EQ(in.kind, INSN_FWAIT);
	CHECK_EQ(in.len, 1);
	in = DEC(0x3e, 0xcc);			/* prefixed */
	CHECK_EQ(in.kind, INSN_INT3);
	CHECK_EQ(in.len, 2);
}

TEST(known_unsupported)
{
	CHECK_EQ(DEC(0x0f, 0x01, 0xca).kind, INSN_CLAC);
	CHECK_EQ(DEC(0x0f, 0x01, 0xcb).kind, INSN_STAC);
	CHECK_EQ(DEC(0xf3, 0x48, 0x0f, 0xb8, 0xc7).kind, INSN_POPCNT);
	CHECK_EQ(DEC(0xf0, 0x48, 0x0f, 0xc7, 0x0e).kind, INSN_CMPXCHG16B);
	CHECK_STR(DEC(0xf0, 0x48, 0x0f, 0xc7, 0x0e).name, "lock cmpxchg16b");
	CHECK_EQ(DEC(0x48, 0x0f, 0xae, 0x2f).kind, INSN_XSAVE);
	CHECK_STR(DEC(0x48, 0x0f, 0xae, 0x2f).name, "xrstor64");
	CHECK_EQ(DEC(0x0f, 0xae, 0x54, 0x24, 0x04).kind, INSN_LDMXCSR);
	CHECK_EQ(DEC(0x0f, 0x0b).kind, INSN_UD2);
	CHECK_EQ(DEC(0x66, 0x0f, 0x38, 0x00, 0xc1).kind, INSN_SSE);
}

TEST(unknown_and_truncated)
{
	CHECK_EQ(DEC(0x90).kind, INSN_UNKNOWN);
	CHECK_EQ(DEC(0x0f).kind, INSN_UNKNOWN);
	CHECK_EQ(DEC(0x0f, 0x01).kind, INSN_UNKNOWN);
	CHECK_EQ(DEC(0x0f, 0xae, 0xf0).kind, INSN_UNKNOWN);	/* mfence */
	CHECK_EQ(DEC(0x0f, 0xb8, 0xc7).kind, INSN_UNKNOWN);	/* no f3 */
	CHECK_EQ(dec(NULL, 0).kind, INSN_UNKNOWN);
	/* 15 prefix bytes: never read past the end. */
	CHECK_EQ(DEC(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	    0x66, 0x66, 0x66, 0x66, 0x66, 0x66).kind, INSN_UNKNOWN);
}

TEST_MAIN()
