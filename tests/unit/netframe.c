/*
 * netframe.c: test frames (netframe.h).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "netframe.h"

const uint8_t nf_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

uint32_t
nf_ip4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return (a.s_addr);
}

uint16_t
nf_csum(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)(b[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

void
nf_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint16_t
nf_get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

uint32_t
nf_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

void
nf_put32(uint8_t *p, uint32_t v)
{
	nf_put16(p, (uint16_t)(v >> 16));
	nf_put16(p + 2, (uint16_t)v);
}

size_t
nf_eth_ip(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint32_t src,
    uint32_t dst, uint8_t proto, size_t plen)
{
	uint8_t *ip = f + 14;

	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	nf_put16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	nf_put16(ip + 2, (uint16_t)(20 + plen));
	nf_put16(ip + 4, 0x1234);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	nf_put16(ip + 10, nf_csum(ip, 20, 0));
	return (34);
}

size_t
nf_udp(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint32_t src,
    uint16_t sport, uint32_t dst, uint16_t dport, const void *data, size_t len)
{
	size_t off = nf_eth_ip(f, dmac, smac, src, dst, 17, 8 + len);

	nf_put16(f + off, sport);
	nf_put16(f + off + 2, dport);
	nf_put16(f + off + 4, (uint16_t)(8 + len));
	nf_put16(f + off + 6, 0);
	if (len > 0)
		memcpy(f + off + 8, data, len);
	return (off + 8 + len);
}

size_t
nf_tcp(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint32_t src,
    uint16_t sport, uint32_t dst, uint16_t dport, uint32_t seq, uint32_t ack,
    uint8_t flags, const void *data, size_t len)
{
	size_t off = nf_eth_ip(f, dmac, smac, src, dst, 6, 20 + len);
	uint8_t *t = f + off, ph[12];

	memset(t, 0, 20);
	nf_put16(t, sport);
	nf_put16(t + 2, dport);
	nf_put32(t + 4, seq);
	nf_put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	nf_put16(t + 14, 65535);
	if (len > 0)
		memcpy(t + 20, data, len);
	memcpy(ph, &src, 4);
	memcpy(ph + 4, &dst, 4);
	ph[8] = 0;
	ph[9] = 6;
	nf_put16(ph + 10, (uint16_t)(20 + len));
	/* The pseudo-header's sum carried into the segment's. */
	nf_put16(t + 16, nf_csum(t, 20 + len, (uint16_t)~nf_csum(ph, 12, 0)));
	return (off + 20 + len);
}

size_t
nf_arp(uint8_t *f, uint16_t op, const uint8_t *sha, uint32_t spa,
    const uint8_t *tha, uint32_t tpa)
{
	memcpy(f, op == 1 ? nf_bcast : tha, 6);
	memcpy(f + 6, sha, 6);
	nf_put16(f + 12, 0x0806);
	nf_put16(f + 14, 1);
	nf_put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	nf_put16(f + 20, op);
	memcpy(f + 22, sha, 6);
	memcpy(f + 28, &spa, 4);
	memcpy(f + 32, tha, 6);
	memcpy(f + 38, &tpa, 4);
	return (42);
}

size_t
nf_arp_answer(const uint8_t *f, size_t n, const uint8_t *mac, uint32_t ip,
    uint8_t *reply)
{
	uint32_t tpa, spa;

	if (n < 42 || nf_get16(f + 12) != 0x0806 || nf_get16(f + 20) != 1)
		return (0);
	memcpy(&tpa, f + 38, 4);
	if (tpa != ip)
		return (0);
	memcpy(&spa, f + 28, 4);
	return (nf_arp(reply, 2, mac, ip, f + 22, spa));
}

/* RFC 2131 §4.4.1; the broadcast flag set (§4.1). */
size_t
nf_dhcp_discover(uint8_t *f, const uint8_t *mac)
{
	uint8_t bp[300];

	memset(bp, 0, sizeof(bp));
	bp[0] = 1;			/* BOOTREQUEST */
	bp[1] = 1;			/* Ethernet */
	bp[2] = 6;
	memcpy(bp + 4, "\x12\x34\x56\x78", 4);	/* xid */
	nf_put16(bp + 10, 0x8000);	/* broadcast */
	memcpy(bp + 28, mac, 6);
	memcpy(bp + 236, "\x63\x82\x53\x63", 4);	/* magic cookie */
	memcpy(bp + 240, "\x35\x01\x01\xff", 4);	/* DISCOVER, end */
	return (nf_udp(f, nf_bcast, mac, 0, 68, 0xffffffffu, 67, bp,
	    sizeof(bp)));
}

const uint8_t *
nf_dhcp_opt(const uint8_t *f, size_t n, uint8_t tag, uint8_t *optlen)
{
	size_t off = 14 + 20 + 8 + 240;

	while (off + 2 <= n && f[off] != 255) {
		if (f[off] == 0) {
			off++;
			continue;
		}
		if (off + 2 + f[off + 1] > n)
			return (NULL);
		if (f[off] == tag) {
			*optlen = f[off + 1];
			return (f + off + 2);
		}
		off += 2 + f[off + 1];
	}
	return (NULL);
}
