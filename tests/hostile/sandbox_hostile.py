"""sandbox_hostile: a hostile user strategy (tests/hostile/hostile.c) against the local sandbox,
deployed through `swarmdeck deploy` like any user strategy. Each case is one attack class of
issue 14 (items 1-5); docs/security.md's attack table names the cases.

  tree_*          leftovers the engine must remove: deep chains, wide dirs, FIFOs, symlinks
                  out, unreadable dirs; never a crash, nothing left (item 1)
  disk_*          the writable dir's size and inode caps, reported as the failure (item 2)
  sockets         every socket family, netlink protocol, socketpair, high-bit domains and
                  the 32-bit socketcall entry (item 3); udp_dns: UDP and DNS go nowhere
  killed_*        SIGKILL of the helper, of the CLI's process group, of the CLI: no sandbox
                  process outlives its deadline by more than a second (item 4)
  upload_*        crafted manifests and uploads never write through to the operator's files
                  (item 5)

The strategy's files live in a directory of the test's own, next to the manifests, so the
manifests name them relatively (no --allow-outside unless a case is about it)."""

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import lib_e2e as e2e  # noqa: E402

HOSTILE = os.environ.get("SWARMDECK_HOSTILE_BIN", "")
EAFNOSUPPORT, EPROTONOSUPPORT, ENOSYS = 97, 93, 38


def token_pids(token):
    """Pids of processes whose command line carries token (the lingering strategy's)."""
    found = []
    for pid in e2e.all_pids():
        if token.encode() in e2e.read_proc(pid, "cmdline").split(b"\0"):
            found.append(pid)
    return found


class Hostile(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.access(HOSTILE, os.X_OK), "set SWARMDECK_HOSTILE_BIN")
        self.env = e2e.Env("hostile")
        # Work dirs on a tmpfs when there is one: a 100,000-level tree costs ~400 MB of
        # directory blocks on a disk file system and minutes of I/O; the removal's code path is
        # the same on any file system.
        self.shm = None
        if os.access("/dev/shm", os.W_OK):
            self.shm = tempfile.mkdtemp(prefix="swarmdeck-hostile-", dir="/dev/shm")
            os.chmod(self.shm, 0o711)
            self.env.run_dir = self.env.env["XDG_RUNTIME_DIR"] = self.shm
        # The strategy's files on the work dirs' file system, so a hard link would be possible.
        self.sdir = os.path.join(self.shm or self.env.dir, "strategy")
        os.mkdir(self.sdir)
        shutil.copy(HOSTILE, os.path.join(self.sdir, "hostile"))
        # The sandboxes' work dirs live here (sd_runtime_dir); a canary next to them proves
        # that removing a strategy's tree never followed a link out of it.
        self.root = os.path.join(self.env.run_dir, "swarmdeck")
        os.mkdir(self.root, 0o711)
        self.canary = os.path.join(self.root, "canary")
        with open(self.canary, "w") as f:
            f.write("canary\n")
        self.procs = []
        self.tokens = []
        self.locks = []

    def tearDown(self):
        try:
            for p in self.procs:
                if p.poll() is None:
                    p.kill()
                p.wait()
            for fd in self.locks:
                os.close(fd)
            for tok in self.tokens:  # a failing case may leave its own strategy running
                for pid in token_pids(tok):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            if os.path.exists(self.env.db):
                self.env.run("cleanup", timeout=300)
        finally:
            self.env.close()
            if self.shm:
                # rm, not shutil.rmtree: a failing case may leave a 100,000-level tree.
                subprocess.run(["rm", "-rf", "--one-file-system", self.shm], check=False)

    # --- helpers -----------------------------------------------------------------------------

    def manifest(self, name, args, files=("hostile",), where=None):
        m = {"name": name, "description": "hostile: " + " ".join(args),
             "command": ["./hostile"] + list(args), "files": list(files), "params": []}
        path = os.path.join(where or self.sdir, name + ".json")
        with open(path, "w") as f:
            json.dump(m, f)
        return path

    def deploy(self, name, args, *opts, expect=None):
        """Register and deploy; the CLI must end by itself (no signal), with one trajectory."""
        self.env.add_strategy(self.manifest(name, args))
        p = self.env.run("deploy", "-s", name, "--json", *opts, timeout=600)
        self.assertGreaterEqual(p.returncode, 0, "the CLI died by signal %d: %s" % (
            -p.returncode, p.stderr[-2000:]))
        trajs = self.env.trajectories()
        self.assertEqual(len(trajs), 1, p.stderr)
        t = trajs[0]
        if expect is not None:
            self.assertEqual(t["status"], expect, (t, p.stderr[-2000:]))
            self.assertEqual(p.returncode, 0 if expect == "succeeded" else 1, p.stderr)
        return p, t

    def assert_root_clean(self):
        """Only the canary is left where the work dirs were, and it is intact."""
        self.assertEqual(sorted(os.listdir(self.root)), ["canary"])
        with open(self.canary) as f:
            self.assertEqual(f.read(), "canary\n")

    def ok_lines(self, out, kind):
        return [ln.split() for ln in out.decode().splitlines() if ln.startswith("OK " + kind + " ")]

    # --- item 1: leftovers ---------------------------------------------------------------------

    def test_tree_sandboxed(self):
        """A deep tree left in /work no longer reaches the host at all (/work is the sandbox's
        own tmpfs); the deployment succeeds, the CLI does not crash, and the next one runs."""
        p, t = self.deploy("tree", ["tree", "3000", "5000"], expect="succeeded")
        self.assertIn(b"tree depth 3000 width 5000 fails 0", self.env.output(t["id"], 1))
        self.assert_root_clean()
        p = self.env.run("deploy", "-s", "tree", "--json", timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assert_root_clean()
        self.env.assert_clean()

    def test_tree_unsandboxed(self):
        """Without a mount namespace the tree is in the host work dir: 100,000 levels, 20,000
        entries, FIFOs, symlinks to / and .., mode-000 dirs are all removed, by the CLI's
        worker thread, without recursion and without following a link."""
        p, t = self.deploy("tree", ["tree", "100000", "20000"], "--unsandboxed",
                           expect="succeeded")
        self.assertIn(b"tree depth 100000 width 20000 fails 0", self.env.output(t["id"], 1))
        self.assert_root_clean()
        ops = self.env.operations(t["id"])
        self.assertEqual([o[4] for o in ops if o[1] == "destroy"], [1], ops)
        self.env.assert_clean()

    def test_tree_cleanup_after_kill(self):
        """The CLI is killed while the tree is in place: `cleanup` (recovery, on the main
        thread) removes it without crashing, and later deployments run."""
        env = self.env
        env.add_strategy(self.manifest("tree", ["tree", "100000", "1000", "linger"]))
        p = env.popen("deploy", "-s", "tree", "--unsandboxed")
        self.procs.append(p)
        e2e.wait_for(lambda: any(b"tree done" in env.output(t["id"], 1)
                                 for t in env.trajectories()) if os.path.exists(env.db)
                     else False, "the tree", deadline=240)
        p.kill()
        p.wait()
        c = env.run("cleanup", timeout=300)
        self.assertEqual(c.returncode, 0, c.stderr[-2000:])
        e2e.wait_for(lambda: sorted(os.listdir(self.root)) == ["canary"], "the work dir removed",
                     deadline=30)
        self.assert_root_clean()
        env.add_strategy(self.manifest("ok", ["files", "1"]))
        d = env.run("deploy", "-s", "ok", timeout=300)
        self.assertEqual(d.returncode, 0, d.stderr[-2000:])
        env.assert_clean()

    # --- item 2: the writable dir's caps -------------------------------------------------------

    def test_disk_size(self):
        """Writing 64 MiB under --disk 16: the writes stop at the cap (in the sandbox's tmpfs,
        not the host's disk) and the deployment fails saying so, though the strategy claims
        success."""
        p, t = self.deploy("fill", ["fill", "64"], "--disk", "16", expect="failed")
        out = self.env.output(t["id"], 1)
        self.assertRegex(out, rb"ERR write after 1[56] MiB: 28\n")  # ENOSPC at the cap
        self.assertIn("work dir full", t["error"] or "", t)
        self.assertIn("16 MB", t["error"])
        self.assert_root_clean()
        self.env.assert_clean()

    def test_disk_inodes(self):
        """100,000 empty files meet the inode cap (65,536) and the failure names it."""
        p, t = self.deploy("files", ["files", "100000"], expect="failed")
        self.assertIn(b"ERR create after", self.env.output(t["id"], 1))
        self.assertIn("file count", t["error"] or "", t)
        self.env.assert_clean()

    # --- item 3: socket families ---------------------------------------------------------------

    def test_sockets(self):
        """Only AF_UNIX, AF_INET, AF_INET6 and NETLINK_ROUTE sockets can be made; every other
        family fails with EAFNOSUPPORT (AF_VSOCK included, whose connects would leave the
        network namespace), whatever high bits the domain carries and through the 32-bit
        socketcall entry too."""
        p, t = self.deploy("sockets", ["sockets"], expect="succeeded")
        out = self.env.output(t["id"], 1)
        made = {int(f[2]) for f in self.ok_lines(out, "socket")}
        self.assertEqual(made, {1, 2, 10, 16}, out.decode()[:3000])
        for ln in out.decode().splitlines():
            f = ln.split()
            if f[:2] == ["ERR", "socket"] and int(f[2]) not in (1, 2, 10, 16):
                self.assertEqual(int(f[4]), EAFNOSUPPORT, ln)
        self.assertEqual([f[2] for f in self.ok_lines(out, "netlink")], ["0"], out.decode())
        self.assertEqual([f[2] for f in self.ok_lines(out, "socketpair")], ["1"], out.decode())
        self.assertIn(b"ERR highbit 40 %d" % EAFNOSUPPORT, out)
        self.assertEqual(self.ok_lines(out, "socketcall32"), [], out.decode())
        self.env.assert_clean()

    def test_udp_dns(self):
        """UDP to the host's loopback and a DNS query to the host's resolver go nowhere: the
        sandbox's network namespace has only its own loopback (held before issue 14)."""
        resolver = "10.0.2.3"
        try:
            with open("/etc/resolv.conf") as f:
                for ln in f:
                    if ln.split()[:1] == ["nameserver"] and "." in ln.split()[1]:
                        resolver = ln.split()[1]
                        break
        except OSError:
            pass
        srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        srv.bind(("127.0.0.1", 0))
        srv.setblocking(False)
        try:
            p, t = self.deploy("udp", ["udp", str(srv.getsockname()[1]), resolver],
                               expect="succeeded")
            out = self.env.output(t["id"], 1)
            self.assertRegex(out, rb"ERR dns sendto (101|22)\n")  # ENETUNREACH
            with self.assertRaises(BlockingIOError):
                srv.recvfrom(100)
        finally:
            srv.close()
        self.env.assert_clean()

    # --- item 4: killed parents ------------------------------------------------------------------

    def linger(self, timeout_s, agents=1):
        """Start a deployment (of agents agents at once) whose strategy and its setsid'ed,
        SIGTERM-ignoring child wait forever; returns (CLI process, token) once one runs."""
        tok = "tok-" + os.urandom(6).hex()
        self.tokens.append(tok)
        self.env.add_strategy(self.manifest("linger", ["linger", tok]))
        more = ["-a", str(agents), "--max-agents", str(agents)] if agents > 1 else []
        p = subprocess.Popen(self.env.cmd("deploy", "-s", "linger", "--timeout", str(timeout_s),
                                          *more),
                             env=self.env.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd=self.env.dir, start_new_session=True)
        self.procs.append(p)
        e2e.wait_for(lambda: len(token_pids(tok)) >= 2, "the lingering strategy", deadline=60)
        # Its output is stored: a deployment that streamed output is never retried, so no
        # second sandbox of it can appear after a kill.
        e2e.wait_for(lambda: any(b"lingering" in self.env.output(t["id"], 1)
                                 for t in self.env.trajectories()), "its output", deadline=60)
        return p, tok

    def hold_cgroups(self, helper_pid):
        """Take the helper's place as holder of its cgroups' locks the moment it dies: one
        thread per directory blocks in flock(LOCK_EX) until the helper's lock goes with it.
        Any swarmdeck process on this machine sweeps unlocked sbx-* cgroups, killing what is
        in them, which would end an orphaned sandbox for reasons that have nothing to do with
        the sandbox; holding the locks leaves the sandbox to its own means. Released in
        tearDown, before `cleanup` sweeps."""
        argv = e2e.read_proc(helper_pid, "cmdline").split(b"\0")
        names = {"sbx-" + argv[argv.index(b"--id") + 1].decode()}
        # A helper from the warm pool renamed its v1 cgroups to the deployment's id: take the
        # names its init (its child) is in.
        for pid in e2e.all_pids():
            if (e2e.proc_status(pid) or (0, "", 0))[2] == helper_pid:
                for line in e2e.read_proc(pid, "cgroup").decode(errors="replace").splitlines():
                    if "/swarmdeck/sbx-" in line:
                        names.add(line.rsplit("/", 1)[1])
        for ctrl, name in [(c, n) for c in ("memory", "cpu", "pids", "unified") for n in names]:
            path = "/sys/fs/cgroup/%s/swarmdeck/%s" % (ctrl, name)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
            except OSError:
                continue
            self.locks.append(fd)
            threading.Thread(target=fcntl.flock, args=(fd, fcntl.LOCK_EX), daemon=True).start()

    def helpers_of(self, cli_pid, tok=None):
        """The CLI's sandbox helpers; with tok only those whose sandbox runs the token's
        processes (the others wait in the warm pool for a deployment)."""
        helpers = [pid for pid in e2e.all_pids()
                   if (e2e.proc_status(pid) or (0, "", 0))[2] == cli_pid
                   and e2e.read_proc(pid, "comm").strip() == b"swarmdeck-sandb"]
        if tok is None:
            return helpers
        ancestors = set()
        for pid in token_pids(tok):
            for _ in range(8):
                st = e2e.proc_status(pid)
                if st is None or st[2] <= 1:
                    break
                pid = st[2]
                ancestors.add(pid)
        return [h for h in helpers if h in ancestors]

    def assert_gone_by(self, tok, deadline):
        """Every process of the strategy is gone before the monotonic deadline, and at most a
        second after the kill: what ends them is the kill itself, not a later sweep of stale
        cgroups by some other swarmdeck process of this machine (which would hide the bug)."""
        deadline = min(deadline, time.monotonic() + 1.0)
        while token_pids(tok) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(token_pids(tok), [], "sandbox processes outlived their deadline")

    def test_killed_helper(self):
        """SIGKILL of the sandbox helper alone: the parent-death signal, re-armed after the uid
        switch, ends the sandbox (it used to run on, past --timeout, until `cleanup`)."""
        started = time.monotonic()
        p, tok = self.linger(5)
        helpers = self.helpers_of(p.pid, tok)
        self.assertEqual(len(helpers), 1, helpers)
        # The CLI is stopped, so it can neither see the helper's death nor sweep its cgroups:
        # only the sandbox's own parent-death signal can end it.
        os.kill(p.pid, signal.SIGSTOP)
        try:
            self.hold_cgroups(helpers[0])
            os.kill(helpers[0], signal.SIGKILL)
            self.assert_gone_by(tok, started + 5 + 1)
        finally:
            os.kill(p.pid, signal.SIGCONT)

    def test_killed_group(self):
        """SIGKILL of the CLI's whole process group (the CLI and every helper at once)."""
        started = time.monotonic()
        p, tok = self.linger(5)
        for h in self.helpers_of(p.pid):
            self.hold_cgroups(h)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        self.assert_gone_by(tok, started + 5 + 1)

    def test_killed_cli(self):
        """SIGKILL of the CLI alone: its helpers see the lifeline hang up and tear down."""
        started = time.monotonic()
        p, tok = self.linger(5)
        for h in self.helpers_of(p.pid):
            self.hold_cgroups(h)
        p.kill()
        p.wait()
        self.assert_gone_by(tok, started + 5 + 1)

    # --- item 5: uploads -------------------------------------------------------------------------

    def assert_refused(self, manifest, *words, flags=()):
        p = self.env.run("strategies", "add", *flags, manifest)
        self.assertEqual(p.returncode, 2, (p.stdout, p.stderr))
        for w in words:
            self.assertIn(w.encode(), p.stderr)

    def test_upload_duplicate(self):
        """A manifest listing a file twice is refused; the operator's file keeps its bytes
        (a second upload once truncated it through the first one's hard link)."""
        src = os.path.join(self.sdir, "hostile")
        before = e2e.sha256_file(src)
        m = self.manifest("dup", ["selfstat"], files=("hostile", "./hostile"))
        self.assert_refused(m, "two files", "hostile")
        self.assertEqual(e2e.sha256_file(src), before)
        self.assertEqual(self.env.run("strategies", "list").stdout.count(b"dup (user)"), 0)

    def test_upload_data_csv(self):
        """A strategy file named data.csv is refused: the market data upload would replace
        the operator's file with market data."""
        mine = os.path.join(self.sdir, "data.csv")
        with open(mine, "w") as f:
            f.write("my,own,data\n")
        m = self.manifest("datacsv", ["selfstat"], files=("hostile", "data.csv"))
        self.assert_refused(m, "data.csv")
        with open(mine) as f:
            self.assertEqual(f.read(), "my,own,data\n")

    def test_upload_outside(self):
        """Files that resolve outside the manifest's directory (a symlink leaving it, "..", an
        absolute path elsewhere) need the operator's --allow-outside."""
        secret = os.path.join(os.path.dirname(self.sdir), "secret.txt")
        with open(secret, "w") as f:
            f.write("host secret\n")
        os.symlink(secret, os.path.join(self.sdir, "innocent.txt"))
        for files in (("hostile", "innocent.txt"), ("hostile", "../secret.txt"),
                      ("hostile", secret)):
            m = self.manifest("outside", ["selfstat"], files=files)
            self.assert_refused(m, "outside the manifest's directory", "--allow-outside")
        p = self.env.run("strategies", "add", "--allow-outside", m)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_upload_copy(self):
        """The strategy's file in the sandbox is the engine's shared copy, not the operator's
        inode (two links: the copy of this version and the work dir's; the operator's file
        keeps one) and read-only: opening it for writing fails."""
        src = os.path.join(self.sdir, "hostile")
        before = e2e.sha256_file(src)
        p, t = self.deploy("self", ["selfstat"], expect="succeeded")
        out = self.env.output(t["id"], 1)
        self.assertIn(b"nlink 2\n", out)
        self.assertIn(b"ERR write-open", out)
        self.assertEqual(os.stat(src).st_nlink, 1)
        self.assertEqual(e2e.sha256_file(src), before)
        self.env.assert_clean()


if __name__ == "__main__":
    unittest.main()
