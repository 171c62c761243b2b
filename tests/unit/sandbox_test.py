#!/usr/bin/env python3
"""sandbox_test.py: end-to-end tests of the swarmdeck-sandbox helper (python3 stdlib only).

Each test starts the helper exactly as the engine does (a child process with stdout/stderr pipes
and a status fd), runs one fixture payload from tests/fixtures/payloads (bound read-only at /fx)
and asserts the exit status and the JSON status events. After every run it also asserts
containment: no process is left whose uid lies in the run's outside uid range, and none of the
run's cgroups remain. Every run uses a unique sandbox id and a unique --uid-base derived from
this process's pid, so the tests run in parallel with each other and with other suites.

No assertion depends on timing: waits are bounded only to turn a hang into a failure.

Usage: sandbox_test.py --helper PATH --fixtures DIR TEST...
"""
import argparse
import glob
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HELPER = None
FIX = None
BASE = 1_000_000 + (os.getpid() % 50000) * 65536
FEATURES = ["userns", "uidmap", "pidns", "mntns", "netns", "ipcns", "utsns", "cgroupns",
            "seccomp", "nnp", "cg-memory", "cg-cpu", "cg-pids", "cg-track", "disk-cap"]
_seq = [0]


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def new_id(tag):
    _seq[0] += 1
    return "t%d-%s-%d" % (os.getpid(), tag, _seq[0])


def procs_in_range(base=BASE):
    """Pids of processes whose real uid lies in [base, base+65536)."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/status" % d) as f:
                for line in f:
                    if line.startswith("Uid:"):
                        uid = int(line.split()[1])
                        if base <= uid < base + 65536:
                            found.append(int(d))
                        break
        except OSError:
            pass
    return found


def cgroup_dirs(sid):
    return glob.glob("/sys/fs/cgroup/*/swarmdeck/sbx-%s" % sid)


class Run:
    """One helper invocation. The status fd is read by a thread; stdout by the caller's
    choice: collected (default), counted without storing (count=True) or left unread."""

    def __init__(self, payload, opts=(), tag="run", env=None, stdout="collect", workdir=None,
                 pass_fds=(), use_fix=True, start=True):
        self.id = new_id(tag)
        self.workdir = workdir or tempfile.mkdtemp(prefix="sbxtest-")
        self.own_workdir = workdir is None
        r, w = os.pipe()
        cmd = [HELPER, "--id", self.id, "--workdir", self.workdir, "--uid-base", str(BASE),
               "--status-fd", str(w)]
        if use_fix:
            cmd += ["--ro-bind", "%s:/fx" % FIX]
        cmd += list(opts) + ["--"] + list(payload)
        e = dict(os.environ)
        e.pop("SWARMDECK_SANDBOX_DISABLE", None)
        e.update(env or {})
        self.events = []
        self.started = threading.Event()
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  pass_fds=(w,) + tuple(pass_fds), env=e)
        os.close(w)
        self.status_r = r
        self.t = threading.Thread(target=self._status, daemon=True)
        self.t.start()
        self.out = b""
        self.err = b""
        self.nbytes = 0
        self.mode = stdout
        self.readers = []
        if stdout in ("collect", "count"):
            self.readers.append(threading.Thread(target=self._stdout, daemon=True))
        self.readers.append(threading.Thread(target=self._stderr, daemon=True))
        for t in self.readers:
            t.start()

    def _status(self):
        buf = b""
        while True:
            d = os.read(self.status_r, 65536)
            if not d:
                break
            buf += d
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                ev = json.loads(line)
                self.events.append(ev)
                if ev.get("event") in ("started", "exit", "error"):
                    self.started.set()
        os.close(self.status_r)
        self.started.set()

    def _stdout(self):
        while True:
            d = self.p.stdout.read1(1 << 20) if hasattr(self.p.stdout, "read1") else \
                self.p.stdout.read(1 << 20)
            if not d:
                break
            if self.mode == "count":
                self.nbytes += len(d)
            else:
                self.out += d

    def _stderr(self):
        self.err = self.p.stderr.read()

    def wait_started(self):
        check(self.started.wait(60), "no started event")
        return self.event("started")

    def finish(self, timeout=90):
        try:
            self.rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise Fail("helper did not exit")
        self.t.join(30)
        for t in self.readers:
            t.join(30)
        if self.mode == "none":
            self.p.stdout.close()
        self.stdout = self.out.decode(errors="replace")
        # Containment: nothing of the sandbox survives the helper.
        left = procs_in_range()
        check(not left, "processes left in the sandbox uid range: %s" % left)
        cg = cgroup_dirs(self.id)
        check(not cg, "cgroups left: %s" % cg)
        if self.own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return self

    def event(self, kind):
        for e in self.events:
            if e.get("event") == kind:
                return e
        return None

    def exit_event(self):
        ex = self.event("exit")
        check(ex is not None, "no exit event: %r / %r" % (self.events, self.err))
        check(self.events[-1] is ex, "exit event is not last")
        st = self.events[0]
        check(st.get("event") == "started", "first event is not started: %r" % st)
        return ex


def run(payload, opts=(), **kw):
    return Run(payload, opts, **kw).finish()


def fx(name):
    return "/fx/" + name


def probe_level():
    out = subprocess.run([HELPER, "--probe", "--json"], capture_output=True, text=True)
    return json.loads(out.stdout)["level"]


# ---- tests ---------------------------------------------------------------------------------

def test_good():
    r = run([fx("good")], tag="good")
    check(r.rc == 0, "rc %d: %r" % (r.rc, r.err))
    ex = r.exit_event()
    check(ex["code"] == 0 and ex["signal"] is None and not ex["timeout"] and not ex["oom"],
          "exit event %r" % ex)
    st = r.events[0]
    check(sorted(st["isolation"]) == sorted(FEATURES), "isolation keys %r" % st["isolation"])
    check(st["level"] == probe_level(), "level %s vs probe" % st["level"])
    check(isinstance(st["pid"], int) and st["pid"] > 0, "pid %r" % st["pid"])
    check("cwd /work" in r.stdout, r.stdout)
    check("root 30 usr 30 tmp 0" in r.stdout, "ro root / rw tmp: " + r.stdout)  # 30 = EROFS
    check("uid 1000 gid 1000" in r.stdout, r.stdout)
    for k in ("mem_peak_kb", "cpu_ms", "wall_ms"):
        check(isinstance(ex[k], int) and ex[k] >= 0, "%s %r" % (k, ex[k]))


def test_exit7():
    r = run([fx("exit7")], tag="exit7")
    check(r.rc == 7, "rc %d" % r.rc)
    check(r.exit_event()["code"] == 7, "exit event %r" % r.events)


def test_not_found():
    r = run(["/fx/does-not-exist"], tag="nf")
    check(r.rc == 127, "rc %d" % r.rc)
    r = run(["no-such-program-anywhere"], tag="nf2")
    check(r.rc == 127, "rc %d" % r.rc)


def test_not_executable():
    wd = tempfile.mkdtemp(prefix="sbxtest-")
    with open(os.path.join(wd, "data.txt"), "w") as f:
        f.write("not a program\n")
    r = Run(["/work/data.txt"], tag="nx", workdir=wd).finish()
    shutil.rmtree(wd)
    check(r.rc == 126, "rc %d" % r.rc)


def test_visible_root():
    r = run([fx("readhost"), "ls:/", "ls:/dev"], tag="root")
    check(r.rc == 0, "rc %d %r" % (r.rc, r.err))
    root = {l.split()[2] for l in r.stdout.splitlines() if l.startswith("ENT / ")}
    want = {"bin", "dev", "lib", "proc", "sbin", "tmp", "usr", "work", "fx"}
    if os.path.exists("/usr/lib64"):
        want.add("lib64")
    check(root == want, "/ has %s, want %s" % (sorted(root), sorted(want)))
    dev = {l.split()[2] for l in r.stdout.splitlines() if l.startswith("ENT /dev ")}
    check(dev == {"null", "zero", "urandom", "fd", "stdin", "stdout", "stderr"}, "/dev %s" % dev)


def test_shell_payload():
    r = run(["/fx/listroot.sh"], tag="sh")
    check(r.rc == 0, "rc %d %r" % (r.rc, r.err))
    check("usr" in r.stdout.split() and "etc" not in r.stdout.split(), r.stdout)
    check("host sbx-%s" % r.id in r.stdout, r.stdout)


def test_read_host():
    secret_dir = tempfile.mkdtemp(prefix="sbxsecret-")
    secret = os.path.join(secret_dir, "secret.txt")
    with open(secret, "w") as f:
        f.write("TOPSECRET-%d\n" % os.getpid())
    host1 = open("/proc/1/cmdline", "rb").read().split(b"\0")[0].decode()
    r = run([fx("readhost"), "/etc/passwd", "/etc/shadow", "/root", "ls:/root", "ls:/home",
             "ls:/var", secret, "ls:" + secret_dir, "/proc/1/environ", "/proc/1/cmdline"],
            tag="read")
    shutil.rmtree(secret_dir)
    check(r.rc == 0, "rc %d" % r.rc)
    check("TOPSECRET" not in r.stdout, "secret leaked: " + r.stdout)
    for p in ("/etc/passwd", "/etc/shadow", "/root", "ls:/root", "ls:/home", "ls:/var", secret,
              "ls:" + secret_dir):
        check("ERR %s 2\n" % p in r.stdout, "%s readable or not ENOENT: %s" % (p, r.stdout))
    # /proc is the sandbox's own: PID 1 is the sandbox init, never the host's init.
    check(host1 not in r.stdout or host1.endswith("swarmdeck-sandbox"),
          "host init visible: " + r.stdout)


def _listener():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    s.setblocking(False)
    return s


def test_connect_host():
    s = _listener()
    r = run([fx("connect"), str(s.getsockname()[1])], tag="net")
    check(r.rc == 3, "rc %d: %s" % (r.rc, r.stdout))
    check("FAIL connect" in r.stdout, r.stdout)
    check(not select.select([s], [], [], 0)[0], "the host listener got a connection")
    check(r.events[0]["isolation"]["netns"] == "on", r.events[0])


def test_connect_no_netns():
    s = _listener()
    r = run([fx("connect"), str(s.getsockname()[1])], tag="net2",
            env={"SWARMDECK_SANDBOX_DISABLE": "netns"})
    check(r.rc == 3, "rc %d: %s" % (r.rc, r.stdout))
    check("FAIL socket 1" in r.stdout, "seccomp fallback should deny inet sockets: " + r.stdout)
    check(not select.select([s], [], [], 0)[0], "the host listener got a connection")
    iso = r.events[0]["isolation"]
    check(iso["netns"].startswith("degraded:"), iso["netns"])
    check(r.events[0]["level"] == "degraded", r.events[0]["level"])


def test_seccomp_denials():
    r = run([fx("syscalls")], tag="sc")
    check(r.rc == 0, "rc %d" % r.rc)
    res = {}
    for l in r.stdout.splitlines():
        parts = l.split()
        if len(parts) == 3 and parts[1].lstrip("-").isdigit():
            res[parts[0]] = (int(parts[1]), int(parts[2]))
    for name in ("unshare", "clone_newuser", "ptrace", "bpf", "io_uring_setup", "keyctl",
                 "mount"):
        check(res.get(name) == (-1, 1), "%s not denied with EPERM: %r" % (name, res.get(name)))
    check(res.get("clone3") == (-1, 38), "clone3 should be ENOSYS: %r" % (res.get("clone3"),))
    caps = {l.split(":")[0]: l.split(":")[1].strip() for l in r.stdout.splitlines() if ":" in l}
    for c in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        check(int(caps[c], 16) == 0, "%s = %s" % (c, caps[c]))
    check(caps["NoNewPrivs"] == "1" and caps["Seccomp"] == "2", repr(caps))


def test_fork_bomb():
    r = run([fx("forkbomb")], ["--pids", "64", "--timeout-ms", "1500", "--grace-ms", "300",
                               "--cpus", "0.5", "--sample-ms", "100"], tag="bomb")
    check(r.rc == 124, "rc %d" % r.rc)
    ex = r.exit_event()
    check(ex["timeout"] is True, repr(ex))
    samples = [e for e in r.events if e["event"] == "sample"]
    check(samples, "no samples")
    check(all(e["pids"] is None or e["pids"] <= 64 for e in samples),
          "pids above the limit: %r" % [e["pids"] for e in samples])


def test_oom():
    r = run([fx("alloc"), "512"], ["--memory-mb", "64"], tag="oom")
    ex = r.exit_event()
    check(r.rc == 137, "rc %d: %s %r" % (r.rc, r.stdout, ex))
    check(ex["signal"] == 9 and ex["oom"] is True, repr(ex))
    check(ex["mem_peak_kb"] <= 64 * 1024 + 1024, repr(ex))


def test_flood_drained():
    r = Run([fx("flood"), "1024"], tag="flood", stdout="count").finish(timeout=300)
    check(r.rc == 0, "rc %d" % r.rc)
    check(r.nbytes == 1 << 30, "got %d bytes" % r.nbytes)


def test_flood_timeout():
    # Nobody reads stdout: the payload blocks on the full pipe until the timeout stops it.
    run_ = Run([fx("flood"), "1024"], ["--timeout-ms", "300", "--grace-ms", "300"],
               tag="flood2", stdout="none")
    r = run_.finish()
    check(r.rc == 124, "rc %d" % r.rc)
    check(r.exit_event()["timeout"] is True, repr(r.events))


def test_ignore_term():
    r = run([fx("ignoreterm")], ["--timeout-ms", "300", "--grace-ms", "300"], tag="term")
    check(r.rc == 124, "rc %d" % r.rc)
    ex = r.exit_event()
    check(ex["timeout"] is True and ex["signal"] == 9, repr(ex))
    check("ready" in r.stdout, r.stdout)


def test_daemon_gone():
    r = run([fx("daemon")], tag="daemon")  # finish() asserts that no process is left
    check(r.rc == 0, "rc %d %s" % (r.rc, r.stdout))
    check(r.stdout.startswith("daemon "), r.stdout)


def test_sigterm_helper():
    x = Run(["/usr/bin/sleep", "1000"], tag="sigterm")
    x.wait_started()
    x.p.send_signal(signal.SIGTERM)
    r = x.finish()
    check(r.rc == 128 + 15, "rc %d" % r.rc)
    ex = r.exit_event()
    check(ex["signal"] == 15 and ex["timeout"] is False, repr(ex))


def test_lifeline():
    lr, lw = os.pipe()
    holder = subprocess.Popen(["/usr/bin/sleep", "1000"], pass_fds=(lw,))
    os.close(lw)
    x = Run(["/usr/bin/sleep", "1000"], ["--lifeline-fd", str(lr)], tag="life2", pass_fds=(lr,))
    os.close(lr)
    x.wait_started()
    check(x.p.poll() is None, "helper ended early")
    holder.kill()  # kill -9 of the engine stand-in holding the write end
    holder.wait()
    r = x.finish()
    check(r.rc == 128 + 9, "rc %d" % r.rc)


def test_sweep():
    """Stale sandbox cgroups (no helper holds their lock) are removed and their processes
    killed; a live sandbox's are left alone.

    The sweep is machine-wide, and every `swarmdeck deploy` of a test running in parallel
    sweeps at its start: it would take our stale directories first (they were reported
    missing, or vanished before the victim was attached). So the directories are locked as a
    helper locks its own (other sweeps skip them as live) until just before our sweep. If one
    still slips into that short window, the round is retried; a sweep that never reports
    them fails every round."""
    for attempt in range(5):
        if sweep_round(attempt):
            break
    else:
        check(False, "another sweep took our stale cgroups in 5 rounds out of 5")
    out = subprocess.run([HELPER, "--sweep"], capture_output=True, text=True)
    check(out.returncode == 0 and "sweep:" in out.stdout, out.stdout)


def sweep_round(attempt):
    """One round of test_sweep; False when another process's sweep interfered."""
    import fcntl
    sid = "stale%d-%d" % (os.getpid(), attempt)
    dirs, fds = [], []
    for h in ("pids", "memory", "unified"):
        root = "/sys/fs/cgroup/%s" % h
        if not os.path.isdir(root):
            continue
        d = "%s/swarmdeck/sbx-%s" % (root, sid)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        try:
            os.mkdir(d)
        except FileExistsError:
            pass
        try:
            fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:  # a sweep between mkdir and open (as for a helper)
            for fd in fds:
                os.close(fd)
            return False
        fcntl.flock(fd, fcntl.LOCK_EX)
        dirs.append(d)
        fds.append(fd)
    check(dirs, "no cgroup hierarchy to test with")
    victim = subprocess.Popen(["/usr/bin/sleep", "1000"])
    with open(dirs[0] + "/cgroup.procs", "w") as f:
        f.write(str(victim.pid))
    live = Run(["/usr/bin/sleep", "1000"], tag="live")
    try:
        live.wait_started()
        for fd in fds:
            os.close(fd)  # stale from now on: no helper holds them
        fds = []
        out = subprocess.run([HELPER, "--sweep", "--json"], capture_output=True, text=True)
        check(out.returncode == 0, "sweep rc %d: %s %s" % (out.returncode, out.stdout, out.stderr))
        res = json.loads(out.stdout)
        removed = {e["path"] for e in res["removed"]}
        for d in dirs:
            if d in removed:
                check(not os.path.exists(d), "%s reported removed but still exists" % d)
        check(victim.wait(30) == -9, "stale process not killed")
        check(res["live"] >= 1, "live sandbox not counted: %s" % out.stdout)
        check(cgroup_dirs(live.id), "sweep removed a live sandbox's cgroups")
        missing = [d for d in dirs if d not in removed]
        if missing:
            # Not ours: another sweep took them in the window (it held their lock, so ours
            # counted them live, or it had removed them already). It must finish removing
            # them; then go again.
            deadline = time.monotonic() + 30
            while any(os.path.exists(d) for d in missing) and time.monotonic() < deadline:
                time.sleep(0.05)
            check(not any(os.path.exists(d) for d in missing),
                  "%s neither removed by our sweep nor by another" % missing)
            print("sweep round %d: %s removed by another process's sweep" % (attempt, missing))
            return False
        return True
    finally:
        for fd in fds:
            os.close(fd)
        victim.kill()
        live.p.send_signal(signal.SIGTERM)
        live.finish()


def test_probe():
    out = subprocess.run([HELPER, "--probe"], capture_output=True, text=True)
    check(out.returncode in (0, 1), "probe rc %d" % out.returncode)
    for f in FEATURES:
        check(any(l.split()[0] == f for l in out.stdout.splitlines() if l.strip()),
              "%s missing from: %s" % (f, out.stdout))
    check("level:" in out.stdout, out.stdout)
    j = subprocess.run([HELPER, "--probe", "--json"], capture_output=True, text=True)
    d = json.loads(j.stdout)
    check(sorted(d["features"]) == sorted(FEATURES), repr(d["features"].keys()))
    for f, v in d["features"].items():
        check(v["state"] in ("on", "degraded", "off"), "%s: %r" % (f, v))
        check(v["state"] == "on" or v["why"], "%s without a reason" % f)
    check(d["level"] in ("strict", "standard", "degraded"), d["level"])
    e = dict(os.environ, SWARMDECK_SANDBOX_DISABLE="netns")
    j = subprocess.run([HELPER, "--probe", "--json"], capture_output=True, text=True, env=e)
    d = json.loads(j.stdout)
    check(d["features"]["netns"]["state"] == "degraded" and d["features"]["netns"]["fix"], repr(d))
    check(j.returncode == 1, "probe with a degraded layer should exit 1")


def test_strict_refusal():
    r = run([fx("exit7")], ["--strict"], tag="strict1", env={"SWARMDECK_SANDBOX_DISABLE": "netns"})
    check(r.rc == 125, "rc %d" % r.rc)
    err = r.err.decode()
    check(err.startswith("swarmdeck-sandbox: ") and "netns" in err and err.count("\n") == 1, err)
    check(r.events and r.events[0]["event"] == "error", repr(r.events))
    check(not procs_in_range(), "something ran")
    if probe_level() == "strict":
        r = run([fx("exit7")], ["--strict"], tag="strict2")
        check(r.rc == 7, "strict run on a strict host failed: rc %d %r" % (r.rc, r.err))


def test_level_degraded():
    # No pid namespace and no pids cgroup: the tree kill must still work (cgroup fallback).
    r = run([fx("daemon")], tag="deg", env={"SWARMDECK_SANDBOX_DISABLE": "pidns,cg-pids"})
    check(r.rc == 0, "rc %d %r" % (r.rc, r.err))
    st = r.events[0]
    check(st["level"] == "degraded", st["level"])
    check(st["isolation"]["pidns"].startswith("degraded:"), st["isolation"]["pidns"])
    check(st["isolation"]["cg-pids"].startswith("degraded:"), st["isolation"]["cg-pids"])
    r = run([fx("ignoreterm")], ["--timeout-ms", "200", "--grace-ms", "200"], tag="deg2",
            env={"SWARMDECK_SANDBOX_DISABLE": "pidns"})
    check(r.rc == 124, "rc %d" % r.rc)
    # Unsandboxed is explicit and labelled.
    r = Run([fx("exit7")], ["--unsandboxed"], tag="unsb", use_fix=False)
    r.finish()
    check(r.rc == 127, "unsandboxed sees the host: /fx must not exist, rc %d" % r.rc)
    exe = os.path.join(FIX, "exit7")
    r = run([exe], ["--unsandboxed"], tag="unsb2", use_fix=False)
    check(r.rc == 7 and r.events[0]["level"] == "none", "rc %d %r" % (r.rc, r.events))


def test_samples():
    r = run([fx("ignoreterm")], ["--timeout-ms", "400", "--grace-ms", "100", "--sample-ms", "50"],
            tag="samp")
    samples = [e for e in r.events if e["event"] == "sample"]
    check(samples, "no samples: %r" % r.events)
    for s in samples:
        check(set(s) == {"event", "cpu_ms", "mem_kb", "pids"}, repr(s))
        check(s["pids"] is None or s["pids"] >= 1, repr(s))
    r.exit_event()


def test_usage_errors():
    wd = tempfile.mkdtemp(prefix="sbxtest-")
    cases = [
        ["--id", "bad/id", "--workdir", wd, "--", "/x"],
        ["--workdir", wd + "/missing", "--", "/x"],
        ["--workdir", wd],
        ["--", "/x"],
        ["--workdir", wd, "--timeout-ms", "-5", "--", "/x"],
        ["--workdir", wd, "--bogus", "--", "/x"],
        ["--workdir", wd, "--ro-bind", "/usr:relative", "--", "/x"],
    ]
    for c in cases:
        out = subprocess.run([HELPER] + c, capture_output=True, text=True)
        check(out.returncode == 125, "%r: rc %d" % (c, out.returncode))
        check(out.stderr.startswith("swarmdeck-sandbox: ") and out.stderr.count("\n") == 1,
              "%r: %r" % (c, out.stderr))
    shutil.rmtree(wd)


def main():
    global HELPER, FIX
    ap = argparse.ArgumentParser()
    ap.add_argument("--helper", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("tests", nargs="+")
    a = ap.parse_args()
    HELPER, FIX = a.helper, a.fixtures
    if os.geteuid() != 0:
        print("SKIP: the sandbox tests need root (uid ranges, cgroups)")
        return 0
    failed = 0
    for t in a.tests:
        try:
            globals()["test_" + t]()
            print("ok   %s" % t)
        except Exception as e:  # report every failure, not only the first
            failed += 1
            print("FAIL %s: %s: %s" % (t, type(e).__name__, e))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
