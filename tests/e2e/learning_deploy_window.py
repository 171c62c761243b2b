#!/usr/bin/env python3
"""learning_deploy_window.py: `deploy --train-until/--validate/--folds` (issue 15) in process
and through a daemon: the built-in runs on the window and its result keeps in-sample and
out-of-sample metrics; bad windows are refused before anything
is queued or stored.

Usage: learning_deploy_window.py BUILD_DIR SRC_DIR
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_e2e as e2e  # noqa: E402


def result_of(p):
    out = json.loads(p.stdout)
    assert len(out) == 1, out
    return out[0]


def main():
    env = e2e.Env("window")
    daemon = None
    try:
        # in process
        p = env.run("--no-daemon", "deploy", "-s", "momentum", "--symbol", "SPY",
                    "--train-until", "2010-12-31", "--json", "--no-learning", check=0)
        r = result_of(p)["result"]
        assert r["window"] == {"split": "2010-12-31", "mode": "train-until",
                               "value": "2010-12-31"}, r["window"]
        assert "outOfSample" in r and "inSample" in r, sorted(r)
        assert r["outOfSample"]["first_date"] > "2010-12-31", r["outOfSample"]
        assert r["inSample"]["last_date"] <= "2010-12-31", r["inSample"]
        p = env.run("--no-daemon", "deploy", "-s", "mean-reversion", "--symbol", "SPY",
                    "--validate", "0.25", "--folds", "3", "--json", "--no-learning", check=0)
        r = result_of(p)["result"]
        assert len(r["outOfSample"]["folds"]) == 3, r["outOfSample"]
        # refusals: nothing queued, nothing stored
        before = env.sql("SELECT count(*) FROM trajectories")[0][0]
        for args, want in ((["--train-until", "2010-13-45"], b"not a date"),
                           (["--folds", "3"], b"--folds needs"),
                           (["--train-until", "2010-01-01", "--validate", "0.2"], b"not both")):
            p = env.run("--no-daemon", "deploy", "-s", "momentum", *args, check=2)
            assert want in p.stderr, (args, p.stderr)
        p = env.run("--no-daemon", "deploy", "-s", "momentum", "--validate", "1.5", check=2)
        assert env.sql("SELECT count(*) FROM trajectories")[0][0] == before
        # through a daemon: the same window travels with the launch
        daemon = subprocess.Popen(env.cmd("serve", "--no-learning"), env=env.env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while env.run("status", "--json").stdout.find(b'"pid"') < 0:
            assert time.monotonic() < deadline, "the daemon did not start"
            time.sleep(0.1)
        p = env.run("deploy", "-s", "momentum", "--symbol", "SPY", "--validate", "0.3",
                    "--json", check=0)
        r = result_of(p)["result"]
        assert "outOfSample" in r and "inSample" in r, sorted(r)
        p = env.run("deploy", "-s", "momentum", "--train-until", "nope", check=2)
        assert b"not a date" in p.stderr, p.stderr
        daemon.terminate()
        daemon.wait(30)
        daemon = None
        # the learner's saved index (plaintext) goes when the store is encrypted
        env.run("--no-daemon", "suggest", "-s", "momentum", check=0)
        assert os.path.exists(env.db + "-learn"), os.listdir(env.dir)
        e = dict(env.env, SWARMDECK_NEW_KEY="correct horse battery staple")
        p = subprocess.run(env.cmd("rekey"), env=e, capture_output=True)
        assert p.returncode == 0, p.stderr
        assert not os.path.exists(env.db + "-learn"), "a plaintext index beside an encrypted store"
        print("PASS window in process and through the daemon; index gone on encryption")
        return 0
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(30)
        env.close()


if __name__ == "__main__":
    sys.exit(main())
