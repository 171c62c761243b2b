"""engine_swarm: a 3-strategy, 20-agent swarm on the bundled data, checked in the store, against
the runner run directly, in `swarmdeck export`, and through `swarmdeck import` (idempotent)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402

# With learning on (the default) the suggestion made before launch is the first operation.
OPS = ["suggest", "create", "upload", "start", "stream", "collect", "destroy"]
SWARM = [
    {"strategyName": "momentum", "agents": 7,
     "params": {"symbols": ["SPY", "QQQ", "IWM", "SPX", "TSLA"], "lookback": 15}},
    {"strategyName": "mean-reversion", "agents": 7,
     "params": {"symbols": ["TSLA", "SPX", "IWM", "QQQ", "SPY"], "entryZ": 1.5}},
    {"strategyName": "neural-forecast", "agents": 6,
     "params": {"symbols": ["QQQ", "SPY", "TSLA", "IWM", "SPX"], "minConfidence": 0.6}},
]


class Swarm(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("swarm")

    def tearDown(self):
        self.env.close()

    def test_swarm(self):
        env = self.env
        spec = env.path("swarm.json")
        with open(spec, "w") as f:
            json.dump(SWARM, f)
        env.run("swarm", "-f", spec, "--max-agents", "8", "--timeout", "120", check=0)

        trajs = env.trajectories()
        self.assertEqual(len(trajs), 20)
        expected = []
        for entry in SWARM:
            syms = entry["params"]["symbols"]
            expected += [(entry["strategyName"], syms[k % len(syms)])
                         for k in range(entry["agents"])]
        self.assertEqual(sorted((t["strategy"], t["symbol"]) for t in trajs), sorted(expected))

        direct = {}
        for t in trajs:
            self.assertEqual(t["status"], "succeeded", t)
            self.assertEqual(t["exit_code"], 0)
            self.assertEqual(t["op_sequence"], ",".join(OPS))
            ops = env.operations(t["id"])
            self.assertEqual([o[1] for o in ops], OPS, "trajectory %d" % t["id"])
            self.assertEqual([o[0] for o in ops], sorted(o[0] for o in ops))
            for seq, name, started, dur, ok in ops:
                self.assertGreaterEqual(dur, 0, (t["id"], name))
                self.assertGreaterEqual(started, 0)
                self.assertEqual(ok, 1, (t["id"], name))
            # Operations start in order in time, too.
            starts = [o[2] for o in ops]
            self.assertEqual(starts, sorted(starts), t["id"])
            params = json.loads(t["params"])
            self.assertNotIn("symbols", params)
            want = e2e.runner_output(t["strategy"], t["symbol"], t["params"])
            got = env.output(t["id"], 1)
            self.assertEqual(len(got), len(want), "trajectory %d stdout length" % t["id"])
            self.assertEqual(got, want, "trajectory %d stdout differs" % t["id"])
            self.assertEqual(t["output_dropped"], 0)
            self.assertEqual(t["output_bytes"], len(got) + len(env.output(t["id"], 2)))
            # The stored result is the runner's own @@result line.
            res_line = [ln for ln in want.split(b"\n") if ln.startswith(b"@@result ")]
            self.assertEqual(len(res_line), 1)
            self.assertEqual(json.loads(t["result"]), json.loads(res_line[0][9:]))
            direct[t["uuid"]] = (t, got, env.output(t["id"], 2))

        # Export: all 20, with operations and byte-exact output.
        bundle_path = env.path("export.json")
        env.run("export", "-o", bundle_path, check=0)
        with open(bundle_path) as f:
            bundle = json.load(f)
        exported = {t["uuid"]: t for t in bundle["trajectories"]}
        self.assertEqual(set(exported), set(direct))
        # -o - is standard output (as for tar and curl), not a file named "-".
        p = env.run("export", "-o", "-", check=0)
        self.assertFalse(os.path.exists(env.path("-")), "export -o - wrote a file named -")
        self.assertEqual({t["uuid"] for t in json.loads(p.stdout)["trajectories"]}, set(direct))
        for uuid, (t, out, err) in direct.items():
            x = exported[uuid]
            self.assertEqual(x["status"], "succeeded")
            self.assertEqual(x["strategyName"], t["strategy"])
            self.assertEqual(x["symbol"], t["symbol"])
            self.assertEqual([o["name"] for o in x["operations"]], OPS)
            self.assertTrue(all(o["duration"] >= 0 for o in x["operations"]))
            self.assertEqual(e2e.decode_export_output(x, 1), out, uuid)
            self.assertEqual(e2e.decode_export_output(x, 2), err, uuid)

        # Import into a fresh store: 20, then 0.
        fresh = e2e.Env("swarm-import")
        try:
            counts = []
            for _ in range(2):
                before = len(fresh.trajectories()) if os.path.exists(fresh.db) else 0
                p = fresh.run("import", bundle_path, "--json", check=0)
                counts.append(len(fresh.trajectories()) - before)
                report = json.loads(p.stdout)
                self.assertIsInstance(report, dict)
            self.assertEqual(counts, [20, 0])
            imported = {t["uuid"]: t for t in fresh.trajectories()}
            self.assertEqual(set(imported), set(direct))
            for uuid, (t, out, err) in direct.items():
                self.assertEqual(fresh.output(imported[uuid]["id"], 1), out)
                self.assertEqual([o[1] for o in fresh.operations(imported[uuid]["id"])], OPS)
        finally:
            fresh.close()
        env.assert_clean()


if __name__ == "__main__":
    unittest.main()
