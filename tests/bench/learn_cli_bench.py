#!/usr/bin/env python3
"""learn_cli_bench.py: what a suggestion costs an operator, end to end (issue 15's review).

usage: learn_cli_bench.py BUILD_DIR [N] [K]

1. A store of N momentum trajectories (default 100000; varied threshold and lookback, results
   with trades, bars and Sharpe, one in 10 failed) is written with SQL into a store the binary
   created with one real deployment (the learner reads exactly these columns).
2. Cold `swarmdeck --no-daemon suggest -s momentum -p ... --json`, K times (default 20), each a
   new process, timed from exec to exit (wall) with the child's CPU time (user + system,
   getrusage): the first one finds no saved index and rebuilds and saves it; the rest open the
   saved index (docs/learning.md "The saved index").
3. A daemon (`swarmdeck serve`, started here, learning on) serving the store:
   `POST /v1/suggest` over its Unix socket, 5 warm-up then K*10 requests on one keep-alive
   connection, and K on a new connection each; timed from the request's first byte to the
   answer's last.
It prints the numbers; it asserts nothing about time (a benchmark, not a test).
"""
import json
import os
import random
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def fill(db, n):
    rng = random.Random(7)
    con = sqlite3.connect(db)
    rows = []
    t0 = 1700000000000
    for i in range(n):
        th = 0.02 * 2 ** (4 * (rng.random() - 0.5))
        lb = int(round(20 * 2 ** (4 * (rng.random() - 0.5))))
        ok = rng.random() >= 0.1
        sh = rng.gauss(0.5, 0.4)
        res = json.dumps({"sharpe": sh, "trades": rng.randint(2, 80), "bars": 5000,
                          "total_return": sh / 10}) if ok else None
        rows.append(("bench-%d" % i, "momentum", "SPY",
                     json.dumps({"threshold": th, "lookback": lb}), "local",
                     "succeeded" if ok else "failed", t0 + i * 1000, 100.0, res,
                     (0.5 + 0.5 * __import__("math").tanh(sh / 2)) if ok else 0.0))
    con.executemany("INSERT INTO trajectories(uuid, strategy, symbol, params, provider, status, "
                    "created_at, duration_ms, result, reward) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    con.commit()
    con.close()


def timed(cmd, env):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True)
    wall = (time.perf_counter() - t0) * 1000
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr.decode()))
    cpu = ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) * 1000
    return wall, cpu, p.stdout


def http_post(sock, path, body):
    data = json.dumps(body).encode()
    sock.sendall(b"POST %s HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % (path.encode(), len(data)) + data)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("connection closed")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = None
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    if length is None:
        raise OSError("no Content-Length in %r" % head)
    while len(rest) < length:
        rest += sock.recv(65536)
    status = int(head.split(b" ")[1])
    return status, rest[:length]


def main():
    build = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    sd = os.path.join(build, "swarmdeck")
    d = tempfile.mkdtemp(prefix="swarmdeck-learn-cli-bench-")
    os.chmod(d, 0o711)
    run = os.path.join(d, "run")
    os.mkdir(run, 0o711)
    env = dict(os.environ, XDG_RUNTIME_DIR=run, XDG_STATE_HOME=os.path.join(d, "state"),
               NO_COLOR="1")
    db = os.path.join(d, "s.db")
    serve = None
    try:
        # the store is created by its first deployment (one more momentum trajectory)
        subprocess.run([sd, "--db", db, "--no-daemon", "deploy", "-s", "momentum", "--no-learning",
                        "--json"], env=env, capture_output=True, check=True)
        t0 = time.perf_counter()
        fill(db, n)
        print("store of %d momentum trajectories written in %.1f s" % (n, time.perf_counter() - t0))
        q = ["--db", db, "--no-daemon", "suggest", "-s", "momentum", "-p",
             '{"threshold":0.03,"lookback":25}', "--json"]
        first = timed([sd] + q, env)
        walls, cpus = [], []
        for _ in range(k):
            w, c, _ = timed([sd] + q, env)
            walls.append(w)
            cpus.append(c)
        print("cold `suggest` at %d, exec to exit: first (no saved index: rebuild and save) "
              "%.1f ms wall, %.1f ms CPU" % (n, first[0], first[1]))
        print("cold `suggest` at %d, exec to exit, saved index, %d runs: wall p50 %.1f ms "
              "p90 %.1f ms min %.1f ms; CPU p50 %.1f ms p90 %.1f ms"
              % (n, k, statistics.median(walls), pct(walls, 0.9), min(walls),
                 statistics.median(cpus), pct(cpus, 0.9)))
        serve = subprocess.Popen([sd, "--db", db, "serve"], env=env, stderr=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL)
        sdir = os.path.join(run, "swarmdeck", "sock")
        end = time.monotonic() + 120
        path = None
        while time.monotonic() < end and path is None:
            names = [x for x in (os.listdir(sdir) if os.path.isdir(sdir) else [])
                     if not x.endswith(".ro")]
            if names:
                path = os.path.join(sdir, names[0])
            else:
                time.sleep(0.05)
        if path is None:
            sys.exit("the daemon did not start")
        body = {"strategy": "momentum", "params": {"threshold": 0.03, "lookback": 25},
                "symbol": "SPY"}
        s = None
        end = time.monotonic() + 120
        while s is None:
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(path)
                st, _ = http_post(s, "/v1/suggest", body)
                if st != 200:
                    raise OSError("status %d" % st)
            except OSError:
                s.close()
                s = None
                if time.monotonic() > end:
                    sys.exit("the daemon did not answer /v1/suggest")
                time.sleep(0.1)
        for _ in range(5):
            http_post(s, "/v1/suggest", body)
        keep = []
        for i in range(k * 10):
            body["params"]["lookback"] = 10 + i % 40  # a different query each time
            t0 = time.perf_counter()
            st, out = http_post(s, "/v1/suggest", body)
            keep.append((time.perf_counter() - t0) * 1000)
            assert st == 200 and b"expectedReward" in out, out[:200]
        s.close()
        fresh = []
        for i in range(k):
            t0 = time.perf_counter()
            c = socket.socket(socket.AF_UNIX)
            c.connect(path)
            st, out = http_post(c, "/v1/suggest", body)
            fresh.append((time.perf_counter() - t0) * 1000)
            c.close()
            assert st == 200, out[:200]
        print("daemon POST /v1/suggest at %d, keep-alive, %d requests: p50 %.2f ms p90 %.2f ms "
              "p99 %.2f ms min %.2f ms" % (n, len(keep), statistics.median(keep), pct(keep, 0.9),
                                            pct(keep, 0.99), min(keep)))
        print("daemon POST /v1/suggest at %d, a new connection each, %d requests: p50 %.2f ms "
              "p90 %.2f ms" % (n, len(fresh), statistics.median(fresh), pct(fresh, 0.9)))
        print("load average at the end: %.2f %.2f %.2f" % os.getloadavg())
    finally:
        if serve is not None:
            serve.terminate()
            try:
                serve.wait(30)
            except subprocess.TimeoutExpired:
                serve.kill()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
