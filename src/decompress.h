/*
 * decompress.h: decompressing a Linux kernel payload in the monitor.
 *
 * A bzImage carries the kernel (an ELF vmlinux) compressed with one of
 * the formats the kernel build offers (CONFIG_KERNEL_GZIP ... _ZSTD).
 * Running the kernel's own decompressor inside the guest is slow under
 * an emulating KVM, so khyve decompresses the payload with the host's
 * libraries (zlib, liblzma, liblz4, libzstd, libbz2, liblzo2) and loads
 * the ELF itself.  The input is untrusted: every format is bounded by a
 * caller-given output limit and fails cleanly on corrupt data.
 */
#ifndef DECOMPRESS_H
#define DECOMPRESS_H

#include <stddef.h>
#include "khyve.h"

/*
 * Formats, recognised by their leading magic as Linux
 * lib/decompress.c (compressed_formats[]) and scripts/extract-vmlinux
 * recognise them.
 */
enum decomp_fmt {
	DECOMP_UNKNOWN = 0,	/* no known magic */
	DECOMP_GZIP,		/* 1f 8b 08: RFC 1952 member */
	DECOMP_XZ,		/* fd '7zXZ' 00: .xz stream */
	DECOMP_LZMA,		/* 5d 00: "lzma alone" (.lzma) */
	DECOMP_LZ4,		/* 02 21 4c 18: LZ4 legacy frame */
	DECOMP_ZSTD,		/* 28 b5 2f fd: zstd frame */
	DECOMP_BZIP2,		/* 'BZh' 1-9: bzip2 stream */
	DECOMP_LZO,		/* 89 'LZO' 00 0d 0a 1a 0a: lzop file */
};

/* The format buf[0..len) starts with; reads at most 9 bytes. */
enum decomp_fmt decompress_detect(const void *buf, size_t len);

/* "gzip", "xz", "lzma", "lz4", "zstd", "bzip2", "lzo" or "unknown". */
const char *decompress_fmt_name(enum decomp_fmt fmt);

/*
 * Detect the format of in[0..inlen) and decompress its first stream
 * into a buffer from malloc(), grown as needed but never past maxout
 * bytes of output (plus a block's worth of slack for LZ4).  Bytes after
 * the end of the stream are ignored: the kernel build appends the
 * uncompressed size as a 4-byte little-endian trailer, and LZ4 legacy
 * frames, which have no end marker, accept exactly that trailer after
 * the last block.
 *
 * On success stores the buffer in *out (the caller frees it) and the
 * output length in *outlen, and returns 0.  On failure *out is NULL, a
 * one-line message is written to err (when errlen > 0), and it returns
 * -ENOEXEC (no known magic), -EFBIG (output would exceed maxout),
 * -EINVAL (corrupt or truncated data, unsupported options) or -ENOMEM.
 * Never aborts on hostile input; work is bounded by inlen and maxout.
 */
int	decompress(const void *in, size_t inlen, size_t maxout, void **out,
	    size_t *outlen, char *err, size_t errlen) __must_check;

#endif /* DECOMPRESS_H */
