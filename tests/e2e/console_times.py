#!/usr/bin/env python3
"""console_times.py: `T` on a past run's output shows when each line was written (the stored
time of its chunk, issue 16), not when the console loaded it; a store from before chunk times
were kept shows them as unknown.

The store's chunk times are set to a known instant in 2020, so a line stamped with the load
time cannot pass. Driven through tmux on console_e2e's harness.
Environment: SWARMDECK_BIN_DIR (build dir), SWARMDECK_SRC_DIR.
"""
import os
import shutil
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_e2e import Console, cli  # noqa: E402

T0 = 1577934245678  # 2020-01-02 03:04:05.678 UTC


def pre(e):
    cli(e, "deploy", "-s", "momentum", "-a", "2")
    con = sqlite3.connect(e["SWARMDECK_DB"])
    con.execute("UPDATE output SET t = ? WHERE traj_id = 1", (T0,))
    con.execute("UPDATE output SET t = NULL WHERE traj_id = 2")  # as an old store has it
    con.commit()
    con.close()


def main():
    if shutil.which("tmux") is None:
        print("tmux not found: skipped")
        return 77
    c = Console(100, 30, {}, "", pre)
    try:
        c.wait_for(r"2 +momentum +\S+ +local +succeeded")
        c.keys("End")  # the oldest row: #1
        c.keys("2")
        c.wait_for(r"Output #1 momentum")
        c.text("T")
        c.wait_for(r"03:04:05\.678 \d{4}-\d\d-\d\d (buy|sell) ")
        c.keys("1")
        c.keys("Home")  # #2: no times recorded
        c.keys("2")
        c.wait_for(r"Output #2 momentum")
        c.wait_for(r"--:--:--\.--- \d{4}-\d\d-\d\d (buy|sell) ")
        c.keys("q")
        c.wait_exit()
        print("PASS times")
        return 0
    finally:
        c.close()


if __name__ == "__main__":
    sys.exit(main())
