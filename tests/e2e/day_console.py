#!/usr/bin/env python3
"""day_console.py: the console's part of the operator's day items built on branch `day`
(issue 16), driven through tmux on console_e2e's Console (its own tmux server, a fresh store,
conditions polled against a deadline, never a fixed sleep).

Scenarios:
  pause     `p` pauses the selected running deployment (the row says paused), `p` again
            resumes it, and a paused one killed with `x` ends cancelled; the console runs its
            own engine (--no-daemon).
  pause_daemon   the same through the daemon (the console as its client).
  runlog    `L` on a row shows its run's output merged, each line prefixed with its deployment's
            id; with rows tagged, only theirs; `r` reads again, Esc closes.
  complete  the deploy dialog's symbol field: Tab completes from `data list` (the hint marks
            synthetic series), an unknown symbol is refused naming it and nothing launches.

Usage: day_console.py SCENARIO. Environment: SWARMDECK_BIN_DIR (build dir), SWARMDECK_SRC_DIR.
"""
import os
import re
import shutil
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_e2e import BIN, STRATEGIES, Console, cli, deploy  # noqa: E402
from lib_e2e import stop_daemon  # noqa: E402


def s_pause(c):
    c.wait_for(r"no deployments yet")
    deploy(c, pace="20")  # momentum on SPY at 20 bars/s: minutes, ample to act on
    # running, and its sandbox started (the helper's samples fill MEM): a row says running as
    # soon as a worker takes it, and `p` before the sandbox runs is refused ("not started yet")
    c.wait_for(r"1 +momentum +SPY +local +running +\S+ +\d+ +\d+[KMG] ", timeout=60)
    c.text("p")
    c.wait_for(r"paused 1 deployment")
    c.wait_for(r"1 +momentum +SPY +local +paused", timeout=20)
    c.wait_for(r"1 running 0 queued 0 done 0 failed 1 paused")  # the header counts it
    c.text("p")  # every selected one is paused: resume
    c.wait_for(r"resumed 1 deployment")
    c.wait_for(r"1 +momentum +SPY +local +running", timeout=20)
    c.text("p")
    c.wait_for(r"1 +momentum +SPY +local +paused", timeout=20)
    c.text("x")
    c.wait_for(r"Kill 1 deployment")
    c.text("y")
    c.wait_for(r"1 +momentum +SPY +local +cancelled", timeout=30)
    c.text("p")  # nothing running any more
    c.wait_for(r"pause: nothing selected is running")
    c.text("q")
    c.wait_exit()


def s_complete(c):
    c.wait_for(r"no deployments yet")
    c.keys("d")
    c.wait_for(r"Deploy \(Enter launches")
    c.keys("Down", "C-u")  # the symbol field
    c.text("ts")
    c.wait_for(r"Tab: TSLA\*")  # synthetic series are marked
    c.keys("Tab")
    c.wait_for(r"symbol\(s\) +TSLA_? ")
    c.text(",s")
    c.wait_for(r"Tab: SPX SPY")
    c.keys("Tab")  # SPX and SPY: their common prefix first
    c.wait_for(r"symbol\(s\) +TSLA,SP_? ")
    c.keys("Tab")  # nothing longer in common: Tab cycles
    c.wait_for(r"symbol\(s\) +TSLA,SPX_? ")
    c.keys("Tab")
    c.wait_for(r"symbol\(s\) +TSLA,SPY_? ")
    c.text(",XYZ")
    c.wait_for(r"unknown symbol XYZ")
    c.keys("Enter")
    c.wait_for(r"symbol\(s\): unknown symbol XYZ \(see `swarmdeck data list`\)")
    s = c.screen()
    assert "deployed #" not in s, s
    c.keys("Escape")
    c.wait_for(r"Deploy \(Enter", absent=True)
    c.text("q")
    c.wait_exit()
    if os.path.exists(c.db):
        db = sqlite3.connect(c.db)
        n = db.execute("SELECT count(*) FROM trajectories").fetchone()[0]
        db.close()
        assert n == 0, "a deployment was stored: %d" % n


def runlog_store(e):
    cli(e, "strategies", "add", os.path.join(STRATEGIES, "probe-forkticks.json"))
    cli(e, "deploy", "-a", "2", "-s", "probe-forkticks", "-p", '{"n":5,"rate":0}')


def s_runlog(c):
    c.wait_for(r"2 +probe-fo +QQQ\* +local +succeeded")
    c.text("L")
    s = c.wait_for(r"Output of run #1 \(r reads again")
    # it opens on the newest lines: both deployments' results
    s = c.wait_for(r"\[2\] +@@result ")
    assert re.search(r"\[1\] +@@result ", s), s
    c.keys("Home")  # and scrolls to the first: every tick of both, each line with its id
    s = c.wait_for(r"^\W*\[1\] +(parent|child) tick 0")
    c.keys("End")
    c.wait_for(r"\[2\] +@@result ")
    c.text("r")
    c.wait_for(r"Output of run #1")
    c.keys("Escape")
    c.wait_for(r"Output of run", absent=True)
    c.keys("Space")  # tag the selected row (#2): only its lines
    c.wait_for(r"tagged: 1")
    c.text("L")
    s = c.wait_for(r"Output of 1 tagged deployment")
    s = c.wait_for(r"\[2\] +parent tick 4")
    assert "[1]" not in s, s
    c.keys("Escape")
    c.text("q")
    c.wait_exit()


SCENARIOS = {
    "pause": (s_pause, False, None),
    "pause_daemon": (s_pause, True, None),
    "complete": (s_complete, False, None),
    "runlog": (s_runlog, False, runlog_store),
}


def main():
    if shutil.which("tmux") is None:
        print("tmux not found: skipped")
        return 77
    name = sys.argv[1]
    fn, daemon, pre = SCENARIOS[name]
    c = Console(80, 24, None, "", pre, daemon=daemon)
    try:
        fn(c)
        print("PASS %s" % name)
        return 0
    finally:
        if daemon:
            stop_daemon(c.db)
        c.close()


if __name__ == "__main__":
    assert os.path.exists(os.path.join(BIN, "swarmdeck"))
    sys.exit(main())
