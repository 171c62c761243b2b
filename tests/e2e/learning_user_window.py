#!/usr/bin/env python3
"""learning_user_window.py: a user strategy gets the walk-forward window (issue 15): with
`--train-until DATE` or `--validate FRACTION` it is run with `--from FIRST --to LAST`, the
training window's first and last bar dates (cut as the built-in runner cuts). It may ignore
them: the stored result's "window" says whether it honoured them (echoed them in its @@result),
and so does the trajectory's "window" operation. --folds stays for the built-ins.

Usage: learning_user_window.py BUILD_DIR
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402

ECHO = """#!/bin/sh
from=""; to=""
while [ $# -gt 0 ]; do
  case "$1" in --from) from=$2; shift;; --to) to=$2; shift;; esac
  shift
done
echo "window $from $to"
echo '@@result {"sharpe":1,"window":{"from":"'$from'","to":"'$to'"}}'
"""

IGNORE = """#!/bin/sh
echo "args $*"
echo '@@result {"sharpe":0.5}'
"""


def add(env, name, text):
    script = env.path(name + ".sh")
    with open(script, "w") as f:
        f.write(text)
    os.chmod(script, 0o755)
    manifest = env.path(name + ".json")
    with open(manifest, "w") as f:
        json.dump({"name": name, "description": name, "command": ["./%s.sh" % name],
                   "files": [name + ".sh"], "params": []}, f)
    env.add_strategy(manifest)


def spy_dates():
    rows = [l.split(",")[0] for l in open(e2e.data_file("SPY")).read().splitlines()
            if l and not l.startswith("#") and l[0].isdigit()]
    return rows


def last_traj(env):
    return env.trajectories()[-1]


def main():
    env = e2e.Env("userwindow")
    try:
        add(env, "echoer", ECHO)
        add(env, "ignorer", IGNORE)
        dates = spy_dates()
        env.run("--no-daemon", "deploy", "-s", "echoer", "--symbol", "SPY", "--no-learning",
                "--train-until", "2010-12-31", check=0)
        t = last_traj(env)
        assert t["status"] == "succeeded", t
        want_to = max(d for d in dates if d <= "2010-12-31")
        out = env.output(t["id"], 1).decode()
        assert "window %s %s\n" % (dates[0], want_to) in out, out
        r = json.loads(t["result"])
        assert r["window"] == {"from": dates[0], "to": want_to, "mode": "train-until",
                               "value": "2010-12-31", "honoured": True}, r
        ops = {o[1]: o[4] for o in env.operations(t["id"])}
        assert ops.get("window") == 1, ops

        env.run("--no-daemon", "deploy", "-s", "ignorer", "--symbol", "SPY", "--no-learning",
                "--validate", "0.25", check=0)
        t = last_traj(env)
        assert t["status"] == "succeeded", t
        k = int(len(dates) * (1 - 0.25))
        out = env.output(t["id"], 1).decode()
        assert "--from %s --to %s" % (dates[0], dates[k - 1]) in out, out
        r = json.loads(t["result"])
        assert r["window"]["honoured"] is False and r["window"]["mode"] == "validate", r
        assert (r["window"]["from"], r["window"]["to"]) == (dates[0], dates[k - 1]), r
        ops = {o[1]: o[4] for o in env.operations(t["id"])}
        assert ops.get("window") == 0, ops

        # no window: nothing appended, nothing recorded
        env.run("--no-daemon", "deploy", "-s", "ignorer", "--no-learning", check=0)
        t = last_traj(env)
        assert "--from" not in env.output(t["id"], 1).decode()
        assert "window" not in json.loads(t["result"])
        # --folds is the built-in runner's; a window past the data is refused
        before = env.sql("SELECT count(*) FROM trajectories")[0][0]
        p = env.run("--no-daemon", "deploy", "-s", "ignorer", "--validate", "0.2", "--folds",
                    "3", check=2)
        assert b"--folds is for the built-in strategies" in p.stderr, p.stderr
        p = env.run("--no-daemon", "deploy", "-s", "ignorer", "--symbol", "SPY",
                    "--train-until", "1900-01-01", check=2)
        assert b"leaves no bar before it" in p.stderr, p.stderr
        assert env.sql("SELECT count(*) FROM trajectories")[0][0] == before
        print("PASS a user strategy gets --from/--to; honoured or ignored, it is recorded")
        return 0
    finally:
        env.close()


if __name__ == "__main__":
    sys.exit(main())
