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
    {"json", 0, NULL, "print as JSON"},
    {NULL, 0, NULL, NULL},
};

struct history_out {
    json_t *arr; /* --json: the rows; else NULL and they are printed */
};

static int history_row(const struct store_history_row *r, void *arg)
{
    struct history_out *o = arg;
    char when[32], ret[32], sh[32], d[32];

    if (o->arr != NULL) {
        json_array_append_new(
            o->arr,
            json_pack("{s:I, s:I, s:s, s:s?, s:s, s:o, s:o, s:f, s:s?, s:s, s:b}", "id",
                      (json_int_t)r->id, "createdAt", (json_int_t)r->created_at, "strategyName",
                      r->strategy, "symbol", r->symbol, "status", r->status, "totalReturn",
                      r->has_return ? json_real(r->total_return) : json_null(), "sharpe",
                      r->has_sharpe ? json_real(r->sharpe) : json_null(), "duration",
                      r->duration_ms, "error", r->error, "provider", r->provider, "synthetic",
                      r->synthetic));
        return 0;
    }
    cli_fmt_time(r->created_at, when, sizeof when);
    cli_fmt_pct(r->has_return ? r->total_return : NAN, ret, sizeof ret);
    if (r->has_sharpe)
        snprintf(sh, sizeof sh, "%.2f", r->sharpe);
    else
        snprintf(sh, sizeof sh, "-");
    cli_fmt_duration(r->has_duration ? r->duration_ms : -1, d, sizeof d);
    cli_printf("%-7lld %-19s %-16s %-5s%s %-11s %9s %7s %9s\n", (long long)r->id, when, r->strategy,
               r->symbol ? r->symbol : "-", r->synthetic ? "*" : " ", r->status, ret, sh, d);
    return 0;
}

static int exec_history(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_history;
    const struct cli_cmd *me = &cmd_history;
    const char *strategy = cli_val(me, a, "strategy"), *state = cli_val(me, a, "status");
    struct history_out o = {NULL};
    struct sd_err err = {0};
    sqlite3 *db;
    long limit;
    int status;

    if (cli_parse_long("limit", cli_val_def(me, a, "limit"), 1, 1000000, &limit))
        return 2;
    if (state != NULL && traj_state_from_name(state) < 0)
        return cli_fail(SD_EUSAGE, "unknown state \"%s\"", state);
    if ((status = cli_open_store(ctx, 1)) != 0)
        return status;
    if ((db = store_reader(ctx->store, &err)) == NULL)
        return cli_fail_err(&err);
    if (cli_flag(me, a, "json"))
        o.arr = json_array();
    else
        cli_printf("%-7s %-19s %-16s %-6s %-11s %9s %7s %9s\n", "ID", "CREATED (UTC)", "STRATEGY",
                   "SYMBOL", "STATE", "RETURN", "SHARPE", "DURATION");
    status = store_traj_history(db, strategy, state, limit, history_row, &o, &err);
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
    .usage = "[-n N] [-s STRATEGY] [--status STATE] [--json]",
    .summary = "list recent deployments (trajectories), newest first",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec_history,
};
