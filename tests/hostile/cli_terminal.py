"""cli_terminal: a hostile strategy's escape sequences never reach the operator's terminal through
the command line (issue 14, item 7; docs/security.md, "the terminal, memory and secrets").

The strategy (written here, a Python user strategy) carries escape sequences everywhere it can:
its manifest's description and a parameter's description, its stdout and stderr lines, its
@@error message, a string in its @@result (as ESC and as the C1 CSI U+009B), and, as a bundle
or an edited store could, the stored strategy name. Each command that shows one of them runs
under a pseudo-terminal (the pty module; the slave in raw mode so the bytes read are the bytes
written) and no ESC, BEL or C1 control from the strategy may arrive; the visible text around
them must (so a command that printed nothing would fail). The sequences tried: clear screen
(ESC [2J), set title (OSC 0 ... BEL), DECRQSS (DCS $q ... ST) and ENQ (the answerback request).
Where the output is not a terminal (a pipe) or `logs --raw` is asked for, the bytes are exact.
The deploy summary is checked in process and through a daemon (cli_print_view via daemon.c)."""

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
import tty
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import lib_e2e as e2e  # noqa: E402

ESC = b"\x1b"
CLEAR = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;PWNED-TITLE\x07"
DECRQSS = "\x1bP$q\"p\x1b\\"
ENQ = "\x05"
C1CSI = "\u009b2J"
HOSTILE = CLEAR + TITLE + DECRQSS + ENQ + C1CSI

STRATEGY = r'''
import json, sys, time
HOSTILE = %r
p = json.loads(sys.argv[sys.argv.index("--params") + 1])
print("visible-stdout " + HOSTILE, flush=True)
print("visible-stderr " + HOSTILE, file=sys.stderr, flush=True)
# a character split between two writes (most likely two stored chunks): shown whole
sys.stdout.buffer.write(b"split-\xc3")
sys.stdout.flush()
time.sleep(0.05)
sys.stdout.buffer.write(b"\xa9-end\n")
sys.stdout.flush()
if p["mode"] == 1:
    print("@@error " + json.dumps({"message": "visible-error " + HOSTILE}), flush=True)
    sys.exit(1)
print("@@result " + json.dumps({"total_return": 0.01, "sharpe": 0.5, "note": "visible-note " +
                                HOSTILE}), flush=True)
''' % HOSTILE


def scrub_own(out):
    """The CLI's own progress line clears itself with CR ESC [K on a terminal: that one is ours."""
    return out.replace(b"\r\x1b[K", b"")


def assert_no_escape(tc, out, what):
    out = scrub_own(out)
    for bad, name in ((ESC, "ESC"), (b"\x07", "BEL"), (b"\x05", "ENQ"), (b"\xc2\x9b", "C1 CSI"),
                      (b"\x9b", "8-bit CSI")):
        tc.assertNotIn(bad, out, "%s: %s reached the terminal:\n%r" % (what, name, out[-2000:]))


class Pty:
    """Run argv with stdout and stderr on a pseudo-terminal in raw mode (no ONLCR: the bytes read
    are the bytes the program wrote) and return (exit status, everything written)."""

    @staticmethod
    def run(argv, env, cwd, timeout=300):
        master, slave = pty.openpty()
        tty.setraw(slave)
        p = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=slave,
                             stderr=slave, start_new_session=True)
        os.close(slave)
        out = b""
        end = time.monotonic() + timeout
        while True:
            r, _, _ = select.select([master], [], [], 0.5)
            if r:
                try:
                    b = os.read(master, 65536)
                except OSError:  # EIO: every slave descriptor is closed
                    b = b""
                if not b:
                    break
                out += b
            elif p.poll() is not None and not r:
                # exited; drain what is left (the read returns EIO once empty)
                continue
            if time.monotonic() > end:
                p.kill()
                raise AssertionError("%r did not finish" % argv)
        os.close(master)
        return p.wait(), out


class Terminal(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("cli-terminal")
        d = self.env.path("hostile")
        os.mkdir(d)
        with open(os.path.join(d, "strategy.py"), "w") as f:
            f.write(STRATEGY)
        manifest = {
            "name": "hostile-term",
            "description": "visible-description " + HOSTILE,
            "command": ["/usr/bin/python3", "-I", "strategy.py"],
            "files": ["strategy.py"],
            "params": [{"name": "mode", "type": "integer", "default": 0, "min": 0, "max": 1,
                        "description": "visible-param " + HOSTILE}],
        }
        self.manifest = os.path.join(d, "manifest.json")
        with open(self.manifest, "w") as f:
            json.dump(manifest, f)
        self.env.add_strategy(self.manifest)
        self.daemon = None

    def tearDown(self):
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        self.env.close()

    def tty(self, *args, timeout=300):
        return Pty.run(self.env.cmd(*args), self.env.env, self.env.dir, timeout)

    def checked(self, what, want_visible, *args, status=0):
        rc, out = self.tty(*args)
        self.assertEqual(rc, status, "%s: exit %d\n%r" % (what, rc, out[-2000:]))
        with self.subTest(what):  # every command is checked (and reported) on its own
            assert_no_escape(self, out, what)
            for v in want_visible:
                self.assertIn(v.encode(), out, "%s: %r not shown:\n%r" % (what, v, out[-2000:]))
        return out

    def test_commands_under_a_terminal(self):
        env = self.env
        # deploy: the summary line carries the @@error message (in process)
        # (shown, made harmless: "?[2J")
        self.checked("deploy", ["visible-error ?[2J"], "--no-daemon", "deploy", "-s",
                     "hostile-term", "-p", '{"mode": 1}', "--timeout", "120", status=1)
        self.checked("deploy ok", ["succeeded"], "--no-daemon", "deploy", "-s", "hostile-term",
                     "--timeout", "120")
        trajs = env.trajectories()
        self.assertEqual([t["status"] for t in trajs], ["failed", "succeeded"])
        bad, good = trajs[0]["id"], trajs[1]["id"]
        self.assertIn(ESC.decode(), trajs[0]["error"])  # the store keeps the text as it was

        self.checked("show failed", ["visible-error"], "show", str(bad))
        self.checked("show ok", ["visible-note"], "show", str(good))
        self.checked("logs", ["visible-stdout", "visible-stderr"], "logs", str(bad))
        self.checked("logs stdout", ["split-\u00e9-end"], "logs", str(bad), "--stream", "stdout")
        self.checked("strategies", ["visible-description", "visible-param"], "strategies")
        self.checked("history", ["hostile-term"], "history")
        # JSON on a terminal: exact JSON, the same document as through a pipe, no escapes
        out = self.checked("show --json", ["visible-note"], "show", str(good), "--json")
        piped = env.run("show", str(good), "--json", check=0).stdout
        with self.subTest("show --json"):
            self.assertEqual(json.loads(out), json.loads(piped))
            self.assertIn(b"\\u009b", out.lower())
            self.assertIn("\u009b".encode(), piped)  # to a pipe: jansson's bytes, unchanged

        # a name only a bundle or an edited store can hold
        con = __import__("sqlite3").connect(env.db)
        con.execute("UPDATE trajectories SET strategy = ? WHERE id = ?",
                    ("evil" + TITLE + "-name", bad))
        con.commit()
        con.close()
        self.checked("history (name)", ["evil?]0;PWNED-TITLE?-name"], "history")
        self.checked("show (name)", ["evil?]0;PWNED-TITLE?-name"], "show", str(bad))
        # the learner keeps to catalogued strategies, so these show no hostile text here: they
        # are checked for leaks all the same (they print through the same filter)
        self.checked("patterns", ["PATTERN"], "patterns")
        self.checked("status", ["trajectories"], "status", "--patterns", "--learning")

        # exact bytes: to a pipe, and under --raw even on a terminal
        stored = env.output(bad, 1)
        self.assertIn(ESC, stored)
        self.assertEqual(env.run("logs", str(bad), "--stream", "stdout", check=0).stdout, stored)
        rc, out = self.tty("logs", str(bad), "--stream", "stdout", "--raw")
        with self.subTest("logs --raw"):
            self.assertEqual((rc, out), (0, stored))

    def test_daemon_summary_under_a_terminal(self):
        env = self.env
        env.env["XDG_STATE_HOME"] = env.path("state")
        os.mkdir(env.env["XDG_STATE_HOME"], 0o700)
        with open(env.path("serve.log"), "wb") as log:
            self.daemon = subprocess.Popen(env.cmd("serve"), env=env.env, cwd=env.dir,
                                           stdin=subprocess.DEVNULL, stdout=log,
                                           stderr=subprocess.STDOUT)

        def up():
            if self.daemon.poll() is not None:
                raise AssertionError("serve exited %d" % self.daemon.returncode)
            p = env.run("status", "--json", check=0)
            return json.loads(p.stdout).get("daemon") not in (None, False)
        e2e.wait_for(up, "the daemon to listen", 60)
        self.checked("deploy via daemon", ["visible-error ?[2J"], "deploy", "-s",
                     "hostile-term", "-p", '{"mode": 1}', "--timeout", "120", status=1)
        trajs = env.trajectories()
        self.assertEqual(len(trajs), 1)
        self.assertEqual(trajs[0]["status"], "failed")
        # it went through the daemon: the daemon records who asked in the run's spec
        spec = json.loads(env.sql("SELECT spec FROM runs")[0][0])
        self.assertIn("by", spec)


if __name__ == "__main__":
    unittest.main()
