"""e2b_e2e: the E2B provider end to end, against the E2B double (tests/fixtures/e2b_double.py)
on 127.0.0.1, which really runs the uploaded runner as a local process.

  Swarm       20 deployments through E2B give the same results and byte-exact output as the
              local provider and as the runner run directly; the requests carry an explicit
              command timeout, a TTL covering it and the owner metadata; nothing is leaked.
  Samples     resource samples come from GET /sandboxes/{id}/metrics at the configured rate.
  Faults      each fault mode of the double: the right terminal state and message, and no
              sandbox left in the double.
  Breaker     a failing double opens the breaker; deployments fail over to local when
              allowed (--failover local) and fail fast otherwise; after the cool-down a
              half-open trial that succeeds closes it and E2B is used again.
  Instances   two E2B instances: placement by recent create latency, and by health.
  Sweep       kill -9 of swarmdeck mid-swarm, then `swarmdeck cleanup`: the double holds no
              sandbox of ours (and still holds a foreign one); paging is exercised.
  Secrets     the API key is in none of the store, the export, the log, any output, or the
              console's screen.
"""

import json
import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import e2b_double  # noqa: E402
import lib_e2e as e2e  # noqa: E402

KEY = "e2b_" + "0123456789abcdef" * 2 + "feedc0de"


class E2bEnv(e2e.Env):
    """An Env with a running double and the environment pointing swarmdeck at it."""

    def __init__(self, name, page_size=100, config=None, **double):
        super().__init__(name)
        self.double = e2b_double.Double(KEY, page_size=page_size, **double).start()
        self.env["E2B_API_KEY"] = KEY
        self.env["E2B_API_URL"] = self.double.api_url
        self.env["E2B_SANDBOX_URL"] = self.double.sandbox_url
        self.env["XDG_STATE_HOME"] = self.path("state")
        self.env["XDG_CONFIG_HOME"] = self.path("config")
        self.env["SWARMDECK_E2B_CONFIG"] = self.path("e2b.json")
        if config is not None:
            self.write_config(config)

    def write_config(self, config, mode=0o600):
        p = self.path("e2b.json")
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as f:
            json.dump(config, f)
        os.chmod(p, mode)

    def close(self):
        self.double.stop()
        super().close()

    def ours(self):
        sid = self.store_id()
        return [b for b in self.double.sandboxes() if b["metadata"].get("owner") == sid]

    def store_id(self):
        return self.sql("SELECT value FROM meta WHERE key = 'store_id'")[0][0]

    def assert_no_leak(self, deadline_s=10):
        end = time.monotonic() + deadline_s
        while self.double.sandboxes() and time.monotonic() < end:
            time.sleep(0.05)
        self.assertions_left = self.double.sandboxes()
        assert self.assertions_left == [], "sandboxes leaked: %r" % self.assertions_left


SWARM = [{"strategyName": s, "params": {"symbol": sym}}
         for s in ("momentum", "mean-reversion", "neural-forecast", "momentum")
         for sym in ("SPY", "QQQ", "IWM", "SPX", "TSLA")]


class Base(unittest.TestCase):
    name = "e2b"
    config = None

    def setUp(self):
        self.env = E2bEnv(self.name, config=self.config)

    def tearDown(self):
        self.env.close()

    def deploy(self, *args, check=None):
        return self.env.run("deploy", "-s", "momentum", "--symbol", "SPY", "--no-learning",
                            "--provider", "e2b", *args, check=check)

    def last(self):
        return self.env.trajectories()[-1]


class Swarm(Base):
    def test_swarm_equals_local(self):
        env = self.env
        spec = env.path("swarm.json")
        with open(spec, "w") as f:
            json.dump(SWARM, f)
        env.run("swarm", "-f", spec, "--no-learning", "--provider", "e2b", "--timeout", "120",
                check=0)
        env.assert_no_leak()
        env.run("swarm", "-f", spec, "--no-learning", check=0)
        trajs = env.trajectories()
        self.assertEqual(len(trajs), 2 * len(SWARM))
        remote, local = trajs[:len(SWARM)], trajs[len(SWARM):]
        for r, l in zip(remote, local):
            self.assertEqual((r["provider"], r["status"]), ("e2b", "succeeded"), r)
            self.assertEqual((l["provider"], l["status"]), ("local", "succeeded"), l)
            self.assertEqual((r["strategy"], r["symbol"], r["params"]),
                             (l["strategy"], l["symbol"], l["params"]))
            self.assertEqual(json.loads(r["result"]), json.loads(l["result"]))
            for stream in (1, 2):
                self.assertEqual(env.output(r["id"], stream), env.output(l["id"], stream),
                                 "trajectory %d stream %d differs from local" % (r["id"], stream))
        # And both equal the runner run directly (so neither is equally wrong).
        first = remote[0]
        self.assertEqual(env.output(first["id"], 1),
                         e2e.runner_output("momentum", "SPY", first["params"]))
        # What was sent: an explicit command timeout and a TTL that covers it, owner metadata.
        creates = [json.loads(r[4]) for r in self.env.double.requests
                   if r[1] == "POST" and r[2] == "/v2/sandboxes"]
        starts = [r[3] for r in self.env.double.requests if r[2] == "/process.Process/Start"]
        self.assertEqual(len(creates), len(SWARM))
        self.assertEqual(len(starts), len(SWARM))
        sid = env.store_id()
        for c in creates:
            self.assertGreaterEqual(c["timeout"], 120)
            self.assertEqual(c["metadata"]["owner"], sid)
            self.assertTrue(c["metadata"]["run"] != "0" and c["metadata"]["sandbox"])
        for h in starts:
            self.assertEqual(h.get("Connect-Timeout-Ms"), "120000")
            self.assertEqual(h.get("Content-Type"), "application/connect+json")


class Samples(Base):
    name = "e2bsamples"
    config = {"sampleMs": 250}

    def test_metrics_at_a_modest_rate(self):
        env = self.env
        t0 = time.monotonic()
        self.deploy("--pace", "2000", check=0)  # about 3 s of running
        elapsed = time.monotonic() - t0
        times = [r[5] for r in env.double.requests if r[2].split("?")[0].endswith("/metrics")]
        self.assertGreaterEqual(len(times), 2)
        self.assertLessEqual(len(times), elapsed / 0.25 + 1)
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertGreaterEqual(min(gaps), 0.2)


class Faults(Base):
    name = "e2bfault"

    def run_fault(self, mode, count=None, args=(), code=None):
        self.env.double.fault(mode, count)
        p = self.deploy(*args, check=code)
        self.env.double.clear()
        self.env.assert_no_leak()
        self.env.assert_clean()
        return p, self.last()

    def assert_exact(self, t):
        self.assertEqual(t["status"], "succeeded", t)
        self.assertEqual(self.env.output(t["id"], 1),
                         e2e.runner_output("momentum", "SPY", t["params"]))

    def test_429_retry_after(self):
        p, t = self.run_fault("429", 2, code=0)
        self.assert_exact(t)
        reqs = self.env.double.requests
        creates = [r for r in reqs if r[1] == "POST" and r[2] == "/v2/sandboxes"]
        self.assertEqual(len(creates), 3)  # two 429s honoured, then created

    def test_401(self):
        p, t = self.run_fault("401", code=1)
        self.assertEqual(t["status"], "failed")
        self.assertIn("API key was refused (401", t["error"])
        self.assertNotIn(KEY, t["error"])
        self.assertEqual(self.env.double.created, 0)

    def test_no_key(self):
        self.env.env.pop("E2B_API_KEY")
        p = self.deploy(check=2)
        self.assertIn(b"E2B_API_KEY", p.stderr)

    def test_config_file_mode(self):
        self.env.env.pop("E2B_API_KEY")
        self.env.write_config({"apiKey": KEY}, mode=0o644)
        p = self.deploy(check=2)
        self.assertIn(b"mode 0600", p.stderr)
        self.assertNotIn(KEY.encode(), p.stderr)
        self.env.write_config({"apiKey": KEY}, mode=0o600)
        self.deploy(check=0)
        self.assert_exact(self.last())

    def test_502_not_found(self):
        p, t = self.run_fault("notfound", code=1)
        self.assertEqual(t["status"], "failed")
        self.assertIn("sandbox was not found", t["error"])
        self.assertIn("gave up after retries", t["error"])

    def test_502_port_not_open(self):
        p, t = self.run_fault("portclosed", 3, code=0)
        self.assert_exact(t)

    def test_stream_dropped(self):
        p, t = self.run_fault("drop", 1, code=1)
        self.assertEqual(t["status"], "failed")
        self.assertIn("connection lost mid-stream", t["error"])
        got = self.env.output(t["id"], 1)
        full = e2e.runner_output("momentum", "SPY", t["params"])
        self.assertTrue(got and full.startswith(got), "stored stdout is not a prefix")

    def test_sandbox_gone(self):
        p, t = self.run_fault("dropgone", 1, code=1)
        self.assertEqual(t["status"], "failed")
        self.assertIn("sandbox gone: it was killed or reached its end of life", t["error"])

    def test_deadline_exceeded(self):
        p, t = self.run_fault("deadline", 1, args=("--pace", "100"), code=1)
        self.assertEqual(t["status"], "timeout")
        self.assertIn("timed out after", t["error"])

    def test_split_frames(self):
        p, t = self.run_fault("split", code=0)
        self.assert_exact(t)

    def test_keepalive(self):
        p, t = self.run_fault("keepalive", code=0)
        self.assert_exact(t)

    def test_whitespace_unknown_fields(self):
        p, t = self.run_fault("whitespace", code=0)
        self.assert_exact(t)

    def test_v1_fallback(self):
        p, t = self.run_fault("v1only", code=0)
        self.assert_exact(t)
        v1 = [json.loads(r[4]) for r in self.env.double.requests
              if r[1] == "POST" and r[2] == "/sandboxes"]
        self.assertEqual(len(v1), 1)
        self.assertIs(v1[0]["secure"], True)

    def test_507_upload(self):
        p, t = self.run_fault("upload507", code=1)
        self.assertEqual(t["status"], "failed")
        self.assertIn("not enough disk space in the sandbox (507)", t["error"])

    def test_cancel(self):
        """SIGINT cancels a running E2B deployment through SendSignal; nothing is left."""
        env = self.env
        proc = env.popen("deploy", "-s", "momentum", "--symbol", "SPY", "--pace", "100",
                         "--no-learning", "--provider", "e2b")
        deadline = time.monotonic() + 30
        while True:
            self.assertLess(time.monotonic(), deadline, "never saw output")
            if os.path.exists(env.db):
                try:
                    if env.sql("SELECT count(*) FROM output")[0][0] > 0:
                        break
                except Exception:
                    pass
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 1, err)
        t = self.last()
        self.assertEqual(t["status"], "cancelled", t)
        sigs = [json.loads(r[4]) for r in env.double.requests
                if r[2] == "/process.Process/SendSignal"]
        self.assertEqual(sigs[0]["signal"], "SIGNAL_SIGTERM")
        env.assert_no_leak()

    def test_utf8_split(self):
        env = self.env
        text = "héllo wörld ✓ 日本語 €\n".encode() * 50
        script = env.path("utf8.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\nprintf '%s'\necho '@@result {\"ok\":true}'\n"
                    % text.decode().replace("\n", "\\n"))
        os.chmod(script, 0o755)
        manifest = env.path("utf8.json")
        with open(manifest, "w") as f:
            json.dump({"name": "utf8", "description": "prints UTF-8", "command": ["./utf8.sh"],
                       "files": ["utf8.sh"], "params": []}, f)
        env.add_strategy(manifest)
        env.double.fault("utf8")
        env.run("deploy", "-s", "utf8", "--no-learning", "--provider", "e2b", check=0)
        t = self.last()
        self.assertEqual(t["status"], "succeeded", t)
        self.assertEqual(env.output(t["id"], 1), text + b'@@result {"ok":true}\n')
        env.assert_no_leak()


class Breaker(Base):
    name = "e2bbreaker"
    config = {"breaker": {"failures": 2, "cooldownMs": 600000}}

    def test_failover_to_local(self):
        env = self.env
        env.double.fault("create500")
        env.run("deploy", "-s", "momentum", "--symbol", "SPY", "-a", "4", "--max-agents", "1",
                "--no-learning", "--provider", "e2b", "--failover", "local", check=0)
        trajs = env.trajectories()
        self.assertEqual([t["provider"] for t in trajs], ["local"] * 4)
        self.assertEqual(env.double.created, 0)
        creates = [r for r in env.double.requests if r[2] == "/v2/sandboxes"]
        self.assertEqual(len(creates), 2)  # the breaker opened after 2 failures
        for t in trajs:
            self.assertIn("failover", t["op_sequence"])
            self.assertEqual(env.output(t["id"], 1),
                             e2e.runner_output("momentum", "SPY", t["params"]))

    def test_fail_fast_without_failover(self):
        env = self.env
        env.double.fault("create500")
        env.run("deploy", "-s", "momentum", "--symbol", "SPY", "-a", "3", "--max-agents", "1",
                "--no-learning", "--provider", "e2b", check=1)
        trajs = env.trajectories()
        self.assertTrue(all(t["status"] == "failed" for t in trajs))
        self.assertIn("HTTP 500", trajs[0]["error"])
        for t in trajs[1:]:
            self.assertIn("circuit breaker is open", t["error"])
            self.assertIn("--failover local", t["error"])
        creates = [r for r in env.double.requests if r[2] == "/v2/sandboxes"]
        self.assertEqual(len(creates), 2)
        # The next process starts with the breaker open: the suggestion shown before launch
        # says so and recommends avoiding the provider (learning issue: recommendedOperations).
        p = env.run("deploy", "-s", "momentum", "--symbol", "SPY", "--provider", "e2b", check=1)
        out = p.stdout.decode()
        self.assertLess(out.find("before launch"), out.find("circuit breaker is open"), out)
        self.assertIn("recommend: avoid provider e2b, use --provider local", out)

    def test_half_open_recovery(self):
        env = self.env
        env.write_config({"breaker": {"failures": 2, "cooldownMs": 400}})
        env.double.fault("create500", 2)
        # One at a time, each local run about 0.3 s: the cool-down passes during the
        # failovers, a half-open trial goes to E2B (healthy again) and closes the breaker.
        env.run("deploy", "-s", "momentum", "--symbol", "SPY", "-a", "12", "--max-agents", "1",
                "--no-learning", "--provider", "e2b", "--failover", "local", "--pace", "20000",
                check=0)
        provs = [t["provider"] for t in env.trajectories()]
        self.assertEqual(provs[0], "local")  # failed twice on E2B, then failed over
        self.assertIn("e2b", provs)
        k = provs.index("e2b")
        self.assertEqual(provs[k:], ["e2b"] * (len(provs) - k), provs)  # closed again
        self.assertEqual(env.double.created, len(provs) - k)
        st = json.loads(env.run("status", "--json", check=0).stdout)
        e2b = [p for p in st["providers"] if p["name"] == "e2b"][0]
        self.assertEqual(e2b["breaker"], "closed")
        env.assert_no_leak()


class Instances(Base):
    """Two E2B instances (say two regions): new sandboxes go to the healthy one with the lowest
    recent create latency; when its breaker opens the other takes over, no failover needed."""
    name = "e2binst"

    def test_latency_and_health(self):
        env = self.env
        other = e2b_double.Double(KEY).start()
        try:
            env.write_config({"breaker": {"failures": 1, "cooldownMs": 600000},
                              "instances": [
                                  {"name": "e2b-slow", "apiUrl": env.double.api_url,
                                   "sandboxUrl": env.double.sandbox_url},
                                  {"name": "e2b-fast", "apiUrl": other.api_url,
                                   "sandboxUrl": other.sandbox_url}]})
            env.double.fault("slow")
            env.run("deploy", "-s", "momentum", "--symbol", "SPY", "-a", "6", "--max-agents",
                    "1", "--no-learning", "--provider", "e2b", check=0)
            provs = [t["provider"] for t in env.trajectories()]
            # Each is tried once (unknown latency first), then the fast one wins.
            self.assertEqual(sorted(provs[:2]), ["e2b-fast", "e2b-slow"])
            self.assertEqual(provs[2:], ["e2b-fast"] * 4)
            # The fast one fails: its breaker opens and the slow one takes the work.
            other.fault("create500")
            env.run("deploy", "-s", "momentum", "--symbol", "SPY", "-a", "3", "--max-agents",
                    "1", "--no-learning", "--provider", "e2b", check=0)
            provs = [t["provider"] for t in env.trajectories()][6:]
            self.assertEqual(provs, ["e2b-slow"] * 3)
            st = json.loads(env.run("status", "--json", check=0).stdout)
            br = {p["name"]: p["breaker"] for p in st["providers"]}
            self.assertEqual(br, {"local": "closed", "e2b-slow": "closed", "e2b-fast": "open"})
            self.assertEqual(other.sandboxes(), [])
            env.assert_no_leak()
        finally:
            other.stop()


class Sweep(Base):
    name = "e2bsweep"

    def setUp(self):
        self.env = E2bEnv(self.name, page_size=2)

    def test_kill9_then_cleanup(self):
        env = self.env
        foreign = env.double.create("base", {"owner": "someone-else"}, 600)
        proc = env.popen("deploy", "-s", "momentum", "--symbol", "SPY", "-a", "8", "--pace",
                         "500", "--no-learning", "--provider", "e2b", "--timeout", "120")
        deadline = time.monotonic() + 60
        try:
            while True:
                self.assertIsNone(proc.poll(), "swarmdeck ended before the crash")
                self.assertLess(time.monotonic(), deadline, "no running E2B deployments")
                running = 0
                if os.path.exists(env.db):
                    try:
                        running = env.sql("SELECT count(DISTINCT t.id) FROM trajectories t JOIN "
                                          "output o ON o.traj_id = t.id "
                                          "WHERE t.status = 'running'")[0][0]
                    except Exception:
                        running = 0
                if running >= 3 and len(env.double.sandboxes()) >= 4:
                    break
                time.sleep(0.05)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        leaked = env.ours()
        self.assertGreaterEqual(len(leaked), 3)  # E2B sandboxes do not die with us
        p = env.run("cleanup", "--json", check=0)
        rep = json.loads(p.stdout)
        self.assertEqual(rep["e2bFound"], len(leaked))
        self.assertEqual(rep["e2bDestroyed"], len(leaked))
        self.assertEqual(env.ours(), [])
        self.assertEqual([b["sandboxID"] for b in env.double.sandboxes()], [foreign.id])
        lists = [r for r in env.double.requests if r[1] == "GET" and
                 r[2].startswith("/v2/sandboxes")]
        self.assertTrue(any("nextToken=" in r[2] for r in lists), "paging not exercised")
        for t in env.trajectories():
            self.assertIn(t["status"], e2e.TERMINAL)
        env.assert_clean()

    def test_deploy_sweeps_at_start(self):
        """A leaked sandbox of ours whose owner is gone is destroyed by the next deploy's
        start-up recovery; a live one (its owner process alive) is kept."""
        env = self.env
        env.run("deploy", "-s", "momentum", "--symbol", "SPY", "--no-learning", check=0)
        sid = env.store_id()
        dead = env.double.create("base", {"owner": sid, "sandbox": "sd99-dead", "pid": "1",
                                          "pidStart": "1"}, 600)
        live = env.double.create("base", {"owner": sid, "sandbox": "sd98-live",
                                          "pid": str(os.getpid()),
                                          "pidStart": str(start_time(os.getpid()))}, 600)
        env.run("deploy", "-s", "momentum", "--symbol", "SPY", "--no-learning", "--provider",
                "e2b", check=0)
        ids = [b["sandboxID"] for b in env.double.sandboxes()]
        self.assertNotIn(dead.id, ids)
        self.assertIn(live.id, ids)
        env.double.kill(live.id)


def start_time(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


class Secrets(Base):
    name = "e2bsecret"

    def test_key_never_leaves(self):
        env = self.env
        outs = []
        outs.append(self.deploy(check=0))
        env.double.fault("401")
        outs.append(self.deploy("-v", check=1))
        env.double.clear()
        outs.append(env.run("export", "-o", env.path("export.json"), check=0))
        outs.append(env.run("status", "--json", check=0))
        outs.append(env.run("history", check=0))
        outs.append(env.run("cleanup", check=0))
        outs.append(env.run("show", "2", check=0))
        key = KEY.encode()
        for p in outs:
            self.assertNotIn(key, p.stdout + p.stderr)
        for name in os.listdir(env.dir):
            path = env.path(name)
            if os.path.isfile(path) and name != "e2b.json":
                with open(path, "rb") as f:
                    self.assertNotIn(key, f.read(), "key found in " + name)
        logdir = env.path("state")
        for root, _, files in os.walk(logdir):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    self.assertNotIn(key, f.read(), "key found in " + name)
        self.assertTrue(os.path.exists(env.path("export.json")))

    def test_console_screen(self):
        sys.path.insert(0, HERE)
        import console_e2e
        if not console_e2e.shutil.which("tmux"):
            self.skipTest("tmux missing")
        env = self.env
        extra = {k: env.env[k] for k in ("E2B_API_KEY", "E2B_API_URL", "E2B_SANDBOX_URL",
                                         "SWARMDECK_E2B_CONFIG")}
        c = console_e2e.Console(x=200, y=50, env=extra, args="--provider e2b --no-learning")
        try:
            screens = [c.wait_for("Sandboxes", timeout=20)]
            console_e2e.deploy(c, pace="0", provider="e2b")  # the console's own deploy dialog
            screens.append(c.wait_for(r"1 +momentum +SPY +e2b +succeeded", timeout=30))
            screens.append(c.wait_for(r"done: final equity"))  # @@ lines are hidden
            for s in screens:
                self.assertNotIn(KEY, s)
            c.keys("q")
            logdir = os.path.join(c.tmp, "state")
            for root, _, files in os.walk(logdir):
                for name in files:
                    with open(os.path.join(root, name), "rb") as f:
                        self.assertNotIn(KEY.encode(), f.read())
            env.assert_no_leak()
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
