/*
 * cli.h: the command line's shared pieces.
 *
 * Each subcommand lives in its own cmd-<name>.c (tmux style) and exports one
 * `const struct cli_cmd cmd_<name>` descriptor: name, usage, a one-line
 * summary, its options (each with its own help text) and exec. main.c holds
 * the table of descriptors; parsing, `--help` and `swarmdeck help` are
 * generated from it, so help can never disagree with what is accepted.
 *
 * exec returns a process exit status (design.md §7): 0 all good, 1 a
 * deployment failed or a threshold was missed, 2 usage error, 3 environment
 * or store error. Errors are printed as "swarmdeck: <what>" on stderr.
 */
#ifndef SD_CLI_H
#define SD_CLI_H

#include <jansson.h>
#include <stdio.h>

#include "coord.h"
#include "e2b.h"
#include "recover.h"
#include "store.h"
#include "util.h"

/* One option: the one table that parsing, `--help` and `swarmdeck help`
 * read, so help can never disagree with what is accepted. An option's
 * default is written once, in its help text as "(default VALUE)" (VALUE
 * ends at the first ')', ';', ',' or space): help prints it and cli_val_def
 * returns it, so the two cannot disagree either. */
struct cli_opt {
    const char *lng; /* long name without dashes */
    int shrt;        /* short letter, or 0 */
    const char *arg; /* argument name, or NULL for a flag */
    const char *help;
};

struct cli_args {
    /* Parsed options: values[i] is the argument (or "1" for a flag) of
     * opts[i], or NULL when absent (the last occurrence wins). */
    const char *values[32];
    int argc; /* positional arguments */
    char **argv;
};

struct cli_ctx {
    const char *db;
    char *key; /* --encryption-key or SWARMDECK_KEY (heap; wiped at exit), or NULL */
    int verbose, readonly, no_color, help; /* help: -h or --help was given */
    int no_daemon;                         /* --no-daemon: never use or start a daemon */
    const char *host;                      /* --host ssh://...: a remote daemon, or NULL */
    const char *hosts[16];                 /* every --host given, in order (the console's) */
    int nhosts;
    struct store *store;
};

/* A command's flags (tmux's cmd_entry flags): checked once, in main.c,
 * before exec runs. */
enum cli_cmd_flag {
    CLI_WRITES = 1 << 0, /* writes to the store: refused under --readonly */
};

struct cli_cmd {
    const char *name;
    const char *usage;   /* after "swarmdeck NAME " */
    const char *summary; /* one line, lowercase, no full stop */
    const struct cli_opt *opts;
    int min_args, max_args; /* positional; max -1 = any */
    int flags;              /* enum cli_cmd_flag */
    /* With CLI_WRITES: the subcommand (first operand) that writes, when only
     * one does (`data import`); NULL when the whole command writes. */
    const char *writer;
    int (*exec)(struct cli_ctx *ctx, struct cli_args *a);
};

/* Value of option `lng` (NULL if absent); cli_flag is 1 if present;
 * cli_val_def is its value, else the default its help text states (NULL if
 * none; a static string). */
const char *cli_val(const struct cli_cmd *cmd, const struct cli_args *a, const char *lng);
const char *cli_val_def(const struct cli_cmd *cmd, const struct cli_args *a, const char *lng);
int cli_flag(const struct cli_cmd *cmd, const struct cli_args *a, const char *lng);

/* Print "swarmdeck: msg" to stderr and return the exit status for code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_fail_err(const struct sd_err *e);

/* The end of a command that ran a coordinator c (may be NULL): free it
 * (cancelling what still runs), then wait for the store to commit what was
 * written, so an exit status of 0 means it is on disk. Returns status, or
 * when a store write failed during the command (store_write_failures), the
 * failure's exit status (3) after printing it (it names the path and the
 * cause). */
int cli_close(struct cli_ctx *ctx, struct coord *c, int status);

/* Open the store (created if missing, unless readonly) with ctx->key.
 * Returns 0 or an exit status after printing the error (3 for a missing or
 * wrong key). */
int cli_open_store(struct cli_ctx *ctx, int readonly);
/* For a command that only reads (suggest, patterns): the store opened
 * read-only when it is there at this version (no writer thread, no WAL
 * checkpoint at exit; the learner's saved index is a file beside it); a
 * store that does not exist yet or needs a migration is opened as
 * cli_open_store(ctx, 0) opens it. 0, or the exit status (error printed). */
int cli_open_store_reading(struct cli_ctx *ctx);

/* Paths of the sibling binaries. Static strings. */
const char *cli_runner_path(void);
const char *cli_helper_path(void);

/* --- the terminal guard (docs/security.md, "the terminal") ----------------
 *
 * Text from a strategy, the store or a remote API may hold escape sequences
 * that a terminal obeys (clear the screen, set the title, report its
 * answerback into the shell). Whatever the CLI prints to a terminal goes
 * through one filter, cli_clean, with the console's rule (glyph_put): C0
 * controls other than newline and tab, DEL, the C1 controls (U+0080 to
 * U+009F) and bytes that are not UTF-8 each become one '?'. Output to a
 * pipe or a file is never changed, so `logs > file` and JSON stay exact.
 */

/* The filter's state: an incomplete UTF-8 sequence held between calls. */
struct cli_clean {
    unsigned char held[4];
    size_t nheld, need;
};

/* Filter n bytes of in into out, which has room for n + 4 bytes; a UTF-8
 * sequence split between calls is held in st (zeroed to start). last: the
 * input ends here (a held incomplete sequence becomes '?'). Returns the bytes
 * written. This function can't fail. */
size_t cli_clean(struct cli_clean *st, const char *in, size_t n, char *out, int last);

/* Is f (stdout or stderr) a terminal? Asked once per stream. */
int cli_is_tty(FILE *f);

/* Write s (n bytes) to f, through cli_clean when f is a terminal. */
void cli_write_safe(FILE *f, const char *s, size_t n);

/* printf to stdout, and to stderr, through cli_clean when it is a terminal:
 * every line that may carry untrusted text is printed with these. */
int cli_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_eprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print JSON to stdout, indented, with a newline. Steals j. On a terminal
 * every non-ASCII character is written escaped (JSON_ENSURE_ASCII;
 * jansson escapes the control characters itself), so the JSON is exact and
 * carries no control sequence; to a pipe the bytes are jansson's. */
void cli_print_json(json_t *j);

/* Parse a whole-number option value in [min, max]; returns 0 or prints an
 * error and returns 2. */
int cli_parse_long(const char *opt, const char *s, long min, long max, long *out);
int cli_parse_double(const char *opt, const char *s, double min, double max, double *out);

/* Human formats. */
void cli_fmt_time(int64_t ms, char *buf, size_t n);    /* UTC "YYYY-MM-DD HH:MM:SS" */
void cli_fmt_duration(double ms, char *buf, size_t n); /* "12 ms", "3.4 s", "2m05s" */
void cli_fmt_pct(double v, char *buf, size_t n);       /* "+12.34%" or "-" for NaN */

/* Coordinator options from the shared deploy flags (timeout, memory, cpus,
 * max-agents, strict, unsandboxed, learning). Returns 0 or an exit status. */
int cli_coord_opts(const struct cli_cmd *cmd, const struct cli_args *a, struct coord_opts *o);

/* Start a coordinator (after reaping orphans, and leaked E2B sandboxes when
 * E2B is in use), with every configured E2B instance added. Returns NULL
 * after printing. */
struct coord *cli_coord(struct cli_ctx *ctx, const struct coord_opts *o, int *status);

/* How cli_e2b_use reports an unusable E2B configuration. */
enum cli_e2b_mode {
    CLI_E2B_QUIET,  /* not at all */
    CLI_E2B_WARN,   /* as a warning */
    CLI_E2B_NEEDED, /* as an error */
};

/* Load the E2B configuration (e2b_config_load), call fn with it and k (1
 * configured, 0 no key, -1 unusable, reported as mode says), then wipe the
 * API key (crypto_wipe), so no command keeps it longer than its use.
 * Returns fn's result. */
int cli_e2b_use(enum cli_e2b_mode mode, int (*fn)(const struct e2b_config *ec, int k, void *arg),
                void *arg);

/* The E2B leak sweep (recover_e2b), printing a warning when incomplete.
 * Returns 0 or -1. */
int cli_recover_e2b(struct store *s, const struct e2b_config *ec, int all,
                    struct recover_report *r);

/* Run the queued deployments ids[0..n) to completion with a progress line on
 * a terminal; SIGINT/SIGTERM cancel them. Prints each result (or JSON) and
 * returns the exit status (0 all succeeded, 1 otherwise). */
int cli_follow_deployments(struct coord *c, const int64_t *ids, size_t n, int json);

/* One finished deployment as a result line ("#12 momentum SPY succeeded
 * ...") on stdout, and as the JSON object `deploy --json` prints (result is
 * stolen; agent is its index in the launch). */
void cli_print_view(const struct deploy_view *v);
/* The closing lines of a followed launch: "N deployment(s): S succeeded, F
 * did not", and the synthetic-data footnote when any ran on generated data. */
void cli_print_outcome(size_t n, int failed, int cancelled, int synthetic);
json_t *cli_view_json(const struct deploy_view *v, json_t *result, size_t agent);

/* Record a run of kind (deploy, swarm) described by spec, queue reqs[0..n)
 * (already checked with coord_check; their run_id is set here), follow them
 * to the end with cli_follow_deployments and close the run. Returns the exit
 * status. */
int cli_run_deployments(struct cli_ctx *ctx, struct coord *c, const char *kind, const char *spec,
                        struct deploy_req *reqs, size_t n, int json);

/* The daemon (daemon.c, docs/daemon.md). cli_daemon: 1 with *out connected
 * to the daemon serving ctx->db (its read-only socket under --readonly);
 * 0 when none runs and start is 0 (or --no-daemon); -1 after printing, with
 * *status the exit status. start: when none runs, start one on demand with
 * serve_args (NULL-terminated engine options, or NULL). */
struct client;
/* The daemon of the store at url (ssh://[user@]host[:port][/path]) through
 * ssh, as --host reaches it, printing nothing (the console dials from its
 * threads): 0 with *out, or -1 with err set. errlog (or NULL): a file for
 * ssh's own log (`ssh -E`), whose last line becomes err's text when the
 * dial fails (emptied then). */
int cli_host_dial(const struct cli_ctx *ctx, const char *url, int start, const char *errlog,
                  struct client **out, struct sd_err *err);
int cli_daemon(struct cli_ctx *ctx, int start, char *const *serve_args, struct client **out,
               int *status);
/* Queue a launch (engine/serve/launch.h; spec is changed: "kind" is set)
 * on the daemon. detach: print the run id and return; else follow it as
 * cli_daemon_follow does. Returns the exit status. */
int cli_daemon_launch(struct client *cl, const char *kind, json_t *spec, int detach, int json);
/* For a command that launches deployments (deploy, swarm): the daemon to
 * send them to, started on demand under --detach with the command's engine
 * options (cli_daemon_engine_args). Returns as cli_daemon; --detach with no
 * daemon possible (--no-daemon, --readonly) is an error. */
int cli_daemon_launcher(struct cli_ctx *ctx, const struct cli_cmd *cmd, const struct cli_args *a,
                        struct client **out, int *status);
/* The engine-wide deploy options given on the command line (timeout,
 * memory, cpus, max-agents, seed, provider, failover, strict, unsandboxed,
 * no-learning, auto-optimize) as serve arguments into out (NULL-terminated,
 * at most max - 1; strings borrowed from a and a static table). These shape
 * a daemon this command starts; a running daemon keeps its own. */
size_t cli_daemon_engine_args(const struct cli_cmd *cmd, const struct cli_args *a, char **out,
                              size_t max);
/* Follow ids through the daemon's event stream from since to their end
 * (and, when run is not 0, to run's "run" event, sent once the results are
 * in the store), printing as cli_follow_deployments does; SIGINT/SIGTERM
 * cancel them. */
int cli_daemon_follow(struct client *cl, int64_t run, const int64_t *ids, size_t n, uint64_t since,
                      int json);

/* Learning stats and patterns over the whole store (learn.h); either out
 * pointer may be NULL. Returns 0 or an exit status after printing. */
int cli_learning(struct cli_ctx *ctx, json_t **stats, json_t **patterns);

/* Print a learned suggestion (learn.h) as human text. */
void cli_print_suggestion(json_t *suggestion);
/* The reward skill and (only where runs failed) success skill of a
 * learn_stats object, each line prefixed by indent (cmd-suggest.c). */
void cli_print_skill(json_t *stats, const char *indent);

#define CLI_DEPLOY_OPTS                                                                            \
    {"timeout", 0, "SEC", "wall-clock limit per deployment in seconds (default 300)"},             \
        {"memory", 0, "MB", "memory limit per sandbox in MB (default 512, 0 = none)"},             \
        {"cpus", 0, "N", "CPU limit per sandbox in cores (default 1, 0 = none)"},                  \
        {"disk", 0, "MB", "size cap of a sandbox's writable work dir in MB (default 256)"},        \
        {"max-agents", 0, "N", "deployments running at once (default 10)"},                        \
        {"strict", 0, NULL, "refuse to run when sandbox isolation is degraded"},                   \
        {"unsandboxed", 0, NULL, "run without any isolation (explicit opt-in; never default)"},    \
        {"learning", 0, NULL, "record predictions and learn from this run (default)"},             \
        {"no-learning", 0, NULL, "do not record predictions"},                                     \
        {"auto-optimize", 0, NULL, "let the learner choose unpinned parameters"},                  \
        {"seed", 0, "N", "seed auto-optimize's choices (reproducible runs)"},                      \
        {"provider", 0, "NAME",                                                                    \
         "sandbox provider: local (default), e2b, or an E2B instance name"},                       \
        {"failover", 0, "NAME", "when the provider's breaker is open, run on NAME (e.g. local)"},  \
        {"internet", 0, NULL,                                                                      \
         "let E2B sandboxes reach the internet (opt-in; default: no network)"},                    \
    {                                                                                              \
        "json", 0, NULL, "print the results as JSON"                                               \
    }

/* The store's finished trajectories by origin host, of strategy when not
 * NULL: what `patterns --json` and `suggest --json` add as "origins".
 * Counted from the covering index traj_strategy_origin (query_origins.h,
 * store_strategy_origins; the same answer as fleet_store.h's
 * store_fleet_origins without its scan of the table). NULL (nothing printed)
 * for a remote --host or a store that cannot be read. cmd-sync.c. */
json_t *cli_fleet_origins(struct cli_ctx *ctx, const char *strategy);

#endif
