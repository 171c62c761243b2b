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
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_e2e import STRATEGIES, Console, cli, deploy  # noqa: E402


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


def s_confirm(c):
    """A launch above the threshold (50 agents) asks first, naming the count
    and the provider; Cancel goes back to the dialog with nothing launched,
    and the launch goes ahead once confirmed. 50 or fewer: no question."""
    c.wait_for(r"no deployments yet")
    c.keys("d")
    c.wait_for(r"Deploy \(Enter launches")
    c.keys("Down", "Down", "C-u")
    c.text("51")
    c.wait_for(r"agents\s+51")
    c.keys("Enter")
    c.wait_for(r"Launch 51 agents of momentum on local\?")
    c.keys("Enter")  # Cancel is the default
    c.wait_for(r"launch not confirmed")
    c.wait_for(r"Deploy \(Enter launches")
    c.wait_for(r"agents\s+51")
    assert "no deployments yet" in c.screen() or "Sandboxes (0/0)" in c.screen(), c.screen()
    c.keys("C-u")
    c.text("2")
    c.keys("Enter")
    c.wait_for(r"deployed #1\.\.#2 momentum")
    c.wait_for(r"2 +momentum +\S+ +local +succeeded", timeout=30)
    c.keys("d")
    c.wait_for(r"Deploy \(Enter launches")
    c.keys("Down", "Down", "C-u")
    c.text("51")
    c.keys("Enter")
    c.wait_for(r"Launch 51 agents of momentum on local\?")
    c.text("y")
    c.wait_for(r"deployed #3\.\.#53 momentum", timeout=30)
    c.wait_for(r"Launch 51", absent=True)


def s_details(c):
    """Details show everything of a past deployment: run, exit code, provider
    and the failover's reason, times, parameters, description, equity; the
    table marks the row a failover moved. (The failover operation is written
    into the store beside the run, so the chain says #1 was changed.)"""
    s = c.wait_for(r"2 +momentum +\S+ +local +succeeded")
    s = c.wait_for(r"1 +momentum +\S+ +loca~ +succeeded")
    assert not re.search(r"2 +momentum +\S+ +loca~", s), s
    c.keys("Down")
    c.keys("3")
    s = c.wait_for(r"params +.*lookback=15")
    for want in (r"id +#1  run #1", r"state +succeeded  exit 0",
                 r"provider +local  \(failover: e2b: breaker open", r"created +\d{4}-\d\d-\d\d \d\d:",
                 r"ran +\d\d:\d\d:\d\d \.\. \d\d:\d\d:\d\d", r"equity +\S", r"desc +first try",
                 r"result +[-+]\d"):
        assert re.search(want, s, re.M), (want, s)
    c.keys("q")
    c.wait_exit()


def selected(c):
    """The id the details tab shows (the selected row), back on the table."""
    c.keys("3")
    s = c.wait_for(r"^. id +#\d+")
    m = re.search(r"^. id +#(\d+)", s, re.M)
    c.keys("1")
    c.wait_for(r"Sandboxes \(")
    return int(m.group(1))


def s_keys(c):
    """j/k move (k is no longer kill), x kills, :q quits; help pages with
    PgDn/PgUp and lists Ctrl-A; the footer shows the open dialog's keys."""
    c.wait_for(r"3 +momentum +\S+ +local +succeeded")
    assert selected(c) == 3
    c.text("j")
    c.wait_for(r"Kill", absent=True)
    assert selected(c) == 2
    c.text("k")
    assert selected(c) == 3
    assert "Kill" not in c.screen()
    c.text("x")
    c.wait_for(r"kill: nothing selected is queued or running")
    c.text("?")
    s = c.wait_for(r"Keys \(Esc closes, PgDn/PgUp: page 1 of (\d+)\)")
    pages = int(re.search(r"page 1 of (\d+)", s).group(1))
    assert pages >= 2, s
    assert re.search(r"PgDn/PgUp page", s.splitlines()[-1]), s
    c.keys("PageDown")
    c.wait_for(r"page 2 of %d" % pages)
    c.keys("PageUp")
    c.wait_for(r"page 1 of %d" % pages)
    c.keys("End")
    s = c.wait_for(r"page %d of %d" % (pages, pages))
    assert re.search(r"C-a +apply +\[deploy\]", s), s
    c.keys("Escape")
    c.wait_for(r"Keys \(Esc", absent=True)
    c.text("d")
    s = c.wait_for(r"Deploy \(Enter launches")
    s = c.wait_for(r"Enter launch  Esc cancel  C-a apply suggestion")
    assert "Enter launch" in s.splitlines()[-1], s
    c.keys("Escape")
    c.wait_for(r"Deploy \(Enter", absent=True)
    c.text(":q")
    c.keys("Enter")
    c.wait_exit()


def s_finished(c):
    """`c` hides the finished rows and shows them again; a cancelled run on a
    generated series keeps its synthetic mark as a past row (no result)."""
    c.wait_for(r"no deployments yet")
    deploy(c, pace="20", agents="2")
    c.wait_for(r"2 +momentum +QQQ\* +local +running", timeout=20)
    c.keys("Home", "Space", "Space")  # Space tags and moves down
    c.wait_for(r"tagged: 2")
    c.text("x")
    c.wait_for(r"Kill 2 deployments")
    c.text("y")
    c.wait_for(r"2 +momentum +QQQ\* +local +cancelled", timeout=20)
    c.wait_for(r"1 +momentum +SPY +local +cancelled", timeout=20)
    c.text("q")
    c.wait_exit()
    again = Console(tmp=c.tmp, name=c.sock + "b")
    try:
        s = again.wait_for(r"2 +momentum +QQQ\* +local +cancelled")
        again.text("c")
        again.wait_for(r"cleanup: 2 finished row\(s\) hidden")
        again.wait_for(r"Sandboxes \(0/0\)")
        again.text("c")
        again.wait_for(r"cleanup: 2 finished row\(s\) shown again")
        again.wait_for(r"Sandboxes \(2/2\)")
        again.wait_for(r"2 +momentum +QQQ\* +local +cancelled")
        again.text("q")
        again.wait_exit()
    finally:
        again.tmux("kill-server")


def s_learning(c):
    """Issue 15's labels: the deploy dialog's panel shows the recommendation as
    a whole parameter set with its interval and what Ctrl-A will change, and
    scrolls (PgDn); the Learning pane shows the reward skill and no
    "accuracy" (every run succeeded: true by construction); patterns rank by
    the reward's lower bound."""
    c.wait_for(r"8 +momentum +\S+ +local +succeeded")
    c.text("d")
    s = c.wait_for(r"best parameter set")
    assert re.search(r"reward \d\.\d+ \(90% \d\.\d+ to", s), s
    assert re.search(r"Ctrl-A( will set:|: nothing to change)", s), s
    m = re.search(r"PgDn/PgUp 1/(\d+)", s)
    assert m, s
    c.keys("PageDown")
    c.wait_for(r"PgDn/PgUp \d+/%s" % m.group(1))
    c.wait_for(r"PgDn/PgUp 1/", absent=True)
    c.keys("Escape")
    c.wait_for(r"Deploy \(Enter", absent=True)
    c.text("4")
    s = c.wait_for(r"skill +MAE \d\.\d+ vs")
    assert "accuracy" not in s, s
    c.text("5")
    s = c.wait_for(r"LB▼ +CONF")
    c.text("q")
    c.wait_exit()


def s_swarm(c):
    """A swarm is a unit: every console launch is a run (ended in the store
    when its deployments end); tag all, untag all (U), tag what the filter
    shows; kill a run (only its rows), export a run."""
    c.wait_for(r"no deployments yet")
    deploy(c, pace="15", agents="3")
    c.wait_for(r"3 +momentum +\S+ +local +running", timeout=20)
    deploy(c, pace="15", agents="2")
    c.wait_for(r"5 +momentum +\S+ +local +running", timeout=20)
    c.text("*")
    c.wait_for(r"tagged 5 row\(s\)")
    c.wait_for(r"tagged: 5")
    c.text("U")
    c.wait_for(r"untagged 5 row\(s\)")
    c.text("/")
    c.text("QQQ")
    c.keys("Enter")
    c.wait_for(r"Sandboxes \(2/5\) filter: QQQ")
    c.text("*")
    c.wait_for(r"tagged 2 row\(s\) the filter shows")
    c.keys("Escape")
    c.wait_for(r"Sandboxes \(5/5\) tagged: 2")
    c.text("U")
    c.wait_for(r"Sandboxes \(5/5\) ─")
    c.keys("End")  # #1, of the first run
    c.text(":")
    c.text("kill-run")
    c.keys("Enter")
    s = c.wait_for(r"Kill 3 deployments: #3 momentum/IWM #2 momentum/QQQ #1")
    assert "#4" not in s and "#5" not in s, s
    c.text("y")
    for i in (1, 2, 3):
        c.wait_for(r"%d +momentum +\S+ +local +cancelled" % i, timeout=20)
    s = c.wait_for(r"5 +momentum +\S+ +local +running")
    assert re.search(r"4 +momentum +\S+ +local +running", s), s
    out = os.path.join(c.tmp, "run1.csv")
    c.text(":")
    c.text("export-run " + out)
    c.keys("Enter")
    c.wait_for(r"exported 3 rows to")
    with open(out) as f:
        rows = f.read().splitlines()
    assert rows[0].endswith(",RUN") and len(rows) == 4, rows
    assert all(r.endswith(",1") for r in rows[1:]), rows
    assert os.stat(out).st_mode & 0o777 == 0o600
    c.text("q")
    c.wait_for(r"Quitting cancels")
    c.text("y")
    c.wait_exit()
    db = sqlite3.connect(c.db)
    runs = db.execute("SELECT id, kind, status, ended_at IS NOT NULL FROM runs ORDER BY id").fetchall()
    ids = db.execute("SELECT id, run_id FROM trajectories ORDER BY id").fetchall()
    db.close()
    assert [r[:2] for r in runs] == [(1, "deploy"), (2, "deploy")], runs
    assert all(r[3] for r in runs), runs  # both ended: one by its kill, one by the quit
    assert ids == [(1, 1), (2, 1), (3, 1), (4, 2), (5, 2)], ids


def s_rerun(c):
    """`R` opens the dialog filled from the selected past deployment (its
    parameters and description); the launch runs with them; the next `d`
    opens with the last launch."""
    c.wait_for(r"1 +momentum +SPY +local +succeeded")
    c.text("R")
    s = c.wait_for(r"re-run of #1: the dialog holds its parameters")
    s = c.wait_for(r"lookback +15 ")
    assert re.search(r"description +re-run of #1: fir", s), s  # the field's width
    assert re.search(r"agents +1 ", s), s
    c.keys("Enter")
    c.wait_for(r"deployed #2 momentum")
    c.wait_for(r"2 +momentum +SPY +local +succeeded", timeout=30)
    c.text("d")
    s = c.wait_for(r"Deploy \(Enter launches")
    s = c.wait_for(r"lookback +15 ")
    assert re.search(r"description +re-run of #1: fir", s), s
    c.keys("Escape")
    c.wait_for(r"Deploy \(Enter", absent=True)
    c.text("q")
    c.wait_exit()
    db = sqlite3.connect(c.db)
    p = db.execute("SELECT json_extract(params, '$.lookback'), description FROM trajectories"
                   " WHERE id = 2").fetchone()
    db.close()
    assert p == (15, "re-run of #1: first try"), p


def s_save(c):
    """`S` on a finished deployment saves its whole output from the store
    (30,000 lines), not the newest lines the pane holds (20,000), stderr
    lines marked, the file 0600."""
    c.wait_for(r"1 +probe-li\S* +\S+ +local +succeeded")
    c.text("2")
    c.wait_for(r"Output #1 probe-lines")
    c.wait_for(r"\d{5}")
    c.text("S")
    c.wait_for(r"save to: swarmdeck-1\.log")
    out = os.path.join(c.tmp, "whole.log")
    c.keys("C-u")
    c.text(out)
    c.keys("Enter")
    s = c.wait_for(r"saved \d+ lines of #1 \(its whole stored output\)", timeout=20)
    n = int(re.search(r"saved (\d+) lines", s).group(1))
    with open(out) as f:
        lines = f.read().splitlines()
    assert len(lines) == n and n >= 30000, (n, len(lines), lines[:3], lines[-3:])
    # every numbered line, the first included (the pane keeps only the newest 20,000)
    nums = [ln for ln in lines if re.search(r"line \d{7}$", ln)]
    assert len(nums) == 30000, (len(nums), lines[:3])
    err = [ln for ln in lines if ln.startswith("[stderr] ")]
    assert len(err) >= 30000 // 50, len(err)
    assert os.stat(out).st_mode & 0o777 == 0o600
    c.text("q")
    c.wait_exit()


def save_store(e):
    cli(e, "strategies", "add", os.path.join(STRATEGIES, "probe-lines.json"))
    cli(e, "deploy", "-s", "probe-lines", "-p", '{"n":30000}')


def s_small(c):
    """80x23 (an 80x24 terminal under a tmux or screen status line) renders
    everything, the deploy dialog whole; below, one pane at a time still
    works; only under 30x8 a notice."""
    s = c.wait_for(r"3 +momentum +\S+ +local +succeeded")
    lines = s.splitlines()
    assert len(lines) == 23 and "done" in lines[0] and "1 Sandboxes" in lines[1], s
    assert lines[-1].startswith("q quit"), s
    c.text("d")
    s = c.wait_for(r"Deploy \(Enter launches")
    assert "positionSize" in s and "strategy" in s, s
    c.keys("Escape")
    c.wait_for(r"Deploy \(Enter", absent=True)
    c.resize(50, 12)
    c.wait_for(r"^. +3 momentum")
    c.text("2")
    c.wait_for(r"Output #3")
    c.resize(25, 6)
    c.wait_for(r"terminal too small: 25x6")
    c.resize(80, 23)
    c.wait_for(r"Output #3 momentum")
    c.text("q")
    c.wait_exit()


def s_compare(c):
    """`=` with two rows tagged: both side by side (parameters, those that
    differ marked; return, Sharpe, drawdown; equity on one scale)."""
    c.wait_for(r"2 +momentum +SPY +local +succeeded")
    c.text("=")
    c.wait_for(r"compare: tag two deployments")
    c.keys("Home", "Space", "Space")
    c.wait_for(r"tagged: 2")
    c.text("=")
    s = c.wait_for(r"Compare \(Esc closes")
    s = c.wait_for(r"equity #2")
    for want in (r"#1 +#2", r"\* lookback +15 +20", r"return +[-+]\d+\.\d\d% +[-+]\d+\.\d\d%",
                 r"sharpe +-?\d\.\d\d +-?\d\.\d\d", r"drawdown +\d+\.\d\d% +\d+\.\d\d%",
                 r"equity #1 +\S", r"one scale: "):
        assert re.search(want, s, re.M), (want, s)
    assert not re.search(r"\* threshold", s), s
    c.keys("Escape")
    c.wait_for(r"Compare \(Esc", absent=True)
    c.text("q")
    c.wait_exit()


def compare_store(e):
    cli(e, "deploy", "-s", "momentum", "-p", '{"lookback":15}')
    cli(e, "deploy", "-s", "momentum")


def details_store(e):
    cli(e, "deploy", "-s", "momentum", "-p", '{"lookback":15}', "--description", "first try")
    cli(e, "deploy", "-s", "momentum")
    db = sqlite3.connect(e["SWARMDECK_DB"])
    db.execute("INSERT INTO operations(traj_id, seq, name, started_at, duration_ms, ok, detail)"
               " VALUES (1, 99, 'failover', 0, 0, 1, 'e2b: breaker open')")
    db.commit()
    db.close()


SCENARIOS = {
    "compare": (s_compare, {}, "", compare_store),
    "small": (s_small, {}, "", lambda e: cli(e, "deploy", "-s", "momentum", "-a", "3")),
    "save": (s_save, {}, "", save_store),
    "rerun": (s_rerun, {}, "", lambda e: cli(e, "deploy", "-s", "momentum", "-p",
                                             '{"lookback":15}', "--description", "first try")),
    "swarm": (s_swarm, {}, "", None),
    "learning": (s_learning, {}, "", lambda e: cli(e, "deploy", "-s", "momentum", "-a", "8",
                                                   "--auto-optimize")),
    "keys": (s_keys, {}, "", lambda e: cli(e, "deploy", "-s", "momentum", "-a", "3")),
    "finished": (s_finished, {}, "", None),
    "confirm": (s_confirm, {}, "", None),
    "details": (s_details, {}, "", details_store),
    "protocol": (s_protocol, {}, "", lambda e: cli(e, "deploy", "-s", "momentum")),
}


SIZES = {"learning": (160, 45), "small": (80, 23)}


def main():
    if shutil.which("tmux") is None:
        print("tmux not found: skipped")
        return 77
    name = sys.argv[1]
    fn, env, args, pre = SCENARIOS[name]
    if name == "save" and not os.path.exists(os.path.join(STRATEGIES, "probe-lines.json")):
        print("the probe-lines fixture is not built: skipped")
        return 77
    c = Console(*SIZES.get(name, (80, 24)), env, args, pre)
    try:
        fn(c)
        print("PASS %s" % name)
        return 0
    finally:
        c.close()


if __name__ == "__main__":
    sys.exit(main())
