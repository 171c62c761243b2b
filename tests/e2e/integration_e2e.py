"""integration_e2e: the E2B provider, encryption at rest with the fingerprint chain, and the
`benchmark` command, combined. Each feature has its own tests (e2b_e2e.py, security_e2e.py,
benchmark_e2e.py); these check what only shows when they meet.

  EncryptedE2b     E2B deployments (through the double) on an encrypted store: results and
                   output equal a local run's; neither the E2B API key nor the store key is in
                   the store/WAL bytes, the export, the logs or anything printed; verify
                   passes; the bundle imports into a fresh store with another key and verifies.
  EncryptedBench   `benchmark` twice on an encrypted store: runs.summary is sealed on disk and
                   the second run compares with the first (the reader's views decrypt it).
  E2bBench         `benchmark --provider e2b`: a scenario with a known failing share gives exact
                   rates; a failing double gives provider errors, or with --failover local the
                   strategy's own rates again, and the report says where deployments ran; a
                   run compares only with earlier runs on the same provider.
  EncryptedSweep   kill -9 mid-swarm on an encrypted store with E2B, then `cleanup`: no sandbox
                   of ours is left in the double and the chain (interrupted records) verifies.
                   Inherits e2b_e2e.Sweep, so both its tests run here on an encrypted store.
  Rekey            a store with E2B trajectories and benchmark runs is encrypted, rekeyed and
                   decrypted; status, verify, patterns and the benchmark comparison hold. A
                   rekey while an E2B deploy runs: the deploy stops writing (it holds the old
                   key) and the store verifies under the new key after `cleanup`.
  Status           `status --json` shows providers with breakers, encryption and the chain
                   (E2B healthy, then its breaker open and a failover to local).

Tests that run only the static fixture (BENCH_FLAKY) in local sandboxes, and the runner only
through the double, also run in the ASan+UBSan tree (integration.cmake).

Environment (tests/e2e/integration.cmake): SWARMDECK_BIN_DIR, SWARMDECK_SRC_DIR, BENCH_FLAKY.
"""

import base64
import json
import os
import shutil
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import benchmark_e2e  # noqa: E402
import e2b_e2e  # noqa: E402
import lib_e2e as e2e  # noqa: E402
from security_e2e import store_bytes  # noqa: E402

E2B_KEY = e2b_e2e.KEY
KEY = base64.b64encode(bytes(range(7, 39))).decode()
KEY2 = "integration passphrase SENTINEL-KEY2"
DESC = "integration SENTINEL-DESC quagga"
PARAMS = '{"lookback":17,"threshold":0.0271828}'
LENIENT = benchmark_e2e.LENIENT


class IEnv(e2b_e2e.E2bEnv):
    """An E2bEnv (a running double) whose store is encrypted with KEY (SWARMDECK_KEY) unless
    key=None. Everything swarmdeck prints is kept in self.printed for the secret checks."""

    def __init__(self, name, key=KEY, config=None, page_size=100):
        super().__init__(name, page_size=page_size, config=config)
        self.printed = b""
        if key is not None:
            self.env["SWARMDECK_KEY"] = key

    def run(self, *args, **kw):
        p = super().run(*args, **kw)
        self.printed += p.stdout + p.stderr
        return p

    def export(self, name="export.json"):
        path = self.path(name)
        self.run("export", "-o", path, check=0)
        with open(path) as f:
            return json.load(f)

    def verify(self):
        return json.loads(self.run("verify", "--json", check=0).stdout)

    def all_file_bytes(self):
        """(path, bytes) of every file under our dir: store, WAL, exports, logs, reports."""
        for root, _, files in os.walk(self.dir):
            for name in files:
                path = os.path.join(root, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    with open(path, "rb") as f:
                        yield path, f.read()

    def add_flaky(self):
        """Register tests/fixtures/strategies/bench_flaky.c (BENCH_FLAKY) as `bench-flaky`."""
        fixture = os.environ.get("BENCH_FLAKY", "")
        assert os.access(fixture, os.X_OK), "BENCH_FLAKY is not the built fixture: %r" % fixture
        shutil.copy(fixture, self.path("bench-flaky"))
        manifest = {
            "name": "bench-flaky", "description": "fails when fail=1",
            "command": ["./bench-flaky"], "files": [self.path("bench-flaky")],
            "params": [
                {"name": "fail", "type": "integer", "default": 0, "min": 0, "max": 1},
                {"name": "ms", "type": "integer", "default": 0, "min": 0, "max": 10000}]}
        with open(self.path("flaky.json"), "w") as f:
            json.dump(manifest, f)
        self.run("strategies", "add", self.path("flaky.json"), check=0)


def assert_absent(tc, needle, data, where):
    """needle is not in data; on failure show where and a little context, never the bytes."""
    i = data.find(needle)
    if i >= 0:
        tc.fail("%r found in %s at %d: %r" % (needle, where, i, data[max(0, i - 80):i + 80]))


def by_id(bundle):
    return {t["id"]: t for t in bundle["trajectories"]}


class EncryptedE2b(unittest.TestCase):
    def setUp(self):
        self.env = IEnv("integ-enc-e2b")

    def tearDown(self):
        self.env.close()

    def test_e2b_on_encrypted_store(self):
        env = self.env
        common = ("-s", "momentum", "-a", "3", "--symbol", "SPY", "-p", PARAMS,
                  "--description", DESC, "--no-learning")
        env.run("-v", "deploy", *common, "--provider", "e2b", check=0)
        env.run("-v", "deploy", *common, "--provider", "local", check=0)
        env.double.fault("401")  # an error path that talks about the key
        env.run("-v", "deploy", "-s", "momentum", "--no-learning", "--provider", "e2b", check=1)
        env.double.clear()
        env.assert_no_leak()

        # Results and output through E2B equal the local ones (read through the decrypting
        # reader: export and logs), and the runner's own output.
        bundle = env.export()
        trajs = by_id(bundle)
        self.assertEqual(len(trajs), 7)
        for i in (1, 2, 3):
            r, loc = trajs[i], trajs[i + 3]
            self.assertEqual((r["provider"], r["status"]), ("e2b", "succeeded"), r)
            self.assertEqual((loc["provider"], loc["status"]), ("local", "succeeded"), loc)
            self.assertEqual(r["params"], loc["params"])
            self.assertEqual(r["params"]["threshold"], 0.0271828)
            self.assertEqual(r["result"], loc["result"])
            self.assertEqual(r["description"], DESC)
            for stream in (1, 2):
                self.assertEqual(e2e.decode_export_output(r, stream),
                                 e2e.decode_export_output(loc, stream))
        logs = env.run("logs", "1", check=0).stdout
        self.assertEqual(logs, e2e.decode_export_output(trajs[1], 1))
        self.assertEqual(logs, e2e.runner_output("momentum", "SPY",
                                                 json.dumps(trajs[1]["params"])))
        self.assertIn("API key was refused (401", trajs[7]["error"])

        # The store is encrypted: the sensitive values are not in its bytes, nor either key.
        raw = store_bytes(env)
        for s in (b"SENTINEL-DESC", b"0.0271828", b"total_return", b"API key was refused"):
            assert_absent(self, s, raw, "the store files")
        # No file (store, WAL, export, logs) and nothing printed holds a key.
        for secret in (E2B_KEY.encode(), KEY.encode()):
            for path, data in env.all_file_bytes():
                assert_absent(self, secret, data, path)
            assert_absent(self, secret, env.printed, "the output")

        # The chain holds; the exported bundle imports into a fresh store with another key
        # and verifies there, with the same content.
        v = env.verify()
        self.assertEqual((v["ok"], v["records"], v["unsealed"]), (True, 7, 0))
        other = IEnv("integ-enc-e2b-b", key=KEY2)
        try:
            other.run("import", env.path("export.json"), check=0)
            v2 = other.verify()
            self.assertEqual((v2["ok"], v2["records"]), (True, 7))
            # Ids are the importing store's (given in chain order): match by uuid. The same
            # records in the same chain order give the same fingerprints.
            again = {t["uuid"]: t for t in other.export("again.json")["trajectories"]}
            self.assertEqual(len(again), 7)
            for t in trajs.values():
                a = again[t["uuid"]]
                for k in ("params", "result", "description", "error", "status", "provider",
                          "operations", "fingerprint", "prevFingerprint"):
                    self.assertEqual(a[k], t[k], (t["id"], k))
                for stream in (1, 2):
                    self.assertEqual(e2e.decode_export_output(a, stream),
                                     e2e.decode_export_output(t, stream))
            raw2 = store_bytes(other)
            for s in (b"SENTINEL-DESC", b"0.0271828", b"API key was refused", E2B_KEY.encode(),
                      KEY2.encode()):
                assert_absent(self, s, raw2, "the importing store's files")
            saved = other.env.pop("SWARMDECK_KEY")
            other.run("show", "1", check=3)  # the import is sealed under KEY2
            other.env["SWARMDECK_KEY"] = saved
            assert_absent(self, KEY2.encode(), other.printed, "the output")
        finally:
            other.close()


def flaky_scenarios(env, name, **extra):
    return benchmark_e2e.scenario_file(env, name, **extra)


class EncryptedBench(unittest.TestCase):
    def test_compare_on_encrypted_store(self):
        env = IEnv("integ-enc-bench")
        try:
            env.add_flaky()
            path = flaky_scenarios(env, "s.json", params={"ms": 5})
            r1 = json.loads(env.run("benchmark", "-f", path, "-o", env.path("o1"), "--json",
                                    check=1).stdout)
            self.assertIsNone(r1["scenarios"][0]["comparison"])
            # The summary and spec are sealed on disk...
            raw_summary, raw_spec = env.sql("SELECT summary, spec FROM runs WHERE id = ?",
                                            (r1["runId"],))[0]
            for raw in (raw_summary, raw_spec):
                self.assertNotIn(b"successRate", bytes(raw) if isinstance(raw, bytes)
                                 else raw.encode(errors="surrogateescape"))
            assert_absent(self, b"successRate", store_bytes(env), "the store files")
            # ...and the second run still finds and reads the first.
            r2 = json.loads(env.run("benchmark", "-f", path, "-o", env.path("o2"), "--json",
                                    check=1).stdout)
            cmp = r2["scenarios"][0]["comparison"]
            self.assertIsNotNone(cmp, "the second run did not compare with the first")
            self.assertEqual(cmp["previousRunId"], r1["runId"])
            prev = {m["metric"]: m for m in cmp["metrics"]}
            self.assertEqual(prev["successRate"]["previous"],
                             r1["scenarios"][0]["successRate"])
            self.assertEqual(prev["latency.p95"]["previous"],
                             r1["scenarios"][0]["latency"]["p95"])
            v = env.verify()
            self.assertEqual((v["ok"], v["records"]), (True, 20))
            for path_, data in env.all_file_bytes():
                assert_absent(self, KEY.encode(), data, path_)
        finally:
            env.assert_clean()
            env.close()


def has_rec(report, *needles):
    """Does a reliability recommendation of the report say every one of needles?"""
    return any(x["area"] == "reliability" and all(n in x["message"] for n in needles)
               for x in report["recommendations"])


class E2bBench(unittest.TestCase):
    def setUp(self):
        self.env = IEnv("integ-e2b-bench", key=None,
                        config={"breaker": {"failures": 2, "cooldownMs": 600000}})
        self.env.add_flaky()
        self.path = flaky_scenarios(self.env, "s.json", agents=5, iterations=2)

    def tearDown(self):
        self.env.close()

    def bench(self, out, *args, check=None):
        p = self.env.run("benchmark", "-f", self.path, "-o", self.env.path(out), "--json",
                         *LENIENT, *args, check=check)
        return json.loads(p.stdout)

    def providers(self, run):
        return [p for (p,) in self.env.sql("SELECT provider FROM trajectories WHERE run_id = ?"
                                           " ORDER BY id", (run,))]

    def test_rates_through_e2b_and_failover(self):
        env = self.env
        # Through E2B: agent 0 of 5 fails in its program, exactly 20 %, no provider error.
        r = self.bench("o1", "--provider", "e2b", check=1)
        s = r["scenarios"][0]
        self.assertEqual(r["provider"], "e2b")
        self.assertEqual(self.providers(r["runId"]), ["e2b"] * 10)
        self.assertEqual(s["counts"], {"succeeded": 8, "failed": 2, "timeout": 0,
                                       "providerError": 0, "cancelled": 0})
        self.assertEqual((s["successRate"], s["errorRate"]), (0.8, 0.2))
        self.assertEqual(s["errorRates"]["failed"], 0.2)
        self.assertEqual(s["providers"], {"e2b": 10})
        self.assertEqual(s["failovers"], 0)
        self.assertEqual(env.double.created, 10)
        env.assert_no_leak()

        # E2B down, no failover: every deployment is a provider error (the program never ran),
        # the breaker opens after 2 failed creates and the rest fail fast.
        env.double.fault("create500")
        r = self.bench("o2", "--provider", "e2b", check=1)
        s = r["scenarios"][0]
        self.assertEqual(s["counts"]["providerError"], 10, s["counts"])
        self.assertEqual(s["errorRates"]["providerError"], 1.0)
        self.assertEqual(s["errorRates"]["failed"], 0.0)
        self.assertNotIn("stream", s["operations"])
        self.assertTrue(has_rec(r, "10 deployment(s) never ran", "`swarmdeck status`"),
                        r["recommendations"])
        self.assertFalse(has_rec(r, "failover"))
        self.assertEqual(env.double.created, 10)

        # E2B still down, --failover local: the strategy's own rates again, every deployment
        # ran locally and the report says so.
        r = self.bench("o3", "--provider", "e2b", "--failover", "local", check=1)
        s = r["scenarios"][0]
        self.assertEqual(self.providers(r["runId"]), ["local"] * 10)
        self.assertEqual(s["counts"], {"succeeded": 8, "failed": 2, "timeout": 0,
                                       "providerError": 0, "cancelled": 0})
        self.assertEqual(s["providers"], {"local": 10})
        self.assertEqual(s["failovers"], 10)
        self.assertTrue(has_rec(r, "10 of 10 deployment(s) ran on the failover provider",
                                "instance of e2b had an open circuit breaker"),
                        r["recommendations"])
        with open(benchmark_e2e.reports(env.path("o3"))["txt"]) as f:
            self.assertIn("ran on: local 10 (10 by failover from e2b)", f.read())
        self.assertEqual(env.double.created, 10)
        env.double.clear()
        env.assert_no_leak()
        env.assert_clean()

    def test_compare_same_provider_only(self):
        """A run on E2B is compared with the last E2B run of the scenario, never with a local
        one (their latencies differ by design, so that would flag false regressions)."""
        r_local = self.bench("o1", check=1)
        self.assertIsNone(r_local["scenarios"][0]["comparison"])
        r_e2b = self.bench("o2", "--provider", "e2b", check=1)
        self.assertIsNone(r_e2b["scenarios"][0]["comparison"])
        r_local2 = self.bench("o3", check=1)
        self.assertEqual(r_local2["scenarios"][0]["comparison"]["previousRunId"],
                         r_local["runId"])
        r_e2b2 = self.bench("o4", "--provider", "e2b", check=1)
        self.assertEqual(r_e2b2["scenarios"][0]["comparison"]["previousRunId"], r_e2b["runId"])
        self.env.assert_no_leak()


class EncryptedSweep(e2b_e2e.Sweep):
    """e2b_e2e.Sweep's tests on an encrypted store, and then the chain verifies."""
    name = "integ-enc-sweep"

    def setUp(self):
        self.env = IEnv(self.name, page_size=2)

    def test_kill9_then_cleanup(self):
        super().test_kill9_then_cleanup()
        env = self.env
        trajs = env.trajectories()
        statuses = [t["status"] for t in trajs]
        self.assertIn("interrupted", statuses)
        v = env.verify()
        self.assertEqual((v["ok"], v["records"], v["unsealed"]), (True, len(trajs), 0), v)
        bundle = env.export()
        for t in bundle["trajectories"]:
            if t["status"] == "interrupted":
                self.assertTrue(t["error"], t)  # sealed, and readable with the key
        assert_absent(self, E2B_KEY.encode(), env.printed, "the output")
        assert_absent(self, KEY.encode(), env.printed, "the output")

    def test_cleanup_without_key(self):
        """Without the store key, cleanup refuses (exit 3) and destroys nothing."""
        env = self.env
        env.run("deploy", "-s", "momentum", "--symbol", "SPY", "--no-learning", "--provider",
                "e2b", check=0)
        sid = env.store_id()
        dead = env.double.create("base", {"owner": sid, "sandbox": "sd99-dead", "pid": "1",
                                          "pidStart": "1"}, 600)
        saved = env.env.pop("SWARMDECK_KEY")
        p = env.run("cleanup", check=3)
        self.assertIn(b"encrypted", p.stderr)
        self.assertIn(dead.id, [b["sandboxID"] for b in env.double.sandboxes()])
        env.env["SWARMDECK_KEY"] = saved
        rep = json.loads(env.run("cleanup", "--json", check=0).stdout)
        self.assertEqual(rep["e2bDestroyed"], 1)
        self.assertEqual(env.ours(), [])


class Rekey(unittest.TestCase):
    def test_rekey_with_e2b_and_benchmarks(self):
        env = IEnv("integ-rekey", key=None)
        try:
            env.add_flaky()
            env.run("deploy", "-s", "momentum", "-a", "3", "--symbol", "SPY", "-p", PARAMS,
                    "--description", DESC, "--provider", "e2b", check=0)
            path = flaky_scenarios(env, "s.json", agents=5, iterations=1)
            r1 = json.loads(env.run("benchmark", "-f", path, "-o", env.path("o1"), "--json",
                                    "--provider", "e2b", *LENIENT, check=1).stdout)
            env.assert_no_leak()
            n = env.sql("SELECT count(*) FROM trajectories")[0][0]
            self.assertEqual(n, 8)
            before = self.snapshot(env)
            self.assertIn(b"0.0271828", store_bytes(env))

            # Encrypt in place, then change the key, then decrypt: each time the same store.
            for args, key, new in ((("--new-key", KEY), None, KEY),
                                   (("--new-key", KEY2), KEY, KEY2),
                                   (("--decrypt",), KEY2, None)):
                if key is None:
                    env.env.pop("SWARMDECK_KEY", None)
                else:
                    env.env["SWARMDECK_KEY"] = key
                env.run("rekey", *args, check=0)
                if new is None:
                    env.env.pop("SWARMDECK_KEY", None)
                else:
                    env.env["SWARMDECK_KEY"] = new
                    raw = store_bytes(env)
                    for s in (b"SENTINEL-DESC", b"0.0271828", b"successRate"):
                        assert_absent(self, s, raw, "the store files after rekey %s" % (args,))
                    if key is not None:  # the old key is refused now
                        env.env["SWARMDECK_KEY"] = key
                        env.run("status", check=3)
                        env.env["SWARMDECK_KEY"] = new
                self.assertEqual(self.snapshot(env), before, args)
            # The comparison still reads the summary written before all that.
            r2 = json.loads(env.run("benchmark", "-f", path, "-o", env.path("o2"), "--json",
                                    "--provider", "e2b", *LENIENT, check=1).stdout)
            self.assertEqual(r2["scenarios"][0]["comparison"]["previousRunId"], r1["runId"])
            for secret in (E2B_KEY.encode(), KEY.encode(), KEY2.encode()):
                assert_absent(self, secret, env.printed, "the output")
                for p, data in env.all_file_bytes():
                    assert_absent(self, secret, data, p)
            env.assert_no_leak()
        finally:
            env.close()

    def test_rekey_while_a_deploy_runs(self):
        """Another process tries to rekey the store while a deploy writes to it: refused
        (issue 14), naming the deploy's pid, since the deploy would have to stop writing; the
        deploy finishes undisturbed, and the rekey then goes ahead, the store whole under the
        new key. (A rekey that slips in anyway is still caught by the deploy's writer, which
        then stops writing rather than seal values nobody can open: security_rekey_concurrent.)"""
        env = IEnv("integ-rekey-race")
        try:
            env.add_flaky()
            proc = env.popen("deploy", "-s", "bench-flaky", "-a", "3", "--max-agents", "1",
                             "-p", '{"ms": 1500}', "--no-learning", "--provider", "e2b")
            deadline = time.monotonic() + 60
            while True:
                self.assertIsNone(proc.poll(), "the deploy ended before the rekey")
                self.assertLess(time.monotonic(), deadline, "no deployment started")
                if os.path.exists(env.db) and env.sql(
                        "SELECT count(*) FROM trajectories WHERE status = 'running'")[0][0]:
                    break
                time.sleep(0.05)
            env.env["SWARMDECK_NEW_KEY"] = KEY2
            p = env.run("rekey", check=3)
            self.assertIn(b"pid %d" % proc.pid, p.stderr)
            out, err = proc.communicate(timeout=120)
            self.assertNotIn(b"changed the store's encryption key", out + err)
            self.assertEqual(env.sql("SELECT count(*) FROM trajectories WHERE status IN "
                                     "('queued', 'running')")[0][0], 0)
            env.run("rekey", check=0)
            del env.env["SWARMDECK_NEW_KEY"]
            env.env["SWARMDECK_KEY"] = KEY
            env.run("status", check=3)  # the old key is refused
            env.env["SWARMDECK_KEY"] = KEY2
            n = env.sql("SELECT count(*) FROM trajectories")[0][0]
            self.assertEqual(n, 3)
            v = env.verify()
            self.assertEqual((v["ok"], v["records"], v["unsealed"]), (True, n, 0), v)
            env.run("export", "-o", env.path("after.json"), check=0)
            env.assert_no_leak()
        finally:
            env.close()

    def snapshot(self, env):
        """What status, verify and patterns say, minus what legitimately changes."""
        st = json.loads(env.run("status", "--json", "--learning", "--patterns", check=0).stdout)
        v = env.verify()
        pats = json.loads(env.run("patterns", "--json", check=0).stdout)
        task = json.loads(env.run("patterns", "-t", "quagga", "--json", check=0).stdout)
        show = env.run("show", "2", check=0).stdout
        self.assertIn(b"SENTINEL-DESC", show)
        return {"total": st["totalTrajectories"], "runs": st["runs"],
                "byStatus": st["byStatus"], "learning": st["learning"],
                "patterns": st["patterns"], "verify": (v["ok"], v["records"], v["head"]),
                "patternsCmd": pats, "task": len(task["patterns"]), "show": show}


class Status(unittest.TestCase):
    def test_providers_encryption_and_chain(self):
        env = IEnv("integ-status", config={"breaker": {"failures": 1, "cooldownMs": 600000}})
        try:
            # The static fixture, so the local failover also runs in the sanitizer tree (its
            # runner cannot run in a local sandbox there: LeakSanitizer).
            env.add_flaky()
            env.run("deploy", "-s", "bench-flaky", "--no-learning", "--provider", "e2b", check=0)
            env.double.fault("create500")
            env.run("deploy", "-s", "bench-flaky", "--no-learning", "--provider", "e2b",
                    "--failover", "local", check=0)
            self.assertEqual([t["provider"] for t in env.trajectories()], ["e2b", "local"])
            st = json.loads(env.run("status", "--json", check=0).stdout)
            br = {p["name"]: p["breaker"] for p in st["providers"]}
            self.assertEqual(br, {"local": "closed", "e2b": "open"})
            e2b = [p for p in st["providers"] if p["name"] == "e2b"][0]
            self.assertGreater(e2b["openUntil"], 0)
            self.assertTrue(st["encrypted"])
            self.assertEqual(st["chain"], "unverified (2)")
            env.verify()
            st = json.loads(env.run("status", "--json", check=0).stdout)
            self.assertEqual(st["chain"], "ok (2)")
            self.assertTrue(st["encrypted"])
            self.assertEqual({p["name"]: p["breaker"] for p in st["providers"]}, br)
            # The text form says the same three things.
            text = env.run("status", check=0).stdout.decode()
            for needle in ("e2b", "open", "encrypted", "ok (2)"):
                self.assertIn(needle, text)
            self.assertNotIn(E2B_KEY, text)
            env.double.clear()
            env.assert_no_leak()
        finally:
            env.close()


if __name__ == "__main__":
    unittest.main()
