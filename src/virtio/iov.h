/*
 * iov.h: byte-offset helpers over iovec arrays, for device models.
 *
 * A device gets a request as iovecs from vq_getchain() and parses it with
 * these: copy a header out once (iov_to_buf), write a status back
 * (buf_to_iov), cut the array into header | data | status (iov_slice).
 * None of them touches an iovec entry of length 0 (its base may be NULL)
 * and none reads or writes outside [iov_base, iov_base + iov_len).
 */
#ifndef VIRTIO_IOV_H
#define VIRTIO_IOV_H

#include <stddef.h>
#include <sys/uio.h>
#include "khyve.h"

/*
 * Total bytes in iov[0..n), saturating at SIZE_MAX (never wraps).
 */
size_t	iov_size(const struct iovec *iov, unsigned n);

/*
 * Copy up to len bytes starting at byte off of iov[0..n) into buf.
 * Returns the number of bytes copied: len, or fewer when the array holds
 * fewer than off + len bytes (0 when off is past the end).  Each guest
 * byte is read once, so a caller that copies a header out and then
 * checks the copy is safe against a guest changing it meanwhile.
 */
size_t	iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf,
	    size_t len);

/*
 * Copy up to len bytes from buf into iov[0..n) starting at byte off.
 * Returns the number of bytes copied, as iov_to_buf().
 */
size_t	buf_to_iov(const struct iovec *iov, unsigned n, size_t off,
	    const void *buf, size_t len);

/*
 * Describe bytes [off, off + len) of src[0..n) in dst[0..ndst): entries
 * are copied and the first and last trimmed; entries of length 0 are
 * left out.  src and dst may not overlap.  Returns the number of dst
 * entries used (0 for len 0), -ERANGE when src holds fewer than off + len
 * bytes (or off + len overflows), -ENOSPC when dst has too few entries;
 * dst is unspecified after an error.
 */
int	iov_slice(const struct iovec *src, unsigned n, size_t off, size_t len,
	    struct iovec *dst, unsigned ndst) __must_check;

#endif /* VIRTIO_IOV_H */
