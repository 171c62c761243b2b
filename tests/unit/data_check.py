#!/usr/bin/env python3
"""data_check.py: checks the market data bundled in data/ (python3 stdlib only).

    data_check.py wellformed DATA_DIR          every file: header, dates, numbers, bars, rows
    data_check.py spy DATA_DIR                 SPY.csv against compounding done here
    data_check.py stats DATA_DIR GENDATA SYM   a synthetic series against its stated model

The stats check reads the model parameters from the file's own "# param" lines
and the hidden path (regimes, diffusion, jumps) from `gendata trace`, so it
tests what the file claims, not a copy of the C table. Tolerances are a few
standard errors of each estimate; the series is fixed, so a failure means the
generator or the file changed, never bad luck on a rerun.
"""
import csv
import math
import os
import re
import statistics
import subprocess
import sys

DAYS = 252.0
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SYNTHETIC = ("QQQ", "IWM", "TSLA")

# The documented layout of each shipped file: columns and data rows (data/README.md).
FILES = {
    "SPX.csv": ("date,open,high,low,close,adjclose,volume", 5105),
    "SPY.csv": ("date,close", 6358),
}
for _sym in SYNTHETIC:
    FILES[_sym + ".synthetic.csv"] = ("date,open,high,low,close,volume", 5105)

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
    return ok


def read(path):
    """Returns (comment lines, header, rows as lists of strings)."""
    with open(path, newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    comments = []
    while lines and lines[0].startswith("#"):
        comments.append(lines.pop(0))
    if not lines:
        return comments, "", []
    header = lines.pop(0)
    return comments, header, list(csv.reader(lines))


def finite(s):
    try:
        v = float(s)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def check_wellformed(data):
    spx_dates = None
    # SPX.csv first: the synthetic files must use its dates.
    for name, (header_want, rows_want) in sorted(FILES.items(), key=lambda kv: kv[0] != "SPX.csv"):
        path = os.path.join(data, name)
        if not check(os.path.exists(path), f"{name}: missing"):
            continue
        comments, header, rows = read(path)
        cols = header_want.split(",")
        check(header == header_want, f"{name}: header {header!r}, want {header_want!r}")
        check(len(rows) == rows_want, f"{name}: {len(rows)} rows, want {rows_want}")
        prev = ""
        bad = 0
        for i, row in enumerate(rows):
            where = f"{name}: row {i + 1}"
            if len(row) != len(cols) or not DATE.match(row[0]) or row[0] <= prev:
                bad += not check(False, f"{where}: bad shape or date not increasing: {row}")
                continue
            prev = row[0]
            v = dict(zip(cols[1:], (finite(x) for x in row[1:])))
            if any(x is None or x <= 0 for x in v.values()):
                bad += not check(False, f"{where}: a number is missing, not finite or <= 0")
                continue
            if "open" in v:
                ok = v["low"] <= min(v["open"], v["close"]) and max(v["open"], v["close"]) <= v["high"]
                bad += not check(ok, f"{where}: low <= open, close <= high fails: {row}")
            if "volume" in v:
                bad += not check(re.fullmatch(r"\d+", row[-1]) is not None, f"{where}: volume not an integer")
            if bad > 10:
                break
        dates = [r[0] for r in rows]
        if name == "SPX.csv":
            spx_dates = dates
            check(not comments, "SPX.csv: must be the vega-datasets file unchanged")
        elif name == "SPY.csv":
            text = "\n".join(comments)
            for word in ("zipline", "Apache-2.0", "total-return", "NO open, high, low or volume"):
                check(word in text, f"SPY.csv: comment does not say {word!r}")
            check(rows and rows[0] == ["1993-01-29", "43.940000"], "SPY.csv: first row must be 1993-01-29,43.940000")
        else:
            text = "\n".join(comments)
            sym = name.split(".")[0]
            for word in ("SYNTHETIC", "NOT market history", f"gendata synth {sym}", "# param seed", "Markov-switching"):
                check(word in text, f"{name}: comment does not say {word!r}")
            check(f"# Rows: {len(rows)}," in text, f"{name}: '# Rows:' comment does not match")
            check(spx_dates is not None and dates == spx_dates, f"{name}: dates differ from SPX.csv")


def check_spy(data):
    _, _, rows = read(os.path.join(data, "SPY.csv"))
    with open(os.path.join(data, "sources", "SPY_daily_returns.csv")) as f:
        src = list(csv.reader(f))[1:]
    check(len(rows) == len(src) + 1, "SPY.csv: one row per return plus the first close")
    close = 43.94
    logs = []
    worst = 0.0
    for (d, r), row in zip(src, rows[1:]):
        check(row[0] == d[:10], f"SPY.csv: date {row[0]} vs source {d}")
        close *= 1.0 + float(r)
        logs.append(math.log1p(float(r)))
        worst = max(worst, abs(float(row[1]) - close))
    check(worst <= 6e-7, f"SPY.csv: a close differs from the compounded value by {worst}")
    # Independently of the loop: the product as a sum of logs.
    last = 43.94 * math.exp(math.fsum(logs))
    got = float(rows[-1][1])
    check(abs(got - last) <= 1e-9 * last + 5e-7, f"SPY.csv: last close {got}, compounded {last:.6f}")
    print(f"SPY.csv: {len(rows)} rows, last {rows[-1][0]} {got}, compounded {last:.6f}")


def params_of(comments):
    p = {"regime": {}}
    for line in comments:
        f = line.split()
        if len(f) < 3 or f[1] != "param":
            continue
        if f[2] == "regime":
            p["regime"][f[3]] = {"drift": float(f[5]), "vol": float(f[7]), "trans": [float(x) for x in f[9:12]]}
        elif f[2] == "seed":
            p["seed"] = f[3]
        elif f[2] == "start_price":
            p["start_price"] = float(f[3])
        else:
            p[f[2]] = {f[i]: float(f[i + 1]) for i in range(3, len(f) - 1, 2)}
    return p


def stationary(trans):
    pi = [1.0 / len(trans)] * len(trans)
    for _ in range(10000):
        pi = [sum(pi[i] * trans[i][j] for i in range(len(trans))) for j in range(len(trans))]
    return pi


def kurtosis(xs):
    m = statistics.fmean(xs)
    v = statistics.fmean([(x - m) ** 2 for x in xs])
    return statistics.fmean([(x - m) ** 4 for x in xs]) / (v * v)


def within(name, got, want, rel):
    ok = abs(got - want) <= rel * abs(want)
    print(f"  {name}: {got:.4f} (model {want:.4f}, tolerance {rel:.0%}){'' if ok else '  FAIL'}")
    return check(ok, f"{name}: {got:.4f} not within {rel:.0%} of {want:.4f}")


def check_stats(data, gendata, sym):
    comments, _, rows = read(os.path.join(data, sym + ".synthetic.csv"))
    p = params_of(comments)
    names = ["calm", "normal", "turbulent"]
    check(sorted(p["regime"]) == sorted(names), f"{sym}: header must list the three regimes")
    trace_out = subprocess.run(
        [gendata, "trace", sym, os.path.join(data, "SPX.csv")], check=True, capture_output=True, text=True
    ).stdout
    trace = list(csv.DictReader(trace_out.splitlines()))
    check(len(trace) == len(rows), f"{sym}: trace and file differ in length")
    check(all(t["date"] == r[0] and t["close"] == r[4] for t, r in zip(trace, rows)), f"{sym}: trace closes differ from the file")
    print(f"{sym}: {len(rows)} bars, seed {p['seed']}")

    o, c = [float(r[1]) for r in rows], [float(r[4]) for r in rows]
    prev = [p["start_price"]] + c[:-1]
    ret = [math.log(b / a) for a, b in zip(prev, c)]
    # The file's returns are the trace's diffusion plus jumps, up to printing precision.
    worst = max(abs(r - float(t["diffusion"]) - float(t["jumps"])) for r, t in zip(ret, trace))
    check(worst < 1e-4, f"{sym}: file returns differ from trace by {worst}")

    # Per-regime diffusion volatility, annualised, and the overnight gap.
    for name in names:
        idx = [i for i, t in enumerate(trace) if t["regime"] == name]
        check(len(idx) >= 100, f"{sym}: regime {name} has only {len(idx)} days")
        if len(idx) < 100:
            continue
        vol = p["regime"][name]["vol"]
        diff = [float(trace[i]["diffusion"]) for i in idx]
        se = 1.0 / math.sqrt(2 * len(idx))
        within(f"{sym} {name} vol ({len(idx)} days)", statistics.stdev(diff) * math.sqrt(DAYS), vol, max(0.10, 4 * se))
        gaps = [math.log(o[i] / prev[i]) for i in idx]
        within(f"{sym} {name} gap sd", statistics.pstdev(gaps), p["bar"]["gap"] * vol / math.sqrt(DAYS), max(0.10, 4 * se))

    # Regime persistence: each diagonal of the transition matrix from the observed switches.
    reg = [names.index(t["regime"]) for t in trace]
    for k, name in enumerate(names):
        stays = [reg[i + 1] == k for i in range(len(reg) - 1) if reg[i] == k]
        want = p["regime"][name]["trans"][k]
        got = sum(stays) / len(stays)
        se = math.sqrt(want * (1 - want) / len(stays))
        ok = abs(got - want) <= max(4 * se, 0.005)
        print(f"  {sym} {name} stay probability: {got:.4f} (model {want:.4f})")
        check(ok, f"{sym}: {name} stay probability {got:.4f}, model {want:.4f}")

    # Jumps: the count is Poisson(rate/252 per day); sizes Normal(mean, sd).
    j = p["jumps"]
    n_jumps = sum(int(t["njumps"]) for t in trace)
    want = j["rate"] / DAYS * len(trace)
    print(f"  {sym} jumps: {n_jumps} (model {want:.1f})")
    check(n_jumps > 0 and abs(n_jumps - want) <= 4 * math.sqrt(want), f"{sym}: {n_jumps} jumps, model {want:.1f}")
    sizes = [float(t["jumps"]) for t in trace if t["njumps"] == "1"]
    if check(len(sizes) >= 20, f"{sym}: too few single-jump days"):
        within(f"{sym} jump sd", statistics.stdev(sizes), j["sd"], max(0.25, 4 / math.sqrt(2 * len(sizes))))

    # The shipped close series alone: overall vol, fat tails, volatility clustering.
    pi = stationary([p["regime"][n]["trans"] for n in names])
    var = sum(pi[k] * p["regime"][n]["vol"] ** 2 for k, n in enumerate(names)) / DAYS
    var += j["rate"] / DAYS * (j["mean"] ** 2 + j["sd"] ** 2)
    within(f"{sym} annualised vol of closes", statistics.pstdev(ret) * math.sqrt(DAYS), math.sqrt(var * DAYS), 0.25)
    k = kurtosis(ret)
    print(f"  {sym} kurtosis of daily log returns: {k:.2f} (normal 3)")
    check(k > 3.5, f"{sym}: kurtosis {k:.2f}, want fat tails (> 3.5)")
    a = [abs(x) for x in ret]
    m = statistics.fmean(a)
    ac = sum((x - m) * (y - m) for x, y in zip(a, a[1:])) / sum((x - m) ** 2 for x in a)
    print(f"  {sym} lag-1 autocorrelation of |return|: {ac:.3f}")
    check(ac > 0.05, f"{sym}: no volatility clustering (lag-1 autocorrelation of |r| {ac:.3f})")

    # Volume: lognormal with the stated median and log sd on normal days without a jump.
    lv = [math.log(int(r[5])) for r, t in zip(rows, trace) if t["regime"] == "normal" and t["njumps"] == "0"]
    v = p["volume"]
    within(f"{sym} median volume", math.exp(statistics.median(lv)), v["median"], 0.05)
    within(f"{sym} log volume sd", statistics.stdev(lv), v["sd"], 0.10)


def main(argv):
    if len(argv) >= 3 and argv[1] == "wellformed":
        check_wellformed(argv[2])
    elif len(argv) >= 3 and argv[1] == "spy":
        check_spy(argv[2])
    elif len(argv) >= 5 and argv[1] == "stats":
        check_stats(argv[2], argv[3], argv[4])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
