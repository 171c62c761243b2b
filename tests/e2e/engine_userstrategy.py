"""engine_userstrategy: the worked example of docs/strategies.md, examples/python-sma (the same
strategy.py and manifest.json the doc shows; nothing is extracted from the doc), is added with
`swarmdeck strategies add` and deployed through the sandbox: it succeeds with exactly one
@@result holding the metrics, its stdout is byte for byte what the script prints when run
directly, and a parameter combination the script itself refuses fails with its message."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402

EXAMPLE = os.path.join(e2e.SRC, "examples", "python-sma")


class UserStrategy(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("userstrategy")

    def tearDown(self):
        self.env.close()

    def direct(self, symbol, params_json):
        with tempfile.TemporaryDirectory() as d:
            shutil.copyfile(e2e.data_file(symbol), os.path.join(d, "data.csv"))
            shutil.copyfile(os.path.join(EXAMPLE, "strategy.py"), os.path.join(d, "strategy.py"))
            p = subprocess.run(["/usr/bin/python3", "-I", "strategy.py", "--data", "data.csv",
                                "--params", params_json], cwd=d, capture_output=True,
                               timeout=120)
            return p.returncode, p.stdout

    def test_python_sma(self):
        env = self.env
        env.add_strategy(os.path.join(EXAMPLE, "manifest.json"))
        listed = json.loads(env.run("strategies", "list", "--json", check=0).stdout)
        names = [s["name"] for s in (listed["strategies"] if isinstance(listed, dict)
                                     else listed)]
        self.assertIn("python-sma", names)

        env.run("deploy", "-s", "python-sma", "-a", "3", "-p", '{"fast": 5, "slow": 20}',
                "--timeout", "120", check=0)
        trajs = env.trajectories()
        self.assertEqual(len(trajs), 3)
        for t in trajs:
            self.assertEqual(t["status"], "succeeded", t)
            out = env.output(t["id"], 1)
            results = [ln for ln in out.split(b"\n") if ln.startswith(b"@@result ")]
            self.assertEqual(len(results), 1)
            self.assertTrue(any(ln.startswith(b"@@progress ") for ln in out.split(b"\n")))
            res = json.loads(t["result"])
            self.assertEqual(res, json.loads(results[0][9:]))
            for k in ("total_return", "sharpe", "max_drawdown", "trades", "final_equity"):
                self.assertIn(k, res)
            self.assertEqual((res["fast"], res["slow"]), (5, 20))
            self.assertGreater(res["trades"], 0)
            self.assertEqual(json.loads(t["params"]),
                             {"fast": 5, "slow": 20, "positionSize": 10})
            code, want = self.direct(t["symbol"], t["params"])
            self.assertEqual(code, 0)
            self.assertEqual(out, want, "trajectory %d: sandboxed stdout differs" % t["id"])

        # The schema rejects out-of-range values before anything runs...
        p = env.run("deploy", "-s", "python-sma", "-p", '{"slow": 1000}')
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"slow", p.stderr)
        # ...and the script's own check (fast < slow) fails the deployment with its message.
        p = env.run("deploy", "-s", "python-sma", "-p", '{"fast": 50, "slow": 20}')
        self.assertEqual(p.returncode, 1)
        t = env.trajectories()[-1]
        self.assertEqual(t["status"], "failed")
        self.assertEqual(t["exit_code"], 2)
        self.assertIn("must be shorter than slow", t["error"])
        env.assert_clean()


if __name__ == "__main__":
    unittest.main()
