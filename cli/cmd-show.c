/*
 * cmd-show.c: one trajectory in full: parameters, result, operations.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "query.h"

static const struct cli_opt opts[] = {
    {"json", 0, NULL, "print as JSON"},
    {NULL, 0, NULL, NULL},
};

static void kv(const char *k, json_t *v)
{
    char *s;
    if (v == NULL || json_is_null(v))
        return;
    if (json_is_string(v)) {
        cli_printf("%-14s %s\n", k, json_string_value(v));
        return;
    }
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(8));
    cli_printf("%-14s %s\n", k, s ? s : "");
    free(s);
}

/* A time in ms since the epoch, as the rest of the CLI prints it (UTC). */
static void when(const char *k, json_t *v)
{
    char buf[32];
    if (!json_is_integer(v))
        return;
    cli_fmt_time(json_integer_value(v), buf, sizeof buf);
    cli_printf("%-14s %s UTC\n", k, buf);
}

static int exec_show(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_show;
    struct sd_err err = {0};
    json_t *t, *ops;
    sqlite3 *db;
    long id;
    int status;

    if (cli_parse_long("ID", a->argv[0], 1, 1L << 62, &id))
        return 2;
    if ((status = cli_open_store(ctx, 1)) != 0)
        return status;
    if ((db = store_reader(ctx->store, &err)) == NULL)
        return cli_fail_err(&err);
    t = store_traj_json(db, id, &err);
    sqlite3_close_v2(db);
    if (t == NULL && err.code == SD_EUSAGE)
        return cli_fail(SD_EUSAGE, "no trajectory #%ld (see `swarmdeck history`)", id);
    if (t == NULL)
        return cli_fail_err(&err);
    if (cli_flag(&cmd_show, a, "json")) {
        cli_print_json(t);
        return 0;
    }
    cli_printf("trajectory #%ld (%s)\n", id, json_string_value(json_object_get(t, "uuid")));
    kv("run", json_object_get(t, "runId"));
    kv("strategy", json_object_get(t, "strategyName"));
    kv("symbol", json_object_get(t, "symbol"));
    kv("params", json_object_get(t, "params"));
    kv("status", json_object_get(t, "status"));
    kv("exit code", json_object_get(t, "exitCode"));
    kv("error", json_object_get(t, "error"));
    kv("provider", json_object_get(t, "provider"));
    kv("sandbox", json_object_get(t, "sandboxId"));
    kv("isolation", json_object_get(t, "isolation"));
    kv("description", json_object_get(t, "description"));
    when("created", json_object_get(t, "createdAt"));
    when("started", json_object_get(t, "startedAt"));
    when("ended", json_object_get(t, "endedAt"));
    kv("duration ms", json_object_get(t, "duration"));
    kv("reward", json_object_get(t, "reward"));
    kv("output bytes", json_object_get(t, "outputBytes"));
    kv("dropped bytes", json_object_get(t, "outputDropped"));
    kv("result", json_object_get(t, "result"));
    ops = json_object_get(t, "operations");
    cli_printf("operations:\n");
    for (size_t i = 0; i < json_array_size(ops); i++) {
        json_t *o = json_array_get(ops, i);
        const char *detail = json_string_value(json_object_get(o, "detail"));
        cli_printf("  %-8s %9.3f ms  %s%s%s\n", json_string_value(json_object_get(o, "name")),
                   json_number_value(json_object_get(o, "duration")),
                   json_is_true(json_object_get(o, "ok")) ? "ok" : "FAILED", detail ? "  " : "",
                   detail ? detail : "");
    }
    json_decref(t);
    return 0;
}

const struct cli_cmd cmd_show = {
    .name = "show",
    .usage = "ID [--json]",
    .summary = "show one trajectory: parameters, result and timed operations",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .exec = exec_show,
};
