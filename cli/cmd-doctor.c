/*
 * cmd-doctor.c: what this machine offers swarmdeck, with fixes.
 *
 * The isolation table comes from `swarmdeck-sandbox --probe`, which tests
 * each feature in a throwaway child; doctor adds the runner, the data and the
 * store.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog.h"
#include "cli.h"

static const struct cli_opt opts[] = {
    {"json", 0, NULL, "print as JSON"},
    {NULL, 0, NULL, NULL},
};

static int exec_doctor(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_doctor;
    int json = cli_flag(&cmd_doctor, a, "json"), status = 0, bad = 0;
    char *argv[] = {(char *)cli_helper_path(), "--probe", json ? "--json" : NULL, NULL};
    char *out = NULL;
    struct sd_err err = {0};
    struct catalog *cat = NULL;
    char spx[4096];

    if (sd_spawn_capture(argv, 1, 1 << 20, &out, NULL, &status, &err) != 0)
        return cli_fail_err(&err);
    snprintf(spx, sizeof spx, "%s/SPX.csv", catalog_data_dir());
    if (catalog_load(&cat, cli_runner_path(), NULL, &err) != 0)
        bad = 1;
    if (json) {
        json_error_t je;
        json_t *probe = json_loads(out, 0, &je);
        cli_print_json(json_pack("{s:o, s:{s:b, s:s?}, s:{s:s, s:b}, s:s}", "sandbox",
                                 probe ? probe : json_string(out), "runner", "ok", !bad, "error",
                                 bad ? err.msg : NULL, "data", "dir", catalog_data_dir(), "ok",
                                 access(spx, R_OK) == 0, "store", ctx->db));
    } else {
        fputs(out, stdout);
        printf("\nrunner      %s (%s)\n", bad ? "BROKEN" : "ok", bad ? err.msg : cli_runner_path());
        printf("data        %s (%s)\n", access(spx, R_OK) == 0 ? "ok" : "MISSING",
               catalog_data_dir());
        printf("store       %s\n", ctx->db);
    }
    free(out);
    catalog_free(cat);
    return bad || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ? 3 : 0;
}

const struct cli_cmd cmd_doctor = {
    .name = "doctor",
    .usage = "[--json]",
    .summary = "check sandbox isolation, the runner, the data and the store",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec_doctor,
};
