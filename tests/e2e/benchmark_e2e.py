#!/usr/bin/env python3
"""benchmark_e2e: `swarmdeck benchmark` end to end through the local provider (issue 7).

- Light: a light-load run writes the five report files (0600, one timestamp); the JSON's counts
  and operation times agree with the store; the run is stored with its summary; the CSV starts
  with the original's columns; the HTML is well-formed with one SVG per chart; no progress bar
  when stderr is not a terminal; a second run compares with the first; --json prints the report.
- Flaky: a custom scenario where agent 0 of 5 runs a fixture strategy with fail=1
  (tests/fixtures/strategies/bench_flaky.c): success and error rates are exactly 0.8 and 0.2,
  and the missed thresholds are named with exit 1; limits equal to those rates pass.
- ProviderError: a deployment whose program never ran counts as a provider error.
- Interrupt: SIGINT mid-run cancels what runs, still writes the report of what ran, exit 1.
- BadInput: unknown scenario, bad files and bad parameters exit 2 and store nothing.
- Chromium: headless Chromium renders the HTML report and every chart has a non-zero size.

Environment (tests/e2e/benchmark.cmake): SWARMDECK_BIN_DIR, SWARMDECK_SRC_DIR, BENCH_FLAKY.
"""
import csv
import glob
import html.parser
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_e2e import Env  # noqa: E402

ORIGINAL_COLUMNS = ["Scenario", "Agents", "Iterations", "AvgDuration", "P95Latency",
                    "P99Latency", "AvgSuccessRate", "AvgThroughput"]
# Thresholds that a loaded 2-core machine always meets, so the exit status tests the report,
# not the machine's speed.
LENIENT = ["--min-throughput", "0", "--max-latency", "600000"]


def reports(out):
    """{kind: path} of the one run's files in out; asserts one timestamp and five files."""
    files = sorted(os.listdir(out))
    stamps = {re.sub(r"^(benchmark|coordinator)-(.*)\.(json|txt|csv|html)$", r"\2", f)
              for f in files}
    assert len(stamps) == 1 and len(files) == 5, files
    ts = stamps.pop()
    return {k: os.path.join(out, n % ts) for k, n in (
        ("json", "benchmark-%s.json"), ("txt", "benchmark-%s.txt"), ("csv", "benchmark-%s.csv"),
        ("html", "benchmark-%s.html"), ("coord", "coordinator-%s.txt"))}


class WellFormed(html.parser.HTMLParser):
    """Every element closed in order; counts <svg> elements and their declared sizes."""
    VOID = {"meta", "br", "link", "img", "input", "hr"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.svgs, self.doctype = [], [], [], False

    def handle_decl(self, decl):
        self.doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            a = dict(attrs)
            self.svgs.append((float(a.get("width", 0)), float(a.get("height", 0))))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes %s" % (tag, self.stack[-1:] or "nothing"))
        else:
            self.stack.pop()


def check_html(tc, path, nscen):
    p = WellFormed()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    p.feed(text)
    p.close()
    tc.assertTrue(p.doctype, "no <!DOCTYPE html>")
    tc.assertEqual(p.errors, [])
    tc.assertEqual(p.stack, [], "unclosed elements")
    # percentiles, throughput, operation breakdown, and one histogram per scenario
    tc.assertEqual(len(p.svgs), 3 + nscen)
    tc.assertTrue(all(w > 0 and h > 0 for w, h in p.svgs), p.svgs)
    # self-contained: nothing fetched from anywhere
    tc.assertNotRegex(text, r"(?i)<script|<link|src=|@import|url\(")
    return text


class Light(unittest.TestCase):
    def test_light_reports(self):
        env = Env("bench-light")
        try:
            out = env.path("out")
            args = ["benchmark", "-s", "light-load", "--strategies", "momentum,mean-reversion",
                    "-o", out] + LENIENT
            p = env.run(*args, check=0)
            self.assertNotIn(b"\r", p.stderr)  # no progress bar without a terminal
            self.assertIn(b"scenario light-load", p.stdout)
            f = reports(out)
            for path in f.values():
                self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600, path)
            r = json.load(open(f["json"]))
            self.assertTrue(r["passed"])
            s = r["scenarios"][0]
            self.assertEqual((s["name"], s["agents"], s["iterations"], s["deployments"]),
                             ("light-load", 1, 10, 10))
            self.assertEqual(sum(s["counts"].values()), 10)
            self.assertEqual(s["latency"]["count"], 10)
            self.assertIsNone(s["comparison"])

            # The JSON agrees with the store.
            run = r["runId"]
            by_status = dict(env.sql("SELECT status, count(*) FROM trajectories WHERE run_id = ?"
                                     " GROUP BY status", (run,)))
            self.assertEqual(by_status.get("succeeded", 0), s["counts"]["succeeded"])
            self.assertEqual(by_status.get("failed", 0),
                             s["counts"]["failed"] + s["counts"]["providerError"])
            self.assertEqual(by_status.get("timeout", 0), s["counts"]["timeout"])
            self.assertEqual(sum(by_status.values()), 10)
            by_strategy = dict(env.sql("SELECT strategy, count(*) FROM trajectories"
                                       " WHERE run_id = ? GROUP BY strategy", (run,)))
            self.assertEqual(by_strategy, {"momentum": 5, "mean-reversion": 5})
            self.assertEqual({k: v["deployments"] for k, v in s["byStrategy"].items()},
                             by_strategy)
            ops = env.sql("SELECT name, count(DISTINCT traj_id), sum(duration_ms) FROM operations"
                          " WHERE traj_id IN (SELECT id FROM trajectories WHERE run_id = ?)"
                          " GROUP BY name", (run,))
            self.assertEqual(set(s["operations"]), {o[0] for o in ops})
            for name, n, total in ops:
                self.assertEqual(s["operations"][name]["count"], n, name)
                self.assertAlmostEqual(s["operations"][name]["totalMs"], total, places=3)
            kind, status, summary = env.sql("SELECT kind, status, summary FROM runs WHERE id = ?",
                                            (run,))[0]
            self.assertEqual((kind, status), ("benchmark", "succeeded"))
            summary = json.loads(summary)
            self.assertEqual(summary["scenarios"][0]["deployments"], 10)
            self.assertEqual(summary["scenarios"][0]["latency"], s["latency"])
            self.assertNotIn("histogram", summary["scenarios"][0])

            # CSV: the original's columns first, then one row per scenario and per strategy.
            rows = list(csv.reader(open(f["csv"], newline="")))
            self.assertEqual(rows[0][:8], ORIGINAL_COLUMNS)
            self.assertEqual(len(rows), 1 + 1 + 2)
            row = dict(zip(rows[0], rows[1]))
            self.assertEqual((row["Scenario"], row["Strategy"], row["Agents"]),
                             ("light-load", "all", "1"))
            self.assertAlmostEqual(float(row["AvgDuration"]), s["latency"]["avg"], places=3)
            self.assertAlmostEqual(float(row["P95Latency"]), s["latency"]["p95"], places=3)
            self.assertEqual(float(row["AvgSuccessRate"]), s["successRate"])

            check_html(self, f["html"], 1)
            self.assertIn("result: PASS", open(f["txt"]).read())
            self.assertIn("learning stats", open(f["coord"]).read())

            # A second run compares with the first, and --json prints the report.
            out2 = env.path("out2")
            p = env.run(*(args[:-len(LENIENT) - 2] + ["-o", out2, "--json"] + LENIENT), check=0)
            r2 = json.loads(p.stdout)
            self.assertEqual(r2, json.load(open(reports(out2)["json"])))
            cmp = r2["scenarios"][0]["comparison"]
            self.assertEqual(cmp["previousRunId"], run)
            self.assertEqual([m["metric"] for m in cmp["metrics"]],
                             ["latency.avg", "latency.median", "latency.p95", "throughput",
                              "successRate"])
            self.assertEqual(cmp["regressions"], sum(m["regression"] for m in cmp["metrics"]))
        finally:
            env.assert_clean()
            env.close()


def flaky_env(tc):
    env = Env("bench-flaky")
    fixture = os.environ.get("BENCH_FLAKY", "")
    tc.assertTrue(os.access(fixture, os.X_OK), "BENCH_FLAKY is not the built fixture: %r" % fixture)
    shutil.copy(fixture, env.path("bench-flaky"))
    manifest = {
        "name": "bench-flaky", "description": "benchmark fixture: fails when fail=1",
        "command": ["./bench-flaky"], "files": [env.path("bench-flaky")],
        "params": [
            {"name": "fail", "type": "integer", "default": 0, "min": 0, "max": 1},
            {"name": "ms", "type": "integer", "default": 0, "min": 0, "max": 10000}]}
    with open(env.path("flaky.json"), "w") as f:
        json.dump(manifest, f)
    env.run("strategies", "add", env.path("flaky.json"), check=0)
    return env


def scenario_file(env, name="flaky.scenarios.json", **extra):
    spec = {"thresholds": {"maxLatencyMs": 600000, "minThroughput": 0},
            "scenarios": [dict({"name": "flaky", "agents": 5, "iterations": 2,
                                "strategies": ["bench-flaky"], "agentParams": [{"fail": 1}]},
                               **extra)]}
    path = env.path(name)
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


class Flaky(unittest.TestCase):
    def test_known_share(self):
        env = flaky_env(self)
        try:
            path = scenario_file(env)
            p = env.run("benchmark", "-f", path, "-o", env.path("out"), check=1)
            err = p.stderr.decode()
            self.assertIn("threshold missed: flaky: minSuccessRate", err)
            self.assertIn("threshold missed: flaky: maxErrorRate", err)
            self.assertNotIn("maxLatencyMs", err)
            self.assertNotIn("minThroughput", err)
            r = json.load(open(reports(env.path("out"))["json"]))
            s = r["scenarios"][0]
            self.assertFalse(r["passed"])
            self.assertEqual(s["deployments"], 10)
            self.assertEqual(s["successRate"], 0.8)  # exactly: 8 of 10
            self.assertEqual(s["errorRate"], 0.2)
            self.assertEqual(s["errorRates"], {"failed": 0.2, "timeout": 0.0,
                                               "providerError": 0.0, "cancelled": 0.0})
            self.assertEqual(s["counts"]["failed"], 2)
            verdict = {t["threshold"]: t["passed"] for t in s["thresholds"]}
            self.assertEqual(verdict, {"maxLatencyMs": True, "minThroughput": True,
                                       "maxErrorRate": False, "minSuccessRate": False})
            self.assertTrue(any(x["area"] == "reliability" and "80.0%" in x["message"]
                                for x in r["recommendations"]))
            rows = env.sql("SELECT status, params FROM trajectories WHERE run_id = ? ORDER BY id",
                           (r["runId"],))
            self.assertEqual([st for st, _ in rows], (["failed"] + ["succeeded"] * 4) * 2)
            self.assertTrue(all(json.loads(pa)["fail"] == (st == "failed") for st, pa in rows))
            self.assertEqual(env.sql("SELECT status FROM runs WHERE id = ?", (r["runId"],)),
                             [("failed",)])
            # Limits equal to the measured rates pass: the checks are <= and >=.
            env.run("benchmark", "-f", path, "-o", env.path("out2"), "--min-success-rate", "0.8",
                    "--max-error-rate", "0.2", check=0)
        finally:
            env.assert_clean()
            env.close()


class ProviderError(unittest.TestCase):
    def test_program_never_ran(self):
        """A strategy whose file vanished after `strategies add` cannot be uploaded into its
        sandbox: the program never runs, which is a provider error, not a strategy failure."""
        env = Env("bench-provider")
        try:
            fixture = os.environ.get("BENCH_FLAKY", "")
            shutil.copy(fixture, env.path("gone"))
            with open(env.path("gone.json"), "w") as f:
                json.dump({"name": "bench-gone", "command": ["./gone"],
                           "files": [env.path("gone")], "params": []}, f)
            env.run("strategies", "add", env.path("gone.json"), check=0)
            os.unlink(env.path("gone"))
            with open(env.path("gone.scenarios.json"), "w") as f:
                json.dump([{"name": "gone", "agents": 2, "iterations": 1,
                            "strategies": ["bench-gone"]}], f)
            env.run("benchmark", "-f", env.path("gone.scenarios.json"), "-o", env.path("out"),
                    *LENIENT, check=1)
            s = json.load(open(reports(env.path("out"))["json"]))["scenarios"][0]
            self.assertEqual(s["counts"], {"succeeded": 0, "failed": 0, "timeout": 0,
                                           "providerError": 2, "cancelled": 0})
            self.assertEqual(s["errorRates"]["providerError"], 1.0)
            self.assertNotIn("stream", s["operations"])
        finally:
            env.assert_clean()
            env.close()


class Interrupt(unittest.TestCase):
    def test_sigint_reports_what_ran(self):
        env = flaky_env(self)
        try:
            path = scenario_file(env, agents=2, iterations=200, params={"ms": 100},
                                 agentParams=[])
            out = env.path("out")
            proc = env.popen("benchmark", "-f", path, "-o", out)
            deadline = time.monotonic() + 60
            # Interrupt once a few deployments have ended (poll the store, with a deadline).
            while time.monotonic() < deadline:
                if os.path.exists(env.db) and env.sql(
                        "SELECT count(*) FROM trajectories WHERE status = 'succeeded'")[0][0] >= 4:
                    break
                time.sleep(0.05)
            else:
                proc.kill()
                self.fail("no deployment finished within 60 s")
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=60)
            self.assertEqual(proc.returncode, 1, stderr)
            self.assertIn(b"interrupted", stderr)
            r = json.load(open(reports(out)["json"]))
            self.assertTrue(r["interrupted"])
            self.assertFalse(r["passed"])
            s = r["scenarios"][0]
            self.assertLess(s["deployments"], 400)
            n = env.sql("SELECT count(*) FROM trajectories WHERE run_id = ?", (r["runId"],))[0][0]
            self.assertEqual(s["deployments"], n)
            self.assertEqual(env.sql("SELECT status FROM runs WHERE id = ?", (r["runId"],)),
                             [("cancelled",)])
        finally:
            env.assert_clean()
            env.close()


class BadInput(unittest.TestCase):
    def test_bad_input(self):
        env = flaky_env(self)
        try:
            def refused(args, needle):
                p = env.run("benchmark", "-o", env.path("out"), *args, check=2)
                self.assertIn(needle, p.stderr.decode())

            refused(["-s", "no-such"], 'unknown scenario "no-such"')
            bad = env.path("bad.json")
            with open(bad, "w") as f:
                f.write('{"scenarios": [')
            refused(["-f", bad], "bad.json:1:")
            with open(bad, "w") as f:
                json.dump([{"name": "x", "agents": 1, "iterations": 1, "agnets": 3}], f)
            refused(["-f", bad], 'unknown key "agnets"')
            with open(bad, "w") as f:
                json.dump([{"name": "light-load", "agents": 1, "iterations": 1}], f)
            refused(["-f", bad], "is a built-in scenario")
            refused(["-s", "light-load", "--strategies", "no-such-strategy"], "no-such-strategy")
            refused(["-f", scenario_file(env, "oob.json", agentParams=[{"fail": 5}])], "fail")
            refused(["-s", "light-load", "--max-error-rate", "2"], "--max-error-rate")
            self.assertEqual(env.sql("SELECT count(*) FROM runs"), [(0,)])
            self.assertEqual(env.sql("SELECT count(*) FROM trajectories"), [(0,)])
            self.assertFalse(os.path.exists(env.path("out")))
        finally:
            env.assert_clean()
            env.close()


PROBE = """<script>
(function () {
  var out = [];
  document.querySelectorAll('svg').forEach(function (s) {
    var r = s.getBoundingClientRect(), bars = 0;
    s.querySelectorAll('rect').forEach(function (b) {
      var q = b.getBoundingClientRect();
      if (q.width > 0 && q.height > 0) bars++;
    });
    out.push({cls: s.getAttribute('class'), w: r.width, h: r.height, bars: bars});
  });
  var pre = document.createElement('pre');
  pre.id = 'svg-sizes';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("chromium is not installed: the HTML report cannot be rendered. "
                         "Install it with `sh scripts/deps.sh --test` as root "
                         "(Debian package chromium)")


class Chromium(unittest.TestCase):
    def test_render(self):
        browser = chromium()
        env = Env("bench-chromium")
        try:
            out = env.path("out")
            env.run("benchmark", "-s", "light-load", "--strategies", "momentum", "-o", out,
                    *LENIENT, check=0)
            page = open(reports(out)["html"], encoding="utf-8").read()
            self.assertIn("</body>", page)
            copy = env.path("probe.html")
            with open(copy, "w", encoding="utf-8") as f:
                f.write(page.replace("</body>", PROBE + "</body>"))
            with tempfile.TemporaryDirectory() as profile:
                p = subprocess.run(
                    [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     "--user-data-dir=" + profile, "--window-size=1200,2000",
                     "--dump-dom", "file://" + copy],
                    capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
            dom = p.stdout.decode(errors="replace")
            m = re.search(r'<pre id="svg-sizes">(.*?)</pre>', dom, re.S)
            self.assertIsNotNone(m, "chromium produced no sizes (exit %d): %s"
                                 % (p.returncode, p.stderr.decode(errors="replace")[-2000:]))
            sizes = json.loads(html.unescape(m.group(1)))
            self.assertEqual(len(sizes), 4, sizes)  # percentiles, throughput, operations, histogram
            for s in sizes:
                self.assertGreater(s["w"], 100, s)
                self.assertGreater(s["h"], 100, s)
                self.assertGreater(s["bars"], 0, s)  # the chart draws something visible
        finally:
            env.assert_clean()
            env.close()


if __name__ == "__main__":
    unittest.main()
