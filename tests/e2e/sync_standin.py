"""sync_standin.py: `swarmdeck sync` through a stand-in for ssh that runs the remote command on
this machine (SWARMDECK_SSH pointing at a shell script), as a test rig or a jump wrapper would.

It hung: the client's relay (engine/client/client.c) spawned each connection's command with
every descriptor of the client process it did not mark close-on-exec, libcurl's sockets among
them. Real ssh closes what it inherits; a shell does not, so dial-stdio held the client's own
end of its connection and never saw the end of its input, and the client waited for it for
ever. Now a relayed command gets only its stdin, stdout and stderr.

Each sync runs under a deadline (subprocess timeout), so a hang fails the test instead of
holding ctest. The store's daemon that dial-stdio --start starts is stopped at the end.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402

DEADLINE_S = 60

STANDIN = """#!/bin/sh
# A stand-in for ssh: skip the options up to "--", drop the host, run the command here.
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do shift; done
shift
shift
sh -c "$1"
"""


class SyncStandin(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sd-sync-standin-")
        run = os.path.join(self.tmp, "run")
        os.mkdir(run, 0o700)
        self.ssh = os.path.join(self.tmp, "standin-ssh")
        with open(self.ssh, "w") as f:
            f.write(STANDIN)
        os.chmod(self.ssh, 0o700)
        self.local = os.path.join(self.tmp, "local.db")
        self.peer = os.path.join(self.tmp, "peer.db")
        self.env = dict(os.environ, XDG_RUNTIME_DIR=run, SWARMDECK_SSH=self.ssh,
                        SWARMDECK_REMOTE=e2e.SWARMDECK, HOME=self.tmp,
                        XDG_STATE_HOME=os.path.join(self.tmp, "state"))

    def tearDown(self):
        try:
            e2e.stop_daemon(self.peer)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def swarmdeck(self, db, *args):
        env = dict(self.env, SWARMDECK_DB=db)
        try:
            return subprocess.run([e2e.SWARMDECK] + list(args), env=env, capture_output=True,
                                  text=True, timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.fail("swarmdeck %s did not end within %d s" % (" ".join(args), DEADLINE_S))

    def test_sync_ends(self):
        for db in (self.local, self.peer):
            p = self.swarmdeck(db, "deploy", "--no-daemon", "-s", "momentum", "--symbol", "SPY")
            self.assertEqual(p.returncode, 0, p.stderr)
        url = "ssh://localhost" + self.peer
        p = self.swarmdeck(self.local, "sync", url, "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["pulled"]["added"], 1, p.stdout)
        self.assertEqual(out["pushed"]["added"], 1, p.stdout)
        # Again: nothing moves, and it ends again.
        p = self.swarmdeck(self.local, "sync", url, "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual((out["pulled"]["added"], out["pushed"]["added"]), (0, 0), p.stdout)


if __name__ == "__main__":
    unittest.main()
