#!/usr/bin/env python3
"""store_data: imported data that a deployment can use (issue 14, item 9).

A CSV with only date and close imports and then deploys end to end: the engine hands the
sandbox only the columns the import had, so the runner fills at the close as it does for a
bundled close-only file (before, every deployment failed with `data.csv:3: open is empty`).
The result is the runner's own on the same close-only file, byte for byte. A file with open
but no high/low works the same way.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import lib_e2e as e2e  # noqa: E402


def spx_columns(cols, limit=400):
    """The first `limit` rows of data/SPX.csv with only `cols` (date first)."""
    with open(os.path.join(e2e.DATA, "SPX.csv")) as f:
        lines = f.read().splitlines()
    head = lines[0].split(",")
    idx = [head.index(c) for c in cols]
    out = [",".join(cols)]
    for line in lines[1:limit + 1]:
        v = line.split(",")
        out.append(",".join(v[i] for i in idx))
    return "\n".join(out) + "\n"


class CloseOnly(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("closeonly")

    def tearDown(self):
        self.env.close()

    def deploy_on(self, cols, symbol):
        env = self.env
        path = env.path(symbol + ".csv")
        with open(path, "w") as f:
            f.write(spx_columns(cols))
        p = env.run("data", "import", path, "--symbol", symbol, check=0)
        self.assertIn(b"400", p.stdout)
        p = env.run("deploy", "-s", "momentum", "-a", "2", "--symbol", symbol, "--no-learning",
                    "--json", check=0)
        res = json.loads(p.stdout)
        self.assertTrue(all(r["success"] for r in res), p.stdout + p.stderr)
        # The same as the runner on the same file, run directly with the stored params.
        params = env.sql("SELECT params FROM trajectories ORDER BY id DESC LIMIT 1")[0][0]
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "data.csv"), "w") as f:
                f.write(spx_columns(cols))
            want = subprocess.run([e2e.RUNNER, "run", "--strategy", "momentum", "--data",
                                   "data.csv", "--params", params], cwd=d,
                                  capture_output=True, check=True).stdout
        tid = env.sql("SELECT id FROM trajectories ORDER BY id DESC LIMIT 1")[0][0]
        self.assertEqual(env.output(tid, 1), want)
        env.assert_clean()

    def test_close_only(self):
        self.deploy_on(["date", "close"], "CLOSEONLY")

    def test_open_and_close(self):
        self.deploy_on(["date", "open", "close", "volume"], "OPENCLOSE")


if __name__ == "__main__":
    unittest.main()
