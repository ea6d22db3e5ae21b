/*
 * test_config.c: the configuration tree: paths, leaf/node rules,
 * %(var) expansion, typed getters, -o/-k parsing and the dump format.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "config.h"
#include "test.h"

/* Run fn with stderr sent to a buffer; returns the text (static). */
static const char *
capture_stderr(void (*fn)(void *), void *arg)
{
	static char buf[4096];
	FILE *tmp;
	size_t n;
	int saved;

	fflush(stderr);
	tmp = tmpfile();
	saved = dup(2);
	dup2(fileno(tmp), 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return (buf);
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return (n);
}

static char *
write_temp_n(const char *text, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/khyve-test-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return (NULL);
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return (NULL);
	}
	close(fd);
	return (path);
}

static char *
write_temp(const char *text)
{
	return (write_temp_n(text, strlen(text)));
}

struct get_arg {
	const char	*key;	/* in: key to read */
	const char	*val;	/* out: config_get() */
};

static void
get_quiet(void *arg)
{
	struct get_arg *g = arg;

	g->val = config_get(NULL, g->key);
}

TEST(set_get)
{
	config_init();
	CHECK(config_get(NULL, "name") == NULL);
	CHECK_EQ(config_set(NULL, "name", "vm1"), 0);
	CHECK_STR(config_get(NULL, "name"), "vm1");
	CHECK_EQ(config_set(NULL, "name", "vm2"), 0);
	CHECK_STR(config_get(NULL, "name"), "vm2");
	CHECK_EQ(config_set_default(NULL, "name", "vm3"), 0);
	CHECK_STR(config_get(NULL, "name"), "vm2");
	CHECK_EQ(config_set_default(NULL, "memory.size", "1G"), 0);
	CHECK_STR(config_get(NULL, "memory.size"), "1G");
	CHECK_EQ(config_set_bool(NULL, "x86.x2apic", true), 0);
	CHECK_STR(config_get(NULL, "x86.x2apic"), "true");
	CHECK_EQ(config_set_bool(NULL, "x86.x2apic", false), 0);
	CHECK_STR(config_get(NULL, "x86.x2apic"), "false");
	CHECK_EQ(config_set(NULL, "empty", ""), 0);
	CHECK_STR(config_get(NULL, "empty"), "");
	CHECK_EQ(config_unset(NULL, "name"), 0);
	CHECK(config_get(NULL, "name") == NULL);
	CHECK_EQ(config_unset(NULL, "name"), -ENOENT);
	CHECK_EQ(config_unset(NULL, "x86"), -ENOENT);	/* a node */
	/* config_init() empties the tree. */
	config_init();
	CHECK(config_get(NULL, "memory.size") == NULL);
	CHECK(config_node_first(NULL) == NULL);
}

TEST(nested_paths)
{
	struct config_node *n, *m;
	char buf[64];

	config_init();
	CHECK_EQ(config_set(NULL, "pci.0.3.0.device", "hostbridge"), 0);
	n = config_find_node(NULL, "pci.0.3.0");
	CHECK(n != NULL);
	CHECK_STR(config_get(n, "device"), "hostbridge");
	CHECK_EQ(config_set(n, "pcireg.vendor", "0x1234"), 0);
	CHECK_STR(config_get(NULL, "pci.0.3.0.pcireg.vendor"), "0x1234");
	m = config_find_node(NULL, "pci.0");
	CHECK(m != NULL);
	CHECK(config_find_node(m, "3.0") == n);
	CHECK_STR(config_node_path(n, buf, sizeof(buf)), "pci.0.3.0");
	CHECK_STR(config_node_path(config_root(), buf, sizeof(buf)), "");
	/* Truncation keeps a terminated prefix. */
	CHECK_STR(config_node_path(n, buf, 6), "pci.0");
	CHECK_STR(config_node_name(n), "0");
	CHECK(!config_node_is_leaf(n));
	CHECK(config_node_is_leaf(config_node_first(n)));
	/* create_node finds existing nodes and makes missing ones. */
	CHECK(config_create_node(NULL, "pci.0.3.0") == n);
	m = config_create_node(NULL, "lpc.com1");
	CHECK(m != NULL && config_find_node(NULL, "lpc.com1") == m);
	CHECK(config_find_node(NULL, "nope") == NULL);
	CHECK(config_find_node(NULL, "pci.0.9") == NULL);
}

TEST(malformed_paths)
{
	config_init();
	CHECK_EQ(config_set(NULL, "", "x"), -EINVAL);
	CHECK_EQ(config_set(NULL, ".a", "x"), -EINVAL);
	CHECK_EQ(config_set(NULL, "a.", "x"), -EINVAL);
	CHECK_EQ(config_set(NULL, "a..b", "x"), -EINVAL);
	CHECK_EQ(config_set(NULL, ".", "x"), -EINVAL);
	CHECK(config_create_node(NULL, "a..b") == NULL);
	CHECK(config_find_node(NULL, "") == NULL);
	CHECK(config_get(NULL, "a..b") == NULL);
	/* Nothing was created by the failed calls. */
	CHECK(config_node_first(NULL) == NULL);
}

TEST(leaf_node_conflicts)
{
	struct config_node *n;

	config_init();
	CHECK_EQ(config_set(NULL, "a.b", "1"), 0);
	/* A node with children cannot become a leaf. */
	CHECK_EQ(config_set(NULL, "a", "x"), -EINVAL);
	/* A leaf cannot get children. */
	CHECK_EQ(config_set(NULL, "a.b.c", "x"), -EINVAL);
	CHECK(config_create_node(NULL, "a.b") == NULL);
	CHECK(config_create_node(NULL, "a.b.c") == NULL);
	CHECK(config_find_node(NULL, "a.b") == NULL);	/* names a leaf */
	CHECK(config_get(NULL, "a") == NULL);		/* names a node */
	CHECK_STR(config_get(NULL, "a.b"), "1");
	/* A leaf as parent has no children. */
	n = config_find_node(NULL, "a");
	CHECK(config_get(config_node_first(n), "x") == NULL);
	/* An empty node may become a leaf. */
	CHECK(config_create_node(NULL, "e") != NULL);
	CHECK_EQ(config_set(NULL, "e", "v"), 0);
	CHECK_STR(config_get(NULL, "e"), "v");
}

TEST(children_sorted)
{
	static const char *const want[] = { "2", "10", "31", "+x", "a", "b" };
	struct config_node *n;
	size_t i = 0;

	config_init();
	CHECK_EQ(config_set(NULL, "p.b", "1"), 0);
	CHECK_EQ(config_set(NULL, "p.31", "1"), 0);
	CHECK_EQ(config_set(NULL, "p.a", "1"), 0);
	CHECK_EQ(config_set(NULL, "p.10", "1"), 0);
	CHECK_EQ(config_set(NULL, "p.2", "1"), 0);
	CHECK_EQ(config_set(NULL, "p.+x", "1"), 0);
	for (n = config_node_first(config_find_node(NULL, "p")); n != NULL;
	    n = config_node_next(n), i++)
		CHECK(i < nitems(want) && strcmp(config_node_name(n),
		    want[i]) == 0);
	CHECK_EQ(i, nitems(want));
}

TEST(expansion)
{
	config_init();
	CHECK_EQ(config_set(NULL, "name", "vm1"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.2.0.path", "/dev/zvol/%(name)"), 0);
	CHECK_STR(config_get(NULL, "pci.0.2.0.path"), "/dev/zvol/vm1");
	CHECK_STR(config_get_raw(NULL, "pci.0.2.0.path"), "/dev/zvol/%(name)");
	/* Relative to a node, references still resolve from the root. */
	CHECK_STR(config_get(config_find_node(NULL, "pci.0.2"), "0.path"),
	    "/dev/zvol/vm1");
	/* Nested references and several in one value. */
	CHECK_EQ(config_set(NULL, "dir", "/vms/%(name)"), 0);
	CHECK_EQ(config_set(NULL, "img", "%(dir)/%(name).img"), 0);
	CHECK_STR(config_get(NULL, "img"), "/vms/vm1/vm1.img");
	/* %% is a literal %; a lone % or an unterminated %( stays. */
	CHECK_EQ(config_set(NULL, "pct", "100%% of %(name)"), 0);
	CHECK_STR(config_get(NULL, "pct"), "100% of vm1");
	CHECK_EQ(config_set(NULL, "pct", "%%(name)"), 0);
	CHECK_STR(config_get(NULL, "pct"), "%(name)");
	CHECK_EQ(config_set(NULL, "pct", "50% %(name"), 0);
	CHECK_STR(config_get(NULL, "pct"), "50% %(name");
	CHECK_EQ(config_set(NULL, "pct", "a%()b%"), 0);
	CHECK_STR(config_get(NULL, "pct"), "a%()b%");
	/* A referenced value changes: the new value is seen. */
	CHECK_EQ(config_set(NULL, "name", "vm2"), 0);
	CHECK_STR(config_get(NULL, "img"), "/vms/vm2/vm2.img");
}

TEST(expansion_pointer_stability)
{
	const char *p1, *p2;

	config_init();
	CHECK_EQ(config_set(NULL, "name", "one"), 0);
	CHECK_EQ(config_set(NULL, "path", "/x/%(name)"), 0);
	p1 = config_get(NULL, "path");
	CHECK_STR(p1, "/x/one");
	CHECK(config_get(NULL, "path") == p1);
	/* A change elsewhere must not free what was handed out. */
	CHECK_EQ(config_set(NULL, "name", "two"), 0);
	p2 = config_get(NULL, "path");
	CHECK_STR(p2, "/x/two");
	CHECK_STR(p1, "/x/one");
}

static void
get_bad_refs(void *arg)
{
	const char **out = arg;

	out[0] = config_get(NULL, "unset");
	out[1] = config_get(NULL, "unset");
	out[2] = config_get(NULL, "a");
	out[3] = config_get(NULL, "self");
	out[4] = config_get(NULL, "a");
}

TEST(expansion_unset_and_loops)
{
	const char *got[5], *err;

	config_init();
	CHECK_EQ(config_set(NULL, "unset", "x%(nope)y"), 0);
	CHECK_EQ(config_set(NULL, "a", "A%(b)"), 0);
	CHECK_EQ(config_set(NULL, "b", "B%(a)"), 0);
	CHECK_EQ(config_set(NULL, "self", "<%(self)>"), 0);
	err = capture_stderr(get_bad_refs, got);
	CHECK_STR(got[0], "x%(nope)y");
	CHECK_STR(got[1], "x%(nope)y");
	/* The reference whose value loops is left as written. */
	CHECK_STR(got[2], "A%(b)");
	CHECK_STR(got[3], "<%(self)>");
	CHECK_STR(got[4], "A%(b)");
	/* One warning per leaf, not per read. */
	CHECK_EQ(count_lines(err), 3);
	CHECK(strstr(err, "config: unset: %(nope) is not set") != NULL);
	CHECK(strstr(err, "config: self: %(self) refers to itself") != NULL);
	/* Too deep a chain (no loop) is also left as written. */
	config_init();
	for (int i = 0; i < 20; i++) {
		char k[16], v[16];

		snprintf(k, sizeof(k), "v%d", i);
		snprintf(v, sizeof(v), "%%(v%d)", i + 1);
		CHECK_EQ(config_set(NULL, k, v), 0);
	}
	CHECK_EQ(config_set(NULL, "v20", "end"), 0);
	CHECK_STR(config_get(NULL, "v10"), "end");
	{
		struct get_arg g = { "v0", NULL };

		err = capture_stderr(get_quiet, &g);
		CHECK_STR(g.val, "%(v1)");
		CHECK(strstr(err, "nests too deeply") != NULL);
	}
}

TEST(expansion_blowup_bounded)
{
	char k[16], v[64];
	const char *r;
	int i;

	/* Each level doubles: 2^30 bytes if unbounded. */
	config_init();
	CHECK_EQ(config_set(NULL, "l15", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), 0);
	for (i = 14; i >= 0; i--) {
		snprintf(k, sizeof(k), "l%d", i);
		snprintf(v, sizeof(v), "%%(l%d)%%(l%d)", i + 1, i + 1);
		CHECK_EQ(config_set(NULL, k, v), 0);
	}
	CHECK_EQ(strlen(config_get(NULL, "l5")), 32 * 1024);
	{
		struct get_arg g = { "l0", NULL };
		const char *err = capture_stderr(get_quiet, &g);

		r = g.val;
		CHECK_STR(r, "%(l1)%(l1)");
		CHECK(strstr(err, "too large") != NULL);
	}
}

TEST(typed_bool)
{
	static const char *const yes[] = { "true", "TRUE", "on", "Yes", "1" };
	static const char *const no[] = { "false", "Off", "no", "NO", "0" };
	static const char *const bad[] = { "", "2", "truex", "y", " true",
	    "enable" };
	size_t i;
	bool b;

	for (i = 0; i < nitems(yes); i++) {
		b = false;
		CHECK_EQ(config_parse_bool(yes[i], &b), 0);
		CHECK(b);
	}
	for (i = 0; i < nitems(no); i++) {
		b = true;
		CHECK_EQ(config_parse_bool(no[i], &b), 0);
		CHECK(!b);
	}
	for (i = 0; i < nitems(bad); i++)
		CHECK_EQ(config_parse_bool(bad[i], &b), -EINVAL);
	config_init();
	b = false;
	CHECK_EQ(config_get_bool(NULL, "x", true, &b), 0);
	CHECK(b);
	CHECK_EQ(config_set(NULL, "x", "off"), 0);
	CHECK_EQ(config_get_bool(NULL, "x", true, &b), 0);
	CHECK(!b);
	CHECK_EQ(config_set(NULL, "flag", "%(x)"), 0);
	b = true;
	CHECK_EQ(config_get_bool(NULL, "flag", true, &b), 0);
	CHECK(!b);
	CHECK_EQ(config_set(NULL, "x", "maybe"), 0);
	b = true;
	CHECK_EQ(config_get_bool(NULL, "x", true, &b), -EINVAL);
	CHECK(b);				/* nothing stored */
}

TEST(typed_int)
{
	int64_t i;
	uint64_t u;

	config_init();
	CHECK_EQ(config_get_int64(NULL, "n", -7, &i), 0);
	CHECK_EQ(i, -7);
	CHECK_EQ(config_get_uint64(NULL, "n", 9, &u), 0);
	CHECK_EQ(u, 9);
#define SETI(v, want) do {						\
	CHECK_EQ(config_set(NULL, "n", v), 0);				\
	CHECK_EQ(config_get_int64(NULL, "n", 0, &i), 0);		\
	CHECK_EQ(i, want);						\
} while (0)
#define BADI(v) do {							\
	CHECK_EQ(config_set(NULL, "n", v), 0);				\
	CHECK_EQ(config_get_int64(NULL, "n", 0, &i), -EINVAL);		\
} while (0)
	SETI("42", 42);
	SETI("-42", -42);
	SETI("0x1275", 0x1275);
	SETI("010", 8);
	SETI("9223372036854775807", INT64_MAX);
	SETI("-9223372036854775808", INT64_MIN);
	BADI("9223372036854775808");
	BADI("-9223372036854775809");
	BADI("");
	BADI("12a");
	BADI(" 1");
	BADI("1 ");
	BADI("0x");
	BADI("08");
	CHECK_EQ(config_set(NULL, "n", "18446744073709551615"), 0);
	CHECK_EQ(config_get_uint64(NULL, "n", 0, &u), 0);
	CHECK(u == UINT64_MAX);
	CHECK_EQ(config_set(NULL, "n", "18446744073709551616"), 0);
	CHECK_EQ(config_get_uint64(NULL, "n", 0, &u), -EINVAL);
	CHECK_EQ(config_set(NULL, "n", "-1"), 0);
	CHECK_EQ(config_get_uint64(NULL, "n", 0, &u), -EINVAL);
	CHECK_EQ(config_set(NULL, "n", "0x10"), 0);
	CHECK_EQ(config_get_uint64(NULL, "n", 0, &u), 0);
	CHECK_EQ(u, 16);
#undef SETI
#undef BADI
}

TEST(parse_size)
{
	static const struct {
		const char	*s;
		uint64_t	unit, want;
	} good[] = {
		{ "256", MiB, 256 * MiB },
		{ "256", 1, 256 },
		{ "0", MiB, 0 },
		{ "256M", 1, 256 * MiB },
		{ "256m", 1, 256 * MiB },
		{ "256MB", 1, 256 * MiB },
		{ "256mib", 1, 256 * MiB },
		{ "4k", MiB, 4 * KiB },
		{ "4KB", MiB, 4 * KiB },
		{ "2G", 1, 2 * GiB },
		{ "2gb", 1, 2 * GiB },
		{ "1T", 1, 1024 * GiB },
		{ "512B", MiB, 512 },
		{ "0x10M", 1, 16 * MiB },
		{ "16777215T", 1, 16777215ULL << 40 },
		{ "18446744073709551615", 1, UINT64_MAX },
	};
	static const char *const bad[] = {
		"", "M", "-1", "-1M", " 1M", "1M ", "1.5G", "1X", "1MBB", "1BB",
		"1Mi", "16777216T", "18446744073709551616", "0x", "0xM",
		"17592186044416M", "+1",
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < nitems(good); i++) {
		v = 1;
		CHECK_EQ(config_parse_size(good[i].s, good[i].unit, &v), 0);
		CHECK(v == good[i].want);
	}
	for (i = 0; i < nitems(bad); i++) {
		v = 7;
		CHECK_EQ(config_parse_size(bad[i], 1, &v), -EINVAL);
		CHECK_EQ(v, 7);
	}
	/* A bare number of MiB that overflows. */
	CHECK_EQ(config_parse_size("17592186044416", MiB, &v), -EINVAL);
	config_init();
	CHECK_EQ(config_get_size(NULL, "memory.size", 256 * MiB, MiB, &v), 0);
	CHECK(v == 256 * MiB);
	CHECK_EQ(config_set(NULL, "memory.size", "1G"), 0);
	CHECK_EQ(config_get_size(NULL, "memory.size", 0, MiB, &v), 0);
	CHECK(v == GiB);
	CHECK_EQ(config_set(NULL, "memory.size", "lots"), 0);
	CHECK_EQ(config_get_size(NULL, "memory.size", 0, MiB, &v), -EINVAL);
}

/* Run fn in a child; returns its exit status, or -1 if it did not exit. */
static int
child_status(void (*fn)(void))
{
	int st;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 2);
		fn();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return (-1);
	return (WEXITSTATUS(st));
}

static void bad_bool(void) { (void)config_bool(NULL, "b", false); }
static void bad_uint(void) { (void)config_uint64(NULL, "u", 0); }
static void bad_int(void) { (void)config_int64(NULL, "i", 0); }
static void bad_node(void)
{
	(void)config_bool(config_find_node(NULL, "pci.0.1.0"), "x", 0);
}

TEST(fatal_getters)
{
	config_init();
	CHECK(config_bool(NULL, "b", true));
	CHECK_EQ(config_uint64(NULL, "u", 5), 5);
	CHECK_EQ(config_int64(NULL, "i", -5), -5);
	CHECK_EQ(config_set(NULL, "b", "yes"), 0);
	CHECK_EQ(config_set(NULL, "u", "0x20"), 0);
	CHECK_EQ(config_set(NULL, "i", "-3"), 0);
	CHECK(config_bool(NULL, "b", false));
	CHECK_EQ(config_uint64(NULL, "u", 0), 32);
	CHECK_EQ(config_int64(NULL, "i", 0), -3);
	CHECK_EQ(child_status(bad_bool), 0);	/* still good */
	CHECK_EQ(config_set(NULL, "b", "sure"), 0);
	CHECK_EQ(config_set(NULL, "u", "-1"), 0);
	CHECK_EQ(config_set(NULL, "i", "ten"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.1.0.x", "2"), 0);
	CHECK_EQ(child_status(bad_bool), 64);
	CHECK_EQ(child_status(bad_uint), 64);
	CHECK_EQ(child_status(bad_int), 64);
	CHECK_EQ(child_status(bad_node), 64);
}

TEST(parse_assignment)
{
	config_init();
	CHECK_EQ(config_parse_assignment("a.b=c"), 0);
	CHECK_STR(config_get(NULL, "a.b"), "c");
	CHECK_EQ(config_parse_assignment("a.b=x=y"), 0);
	CHECK_STR(config_get(NULL, "a.b"), "x=y");
	CHECK_EQ(config_parse_assignment("a.b"), -EINVAL);
	CHECK_EQ(config_parse_assignment("=v"), -EINVAL);
	CHECK_EQ(config_parse_assignment("k="), -EINVAL);
	CHECK_EQ(config_parse_assignment("a b=c"), -EINVAL);
	CHECK_EQ(config_parse_assignment("a..b=c"), -EINVAL);
	CHECK_EQ(config_parse_assignment("a=c"), -EINVAL);	/* a is a node */
	CHECK_EQ(config_parse_assignment("a.b.c=d"), -EINVAL);	/* a.b is a leaf */
	CHECK_STR(config_get(NULL, "a.b"), "x=y");
}

struct load_arg {
	const char	*path;	/* in: file to load */
	int		rc;	/* out: config_load_file() */
};

static void
load(void *arg)
{
	struct load_arg *l = arg;

	l->rc = config_load_file(l->path);
}

TEST(load_file)
{
	struct load_arg la;
	const char *err;
	char *path;

	config_init();
	CHECK_EQ(config_set(NULL, "cpus", "1"), 0);
	path = write_temp("# a comment\n"
	    "\n"
	    "name=vm1\n"
	    "   \n"
	    "  # indented comment\n"
	    "cpus=2\r\n"
	    "pci.0.2.0.path=/img/%(name)=x\n"
	    "last=no newline");
	CHECK(path != NULL);
	CHECK_EQ(config_load_file(path), 0);
	CHECK_STR(config_get(NULL, "name"), "vm1");
	CHECK_STR(config_get(NULL, "cpus"), "2");
	CHECK_STR(config_get(NULL, "pci.0.2.0.path"), "/img/vm1=x");
	CHECK_STR(config_get(NULL, "last"), "no newline");
	unlink(path);

	/* A malformed line: an error naming the file and the line. */
	path = write_temp("a=1\n#\nthis is wrong\nb=2\n");
	la.path = path;
	err = capture_stderr(load, &la);
	CHECK_EQ(la.rc, -EINVAL);
	CHECK_EQ(count_lines(err), 1);
	CHECK(strstr(err, path) != NULL);
	CHECK(strstr(err, "line 3") != NULL);
	CHECK(config_get(NULL, "b") == NULL);
	unlink(path);

	/* An empty value, a conflict, a NUL byte, a missing file. */
	la.path = path = write_temp("a=1\nk=\n");
	err = capture_stderr(load, &la);
	CHECK_EQ(la.rc, -EINVAL);
	CHECK(strstr(err, "line 2") != NULL);
	CHECK(strstr(err, "empty value") != NULL);
	unlink(path);
	la.path = path = write_temp("x.y=1\nx=2\n");
	err = capture_stderr(load, &la);
	CHECK_EQ(la.rc, -EINVAL);
	CHECK(strstr(err, "line 2") != NULL);
	unlink(path);
	la.path = path = write_temp_n("a=1\nb=x\0y\n", 10);
	err = capture_stderr(load, &la);
	CHECK_EQ(la.rc, -EINVAL);
	CHECK(strstr(err, "line 2") != NULL);
	CHECK(config_get(NULL, "b") == NULL);
	unlink(path);
	la.path = "/";
	err = capture_stderr(load, &la);
	CHECK_EQ(la.rc, -EIO);
	CHECK(strstr(err, "read error") != NULL);
	la.path = "/nonexistent/khyve.conf";
	err = capture_stderr(load, &la);
	CHECK_EQ(la.rc, -ENOENT);
	CHECK(strstr(err, "/nonexistent/khyve.conf") != NULL);
}

static void
dump_to(void *arg)
{
	config_dump((FILE *)arg);
}

TEST(dump_format)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	config_init();
	CHECK_EQ(config_set(NULL, "name", "vm1"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.10.0.device", "virtio-blk"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.2.0.device", "hostbridge"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.10.0.path", "/x/%(name)"), 0);
	CHECK_EQ(config_set(NULL, "cpus", "2"), 0);
	CHECK(config_create_node(NULL, "empty.node") != NULL);
	CHECK_EQ(config_set(NULL, "z", "last"), 0);
	fp = open_memstream(&text, &len);
	dump_to(fp);
	fclose(fp);
	CHECK_STR(text,
	    "cpus=2\n"
	    "name=vm1\n"
	    "pci.0.2.0.device=hostbridge\n"
	    "pci.0.10.0.device=virtio-blk\n"
	    "pci.0.10.0.path=/x/%(name)\n"
	    "z=last\n");
	free(text);
}

struct walk_rec {
	char	out[256];
};

static void
walk_cb(const char *path, const char *value, void *arg)
{
	struct walk_rec *r = arg;
	size_t l = strlen(r->out);

	snprintf(r->out + l, sizeof(r->out) - l, "[%s=%s]", path, value);
}

TEST(walk_subtree)
{
	struct walk_rec r = { "" };

	config_init();
	CHECK_EQ(config_set(NULL, "pci.0.3.0.device", "lpc"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.3.0.a.b", "1"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.4.0.device", "x"), 0);
	config_walk(config_find_node(NULL, "pci.0.3"), walk_cb, &r);
	CHECK_STR(r.out, "[pci.0.3.0.a.b=1][pci.0.3.0.device=lpc]");
	r.out[0] = '\0';
	config_walk(config_create_node(NULL, "none"), walk_cb, &r);
	CHECK_STR(r.out, "");
}

TEST(deep_tree_freed)
{
	static char path[20001];
	size_t i;

	/* 10000 levels: walk and free must not recurse. */
	for (i = 0; i < 10000; i++) {
		path[2 * i] = 'a';
		path[2 * i + 1] = '.';
	}
	path[19999] = '\0';
	config_init();
	CHECK_EQ(config_set(NULL, path, "v"), 0);
	CHECK_STR(config_get(NULL, path), "v");
	config_fini();
	config_init();
	CHECK(config_node_first(NULL) == NULL);
}

TEST_MAIN()
