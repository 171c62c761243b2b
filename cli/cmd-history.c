/*
 * cmd-history.c: list recent trajectories.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "traj.h"

static const struct cli_opt opts[] = {
    {"limit", 'n', "N", "how many, newest first (default 20)"},
    {"strategy", 's', "NAME", "only this strategy"},
    {"status", 0, "STATE", "only this state (succeeded, failed, timeout, ...)"},
    {"json", 0, NULL, "print as JSON"},
    {NULL, 0, NULL, NULL},
};

static int exec_history(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_history;
    const struct cli_cmd *me = &cmd_history;
    const char *v, *strategy = cli_val(me, a, "strategy"), *state = cli_val(me, a, "status");
    int json = cli_flag(me, a, "json"), status;
    struct sd_err err = {0};
    json_t *arr = json_array();
    sqlite3_stmt *st = NULL;
    sqlite3 *db;
    long limit = 20;

    if ((v = cli_val(me, a, "limit")) != NULL && cli_parse_long("limit", v, 1, 1000000, &limit))
        return 2;
    if (state != NULL && traj_state_from_name(state) < 0)
        return cli_fail(SD_EUSAGE, "unknown state \"%s\"", state);
    if ((status = cli_open_store(ctx, 1)) != 0)
        return status;
    if ((db = store_reader(ctx->store, &err)) == NULL)
        return cli_fail_err(&err);
    sqlite3_prepare_v2(db,
                       "SELECT id, created_at, strategy, symbol, status, "
                       "json_extract(result, '$.total_return'), json_extract(result, '$.sharpe'), "
                       "duration_ms, error, provider, json_extract(result, '$.synthetic') "
                       "FROM trajectories WHERE (?1 IS NULL OR strategy = ?1) AND "
                       "(?2 IS NULL OR status = ?2) ORDER BY id DESC LIMIT ?3",
                       -1, &st, NULL);
    if (strategy)
        sqlite3_bind_text(st, 1, strategy, -1, SQLITE_STATIC);
    if (state)
        sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, limit);
    if (!json)
        printf("%-7s %-19s %-16s %-6s %-11s %9s %7s %9s\n", "ID", "CREATED (UTC)", "STRATEGY",
               "SYMBOL", "STATE", "RETURN", "SHARPE", "DURATION");
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *sym = (const char *)sqlite3_column_text(st, 3);
        int has_ret = sqlite3_column_type(st, 5) != SQLITE_NULL;
        int has_sh = sqlite3_column_type(st, 6) != SQLITE_NULL;
        double ret = sqlite3_column_double(st, 5), sh = sqlite3_column_double(st, 6);
        double dur = sqlite3_column_double(st, 7);
        const char *e = (const char *)sqlite3_column_text(st, 8);
        int synth = sqlite3_column_int(st, 10);
        if (json) {
            json_array_append_new(
                arr, json_pack("{s:I, s:I, s:s, s:s?, s:s, s:o, s:o, s:f, s:s?, s:s, s:b}", "id",
                               (json_int_t)id, "createdAt", (json_int_t)sqlite3_column_int64(st, 1),
                               "strategyName", (const char *)sqlite3_column_text(st, 2), "symbol",
                               sym, "status", (const char *)sqlite3_column_text(st, 4),
                               "totalReturn", has_ret ? json_real(ret) : json_null(), "sharpe",
                               has_sh ? json_real(sh) : json_null(), "duration", dur, "error", e,
                               "provider", (const char *)sqlite3_column_text(st, 9), "synthetic",
                               synth));
        } else {
            char when[32], r[32], s[32], d[32];
            cli_fmt_time(sqlite3_column_int64(st, 1), when, sizeof when);
            cli_fmt_pct(has_ret ? ret : NAN, r, sizeof r);
            if (has_sh)
                snprintf(s, sizeof s, "%.2f", sh);
            else
                snprintf(s, sizeof s, "-");
            cli_fmt_duration(sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : dur, d, sizeof d);
            printf("%-7lld %-19s %-16s %-5s%s %-11s %9s %7s %9s\n", (long long)id, when,
                   (const char *)sqlite3_column_text(st, 2), sym ? sym : "-", synth ? "*" : " ",
                   (const char *)sqlite3_column_text(st, 4), r, s, d);
        }
    }
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    if (json)
        cli_print_json(arr);
    else
        json_decref(arr);
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
