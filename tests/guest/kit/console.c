/*
 * console.c: COM1 output by polling and a small printf.
 *
 * The UART is used as the monitor left it (the uart test checks the reset
 * state): the kit only writes THR and reads LSR (NS16550D data sheet,
 * "Line Status Register": bit 5 THRE).
 */
#include "kit.h"

#define COM1		0x3f8
#define COM_LSR		5
#define LSR_THRE	0x20
#define THRE_SPINS	100000	/* an absent UART reads LSR = 0xff */

unsigned kit_failures;

void
con_putc(char c)
{
	unsigned i;

	if (c == '\n')
		con_putc('\r');
	for (i = 0; i < THRE_SPINS; i++)
		if (inb(COM1 + COM_LSR) & LSR_THRE)
			break;
	outb(COM1, (uint8_t)c);
}

void
con_write(const char *s, size_t len)
{
	while (len-- > 0)
		con_putc(*s++);
}

/* Output sink: a bounded buffer, or the console when buf is NULL. */
struct sink {
	char *buf;
	size_t len;			/* buffer size */
	size_t n;			/* characters produced so far */
};

static void
sink_put(struct sink *k, char c)
{
	if (k->buf == NULL)
		con_putc(c);
	else if (k->n + 1 < k->len)
		k->buf[k->n] = c;
	k->n++;
}

static void
sink_pad(struct sink *k, char c, int count)
{
	while (count-- > 0)
		sink_put(k, c);
}

static void
fmt_num(struct sink *k, uint64_t v, int neg, unsigned base, int upper,
    int width, int zero, int left)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, len;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v != 0);
	len = n + (neg ? 1 : 0);
	if (!left && !zero)
		sink_pad(k, ' ', width - len);
	if (neg)
		sink_put(k, '-');
	if (!left && zero)
		sink_pad(k, '0', width - len);
	while (n > 0)
		sink_put(k, tmp[--n]);
	if (left)
		sink_pad(k, ' ', width - len);
}

static void
fmt(struct sink *k, const char *f, va_list ap)
{
	const char *s;
	int width, prec, zero, left, lng, len;
	uint64_t u;
	int64_t d;

	for (; *f != '\0'; f++) {
		if (*f != '%') {
			sink_put(k, *f);
			continue;
		}
		f++;
		zero = left = 0;
		for (;; f++) {
			if (*f == '0')
				zero = 1;
			else if (*f == '-')
				left = 1;
			else
				break;
		}
		width = 0;
		if (*f == '*') {
			width = va_arg(ap, int);
			f++;
		}
		while (*f >= '0' && *f <= '9')
			width = width * 10 + (*f++ - '0');
		prec = -1;
		if (*f == '.') {
			prec = 0;
			f++;
			if (*f == '*') {
				prec = va_arg(ap, int);
				f++;
			}
			while (*f >= '0' && *f <= '9')
				prec = prec * 10 + (*f++ - '0');
		}
		lng = 0;			/* 0 int, 1 long/long long */
		while (*f == 'l' || *f == 'h' || *f == 'z') {
			if (*f == 'l' || *f == 'z')
				lng = 1;
			f++;
		}
		switch (*f) {
		case 'd':
		case 'i':
			d = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			u = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
			fmt_num(k, u, d < 0, 10, 0, width, zero, left);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			fmt_num(k, u, 0, *f == 'u' ? 10 : 16, *f == 'X', width,
			    zero, left);
			break;
		case 'p':
			u = (uint64_t)(uintptr_t)va_arg(ap, void *);
			sink_put(k, '0');
			sink_put(k, 'x');
			fmt_num(k, u, 0, 16, 0, width - 2, zero, left);
			break;
		case 'c':
			sink_pad(k, ' ', left ? 0 : width - 1);
			sink_put(k, (char)va_arg(ap, int));
			sink_pad(k, ' ', left ? width - 1 : 0);
			break;
		case 's':
			s = va_arg(ap, const char *);
			if (s == NULL)
				s = "(null)";
			for (len = 0; s[len] != '\0' && (prec < 0 || len < prec);
			    len++)
				;
			if (!left)
				sink_pad(k, ' ', width - len);
			for (int i = 0; i < len; i++)
				sink_put(k, s[i]);
			if (left)
				sink_pad(k, ' ', width - len);
			break;
		case '%':
			sink_put(k, '%');
			break;
		case '\0':
			return;
		default:
			sink_put(k, '%');
			sink_put(k, *f);
			break;
		}
	}
}

int
vsnprintf(char *buf, size_t len, const char *f, va_list ap)
{
	static char dummy;
	struct sink k = { buf != NULL ? buf : &dummy, buf != NULL ? len : 0, 0 };

	fmt(&k, f, ap);
	if (k.len > 0)
		k.buf[k.n < k.len ? k.n : k.len - 1] = '\0';
	return ((int)k.n);
}

int
snprintf(char *buf, size_t len, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, len, f, ap);
	va_end(ap);
	return (n);
}

int
vprintf(const char *f, va_list ap)
{
	struct sink k = { NULL, 0, 0 };

	fmt(&k, f, ap);
	return ((int)k.n);
}

int
printf(const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vprintf(f, ap);
	va_end(ap);
	return (n);
}

void
kit_check_failed(const char *file, int line, const char *expr)
{
	kit_failures++;
	printf("check failed: %s:%d: %s\n", file, line, expr);
}

void
kit_check_eq_failed(const char *file, int line, const char *a, const char *b,
    uint64_t va, uint64_t vb)
{
	kit_failures++;
	printf("check failed: %s:%d: %s == %s (0x%lx != 0x%lx)\n", file, line,
	    a, b, va, vb);
}
