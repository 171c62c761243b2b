#!/usr/bin/env python3
"""console_hosts.py: one console on two servers (issue 19 part 1, docs/fleet.md).

Two daemons on separate stores ("hosts" A and B) reached through Debian's sshd on loopback, as
remote_e2e.py reaches one: a host key and a user key in a temporary directory, only that key
accepted, $SWARMDECK_SSH carrying the options and $SWARMDECK_REMOTE the swarmdeck run there.
The console runs in tmux (console_e2e's harness) with `--host A --host B`:

  both    both hosts' deployments are shown with a HOST column, each host's id as its daemon
          numbers it, and the header says each host is connected;
  deploy  the deploy dialog's host is cycled with Ctrl-O, the launch confirmation names it, and
          the deployment lands in B's store (not A's);
  lost    daemon A is stopped: the header says A is reconnecting while B keeps updating (a
          deployment made on B meanwhile appears); A restarted: the header says connected
          again, A's rows are there once each and a deployment made on A shows;
  start   A is down when the console starts: the header says A is unreachable with the
          reason, B's rows show, and A's come when it starts;
  config  the config file's `host =` lines open the console on both; --host twice for another
          command, a URL that is not ssh:// and a host given twice are refused (exit 2);
  learning the Learning pane shows each host's snapshot under its name (its daemon's, not the
          local store's), redraws when B's changes (a deployment made on B), and with the
          table filtered to B shows B's only;
  provider B has an E2B instance (eu-cloud, a name that does not say e2b) that A has not: the
          deploy dialog's provider field and its health hint are those of the host the
          launch goes to (Ctrl-O changes both), and a launch on B's eu-cloud asks first
          because B says it is a paid E2B instance (nothing is created: it is cancelled);
  resume  the console's ssh connections to B are killed while B's deployments run (B's daemon
          stays): the console says it reconnected to the same daemon (the stream resumed from
          the last event number, not listed again) and shows both ends, once each.

Every wait polls the screen or the stores against a deadline; nothing sleeps to settle.
Usage: console_hosts.py SCENARIO. Environment: SWARMDECK_BIN_DIR, SWARMDECK_SRC_DIR.
"""
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_e2e import BIN, Console, write_config  # noqa: E402

SSHD = "/usr/sbin/sshd"
SSH = shutil.which("ssh")
KEYGEN = shutil.which("ssh-keygen")
SWARMDECK = os.path.abspath(os.path.join(BIN, "swarmdeck"))


def wait_for(cond, what, deadline=60.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return True
    except OSError:
        return False


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sshd:
    """Debian's sshd on 127.0.0.1, one user key; spawn() starts one on a port."""

    def __init__(self, root):
        d = self.dir = os.path.join(root, "ssh")
        os.mkdir(d, 0o700)
        for name in ("hostkey", "userkey"):
            subprocess.run([KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f",
                            os.path.join(d, name)], check=True)
        shutil.copy(os.path.join(d, "userkey.pub"), os.path.join(d, "authorized_keys"))
        os.chmod(os.path.join(d, "authorized_keys"), 0o600)
        os.makedirs("/run/sshd", exist_ok=True)
        self.procs = []
        self.port = self.spawn(free_port())
        self.ssh = ("ssh -i %s/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                    "-o LogLevel=ERROR -o BatchMode=yes -o ConnectTimeout=10" % d)

    def spawn(self, port):
        d = self.dir
        conf = os.path.join(d, "sshd_config.%d" % port)
        with open(conf, "w") as f:
            f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s/hostkey\n"
                    "AuthorizedKeysFile %s/authorized_keys\nPasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
                    "PidFile %s/sshd.%d.pid\nStrictModes no\nUsePAM no\n" % (port, d, d, d, port))
        # -D: stays in the foreground, so close() stops it like any child.
        self.procs.append(subprocess.Popen([SSHD, "-D", "-f", conf, "-E",
                                            os.path.join(d, "sshd.%d.log" % port)]))
        wait_for(lambda: listening(port), "sshd to listen")
        return port

    def stop(self):
        for p in self.procs:
            p.terminate()
            p.wait(30)


class Host:
    """A store "on a server" and its daemon, started here as the sshd session's dial-stdio
    finds it (no XDG_RUNTIME_DIR there: its socket directory is /tmp's)."""

    def __init__(self, root, name, sshd, port=None):
        self.dir = os.path.join(root, name)
        os.mkdir(self.dir, 0o711)
        self.db = os.path.join(self.dir, "store.db")
        self.url = "ssh://root@127.0.0.1:%d%s" % (port or sshd.port, self.db)
        self.env = dict(os.environ)
        self.env.pop("XDG_RUNTIME_DIR", None)
        self.env.pop("SWARMDECK_DB", None)
        self.env["XDG_STATE_HOME"] = os.path.join(self.dir, "state")
        self.env["NO_COLOR"] = "1"
        self.client_env = dict(self.env, SWARMDECK_SSH=sshd.ssh, SWARMDECK_REMOTE=SWARMDECK)
        self.proc = None
        self.log = os.path.join(self.dir, "serve.log")

    def start(self, env=None):
        """env: more of the daemon's environment (kept for its later starts)."""
        self.env.update(env or {})
        log = open(self.log, "ab")
        self.proc = subprocess.Popen([SWARMDECK, "--db", self.db, "serve", "--max-agents", "3"],
                                     env=self.env, stdout=log, stderr=log, cwd=self.dir)
        log.close()
        wait_for(self.serving, "a daemon to serve")

    def serving(self):
        """The daemon of this start answers (its pid in the status)."""
        p = subprocess.run([SWARMDECK, "--db", self.db, "status", "--json"], env=self.env,
                           capture_output=True, timeout=60)
        if p.returncode != 0:
            return False
        return (json.loads(p.stdout).get("daemon") or {}).get("pid") == self.proc.pid

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)
            self.proc = None

    def run(self, *args):
        """swarmdeck --host URL ARGS: through ssh, as an operator elsewhere would."""
        p = subprocess.run([SWARMDECK, "--host", self.url] + list(args), env=self.client_env,
                           capture_output=True, timeout=300, cwd=self.dir)
        assert p.returncode == 0, "%s: %s %s" % (args, p.stdout, p.stderr)
        return p.stdout.decode()

    def states(self):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=30)
        try:
            return [r for r in con.execute("SELECT id, strategy, status FROM trajectories "
                                           "ORDER BY id")]
        finally:
            con.close()


def host_rows(screen, host):
    """The table's rows of host (the HOST column, after the ID): {id: [line, ...]}."""
    rows = {}
    for line in screen.splitlines():
        m = re.match(r"\W*(\d+) +%s +\S+ " % re.escape(host), line)
        if m:
            rows.setdefault(int(m.group(1)), []).append(line)
    return rows


def launch_on(c, want_host):
    """Open the dialog, cycle its host with Ctrl-O (to the other host, then to want_host if
    that was not it: it is pressed at least once), launch one paced agent."""
    c.keys("d")
    s = c.wait_for(r"Deploy to \S+ \(Enter launches")
    first = re.search(r"Deploy to (\S+) \(", s).group(1)
    c.keys("C-o")
    s = c.wait_for(r"Deploy to (?!%s \()\S+ \(Enter launches" % re.escape(first))
    if re.search(r"Deploy to (\S+) \(", s).group(1) != want_host:
        c.keys("C-o")
    c.wait_for(r"Deploy to %s \(Enter launches" % re.escape(want_host))
    c.keys("Down", "Down", "Down", "Down", "C-u")
    c.text("400")
    c.wait_for(r"pace\s+400")
    c.keys("Enter")
    c.wait_for(r"Launch 1 agent of momentum on \S+ at host %s\?" % re.escape(want_host))
    c.keys("y")
    return c.wait_for(r"deployed #\d+ momentum on %s" % re.escape(want_host), timeout=30)


class Rig:
    def __init__(self, start_a=True):
        self.root = tempfile.mkdtemp(prefix="sd-hosts-")
        os.chmod(self.root, 0o711)
        self.sshd = Sshd(self.root)
        # start: A is behind an sshd not started yet (a port nothing listens on)
        self.a_port = None if start_a else free_port()
        self.a = Host(self.root, "a", self.sshd, self.a_port)
        self.b = Host(self.root, "b", self.sshd)
        if start_a:
            self.a.start()
        self.b.start()
        self.c = None

    def console(self):
        # Both on 127.0.0.1: the second is named 127.0.0.1-2 (docs/fleet.md).
        self.c = Console(170, 40, {"SWARMDECK_SSH": self.sshd.ssh, "SWARMDECK_REMOTE": SWARMDECK},
                         "--host %s --host %s" % (self.a.url, self.b.url), daemon=True,
                         name="h%d" % os.getpid())
        return self.c

    def close(self):
        if self.c is not None:
            self.c.close()
        for h in (self.a, self.b):
            h.stop()
        self.sshd.stop()
        shutil.rmtree(self.root, ignore_errors=True)


A, B = "127.0.0.1", "127.0.0.1-2"


def both_up(r):
    """A's 2 momentum and B's 3 mean-reversion runs, then a console on both, connected."""
    r.a.run("deploy", "-s", "momentum", "-a", "2")
    r.b.run("deploy", "-s", "mean-reversion", "-a", "3")
    c = r.console()
    c.wait_for(r"%s: connected" % re.escape(A), timeout=30)
    c.wait_for(r"%s: connected" % re.escape(B), timeout=30)
    return c


def s_both(r):
    c = both_up(r)
    s = c.wait_for(r"HOST", timeout=10)
    s = wait_for(lambda: (lambda s: s if len(host_rows(s, A)) == 2 and len(host_rows(s, B)) == 3
                          else None)(c.screen()), "both hosts' rows", 30)
    ra, rb = host_rows(s, A), host_rows(s, B)
    assert sorted(ra) == [1, 2] and sorted(rb) == [1, 2, 3], s
    assert all("momentum" in v[0] for v in ra.values()), s
    assert all("mean-reversion" in v[0] for v in rb.values()), s
    # The local store is not among the hosts: none of its rows; the learning is per host.
    assert re.search(r"Learning \(per host\)", s), s
    # Row 1 of B selected: its output comes from B's daemon.
    c.keys(":")
    c.text("host %s" % B)
    c.keys("Enter")
    s = c.wait_for(r"host: %s" % re.escape(B))
    assert len(host_rows(s, A)) == 0 and len(host_rows(s, B)) == 3, s
    c.keys(":")
    c.text("host")
    c.keys("Enter")
    wait_for(lambda: len(host_rows(c.screen(), A)) == 2, "every host again", 10)
    c.keys("q")
    c.wait_exit()


def s_deploy(r):
    r.a.run("deploy", "-s", "momentum", "-a", "1")
    r.b.run("deploy", "-s", "momentum", "-a", "1")
    c = r.console()
    c.wait_for(r"%s: connected" % re.escape(B), timeout=30)
    wait_for(lambda: len(host_rows(c.screen(), B)) == 1, "B's row", 30)
    launch_on(c, B)
    wait_for(lambda: [s for (_, _, s) in r.b.states()] == ["succeeded", "succeeded"],
             "the launch to end in B's store", 60)
    assert len(r.a.states()) == 1, r.a.states()  # nothing landed on A
    wait_for(lambda: len(host_rows(c.screen(), B)) == 2, "B's new row", 30)
    c.keys("q")
    c.wait_exit()


def learning_pane(screen):
    """The Learning pane's text lines (the right-hand column of the 170-column grid)."""
    out, inside = [], False
    for line in screen.splitlines():
        col = line[170 - 170 // 4:]
        if col.startswith("\u250c Learning"):
            inside = True
            continue
        if inside and col.startswith("\u2514"):
            break
        if inside:
            out.append(col.strip("\u2502 "))
    return out


def host_section(screen, host):
    """The lines of host's section of the Learning pane (from its name to the blank line)."""
    lines = learning_pane(screen)
    if host not in lines:
        return None
    sec = lines[lines.index(host) + 1:]
    return sec[:sec.index("")] if "" in sec else sec


def s_learning(r):
    c = both_up(r)

    def says(host, n, strategy, k=None):
        """host's section says n learned, k (default n) of them strategy's."""
        sec = host_section(c.screen(), host) or []
        return (any(re.match(r"learned +%d, \d+%% succeeded$" % n, x) for x in sec) and
                any(re.match(r"%s: %d, \d+%% ok, -?\d" % (strategy, k or n), x) for x in sec))
    wait_for(lambda: says(A, 2, "momentum") and says(B, 3, "mean-reversion"),
             "each host's learning under its name", 30)
    s = c.screen()
    assert re.search(r"Learning \(per host\)", s), s
    assert any(x.startswith("local store") for x in learning_pane(s)), learning_pane(s)
    # Not A's numbers under B nor the other way round.
    assert not any("mean-reversion" in x for x in host_section(s, A)), learning_pane(s)
    # B learns a fourth trajectory: its daemon's snapshot event redraws the pane.
    r.b.run("deploy", "-s", "momentum", "-a", "1")
    wait_for(lambda: says(B, 4, "momentum", 1), "B's new snapshot in the pane", 30)
    assert says(A, 2, "momentum"), learning_pane(c.screen())
    # The table filtered to B: the pane shows B's only.
    c.keys(":")
    c.text("host %s" % B)
    c.keys("Enter")
    c.wait_for(r"host: %s" % re.escape(B))
    wait_for(lambda: host_section(c.screen(), A) is None and says(B, 4, "momentum", 1),
             "B's learning only", 10)
    c.keys("q")
    c.wait_exit()


def s_provider(r):
    cfg = os.path.join(r.b.dir, "e2b.json")
    fd = os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:  # never reached: nothing is launched on it
        json.dump({"instances": [{"name": "eu-cloud", "region": "eu-west",
                                  "apiKey": "e2b_" + "ab" * 16, "template": "base",
                                  "apiUrl": "http://127.0.0.1:9", "sandboxUrl": "http://127.0.0.1:9"}]},
                  f)
    r.b.stop()
    r.b.start({"SWARMDECK_E2B_CONFIG": cfg})
    c = r.console()
    c.wait_for(r"%s: connected" % re.escape(A), timeout=30)
    c.wait_for(r"%s: connected" % re.escape(B), timeout=30)
    c.keys("d")
    s = c.wait_for(r"Deploy to \S+ \(Enter launches")
    if re.search(r"Deploy to (\S+) \(", s).group(1) != B:
        c.keys("C-o")
    c.wait_for(r"Deploy to %s \(Enter launches" % re.escape(B))
    c.keys("Down", "Down", "Down")  # the provider field
    c.wait_for(r"provider +< local > +on %s: local, breaker closed" % re.escape(B))
    c.keys("Right")
    c.wait_for(r"provider +< eu-cloud > +on %s: e2b \(eu-west\), breaker closed" % re.escape(B))
    # A has no eu-cloud: its own providers and health.
    c.keys("C-o")
    c.wait_for(r"Deploy to %s \(Enter launches" % re.escape(A))
    c.wait_for(r"provider +< local > +on %s: local, breaker closed" % re.escape(A))
    c.keys("Right")
    s = c.wait_for(r"provider +< local > +on %s: local" % re.escape(A))
    assert "eu-cloud" not in s, s
    # Back on B: a launch on eu-cloud is a paid one there.
    c.keys("C-o")
    c.wait_for(r"Deploy to %s \(Enter launches" % re.escape(B))
    c.keys("Right")
    c.wait_for(r"provider +< eu-cloud > +on %s: e2b" % re.escape(B))
    c.keys("Enter")
    c.wait_for(r"Launch 1 agent of momentum on eu-cloud at host %s\?" % re.escape(B))
    s = c.wait_for(r"This provider is paid")
    assert "ab" * 16 not in s, s  # B's E2B key never reaches this screen
    c.keys("n")
    c.wait_for(r"Launch 1 agent", absent=True)
    c.keys("Escape")
    c.wait_for(r"Deploy to", absent=True)
    assert r.b.states() == [] and r.a.states() == [], (r.a.states(), r.b.states())
    c.keys("q")
    c.wait_exit()


def s_lost(r):
    r.a.run("deploy", "-s", "momentum", "-a", "2")
    c = r.console()
    c.wait_for(r"%s: connected" % re.escape(A), timeout=30)
    c.wait_for(r"%s: connected" % re.escape(B), timeout=30)
    wait_for(lambda: len(host_rows(c.screen(), A)) == 2, "A's rows", 30)
    r.a.stop()
    c.wait_for(r"%s: reconnecting" % re.escape(A), timeout=30)
    # B keeps updating while A is away.
    r.b.run("deploy", "-s", "mean-reversion", "-a", "1", "--detach")
    wait_for(lambda: 1 in host_rows(c.screen(), B), "B's deployment while A is away", 30)
    c.wait_for(r"%s: reconnecting in \d+s" % re.escape(A), timeout=30)
    # A's ended rows stay, once each, while it is away and after it is back.
    assert sorted(host_rows(c.screen(), A)) == [1, 2], c.screen()
    r.a.start()
    c.wait_for(r"%s: connected" % re.escape(A), timeout=60)
    r.a.run("deploy", "-s", "momentum", "-a", "1", "--detach")
    wait_for(lambda: sorted(host_rows(c.screen(), A)) == [1, 2, 3], "A's new row", 30)
    rows = host_rows(c.screen(), A)
    assert all(len(v) == 1 for v in rows.values()), c.screen()  # no duplicates
    c.keys("q")
    c.wait_exit()


def s_start(r):
    r.b.run("deploy", "-s", "momentum", "-a", "1")
    c = r.console()
    c.wait_for(r"%s: connected" % re.escape(B), timeout=30)
    # the reason is ssh's own
    c.wait_for(r"%s: unreachable: ssh: connect to host 127.0.0.1 port %d: Connection refused"
               % (re.escape(A), r.a_port), timeout=30)
    wait_for(lambda: len(host_rows(c.screen(), B)) == 1, "B's row", 30)
    # A comes up (its daemon, then its sshd): the console reaches it on its own.
    r.a.start()
    r.sshd.spawn(r.a_port)
    r.a.run("deploy", "-s", "momentum", "-a", "1", "--detach")
    c.wait_for(r"%s: connected" % re.escape(A), timeout=60)
    wait_for(lambda: len(host_rows(c.screen(), A)) == 1, "A's row", 30)
    c.keys("q")
    c.wait_exit()


def ssh_children(pid, needle):
    """The console's own children (its ssh connections) whose command line holds needle."""
    out = []
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            kids = open("/proc/%d/task/%s/children" % (pid, task)).read().split()
        except OSError:
            continue
        for k in kids:
            try:
                cmd = open("/proc/%s/cmdline" % k, "rb").read().replace(b"\0", b" ")
            except OSError:
                continue
            if needle.encode() in cmd and b"dial-stdio" in cmd:
                out.append(int(k))
    return out


def s_resume(r):
    c = r.console()
    c.wait_for(r"%s: connected" % re.escape(B), timeout=30)
    r.b.run("deploy", "-s", "momentum", "-a", "2", "--pace", "1500", "--detach")
    wait_for(lambda: re.search(r"%s +momentum .* running" % re.escape(B), c.screen()),
             "B's deployments running", 30)
    # The connections to B break (its ssh killed; the daemon stays): the console resumes the
    # event stream from the last number it saw, not a new listing.
    kids = ssh_children(c.pid(), r.b.db)
    assert kids, "no ssh connection to B"
    for k in kids:
        os.kill(k, signal.SIGKILL)
    c.wait_for(r"%s: reconnected to the daemon \(pid %d\)" % (re.escape(B), r.b.proc.pid),
               timeout=30)
    wait_for(lambda: [s for (_, _, s) in r.b.states()] == ["succeeded"] * 2, "B's runs to end", 60)
    wait_for(lambda: len(re.findall(r"%s +momentum .* succeeded" % re.escape(B), c.screen())) == 2,
             "both ended on screen", 30)
    rows = host_rows(c.screen(), B)
    assert sorted(rows) == [1, 2] and all(len(v) == 1 for v in rows.values()), c.screen()
    c.keys("q")
    c.wait_exit()


def s_config(r):
    """The config file's host lines open the console on both; bad host lists are refused."""
    r.a.run("deploy", "-s", "momentum", "-a", "1")
    r.b.run("deploy", "-s", "momentum", "-a", "1")

    def pre(e):
        write_config(e, "# two servers\nhost = %s\nhost = %s\n" % (r.a.url, r.b.url))
    r.c = c = Console(170, 40, {"SWARMDECK_SSH": r.sshd.ssh, "SWARMDECK_REMOTE": SWARMDECK}, "",
                      pre, daemon=True, name="h%d" % os.getpid())
    c.wait_for(r"%s: connected" % re.escape(A), timeout=30)
    c.wait_for(r"%s: connected" % re.escape(B), timeout=30)
    wait_for(lambda: len(host_rows(c.screen(), A)) == 1 and len(host_rows(c.screen(), B)) == 1,
             "both hosts' rows from the config's host lines", 30)
    c.keys("q")
    c.wait_exit()
    # Bad input: refused with the reason, nothing started.
    p = subprocess.run([SWARMDECK, "--host", r.a.url, "--host", r.b.url, "status"],
                       env=r.a.client_env, capture_output=True, timeout=60)
    assert p.returncode == 2 and b"acts on one host" in p.stderr, p
    rc, out = on_tty([SWARMDECK, "--host", r.a.url, "--host", "tcp://nowhere", "console"],
                     r.a.client_env)
    assert rc == 2 and b"--host tcp://nowhere: expected ssh://" in out, (rc, out)
    rc, out = on_tty([SWARMDECK, "--host", r.a.url, "--host", r.a.url, "console"],
                     r.a.client_env)
    assert rc == 2 and b"given twice" in out, (rc, out)


def on_tty(argv, env):
    """Run argv on a pseudo-terminal (the console wants one); its exit status and output."""
    m, s = os.openpty()
    p = subprocess.Popen(argv, stdin=s, stdout=s, stderr=s, env=env, start_new_session=True)
    os.close(s)
    out = b""
    while True:
        try:
            chunk = os.read(m, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(m)
    return p.wait(60), out


SCENARIOS = {"config": s_config, "both": s_both, "learning": s_learning, "provider": s_provider, "deploy": s_deploy, "lost": s_lost, "start": s_start,
             "resume": s_resume}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print("usage: console_hosts.py %s" % "|".join(SCENARIOS))
        return 2
    if shutil.which("tmux") is None or not (os.path.exists(SSHD) and SSH and KEYGEN):
        print("needs tmux, openssh-server and -client: skipped")
        return 77
    if os.geteuid() != 0:
        print("sshd needs root to run as a server here: skipped")
        return 77
    r = Rig(start_a=sys.argv[1] != "start")
    try:
        SCENARIOS[sys.argv[1]](r)
        print("PASS", sys.argv[1])
        return 0
    except BaseException:
        if r.c is not None:
            sys.stderr.write("---- screen ----\n%s\n----\n" % r.c.screen())
        raise
    finally:
        r.close()


if __name__ == "__main__":
    sys.exit(main())
