#!/bin/sh
# console_idle.sh BUILD_DIR [SECONDS]: CPU time and terminal bytes of an idle
# console (own tmux server, fresh store; attached to the daemon it starts, as
# `swarmdeck` is), read from /proc/PID/stat and pipe-pane. Prints one line.
set -eu
BIN=$1
SECS=${2:-10}
T=$(mktemp -d)
chmod 711 "$T"
S=bench$$
# The console starts the store's daemon on demand: stop it too.
trap 'tmux -L $S kill-server 2>/dev/null || true
      P=$(cat "$T/s.db.serve.lock" 2>/dev/null || true)
      [ -n "$P" ] && kill "$P" 2>/dev/null || true
      rm -rf "$T"' EXIT
tmux -L $S -f /dev/null new-session -d -x 120 -y 40 \
  "exec env SWARMDECK_DB=$T/s.db XDG_RUNTIME_DIR=$T XDG_STATE_HOME=$T/state TERM=tmux-256color LC_ALL=C.UTF-8 $BIN/swarmdeck console --no-anim"
i=0
until tmux -L $S capture-pane -p | grep -q 'isolation: [a-z]* |' && \
      ! tmux -L $S capture-pane -p | grep -q 'isolation: probing'; do
  i=$((i + 1)); [ $i -lt 200 ] || { echo "console did not start"; exit 1; }
  sleep 0.05
done
PID=$(tmux -L $S display-message -p '#{pane_pid}')
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' /proc/$PID/stat; }
tmux -L $S pipe-pane -o "cat >> $T/pipe.bin"
A=$(ticks)
sleep "$SECS"
B=$(ticks)
tmux -L $S pipe-pane
BYTES=$(wc -c < "$T/pipe.bin" 2>/dev/null || echo 0)
HZ=$(getconf CLK_TCK)
echo "idle console, $SECS s: $((B - A)) clock ticks of CPU (1 tick = $((1000 / HZ)) ms), $BYTES bytes to the terminal"
