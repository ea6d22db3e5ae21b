/*
 * insn.c: recognise the instructions of insn.h from their bytes.
 */
#include <stdbool.h>
#include "insn.h"

static bool
is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
		return (true);
	default:
		return (false);
	}
}

static void
set(struct insn *out, enum insn_kind kind, unsigned len, const char *name)
{
	out->kind = kind;
	out->len = len;
	out->name = name;
}

void
insn_decode(const uint8_t *b, size_t n, struct insn *out)
{
	bool rep = false, rexw = false, lock = false;
	size_t i = 0;
	uint8_t modrm, reg, mod;

	set(out, INSN_UNKNOWN, 0, "unknown");
	/* At most 14 prefix bytes: an instruction is at most 15 bytes. */
	while (i < n && i < 14 && is_legacy_prefix(b[i])) {
		if (b[i] == 0xf3)
			rep = true;
		if (b[i] == 0xf0)
			lock = true;
		i++;
	}
	if (i < n && (b[i] & 0xf0) == 0x40) {	/* REX, 64-bit mode */
		rexw = (b[i] & 0x08) != 0;
		i++;
	}
	if (i >= n)
		return;
	switch (b[i]) {
	case 0xcc:
		set(out, INSN_INT3, i + 1, "int3");
		return;
	case 0x9b:
		set(out, INSN_FWAIT, i + 1, "fwait");
		return;
	case 0x0f:
		break;
	default:
		return;
	}
	if (++i >= n)
		return;
	switch (b[i]) {
	case 0x0b:
		set(out, INSN_UD2, i + 1, "ud2");
		return;
	case 0x01:
		if (i + 1 < n && b[i + 1] == 0xca)
			set(out, INSN_CLAC, i + 2, "clac");
		else if (i + 1 < n && b[i + 1] == 0xcb)
			set(out, INSN_STAC, i + 2, "stac");
		return;
	case 0xb8:
		if (rep)
			set(out, INSN_POPCNT, 0, "popcnt");
		return;
	case 0xc7:
		if (i + 1 < n && ((b[i + 1] >> 3) & 7) == 1 &&
		    (b[i + 1] >> 6) != 3)
			set(out, INSN_CMPXCHG16B, 0, rexw ?
			    (lock ? "lock cmpxchg16b" : "cmpxchg16b") :
			    (lock ? "lock cmpxchg8b" : "cmpxchg8b"));
		return;
	case 0xae:
		if (i + 1 >= n)
			return;
		modrm = b[i + 1];
		reg = (modrm >> 3) & 7;
		mod = modrm >> 6;
		if (mod == 3)
			return;		/* fences and rd/wr fs/gs base */
		switch (reg) {
		case 0:
			set(out, INSN_FXSAVE, 0, rexw ? "fxsave64" : "fxsave");
			break;
		case 1:
			set(out, INSN_FXSAVE, 0, rexw ? "fxrstor64" : "fxrstor");
			break;
		case 2:
			set(out, INSN_LDMXCSR, 0, "ldmxcsr");
			break;
		case 3:
			set(out, INSN_STMXCSR, 0, "stmxcsr");
			break;
		case 4:
			set(out, INSN_XSAVE, 0, rexw ? "xsave64" : "xsave");
			break;
		case 5:
			set(out, INSN_XSAVE, 0, rexw ? "xrstor64" : "xrstor");
			break;
		case 6:
			set(out, INSN_XSAVE, 0, rexw ? "xsaveopt64" : "xsaveopt");
			break;
		default:
			set(out, INSN_UNKNOWN, 0, "clflush");
			break;
		}
		return;
	default:
		if ((b[i] >= 0x10 && b[i] <= 0x17) || (b[i] >= 0x28 &&
		    b[i] <= 0x2f) || (b[i] >= 0x50 && b[i] <= 0x7f) ||
		    (b[i] >= 0xd0) || b[i] == 0x38 || b[i] == 0x3a)
			set(out, INSN_SSE, 0, "SIMD instruction");
		return;
	}
}
