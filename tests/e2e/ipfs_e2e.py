"""ipfs_e2e: export bundles named by their IPFS CID, added, pinned and fetched through an IPFS
node's HTTP RPC (docs/ipfs.md).

JsIpfs: a real node, js-ipfs (npm `ipfs`, pinned below, installed by this test into
<build>/npm-ipfs once), started here on loopback with an empty bootstrap list, offline, in a
temporary repo (IPFS_PATH). The CID computed locally (test-cid, engine/store/cid.c) must be
the node's for files of one block, several leaves, more than 174 leaves (two levels) and, with
a 1 KiB chunker, three levels; and `export --ipfs-api` / `import --ipfs-api` round-trip a small
(one raw block) and a large (> 174 leaves) bundle into a second store. Without node and npm, or
when npm cannot install the package (no network), these are skipped with the reason (exit 77).

Hostile: a node that lies, played by a loopback HTTP server here (a real node never lies):
a different CID or size for what we added must fail the export loudly; bytes that do not have
the CID asked for must import nothing. It also answers in Kubo's forms (CIDs in base32, Size
as a string) and in js-ipfs's (base58btc, Size as a number), which must both be accepted.
"""

import http.server
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.parse
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402

IPFS_VERSION = "0.66.1"
IPFS_BEFORE = "2025-01-15"  # its dependencies as of then: later ones do not run here
SKIP = 77
CHUNK = 262144
TEST_CID = os.path.join(e2e.BIN, "test-cid")
B32 = "abcdefghijklmnopqrstuvwxyz234567"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def ipfs_dir():
    """The npm prefix holding ipfs@IPFS_VERSION, installed if missing; or exit 77."""
    base = os.path.join(e2e.BIN or os.path.join(os.path.dirname(__file__), "..", "..", "build"),
                        "npm-ipfs")
    try:
        with open(os.path.join(base, "node_modules", "ipfs", "package.json")) as f:
            if json.load(f).get("version") == IPFS_VERSION:
                return base
    except (OSError, ValueError):
        pass
    if not shutil.which("node") or not shutil.which("npm"):
        print("skipped: node and npm are needed to run js-ipfs", flush=True)
        sys.exit(SKIP)
    os.makedirs(base, exist_ok=True)
    p = subprocess.run(["npm", "install", "--prefix", base, "--no-audit", "--no-fund",
                        "--ignore-scripts", "--no-save", "--before=" + IPFS_BEFORE,
                        "ipfs@" + IPFS_VERSION],
                       capture_output=True, timeout=900)
    if p.returncode != 0:
        print("skipped: cannot install ipfs@%s with npm: %s" %
              (IPFS_VERSION, p.stderr.decode(errors="replace")[-500:]), flush=True)
        sys.exit(SKIP)
    return base


def b32_decode(s):
    bits, acc, out = 0, 0, bytearray()
    for c in s:
        acc = (acc << 5) | B32.index(c)
        bits += 5
        if bits >= 8:
            out.append((acc >> (bits - 8)) & 0xFF)
            bits -= 8
    return bytes(out)


def to_base58(cid):
    """A base32 CIDv1 ("b...") in base58btc ("z..."), as js-ipfs prints it by default."""
    raw = b32_decode(cid[1:])
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "z" + "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def local_cid(path, chunk=None):
    """(CID, total size) of a file as test-cid computes it (engine/store/cid.c)."""
    p = subprocess.run([TEST_CID, "file", path] + ([str(chunk)] if chunk else []),
                       capture_output=True, timeout=300, check=True)
    cid, size = p.stdout.decode().split()
    return cid, int(size)


def make_store(env, kind):
    """Fill env's store: "small" is one momentum trajectory (a bundle of one block), "large"
    18 trajectories of 2 MiB output each (a bundle of more than 174 leaves)."""
    spec = env.path("swarm.json")
    if kind == "small":
        swarm = [{"strategyName": "momentum", "agents": 1, "params": {"symbols": ["SPY"]}}]
    else:
        env.add_strategy(env.fixture_manifest("probe-flood"))
        swarm = [{"strategyName": "probe-flood", "agents": 18, "params": {"mb": 2}}]
    with open(spec, "w") as f:
        json.dump(swarm, f)
    env.run("swarm", "-f", spec, "--max-agents", "6", "--timeout", "120")  # probe-flood: "failed"
    trajs = env.trajectories()
    assert len(trajs) == swarm[0]["agents"] and all(t["chain_seq"] for t in trajs), trajs
    return {t["uuid"] for t in trajs}


class JsNode:
    """js-ipfs on loopback: an empty bootstrap list, offline, no preload, its own repo."""

    def __init__(self, base, tmp):
        self.bin = os.path.join(base, "node_modules", ".bin", "jsipfs")
        self.env = dict(os.environ, IPFS_PATH=os.path.join(tmp, "repo"), HOME=tmp)
        self.log = os.path.join(tmp, "daemon.log")
        p = subprocess.run([self.bin, "init", "--profile", "test"], env=self.env, cwd=tmp,
                           capture_output=True, timeout=300)
        assert p.returncode == 0, p.stderr.decode(errors="replace")[-2000:]
        cfg_path = os.path.join(self.env["IPFS_PATH"], "config")
        with open(cfg_path) as f:
            cfg = json.load(f)
        port = e2e.free_port()
        cfg["Addresses"].update({"API": "/ip4/127.0.0.1/tcp/%d" % port,
                                 "Gateway": "/ip4/127.0.0.1/tcp/0",
                                 "RPC": "/ip4/127.0.0.1/tcp/0",
                                 "Swarm": ["/ip4/127.0.0.1/tcp/0"], "Delegates": []})
        cfg["Bootstrap"] = []
        cfg.setdefault("Discovery", {}).setdefault("MDNS", {})["Enabled"] = False
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        self.url = "http://127.0.0.1:%d" % port
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([self.bin, "daemon", "--offline",
                                          "--enable-preload=false"],
                                         env=self.env, cwd=tmp, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        e2e.wait_for(self.ready, "js-ipfs to start", deadline=180)

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("js-ipfs exited %d:\n%s" % (self.proc.returncode,
                                                             self.read_log()))
        return "Daemon is ready" in self.read_log()

    def read_log(self):
        with open(self.log, errors="replace") as f:
            return f.read()[-3000:]

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def rpc(self, path, data=None, ctype=None):
        req = urllib.request.Request(self.url + "/api/v0/" + path, data=data or b"",
                                     method="POST")
        if ctype:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, timeout=600) as r:
                return r.read()
        except urllib.error.HTTPError as e:
            raise AssertionError("js-ipfs: %s: HTTP %d: %s" % (path, e.code, e.read()[:500]))

    def add(self, path, query):
        """The node's answer to /api/v0/add of the file at path (query appended)."""
        boundary = "swarmdeck%016x" % random.getrandbits(64)
        with open(path, "rb") as f:
            content = f.read()
        body = (("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n" % boundary).encode() +
                content + ("\r\n--%s--\r\n" % boundary).encode())
        out = self.rpc("add?" + query, body, "multipart/form-data; boundary=" + boundary)
        return [json.loads(x) for x in out.decode().splitlines() if x.strip()][-1]


class JsIpfs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="swarmdeck-ipfs-")
        cls.node = JsNode(ipfs_dir(), cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_cids_equal_the_node(self):
        rnd = random.Random(19)
        # Three levels need more than 174 * 174 leaves: js-ipfs runs out of file descriptors
        # storing that many distinct blocks, so that file repeats a 251-byte pattern (251
        # distinct 1 KiB chunks; the DAG is the same shape).
        pattern = bytes((i * 31 + 7) % 251 for i in range(251)) * (174 * 174 * 1024 // 251 + 1)
        cases = [(0, None), (1, None), (CHUNK, None), (CHUNK + 1, None), (3 * CHUNK + 17, None),
                 (174 * CHUNK, None), (174 * CHUNK + 1, None), (200 * CHUNK + 99, None),
                 (174 * 174 * 1024 + 5, 1024)]
        for n, chunk in cases:
            path = os.path.join(self.tmp, "f%d" % n)
            with open(path, "wb") as f:
                f.write(rnd.randbytes(n) if chunk is None else pattern[:n])
            cid, tsize = local_cid(path, chunk)
            q = "cid-version=1&raw-leaves=true" + ("&chunker=size-%d" % chunk if chunk else "")
            got = self.node.add(path, q + "&cid-base=base32")
            self.assertEqual((got["Hash"], got["Size"]), (cid, tsize), (n, chunk))
            # Without cid-base js-ipfs answers in base58btc (Kubo in base32).
            self.assertEqual(self.node.add(path, q)["Hash"], to_base58(cid), (n, chunk))
            self.assertTrue(cid.startswith("bafkrei") if n <= CHUNK else
                            cid.startswith("bafybei"), (n, cid))
            os.unlink(path)

    def round_trip(self, kind):
        env, dst = e2e.Env("ipfs-" + kind), e2e.Env("ipfs-%s-import" % kind)
        try:
            uuids = make_store(env, kind)
            bundle = env.path("bundle.json")
            p = env.run("export", "-o", bundle, "--ipfs-api", self.node.url, check=0)
            cid = p.stdout.decode().strip()
            self.assertEqual(cid, local_cid(bundle)[0])
            self.assertIn(b"added and pinned " + cid.encode(), p.stderr)
            size = os.path.getsize(bundle)
            if kind == "small":
                self.assertLessEqual(size, CHUNK)
                self.assertTrue(cid.startswith("bafkrei"), cid)  # a single raw block
            else:
                self.assertGreater(size, 174 * CHUNK)  # two levels of dag-pb nodes
                self.assertTrue(cid.startswith("bafybei"), cid)
            pins = json.loads(self.node.rpc("pin/ls?type=recursive&cid-base=base32&arg=" + cid))
            self.assertIn(cid, pins["Keys"])
            with open(bundle, "rb") as f:
                self.assertEqual(self.node.rpc("cat?arg=" + cid), f.read())
            # Into a second store, by the CID as js-ipfs prints it too (base58btc).
            p = dst.run("import", "--ipfs-api", self.node.url, "--json", to_base58(cid), check=0)
            self.assertEqual(json.loads(p.stdout)["added"], len(uuids))
            self.assertEqual({t["uuid"] for t in dst.trajectories()}, uuids)
            p = dst.run("import", "--ipfs-api", self.node.url + "/api/v0/", "--json", cid,
                        check=0)
            self.assertEqual((json.loads(p.stdout)["added"], json.loads(p.stdout)["skipped"]),
                             (0, len(uuids)))
            # Stdout without -o is the bundle; the CID then goes to stderr.
            p = env.run("export", check=0)
            self.assertIn(b"swarmdeck: bundle CID " + local_cid_bytes(p.stdout, env), p.stderr)
        finally:
            env.close()
            dst.close()

    def test_small_bundle(self):
        self.round_trip("small")

    def test_large_bundle(self):
        self.round_trip("large")


def local_cid_bytes(data, env):
    path = env.path("stdout.json")
    with open(path, "wb") as f:
        f.write(data)
    return local_cid(path)[0].encode()


class FakeNode:
    """A lying IPFS node on loopback. behave: a dict saying what to answer (see Hostile)."""

    def __init__(self):
        self.requests, self.behave, self.uploads = [], {}, []
        node = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                u = urllib.parse.urlsplit(self.path)
                q = urllib.parse.parse_qs(u.query)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                node.requests.append((u.path, q))
                code, out = node.answer(u.path, q, body, self.headers.get("Content-Type", ""))
                self.send_response(code)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()

    def answer(self, path, q, body, ctype):
        b = self.behave
        if path == "/api/v0/add":
            boundary = ctype.split("boundary=", 1)[1].strip('"').encode()
            part = body.split(b"--" + boundary)[1]
            content = part.split(b"\r\n\r\n", 1)[1][:-2]
            self.uploads.append(content)
            with tempfile.NamedTemporaryFile() as f:
                f.write(content)
                f.flush()
                cid, size = local_cid(f.name)
            self.cid = cid
            if b.get("add_cid"):
                cid = b["add_cid"]
            size += b.get("size_delta", 0)
            shown = to_base58(cid) if b.get("js") else cid
            line = {"Name": "f", "Hash": shown, "Size": size if b.get("js") else str(size)}
            return 200, (json.dumps(line) + "\n").encode()
        if path == "/api/v0/pin/add":
            cid = q["arg"][0]
            return 200, json.dumps({"Pins": [to_base58(cid) if b.get("js") else cid]}).encode()
        if path == "/api/v0/cat":
            if "cat_error" in b:
                return 500, json.dumps({"Message": b["cat_error"], "Code": 0,
                                        "Type": "error"}).encode()
            return 200, b["cat"]
        return 404, b"not found"


class Hostile(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env("ipfs-hostile")
        self.node = FakeNode()

    def tearDown(self):
        self.node.stop()
        self.env.close()

    def export(self, check):
        return self.env.run("export", "-o", self.env.path("b.json"), "--ipfs-api",
                            self.node.url, check=check)

    def test_node_forms_of_kubo_and_js(self):
        make_store(self.env, "small")
        for js in (False, True):
            self.node.behave = {"js": js}
            self.node.requests.clear()
            p = self.export(0)
            with open(self.env.path("b.json"), "rb") as f:
                self.assertEqual(self.node.uploads[-1], f.read())
            self.assertEqual(p.stdout.decode().strip(), self.node.cid)
            (add, aq), (pin, pq) = self.node.requests
            self.assertEqual((add, pin), ("/api/v0/add", "/api/v0/pin/add"))
            for k, v in (("cid-version", "1"), ("raw-leaves", "true"),
                         ("chunker", "size-262144"), ("cid-base", "base32")):
                self.assertEqual(aq[k], [v])
            self.assertEqual(pq["arg"], [self.node.cid])

    def test_node_names_it_otherwise(self):
        make_store(self.env, "small")
        other = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        for behave in ({"add_cid": other}, {"add_cid": other, "js": True}):
            self.node.behave = behave
            self.node.requests.clear()
            p = self.export(1)
            self.assertEqual(p.stdout, b"")
            self.assertIn(b"NOT published", p.stderr)
            self.assertIn(other.encode(), p.stderr)
            self.assertEqual([r[0] for r in self.node.requests], ["/api/v0/add"])  # no pin
        self.node.behave = {"size_delta": 1}
        p = self.export(1)
        self.assertIn(b"size", p.stderr)

    def test_encrypted_store_is_not_published_by_default(self):
        """A bundle is plaintext: an encrypted store is published only with --public."""
        make_store(self.env, "small")
        self.env.run("rekey", "--new-key", "correct horse battery", check=0)
        self.env.env["SWARMDECK_KEY"] = "correct horse battery"
        self.node.behave = {}
        self.node.requests.clear()
        p = self.export(2)
        self.assertIn(b"--public", p.stderr)
        self.assertEqual(self.node.requests, [])  # nothing reached the node
        p = self.env.run("export", "-o", self.env.path("b.json"), "--ipfs-api", self.node.url,
                         "--public", check=0)
        self.assertEqual([r[0] for r in self.node.requests], ["/api/v0/add", "/api/v0/pin/add"])

    def test_fetched_bytes_must_have_the_cid(self):
        make_store(self.env, "small")
        bundle = self.env.path("b.json")
        self.env.run("export", "-o", bundle, check=0)
        with open(bundle, "rb") as f:
            good = f.read()
        cid = local_cid(bundle)[0]
        dst = e2e.Env("ipfs-hostile-import")
        try:
            # One byte changed (a reward digit), a truncated copy, and the node's error.
            i = good.index(b'"reward": ') + len(b'"reward": ')
            bad = good[:i] + (b"1" if good[i:i + 1] != b"1" else b"2") + good[i + 1:]
            for cat, rc, what in ((bad, 1, b"refused"), (good[:-10], 1, b"refused"),
                                  (None, 3, b"block not found")):
                self.node.behave = {"cat": cat} if cat else {"cat_error": "block not found"}
                p = dst.run("import", "--ipfs-api", self.node.url, cid, check=rc)
                self.assertIn(what, p.stderr)
                self.assertIn(b"nothing imported", p.stderr)
                self.assertEqual(dst.trajectories() if os.path.exists(dst.db) else [], [])
            # Not a CID: refused before any request.
            self.node.requests.clear()
            for arg in ("bundle.json", "bafy/../../api", "Qm123"):
                p = dst.run("import", "--ipfs-api", self.node.url, arg, check=2)
                self.assertIn(b"not a CID", p.stderr)
            self.assertEqual(self.node.requests, [])
            # The same node serving the right bytes: imported (so the refusals were the
            # bytes', not the fake's).
            self.node.behave = {"cat": good}
            dst.run("import", "--ipfs-api", self.node.url, cid, check=0)
            self.assertEqual(len(dst.trajectories()), 1)
            self.assertEqual(self.node.requests[-1][1]["arg"], [cid])
        finally:
            dst.close()


if __name__ == "__main__":
    if len(sys.argv) < 2 or any(a.startswith("JsIpfs") for a in sys.argv[1:]):
        ipfs_dir()  # exits 77 when js-ipfs cannot be installed
    unittest.main()
