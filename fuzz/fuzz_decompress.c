/*
 * fuzz_decompress.c: payload decompression on arbitrary input.
 *
 * Every format behind decompress() sees hostile bytes here, with a
 * 16 MiB output cap.  It must return without crashing, hanging or
 * leaking, and keep its contract: on success a buffer of at most the cap;
 * on failure no buffer and a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include "decompress.h"

#define FUZZ_MAXOUT	(16 * MiB)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[160];
	size_t outlen;
	void *out;
	int rc;

	err[0] = '\0';
	rc = decompress(data, size, FUZZ_MAXOUT, &out, &outlen, err,
	    sizeof(err));
	if (rc == 0) {
		if (out == NULL || outlen > FUZZ_MAXOUT)
			abort();
		/* Touch the ends so ASan checks the reported length. */
		if (outlen > 0)
			((volatile uint8_t *)out)[outlen - 1] ^=
			    ((uint8_t *)out)[0];
		free(out);
	} else if (out != NULL || outlen != 0 || err[0] == '\0') {
		abort();
	}
	(void)decompress_fmt_name(decompress_detect(data, size));
	return (0);
}
