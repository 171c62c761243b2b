"""cli_memory: what the command line keeps per finished deployment is bounded (issue 14, item 10:
a 10,000-deployment swarm peaked at 2 GB in the CLI).

`swarmdeck deploy` runs a small launch and a large one of the same built-in strategy in process
(--no-daemon, --no-learning, so the learner's index, which is wanted, does not count), and the
peak resident size of each (the rusage of the child, from wait4) is compared: the growth per
extra deployment must stay under 50 KB. Before the fix each finished deployment kept its output
ring (up to 5000 lines and 4 MB) and a large array, about 95 KB each for this strategy; the
coordinator's own count is checked exactly by coord_mem_test.c. Nothing is timed."""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import lib_e2e as e2e  # noqa: E402

SMALL, LARGE = 50, 1000
PER_MAX = 50 * 1024


class Memory(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("cli-memory")

    def tearDown(self):
        self.env.close()

    def peak_rss(self, n, name):
        """Peak RSS in bytes of one `deploy -a n` on a fresh store."""
        db = self.env.path(name + ".db")
        p = subprocess.Popen([e2e.SWARMDECK, "--db", db, "--no-daemon", "deploy", "-s",
                              "momentum", "-a", str(n), "--no-learning", "--max-agents", "8",
                              "--timeout", "120"],
                             env=self.env.env, cwd=self.env.dir, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        err = p.stderr.read()
        p.stderr.close()
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, err[-2000:])
        return ru.ru_maxrss * 1024

    def test_per_deployment(self):
        small = self.peak_rss(SMALL, "small")
        large = self.peak_rss(LARGE, "large")
        per = (large - small) / (LARGE - SMALL)
        print("peak RSS: %d deployments %.1f MB, %d deployments %.1f MB: %.1f KB each"
              % (SMALL, small / 2**20, LARGE, large / 2**20, per / 1024))
        self.assertLess(per, PER_MAX, "each finished deployment holds %.1f KB" % (per / 1024))
        self.env.assert_clean()


if __name__ == "__main__":
    unittest.main()
