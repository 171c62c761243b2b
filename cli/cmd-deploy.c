/*
 * cmd-deploy.c: deploy one strategy to one or more agents.
 *
 * `-a N` starts N deployments of the strategy; agent i runs on symbols[i mod
 * len] where symbols is --symbol, else the `symbols` parameter, else the
 * `symbol` parameter, else the strategy's default symbols (SPY, QQQ, IWM for
 * the built-ins, so one agent runs on SPY).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "launch.h"

static const struct cli_opt opts[] = {
    {"strategy", 's', "NAME", "the strategy to deploy (see `swarmdeck strategies`)"},
    {"agents", 'a', "N", "how many deployments (default 1); symbols are spread round robin"},
    {"params", 'p', "JSON", "strategy parameters as a JSON object, e.g. '{\"lookback\":10}'"},
    {"symbol", 0, "SYM", "run every agent on this symbol (default SPY)"},
    {"description", 0, "TEXT", "what this deployment is for (searchable later)"},
    {"pace", 0, "N", "built-ins: replay N bars per second so the run can be watched"},
    {"train-until", 0, "DATE",
     "built-ins: train up to DATE (YYYY-MM-DD), score the rest out of "
     "sample"},
    {"validate", 0, "FRACTION", "built-ins: score the last FRACTION of the bars out of sample"},
    {"folds", 0, "K", "with --train-until or --validate: walk forward over K held-out blocks"},
    {"detach", 0, NULL, "queue on the daemon (started if none runs), print the run id, return"},
    CLI_DEPLOY_OPTS,
    {NULL, 0, NULL, NULL},
};

/* The deploy through the daemon: the learner's view first (as in process),
 * then the launch. */
static int deploy_daemon(struct client *cl, const struct cli_cmd *me, struct cli_args *a,
                         json_t *params, long agents, long pace, const struct deploy_req *win)
{
    json_t *spec = json_pack("{s:s, s:I}", "strategy", cli_val(me, a, "strategy"), "agents",
                             (json_int_t)agents);
    const char *v;
    int json = cli_flag(me, a, "json"), status;

    if (params != NULL)
        json_object_set(spec, "params", params);
    if ((v = cli_val(me, a, "symbol")) != NULL)
        json_object_set_new(spec, "symbol", json_string(v));
    if ((v = cli_val(me, a, "description")) != NULL)
        json_object_set_new(spec, "description", json_string(v));
    if ((v = cli_val(me, a, "provider")) != NULL)
        json_object_set_new(spec, "provider", json_string(v));
    if ((v = cli_val(me, a, "timeout")) != NULL)
        json_object_set_new(spec, "timeoutMs", json_integer(atoll(v) * 1000));
    if (pace > 0)
        json_object_set_new(spec, "pace", json_integer(pace));
    if ((v = cli_val(me, a, "train-until")) != NULL)
        json_object_set_new(spec, "trainUntil", json_string(v));
    if (win->validate > 0)
        json_object_set_new(spec, "validate", json_real(win->validate));
    if (win->folds > 0)
        json_object_set_new(spec, "folds", json_integer(win->folds));
    if (!json) {
        json_t *sugg = NULL;
        struct sd_err err = {0};
        if (client_do(cl, "POST", "/suggest", spec, &sugg, &err) == 0) {
            printf("before launch: ");
            cli_print_suggestion(sugg);
            fflush(stdout);
            json_decref(sugg);
        }
    }
    status = cli_daemon_launch(cl, "deploy", spec, cli_flag(me, a, "detach"), json);
    json_decref(spec);
    return status;
}

static int exec_deploy(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_deploy;
    const struct cli_cmd *me = &cmd_deploy;
    const char *strategy = cli_val(me, a, "strategy"), *pj = cli_val(me, a, "params"), *v;
    struct coord_opts o;
    struct coord *c = NULL;
    struct sd_err err = {0};
    json_t *params = NULL, *syms = NULL;
    const struct strategy_def *def;
    struct deploy_req *reqs = NULL;
    long agents = 1, pace = 0, folds = 0;
    double validate = 0;
    struct deploy_req win = {0}; /* the walk-forward window every agent gets */
    int status = 0;

    if (strategy == NULL)
        return cli_fail(SD_EUSAGE, "deploy needs -s STRATEGY (see `swarmdeck strategies`)");
    if ((v = cli_val(me, a, "agents")) != NULL &&
        cli_parse_long("agents", v, 1, LAUNCH_MAX, &agents))
        return 2;
    if ((v = cli_val(me, a, "pace")) != NULL && cli_parse_long("pace", v, 1, 100000, &pace))
        return 2;
    if ((v = cli_val(me, a, "validate")) != NULL &&
        cli_parse_double("validate", v, 1e-9, 1 - 1e-9, &validate))
        return 2;
    if ((v = cli_val(me, a, "folds")) != NULL && cli_parse_long("folds", v, 2, 50, &folds))
        return 2;
    win.train_until = cli_val(me, a, "train-until");
    win.validate = validate;
    win.folds = (int)folds;
    if (pj != NULL) {
        json_error_t je;
        params = json_loads(pj, JSON_REJECT_DUPLICATES, &je);
        if (params == NULL)
            return cli_fail(SD_EUSAGE, "-p is not valid JSON: %s (column %d)", je.text, je.column);
        if (!json_is_object(params)) {
            json_decref(params);
            return cli_fail(SD_EUSAGE, "-p must be a JSON object, e.g. '{\"lookback\":10}'");
        }
    }
    if ((status = cli_coord_opts(me, a, &o)) != 0)
        goto out;
    if ((v = cli_val(me, a, "symbol")) != NULL && !catalog_symbol_ok(v)) {
        status = cli_fail(SD_EUSAGE, "invalid symbol \"%s\"", v);
        goto out;
    }
    {
        /* A daemon serving this store runs the deployments, so they outlive
         * this process; --detach starts one when none runs. */
        struct client *cl = NULL;
        int k;

        if ((k = cli_daemon_launcher(ctx, me, a, &cl, &status)) < 0)
            goto out;
        if (k == 1) {
            status = deploy_daemon(cl, me, a, params, agents, pace, &win);
            client_close(cl);
            goto out;
        }
    }
    if ((c = cli_coord(ctx, &o, &status)) == NULL)
        goto out;
    if ((def = catalog_find(coord_catalog(c), strategy, &err)) == NULL) {
        status = cli_fail_err(&err);
        goto out;
    }
    if ((syms = catalog_agent_symbols(def, cli_val(me, a, "symbol"), params, &err)) == NULL) {
        status = cli_fail_err(&err);
        goto out;
    }
    /* Validate every agent's request before queueing any: bad input runs
     * nothing and stores nothing. */
    for (long i = 0; i < agents && i < (long)json_array_size(syms); i++) {
        struct deploy_req r = {.strategy = strategy,
                               .params = params,
                               .symbol = json_string_value(json_array_get(syms, (size_t)i)),
                               .train_until = win.train_until,
                               .validate = win.validate,
                               .folds = win.folds};
        if (coord_check(c, &r, &err) != 0) {
            status = cli_fail_err(&err);
            goto out;
        }
    }
    if (coord_learn(c) != NULL && !cli_flag(me, a, "json")) {
        /* The operator sees what the learner expects before anything runs. */
        struct deploy_req r = {.strategy = strategy,
                               .params = params,
                               .symbol = json_string_value(json_array_get(syms, 0))};
        json_t *sugg = coord_suggest(c, &r, &err);
        if (sugg != NULL) {
            printf("before launch: ");
            cli_print_suggestion(sugg);
            if (o.auto_optimize)
                printf("auto-optimize: parameters you did not give will be chosen by the "
                       "learner within their bounds\n");
            fflush(stdout);
            json_decref(sugg);
        }
    }
    reqs = xcalloc((size_t)agents, sizeof *reqs);
    for (long i = 0; i < agents; i++)
        reqs[i] = (struct deploy_req){
            .strategy = strategy,
            .params = params,
            .symbol = json_string_value(json_array_get(syms, (size_t)i % json_array_size(syms))),
            .description = cli_val(me, a, "description"),
            .pace = (int)pace,
            .train_until = win.train_until,
            .validate = win.validate,
            .folds = win.folds,
        };
    status = cli_run_deployments(ctx, c, "deploy", pj ? pj : "{}", reqs, (size_t)agents,
                                 cli_flag(me, a, "json"));
out:
    status = cli_close(ctx, c, status);
    free(reqs);
    json_decref(params);
    json_decref(syms);
    return status;
}

const struct cli_cmd cmd_deploy = {
    .name = "deploy",
    .usage = "-s STRATEGY [-a AGENTS] [-p JSON] [--symbol SYM] [options]",
    .summary = "deploy a strategy into sandboxes and wait for the results",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .flags = CLI_WRITES,
    .exec = exec_deploy,
};
