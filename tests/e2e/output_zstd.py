#!/usr/bin/env python3
"""output_zstd: stored output is compressed (zstd, before encryption), carries the time each
chunk was received, and reads back byte exact, also from a store written before either.

- A plaintext and an encrypted store each run two momentum deployments: the rows are zstd
  frames (z = 1) several times smaller than the bytes, `logs` gives exactly what the runner
  prints when run directly, and the ratio on runner output is printed.
- `logs --timestamps` starts every line with a UTC time within the deployment's wall clock
  window, in order, and the rest of each line is the output's.
- A store as schema 3 left it (raw rows, no t or z column) opens, migrates (to the newest), and
  its output still reads byte exact; --timestamps marks the unknown times with "-".
"""
import datetime
import os
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402

PARAMS = '{"capital":100000,"commission":0,"allowShort":false,"lookback":20,"threshold":0.02,' \
         '"positionSize":10}'


class OutputZstd(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("zstd")
        self.want = e2e.runner_output("momentum", "SPX", PARAMS)

    def tearDown(self):
        self.env.close()

    def deploy(self, n=2):
        t0 = time.time()
        self.env.run("deploy", "-s", "momentum", "-a", str(n), "--symbol", "SPX",
                     "--params", PARAMS, "--no-learning", "--json", check=0)
        return t0, time.time()

    def check_store(self, env, t0, t1):
        rows = env.sql("SELECT z, count(*), sum(length(data)) FROM output GROUP BY z")
        by = {r[0]: (r[1], r[2]) for r in rows}
        self.assertIn(1, by, "no compressed row: %s" % rows)
        raw = sum(t["output_bytes"] for t in env.trajectories())
        stored = sum(r[2] for r in rows)
        print("runner output: %d bytes stored as %d (ratio %.2f)" % (raw, stored, raw / stored))
        self.assertLess(stored * 3, raw, "output hardly compressed: %d -> %d" % (raw, stored))
        for t in env.trajectories():
            self.assertEqual(t["status"], "succeeded", t)
            self.assertEqual(env.output(t["id"], 1), self.want)
            p = env.run("logs", str(t["id"]), "--timestamps", "--stream", "stdout", check=0)
            lines = p.stdout.split(b"\n")
            self.assertEqual(lines[-1], b"")
            stamps, rest = [], []
            for ln in lines[:-1]:
                ts, _, body = ln.partition(b" ")
                stamps.append(datetime.datetime.strptime(ts.decode(), "%Y-%m-%dT%H:%M:%S.%fZ")
                              .replace(tzinfo=datetime.timezone.utc).timestamp())
                rest.append(body)
            self.assertEqual(b"\n".join(rest) + b"\n", self.want)
            self.assertEqual(stamps, sorted(stamps))
            self.assertGreaterEqual(stamps[0], t0 - 1)
            self.assertLessEqual(stamps[-1], t1 + 1)

    def test_plaintext(self):
        t0, t1 = self.deploy()
        self.check_store(self.env, t0, t1)

    def test_encrypted(self):
        self.env.env["SWARMDECK_KEY"] = "correct horse battery staple zstd"
        t0, t1 = self.deploy()
        # Sealed after compression: the boxes are as small as the frames.
        self.check_store(self.env, t0, t1)
        self.assertEqual(self.env.sql("SELECT count(*) FROM output WHERE typeof(data) != 'blob'"),
                         [(0,)])

    def test_old_store(self):
        env = self.env
        self.deploy(1)
        (tid,) = env.sql("SELECT id FROM trajectories")[0]
        # Make it what schema 3 wrote: the output raw in two chunks, no t, no z.
        con = sqlite3.connect(env.db)
        con.execute("DELETE FROM output")
        con.execute("ALTER TABLE output DROP COLUMN t")
        con.execute("ALTER TABLE output DROP COLUMN z")
        # and what the later migration (5, the fleet) added
        con.execute("DROP INDEX traj_origin")
        con.execute("DROP INDEX traj_strategy_origin")  # and migration 6's (issue 15)
        for t in ("ins", "del", "upd"):  # and migration 7's (issue 15, the learning-row count)
            con.execute("DROP TRIGGER traj_learn_count_%s" % t)
        con.execute("DROP TABLE learn_count")
        con.execute("ALTER TABLE trajectories DROP COLUMN origin")
        con.execute("DROP TABLE fleet_outbox")
        con.execute("DROP TABLE fleet_cursor")
        half = len(self.want) // 2
        con.execute("INSERT INTO output(traj_id, seq, stream, data) VALUES (?, 0, 1, ?)",
                    (tid, self.want[:half]))
        con.execute("INSERT INTO output(traj_id, seq, stream, data) VALUES (?, 1, 1, ?)",
                    (tid, self.want[half:]))
        con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
        con.commit()
        con.close()
        # Read-only commands refuse an older schema; one read-write open migrates it.
        env.run("cleanup", check=0)
        self.assertEqual(env.output(tid, 1), self.want)
        self.assertEqual(env.sql("SELECT value FROM meta WHERE key = 'schema_version'"),
                         [("7",)])
        self.assertEqual(env.sql("SELECT count(*) FROM output WHERE t IS NULL AND z = 0"), [(2,)])
        p = env.run("logs", str(tid), "--timestamps", "--stream", "stdout", check=0)
        lines = p.stdout.split(b"\n")[:-1]
        self.assertTrue(all(ln.startswith(b"-" + b" " * 24) for ln in lines), lines[:3])
        self.assertEqual(b"".join(ln[25:] + b"\n" for ln in lines), self.want)


if __name__ == "__main__":
    unittest.main()
