/*
 * bundle_check.c: an import bundle's fields checked as hostile input
 * (bundle_check.h).
 *
 * DESIGN
 * One table-free walk over the bundle, in the order an importer reads it,
 * stopping at the first bad field with a message that names the record
 * (its index and uuid) and the field. The rules are those of what this
 * build writes itself (record.h), so an honest export always passes, and
 * tight enough that a value that passes is harmless wherever it is used
 * later: shown on a terminal (no control bytes in names; free text is
 * sanitized on display), summed by the learner (finite, bounded), or used as
 * a path (a name never holds '/' or "..").
 */
#define _GNU_SOURCE
#include "bundle_check.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "chain.h"
#include "traj.h"

#define CHAIN_HEX_CHARS (CHAIN_HEX_LEN - 1)
#define MAX_STRATEGIES  1000
#define JSON_MAX_DEPTH  16
#define JSON_MAX_NODES  100000

/* Fill err with "bundle: WHERE: WHAT" (SD_EUSAGE); returns -1. */
static int bad(struct sd_err *err, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(struct sd_err *err, const char *where, const char *fmt, ...)
{
    char what[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return sd_err_set(err, SD_EUSAGE, "bundle: %s: %s", where, what);
}

int bundle_strategy_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > 48)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) || name[i] == '-'))
            return 0;
    return 1;
}

/* 1 when s is 1..max characters, each alphanumeric or in extra. */
static int ident_ok(const char *s, size_t max, const char *extra)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && strchr(extra, s[i]) == NULL)
            return 0;
    return 1;
}

static int hex_ok(const char *s, size_t len)
{
    if (s == NULL || strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    return 1;
}

/* j is absent, null or a string of at most max bytes. */
static int opt_text(json_t *j, size_t max)
{
    return j == NULL || json_is_null(j) || (json_is_string(j) && json_string_length(j) <= max);
}

/* j is an integer in [lo, hi] (null allowed when nullable). */
static int int_in(json_t *j, long long lo, long long hi, int nullable)
{
    if (nullable && (j == NULL || json_is_null(j)))
        return 1;
    return json_is_integer(j) && json_integer_value(j) >= lo && json_integer_value(j) <= hi;
}

/* j is a finite number in [lo, hi] (null allowed when nullable). */
static int num_in(json_t *j, double lo, double hi, int nullable)
{
    double v;

    if (nullable && (j == NULL || json_is_null(j)))
        return 1;
    if (!json_is_number(j))
        return 0;
    v = json_number_value(j);
    return isfinite(v) && v >= lo && v <= hi;
}

/* Nested JSON (params, result, prediction, isolation): bounded depth and
 * node count, numbers finite and within BUNDLE_MAX_MAGNITUDE, strings within
 * BUNDLE_MAX_TEXT. *nodes counts down the budget. */
static int json_tame(json_t *j, int depth, long *nodes)
{
    const char *key;
    json_t *v;
    size_t i;

    if (depth > JSON_MAX_DEPTH || --*nodes < 0)
        return 0;
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        json_object_foreach(j, key, v)
        {
            if (strlen(key) > 256 || !json_tame(v, depth + 1, nodes))
                return 0;
        }
        return 1;
    case JSON_ARRAY:
        json_array_foreach(j, i, v)
        {
            if (!json_tame(v, depth + 1, nodes))
                return 0;
        }
        return 1;
    case JSON_STRING:
        return json_string_length(j) <= BUNDLE_MAX_TEXT;
    case JSON_INTEGER:
        return json_integer_value(j) >= -BUNDLE_MAX_TIME_MS &&
               json_integer_value(j) <= BUNDLE_MAX_TIME_MS;
    case JSON_REAL:
        return isfinite(json_real_value(j)) && fabs(json_real_value(j)) <= BUNDLE_MAX_MAGNITUDE;
    default:
        return 1;
    }
}

/* j is absent or null, or (an object when object_only) tame nested JSON. */
static int opt_tame(json_t *j, int object_only)
{
    long nodes = JSON_MAX_NODES;

    if (j == NULL || json_is_null(j))
        return 1;
    if (object_only && !json_is_object(j))
        return 0;
    return json_tame(j, 0, &nodes);
}

static int check_operations(json_t *ops, const char *where, struct sd_err *err)
{
    long long last = 0;
    size_t k;
    json_t *o;

    if (ops == NULL)
        return 0;
    if (!json_is_array(ops) || json_array_size(ops) > BUNDLE_MAX_OPERATIONS)
        return bad(err, where, "\"operations\" must be an array of at most %d",
                   BUNDLE_MAX_OPERATIONS);
    json_array_foreach(ops, k, o)
    {
        json_t *seq = json_object_get(o, "seq");
        if (!json_is_object(o) || !int_in(seq, last + 1, 1000000, 0))
            return bad(err, where,
                       "operation %zu: \"seq\" must be a whole number above the one "
                       "before (at most 1000000)",
                       k);
        last = json_integer_value(seq);
        if (!ident_ok(json_string_value(json_object_get(o, "name")), 32, "-_"))
            return bad(err, where, "operation %zu: \"name\" must be 1-32 letters, digits, - or _",
                       k);
        if (!int_in(json_object_get(o, "startedAt"), 0, BUNDLE_MAX_TIME_MS, 1) ||
            !num_in(json_object_get(o, "duration"), 0, 1e12, 1))
            return bad(err, where,
                       "operation %zu: \"startedAt\" and \"duration\" must be numbers from 0 "
                       "(milliseconds)",
                       k);
        if (json_object_get(o, "ok") != NULL && !json_is_boolean(json_object_get(o, "ok")))
            return bad(err, where, "operation %zu: \"ok\" must be true or false", k);
        if (!opt_text(json_object_get(o, "detail"), BUNDLE_MAX_TEXT))
            return bad(err, where, "operation %zu: \"detail\" must be text of at most %d bytes", k,
                       BUNDLE_MAX_TEXT);
    }
    return 0;
}

static int check_output(json_t *out, const char *where, struct sd_err *err)
{
    long long last = -1;
    size_t k;
    json_t *o;

    if (out == NULL)
        return 0;
    if (!json_is_array(out))
        return bad(err, where, "\"output\" must be an array");
    json_array_foreach(out, k, o)
    {
        json_t *seq = json_object_get(o, "seq");
        const char *stream = json_string_value(json_object_get(o, "stream"));
        json_t *d = json_object_get(o, "data");
        if (!json_is_object(o) || !int_in(seq, last + 1, BUNDLE_MAX_TIME_MS, 0))
            return bad(err, where,
                       "output chunk %zu: \"seq\" must be a whole number above the one before", k);
        last = json_integer_value(seq);
        if (stream == NULL || (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0))
            return bad(err, where, "output chunk %zu: \"stream\" must be stdout or stderr", k);
        if (!json_is_string(d) || json_string_length(d) % 4 != 0)
            return bad(err, where, "output chunk %zu: \"data\" must be base64", k);
    }
    return 0;
}

/* One trajectory of the bundle (index i). */
static int check_trajectory(json_t *t, size_t i, struct sd_err *err)
{
    const char *uuid = json_string_value(json_object_get(t, "uuid"));
    const char *status = json_string_value(json_object_get(t, "status"));
    const char *name = json_string_value(json_object_get(t, "strategyName"));
    const char *sym = json_string_value(json_object_get(t, "symbol"));
    const char *fp = json_string_value(json_object_get(t, "fingerprint"));
    json_t *prev = json_object_get(t, "prevFingerprint");
    char where[96];
    int state;

    if (!json_is_object(t))
        return sd_err_set(err, SD_EUSAGE, "bundle: trajectory %zu is not an object", i);
    if (!ident_ok(uuid, 64, "-_."))
        return sd_err_set(err, SD_EUSAGE,
                          "bundle: trajectory %zu: \"uuid\" must be 1-64 letters, digits, - _ or .",
                          i);
    snprintf(where, sizeof where, "trajectory %zu (%s)", i, uuid);
    if (name == NULL || !bundle_strategy_name_ok(name))
        return bad(err, where, "\"strategyName\" must be 1-48 characters of a-z, 0-9 and -");
    if (status == NULL || (state = traj_state_from_name(status)) < 0)
        return bad(err, where, "\"status\" must be a trajectory state");
    if (!(json_is_null(json_object_get(t, "symbol")) || json_object_get(t, "symbol") == NULL ||
          ident_ok(sym, 16, ".^_-")))
        return bad(err, where, "\"symbol\" must be 1-16 letters, digits, . ^ _ or -");
    if (!ident_ok(json_string_value(json_object_get(t, "provider")), 64, "-_.:"))
        return bad(err, where, "\"provider\" must be 1-64 letters, digits, - _ . or :");
    if (!(json_object_get(t, "sandboxId") == NULL ||
          json_is_null(json_object_get(t, "sandboxId")) ||
          ident_ok(json_string_value(json_object_get(t, "sandboxId")), 79, "-_.:")))
        return bad(err, where, "\"sandboxId\" must be 1-79 letters, digits, - _ . or :");
    if (!int_in(json_object_get(t, "createdAt"), 0, BUNDLE_MAX_TIME_MS, 0) ||
        !int_in(json_object_get(t, "startedAt"), 0, BUNDLE_MAX_TIME_MS, 1) ||
        !int_in(json_object_get(t, "endedAt"), 0, BUNDLE_MAX_TIME_MS, 1))
        return bad(err, where,
                   "\"createdAt\", \"startedAt\" and \"endedAt\" must be times in "
                   "milliseconds since 1970");
    if (!num_in(json_object_get(t, "duration"), 0, 1e12, 1))
        return bad(err, where, "\"duration\" must be a number of milliseconds from 0");
    if (!int_in(json_object_get(t, "exitCode"), 0, 255, 1))
        return bad(err, where, "\"exitCode\" must be a whole number in [0, 255]");
    if (!num_in(json_object_get(t, "reward"), 0, 1, 1))
        return bad(err, where, "\"reward\" must be a number in [0, 1]");
    if (!int_in(json_object_get(t, "outputBytes"), 0, BUNDLE_MAX_TIME_MS, 1) ||
        !int_in(json_object_get(t, "outputDropped"), 0, BUNDLE_MAX_TIME_MS, 1))
        return bad(err, where,
                   "\"outputBytes\" and \"outputDropped\" must be whole numbers from 0");
    if (json_object_get(t, "autoOptimized") != NULL &&
        !json_is_boolean(json_object_get(t, "autoOptimized")))
        return bad(err, where, "\"autoOptimized\" must be true or false");
    if (!opt_text(json_object_get(t, "error"), BUNDLE_MAX_TEXT) ||
        !opt_text(json_object_get(t, "description"), BUNDLE_MAX_TEXT))
        return bad(err, where, "\"error\" and \"description\" must be text of at most %d bytes",
                   BUNDLE_MAX_TEXT);
    if (!(json_object_get(t, "operationSequence") == NULL ||
          json_is_null(json_object_get(t, "operationSequence")) ||
          ident_ok(json_string_value(json_object_get(t, "operationSequence")), 4096, ",-_")))
        return bad(err, where, "\"operationSequence\" must be operation names and commas");
    if (!opt_tame(json_object_get(t, "params"), 1) || !opt_tame(json_object_get(t, "result"), 1) ||
        !opt_tame(json_object_get(t, "prediction"), 1) ||
        !opt_tame(json_object_get(t, "isolation"), 1))
        return bad(err, where,
                   "\"params\", \"result\", \"prediction\" and \"isolation\" must be objects of "
                   "finite numbers within %g, at most %d deep",
                   BUNDLE_MAX_MAGNITUDE, JSON_MAX_DEPTH);
    /* The chain (chain.c) checks the fingerprints; here only their form,
     * and that every final record has one: without it a changed record
     * would skip the chain checks. */
    if (traj_state_terminal(state)) {
        if (!hex_ok(fp, CHAIN_HEX_CHARS))
            return bad(err, where,
                       "a finished trajectory must have its fingerprint (%d "
                       "lower-case hex digits)",
                       CHAIN_HEX_CHARS);
        if (!(prev == NULL || json_is_null(prev) ||
              hex_ok(json_string_value(prev), CHAIN_HEX_CHARS)))
            return bad(err, where, "\"prevFingerprint\" must be null or %d hex digits",
                       CHAIN_HEX_CHARS);
    } else if (json_object_get(t, "fingerprint") != NULL &&
               !json_is_null(json_object_get(t, "fingerprint"))) {
        return bad(err, where, "an unfinished trajectory cannot have a fingerprint");
    }
    if (check_operations(json_object_get(t, "operations"), where, err) != 0 ||
        check_output(json_object_get(t, "output"), where, err) != 0)
        return -1;
    return 0;
}

/* An array of 1..max strings of at most 4096 bytes without control bytes. */
static int strv_ok(json_t *a, size_t min, size_t max)
{
    size_t i;
    json_t *v;

    if (!json_is_array(a) || json_array_size(a) < min || json_array_size(a) > max)
        return 0;
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        if (s == NULL || strlen(s) > 4096)
            return 0;
        for (; *s; s++)
            if (iscntrl((unsigned char)*s))
                return 0;
    }
    return 1;
}

static int check_strategy(json_t *m, size_t i, const char *const *reserved, struct sd_err *err)
{
    const char *name = json_string_value(json_object_get(m, "name"));
    char where[96];

    if (!json_is_object(m) || name == NULL || !bundle_strategy_name_ok(name))
        return sd_err_set(err, SD_EUSAGE,
                          "bundle: strategy %zu: \"name\" must be 1-48 characters of a-z, 0-9 "
                          "and -",
                          i);
    snprintf(where, sizeof where, "strategy %zu (%s)", i, name);
    for (size_t k = 0; reserved != NULL && reserved[k] != NULL; k++)
        if (strcmp(reserved[k], name) == 0)
            return bad(err, where, "a built-in strategy has this name");
    if (!strv_ok(json_object_get(m, "command"), 1, 64) ||
        (json_object_get(m, "files") != NULL && !strv_ok(json_object_get(m, "files"), 0, 256)))
        return bad(err, where,
                   "\"command\" and \"files\" must be arrays of text without control "
                   "characters");
    if (!opt_text(json_object_get(m, "description"), 4096))
        return bad(err, where, "\"description\" must be text of at most 4096 bytes");
    if (json_object_get(m, "params") != NULL && (!json_is_array(json_object_get(m, "params")) ||
                                                 !opt_tame(json_object_get(m, "params"), 0)))
        return bad(err, where, "\"params\" must be an array of parameter objects");
    if (json_object_get(m, "symbols") != NULL && !strv_ok(json_object_get(m, "symbols"), 0, 1000))
        return bad(err, where, "\"symbols\" must be an array of symbols");
    return 0;
}

int bundle_check_fields(json_t *b, const char *const *reserved, struct sd_err *err)
{
    json_t *trajs = json_object_get(b, "trajectories"), *strats = json_object_get(b, "strategies");
    size_t i;
    json_t *v;

    if (!json_is_array(trajs) || json_array_size(trajs) > BUNDLE_MAX_TRAJECTORIES)
        return sd_err_set(err, SD_EUSAGE, "bundle: \"trajectories\" must be an array of at most %d",
                          BUNDLE_MAX_TRAJECTORIES);
    if (strats != NULL && (!json_is_array(strats) || json_array_size(strats) > MAX_STRATEGIES))
        return sd_err_set(err, SD_EUSAGE, "bundle: \"strategies\" must be an array of at most %d",
                          MAX_STRATEGIES);
    json_array_foreach(strats, i, v)
    {
        if (check_strategy(v, i, reserved, err) != 0)
            return -1;
        for (size_t k = 0; k < i; k++)
            if (strcmp(json_string_value(json_object_get(json_array_get(strats, k), "name")),
                       json_string_value(json_object_get(v, "name"))) == 0)
                return sd_err_set(err, SD_EUSAGE, "bundle: strategy %zu: \"%s\" appears twice", i,
                                  json_string_value(json_object_get(v, "name")));
    }
    json_array_foreach(trajs, i, v)
    {
        if (check_trajectory(v, i, err) != 0)
            return -1;
    }
    return 0;
}
