/*
 * insn.h: a decoder for the few x86 instructions a guest may meet that
 * the host's KVM cannot emulate (KVM_INTERNAL_ERROR_EMULATION with the
 * instruction bytes, KVM_CAP_EXIT_ON_EMULATION_FAILURE).  It recognises
 * them by their bytes (Intel SDM vol. 2, opcode map, appendix A); it is
 * not a general decoder.
 */
#ifndef INSN_H
#define INSN_H

#include <stddef.h>
#include <stdint.h>

enum insn_kind {
	INSN_UNKNOWN = 0,
	INSN_INT3,		/* cc: the monitor injects #BP */
	INSN_FWAIT,		/* 9b: a no-op unless an x87 exception is pending */
	INSN_CLAC,
	INSN_STAC,
	INSN_POPCNT,
	INSN_CMPXCHG16B,
	INSN_XSAVE,		/* the xsave/xrstor family */
	INSN_FXSAVE,		/* fxsave/fxrstor */
	INSN_LDMXCSR,
	INSN_STMXCSR,
	INSN_UD2,
	INSN_SSE,		/* other 0f-escape SIMD instructions */
};

struct insn {
	enum insn_kind	kind;
	unsigned	len;	/* bytes, when known (int3, fwait, ...); else 0 */
	const char	*name;	/* mnemonic for diagnostics */
};

/*
 * Decode the instruction at bytes[0..n).  Prefixes (legacy and REX) are
 * skipped and counted in len.  Never reads past n.
 */
void	insn_decode(const uint8_t *bytes, size_t n, struct insn *out);

#endif /* INSN_H */
