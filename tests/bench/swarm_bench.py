#!/usr/bin/env python3
"""swarm_bench.py: a swarm of deployments against the shell one-liner a user would write instead.

usage: swarm_bench.py BUILD_DIR SOURCE_DIR [N] [ROUNDS] [--profile]

Three sides, run ROUNDS times (default 3) in turn so drifts in the machine's load hit all alike:
- swarmdeck: `swarmdeck --no-daemon deploy -s momentum -a N --symbol SPX --no-learning --json`
  on a fresh store (full isolation, byte-exact capture, the store);
- xargs+bwrap: `seq N | xargs -P 8` running the same `swarmdeck-runner run --strategy momentum`
  N times, each in bubblewrap (unshare-all, read-only /usr, proc, dev, tmpfs /tmp), output to files;
- bare: the same xargs line without bubblewrap (the floor).
Reported per side: median wall time and median machine CPU (user+nice+system+irq+softirq from
/proc/stat, which also counts what a pid namespace reaps), and per deployment; then the ratios of
swarmdeck to xargs+bwrap. With --profile, one more swarmdeck run under `perf record -a` and the
CPU samples grouped by process name and by shared object / symbol (what docs/benchmarks.md
reports as the profile). A benchmark, not a test: nothing here asserts a time.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


# The swarm's own processes (perf truncates names to 15 characters); other processes that
# share the machine are left out of the profile.
COMMS = "swarmdeck,swarmdeck-runne,swarmdeck-sandb"


def cpu_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6]  # user nice system irq softirq


def measure(cmd, env, shell=False):
    hz = os.sysconf("SC_CLK_TCK")
    c0, t0 = cpu_ticks(), time.monotonic()
    p = subprocess.run(cmd, env=env, shell=shell, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    wall, cpu = time.monotonic() - t0, (cpu_ticks() - c0) / hz
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, cmd if shell else " ".join(cmd),
                                          p.stderr.decode(errors="replace")[-2000:]))
    return wall, cpu, p.stdout


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
                    w, c, so = measure([sd, "--db", db, "--no-daemon", "deploy", "-s", "momentum",
                                        "-a", str(n), "--symbol", "SPX", "--no-learning",
                                        "--json"], env)
                    ok = so.count(b'"succeeded"')
                    if ok < n:
                        sys.exit("swarmdeck: only %d of %d deployments succeeded" % (ok, n))
                else:
                    w, c, _ = measure(line, env, shell=True)
                res[side].append((w, c))
        print("%d deployments of momentum on SPX, %d rounds, load %s" % (
            n, rounds, open("/proc/loadavg").read().split()[0]))
        med = {}
        for side, xs in res.items():
            w = statistics.median(x[0] for x in xs)
            c = statistics.median(x[1] for x in xs)
            med[side] = (w, c)
            print("  %-12s wall %6.2f s  machine CPU %6.2f s  = %5.1f ms CPU per deployment" % (
                side, w, c, c / n * 1000))
        sw, xb = med["swarmdeck"], med["xargs+bwrap"]
        print("swarmdeck / xargs+bwrap: wall %.2f, CPU %.2f" % (sw[0] / xb[0], sw[1] / xb[1]))
        if profile and shutil.which("perf"):
            db = os.path.join(d, "p.db")
            pdata = os.path.join(d, "perf.data")
            subprocess.run(["perf", "record", "-a", "-F", "997", "-g", "-o", pdata, "--",
                            sd, "--db", db, "--no-daemon", "deploy", "-s", "momentum", "-a",
                            str(n), "--symbol", "SPX", "--no-learning", "--json"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            for sort, top in (("comm", 12), ("comm,dso", 16), ("comm,sym", 30)):
                p = subprocess.run(["perf", "report", "-i", pdata, "--no-children", "--stdio",
                                    "-g", "none", "--percent-limit", "0.7", "--sort", sort,
                                    "--comms", COMMS, "--percentage", "relative"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                lines = [ln for ln in p.stdout.splitlines() if ln.strip() and
                         not ln.startswith("#")]
                print("profile of one swarmdeck run, CPU samples of its processes by %s:" % sort)
                for ln in lines[:top]:
                    print("  " + ln.strip())
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
