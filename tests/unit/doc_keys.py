#!/usr/bin/env python3
"""doc_keys.py: the operator guide's key tables are the binding table.

Runs `swarmdeck console --dump-keys` (generated from tui/app.c's binding and
command tables) and compares it with the section of docs/operator-guide.md
between <!-- keys:begin ... --> and <!-- keys:end -->. UPDATE_DOC=1 rewrites
that section instead. Usage: doc_keys.py SWARMDECK_BINARY GUIDE.md
"""
import difflib
import os
import re
import subprocess
import sys


def main():
    binary, guide = sys.argv[1], sys.argv[2]
    keys = subprocess.run([binary, "console", "--dump-keys"], check=True, capture_output=True,
                          text=True).stdout.strip("\n")
    with open(guide) as f:
        doc = f.read()
    m = re.search(r"(<!-- keys:begin[^>]*-->\n)(.*?)(\n<!-- keys:end -->)", doc, re.S)
    if not m:
        print("%s: no <!-- keys:begin --> ... <!-- keys:end --> section" % guide)
        return 1
    if os.environ.get("UPDATE_DOC") == "1":
        with open(guide, "w") as f:
            f.write(doc[:m.start(2)] + keys + doc[m.end(2):])
        print("rewrote the keys section of %s" % guide)
        return 0
    if m.group(2) != keys:
        sys.stdout.writelines(difflib.unified_diff(m.group(2).splitlines(True),
                                                   keys.splitlines(True), guide,
                                                   "--dump-keys"))
        print("\nthe guide's keys differ from the binding table (UPDATE_DOC=1 regenerates)")
        return 1
    print("keys section matches the binding table (%d lines)" % len(keys.splitlines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
