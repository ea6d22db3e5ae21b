/*
 * vnet: a virtio-net NIC through the kit's driver (virtio 1.2 §5.1) on a
 * user-mode network (libslirp: khyve's slirp backend, QEMU's -netdev
 * user): DHCP, ARP, ICMP echo.
 *
 * Runs at CPL0 (a driver is exit-heavy).  Steps, each with a timeout by
 * the TSC so that a silent network fails instead of hanging:
 *
 *	open	the first virtio-net function: negotiate VERSION_1 and MAC
 *		(STATUS when offered), read the MAC from the configuration
 *		(§5.1.4), both queues, MSI-X unless msix=0
 *	dhcp	DISCOVER -> OFFER -> REQUEST -> ACK (RFC 2131 §3.1): the
 *		leased address, the server, and the mask, router, DNS and
 *		lease time options when present (without a router option,
 *		as libslirp's restricted mode answers, the server)
 *	arp	who-has the router -> its MAC (RFC 826)
 *	ping	count ICMP echo requests to the router (RFC 792), each reply
 *		checked: from the router, to us, type 0, the checksum, our
 *		id and sequence number, the payload byte for byte
 *
 * libslirp answers an echo request to its host address 10.0.2.2 itself,
 * in restricted mode too (src/ip_icmp.c icmp_input(): the reflect comes
 * before the restricted check; guest:vnet runs with open=false and gets
 * its replies): this guest needs no open=true.
 *
 * The last line is "vnet: ok" when every step passed, then PASS; a
 * failure prints "vnet: STEP failed" and ends with FAIL and the step's
 * number (open 2, dhcp 3, arp 4, ping 5).
 *
 * Command line:
 *	transport=auto|modern|legacy	registers (default modern)
 *	msix=0		poll the used rings, no interrupt
 *	count=N		echo requests (default 3, 1 to 100)
 *	timeout_ms=T	per answer awaited (default 3000)
 *	ip=A.B.C.D router=A.B.C.D
 *			a static address on a /24 and the host to ARP and
 *			ping, instead of DHCP (a tap has no DHCP server:
 *			guest:vnet-tap pings the host's end of the tap)
 */
#include "kit.h"
#include "net.h"

#define PING_ID		0x6b76		/* "kv" */
#define PING_DATA	56		/* the classic ping payload */

static struct vnet nic;
static struct net_if nif;
static uint64_t timeout_ms;

static enum virtio_mode
transport(void)
{
	const char *t = arg_get("transport");

	if (t != NULL && strcmp(t, "auto") == 0)
		return (VIRTIO_AUTO);
	if (t != NULL && strcmp(t, "legacy") == 0)
		return (VIRTIO_LEGACY);
	return (VIRTIO_MODERN);
}

static void
ping_payload(uint8_t *p, unsigned seq)
{
	unsigned i;

	for (i = 0; i < PING_DATA; i++)
		p[i] = (uint8_t)(i * 7 + seq);
}

/* One echo request with sequence seq to ip (its MAC is dmac): 0 when the
 * right reply came. */
static int
ping_one(uint32_t ip, const uint8_t *dmac, unsigned seq)
{
	uint8_t f[ETH_HLEN + IP_HLEN + sizeof(struct icmp_echo) + PING_DATA];
	uint8_t want[PING_DATA], *rf;
	struct ip_hdr *iph = (void *)(f + ETH_HLEN);
	struct icmp_echo *ic = (void *)(f + ETH_HLEN + IP_HLEN);
	const struct ip_hdr *rip;
	const struct icmp_echo *ric;
	const uint8_t *l4;
	uint32_t len, l4len;
	uint64_t t0;
	char a[16];
	int slot, ok, other = 0;

	/* Ethernet and IPv4 as for UDP; then the protocol and the
	 * checksum redone. */
	net_udp_hdrs(&nif, f, dmac, nif.ip, ip, 0, 0, sizeof(*ic) + PING_DATA -
	    UDP_HLEN);
	iph->proto = IPPROTO_ICMP;
	iph->csum = 0;
	iph->csum = net_csum(iph, IP_HLEN);
	ic->type = ICMP_ECHO;
	ic->code = 0;
	ic->csum = 0;
	ic->id = net_htons(PING_ID);
	ic->seq = net_htons((uint16_t)seq);
	ping_payload((uint8_t *)(ic + 1), seq);
	ping_payload(want, seq);
	ic->csum = net_csum(ic, sizeof(*ic) + PING_DATA);
	t0 = rdtsc();
	if (vnet_send(&nic, f, sizeof(f)) != 0) {
		printf("ping: seq %u not sent\n", seq);
		return (-1);
	}
	while (net_ms_since(t0) < timeout_ms) {
		slot = net_rx(&nif, timeout_ms - net_ms_since(t0), &rf, &len);
		if (slot < 0)
			break;
		rip = net_ip_parse(rf, len, &l4, &l4len);
		ric = (const void *)l4;
		ok = rip != NULL && rip->proto == IPPROTO_ICMP &&
		    l4len >= sizeof(*ric) && ric->type == ICMP_ECHOREPLY;
		if (!ok) {
			other++;
			vnet_rx_done(&nic, slot, 1);
			continue;
		}
		ok = net_ntohl(rip->src) == ip && net_ntohl(rip->dst) == nif.ip &&
		    ric->code == 0 && net_csum(ric, l4len) == 0 &&
		    ric->id == net_htons(PING_ID) &&
		    ric->seq == net_htons((uint16_t)seq) &&
		    l4len == sizeof(*ric) + PING_DATA &&
		    memcmp(ric + 1, want, PING_DATA) == 0;
		if (ok)
			printf("ping: reply from %s: seq %u, %u bytes, id and "
			    "payload match, %llu ms\n", net_ip_str(a, ip), seq,
			    l4len, (unsigned long long)net_ms_since(t0));
		else
			printf("ping: bad echo reply for seq %u: from %s, id "
			    "0x%x seq %u, %u bytes, checksum %s\n", seq,
			    net_ip_str(a, net_ntohl(rip->src)),
			    net_ntohs(ric->id), net_ntohs(ric->seq), l4len,
			    net_csum(ric, l4len) == 0 ? "ok" : "bad");
		vnet_rx_done(&nic, slot, 1);
		return (ok ? 0 : -1);
	}
	printf("ping: no reply for seq %u in %llu ms (%d other frames)\n",
	    seq, (unsigned long long)timeout_ms, other);
	return (-1);
}

static int
fail(const char *step, int code)
{
	printf("vnet: %s failed\n", step);
	return (code);
}

/* What the DHCP server gave. */
static void
dhcp_report(void)
{
	char a[18], b[16];

	printf("dhcp: lease %s from server %s", net_ip_str(a, nif.ip),
	    net_ip_str(b, nif.server));
	if (nif.mask != 0)
		printf(", mask %s", net_ip_str(b, nif.mask));
	if (nif.router != 0)
		printf(", router %s", net_ip_str(b, nif.router));
	if (nif.dns != 0)
		printf(", dns %s", net_ip_str(b, nif.dns));
	if (nif.lease_s != 0)
		printf(", %u s", nif.lease_s);
	printf("\n");
}

int
guest_main(void)
{
	uint8_t rmac[ETH_ALEN];
	unsigned i, count;
	char a[18], b[16];
	int msix;

	count = (unsigned)arg_get_u64("count", 3);
	if (count < 1 || count > 100)
		count = 3;
	timeout_ms = arg_get_u64("timeout_ms", 3000);
	msix = arg_get_u64("msix", 1) != 0;
	if (vnet_open(&nic, 0, transport(), 0, msix) != 0)
		return (fail("open", 2));
	printf("virtio-net: device %04x, %s, mac %s, queues %u/%u, %s, "
	    "features 0x%llx\n", nic.vd.device_id, nic.vd.legacy ? "legacy" :
	    "modern", net_mac_str(a, nic.mac), nic.rxq.size, nic.txq.size,
	    nic.rx_how == VIRTQ_INTR ? "MSI-X" : "polled",
	    (unsigned long long)nic.vd.features);
	if (nic.vd.features & VNET_F_STATUS)
		printf("virtio-net: link %s\n", nic.status & VNET_S_LINK_UP ?
		    "up" : "down");
	nif.nic = &nic;
	memcpy(nif.mac, nic.mac, ETH_ALEN);

	if (arg_get("ip") != NULL) {
		if (net_parse_ip(arg_get("ip"), &nif.ip) != 0 ||
		    arg_get("router") == NULL ||
		    net_parse_ip(arg_get("router"), &nif.router) != 0)
			return (fail("static address", 3));
		nif.mask = IP_ADDR(255, 255, 255, 0);
		printf("static: %s, router %s\n", net_ip_str(a, nif.ip),
		    net_ip_str(b, nif.router));
	} else if (net_dhcp(&nif, timeout_ms, 1) != 0) {
		return (fail("dhcp", 3));
	} else {
		dhcp_report();
	}
	if (nif.router == 0) {
		/* libslirp in restricted mode leaves out the router and DNS
		 * options (src/bootp.c bootp_reply()); its server is the
		 * router. */
		printf("dhcp: no router option: using the server %s\n",
		    net_ip_str(b, nif.server));
		nif.router = nif.server;
	}

	if (net_arp(&nif, nif.router, rmac, timeout_ms) != 0) {
		printf("arp: no reply for %s\n", net_ip_str(b, nif.router));
		return (fail("arp", 4));
	}
	printf("arp: %s is at %s\n", net_ip_str(b, nif.router),
	    net_mac_str(a, rmac));

	for (i = 1; i <= count; i++)
		if (ping_one(nif.router, rmac, i) != 0)
			return (fail("ping", 5));
	printf("ping: %u of %u replies\n", count, count);
	printf("virtio-net: rx %llu frames (%llu bad), tx %llu, arp answered "
	    "%llu\n", (unsigned long long)nic.rx_frames,
	    (unsigned long long)nic.rx_bad, (unsigned long long)nic.tx_frames,
	    (unsigned long long)nif.arp_answered);
	printf("vnet: ok\n");
	return (0);
}
