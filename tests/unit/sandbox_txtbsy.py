#!/usr/bin/env python3
"""sandbox_txtbsy.py: a payload whose file is still open for writing somewhere (ETXTBSY at
execve) starts once the writer lets go, instead of failing the deployment.

The engine copies the runner into each work dir while it spawns other helpers; a helper being
spawned at that instant inherits the copy's write fd until its own execve, and an execve of
the copy in that window failed with "Text file busy" (2 of a 10,000-deployment swarm). The
helper now retries execve on ETXTBSY for a bounded time.

The test holds a write fd on the payload, starts the helper, waits (condition, deadline) until
a process of the sandbox sleeps between execve attempts (/proc/PID/syscall: nanosleep or
clock_nanosleep), then closes the fd: the payload must run and exit 0. Without the retry the
helper reports the exec failure and the wait never sees a sleeper. No timing assertion.

Usage: sandbox_txtbsy.py --helper PATH --fixtures DIR
"""
import os
import shutil
import stat
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox_test as sb  # noqa: E402

SLEEPS = {35, 230}  # x86-64 nanosleep, clock_nanosleep


def sleeping_in_sandbox():
    for pid in sb.procs_in_range():
        try:
            with open("/proc/%d/syscall" % pid) as f:
                nr = f.read().split()[0]
        except (OSError, IndexError):
            continue
        if nr.isdigit() and int(nr) in SLEEPS:
            return pid
    return None


def main():
    args = sys.argv[1:]
    sb.HELPER = args[args.index("--helper") + 1]
    sb.FIX = args[args.index("--fixtures") + 1]
    if os.geteuid() != 0:
        print("SKIP: the sandbox tests need root (uid ranges, cgroups)")
        return 0
    wd = tempfile.mkdtemp(prefix="sbxtest-txtbsy-")
    os.chmod(wd, 0o755)
    payload = os.path.join(wd, "payload")
    shutil.copyfile(os.path.join(sb.FIX, "exit7"), payload)
    os.chmod(payload, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    fd = os.open(payload, os.O_WRONLY)  # the inherited write fd of the race
    r = sb.Run(["./payload"], tag="txtbsy", workdir=wd)
    deadline = time.monotonic() + 60
    seen = None
    while seen is None and time.monotonic() < deadline and r.p.poll() is None:
        seen = sleeping_in_sandbox()
        time.sleep(0.01)
    os.close(fd)
    r.finish()
    shutil.rmtree(wd, ignore_errors=True)
    if seen is None:
        print("FAIL txtbsy: the payload never waited for its file (rc %s, %r)" % (r.rc, r.err))
        return 1
    if r.rc != 7:
        print("FAIL txtbsy: rc %d after the writer closed: %r" % (r.rc, r.err))
        return 1
    print("ok   txtbsy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
