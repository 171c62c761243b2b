#!/usr/bin/env python3
"""console_notify.py: what the console writes to the terminal when a run ends, and the config's
key bindings, driven through tmux as an operator would (docs/config.md, docs/operator-guide.md).

  notify  a daemon's console with `bell = yes` and `osc9 = yes`: a run launched by the command
          line ends, and the bytes the console writes to its terminal (tmux pipe-pane: the raw
          output, before tmux reads it) hold a desktop notification, ESC ] 9 ; "swarmdeck: run
          N: 1 succeeded, 0 failed" BEL, and a bell (a BEL of its own, outside any OSC sequence);
  quiet   the same without those settings: the run's end is on the status line, and the
          console writes no BEL and no OSC 9;
  bind    `bind = k x` in the config: `k` asks to kill the selected running deployment (what
          `x` does), where it moves up without the line; confirmed, the deployment is killed.

Every wait polls the screen or the captured bytes against a deadline; nothing sleeps to settle.
Usage: console_notify.py SCENARIO. Environment: SWARMDECK_BIN_DIR, SWARMDECK_SRC_DIR.
"""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_daemon import daemon_pid, until  # noqa: E402
from lib_e2e import stop_daemon  # noqa: E402
from console_e2e import Console, cli, deploy, write_config  # noqa: E402

OSC9 = re.compile(rb"\x1b\]9;swarmdeck: run (\d+): 1 succeeded, 0 failed\x07")


def config(text):
    """A pre-start hook writing the config file."""
    return lambda e: write_config(e, text)


def captured(c):
    p = os.path.join(c.tmp, "pipe.bin")
    if not os.path.exists(p):
        return b""
    with open(p, "rb") as f:
        return f.read()


def run_end(c):
    """Capture the bytes a console on its daemon writes while a command-line run ends, until
    its status line says so (the capture goes on: pipe_close ends it)."""
    c.wait_for(r"connected to the daemon|no deployments yet", timeout=30)
    until("the console's daemon", lambda: daemon_pid(c), 30)
    p = os.path.join(c.tmp, "pipe.bin")
    c.tmux("pipe-pane", "-o", "cat >> %s; touch %s.done" % (p, p))
    cli(c.env, "deploy", "-s", "momentum")  # through the daemon the console watches
    c.wait_for(r"run \d+: 1 succeeded", timeout=60)


def pipe_close(c):
    """End the capture; returns every byte once cat has written the last and exited."""
    c.tmux("pipe-pane")
    until("the capture to end", lambda: os.path.exists(os.path.join(c.tmp, "pipe.bin.done")), 15)
    return captured(c)


def s_notify(c):
    run_end(c)
    data = pipe_close(c)
    assert len(OSC9.findall(data)) == 1, data[-600:]  # one notification, well formed
    rest = OSC9.sub(b"", data)
    assert b"\x1b]9;" not in rest, rest[-600:]
    assert rest.count(b"\x07") == 1, rest[-600:]  # and the bell, once
    c.keys("q")
    c.wait_exit()


def s_quiet(c):
    run_end(c)
    data = pipe_close(c)
    assert data, "nothing captured"
    assert b"\x07" not in data and b"\x1b]9;" not in data, data[-400:]
    c.keys("q")
    c.wait_exit()


def s_bind(c):
    c.wait_for(r"no deployments yet")
    deploy(c, pace="20")  # slow: it runs while the keys are pressed
    c.wait_for(r"1 +momentum +SPY +local +running", timeout=30)
    c.keys("k")
    c.wait_for(r"Kill 1 deployment: #1 momentum/SPY\?")
    c.keys("Tab", "Enter")
    c.wait_for(r"killed 1 deployment")
    c.wait_for(r"1 +momentum +SPY +local +cancelled", timeout=30)
    c.keys("q")
    c.wait_exit()


SCENARIOS = {
    # name: (config, attached to a daemon)
    "notify": ("bell = yes\nosc9 = yes\n", True),
    "quiet": ("", True),
    "bind": ("bind = k x\n", False),
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print("usage: console_notify.py %s" % "|".join(SCENARIOS))
        return 2
    if shutil.which("tmux") is None:
        print("tmux not found: skipped")
        return 77
    text, daemon = SCENARIOS[sys.argv[1]]
    c = Console(100, 30, {}, "", config(text), daemon=daemon)
    try:
        globals()["s_" + sys.argv[1]](c)
        print("PASS", sys.argv[1])
        return 0
    except BaseException:
        sys.stderr.write("---- screen ----\n%s\n----\n" % c.screen())
        raise
    finally:
        if daemon:
            stop_daemon(c.db)
        c.close()


if __name__ == "__main__":
    sys.exit(main())
