/*
 * replay.c: run a fuzz target's inputs without libFuzzer.
 *
 *	build/replay/fuzz_NAME DIR|FILE...
 *
 * Linked with one fuzz/fuzz_NAME.c and built with the normal compiler
 * and flags, it calls LLVMFuzzerInitialize() (when the target has one)
 * and then LLVMFuzzerTestOneInput() on every regular file given or found
 * in a directory given, in name order, so that the seeds and the inputs
 * of fixed crashes (fuzz/corpus/NAME/crash-*) are replayed by the unit
 * tests.  It prints "PASS replay:NAME (N inputs)", or "FAIL replay:NAME
 * (why)" and exits 1.  A target that crashes or aborts takes the process
 * with it; the signal handler first names the input it was running.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int	LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int out_fd = -1;			/* stdout before the target's init */
static const char *name;		/* NAME of build/replay/fuzz_NAME */
static char current[PATH_MAX];		/* the input being run, for the handler */

static void
crashed(int sig)
{
	char msg[PATH_MAX + 128];
	int n;

	n = snprintf(msg, sizeof(msg), "FAIL replay:%s (signal %d on %s)\n",
	    name, sig, current);
	if (n > 0)
		(void)!write(out_fd, msg, (size_t)n < sizeof(msg) ?
		    (size_t)n : sizeof(msg) - 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Read PATH whole; 0 or -errno. */
static int
replay_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	ssize_t n;
	size_t len;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return (-errno);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err = errno != 0 ? -errno : -EINVAL;
		close(fd);
		return (err);
	}
	len = (size_t)st.st_size;
	/* One spare byte so that an empty input is a valid pointer too. */
	buf = malloc(len + 1);
	if (buf == NULL) {
		close(fd);
		return (-ENOMEM);
	}
	n = pread(fd, buf, len, 0);
	err = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	close(fd);
	if (err == 0) {
		snprintf(current, sizeof(current), "%s", path);
		(void)LLVMFuzzerTestOneInput(buf, len);
	}
	free(buf);
	return (err);
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return (strcmp((*a)->d_name, (*b)->d_name));
}

static int
skip_dot(const struct dirent *d)
{
	return (d->d_name[0] != '.');
}

/* Replay ARG (a file, or a directory's files); count them in *nrun. */
static int
replay_arg(const char *arg, unsigned *nrun)
{
	struct dirent **ents;
	char path[PATH_MAX];
	struct stat st;
	int i, n, err;

	if (stat(arg, &st) != 0)
		return (-errno);
	if (!S_ISDIR(st.st_mode)) {
		err = replay_file(arg);
		*nrun += err == 0;
		return (err);
	}
	n = scandir(arg, &ents, skip_dot, by_name);
	if (n < 0)
		return (-errno);
	err = 0;
	for (i = 0; i < n; i++) {
		if (err == 0) {
			if ((size_t)snprintf(path, sizeof(path), "%s/%s",
			    arg, ents[i]->d_name) >= sizeof(path))
				err = -ENAMETOOLONG;
			else
				err = replay_file(path);
			*nrun += err == 0;
			if (err != 0)
				arg = path;
		}
		free(ents[i]);
	}
	free(ents);
	if (err != 0)
		dprintf(out_fd, "FAIL replay:%s (%s: %s)\n", name, arg,
		    strerror(-err));
	return (err != 0 ? 1 : 0);
}

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	unsigned nrun;
	size_t i;
	int a, rc;

	name = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 :
	    argv[0];
	if (strncmp(name, "fuzz_", 5) == 0)
		name += 5;
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return (64);
	}
	/* Targets may point stdout at /dev/null in their init. */
	out_fd = dup(STDOUT_FILENO);
	if (out_fd < 0) {
		perror("replay: dup");
		return (1);
	}
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], crashed);
	if (LLVMFuzzerInitialize != NULL)
		(void)LLVMFuzzerInitialize(&argc, &argv);

	nrun = 0;
	for (a = 1; a < argc; a++) {
		rc = replay_arg(argv[a], &nrun);
		if (rc < 0)
			dprintf(out_fd, "FAIL replay:%s (%s: %s)\n", name,
			    argv[a], strerror(-rc));
		if (rc != 0)
			return (1);
	}
	if (nrun == 0) {
		dprintf(out_fd, "FAIL replay:%s (no input)\n", name);
		return (1);
	}
	dprintf(out_fd, "PASS replay:%s (%u inputs)\n", name, nrun);
	return (0);
}
