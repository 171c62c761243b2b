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
#include <unistd.h>

#include "cli.h"
#include "crypto.h"

extern const struct cli_cmd cmd_patterns, cmd_suggest;
extern const struct cli_cmd cmd_benchmark;
extern const struct cli_cmd cmd_deploy, cmd_swarm, cmd_status, cmd_history, cmd_show, cmd_logs,
    cmd_cleanup, cmd_export, cmd_import, cmd_data, cmd_strategies, cmd_doctor, cmd_console,
    cmd_serve;
extern const struct cli_cmd cmd_verify, cmd_rekey;

static const struct cli_cmd *const commands[] = {
    &cmd_suggest, &cmd_patterns, &cmd_deploy,  &cmd_swarm,  &cmd_status, &cmd_history,
    &cmd_show,    &cmd_logs,     &cmd_cleanup, &cmd_export, &cmd_import, &cmd_strategies,
    &cmd_data,    &cmd_doctor,   &cmd_console, &cmd_verify, &cmd_rekey,  &cmd_benchmark, &cmd_serve,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct cli_opt global_opts[] = {
    {"db", 0, "PATH", "the store (default $SWARMDECK_DB or $XDG_DATA_HOME/swarmdeck/swarmdeck.db)"},
    {"no-color", 0, NULL, "no colours (also NO_COLOR)"},
    {"readonly", 0, NULL, "change nothing: refuse every command that writes"},
    {"encryption-key", 0, "KEY",
     "the store's key: base64 of 32 bytes, or a passphrase (also "
     "SWARMDECK_KEY)"},
    {"verbose", 'v', NULL, "diagnostics on stderr"},
    {"help", 'h', NULL, "show help"},
    {NULL, 0, NULL, NULL},
};

static void print_opts(FILE *f, const struct cli_opt *o)
{
    for (; o && o->lng; o++) {
        char left[64];
        if (o->shrt)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->shrt, o->lng, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->lng, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        fprintf(f, "  %-28s %s\n", left, o->help);
    }
}

static void usage_all(FILE *f)
{
    fprintf(f, "usage: swarmdeck [global options] [command] [options]\n\n");
    fprintf(f, "With no command, swarmdeck starts the console.\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\nglobal options:\n");
    print_opts(f, global_opts);
    fprintf(f, "\nRun `swarmdeck COMMAND --help` for a command's options.\n");
}

static void usage_cmd(FILE *f, const struct cli_cmd *c)
{
    fprintf(f, "usage: swarmdeck %s %s\n\n%s\n", c->name, c->usage, c->summary);
    if (c->opts && c->opts->lng) {
        fprintf(f, "\noptions:\n");
        print_opts(f, c->opts);
    }
    fprintf(f, "\nglobal options:\n");
    print_opts(f, global_opts);
}

/* Keep a private copy of the key and blank the original, so it does not
 * linger in this process's argv (/proc/PID/cmdline) or environment, which
 * spawned helpers would inherit. */
static void set_key(struct cli_ctx *ctx, char *v)
{
    if (ctx->key != NULL) {
        crypto_wipe(ctx->key, strlen(ctx->key));
        free(ctx->key);
    }
    ctx->key = xstrdup(v);
    memset(v, 'x', strlen(v));
}

/* Remove global options from anywhere in argv (tmux accepts them only
 * first; operators type them anywhere, so we do too). */
static int take_globals(struct cli_ctx *ctx, int *argc, char **argv, int *help)
{
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(a, "--db") == 0) {
            if (i + 1 >= *argc)
                return cli_fail(SD_EUSAGE, "--db needs a PATH");
            ctx->db = argv[++i];
        } else if (strncmp(a, "--db=", 5) == 0) {
            ctx->db = a + 5;
        } else if (strcmp(a, "--encryption-key") == 0 || strncmp(a, "--encryption-key=", 17) == 0) {
            char *v = a[16] == '=' ? argv[i] + 17 : NULL;
            if (v == NULL && i + 1 >= *argc)
                return cli_fail(SD_EUSAGE, "--encryption-key needs a KEY");
            if (v == NULL)
                v = argv[++i];
            set_key(ctx, v);
        } else if (strcmp(a, "--no-color") == 0) {
            ctx->no_color = 1;
        } else if (strcmp(a, "--readonly") == 0) {
            ctx->readonly = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            ctx->verbose = 1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            *help = 1;
        } else {
            argv[out++] = argv[i];
        }
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
    int help = 0, rc;

    memset(&ctx, 0, sizeof ctx);
    if ((rc = take_globals(&ctx, &argc, argv, &help)) != 0)
        return rc;
    if (getenv("NO_COLOR") != NULL)
        ctx.no_color = 1;
    if (ctx.key == NULL && getenv("SWARMDECK_KEY") != NULL && getenv("SWARMDECK_KEY")[0])
        set_key(&ctx, getenv("SWARMDECK_KEY"));
    unsetenv("SWARMDECK_KEY");
    if (ctx.db == NULL)
        ctx.db = sd_default_db();
    if (argc < 2) {
        if (help) {
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
    if (help) {
        usage_cmd(stdout, c);
        return 0;
    }
    if ((rc = parse(c, argc, argv, &a)) != 0)
        return rc;
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
