/*
 * net.c: IPv4 helpers, a DHCP client and ARP for the test guests (net.h).
 */
#include "kit.h"
#include "net.h"

#define DHCP_SPORT	68		/* RFC 2131 §4.1: client port */
#define DHCP_DPORT	67
#define DHCP_MAGIC	0x63825363	/* RFC 2131 §3: the options cookie */
#define DHCP_FIXED	236		/* op .. file, before the cookie */
#define DHCP_MIN	300		/* BOOTP's minimum message (RFC 951) */
#define DHCPDISCOVER	1
#define DHCPOFFER	2
#define DHCPREQUEST	3
#define DHCPACK		5
#define DHCPNAK		6
#define TRIES		3

static const uint8_t bcast_mac[ETH_ALEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};

uint16_t
net_csum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	/* The sum is big-endian: store it back in network order. */
	return (net_htons((uint16_t)~sum));
}

const char *
net_ip_str(char *buf, uint32_t ip)
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
	    (ip >> 8) & 0xff, ip & 0xff);
	return (buf);
}

const char *
net_mac_str(char *buf, const uint8_t *m)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
	    m[3], m[4], m[5]);
	return (buf);
}

int
net_parse_ip(const char *s, uint32_t *ip)
{
	uint32_t v = 0;
	uint64_t part;
	const char *end;
	int i;

	for (i = 0; i < 4; i++) {
		if (*s < '0' || *s > '9')
			return (-1);
		part = strtou64(s, &end, 10);
		if (part > 255 || (i < 3 && *end != '.'))
			return (-1);
		v = v << 8 | (uint32_t)part;
		s = end + (i < 3);
	}
	if (*s != '\0' && *s != ' ')
		return (-1);
	*ip = v;
	return (0);
}

uint64_t
net_ms_since(uint64_t t0)
{
	uint64_t khz = guest_tsc_khz();

	return ((rdtsc() - t0) / (khz != 0 ? khz : 1000000));
}

size_t
net_udp_hdrs(struct net_if *ifp, uint8_t *frame, const uint8_t *dmac,
    uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, size_t plen)
{
	struct eth_hdr *e = (void *)frame;
	struct ip_hdr *ip = (void *)(frame + ETH_HLEN);
	struct udp_hdr *u = (void *)(frame + ETH_HLEN + IP_HLEN);

	memcpy(e->dst, dmac, ETH_ALEN);
	memcpy(e->src, ifp->mac, ETH_ALEN);
	e->type = net_htons(ETHERTYPE_IP);
	ip->vhl = 0x45;
	ip->tos = 0;
	ip->len = net_htons((uint16_t)(IP_HLEN + UDP_HLEN + plen));
	ip->id = net_htons(ifp->ip_id++);
	ip->frag = net_htons(0x4000);		/* DF */
	ip->ttl = 64;
	ip->proto = IPPROTO_UDP;
	ip->csum = 0;
	ip->src = net_htonl(src);
	ip->dst = net_htonl(dst);
	ip->csum = net_csum(ip, IP_HLEN);
	u->sport = net_htons(sport);
	u->dport = net_htons(dport);
	u->len = net_htons((uint16_t)(UDP_HLEN + plen));
	u->csum = 0;
	return (ETH_HLEN + IP_HLEN + UDP_HLEN);
}

const struct ip_hdr *
net_ip_parse(const uint8_t *frame, uint32_t len, const uint8_t **l4,
    uint32_t *l4len)
{
	const struct eth_hdr *e = (const void *)frame;
	const struct ip_hdr *ip = (const void *)(frame + ETH_HLEN);
	uint32_t hl, tl;

	if (len < ETH_HLEN + IP_HLEN || e->type != net_htons(ETHERTYPE_IP))
		return (NULL);
	hl = (ip->vhl & 0xf) * 4u;
	tl = net_ntohs(ip->len);
	if ((ip->vhl >> 4) != 4 || hl < IP_HLEN || tl < hl ||
	    tl > len - ETH_HLEN || net_csum(ip, hl) != 0)
		return (NULL);
	if (net_ntohs(ip->frag) & 0x3fff)	/* MF or an offset */
		return (NULL);
	*l4 = (const uint8_t *)ip + hl;
	*l4len = tl - hl;
	return (ip);
}

const uint8_t *
net_udp_parse(const uint8_t *frame, uint32_t len, const struct ip_hdr **ipp,
    uint16_t *sport, uint16_t *dport, uint32_t *plen)
{
	const struct ip_hdr *ip;
	const struct udp_hdr *u;
	const uint8_t *l4;
	uint32_t l4len, ul;

	ip = net_ip_parse(frame, len, &l4, &l4len);
	if (ip == NULL || ip->proto != IPPROTO_UDP || l4len < UDP_HLEN)
		return (NULL);
	u = (const void *)l4;
	ul = net_ntohs(u->len);
	if (ul < UDP_HLEN || ul > l4len)
		return (NULL);
	*ipp = ip;
	*sport = net_ntohs(u->sport);
	*dport = net_ntohs(u->dport);
	*plen = ul - UDP_HLEN;
	return (l4 + UDP_HLEN);
}

static void
arp_frame(struct net_if *ifp, uint8_t *f, const uint8_t *dmac, uint16_t op,
    const uint8_t *tha, uint32_t tpa)
{
	struct eth_hdr *e = (void *)f;
	struct arp_pkt *a = (void *)(f + ETH_HLEN);
	uint32_t spa = net_htonl(ifp->ip), t = net_htonl(tpa);

	memset(f, 0, 60);			/* the minimum frame, padded */
	memcpy(e->dst, dmac, ETH_ALEN);
	memcpy(e->src, ifp->mac, ETH_ALEN);
	e->type = net_htons(ETHERTYPE_ARP);
	a->htype = net_htons(1);
	a->ptype = net_htons(ETHERTYPE_IP);
	a->hlen = ETH_ALEN;
	a->plen = 4;
	a->op = net_htons(op);
	memcpy(a->sha, ifp->mac, ETH_ALEN);
	memcpy(a->spa, &spa, 4);
	memcpy(a->tha, tha, ETH_ALEN);
	memcpy(a->tpa, &t, 4);
}

/* An ARP packet in frame f, or NULL. */
static const struct arp_pkt *
arp_parse(const uint8_t *f, uint32_t len)
{
	const struct eth_hdr *e = (const void *)f;
	const struct arp_pkt *a = (const void *)(f + ETH_HLEN);

	if (len < ETH_HLEN + sizeof(*a) || e->type != net_htons(ETHERTYPE_ARP) ||
	    a->htype != net_htons(1) || a->ptype != net_htons(ETHERTYPE_IP) ||
	    a->hlen != ETH_ALEN || a->plen != 4)
		return (NULL);
	return (a);
}

int
net_rx(struct net_if *ifp, uint64_t timeout_ms, uint8_t **frame,
    uint32_t *len)
{
	uint64_t t0 = rdtsc(), el;
	const struct arp_pkt *a;
	uint8_t reply[60];
	uint32_t tpa, spa;
	int slot;

	for (;;) {
		el = net_ms_since(t0);
		slot = vnet_recv(ifp->nic, el < timeout_ms ? timeout_ms - el :
		    0, frame, len);
		if (slot < 0)
			return (-1);
		a = arp_parse(*frame, *len);
		if (a == NULL)
			return (slot);
		memcpy(&tpa, a->tpa, 4);
		memcpy(&spa, a->spa, 4);
		if (a->op == net_htons(1) && ifp->ip != 0 &&
		    net_ntohl(tpa) == ifp->ip) {
			/* Copy what the reply needs before the slot goes. */
			uint8_t sha[ETH_ALEN];

			memcpy(sha, a->sha, ETH_ALEN);
			arp_frame(ifp, reply, sha, 2, sha, net_ntohl(spa));
			vnet_rx_done(ifp->nic, slot, 0);
			vnet_send(ifp->nic, reply, sizeof(reply));
			ifp->arp_answered++;
			continue;
		}
		return (slot);
	}
}

int
net_arp(struct net_if *ifp, uint32_t ip, uint8_t *mac, uint64_t timeout_ms)
{
	static const uint8_t zero[ETH_ALEN];
	const struct arp_pkt *a;
	uint8_t req[60], *f;
	uint64_t t0;
	uint32_t len, spa;
	int slot, try;

	for (try = 0; try < TRIES; try++) {
		arp_frame(ifp, req, bcast_mac, 1, zero, ip);
		if (vnet_send(ifp->nic, req, sizeof(req)) != 0)
			return (-1);
		t0 = rdtsc();
		while (net_ms_since(t0) < timeout_ms) {
			slot = net_rx(ifp, timeout_ms - net_ms_since(t0), &f,
			    &len);
			if (slot < 0)
				break;
			a = arp_parse(f, len);
			if (a != NULL && a->op == net_htons(2)) {
				memcpy(&spa, a->spa, 4);
				if (net_ntohl(spa) == ip) {
					memcpy(mac, a->sha, ETH_ALEN);
					vnet_rx_done(ifp->nic, slot, 1);
					return (0);
				}
			}
			vnet_rx_done(ifp->nic, slot, 1);
		}
	}
	return (-1);
}

/* ---- DHCP (RFC 2131) ---- */

struct dhcp_msg {			/* RFC 2131 §2, Figure 1 */
	uint8_t		op, htype, hlen, hops;
	uint32_t	xid;
	uint16_t	secs, flags;
	uint32_t	ciaddr, yiaddr, siaddr, giaddr;
	uint8_t		chaddr[16];
	uint8_t		sname[64];
	uint8_t		file[128];
	uint32_t	magic;
	uint8_t		options[DHCP_MIN - DHCP_FIXED - 4];
} __attribute__((packed));

struct dhcp_reply {
	int		type;		/* option 53, 0 if none */
	uint32_t	yiaddr, server, mask, router, dns, lease;
};

static void
dhcp_send(struct net_if *ifp, uint32_t xid, int type, uint32_t req_ip,
    uint32_t server)
{
	uint8_t f[ETH_HLEN + IP_HLEN + UDP_HLEN + sizeof(struct dhcp_msg)];
	struct dhcp_msg *m;
	uint8_t *o;
	size_t off;

	memset(f, 0, sizeof(f));
	off = net_udp_hdrs(ifp, f, bcast_mac, 0, 0xffffffff, DHCP_SPORT,
	    DHCP_DPORT, sizeof(*m));
	m = (void *)(f + off);
	m->op = 1;				/* BOOTREQUEST */
	m->htype = 1;
	m->hlen = ETH_ALEN;
	m->xid = net_htonl(xid);
	m->flags = net_htons(0x8000);		/* answer by broadcast */
	memcpy(m->chaddr, ifp->mac, ETH_ALEN);
	m->magic = net_htonl(DHCP_MAGIC);
	o = m->options;
	*o++ = 53; *o++ = 1; *o++ = (uint8_t)type;
	if (type == DHCPREQUEST) {		/* §3.1 step 3 */
		uint32_t r = net_htonl(req_ip), s = net_htonl(server);

		*o++ = 50; *o++ = 4; memcpy(o, &r, 4); o += 4;
		*o++ = 54; *o++ = 4; memcpy(o, &s, 4); o += 4;
	}
	*o++ = 55; *o++ = 4; *o++ = 1; *o++ = 3; *o++ = 6; *o++ = 51;
	*o++ = 255;
	vnet_send(ifp->nic, f, sizeof(f));
}

/* An option's first 4 bytes as an address, when it has at least 4. */
static uint32_t
opt_u32(const uint8_t *v, unsigned l)
{
	uint32_t x;

	if (l < 4)
		return (0);
	memcpy(&x, v, 4);
	return (net_ntohl(x));
}

/* A DHCP answer to xid for our MAC in the frame: 0 and *r, or -1. */
static int
dhcp_parse(struct net_if *ifp, const uint8_t *f, uint32_t len, uint32_t xid,
    struct dhcp_reply *r)
{
	const struct ip_hdr *ip;
	const struct dhcp_msg *m;
	const uint8_t *p, *o, *end;
	uint16_t sport, dport;
	uint32_t plen;
	unsigned code, l;

	p = net_udp_parse(f, len, &ip, &sport, &dport, &plen);
	if (p == NULL || sport != DHCP_DPORT || dport != DHCP_SPORT ||
	    plen < DHCP_FIXED + 4)
		return (-1);
	m = (const void *)p;
	if (m->op != 2 || m->xid != net_htonl(xid) ||
	    memcmp(m->chaddr, ifp->mac, ETH_ALEN) != 0 ||
	    m->magic != net_htonl(DHCP_MAGIC))
		return (-1);
	memset(r, 0, sizeof(*r));
	r->yiaddr = net_ntohl(m->yiaddr);
	/* RFC 2132 §2: code, length, value; 0 pads, 255 ends. */
	o = p + DHCP_FIXED + 4;
	end = p + plen;
	while (o < end && *o != 255) {
		code = *o++;
		if (code == 0)
			continue;
		if (o >= end)
			break;
		l = *o++;
		if (l > (unsigned)(end - o))
			break;
		switch (code) {
		case 53: r->type = l >= 1 ? o[0] : 0; break;
		case 54: r->server = opt_u32(o, l); break;
		case 1: r->mask = opt_u32(o, l); break;
		case 3: r->router = opt_u32(o, l); break;
		case 6: r->dns = opt_u32(o, l); break;
		case 51: r->lease = opt_u32(o, l); break;
		}
		o += l;
	}
	return (0);
}

/* Send type, then wait for an answer of a type in want1/want2. */
static int
dhcp_step(struct net_if *ifp, uint32_t xid, int type, uint32_t req_ip,
    uint32_t server, int want1, int want2, uint64_t timeout_ms,
    struct dhcp_reply *r)
{
	uint64_t t0;
	uint32_t len;
	uint8_t *f;
	int slot, try, ok;

	for (try = 0; try < TRIES; try++) {
		dhcp_send(ifp, xid, type, req_ip, server);
		t0 = rdtsc();
		while (net_ms_since(t0) < timeout_ms) {
			slot = net_rx(ifp, timeout_ms - net_ms_since(t0), &f,
			    &len);
			if (slot < 0)
				break;
			ok = dhcp_parse(ifp, f, len, xid, r) == 0 &&
			    (r->type == want1 || r->type == want2);
			vnet_rx_done(ifp->nic, slot, 1);
			if (ok)
				return (0);
		}
	}
	return (-1);
}

int
net_dhcp(struct net_if *ifp, uint64_t timeout_ms, int verbose)
{
	struct dhcp_reply offer, ack;
	uint32_t xid = (uint32_t)rdtsc() ^ 0x6b687976u;
	char a[16], b[16];

	if (dhcp_step(ifp, xid, DHCPDISCOVER, 0, 0, DHCPOFFER, DHCPOFFER,
	    timeout_ms, &offer) != 0) {
		printf("dhcp: DISCOVER: no OFFER after %d tries\n", TRIES);
		return (-1);
	}
	if (verbose)
		printf("dhcp: OFFER %s from %s\n", net_ip_str(a, offer.yiaddr),
		    net_ip_str(b, offer.server));
	if (offer.yiaddr == 0 || offer.server == 0) {
		printf("dhcp: OFFER without an address or a server id\n");
		return (-1);
	}
	if (dhcp_step(ifp, xid, DHCPREQUEST, offer.yiaddr, offer.server,
	    DHCPACK, DHCPNAK, timeout_ms, &ack) != 0) {
		printf("dhcp: REQUEST: no ACK after %d tries\n", TRIES);
		return (-1);
	}
	if (ack.type == DHCPNAK) {
		printf("dhcp: REQUEST: NAK from %s\n",
		    net_ip_str(a, ack.server));
		return (-1);
	}
	if (ack.yiaddr != offer.yiaddr) {
		printf("dhcp: ACK for %s, requested %s\n",
		    net_ip_str(a, ack.yiaddr), net_ip_str(b, offer.yiaddr));
		return (-1);
	}
	ifp->ip = ack.yiaddr;
	ifp->mask = ack.mask;
	ifp->router = ack.router;
	ifp->dns = ack.dns;
	ifp->server = ack.server != 0 ? ack.server : offer.server;
	ifp->lease_s = ack.lease;
	return (0);
}
