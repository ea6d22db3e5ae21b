/*
 * netframe.h: building and reading the Ethernet frames a network test
 * plays a guest with (RFC 826 ARP, RFC 791 IPv4, RFC 768 UDP, RFC 793
 * TCP, RFC 2131/2132 DHCP).  Frames are built into caller buffers of at
 * least 14 + 20 + 20 + the payload bytes (DHCP: 600); addresses are in
 * network order, ports and other numbers in host order.
 */
#ifndef NETFRAME_H
#define NETFRAME_H

#include <stddef.h>
#include <stdint.h>

#define NF_TH_FIN	0x01
#define NF_TH_SYN	0x02
#define NF_TH_RST	0x04
#define NF_TH_PSH	0x08
#define NF_TH_ACK	0x10

extern const uint8_t nf_bcast[6];

/* A dotted address in network order (aborts on a bad one: test data). */
uint32_t nf_ip4(const char *s);
/* The Internet checksum of p[0..len) on top of the partial sum. */
uint16_t nf_csum(const void *p, size_t len, uint32_t sum);
uint16_t nf_get16(const uint8_t *p);
uint32_t nf_get32(const uint8_t *p);
void	nf_put16(uint8_t *p, uint16_t v);
void	nf_put32(uint8_t *p, uint32_t v);

/* Ethernet and a 20-byte IPv4 header for plen bytes; returns 34. */
size_t	nf_eth_ip(uint8_t *f, const uint8_t *dmac, const uint8_t *smac,
	    uint32_t src, uint32_t dst, uint8_t proto, size_t plen);
/* A UDP datagram (checksum 0: none); returns the frame length. */
size_t	nf_udp(uint8_t *f, const uint8_t *dmac, const uint8_t *smac,
	    uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
	    const void *data, size_t len);
/* A TCP segment (20-byte header, window 65535, checksummed). */
size_t	nf_tcp(uint8_t *f, const uint8_t *dmac, const uint8_t *smac,
	    uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
	    uint32_t seq, uint32_t ack, uint8_t flags, const void *data,
	    size_t len);
/* An ARP request (op 1, broadcast) or reply (op 2, to tha); 42 bytes. */
size_t	nf_arp(uint8_t *f, uint16_t op, const uint8_t *sha, uint32_t spa,
	    const uint8_t *tha, uint32_t tpa);
/*
 * If f[0..n) is an ARP request for ip, the reply from mac to its sender
 * in reply (42 bytes): returns its length; else 0.
 */
size_t	nf_arp_answer(const uint8_t *f, size_t n, const uint8_t *mac,
	    uint32_t ip, uint8_t *reply);
/* A broadcast DHCPDISCOVER from mac. */
size_t	nf_dhcp_discover(uint8_t *f, const uint8_t *mac);
/* Option tag of the DHCP reply f[0..n): its data and length, or NULL. */
const uint8_t *nf_dhcp_opt(const uint8_t *f, size_t n, uint8_t tag,
	    uint8_t *optlen);

#endif /* NETFRAME_H */
