#!/usr/bin/env python3
"""learning_window: the runner's held-out window (--train-until, --validate).

A strategy is causal, so the in-sample part of a windowed run must equal a
run over only the in-sample bars (same Sharpe, same total return), and the
out-of-sample part must pick up where it ends (its total return is the full
run's final equity over the in-sample final equity). Bad windows are
refused before any output: both flags (exit 2), a fraction outside (0, 1)
(exit 2), a date that leaves no bars on one side (exit 3).
usage: learning_window.py BUILD_DIR SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

build, src = sys.argv[1], sys.argv[2]
runner = os.path.join(build, "swarmdeck-runner")
spy = os.path.join(src, "data", "SPY.csv")
failures = 0


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    failures += not cond


def run(*args):
    p = subprocess.run([runner, "run", *args], capture_output=True, text=True)
    res = [json.loads(l[9:]) for l in p.stdout.splitlines() if l.startswith("@@result ")]
    return p, res[0] if res else None


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1, abs(a), abs(b))


params = json.dumps({"lookback": 30, "threshold": 0.01})
p, w = run("--strategy", "momentum", "--data", spy, "--params", params, "--train-until", "2010-12-31")
check(p.returncode == 0 and w is not None, "a run with --train-until succeeds")
ins, oos, full = w["inSample"], w["outOfSample"], w["fullPeriod"]
check(ins["last_date"] <= "2010-12-31" < oos["first_date"], "the split is at the date")
check(w["sharpe"] == ins["sharpe"] and w["total_return"] == ins["total_return"],
      "the top-level metrics are the in-sample ones (the reward sees only them)")
check(w["window"] == {"split": ins["last_date"], "mode": "train-until", "value": "2010-12-31"},
      "the window is recorded")

with tempfile.TemporaryDirectory() as tmp:
    cut = os.path.join(tmp, "SPY.csv")
    with open(spy) as f, open(cut, "w") as g:
        for line in f:
            if not line[:1].isdigit() or line[:10] <= "2010-12-31":
                g.write(line)
    p, t = run("--strategy", "momentum", "--data", cut, "--params", params)
    check(p.returncode == 0 and close(t["sharpe"], ins["sharpe"]) and
          close(t["total_return"], ins["total_return"]),
          "in sample equals a run on the in-sample bars alone (sharpe %.6f vs %.6f)"
          % (ins["sharpe"], t["sharpe"]))
check(close(1 + oos["total_return"], full["final_equity"] / ins["final_equity"]),
      "out of sample continues from the in-sample equity")
check(ins["bars"] + oos["bars"] == full["bars"], "the windows cover every bar once")

p, v = run("--strategy", "momentum", "--data", spy, "--validate", "0.25")
check(p.returncode == 0 and v["window"]["mode"] == "validate" and
      abs(v["outOfSample"]["bars"] - 0.25 * v["fullPeriod"]["bars"]) <= 1,
      "--validate 0.25 holds out the last quarter")

p, wf = run("--strategy", "momentum", "--data", spy, "--params", params, "--train-until",
            "2010-12-31", "--folds", "4")
folds = wf["outOfSample"]["folds"] if wf else []
check(p.returncode == 0 and len(folds) == 4 and
      sum(f["bars"] for f in folds) == wf["outOfSample"]["bars"] and
      sum(f["trades"] for f in folds) == wf["outOfSample"]["trades"] and
      folds[0]["first_date"] == wf["outOfSample"]["first_date"] and
      folds[-1]["last_date"] == wf["outOfSample"]["last_date"] and
      all(a["last_date"] < b["first_date"] for a, b in zip(folds, folds[1:])),
      "--folds 4 cuts the held-out bars into 4 consecutive blocks that add up")
check(close(wf["outOfSample"]["sharpe"], w["outOfSample"]["sharpe"]),
      "folds do not change the out-of-sample metrics")
p3, w3 = run("--strategy", "momentum", "--data", spy, "--params", params, "--validate", "0.5",
             "--folds", "2")
check(p3.returncode == 0 and len(w3["outOfSample"]["folds"]) == 2, "--validate takes --folds too")

for args, code, what in (
        (("--folds", "3"), 2, "--folds without a window"),
        (("--validate", "0.3", "--folds", "1"), 2, "one fold"),
        (("--train-until", "2010-12-31", "--validate", "0.2"), 2, "both flags"),
        (("--validate", "1.5"), 2, "a fraction outside (0, 1)"),
        (("--train-until", "1900-01-01"), 3, "a date before the data"),
        (("--train-until", "2999-01-01"), 3, "a date after the data")):
    p, r = run("--strategy", "momentum", "--data", spy, *args)
    check(p.returncode == code and r is None and "@@error" in p.stdout,
          "%s is refused with exit %d (got %d)" % (what, code, p.returncode))

sys.exit(1 if failures else 0)
