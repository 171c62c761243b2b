/*
 * cmd-cleanup.c: reap sandboxes a crashed swarmdeck left behind.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "recover.h"

static const struct cli_opt opts[] = {
    {"all", 0, NULL, "also stop sandboxes of swarmdeck processes that are still running"},
    {"json", 0, NULL, "print the report as JSON"},
    {NULL, 0, NULL, NULL},
};

static int exec_cleanup(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_cleanup;
    struct recover_report r;
    struct sd_err err = {0};
    int status;

    if (ctx->readonly)
        return cli_fail(SD_EUSAGE, "--readonly: refusing to clean up");
    if ((status = cli_open_store(ctx, 0)) != 0)
        return status;
    if (recover_orphans(ctx->store, cli_helper_path(), cli_flag(&cmd_cleanup, a, "all"), &r,
                        &err) != 0)
        return cli_fail_err(&err);
    if (cli_flag(&cmd_cleanup, a, "json")) {
        cli_print_json(json_pack("{s:i, s:i, s:i, s:i, s:i}", "leasesReaped", r.leases_reaped,
                                 "helpersKilled", r.helpers_killed, "trajectoriesInterrupted",
                                 r.trajectories_interrupted, "workdirsRemoved", r.workdirs_removed,
                                 "cgroupsRemoved", r.cgroups_removed));
        return 0;
    }
    printf("reaped %d sandbox lease(s), killed %d helper(s), removed %d work dir(s) and %d "
           "cgroup(s), marked %d trajectory(ies) interrupted\n",
           r.leases_reaped, r.helpers_killed, r.workdirs_removed, r.cgroups_removed,
           r.trajectories_interrupted);
    return 0;
}

const struct cli_cmd cmd_cleanup = {
    .name = "cleanup",
    .usage = "[--all] [--json]",
    .summary = "reap orphaned sandboxes and mark their deployments interrupted",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec_cleanup,
};
