"""sandbox_netshare: the pool master's shared empty network namespace (engine/sandbox/netshare.c;
docs/sandbox.md "Network"), opt-in (SWARMDECK_SANDBOX_NETNS=shared), keeps sandboxes from
reaching each other and the host; and it is not the default because it is not as isolated as a
namespace each: /proc/net/unix lists one sandbox's unix sockets to the other (asserted here, so
the day a kernel or a mount closes it, this test says so and the default can change).

Two sandboxes run at once, members of one pool master. A binds an abstract unix stream and
datagram socket (and connects to its own, to prove they listen), tries to listen on loopback TCP
and UDP, and waits; B, meanwhile, tries to reach A: its abstract stream and datagram sockets,
loopback TCP and UDP, netlink (and the interfaces it would show), SIGKILL to A's process, and
the host: a TCP listener and an abstract unix socket of this test on the host. Nothing of B's
may arrive, A must survive, and neither reaches the host.

  shared          SWARMDECK_SANDBOX_NETNS=shared: both sandboxes in one netns (not the host's),
                  pid namespaces on; B sees A's abstract socket name in /proc/net/unix
  shared_nopidns  the same with SWARMDECK_SANDBOX_DISABLE=pidns: A's pid is addressable from B,
                  so only Landlock's signal scoping stops the SIGKILL (same outside uid)
  per_sandbox     the default: a namespace each (B does not see A's socket in /proc/net/unix)
  forced          SWARMDECK_SANDBOX_NETNS=per-sandbox, the fallback forced, with shared asked
                  nowhere: the same as the default
  probe           --probe names the mode: per-sandbox by default, shared with the knob
  engine_shared   `deploy --no-daemon` with SWARMDECK_SANDBOX_NETNS=shared: the master's members
                  share one namespace (the engine passes --netns shared to its master)
  engine_default  without it: every deployment has its own

No timing assertion: every wait is a condition with a deadline."""

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import lib_e2e as e2e  # noqa: E402
import sandbox_hostile as sh  # noqa: E402
from sandbox_pool import BASE, drain, request_member, start_master  # noqa: E402

SERVER = r"""
import errno, json, os, select, signal, socket, sys
name, port = sys.argv[1], int(sys.argv[2])
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
res = {"accepted": 0, "received": 0}
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
u.bind("\0" + name)
u.listen(8)
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
d.bind("\0" + name + "-d")
socks = [u, d]
for kind, typ in (("tcp", socket.SOCK_STREAM), ("udp", socket.SOCK_DGRAM)):
    try:
        s = socket.socket(socket.AF_INET, typ)
        s.bind(("127.0.0.1", port))
        if typ == socket.SOCK_STREAM:
            s.listen(8)
        socks.append(s)
        res[kind] = "listening"
    except OSError as e:
        res[kind] = errno.errorcode.get(e.errno, str(e.errno))
# Our own sockets work: a connection from inside A is accepted (then not counted).
me = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
me.connect("\0" + name)
u.accept()[0].close()
me.close()
print("ready", json.dumps(res), flush=True)
while not stop:
    try:
        r, _, _ = select.select(socks, [], [], 0.2)
    except InterruptedError:
        continue
    for s in r:
        if s.type == socket.SOCK_STREAM:
            s.accept()[0].close()
            res["accepted"] += 1
        else:
            s.recv(100)
            res["received"] += 1
print("result", json.dumps(res), flush=True)
"""

CLIENT = r"""
import errno, json, os, signal, socket, sys
name, port, a_pid, host_port, host_name = sys.argv[1:6]
port, a_pid, host_port = int(port), int(a_pid), int(host_port)
res = {}
def attempt(key, fn):
    try:
        fn()
        res[key] = "ok"
    except OSError as e:
        res[key] = errno.errorcode.get(e.errno, str(e.errno))
def unix(addr, typ):
    s = socket.socket(socket.AF_UNIX, typ)
    s.settimeout(5)
    if typ == socket.SOCK_STREAM:
        s.connect(addr)
    else:
        s.sendto(b"x", addr)
def inet(host, p, typ):
    s = socket.socket(socket.AF_INET, typ)
    s.settimeout(5)
    if typ == socket.SOCK_STREAM:
        s.connect((host, p))
    else:
        s.sendto(b"x", (host, p))
attempt("abstract_stream", lambda: unix("\0" + name, socket.SOCK_STREAM))
attempt("abstract_dgram", lambda: unix("\0" + name + "-d", socket.SOCK_DGRAM))
attempt("tcp", lambda: inet("127.0.0.1", port, socket.SOCK_STREAM))
attempt("udp", lambda: inet("127.0.0.1", port, socket.SOCK_DGRAM))
attempt("host_tcp", lambda: inet("127.0.0.1", host_port, socket.SOCK_STREAM))
attempt("host_tcp6", lambda: socket.create_connection(("::1", host_port), timeout=5))
attempt("host_abstract", lambda: unix("\0" + host_name, socket.SOCK_STREAM))
attempt("netlink", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))
attempt("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0))
try:
    res["interfaces"] = [n for _, n in socket.if_nameindex()]
except OSError as e:
    res["interfaces"] = errno.errorcode.get(e.errno, str(e.errno))
attempt("kill", lambda: os.kill(a_pid, signal.SIGKILL))
def seen():
    with open("/proc/net/unix") as f:
        return name in f.read()
try:
    res["proc_net_unix_shows_a"] = seen()
except OSError as e:
    res["proc_net_unix_shows_a"] = errno.errorcode.get(e.errno, str(e.errno))
print("result", json.dumps(res), flush=True)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:  # until the test has looked at our namespace
    signal.pause()
"""


def find_pid(marker):
    for pid in e2e.all_pids():
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"python3") and marker.encode() in argv:
            return pid
    return None


def netns(pid):
    return os.readlink("/proc/%d/ns/net" % pid)


class Netshare(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("the sandbox tests need root (uid ranges, cgroups)")
        self.wd = tempfile.mkdtemp(prefix="sbxnet-")
        os.chmod(self.wd, 0o755)
        self.tag = "tn%d" % os.getpid()
        self.n = 0
        self.m = None
        # The host side: a TCP listener (v4 and v6) and an abstract unix socket.
        self.host = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.host.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        self.host.bind(("::", 0))
        self.host.listen(8)
        self.host.setblocking(False)
        self.host_name = "sbxnet-host-%d" % os.getpid()
        self.host_u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.host_u.bind("\0" + self.host_name)
        self.host_u.listen(8)
        self.host_u.setblocking(False)

    def tearDown(self):
        if self.m is not None:
            if self.m.poll() is None:
                self.m.kill()
            self.m.wait()
            os.close(self.life_w)
            self.ctl.close()
        self.host.close()
        self.host_u.close()
        subprocess.run(["rm", "-rf", self.wd], check=False)

    def start_master(self, **env):
        self.m, self.ctl, self.life_w, _, _ = start_master(env)

    def member(self, args):
        """A member running args (a job); returns (pid, stdout fd, stderr fd, status fd)."""
        self.n += 1
        pid, job, out_r, err_r, st_r = request_member(self.ctl, "%s-m%d" % (self.tag, self.n))
        self.assertGreater(pid, 0)
        job.sendall(b"".join(a.encode() + b"\0" for a in
                             ["--id", "%s-j%d" % (self.tag, self.n), "--workdir", self.wd,
                              "--timeout-ms", "60000", "--"] + args))
        job.close()
        return pid, out_r, err_r, st_r

    @staticmethod
    def read_line(fd, deadline=30):
        buf = b""
        end = time.monotonic() + deadline
        while not buf.endswith(b"\n"):
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("no line in time: %r" % buf)
            r, _, _ = select.select([fd], [], [], left)
            if r:
                c = os.read(fd, 1)
                if not c:
                    raise AssertionError("EOF after %r" % buf)
                buf += c
        return buf.decode()

    @staticmethod
    def drain(fd):
        return drain(fd).decode()

    def pair(self, shared, **env):
        self.start_master(**env)
        name = "sbxnet-%d-%d" % (os.getpid(), self.n)
        port = 20000 + os.getpid() % 20000
        a_pid, a_out, a_err, a_st = self.member(["/usr/bin/python3", "-c", SERVER, name,
                                                 str(port)])
        line = self.read_line(a_out)
        self.assertTrue(line.startswith("ready "), line)
        a_setup = json.loads(line.split(" ", 1)[1])
        a_payload = find_pid(name)
        self.assertIsNotNone(a_payload)
        b_pid, b_out, b_err, b_st = self.member(
            ["/usr/bin/python3", "-c", CLIENT, name, str(port), str(a_payload),
             str(self.host.getsockname()[1]), self.host_name, "b-" + name])
        line = self.read_line(b_out)
        self.assertTrue(line.startswith("result "), line)
        b = json.loads(line.split(" ", 1)[1])
        b_payload = find_pid("b-" + name)
        self.assertIsNotNone(b_payload)
        same = netns(a_payload) == netns(b_payload)
        self.assertEqual(same, shared, (netns(a_payload), netns(b_payload)))
        self.assertNotEqual(netns(a_payload), netns(os.getpid()))
        os.kill(b_pid, signal.SIGTERM)
        self.drain(b_out)
        self.drain(b_err)
        b_events = [json.loads(x) for x in self.drain(b_st).splitlines() if x.strip()]
        os.waitpid(b_pid, 0)
        # A is still there (B's SIGKILL did not arrive): stop it, read what reached it.
        self.assertIsNotNone(find_pid(name), "A was killed from B: %r" % b)
        os.kill(a_pid, signal.SIGTERM)
        a_text = self.drain(a_out)
        self.drain(a_err)
        a_events = [json.loads(x) for x in self.drain(a_st).splitlines() if x.strip()]
        os.waitpid(a_pid, 0)
        lines = [x for x in a_text.splitlines() if x.startswith("result ")]
        self.assertEqual(len(lines), 1, a_text)
        a = json.loads(lines[0].split(" ", 1)[1])
        for events in (a_events, b_events):
            self.assertEqual(events[0]["event"], "started", events)
            self.assertEqual(events[0]["isolation"]["netns"], "on", events[0])
        # Nothing reached A, nothing reached the host, B's every try failed.
        self.assertEqual((a["accepted"], a["received"]), (0, 0), (a, b))
        print("A:", a_setup, a, "\nB:", b, file=sys.stderr)
        for k in ("abstract_stream", "abstract_dgram", "tcp", "host_tcp", "host_tcp6",
                  "host_abstract", "kill", "packet"):
            self.assertNotEqual(b[k], "ok", (k, b))
        # A datagram may leave B into B's own loopback (a namespace of its own: lo is up
        # there); that it never reached A is counted above.
        if shared:
            self.assertNotEqual(b["udp"], "ok", b)
        for s in (self.host, self.host_u):
            with self.assertRaises(BlockingIOError):
                s.accept()
        # The reason the shared namespace is opt-in only (no /proc without a pid namespace).
        if "pidns" not in env.get("SWARMDECK_SANDBOX_DISABLE", ""):
            self.assertEqual(b["proc_net_unix_shows_a"], shared, b)
        if shared:
            self.assertEqual(b["netlink"], "EAFNOSUPPORT", b)
            self.assertEqual(b["tcp"], "EPERM", b)  # no AF_INET socket at all
            self.assertEqual(b["abstract_stream"], "EPERM", b)  # Landlock, not the namespace
            self.assertNotEqual(a_setup["tcp"], "listening", a_setup)
        elif b["netlink"] == "ok":
            self.assertEqual(b["interfaces"], ["lo"], b)  # its own namespace only
        return a, b

    def landlock(self):
        j = json.loads(subprocess.run([e2e.HELPER, "--probe", "--json"], capture_output=True,
                                      text=True, env=dict(os.environ,
                                                          SWARMDECK_SANDBOX_NETNS="shared")).stdout)
        if j["netnsMode"] != "shared":
            self.skipTest("no shared namespace here: " + j["netnsDetail"])

    def test_shared(self):
        self.landlock()
        self.pair(True, SWARMDECK_SANDBOX_NETNS="shared")

    def test_shared_nopidns(self):
        self.landlock()
        a, b = self.pair(True, SWARMDECK_SANDBOX_NETNS="shared", SWARMDECK_SANDBOX_DISABLE="pidns")
        self.assertEqual(b["kill"], "EPERM", b)  # Landlock's signal scope

    def test_per_sandbox(self):
        self.pair(False)

    def test_forced(self):
        self.pair(False, SWARMDECK_SANDBOX_NETNS="per-sandbox")

    def test_probe(self):
        j = json.loads(subprocess.run([e2e.HELPER, "--probe", "--json"], capture_output=True,
                                      text=True).stdout)
        self.assertEqual(j["netnsMode"], "per-sandbox", j)
        self.assertIn("/proc/net/unix", j["netnsDetail"])
        e = dict(os.environ, SWARMDECK_SANDBOX_NETNS="shared")
        j = json.loads(subprocess.run([e2e.HELPER, "--probe", "--json"], capture_output=True,
                                      text=True, env=e).stdout)
        if j["netnsMode"] == "shared":
            self.assertIn("Landlock ABI", j["netnsDetail"])
        e = dict(os.environ, SWARMDECK_SANDBOX_NETNS="per-sandbox")
        j = json.loads(subprocess.run([e2e.HELPER, "--probe", "--json"], capture_output=True,
                                      text=True, env=e).stdout)
        self.assertEqual(j["netnsMode"], "per-sandbox", j)
        t = subprocess.run([e2e.HELPER, "--probe"], capture_output=True, text=True, env=e).stdout
        self.assertIn("netns mode: one per sandbox: SWARMDECK_SANDBOX_NETNS=per-sandbox", t)


class Engine(sh.Hostile):
    """Through `swarmdeck deploy --no-daemon`: the engine's SWARMDECK_SANDBOX_NETNS=shared reaches
    its pool master (as --netns shared: helpers get a clean environment)."""

    def namespaces(self, knob):
        if knob:
            self.env.env["SWARMDECK_SANDBOX_NETNS"] = knob
        self.env.env["SWARMDECK_SANDBOX_POOL"] = "2"
        with open(os.path.join(self.sdir, "ns.sh"), "w") as f:
            f.write("readlink /proc/self/ns/net\n")
        m = {"name": "ns", "description": "prints its network namespace",
             "command": ["/bin/sh", "./ns.sh"], "files": ["ns.sh"], "params": []}
        path = os.path.join(self.sdir, "ns.json")
        with open(path, "w") as f:
            json.dump(m, f)
        self.env.add_strategy(path)
        r = self.env.run("deploy", "--no-daemon", "-s", "ns", "-a", "6", "--max-agents", "2",
                         "--json")
        self.assertIn(r.returncode, (0, 1), r.stderr[-2000:])
        out = [self.env.output(t["id"], 1).decode().strip() for t in self.env.trajectories()]
        self.assertEqual(len(out), 6)
        self.assertTrue(all(x.startswith("net:[") for x in out), out)
        self.assertNotIn(netns(os.getpid()), out)
        return out

    def test_engine_shared(self):
        if os.geteuid() != 0:
            self.skipTest("the sandbox tests need root (uid ranges, cgroups)")
        out = self.namespaces("shared")
        # The first deployment starts cold (its own namespace); the members share one.
        self.assertLess(len(set(out)), len(out), out)

    def test_engine_default(self):
        if os.geteuid() != 0:
            self.skipTest("the sandbox tests need root (uid ranges, cgroups)")
        out = self.namespaces(None)
        self.assertEqual(len(set(out)), len(out), out)


if __name__ == "__main__":
    unittest.main()
