/*
 * runstat: run a monitor and measure it from the outside, the same way
 * for every monitor (bench/run.sh, docs/performance.md).
 *
 *	runstat [-O OUT] [-c CONSOLE] [-f MARK] [-p PATTERN] [-g GUEST_KB]
 *	    [-d DELAY_MS] [-e ERRMARK] [-n NICE] [-t TIMEOUT_S] -- COMMAND [ARG...]
 *
 * It forks and execs COMMAND (stdout to OUT when given, at niceness NICE), then waits for it
 * with a pidfd, watches CONSOLE (default OUT) with inotify and, with -e,
 * passes the command's stderr through a pipe to its own, and prints
 *
 *	RUN status=S wall_ms=W first_ms=F err_ms=E user_ms=U sys_ms=Y
 *	    maxrss_kb=M rss_kb=R priv_kb=P guest_rss_kb=G hwm_kb=H
 *
 *   status	exit status, "sigN" or "timeout"
 *   wall_ms	fork -> child reaped
 *   first_ms	fork -> MARK (default "BENCH") first seen on the console:
 *		exec to the guest's first output
 *   err_ms	fork -> ERRMARK first seen on the command's stderr (khyve's
 *		"boot.timer: ... first KVM_RUN", rawkvm -v): exec to the
 *		first KVM_RUN, dynamic linking and all
 *   user/sys	the child's CPU time (wait4 rusage: all its threads)
 *   maxrss_kb	the child's peak RSS (ru_maxrss), guest RAM included.  It
 *		counts from fork, so it includes runstat's own copy before
 *		exec (some 0.1-0.3 MiB of anonymous pages; file pages are not
 *		copied): run nothing between runstat and the command (nice(1)
 *		maps locale files and would show up here; use -n)
 *   rss_kb	DELAY_MS (default 200) after PATTERN appeared on the console:
 *		the sum of Rss: over /proc/PID/smaps, leaving out the guest
 *		RAM mapping, which is the one named memfd:khyve-guest-ram or
 *		the one whose Size: is GUEST_KB (QEMU's pc.ram)
 *   priv_kb	the same mappings' Private_Clean + Private_Dirty: what the
 *		monitor does not share with other processes (libc text is
 *		in rss_kb but, on a busy host, mostly not in priv_kb)
 *   guest_rss_kb the Rss of the mapping(s) left out
 *   hwm_kb	VmHWM from /proc/PID/status at that moment
 *
 * Figures it could not take print as -1.  Exit status: 0, or 2 when the
 * command could not be run.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONSOLE_MAX	(256 * 1024)	/* console bytes searched */
#define ERR_MAX		(64 * 1024)	/* stderr bytes searched */
#define GUEST_NAME	"khyve-guest-ram"

struct sample {
	long rss_kb;			/* Rss outside the guest RAM */
	long priv_kb;			/* Private_* outside the guest RAM */
	long guest_kb;			/* Rss of the guest RAM mapping */
	long hwm_kb;			/* VmHWM */
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e3 + ts.tv_nsec / 1e6);
}

static void
account(struct sample *s, int guest, long rss, long priv)
{
	if (guest)
		s->guest_kb += rss;
	else {
		s->rss_kb += rss;
		s->priv_kb += priv;
	}
}

/* Sum Rss over pid's mappings, guest RAM apart (see the top comment). */
static void
sample_smaps(pid_t pid, long guest_kb, struct sample *s)
{
	char path[64], line[512];
	unsigned long lo, hi;
	long kb, map_rss = 0, map_priv = 0;
	int in_map = 0, guest = 0;
	FILE *f;

	s->rss_kb = s->priv_kb = s->guest_kb = s->hwm_kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	s->rss_kb = s->priv_kb = s->guest_kb = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			/* A new mapping: account for the previous one. */
			if (in_map)
				account(s, guest, map_rss, map_priv);
			in_map = 1;
			map_rss = map_priv = 0;
			guest = strstr(line, GUEST_NAME) != NULL;
		} else if (sscanf(line, "Size: %ld kB", &kb) == 1) {
			if (guest_kb > 0 && kb == guest_kb)
				guest = 1;
		} else if (sscanf(line, "Rss: %ld kB", &kb) == 1)
			map_rss = kb;
		else if (sscanf(line, "Private_Clean: %ld kB", &kb) == 1 ||
		    sscanf(line, "Private_Dirty: %ld kB", &kb) == 1)
			map_priv += kb;
	}
	if (in_map)
		account(s, guest, map_rss, map_priv);
	fclose(f);

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			s->hwm_kb = kb;
	fclose(f);
}

/* 1 when s appears in the first CONSOLE_MAX bytes of path. */
static int
console_has(const char *path, const char *s)
{
	static char buf[CONSOLE_MAX + 1];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return (0);
	n = read(fd, buf, CONSOLE_MAX);
	close(fd);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	/* Guest output may hold NULs: search past them. */
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (strstr(p, s) != NULL)
			return (1);
	return (0);
}

/*
 * Copy what the command wrote on stderr to ours; note when errmark first
 * appears in the first ERR_MAX bytes.  Returns 1 when it copied
 * something, -1 when there is nothing to read yet, 0 at EOF.
 */
static int
pass_stderr(int fd, const char *errmark, double *t_mark)
{
	static char seen[ERR_MAX + 1];
	static size_t nseen;
	char buf[4096];
	ssize_t n;
	size_t k;

	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return (-1);
	if (n <= 0)
		return (0);
	if (*t_mark < 0 && nseen < ERR_MAX) {
		k = (size_t)n < ERR_MAX - nseen ? (size_t)n : ERR_MAX - nseen;
		memcpy(seen + nseen, buf, k);
		nseen += k;
		seen[nseen] = '\0';
		if (memmem(seen, nseen, errmark, strlen(errmark)) != NULL)
			*t_mark = now_ms();
	}
	(void)!write(STDERR_FILENO, buf, (size_t)n);
	return (1);
}

static void
usage(void)
{
	fprintf(stderr, "usage: runstat [-O out] [-c console] [-f mark] "
	    "[-p pattern] [-g guest_kb] [-d delay_ms] [-e errmark] [-n nice] "
	    "[-t timeout_s] -- "
	    "command [arg...]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *out = NULL, *console = NULL, *mark = "BENCH", *pattern = NULL;
	const char *errmark = NULL;
	long guest_kb = 0, delay_ms = 200, timeout_s = 600, nice = 0;
	double t0, t_first = -1, t_pattern = -1, t_err = -1, t_end, left;
	struct sample smp = { -1, -1, -1, -1 };
	struct pollfd pfd[3];
	struct rusage ru;
	int opt, pidfd, infd = -1, fd, st = 0, sampled = 0, timed_out = 0;
	int errp[2] = { -1, -1 };
	char status[32];
	pid_t pid;

	while ((opt = getopt(argc, argv, "+O:c:f:p:g:d:e:n:t:")) != -1) {
		switch (opt) {
		case 'O': out = optarg; break;
		case 'c': console = optarg; break;
		case 'f': mark = optarg; break;
		case 'p': pattern = optarg; break;
		case 'g': guest_kb = strtol(optarg, NULL, 0); break;
		case 'd': delay_ms = strtol(optarg, NULL, 0); break;
		case 'e': errmark = optarg; break;
		case 'n': nice = strtol(optarg, NULL, 0); break;
		case 't': timeout_s = strtol(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	if (console == NULL)
		console = out;
	if (out != NULL) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			perror(out);
			return (2);
		}
		close(fd);
	}
	if (console != NULL) {
		/* Exists before the child opens it: one inode to watch. */
		fd = open(console, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
		infd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (infd >= 0 && inotify_add_watch(infd, console, IN_MODIFY) < 0) {
			close(infd);
			infd = -1;
		}
	}

	if (errmark != NULL && pipe2(errp, O_CLOEXEC) < 0) {
		perror("pipe");
		return (2);
	}

	t0 = now_ms();
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return (2);
	}
	if (pid == 0) {
		if (out != NULL) {
			fd = open(out, O_WRONLY | O_APPEND);
			if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
				_exit(127);
		}
		if (errp[1] >= 0 && dup2(errp[1], STDERR_FILENO) < 0)
			_exit(127);
		if (nice != 0 && setpriority(PRIO_PROCESS, 0, (int)nice) < 0)
			perror("runstat: setpriority");	/* measure anyway */
		execvp(argv[optind], argv + optind);
		perror(argv[optind]);
		_exit(127);
	}
	if (errp[1] >= 0) {
		close(errp[1]);
		fcntl(errp[0], F_SETFL, O_NONBLOCK);
	}
	/*
	 * The child keeps the default priority; runstat itself, asleep but
	 * for a few reads, wakes first on a busy host so its timestamps are
	 * not late (needs root or CAP_SYS_NICE; harmless when refused).
	 */
	(void)setpriority(PRIO_PROCESS, 0, -10);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		perror("pidfd_open");
		kill(pid, SIGKILL);
		return (2);
	}

	for (;;) {
		char evbuf[4096];
		int timeout = 1000;

		left = t0 + timeout_s * 1e3 - now_ms();
		if (left <= 0) {
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		if (t_pattern >= 0 && !sampled) {
			double due = t_pattern + delay_ms - now_ms();

			if (due <= 0) {
				sample_smaps(pid, guest_kb, &smp);
				sampled = 1;
				continue;
			}
			timeout = (int)due + 1;
		}
		if (timeout > left)
			timeout = (int)left + 1;
		pfd[0].fd = pidfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = infd;
		pfd[1].events = POLLIN;
		pfd[2].fd = errp[0];
		pfd[2].events = POLLIN;
		if (poll(pfd, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			break;
		}
		if (pfd[2].revents & (POLLIN | POLLHUP) &&
		    pass_stderr(errp[0], errmark, &t_err) == 0) {
			close(errp[0]);
			errp[0] = -1;		/* poll ignores negative fds */
		}
		if (pfd[0].revents & POLLIN)
			break;
		if (infd >= 0 && (pfd[1].revents & POLLIN)) {
			double t = now_ms();

			while (read(infd, evbuf, sizeof(evbuf)) > 0)
				;
			if (t_first < 0 && console_has(console, mark))
				t_first = t;
			if (pattern != NULL && t_pattern < 0 &&
			    console_has(console, pattern))
				t_pattern = t;
		}
	}
	if (wait4(pid, &st, 0, &ru) < 0) {
		perror("wait4");
		return (2);
	}
	t_end = now_ms();
	/* What the command wrote last; its descendants may hold the pipe. */
	if (errp[0] >= 0)
		while (pass_stderr(errp[0], errmark, &t_err) == 1)
			;
	/* A mark written just before exit may not have woken us. */
	if (t_first < 0 && console != NULL && console_has(console, mark))
		t_first = t_end;
	if (timed_out)
		snprintf(status, sizeof(status), "timeout");
	else if (WIFSIGNALED(st))
		snprintf(status, sizeof(status), "sig%d", WTERMSIG(st));
	else
		snprintf(status, sizeof(status), "%d", WEXITSTATUS(st));
	printf("RUN status=%s wall_ms=%.3f first_ms=%.3f err_ms=%.3f user_ms=%.3f "
	    "sys_ms=%.3f maxrss_kb=%ld rss_kb=%ld priv_kb=%ld guest_rss_kb=%ld "
	    "hwm_kb=%ld\n",
	    status, t_end - t0, t_first < 0 ? -1.0 : t_first - t0,
	    t_err < 0 ? -1.0 : t_err - t0,
	    ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3,
	    ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3,
	    ru.ru_maxrss, smp.rss_kb, smp.priv_kb, smp.guest_kb, smp.hwm_kb);
	return (0);
}
