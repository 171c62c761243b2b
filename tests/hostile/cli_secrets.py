"""cli_secrets: a swarmdeck process that holds a key dumps no core (issue 14, item 11).

`swarmdeck serve` is started three times, each with RLIMIT_CORE raised to its hard limit and a
long life, so its limits can be read from /proc/PID/limits while it holds what it was given:
with no secret at all (the control: the limit is left as it was), with the store's key in
SWARMDECK_KEY (an encrypted store), and with an E2B API key in E2B_API_KEY. With a key the core
file size must be 0, soft and hard; the dumpable flag itself is checked from inside a process by
tests/hostile/nodump_test.c (/proc does not show it)."""

import json
import os
import resource
import signal
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import lib_e2e as e2e  # noqa: E402

KEY = "a passphrase for the core dump test"
E2B_KEY = "e2b_" + "0123456789abcdef" * 2


def core_limit(pid):
    """(soft, hard) of 'Max core file size' in /proc/PID/limits, as strings."""
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max core file size"):
                parts = line.split()
                return parts[4], parts[5]
    raise AssertionError("no core limit in /proc/%d/limits" % pid)


def raise_core():
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


class Secrets(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("cli-secrets")
        self.env.env["XDG_STATE_HOME"] = self.env.path("state")
        os.mkdir(self.env.env["XDG_STATE_HOME"], 0o700)
        self.env.env.pop("E2B_API_KEY", None)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.env.close()

    def serve(self, db, extra_env):
        env = dict(self.env.env)
        env.update(extra_env)
        log = open(self.env.path(os.path.basename(db) + ".log"), "wb")
        p = subprocess.Popen([e2e.SWARMDECK, "--db", db, "serve"], env=env, cwd=self.env.dir,
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                             preexec_fn=raise_core)
        log.close()
        self.procs.append(p)

        def up():
            if p.poll() is not None:
                with open(self.env.path(os.path.basename(db) + ".log"), "rb") as f:
                    raise AssertionError("serve exited %d: %s" % (p.returncode, f.read()))
            q = subprocess.run([e2e.SWARMDECK, "--db", db, "status", "--json"], env=env,
                               capture_output=True, cwd=self.env.dir, timeout=60)
            try:
                return json.loads(q.stdout).get("daemon") not in (None, False)
            except ValueError:
                return False
        e2e.wait_for(up, "serve on %s to listen" % db, 60)
        return p

    def test_core_limit(self):
        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        plain = self.serve(self.env.path("plain.db"), {})
        if hard != 0:  # the control needs a limit to lose
            self.assertNotEqual(core_limit(plain.pid), ("0", "0"),
                                "a daemon holding no key lost its core limit")
        keyed = self.serve(self.env.path("keyed.db"), {"SWARMDECK_KEY": KEY})
        self.assertEqual(core_limit(keyed.pid), ("0", "0"), "a daemon holding the store's key")
        try:  # not dumpable: only root may read it (main.c blanks the key there anyway)
            with open("/proc/%d/environ" % keyed.pid, "rb") as f:
                self.assertNotIn(KEY.encode(), f.read())
        except PermissionError:
            pass
        e2b = self.serve(self.env.path("e2b.db"), {"E2B_API_KEY": E2B_KEY})
        self.assertEqual(core_limit(e2b.pid), ("0", "0"), "a daemon holding an E2B key")


if __name__ == "__main__":
    unittest.main()
