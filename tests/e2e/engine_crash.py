"""engine_crash: `kill -9` of swarmdeck in the middle of a 50-agent paced deployment, then
recovery by `swarmdeck cleanup` (or by the next `swarmdeck deploy`, which must reap orphans on
its own). Afterwards: no sandbox process, no lease, no trajectory left queued or running, an
intact store, and every trajectory's stored stdout a byte-exact prefix of the run's full
deterministic output (complete for the ones that succeeded)."""

import concurrent.futures
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402

PACE = 2000  # bars per second: SPY's 6358 bars take about 3 s per deployment
AGENTS = 50


class Crash(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("crash")

    def tearDown(self):
        self.env.close()

    def crash(self):
        """Start the deploy, wait until some deployments succeeded and others are running
        with output committed, then SIGKILL swarmdeck."""
        env = self.env
        proc = env.popen("deploy", "-s", "momentum", "-a", str(AGENTS), "--pace", str(PACE),
                         "--max-agents", "10", "--timeout", "120")
        deadline = time.monotonic() + 90
        try:
            while True:
                if proc.poll() is not None:
                    self.fail("swarmdeck ended before the crash: %r" % (proc.communicate(),))
                self.assertLess(time.monotonic(), deadline, "no running deployment with output")
                if os.path.exists(env.db):
                    try:
                        ok = env.sql("SELECT count(*) FROM trajectories "
                                     "WHERE status = 'succeeded'")[0][0]
                        running = env.sql(
                            "SELECT count(DISTINCT t.id) FROM trajectories t JOIN output o "
                            "ON o.traj_id = t.id WHERE t.status = 'running'")[0][0]
                    except Exception:  # the store may not have its tables yet
                        ok = running = 0
                    if ok >= 1 and running >= 3:
                        break
                time.sleep(0.05)
            # The leftover detector sees this run's sandboxes (so its silence later means
            # something).
            self.assertTrue(env.leftovers(), "leftover detector sees no live sandbox")
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        self.assertEqual(proc.returncode, -signal.SIGKILL)

    def check_after(self, redeployed):
        env = self.env
        env.assert_clean()
        self.assertEqual(env.sql("PRAGMA integrity_check"), [("ok",)])
        trajs = env.trajectories()
        crashed = [t for t in trajs if t["strategy"] == "momentum" and t["params"].find(
            '"lookback":20') >= 0][:AGENTS]
        self.assertEqual(len(crashed), AGENTS)
        statuses = {}
        for t in trajs:
            statuses[t["status"]] = statuses.get(t["status"], 0) + 1
            self.assertIn(t["status"], e2e.TERMINAL, t)
        self.assertGreaterEqual(statuses.get("succeeded", 0), 1, statuses)
        self.assertGreaterEqual(statuses.get("interrupted", 0), 3, statuses)

        # Reference outputs: one per (symbol, params), computed in parallel.
        keys = {(t["symbol"], t["params"]) for t in crashed}
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            futs = {k: ex.submit(e2e.runner_output, "momentum", k[0], k[1], PACE) for k in keys}
            full = {k: f.result() for k, f in futs.items()}
        with_output = 0
        for t in crashed:
            got = env.output(t["id"], 1)
            want = full[(t["symbol"], t["params"])]
            self.assertEqual(got, want[:len(got)],
                             "trajectory %d (%s): stored stdout is not a prefix of the run's "
                             "output" % (t["id"], t["status"]))
            if t["status"] == "succeeded":
                self.assertEqual(got, want, "trajectory %d incomplete" % t["id"])
            if t["status"] == "interrupted" and got:
                # May be complete: the program can finish writing just before the kill, while
                # its trajectory is not yet marked succeeded.
                with_output += 1
        self.assertGreaterEqual(with_output, 1)
        if redeployed:
            new = trajs[-1]
            self.assertEqual(new["status"], "succeeded", new)

    def test_kill9_then_cleanup(self):
        self.crash()
        p = self.env.run("cleanup", "--json", check=0)
        self.assertTrue(p.stdout.strip(), p.stderr)
        self.check_after(redeployed=False)

    def test_kill9_then_deploy(self):
        self.crash()
        # No cleanup: the next deploy must reap the orphans itself.
        self.env.run("deploy", "-s", "momentum", "-p", '{"lookback":10}', "--symbol", "SPY",
                     check=0)
        self.check_after(redeployed=True)


if __name__ == "__main__":
    unittest.main()
