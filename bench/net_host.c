/*
 * net_host.c: the host end of the network benchmarks (bench/run.sh,
 * docs/performance.md "Network"): a UDP sink and a UDP source, each
 * measuring its own figures and the host CPU time a monitor spends while
 * the traffic flows.
 *
 *	net_host sink -b ADDR -p PORT [-n TESTS] [-i IDLE_MS] [-t TIMEOUT_S]
 *	    [-P PID]...
 *	net_host source -d ADDR -p PORT -s BYTES [-t SECONDS] [-T ID]
 *	    [-P PID]...
 *	net_host go -d ADDR -p PORT
 *
 * Datagrams of a test carry "K", the test's ID and then anything; the
 * sender ends a test with a few datagrams "K", ID | 0x80 (the end
 * marker).  The sink counts datagrams and payload bytes per test ID from
 * the first datagram to the end marker (or the last datagram when no
 * marker comes) and prints, per test, once it has seen TESTS end markers,
 * IDLE_MS without traffic after some, or TIMEOUT_S in all:
 *
 *	SINK id=ID frames=N bytes=B ms=T mbps=X pps=Y cpu_ms=C self_cpu_ms=S
 *
 * The source sends BYTES-byte datagrams as fast as sendto(2) takes them
 * for SECONDS (default 2), tagged with ID (default 1), then the end
 * markers, and prints
 *
 *	SOURCE id=ID frames=N bytes=B ms=T mbps=X pps=Y cpu_ms=C self_cpu_ms=S
 *
 * cpu_ms is the user + system time (/proc/PID/stat, all threads) of each
 * PID given with -P and of all their descendants (khyve's slirp helper),
 * from the first datagram to the end (sink) or over the sending (source);
 * -1 when no -P was given.  self_cpu_ms is net_host's own over the same
 * span.  mbps counts UDP payload bits (10^6 per second).  "go" sends one
 * datagram "KGO" (what bench_net waits for before it starts).
 *
 * "sink" prints "SINK ready" on standard output once it is bound.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PIDS	8
#define MAX_TESTS	8
#define END_COPIES	8
#define DGRAM_MAX	65507

static pid_t pids[MAX_PIDS];
static int npids;
static long clk_tck;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e3 + ts.tv_nsec / 1e6);
}

static double
self_cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);
}

/* utime + stime of pid in clock ticks (proc(5) fields 14 and 15), -1 if
 * it is gone; the command name may hold spaces and parentheses. */
static long
pid_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return (-1);
	return ((long)(ut + st));
}

/* pid's ticks and its descendants' (/proc/PID/task/TID/children). */
static long
tree_ticks(pid_t pid, int depth)
{
	char path[64], buf[4096], *s, *end;
	struct dirent *de;
	long t, sum;
	DIR *d;
	FILE *f;
	size_t n;

	if ((sum = pid_ticks(pid)) < 0)
		return (0);
	if (depth > 4)
		return (sum);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return (sum);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children",
		    (int)pid, de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		for (s = buf;; s = end) {
			long c = strtol(s, &end, 10);

			if (end == s)
				break;
			if ((t = tree_ticks((pid_t)c, depth + 1)) > 0)
				sum += t;
		}
	}
	closedir(d);
	return (sum);
}

/* The monitors' CPU time in ms, -1 without -P. */
static double
mon_cpu_ms(void)
{
	long sum = 0;
	int i;

	if (npids == 0)
		return (-1);
	for (i = 0; i < npids; i++)
		sum += tree_ticks(pids[i], 0);
	return (sum * 1e3 / clk_tck);
}

static void
report(const char *what, int id, unsigned long long frames,
    unsigned long long bytes, double ms, double cpu, double self)
{
	printf("%s id=%d frames=%llu bytes=%llu ms=%.1f mbps=%.2f pps=%.0f "
	    "cpu_ms=%.0f self_cpu_ms=%.1f\n", what, id, frames, bytes, ms,
	    ms > 0 ? bytes * 8 / ms / 1e3 : 0, ms > 0 ? frames * 1e3 / ms : 0,
	    cpu, self);
	fflush(stdout);
}

static int
udp_socket(const char *addr, int port, struct sockaddr_in *sin)
{
	int s, sz = 4 << 20;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
		fprintf(stderr, "net_host: bad address %s\n", addr);
		return (-1);
	}
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) < 0) {
		perror("net_host: socket");
		return (-1);
	}
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return (s);
}

struct test {
	int		seen, ended;
	unsigned long long frames, bytes;
	double		t0, t1, cpu0, cpu1, self0, self1;
};

static int
sink(const char *addr, int port, int ntests, int idle_ms, int timeout_s)
{
	static unsigned char buf[DGRAM_MAX];
	struct test t[MAX_TESTS];
	struct sockaddr_in sin;
	struct pollfd pfd;
	double start = now_ms(), last = 0, sampled = 0, now;
	int s, id, i, ended = 0;
	ssize_t n;

	memset(t, 0, sizeof(t));
	if ((s = udp_socket(addr, port, &sin)) < 0)
		return (1);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		fprintf(stderr, "net_host: bind %s:%d: %s\n", addr, port,
		    strerror(errno));
		return (1);
	}
	printf("SINK ready\n");
	fflush(stdout);
	pfd.fd = s;
	pfd.events = POLLIN;
	for (;;) {
		now = now_ms();
		if (ended >= ntests || now - start > timeout_s * 1e3 ||
		    (last > 0 && now - last > idle_ms))
			break;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		while ((n = recv(s, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
			if (n < 2 || buf[0] != 'K')
				continue;
			id = buf[1] & 0x7f;
			if (id >= MAX_TESTS)
				continue;
			now = now_ms();
			last = now;
			if (buf[1] & 0x80) {
				if (t[id].seen && !t[id].ended) {
					t[id].ended = 1;
					t[id].cpu1 = mon_cpu_ms();
					t[id].self1 = self_cpu_ms();
					ended++;
				}
				continue;
			}
			if (t[id].ended)
				continue;
			if (!t[id].seen) {
				t[id].seen = 1;
				t[id].t0 = now;
				t[id].cpu0 = mon_cpu_ms();
				t[id].self0 = self_cpu_ms();
			}
			t[id].frames++;
			t[id].bytes += (unsigned long long)n;
			t[id].t1 = now;
		}
		/* The CPU times of a test without its end marker: sampled
		 * every 50 ms, not per datagram (/proc reads cost). */
		if (now - sampled >= 50) {
			sampled = now;
			for (i = 0; i < MAX_TESTS; i++)
				if (t[i].seen && !t[i].ended) {
					t[i].cpu1 = mon_cpu_ms();
					t[i].self1 = self_cpu_ms();
				}
		}
	}
	for (i = 0; i < MAX_TESTS; i++)
		if (t[i].seen)
			report("SINK", i, t[i].frames, t[i].bytes,
			    t[i].t1 - t[i].t0, npids ? t[i].cpu1 - t[i].cpu0 :
			    -1, t[i].self1 - t[i].self0);
	close(s);
	return (0);
}

static int
source(const char *addr, int port, int size, double secs, int id)
{
	static unsigned char buf[DGRAM_MAX];
	struct sockaddr_in sin;
	unsigned long long frames = 0, bytes = 0;
	double t0, t1, c0, c1, s0, s1;
	int s, i;
	ssize_t n;

	if (size < 2 || size > DGRAM_MAX) {
		fprintf(stderr, "net_host: -s %d: 2 to %d bytes\n", size,
		    DGRAM_MAX);
		return (1);
	}
	if ((s = udp_socket(addr, port, &sin)) < 0)
		return (1);
	memset(buf, 'x', (size_t)size);
	buf[0] = 'K';
	buf[1] = (unsigned char)id;
	c0 = mon_cpu_ms();
	s0 = self_cpu_ms();
	t0 = t1 = now_ms();
	while (t1 - t0 < secs * 1e3) {
		/* Check the clock every 64 datagrams: it costs a vDSO call. */
		for (i = 0; i < 64; i++) {
			n = sendto(s, buf, (size_t)size, 0,
			    (struct sockaddr *)&sin, sizeof(sin));
			if (n == size) {
				frames++;
				bytes += (unsigned long long)n;
			} else if (n < 0 && errno != ENOBUFS && errno != EAGAIN &&
			    errno != ECONNREFUSED) {
				perror("net_host: sendto");
				return (1);
			}
		}
		t1 = now_ms();
	}
	c1 = mon_cpu_ms();
	s1 = self_cpu_ms();
	buf[1] = (unsigned char)(id | 0x80);
	for (i = 0; i < END_COPIES; i++) {
		sendto(s, buf, 2, 0, (struct sockaddr *)&sin, sizeof(sin));
		usleep(1000);
	}
	report("SOURCE", id, frames, bytes, t1 - t0, npids ? c1 - c0 : -1,
	    s1 - s0);
	close(s);
	return (0);
}

static int
go(const char *addr, int port)
{
	struct sockaddr_in sin;
	int s;

	if ((s = udp_socket(addr, port, &sin)) < 0)
		return (1);
	if (sendto(s, "KGO", 3, 0, (struct sockaddr *)&sin, sizeof(sin)) != 3) {
		perror("net_host: sendto");
		return (1);
	}
	close(s);
	return (0);
}

static void
usage(void)
{
	fprintf(stderr, "usage: net_host sink -b ADDR -p PORT [-n TESTS] "
	    "[-i IDLE_MS] [-t TIMEOUT_S] [-P PID]...\n"
	    "       net_host source -d ADDR -p PORT -s BYTES [-t SECONDS] "
	    "[-T ID] [-P PID]...\n"
	    "       net_host go -d ADDR -p PORT\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	const char *mode, *addr = "127.0.0.1";
	int c, port = 0, ntests = 1, idle_ms = 2000, size = 1472, id = 1;
	double t = -1;

	if (argc < 2)
		usage();
	mode = argv[1];
	clk_tck = sysconf(_SC_CLK_TCK);
	optind = 2;
	while ((c = getopt(argc, argv, "b:d:p:n:i:t:s:T:P:")) != -1) {
		switch (c) {
		case 'b':
		case 'd':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'n':
			ntests = atoi(optarg);
			break;
		case 'i':
			idle_ms = atoi(optarg);
			break;
		case 't':
			t = atof(optarg);
			break;
		case 's':
			size = atoi(optarg);
			break;
		case 'T':
			id = atoi(optarg);
			break;
		case 'P':
			if (npids == MAX_PIDS)
				usage();
			pids[npids++] = (pid_t)atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (port <= 0 || port > 65535 || id < 0 || id >= MAX_TESTS)
		usage();
	if (strcmp(mode, "sink") == 0)
		return (sink(addr, port, ntests, idle_ms, t > 0 ? (int)t : 600));
	if (strcmp(mode, "source") == 0)
		return (source(addr, port, size, t > 0 ? t : 2, id));
	if (strcmp(mode, "go") == 0)
		return (go(addr, port));
	usage();
	return (64);
}
