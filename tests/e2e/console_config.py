#!/usr/bin/env python3
"""console_config.py: the config file's settings reach the console (docs/config.md).

A config that shows the @@ protocol lines, asks before launches of more than 2 agents,
defaults the deploy dialog to QQQ at pace 7, binds F5 to help;
the console, driven through tmux on console_e2e's harness, behaves so.
Environment: SWARMDECK_BIN_DIR (build dir), SWARMDECK_SRC_DIR.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_e2e import Console, cli, write_config  # noqa: E402

CONFIG = """# the operator's
protocol-lines = show
confirm-agents = 2
symbols = QQQ
pace = 7
bind = F5 ?
"""


def pre(e):
    write_config(e, CONFIG)
    cli(e, "deploy", "-s", "momentum")


def main():
    if shutil.which("tmux") is None:
        print("tmux not found: skipped")
        return 77
    c = Console(100, 30, {}, "", pre)
    try:
        c.wait_for(r"1 +momentum +\S+ +local +succeeded")
        c.keys("2")
        c.wait_for(r"Output #1 momentum \S+ \[ended\]")
        c.wait_for(r"^\W*@@(progress|trade|result) ")  # shown without pressing @
        c.keys("1")
        c.keys("F5")
        c.wait_for(r"Keys \(Esc closes")  # F5 does what ? does
        c.keys("Escape")
        c.wait_for(r"Keys \(Esc closes", absent=True)
        c.keys("d")
        c.wait_for(r"Deploy \(Enter launches")
        c.wait_for(r"symbol\(s\)\s+QQQ")
        c.wait_for(r"pace\s+7\b")
        c.keys("Down", "Down", "C-u")
        c.text("3")
        c.wait_for(r"agents\s+3")
        c.keys("Enter")
        c.wait_for(r"Launch 3 agents of momentum on local\?")  # more than confirm-agents
        c.keys("Enter")  # Cancel is the default
        c.wait_for(r"Deploy \(Enter launches")
        c.keys("Escape")
        c.wait_for(r"Deploy \(Enter launches", absent=True)
        c.keys("q")
        c.wait_exit()
        print("PASS config")
        return 0
    finally:
        c.close()


if __name__ == "__main__":
    sys.exit(main())
