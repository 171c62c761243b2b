/*
 * cmd-cleanup.c: reap sandboxes a crashed swarmdeck left behind: local
 * helpers, work dirs and cgroups, then (when an E2B key is configured) the
 * E2B sandboxes tagged with this installation that no live deployment owns.
 *
 * Beside a daemon (docs/daemon.md) plain `cleanup` is safe: it reaps only
 * what dead processes left. `cleanup --all` first asks the daemon to cancel
 * everything it runs and waits until it has, so those deployments end
 * cancelled (and attributed) rather than interrupted behind its back.
 */
#define _GNU_SOURCE
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "recover.h"

static const struct cli_opt opts[] = {
    {"all", 0, NULL, "also stop sandboxes (local and E2B) of swarmdeck processes still running"},
    {"json", 0, NULL, "print the report as JSON"},
    {NULL, 0, NULL, NULL},
};

struct cleanup_job {
    struct cli_ctx *ctx;
    int all, status;
    struct recover_report r;
};

/* Local orphans first, then E2B: its sandboxes do not die with us, so list
 * and destroy ours. Returns k (1 when E2B was swept). */
static int sweep(const struct e2b_config *ec, int k, void *arg)
{
    struct cleanup_job *j = arg;

    if (k < 0 || (k == 1 && cli_recover_e2b(j->ctx->store, ec, j->all, &j->r) != 0))
        j->status = sd_err_exit_status(SD_EENV);
    return k;
}

/* --all beside a daemon: the daemon cancels what it runs (its stop is then
 * recorded as cancelled, by whom, not as interrupted by a stranger), and
 * this waits until nothing of it is live before reaping. Returns how many
 * it cancelled, or -1 (printed). */
static int daemon_cancel_all(struct client *cl)
{
    json_t *body = json_pack("{s:b}", "all", 1), *out = NULL;
    struct sd_err err = {0};
    int n = -1;

    if (client_do(cl, "POST", "/cancel", body, &out, &err) != 0) {
        cli_fail_err(&err);
        goto out;
    }
    n = (int)json_integer_value(json_object_get(out, "cancelled"));
    for (int64_t t0 = sd_now_ms();;) {
        json_t *st = NULL;
        json_int_t live;
        if (client_do(cl, "GET", "/status", NULL, &st, &err) != 0)
            break; /* it went away: reap what it left */
        live = json_integer_value(json_object_get(json_object_get(st, "counts"), "running")) +
               json_integer_value(json_object_get(json_object_get(st, "counts"), "queued"));
        json_decref(st);
        if (live == 0 || sd_now_ms() - t0 > 60000)
            break;
        usleep(50000);
    }
out:
    json_decref(body);
    json_decref(out);
    return n;
}

static int exec_cleanup(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_cleanup;
    struct cleanup_job j = {ctx, cli_flag(&cmd_cleanup, a, "all"), 0, {0}};
    struct recover_report *r = &j.r;
    struct sd_err err = {0};
    struct client *cl = NULL;
    int k, cancelled = -1;

    if (j.all) {
        if ((k = cli_daemon(ctx, 0, NULL, &cl, &j.status)) < 0)
            return j.status;
        if (k == 1) {
            cancelled = daemon_cancel_all(cl);
            client_close(cl);
            if (cancelled < 0)
                return sd_err_exit_status(SD_EENV);
        }
    }
    if ((j.status = cli_open_store(ctx, 0)) != 0)
        return j.status;
    if (recover_orphans(ctx->store, cli_helper_path(), j.all, r, &err) != 0)
        return cli_fail_err(&err);
    k = cli_e2b_use(CLI_E2B_WARN, sweep, &j);
    if (cli_flag(&cmd_cleanup, a, "json")) {
        cli_print_json(json_pack(
            "{s:i, s:i, s:i, s:i, s:i, s:o, s:o, s:o}", "leasesReaped", r->leases_reaped,
            "helpersKilled", r->helpers_killed, "trajectoriesInterrupted",
            r->trajectories_interrupted, "workdirsRemoved", r->workdirs_removed, "cgroupsRemoved",
            r->cgroups_removed, "e2bFound", k == 1 ? json_integer(r->e2b_found) : json_null(),
            "e2bDestroyed", k == 1 ? json_integer(r->e2b_destroyed) : json_null(),
            "daemonCancelled", cancelled >= 0 ? json_integer(cancelled) : json_null()));
        return j.status;
    }
    if (cancelled >= 0)
        printf("daemon: cancelled %d deployment(s)\n", cancelled);
    printf("reaped %d sandbox lease(s), killed %d helper(s), removed %d work dir(s) and %d "
           "cgroup(s), marked %d trajectory(ies) interrupted\n",
           r->leases_reaped, r->helpers_killed, r->workdirs_removed, r->cgroups_removed,
           r->trajectories_interrupted);
    if (k == 1)
        printf("e2b: %d sandbox(es) of this installation found, %d destroyed (no live "
               "deployment owned them)\n",
               r->e2b_found, r->e2b_destroyed);
    return j.status;
}

const struct cli_cmd cmd_cleanup = {
    .name = "cleanup",
    .usage = "[--all] [--json]",
    .summary = "reap orphaned sandboxes and mark their deployments interrupted",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .flags = CLI_WRITES,
    .exec = exec_cleanup,
};
