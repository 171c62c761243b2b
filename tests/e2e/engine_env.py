#!/usr/bin/env python3
"""engine_env: a sandbox sees a clean environment, never the caller's secrets.

Deploys tests/fixtures/envdump (a shell script that prints `env`) with
secret-looking variables in swarmdeck's own environment, then checks the
captured output holds none of them and exactly the documented variables.
usage: engine_env.py BUILD_DIR SOURCE_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

build, src = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="env-e2e-")
secret = "s3cr3t-value-%d" % os.getpid()
env = dict(os.environ, SWARMDECK_DB=os.path.join(tmp, "s.db"), E2B_API_KEY="e2b_" + secret,
           MY_TOKEN=secret, XDG_RUNTIME_DIR=tmp)
env.pop("SWARMDECK_KEY", None)
sd = os.path.join(build, "swarmdeck")
try:
    shutil.copytree(os.path.join(src, "tests", "fixtures", "envdump"), os.path.join(tmp, "fx"))
    subprocess.run([sd, "strategies", "add", os.path.join(tmp, "fx", "manifest.json")], env=env,
                   check=True, capture_output=True)
    p = subprocess.run([sd, "deploy", "-s", "envdump", "--json"], env=env, capture_output=True,
                       text=True, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    out = subprocess.run([sd, "logs", "1"], env=env, capture_output=True, text=True).stdout
    names = sorted(l.split("=", 1)[0] for l in out.splitlines() if "=" in l and not l.startswith("@@"))
    assert secret not in out, "a secret reached the sandbox:\n" + out
    assert names == ["HOME", "LANG", "PATH", "PWD", "PYTHONUNBUFFERED", "TZ"], names
    print("1 passed, 0 failed")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
