/*
 * test_opts.c: the command line: what each flag writes into the config
 * tree, and that each bad value is refused with exit status 64 and one
 * message line naming the flag.
 */
#include <errno.h>
#include <stdarg.h>
#include <unistd.h>
#include "config.h"
#include "opts.h"
#include "pci/pci_emul.h"
#include "test.h"

/* Test emulations: one with the default key=value options, one legacy. */
static int
fake_init(struct pci_devinst *pi, struct config_node *nvl)
{
	return (0);
}

static int
fake_legacy(struct config_node *nvl, const char *opts)
{
	if (opts == NULL)
		return (0);
	if (strcmp(opts, "bad") == 0)
		return (-EINVAL);
	return (config_set(nvl, "legacy", opts));
}

static const struct pci_devemu pci_de_testkv = {
	.pe_emu = "test-kv",
	.pe_alias = "test-alias",
	.pe_init = fake_init,
};
PCI_EMUL_SET(pci_de_testkv);

static const struct pci_devemu pci_de_testlegacy = {
	.pe_emu = "test-legacy",
	.pe_init = fake_init,
	.pe_legacy_config = fake_legacy,
};
PCI_EMUL_SET(pci_de_testlegacy);

/* Link the real host bridge so -s hostbridge and -s help see it. */
extern const struct pci_devemu pci_de_hostbridge;

static char out_text[8192];	/* stdout of the last run */
static char err_text[8192];	/* stderr of the last run */

static void
slurp(FILE *tmp, char *buf, size_t len)
{
	size_t n;

	rewind(tmp);
	n = fread(buf, 1, len - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
}

/* Parse "khyve args..." into a fresh tree (NULL-terminated list). */
static int
run(const char *first, ...)
{
	char *argv[64];
	FILE *to, *te;
	int argc = 0, so, se, rc;
	const char *a;
	va_list ap;

	argv[argc++] = strdup("khyve");
	va_start(ap, first);
	for (a = first; a != NULL && argc < 63; a = va_arg(ap, const char *))
		argv[argc++] = strdup(a);
	va_end(ap);
	argv[argc] = NULL;

	config_init();
	fflush(stdout);
	fflush(stderr);
	to = tmpfile();
	te = tmpfile();
	so = dup(1);
	se = dup(2);
	dup2(fileno(to), 1);
	dup2(fileno(te), 2);
	rc = opts_parse(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	slurp(to, out_text, sizeof(out_text));
	slurp(te, err_text, sizeof(err_text));
	while (argc > 0)
		free(argv[--argc]);
	return (rc);
}

static int
lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return (n);
}

/* A usage error: status 64 and exactly one line "khyve: <flag>: ...". */
#define CHECK_USAGE(flag, ...) do {					\
	CHECK_EQ(run(__VA_ARGS__, NULL), 64);				\
	CHECK_EQ(lines(err_text), 1);					\
	CHECK(strncmp(err_text, "khyve: " flag ": ",			\
	    strlen("khyve: " flag ": ")) == 0);				\
	if (strncmp(err_text, "khyve: " flag ": ",			\
	    strlen("khyve: " flag ": ")) != 0)				\
		printf("  got: %.*s\n", (int)strcspn(err_text, "\n"),	\
		    err_text);						\
} while (0)

#define GET(k)	config_get(NULL, k)

TEST(name_only_writes_nothing_else)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	CHECK_EQ(run("vm1", NULL), 0);
	CHECK_STR(err_text, "");
	fp = open_memstream(&text, &len);
	config_dump(fp);
	fclose(fp);
	CHECK_STR(text, "name=vm1\n");
	free(text);
	/* No-op flags. */
	CHECK_EQ(run("-A", "-I", "vm1", NULL), 0);
	CHECK(config_node_next(config_node_first(NULL)) == NULL);
}

TEST(vm_name)
{
	CHECK_USAGE("vmname", "-e");
	CHECK(strstr(err_text, "missing VM name") != NULL);
	CHECK_USAGE("vmname", "a", "b");
	CHECK(strstr(err_text, "only one VM name") != NULL);
	CHECK_USAGE("vmname", "");
	CHECK_EQ(run("-o", "name=fromo", NULL), 0);
	CHECK_STR(GET("name"), "fromo");
	/* The positional name wins over an earlier -o name. */
	CHECK_EQ(run("-o", "name=fromo", "vm2", NULL), 0);
	CHECK_STR(GET("name"), "vm2");
	/* GNU getopt: flags may follow the name. */
	CHECK_EQ(run("vm3", "-e", NULL), 0);
	CHECK_STR(GET("name"), "vm3");
	CHECK_STR(GET("x86.strictio"), "true");
}

TEST(simple_flags)
{
	static const struct {
		const char	*flag, *key, *val;
	} t[] = {
		{ "-a", "x86.x2apic", "false" },
		{ "-C", "memory.guest_in_core", "true" },
		{ "-D", "destroy_on_poweroff", "true" },
		{ "-e", "x86.strictio", "true" },
		{ "-H", "x86.vmexit_on_hlt", "true" },
		{ "-P", "x86.vmexit_on_pause", "true" },
		{ "-S", "memory.wired", "true" },
		{ "-u", "rtc.use_localtime", "false" },
		{ "-w", "x86.strictmsr", "false" },
		{ "-W", "virtio_msix", "false" },
		{ "-x", "x86.x2apic", "true" },
		{ "-Y", "x86.mptable", "false" },
	};
	size_t i;

	for (i = 0; i < nitems(t); i++) {
		CHECK_EQ(run(t[i].flag, "vm", NULL), 0);
		CHECK_STR(GET(t[i].key), t[i].val);
	}
	/* Grouped flags, last wins. */
	CHECK_EQ(run("-xa", "vm", NULL), 0);
	CHECK_STR(GET("x86.x2apic"), "false");
	/* A flag whose key is blocked by an earlier -o is an error. */
	CHECK_USAGE("-e", "-o", "x86=1", "-e", "vm");
}

TEST(unsupported_and_unknown)
{
	CHECK_USAGE("-G", "-G", "1234", "vm");
	CHECK(strstr(err_text, "not supported by khyve") != NULL);
	CHECK_USAGE("-n", "-n", "id=0", "vm");
	CHECK_USAGE("-f", "-f", "name,string=x", "vm");
	CHECK_USAGE("-r", "-r", "file", "vm");
	CHECK_USAGE("-K", "-K", "us", "vm");
	CHECK_USAGE("-Z", "-Z", "vm");
	CHECK(strstr(err_text, "unknown option") != NULL);
	CHECK_USAGE("--bogus", "--bogus", "vm");
	CHECK_USAGE("--bogus", "--bogus=1", "vm");
	CHECK_USAGE("--help", "--help=1", "vm");
	CHECK(strstr(err_text, "takes no argument") != NULL);
	CHECK_USAGE("-m", "vm", "-m");
	CHECK(strstr(err_text, "missing argument") != NULL);
	CHECK_USAGE("--kernel", "vm", "--kernel");
}

TEST(help)
{
	CHECK_EQ(run("-h", NULL), -1);
	CHECK(strncmp(out_text, "Usage: khyve", 12) == 0);
	CHECK_STR(err_text, "");
	CHECK_EQ(run("--help", NULL), -1);
	CHECK(strstr(out_text, "--kernel") != NULL);
	/* -h wins even with other errors pending later. */
	CHECK_EQ(run("-h", "-m", "0", NULL), -1);
}

TEST(topology)
{
	CHECK_EQ(run("-c", "4", "vm", NULL), 0);
	CHECK_STR(GET("cpus"), "4");
	CHECK(GET("sockets") == NULL);		/* the machine uses cpus */
	CHECK_EQ(run("-c", "cpus=3", "vm", NULL), 0);
	CHECK_STR(GET("cpus"), "3");
	CHECK_EQ(run("-c", "sockets=2,cores=3", "vm", NULL), 0);
	CHECK_STR(GET("cpus"), "6");
	CHECK_STR(GET("sockets"), "2");
	CHECK_STR(GET("cores"), "3");
	CHECK_STR(GET("threads"), "1");
	CHECK_EQ(run("-c", "8,sockets=2,cores=2,threads=2", "vm", NULL), 0);
	CHECK_STR(GET("cpus"), "8");
	CHECK_STR(GET("threads"), "2");
	CHECK_EQ(run("-c", "4,cores=4", "vm", NULL), 0);
	CHECK_STR(GET("sockets"), "1");
	CHECK_EQ(run("-c", "", "vm", NULL), 0);
	CHECK_STR(GET("cpus"), "1");
	CHECK_STR(GET("sockets"), "1");
	CHECK_STR(GET("cores"), "1");
	CHECK_STR(GET("threads"), "1");
	CHECK_EQ(run("-c", "65535", "vm", NULL), 0);
	CHECK_STR(GET("cpus"), "65535");
	/* A later -c replaces the whole topology. */
	CHECK_EQ(run("-c", "sockets=2,cores=2", "-c", "3", "vm", NULL), 0);
	CHECK_STR(GET("cpus"), "3");
	CHECK(GET("sockets") == NULL && GET("cores") == NULL);

	CHECK_USAGE("-c", "-c", "0", "vm");
	CHECK_USAGE("-c", "-c", "2,sockets=3", "vm");
	CHECK(strstr(err_text, "do not match") != NULL);
	CHECK_USAGE("-c", "-c", "two", "vm");
	CHECK_USAGE("-c", "-c", "4x", "vm");
	CHECK_USAGE("-c", "-c", "-1", "vm");
	CHECK_USAGE("-c", "-c", "65536", "vm");
	CHECK_USAGE("-c", "-c", "dies=2", "vm");
	CHECK(strstr(err_text, "unknown topology option") != NULL);
	CHECK_USAGE("-c", "-c", "sockets=0", "vm");
	CHECK_USAGE("-c", "-c", "sockets=256,cores=256", "vm");
	CHECK_USAGE("-c", "-c", "2,,sockets=2", "vm");
	CHECK_USAGE("-c", "-c", ",", "vm");
	CHECK_USAGE("-c", "-c", "cpus=", "vm");
	/* Nothing was written by a refused -c. */
	CHECK(GET("cpus") == NULL);
}

TEST(memory)
{
	CHECK_EQ(run("-m", "512", "vm", NULL), 0);
	CHECK_STR(GET("memory.size"), "512");
	CHECK_EQ(run("-m", "2G", "vm", NULL), 0);
	CHECK_STR(GET("memory.size"), "2G");
	CHECK_EQ(run("-m", "1024k", "vm", NULL), 0);
	CHECK_STR(GET("memory.size"), "1024k");
	CHECK_EQ(run("-m", "1", "vm", NULL), 0);
	CHECK_USAGE("-m", "-m", "0", "vm");
	CHECK_USAGE("-m", "-m", "0G", "vm");
	CHECK_USAGE("-m", "-m", "1023K", "vm");
	CHECK(strstr(err_text, "1M") != NULL);
	CHECK_USAGE("-m", "-m", "1026K", "vm");
	CHECK(strstr(err_text, "4K") != NULL);
	CHECK_USAGE("-m", "-m", "lots", "vm");
	CHECK_USAGE("-m", "-m", "-1", "vm");
	CHECK_USAGE("-m", "-m", "", "vm");
	CHECK_USAGE("-m", "-m", "99999999999999999999", "vm");
	CHECK(GET("memory.size") == NULL);
}

TEST(pci_slots)
{
	CHECK(pci_emul_finddev("hostbridge") == &pci_de_hostbridge);
	CHECK_EQ(run("-s", "0,hostbridge", "-s", "31,test-kv", "vm", NULL), 0);
	CHECK_STR(GET("pci.0.0.0.device"), "hostbridge");
	CHECK_STR(GET("pci.0.31.0.device"), "test-kv");
	CHECK_EQ(run("-s", "1:2:3,test-kv,path=/img,ro,pcireg.vendor=0x1234",
	    "vm", NULL), 0);
	CHECK_STR(GET("pci.1.2.3.device"), "test-kv");
	CHECK_STR(GET("pci.1.2.3.path"), "/img");
	CHECK_STR(GET("pci.1.2.3.ro"), "true");
	CHECK_STR(GET("pci.1.2.3.pcireg.vendor"), "0x1234");
	/* slot:func; an alias stores the emulation's own name. */
	CHECK_EQ(run("-s", "4:7,test-alias,", "vm", NULL), 0);
	CHECK_STR(GET("pci.0.4.7.device"), "test-kv");
	CHECK_EQ(run("-s", "255:31:7,test-legacy,hello=x,y", "vm", NULL), 0);
	CHECK_STR(GET("pci.255.31.7.device"), "test-legacy");
	CHECK_STR(GET("pci.255.31.7.legacy"), "hello=x,y");
	CHECK_EQ(run("-s", "5,test-legacy", "vm", NULL), 0);
	CHECK(GET("pci.0.5.0.legacy") == NULL);

	CHECK_USAGE("-s", "-s", "3,nosuch", "vm");
	CHECK(strstr(err_text, "unknown emulation") != NULL);
	CHECK(config_find_node(NULL, "pci") == NULL);
	CHECK_USAGE("-s", "-s", "32,test-kv", "vm");
	CHECK_USAGE("-s", "-s", "1:8,test-kv", "vm");
	CHECK_USAGE("-s", "-s", "256:0:0,test-kv", "vm");
	CHECK_USAGE("-s", "-s", "-1,test-kv", "vm");
	CHECK_USAGE("-s", "-s", "x,test-kv", "vm");
	CHECK_USAGE("-s", "-s", "3x,test-kv", "vm");
	CHECK_USAGE("-s", "-s", "1:2:3:4,test-kv", "vm");
	CHECK_USAGE("-s", "-s", ",test-kv", "vm");
	CHECK_USAGE("-s", "-s", "3", "vm");
	CHECK_USAGE("-s", "-s", "3,", "vm");
	CHECK_USAGE("-s", "-s", "3,test-kv", "-s", "3:0,test-kv", "vm");
	CHECK(strstr(err_text, "already occupied") != NULL);
	CHECK_USAGE("-s", "-s", "0:3:0,test-kv", "-s", "3,hostbridge", "vm");
	CHECK_USAGE("-s", "-s", "3,test-kv,device=lpc", "vm");
	CHECK_USAGE("-s", "-s", "3,test-kv,a..b=1", "vm");
	CHECK_EQ(run("-s", "3,test-legacy,bad", "vm", NULL), 64);
}

TEST(pci_help)
{
	CHECK_EQ(run("-s", "help", NULL), -1);
	CHECK(strstr(out_text, "hostbridge\n") != NULL);
	CHECK(strstr(out_text, "test-kv\n") != NULL);
	CHECK(strstr(out_text, "test-legacy\n") != NULL);
	CHECK(strstr(out_text, "test-alias") == NULL);
	CHECK_STR(err_text, "");
}

TEST(lpc)
{
	CHECK_EQ(run("-l", "com1,stdio", "-l", "com2,/dev/pts/3", "-l",
	    "com3,tcp=127.0.0.1:4444", "-l", "COM4,unix=/tmp/s,x", "vm",
	    NULL), 0);
	CHECK_STR(GET("lpc.com1.path"), "stdio");
	CHECK_STR(GET("lpc.com2.path"), "/dev/pts/3");
	CHECK_STR(GET("lpc.com3.path"), "tcp=127.0.0.1:4444");
	CHECK_STR(GET("lpc.com4.path"), "unix=/tmp/s,x");
	CHECK_EQ(run("-l", "help", NULL), -1);
	CHECK_STR(out_text, "com1\ncom2\ncom3\ncom4\n");
	CHECK_USAGE("-l", "-l", "com5,stdio", "vm");
	CHECK(strstr(err_text, "unknown LPC device") != NULL);
	CHECK_USAGE("-l", "-l", "com1", "vm");
	CHECK_USAGE("-l", "-l", "com1,", "vm");
	CHECK_USAGE("-l", "-l", "bootrom,/usr/share/uefi.fd", "vm");
	CHECK(strstr(err_text, "not supported by khyve") != NULL);
	CHECK_USAGE("-l", "-l", "fwcfg=qemu", "vm");
	CHECK_USAGE("-l", "-l", "tpm,type=swtpm", "vm");
	CHECK_USAGE("-l", "-l", "pc-testdev", "vm");
	CHECK_USAGE("-l", "-l", "", "vm");
	CHECK(config_find_node(NULL, "lpc") == NULL);
}

TEST(set_and_file)
{
	char path[] = "/tmp/khyve-opts-XXXXXX";
	const char text[] = "# test\nname=fromfile\ncpus=2\nx.y=%(name)\n";
	int fd;

	CHECK_EQ(run("-o", "a.b=1", "-o", "a.b=2", "-o", "c=x=y", "vm", NULL),
	    0);
	CHECK_STR(GET("a.b"), "2");
	CHECK_STR(GET("c"), "x=y");
	CHECK_USAGE("-o", "-o", "novalue", "vm");
	CHECK(strstr(err_text, "missing '='") != NULL);
	CHECK_USAGE("-o", "-o", "=v", "vm");
	CHECK_USAGE("-o", "-o", "k=", "vm");
	CHECK_USAGE("-o", "-o", "a=1", "-o", "a.b=2", "vm");

	fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	/* -k is read in place: later flags override, earlier are overridden. */
	CHECK_EQ(run("-o", "cpus=9", "-k", path, "-o", "x.y=z", NULL), 0);
	CHECK_STR(GET("name"), "fromfile");
	CHECK_STR(GET("cpus"), "2");
	CHECK_STR(GET("x.y"), "z");
	CHECK_EQ(run("-k", path, "-c", "4", "vm", NULL), 0);
	CHECK_STR(GET("cpus"), "4");
	CHECK_STR(GET("name"), "vm");
	unlink(path);
	CHECK_USAGE("-k", "-k", path, "vm");
}

TEST(uuid)
{
	CHECK_EQ(run("-U", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "vm", NULL),
	    0);
	CHECK_STR(GET("uuid"), "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
	CHECK_EQ(run("-U", "6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "vm", NULL),
	    0);
	CHECK_USAGE("-U", "-U", "6ba7b810-9dad-11d1-80b4-00c04fd430c", "vm");
	CHECK_USAGE("-U", "-U", "6ba7b810-9dad-11d1-80b4-00c04fd430c8a", "vm");
	CHECK_USAGE("-U", "-U", "6ba7b8109dad-11d1-80b4-00c04fd430c8a", "vm");
	CHECK_USAGE("-U", "-U", "6ba7b810-9dad-11d1-80b4-00c04fd430cg", "vm");
	CHECK_USAGE("-U", "-U", "", "vm");
	CHECK(GET("uuid") == NULL);
}

TEST(pincpu)
{
	CHECK_EQ(run("-p", "0:1", "-p", "0:3", "-p", "2:1023", "vm", NULL), 0);
	CHECK_STR(GET("vcpu.0.cpuset"), "1,3");
	CHECK_STR(GET("vcpu.2.cpuset"), "1023");
	CHECK(GET("vcpu.1.cpuset") == NULL);
	CHECK_USAGE("-p", "-p", "0", "vm");
	CHECK_USAGE("-p", "-p", "x:1", "vm");
	CHECK_USAGE("-p", "-p", "0:-1", "vm");
	CHECK_USAGE("-p", "-p", "0:1024", "vm");
	CHECK_USAGE("-p", "-p", "-1:0", "vm");
	CHECK_USAGE("-p", "-p", "65535:0", "vm");
	CHECK_USAGE("-p", "-p", "0:1:2", "vm");
	CHECK_USAGE("-p", "-p", ":1", "vm");
	CHECK_USAGE("-p", "-p", "0:", "vm");
	CHECK(config_find_node(NULL, "vcpu") == NULL);
}

TEST(boot_options)
{
	CHECK_EQ(run("--kernel", "/boot/bzImage", "--initrd=/boot/initrd",
	    "--cmdline", "console=ttyS0 root=/dev/vda", "vm", NULL), 0);
	CHECK_STR(GET("boot.kernel"), "/boot/bzImage");
	CHECK_STR(GET("boot.initrd"), "/boot/initrd");
	CHECK_STR(GET("boot.cmdline"), "console=ttyS0 root=/dev/vda");
	CHECK_EQ(run("--cmdline", "", "vm", NULL), 0);
	CHECK_STR(GET("boot.cmdline"), "");
	CHECK_USAGE("--kernel", "--kernel", "", "vm");
	CHECK_USAGE("--initrd", "--initrd", "", "vm");
}

TEST(repeatable)
{
	int i;

	/* getopt state is reset: the same parse gives the same result. */
	for (i = 0; i < 3; i++) {
		CHECK_EQ(run("-c", "2", "-m", "1G", "vm", NULL), 0);
		CHECK_STR(GET("cpus"), "2");
		CHECK_STR(GET("memory.size"), "1G");
		CHECK_USAGE("-m", "-xm", "0", "vm");
	}
}

TEST_MAIN()
