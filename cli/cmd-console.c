/*
 * cmd-console.c: start the interactive console (tui/tui.h).
 *
 * By default the console is a client of the daemon serving its store
 * (docs/daemon.md), as a tmux client is of its server: it starts one on
 * demand when none runs (with the engine options given here), follows it
 * (tui/remote.h), and quitting, SIGHUP or a dropped SSH connection leave
 * every deployment running. --readonly attaches to the daemon's read-only
 * socket when one runs (the daemon refuses changes), else shows the
 * history only.
 *
 * With --no-daemon the console runs its own coordinator, as before: it
 * reaps what a crashed run left behind, and quitting frees the coordinator,
 * which cancels what still runs and waits for it, so no sandbox leaks.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "config.h"
#include "prefs.h"
#include "remote.h"
#include "tui.h"

static const struct cli_opt opts[] = {
    {"theme", 0, "NAME", "colour theme (themes/NAME.theme; t cycles them)"},
    {"sparklines", 0, "STYLE", "block (default) or braille (UTF-8; b switches)"},
    {"no-anim", 0, NULL, "no spinner or other animation (for tests and slow links)"},
    {"no-mouse", 0, NULL, "leave the mouse to the terminal (text selection)"},
    {"frames", 'n', "N", "exit after drawing N frames (tests, benchmarks)"},
    {"interval", 0, "MS", "refresh interval while deployments run (default 1000)"},
    {"bell", 0, NULL, "ring the bell when a run ends (with a daemon)"},
    {"osc9", 0, NULL, "a desktop notification (OSC 9) when a run ends (with a daemon)"},
    {"dump-keys", 0, NULL, "print the key-binding and command tables and exit"},
    CLI_DEPLOY_OPTS,
    {NULL, 0, NULL, NULL},
};

/* remote.h's dial: the daemon serving ctx's store (start: one may be
 * started, with the engine options given to the console). */
struct dial {
    struct cli_ctx *ctx;
    char *sargs[32];
};

static int dial(void *arg, int start, struct client **out, struct sd_err *err)
{
    struct dial *d = arg;
    int status = 0;

    if (cli_daemon(d->ctx, start, d->sargs, out, &status) == 1)
        return 0;
    return sd_err_set(err, SD_EENV, "no daemon serves %s", d->ctx->db);
}

/* The console's own options, over the config file's settings. */
static int console_flags(const struct cli_cmd *me, struct cli_args *a, const struct cli_config *cf,
                         long *frames, long *interval)
{
    const char *v;

    if ((v = cli_val(me, a, "frames")) != NULL && cli_parse_long("frames", v, 1, 1L << 30, frames))
        return 2;
    if ((v = cli_val(me, a, "interval")) == NULL && cf->val[CFG_INTERVAL] != NULL)
        *interval = cf->num[CFG_INTERVAL];
    else if (cli_parse_long("interval", v ? v : cli_val_def(me, a, "interval"), 100, 60000,
                            interval))
        return 2;
    if ((v = cli_val(me, a, "sparklines")) != NULL && strcmp(v, "block") != 0 &&
        strcmp(v, "braille") != 0)
        return cli_fail(SD_EUSAGE, "--sparklines: \"%s\" is not block or braille", v);
    return 0;
}

/* The config's console settings into console_prefs (tui/prefs.h). */
static void console_prefs_from(const struct cli_config *cf)
{
    const char *v;

    if (cf->val[CFG_PROTOCOL_LINES] != NULL)
        console_prefs.show_protocol = strcmp(cf->val[CFG_PROTOCOL_LINES], "show") == 0;
    if (cf->val[CFG_CONFIRM_AGENTS] != NULL)
        console_prefs.confirm_agents = cf->num[CFG_CONFIRM_AGENTS];
    if (cf->val[CFG_CONFIRM_PAID] != NULL)
        console_prefs.confirm_paid = (int)cf->num[CFG_CONFIRM_PAID];
    if ((v = cli_config_get(cf, CFG_SYMBOLS)) != NULL)
        snprintf(console_prefs.symbols, sizeof console_prefs.symbols, "%s", v);
    if (cf->val[CFG_PACE] != NULL)
        console_prefs.pace = cf->num[CFG_PACE];
    for (size_t i = 0; i < cf->nbinds && i < 64; i++) {
        console_prefs.bind_from[i] = cf->binds[i].from;
        console_prefs.bind_to[i] = cf->binds[i].to;
        console_prefs.nbinds = (int)i + 1;
    }
}

static int run_console(struct cli_ctx *ctx, struct cli_args *a, struct cli_config *cf)
{
    extern const struct cli_cmd cmd_console;
    const struct cli_cmd *me = &cmd_console;
    struct tui_conf tc;
    struct coord_opts o;
    struct coord *c = NULL;
    struct remote *r = NULL;
    struct client *cl = NULL;
    struct dial d = {.ctx = ctx};
    const char *v;
    long frames = 0, interval;
    int status;

    if (cli_flag(me, a, "dump-keys")) {
        tui_dump_keys(stdout);
        return 0;
    }
    if ((status = console_flags(me, a, cf, &frames, &interval)) != 0)
        return status;
    if (!isatty(0) || !isatty(1))
        return cli_fail(SD_EUSAGE, "the console needs a terminal (try `swarmdeck status`)");
    if (ctx->host != NULL)
        return cli_fail(SD_EUSAGE, "the console runs beside its store: `ssh -t HOST swarmdeck` "
                                   "(--host serves deploy, swarm, wait and status)");
    cli_daemon_engine_args(me, a, d.sargs, sizeof d.sargs / sizeof d.sargs[0]);
    if (!ctx->no_daemon && (status = cli_coord_opts(me, a, &o)) != 0)
        return status; /* the options are checked even when a daemon keeps its own */
    if (!ctx->no_daemon && cli_daemon(ctx, !ctx->readonly, d.sargs, &cl, &status) < 0)
        return status;
    if (cl != NULL) {
        struct remote_conf rc = {.dial = dial, .arg = &d, .may_start = !ctx->readonly};
        struct sd_err err = {0};
        if ((status = cli_open_store(ctx, ctx->readonly)) != 0) {
            client_close(cl);
            return status;
        }
        if ((r = remote_start(&rc, cl, &err)) == NULL)
            return cli_close(ctx, NULL, cli_fail_err(&err));
    } else if (ctx->readonly) {
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
    tc.remote = r;
    tc.bell = cli_flag(me, a, "bell") || (cf->val[CFG_BELL] && cf->num[CFG_BELL]);
    tc.osc9 = cli_flag(me, a, "osc9") || (cf->val[CFG_OSC9] && cf->num[CFG_OSC9]);
    tc.helper_path = cli_helper_path();
    tc.runner_path = cli_runner_path();
    tc.version = NULL; /* the console knows its own version */
    tc.theme = (v = cli_val(me, a, "theme")) ? v : cli_config_get(cf, CFG_THEME);
    tc.sparklines = (v = cli_val(me, a, "sparklines")) ? v : cli_config_get(cf, CFG_SPARKLINES);
    tc.readonly = ctx->readonly;
    tc.no_color = ctx->no_color;
    tc.no_anim = cli_flag(me, a, "no-anim");
    tc.no_mouse = cli_flag(me, a, "no-mouse") || (cf->val[CFG_MOUSE] && !cf->num[CFG_MOUSE]);
    tc.frames = frames;
    tc.interval_ms = (int)interval;
    status = tui_run(&tc);
    remote_stop(r); /* the daemon and its deployments go on */
    return cli_close(ctx, c, status);
}

static int exec_console(struct cli_ctx *ctx, struct cli_args *a)
{
    struct cli_config cf;
    struct sd_err err = {0};
    int status;

    /* The config file first: a bad one is refused before the terminal is
     * taken, naming its line; options given here win over it. */
    if (cli_config_load(NULL, &cf, &err) != 0)
        return cli_fail_err(&err);
    console_prefs_from(&cf);
    status = run_console(ctx, a, &cf);
    cli_config_free(&cf);
    return status;
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
