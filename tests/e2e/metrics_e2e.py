#!/usr/bin/env python3
"""metrics_e2e.py: the daemon's /metrics scraped by a real Prometheus (Debian's package).

The test starts `swarmdeck serve --metrics 127.0.0.1:PORT` on a private store, runs three
deployments through it, checks the exposition with `promtool check metrics`, starts a
Prometheus on loopback that scrapes the daemon every second with the shipped alert rules
loaded, and waits (with a deadline) until Prometheus' own query API reports the daemon up and
three succeeded deployments. `promtool check rules` validates docs/prometheus/alerts.yml.
Every process it starts is stopped in tearDown.
"""
import json
import re
import os
import shutil
import signal
import subprocess
import sys
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402

SRC = os.environ.get("SWARMDECK_SRC_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
ALERTS = os.path.join(SRC, "docs", "prometheus", "alerts.yml")
PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")




def get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read().decode()
    except OSError:
        return None


@unittest.skipUnless(PROMTOOL and PROMETHEUS, "needs Debian's prometheus package")
class Metrics(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("metrics")
        self.procs = []
        self.port = e2e.free_port()
        self.serve = subprocess.Popen(
            self.env.cmd("serve", "--metrics", "127.0.0.1:%d" % self.port), env=self.env.env,
            stdout=subprocess.DEVNULL, stderr=open(self.env.path("serve.log"), "wb"),
            cwd=self.env.dir)
        self.procs.append(self.serve)
        e2e.wait_for(lambda: get("http://127.0.0.1:%d/metrics" % self.port), "the daemon's /metrics")

    def tearDown(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.env.close()

    def metrics(self):
        return get("http://127.0.0.1:%d/metrics" % self.port)

    def test_exposition_and_scrape(self):
        p = self.env.run("deploy", "-s", "momentum", "-a", "3", "--json", check=0)
        self.assertEqual(len(json.loads(p.stdout)), 3)
        text = self.metrics()
        self.assertIn('swarmdeck_deployments_total{state="succeeded"} 3', text)
        self.assertIn("swarmdeck_deployment_start_seconds_count 3", text)
        self.assertIn('swarmdeck_breaker_state{provider="local",kind="local"} 0', text)
        self.assertIn("swarmdeck_learning_success_ratio", text)
        # the store's write latency: every commit counted once, in the +Inf bucket too
        commits = int(re.search(r"^swarmdeck_store_commits_total (\d+)$", text, re.M).group(1))
        self.assertGreater(commits, 0)
        self.assertIn('swarmdeck_store_commit_seconds_bucket{le="+Inf"} %d' % commits, text)
        self.assertIn("swarmdeck_store_commit_seconds_count %d" % commits, text)
        # sandbox create latency: a histogram of every create (3 deployments, 3 creates)
        lbl = 'provider="local",kind="local"'
        self.assertIn("# TYPE swarmdeck_provider_create_seconds histogram", text)
        self.assertIn('swarmdeck_provider_create_seconds_bucket{%s,le="+Inf"} 3' % lbl, text)
        self.assertIn("swarmdeck_provider_create_seconds_count{%s} 3" % lbl, text)
        les = re.findall(r'^swarmdeck_provider_create_seconds_bucket\{%s,le="([^"]+)"\} (\d+)$'
                         % re.escape(lbl), text, re.M)
        counts = [int(n) for _, n in les]
        self.assertEqual(counts, sorted(counts), les)  # cumulative
        self.assertIn("swarmdeck_provider_create_recent_seconds{%s}" % lbl, text)
        # promtool's own linter: names, units, types, HELP lines.
        chk = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                             capture_output=True, timeout=60)
        self.assertEqual(chk.returncode, 0, chk.stdout.decode() + chk.stderr.decode())
        self.assertEqual(chk.stdout.decode().strip() + chk.stderr.decode().strip(), "")
        # A real Prometheus scrapes it with the shipped rules loaded.
        pport = e2e.free_port()
        rules = self.env.path("alerts.yml")
        shutil.copy(ALERTS, rules)
        cfg = self.env.path("prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "rule_files: [%s]\n"
                    "scrape_configs:\n  - job_name: swarmdeck\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % (json.dumps(rules), self.port))
        prom = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + cfg, "--storage.tsdb.path=" + self.env.path("tsdb"),
             "--web.listen-address=127.0.0.1:%d" % pport],
            stdout=subprocess.DEVNULL, stderr=open(self.env.path("prometheus.log"), "wb"))
        self.procs.append(prom)
        api = "http://127.0.0.1:%d/api/v1/" % pport

        def query(q):
            body = get(api + "query?query=" + urllib.parse.quote(q))
            if body is None:
                return None
            res = json.loads(body)["data"]["result"]
            return res[0]["value"][1] if res else None

        e2e.wait_for(lambda: query('up{job="swarmdeck"}') == "1", "Prometheus to scrape the daemon",
                 120)
        e2e.wait_for(lambda: query('swarmdeck_deployments_total{state="succeeded"}') == "3",
                 "three succeeded deployments in Prometheus", 60)
        groups = json.loads(get(api + "rules"))["data"]["groups"]
        names = {r["name"] for g in groups for r in g["rules"]}
        self.assertEqual(names, {"SwarmdeckDown", "SwarmdeckBreakerOpen", "SwarmdeckFailureRate",
                                 "SwarmdeckStoreErrors"})
        # Healthy: none of them fires.
        alerts = json.loads(get(api + "alerts"))["data"]["alerts"]
        self.assertEqual([a for a in alerts if a["state"] == "firing"], [])

    def test_rules_file(self):
        chk = subprocess.run([PROMTOOL, "check", "rules", ALERTS], capture_output=True,
                             timeout=60)
        self.assertEqual(chk.returncode, 0, chk.stdout.decode() + chk.stderr.decode())
        self.assertIn("4 rules found", chk.stdout.decode())

    def test_bad_address_and_paths(self):
        p = self.env.run("serve", "--metrics", "nowhere", check=2)
        self.assertIn(b"HOST:PORT", p.stderr)
        req = urllib.request.Request("http://127.0.0.1:%d/other" % self.port)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=5)
        self.assertEqual(cm.exception.code, 404)


if __name__ == "__main__":
    unittest.main()
