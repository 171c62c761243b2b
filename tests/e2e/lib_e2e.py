"""lib_e2e.py: shared helpers for the engine end-to-end tests (tests/e2e/engine_*.py).

Every test gets its own Env: a private temporary directory holding the store, a private
XDG_RUNTIME_DIR (so sandbox work dirs of parallel tests never mix) and scratch files. The
binaries and the source tree come from the environment that tests/e2e/engine.cmake sets:
SWARMDECK_BIN_DIR (swarmdeck, swarmdeck-runner, swarmdeck-sandbox), SWARMDECK_SRC_DIR and
SWARMDECK_E2E_STRATEGIES (the built fixture strategies and their manifests).

Leftover checks (Env.assert_clean) are scoped to this test so that tests can run in parallel
with each other and with the sandbox helper's own tests: a swarmdeck-sandbox helper is ours
when its command line names our runtime dir; a process running as a sandbox uid
(100000..165535) is ours when its cgroup path names one of our sandbox ids, and any such
process outside every swarmdeck sandbox cgroup counts too (nothing legitimate runs there).
"""

import base64
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

BIN = os.environ.get("SWARMDECK_BIN_DIR", "")
SRC = os.environ.get("SWARMDECK_SRC_DIR", "")
STRATEGIES = os.environ.get("SWARMDECK_E2E_STRATEGIES", "")
SWARMDECK = os.path.join(BIN, "swarmdeck")
RUNNER = os.path.join(BIN, "swarmdeck-runner")
HELPER = os.path.join(BIN, "swarmdeck-sandbox")
DATA = os.path.join(SRC, "data")
SANDBOX_UIDS = range(100000, 165536)
TERMINAL = ("succeeded", "failed", "timeout", "cancelled", "interrupted")


def require_env():
    for p in (SWARMDECK, RUNNER, HELPER):
        assert os.access(p, os.X_OK), "missing binary %s (set SWARMDECK_BIN_DIR)" % p
    assert os.path.isdir(DATA), "missing data dir %s (set SWARMDECK_SRC_DIR)" % DATA


def data_file(symbol):
    """The bundled CSV the engine resolves symbol to."""
    for name in (symbol + ".csv", symbol + ".synthetic.csv"):
        p = os.path.join(DATA, name)
        if os.path.exists(p):
            return p
    raise AssertionError("no bundled data for " + symbol)


def runner_output(strategy, symbol, params_json, pace=None):
    """What `swarmdeck-runner run` prints on stdout when run directly in a temp dir holding
    a copy of the symbol's data named data.csv (the sandbox layout). pace: the engine's
    --pace, which the engine passes on to the runner (it adds @@progress lines)."""
    with tempfile.TemporaryDirectory() as d:
        shutil.copyfile(data_file(symbol), os.path.join(d, "data.csv"))
        argv = [RUNNER, "run", "--strategy", strategy, "--data", "data.csv",
                "--params", params_json]
        if pace:
            argv += ["--pace", str(pace)]
        p = subprocess.run(argv, cwd=d, capture_output=True, timeout=300)
        assert p.returncode == 0, p.stderr
        return p.stdout


def capture_stream(seed):
    """(stdout, stderr) bytes that `probe stream` writes for this seed (probe.c: do_stream)."""
    state = [seed & 0xFFFFFFFFFFFFFFFF]
    mask = 0xFFFFFFFFFFFFFFFF

    def nxt():
        state[0] = (state[0] + 0x9E3779B97F4A7C15) & mask
        z = state[0]
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)

    out, err = bytearray(), bytearray()
    steps = 20 + nxt() % 40
    for _ in range(steps):
        kind = nxt() % 3
        n = 1 + nxt() % (16384 if kind == 2 else 8192)
        buf = bytearray()
        if kind == 2:
            while len(buf) < n:
                buf += nxt().to_bytes(8, "little")
            err += buf[:n]
        else:
            while len(buf) < n:
                w = nxt()
                buf += (b"%016x" % w)[:1 + w % 16]
                if (w >> 60) & 3:
                    buf.append(10)
            out += buf[:n]
    out += b'\n@@result {"mode":"probe","steps":%d}\n' % steps
    return bytes(out), bytes(err)


def proc_status(pid):
    """(uid, name, ppid) of a process, or None if it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            fields = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        return int(fields["Uid"].split()[0]), fields.get("Name", ""), int(fields["PPid"])
    except (OSError, ValueError, KeyError):
        return None


def read_proc(pid, name):
    try:
        with open("/proc/%d/%s" % (pid, name), "rb") as f:
            return f.read()
    except OSError:
        return b""


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def sha256_file(path):
    import hashlib
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Env:
    """A private store, runtime dir and scratch dir for one test."""

    def __init__(self, name="e2e"):
        require_env()
        self.dir = tempfile.mkdtemp(prefix="swarmdeck-%s-" % name)
        # The sandbox's mapped uid must traverse to its work dir under the runtime dir.
        os.chmod(self.dir, 0o711)
        self.run_dir = os.path.join(self.dir, "run")
        os.mkdir(self.run_dir, 0o711)
        os.chmod(self.run_dir, 0o711)
        self.db = os.path.join(self.dir, "store.db")
        self.env = dict(os.environ)
        self.env["XDG_RUNTIME_DIR"] = self.run_dir
        self.env.pop("SWARMDECK_DB", None)
        self.env["NO_COLOR"] = "1"

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def cmd(self, *args, db=True):
        return [SWARMDECK] + (["--db", self.db] if db else []) + list(args)

    def run(self, *args, timeout=300, db=True, check=None):
        """Run swarmdeck; returns CompletedProcess (bytes). check: expected exit code."""
        p = subprocess.run(self.cmd(*args, db=db), env=self.env, capture_output=True,
                           timeout=timeout, cwd=self.dir)
        if check is not None:
            assert p.returncode == check, "swarmdeck %s: exit %d, expected %d\nstdout: %s\n" \
                "stderr: %s" % (" ".join(args), p.returncode, check,
                                p.stdout.decode(errors="replace")[-3000:],
                                p.stderr.decode(errors="replace")[-3000:])
        return p

    def popen(self, *args):
        return subprocess.Popen(self.cmd(*args), env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=self.dir)

    # --- the store ---------------------------------------------------------------------

    def sql(self, query, args=()):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=30)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()

    def trajectories(self):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=30)
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute("SELECT * FROM trajectories ORDER BY id")]
        finally:
            con.close()

    def output(self, traj_id, stream):
        """The stored bytes of one stream (1 stdout, 2 stderr), reassembled by seq (through
        `swarmdeck logs --raw`: rows may be compressed, store_zstd.h)."""
        p = self.run("logs", str(traj_id), "--stream", "stdout" if stream == 1 else "stderr",
                     "--raw", check=0)
        assert p.returncode == 0, p.stderr
        if stream == 1:
            return p.stdout
        # logs' own note about dropped bytes is not the output's.
        return re.sub(rb"swarmdeck: \d+ byte\(s\) in the middle of this output were not kept "
                      rb"\(the store keeps the head and the tail\)\n$", b"", p.stderr)

    def operations(self, traj_id):
        return self.sql("SELECT seq, name, started_at, duration_ms, ok FROM operations "
                        "WHERE traj_id = ? ORDER BY seq", (traj_id,))

    def sandbox_ids(self):
        if not os.path.exists(self.db):
            return set()
        return {r[0] for r in self.sql("SELECT sandbox_id FROM trajectories "
                                       "WHERE sandbox_id IS NOT NULL")}

    # --- strategies ----------------------------------------------------------------------

    def add_strategy(self, manifest):
        """Register a manifest (a path) with `swarmdeck strategies add`. A manifest naming a
        file outside its own directory (fixture_manifest's copies do) needs --allow-outside."""
        with open(manifest) as f:
            files = json.load(f).get("files", [])
        here = os.path.dirname(os.path.realpath(manifest))
        outside = any(os.path.isabs(p) and not os.path.realpath(p).startswith(here + os.sep)
                      for p in files)
        self.run("strategies", "add", *(["--allow-outside"] if outside else []), manifest,
                 check=0)

    def fixture_manifest(self, name, command=None):
        """Path of a fixture manifest; with command, a copy of it in our dir with that command
        (files resolved to absolute paths so the copy still finds them)."""
        src = os.path.join(STRATEGIES, name + ".json")
        if command is None:
            return src
        with open(src) as f:
            m = json.load(f)
        m["command"] = command
        m["files"] = [os.path.join(STRATEGIES, p) for p in m.get("files", [])]
        dst = self.path(name + ".json")
        with open(dst, "w") as f:
            json.dump(m, f)
        return dst

    # --- leftovers -----------------------------------------------------------------------

    def leftovers(self):
        """Our processes still alive: helpers and sandbox-uid processes (see module doc)."""
        ours = self.sandbox_ids()
        found = []
        for pid in all_pids():
            st = proc_status(pid)
            if st is None:
                continue
            uid, name, _ = st
            cmdline = read_proc(pid, "cmdline").split(b"\0")
            if cmdline and os.path.basename(cmdline[0]) == b"swarmdeck-sandbox":
                if any(a.startswith(self.run_dir.encode()) for a in cmdline):
                    found.append((pid, name, "helper", b" ".join(cmdline).decode(errors="replace")))
                continue
            if uid in SANDBOX_UIDS:
                cg = read_proc(pid, "cgroup").decode(errors="replace")
                mine = any(("sbx-%s" % sid) in cg for sid in ours)
                if mine or "/swarmdeck/sbx-" not in cg:
                    found.append((pid, name, "uid %d" % uid, cg.strip().replace("\n", " | ")))
        return found

    def assert_clean(self, deadline_s=20):
        """No helper, no sandbox process and no lease of ours is left. Polls briefly, since a
        helper that was told to stop may take a moment to reap its tree."""
        end = time.monotonic() + deadline_s
        while True:
            left = self.leftovers()
            if not left or time.monotonic() > end:
                break
            time.sleep(0.1)
        assert not left, "processes left behind: %r" % left
        if os.path.exists(self.db):
            leases = self.sql("SELECT sandbox_id, pid FROM leases")
            assert leases == [], "leases left: %r" % leases


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(cond, what, deadline=60.0):
    """Poll cond until it returns something true (returned), failing after deadline seconds:
    a deadline, never a timing assertion."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def stop_daemon(db, deadline=30.0):
    """Stop the daemon serving the store at db (one a console, a peer or a test started on
    demand): SIGTERM to the pid in db's ".serve.lock", then wait, deadline seconds at most,
    until that process is gone (exited, or a zombie its parent has yet to reap). Nothing to do
    when there is no lock or no live pid in it. Raises AssertionError (wait_for) when the
    daemon outlives the deadline."""
    try:
        with open(db + ".serve.lock") as f:
            pid = int(f.read().strip() or 0)
    except (OSError, ValueError):
        return
    if pid <= 0:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return

    def gone():
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except (OSError, IndexError):
            return True

    wait_for(gone, "the daemon %d of %s to stop" % (pid, db), deadline)


def decode_export_output(traj, stream):
    name = {1: "stdout", 2: "stderr"}[stream]
    chunks = sorted((c for c in traj.get("output", []) if c["stream"] == name),
                    key=lambda c: c["seq"])
    return b"".join(base64.b64decode(c["data"]) for c in chunks)
