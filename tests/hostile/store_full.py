#!/usr/bin/env python3
"""store_full: the store's filesystem fills up in the middle of a swarm (issue 14, item 6).

The store lives on a size-limited tmpfs this test mounts (it runs as root) and unmounts; the
sandboxes' work dirs stay elsewhere, so only the store's writes fail. Once a few deployments
have succeeded the test fills the filesystem to the last byte. Before, the command printed
"16 succeeded" while the store kept a handful, and the disk errors opened the local provider's
circuit breaker. Now:
- every deployment reported succeeded is committed as succeeded in the store;
- the command ends with exit 3 and a message that names the store's path and the cause;
- no deployment failed on an open breaker: store errors are not the provider's;
- with space again, the same store works (deploy, cleanup, verify).
"""
import errno
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import lib_e2e as e2e  # noqa: E402

AGENTS = 16
TMPFS_MB = 24


def fill(path):
    """Write zeros to path until the filesystem is full; returns the bytes written."""
    n = 0
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                n += f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
        # Then the last few bytes, down to nothing.
        for size in (4096, 512, 1):
            while True:
                try:
                    n += f.write(b"\0" * size)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    return n


@unittest.skipUnless(os.geteuid() == 0, "needs root to mount a tmpfs")
class StoreFull(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("storefull")
        self.mnt = tempfile.mkdtemp(prefix="swarmdeck-storefull-fs-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0700" % TMPFS_MB, "tmpfs",
                        self.mnt], check=True)
        self.env.db = os.path.join(self.mnt, "store.db")
        self.proc = None
        self.daemon = None

    def tearDown(self):
        for p in (self.proc, self.daemon):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["umount", "-l", self.mnt], check=False)
        os.rmdir(self.mnt)
        self.env.close()

    def swarm_until(self, break_fs, repair_fs, cause, daemon=False):
        """Run the swarm, call break_fs() once two deployments are committed, check the
        outcome (cause: a part of the expected error), then repair_fs() and reuse the store.
        (A read-only remount cannot be had mid-swarm: the kernel refuses it while the store's
        files are open for writing.)"""
        env = self.env
        if daemon:  # the swarm runs in a daemon on that store; the command is its client
            self.daemon = subprocess.Popen(env.cmd("serve", "--max-agents", "4"), env=env.env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            e2e.wait_for(lambda: b'"pid"' in env.run("status", "--json").stdout,
                         "the daemon", deadline=60)
        # About 1.5 s per deployment (--pace), four at a time.
        self.proc = env.popen("deploy", "-s", "momentum", "-a", str(AGENTS), "--max-agents", "4",
                              "--pace", "4000", "--symbol", "SPY", "--no-learning", "--json")

        def some_succeeded():
            if self.proc.poll() is not None:
                self.fail("the swarm ended before the store broke: %r"
                          % (self.proc.communicate(),))
            try:
                return env.sql("SELECT count(*) FROM trajectories "
                               "WHERE status = 'succeeded'")[0][0] >= 2
            except Exception:  # the store may not have its tables yet
                return False
        e2e.wait_for(some_succeeded, "two committed successes", deadline=120)
        break_fs()
        out, err = self.proc.communicate(timeout=240)
        rc = self.proc.returncode
        self.proc = None
        if daemon:
            self.daemon.terminate()
            self.daemon.wait(60)
            self.daemon = None
        repair_fs()  # for reading and for what follows

        msg = err.decode(errors="replace")
        self.assertEqual(rc, 3, msg)
        self.assertIn(env.db, msg)
        self.assertIn(cause, msg)
        res = json.loads(out)
        for r in res:  # for the log
            print("#%d %s %s" % (r["trajectoryId"], r["status"], r["error"] or ""),
                  file=sys.stderr)
        self.assertEqual(len(res), AGENTS)
        reported = {r["trajectoryId"] for r in res if r["success"]}
        stored = {r[0] for r in env.sql("SELECT id FROM trajectories "
                                        "WHERE status = 'succeeded'")}
        self.assertTrue(reported, "nothing succeeded before the store broke")
        self.assertLess(len(reported), AGENTS, "every deployment reported succeeded")
        self.assertLessEqual(reported, stored,
                             "reported succeeded but not committed: %r" % (reported - stored))
        for r in res:
            self.assertNotIn("breaker", r["error"] or "", r)
            if not r["success"]:
                self.assertIn("store", r["error"], r)
        # No sandbox outlives the command. Leases whose removal could not be written
        # are reaped by the next start (their owner is gone).
        self.assertEqual(env.leftovers(), [])

        # The same store works again once it can be written.
        env.run("cleanup", check=0)
        env.assert_clean()
        self.assertEqual(env.sql("SELECT count(*) FROM trajectories "
                                 "WHERE status IN ('queued', 'running')"), [(0,)])
        p = env.run("deploy", "-s", "momentum", "--symbol", "SPY", "--no-learning", "--json",
                    check=0)
        self.assertTrue(json.loads(p.stdout)[0]["success"])
        env.run("verify", check=0)

    def test_disk_full_mid_swarm(self):
        filler = os.path.join(self.mnt, "filler")
        self.swarm_until(lambda: self.assertGreater(fill(filler), 0),
                         lambda: os.unlink(filler), "disk is full")

    def test_disk_full_mid_swarm_in_a_daemon(self):
        """The same through a daemon: its client ends with exit 3 naming the store's path
        and the cause, and nothing is reported succeeded that the store did not commit."""
        filler = os.path.join(self.mnt, "filler")
        self.swarm_until(lambda: self.assertGreater(fill(filler), 0),
                         lambda: os.unlink(filler), "disk is full", daemon=True)


if __name__ == "__main__":
    unittest.main()
