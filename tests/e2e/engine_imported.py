#!/usr/bin/env python3
"""engine_imported: deployments on imported bars.

Imports data/SPX.csv under a new symbol, deploys momentum on it with 6 agents
running at once, and checks every deployment succeeded with stdout byte-equal
to the runner run directly on the same file (each sandbox got a whole, private
copy of the exported bars), and that no temporary export is left behind.
usage: engine_imported.py BUILD_DIR SOURCE_DIR
"""
import glob
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

build, src = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="imported-e2e-")
os.chmod(tmp, 0o711)  # a runtime dir the sandboxes can traverse
env = dict(os.environ, SWARMDECK_DB=os.path.join(tmp, "s.db"), XDG_RUNTIME_DIR=tmp)
sd = os.path.join(build, "swarmdeck")
try:
    subprocess.run([sd, "data", "import", os.path.join(src, "data", "SPX.csv"), "--symbol", "MINE"],
                   env=env, check=True, capture_output=True)
    p = subprocess.run([sd, "deploy", "-s", "momentum", "-a", "6", "--max-agents", "6",
                        "--symbol", "MINE", "--no-learning", "--json"],
                       env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    res = json.loads(p.stdout)
    assert p.returncode == 0 and all(r["success"] for r in res), p.stdout + p.stderr

    # The reference: the runner on the export of the same bars, run directly.
    db = sqlite3.connect(env["SWARMDECK_DB"])
    params = db.execute("SELECT params FROM trajectories LIMIT 1").fetchone()[0]
    ref_dir = os.path.join(tmp, "ref")
    os.mkdir(ref_dir)
    with open(os.path.join(ref_dir, "data.csv"), "w") as f:
        f.write("# imported into the swarmdeck store as MINE\ndate,open,high,low,close,volume\n")
        for row in db.execute("SELECT date, open, high, low, close, volume FROM bars "
                              "WHERE symbol = 'MINE' ORDER BY date"):
            f.write(row[0] + "".join("," + ("" if v is None else "%.17g" % v) for v in row[1:]) + "\n")
    want = subprocess.run([os.path.join(build, "swarmdeck-runner"), "run", "--strategy", "momentum",
                           "--data", "data.csv", "--params", params],
                          cwd=ref_dir, capture_output=True, check=True).stdout
    for (tid,) in db.execute("SELECT id FROM trajectories"):
        # Through `logs`: the stored rows may be compressed (store_zstd.h).
        got = subprocess.run([sd, "logs", str(tid), "--stream", "stdout", "--raw"], env=env,
                             capture_output=True, check=True).stdout
        assert got == want, "trajectory %d: stdout differs from the direct run" % tid
    left = glob.glob(os.path.join(tmp, "swarmdeck", "*imported*"))
    assert not left, "temporary exports left behind: %s" % left
    print("1 passed, 0 failed")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
