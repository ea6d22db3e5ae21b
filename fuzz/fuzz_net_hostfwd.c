/*
 * fuzz_net_hostfwd.c: the hostfwd= rule parser (src/backend/net_hostfwd.c).
 *
 * The input is the hostfwd= value (cut at its first NUL).  The parser
 * must never overrun, and what it accepts must hold: at most max rules,
 * no port 0, a guest address, and each rule written in canonical form
 * (net_hostfwd_format) must parse back to the very same rule.  The first
 * input byte also picks max, so the "more than max rules" path is hit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "backend/net_hostfwd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_hostfwd hf[NET_HOSTFWD_MAX], back;
	char *spec, canon[NET_HOSTFWD_STRLEN];
	size_t n, m, i, max;

	if (size > NET_HOSTFWD_SPEC_MAX + 16)
		return (0);
	max = size > 0 ? (size_t)data[0] % (NET_HOSTFWD_MAX + 1) : 1;
	if ((spec = malloc(size + 1)) == NULL)
		return (0);
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (net_hostfwd_parse(spec, hf, max, &n, "fuzz") == 0) {
		if (n == 0 || n > max)
			abort();
		for (i = 0; i < n; i++) {
			if (hf[i].hf_hport == 0 || hf[i].hf_gport == 0 ||
			    hf[i].hf_gaddr.s_addr == 0)
				abort();
			net_hostfwd_format(&hf[i], canon, sizeof(canon));
			if (net_hostfwd_parse(canon, &back, 1, &m,
			    "fuzz") != 0 || m != 1 ||
			    back.hf_udp != hf[i].hf_udp ||
			    back.hf_haddr.s_addr != hf[i].hf_haddr.s_addr ||
			    back.hf_hport != hf[i].hf_hport ||
			    back.hf_gaddr.s_addr != hf[i].hf_gaddr.s_addr ||
			    back.hf_gport != hf[i].hf_gport)
				abort();
		}
	} else if (n != 0)
		abort();
	free(spec);
	return (0);
}
