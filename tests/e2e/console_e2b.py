#!/usr/bin/env python3
"""console_e2b.py: the console's screens that the E2B provider drives (issue 18), driven
through tmux against the E2B double (tests/fixtures/e2b_double.py) on 127.0.0.1.

  capacity  the double answers creates with the concurrency-limit 429 (no Retry-After):
            a deployment launched on E2B from a daemon's console shows "waiting for E2B
            capacity" in its details (the view's `waiting`, carried by the daemon); once
            the double has room, the wait line goes, the run runs and ends succeeded.
  region    three E2B instances with region labels: a deployment placed on one shows that
            instance in its row, and the header's health line names the instance with its
            region label (and every other instance with its own), in a console with its
            own engine and in a daemon's console.

Reuses console_e2e's Console (its own tmux server, a fresh store); every wait polls the
screen or the double against a deadline, never a fixed sleep.
Usage: console_e2b.py SCENARIO
Environment: SWARMDECK_BIN_DIR (build dir), SWARMDECK_SRC_DIR.
"""
import json
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
from console_daemon import daemon_pid, until  # noqa: E402
from lib_e2e import stop_daemon  # noqa: E402
from console_e2e import Console, deploy  # noqa: E402
from e2b_double import Double  # noqa: E402

KEY = "e2b_" + "0123456789abcdef" * 2 + "c0ffee00"
KEYS = ["e2b_" + c * 32 for c in ("a1", "b2", "c3")]


def write_config(d, config):
    """The E2B config file (0600, as the provider wants it) in d; returns its path."""
    p = os.path.join(d, "e2b.json")
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(config, f)
    return p


def creates(d):
    return [r for r in d.requests if r[1] == "POST" and r[2].split("?")[0] == "/v2/sandboxes"]


def no_leak(*doubles):
    until("the E2B sandboxes destroyed", lambda: all(d.sandboxes() == [] for d in doubles), 15)


def s_capacity(scratch):
    double = Double(KEY, concurrency=0).start()  # every create meets the limit
    c = None
    try:
        env = {"E2B_API_KEY": KEY, "E2B_API_URL": double.api_url,
               "E2B_SANDBOX_URL": double.sandbox_url,
               # a long bounded wait, so the test (not the give-up) ends the waiting
               "SWARMDECK_E2B_CONFIG": write_config(scratch, {"capacityWaitMs": 120000})}
        # 80x24: the details are a tab of the whole width, so the wait's reason fits
        c = Console(80, 24, env=env, args="--provider e2b --no-learning", daemon=True)
        c.wait_for(r"Sandboxes", timeout=20)
        until("the console's daemon", lambda: daemon_pid(c), 20)
        deploy(c, pace="0", provider="e2b")
        c.wait_for(r"1 +momentum +SPY +e2b ")
        c.keys("3")  # the details of the (only, selected) deployment
        s = c.wait_for(r"waiting +waiting for E2B capacity on e2b \(429: you have reached "
                       r"the max", timeout=30)
        assert re.search(r"^\W*state +(queued|running)\b", s, re.M), s
        assert "succeeded" not in s, s
        assert KEY not in s, s
        assert creates(double) and double.created == 0, double.requests
        c.keys("1")  # the table says it waits, not that it runs
        c.wait_for(r"1 +momentum +SPY +e2b +waiting ")
        c.keys("3")
        # The double has room again: the next try (at most 2 s later) creates it.
        double.concurrency = None
        s = c.wait_for(r"^\W*state +succeeded", timeout=60)
        c.wait_for(r"waiting for E2B capacity", absent=True)
        assert double.created == 1, double.created
        c.keys("1")
        c.wait_for(r"1 +momentum +SPY +e2b +succeeded")
        c.keys("q")
        c.wait_exit()
        no_leak(double)
    finally:
        if c is not None:
            stop_daemon(c.db)
            c.close()
        double.stop()


def s_region(scratch):
    doubles = [Double(k).start() for k in KEYS]
    names = ["e2b-slow", "e2b-fast", "e2b-mid"]
    regions = ["ap-south", "eu-west", "us-east"]
    try:
        cfg = {"instances": [{"name": n, "region": r, "apiKey": k, "template": "base",
                              "apiUrl": d.api_url, "sandboxUrl": d.sandbox_url}
                             for n, r, k, d in zip(names, regions, KEYS, doubles)]}
        env = {"SWARMDECK_E2B_CONFIG": write_config(scratch, cfg)}
        # The console's own engine, then a daemon's console (the health comes over the
        # socket): the same header either way.
        for daemon in (False, True):
            before = [d.created for d in doubles]
            c = Console(240, 45, env=env, args="--provider e2b-mid --no-learning",
                        daemon=daemon)
            try:
                c.wait_for(r"Sandboxes", timeout=20)
                if daemon:
                    until("the console's daemon", lambda: daemon_pid(c), 20)
                deploy(c, pace="0", provider="e2b-mid")
                s = c.wait_for(r"1 +momentum +SPY +e2b-mid +succeeded", timeout=30)
                # Placed on e2b-mid: its double (and only its) created the sandbox.
                made = [d.created - b for d, b in zip(doubles, before)]
                assert made == [0, 0, 1], made
                head = s.splitlines()[0]
                assert "e2b-mid (us-east): breaker closed" in head, head
                for n, r in zip(names, regions):
                    assert "%s (%s): breaker" % (n, r) in head, (n, r, head)
                for k in KEYS:
                    assert k not in s, s
                c.keys("q")
                c.wait_exit()
                no_leak(*doubles)
            finally:
                if daemon:
                    stop_daemon(c.db)
                c.close()
    finally:
        for d in doubles:
            d.stop()


SCENARIOS = {"capacity": s_capacity, "region": s_region}


def main():
    if shutil.which("tmux") is None:
        print("tmux not found: skipped")
        return 77
    name = sys.argv[1]
    scratch = tempfile.mkdtemp(prefix="sd-console-e2b-")
    try:
        SCENARIOS[name](scratch)
        print("PASS %s" % name)
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
