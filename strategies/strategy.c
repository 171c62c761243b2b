/*
 * strategy.c: the one table of strategies and parameter schemas, and parameter resolution.
 *
 * The table is the single source of truth for names, defaults, ranges and help text (see
 * strategy.h). Resolution walks the user's JSON object once: every key must name a parameter
 * of the strategy, its JSON type must match the schema's type and its value must lie in the
 * range. Messages say what was expected, e.g.
 * `parameter "lookback" must be an integer in [2, 500], got 0`.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strategy.h"

#define MAX_SAFE_INTEGER 9007199254740991.0 /* 2^53 - 1: every integer up to it is exact */

#define COMMON_PARAMS                                                                              \
    [PARAM_CAPITAL] = {"capital", PARAM_NUMBER,                                                    \
                       100000,    1,                                                               \
                       1e12,      "starting cash; also the equity curve's first value"},           \
    [PARAM_COMMISSION] =                                                                           \
        {"commission", PARAM_NUMBER, 0, 0, 1000, "commission per share traded, in price units"},   \
    [PARAM_ALLOW_SHORT] = {                                                                        \
        "allowShort", PARAM_BOOLEAN, 0, 0, 1, "allow short positions (long only when false)"}

static const struct strategy strategy_table[] =
    {
        {
            .name = "momentum",
            .description = "rate of change over lookback bars: buy above +threshold, sell below "
                           "-threshold (mirror image for shorts)",
            .warmup_param = "lookback",
            .ops = &momentum_ops,
            .nparams = MOMENTUM_NPARAMS,
            .params =
                {
                    COMMON_PARAMS,
                    [MOMENTUM_LOOKBACK] = {"lookback", PARAM_INTEGER, 20, 2, 500,
                                           "bars between the two closes of the rate of change"},
                    [MOMENTUM_THRESHOLD] = {"threshold", PARAM_NUMBER, 0.02, 0, 1,
                                            "rate of change needed to enter (and, negated, to "
                                            "exit)"},
                    [MOMENTUM_SIZE] = {"positionSize", PARAM_INTEGER, 10, 1, 1000000,
                                       "shares per entry (fewer if cash is short)"},
                },
        },
        {
            .name = "mean-reversion",
            .description = "z-score of the close against its SMA: buy below -entryZ, sell above "
                           "-exitZ; with allowShort, short above entryZ, cover below exitZ",
            .warmup_param = "period",
            .ops = &meanrev_ops,
            .nparams = MEANREV_NPARAMS,
            .params =
                {
                    COMMON_PARAMS,
                    [MEANREV_PERIOD] = {"period", PARAM_INTEGER, 20, 2, 500,
                                        "bars in the SMA and population SD window"},
                    [MEANREV_ENTRY_Z] = {"entryZ", PARAM_NUMBER, 2.0, 0, 10,
                                         "|z| beyond which to enter"},
                    [MEANREV_EXIT_Z] = {"exitZ", PARAM_NUMBER, 0.5, 0, 10,
                                        "exit once z is back within exitZ of the mean's side"},
                    [MEANREV_SIZE] = {"positionSize", PARAM_INTEGER, 100, 1, 1000000,
                                      "shares per entry (fewer if cash is short)"},
                },
        },
        {
            .name = "neural-forecast",
            .description = "online-trained one-hidden-layer network forecasting the next horizon "
                           "log returns; trades confident positive forecasts",
            .warmup_param = "lookback",
            .ops = &neural_ops,
            .nparams = NEURAL_NPARAMS,
            .params =
                {
                    COMMON_PARAMS,
                    [NEURAL_LOOKBACK] = {"lookback", PARAM_INTEGER, 60, 2, 500,
                                         "normalised log returns fed to the network"},
                    [NEURAL_HORIZON] = {"horizon", PARAM_INTEGER, 5, 1, 100,
                                        "bars ahead forecast; also the longest holding period"},
                    [NEURAL_MIN_CONFIDENCE] = {"minConfidence", PARAM_NUMBER, 0.7, 0, 1,
                                               "confidence needed to enter"},
                    [NEURAL_HIDDEN] = {"hidden", PARAM_INTEGER, 8, 1, 64, "tanh hidden units"},
                    [NEURAL_LEARNING_RATE] = {"learningRate", PARAM_NUMBER, 0.01,
                                              1e-6, 1, "SGD step size"},
                    [NEURAL_SEED] =
                        {"seed", PARAM_INTEGER, 42, 0, MAX_SAFE_INTEGER,
                         "seed of the weight initialisation (splitmix64)"},
                },
        },
};

#define NSTRATEGIES (sizeof strategy_table / sizeof strategy_table[0])

static const char *param_type_names[] = {
    [PARAM_NUMBER] = "number",
    [PARAM_INTEGER] = "integer",
    [PARAM_BOOLEAN] = "boolean",
};

size_t strategy_count(void)
{
    return NSTRATEGIES;
}

const struct strategy *strategy_at(size_t i)
{
    return &strategy_table[i];
}

const struct strategy *strategy_find(const char *name)
{
    size_t i;

    for (i = 0; i < NSTRATEGIES; i++) {
        if (strcmp(strategy_table[i].name, name) == 0)
            return &strategy_table[i];
    }
    return NULL;
}

void strategy_names(char *buf, size_t len)
{
    size_t i, used = 0;

    buf[0] = '\0';
    for (i = 0; i < NSTRATEGIES && used < len; i++)
        used += snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "", strategy_table[i].name);
}

void strategy_defaults(const struct strategy *st, double *p)
{
    size_t i;

    for (i = 0; i < st->nparams; i++)
        p[i] = st->params[i].def;
}

static void param_names(const struct strategy *st, char *buf, size_t len)
{
    size_t i, used = 0;

    buf[0] = '\0';
    for (i = 0; i < st->nparams && used < len; i++)
        used += snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "", st->params[i].name);
}

/* "an integer in [2, 500]" and friends. */
static void param_expect(const struct param_spec *ps, char *buf, size_t len)
{
    if (ps->type == PARAM_BOOLEAN)
        snprintf(buf, len, "a boolean (true or false)");
    else if (ps->type == PARAM_INTEGER)
        snprintf(buf, len, "an integer in [%.0f, %.0f]", ps->min, ps->max);
    else
        snprintf(buf, len, "a number in [%.15g, %.15g]", ps->min, ps->max);
}

/* Check one JSON value against its schema entry; store it in *out. */
static int param_check(const struct strategy *st, const struct param_spec *ps, json_t *v,
                       double *out, struct err *e)
{
    char expect[128], *got;
    int ok = 0;
    double d = 0;

    if (ps->type == PARAM_BOOLEAN) {
        ok = json_is_boolean(v);
        d = json_is_true(v);
    } else if (json_is_number(v)) {
        d = json_number_value(v);
        ok = d >= ps->min && d <= ps->max && (ps->type != PARAM_INTEGER || d == floor(d));
    }
    if (ok) {
        *out = d;
        return 0;
    }
    param_expect(ps, expect, sizeof expect);
    got = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
    err_set(e, EXIT_USAGE, "parameter \"%s\" must be %s, got %s", ps->name, expect,
            got != NULL ? got : "?");
    free(got);
    return -1;
}

int strategy_resolve(const struct strategy *st, const char *json, double *p, struct err *e)
{
    json_error_t jerr;
    json_t *root, *v;
    const char *key;
    char names[512];
    size_t i;
    int rc = -1;

    strategy_defaults(st, p);
    if (json == NULL || *json == '\0')
        return 0;
    if ((root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
        return err_set(e, EXIT_USAGE, "--params is not valid JSON: line %d, column %d: %s",
                       jerr.line, jerr.column, jerr.text);
    if (!json_is_object(root)) {
        err_set(e, EXIT_USAGE, "--params must be a JSON object like {\"%s\": %g}",
                st->params[PARAM_COMMON].name, st->params[PARAM_COMMON].def);
        goto out;
    }
    json_object_foreach(root, key, v)
    {
        for (i = 0; i < st->nparams; i++) {
            if (strcmp(st->params[i].name, key) == 0)
                break;
        }
        if (i == st->nparams) {
            param_names(st, names, sizeof names);
            err_set(e, EXIT_USAGE, "unknown parameter \"%s\" for strategy \"%s\" (known: %s)", key,
                    st->name, names);
            goto out;
        }
        if (param_check(st, &st->params[i], v, &p[i], e) != 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

static json_t *param_value_json(const struct param_spec *ps, double v)
{
    if (ps->type == PARAM_BOOLEAN)
        return json_boolean(v != 0);
    if (ps->type == PARAM_INTEGER)
        return json_integer((json_int_t)v);
    return json_real(v);
}

json_t *strategy_params_json(const struct strategy *st, const double *p)
{
    json_t *obj = json_object();
    size_t i;

    for (i = 0; i < st->nparams; i++)
        json_object_set_new(obj, st->params[i].name, param_value_json(&st->params[i], p[i]));
    return obj;
}

json_t *strategy_list_json(void)
{
    json_t *list = json_array(), *params, *ps;
    const struct param_spec *spec;
    size_t i, k;

    for (i = 0; i < NSTRATEGIES; i++) {
        params = json_array();
        for (k = 0; k < strategy_table[i].nparams; k++) {
            spec = &strategy_table[i].params[k];
            ps = json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "name", spec->name, "type",
                           param_type_names[spec->type], "default",
                           param_value_json(spec, spec->def), "min",
                           param_value_json(spec, spec->min), "max",
                           param_value_json(spec, spec->max), "description", spec->description);
            json_array_append_new(params, ps);
        }
        json_array_append_new(list, json_pack("{s:s, s:s, s:o}", "name", strategy_table[i].name,
                                              "description", strategy_table[i].description,
                                              "params", params));
    }
    return json_pack("{s:o}", "strategies", list);
}
