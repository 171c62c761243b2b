/*
 * cmd-history.c: list recent trajectories.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>

#include "cli.h"
#include "query.h"

static const struct cli_opt opts[] = {
    {"limit", 'n', "N", "how many, newest first (default 20)"},
    {"strategy", 's', "NAME", "only this strategy"},
    {"status", 0, "STATE", "only this state (succeeded, failed, timeout, ...)"},
    {"run", 'r', "RUN", "only the deployments of this run (a launch: see `swarmdeck status`)"},
    {"json", 0, NULL, "print as JSON"},
    {NULL, 0, NULL, NULL},
};

struct history_out {
    json_t *arr; /* --json: the rows; else NULL and they are printed */
};

static int history_row(const struct store_history_row *r, void *arg)
{
    struct history_out *o = arg;
    char when[32], ret[32], sh[32], d[32], run[24];

    if (o->arr != NULL) {
        json_array_append_new(
            o->arr,
            json_pack("{s:I, s:o, s:I, s:s, s:s?, s:s, s:o, s:o, s:f, s:s?, s:s, s:b, s:s?}", "id",
                      (json_int_t)r->id, "runId",
                      r->run_id > 0 ? json_integer(r->run_id) : json_null(), "createdAt",
                      (json_int_t)r->created_at, "strategyName", r->strategy, "symbol", r->symbol,
                      "status", r->status, "totalReturn",
                      r->has_return ? json_real(r->total_return) : json_null(), "sharpe",
                      r->has_sharpe ? json_real(r->sharpe) : json_null(), "duration",
                      r->duration_ms, "error", r->error, "provider", r->provider, "synthetic",
                      r->synthetic, "description", r->description));
        return 0;
    }
    cli_fmt_time(r->created_at, when, sizeof when);
    if (r->run_id > 0)
        snprintf(run, sizeof run, "%lld", (long long)r->run_id);
    else
        snprintf(run, sizeof run, "-");
    cli_fmt_pct(r->has_return ? r->total_return : NAN, ret, sizeof ret);
    if (r->has_sharpe)
        snprintf(sh, sizeof sh, "%.2f", r->sharpe);
    else
        snprintf(sh, sizeof sh, "-");
    cli_fmt_duration(r->has_duration ? r->duration_ms : -1, d, sizeof d);
    cli_printf("%-7lld %-5s %-19s %-16s %-5s%s %-11s %9s %7s %9s  %s\n", (long long)r->id, run,
               when, r->strategy, r->symbol ? r->symbol : "-", r->synthetic ? "*" : " ", r->status,
               ret, sh, d, r->description ? r->description : "");
    return 0;
}

static int exec_history(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_history;
    const struct cli_cmd *me = &cmd_history;
    struct store_history_filter f = {cli_val(me, a, "strategy"), cli_val(me, a, "status"), 0, 0};
    const char *state = f.status, *v;
    struct history_out o = {NULL};
    struct sd_err err = {0};
    sqlite3 *db;
    long run = 0;
    int status;

    if (cli_parse_long("limit", cli_val_def(me, a, "limit"), 1, 1000000, &f.limit))
        return 2;
    if ((v = cli_val(me, a, "run")) != NULL && cli_parse_long("run", v, 1, 1L << 62, &run))
        return 2;
    f.run = run;
    if (state != NULL && traj_state_from_name(state) < 0)
        return cli_fail(SD_EUSAGE, "unknown state \"%s\"", state);
    if ((status = cli_open_store(ctx, 1)) != 0)
        return status;
    if ((db = store_reader(ctx->store, &err)) == NULL)
        return cli_fail_err(&err);
    if (cli_flag(me, a, "json"))
        o.arr = json_array();
    else
        cli_printf("%-7s %-5s %-19s %-16s %-6s %-11s %9s %7s %9s  %s\n", "ID", "RUN",
                   "CREATED (UTC)", "STRATEGY", "SYMBOL", "STATE", "RETURN", "SHARPE", "DURATION",
                   "DESCRIPTION");
    status = store_traj_history(db, &f, history_row, &o, &err);
    sqlite3_close_v2(db);
    if (status != 0) {
        json_decref(o.arr);
        return cli_fail_err(&err);
    }
    if (o.arr != NULL)
        cli_print_json(o.arr);
    return 0;
}

const struct cli_cmd cmd_history = {
    .name = "history",
    .usage = "[-n N] [-s STRATEGY] [--status STATE] [-r RUN] [--json]",
    .summary = "list recent deployments (trajectories), newest first",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec_history,
};
