"""daemon_e2e: `swarmdeck serve`, the daemon, end to end (engine/serve/server.h, cli/cmd-serve.c,
cli/daemon.c, cli/cmd-wait.c).

Every test has its own store, XDG_RUNTIME_DIR (so its own socket directory) and XDG_STATE_HOME
(the detached daemon's log), so no two tests ever share a daemon and they can run in parallel.
Every daemon a test starts, in the foreground or on demand through a client, is stopped in
tearDown (SIGTERM, then wait; SIGKILL only as a last resort, which fails the test), and so is
every client it started.

Nothing here sleeps to make an assertion: every wait polls a condition against a generous
deadline (the machine may be a loaded 2-core box), and the "still alive after" checks are
made after an event that proves the time went by (another daemon exiting, a bookmark line).

The paced runs use the built-in momentum strategy on SPY (6358 bars) at --pace 300: about 21 s
per deployment, long enough to act on a run while it is running.

Cases:
  Lifetimes    foreground serve, a second serve refused (exit 2, names the pid), SIGHUP
               ignored, SIGTERM stops and removes the sockets, modes 0700/0600.
  Outlives     deploy --detach starts a daemon on demand, `wait`; a client killed by SIGHUP or
               SIGKILL leaves its deployments running to success; SIGINT cancels only the
               client's own deployments; a foreground deploy returns with its results stored.
  IdleExit     --on-demand --idle-exit 1 exits once idle (not while a client is attached); a
               plain serve does not.
  Protocol     http.client over AF_UNIX: version, 400, 404, /v2 -> 404 naming both versions,
               413, 403 on the .ro socket, unknown strategy, half requests, a peer of another
               uid.
  Events       the resumable event stream: no gap, no duplicate across many reconnects; resync
               from the future; the "run" event.
  Crash        kill -9 of the daemon: the lifeline kills the sandboxes, the next serve marks the
               run's deployments interrupted and leaves no lease; `wait` on a run whose daemon
               was killed or stopped ends (started before or after) once a new daemon serves.
  OnFinish     --on-finish 'cat > FILE' receives the run's summary JSON.
"""

import hashlib
import http.client
import json
import os
import pwd
import re
import shlex
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402

# Generous: a 2-core machine running other tests may be slow to start a daemon or a sandbox.
START_S = 120    # a daemon listening, a deployment running
RUN_S = 300      # a paced run (about 21 s unloaded) ending
STOP_S = 90      # a daemon stopping after SIGTERM (it cancels what runs first)
PACE = "300"     # bars per second: momentum on SPY takes about 21 s
NOBODY = 65534


def poll(cond, timeout, what, interval=0.05):
    """cond()'s first true value, polled until timeout seconds have passed (then fail)."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out after %d s waiting for %s" % (timeout, what))
        time.sleep(interval)


def alive(pid):
    """pid exists and is not a zombie (a detached daemon is not our child: nobody of ours
    reaps it)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def cmdline(pid):
    return e2e.read_proc(pid, "cmdline").split(b"\0")


# --- HTTP over the daemon's Unix socket --------------------------------------------------


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(self.timeout)
            s.connect(self.unix_path)
        except BaseException:
            s.close()
            raise
        self.sock = s


def call(sock, method, path, body=None, timeout=60, headers=None):
    """One request. body: bytes as is, anything else as JSON. Returns (status, JSON or None,
    raw body)."""
    c = UnixHTTPConnection(sock, timeout)
    try:
        headers = dict(headers or {})
        if body is not None:
            if not isinstance(body, bytes):
                body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        try:
            obj = json.loads(data)
        except ValueError:
            obj = None
        return r.status, obj, data
    finally:
        c.close()


def raw_request(sock, method, path, body=None, timeout=60):
    """One request on a plain socket, for a daemon that may answer (and close) before it has
    read the body, as it does for a refused peer: a send that finds the connection closed is
    not an error, the answer is read all the same. Returns (status, raw body)."""
    data = b"" if body is None else json.dumps(body).encode()
    head = "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" % (method, path)
    if body is not None:
        head += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(data)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(sock)
        try:
            s.sendall(head.encode() + b"\r\n" + data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = http.client.HTTPResponse(s)
        r.begin()
        return r.status, r.read()
    finally:
        s.close()


class EventStream:
    """GET /v1/events?since=N, read line by line (the answer is chunked: http.client joins
    the chunks)."""

    def __init__(self, sock, since, timeout=60):
        self.conn = UnixHTTPConnection(sock, timeout)
        self.conn.request("GET", "/v1/events?since=%d" % since)
        self.resp = self.conn.getresponse()
        if self.resp.status != 200:
            body = self.resp.read()
            self.close()
            raise AssertionError("events: HTTP %d %r" % (self.resp.status, body))

    def next(self):
        """(raw line, object) of the next event; EOFError when the stream ends."""
        line = self.resp.readline()
        if not line:
            raise EOFError("the event stream ended")
        if not line.endswith(b"\n"):
            raise AssertionError("a partial event line: %r" % line)
        return line, json.loads(line)

    def close(self):
        try:
            self.resp.close()
        except Exception:
            pass
        self.conn.close()


# --- one test's world ---------------------------------------------------------------------


class DaemonEnv(e2e.Env):
    """lib_e2e.Env plus an XDG_STATE_HOME, the store's socket paths, and bookkeeping of every
    daemon and client started, so that stop_all leaves nothing behind."""

    def __init__(self, name):
        super().__init__(name)
        self.state_dir = self.path("state")
        os.mkdir(self.state_dir, 0o700)
        self.env["XDG_STATE_HOME"] = self.state_dir
        self.procs = []    # (Popen, log path, is_daemon)
        self.pids = set()  # daemons that are not our children (started on demand)
        self.logs = 0

    # where the daemon of a store listens (sock.c: the first 8 bytes of the SHA3-512 of the
    # store's absolute path, in hex)
    def sock_dir(self):
        return os.path.join(self.run_dir, "swarmdeck", "sock")

    def sock(self, readonly=False, db=None):
        digest = hashlib.sha3_512(os.path.realpath(db or self.db).encode()).hexdigest()[:16]
        return os.path.join(self.sock_dir(), digest + (".ro" if readonly else ""))

    def lock_pid(self, db=None):
        """The pid written in the store's lock file, or 0."""
        try:
            with open((db or self.db) + ".serve.lock") as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    # processes
    def spawn(self, *args, daemon=False, db=None):
        """Start swarmdeck in the background, its stdout and stderr in a file of ours (a pipe
        nobody reads could block it)."""
        self.logs += 1
        log = self.path("proc-%d.log" % self.logs)
        with open(log, "wb") as out:
            argv = [e2e.SWARMDECK, "--db", db or self.db] + list(args)
            p = subprocess.Popen(argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                 cwd=self.dir, stdin=subprocess.DEVNULL)
        self.procs.append((p, log, daemon))
        return p

    def serve(self, *args, db=None):
        return self.spawn("serve", *args, daemon=True, db=db)

    def log_of(self, proc):
        for p, log, _ in self.procs:
            if p is proc:
                with open(log, "rb") as f:
                    return f.read().decode(errors="replace")
        return ""

    def wait_listening(self, proc=None, db=None, timeout=START_S):
        """Poll until the daemon answers GET /v1/version (from proc, when given). Returns the
        version object."""
        sock = self.sock(db=db)

        def up():
            if proc is not None and proc.poll() is not None:
                raise AssertionError("serve exited %d before listening:\n%s"
                                     % (proc.returncode, self.log_of(proc)))
            if not os.path.exists(sock):
                return None
            try:
                st, v, _ = call(sock, "GET", "/v1/version", timeout=30)
            except OSError:
                return None
            if st != 200 or (proc is not None and v.get("pid") != proc.pid):
                return None
            return v
        return poll(up, timeout, "the daemon to listen on %s" % sock)

    def stop_pid(self, pid, timeout=STOP_S):
        """SIGTERM a daemon that is not our child and wait until it is gone. Returns False if it
        had to be killed."""
        if not alive(pid):
            return True
        os.kill(pid, signal.SIGTERM)
        end = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < end:
            time.sleep(0.05)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
            return False
        return True

    def stop_all(self):
        """Clients first (SIGKILL: whatever they ran, the daemon's SIGTERM cancels), then every
        daemon (SIGTERM, wait). Returns a list of complaints."""
        bad = []
        for p, _, daemon in self.procs:
            if not daemon and p.poll() is None:
                p.kill()
                p.wait()
        for p, log, daemon in self.procs:
            if daemon and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=STOP_S)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                    bad.append("daemon pid %d did not stop on SIGTERM" % p.pid)
        for pid in sorted(self.pids | {self.lock_pid()}):
            if pid > 0 and alive(pid) and b"serve" in cmdline(pid) and \
                    self.db.encode() in cmdline(pid):
                if not self.stop_pid(pid):
                    bad.append("daemon pid %d did not stop on SIGTERM" % pid)
        try:
            poll(lambda: not self.leftovers(), 30, "sandboxes to go")
        except AssertionError:
            bad.append("processes left behind: %r" % self.leftovers())
            for pid, *_ in self.leftovers():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        return bad

    # the store
    def count(self, table):
        if not os.path.exists(self.db):
            return 0
        return self.sql("SELECT count(*) FROM %s" % table)[0][0]

    def run_of_pid(self, pid):
        """The run a client of that pid launched (the daemon records who asked in the run's
        spec), or None."""
        if not os.path.exists(self.db):
            return None
        try:
            rows = self.sql("SELECT id, spec FROM runs ORDER BY id")
        except Exception:  # the tables may not exist yet
            return None
        for rid, spec in rows:
            try:
                by = json.loads(spec or "{}").get("by") or {}
            except ValueError:
                continue
            if by.get("pid") == pid:
                return rid
        return None

    def run_trajs(self, run):
        """{id: (status, sandbox_id)} of the run's deployments."""
        return {r[0]: (r[1], r[2]) for r in self.sql(
            "SELECT id, status, sandbox_id FROM trajectories WHERE run_id = ? ORDER BY id",
            (run,))}

    def run_row(self, run):
        rows = self.sql("SELECT status, ended_at, summary FROM runs WHERE id = ?", (run,))
        return rows[0] if rows else None


class DaemonCase(unittest.TestCase):
    NAME = "daemon"

    def setUp(self):
        self.env = DaemonEnv(self.NAME)

    def tearDown(self):
        bad = self.env.stop_all()
        self.env.close()
        self.assertEqual(bad, [])

    # helpers shared by the cases
    def wait_running(self, run, n, timeout=START_S):
        """Poll until the run has n deployments, all running with a sandbox."""
        def ok():
            t = self.env.run_trajs(run)
            return len(t) == n and all(s == "running" and sid for s, sid in t.values()) and t
        return poll(ok, timeout, "run %d's %d deployments to run" % (run, n))

    def wait_run_of(self, proc, timeout=START_S):
        """The run a foreground client launched, once the store has it."""
        def ok():
            if proc.poll() is not None:
                raise AssertionError("the client exited %d before launching:\n%s"
                                     % (proc.returncode, self.env.log_of(proc)))
            return self.env.run_of_pid(proc.pid)
        return poll(ok, timeout, "pid %d's run in the store" % proc.pid)

    def swarmdeck_wait(self, run, expect_rc, timeout=RUN_S):
        p = self.env.run("wait", str(run), timeout=timeout)
        out = p.stdout.decode(errors="replace")
        self.assertEqual(p.returncode, expect_rc, "wait %d: %s\n%s"
                         % (run, out, p.stderr.decode(errors="replace")))
        return out

    def sandbox_pids(self, sandbox_ids):
        """pids of swarmdeck-sandbox helpers of these sandboxes (pgrep on the command line)."""
        pids = []
        for sid in sandbox_ids:
            p = subprocess.run(["pgrep", "-f", "swarmdeck-sandbox --id %s " % sid],
                               capture_output=True, text=True)
            pids += [int(x) for x in p.stdout.split()]
        return [p for p in pids if alive(p)]


# --- 1. lifetimes --------------------------------------------------------------------------


class Lifetimes(DaemonCase):
    NAME = "daemon-life"

    def test_lifetimes(self):
        env = self.env
        old = os.umask(0)  # the modes must come from swarmdeck, not from our umask
        try:
            d = env.serve()
        finally:
            os.umask(old)
        v = env.wait_listening(d)
        self.assertEqual(v["protocol"], 1)
        self.assertEqual(v["pid"], d.pid)
        self.assertFalse(v["readonly"])
        self.assertEqual(os.path.realpath(v["store"]), os.path.realpath(env.db))

        # modes: the directory 0700, both sockets 0600, all ours
        st = os.lstat(env.sock_dir())
        self.assertTrue(stat.S_ISDIR(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700, oct(st.st_mode))
        self.assertEqual(st.st_uid, os.getuid())
        for ro in (False, True):
            st = os.lstat(env.sock(ro))
            self.assertTrue(stat.S_ISSOCK(st.st_mode), env.sock(ro))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, "%s: %o" % (env.sock(ro),
                                                                            st.st_mode))
        self.assertEqual(env.lock_pid(), d.pid)
        self.assertTrue(call(env.sock(True), "GET", "/v1/version")[1]["readonly"])

        # a second daemon on the same store: exit 2, naming the first one's pid
        p = env.run("serve", timeout=START_S)
        err = p.stderr.decode(errors="replace")
        self.assertEqual(p.returncode, 2, err)
        self.assertIn("pid %d" % d.pid, err)
        self.assertIsNone(d.poll(), "the first daemon died of the second")
        self.assertEqual(call(env.sock(), "GET", "/v1/version")[1]["pid"], d.pid)
        # ...and one detached (the parent reports the child's refusal)
        p = env.run("serve", "--detach", timeout=START_S)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(str(d.pid), p.stderr.decode(errors="replace"))

        # SIGHUP: ignored, the daemon keeps serving (its log says it saw it)
        d.send_signal(signal.SIGHUP)
        poll(lambda: "SIGHUP ignored" in env.log_of(d), START_S, "the daemon to see SIGHUP")
        self.assertIsNone(d.poll())
        self.assertEqual(call(env.sock(), "GET", "/v1/version")[1]["pid"], d.pid)

        # SIGTERM: stops, exit 0, the sockets removed, the lock free
        d.send_signal(signal.SIGTERM)
        self.assertEqual(d.wait(timeout=STOP_S), 0, env.log_of(d))
        self.assertFalse(os.path.exists(env.sock()), "socket left behind")
        self.assertFalse(os.path.exists(env.sock(True)), "read-only socket left behind")
        self.assertEqual(os.listdir(env.sock_dir()), [])

        # and the store can be served again at once
        d2 = env.serve()
        env.wait_listening(d2)


# --- 2. work outlives the client -----------------------------------------------------------


class Outlives(DaemonCase):
    NAME = "daemon-outlives"

    def test_detach_starts_daemon_then_wait(self):
        env = self.env
        self.assertEqual(env.lock_pid(), 0)
        self.assertFalse(os.path.exists(env.sock()))
        # capture_output: run() returning at all proves the daemon it started did not keep
        # our stdout/stderr pipes
        p = env.run("deploy", "--detach", "-s", "momentum", "-a", "3", "--pace", PACE,
                    timeout=START_S)
        out = p.stdout.decode(errors="replace")
        self.assertEqual(p.returncode, 0, out + p.stderr.decode(errors="replace"))
        m = re.search(r"^run (\d+)\b", out, re.M)
        self.assertTrue(m, "no `run N` in %r" % out)
        run = int(m.group(1))

        # a daemon was started on demand, detached (not a child of the deploy, which is gone)
        pid = env.lock_pid()
        self.assertGreater(pid, 0)
        env.pids.add(pid)
        self.assertTrue(alive(pid))
        argv = cmdline(pid)
        self.assertIn(b"serve", argv)
        self.assertIn(b"--on-demand", argv)
        self.assertEqual(env.wait_listening()["pid"], pid)
        log = os.path.join(env.state_dir, "swarmdeck", "serve.log")

        def logged():
            try:
                with open(log, "rb") as f:
                    return b"on demand" in f.read()
            except OSError:
                return False
        poll(logged, START_S, "the detached daemon's log")

        self.assertEqual(len(env.run_trajs(run)), 3)
        out = self.swarmdeck_wait(run, 0)
        self.assertIn("run %d: 3 succeeded, 0 failed" % run, out)
        trajs = env.run_trajs(run)
        self.assertEqual([s for s, _ in trajs.values()], ["succeeded"] * 3, trajs)
        status, ended, summary = env.run_row(run)
        self.assertEqual(status, "succeeded")
        self.assertIsNotNone(ended)
        self.assertEqual(json.loads(summary)["summary"], "run %d: 3 succeeded, 0 failed" % run)
        # waiting for an ended run returns at once, with the same answer
        self.assertIn("run %d: 3 succeeded, 0 failed" % run, self.swarmdeck_wait(run, 0, 60))
        self.assertTrue(alive(pid), "the on-demand daemon (idle-exit 300 s) exited already")

    def test_killed_clients_leave_work_running(self):
        env = self.env
        d = env.serve()
        env.wait_listening(d)
        hup = env.spawn("deploy", "-s", "momentum", "-a", "3", "--pace", PACE)
        kill = env.spawn("deploy", "-s", "momentum", "-a", "3", "--pace", PACE)
        runs = {}
        for name, proc in (("SIGHUP", hup), ("SIGKILL", kill)):
            runs[name] = self.wait_run_of(proc)
            self.wait_running(runs[name], 3)
        self.assertNotEqual(runs["SIGHUP"], runs["SIGKILL"])

        hup.send_signal(signal.SIGHUP)
        kill.send_signal(signal.SIGKILL)
        self.assertEqual(hup.wait(timeout=60), -signal.SIGHUP, env.log_of(hup))
        self.assertEqual(kill.wait(timeout=60), -signal.SIGKILL)
        for name in ("SIGHUP", "SIGKILL"):
            trajs = env.run_trajs(runs[name])
            # still running (the paced runs take about 21 s): nothing was cancelled
            self.assertNotIn("cancelled", [s for s, _ in trajs.values()],
                             "%s of the client cancelled its deployments: %r" % (name, trajs))
        self.assertIsNone(d.poll())
        for name in ("SIGHUP", "SIGKILL"):
            run = runs[name]
            out = self.swarmdeck_wait(run, 0)
            self.assertIn("run %d: 3 succeeded, 0 failed" % run, out, name)
            trajs = env.run_trajs(run)
            self.assertEqual([s for s, _ in trajs.values()], ["succeeded"] * 3,
                             "%s: %r" % (name, trajs))
        self.assertEqual(env.count("leases"), 0)

    def test_results_stored_when_client_returns(self):
        """A foreground deploy through the daemon returns only once its results are in the
        store (as the in-process one does), so a script can read them at once."""
        env = self.env
        d = env.serve()
        env.wait_listening(d)
        for i in range(10):
            p = env.run("deploy", "-s", "momentum", "-a", "4", "--symbol", "SPY",
                        "-p", '{"lookback":%d}' % (10 + i), timeout=RUN_S)
            out = p.stdout.decode(errors="replace")
            self.assertEqual(p.returncode, 0, out + p.stderr.decode(errors="replace"))
            self.assertIn("4 deployment(s): 4 succeeded, 0 did not", out)
            run = env.sql("SELECT max(id) FROM runs")[0][0]
            trajs = env.run_trajs(run)
            self.assertEqual([s for s, _ in trajs.values()], ["succeeded"] * 4,
                             "round %d: deploy returned before its results were stored: %r"
                             % (i, trajs))
            status, ended, _ = env.run_row(run)
            self.assertEqual((status, ended is not None), ("succeeded", True))
        self.assertIsNone(d.poll())

    def test_sigint_cancels_only_its_own(self):
        env = self.env
        d = env.serve()
        env.wait_listening(d)
        a = env.spawn("deploy", "-s", "momentum", "-a", "3", "--pace", PACE)
        b = env.spawn("deploy", "-s", "momentum", "-a", "2", "--pace", PACE)
        ra, rb = self.wait_run_of(a), self.wait_run_of(b)
        self.wait_running(ra, 3)
        self.wait_running(rb, 2)

        a.send_signal(signal.SIGINT)
        rc = a.wait(timeout=START_S)
        log = env.log_of(a)
        self.assertEqual(rc, 1, log)
        self.assertIn("cancelling 3 deployment(s)", log)
        self.assertIn("(cancelled)", log)
        ta = env.run_trajs(ra)
        self.assertEqual([s for s, _ in ta.values()], ["cancelled"] * 3, ta)
        # the other client's deployments were untouched: still running, and they succeed
        tb = env.run_trajs(rb)
        self.assertEqual([s for s, _ in tb.values()], ["running"] * 2, tb)
        self.assertIsNone(b.poll(), "the other client ended with the interrupted one")
        self.assertEqual(b.wait(timeout=RUN_S), 0, env.log_of(b))
        self.assertIn("2 deployment(s): 2 succeeded, 0 did not", env.log_of(b))
        tb = env.run_trajs(rb)
        self.assertEqual([s for s, _ in tb.values()], ["succeeded"] * 2, tb)
        # the interrupted run ended too, and wait says how
        out = self.swarmdeck_wait(ra, 1, 60)
        self.assertIn("run %d: 0 succeeded, 0 failed, 3 cancelled" % ra, out)
        self.assertIn("run %d: 2 succeeded, 0 failed" % rb, self.swarmdeck_wait(rb, 0, 60))


# --- 3. idle exit --------------------------------------------------------------------------


class IdleExit(DaemonCase):
    NAME = "daemon-idle"

    def test_on_demand_exits_plain_stays(self):
        env = self.env
        other = env.path("other.db")
        plain = env.serve(db=other)
        env.wait_listening(plain, db=other)
        od = env.serve("--on-demand", "--idle-exit", "1")
        env.wait_listening(od)

        # attached: a client on the event stream keeps it alive. The stream's bookmark comes
        # after 15 s without events, so reading one proves the daemon outlived its 1 s idle
        # limit while a client was attached.
        s = EventStream(env.sock(), 0, timeout=120)
        try:
            seen = []
            while True:
                _, ev = s.next()
                seen.append(ev)
                if ev.get("type") == "bookmark":
                    break
            self.assertIsNone(od.poll(), "exited with a client attached: %s" % env.log_of(od))
        finally:
            s.close()
        # detached: it exits by itself, cleanly, and removes its sockets
        self.assertEqual(od.wait(timeout=START_S), 0, env.log_of(od))
        self.assertIn("idle for 1 s with no client: exiting", env.log_of(od))
        self.assertFalse(os.path.exists(env.sock()))
        self.assertEqual(env.count("leases"), 0)

        # the plain daemon (same runtime dir) stays
        self.assertIsNone(plain.poll(), env.log_of(plain))
        self.assertEqual(call(env.sock(db=other), "GET", "/v1/version")[1]["pid"], plain.pid)
        plain.send_signal(signal.SIGTERM)
        self.assertEqual(plain.wait(timeout=STOP_S), 0, env.log_of(plain))

    def test_on_demand_waits_for_its_run(self):
        """An on-demand daemon does not exit while a run is going, even with no client."""
        env = self.env
        od = env.serve("--on-demand", "--idle-exit", "1")
        env.wait_listening(od)
        st, ans, raw = call(env.sock(), "POST", "/v1/deployments",
                            {"strategy": "momentum", "agents": 1, "pace": 1000,
                             "symbol": "SPY"})
        self.assertEqual(st, 201, raw)
        run = ans["run"]
        self.assertEqual(od.wait(timeout=RUN_S), 0, env.log_of(od))
        # it exited only after the run ended: the run is recorded as ended, succeeded
        trajs = env.run_trajs(run)
        self.assertEqual([s for s, _ in trajs.values()], ["succeeded"], trajs)
        status, ended, _ = env.run_row(run)
        self.assertEqual(status, "succeeded")
        self.assertIsNotNone(ended)


# --- 4. the protocol ----------------------------------------------------------------------


class Protocol(DaemonCase):
    NAME = "daemon-proto"

    def setUp(self):
        super().setUp()
        self.d = self.env.serve()
        self.env.wait_listening(self.d)
        self.rw, self.ro = self.env.sock(), self.env.sock(True)

    def assert_error(self, got, status, *words):
        st, obj, raw = got
        self.assertEqual(st, status, raw)
        self.assertIsInstance(obj, dict, raw)
        self.assertIsInstance(obj.get("error"), str, raw)
        for w in words:
            self.assertIn(w, obj["error"])
        return obj["error"]

    def assert_nothing_stored(self):
        self.assertEqual(self.env.count("runs"), 0)
        self.assertEqual(self.env.count("trajectories"), 0)
        st, obj, _ = call(self.rw, "GET", "/v1/status")
        self.assertEqual(st, 200)
        self.assertEqual(obj["deployments"], [])
        self.assertEqual(obj["counts"].get("queued", 0) + obj["counts"].get("running", 0), 0)

    def test_version_and_errors(self):
        st, v, raw = call(self.rw, "GET", "/v1/version")
        self.assertEqual(st, 200, raw)
        self.assertEqual(v["protocol"], 1)
        self.assertEqual(v["pid"], self.d.pid)
        self.assertIsInstance(v["version"], str)
        self.assertTrue(v["version"])

        # malformed JSON bodies
        self.assert_error(call(self.rw, "POST", "/v1/deployments", b'{"strategy": "mom'), 400,
                          "JSON")
        self.assert_error(call(self.rw, "POST", "/v1/deployments", b"\xff\xfe not json"), 400)
        self.assert_error(call(self.rw, "POST", "/v1/deployments", b'["momentum"]'), 400)
        self.assert_error(call(self.rw, "POST", "/v1/deployments",
                               b'{"strategy":"momentum","strategy":"x"}'), 400)
        self.assert_error(call(self.rw, "POST", "/v1/deployments",
                               {"strategy": "momentum", "agents": "3"}), 400, "agents")
        self.assert_error(call(self.rw, "GET", "/v1/events?since=-1"), 400)
        # unknown paths
        self.assert_error(call(self.rw, "GET", "/v1/nosuch"), 404)
        self.assert_error(call(self.rw, "GET", "/nosuch"), 404)
        self.assert_error(call(self.rw, "GET", "/v1/deployments/999"), 404)
        self.assert_error(call(self.rw, "GET", "/v1/deployments/0"), 404)
        self.assert_error(call(self.rw, "DELETE", "/v1/deployments"), 405)
        # another protocol version: 404 naming both
        err = self.assert_error(call(self.rw, "GET", "/v2/status"), 404)
        self.assertIn("v1", err)
        self.assertIn("v2", err)
        # a body over 1 MiB: 413, then the daemon still serves
        big = b'{"strategy":"momentum","description":"' + b"x" * (1 << 20) + b'"}'
        self.assert_error(call(self.rw, "POST", "/v1/deployments", big), 413)
        self.assertEqual(call(self.rw, "GET", "/v1/version")[0], 200)
        # exactly at the limit is not "too big" (it is a bad request for other reasons)
        edge = b" " * ((1 << 20) - 2) + b"{}"
        self.assertEqual(len(edge), 1 << 20)
        self.assert_error(call(self.rw, "POST", "/v1/deployments", edge), 400)
        self.assert_nothing_stored()
        self.assertIsNone(self.d.poll())

    def test_readonly_socket_refuses_changes(self):
        st, v, raw = call(self.ro, "GET", "/v1/version")
        self.assertEqual(st, 200, raw)
        self.assertTrue(v["readonly"])
        self.assertEqual(call(self.ro, "GET", "/v1/status")[0], 200)
        self.assert_error(call(self.ro, "POST", "/v1/deployments",
                               {"strategy": "momentum", "agents": 2}), 403, "read-only")
        self.assert_error(call(self.ro, "POST", "/v1/deployments/1/cancel"), 403, "read-only")
        self.assert_nothing_stored()

    def test_unknown_strategy_stores_nothing(self):
        self.assert_error(call(self.rw, "POST", "/v1/deployments",
                               {"strategy": "no-such-strategy", "agents": 3}), 400,
                          "no-such-strategy")
        # one bad entry in a list: none of the good ones is queued either
        self.assert_error(call(self.rw, "POST", "/v1/deployments",
                               {"deployments": [{"strategy": "momentum", "symbol": "SPY"},
                                                {"strategy": "no-such-strategy"}]}), 400)
        self.assert_nothing_stored()

    def test_client_hangs_up_mid_request(self):
        env = self.env
        head = (b"POST /v1/deployments HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n")
        partials = [
            head + b'{"strategy": "momentum", "age',            # half a body
            head,                                               # headers, no body
            head[:30],                                          # half the headers
            b"GET /v1/events?since=0 HTTP/1.1\r\nHost: x\r\n\r\n",  # a stream, dropped
        ]
        for i in range(5):
            for msg in partials:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(30)
                s.connect(self.rw)
                s.sendall(msg)
                if i % 2:
                    # an abortive close: unread data in our buffer, then gone
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
        # a stream the daemon had started answering (the answer's head read), then dropped:
        # its thread waits for events, so the daemon notices on its next write (an event or
        # the 15 s bookmark)
        for _ in range(3):
            EventStream(self.rw, 0, timeout=30).close()
        # still serving, nothing launched, and every dropped connection let go (the status
        # request itself is the only client left)
        self.assertIsNone(self.d.poll(), env.log_of(self.d))
        self.assertEqual(call(self.rw, "GET", "/v1/version")[1]["pid"], self.d.pid)
        poll(lambda: call(self.rw, "GET", "/v1/status")[1]["clients"] == 1, START_S,
             "the daemon to let go of the dropped connections")
        self.assert_nothing_stored()
        # and a whole request after all that works
        st, ans, raw = call(self.rw, "POST", "/v1/deployments",
                            {"strategy": "momentum", "symbol": "SPY"})
        self.assertEqual(st, 201, raw)
        self.assertIn("run %d: 1 succeeded, 0 failed" % ans["run"],
                      self.swarmdeck_wait(ans["run"], 0))

    def test_other_uid_refused(self):
        if os.geteuid() != 0:
            self.skipTest("needs root: the test switches a child to uid %d to be a peer of "
                          "another uid" % NOBODY)
        env = self.env
        # Open the door that the modes normally keep shut, so that only the daemon's own peer
        # check stands between uid 65534 and the API.
        os.chmod(os.path.dirname(env.sock_dir()), 0o711)
        os.chmod(env.sock_dir(), 0o755)
        for ro in (False, True):
            os.chmod(env.sock(ro), 0o666)
        for ro in (False, True):
            for method, path, body in (("GET", "/v1/version", None),
                                       ("POST", "/v1/deployments",
                                        {"strategy": "momentum", "agents": 1})):
                if ro and method == "POST":
                    continue
                got = self.as_nobody(env.sock(ro), method, path, body)
                self.assertNotIn("exception", got, got)
                self.assertEqual(got["status"], 403, got)
                self.assertIn("uid %d" % NOBODY, json.loads(got["body"])["error"], got)
        self.assert_nothing_stored()
        self.assertEqual(call(self.rw, "GET", "/v1/version")[0], 200)

    def as_nobody(self, sock, method, path, body):
        """Make the request from a forked child running as uid 65534; its answer as a dict."""
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                out = {}
                try:
                    os.setgroups([])
                    os.setgid(NOBODY)
                    os.setuid(NOBODY)
                    st, raw = raw_request(sock, method, path, body)
                    out = {"status": st, "body": raw.decode(errors="replace"),
                           "uid": os.getuid()}
                except BaseException as e:  # noqa: B902 - reported to the parent
                    out = {"exception": repr(e)}
                os.write(w, json.dumps(out).encode())
            finally:
                os._exit(0)
        os.close(w)
        with os.fdopen(r, "rb") as f:
            data = f.read()
        os.waitpid(pid, 0)
        got = json.loads(data)
        if "uid" in got:
            self.assertEqual(got["uid"], NOBODY)
        return got


# --- 5. events -----------------------------------------------------------------------------


class Events(DaemonCase):
    NAME = "daemon-events"

    def test_resume_no_gap_no_duplicate(self):
        env = self.env
        d = env.serve()
        env.wait_listening(d)
        sock = env.sock(True)  # watching is read-only work
        base = call(sock, "GET", "/v1/status")[1]["seq"]

        # one uninterrupted stream, in a thread, until the run's event
        whole, done = [], threading.Event()
        failure = []

        def follow():
            try:
                s = EventStream(sock, base, timeout=120)
                try:
                    while True:
                        line, ev = s.next()
                        if ev.get("type") == "bookmark":
                            continue
                        whole.append(line)
                        if ev.get("type") == "run":
                            break
                finally:
                    s.close()
            except BaseException as e:  # noqa: B902 - reported below
                failure.append(repr(e))
            finally:
                done.set()
        t = threading.Thread(target=follow, daemon=True)
        t.start()

        st, ans, raw = call(env.sock(), "POST", "/v1/deployments",
                            {"strategy": "momentum", "agents": 2, "pace": int(PACE),
                             "symbol": "SPY"})
        self.assertEqual(st, 201, raw)
        run = ans["run"]
        self.assertGreaterEqual(ans["seq"], base)

        # the same stream read 3 events at a time, reconnecting from the last number seen
        pieces, last, conns, during = [], base, 0, 0
        deadline = time.monotonic() + RUN_S
        ended = False
        while not ended:
            self.assertLess(time.monotonic(), deadline, "the run did not end")
            s = EventStream(sock, last, timeout=120)
            conns += 1
            if not done.is_set():
                during += 1
            try:
                got = 0
                while got < 3:
                    line, ev = s.next()
                    if ev.get("type") == "bookmark":
                        self.assertEqual(ev["seq"], last, "a bookmark carries the newest number")
                        continue
                    self.assertNotEqual(ev.get("type"), "resync",
                                        "resync from seq %d, which the daemon handed out" % last)
                    self.assertEqual(ev["seq"], last + 1, "gap or duplicate after %d" % last)
                    pieces.append(line)
                    last = ev["seq"]
                    got += 1
                    if ev.get("type") == "run":
                        ended = True
                        break
            finally:
                s.close()
        self.assertTrue(done.wait(RUN_S), "the uninterrupted stream never saw the run end")
        t.join(10)
        self.assertEqual(failure, [])

        seqs = [json.loads(x)["seq"] for x in whole]
        self.assertEqual(seqs, list(range(base + 1, base + 1 + len(seqs))),
                         "the uninterrupted stream has a gap or a duplicate")
        self.assertEqual(pieces, whole, "reconnecting changed the sequence")
        self.assertGreater(conns, 20)
        self.assertGreater(during, 10, "too few reconnects while the run was going")

        evs = [json.loads(x) for x in whole]
        types = {e["type"] for e in evs}
        self.assertTrue({"state", "progress", "run"} <= types, types)
        for e in evs:
            self.assertIsInstance(e["type"], str)
            if "id" in e:
                self.assertIn(e["id"], ans["ids"])
        states = {}
        for e in evs:
            if e["type"] == "state":
                states.setdefault(e["id"], []).append(e["state"])
        self.assertEqual(sorted(states), sorted(ans["ids"]))
        for i, ss in states.items():
            self.assertEqual(ss[-1], "succeeded", (i, ss))
        runev = evs[-1]
        self.assertEqual(runev["type"], "run")
        self.assertEqual(runev["run"], run)
        self.assertEqual(runev["status"], "succeeded")
        self.assertEqual((runev["succeeded"], runev["failed"], runev["cancelled"]), (2, 0, 0))
        self.assertEqual(runev["summary"], "run %d: 2 succeeded, 0 failed" % run)
        # the run's end is in the store by the time its event is out
        status, ended_at, summary = env.run_row(run)
        self.assertEqual(status, "succeeded")
        self.assertIsNotNone(ended_at)
        self.assertEqual(json.loads(summary)["summary"], runev["summary"])

    def test_ten_thousand_reconnects(self):
        """10,000 reconnects while deployments run: each connection reads what arrives in a
        few milliseconds (cut anywhere, a partial line included) and the next resumes from
        the last whole event. Together they must be the uninterrupted stream: no gap, no
        duplicate, no resync."""
        env = self.env
        d = env.serve()
        env.wait_listening(d)
        ro, rw = env.sock(True), env.sock()
        base = call(ro, "GET", "/v1/status")[1]["seq"]

        def launch():
            st, ans, raw = call(rw, "POST", "/v1/deployments",
                                {"strategy": "momentum", "agents": 4, "pace": 3000,
                                 "symbol": "SPY"})
            self.assertEqual(st, 201, raw)
            return ans["run"]

        def piece(since):
            """One connection: the whole event lines it got before it was dropped."""
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(ro)
            # HTTP/1.0: the body is the bare stream, no chunk framing to cut through.
            s.sendall(b"GET /v1/events?since=%d HTTP/1.0\r\nHost: d\r\n\r\n" % since)
            s.settimeout(0.003)
            buf = b""
            try:
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    buf += b
            except socket.timeout:
                pass
            finally:
                s.close()
            head, sep, body = buf.partition(b"\r\n\r\n")
            if sep and not head.startswith(b"HTTP/1.0 200") and not head.startswith(b"HTTP/1.1 200"):
                raise AssertionError("events: %r" % head[:80])
            return body.split(b"\n")[:-1]  # the last piece is partial (or empty)

        run, ended_runs = launch(), 0
        last, pieces, reconnects, busy = base, [], 0, 0
        while reconnects < 10000:
            got = piece(last)
            reconnects += 1
            busy += bool(got)
            for line in got:
                ev = json.loads(line)
                if ev.get("type") == "bookmark":
                    continue
                self.assertNotEqual(ev.get("type"), "resync", "resync after %d" % last)
                self.assertEqual(ev["seq"], last + 1, "gap or duplicate after %d" % last)
                pieces.append(line + b"\n")
                last = ev["seq"]
                if ev.get("type") == "run" and ev.get("run") == run:
                    ended_runs += 1
                    run = launch()
        # the reference: one uninterrupted stream from the same start to the same end
        whole = []
        s = EventStream(ro, base, timeout=120)
        try:
            while len(whole) < len(pieces):
                line, ev = s.next()
                if ev.get("type") != "bookmark":
                    whole.append(line)
        finally:
            s.close()
        self.assertEqual(pieces, whole, "reconnecting changed the sequence")
        self.assertGreater(busy, 1000, "too few connections carried events: not under load")
        print("10,000 reconnects: %d events, %d connection(s) carried events, %d run(s) ended"
              % (len(pieces), busy, ended_runs))
        call(rw, "POST", "/v1/cancel", {"all": True})

    def test_since_in_the_future_resyncs(self):
        env = self.env
        d = env.serve()
        env.wait_listening(d)
        now = call(env.sock(), "GET", "/v1/status")[1]["seq"]
        s = EventStream(env.sock(True), 10 ** 12, timeout=120)
        try:
            _, ev = s.next()
            self.assertEqual(ev["type"], "resync", ev)
            self.assertEqual(ev["seq"], now)
            # after a resync the stream goes on from the newest number, with the next run's
            # events, ending with its "run" event
            st, ans, raw = call(env.sock(), "POST", "/v1/deployments",
                                {"strategy": "momentum", "symbol": "SPY"})
            self.assertEqual(st, 201, raw)
            last = ev["seq"]
            while True:
                _, ev = s.next()
                if ev["type"] == "bookmark":
                    continue
                self.assertEqual(ev["seq"], last + 1)
                last = ev["seq"]
                if ev["type"] == "run":
                    break
            self.assertEqual(ev["run"], ans["run"])
            self.assertEqual(ev["summary"], "run %d: 1 succeeded, 0 failed" % ans["run"])
        finally:
            s.close()
        # a number just past the newest also resyncs; the newest itself does not
        last = call(env.sock(), "GET", "/v1/status")[1]["seq"]
        s = EventStream(env.sock(True), last + 1, timeout=120)
        try:
            self.assertEqual(s.next()[1], {"seq": last, "type": "resync"})
        finally:
            s.close()


# --- 6. crash ------------------------------------------------------------------------------


class Crash(DaemonCase):
    NAME = "daemon-crash"

    def test_kill9_daemon(self):
        env = self.env
        d = env.serve()
        env.wait_listening(d)
        p = env.run("deploy", "--detach", "-s", "momentum", "-a", "3", "--pace", PACE,
                    check=0, timeout=START_S)
        run = int(re.search(rb"^run (\d+)\b", p.stdout, re.M).group(1))
        trajs = self.wait_running(run, 3)
        sids = [sid for _, sid in trajs.values()]
        # the sandboxes are there (so their absence later means something)
        poll(lambda: len(set(self.sandbox_pids(sids))) >= 3, START_S, "the sandbox helpers")
        self.assertTrue(env.leftovers())
        self.assertEqual(env.count("leases"), 3)

        d.kill()
        self.assertEqual(d.wait(timeout=60), -signal.SIGKILL)
        # the lifeline: every sandbox of the run dies with its daemon
        poll(lambda: not self.sandbox_pids(sids), START_S,
             "the sandboxes of run %d to die with the daemon" % run)
        poll(lambda: not env.leftovers(), START_S, "every sandbox process to die")
        # nobody recovered yet: the store still says running, the leases are still there
        self.assertEqual([s for s, _ in env.run_trajs(run).values()], ["running"] * 3)

        # a new daemon recovers the store before it listens
        d2 = env.serve()
        env.wait_listening(d2)
        trajs = env.run_trajs(run)
        self.assertEqual([s for s, _ in trajs.values()], ["interrupted"] * 3, trajs)
        self.assertEqual(env.sql("SELECT sandbox_id, pid FROM leases"), [])
        self.assertEqual(env.sql("PRAGMA integrity_check"), [("ok",)])
        # and the new daemon works
        st, ans, raw = call(env.sock(), "POST", "/v1/deployments",
                            {"strategy": "momentum", "symbol": "SPY"})
        self.assertEqual(st, 201, raw)
        self.assertIn("run %d: 1 succeeded, 0 failed" % ans["run"],
                      self.swarmdeck_wait(ans["run"], 0))

    def wait_after_daemon_stops(self, sig, outcome):
        """`swarmdeck wait` on a run whose daemon stopped (sig) mid-run, with a new daemon
        serving the store: a wait that was already waiting and one started afterwards must
        both end (the run failed: its deployments ended `outcome`), not hang."""
        env = self.env
        d = env.serve()
        env.wait_listening(d)
        st, ans, raw = call(env.sock(), "POST", "/v1/deployments",
                            {"strategy": "momentum", "agents": 2, "pace": int(PACE),
                             "symbol": "SPY"})
        self.assertEqual(st, 201, raw)
        run = ans["run"]
        self.wait_running(run, 2)
        early = env.spawn("wait", str(run))
        # the early wait is attached (watching the daemon's stream) before the daemon stops
        poll(lambda: call(env.sock(), "GET", "/v1/status")[1]["clients"] >= 2, START_S,
             "the early wait to attach")
        d.send_signal(sig)
        d.wait(timeout=STOP_S)
        poll(lambda: not env.leftovers(), START_S, "the run's sandboxes to go")
        d2 = env.serve()
        env.wait_listening(d2)
        trajs = env.run_trajs(run)
        self.assertEqual([s for s, _ in trajs.values()], [outcome] * 2, trajs)
        want = "run %d: 0 succeeded, 0 failed, 2 cancelled" % run
        self.assertIn(want, self.swarmdeck_wait(run, 1, timeout=120))
        self.assertEqual(early.wait(timeout=120), 1, env.log_of(early))
        self.assertIn(want, env.log_of(early))

    def test_wait_after_kill9(self):
        self.wait_after_daemon_stops(signal.SIGKILL, "interrupted")

    def test_wait_after_sigterm(self):
        self.wait_after_daemon_stops(signal.SIGTERM, "cancelled")


# --- 7. --on-finish ------------------------------------------------------------------------


class OnFinish(DaemonCase):
    NAME = "daemon-finish"

    def test_on_finish_gets_summary(self):
        env = self.env
        out = env.path("finished with space.json")
        d = env.serve("--on-finish", "cat > %s" % shlex.quote(out))
        env.wait_listening(d)
        p = env.run("deploy", "--detach", "-s", "momentum", "-a", "2", "--symbol", "SPY",
                    check=0, timeout=START_S)
        run = int(re.search(rb"^run (\d+)\b", p.stdout, re.M).group(1))

        def summary():
            try:
                with open(out) as f:
                    return json.loads(f.read())
            except (OSError, ValueError):
                return None  # not there yet, or cat still writing
        got = poll(summary, RUN_S, "the --on-finish hook's file")
        self.assertEqual(got["type"], "run")
        self.assertEqual(got["run"], run)
        self.assertEqual(got["status"], "succeeded")
        self.assertEqual((got["succeeded"], got["failed"], got["cancelled"]), (2, 0, 0))
        self.assertEqual(got["summary"], "run %d: 2 succeeded, 0 failed" % run)
        # the same summary the store keeps for the run
        self.assertEqual(json.loads(env.run_row(run)[2]), got)
        self.assertIn("run %d: 2 succeeded, 0 failed" % run, self.swarmdeck_wait(run, 0))


# --- 8. attribution -----------------------------------------------------------------------


class Attribution(DaemonCase):
    NAME = "daemon-attrib"

    def test_mutations_attributed_in_operations(self):
        """Who launched and who cancelled (pid and uid from SO_PEERCRED, user, tty) are in
        the deployment's operations, as `show --json` reads them from the store."""
        env = self.env
        d = env.serve()
        env.wait_listening(d)
        tty = {"X-Swarmdeck-Tty": "pts/attrib"}
        st, ans, raw = call(env.sock(), "POST", "/v1/deployments",
                            {"strategy": "momentum", "agents": 1, "pace": int(PACE),
                             "symbol": "SPY"}, headers=tty)
        self.assertEqual(st, 201, raw)
        dep = ans["ids"][0]
        poll(lambda: call(env.sock(), "GET", "/v1/deployments/%d" % dep)[1]["deployment"]
             ["state"] == "running", START_S, "the deployment to run")
        st, _, raw = call(env.sock(), "POST", "/v1/cancel", {"ids": [dep]}, headers=tty)
        self.assertEqual(st, 200, raw)
        poll(lambda: call(env.sock(), "GET", "/v1/deployments/%d" % dep)[1]["deployment"]
             ["state"] == "cancelled", RUN_S, "the cancel")
        p = env.run("--no-daemon", "show", str(dep), "--json", check=0)
        ops = {o["name"]: o for o in json.loads(p.stdout)["operations"]}
        me = "pid %d uid %d user %s tty " % (os.getpid(), os.getuid(),
                                            pwd.getpwuid(os.getuid()).pw_name)
        for name in ("submit", "cancel"):
            self.assertIn(name, ops, sorted(ops))
            self.assertTrue(ops[name]["detail"].startswith(me), ops[name])
            self.assertTrue(ops[name]["detail"].endswith(" tty pts/attrib"), ops[name])

    def test_cleanup_all_goes_through_the_daemon(self):
        """`cleanup --all` beside a daemon: the daemon cancels what it runs (attributed to the
        cleanup's process), nothing is left interrupted behind its back, and it keeps
        serving."""
        env = self.env
        d = env.serve()
        env.wait_listening(d)
        st, ans, raw = call(env.sock(), "POST", "/v1/deployments",
                            {"strategy": "momentum", "agents": 2, "pace": int(PACE),
                             "symbol": "SPY"})
        self.assertEqual(st, 201, raw)
        ids = ans["ids"]
        poll(lambda: call(env.sock(), "GET", "/v1/status")[1]["counts"]["running"] == 2,
             START_S, "both to run")
        p = env.run("cleanup", "--all", "--json", check=0)
        got = json.loads(p.stdout)
        self.assertEqual(got["daemonCancelled"], 2, got)
        for i in ids:
            v = call(env.sock(), "GET", "/v1/deployments/%d" % i)[1]["deployment"]
            self.assertEqual(v["state"], "cancelled", v)
            p = env.run("--no-daemon", "show", str(i), "--json", check=0)
            ops = [o for o in json.loads(p.stdout)["operations"] if o["name"] == "cancel"]
            self.assertEqual(len(ops), 1, ops)
        self.assertEqual(call(env.sock(), "GET", "/v1/version")[0], 200)


# --- 9. jobs: a benchmark run by the daemon ------------------------------------------------


class Jobs(DaemonCase):
    NAME = "daemon-jobs"

    def scenario(self, agents, iterations):
        path = self.env.path("tiny.scenarios.json")
        with open(path, "w") as f:
            json.dump({"thresholds": {"maxLatencyMs": 600000, "minThroughput": 0},
                       "scenarios": [{"name": "tiny", "agents": agents, "iterations": iterations,
                                      "strategies": ["momentum"]}]}, f)
        return path

    def test_benchmark_runs_in_the_daemon(self):
        """`benchmark` beside a daemon runs as the daemon's job: its report is printed and
        written where the command was started (a relative -o), with the same exit status."""
        env = self.env
        d = env.serve()
        env.wait_listening(d)
        p = env.run("benchmark", "-f", self.scenario(2, 1), "-o", "rel-out", check=0)
        self.assertIn(b"running in the daemon (job 1)", p.stderr)
        self.assertIn(b"tiny", p.stdout)
        files = os.listdir(env.path("rel-out"))
        self.assertEqual(len(files), 5, files)
        self.assertIn("job 1 (benchmark) started", env.log_of(d))
        st, log, raw = call(env.sock(), "GET", "/v1/jobs/1/log?from=0")
        self.assertEqual(st, 200, raw)
        self.assertTrue(log["ended"])
        self.assertEqual(log["exitCode"], 0)
        # bad input is refused by the daemon as it would be in process
        refused = call(env.sock(), "POST", "/v1/jobs",
                       {"command": "rm", "args": ["-rf", "/"], "cwd": "/"})
        self.assertEqual(refused[0], 400, refused)
        self.assertEqual(call(env.sock(True), "POST", "/v1/jobs",
                              {"command": "benchmark", "args": [], "cwd": "/"})[0], 403)

    def test_benchmark_outlives_its_terminal(self):
        """SIGHUP to the client (its terminal gone) leaves the benchmark running in the
        daemon: its report files appear all the same."""
        env = self.env
        d = env.serve()
        env.wait_listening(d)
        out = env.path("out")
        c = env.popen("benchmark", "-f", self.scenario(3, 4), "-o", out)
        head = b""
        while b"running in the daemon" not in head:
            line = c.stderr.readline()
            self.assertTrue(line, "the client ended before the job started")
            head += line
        c.send_signal(signal.SIGHUP)
        c.wait(30)
        self.assertNotEqual(c.returncode, 0)  # the client died of it
        poll(lambda: call(env.sock(), "GET", "/v1/jobs/1/log?from=0")[1]["ended"], RUN_S,
             "the benchmark job to end")
        self.assertEqual(len(os.listdir(out)), 5)
        self.assertEqual(call(env.sock(), "GET", "/v1/jobs/1/log?from=0")[1]["exitCode"], 0)


if __name__ == "__main__":
    unittest.main()
