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
 * With several hosts (--host given more than once, or `host =` lines in
 * the config file; `local` is this machine's daemon) the console follows
 * each daemon with a remote of its own (tui/remote.h) and shows them all
 * (docs/fleet.md): every host is dialed in the background, so one that
 * cannot be reached does not keep the console from the others.
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
#include "evq.h"
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

/* One host of several: the local daemon (url NULL) or one through ssh. */
struct host {
    struct dial d;       /* d.ctx: the console's context, or for local lctx */
    struct cli_ctx lctx; /* local: the console's, without --host */
    const char *url;
    int start_tried; /* a remote daemon is started on the first dial only (watcher only) */
    char name[64];
    char errlog[64]; /* ssh's log (-E), for the reason a dial failed; "" none */
};

/* remote.h's dial for struct host. A host on another machine is asked to
 * start its daemon once (as `deploy --detach` does); after that a lost
 * daemon is the operator's to restart there. Prints nothing. */
static int host_dial(void *arg, int start, struct client **out, struct sd_err *err)
{
    struct host *h = arg;
    int status = 0;

    if (h->url == NULL) {
        if (cli_daemon(h->d.ctx, start, h->d.sargs, out, &status) == 1)
            return 0;
        return sd_err_set(err, SD_EENV, "no daemon serves %s", h->d.ctx->db);
    }
    if (start) {
        start = !h->start_tried;
        h->start_tried = 1;
    }
    return cli_host_dial(h->d.ctx, h->url, start, h->errlog[0] ? h->errlog : NULL, out, err);
}

/* A host's name in the table: the URL's host (no user, no port), "local",
 * or with -2, -3... when an earlier host has the same. */
static void host_name(struct host *hs, int n, struct host *h)
{
    const char *u = h->url, *at, *end;
    int dup = 1;

    if (u == NULL) {
        snprintf(h->name, sizeof h->name, "local");
    } else {
        u += 6; /* ssh:// */
        end = u + strcspn(u, "/");
        if ((at = memchr(u, '@', (size_t)(end - u))) != NULL)
            u = at + 1;
        if (*u == '[') { /* [v6]:port */
            const char *rb = memchr(u, ']', (size_t)(end - u));
            end = rb ? rb + 1 : end;
        } else {
            const char *colon = memchr(u, ':', (size_t)(end - u));
            end = colon ? colon : end;
        }
        snprintf(h->name, sizeof h->name, "%.*s", (int)(end - u), u);
    }
    for (int i = 0; i < n; i++) {
        size_t l = strlen(h->name);
        if (&hs[i] != h && hs[i].name[0] && strncmp(hs[i].name, h->name, l) == 0 &&
            (hs[i].name[l] == '\0' || hs[i].name[l] == '-'))
            dup++;
    }
    if (dup > 1) {
        size_t l = strlen(h->name);
        snprintf(h->name + (l < 50 ? l : 50), 12, "-%d", dup);
    }
}

/* The hosts asked for: --host (every one given), else $SWARMDECK_HOST,
 * else the config file's `host =` lines. Returns how many (0: none, the
 * console's usual daemon). */
static int hosts_asked(const struct cli_ctx *ctx, const struct cli_config *cf, const char **out)
{
    int n = 0;
    if (ctx->nhosts > 0) {
        for (int i = 0; i < ctx->nhosts && n < REMOTE_MAX_HOSTS; i++)
            out[n++] = ctx->hosts[i];
    } else if (ctx->host != NULL) {
        out[n++] = ctx->host;
    } else {
        for (size_t i = 0; i < cf->nhosts && n < REMOTE_MAX_HOSTS; i++)
            out[n++] = cf->hosts[i];
    }
    return n;
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

/* The terminal settings common to every console. */
static void fill_conf(struct tui_conf *tc, const struct cli_cmd *me, struct cli_args *a,
                      const struct cli_ctx *ctx, const struct cli_config *cf, long frames,
                      long interval)
{
    const char *v;

    tc->store = ctx->store;
    tc->bell = cli_flag(me, a, "bell") || (cf->val[CFG_BELL] && cf->num[CFG_BELL]);
    tc->osc9 = cli_flag(me, a, "osc9") || (cf->val[CFG_OSC9] && cf->num[CFG_OSC9]);
    tc->helper_path = cli_helper_path();
    tc->runner_path = cli_runner_path();
    tc->version = NULL; /* the console knows its own version */
    tc->theme = (v = cli_val(me, a, "theme")) ? v : cli_config_get(cf, CFG_THEME);
    tc->sparklines = (v = cli_val(me, a, "sparklines")) ? v : cli_config_get(cf, CFG_SPARKLINES);
    tc->readonly = ctx->readonly;
    tc->no_color = ctx->no_color;
    tc->no_anim = cli_flag(me, a, "no-anim");
    tc->no_mouse = cli_flag(me, a, "no-mouse") || (cf->val[CFG_MOUSE] && !cf->num[CFG_MOUSE]);
    tc->frames = frames;
    tc->interval_ms = (int)interval;
}

/* The console on several daemons (urls, n of them; "local": this
 * machine's). Each is dialed by its remote's watcher, so none keeps the
 * console from starting. The local store is opened for the history (shown
 * when local is one of the hosts) and the learning panes. Returns an exit
 * status. */
static int run_hosts(struct cli_ctx *ctx, struct cli_args *a, struct cli_config *cf,
                     const char **urls, int n, long frames, long interval)
{
    extern const struct cli_cmd cmd_console;
    const struct cli_cmd *me = &cmd_console;
    static struct host hs[REMOTE_MAX_HOSTS]; /* the remotes' dial args: live until they stop */
    struct remote *rs[REMOTE_MAX_HOSTS] = {0};
    const char *names[REMOTE_MAX_HOSTS] = {0};
    int want[REMOTE_MAX_HOSTS] = {0};
    struct tui_conf tc;
    struct coord_opts o;
    struct evq *q;
    char why[512] = "";
    int status = 0, next = 1, nh = 0, logfd, saved_err = -1;

    if (ctx->no_daemon)
        return cli_fail(SD_EUSAGE, "--no-daemon: the console shows hosts through their daemons");
    memset(hs, 0, sizeof hs);
    for (int i = 0; i < n; i++) {
        int local = strcmp(urls[i], "local") == 0, at = local ? 0 : next;
        if (!local && (strncmp(urls[i], "ssh://", 6) != 0 || urls[i][6] == '\0'))
            return cli_fail(SD_EUSAGE,
                            "--host %s: expected ssh://[user@]host[:port][/path/to/store] or local",
                            urls[i]);
        for (int k = 0; k < REMOTE_MAX_HOSTS; k++)
            if (want[k] && (local ? k == 0 : hs[k].url && strcmp(hs[k].url, urls[i]) == 0))
                return cli_fail(SD_EUSAGE, "--host %s: given twice", urls[i]);
        if (!local && next == REMOTE_MAX_HOSTS)
            return cli_fail(SD_EUSAGE, "--host: more than %d hosts", REMOTE_MAX_HOSTS - 1);
        if (!local)
            next++;
        want[at] = 1;
        hs[at].d.ctx = ctx;
        if (local) { /* cli_daemon: this machine's daemon, not --host's */
            hs[at].lctx = *ctx;
            hs[at].lctx.host = NULL;
            hs[at].lctx.nhosts = 0;
            hs[at].lctx.store = NULL;
            hs[at].d.ctx = &hs[at].lctx;
        }
        hs[at].url = local ? NULL : urls[i];
        cli_daemon_engine_args(me, a, hs[at].d.sargs, sizeof hs[at].d.sargs / sizeof(char *));
        host_name(hs, REMOTE_MAX_HOSTS, &hs[at]);
    }
    if ((status = cli_coord_opts(me, a, &o)) != 0)
        return status; /* checked even when the daemons keep their own */
    if ((status = cli_open_store(ctx, ctx->readonly)) != 0)
        return status;
    if ((q = evq_new(16384)) == NULL)
        return cli_close(ctx, NULL, cli_fail(SD_ENOMEM, "out of memory"));
    /* From here the hosts' connections start (ssh and what it runs there
     * inherit stderr): what they say goes to the console's log, never over
     * the screen. */
    if ((logfd = tui_log_open()) >= 0) {
        fflush(stderr);
        saved_err = dup(2);
        dup2(logfd, 2);
        close(logfd);
    }
    for (int i = 0; i < next && status == 0; i++) {
        /* another host's ended rows stay: its store is there, not here */
        struct remote_conf rc = {.dial = host_dial,
                                 .arg = &hs[i],
                                 .host = i,
                                 .name = hs[i].name,
                                 .q = q,
                                 .may_start = !ctx->readonly,
                                 .keep_ended = i > 0};
        struct sd_err err = {0};
        if (!want[i])
            continue;
        if (hs[i].url != NULL) { /* a private file (0600) for ssh's messages, removed below */
            int fd;
            snprintf(hs[i].errlog, sizeof hs[i].errlog, "/tmp/swarmdeck-ssh-XXXXXX");
            if ((fd = mkstemp(hs[i].errlog)) >= 0)
                close(fd);
            else
                hs[i].errlog[0] = '\0';
        }
        sd_err_set(&err, SD_EENV, "connecting");
        if ((rs[i] = remote_start(&rc, NULL, &err)) == NULL) {
            status = sd_err_exit_status(err.code ? err.code : SD_EENV);
            snprintf(why, sizeof why, "%s", err.msg);
        }
        names[i] = hs[i].name;
        nh = i + 1;
    }
    if (status == 0) {
        memset(&tc, 0, sizeof tc);
        fill_conf(&tc, me, a, ctx, cf, frames, interval);
        tc.remotes = rs;
        tc.names = names;
        tc.nhosts = nh;
        for (int i = 0; i < nh && tc.remote == NULL; i++)
            tc.remote = rs[i];
        status = tui_run(&tc);
    }
    for (int i = 0; i < next; i++)
        remote_stop(rs[i]); /* every daemon and its deployments go on */
    for (int i = 0; i < next; i++)
        if (hs[i].errlog[0])
            unlink(hs[i].errlog);
    evq_free(q);
    if (saved_err >= 0) {
        dup2(saved_err, 2);
        close(saved_err);
    }
    if (why[0])
        cli_fail(SD_EENV, "%s", why);
    return cli_close(ctx, NULL, status);
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
    const char *urls[REMOTE_MAX_HOSTS];
    long frames = 0, interval;
    int status, nurls;

    if (cli_flag(me, a, "dump-keys")) {
        tui_dump_keys(stdout);
        return 0;
    }
    if ((status = console_flags(me, a, cf, &frames, &interval)) != 0)
        return status;
    if (!isatty(0) || !isatty(1))
        return cli_fail(SD_EUSAGE, "the console needs a terminal (try `swarmdeck status`)");
    nurls = hosts_asked(ctx, cf, urls);
    if (nurls > 1 || (nurls == 1 && strcmp(urls[0], "local") != 0))
        return run_hosts(ctx, a, cf, urls, nurls, frames, interval);
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
    fill_conf(&tc, me, a, ctx, cf, frames, interval);
    tc.coord = c;
    tc.remote = r;
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
