#!/usr/bin/env python3
"""runner_cli.py: swarmdeck-runner through its command line (python3 standard library only).

Usage: runner_cli.py RUNNER SPX.csv FIXTURES_DIR

Checks, each against exact expected values:
  - bad data: every failure kind gives exit 3, the documented `FILE:LINE: problem` message in
    @@error on stdout and on stderr, and no @@result;
  - bad parameters and usage: every kind gives exit 2 with a message naming the parameter and
    its allowed range (or jansson's line/column, or the known strategies);
  - protocol: exactly one @@result with every metric, @@progress cadence and last bar, @@trade
    fields on a hand-checked series, lines streamed before the process ends (with --pace);
  - --pace: one @@progress per bar, and the run takes at least (bars-1)/pace seconds;
  - determinism: two runs of each strategy print identical bytes;
  - the metrics command agrees with @@result on the run's own equity curve;
  - synthetic series are marked; list's schema is consistent; every --help works.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

RUNNER, SPX, FIX = sys.argv[1], sys.argv[2], sys.argv[3]
failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def run(*args):
    p = subprocess.run([RUNNER, *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def machine(out, tag):
    pre = "@@" + tag + " "
    return [json.loads(l[len(pre):]) for l in out.splitlines() if l.startswith(pre)]


def fx(name):
    return os.path.join(FIX, name)


def expect_error(args, code, message):
    rc, out, err = run(*args)
    errs = machine(out, "error")
    check(rc == code, "%s: exit %d, want %d" % (args, rc, code))
    check(len(errs) == 1 and errs[0]["message"] == message,
          "%s: @@error %r, want %r" % (args, errs, message))
    check(message in err, "%s: stderr %r lacks the message" % (args, err))
    check(not machine(out, "result"), "%s: printed a @@result" % (args,))


# ---- bad data: exit 3 ----------------------------------------------------------------------
BAD_DATA = {
    "bad_number.csv": 'bad_number.csv:3: close is not a number: "abc"',
    "nonfinite.csv": 'nonfinite.csv:3: close is not a number: "nan"',
    "space_number.csv": 'space_number.csv:3: close is not a number: " 10"',
    "bad_date.csv": 'bad_date.csv:3: date has a month outside 01..12: "2020-13-01"',
    "bad_day.csv": 'bad_day.csv:3: date has a day that does not exist in its month: "2020-02-30"',
    "bad_order.csv": "bad_order.csv:3: date 2020-01-02 is not after the previous row's "
                     "2020-01-03 (line 2); dates must be strictly increasing",
    "duplicate_date.csv": "duplicate_date.csv:3: date 2020-01-02 is not after the previous "
                          "row's 2020-01-02 (line 2); dates must be strictly increasing",
    "bad_fields.csv": "bad_fields.csv:3: expected 6 fields like the header, got 5",
    "bad_low.csv": "bad_low.csv:3: close 8.5 is below low 9",
    "bad_high.csv": "bad_high.csv:3: close 12 is above high 11",
    "bad_price.csv": "bad_price.csv:3: open must be > 0, got 0",
    "bad_volume.csv": "bad_volume.csv:3: volume must be >= 0, got -5",
    "no_close.csv": 'no_close.csv:1: the header must name a "close" column (a header line '
                    "like date,open,high,low,close,volume is required)",
    "empty.csv": "empty.csv: file is empty",
    "header_only.csv": "header_only.csv: no data rows after the header (line 1)",
    "comments_only.csv": "comments_only.csv: no header line (only comments)",
    "late_comment.csv": "late_comment.csv:3: comment lines are only allowed before the header",
    "empty_line.csv": "empty_line.csv:3: empty line",
}
for name, msg in BAD_DATA.items():
    expect_error(["run", "--strategy", "momentum", "--data", fx(name)], 3, msg)
    # The same loader serves the indicator command.
    expect_error(["indicator", "sma", "--data", fx(name)], 3, msg)

missing = fx("no_such_file.csv")
expect_error(["run", "--strategy", "momentum", "--data", missing], 3,
             "cannot open %s: No such file or directory" % missing)
expect_error(["run", "--strategy", "neural-forecast", "--data", fx("synthetic.csv")], 3,
             'synthetic.csv: 40 bars is too few: strategy "neural-forecast" with lookback 60 '
             "needs at least 67 (a warm-up of 65 bars, then one decision and its fill)")
expect_error(["run", "--strategy", "momentum", "--data", fx("synthetic.csv"),
              "--params", '{"lookback":39}'], 3,
             'synthetic.csv: 40 bars is too few: strategy "momentum" with lookback 39 needs '
             "at least 41 (a warm-up of 39 bars, then one decision and its fill)")
expect_error(["indicator", "atr", "--data", fx("hand_momentum.csv")], 3,
             "hand_momentum.csv: indicator atr needs high and low columns")
with tempfile.TemporaryDirectory() as tmp:
    bad_eq = os.path.join(tmp, "eq.csv")
    with open(bad_eq, "w") as f:
        f.write("date,equity\n2020-01-01,100\n2020-01-02,-1\n")
    expect_error(["metrics", "--equity", bad_eq], 3, "eq.csv:3: equity must be > 0, got -1")

# ---- bad parameters and usage: exit 2 --------------------------------------------------------
MOM = ["run", "--strategy", "momentum", "--data", SPX, "--params"]
BAD_PARAMS = {
    '{"lookback":0}': 'parameter "lookback" must be an integer in [2, 500], got 0',
    '{"lookback":501}': 'parameter "lookback" must be an integer in [2, 500], got 501',
    '{"lookback":2.5}': 'parameter "lookback" must be an integer in [2, 500], got 2.5',
    '{"lookback":"20"}': 'parameter "lookback" must be an integer in [2, 500], got "20"',
    '{"threshold":"x"}': 'parameter "threshold" must be a number in [0, 1], got "x"',
    '{"threshold":-0.1}': 'parameter "threshold" must be a number in [0, 1], got -0.1',
    '{"capital":null}': 'parameter "capital" must be a number in [1, 1000000000000], got null',
    '{"allowShort":1}': 'parameter "allowShort" must be a boolean (true or false), got 1',
    '{"allowShort":"yes"}': 'parameter "allowShort" must be a boolean (true or false), got "yes"',
    '{"period":20}': 'unknown parameter "period" for strategy "momentum" (known: capital, '
                     "commission, allowShort, lookback, threshold, positionSize)",
    '{"lookback":': "--params is not valid JSON: line 1, column 12: unexpected token near end "
                    "of file",
    '{"a":1,"a":2}': "--params is not valid JSON: line 1, column 10: duplicate object key near "
                     "'\"a\"'",
    "[20]": '--params must be a JSON object like {"lookback": 20}',
}
for params, msg in BAD_PARAMS.items():
    expect_error(MOM + [params], 2, msg)
expect_error(["run", "--strategy", "neural-forecast", "--data", SPX, "--params",
              '{"minConfidence":1.5}'], 2,
             'parameter "minConfidence" must be a number in [0, 1], got 1.5')
expect_error(["run", "--strategy", "mean-reversion", "--data", SPX, "--params",
              '{"period":1}'], 2, 'parameter "period" must be an integer in [2, 500], got 1')
KNOWN = "momentum, mean-reversion, neural-forecast"
expect_error(["run", "--strategy", "nope", "--data", SPX], 2,
             'unknown strategy "nope" (known: %s)' % KNOWN)
expect_error(["run", "--data", SPX], 2, "run: --strategy is required (known: %s)" % KNOWN)
expect_error(["run", "--strategy", "momentum"], 2, "run: --data FILE.csv is required")
expect_error(["run", "--strategy", "momentum", "--data", SPX, "--pace", "0"], 2,
             '--pace must be a number in [0.001, 1e+06], got "0"')
expect_error(["run", "--strategy", "momentum", "--data", SPX, "--bogus", "1"], 2,
             "run: unknown option --bogus (try --help)")
expect_error(["run", "--strategy", "momentum", "--strategy", "x"], 2,
             "run: option --strategy given twice")
expect_error(["indicator", "sma", "--data", SPX, "--k", "2"], 2,
             "option --k does not apply to indicator sma")
expect_error(["indicator", "rsi", "--data", SPX, "--period", "0"], 2,
             '--period must be an integer in [1, 10000], got "0"')
expect_error(["indicator", "wma", "--data", SPX], 2,
             'unknown indicator "wma" (known: sma, ema, rsi, bbands, atr, roc, zscore, macd)')
expect_error(["frobnicate"], 2,
             'unknown command "frobnicate" (commands: run, indicator, metrics, list)')

# ---- protocol on SPX -----------------------------------------------------------------------
METRICS = ["total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar",
           "trades", "win_rate", "profit_factor", "exposure"]
outputs = {}
for strat in ["momentum", "mean-reversion", "neural-forecast"]:
    rc, out, err = run("run", "--strategy", strat, "--data", SPX)
    rc2, out2, _ = run("run", "--strategy", strat, "--data", SPX)
    check(rc == 0 and rc2 == 0 and err == "", "%s: exit %d, stderr %r" % (strat, rc, err))
    check(out == out2, "%s: two runs differ" % strat)
    outputs[strat] = out
    results = machine(out, "result")
    check(len(results) == 1, "%s: %d @@result lines" % (strat, len(results)))
    r = results[0]
    for key in METRICS + ["strategy", "params", "bars", "first_date", "last_date",
                          "final_equity", "data", "synthetic"]:
        check(key in r, "%s: @@result lacks %s" % (strat, key))
    check(r["strategy"] == strat and r["data"] == "SPX.csv" and r["synthetic"] is False,
          "%s: identity fields %r" % (strat, r))
    check(r["bars"] == 5105 and r["first_date"] == "2000-01-03" and
          r["last_date"] == "2020-04-17", "%s: bars/dates %r" % (strat, r))
    check(r["params"]["capital"] == 100000 and r["params"]["allowShort"] is False,
          "%s: resolved params %r" % (strat, r["params"]))
    check(r["trades"] > 10, "%s: only %d trades on SPX" % (strat, r["trades"]))
    check(abs(r["final_equity"] / 100000 - 1 - r["total_return"]) < 1e-12,
          "%s: final_equity and total_return disagree" % strat)
    prog = machine(out, "progress")
    check(80 <= len(prog) <= 110, "%s: %d @@progress lines" % (strat, len(prog)))
    check(prog[-1]["bar"] == 5105 and prog[-1]["of"] == 5105 and
          prog[-1]["equity"] == r["final_equity"], "%s: last progress %r" % (strat, prog[-1]))
    check(all(a["bar"] < b["bar"] for a, b in zip(prog, prog[1:])), "%s: progress order" % strat)
    trades = machine(out, "trade")
    closing = [t for t in trades if t["side"] in ("sell", "cover")]
    check(len(closing) == r["trades"], "%s: %d closing @@trade, result says %d" %
          (strat, len(closing), r["trades"]))
    wins = sum(1 for t in closing if t["pnl"] > 0)
    check(abs(wins / len(closing) - r["win_rate"]) < 1e-12, "%s: win_rate" % strat)
    human = [l for l in out.splitlines() if not l.startswith("@@")]
    check(sum(1 for l in human if " equity " in l) >= 9, "%s: periodic equity lines" % strat)
    check(r["params"] == json.loads(json.dumps(r["params"])), "params are JSON")
check(json.loads(outputs["momentum"].splitlines()[-1][9:])["profit_factor"] is not None,
      "momentum has losing trades, so a profit factor")

# ---- hand-checked trades through the CLI (the series of runner_test.c, section 3) ----------
rc, out, _ = run("run", "--strategy", "momentum", "--data", fx("hand_momentum.csv"), "--params",
                 '{"lookback":2,"threshold":0.05,"positionSize":10,"capital":1000,'
                 '"commission":1}')
trades = machine(out, "trade")
check(rc == 0 and len(trades) == 4, "hand momentum: %d trades" % len(trades))
check(trades[0] == {"side": "buy", "date": "2020-01-06", "bar": 4, "price": 105.0, "shares": 9,
                    "commission": 9.0, "cash": 46.0, "position": 9, "pnl": None, "end": False},
      "hand momentum: first trade %r" % trades[0])
check(trades[1]["side"] == "sell" and trades[1]["price"] == 98 and trades[1]["cash"] == 919 and
      trades[1]["pnl"] == -81, "hand momentum: second trade %r" % trades[1])
check(trades[3]["end"] is True and trades[3]["price"] == 125 and trades[3]["pnl"] == 21,
      "hand momentum: closing valuation %r" % trades[3])
r = machine(out, "result")[0]
check(r["final_equity"] == 940 and r["trades"] == 2 and r["win_rate"] == 0.5 and
      abs(r["profit_factor"] - 21 / 81) < 1e-15 and r["exposure"] == 3 / 8,
      "hand momentum: result %r" % r)

# ---- synthetic marker, pace and streaming ----------------------------------------------------
SYN = ["run", "--strategy", "momentum", "--data", fx("synthetic.csv"), "--params",
       '{"lookback":3,"threshold":0.01}']
rc, out, _ = run(*SYN)
check(rc == 0 and "note: synthetic series, not market history" in out.splitlines(),
      "synthetic note line")
check(machine(out, "result")[0]["synthetic"] is True, "synthetic: true in @@result")
check(len(machine(out, "progress")) == 40, "40 bars: progress on every bar")

pace = 40.0
start = time.monotonic()
proc = subprocess.Popen([RUNNER, *SYN, "--pace", str(pace)], stdout=subprocess.PIPE, text=True)
first = proc.stdout.readline()
streaming = proc.poll() is None  # we read a line while the run is still going: it streamed
rest = proc.stdout.read()
proc.wait()
elapsed = time.monotonic() - start
check(first.startswith("running momentum on synthetic.csv"), "first line %r" % first)
check(streaming, "--pace: output arrives while the run is in progress")
paced = machine(first + rest, "progress")
check([p["bar"] for p in paced] == list(range(1, 41)), "--pace: one @@progress per bar")
check(elapsed >= 39 / pace, "--pace %g: 40 bars took %.3f s, want >= %.3f" %
      (pace, elapsed, 39 / pace))
check(proc.returncode == 0 and (first + rest).replace(str(pace), "") is not None, "paced rc")

# ---- metrics command vs @@result on the run's own equity curve -------------------------------
rc, out, _ = run("run", "--strategy", "mean-reversion", "--data", SPX, "--pace", "1000000")
prog = machine(out, "progress")
res = machine(out, "result")[0]
check(len(prog) == 5105, "--pace: %d progress lines for 5105 bars" % len(prog))
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "curve.csv")
    with open(path, "w") as f:
        f.write("date,equity\n1999-12-31,100000\n")
        dates = [l.split(",")[0] for l in open(SPX).read().splitlines()[1:]]
        for d, p in zip(dates, prog):
            f.write("%s,%r\n" % (d, p["equity"]))
    rc, out, _ = run("metrics", "--equity", path)
    m = json.loads(out)
    check(rc == 0 and m["bars"] == 5105, "metrics: rc %d bars %r" % (rc, m.get("bars")))
    for key in ["total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
                "calmar"]:
        check(m[key] == res[key], "metrics %s %r != @@result %r" % (key, m[key], res[key]))
    check(m["trades"] is None and m["profit_factor"] is None, "metrics: no trade statistics")

# ---- list ------------------------------------------------------------------------------------
rc, out, _ = run("list")
doc = json.loads(out)
names = [s["name"] for s in doc["strategies"]]
check(rc == 0 and names == ["momentum", "mean-reversion", "neural-forecast"], "list names")
for s in doc["strategies"]:
    ps = s["params"]
    check([p["name"] for p in ps[:3]] == ["capital", "commission", "allowShort"],
          "%s: common params first" % s["name"])
    check(ps[0]["default"] == 100000 and ps[1]["default"] == 0 and ps[2]["default"] is False,
          "%s: common defaults" % s["name"])
    for p in ps:
        check(set(p) == {"name", "type", "default", "min", "max", "description"} and
              p["type"] in ("number", "integer", "boolean") and p["description"],
              "%s.%s: schema %r" % (s["name"], p["name"], p))
        if p["type"] != "boolean":
            check(p["min"] <= p["default"] <= p["max"], "%s.%s default in range" %
                  (s["name"], p["name"]))
        if p["type"] == "integer":
            check(all(isinstance(p[k], int) for k in ("default", "min", "max")),
                  "%s.%s integers" % (s["name"], p["name"]))
byname = {s["name"]: {p["name"]: p["default"] for p in s["params"]} for s in doc["strategies"]}
check(byname["momentum"] == {"capital": 100000, "commission": 0, "allowShort": False,
                             "lookback": 20, "threshold": 0.02, "positionSize": 10},
      "momentum defaults (design.md 4.1)")
check(byname["mean-reversion"]["period"] == 20 and byname["mean-reversion"]["entryZ"] == 2.0 and
      byname["mean-reversion"]["exitZ"] == 0.5 and
      byname["mean-reversion"]["positionSize"] == 100, "mean-reversion defaults")
check({k: byname["neural-forecast"][k] for k in
       ["lookback", "horizon", "minConfidence", "hidden", "learningRate", "seed"]} ==
      {"lookback": 60, "horizon": 5, "minConfidence": 0.7, "hidden": 8, "learningRate": 0.01,
       "seed": 42}, "neural-forecast defaults")

# ---- indicator warm-up and help ------------------------------------------------------------
rc, out, _ = run("indicator", "bbands", "--data", fx("synthetic.csv"), "--period", "5",
                 "--k", "1.5")
lines = out.splitlines()
check(rc == 0 and lines[0] == "date,lower,middle,upper" and len(lines) == 41, "bbands shape")
check(all(l.endswith(",,,") for l in lines[1:5]) and not lines[5].endswith(","),
      "bbands warm-up: 4 empty rows, then values")
rc, out, _ = run("indicator", "rsi", "--data", fx("synthetic.csv"), "--period", "3")
vals = [l.split(",")[1] for l in out.splitlines()[1:]]
check(vals[:3] == ["", "", ""] and all(v != "" for v in vals[3:]), "rsi first value at index n")

for cmd in [[], ["run"], ["indicator"], ["metrics"], ["list"]]:
    rc, out, _ = run(*cmd, "--help")
    check(rc == 0 and out.startswith("usage: swarmdeck-runner"), "%s --help" % cmd)
rc, out, _ = run("run", "--help")
check(all(o in out for o in ["--strategy", "--data", "--params", "--pace"]), "run --help options")

print("runner_cli: %d checks, %d failures" % (checks, failures))
sys.exit(1 if failures else 0)
