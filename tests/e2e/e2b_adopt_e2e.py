"""e2b_adopt_e2e: a daemon killed with SIGKILL while E2B deployments run, and the next daemon
on the same store re-adopts them (issue 18, reconnect): it reattaches to each sandbox that is
still running (POST /v2/sandboxes/{id}/connect, then process.Process/Connect by the tag),
resumes the stream after what the store holds, and ends the deployment as if nothing had
happened; only a deployment whose sandbox is gone is marked interrupted. Against the E2B double
(tests/fixtures/e2b_double.py) on 127.0.0.1; every wait is on a condition with a deadline.

The strategy writes its first half, then waits (silently) for a file `go` in its sandbox, which
the test makes only once the new daemon has reattached: envd keeps no replay of output written
while nobody is attached, so a program that wrote then would lose it on E2B too.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import lib_e2e as e2e  # noqa: E402
from e2b_e2e import E2bEnv  # noqa: E402

HALF = 40


def job_script():
    """The strategy: HALF lines, wait for `go`, HALF more, one @@result."""
    return ("#!/bin/sh\n"
            "i=1; while [ $i -le %d ]; do printf 'line %%04d\\n' $i; i=$((i+1)); done\n"
            "echo '@@progress {\"bar\":1,\"of\":2,\"equity\":1}'\n"
            "n=0; while [ ! -e go ] && [ $n -lt 2400 ]; do sleep 0.05; n=$((n+1)); done\n"
            "i=%d; while [ $i -le %d ]; do printf 'line %%04d\\n' $i; i=$((i+1)); done\n"
            "echo '@@result {\"ok\":true}'\n" % (HALF, HALF + 1, 2 * HALF))


def expected():
    out = "".join("line %04d\n" % i for i in range(1, HALF + 1))
    out += '@@progress {"bar":1,"of":2,"equity":1}\n'
    out += "".join("line %04d\n" % i for i in range(HALF + 1, 2 * HALF + 1))
    return (out + '@@result {"ok":true}\n').encode()


class Adopt(unittest.TestCase):
    def setUp(self):
        self.env = E2bEnv("e2badopt")
        self.procs = []
        script = self.env.path("job.sh")
        with open(script, "w") as f:
            f.write(job_script())
        os.chmod(script, 0o755)
        manifest = self.env.path("job.json")
        with open(manifest, "w") as f:
            json.dump({"name": "waiter", "description": "writes, waits for go, writes",
                       "command": ["./job.sh"], "files": ["job.sh"], "params": []}, f)
        self.env.add_strategy(manifest)

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.env.close()

    # --- the daemon ----------------------------------------------------------------------

    def serve(self):
        log = open(self.env.path("serve-%d.log" % len(self.procs)), "wb")
        p = subprocess.Popen(self.env.cmd("serve", "--no-learning"), env=self.env.env,
                             stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=self.env.dir)
        log.close()
        self.procs.append(p)
        sock_dir = os.path.join(self.env.run_dir, "swarmdeck", "sock")

        def up():
            if p.poll() is not None:
                raise AssertionError("serve exited %d:\n%s" % (p.returncode, self.log(p)))
            for name in os.listdir(sock_dir) if os.path.isdir(sock_dir) else []:
                if name.endswith(".ro"):
                    continue
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(os.path.join(sock_dir, name))
                    s.sendall(b"GET /v1/version HTTP/1.0\r\n\r\n")
                    ans = s.recv(4096)
                    if b'"pid":%d' % p.pid in ans.replace(b" ", b""):
                        return True
                except OSError:
                    pass
                finally:
                    s.close()
            return False
        e2e.wait_for(up, "the daemon listening", 60)
        return p

    def log(self, p):
        i = self.procs.index(p)
        with open(self.env.path("serve-%d.log" % i), "rb") as f:
            return f.read().decode(errors="replace")

    def deploy(self):
        p = self.env.run("deploy", "-s", "waiter", "--no-learning", "--provider", "e2b",
                         "--detach", check=0)
        return int(p.stdout.decode().split("run ", 1)[1].split(":")[0])

    def traj_of(self, run):
        """(id, sandbox_id) of the run's one deployment, once it runs (committed)."""
        def row():
            r = self.env.sql("SELECT id, sandbox_id FROM trajectories WHERE run_id = ? AND "
                             "sandbox_id IS NOT NULL", (run,))
            return r[0] if r else None
        return e2e.wait_for(row, "run %d's deployment running" % run, 60)

    def e2b_id(self, sandbox_id):
        """E2B's sandboxID of our sandbox (from its metadata in the double)."""
        for b in self.env.double.sandboxes():
            if b["metadata"].get("sandbox") == sandbox_id:
                return b["sandboxID"]
        return None

    def state(self, tid):
        return self.env.sql("SELECT status, error FROM trajectories WHERE id = ?", (tid,))[0]

    # --- the test ------------------------------------------------------------------------

    def test_killed_daemon_readopted(self):
        env = self.env
        first = self.serve()
        runs = [self.deploy(), self.deploy()]
        trajs = [self.traj_of(r) for r in runs]
        half = expected().split(b"@@progress")[0] + b"@@progress"
        # Both have written their first half and it is committed.
        e2e.wait_for(lambda: all(env.output(t, 1).startswith(half) for t, _ in trajs),
                     "the first half of both in the store", 60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        sids = [self.e2b_id(s) for _, s in trajs]
        self.assertTrue(all(sids), env.double.sandboxes())
        # The second deployment's sandbox dies while no daemon runs.
        self.assertTrue(env.double.kill(sids[1]))
        self.assertEqual([self.state(t)[0] for t, _ in trajs], ["running", "running"])
        # The lease in the store names the sandbox and instance, never a secret.
        for row in env.sql("SELECT workdir FROM leases"):
            self.assertTrue(row[0].startswith("e2b:e2b:"), row)
        dump = b"".join(bytes(str(r), "utf-8") for r in env.sql("SELECT * FROM leases"))
        self.assertNotIn(env.env["E2B_API_KEY"].encode(), dump)
        connects0 = self.connects(trajs[0][1])

        second = self.serve()

        def reattached():
            st = self.state(trajs[0][0])
            if st[0] != "running":  # recovery gave it up instead of adopting it
                raise AssertionError("not re-adopted: %r\n%s" % (st, self.log(second)))
            return self.connects(trajs[0][1]) > connects0
        e2e.wait_for(reattached, "the reattach", 60)
        box = env.double.get(sids[0])
        open(os.path.join(box.home, "swarmdeck", "go"), "w").close()
        e2e.wait_for(lambda: self.state(trajs[0][0])[0] not in ("running", "queued") and
                     self.state(trajs[1][0])[0] not in ("running", "queued"),
                     "both deployments ended", 120)
        ok, gone = self.state(trajs[0][0]), self.state(trajs[1][0])
        self.assertEqual(ok[0], "succeeded", "%r\n%s" % (ok, self.log(second)))
        self.assertEqual(gone[0], "interrupted", gone)
        self.assertIn("could not be reattached", gone[1])
        # Byte for byte what the program wrote: the first half from the first daemon, the rest
        # from the second, nothing twice.
        self.assertEqual(env.output(trajs[0][0], 1), expected())
        ops = [r[1] for r in env.operations(trajs[0][0])]
        self.assertIn("reattach", ops)
        self.assertIn("resume", ops)
        self.assertEqual(ops[-1], "destroy")
        # The runs are closed by the daemon that adopted them.
        e2e.wait_for(lambda: all(env.sql("SELECT ended_at FROM runs WHERE id = ?", (r,))[0][0]
                                 for r in runs), "the runs closed", 30)
        self.assertEqual(env.sql("SELECT status FROM runs WHERE id = ?", (runs[0],))[0][0],
                         "succeeded")
        self.assertEqual(env.sql("SELECT status FROM runs WHERE id = ?", (runs[1],))[0][0],
                         "failed")
        self.assertEqual(env.sql("SELECT count(*) FROM leases")[0][0], 0)
        self.assertIsNone(second.poll())
        env.assert_no_leak()
        self.assertIn("re-adopted 2 E2B deployment(s)", self.log(second))

    def connects(self, sandbox_id):
        tag = ("swarmdeck-%s" % sandbox_id).encode()
        return sum(1 for r in self.env.double.requests
                   if r[2].split("?")[0] == "/process.Process/Connect" and tag in r[4])


if __name__ == "__main__":
    unittest.main()
