#!/usr/bin/env python3
"""runner_reference.py: swarmdeck-runner against a second, deliberately naive implementation.

Usage: runner_reference.py RUNNER SPX.csv

The Python below re-derives everything from design.md 4.1-4.3 with the plainest code possible
(full recomputation per bar, statistics.pstdev, no shared code with the C engine) and compares
over the whole SPX series (5,105 bars):

  - every indicator (sma, ema, rsi, bbands, atr, roc, zscore, macd): the warm-up rows must be
    empty at exactly the same rows; values must agree within a relative tolerance of 1e-9
    (|a - b| <= 1e-9 * max(1, |b|)); the implementations sum in different orders, which costs
    ~1e-13 relative, so 1e-9 is loose enough for rounding and far too tight for any rule error;
  - momentum and mean-reversion backtests (defaults, plus shorts and a commission): every trade
    (bar, side, shares, price exactly; cash within 1e-9 relative) and every @@result metric
    (relative 1e-9; null exactly where the reference is undefined).
"""
import json
import math
import statistics
import subprocess
import sys

RUNNER, SPX = sys.argv[1], sys.argv[2]
TOL = 1e-9
failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        if failures < 30:
            print("FAIL:", what, file=sys.stderr)


def close_enough(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TOL * max(1.0, abs(b))


rows = [l.split(",") for l in open(SPX).read().splitlines()]
hdr = rows[0]
col = {name: hdr.index(name) for name in hdr}
data = rows[1:]
dates = [r[col["date"]] for r in data]
O = [float(r[col["open"]]) for r in data]
H = [float(r[col["high"]]) for r in data]
L = [float(r[col["low"]]) for r in data]
C = [float(r[col["close"]]) for r in data]
n = len(C)


# ---- naive indicators ------------------------------------------------------------------------
def sma(x, p):
    return [None if t < p - 1 else sum(x[t - p + 1:t + 1]) / p for t in range(len(x))]


def ema(x, p, start=0):
    out = [None] * len(x)
    a = 2 / (p + 1)
    seed = start + p - 1
    if seed >= len(x):
        return out
    out[seed] = sum(x[start:seed + 1]) / p
    for t in range(seed + 1, len(x)):
        out[t] = a * x[t] + (1 - a) * out[t - 1]
    return out


def rsi(x, p):
    out = [None] * len(x)
    ch = [x[t] - x[t - 1] for t in range(1, len(x))]
    g = sum(max(c, 0) for c in ch[:p]) / p
    l = sum(max(-c, 0) for c in ch[:p]) / p

    def val(g, l):
        return (50.0 if g == 0 else 100.0) if l == 0 else 100 - 100 / (1 + g / l)
    out[p] = val(g, l)
    for t in range(p + 1, len(x)):
        c = ch[t - 1]
        g = (g * (p - 1) + max(c, 0)) / p
        l = (l * (p - 1) + max(-c, 0)) / p
        out[t] = val(g, l)
    return out


def bbands(x, p, k):
    lo, mid, up = [None] * len(x), [None] * len(x), [None] * len(x)
    for t in range(p - 1, len(x)):
        w = x[t - p + 1:t + 1]
        m, sd = statistics.fmean(w), statistics.pstdev(w)
        lo[t], mid[t], up[t] = m - k * sd, m, m + k * sd
    return lo, mid, up


def atr(h, l, c, p):
    tr = [None] + [max(h[t] - l[t], abs(h[t] - c[t - 1]), abs(l[t] - c[t - 1]))
                   for t in range(1, len(c))]
    out = [None] * len(c)
    out[p] = sum(tr[1:p + 1]) / p
    for t in range(p + 1, len(c)):
        out[t] = (out[t - 1] * (p - 1) + tr[t]) / p
    return out


def roc(x, p):
    return [None if t < p else x[t] / x[t - p] - 1 for t in range(len(x))]


def zscore(x, p):
    out = [None] * len(x)
    for t in range(p - 1, len(x)):
        w = x[t - p + 1:t + 1]
        sd = statistics.pstdev(w)
        out[t] = None if sd == 0 else (x[t] - statistics.fmean(w)) / sd
    return out


def macd(x, f, s, g):
    ef, es = ema(x, f), ema(x, s)
    m = [None if a is None or b is None else a - b for a, b in zip(ef, es)]
    first = max(f, s) - 1
    sig = ema([0.0 if v is None else v for v in m], g, first)
    hist = [None if a is None or b is None else a - b for a, b in zip(m, sig)]
    return m, sig, hist


def runner_indicator(*args):
    p = subprocess.run([RUNNER, "indicator", *args, "--data", SPX], capture_output=True,
                       text=True, check=True)
    lines = p.stdout.splitlines()
    cols = list(zip(*[l.split(",") for l in lines[1:]]))
    check([d for d in cols[0]] == dates, "indicator %s: dates" % (args,))
    return lines[0], [[None if v == "" else float(v) for v in c] for c in cols[1:]]


def compare(name, got, want):
    bad = 0
    for t, (a, b) in enumerate(zip(got, want)):
        if not close_enough(a, b):
            bad += 1
            if bad <= 3:
                print("FAIL: %s at row %d (%s): runner %r, reference %r" %
                      (name, t, dates[t], a, b), file=sys.stderr)
    check(len(got) == len(want) == n and bad == 0, "%s: %d mismatches" % (name, bad))
    check(sum(v is not None for v in want) > n // 2, "%s: reference has values" % name)


CASES = [
    (["sma", "--period", "20"], [sma(C, 20)]),
    (["sma", "--period", "200"], [sma(C, 200)]),
    (["ema", "--period", "20"], [ema(C, 20)]),
    (["ema", "--period", "1"], [ema(C, 1)]),
    (["rsi", "--period", "14"], [rsi(C, 14)]),
    (["rsi", "--period", "2"], [rsi(C, 2)]),
    (["bbands", "--period", "20", "--k", "2"], list(bbands(C, 20, 2))),
    (["bbands", "--period", "10", "--k", "1.5"], list(bbands(C, 10, 1.5))),
    (["atr", "--period", "14"], [atr(H, L, C, 14)]),
    (["roc", "--period", "10"], [roc(C, 10)]),
    (["zscore", "--period", "20"], [zscore(C, 20)]),
    (["macd"], list(macd(C, 12, 26, 9))),
    (["macd", "--fast", "5", "--slow", "35", "--signal", "5"], list(macd(C, 5, 35, 5))),
]
for args, want in CASES:
    header, got = runner_indicator(*args)
    check(len(got) == len(want), "%s: %d columns (%s)" % (args, len(got), header))
    for i, (g, w) in enumerate(zip(got, want)):
        compare("%s column %d" % (" ".join(args), i + 1), g, w)


# ---- naive backtest and metrics --------------------------------------------------------------
def backtest(signal, p):
    """signal(t, pos) -> 'buy'|'sell'|'short'|'cover'|None, decided at t's close."""
    cash, pos, entry, entry_comm, comm = p["capital"], 0, 0.0, 0.0, p["commission"]
    pending, trades, equity, held, closed = None, [], [p["capital"]], 0, []
    for t in range(n):
        if pending:
            side, want = pending
            price = O[t]
            if side in ("buy", "short") and pos == 0:
                k = min(want, math.floor(cash / (price + comm)))
                if k > 0:
                    pos = k if side == "buy" else -k
                    cash -= pos * price + comm * k
                    entry, entry_comm = price, comm * k
                    trades.append((t + 1, side, k, price, cash))
            elif (side == "sell" and pos > 0) or (side == "cover" and pos < 0):
                k = abs(pos)
                pnl = (price - entry) * pos - comm * k - entry_comm
                cash += pos * price - comm * k
                pos = 0
                closed.append(pnl)
                trades.append((t + 1, side, k, price, cash))
        pending = None
        equity.append(cash + pos * C[t])
        held += pos != 0
        if t < n - 1:
            s = signal(t, pos)
            if s:
                pending = s
    if pos != 0:
        k = abs(pos)
        closed.append((C[-1] - entry) * pos - entry_comm)
        cash += pos * C[-1]
        trades.append((n, "sell" if pos > 0 else "cover", k, C[-1], cash))
    r = [equity[i] / equity[i - 1] - 1 for i in range(1, len(equity))]
    m = statistics.fmean(r)
    sd = statistics.stdev(r)
    peak, mdd = equity[0], 0.0
    for e in equity:
        peak = max(peak, e)
        mdd = max(mdd, 1 - e / peak)
    cagr = (equity[-1] / equity[0]) ** (252 / len(r)) - 1
    down = math.sqrt(sum(min(x, 0) ** 2 for x in r) / len(r))
    gp = sum(x for x in closed if x > 0)
    gl = sum(x for x in closed if x <= 0)
    metrics = {
        "total_return": equity[-1] / equity[0] - 1, "cagr": cagr,
        "volatility": sd * math.sqrt(252), "sharpe": m / sd * math.sqrt(252) if sd else None,
        "sortino": m / down * math.sqrt(252) if down else None, "max_drawdown": mdd,
        "calmar": cagr / mdd if mdd else None, "trades": len(closed),
        "win_rate": sum(x > 0 for x in closed) / len(closed) if closed else None,
        "profit_factor": gp / -gl if gl < 0 else None, "exposure": held / n,
        "final_equity": equity[-1],
    }
    return trades, metrics


def momentum(p):
    lb, th, size = p["lookback"], p["threshold"], p["positionSize"]

    def sig(t, pos):
        if t < lb:
            return None
        r = C[t] / C[t - lb] - 1
        if pos == 0 and r > th:
            return ("buy", size)
        if pos == 0 and p["allowShort"] and r < -th:
            return ("short", size)
        if pos > 0 and r < -th:
            return ("sell", 0)
        if pos < 0 and r > th:
            return ("cover", 0)
        return None
    return sig


def meanrev(p):
    per, ez, xz, size = p["period"], p["entryZ"], p["exitZ"], p["positionSize"]
    z = zscore(C, per)

    def sig(t, pos):
        if z[t] is None:
            return None
        if pos == 0 and z[t] < -ez:
            return ("buy", size)
        if pos == 0 and p["allowShort"] and z[t] > ez:
            return ("short", size)
        if pos > 0 and z[t] > -xz:
            return ("sell", 0)
        if pos < 0 and z[t] < xz:
            return ("cover", 0)
        return None
    return sig


COMMON = {"capital": 100000.0, "commission": 0.0, "allowShort": False}
RUNS = [
    ("momentum", momentum, {"lookback": 20, "threshold": 0.02, "positionSize": 10}),
    ("momentum", momentum, {"lookback": 5, "threshold": 0.01, "positionSize": 80,
                            "allowShort": True, "commission": 0.5}),
    ("mean-reversion", meanrev, {"period": 20, "entryZ": 2.0, "exitZ": 0.5,
                                 "positionSize": 100}),
    ("mean-reversion", meanrev, {"period": 10, "entryZ": 1.5, "exitZ": 0.0,
                                 "positionSize": 100, "allowShort": True,
                                 "commission": 0.01, "capital": 50000.0}),
]
for name, make, over in RUNS:
    p = dict(COMMON, **over)
    want_trades, want = backtest(make(p), p)
    out = subprocess.run([RUNNER, "run", "--strategy", name, "--data", SPX, "--params",
                          json.dumps(over)], capture_output=True, text=True, check=True).stdout
    got_trades = [json.loads(l[8:]) for l in out.splitlines() if l.startswith("@@trade ")]
    res = [json.loads(l[9:]) for l in out.splitlines() if l.startswith("@@result ")][0]
    label = "%s %s" % (name, json.dumps(over))
    check(len(want_trades) > 20, "%s: reference trades" % label)
    check(len(got_trades) == len(want_trades), "%s: %d trades, reference %d" %
          (label, len(got_trades), len(want_trades)))
    bad = 0
    for g, w in zip(got_trades, want_trades):
        if (g["bar"], g["side"], g["shares"], g["price"]) != w[:4] or \
                not close_enough(g["cash"], w[4]):
            bad += 1
            if bad <= 3:
                print("FAIL: %s: trade %r, reference %r" % (label, g, w), file=sys.stderr)
    check(bad == 0, "%s: %d trade mismatches" % (label, bad))
    for key, w in want.items():
        check(close_enough(res[key], w), "%s: %s = %r, reference %r" % (label, key, res[key], w))

print("runner_reference: %d checks, %d failures" % (checks, failures))
sys.exit(1 if failures else 0)
