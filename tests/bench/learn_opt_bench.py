#!/usr/bin/env python3
"""learn_opt_bench: auto-optimise against uniform random search and Optuna's TPE on the
known objective of learn_opt_bench.c (same function, box and noise), sequential and in
batches. Reports per arm the median over seeds of the cumulative regret (sum over the
runs of f* - f(x)) and its ratio to random and to TPE, as a Markdown table.

usage: learn_opt_bench.py BENCH_BINARY [--seeds N] [--runs N] [--batch K] [--check]

--check (CI): only that every arm runs and swarmdeck beats random; no table targets.
TPE needs /usr/bin/python3 with Debian's python3-optuna (scripts/deps.sh --test); without it
the TPE arm is reported as not run.
"""
import json
import math
import random
import statistics
import subprocess
import sys

FSTAR = 0.85
UB = math.log2(200 / 20) / 4  # b's box in u: [-UB', UB], b in [2, 200]
UB_LO = math.log2(2 / 20) / 4


def f(a, b, c):
    ua, ub, uc = a - 0.7, math.log2(b / 20) / 4 - 0.33, math.log2(max(c, 1e-9) / 0.01) / 4 - 0.5
    v = FSTAR - 0.8 * (ua * ua + ub * ub + uc * uc + 1.2 * ua * uc)
    return min(max(v, 0.0), 1.0)


def from_u(a, ub, uc):
    return a, int(min(max(round(20 * 2 ** (4 * ub)), 2), 200)), 0.01 * 2 ** (4 * uc)


def random_arm(seeds, runs):
    out = []
    for s in range(seeds):
        rng = random.Random(1000 + s)
        reg = 0.0
        for _ in range(runs):
            a, b, c = from_u(rng.random(), rng.uniform(UB_LO, UB), rng.uniform(-1, 1))
            reg += FSTAR - f(a, b, c)
        out.append(reg)
    return out


def tpe_arm(seeds, runs, batch):
    try:
        import optuna
    except ImportError:
        return None
    import warnings
    warnings.simplefilter("ignore")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = []
    for s in range(seeds):
        rng = random.Random(2000 + s)
        sampler = optuna.samplers.TPESampler(seed=s, constant_liar=batch > 1)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        reg, done = 0.0, 0
        while done < runs:
            k = min(batch, runs - done)
            # every trial of the batch is sampled (suggest_*) before any is told
            trials = [study.ask() for _ in range(k)]
            points = [(t.suggest_float("a", 0.0, 1.0), t.suggest_float("ub", UB_LO, UB),
                       t.suggest_float("uc", -1.0, 1.0)) for t in trials]
            for t, (a, ub, uc) in zip(trials, points):
                a, b, c = from_u(a, ub, uc)
                v = f(a, b, c)
                reg += FSTAR - v
                study.tell(t, min(max(v + rng.gauss(0, 0.05), 0.0), 1.0))
            done += k
        out.append(reg)
    return out


def ours(binary, seeds, runs, batch):
    p = subprocess.run([binary, "--seeds", str(seeds), "--runs", str(runs), "--batch", str(batch)],
                       capture_output=True, text=True, check=True)
    return json.loads(p.stdout)


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    binary, seeds, runs, batch, check = args[0], 10, 200, 20, False
    i = 1
    while i < len(args):
        if args[i] == "--check":
            check = True
        elif args[i] in ("--seeds", "--runs", "--batch") and i + 1 < len(args):
            val = int(args[i + 1])
            if args[i] == "--seeds":
                seeds = val
            elif args[i] == "--runs":
                runs = val
            else:
                batch = val
            i += 1
        else:
            sys.exit(__doc__)
        i += 1
    rnd = random_arm(seeds, runs)
    rows = []
    for b in (1, batch):
        o = ours(binary, seeds, runs, b)
        t = tpe_arm(seeds, runs, b)
        rows.append((b, o, t))
    med_r = statistics.median(rnd)
    print("objective: 3 parameters (a, c interact), noise sd 0.05, %d seeds x %d runs" % (seeds, runs))
    print()
    print("| arm | batch | median regret | / random | / TPE | ms per choice |")
    print("|---|---|---|---|---|---|")
    print("| uniform random | - | %.1f | 1.00 | | |" % med_r)
    ok = True
    for b, o, t in rows:
        mo = statistics.median(o["regret"])
        mt = statistics.median(t) if t else None
        print("| swarmdeck auto-optimise | %d | %.1f | %.2f | %s | %.2f |" % (
            b, mo, mo / med_r, "%.2f" % (mo / mt) if mt else "TPE not run", o["ms_per_choice"]))
        if mt:
            print("| Optuna TPE%s | %d | %.1f | %.2f | 1.00 | |" % (
                " (constant liar)" if b > 1 else "", b, mt, mt / med_r))
        ok = ok and mo < med_r
    if t is None:
        print("\nOptuna is not importable here (python3-optuna): TPE not run")
    if check and not ok:
        print("FAIL: auto-optimise did not beat random search")
        sys.exit(1)


main()
