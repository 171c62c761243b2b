#!/usr/bin/env python3
"""learning_oos.py: `deploy --auto-optimize` with a held-out window reports, for the set it
chose, the in-sample prediction it chose on and what the out-of-sample model expects
(issue 15's review: it reported no out-of-sample number). Six auto-optimised momentum
deployments on SPY with --validate 0.3, one after another: the first five have too few
held-out runs before them (outOfSample.reward null, with the count), the sixth has five and a
number with its interval; every result keeps its own in-sample and out-of-sample Sharpe, and
`show --json` carries the record.

Usage: learning_oos.py BUILD_DIR SRC_DIR
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402


def main():
    env = e2e.Env("oos")
    try:
        for i in range(6):
            env.run("--no-daemon", "deploy", "-s", "momentum", "--symbol", "SPY", "--validate",
                    "0.3", "--auto-optimize", "--seed", str(11 + i), "--json", check=0)
        rows = env.sql("SELECT id, prediction, result FROM trajectories ORDER BY id")
        assert len(rows) == 6, rows
        for k, (tid, pred, res) in enumerate(rows):
            ao = json.loads(pred)["autoOptimize"]
            res = json.loads(res)
            assert ao["chosenOn"] == "in-sample", ao
            assert isinstance(res["sharpe"], (int, float)), res
            assert isinstance(res["outOfSample"]["sharpe"], (int, float)), res["outOfSample"]
            oos = ao["outOfSample"]
            assert oos["runs"] == k, (k, oos)
            if k < 5:
                assert oos["reward"] is None and oos["interval"] is None, (k, oos)
            else:
                assert isinstance(ao["predicted"]["reward"], float), ao
                lo, hi = oos["interval"]
                assert lo < oos["reward"] < hi, oos
        shown = json.loads(env.run("show", str(rows[-1][0]), "--json", check=0).stdout)
        assert shown["prediction"]["autoOptimize"]["outOfSample"]["runs"] == 5, shown["prediction"]
        print("PASS auto-optimise reports in-sample and out-of-sample for its chosen set:",
              json.dumps({"predicted": ao["predicted"], "outOfSample": oos}))
        return 0
    finally:
        env.close()


if __name__ == "__main__":
    sys.exit(main())
