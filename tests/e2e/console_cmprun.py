#!/usr/bin/env python3
"""console_cmprun.py: a run's merged output view (`L`) follows the run (issue 16), driven
through tmux on console_e2e's Console (its own tmux server, a fresh store, the console's own
engine with --no-daemon unless the scenario says daemon, conditions polled against a deadline, never a fixed sleep).

Scenarios:
  follow    a paced deployment keeps writing; `L` opens on its run's output, and, without `r`,
            the view shows lines written after it opened (a bar number beyond any shown at the
            start); Home then End follows again.
  follow_daemon  the same with the console a client of the daemon (its events over the wire).
  runs      two runs of two deployments each (lookback 15 and 40, from the command line);
            `:compare-run 1 2` and `=` on two tagged rows of different runs open the compare
            overlay on both runs: counts, states, mean and best return and Sharpe, the worst
            drawdown, the differing parameter marked, both mean equity curves.

Usage: console_cmprun.py SCENARIO. Environment: SWARMDECK_BIN_DIR (build dir),
SWARMDECK_SRC_DIR.
"""
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_e2e import BIN, Console, cli, deploy  # noqa: E402
from lib_e2e import stop_daemon  # noqa: E402

# a bar number on a line of the overlay: `[1] @@progress {"bar": 40, ...}` or a human line's
# `(bar 40/250)`
BAR = re.compile(r'^\W*\[1\] .*?(?:"bar": ?|\(bar )(\d+)', re.M)


def bars(s):
    return [int(b) for b in BAR.findall(s)]


def wait_bars(c, pred, what, timeout=30.0):
    """Poll the screen until pred(bar numbers shown) holds; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        s = c.screen()
        b = bars(s)
        if b and pred(b):
            return s, b
        if time.monotonic() > deadline:
            sys.stderr.write("---- screen ----\n%s\n----\n" % s)
            raise AssertionError("timed out waiting for %s (bars shown: %r)" % (what, b))
        time.sleep(0.05)


def s_follow(c):
    c.wait_for(r"no deployments yet")
    deploy(c, pace="20")  # momentum on SPY at 20 bars/s: minutes of output
    c.wait_for(r"1 +momentum +SPY +local +running", timeout=60)
    c.text("L")
    c.wait_for(r"Output of run #1 \(r reads again")
    s, first = wait_bars(c, lambda b: True, "the first lines with a bar number")
    top = max(first)
    # no key pressed: the view reads what the run writes after it opened
    s, now = wait_bars(c, lambda b: max(b) > top + 20, "bars beyond %d" % (top + 20))
    assert "Output of run #1" in s, s
    # scrolled up (Home) it stops following; End follows again, past what was shown before
    seen = max(now)
    c.keys("Home")
    c.wait_for(r"^\W*\[1\] ")
    c.keys("End")
    wait_bars(c, lambda b: max(b) > seen + 20, "bars beyond %d after End" % (seen + 20))
    c.keys("Escape")
    c.wait_for(r"Output of run", absent=True)


def runs_store(e):
    cli(e, "deploy", "-a", "2", "-s", "momentum", "-p", '{"lookback":15}')
    cli(e, "deploy", "-a", "2", "-s", "momentum", "-p", '{"lookback":40}')


def check_runs(c):
    """The compare overlay on runs #1 and #2, as runs_store made them."""
    s = c.wait_for(r"run #1 +run #2")
    s = c.wait_for(r"deployments +2 +2")
    assert re.search(r"states +2 ok 0 failed 0 cancelled +2 ok 0 failed 0 cancelled", s), s
    for label in ("return mean", "return best", "sharpe mean", "sharpe best", "worst dd"):
        assert re.search(r"%s +[-+]?\d+\.\d\d%%? +[-+]?\d+\.\d\d" % label, s), (label, s)
    assert re.search(r"\* lookback +15 +40", s), s
    assert re.search(r"mean eq #1 +\S{4,}", s) and re.search(r"mean eq #2 +\S{4,}", s), s


def s_runs(c):
    c.wait_for(r"4 +momentum +\S+ +local +succeeded")
    c.wait_for(r"1 +momentum +\S+ +local +succeeded")
    c.text(":")
    c.text("compare-run 1 2")
    c.keys("Enter")
    check_runs(c)
    c.keys("Escape")
    c.wait_for(r"run #1 +run #2", absent=True)
    c.text(":")
    c.text("compare-run 1")
    c.keys("Enter")
    c.wait_for(r"compare-run: give two different run numbers")
    # the rows of two runs tagged: `=` compares the runs
    c.keys("Home")
    for _ in range(4):
        c.keys("Space")  # tags the row and moves down
    c.text("=")
    check_runs(c)
    c.keys("Escape")
    c.wait_for(r"run #1 +run #2", absent=True)
    # two tagged rows, even of two runs, are two deployments
    c.text("U")  # untag all
    c.keys("Home")
    c.keys("Space")
    c.keys("Down")
    c.keys("Space")
    c.wait_for(r"tagged: 2")
    c.text("=")
    s = c.wait_for(r"equity #\d+")
    assert re.search(r"#\d+ +#\d+", s) and not re.search(r"run #1 +run #2", s), s
    c.keys("Escape")


SCENARIOS = {
    "follow": (s_follow, None),
    "follow_daemon": (s_follow, None),
    "runs": (s_runs, runs_store),
}


def main():
    if shutil.which("tmux") is None:
        print("tmux not found: skipped")
        return 77
    name = sys.argv[1]
    fn, pre = SCENARIOS[name]
    daemon = name.endswith("_daemon")
    c = Console(100, 30, None, "", pre, daemon=daemon)
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
