/*
 * cmd-benchmark.c: measure deployments scenario by scenario and write reports.
 *
 * A scenario is `agents` x `iterations`: each iteration launches `agents`
 * deployments at once and waits for all of them. Deployment k of a scenario
 * (k = iteration * agents + agent) runs strategy strategies[k mod n] on the
 * strategy's default symbols (or the scenario's) round robin, with the
 * scenario's params and, for agent i, agentParams[i] over them. Every
 * deployment is timed on its own, from just before coord_submit to the
 * moment this loop sees its terminal state (coord_view); per-operation
 * times come from the store's operations table afterwards.
 *
 * Everything is validated before anything runs. The run is stored in the
 * runs table (kind 'benchmark', summary = the per-scenario summary), and
 * each scenario is compared with the last stored run of the same scenario
 * (same name, agents, iterations, strategies and provider asked for; each
 * scenario also records where its deployments ran). Metrics, thresholds,
 * comparison and recommendations are engine/bench.c's; the files are
 * engine/report.c's. docs/benchmark.md describes it for operators.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "learn.h"
#include "report.h"

static const struct cli_opt opts[] = {
    {"scenario", 's', "NAME", "run one scenario (default: all built-in, or all of --file)"},
    {"file", 'f', "FILE", "custom scenarios (JSON, see docs/benchmark.md)"},
    {"strategies", 0, "A,B", "strategies to deploy (default: every built-in)"},
    {"output", 'o', "DIR", "where the reports go (default ./benchmark-results)"},
    {"max-latency", 0, "MS", "threshold: p95 latency at most MS (default 5000)"},
    {"min-throughput", 0, "N", "threshold: at least N deployments per second (default 10)"},
    {"max-error-rate", 0, "R", "threshold: error rate at most R (default 0.05)"},
    {"min-success-rate", 0, "R", "threshold: success rate at least R (default 0.95)"},
    {"tolerance", 0, "PCT", "regression tolerance for latency and throughput (default 20)"},
    CLI_DEPLOY_OPTS,
    {NULL, 0, NULL, NULL},
};

#define MAX_SCENARIOS 64
#define RATE_POINTS   0.02 /* success-rate regression tolerance, absolute */

static const struct {
    const char *name;
    int agents, iterations;
} builtins[] = {
    {"light-load", 1, 10}, {"medium-load", 5, 20}, {"heavy-load", 10, 30},
    {"stress", 20, 50},    {"burst-load", 50, 10},
};

struct scen {
    char name[64];
    int agents, iterations;
    json_t *strategies;   /* array of names (owned) */
    json_t *params;       /* object or NULL (owned) */
    json_t *agent_params; /* array of objects or NULL (owned) */
    json_t *symbols;      /* array of strings or NULL (owned) */
    int64_t timeout_ms;   /* 0 = the coordinator's */
};

struct bench {
    struct scen sc[MAX_SCENARIOS];
    size_t nsc;
    struct bench_thresholds th;
    double tolerance;
    const char *provider;
    int progress; /* draw a progress bar on stderr */
    size_t total, done;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void scen_clear(struct scen *s)
{
    json_decref(s->strategies);
    json_decref(s->params);
    json_decref(s->agent_params);
    json_decref(s->symbols);
    memset(s, 0, sizeof *s);
}

/* --- scenarios ------------------------------------------------------------- */

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 48)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return 0;
    return 1;
}

static int is_builtin(const char *name)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return 1;
    return 0;
}

static int int_in(json_t *v, long lo, long hi)
{
    return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

/* Thresholds from a JSON object (custom file). */
static int file_thresholds(const char *file, json_t *t, struct bench_thresholds *th)
{
    const char *key;
    json_t *v;

    if (!json_is_object(t))
        return cli_fail(SD_EUSAGE, "%s: \"thresholds\" must be an object", file);
    json_object_foreach(t, key, v)
    {
        double *dst = strcmp(key, "maxLatencyMs") == 0     ? &th->max_latency_ms
                      : strcmp(key, "minThroughput") == 0  ? &th->min_throughput
                      : strcmp(key, "maxErrorRate") == 0   ? &th->max_error_rate
                      : strcmp(key, "minSuccessRate") == 0 ? &th->min_success_rate
                                                           : NULL;
        if (dst == NULL)
            return cli_fail(SD_EUSAGE,
                            "%s: unknown threshold \"%s\" (maxLatencyMs, minThroughput, "
                            "maxErrorRate, minSuccessRate)",
                            file, key);
        if (!json_is_number(v) || json_number_value(v) < 0 ||
            (strstr(key, "Rate") && json_number_value(v) > 1))
            return cli_fail(SD_EUSAGE, "%s: threshold %s must be a number >= 0%s", file, key,
                            strstr(key, "Rate") ? " and <= 1" : "");
        *dst = json_number_value(v);
    }
    return 0;
}

/* One custom scenario object into s. Returns 0 or an exit status. */
static int file_scenario(const char *file, size_t i, json_t *e, struct scen *s)
{
    static const char *const keys[] = {"name",    "agents",      "iterations", "strategies",
                                       "params",  "agentParams", "symbol",     "symbols",
                                       "timeout", NULL};
    const char *key, *name = json_string_value(json_object_get(e, "name"));
    json_t *v;

    if (!json_is_object(e))
        return cli_fail(SD_EUSAGE, "%s: scenario %zu must be an object", file, i);
    json_object_foreach(e, key, v)
    {
        size_t k = 0;
        while (keys[k] && strcmp(keys[k], key) != 0)
            k++;
        if (keys[k] == NULL)
            return cli_fail(SD_EUSAGE, "%s: scenario %zu: unknown key \"%s\"", file, i, key);
    }
    if (name == NULL || !name_ok(name))
        return cli_fail(SD_EUSAGE,
                        "%s: scenario %zu needs a \"name\" of 1-48 letters, digits, '-', '_' "
                        "or '.'",
                        file, i);
    if (is_builtin(name))
        return cli_fail(SD_EUSAGE, "%s: scenario \"%s\" is a built-in scenario; pick another name",
                        file, name);
    snprintf(s->name, sizeof s->name, "%s", name);
    if (!int_in(json_object_get(e, "agents"), 1, 1000) ||
        !int_in(json_object_get(e, "iterations"), 1, 100000))
        return cli_fail(SD_EUSAGE,
                        "%s: scenario %s needs \"agents\" (1-1000) and \"iterations\" (1-100000)",
                        file, name);
    s->agents = (int)json_integer_value(json_object_get(e, "agents"));
    s->iterations = (int)json_integer_value(json_object_get(e, "iterations"));
    if ((long)s->agents * s->iterations > 1000000)
        return cli_fail(SD_EUSAGE,
                        "%s: scenario %s: at most 1000000 deployments (agents x "
                        "iterations)",
                        file, name);
    if ((v = json_object_get(e, "strategies")) != NULL) {
        size_t k;
        json_t *x;
        if (!json_is_array(v) || json_array_size(v) == 0)
            return cli_fail(SD_EUSAGE, "%s: scenario %s: \"strategies\" must be a non-empty array",
                            file, name);
        json_array_foreach(v, k, x)
        {
            if (!json_is_string(x))
                return cli_fail(SD_EUSAGE, "%s: scenario %s: strategies must be strings", file,
                                name);
        }
        s->strategies = json_incref(v);
    }
    if ((v = json_object_get(e, "params")) != NULL) {
        if (!json_is_object(v))
            return cli_fail(SD_EUSAGE, "%s: scenario %s: \"params\" must be an object", file, name);
        s->params = json_incref(v);
    }
    if ((v = json_object_get(e, "agentParams")) != NULL) {
        size_t k;
        json_t *x;
        if (!json_is_array(v) || json_array_size(v) > (size_t)s->agents)
            return cli_fail(SD_EUSAGE,
                            "%s: scenario %s: \"agentParams\" must be an array of at most "
                            "\"agents\" objects",
                            file, name);
        json_array_foreach(v, k, x)
        {
            if (!json_is_object(x))
                return cli_fail(SD_EUSAGE, "%s: scenario %s: agentParams[%zu] must be an object",
                                file, name, k);
        }
        s->agent_params = json_incref(v);
    }
    if ((v = json_object_get(e, "symbol")) != NULL) {
        if (!json_is_string(v) || !catalog_symbol_ok(json_string_value(v)))
            return cli_fail(SD_EUSAGE, "%s: scenario %s: bad \"symbol\"", file, name);
        s->symbols = json_pack("[O]", v);
    }
    if ((v = json_object_get(e, "symbols")) != NULL) {
        size_t k;
        json_t *x;
        if (s->symbols != NULL || !json_is_array(v) || json_array_size(v) == 0)
            return cli_fail(SD_EUSAGE,
                            "%s: scenario %s: give \"symbol\" or a non-empty \"symbols\" array",
                            file, name);
        json_array_foreach(v, k, x)
        {
            if (!json_is_string(x) || !catalog_symbol_ok(json_string_value(x)))
                return cli_fail(SD_EUSAGE, "%s: scenario %s: bad symbol in \"symbols\"", file,
                                name);
        }
        s->symbols = json_incref(v);
    }
    if ((v = json_object_get(e, "timeout")) != NULL) {
        if (!json_is_number(v) || json_number_value(v) < 0.001 || json_number_value(v) > 86400)
            return cli_fail(SD_EUSAGE, "%s: scenario %s: \"timeout\" must be 0.001-86400 seconds",
                            file, name);
        s->timeout_ms = (int64_t)(json_number_value(v) * 1000);
    }
    return 0;
}

/* Load the custom scenario file into b (after the built-ins). */
static int load_file(const char *file, struct bench *b, size_t *first)
{
    json_error_t je;
    json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &je), *list, *e;
    size_t i;
    int st = 0;

    if (root == NULL)
        return cli_fail(SD_EUSAGE, "%s:%d:%d: %s", file, je.line, je.column, je.text);
    list = json_is_array(root) ? root : json_object_get(root, "scenarios");
    if (json_is_object(root)) {
        const char *key;
        json_t *v;
        json_object_foreach(root, key, v)
        {
            if (strcmp(key, "scenarios") != 0 && strcmp(key, "thresholds") != 0) {
                st = cli_fail(SD_EUSAGE, "%s: unknown key \"%s\" (scenarios, thresholds)", file,
                              key);
                goto out;
            }
        }
        if (json_object_get(root, "thresholds") &&
            (st = file_thresholds(file, json_object_get(root, "thresholds"), &b->th)) != 0)
            goto out;
    }
    if (!json_is_array(list) || json_array_size(list) == 0) {
        st = cli_fail(SD_EUSAGE, "%s: expected a non-empty array of scenarios", file);
        goto out;
    }
    *first = b->nsc;
    json_array_foreach(list, i, e)
    {
        if (b->nsc >= MAX_SCENARIOS) {
            st = cli_fail(SD_EUSAGE, "%s: at most %d scenarios", file, MAX_SCENARIOS);
            goto out;
        }
        if ((st = file_scenario(file, i, e, &b->sc[b->nsc])) != 0) {
            scen_clear(&b->sc[b->nsc]);
            goto out;
        }
        for (size_t k = 0; k < b->nsc; k++)
            if (strcmp(b->sc[k].name, b->sc[b->nsc].name) == 0) {
                st = cli_fail(SD_EUSAGE, "%s: scenario \"%s\" appears twice", file, b->sc[k].name);
                scen_clear(&b->sc[b->nsc]);
                goto out;
            }
        b->nsc++;
    }
out:
    json_decref(root);
    return st;
}

/* --- running --------------------------------------------------------------- */

static void draw_progress(struct bench *b, const struct scen *s, int it, uint64_t t0)
{
    int width = 30, fill = b->total ? (int)(width * b->done / b->total) : 0;
    if (!b->progress)
        return;
    fprintf(stderr, "\r\033[K[%.*s%.*s] %zu/%zu  %s iteration %d/%d  %.1f s", fill,
            "##############################", width - fill, "..............................",
            b->done, b->total, s->name, it + 1, s->iterations, (double)(sd_mono_ns() - t0) / 1e9);
    fflush(stderr);
}

/* The parameters of agent a in s (new reference). */
static json_t *agent_params(const struct scen *s, int a)
{
    json_t *p = s->params ? json_deep_copy(s->params) : json_object();
    json_t *over = json_array_get(s->agent_params, (size_t)a);
    if (over != NULL)
        json_object_update(p, over);
    return p;
}

/* The request for deployment k (agent a) of s; params is borrowed. */
static struct deploy_req req_of(struct coord *c, const struct bench *b, const struct scen *s,
                                size_t k, json_t *params, int64_t run)
{
    const char *strat =
        json_string_value(json_array_get(s->strategies, k % json_array_size(s->strategies)));
    const struct strategy_def *def = catalog_find(coord_catalog(c), strat, NULL);
    json_t *syms = s->symbols ? s->symbols : def ? def->symbols : NULL;
    struct deploy_req r = {
        .strategy = strat,
        .params = params,
        .symbol = syms ? json_string_value(json_array_get(syms, k % json_array_size(syms))) : NULL,
        .description = "benchmark",
        .provider = b->provider,
        .run_id = run,
        .timeout_ms = s->timeout_ms,
    };
    return r;
}

static size_t lcm(size_t a, size_t b)
{
    size_t x = a, y = b;
    while (y != 0) {
        size_t t = x % y;
        x = y;
        y = t;
    }
    return a / x * b;
}

/* Validate every distinct request of every scenario without running any. */
static int precheck(struct coord *c, const struct bench *b)
{
    struct sd_err err = {0};

    for (size_t i = 0; i < b->nsc; i++) {
        const struct scen *s = &b->sc[i];
        size_t na = json_array_size(s->agent_params), ns = json_array_size(s->strategies);
        size_t period = ns ? ns : 1; /* lcm of the strategy count and every symbol list's length */
        size_t total = (size_t)s->agents * (size_t)s->iterations;
        json_t *seen = json_object();

        for (size_t st = 0; st < ns; st++) {
            const struct strategy_def *def = catalog_find(
                coord_catalog(c), json_string_value(json_array_get(s->strategies, st)), &err);
            size_t len;
            if (def == NULL) {
                json_decref(seen);
                return cli_fail(SD_EUSAGE, "scenario %s: %s", s->name, err.msg);
            }
            len = json_array_size(s->symbols ? s->symbols : def->symbols);
            if (len > 0 && period < 100000)
                period = lcm(period, len);
        }
        /* Deployment k is (agent k mod agents, strategy k mod ns, symbol k
         * mod len): the requests repeat every agents x period deployments.
         * Check each distinct (agent params, strategy, symbol) once. */
        for (size_t k = 0; k < total && k < (size_t)s->agents * period; k++) {
            int a = (int)(k % (size_t)s->agents);
            json_t *p = agent_params(s, a);
            struct deploy_req r = req_of(c, b, s, k, p, 0);
            char key[256];
            snprintf(key, sizeof key, "%d|%s|%s", a < (int)na ? a : -1, r.strategy,
                     r.symbol ? r.symbol : "");
            if (json_object_get(seen, key) == NULL) {
                json_object_set_new(seen, key, json_true());
                if (coord_check(c, &r, &err) != 0) {
                    json_decref(p);
                    json_decref(seen);
                    return cli_fail(SD_EUSAGE, "scenario %s, agent %d (%s): %s", s->name, a,
                                    r.strategy, err.msg);
                }
            }
            json_decref(p);
        }
        json_decref(seen);
    }
    return 0;
}

/* Run scenario s; samples get one entry per deployment (strategy names
 * borrowed from s->strategies). Returns 0, or an exit status after printing
 * (a submit failed). *wall_ms is the scenario's wall time. */
static int run_scenario(struct coord *c, struct bench *b, const struct scen *s, int64_t run,
                        struct bench_sample *samples, size_t *n, double *wall_ms)
{
    size_t agents = (size_t)s->agents;
    int64_t *ids = xcalloc(agents, sizeof *ids);
    uint64_t *t0 = xcalloc(agents, sizeof *t0), start = sd_mono_ns(), end = start;
    struct sd_err err = {0};
    struct ev evs[256];
    int status = 0;

    *n = 0;
    for (int it = 0; it < s->iterations && !interrupted; it++) {
        size_t pending = 0, base = *n;
        char *done = xcalloc(agents, 1);

        for (size_t a = 0; a < agents; a++) {
            size_t k = (size_t)it * agents + a;
            json_t *p = agent_params(s, (int)a);
            struct deploy_req r = req_of(c, b, s, k, p, run);
            t0[a] = sd_mono_ns();
            if (coord_submit(c, &r, &ids[a], &err) != 0) {
                json_decref(p);
                status = cli_fail_err(&err);
                coord_cancel_all(c);
                agents = a; /* wait for those already submitted */
                break;
            }
            json_decref(p);
            samples[*n] = (struct bench_sample){.traj_id = ids[a], .strategy = r.strategy};
            (*n)++;
            pending++;
        }
        while (pending > 0) {
            struct pollfd pf = {evq_fd(coord_events(c)), POLLIN, 0};
            if (interrupted)
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
                b->done++;
                samples[base + a].latency_ms = (double)(end - t0[a]) / 1e6;
                /* ran is settled from the operations table later */
                samples[base + a].outcome = v.state;
            }
            draw_progress(b, s, it, start);
        }
        free(done);
        if (status != 0)
            break;
    }
    *wall_ms = (double)(end - start) / 1e6;
    free(ids);
    free(t0);
    return status;
}

/* Fill op times and outcomes (samples hold the traj state in outcome until
 * now) from the operations table. */
static int settle_ops(struct cli_ctx *ctx, struct bench_sample *s, size_t n)
{
    struct sd_err err = {0};
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    unsigned char *ran = xcalloc(n ? n : 1, 1);
    int rc;

    if (store_flush(ctx->store, &err) != 0 || (db = store_reader(ctx->store, &err)) == NULL) {
        free(ran);
        return cli_fail_err(&err);
    }
    rc = sqlite3_prepare_v2(db,
                            "SELECT traj_id, name, duration_ms, ok FROM operations"
                            " WHERE traj_id BETWEEN ?1 AND ?2",
                            -1, &st, NULL);
    if (rc == SQLITE_OK && n > 0) {
        sqlite3_bind_int64(st, 1, s[0].traj_id);
        sqlite3_bind_int64(st, 2, s[n - 1].traj_id);
    }
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        int op = bench_op_from_name((const char *)sqlite3_column_text(st, 1));
        size_t lo = 0, hi = n;
        /* samples are in submit order, so their ids ascend */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (s[mid].traj_id < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo >= n || s[lo].traj_id != id || op < 0)
            continue;
        s[lo].op_ms[op] += sqlite3_column_double(st, 2);
        s[lo].op_seen[op] = 1;
        if (op == BENCH_OP_STREAM && sqlite3_column_int(st, 3))
            ran[lo] = 1;
    }
    if (rc != SQLITE_OK)
        fprintf(stderr, "swarmdeck: cannot read operation times: %s\n", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    for (size_t i = 0; i < n; i++)
        s[i].outcome = bench_outcome_of(s[i].outcome, ran[i]);
    free(ran);
    return rc == SQLITE_OK ? 0 : cli_fail(SD_EENV, "store: cannot read operations");
}

/* Where scenario deployments s[0..n) of run ran: agg gets "provider" (the
 * one asked for), "providers" ({name: deployments}, from the trajectories)
 * and "failovers" (deployments that moved to --failover because every
 * instance of the asked provider had an open breaker). Returns 0, or an
 * exit status after printing. */
static int placement(struct cli_ctx *ctx, json_t *agg, const char *want, int64_t run,
                     const struct bench_sample *s, size_t n)
{
    struct sd_err err = {0};
    sqlite3 *db = store_reader(ctx->store, &err);
    sqlite3_stmt *st = NULL;
    json_t *by = json_object();
    json_int_t moved = 0;
    int rc;

    if (db == NULL) {
        json_decref(by);
        return cli_fail_err(&err);
    }
    rc = sqlite3_prepare_v2(db,
                            "SELECT t.provider, count(*), sum(EXISTS(SELECT 1 FROM operations o"
                            " WHERE o.traj_id = t.id AND o.name = 'failover'))"
                            " FROM trajectories t WHERE t.run_id = ?1 AND t.id BETWEEN ?2 AND ?3"
                            " GROUP BY t.provider ORDER BY t.provider",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int64(st, 2, n > 0 ? s[0].traj_id : 1);
        sqlite3_bind_int64(st, 3, n > 0 ? s[n - 1].traj_id : 0);
    }
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        json_object_set_new(by, name ? name : "", json_integer(sqlite3_column_int64(st, 1)));
        moved += sqlite3_column_int64(st, 2);
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_OK)
        fprintf(stderr, "swarmdeck: cannot read where deployments ran: %s\n", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    json_object_set_new(agg, "provider", json_string(want ? want : "local"));
    json_object_set_new(agg, "providers", by);
    json_object_set_new(agg, "failovers", json_integer(moved));
    return rc == SQLITE_DONE || rc == SQLITE_OK ? 0
                                                : cli_fail(SD_EENV, "store: cannot read providers");
}

/* The provider a stored scenario summary asked for; runs stored before
 * summaries named one were local. */
static const char *summary_provider(const json_t *x)
{
    const char *p = json_string_value(json_object_get(x, "provider"));
    return p ? p : "local";
}

/* The newest earlier stored summary of the same scenario on the same
 * provider (new reference, with "runId" added) or NULL. A run on E2B is
 * never compared with a local one: their latencies differ by design. */
static json_t *previous(struct cli_ctx *ctx, int64_t run, const json_t *agg)
{
    struct sd_err err = {0};
    sqlite3 *db = store_reader(ctx->store, &err);
    sqlite3_stmt *st = NULL;
    json_t *found = NULL;

    if (db == NULL)
        return NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, summary FROM runs WHERE kind = 'benchmark' AND id < ?1"
                           " AND summary IS NOT NULL ORDER BY id DESC",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, run);
        while (found == NULL && sqlite3_step(st) == SQLITE_ROW) {
            json_t *sum = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL), *x;
            size_t i;
            json_array_foreach(json_object_get(sum, "scenarios"), i, x)
            {
                static const char *const same[] = {"name", "agents", "iterations", "strategies"};
                int eq = 1;
                for (size_t k = 0; k < 4; k++)
                    eq = eq && json_equal(json_object_get(x, same[k]),
                                          json_object_get((json_t *)agg, same[k]));
                eq = eq && strcmp(summary_provider(x), summary_provider(agg)) == 0;
                if (eq && found == NULL) {
                    found = json_incref(x);
                    json_object_set_new(found, "runId", json_integer(sqlite3_column_int64(st, 0)));
                }
            }
            json_decref(sum);
        }
    }
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    return found;
}

/* --- the command ----------------------------------------------------------- */

static int parse_opts(const struct cli_cmd *me, struct cli_args *a, struct bench *b,
                      const char **only)
{
    const char *v, *file = cli_val(me, a, "file");
    size_t first = 0, keep = 0;
    double d;
    struct {
        const char *opt;
        double *dst, lo, hi;
    } th[] = {
        {"max-latency", &b->th.max_latency_ms, 0, 1e9},
        {"min-throughput", &b->th.min_throughput, 0, 1e9},
        {"max-error-rate", &b->th.max_error_rate, 0, 1},
        {"min-success-rate", &b->th.min_success_rate, 0, 1},
    };
    int st;

    bench_thresholds_default(&b->th);
    b->tolerance = 0.2;
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        struct scen *s = &b->sc[b->nsc++];
        snprintf(s->name, sizeof s->name, "%s", builtins[i].name);
        s->agents = builtins[i].agents;
        s->iterations = builtins[i].iterations;
    }
    if (file != NULL && (st = load_file(file, b, &first)) != 0)
        return st;
    /* Command-line thresholds override the file's. */
    for (size_t i = 0; i < sizeof th / sizeof th[0]; i++)
        if ((v = cli_val(me, a, th[i].opt)) != NULL &&
            cli_parse_double(th[i].opt, v, th[i].lo, th[i].hi, th[i].dst))
            return 2;
    if ((v = cli_val(me, a, "tolerance")) != NULL) {
        if (cli_parse_double("tolerance", v, 0, 1000, &d))
            return 2;
        b->tolerance = d / 100;
    }
    *only = cli_val(me, a, "scenario");
    /* Keep the chosen scenarios: -s NAME, else the file's, else the built-ins. */
    for (size_t i = 0; i < b->nsc; i++) {
        int want = *only ? strcmp(b->sc[i].name, *only) == 0
                         : (file ? i >= first : i < sizeof builtins / sizeof builtins[0]);
        if (want)
            b->sc[keep++] = b->sc[i];
        else
            scen_clear(&b->sc[i]);
    }
    for (size_t i = keep; i < b->nsc; i++)
        memset(&b->sc[i], 0, sizeof b->sc[i]);
    b->nsc = keep;
    if (keep == 0) {
        char names[512] = "";
        for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     builtins[i].name);
        return cli_fail(SD_EUSAGE, "unknown scenario \"%s\" (built-in: %s%s)", *only, names,
                        file ? "; or one of the file's" : "");
    }
    return 0;
}

/* Give every scenario without its own list the run's strategies. */
static int set_strategies(struct coord *c, const char *list, struct bench *b, json_t **all)
{
    json_t *names = json_array();

    if (list != NULL) {
        char *dup = xstrdup(list), *save = NULL;
        for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (*t)
                json_array_append_new(names, json_string(t));
        free(dup);
        if (json_array_size(names) == 0) {
            json_decref(names);
            return cli_fail(SD_EUSAGE, "--strategies needs a comma-separated list of names");
        }
    } else {
        for (size_t i = 0; i < catalog_count(coord_catalog(c)); i++)
            if (catalog_at(coord_catalog(c), i)->builtin)
                json_array_append_new(names, json_string(catalog_at(coord_catalog(c), i)->name));
    }
    for (size_t i = 0; i < b->nsc; i++)
        if (b->sc[i].strategies == NULL)
            b->sc[i].strategies = json_incref(names);
    *all = names;
    return 0;
}

static json_t *spec_json(const struct bench *b, const struct coord_opts *o)
{
    json_t *spec = json_object(), *arr = json_array();
    for (size_t i = 0; i < b->nsc; i++) {
        const struct scen *s = &b->sc[i];
        json_t *x = json_pack("{s:s, s:i, s:i, s:O}", "name", s->name, "agents", s->agents,
                              "iterations", s->iterations, "strategies", s->strategies);
        if (s->params)
            json_object_set(x, "params", s->params);
        if (s->agent_params)
            json_object_set(x, "agentParams", s->agent_params);
        if (s->symbols)
            json_object_set(x, "symbols", s->symbols);
        if (s->timeout_ms)
            json_object_set_new(x, "timeoutMs", json_integer(s->timeout_ms));
        json_array_append_new(arr, x);
    }
    json_object_set_new(spec, "scenarios", arr);
    json_object_set_new(spec, "maxAgents", json_integer(o->max_agents));
    json_object_set_new(spec, "provider", json_string(b->provider ? b->provider : "local"));
    return spec;
}

static json_t *thresholds_json(const struct bench_thresholds *t)
{
    return json_pack("{s:f, s:f, s:f, s:f}", "maxLatencyMs", t->max_latency_ms, "minThroughput",
                     t->min_throughput, "maxErrorRate", t->max_error_rate, "minSuccessRate",
                     t->min_success_rate);
}

static void iso_time(int64_t ms, char *buf, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int exec_benchmark(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_benchmark;
    const struct cli_cmd *me = &cmd_benchmark;
    const char *dir = cli_val(me, a, "output"), *only = NULL;
    int json = cli_flag(me, a, "json"), status, missed_n = 0, regressions = 0;
    struct bench *b = xcalloc(1, sizeof *b);
    struct coord_opts o;
    struct coord *c = NULL;
    struct sd_err err = {0};
    struct sigaction sa, old_int, old_term;
    json_t *strategies = NULL, *report = NULL, *scen_out = NULL, *summary = NULL, *missed = NULL;
    json_t *stats = NULL, *patterns = NULL;
    struct bench_sample *samples = NULL;
    int64_t run = 0, started = sd_now_ms();
    char ts[32], when[32];
    size_t maxn = 0;

    if (dir == NULL)
        dir = "./benchmark-results";
    if ((status = parse_opts(me, a, b, &only)) != 0)
        goto out;
    if ((status = cli_coord_opts(me, a, &o)) != 0)
        goto out;
    b->provider = cli_val(me, a, "provider");
    if (cli_val(me, a, "max-agents") == NULL) {
        /* An iteration launches all its agents at once: give it the workers. */
        o.max_agents = 1;
        for (size_t i = 0; i < b->nsc; i++)
            if (b->sc[i].agents > o.max_agents)
                o.max_agents = b->sc[i].agents;
    }
    if ((c = cli_coord(ctx, &o, &status)) == NULL)
        goto out;
    if ((status = set_strategies(c, cli_val(me, a, "strategies"), b, &strategies)) != 0 ||
        (status = precheck(c, b)) != 0)
        goto out;
    for (size_t i = 0; i < b->nsc; i++) {
        size_t n = (size_t)b->sc[i].agents * (size_t)b->sc[i].iterations;
        b->total += n;
        if (n > maxn)
            maxn = n;
    }
    {
        json_t *spec = spec_json(b, &o);
        char *s = json_dumps(spec, JSON_COMPACT);
        run = run_begin(ctx->store, "benchmark", s, &err);
        free(s);
        json_decref(spec);
        if (run <= 0) {
            status = cli_fail_err(&err);
            goto out;
        }
    }
    b->progress = isatty(2) && !json;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll returns at once */
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    samples = xcalloc(maxn, sizeof *samples);
    scen_out = json_array();
    missed = json_array();
    for (size_t i = 0; i < b->nsc && !interrupted; i++) {
        const struct scen *s = &b->sc[i];
        struct bench_scenario bs = {s->name, s->agents, s->iterations};
        size_t n = 0;
        double wall = 0;
        json_t *agg, *prev, *checks, *t;
        int sc_missed = 0;
        size_t k;

        status = run_scenario(c, b, s, run, samples, &n, &wall);
        if (status == 0)
            status = settle_ops(ctx, samples, n);
        if (status != 0)
            break;
        if ((agg = bench_aggregate(&bs, samples, n, wall)) == NULL) {
            status = cli_fail(SD_EENV, "out of memory");
            break;
        }
        if ((status = placement(ctx, agg, b->provider, run, samples, n)) != 0) {
            json_decref(agg);
            break;
        }
        json_object_set(agg, "strategies", s->strategies);
        json_object_set_new(agg, "maxAgents", json_integer(o.max_agents));
        checks = bench_check(agg, &b->th, &sc_missed);
        json_array_foreach(checks, k, t)
        {
            char msg[300];
            if (json_is_true(json_object_get(t, "passed")))
                continue;
            snprintf(msg, sizeof msg, "%s: %s (%s %.4g, limit %g)", s->name,
                     json_string_value(json_object_get(t, "threshold")),
                     json_string_value(json_object_get(t, "metric")), bench_get(t, "value"),
                     bench_get(t, "limit"));
            json_array_append_new(missed, json_string(msg));
        }
        missed_n += sc_missed;
        json_object_set_new(agg, "thresholds", checks);
        json_object_set_new(agg, "passed", json_boolean(sc_missed == 0));
        if ((prev = previous(ctx, run, agg)) != NULL) {
            json_t *cmp = bench_compare(prev, agg, b->tolerance, RATE_POINTS);
            json_object_set(cmp, "previousRunId", json_object_get(prev, "runId"));
            json_object_set_new(cmp, "tolerance", json_real(b->tolerance));
            json_object_set_new(cmp, "ratePoints", json_real(RATE_POINTS));
            regressions += (int)bench_get(cmp, "regressions");
            json_object_set_new(agg, "comparison", cmp);
            json_decref(prev);
        } else {
            json_object_set_new(agg, "comparison", json_null());
        }
        json_array_append_new(scen_out, agg);
    }
    if (b->progress)
        fputs("\r\033[K", stderr);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (status != 0) {
        run_end(ctx->store, run, "failed", NULL);
        goto out;
    }

    if (coord_learn(c) != NULL) {
        stats = learn_stats(coord_learn(c), NULL, &err);
        patterns = learn_patterns(coord_learn(c), NULL, NULL, &err);
        while (patterns && json_array_size(patterns) > 20)
            json_array_remove(patterns, json_array_size(patterns) - 1);
    }

    report = json_object();
    iso_time(started, when, sizeof when);
    json_object_set_new(report, "tool", json_string("swarmdeck benchmark"));
    json_object_set_new(report, "runId", json_integer(run));
    json_object_set_new(report, "timestamp", json_string(when));
    json_object_set_new(report, "startedAt", json_integer(started));
    json_object_set_new(report, "endedAt", json_integer(sd_now_ms()));
    json_object_set_new(report, "provider", json_string(b->provider ? b->provider : "local"));
    json_object_set_new(report, "maxAgents", json_integer(o.max_agents));
    json_object_set_new(report, "timeoutMs", json_integer(o.timeout_ms));
    json_object_set_new(report, "strategies", json_incref(strategies));
    json_object_set_new(
        report, "latencyDefinition",
        json_string("per deployment, from just before the request (coord_submit) to the moment "
                    "its terminal state was observed, whatever that state; milliseconds"));
    json_object_set_new(report, "percentileMethod",
                        json_string("linear interpolation between closest ranks (R-7, numpy "
                                    "default, Excel PERCENTILE.INC); median = p50"));
    json_object_set_new(report, "thresholds", thresholds_json(&b->th));
    json_object_set_new(
        report, "tolerance",
        json_pack("{s:f, s:f}", "relative", b->tolerance, "successRatePoints", RATE_POINTS));
    json_object_set_new(report, "scenarios", scen_out);
    json_object_set_new(report, "passed",
                        json_boolean(json_array_size(missed) == 0 && !interrupted));
    json_object_set_new(report, "interrupted", json_boolean(interrupted));
    json_object_set_new(report, "missed", missed);
    json_object_set_new(report, "regressions", json_integer(regressions));
    json_object_set_new(report, "recommendations", bench_recommend(scen_out, &b->th, patterns));
    json_object_set_new(report, "learning",
                        json_pack("{s:b, s:O?, s:O?}", "enabled", coord_learn(c) != NULL, "stats",
                                  stats, "patterns", patterns));
    scen_out = missed = NULL;

    /* Store the run: its summary is what later runs compare with. */
    {
        json_t *arr = json_array(), *x;
        size_t i;
        char *s;
        json_array_foreach(json_object_get(report, "scenarios"), i, x)
            json_array_append_new(arr, bench_summary(x));
        summary = json_pack("{s:b, s:o}", "passed", json_is_true(json_object_get(report, "passed")),
                            "scenarios", arr);
        s = json_dumps(summary, JSON_COMPACT | JSON_REAL_PRECISION(10));
        run_end(ctx->store, run,
                interrupted     ? "cancelled"
                : missed_n == 0 ? "succeeded"
                                : "failed",
                s);
        free(s);
    }
    if (store_flush(ctx->store, &err) != 0) {
        status = cli_fail_err(&err);
        goto out;
    }
    report_stamp(dir, started, ts, sizeof ts);
    if (report_write_all(report, dir, ts, &err) != 0) {
        status = cli_fail_err(&err);
        goto out;
    }
    if (json) {
        cli_print_json(json_incref(report));
    } else {
        report_txt(stdout, report);
        printf("\nreports: %s/benchmark-%s.{json,txt,csv,html} and %s/coordinator-%s.txt\n", dir,
               ts, dir, ts);
    }
    {
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(report, "missed"), i, m)
            fprintf(stderr, "swarmdeck: threshold missed: %s\n", json_string_value(m));
    }
    if (interrupted)
        fprintf(stderr, "swarmdeck: interrupted: the report covers what ran before\n");
    status = json_is_true(json_object_get(report, "passed")) ? 0 : 1;
out:
    coord_free(c);
    if (ctx->store != NULL && store_flush(ctx->store, &err) != 0 && status == 0)
        status = cli_fail_err(&err);
    for (size_t i = 0; i < b->nsc; i++)
        scen_clear(&b->sc[i]);
    free(b);
    free(samples);
    json_decref(strategies);
    json_decref(report);
    json_decref(scen_out);
    json_decref(missed);
    json_decref(summary);
    json_decref(stats);
    json_decref(patterns);
    return status;
}

const struct cli_cmd cmd_benchmark = {
    .name = "benchmark",
    .usage = "[-s SCENARIO] [-f SCENARIOS.json] [--strategies A,B] [-o DIR] [options]",
    .summary = "measure deployments per scenario, check thresholds and write reports",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec_benchmark,
};
