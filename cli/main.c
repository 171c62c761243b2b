/*
 * main.c: the swarmdeck entry point: global options, the command table,
 * option parsing and help, all generated from the descriptors in cmd-*.c.
 *
 * With no command, swarmdeck starts the console (or, in a build without
 * one, prints the status).
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "crypto.h"
#include "gendoc.h"

extern const struct cli_cmd cmd_patterns, cmd_suggest;
extern const struct cli_cmd cmd_benchmark;
extern const struct cli_cmd cmd_deploy, cmd_swarm, cmd_status, cmd_history, cmd_show, cmd_logs,
    cmd_cleanup, cmd_export, cmd_import, cmd_data, cmd_strategies, cmd_doctor, cmd_console,
    cmd_serve, cmd_wait, cmd_dial;
extern const struct cli_cmd cmd_sync;
extern const struct cli_cmd cmd_pause, cmd_resume;
extern const struct cli_cmd cmd_verify, cmd_rekey, cmd_config;
static const struct cli_cmd cmd_version, cmd_completion, cmd_manpage;

static const struct cli_cmd *const commands[] = {
    &cmd_suggest, &cmd_patterns,   &cmd_deploy,    &cmd_swarm,      &cmd_status,
    &cmd_history, &cmd_show,       &cmd_logs,      &cmd_cleanup,    &cmd_export,
    &cmd_import,  &cmd_strategies, &cmd_data,      &cmd_doctor,     &cmd_console,
    &cmd_verify,  &cmd_rekey,      &cmd_benchmark, &cmd_serve,      &cmd_wait,
    &cmd_dial,    &cmd_config,     &cmd_version,   &cmd_completion, &cmd_manpage,
    &cmd_sync, // the fleet (docs/fleet.md)
    &cmd_pause,   &cmd_resume,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* Keep a private copy of the key and blank the original, so it does not
 * linger in this process's argv (/proc/PID/cmdline) or environment, which
 * spawned helpers would inherit. */
static int set_key(struct cli_ctx *ctx, char *v)
{
    crypto_hold_keys(); /* no core dump may carry it */
    if (ctx->key != NULL) {
        crypto_wipe(ctx->key, strlen(ctx->key));
        free(ctx->key);
    }
    ctx->key = xstrdup(v);
    memset(v, 'x', strlen(v));
    return 0;
}

static int db_given; /* --db was typed (the default's directory is created; this one's is not) */
static int want_version;

static int set_db(struct cli_ctx *ctx, char *v)
{
    ctx->db = v;
    db_given = 1;
    return 0;
}

static int set_version(struct cli_ctx *ctx, char *v)
{
    (void)ctx;
    (void)v;
    want_version = 1;
    return 0;
}

/* `swarmdeck version` and `swarmdeck --version`: the version on stdout. */
static int exec_version(struct cli_ctx *ctx, struct cli_args *a)
{
    (void)ctx;
    (void)a;
    printf("swarmdeck %s\n", SWARMDECK_VERSION);
    return 0;
}

static const struct cli_cmd cmd_version = {
    .name = "version",
    .usage = "",
    .summary = "print the version",
    .exec = exec_version,
};

static int exec_completion(struct cli_ctx *ctx, struct cli_args *a);
static int exec_manpage(struct cli_ctx *ctx, struct cli_args *a);

static const struct cli_cmd cmd_completion = {
    .name = "completion",
    .usage = "bash|zsh|fish",
    .summary = "print the shell completion script (generated from the command table)",
    .min_args = 1,
    .max_args = 1,
    .exec = exec_completion,
};

static const struct cli_cmd cmd_manpage = {
    .name = "manpage",
    .usage = "",
    .summary = "print the manual page swarmdeck(1) in roff (`swarmdeck manpage | man -l -`)",
    .exec = exec_manpage,
};

/* A --db whose directory does not exist is a typo far more often than a
 * wish for a new store there: refused, nothing created. Returns 0 or the
 * exit status. */
static int check_db_dir(const char *db)
{
    char dir[4096];
    const char *slash = strrchr(db, '/');
    struct stat sb;

    if (slash == NULL)
        return 0; /* the current directory */
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - db), db);
    if (dir[0] == '\0')
        return 0; /* "/x.db" */
    if (stat(dir, &sb) != 0)
        return cli_fail(SD_EUSAGE,
                        "--db %s: the directory %s does not exist (create it first; no store "
                        "was created)",
                        db, dir);
    if (!S_ISDIR(sb.st_mode))
        return cli_fail(SD_EUSAGE, "--db %s: %s is not a directory", db, dir);
    return 0;
}

static int set_no_color(struct cli_ctx *ctx, char *v)
{
    (void)v;
    ctx->no_color = 1;
    return 0;
}

static int set_readonly(struct cli_ctx *ctx, char *v)
{
    (void)v;
    ctx->readonly = 1;
    return 0;
}

static int set_verbose(struct cli_ctx *ctx, char *v)
{
    (void)v;
    ctx->verbose = 1;
    return 0;
}

static int set_host(struct cli_ctx *ctx, char *v)
{
    size_t max = sizeof ctx->hosts / sizeof ctx->hosts[0];
    if ((size_t)ctx->nhosts == max) {
        fprintf(stderr, "swarmdeck: --host: more than %zu hosts\n", max);
        return 2;
    }
    ctx->hosts[ctx->nhosts++] = v; /* the console shows them all */
    ctx->host = v;                 /* the other commands: the last one */
    return 0;
}

static int set_no_daemon(struct cli_ctx *ctx, char *v)
{
    (void)v;
    ctx->no_daemon = 1;
    return 0;
}

static int set_help(struct cli_ctx *ctx, char *v)
{
    (void)v;
    ctx->help = 1;
    return 0;
}

/* The global options: the one table take_globals parses and help prints. */
struct global_opt {
    struct cli_opt opt;
    int (*set)(struct cli_ctx *ctx, char *v); /* v: the argument, or "1" for a flag */
};

static const struct global_opt global_opts[] = {
    {{"db", 0, "PATH",
      "the store (default $SWARMDECK_DB or $XDG_DATA_HOME/swarmdeck/swarmdeck.db)"},
     set_db},
    {{"no-color", 0, NULL, "no colours (also NO_COLOR)"}, set_no_color},
    {{"readonly", 0, NULL, "change nothing: refuse every command that writes"}, set_readonly},
    {{"encryption-key", 0, "KEY",
      "the store's key: base64 of 32 bytes, or a passphrase (also SWARMDECK_KEY)"},
     set_key},
    {{"host", 0, "URL",
      "the daemon of a store on another machine: ssh://[user@]host[:port][/path/to/store] "
      "(also SWARMDECK_HOST)"},
     set_host},
    {{"no-daemon", 0, NULL, "work in this process even when a daemon serves the store"},
     set_no_daemon},
    {{"verbose", 'v', NULL, "diagnostics on stderr"}, set_verbose},
    {{"version", 0, NULL, "print the version and exit"}, set_version},
    {{"help", 'h', NULL, "show help"}, set_help},
};
#define NGLOBALS (sizeof global_opts / sizeof global_opts[0])

static int applies(const char *cmd, const char *opt, int global);

/* The man page or a completion script from the tables. */
static int gendoc(const char *what)
{
    struct cli_opt g[NGLOBALS];
    for (size_t i = 0; i < NGLOBALS; i++)
        g[i] = global_opts[i].opt;
    if (gendoc_write(stdout, what, SWARMDECK_VERSION, commands, NCOMMANDS, g, NGLOBALS, applies) !=
        0)
        return cli_fail(SD_EUSAGE, "completion: \"%s\" is not bash, zsh or fish", what);
    return fflush(stdout) == 0 ? 0 : SD_EENV;
}

static int exec_completion(struct cli_ctx *ctx, struct cli_args *a)
{
    (void)ctx;
    if (strcmp(a->argv[0], "man") == 0)
        return cli_fail(SD_EUSAGE, "completion: \"man\" is not bash, zsh or fish");
    return gendoc(a->argv[0]);
}

static int exec_manpage(struct cli_ctx *ctx, struct cli_args *a)
{
    (void)ctx;
    (void)a;
    return gendoc("man");
}

/* Options a command's table shares with others (the deploy options) that
 * do nothing there: not listed in its help, refused if given. Global
 * options listed here are only left out of its help (it refuses them
 * itself, saying why). */
static const struct {
    const char *cmd;
    const char *const *opts;
    const char *const *globals;
} not_for[] = {
    {"console", (const char *const[]){"json", NULL}, NULL},
};

static int applies(const char *cmd, const char *opt, int global)
{
    for (size_t i = 0; i < sizeof not_for / sizeof not_for[0]; i++) {
        const char *const *l = global ? not_for[i].globals : not_for[i].opts;
        if (strcmp(not_for[i].cmd, cmd) != 0)
            continue;
        for (; l && *l; l++)
            if (strcmp(*l, opt) == 0)
                return 0;
    }
    return 1;
}

static void print_opt(FILE *f, const struct cli_opt *o)
{
    char left[64];

    if (o->shrt)
        snprintf(left, sizeof left, "-%c, --%s%s%s", o->shrt, o->lng, o->arg ? " " : "",
                 o->arg ? o->arg : "");
    else
        snprintf(left, sizeof left, "    --%s%s%s", o->lng, o->arg ? " " : "",
                 o->arg ? o->arg : "");
    fprintf(f, "  %-28s %s\n", left, o->help);
}

/* The global options that apply to cmd (NULL: all). */
static void print_globals(FILE *f, const char *cmd)
{
    fprintf(f, "\nglobal options:\n");
    for (size_t i = 0; i < NGLOBALS; i++)
        if (cmd == NULL || applies(cmd, global_opts[i].opt.lng, 1))
            print_opt(f, &global_opts[i].opt);
}

static void usage_all(FILE *f)
{
    fprintf(f, "usage: swarmdeck [global options] [command] [options]\n\n");
    fprintf(f, "With no command, swarmdeck starts the console.\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    print_globals(f, NULL);
    fprintf(f, "\nRun `swarmdeck COMMAND --help` for a command's options.\n");
}

static void usage_cmd(FILE *f, const struct cli_cmd *c)
{
    fprintf(f, "usage: swarmdeck %s %s\n\n%s\n", c->name, c->usage, c->summary);
    if (c->opts && c->opts->lng) {
        fprintf(f, "\noptions:\n");
        for (const struct cli_opt *o = c->opts; o->lng; o++)
            if (applies(c->name, o->lng, 0))
                print_opt(f, o);
    }
    print_globals(f, c->name);
}

/* The global option argv[*i] is (advancing *i past its argument), or NULL.
 * *v is its value: "--name=V", the next argument, or "1" for a flag. */
static const struct global_opt *global_opt(int argc, char **argv, int *i, char **v, int *status)
{
    const char *a = argv[*i];
    static char one[] = "1";

    *status = 0;
    for (size_t k = 0; k < NGLOBALS; k++) {
        const struct cli_opt *o = &global_opts[k].opt;
        size_t n = strlen(o->lng);
        int lng = a[0] == '-' && a[1] == '-' && strncmp(a + 2, o->lng, n) == 0;
        if (o->shrt && a[0] == '-' && a[1] == o->shrt && a[2] == '\0') {
            *v = one;
        } else if (lng && a[2 + n] == '\0') {
            if (o->arg != NULL && *i + 1 >= argc) {
                *status = cli_fail(SD_EUSAGE, "--%s needs a %s", o->lng, o->arg);
                return &global_opts[k];
            }
            *v = o->arg != NULL ? argv[++*i] : one;
        } else if (lng && a[2 + n] == '=' && o->arg != NULL) {
            *v = argv[*i] + 3 + n;
        } else {
            continue;
        }
        return &global_opts[k];
    }
    return NULL;
}

/* Remove global options from anywhere in argv (tmux accepts them only
 * first; operators type them anywhere, so we do too). */
static int take_globals(struct cli_ctx *ctx, int *argc, char **argv)
{
    int out = 1, status;
    for (int i = 1; i < *argc; i++) {
        const struct global_opt *o;
        char *v = NULL;
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if ((o = global_opt(*argc, argv, &i, &v, &status)) == NULL)
            argv[out++] = argv[i];
        else if (status != 0 || (status = o->set(ctx, v)) != 0)
            return status;
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

static int parse(const struct cli_cmd *c, int argc, char **argv, struct cli_args *a)
{
    struct option lo[34];
    /* No leading '+': options may follow operands, as the usage lines show
     * (`import FILE --json`, `data import FILE --symbol SYM`). */
    char shorts[96] = "";
    size_t n = 0, sl = 0;
    int ch, idx;

    memset(a, 0, sizeof *a);
    for (const struct cli_opt *o = c->opts; o && o->lng && n < 32; o++, n++) {
        lo[n].name = o->lng;
        lo[n].has_arg = o->arg ? required_argument : no_argument;
        lo[n].flag = NULL;
        lo[n].val = 256 + (int)n;
        if (o->shrt && sl + 3 < sizeof shorts) {
            shorts[sl++] = (char)o->shrt;
            if (o->arg)
                shorts[sl++] = ':';
        }
    }
    shorts[sl] = '\0';
    memset(&lo[n], 0, sizeof lo[n]);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, shorts, lo, &idx)) != -1) {
        if (ch == '?' || ch == ':') {
            if (optopt >= 256 || optopt == 0)
                return cli_fail(SD_EUSAGE,
                                "%s: unknown option or missing argument: %s (see --help)", c->name,
                                argv[optind - 1]);
            return cli_fail(SD_EUSAGE, "%s: unknown option -%c or missing argument (see --help)",
                            c->name, optopt);
        }
        if (ch >= 256 && !applies(c->name, c->opts[ch - 256].lng, 0))
            return cli_fail(SD_EUSAGE, "%s: --%s does not apply here (see --help)", c->name,
                            c->opts[ch - 256].lng);
        if (ch >= 256) {
            a->values[ch - 256] = c->opts[ch - 256].arg ? optarg : "1";
            continue;
        }
        for (size_t i = 0; i < n; i++)
            if (c->opts[i].shrt == ch)
                a->values[i] = c->opts[i].arg ? optarg : "1";
    }
    a->argc = argc - optind;
    a->argv = argv + optind;
    if (a->argc < c->min_args || (c->max_args >= 0 && a->argc > c->max_args))
        return cli_fail(SD_EUSAGE, "usage: swarmdeck %s %s", c->name, c->usage);
    return 0;
}

int main(int argc, char **argv)
{
    struct cli_ctx ctx;
    struct cli_args a;
    const struct cli_cmd *c = NULL;
    int rc;

    memset(&ctx, 0, sizeof ctx);
    if ((rc = take_globals(&ctx, &argc, argv)) != 0)
        return rc;
    if (getenv("NO_COLOR") != NULL)
        ctx.no_color = 1;
    if (ctx.host == NULL && getenv("SWARMDECK_HOST") != NULL && getenv("SWARMDECK_HOST")[0])
        ctx.host = getenv("SWARMDECK_HOST");
    if (ctx.key == NULL && getenv("SWARMDECK_KEY") != NULL && getenv("SWARMDECK_KEY")[0])
        set_key(&ctx, getenv("SWARMDECK_KEY"));
    unsetenv("SWARMDECK_KEY");
    if (want_version)
        return exec_version(&ctx, NULL);
    if (ctx.db == NULL)
        ctx.db = sd_default_db();
    if (argc < 2) {
        if (ctx.help) {
            usage_all(stdout);
            return 0;
        }
        c = isatty(0) && isatty(1) ? &cmd_console : &cmd_status;
    } else if (strcmp(argv[1], "help") == 0) {
        if (argc < 3) {
            usage_all(stdout);
            return 0;
        }
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (strcmp(commands[i]->name, argv[2]) == 0)
                c = commands[i];
        if (c == NULL)
            return cli_fail(SD_EUSAGE, "unknown command \"%s\" (see swarmdeck help)", argv[2]);
        usage_cmd(stdout, c);
        return 0;
    } else {
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (strcmp(commands[i]->name, argv[1]) == 0)
                c = commands[i];
        if (c == NULL)
            return cli_fail(SD_EUSAGE, "unknown command \"%s\" (see swarmdeck help)", argv[1]);
        argc--;
        argv++;
    }
    if (ctx.help) {
        usage_cmd(stdout, c);
        return 0;
    }
    if ((rc = parse(c, argc, argv, &a)) != 0)
        return rc;
    /* Only the console shows several hosts; any other command acts on one. */
    if (ctx.nhosts > 1 && c != &cmd_console)
        return cli_fail(SD_EUSAGE,
                        "--host given %d times: %s acts on one host (the console shows "
                        "several)",
                        ctx.nhosts, c->name);
    if (db_given && c != &cmd_version && (rc = check_db_dir(ctx.db)) != 0)
        return rc;
    /* Read-only is a property of the command, checked here once. */
    if (ctx.readonly && (c->flags & CLI_WRITES) &&
        (c->writer == NULL || (a.argc > 0 && strcmp(a.argv[0], c->writer) == 0)))
        return cli_fail(SD_EUSAGE, "--readonly: refusing to %s%s%s (it writes to the store)",
                        c->name, c->writer ? " " : "", c->writer ? c->writer : "");
    /* libcurl (the E2B provider) is initialised once, before any thread. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = c->exec(&ctx, &a);
    store_close(ctx.store);
    if (ctx.key != NULL) {
        crypto_wipe(ctx.key, strlen(ctx.key));
        free(ctx.key);
    }
    curl_global_cleanup();
    return rc;
}
