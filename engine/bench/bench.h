/*
 * bench.h: the benchmark's metrics: percentiles, aggregation, thresholds,
 * regression comparison and recommendations (issue 7, docs/benchmark.md).
 *
 * DESIGN
 * The JavaScript original counted failed runs as successes, never checked its
 * error-rate threshold and timed a whole swarm as one latency. Here the unit
 * of measurement is one deployment: its latency runs from the request
 * (just before coord_submit) to the moment the caller sees its terminal
 * state, whatever that state is. Every deployment has exactly one outcome:
 * succeeded, failed (the strategy ran and did not succeed), timeout,
 * providerError (the sandbox could not be created, loaded or started, so the
 * program never ran) or cancelled. Only `succeeded` counts as a success.
 *
 * Everything here is pure: it turns samples into a JSON aggregate, and
 * aggregates into threshold verdicts, comparisons and recommendations.
 * scenario.h makes the plan, run.h measures and the writers (report.h)
 * render the JSON, so the five report files can never disagree with each
 * other; cli/cmd-benchmark.c only parses options and prints.
 *
 * Percentiles use ONE method everywhere, linear interpolation between closest
 * ranks (Hyndman & Fan type 7: R's default quantile, numpy's default,
 * Excel's PERCENTILE.INC): over the n sorted values x[0..n-1], h = (n-1)p and
 * P(p) = x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]). The median
 * is P(0.5).
 *
 * THREADS
 * Any thread; no shared state.
 */
#ifndef SD_BENCH_H
#define SD_BENCH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum bench_outcome {
    BENCH_SUCCEEDED,
    BENCH_FAILED,
    BENCH_TIMEOUT,
    BENCH_PROVIDER_ERROR,
    BENCH_CANCELLED,
    BENCH_OUTCOMES
};

/* JSON names: succeeded, failed, timeout, providerError, cancelled. */
const char *bench_outcome_name(int outcome);

/* The outcome of a deployment that ended in traj_state (traj.h) and did
 * (ran = 1) or did not (ran = 0) get its program running: a failure before
 * the program ran is a provider error. */
int bench_outcome_of(int traj_state, int ran);

/* Timed operations, in deployment order (coord.h). */
enum bench_op {
    BENCH_OP_SUGGEST,
    BENCH_OP_CREATE,
    BENCH_OP_UPLOAD,
    BENCH_OP_START,
    BENCH_OP_STREAM,
    BENCH_OP_COLLECT,
    BENCH_OP_DESTROY,
    BENCH_OPS
};
const char *bench_op_name(int op);
int bench_op_from_name(const char *name); /* -1 when unknown */

/* One measured deployment. op_ms sums every attempt of an operation (a
 * retried create counts twice); op_seen marks the operations it reached. */
struct bench_sample {
    int64_t traj_id;
    const char *strategy; /* borrowed */
    double latency_ms;
    int outcome;
    double op_ms[BENCH_OPS];
    unsigned char op_seen[BENCH_OPS];
};

/* P(p) of sorted[0..n) by the method above, p in [0, 1]. NaN when n is 0. */
double bench_percentile(const double *sorted, size_t n, double p);

struct bench_stats {
    size_t count;
    double avg, min, max, median, p95, p99; /* NaN when count is 0 */
};

/* Stats of v[0..n) (any order; v is not changed). Returns 0, or -1 when
 * memory ran out (out is then all NaN with count 0). */
int bench_stats_of(const double *v, size_t n, struct bench_stats *out);

/* The number at a dotted path of o ("latency.p95"); NaN when a step is
 * missing or the value is not a number. */
double bench_get(const json_t *o, const char *path);

/* What one scenario was. */
struct bench_scenario {
    const char *name;
    int agents, iterations;
};

/* The aggregate of one scenario's samples s[0..n) measured over wall_ms:
 *   {name, agents, iterations, deployments, wallMs, throughput, successRate,
 *    errorRate, counts:{outcome: n}, errorRates:{outcome except succeeded: r},
 *    latency:{count, avg, min, max, median, p95, p99},
 *    histogram:{lo, width, counts:[20 bins]},
 *    operations:{op: {count, totalMs, avgMs, share}},
 *    byStrategy:{name: {deployments, throughput, successRate, errorRate,
 *                       counts, errorRates, latency, operations}}}
 * throughput = deployments / (wall_ms / 1000); rates are shares of n;
 * operations' avgMs is per deployment that reached the operation and share
 * is its part of the summed operation time. New reference, or NULL when
 * memory ran out. */
json_t *bench_aggregate(const struct bench_scenario *sc, const struct bench_sample *s, size_t n,
                        double wall_ms);

/* The original's thresholds (and defaults). */
struct bench_thresholds {
    double max_latency_ms;   /* p95 latency must not exceed it (5000) */
    double min_throughput;   /* deployments per second, at least (10) */
    double max_error_rate;   /* at most (0.05) */
    double min_success_rate; /* at least (0.95) */
};
void bench_thresholds_default(struct bench_thresholds *t);

/* Check every threshold against one aggregate. Returns a new array of
 *   {threshold, metric, limit, value, passed}
 * one per threshold, in the order above, and adds the number missed to
 * *missed. A metric that is not a number (no deployments) misses. */
json_t *bench_check(const json_t *agg, const struct bench_thresholds *t, int *missed);

/* Compare an aggregate with the same scenario's previous one (both shaped
 * as bench_aggregate or bench_summary makes them). Latency (avg, median,
 * p95) regresses when it grows by more than tolerance (relative: 0.2 = 20 %);
 * throughput when it falls by more than tolerance; successRate when it falls
 * by more than rate_points (absolute: 0.02 = 2 points). Returns a new
 *   {metrics:[{metric, previous, current, change, regression}], regressions}
 * where change is relative (absolute for successRate). */
json_t *bench_compare(const json_t *prev, const json_t *cur, double tolerance, double rate_points);

/* The part of an aggregate that is kept in the store's runs.summary and
 * compared with later runs: everything but histogram, byStrategy and
 * comparison. New reference. */
json_t *bench_summary(const json_t *agg);

/* Whether prev (a stored summary) and cur (an aggregate) measure the same
 * scenario, so comparing them means something: same name, agents,
 * iterations, strategies and provider asked for ("provider"; a summary
 * without one was local, as runs stored before summaries named it were).
 * A run on E2B is never compared with a local one: their latencies differ
 * by design. */
int bench_same_scenario(const json_t *prev, const json_t *cur);

/* Recommendations computed from the measured numbers: an array of
 *   {area: reliability|latency|throughput|learning, scenario, metric, value,
 *    message}
 * each citing the number that triggered it. scenarios is the array of
 * aggregates (each may carry "maxAgents", and "provider" and "failovers" as
 * run.c adds them), patterns the learner's patterns (learn_patterns) or
 * NULL. New reference. */
json_t *bench_recommend(const json_t *scenarios, const struct bench_thresholds *t,
                        const json_t *patterns);

#endif
