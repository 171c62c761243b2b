/*
 * cmd-strategies.c: list strategies and their parameter schemas; add user
 * strategies from a manifest (docs/strategies.md).
 */
#define _GNU_SOURCE
#include <string.h>

#include "cli.h"

static const struct cli_opt opts[] = {
    {"json", 0, NULL, "print as JSON"},
    {"allow-outside", 0, NULL,
     "add: allow files given as absolute paths or outside the manifest's directory"},
    {NULL, 0, NULL, NULL},
};

static int exec_strategies(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_strategies;
    const char *sub = a->argc > 0 ? a->argv[0] : "list";
    struct catalog *cat = NULL;
    struct sd_err err = {0};
    int status;

    if (strcmp(sub, "list") != 0 && strcmp(sub, "add") != 0)
        return cli_fail(SD_EUSAGE, "usage: swarmdeck strategies [list | add MANIFEST.json]");
    if (strcmp(sub, "add") == 0 && a->argc != 2)
        return cli_fail(SD_EUSAGE, "usage: swarmdeck strategies add MANIFEST.json");
    if ((status = cli_open_store(ctx, strcmp(sub, "list") == 0)) != 0)
        return status;
    if (catalog_load(&cat, cli_runner_path(), ctx->store, &err) != 0)
        return cli_fail_err(&err);
    if (strcmp(sub, "add") == 0) {
        int fl = cli_flag(&cmd_strategies, a, "allow-outside") ? CATALOG_ALLOW_OUTSIDE : 0;
        if (catalog_add_manifest_flags(cat, ctx->store, a->argv[1], fl, &err) != 0) {
            catalog_free(cat);
            return cli_fail_err(&err);
        }
        cli_printf("added strategy from %s\n", a->argv[1]);
        catalog_free(cat);
        return 0;
    }
    if (cli_flag(&cmd_strategies, a, "json")) {
        json_t *arr = json_array();
        for (size_t i = 0; i < catalog_count(cat); i++)
            json_array_append_new(arr, catalog_schema_json(catalog_at(cat, i)));
        cli_print_json(arr); /* a list: an array, as every list (docs/json.md) */
    } else {
        for (size_t i = 0; i < catalog_count(cat); i++) {
            const struct strategy_def *d = catalog_at(cat, i);
            cli_printf("%s%s  %s\n", d->name, d->builtin ? "" : " (user)", d->description);
            for (size_t k = 0; k < d->nparams; k++) {
                const struct param_schema *p = &d->params[k];
                if (p->type == PT_BOOLEAN)
                    cli_printf("    %-16s boolean  default %-8s %s\n", p->name,
                               p->def ? "true" : "false", p->description);
                else
                    cli_printf("    %-16s %-8s default %-8g [%g, %g]  %s\n", p->name,
                               p->type == PT_INTEGER ? "integer" : "number", p->def, p->min, p->max,
                               p->description);
            }
        }
    }
    catalog_free(cat);
    return 0;
}

const struct cli_cmd cmd_strategies = {
    .name = "strategies",
    .usage = "[list | add MANIFEST.json] [--json]",
    .summary = "list strategies with their parameters, or add one from a manifest",
    .opts = opts,
    .min_args = 0,
    .max_args = 2,
    .flags = CLI_WRITES,
    .writer = "add",
    .exec = exec_strategies,
};
