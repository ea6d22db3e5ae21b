/*
 * net_hostfwd.h: host port forwarding rules, the hostfwd= key of the
 * user-mode network backends (bhyve's net_backend_slirp.c syntax, which
 * is QEMU's -netdev user,hostfwd= without the legacy forms).
 *
 *	hostfwd=RULE[;RULE...]
 *	RULE	= proto:[haddr]:hport-[gaddr]:gport
 *	proto	= tcp | udp
 *	haddr	= dotted IPv4 address on the host; empty: every host address
 *		  (INADDR_ANY, as bhyve and QEMU do)
 *	hport	= 1..65535, decimal
 *	gaddr	= dotted IPv4 address of the guest; empty: the guest's DHCP
 *		  address NET_HOSTFWD_GUEST_DEFAULT (10.0.2.15)
 *	gport	= 1..65535, decimal
 *
 * Example: "tcp:127.0.0.1:2222-:22;udp::5353-10.0.2.15:53".
 */
#ifndef NET_HOSTFWD_H
#define NET_HOSTFWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "khyve.h"

/* The guest address an empty gaddr stands for (libslirp's DHCP start). */
#define NET_HOSTFWD_GUEST_DEFAULT	0x0a00020fu	/* 10.0.2.15 */
/* The most rules one device takes. */
#define NET_HOSTFWD_MAX		32
/* The longest hostfwd= value accepted. */
#define NET_HOSTFWD_SPEC_MAX	4096
/* Room for one rule in canonical form ("tcp:255.255.255.255:65535-..."). */
#define NET_HOSTFWD_STRLEN	48

struct net_hostfwd {
	bool		hf_udp;		/* udp, else tcp */
	struct in_addr	hf_haddr;	/* network order; 0: every address */
	uint16_t	hf_hport;	/* host order, never 0 */
	struct in_addr	hf_gaddr;	/* network order, never 0 */
	uint16_t	hf_gport;	/* host order, never 0 */
};

/*
 * Parse spec (the hostfwd= value) into at most max rules at out and
 * their count at *n.  Returns 0, or -EINVAL after one message naming
 * devname, hostfwd= and the rule at fault (bad syntax, a port of 0 or
 * over 65535, an address that is not dotted IPv4, an empty rule, two
 * rules for the same host port, more than max rules, or a spec longer
 * than NET_HOSTFWD_SPEC_MAX).  On failure *n is 0 and out is undefined.
 * Never allocates, never keeps a pointer into spec.
 */
int	net_hostfwd_parse(const char *spec, struct net_hostfwd *out,
	    size_t max, size_t *n, const char *devname) __must_check;

/*
 * Write hf in canonical form ("tcp:127.0.0.1:2222-10.0.2.15:22"; an
 * every-address host side as "tcp::2222-...") into buf, always
 * NUL-terminated.  Returns buf.
 */
char	*net_hostfwd_format(const struct net_hostfwd *hf, char *buf,
	    size_t len);

#endif /* NET_HOSTFWD_H */
