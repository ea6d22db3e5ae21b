/*
 * lib.c: the few C library functions the compiler and the tests need, PCI
 * configuration mechanism #1 and TSC calibration.
 */
#include "kit.h"

void *
memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n-- > 0)
		*d++ = *s++;
	return (dst);
}

void *
memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (d <= s || d >= s + n)
		return (memcpy(dst, src, n));
	while (n-- > 0)
		d[n] = s[n];
	return (dst);
}

void *
memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;

	while (n-- > 0)
		*d++ = (uint8_t)c;
	return (dst);
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n > 0; n--, x++, y++)
		if (*x != *y)
			return (*x < *y ? -1 : 1);
	return (0);
}

size_t
strlen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return (n);
}

int
strncmp(const char *a, const char *b, size_t n)
{
	for (; n > 0; n--, a++, b++) {
		if (*a != *b)
			return ((unsigned char)*a < (unsigned char)*b ? -1 : 1);
		if (*a == '\0')
			break;
	}
	return (0);
}

int
strcmp(const char *a, const char *b)
{
	return (strncmp(a, b, (size_t)-1));
}

uint64_t
strtou64(const char *s, const char **end, int base)
{
	uint64_t v = 0;
	unsigned dig;

	if (base == 0) {
		base = 10;
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
			base = 16;
			s += 2;
		}
	}
	for (;; s++) {
		if (*s >= '0' && *s <= '9')
			dig = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			dig = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			dig = (unsigned)(*s - 'A' + 10);
		else
			break;
		if (dig >= (unsigned)base)
			break;
		v = v * (unsigned)base + dig;
	}
	if (end != NULL)
		*end = s;
	return (v);
}

/* ---- PCI configuration mechanism #1: CONFIG_ADDRESS 0xCF8, DATA 0xCFC */
static uint32_t
pci_addr(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return (0x80000000u | (bus & 0xff) << 16 | (dev & 0x1f) << 11 |
	    (fn & 7) << 8 | (off & 0xfc));
}

uint32_t
pci_cfg_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	outl(0xcf8, pci_addr(bus, dev, fn, off));
	return (inl(0xcfc));
}

uint16_t
pci_cfg_read16(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	outl(0xcf8, pci_addr(bus, dev, fn, off));
	return (inw((uint16_t)(0xcfc + (off & 2))));
}

uint8_t
pci_cfg_read8(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	outl(0xcf8, pci_addr(bus, dev, fn, off));
	return (inb((uint16_t)(0xcfc + (off & 3))));
}

void
pci_cfg_write32(unsigned bus, unsigned dev, unsigned fn, unsigned off,
    uint32_t v)
{
	outl(0xcf8, pci_addr(bus, dev, fn, off));
	outl(0xcfc, v);
}

void
pci_cfg_write16(unsigned bus, unsigned dev, unsigned fn, unsigned off,
    uint16_t v)
{
	outl(0xcf8, pci_addr(bus, dev, fn, off));
	outw((uint16_t)(0xcfc + (off & 2)), v);
}

void
pci_cfg_write8(unsigned bus, unsigned dev, unsigned fn, unsigned off,
    uint8_t v)
{
	outl(0xcf8, pci_addr(bus, dev, fn, off));
	outb((uint16_t)(0xcfc + (off & 3)), v);
}

/* ---- TSC ---- */
#define PMTMR_HZ	3579545u	/* ACPI 6.4 §4.8.3.3 */

uint64_t
guest_tsc_khz(void)
{
	static uint64_t khz;
	uint32_t t0, t1, ticks = PMTMR_HZ / 50;	/* 20 ms */
	uint64_t c0, c1;
	unsigned spins = 0;

	if (khz != 0 || acpi_get()->pm_tmr == 0)
		return (khz);
	/* Both timers are read back to back; the PM timer may be 24 bits. */
	t0 = acpi_pm_timer();
	c0 = rdtsc();
	do {
		t1 = acpi_pm_timer();
	} while (((t1 - t0) & 0xffffff) < ticks && ++spins < 1000000);
	c1 = rdtsc();
	if (((t1 - t0) & 0xffffff) == 0)
		return (0);		/* a stopped timer */
	khz = (c1 - c0) * (PMTMR_HZ / 1000) / ((t1 - t0) & 0xffffff);
	return (khz);
}
