#!/usr/bin/env python3
"""runner_batch.py: the runner's stdout into a pipe is batched, yet still streams live.

Usage: runner_batch.py RUNNER SPX.csv

Checks (python3 standard library only, no timing assertion: waits are conditions with a
deadline):
  - a full momentum run on SPX into a pipe makes a handful of write() calls, not one per line
    (the process's own count from /proc/PID/io, read while it is a zombie), and its bytes are
    the same as a run into a regular file;
  - with --pace the first lines reach the pipe while the runner is still running (a flush
    before every pace sleep), so a consumer still follows a live run.
"""
import os
import select
import subprocess
import sys
import tempfile
import time

RUNNER, SPX = sys.argv[1], sys.argv[2]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def writes_of(args):
    """Run the runner with stdout a pipe; returns (its write() count, its stdout bytes)."""
    p = subprocess.Popen([RUNNER, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = p.stdout.read()
    os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)  # a zombie: its /proc/PID/io stays
    with open("/proc/%d/io" % p.pid) as f:
        io = dict(line.split(": ") for line in f.read().splitlines())
    p.wait()
    check(p.returncode == 0, "runner %s exited %d" % (args, p.returncode))
    return int(io["syscw"]), out


args = ["run", "--strategy", "momentum", "--data", SPX]
n, out = writes_of(args)
lines = out.count(b"\n")
check(lines > 300, "momentum printed %d lines (expected the full run)" % lines)
# 43 KiB of output fits the 64 KiB buffer: one write at exit; allow a few for a slow machine
# (a 50 ms flush may fire mid-run). Line buffering made one write per line (414).
check(n <= 8, "momentum into a pipe made %d write() calls for %d lines" % (n, lines))
with tempfile.TemporaryFile() as f:
    subprocess.run([RUNNER, *args], stdout=f, check=True)
    f.seek(0)
    check(f.read() == out, "the bytes into a pipe differ from the bytes into a file")

# Live: 2 bars per second; the first lines (the header and bar 1's) must arrive long before
# the run could end (~40 minutes), then the runner is stopped.
p = subprocess.Popen([RUNNER, "run", "--strategy", "momentum", "--data", SPX, "--pace", "2"],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
got = b""
deadline = time.monotonic() + 30
while b"@@progress" not in got and time.monotonic() < deadline:
    r, _, _ = select.select([p.stdout], [], [], 0.5)
    if r:
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            break
        got += chunk
check(b"@@progress" in got, "no @@progress line reached the pipe during a paced run: %r" % got)
check(p.poll() is None, "the paced runner ended early")
p.kill()
p.wait()

if failures:
    sys.exit("runner_batch: %d failure(s)" % failures)
print("runner_batch: ok")
