#!/usr/bin/env python3
"""console_daemon.py: the console as a client of the daemon (docs/daemon.md), driven
through tmux as an operator would: what it starts outlives it, several consoles see the
same live state, a read-only console's changes are refused by the daemon, and a console
whose daemon dies says so and reconnects to the next one.

Every wait polls the screen or the process table against a deadline (no sleep decides
an outcome). Usage: console_daemon.py SCENARIO
Environment: SWARMDECK_BIN_DIR (build dir), SWARMDECK_SRC_DIR.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_e2e import BIN, Console  # noqa: E402
from lib_e2e import stop_daemon  # noqa: E402


def until(what, fn, timeout=30.0):
    """fn() until it returns something true, or fail naming what."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def daemon_pid(c):
    """The pid in the store's serve lock while a process holds it (else 0)."""
    try:
        with open(c.db + ".serve.lock") as f:
            pid = int(f.read().strip() or 0)
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return 0


def status(c):
    p = subprocess.run([os.path.join(BIN, "swarmdeck"), "status", "--json"], env=c.env,
                       capture_output=True, text=True)
    return json.loads(p.stdout) if p.returncode == 0 else None


def children(pid):
    p = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split()]


def deploy(c, agents, pace):
    """The deploy dialog: strategy momentum on SPY, AGENTS agents replaying PACE bars/s."""
    c.keys("d")
    c.wait_for(r"Deploy \(Enter launches")
    c.keys("Down", "C-u")
    c.text("SPY")
    c.keys("Down", "C-u")
    c.text(str(agents))
    c.keys("Down", "Down", "C-u")
    c.text(str(pace))
    c.wait_for(r"pace\s+%d(?!\d)" % pace)
    c.keys("Enter")
    c.wait_for(r"deployed #")


def s_survives(c):
    """A paced 20-agent swarm from the dialog; the tmux server is killed (the console gets
    SIGHUP); the sandboxes still run; a new console sees them live and they succeed."""
    c.wait_for(r"no deployments yet")
    pid = until("a daemon started on demand", lambda: daemon_pid(c), 15)
    deploy(c, 20, 1500)
    c.wait_for(r"running")
    c.tmux("kill-server")  # the console's terminal is gone: SIGHUP
    until("the console to exit", lambda: c.dead() or not c.tmux("list-sessions"), 15)
    assert daemon_pid(c) == pid, "the daemon went with the console"
    helpers = until("sandboxes under the daemon", lambda: children(pid), 10)
    st = status(c)
    live = st["daemon"]["running"] + st["daemon"]["queued"]
    assert live > 0, st
    print("after SIGHUP: %d sandbox helper(s) under daemon %d, %d live" % (len(helpers), pid, live))
    again = Console(160, 45, daemon=True, tmp=c.tmp, name=c.sock + "b")
    try:
        again.wait_for(r"\brunning\b", 20)
        again.wait_for(r"run \d+: 20 succeeded, 0 failed", 120)
        again.wait_for(r" 0 running 0 queued", 10)
        assert daemon_pid(c) == pid
    finally:
        again.close()


def s_two_consoles(c):
    """Two consoles on one daemon follow the same output; both hear the run's end."""
    c.wait_for(r"no deployments yet")
    until("a daemon", lambda: daemon_pid(c), 15)
    other = Console(160, 45, daemon=True, tmp=c.tmp, name=c.sock + "b")
    try:
        other.wait_for(r"no deployments yet")
        deploy(c, 1, 400)
        other.wait_for(r"1 +momentum +SPY +local +running", 20)
        other.keys("End")
        pat = r'\(bar (\d+)/\d+\)'
        bars = []
        for con in (c, other):
            con.wait_for(r"Output #1 momentum SPY \[follow\]")
            s = con.wait_for(pat, 20)
            bars.append(int(re.findall(pat, s)[-1]))
        # Each console's output moves on past what the other one showed.
        for con in (c, other):
            until("output to move on", lambda con=con: int(re.findall(pat, con.screen())[-1])
                  > max(bars) + 100, 30)
        for con in (c, other):
            con.wait_for(r"run 1: 1 succeeded, 0 failed", 60)
    finally:
        other.close()


def s_readonly_kill(c):
    """A --readonly console attaches to the daemon's read-only socket: it watches, and
    the daemon (not the console) refuses its kill; the deployment runs on."""
    c.wait_for(r"no deployments yet")
    until("a daemon", lambda: daemon_pid(c), 15)
    deploy(c, 1, 200)
    c.wait_for(r"1 +momentum +SPY +local +running", 20)
    ro = ReadonlyConsole(c)
    try:
        ro.wait_for(r"1 +momentum +SPY +local +running", 20)
        ro.keys("End", "x")
        ro.wait_for(r"Kill 1 deployment")
        ro.keys("y")
        ro.wait_for(r"kill: the daemon: read-only connection: the daemon refuses POST", 10)
        c.wait_for(r"1 +momentum +SPY +local +running")
        st = status(c)
        assert st["daemon"]["running"] == 1, st
    finally:
        ro.close()


class ReadonlyConsole(Console):
    """`swarmdeck --readonly console` on another console's store."""

    def __init__(self, c):
        self.sock = c.sock + "ro"
        self.shared = True
        self.tmp = c.tmp
        self.db = c.db
        e = {"SWARMDECK_DB": c.db, "XDG_RUNTIME_DIR": c.tmp,
             "XDG_STATE_HOME": os.path.join(c.tmp, "state"), "TERM": "tmux-256color",
             "TZ": "UTC", "LC_ALL": "C.UTF-8"}
        self.env = dict(os.environ, **e)
        envs = " ".join("%s='%s'" % kv for kv in e.items())
        self.tmux("new-session", "-d", "-x", "160", "-y", "45",
                  "exec env %s %s/swarmdeck --readonly console --no-anim" % (envs, BIN))
        self.tmux("set-option", "-g", "remain-on-exit", "on")


def s_reconnect(c):
    """The daemon is killed (-9): the console says so, starts the next one, says it
    reconnected, and shows what the next daemon recovered (interrupted, no lease)."""
    c.wait_for(r"no deployments yet")
    pid = until("a daemon", lambda: daemon_pid(c), 15)
    deploy(c, 2, 200)
    c.wait_for(r"running", 20)
    os.kill(pid, signal.SIGKILL)
    c.wait_for(r"daemon lost", 10)  # the header says so while it reconnects
    c.wait_for(r"reconnected: the daemon restarted \(pid \d+, was %d\)" % pid, 30)
    c.wait_for(r"interrupted", 20)
    new = until("the next daemon", lambda: daemon_pid(c), 10)
    assert new != pid
    c.wait_for(r"\| daemon %d \|" % new, 10)


def s_first_run(c):
    """A first run (`make run` on a fresh machine): the store's directory does not exist yet.
    The console must start its daemon all the same (it once refused: the daemon's --db was
    in a missing directory)."""
    c.wait_for(r"no deployments yet")
    db = os.path.join(c.tmp, "fresh", "data", "swarmdeck", "store.db")
    first = Console(160, 45, daemon=True, tmp=c.tmp, name=c.sock + "f",
                    env={"SWARMDECK_DB": db})
    try:
        first.wait_for(r"no deployments yet", 20)
        first.wait_for(r"\| daemon \d+ \|", 20)
        assert os.path.exists(db), "no store made"
        stop_daemon(db)
    finally:
        first.close()


SCENARIOS = {
    "first_run": s_first_run,
    "survives": s_survives,
    "two_consoles": s_two_consoles,
    "readonly_kill": s_readonly_kill,
    "reconnect": s_reconnect,
}


def main():
    if shutil.which("tmux") is None:
        print("tmux not found: skipped")
        return 77
    name = sys.argv[1]
    c = Console(160, 45, daemon=True)
    try:
        SCENARIOS[name](c)
        print("PASS %s" % name)
        return 0
    finally:
        try:
            stop_daemon(c.db)
        finally:
            c.close()
            shutil.rmtree(c.tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
