/*
 * cmd-import.c: merge an export bundle into the store (idempotent).
 */
#define _GNU_SOURCE
#include "cli.h"
#include "export.h"

static const struct cli_opt opts[] = {
    {"json", 0, NULL, "print the report as JSON"},
    {NULL, 0, NULL, NULL},
};

static int exec_import(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_import;
    struct import_report r;
    struct sd_err err = {0};
    json_error_t je;
    json_t *b;
    int status;

    b = json_load_file(a->argv[0], JSON_REJECT_DUPLICATES, &je);
    if (b == NULL)
        return cli_fail(SD_EUSAGE, "%s:%d:%d: %s (nothing imported)", a->argv[0], je.line,
                        je.column, je.text);
    if ((status = cli_open_store(ctx, 0)) != 0) {
        json_decref(b);
        return status;
    }
    if (import_bundle(ctx->store, b, &r, &err) != 0) {
        json_decref(b);
        sd_err_prefix(&err, "%s", a->argv[0]);
        return cli_fail(err.code, "%s (nothing imported)", err.msg);
    }
    json_decref(b);
    if (cli_flag(&cmd_import, a, "json"))
        cli_print_json(json_pack("{s:i, s:i, s:i}", "added", r.added, "skipped", r.skipped,
                                 "strategiesAdded", r.strategies_added));
    else
        printf("imported %d trajectory(ies), skipped %d already present, added %d strategy(ies)\n",
               r.added, r.skipped, r.strategies_added);
    return 0;
}

const struct cli_cmd cmd_import = {
    .name = "import",
    .usage = "FILE [--json]",
    .summary = "merge an export bundle into the store (importing twice adds nothing)",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .flags = CLI_WRITES,
    .exec = exec_import,
};
