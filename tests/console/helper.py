#!/usr/bin/env python3
"""Helpers for tests/console/run.sh.

    helper.py check FILE BYTES [--idle S] [--tail REGEX] [--prefix MIN]
        FILE holds the flood guest's console: exit 0 when it is exactly
        the pattern of BYTES bytes and the "flood: BYTES bytes done" line
        (after "flood: idle S s" with --idle), then what REGEX matches
        (default: "PASS\\r\\n"); with --prefix, when it is the first MIN
        bytes or more of the pattern, and nothing else.  Otherwise print
        why on one line and exit 1.
    helper.py pty FILE REGEX OUT TIMEOUT -- CMD...
        Run CMD with a new pty as its standard input and output, read
        nothing until FILE matches REGEX (or CMD has exited), then read
        the master until the pty closes, into OUT.  Exit with CMD's status
        (124 after TIMEOUT s).
    helper.py dead ADDR
        Connect to ADDR (a path, or HOST:PORT), send one byte, close.
    helper.py read ADDR OUT TIMEOUT
        Connect to ADDR and copy what arrives into OUT until the server
        closes or TIMEOUT s pass.
    helper.py fifo FIFO OUT READY DONE
        Open FIFO for reading (without blocking), create the file READY,
        read nothing until the file DONE exists (at most 120 s), then
        copy what the FIFO holds into OUT.
    helper.py port
        Print a TCP port on 127.0.0.1 that was free a moment ago.

The pattern is the one tests/guest/flood.c prints: 64-byte lines, byte i
on line L = i // 64 at column C = i % 64: L in 7 decimal digits, a space,
ALPHABET[(L + C) % 62] up to column 62, a newline at column 63.
"""
import os
import pty
import re
import select
import socket
import subprocess
import sys
import time

ALPHABET = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def pattern(n):
    out = bytearray()
    for line in range((n + 63) // 64):
        row = bytearray(b"%07d " % (line % 10000000))
        row += bytes(ALPHABET[(line + c) % 62] for c in range(8, 63))
        row += b"\n"
        out += row
    return bytes(out[:n])


def where(i):
    return "byte %d (line %d, column %d)" % (i, i // 64, i % 64)


def first_diff(a, b):
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            return i
    return min(len(a), len(b))


def check(args):
    path, n = args[0], int(args[1])
    idle, tail, prefix = None, rb"PASS\r\n", None
    i = 2
    while i < len(args):
        if args[i] == "--idle":
            idle = args[i + 1]
        elif args[i] == "--tail":
            tail = args[i + 1].encode()
        elif args[i] == "--prefix":
            prefix = int(args[i + 1])
        i += 2
    data = open(path, "rb").read()
    if idle is not None:
        head = b"flood: idle %s s\r\n" % idle.encode()
        if not data.startswith(head):
            print("the console does not start with %r: %r" %
                  (head, data[:40]))
            return 1
        data = data[len(head):]
    pat = pattern(n)
    if prefix is not None:
        d = first_diff(data, pat)
        if d < len(data):
            print("%d bytes, not a prefix of the pattern: differs at %s" %
                  (len(data), where(d)))
            return 1
        if len(data) < prefix:
            print("%d bytes of the pattern, expected at least %d" %
                  (len(data), prefix))
            return 1
        return 0
    done = (b"\r\n" if n % 64 else b"") + b"flood: %d bytes done\r\n" % n
    want = pat + done
    d = first_diff(data, want)
    if d < len(want):
        print("%d bytes; expected the %d-byte pattern and the final line; "
              "first difference at %s: got %r" %
              (len(data), n, where(d), data[d:d + 24]))
        return 1
    rest = data[len(want):]
    if not re.fullmatch(tail, rest, re.DOTALL):
        print("after the final line: %r, expected /%s/" %
              (rest[:80], tail.decode()))
        return 1
    return 0


def matches(path, regex):
    try:
        return re.search(regex, open(path, "rb").read()) is not None
    except OSError:
        return False


def run_pty(args):
    wait, regex, out = args[0], args[1].encode(), args[2]
    timeout = float(args[3])
    cmd = args[args.index("--") + 1:]
    master, slave = pty.openpty()
    child = subprocess.Popen(cmd, stdin=slave, stdout=slave,
                             start_new_session=True)
    os.close(slave)
    end = time.monotonic() + timeout
    while (time.monotonic() < end and child.poll() is None and
           not matches(wait, regex)):
        time.sleep(0.1)
    got = bytearray()
    while time.monotonic() < end:
        r, _, _ = select.select([master], [], [], 0.5)
        if not r:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break                           # EIO: the slave side closed
        if not chunk:
            break
        got += chunk
    open(out, "wb").write(got)
    try:
        return child.wait(max(end - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        return 124


def connect(addr):
    if "/" in addr:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr)
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    return s


def dead(args):
    s = connect(args[0])
    s.sendall(b"x")
    s.close()
    return 0


def read(args):
    s = connect(args[0])
    end = time.monotonic() + float(args[2])
    got = bytearray()
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.5)
        if r:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    open(args[1], "wb").write(got)
    return 0


def fifo(args):
    fd = os.open(args[0], os.O_RDONLY | os.O_NONBLOCK)
    open(args[2], "w").close()
    for _ in range(1200):
        if os.path.exists(args[3]):
            break
        time.sleep(0.1)
    got = bytearray()
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        got += chunk
    open(args[1], "wb").write(got)
    return 0


def port(args):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()
    return 0


if __name__ == "__main__":
    cmds = {"check": check, "pty": run_pty, "dead": dead, "read": read,
            "fifo": fifo, "port": port}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__)
        sys.exit(2)
    sys.exit(cmds[sys.argv[1]](sys.argv[2:]))
