#!/usr/bin/env python3
"""console_keys: how fast the console answers a plain key and Esc, on a pty of its own (no
tmux in between, which adds its own delay to Esc). Opens help with '?' and measures until its
text arrives; closes it with Esc and measures until the first byte of the redraw. Esc costs
ncurses' ESCDELAY (set to 25 ms: it must wait that long to tell a lone Esc from the start of
an escape sequence). Not a test: numbers go to docs/benchmarks/console.md.
usage: console_keys.py BUILD_DIR [ROUNDS]"""
import fcntl
import os
import pty
import select
import shutil
import struct
import sys
import tempfile
import termios
import time

build = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
tmp = tempfile.mkdtemp(prefix="console-keys-")
pid, fd = pty.fork()
if pid == 0:
    os.environ.update(TERM="xterm-256color", SWARMDECK_DB=os.path.join(tmp, "s.db"),
                      XDG_RUNTIME_DIR=tmp, LANG="C.UTF-8")
    os.execv(os.path.join(build, "swarmdeck"), ["swarmdeck", "console"])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))


def read_until(pat, timeout=5.0):
    """Read until pat arrives (b"": any byte). Returns True if it did."""
    buf, end = b"", time.monotonic() + timeout
    while time.monotonic() < end:
        if select.select([fd], [], [], 0.005)[0]:
            try:
                buf += os.read(fd, 65536)
            except OSError:
                return False
            if (pat and pat in buf) or (not pat and buf):
                return True
    return False


assert read_until(b"no deployments yet", 10), "the console did not start"
read_until(b"\0", 0.3)  # drain
keys, escs = [], []
for _ in range(rounds):
    t0 = time.monotonic()
    os.write(fd, b"?")
    assert read_until(b"Esc closes"), "help did not open"
    keys.append(time.monotonic() - t0)
    read_until(b"\0", 0.05)
    t0 = time.monotonic()
    os.write(fd, b"\x1b")
    assert read_until(b""), "Esc was not answered"
    escs.append(time.monotonic() - t0)
    read_until(b"\0", 0.05)
os.write(fd, b"q")
os.waitpid(pid, 0)
try:  # the console started the store's daemon on demand: stop it
    with open(os.path.join(tmp, "s.db.serve.lock")) as f:
        os.kill(int(f.read().strip()), 15)
except (OSError, ValueError):
    pass
shutil.rmtree(tmp, ignore_errors=True)
for name, lat in (("key '?'", keys), ("Esc", escs)):
    lat.sort()
    print("%-8s median %5.1f ms  p90 %5.1f ms  max %5.1f ms  (%d rounds)" %
          (name, lat[len(lat) // 2] * 1e3, lat[int(len(lat) * 0.9)] * 1e3, lat[-1] * 1e3, rounds))
