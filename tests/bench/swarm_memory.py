#!/usr/bin/env python3
"""swarm_memory.py: peak memory of a 10,000-deployment swarm, engine and clients.

Usage: swarm_memory.py BUILD_DIR [AGENTS]

One daemon (`swarmdeck serve --no-learning`) on a fresh store with the no-op strategy
(engine_noop, so the swarm is the engine's own work); `swarmdeck deploy -a AGENTS --json`
(default 10000) as its client, and a console attached in tmux during the swarm. Reported: the
peak resident set (VmHWM from /proc) of the daemon, the deploy client and the console, and the
in-process path for comparison (`deploy --no-daemon`, engine and client in one process).
Target (issue 17): under 500 MB each. A benchmark, not a test: nothing here asserts.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time


def hwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def watch_peak(proc, extra=()):
    """Wait for proc; return the highest VmHWM seen of proc and of each pid in extra."""
    peak = {proc.pid: 0}
    for p in extra:
        peak[p] = 0
    while proc.poll() is None:
        for p in peak:
            v = hwm_kb(p)
            if v is not None:
                peak[p] = max(peak[p], v)
        time.sleep(0.2)
    return peak


def main():
    build = os.path.abspath(sys.argv[1])
    agents = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    sd = os.path.join(build, "swarmdeck")
    noop = os.path.join(build, "engine_noop")
    d = tempfile.mkdtemp(prefix="swarmdeck-memory-bench-")
    os.chmod(d, 0o711)
    run = os.path.join(d, "run")
    os.mkdir(run, 0o700)
    shutil.copy(noop, os.path.join(d, "noop"))
    with open(os.path.join(d, "noop.json"), "w") as f:
        f.write('{"name":"noop","description":"does nothing","command":["./noop"],'
                '"files":["noop"],"params":[]}\n')
    env = dict(os.environ, SWARMDECK_DB=os.path.join(d, "store.db"), XDG_RUNTIME_DIR=run,
               XDG_STATE_HOME=os.path.join(d, "state"), XDG_CONFIG_HOME=os.path.join(d, "cfg"),
               TERM="tmux-256color", LC_ALL="C.UTF-8")
    subprocess.run([sd, "--no-daemon", "strategies", "add", os.path.join(d, "noop.json")],
                   env=env, check=True, capture_output=True)
    out = {}
    # in process: engine and client are one process
    t0 = time.monotonic()
    p = subprocess.Popen([sd, "--no-daemon", "deploy", "-s", "noop", "-a", str(agents),
                          "--no-learning", "--json"], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    out["in process (deploy --no-daemon)"] = watch_peak(p)[p.pid]
    t_in = time.monotonic() - t0
    # through the daemon, with a console attached
    daemon = subprocess.Popen([sd, "serve", "--no-learning"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock = "memory-bench-%d" % os.getpid()
    try:
        sockdir = os.path.join(run, "swarmdeck", "sock")
        deadline = time.monotonic() + 30
        while not (os.path.isdir(sockdir) and os.listdir(sockdir)):  # else deploy starts one
            if time.monotonic() > deadline:
                raise SystemExit("the daemon did not start")
            time.sleep(0.05)
        envs = " ".join("%s='%s'" % (k, env[k]) for k in
                        ("SWARMDECK_DB", "XDG_RUNTIME_DIR", "XDG_STATE_HOME", "XDG_CONFIG_HOME",
                         "TERM", "LC_ALL"))
        subprocess.run(["tmux", "-L", sock, "-f", "/dev/null", "new-session", "-d", "-x", "120",
                        "-y", "40", "exec env %s %s console --no-anim" % (envs, sd)], check=True)
        cpid = int(subprocess.run(["tmux", "-L", sock, "display-message", "-p", "#{pane_pid}"],
                                  capture_output=True, text=True).stdout.strip())
        t0 = time.monotonic()
        p = subprocess.Popen([sd, "deploy", "-s", "noop", "-a", str(agents), "--json"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peak = watch_peak(p, (daemon.pid, cpid))
        t_d = time.monotonic() - t0
        out["daemon (serve)"] = peak[daemon.pid]
        out["deploy client"] = peak[p.pid]
        out["console attached"] = peak[cpid]
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
        daemon.terminate()
        daemon.wait()
        shutil.rmtree(d, ignore_errors=True)
    print("swarm of %d no-op deployments: %.1f s in process, %.1f s through the daemon"
          % (agents, t_in, t_d))
    for k, v in out.items():
        print("%-34s peak RSS %7.1f MB" % (k, v / 1024.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
