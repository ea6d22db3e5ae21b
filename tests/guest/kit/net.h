/*
 * net.h: just enough IPv4 for the network test guests, on the kit's
 * virtio-net driver (virtio_net.h): byte order, the Internet checksum
 * (RFC 1071), Ethernet/ARP/IPv4/UDP/ICMP headers, a DHCP client (RFC
 * 2131, options RFC 2132) and ARP resolution (RFC 826).  CPL0 only.
 *
 * Everything read off the wire is hostile: each parser checks lengths
 * against the frame before it reads a field, and a frame that does not
 * parse is skipped, never trusted.  Addresses are kept in host byte order
 * (10.0.2.15 is 0x0a00020f) and converted at the wire.
 */
#ifndef KIT_NET_H
#define KIT_NET_H

#include "virtio_net.h"

static inline uint16_t net_htons(uint16_t v)
{ return (uint16_t)(v << 8 | v >> 8); }
static inline uint32_t net_htonl(uint32_t v)
{ return __builtin_bswap32(v); }
#define net_ntohs net_htons
#define net_ntohl net_htonl

#define ETH_ALEN	6
#define ETH_HLEN	14
#define ETHERTYPE_IP	0x0800
#define ETHERTYPE_ARP	0x0806
#define IP_HLEN		20		/* without options */
#define UDP_HLEN	8
#define IPPROTO_ICMP	1
#define IPPROTO_UDP	17
#define ICMP_ECHOREPLY	0
#define ICMP_ECHO	8
#define IP_ADDR(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

struct eth_hdr {
	uint8_t		dst[ETH_ALEN];
	uint8_t		src[ETH_ALEN];
	uint16_t	type;		/* network order */
} __attribute__((packed));

struct arp_pkt {			/* RFC 826, Ethernet and IPv4 */
	uint16_t	htype, ptype;
	uint8_t		hlen, plen;
	uint16_t	op;		/* 1 request, 2 reply */
	uint8_t		sha[ETH_ALEN];
	uint8_t		spa[4];
	uint8_t		tha[ETH_ALEN];
	uint8_t		tpa[4];
} __attribute__((packed));

struct ip_hdr {				/* RFC 791 §3.1 */
	uint8_t		vhl;		/* version 4, header length / 4 */
	uint8_t		tos;
	uint16_t	len;
	uint16_t	id;
	uint16_t	frag;
	uint8_t		ttl;
	uint8_t		proto;
	uint16_t	csum;
	uint32_t	src, dst;	/* network order */
} __attribute__((packed));

struct udp_hdr {			/* RFC 768 */
	uint16_t	sport, dport, len, csum;
} __attribute__((packed));

struct icmp_echo {			/* RFC 792 echo and echo reply */
	uint8_t		type, code;
	uint16_t	csum, id, seq;
} __attribute__((packed));

/* A host interface: the NIC and what DHCP (or the command line) gave. */
struct net_if {
	struct vnet	*nic;
	uint8_t		mac[ETH_ALEN];
	uint32_t	ip;		/* 0 until configured */
	uint32_t	mask;
	uint32_t	router;		/* DHCP option 3, or 0 */
	uint32_t	dns;		/* option 6 (first), or 0 */
	uint32_t	server;		/* option 54 */
	uint32_t	lease_s;	/* option 51, or 0 */
	uint16_t	ip_id;		/* next IPv4 identification */
	uint64_t	arp_answered;	/* requests for ip we replied to */
};

/* RFC 1071 one's-complement sum of len bytes, folded and inverted (so 0
 * over a header that holds a right checksum). */
uint16_t net_csum(const void *p, size_t len);

/* Print "a.b.c.d" / "xx:xx:xx:xx:xx:xx" into buf (16 / 18 bytes). */
const char *net_ip_str(char *buf, uint32_t ip);
const char *net_mac_str(char *buf, const uint8_t *mac);
/* Parse a.b.c.d: 0 and *ip, or -1. */
int	net_parse_ip(const char *s, uint32_t *ip);

/*
 * Write Ethernet + IPv4 (no options, DF, TTL 64, checksum) + UDP headers
 * for plen payload bytes at frame; returns the offset of the payload (the
 * frame is that plus plen).  The UDP checksum is 0: none (RFC 768), so
 * the payload can change without touching the headers.
 */
size_t	net_udp_hdrs(struct net_if *ifp, uint8_t *frame, const uint8_t *dmac,
	    uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
	    size_t plen);

/*
 * Check an IPv4 frame: version 4, header length and checksum, total
 * length within the frame, not a fragment.  Returns the IP header and
 * *l4 and *l4len the payload past it, or NULL.
 */
const struct ip_hdr *net_ip_parse(const uint8_t *frame, uint32_t len,
	    const uint8_t **l4, uint32_t *l4len);
/* net_ip_parse for UDP with a sane UDP length: the payload, its length,
 * the ports (host order); NULL when it is no UDP datagram. */
const uint8_t *net_udp_parse(const uint8_t *frame, uint32_t len,
	    const struct ip_hdr **ip, uint16_t *sport, uint16_t *dport,
	    uint32_t *plen);

/*
 * The next frame (vnet_recv), after answering any ARP request for
 * ifp->ip (RFC 826, so a peer can reach us) and dropping it; returns the
 * slot (the caller gives it back with vnet_rx_done) or -1 when
 * timeout_ms passed.
 */
int	net_rx(struct net_if *ifp, uint64_t timeout_ms, uint8_t **frame,
	    uint32_t *len);

/*
 * DHCP DISCOVER -> OFFER -> REQUEST -> ACK (RFC 2131 §3.1), each answer
 * awaited at most timeout_ms, with up to 3 tries; fills ifp's ip, mask,
 * router, dns, server, lease_s.  verbose prints each step.  Returns 0, or
 * -1 with a message naming the step that failed.
 */
int	net_dhcp(struct net_if *ifp, uint64_t timeout_ms, int verbose);

/* ARP who-has ip -> its MAC (up to 3 requests, timeout_ms each): 0 or -1. */
int	net_arp(struct net_if *ifp, uint32_t ip, uint8_t *mac,
	    uint64_t timeout_ms);

/* Milliseconds since t0 (a TSC value), by guest_tsc_khz(). */
uint64_t net_ms_since(uint64_t t0);

#endif /* KIT_NET_H */
