#!/bin/sh
# console_idle.sh BUILD_DIR [SECONDS] [--check]: what an idle console costs (own tmux server,
# fresh store; attached to the daemon it starts, as `swarmdeck` is), once its start-up work is
# done: CPU time (/proc/PID/stat), bytes to the terminal (pipe-pane) and WAKE-UPS, counted per
# thread as the times the kernel ran it (/proc/PID/task/TID/schedstat, third field). Prints one
# line.
#
# A wake-up is a count, not a time: an idle console sleeps in poll and in condition waits until
# a key, a signal or an event comes, so its UI thread and its workers run 0 times over the
# window. The thread that follows the daemon's event stream (sd-events, tui/remote.c) wakes for
# the daemon's bookmark every 15 s (engine/serve/server.c) and for nothing else: client_events
# (engine/client/client.c) sleeps in curl_multi_poll with no tick (client_set_tick 0) until a
# byte comes or remote_stop wakes it.
#
# --check (the CTest test console_idle_wakeups): exit 1 unless every thread but sd-events woke
# 0 times, sd-events at most SD_IDLE_EVENTS_MAX times (default: the bookmarks the window can
# hold plus two for the window's edges), and 0 bytes went to the terminal.
set -eu
BIN=$1
SECS=${2:-10}
CHECK=${3:-}
T=$(mktemp -d)
chmod 711 "$T"
S=bench$$
# The console starts the store's daemon on demand: stop it too.
trap 'tmux -L $S kill-server 2>/dev/null || true
      P=$(cat "$T/s.db.serve.lock" 2>/dev/null || true)
      [ -n "$P" ] && kill "$P" 2>/dev/null || true
      rm -rf "$T"' EXIT
tmux -L $S -f /dev/null new-session -d -x 120 -y 40 \
  "exec env SWARMDECK_DB=$T/s.db XDG_RUNTIME_DIR=$T XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config TERM=tmux-256color LC_ALL=C.UTF-8 $BIN/swarmdeck console --no-anim"
i=0
until tmux -L $S capture-pane -p | grep -q 'isolation: [a-z]* |' && \
      ! tmux -L $S capture-pane -p | grep -q 'isolation: probing'; do
  i=$((i + 1)); [ $i -lt 600 ] || { echo "console did not start"; exit 1; }
  sleep 0.05
done
PID=$(tmux -L $S display-message -p '#{pane_pid}')
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' /proc/$PID/stat; }
# "NAME COUNT" per thread: the times each was run.
runs() {
  for t in /proc/$PID/task/*; do
    printf '%s %s\n' "$(cat "$t/comm")" "$(awk '{ print $3 }' "$t/schedstat")"
  done
}
# Start-up work done (the first history read, learning snapshot, chain check and the daemon's
# first events): no thread but sd-events ran during the last second. A deadline, not a delay.
others() { runs | awk '$1 != "sd-events" { n += $2 } END { print n + 0 }'; }
i=0
B0=$(others)
while :; do
  sleep 1
  B1=$(others)
  [ "$B1" = "$B0" ] && break
  B0=$B1
  i=$((i + 1)); [ $i -lt 60 ] || { echo "console did not settle in 60 s"; exit 1; }
done
tmux -L $S pipe-pane -o "cat >> $T/pipe.bin"
runs > "$T/runs.0"
A=$(ticks)
sleep "$SECS"
B=$(ticks)
runs > "$T/runs.1"
tmux -L $S pipe-pane
BYTES=$(wc -c < "$T/pipe.bin" 2>/dev/null || echo 0)
HZ=$(getconf CLK_TCK)
# Wake-ups over the window: the events thread's, and every other thread's.
WAKE=$(paste -d ' ' "$T/runs.0" "$T/runs.1" | awk '
  { d = $4 - $2; if ($1 == "sd-events") ev += d; else { other += d; if (d) who = who " " $1 "+" d } }
  END { printf "%d %d%s\n", ev, other, who }')
EV=${WAKE%% *}
REST=${WAKE#* }
OTHER=${REST%% *}
echo "idle console, $SECS s: $((B - A)) clock ticks of CPU (1 tick = $((1000 / HZ)) ms), $BYTES bytes to the terminal, wake-ups: event stream $EV, every other thread $OTHER${REST#"$OTHER"}"
if [ "$CHECK" = "--check" ]; then
  MAX=${SD_IDLE_EVENTS_MAX:-$((SECS / 15 + 2))}
  [ "$OTHER" -eq 0 ] || { echo "FAIL: threads other than the event stream woke $OTHER times"; exit 1; }
  [ "$EV" -le "$MAX" ] || { echo "FAIL: the event stream thread woke $EV times (at most $MAX)"; exit 1; }
  [ "$BYTES" -eq 0 ] || { echo "FAIL: $BYTES bytes to the terminal"; exit 1; }
  echo "PASS"
fi
