/*
 * cmd-benchmark.c: measure deployments scenario by scenario and write reports.
 *
 * The command turns its options into a plan (engine/bench/scenario.h: the
 * scenarios, thresholds and tolerance, all validated before anything runs),
 * starts a coordinator with a worker for every agent of the largest
 * scenario unless --max-agents says otherwise, runs the plan
 * (engine/bench/run.h: measuring, storing, comparing and the report files)
 * and prints the report. What is left here is the terminal's part: the
 * progress bar on stderr, SIGINT/SIGTERM as the way to stop the deployments,
 * and the exit status (0 every threshold met, 1 one missed or interrupted,
 * 2 bad input, 3 the environment or store). docs/benchmark.md describes it
 * for operators.
 *
 * With a daemon serving the store the benchmark runs as the daemon's child
 * (engine/serve/bgjob.h): the same command, in process there (it must own
 * its engine and options), so losing this terminal does not stop it; this
 * command prints its output as it comes and exits with its status, and
 * Ctrl-C asks the daemon to interrupt it.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "report.h"
#include "run.h"
#include "scenario.h"

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

extern const struct cli_cmd cmd_benchmark;

static volatile sig_atomic_t interrupted;
static void on_signal(int sig);

static int parse_opts(const struct cli_cmd *me, struct cli_args *a, struct bench_plan *p);
static int run_and_report(struct coord *c, const struct bench_plan *p, const json_t *strategies,
                          int64_t started, const char *dir, int json);

/* The options as they were given, for the same command in the daemon. */
static json_t *given_args(const struct cli_cmd *me, const struct cli_args *a)
{
    json_t *args = json_array();
    for (size_t i = 0; me->opts[i].lng != NULL; i++) {
        if (a->values[i] == NULL)
            continue;
        json_array_append_new(args, json_sprintf("--%s", me->opts[i].lng));
        if (me->opts[i].arg != NULL)
            json_array_append_new(args, json_string(a->values[i]));
    }
    for (int i = 0; i < a->argc; i++)
        json_array_append_new(args, json_string(a->argv[i]));
    return args;
}

/* Run the benchmark as the daemon's job and follow its output. Returns its
 * exit status. */
static int in_daemon(struct client *cl, const struct cli_cmd *me, const struct cli_args *a)
{
    char cwd[4096], path[96];
    struct sd_err err = {0};
    json_t *body, *out = NULL;
    int64_t job;
    uint64_t off = 0;
    int asked = 0, status = -1;

    if (getcwd(cwd, sizeof cwd) == NULL)
        return cli_fail(SD_EENV, "cannot tell the current directory");
    body =
        json_pack("{s:s, s:o, s:s}", "command", "benchmark", "args", given_args(me, a), "cwd", cwd);
    if (client_do(cl, "POST", "/jobs", body, &out, &err) != 0) {
        json_decref(body);
        return cli_fail_err(&err);
    }
    json_decref(body);
    job = json_integer_value(json_object_get(out, "job"));
    json_decref(out);
    fprintf(stderr,
            "benchmark: running in the daemon (job %lld): closing this terminal does not stop "
            "it, Ctrl-C does\n",
            (long long)job);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (status < 0) {
        json_t *o = NULL;
        const char *text;
        size_t len;
        if (interrupted && !asked) {
            snprintf(path, sizeof path, "/jobs/%lld/interrupt", (long long)job);
            client_do(cl, "POST", path, NULL, &out, &err); /* it may have just ended */
            json_decref(out);
            out = NULL;
            asked = 1;
        }
        snprintf(path, sizeof path, "/jobs/%lld/log?from=%llu", (long long)job,
                 (unsigned long long)off);
        if (client_do(cl, "GET", path, NULL, &o, &err) != 0)
            return cli_fail(SD_EENV, "benchmark job %lld: %s", (long long)job, err.msg);
        text = json_string_value(json_object_get(o, "text"));
        len = json_string_length(json_object_get(o, "text"));
        if (len > 0) {
            fwrite(text, 1, len, stdout);
            fflush(stdout);
            off += len;
        } else if (json_is_true(json_object_get(o, "ended"))) {
            status = (int)json_integer_value(json_object_get(o, "exitCode"));
        } else {
            usleep(100000); /* a tail -f: the log grows as the benchmark prints */
        }
        json_decref(o);
    }
    return status;
}

static int exec_benchmark(struct cli_ctx *ctx, struct cli_args *a)
{
    const struct cli_cmd *me = &cmd_benchmark;
    const char *dir = cli_val(me, a, "output");
    struct bench_plan *p = xcalloc(1, sizeof *p);
    struct coord_opts o;
    struct coord *c = NULL;
    struct sd_err err = {0};
    json_t *strategies = NULL;
    int64_t started = sd_now_ms();
    int status;

    if ((status = parse_opts(me, a, p)) != 0 || (status = cli_coord_opts(me, a, &o)) != 0)
        goto out;
    {
        struct client *cl = NULL;
        int k = cli_daemon(ctx, 0, NULL, &cl, &status);
        if (k < 0)
            goto out;
        if (k == 1) {
            status = in_daemon(cl, me, a);
            client_close(cl);
            goto out;
        }
    }
    if (cli_val(me, a, "max-agents") == NULL)
        o.max_agents = bench_plan_max_agents(p); /* an iteration's agents run at once */
    if ((c = cli_coord(ctx, &o, &status)) == NULL)
        goto out;
    strategies = bench_plan_strategies(p, coord_catalog(c), cli_val(me, a, "strategies"), &err);
    if (strategies == NULL || bench_plan_check(p, c, &err) != 0) {
        status = cli_fail_err(&err);
        goto out;
    }
    status = run_and_report(c, p, strategies, started, dir ? dir : "./benchmark-results",
                            cli_flag(me, a, "json"));
out:
    coord_free(c);
    if (ctx->store != NULL && store_flush(ctx->store, &err) != 0 && status == 0)
        status = cli_fail_err(&err);
    bench_plan_clear(p);
    free(p);
    json_decref(strategies);
    return status;
}

/* The plan from the options: the built-in scenarios or the file's, the
 * file's thresholds overridden by the command line's, then -s. */
static int parse_opts(const struct cli_cmd *me, struct cli_args *a, struct bench_plan *p)
{
    const char *v, *file = cli_val(me, a, "file");
    struct sd_err err = {0};
    double pct;
    const struct {
        const char *opt;
        double *dst, lo, hi;
    } th[] = {
        {"max-latency", &p->th.max_latency_ms, 0, 1e9},
        {"min-throughput", &p->th.min_throughput, 0, 1e9},
        {"max-error-rate", &p->th.max_error_rate, 0, 1},
        {"min-success-rate", &p->th.min_success_rate, 0, 1},
    };

    bench_plan_init(p);
    if (file != NULL && bench_plan_load(p, file, &err) != 0)
        return cli_fail_err(&err);
    for (size_t i = 0; i < sizeof th / sizeof th[0]; i++)
        if ((v = cli_val(me, a, th[i].opt)) != NULL &&
            cli_parse_double(th[i].opt, v, th[i].lo, th[i].hi, th[i].dst))
            return 2;
    if ((v = cli_val(me, a, "tolerance")) != NULL) {
        if (cli_parse_double("tolerance", v, 0, 1000, &pct))
            return 2;
        p->tolerance = pct / 100;
    }
    p->provider = cli_val(me, a, "provider");
    if (bench_plan_select(p, cli_val(me, a, "scenario"), &err) != 0)
        return cli_fail_err(&err);
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* The progress bar on stderr (a terminal's only). */
static void draw_progress(void *arg, const struct bench_progress *pr)
{
    int width = 30, fill = pr->total ? (int)(width * pr->done / pr->total) : 0;

    (void)arg;
    fprintf(stderr, "\r\033[K[%.*s%.*s] %zu/%zu  %s iteration %d/%d  %.1f s", fill,
            "##############################", width - fill, "..............................",
            pr->done, pr->total, pr->scenario, pr->iteration + 1, pr->iterations, pr->elapsed_s);
    fflush(stderr);
}

/* Print report r (the text summary, or the JSON with --json) and name every
 * missed threshold on stderr. Returns the exit status: 0 when it passed. */
static int print_report(const json_t *r, const char *dir, const char *ts, int json)
{
    size_t i;
    json_t *m;

    if (json) {
        cli_print_json(json_incref((json_t *)r));
    } else {
        report_txt(stdout, r);
        printf("\nreports: %s/benchmark-%s.{json,txt,csv,html} and %s/coordinator-%s.txt\n", dir,
               ts, dir, ts);
    }
    json_array_foreach(json_object_get(r, "missed"), i, m)
        fprintf(stderr, "swarmdeck: threshold missed: %s\n", json_string_value(m));
    if (json_is_true(json_object_get(r, "interrupted")))
        fprintf(stderr, "swarmdeck: interrupted: the report covers what ran before\n");
    return json_is_true(json_object_get(r, "passed")) ? 0 : 1;
}

/* Store, run and report the plan; SIGINT and SIGTERM stop the deployments
 * (the report then covers what ran). Returns the exit status. */
static int run_and_report(struct coord *c, const struct bench_plan *p, const json_t *strategies,
                          int64_t started, const char *dir, int json)
{
    struct bench_run *r;
    int progress = isatty(2) && !json, rc, status;
    struct sigaction sa, old_int, old_term;
    struct sd_err err = {0};
    json_t *report;
    char ts[32];

    if ((r = bench_run_begin(c, p, strategies, started, &err)) == NULL)
        return cli_fail_err(&err);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: the run's poll returns at once */
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = bench_run_scenarios(r, &interrupted, progress ? draw_progress : NULL, NULL, &err);
    if (progress)
        fputs("\r\033[K", stderr);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc != 0 || (report = bench_run_finish(r, dir, ts, sizeof ts, &err)) == NULL) {
        bench_run_free(r);
        return cli_fail_err(&err);
    }
    status = print_report(report, dir, ts, json);
    json_decref(report);
    bench_run_free(r);
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
