/*
 * indicator.c: the indicators of indicator.h.
 *
 * Windows are recomputed from scratch per bar (two-pass mean and SD) instead of with running
 * sums: it costs O(n*p), a few hundred microseconds for 5,000 bars and p = 20, and avoids the
 * cancellation drift that running sums of squares accumulate over long series.
 */
#include <assert.h>
#include <math.h>

#include "indicator.h"

static void fill_nan(double *out, size_t from, size_t to)
{
    for (; from < to; from++)
        out[from] = NAN;
}

/* Mean and population SD of x[t-p+1..t]. */
static void window_stats(const double *x, size_t t, int p, double *mean, double *sd)
{
    double sum = 0, ss = 0, d;
    size_t i, lo = t + 1 - (size_t)p;

    for (i = lo; i <= t; i++)
        sum += x[i];
    *mean = sum / p;
    for (i = lo; i <= t; i++) {
        d = x[i] - *mean;
        ss += d * d;
    }
    *sd = sqrt(ss / p);
}

void indicator_sma(const double *x, size_t n, int p, double *out)
{
    double mean, sd;
    size_t t;

    assert(p >= 1);
    for (t = 0; t < n; t++) {
        if (t + 1 < (size_t)p) {
            out[t] = NAN;
            continue;
        }
        window_stats(x, t, p, &mean, &sd);
        out[t] = mean;
    }
}

/* EMA of x[start..n-1], seeded with the SMA of x[start..start+p-1]; NAN before. */
static void ema_from(const double *x, size_t n, size_t start, int p, double *out)
{
    double alpha = 2.0 / (p + 1), sum = 0, prev;
    size_t t, seed = start + (size_t)p - 1;

    if (seed >= n) {
        fill_nan(out, 0, n);
        return;
    }
    fill_nan(out, 0, seed);
    for (t = start; t <= seed; t++)
        sum += x[t];
    prev = out[seed] = sum / p;
    for (t = seed + 1; t < n; t++)
        prev = out[t] = prev + alpha * (x[t] - prev);
}

void indicator_ema(const double *x, size_t n, int p, double *out)
{
    assert(p >= 1);
    ema_from(x, n, 0, p, out);
}

static double rsi_value(double gain, double loss)
{
    if (loss == 0)
        return gain == 0 ? 50.0 : 100.0;
    return 100.0 - 100.0 / (1.0 + gain / loss);
}

void indicator_rsi(const double *x, size_t n, int p, double *out)
{
    double gain = 0, loss = 0, d;
    size_t t;

    assert(p >= 1);
    if ((size_t)p >= n) {
        fill_nan(out, 0, n);
        return;
    }
    fill_nan(out, 0, (size_t)p);
    for (t = 1; t <= (size_t)p; t++) {
        d = x[t] - x[t - 1];
        gain += d > 0 ? d : 0;
        loss += d < 0 ? -d : 0;
    }
    gain /= p;
    loss /= p;
    out[p] = rsi_value(gain, loss);
    for (t = (size_t)p + 1; t < n; t++) {
        d = x[t] - x[t - 1];
        gain = (gain * (p - 1) + (d > 0 ? d : 0)) / p;
        loss = (loss * (p - 1) + (d < 0 ? -d : 0)) / p;
        out[t] = rsi_value(gain, loss);
    }
}

void indicator_bbands(const double *x, size_t n, int p, double k, double *lower, double *middle,
                      double *upper)
{
    double mean, sd;
    size_t t;

    assert(p >= 1);
    for (t = 0; t < n; t++) {
        if (t + 1 < (size_t)p) {
            lower[t] = middle[t] = upper[t] = NAN;
            continue;
        }
        window_stats(x, t, p, &mean, &sd);
        middle[t] = mean;
        lower[t] = mean - k * sd;
        upper[t] = mean + k * sd;
    }
}

static double true_range(const double *h, const double *l, const double *c, size_t t)
{
    double tr = h[t] - l[t], a = fabs(h[t] - c[t - 1]), b = fabs(l[t] - c[t - 1]);

    if (a > tr)
        tr = a;
    if (b > tr)
        tr = b;
    return tr;
}

void indicator_atr(const double *high, const double *low, const double *close, size_t n, int p,
                   double *out)
{
    double atr = 0;
    size_t t;

    assert(p >= 1);
    if ((size_t)p >= n) {
        fill_nan(out, 0, n);
        return;
    }
    fill_nan(out, 0, (size_t)p);
    for (t = 1; t <= (size_t)p; t++)
        atr += true_range(high, low, close, t);
    atr /= p;
    out[p] = atr;
    for (t = (size_t)p + 1; t < n; t++)
        out[t] = atr = (atr * (p - 1) + true_range(high, low, close, t)) / p;
}

void indicator_roc(const double *x, size_t n, int p, double *out)
{
    size_t t;

    assert(p >= 1);
    for (t = 0; t < n; t++)
        out[t] = t < (size_t)p ? NAN : x[t] / x[t - (size_t)p] - 1.0;
}

void indicator_zscore(const double *x, size_t n, int p, double *out)
{
    double mean, sd;
    size_t t;

    assert(p >= 1);
    for (t = 0; t < n; t++) {
        if (t + 1 < (size_t)p) {
            out[t] = NAN;
            continue;
        }
        window_stats(x, t, p, &mean, &sd);
        out[t] = sd > 0 ? (x[t] - mean) / sd : NAN;
    }
}

void indicator_macd(const double *x, size_t n, int fast, int slow, int signal, double *macd,
                    double *sig, double *hist)
{
    size_t t, start;

    assert(fast >= 1 && slow >= 1 && signal >= 1);
    /* hist is scratch for the fast EMA until the end. */
    ema_from(x, n, 0, fast, hist);
    ema_from(x, n, 0, slow, macd);
    for (t = 0; t < n; t++)
        macd[t] = hist[t] - macd[t];
    start = (size_t)(fast > slow ? fast : slow) - 1;
    if (start >= n) {
        fill_nan(sig, 0, n);
        fill_nan(hist, 0, n);
        return;
    }
    ema_from(macd, n, start, signal, sig);
    for (t = 0; t < n; t++)
        hist[t] = macd[t] - sig[t];
}
