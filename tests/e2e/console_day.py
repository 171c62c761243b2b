#!/usr/bin/env python3
"""console_day.py: the console of the operator's day (issue 16, second part),
driven through tmux: the output pane's protocol lines and line filter, the
launch confirmation, the details, the finished-rows toggle, the keys.

Reuses console_e2e's Console (its own tmux server, a fresh store, conditions
polled against a deadline, never a fixed sleep). Usage: console_day.py SCENARIO
Environment: SWARMDECK_BIN_DIR (build dir), SWARMDECK_SRC_DIR.
"""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_e2e import Console, cli, deploy  # noqa: E402


def body(s):
    """The pane's text lines: the screen less the header, the tab bar, the
    pane's title and bottom border and the footer."""
    return [ln.strip("│| ") for ln in s.splitlines()[3:-2]]


def s_protocol(c):
    """The output hides @@ lines by default, `@` shows and hides them; `/` in
    the output filters its lines (as typed) and Esc in the prompt clears it."""
    c.wait_for(r"1 +momentum +\S+ +local +succeeded")
    c.keys("2")
    s = c.wait_for(r"Output #1 momentum \S+ \[ended\]")
    s = c.wait_for(r"\d{4}-\d\d-\d\d (buy|sell) ")
    assert not [ln for ln in body(s) if ln.startswith("@@")], s
    c.text("@")
    s = c.wait_for(r"^\W*@@(progress|trade|result) ")
    assert "[@@]" in s.splitlines()[2], s
    c.text("@")
    s = c.wait_for(r"^\W*@@", absent=True)
    c.text("/")
    c.wait_for(r"filter output: ")
    c.text("sell")
    s = c.wait_for(r"Output #1 .*filter: sell")
    lines = [ln for ln in body(s) if ln]
    assert len(lines) > 5 and all("sell" in ln for ln in lines), s
    c.keys("Escape")
    s = c.wait_for(r"Output #1 .*filter: sell", absent=True)
    c.wait_for(r"\d{4}-\d\d-\d\d buy ")
    # a submitted filter stays; Esc in the pane (back) clears it
    c.text("/")
    c.text("buy")
    c.keys("Enter")
    s = c.wait_for(r"Output #1 .*filter: buy")
    c.wait_for(r"filter output:", absent=True)
    assert all("buy" in ln for ln in body(s) if ln), s
    c.keys("Escape")
    c.wait_for(r"Output #1 .*filter: buy", absent=True)
    # the sandboxes filter: Esc in its prompt clears what was typed
    c.keys("1")
    c.text("/")
    c.text("zzz")
    c.wait_for(r"Sandboxes \(0/1\) filter: zzz")
    c.keys("Escape")
    c.wait_for(r"Sandboxes \(1/1\)")
    c.keys("q")
    c.wait_exit()


SCENARIOS = {
    "protocol": (s_protocol, {}, "", lambda e: cli(e, "deploy", "-s", "momentum")),
}


def main():
    if shutil.which("tmux") is None:
        print("tmux not found: skipped")
        return 77
    name = sys.argv[1]
    fn, env, args, pre = SCENARIOS[name]
    c = Console(80, 24, env, args, pre)
    try:
        fn(c)
        print("PASS %s" % name)
        return 0
    finally:
        c.close()


if __name__ == "__main__":
    sys.exit(main())
