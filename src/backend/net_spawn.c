/*
 * net_spawn.c: starting a network backend's helper program (net_spawn.h)
 * with fork and exec by hand, so that a failed exec reports its errno
 * through a close-on-exec pipe (end of file: exec succeeded) and the
 * child's descriptors are exactly the ones asked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "backend/net_spawn.h"
#include "sandbox.h"

/* Copies of the caller's fds above every number the child sets. */
#define NET_SPAWN_HIGH	(NET_SPAWN_FD0 + NET_SPAWN_FDS_MAX)

void
net_spawn_reap(pid_t *pidp)
{
	if (*pidp <= 0)
		return;
	(void)kill(*pidp, SIGKILL);
	while (waitpid(*pidp, NULL, 0) < 0 && errno == EINTR)
		;
	*pidp = -1;
}

int
net_spawn_which(const char *name, char *buf, size_t len)
{
	const char *path, *end;
	int error = -ENOENT;
	size_t n;

	snprintf(buf, len, "%s", name);
	if (name[0] == '\0')
		return (-ENOENT);
	if (strchr(name, '/') != NULL) {
		if (strlen(name) >= len)
			return (-ENAMETOOLONG);
		return (access(buf, X_OK) == 0 ? 0 : -errno);
	}
	if ((path = getenv("PATH")) == NULL || path[0] == '\0')
		path = "/usr/bin:/bin";
	for (; *path != '\0'; path = *end == ':' ? end + 1 : end) {
		end = strchrnul(path, ':');
		n = (size_t)(end - path);
		if (n == 0 || snprintf(buf, len, "%.*s/%s", (int)n, path,
		    name) >= (int)len)
			continue;
		if (access(buf, X_OK) == 0)
			return (0);
		if (errno != ENOENT)
			error = -errno;
	}
	snprintf(buf, len, "%s", name);
	return (error);
}

/* Between fork() and exec: async-signal-safe calls only. */
static _Noreturn void
net_spawn_child(const struct net_spawn *sp, const int *hi, int errfd,
    int maxfd)
{
	static char *const envp[] = { NULL };
	struct sigaction sa;
	sigset_t none;
	int e, fd, i, sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	for (i = 0; i < sp->ns_nfds; i++)
		if (dup2(hi[i], NET_SPAWN_FD0 + i) < 0)
			goto fail;
	if (sp->ns_devnull && ((fd = open("/dev/null", O_RDWR)) < 0 ||
	    dup2(fd, 0) < 0 || dup2(fd, 1) < 0))
		goto fail;
	/* Everything above the child's own closes at exec. */
	if (close_range(NET_SPAWN_FD0 + sp->ns_nfds, ~0u,
	    CLOSE_RANGE_CLOEXEC) < 0) {
		/* Kernels before 5.11: mark them one by one. */
		for (fd = NET_SPAWN_FD0 + sp->ns_nfds; fd < maxfd; fd++)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	if (sp->ns_pdeathsig && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		goto fail;
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(sp->ns_path, sp->ns_argv, envp);
fail:
	e = errno;
	(void)!write(errfd, &e, sizeof(e));
	_exit(127);
}

int
net_spawn(const struct net_spawn *sp, pid_t *pidp)
{
	int hi[NET_SPAWN_FDS_MAX], ep[2] = { -1, -1 }, e, i, n = 0, maxfd;
	int error = 0;
	sigset_t all, old;
	struct rlimit rl;
	ssize_t r;
	pid_t pid;

	*pidp = -1;
	if (sp->ns_nfds < 0 || sp->ns_nfds > NET_SPAWN_FDS_MAX)
		return (-EINVAL);
	for (; n < sp->ns_nfds; n++) {
		hi[n] = fcntl(sp->ns_fds[n], F_DUPFD_CLOEXEC, NET_SPAWN_HIGH);
		if (hi[n] < 0) {
			error = -errno;
			goto out;
		}
	}
	/* The write end too must stay clear of the numbers the child sets. */
	if (pipe2(ep, O_CLOEXEC) < 0 ||
	    (e = fcntl(ep[1], F_DUPFD_CLOEXEC, NET_SPAWN_HIGH)) < 0) {
		error = -errno;
		goto out;
	}
	(void)close(ep[1]);
	ep[1] = e;
	maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)INT_MAX ? (int)rl.rlim_cur : 65536;

	/* No handler of khyve's may run in the child before exec. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		net_spawn_child(sp, hi, ep[1], maxfd);
	e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		error = -e;
		goto out;
	}
	(void)close(ep[1]);
	ep[1] = -1;
	/* exec closes the pipe; a failed exec writes its errno first. */
	do
		r = read(ep[0], &e, sizeof(e));
	while (r < 0 && errno == EINTR);
	if (r == (ssize_t)sizeof(e)) {
		net_spawn_reap(&pid);
		error = -e;
	} else if ((error = sandbox_allow_child(pid)) != 0)
		net_spawn_reap(&pid);
	else
		*pidp = pid;
out:
	for (i = 0; i < 2; i++)
		if (ep[i] >= 0)
			(void)close(ep[i]);
	for (i = 0; i < n; i++)
		(void)close(hi[i]);
	return (error);
}
