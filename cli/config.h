/*
 * config.h: the operator's config file, $XDG_CONFIG_HOME/swarmdeck/config
 * (else ~/.config/swarmdeck/config, or $SWARMDECK_CONFIG).
 *
 * One setting per line, `name = value`; blank lines and lines starting with
 * `#` are ignored. `bind` and `host` may be given more than once. A file
 * that does not exist is no error (every setting keeps its default); a
 * file that exists is read whole and any bad line refuses it, naming the
 * file, the line and what was wrong, so a typo never silently changes
 * nothing. A file that others may write is refused, as ssh refuses such a
 * config: it chooses hosts to reach and keys that kill. Options given on
 * the command line win over the file. docs/config.md lists every setting;
 * examples/config is a commented copy of the defaults.
 */
#ifndef SWARMDECK_CLI_CONFIG_H
#define SWARMDECK_CLI_CONFIG_H

#include <stdio.h>

#include "util.h"

enum cfg_key {
    CFG_THEME,
    CFG_SPARKLINES,
    CFG_INTERVAL,
    CFG_PROTOCOL_LINES,
    CFG_SYMBOLS,
    CFG_PACE,
    CFG_CONFIRM_AGENTS,
    CFG_CONFIRM_PAID,
    CFG_BELL,
    CFG_OSC9,
    CFG_MOUSE,
    CFG_MIN_TRADES,
    CFG_NKEYS
};

#define CFG_MAX_BINDS 64
#define CFG_MAX_HOSTS 16

/* A key the console reads: a printable byte, or one of the names of
 * cfg_key_parse (F1, Home, PgDn, C-a, ...) as its curses code. */
struct cfg_bind {
    int from, to;
};

struct cli_config {
    char path[4096]; /* the file looked for */
    int found;       /* 1 if it existed and was read */
    /* A setting's value as written (NULL: not set, the default applies) and
     * the line it came from; num holds integers and booleans (1/0). */
    char *val[CFG_NKEYS];
    long num[CFG_NKEYS];
    int line[CFG_NKEYS];
    struct cfg_bind binds[CFG_MAX_BINDS];
    size_t nbinds;
    char *hosts[CFG_MAX_HOSTS];
    size_t nhosts;
};

/* Read the config file: `path`, or NULL for the default place. Fills *c
 * (zeroed first; free with cli_config_free). Returns 0, or -1 with err
 * naming path:line and the problem (SD_EUSAGE), or SD_EENV when the file
 * cannot be read. */
int cli_config_load(const char *path, struct cli_config *c, struct sd_err *err);
void cli_config_free(struct cli_config *c);

/* Setting k's value, or NULL when not set; its name in the file. */
const char *cli_config_get(const struct cli_config *c, enum cfg_key k);
const char *cli_config_name(enum cfg_key k);

/* A key name ("x", "K", "F5", "Home", "PgDn", "C-a", "Space", ...) as the
 * code the console reads, or -1 when not a key name. */
int cfg_key_parse(const char *name);

/* Print every setting with its value and where it came from (the file's
 * line, or "default"), as `swarmdeck config` shows them; json: one object. */
void cli_config_print(const struct cli_config *c, FILE *f, int json);

/* Write the shipped example: every setting commented out at its default. */
void cli_config_example(FILE *f);

#endif
