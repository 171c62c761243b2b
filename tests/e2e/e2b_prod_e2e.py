"""e2b_prod_e2e: the E2B provider in production conditions (issue 18), against the E2B double
(tests/fixtures/e2b_double.py) on 127.0.0.1. Every wait is on a condition with a deadline.

  Ttl         a run longer than the plan's maximum TTL is kept alive with
              POST /sandboxes/{id}/timeout; a --timeout over the plan's maximum is clamped.
  Capacity    E2B's concurrency-limit 429 (no Retry-After) queues creates with a bounded
              backoff, is shown as "waiting for E2B capacity", never opens the breaker, gives
              up with a clear message, and a cancel ends the wait.
  Internet    allow_internet_access is false unless --internet; --internet on local refused.
  CreateWait  a create answered after createTimeoutMs is abandoned and its sandbox destroyed.
  Envd        envd below 0.1.0 is refused (and the sandbox killed); below 0.4.0 the default
              user is named (Authorization: Basic).
  Creds       a refused envd access token is not blamed on the API key.
  Metrics     metrics are asked for a window (start, end), never the whole history.
  Resources   --strict with --cpus the template cannot meet is refused; --memory maps to
              RLIMIT_AS; a runner built for another machine is refused before any upload.
  Redact      a hostile API echoing the key upper-cased and in pieces leaks none of it.
  Template    the runner template's build script and manifest: the same runner (version and
              digest) is linked, not uploaded; another is uploaded.
  Reconnect   a process that died mid-run and a new one: the sandbox is connected again and
              the program's stream resumed by its tag (the provider's half of reconnect).
  Regions     three regions (own key, template, label) at different latencies: placement by
              latency and health, the region in status and the benchmark, a sweep on each.
"""

import json
import os
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import lib_e2e as e2e  # noqa: E402
from e2b_e2e import KEY, E2bEnv  # noqa: E402


def path_of(req):
    return req[2].split("?")[0]


class Base(unittest.TestCase):
    name = "e2bprod"
    config = None
    double = {}

    def setUp(self):
        self.env = E2bEnv(self.name, config=self.config, **self.double)

    def tearDown(self):
        self.env.close()

    def deploy(self, *args, check=None, strategy="momentum"):
        return self.env.run("deploy", "-s", strategy, "--symbol", "SPY", "--no-learning",
                            "--provider", "e2b", *args, check=check)

    def last(self):
        return self.env.trajectories()[-1]

    def reqs(self, method, path):
        return [r for r in self.env.double.requests if r[1] == method and path_of(r) == path]

    def creates(self):
        return [json.loads(r[4]) for r in self.reqs("POST", "/v2/sandboxes")]

    def health(self, name="e2b"):
        st = json.loads(self.env.run("status", "--json", check=0).stdout)
        return [p for p in st["providers"] if p["name"] == name][0]

    def assert_exact(self, t):
        self.assertEqual(t["status"], "succeeded", t)
        self.assertEqual(self.env.output(t["id"], 1),
                         e2e.runner_output("momentum", "SPY", t["params"]))


class Ttl(Base):
    name = "e2bttl"
    config = {"maxTimeoutS": 2}
    double = {"max_timeout_s": 2}

    def test_long_run_kept_alive(self):
        env = self.env
        t0 = time.monotonic()
        self.deploy("--pace", "1500", check=0)  # several seconds: longer than the 2 s TTL
        took = time.monotonic() - t0
        t = self.last()
        self.assertEqual(t["status"], "succeeded", t)
        self.assertEqual(env.output(t["id"], 1),
                         e2e.runner_output("momentum", "SPY", t["params"], pace=1500))
        self.assertGreater(took, 2.0, "the run must outlast the initial TTL to prove anything")
        self.assertEqual([c["timeout"] for c in self.creates()], [2])  # clamped to the plan
        refreshes = [json.loads(r[4]) for r in env.double.requests
                     if r[1] == "POST" and path_of(r).endswith("/timeout")]
        self.assertGreaterEqual(len(refreshes), 2, "the TTL was not refreshed")
        self.assertTrue(all(r == {"timeout": 2} for r in refreshes), refreshes)
        env.assert_no_leak()

    def test_timeout_over_the_plan_clamped(self):
        env = self.env
        env.write_config({})  # the default plan maximum: one hour (Hobby)
        env.double.max_timeout_s = 3600
        self.deploy("--timeout", "3500", check=0)
        self.assert_exact(self.last())
        self.assertEqual([c["timeout"] for c in self.creates()], [3600])
        env.assert_no_leak()


    def test_plan_maximum_per_instance(self):
        """An instance's own maxTimeoutS (its plan) wins over the top-level one."""
        env = self.env
        d = env.double
        env.write_config({"maxTimeoutS": 3600,
                          "instances": [{"name": "e2b-hobby", "apiKey": d.api_key,
                                         "template": "base", "apiUrl": d.api_url,
                                         "sandboxUrl": d.sandbox_url, "maxTimeoutS": 2}]})
        env.run("deploy", "-s", "momentum", "--symbol", "SPY", "--no-learning", "--provider",
                "e2b-hobby", "--timeout", "3500", check=0)
        self.assert_exact(self.last())
        self.assertEqual([c["timeout"] for c in self.creates()], [2])  # not 3600
        env.assert_no_leak()


class Capacity(Base):
    name = "e2bcap"
    config = {"breaker": {"failures": 1, "cooldownMs": 600000}}
    double = {"concurrency": 1}

    def test_waits_for_capacity(self):
        env = self.env
        p = env.run("deploy", "-s", "momentum", "--symbol", "SPY", "-a", "3", "--max-agents",
                    "3", "--no-learning", "--provider", "e2b", "--pace", "4000", check=0)
        trajs = env.trajectories()
        self.assertEqual([t["status"] for t in trajs], ["succeeded"] * 3)
        self.assertEqual([t["provider"] for t in trajs], ["e2b"] * 3)
        limited = [r for r in self.reqs("POST", "/v2/sandboxes") if r[4] and True]
        self.assertGreater(len(limited), 3, "no create met the concurrency limit")
        self.assertIn(b"waiting for E2B capacity", p.stderr)
        h = self.health()
        self.assertEqual((h["breaker"], h["failures"]), ("closed", 0))
        env.assert_no_leak()

    def test_gives_up_bounded_not_breaker(self):
        env = self.env
        env.write_config({"breaker": {"failures": 1, "cooldownMs": 600000},
                          "capacityWaitMs": 2500})
        env.double.concurrency = 0
        p = self.deploy(check=1)
        t = self.last()
        self.assertEqual(t["status"], "failed")
        self.assertIn("no E2B capacity", t["error"])
        self.assertIn("maximum number of concurrent", t["error"])
        self.assertIn(b"waiting for E2B capacity", p.stderr)
        h = self.health()
        self.assertEqual((h["breaker"], h["failures"]), ("closed", 0))

    def test_cancel_while_waiting(self):
        env = self.env
        env.double.concurrency = 0
        proc = env.popen("deploy", "-s", "momentum", "--symbol", "SPY", "--no-learning",
                         "--provider", "e2b")
        e2e.wait_for(lambda: len(self.reqs("POST", "/v2/sandboxes")) >= 2,
                     "creates meeting the limit", 30)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 1, err)
        self.assertEqual(self.last()["status"], "cancelled")


class Internet(Base):
    name = "e2bnet"

    def test_no_internet_by_default(self):
        self.deploy(check=0)
        self.deploy("--internet", check=0)
        self.assertEqual([c["allow_internet_access"] for c in self.creates()], [False, True])
        iso = [json.loads(t["isolation"]) for t in self.env.trajectories()]
        self.assertEqual([i["network"] for i in iso], ["none", "internet (opted in)"])
        self.env.assert_no_leak()

    def test_internet_refused_on_local(self):
        p = self.env.run("deploy", "-s", "momentum", "--symbol", "SPY", "--internet", check=2)
        self.assertIn(b"local sandboxes never have a network", p.stderr)


class CreateWait(Base):
    name = "e2bcwait"
    config = {"createTimeoutMs": 500}

    def test_late_answer_destroyed(self):
        env = self.env
        env.double.create_delay = 2.0
        env.double.fault("createslow", 1)
        self.deploy(check=0)  # the first create is abandoned, the retry succeeds
        self.assert_exact(self.last())
        ids = [r[2].split("/")[-1] for r in env.double.requests
               if r[1] == "DELETE" and r[2].startswith("/sandboxes/")]
        # The late sandbox is destroyed when its answer arrives, not left to its TTL.
        e2e.wait_for(lambda: env.double.sandboxes() == [], "the late sandbox destroyed", 30)
        ids = [r[2].split("/")[-1] for r in env.double.requests
               if r[1] == "DELETE" and r[2].startswith("/sandboxes/")]
        self.assertEqual(len(ids), 2, ids)  # the late one and the deployment's own
        self.assertEqual(env.double.created, 2)
        ops = env.sql("SELECT name, ok, detail FROM operations WHERE name = 'create'")
        self.assertEqual([o[1] for o in ops], [0, 1])
        self.assertIn("no answer within 500 ms", ops[0][2])


class Envd(Base):
    name = "e2benvd"

    def test_too_old_refused(self):
        env = self.env
        env.double.envd_version = "0.0.9"
        self.deploy(check=1)
        t = self.last()
        self.assertEqual(t["status"], "failed")
        self.assertIn("envd 0.0.9, older than 0.1.0", t["error"])
        self.assertEqual(env.double.created, 1)  # refused, not retried
        env.assert_no_leak()

    def test_old_envd_gets_the_default_user(self):
        env = self.env
        env.double.envd_version = "0.3.2"
        self.deploy(check=0)
        self.assert_exact(self.last())
        envd = [r for r in env.double.requests if r[0] == "proxy" and path_of(r) != "/health"]
        self.assertTrue(envd)
        for r in envd:
            self.assertEqual(r[3].get("Authorization"), "Basic dXNlcjo=", r[2])
        env.double.envd_version = "0.6.4"
        n = len(env.double.requests)
        self.deploy(check=0)
        newer = [r for r in env.double.requests[n:] if r[0] == "proxy"]
        self.assertTrue(all("Authorization" not in r[3] for r in newer))


class Creds(Base):
    name = "e2bcreds"
    config = {"breaker": {"failures": 100}}

    def test_envd_token_refusal_named(self):
        env = self.env
        env.double.fault("envd401")
        self.deploy(check=1)
        t = self.last()
        self.assertIn("envd access token was refused (401", t["error"])
        self.assertNotIn("API key was refused", t["error"])
        env.double.clear()
        env.double.fault("401")
        self.deploy(check=1)
        self.assertIn("the E2B API key was refused (401", self.last()["error"])
        env.assert_no_leak()


class Metrics(Base):
    name = "e2bmetrics"
    config = {"sampleMs": 250}

    def test_windowed(self):
        env = self.env
        t0 = int(time.time())
        self.deploy("--pace", "2000", check=0)
        ms = [r for r in env.double.requests if path_of(r).endswith("/metrics")]
        self.assertGreaterEqual(len(ms), 2)
        import urllib.parse
        for r in ms:
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(r[2]).query)
            self.assertIn("start", q, r[2])
            self.assertIn("end", q, r[2])
            self.assertGreaterEqual(int(q["start"][0]), t0 - 1)
        # Later windows start at the newest sample seen, so they do not grow with the run.
        starts = [int(urllib.parse.parse_qs(urllib.parse.urlsplit(r[2]).query)["start"][0])
                  for r in ms]
        self.assertEqual(starts, sorted(starts))
        self.assertGreater(starts[-1], starts[0])


class Resources(Base):
    name = "e2bres"

    def test_strict_cpus_refused(self):
        env = self.env
        self.deploy("--strict", "--cpus", "1", check=1)
        t = self.last()
        self.assertEqual(t["status"], "failed")
        self.assertIn("--cpus 1 cannot be enforced on E2B", t["error"])
        self.deploy("--strict", "--cpus", "2", check=0)
        self.assert_exact(self.last())
        env.assert_no_leak()

    def test_memory_mapped(self):
        env = self.env
        self.deploy("--memory", "256", "--cpus", "1", check=0)
        t = self.last()
        self.assert_exact(t)
        start = [json.loads(r[4][5:]) for r in env.double.requests
                 if path_of(r) == "/process.Process/Start"][-1]
        self.assertIn("ulimit -v 262144 && ", start["process"]["args"][1])
        iso = json.loads(t["isolation"])
        self.assertIn("memory 256 MB as RLIMIT_AS (VM has 512 MB)", iso["limits"])
        self.assertIn("--cpus 1 not enforced", iso["limits"])

    def test_foreign_arch_refused_before_upload(self):
        env = self.env
        elf = bytearray(64)
        elf[0:4] = b"\x7fELF"
        elf[4], elf[5], elf[6] = 2, 1, 1  # 64-bit, little-endian
        elf[18:20] = (183).to_bytes(2, "little")  # EM_AARCH64
        binp = env.path("arm-runner")
        with open(binp, "wb") as f:
            f.write(bytes(elf))
        os.chmod(binp, 0o755)
        manifest = env.path("arm.json")
        with open(manifest, "w") as f:
            json.dump({"name": "armstrat", "description": "built for arm64",
                       "command": ["./arm-runner"], "files": [binp], "params": []}, f)
        env.add_strategy(manifest)
        env.run("deploy", "-s", "armstrat", "--no-learning", "--provider", "e2b", check=1)
        t = self.last()
        self.assertIn("arm-runner is built for aarch64, but E2B sandboxes run x86_64", t["error"])
        self.assertEqual(self.reqs("POST", "/files"), [])
        env.assert_no_leak()


class Redact(Base):
    name = "e2bredact"

    def test_upper_and_split_echo(self):
        env = self.env
        env.double.fault("echokey")
        p = self.deploy("-v", check=1)
        t = self.last()
        self.assertIn("API key was refused", t["error"])
        texts = [t["error"].encode(), p.stdout, p.stderr]
        pieces = [KEY[i:i + 9] for i in range(0, len(KEY), 9)]
        for text in texts:
            low = text.lower()
            self.assertNotIn(KEY.encode(), low)
            for piece in pieces:
                if len(piece) >= 8:
                    self.assertNotIn(piece.encode(), low, text)
        self.assertIn("[redacted]", t["error"])


class Template(Base):
    """The runner template (e2b/template/): a sandbox that already holds the same runner
    (version and digest) gets it linked, not uploaded; any other gets the upload."""
    name = "e2btmpl"

    def build_template(self):
        """Run e2b/template/build.sh with a stand-in for E2B's CLI that keeps the staged
        build context; returns {path under home: bytes} as the template's sandboxes hold it."""
        env = self.env
        fake = env.path("fakebin")
        os.makedirs(fake)
        with open(os.path.join(fake, "e2b"), "w") as f:
            f.write("#!/bin/sh\necho \"$@\" > \"$CTX_OUT/args\"\ncp swarmdeck-runner "
                    "runner.json e2b.Dockerfile \"$CTX_OUT/\"\n")
        os.chmod(os.path.join(fake, "e2b"), 0o755)
        out = env.path("ctx")
        os.makedirs(out)
        src = os.environ["SWARMDECK_SRC_DIR"]
        subprocess.run(["sh", os.path.join(src, "e2b", "template", "build.sh"),
                        os.environ["SWARMDECK_BIN_DIR"], "swarmdeck-runner"], check=True,
                       env=dict(os.environ, PATH=fake + os.pathsep + os.environ["PATH"],
                                CTX_OUT=out), capture_output=True)
        with open(os.path.join(out, "args")) as f:
            self.assertEqual(f.read().split()[:4],
                             ["template", "create", "swarmdeck-runner", "-d"])
        files = {}
        for name in ("swarmdeck-runner", "runner.json"):
            with open(os.path.join(out, name), "rb") as f:
                files[".swarmdeck/" + name] = f.read()
        return files

    def uploads(self, start=0):
        return [r[2] for r in self.env.double.requests[start:]
                if r[1] == "POST" and path_of(r) == "/files"]

    def test_runner_linked_not_uploaded(self):
        env = self.env
        files = self.build_template()
        manifest = json.loads(files[".swarmdeck/runner.json"])
        self.assertEqual(len(manifest["files"]["swarmdeck-runner"]["sha3-512"]), 128)
        env.double.templates["swarmdeck-runner"] = files
        env.write_config({"template": "swarmdeck-runner"})
        env.run("deploy", "-s", "momentum", "--symbol", "SPY", "-a", "3", "--max-agents", "1",
                "--no-learning", "--provider", "e2b", check=0)
        for t in env.trajectories():
            self.assert_exact(t)
            self.assertEqual(json.loads(t["isolation"])["runner"], "template")
        ups = self.uploads()
        self.assertEqual(len(ups), 3)
        self.assertTrue(all("data.csv" in u for u in ups), ups)  # never the runner
        reads = [r for r in env.double.requests if r[1] == "GET" and path_of(r) == "/files"]
        self.assertEqual(len(reads), 1)  # the manifest, once per instance
        start = json.loads(self.reqs("POST", "/process.Process/Start")[0][4][5:])
        self.assertIn("ln -sf '../.swarmdeck/swarmdeck-runner' 'swarmdeck-runner'",
                      start["process"]["args"][1])
        env.assert_no_leak()

    def test_other_runner_uploaded(self):
        env = self.env
        files = self.build_template()
        for change in ({"version": "0.0.1"},
                       {"files": {"swarmdeck-runner": {"sha3-512": "ab" * 64}}}):
            m = json.loads(files[".swarmdeck/runner.json"])
            m.update(change)
            env.double.templates["swarmdeck-runner"] = dict(
                files, **{".swarmdeck/runner.json": json.dumps(m).encode()})
            env.write_config({"template": "swarmdeck-runner"})
            n = len(env.double.requests)
            self.deploy(check=0)
            self.assert_exact(self.last())
            self.assertTrue(any("swarmdeck-runner" in u for u in self.uploads(n)),
                            "a runner that does not match was not uploaded: %r" % change)
        env.assert_no_leak()


class Reconnect(Base):
    """A process that dies mid-run and a new one that reattaches: POST
    /v2/sandboxes/{id}/connect, then process.Process/Connect by the tag Start gave, and the
    stream resumes to the program's end (output made while nobody was attached is lost, as on
    E2B). The provider's half of a daemon's reconnect (provider.h reattach, resume)."""
    name = "e2breconnect"

    def driver(self, *args):
        return [os.path.join(os.environ["SWARMDECK_BIN_DIR"], "e2b_resume_driver")] + list(args)

    def test_reattach_and_resume(self):
        env = self.env
        script = env.path("job.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho before\n"
                    "i=0; while [ ! -e go ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\n"
                    "echo after; exit 7\n")
        env.double.fault("drop", 1)  # the first stream is cut after its first output
        p = subprocess.run(self.driver("start", script, "sd1-reconnect"), env=env.env,
                           capture_output=True, timeout=60)
        out = p.stdout.decode()
        self.assertIn("before", out)
        self.assertIn("START rc=-1", out)  # the stream was lost
        handle = out.split("HANDLE ", 1)[1].split()[0]
        sid = handle.split(":")[2]
        self.assertEqual(handle, "e2b:e2b:%s:60000" % sid)  # the timeout rides along
        self.assertEqual([b["sandboxID"] for b in env.double.sandboxes()], [sid])
        proc = subprocess.Popen(self.driver("resume", "sd1-reconnect", handle), env=env.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            e2e.wait_for(lambda: any(path_of(r) == "/process.Process/Connect"
                                     for r in env.double.requests), "the reattach", 30)
            box = env.double.get(sid)
            open(os.path.join(box.home, "swarmdeck", "go"), "w").close()
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        out = out.decode()
        self.assertEqual(proc.returncode, 0, out + err.decode())
        self.assertIn("ATTACHED\nafter\n", out)
        self.assertIn("EXIT code=7 rc=0", out)
        conn = self.reqs("POST", "/v2/sandboxes/%s/connect" % sid)
        self.assertEqual(len(conn), 1)
        self.assertIn("timeout", json.loads(conn[0][4]))
        attach = [json.loads(r[4][5:]) for r in env.double.requests
                  if path_of(r) == "/process.Process/Connect"]
        self.assertEqual(attach, [{"process": {"tag": "swarmdeck-sd1-reconnect"}}])
        env.assert_no_leak()

    def test_gone_sandbox(self):
        env = self.env
        p = subprocess.run(self.driver("resume", "sd2-gone", "e2b:e2b:inotthereatall0000000"),
                           env=env.env, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"REATTACH failed: e2b: sandbox inotthereatall0000000 is gone (404)",
                      p.stdout)


KEYS = ["e2b_" + c * 32 for c in ("a1", "b2", "c3")]


class Regions(Base):
    """Three E2B regions (separate clusters, each with its own key, template and label) at
    different latencies: placement by health and measured latency, the region in status and
    in the benchmark's report, and the leak sweep on each."""
    name = "e2bregion"

    def setUp(self):
        super().setUp()
        from e2b_double import Double
        # The env's own double is not used: each region has its own with its own key.
        self.regions = [Double(k, latency=lat).start()
                        for k, lat in zip(KEYS, (0.25, 0.0, 0.12))]
        self.names = ["e2b-slow", "e2b-fast", "e2b-mid"]
        self.env.write_config({"breaker": {"failures": 1, "cooldownMs": 600000},
                               "instances": [
                                   {"name": n, "region": r, "apiKey": k, "template": "base",
                                    "apiUrl": d.api_url, "sandboxUrl": d.sandbox_url}
                                   for n, r, k, d in zip(self.names,
                                                         ("ap-south", "eu-west", "us-east"),
                                                         KEYS, self.regions)]})
        self.env.env.pop("E2B_API_KEY")

    def tearDown(self):
        for d in self.regions:
            d.stop()
        super().tearDown()

    def test_placement_status_bench_sweep(self):
        env = self.env
        env.run("deploy", "-s", "momentum", "--symbol", "SPY", "-a", "7", "--max-agents", "1",
                "--no-learning", "--provider", "e2b", check=0)
        provs = [t["provider"] for t in env.trajectories()]
        self.assertEqual(sorted(provs[:3]), sorted(self.names))  # each measured once
        self.assertEqual(provs[3:], ["e2b-fast"] * 4)  # then the lowest latency wins
        for d in self.regions:
            self.assertEqual(d.sandboxes(), [])
            for r in d.requests:
                if r[0] == "api":
                    self.assertEqual(r[3].get("X-API-Key"), d.api_key)  # its own key
        # Health: the fast one fails, its breaker opens, the next by latency takes over.
        self.regions[1].fault("create500")
        env.run("deploy", "-s", "momentum", "--symbol", "SPY", "-a", "2", "--max-agents", "1",
                "--no-learning", "--provider", "e2b", check=0)
        self.assertEqual([t["provider"] for t in env.trajectories()][7:], ["e2b-mid"] * 2)
        self.regions[1].clear()
        st = json.loads(env.run("status", "--json", check=0).stdout)
        regions = {p["name"]: p.get("region") for p in st["providers"]}
        self.assertEqual(regions, {"local": "", "e2b-slow": "ap-south", "e2b-fast": "eu-west",
                                   "e2b-mid": "us-east"})
        text = env.run("status", check=0).stdout.decode()
        self.assertIn("e2b-fast (region eu-west) breaker open", text)

        # The benchmark says where each instance runs.
        spec = env.path("regions.json")
        with open(spec, "w") as f:
            json.dump({"thresholds": {"maxLatencyMs": 600000, "minThroughput": 0},
                       "scenarios": [{"name": "regional", "agents": 2, "iterations": 1,
                                      "strategies": ["momentum"]}]}, f)
        p = env.run("benchmark", "-f", spec, "-o", env.path("bench"), "--json",
                    "--provider", "e2b-mid", "--no-learning", check=0)
        rep = json.loads(p.stdout)
        self.assertIn({"name": "e2b-mid", "kind": "e2b", "region": "us-east"}, rep["instances"])
        texts = []
        for n in sorted(os.listdir(env.path("bench"))):
            if n.endswith(".txt") or n.endswith(".html"):
                with open(os.path.join(env.path("bench"), n)) as f:
                    texts.append((n, f.read()))
        report = [t for n, t in texts if n.endswith(".txt") and "swarmdeck benchmark" in t]
        self.assertEqual(len(report), 1, [n for n, _ in texts])
        self.assertIn("instances: local, e2b-slow (region ap-south), e2b-fast (region eu-west), "
                      "e2b-mid (region us-east)", report[0])
        html = [t for n, t in texts if n.endswith(".html")]
        self.assertTrue(html and "Instance e2b-mid: region us-east." in html[0])

        # The leak sweep runs on every region with that region's key.
        sid = env.store_id()
        for d in self.regions:
            d.create("base", {"owner": sid, "sandbox": "sd9-dead", "pid": "1", "pidStart": "1"},
                     600)
            d.create("base", {"owner": "someone-else"}, 600)
        rep = json.loads(env.run("cleanup", "--json", check=0).stdout)
        self.assertEqual((rep["e2bFound"], rep["e2bDestroyed"]), (3, 3))
        for d in self.regions:
            self.assertEqual([b["metadata"]["owner"] for b in d.sandboxes()], ["someone-else"])


if __name__ == "__main__":
    unittest.main()
