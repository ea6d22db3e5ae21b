/*
 * post.c: the POST diagnostic port (0x80): a latch that reads back the
 * last code written, as on chipsets that decode the port, 0xff before
 * the first write (bhyve usr.sbin/bhyve/amd64/post.c only answers reads
 * of port 0x84, always with 0xff; Linux's io_delay writes to 0x80).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include "hw/post.h"

struct post_softc {
	pthread_mutex_t	 lock;
	uint8_t		 val;		/* last value written */
	post_hook_t	 hook;		/* called on every write, or NULL */
	void		*hook_arg;
};

int
post_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
    uint64_t *val)
{
	struct post_softc *sc = arg;
	post_hook_t fn;
	void *fn_arg;
	uint8_t v;

	pthread_mutex_lock(&sc->lock);
	if (dir == IO_READ) {
		*val = sc->val;
		pthread_mutex_unlock(&sc->lock);
		return (0);
	}
	v = (uint8_t)*val;
	sc->val = v;
	fn = sc->hook;
	fn_arg = sc->hook_arg;
	pthread_mutex_unlock(&sc->lock);
	if (fn != NULL)
		fn(fn_arg, v);
	return (0);
}

void
post_set_hook(struct post_softc *sc, post_hook_t fn, void *arg)
{
	pthread_mutex_lock(&sc->lock);
	sc->hook = fn;
	sc->hook_arg = arg;
	pthread_mutex_unlock(&sc->lock);
}

struct post_softc *
post_init(const struct devctx *dc)
{
	struct post_softc *sc;
	int error;

	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return (NULL);
	error = pthread_mutex_init(&sc->lock, NULL);
	if (error != 0) {
		free(sc);
		errno = error;
		return (NULL);
	}
	sc->val = 0xff;
	return (sc);
}

void
post_fini(struct post_softc *sc)
{
	if (sc == NULL)
		return;
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}
