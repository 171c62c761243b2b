/*
 * learn_gp.c: a small Gaussian-process regression over whole normalised
 * parameter vectors (learn_int.h: struct learn_gp), the model behind
 * auto-optimise and the suggestion's recommended parameter set.
 *
 * MODEL
 * Rewards y are standardised (y - mean) / sd over the training rows, so the
 * prior mean is the strategy's own mean reward (predictions shrink toward it
 * far from evidence) and the noise is measured in units of the rewards' own
 * spread rather than assumed. The kernel over u vectors (learn.c's unit
 * space, untuned parameters left out by the caller) is Matern 5/2 with one
 * length scale l, times rho = 0.5 when two runs are on different symbols:
 *     k(a, b) = sf2 * (1 + s + s^2 / 3) exp(-s) * (1 or rho),  s = sqrt(5) |a - b| / l
 * plus sf2 * eta on the diagonal (the noise, as a share eta of the signal).
 * l and eta are chosen on a grid (LS x ETA) by the profile marginal
 * likelihood, sf2 in closed form (y' (C + eta I)^-1 y / n): the data say how
 * smooth the rewards are and how noisy, which the old fixed Beta counts on
 * bins could not.
 *
 * THE LENGTH SCALE is the shortest of the grid whose likelihood is within
 * LS_TOLERANCE (2 nats) of the best, with its most likely noise share; a
 * longer one must be supported by the data. When most runs are noise (a
 * strategy that fails 9 times in 10 wherever it is tried, away from a
 * narrow optimum) the likelihood is nearly flat in l (under 1.5 nats between
 * 0.08 and 0.64 over 159 such runs), and the plain argmax took the longest
 * scale: a model that reduces to a trend over the whole box, declares the
 * unexplored space known, has its maximum on a bound, and is confirmed by
 * every further run there. That was auto-optimise's boundary trap
 * (learning_e2e's fixture with --seed 1007 + i: x = 1.0 from the 31st run
 * to the 200th; learn_trust_test optimize_boundary_trap). On a smooth
 * objective the data reject short scales by tens of nats and nothing
 * changes.
 *
 * Cost: one Cholesky per grid point, O(n^3 / 6), n <= LEARN_GP_MAX (256):
 * about 3 M multiply-adds each. A prediction is O(n^2 / 2) for the variance.
 *
 * THREADS: pure functions over the caller's arrays; the struct is the
 * caller's. Nothing global.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn_int.h"

#define OTHER_SYMBOL_RHO 0.5

static const double LS[] = {0.08, 0.16, 0.32, 0.64};
/* Log-likelihood (nats) a longer length scale must gain over a shorter one
 * to be chosen: a likelihood ratio of e^2, about the 95 % bound of a
 * likelihood-ratio test on one parameter (1.92). */
#define LS_TOLERANCE 2.0
static const double ETA[] = {0.03, 0.15, 0.6, 2.4};

static double matern(const double *a, const double *b, size_t d, double ell)
{
    double r2 = 0, s;
    for (size_t k = 0; k < d; k++)
        r2 += (a[k] - b[k]) * (a[k] - b[k]);
    s = sqrt(5 * r2) / ell;
    return (1 + s + s * s / 3) * exp(-s);
}

static double kern(const struct learn_gp *g, const double *a, int32_t sa, const double *b,
                   int32_t sb)
{
    return matern(a, b, g->d, g->ell) * (sa == sb ? 1 : OTHER_SYMBOL_RHO);
}

/* In-place lower Cholesky of the n x n matrix A (row major). -1 when not
 * positive definite. */
static int cholesky(double *A, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        double s = A[j * n + j];
        for (size_t k = 0; k < j; k++)
            s -= A[j * n + k] * A[j * n + k];
        if (s <= 1e-12)
            return -1;
        s = sqrt(s);
        A[j * n + j] = s;
        for (size_t i = j + 1; i < n; i++) {
            double t = A[i * n + j];
            for (size_t k = 0; k < j; k++)
                t -= A[i * n + k] * A[j * n + k];
            A[i * n + j] = t / s;
        }
        for (size_t k = j + 1; k < n; k++)
            A[j * n + k] = 0;
    }
    return 0;
}

/* Solve L z = b (forward), in place. */
static void fwd(const double *L, size_t n, double *b)
{
    for (size_t i = 0; i < n; i++) {
        double t = b[i];
        for (size_t k = 0; k < i; k++)
            t -= L[i * n + k] * b[k];
        b[i] = t / L[i * n + i];
    }
}

/* Solve L' z = b (backward), in place. */
static void bwd(const double *L, size_t n, double *b)
{
    for (size_t i = n; i-- > 0;) {
        double t = b[i];
        for (size_t k = i + 1; k < n; k++)
            t -= L[k * n + i] * b[k];
        b[i] = t / L[i * n + i];
    }
}

/* Factor C + eta I for the current ell/eta and solve alpha; returns the
 * profile log likelihood, or -INFINITY when the matrix is not definite. */
static double build(struct learn_gp *g)
{
    size_t n = g->n;
    double quad = 0, logdet = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j <= i; j++) {
            double k = kern(g, &g->X[i * g->d], g->sym[i], &g->X[j * g->d], g->sym[j]);
            g->L[i * n + j] = g->L[j * n + i] = k;
        }
        g->L[i * n + i] += g->eta;
    }
    if (cholesky(g->L, n) != 0)
        return -INFINITY;
    memcpy(g->alpha, g->y, n * sizeof *g->y);
    fwd(g->L, n, g->alpha);
    for (size_t i = 0; i < n; i++) {
        quad += g->alpha[i] * g->alpha[i];
        logdet += log(g->L[i * n + i]);
    }
    bwd(g->L, n, g->alpha);
    g->sf2 = n ? fmax(quad / (double)n, 1e-6) : 1;
    return -0.5 * (double)n * log(g->sf2) - logdet;
}

void learn_gp_free(struct learn_gp *g)
{
    free(g->X);
    free(g->y);
    free(g->sym);
    free(g->L);
    free(g->alpha);
    free(g->tmp);
    memset(g, 0, sizeof *g);
}

int learn_gp_fit(struct learn_gp *g, const double *X, const double *r, const int32_t *sym, size_t n,
                 size_t d, int mode)
{
    double mean = 0, var = 0, best = -INFINITY, bl = g->ell, be = g->eta;
    size_t cap = n ? n : 1;

    if (mode == LEARN_GP_SEARCH || !(g->ell > 0)) {
        bl = 0.25;
        be = 0.3;
    }
    free(g->X);
    free(g->y);
    free(g->sym);
    free(g->L);
    free(g->alpha);
    free(g->tmp);
    g->ell = bl;
    g->eta = be;
    g->n = n;
    g->d = d;
    g->X = malloc(cap * (d ? d : 1) * sizeof *g->X);
    g->y = malloc(cap * sizeof *g->y);
    g->sym = malloc(cap * sizeof *g->sym);
    g->L = malloc(cap * cap * sizeof *g->L);
    g->alpha = malloc(cap * sizeof *g->alpha);
    g->tmp = malloc(cap * sizeof *g->tmp);
    if (!g->X || !g->y || !g->sym || !g->L || !g->alpha || !g->tmp)
        return -1;
    memcpy(g->X, X, n * d * sizeof *X);
    memcpy(g->sym, sym, n * sizeof *sym);
    if (mode != LEARN_GP_BELIEVER) {
        for (size_t i = 0; i < n; i++)
            mean += r[i];
        mean = n ? mean / (double)n : 0.5;
        for (size_t i = 0; i < n; i++)
            var += (r[i] - mean) * (r[i] - mean);
        g->ymean = mean;
        /* Too few runs to measure a spread: assume a tenth of the reward scale. */
        g->ysd = n >= 3 ? fmax(sqrt(var / (double)(n - 1)), 1e-3) : 0.1;
    }
    for (size_t i = 0; i < n; i++)
        g->y[i] = (r[i] - g->ymean) / g->ysd;
    if (n == 0) {
        g->sf2 = mode == LEARN_GP_BELIEVER ? g->sf2_fixed : 1;
        return 0;
    }
    if (mode == LEARN_GP_SEARCH && n >= 5) {
        double ll[sizeof LS / sizeof LS[0]][sizeof ETA / sizeof ETA[0]];
        for (size_t a = 0; a < sizeof LS / sizeof LS[0]; a++)
            for (size_t b = 0; b < sizeof ETA / sizeof ETA[0]; b++) {
                g->ell = LS[a];
                g->eta = ETA[b];
                ll[a][b] = build(g);
                best = fmax(best, ll[a][b]);
            }
        /* The shortest length scale the data do not reject (see MODEL), with
         * its most likely noise share. */
        for (size_t a = 0, found = 0; a < sizeof LS / sizeof LS[0] && !found; a++) {
            double top = -INFINITY;
            for (size_t b = 0; b < sizeof ETA / sizeof ETA[0]; b++)
                if (ll[a][b] >= best - LS_TOLERANCE && ll[a][b] > top) {
                    top = ll[a][b];
                    bl = LS[a];
                    be = ETA[b];
                    found = 1;
                }
        }
        g->ell = bl;
        g->eta = be;
    }
    if (build(g) == -INFINITY) {
        g->eta += 0.1; /* duplicate rows with no noise: give it some */
        if (build(g) == -INFINITY)
            return -1;
    }
    if (mode == LEARN_GP_BELIEVER)
        g->sf2 = g->sf2_fixed;
    else
        g->sf2_fixed = g->sf2;
    return 0;
}

void learn_gp_predict(const struct learn_gp *g, const double *x, int32_t sym, double *mean,
                      double *var)
{
    double m = 0, v = 1;
    size_t n = g->n;
    for (size_t i = 0; i < n; i++) {
        g->tmp[i] = kern(g, x, sym, &g->X[i * g->d], g->sym[i]);
        m += g->tmp[i] * g->alpha[i];
    }
    *mean = m;
    if (var == NULL) /* the mean alone: no O(n^2) solve */
        return;
    if (n > 0) {
        fwd(g->L, n, g->tmp);
        for (size_t i = 0; i < n; i++)
            v -= g->tmp[i] * g->tmp[i];
    }
    *mean = m;
    *var = fmax(v, 1e-9) * g->sf2;
}
