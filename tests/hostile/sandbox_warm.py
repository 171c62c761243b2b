"""sandbox_warm: a daemon's warm pool fills from its start (provider_local_warm, called by the
coordinator of `swarmdeck serve`; docs/sandbox.md "Warm pool"), while a one-shot deploy of one
agent still starts exactly one helper (hostile_master_one_agent).

  daemon_warm     a fresh daemon, before any deployment: one pool master and `size` members in
                  the provider's trace; its first deployment then runs in a member, and the
                  pool is filled back

No timing assertion: every wait is a condition with a deadline."""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import lib_e2e as e2e  # noqa: E402
import sandbox_hostile as sh  # noqa: E402


class Warm(sh.Hostile):
    def kinds(self):
        try:
            with open(self.trace) as f:
                return [x.split()[0] for x in f if x.strip()]
        except FileNotFoundError:
            return []

    def test_daemon_warm(self):
        if os.geteuid() != 0:
            self.skipTest("the sandbox tests need root (uid ranges, cgroups)")
        env = self.env
        self.trace = os.path.join(env.dir, "helpers.trace")
        env.env["SWARMDECK_SANDBOX_TRACE"] = self.trace
        env.env["SWARMDECK_SANDBOX_POOL"] = "2"
        with open(os.path.join(self.sdir, "hi.sh"), "w") as f:
            f.write("echo hi-from-sandbox\n")
        m = {"name": "hi", "description": "prints one line",
             "command": ["/bin/sh", "./hi.sh"], "files": ["hi.sh"], "params": []}
        path = os.path.join(self.sdir, "hi.json")
        with open(path, "w") as f:
            json.dump(m, f)
        env.add_strategy(path)
        daemon = subprocess.Popen(env.cmd("serve", "--max-agents", "2"), env=env.env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(daemon)
        try:
            e2e.wait_for(lambda: b'"pid"' in env.run("status", "--json").stdout, "the daemon",
                         deadline=60)
            # No deployment yet: the pool fills anyway.
            e2e.wait_for(lambda: self.kinds().count("member") >= 2,
                         "two pooled helpers before any deployment: %r" % (self.kinds(),),
                         deadline=60)
            k = self.kinds()
            self.assertEqual(k.count("master"), 1, k)
            self.assertEqual(k.count("cold"), 0, k)
            self.assertEqual(env.sql("SELECT count(*) FROM trajectories")[0][0], 0)
            # The first deployment takes a ready member (no cold start) and one is made back.
            r = env.run("deploy", "-s", "hi", "-a", "1", "--json")
            self.assertIn(r.returncode, (0, 1), r.stderr[-2000:])
            t = env.trajectories()
            self.assertEqual(len(t), 1)
            self.assertIn(b"hi-from-sandbox", env.output(t[0]["id"], 1))
            e2e.wait_for(lambda: self.kinds().count("member") >= 3, "the pool filled back",
                         deadline=60)
            self.assertEqual(self.kinds().count("cold"), 0, self.kinds())
        finally:
            e2e.stop_daemon(env.db)


if __name__ == "__main__":
    unittest.main()
