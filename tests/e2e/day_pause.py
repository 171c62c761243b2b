"""day_pause: pausing and resuming a running deployment (issue 16), end to end through a real
daemon, real sandboxes and the command line (`swarmdeck pause`, `swarmdeck resume`).

The payload is tests/fixtures/strategies/probe.c's `forkticks`: it forks a child, and parent
and child each write numbered ticks, so a pause that stopped only the payload would show. No
assertion is timed: the test waits for conditions with deadlines (poll), and "makes no
progress while paused" is checked on things a stopped process cannot change: the kernel's
state of every process of the sandbox ('T'), their CPU time, and the stored output, read
before and after a wait that outlasts the deployment's timeout (so a timeout that counted
paused time would have fired, and it must not).

Cases:
  Pause.test_pause_resume   pause: every sandbox process stopped (the forked child too), the
                            view and status say paused, no progress and no timeout while
                            paused; resume: the run ends succeeded with the same result and the
                            same ticks as an unpaused run; refusals for a finished id, an
                            unknown id and no daemon.
  Pause.test_cancel_paused  cancel of a paused deployment ends it cancelled, nothing left.
"""
import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_e2e as d  # noqa: E402
import lib_e2e as e2e  # noqa: E402

TIMEOUT_S = 4  # the paused deployment's timeout; the pause outlasts it


def children(pid):
    """pids whose parent is pid."""
    out = []
    for p in e2e.all_pids():
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(p)
    return out


def stat(pid):
    """(state letter, utime + stime in ticks) of pid, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[11]) + int(fields[12])


class Pause(d.DaemonCase):
    NAME = "day-pause"

    def setUp(self):
        super().setUp()
        env = self.env
        env.add_strategy(env.fixture_manifest("probe-forkticks"))  # before: the daemon's catalog
        self.daemon = env.serve()
        env.wait_listening(self.daemon)
        self.sock = env.sock()

    def launch(self, params, *opts):
        p = self.env.run("deploy", "--detach", "-s", "probe-forkticks", "-p", json.dumps(params),
                         *opts, timeout=d.START_S)
        self.assertEqual(p.returncode, 0, p.stderr)
        run = int(re.search(rb"^run (\d+)\b", p.stdout, re.M).group(1))
        ids = list(self.wait_running(run, 1))
        return run, ids[0]

    def view(self, tid):
        st, v, raw = d.call(self.sock, "GET", "/v1/deployments/%d" % tid)
        self.assertEqual(st, 200, raw)
        return v["deployment"]

    def sandbox_procs(self, tid):
        """The helper's pid and the sandbox's processes below its init (the payload and
        what it forked)."""
        sid = self.env.sql("SELECT sandbox_id FROM trajectories WHERE id = ?", (tid,))[0][0]
        # pgrep finds the helper and its clone, the sandbox's init (same command line): the
        # helper is the one whose parent is not one of them
        found = self.sandbox_pids([sid])
        helpers = [p for p in found if int(open("/proc/%d/stat" % p).read().rsplit(")", 1)[1]
                                           .split()[1]) not in found]
        if len(helpers) != 1:
            return None, []
        procs, todo = [], children(helpers[0])  # the init, then its descendants
        inits = list(todo)
        while todo:
            p = todo.pop()
            if p not in inits:
                procs.append(p)
            todo += children(p)
        return helpers[0], procs

    def ticks(self, tid):
        out = self.env.output(tid, 1).decode(errors="replace")
        return (re.findall(r"^parent tick (\d+)$", out, re.M),
                re.findall(r"^child tick (\d+)$", out, re.M))

    def test_pause_resume(self):
        env = self.env
        params = {"n": 30, "rate": 20}

        # The same payload unpaused: what a resumed run must end with.
        base_run, base = self.launch(params)
        self.swarmdeck_wait(base_run, 0)
        base_result = json.loads(env.run("show", str(base), "--json", check=0).stdout)["result"]
        self.assertEqual(base_result["ticks"], 30)

        run, tid = self.launch(params, "--timeout", str(TIMEOUT_S))
        d.poll(lambda: all(len(t) >= 3 for t in self.ticks(tid)), d.START_S,
               "both processes to tick")
        p = env.run("pause", str(tid), check=0)
        self.assertEqual(p.stdout.decode().strip(), "%d paused" % tid)
        paused_at = time.monotonic()

        # Every process below the init is stopped: the payload and the child it forked.
        def all_stopped():
            _, procs = self.sandbox_procs(tid)
            states = [stat(x) for x in procs]
            return len(procs) >= 2 and all(s and s[0] == "T" for s in states) and procs
        procs = d.poll(all_stopped, d.START_S, "every sandbox process stopped")
        self.assertEqual(self.view(tid)["state"], "paused")
        st = json.loads(env.run("status", "--json", check=0).stdout)
        self.assertEqual(st["daemon"]["paused"], 1)
        p = env.run("pause", str(tid), "--json", check=0)  # again: nothing changes
        self.assertEqual(json.loads(p.stdout), [{"id": tid, "state": "paused"}])

        cpu0 = [stat(x)[1] for x in procs]
        # Past the deployment's whole timeout, still paused: the timeout counts running time.
        # The output must be still: read it once what the processes wrote before they stopped
        # is all in the store (the store holds every byte the engine read, and a second has
        # passed for the engine to read what was left in the pipes), and again at the end.
        def drained():
            if time.monotonic() < paused_at + 1:
                return None
            out = env.output(tid, 1)
            return out if len(out) == self.view(tid)["outputBytes"] else None
        out0 = d.poll(drained, d.START_S, "the output written before the pause stored")
        while time.monotonic() < paused_at + TIMEOUT_S + 2:
            self.assertEqual(self.view(tid)["state"], "paused")
            time.sleep(0.2)
        self.assertEqual(env.output(tid, 1), out0, "output grew while paused")
        self.assertEqual([stat(x)[1] for x in procs], cpu0, "CPU time grew while paused")
        self.assertTrue(all(stat(x)[0] == "T" for x in procs))

        p = env.run("resume", str(tid), check=0)
        self.assertEqual(p.stdout.decode().strip(), "%d running" % tid)
        self.swarmdeck_wait(run, 0)
        self.assertEqual(env.run_trajs(run)[tid][0], "succeeded")
        result = json.loads(env.run("show", str(tid), "--json", check=0).stdout)["result"]
        self.assertEqual(result, base_result)
        parent, child = self.ticks(tid)
        self.assertEqual(parent, [str(i) for i in range(30)])
        self.assertEqual(child, [str(i) for i in range(30)])

        # Refusals name the thing: an ended deployment, an unknown one, no daemon.
        p = env.run("pause", str(tid))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(b"not running", p.stderr)
        p = env.run("resume", "999999")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(b"999999", p.stderr)
        p = env.run("pause", "abc")
        self.assertEqual(p.returncode, 2, p.stderr)
        p = env.run("--no-daemon", "pause", str(tid))
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn(b"no daemon", p.stderr)

    def test_cancel_paused(self):
        env = self.env
        run, tid = self.launch({"n": 100000, "rate": 20})
        d.poll(lambda: all(len(t) >= 2 for t in self.ticks(tid)), d.START_S, "ticks")
        env.run("pause", str(tid), check=0)

        def all_stopped():
            _, procs = self.sandbox_procs(tid)
            return len(procs) >= 2 and all((stat(x) or "T")[0] == "T" for x in procs)
        d.poll(all_stopped, d.START_S, "every sandbox process stopped")
        st, _, raw = d.call(self.sock, "POST", "/v1/deployments/%d/cancel" % tid)
        self.assertEqual(st, 200, raw)
        d.poll(lambda: env.run_trajs(run)[tid][0] == "cancelled", d.START_S,
               "the paused deployment cancelled")
        self.swarmdeck_wait(run, 1)
        d.poll(lambda: not self.sandbox_pids([env.run_trajs(run)[tid][1]]), d.START_S,
               "its helper gone")


if __name__ == "__main__":
    unittest.main()
