/*
 * config_value.c: typed reads of the configuration tree and the two ways
 * users write it besides flags: -o key=value and -k files (bhyve's
 * config.c _bool_value, bhyverun.c parse_config_option and
 * parse_simple_config_file, and vm_parse_memsize for sizes).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include "config.h"
#include "log.h"

int
config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "on", "yes", "1" };
	static const char *const no[] = { "false", "off", "no", "0" };
	size_t i;

	if (s == NULL)
		return (-EINVAL);
	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return (0);
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return (0);
		}
	}
	return (-EINVAL);
}

static int
cfg_parse_uint64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	/* strtoull would skip blanks and accept "-1" as 2^64-1. */
	if (s == NULL || *s == '\0' || isspace((unsigned char)*s) ||
	    *s == '-')
		return (-EINVAL);
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0')
		return (-EINVAL);
	*out = v;
	return (0);
}

static int
cfg_parse_int64(const char *s, int64_t *out)
{
	long long v;
	char *end;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return (-EINVAL);
	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno != 0 || *end != '\0')
		return (-EINVAL);
	*out = v;
	return (0);
}

/*
 * "<number>[suffix]": the number is decimal or 0x hex; the suffix is one
 * of B, K, M, G, T, optionally followed by B or iB, in any case (all
 * binary units, as expand_number(3) and bhyve's vm_parse_memsize).
 */
int
config_parse_size(const char *s, uint64_t bare_unit, uint64_t *out)
{
	static const char units[] = "bkmgt";
	unsigned long long v;
	const char *digits, *u;
	uint64_t mult;
	char *end;
	int base = 10;

	if (s == NULL || bare_unit == 0)
		return (-EINVAL);
	digits = s;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		digits = s + 2;
		base = 16;
	}
	/* strtoull would take blanks and a sign; want a digit first. */
	if (!(base == 16 ? isxdigit((unsigned char)*digits) :
	    isdigit((unsigned char)*digits)))
		return (-EINVAL);
	errno = 0;
	v = strtoull(digits, &end, base);
	if (errno != 0)
		return (-EINVAL);
	if (*end == '\0')
		mult = bare_unit;
	else {
		u = strchr(units, tolower((unsigned char)*end));
		if (u == NULL || *u == '\0')
			return (-EINVAL);
		mult = 1ULL << (10 * (u - units));
		end++;
		/* K, KB, KiB (any case); a lone B means bytes. */
		if (*end != '\0' && (*u == 'b' || (strcasecmp(end, "b") != 0 &&
		    strcasecmp(end, "ib") != 0)))
			return (-EINVAL);
	}
	if (v > UINT64_MAX / mult)
		return (-EINVAL);
	*out = v * mult;
	return (0);
}

int
config_get_bool(struct config_node *parent, const char *path, bool def,
    bool *out)
{
	const char *v = config_get(parent, path);

	if (v == NULL) {
		*out = def;
		return (0);
	}
	return (config_parse_bool(v, out));
}

int
config_get_int64(struct config_node *parent, const char *path, int64_t def,
    int64_t *out)
{
	const char *v = config_get(parent, path);

	if (v == NULL) {
		*out = def;
		return (0);
	}
	return (cfg_parse_int64(v, out));
}

int
config_get_uint64(struct config_node *parent, const char *path,
    uint64_t def, uint64_t *out)
{
	const char *v = config_get(parent, path);

	if (v == NULL) {
		*out = def;
		return (0);
	}
	return (cfg_parse_uint64(v, out));
}

int
config_get_size(struct config_node *parent, const char *path, uint64_t def,
    uint64_t bare_unit, uint64_t *out)
{
	const char *v = config_get(parent, path);

	if (v == NULL) {
		*out = def;
		return (0);
	}
	return (config_parse_size(v, bare_unit, out));
}

/* Report an unparseable value of parent.path and exit with EX_USAGE. */
static _Noreturn void
cfg_bad(struct config_node *parent, const char *path, const char *what)
{
	char buf[256];

	if (parent != NULL && parent != config_root())
		fatalx(KHYVE_EXIT_USAGE, "config: %s.%s: invalid %s '%s'",
		    config_node_path(parent, buf, sizeof(buf)), path, what,
		    config_get(parent, path));
	fatalx(KHYVE_EXIT_USAGE, "config: %s: invalid %s '%s'", path, what,
	    config_get(parent, path));
}

bool
config_bool(struct config_node *parent, const char *path, bool def)
{
	bool v;

	if (config_get_bool(parent, path, def, &v) != 0)
		cfg_bad(parent, path, "boolean");
	return (v);
}

uint64_t
config_uint64(struct config_node *parent, const char *path, uint64_t def)
{
	uint64_t v;

	if (config_get_uint64(parent, path, def, &v) != 0)
		cfg_bad(parent, path, "unsigned number");
	return (v);
}

int64_t
config_int64(struct config_node *parent, const char *path, int64_t def)
{
	int64_t v;

	if (config_get_int64(parent, path, def, &v) != 0)
		cfg_bad(parent, path, "number");
	return (v);
}

/* --- -o and -k -------------------------------------------------------- */

int
config_parse_assignment(const char *kv)
{
	const char *eq, *p;
	char *key;
	int error;

	/* As bhyve's parse_config_option: "key=value", value not empty. */
	eq = kv != NULL ? strchr(kv, '=') : NULL;
	if (eq == NULL || eq == kv || eq[1] == '\0')
		return (-EINVAL);
	for (p = kv; p < eq; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return (-EINVAL);
	key = strndup(kv, (size_t)(eq - kv));
	if (key == NULL)
		return (-ENOMEM);
	error = config_set(NULL, key, eq + 1);
	free(key);
	return (error != 0 ? -EINVAL : 0);
}

/* Why config_parse_assignment() refused kv, for the message. */
static const char *
cfg_why(const char *kv)
{
	const char *eq = strchr(kv, '=');

	if (eq == NULL)
		return ("want key=value");
	if (eq == kv)
		return ("empty key");
	if (eq[1] == '\0')
		return ("empty value");
	return ("malformed key, or it conflicts with an existing key");
}

static bool
cfg_blank(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return (*s == '\0' || *s == '#');
}

int
config_load_file(const char *path)
{
	char *line = NULL;
	size_t cap = 0, len;
	unsigned lineno;
	ssize_t n;
	FILE *fp;
	int error = 0;

	fp = fopen(path, "r");
	if (fp == NULL) {
		error = -errno;
		log_warn("-k: %s", path);
		return (error);
	}
	for (lineno = 1; (n = getline(&line, &cap, fp)) > 0; lineno++) {
		len = (size_t)n;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (memchr(line, '\0', len) != NULL) {
			log_warnx("-k: %s line %u: NUL byte in line", path,
			    lineno);
			error = -EINVAL;
			break;
		}
		if (cfg_blank(line))
			continue;
		error = config_parse_assignment(line);
		if (error != 0) {
			log_warnx("-k: %s line %u: invalid setting '%.200s' "
			    "(%s)", path, lineno, line, cfg_why(line));
			break;
		}
	}
	if (error == 0 && ferror(fp)) {
		error = -EIO;
		log_warn("-k: %s: read error", path);
	}
	free(line);
	fclose(fp);
	return (error);
}

