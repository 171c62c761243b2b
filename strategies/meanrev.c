/*
 * meanrev.c: the mean-reversion strategy (design.md 4.1).
 *
 * z[t] = (close[t] - SMA(period)) / population SD(period), over the window ending at t.
 * Flat and z < -entryZ: buy positionSize. Long and z > -exitZ: sell. With allowShort:
 * flat and z > entryZ: short positionSize; short and z < exitZ: cover. Where the window's SD
 * is 0, z does not exist and nothing is decided. First decision at t = period-1.
 */
#include <math.h>
#include <stdlib.h>

#include "indicator.h"
#include "strategy.h"

struct meanrev {
    double *z, entry, exit;
    long size;
    int allow_short;
};

static size_t meanrev_warmup(const double *p)
{
    return (size_t)p[MEANREV_PERIOD] - 1;
}

static int meanrev_start(void **state, const struct series *s, const double *p, struct err *e)
{
    struct meanrev *m = malloc(sizeof *m);

    if (m == NULL || (m->z = malloc(s->n * sizeof *m->z)) == NULL) {
        free(m);
        return err_set(e, EXIT_DATA, "out of memory for %zu bars", s->n);
    }
    indicator_zscore(s->close, s->n, (int)p[MEANREV_PERIOD], m->z);
    m->entry = p[MEANREV_ENTRY_Z];
    m->exit = p[MEANREV_EXIT_Z];
    m->size = (long)p[MEANREV_SIZE];
    m->allow_short = p[PARAM_ALLOW_SHORT] != 0;
    *state = m;
    return 0;
}

static enum order meanrev_decide(void *state, size_t t, long position, size_t held, long *shares)
{
    const struct meanrev *m = state;
    double z = m->z[t];

    *shares = m->size;
    if (isnan(z))
        return ORDER_NONE;
    if (position == 0 && z < -m->entry)
        return ORDER_BUY;
    if (position == 0 && m->allow_short && z > m->entry)
        return ORDER_SHORT;
    if (position > 0 && z > -m->exit)
        return ORDER_SELL;
    if (position < 0 && z < m->exit)
        return ORDER_COVER;
    return ORDER_NONE;
}

static double meanrev_signal(const void *state, size_t t)
{
    const struct meanrev *m = state;

    return m->z[t];
}

static void meanrev_free(void *state)
{
    struct meanrev *m = state;

    if (m != NULL)
        free(m->z);
    free(m);
}

const struct strategy_ops meanrev_ops = {
    .warmup = meanrev_warmup,
    .start = meanrev_start,
    .decide = meanrev_decide,
    .signal = meanrev_signal,
    .free = meanrev_free,
};
