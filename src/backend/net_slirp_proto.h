/*
 * net_slirp_proto.h: the wire protocol between khyve's slirp backend
 * (net_slirp.c) and its helper program khyve-slirp (helper/khyve-slirp.c),
 * the shape of FreeBSD bhyve's slirp helper (usr.sbin/bhyve/slirp/
 * slirp-helper.c) with a fixed binary configuration instead of an nvlist.
 *
 * khyve makes a socketpair(AF_UNIX, SOCK_SEQPACKET) and starts the helper
 * with its end as file descriptor SLIRP_PROTO_FD and nothing else open
 * but stdin, stdout and stderr.  SEQPACKET keeps message boundaries, so
 * the kernel does the framing.  The conversation:
 *
 *	khyve  -> helper	one SLIRP_MSG_CONFIG
 *	helper -> khyve		one SLIRP_MSG_OK, or one SLIRP_MSG_ERROR and
 *				the helper exits
 *	then, both ways		every message is one bare Ethernet frame
 *				(no virtio-net header), 14 bytes or more
 *
 * Both ends run on one host: integers are in host order, IPv4 addresses
 * in network order.  Both ends are built from one tree, so a version
 * mismatch means a stale helper binary: the helper refuses it.
 *
 * The decoders here are the only code that reads a control message; they
 * never trust a length or a count they were given and are fuzzed
 * (fuzz/fuzz_slirp_proto.c).  They need nothing but libc, so the helper
 * links this file without the rest of khyve.
 */
#ifndef NET_SLIRP_PROTO_H
#define NET_SLIRP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLIRP_PROTO_FD		3		/* the helper's socket */
#define SLIRP_PROTO_MAGIC	0x706c736bu	/* "kslp" */
#define SLIRP_PROTO_VERSION	1
#define SLIRP_PROTO_FWD_MAX	32		/* = NET_HOSTFWD_MAX */
#define SLIRP_PROTO_TEXT_MAX	128		/* error text, with its NUL */
/* libslirp's if_mtu bounds (IF_MTU_MIN, IF_MTU_MAX in its src/if.h). */
#define SLIRP_PROTO_MTU_MIN	68
#define SLIRP_PROTO_MTU_MAX	65521

enum slirp_msg_type {
	SLIRP_MSG_CONFIG = 1,
	SLIRP_MSG_OK = 2,
	SLIRP_MSG_ERROR = 3,
};

struct slirp_msg_hdr {
	uint32_t	sm_magic;	/* SLIRP_PROTO_MAGIC */
	uint16_t	sm_version;	/* SLIRP_PROTO_VERSION */
	uint16_t	sm_type;	/* enum slirp_msg_type */
	uint32_t	sm_len;		/* the whole message, header included */
	uint32_t	sm_pad;		/* 0 */
};

struct slirp_msg_fwd {
	uint8_t		sf_udp;		/* 1: udp, 0: tcp */
	uint8_t		sf_pad[3];	/* 0 */
	uint32_t	sf_haddr;	/* 0: every host address */
	uint32_t	sf_gaddr;	/* never 0 */
	uint16_t	sf_hport;	/* 1..65535 */
	uint16_t	sf_gport;	/* 1..65535 */
};

#define SLIRP_CFG_OPEN		(1u << 0)	/* open=true: not restricted */
#define SLIRP_CFG_SANDBOX	(1u << 1)	/* install the helper's filter */
#define SLIRP_CFG_KNOWN		(SLIRP_CFG_OPEN | SLIRP_CFG_SANDBOX)

/* SLIRP_MSG_CONFIG: sm_len is exactly this part and sc_nfwd rules. */
struct slirp_msg_config {
	struct slirp_msg_hdr sc_hdr;
	uint32_t	sc_flags;	/* SLIRP_CFG_* */
	uint32_t	sc_mtu;		/* SLIRP_PROTO_MTU_MIN..MAX */
	uint32_t	sc_nfwd;	/* 0..SLIRP_PROTO_FWD_MAX */
	uint32_t	sc_pad;		/* 0 */
	struct slirp_msg_fwd sc_fwd[];
};

/* SLIRP_MSG_OK is a bare header; SLIRP_MSG_ERROR this. */
struct slirp_msg_error {
	struct slirp_msg_hdr se_hdr;
	int32_t		se_errno;	/* 1..4095, e.g. EADDRINUSE */
	int32_t		se_rule;	/* the rule at fault, -1: none */
	char		se_text[SLIRP_PROTO_TEXT_MAX];	/* NUL-terminated */
};

/* The largest control message either side sends or accepts. */
#define SLIRP_PROTO_MSG_MAX	(sizeof(struct slirp_msg_config) +	\
	SLIRP_PROTO_FWD_MAX * sizeof(struct slirp_msg_fwd))

/* A configuration, decoded. */
struct slirp_proto_fwd {
	bool		pf_udp;
	uint32_t	pf_haddr;	/* network order */
	uint32_t	pf_gaddr;	/* network order */
	uint16_t	pf_hport;	/* host order */
	uint16_t	pf_gport;
};
struct slirp_proto_config {
	bool		pc_open;
	bool		pc_sandbox;	/* khyve's sandbox key */
	uint32_t	pc_mtu;
	uint32_t	pc_nfwd;
	struct slirp_proto_fwd pc_fwd[SLIRP_PROTO_FWD_MAX];
};

/*
 * Encode cfg into buf (len bytes, SLIRP_PROTO_MSG_MAX is enough).
 * Returns the message length, or 0 if cfg is out of range or buf short.
 */
size_t	slirp_proto_config_encode(const struct slirp_proto_config *cfg,
	    void *buf, size_t len);
/*
 * Decode and check a SLIRP_MSG_CONFIG of len bytes.  Returns 0 and *cfg,
 * or -EPROTO (not this protocol or version) or -EINVAL (a field out of
 * range) with *why saying which.  Reads only buf[0..len).
 */
int	slirp_proto_config_decode(const void *buf, size_t len,
	    struct slirp_proto_config *cfg, const char **why);

/*
 * Encode a reply: err 0 is SLIRP_MSG_OK, else SLIRP_MSG_ERROR with rule
 * (-1: none) and text (cut to fit).  Returns the length, or 0.
 */
size_t	slirp_proto_reply_encode(int err, int rule, const char *text,
	    void *buf, size_t len);
/*
 * Decode a reply of len bytes.  Returns 0 with *err 0 (OK) or the
 * helper's errno, *rule (-1, or less than SLIRP_PROTO_FWD_MAX) and its
 * text in text[textlen] (printable ASCII only; "" for OK); -EPROTO if
 * the message is not a well-formed reply.
 */
int	slirp_proto_reply_decode(const void *buf, size_t len, int *err,
	    int *rule, char *text, size_t textlen);

#endif /* NET_SLIRP_PROTO_H */
