/*
 * opts.h: the command line (bhyve's amd64 bhyve_optparse()).
 *
 * Every flag only sets keys in the configuration tree (config.h); nothing
 * is opened, created or checked against the host here.  The machine is
 * built from the tree afterwards.
 */
#ifndef OPTS_H
#define OPTS_H

#include <stdio.h>
#include "khyve.h"

/*
 * Parse argv into config keys, in order (-k files are read where they
 * appear; the last setting of a key wins).  The tree must have been set
 * up with config_init().  Returns:
 *   0                  go on and build the machine;
 *   KHYVE_EXIT_USAGE   a bad flag or value: one line "khyve: <flag>:
 *                      <problem>" has been printed on stderr;
 *   -1                 exit 0 now: -h printed the usage on stdout, or
 *                      -s help / -l help printed their lists.
 * Never exits the process and may be called again (it resets getopt),
 * so tests and fuzzers can drive it.  argv may be permuted (GNU getopt).
 */
int	opts_parse(int argc, char **argv) __must_check;

/* Print the usage summary (the -h text) on fp. */
void	opts_usage(FILE *fp);

#endif /* OPTS_H */
