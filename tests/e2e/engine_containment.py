"""engine_containment: hostile user strategies deployed through `swarmdeck deploy` stay inside
their sandbox, end with the right status, and leave no process and no lease behind.

The strategies are modes of tests/fixtures/strategies/probe.c registered from their manifests
with `swarmdeck strategies add`. Each case runs alone (one ctest per case, engine.cmake)."""

import json
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402


class Containment(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("containment")

    def tearDown(self):
        try:
            self.env.assert_clean()
        finally:
            self.env.close()

    def deploy(self, name, *opts, manifest=None, expect=None):
        env = self.env
        env.add_strategy(manifest or env.fixture_manifest(name))
        p = env.run("deploy", "-s", name, "--json", *opts, timeout=600)
        trajs = env.trajectories()
        self.assertEqual(len(trajs), 1, p.stderr)
        t = trajs[0]
        if expect is not None:
            self.assertEqual(p.returncode, 0 if expect == "succeeded" else 1, p.stderr)
            self.assertEqual(t["status"], expect, t)
        self.assertIn(t["status"], e2e.TERMINAL)
        # The op sequence is recorded and ends with destroy for every outcome.
        self.assertTrue((t["op_sequence"] or "").endswith("destroy"), t["op_sequence"])
        env.assert_clean()
        return t

    def test_read_host_files(self):
        env = self.env
        secret = b"e2e-secret-%s" % os.urandom(8).hex().encode()
        secret_file = env.path("secret.txt")
        with open(secret_file, "wb") as f:
            f.write(secret + b"\n")
        os.chmod(secret_file, 0o644)  # readable by anyone on the host: only isolation stops it
        # status never created a store; on a missing one it exits 3 (as history does). The
        # deploy below creates the store before its sandbox starts, so the probe finds it.
        env.run("status", check=3)
        targets = [env.db, secret_file, env.dir, "/etc/passwd", "/etc/shadow", "/root",
                   "/root/.bashrc", "/proc/1/environ", "/proc/1/root/etc/passwd",
                   "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
        manifest = env.fixture_manifest("probe-readhost", ["./probe", "readhost"] + targets)
        t = self.deploy("probe-readhost", manifest=manifest, expect="succeeded")
        out = env.output(t["id"], 1)
        lines = out.split(b"\n")
        for path in targets[:8]:
            mine = [ln for ln in lines if ln.split(b" ")[1:2] == [path.encode()]]
            self.assertEqual(len(mine), 1, (path, out[:2000]))
            self.assertTrue(mine[0].startswith(b"ERR "), (path, mine[0][:300]))
        self.assertNotIn(secret, out)
        self.assertNotIn(b"SQLite format 3", out)
        with open("/etc/passwd", "rb") as f:
            self.assertNotIn(f.readline().strip(), out)
        self.assertNotIn(secret, env.output(t["id"], 2))

    def test_connect_host(self):
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.bind(("127.0.0.1", 0))
        srv.listen(16)
        port = srv.getsockname()[1]
        try:
            t = self.deploy("probe-connect", "-p", json.dumps({"port": port}),
                            expect="succeeded")
            out = self.env.output(t["id"], 1)
            self.assertIn(b"ERR connect", out)
            self.assertNotIn(b"CONNECTED", out)
            # The deployment is over: a connection it made would be waiting in the backlog.
            srv.setblocking(False)
            with self.assertRaises(BlockingIOError):
                conn, addr = srv.accept()
                conn.close()
                self.fail("the sandbox reached the host's 127.0.0.1 from %r" % (addr,))
        finally:
            srv.close()

    def test_fork_bomb(self):
        t = self.deploy("probe-forkbomb", "--timeout", "3")
        self.assertIn(t["status"], ("timeout", "failed"), t)
        self.assertIn(b"forking", self.env.output(t["id"], 1))
        self.assertIsNotNone(t["error"])

    def test_memory_limit(self):
        t = self.deploy("probe-alloc", "-p", '{"mb": 1024}', "--memory", "64", "--timeout", "60",
                        expect="failed")
        self.assertIn("memory limit", t["error"] or "", t)
        self.assertIn("64", t["error"])
        self.assertNotIn(b"@@result", self.env.output(t["id"], 1))

    def test_flood_stdout(self):
        env = self.env
        t = self.deploy("probe-flood", "-p", '{"mb": 1024}', "--timeout", "120")
        # 1 GiB is past the engine's output limit (256 MiB): stopped and failed, unless the
        # timeout came first on a slow machine.
        self.assertIn(t["status"], ("failed", "timeout"), t)
        if t["status"] == "failed":
            self.assertIn("output limit", t["error"] or "", t)
        self.assertGreater(t["output_dropped"], 0, t)
        out = env.output(t["id"], 1)
        self.assertEqual(t["output_bytes"], len(out) + t["output_dropped"], t)
        self.assertLess(len(out), 8 << 20, "the store kept %d bytes" % len(out))
        self.assertLess(t["output_bytes"], 1 << 30, "the flood was not stopped")
        # Head: exactly the first bytes the fixture wrote (byte i is i % 251).
        head = out[:1 << 20]
        self.assertEqual(head, bytes(i % 251 for i in range(len(head))))
        # Tail: the last kept bytes continue the same pattern, ending at output_bytes.
        tail = out[-65536:]
        start = t["output_bytes"] - len(tail)
        self.assertEqual(tail, bytes((start + i) % 251 for i in range(len(tail))))
        # The engine stays healthy: the same store takes the next deployment.
        env.run("deploy", "-s", "momentum", "--symbol", "SPY", check=0)
        self.assertEqual(env.trajectories()[-1]["status"], "succeeded")

    def test_ignore_sigterm(self):
        t = self.deploy("probe-ignoreterm", "--timeout", "2", expect="timeout")
        self.assertIn("timed out", t["error"] or "")
        self.assertIn(b"ignoring SIGTERM", self.env.output(t["id"], 1))
        # It ran at least the timeout, and was killed after the grace period rather than
        # waiting forever (the deploy returned at all; bounded by the test's timeout).
        self.assertGreaterEqual(t["duration_ms"], 2000)

    def test_daemon(self):
        t = self.deploy("probe-daemon", "--timeout", "30", expect="succeeded")
        self.assertIn(b"daemon left behind", self.env.output(t["id"], 1))


if __name__ == "__main__":
    unittest.main()
