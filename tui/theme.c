/*
 * theme.c: theme files, parsing and capability fallback (theme.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "theme.h"
#include "util.h"

#ifndef SWARMDECK_SOURCE_THEMES
#define SWARMDECK_SOURCE_THEMES "themes"
#endif

/* The default dark theme, also the base every file is read over. */
static const char default_text[] = "normal = default default\n"
                                   "border = 244 default\n"
                                   "title = 250 default bold\n"
                                   "title-focus = 51 default bold\n"
                                   "header = 16 110 bold\n"
                                   "select = 16 39 bold\n"
                                   "tag = 214 default bold\n"
                                   "dim = 244 default\n"
                                   "error = 203 default bold\n"
                                   "warn = 214 default\n"
                                   "ok = 114 default\n"
                                   "running = 81 default bold\n"
                                   "stderr = 209 default\n"
                                   "match = 16 220\n"
                                   "status = 252 236\n"
                                   "key = 16 110 bold\n"
                                   "flash = 16 220 bold\n"
                                   "spark = 114 default\n"
                                   "dialog = 252 236\n"
                                   "input = 255 238\n";

static const char *const color_names[] = {"black", "red",     "green", "yellow",
                                          "blue",  "magenta", "cyan",  "white"};

static int parse_color(const char *s, short *out)
{
    char *end;
    long v;
    if (strcasecmp(s, "default") == 0) {
        *out = -1;
        return 0;
    }
    for (int i = 0; i < 8; i++) {
        if (strcasecmp(s, color_names[i]) == 0) {
            *out = (short)i;
            return 0;
        }
        if (strncasecmp(s, "bright-", 7) == 0 && strcasecmp(s + 7, color_names[i]) == 0) {
            *out = (short)(i + 8);
            return 0;
        }
    }
    v = strtol(s, &end, 10);
    if (end == s || *end || v < 0 || v > 255)
        return -1;
    *out = (short)v;
    return 0;
}

static int parse_attr(const char *s, attr_t *a)
{
    static const struct {
        const char *name;
        attr_t a;
    } t[] = {{"bold", A_BOLD},       {"dim", A_DIM},           {"underline", A_UNDERLINE},
             {"reverse", A_REVERSE}, {"standout", A_STANDOUT}, {"italic", A_ITALIC},
             {"normal", A_NORMAL}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcasecmp(s, t[i].name) == 0) {
            *a |= t[i].a;
            return 0;
        }
    return -1;
}

int theme_parse(const char *text, struct theme *t, char *err, size_t errn)
{
    struct theme tmp = *t;
    const char *p = text;
    int line = 0;

    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char buf[256], *tok[8], *save = NULL, *eq, *hash;
        int ntok = 0, role;
        struct theme_role r = {-1, -1, A_NORMAL};

        line++;
        if (len >= sizeof buf) {
            snprintf(err, errn, "line %d: too long", line);
            return -1;
        }
        memcpy(buf, p, len);
        buf[len] = '\0';
        p = nl ? nl + 1 : NULL;
        if ((hash = strchr(buf, '#')) != NULL)
            *hash = '\0';
        if (strspn(buf, " \t\r") == strlen(buf))
            continue;
        if ((eq = strchr(buf, '=')) == NULL) {
            snprintf(err, errn, "line %d: expected \"role = fg bg [attrs]\"", line);
            return -1;
        }
        *eq = '\0';
        for (char *s = strtok_r(buf, " \t\r", &save); s && ntok < 8;
             s = strtok_r(NULL, " \t\r", &save))
            tok[ntok++] = s;
        if (ntok != 1) {
            snprintf(err, errn, "line %d: expected one role name before \"=\"", line);
            return -1;
        }
        if ((role = role_from_name(tok[0])) < 0) {
            snprintf(err, errn, "line %d: unknown role \"%s\"", line, tok[0]);
            return -1;
        }
        ntok = 0;
        for (char *s = strtok_r(eq + 1, " \t\r", &save); s && ntok < 8;
             s = strtok_r(NULL, " \t\r", &save))
            tok[ntok++] = s;
        if (ntok < 2) {
            snprintf(err, errn, "line %d: \"%s\" needs a foreground and a background", line,
                     role_names[role]);
            return -1;
        }
        if (parse_color(tok[0], &r.fg) || parse_color(tok[1], &r.bg)) {
            snprintf(err, errn, "line %d: bad colour \"%s\" (a name, default or 0..255)", line,
                     parse_color(tok[0], &r.fg) ? tok[0] : tok[1]);
            return -1;
        }
        for (int i = 2; i < ntok; i++)
            if (parse_attr(tok[i], &r.attrs)) {
                snprintf(err, errn, "line %d: unknown attribute \"%s\"", line, tok[i]);
                return -1;
            }
        tmp.r[role] = r;
    }
    *t = tmp;
    return 0;
}

void theme_default(struct theme *t)
{
    char err[128];
    memset(t, 0, sizeof *t);
    for (int i = 0; i < ROLE_COUNT; i++)
        t->r[i].fg = t->r[i].bg = -1;
    theme_parse(default_text, t, err, sizeof err);
    snprintf(t->name, sizeof t->name, "default");
}

int theme_load(const char *dir, const char *name, struct theme *t, char *err, size_t errn)
{
    char path[4096], *text;
    FILE *f;
    long n;
    int rc;

    theme_default(t);
    if (strchr(name, '/') || name[0] == '.') {
        snprintf(err, errn, "bad theme name \"%s\"", name);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s.theme", dir, name);
    if ((f = fopen(path, "r")) == NULL) {
        snprintf(err, errn, "theme \"%s\": %s (in %s)", name, strerror(errno), dir);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    if (n < 0 || n > 65536) {
        fclose(f);
        snprintf(err, errn, "theme \"%s\": too large", name);
        return -1;
    }
    text = xmalloc((size_t)n + 1);
    text[fread(text, 1, (size_t)n, f)] = '\0';
    fclose(f);
    rc = theme_parse(text, t, err, errn);
    free(text);
    if (rc != 0) {
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%s", err);
        snprintf(err, errn, "theme \"%s\": %s", name, tmp);
        theme_default(t);
        return -1;
    }
    snprintf(t->name, sizeof t->name, "%s", name);
    return 0;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *theme_dir(void)
{
    static char dir[4096];
    const char *e = getenv("SWARMDECK_THEMES");
    if (e && *e)
        return e;
    snprintf(dir, sizeof dir, "%s/../themes", sd_exe_dir());
    if (is_dir(dir))
        return dir;
    snprintf(dir, sizeof dir, "%s/../share/swarmdeck/themes", sd_exe_dir()); /* installed */
    if (is_dir(dir))
        return dir;
    return SWARMDECK_SOURCE_THEMES;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

int theme_list(const char *dir, char names[][64], int max)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL && n < max) {
        size_t l = strlen(e->d_name);
        if (l > 6 && l < 64 + 6 && strcmp(e->d_name + l - 6, ".theme") == 0 &&
            e->d_name[0] != '.') {
            snprintf(names[n], 64, "%.*s", (int)(l - 6), e->d_name);
            n++;
        }
    }
    closedir(d);
    qsort(names, (size_t)n, 64, cmp_names);
    return n;
}

/* xterm 256-colour index to its nearest of the first 16 (or 8). */
static short down_map(short c, int colors)
{
    int r, g, b, best = 0;
    long bestd = 1L << 30;
    static const int base[16][3] = {{0, 0, 0},       {205, 0, 0},   {0, 205, 0},   {205, 205, 0},
                                    {0, 0, 238},     {205, 0, 205}, {0, 205, 205}, {229, 229, 229},
                                    {127, 127, 127}, {255, 0, 0},   {0, 255, 0},   {255, 255, 0},
                                    {92, 92, 255},   {255, 0, 255}, {0, 255, 255}, {255, 255, 255}};
    if (c < 0 || c < colors)
        return c;
    if (c < 16) {
        r = base[c][0], g = base[c][1], b = base[c][2];
    } else if (c < 232) {
        int i = c - 16;
        r = (i / 36) ? 55 + 40 * (i / 36) : 0;
        g = ((i / 6) % 6) ? 55 + 40 * ((i / 6) % 6) : 0;
        b = (i % 6) ? 55 + 40 * (i % 6) : 0;
    } else {
        r = g = b = 8 + 10 * (c - 232);
    }
    for (int k = 0; k < (colors >= 16 ? 16 : 8); k++) {
        long d = (long)(r - base[k][0]) * (r - base[k][0]) +
                 (long)(g - base[k][1]) * (g - base[k][1]) +
                 (long)(b - base[k][2]) * (b - base[k][2]);
        if (d < bestd) {
            bestd = d;
            best = k;
        }
    }
    return (short)best;
}

void theme_apply(const struct theme *t, int colors, attr_t out[ROLE_COUNT])
{
    /* Without colour, these attributes keep every role distinguishable. */
    static const attr_t mono[ROLE_COUNT] = {
        [ROLE_TITLE] = A_BOLD,
        [ROLE_TITLE_FOCUS] = A_BOLD | A_UNDERLINE,
        [ROLE_HEADER] = A_UNDERLINE | A_BOLD,
        [ROLE_SELECT] = A_REVERSE,
        [ROLE_TAG] = A_BOLD,
        [ROLE_DIM] = A_DIM,
        [ROLE_ERROR] = A_BOLD,
        [ROLE_WARN] = A_BOLD,
        [ROLE_RUNNING] = A_BOLD,
        [ROLE_STDERR] = A_UNDERLINE,
        [ROLE_MATCH] = A_REVERSE | A_UNDERLINE,
        [ROLE_STATUSBAR] = A_REVERSE,
        [ROLE_KEY] = A_BOLD,
        [ROLE_FLASH] = A_REVERSE | A_BOLD,
        [ROLE_INPUT] = A_REVERSE,
    };
    for (int i = 0; i < ROLE_COUNT; i++) {
        if (colors <= 0) {
            out[i] = t->r[i].attrs | mono[i];
            continue;
        }
        short fg = down_map(t->r[i].fg, colors), bg = down_map(t->r[i].bg, colors);
        init_pair((short)(i + 1), fg, bg);
        out[i] = COLOR_PAIR(i + 1) | t->r[i].attrs;
    }
}
