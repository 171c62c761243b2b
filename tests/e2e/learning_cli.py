#!/usr/bin/env python3
"""learning_cli: the learning commands as an operator uses them, on a small store made by real
deployments through the local provider.

  - bad input (unknown strategy, a parameter outside its schema, an empty or wordless task,
    malformed -p JSON) is refused with exit 2 and a message that names the problem;
  - `deploy` prints the suggestion it made before launching;
  - `patterns -t` answers with the matching patterns and a suggestion, and different tasks give
    different answers;
  - `status --learning --patterns --json`, `suggest --json` and `export` carry the camelCase
    fields of the original, and the counts agree with the store.
usage: learning_cli.py BUILD_DIR
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

build = sys.argv[1]
swarmdeck = os.path.join(build, "swarmdeck")
tmp = tempfile.mkdtemp(prefix="learn-cli-")
db = os.path.join(tmp, "s.db")
env = dict(os.environ, SWARMDECK_DB=db, XDG_RUNTIME_DIR=tmp, NO_COLOR="1")
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1


def run(*args):
    p = subprocess.run([swarmdeck, *args], env=env, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


# Bad input first: on an empty store, and nothing may be written by it.
for args, words in [
    (("suggest", "-s", "nope"), ['unknown strategy "nope"', "momentum"]),
    (("suggest", "-s", "momentum", "-p", '{"threshold": 5}'), ['"threshold"', "[0, 1]", "5"]),
    (("suggest", "-s", "momentum", "-p", "{threshold:"), ["not valid JSON", "column"]),
    (("suggest", "-s", "momentum", "-p", "[1]"), ["JSON object"]),
    (("patterns", "-t", ""), ["no words"]),
    (("patterns", "-t", " ,;- "), ["no words"]),
    (("patterns", "--strategy", "nope"), ['unknown strategy "nope"']),
    (("deploy", "-s", "nope"), ['unknown strategy "nope"']),
    (("deploy", "-s", "momentum", "-p", '{"lookback": 0}'), ['"lookback"']),
]:
    rc, out, err = run(*args)
    check(rc == 2 and all(w in err for w in words),
          "%s: exit 2 naming %s (got %d: %s)" % (" ".join(args), words, rc, err.strip()))
rows = 0
if os.path.exists(db):
    rows = sqlite3.connect(db).execute("SELECT count(*) FROM trajectories").fetchone()[0]
check(rows == 0, "refused commands stored no trajectory (%d)" % rows)

# A small store: momentum at two lookbacks, mean-reversion once.
for strategy, params in [("momentum", '{"lookback": 10}'), ("momentum", '{"lookback": 10}'),
                         ("momentum", '{"lookback": 40}'), ("mean-reversion", "{}")]:
    rc, out, err = run("deploy", "-s", strategy, "--symbol", "SPY", "-p", params)
    check(rc == 0, "deploy %s %s" % (strategy, params))
    first = out.splitlines()[0] if out else ""
    check(first.startswith("before launch: " + strategy + ": expected reward"),
          "deploy prints its suggestion before launching (%r)" % first)
    check(out.find("before launch") < out.find("succeeded"), "the suggestion precedes the result")

rc, out, _ = run("patterns", "-t", "Deploy momentum strategy with high volatility", "--json")
mom = json.loads(out)
rc, out, _ = run("patterns", "-t", "mean reversion please", "--json")
mr = json.loads(out)
check({p["strategyName"] for p in mom["patterns"]} == {"momentum"},
      "a momentum task finds momentum patterns")
check({p["strategyName"] for p in mr["patterns"]} == {"mean-reversion"},
      "a mean-reversion task finds mean-reversion patterns")
check(mom["suggestion"]["strategyName"] == "momentum" and
      mr["suggestion"]["strategyName"] == "mean-reversion",
      "each task gets a suggestion for its own strategy")
check(mom["suggestion"]["confidence"] > 0, "the momentum suggestion has evidence")
for p in mom["patterns"] + mr["patterns"]:
    check(all(k in p for k in ("name", "successRate", "observationCount", "confidence",
                               "operationSequence", "evidence")),
          "pattern %s has the original's field names" % p.get("name"))
check(sum(p["observationCount"] for p in mom["patterns"]) == 3,
      "momentum patterns account for the 3 momentum runs")
rc, out, _ = run("patterns", "-t", "momentum")
check(rc == 0 and "suggestion for momentum (named in the task)" in out,
      "human patterns output names the suggestion's strategy")

rc, out, _ = run("suggest", "-s", "momentum", "-p", '{"lookback": 10}', "--json")
s = json.loads(out)
check(all(k in s for k in ("expectedSuccessRate", "confidence", "reasoning",
                           "recommendedOperations")), "suggest --json fields")
check(any("similar run" in r for r in s["reasoning"]), "reasoning cites the evidence")

rc, out, _ = run("status", "--learning", "--patterns", "--json")
st = json.loads(out)
ls = st.get("learning", st)
flat = json.dumps(st)
for k in ("totalTrajectories", "avgSuccessRate", "improvementRate", "predictionAccuracy"):
    check(k in flat, "status --learning --json has " + k)
total = sqlite3.connect(db).execute(
    "SELECT count(*) FROM trajectories WHERE status IN ('succeeded','failed','timeout')"
).fetchone()[0]
check('"totalTrajectories": %d' % total in json.dumps(st), "totalTrajectories equals the store's "
      "%d learned trajectories" % total)

exp = os.path.join(tmp, "x.json")
rc, out, err = run("export", "-o", exp)
check(rc == 0, "export (%s)" % err.strip())
if rc == 0:
    b = json.load(open(exp))
    check("learningStats" in b and "patterns" in b, "export carries learning stats and patterns")

shutil.rmtree(tmp, ignore_errors=True)
print("%d failure(s)" % failures)
sys.exit(1 if failures else 0)
