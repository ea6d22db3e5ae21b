/*
 * outb.c: write one byte to an x86 I/O port from a Linux guest's user
 * space: `outb PORT VALUE` (decimal or 0x-hex).  The guest initramfs uses it
 * to mark "userspace reached" on port 0x80, because Debian's kernels are
 * built without /dev/port (CONFIG_DEVPORT is not set).
 *
 * Freestanding: no libc, so it builds as a tiny static binary with any
 * host C compiler.  Port access needs ioperm(2) (CAP_SYS_RAWIO: the guest's
 * init runs as root).  Exit status 0 on success, 1 on a bad argument, 2
 * when ioperm fails.
 */
#include <stdint.h>

#define SYS_write	1		/* x86-64 Linux system call numbers */
#define SYS_ioperm	173		/* (arch/x86/entry/syscalls/syscall_64.tbl) */
#define SYS_exit	60

void	outb_main(long *sp) __attribute__((noreturn, used));

static long
sys3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret)
	    : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return (ret);
}

static void __attribute__((noreturn))
sys_exit(int status)
{
	for (;;)
		sys3(SYS_exit, status, 0, 0);
}

static void
say(const char *s)
{
	long n = 0;

	while (s[n] != '\0')
		n++;
	sys3(SYS_write, 2, (long)s, n);
}

/* A number in [0, max]: decimal or 0x-prefixed hex, nothing else. */
static int
parse(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0, base = 10, d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (*s == '\0')
		return (-1);
	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9')
			d = (unsigned long)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned long)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned long)(*s - 'A' + 10);
		else
			return (-1);
		v = v * base + d;
		if (v > max)
			return (-1);
	}
	*out = v;
	return (0);
}

/* The System V x86-64 process entry stack: argc, argv[], NULL, envp[]. */
void
outb_main(long *sp)
{
	char **argv = (char **)(sp + 1);
	unsigned long port, val;
	uint8_t b;

	if (sp[0] != 3 || parse(argv[1], 0xffff, &port) != 0 ||
	    parse(argv[2], 0xff, &val) != 0) {
		say("usage: outb PORT VALUE\n");
		sys_exit(1);
	}
	if (sys3(SYS_ioperm, (long)port, 1, 1) != 0) {
		say("outb: ioperm failed\n");
		sys_exit(2);
	}
	b = (uint8_t)val;
	__asm__ volatile("outb %0, %1" : : "a"(b), "Nd"((uint16_t)port));
	sys_exit(0);
}

/* Hand the initial stack pointer to C with the stack 16-byte aligned. */
__asm__(
    ".globl _start\n"
    "_start:\n"
    "	mov %rsp, %rdi\n"
    "	and $-16, %rsp\n"
    "	call outb_main\n"
    "	hlt\n");
