#!/usr/bin/env python3
"""learning_min_trades.py: the minimum trades a recommended parameter set needs is a parameter
(issue 15's review: it was the constant 10): `suggest --min-trades N` and the config file's
`min-trades`, the flag winning; a bad value is a usage error that changes nothing.

Six momentum deployments on SPY (their results count round trips), then suggestions: with a
minimum above every run's trades nothing is recommended and the reasoning says why; with 0
the model's best set is; the config key does the same as the flag; the flag beats the key.

Usage: learning_min_trades.py BUILD_DIR SRC_DIR
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402


def main():
    env = e2e.Env("mintrades")
    try:
        for th in (0.005, 0.01, 0.02, 0.03, 0.05, 0.08):
            env.run("--no-daemon", "deploy", "-s", "momentum", "--symbol", "SPY", "-p",
                    json.dumps({"threshold": th}), "--json", check=0)
        trades = [json.loads(r[0])["trades"] for r in
                  env.sql("SELECT result FROM trajectories WHERE status = 'succeeded'")]
        assert len(trades) == 6 and max(trades) > 0, trades
        high = str(max(trades) + 1)

        def suggest(*extra, check=0):
            p = env.run("--no-daemon", "suggest", "-s", "momentum", "--symbol", "SPY", *extra,
                        check=check)
            return p

        def rec(p):
            return json.loads(p.stdout).get("recommendation")

        r = rec(suggest("--json", "--min-trades", high))
        assert r is None, r
        text = suggest("--min-trades", high).stdout.decode()
        assert "fewer than %s trades" % high in text, text
        r = rec(suggest("--json", "--min-trades", "0"))
        assert r is not None and r["minTrades"] == 0 and r["tooFewTrades"] == 0, r
        # the config key, and the flag over it
        cfg = env.path("config")
        with open(cfg, "w") as f:
            f.write("min-trades = %s\n" % high)
        os.chmod(cfg, 0o600)
        env.env["SWARMDECK_CONFIG"] = cfg
        assert rec(suggest("--json")) is None
        r = rec(suggest("--json", "--min-trades", "0"))
        assert r is not None and r["minTrades"] == 0, r
        p = env.run("config", "--json", check=0)
        assert b"min-trades" in p.stdout, p.stdout
        # bad values: usage errors
        p = suggest("--min-trades", "-3", check=2)
        p = suggest("--min-trades", "ten", check=2)
        with open(cfg, "w") as f:
            f.write("min-trades = lots\n")
        p = suggest("--json", check=2)
        assert b"min-trades" in p.stderr, p.stderr
        print("PASS --min-trades and min-trades (trades per run: %s)" % trades)
        return 0
    finally:
        env.close()


if __name__ == "__main__":
    sys.exit(main())
