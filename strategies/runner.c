/*
 * runner.c: main() of swarmdeck-runner, the program that runs inside a sandbox.
 *
 * DESIGN. A table of subcommands (runner.h); help screens are generated from each entry's
 * option table, so `--help` can never disagree with what is parsed. The binary is linked
 * statically against libc, libm and jansson so the same file runs in an empty sandbox or a
 * microVM. Exit codes: 0 success, 2 bad usage or parameters, 3 bad data.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "runner.h"

static const struct cmd_entry *cmd_table[] = {
    &cmd_run_entry,
    &cmd_indicator_entry,
    &cmd_metrics_entry,
    &cmd_list_entry,
};

#define NCMDS (sizeof cmd_table / sizeof cmd_table[0])

int args_parse(const struct cmd_entry *c, int argc, char **argv, struct args *a, struct err *e)
{
    const char *arg, *eq, *val;
    size_t i, len;
    int k;

    memset(a, 0, sizeof *a);
    for (k = 0; k < argc; k++) {
        arg = argv[k];
        if (strncmp(arg, "--", 2) != 0) {
            if (a->npos == c->maxpos)
                return err_set(e, EXIT_USAGE, "%s: unexpected argument \"%s\" (try --help)",
                               c->name, arg);
            a->pos[a->npos++] = arg;
            continue;
        }
        eq = strchr(arg, '=');
        len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        for (i = 0; i < c->nopts; i++) {
            if (strlen(c->opts[i].name) == len && strncmp(c->opts[i].name, arg, len) == 0)
                break;
        }
        if (i == c->nopts)
            return err_set(e, EXIT_USAGE, "%s: unknown option %.*s (try --help)", c->name, (int)len,
                           arg);
        if (a->value[i] != NULL)
            return err_set(e, EXIT_USAGE, "%s: option %s given twice", c->name, c->opts[i].name);
        if (eq != NULL)
            val = eq + 1;
        else if (k + 1 < argc)
            val = argv[++k];
        else
            return err_set(e, EXIT_USAGE, "%s: option %s needs a value (%s)", c->name,
                           c->opts[i].name, c->opts[i].metavar);
        a->value[i] = val;
    }
    return 0;
}

int args_number(const char *name, const char *text, double min, double max, double *out,
                struct err *e)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (*text == '\0' || *end != '\0' || !isfinite(v) || errno == ERANGE || v < min || v > max)
        return err_set(e, EXIT_USAGE, "%s must be a number in [%g, %g], got \"%s\"", name, min, max,
                       text);
    *out = v;
    return 0;
}

int args_integer(const char *name, const char *text, long min, long max, long *out, struct err *e)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || errno == ERANGE || v < min || v > max)
        return err_set(e, EXIT_USAGE, "%s must be an integer in [%ld, %ld], got \"%s\"", name, min,
                       max, text);
    *out = v;
    return 0;
}

static void usage_all(FILE *f)
{
    size_t i;

    fprintf(f, "usage: swarmdeck-runner COMMAND [OPTIONS]\n\ncommands:\n");
    for (i = 0; i < NCMDS; i++)
        fprintf(f, "  %-10s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
    fprintf(f, "\nswarmdeck-runner COMMAND --help describes one command. Exit codes: 0 success, "
               "2 bad usage or parameters, 3 bad data.\n");
}

static void usage_cmd(const struct cmd_entry *c)
{
    size_t i;

    printf("usage: swarmdeck-runner %s %s\n\n%s\n", c->name, c->usage, c->summary);
    if (c->nopts > 0)
        printf("\noptions:\n");
    for (i = 0; i < c->nopts; i++)
        printf("  %s %-14s %s\n", c->opts[i].name, c->opts[i].metavar, c->opts[i].help);
}

static int wants_help(int argc, char **argv)
{
    int i;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const struct cmd_entry *c = NULL;
    struct err e = {0};
    struct args a;
    size_t i;

    protocol_init();
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage_all(stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    for (i = 0; i < NCMDS; i++) {
        if (strcmp(argv[1], cmd_table[i]->name) == 0)
            c = cmd_table[i];
    }
    if (c == NULL) {
        char names[128];
        size_t used = 0;

        for (i = 0; i < NCMDS && used < sizeof names; i++)
            used += snprintf(names + used, sizeof names - used, "%s%s", i > 0 ? ", " : "",
                             cmd_table[i]->name);
        err_set(&e, EXIT_USAGE, "unknown command \"%s\" (commands: %s)", argv[1], names);
        return protocol_fail(&e);
    }
    if (wants_help(argc - 2, argv + 2)) {
        usage_cmd(c);
        return 0;
    }
    if (args_parse(c, argc - 2, argv + 2, &a, &e) != 0 || c->exec(&a, &e) != 0)
        return protocol_fail(&e);
    return 0;
}
