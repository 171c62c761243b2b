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
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "query.h"

static const struct cli_opt opts[] = {
    {"follow", 'f', NULL, "keep printing new output until the deployment ends"},
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

static int log_chunk(int64_t seq, int stream, const void *data, size_t len, void *arg)
{
    struct logs_out *o = arg;

    o->next = seq + 1;
    if (!(o->want & stream))
        return 0;
    return put(o, stream, data, len, 0) != 0 ? 1 : 0;
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
        if ((k = store_output_read(db, id, o.next, log_chunk, &o, &err)) != 0) {
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
    .usage = "ID [--follow] [--stream stdout|stderr|both] [--raw]",
    .summary = "print a deployment's captured output (exact bytes to a pipe, or with --raw)",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .exec = exec_logs,
};
