#!/usr/bin/env python3
"""cli_ops.py: the command line's operator's-day fixes (issue 16).

Each case runs the real binary on a store in its own temporary directory.
Usage: cli_ops.py CASE. Environment: SWARMDECK_BIN_DIR, SWARMDECK_VERSION.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

BIN = os.environ.get("SWARMDECK_BIN_DIR", "build")
SD = os.path.join(BIN, "swarmdeck")


class Env:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="sd-cli-ops-")
        self.db = os.path.join(self.tmp, "store.db")
        self.env = dict(os.environ, SWARMDECK_DB=self.db, XDG_RUNTIME_DIR=self.tmp,
                        XDG_STATE_HOME=os.path.join(self.tmp, "state"),
                        XDG_DATA_HOME=os.path.join(self.tmp, "data"), TZ="UTC", LC_ALL="C.UTF-8")
        self.env.pop("SWARMDECK_HOST", None)

    def run(self, *args):
        return subprocess.run([SD] + list(args), env=self.env, capture_output=True, text=True,
                              cwd=self.tmp, timeout=120)

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def check(cond, what, p=None):
    if not cond:
        extra = "" if p is None else "\nrc=%s\nstdout=%s\nstderr=%s" % (p.returncode, p.stdout, p.stderr)
        raise AssertionError(what + extra)


def c_version(e):
    want = os.environ.get("SWARMDECK_VERSION")
    a, b = e.run("--version"), e.run("version")
    check(a.returncode == 0 and b.returncode == 0, "version exits 0", a)
    check(re.fullmatch(r"swarmdeck \d+\.\d+\.\d+\n", a.stdout), "--version prints the version", a)
    check(a.stdout == b.stdout, "both forms agree", b)
    if want:
        check(a.stdout == "swarmdeck %s\n" % want, "the project's version", a)
    h = e.run("help")
    check(re.search(r"^  version +print the version", h.stdout, re.M), "help lists version", h)
    check("--version" in h.stdout, "help lists --version", h)


def c_missing_store(e):
    for cmd in (["status"], ["status", "--json"], ["history"]):
        p = e.run("--no-daemon", *cmd)
        check(p.returncode == 3, "%s on a missing store exits 3" % cmd, p)
        check("no store" in p.stderr, "and says so", p)
    check(not os.path.exists(e.db), "nothing created")


def c_db_dir(e):
    bad = os.path.join(e.tmp, "nodir", "x.db")
    for cmd in (["--no-daemon", "deploy", "-s", "momentum"], ["status"], ["history"]):
        p = e.run("--db", bad, *cmd)
        check(p.returncode == 2, "%s with --db in a missing directory exits 2" % cmd, p)
        check(bad in p.stderr and "does not exist" in p.stderr, "names the path", p)
    check(not os.path.exists(os.path.join(e.tmp, "nodir")), "the directory was not created")
    # a --db in an existing directory, or a bare file name, still creates the store
    p = e.run("--db", "here.db", "--no-daemon", "deploy", "-s", "momentum")
    check(p.returncode == 0 and os.path.exists(os.path.join(e.tmp, "here.db")), "here.db", p)


def c_show_wording(e):
    for cmd in (["show", "abc"], ["logs", "abc"]):
        p = e.run("--no-daemon", *cmd)
        check(p.returncode == 2, "%s exits 2" % cmd, p)
        check("the id must be a number" in p.stderr and '"abc"' in p.stderr,
              "names what was typed as an id", p)
        check("--ID" not in p.stderr, "no option that was never typed", p)


def c_console_help(e):
    p = e.run("console", "--help")
    check(p.returncode == 0, "console --help", p)
    check("--theme" in p.stdout and "--max-agents" in p.stdout, "the console's options", p)
    check("--json" not in p.stdout, "no --json (the console prints no JSON)", p)
    check("--host" in p.stdout, "--host (the console shows one or several hosts)", p)
    q = e.run("console", "--json")
    check(q.returncode == 2 and "does not apply" in q.stderr, "console --json refused", q)
    d = e.run("deploy", "--help")
    check("--json" in d.stdout and "--host" in d.stdout, "deploy keeps them", d)


def c_success_rate(e):
    """One success rate: status's is the learner's (cancelled and
    interrupted runs say nothing about a strategy)."""
    p = e.run("--no-daemon", "deploy", "-s", "momentum", "-a", "3")
    check(p.returncode == 0, "deploy", p)
    con = sqlite3.connect(e.db)
    con.execute("UPDATE trajectories SET status='cancelled' WHERE id=(SELECT max(id) FROM trajectories)")
    con.commit()
    con.close()
    p = e.run("--no-daemon", "status", "--learning", "--json")
    check(p.returncode == 0, "status --json", p)
    j = json.loads(p.stdout)
    check(j["byStatus"]["cancelled"] == 1, "one cancelled", p)
    check(abs(j["successRate"] - j["learning"]["avgSuccessRate"]) < 1e-9,
          "status and learning agree (%s vs %s)" % (j["successRate"], j["learning"]["avgSuccessRate"]), p)
    t = e.run("--no-daemon", "status", "--learning")
    rates = re.findall(r"success(?: rate)? (\d+\.\d)%", t.stdout)
    check(len(rates) >= 2 and len(set(rates[:2])) == 1, "the text shows one rate: %s" % rates, t)


def c_history_run(e):
    """`history --run N` lists that launch's deployments only, with the run and
    the description; `show` prints the run and the created/started/ended times."""
    for n in (2, 3):
        p = e.run("--no-daemon", "deploy", "-s", "momentum", "-a", str(n),
                  "--description", "launch of %d" % n)
        check(p.returncode == 0, "deploy", p)
    p = e.run("--no-daemon", "history", "-r", "2", "--json")
    check(p.returncode == 0, "history -r 2", p)
    rows = json.loads(p.stdout)
    check(len(rows) == 3 and all(r["runId"] == 2 for r in rows), "the second launch's three", p)
    check(all(r["description"] == "launch of 3" for r in rows), "descriptions", p)
    p = e.run("--no-daemon", "history", "--run", "1")
    lines = p.stdout.splitlines()
    check(len(lines) == 3 and lines[0].split()[1] == "RUN" and "DESCRIPTION" in lines[0],
          "header and two rows", p)
    check(all(l.split()[1] == "1" and l.endswith("launch of 2") for l in lines[1:]),
          "run column and description", p)
    p = e.run("--no-daemon", "history", "-r", "x")
    check(p.returncode == 2 and "run" in p.stderr, "a bad run is refused", p)
    p = e.run("--no-daemon", "show", str(rows[0]["id"]))
    check(p.returncode == 0, "show", p)
    for k in ("run            2", "created        ", "started        ", "ended          "):
        check(k in p.stdout, "show prints %r" % k.strip(), p)
    check(re.search(r"ended +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", p.stdout), "a UTC time", p)


DATA_MAPS = ("params", "result", "isolation", "features", "byStatus", "posterior", "settings")


def camel(o, path, bad):
    """Collect keys that are not camelCase, outside the data maps docs/json.md names."""
    if isinstance(o, dict):
        for k, v in o.items():
            if not re.match(r"^[a-z][a-zA-Z0-9]*$", k):
                bad.append(path + "." + k)
            if k not in DATA_MAPS:
                camel(v, path + "." + k, bad)
    elif isinstance(o, list):
        for v in o:
            camel(v, path + "[]", bad)
    return bad


def c_json_shapes(e):
    """docs/json.md: a list is an array, one thing is an object, names camelCase."""
    p = e.run("--no-daemon", "deploy", "-s", "momentum", "-a", "2", "--json")
    check(p.returncode == 0, "deploy", p)
    lists = [["--no-daemon", "deploy", "-s", "momentum", "--json"], ["history", "--json"],
             ["data", "list", "--json"], ["strategies", "list", "--json"]]
    things = [["status", "--json"], ["show", "1", "--json"], ["suggest", "-s", "momentum", "--json"],
              ["patterns", "--json"], ["doctor", "--json"], ["config", "--json"],
              ["verify", "--json"]]
    for args in lists + things:
        p = e.run(*args)
        check(p.returncode in (0, 1), " ".join(args), p)
        o = json.loads(p.stdout)
        if args in lists:
            check(isinstance(o, list) and o and all(isinstance(x, dict) for x in o),
                  "%s: an array of objects" % " ".join(args), p)
        else:
            check(isinstance(o, dict), "%s: an object" % " ".join(args), p)
        bad = camel(o, "", [])
        check(not bad, "%s: not camelCase: %s" % (" ".join(args), bad[:5]), p)


def commands_of(e):
    """The command names `swarmdeck help` lists (the command table)."""
    h = e.run("help").stdout
    block = h.split("commands:\n", 1)[1].split("\n\n", 1)[0]
    return [ln.split()[0] for ln in block.splitlines() if ln.strip()]


def options_of(e, cmd):
    h = e.run(cmd, "--help").stdout.split("global options:")[0]
    if "\noptions:\n" not in h:
        return []
    return re.findall(r"^ +(?:-\w, )?--([a-z0-9-]+)", h.split("\noptions:\n", 1)[1], re.M)


def c_gendoc(e):
    """The man page and the completions list every command and every option
    of the table; the build wrote the same files; bash completes from it;
    `cmake --install` puts everything where man and the shells look."""
    cmds = commands_of(e)
    check(len(cmds) >= 20 and "deploy" in cmds and "completion" in cmds, "commands: %s" % cmds)
    out = {}
    for what, args in (("man", ["manpage"]), ("bash", ["completion", "bash"]),
                       ("zsh", ["completion", "zsh"]), ("fish", ["completion", "fish"])):
        p = e.run(*args)
        check(p.returncode == 0 and p.stdout, what, p)
        out[what] = p.stdout
    for cmd in cmds:
        check(re.search(r'^\.SS "%s( |")' % re.escape(cmd.replace("-", "\\-")), out["man"], re.M),
              "man: " + cmd)
        check(re.search(r"^        %s\) " % re.escape(cmd), out["bash"], re.M), "bash: " + cmd)
        check(re.search(r"^        '%s:" % re.escape(cmd), out["zsh"], re.M), "zsh: " + cmd)
        check("-a %s -d" % cmd in out["fish"], "fish: " + cmd)
        for o in options_of(e, cmd):
            man_o = "\\-\\-" + o.replace("-", "\\-")
            check(man_o in out["man"], "man: %s --%s" % (cmd, o))
            check("--" + o in out["bash"] and "--" + o in out["zsh"], "bash/zsh: --" + o)
            check(re.search(r"__fish_seen_subcommand_from %s' -l %s\b" % (cmd, re.escape(o)),
                            out["fish"]), "fish: %s --%s" % (cmd, o))
    # what does not apply to a command is not offered for it (as its --help)
    line = re.search(r"^        console\) .*$", out["bash"], re.M).group(0)
    check("--json" not in line and "--host" in line and "--theme" in line, line)
    check("__fish_seen_subcommand_from console' -l json" not in out["fish"], "fish: console --json")
    check(e.run("completion", "tcsh").returncode == 2, "an unknown shell is refused")
    # the build's copies are today's
    gen = os.path.join(BIN, "gen")
    for name, what in (("swarmdeck.1", "man"), ("swarmdeck.bash", "bash"), ("_swarmdeck", "zsh"),
                       ("swarmdeck.fish", "fish")):
        with open(os.path.join(gen, name)) as f:
            check(f.read() == out[what], "build/gen/%s is stale" % name)
    # bash: syntax, and completing a command and an option
    script = os.path.join(e.tmp, "c.bash")
    with open(script, "w") as f:
        f.write(out["bash"])
    probe = ('source %s; COMP_WORDS=(swarmdeck st); COMP_CWORD=1; _swarmdeck; echo "${COMPREPLY[*]}"; '
             'COMP_WORDS=(swarmdeck deploy --ag); COMP_CWORD=2; _swarmdeck; echo "${COMPREPLY[*]}"'
             % script)
    p = subprocess.run(["bash", "-c", probe], capture_output=True, text=True)
    lines = p.stdout.splitlines()
    check(p.returncode == 0 and len(lines) == 2, "bash probe", p)
    check(set(lines[0].split()) == {"status", "strategies"}, "st completes: %r" % lines[0], p)
    check(lines[1].split() == ["--agents"], "deploy --ag completes: %r" % lines[1], p)
    for sh, flag in (("zsh", "-n"), ("fish", "-n")):
        if shutil.which(sh):
            f = os.path.join(e.tmp, "c." + sh)
            with open(f, "w") as fh:
                fh.write(out[sh])
            p = subprocess.run([sh, flag, f], capture_output=True, text=True)
            check(p.returncode == 0, sh + " syntax", p)
    # make install's rules, into a prefix of our own
    prefix = os.path.join(e.tmp, "prefix")
    p = subprocess.run(["cmake", "--install", BIN, "--prefix", prefix], capture_output=True,
                       text=True)
    check(p.returncode == 0, "cmake --install", p)
    for rel in ("bin/swarmdeck", "bin/swarmdeck-runner", "share/man/man1/swarmdeck.1",
                "share/bash-completion/completions/swarmdeck", "share/zsh/site-functions/_swarmdeck",
                "share/fish/vendor_completions.d/swarmdeck.fish",
                "share/swarmdeck/themes/default.theme", "share/swarmdeck/data/SPY.csv"):
        check(os.path.exists(os.path.join(prefix, rel)), "installed: " + rel)
    p = subprocess.run([os.path.join(prefix, "bin", "swarmdeck"), "--version"], capture_output=True,
                       text=True)
    check(p.returncode == 0 and p.stdout.startswith("swarmdeck "), "the installed binary runs", p)


CASES = {n[2:]: f for n, f in list(globals().items()) if n.startswith("c_")}


def main():
    e = Env()
    try:
        CASES[sys.argv[1]](e)
        print("PASS %s" % sys.argv[1])
        return 0
    finally:
        e.close()


if __name__ == "__main__":
    sys.exit(main())
