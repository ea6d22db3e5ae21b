/*
 * opts.c: the command line.  The flags and what they set follow bhyve
 * (usr.sbin/bhyve/amd64/bhyverun_machdep.c bhyve_optparse(), bhyverun.c
 * bhyve_topology_parse() and bhyve_pincpu_parse(), bhyve.8); --kernel,
 * --initrd and --cmdline are khyve's direct Linux boot.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config.h"
#include "log.h"
#include "opts.h"
#include "pci/pci_emul.h"

#define OPTS_EXIT_NOW	(-1)		/* help printed: exit 0 */

/* Flags without an argument that set one key. */
static const struct opts_flag {
	int		of_ch;		/* the flag letter */
	const char	*of_key;	/* key it sets */
	const char	*of_val;	/* value it sets */
} opts_flags[] = {
	{ 'a', "x86.x2apic", "false" },
	{ 'C', "memory.guest_in_core", "true" },
	{ 'D', "destroy_on_poweroff", "true" },
	{ 'e', "x86.strictio", "true" },
	{ 'H', "x86.vmexit_on_hlt", "true" },
	{ 'P', "x86.vmexit_on_pause", "true" },
	{ 'S', "memory.wired", "true" },
	{ 'u', "rtc.use_localtime", "false" },
	{ 'w', "x86.strictmsr", "false" },
	{ 'W', "virtio_msix", "false" },
	{ 'x', "x86.x2apic", "true" },
	{ 'Y', "x86.mptable", "false" },
};

/* bhyve flags for features khyve does not have (gdb, NUMA, fw_cfg, ...). */
static const char opts_unsupported[] = "GnfrK";

enum {
	OPT_KERNEL = 0x100,
	OPT_INITRD,
	OPT_CMDLINE,
};

static const struct option opts_long[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Leading ':' so a missing argument is reported as ':' (we print it). */
static const char opts_short[] = ":aehuwxACDHIPSWYk:f:o:p:G:c:s:m:n:l:K:U:r:";

static const char *const lpc_uarts[] = { "com1", "com2", "com3", "com4" };
/* bhyve -l devices khyve does not emulate (pci_lpc.c lpc_device_parse). */
static const char *const lpc_unsupported[] = {
	"bootrom", "fwcfg", "tpm", "pc-testdev",
};

void
opts_usage(FILE *fp)
{
	fprintf(fp,
	    "Usage: khyve [-aCDeHhPSuWwxY]\n"
	    "       [-c [[cpus=]numcpus][,sockets=n][,cores=n][,threads=n]]\n"
	    "       [-k config_file] [-l lpc] [-m mem] [-o var=value]\n"
	    "       [-p vcpu:hostcpu] [-s pci] [-U uuid]\n"
	    "       [--kernel file] [--initrd file] [--cmdline string]\n"
	    "       vmname\n"
	    "\n"
	    "       -a: local APIC in xAPIC mode (the default)\n"
	    "       -A: accepted for compatibility (ACPI tables are always built)\n"
	    "       -c: number of vCPUs and their topology\n"
	    "       -C: include guest memory in core files\n"
	    "       -D: destroy the VM on guest poweroff\n"
	    "       -e: exit on an unhandled I/O port access\n"
	    "       -h: help\n"
	    "       -H: vmexit on HLT\n"
	    "       -I: accepted for compatibility (the I/O APIC is always present)\n"
	    "       -k: read configuration variables from a file\n"
	    "       -l: LPC device configuration (-l help lists them)\n"
	    "       -m: guest memory size, with an optional K/M/G/T suffix (default 256M)\n"
	    "       -o: set a configuration variable\n"
	    "       -p: pin a vCPU to a host CPU\n"
	    "       -P: vmexit on PAUSE\n"
	    "       -s: PCI slot configuration (-s help lists the emulations)\n"
	    "       -S: wire guest memory\n"
	    "       -u: RTC keeps UTC\n"
	    "       -U: UUID\n"
	    "       -w: ignore unimplemented MSRs\n"
	    "       -W: force virtio to use single-vector MSI\n"
	    "       -x: local APIC in x2APIC mode\n"
	    "       -Y: disable the MP table\n"
	    "       --kernel: kernel image to boot directly\n"
	    "       --initrd: initial RAM disk for the kernel\n"
	    "       --cmdline: kernel command line\n");
}

/* The flag as the user wrote it, for messages. */
static const char *
opts_label(int ch, char *buf, size_t len)
{
	const struct option *lo;

	for (lo = opts_long; lo->name != NULL; lo++)
		if (lo->val == ch && ch >= OPT_KERNEL) {
			snprintf(buf, len, "--%s", lo->name);
			return (buf);
		}
	if (ch > 0 && ch < 0x80 && isgraph(ch))
		snprintf(buf, len, "-%c", ch);
	else
		snprintf(buf, len, "-?");
	return (buf);
}

static int
opts_set(const char *flag, const char *key, const char *val)
{
	if (config_set(NULL, key, val) != 0) {
		log_warnx("%s: cannot set %s: it conflicts with an existing "
		    "key", flag, key);
		return (KHYVE_EXIT_USAGE);
	}
	return (0);
}

/* A decimal number in [min, max], nothing else. */
static int
opts_num(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return (-EINVAL);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return (-EINVAL);
	*out = v;
	return (0);
}

/*
 * -c [[cpus=]n][,sockets=n][,cores=n][,threads=n].  Each -c replaces the
 * topology set by an earlier one.  Only cpus given: only cpus is set (the
 * machine takes sockets = cpus).  Any of sockets/cores/threads given: all
 * four are set, the missing ones being 1, and cpus, when given, must be
 * their product.  -c "" means one vCPU (bhyve writes all four as 1).
 */
static int
opts_topology(const char *arg)
{
	static const char *const keys[] = { "cpus", "sockets", "cores",
	    "threads" };
	unsigned long v[4] = { 0, 1, 1, 1 }, n;
	bool given[4] = { false, false, false, false }, topo = false;
	char *copy, *rest, *tok, *eq, buf[16];
	size_t i, klen;
	int error = KHYVE_EXIT_USAGE;

	rest = copy = strdup(arg);
	if (copy == NULL)
		return (KHYVE_EXIT_ERROR);
	while (*arg != '\0' && (tok = strsep(&rest, ",")) != NULL) {
		if (*tok == '\0') {
			log_warnx("-c: '%.64s': empty field", arg);
			goto out;
		}
		eq = strchr(tok, '=');
		i = 0;
		if (eq != NULL) {
			klen = (size_t)(eq - tok);
			for (i = 0; i < nitems(keys); i++)
				if (strlen(keys[i]) == klen &&
				    strncmp(tok, keys[i], klen) == 0)
					break;
			if (i == nitems(keys)) {
				log_warnx("-c: unknown topology option '%.*s' "
				    "(want cpus, sockets, cores or threads)",
				    (int)MIN(klen, 64), tok);
				goto out;
			}
		}
		if (opts_num(eq != NULL ? eq + 1 : tok, 1, UINT16_MAX, &n) != 0) {
			log_warnx("-c: %s: '%.64s' is not a number from 1 to %u",
			    keys[i], eq != NULL ? eq + 1 : tok, UINT16_MAX);
			goto out;
		}
		v[i] = n;
		given[i] = true;
		topo |= i != 0;
	}
	if (topo) {
		n = v[1] * v[2] * v[3];
		if (n > UINT16_MAX) {
			log_warnx("-c: sockets x cores x threads = %lu is more "
			    "than %u vCPUs", n, UINT16_MAX);
			goto out;
		}
		if (given[0] && v[0] != n) {
			log_warnx("-c: %lu vCPUs do not match sockets=%lu x "
			    "cores=%lu x threads=%lu", v[0], v[1], v[2], v[3]);
			goto out;
		}
		v[0] = n;
	} else if (!given[0]) {
		v[0] = 1;			/* -c "": all four are 1 */
		topo = true;
	}
	for (i = 0; i < nitems(keys); i++)
		(void)config_unset(NULL, keys[i]);
	for (i = 0; i < nitems(keys); i++) {
		if (i > 0 && !topo)
			break;
		snprintf(buf, sizeof(buf), "%lu", i == 0 ? v[0] : v[i]);
		if (opts_set("-c", keys[i], buf) != 0)
			goto out;
	}
	error = 0;
out:
	free(copy);
	return (error);
}

static int
opts_memsize(const char *arg)
{
	uint64_t sz;

	if (config_parse_size(arg, MiB, &sz) != 0) {
		log_warnx("-m: invalid size '%.64s' (want a number of MiB, or "
		    "a number with a K, M, G or T suffix)", arg);
		return (KHYVE_EXIT_USAGE);
	}
	if (sz == 0) {
		log_warnx("-m: the memory size must not be 0");
		return (KHYVE_EXIT_USAGE);
	}
	if (sz < MiB) {
		log_warnx("-m: %.64s is less than the minimum of 1M", arg);
		return (KHYVE_EXIT_USAGE);
	}
	if (sz % (4 * KiB) != 0) {
		log_warnx("-m: %.64s is not a multiple of 4K", arg);
		return (KHYVE_EXIT_USAGE);
	}
	return (opts_set("-m", "memory.size", arg));
}

/* -p vcpu:hostcpu appends hostcpu to vcpu.N.cpuset. */
static int
opts_pincpu(const char *arg)
{
	unsigned long vcpu, host;
	const char *old;
	char *colon, *copy, key[32], *val;
	int error = KHYVE_EXIT_USAGE;

	copy = strdup(arg);
	if (copy == NULL)
		return (KHYVE_EXIT_ERROR);
	colon = strchr(copy, ':');
	if (colon == NULL) {
		log_warnx("-p: '%.64s': want vcpu:hostcpu", arg);
		goto out;
	}
	*colon = '\0';
	if (opts_num(copy, 0, UINT16_MAX - 1, &vcpu) != 0) {
		log_warnx("-p: '%.64s': invalid vCPU number", copy);
		goto out;
	}
	if (opts_num(colon + 1, 0, CPU_SETSIZE - 1, &host) != 0) {
		log_warnx("-p: '%.64s': host CPU must be a number from 0 to %d",
		    colon + 1, CPU_SETSIZE - 1);
		goto out;
	}
	snprintf(key, sizeof(key), "vcpu.%lu.cpuset", vcpu);
	old = config_get_raw(NULL, key);
	if (asprintf(&val, "%s%s%lu", old != NULL ? old : "",
	    old != NULL ? "," : "", host) < 0) {
		error = KHYVE_EXIT_ERROR;
		goto out;
	}
	error = opts_set("-p", key, val);
	free(val);
out:
	free(copy);
	return (error);
}

/* 8-4-4-4-12 hex digits (RFC 4122 §3 string form). */
static bool
opts_uuid_ok(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return (false);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return (false);
		} else if (!isxdigit((unsigned char)s[i]))
			return (false);
	}
	return (true);
}

/* -l lpcdev[,conf] (bhyve pci_lpc.c lpc_device_parse; names any case). */
static int
opts_lpc(const char *arg)
{
	const char *comma, *conf;
	char key[32];
	size_t i, len;

	comma = strchr(arg, ',');
	len = comma != NULL ? (size_t)(comma - arg) : strlen(arg);
	conf = comma != NULL ? comma + 1 : NULL;
	if (len == 4 && strncasecmp(arg, "help", 4) == 0 && conf == NULL) {
		for (i = 0; i < nitems(lpc_uarts); i++)
			printf("%s\n", lpc_uarts[i]);
		return (OPTS_EXIT_NOW);
	}
	for (i = 0; i < nitems(lpc_uarts); i++) {
		if (len != strlen(lpc_uarts[i]) ||
		    strncasecmp(arg, lpc_uarts[i], len) != 0)
			continue;
		if (conf == NULL || *conf == '\0') {
			log_warnx("-l: %s: missing backend (stdio, a path, "
			    "tcp=ip:port or unix=path)", lpc_uarts[i]);
			return (KHYVE_EXIT_USAGE);
		}
		snprintf(key, sizeof(key), "lpc.%s.path", lpc_uarts[i]);
		return (opts_set("-l", key, conf));
	}
	for (i = 0; i < nitems(lpc_unsupported); i++)
		if (len == strlen(lpc_unsupported[i]) &&
		    strncasecmp(arg, lpc_unsupported[i], len) == 0) {
			log_warnx("-l: %s: not supported by khyve",
			    lpc_unsupported[i]);
			return (KHYVE_EXIT_USAGE);
		}
	log_warnx("-l: unknown LPC device '%.*s' (-l help lists them)",
	    (int)MIN(len, 64), arg);
	return (KHYVE_EXIT_USAGE);
}

static int
opts_assign(const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *why;

	if (config_parse_assignment(arg) == 0)
		return (0);
	if (eq == NULL)
		why = "missing '='";
	else if (eq == arg)
		why = "empty key";
	else if (eq[1] == '\0')
		why = "empty value";
	else
		why = "the key is malformed or conflicts with an existing key";
	log_warnx("-o: '%.200s': %s (want key=value)", arg, why);
	return (KHYVE_EXIT_USAGE);
}

/* One option with its argument; returns 0, KHYVE_EXIT_USAGE or -1. */
static int
opts_one(int ch, const char *arg)
{
	char flag[16];
	size_t i;

	for (i = 0; i < nitems(opts_flags); i++)
		if (opts_flags[i].of_ch == ch)
			return (opts_set(opts_label(ch, flag, sizeof(flag)),
			    opts_flags[i].of_key, opts_flags[i].of_val));
	if (ch > 0 && ch < 0x80 && strchr(opts_unsupported, ch) != NULL) {
		log_warnx("-%c: not supported by khyve", ch);
		return (KHYVE_EXIT_USAGE);
	}
	switch (ch) {
	case 'A':
	case 'I':
		return (0);			/* bhyve no-ops */
	case 'c':
		return (opts_topology(arg));
	case 'h':
		opts_usage(stdout);
		return (OPTS_EXIT_NOW);
	case 'k':
		return (config_load_file(arg) != 0 ? KHYVE_EXIT_USAGE : 0);
	case 'l':
		return (opts_lpc(arg));
	case 'm':
		return (opts_memsize(arg));
	case 'o':
		return (opts_assign(arg));
	case 'p':
		return (opts_pincpu(arg));
	case 's':
		if (strcmp(arg, "help") == 0) {
			pci_print_supported_devices();
			return (OPTS_EXIT_NOW);
		}
		return (pci_parse_slot(arg) != 0 ? KHYVE_EXIT_USAGE : 0);
	case 'U':
		if (!opts_uuid_ok(arg)) {
			log_warnx("-U: '%.64s' is not a UUID (want "
			    "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", arg);
			return (KHYVE_EXIT_USAGE);
		}
		return (opts_set("-U", "uuid", arg));
	case OPT_KERNEL:
	case OPT_INITRD:
		if (*arg == '\0') {
			log_warnx("%s: empty file name",
			    opts_label(ch, flag, sizeof(flag)));
			return (KHYVE_EXIT_USAGE);
		}
		return (opts_set(opts_label(ch, flag, sizeof(flag)),
		    ch == OPT_KERNEL ? "boot.kernel" : "boot.initrd", arg));
	case OPT_CMDLINE:
		return (opts_set("--cmdline", "boot.cmdline", arg));
	default:
		log_warnx("%s: unknown option", opts_label(ch, flag,
		    sizeof(flag)));
		return (KHYVE_EXIT_USAGE);
	}
}

int
opts_parse(int argc, char **argv)
{
	const char *word;
	char flag[16];
	int ch, error;

	optind = 0;			/* GNU: full re-initialisation */
	opterr = 0;			/* we print our own one-line errors */
	while ((ch = getopt_long(argc, argv, opts_short, opts_long,
	    NULL)) != -1) {
		if (ch == '?') {
			word = optind > 0 && optind <= argc ?
			    argv[optind - 1] : "?";
			if (strncmp(word, "--", 2) == 0)
				log_warnx("%.*s: %s", (int)MIN(strcspn(word,
				    "="), 64), word, optopt != 0 ?
				    "takes no argument" : "unknown option");
			else
				log_warnx("%s: unknown option",
				    opts_label(optopt, flag, sizeof(flag)));
			return (KHYVE_EXIT_USAGE);
		}
		if (ch == ':') {
			log_warnx("%s: missing argument",
			    opts_label(optopt, flag, sizeof(flag)));
			return (KHYVE_EXIT_USAGE);
		}
		error = opts_one(ch, optarg);
		if (error != 0)
			return (error);
	}

	/* The VM name: one positional argument, or name= from -o/-k. */
	if (argc - optind > 1) {
		log_warnx("vmname: only one VM name may be given ('%.64s' and "
		    "'%.64s')", argv[optind], argv[optind + 1]);
		return (KHYVE_EXIT_USAGE);
	}
	if (argc - optind == 1) {
		if (argv[optind][0] == '\0') {
			log_warnx("vmname: the VM name must not be empty");
			return (KHYVE_EXIT_USAGE);
		}
		return (opts_set("vmname", "name", argv[optind]));
	}
	if (config_get_raw(NULL, "name") == NULL) {
		log_warnx("vmname: missing VM name (the last argument, or "
		    "-o name=...)");
		return (KHYVE_EXIT_USAGE);
	}
	return (0);
}
