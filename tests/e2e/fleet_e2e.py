#!/usr/bin/env python3
"""fleet_e2e.py: the fleet (docs/fleet.md) with real servers on loopback.

Fleet: one `nats-server -js` (started here, its own storage directory and monitoring port) and
three daemons on separate stores (`serve --fleet`), the third one encrypted. After a swarm on
each, the three stores hold the same set of finished trajectories; killing nats-server mid-swarm
and starting it again loses and duplicates nothing (the stream holds each trajectory once, each
store each uuid once); a daemon that was down catches up, and publishes what was made on its store
while it was away; a record changed on the way is refused (log and metric), never stored, while an
intact one sent the same way is taken.

Sync: `swarmdeck sync ssh://...` against Debian's sshd on loopback (as remote_e2e.py): a pull
and a push, a second sync moves nothing, a new trajectory moves alone, and an unreachable peer is
a clear error with the local store unchanged (not even created).
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402

NATS = shutil.which("nats-server") or "/usr/sbin/nats-server"
SSHD = "/usr/sbin/sshd"
SSH = shutil.which("ssh")
KEYGEN = shutil.which("ssh-keygen")
KEY = "fleet-e2e-passphrase"


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return True
    except OSError:
        return False


class Nats:
    """A nats-server with JetStream on loopback; start() again reuses port and storage."""

    def __init__(self, root):
        self.dir = os.path.join(root, "nats")
        os.makedirs(self.dir, exist_ok=True)
        self.port = e2e.free_port()
        self.mon = e2e.free_port()
        self.proc = None

    def start(self):
        log = open(os.path.join(self.dir, "nats.log"), "ab")
        self.proc = subprocess.Popen([NATS, "-js", "-a", "127.0.0.1", "-p", str(self.port),
                                      "-m", str(self.mon), "-sd", self.dir],
                                     stdout=log, stderr=log)
        log.close()
        e2e.wait_for(lambda: listening(self.port), "nats-server to listen")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.proc = None

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
            self.proc = None

    def url(self):
        return "nats://127.0.0.1:%d" % self.port

    def stream_messages(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/jsz?streams=true" % self.mon,
                                    timeout=10) as r:
            j = json.load(r)
        for acc in j.get("account_details", []):
            for st in acc.get("stream_detail", []):
                if st["name"] == "SWARMDECK_TRAJ":
                    return st["state"]["messages"]
        return None


class Daemon:
    """One store and its `serve --fleet`, its log in the store's directory."""

    def __init__(self, name, nats, encrypted=False, metrics=False):
        self.name = name
        self.env = e2e.Env("fleet-" + name)
        self.env.env["XDG_STATE_HOME"] = self.env.path("state")
        if encrypted:
            self.env.env["SWARMDECK_KEY"] = KEY
        self.nats = nats
        self.metrics = e2e.free_port() if metrics else None
        self.log = self.env.path("serve.log")
        self.proc = None

    def start(self, *extra):
        args = ["serve", "--fleet", self.nats.url(), "--fleet-name", self.name,
                "--max-agents", "3"] + list(extra)
        if self.metrics:
            args += ["--metrics", "127.0.0.1:%d" % self.metrics]
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(self.env.cmd(*args), env=self.env.env, stdout=log,
                                     stderr=log, cwd=self.env.dir)
        log.close()
        e2e.wait_for(lambda: b"serving " in open(self.log, "rb").read(), "%s to serve" % self.name)

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(60)
            self.proc = None

    def uuids(self):
        """Finished trajectories: {uuid: origin}, and how many rows (to see a duplicate)."""
        rows = self.env.sql("SELECT uuid, origin FROM trajectories WHERE status IN "
                            "('succeeded','failed','timeout','cancelled','interrupted')")
        return {u: o for u, o in rows}, len(rows)

    def logtext(self):
        return open(self.log, "rb").read().decode(errors="replace")

    def scrape(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics,
                                    timeout=10) as r:
            return r.read().decode()


def envelope(origin, rec):
    return json.dumps({"origin": origin, "record": rec}).encode()


def nats_publish(port, subject, payloads):
    """Publish raw messages with the NATS text protocol (PUB), then PING/PONG so the server
    has them: what a hostile or broken fleet member could send."""
    s = socket.create_connection(("127.0.0.1", port), 10)
    f = s.makefile("rb")
    assert f.readline().startswith(b"INFO ")
    s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n')
    for p in payloads:
        s.sendall(b"PUB %s %d\r\n%s\r\n" % (subject.encode(), len(p), p))
    s.sendall(b"PING\r\n")
    line = f.readline()
    while line.startswith(b"INFO"):
        line = f.readline()
    assert line.startswith(b"PONG"), line
    s.close()


@unittest.skipUnless(os.path.exists(NATS), "needs nats-server")
class Fleet(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="swarmdeck-fleet-")
        self.nats = Nats(self.root)
        self.nats.start()
        self.d = [Daemon("alpha", self.nats, metrics=True), Daemon("beta", self.nats),
                  Daemon("gamma.crypt", self.nats, encrypted=True)]
        for d in self.d:
            d.start()

    def tearDown(self):
        for d in self.d:
            d.stop()
        self.nats.stop()
        for d in self.d:
            d.env.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def deploy_all(self, agents, detach=False, pace=False):
        """A swarm on each daemon at once; returns the run ids when detached. pace: each
        deployment replays its bars at 3000 a second, so the swarm lasts seconds."""
        procs = [d.env.popen("deploy", "-s", "momentum", "-a", str(agents),
                             *(["--detach"] if detach else []),
                             *(["--pace", "3000"] if pace else [])) for d in self.d]
        runs = []
        for d, p in zip(self.d, procs):
            out, err = p.communicate(timeout=600)
            self.assertEqual(p.returncode, 0, "%s: %s %s" % (d.name, out, err))
            if detach:
                runs.append(int(out.decode().split("run ")[1].split(":")[0]))
        return runs

    def converged(self, total):
        sets = [d.uuids() for d in self.d]
        if all(len(s[0]) == total and s[1] == total for s in sets) and \
                len({frozenset(s[0]) for s in sets}) == 1:
            return sets
        return None

    def wait_converged(self, total, what):
        try:
            return e2e.wait_for(lambda: self.converged(total), what, 180)
        except AssertionError:
            raise AssertionError("%s: %r" % (what, [(d.name, d.uuids()[1]) for d in self.d]))

    def test_three_daemons_converge(self):
        self.deploy_all(4)
        sets = self.wait_converged(12, "the three stores to hold the same 12 trajectories")
        for d, (by_uuid, rows) in zip(self.d, sets):
            origins = sorted(str(o) for o in by_uuid.values())
            others = sorted(x.name for x in self.d if x is not d)
            self.assertEqual(origins, sorted(["None"] * 4 + [others[0]] * 4 + [others[1]] * 4),
                             d.name)
            # The chain of each store holds the synced trajectories too, unbroken.
            d.env.run("verify", check=0)
        # The encrypted store keeps what arrived encrypted at rest (sealed BLOBs).
        gamma = self.d[2]
        kinds = gamma.env.sql("SELECT DISTINCT typeof(params) FROM trajectories "
                              "WHERE origin IS NOT NULL")
        self.assertEqual(kinds, [("blob",)])
        # Learning sees the fleet: origin counts in patterns --json.
        p = self.d[0].env.run("patterns", "--json", check=0)
        origins = {o["origin"]: o["trajectories"] for o in json.loads(p.stdout)["origins"]}
        self.assertEqual(origins, {None: 4, "beta": 4, "gamma.crypt": 4})
        # Each published once, stored once by the stream.
        self.assertEqual(self.nats.stream_messages(), 12)
        m = self.d[0].scrape()
        self.assertIn('swarmdeck_fleet_records_total{result="added"} 8', m)
        self.assertIn("swarmdeck_fleet_connected 1", m)

    def test_nats_restart_mid_swarm(self):
        runs = self.deploy_all(15, detach=True, pace=True)
        alpha, beta = self.d[0], self.d[1]
        # Some of alpha's arrive at beta: the fleet runs; then NATS dies mid-swarm.
        e2e.wait_for(lambda: list(beta.uuids()[0].values()).count("alpha") >= 2,
                     "beta to receive from alpha")
        self.nats.kill()
        open_runs = alpha.env.sql("SELECT count(*) FROM runs WHERE id = ? AND ended_at IS NULL",
                                  (runs[0],))[0][0]
        e2e.wait_for(lambda: "lost nats://" in alpha.logtext(), "alpha to notice NATS is gone")
        # The swarms go on without NATS; what they finish waits in the outboxes.
        e2e.wait_for(lambda: alpha.env.sql("SELECT count(*) FROM fleet_outbox")[0][0] >= 2,
                     "alpha to finish trajectories while NATS is down", 300)
        self.nats.start()
        for d, run in zip(self.d, runs):
            d.env.run("wait", str(run), check=0, timeout=600)
        sets = self.wait_converged(45, "the stores to converge after NATS came back")
        self.assertEqual(self.nats.stream_messages(), 45)
        for d, (by_uuid, rows) in zip(self.d, sets):
            self.assertEqual(rows, 45, d.name)
            self.assertEqual(d.env.sql("SELECT count(*) FROM fleet_outbox")[0][0], 0, d.name)
        self.assertEqual(open_runs, 1, "the swarm had ended before NATS was killed")

    def test_down_daemon_catches_up(self):
        gamma = self.d[2]
        gamma.stop()
        procs = [d.env.popen("deploy", "-s", "momentum", "-a", "3") for d in self.d[:2]]
        for p in procs:
            self.assertEqual(p.wait(600), 0)
        # Work on gamma's store while its daemon is away (in process, no fleet).
        gamma.env.run("--no-daemon", "deploy", "-s", "momentum", "-a", "2", check=0)
        e2e.wait_for(lambda: len(self.d[1].uuids()[0]) == 6, "beta to have alpha's")
        gamma.start()
        self.wait_converged(8, "gamma to catch up, and the others to get its own")

    def test_tampered_record_refused(self):
        # Records made on a store outside the fleet, exported with their output.
        other = e2e.Env("fleet-other")
        try:
            other.run("--no-daemon", "deploy", "-s", "momentum", "-a", "2", check=0)
            bundle = json.loads(other.run("export", check=0).stdout)
        finally:
            other.close()
        good, bad = bundle["trajectories"]
        bad = json.loads(json.dumps(bad))
        bad["params"] = {"lookback": 3}  # changed on the way: the fingerprint no longer holds
        nats_publish(self.nats.port, "swarmdeck.traj.evil",
                     [envelope("evil", bad), b"{not json", envelope("evil", good)])
        for d in self.d:
            e2e.wait_for(lambda: good["uuid"] in d.uuids()[0], "%s to take the intact record"
                         % d.name)
        e2e.wait_for(lambda: 'swarmdeck_fleet_records_total{result="refused"} 2' in
                     self.d[0].scrape(), "alpha to count two refused records")
        for d in self.d:
            self.assertNotIn(bad["uuid"], d.uuids()[0], d.name)
            self.assertEqual(d.uuids()[0][good["uuid"]], "evil")
            self.assertIn("refused a record from swarmdeck.traj.evil", d.logtext())
            self.assertIn("does not match its fingerprint", d.logtext())


@unittest.skipUnless(os.path.exists(SSHD) and SSH and KEYGEN, "needs openssh-server and -client")
@unittest.skipUnless(os.geteuid() == 0, "sshd needs root to run as a server here")
class Sync(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("sync")
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
        self.sshd = subprocess.Popen([SSHD, "-D", "-f", os.path.join(d, "sshd_config"),
                                      "-E", os.path.join(d, "sshd.log")])
        e2e.wait_for(lambda: listening(self.port), "sshd to listen")
        # The peer: its own store, used directly (no daemon) to make trajectories there.
        self.peer = e2e.Env("sync-peer")
        self.peer_url = "ssh://root@127.0.0.1:%d%s" % (self.port, self.peer.db)
        self.env.env["SWARMDECK_SSH"] = (
            "ssh -i %s/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
            "-o LogLevel=ERROR -o BatchMode=yes" % d)
        self.env.env["SWARMDECK_REMOTE"] = e2e.SWARMDECK

    def tearDown(self):
        e2e.stop_daemon(self.peer.db)
        self.sshd.terminate()
        self.sshd.wait(30)
        shutil.rmtree(self.ssh_dir, ignore_errors=True)
        self.peer.close()
        self.env.close()

    def sync(self, url=None, check=0):
        p = self.env.run("sync", url or self.peer_url, "--json", check=check)
        return json.loads(p.stdout) if check == 0 else p

    def uuids(self, env):
        return {u: o for u, o in env.sql("SELECT uuid, origin FROM trajectories")}

    def test_pull_push_then_nothing(self):
        self.env.run("--no-daemon", "deploy", "-s", "momentum", "-a", "3", check=0)
        self.peer.run("--no-daemon", "deploy", "-s", "mean-reversion", "-a", "2", check=0)
        r = self.sync()
        self.assertEqual((r["pulled"]["added"], r["pushed"]["added"]), (2, 3), r)
        here, there = self.uuids(self.env), self.uuids(self.peer)
        self.assertEqual(set(here), set(there))
        self.assertEqual(len(here), 5)
        # Origins: each side marks what came from the other with its fleet name.
        self.assertEqual(sorted(str(o) for o in here.values()),
                         sorted(["None"] * 3 + [r["name"]] * 2))
        self.assertEqual(sum(1 for o in there.values() if o is not None), 3)
        # A second sync moves nothing, either way (nothing even crosses).
        r = self.sync()
        moved = [r[k][f] for k in ("pulled", "pushed") for f in ("added", "skipped", "refused")]
        self.assertEqual(moved, [0] * 6, r)
        # A new trajectory on the peer (through its daemon, which sync started) moves alone.
        self.env.run("--host", self.peer_url, "deploy", "-s", "momentum", db=False, check=0)
        r = self.sync()
        self.assertEqual((r["pulled"]["added"], r["pulled"]["skipped"], r["pushed"]["added"]),
                         (1, 0, 0), r)
        self.assertEqual(len(self.uuids(self.env)), 6)
        self.env.run("verify", check=0)

    def test_unreachable_peer_changes_nothing(self):
        dead = "ssh://root@127.0.0.1:%d%s" % (e2e.free_port(), self.peer.db)
        # No local store yet: it is not even created.
        p = self.sync(dead, check=3)
        self.assertIn(b"cannot reach " + dead.encode(), p.stderr)
        self.assertFalse(os.path.exists(self.env.db))
        # With one: byte for byte the same afterwards.
        self.env.run("--no-daemon", "deploy", "-s", "momentum", check=0)
        before = hashlib.sha256(open(self.env.db, "rb").read()).hexdigest()
        p = self.sync(dead, check=3)
        self.assertIn(b"nothing changed", p.stderr)
        self.assertEqual(hashlib.sha256(open(self.env.db, "rb").read()).hexdigest(), before)
        self.assertEqual(self.env.sql("SELECT count(*) FROM fleet_cursor"), [(0,)])
        # A peer that is not ssh:// is a usage error.
        p = self.env.run("sync", "nats://127.0.0.1:1", check=2)
        self.assertIn(b"expected ssh://", p.stderr)


if __name__ == "__main__":
    unittest.main()
