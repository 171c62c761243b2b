/*
 * run.c: a benchmark run (run.h).
 *
 * The loop that measures is a plain poll: submit an iteration's
 * deployments, then wake on the coordinator's event fd (or every 100 ms, to
 * see *stop) and ask coord_view which of them became terminal. Latency is
 * taken at that moment, so it includes everything the user would wait for.
 * A sample keeps the deployment's traj state in `outcome` until the
 * operations table says whether its program ran (a successful `stream`):
 * only then is the outcome known (bench_outcome_of).
 *
 * The store is read once per scenario, after a flush, through a reader
 * connection of its own (query.h, "the benchmark"): samples are in submit
 * order, so their trajectory ids ascend and one id range covers a scenario.
 */
#define _GNU_SOURCE
#include "run.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "learn.h"
#include "query.h"
#include "report.h"

struct bench_run {
    struct coord *c;
    const struct bench_plan *p;
    const json_t *strategies;
    int64_t id, started_ms;
    struct bench_sample *samples; /* room for the largest scenario */
    size_t done, total;           /* deployments ended / of the whole run */
    json_t *scenarios;            /* aggregates of the scenarios that ran */
    json_t *missed;               /* the missed thresholds' messages */
    int missed_n, regressions, interrupted;
};

struct bench_run *bench_run_begin(struct coord *c, const struct bench_plan *p,
                                  const json_t *strategies, int64_t started_ms, struct sd_err *err)
{
    struct bench_run *r = calloc(1, sizeof *r);
    size_t maxn = 0;
    json_t *spec;
    char *txt;

    if (r == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        return NULL;
    }
    r->c = c;
    r->p = p;
    r->strategies = strategies;
    r->started_ms = started_ms;
    for (size_t i = 0; i < p->nsc; i++) {
        size_t n = (size_t)p->sc[i].agents * (size_t)p->sc[i].iterations;
        r->total += n;
        if (n > maxn)
            maxn = n;
    }
    r->samples = calloc(maxn ? maxn : 1, sizeof *r->samples);
    r->scenarios = json_array();
    r->missed = json_array();
    spec = bench_plan_spec(p, coord_options(c)->max_agents);
    txt = json_dumps(spec, JSON_COMPACT);
    json_decref(spec);
    if (r->samples == NULL || r->scenarios == NULL || r->missed == NULL || txt == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        goto fail;
    }
    r->id = run_begin(coord_store(c), "benchmark", txt, err);
    if (r->id <= 0)
        goto fail;
    free(txt);
    return r;
fail:
    free(txt);
    bench_run_free(r);
    return NULL;
}

void bench_run_free(struct bench_run *r)
{
    if (r == NULL)
        return;
    free(r->samples);
    json_decref(r->scenarios);
    json_decref(r->missed);
    free(r);
}

/* --- one scenario ---------------------------------------------------------- */

static int stopped(volatile sig_atomic_t *stop)
{
    return stop != NULL && *stop;
}

/* Run scenario s into r->samples[0..*n); *wall_ms is its wall time, from the
 * first request to the last terminal state. */
static int scen_run(struct bench_run *r, const struct bench_scen *s, volatile sig_atomic_t *stop,
                    bench_progress_fn *progress, void *arg, size_t *n, double *wall_ms,
                    struct sd_err *err)
{
    struct coord *c = r->c;
    size_t agents = (size_t)s->agents;
    int64_t *ids = calloc(agents, sizeof *ids);
    uint64_t *t0 = calloc(agents, sizeof *t0), start = sd_mono_ns(), end = start;
    char *done = calloc(agents, 1);
    struct ev evs[256];
    int rc = 0;

    *n = 0;
    if (ids == NULL || t0 == NULL || done == NULL) {
        rc = sd_err_set(err, SD_ENOMEM, "out of memory");
        goto out;
    }
    for (int it = 0; it < s->iterations && !stopped(stop) && rc == 0; it++) {
        size_t pending = 0, base = *n;

        memset(done, 0, agents);
        for (size_t a = 0; a < agents; a++) {
            json_t *params = bench_scen_params(s, (int)a);
            struct deploy_req q = bench_scen_request(r->p, s, coord_catalog(c),
                                                     (size_t)it * agents + a, params, r->id);
            t0[a] = sd_mono_ns();
            rc = coord_submit(c, &q, &ids[a], err);
            json_decref(params);
            if (rc != 0) {
                coord_cancel_all(c);
                agents = a; /* wait for those already submitted */
                break;
            }
            r->samples[(*n)++] = (struct bench_sample){.traj_id = ids[a], .strategy = q.strategy};
            pending++;
        }
        while (pending > 0) {
            struct pollfd pf = {evq_fd(coord_events(c)), POLLIN, 0};
            if (stopped(stop))
                coord_cancel_all(c);
            poll(&pf, 1, 100);
            evq_drain(coord_events(c), evs, sizeof evs / sizeof *evs);
            for (size_t a = 0; a < agents; a++) {
                struct deploy_view v;
                if (done[a] || coord_view(c, ids[a], &v) != 0 || !traj_state_terminal(v.state))
                    continue;
                end = sd_mono_ns();
                done[a] = 1;
                pending--;
                r->done++;
                r->samples[base + a].latency_ms = (double)(end - t0[a]) / 1e6;
                r->samples[base + a].outcome = v.state; /* settled by scen_ops */
            }
            if (progress != NULL) {
                struct bench_progress pr = {
                    .scenario = s->name,
                    .iteration = it,
                    .iterations = s->iterations,
                    .done = r->done,
                    .total = r->total,
                    .elapsed_s = (double)(sd_mono_ns() - start) / 1e9,
                };
                progress(arg, &pr);
            }
        }
    }
    *wall_ms = (double)(end - start) / 1e6;
out:
    free(ids);
    free(t0);
    free(done);
    return rc;
}

struct ops_acc {
    struct bench_sample *s;
    size_t n;
    unsigned char *ran;
};

/* One operation row into the sample with that trajectory id (binary
 * search: the ids ascend). */
static void ops_row(void *arg, int64_t traj_id, const char *name, double ms, int ok)
{
    struct ops_acc *o = arg;
    int op = bench_op_from_name(name);
    size_t lo = 0, hi = o->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (o->s[mid].traj_id < traj_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= o->n || o->s[lo].traj_id != traj_id || op < 0)
        return;
    o->s[lo].op_ms[op] += ms;
    o->s[lo].op_seen[op] = 1;
    if (op == BENCH_OP_STREAM && ok)
        o->ran[lo] = 1;
}

/* Fill the samples' operation times and settle their outcomes. */
static int scen_ops(struct bench_run *r, sqlite3 *db, size_t n, struct sd_err *err)
{
    struct ops_acc o = {r->samples, n, calloc(n ? n : 1, 1)};
    int rc;

    if (o.ran == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    rc = store_bench_operations(db, n ? r->samples[0].traj_id : 1,
                                n ? r->samples[n - 1].traj_id : 0, ops_row, &o, err);
    for (size_t i = 0; i < n; i++)
        r->samples[i].outcome = bench_outcome_of(r->samples[i].outcome, o.ran[i]);
    free(o.ran);
    return rc;
}

/* agg's "provider" (asked for), "providers" ({name: deployments}) and
 * "failovers" (deployments that moved to --failover). */
static int scen_placement(struct bench_run *r, sqlite3 *db, json_t *agg, size_t n,
                          struct sd_err *err)
{
    int64_t moved = 0;
    json_t *by = store_bench_placement(db, r->id, n ? r->samples[0].traj_id : 1,
                                       n ? r->samples[n - 1].traj_id : 0, &moved, err);

    if (by == NULL)
        return -1;
    json_object_set_new(agg, "provider", json_string(r->p->provider ? r->p->provider : "local"));
    json_object_set_new(agg, "providers", by);
    json_object_set_new(agg, "failovers", json_integer(moved));
    return 0;
}

struct prev_find {
    const json_t *agg;
    json_t *found;
};

/* The first scenario of an earlier run's summary that is agg's scenario. */
static int prev_row(void *arg, int64_t run_id, const json_t *summary)
{
    struct prev_find *f = arg;
    size_t i;
    json_t *x;

    json_array_foreach(json_object_get(summary, "scenarios"), i, x)
    {
        if (bench_same_scenario(x, f->agg)) {
            f->found = json_deep_copy(x);
            json_object_set_new(f->found, "runId", json_integer(run_id));
            return 1;
        }
    }
    return 0;
}

/* agg's "comparison": with the newest earlier run of the same scenario
 * (bench_same_scenario), or null. Comparing is optional: a store that
 * cannot be read means no comparison. */
static void scen_compare(struct bench_run *r, sqlite3 *db, json_t *agg)
{
    struct prev_find f = {agg, NULL};
    json_t *cmp;

    if (store_bench_earlier_runs(db, r->id, prev_row, &f, NULL) != 0 || f.found == NULL) {
        json_decref(f.found);
        json_object_set_new(agg, "comparison", json_null());
        return;
    }
    cmp = bench_compare(f.found, agg, r->p->tolerance, BENCH_RATE_POINTS);
    json_object_set(cmp, "previousRunId", json_object_get(f.found, "runId"));
    json_object_set_new(cmp, "tolerance", json_real(r->p->tolerance));
    json_object_set_new(cmp, "ratePoints", json_real(BENCH_RATE_POINTS));
    r->regressions += (int)bench_get(cmp, "regressions");
    json_object_set_new(agg, "comparison", cmp);
    json_decref(f.found);
}

/* agg's "thresholds" and "passed"; each missed one is named in r->missed. */
static void scen_check_thresholds(struct bench_run *r, const struct bench_scen *s, json_t *agg)
{
    int missed = 0;
    json_t *checks = bench_check(agg, &r->p->th, &missed), *t;
    size_t k;

    json_array_foreach(checks, k, t)
    {
        char msg[300];
        if (json_is_true(json_object_get(t, "passed")))
            continue;
        snprintf(msg, sizeof msg, "%s: %s (%s %.4g, limit %g)", s->name,
                 json_string_value(json_object_get(t, "threshold")),
                 json_string_value(json_object_get(t, "metric")), bench_get(t, "value"),
                 bench_get(t, "limit"));
        json_array_append_new(r->missed, json_string(msg));
    }
    r->missed_n += missed;
    json_object_set_new(agg, "thresholds", checks);
    json_object_set_new(agg, "passed", json_boolean(missed == 0));
}

/* Measure, aggregate, place, check and compare scenario s. */
static int scen_one(struct bench_run *r, const struct bench_scen *s, volatile sig_atomic_t *stop,
                    bench_progress_fn *progress, void *arg, struct sd_err *err)
{
    struct bench_scenario bs = {s->name, s->agents, s->iterations};
    struct store *st = coord_store(r->c);
    sqlite3 *db = NULL;
    json_t *agg = NULL;
    double wall = 0;
    size_t n = 0;
    int rc = -1;

    if (scen_run(r, s, stop, progress, arg, &n, &wall, err) != 0 || store_flush(st, err) != 0 ||
        (db = store_reader(st, err)) == NULL || scen_ops(r, db, n, err) != 0)
        goto out;
    if ((agg = bench_aggregate(&bs, r->samples, n, wall)) == NULL) {
        sd_err_set(err, SD_EENV, "out of memory");
        goto out;
    }
    if (scen_placement(r, db, agg, n, err) != 0)
        goto out;
    json_object_set(agg, "strategies", s->strategies);
    json_object_set_new(agg, "maxAgents", json_integer(coord_options(r->c)->max_agents));
    scen_check_thresholds(r, s, agg);
    scen_compare(r, db, agg);
    json_array_append(r->scenarios, agg);
    rc = 0;
out:
    json_decref(agg);
    sqlite3_close_v2(db);
    return rc;
}

int bench_run_scenarios(struct bench_run *r, volatile sig_atomic_t *stop,
                        bench_progress_fn *progress, void *arg, struct sd_err *err)
{
    for (size_t i = 0; i < r->p->nsc && !stopped(stop); i++)
        if (scen_one(r, &r->p->sc[i], stop, progress, arg, err) != 0) {
            run_end(coord_store(r->c), r->id, "failed", NULL);
            return -1;
        }
    r->interrupted = stopped(stop);
    return 0;
}

/* --- the report ------------------------------------------------------------ */

static void iso_time(int64_t ms, char *buf, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The report's settings: what ran and how it was measured. */
static void report_settings(const struct bench_run *r, json_t *report)
{
    const struct bench_thresholds *t = &r->p->th;
    const struct coord_opts *o = coord_options(r->c);
    char when[32];

    iso_time(r->started_ms, when, sizeof when);
    json_object_set_new(report, "tool", json_string("swarmdeck benchmark"));
    json_object_set_new(report, "runId", json_integer(r->id));
    json_object_set_new(report, "timestamp", json_string(when));
    json_object_set_new(report, "startedAt", json_integer(r->started_ms));
    json_object_set_new(report, "endedAt", json_integer(sd_now_ms()));
    json_object_set_new(report, "provider", json_string(r->p->provider ? r->p->provider : "local"));
    {
        /* Where each instance runs (its region), so a run on E2B says where. */
        struct provider_health h[16];
        size_t np = coord_providers(r->c, h, 16);
        json_t *inst = json_array();
        for (size_t i = 0; i < np; i++)
            json_array_append_new(inst, json_pack("{s:s, s:s, s:s}", "name", h[i].name, "kind",
                                                  h[i].kind, "region", h[i].region));
        json_object_set_new(report, "instances", inst);
    }
    json_object_set_new(report, "maxAgents", json_integer(o->max_agents));
    json_object_set_new(report, "timeoutMs", json_integer(o->timeout_ms));
    json_object_set_new(report, "strategies", json_incref((json_t *)r->strategies));
    json_object_set_new(
        report, "latencyDefinition",
        json_string("per deployment, from just before the request (coord_submit) to the moment "
                    "its terminal state was observed, whatever that state; milliseconds"));
    json_object_set_new(report, "percentileMethod",
                        json_string("linear interpolation between closest ranks (R-7, numpy "
                                    "default, Excel PERCENTILE.INC); median = p50"));
    json_object_set_new(report, "thresholds",
                        json_pack("{s:f, s:f, s:f, s:f}", "maxLatencyMs", t->max_latency_ms,
                                  "minThroughput", t->min_throughput, "maxErrorRate",
                                  t->max_error_rate, "minSuccessRate", t->min_success_rate));
    json_object_set_new(report, "tolerance",
                        json_pack("{s:f, s:f}", "relative", r->p->tolerance, "successRatePoints",
                                  BENCH_RATE_POINTS));
}

/* The JSON report of what ran (new reference). */
static json_t *report_make(struct bench_run *r)
{
    struct learn *l = coord_learn(r->c);
    json_t *report = json_object(), *stats = NULL, *patterns = NULL;
    struct sd_err ignored = {0}; /* no learning figures is not an error */
    int passed = json_array_size(r->missed) == 0 && !r->interrupted;

    if (l != NULL) {
        stats = learn_stats(l, NULL, &ignored);
        patterns = learn_patterns(l, NULL, NULL, &ignored);
        while (patterns && json_array_size(patterns) > 20)
            json_array_remove(patterns, json_array_size(patterns) - 1);
    }
    report_settings(r, report);
    json_object_set(report, "scenarios", r->scenarios);
    json_object_set_new(report, "passed", json_boolean(passed));
    json_object_set_new(report, "interrupted", json_boolean(r->interrupted));
    json_object_set(report, "missed", r->missed);
    json_object_set_new(report, "regressions", json_integer(r->regressions));
    json_object_set_new(report, "recommendations",
                        bench_recommend(r->scenarios, &r->p->th, patterns));
    json_object_set_new(
        report, "learning",
        json_pack("{s:b, s:O?, s:O?}", "enabled", l != NULL, "stats", stats, "patterns", patterns));
    json_decref(stats);
    json_decref(patterns);
    return report;
}

/* Close the run's row: its status, and its summary, which is what later
 * runs compare with. */
static void report_store(struct bench_run *r, const json_t *report)
{
    json_t *arr = json_array(), *x, *summary;
    size_t i;
    char *txt;

    json_array_foreach(r->scenarios, i, x) json_array_append_new(arr, bench_summary(x));
    summary = json_pack("{s:b, s:o}", "passed", json_is_true(json_object_get(report, "passed")),
                        "scenarios", arr);
    txt = json_dumps(summary, JSON_COMPACT | JSON_REAL_PRECISION(10));
    run_end(coord_store(r->c), r->id,
            r->interrupted     ? "cancelled"
            : r->missed_n == 0 ? "succeeded"
                               : "failed",
            txt);
    free(txt);
    json_decref(summary);
}

json_t *bench_run_finish(struct bench_run *r, const char *dir, char *stamp, size_t n,
                         struct sd_err *err)
{
    json_t *report = report_make(r);

    report_store(r, report);
    if (store_flush(coord_store(r->c), err) != 0)
        goto fail;
    report_stamp(dir, r->started_ms, stamp, n);
    if (report_write_all(report, dir, stamp, err) != 0)
        goto fail;
    return report;
fail:
    json_decref(report);
    return NULL;
}
