#!/usr/bin/env python3
"""console_chain.py: the console header's fingerprint-chain state, end to end through tmux.

The console verifies the chain on its reader thread at start and after deployments end
(and on `V` / `:verify`), and records the outcome unless --readonly (tui/fetch.h). Each
scenario starts the console on a store with finished trajectories, waits for
"chain ok (N)", changes a reward with raw SQL from this (another) process, triggers a
verification and waits for "chain BROKEN at #ID" in the error colour. Conditions are
polled with deadlines (console_e2e.Console.wait_for), never a fixed sleep.
Usage: console_chain.py SCENARIO
"""
import os
import re
import shutil
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_e2e import Console, cli, deploy  # noqa: E402


def sql(c, query, *args):
    con = sqlite3.connect(c.db, timeout=10)
    try:
        rows = con.execute(query, args).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def recorded(c):
    """What the last verification recorded in the store (None: nothing)."""
    rows = sql(c, "SELECT value FROM meta WHERE key = 'chain_verified'")
    return rows[0][0] if rows else None


def tamper(c, traj_id):
    sql(c, "UPDATE trajectories SET reward = reward + 0.125 WHERE id = ?", traj_id)


def sgr_before(c, text):
    """The last SGR escape sequence before text on the header row."""
    head = c.screen(esc=True).splitlines()[0]
    i = head.find(text)
    assert i >= 0, head
    seqs = re.findall(r"\x1b\[[0-9;]*m", head[:i])
    return seqs[-1] if seqs else ""


def s_verify_key(c):
    """Verified at start and recorded; a tampered reward is named after `V`."""
    c.wait_for(r"3 +momentum +\S+ +local +succeeded")
    c.wait_for(r"chain ok \(3\)")
    assert re.fullmatch(r"3:[0-9a-f]{128}", recorded(c) or ""), recorded(c)
    ok_attr = sgr_before(c, "chain ok")
    tamper(c, 2)
    c.keys("V")
    c.wait_for(r"chain BROKEN at #2\b")
    c.wait_for(r"chain BROKEN at #2: its content does not match its fingerprint")
    assert recorded(c) == "broken:2", recorded(c)
    bad_attr = sgr_before(c, "chain BROKEN")
    assert bad_attr != ok_attr, "the broken chain is not in the error colour (%r)" % bad_attr
    # The palette command does the same, and says so when the chain holds again.
    sql(c, "UPDATE trajectories SET reward = reward - 0.125 WHERE id = 2")
    c.keys(":")
    c.text("verify")
    c.keys("Enter")
    c.wait_for(r"chain ok: 3 record\(s\) verified")
    c.wait_for(r"chain ok \(3\)")
    c.keys("q")
    c.wait_exit()


def s_after_deploy(c):
    """A deployment that ends triggers the verification: the new record is in the
    chain it checks, and the tampered one is named."""
    c.wait_for(r"chain ok \(3\)")
    tamper(c, 1)
    deploy(c, pace="0")
    c.wait_for(r"4 +momentum +\S+ +local +succeeded", timeout=30)
    c.wait_for(r"chain BROKEN at #1\b", timeout=15)
    assert recorded(c) == "broken:1", recorded(c)
    # Repaired: the next deployment's verification covers all five records.
    sql(c, "UPDATE trajectories SET reward = reward - 0.125 WHERE id = 1")
    deploy(c, pace="0")
    c.wait_for(r"5 +momentum +\S+ +local +succeeded", timeout=30)
    c.wait_for(r"chain ok \(5\)", timeout=15)
    assert recorded(c).startswith("5:"), recorded(c)
    c.keys("q")
    c.wait_exit()


def s_readonly(c):
    """A read-only console verifies and shows the outcome, but records nothing."""
    c.wait_for(r"read-only")
    c.wait_for(r"chain ok \(3\)")
    assert recorded(c) is None, recorded(c)
    tamper(c, 3)
    c.keys("V")
    c.wait_for(r"chain BROKEN at #3\b")
    assert recorded(c) is None, recorded(c)
    c.keys("q")
    c.wait_exit()


SCENARIOS = {
    "verify_key": (s_verify_key, 200, 40, ""),
    "after_deploy": (s_after_deploy, 200, 40, ""),
    "readonly": (s_readonly, 200, 40, "--readonly"),
}


def main():
    if shutil.which("tmux") is None:
        print("tmux not found: skipped")
        return 77
    name = sys.argv[1]
    fn, x, y, args = SCENARIOS[name]
    c = Console(x, y, None, args, lambda e: cli(e, "deploy", "-s", "momentum", "-a", "3"))
    try:
        fn(c)
        print("PASS %s" % name)
        return 0
    finally:
        c.close()


if __name__ == "__main__":
    sys.exit(main())
