#!/usr/bin/env python3
"""learning_e2e: learning changes what happens, measured through the real
local provider.

A fixture strategy (tests/fixtures/learning/fx.c) succeeds with probability
p(x) peaking at x = 0.85 and earns more reward near it. We make 200
deployments one after another with --auto-optimize, pinning only a fresh
seed each time, so the learner chooses x. Then:
  - the mean reward of the last 50 beats the first 50 by a clear margin;
  - the learner's suggestion ranks the best region first (its recommended x
    is near 0.85, and a suggestion at x = 0.85 expects more success than one
    at x = 0.1);
  - prediction accuracy is above what always predicting the majority outcome
    gives;
  - every deployment is a trajectory marked auto-optimized, with its
    prediction stored before launch.
usage: learning_e2e.py BUILD_DIR FX_BINARY [SEED_BASE]
SEED_BASE (default 7): deployment i gets --seed SEED_BASE + i. With 1007 the optimiser used
to sit on the bound x = 1.0 from the 31st deployment on (learning_e2e_seed1007).
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

build, fx = sys.argv[1], sys.argv[2]
seed_base = int(sys.argv[3]) if len(sys.argv) > 3 else 7
swarmdeck = os.path.join(build, "swarmdeck")
tmp = tempfile.mkdtemp(prefix="learn-e2e-")
env = dict(os.environ, SWARMDECK_DB=os.path.join(tmp, "s.db"))
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)
    else:
        print("ok:", what)


def run(*args, ok=(0, 1)):
    p = subprocess.run([swarmdeck, *args], env=env, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    if p.returncode not in ok:
        sys.exit("swarmdeck %s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


try:
    shutil.copy(fx, os.path.join(tmp, "fx"))
    manifest = open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                 "..", "fixtures", "learning", "fx.json")).read()
    with open(os.path.join(tmp, "fx.json"), "w") as f:
        f.write(manifest.replace("FX_BINARY", "fx"))
    run("strategies", "add", os.path.join(tmp, "fx.json"), ok=(0,))

    for i in range(200):
        run("deploy", "-s", "fx-learn", "--auto-optimize", "--seed", str(seed_base + i),
            "-p", json.dumps({"seed": 1000 + i}), "--timeout", "20")

    db = sqlite3.connect(env["SWARMDECK_DB"])
    rows = db.execute("SELECT id, status, reward, auto_optimized, prediction, params FROM trajectories "
                      "WHERE strategy = 'fx-learn' ORDER BY id").fetchall()
    check(len(rows) == 200, "200 trajectories recorded (got %d)" % len(rows))
    check(all(r[3] == 1 for r in rows), "every trajectory is marked auto-optimized")
    check(all(r[4] is not None for r in rows), "every trajectory stored its prediction")
    check(all(json.loads(r[5])["seed"] == 1000 + k for k, r in enumerate(rows)),
          "the pinned seed was never changed")
    check(all(0.0 <= json.loads(r[5])["x"] <= 1.0 for r in rows), "x stayed inside its bounds")
    first = sum(r[2] for r in rows[:50]) / 50
    last = sum(r[2] for r in rows[-50:]) / 50
    check(last > first + 0.1, "last 50 mean reward %.3f beats first 50 %.3f by > 0.1" % (last, first))
    succ_first = sum(r[1] == "succeeded" for r in rows[:50])
    succ_last = sum(r[1] == "succeeded" for r in rows[-50:])
    check(succ_last > succ_first, "more successes in the last 50 (%d) than the first 50 (%d)"
          % (succ_last, succ_first))

    good = json.loads(run("suggest", "-s", "fx-learn", "-p", '{"x":0.85}', "--json", ok=(0,)).stdout)
    bad = json.loads(run("suggest", "-s", "fx-learn", "-p", '{"x":0.1}', "--json", ok=(0,)).stdout)
    check(good["expectedSuccessRate"] > bad["expectedSuccessRate"] + 0.2,
          "suggestion at x=0.85 expects more success (%.2f) than at x=0.1 (%.2f)"
          % (good["expectedSuccessRate"], bad["expectedSuccessRate"]))
    rec = [r for r in bad["recommendedOperations"] if r.get("op") == "set_param" and r.get("name") == "x"]
    check(rec and 0.75 <= rec[0]["value"] <= 0.95,
          "from x=0.1 the first recommendation moves x into the best region (%s)" % rec[:1])

    pats = json.loads(run("patterns", "--strategy", "fx-learn", "--json", ok=(0,)).stdout)
    pats = pats if isinstance(pats, list) else pats.get("patterns", [])
    top = pats[0] if pats else {}
    lo, hi = top.get("region", {}).get("x", [None, None])
    check(lo is not None and lo <= 0.85 <= hi,
          "the most confident pattern's x region %s contains the optimum" % ((lo, hi),))

    st = json.loads(run("status", "--learning", "--json", ok=(0,)).stdout)["learning"]
    n_ok = sum(r[1] == "succeeded" for r in rows)
    majority = max(n_ok, len(rows) - n_ok) / len(rows)
    acc = st["byStrategy"]["fx-learn"]["predictionAccuracy"] if "byStrategy" in st else st["predictionAccuracy"]
    check(acc is not None and acc > majority,
          "prediction accuracy %.3f beats always-majority %.3f" % (acc or 0, majority))
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print("%d passed, %d failed" % (11 - failures, failures) if failures else "learning_e2e: all checks passed")
sys.exit(1 if failures else 0)
