#!/usr/bin/env python3
"""A simple-moving-average crossover as a swarmdeck user strategy (docs/strategies.md).

swarmdeck runs it inside a sandbox as
    /usr/bin/python3 -I strategy.py --data data.csv --params '{"fast":10,...}'
with /work (holding strategy.py and data.csv) as the current directory. The parameters have
already been checked against manifest.json, and every one is present (defaults filled in).

Rules: buy positionSize shares when the fast SMA crosses above the slow SMA, sell when it
crosses below; decide on a bar's close, fill at the next bar's open (its close when there is
no open). Equity is marked at every close. Standard library only.
"""
import argparse
import csv
import json
import math
import sys


def fail(message, code):
    print("@@error " + json.dumps({"message": message}), flush=True)
    print(message, file=sys.stderr)
    sys.exit(code)


def load(path):
    with open(path, newline="") as f:
        rows = [line for line in f if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(rows)
    if reader.fieldnames is None or "close" not in reader.fieldnames:
        fail("%s: the header must name a close column" % path, 3)
    bars = []
    for n, row in enumerate(reader, start=2):
        try:
            close = float(row["close"])
            open_ = float(row["open"]) if row.get("open") else close
        except ValueError:
            fail("%s: line %d: not a number" % (path, n), 3)
        bars.append((row.get("date", ""), open_, close))
    if len(bars) < 2:
        fail("%s: need at least 2 bars" % path, 3)
    return bars


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--params", default="{}")
    args = ap.parse_args()
    p = json.loads(args.params)
    fast, slow, size = int(p["fast"]), int(p["slow"]), int(p["positionSize"])
    if fast >= slow:
        fail("fast (%d) must be shorter than slow (%d)" % (fast, slow), 2)

    bars = load(args.data)
    print("sma crossover %d/%d on %s: %d bars" % (fast, slow, args.data, len(bars)))
    cash, shares, pending = 100000.0, 0, 0
    equity, trades, wins, entry = [cash], 0, 0, 0.0
    closes = []
    step = max(1, len(bars) // 10)
    for i, (date, open_, close) in enumerate(bars):
        if pending > 0 and cash >= open_ * size:  # fill yesterday's decision at today's open
            shares, cash, entry = size, cash - open_ * size, open_
            print("%s buy %d @ %.4f" % (date, size, open_))
        elif pending < 0 and shares > 0:
            cash += open_ * shares
            trades, wins = trades + 1, wins + (open_ > entry)
            print("%s sell %d @ %.4f" % (date, shares, open_))
            shares = 0
        pending = 0
        closes.append(close)
        if len(closes) > slow:
            f_now, s_now = sum(closes[-fast:]) / fast, sum(closes[-slow:]) / slow
            f_prev = sum(closes[-fast - 1:-1]) / fast
            s_prev = sum(closes[-slow - 1:-1]) / slow
            if shares == 0 and f_prev <= s_prev and f_now > s_now:
                pending = 1
            elif shares > 0 and f_prev >= s_prev and f_now < s_now:
                pending = -1
        equity.append(cash + shares * close)
        if i % step == 0 or i == len(bars) - 1:
            print("@@progress " + json.dumps({"bar": i + 1, "of": len(bars),
                                               "equity": equity[-1]}), flush=True)
    if shares > 0:  # close the open position at the last close for the statistics
        trades, wins = trades + 1, wins + (bars[-1][2] > entry)

    rets = [equity[t] / equity[t - 1] - 1 for t in range(1, len(equity))]
    mean = sum(rets) / len(rets)
    sd = math.sqrt(sum((r - mean) ** 2 for r in rets) / (len(rets) - 1)) if len(rets) > 1 else 0
    peak, mdd = equity[0], 0.0
    for e in equity:
        peak = max(peak, e)
        mdd = max(mdd, 1 - e / peak)
    result = {
        "strategy": "python-sma", "fast": fast, "slow": slow, "bars": len(bars),
        "final_equity": equity[-1], "total_return": equity[-1] / equity[0] - 1,
        "sharpe": mean / sd * math.sqrt(252) if sd > 0 else None,
        "max_drawdown": mdd, "trades": trades,
        "win_rate": wins / trades if trades else None,
    }
    print("@@result " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
