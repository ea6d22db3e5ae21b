/*
 * pci_slot.c: "-s [bus:]slot[:func],emul[,conf]" into pci.B.S.F keys, and
 * the -s help list (bhyve's pci_emul.c pci_parse_slot(),
 * pci_parse_legacy_config() and pci_print_supported_devices()).
 *
 * Unlike bhyve's sscanf() the numbers must be plain decimal with nothing
 * after them, so "3x,virtio-blk" is an error rather than slot 3.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "pci/pci_emul.h"

void
pci_print_supported_devices(void)
{
	const struct pci_devemu *const *pdpp;

	SET_FOREACH(pdpp, pci_devemu_set)
		printf("%s\n", (*pdpp)->pe_emu);
}

/* A decimal number below max, from s up to (not including) end. */
static int
pci_slot_num(const char *s, const char *end, int max)
{
	int v = 0;

	if (s == end || end - s > 3)
		return (-1);
	for (; s < end; s++) {
		if (!isdigit((unsigned char)*s))
			return (-1);
		v = v * 10 + (*s - '0');
	}
	return (v < max ? v : -1);
}

/* "[bus:]slot[:func]" (bhyve: b:s:f, s:f or s). */
static int
pci_slot_bsf(const char *s, const char *end, int *b, int *sl, int *f)
{
	const char *c1, *c2;

	c1 = memchr(s, ':', (size_t)(end - s));
	c2 = c1 != NULL ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
	if (c2 != NULL && memchr(c2 + 1, ':', (size_t)(end - c2 - 1)) != NULL)
		return (-EINVAL);
	if (c2 != NULL) {
		*b = pci_slot_num(s, c1, PCI_MAXBUSES);
		*sl = pci_slot_num(c1 + 1, c2, PCI_MAXSLOTS);
		*f = pci_slot_num(c2 + 1, end, PCI_MAXFUNCS);
	} else if (c1 != NULL) {
		*b = 0;
		*sl = pci_slot_num(s, c1, PCI_MAXSLOTS);
		*f = pci_slot_num(c1 + 1, end, PCI_MAXFUNCS);
	} else {
		*b = 0;
		*sl = pci_slot_num(s, end, PCI_MAXSLOTS);
		*f = 0;
	}
	return (*b < 0 || *sl < 0 || *f < 0 ? -EINVAL : 0);
}

/*
 * The default conf syntax: comma-separated "key=value" pairs, a bare
 * "key" meaning key=true (bhyve pci_parse_legacy_config()).  Keys may be
 * dotted paths below the device node ("pcireg.vendor=0x1234").
 */
int
pci_parse_kv(struct config_node *nvl, const char *where, const char *conf)
{
	char *copy, *rest, *tok, *eq;
	int error = 0;

	rest = copy = strdup(conf);
	if (copy == NULL)
		return (-ENOMEM);
	while (error == 0 && (tok = strsep(&rest, ",")) != NULL) {
		if (*tok == '\0')
			continue;
		eq = strchr(tok, '=');
		if (eq != NULL)
			*eq = '\0';
		if (strcmp(tok, "device") == 0) {
			log_warnx("-s: %s: 'device' is set by the emulation "
			    "name and cannot be an option", where);
			error = -EINVAL;
		} else if ((eq != NULL ? config_set(nvl, tok, eq + 1) :
		    config_set_bool(nvl, tok, true)) != 0) {
			log_warnx("-s: %s: invalid option '%.64s'", where, tok);
			error = -EINVAL;
		}
	}
	free(copy);
	return (error);
}

int
pci_parse_slot(const char *opt)
{
	const struct pci_devemu *pe;
	struct config_node *nvl;
	const char *c1, *c2, *conf;
	char node[48], *emul;
	int b, s, f, error;

	c1 = strchr(opt, ',');
	if (c1 == NULL || pci_slot_bsf(opt, c1, &b, &s, &f) != 0) {
		log_warnx("-s: invalid PCI slot '%.64s' (want [bus:]slot[:func],"
		    "emulation[,options] with bus 0-255, slot 0-31, func 0-7)",
		    opt);
		return (-EINVAL);
	}
	c2 = strchr(c1 + 1, ',');
	emul = c2 != NULL ? strndup(c1 + 1, (size_t)(c2 - c1 - 1)) :
	    strdup(c1 + 1);
	if (emul == NULL)
		return (-ENOMEM);
	conf = c2 != NULL ? c2 + 1 : NULL;
	pe = pci_emul_finddev(emul);
	if (pe == NULL) {
		log_warnx("-s: %d:%d:%d: unknown emulation '%.64s' (-s help "
		    "lists them)", b, s, f, emul);
		free(emul);
		return (-EINVAL);
	}
	free(emul);
	snprintf(node, sizeof(node), "pci.%d.%d.%d", b, s, f);
	if (config_find_node(NULL, node) != NULL ||
	    config_get_raw(NULL, node) != NULL) {
		log_warnx("-s: %d:%d:%d: slot already occupied", b, s, f);
		return (-EINVAL);
	}
	nvl = config_create_node(NULL, node);
	if (nvl == NULL || config_set(nvl, "device", pe->pe_emu) != 0) {
		log_warnx("-s: %d:%d:%d: cannot create %s (it conflicts with "
		    "an existing key)", b, s, f, node);
		return (-EINVAL);
	}
	if (pe->pe_legacy_config != NULL)
		error = pe->pe_legacy_config(nvl, conf);
	else
		error = conf != NULL ? pci_parse_kv(nvl, node, conf) : 0;
	return (error != 0 ? -EINVAL : 0);
}
