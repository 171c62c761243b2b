#!/usr/bin/env python3
"""fleet_learning_ev.py: trajectories that arrive by the fleet's background path (engine/fleet:
NATS, merged in the fleet's own thread) produce a "learning" event on the daemon that receives
them (engine/serve/pump.c compares learn_version; docs/daemon.md "Events").

A real nats-server with JetStream and two daemons (`serve --fleet`) on loopback (fleet_e2e.py's
helpers). beta's event stream is followed from its current seq; three deployments run on alpha;
beta's store receives them through the fleet, and a "learning" event on beta must then carry
totalTrajectories 3. beta runs nothing itself, so only the fleet's merge can have told its pump.
Every wait polls a condition against a deadline.
"""
import os
import shutil
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleet_e2e as fl  # noqa: E402
from daemon_e2e import EventStream, call, poll  # noqa: E402

import hashlib  # noqa: E402


def sock_of(daemon, readonly=True):
    """Where daemon's `serve` listens (sock.c: the first 8 bytes of the SHA3-512 of the
    store's absolute path, under XDG_RUNTIME_DIR)."""
    env = daemon.env
    digest = hashlib.sha3_512(os.path.realpath(env.db).encode()).hexdigest()[:16]
    return os.path.join(env.run_dir, "swarmdeck", "sock", digest + (".ro" if readonly else ""))


@unittest.skipUnless(os.path.exists(fl.NATS), "needs nats-server")
class FleetLearning(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="swarmdeck-fleetlearn-")
        self.nats = fl.Nats(self.root)
        self.nats.start()
        self.d = [fl.Daemon("alpha", self.nats), fl.Daemon("beta", self.nats)]
        for d in self.d:
            d.start()

    def tearDown(self):
        for d in self.d:
            d.stop()
        self.nats.stop()
        for d in self.d:
            d.env.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def test_fleet_merge_sends_learning_event(self):
        alpha, beta = self.d
        sock = sock_of(beta)
        poll(lambda: os.path.exists(sock), 60, "beta's socket")
        st, ans, raw = call(sock, "GET", "/v1/learning")
        self.assertEqual(st, 200, raw)
        self.assertEqual(ans["learning"]["totalTrajectories"], 0, ans)
        events, failure = [], []
        stream = EventStream(sock, ans["seq"], timeout=300)
        lock = threading.Lock()

        def follow():
            try:
                while True:
                    _, ev = stream.next()
                    with lock:
                        events.append(ev)
            except BaseException as e:  # noqa: B902 - reported below unless closed
                failure.append(repr(e))

        t = threading.Thread(target=follow, daemon=True)
        t.start()
        self.addCleanup(stream.close)

        p = alpha.env.run("deploy", "-s", "momentum", "-a", "3", check=0)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        poll(lambda: len(beta.uuids()[0]) == 3, 180, "beta's store to hold alpha's 3 runs")

        def learned():
            with lock:
                got = [e for e in events if e.get("type") == "learning" and
                       e["learning"]["totalTrajectories"] == 3]
                if not got and failure:
                    raise AssertionError("event stream: %s" % failure)
                return got
        ev = poll(learned, 120, "a learning event on beta with the fleet's 3 runs")[-1]
        self.assertEqual([s["name"] for s in ev["learning"]["strategies"]], ["momentum"])
        # beta made no deployment: no run event of its own explains the snapshot.
        with lock:
            self.assertEqual([e for e in events if e.get("type") == "run"], [])


if __name__ == "__main__":
    unittest.main()
