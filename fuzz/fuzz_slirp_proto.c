/*
 * fuzz_slirp_proto.c: the control messages between khyve and its slirp
 * helper (src/backend/net_slirp_proto.c): the configuration the helper
 * decodes and the answer khyve decodes.
 *
 * Both decoders get the raw input.  A configuration they accept must
 * encode back to exactly the input bytes (the format has one spelling:
 * pads are zero, the length is exact); an accepted answer must carry an
 * errno in range and printable text only.  Then the input, read as a
 * configuration struct, goes through encode and decode, which must agree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "backend/net_slirp_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char buf[SLIRP_PROTO_MSG_MAX];
	struct slirp_proto_config cfg, back;
	char text[SLIRP_PROTO_TEXT_MAX];
	const char *why;
	size_t len, i;
	int err, rule;

	if (slirp_proto_config_decode(data, size, &cfg, &why) == 0) {
		len = slirp_proto_config_encode(&cfg, buf, sizeof(buf));
		if (len != size || memcmp(buf, data, size) != 0)
			abort();
	} else if (why == NULL)
		abort();

	if (slirp_proto_reply_decode(data, size, &err, &rule, text,
	    sizeof(text)) == 0) {
		if (err < 0 || err > 4095 || rule < -1 ||
		    rule >= SLIRP_PROTO_FWD_MAX)
			abort();
		for (i = 0; text[i] != '\0'; i++)
			if (text[i] < 0x20 || text[i] > 0x7e)
				abort();
		len = slirp_proto_reply_encode(err, rule, text, buf,
		    sizeof(buf));
		if (len == 0 || slirp_proto_reply_decode(buf, len, &err,
		    &rule, text, sizeof(text)) != 0)
			abort();
	}

	/* Arbitrary structs: what encodes must decode to the same. */
	memset(&cfg, 0, sizeof(cfg));
	memcpy(&cfg, data, size < sizeof(cfg) ? size : sizeof(cfg));
	cfg.pc_open = (size > 0 && (data[0] & 1));
	cfg.pc_sandbox = (size > 0 && (data[0] & 2));
	for (i = 0; i < SLIRP_PROTO_FWD_MAX; i++)
		cfg.pc_fwd[i].pf_udp = (cfg.pc_fwd[i].pf_hport & 1) != 0;
	len = slirp_proto_config_encode(&cfg, buf, sizeof(buf));
	if (len != 0) {
		if (slirp_proto_config_decode(buf, len, &back, &why) != 0 ||
		    back.pc_open != cfg.pc_open ||
		    back.pc_sandbox != cfg.pc_sandbox || back.pc_mtu != cfg.pc_mtu ||
		    back.pc_nfwd != cfg.pc_nfwd)
			abort();
		for (i = 0; i < cfg.pc_nfwd; i++) {
			const struct slirp_proto_fwd *a = &cfg.pc_fwd[i],
			    *b = &back.pc_fwd[i];

			if (a->pf_udp != b->pf_udp ||
			    a->pf_haddr != b->pf_haddr ||
			    a->pf_gaddr != b->pf_gaddr ||
			    a->pf_hport != b->pf_hport ||
			    a->pf_gport != b->pf_gport)
				abort();
		}
	}
	return (0);
}
