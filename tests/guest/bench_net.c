/*
 * bench_net: virtio-net benchmarks for bench/run.sh (docs/performance.md
 * "Network"), with bench/net_host at the host end.
 *
 * Runs at CPL0 through the kit's driver (kit/virtio_net.h), on the first
 * virtio-net function, modern registers, both queues of the device's
 * size, polled (no interrupt: a benchmark that waits spins anyway).
 * Steps:
 *
 *	1. an address: DHCP, or ip= (and mask=) from the command line; the
 *	   MAC of dst (on-link) or of the router (off-link) by ARP
 *	2. "BENCH ready", then wait (up to 60 s) for a UDP datagram to
 *	   rx_port, net_host's "go": the host end is listening by then
 *	3. txl: UDP datagrams with a 1472-byte payload (1514-byte frames)
 *	   to dst:port for tx_ms (or tx_count datagrams), as fast as the
 *	   transmit ring takes them; then end markers (net_host.c)
 *	4. txs: the same with an 18-byte payload (60-byte frames, 64 on a
 *	   wire with the FCS)
 *	5. rxl: "BENCH rxl ready", then count the UDP datagrams of at
 *	   least 16 bytes that arrive for rx_port and their payload bytes,
 *	   from the first until rx_idle_ms pass without one, or rx_ms in
 *	   all (the host sends 1472-byte payloads)
 *	6. rxs: the same again, "BENCH rxs ready" (18-byte payloads)
 *
 * Payload: "K", the test's ID (1 txl, 2 txs), then 'x's; every datagram
 * of a test is the same buffer in guest memory, queued again as soon as
 * the ring has room (vnet_tx_queue_ref: nothing is copied per datagram;
 * guest kernel code is slow here).  A notification per batch datagrams.
 * Frames that arrive during the transmit tests are dropped unread.
 *
 * One line per figure, after "BENCH up":
 *
 *	BENCH name=txl frames=N bytes=B ms=T mbps=X pps=Y kicks=K full=F
 *	BENCH name=rxl frames=N bytes=B ms=T mbps=X pps=Y other=O
 *
 * bytes count UDP payload; ms runs from the first datagram to the last
 * (tx: to the last one queued); mbps is 10^6 bits per second.
 *
 * Command line:
 *	ip=A.B.C.D mask=A.B.C.D	a static address (default: DHCP)
 *	router=A.B.C.D		with ip=: the router, for an off-link dst
 *	dst=A.B.C.D port=P	where to send (default 10.0.2.2 port 9000);
 *				dst=router: the router DHCP gave
 *	rx_port=P		where to receive, go included (default 9001)
 *	tests=LIST		of txl,txs,rxl,rxs (default all, in order)
 *	tx_ms=T tx_count=N	each transmit test's length (default 2000 ms)
 *	rx_ms=T rx_idle_ms=T	the receive window (default 20000, 1000)
 *	batch=N			datagrams per notification (default 32)
 *	go=0			do not wait for go
 *	pm1a_cnt=P s5=T		power off through port P directly
 */
#include "kit.h"
#include "net.h"

#define SLP_EN		(1u << 13)	/* ACPI 6.4 §4.8.3.2.1 */
#define GO_MS		60000
#define ID_TXL		1
#define ID_TXS		2
#define END_COPIES	8
#define RX_MIN		16	/* shorter datagrams are no test's */

static struct vnet nic;
static struct net_if nif;
static uint8_t dmac[ETH_ALEN];
static uint32_t dst, rx_port;
static uint16_t dport;
static uint64_t khz;

static int
wanted(const char *name)
{
	const char *t = arg_get("tests");
	size_t n = strlen(name);

	if (t == NULL)
		return (1);
	while (*t != '\0') {
		if (strncmp(t, name, n) == 0 && (t[n] == ',' || t[n] == '\0'))
			return (1);
		while (*t != '\0' && *t != ',')
			t++;
		if (*t == ',')
			t++;
	}
	return (0);
}

static void
fast_poweroff(void)
{
	uint64_t port = arg_get_u64("pm1a_cnt", 0), typ = arg_get_u64("s5", 8);

	if (port != 0 && port <= 0xffff && typ <= 7)
		outw((uint16_t)port, (uint16_t)(typ << 10 | SLP_EN));
	guest_poweroff();
}

static int
arg_ip(const char *name, uint32_t *ip)
{
	const char *v = arg_get(name);

	if (v == NULL)
		return (0);
	if (net_parse_ip(v, ip) != 0) {
		printf("BENCH error %s=%s is no address\n", name, v);
		return (-1);
	}
	return (1);
}

static void
report(const char *name, uint64_t frames, uint64_t bytes, uint64_t ticks,
    const char *extra)
{
	uint64_t us = khz != 0 ? ticks * 1000 / khz : 0;
	uint64_t kbps = us != 0 ? bytes * 8 * 1000 / us : 0;

	printf("BENCH name=%s frames=%llu bytes=%llu ms=%llu.%03llu "
	    "mbps=%llu.%03llu pps=%llu %s\n", name,
	    (unsigned long long)frames, (unsigned long long)bytes,
	    (unsigned long long)(us / 1000), (unsigned long long)(us % 1000),
	    (unsigned long long)(kbps / 1000),
	    (unsigned long long)(kbps % 1000),
	    (unsigned long long)(us != 0 ? frames * 1000000 / us : 0), extra);
}

/* A frame buffer (header included) with a payload of plen bytes. */
static uint8_t *
build(unsigned id, size_t plen, uint32_t *len)
{
	uint8_t *b = virtio_alloc(VNET_SLOT, 64), *p;
	size_t off;

	if (b == NULL)
		return (NULL);
	off = net_udp_hdrs(&nif, b + nic.hdr_len, dmac, nif.ip, dst,
	    (uint16_t)rx_port, dport, plen);
	p = b + nic.hdr_len + off;
	memset(p, 'x', plen);
	p[0] = 'K';
	p[1] = (uint8_t)id;
	*len = (uint32_t)(nic.hdr_len + off + plen);
	return (b);
}

static void
bench_tx(const char *name, unsigned id, size_t plen)
{
	uint64_t ms = arg_get_u64("tx_ms", 2000), max = arg_get_u64("tx_count",
	    ~0ULL), batch = arg_get_u64("batch", 32);
	uint64_t t0, t1, lim, n = 0, k0 = nic.txq.kicks, f0 = nic.tx_full;
	uint8_t *buf, *end;
	uint32_t len, elen;
	char extra[64];
	unsigned i, q = 0;

	buf = build(id, plen, &len);
	end = build(id | 0x80, 2, &elen);
	if (buf == NULL || end == NULL) {
		printf("BENCH error %s: out of DMA memory\n", name);
		return;
	}
	if (batch == 0 || batch > nic.txq.size)
		batch = 32;
	lim = ms * (khz != 0 ? khz : 1000000);
	t0 = t1 = rdtsc();
	while (n < max && t1 - t0 < lim) {
		if (vnet_tx_queue_ref(&nic, buf, len, 1000) != 0) {
			printf("BENCH error %s: the transmit ring stayed full "
			    "for 1 s\n", name);
			break;
		}
		n++;
		if (++q == batch) {
			vnet_tx_kick(&nic);
			q = 0;
			t1 = rdtsc();
		}
	}
	vnet_tx_kick(&nic);
	t1 = rdtsc();
	for (i = 0; i < END_COPIES; i++)
		if (vnet_tx_queue_ref(&nic, end, elen, 1000) == 0)
			vnet_tx_kick(&nic);
	snprintf(extra, sizeof(extra), "kicks=%llu full=%llu",
	    (unsigned long long)(nic.txq.kicks - k0),
	    (unsigned long long)(nic.tx_full - f0));
	report(name, n, n * plen, t1 - t0, extra);
}

/* Everything received so far, dropped. */
static void
drain(void)
{
	uint8_t *f;
	uint32_t len;
	int slot;

	while ((slot = vnet_recv(&nic, 0, &f, &len)) >= 0)
		vnet_rx_done(&nic, slot, 0);
}

/* A datagram for rx_port: its payload length, else -1. */
static int64_t
for_us(const uint8_t *f, uint32_t len)
{
	const struct ip_hdr *ip;
	uint16_t sport, dp;
	uint32_t plen;

	if (net_udp_parse(f, len, &ip, &sport, &dp, &plen) == NULL ||
	    dp != rx_port)
		return (-1);
	return (plen);
}

static int
wait_go(void)
{
	uint64_t t0 = rdtsc();
	uint32_t len;
	uint8_t *f;
	int slot, got;

	while (net_ms_since(t0) < GO_MS) {
		slot = net_rx(&nif, GO_MS - net_ms_since(t0), &f, &len);
		if (slot < 0)
			break;
		got = for_us(f, len) >= 0;
		vnet_rx_done(&nic, slot, 1);
		if (got)
			return (0);
	}
	printf("BENCH error no go datagram on port %u in %u s\n", rx_port,
	    GO_MS / 1000);
	return (-1);
}

static void
bench_rx(const char *name)
{
	uint64_t win = arg_get_u64("rx_ms", 20000);
	uint64_t idle = arg_get_u64("rx_idle_ms", 1000);
	uint64_t t0, first = 0, last = 0, frames = 0, bytes = 0, other = 0;
	int64_t pl;
	uint32_t len;
	uint8_t *f;
	char extra[32];
	int slot;

	drain();
	printf("BENCH %s ready port=%u\n", name, rx_port);
	t0 = rdtsc();
	while (net_ms_since(t0) < win) {
		if (frames != 0 && (rdtsc() - last) / (khz ? khz : 1000000) >=
		    idle)
			break;
		slot = net_rx(&nif, frames != 0 ? idle : win -
		    net_ms_since(t0), &f, &len);
		if (slot < 0)
			break;
		pl = for_us(f, len);
		vnet_rx_done(&nic, slot, 0);
		if (pl < 0 || pl < RX_MIN) {	/* go, end markers */
			other++;
			continue;
		}
		last = rdtsc();
		if (frames++ == 0)
			first = last;
		bytes += (uint64_t)pl;
	}
	snprintf(extra, sizeof(extra), "other=%llu",
	    (unsigned long long)other);
	report(name, frames, bytes, last - first, extra);
}

int
guest_main(void)
{
	char a[18], b[16], c[16], d[16];
	const char *v;
	uint32_t next;
	int r, dst_router;

	khz = guest_tsc_khz();
	printf("BENCH up\n");
	if (vnet_open(&nic, 0, VIRTIO_MODERN, 0, 0) != 0) {
		printf("BENCH error no virtio-net device\n");
		return (1);
	}
	nif.nic = &nic;
	memcpy(nif.mac, nic.mac, ETH_ALEN);
	dst = IP_ADDR(10, 0, 2, 2);
	dport = (uint16_t)arg_get_u64("port", 9000);
	rx_port = (uint32_t)arg_get_u64("rx_port", 9001);
	v = arg_get("dst");
	dst_router = v != NULL && strcmp(v, "router") == 0;
	if (!dst_router && arg_ip("dst", &dst) < 0)
		return (1);
	if ((r = arg_ip("ip", &nif.ip)) < 0)
		return (1);
	if (r == 1) {
		nif.mask = IP_ADDR(255, 255, 255, 0);
		if (arg_ip("mask", &nif.mask) < 0 ||
		    arg_ip("router", &nif.router) < 0)
			return (1);
	} else if (net_dhcp(&nif, 3000, 0) != 0) {
		printf("BENCH error dhcp\n");
		return (1);
	}
	/* passt's gateway stands for the host (docs/networking-passt.md). */
	if (dst_router)
		dst = nif.router != 0 ? nif.router : nif.server;
	/* On-link: dst itself; else the router (libslirp's restricted
	 * mode gives none: its DHCP server is the router). */
	next = dst;
	if ((dst & nif.mask) != (nif.ip & nif.mask))
		next = nif.router != 0 ? nif.router : nif.server != 0 ?
		    nif.server : dst;
	if (net_arp(&nif, next, dmac, 3000) != 0) {
		printf("BENCH error no ARP reply from %s\n",
		    net_ip_str(b, next));
		return (1);
	}
	printf("BENCH net ip=%s dst=%s:%u via=%s mac=%s queue=%u/%u "
	    "tsc_khz=%llu device=%04x\n", net_ip_str(b, nif.ip),
	    net_ip_str(c, dst), dport, net_ip_str(d, next),
	    net_mac_str(a, dmac), nic.rxq.size, nic.txq.size,
	    (unsigned long long)khz, nic.vd.device_id);
	printf("BENCH ready\n");
	if (arg_get_u64("go", 1) != 0 && wait_go() != 0)
		return (1);
	if (wanted("txl"))
		bench_tx("txl", ID_TXL, 1472);
	if (wanted("txs"))
		bench_tx("txs", ID_TXS, 18);
	if (wanted("rxl"))
		bench_rx("rxl");
	if (wanted("rxs"))
		bench_rx("rxs");
	printf("BENCH done rx_bad=%llu\n", (unsigned long long)nic.rx_bad);
	if (kit_failures == 0)
		fast_poweroff();
	return (0);
}
