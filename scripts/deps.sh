#!/bin/sh
# Install the Debian packages swarmdeck needs to build, run and test.
# As root it runs apt-get; otherwise it prints the one command to run and fails.
# With --test it also installs what only the tests need (make test passes it; make run not).
set -eu
PKGS="build-essential cmake pkg-config libncurses-dev libcurl4-openssl-dev libjansson-dev
libsqlite3-dev libssl-dev libseccomp-dev libmicrohttpd-dev libzstd-dev libnats-dev python3 tmux bubblewrap clang"
# chromium: renders the benchmark's HTML report headless (tests/e2e/benchmark_e2e.py);
# screen: the console under GNU screen (tests/e2e/console_e2e.py);
# libclang-rt-14-dev: libFuzzer for the fuzz harnesses (tests/fuzz/);
# prometheus: scrapes the daemon and checks its metrics and alert rules (tests/e2e/metrics_e2e.py);
# openssh-server, openssh-client: remote attach over ssh on loopback (tests/e2e/remote_e2e.py);
# nats-server: the fleet's JetStream server, started by the fleet tests on loopback.
TEST_PKGS="chromium screen libclang-rt-14-dev prometheus openssh-server openssh-client python3-optuna nats-server"
[ "${1:-}" = "--test" ] && PKGS="$PKGS $TEST_PKGS"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "swarmdeck: missing packages:$missing" >&2
    echo "run: sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "swarmdeck: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing >/dev/null
