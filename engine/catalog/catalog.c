/*
 * catalog.c: strategies (built-in and user) and market data (catalog.h).
 */
#define _GNU_SOURCE
#include "catalog.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "query.h"
#include "series.h"

struct catalog {
    struct strategy_def *defs;
    size_t n;
};

static const char *const default_symbols[] = {"SPY", "QQQ", "IWM"};

static char **strv_from_json(json_t *arr)
{
    size_t n = json_array_size(arr);
    char **v = xcalloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = xstrdup(json_string_value(json_array_get(arr, i)));
    return v;
}

/* 1 when arr is an array of strings (and not empty when nonempty is set). */
static int strv_ok(json_t *arr, int nonempty)
{
    if (!json_is_array(arr) || (nonempty && json_array_size(arr) == 0))
        return 0;
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (!json_is_string(json_array_get(arr, i)))
            return 0;
    return 1;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static void def_clear(struct strategy_def *d)
{
    strv_free(d->command);
    strv_free(d->files);
    free(d->params);
    json_decref(d->symbols);
    memset(d, 0, sizeof *d);
}

/* Parse one schema entry; returns 0 or -1 with err. */
static int param_from_json(json_t *p, struct param_schema *out, struct sd_err *err)
{
    const char *name = json_string_value(json_object_get(p, "name"));
    const char *type = json_string_value(json_object_get(p, "type"));
    const char *desc = json_string_value(json_object_get(p, "description"));
    json_t *def = json_object_get(p, "default");

    if (name == NULL || type == NULL)
        return sd_err_set(err, SD_EUSAGE, "a parameter needs a \"name\" and a \"type\"");
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->description, sizeof out->description, "%s", desc ? desc : "");
    if (strcmp(type, "number") == 0)
        out->type = PT_NUMBER;
    else if (strcmp(type, "integer") == 0)
        out->type = PT_INTEGER;
    else if (strcmp(type, "boolean") == 0)
        out->type = PT_BOOLEAN;
    else
        return sd_err_set(err, SD_EUSAGE,
                          "parameter \"%s\": type must be number, integer or boolean, got \"%s\"",
                          name, type);
    if (out->type == PT_BOOLEAN) {
        out->min = 0;
        out->max = 1;
        out->def = json_is_true(def);
        return 0;
    }
    if (!json_is_number(json_object_get(p, "min")) || !json_is_number(json_object_get(p, "max")) ||
        !json_is_number(def))
        return sd_err_set(err, SD_EUSAGE, "parameter \"%s\" needs numeric default, min and max",
                          name);
    out->min = json_number_value(json_object_get(p, "min"));
    out->max = json_number_value(json_object_get(p, "max"));
    out->def = json_number_value(def);
    if (!(out->min <= out->def && out->def <= out->max))
        return sd_err_set(err, SD_EUSAGE, "parameter \"%s\": default %g is outside [%g, %g]", name,
                          out->def, out->min, out->max);
    /* Integers are exact doubles only up to 2^53 (found by fuzz_manifest). */
    if (out->type == PT_INTEGER &&
        (out->min < -9007199254740992.0 || out->max > 9007199254740992.0))
        return sd_err_set(err, SD_EUSAGE, "parameter \"%s\": integer bounds must be within 2^53",
                          name);
    return 0;
}

/* Fill d from a strategy object (runner list entry or manifest). */
static int def_from_json(json_t *j, int builtin, struct strategy_def *d, struct sd_err *err)
{
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *desc = json_string_value(json_object_get(j, "description"));
    json_t *params = json_object_get(j, "params"), *syms = json_object_get(j, "symbols");

    memset(d, 0, sizeof *d);
    if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof d->name)
        return sd_err_set(err, SD_EUSAGE, "a strategy needs a \"name\" (1-63 characters)");
    snprintf(d->name, sizeof d->name, "%s", name);
    snprintf(d->description, sizeof d->description, "%s", desc ? desc : "");
    d->builtin = builtin;
    if (params != NULL && !json_is_array(params))
        return sd_err_set(err, SD_EUSAGE, "strategy \"%s\": \"params\" must be an array", name);
    d->nparams = json_array_size(params);
    d->params = xcalloc(d->nparams + 1, sizeof *d->params);
    for (size_t i = 0; i < d->nparams; i++) {
        if (param_from_json(json_array_get(params, i), &d->params[i], err) != 0) {
            sd_err_prefix(err, "strategy \"%s\"", name);
            def_clear(d);
            return -1;
        }
    }
    if (json_is_array(syms) && json_array_size(syms) > 0) {
        d->symbols = json_incref(syms);
    } else {
        d->symbols = json_array();
        for (size_t i = 0; i < sizeof default_symbols / sizeof *default_symbols; i++)
            json_array_append_new(d->symbols, json_string(default_symbols[i]));
    }
    return 0;
}

static void catalog_push(struct catalog *c, struct strategy_def *d)
{
    c->defs = xrealloc(c->defs, (c->n + 1) * sizeof *c->defs);
    c->defs[c->n++] = *d;
}

/* A stored manifest: {name, description, command[], files[] (absolute), params[]} */
static int def_from_manifest(json_t *m, struct strategy_def *d, struct sd_err *err)
{
    json_t *cmd = json_object_get(m, "command"), *files = json_object_get(m, "files");

    /* Stored manifests also arrive in import bundles: check them again. */
    if (!strv_ok(cmd, 1) || (files != NULL && !strv_ok(files, 0)))
        return sd_err_set(err, SD_EUSAGE,
                          "manifest: \"command\" and \"files\" must be arrays of strings");
    if (def_from_json(m, 0, d, err) != 0)
        return -1;
    d->command = strv_from_json(cmd);
    d->files = strv_from_json(files);
    return 0;
}

static int load_user(struct catalog *c, struct store *s, struct sd_err *err)
{
    sqlite3 *db = store_reader(s, err);
    json_t *ms = db ? store_strategy_manifests(db, err) : NULL, *m;
    size_t i;

    sqlite3_close_v2(db);
    if (ms == NULL)
        return -1;
    json_array_foreach(ms, i, m)
    {
        struct strategy_def d;
        if (def_from_manifest(m, &d, NULL) == 0) /* a damaged row hides one strategy */
            catalog_push(c, &d);
    }
    json_decref(ms);
    return 0;
}

int catalog_load(struct catalog **out, const char *runner_path, struct store *s, struct sd_err *err)
{
    char *argv[] = {(char *)runner_path, "list", NULL};
    struct catalog *c = xcalloc(1, sizeof *c);
    json_error_t je;
    json_t *j = NULL, *arr;
    char *text = NULL;
    int status = 0;

    if (sd_spawn_capture(argv, 0, 1 << 20, &text, NULL, &status, err) != 0)
        goto fail;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        sd_err_set(err, SD_EENV, "%s list failed (status %d)", runner_path, status);
        goto fail;
    }
    j = json_loads(text, 0, &je);
    arr = json_object_get(j, "strategies");
    if (!json_is_array(arr)) {
        sd_err_set(err, SD_EENV, "%s list: unexpected output", runner_path);
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        struct strategy_def d;
        if (def_from_json(json_array_get(arr, i), 1, &d, err) != 0)
            goto fail;
        d.command = xcalloc(5, sizeof *d.command);
        d.command[0] = xstrdup("./swarmdeck-runner");
        d.command[1] = xstrdup("run");
        d.command[2] = xstrdup("--strategy");
        d.command[3] = xstrdup(d.name);
        d.files = xcalloc(2, sizeof *d.files);
        d.files[0] = xstrdup(runner_path);
        catalog_push(c, &d);
    }
    if (s != NULL && load_user(c, s, err) != 0)
        goto fail;
    json_decref(j);
    free(text);
    *out = c;
    return 0;
fail:
    json_decref(j);
    free(text);
    catalog_free(c);
    return -1;
}

void catalog_free(struct catalog *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        def_clear(&c->defs[i]);
    free(c->defs);
    free(c);
}

size_t catalog_count(const struct catalog *c)
{
    return c->n;
}

const struct strategy_def *catalog_at(const struct catalog *c, size_t i)
{
    return i < c->n ? &c->defs[i] : NULL;
}

const struct strategy_def *catalog_find(const struct catalog *c, const char *name,
                                        struct sd_err *err)
{
    char known[400] = "";
    size_t used = 0;

    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->defs[i].name, name) == 0)
            return &c->defs[i];
    for (size_t i = 0; i < c->n && used < sizeof known - 70; i++)
        used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                 c->defs[i].name);
    sd_err_set(err, SD_EUSAGE, "unknown strategy \"%s\" (known: %s)", name, known);
    return NULL;
}

static const char *type_name(int t)
{
    return t == PT_NUMBER ? "a number" : t == PT_INTEGER ? "an integer" : "a boolean";
}

json_t *catalog_validate(const struct strategy_def *d, json_t *params, struct sd_err *err)
{
    json_t *out = json_object();
    const char *key;
    json_t *val;

    if (params != NULL && !json_is_object(params)) {
        sd_err_set(err, SD_EUSAGE, "parameters must be a JSON object");
        goto fail;
    }
    json_object_foreach(params, key, val)
    {
        const struct param_schema *p = NULL;
        for (size_t i = 0; i < d->nparams; i++)
            if (strcmp(d->params[i].name, key) == 0)
                p = &d->params[i];
        if (p == NULL) {
            char names[400] = "";
            size_t used = 0;
            for (size_t i = 0; i < d->nparams && used < sizeof names - 70; i++)
                used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                         d->params[i].name);
            sd_err_set(err, SD_EUSAGE, "unknown parameter \"%s\" for %s (known: %s)", key, d->name,
                       names);
            goto fail;
        }
        if (p->type == PT_BOOLEAN) {
            if (!json_is_boolean(val)) {
                sd_err_set(err, SD_EUSAGE, "parameter \"%s\" must be true or false", key);
                goto fail;
            }
            json_object_set(out, key, val);
            continue;
        }
        if (!json_is_number(val) || (p->type == PT_INTEGER && json_is_real(val) &&
                                     json_real_value(val) != floor(json_real_value(val)))) {
            sd_err_set(err, SD_EUSAGE, "parameter \"%s\" must be %s in [%g, %g]", key,
                       type_name(p->type), p->min, p->max);
            goto fail;
        }
        if (!(json_number_value(val) >= p->min && json_number_value(val) <= p->max)) {
            sd_err_set(err, SD_EUSAGE, "parameter \"%s\" must be %s in [%g, %g], got %g", key,
                       type_name(p->type), p->min, p->max, json_number_value(val));
            goto fail;
        }
        if (p->type == PT_INTEGER)
            json_object_set_new(out, key, json_integer((json_int_t)json_number_value(val)));
        else
            json_object_set_new(out, key, json_real(json_number_value(val)));
    }
    for (size_t i = 0; i < d->nparams; i++) {
        const struct param_schema *p = &d->params[i];
        if (json_object_get(out, p->name) != NULL)
            continue;
        if (p->type == PT_BOOLEAN)
            json_object_set_new(out, p->name, json_boolean(p->def != 0));
        else if (p->type == PT_INTEGER)
            json_object_set_new(out, p->name, json_integer((json_int_t)p->def));
        else
            json_object_set_new(out, p->name, json_real(p->def));
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

json_t *catalog_schema_json(const struct strategy_def *d)
{
    json_t *params = json_array();

    for (size_t i = 0; i < d->nparams; i++) {
        const struct param_schema *p = &d->params[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(p->name));
        json_object_set_new(o, "type",
                            json_string(p->type == PT_NUMBER    ? "number"
                                        : p->type == PT_INTEGER ? "integer"
                                                                : "boolean"));
        if (p->type == PT_BOOLEAN) {
            json_object_set_new(o, "default", json_boolean(p->def != 0));
        } else if (p->type == PT_INTEGER) {
            json_object_set_new(o, "default", json_integer((json_int_t)p->def));
            json_object_set_new(o, "min", json_integer((json_int_t)p->min));
            json_object_set_new(o, "max", json_integer((json_int_t)p->max));
        } else {
            json_object_set_new(o, "default", json_real(p->def));
            json_object_set_new(o, "min", json_real(p->min));
            json_object_set_new(o, "max", json_real(p->max));
        }
        json_object_set_new(o, "description", json_string(p->description));
        json_array_append_new(params, o);
    }
    return json_pack("{s:s, s:s, s:b, s:o, s:O}", "name", d->name, "description", d->description,
                     "builtin", d->builtin, "params", params, "symbols", d->symbols);
}

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 48)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) || name[i] == '-'))
            return 0;
    return 1;
}

/* One manifest file entry f, resolved against the manifest's directory dir into real (a
 * PATH_MAX buffer). Refuses what the operator did not mean to share: a file that resolves
 * outside dir (an absolute path elsewhere, "..", or a symlink leaving it; a manifest from
 * someone else must not pull ~/.ssh into a sandbox), unless allow_outside; and an upload name
 * (the resolved base name) that is data.csv or repeats one of the names in abs. Returns 0 or
 * -1 with err set (SD_EUSAGE). */
static int resolve_file(const char *path, const char *dir, const char *f, int allow_outside,
                        json_t *abs, char *real, struct sd_err *err)
{
    char full[PATH_MAX * 2];
    struct stat st;
    size_t dl = strlen(dir);
    const char *base;

    snprintf(full, sizeof full, "%s%s%s", f[0] == '/' ? "" : dir, f[0] == '/' ? "" : "/", f);
    if (realpath(full, real) == NULL || stat(real, &st) != 0 || !S_ISREG(st.st_mode))
        return sd_err_set(err, SD_EUSAGE, "%s: file \"%s\" does not exist or is not a regular file",
                          path, f);
    if (!allow_outside && !(strncmp(real, dir, dl) == 0 && real[dl] == '/'))
        return sd_err_set(err, SD_EUSAGE,
                          "%s: file \"%s\" resolves to %s, outside the manifest's directory %s "
                          "(%s); pass --allow-outside to allow it",
                          path, f, real, dir,
                          f[0] == '/' ? "an absolute path" : "through \"..\" or a symlink");
    base = strrchr(real, '/') + 1;
    if (strcmp(base, "data.csv") == 0)
        return sd_err_set(err, SD_EUSAGE,
                          "%s: file \"%s\" would be uploaded as data.csv, the name of the market "
                          "data in the sandbox; rename it",
                          path, f);
    for (size_t i = 0; i < json_array_size(abs); i++) {
        const char *o = strrchr(json_string_value(json_array_get(abs, i)), '/') + 1;
        if (strcmp(o, base) == 0)
            return sd_err_set(err, SD_EUSAGE,
                              "%s: two files would be uploaded as \"%s\" (\"%s\" and %s); "
                              "each file needs its own name",
                              path, base, f, json_string_value(json_array_get(abs, i)));
    }
    return 0;
}

int catalog_add_manifest(struct catalog *c, struct store *s, const char *path, struct sd_err *err)
{
    return catalog_add_manifest_flags(c, s, path, 0, err);
}

int catalog_add_manifest_flags(struct catalog *c, struct store *s, const char *path, int flags,
                               struct sd_err *err)
{
    json_error_t je;
    json_t *m = json_load_file(path, JSON_REJECT_DUPLICATES, &je), *files, *cmd, *abs;
    char dir[PATH_MAX], *slash;
    struct strategy_def d;
    char *text;
    int rc = -1;

    memset(&d, 0, sizeof d);
    if (m == NULL)
        return sd_err_set(err, SD_EUSAGE, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    if (!json_is_object(m)) {
        sd_err_set(err, SD_EUSAGE, "%s: a manifest is a JSON object", path);
        goto out;
    }
    cmd = json_object_get(m, "command");
    files = json_object_get(m, "files");
    if (!json_is_array(cmd) || json_array_size(cmd) == 0) {
        sd_err_set(err, SD_EUSAGE, "%s: \"command\" must be a non-empty array of strings", path);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(cmd); i++)
        if (!json_is_string(json_array_get(cmd, i))) {
            sd_err_set(err, SD_EUSAGE, "%s: \"command\" must be an array of strings", path);
            goto out;
        }
    if (files != NULL && !json_is_array(files)) {
        sd_err_set(err, SD_EUSAGE, "%s: \"files\" must be an array of paths", path);
        goto out;
    }
    {
        const char *name = json_string_value(json_object_get(m, "name"));
        if (name == NULL || !name_ok(name)) {
            sd_err_set(err, SD_EUSAGE, "%s: \"name\" must be 1-48 characters of a-z, 0-9 and -",
                       path);
            goto out;
        }
        for (size_t i = 0; i < c->n; i++)
            if (c->defs[i].builtin && strcmp(c->defs[i].name, name) == 0) {
                sd_err_set(err, SD_EUSAGE, "%s: \"%s\" is a built-in strategy; choose another name",
                           path, name);
                goto out;
            }
    }
    /* Resolve files relative to the manifest's directory; each must exist. */
    if (realpath(path, dir) == NULL) {
        sd_err_set(err, SD_EUSAGE, "%s: %s", path, strerror(errno));
        goto out;
    }
    slash = strrchr(dir, '/');
    *slash = '\0';
    abs = json_array();
    for (size_t i = 0; i < json_array_size(files); i++) {
        const char *f = json_string_value(json_array_get(files, i));
        char real[PATH_MAX];
        if (f == NULL) {
            json_decref(abs);
            sd_err_set(err, SD_EUSAGE, "%s: \"files\" must be an array of paths", path);
            goto out;
        }
        if (resolve_file(path, dir, f, flags & CATALOG_ALLOW_OUTSIDE, abs, real, err) != 0) {
            json_decref(abs);
            goto out;
        }
        json_array_append_new(abs, json_string(real));
    }
    json_object_set_new(m, "files", abs);
    if (def_from_manifest(m, &d, err) != 0) {
        sd_err_prefix(err, "%s", path);
        goto out;
    }
    text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    rc = text ? store_strategy_put(s, d.name, text, err)
              : sd_err_set(err, SD_ENOMEM, "out of memory");
    free(text);
    if (rc != 0) {
        def_clear(&d);
        goto out;
    }
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->defs[i].name, d.name) == 0) {
            def_clear(&c->defs[i]);
            c->defs[i] = d;
            goto out;
        }
    catalog_push(c, &d);
out:
    json_decref(m);
    return rc;
}

/* --- market data ---------------------------------------------------------- */

static int has_spx(const char *dir)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/SPX.csv", dir);
    return access(p, R_OK) == 0;
}

const char *catalog_data_dir(void)
{
    static char dir[PATH_MAX];
    const char *env = getenv("SWARMDECK_DATA");

    if (env != NULL && env[0] != '\0') {
        snprintf(dir, sizeof dir, "%s", env);
        return dir;
    }
    snprintf(dir, sizeof dir, "%s/../data", sd_exe_dir());
    if (has_spx(dir))
        return dir;
    snprintf(dir, sizeof dir, "%s/../share/swarmdeck/data", sd_exe_dir());
    if (has_spx(dir))
        return dir;
#ifdef SWARMDECK_SOURCE_DATA
    snprintf(dir, sizeof dir, "%s", SWARMDECK_SOURCE_DATA);
#endif
    return dir;
}

int catalog_symbol_ok(const char *symbol)
{
    size_t n = strlen(symbol);
    if (n == 0 || n > 16)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)symbol[i]) || strchr(".^_-", symbol[i])))
            return 0;
    return 1;
}

/* Imported bars written out as a CSV for one deployment. A close-only (or
 * close-and-some) import has NULL columns in the store; the file then has
 * only the columns the import had, exactly as a bundled close-only file, so
 * the runner takes its documented path for them (it fills at the close when
 * open is absent) instead of reading empty fields. Which columns exist is
 * decided by the first bar: an import stores one file's columns for every
 * bar of the symbol (store_bars_replace). */
struct bars_file {
    const char *symbol;
    char *path; /* the mkstemp template, then the file's name */
    FILE *f;
    long rows;
    int have[5]; /* open, high, low, close, volume present */
    struct sd_err *err;
};

static const char *const bar_cols[5] = {"open", "high", "low", "close", "volume"};

static int bar_line(const char *date, const double v[5], void *arg)
{
    struct bars_file *b = arg;

    if (b->f == NULL) {
        int fd = mkstemp(b->path);
        b->f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (b->f == NULL) {
            if (fd >= 0)
                close(fd);
            return sd_err_set(b->err, SD_EENV, "cannot write %s: %s", b->path, strerror(errno));
        }
        fprintf(b->f, "# imported into the swarmdeck store as %s\n", b->symbol);
        fprintf(b->f, "date");
        for (int i = 0; i < 5; i++) {
            b->have[i] = i == 3 || !isnan(v[i]);
            if (b->have[i])
                fprintf(b->f, ",%s", bar_cols[i]);
        }
        fprintf(b->f, "\n");
    }
    fprintf(b->f, "%s", date);
    for (int i = 0; i < 5; i++) {
        if (!b->have[i])
            continue;
        if (isnan(v[i]))
            return sd_err_set(b->err, SD_EENV,
                              "imported bars of %s: %s has no %s while earlier bars have one; "
                              "import the file again (`swarmdeck data import FILE --symbol %s`)",
                              b->symbol, date, bar_cols[i], b->symbol);
        fprintf(b->f, ",%.17g", v[i]);
    }
    fprintf(b->f, "\n");
    b->rows++;
    return 0;
}

/* Write imported bars of symbol to a new file made from path, a mkstemp
 * template (its XXXXXX is replaced), so concurrent deployments of one symbol
 * never share a file. Returns rows written (0: none imported, no file), or -1. */
static long bars_export(struct store *s, const char *symbol, char *path, struct sd_err *err)
{
    struct bars_file b = {symbol, path, NULL, 0, {0}, err};
    uint64_t gen;
    sqlite3 *db = store_reader_borrow(s, &gen, err); /* once per deployment: pooled */
    int rc;

    if (db == NULL)
        return -1;
    rc = store_bars_read(db, symbol, bar_line, &b, err);
    store_reader_return(s, db, gen);
    if (b.f != NULL && fclose(b.f) != 0 && rc == 0)
        rc = sd_err_set(err, SD_EENV, "cannot write %s", path);
    if (rc != 0 && b.f != NULL)
        unlink(path); /* no half-written copy is left behind */
    return rc == 0 ? b.rows : -1;
}

/* 1 if symbol has imported bars in the store, 0 if not, -1 on error. */
static int bars_present(struct store *s, const char *symbol, struct sd_err *err)
{
    uint64_t gen;
    sqlite3 *db = store_reader_borrow(s, &gen, err);
    int rc;

    if (db == NULL)
        return -1;
    rc = store_bars_present(db, symbol, err);
    store_reader_return(s, db, gen);
    return rc;
}

int catalog_data_resolve(struct store *s, const char *symbol, const char *tmpdir,
                         struct data_source *out, struct sd_err *err)
{
    const char *dir = catalog_data_dir();

    memset(out, 0, sizeof *out);
    if (!catalog_symbol_ok(symbol))
        return sd_err_set(err, SD_EUSAGE, "invalid symbol \"%s\"", symbol);
    snprintf(out->symbol, sizeof out->symbol, "%s", symbol);
    if (s != NULL && tmpdir == NULL) {
        /* Only checking: are there imported bars? No file is written. */
        int n = bars_present(s, symbol, err);
        if (n < 0)
            return -1;
        if (n > 0) {
            out->from_store = 1;
            return 0;
        }
    } else if (s != NULL) {
        long rows;
        snprintf(out->path, sizeof out->path, "%s/%s.imported.XXXXXX", tmpdir, symbol);
        rows = bars_export(s, symbol, out->path, err);
        if (rows < 0)
            return -1;
        if (rows > 0) {
            out->from_store = 1;
            return 0;
        }
    }
    snprintf(out->path, sizeof out->path, "%s/%s.csv", dir, symbol);
    if (access(out->path, R_OK) == 0)
        return 0;
    snprintf(out->path, sizeof out->path, "%s/%s.synthetic.csv", dir, symbol);
    if (access(out->path, R_OK) == 0) {
        out->synthetic = 1;
        return 0;
    }
    return sd_err_set(err, SD_EUSAGE,
                      "no data for symbol \"%s\" (see `swarmdeck data list`; bring your own with "
                      "`swarmdeck data import FILE --symbol %s`)",
                      symbol, symbol);
}

int catalog_data_known(struct store *s, const char *symbol, struct sd_err *err)
{
    char path[4096];
    struct data_source ds;

    if (!catalog_symbol_ok(symbol))
        return sd_err_set(err, SD_EUSAGE, "invalid symbol \"%s\"", symbol);
    snprintf(path, sizeof path, "%s/%s.csv", catalog_data_dir(), symbol);
    if (access(path, R_OK) == 0)
        return 0;
    snprintf(path, sizeof path, "%s/%s.synthetic.csv", catalog_data_dir(), symbol);
    if (access(path, R_OK) == 0)
        return 0;
    return catalog_data_resolve(s, symbol, NULL, &ds, err); /* imported bars, or the error */
}

int catalog_data_import(struct store *s, const char *file, const char *symbol,
                        struct data_import *r, struct sd_err *err)
{
    struct series ser;
    struct err e;
    struct store_bars b;
    int rc;

    memset(r, 0, sizeof *r);
    if (!catalog_symbol_ok(symbol))
        return sd_err_set(err, SD_EUSAGE, "invalid symbol \"%s\" (letters, digits and . ^ _ -)",
                          symbol);
    memset(&e, 0, sizeof e);
    if (series_load(&ser, file, &e) != 0)
        return sd_err_set(err, SD_EUSAGE, "%s (nothing imported)", e.msg);
    r->bars = ser.n;
    snprintf(r->first, sizeof r->first, "%s", ser.date[0]);
    snprintf(r->last, sizeof r->last, "%s", ser.date[ser.n - 1]);
    r->synthetic = ser.synthetic;
    b = (struct store_bars){symbol,    ser.n,     (const char(*)[11])ser.date,
                            ser.open,  ser.high,  ser.low,
                            ser.close, ser.volume};
    rc = s != NULL ? store_bars_replace(s, &b, err) : 0;
    series_free(&ser);
    return rc;
}

/* The bundled files of dir that the runner's loader accepts. */
static void list_bundled(const char *dir, json_t *arr)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);

    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        size_t len = strlen(nm);
        if (len > 4 && strcmp(nm + len - 4, ".csv") == 0) {
            char sym[64], path[PATH_MAX + 256];
            struct series s;
            struct err e;
            int synth = len > 14 && strcmp(nm + len - 14, ".synthetic.csv") == 0;
            snprintf(sym, sizeof sym, "%.*s", (int)(len - (synth ? 14 : 4)), nm);
            snprintf(path, sizeof path, "%s/%s", dir, nm);
            memset(&e, 0, sizeof e);
            if (series_load(&s, path, &e) == 0) {
                json_array_append_new(
                    arr, json_pack("{s:s, s:s, s:b, s:I, s:s, s:s, s:b, s:b}", "symbol", sym,
                                   "source", "bundled", "synthetic", synth || s.synthetic, "bars",
                                   (json_int_t)s.n, "first", s.date[0], "last", s.date[s.n - 1],
                                   "ohlc", s.open != NULL, "volume", s.volume != NULL));
                series_free(&s);
            }
        }
        free(names[i]);
    }
    free(names);
}

json_t *catalog_data_list(struct store *s, struct sd_err *err)
{
    json_t *arr = json_array(), *imported;
    sqlite3 *db;

    list_bundled(catalog_data_dir(), arr);
    if (s == NULL)
        return arr;
    db = store_reader(s, err);
    imported = db ? store_bars_list(db, err) : NULL;
    sqlite3_close_v2(db);
    if (imported == NULL) {
        json_decref(arr);
        return NULL;
    }
    json_array_extend(arr, imported);
    json_decref(imported);
    return arr;
}

json_t *catalog_agent_symbols(const struct strategy_def *d, const char *symbol, json_t *params,
                              struct sd_err *err)
{
    json_t *syms = json_object_get(params, "symbols"), *one = json_object_get(params, "symbol");

    if (symbol != NULL)
        return json_pack("[s]", symbol);
    if (syms != NULL) {
        if (!json_is_array(syms) || json_array_size(syms) == 0)
            goto bad;
        for (size_t i = 0; i < json_array_size(syms); i++)
            if (!json_is_string(json_array_get(syms, i)))
                goto bad;
        return json_incref(syms);
    }
    if (one != NULL) {
        if (!json_is_string(one)) {
            sd_err_set(err, SD_EUSAGE, "parameter \"symbol\" must be a string");
            return NULL;
        }
        return json_pack("[O]", one);
    }
    return json_incref(d->symbols);
bad:
    sd_err_set(err, SD_EUSAGE, "parameter \"symbols\" must be a non-empty array of strings");
    return NULL;
}
