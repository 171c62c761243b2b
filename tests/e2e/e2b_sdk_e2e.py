"""e2b_sdk_e2e: the double stays honest. The official E2B JS SDK (npm `e2b`, pinned below)
runs against tests/fixtures/e2b_double.py for create, commands (output, exit codes, a
background process killed), files (write, read), list, timeout, info, health and kill, and
every answer must be what the SDK accepts from the real service. If the double drifted from
the service's wire format, the SDK would throw here.

The SDK is installed by this test's setup with npm into <build>/npm-e2b (once; the version is
checked). Without node and npm, or when the package cannot be installed (no network), the test
is skipped with the reason (exit 77).
"""

import json
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import e2b_double  # noqa: E402

SDK_VERSION = "2.51.0"
KEY = "e2b_" + "0123456789abcdef" * 2 + "feedc0de"
SKIP = 77


def sdk_dir():
    """The npm prefix holding e2b@SDK_VERSION, installed if missing; or exit 77."""
    base = os.path.join(os.environ.get("SWARMDECK_BIN_DIR", os.path.join(HERE, "..", "..",
                                                                          "build")), "npm-e2b")
    pkg = os.path.join(base, "node_modules", "e2b", "package.json")
    try:
        with open(pkg) as f:
            if json.load(f).get("version") == SDK_VERSION:
                return base
    except (OSError, ValueError):
        pass
    if not shutil.which("node") or not shutil.which("npm"):
        print("skipped: node and npm are needed to run the E2B SDK", flush=True)
        sys.exit(SKIP)
    os.makedirs(base, exist_ok=True)
    p = subprocess.run(["npm", "install", "--prefix", base, "--no-audit", "--no-fund",
                        "--ignore-scripts", "--no-save", "e2b@" + SDK_VERSION],
                       capture_output=True, timeout=600)
    if p.returncode != 0:
        print("skipped: cannot install e2b@%s with npm: %s" %
              (SDK_VERSION, p.stderr.decode(errors="replace")[-500:]), flush=True)
        sys.exit(SKIP)
    return base


def hdr(req, name):
    """A request header of the double's log, by name in any case (HTTP's rule)."""
    return {k.lower(): v for k, v in req[3].items()}.get(name.lower())


class Sdk(unittest.TestCase):
    def setUp(self):
        self.base = sdk_dir()
        self.double = e2b_double.Double(KEY).start()

    def tearDown(self):
        self.double.stop()

    def run_sdk(self):
        # ES modules resolve packages from the script's own directory.
        script = os.path.join(self.base, "e2b_sdk_check.mjs")
        shutil.copyfile(os.path.join(HERE, "e2b_sdk_check.mjs"), script)
        env = dict(os.environ, E2B_API_KEY=KEY, E2B_API_URL=self.double.api_url,
                   E2B_SANDBOX_URL=self.double.sandbox_url)
        env.pop("E2B_DOMAIN", None)
        env.pop("E2B_DEBUG", None)
        p = subprocess.run(["node", script], env=env, capture_output=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace")[-3000:])
        return {o["step"]: o for o in map(json.loads, p.stdout.decode().splitlines())}

    def reqs(self, kind, method, prefix):
        return [r for r in self.double.requests
                if r[0] == kind and r[1] == method and r[2].split("?")[0].startswith(prefix)]

    def test_sdk_against_the_double(self):
        s = self.run_sdk()
        sid = s["create"]["id"]
        self.assertRegex(sid, r"^i[a-z0-9]{20}$")
        self.assertEqual((s["run"]["stdout"], s["run"]["stderr"], s["run"]["exitCode"]),
                         ("hello\nuser", "warn\n", 0))
        self.assertEqual(s["exit"]["exitCode"], 3)
        self.assertTrue(s["kill-process"]["killed"])
        self.assertEqual(s["files"]["text"], "written by the SDK\n")
        self.assertEqual(s["files"]["seen"], "written by the SDK\n")
        self.assertEqual(s["list"]["ids"], [sid])
        self.assertEqual(s["list"]["meta"], [{"owner": "sdk-check"}])
        self.assertEqual((s["info"]["id"], s["info"]["template"]), (sid, "base"))
        self.assertTrue(s["running"]["running"])
        self.assertIs(s["kill"]["again"], False)  # the second kill met a 404
        self.assertEqual(self.double.sandboxes(), [])

        # What the SDK sent, as docs/e2b.md's table says our client sends it too.
        create = self.reqs("api", "POST", "/v2/sandboxes")
        self.assertEqual(len(create), 1)
        body = json.loads(create[0][4])
        self.assertEqual((body["templateID"], body["metadata"], body["timeout"]),
                         ("base", {"owner": "sdk-check"}, 60))
        self.assertEqual(hdr(create[0], "X-API-Key"), KEY)
        starts = self.reqs("proxy", "POST", "/process.Process/Start")
        self.assertEqual(len(starts), 4)
        for r in starts:
            self.assertEqual(hdr(r, "content-type"), "application/connect+json")
            self.assertEqual(hdr(r, "connect-protocol-version"), "1")
            self.assertEqual(hdr(r, "e2b-sandbox-id"), sid)
            self.assertEqual(hdr(r, "e2b-sandbox-port"), "49983")
            self.assertEqual(r[4][0], 0)
        sig = self.reqs("proxy", "POST", "/process.Process/SendSignal")
        self.assertEqual(json.loads(sig[0][4])["signal"], "SIGNAL_SIGKILL")
        self.assertEqual(len(self.reqs("proxy", "POST", "/files")), 1)
        self.assertEqual(len(self.reqs("proxy", "GET", "/files")), 1)
        tmo = self.reqs("api", "POST", "/sandboxes/%s/timeout" % sid)
        self.assertEqual([json.loads(r[4]) for r in tmo], [{"timeout": 120}])
        self.assertEqual(len(self.reqs("api", "DELETE", "/sandboxes/%s" % sid)), 2)
        lists = self.reqs("api", "GET", "/v2/sandboxes")
        self.assertIn("metadata=owner%3Dsdk-check", lists[0][2])


if __name__ == "__main__":
    unittest.main()
