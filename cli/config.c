/*
 * config.c: the operator's config file (config.h has the contract).
 *
 * The settings are one table: name, kind, range or choices, default and
 * help. The parser, `swarmdeck config`, docs/config.md and examples/config
 * all read it, so they cannot disagree.
 */
#define _GNU_SOURCE
#include "config.h"

#include <ctype.h>
#include <curses.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "widget.h"

enum cfg_kind { K_STRING, K_CHOICE, K_LONG, K_BOOL };

static const struct cfg_def {
    const char *name;
    enum cfg_kind kind;
    long lo, hi;         /* K_LONG */
    const char *choices; /* K_CHOICE: space separated */
    const char *def;
    const char *help;
} defs[CFG_NKEYS] = {
    [CFG_THEME] = {"theme", K_STRING, 0, 0, NULL, "default", "colour theme (themes/NAME.theme)"},
    [CFG_SPARKLINES] = {"sparklines", K_CHOICE, 0, 0, "block braille", "block",
                        "sparkline style (braille needs UTF-8)"},
    [CFG_INTERVAL] = {"interval", K_LONG, 100, 60000, NULL, "1000",
                      "refresh interval in ms while deployments run"},
    [CFG_PROTOCOL_LINES] = {"protocol-lines", K_CHOICE, 0, 0, "hide show", "hide",
                            "show the runner's @@ protocol lines in the output pane"},
    [CFG_SYMBOLS] = {"symbols", K_STRING, 0, 0, NULL, "SPY",
                     "the deploy dialog's symbols, before a strategy's own (comma separated)"},
    [CFG_PACE] = {"pace", K_LONG, 0, 100000, NULL, "0",
                  "the deploy dialog's default pace: bars replayed per second (0: unpaced)"},
    [CFG_CONFIRM_AGENTS] = {"confirm-agents", K_LONG, 1, 100000, NULL, "50",
                            "ask before a launch of more than this many agents"},
    [CFG_CONFIRM_PAID] = {"confirm-paid", K_BOOL, 0, 0, NULL, "yes",
                          "ask before a launch on a paid provider (E2B)"},
    [CFG_BELL] = {"bell", K_BOOL, 0, 0, NULL, "no", "ring the bell when a run ends"},
    [CFG_OSC9] = {"osc9", K_BOOL, 0, 0, NULL, "no",
                  "a desktop notification (OSC 9) when a run ends"},
    [CFG_MOUSE] = {"mouse", K_BOOL, 0, 0, NULL, "yes", "take mouse events from the terminal"},
    [CFG_MIN_TRADES] = {"min-trades", K_LONG, 0, 1000000, NULL, "10",
                        "fewest round trips a parameter set needs for `suggest` to recommend it"},
};

static const struct {
    const char *name;
    int code;
} keynames[] = {
    {"Space", ' '},     {"Enter", '\n'},      {"Tab", '\t'},
    {"Esc", 27},        {"Up", KEY_UP},       {"Down", KEY_DOWN},
    {"Left", KEY_LEFT}, {"Right", KEY_RIGHT}, {"Home", KEY_HOME},
    {"End", KEY_END},   {"PgUp", KEY_PPAGE},  {"PgDn", KEY_NPAGE},
    {"Delete", KEY_DC}, {"Insert", KEY_IC},   {"Backspace", KEY_BACKSPACE},
    {"BTab", KEY_BTAB},
};

const char *cli_config_name(enum cfg_key k)
{
    return defs[k].name;
}

const char *cli_config_get(const struct cli_config *c, enum cfg_key k)
{
    return c->val[k];
}

int cfg_key_parse(const char *s)
{
    char *end;
    long n;

    if (s[0] != '\0' && s[1] == '\0' && isgraph((unsigned char)s[0]))
        return (unsigned char)s[0];
    for (size_t i = 0; i < sizeof keynames / sizeof keynames[0]; i++)
        if (strcasecmp(s, keynames[i].name) == 0)
            return keynames[i].code;
    if ((s[0] == 'F' || s[0] == 'f') && isdigit((unsigned char)s[1])) {
        n = strtol(s + 1, &end, 10);
        if (*end == '\0' && n >= 1 && n <= 12)
            return WK_FN(KEY_F((int)n));
    }
    if ((s[0] == 'C' || s[0] == 'c') && s[1] == '-' && isalpha((unsigned char)s[2]) && !s[3])
        return tolower((unsigned char)s[2]) - 'a' + 1;
    return -1;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int has_word(const char *list, const char *w)
{
    size_t n = strlen(w);

    for (const char *p = list; *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, w, n) == 0)
            return 1;
        p += len + (e != NULL);
    }
    return 0;
}

/* Check value v of setting k; fills num. 0, or -1 with msg set. */
static int check(enum cfg_key k, const char *v, long *num, char *msg, size_t len)
{
    const struct cfg_def *d = &defs[k];
    char *end;

    switch (d->kind) {
    case K_STRING:
        if (v[0] == '\0') {
            snprintf(msg, len, "%s: a value is needed", d->name);
            return -1;
        }
        for (const char *p = v; *p; p++)
            if (iscntrl((unsigned char)*p)) {
                snprintf(msg, len, "%s: control characters are not allowed", d->name);
                return -1;
            }
        return 0;
    case K_CHOICE:
        if (!has_word(d->choices, v)) {
            snprintf(msg, len, "%s: \"%s\" is not one of: %s", d->name, v, d->choices);
            return -1;
        }
        return 0;
    case K_LONG:
        errno = 0;
        *num = strtol(v, &end, 10);
        if (v[0] == '\0' || *end != '\0' || errno != 0 || *num < d->lo || *num > d->hi) {
            snprintf(msg, len, "%s: \"%s\" is not a whole number from %ld to %ld", d->name, v,
                     d->lo, d->hi);
            return -1;
        }
        return 0;
    case K_BOOL:
        if (strcmp(v, "yes") == 0 || strcmp(v, "on") == 0 || strcmp(v, "true") == 0)
            *num = 1;
        else if (strcmp(v, "no") == 0 || strcmp(v, "off") == 0 || strcmp(v, "false") == 0)
            *num = 0;
        else {
            snprintf(msg, len, "%s: \"%s\" is not yes or no", d->name, v);
            return -1;
        }
        return 0;
    }
    return -1;
}

static int bind_line(struct cli_config *c, char *v, char *msg, size_t len)
{
    char *from = strtok(v, " \t"), *to = strtok(NULL, " \t"), *more = strtok(NULL, " \t");
    int f, t;

    if (from == NULL || to == NULL || more != NULL) {
        snprintf(msg, len, "bind: write `bind = KEY ACTION-KEY` (two key names)");
        return -1;
    }
    if ((f = cfg_key_parse(from)) < 0 || (t = cfg_key_parse(to)) < 0) {
        snprintf(msg, len, "bind: \"%s\" is not a key name (x, K, F5, Home, PgDn, C-a, ...)",
                 f < 0 ? from : to);
        return -1;
    }
    for (size_t i = 0; i < c->nbinds; i++)
        if (c->binds[i].from == f) {
            c->binds[i].to = t; /* a later line wins, as in tmux's bind */
            return 0;
        }
    if (c->nbinds == CFG_MAX_BINDS) {
        snprintf(msg, len, "bind: more than %d bindings", CFG_MAX_BINDS);
        return -1;
    }
    c->binds[c->nbinds++] = (struct cfg_bind){f, t};
    return 0;
}

static int host_line(struct cli_config *c, const char *v, char *msg, size_t len)
{
    if (strcmp(v, "local") != 0 && (strncmp(v, "ssh://", 6) != 0 || v[6] == '\0')) {
        snprintf(msg, len, "host: \"%s\" is not ssh://[USER@]HOST[:PORT][/STORE] or local", v);
        return -1;
    }
    if (c->nhosts == CFG_MAX_HOSTS) {
        snprintf(msg, len, "host: more than %d hosts", CFG_MAX_HOSTS);
        return -1;
    }
    c->hosts[c->nhosts++] = strdup(v);
    return 0;
}

/* The default place; returns 1 when $SWARMDECK_CONFIG named it (then it
 * must exist). */
static int default_path(char *buf, size_t len)
{
    const char *e = getenv("SWARMDECK_CONFIG"), *x = getenv("XDG_CONFIG_HOME"),
               *home = getenv("HOME");

    if (e != NULL && e[0] != '\0') {
        snprintf(buf, len, "%s", e);
        return 1;
    }
    if (x != NULL && x[0] == '/')
        snprintf(buf, len, "%s/swarmdeck/config", x);
    else
        snprintf(buf, len, "%s/.config/swarmdeck/config", home ? home : "");
    return 0;
}

/* One line (not blank, not a comment). 0, or -1 with msg. */
static int parse_line(struct cli_config *c, char *s, int lineno, char *msg, size_t len)
{
    char *eq = strchr(s, '='), *name, *v;

    if (eq == NULL) {
        snprintf(msg, len, "expected `name = value`");
        return -1;
    }
    *eq = '\0';
    name = trim(s);
    v = trim(eq + 1);
    if (strcmp(name, "bind") == 0)
        return bind_line(c, v, msg, len);
    if (strcmp(name, "host") == 0)
        return host_line(c, v, msg, len);
    for (int k = 0; k < CFG_NKEYS; k++) {
        if (strcmp(name, defs[k].name) != 0)
            continue;
        if (check((enum cfg_key)k, v, &c->num[k], msg, len) != 0)
            return -1;
        free(c->val[k]); /* a later line wins */
        c->val[k] = strdup(v);
        c->line[k] = lineno;
        return 0;
    }
    snprintf(msg, len, "unknown setting \"%s\" (`swarmdeck config` lists them)", name);
    return -1;
}

int cli_config_load(const char *path, struct cli_config *c, struct sd_err *err)
{
    FILE *f;
    struct stat st;
    char *line = NULL, msg[300];
    size_t cap = 0;
    int lineno = 0, rc = 0, named = 1;

    memset(c, 0, sizeof *c);
    if (path != NULL)
        snprintf(c->path, sizeof c->path, "%s", path);
    else
        named = default_path(c->path, sizeof c->path);
    if ((f = fopen(c->path, "re")) == NULL) {
        if (errno == ENOENT && !named)
            return 0;
        return sd_err_set(err, SD_EENV, "config %s: %s", c->path, strerror(errno));
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return sd_err_set(err, SD_EUSAGE, "config %s: not a regular file", c->path);
    }
    if ((st.st_mode & 022) != 0 || (st.st_uid != getuid() && st.st_uid != 0)) {
        fclose(f);
        return sd_err_set(err, SD_EUSAGE,
                          "config %s: others may write it (chmod go-w, and own it yourself)",
                          c->path);
    }
    c->found = 1;
    while (getline(&line, &cap, f) >= 0) {
        char *s = trim(line);
        lineno++;
        if (s[0] == '\0' || s[0] == '#')
            continue;
        if (parse_line(c, s, lineno, msg, sizeof msg) != 0) {
            rc = sd_err_set(err, SD_EUSAGE, "config %s:%d: %s", c->path, lineno, msg);
            break;
        }
    }
    free(line);
    fclose(f);
    if (rc != 0)
        cli_config_free(c);
    return rc;
}

void cli_config_free(struct cli_config *c)
{
    for (int k = 0; k < CFG_NKEYS; k++)
        free(c->val[k]);
    for (size_t i = 0; i < c->nhosts; i++)
        free(c->hosts[i]);
    for (int k = 0; k < CFG_NKEYS; k++)
        c->val[k] = NULL;
    c->nhosts = 0;
    c->nbinds = 0;
}

static const char *key_text(int code, char *buf, size_t len)
{
    for (size_t i = 0; i < sizeof keynames / sizeof keynames[0]; i++)
        if (keynames[i].code == code)
            return keynames[i].name;
    for (int n = 1; n <= 12; n++)
        if (code == WK_FN(KEY_F(n))) {
            snprintf(buf, len, "F%d", n);
            return buf;
        }
    if (code >= 1 && code <= 26)
        snprintf(buf, len, "C-%c", 'a' + code - 1);
    else
        snprintf(buf, len, "%c", code);
    return buf;
}

void cli_config_print(const struct cli_config *c, FILE *f, int json)
{
    char a[16], b[16];

    if (json) {
        json_t *o = json_object(), *set = json_object(), *binds = json_array(),
               *hosts = json_array();
        json_object_set_new(o, "path", json_string(c->path));
        json_object_set_new(o, "found", json_boolean(c->found));
        for (int k = 0; k < CFG_NKEYS; k++)
            json_object_set_new(set, defs[k].name,
                                json_pack("{s:s, s:s}", "value",
                                          c->val[k] ? c->val[k] : defs[k].def, "from",
                                          c->val[k] ? "file" : "default"));
        for (size_t i = 0; i < c->nbinds; i++)
            json_array_append_new(binds, json_pack("{s:s, s:s}", "key",
                                                   key_text(c->binds[i].from, a, sizeof a), "does",
                                                   key_text(c->binds[i].to, b, sizeof b)));
        for (size_t i = 0; i < c->nhosts; i++)
            json_array_append_new(hosts, json_string(c->hosts[i]));
        json_object_set_new(o, "settings", set);
        json_object_set_new(o, "binds", binds);
        json_object_set_new(o, "hosts", hosts);
        json_dumpf(o, f, JSON_INDENT(2));
        fputc('\n', f);
        json_decref(o);
        return;
    }
    fprintf(f, "# %s%s\n", c->path, c->found ? "" : " (not found: every setting is its default)");
    for (int k = 0; k < CFG_NKEYS; k++) {
        if (c->val[k] != NULL)
            fprintf(f, "%-15s = %-12s # line %d\n", defs[k].name, c->val[k], c->line[k]);
        else
            fprintf(f, "%-15s = %-12s # default: %s\n", defs[k].name, defs[k].def, defs[k].help);
    }
    for (size_t i = 0; i < c->nbinds; i++)
        fprintf(f, "bind            = %s %s\n", key_text(c->binds[i].from, a, sizeof a),
                key_text(c->binds[i].to, b, sizeof b));
    for (size_t i = 0; i < c->nhosts; i++)
        fprintf(f, "host            = %s\n", c->hosts[i]);
}

/* The shipped example (examples/config), from the same table. */
void cli_config_example(FILE *f)
{
    fputs(
        "# swarmdeck config: $XDG_CONFIG_HOME/swarmdeck/config (else ~/.config/swarmdeck/config).\n"
        "# `name = value`, one per line; options on the command line win.\n"
        "# Every setting below is shown with its default, commented out.\n",
        f);
    for (int k = 0; k < CFG_NKEYS; k++) {
        fprintf(f, "\n# %s", defs[k].help);
        if (defs[k].kind == K_CHOICE)
            fprintf(f, " (%s)", defs[k].choices);
        else if (defs[k].kind == K_LONG)
            fprintf(f, " (%ld to %ld)", defs[k].lo, defs[k].hi);
        else if (defs[k].kind == K_BOOL)
            fputs(" (yes or no)", f);
        fprintf(f, "\n#%s = %s\n", defs[k].name, defs[k].def);
    }
    fputs("\n# bind = KEY ACTION-KEY: pressing KEY does what ACTION-KEY does by default\n"
          "# (keys: x, K, F5, Home, End, PgUp, PgDn, Space, Enter, C-a, ...); repeatable.\n"
          "#bind = F5 r\n"
          "\n# host = ssh://[USER@]HOST[:PORT][/STORE]: a server whose daemon the console shows;\n"
          "# repeatable.\n"
          "#host = ssh://ops@trading-2.example/srv/swarmdeck/swarmdeck.db\n",
          f);
}
