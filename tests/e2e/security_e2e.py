"""security_e2e: encryption at rest, the fingerprint chain and bundle integrity through the
swarmdeck command line (docs/security.md).

Each test uses its own store (lib_e2e.Env). Secrets are recognisable sentinels; the tests
search the raw bytes of the store, its -wal/-shm files, the export and everything the
commands print, so "absent" means absent, not merely "not shown".
"""

import base64
import json
import os
import stat
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402

KEY = base64.b64encode(bytes(range(100, 132))).decode()
PASS = "hunter2 passphrase SENTINEL-PASS"
DESC = "description SENTINEL-DESC zebra"
PARAMS = '{"lookback":17,"threshold":0.0314159}'


def store_bytes(env):
    out = b""
    for suffix in ("", "-wal", "-shm"):
        p = env.db + suffix
        if os.path.exists(p):
            with open(p, "rb") as f:
                out += f.read()
    return out


class Security(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("security")
        os.umask(0)  # files must be 0600 because swarmdeck says so, not because of the umask
        self.printed = b""

    def tearDown(self):
        os.umask(0o022)
        self.env.close()

    def sd(self, *args, key=KEY, check=None, env_key=True):
        """Run swarmdeck with the key in SWARMDECK_KEY (env_key) or on the command line."""
        saved = dict(self.env.env)
        if key is not None and env_key:
            self.env.env["SWARMDECK_KEY"] = key
        else:
            self.env.env.pop("SWARMDECK_KEY", None)
        if key is not None and not env_key:
            args = ("--encryption-key", key) + args
        try:
            p = self.env.run(*args, check=check)
        finally:
            self.env.env = saved
        self.printed += p.stdout + p.stderr
        return p

    def deploy(self, key=KEY, n=2):
        self.sd("-v", "deploy", "-s", "momentum", "-a", str(n), "-p", PARAMS, "--description",
                DESC, key=key, check=0)

    def test_keys_and_secrets(self):
        env = self.env
        self.deploy()
        # The store is encrypted: sensitive values are absent from every file.
        raw = store_bytes(env)
        for s in (b"SENTINEL-DESC", b"zebra", b"0.0314159", b"total_return", KEY.encode()):
            self.assertNotIn(s, raw, s)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(env.db + suffix):
                self.assertEqual(stat.S_IMODE(os.stat(env.db + suffix).st_mode), 0o600, suffix)
        # With the key everything reads normally: show, logs, history, task search, status.
        p = self.sd("show", "1", check=0)
        self.assertIn(b"SENTINEL-DESC", p.stdout)
        self.assertIn(b"0.0314159", p.stdout)
        p = self.sd("logs", "1", check=0)
        self.assertIn(b"@@result", p.stdout)
        p = self.sd("patterns", "-t", "zebra", "--json", check=0)
        self.assertEqual(len(json.loads(p.stdout)["patterns"]), 1)
        self.sd("status", check=0)
        self.sd("suggest", "-s", "momentum", "-p", PARAMS, check=0)
        # Missing key: exit 3, says the store is encrypted and how to give the key.
        p = self.sd("history", key=None, check=3)
        self.assertIn(b"encrypted", p.stderr)
        self.assertIn(b"SWARMDECK_KEY", p.stderr)
        # Wrong key (raw or passphrase, flag or env): exit 3, nothing touched.
        before = store_bytes(env)
        wrong = base64.b64encode(bytes(range(32))).decode()
        for k, env_key in ((wrong, True), (PASS, False), ("short-KEY-9", True)):
            p = self.sd("show", "1", key=k, env_key=env_key, check=3)
            self.assertIn(b"wrong encryption key", p.stderr)
            self.assertNotIn(k.encode(), p.stderr)
        p = self.sd("deploy", "-s", "momentum", key=wrong, check=3)
        self.assertEqual(store_bytes(env), before)
        # The export holds the data (its purpose) but never the key; it is 0600.
        out = env.path("export.json")
        self.sd("export", "-o", out, check=0)
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600)
        with open(out, "rb") as f:
            exported = f.read()
        self.assertIn(b"SENTINEL-DESC", exported)
        self.assertNotIn(KEY.encode(), exported)
        # Nothing printed by any command held the key or the passphrase.
        self.assertNotIn(KEY.encode(), self.printed)
        self.assertNotIn(PASS.encode(), self.printed)

    def test_verify_and_tamper(self):
        env = self.env
        self.deploy(key=None, n=3)
        p = self.sd("verify", key=None, check=0)
        self.assertIn(b"chain ok: 3 record(s)", p.stdout)
        # A row changed behind swarmdeck's back: verify names it, exit 1.
        import sqlite3
        con = sqlite3.connect(env.db)
        con.execute("UPDATE trajectories SET reward = reward + 0.1 WHERE id = 2")
        con.commit()
        con.close()
        pos = env.sql("SELECT chain_seq FROM trajectories WHERE id = 2")[0][0]
        p = self.sd("verify", "--json", key=None, check=1)
        r = json.loads(p.stdout)
        self.assertFalse(r["ok"])
        self.assertEqual(r["firstBad"], 2)
        self.assertEqual(r["records"], pos - 1)  # the records before it verified
        self.assertIn(b"BROKEN at #2", self.sd("verify", key=None, check=1).stdout)

    def test_bundles(self):
        env = self.env
        self.deploy()
        good = env.path("good.json")
        self.sd("export", "-o", good, check=0)
        with open(good) as f:
            bundle = json.load(f)
        self.assertEqual(len(bundle["digest"]), 128)
        fps = [t["fingerprint"] for t in bundle["trajectories"]]
        self.assertTrue(all(len(x) == 128 for x in fps))
        self.assertEqual(bundle["trajectories"][1]["prevFingerprint"], fps[0])

        # Into a second (plaintext) store: tampered and truncated bundles import nothing.
        other = e2e.Env("security-b")
        try:
            def imp(path, code):
                p = other.run("import", path, check=code)
                return p.stderr

            tampered = json.loads(json.dumps(bundle))
            tampered["trajectories"][0]["result"]["sharpe"] = 9.0
            bad = env.path("tampered.json")
            with open(bad, "w") as f:
                json.dump(tampered, f)
            self.assertIn(b"digest", imp(bad, 2))
            with open(good, "rb") as f:
                text = f.read()
            trunc = env.path("truncated.json")
            with open(trunc, "wb") as f:
                f.write(text[: len(text) // 2])
            self.assertIn(b"nothing imported", imp(trunc, 2))
            other.run("status", check=0)  # creates nothing more than an empty store
            before = other.sql("SELECT count(*) FROM trajectories")[0][0]
            self.assertEqual(before, 0)
            imp(good, 0)
            self.assertEqual(other.sql("SELECT count(*) FROM trajectories")[0][0], 2)
            p = other.run("verify", check=0)
            self.assertIn(b"chain ok: 2 record(s)", p.stdout)
        finally:
            other.close()

    def test_rekey(self):
        env = self.env
        self.deploy(key=None, n=2)
        # Encrypt the plaintext store in place; no plaintext remains in its files.
        self.assertIn(b"0.0314159", store_bytes(env))
        p = self.sd("rekey", "--new-key", PASS, key=None, check=0)
        self.assertIn(b"encrypted", p.stdout)
        raw = store_bytes(env)
        self.assertNotIn(b"SENTINEL-DESC", raw)
        self.assertNotIn(b"0.0314159", raw)
        self.sd("verify", key=PASS, check=0)
        self.sd("show", "1", key=None, check=3)
        # An interrupted rekey (the process aborts half way) leaves the old key working.
        env.env["SWARMDECK_FAULT_REKEY"] = "5"
        self.sd("rekey", "--new-key", KEY, key=PASS)
        del env.env["SWARMDECK_FAULT_REKEY"]
        self.sd("show", "2", key=KEY, check=3)
        p = self.sd("verify", key=PASS, check=0)
        self.assertIn(b"chain ok: 2", p.stdout)
        # Completed, the new key works and the old one does not.
        self.sd("rekey", "--new-key", KEY, key=PASS, check=0)
        self.sd("show", "2", key=PASS, check=3)
        p = self.sd("show", "2", key=KEY, check=0)
        self.assertIn(b"SENTINEL-DESC", p.stdout)
        self.assertNotIn(PASS.encode(), self.printed)

    def test_sandbox_cannot_read_store_or_key(self):
        env = self.env
        keyfile = env.path("store.key")
        with open(keyfile, "w") as f:
            f.write(KEY)
        os.chmod(keyfile, 0o600)
        m = env.fixture_manifest("probe-readhost", command=[
            "./probe", "readhost", env.db, env.db + "-wal", keyfile, env.dir,
            "/proc/1/environ", "/proc/self/environ"])
        self.sd("strategies", "add", "--allow-outside", m, check=0)
        self.sd("deploy", "-s", "probe-readhost", check=0)
        out = self.sd("logs", "1", check=0).stdout
        for path in (env.db, env.db + "-wal", keyfile):
            self.assertIn(("ERR %s" % path).encode(), out, out)
            self.assertNotIn(("OK %s" % path).encode(), out)
        self.assertNotIn(KEY.encode(), out)
        self.assertNotIn(b"SWARMDECK_KEY", out)
        self.env.assert_clean()


if __name__ == "__main__":
    unittest.main()
