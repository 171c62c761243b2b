/*
 * cmd-console.c: start the interactive console (tui/tui.h).
 *
 * Opens the store and, unless --readonly, a coordinator (after reaping what a
 * crashed run left behind, like every command that deploys), hands both to
 * the console, and frees the coordinator afterwards: coord_free cancels what
 * still runs and waits for it, so quitting never leaks a sandbox.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tui.h"

static const struct cli_opt opts[] = {
    {"theme", 0, "NAME", "colour theme (themes/NAME.theme; t cycles them)"},
    {"sparklines", 0, "STYLE", "block (default) or braille (UTF-8; b switches)"},
    {"no-anim", 0, NULL, "no spinner or other animation (for tests and slow links)"},
    {"no-mouse", 0, NULL, "leave the mouse to the terminal (text selection)"},
    {"frames", 'n', "N", "exit after drawing N frames (tests, benchmarks)"},
    {"interval", 0, "MS", "refresh interval while deployments run (default 1000)"},
    {"dump-keys", 0, NULL, "print the key-binding and command tables and exit"},
    CLI_DEPLOY_OPTS,
    {NULL, 0, NULL, NULL},
};

static int exec_console(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_console;
    const struct cli_cmd *me = &cmd_console;
    struct tui_conf tc;
    struct coord_opts o;
    struct coord *c = NULL;
    const char *v;
    long frames = 0, interval;
    int status;

    if (cli_flag(me, a, "dump-keys")) {
        tui_dump_keys(stdout);
        return 0;
    }
    if ((v = cli_val(me, a, "frames")) != NULL && cli_parse_long("frames", v, 1, 1L << 30, &frames))
        return 2;
    if (cli_parse_long("interval", cli_val_def(me, a, "interval"), 100, 60000, &interval))
        return 2;
    if ((v = cli_val(me, a, "sparklines")) != NULL && strcmp(v, "block") != 0 &&
        strcmp(v, "braille") != 0)
        return cli_fail(SD_EUSAGE, "--sparklines: \"%s\" is not block or braille", v);
    if (!isatty(0) || !isatty(1))
        return cli_fail(SD_EUSAGE, "the console needs a terminal (try `swarmdeck status`)");
    if (ctx->readonly) {
        if ((status = cli_open_store(ctx, 1)) != 0)
            return status;
    } else {
        if ((status = cli_coord_opts(me, a, &o)) != 0)
            return status;
        if ((c = cli_coord(ctx, &o, &status)) == NULL)
            return status;
    }
    memset(&tc, 0, sizeof tc);
    tc.store = ctx->store;
    tc.coord = c;
    tc.helper_path = cli_helper_path();
    tc.runner_path = cli_runner_path();
    tc.version = NULL; /* the console knows its own version */
    tc.theme = cli_val(me, a, "theme");
    tc.sparklines = cli_val(me, a, "sparklines");
    tc.readonly = ctx->readonly;
    tc.no_color = ctx->no_color;
    tc.no_anim = cli_flag(me, a, "no-anim");
    tc.no_mouse = cli_flag(me, a, "no-mouse");
    tc.frames = frames;
    tc.interval_ms = (int)interval;
    return cli_close(ctx, c, tui_run(&tc));
}

const struct cli_cmd cmd_console = {
    .name = "console",
    .usage = "[--theme NAME] [--sparklines STYLE] [--no-anim] [-n FRAMES] [--dump-keys] [deploy "
             "options]",
    .summary = "the interactive console (the default on a terminal)",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec_console,
};
