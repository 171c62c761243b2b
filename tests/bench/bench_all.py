#!/usr/bin/env python3
"""bench_all.py: run every benchmark in tests/bench and rewrite the tables of docs/benchmarks.md.

usage: bench_all.py --build BUILD_DIR --source SOURCE_DIR [--tiny] [--doc FILE] [--raw FILE]
                    [--only NAME[,NAME...]]

`make bench` runs it at the sizes below (a few minutes on 2 cores); the ctest `bench_all_tiny`
runs it with --tiny and no --doc, so CI checks that every benchmark builds, runs and still prints
what this driver reads, and never looks at a time.

For each benchmark: the command (as run, relative to the build directory), its exit status, the
1-minute load average before it started, and the numbers read from its output. With --doc, the
part of FILE between the markers `<!-- bench-all:begin -->` and `<!-- bench-all:end -->` is
replaced by: date (UTC), machine (kernel, CPU model, cores, memory), the load average at start
and end, and one table row per number with its target, its verdict where the target is a number,
and the command that produced it. With --raw, the whole output of every command goes to that file.

A benchmark that cannot run here (not root for the sandbox, no tmux, no bwrap) is listed as
skipped with the reason, never silently left out. Exit status: 0 if every benchmark that ran
exited 0 and every number was found in its output, 1 otherwise.
"""
import argparse
import datetime
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


def machine():
    model = "?"
    mem = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = "%.1f GiB" % (int(line.split()[1]) / 1048576)
                    break
    except OSError:
        pass
    return "%s %s %s, %s, %d cores, %s" % (platform.system(), platform.release(),
                                           platform.machine(), model, os.cpu_count() or 0, mem)


def num(rx, fmt="{}", group=1):
    """An extractor: the first match of rx in the output, formatted; value = float(group)."""
    def ex(out):
        m = re.search(rx, out, re.M)
        if not m:
            return None
        return fmt.format(*m.groups()), float(m.group(group))
    return ex


def at_most(limit):
    return lambda v: "met" if v <= limit else "**missed**"


def at_least(limit):
    return lambda v: "met" if v >= limit else "**missed**"


# Each benchmark: name, page, needs, full and tiny argument lists (after the program, which is
# relative to the build directory), and its rows: (area, what, extractor, target, verdict).
# {src} is the source directory, {tmp} a scratch directory, {build} the build directory.
BENCHES = [
    dict(name="runner", page="benchmarks/runner.md",
         prog=["./bench-runner", "{src}/data/SPX.csv", "./swarmdeck-runner"],
         full=["200"], tiny=["3"],
         rows=[
             ("runner", "momentum on 5,105 SPX bars, in process, median",
              num(r"^\| momentum \| ([\d.]+) ms", "{} ms"), "<= 1 ms", at_most(1)),
             ("runner", "mean-reversion, same, median",
              num(r"^\| mean-reversion \| ([\d.]+) ms", "{} ms"), "<= 1 ms", at_most(1)),
             ("runner", "neural-forecast, same, median",
              num(r"^\| neural-forecast \| ([\d.]+) ms", "{} ms"), "<= 50 ms", at_most(50)),
         ]),
    dict(name="sandbox", page="benchmarks/sandbox.md", needs=["root"],
         prog=["./bench-sandbox"],
         full=["--runs", "300", "--warmup", "30", "--concurrent", "200", "--breakdown"],
         tiny=["--runs", "5", "--warmup", "1", "--concurrent", "3", "--breakdown"],
         rows=[
             ("sandbox", "start from the warm pool (what a deployment waits for), `/usr/bin/true` "
              "job to exit, p50",
              num(r"warm pool: pooled helper p50 ([\d.]+) ms", "{} ms"), "<= 3 ms", at_most(3)),
             ("sandbox", "same, p99",
              num(r"warm pool: pooled helper p50 [\d.]+ ms, p99 ([\d.]+) ms", "{} ms"),
              "<= 15 ms", at_most(15)),
             ("sandbox", "pooled / bubblewrap at p50, same run",
              num(r"pooled / bwrap at p50 = ([\d.]+)"), "<= 0.7", at_most(0.7)),
             ("sandbox", "cold start (no pool: helper exec included), full cycle, p50",
              num(r"^\| swarmdeck-sandbox[^|]*\| ([\d.]+) \|", "{} ms"), "-", None),
             ("sandbox", "same, p99",
              num(r"^\| swarmdeck-sandbox[^|]*\|[^|]*\|[^|]*\| ([\d.]+) \|", "{} ms"),
              "-", None),
             ("sandbox", "bubblewrap, same cycle, same run, p50 (reference)",
              num(r"^\| bwrap[^|]*\| ([\d.]+) \|", "{} ms"), "-", None),
             ("sandbox", "cold helper / bubblewrap at p50, same run",
              num(r"helper / bwrap = ([\d.]+)"), "-", None),
             ("sandbox", "breakdown at p50: cost of the cgroups / of the netns (same run)",
              num(r"breakdown at p50 \(same run\): cgroups (-?[\d.]+) ms, netns (-?[\d.]+) ms, "
                  r"both (-?[\d.]+) ms; the helper without both / bwrap = ([\d.]+)",
                  "{} / {} ms (both {} ms; helper without both / bwrap {})"), "-", None),
             ("sandbox", "concurrent sleeping sandboxes: per sandbox MemAvailable",
              num(r"MemAvailable -(-?\d+) KiB", "{} KiB"), "<= 1024 KiB", at_most(1024)),
         ]),
    dict(name="swarm", page="benchmarks/swarm.md", needs=["root", "bwrap"],
         prog=["python3", "{src}/tests/bench/swarm_bench.py", ".", "{src}"],
         full=["200", "3", "--profile"],
         tiny=["4", "1"],
         rows=[
             ("swarm", "momentum swarm (N in the command): swarmdeck / xargs+bwrap, wall",
              num(r"swarmdeck / xargs\+bwrap: wall ([\d.]+), CPU ([\d.]+)"), "<= 0.8",
              at_most(0.8)),
             ("swarm", "same: CPU of the process trees (perf stat), swarmdeck / xargs+bwrap",
              num(r"swarmdeck / xargs\+bwrap: wall [\d.]+, CPU [\d.]+, tree CPU ([\d.]+)"),
              "<= 1.0", at_most(1.0)),
             ("swarm", "same: machine CPU (/proc/stat; only meaningful when idle)",
              num(r"swarmdeck / xargs\+bwrap: wall [\d.]+, CPU ([\d.]+)"), "-", None),
             ("swarm", "CPU per deployment: swarmdeck / xargs+bwrap / bare",
              num(r"swarmdeck\s+wall\s+[\d.]+ s\s+machine CPU\s+[\d.]+ s\s+=\s+([\d.]+) ms[\s\S]*"
                  r"xargs\+bwrap\s+wall[^=]*=\s+([\d.]+) ms[\s\S]*bare\s+wall[^=]*=\s+([\d.]+) ms",
                  "{} / {} / {} ms"), "-", None),
         ]),
    dict(name="engine", page="benchmarks/engine.md",
         prog=["{build}/engine_bench", "{build}/swarmdeck-runner", "{build}/swarmdeck-sandbox",
               "{build}/engine_noop"],
         full=["300", "2000", "8"], tiny=["6", "12", "2"],
         rows=[
             ("engine", "one no-op deployment, request to result, p50",
              num(r"^deploy no-op \(engine overhead\)\s+n=\d+\s+p50\s+([\d.]+) ms", "{} ms"),
              "<= 10 ms", at_most(10)),
             ("engine", "spawn floor (posix_spawn + wait), p50",
              num(r"^floor: posix_spawn \+ wait \(no-op\)\s+n=\d+\s+p50\s+([\d.]+) ms", "{} ms"),
              "-", None),
             ("engine", "sustained no-op deployments",
              num(r"= (\d+) deployments/s", "{} /s"), ">= 300 /s", at_least(300)),
             ("engine", "sustained no-op deployments, learning off (the engine alone)",
              num(r"^sustained, learning off: .* = (\d+) deployments/s", "{} /s"), ">= 300 /s",
              at_least(300)),
         ]),
    dict(name="store", page="benchmarks/store.md",
         prog=["./bench-store"], full=["200000", "1000000"], tiny=["2000", "5000"],
         rows=[
             ("store", "output chunks through the writer thread",
              num(r"output chunks \(100 B\): writer (\d+) rows/s, raw (\d+) rows/s, ratio ([\d.]+)",
                  "{} rows/s (raw SQLite {}, ratio {})"), ">= 100 k rows/s", at_least(100000)),
             ("store", "output chunks into an encrypted store, ratio to plaintext",
              num(r"encrypted store: writer (\d+) rows/s, ratio ([\d.]+)",
                  "{} rows/s (ratio {})", 2), ">= 0.8", at_least(0.8)),
             ("store", "trajectories through the writer thread",
              num(r"trajectories: writer (\d+) rows/s, raw (\d+) rows/s, ratio ([\d.]+)",
                  "{} rows/s (raw {}, ratio {})"), "-", None),
         ]),
    dict(name="learn", page="benchmarks/learn.md",
         prog=["./bench-learn", "{tmp}"], full=["1000000"], tiny=["1000"],
         rows=[
             ("learning", "one suggestion at the largest index (N/10), p50",
              num(r"^\s+(\d+) trajectories: p50 ([\d.]+) ms  p99 ([\d.]+) ms(?![\s\S]*trajectories: p50)",
                  "{1} ms at {0} (p99 {2} ms)", 2), "<= 1 ms", at_most(1)),
             ("learning", "stats over N trajectories, median",
              num(r"learn_stats over (\d+) trajectories \(3 strategies\): best [\d.]+ ms, "
                  r"median ([\d.]+) ms", "{1} ms over {0}", 2), "<= 100 ms", at_most(100)),
         ]),
    dict(name="console-frames", page="benchmarks/console.md",
         prog=["./bench-console-frames"], full=["500"], tiny=["5"],
         rows=[
             ("console", "frame with 1000 rows (200x50)",
              num(r"frame ([\d.]+) ms \(mean", "{} ms"), "<= 5 ms", at_most(5)),
         ]),
    dict(name="console-learn", page="benchmarks/console.md",
         prog=["./bench-console-learn"], full=["100000", "{tmp}"], tiny=["200", "{tmp}"],
         rows=[
             ("console", "learning snapshot: worker / UI thread",
              num(r"over (\d+) trajectories .*worker ([\d.]+) ms .* ([\d.]+) ms \(best of 20\)",
                  "{1} ms worker, {2} ms UI thread, at {0}", 3), "UI <= 5 ms", at_most(5)),
         ]),
    dict(name="console-idle", page="benchmarks/console.md", needs=["tmux"],
         prog=["sh", "{src}/tests/bench/console_idle.sh", "."], full=["10"], tiny=["1"],
         rows=[
             ("console", "idle console: CPU ticks / bytes to the terminal",
              num(r"(\d+) clock ticks of CPU .*, (\d+) bytes", "{} ticks, {} bytes"), "0 ticks",
              at_most(0)),
         ]),
    dict(name="console-keys", page="benchmarks/console.md",
         prog=["python3", "{src}/tests/bench/console_keys.py", "."], full=["20"], tiny=["2"],
         rows=[
             ("console", "key answered, bare pty, median",
              num(r"^key '\?'\s+median\s+([\d.]+) ms", "{} ms"), "-", None),
             ("console", "Esc answered, bare pty, median",
              num(r"^[Ee]sc\S*\s+median\s+([\d.]+) ms", "{} ms"), "~25 ms (ESCDELAY)", None),
         ]),
    dict(name="daemon", page="benchmarks/daemon.md",
         prog=["python3", "{src}/tests/bench/daemon_bench.py", "."], full=["40"], tiny=["2"],
         rows=[
             ("daemon", "one `deploy`, daemon - in process at p50",
              num(r"daemon - in-process at p50: ([+-][\d.]+) ms \(ratio ([\d.]+)\)",
                  "{} ms (ratio {})"), "<= +1 ms", at_most(1)),
         ]),
]


def missing_need(need):
    if need == "root" and os.geteuid() != 0:
        return "needs root"
    if need in ("tmux", "bwrap") and not shutil.which(need):
        return "needs " + need
    return None


def render(results, started, ended, load0, load1, tiny):
    out = []
    out.append("Last `make bench`%s: %s to %s UTC; %s." % (
        " (tiny sizes)" if tiny else "", started.strftime("%Y-%m-%d %H:%M"),
        ended.strftime("%H:%M"), machine()))
    out.append("Load average (1/5/15 min) %s at start, %s at the end; the load column is the "
               "1-minute average when that benchmark started. Other builds may share the "
               "machine: compare ratios measured in the same run. Commands run in the build "
               "directory; $TMP is a scratch directory." % ("/".join(load0),
                                                                        "/".join(load1)))
    out.append("")
    out.append("| area | what | measured | target | verdict | load | command | page |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in results:
        cmd = "`%s`" % r["cmd"]
        if r["skipped"]:
            for area, what, _, target, _ in r["bench"]["rows"]:
                out.append("| %s | %s | not run: %s | %s | - | - | %s | [%s](%s) |" % (
                    area, what, r["skipped"], target, cmd, r["bench"]["name"], r["bench"]["page"]))
            continue
        for (area, what, _, target, _), (measured, verdict) in zip(r["bench"]["rows"], r["rows"]):
            out.append("| %s | %s | %s | %s | %s | %s | %s | [%s](%s) |" % (
                area, what, measured, target, verdict or "-", r["load"], cmd, r["bench"]["name"],
                r["bench"]["page"]))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--doc")
    ap.add_argument("--raw")
    ap.add_argument("--only")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    src = os.path.abspath(a.source)
    only = set(a.only.split(",")) if a.only else None
    tmp = tempfile.mkdtemp(prefix="bench-all-")
    rel = os.path.relpath(src, build)
    results, raw, ok = [], [], True
    started = datetime.datetime.now(datetime.timezone.utc)
    load0 = loadavg()
    try:
        for b in BENCHES:
            if only and b["name"] not in only:
                continue
            argv = [x.format(src=src, tmp=tmp, build=build)
                    for x in b["prog"] + (b["tiny"] if a.tiny else b["full"])]
            # As typed in the build directory: the sources are relpath(src, build), the scratch
            # directory is $TMP (any empty directory).
            shown = " ".join(shlex.quote(x).replace(build + "/", "./").replace(src, rel)
                             .replace(tmp, "$TMP") for x in argv)
            r = dict(bench=b, cmd="cd build && " + shown, skipped=None, rows=[])
            results.append(r)
            why = next((m for m in map(missing_need, b.get("needs", [])) if m), None)
            if why:
                r["skipped"] = why
                print("%-15s skipped: %s" % (b["name"], why), flush=True)
                continue
            r["load"] = loadavg()[0]
            t0 = time.monotonic()
            p = subprocess.run(argv, cwd=build, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True, errors="replace")
            secs = time.monotonic() - t0
            # No path of this machine goes into the project's pages.
            shown_out = p.stdout.replace(build, "build").replace(src, rel).replace(tmp, "$TMP")
            raw.append("## %s\n\n```\n$ %s\n%s```\n\nexit %d, %.1f s, load %s at start\n" % (
                b["name"], r["cmd"], shown_out, p.returncode, secs, r["load"]))
            if p.returncode != 0:
                ok = False
                r["skipped"] = "failed (exit %d)" % p.returncode
                print("%-15s FAILED (exit %d):\n%s" % (b["name"], p.returncode, p.stdout[-3000:]),
                      flush=True)
                continue
            for area, what, ex, target, verdict in b["rows"]:
                got = ex(p.stdout)
                if got is None:
                    ok = False
                    r["rows"].append(("not found in the output", None))
                    print("%-15s %s: NOT FOUND in its output" % (b["name"], what), flush=True)
                    continue
                text, value = got
                r["rows"].append((text, verdict(value) if verdict and not a.tiny else None))
            print("%-15s %.1f s  %s" % (b["name"], secs,
                                        "; ".join(t for t, _ in r["rows"])), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ended = datetime.datetime.now(datetime.timezone.utc)
    table = render(results, started, ended, load0, loadavg(), a.tiny)
    # Without --doc (CI), the project's page is still checked for the markers `make bench` needs.
    docpath = a.doc or os.path.join(src, "docs", "benchmarks.md")
    with open(docpath) as f:
        doc = f.read()
    begin, end = "<!-- bench-all:begin -->\n", "<!-- bench-all:end -->"
    i, j = doc.find(begin), doc.find(end)
    if i < 0 or j < i:
        print("bench_all: %s has no %s...%s markers" % (docpath, begin.strip(), end),
              file=sys.stderr)
        return 1
    if a.doc:
        with open(a.doc, "w") as f:
            f.write(doc[:i + len(begin)] + table + doc[j:])
    else:
        sys.stdout.write("\n" + table)
    if a.raw:
        with open(a.raw, "w") as f:
            f.write("# Output of the last `make bench`\n\nWritten by `tests/bench/bench_all.py`; "
                    "the summary is in [benchmarks.md](../benchmarks.md).\n\n" + "\n".join(raw))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
