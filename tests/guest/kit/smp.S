/*
 * smp.S: the application-processor trampoline and the AP stacks.
 *
 * A STARTUP IPI with vector V starts the AP in real mode at CS = V << 8,
 * IP = 0 (Intel SDM vol. 3A §8.4.4.1, §10.6.1 "Start-Up" delivery mode).
 * Only the first part, kit_smp_tramp .. kit_smp_tramp_end, runs there:
 * smp.c copies it into a free page below 1 MiB and fills the parameter
 * block at KIT_SMP_PARAMS_OFF in the same page.  It loads the kit's GDT,
 * sets CR0.PE and far-jumps to kit_smp_start32, which runs where it was
 * linked (above 1 MiB, flat segments).  That enables PAE, loads CR3,
 * sets EFER.LME and CR0.PG (SDM vol. 3A "Initializing IA-32e Mode", as
 * entry.S does for the BSP), and the 64-bit part loads the GDT and IDT again with 64-bit bases,
 * takes its stack, acknowledges, and calls fn(cpu) with interrupts off.
 *
 * ESI carries the parameter block's linear address through the modes.
 */
#include "smp.h"

#define SEL_KCODE	0x08
#define SEL_KDATA	0x10
#define SEL_KCODE32	0x18

#define CR0_PE		0x00000001
#define CR0_NE		0x00000020
#define CR0_NW		0x20000000
#define CR0_CD		0x40000000
#define CR0_PG		0x80000000
#define CR4_PAE		0x00000020
#define MSR_EFER	0xc0000080
#define EFER_LME	0x00000100

/* ---- copied below 1 MiB; position-independent real-mode code ---- */
	.text
	.balign 16
	.globl kit_smp_tramp, kit_smp_tramp_end
	.code16
kit_smp_tramp:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	movzwl %ax, %esi
	shll $4, %esi
	addl $KIT_SMP_PARAMS_OFF, %esi
	/* 16-bit addressing, DS = the page: GDTR limit and 32-bit base. */
	lgdtl KIT_SMP_PARAMS_OFF + KIT_SMP_P_GDT
	movl %cr0, %eax
	andl $~(CR0_CD | CR0_NW), %eax	/* INIT leaves caching off */
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $SEL_KCODE32, $kit_smp_start32
	.org kit_smp_tramp + KIT_SMP_PARAMS_OFF
	.space KIT_SMP_P_SIZE		/* the parameter block (smp.c) */
kit_smp_tramp_end:

/* ---- runs in place, 32-bit protected mode, paging off ---- */
	.code32
kit_smp_start32:
	movl $SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl KIT_SMP_P_CR3(%esi), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_NE | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $SEL_KCODE, $kit_smp_start64

/* ---- 64-bit mode ---- */
	.code64
kit_smp_start64:
	movl $SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movl %esi, %esi		/* the upper half is undefined after the switch */
	lgdt KIT_SMP_P_GDT(%rsi)
	lidt KIT_SMP_P_IDT(%rsi)
	movq KIT_SMP_P_STACK(%rsi), %rsp
	movl KIT_SMP_P_CPU(%rsi), %edi
	movq KIT_SMP_P_FN(%rsi), %rax
	/* Everything is read: the BSP may reuse the block (loads are not
	 * reordered with a later store, SDM vol. 3A §8.2.3.3). */
	movl $1, KIT_SMP_P_ACK(%rsi)
	xorl %ebp, %ebp
	call *%rax
1:	cli
	hlt
	jmp 1b

/* ---- one stack per AP (logical CPUs 1 .. KIT_SMP_MAX - 1) ---- */
	.section .stack, "aw", @nobits
	.balign 4096
	.globl kit_smp_stacks
kit_smp_stacks:
	.space KIT_SMP_STACK * (KIT_SMP_MAX - 1)

	.section .note.GNU-stack, "", @progbits
