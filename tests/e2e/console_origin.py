#!/usr/bin/env python3
"""console_origin.py: the console marks and filters synced trajectories by origin (issue 19
part 4, docs/fleet.md), and its deploy dialog takes as many agents as the CLI (issue 16).

A second store makes two deployments; they are exported and imported into the console's
store (which made one of its own) and marked with their origin as the fleet's merge marks
them (fleet_e2e.py tests the merge itself). The console runs in tmux (console_e2e's harness):

  origin  the synced rows show their origin in the HOST column (which shows because of them),
          the local one this host's name; the details say where a synced row came from;
          `:host ORIGIN` shows only those, `H` cycles local -> ORIGIN -> every host, and the
          table filter (`/`) matches the origin;
  agents  the deploy dialog takes the CLI's largest agent count (LAUNCH_MAX, 100000): Enter
          asks for the launch confirmation instead of refusing the field, and one more is
          refused as the CLI refuses it.

Every wait polls the screen against a deadline; nothing sleeps to settle.
Usage: console_origin.py SCENARIO. Environment: SWARMDECK_BIN_DIR, SWARMDECK_SRC_DIR.
"""
import os
import re
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402
from console_e2e import Console  # noqa: E402


def synced_store():
    """(local Env, origin): the local store holds 1 run of its own and 2 from "lab-2": made
    in a second store, then imported here and marked with their origin as the fleet's merge
    marks them (export.c's import_one: the same UPDATE of trajectories.origin)."""
    local, peer = e2e.Env("origin-local"), e2e.Env("origin-peer")
    try:
        local.run("--no-daemon", "deploy", "-s", "momentum", "-a", "1", check=0)
        peer.run("--no-daemon", "deploy", "-s", "mean-reversion", "-a", "2", check=0)
        bundle = peer.path("bundle.json")
        peer.run("export", "-o", bundle, check=0)
        local.run("import", bundle, check=0)
    finally:
        peer.close()
    con = sqlite3.connect(local.db, timeout=30)
    with con:
        con.execute("UPDATE trajectories SET origin = 'lab-2' WHERE strategy = 'mean-reversion'")
    con.close()
    n = local.sql("SELECT count(*) FROM trajectories WHERE origin = 'lab-2'")[0][0]
    assert n == 2, n
    return local, "lab-2"


def table_ids(screen):
    """The Sandboxes table's (id, host) pairs on screen."""
    return re.findall(r"^\W*(\d+)\s+(\S+)\s+(?:momentum|mean-reversion)\b", screen, re.M)


def scenario_origin():
    local, origin = synced_store()
    c = None
    try:
        ids = {o or "local": [] for (o,) in local.sql("SELECT DISTINCT origin FROM trajectories")}
        for i, o in local.sql("SELECT id, origin FROM trajectories"):
            ids[o or "local"].append(str(i))
        c = Console(x=160, y=40, env={"SWARMDECK_DB": local.db})
        c.wait_for(r"Sandboxes \(3/3\)")
        s = c.wait_for(r"HOST")
        rows = dict(table_ids(s))
        assert sorted(rows) == sorted(ids["local"] + ids[origin]), (rows, ids)
        for i in ids[origin]:
            assert rows[i] == origin, (i, rows)
        assert rows[ids["local"][0]] == "local", rows
        # the details of a synced row say where it came from
        c.keys(":")
        c.text("host " + origin)
        c.keys("Enter")
        s = c.wait_for(r"Sandboxes \(2/2\) host: %s" % re.escape(origin))
        assert sorted(dict(table_ids(s))) == sorted(ids[origin]), s
        c.wait_for(r"host\s+%s \(synced from there\)" % re.escape(origin))
        # H: every host -> local -> the origin -> every host
        c.keys(":")
        c.text("host")
        c.keys("Enter")
        c.wait_for(r"Sandboxes \(3/3\)")
        c.keys("H")
        s = c.wait_for(r"Sandboxes \(1/1\) host: local")
        assert list(dict(table_ids(s))) == ids["local"], s
        c.keys("H")
        c.wait_for(r"Sandboxes \(2/2\) host: %s" % re.escape(origin))
        c.keys("H")
        c.wait_for(r"Sandboxes \(3/3\)")
        # a host that is neither shown nor an origin: refused, the table unchanged
        c.keys(":")
        c.text("host nosuchhost")
        c.keys("Enter")
        c.wait_for(r'host: no host "nosuchhost" here')
        c.wait_for(r"Sandboxes \(3/3\)")
        # the table filter matches the HOST column
        c.keys("/")
        c.text(origin)
        c.keys("Enter")
        s = c.wait_for(r"Sandboxes \(2/3\) filter: %s" % re.escape(origin))
        assert sorted(dict(table_ids(s))) == sorted(ids[origin]), s
    finally:
        if c:
            c.close()
        local.close()


def scenario_agents():
    c = Console(x=120, y=40)
    try:
        c.wait_for(r"Sandboxes")
        c.keys("d")
        c.wait_for(r"Deploy \(Enter launches")
        c.keys("Down", "Down", "C-u")
        c.text("100001")
        c.keys("Enter")
        c.wait_for(r"\[1, 100000\]")  # refused, as `deploy -a 100001` is
        c.keys("C-u")
        c.text("100000")
        c.keys("Enter")
        s = c.wait_for(r"Launch 100000 agents of \S+ on \S+\?")
        c.keys("n")
        c.wait_for(r"Launch 100000 agents", absent=True)
        assert not re.search(r"deployed #", c.screen()), s
    finally:
        c.close()


if __name__ == "__main__":
    e2e.require_env()
    {"origin": scenario_origin, "agents": scenario_agents}[sys.argv[1]]()
    print("ok")
