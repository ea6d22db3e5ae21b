/*
 * net_hostfwd.c: the hostfwd= rule parser (net_hostfwd.h).
 *
 * The grammar is bhyve's (usr.sbin/bhyve/net_backend_slirp.c,
 * parse_hostfwd_rule() and parse_addr()), made strict: bhyve takes any
 * protocol word other than "udp" as tcp, atoi()s ports (so "22x" is 22
 * and an empty port is 0) and only checks the range afterwards.  Here a
 * rule either parses completely or is refused with its text in the
 * message, before anything is started or bound.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "backend/net_hostfwd.h"
#include "log.h"

/* The rule's text for a message: printable, bounded. */
static void
hostfwd_quote(const char *rule, size_t len, char *buf, size_t buflen)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 4 < buflen; i++) {
		unsigned char c = (unsigned char)rule[i];

		buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (i < len && o + 3 < buflen) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
}

/* A decimal port, 1..65535, the whole of s[0..len). */
static int
hostfwd_port(const char *s, size_t len, uint16_t *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return (-EINVAL);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-EINVAL);
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return (-EINVAL);
	*out = (uint16_t)v;
	return (0);
}

/* A dotted IPv4 address (inet_pton: exactly four decimal parts). */
static int
hostfwd_addr(const char *s, size_t len, struct in_addr *out)
{
	char buf[INET_ADDRSTRLEN];

	if (len >= sizeof(buf))
		return (-EINVAL);
	memcpy(buf, s, len);
	buf[len] = '\0';
	return (inet_pton(AF_INET, buf, out) == 1 ? 0 : -EINVAL);
}

/*
 * One rule, rule[0..len).  Returns 0, or -EINVAL with *why set to what
 * is wrong.
 */
static int
hostfwd_rule(const char *rule, size_t len, struct net_hostfwd *hf,
    const char **why)
{
	const char *p = rule, *end = rule + len, *c;

	memset(hf, 0, sizeof(*hf));
	if ((c = memchr(p, ':', (size_t)(end - p))) == NULL) {
		*why = "expected proto:[haddr]:hport-[gaddr]:gport";
		return (-EINVAL);
	}
	if (c - p == 3 && memcmp(p, "tcp", 3) == 0)
		hf->hf_udp = false;
	else if (c - p == 3 && memcmp(p, "udp", 3) == 0)
		hf->hf_udp = true;
	else {
		*why = "protocol is not tcp or udp";
		return (-EINVAL);
	}
	p = c + 1;
	if ((c = memchr(p, ':', (size_t)(end - p))) == NULL) {
		*why = "expected proto:[haddr]:hport-[gaddr]:gport";
		return (-EINVAL);
	}
	if (c > p && hostfwd_addr(p, (size_t)(c - p), &hf->hf_haddr) != 0) {
		*why = "host address is not a dotted IPv4 address";
		return (-EINVAL);
	}
	p = c + 1;
	if ((c = memchr(p, '-', (size_t)(end - p))) == NULL) {
		*why = "expected '-' between the host and the guest side";
		return (-EINVAL);
	}
	if (hostfwd_port(p, (size_t)(c - p), &hf->hf_hport) != 0) {
		*why = "host port is not a number from 1 to 65535";
		return (-EINVAL);
	}
	p = c + 1;
	if ((c = memchr(p, ':', (size_t)(end - p))) == NULL) {
		*why = "expected [gaddr]:gport after '-'";
		return (-EINVAL);
	}
	if (c == p)
		hf->hf_gaddr.s_addr = htonl(NET_HOSTFWD_GUEST_DEFAULT);
	else if (hostfwd_addr(p, (size_t)(c - p), &hf->hf_gaddr) != 0 ||
	    hf->hf_gaddr.s_addr == INADDR_ANY) {
		*why = "guest address is not a dotted IPv4 address";
		return (-EINVAL);
	}
	p = c + 1;
	if (hostfwd_port(p, (size_t)(end - p), &hf->hf_gport) != 0) {
		*why = "guest port is not a number from 1 to 65535";
		return (-EINVAL);
	}
	return (0);
}

/* Would a and b bind the same host socket? */
static bool
hostfwd_clash(const struct net_hostfwd *a, const struct net_hostfwd *b)
{
	return (a->hf_udp == b->hf_udp && a->hf_hport == b->hf_hport &&
	    (a->hf_haddr.s_addr == b->hf_haddr.s_addr ||
	    a->hf_haddr.s_addr == INADDR_ANY ||
	    b->hf_haddr.s_addr == INADDR_ANY));
}

int
net_hostfwd_parse(const char *spec, struct net_hostfwd *out, size_t max,
    size_t *n, const char *devname)
{
	char text[80];
	const char *p, *semi, *why;
	size_t len, speclen, i, count = 0;

	*n = 0;
	speclen = strnlen(spec, NET_HOSTFWD_SPEC_MAX + 1);
	if (speclen > NET_HOSTFWD_SPEC_MAX) {
		log_warnx("%s: hostfwd=: longer than %d characters", devname,
		    NET_HOSTFWD_SPEC_MAX);
		return (-EINVAL);
	}
	if (speclen == 0) {
		log_warnx("%s: hostfwd=: empty (expected "
		    "proto:[haddr]:hport-[gaddr]:gport[;...])", devname);
		return (-EINVAL);
	}
	for (p = spec; ; p = semi + 1) {
		semi = memchr(p, ';', speclen - (size_t)(p - spec));
		len = semi != NULL ? (size_t)(semi - p) :
		    speclen - (size_t)(p - spec);
		hostfwd_quote(p, len, text, sizeof(text));
		if (len == 0) {
			log_warnx("%s: hostfwd=: empty rule (two ';' in a row, "
			    "or one at an end)", devname);
			return (-EINVAL);
		}
		if (count == max) {
			log_warnx("%s: hostfwd=%s: more than %zu rules",
			    devname, text, max);
			return (-EINVAL);
		}
		if (hostfwd_rule(p, len, &out[count], &why) != 0) {
			log_warnx("%s: hostfwd=%s: %s", devname, text, why);
			return (-EINVAL);
		}
		for (i = 0; i < count; i++) {
			if (hostfwd_clash(&out[i], &out[count])) {
				log_warnx("%s: hostfwd=%s: host port %u/%s is "
				    "already forwarded by an earlier rule",
				    devname, text, out[count].hf_hport,
				    out[count].hf_udp ? "udp" : "tcp");
				return (-EINVAL);
			}
		}
		count++;
		if (semi == NULL)
			break;
	}
	*n = count;
	return (0);
}

char *
net_hostfwd_format(const struct net_hostfwd *hf, char *buf, size_t len)
{
	char ha[INET_ADDRSTRLEN] = "", ga[INET_ADDRSTRLEN] = "";

	if (len == 0)
		return (buf);
	if (hf->hf_haddr.s_addr != INADDR_ANY &&
	    inet_ntop(AF_INET, &hf->hf_haddr, ha, sizeof(ha)) == NULL)
		ha[0] = '\0';
	if (inet_ntop(AF_INET, &hf->hf_gaddr, ga, sizeof(ga)) == NULL)
		ga[0] = '\0';
	(void)snprintf(buf, len, "%s:%s:%u-%s:%u", hf->hf_udp ? "udp" : "tcp",
	    ha, hf->hf_hport, ga, hf->hf_gport);
	return (buf);
}
