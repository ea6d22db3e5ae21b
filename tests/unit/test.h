/*
 * test.h: a minimal unit-test harness.
 *
 *	TEST(name) { ... CHECK(cond); CHECK_EQ(a, b); ... }
 *	int main(void) { return test_main(); }   -- or TEST_MAIN()
 *
 * Each test prints "PASS <file>:<name>" or "FAIL <file>:<name>" (with the
 * failing checks before it); tests/run-all.sh counts those lines.  A test
 * that cannot run prints "SKIP <file>:<name>: reason" via TEST_SKIP().
 */
#ifndef TEST_H
#define TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char	*name;
	void		(*fn)(void);
};

extern int	test_failed;	/* checks failed in the current test */
extern int	test_skipped;	/* current test called TEST_SKIP */
void	test_register(const char *name, void (*fn)(void));
int	test_main_impl(const char *file);

#define TEST(name)							\
	static void test_##name(void);					\
	__attribute__((constructor)) static void test_reg_##name(void)	\
	{ test_register(#name, test_##name); }				\
	static void test_##name(void)

#define TEST_MAIN()							\
	int main(void) { return (test_main_impl(__FILE__)); }

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		test_failed++;						\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long __a = (long long)(a), __b = (long long)(b);		\
	if (__a != __b) {						\
		printf("  %s:%d: %s == %s failed: %lld (0x%llx) != %lld (0x%llx)\n", \
		    __FILE__, __LINE__, #a, #b, __a, (unsigned long long)__a, \
		    __b, (unsigned long long)__b);			\
		test_failed++;						\
	}								\
} while (0)

#define CHECK_STR(a, b) do {						\
	const char *__a = (a), *__b = (b);				\
	if (__a == NULL || __b == NULL || strcmp(__a, __b) != 0) {	\
		printf("  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n",	\
		    __FILE__, __LINE__, #a, #b, __a ? __a : "(null)",	\
		    __b ? __b : "(null)");				\
		test_failed++;						\
	}								\
} while (0)

#define TEST_SKIP(...) do {						\
	printf("  skip reason: " __VA_ARGS__);				\
	printf("\n");							\
	test_skipped = 1;						\
	return;								\
} while (0)

#endif /* TEST_H */
