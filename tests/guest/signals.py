#!/usr/bin/env python3
"""Signals and the terminal: khyve on a pseudo-terminal (docs/khyve.8.md).

    tests/guest/signals.py BUILD

khyve runs with the console on stdio, which is the slave side of a pty this
script holds, so the script sees the terminal settings khyve leaves behind.

- setup-TERM: SIGTERM while khyve is still setting up (a 1 GiB initrd is
  being copied into guest RAM; the terminal has just gone raw) presses the
  power button once the VM runs: the pwrbtn guest, told that the press may
  come early, sees it and powers off (status 1).
- setup-HUP, setup-INT: khyve dies of the signal and the terminal is back
  in its settings from before khyve started.
- run-QUIT, run-ALRM: the same once the guest runs (it waits in hlt).

Prints PASS/FAIL/SKIP lines like the other runners; exit status 1 when a
case failed.
"""
import os
import pty
import resource
import select
import signal
import subprocess
import sys
import tempfile
import termios
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
KHYVE = os.path.join(BUILD, "khyve")
PWRBTN = os.path.join(BUILD, "guest", "pwrbtn.elf")
TIMEOUT = int(os.environ.get("GUEST_TIMEOUT", "120"))
failed = False


def report(name, why, console=b""):
    global failed
    if not why:
        print(f"PASS guest:signals-{name}", flush=True)
        return
    failed = True
    print(f"FAIL guest:signals-{name} ({why})")
    text = console.decode(errors="replace").replace("\r", "")
    for line in text.splitlines()[-30:] or ["(no output)"]:
        print(f"    {line}")
    sys.stdout.flush()


def is_raw(fd):
    lflag = termios.tcgetattr(fd)[3]
    return not lflag & termios.ICANON and not lflag & termios.ECHO


def run(name, extra, cmdline, sig, wait_for, want):
    """Start khyve on a fresh pty, send sig once wait_for(console, slave)
    holds, and judge how it ended: want is an exit status or -signo."""
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    err = tempfile.TemporaryFile()
    argv = [KHYVE, "-c", "1", "-u", "-s", "0,hostbridge", "-s", "31,lpc",
            "-l", "com1,stdio", "--kernel", PWRBTN, "--cmdline", cmdline,
            *extra, f"gsig{name}"]
    # No core files from the fatal signals (SIGQUIT dumps by default).
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=err,
                         preexec_fn=lambda: resource.setrlimit(
                             resource.RLIMIT_CORE, (0, 0)))
    console = b""
    sent = False
    end = time.monotonic() + TIMEOUT
    why = ""
    try:
        while p.poll() is None:
            if time.monotonic() > end:
                why = f"timed out after {TIMEOUT}s"
                break
            if not sent and wait_for(console, slave):
                p.send_signal(sig)
                sent = True
            r, _, _ = select.select([master], [], [], 0.001)
            if r:
                try:
                    console += os.read(master, 65536)
                except OSError:
                    pass
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
    while select.select([master], [], [], 0)[0]:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        console += data
    after = termios.tcgetattr(slave)
    os.close(master)
    os.close(slave)
    err.seek(0)
    console += b"\n-- stderr --\n" + err.read()
    if not why and not sent:
        why = "khyve ended before the signal was sent"
    if not why and p.returncode != want:
        why = f"exit status {p.returncode}, expected {want}"
    if not why and after != before:
        why = "the terminal was left changed (raw)"
    return why, console


def kvm_problem():
    if not os.path.exists("/dev/kvm"):
        return "no /dev/kvm on this host"
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
    except OSError as e:
        return f"cannot open /dev/kvm read-write: {e.strerror}"
    return ""


def main():
    names = ["setup-TERM", "setup-HUP", "setup-INT", "run-QUIT", "run-ALRM"]
    why = kvm_problem()
    if not why and not os.path.exists(PWRBTN):
        why = f"{PWRBTN} is missing: run make guests"
    if why:
        for n in names:
            print(f"SKIP guest:signals-{n}: {why}")
        return 0
    with tempfile.NamedTemporaryFile(prefix="khyve-initrd.") as initrd:
        # A sparse 1 GiB initrd: reading it is quick, but copying it into
        # fresh guest RAM keeps khyve in set-up for a while after the
        # console has made the terminal raw.
        initrd.truncate(1 << 30)
        initrd.flush()
        big = ["-m", "2G", "--initrd", initrd.name]
        raw = lambda console, slave: is_raw(slave)
        ready = lambda console, slave: b"READY" in console
        why, out = run("setup-TERM", big, "early", signal.SIGTERM, raw, 1)
        if not why and b"power button" not in out:
            why = "the guest saw no power button"
        report("setup-TERM", why, out)
        for sig in (signal.SIGHUP, signal.SIGINT):
            n = "setup-" + sig.name[3:]
            why, out = run(n, big, "", sig, raw, -sig)
            report(n, why, out)
    for sig in (signal.SIGQUIT, signal.SIGALRM):
        n = "run-" + sig.name[3:]
        why, out = run(n, ["-m", "128M"], "", sig, ready, -sig)
        report(n, why, out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
