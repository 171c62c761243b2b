#!/usr/bin/env python3
"""swarm_bench.py: a swarm of deployments against the shell one-liner a user would write instead.

usage: swarm_bench.py BUILD_DIR SOURCE_DIR [N] [ROUNDS] [--profile]

Three sides, run ROUNDS times (default 3) in turn so drifts in the machine's load hit all alike:
- swarmdeck: `swarmdeck --no-daemon deploy -s momentum -a N --symbol SPX --no-learning --json`
  on a fresh store (full isolation, byte-exact capture, the store);
- xargs+bwrap: `seq N | xargs -P 8` running the same `swarmdeck-runner run --strategy momentum`
  N times, each in bubblewrap (unshare-all, read-only /usr, proc, dev, tmpfs /tmp), output to files;
- bare: the same xargs line without bubblewrap (the floor).
Reported per side: median wall time, the CPU of the side's process tree (`perf stat`
task-clock, inherited by every descendant, pid namespaces included: the number to read on a
shared machine) with its context switches, and the machine's CPU (user+nice+system+irq+softirq
from /proc/stat, meaningful only on an idle machine); then the ratios of
swarmdeck to xargs+bwrap. With --profile, one more swarmdeck run under `perf record` (its
process tree only) and the CPU samples grouped by process name and by shared object / symbol
(what docs/benchmarks/swarm.md reports as the profile). A benchmark, not a test: nothing
here asserts a time.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def cpu_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6]  # user nice system irq softirq


def measure(cmd, env, tmp):
    """Run cmd (a list); returns wall s, machine CPU s, the tree's CPU s and context switches
    (perf stat, inherited by every descendant; -1 without perf), and its stdout."""
    hz = os.sysconf("SC_CLK_TCK")
    st = os.path.join(tmp, "stat.csv")
    if shutil.which("perf"):
        cmd = ["perf", "stat", "-x,", "-e", "task-clock,context-switches", "-o", st, "--"] + cmd
    c0, t0 = cpu_ticks(), time.monotonic()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall, cpu = time.monotonic() - t0, (cpu_ticks() - c0) / hz
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd),
                                          p.stderr.decode(errors="replace")[-2000:]))
    tree, csw = -1.0, -1
    if os.path.exists(st):
        with open(st) as f:
            for line in f:
                v = line.split(",")
                if len(v) > 2 and v[2] == "task-clock":
                    tree = float(v[0]) / 1000
                elif len(v) > 2 and v[2] == "context-switches":
                    csw = int(v[0])
        os.unlink(st)
    return wall, cpu, tree, csw, p.stdout


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    profile = "--profile" in sys.argv
    build, src = os.path.abspath(args[0]), os.path.abspath(args[1])
    n = int(args[2]) if len(args) > 2 else 200
    rounds = int(args[3]) if len(args) > 3 else 3
    sd, runner = os.path.join(build, "swarmdeck"), os.path.join(build, "swarmdeck-runner")
    data = os.path.join(src, "data", "SPX.csv")
    d = tempfile.mkdtemp(prefix="swarm-bench-")
    os.chmod(d, 0o711)
    run = os.path.join(d, "run")
    os.mkdir(run, 0o711)
    env = dict(os.environ, XDG_RUNTIME_DIR=run, XDG_STATE_HOME=os.path.join(d, "state"),
               NO_COLOR="1")
    out = os.path.join(d, "out")
    os.mkdir(out)
    bw = ("bwrap --unshare-all --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib "
          "--symlink usr/lib64 /lib64 --symlink usr/sbin /sbin --proc /proc --dev /dev "
          "--tmpfs /tmp --ro-bind %s /runner --ro-bind %s /data.csv --die-with-parent "
          "/runner run --strategy momentum --data /data.csv" % (runner, data))
    bare = "%s run --strategy momentum --data %s" % (runner, data)
    sides = {
        "swarmdeck": None,
        "xargs+bwrap": "seq %d | xargs -P 8 -I{} sh -c '%s > %s/{}.out'" % (n, bw, out),
        "bare": "seq %d | xargs -P 8 -I{} sh -c '%s > %s/{}.out'" % (n, bare, out),
    }
    res = {k: [] for k in sides}
    try:
        for r in range(rounds):
            for side, line in sides.items():
                if side == "swarmdeck":
                    db = os.path.join(d, "s%d.db" % r)
                    w, c, t, k, so = measure([sd, "--db", db, "--no-daemon", "deploy", "-s",
                                              "momentum", "-a", str(n), "--symbol", "SPX",
                                              "--no-learning", "--json"], env, d)
                    ok = so.count(b'"succeeded"')
                    if ok < n:
                        sys.exit("swarmdeck: only %d of %d deployments succeeded" % (ok, n))
                else:
                    w, c, t, k, _ = measure(["sh", "-c", line], env, d)
                res[side].append((w, c, t, k))
        print("%d deployments of momentum on SPX, %d rounds, load %s" % (
            n, rounds, open("/proc/loadavg").read().split()[0]))
        med = {}
        for side, xs in res.items():
            w, c, t, k = (statistics.median(x[i] for x in xs) for i in range(4))
            med[side] = (w, c, t)
            print("  %-12s wall %6.2f s  machine CPU %6.2f s  = %5.1f ms CPU per deployment; "
                  "its process tree %6.2f s CPU, %d context switches" % (
                      side, w, c, c / n * 1000, t, k))
        sw, xb = med["swarmdeck"], med["xargs+bwrap"]
        print("swarmdeck / xargs+bwrap: wall %.2f, CPU %.2f, tree CPU %.2f" % (
            sw[0] / xb[0], sw[1] / xb[1], sw[2] / xb[2] if xb[2] > 0 else 0))
        if profile and shutil.which("perf"):
            db = os.path.join(d, "p.db")
            pdata = os.path.join(d, "perf.data")
            # Not -a: only the swarmdeck process and its descendants (helpers, inits, runners),
            # so other work on the machine stays out of the profile.
            subprocess.run(["perf", "record", "-F", "1999", "-g", "-o", pdata, "--",
                            sd, "--db", db, "--no-daemon", "deploy", "-s", "momentum", "-a",
                            str(n), "--symbol", "SPX", "--no-learning", "--json"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            for sort, top in (("comm", 12), ("comm,dso", 16), ("comm,sym", 30)):
                p = subprocess.run(["perf", "report", "-i", pdata, "--no-children", "--stdio",
                                    "-g", "none", "--percent-limit", "0.7", "--sort", sort],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                lines = [ln for ln in p.stdout.splitlines() if ln.strip() and
                         not ln.startswith("#")]
                print("profile of one swarmdeck run (its process tree), CPU samples by %s:" % sort)
                for ln in lines[:top]:
                    print("  " + ln.strip())
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
