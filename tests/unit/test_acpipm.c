/*
 * test_acpipm.c: the PM1a event and control blocks, the PM timer and the
 * reset control register, through the ports the machine registers.
 */
#include <time.h>
#include "arch/x86/layout.h"
#include "fake.h"
#include "hw/acpipm.h"
#include "test.h"

#define PWRBTN		0x0100
#define TMR		0x0001
#define SLP_EN		0x2000

static struct timespec now;

static struct timespec
fake_clock(void)
{
	return (now);
}

static struct acpipm_softc *
setup(struct fake_vm *fv)
{
	struct acpipm_softc *sc;

	fake_vm_init(fv, 0, 1);
	sc = acpipm_init(&fv->dc, IRQ_SCI);
	if (sc == NULL ||
	    io_register(&fv->bus, IO_PIO, IO_PM1A_EVT, 4, acpipm_evt_io, sc,
	    "pm1a_evt") != 0 ||
	    io_register(&fv->bus, IO_PIO, IO_PM1A_CNT, 2, acpipm_cnt_io, sc,
	    "pm1a_cnt") != 0 ||
	    io_register(&fv->bus, IO_PIO, IO_PM_TIMER, 4, acpipm_timer_io, sc,
	    "pm_timer") != 0 ||
	    io_register(&fv->bus, IO_PIO, IO_RESET_CONTROL, 1, acpipm_reset_io,
	    sc, "reset") != 0)
		exit(2);
	now.tv_sec = 1000;
	now.tv_nsec = 0;
	acpipm_set_clock_fn(sc, fake_clock);
	return (sc);
}

static void
teardown(struct fake_vm *fv, struct acpipm_softc *sc)
{
	acpipm_fini(sc);
	fake_vm_fini(fv);
}

TEST(s5_powers_off)
{
	struct fake_vm fv;
	struct acpipm_softc *sc = setup(&fv);

	CHECK_EQ(fake_in(&fv, IO_PM1A_CNT, 2), 0x0001);	/* SCI_EN */
	/* SLP_TYP = 5 without SLP_EN only stores the type. */
	fake_out(&fv, IO_PM1A_CNT, 2, ACPI_S5_SLP_TYP << 10);
	CHECK_EQ(fv.nsuspend, 0);
	CHECK_EQ(fake_in(&fv, IO_PM1A_CNT, 2), (ACPI_S5_SLP_TYP << 10) | 1);
	fake_out(&fv, IO_PM1A_CNT, 2, (ACPI_S5_SLP_TYP << 10) | SLP_EN);
	CHECK_EQ(fv.suspended, VM_SUSPEND_POWEROFF);
	CHECK_EQ(fv.nsuspend, 1);
	/* SLP_EN is write-only; SCI_EN cannot be cleared. */
	CHECK_EQ(fake_in(&fv, IO_PM1A_CNT, 2) & (SLP_EN | 1), 1);
	/* A byte write to the high half works too. */
	fake_out(&fv, IO_PM1A_CNT + 1, 1, ((ACPI_S5_SLP_TYP << 10) | SLP_EN) >> 8);
	CHECK_EQ(fv.nsuspend, 2);
	teardown(&fv, sc);
}

TEST(other_sleep_types_ignored)
{
	struct fake_vm fv;
	struct acpipm_softc *sc = setup(&fv);
	unsigned typ;

	for (typ = 0; typ < 8; typ++) {
		if (typ == ACPI_S5_SLP_TYP)
			continue;
		fake_out(&fv, IO_PM1A_CNT, 2, (typ << 10) | SLP_EN);
	}
	CHECK_EQ(fv.nsuspend, 0);
	CHECK_EQ(fv.suspended, VM_SUSPEND_NONE);
	teardown(&fv, sc);
}

TEST(power_button_and_sci)
{
	struct fake_vm fv;
	struct acpipm_softc *sc = setup(&fv);

	/* Not enabled: status only. */
	acpipm_power_button(sc);
	CHECK_EQ(fake_in(&fv, IO_PM1A_EVT, 2) & PWRBTN, PWRBTN);
	CHECK_EQ(fv.irq_level[IRQ_SCI], 0);
	/* Enabling it raises the SCI (level). */
	fake_out(&fv, IO_PM1A_EVT + 2, 2, PWRBTN);
	CHECK_EQ(fake_in(&fv, IO_PM1A_EVT + 2, 2), PWRBTN);
	CHECK_EQ(fv.irq_level[IRQ_SCI], 1);
	/* Writing 0 clears nothing; writing 1 clears it. */
	fake_out(&fv, IO_PM1A_EVT, 2, 0);
	CHECK_EQ(fv.irq_level[IRQ_SCI], 1);
	fake_out(&fv, IO_PM1A_EVT, 2, PWRBTN);
	CHECK_EQ(fake_in(&fv, IO_PM1A_EVT, 2) & PWRBTN, 0);
	CHECK_EQ(fv.irq_level[IRQ_SCI], 0);
	/* Pressed again with the enable on: straight to the SCI. */
	acpipm_power_button(sc);
	CHECK_EQ(fv.irq_level[IRQ_SCI], 1);
	CHECK_EQ(fv.irq_rises[IRQ_SCI], 2);
	/* A dword access covers PM1_STS and PM1_EN: clear and disable. */
	CHECK_EQ(fake_in(&fv, IO_PM1A_EVT, 4), (PWRBTN << 16) | PWRBTN);
	fake_out(&fv, IO_PM1A_EVT, 4, PWRBTN);
	CHECK_EQ(fake_in(&fv, IO_PM1A_EVT, 4), 0);
	CHECK_EQ(fv.irq_level[IRQ_SCI], 0);
	/* Reserved enable bits do not stick. */
	fake_out(&fv, IO_PM1A_EVT + 2, 2, 0x8000);
	CHECK_EQ(fake_in(&fv, IO_PM1A_EVT + 2, 2), 0);
	CHECK_EQ(fv.nsuspend, 0);
	teardown(&fv, sc);
}

TEST(pm_timer)
{
	struct fake_vm fv;
	struct acpipm_softc *sc = setup(&fv);
	uint32_t t0, t1;

	t0 = (uint32_t)fake_in(&fv, IO_PM_TIMER, 4);
	CHECK_EQ(t0, (1000ULL * 3579545) & 0xffffff);
	now.tv_nsec = 1000000;			/* 1 ms later */
	t1 = (uint32_t)fake_in(&fv, IO_PM_TIMER, 4);
	CHECK_EQ((t1 - t0) & 0xffffff, 3579);
	CHECK_EQ(t1 >> 24, 0);			/* 24 bits */
	/* Byte lanes. */
	CHECK_EQ(fake_in(&fv, IO_PM_TIMER + 1, 1), (t1 >> 8) & 0xff);
	CHECK_EQ(fake_in(&fv, IO_PM_TIMER + 2, 2), t1 >> 16);
	/* Writes are ignored. */
	fake_out(&fv, IO_PM_TIMER, 4, 0);
	CHECK_EQ(fake_in(&fv, IO_PM_TIMER, 4), t1);
	teardown(&fv, sc);
}

TEST(timer_overflow_status)
{
	struct fake_vm fv;
	struct acpipm_softc *sc = setup(&fv);

	CHECK_EQ(fake_in(&fv, IO_PM1A_EVT, 2) & TMR, 0);
	/* Bit 23 changes every 2^23 ticks, about 2.34 s. */
	now.tv_sec += 3;
	CHECK_EQ(fake_in(&fv, IO_PM1A_EVT, 2) & TMR, TMR);
	CHECK_EQ(fv.irq_level[IRQ_SCI], 0);
	/* Enabled: SCI until cleared. */
	fake_out(&fv, IO_PM1A_EVT + 2, 2, TMR);
	CHECK_EQ(fv.irq_level[IRQ_SCI], 1);
	fake_out(&fv, IO_PM1A_EVT, 2, TMR);
	CHECK_EQ(fake_in(&fv, IO_PM1A_EVT, 2) & TMR, 0);
	CHECK_EQ(fv.irq_level[IRQ_SCI], 0);
	teardown(&fv, sc);
}

TEST(reset_control)
{
	struct fake_vm fv;
	struct acpipm_softc *sc = setup(&fv);

	CHECK_EQ(fake_in(&fv, IO_RESET_CONTROL, 1), 0);
	fake_out(&fv, IO_RESET_CONTROL, 1, 0x02);	/* hard reset select */
	CHECK_EQ(fv.nsuspend, 0);
	CHECK_EQ(fake_in(&fv, IO_RESET_CONTROL, 1), 0x02);
	fake_out(&fv, IO_RESET_CONTROL, 1, 0x06);	/* FADT RESET_VALUE */
	CHECK_EQ(fv.suspended, VM_SUSPEND_RESET);
	CHECK_EQ(fv.nsuspend, 1);
	fake_out(&fv, IO_RESET_CONTROL, 1, 0x0e);	/* full reset */
	CHECK_EQ(fv.nsuspend, 2);
	teardown(&fv, sc);
}

TEST_MAIN()
