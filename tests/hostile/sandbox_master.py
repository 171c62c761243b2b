"""sandbox_master: the pool master (swarmdeck-sandbox --pool-master, engine/sandbox/master.c) and
the pool sized by demand (engine/provider/local_pool.c; docs/sandbox.md "Warm pool").

Helper level (the master driven directly, as the provider drives it):
  member          a request (an id and four fds) gets a pooled helper whose parent is the
                  master's parent (CLONE_PARENT: the engine reaps it), which runs its one job
                  like an exec'd pooled helper; the master keeps none of the member's fds and
                  the member none of the master's control socket
  bad_request     a request without its fds is answered -EINVAL and the master goes on serving;
                  EOF on its control socket ends it (exit 0)
  lifeline        the lifeline hangs up: the master exits

Engine level (`swarmdeck deploy --no-daemon`, SWARMDECK_SANDBOX_TRACE lists every helper the
provider starts):
  one_agent       one deployment starts exactly one helper: cold, no master, no pooled helper
  pool_off        SWARMDECK_SANDBOX_POOL=0: one cold helper per deployment, no master
  swarm           more deployments than the pool's size: one master, the later deployments in
                  members it forked, never more helpers than deployments plus the pool's size,
                  and every deployment ran

No timing assertion: every wait is a condition with a deadline."""

import errno
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import lib_e2e as e2e  # noqa: E402
import sandbox_hostile as sh  # noqa: E402
from sandbox_pool import (BASE, cgroups_named, drain, request_member, start_master,  # noqa: E402
                          trace_pids, uid_pids)


def fd_links(pid):
    d = "/proc/%d/fd" % pid
    out = {}
    for n in os.listdir(d):
        try:
            out[int(n)] = os.readlink(os.path.join(d, n))
        except OSError:
            pass
    return out


class Master(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("the sandbox tests need root (uid ranges, cgroups)")
        self.wd = tempfile.mkdtemp(prefix="sbxmaster-")
        os.chmod(self.wd, 0o755)
        self.tag = "tm%d" % os.getpid()
        self.m, self.ctl, self.life_w, self.master_ctl, self.master_ctl_link = start_master(
            extra=["--reserve", " " * 300])

    def tearDown(self):
        if self.m.poll() is None:
            self.m.kill()
        self.m.wait()
        os.close(self.life_w)
        self.ctl.close()
        subprocess.run(["rm", "-rf", self.wd], check=False)

    def request(self, member_id):
        """Ask for one member; returns (pid, job socket, stdout, stderr, status read ends)."""
        return request_member(self.ctl, member_id)

    drain = staticmethod(drain)

    def test_member(self):
        pool_id, job_id = self.tag + "-pool", self.tag + "-job"
        pid, job, out_r, err_r, st_r = self.request(pool_id)
        self.assertGreater(pid, 0)
        # Our child, not the master's: the engine reaps its helpers.
        self.assertEqual(e2e.proc_status(pid)[2], os.getpid())
        e2e.wait_for(lambda: uid_pids(), "the member's prepared init", deadline=30)
        argv = e2e.read_proc(pid, "cmdline").split(b"\0")
        self.assertEqual(argv[1:4], [b"--pool", b"--id", pool_id.encode()], argv[:6])
        # The master kept nothing of the member; the member has nothing of the master.
        mfds = fd_links(self.m.pid)
        # 0-2, the control socket and the lifeline (the master may have moved it off 0-5), and
        # the pipes of its cgroup slots (master.c: the alive pipe, one busy pipe per member),
        # and the shared empty network namespace where there is one (netshare.c).
        extra = [v for k, v in mfds.items() if k not in (0, 1, 2, self.master_ctl)
                 and not v.startswith("net:")]
        life = os.readlink("/proc/self/fd/%d" % self.life_w)
        self.assertIn(life, extra, mfds)
        slot_pipes = [v for v in extra if v != life]
        self.assertTrue(all(v.startswith("pipe:") for v in slot_pipes), mfds)
        self.assertLessEqual(len(slot_pipes), 3, mfds)
        self.assertNotIn(mfds[self.master_ctl], fd_links(pid).values())
        job.sendall(b"".join(a.encode() + b"\0" for a in
                             ["--id", job_id, "--workdir", self.wd, "--", "/bin/sh", "-c",
                              "hostname; exit 7"]))
        job.close()
        out = self.drain(out_r)
        self.drain(err_r)
        events = [json.loads(x) for x in self.drain(st_r).splitlines() if x.strip()]
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 7)
        self.assertEqual(out.decode().splitlines(), ["sbx-" + job_id])
        self.assertEqual([e["event"] for e in events][::len(events) - 1], ["started", "exit"])
        e2e.wait_for(lambda: not uid_pids(), "no process of the sandbox left", deadline=10)
        for n in (pool_id, job_id):
            self.assertEqual(cgroups_named(n), [])
        self.assertIsNone(self.m.poll(), "the master still serves")

    def test_bad_request(self):
        self.ctl.send(b"no-fds")
        self.assertEqual(struct.unpack("i", self.ctl.recv(4))[0], -errno.EINVAL)
        pid, job, out_r, err_r, st_r = self.request(self.tag + "-after")
        self.assertGreater(pid, 0)
        e2e.wait_for(lambda: uid_pids(), "the member's prepared init", deadline=30)
        job.close()  # released unused
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        for fd in (out_r, err_r, st_r):
            self.drain(fd)
        self.ctl.shutdown(socket.SHUT_RDWR)
        self.assertEqual(self.m.wait(timeout=30), 0)
        e2e.wait_for(lambda: not uid_pids(), "no process of the sandbox left", deadline=10)

    def test_lifeline(self):
        os.close(self.life_w)
        self.life_w = os.open("/dev/null", os.O_RDONLY)  # for tearDown to close
        self.assertEqual(self.m.wait(timeout=30), 0)


class Demand(sh.Hostile):
    """Through `swarmdeck deploy --no-daemon`, counting helpers through the provider's trace."""

    def quick(self):
        with open(os.path.join(self.sdir, "hi.sh"), "w") as f:
            f.write("echo hi-from-sandbox\n")
        m = {"name": "hi", "description": "prints one line", "command": ["/bin/sh", "./hi.sh"],
             "files": ["hi.sh"], "params": []}
        path = os.path.join(self.sdir, "hi.json")
        with open(path, "w") as f:
            json.dump(m, f)
        self.env.add_strategy(path)

    def run_swarm(self, agents, max_agents):
        self.trace = os.path.join(self.env.dir, "helpers.trace")
        self.env.env["SWARMDECK_SANDBOX_TRACE"] = self.trace
        self.quick()
        r = self.env.run("deploy", "--no-daemon", "-s", "hi", "-a", str(agents), "--max-agents",
                         str(max_agents), "--json")
        # No @@result line: a deployment "fails" after its program exited 0; what counts here
        # is that its program ran.
        self.assertIn(r.returncode, (0, 1), r.stderr[-2000:])
        trajs = self.env.trajectories()
        self.assertEqual(len(trajs), agents)
        for t in trajs:
            self.assertIn(b"hi-from-sandbox", self.env.output(t["id"], 1), t)
        with open(self.trace) as f:
            return [x.split()[0] for x in f if x.strip()]

    def test_one_agent(self):
        self.env.env.pop("SWARMDECK_SANDBOX_POOL", None)  # the default size
        self.assertEqual(self.run_swarm(1, 1), ["cold"])

    def test_pool_off(self):
        self.env.env["SWARMDECK_SANDBOX_POOL"] = "0"
        self.assertEqual(self.run_swarm(3, 3), ["cold"] * 3)

    def test_swarm(self):
        self.env.env["SWARMDECK_SANDBOX_POOL"] = "2"
        kinds = self.run_swarm(8, 3)
        self.assertEqual(kinds.count("master"), 1, kinds)
        self.assertEqual(kinds.count("pooled"), 0, kinds)  # none exec'd: the master forks them
        self.assertGreaterEqual(kinds.count("member"), 6, kinds)
        self.assertLessEqual(kinds.count("cold") + kinds.count("member"), 8 + 2, kinds)


if __name__ == "__main__":
    unittest.main()
