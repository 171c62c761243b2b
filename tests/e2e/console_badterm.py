#!/usr/bin/env python3
"""console_badterm.py: the console's early failures leave nothing behind.

`swarmdeck console` on a terminal whose TERM curses does not know fails after
the console started its worker threads (the store reader, the learning view).
It must say why, exit 3, and stop and join those threads and free everything
before the caller closes the store: under the ASan build (label "sanitize")
a thread still reading the freed store or a leaked table fails this test.
Usage: console_badterm.py (SWARMDECK_BIN_DIR: the build dir)
"""
import os
import pty
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_e2e import stop_daemon  # noqa: E402

BIN = os.environ.get("SWARMDECK_BIN_DIR", "build")


def main():
    tmp = tempfile.mkdtemp(prefix="sd-badterm-")
    failures = 0
    # ncurses' own: a failed newterm leaves its "prescreen" allocated and
    # offers nothing to free it. Only leaks inside the curses libraries are
    # suppressed; anything of ours still fails.
    supp = os.path.join(tmp, "lsan.supp")
    with open(supp, "w") as f:
        f.write("leak:libtinfo.so\nleak:libncursesw.so\n")
    try:
        for term in ("no-such-term", ""):
            master, slave = pty.openpty()
            env = dict(os.environ, TERM=term, SWARMDECK_DB=os.path.join(tmp, "store.db"),
                       XDG_RUNTIME_DIR=tmp, XDG_STATE_HOME=os.path.join(tmp, "state"),
                       ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
                       LSAN_OPTIONS="suppressions=%s:print_suppressions=0" % supp)
            p = subprocess.run([os.path.join(BIN, "swarmdeck"), "console", "--no-anim"],
                               stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=env,
                               timeout=60, text=True)
            os.close(slave)
            os.close(master)
            ok = p.returncode == 3 and "cannot start the console" in p.stderr and \
                "Sanitizer" not in p.stderr and "runtime error" not in p.stderr
            print("TERM=%r: exit %d %s" % (term, p.returncode, "ok" if ok else "FAILED"))
            if not ok:
                print(p.stderr)
                failures += 1
    finally:
        try:  # the console started the store's daemon before the terminal failed: stop it
            stop_daemon(os.path.join(tmp, "store.db"))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
