/*
 * fuzz_passt_stream.c: the passt backend's receive reassembly
 * (src/backend/net_passt.c): a hostile peer's byte stream, cut into
 * chunks the input chooses, through a real Unix stream socket.
 *
 * The backend is opened in its socket= mode against a listener made
 * once; each input connects a new one and plays the peer.  Input: [0]
 * options (bit 0: receive into a 64-byte iov, so longer frames must come
 * back -EMSGSIZE and be dropped), then chunks: a byte c, then 1 + c % 128
 * bytes of stream written at once; after each chunk the backend is
 * drained.  A model parses the same bytes (4-byte big-endian length,
 * frame; a length of 0 or over NETBE_FRAME_MAX ends the stream).
 * Checked: the backend gives exactly the model's whole frames, in order,
 * byte for byte, and no frame before its last byte came; peek and recv
 * agree; once the model's stream is bad or the peer has closed, the
 * backend says -EPIPE and keeps saying it; it never blocks.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "backend/net_backend.h"
#include "config.h"

extern const struct net_beops net_passt_beops;
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char sockpath[108];
static int listener = -1;
static FILE *quiet;

/* The model: the stream so far, and how far whole frames reach. */
struct model {
	uint8_t		buf[1 << 16];	/* inputs are far shorter */
	size_t		len;		/* bytes written */
	size_t		off;		/* start of the next frame */
	bool		bad;		/* a bad length is complete */
};

/* The next whole frame of the model: its length and bytes, 0 if none. */
static size_t
model_next(struct model *m, const uint8_t **p)
{
	uint32_t flen;

	if (m->bad || m->len - m->off < 4)
		return (0);
	flen = (uint32_t)m->buf[m->off] << 24 |
	    (uint32_t)m->buf[m->off + 1] << 16 |
	    (uint32_t)m->buf[m->off + 2] << 8 | m->buf[m->off + 3];
	if (flen == 0 || flen > NETBE_FRAME_MAX) {
		m->bad = true;
		return (0);
	}
	if (m->len - m->off - 4 < flen)
		return (0);
	*p = m->buf + m->off + 4;
	m->off += 4 + flen;
	return (flen);
}

static void
setup(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(sockpath, sizeof(sockpath), "/tmp/khyve-fuzz-passt.%d",
	    (int)getpid());
	(void)unlink(sockpath);
	strcpy(sun.sun_path, sockpath);
	listener = socket(AF_UNIX, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&sun,
	    sizeof(sun)) != 0 || listen(listener, 4) != 0)
		abort();
	if ((quiet = fopen("/dev/null", "w")) == NULL)
		abort();
	if (strcmp(net_passt_beops.nb_name, "passt") != 0)
		abort();
}

/* Everything whole the backend holds now; false: it said gone. */
static bool
drain(struct net_backend *be, struct model *m, bool small)
{
	static uint8_t f[NETBE_FRAME_MAX];
	struct iovec iov = { .iov_base = f, .iov_len = small ? 64 : sizeof(f) };
	const uint8_t *want = NULL;
	size_t wlen;
	ssize_t peek, r;

	for (;;) {
		wlen = model_next(m, &want);
		peek = netbe_peek_recvlen(be, 0);
		if (wlen == 0) {
			/* Nothing whole: nothing given; gone only if bad. */
			if (peek == -EPIPE) {
				if (!m->bad)
					abort();
				return (false);
			}
			if (peek != 0 || m->bad)
				abort();
			return (true);
		}
		if (peek != (ssize_t)wlen)
			abort();
		r = netbe_recv(be, 0, &iov, 1);
		if (wlen > iov.iov_len) {
			if (r != -EMSGSIZE)
				abort();
			continue;
		}
		if (r != (ssize_t)wlen || memcmp(f, want, wlen) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	struct net_backend *be;
	struct config_node *n;
	FILE *saved = stderr;
	size_t i = 1, c;
	uint8_t f[16];
	struct iovec iov = { .iov_base = f, .iov_len = sizeof(f) };
	bool small, alive = true;
	int peer;

	if (listener < 0)
		setup();
	if (size < 1)
		return (0);
	small = (data[0] & 1) != 0;
	memset(&m, 0, sizeof(m));
	stderr = quiet;			/* the backend's "gone" lines */
	config_init();
	n = config_create_node(NULL, "pci.0.2.0");
	if (n == NULL || config_set(n, "backend", "passt") != 0 ||
	    config_set(n, "socket", sockpath) != 0 ||
	    netbe_init(&be, "fuzz", n, 1) != 0)
		abort();
	if ((peer = accept(listener, NULL, NULL)) < 0)
		abort();
	while (i < size && alive) {
		c = 1 + data[i++] % 128;
		if (c > size - i)
			c = size - i;
		if (c == 0 || m.len + c > sizeof(m.buf))
			break;
		memcpy(m.buf + m.len, data + i, c);
		if (write(peer, data + i, c) != (ssize_t)c)
			abort();	/* the backend reads all it is given */
		m.len += c;
		i += c;
		alive = drain(be, &m, small);
	}
	/* The peer goes: gone, whatever was left half-sent. */
	(void)close(peer);
	if (netbe_peek_recvlen(be, 0) != -EPIPE)
		abort();
	if (netbe_recv(be, 0, &iov, 1) != -EPIPE)
		abort();
	netbe_cleanup(be);
	config_fini();
	stderr = saved;
	return (0);
}
