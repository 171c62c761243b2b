"""sandbox_cgslot: the pool master's reusable cgroup slots (engine/sandbox/master.c, cgroup.c
sbx_cgroup_take / sbx_cgroup_keep; docs/sandbox.md "Pool master").

Helper level (the master driven directly, as the provider drives it):
  exact           three sandboxes one after another in one slot (the same cgroup directories,
                  same inode): each reports its own memory peak, cpu time and oom, and the
                  limits of one (a 16 MB memory limit) do not follow into the next
  leftover        a sandbox whose payload left a process behind in a new session (no pid
                  namespace, so nothing but the cgroup catches it): the process is killed before
                  the slot is used again, and the next sandbox's cgroup holds only its own
  exit_removes    when the master ends (EOF), its slots' directories are removed
  sweep           --sweep leaves a live master's free slot, and removes it once the master died
                  by SIGKILL (no exit of its own)
  knob_off        SWARMDECK_SANDBOX_CG_REUSE=0: no slot, each sandbox's cgroups are its own and
                  go with it (today's per-sandbox mkdir/rmdir)

Engine level (`swarmdeck deploy --no-daemon`):
  engine_exit     a swarm through the pool master leaves no slot directory behind after the CLI
                  exits

No timing assertion: every wait is a condition with a deadline."""

import glob
import json
import os
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import lib_e2e as e2e  # noqa: E402
import sandbox_hostile as sh  # noqa: E402
from sandbox_pool import BASE, drain, request_member, start_master, uid_pids  # noqa: E402

MEMCG = "/sys/fs/cgroup/memory/swarmdeck"


def slot_dirs(master_pid):
    return sorted(glob.glob("/sys/fs/cgroup/*/swarmdeck/sbx-slot.%d.*" % master_pid))


class Slots(unittest.TestCase):
    env_extra = {}

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("the sandbox tests need root (uid ranges, cgroups)")
        self.wd = tempfile.mkdtemp(prefix="sbxslot-")
        os.chmod(self.wd, 0o755)
        self.tag = "ts%d" % os.getpid()
        self.n = 0

    def start_master(self, **env):
        self.m, self.ctl, self.life_w, _, _ = start_master(env)

    def tearDown(self):
        if hasattr(self, "m"):
            if self.m.poll() is None:
                self.m.kill()
            self.m.wait()
            os.close(self.life_w)
            self.ctl.close()
        subprocess.run(["rm", "-rf", self.wd], check=False)

    drain = staticmethod(drain)

    def run_job(self, args):
        """One member, one job (job options then -- PROGRAM...); returns (exit code, stdout,
        the exit event)."""
        self.n += 1
        pid, job, out_r, err_r, st_r = request_member(self.ctl, "%s-m%d" % (self.tag, self.n))
        self.assertGreater(pid, 0)
        job.sendall(b"".join(a.encode() + b"\0" for a in
                             ["--id", "%s-j%d" % (self.tag, self.n), "--workdir", self.wd] + args))
        job.close()
        out = self.drain(out_r)
        err = self.drain(err_r)
        events = [json.loads(x) for x in self.drain(st_r).splitlines() if x.strip()]
        _, status = os.waitpid(pid, 0)
        self.assertTrue(events and events[-1]["event"] == "exit", (events, err))
        return os.waitstatus_to_exitcode(status), out.decode(), events[-1]

    def stop_master(self):
        self.ctl.shutdown(socket.SHUT_RDWR)
        self.assertEqual(self.m.wait(timeout=60), 0)

    def memory_slot(self):
        d = [x for x in slot_dirs(self.m.pid) if x.startswith(MEMCG + "/")]
        self.assertEqual(len(d), 1, slot_dirs(self.m.pid))
        return d[0], os.stat(d[0]).st_ino

    def test_exact(self):
        if not os.path.isdir(MEMCG) and not os.path.isdir("/sys/fs/cgroup/memory"):
            self.skipTest("no v1 memory cgroup (slots are not reused where memory is in v2)")
        self.start_master()
        sh_c = ["--", "/bin/sh", "-c"]
        # A: 64 MB touched, ~2 GB copied (cpu time).
        rc, out, a = self.run_job(sh_c + ["grep memory /proc/self/cgroup; "
                                          "dd if=/dev/zero of=/dev/null bs=64M count=40 2>&1"])
        self.assertEqual(rc, 0, out)
        self.assertTrue(out.splitlines()[0].endswith("/swarmdeck/sbx-%s-j1" % self.tag), out)
        path, ino = self.memory_slot()
        # B: the same cgroup, a 16 MB limit, a 64 MB buffer: killed by the oom killer.
        rc, out, b = self.run_job(["--memory-mb", "16"] + sh_c +
                                  ["grep memory /proc/self/cgroup; "
                                   "dd if=/dev/zero of=/dev/null bs=64M count=1"])
        self.assertTrue(out.splitlines()[0].endswith("/swarmdeck/sbx-%s-j2" % self.tag), out)
        self.assertEqual(self.memory_slot(), (path, ino))
        # C: no limit asked: a 32 MB buffer works; nothing of A's or B's counted.
        rc, out, c = self.run_job(sh_c + ["dd if=/dev/zero of=/dev/null bs=32M count=1 2>&1"])
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.memory_slot(), (path, ino))

        self.assertGreaterEqual(a["mem_peak_kb"], 64 * 1024, a)
        self.assertFalse(a["oom"], a)
        self.assertTrue(b["oom"], b)
        self.assertLessEqual(b["mem_peak_kb"], 16 * 1024, b)
        self.assertFalse(c["oom"], c)
        self.assertGreaterEqual(c["mem_peak_kb"], 32 * 1024, c)
        self.assertLess(c["mem_peak_kb"], 48 * 1024, c)  # not A's 64 MB
        self.assertGreater(a["cpu_ms"], 2 * c["cpu_ms"], (a, c))
        self.assertGreaterEqual(c["cpu_ms"], 0, c)
        self.stop_master()
        e2e.wait_for(lambda: not slot_dirs(self.m.pid), "the slot removed", deadline=30)

    def test_leftover(self):
        self.start_master(SWARMDECK_SANDBOX_DISABLE="pidns")
        rc, out, a = self.run_job(["--", "/bin/sh", "-c",
                                   "setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!"])
        self.assertEqual(rc, 0, out)
        left = int(out.split()[0])
        e2e.wait_for(lambda: e2e.proc_status(left) is None, "the leftover process killed",
                     deadline=30)
        e2e.wait_for(lambda: not uid_pids(), "no process of the sandbox left", deadline=30)
        before = slot_dirs(self.m.pid)
        self.assertNotEqual(before, [])
        rc, out, b = self.run_job(["--", "/bin/sh", "-c", "cat /sys/fs/cgroup/pids/cgroup.procs "
                                   "2>/dev/null; grep pids /proc/self/cgroup"])
        self.assertEqual(slot_dirs(self.m.pid), before)
        self.assertNotIn(str(left), out.split(), out)
        self.stop_master()

    def test_exit_removes(self):
        self.start_master()
        self.run_job(["--", "/bin/true"])
        self.assertNotEqual(slot_dirs(self.m.pid), [])
        self.stop_master()
        e2e.wait_for(lambda: not slot_dirs(self.m.pid), "the slots removed", deadline=30)

    def test_sweep(self):
        self.start_master()
        self.run_job(["--", "/bin/true"])
        slots = slot_dirs(self.m.pid)
        self.assertNotEqual(slots, [])
        # Free (unlocked) but its master lives: a sweep leaves it.
        r = subprocess.run([e2e.HELPER, "--sweep"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(slot_dirs(self.m.pid), slots)
        # The master dies without its exit: the slot is stale, the next sweep removes it.
        self.m.kill()
        self.m.wait()
        r = subprocess.run([e2e.HELPER, "--sweep"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(slot_dirs(self.m.pid), [])

    def test_knob_off(self):
        self.start_master(SWARMDECK_SANDBOX_CG_REUSE="0")
        rc, out, a = self.run_job(["--", "/bin/true"])
        self.assertEqual(rc, 0)
        self.assertEqual(slot_dirs(self.m.pid), [])
        self.assertEqual(glob.glob("/sys/fs/cgroup/*/swarmdeck/sbx-%s-*" % self.tag), [])
        self.stop_master()


class EngineExit(sh.Hostile):
    def test_engine_exit(self):
        trace = os.path.join(self.env.dir, "helpers.trace")
        self.env.env["SWARMDECK_SANDBOX_TRACE"] = trace
        self.env.env["SWARMDECK_SANDBOX_POOL"] = "2"
        with open(os.path.join(self.sdir, "hi.sh"), "w") as f:
            f.write("echo hi-from-sandbox\n")
        m = {"name": "hi", "description": "prints one line", "command": ["/bin/sh", "./hi.sh"],
             "files": ["hi.sh"], "params": []}
        path = os.path.join(self.sdir, "hi.json")
        with open(path, "w") as f:
            json.dump(m, f)
        self.env.add_strategy(path)
        r = self.env.run("deploy", "--no-daemon", "-s", "hi", "-a", "8", "--max-agents", "3",
                         "--json")
        self.assertIn(r.returncode, (0, 1), r.stderr[-2000:])
        self.assertEqual(len(self.env.trajectories()), 8)
        with open(trace) as f:
            masters = [int(x.split()[1]) for x in f if x.split()[0] == "master"]
        self.assertEqual(len(masters), 1)
        self.assertEqual(slot_dirs(masters[0]), [])


if __name__ == "__main__":
    unittest.main()
