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
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "query.h"

static const struct cli_opt opts[] = {
    {"follow", 'f', NULL, "keep printing new output until the deployment ends"},
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

    if (cli_parse_long("ID", a->argv[0], 1, 1L << 62, &id))
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
    .usage = "ID [--follow] [--timestamps] [--stream stdout|stderr|both] [--raw]",
    .summary = "print a deployment's captured output (exact bytes to a pipe, or with --raw)",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .exec = exec_logs,
};
