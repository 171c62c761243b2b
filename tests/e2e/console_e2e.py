#!/usr/bin/env python3
"""console_e2e.py: end-to-end tests of the swarmdeck console, driven through tmux.

Each scenario starts its own tmux server (-L t<pid>, no user config) at a fixed
size, runs `swarmdeck console` on a fresh store, sends keys and waits for
conditions by polling capture-pane every 50 ms against a deadline (never a
fixed sleep to "settle"). Usage: console_e2e.py SCENARIO
Environment: SWARMDECK_BIN_DIR (build dir), SWARMDECK_SRC_DIR, UPDATE_GOLDEN=1.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("SWARMDECK_BIN_DIR", "build")
SRC = os.environ.get("SWARMDECK_SRC_DIR", ".")
GOLDEN = os.path.join(SRC, "tests", "e2e", "golden")
STRATEGIES = os.environ.get("SWARMDECK_E2E_STRATEGIES", os.path.join(BIN, "e2e-strategies"))


class Console:
    def __init__(self, x=80, y=24, env=None, args="", pre=None, wrap=None, daemon=False,
                 tmp=None, name=None):
        """daemon: attach to (or start) the store's daemon; otherwise the console runs
        its own engine (--no-daemon). tmp: share another console's store and runtime
        directory; name: this console's tmux server (several at once)."""
        self.sock = name or "t%d" % os.getpid()
        self.shared = tmp is not None
        self.tmp = tmp or tempfile.mkdtemp(prefix="sd-console-")
        os.chmod(self.tmp, 0o711)  # the sandbox's mapped user must reach its work dir
        self.db = os.path.join(self.tmp, "store.db")
        e = {
            "SWARMDECK_DB": self.db,
            "XDG_RUNTIME_DIR": self.tmp,
            "XDG_STATE_HOME": os.path.join(self.tmp, "state"),
            "XDG_CONFIG_HOME": os.path.join(self.tmp, "config"),  # never the operator's own
            "TERM": "tmux-256color",
            "TZ": "UTC",
            "LC_ALL": "C.UTF-8",
        }
        e.update(env or {})
        if pre:
            pre(dict(os.environ, **e))
        envs = " ".join("%s='%s'" % kv for kv in e.items())
        self.env = dict(os.environ, **e)
        cmd = "exec env %s %s/swarmdeck %sconsole --no-anim %s" % (
            envs, BIN, "" if daemon else "--no-daemon ", args)
        if wrap:  # run it under another program (GNU screen) inside the tmux pane
            cmd = wrap(self, cmd)
        self.tmux("new-session", "-d", "-x", str(x), "-y", str(y), cmd)
        self.tmux("set-option", "-g", "remain-on-exit", "on")

    def tmux(self, *a):
        return subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null"] + list(a),
                              capture_output=True, text=True).stdout

    def screen(self, esc=False):
        return self.tmux("capture-pane", "-p", *(["-e"] if esc else []))

    def keys(self, *k):
        self.tmux("send-keys", *k)

    def text(self, s):
        self.tmux("send-keys", "-l", s)

    def wait_for(self, regex, timeout=10.0, absent=False):
        deadline = time.monotonic() + timeout
        while True:
            s = self.screen()
            if bool(re.search(regex, s, re.M)) != absent:
                return s
            if time.monotonic() > deadline:
                sys.stderr.write("---- screen ----\n%s\n----\n" % s)
                raise AssertionError("timed out waiting for %s%r" % ("absence of " if absent else "", regex))
            time.sleep(0.05)

    def pid(self):
        return int(self.tmux("display-message", "-p", "#{pane_pid}").strip())

    def dead(self):
        return self.tmux("display-message", "-p", "#{pane_dead}").strip() == "1"

    def wait_exit(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while not self.dead():
            if time.monotonic() > deadline:
                raise AssertionError("console did not exit:\n" + self.screen())
            time.sleep(0.05)

    def resize(self, x, y):
        self.tmux("resize-window", "-x", str(x), "-y", str(y))

    def close(self):
        self.tmux("kill-server")
        if not self.shared:
            shutil.rmtree(self.tmp, ignore_errors=True)


def deploy(c, pace="200", agents=None, provider=None):
    """Open the dialog, set pace (and agents), launch. provider: the choice the dialog must
    show selected (the console's --provider)."""
    c.keys("d")
    c.wait_for(r"Deploy \(Enter launches")
    c.wait_for(r"provider\s+< %s >" % (re.escape(provider) if provider else r"\S+"))
    if agents:
        c.keys("Down", "Down", "C-u")
        c.text(agents)
        c.keys("Up", "Up")
    c.keys("Down", "Down", "Down", "Down", "C-u")
    c.text(pace)
    c.wait_for(r"pace\s+%s" % pace)
    c.keys("Enter")
    s = c.wait_for(r"deployed #|Launch \d+ agents? of \S+ on \S+\?")
    if "deployed #" not in s:  # a paid provider or many agents: confirmed (console_day confirm)
        c.keys("y")
        c.wait_for(r"deployed #")


def mask(s):
    """Mask what legitimately changes between runs: paths, times, ids."""
    s = re.sub(r"\| /\S*", "| <store>", s)
    s = re.sub(r"isolation: \S+", "isolation: <level>", s)  # depends on the kernel
    s = re.sub(r"\| chain [^|\n]*?(?= \||$)", "| chain <state>", s, flags=re.M)  # tested apart
    s = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "YYYY-MM-DD hh:mm", s)  # keeps the width
    return s


def write_config(e, text):
    """The config file of environment e (its XDG_CONFIG_HOME), 0600 as the console wants it."""
    d = os.path.join(e["XDG_CONFIG_HOME"], "swarmdeck")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config"), "w") as f:
        f.write(text)
    os.chmod(os.path.join(d, "config"), 0o600)


def cli(e, *args):
    """Run the swarmdeck command line with the console's environment."""
    subprocess.run([os.path.join(BIN, "swarmdeck")] + list(args), env=e, check=True,
                   capture_output=True)


def golden(c, name, timeout=5.0):
    """Compare the (masked) screen with golden/NAME. The screen is polled
    until it matches or the deadline passes, because a capture can land in
    the middle of a repaint; UPDATE_GOLDEN=1 writes it once two captures
    100 ms apart agree."""
    path = os.path.join(GOLDEN, name)
    deadline = time.monotonic() + timeout
    if os.environ.get("UPDATE_GOLDEN") == "1":
        text = mask(c.screen())
        while True:
            time.sleep(0.1)
            again = mask(c.screen())
            if again == text or time.monotonic() > deadline:
                break
            text = again
        with open(path, "w") as f:
            f.write(again)
        return
    with open(path) as f:
        want = f.read()
    while True:
        text = mask(c.screen())
        if text == want:
            return
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    import difflib
    sys.stderr.write("".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                                  "golden/" + name, "screen")))
    raise AssertionError("screen differs from golden/%s (UPDATE_GOLDEN=1 regenerates)" % name)


def s_flow_80x24(c):
    c.wait_for(r"no deployments yet: press d")
    deploy(c, pace="150")
    c.wait_for(r"running")
    c.keys("2")  # the output tab
    c.wait_for(r"Output #1 momentum SPY \[follow\]")
    c.wait_for(r"(buy|sell|equity) ")
    c.keys("?")
    c.wait_for(r"Keys \(Esc closes")
    c.keys("Escape")
    c.wait_for(r"Keys \(Esc closes", absent=True)
    c.keys("1", "/")
    c.text("momentum")
    c.keys("Enter")
    c.wait_for(r"Sandboxes \(1/1\) filter: momentum")
    c.keys("x")
    c.wait_for(r"Kill 1 deployment: #1 momentum/SPY\?")
    c.keys("Enter")  # Cancel is the default
    c.wait_for(r"cancelled")
    assert "running" in c.screen()
    c.keys("x")
    c.wait_for(r"Kill 1 deployment")
    c.keys("Tab", "Enter")
    c.wait_for(r"killed 1 deployment")
    c.wait_for(r"1 +momentum +SPY +local +cancelled")
    c.keys("c")
    c.wait_for(r"cleanup: 1 finished row\(s\) hidden")
    c.wait_for(r"Sandboxes \(0/0\)")
    c.keys("q")
    c.wait_exit()


def s_grid_200x50(c):
    s = c.wait_for(r"Details")
    assert "Sandboxes" in s and "Output" in s, s
    c.wait_for(r"nothing learned yet")  # the Learning pane, from the worker's first snapshot
    c.wait_for(r"Patterns \(0/0\)")
    deploy(c, pace="0")
    c.wait_for(r"1 +momentum +SPY +local +succeeded")
    c.wait_for(r"result +\+1\.35%")  # details pane: the built-in's known result on SPY
    c.wait_for(r"done: final equity")
    c.wait_for(r"Patterns \(1/1\)")  # learned from the run that just ended
    c.wait_for(r"success +100%")
    c.keys("q")
    c.wait_exit()


def s_resize(c):
    c.wait_for(r"no deployments yet")
    deploy(c, pace="100")
    c.wait_for(r"running")
    c.resize(200, 50)
    c.wait_for(r"Details")
    c.resize(60, 20)  # below 80x23: one pane at a time, still working
    c.wait_for(r"1 Sandboxes")
    c.wait_for(r"running")
    c.resize(25, 6)
    c.wait_for(r"terminal too small: 25x6")
    for i in range(20):  # a resize storm
        c.resize(70 + i * 5, 20 + i)
    c.resize(80, 24)
    c.wait_for(r"1 Sandboxes")
    c.wait_for(r"running")
    c.keys("q")
    c.wait_for(r"Quitting cancels")
    c.keys("y")
    c.wait_exit()


def s_no_color(c):
    c.wait_for(r"no deployments yet")
    deploy(c, pace="0")
    c.wait_for(r"succeeded")
    s = c.screen(esc=True)
    assert not re.search(r"\x1b\[[0-9;]*(38;5|48;5)", s), "colour SGR with NO_COLOR"
    assert re.search(r"\x1b\[[0-9;]*7m", s), "no reverse video for the selection"
    c.keys("q")
    c.wait_exit()


def s_ascii(c):
    s = c.wait_for(r"no deployments yet")
    assert "\u2500" not in s and "\u2502" not in s, "UTF-8 borders in the C locale"
    assert re.search(r"^\+ Sandboxes \(0/0\) -+\+$", s, re.M), s
    c.keys("b")
    c.wait_for(r"braille sparklines need a UTF-8 locale")
    c.keys("q")
    c.wait_exit()


def s_golden_80x24(c):
    c.wait_for(r"no deployments yet")
    golden(c, "console_empty_80x24.txt")
    c.keys("d")
    c.wait_for(r"Deploy \(Enter launches")
    golden(c, "console_deploy_80x24.txt")
    c.keys("Escape")
    c.keys("q")
    c.wait_exit()


def s_golden_200x50(c):
    """The grid with history: column widths (a strategy name gets what it
    needs, the rest of the width is spread), details, learning, patterns."""
    s = c.wait_for(r"^. +5 mean-reversion +")
    c.wait_for(r"done: final equity")
    c.wait_for(r"Patterns \(2/2\)")
    s = c.wait_for(r"all strategies", timeout=5)
    golden(c, "console_grid_200x50.txt")
    c.keys("q")
    c.wait_exit()


def s_braille(c):
    """--sparklines braille: the Learning pane's sparklines in braille (two
    runs a cell); b switches to blocks and back."""
    c.wait_for(r"5 Patterns")
    c.keys("4")
    # five runs at 100 %: one right half (dots 8,6,5,4) and two full cells
    c.wait_for(r"success +100% +\u28b8\u28ff\u28ff ")
    c.keys("b")
    c.wait_for(r"sparklines: block")
    c.wait_for(r"success +100% +\u2588{5} ")
    c.keys("b")
    c.wait_for(r"sparklines: braille")
    c.wait_for(r"success +100% +\u28b8\u28ff\u28ff ")
    c.keys(":")
    c.text("sparklines dots")
    c.keys("Enter")
    c.wait_for(r'sparklines: no style "dots"')
    c.keys("q")
    c.wait_exit()


def mouse(c, x, y, button=0):
    """A press at column x, row y (0-based) in the xterm X10 encoding the
    terminal (tmux: kmous=\\E[M) sends: ESC [ M, then button, x and y + 32
    (+1: the protocol counts from 1). 0 is the left button, 64/65 the wheel."""
    assert x < 94 and y < 94, "X10 coordinates are single bytes"
    c.text("\x1b[M%c%c%c" % (32 + button, 33 + x, 33 + y))
    if button < 64:  # a button goes up again (3: release); the wheel does not
        c.text("\x1b[M%c%c%c" % (32 + 3, 33 + x, 33 + y))


def where(screen, regex):
    """(column, row) of the first match of regex on the screen."""
    for y, line in enumerate(screen.split("\n")):
        m = re.search(regex, line)
        if m:
            return m.start(), y
    raise AssertionError("%r is not on the screen:\n%s" % (regex, screen))


def s_mouse(c):
    """Click a row (selects it: details and output follow), click a pane
    (focuses it), roll the wheel over the output (scrolls it: no longer
    following) and, in tabs, click a tab."""
    c.wait_for(r"Patterns \(2/2\)")
    c.wait_for(r"Output #5 mean-reversion")
    s = c.wait_for(r"\b3 momentum ")
    x, y = where(s, r"\b3 momentum ")
    mouse(c, x + 2, y)
    c.wait_for(r"Output #3 momentum IWM")
    c.wait_for(r"id +#3 ")
    c.wait_for(r"s sort-next")  # the table has the focus
    s = c.wait_for(r"Patterns \(2/2\)")
    x, y = where(s, r"Patterns \(")
    mouse(c, x + 2, y + 3)  # a pattern row: the patterns pane gets the focus
    c.wait_for(r"Enter pattern-open")
    x, y = where(c.screen(), r"Output #3")
    mouse(c, x + 5, y + 5, 64)  # wheel up over the output
    c.wait_for(r"Output #3 momentum IWM\S*( \[ended\])? \[paused\]")  # finished: [ended] too
    c.wait_for(r"Enter pattern-open")  # the wheel did not move the focus
    c.resize(80, 24)  # tabs
    s = c.wait_for(r"1 Sandboxes")
    x, y = where(s, r" 4 Learning ")
    mouse(c, x + 2, y)
    c.wait_for(r"^. all strategies")
    c.keys("q")
    c.wait_exit()


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def s_idle(c):
    c.wait_for(r"no deployments yet")
    c.wait_for(r"isolation: (strict|degraded|\w+) ")
    out = os.path.join(c.tmp, "pipe.bin")
    pid = c.pid()
    time.sleep(0.5)  # let the probe's header update land before measuring
    c.tmux("pipe-pane", "-o", "cat >> %s" % out)
    t0 = cpu_ticks(pid)
    time.sleep(3)
    ticks = cpu_ticks(pid) - t0
    c.tmux("pipe-pane")
    size = os.path.getsize(out) if os.path.exists(out) else 0
    print("idle: %d clock ticks of CPU in 3 s, %d bytes to the terminal" % (ticks, size))
    assert ticks <= 2, "console used %d ticks while idle" % ticks
    assert size == 0, "console wrote %d bytes while idle" % size
    c.keys("q")
    c.wait_exit()


def s_readonly(c):
    c.wait_for(r"read-only")
    c.wait_for(r"1 +momentum +SPY +local +succeeded")  # history from the store
    c.keys("4")  # learning without a coordinator: the worker builds its own index
    c.wait_for(r"^. all strategies")
    c.wait_for(r"runs +1\b")
    c.keys("5", "d")  # deploying from a pattern mutates: refused
    c.wait_for(r'read-only: "pattern-deploy" refused')
    c.keys("1")
    c.keys("d")
    c.wait_for(r'read-only: "deploy" refused')
    c.keys(":")
    c.text("kill")
    c.keys("Enter")
    c.wait_for(r'read-only: "kill" refused')
    c.keys(":")
    c.text("the")
    c.keys("Tab")
    c.wait_for(r"^theme theme-next")  # ambiguous: the candidates are listed
    c.wait_for(r"^:theme_")
    c.text(" li")
    c.keys("Tab")
    c.wait_for(r"^:theme light _")
    c.keys("Enter")
    c.wait_for(r"theme light")
    c.keys("q")
    c.wait_exit()


def s_learning_80x24(c):
    """The Learning and Patterns tabs over a store with history, a pattern's
    detail, and a deployment launched from it that the panes then learn."""
    c.wait_for(r"5 Patterns")
    c.keys("4")
    c.wait_for(r"^. all strategies")
    c.wait_for(r"runs +5 ")
    # A capture can land mid-repaint: wait for the last line, then look above it.
    s = c.wait_for(r"^. mean-reversion")
    assert re.search(r"success +100% +\u2588+", s), s  # a sparkline on the [0, 1] scale
    assert re.search(r"^. momentum +", s, re.M), s
    golden(c, "console_learning_80x24.txt")
    c.keys("5")
    c.wait_for(r"Patterns \(\d+/\d+\)")
    c.wait_for(r"LB\u25bc")  # ranked by the lower bound on reward (issue 15)
    golden(c, "console_patterns_80x24.txt")
    c.keys("/")
    c.text("mean")
    c.keys("Enter")
    c.wait_for(r"Patterns \(1/2\) filter: mean")
    c.keys("Escape")  # clears the filter
    c.wait_for(r"Patterns \(2/2\) ")
    c.keys("Enter")
    s = c.wait_for(r"Pattern \(Esc: back to the list")
    c.wait_for(r"evidence +\d+ run")
    s = c.wait_for(r"reward \d\.\d+  best")
    m = re.search(r"^. strategy +(\S+)", s, re.M)
    assert m, s
    strategy = m.group(1)
    c.keys("d")
    c.wait_for(r"deploy filled from the pattern \(run #\d+")
    c.wait_for(r"< %s >" % re.escape(strategy))
    c.wait_for(r"description +pattern: %s" % re.escape(strategy[:8]))  # the field is narrow
    c.keys("Enter")
    c.wait_for(r"deployed #6 %s" % re.escape(strategy))
    c.keys("1")
    c.wait_for(r"6 +%s +\S+ +local +succeeded" % re.escape(strategy[:8]), timeout=30)
    c.keys("4")
    c.wait_for(r"runs +6 ", timeout=10)  # the worker's next snapshot has it
    c.keys("5", "Escape")  # Esc closes the detail
    c.wait_for(r"Patterns \(\d+/\d+\)")
    c.keys("q")
    c.wait_exit()


def add_lines_strategy(e):
    cli(e, "strategies", "add", os.path.join(STRATEGIES, "probe-lines.json"))


def s_firehose(c):
    """A sandbox printing 200k lines/s: keys are still answered at once, the
    output pane can stop following (and counts what arrives), and it shows
    the very last line when the flood ends."""
    c.wait_for(r"no deployments yet")
    c.keys("d")
    c.wait_for(r"Deploy \(Enter launches")
    c.keys("Right", "Right", "Right")
    c.wait_for(r"< probe-lines >")
    c.keys(*(["Down"] * 7), "C-u")
    c.text("1600000")
    c.keys("Down", "C-u")
    c.text("200000")
    c.wait_for(r"rate +200000")
    c.keys("Enter")
    c.wait_for(r"deployed #1")
    c.wait_for(r"1 +probe-li\S* +\S+ +local +running")
    c.wait_for(r"line \d{7}")
    lat = []
    for _ in range(5):
        t0 = time.monotonic()
        c.keys("?")
        c.wait_for(r"Keys \(Esc closes", timeout=5)
        lat.append(time.monotonic() - t0)
        c.keys("Escape")
        c.wait_for(r"Keys \(Esc closes", timeout=5, absent=True)
    assert "running" in c.screen(), "the flood ended before the measurement"
    lat.sort()
    print("key answered during the flood in %s ms (median %.0f)" %
          (" ".join("%.0f" % (x * 1000) for x in lat), lat[2] * 1000))
    assert lat[2] < 0.2, "median key latency %.0f ms during the flood" % (lat[2] * 1000)
    assert lat[-1] < 1.0, "slowest key %.0f ms during the flood" % (lat[-1] * 1000)
    c.keys("2", "f")  # the output pane, stop following
    s = c.wait_for(r"\[paused\]")
    s = c.wait_for(r"\+(\d+) new")
    n1 = int(re.search(r"\+(\d+) new", s).group(1))
    deadline = time.monotonic() + 10
    while True:  # the count grows while the lines keep coming
        m = re.search(r"\+(\d+) new", c.screen())
        if m and int(m.group(1)) > n1:
            break
        assert time.monotonic() < deadline, "+N new does not grow"
        time.sleep(0.05)
    c.keys("f")
    c.wait_for(r"\[follow\]")
    # Caught up with the end: the last line of one stream or the other (stdout
    # is buffered, stderr is not, so either may arrive last).
    c.wait_for(r"^.(last )?line 1599999", timeout=60)
    s = c.wait_for(r"1 +probe-li\S* +\S+ +local +succeeded", timeout=30)
    c.keys("/")
    c.text("last line 1599999")
    c.keys("Enter")  # the very last stdout line is in the pane
    c.wait_for(r"^.last line 1599999")
    assert "not found" not in c.screen()
    c.keys("q")
    c.wait_exit()


def term_flow(c):
    """Deploy, watch it finish, help, quit: enough to see a terminal work."""
    c.wait_for(r"no deployments yet")
    deploy(c, pace="0")
    c.wait_for(r"1 +momentum +SPY +local +succeeded", timeout=30)
    c.keys("?")
    c.wait_for(r"Keys \(Esc closes")
    c.keys("Escape")
    c.wait_for(r"Keys \(Esc closes", absent=True)
    s = c.screen(esc=True)
    c.keys("q")
    c.wait_exit()
    return s


def s_term_screen(c):
    s = term_flow(c)
    assert re.search(r"\x1b\[[0-9;]*(38;5|48;5)", s), "no 256-colour SGR on screen-256color"


def s_term_linux(c):
    s = term_flow(c)
    assert not re.search(r"\x1b\[[0-9;]*(38;5|48;5)", s), "256-colour SGR on an 8-colour terminal"


def s_term_vt100(c):
    s = term_flow(c)
    assert not re.search(r"\x1b\[[0-9;]*(3[0-7]|4[0-7]|38;5|48;5)[;m]", s), "colour on a vt100"
    assert re.search(r"\x1b\[[0-9;]*7m", s), "no reverse video for the selection"


def in_gnu_screen(c, cmd):
    rc = os.path.join(c.tmp, "screenrc")
    with open(rc, "w") as f:
        f.write("startup_message off\nescape ^Tt\nhardstatus ignore\n")
    return "exec screen -c %s -S sd%d sh -c \"%s\"" % (rc, os.getpid(), cmd.replace('"', '\\"'))


def s_gnu_screen(c):
    s = term_flow(c)
    assert "\u2500" in s or "-" in s, s


def s_guide(c):
    """Every pane at 80x24 as an operator sees it: checked for its title, and
    with UPDATE_DOC=1 written into docs/operator-guide.md's screens."""
    shots = []

    def shot(name, regex, *keys):
        if keys:
            c.keys(*keys)
        shots.append((name, mask(c.wait_for(regex)).rstrip("\n")))

    c.wait_for(r"5 +mean-rev")
    shot("sandboxes", r"Sandboxes \(5/5\)")
    shot("output", r"Output #5 mean-reversion", "2")
    shot("details", r"result +[-+]", "3")
    shot("learning", r"^. all strategies", "4")
    shot("patterns", r"Patterns \(2/2\)", "5")
    shot("pattern detail", r"Esc goes back", "Enter")
    shot("deploy from a pattern", r"deploy filled from the pattern", "d")
    c.keys("Escape")
    c.wait_for(r"Deploy \(Enter", absent=True)
    shot("help", r"Keys \(Esc closes", "?")
    c.keys("Escape", "1")
    c.wait_for(r"Keys \(Esc closes", absent=True)
    deploy(c, pace="100")
    c.wait_for(r"6 +momentum +SPY +local +running")
    shot("kill", r"Kill 1 deployment", "x")
    c.keys("Enter")
    c.keys("q")
    c.wait_for(r"Quitting cancels")
    c.keys("y")
    c.wait_exit()
    if os.environ.get("UPDATE_DOC") == "1":
        guide = os.path.join(SRC, "docs", "operator-guide.md")
        with open(guide) as f:
            doc = f.read()
        m = re.search(r"(<!-- screens:begin[^>]*-->\n)(.*?)(<!-- screens:end -->)", doc, re.S)
        body = "".join("\n### %s\n\n```\n%s\n```\n" % (n, t) for n, t in shots)
        with open(guide, "w") as f:
            f.write(doc[:m.start(2)] + body.lstrip("\n") + "\n" + doc[m.end(2):])
        print("rewrote the screens of %s" % guide)


def signal_shutdown(c, sig):
    """A signal while a deployment runs: the console exits by itself, the
    deployment is cancelled and recorded so, no lease is left behind."""
    import signal as _signal
    import sqlite3
    c.wait_for(r"no deployments yet")
    deploy(c, pace="50")
    c.wait_for(r"1 +momentum +SPY +local +running")
    os.kill(c.pid(), getattr(_signal, sig))
    c.wait_exit()
    db = sqlite3.connect(c.db)
    status = db.execute("SELECT status FROM trajectories WHERE id = 1").fetchone()[0]
    leases = db.execute("SELECT count(*) FROM leases").fetchone()[0]
    db.close()
    assert status == "cancelled", "trajectory 1 is %s after %s" % (status, sig)
    assert leases == 0, "%d lease(s) left after %s" % (leases, sig)


def s_sigterm(c):
    signal_shutdown(c, "SIGTERM")


def s_sighup(c):
    signal_shutdown(c, "SIGHUP")


class ReadLock:
    """Hold the store's WAL read locks (bytes 123..127 of its -shm file,
    sqlite.org/walformat.html) from this process: no connection of the
    console can start a read until release(). A stuck process could do this;
    here it makes a store read that cannot finish, whatever the machine."""

    def __init__(self, db, timeout=10.0):
        import fcntl
        self.fcntl = fcntl
        self.fd = os.open(db + "-shm", os.O_RDWR)
        deadline = time.monotonic() + timeout
        while True:  # the console's own readers may hold one for a moment
            try:
                fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 5, 123)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("cannot take the store's read locks")
                time.sleep(0.01)

    def release(self):
        os.close(self.fd)  # and with it the locks


def s_slow_store(c):
    """A past run's output cannot be read (another process holds the store's
    read locks): the output pane says it is loading while the console keeps
    answering keys, and the output shows once the store is free again."""
    c.wait_for(r"2 +momentum +QQQ\*? +local +succeeded")
    c.wait_for(r"Output #2 momentum QQQ")
    c.wait_for(r"done: final equity")  # the selected run's output, read at start
    lock = ReadLock(c.db)
    try:
        c.keys("j")  # the other past run: its output must come from the store
        c.wait_for(r"Output #1 momentum SPY")
        c.wait_for(r"loading output\.\.\.")
        lat = []
        for _ in range(3):
            t0 = time.monotonic()
            c.keys("?")
            c.wait_for(r"Keys \(Esc closes", timeout=5)
            lat.append(time.monotonic() - t0)
            c.keys("Escape")
            c.wait_for(r"Keys \(Esc closes", timeout=5, absent=True)
        c.keys("k", "j")  # moving back and forth: the selection follows at once
        c.wait_for(r"Output #1 momentum SPY")
        s = c.wait_for(r"loading output\.\.\.")  # still: the store is still locked
        assert "done: final equity" not in s, s
        print("keys answered in %s ms while the store was locked" %
              " ".join("%.0f" % (x * 1000) for x in lat))
        assert max(lat) < 1.0, "a key took %.0f ms while a read waited" % (max(lat) * 1000)
    finally:
        lock.release()
    c.wait_for(r"done: final equity")
    c.wait_for(r"loading output", absent=True)
    c.keys("q")
    c.wait_exit()


def s_slow_cleanup(c):
    """Cleanup (`c`) while another process holds the store's read locks: it
    runs on the console's job worker, so the status line says "cleaning
    up..." and keys are answered meanwhile; its outcome shows once the store
    is free (it ran on the UI thread before, which froze until then)."""
    c.wait_for(r"2 +momentum +QQQ\*? +local +succeeded")
    c.wait_for(r"done: final equity")  # the reader has what it needs at start
    lock = ReadLock(c.db)
    try:
        c.keys("c")
        c.wait_for(r"cleaning up\.\.\.", timeout=5)
        lat = []
        for _ in range(3):
            t0 = time.monotonic()
            c.keys("?")
            c.wait_for(r"Keys \(Esc closes", timeout=5)
            lat.append(time.monotonic() - t0)
            c.keys("Escape")
            c.wait_for(r"Keys \(Esc closes", timeout=5, absent=True)
        print("keys answered in %s ms while cleanup waited for the store" %
              " ".join("%.0f" % (x * 1000) for x in lat))
        assert max(lat) < 1.0, "a key took %.0f ms while cleanup waited" % (max(lat) * 1000)
        assert "cleanup:" not in c.screen()  # still waiting for the store
    finally:
        lock.release()
    c.wait_for(r"cleanup: 2 finished row\(s\) hidden")
    c.wait_for(r"Sandboxes \(0/0\)")
    c.keys("q")
    c.wait_exit()


def s_slow_deploy(c):
    """The deploy dialog's Enter while another process holds the store's read
    locks: the job worker queues the deployment, the dialog stays (frozen,
    "deploying...") and keys are answered meanwhile; it closes with
    "deployed #3" once the store is free."""
    c.wait_for(r"2 +momentum +QQQ\*? +local +succeeded")
    c.wait_for(r"done: final equity")
    c.keys("d")
    c.wait_for(r"Deploy \(Enter launches")
    lock = ReadLock(c.db)
    try:
        c.keys("Enter")
        c.wait_for(r"deploying 1 momentum\.\.\.", timeout=5)
        t0 = time.monotonic()
        c.keys("x")  # the form is frozen: the key is answered, not typed
        c.wait_for(r"deploying\.\.\. \(the dialog closes when it is done\)", timeout=5)
        lat = time.monotonic() - t0
        print("a key answered in %.0f ms while the deployment waited for the store" %
              (lat * 1000))
        assert lat < 1.0, "a key took %.0f ms while deploy waited" % (lat * 1000)
        assert "Deploy (Enter launches" in c.screen()
    finally:
        lock.release()
    c.wait_for(r"deployed #3 momentum")
    c.wait_for(r"Deploy \(Enter launches", absent=True)
    # q asks first while something runs: let #3 end (a race the test used to lose under load)
    c.wait_for(r"3 +momentum +SPY +local +succeeded", timeout=60)
    c.keys("q")
    c.wait_exit()


SCENARIOS = {
    "flow_80x24": (s_flow_80x24, 80, 24, {}, ""),
    "grid_200x50": (s_grid_200x50, 200, 50, {}, ""),
    "resize": (s_resize, 100, 30, {}, ""),
    "no_color": (s_no_color, 80, 24, {"NO_COLOR": "1"}, ""),
    "ascii": (s_ascii, 80, 24, {"LC_ALL": "C"}, ""),
    "golden_80x24": (s_golden_80x24, 80, 24, {"SWARMDECK_CLOCK": "fixed:1700000000000"}, ""),
    "braille": (s_braille, 80, 24, {}, "--sparklines braille"),
    "mouse": (s_mouse, 120, 40, {}, ""),
    "golden_200x50": (s_golden_200x50, 200, 50, {"SWARMDECK_CLOCK": "fixed:1700000000000"}, ""),
    "idle": (s_idle, 80, 24, {}, ""),
    "readonly": (s_readonly, 80, 24, {}, "--readonly"),
    "learning_80x24": (s_learning_80x24, 80, 24, {"SWARMDECK_CLOCK": "fixed:1700000000000"}, ""),
    "firehose": (s_firehose, 120, 40, {}, ""),
    "term_screen": (s_term_screen, 80, 24, {"TERM": "screen-256color"}, ""),
    "term_linux": (s_term_linux, 80, 24, {"TERM": "linux"}, ""),
    "term_vt100": (s_term_vt100, 80, 24, {"TERM": "vt100"}, ""),
    "gnu_screen": (s_gnu_screen, 80, 24, {}, ""),
    "guide": (s_guide, 80, 24, {"SWARMDECK_CLOCK": "fixed:1700000000000"}, ""),
    "sigterm": (s_sigterm, 80, 24, {}, ""),
    "sighup": (s_sighup, 80, 24, {}, ""),
    "slow_store": (s_slow_store, 120, 40, {}, ""),
    "slow_cleanup": (s_slow_cleanup, 120, 40, {}, ""),
    "slow_deploy": (s_slow_deploy, 120, 40, {}, ""),
}

# Store set-up before the console starts, and programs the console runs under.
PRE = {
    "learning_80x24": lambda e: (cli(e, "deploy", "-s", "momentum", "-a", "3"),
                                 cli(e, "deploy", "-s", "mean-reversion", "-a", "2")),
    "firehose": add_lines_strategy,
}
PRE["guide"] = PRE["learning_80x24"]
PRE["golden_200x50"] = PRE["learning_80x24"]
PRE["braille"] = PRE["learning_80x24"]
PRE["mouse"] = PRE["learning_80x24"]
PRE["slow_store"] = lambda e: (cli(e, "deploy", "-s", "momentum", "--symbol", "SPY"),
                               cli(e, "deploy", "-s", "momentum", "--symbol", "QQQ"))
PRE["slow_cleanup"] = PRE["slow_deploy"] = PRE["slow_store"]
WRAP = {"gnu_screen": in_gnu_screen}


def main():
    if shutil.which("tmux") is None:
        print("tmux not found: skipped")
        return 77
    name = sys.argv[1]
    fn, x, y, env, args = SCENARIOS[name]
    pre = PRE.get(name)
    if "--readonly" in args:  # a read-only console needs a store with something in it
        def pre(e):
            cli(e, "deploy", "-s", "momentum")
    if name == "gnu_screen" and shutil.which("screen") is None:
        print("GNU screen not found: skipped")
        return 77
    if name == "firehose" and not os.path.exists(os.path.join(STRATEGIES, "probe-lines.json")):
        print("the probe-lines fixture is not built: skipped")
        return 77
    c = Console(x, y, env, args, pre, WRAP.get(name))
    try:
        fn(c)
        print("PASS %s" % sys.argv[1])
        return 0
    finally:
        c.close()


if __name__ == "__main__":
    sys.exit(main())
