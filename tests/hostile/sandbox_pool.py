"""sandbox_pool: the warm pool of sandbox helpers (engine/provider/local_pool.c and provider_local.c, the helper's
--pool mode in engine/sandbox/main.c; docs/sandbox.md "Warm pool").

Helper level (the helper driven directly, as the provider does):
  helper_job      a pooled helper runs the one job it is sent: the job's id names the hostname
                  and the v1 cgroups, the exit code comes back, nothing is left
  helper_unused   EOF on the control socket without a job: the helper and its prepared init
                  go, with their cgroups
  helper_lifeline the engine's lifeline hangs up while the helper waits in the pool: gone
  helper_bad_job  a job with an option a job may not carry, or no program: exit 125 with a
                  message, nothing run, nothing left
  helper_no_crosstalk  two sandboxes at once cannot reach each other over loopback TCP or an
                  abstract unix socket (why each keeps its own network namespace: a shared
                  one, docs/benchmarks/sandbox.md, would join their loopbacks and abstract
                  socket names)

Engine level (`swarmdeck deploy`, the hostile strategy of sandbox_hostile.py):
  used            with a pool, a deployment that starts after the pool filled runs in a pooled
                  helper
  off             SWARMDECK_SANDBOX_POOL=0: no pooled helper ever starts
  bad_env         a bad SWARMDECK_SANDBOX_POOL is refused with a message naming it
  once            each deployment gets a sandbox of its own: its own hostname (sbx-<its id>),
                  and a file one left in /tmp is never seen by the next
  engine_killed   SIGKILL of the CLI: its idle pooled helpers and their inits go too
  shared_data     the market data is one shared copy, linked into every work dir (not one
                  copy per sandbox), never the operator's file, read-only inside, and gone
                  with the CLI

No timing assertion: every wait is a condition with a deadline."""

import glob
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import lib_e2e as e2e  # noqa: E402
import sandbox_hostile as sh  # noqa: E402

BASE = 2_000_000 + (os.getpid() % 30000) * 65536  # this test's own outside uid range


def uid_pids(base=BASE):
    """Pids of processes whose real uid lies in [base, base+65536): the test's sandboxes."""
    found = []
    for pid in e2e.all_pids():
        st = e2e.proc_status(pid)
        if st is not None and base <= st[0] < base + 65536:
            found.append(pid)
    return found


def cgroups_named(name):
    return glob.glob("/sys/fs/cgroup/*/swarmdeck/sbx-%s" % name)


def trace_pids(path, kind):
    """Pids of the helpers of one kind ("master", "member", "pooled", "cold") that the provider
    wrote to its SWARMDECK_SANDBOX_TRACE file."""
    try:
        with open(path) as f:
            return {int(x.split()[1]) for x in f if x.split()[0] == kind}
    except FileNotFoundError:
        return set()


def start_master(env=None, extra=()):
    """swarmdeck-sandbox --pool-master on a fresh control socket and lifeline, env added to a
    bare PATH. Returns (process, our control socket, the lifeline's write end, the master's
    control fd number, what that fd was linked to here)."""
    ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    life_r, life_w = os.pipe()
    e = {"PATH": "/usr/bin:/bin"}
    e.update(env or {})
    m = subprocess.Popen(
        [e2e.HELPER, "--pool-master", "--uid-base", str(BASE), "--control-fd",
         str(theirs.fileno()), "--lifeline-fd", str(life_r)] + list(extra),
        pass_fds=(theirs.fileno(), life_r), stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=e)
    fd, link = theirs.fileno(), os.readlink("/proc/self/fd/%d" % theirs.fileno())
    theirs.close()
    os.close(life_r)
    return m, ctl, life_w, fd, link


def request_member(ctl, member_id):
    """Ask the master on ctl for one member; returns (pid, job socket, stdout, stderr, status
    read ends)."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    st_r, st_w = os.pipe()
    job, job_theirs = socket.socketpair()
    socket.send_fds(ctl, [member_id.encode()], [out_w, err_w, st_w, job_theirs.fileno()])
    for fd in (out_w, err_w, st_w):
        os.close(fd)
    job_theirs.close()
    pid = struct.unpack("i", ctl.recv(4))[0]
    return pid, job, out_r, err_r, st_r


def drain(fd):
    """Everything fd gives until EOF; closes it."""
    data = b""
    while True:
        d = os.read(fd, 65536)
        if not d:
            break
        data += d
    os.close(fd)
    return data


class PoolHelper(unittest.TestCase):
    """One pooled helper started as the provider starts it."""

    def start(self, pool_id):
        self.ctl, theirs = socket.socketpair()
        self.st_r, st_w = os.pipe()
        self.life_r, self.life_w = os.pipe()
        self.p = subprocess.Popen(
            [e2e.HELPER, "--pool", "--id", pool_id, "--uid-base", str(BASE),
             "--control-fd", str(theirs.fileno()), "--status-fd", str(st_w),
             "--lifeline-fd", str(self.life_r)],
            pass_fds=(theirs.fileno(), st_w, self.life_r), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"})
        theirs.close()
        os.close(st_w)
        os.close(self.life_r)
        # Prepared: its init exists (a child of the helper, in the test's uid range).
        e2e.wait_for(lambda: uid_pids(), "the pooled helper's init", deadline=30)

    def send(self, args):
        self.ctl.sendall(b"".join(a.encode() + b"\0" for a in args))
        self.ctl.close()

    def finish(self):
        out, err = self.p.communicate(timeout=60)
        status = b""
        while True:
            d = os.read(self.st_r, 65536)
            if not d:
                break
            status += d
        os.close(self.st_r)
        os.close(self.life_w)
        events = [json.loads(x) for x in status.splitlines() if x.strip()]
        return self.p.returncode, out, err, events

    def assert_clean(self, *names):
        e2e.wait_for(lambda: not uid_pids(), "no process of the sandbox left", deadline=10)
        for n in names:
            self.assertEqual(cgroups_named(n), [], "cgroups of %s left" % n)

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("the sandbox tests need root (uid ranges, cgroups)")
        self.wd = tempfile.mkdtemp(prefix="sbxpool-")
        os.chmod(self.wd, 0o755)
        with open(os.path.join(self.wd, "note.txt"), "w") as f:
            f.write("uploaded\n")
        self.tag = "tp%d" % os.getpid()

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.wd], check=False)

    def test_helper_job(self):
        pool_id, job_id = self.tag + "-pool", self.tag + "-job"
        self.start(pool_id)
        self.send(["--id", job_id, "--workdir", self.wd, "--timeout-ms", "30000", "--pids",
                   "64", "--", "/bin/sh", "-c",
                   "hostname; cat note.txt; grep pids /proc/self/cgroup; grep 'Max processes' "
                   "/proc/self/limits; exit 7"])
        rc, out, err, events = self.finish()
        self.assertEqual(rc, 7, err)
        lines = out.decode().splitlines()
        self.assertEqual(lines[0], "sbx-" + job_id)
        self.assertEqual(lines[1], "uploaded")
        if os.path.isdir("/sys/fs/cgroup/pids/swarmdeck"):
            self.assertTrue(lines[2].endswith("/swarmdeck/sbx-" + job_id), lines)
        self.assertEqual(lines[-1].split()[2:4], ["64", "64"], lines)
        kinds = [e["event"] for e in events]
        self.assertEqual(kinds[0], "started", events)
        self.assertEqual(kinds[-1], "exit", events)
        self.assertEqual(events[-1]["code"], 7)
        self.assertEqual(events[0]["isolation"]["cg-cpu"], "off: not requested")
        self.assert_clean(pool_id, job_id)

    def test_helper_unused(self):
        pool_id = self.tag + "-unused"
        self.start(pool_id)
        self.assertNotEqual(cgroups_named(pool_id), [])
        self.ctl.close()
        rc, out, err, events = self.finish()
        self.assertEqual(rc, 0, err)
        self.assertEqual(events, [])
        self.assert_clean(pool_id)

    def test_helper_lifeline(self):
        pool_id = self.tag + "-life"
        self.start(pool_id)
        os.close(self.life_w)
        self.life_w = os.open("/dev/null", os.O_RDONLY)  # for finish() to close
        rc, out, err, events = self.finish()
        self.ctl.close()
        self.assertEqual(rc, 0, err)
        self.assert_clean(pool_id)

    def test_helper_bad_job(self):
        for i, job in enumerate((["--id", "x", "--workdir", self.wd, "--status-fd", "1", "--",
                                  "/bin/true"],
                                 ["--id", "x", "--workdir", self.wd],
                                 ["--workdir", "/nonexistent-dir", "--", "/bin/true"])):
            pool_id = "%s-bad%d" % (self.tag, i)
            self.start(pool_id)
            self.send(job)
            rc, out, err, events = self.finish()
            self.assertEqual(rc, 125, err)
            self.assertIn(b"swarmdeck-sandbox: ", err)
            self.assertEqual([e["event"] for e in events], ["error"], events)
            self.assertEqual(out, b"")
            self.assert_clean(pool_id)

    def test_helper_no_crosstalk(self):
        name = "sdx-%s" % os.urandom(6).hex()
        listen = ("import socket,sys,time\n"
                  "t=socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                  "t.bind(('127.0.0.1', 47017)); t.listen(4)\n"
                  "u=socket.socket(socket.AF_UNIX); u.bind('\\0%s'); u.listen(4)\n"
                  "socket.create_connection(('127.0.0.1', 47017)).close()\n"
                  "c=socket.socket(socket.AF_UNIX); c.connect('\\0%s'); c.close()\n"
                  "print('listening', flush=True); time.sleep(30)\n" % (name, name))
        probe = ("import socket\n"
                 "for fam, addr in ((socket.AF_INET, ('127.0.0.1', 47017)),"
                 " (socket.AF_UNIX, '\\0%s')):\n"
                 "    s = socket.socket(fam)\n"
                 "    try:\n"
                 "        s.connect(addr); print('REACHED', fam)\n"
                 "    except OSError as e:\n"
                 "        print('refused', fam, e.errno)\n" % name)
        a = subprocess.Popen([e2e.HELPER, "--id", self.tag + "-a", "--workdir", self.wd,
                              "--uid-base", str(BASE), "--timeout-ms", "60000", "--",
                              "/usr/bin/python3", "-c", listen], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"})
        try:
            self.assertEqual(a.stdout.readline(), b"listening\n", "the listener (and its "
                             "connections to itself) in sandbox a")
            self.start(self.tag + "-bpool")
            self.send(["--id", self.tag + "-b", "--workdir", self.wd, "--", "/usr/bin/python3",
                       "-c", probe])
            rc, out, err, events = self.finish()
            self.assertEqual(rc, 0, err)
            lines = out.decode().splitlines()
            self.assertEqual(len(lines), 2, lines)
            self.assertTrue(all(x.startswith("refused") for x in lines), lines)
        finally:
            a.terminate()  # a graceful stop removes its cgroups (a SIGKILL leaves them to --sweep)
            a.communicate(timeout=60)
        self.assert_clean(self.tag + "-a", self.tag + "-b")


PROBE = """#!/bin/sh
seen=no
[ -e /tmp/pool-marker ] && seen=yes
echo left > /tmp/pool-marker
echo "PROBE $(hostname) $(readlink /proc/self/ns/pid) $(readlink /proc/self/ns/net)" \
  "$(readlink /proc/self/ns/mnt) $seen"
"""


class Pool(sh.Hostile):
    """Through `swarmdeck deploy`, with the hostile strategy's linger mode."""

    def pooled(self, cli_pid):
        return [h for h in self.helpers_of(cli_pid)
                if b"--pool" in e2e.read_proc(h, "cmdline").split(b"\0")]

    def test_used(self):
        self.env.env["SWARMDECK_SANDBOX_POOL"] = "2"
        trace = os.path.join(self.env.dir, "helpers.trace")
        self.env.env["SWARMDECK_SANDBOX_TRACE"] = trace
        tok = "tok-" + os.urandom(6).hex()
        self.tokens.append(tok)
        self.env.add_strategy(self.manifest("linger", ["linger", tok]))
        p = subprocess.Popen(self.env.cmd("deploy", "-s", "linger", "-a", "2", "--max-agents",
                                          "1", "--timeout", "3"),
                             env=self.env.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd=self.env.dir, start_new_session=True)
        self.procs.append(p)
        # The first deployment starts cold (a process that asked for one sandbox gets one
        # helper); the second create starts the pool master, and the second deployment, after
        # the first timed out, must run in a pooled helper it forked (the provider's trace
        # names the members; a helper that runs a job shows the job's arguments).
        def running_pooled():
            return [h for h in self.helpers_of(p.pid, tok) if h in trace_pids(trace, "member")]
        h = e2e.wait_for(running_pooled, "a deployment running in a pooled helper", deadline=60)
        argv = e2e.read_proc(h[0], "cmdline").split(b"\0")
        self.assertEqual(argv[1], b"--id", argv)  # shown like a cold helper's
        self.assertTrue(argv[2].startswith(b"sd"), argv)
        p.wait(timeout=120)
        trajs = self.env.trajectories()
        self.assertEqual(len(trajs), 2)
        self.assertTrue(all(t["status"] == "timeout" for t in trajs), trajs)

    def test_off(self):
        self.env.env["SWARMDECK_SANDBOX_POOL"] = "0"
        p, tok = self.linger(3)
        self.assertEqual(len(self.helpers_of(p.pid)), 1)
        self.assertEqual(self.pooled(p.pid), [])
        p.wait(timeout=120)
        self.assertEqual(self.pooled(p.pid), [])

    def test_bad_env(self):
        self.env.env["SWARMDECK_SANDBOX_POOL"] = "lots"
        self.env.add_strategy(self.manifest("linger", ["linger", "never"]))
        r = self.env.run("deploy", "-s", "linger", "--timeout", "5", timeout=120)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"SWARMDECK_SANDBOX_POOL=lots", r.stderr)
        self.assertEqual(self.env.trajectories(), [])

    def test_once(self):
        self.env.env["SWARMDECK_SANDBOX_POOL"] = "1"
        with open(os.path.join(self.sdir, "probe.sh"), "w") as f:
            f.write(PROBE)
        m = {"name": "probe", "description": "pool probe", "command": ["/bin/sh", "./probe.sh"],
             "files": ["probe.sh"], "params": []}
        path = os.path.join(self.sdir, "probe.json")
        with open(path, "w") as f:
            json.dump(m, f)
        self.env.add_strategy(path)
        # No @@result line: each deployment "fails" after its program exited 0; what counts
        # here is what the program saw.
        r = self.env.run("deploy", "-s", "probe", "-a", "8", "--max-agents", "1", "--json")
        self.assertIn(r.returncode, (0, 1), r.stderr[-2000:])
        trajs = self.env.trajectories()
        self.assertEqual(len(trajs), 8)
        seen = []
        for t in trajs:
            out = self.env.output(t["id"], 1).decode()
            line = [x for x in out.splitlines() if x.startswith("PROBE ")]
            self.assertEqual(len(line), 1, out)
            seen.append(line[0].split()[1:])
            if t.get("sandbox_id"):
                self.assertEqual(seen[-1][0], "sbx-" + t["sandbox_id"], t)
        self.assertEqual([s[4] for s in seen], ["no"] * 8, seen)  # no /tmp file carried over
        # Distinct hostnames; the namespaces' inode numbers are not compared: the kernel reuses
        # a freed namespace's number, and these sandboxes ran one after the other.
        self.assertEqual(len({s[0] for s in seen}), 8, seen)

    def test_engine_killed(self):
        # Four sandboxes asked for, more than the pool's size: the pool fills ahead of demand.
        self.env.env["SWARMDECK_SANDBOX_POOL"] = "3"
        p, tok = self.linger(60, agents=4)
        pool = e2e.wait_for(lambda: (lambda v: v if len(v) >= 3 else None)(
            [h for h in self.pooled(p.pid) if h not in self.helpers_of(p.pid, tok)]),
            "three idle pooled helpers", deadline=60)
        inits = [pid for pid in e2e.all_pids()
                 if (e2e.proc_status(pid) or (0, "", 0))[2] in pool]
        self.assertGreaterEqual(len(inits), 3)
        p.kill()
        p.wait()
        e2e.wait_for(lambda: not [x for x in pool + inits if e2e.proc_status(x) is not None],
                     "the pooled helpers and their inits gone", deadline=10)
        self.assert_gone_by(tok, time.monotonic() + 5)

    def test_shared_data(self):
        tok = "tok-" + os.urandom(6).hex()
        self.tokens.append(tok)
        self.env.add_strategy(self.manifest("linger", ["linger", tok]))
        p = subprocess.Popen(self.env.cmd("deploy", "-s", "linger", "-a", "2", "--max-agents",
                                          "2", "--timeout", "3", "--symbol", "SPX"),
                             env=self.env.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd=self.env.dir, start_new_session=True)
        self.procs.append(p)
        datas = e2e.wait_for(lambda: (lambda v: v if len(v) == 2 else None)(
            glob.glob(os.path.join(self.root, "sd*", "data.csv"))), "two work dirs with data",
            deadline=60)
        a, b = (os.stat(x) for x in datas)
        self.assertEqual((a.st_dev, a.st_ino), (b.st_dev, b.st_ino), "one shared copy")
        self.assertEqual(a.st_mode & 0o7777, 0o644)
        self.assertEqual(a.st_uid, os.geteuid())
        src = os.stat(os.path.join(e2e.DATA, "SPX.csv"))
        self.assertNotEqual((a.st_dev, a.st_ino), (src.st_dev, src.st_ino))
        self.assertEqual(src.st_nlink, 1)
        with open(datas[0], "rb") as f, open(os.path.join(e2e.DATA, "SPX.csv"), "rb") as g:
            self.assertEqual(f.read(), g.read())
        shared = glob.glob(os.path.join(self.root, ".shared-%d" % p.pid))
        self.assertEqual(len(shared), 1)
        p.wait(timeout=120)
        self.assertEqual(glob.glob(os.path.join(self.root, ".shared-*")), [],
                         "the shared copies go with the CLI")


if __name__ == "__main__":
    unittest.main()
