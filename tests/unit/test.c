/*
 * test.c: the harness behind test.h.
 */
#include <string.h>
#include "test.h"

#define MAX_TESTS	256

int	test_failed;
int	test_skipped;

static struct test_case	tests[MAX_TESTS];
static int		ntests;

void
test_register(const char *name, void (*fn)(void))
{
	if (ntests == MAX_TESTS) {
		fprintf(stderr, "test.c: too many tests\n");
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

int
test_main_impl(const char *file)
{
	const char *base;
	int i, nfail;

	base = strrchr(file, '/');
	base = base != NULL ? base + 1 : file;
	setvbuf(stdout, NULL, _IOLBF, 0);
	nfail = 0;
	for (i = 0; i < ntests; i++) {
		test_failed = 0;
		test_skipped = 0;
		tests[i].fn();
		if (test_failed) {
			printf("FAIL %s:%s\n", base, tests[i].name);
			nfail++;
		} else if (test_skipped)
			printf("SKIP %s:%s\n", base, tests[i].name);
		else
			printf("PASS %s:%s\n", base, tests[i].name);
	}
	return (nfail ? 1 : 0);
}
