/*
 * cmd-config.c: show the operator's config file as swarmdeck reads it
 * (config.h): every setting, its value and where it came from, so a typo
 * or a setting that does not apply is seen before the console starts.
 */
#include <stdio.h>

#include "cli.h"
#include "config.h"

static const struct cli_opt opts[] = {
    {"json", 0, NULL, "one JSON object: path, found, settings, binds, hosts"},
    {"example", 0, NULL, "print a commented config with every default (examples/config)"},
    {NULL, 0, NULL, NULL},
};

static int exec_config(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_config;
    struct cli_config c;
    struct sd_err err = {0};

    (void)ctx;
    if (cli_flag(&cmd_config, a, "example")) {
        cli_config_example(stdout);
        return 0;
    }
    if (cli_config_load(NULL, &c, &err) != 0)
        return cli_fail_err(&err);
    cli_config_print(&c, stdout, cli_flag(&cmd_config, a, "json"));
    cli_config_free(&c);
    return 0;
}

const struct cli_cmd cmd_config = {
    .name = "config",
    .usage = "[--json] [--example]",
    .summary = "show the settings of the config file and where each came from",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec_config,
};
