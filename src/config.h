/*
 * config.h: the configuration tree (bhyve's config.c semantics).
 *
 * A tree of nodes named by dotted paths ("pci.0.31.0.device"); only leaves
 * hold values, and values are strings.  Values may refer to other values
 * with %(path) (expanded when read, relative paths resolved from the root;
 * %% is a literal %).  Every command-line flag only sets keys here; the
 * machine is built from the tree afterwards, and the tree is read-only
 * once vCPUs run.  Not thread-safe for writers.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "khyve.h"

struct config_node;

/* Create an empty root (or empty the existing tree). */
void	config_init(void);
/* Free everything. */
void	config_fini(void);

/* The root node. */
struct config_node *config_root(void);

/*
 * Find the node at path below parent (NULL parent = root).  Returns NULL
 * if absent or if path names a leaf.
 */
struct config_node *config_find_node(struct config_node *parent,
	    const char *path);
/*
 * Find or create the node at path below parent.  Returns NULL (errno
 * EINVAL) if a component is empty or an existing leaf is in the way.
 */
struct config_node *config_create_node(struct config_node *parent,
	    const char *path);

/*
 * Set a leaf below parent (NULL = root), creating intermediate nodes.
 * Replaces an existing value.  Returns 0, or -EINVAL when the path is
 * malformed (empty component, leading/trailing dot) or a node with
 * children is in the way (or a leaf is in the way of a deeper path).
 */
int	config_set(struct config_node *parent, const char *path,
	    const char *value) __must_check;
/* As config_set() but does nothing when the leaf already has a value. */
int	config_set_default(struct config_node *parent, const char *path,
	    const char *value) __must_check;
int	config_set_bool(struct config_node *parent, const char *path, bool v)
	    __must_check;
/* Remove a leaf; returns 0 or -ENOENT. */
int	config_unset(struct config_node *parent, const char *path);

/*
 * The expanded value of a leaf below parent, or NULL if unset.  The
 * string stays valid until the leaf is changed or the tree freed.  A
 * reference to an unset variable or a loop leaves the %(...) text as it
 * is, and config_get() logs a warning once.
 */
const char *config_get(struct config_node *parent, const char *path);
/* The value as set, without %(...) expansion. */
const char *config_get_raw(struct config_node *parent, const char *path);

/*
 * Typed getters.  Each returns 0 and stores the value, or the default if
 * the key is unset; -EINVAL if the value does not parse (nothing stored).
 *   bool: true/on/yes/1 and false/off/no/0 (case-insensitive)
 *   int64/uint64: strtoll/strtoull syntax (0x, leading 0 octal), full
 *     string, no overflow
 *   size: a number with an optional K/M/G/T suffix (case-insensitive, also
 *     KB/MB/...); a bare number is taken in units of bare_unit (1 for
 *     bytes, MiB for memory.size as bhyve's vm_parse_memsize)
 */
int	config_get_bool(struct config_node *parent, const char *path,
	    bool def, bool *out) __must_check;
int	config_get_int64(struct config_node *parent, const char *path,
	    int64_t def, int64_t *out) __must_check;
int	config_get_uint64(struct config_node *parent, const char *path,
	    uint64_t def, uint64_t *out) __must_check;
int	config_get_size(struct config_node *parent, const char *path,
	    uint64_t def, uint64_t bare_unit, uint64_t *out) __must_check;

/*
 * The same getters for machine set-up: a value that does not parse ends
 * the process with EX_USAGE and a message naming the key.
 */
bool	config_bool(struct config_node *parent, const char *path, bool def);
uint64_t config_uint64(struct config_node *parent, const char *path,
	    uint64_t def);
int64_t	config_int64(struct config_node *parent, const char *path,
	    int64_t def);

/* Parse helpers shared with the flag parser. */
int	config_parse_bool(const char *s, bool *out) __must_check;
int	config_parse_size(const char *s, uint64_t bare_unit, uint64_t *out)
	    __must_check;

/*
 * Read a -k file: key=value lines; blank lines and lines starting with #
 * are ignored; no spaces around '='.  Returns 0, or -errno with a message
 * naming the file and line already printed.
 */
int	config_load_file(const char *path) __must_check;
/* Parse one "key=value" string (-o).  Returns 0 or -EINVAL. */
int	config_parse_assignment(const char *kv) __must_check;

/*
 * Walk the leaves of a node in sorted order, calling fn with the full
 * dotted path and the raw value.
 */
void	config_walk(struct config_node *node,
	    void (*fn)(const char *path, const char *value, void *arg),
	    void *arg);
/* Print the tree in -k format (path=value, sorted). */
void	config_dump(FILE *fp);

/* Full dotted path of a node ("" for the root); static buffer per call. */
const char *config_node_path(const struct config_node *node, char *buf,
	    size_t len);
/* Iterate children: first child / next sibling, NULL at the end. */
struct config_node *config_node_first(struct config_node *node);
struct config_node *config_node_next(struct config_node *node);
const char *config_node_name(const struct config_node *node);
bool	config_node_is_leaf(const struct config_node *node);

#endif /* CONFIG_H */
