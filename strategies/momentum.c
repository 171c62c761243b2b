/*
 * momentum.c: the momentum strategy (design.md 4.1).
 *
 * roc[t] = close[t]/close[t-lookback] - 1. Flat and roc > threshold: buy positionSize.
 * Long and roc < -threshold: sell. With allowShort, the mirror image: flat and
 * roc < -threshold: short positionSize; short and roc > threshold: cover. The first decision is
 * at t = lookback, the first bar with a rate of change.
 */
#include <stdlib.h>

#include "indicator.h"
#include "strategy.h"

struct momentum {
    double *roc, threshold;
    long size;
    int allow_short;
};

static size_t momentum_warmup(const double *p)
{
    return (size_t)p[MOMENTUM_LOOKBACK];
}

static int momentum_start(void **state, const struct series *s, const double *p, struct err *e)
{
    struct momentum *m = malloc(sizeof *m);

    if (m == NULL || (m->roc = malloc(s->n * sizeof *m->roc)) == NULL) {
        free(m);
        return err_set(e, EXIT_DATA, "out of memory for %zu bars", s->n);
    }
    indicator_roc(s->close, s->n, (int)p[MOMENTUM_LOOKBACK], m->roc);
    m->threshold = p[MOMENTUM_THRESHOLD];
    m->size = (long)p[MOMENTUM_SIZE];
    m->allow_short = p[PARAM_ALLOW_SHORT] != 0;
    *state = m;
    return 0;
}

static enum order momentum_decide(void *state, size_t t, long position, size_t held, long *shares)
{
    const struct momentum *m = state;
    double roc = m->roc[t];

    *shares = m->size;
    if (position == 0 && roc > m->threshold)
        return ORDER_BUY;
    if (position == 0 && m->allow_short && roc < -m->threshold)
        return ORDER_SHORT;
    if (position > 0 && roc < -m->threshold)
        return ORDER_SELL;
    if (position < 0 && roc > m->threshold)
        return ORDER_COVER;
    return ORDER_NONE;
}

static double momentum_signal(const void *state, size_t t)
{
    const struct momentum *m = state;

    return m->roc[t];
}

static void momentum_free(void *state)
{
    struct momentum *m = state;

    if (m != NULL)
        free(m->roc);
    free(m);
}

const struct strategy_ops momentum_ops = {
    .warmup = momentum_warmup,
    .start = momentum_start,
    .decide = momentum_decide,
    .signal = momentum_signal,
    .free = momentum_free,
};
