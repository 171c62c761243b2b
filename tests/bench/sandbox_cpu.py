#!/usr/bin/env python3
"""sandbox_cpu: CPU (not latency) per sandbox of swarmdeck-sandbox, by way of starting it and by
isolation layer. Not a test: a benchmark (docs/benchmarks/sandbox.md has its numbers).

usage: sandbox_cpu.py HELPER [--runs N] [--rounds R] [--variants a,b,...] [--base HELPER0]

Every variant runs /bin/true in a fresh sandbox, N times serially, in R alternating rounds
(A, B, C, A, B, C, ...: a loaded machine drifts), and reports per sandbox:
  tree   CPU of the helper, its init and the payload (RUSAGE_CHILDREN of this process: every
         helper is our child, a pool member too, through CLONE_PARENT)
  kwork  CPU the kernel's worker threads spent meanwhile (kworker*: the network namespace's
         teardown runs there); includes whatever else the machine did, so read it as an upper
         bound and compare variants of the same run
Variants:
  cold        a cold helper per sandbox (posix_spawn, exec)
  pool-exec   a pooled helper exec'd per sandbox (--pool: the way before the pool master),
              prepared, then given its job
  pool-master a pooled helper forked by one --pool-master, prepared, then given its job (its
              cgroups reused from a slot of the master: docs/sandbox.md "Pool master")
  pool-master-fresh  the same with SWARMDECK_SANDBOX_CG_REUSE=0: cgroups made and removed per
              sandbox
  pool-master-sharednet  pool-master with SWARMDECK_SANDBOX_NETNS=shared (opt-in, not as
              isolated: docs/sandbox.md "Network"): one empty network namespace for all
  no-netns    cold, SWARMDECK_SANDBOX_DISABLE=netns (degraded: for the price of the layer only)
  no-cgroups  cold, SWARMDECK_SANDBOX_DISABLE=cg-memory,cg-cpu,cg-pids,cg-track
Run as root (uid ranges, cgroups), as the engine does. The pooled variants time nothing: the
CPU of the whole life of each sandbox counts, prepared or not.
--base HELPER0: every variant also runs with HELPER0 (shown as VARIANT@base), alternating with
HELPER in the same round: an A/B against another build (e.g. main's) on the same loaded machine."""

import os
import resource
import socket
import struct
import sys
import tempfile

LIMITS = ["--memory-mb", "256", "--pids", "64", "--timeout-ms", "30000"]


def kworker_ns():
    """CPU time (ns, /proc/PID/schedstat) of all kernel worker threads now."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                if not f.read().startswith("kworker"):
                    continue
            with open("/proc/%s/schedstat" % pid) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


def children_s():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def wait_ok(pid):
    _, st = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(st) != 0:
        sys.exit("a sandbox failed: status %d" % os.waitstatus_to_exitcode(st))


class Runner:
    def __init__(self, helper, wd):
        self.helper, self.wd = helper, wd
        self.null = os.open("/dev/null", os.O_RDWR)
        self.master = None
        self.seq = 0

    def spawn(self, argv, env, fds):
        """posix_spawn argv with stdin /dev/null and fds (a dict: target fd -> our fd)."""
        acts = [(os.POSIX_SPAWN_DUP2, self.null, 0)]
        for target, fd in fds.items():
            acts.append((os.POSIX_SPAWN_DUP2, fd, target))
        return os.posix_spawn(argv[0], argv, env, file_actions=acts)

    def cold(self, env):
        pid = self.spawn([self.helper, "--workdir", self.wd] + LIMITS + ["--", "/bin/true"],
                         env, {1: self.null, 2: self.null})
        wait_ok(pid)

    def job(self, sock):
        sock.sendall(b"".join(a.encode() + b"\0" for a in
                              ["--workdir", self.wd] + LIMITS + ["--", "/bin/true"]))
        sock.close()

    def pool_exec(self, env):
        ours, theirs = socket.socketpair()
        self.seq += 1
        pid = self.spawn([self.helper, "--pool", "--id", "cpub-%d-%d" % (os.getpid(), self.seq),
                          "--control-fd", "5"], env, {1: self.null, 2: self.null,
                                                      5: theirs.fileno()})
        theirs.close()
        self.job(ours)
        wait_ok(pid)

    def pool_master(self, env):
        if self.master is None:
            ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self.master_pid = self.spawn([self.helper, "--pool-master", "--control-fd", "5"],
                                         env, {1: self.null, 2: self.null, 5: theirs.fileno()})
            theirs.close()
            self.master = ctl
        ours, theirs = socket.socketpair()
        self.seq += 1
        socket.send_fds(self.master, [b"cpum-%d-%d" % (os.getpid(), self.seq)],
                        [self.null, self.null, self.null, theirs.fileno()])
        theirs.close()
        pid = struct.unpack("i", self.master.recv(4))[0]
        if pid <= 0:
            sys.exit("the pool master refused: %d" % pid)
        self.job(ours)
        wait_ok(pid)

    def stop(self):
        if self.master is not None:
            self.master.close()
            os.waitpid(self.master_pid, 0)
            self.master = None


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    helper = os.path.abspath(sys.argv[1])
    runs, rounds = 100, 3
    variants = ["cold", "pool-exec", "pool-master", "pool-master-fresh", "no-netns", "no-cgroups"]
    base = None
    args = sys.argv[2:]
    while args:
        a = args.pop(0)
        if a == "--runs":
            runs = int(args.pop(0))
        elif a == "--rounds":
            rounds = int(args.pop(0))
        elif a == "--variants":
            variants = args.pop(0).split(",")
        elif a == "--base":
            base = os.path.abspath(args.pop(0))
        else:
            sys.exit("unknown argument " + a)
    base_env = {"PATH": "/usr/bin:/bin"}
    envs = {"no-netns": dict(base_env, SWARMDECK_SANDBOX_DISABLE="netns"),
            "no-cgroups": dict(base_env,
                               SWARMDECK_SANDBOX_DISABLE="cg-memory,cg-cpu,cg-pids,cg-track"),
            "pool-master-fresh": dict(base_env, SWARMDECK_SANDBOX_CG_REUSE="0"),
            "pool-master-sharednet": dict(base_env, SWARMDECK_SANDBOX_NETNS="shared")}
    wd = tempfile.mkdtemp(prefix="sbxcpu-")
    os.chmod(wd, 0o755)
    runners = {"": Runner(helper, wd)}
    if base:
        runners["@base"] = Runner(base, wd)
        variants = [v + k for v in variants for k in ("", "@base")]
    acc = {v: [0.0, 0.0, 0] for v in variants}
    for _ in range(rounds):
        for v in variants:
            r = runners["@base" if v.endswith("@base") else ""]
            name = v[:-len("@base")] if v.endswith("@base") else v
            env = envs.get(name, base_env)
            fn = {"pool-exec": r.pool_exec, "pool-master": r.pool_master,
                  "pool-master-fresh": r.pool_master,
                  "pool-master-sharednet": r.pool_master}.get(name, r.cold)
            fn(env)  # warm-up (the master's exec is not counted)
            t0, k0 = children_s(), kworker_ns()
            for _ in range(runs):
                fn(env)
            r.stop()  # the master's own CPU (its exec too, once a round) counts
            t1, k1 = children_s(), kworker_ns()
            acc[v][0] += t1 - t0
            acc[v][1] += (k1 - k0) / 1e9
            acc[v][2] += runs
    os.rmdir(wd)
    la = open("/proc/loadavg").read().split()[:3]
    print("sandbox CPU per start of /bin/true (%d x %d runs each, alternating; load %s)"
          % (rounds, runs, " ".join(la)))
    print("%-24s %10s %10s %10s" % ("variant", "tree ms", "kwork ms", "sum ms"))
    for v in variants:
        tree, kw, n = acc[v]
        print("%-24s %10.2f %10.2f %10.2f" % (v, tree * 1e3 / n, kw * 1e3 / n,
                                              (tree + kw) * 1e3 / n))


if __name__ == "__main__":
    main()
