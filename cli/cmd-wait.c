/*
 * cmd-wait.c: `swarmdeck wait RUN`: block until a run has ended, print its
 * summary, exit 0 when every deployment succeeded and 1 otherwise.
 *
 * The store says whether the run ended (runs.status). While it has not, a
 * daemon serving the store that launched the run is watched for its "run"
 * event (the status is read again after every resync, and once before the
 * watch, so an ending between the read and the watch is not missed); with
 * no daemon, or one that did not launch it (its own daemon stopped or
 * crashed), the run belongs to a process of its own (a foreground deploy)
 * or to nobody, and the store is read again twice a second until it ends
 * or nothing of it is live any more (a run whose process died ends with
 * its deployments interrupted, and so "failed").
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "query.h"

static const struct cli_opt opts[] = {
    {"json", 0, NULL, "print the run as JSON"},
    {NULL, 0, NULL, NULL},
};

/* The run from the store (new reference) or NULL after printing. */
static json_t *read_run(struct cli_ctx *ctx, int64_t run, int *status)
{
    struct sd_err err = {0};
    sqlite3 *db = store_reader(ctx->store, &err);
    json_t *r = db ? store_run_get(db, run, &err) : NULL;

    sqlite3_close_v2(db);
    if (r == NULL)
        *status = cli_fail_err(&err);
    return r;
}

static int ended(json_t *r)
{
    return !json_is_null(json_object_get(r, "endedAt"));
}

/* Did the daemon behind cl launch run? Only then will it send the run's
 * "run" event. 1 when unsure (watch it, as for its own). */
static int daemons_run(struct cli_ctx *ctx, int64_t run, struct client *cl)
{
    struct sd_err err = {0};
    json_t *pid = json_object_get(client_version(cl), "pid");
    sqlite3 *db;
    int rc;

    if (!json_is_integer(pid) || (db = store_reader(ctx->store, &err)) == NULL)
        return 1;
    rc = store_run_owned_by(db, run, (int)json_integer_value(pid), &err);
    sqlite3_close_v2(db);
    return rc != 0;
}

struct watch {
    int64_t run;
    int resync;
};

static int on_event(json_t *ev, void *arg)
{
    struct watch *w = arg;
    const char *type;

    if (ev == NULL)
        return 0;
    type = json_string_value(json_object_get(ev, "type"));
    if (type == NULL)
        return 0;
    if (strcmp(type, "run") == 0 && json_integer_value(json_object_get(ev, "run")) == w->run)
        return 1;
    if (strcmp(type, "resync") == 0 || strcmp(type, "relist") == 0) {
        w->resync = 1;
        return 2;
    }
    return 0;
}

static int report(json_t *r, int json)
{
    const char *status = json_string_value(json_object_get(r, "status"));
    long long ok = json_integer_value(json_object_get(r, "succeeded"));
    long long bad = json_integer_value(json_object_get(r, "failed"));
    long long cancelled = json_integer_value(json_object_get(r, "cancelled"));
    int failed = status == NULL || strcmp(status, "succeeded") != 0 || bad + cancelled > 0;

    if (json) {
        cli_print_json(json_incref(r));
    } else {
        printf("run %lld: %lld succeeded, %lld failed",
               (long long)json_integer_value(json_object_get(r, "run")), ok, bad);
        if (cancelled)
            printf(", %lld cancelled", cancelled);
        printf(" (%s)\n", status ? status : "?");
    }
    return failed ? 1 : 0;
}

static int exec_wait(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_wait;
    const struct cli_cmd *me = &cmd_wait;
    long run;
    int status, json = cli_flag(me, a, "json");
    json_t *r;

    if (cli_parse_long("RUN", a->argv[0], 1, INT64_MAX > LONG_MAX ? LONG_MAX : INT64_MAX, &run))
        return 2;
    if ((status = cli_open_store(ctx, 1)) != 0)
        return status;
    for (;;) {
        struct client *cl = NULL, *stream = NULL;
        struct sd_err err = {0};
        json_t *st = NULL;
        uint64_t seq = 0;
        int k;

        if ((r = read_run(ctx, run, &status)) == NULL)
            return status;
        if (ended(r))
            break;
        if ((k = cli_daemon(ctx, 0, NULL, &cl, &status)) < 0) {
            json_decref(r);
            return status;
        }
        if (k == 0) {
            /* Nothing of it is live and nobody will end it (its process
             * died; recovery marked its deployments): it is over. */
            if (json_integer_value(json_object_get(r, "live")) == 0)
                break;
            json_decref(r);
            usleep(500000); /* a process of its own runs it: read again */
            continue;
        }
        /* The number first, then the store again: an ending in between is
         * either in the store or after the number. */
        if (client_do(cl, "GET", "/status", NULL, &st, &err) == 0)
            seq = (uint64_t)json_integer_value(json_object_get(st, "seq"));
        json_decref(st);
        json_decref(r);
        if ((r = read_run(ctx, run, &status)) == NULL) {
            client_close(cl);
            return status;
        }
        if (ended(r)) {
            client_close(cl);
            break;
        }
        if (!daemons_run(ctx, run, cl)) {
            /* Its daemon stopped or crashed (or a process of its own runs
             * it): this daemon will send no event for it, so the store
             * decides, as with no daemon. */
            client_close(cl);
            if (json_integer_value(json_object_get(r, "live")) == 0)
                break;
            json_decref(r);
            usleep(500000);
            continue;
        }
        json_decref(r);
        if (client_open(client_socket(cl), &stream, &err) == 0) {
            struct watch w = {.run = run};
            client_events(stream, seq, on_event, &w, &err);
            client_close(stream);
        }
        client_close(cl);
        /* Ended, resynced or the daemon went away: the store decides. */
    }
    status = report(r, json);
    json_decref(r);
    return status;
}

const struct cli_cmd cmd_wait = {
    .name = "wait",
    .usage = "RUN [--json]",
    .summary = "wait until a run has ended and print how it went",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .exec = exec_wait,
};
