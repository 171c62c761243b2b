/*
 * cmd-pause.c: `swarmdeck pause ID...` and `swarmdeck resume ID...`: stop or continue every
 * process of running deployments' sandboxes (lazydocker's `p`), through the daemon that runs
 * them (POST /v1/deployments/ID/pause or /resume, docs/daemon.md). While paused a deployment
 * shows the state `paused` and its timeout does not run; `resume` carries on where it stopped.
 * Each id is asked in turn; one that cannot be paused (not running, not live on this daemon,
 * on E2B) is named on stderr and the others still are. Exit 0 when every id was done, 2 when
 * one was refused, 3 when no daemon serves the store.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "client.h"

static const struct cli_opt opts[] = {
    {"json", 0, NULL, "print [{id, state}] for the deployments done"},
    {NULL, 0, NULL, NULL},
};

/* Pause (on) or resume every id of a through the daemon. Returns the exit status. */
static int pause_ids(struct cli_ctx *ctx, const struct cli_cmd *me, struct cli_args *a, int on)
{
    struct client *cl = NULL;
    int status = 0, k, json = cli_flag(me, a, "json");
    json_t *done = json_array();
    long *ids = calloc((size_t)a->argc, sizeof *ids);

    for (int i = 0; i < a->argc; i++)
        if (ids == NULL || cli_parse_long("ID", a->argv[i], 1, LONG_MAX, &ids[i])) {
            free(ids);
            json_decref(done);
            return ids == NULL ? cli_fail(SD_ENOMEM, "out of memory") : 2;
        }
    if ((k = cli_daemon(ctx, 0, NULL, &cl, &status)) <= 0) {
        free(ids);
        json_decref(done);
        return k < 0 ? status
                     : cli_fail(SD_EENV,
                                "no daemon serves %s: only a daemon's deployments can be %s "
                                "(a foreground deploy's belong to its own process)",
                                ctx->db, on ? "paused" : "resumed");
    }
    for (int i = 0; i < a->argc; i++) {
        char path[80];
        json_t *out = NULL;
        struct sd_err err = {0};

        snprintf(path, sizeof path, "/deployments/%ld/%s", ids[i], on ? "pause" : "resume");
        if (client_do(cl, "POST", path, NULL, &out, &err) != 0) {
            int s = cli_fail_err(&err);
            if (status == 0 || s == 3)
                status = s;
            continue;
        }
        if (!json)
            cli_printf("%ld %s\n", ids[i],
                       json_string_value(json_object_get(out, "state"))
                           ? json_string_value(json_object_get(out, "state"))
                           : "?");
        json_array_append_new(done, out);
    }
    client_close(cl);
    free(ids);
    if (json)
        cli_print_json(done);
    else
        json_decref(done);
    return status;
}

static int exec_pause(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_pause;
    return pause_ids(ctx, &cmd_pause, a, 1);
}

static int exec_resume(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_resume;
    return pause_ids(ctx, &cmd_resume, a, 0);
}

const struct cli_cmd cmd_pause = {
    .name = "pause",
    .usage = "ID... [--json]",
    .summary = "pause running deployments: every process of their sandboxes stops",
    .opts = opts,
    .min_args = 1,
    .max_args = -1,
    .flags = CLI_WRITES,
    .exec = exec_pause,
};

const struct cli_cmd cmd_resume = {
    .name = "resume",
    .usage = "ID... [--json]",
    .summary = "resume paused deployments where they stopped",
    .opts = opts,
    .min_args = 1,
    .max_args = -1,
    .flags = CLI_WRITES,
    .exec = exec_resume,
};
