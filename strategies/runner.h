/*
 * runner.h: subcommands of swarmdeck-runner and their option tables.
 *
 * DESIGN (after tmux's cmd-*.c). Each subcommand lives in its own cmd_*.c file and exports a
 * `struct cmd_entry`: name, usage line, summary and a table of options with their help text.
 * main() (runner.c) picks the entry, prints `--help` from the table, parses the options with
 * args_parse() against that same table, then calls exec(). exec() validates everything
 * before producing output and returns 0, or -1 with the error filled in; main() reports it
 * through the protocol and exits with its code. Main thread only.
 */
#ifndef RUNNER_RUNNER_H
#define RUNNER_RUNNER_H

#include <stddef.h>

#include "error.h"

#define ARGS_MAX 16

struct arg_opt {
    const char *name;    /* "--data" */
    const char *metavar; /* "FILE.csv" */
    const char *help;
};

/* Parsed command line: option values by table index (NULL if absent) and positionals. */
struct args {
    const char *value[ARGS_MAX];
    const char *pos[ARGS_MAX];
    size_t npos;
};

struct cmd_entry {
    const char *name;
    const char *usage;   /* after "swarmdeck-runner NAME " */
    const char *summary; /* one line */
    size_t maxpos;       /* positional arguments accepted */
    const struct arg_opt *opts;
    size_t nopts;
    int (*exec)(const struct args *a, struct err *e);
};

/*
 * Parse argv[0..argc-1] (after the subcommand) as `--name value` pairs from the entry's table
 * (also `--name=value`) plus up to maxpos positionals. Returns 0, or -1 with e set
 * (EXIT_USAGE) naming the unknown or repeated option or the missing value.
 */
int args_parse(const struct cmd_entry *c, int argc, char **argv, struct args *a, struct err *e);

/* Integer option in [min, max]; returns 0 or -1 with e set (EXIT_USAGE). */
int args_integer(const char *name, const char *text, long min, long max, long *out, struct err *e);

/* Finite number option in [min, max]; returns 0 or -1 with e set (EXIT_USAGE). */
int args_number(const char *name, const char *text, double min, double max, double *out,
                struct err *e);

extern const struct cmd_entry cmd_run_entry, cmd_indicator_entry, cmd_metrics_entry, cmd_list_entry;

#endif
