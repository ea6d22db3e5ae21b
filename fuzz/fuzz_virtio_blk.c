/*
 * fuzz_virtio_blk.c: the virtio-blk request parser, vblk_parse(), on
 * chains laid out by the input: the readable part (header, discard or
 * write-zeroes segment, data) cut into iovecs at input-chosen offsets,
 * with zero-length entries between and optionally a large tail; the
 * writable part of any length up to 4 GiB, likewise cut; and the disk's
 * limits (capacity, logical block size, read-only, flush, discard,
 * write-zeroes, the segment bound) from the input too.  virtio-blk's
 * device path (chains from a ring, completions) is fuzz_virtio_pci's.
 *
 * Checked for every parse, against the contract in virtio_blk_req.h and
 * against a model written from virtio 1.2 §5.2.6 with 128-bit arithmetic:
 *	- the operation is the model's, and a refused request gets the
 *	  model's status (only OK, IOERR or UNSUPP ever);
 *	- a status byte exactly when there are writable bytes, at the last
 *	  of them;
 *	- the data of a READ or GET_ID lies in the writable part before the
 *	  status byte, the data of a WRITE in the readable part after the
 *	  header; both can be cut out with iov_slice() in as many entries
 *	  as the chain has, and the slices lie inside the chain's buffers;
 *	- offset and length are whole logical blocks inside the disk, a
 *	  DISCARD or WRITE_ZEROES segment no longer than the bound, nothing
 *	  that writes on a read-only disk, no type the disk does not offer;
 *	- the parser reads only the readable part (the writable part is not
 *	  mapped at all) and writes nothing.
 *
 * The input: 12 bytes of limits, then the chain.
 *	[0]	bit 0 ro, 1 flush, 2 discard, 3 write-zeroes, 4-6 blk_size
 *		512 << (n % 7)
 *	[1]	bits 0-1 capacity: [2..9] % 2^16, raw >> 9,
 *		(2^64 - 1) / 512 >> n, 0
 *	[2..9]	capacity
 *	[10..11] max_dwz_sectors (bit 15 of [11]: << 16)
 *	then	readable length rl [0..1] (bit 15: plus a tail of
 *		[2..5] bytes, read-only zeroes), writable length [6..9],
 *		readable cuts (count, offsets), writable cuts (count,
 *		offsets), then the readable bytes themselves
 * FUZZ_VIRTIO_TRACE set in the environment prints what was parsed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "virtio/iov.h"
#include "virtio/virtio_blk_req.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXCUT		12
#define MAXIOV		(2 * (MAXCUT + 3))
#define TAIL_MAX	(1ULL << 31)
#define WMAP		(1ULL << 32)	/* the writable part: unmapped */

typedef unsigned __int128 u128;

#define FAIL(...) do {							\
	fprintf(stderr, "fuzz_virtio_blk: " __VA_ARGS__);		\
	fprintf(stderr, "\n");						\
	abort();							\
} while (0)

static const uint8_t *ip, *iend;
static uint8_t *wmap, *tail;	/* PROT_NONE, and read-only zeroes */

static unsigned
get8(void)
{
	return (ip < iend ? *ip++ : 0);
}

static unsigned
get16(void)
{
	unsigned v = get8();

	return (v | get8() << 8);
}

static uint32_t
get32(void)
{
	uint32_t v = get16();

	return (v | (uint32_t)get16() << 16);
}

static uint64_t
get64(void)
{
	uint64_t v = get32();

	return (v | (uint64_t)get32() << 32);
}

static void
map_once(void)
{
	if (wmap != NULL)
		return;
	wmap = mmap(NULL, WMAP, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_NORESERVE, -1, 0);
	tail = mmap(NULL, TAIL_MAX, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_NORESERVE, -1, 0);
	if (wmap == MAP_FAILED || tail == MAP_FAILED)
		abort();
}

/*
 * Cut [base, base + len) into iovecs at up to MAXCUT input offsets, with
 * a zero-length entry (as vq_getchain gives for a zero-length
 * descriptor) where the input says.  Returns the count.
 */
static unsigned
cut(uint8_t *base, uint64_t len, struct iovec *iov, unsigned max)
{
	uint64_t at[MAXCUT + 1], prev = 0;
	unsigned n = get8(), i, k, cnt = 0;
	bool zero = n & 0x80;

	n = (n & 0x7f) % (MAXCUT + 1);
	for (i = 0; i < n; i++)
		at[i] = len == 0 ? 0 : (uint64_t)get32() % (len + 1);
	/* Sorted, so the pieces come in order. */
	for (i = 1; i < n; i++)
		for (k = i; k > 0 && at[k - 1] > at[k]; k--) {
			uint64_t t = at[k];

			at[k] = at[k - 1];
			at[k - 1] = t;
		}
	at[n] = len;
	for (i = 0; i <= n && cnt + 2 <= max; i++) {
		if (zero && i == n / 2) {
			iov[cnt].iov_base = NULL;
			iov[cnt].iov_len = 0;
			cnt++;
		}
		if (at[i] > prev) {
			iov[cnt].iov_base = base + prev;
			iov[cnt].iov_len = (size_t)(at[i] - prev);
			cnt++;
		}
		prev = at[i];
	}
	return (cnt);
}

static bool
inside(const struct iovec *iov, unsigned n, const struct iovec *s)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (iov[i].iov_len > 0 &&
		    (const uint8_t *)s->iov_base >= (const uint8_t *)iov[i].iov_base &&
		    s->iov_len <= iov[i].iov_len - (size_t)((const uint8_t *)
		    s->iov_base - (const uint8_t *)iov[i].iov_base))
			return (true);
	return (false);
}

/* The bytes [off, off + len) of iov[0..n) can be described. */
static void
check_slice(const struct iovec *iov, unsigned n, uint64_t off, uint64_t len,
    const char *what)
{
	struct iovec out[MAXIOV];
	uint64_t sum = 0;
	int cnt, i;

	cnt = iov_slice(iov, n, (size_t)off, (size_t)len, out, nitems(out));
	if (cnt < 0)
		FAIL("%s: [%ju, +%ju) not in the chain (%d)", what,
		    (uintmax_t)off, (uintmax_t)len, cnt);
	for (i = 0; i < cnt; i++) {
		if (out[i].iov_len == 0 || !inside(iov, n, &out[i]))
			FAIL("%s: slice %d outside the chain", what, i);
		sum += out[i].iov_len;
	}
	if (sum != len)
		FAIL("%s: slices hold %ju bytes, not %ju", what,
		    (uintmax_t)sum, (uintmax_t)len);
}

/* virtio 1.2 §5.2.6: what the device should make of the request. */
static enum vblk_op
model(const uint8_t *hdr, bool has_hdr, const uint8_t *seg, bool has_seg,
    uint64_t rbytes, uint64_t wbytes, const struct vblk_limits *l,
    uint8_t *status)
{
	uint32_t type, num, flags;
	uint64_t sector;
	u128 end, dlen;
	bool dwz;

	*status = VIRTIO_BLK_S_IOERR;
	if (wbytes == 0 || !has_hdr)
		return (VBLK_DONE);
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	end = ((u128)sector) * 512;
	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		dlen = type == VIRTIO_BLK_T_IN ? wbytes - 1 : rbytes - 16;
		if ((type == VIRTIO_BLK_T_IN ? rbytes != 16 :
		    l->ro || wbytes != 1) || dlen % l->blk_size != 0 ||
		    end % l->blk_size != 0 ||
		    end + dlen > (u128)l->capacity * 512)
			return (VBLK_DONE);
		return (type == VIRTIO_BLK_T_IN ? VBLK_READ : VBLK_WRITE);
	case VIRTIO_BLK_T_FLUSH:
		*status = VIRTIO_BLK_S_UNSUPP;
		return (l->flush ? VBLK_FLUSH : VBLK_DONE);
	case VIRTIO_BLK_T_GET_ID:
		return (VBLK_GET_ID);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		dwz = type == VIRTIO_BLK_T_WRITE_ZEROES;
		*status = VIRTIO_BLK_S_UNSUPP;
		if (!(dwz ? l->write_zeroes : l->discard))
			return (VBLK_DONE);
		*status = VIRTIO_BLK_S_IOERR;
		if (l->ro)
			return (VBLK_DONE);
		*status = VIRTIO_BLK_S_UNSUPP;
		if (rbytes != 32 || !has_seg)
			return (VBLK_DONE);
		memcpy(&sector, seg, 8);
		memcpy(&num, seg + 8, 4);
		memcpy(&flags, seg + 12, 4);
		if ((flags & ~1u) != 0 || (!dwz && (flags & 1)))
			return (VBLK_DONE);
		*status = VIRTIO_BLK_S_IOERR;
		end = (u128)sector * 512;
		dlen = (u128)num * 512;
		if (num == 0 || num > l->max_dwz_sectors ||
		    end + dlen > (u128)l->capacity * 512 ||
		    dlen % l->blk_size != 0 || end % l->blk_size != 0)
			return (VBLK_DONE);
		return (dwz ? VBLK_WRITE_ZEROES : VBLK_DISCARD);
	default:
		*status = VIRTIO_BLK_S_UNSUPP;
		return (VBLK_DONE);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t rbuf[4096], copy[4096];
	struct iovec iov[MAXIOV];
	struct vblk_limits lim;
	struct vblk_parsed p;
	uint64_t cap, rl, tl = 0, wl, rbytes, wbytes, sector;
	unsigned f, c, nread, nwrite, i;
	uint8_t hdr[16], seg[16], want_status;
	enum vblk_op want;
	size_t got;

	map_once();
	ip = data;
	iend = data + size;
	f = get8();
	c = get8();
	cap = get64();
	memset(&lim, 0, sizeof(lim));
	lim.ro = f & 1;
	lim.flush = f & 2;
	lim.discard = f & 4;
	lim.write_zeroes = f & 8;
	lim.blk_size = 512u << ((f >> 4) % 7);
	switch (c & 3) {
	case 0:
		cap &= 0xffff;
		break;
	case 1:
		cap >>= 9;
		break;
	case 2:
		/* The largest a byte count in 64 bits allows. */
		cap = (UINT64_MAX / 512) >> (cap & 63);
		break;
	default:
		cap = 0;
		break;
	}
	/* blockif: the size is whole logical blocks. */
	lim.capacity = cap / (lim.blk_size / 512) * (lim.blk_size / 512);
	lim.max_dwz_sectors = get16();
	if (lim.max_dwz_sectors & 0x8000)
		lim.max_dwz_sectors = (lim.max_dwz_sectors & 0x7fff) << 16;

	rl = get16();
	if (rl & 0x8000)
		tl = get32() % TAIL_MAX;
	rl = (rl & 0x7fff) % (sizeof(rbuf) + 1);
	wl = get32();
	/* vq_getchain: a chain holds at most UINT32_MAX bytes. */
	if (rl + tl + wl > UINT32_MAX)
		wl = UINT32_MAX - rl - tl;
	nread = cut(rbuf, rl, iov, MAXIOV / 2 - 1);
	if (tl > 0) {
		iov[nread].iov_base = tail;
		iov[nread].iov_len = (size_t)tl;
		nread++;
	}
	nwrite = cut(wmap, wl, iov + nread, MAXIOV / 2);
	memset(rbuf, 0, sizeof(rbuf));
	for (i = 0; i < rl && ip < iend; i++)
		rbuf[i] = (uint8_t)get8();
	memcpy(copy, rbuf, sizeof(copy));
	/* As vq_getchain reports them. */
	rbytes = iov_size(iov, nread);
	wbytes = iov_size(iov + nread, nwrite);

	vblk_parse(iov, nread, nwrite, rbytes, wbytes, &lim, &p);

	/* What the model sees: the same bytes, copied its own way. */
	memset(hdr, 0, sizeof(hdr));
	memset(seg, 0, sizeof(seg));
	got = iov_to_buf(iov, nread, 0, hdr, sizeof(hdr));
	want = model(hdr, got == 16, seg, iov_to_buf(iov, nread, 16, seg,
	    sizeof(seg)) == 16, rbytes, wbytes, &lim, &want_status);

	if (getenv("FUZZ_VIRTIO_TRACE") != NULL)
		fprintf(stderr, "op %d status %u len %ju offset %ju (r %ju in "
		    "%u, w %ju in %u)\n", p.op, p.status, (uintmax_t)p.len,
		    (uintmax_t)p.offset, (uintmax_t)rbytes, nread,
		    (uintmax_t)wbytes, nwrite);
	if (memcmp(copy, rbuf, sizeof(copy)) != 0)
		FAIL("the parser wrote to the request");
	if (p.op != want)
		FAIL("op %d, the model says %d (type %u, r %ju w %ju)", p.op,
		    want, p.type, (uintmax_t)rbytes, (uintmax_t)wbytes);
	if (p.has_status != (wbytes > 0))
		FAIL("has_status %d with %ju writable bytes", p.has_status,
		    (uintmax_t)wbytes);
	if (p.has_status && p.status_off != wbytes - 1)
		FAIL("status at %zu of %ju", p.status_off, (uintmax_t)wbytes);
	if (got == 16 && wbytes > 0 && memcmp(&p.type, hdr, 4) != 0)
		FAIL("type %u is not the header's", p.type);
	memcpy(&sector, hdr + 8, 8);
	switch (p.op) {
	case VBLK_DONE:
		if (p.status != VIRTIO_BLK_S_IOERR &&
		    p.status != VIRTIO_BLK_S_UNSUPP && p.status != VIRTIO_BLK_S_OK)
			FAIL("status %u", p.status);
		if (wbytes > 0 && p.status != want_status)
			FAIL("status %u, the model says %u", p.status,
			    want_status);
		return (0);
	case VBLK_READ:
	case VBLK_GET_ID:
		if (p.data_off + p.len > p.status_off)
			FAIL("data [%zu, +%ju) reaches the status byte at %zu",
			    p.data_off, (uintmax_t)p.len, p.status_off);
		if (p.op == VBLK_GET_ID && p.len > VIRTIO_BLK_ID_BYTES)
			FAIL("GET_ID of %ju bytes", (uintmax_t)p.len);
		check_slice(iov + nread, nwrite, p.data_off, p.len, "data");
		break;
	case VBLK_WRITE:
		if (p.data_off < 16 || p.data_off + p.len > rbytes)
			FAIL("write data [%zu, +%ju) of %ju readable bytes",
			    p.data_off, (uintmax_t)p.len, (uintmax_t)rbytes);
		check_slice(iov, nread, p.data_off, p.len, "write data");
		break;
	case VBLK_FLUSH:
		if (!lim.flush)
			FAIL("FLUSH not offered");
		return (0);
	case VBLK_DISCARD:
	case VBLK_WRITE_ZEROES:
		if (p.len == 0 || p.len > (uint64_t)lim.max_dwz_sectors * 512)
			FAIL("segment of %ju bytes", (uintmax_t)p.len);
		if (!(p.op == VBLK_DISCARD ? lim.discard : lim.write_zeroes))
			FAIL("op %d not offered", p.op);
		memcpy(&sector, seg, 8);
		break;
	default:
		FAIL("op %d", p.op);
	}
	if (p.op != VBLK_GET_ID) {
		if ((u128)p.offset != (u128)sector * 512)
			FAIL("offset %ju for sector %ju", (uintmax_t)p.offset,
			    (uintmax_t)sector);
		if (p.offset % lim.blk_size != 0 || p.len % lim.blk_size != 0)
			FAIL("[%ju, +%ju) not in %u-byte blocks",
			    (uintmax_t)p.offset, (uintmax_t)p.len, lim.blk_size);
		if ((u128)p.offset + p.len > (u128)lim.capacity * 512)
			FAIL("[%ju, +%ju) past %ju sectors", (uintmax_t)p.offset,
			    (uintmax_t)p.len, (uintmax_t)lim.capacity);
		if (lim.ro && p.op != VBLK_READ)
			FAIL("op %d on a read-only disk", p.op);
	}
	return (0);
}
