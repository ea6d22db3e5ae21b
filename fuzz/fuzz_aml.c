/*
 * fuzz_aml.c: the AML builder against a second, recursive encoder.
 *
 * The input describes a tree of AML objects (scopes, devices, methods,
 * packages, buffers, integers, strings, raw runs).  The tree is emitted
 * twice: through aml.c's streaming API (PkgLength inserted on close) and
 * through a straightforward recursive encoder written here (children
 * first, then the PkgLength in front).  The bytes must be identical.
 * The tail of the input also drives acpi_build() with a fuzzed
 * configuration: it must succeed or refuse with -EINVAL, and every table
 * it writes must checksum to zero.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"
#include "arch/x86/acpi.h"
#include "arch/x86/aml.h"
#include "arch/x86/layout.h"

#define MAXNODES	64
#define MAXRAW		8192

enum kind { K_SCOPE, K_DEVICE, K_METHOD, K_PACKAGE, K_BUFFER, K_INT,
    K_STRING, K_RAW, K_NKINDS };

struct node {
	enum kind	kind;
	uint64_t	val;		/* integer, raw length, method args */
	unsigned	name;		/* index into names[] */
	struct node	*child[8];
	unsigned	nchild;
};

static const struct {
	const char	*str;
	const char	*enc;
	size_t		len;
} names[] = {
	{ "FOO", "FOO_", 4 },
	{ "\\_SB", "\\_SB_", 5 },
	{ "\\_SB.PCI0", "\\\x2e_SB_PCI0", 10 },
	{ "A.B.C", "\x2f\x03" "A___B___C___", 14 },
	{ "^X1", "^X1__", 5 },
};

struct input {
	const uint8_t	*p;
	size_t		n;
	struct node	pool[MAXNODES];
	unsigned	used;
};

static unsigned
take(struct input *in)
{
	if (in->n == 0)
		return (0);
	in->n--;
	return (*in->p++);
}

static struct node *
parse(struct input *in, unsigned depth)
{
	struct node *nd;
	unsigned i, n;

	if (in->n == 0 || in->used == MAXNODES)
		return (NULL);
	nd = &in->pool[in->used++];
	memset(nd, 0, sizeof(*nd));
	nd->kind = (enum kind)(take(in) % K_NKINDS);
	if (depth >= AML_MAX_DEPTH - 1 && nd->kind <= K_BUFFER)
		nd->kind = K_INT;
	switch (nd->kind) {
	case K_INT:
		for (i = 0; i < 8; i++)
			nd->val = nd->val << 8 | take(in);
		nd->val >>= take(in) % 64;
		return (nd);
	case K_RAW:
		nd->val = (take(in) << 8 | take(in)) % MAXRAW;
		return (nd);
	case K_STRING:
		return (nd);
	case K_METHOD:
		nd->val = take(in) % 16;	/* args 0-7, serialized bit */
		__attribute__((fallthrough));
	default:
		nd->name = take(in) % nitems(names);
		n = take(in) % nitems(nd->child);
		for (i = 0; i < n; i++) {
			nd->child[nd->nchild] = parse(in, depth + 1);
			if (nd->child[nd->nchild] == NULL)
				break;
			nd->nchild++;
		}
		return (nd);
	}
}

/* The streaming builder under test. */
static void
emit(struct aml *a, const struct node *nd)
{
	static const uint8_t raw[MAXRAW];
	unsigned i;

	switch (nd->kind) {
	case K_INT:
		aml_integer(a, nd->val);
		return;
	case K_STRING:
		aml_string(a, "khyve");
		return;
	case K_RAW:
		aml_bytes(a, raw, nd->val);
		return;
	case K_SCOPE:
		aml_scope_begin(a, names[nd->name].str);
		break;
	case K_DEVICE:
		aml_device_begin(a, names[nd->name].str);
		break;
	case K_METHOD:
		aml_method_begin(a, names[nd->name].str, nd->val & 7,
		    (nd->val & 8) != 0);
		break;
	case K_PACKAGE:
		aml_package_begin(a, nd->nchild);
		break;
	case K_BUFFER:
		aml_buffer_begin(a);
		break;
	default:
		abort();
	}
	for (i = 0; i < nd->nchild; i++)
		emit(a, nd->child[i]);
	aml_end(a);
}

struct out {
	uint8_t		*b;
	size_t		len;
};

static void
put(struct out *o, const void *p, size_t len)
{
	o->b = realloc(o->b, o->len + len + 1);
	if (o->b == NULL)
		abort();
	if (len != 0)
		memcpy(o->b + o->len, p, len);
	o->len += len;
}

static void
ref_int(struct out *o, uint64_t v)
{
	uint8_t b[9];
	unsigned n, i;

	if (v == 0 || v == 1 || v == UINT64_MAX) {
		b[0] = v == UINT64_MAX ? 0xff : (uint8_t)v;
		put(o, b, 1);
		return;
	}
	n = v < 0x100 ? 1 : v < 0x10000 ? 2 : v < 0x100000000ULL ? 4 : 8;
	b[0] = n == 1 ? 0x0a : n == 2 ? 0x0b : n == 4 ? 0x0c : 0x0e;
	for (i = 0; i < n; i++)
		b[1 + i] = (uint8_t)(v >> (8 * i));
	put(o, b, 1 + n);
}

/* Prefix body with op bytes and a PkgLength covering itself + body. */
static void
ref_pkg(struct out *o, const uint8_t *op, size_t oplen, struct out *body)
{
	static const uint32_t lim[4] = { 0x3f, 0xfff, 0xfffff, 0xfffffff };
	uint8_t pl[4];
	uint32_t total;
	unsigned n, i;

	for (n = 1; n <= 4; n++)
		if (body->len + n <= lim[n - 1])
			break;
	if (n > 4)
		abort();
	total = (uint32_t)(body->len + n);
	if (n == 1)
		pl[0] = (uint8_t)total;
	else {
		pl[0] = (uint8_t)((n - 1) << 6 | (total & 0xf));
		for (i = 1; i < n; i++)
			pl[i] = (uint8_t)(total >> (8 * i - 4));
	}
	put(o, op, oplen);
	put(o, pl, n);
	put(o, body->b, body->len);
}

static void
ref(struct out *o, const struct node *nd)
{
	static const uint8_t zero[MAXRAW];
	static const uint8_t scope[] = { 0x10 }, device[] = { 0x5b, 0x82 },
	    method[] = { 0x14 }, package[] = { 0x12 }, buffer[] = { 0x11 };
	struct out body = { NULL, 0 }, kids = { NULL, 0 };
	uint8_t b;
	unsigned i;

	switch (nd->kind) {
	case K_INT:
		ref_int(o, nd->val);
		return;
	case K_STRING:
		put(o, "\x0dkhyve", 7);
		return;
	case K_RAW:
		put(o, zero, nd->val);
		return;
	default:
		break;
	}
	for (i = 0; i < nd->nchild; i++)
		ref(&kids, nd->child[i]);
	switch (nd->kind) {
	case K_PACKAGE:
		b = (uint8_t)nd->nchild;
		put(&body, &b, 1);
		break;
	case K_BUFFER:
		ref_int(&body, kids.len);
		break;
	default:
		put(&body, names[nd->name].enc, names[nd->name].len);
		if (nd->kind == K_METHOD) {
			b = (uint8_t)nd->val;
			put(&body, &b, 1);
		}
	}
	put(&body, kids.b, kids.len);
	if (nd->kind == K_SCOPE)
		ref_pkg(o, scope, 1, &body);
	else if (nd->kind == K_DEVICE)
		ref_pkg(o, device, 2, &body);
	else if (nd->kind == K_METHOD)
		ref_pkg(o, method, 1, &body);
	else if (nd->kind == K_PACKAGE)
		ref_pkg(o, package, 1, &body);
	else
		ref_pkg(o, buffer, 1, &body);
	free(body.b);
	free(kids.b);
}

static uint8_t
sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len-- > 0)
		s = (uint8_t)(s + *p++);
	return (s);
}

static void
fuzz_tables(struct input *in)
{
	static struct fake_vm fv;
	static int ready;
	struct acpi_intx ix[4];
	struct acpi_config c;
	uint64_t rsdp, x, t;
	uint32_t len, tlen;
	unsigned i;
	int error;

	if (!ready) {
		fake_vm_init(&fv, 1 * MiB, 1);
		ready = 1;
	}
	memset(&c, 0, sizeof(c));
	c.ncpus = (int)(take(in) << 8 | take(in)) - 2;
	c.lowmem = (uint64_t)take(in) << 24;
	c.highmem = (uint64_t)take(in) << 30;
	c.pci = take(in) & 1;
	c.com_mask = (uint8_t)take(in);
	c.ps2_mouse = take(in) & 1;
	c.pm_tmr_32bit = take(in) & 1;
	if (take(in) & 1) {
		c.mmio64_base = (uint64_t)take(in) << 32;
		c.mmio64_size = (uint64_t)take(in) << 28;
	}
	c.nintx = take(in) % (nitems(ix) + 1);
	c.intx = ix;
	for (i = 0; i < nitems(ix); i++) {
		ix[i].ai_slot = (uint8_t)take(in);
		ix[i].ai_pin = (uint8_t)take(in);
		ix[i].ai_gsi = (uint8_t)take(in);
	}
	error = acpi_build(&fv.mem, &c, &rsdp);
	if (error == -EINVAL)
		return;
	if (error != 0 || rsdp != ACPI_BASE)
		abort();
	if (sum8(fv.ram + rsdp, 20) != 0 || sum8(fv.ram + rsdp, 36) != 0)
		abort();
	memcpy(&x, fv.ram + rsdp + 24, 8);
	memcpy(&len, fv.ram + x + 4, 4);
	if (sum8(fv.ram + x, len) != 0)
		abort();
	for (i = 0; i < (len - 36) / 8; i++) {
		memcpy(&t, fv.ram + x + 36 + 8 * i, 8);
		if (t < ACPI_BASE || t >= ACPI_BASE + ACPI_MAX_LENGTH)
			abort();
		memcpy(&tlen, fv.ram + t + 4, 4);
		if (tlen > ACPI_MAX_LENGTH || sum8(fv.ram + t, tlen) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct input in;
	struct out want = { NULL, 0 };
	struct node *root;
	struct aml a;

	in.p = data;
	in.n = size;
	in.used = 0;
	root = parse(&in, 0);
	if (root != NULL) {
		aml_init(&a);
		emit(&a, root);
		if (aml_finish(&a) != 0)
			abort();
		ref(&want, root);
		if (want.len != a.a_len ||
		    (a.a_len != 0 && memcmp(want.b, a.a_buf, a.a_len) != 0))
			abort();
		free(want.b);
		aml_free(&a);
	}
	fuzz_tables(&in);
	return (0);
}
