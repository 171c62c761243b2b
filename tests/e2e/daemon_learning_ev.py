"""daemon_learning_ev: the daemon's learning snapshots, end to end (engine/serve/pump.c
pump_learning and learning(), server.c h_learning; docs/daemon.md "Events").

A real `swarmdeck serve` on a temporary store; a client follows GET /v1/events in a thread
while real deployments (momentum on SPY, unpaced) run in sandboxes. Checked:
  Basic   a run of 3: a "learning" event arrives whose totals match the finished deployments
          in the store (count, success ratio, reward mean, the strategy's own line), and
          GET /v1/learning answers the same snapshot with a seq to watch from.
  Burst   20 deployments finishing: far fewer than 20 learning events (at most one a second,
          so no more than the seconds the finishes spanned, plus the leading and trailing
          ones), and the last one carries the final count.

Nothing sleeps to make an assertion: every wait polls a condition against a deadline.
"""

import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_e2e import DaemonCase, EventStream, call, poll, START_S, RUN_S  # noqa: E402

LEARNED = ("succeeded", "failed", "timeout")


class Follower:
    """Reads the event stream from `since` in a thread, keeping every event with the
    monotonic time it was read."""

    def __init__(self, sock, since):
        self.events = []  # (time read, event)
        self.lock = threading.Lock()
        self.failure = []
        self.stop = False
        self.stream = EventStream(sock, since, timeout=RUN_S)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            while not self.stop:
                _, ev = self.stream.next()
                with self.lock:
                    self.events.append((time.monotonic(), ev))
        except BaseException as e:  # noqa: B902 - reported by the test
            if not self.stop:
                self.failure.append(repr(e))

    def of(self, kind):
        with self.lock:
            return [(t, e) for t, e in self.events if e.get("type") == kind]

    def close(self):
        self.stop = True
        self.stream.close()
        self.thread.join(30)


class LearningEvents(DaemonCase):
    NAME = "daemon-learnev"

    def start(self):
        env = self.env
        d = env.serve()
        env.wait_listening(d)
        st, ans, raw = call(env.sock(True), "GET", "/v1/learning")
        self.assertEqual(st, 200, raw)
        self.assertEqual(ans["learning"]["totalTrajectories"], 0, ans)
        self.assertEqual(ans["learning"]["strategies"], [], ans)
        self.assertIsNone(ans["learning"]["successRatio"], ans)
        f = Follower(env.sock(True), ans["seq"])
        self.addCleanup(f.close)
        return f

    def launch(self, agents):
        st, ans, raw = call(self.env.sock(), "POST", "/v1/deployments",
                            {"strategy": "momentum", "agents": agents, "symbol": "SPY"})
        self.assertEqual(st, 201, raw)
        return ans

    def wait_run_end(self, f, run):
        def ended():
            self.assertEqual(f.failure, [])
            return [e for _, e in f.of("run") if e["run"] == run]
        return poll(ended, RUN_S, "run %d's end" % run)[0]

    def stored(self, ids):
        """{id: (status, reward)} of these trajectories in the store."""
        q = "SELECT id, status, reward FROM trajectories WHERE id IN (%s)" % ",".join(
            str(int(i)) for i in ids)
        return {r[0]: (r[1], r[2]) for r in self.env.sql(q)}

    def wait_learning_total(self, f, total):
        def seen():
            self.assertEqual(f.failure, [])
            got = [e for _, e in f.of("learning") if e["learning"]["totalTrajectories"] == total]
            return got
        return poll(seen, START_S, "a learning event with %d trajectories" % total)[-1]

    def check_snapshot(self, snap, ids):
        rows = self.stored(ids)
        learned = [(s, r) for s, r in rows.values() if s in LEARNED]
        self.assertEqual(len(learned), len(ids), rows)
        n = len(learned)
        ok = sum(1 for s, _ in learned if s == "succeeded")
        mean = sum(r or 0.0 for _, r in learned) / n
        self.assertEqual(snap["totalTrajectories"], n, snap)
        self.assertEqual(snap["succeeded"], ok, snap)
        self.assertAlmostEqual(snap["successRatio"], ok / n, places=6)
        self.assertAlmostEqual(snap["rewardMean"], mean, places=6)
        self.assertEqual(len(snap["strategies"]), 1, snap)
        s = snap["strategies"][0]
        self.assertEqual((s["name"], s["n"]), ("momentum", n), s)
        self.assertAlmostEqual(s["successRatio"], ok / n, places=6)
        self.assertAlmostEqual(s["rewardMean"], mean, places=6)

    def test_learning_event_and_list(self):
        f = self.start()
        ans = self.launch(3)
        runev = self.wait_run_end(f, ans["run"])
        self.assertEqual(runev["succeeded"] + runev["failed"], 3, runev)
        ev = self.wait_learning_total(f, 3)
        self.assertIsInstance(ev["seq"], int)
        self.check_snapshot(ev["learning"], ans["ids"])

        st, got, raw = call(self.env.sock(True), "GET", "/v1/learning")
        self.assertEqual(st, 200, raw)
        self.assertEqual(got["learning"], ev["learning"])
        self.assertGreaterEqual(got["seq"], ev["seq"])
        # the wrong method on the path is refused, the daemon keeps serving
        st, _, raw = call(self.env.sock(), "POST", "/v1/learning", {})
        self.assertEqual(st, 405, raw)

    def test_burst_is_throttled_last_one_final(self):
        f = self.start()
        ans = self.launch(20)
        self.wait_run_end(f, ans["run"])
        last = self.wait_learning_total(f, 20)
        self.check_snapshot(last["learning"], ans["ids"])
        learning = f.of("learning")
        finishes = [t for t, e in f.of("state") if e["state"] in LEARNED]
        self.assertEqual(len(finishes), 20)
        # the trailing event is the newest one: nothing after it says otherwise
        self.assertEqual(learning[-1][1]["learning"]["totalTrajectories"], 20, learning[-1])
        totals = [e["learning"]["totalTrajectories"] for _, e in learning]
        self.assertEqual(totals, sorted(totals), "the totals went backwards: %s" % totals)
        span = finishes[-1] - finishes[0]
        sys.stderr.write("%d learning events for 20 finishes over %.2f s: totals %s\n"
                         % (len(learning), span, totals))
        self.assertLess(len(learning), 20, totals)
        # at most one a second while they finished, plus the first and the trailing one
        self.assertLessEqual(len(learning), int(span) + 3,
                             "%d learning events for finishes over %.1f s: %s"
                             % (len(learning), span, totals))
        st, got, raw = call(self.env.sock(True), "GET", "/v1/learning")
        self.assertEqual(st, 200, raw)
        self.assertEqual(got["learning"], last["learning"])


if __name__ == "__main__":
    unittest.main()
