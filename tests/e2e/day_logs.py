"""day_logs: `swarmdeck logs --run RUN [--follow]` (issue 16): every deployment's lines of a run,
prefixed "[ID] ", in the order written, followed live through the daemon.

The payload is probe.c's `forkticks` (numbered ticks from two processes per deployment), two
deployments per run. No assertion is timed: the follower is started before the run ends and
must end by itself when the run has; what it printed is checked against the store.

Cases:
  Logs.test_follow_run   the follower ends with the run and prints exactly the lines the
                         finished run's `logs --run` prints: every tick of both deployments,
                         each prefixed with its id, in stored-time order (--timestamps
                         non-decreasing), each deployment's ticks in their own order; plain to
                         a pipe, coloured per id on a terminal (none under NO_COLOR); bad
                         input refused (both an ID and --run, neither, an unknown run).
"""
import json
import os
import pty
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_e2e as d  # noqa: E402
import lib_e2e as e2e  # noqa: E402


def on_tty(argv, env):
    """Run argv with stdout and stderr on a pseudo-terminal; returns what it wrote."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    out = b""
    while True:
        try:
            b = os.read(fd, 65536)
        except OSError:
            break
        if not b:
            break
        out += b
    os.waitpid(pid, 0)
    os.close(fd)
    return out


class Logs(d.DaemonCase):
    NAME = "day-logs"

    def test_follow_run(self):
        env = self.env
        env.add_strategy(env.fixture_manifest("probe-forkticks"))
        daemon = env.serve()
        env.wait_listening(daemon)
        p = env.run("deploy", "--detach", "-a", "2", "-s", "probe-forkticks", "-p",
                    json.dumps({"n": 20, "rate": 20}), timeout=d.START_S)
        self.assertEqual(p.returncode, 0, p.stderr)
        run = int(re.search(rb"^run (\d+)\b", p.stdout, re.M).group(1))
        follower = subprocess.Popen(env.cmd("logs", "--run", str(run), "--follow"), env=env.env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=env.dir)
        out, err = follower.communicate(timeout=d.RUN_S)  # it must end by itself
        self.assertEqual(follower.returncode, 0, err)
        self.swarmdeck_wait(run, 0)
        ids = sorted(env.run_trajs(run))
        self.assertEqual(len(ids), 2)

        after = env.run("logs", "--run", str(run), check=0).stdout
        self.assertEqual(out, after, "the follower printed other lines than the ended run's")
        lines = out.decode().splitlines()
        self.assertNotIn("\x1b", out.decode(), "colour to a pipe")
        for tid in ids:
            mine = [ln[len("[%d] " % tid):] for ln in lines if ln.startswith("[%d] " % tid)]
            for who in ("parent", "child"):
                ticks = [int(m.group(1)) for m in
                         (re.match(r"%s tick (\d+)$" % who, x) for x in mine) if m]
                self.assertEqual(ticks, list(range(20)), (tid, who, mine))
            self.assertEqual(sum(x.startswith("@@result ") for x in mine), 1, mine)
        self.assertEqual(len(lines), 2 * (40 + 1), lines)
        self.assertTrue(all(re.match(r"\[(%d|%d)\] " % tuple(ids), ln) for ln in lines), lines)

        # Written order: the stored times never go back.
        stamped = env.run("logs", "--run", str(run), "--timestamps", check=0).stdout.decode()
        times = [m.group(1) for m in re.finditer(r"^\[\d+\] (\S+Z) ", stamped, re.M)]
        self.assertEqual(len(times), len(lines))
        self.assertEqual(times, sorted(times))
        # Both deployments' lines interleave (they ran at the same time), not one after the
        # other: the prefix is what tells them apart.
        firsts = [int(re.match(r"\[(\d+)\]", ln).group(1)) for ln in lines]
        self.assertGreater(sum(1 for a, b in zip(firsts, firsts[1:]) if a != b), 2, lines)

        # A terminal: each id in its own colour; NO_COLOR: none.
        tty_env = dict(env.env)
        tty_env.pop("NO_COLOR", None)
        shown = on_tty(env.cmd("logs", "--run", str(run)), tty_env)
        for i, tid in enumerate(ids):
            self.assertIn(b"\x1b[%dm[%d]\x1b[0m " % (31 + i % 6, tid), shown)
        shown = on_tty(env.cmd("logs", "--run", str(run)), env.env)
        self.assertNotIn(b"\x1b[", shown)
        self.assertIn(b"[%d] parent tick 19" % ids[0], shown)

        # Bad input says what is wrong and exits 2.
        for args, say in ((["logs", str(ids[0]), "--run", str(run)], b"one of them"),
                          (["logs"], b"one of them"),
                          (["logs", "--run", "999"], b"no run 999"),
                          (["logs", "--run", "x"], b"--run")):
            p = env.run(*args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(say, p.stderr)


if __name__ == "__main__":
    unittest.main()
