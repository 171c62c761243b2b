/*
 * run.h: a benchmark run: deploy a plan's scenarios through the coordinator,
 * measure every deployment, store the run and write its reports
 * (docs/benchmark.md; scenario.h makes the plan, bench.h has the metrics,
 * report.h the files).
 *
 * DESIGN
 * A run has three steps, so that the caller decides what happens around the
 * long middle one (a command line catches SIGINT only while deployments run,
 * and draws a progress bar):
 *
 *   bench_run_begin      store the run (runs table, kind 'benchmark', spec =
 *                        the plan as run)
 *   bench_run_scenarios  for each scenario: each iteration submits `agents`
 *                        deployments at once and waits until all of them
 *                        ended; each deployment's latency runs from just
 *                        before coord_submit to the moment its terminal state
 *                        is seen. Then the operation times and outcomes are
 *                        read from the store, the scenario aggregated
 *                        (bench_aggregate), where it ran recorded, thresholds
 *                        checked and the scenario compared with the newest
 *                        earlier stored run of the same scenario (same name,
 *                        agents, iterations, strategies and provider asked
 *                        for; summaries without a provider were local).
 *   bench_run_finish     the JSON report (with the learner's stats, its 20
 *                        best patterns and the recommendations), the run's
 *                        status and summary stored, the five report files.
 *
 * Cancelling: *stop may be set at any time (from a signal handler); the
 * running deployments are cancelled, no further iteration starts, and
 * finish still reports what ran (the run's status is then 'cancelled').
 *
 * Nothing here writes to the terminal: progress goes to the caller's
 * callback, results come back as JSON, errors as struct sd_err.
 *
 * THREADS
 * One thread drives a run; bench_run_scenarios blocks it until the last
 * deployment ended. The coordinator's other users may go on meanwhile, but
 * the run drains the coordinator's event queue (coord_events), so nobody
 * else should wait on it.
 */
#ifndef SD_BENCH_RUN_H
#define SD_BENCH_RUN_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>

#include "coord.h"
#include "scenario.h"

/* Success-rate regression tolerance, absolute (2 percentage points). */
#define BENCH_RATE_POINTS 0.02

/* Where a run is, for a progress display. */
struct bench_progress {
    const char *scenario;      /* its name */
    int iteration, iterations; /* the running one, from 0 */
    size_t done, total;        /* deployments ended / of the whole run */
    double elapsed_s;          /* since the scenario started */
};

/* Called on the run's thread after every round of waiting (at least every
 * 100 ms while deployments run). */
typedef void bench_progress_fn(void *arg, const struct bench_progress *p);

struct bench_run;

/* Store a new run of plan p (borrowed until bench_run_free, as are c and
 * strategies, the run's strategy list for the report) started at
 * started_ms (epoch ms, the report's startedAt). Blocks until the run's row
 * is written. Returns the run, or NULL with err set (nothing stored). */
struct bench_run *bench_run_begin(struct coord *c, const struct bench_plan *p,
                                  const json_t *strategies, int64_t started_ms, struct sd_err *err);

/* Run every scenario of the plan, in order; blocks. stop (may be NULL) is
 * polled; progress (may be NULL) is called with arg. Returns 0 when every
 * scenario ran or *stop was set; or -1 with err set (a deployment could not
 * be submitted, the store could not be read): the deployments already
 * submitted have ended then, the run is stored as failed, and only
 * bench_run_free may follow. */
int bench_run_scenarios(struct bench_run *r, volatile sig_atomic_t *stop,
                        bench_progress_fn *progress, void *arg, struct sd_err *err);

/* Make the JSON report, store the run's status ('succeeded' when every
 * threshold was met, 'failed', or 'cancelled' when stopped) and summary,
 * flush the store, and write the five report files in dir (report.h) under
 * a new stamp, copied to stamp[0..n) (32 bytes suffice). Returns the report
 * (new reference: {runId, passed, interrupted, missed: ["scenario:
 * threshold (metric value, limit L)"], scenarios, recommendations, ...}), or
 * NULL with err set (the store could not be flushed or a file not written;
 * the run's row is already closed then). Call once, after
 * bench_run_scenarios returned 0. */
json_t *bench_run_finish(struct bench_run *r, const char *dir, char *stamp, size_t n,
                         struct sd_err *err);

/* Free r (the run's row stays as stored). Accepts NULL. */
void bench_run_free(struct bench_run *r);

#endif
