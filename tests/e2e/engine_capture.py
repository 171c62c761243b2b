"""engine_capture: 100 concurrent deployments of a fixture strategy that writes a seeded
pseudo-random stream (text on stdout cut at random sizes, binary bytes on stderr, then a final
@@result line); the stored stdout and stderr must equal exactly what the fixture wrote, which
python recomputes from the seed (lib_e2e.capture_stream mirrors probe.c's do_stream)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402

N = 100
PACE_MS = 4000  # each deployment spreads its writes over 4 s, so they overlap


def max_overlap(intervals):
    events = sorted([(s, 1) for s, e in intervals] + [(e, -1) for s, e in intervals],
                    key=lambda x: (x[0], x[1]))
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


class Capture(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("capture")

    def tearDown(self):
        self.env.close()

    def test_capture(self):
        env = self.env
        env.add_strategy(env.fixture_manifest("probe-stream"))
        seeds = [1000 + 7919 * k for k in range(N)]
        spec = env.path("swarm.json")
        with open(spec, "w") as f:
            json.dump([{"strategyName": "probe-stream", "params": {"seed": s, "ms": PACE_MS}}
                       for s in seeds], f)
        env.run("swarm", "-f", spec, "--max-agents", str(N), "--timeout", "120",
                "--memory", "64", timeout=600, check=0)
        trajs = env.trajectories()
        self.assertEqual(len(trajs), N)

        streams = []
        for t in trajs:
            self.assertEqual(t["status"], "succeeded", t)
            ops = {o[1]: o for o in env.operations(t["id"])}
            s = ops["stream"]
            streams.append((s[2], s[2] + s[3]))
        overlap = max_overlap(streams)
        self.assertGreaterEqual(overlap, 50, "only %d deployments streamed at once" % overlap)

        got_seeds = []
        for t in trajs:
            seed = json.loads(t["params"])["seed"]
            got_seeds.append(seed)
            want_out, want_err = e2e.capture_stream(seed)
            out, err = env.output(t["id"], 1), env.output(t["id"], 2)
            self.assertEqual(len(out), len(want_out), "seed %d stdout length" % seed)
            self.assertEqual(out, want_out, "seed %d stdout differs" % seed)
            self.assertEqual(len(err), len(want_err), "seed %d stderr length" % seed)
            self.assertEqual(err, want_err, "seed %d stderr differs" % seed)
            self.assertEqual(t["output_bytes"], len(want_out) + len(want_err))
            self.assertEqual(t["output_dropped"], 0)
            steps = int(want_out.rsplit(b'"steps":', 1)[1].split(b"}")[0])
            self.assertEqual(json.loads(t["result"]), {"mode": "probe", "steps": steps})
        self.assertEqual(sorted(got_seeds), sorted(seeds))
        env.assert_clean()


if __name__ == "__main__":
    unittest.main()
