/*
 * testproc.h: what tests of backends that run programs or print share:
 * catching khyve's standard error around a call, and looking at the
 * test process's descriptors and children.
 */
#ifndef TESTPROC_H
#define TESTPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The text the last cap_start()..cap_end() caught (NUL-terminated). */
extern char capbuf[8192];

/* Send standard error (fd 2, and so children's) to a file... */
void	cap_start(void);
/* ... and back: returns capbuf, holding what was written meanwhile. */
const char *cap_end(void);

/* Descriptors open in this process. */
int	count_fds(void);
/* No child at all, not even a zombie. */
bool	no_children(void);
/* A child of this process, by scanning /proc: -1 if none. */
pid_t	child_pid(void);
/* The value of line "key:\tvalue" of /proc/pid/status into out. */
bool	proc_status(pid_t pid, const char *key, char *out, size_t len);

#endif /* TESTPROC_H */
