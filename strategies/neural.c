/*
 * neural.c: the neural-forecast strategy (design.md 4.1; full definition in docs/runner.md).
 *
 * DESIGN. A one-hidden-layer network forecasts the normalised sum of the next `horizon` log
 * returns from the last `lookback` normalised log returns, and is trained online by plain SGD
 * as the bars go by. Everything is computed in start(), in bar order, using at bar t only
 * data up to t:
 *
 *   r[i] = ln(close[i]/close[i-1])                        i >= 1
 *   q[i] = sqrt(mean(r[1..i]^2))                          expanding RMS, known at i
 *   z[i] = clamp(r[i]/q[i], -4, 4)                        (0 when q[i] = 0)
 *   x_t  = (z[t-L+1], ..., z[t])                          input at t, needs t >= L
 *   y_j  = clamp(sum(r[j+1..j+H]) / (q[j] sqrt(H)), -4, 4) target of the input x_j
 *   net(x) = b2 + sum_h w2[h] tanh(b1[h] + sum_i W1[h][i] x[i])
 *
 * For t = L+H .. n-1: the sample j = t-H (its target ends at t, so it is known) is predicted,
 * with error e = net(x_j) - y_j, and one SGD step with learningRate on e^2/2 updates the
 * weights; then the forecast f_t = net(x_t) and the confidence
 * c_t = tanh(|f_t| / RMS(f_{L+H}, ..., f_t)) are stored: how strong this forecast is compared
 * with the forecasts so far, in [0,1). (An error-calibrated confidence, erf(|f|/(s_e sqrt 2))
 * with s_e the RMS of past errors, was tried first: on daily index returns it almost never
 * reaches 0.7, so the strategy never traded; docs/runner.md has the numbers.) Each sample is
 * trained exactly once, so changing bars after t cannot change f_t or c_t.
 *
 * Weights: W1 uniform in +-1/sqrt(L) (row by row), then w2 uniform in +-1/sqrt(hidden), drawn
 * from splitmix64 seeded with `seed`; biases 0. Cost: about 3*L*hidden multiply-adds per bar,
 * ~7 M for 5,000 bars with the defaults.
 *
 * Rules: flat, f_t > 0 and c_t >= minConfidence: buy 5 + round(45 (c-m)/(1-m)) shares (50 when
 * m = 1). With allowShort, flat, f_t < 0 and c_t >= m: short that many. Long and (f_t < 0 or
 * held >= horizon bars): sell. Short and (f_t > 0 or held >= horizon): cover.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strategy.h"

#define NEURAL_CLAMP 4.0

struct neural {
    double *f, *c; /* forecast and confidence per bar (NAN before the first) */
    double min_conf;
    size_t horizon;
    int allow_short;
};

/* splitmix64 (Steele, Lea, Flood 2014): tiny, seedable, identical everywhere. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [-a, a) from the top 53 bits. */
static double uniform(uint64_t *s, double a)
{
    return ((double)(splitmix64(s) >> 11) * 0x1.0p-53 * 2.0 - 1.0) * a;
}

static double clamp(double v)
{
    return v > NEURAL_CLAMP ? NEURAL_CLAMP : v < -NEURAL_CLAMP ? -NEURAL_CLAMP : v;
}

struct net {
    size_t in, hid;
    double *w1, *b1, *w2, b2, *a; /* a: hidden activations of the last forward pass */
};

static double net_forward(struct net *nn, const double *x)
{
    double out = nn->b2, sum;
    size_t h, i;

    for (h = 0; h < nn->hid; h++) {
        const double *w = nn->w1 + h * nn->in;

        sum = nn->b1[h];
        for (i = 0; i < nn->in; i++)
            sum += w[i] * x[i];
        nn->a[h] = tanh(sum);
        out += nn->w2[h] * nn->a[h];
    }
    return out;
}

/* One SGD step on e^2/2 after net_forward(x) gave an output with error e. */
static void net_backward(struct net *nn, const double *x, double e, double lr)
{
    double g;
    size_t h, i;

    for (h = 0; h < nn->hid; h++) {
        double *w = nn->w1 + h * nn->in;

        g = e * nn->w2[h] * (1.0 - nn->a[h] * nn->a[h]);
        nn->w2[h] -= lr * e * nn->a[h];
        for (i = 0; i < nn->in; i++)
            w[i] -= lr * g * x[i];
        nn->b1[h] -= lr * g;
    }
    nn->b2 -= lr * e;
}

static size_t neural_warmup(const double *p)
{
    return (size_t)p[NEURAL_LOOKBACK] + (size_t)p[NEURAL_HORIZON];
}

/* Forecast and confidence for every bar (see the file comment). Scratch is one block. */
static int neural_compute(struct neural *m, const struct series *s, const double *p)
{
    size_t L = (size_t)p[NEURAL_LOOKBACK], H = (size_t)p[NEURAL_HORIZON];
    size_t hid = (size_t)p[NEURAL_HIDDEN], n = s->n, i, t, j, k = 0;
    double lr = p[NEURAL_LEARNING_RATE], *r, *q, *z, *cum, sumsq = 0, ssf = 0, y, e, f, rms;
    uint64_t seed = (uint64_t)p[NEURAL_SEED];
    struct net nn = {.in = L, .hid = hid};
    double *block;

    block = calloc(4 * n + hid * L + 3 * hid, sizeof *block);
    if (block == NULL)
        return -1;
    r = block;
    q = r + n;
    z = q + n;
    cum = z + n; /* cum[i] = r[1] + ... + r[i] */
    nn.w1 = cum + n;
    nn.b1 = nn.w1 + hid * L;
    nn.w2 = nn.b1 + hid;
    nn.a = nn.w2 + hid;
    for (i = 0; i < hid * L; i++)
        nn.w1[i] = uniform(&seed, 1.0 / sqrt((double)L));
    for (i = 0; i < hid; i++)
        nn.w2[i] = uniform(&seed, 1.0 / sqrt((double)hid));

    for (i = 1; i < n; i++) {
        r[i] = log(s->close[i] / s->close[i - 1]);
        sumsq += r[i] * r[i];
        q[i] = sqrt(sumsq / i);
        z[i] = q[i] > 0 ? clamp(r[i] / q[i]) : 0;
        cum[i] = cum[i - 1] + r[i];
    }
    for (t = 0; t < n; t++)
        m->f[t] = m->c[t] = NAN;
    for (t = L + H; t < n; t++) {
        j = t - H;
        y = q[j] > 0 ? clamp((cum[t] - cum[j]) / (q[j] * sqrt((double)H))) : 0;
        e = net_forward(&nn, z + j - L + 1) - y;
        net_backward(&nn, z + j - L + 1, e, lr);
        f = net_forward(&nn, z + t - L + 1);
        ssf += f * f;
        k++;
        rms = sqrt(ssf / k);
        m->f[t] = f;
        m->c[t] = rms > 0 ? tanh(fabs(f) / rms) : 0;
    }
    free(block);
    return 0;
}

static int neural_start(void **state, const struct series *s, const double *p, struct err *e)
{
    struct neural *m = calloc(1, sizeof *m);

    if (m == NULL || (m->f = malloc(2 * s->n * sizeof *m->f)) == NULL)
        goto nomem;
    m->c = m->f + s->n;
    m->min_conf = p[NEURAL_MIN_CONFIDENCE];
    m->horizon = (size_t)p[NEURAL_HORIZON];
    m->allow_short = p[PARAM_ALLOW_SHORT] != 0;
    if (neural_compute(m, s, p) != 0)
        goto nomem;
    *state = m;
    return 0;
nomem:
    if (m != NULL)
        free(m->f);
    free(m);
    return err_set(e, EXIT_DATA, "out of memory for %zu bars", s->n);
}

static long neural_size(const struct neural *m, double c)
{
    double frac = m->min_conf < 1 ? (c - m->min_conf) / (1 - m->min_conf) : 1;

    if (frac < 0)
        frac = 0;
    if (frac > 1)
        frac = 1;
    return 5 + lround(45 * frac);
}

static enum order neural_decide(void *state, size_t t, long position, size_t held, long *shares)
{
    const struct neural *m = state;
    double f = m->f[t], c = m->c[t];

    if (isnan(f))
        return ORDER_NONE;
    *shares = neural_size(m, c);
    if (position == 0 && f > 0 && c >= m->min_conf)
        return ORDER_BUY;
    if (position == 0 && m->allow_short && f < 0 && c >= m->min_conf)
        return ORDER_SHORT;
    if (position > 0 && (f < 0 || held >= m->horizon))
        return ORDER_SELL;
    if (position < 0 && (f > 0 || held >= m->horizon))
        return ORDER_COVER;
    return ORDER_NONE;
}

static double neural_signal(const void *state, size_t t)
{
    const struct neural *m = state;

    return m->f[t];
}

static void neural_free(void *state)
{
    struct neural *m = state;

    if (m != NULL)
        free(m->f);
    free(m);
}

const struct strategy_ops neural_ops = {
    .warmup = neural_warmup,
    .start = neural_start,
    .decide = neural_decide,
    .signal = neural_signal,
    .free = neural_free,
};
