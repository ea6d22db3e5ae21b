/*
 * pci_irq.c: INTx routing (bhyve's pci_irq.c and pci_emul.c
 * pci_lintr_request()/pci_lintr_route()).
 *
 * Each function that wants INTx gets the least used pin of its slot.
 * Each (slot, pin) in use gets an I/O APIC pin from 16-23 and one of the
 * eight PIRQ links A-H of the LPC bridge, round-robin; functions on the
 * same (slot, pin) share both, and the line is the OR of their outputs.
 * Asserting drives the I/O APIC pin (APIC mode: the DSDT's _PRT names
 * it) and, when the guest routed the link to an ISA IRQ through the LPC
 * bridge's PIRQ registers, that IRQ too (PIC mode, as on a PIIX).  The
 * links start disabled; the first route on a link gives it an ISA IRQ from
 * a pool clear of the platform's own (0-2 timer and cascade, 1 keyboard,
 * 3/4 COM, 8 RTC, 9 SCI, 12 mouse, 13 FPU), which PCIR_INTLINE reports
 * the way a BIOS would.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include "arch/x86/acpi.h"
#include "log.h"
#include "pci/pci_emul.h"
#include "pci/pci_impl.h"

#define NPIRQ		8
#define PIRQ_DIS	0x80		/* link disabled (PIIX3 PIRQRC) */
#define PIRQ_IRQ	0x0f
#define IOAPIC_PCI_PIN0	16
#define IOAPIC_PCI_PINS	8
#define MAX_ROUTES	(PCI_MAXSLOTS * 4)

struct intx_route {
	uint8_t		slot;
	uint8_t		pin;		/* 1-4 */
	uint8_t		gsi;		/* I/O APIC pin */
	uint8_t		pirq;		/* link 0-7 */
	int		asserted;	/* functions driving it */
};

static const uint8_t pirq_pool[] = { 5, 6, 7, 10, 11, 14, 15 };

static pthread_mutex_t	irq_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct devctx *irq_dc;	/* for the lines */
static struct intx_route irq_routes[MAX_ROUTES];
static unsigned		irq_nroutes;
static int		irq_slot_pins[PCI_MAXSLOTS][4]; /* functions per pin */
static uint8_t		pirq_reg[NPIRQ];
static int		pirq_asserted[NPIRQ];	/* routes driving the link */

void
pci_irq_reset(void)
{
	int i;

	pthread_mutex_lock(&irq_lock);
	irq_dc = NULL;
	irq_nroutes = 0;
	memset(irq_routes, 0, sizeof(irq_routes));
	memset(irq_slot_pins, 0, sizeof(irq_slot_pins));
	memset(pirq_asserted, 0, sizeof(pirq_asserted));
	for (i = 0; i < NPIRQ; i++)
		pirq_reg[i] = PIRQ_DIS;
	pthread_mutex_unlock(&irq_lock);
}

static struct intx_route *
route_find(int slot, int pin)
{
	unsigned i;

	for (i = 0; i < irq_nroutes; i++)
		if (irq_routes[i].slot == slot && irq_routes[i].pin == pin)
			return (&irq_routes[i]);
	return (NULL);
}

void
pci_lintr_request(struct pci_devinst *pi)
{
	struct intx_route *r;
	int pin, best = 0;

	if (pi->pi_bus != 0 || pi->pi_lintr_pin != 0)
		return;			/* no bridges: INTx on bus 0 only */
	pthread_mutex_lock(&irq_lock);
	for (pin = 1; pin < 4; pin++)
		if (irq_slot_pins[pi->pi_slot][pin] <
		    irq_slot_pins[pi->pi_slot][best])
			best = pin;
	irq_slot_pins[pi->pi_slot][best]++;
	r = route_find(pi->pi_slot, best + 1);
	/* MAX_ROUTES is every (slot, pin): a new pair always finds room. */
	if (r == NULL) {
		r = &irq_routes[irq_nroutes];
		r->slot = pi->pi_slot;
		r->pin = (uint8_t)(best + 1);
		r->gsi = (uint8_t)(IOAPIC_PCI_PIN0 +
		    irq_nroutes % IOAPIC_PCI_PINS);
		r->pirq = (uint8_t)(irq_nroutes % NPIRQ);
		/* A link's first user routes it, as a BIOS would. */
		if (pirq_reg[r->pirq] & PIRQ_DIS)
			pirq_reg[r->pirq] = pirq_pool[r->pirq %
			    nitems(pirq_pool)];
		irq_nroutes++;
	}
	pi->pi_lintr_pin = (uint8_t)(best + 1);
	pi->pi_lintr_gsi = r->gsi;
	pi->pi_lintr_pirq = r->pirq;
	irq_dc = pi->pi_ctx;
	pthread_mutex_lock(&pi->pi_lock);
	pci_set_cfgdata8(pi, PCIR_INTPIN, pi->pi_lintr_pin);
	pci_set_cfgdata8(pi, PCIR_INTLINE, pirq_reg[r->pirq] & PIRQ_IRQ);
	pthread_mutex_unlock(&pi->pi_lock);
	pthread_mutex_unlock(&irq_lock);
}

static void
line_set(unsigned gsi, int level)
{
	int error;

	error = dev_irq_set(irq_dc, gsi, level);
	if (error != 0)
		log_warnx_rl("pci: INTx line %u: %s", gsi, strerror(-error));
}

/* Route r gained (+1) or lost (-1) a driver; irq_lock held. */
static void
route_drive(struct intx_route *r, int delta)
{
	uint8_t reg = pirq_reg[r->pirq];

	r->asserted += delta;
	if ((delta > 0 && r->asserted != 1) || (delta < 0 && r->asserted != 0))
		return;			/* the OR did not change */
	line_set(r->gsi, delta > 0);
	pirq_asserted[r->pirq] += delta;
	if ((reg & PIRQ_DIS) == 0 &&
	    ((delta > 0 && pirq_asserted[r->pirq] == 1) ||
	    (delta < 0 && pirq_asserted[r->pirq] == 0)))
		line_set(reg & PIRQ_IRQ, delta > 0);
}

/*
 * INTx is driven only while the command register's Interrupt Disable bit
 * is clear (PCI 3.0 §6.2.2): pi_lintr_want is what the device asks for,
 * pi_lintr_driving what the line sees.  irq_lock held.
 */
static void
lintr_update(struct pci_devinst *pi)
{
	struct intx_route *r;
	bool now = pi->pi_lintr_want && !pi->pi_lintr_disabled;

	if (now == pi->pi_lintr_driving)
		return;
	pi->pi_lintr_driving = now;
	r = route_find(pi->pi_slot, pi->pi_lintr_pin);
	if (r != NULL)
		route_drive(r, now ? 1 : -1);
}

void
pci_lintr_assert(struct pci_devinst *pi)
{
	if (pi->pi_lintr_pin == 0)
		return;
	pthread_mutex_lock(&irq_lock);
	pi->pi_lintr_want = true;
	lintr_update(pi);
	pthread_mutex_unlock(&irq_lock);
}

void
pci_lintr_deassert(struct pci_devinst *pi)
{
	if (pi->pi_lintr_pin == 0)
		return;
	pthread_mutex_lock(&irq_lock);
	pi->pi_lintr_want = false;
	lintr_update(pi);
	pthread_mutex_unlock(&irq_lock);
}

void
pci_lintr_command(struct pci_devinst *pi, bool disabled)
{
	if (pi->pi_lintr_pin == 0)
		return;
	pthread_mutex_lock(&irq_lock);
	pi->pi_lintr_disabled = disabled;
	lintr_update(pi);
	pthread_mutex_unlock(&irq_lock);
}

unsigned
pci_lintr_routes(struct acpi_intx *out, unsigned max)
{
	unsigned i, n;

	pthread_mutex_lock(&irq_lock);
	for (i = n = 0; i < irq_nroutes && n < max; i++, n++) {
		out[n].ai_slot = irq_routes[i].slot;
		out[n].ai_pin = irq_routes[i].pin;
		out[n].ai_gsi = irq_routes[i].gsi;
	}
	pthread_mutex_unlock(&irq_lock);
	return (n);
}

uint8_t
pci_pirq_read(int pirq)
{
	uint8_t v;

	if (pirq < 0 || pirq >= NPIRQ)
		return (0xff);
	pthread_mutex_lock(&irq_lock);
	v = pirq_reg[pirq];
	pthread_mutex_unlock(&irq_lock);
	return (v);
}

int
pci_pirq_irq(int pirq)
{
	return (pci_pirq_read(pirq) & PIRQ_IRQ);
}

/*
 * The guest re-routed a link.  IRQs 0, 1, 2, 8 and 13 are the platform's
 * and cannot carry a link (PIIX3 treats them as reserved); a link routed
 * there is disabled.  A link that is driven moves with its level.
 */
void
pci_pirq_write(int pirq, uint8_t val)
{
	uint8_t old, irq;

	if (pirq < 0 || pirq >= NPIRQ)
		return;
	val &= PIRQ_DIS | PIRQ_IRQ;
	irq = val & PIRQ_IRQ;
	if (irq <= 2 || irq == 8 || irq == 13)
		val |= PIRQ_DIS;
	pthread_mutex_lock(&irq_lock);
	old = pirq_reg[pirq];
	pirq_reg[pirq] = val;
	if (old != val && pirq_asserted[pirq] > 0 && irq_dc != NULL) {
		if ((old & PIRQ_DIS) == 0)
			line_set(old & PIRQ_IRQ, 0);
		if ((val & PIRQ_DIS) == 0)
			line_set(val & PIRQ_IRQ, 1);
	}
	pthread_mutex_unlock(&irq_lock);
}
