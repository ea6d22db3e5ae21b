/*
 * testproc.c: standard error caught around a call, and the test
 * process's descriptors and children (testproc.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "testproc.h"

char capbuf[8192];
static FILE *capfp;
static int capsaved = -1;

void
cap_start(void)
{
	fflush(stderr);
	if ((capfp = tmpfile()) == NULL || (capsaved = dup(2)) < 0)
		abort();
	dup2(fileno(capfp), 2);
}

const char *
cap_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(capsaved, 2);
	close(capsaved);
	rewind(capfp);
	n = fread(capbuf, 1, sizeof(capbuf) - 1, capfp);
	capbuf[n] = '\0';
	fclose(capfp);
	return (capbuf);
}

int
count_fds(void)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return (-1);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return (n - 1);			/* the directory's own */
}

bool
no_children(void)
{
	return (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
}

pid_t
child_pid(void)
{
	char path[300], buf[512], *p;
	struct dirent *e;
	pid_t pid = -1;
	FILE *f;
	DIR *d;
	int ppid;

	if ((d = opendir("/proc")) == NULL)
		return (-1);
	while (pid < 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 1, " %*c %d", &ppid) == 1 && ppid == getpid())
			pid = atoi(e->d_name);
		fclose(f);
	}
	closedir(d);
	return (pid);
}

bool
proc_status(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (false);
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			snprintf(out, len, "%s", line + kl + 1);
			out[strcspn(out, "\n")] = '\0';
			found = true;
		}
	}
	fclose(f);
	return (found);
}
