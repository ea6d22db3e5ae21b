/*
 * iov.c: byte-offset helpers over iovec arrays.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "virtio/iov.h"

size_t
iov_size(const struct iovec *iov, unsigned n)
{
	size_t total = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (iov[i].iov_len > SIZE_MAX - total)
			return (SIZE_MAX);
		total += iov[i].iov_len;
	}
	return (total);
}

/*
 * Find the entry holding byte off: *idx and *skip (bytes into it).
 * Returns false when the array ends at or before off.
 */
static bool
iov_seek(const struct iovec *iov, unsigned n, size_t off, unsigned *idx,
    size_t *skip)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (off < iov[i].iov_len) {
			*idx = i;
			*skip = off;
			return (true);
		}
		off -= iov[i].iov_len;
	}
	return (false);
}

size_t
iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf,
    size_t len)
{
	size_t done = 0, skip, k;
	unsigned i;

	if (len == 0 || !iov_seek(iov, n, off, &i, &skip))
		return (0);
	for (; i < n && done < len; i++, skip = 0) {
		if (iov[i].iov_len == 0)
			continue;
		k = MIN(iov[i].iov_len - skip, len - done);
		memcpy((uint8_t *)buf + done, (const uint8_t *)iov[i].iov_base +
		    skip, k);
		done += k;
	}
	return (done);
}

size_t
buf_to_iov(const struct iovec *iov, unsigned n, size_t off, const void *buf,
    size_t len)
{
	size_t done = 0, skip, k;
	unsigned i;

	if (len == 0 || !iov_seek(iov, n, off, &i, &skip))
		return (0);
	for (; i < n && done < len; i++, skip = 0) {
		if (iov[i].iov_len == 0)
			continue;
		k = MIN(iov[i].iov_len - skip, len - done);
		memcpy((uint8_t *)iov[i].iov_base + skip,
		    (const uint8_t *)buf + done, k);
		done += k;
	}
	return (done);
}

int
iov_slice(const struct iovec *src, unsigned n, size_t off, size_t len,
    struct iovec *dst, unsigned ndst)
{
	size_t skip, k, left;
	unsigned i, nd;

	if (off + len < off)
		return (-ERANGE);
	if (ndst > INT_MAX)
		ndst = INT_MAX;
	if (len == 0)
		return (iov_size(src, n) >= off ? 0 : -ERANGE);
	if (!iov_seek(src, n, off, &i, &skip))
		return (-ERANGE);
	nd = 0;
	left = len;
	for (; i < n && left > 0; i++, skip = 0) {
		if (src[i].iov_len == 0)
			continue;
		if (nd == ndst)
			return (-ENOSPC);
		k = MIN(src[i].iov_len - skip, left);
		dst[nd].iov_base = (uint8_t *)src[i].iov_base + skip;
		dst[nd].iov_len = k;
		nd++;
		left -= k;
	}
	if (left > 0)
		return (-ERANGE);
	return ((int)nd);
}
