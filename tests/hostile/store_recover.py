#!/usr/bin/env python3
"""store_recover: loose ends after kill -9 (issue 14, item 12).

- A swarm killed with SIGKILL left its `runs` row 'running' for ever; now the next start (here
  `cleanup`, and equally the next deploy) closes it as 'interrupted', like its trajectories.
- `rekey` while another process's deployments run: it used to go ahead, and the other
  process's writer then found the key changed and stopped recording. Now it is refused, naming
  that process's pid, and succeeds once that process has finished.
"""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import lib_e2e as e2e  # noqa: E402

# Slow deployments: 100 lines a second for far longer than the test.
SLOW = [{"strategyName": "probe-lines", "agents": 3, "params": {"n": 1000000, "rate": 100}}]


class Recover(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("recover")
        self.env.add_strategy(self.env.fixture_manifest("probe-lines"))
        self.spec = self.env.path("swarm.json")
        with open(self.spec, "w") as f:
            json.dump(SLOW, f)

    def tearDown(self):
        self.env.close()

    def start_swarm(self):
        env = self.env
        proc = env.popen("swarm", "-f", self.spec, "--no-learning", "--timeout", "600")

        def running():
            if proc.poll() is not None:
                self.fail("the swarm ended early: %r" % (proc.communicate(),))
            try:
                return env.sql("SELECT count(*) FROM trajectories t JOIN output o "
                               "ON o.traj_id = t.id WHERE t.status = 'running'")[0][0] >= 1
            except Exception:  # the store may not have its tables yet
                return False
        e2e.wait_for(running, "a running deployment with output")
        return proc

    def test_kill9_closes_the_run(self):
        env = self.env
        proc = self.start_swarm()
        self.assertEqual(env.sql("SELECT kind, status FROM runs"), [("swarm", "running")])
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        env.run("cleanup", check=0)
        rows = env.sql("SELECT kind, status, ended_at IS NOT NULL FROM runs")
        self.assertEqual(rows, [("swarm", "interrupted", 1)])
        self.assertEqual(env.sql("SELECT DISTINCT status FROM trajectories"), [("interrupted",)])
        env.assert_clean()
        # A finished run is left alone by a later recovery.
        env.run("deploy", "-s", "momentum", "--symbol", "SPY", "--no-learning", check=0)
        self.assertEqual(env.sql("SELECT status FROM runs ORDER BY id"),
                         [("interrupted",), ("succeeded",)])

    def test_rekey_refused_while_another_process_deploys(self):
        env = self.env
        proc = self.start_swarm()
        try:
            p = env.run("rekey", "--new-key", "correct horse battery staple", check=3)
            self.assertIn(b"pid %d" % proc.pid, p.stderr)
            # Nothing changed: the running swarm's store is still plaintext and readable.
            self.assertEqual(env.sql("SELECT count(*) FROM meta WHERE key LIKE 'enc_%'"),
                             [(0,)])
        finally:
            proc.send_signal(signal.SIGTERM)  # cancels its deployments and ends it
            proc.communicate(timeout=120)
        self.assertEqual(env.sql("SELECT status FROM runs"), [("failed",)])
        # Its deployments are over: now rekey goes ahead.
        p = env.run("rekey", "--new-key", "correct horse battery staple", check=0)
        self.assertIn(b"encrypted", p.stdout)
        env.assert_clean()


if __name__ == "__main__":
    unittest.main()
