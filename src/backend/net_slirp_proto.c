/*
 * net_slirp_proto.c: encoding and checking the control messages between
 * khyve and khyve-slirp (net_slirp_proto.h).  Linked into khyve and into
 * the helper; needs only libc.
 *
 * Each decoder copies the message into an aligned local first (buf may
 * be anywhere) and checks, in this order: the length is at least a
 * header, the magic, version and type, the header's length equals the
 * bytes received, then every field.  A message one byte longer or
 * shorter than its count says is refused, not cut or padded.
 */
#include <errno.h>
#include <string.h>
#include "backend/net_slirp_proto.h"

_Static_assert(sizeof(struct slirp_msg_hdr) == 16, "header layout");
_Static_assert(sizeof(struct slirp_msg_fwd) == 16, "rule layout");
_Static_assert(sizeof(struct slirp_msg_config) == 32, "config layout");
_Static_assert(SLIRP_PROTO_MSG_MAX <= 4096, "control messages stay small");

/* Aligned room for any control message. */
union slirp_msgbuf {
	struct slirp_msg_hdr	h;
	struct slirp_msg_config	c;
	struct slirp_msg_error	e;
	unsigned char		b[SLIRP_PROTO_MSG_MAX];
};

static void
slirp_proto_hdr(struct slirp_msg_hdr *h, enum slirp_msg_type type,
    size_t len)
{
	h->sm_magic = SLIRP_PROTO_MAGIC;
	h->sm_version = SLIRP_PROTO_VERSION;
	h->sm_type = (uint16_t)type;
	h->sm_len = (uint32_t)len;
	h->sm_pad = 0;
}

/* Copy in and check the header; returns 0 or -EPROTO. */
static int
slirp_proto_hdr_check(const void *buf, size_t len, union slirp_msgbuf *m,
    const char **why)
{
	if (len < sizeof(m->h) || len > sizeof(*m)) {
		*why = "message length out of range";
		return (-EPROTO);
	}
	memset(m, 0, sizeof(*m));
	memcpy(m->b, buf, len);
	if (m->h.sm_magic != SLIRP_PROTO_MAGIC) {
		*why = "not a khyve-slirp message (bad magic)";
		return (-EPROTO);
	}
	if (m->h.sm_version != SLIRP_PROTO_VERSION) {
		*why = "protocol version mismatch (a stale khyve-slirp?)";
		return (-EPROTO);
	}
	if (m->h.sm_len != len || m->h.sm_pad != 0) {
		*why = "header length does not match the message";
		return (-EPROTO);
	}
	return (0);
}

size_t
slirp_proto_config_encode(const struct slirp_proto_config *cfg, void *buf,
    size_t len)
{
	union slirp_msgbuf m;
	struct slirp_msg_fwd *f;
	size_t need, i;

	if (cfg->pc_nfwd > SLIRP_PROTO_FWD_MAX ||
	    cfg->pc_mtu < SLIRP_PROTO_MTU_MIN ||
	    cfg->pc_mtu > SLIRP_PROTO_MTU_MAX)
		return (0);
	need = sizeof(m.c) + cfg->pc_nfwd * sizeof(m.c.sc_fwd[0]);
	if (need > len)
		return (0);
	memset(&m, 0, sizeof(m));
	slirp_proto_hdr(&m.h, SLIRP_MSG_CONFIG, need);
	m.c.sc_flags = (cfg->pc_open ? SLIRP_CFG_OPEN : 0) |
	    (cfg->pc_sandbox ? SLIRP_CFG_SANDBOX : 0);
	m.c.sc_mtu = cfg->pc_mtu;
	m.c.sc_nfwd = cfg->pc_nfwd;
	for (i = 0; i < cfg->pc_nfwd; i++) {
		const struct slirp_proto_fwd *pf = &cfg->pc_fwd[i];

		if (pf->pf_hport == 0 || pf->pf_gport == 0 ||
		    pf->pf_gaddr == 0)
			return (0);
		f = &m.c.sc_fwd[i];
		f->sf_udp = pf->pf_udp ? 1 : 0;
		f->sf_haddr = pf->pf_haddr;
		f->sf_gaddr = pf->pf_gaddr;
		f->sf_hport = pf->pf_hport;
		f->sf_gport = pf->pf_gport;
	}
	memcpy(buf, m.b, need);
	return (need);
}

int
slirp_proto_config_decode(const void *buf, size_t len,
    struct slirp_proto_config *cfg, const char **why)
{
	union slirp_msgbuf m;
	const struct slirp_msg_fwd *f;
	uint32_t i;
	int error;

	memset(cfg, 0, sizeof(*cfg));
	if ((error = slirp_proto_hdr_check(buf, len, &m, why)) != 0)
		return (error);
	if (m.h.sm_type != SLIRP_MSG_CONFIG || len < sizeof(m.c)) {
		*why = "expected a configuration message";
		return (-EPROTO);
	}
	if (m.c.sc_nfwd > SLIRP_PROTO_FWD_MAX) {
		*why = "too many forwarding rules";
		return (-EINVAL);
	}
	/* sc_nfwd <= 32: no overflow. */
	if (len != sizeof(m.c) + m.c.sc_nfwd * sizeof(m.c.sc_fwd[0])) {
		*why = "length does not match the number of rules";
		return (-EPROTO);
	}
	if ((m.c.sc_flags & ~SLIRP_CFG_KNOWN) != 0 || m.c.sc_pad != 0) {
		*why = "unknown flags";
		return (-EINVAL);
	}
	if (m.c.sc_mtu < SLIRP_PROTO_MTU_MIN ||
	    m.c.sc_mtu > SLIRP_PROTO_MTU_MAX) {
		*why = "MTU out of range";
		return (-EINVAL);
	}
	for (i = 0; i < m.c.sc_nfwd; i++) {
		f = &m.c.sc_fwd[i];
		if (f->sf_udp > 1 || f->sf_pad[0] != 0 || f->sf_pad[1] != 0 ||
		    f->sf_pad[2] != 0 || f->sf_hport == 0 ||
		    f->sf_gport == 0 || f->sf_gaddr == 0) {
			*why = "a forwarding rule out of range";
			return (-EINVAL);
		}
		cfg->pc_fwd[i].pf_udp = f->sf_udp == 1;
		cfg->pc_fwd[i].pf_haddr = f->sf_haddr;
		cfg->pc_fwd[i].pf_gaddr = f->sf_gaddr;
		cfg->pc_fwd[i].pf_hport = f->sf_hport;
		cfg->pc_fwd[i].pf_gport = f->sf_gport;
	}
	cfg->pc_open = (m.c.sc_flags & SLIRP_CFG_OPEN) != 0;
	cfg->pc_sandbox = (m.c.sc_flags & SLIRP_CFG_SANDBOX) != 0;
	cfg->pc_mtu = m.c.sc_mtu;
	cfg->pc_nfwd = m.c.sc_nfwd;
	*why = NULL;
	return (0);
}

size_t
slirp_proto_reply_encode(int err, int rule, const char *text, void *buf,
    size_t len)
{
	union slirp_msgbuf m;
	size_t need;

	memset(&m, 0, sizeof(m));
	if (err == 0) {
		need = sizeof(m.h);
		slirp_proto_hdr(&m.h, SLIRP_MSG_OK, need);
	} else {
		if (err < 1 || err > 4095 || rule < -1 ||
		    rule >= SLIRP_PROTO_FWD_MAX)
			return (0);
		need = sizeof(m.e);
		slirp_proto_hdr(&m.h, SLIRP_MSG_ERROR, need);
		m.e.se_errno = err;
		m.e.se_rule = rule;
		if (text != NULL)
			strncpy(m.e.se_text, text, sizeof(m.e.se_text) - 1);
	}
	if (need > len)
		return (0);
	memcpy(buf, m.b, need);
	return (need);
}

int
slirp_proto_reply_decode(const void *buf, size_t len, int *err, int *rule,
    char *text, size_t textlen)
{
	union slirp_msgbuf m;
	const char *why;
	size_t i, o;

	*err = 0;
	*rule = -1;
	if (textlen > 0)
		text[0] = '\0';
	if (slirp_proto_hdr_check(buf, len, &m, &why) != 0)
		return (-EPROTO);
	if (m.h.sm_type == SLIRP_MSG_OK)
		return (len == sizeof(m.h) ? 0 : -EPROTO);
	if (m.h.sm_type != SLIRP_MSG_ERROR || len != sizeof(m.e))
		return (-EPROTO);
	if (m.e.se_errno < 1 || m.e.se_errno > 4095 || m.e.se_rule < -1 ||
	    m.e.se_rule >= SLIRP_PROTO_FWD_MAX ||
	    memchr(m.e.se_text, '\0', sizeof(m.e.se_text)) == NULL)
		return (-EPROTO);
	*err = m.e.se_errno;
	*rule = m.e.se_rule;
	/* The helper's words reach a terminal: printable ASCII only. */
	for (i = o = 0; textlen > 0 && m.e.se_text[i] != '\0' &&
	    o + 1 < textlen; i++) {
		unsigned char c = (unsigned char)m.e.se_text[i];

		text[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (textlen > 0)
		text[o] = '\0';
	return (0);
}
