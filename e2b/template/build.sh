#!/bin/sh
# Build the swarmdeck runner template with E2B's own CLI (`e2b`, from npm @e2b/cli; log in
# first with `e2b auth login`). docs/e2b.md says how to use it.
#
#   e2b/template/build.sh [BUILD_DIR] [TEMPLATE_NAME]     (defaults: build, swarmdeck-runner)
#
# It stages the runner of BUILD_DIR with runner.json, the manifest swarmdeck checks before it
# skips an upload: {"version": <swarmdeck's version>, "files": {"swarmdeck-runner":
# {"sha3-512": <digest>}}}. A runner rebuilt from other sources has another digest, so it is
# uploaded as before until the template is rebuilt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
name=${2:-swarmdeck-runner}
runner=$build/swarmdeck-runner

[ -x "$runner" ] || { echo "build.sh: no runner at $runner (run make build first)" >&2; exit 2; }
# E2B sandboxes are x86_64: refuse a runner built for another machine (ELF e_machine 0x3e).
[ "$(od -An -tx1 -j18 -N2 "$runner" | tr -d ' \n')" = "3e00" ] ||
    { echo "build.sh: $runner is not an x86_64 program; E2B sandboxes run x86_64" >&2; exit 2; }
command -v e2b >/dev/null || { echo "build.sh: the E2B CLI (e2b) is not installed" >&2; exit 2; }
version=$(sed -n 's/^project(swarmdeck VERSION \([0-9.]*\).*/\1/p' "$here/../../CMakeLists.txt")
digest=$(openssl dgst -sha3-512 -r "$runner" | cut -d' ' -f1)

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$here/e2b.Dockerfile" "$ctx/e2b.Dockerfile"
cp "$runner" "$ctx/swarmdeck-runner"
printf '{"version": "%s", "files": {"swarmdeck-runner": {"sha3-512": "%s"}}}\n' \
    "$version" "$digest" >"$ctx/runner.json"
cd "$ctx"
e2b template create "$name" -d e2b.Dockerfile --cpu-count 2 --memory-mb 512
echo "built template $name: set \"template\": \"$name\" in e2b.json (docs/e2b.md)"
