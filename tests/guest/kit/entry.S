/*
 * entry.S: the PVH entry point, the switch to long mode, the descriptor
 * tables, the exception stubs and the CPL0 <-> CPL3 transitions.
 *
 * PVH boot ABI (Xen docs/misc/pvh.pandoc): the loader enters the 32-bit
 * physical entry point named by the XEN_ELFNOTE_PHYS32_ENTRY note in
 * protected mode, paging off, CS/DS/ES/SS flat, interrupts off, EBX =
 * physical address of struct hvm_start_info.  There is no stack.
 * Long-mode activation follows Intel SDM vol. 3A §10.8.5.
 */
#define SEL_KCODE	0x08
#define SEL_KDATA	0x10
#define SEL_KCODE32	0x18
#define SEL_UDATA	0x23
#define SEL_UCODE	0x2b

#define CR0_PE		0x00000001
#define CR0_NE		0x00000020
#define CR0_PG		0x80000000
#define CR4_PAE		0x00000020
#define MSR_EFER	0xc0000080
#define EFER_LME	0x00000100

#define PTE_P		0x001
#define PTE_RW		0x002
#define PTE_US		0x004	/* user pages: CPL3 bodies run on them */
#define PTE_PWT		0x008
#define PTE_PCD		0x010
#define PTE_PS		0x080

/* ---- the PVH note (Xen public/elfnote.h: XEN_ELFNOTE_PHYS32_ENTRY) ---- */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4			/* namesz: "Xen\0" */
	.long 8			/* descsz: as Linux, an 8-byte value */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad pvh_start32
	.balign 4

/* ---- 32-bit entry ---- */
	.section .text.boot, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	cld
	movl %ebx, start_info_pa
	lgdt gdt_desc
	ljmp $SEL_KCODE32, $1f
1:	movl $SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl $boot_stack_top, %esp

	/* Zero .bss (a loader should have; a reused image may not be). */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_NE | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $SEL_KCODE, $start64

/* ---- 64-bit entry ---- */
	.code64
start64:
	movl $SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	lgdt gdt_desc		/* again, now with a 64-bit base */
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl start_info_pa, %edi
	call kit_main
2:	cli
	hlt
	jmp 2b

/*
 * kit_enter_user(fn, stack_top): iretq to CPL3 with IOPL=3 and IF=0,
 * running user_trampoline(fn) on stack_top.  Never returns.
 */
	.text
	.globl kit_enter_user
kit_enter_user:
	movl $SEL_UDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	pushq $SEL_UDATA	/* SS */
	pushq %rsi		/* RSP */
	pushq $0x3002		/* RFLAGS: IOPL=3, reserved bit 1 */
	pushq $SEL_UCODE	/* CS */
	pushq $user_trampoline	/* RIP */
	iretq

user_trampoline:
	xorl %ebp, %ebp
	call *%rdi		/* fn is still in RDI */
	movl %eax, %edi
	call guest_exit
3:	jmp 3b

/*
 * guest_kcall at CPL3: RDI = fn, RSI = arg, then a ud2 at this exact
 * address, which kit_trap recognises and answers by running fn(arg) at
 * CPL0 with the result in the frame's RAX.  A #UD, not "int $n": nested
 * software-assisted KVM raises #UD for software interrupts from CPL3
 * (docs/testing.md), while exceptions are delivered everywhere.
 */
	.globl kit_kcall_trap, kit_kcall_ud2
kit_kcall_trap:
kit_kcall_ud2:
	ud2
	ret

/*
 * Exception and interrupt stubs: 16 bytes per vector at kit_trap_stubs +
 * 16 * vector.  Vectors 8, 10-14, 17, 21, 29 and 30 push an error code
 * (SDM vol. 3A §6.13, table 6-1); the others push a zero to match.
 */
	.balign 16
	.globl kit_trap_stubs
kit_trap_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi		/* struct trap_frame *; RSP is 16-aligned */
	cld
	call kit_trap
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp		/* vector, error code */
	iretq

/* ---- descriptor tables ---- */
	.data
	.balign 16
	.globl kit_gdt
kit_gdt:
	.quad 0				/* null */
	.quad 0x00af9a000000ffff	/* 0x08 code64, DPL0 */
	.quad 0x00cf92000000ffff	/* 0x10 data, DPL0 */
	.quad 0x00cf9a000000ffff	/* 0x18 code32, DPL0 */
	.quad 0x00cff2000000ffff	/* 0x20 data, DPL3 */
	.quad 0x00affa000000ffff	/* 0x28 code64, DPL3 */
	.quad 0, 0			/* 0x30 TSS, filled by kit_idt_init */
kit_gdt_end:
	.balign 8
	.word 0
gdt_desc:
	.word kit_gdt_end - kit_gdt - 1
	.quad kit_gdt

	.globl start_info_pa
start_info_pa:
	.long 0

/*
 * Page tables: PML4 -> one PDPT -> four page directories of 2 MiB pages
 * identity-mapping 0-4 GiB, all user-accessible.  The top GiB (MMIO:
 * IOAPIC, HPET, LAPIC) is uncached.  The first 2 MiB use 4 KiB pages so
 * that page 0 can stay unmapped and a NULL dereference faults.
 */
	.balign 4096
	.globl pml4
pml4:
	.quad pdpt + (PTE_P | PTE_RW | PTE_US)
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + (PTE_P | PTE_RW | PTE_US)
	.quad pd + 0x1000 + (PTE_P | PTE_RW | PTE_US)
	.quad pd + 0x2000 + (PTE_P | PTE_RW | PTE_US)
	.quad pd + 0x3000 + (PTE_P | PTE_RW | PTE_US)
	.fill 508, 8, 0
pd:
	.quad pt0 + (PTE_P | PTE_RW | PTE_US)
	.set i, 1
	.rept 2047
	.if i >= 1536
	.quad (i << 21) + (PTE_P | PTE_RW | PTE_US | PTE_PS | PTE_PWT | PTE_PCD)
	.else
	.quad (i << 21) + (PTE_P | PTE_RW | PTE_US | PTE_PS)
	.endif
	.set i, i + 1
	.endr
pt0:
	.quad 0				/* page 0: not present */
	.set i, 1
	.rept 511
	.quad (i << 12) + (PTE_P | PTE_RW | PTE_US)
	.set i, i + 1
	.endr

/* Stacks: not zeroed, not part of .bss. */
	.section .stack, "aw", @nobits
	.balign 4096
	.space 32768
	.globl boot_stack_top
boot_stack_top:
	.space 16384
	.globl trap_stack_top
trap_stack_top:			/* TSS.RSP0: traps from CPL3 */
	.space 8192
	.globl ist_stack_top
ist_stack_top:			/* TSS.IST1: #DF, NMI, #MC */
	.space 65536
	.globl user_stack_top
user_stack_top:

	.section .note.GNU-stack, "", @progbits
