/*
 * indicator.h: technical indicators with the conventions of TA-Lib and R's TTR.
 *
 * DESIGN. Each function fills caller-provided output arrays of length n; values that do not
 * exist yet (the warm-up) are NAN, never zero, and callers print them as empty fields. Every
 * value at index t depends only on inputs at indices <= t, so strategies may precompute an
 * indicator over the whole series without looking ahead. Pure functions of their inputs: no
 * allocation, no state, any thread. Periods must be >= 1 (asserted); a period longer than
 * the series gives an all-NAN result.
 *
 *   sma      mean of the last p values, first at p-1
 *   ema      alpha = 2/(p+1), seeded with the SMA of the first p values (first at p-1)
 *   rsi      Wilder smoothing (alpha = 1/p) of gains and losses seeded with their simple
 *            means over changes 1..p; first value at index p; 100 when there is no loss,
 *            50 when there is neither gain nor loss
 *   bbands   middle = SMA(p), lower/upper = middle -/+ k * population SD of the window
 *   atr      true range TR_t = max(h-l, |h-c[t-1]|, |l-c[t-1]|) for t >= 1; ATR at p is the
 *            mean of TR_1..TR_p, then Wilder: ATR_t = (ATR_{t-1}*(p-1) + TR_t)/p
 *   roc      x[t]/x[t-p] - 1 (TTR's "discrete"), first at p
 *   zscore   (x - SMA(p)) / population SD(p), first at p-1; NAN where the SD is 0
 *   macd     EMA(fast) - EMA(slow) of the full series (first at slow-1); signal is the EMA
 *            (seeded the same way) of the MACD values; hist = macd - signal
 */
#ifndef RUNNER_INDICATOR_H
#define RUNNER_INDICATOR_H

#include <stddef.h>

void indicator_sma(const double *x, size_t n, int p, double *out);
void indicator_ema(const double *x, size_t n, int p, double *out);
void indicator_rsi(const double *x, size_t n, int p, double *out);
void indicator_bbands(const double *x, size_t n, int p, double k, double *lower, double *middle,
                      double *upper);
void indicator_atr(const double *high, const double *low, const double *close, size_t n, int p,
                   double *out);
void indicator_roc(const double *x, size_t n, int p, double *out);
void indicator_zscore(const double *x, size_t n, int p, double *out);
void indicator_macd(const double *x, size_t n, int fast, int slow, int signal, double *macd,
                    double *sig, double *hist);

#endif
