/*
 * cmd-logs.c: print a trajectory's captured output, byte exact.
 *
 * stdout chunks go to stdout and stderr chunks to stderr, in sequence order,
 * so `swarmdeck logs ID > out` reproduces what the strategy wrote. --follow
 * keeps polling the store until the trajectory is finished.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "traj.h"

static const struct cli_opt opts[] = {
    {"follow", 'f', NULL, "keep printing new output until the deployment ends"},
    {"stream", 0, "WHICH", "stdout, stderr or both (default both)"},
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

static int exec_logs(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_logs;
    const char *which = cli_val(&cmd_logs, a, "stream");
    int follow = cli_flag(&cmd_logs, a, "follow"), want = 3, status;
    struct sd_err err = {0};
    sqlite3_stmt *st = NULL, *stt = NULL;
    int64_t next = 0, dropped = 0;
    sqlite3 *db;
    long id;

    if (cli_parse_long("ID", a->argv[0], 1, 1L << 62, &id))
        return 2;
    if (which != NULL) {
        if (strcmp(which, "stdout") == 0)
            want = 1;
        else if (strcmp(which, "stderr") == 0)
            want = 2;
        else if (strcmp(which, "both") != 0)
            return cli_fail(SD_EUSAGE, "--stream must be stdout, stderr or both");
    }
    if ((status = cli_open_store(ctx, 1)) != 0)
        return status;
    if ((db = store_reader(ctx->store, &err)) == NULL)
        return cli_fail_err(&err);
    sqlite3_prepare_v2(db, "SELECT status, output_dropped FROM trajectories WHERE id = ?1", -1,
                       &stt, NULL);
    sqlite3_prepare_v2(db,
                       "SELECT seq, stream, data FROM output WHERE traj_id = ?1 AND seq >= ?2 "
                       "ORDER BY seq",
                       -1, &st, NULL);
    sqlite3_bind_int64(stt, 1, id);
    if (sqlite3_step(stt) != SQLITE_ROW) {
        status = cli_fail(SD_EUSAGE, "no trajectory #%ld (see `swarmdeck history`)", id);
        goto out;
    }
    sqlite3_reset(stt);
    for (;;) {
        int terminal = 1;
        /* Read the state first: output committed before it is final. */
        if (sqlite3_step(stt) == SQLITE_ROW) {
            int s = traj_state_from_name((const char *)sqlite3_column_text(stt, 0));
            terminal = s < 0 || traj_state_terminal(s);
            dropped = sqlite3_column_int64(stt, 1);
        }
        sqlite3_reset(stt);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, next);
        while (sqlite3_step(st) == SQLITE_ROW) {
            int stream = sqlite3_column_int(st, 1);
            next = sqlite3_column_int64(st, 0) + 1;
            if (!(want & stream))
                continue;
            if (write_all(stream == 2 ? 2 : 1, sqlite3_column_blob(st, 2),
                          (size_t)sqlite3_column_bytes(st, 2)) != 0) {
                status = 1;
                goto out;
            }
        }
        sqlite3_reset(st);
        if (!follow || terminal)
            break;
        {
            struct timespec ts = {0, 200 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (dropped > 0)
        fprintf(stderr,
                "swarmdeck: %lld byte(s) in the middle of this output were not kept "
                "(the store keeps the head and the tail)\n",
                (long long)dropped);
out:
    sqlite3_finalize(st);
    sqlite3_finalize(stt);
    sqlite3_close_v2(db);
    return status;
}

const struct cli_cmd cmd_logs = {
    .name = "logs",
    .usage = "ID [--follow] [--stream stdout|stderr|both]",
    .summary = "print a deployment's captured output byte for byte",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .exec = exec_logs,
};
