/*
 * pump.h: the daemon's one consumer of the coordinator's events.
 *
 * A thread drains coord_events() (the only consumer while a daemon runs),
 * turns each event into a small JSON object in the event log (evlog.h), and
 * keeps the runs it was told about: when a run's last deployment ends it
 * records the run's end in the store and logs a "run" event with a one-line
 * summary ("run 7: 18 succeeded, 2 failed"), which every attached console
 * shows and the --on-finish hook receives.
 *
 * Event objects (the seq is added by whoever streams them):
 *   {"type":"state","id":N,"state":"running"}
 *   {"type":"progress","id":N,"progress":0.5,"equity":101000.0}
 *   {"type":"output","id":N,"line":SEQ}          newest output line number
 *   {"type":"sample","id":N,"cpuMs":12,"memKb":3400}
 *   {"type":"run","run":R,"status":"failed","succeeded":18,"failed":2,
 *    "cancelled":0,"summary":"run 7: 18 succeeded, 2 failed"}
 *   {"type":"relist"}   the engine's queue overflowed: re-read the state
 *   {"type":"learning","learning":SNAPSHOT}   the learner changed (pump_learning):
 *        at most one a second, and the last change always sent
 *
 * Thread safety: pump_run_add from any thread; the rest from the owner.
 */
#ifndef SD_PUMP_H
#define SD_PUMP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "coord.h"
#include "evlog.h"
#include "learn.h"

struct pump;

/* Called (on the pump thread) with the run's summary JSON after its end is
 * recorded; may be NULL. */
typedef void (*pump_finish_fn)(const char *summary_json, void *arg);

/* Called (on the pump thread) with the JSON text of every "state" and
 * "providers" event as it is logged, terminal = 1 for a deployment's last
 * state: the fleet's live subject and its outbox wake-up (fleet.h). */
typedef void (*pump_tap_fn)(const char *json, int terminal, void *arg);

/* Start the pump over c, logging into l; tap (may be NULL) gets the state
 * and breaker events. NULL with err set on failure. */
struct pump *pump_start(struct coord *c, struct evlog *l, pump_finish_fn on_finish, void *arg,
                        pump_tap_fn tap, void *tap_arg, struct sd_err *err);

/* Drain what the coordinator has queued (ending runs whose last deployment
 * ended), then stop and join the thread; frees. */
void pump_stop(struct pump *p); /* accepts NULL */

/* Track run `run` made of the deployments whose ids are the JSON array ids
 * (borrowed; launch_submit's). Deployments that already ended are counted
 * at once, so no ending is missed or counted twice however the pump and
 * this call interleave. Returns 0, or -1 when out of memory. */
int pump_run_add(struct pump *p, int64_t run, json_t *ids);

/* Runs still in progress. */
size_t pump_runs_open(struct pump *p);

/* Is run one this pump tracks whose end is not yet committed to the store?
 * (Only then will it log the run's "run" event, after that commit.) A run
 * reads as open until the store has its end, never neither. */
int pump_run_open(struct pump *p, int64_t run);

/* The learner's compact snapshot (new reference), or NULL when l is NULL or
 * out of memory: {totalTrajectories, succeeded, successRatio, rewardMean,
 * strategies:[{name, n, successRatio, rewardMean}]} (rates null without
 * data; strategies with no learned run left out). In memory: learn_stats,
 * no SQLite. Any thread. */
json_t *pump_learning(struct learn *l);

#endif
