/*
 * cmd-logs.c: print a trajectory's captured output, byte exact.
 *
 * stdout chunks go to stdout and stderr chunks to stderr, in sequence order,
 * so `swarmdeck logs ID > out` reproduces what the strategy wrote. --follow
 * keeps polling the store until the trajectory is finished.
 *
 * A stream that is a terminal gets the output through cli_clean (cli.h), so
 * a strategy's escape sequences are shown as '?' and never obeyed; a pipe or
 * a file gets every byte, and so does a terminal under --raw.
 *
 * --timestamps starts every line with the time its chunk reached the engine
 * (UTC, RFC 3339 with milliseconds, as `docker logs --timestamps`); a chunk
 * stored before the store kept times gets "-" in that column. The bytes
 * after the prefix are still the output's.
 *
 * --run RUN prints every deployment of a run, each line prefixed "[ID] " (coloured per
 * deployment on a terminal, plain otherwise), in the order the lines were written: each
 * round reads the chunks stored since the last one of every deployment of the run, sorts
 * them by their stored time (then id and sequence), and prints the lines they complete (a
 * line cut across chunks is printed once whole; what is left unterminated at the end gets a
 * newline). With --follow the rounds go on until every deployment of the run has ended: a
 * daemon serving the store wakes them through its event stream (output and state events of
 * the run's deployments, at most ten rounds a second); without one the store is read again
 * five times a second, as for one deployment.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "query.h"
#include "runlog.h"

static const struct cli_opt opts[] = {
    {"follow", 'f', NULL, "keep printing new output until the deployment ends"},
    {"run", 0, "RUN", "every deployment of run RUN, each line prefixed [ID], in written order"},
    {"timestamps", 't', NULL, "start each line with the time it was written (UTC)"},
    {"stream", 0, "WHICH", "stdout, stderr or both (default both)"},
    {"raw", 0, NULL,
     "write the bytes exactly even to a terminal (escape sequences included: the terminal "
     "obeys them)"},
    {NULL, 0, NULL, NULL},
};

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

struct logs_out {
    int want;               /* streams to print: 1 stdout, 2 stderr, 3 both */
    int64_t next;           /* the next chunk to read */
    int clean[2];           /* filter fd 1, fd 2 (a terminal, no --raw) */
    int stamps;             /* --timestamps */
    int midline[2];         /* per stream: the last byte printed was not a newline */
    struct cli_clean st[2]; /* the filters' state, per stream */
};

/* Write len bytes to stream's fd, filtered when that fd is a terminal (last:
 * the output ends, so a held partial character is shown). 0 or -1. */
static int put(struct logs_out *o, int stream, const void *data, size_t len, int last)
{
    int s = stream == 2 ? 1 : 0, rc;
    char *buf;

    if (!o->clean[s])
        return write_all(s + 1, data, len);
    if ((buf = malloc(len + 4)) == NULL)
        return -1;
    rc = write_all(s + 1, buf, cli_clean(&o->st[s], data, len, buf, last));
    free(buf);
    return rc;
}

/* "2026-12-03T13:45:01.123Z " for t_ms, or "-" padded to the same width
 * for an unknown time (-1). */
static void stamp(int64_t t_ms, char *buf, size_t n)
{
    time_t sec = (time_t)(t_ms / 1000);
    struct tm tm;

    if (t_ms < 0 || gmtime_r(&sec, &tm) == NULL) {
        snprintf(buf, n, "%-24s ", "-");
        return;
    }
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(t_ms % 1000));
}

/* Print a chunk with the time prefixed to every line that starts in it. */
static int put_stamped(struct logs_out *o, const struct output_chunk *c)
{
    const char *p = c->data, *end = p + c->len;
    int s = c->stream == 2 ? 1 : 0;
    char pre[64];

    stamp(c->t_ms, pre, sizeof pre);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        if (!o->midline[s] && put(o, c->stream, pre, strlen(pre), 0) != 0)
            return -1;
        if (put(o, c->stream, p, n, 0) != 0)
            return -1;
        o->midline[s] = nl == NULL;
        p += n;
    }
    return 0;
}

static int log_chunk(const struct output_chunk *c, void *arg)
{
    struct logs_out *o = arg;

    o->next = c->seq + 1;
    if (!(o->want & c->stream))
        return 0;
    if (o->stamps)
        return put_stamped(o, c) != 0 ? 1 : 0;
    return put(o, c->stream, c->data, c->len, 0) != 0 ? 1 : 0;
}

/* --- logs --run ----------------------------------------------------------------------- */

/* logs --run: the run's deployments (as the store lists them, new ones added each round),
 * their merged lines (runlog.h), and whether the prefix is coloured on fd 1, fd 2. */
struct run_logs {
    struct logs_out *o;
    int color[2];
    struct runlog *rl;
    int64_t *ids; /* in the order added: a deployment's colour is its index */
    size_t n;
};

/* One line of deployment id on stream: "[ID] " (coloured on a terminal), the time under
 * --timestamps, then the line through put (cleaned on a terminal); a tail with no newline
 * gets one. 0, or 1 when it cannot write. */
static int run_line(void *arg, int64_t id, int stream, int64_t t_ms, const char *line, size_t len)
{
    struct run_logs *r = arg;
    int s = stream == 2 ? 1 : 0;
    size_t k = 0;
    char pre[96];

    while (k < r->n && r->ids[k] != id)
        k++;
    if (r->color[s])
        snprintf(pre, sizeof pre, "\033[%dm[%lld]\033[0m ", 31 + (int)(k % 6), (long long)id);
    else
        snprintf(pre, sizeof pre, "[%lld] ", (long long)id);
    if (write_all(s + 1, pre, strlen(pre)) != 0)
        return 1;
    if (r->o->stamps) {
        stamp(t_ms, pre, sizeof pre);
        if (write_all(s + 1, pre, strlen(pre)) != 0)
            return 1;
    }
    if (put(r->o, stream, line, len, 0) != 0)
        return 1;
    return len > 0 && line[len - 1] == '\n' ? 0 : put(r->o, stream, "\n", 1, 0) != 0;
}

/* One round: the run's deployments (new ones added), their states (read before the output, so
 * what a final state promises is in), then their new lines in written order (a follower's
 * rounds hold the latest millisecond back until the run has ended: runlog.h). Returns 0, 1
 * when the run has no row, -1 after printing. *ended: every deployment ended. */
static int run_round(struct run_logs *r, sqlite3 *db, int64_t run, int follow, int *ended)
{
    struct sd_err err = {0};
    int64_t *ids = NULL;
    int *states = NULL, k;
    size_t n = 0;

    if ((k = store_run_trajs(db, run, &ids, &states, &n, &err)) != 0)
        return k < 0 ? (cli_fail_err(&err), -1) : 1;
    *ended = 1;
    for (size_t i = 0; i < n; i++) {
        int at = runlog_add(r->rl, ids[i]);
        if (at < 0) {
            free(ids);
            free(states);
            return cli_fail(SD_EENV, "logs --run: out of memory"), -1;
        }
        if ((size_t)at == r->n) {
            int64_t *ni = realloc(r->ids, (r->n + 1) * sizeof *ni);
            if (ni == NULL) {
                free(ids);
                free(states);
                return cli_fail(SD_EENV, "logs --run: out of memory"), -1;
            }
            r->ids = ni;
            r->ids[r->n++] = ids[i];
        }
        *ended &= states[i] >= 0 && traj_state_terminal(states[i]);
    }
    free(ids);
    free(states);
    if ((k = runlog_round(r->rl, db, *ended || !follow, run_line, r, &err)) != 0)
        return k < 0 ? (cli_fail_err(&err), -1) : (cli_fail(SD_EENV, "logs: cannot write"), -1);
    return 0;
}

/* What the daemon's event stream says to the follower: a round is due (an event of the run's
 * deployments), and at most ten rounds a second, on its ticks. */
struct run_watch {
    struct run_logs *r;
    sqlite3 *db;
    int64_t run;
    uint64_t seq;
    int dirty, status, done, ticks;
};

static int run_on_event(json_t *ev, void *arg)
{
    struct run_watch *w = arg;
    const char *type;

    if (ev == NULL) {
        int ended = 0, k;
        /* Also once a second without a word: a state the store commits after its event. */
        if (!w->dirty && ++w->ticks % 10 != 0)
            return 0;
        w->dirty = 0;
        if ((k = run_round(w->r, w->db, w->run, 1, &ended)) != 0) {
            w->status = k < 0 ? 3 : 0;
            return w->done = 1;
        }
        return ended ? (w->done = 1) : 0;
    }
    w->seq = (uint64_t)json_integer_value(json_object_get(ev, "seq"));
    type = json_string_value(json_object_get(ev, "type"));
    if (type == NULL)
        return 0;
    if (strcmp(type, "output") == 0 || strcmp(type, "state") == 0) {
        int64_t id = json_integer_value(json_object_get(ev, "id"));
        for (size_t i = 0; i < w->r->n && !w->dirty; i++)
            w->dirty = w->r->ids[i] == id;
        if (strcmp(type, "state") == 0) /* a deployment of the run not seen yet, maybe */
            w->dirty = 1;
    } else if (strcmp(type, "run") == 0 || strcmp(type, "resync") == 0 ||
               strcmp(type, "relist") == 0) {
        w->dirty = 1;
    }
    return 0;
}

/* logs --run RUN [--follow]. Returns the exit status. */
static int logs_run(struct cli_ctx *ctx, struct logs_out *o, long run, int follow)
{
    struct run_logs r = {.o = o, .rl = runlog_new(o->want)};
    struct sd_err err = {0};
    struct client *cl = NULL;
    int status = 0, ended = 0, k, daemon = 0;
    sqlite3 *db;

    if (r.rl == NULL)
        return cli_fail(SD_EENV, "out of memory");
    r.color[0] = o->clean[0] && !ctx->no_color;
    r.color[1] = o->clean[1] && !ctx->no_color;
    if ((status = cli_open_store(ctx, 1)) != 0)
        return status;
    if ((db = store_reader(ctx->store, &err)) == NULL)
        return cli_fail_err(&err);
    /* Following beside a daemon: its events say when to read (taken before the first round,
     * so nothing written after it is missed). */
    if (follow && (daemon = cli_daemon(ctx, 0, NULL, &cl, &status)) < 0)
        goto out;
    struct run_watch w = {.r = &r, .db = db, .run = run};
    if (daemon == 1) {
        json_t *st = NULL;
        if (client_do(cl, "GET", "/status", NULL, &st, &err) == 0)
            w.seq = (uint64_t)json_integer_value(json_object_get(st, "seq"));
        else
            daemon = 0;
        json_decref(st);
    }
    if ((k = run_round(&r, db, run, follow, &ended)) != 0) {
        status = k < 0 ? 3 : cli_fail(SD_EUSAGE, "no run %ld (see `swarmdeck history`)", run);
        goto out;
    }
    while (follow && !ended) {
        if (daemon == 1) {
            struct client *stream = NULL;
            if (client_clone(cl, &stream, &err) == 0 &&
                client_events(stream, w.seq, run_on_event, &w, &err) >= 0 && w.done) {
                client_close(stream);
                status = w.status;
                goto flush;
            }
            client_close(stream);
            daemon = 0; /* the stream broke: the store alone from now on */
            continue;
        }
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if ((k = run_round(&r, db, run, follow, &ended)) != 0) {
            status = 3;
            goto out;
        }
    }
flush:
    if (runlog_flush(r.rl, run_line, &r) != 0 && status == 0)
        status = 3;
    put(o, 1, "", 0, 1);
    put(o, 2, "", 0, 1);
out:
    runlog_free(r.rl);
    free(r.ids);
    client_close(cl);
    sqlite3_close_v2(db);
    return status;
}

static int exec_logs(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_logs;
    const char *which = cli_val_def(&cmd_logs, a, "stream");
    int follow = cli_flag(&cmd_logs, a, "follow"), status, state, k;
    struct logs_out o = {.want = 3};
    struct sd_err err = {0};
    int64_t dropped = 0;
    sqlite3 *db;
    long id;

    const char *run_s = cli_val(&cmd_logs, a, "run");
    if ((run_s != NULL) == (a->argc == 1))
        return cli_fail(SD_EUSAGE, "logs takes a deployment ID or --run RUN (one of them)");
    if (run_s == NULL && cli_parse_long("ID", a->argv[0], 1, 1L << 62, &id))
        return 2;
    if (run_s != NULL && cli_parse_long("--run", run_s, 1, 1L << 62, &id))
        return 2;
    if (strcmp(which, "stdout") == 0)
        o.want = 1;
    else if (strcmp(which, "stderr") == 0)
        o.want = 2;
    else if (strcmp(which, "both") != 0)
        return cli_fail(SD_EUSAGE, "--stream must be stdout, stderr or both");
    o.stamps = cli_flag(&cmd_logs, a, "timestamps");
    o.clean[0] = !cli_flag(&cmd_logs, a, "raw") && isatty(1);
    o.clean[1] = !cli_flag(&cmd_logs, a, "raw") && isatty(2);
    if (run_s != NULL)
        return logs_run(ctx, &o, id, follow);
    if ((status = cli_open_store(ctx, 1)) != 0)
        return status;
    if ((db = store_reader(ctx->store, &err)) == NULL)
        return cli_fail_err(&err);
    if ((k = store_traj_progress(db, id, &state, &dropped, &err)) <= 0) {
        status = k < 0 ? cli_fail_err(&err)
                       : cli_fail(SD_EUSAGE, "no trajectory #%ld (see `swarmdeck history`)", id);
        goto out;
    }
    for (;;) {
        /* Read the state first: output committed before it is final. */
        int terminal = store_traj_progress(db, id, &state, &dropped, &err) != 1 || state < 0 ||
                       traj_state_terminal(state);
        if ((k = store_output_read_timed(db, id, o.next, log_chunk, &o, &err)) != 0) {
            status = k < 0 ? cli_fail_err(&err) : 1;
            goto out;
        }
        if (!follow || terminal)
            break;
        {
            struct timespec ts = {0, 200 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    put(&o, 1, "", 0, 1); /* a character cut at the end of the output */
    put(&o, 2, "", 0, 1);
    if (dropped > 0)
        fprintf(stderr,
                "swarmdeck: %lld byte(s) in the middle of this output were not kept "
                "(the store keeps the head and the tail)\n",
                (long long)dropped);
out:
    sqlite3_close_v2(db);
    return status;
}

const struct cli_cmd cmd_logs = {
    .name = "logs",
    .usage = "ID|--run RUN [--follow] [--timestamps] [--stream stdout|stderr|both] [--raw]",
    .summary = "print a deployment's captured output (exact bytes to a pipe, or with --raw)",
    .opts = opts,
    .min_args = 0,
    .max_args = 1,
    .exec = exec_logs,
};
