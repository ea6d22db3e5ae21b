/*
 * test_net_hostfwd.c: the hostfwd= rule parser (src/backend/net_hostfwd.c),
 * from a table of good and bad rules; every refusal must name hostfwd=
 * and the rule in its one message.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "backend/net_hostfwd.h"
#include "test.h"
#include "testproc.h"

static uint32_t
ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return (a.s_addr);
}

struct good {
	const char	*spec;
	size_t		n;
	const char	*canon;		/* the first rule, formatted */
	const char	*canon2;	/* the second, if any */
};

static const struct good goods[] = {
	{ "tcp:127.0.0.1:2222-:22", 1, "tcp:127.0.0.1:2222-10.0.2.15:22", NULL },
	{ "udp::5353-10.0.2.16:53", 1, "udp::5353-10.0.2.16:53", NULL },
	{ "tcp::1-:65535", 1, "tcp::1-10.0.2.15:65535", NULL },
	{ "tcp::0022-:022", 1, "tcp::22-10.0.2.15:22", NULL },
	{ "tcp:0.0.0.0:80-10.0.2.15:8080;udp::80-:80", 2,
	    "tcp::80-10.0.2.15:8080", "udp::80-10.0.2.15:80" },
	{ "tcp:127.0.0.1:2222-:22;tcp:127.0.0.2:2222-:23", 2,
	    "tcp:127.0.0.1:2222-10.0.2.15:22", "tcp:127.0.0.2:2222-10.0.2.15:23" },
};

TEST(good_rules)
{
	struct net_hostfwd hf[NET_HOSTFWD_MAX];
	char buf[NET_HOSTFWD_STRLEN];
	size_t i, n;
	int r;

	for (i = 0; i < nitems(goods); i++) {
		n = 99;
		cap_start();
		r = net_hostfwd_parse(goods[i].spec, hf, nitems(hf), &n, "dev");
		cap_end();
		if (r != 0)
			printf("  spec \"%s\": %s", goods[i].spec, capbuf);
		CHECK_EQ(r, 0);
		CHECK_EQ(n, goods[i].n);
		CHECK_STR(capbuf, "");		/* no message when all is well */
		if (r != 0 || n == 0)
			continue;
		CHECK_STR(net_hostfwd_format(&hf[0], buf, sizeof(buf)),
		    goods[i].canon);
		if (goods[i].canon2 != NULL && n > 1)
			CHECK_STR(net_hostfwd_format(&hf[1], buf, sizeof(buf)),
			    goods[i].canon2);
	}
}

TEST(fields)
{
	struct net_hostfwd hf[2];
	size_t n;

	CHECK_EQ(net_hostfwd_parse("tcp:127.0.0.1:2222-:22;udp::5353-10.0.2.20:53",
	    hf, nitems(hf), &n, "dev"), 0);
	CHECK_EQ(n, 2);
	CHECK(!hf[0].hf_udp);
	CHECK_EQ(hf[0].hf_haddr.s_addr, ip("127.0.0.1"));
	CHECK_EQ(hf[0].hf_hport, 2222);
	CHECK_EQ(hf[0].hf_gaddr.s_addr, ip("10.0.2.15"));	/* default */
	CHECK_EQ(hf[0].hf_gport, 22);
	CHECK(hf[1].hf_udp);
	CHECK_EQ(hf[1].hf_haddr.s_addr, INADDR_ANY);	/* every address */
	CHECK_EQ(hf[1].hf_hport, 5353);
	CHECK_EQ(hf[1].hf_gaddr.s_addr, ip("10.0.2.20"));
	CHECK_EQ(hf[1].hf_gport, 53);
}

struct bad {
	const char	*spec;
	const char	*shown;		/* what the message must quote */
	const char	*why;		/* ... and a word of the reason */
};

static const struct bad bads[] = {
	{ "", "hostfwd=:", "empty" },
	{ "tcp:127.0.0.1:2222-:22;", "hostfwd=:", "empty rule" },
	{ ";tcp::1-:1", "hostfwd=:", "empty rule" },
	{ "tcp::1-:1;;udp::1-:1", "hostfwd=:", "empty rule" },
	{ "tcp", "hostfwd=tcp:", "expected" },
	{ "sctp::1-:1", "hostfwd=sctp::1-:1", "protocol" },
	{ "TCP::1-:1", "hostfwd=TCP::1-:1", "protocol" },
	{ ":127.0.0.1:1-:1", "hostfwd=:127.0.0.1:1-:1", "protocol" },
	{ "tcp:", "hostfwd=tcp:", "expected" },
	{ "tcp::2222", "hostfwd=tcp::2222", "'-'" },
	{ "tcp::2222-:", "hostfwd=tcp::2222-:", "guest port" },
	{ "tcp::2222-22", "hostfwd=tcp::2222-22", "gaddr" },
	{ "tcp::-:22", "hostfwd=tcp::-:22", "host port" },
	{ "tcp::0-:22", "hostfwd=tcp::0-:22", "host port" },
	{ "tcp::65536-:22", "hostfwd=tcp::65536-:22", "host port" },
	{ "tcp::100000-:22", "hostfwd=tcp::100000-:22", "host port" },
	{ "tcp::22-:0", "hostfwd=tcp::22-:0", "guest port" },
	{ "tcp::22-:65536", "hostfwd=tcp::22-:65536", "guest port" },
	{ "tcp::+22-:22", "hostfwd=tcp::+22-:22", "host port" },
	{ "tcp:: 22-:22", "hostfwd=tcp:: 22-:22", "host port" },
	{ "tcp::0x16-:22", "hostfwd=tcp::0x16-:22", "host port" },
	{ "tcp::22-:22x", "hostfwd=tcp::22-:22x", "guest port" },
	{ "tcp::22-:22:1", "hostfwd=tcp::22-:22:1", "guest port" },
	{ "tcp::22-:2-2", "hostfwd=tcp::22-:2-2", "guest port" },
	{ "tcp:localhost:22-:22", "hostfwd=tcp:localhost:22-:22", "host address" },
	{ "tcp:1.2.3:22-:22", "hostfwd=tcp:1.2.3:22-:22", "host address" },
	{ "tcp:1.2.3.4.5:22-:22", "hostfwd=tcp:1.2.3.4.5:22-:22", "host address" },
	{ "tcp:256.1.1.1:22-:22", "hostfwd=tcp:256.1.1.1:22-:22", "host address" },
	{ "tcp:::1:22-:22", "hostfwd=tcp:::1:22-:22", "host port" },
	{ "tcp:1111.2222.3333.4444:22-:22", "1111.2222.3333.4444", "host address" },
	{ "tcp::22-0.0.0.0:22", "hostfwd=tcp::22-0.0.0.0:22", "guest address" },
	{ "tcp::22-10.0.2:22", "hostfwd=tcp::22-10.0.2:22", "guest address" },
	{ "tcp::22-:22;tcp::22-:23", "hostfwd=tcp::22-:23", "already forwarded" },
	{ "tcp:127.0.0.1:22-:22;tcp::22-:23", "hostfwd=tcp::22-:23",
	    "already forwarded" },
	{ "udp::53-:53;tcp::1-:1;udp:127.0.0.1:53-:54",
	    "hostfwd=udp:127.0.0.1:53-:54", "already forwarded" },
	{ "tcp::22-:2\001", "hostfwd=tcp::22-:2?", "guest port" },
};

TEST(bad_rules)
{
	struct net_hostfwd hf[NET_HOSTFWD_MAX];
	const char *msg;
	size_t i, n;
	int r;

	for (i = 0; i < nitems(bads); i++) {
		n = 99;
		cap_start();
		r = net_hostfwd_parse(bads[i].spec, hf, nitems(hf), &n, "vnet0");
		msg = cap_end();
		if (r != -EINVAL || strstr(msg, bads[i].shown) == NULL ||
		    strstr(msg, bads[i].why) == NULL ||
		    strstr(msg, "vnet0: ") == NULL)
			printf("  spec \"%s\": returned %d, said: %s\n",
			    bads[i].spec, r, msg);
		CHECK_EQ(r, -EINVAL);
		CHECK_EQ(n, 0);
		CHECK(strstr(msg, bads[i].shown) != NULL);
		CHECK(strstr(msg, bads[i].why) != NULL);
		CHECK(strstr(msg, "vnet0: ") != NULL);
		/* One message, one line. */
		CHECK(strchr(msg, '\n') == strrchr(msg, '\n'));
	}
}

TEST(limits)
{
	struct net_hostfwd hf[NET_HOSTFWD_MAX + 1];
	char spec[NET_HOSTFWD_SPEC_MAX + 64];
	const char *msg;
	size_t n, off = 0;
	int i;

	/* Exactly NET_HOSTFWD_MAX rules pass; one more does not. */
	for (i = 0; i < NET_HOSTFWD_MAX + 1; i++)
		off += (size_t)snprintf(spec + off, sizeof(spec) - off,
		    "%stcp::%d-:22", i ? ";" : "", 1000 + i);
	cap_start();
	CHECK_EQ(net_hostfwd_parse(spec, hf, NET_HOSTFWD_MAX, &n, "d"), -EINVAL);
	msg = cap_end();
	CHECK(strstr(msg, "more than 32 rules") != NULL);
	CHECK(strstr(msg, "hostfwd=tcp::1032-:22") != NULL);
	*strrchr(spec, ';') = '\0';
	CHECK_EQ(net_hostfwd_parse(spec, hf, NET_HOSTFWD_MAX, &n, "d"), 0);
	CHECK_EQ(n, NET_HOSTFWD_MAX);
	CHECK_EQ(hf[NET_HOSTFWD_MAX - 1].hf_hport, 1000 + NET_HOSTFWD_MAX - 1);

	/* max is honoured, whatever it is. */
	cap_start();
	CHECK_EQ(net_hostfwd_parse("tcp::1-:1;tcp::2-:2", hf, 1, &n, "d"),
	    -EINVAL);
	cap_end();
	CHECK_EQ(net_hostfwd_parse("tcp::1-:1", hf, 1, &n, "d"), 0);
	CHECK_EQ(n, 1);

	/* An overlong value is refused whole, without quoting it all. */
	memset(spec, 'a', NET_HOSTFWD_SPEC_MAX + 1);
	spec[NET_HOSTFWD_SPEC_MAX + 1] = '\0';
	cap_start();
	CHECK_EQ(net_hostfwd_parse(spec, hf, NET_HOSTFWD_MAX, &n, "d"), -EINVAL);
	msg = cap_end();
	CHECK(strstr(msg, "longer than") != NULL);
	CHECK(strlen(msg) < 200);

	/* A long bad rule is quoted cut, with "...". */
	memset(spec, '1', 300);
	memcpy(spec, "tcp::", 5);
	spec[300] = '\0';
	cap_start();
	CHECK_EQ(net_hostfwd_parse(spec, hf, NET_HOSTFWD_MAX, &n, "d"), -EINVAL);
	msg = cap_end();
	CHECK(strstr(msg, "hostfwd=tcp::111") != NULL);
	CHECK(strstr(msg, "...") != NULL);
	CHECK(strlen(msg) < 200);
}

TEST(format_small_buffer)
{
	struct net_hostfwd hf;
	char buf[8];
	size_t n;

	CHECK_EQ(net_hostfwd_parse("udp:192.168.100.200:65535-10.0.2.250:65535",
	    &hf, 1, &n, "d"), 0);
	CHECK_STR(net_hostfwd_format(&hf, buf, sizeof(buf)), "udp:192");
	{
		char big[NET_HOSTFWD_STRLEN];

		CHECK_STR(net_hostfwd_format(&hf, big, sizeof(big)),
		    "udp:192.168.100.200:65535-10.0.2.250:65535");
	}
}

TEST_MAIN()
