#!/usr/bin/env python3
"""console_ops.py: the operator's-day fixes (issue 16), driven through tmux.

Reuses console_e2e's Console (its own tmux server, a fresh store, conditions
polled against a deadline, never a fixed sleep). Usage: console_ops.py SCENARIO
Environment: SWARMDECK_BIN_DIR (build dir), SWARMDECK_SRC_DIR.
"""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_e2e import Console, cli, deploy  # noqa: E402


def header(c):
    return c.screen().splitlines()[0]


def s_counts(c):
    """The header's counts stay right across rebuilds: a store with 3 done
    shows 3 done after a cleanup (`c`) and 4 after one more deployment,
    never the history added twice."""
    c.wait_for(r"3 +momentum +\S+ +local +succeeded")
    c.wait_for(r"^.*0 running 0 queued 3 done 0 failed")
    c.keys("c")
    c.wait_for(r"cleanup: 3 finished row\(s\) hidden")
    c.wait_for(r"Sandboxes \(0/0\)")
    h = c.wait_for(r"^.*0 running 0 queued 3 done 0 failed")
    assert "6 done" not in h.splitlines()[0], h
    deploy(c, pace="0")
    c.wait_for(r"^.*0 running 0 queued 4 done 0 failed", timeout=30)
    c.keys("c")  # a toggle: the hidden rows come back first
    c.wait_for(r"cleanup: 3 finished row\(s\) shown again")
    c.wait_for(r"Sandboxes \(4/4\)")
    c.keys("c")
    c.wait_for(r"cleanup: 4 finished row\(s\) hidden")
    c.wait_for(r"^.*0 running 0 queued 4 done 0 failed")
    assert not re.search(r"\b([5-9]|\d\d) done", header(c)), header(c)
    c.keys("q")
    c.wait_exit()


def s_past_cancelled(c):
    """A cancelled deployment: counted as cancelled, not failed; once it is a
    past row (a new console) its progress is not 100 %; its output pane says
    [ended], not [follow]."""
    c.wait_for(r"no deployments yet")
    deploy(c, pace="20")
    c.wait_for(r"1 +momentum +SPY +local +running")
    c.keys("x")
    c.wait_for(r"Kill 1 deployment")
    c.keys("Tab", "Enter")
    c.wait_for(r"1 +momentum +SPY +local +cancelled")
    c.wait_for(r"^.*0 running 0 queued 0 done 0 failed 1 cancelled")
    c.keys("2")
    c.wait_for(r"Output #1 momentum SPY \[ended\]")
    c.keys("q")
    c.wait_exit()
    again = Console(tmp=c.tmp, name=c.sock + "b")
    try:
        s = again.wait_for(r"1 +momentum +SPY +local +cancelled")
        row = [ln for ln in s.splitlines() if re.search(r"1 +momentum +SPY +local +cancelled", ln)][0]
        assert "100%" not in row, row
        again.wait_for(r"^.*0 done 0 failed 1 cancelled")
        again.keys("2")
        again.wait_for(r"Output #1 momentum SPY \[ended\]")
        again.keys("q")
        again.wait_exit()
    finally:
        again.tmux("kill-server")


def s_home_end(c):
    """Home and End as tmux sends them to a pane whose TERM is xterm (whose
    entry lists ESC O H, not tmux's ESC [ 1 ~), and the xterm and rxvt forms:
    the selection moves to the ends (rows by id, newest first: Home is #3,
    End #1), and no byte of a sequence runs as a key (`4` would open the
    Learning tab)."""
    c.wait_for(r"3 +momentum +\S+ +local +succeeded")
    c.wait_for(r"Sandboxes \(3/3\)")
    for seq, want in (("\x1b[4~", 1), ("\x1b[1~", 3), ("\x1bOF", 1), ("\x1b[H", 3),
                      ("\x1b[8~", 1), ("\x1b[7~", 3), ("\x1b[F", 1), ("\x1bOH", 3)):
        c.text(seq)
        c.text("3")  # the details tab: which row is selected
        c.wait_for(r"^. id +#%d +" % want)
        c.text("1")
        s = c.wait_for(r"Sandboxes \(3/3\)")
        assert "all strategies" not in s, s
    c.text("\x1b[4~\x1b[99;4X\x1b[2~")  # End, an unknown one, Insert: nothing else runs
    c.text("3")
    s = c.wait_for(r"^. id +#1 +")
    assert "all strategies" not in s and "Patterns (" not in s, s
    c.keys("q")
    c.wait_exit()


SCENARIOS = {
    "counts": (s_counts, {}),
    "past_cancelled": (s_past_cancelled, {}),
    "home_end": (s_home_end, {"TERM": "xterm-256color"}),
}


def main():
    if shutil.which("tmux") is None:
        print("tmux not found: skipped")
        return 77
    name = sys.argv[1]
    fn, env = SCENARIOS[name]
    pre = None
    if name in ("counts", "home_end"):
        def pre(e):
            cli(e, "deploy", "-s", "momentum", "-a", "3")
    c = Console(80, 24, env, "", pre)
    try:
        fn(c)
        print("PASS %s" % name)
        return 0
    finally:
        c.close()


if __name__ == "__main__":
    sys.exit(main())
