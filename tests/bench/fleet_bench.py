#!/usr/bin/env python3
"""fleet_bench.py: how fast the fleet moves trajectories (docs/fleet.md).

Usage: fleet_bench.py BUILD_DIR [N] [AGENTS]

Everything runs on loopback, started here: one `nats-server -js` and `swarmdeck serve --fleet`
daemons on separate stores (and, when run as root with sshd installed, Debian's sshd for
`sync`). Three measurements:

1. catch-up throughput through NATS: a store holding N finished trajectories (default 500, made
   with `deploy --no-daemon` first) starts its daemon with --fleet while another daemon listens;
   trajectories/s = N / (time from that start until the listener holds all N).
2. `sync` throughput over ssh: an empty store runs `swarmdeck sync ssh://...` against the store
   of N; trajectories/s = N / the command's wall time (ssh, the peer's daemon start included).
3. lag under a running swarm: three daemons each run a swarm of AGENTS (default 60) at once; the
   three stores are polled every 5 ms (the resolution) and a trajectory's lag on a store is the
   time it was first seen there minus its endedAt on its origin (the same clock). p50 and p99 over
   every (trajectory, other store) pair.

A benchmark, not a test: it prints numbers and asserts none.
"""
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

TERMINAL = "('succeeded','failed','timeout','cancelled','interrupted')"


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait(cond, what, deadline=300):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.005)
    raise SystemExit("timed out waiting for " + what)


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return True
    except OSError:
        return False


def rows(db, what="uuid, origin, ended_at"):
    if not os.path.exists(db):
        return []
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        return con.execute("SELECT %s FROM trajectories WHERE status IN %s" % (what, TERMINAL)
                           ).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


class Bench:
    def __init__(self, build):
        self.sd = os.path.join(build, "swarmdeck")
        self.dir = tempfile.mkdtemp(prefix="swarmdeck-fleet-bench-")
        os.chmod(self.dir, 0o711)
        self.procs = []
        self.nats_port = free_port()
        nd = os.path.join(self.dir, "nats")
        os.mkdir(nd)
        self.procs.append(subprocess.Popen(
            [shutil.which("nats-server") or "/usr/sbin/nats-server", "-js", "-a", "127.0.0.1",
             "-p", str(self.nats_port), "-sd", nd], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL))
        wait(lambda: listening(self.nats_port), "nats-server")

    def env(self, name):
        run = os.path.join(self.dir, name + "-run")
        os.makedirs(run, 0o711, exist_ok=True)
        os.chmod(run, 0o711)
        return dict(os.environ, XDG_RUNTIME_DIR=run, XDG_STATE_HOME=os.path.join(self.dir, name),
                    NO_COLOR="1")

    def db(self, name):
        return os.path.join(self.dir, name + ".db")

    def run(self, name, *args):
        subprocess.run([self.sd, "--db", self.db(name)] + list(args), env=self.env(name),
                       check=True, stdout=subprocess.DEVNULL, cwd=self.dir)

    def serve(self, name, agents=4):
        log = open(os.path.join(self.dir, name + ".log"), "wb")
        p = subprocess.Popen([self.sd, "--db", self.db(name), "serve", "--fleet",
                              "nats://127.0.0.1:%d" % self.nats_port, "--fleet-name", name,
                              "--max-agents", str(agents), "--no-learning"],
                             env=self.env(name), stdout=log, stderr=log, cwd=self.dir)
        log.close()
        self.procs.append(p)
        path = os.path.join(self.dir, name + ".log")
        wait(lambda: b"fleet: connected" in open(path, "rb").read(), name + " to connect")
        return p

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def sync_bench(b, n):
    """`sync` of an empty store against the store of n, through a real sshd; None when sshd
    cannot run here."""
    sshd, keygen = "/usr/sbin/sshd", shutil.which("ssh-keygen")
    if os.geteuid() != 0 or not os.path.exists(sshd) or keygen is None:
        return None
    d = os.path.join(b.dir, "ssh")
    os.mkdir(d)
    for name in ("hostkey", "userkey"):
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, name)],
                       check=True)
    shutil.copy(os.path.join(d, "userkey.pub"), os.path.join(d, "authorized_keys"))
    port = free_port()
    with open(os.path.join(d, "sshd_config"), "w") as f:
        f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s/hostkey\nAuthorizedKeysFile "
                "%s/authorized_keys\nPasswordAuthentication no\nPermitRootLogin "
                "prohibit-password\nPidFile %s/sshd.pid\nStrictModes no\nUsePAM no\n"
                % (port, d, d, d))
    os.makedirs("/run/sshd", exist_ok=True)
    b.procs.append(subprocess.Popen([sshd, "-D", "-f", os.path.join(d, "sshd_config")]))
    wait(lambda: listening(port), "sshd")
    env = b.env("sync")
    env["SWARMDECK_SSH"] = ("ssh -i %s/userkey -o StrictHostKeyChecking=no -o "
                            "UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes" % d)
    env["SWARMDECK_REMOTE"] = b.sd
    t0 = time.monotonic()
    subprocess.run([b.sd, "--db", b.db("sync"), "sync",
                    "ssh://root@127.0.0.1:%d%s" % (port, b.db("src"))], env=env, check=True,
                   stdout=subprocess.DEVNULL, cwd=b.dir)
    wall = time.monotonic() - t0
    got = len(rows(b.db("sync")))
    lock = b.db("src") + ".serve.lock"
    if os.path.exists(lock):
        with open(lock) as f:
            pid = int(f.read().strip() or 0)
        if pid > 0:
            os.kill(pid, signal.SIGTERM)
            wait(lambda: not os.path.exists("/proc/%d" % pid), "the peer's daemon to stop", 60)
    return got, wall


def main():
    build = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    agents = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    b = Bench(build)
    print("load average at the start: %s" % open("/proc/loadavg").read().split()[0], flush=True)
    try:
        # 1. catch-up through NATS (N = 0: only the lag).
        if n == 0:
            lag_bench(b, agents, 0)
            return
        b.run("src", "--no-daemon", "deploy", "-s", "momentum", "-a", str(n), "--no-learning",
              "--max-agents", "8")
        have = len(rows(b.db("src")))
        b.serve("dst")
        t0 = time.monotonic()
        src = b.serve("src")
        wait(lambda: len(rows(b.db("dst"))) >= have, "dst to hold src's trajectories", 600)
        nats_wall = time.monotonic() - t0
        src.send_signal(signal.SIGTERM)
        src.wait(60)
        print("catch-up through NATS: %d trajectories in %.2f s: %.0f trajectories/s"
              % (have, nats_wall, have / nats_wall), flush=True)
        # 2. sync over ssh.
        s = sync_bench(b, have)
        if s is None:
            print("sync over ssh: skipped (needs root and sshd)")
        else:
            print("sync over ssh: %d trajectories in %.2f s: %.0f trajectories/s"
                  % (s[0], s[1], s[0] / s[1]))
        lag_bench(b, agents, have)
    finally:
        b.close()


def lag_bench(b, agents, history=0):
    """3. lag under a running swarm of three daemons (which first take in the history the
    stream already holds, so the swarm's trajectories do not queue behind it)."""
    names = ["lag-a", "lag-b", "lag-c"]
    for name in names:
        b.serve(name)
    for name in names:
        wait(lambda: len(rows(b.db(name))) >= history, name + " to take in the history", 600)
    seen = {name: {} for name in names}
    ended, local = {}, {}
    swarms = [subprocess.Popen([b.sd, "--db", b.db(name), "deploy", "-s", "momentum", "-a",
                                str(agents), "--no-learning"], env=b.env(name),
                               stdout=subprocess.DEVNULL, cwd=b.dir) for name in names]
    total = agents * len(names)
    end = time.monotonic() + 900
    while time.monotonic() < end:
        now_ms = time.time() * 1000
        for name in names:
            for uuid, origin, ended_at in rows(b.db(name)):
                if origin is None:
                    ended[uuid] = ended_at
                    local.setdefault(uuid, now_ms)
                elif origin in names and uuid not in seen[name]:
                    seen[name][uuid] = now_ms
        if all(len(seen[x]) >= total - agents for x in names) and len(ended) >= total:
            break
        time.sleep(0.005)
    for p in swarms:
        p.wait(600)
    lags = [seen[x][u] - ended[u] for x in names for u in seen[x] if u in ended]
    hops = [seen[x][u] - local[u] for x in names for u in seen[x] if u in local]
    fin = [local[u] - ended[u] for u in local if u in ended]
    print("lag under a swarm of %d x %d: %d arrivals, end to arrival p50 %.1f ms, p99 %.1f ms "
          "(poll resolution 5 ms)" % (len(names), agents, len(lags), pct(lags, 0.5),
                                      pct(lags, 0.99)))
    print("  of which end to finished in its own store p50 %.1f ms, p99 %.1f ms; finished "
          "there to arrival p50 %.1f ms, p99 %.1f ms" % (pct(fin, 0.5), pct(fin, 0.99),
                                                       pct(hops, 0.5), pct(hops, 0.99)))
    print("load average at the end: %s" % open("/proc/loadavg").read().split()[0],
          flush=True)


if __name__ == "__main__":
    main()
