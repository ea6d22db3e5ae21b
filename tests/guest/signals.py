#!/usr/bin/env python3
"""Signals and the terminal: khyve on a pseudo-terminal (docs/khyve.8.md).

    tests/guest/signals.py BUILD

khyve runs with the console on stdio, which is the slave side of a pty this
script holds, so the script sees the terminal settings khyve leaves behind.
Every case that ends on its own checks that the terminal is back in its
settings from before khyve started; a case that stops the VM checks that
khyve printed exactly one "VM stopped" line, the expected one.

- setup-TERM: SIGTERM while khyve is still setting up (a 1 GiB initrd is
  being copied into guest RAM; the terminal has just gone raw) presses the
  power button once the VM runs: the pwrbtn guest, told that the press may
  come early, sees it and powers off (status 1, no "VM stopped" line).
- setup-HUP: khyve dies of the signal.
- setup-INT, run-INT: SIGINT stops the VM at once, during set-up or once
  the guest runs: status 1, "khyve: SIGINT: VM stopped".
- grace-expiry: -o poweroff.grace=1 and a guest that ignores the button
  (pwrbtn "ignore" waits 60 s): SIGTERM, and khyve stops the VM a second
  later, before the guest's own wait ends: status 1, "the guest did not
  power off within 1 s of SIGTERM".
- second-TERM: the same guest, the default grace (60 s): a second SIGTERM
  1.5 s after the first pressed the button stops the VM at once.
- grace-0: -o poweroff.grace=0 waits for ever, as bhyve: khyve is still
  running 3 s after SIGTERM (then it is killed; the terminal is not
  checked).
- button-grace: the default grace does not stop a guest that honours the
  button: it powers off by itself (status 1, no "VM stopped" line).
- timeout-TERM: `timeout --preserve-status 2 khyve ...`: timeout(1) sends
  SIGTERM twice (to khyve, then to its process group); khyve takes them as
  one press, and the guest ("early") sees one SCI and powers off (status
  1, no "VM stopped" line).
- double-TERM: the same with the two SIGTERMs sent by this script, the
  second as soon as khyve says it has pressed the button: khyve says it
  took the second as the first, and the guest powers off.
- disk-INT: the vblk_durable guest writes without flushing ("noflush");
  SIGINT once it has written a batch: status 1, the disk synced, and every
  block the guest saw written is in the image.
- run-QUIT, run-ALRM: khyve dies of the signal once the guest runs (it
  waits in hlt).

Prints PASS/FAIL/SKIP lines like the other runners; exit status 1 when a
case failed.
"""
import os
import pty
import re
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
DURABLE = os.path.join(BUILD, "guest", "vblk_durable.elf")
TIMEOUT = int(os.environ.get("GUEST_TIMEOUT", "120"))
ALIVE = "alive"
ALIVE_S = 3
SIGTERM_SAME_S = 1.5	# khyve takes a SIGTERM within 1 s of one as that one
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


def run(name, extra, cmdline, steps, want, elf=PWRBTN, prefix=()):
    """Start khyve on a fresh pty; for each (wait_for, sig) of steps, send
    sig once wait_for(console, stderr, slave) holds; then judge how it
    ended: want is an exit status, -signo, or ALIVE (still running ALIVE_S
    seconds after the last signal, then killed).  prefix goes before
    khyve on its command line (timeout(1))."""
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    err_r, err_w = os.pipe()
    argv = [*prefix, KHYVE, "-c", "1", "-u", "-s", "0,hostbridge", "-s", "31,lpc",
            "-l", "com1,stdio", "--kernel", elf, "--cmdline", cmdline,
            *extra, f"gsig{name}"]
    # No core files from the fatal signals (SIGQUIT dumps by default).
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=err_w,
                         preexec_fn=lambda: resource.setrlimit(
                             resource.RLIMIT_CORE, (0, 0)))
    os.close(err_w)
    out = {master: b"", err_r: b""}
    steps = list(steps)
    alive_until = None
    end = time.monotonic() + TIMEOUT
    why = ""

    def pump(timeout):
        for fd in select.select(list(out), [], [], timeout)[0]:
            try:
                out[fd] += os.read(fd, 65536)
            except OSError:
                pass

    try:
        while p.poll() is None:
            if time.monotonic() > end:
                why = f"timed out after {TIMEOUT}s"
                break
            if steps and steps[0][0](out[master], out[err_r], slave):
                p.send_signal(steps.pop(0)[1])
                if not steps and want == ALIVE:
                    alive_until = time.monotonic() + ALIVE_S
            if alive_until is not None and time.monotonic() > alive_until:
                break
            pump(0.001)
    finally:
        alive = p.poll() is None
        if alive:
            p.kill()
        p.wait()
    while select.select([master, err_r], [], [], 0)[0]:
        before_len = len(out[master]) + len(out[err_r])
        pump(0)
        if len(out[master]) + len(out[err_r]) == before_len:
            break
    after = termios.tcgetattr(slave)
    os.close(master)
    os.close(slave)
    os.close(err_r)
    console = out[master] + b"\n-- stderr --\n" + out[err_r]
    if not why and steps:
        why = "khyve ended before the signal was sent"
    if not why and want == ALIVE:
        if not alive:
            why = f"khyve ended (status {p.returncode}) within {ALIVE_S} s"
        return why, console, out[err_r]
    if not why and p.returncode != want:
        why = f"exit status {p.returncode}, expected {want}"
    if not why and after != before:
        why = "the terminal was left changed (raw)"
    return why, console, out[err_r]


def stopped_line(err, line):
    """Why stderr does not hold exactly one "VM stopped" line, equal to
    line (None: no such line at all), or ""."""
    text = err.decode(errors="replace").replace("\r", "")
    got = [x for x in text.splitlines() if x.endswith("VM stopped")]
    if line is None:
        return f"unexpected \"{got[0]}\"" if got else ""
    if got != [line]:
        return f"wanted one \"{line}\" line, got {got or 'none'}"
    return ""


def check_image(path, console):
    """Why the image misses a block the guest saw written ("WROTE n"), or
    "": block i of vblk_durable holds "durable seq=i" records."""
    text = console.decode(errors="replace").replace("\r", "")
    # Whole lines only: the VM may stop in the middle of one.
    wrote = [int(n) for n in re.findall(r"^WROTE (\d+)\n", text, re.M)]
    if not wrote:
        return "the guest wrote nothing"
    with open(path, "rb") as f:
        for i in range(wrote[-1] + 1):
            rec = f"{'durable seq=' + str(i):<31}\n".encode()
            if f.read(4096) != rec * 128:
                return f"block {i} (of WROTE {wrote[-1]}) is not in the image"
    return ""


def kvm_problem():
    if not os.path.exists("/dev/kvm"):
        return "no /dev/kvm on this host"
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
    except OSError as e:
        return f"cannot open /dev/kvm read-write: {e.strerror}"
    return ""


def main():
    names = ["setup-TERM", "setup-HUP", "setup-INT", "run-INT",
             "grace-expiry", "second-TERM", "grace-0", "button-grace",
             "timeout-TERM", "double-TERM", "disk-INT", "run-QUIT", "run-ALRM"]
    why = kvm_problem()
    for elf in (PWRBTN, DURABLE):
        if not why and not os.path.exists(elf):
            why = f"{elf} is missing: run make guests"
    if why:
        for n in names:
            print(f"SKIP guest:signals-{n}: {why}")
        return 0
    raw = lambda console, err, slave: is_raw(slave)
    ready = lambda console, err, slave: b"READY" in console
    pressed = lambda console, err, slave: b"pressing the power button" in err
    pressed_at = []

    def pressed_1s(console, err, slave):
        """The button was pressed over SIGTERM_SAME_S seconds ago."""
        if not pressed_at and pressed(console, err, slave):
            pressed_at.append(time.monotonic())
        return bool(pressed_at) and \
            time.monotonic() - pressed_at[0] > SIGTERM_SAME_S
    wrote = lambda console, err, slave: re.search(rb"WROTE \d+\r?\n", console)
    with tempfile.NamedTemporaryFile(prefix="khyve-initrd.") as initrd:
        # A sparse 1 GiB initrd: reading it is quick, but copying it into
        # fresh guest RAM keeps khyve in set-up for a while after the
        # console has made the terminal raw.
        initrd.truncate(1 << 30)
        initrd.flush()
        big = ["-m", "2G", "--initrd", initrd.name]
        why, out, err = run("setup-TERM", big, "early",
                            [(raw, signal.SIGTERM)], 1)
        if not why and b"power button" not in out:
            why = "the guest saw no power button"
        report("setup-TERM", why or stopped_line(err, None), out)
        why, out, err = run("setup-HUP", big, "", [(raw, signal.SIGHUP)],
                            -signal.SIGHUP)
        report("setup-HUP", why, out)
        why, out, err = run("setup-INT", big, "", [(raw, signal.SIGINT)], 1)
        report("setup-INT", why or
               stopped_line(err, "khyve: SIGINT: VM stopped"), out)
    small = ["-m", "128M"]
    why, out, err = run("run-INT", small, "", [(ready, signal.SIGINT)], 1)
    report("run-INT", why or stopped_line(err, "khyve: SIGINT: VM stopped"),
           out)
    # The guest's own wait ends with this line: the VM must stop first.
    late = b"ignored the power button"
    why, out, err = run("grace-expiry", small + ["-o", "poweroff.grace=1"],
                        "ignore", [(ready, signal.SIGTERM)], 1)
    if not why and late in out:
        why = "the guest's 60 s wait ended before khyve stopped it"
    report("grace-expiry", why or stopped_line(err, "khyve: the guest did "
           "not power off within 1 s of SIGTERM: VM stopped"), out)
    why, out, err = run("second-TERM", small + ["-o", "log.level=1"],
                        "ignore", [(ready, signal.SIGTERM),
                                   (pressed_1s, signal.SIGTERM)], 1)
    if not why and late in out:
        why = "the guest's 60 s wait ended before khyve stopped it"
    report("second-TERM", why or
           stopped_line(err, "khyve: second SIGTERM: VM stopped"), out)
    why, out, err = run("grace-0", small + ["-o", "poweroff.grace=0"],
                        "ignore", [(ready, signal.SIGTERM)], ALIVE)
    report("grace-0", why, out)
    why, out, err = run("button-grace", small, "", [(ready, signal.SIGTERM)],
                        1)
    if not why and b"power button" not in out:
        why = "the guest saw no power button"
    report("button-grace", why or stopped_line(err, None), out)
    # timeout(1) sends SIGTERM to khyve and then to its process group: the
    # two are one press ("early": it may come while khyve sets up).
    why, out, err = run("timeout-TERM", small, "early", [], 1,
                        prefix=("timeout", "--preserve-status", "-k", "60",
                                "2"))
    if not why and b"power button" not in out:
        why = "the guest saw no power button"
    report("timeout-TERM", why or stopped_line(err, None), out)
    # The same, with the second SIGTERM sent once khyve has taken the first.
    why, out, err = run("double-TERM", small + ["-o", "log.level=1"], "",
                        [(ready, signal.SIGTERM), (pressed, signal.SIGTERM)],
                        1)
    if not why and b"power button" not in out:
        why = "the guest saw no power button"
    if not why and b"SIGTERM again within" not in err:
        why = "khyve did not take the second SIGTERM as the first"
    report("double-TERM", why or stopped_line(err, None), out)
    with tempfile.NamedTemporaryFile(prefix="khyve-disk.") as img:
        img.truncate(64 << 20)
        img.flush()
        why, out, err = run("disk-INT", small + [
            "-o", "log.level=1", "-s", f"3,virtio-blk,{img.name}"],
            "noflush batch=8", [(wrote, signal.SIGINT)], 1, elf=DURABLE)
        if not why and b"disk synced" not in err:
            why = "khyve did not say the disk was synced"
        if not why and os.path.getsize(img.name) != 64 << 20:
            why = f"the image is {os.path.getsize(img.name)} bytes"
        report("disk-INT", why or check_image(img.name, out) or
               stopped_line(err, "khyve: SIGINT: VM stopped"), out)
    for sig in (signal.SIGQUIT, signal.SIGALRM):
        n = "run-" + sig.name[3:]
        why, out, err = run(n, small, "", [(ready, sig)], -sig)
        report(n, why, out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
