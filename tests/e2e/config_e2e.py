#!/usr/bin/env python3
"""config_e2e.py: the operator's config file (cli/config.h, docs/config.md).

Each case runs the real binary with XDG_CONFIG_HOME in its own temporary directory.
Usage: config_e2e.py CASE. Environment: SWARMDECK_BIN_DIR, SWARMDECK_SRC_DIR.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ.get("SWARMDECK_BIN_DIR", "build")
SRC = os.environ.get("SWARMDECK_SRC_DIR", ".")
SD = os.path.join(BIN, "swarmdeck")


class Env:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="sd-config-")
        self.cfg = os.path.join(self.tmp, "config", "swarmdeck", "config")
        self.env = dict(os.environ, SWARMDECK_DB=os.path.join(self.tmp, "store.db"),
                        XDG_RUNTIME_DIR=self.tmp, XDG_CONFIG_HOME=os.path.join(self.tmp, "config"),
                        XDG_STATE_HOME=os.path.join(self.tmp, "state"), LC_ALL="C.UTF-8")
        for k in ("SWARMDECK_HOST", "SWARMDECK_CONFIG"):
            self.env.pop(k, None)

    def write(self, text, mode=0o600):
        os.makedirs(os.path.dirname(self.cfg), exist_ok=True)
        with open(self.cfg, "w") as f:
            f.write(text)
        os.chmod(self.cfg, mode)

    def run(self, *args):
        return subprocess.run([SD] + list(args), env=self.env, capture_output=True, text=True,
                              cwd=self.tmp, timeout=60, stdin=subprocess.DEVNULL)

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def check(cond, what, p=None):
    if not cond:
        extra = "" if p is None else "\nrc=%s\nstdout=%s\nstderr=%s" % (p.returncode, p.stdout, p.stderr)
        raise AssertionError(what + extra)


def case_defaults(e):
    p = e.run("config", "--json")
    check(p.returncode == 0, "config without a file", p)
    o = json.loads(p.stdout)
    check(o["found"] is False and o["path"] == e.cfg, "the default place, not found", p)
    check(o["settings"]["confirm-agents"] == {"value": "50", "from": "default"}, "threshold", p)
    check(o["settings"]["protocol-lines"]["value"] == "hide", "protocol lines hidden", p)
    check(o["binds"] == [] and o["hosts"] == [], "no binds or hosts", p)


def case_values(e):
    e.write("# a comment\n\ntheme = dark\ninterval=250\n  confirm-agents = 20  \n"
            "bind = F5 r\nbind = x k\nbind = F5 d\nhost = ssh://ops@h1/srv/s.db\nmouse = off\n")
    p = e.run("config", "--json")
    check(p.returncode == 0, "a good file", p)
    o = json.loads(p.stdout)
    s = o["settings"]
    check(o["found"] is True, "found", p)
    check(s["theme"] == {"value": "dark", "from": "file"}, "theme", p)
    check(s["interval"]["value"] == "250" and s["confirm-agents"]["value"] == "20", "numbers", p)
    check(s["mouse"]["value"] == "off", "a boolean as written", p)
    # a later bind of the same key wins, as in tmux
    check(o["binds"] == [{"key": "F5", "does": "d"}, {"key": "x", "does": "k"}], "binds", p)
    check(o["hosts"] == ["ssh://ops@h1/srv/s.db"], "hosts", p)
    p = e.run("config")
    check(p.returncode == 0 and "theme           = dark" in p.stdout and "# line 3" in p.stdout,
          "the text form names the line", p)


def case_bad(e):
    bad = [
        ("colour = red\n", "unknown setting \"colour\""),
        ("interval = 50\n", "interval: \"50\" is not a whole number from 100 to 60000"),
        ("interval = 1e3\n", "is not a whole number"),
        ("bell = maybe\n", "bell: \"maybe\" is not yes or no"),
        ("protocol-lines = some\n", "is not one of: hide show"),
        ("bind = Hyper-x k\n", "\"Hyper-x\" is not a key name"),
        ("bind = x\n", "bind: write"),
        ("host = http://h\n", "is not ssh://"),
        ("theme dark\n", "expected `name = value`"),
        ("theme =\n", "theme: a value is needed"),
    ]
    for text, want in bad:
        e.write("# ok\ntheme = default\n" + text)
        p = e.run("config")
        check(p.returncode == 2, "refused: " + text, p)
        check(("%s:3: " % e.cfg) in p.stderr and want in p.stderr, "names line 3: " + want, p)
        check(p.stdout == "", "nothing printed from a refused file", p)


def case_perms(e):
    e.write("theme = dark\n", 0o620)
    p = e.run("config")
    check(p.returncode == 2 and "others may write it" in p.stderr, "group-writable refused", p)
    e.write("theme = dark\n", 0o644)
    p = e.run("config")
    check(p.returncode == 0, "world-readable is fine", p)
    os.chmod(e.cfg, 0o600)
    e.env["SWARMDECK_CONFIG"] = os.path.join(e.tmp, "nowhere")
    p = e.run("config")
    check(p.returncode == 3 and "nowhere" in p.stderr, "a named file that is missing", p)


def case_console(e):
    # A bad config stops the console before it asks for a terminal, and says why.
    e.write("refresh = 5\n")
    p = e.run("--no-daemon", "console")
    check(p.returncode == 2 and ":1: unknown setting \"refresh\"" in p.stderr, "console refuses", p)


def case_example(e):
    p = e.run("config", "--example")
    check(p.returncode == 0, "example", p)
    with open(os.path.join(SRC, "examples", "config")) as f:
        check(f.read() == p.stdout, "examples/config is what `config --example` writes "
              "(regenerate: swarmdeck config --example > examples/config)", p)
    e.write(p.stdout)
    q = e.run("config", "--json")
    check(q.returncode == 0, "the example as it is", q)
    check(all(v["from"] == "default" for v in json.loads(q.stdout)["settings"].values()),
          "the example sets nothing", q)
    # every commented setting, uncommented, is valid and equals the default
    e.write("".join(l[1:] if l.startswith("#") and "=" in l and not l.startswith("# ") else l
                    for l in p.stdout.splitlines(True)))
    q = e.run("config", "--json")
    check(q.returncode == 0, "the example uncommented", q)
    o = json.loads(q.stdout)
    check(all(v["from"] == "file" for v in o["settings"].values()), "all set", q)
    check(len(o["binds"]) == 1 and len(o["hosts"]) == 1, "bind and host examples", q)


def main():
    e = Env()
    try:
        globals()["case_" + sys.argv[1]](e)
    finally:
        e.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
