#!/usr/bin/env python3
"""store_bundle: import bundles as hostile input (issue 14, item 8).

A bundle's digest and fingerprints are unkeyed: whoever edits a bundle can recompute the
digest (this test does, with its own canonical JSON writer, checked against a real export).
Before, such a bundle could carry a reward of 1e308 (every later learning-enabled deploy of
that strategy then failed with "unknown error"), names with "../" and escape sequences, a
user strategy named like a built-in, trajectories stripped of their fingerprints to skip the
chain checks, and manifests that became runnable at once (reading host files). Now every
field is checked, finished trajectories must carry fingerprints, and imported manifests are
kept for reference only: `strategies add` by the operator is the only way to run one.
Every refused bundle imports nothing.
"""
import copy
import hashlib
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import lib_e2e as e2e  # noqa: E402


def jansson_real(x):
    """A float as jansson writes it with JSON_REAL_PRECISION(17)."""
    s = "%.17g" % x
    if "." not in s and "e" not in s:
        s += ".0"
    if "e" in s:
        mant, exp = s.split("e")
        sign = "-" if exp.startswith("-") else ""
        s = mant + "e" + sign + exp.lstrip("+-").lstrip("0")
    return s


def jansson_str(s):
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif c < 0x20:
            out.append("\\u%04X" % c)
        elif c > 0x7F:
            if c > 0xFFFF:
                c -= 0x10000
                out.append("\\u%04X\\u%04X" % (0xD800 | (c >> 10), 0xDC00 | (c & 0x3FF)))
            else:
                out.append("\\u%04X" % c)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def canonical(v):
    """jansson's JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17)."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return jansson_real(v)
    if isinstance(v, str):
        return jansson_str(v)
    if isinstance(v, list):
        return "[" + ",".join(canonical(x) for x in v) + "]"
    return "{" + ",".join(jansson_str(k) + ":" + canonical(v[k]) for k in sorted(v)) + "}"


def reseal(bundle):
    """Recompute the bundle's digest, as whoever edits a bundle can."""
    b = {k: v for k, v in bundle.items() if k != "digest"}
    bundle["digest"] = hashlib.sha3_512(canonical(b).encode()).hexdigest()
    return bundle


class Bundle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        src = e2e.Env("bundle-src")
        try:
            src.add_strategy(src.fixture_manifest("probe-lines"))
            src.run("deploy", "-s", "momentum", "-a", "2", "--symbol", "SPY", check=0)
            path = src.path("good.json")
            src.run("export", "-o", path, check=0)
            with open(path) as f:
                cls.good = json.load(f)
        finally:
            src.close()

    def setUp(self):
        self.env = e2e.Env("bundle")
        self.env.run("cleanup", check=0)  # an empty store (status refuses a missing one)

    def tearDown(self):
        self.env.close()

    def imp(self, bundle, code, raw=None):
        path = self.env.path("b.json")
        with open(path, "w") as f:
            f.write(raw if raw is not None else json.dumps(bundle))
        p = self.env.run("import", path, check=code)
        if code != 0:
            self.assertIn(b"nothing imported", p.stderr)
            self.assertEqual(self.env.sql("SELECT count(*) FROM trajectories"), [(0,)])
            self.assertEqual(self.env.sql("SELECT count(*) FROM strategies"), [(0,)])
        return p

    def edited(self, fn):
        b = copy.deepcopy(self.good)
        fn(b)
        return reseal(b)

    def test_reseal_is_faithful(self):
        # Our digest is the engine's: so the refusals below are not digest mismatches.
        self.assertEqual(reseal(copy.deepcopy(self.good))["digest"], self.good["digest"])
        p = self.imp(self.good, 0)
        self.assertIn(b"imported 2 trajectory", p.stdout)
        self.env.run("verify", check=0)

    def test_reward_out_of_range(self):
        def f(b):
            b["trajectories"][1]["reward"] = 1e308
        p = self.imp(self.edited(f), 2)
        self.assertIn(b'"reward" must be a number in [0, 1]', p.stderr)
        # NaN is not JSON: refused as such.
        text = json.dumps(self.good).replace('"reward": %r' % self.good["trajectories"][1]["reward"],
                                             '"reward": NaN')
        self.assertIn("NaN", text)
        self.imp(None, 2, raw=text)

    def test_hostile_names(self):
        for field, value in (("strategyName", "../../etc/passwd"),
                             ("strategyName", "mom\x1b]0;owned\x07"),
                             ("symbol", "../SPY"), ("provider", "local\x1b[2J"),
                             ("uuid", "../../x")):
            def f(b):
                b["trajectories"][1][field] = value
            p = self.imp(self.edited(f), 2)
            self.assertIn(('"%s" must be' % field).encode(), p.stderr)

    def test_builtin_name_and_escapes_in_manifests(self):
        for name in ("momentum", "evil\x1b[2J", "../evil"):
            def f(b):
                m = copy.deepcopy(b["strategies"][0])
                m["name"] = name
                b["strategies"].append(m)
            p = self.imp(self.edited(f), 2)
            self.assertTrue(b"built-in" in p.stderr or b'"name" must be' in p.stderr, p.stderr)

    def test_fingerprint_required(self):
        # A finished record edited and stripped of its fingerprint, to skip the chain check.
        def f(b):
            t = b["trajectories"][1]
            t["description"] = "smuggled"
            t["fingerprint"] = None
        p = self.imp(self.edited(f), 2)
        self.assertIn(b"must have its fingerprint", p.stderr)

        # Marked unfinished instead: it is not imported at all (nothing vouches for it).
        def g(b):
            t = b["trajectories"][1]
            t["status"] = "running"
            t["reward"] = 1.0
            t["description"] = "smuggled"
            t["fingerprint"] = None
        p = self.imp(self.edited(g), 0)
        self.assertIn(b"1 unfinished", p.stdout)
        self.assertEqual(self.env.sql("SELECT count(*) FROM trajectories"), [(1,)])
        self.assertEqual(self.env.sql("SELECT count(*) FROM trajectories WHERE description IS "
                                      "NOT NULL OR reward = 1.0"), [(0,)])
        self.env.run("verify", check=0)

    def test_manifests_are_not_runnable(self):
        # A manifest that would upload a host file into the sandbox.
        def f(b):
            m = copy.deepcopy(b["strategies"][0])
            m["name"] = "evil"
            m["files"] = ["/etc/shadow"]
            m["command"] = ["/bin/sh", "-c", "cat shadow"]
            b["strategies"].append(m)
        p = self.imp(self.edited(f), 0)
        self.assertIn(b"not runnable", p.stdout)
        for name in ("evil", "probe-lines"):
            p = self.env.run("deploy", "-s", name, check=2)
            self.assertIn(b"unknown strategy", p.stderr.lower())
        self.assertNotIn(b"evil", self.env.run("strategies", check=0).stdout)
        # The operator adds one after review: then it runs.
        self.env.add_strategy(self.env.fixture_manifest("probe-lines"))
        p = self.env.run("deploy", "-s", "probe-lines", "-p", '{"n":10}', "--json", check=0)
        self.assertTrue(json.loads(p.stdout)[0]["success"])
        self.env.assert_clean()


if __name__ == "__main__":
    unittest.main()
