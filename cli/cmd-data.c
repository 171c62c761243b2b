/*
 * cmd-data.c: list market data; import a CSV into the store.
 *
 * Both go through the catalog (catalog.h): import checks the file with the
 * runner's own strict loader, so a file the store accepts is one every
 * strategy accepts, and replaces the symbol's bars in one transaction: a bad
 * file changes nothing.
 */
#define _GNU_SOURCE
#include <string.h>

#include "catalog.h"
#include "cli.h"

static const struct cli_opt opts[] = {
    {"symbol", 0, "SYM", "import: the symbol to file the bars under"},
    {"json", 0, NULL, "print as JSON"},
    {NULL, 0, NULL, NULL},
};

static int do_import(struct cli_ctx *ctx, const char *file, const char *symbol)
{
    struct sd_err err = {0};
    struct data_import r;
    int status;

    if (symbol == NULL)
        return cli_fail(SD_EUSAGE, "data import needs --symbol SYM");
    /* Check the file before the store is opened (and perhaps created). */
    if (catalog_data_import(NULL, file, symbol, &r, &err) != 0)
        return cli_fail_err(&err);
    if ((status = cli_open_store(ctx, 0)) != 0)
        return status;
    if (catalog_data_import(ctx->store, file, symbol, &r, &err) != 0)
        return cli_fail_err(&err);
    printf("imported %zu bar(s) of %s (%s .. %s)%s\n", r.bars, symbol, r.first, r.last,
           r.synthetic ? " [synthetic]" : "");
    return 0;
}

static int do_list(struct cli_ctx *ctx, int json)
{
    struct sd_err err = {0};
    json_t *arr;

    /* A store that cannot be opened is reported; the bundled data is listed anyway. */
    cli_open_store(ctx, 1);
    if ((arr = catalog_data_list(ctx->store, &err)) == NULL)
        return cli_fail_err(&err);
    if (json) {
        cli_print_json(arr);
        return 0;
    }
    printf("%-8s %-9s %6s  %-10s  %-10s  %s\n", "SYMBOL", "SOURCE", "BARS", "FIRST", "LAST",
           "NOTE");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i);
        printf("%-8s %-9s %6lld  %-10s  %-10s  %s%s\n",
               json_string_value(json_object_get(o, "symbol")),
               json_string_value(json_object_get(o, "source")),
               (long long)json_integer_value(json_object_get(o, "bars")),
               json_string_value(json_object_get(o, "first")),
               json_string_value(json_object_get(o, "last")),
               json_is_true(json_object_get(o, "synthetic")) ? "SYNTHETIC, not market history" : "",
               json_is_true(json_object_get(o, "ohlc")) ? "" : " (close only)");
    }
    json_decref(arr);
    return 0;
}

static int exec_data(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_data;
    const char *sub = a->argc > 0 ? a->argv[0] : "list";

    if (strcmp(sub, "list") == 0 && a->argc <= 1)
        return do_list(ctx, cli_flag(&cmd_data, a, "json"));
    if (strcmp(sub, "import") == 0 && a->argc == 2)
        return do_import(ctx, a->argv[1], cli_val(&cmd_data, a, "symbol"));
    return cli_fail(SD_EUSAGE, "usage: swarmdeck data list | data import FILE --symbol SYM");
}

const struct cli_cmd cmd_data = {
    .name = "data",
    .usage = "list | import FILE --symbol SYM",
    .summary = "list market data, or import a CSV under a symbol",
    .opts = opts,
    .min_args = 0,
    .max_args = 2,
    .flags = CLI_WRITES,
    .writer = "import",
    .exec = exec_data,
};
