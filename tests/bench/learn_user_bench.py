#!/usr/bin/env python3
"""learn_user_bench.py: the learning benchmark through a DEPLOYED user strategy, as an operator
runs one: the objective of learn_opt_bench (3 parameters, a known optimum 0.85, a and c
interacting, noise sd 0.05) as a user strategy file (learn_user_strategy.c, a static binary and
a manifest added with `strategies add`), every run a real `swarmdeck deploy --auto-optimize`
into a namespace sandbox, the learner in the CLI's process as in production.

usage: learn_user_bench.py BUILD_DIR STRATEGY_BINARY [--seeds N] [--runs N] [--batch K]

Arms, each seed on a fresh store: sequential (one `deploy --auto-optimize` per run, RUNS of
them) and batched (`deploy -a K --auto-optimize`, RUNS / K waves: the K agents of a wave are
chosen before any finishes). Regret: the sum over the runs of 0.85 - f(chosen set), noise-free,
read back from the store's parameters. Uniform random search over the same box (the
optimiser's search range, as learn_opt_bench.py draws it, 10 seeds) for scale. Prints a
Markdown table; asserts nothing about time or regret (a benchmark).
"""
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

FSTAR = 0.85
UB = math.log2(200 / 20) / 4
UB_LO = math.log2(2 / 20) / 4


def f(a, b, c):
    ua, ub, uc = a - 0.7, math.log2(b / 20) / 4 - 0.33, math.log2(max(c, 1e-9) / 0.01) / 4 - 0.5
    return min(max(FSTAR - 0.8 * (ua * ua + ub * ub + uc * uc + 1.2 * ua * uc), 0.0), 1.0)


def random_arm(seeds, runs):  # learn_opt_bench.py's random arm
    out = []
    for s in range(seeds):
        rng = random.Random(1000 + s)
        reg = 0.0
        for _ in range(runs):
            a, ub, uc = rng.random(), rng.uniform(UB_LO, UB), rng.uniform(-1, 1)
            b = int(min(max(round(20 * 2 ** (4 * ub)), 2), 200))
            reg += FSTAR - f(a, b, 0.01 * 2 ** (4 * uc))
        out.append(reg)
    return out


MANIFEST = {"name": "bench-user", "description": "learning benchmark objective (user strategy)",
            "command": ["./bench-user"], "files": ["bench-user"],
            "params": [
                {"name": "a", "type": "number", "default": 0.5, "min": 0.0, "max": 1.0,
                 "description": "linear"},
                {"name": "b", "type": "integer", "default": 20, "min": 2, "max": 200,
                 "description": "log scale"},
                {"name": "c", "type": "number", "default": 0.01, "min": 0.0, "max": 1.0,
                 "description": "log scale, interacts with a"},
                {"name": "seed", "type": "integer", "default": 0, "min": 0,
                 "max": 1000000000, "description": "the noise (pinned)"}]}


def arm(sd, strategy_bin, seed, runs, batch):
    d = tempfile.mkdtemp(prefix="swarmdeck-learn-user-")
    os.chmod(d, 0o711)
    run = os.path.join(d, "run")
    os.mkdir(run, 0o711)
    env = dict(os.environ, XDG_RUNTIME_DIR=run, XDG_STATE_HOME=os.path.join(d, "state"),
               NO_COLOR="1", SWARMDECK_DB=os.path.join(d, "s.db"))
    try:
        shutil.copy(strategy_bin, os.path.join(d, "bench-user"))
        with open(os.path.join(d, "bench-user.json"), "w") as fh:
            json.dump(MANIFEST, fh)
        # the store is created by a first deployment; it is not counted
        subprocess.run([sd, "--no-daemon", "deploy", "-s", "momentum", "--no-learning", "--json"],
                       env=env, capture_output=True, check=True, cwd=d)
        subprocess.run([sd, "--no-daemon", "strategies", "add",
                        os.path.join(d, "bench-user.json")], env=env, capture_output=True,
                       check=True, cwd=d)
        t0 = time.monotonic()
        waves = runs // batch
        for w in range(waves):
            args = [sd, "--no-daemon", "deploy", "-s", "bench-user", "--auto-optimize",
                    "--seed", str(1 + 1000 * seed + w), "-p",
                    json.dumps({"seed": 100000 * seed + w}), "--timeout", "20", "--json"]
            if batch > 1:
                args[3:3] = ["-a", str(batch)]
            p = subprocess.run(args, env=env, capture_output=True, cwd=d)
            if p.returncode not in (0, 1):
                sys.exit("deploy: exit %d: %s" % (p.returncode, p.stderr.decode()))
        secs = time.monotonic() - t0
        con = sqlite3.connect(env["SWARMDECK_DB"])
        rows = con.execute("SELECT params, status, prediction FROM trajectories "
                           "WHERE strategy = 'bench-user' ORDER BY id").fetchall()
        con.close()
        reg, failed = 0.0, 0
        for params, status, pred in rows:
            p = json.loads(params)
            reg += FSTAR - f(p["a"], p["b"], p["c"])
            failed += status != "succeeded"
            assert json.loads(pred).get("autoOptimize") is not None
        assert len(rows) == waves * batch, (len(rows), waves * batch)
        return reg, failed, secs * 1000 / len(rows)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    sd, strategy_bin = os.path.join(os.path.abspath(args[0]), "swarmdeck"), os.path.abspath(args[1])
    seeds, runs, batch = 3, 200, 20
    i = 2
    while i + 1 < len(args):
        if args[i] == "--seeds":
            seeds = int(args[i + 1])
        elif args[i] == "--runs":
            runs = int(args[i + 1])
        elif args[i] == "--batch":
            batch = int(args[i + 1])
        else:
            sys.exit(__doc__)
        i += 2
    rnd = statistics.median(random_arm(10, runs))
    print("objective: learn_opt_bench's, as a user strategy deployed into sandboxes; %d seeds x "
          "%d runs; load average %.1f" % (seeds, runs, os.getloadavg()[0]))
    print()
    print("| arm | batch | median regret | per seed | / random | failed runs | ms per deployment |")
    print("|---|---|---|---|---|---|---|")
    print("| uniform random (computed, 10 seeds) | - | %.1f | | 1.00 | | |" % rnd)
    for b in (1, batch):
        res = [arm(sd, strategy_bin, s, runs, b) for s in range(seeds)]
        regs = [r[0] for r in res]
        med = statistics.median(regs)
        print("| swarmdeck deploy --auto-optimize%s | %d | %.1f | %s | %.2f | %d | %.0f |" % (
            " -a %d" % b if b > 1 else "", b, med, " ".join("%.1f" % r for r in regs), med / rnd,
            sum(r[1] for r in res), statistics.median(r[2] for r in res)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
