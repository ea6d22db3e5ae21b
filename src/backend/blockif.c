/*
 * blockif.c: opening a disk: the block keys (bhyve's blockif_open() in
 * usr.sbin/bhyve/block_if.c), the geometry, and the choice of engine.
 * Requests are blockif_queue.c's; the engines are blockif_thread.c and
 * blockif_uring.c.
 *
 * Linux equivalents of bhyve's disk ioctls: DIOCGMEDIASIZE ->
 * BLKGETSIZE64, DIOCGSECTORSIZE -> BLKSSZGET, DIOCGSTRIPESIZE/OFFSET ->
 * BLKPBSZGET/BLKALIGNOFF, DIOCGDELETE -> BLKDISCARD (and BLKZEROOUT for
 * write-zeroes); on files, fspacectl(SPACECTL_DEALLOC) -> fallocate
 * (PUNCH_HOLE|KEEP_SIZE).
 *
 * Unlike bhyve, a disk that cannot be opened read-write is an error, not
 * silently opened read-only: the guest would be told it may write.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "backend/blockif_impl.h"
#include "config.h"
#include "log.h"


#define SECTSZ_MIN	512
#define SECTSZ_MAX	32768

static bool
powerof2(uint64_t v)
{
	return (v != 0 && (v & (v - 1)) == 0);
}

/* ---- Opening: keys and geometry ----------------------------------------- */

struct blockif_opts {
	const char	*path;
	bool		ro, nocache, sync, nodelete;
	uint32_t	ssopt, pssopt;	/* sectorsize=L/P, 0 if unset */
	int		engine;		/* -1 auto, else enum blockif_engine_kind */
};

static int
blockif_get_bool(struct config_node *nvl, const char *ident, const char *key,
    bool *out)
{
	if (config_get_bool(nvl, key, false, out) != 0) {
		log_warnx("%s: %s: invalid boolean '%s'", ident, key,
		    config_get(nvl, key));
		return (-EINVAL);
	}
	return (0);
}

/* "L" or "L/P", both powers of two, 512 <= L <= P <= 32768. */
static int
blockif_parse_sectorsize(const char *s, uint32_t *l, uint32_t *p)
{
	unsigned long v[2];
	char *end;
	int i;

	for (i = 0; i < 2; i++) {
		if (*s < '0' || *s > '9')
			return (-EINVAL);
		errno = 0;
		v[i] = strtoul(s, &end, 10);
		if (errno != 0 || v[i] < SECTSZ_MIN || v[i] > SECTSZ_MAX ||
		    !powerof2(v[i]))
			return (-EINVAL);
		if (*end == '\0')
			break;
		if (i == 1 || *end != '/')
			return (-EINVAL);
		s = end + 1;
	}
	if (i == 0)
		v[1] = v[0];
	if (v[0] > v[1])
		return (-EINVAL);
	*l = (uint32_t)v[0];
	*p = (uint32_t)v[1];
	return (0);
}

static int
blockif_parse(struct config_node *nvl, const char *ident,
    struct blockif_opts *o)
{
	const char *s;
	bool direct;

	memset(o, 0, sizeof(*o));
	o->path = config_get(nvl, "path");
	if (o->path == NULL || *o->path == '\0') {
		log_warnx("%s: path: no disk image or device given", ident);
		return (-EINVAL);
	}
	if (blockif_get_bool(nvl, ident, "ro", &o->ro) != 0 ||
	    blockif_get_bool(nvl, ident, "nocache", &o->nocache) != 0 ||
	    blockif_get_bool(nvl, ident, "direct", &direct) != 0 ||
	    blockif_get_bool(nvl, ident, "sync", &o->sync) != 0 ||
	    blockif_get_bool(nvl, ident, "nodelete", &o->nodelete) != 0)
		return (-EINVAL);
	o->sync |= direct;
	s = config_get(nvl, "sectorsize");
	if (s != NULL &&
	    blockif_parse_sectorsize(s, &o->ssopt, &o->pssopt) != 0) {
		log_warnx("%s: sectorsize: invalid value '%s' (L or L/P: "
		    "powers of two from 512 to 32768, L <= P)", ident, s);
		return (-EINVAL);
	}
	s = config_get(nvl, "engine");
	if (s == NULL || strcmp(s, "auto") == 0)
		o->engine = -1;
	else if (strcmp(s, "io_uring") == 0)
		o->engine = BLOCKIF_ENGINE_URING;
	else if (strcmp(s, "thread") == 0)
		o->engine = BLOCKIF_ENGINE_THREAD;
	else {
		log_warnx("%s: engine: invalid value '%s' (io_uring, thread "
		    "or auto)", ident, s);
		return (-EINVAL);
	}
	return (0);
}

static int
blockif_fail(struct blockif *bc, int err, const char *what)
{
	log_warnx("%s: %s: %s", bc->bc_ident, bc->bc_path,
	    what != NULL ? what : strerror(-err));
	return (err);
}

/* Whether block device dev can discard (sysfs; a partition asks its disk). */
static bool
blockif_blk_discard(dev_t dev)
{
	static const char *const sub[] = { "queue", "../queue" };
	unsigned long long max;
	char path[96];
	unsigned i;
	FILE *fp;
	int n;

	for (i = 0; i < nitems(sub); i++) {
		snprintf(path, sizeof(path),
		    "/sys/dev/block/%u:%u/%s/discard_max_bytes", major(dev),
		    minor(dev), sub[i]);
		if ((fp = fopen(path, "re")) == NULL)
			continue;
		n = fscanf(fp, "%llu", &max);
		fclose(fp);
		return (n == 1 && max > 0);
	}
	return (false);
}

static int
blockif_geometry(struct blockif *bc, const struct stat *st)
{
	unsigned int pbsz;
	int lbsz, alignoff;
	uint64_t size;
	uint32_t p;

	if (!bc->bc_isblk) {
		bc->bc_size = (uint64_t)st->st_size;
		bc->bc_sectsz = SECTSZ_MIN;
		p = (uint32_t)st->st_blksize;
		bc->bc_psectsz = powerof2(p) && p >= SECTSZ_MIN &&
		    p <= SECTSZ_MAX ? p : SECTSZ_MIN;
		return (0);
	}
	if (ioctl(bc->bc_fd, BLKGETSIZE64, &size) != 0 ||
	    ioctl(bc->bc_fd, BLKSSZGET, &lbsz) != 0)
		return (blockif_fail(bc, -errno, NULL));
	if (ioctl(bc->bc_fd, BLKPBSZGET, &pbsz) != 0)
		pbsz = (unsigned)lbsz;
	if (ioctl(bc->bc_fd, BLKALIGNOFF, &alignoff) != 0 || alignoff < 0)
		alignoff = 0;
	if (lbsz < SECTSZ_MIN || lbsz > SECTSZ_MAX || !powerof2((uint64_t)lbsz))
		return (blockif_fail(bc, -EOPNOTSUPP,
		    "unsupported logical sector size"));
	bc->bc_size = size;
	bc->bc_sectsz = (uint32_t)lbsz;
	bc->bc_psectsz = powerof2(pbsz) && pbsz >= (unsigned)lbsz &&
	    pbsz <= SECTSZ_MAX ? pbsz : (uint32_t)lbsz;
	bc->bc_psectoff = (uint32_t)alignoff % bc->bc_psectsz;
	return (0);
}

/*
 * Direct-I/O alignment: statx(STATX_DIOALIGN) (Linux 6.1); before that the
 * traditional rule, the logical block size for both.
 */
static int
blockif_dio_align(struct blockif *bc)
{
	struct statx stx;

	bc->bc_dio_offalign = bc->bc_dio_memalign = bc->bc_sectsz;
	if (statx(bc->bc_fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) != 0 ||
	    (stx.stx_mask & STATX_DIOALIGN) == 0)
		return (0);
	if (stx.stx_dio_offset_align == 0)
		return (blockif_fail(bc, -EOPNOTSUPP,
		    "nocache: the filesystem does not support O_DIRECT"));
	if (!powerof2(stx.stx_dio_offset_align) ||
	    stx.stx_dio_offset_align > SECTSZ_MAX ||
	    !powerof2(stx.stx_dio_mem_align))
		return (blockif_fail(bc, -EOPNOTSUPP,
		    "nocache: unsupported O_DIRECT alignment"));
	bc->bc_dio_offalign = stx.stx_dio_offset_align;
	bc->bc_dio_memalign = stx.stx_dio_mem_align;
	return (0);
}

/* Apply sectorsize=L/P, or raise the default to what O_DIRECT needs. */
static int
blockif_sectors(struct blockif *bc, const struct blockif_opts *o)
{
	uint32_t need;

	need = bc->bc_isblk ? bc->bc_sectsz : SECTSZ_MIN;
	if (bc->bc_nocache)
		need = MAX(need, bc->bc_dio_offalign);
	if (o->ssopt != 0) {
		/* bhyve: I/O must stay a multiple of the device's sectors. */
		if (o->ssopt < need) {
			log_warnx("%s: %s: sectorsize=%u is smaller than the "
			    "%u bytes %s needs", bc->bc_ident, bc->bc_path,
			    o->ssopt, need, bc->bc_nocache && need >
			    bc->bc_sectsz ? "O_DIRECT" : "the device");
			return (-EINVAL);
		}
		bc->bc_sectsz = o->ssopt;
		bc->bc_psectsz = o->pssopt;
		bc->bc_psectoff = 0;
	} else if (bc->bc_sectsz < need) {
		bc->bc_sectsz = need;
		bc->bc_psectsz = MAX(bc->bc_psectsz, need);
		bc->bc_psectoff = 0;
	}
	/* A file's last partial sector reads as zeroes after the end. */
	if (bc->bc_isblk)
		bc->bc_size = rounddown2(bc->bc_size, (uint64_t)bc->bc_sectsz);
	else
		bc->bc_size = roundup2(bc->bc_size, (uint64_t)bc->bc_sectsz);
	return (0);
}

/*
 * Whether hole punching works on this file: try it past the end, where
 * there is nothing to free (KEEP_SIZE leaves the size alone).
 */
static bool
blockif_file_punch(struct blockif *bc)
{
	off_t off;

	off = (off_t)roundup2(bc->bc_size, (uint64_t)MiB) + (off_t)MiB;
	if (fallocate(bc->bc_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	    off, bc->bc_sectsz) == 0)
		return (true);
	atomic_fetch_or(&bc->bc_refused, 1u << BLOCKIF_WZ_PUNCH);
	return (false);
}

static int
blockif_pick_engine(struct blockif *bc, int want)
{
	const char *step;
	int err;

	if (want == BLOCKIF_ENGINE_THREAD) {
		bc->bc_engine = BLOCKIF_ENGINE_THREAD;
		log_info("%s: %s: worker-thread engine", bc->bc_ident,
		    bc->bc_path);
		return (0);
	}
	err = blockif_uring_probe(bc, &step);
	if (err == 0) {
		bc->bc_engine = BLOCKIF_ENGINE_URING;
		log_info("%s: %s: io_uring engine", bc->bc_ident, bc->bc_path);
		return (0);
	}
	if (want == BLOCKIF_ENGINE_URING) {
		log_warnx("%s: %s: engine=io_uring: %s: %s", bc->bc_ident,
		    bc->bc_path, step, strerror(-err));
		/* An old kernel's EINVAL (unknown flag) is no bad option. */
		return (err == -EINVAL ? -EOPNOTSUPP : err);
	}
	bc->bc_engine = BLOCKIF_ENGINE_THREAD;
	log_info("%s: %s: worker-thread engine (io_uring: %s: %s)",
	    bc->bc_ident, bc->bc_path, step, strerror(-err));
	return (0);
}

int
blockif_open(struct config_node *nvl, const char *ident, struct blockif **bcp)
{
	struct blockif_opts o;
	struct blockif *bc;
	struct stat st;
	int err, flags, fl;

	if ((err = blockif_parse(nvl, ident, &o)) != 0)
		return (err);
	if ((bc = calloc(1, sizeof(*bc))) == NULL) {
		log_warnx("%s: out of memory", ident);
		return (-ENOMEM);
	}
	pthread_mutex_init(&bc->bc_mtx, NULL);
	pthread_cond_init(&bc->bc_cond, NULL);
	bc->bc_fd = -1;
	bc->bc_rdonly = o.ro;
	bc->bc_nocache = o.nocache;
	bc->bc_nodelete = o.nodelete;
	bc->bc_work_tail = &bc->bc_work;
	if ((bc->bc_ident = strdup(ident)) == NULL ||
	    (bc->bc_path = strdup(o.path)) == NULL) {
		log_warnx("%s: out of memory", ident);
		err = -ENOMEM;
		goto fail_alloc;
	}

	/*
	 * Look before opening: opening a character device can have effects
	 * (a watchdog starts, a tape rewinds).  O_NONBLOCK keeps a FIFO that
	 * slipped in between from blocking the open.
	 */
	if (stat(o.path, &st) != 0) {
		err = blockif_fail(bc, -errno, NULL);
		goto fail_alloc;
	}
	if (S_ISDIR(st.st_mode)) {
		err = blockif_fail(bc, -EISDIR, NULL);
		goto fail_alloc;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		err = blockif_fail(bc, -ENOTBLK,
		    "not a regular file or block device");
		goto fail_alloc;
	}
	flags = (o.ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK | (o.nocache ? O_DIRECT : 0) | (o.sync ? O_SYNC : 0);
	if ((bc->bc_fd = open(o.path, flags)) < 0) {
		err = -errno;
		if (err == -EINVAL && o.nocache)
			err = blockif_fail(bc, -EOPNOTSUPP,
			    "nocache: the filesystem does not support O_DIRECT");
		else
			err = blockif_fail(bc, err, NULL);
		goto fail_alloc;
	}
	if (fstat(bc->bc_fd, &st) != 0) {
		err = blockif_fail(bc, -errno, NULL);
		goto fail_fd;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		err = blockif_fail(bc, -ENOTBLK,
		    "not a regular file or block device");
		goto fail_fd;
	}
	if ((fl = fcntl(bc->bc_fd, F_GETFL)) < 0 ||
	    fcntl(bc->bc_fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		err = blockif_fail(bc, -errno, NULL);
		goto fail_fd;
	}
	bc->bc_isblk = S_ISBLK(st.st_mode);
	if ((err = blockif_geometry(bc, &st)) != 0)
		goto fail_fd;
	if (o.nocache && (err = blockif_dio_align(bc)) != 0)
		goto fail_fd;
	if ((err = blockif_sectors(bc, &o)) != 0)
		goto fail_fd;
	if (!o.ro && !o.nodelete)
		bc->bc_candelete = bc->bc_isblk ?
		    blockif_blk_discard(st.st_rdev) : blockif_file_punch(bc);
	if ((err = blockif_pick_engine(bc, o.engine)) != 0)
		goto fail_fd;
	/* io_uring has no opcode for BLKDISCARD/BLKZEROOUT: one helper. */
	if (bc->bc_engine == BLOCKIF_ENGINE_THREAD)
		err = blockif_pool_start(bc, BLOCKIF_NUMTHR);
	else if (bc->bc_isblk && !bc->bc_rdonly)
		err = blockif_pool_start(bc, 1);
	if (err != 0) {
		err = blockif_fail(bc, err, NULL);
		goto fail_fd;
	}
	*bcp = bc;
	return (0);

fail_fd:
	close(bc->bc_fd);
fail_alloc:
	pthread_cond_destroy(&bc->bc_cond);
	pthread_mutex_destroy(&bc->bc_mtx);
	free(bc->bc_path);
	free(bc->bc_ident);
	free(bc);
	return (err);
}

void
blockif_close(struct blockif *bc)
{
	if (bc == NULL)
		return;
	if (atomic_load(&bc->bc_nqueues) != 0) {
		log_warnx("%s: blockif_close with queues open", bc->bc_ident);
		abort();
	}
	blockif_pool_stop(bc);
	close(bc->bc_fd);
	pthread_cond_destroy(&bc->bc_cond);
	pthread_mutex_destroy(&bc->bc_mtx);
	free(bc->bc_path);
	free(bc->bc_ident);
	free(bc);
}

int
blockif_sync(struct blockif *bc)
{
	if (bc->bc_rdonly)
		return (0);
	return (fdatasync(bc->bc_fd) == 0 ? 0 : -errno);
}

uint64_t
blockif_size(const struct blockif *bc)
{
	return (bc->bc_size);
}

uint32_t
blockif_sectsz(const struct blockif *bc)
{
	return (bc->bc_sectsz);
}

void
blockif_psectsz(const struct blockif *bc, uint32_t *size, uint32_t *offset)
{
	*size = bc->bc_psectsz;
	*offset = bc->bc_psectoff;
}

bool
blockif_is_ro(const struct blockif *bc)
{
	return (bc->bc_rdonly);
}

bool
blockif_candelete(const struct blockif *bc)
{
	return (bc->bc_candelete);
}

const char *
blockif_engine(const struct blockif *bc)
{
	return (bc->bc_engine == BLOCKIF_ENGINE_URING ? "io_uring" : "thread");
}
