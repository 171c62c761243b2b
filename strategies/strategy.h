/*
 * strategy.h: the strategy registry and its parameter schemas.
 *
 * DESIGN. One table (strategy.c) lists every strategy with its description and parameter
 * schema (name, type, default, range, help). That table alone drives --params validation,
 * `swarmdeck-runner list` (and through it the console's deploy form and the learning module),
 * `--help` and docs/runner.md. Every strategy starts with the common parameters capital,
 * commission and allowShort, at the fixed indices PARAM_CAPITAL.. below; its own parameters
 * follow at the indices named in the per-strategy enums, which the table's designated
 * initialisers use too, so code and schema cannot disagree.
 *
 * Resolved parameters are a plain array of doubles indexed like the schema (integers and
 * booleans are stored exactly as doubles).
 *
 * A strategy's behaviour is a const ops struct: start() precomputes whatever signals it needs
 * from the series (causally: a value at t may use bars <= t only), decide() turns the signal at
 * bar t plus the current position into an order, free() releases the state. The backtest
 * (backtest.h) owns fills, cash and bookkeeping, so strategies are only their rules.
 */
#ifndef RUNNER_STRATEGY_H
#define RUNNER_STRATEGY_H

#include <stddef.h>

#include <jansson.h>

#include "error.h"
#include "series.h"

#define STRATEGY_MAX_PARAMS 12

enum param_type { PARAM_NUMBER, PARAM_INTEGER, PARAM_BOOLEAN };

struct param_spec {
    const char *name;
    enum param_type type;
    double def, min, max; /* booleans: 0/1 */
    const char *description;
};

/* Indices of the common parameters, first in every strategy. */
enum { PARAM_CAPITAL, PARAM_COMMISSION, PARAM_ALLOW_SHORT, PARAM_COMMON };

enum { MOMENTUM_LOOKBACK = PARAM_COMMON, MOMENTUM_THRESHOLD, MOMENTUM_SIZE, MOMENTUM_NPARAMS };
enum {
    MEANREV_PERIOD = PARAM_COMMON,
    MEANREV_ENTRY_Z,
    MEANREV_EXIT_Z,
    MEANREV_SIZE,
    MEANREV_NPARAMS
};
enum {
    NEURAL_LOOKBACK = PARAM_COMMON,
    NEURAL_HORIZON,
    NEURAL_MIN_CONFIDENCE,
    NEURAL_HIDDEN,
    NEURAL_LEARNING_RATE,
    NEURAL_SEED,
    NEURAL_NPARAMS
};

/* An order decided at a bar's close, filled at the next bar's open. */
enum order { ORDER_NONE, ORDER_BUY, ORDER_SELL, ORDER_SHORT, ORDER_COVER };

struct strategy_ops {
    /* First bar index at which decide() may return an order. */
    size_t (*warmup)(const double *p);
    /* Precompute signals. Returns 0 and sets *state, or -1 with e set. */
    int (*start)(void **state, const struct series *s, const double *p, struct err *e);
    /*
     * The order at bar t's close given the position (signed shares) and, when in a position,
     * `held` = bars since the entry fill, counting the fill bar (1 on the fill bar). For
     * ORDER_BUY and ORDER_SHORT, *shares is the wanted size (the backtest limits it to cash).
     */
    enum order (*decide)(void *state, size_t t, long position, size_t held, long *shares);
    /*
     * The number the decision at t is based on (roc, z-score, forecast; NAN before it
     * exists). For tests and diagnostics: the look-ahead test compares it bit for bit.
     */
    double (*signal)(const void *state, size_t t);
    void (*free)(void *state);
};

struct strategy {
    const char *name;
    const char *description;
    const char *warmup_param; /* the parameter named in "too few bars" errors */
    const struct strategy_ops *ops;
    size_t nparams;
    struct param_spec params[STRATEGY_MAX_PARAMS];
};

extern const struct strategy_ops momentum_ops, meanrev_ops, neural_ops;

/* Number of strategies and the i-th (i < strategy_count()). Can't fail. */
size_t strategy_count(void);
const struct strategy *strategy_at(size_t i);

/* The strategy named `name`, or NULL. */
const struct strategy *strategy_find(const char *name);

/* Write "momentum, mean-reversion, ..." into buf (truncated to len). Can't fail. */
void strategy_names(char *buf, size_t len);

/*
 * Resolve parameters: defaults overridden by the JSON object `json` (NULL or "" = defaults).
 * Returns 0 with p[0..nparams-1] filled, or -1 with e set (EXIT_USAGE) naming the parameter and
 * its allowed type and range, or jansson's line and column for malformed JSON. Unknown names
 * are refused.
 */
int strategy_resolve(const struct strategy *st, const char *json, double *p, struct err *e);

/* Fill p with the defaults. Can't fail. */
void strategy_defaults(const struct strategy *st, double *p);

/* Resolved parameters as a new JSON object (integers as integers, booleans as booleans). */
json_t *strategy_params_json(const struct strategy *st, const double *p);

/* The `list` document: {"strategies":[{name, description, params:[...]}]}. Caller decrefs. */
json_t *strategy_list_json(void);

#endif
