#!/usr/bin/env python3
"""remote_e2e.py: --host ssh://... against a real OpenSSH server on loopback.

The test generates a host key and a user key in a temporary directory, starts Debian's sshd on
127.0.0.1 (a free port, only that key accepted), and drives a store "on the server" (another
temporary directory) from the client side: `deploy --detach` starts the remote daemon on
demand through `dial-stdio --start`, `wait` and `status` answer through it, a foreground
deploy streams its results back, and a bad URL is refused. $SWARMDECK_SSH carries the ssh
options (the key, no known-hosts file), $SWARMDECK_REMOTE the remote swarmdeck. Everything it
started is stopped in tearDown, the remote daemon included (by the pid in its lock file).
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402

SSHD = "/usr/sbin/sshd"
SSH = shutil.which("ssh")
KEYGEN = shutil.which("ssh-keygen")




@unittest.skipUnless(os.path.exists(SSHD) and SSH and KEYGEN, "needs openssh-server and -client")
@unittest.skipUnless(os.geteuid() == 0, "sshd needs root to run as a server here")
class Remote(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("remote")
        self.ssh_dir = tempfile.mkdtemp(prefix="swarmdeck-sshd-")
        d = self.ssh_dir
        for name in ("hostkey", "userkey"):
            subprocess.run([KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f",
                            os.path.join(d, name)], check=True)
        shutil.copy(os.path.join(d, "userkey.pub"), os.path.join(d, "authorized_keys"))
        os.chmod(os.path.join(d, "authorized_keys"), 0o600)
        self.port = e2e.free_port()
        with open(os.path.join(d, "sshd_config"), "w") as f:
            f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s/hostkey\n"
                    "AuthorizedKeysFile %s/authorized_keys\nPasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
                    "PidFile %s/sshd.pid\nStrictModes no\nUsePAM no\n" % (self.port, d, d, d))
        os.makedirs("/run/sshd", exist_ok=True)
        # -D: stays in the foreground, so tearDown stops it like any child.
        self.sshd = subprocess.Popen([SSHD, "-D", "-f", os.path.join(d, "sshd_config"),
                                      "-E", os.path.join(d, "sshd.log")])

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return True
            except OSError:
                return False
        e2e.wait_for(listening, "sshd to listen")
        # The "server side": its own store directory (sshd's session has no XDG_RUNTIME_DIR,
        # so the remote daemon's sockets go under /tmp/swarmdeck-0/sock).
        self.remote_dir = tempfile.mkdtemp(prefix="swarmdeck-remote-")
        self.remote_db = os.path.join(self.remote_dir, "store.db")
        self.host = "ssh://root@127.0.0.1:%d%s" % (self.port, self.remote_db)
        self.env.env["SWARMDECK_SSH"] = (
            "ssh -i %s/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
            "-o LogLevel=ERROR -o BatchMode=yes" % d)
        self.env.env["SWARMDECK_REMOTE"] = e2e.SWARMDECK

    def tearDown(self):
        e2e.stop_daemon(self.remote_db)
        self.sshd.terminate()
        self.sshd.wait(30)
        shutil.rmtree(self.ssh_dir, ignore_errors=True)
        shutil.rmtree(self.remote_dir, ignore_errors=True)
        self.env.close()

    def run_host(self, *args, check=None, readonly=False):
        argv = [e2e.SWARMDECK, "--host", self.host] + (["--readonly"] if readonly else []) + \
            list(args)
        p = subprocess.run(argv, env=self.env.env, capture_output=True, timeout=300,
                           cwd=self.env.dir)
        if check is not None:
            self.assertEqual(p.returncode, check, "%s\nstdout: %s\nstderr: %s" % (
                " ".join(args), p.stdout.decode(errors="replace"),
                p.stderr.decode(errors="replace")))
        return p

    def test_deploy_wait_status(self):
        p = self.run_host("deploy", "-s", "momentum", "-a", "3", "--pace", "400", "--detach",
                          check=0)
        out = p.stdout.decode()
        self.assertIn("run 1: 3 deployment(s) queued on the daemon", out)
        p = self.run_host("wait", "1", "--bell", "--osc9", check=0)
        self.assertEqual(p.stdout.decode().strip(), "run 1: 3 succeeded, 0 failed (succeeded)")
        # The end announced: a desktop notification (OSC 9), then the bell.
        self.assertTrue(p.stderr.endswith(b"\x1b]9;run 1: 3 succeeded, 0 failed\x07\x07"),
                        p.stderr)
        # The store is on the "server" and nothing was made on the client's side.
        self.assertTrue(os.path.exists(self.remote_db))
        self.assertFalse(os.path.exists(self.env.db))
        con = __import__("sqlite3").connect("file:%s?mode=ro" % self.remote_db, uri=True)
        states = [r[0] for r in con.execute("SELECT status FROM trajectories WHERE run_id = 1")]
        con.close()
        self.assertEqual(states, ["succeeded"] * 3)
        # A foreground deploy streams its results back through ssh.
        p = self.run_host("deploy", "-s", "mean-reversion", "-a", "2", check=0)
        self.assertIn("2 deployment(s): 2 succeeded, 0 did not", p.stdout.decode())
        p = self.run_host("status", check=0)
        self.assertIn("host         " + self.host, p.stdout.decode())
        self.assertIn("5 succeeded", p.stdout.decode())
        # No ssh or dial-stdio left behind by the clients.
        left = subprocess.run(["pgrep", "-f", self.remote_dir + ".* dial-stdio"],
                              capture_output=True).stdout
        self.assertEqual(left.strip(), b"")

    def test_readonly_and_bad_url(self):
        self.run_host("deploy", "-s", "momentum", "--detach", check=0)
        # --readonly: the command refuses locally, and the read-only socket refuses a change
        # should a client send one anyway (tests/e2e/daemon_e2e.py covers that side).
        p = self.run_host("deploy", "-s", "momentum", check=2, readonly=True)
        self.assertIn(b"readonly", p.stderr.lower().replace(b"-", b""))
        p = self.run_host("status", check=0, readonly=True)
        self.assertIn(b"daemon", p.stdout)
        bad = subprocess.run([e2e.SWARMDECK, "--host", "tcp://somewhere", "status"],
                             env=self.env.env, capture_output=True, timeout=60)
        self.assertEqual(bad.returncode, 2)
        self.assertIn(b"ssh://", bad.stderr)


if __name__ == "__main__":
    unittest.main()
