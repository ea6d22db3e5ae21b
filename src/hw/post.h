/*
 * post.h: the POST diagnostic port (0x80).
 *
 * Firmware and some kernels write progress codes here, and Linux uses it
 * as a delay port.  Writes are remembered and passed to an optional hook
 * (the boot timer); reads return the last value written, 0xff at first.
 */
#ifndef POST_H
#define POST_H

#include <stdint.h>
#include "devctx.h"
#include "iobus.h"

struct post_softc;

typedef void (*post_hook_t)(void *arg, uint8_t val);

/* Create the port.  Returns NULL with errno set on failure. */
struct post_softc *post_init(const struct devctx *dc);
/* Free it (tests and fuzzing). */
void	post_fini(struct post_softc *sc);

/* io_handler_t for the 1-port range at 0x80.  Never fails. */
int	post_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
	    uint64_t *val);

/*
 * Call fn(arg, val) on every write, from the writing vCPU's thread and
 * without the port's lock held; fn NULL removes the hook.
 */
void	post_set_hook(struct post_softc *sc, post_hook_t fn, void *arg);

#endif /* POST_H */
