#!/usr/bin/env python3
"""daemon_bench.py: what the daemon adds to one deployment, measured against in-process.

Usage: daemon_bench.py BUILD_DIR [N]

Both sides run the same thing N times (default 40), alternating so load drifts hit both
equally: one `deploy -s momentum --no-learning --json` of one agent, from process start to exit,
- in process: `swarmdeck --no-daemon deploy ...` (the engine starts in the command);
- through the daemon: `swarmdeck deploy ...` with a daemon serving the store (started once
  here, with --no-learning, as a user would: `serve`), so the command submits over the Unix
  socket and follows the event stream.
It prints p50/p90 of each and their difference. It is a benchmark, not a test: nothing here
asserts a time.
"""
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def main():
    build = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    sd = os.path.join(build, "swarmdeck")
    d = tempfile.mkdtemp(prefix="swarmdeck-daemon-bench-")
    os.chmod(d, 0o711)
    run = os.path.join(d, "run")
    os.mkdir(run, 0o711)
    env = dict(os.environ, XDG_RUNTIME_DIR=run, XDG_STATE_HOME=os.path.join(d, "state"),
               NO_COLOR="1")
    db_in, db_d = os.path.join(d, "in.db"), os.path.join(d, "d.db")
    argv = ["deploy", "-s", "momentum", "--no-learning", "--json"]
    serve = subprocess.Popen([sd, "--db", db_d, "serve", "--no-learning"], env=env,
                             stderr=subprocess.DEVNULL)
    try:
        sock = os.path.join(run, "swarmdeck", "sock")
        end = time.monotonic() + 30
        while time.monotonic() < end and not (os.path.isdir(sock) and os.listdir(sock)):
            time.sleep(0.05)
        times = {"in-process": [], "daemon": []}
        for i in range(n + 2):
            for side, cmd in (("in-process", [sd, "--db", db_in, "--no-daemon"] + argv),
                              ("daemon", [sd, "--db", db_d] + argv)):
                t0 = time.monotonic()
                p = subprocess.run(cmd, env=env, capture_output=True)
                dt = (time.monotonic() - t0) * 1000
                if p.returncode != 0:
                    sys.exit("%s failed: %s" % (side, p.stderr.decode()))
                if i >= 2:  # the first two warm caches
                    times[side].append(dt)
        print("one deployment, process start to exit, %d runs each (ms):" % n)
        for side, xs in times.items():
            print("  %-10s p50 %7.2f  p90 %7.2f  mean %7.2f" % (side, pct(xs, 0.5), pct(xs, 0.9),
                                                                statistics.mean(xs)))
        d50 = pct(times["daemon"], 0.5) - pct(times["in-process"], 0.5)
        print("  daemon - in-process at p50: %+.2f ms (ratio %.2f)" % (
            d50, pct(times["daemon"], 0.5) / pct(times["in-process"], 0.5)))
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
