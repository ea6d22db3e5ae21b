/*
 * config.c: the configuration tree (semantics of bhyve's
 * usr.sbin/bhyve/config.c and bhyve_config.5).
 *
 * One global tree.  Interior nodes hold children kept sorted (decimal
 * names first, in numeric order, then the rest by strcmp), so dumps and
 * walks are stable and pci.0.2 comes before pci.0.10.  Leaves hold a raw
 * string; %(path) references are expanded when a value is read.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "log.h"

#define CFG_MAXDEPTH	16		/* nested references, as bhyve */
#define CFG_MAXEXPAND	(64 * 1024)	/* bytes in one expanded value */
#define CFG_MAXWORK	(1024 * 1024)	/* bytes produced by one expansion */

/* An expansion handed out earlier and kept until the leaf changes. */
struct cfg_stale {
	struct cfg_stale *cs_next;
	char		*cs_str;
};

struct config_node {
	char		*cn_name;	/* component name; "" for the root */
	struct config_node *cn_parent;	/* NULL for the root */
	struct config_node *cn_next;	/* next sibling, in sorted order */
	struct config_node *cn_child;	/* first child (interior nodes) */
	bool		cn_leaf;	/* holds a value, never children */
	bool		cn_warned;	/* expansion problem already logged */
	char		*cn_value;	/* raw value (leaves) */
	char		*cn_expanded;	/* last expansion, if value has '%' */
	struct cfg_stale *cn_stale;	/* earlier expansions still handed out */
};

static struct config_node *cfg_root;
static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;

/* --- nodes ------------------------------------------------------------ */

static bool
cfg_isnum(const char *s)
{
	if (*s == '\0')
		return (false);
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return (false);
	return (true);
}

/* Decimal names first, ordered by value; then everything else by strcmp. */
static int
cfg_namecmp(const char *a, const char *b)
{
	bool na = cfg_isnum(a), nb = cfg_isnum(b);
	size_t la, lb;

	if (na && nb) {
		while (a[0] == '0' && a[1] != '\0')
			a++;
		while (b[0] == '0' && b[1] != '\0')
			b++;
		la = strlen(a);
		lb = strlen(b);
		if (la != lb)
			return (la < lb ? -1 : 1);
		return (strcmp(a, b));
	}
	if (na != nb)
		return (na ? -1 : 1);
	return (strcmp(a, b));
}

static void
cfg_clear_value(struct config_node *n)
{
	struct cfg_stale *s;

	while ((s = n->cn_stale) != NULL) {
		n->cn_stale = s->cs_next;
		free(s->cs_str);
		free(s);
	}
	free(n->cn_expanded);
	free(n->cn_value);
	n->cn_expanded = NULL;
	n->cn_value = NULL;
	n->cn_warned = false;
}

/* Free a subtree without recursion (a hostile -k file can nest deeply). */
static void
cfg_free_tree(struct config_node *top)
{
	struct config_node *n = top, *parent;

	while (n != NULL) {
		if (n->cn_child != NULL) {
			n = n->cn_child;
			continue;
		}
		parent = n->cn_parent;
		if (n == top)
			parent = NULL;
		else if (parent != NULL)
			parent->cn_child = n->cn_next;
		cfg_clear_value(n);
		free(n->cn_name);
		free(n);
		n = parent;
	}
}

void
config_fini(void)
{
	cfg_free_tree(cfg_root);
	cfg_root = NULL;
}

void
config_init(void)
{
	config_fini();
	cfg_root = calloc(1, sizeof(*cfg_root));
	if (cfg_root != NULL)
		cfg_root->cn_name = strdup("");
	if (cfg_root == NULL || cfg_root->cn_name == NULL)
		fatal(KHYVE_EXIT_ERROR, "config");
}

struct config_node *
config_root(void)
{
	if (cfg_root == NULL)
		config_init();
	return (cfg_root);
}

static struct config_node *
cfg_child(const struct config_node *n, const char *name, size_t len)
{
	struct config_node *c;

	for (c = n->cn_child; c != NULL; c = c->cn_next)
		if (strncmp(c->cn_name, name, len) == 0 &&
		    c->cn_name[len] == '\0')
			return (c);
	return (NULL);
}

static struct config_node *
cfg_add_child(struct config_node *parent, const char *name, size_t len)
{
	struct config_node *n, **pp;

	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return (NULL);
	n->cn_name = strndup(name, len);
	if (n->cn_name == NULL) {
		free(n);
		return (NULL);
	}
	n->cn_parent = parent;
	for (pp = &parent->cn_child; *pp != NULL; pp = &(*pp)->cn_next)
		if (cfg_namecmp((*pp)->cn_name, n->cn_name) > 0)
			break;
	n->cn_next = *pp;
	*pp = n;
	return (n);
}

/* A path is well formed if it is non-empty and has no empty component. */
static bool
cfg_path_ok(const char *path)
{
	const char *p;

	if (path == NULL || *path == '\0' || *path == '.')
		return (false);
	for (p = path; *p != '\0'; p++)
		if (p[0] == '.' && (p[1] == '.' || p[1] == '\0'))
			return (false);
	return (true);
}

/*
 * Walk path below parent.  With create, missing interior nodes are made.
 * With want_leaf, the last component is returned whatever it is (or NULL
 * if absent and !create); otherwise every component must be a node.
 */
static struct config_node *
cfg_lookup(struct config_node *parent, const char *path, bool create,
    bool want_leaf)
{
	struct config_node *n, *c;
	const char *p, *dot;
	size_t len;

	if (!cfg_path_ok(path)) {
		errno = EINVAL;
		return (NULL);
	}
	n = parent != NULL ? parent : config_root();
	if (n->cn_leaf) {
		errno = EINVAL;
		return (NULL);
	}
	for (p = path;; p = dot + 1) {
		dot = strchr(p, '.');
		len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		c = cfg_child(n, p, len);
		if (dot == NULL && want_leaf)
			return (c);
		if (c == NULL) {
			if (!create) {
				errno = ENOENT;
				return (NULL);
			}
			c = cfg_add_child(n, p, len);
			if (c == NULL) {
				errno = ENOMEM;
				return (NULL);
			}
		} else if (c->cn_leaf) {
			errno = EINVAL;		/* a leaf is in the way */
			return (NULL);
		}
		n = c;
		if (dot == NULL)
			return (n);
	}
}

struct config_node *
config_find_node(struct config_node *parent, const char *path)
{
	return (cfg_lookup(parent, path, false, false));
}

struct config_node *
config_create_node(struct config_node *parent, const char *path)
{
	return (cfg_lookup(parent, path, true, false));
}

/* The leaf at path, or NULL (also when path names an interior node). */
static struct config_node *
cfg_find_leaf(struct config_node *parent, const char *path)
{
	struct config_node *n;

	n = cfg_lookup(parent, path, false, true);
	return (n != NULL && n->cn_leaf ? n : NULL);
}

static int
cfg_set(struct config_node *parent, const char *path, const char *value,
    bool keep)
{
	struct config_node *n, *dir;
	const char *last;
	char *copy, *dirpath;

	if (value == NULL || !cfg_path_ok(path))
		return (-EINVAL);
	last = strrchr(path, '.');
	dir = parent != NULL ? parent : config_root();
	if (last != NULL) {
		dirpath = strndup(path, (size_t)(last - path));
		if (dirpath == NULL)
			return (-ENOMEM);
		dir = cfg_lookup(dir, dirpath, true, false);
		free(dirpath);
		if (dir == NULL)
			return (-errno);
		last++;
	} else
		last = path;
	if (dir->cn_leaf)
		return (-EINVAL);
	n = cfg_child(dir, last, strlen(last));
	if (n != NULL && !n->cn_leaf && n->cn_child != NULL)
		return (-EINVAL);		/* a node with children */
	if (n != NULL && n->cn_leaf && keep)
		return (0);
	copy = strdup(value);
	if (copy == NULL)
		return (-ENOMEM);
	if (n == NULL) {
		n = cfg_add_child(dir, last, strlen(last));
		if (n == NULL) {
			free(copy);
			return (-ENOMEM);
		}
	}
	pthread_mutex_lock(&cfg_lock);
	cfg_clear_value(n);
	n->cn_leaf = true;		/* an empty node becomes a leaf */
	n->cn_value = copy;
	pthread_mutex_unlock(&cfg_lock);
	return (0);
}

int
config_set(struct config_node *parent, const char *path, const char *value)
{
	return (cfg_set(parent, path, value, false));
}

int
config_set_default(struct config_node *parent, const char *path,
    const char *value)
{
	return (cfg_set(parent, path, value, true));
}

int
config_set_bool(struct config_node *parent, const char *path, bool v)
{
	return (cfg_set(parent, path, v ? "true" : "false", false));
}

int
config_unset(struct config_node *parent, const char *path)
{
	struct config_node *n, **pp;

	n = cfg_find_leaf(parent, path);
	if (n == NULL)
		return (-ENOENT);
	for (pp = &n->cn_parent->cn_child; *pp != n; pp = &(*pp)->cn_next)
		;
	*pp = n->cn_next;
	n->cn_next = NULL;
	cfg_free_tree(n);
	return (0);
}

/* --- %(var) expansion ------------------------------------------------- */

struct cfg_buf {
	char		*b_s;
	size_t		b_len, b_cap;
};

struct cfg_expand {
	const struct config_node *x_stack[CFG_MAXDEPTH + 1]; /* leaves being expanded */
	size_t		x_work;		/* bytes produced so far */
	bool		x_abort;	/* out of memory or over budget */
	const char	*x_why;		/* first problem seen */
	char		x_ref[64];	/* the reference it concerns */
};

static void
cfg_buf_add(struct cfg_expand *x, struct cfg_buf *b, const char *s,
    size_t len)
{
	size_t ncap;
	char *p;

	if (x->x_abort)
		return;
	x->x_work += len;
	if (b->b_len + len >= CFG_MAXEXPAND || x->x_work > CFG_MAXWORK) {
		x->x_abort = true;
		if (x->x_why == NULL)
			x->x_why = "value too large after expansion";
		return;
	}
	if (b->b_len + len + 1 > b->b_cap) {
		ncap = MAX(b->b_cap * 2, b->b_len + len + 64);
		p = realloc(b->b_s, ncap);
		if (p == NULL) {
			x->x_abort = true;
			return;
		}
		b->b_s = p;
		b->b_cap = ncap;
	}
	memcpy(b->b_s + b->b_len, s, len);
	b->b_len += len;
	b->b_s[b->b_len] = '\0';
}

static void
cfg_problem(struct cfg_expand *x, const char *why, const char *ref,
    size_t len)
{
	if (x->x_why != NULL)
		return;
	x->x_why = why;
	snprintf(x->x_ref, sizeof(x->x_ref), "%.*s", (int)MIN(len, 60), ref);
}

/*
 * Append the expansion of s to b.  Returns false if a reference could not
 * be resolved (unset, or a loop); such a reference is copied as written,
 * and so is every reference whose value contains one.
 */
static bool
cfg_expand_str(struct cfg_expand *x, struct cfg_buf *b, const char *s,
    int depth)
{
	const struct config_node *leaf;
	struct cfg_buf sub;
	const char *end;
	char *name;
	bool ok = true, subok;
	int i;

	while (*s != '\0' && !x->x_abort) {
		if (s[0] == '%' && s[1] == '%') {
			cfg_buf_add(x, b, "%", 1);
			s += 2;
			continue;
		}
		end = s[0] == '%' && s[1] == '(' ? strchr(s + 2, ')') : NULL;
		if (end == NULL || end == s + 2) {
			/* Not a reference: copy up to the next '%'. */
			end = strchr(s + 1, '%');
			if (end == NULL)
				end = s + strlen(s);
			cfg_buf_add(x, b, s, (size_t)(end - s));
			s = end;
			continue;
		}
		name = strndup(s + 2, (size_t)(end - s - 2));
		if (name == NULL) {
			x->x_abort = true;
			break;
		}
		leaf = cfg_find_leaf(NULL, name);
		free(name);
		subok = false;
		if (leaf == NULL)
			cfg_problem(x, "is not set", s, (size_t)(end + 1 - s));
		else {
			for (i = 0; i <= depth; i++)
				if (x->x_stack[i] == leaf)
					break;
			if (i <= depth)
				cfg_problem(x, "refers to itself", s,
				    (size_t)(end + 1 - s));
			else if (depth == CFG_MAXDEPTH)
				cfg_problem(x, "nests too deeply", s,
				    (size_t)(end + 1 - s));
			else {
				memset(&sub, 0, sizeof(sub));
				x->x_stack[depth + 1] = leaf;
				subok = cfg_expand_str(x, &sub, leaf->cn_value,
				    depth + 1);
				if (subok && sub.b_s != NULL)
					cfg_buf_add(x, b, sub.b_s, sub.b_len);
				free(sub.b_s);
			}
		}
		if (!subok) {
			cfg_buf_add(x, b, s, (size_t)(end + 1 - s));
			ok = false;
		}
		s = end + 1;
	}
	return (ok);
}

/* The expanded value of leaf n; called with cfg_lock held. */
static const char *
cfg_expand_leaf(struct config_node *n)
{
	struct cfg_expand x;
	struct cfg_buf b;
	struct cfg_stale *st;
	char path[256];
	bool ok;

	if (strchr(n->cn_value, '%') == NULL)
		return (n->cn_value);
	memset(&x, 0, sizeof(x));
	memset(&b, 0, sizeof(b));
	x.x_stack[0] = n;
	ok = cfg_expand_str(&x, &b, n->cn_value, 0);
	if (!ok && !n->cn_warned) {
		n->cn_warned = true;
		if (x.x_ref[0] != '\0')
			log_warnx("config: %s: %s %s; left as written",
			    config_node_path(n, path, sizeof(path)), x.x_ref,
			    x.x_why);
		else
			log_warnx("config: %s: %s; left as written",
			    config_node_path(n, path, sizeof(path)),
			    x.x_why != NULL ? x.x_why : "cannot expand");
	}
	if (x.x_abort) {
		free(b.b_s);
		if (!n->cn_warned) {
			n->cn_warned = true;
			log_warnx("config: %s: %s; left as written",
			    config_node_path(n, path, sizeof(path)),
			    x.x_why != NULL ? x.x_why : "out of memory");
		}
		return (n->cn_value);
	}
	if (b.b_s == NULL)
		b.b_s = strdup("");
	if (b.b_s == NULL)
		return (n->cn_value);
	if (n->cn_expanded != NULL && strcmp(n->cn_expanded, b.b_s) == 0) {
		free(b.b_s);
		return (n->cn_expanded);
	}
	/* Earlier results may still be in use: keep them until a change. */
	if (n->cn_expanded != NULL) {
		st = malloc(sizeof(*st));
		if (st == NULL) {
			free(b.b_s);
			return (n->cn_expanded);
		}
		st->cs_str = n->cn_expanded;
		st->cs_next = n->cn_stale;
		n->cn_stale = st;
	}
	n->cn_expanded = b.b_s;
	return (n->cn_expanded);
}

const char *
config_get(struct config_node *parent, const char *path)
{
	struct config_node *n;
	const char *v;

	n = cfg_find_leaf(parent, path);
	if (n == NULL)
		return (NULL);
	pthread_mutex_lock(&cfg_lock);
	v = cfg_expand_leaf(n);
	pthread_mutex_unlock(&cfg_lock);
	return (v);
}

const char *
config_get_raw(struct config_node *parent, const char *path)
{
	struct config_node *n;

	n = cfg_find_leaf(parent, path);
	return (n != NULL ? n->cn_value : NULL);
}

/* --- walking and dumping ---------------------------------------------- */

const char *
config_node_path(const struct config_node *node, char *buf, size_t len)
{
	const struct config_node *n;
	size_t total = 0, pos, nl;

	if (len == 0)
		return (buf);
	for (n = node; n != NULL && n->cn_parent != NULL; n = n->cn_parent)
		total += strlen(n->cn_name) + (total != 0 ? 1 : 0);
	/* Fill from the end; bytes beyond the buffer are dropped. */
	pos = total;
	for (n = node; n != NULL && n->cn_parent != NULL; n = n->cn_parent) {
		if (pos != total) {
			pos--;
			if (pos < len - 1)
				buf[pos] = '.';
		}
		nl = strlen(n->cn_name);
		pos -= nl;
		if (pos < len - 1)
			memcpy(buf + pos, n->cn_name, MIN(nl, len - 1 - pos));
	}
	buf[MIN(total, len - 1)] = '\0';
	return (buf);
}

/* Call fn for one leaf with its full path (no length limit). */
static void
cfg_visit(const struct config_node *n,
    void (*fn)(const char *, const char *, void *), void *arg)
{
	const struct config_node *p;
	size_t need = 1;
	char *buf;

	for (p = n; p != NULL && p->cn_parent != NULL; p = p->cn_parent)
		need += strlen(p->cn_name) + 1;
	buf = malloc(need);
	if (buf == NULL)
		return;
	fn(config_node_path(n, buf, need), n->cn_value, arg);
	free(buf);
}

void
config_walk(struct config_node *node,
    void (*fn)(const char *path, const char *value, void *arg), void *arg)
{
	const struct config_node *n, *top;

	top = node != NULL ? node : config_root();
	if (top->cn_leaf) {
		cfg_visit(top, fn, arg);
		return;
	}
	/* Depth-first, without recursion, using the parent links. */
	n = top->cn_child;
	while (n != NULL) {
		if (n->cn_leaf)
			cfg_visit(n, fn, arg);
		else if (n->cn_child != NULL) {
			n = n->cn_child;
			continue;
		}
		while (n != top && n->cn_next == NULL)
			n = n->cn_parent;
		n = n != top ? n->cn_next : NULL;
	}
}

static void
cfg_dump_one(const char *path, const char *value, void *arg)
{
	fprintf((FILE *)arg, "%s=%s\n", path, value);
}

void
config_dump(FILE *fp)
{
	config_walk(NULL, cfg_dump_one, fp);
}

struct config_node *
config_node_first(struct config_node *node)
{
	if (node == NULL)
		node = config_root();
	return (node->cn_leaf ? NULL : node->cn_child);
}

struct config_node *
config_node_next(struct config_node *node)
{
	return (node != NULL ? node->cn_next : NULL);
}

const char *
config_node_name(const struct config_node *node)
{
	return (node->cn_name);
}

bool
config_node_is_leaf(const struct config_node *node)
{
	return (node->cn_leaf);
}
