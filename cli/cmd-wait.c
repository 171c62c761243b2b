/*
 * cmd-wait.c: `swarmdeck wait RUN`: block until a run has ended, print its
 * summary, exit 0 when every deployment succeeded and 1 otherwise.
 *
 * With a daemon serving the store (here, or on --host), the daemon answers
 * the run's state (/v1/runs/RUN) and its event stream says when to ask
 * again: the stream's number is taken before the state is read, so an
 * ending between the two is never missed. With no daemon the run belongs
 * to a process of its own (a foreground deploy): the store is read again
 * twice a second until the run ends or nothing of it is live any more (a
 * run whose process died ends with its deployments interrupted, and so
 * "failed").
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
    {"bell", 0, NULL, "ring the terminal's bell (BEL on stderr) when the run ends"},
    {"osc9", 0, NULL, "send the summary as a desktop notification (OSC 9 on stderr)"},
    {NULL, 0, NULL, NULL},
};

/* --bell and --osc9: how the end is announced besides the summary line. */
static int ring, osc9;

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
    fflush(stdout);
    if (osc9) {
        /* iTerm2, kitty, Windows Terminal and others show OSC 9 as a
         * notification; terminals without it ignore the sequence. */
        fprintf(stderr, "\033]9;run %lld: %lld succeeded, %lld failed%s\007",
                (long long)json_integer_value(json_object_get(r, "run")), ok, bad,
                cancelled ? ", some cancelled" : "");
    }
    if (ring)
        fputc('\a', stderr);
    fflush(stderr);
    return failed ? 1 : 0;
}

/* Through the daemon (local or --host): the run from /v1/runs/RUN, and
 * while it has not ended, the event stream from a number taken before that
 * read, until its "run" event (or a resync) says to read again. A run the
 * daemon does not hold open ("open": false) is another process's: read
 * again twice a second; with nothing of it live, its process died. */
#define WAIT_LOST (-100) /* wait_daemon: the daemon stopped answering */

static int wait_daemon(struct client *cl, long run, int json)
{
    char path[64];

    snprintf(path, sizeof path, "/runs/%ld", run);
    for (;;) {
        struct client *stream = NULL;
        struct sd_err err = {0};
        json_t *st = NULL, *r = NULL;
        struct watch w = {.run = run};
        uint64_t seq;
        long code = 0;
        int status;

        if (client_call(cl, "GET", "/status", NULL, &code, &st, &err) != 0)
            return WAIT_LOST;
        seq = (uint64_t)json_integer_value(json_object_get(st, "seq"));
        json_decref(st);
        if (client_call(cl, "GET", path, NULL, &code, &r, &err) != 0)
            return WAIT_LOST;
        if (code != 200) {
            sd_err_set(&err, code == 404 ? SD_EUSAGE : SD_EENV, "%s",
                       json_string_value(json_object_get(r, "error"))
                           ? json_string_value(json_object_get(r, "error"))
                           : "the daemon refused");
            json_decref(r);
            return cli_fail_err(&err);
        }
        if (!ended(r) && !json_is_true(json_object_get(r, "open")) &&
            json_integer_value(json_object_get(r, "live")) == 0) {
            /* Not this daemon's run, and nothing of it is live: its own
             * daemon or process died, and recovery marked what it left. */
            json_object_set_new(r, "status", json_string("interrupted"));
            status = report(r, json);
            json_decref(r);
            return status;
        }
        if (ended(r)) {
            status = report(r, json);
            json_decref(r);
            return status;
        }
        if (!json_is_true(json_object_get(r, "open"))) {
            /* Another process runs it (a foreground deploy of its own): the
             * store ends it, and this daemon sends nothing; read again. */
            json_decref(r);
            usleep(500000);
            continue;
        }
        json_decref(r);
        /* Ends on the run's end, a resync, or the daemon going away (then
         * the next request says which). */
        if (client_clone(cl, &stream, &err) == 0)
            client_events(stream, seq, on_event, &w, &err);
        client_close(stream);
    }
}

static int exec_wait(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_wait;
    const struct cli_cmd *me = &cmd_wait;
    struct client *cl = NULL;
    long run;
    int status, k, json = cli_flag(me, a, "json");
    json_t *r;

    if (cli_parse_long("RUN", a->argv[0], 1, LONG_MAX, &run))
        return 2;
    ring = cli_flag(me, a, "bell");
    osc9 = cli_flag(me, a, "osc9");
    /* A daemon that stops answering may be restarting (cli_daemon waits
     * while one holds the store's lock) or gone (then the store decides). */
    for (int lost = 0;; lost++) {
        if ((k = cli_daemon(ctx, 0, NULL, &cl, &status)) < 0)
            return status;
        if (k == 0)
            break;
        status = wait_daemon(cl, run, json);
        client_close(cl);
        if (status != WAIT_LOST)
            return status;
        if (lost >= 10)
            return cli_fail(SD_EENV, "lost the daemon serving %s while waiting for run %ld",
                            ctx->host ? ctx->host : ctx->db, run);
    }
    /* No daemon: the run belongs to a process of its own (a foreground
     * deploy) and ends in the store. */
    if ((status = cli_open_store(ctx, 1)) != 0)
        return status;
    for (;;) {
        if ((r = read_run(ctx, run, &status)) == NULL)
            return status;
        /* Nothing of it is live and nobody will end it (its process died;
         * recovery marked its deployments): it is over too. */
        if (ended(r) || json_integer_value(json_object_get(r, "live")) == 0)
            break;
        json_decref(r);
        usleep(500000);
    }
    status = report(r, json);
    json_decref(r);
    return status;
}

const struct cli_cmd cmd_wait = {
    .name = "wait",
    .usage = "RUN [--json] [--bell] [--osc9]",
    .summary = "wait until a run has ended and print how it went",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .exec = exec_wait,
};
