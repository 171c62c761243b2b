#!/usr/bin/env python3
"""daemon_consoles.py: ten consoles attached to one daemon during an output flood.

Usage: daemon_consoles.py BUILD_DIR [CONSOLES] [LINES] [ROUNDS] [RATE]

One daemon (`swarmdeck serve`) on a fresh store with the probe-lines strategy (numbered lines
at RATE lines per second, default 200000 as the daemon issue's target names it; 0: as fast as
the sandbox can write them, which measures how ten consoles compete for two cores instead). Each round runs the same flood twice, alternating:
with no console attached, and with CONSOLES (default 10) consoles attached, each in its own
tmux server, each showing the flood's output (so each pulls its lines by range). Reported:
- the engine's throughput: LINES / (endedAt - startedAt) of the flood deployment, and the
  ratio with consoles to without (target: at least 0.9);
- key latency during the flood: in every console, `?` until the help shows, then Esc
  (target: median at most 50 ms);
- idle consoles: CPU ticks of all console processes over 5 s, 8 s after the flood ended
  (target: 0).
A benchmark, not a test: nothing here asserts a time. Needs tmux.
"""
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def call(sock, method, path, body=None):
    c = UnixHTTPConnection(sock)
    try:
        c.request(method, path, body=json.dumps(body).encode() if body is not None else None,
                  headers={"Content-Type": "application/json"} if body is not None else {})
        r = c.getresponse()
        return r.status, json.loads(r.read())
    finally:
        c.close()


def until(fn, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for " + what)
        time.sleep(0.02)


class Console:
    def __init__(self, i, env, sd):
        self.sock = "bench%d-%d" % (os.getpid(), i)
        envs = " ".join("%s='%s'" % (k, env[k]) for k in
                        ("SWARMDECK_DB", "XDG_RUNTIME_DIR", "XDG_STATE_HOME", "TERM", "LC_ALL"))
        self.tmux("new-session", "-d", "-x", "120", "-y", "40",
                  "exec env %s %s console --no-anim" % (envs, sd))

    def tmux(self, *a):
        return subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null"] + list(a),
                              capture_output=True, text=True).stdout

    def screen(self):
        return self.tmux("capture-pane", "-p")

    def pid(self):
        return int(self.tmux("display-message", "-p", "#{pane_pid}").strip())

    def server_pid(self):
        return int(self.tmux("display-message", "-p", "#{pid}").strip())

    def close(self):
        self.tmux("kill-server")


def ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def flood(sock, lines, rate):
    """One flood deployment; its lines per second once it ends."""
    st, ans = call(sock, "POST", "/v1/deployments",
                   {"strategy": "probe-lines", "params": {"n": lines, "rate": rate}})
    assert st == 201, ans
    dep = ans["ids"][0]
    return dep


def finished(sock, dep):
    v = call(sock, "GET", "/v1/deployments/%d" % dep)[1]["deployment"]
    return v if v["state"] not in ("queued", "running") else None


def main():
    build = os.path.abspath(sys.argv[1])
    nc = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    lines = int(sys.argv[3]) if len(sys.argv) > 3 else 1600000
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    rate = int(sys.argv[5]) if len(sys.argv) > 5 else 200000
    sd = os.path.join(build, "swarmdeck")
    if shutil.which("tmux") is None:
        print("tmux not found")
        return 77
    d = tempfile.mkdtemp(prefix="swarmdeck-consoles-bench-")
    os.chmod(d, 0o711)
    run = os.path.join(d, "run")
    os.mkdir(run, 0o700)
    env = dict(os.environ, SWARMDECK_DB=os.path.join(d, "store.db"), XDG_RUNTIME_DIR=run,
               XDG_STATE_HOME=os.path.join(d, "state"), TERM="tmux-256color", LC_ALL="C.UTF-8")
    subprocess.run([sd, "--no-daemon", "strategies", "add",
                    os.path.join(build, "e2e-strategies", "probe-lines.json")],
                   env=env, check=True, capture_output=True)
    daemon = subprocess.Popen([sd, "serve", "--no-learning"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    consoles = []
    try:
        sockdir = os.path.join(run, "swarmdeck", "sock")
        until(lambda: os.path.isdir(sockdir) and
              [x for x in os.listdir(sockdir) if not x.endswith(".ro")], 30, "the daemon")
        sock = os.path.join(sockdir, [x for x in os.listdir(sockdir) if not x.endswith(".ro")][0])
        def answers():
            try:
                return call(sock, "GET", "/v1/version")[0] == 200
            except OSError:
                return False
        until(answers, 30, "the daemon to answer")
        alone, attached, keys, idle, cpu = [], [], [], [], []
        for r in range(rounds):
            dep = flood(sock, lines, rate)
            v = until(lambda: finished(sock, dep), 300, "the flood alone")
            alone.append(lines / ((v["endedAt"] - v["startedAt"]) / 1000.0))
            consoles = [Console(i, env, sd) for i in range(nc)]
            for c in consoles:
                until(lambda c=c: "Sandboxes" in c.screen(), 30, "a console")
            cpids = [c.pid() for c in consoles]
            tpids = [c.server_pid() for c in consoles]
            c0 = [sum(ticks(p) for p in cpids), sum(ticks(p) for p in tpids), ticks(daemon.pid)]
            dep = flood(sock, lines, rate)
            for c in consoles:  # the flood's row, its output followed
                until(lambda c=c: "probe-li" in c.screen(), 30, "the flood's row")
                c.tmux("send-keys", "Home")
            for c in consoles:
                if finished(sock, dep):
                    break
                t0 = time.monotonic()
                c.tmux("send-keys", "?")
                until(lambda c=c: "Keys (Esc closes" in c.screen(), 10, "the help")
                keys.append((time.monotonic() - t0) * 1000)
                c.tmux("send-keys", "Escape")
            v = until(lambda: finished(sock, dep), 300, "the flood with consoles")
            attached.append(lines / ((v["endedAt"] - v["startedAt"]) / 1000.0))
            c1 = [sum(ticks(p) for p in cpids), sum(ticks(p) for p in tpids), ticks(daemon.pid)]
            cpu.append([b - a for a, b in zip(c0, c1)])
            # let the end settle (last pulls, the chain check and learning every console
            # redoes after a deployment ends), then measure idleness
            time.sleep(8)
            pids = [c.pid() for c in consoles]
            t0 = [ticks(p) for p in pids]
            time.sleep(5)
            idle.append(sum(ticks(p) for p in pids) - sum(t0))
            for c in consoles:
                c.close()
            consoles = []
        a, b = statistics.median(alone), statistics.median(attached)
        print("daemon with %d consoles, %d-line flood at %s lines/s, %d round(s)"
              % (nc, lines, rate or "unbounded", rounds))
        print("throughput alone:        %s lines/s (median %.0f)"
              % (" ".join("%.0f" % x for x in alone), a))
        print("throughput %2d consoles:  %s lines/s (median %.0f)"
              % (nc, " ".join("%.0f" % x for x in attached), b))
        print("ratio: %.3f" % (b / a))
        if keys:
            print("key latency during the flood: n=%d median %.1f ms max %.1f ms"
                  % (len(keys), statistics.median(keys), max(keys)))
        for r, (cc, tt, dd) in enumerate(cpu):
            print("round %d, flood with consoles: CPU ticks (1/100 s): consoles %d, their tmux "
                  "servers %d, daemon %d" % (r + 1, cc, tt, dd))
        print("idle consoles: %s CPU ticks over 5 s (all %d together)"
              % (" ".join(str(x) for x in idle), nc))
    finally:
        for c in consoles:
            c.close()
        daemon.terminate()
        daemon.wait(30)
        shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
