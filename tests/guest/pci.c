/*
 * pci: PCI configuration mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2).
 *
 * The host bridge at 0:0.0 and the LPC bridge, their IDs and class codes
 * through dword, word and byte accesses, CONFIG_ADDRESS read-back, the
 * enable bit, empty slots, functions and buses reading all-ones, a
 * read-only ID and a writable register.  Defaults are bhyve's platform
 * (hostbridge 1275:1275 class 06/00 in slot 0, lpc 8086:7000 class 06/01
 * in slot 31); the command line can name others:
 *   hostbridge=VVVV:DDDD lpc=SLOT lpcid=VVVV:DDDD empty=SLOT
 *   devices=S,S,...   (exactly these slots of bus 0 are populated)
 */
#include "kit.h"

static void
parse_id(const char *name, uint16_t *ven, uint16_t *dev)
{
	const char *v = arg_get(name), *end;

	if (v == NULL)
		return;
	*ven = (uint16_t)strtou64(v, &end, 16);
	if (*end == ':')
		*dev = (uint16_t)strtou64(end + 1, NULL, 16);
}

static void
check_device(const char *what, unsigned slot, uint16_t ven, uint16_t dev,
    uint8_t class, uint8_t subclass)
{
	uint32_t id = pci_cfg_read32(0, slot, 0, 0x00);
	uint32_t cc = pci_cfg_read32(0, slot, 0, 0x08);

	printf("%s 0:%u.0: id %08x class/rev %08x header 0x%02x\n", what,
	    slot, id, cc, pci_cfg_read8(0, slot, 0, 0x0e));
	GCHECK_EQ(id, (uint32_t)dev << 16 | ven);
	GCHECK_EQ(pci_cfg_read16(0, slot, 0, 0x00), ven);
	GCHECK_EQ(pci_cfg_read16(0, slot, 0, 0x02), dev);
	GCHECK_EQ(pci_cfg_read8(0, slot, 0, 0x00), ven & 0xff);
	GCHECK_EQ(pci_cfg_read8(0, slot, 0, 0x01), ven >> 8);
	GCHECK_EQ(pci_cfg_read8(0, slot, 0, 0x02), dev & 0xff);
	GCHECK_EQ(pci_cfg_read8(0, slot, 0, 0x03), dev >> 8);
	GCHECK_EQ(cc >> 24, class);
	GCHECK_EQ((cc >> 16) & 0xff, subclass);
	GCHECK_EQ(pci_cfg_read8(0, slot, 0, 0x0b), class);
	GCHECK_EQ(pci_cfg_read8(0, slot, 0, 0x0a), subclass);
	GCHECK_EQ(pci_cfg_read16(0, slot, 0, 0x0a), (uint16_t)(cc >> 16));
	GCHECK_EQ(pci_cfg_read8(0, slot, 0, 0x0e) & 0x7f, 0);	/* type 0 */

	/* The vendor ID is read-only. */
	pci_cfg_write16(0, slot, 0, 0x00, (uint16_t)~ven);
	GCHECK_EQ(pci_cfg_read16(0, slot, 0, 0x00), ven);
}

static void
check_absent(const char *what, unsigned bus, unsigned slot, unsigned fn)
{
	uint32_t v = pci_cfg_read32(bus, slot, fn, 0);

	if (v != 0xffffffffu)
		printf("%s %u:%u.%u reads 0x%08x\n", what, bus, slot, fn, v);
	GCHECK_EQ(v, 0xffffffffu);
	GCHECK_EQ(pci_cfg_read16(bus, slot, fn, 0x02), 0xffff);
	GCHECK_EQ(pci_cfg_read8(bus, slot, fn, 0x0b), 0xff);
}

/* "devices=0,31": bus 0 holds devices in exactly these slots. */
static void
check_population(const char *list)
{
	uint32_t want = 0, have = 0;
	const char *p = list;
	unsigned s;

	while (*p != '\0') {
		s = (unsigned)strtou64(p, &p, 10);
		if (s < 32)
			want |= 1u << s;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			break;
	}
	for (s = 0; s < 32; s++)
		if (pci_cfg_read16(0, s, 0, 0) != 0xffff)
			have |= 1u << s;
	printf("bus 0 slots populated: 0x%08x (expected 0x%08x)\n", have,
	    want);
	GCHECK_EQ(have, want);
}

int
guest_main(void)
{
	uint16_t hb_ven = 0x1275, hb_dev = 0x1275;
	uint16_t lpc_ven = 0x8086, lpc_dev = 0x7000;
	unsigned lpc = (unsigned)arg_get_u64("lpc", 31);
	unsigned empty = (unsigned)arg_get_u64("empty", 5);
	uint32_t addr = 0x80000000u | lpc << 11 | 0x3c;
	uint8_t line;

	parse_id("hostbridge", &hb_ven, &hb_dev);
	parse_id("lpcid", &lpc_ven, &lpc_dev);

	/* CONFIG_ADDRESS holds what was written (bits 1:0 read as 0). */
	outl(0xcf8, addr);
	GCHECK_EQ(inl(0xcf8), addr);
	outl(0xcf8, 0x80000000u);
	GCHECK_EQ(inl(0xcf8), 0x80000000u);

	check_device("hostbridge", 0, hb_ven, hb_dev, 0x06, 0x00);
	check_device("lpc", lpc, lpc_ven, lpc_dev, 0x06, 0x01);

	/* With the enable bit clear, CONFIG_DATA is not a config cycle. */
	outl(0xcf8, 0x00000000u);
	GCHECK_EQ(inl(0xcfc), 0xffffffffu);

	check_absent("empty slot", 0, empty, 0);
	check_absent("missing function", 0, 0, 1);
	check_absent("missing bus", 1, 0, 0);
	if (arg_get("devices") != NULL)
		check_population(arg_get("devices"));

	/* Interrupt Line (0x3C) is a plain read-write byte. */
	line = pci_cfg_read8(0, lpc, 0, 0x3c);
	pci_cfg_write8(0, lpc, 0, 0x3c, 0x5a);
	GCHECK_EQ(pci_cfg_read8(0, lpc, 0, 0x3c), 0x5a);
	GCHECK_EQ(pci_cfg_read32(0, lpc, 0, 0x3c) & 0xff, 0x5a);
	pci_cfg_write8(0, lpc, 0, 0x3c, line);
	GCHECK_EQ(pci_cfg_read8(0, lpc, 0, 0x3c), line);
	return (0);
}
