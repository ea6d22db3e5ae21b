/*
 * test_sandbox.c: the seccomp allowlist (src/sandbox.c).
 *
 * Each case runs in a child process that installs a filter and then
 * tries a call; the parent judges how the child ended and what it wrote
 * on standard error (a pipe).
 */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/kvm.h>
#include "khyve.h"
#include "sandbox.h"
#include "test.h"
#include "testproc.h"

#define VM	(SANDBOX_MONITOR | SANDBOX_VCPU)

static char errbuf[2048];

/*
 * Run fn in a child under the filter of roles (debug: sandbox_debug).
 * Returns the wait status; errbuf holds the child's standard error.
 */
static int
under(unsigned roles, bool debug, int (*fn)(void))
{
	int p[2], status = -1;
	const char *why;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	if (pipe(p) != 0)
		return (-1);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		sandbox_init("test", NULL, debug);
		if (sandbox_install(roles, true, NULL, &why) != 0)
			_exit(99);
		_exit(fn());
	}
	close(p[1]);
	while (got < sizeof(errbuf) - 1 &&
	    (n = read(p[0], errbuf + got, sizeof(errbuf) - 1 - got)) > 0)
		got += (size_t)n;
	errbuf[got] = '\0';
	close(p[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	return (status);
}

static int
do_open(void)
{
	return (open("/etc/hostname", O_RDONLY) >= 0 ? 10 : 11);
}

static int
do_socket(void)
{
	/* With sandbox_debug the call fails with ENOSYS and we go on. */
	return (socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == ENOSYS ? 0 : 12);
}

static int
do_write(void)
{
	return (write(STDERR_FILENO, "ok\n", 3) == 3 ? 0 : 13);
}

static int
do_mmap_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return (p != MAP_FAILED ? 14 : 15);
}

static int
do_mmap_rw(void)
{
	void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return (p != MAP_FAILED && munmap(p, 1 << 20) == 0 ? 0 : 16);
}

static int tty_fd = -1;

static int
do_ioctl_tcgets(void)
{
	struct termios t;

	return (ioctl(tty_fd, TCGETS, &t) == 0 ? 0 : 17);
}

static int
do_ioctl_tiocsti(void)
{
	char c = 'x';

	/* Pushing input into a terminal: not on the list. */
	return (ioctl(tty_fd, TIOCSTI, &c) == 0 ? 18 : 19);
}

static int
do_fork(void)
{
	return (fork() >= 0 ? 20 : 21);
}

static int
do_execve(void)
{
	char *argv[] = { (char *)"/bin/true", NULL };

	execve("/bin/true", argv, NULL);
	return (22);
}

/* Stopped with status 4 and one line naming the call. */
static void
check_stopped(int status, const char *call)
{
	char want[64];

	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), KHYVE_EXIT_ERROR);
	snprintf(want, sizeof(want), "test: sandbox: system call %s (", call);
	CHECK(strstr(errbuf, want) != NULL);
	CHECK(strstr(errbuf, "is not allowed") != NULL);
	CHECK(strstr(errbuf, "stopping") != NULL);
	if (test_failed)
		printf("  stderr: %s\n", errbuf);
}

TEST(open_is_stopped)
{
#ifdef KHYVE_SANITIZE
	TEST_SKIP("a sanitizer build lets openat through for its runtime");
#endif
	check_stopped(under(VM, false, do_open), "openat");
}

TEST(socket_execve_fork_are_stopped)
{
	check_stopped(under(VM, false, do_socket), "socket");
	check_stopped(under(VM, false, do_execve), "execve");
	check_stopped(under(VM, false, do_fork), "clone");
}

TEST(allowed_calls_go_through)
{
	int status = under(VM, false, do_write);

	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_STR(errbuf, "ok\n");
	status = under(SANDBOX_VCPU, false, do_mmap_rw);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(no_executable_memory)
{
	check_stopped(under(VM, false, do_mmap_exec), "mmap");
}

TEST(debug_fails_the_call_and_goes_on)
{
	int status = under(VM, true, do_socket);

	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(strstr(errbuf, "system call socket (41)") != NULL);
	CHECK(strstr(errbuf, "failed with ENOSYS") != NULL);
}

TEST(ioctl_by_request)
{
	int master, status;

	if (openpty(&master, &tty_fd, NULL, NULL, NULL) != 0)
		TEST_SKIP("no pseudo-terminal: %s", strerror(errno));
	status = under(VM, false, do_ioctl_tcgets);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	status = under(VM, false, do_ioctl_tiocsti);
	check_stopped(status, "ioctl");
	/* The request is named, for a report. */
	CHECK(strstr(errbuf, "request 0x00005412") != NULL);
	close(master);
	close(tty_fd);
}

/* The vCPU filter stacks on the process one: KVM_RUN is a vCPU's alone. */
static int
do_accept_on_vcpu(void)
{
	const char *why;

	if (sandbox_install(SANDBOX_VCPU, false, "vcpu 0", &why) != 0)
		return (30);
	return (accept4(0, NULL, NULL, 0) >= 0 ? 31 : 32);
}

TEST(vcpu_filter_narrows)
{
	int status = under(VM, false, do_accept_on_vcpu);

	check_stopped(status, "accept4");
	CHECK(strstr(errbuf, "(vcpu 0)") != NULL);
}

static void
on_usr(int sig, siginfo_t *si, void *uc)
{
	_exit(40);
}

static int
do_kill_sys(void)
{
	/* A SIGSYS someone sends goes to the handler that was there. */
	raise(SIGSYS);
	return (41);
}

TEST(foreign_sigsys_goes_to_old_handler)
{
	struct sigaction sa, old;
	int status;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_usr;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, &old);
	status = under(SANDBOX_MONITOR, false, do_kill_sys);
	sigaction(SIGSYS, &old, NULL);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 40);
}

static pid_t victim;

static int
do_kill_children(void)
{
	/* A child of sandbox_allow_child() may be signalled and reaped... */
	if (kill(victim, SIGKILL) != 0 || waitpid(victim, NULL, 0) != victim)
		return (70);
	/* ...any other process not (init, here): this stops us. */
	(void)kill(1, 0);
	return (71);
}

TEST(kill_only_children)
{
	int p[2], status;
	const char *why;
	ssize_t n;
	pid_t pid;

	if (pipe(p) != 0)
		TEST_SKIP("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		if ((victim = fork()) == 0) {
			pause();
			_exit(0);
		}
		sandbox_init("test", NULL, false);
		if (sandbox_allow_child(victim) != 0 ||
		    sandbox_install(VM, true, NULL, &why) != 0)
			_exit(99);
		_exit(do_kill_children());
	}
	close(p[1]);
	n = read(p[0], errbuf, sizeof(errbuf) - 1);
	errbuf[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	check_stopped(status, "kill");
}

TEST(allowlist_size)
{
#ifdef KHYVE_SANITIZE
	/* Not with the sanitizer runtime's own calls. */
	TEST_SKIP("a sanitizer build allows the runtime's calls as well");
#endif
	/* At most 50 calls for the whole monitor (SECURITY.md). */
	printf("  process filter %u calls, event loop %u, vCPU %u, slirp %u\n",
	    sandbox_count(VM), sandbox_count(SANDBOX_MONITOR),
	    sandbox_count(SANDBOX_VCPU), sandbox_count(SANDBOX_SLIRP));
	CHECK(sandbox_count(SANDBOX_VCPU) < sandbox_count(VM));
	CHECK(sandbox_count(SANDBOX_MONITOR) <= sandbox_count(VM));
	CHECK(sandbox_count(VM) <= 50);
}

TEST(security_md_names_every_call)
{
	static char doc[65536];
	char want[64], *name;
	unsigned i, roles;
	size_t n;
	FILE *fp;
	int nr;

	/* The tests run from the top of the tree (tests/run-all.sh). */
	if ((fp = fopen("SECURITY.md", "r")) == NULL) {
		printf("  SECURITY.md: %s (run from the top of the tree)\n",
		    strerror(errno));
		test_failed++;
		return;
	}
	n = fread(doc, 1, sizeof(doc) - 1, fp);
	doc[n] = '\0';
	fclose(fp);
	for (i = 0; (nr = sandbox_rule(i, &roles)) >= 0; i++) {
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		snprintf(want, sizeof(want), "| `%s` |", name ? name : "?");
		if (strstr(doc, want) == NULL) {
			printf("  SECURITY.md lacks the row of %s\n", want);
			test_failed++;
		}
		free(name);
	}
	CHECK(i > 40);
}

static int
do_become_nobody(void)
{
	const char *why;

	if (sandbox_become("nobody", &why) != 0)
		return (50);
	if (getuid() == 0 || geteuid() == 0 || setuid(0) == 0)
		return (51);
	return (0);
}

TEST(become)
{
	const char *why;
	int status;
	pid_t pid;

	CHECK_EQ(sandbox_become("no-such-user-khyve", &why), -ENOENT);
	CHECK_STR(why, "no such user in /etc/passwd");
	if (geteuid() != 0)
		TEST_SKIP("not root: becoming another user is not tried");
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(do_become_nobody());
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* nobody cannot become root again. */
	pid = fork();
	if (pid == 0) {
		if (sandbox_become("nobody", &why) != 0)
			_exit(60);
		/* Naming the user it already is changes nothing. */
		if (sandbox_become("nobody", &why) != 0)
			_exit(62);
		_exit(sandbox_become("root", &why) == -EPERM ? 0 : 61);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_MAIN()
