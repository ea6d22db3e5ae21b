/*
 * tty.c: terminal backends for serial devices (bhyve's uart_backend.c).
 *
 * Each backend has an input fd and an output fd (dup'ed from one another
 * for a terminal or a socket, because epoll keys on the fd number and
 * mevent polls each direction separately), an optional listening socket,
 * and a ring of output that the event loop writes when the peer is slow
 * (tty_out.c).  This file opens and closes backends and reads input.
 *
 * Non-blocking stdio without disturbing the shell: O_NONBLOCK belongs to
 * the open file description, which stdin/stdout share with the parent.
 * So stdio fds are reopened through /proc/self/fd, which gives private
 * descriptions; only when that fails is O_NONBLOCK set on the shared one,
 * and its original flags are put back by tty_restore_all().
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include "backend/tty_impl.h"
#include "log.h"
#include "mevent.h"
#include "sandbox.h"

pthread_mutex_t		tty_list_mtx = PTHREAD_MUTEX_INITIALIZER;
struct tty_backend	*tty_list;	/* open backends (drain, tty_atexit) */
static pthread_once_t	tty_once = PTHREAD_ONCE_INIT;
static bool		tty_stdio_used;	/* under tty_list_mtx */

/* stdin/stdout state to put back; read by signal handlers. */
static struct termios	tty_orig_tios;
static volatile sig_atomic_t tty_tios_saved;
static int		tty_orig_fl[2];	/* F_GETFL of fd 0 and 1 */
static volatile sig_atomic_t tty_fl_saved[2];

/*
 * unix= socket files for tty_signal_cleanup(), which may take no lock: a
 * path is copied in, then its slot marked used (release); the handler
 * reads the mark (acquire) before the path.  Slots are taken under
 * tty_list_mtx.
 */
#define TTY_UNLINK_SLOTS	16
#define TTY_SUN_PATH	sizeof(((struct sockaddr_un *)NULL)->sun_path)
static char		tty_unlink_path[TTY_UNLINK_SLOTS][TTY_SUN_PATH];
static int		tty_unlink_used[TTY_UNLINK_SLOTS];	/* atomic */

void
tty_restore_all(void)
{
	int fd;

	if (tty_tios_saved)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &tty_orig_tios);
	for (fd = 0; fd < 2; fd++)
		if (tty_fl_saved[fd])
			(void)fcntl(fd, F_SETFL, tty_orig_fl[fd]);
}

int
tty_unlink_register(const char *path)
{
	int i, slot = -1;

	if (strlen(path) >= sizeof(tty_unlink_path[0]))
		return (-1);
	pthread_mutex_lock(&tty_list_mtx);
	for (i = 0; i < TTY_UNLINK_SLOTS && slot < 0; i++)
		if (!__atomic_load_n(&tty_unlink_used[i], __ATOMIC_ACQUIRE))
			slot = i;
	if (slot >= 0) {
		strcpy(tty_unlink_path[slot], path);
		__atomic_store_n(&tty_unlink_used[slot], 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&tty_list_mtx);
	return (slot);
}

void
tty_unlink_unregister(int slot)
{
	if (slot >= 0 && slot < TTY_UNLINK_SLOTS)
		__atomic_store_n(&tty_unlink_used[slot], 0, __ATOMIC_RELEASE);
}

void
tty_signal_cleanup(void)
{
	int i;

	tty_restore_all();
	for (i = 0; i < TTY_UNLINK_SLOTS; i++)
		if (__atomic_load_n(&tty_unlink_used[i], __ATOMIC_ACQUIRE))
			(void)unlink(tty_unlink_path[i]);
}

unsigned
tty_sandbox_needs(void)
{
	struct tty_backend *tb;
	unsigned needs = 0;

	pthread_mutex_lock(&tty_list_mtx);
	for (tb = tty_list; tb != NULL; tb = tb->tb_next) {
		if (tb->tb_fifo != NULL)
			needs |= SANDBOX_NEED_FIFO;
		if (tb->tb_unlink != NULL)
			needs |= SANDBOX_NEED_UNLINK;
	}
	pthread_mutex_unlock(&tty_list_mtx);
	return (needs);
}

static void
tty_atexit(void)
{
	struct tty_backend *tb;

	/* Output the guest already wrote is not lost by exiting now. */
	tty_drain_exit();
	tty_restore_all();
	pthread_mutex_lock(&tty_list_mtx);
	for (tb = tty_list; tb != NULL; tb = tb->tb_next)
		if (tb->tb_unlink != NULL)
			(void)unlink(tb->tb_unlink);
	pthread_mutex_unlock(&tty_list_mtx);
}

static void
tty_global_init(void)
{
	struct sigaction sa;

	(void)atexit(tty_atexit);
	/*
	 * A console reader going away (a closed pipe or pty) must not kill
	 * the VM: with SIGPIPE ignored, write() fails with EPIPE and the
	 * output is discarded.  Sockets use MSG_NOSIGNAL regardless.
	 */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		(void)signal(SIGPIPE, SIG_IGN);
}

/* Raw mode as bhyve's ttyopen(): cfmakeraw (OPOST off too) plus CLOCAL. */
static int
tty_make_raw(int fd, struct termios *orig)
{
	struct termios t;

	if (tcgetattr(fd, orig) < 0)
		return (-errno);
	t = *orig;
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL;
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return (-errno);
	return (0);
}

/* Drop the connected client; called with tb_mtx held. */
void
tty_drop_client(struct tty_backend *tb)
{
	if (tb->tb_rev != NULL)
		(void)mevent_delete(tb->tb_rev);
	if (tb->tb_wev != NULL)
		(void)mevent_delete(tb->tb_wev);
	tb->tb_rev = tb->tb_wev = NULL;
	if (tb->tb_ifd >= 0)
		close(tb->tb_ifd);
	if (tb->tb_ofd >= 0)
		close(tb->tb_ofd);
	tb->tb_ifd = tb->tb_ofd = -1;
	tb->tb_in_hup = false;
	tty_out_reset(tb);
	tb->tb_deferred |= TTY_EV_PEER;
	log_info("%s: client disconnected", tb->tb_name);
}

/* Input ended (EOF or error on a terminal or stdin); tb_mtx held. */
static void
tty_stop_input(struct tty_backend *tb, int error)
{
	if (tb->tb_sock) {
		tty_drop_client(tb);
		return;
	}
	if (error != 0)
		log_warnx("%s: input: %s; no more input", tb->tb_name,
		    strerror(error));
	else
		log_info("%s: end of input", tb->tb_name);
	if (tb->tb_rev != NULL)
		(void)mevent_delete(tb->tb_rev);
	tb->tb_rev = NULL;
	if (tb->tb_ifd >= 0)
		close(tb->tb_ifd);
	tb->tb_ifd = -1;
}

size_t
tty_read(struct tty_backend *tb, uint8_t *buf, size_t len)
{
	ssize_t n;
	size_t got = 0;

	pthread_mutex_lock(&tb->tb_mtx);
	while (tb->tb_ifd >= 0 && len > 0) {
		if (tb->tb_sock)
			n = recv(tb->tb_ifd, buf, len, MSG_DONTWAIT);
		else
			n = read(tb->tb_ifd, buf, len);
		if (n > 0) {
			got = (size_t)n;
			break;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		tty_stop_input(tb, n < 0 ? errno : 0);
	}
	pthread_mutex_unlock(&tb->tb_mtx);
	return (got);
}

void
tty_set_input(struct tty_backend *tb, bool on)
{
	pthread_mutex_lock(&tb->tb_mtx);
	if (tb->tb_in_on != on) {
		tb->tb_in_on = on;
		if (tb->tb_rev != NULL)
			(void)(on ? mevent_enable(tb->tb_rev) :
			    mevent_disable(tb->tb_rev));
	}
	pthread_mutex_unlock(&tb->tb_mtx);
}

void
tty_notify(struct tty_backend *tb, unsigned ev)
{
	int i;

	/* Bounded: each round only reports what the previous one caused. */
	for (i = 0; i < 4 && ev != 0; i++) {
		tb->tb_notify(tb->tb_arg, ev);
		pthread_mutex_lock(&tb->tb_mtx);
		ev = tb->tb_deferred;
		tb->tb_deferred = 0;
		pthread_mutex_unlock(&tb->tb_mtx);
	}
}

/*
 * Input is ready, or (EVF_HANGUP) the peer hung up while the owner wants
 * no input.  A client that has gone is dropped at once, its unread input
 * with it, so that the next one can connect.  Stdin or a terminal keeps
 * what is still unread: the owner reads it once it has room, and the end
 * of file after it stops input (tty_read).
 */
static void
tty_read_cb(int fd, enum ev_type type, void *arg)
{
	struct tty_backend *tb = arg;
	unsigned ev;

	if (type != EVF_HANGUP) {
		tty_notify(tb, TTY_EV_INPUT);
		return;
	}
	pthread_mutex_lock(&tb->tb_mtx);
	if (tb->tb_sock) {
		tty_drop_client(tb);
	} else if (!tb->tb_in_hup) {
		tb->tb_in_hup = true;
		log_info("%s: input hung up; what is unread is kept for the "
		    "guest", tb->tb_name);
	}
	ev = tb->tb_deferred;
	tb->tb_deferred = 0;
	pthread_mutex_unlock(&tb->tb_mtx);
	tty_notify(tb, ev);
}

/* Register the client's (or terminal's) events; tb_mtx held. */
int
tty_add_events(struct tty_backend *tb)
{
	if (tb->tb_ifd >= 0) {
		tb->tb_rev = tb->tb_in_on ?
		    mevent_add(tb->tb_ifd, EVF_READ, tty_read_cb, tb) :
		    mevent_add_disabled(tb->tb_ifd, EVF_READ, tty_read_cb, tb);
		if (tb->tb_rev == NULL && errno != EPERM)
			return (-errno);
		if (tb->tb_rev == NULL) {
			/* Not pollable (a regular file, /dev/null): no input. */
			close(tb->tb_ifd);
			tb->tb_ifd = -1;
		}
	}
	tb->tb_opoll = false;
	if (tb->tb_ofd >= 0) {
		tb->tb_wev = mevent_add_disabled(tb->tb_ofd, EVF_WRITE,
		    tty_write_cb, tb);
		if (tb->tb_wev == NULL && errno != EPERM)
			return (-errno);
		/* EPERM: a file; writes to it complete synchronously. */
		tb->tb_opoll = tb->tb_wev != NULL;
	}
	return (0);
}

/*
 * A private, non-blocking open file description for stdio fd (see the top
 * of the file); -1 if fd is closed.
 */
static int
tty_stdio_fd(int fd, int mode)
{
	struct stat st;
	char path[32];
	int nfd, fl;

	if (fstat(fd, &st) < 0)
		return (-1);
	if (S_ISREG(st.st_mode))	/* never blocks; keep the offset */
		return (fcntl(fd, F_DUPFD_CLOEXEC, 0));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, mode | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (nfd >= 0)
		return (nfd);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return (-1);
	if (!tty_fl_saved[fd]) {
		tty_orig_fl[fd] = fl;
		tty_fl_saved[fd] = 1;
	}
	(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return (fcntl(fd, F_DUPFD_CLOEXEC, 0));
}

static int
tty_open_stdio(struct tty_backend *tb)
{
	struct termios orig;
	int error;

	pthread_mutex_lock(&tty_list_mtx);
	if (tty_stdio_used) {
		pthread_mutex_unlock(&tty_list_mtx);
		log_warnx("%s: stdio is already used by another device",
		    tb->tb_name);
		return (-EBUSY);
	}
	tty_stdio_used = true;
	pthread_mutex_unlock(&tty_list_mtx);
	tb->tb_stdio = true;
	tb->tb_ifd = tty_stdio_fd(STDIN_FILENO, O_RDONLY);
	tb->tb_ofd = tty_stdio_fd(STDOUT_FILENO, O_WRONLY);
	if (tb->tb_ifd >= 0 && isatty(STDIN_FILENO) && !tty_tios_saved) {
		error = tty_make_raw(STDIN_FILENO, &orig);
		if (error != 0) {
			log_warnx("%s: cannot set raw mode: %s", tb->tb_name,
			    strerror(-error));
			return (error);
		}
		tty_orig_tios = orig;
		tty_tios_saved = 1;
	}
	return (0);
}

/*
 * A FIFO receives output only (reading it would echo our own output), and
 * is opened write-only without blocking (tty_fifo_open()): with no reader
 * yet, output is discarded and the open is retried when output comes, at
 * most once a second.
 */
static int
tty_open_fifo(struct tty_backend *tb, const char *path)
{
	int error;

	tb->tb_fifo = strdup(path);
	if (tb->tb_fifo == NULL) {
		log_warnx("%s: out of memory", tb->tb_name);
		return (-ENOMEM);
	}
	tb->tb_ofd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (tb->tb_ofd >= 0)
		return (0);
	if (errno != ENXIO) {
		error = -errno;
		log_warnx("%s: cannot open: %s", tb->tb_name, strerror(errno));
		return (error);
	}
	log_warnx("%s: the FIFO has no reader yet; output is discarded until "
	    "one opens it", tb->tb_name);
	tb->tb_fifo_retry_ns = tty_now_ns() + 1000000000ULL;
	return (0);
}

static int
tty_open_path(struct tty_backend *tb, const char *path)
{
	struct stat st;
	int fd, error;

	if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		return (tty_open_fifo(tb, path));
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
		    O_NOCTTY | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) < 0) {
		error = -errno;
		log_warnx("%s: cannot open: %s", tb->tb_name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return (error);
	}
	if (S_ISREG(st.st_mode)) {
		(void)fcntl(fd, F_SETFL, O_APPEND);
		tb->tb_ofd = fd;		/* output only */
		return (0);
	}
	if (S_ISFIFO(st.st_mode)) {		/* it became one meanwhile */
		close(fd);
		return (tty_open_fifo(tb, path));
	}
	tb->tb_ifd = fd;
	tb->tb_ofd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (tb->tb_ofd < 0) {
		error = -errno;
		log_warnx("%s: dup: %s", tb->tb_name, strerror(errno));
		return (error);
	}
	if (isatty(fd)) {
		error = tty_make_raw(fd, &tb->tb_tios);
		if (error != 0) {
			log_warnx("%s: cannot set raw mode: %s", tb->tb_name,
			    strerror(-error));
			return (error);
		}
		tb->tb_tios_saved = true;
	}
	return (0);
}

/* Undo whatever tty_open got done, then free. */
static void
tty_free(struct tty_backend *tb)
{
	if (tb->tb_lev != NULL)
		(void)mevent_delete(tb->tb_lev);
	if (tb->tb_rev != NULL)
		(void)mevent_delete(tb->tb_rev);
	if (tb->tb_wev != NULL)
		(void)mevent_delete(tb->tb_wev);
	if (tb->tb_tev != NULL)
		(void)mevent_delete(tb->tb_tev);
	if (tb->tb_tios_saved && tb->tb_ifd >= 0)
		(void)tcsetattr(tb->tb_ifd, TCSANOW, &tb->tb_tios);
	if (tb->tb_ifd >= 0)
		close(tb->tb_ifd);
	if (tb->tb_ofd >= 0)
		close(tb->tb_ofd);
	if (tb->tb_lfd >= 0)
		close(tb->tb_lfd);
	tty_unlink_unregister(tb->tb_unlink_slot);
	if (tb->tb_unlink != NULL)
		(void)unlink(tb->tb_unlink);
	if (tb->tb_stdio) {
		tty_restore_all();
		tty_tios_saved = 0;
		tty_fl_saved[0] = tty_fl_saved[1] = 0;
		pthread_mutex_lock(&tty_list_mtx);
		tty_stdio_used = false;
		pthread_mutex_unlock(&tty_list_mtx);
	}
	pthread_mutex_destroy(&tb->tb_mtx);
	free(tb->tb_unlink);
	free(tb->tb_fifo);
	free(tb->tb_obuf);
	free(tb->tb_name);
	free(tb);
}

int
tty_open(const char *spec, const char *owner, tty_notify_t notify,
    void *arg, struct tty_backend **tbp)
{
	struct tty_backend *tb;
	size_t kw;
	int error;

	*tbp = NULL;
	if (spec == NULL || *spec == '\0' || notify == NULL) {
		log_warnx("%s: empty console backend", owner);
		return (-EINVAL);
	}
	(void)pthread_once(&tty_once, tty_global_init);
	tb = calloc(1, sizeof(*tb));
	if (tb == NULL)
		return (-ENOMEM);
	pthread_mutex_init(&tb->tb_mtx, NULL);
	tb->tb_ifd = tb->tb_ofd = tb->tb_lfd = -1;
	tb->tb_unlink_slot = -1;
	tb->tb_notify = notify;
	tb->tb_arg = arg;
	tb->tb_obuf = malloc(TTY_OUTBUF_SIZE);
	if (tb->tb_obuf == NULL ||
	    asprintf(&tb->tb_name, "%s: %s", owner, spec) < 0) {
		tb->tb_name = NULL;
		tty_free(tb);
		log_warnx("%s: %s: out of memory", owner, spec);
		return (-ENOMEM);
	}

	/* A "word=" prefix names a backend kind; anything else is a path. */
	kw = strspn(spec, "abcdefghijklmnopqrstuvwxyz");
	if (strcmp(spec, "stdio") == 0) {
		error = tty_open_stdio(tb);
	} else if (strncmp(spec, "tcp=", 4) == 0) {
		error = tty_open_tcp(tb, spec + 4);
	} else if (strncmp(spec, "unix=", 5) == 0) {
		error = tty_open_unix(tb, spec + 5);
	} else if (kw > 0 && spec[kw] == '=') {
		log_warnx("%s: unknown backend (want stdio, a path, "
		    "tcp=IP:PORT or unix=PATH)", tb->tb_name);
		error = -EINVAL;
	} else {
		error = tty_open_path(tb, spec);
	}
	if (error == 0) {
		if (tb->tb_lfd >= 0) {
			tb->tb_lev = mevent_add(tb->tb_lfd, EVF_READ,
			    tty_accept_cb, tb);
			error = tb->tb_lev == NULL ? -errno : 0;
		} else {
			error = tty_add_events(tb);
		}
		if (error == 0)
			error = tty_out_init(tb);
		if (error != 0)
			log_warnx("%s: cannot poll: %s", tb->tb_name,
			    strerror(-error));
	}
	if (error != 0) {
		tty_free(tb);
		return (error);
	}
	pthread_mutex_lock(&tty_list_mtx);
	tb->tb_next = tty_list;
	tty_list = tb;
	pthread_mutex_unlock(&tty_list_mtx);
	*tbp = tb;
	return (0);
}

void
tty_close(struct tty_backend *tb)
{
	struct tty_backend **pp;

	if (tb == NULL)
		return;
	pthread_mutex_lock(&tty_list_mtx);
	for (pp = &tty_list; *pp != NULL; pp = &(*pp)->tb_next)
		if (*pp == tb) {
			*pp = tb->tb_next;
			break;
		}
	pthread_mutex_unlock(&tty_list_mtx);
	tty_free(tb);
}
