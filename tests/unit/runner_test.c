/*
 * runner_test.c: unit tests of the runner engine (strategies/runner_core), in process.
 *
 * Usage: runner_test SPX.csv
 *
 * Numbered groups, each asserting values worked out by hand in the comments:
 *   1. indicators on a 6-value series (SMA, EMA, RSI, Bollinger, ATR, ROC, z-score, MACD)
 *   2. metrics on a 4-value equity curve
 *   3. momentum on an 8-bar series: fills at the next open, cash limit, commission, shorts
 *   4. mean-reversion on an 8-bar series, long only and with shorts; fills at the close when
 *      the series has no open column
 *   5. neural-forecast: determinism, seed sensitivity, sizes in [5, 50], exits by horizon
 *   6. no look-ahead for every strategy on SPX: perturb all bars after t, for several t, and
 *      check that no trade at or before t, no equity mark up to t and no decision taken at t
 *      (the fill at t+1) changed, while later output did change (so the test cannot pass
 *      vacuously)
 * Exits 0 when every check passed, 1 otherwise, printing each failure with its line.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "indicator.h"
#include "metrics.h"
#include "series.h"
#include "strategy.h"

#include "check.h"

/* Absolute tolerance 1e-9 unless stated: every expected value is exact to ~1e-15. */
#define NEAR(a, b) near_at(a, b, 1e-9, __LINE__, #a)

static void near_at(double got, double want, double tol, int line, const char *what)
{
    checks++;
    if ((isnan(want) && isnan(got)) || fabs(got - want) <= tol)
        return;
    failures++;
    fprintf(stderr, "%s:%d: %s = %.17g, want %.17g\n", __FILE__, line, what, got, want);
}

/* ---- 1. indicators ------------------------------------------------------------------ */

static void test_indicators(void)
{
    static const double x[6] = {1, 3, 2, 6, 4, 8};
    /* Bars for ATR; true ranges from bar 1: 2, 2, 4, 1. */
    static const double h[5] = {10, 11, 12, 11, 9}, l[5] = {8, 9, 10.5, 7, 8.5},
                        c[5] = {9, 10, 11, 8, 9};
    double a[6], b[6], d[6];

    indicator_sma(x, 6, 3, a); /* (1+3+2)/3, (3+2+6)/3, (2+6+4)/3, (6+4+8)/3 */
    CHECK(isnan(a[0]) && isnan(a[1]));
    NEAR(a[2], 2);
    NEAR(a[3], 11.0 / 3);
    NEAR(a[4], 4);
    NEAR(a[5], 6);

    indicator_ema(x, 6, 3, a); /* alpha 0.5, seed SMA 2: 2+.5(6-2)=4, 4+.5(4-4)=4, 4+.5*4=6 */
    CHECK(isnan(a[0]) && isnan(a[1]));
    NEAR(a[2], 2);
    NEAR(a[3], 4);
    NEAR(a[4], 4);
    NEAR(a[5], 6);

    /* Changes +2 -1 +4 -2 +4. Seed: gain 2, loss 1/3 -> RS 6 -> 100-100/7. Then Wilder:
     * gain 4/3, loss 8/9 -> RS 1.5 -> 60; gain 20/9, loss 16/27 -> RS 3.75 -> 100-100/4.75. */
    indicator_rsi(x, 6, 3, a);
    CHECK(isnan(a[0]) && isnan(a[1]) && isnan(a[2]));
    NEAR(a[3], 100 - 100 / 7.0);
    NEAR(a[4], 60);
    NEAR(a[5], 100 - 100 / 4.75);

    /* Window (1,3,2): mean 2, population SD sqrt(2/3). */
    indicator_bbands(x, 6, 3, 2.0, a, b, d);
    CHECK(isnan(a[1]) && isnan(b[1]) && isnan(d[1]));
    NEAR(b[2], 2);
    NEAR(a[2], 2 - 2 * sqrt(2.0 / 3));
    NEAR(d[2], 2 + 2 * sqrt(2.0 / 3));

    indicator_atr(h, l, c, 5, 2, a); /* (2+2)/2 = 2, (2*1+4)/2 = 3, (3*1+1)/2 = 2 */
    CHECK(isnan(a[0]) && isnan(a[1]));
    NEAR(a[2], 2);
    NEAR(a[3], 3);
    NEAR(a[4], 2);

    indicator_roc(x, 6, 2, a); /* 2/1-1, 6/3-1, 4/2-1, 8/6-1 */
    CHECK(isnan(a[0]) && isnan(a[1]));
    NEAR(a[2], 1);
    NEAR(a[3], 1);
    NEAR(a[4], 1);
    NEAR(a[5], 1.0 / 3);

    /* Window (3,2,6): mean 11/3, population variance 78/27. */
    indicator_zscore(x, 6, 3, a);
    CHECK(isnan(a[1]));
    NEAR(a[2], 0);
    NEAR(a[3], (6 - 11.0 / 3) / sqrt(78.0 / 27));
    {
        static const double flat[4] = {5, 5, 5, 6};

        indicator_zscore(flat, 4, 3, b); /* SD 0: no value, never a division by zero */
        CHECK(isnan(b[2]));
        NEAR(b[3], (6 - 16.0 / 3) / sqrt((2 * (1.0 / 9) + 4.0 / 9) / 3));
    }

    /* MACD(2,3,2): EMA2 = 2, 2, 14/3, 38/9, 182/27 from index 1; EMA3 = 2, 4, 4, 6 from 2.
     * macd = 0, 2/3, 2/9, 20/27; signal (EMA2 of macd from index 2) = 1/3, 7/27, 47/81. */
    indicator_macd(x, 6, 2, 3, 2, a, b, d);
    CHECK(isnan(a[1]) && isnan(b[2]) && isnan(d[2]));
    NEAR(a[2], 0);
    NEAR(a[3], 2.0 / 3);
    NEAR(a[4], 2.0 / 9);
    NEAR(a[5], 20.0 / 27);
    NEAR(b[3], 1.0 / 3);
    NEAR(b[4], 7.0 / 27);
    NEAR(b[5], 47.0 / 81);
    NEAR(d[3], 1.0 / 3);
    NEAR(d[4], -1.0 / 27);
    NEAR(d[5], 13.0 / 81);

    indicator_sma(x, 6, 10, a); /* period longer than the series: all warm-up */
    CHECK(isnan(a[5]));
}

/* ---- 2. metrics ------------------------------------------------------------------- */

static void test_metrics(void)
{
    /* Returns +0.1, -0.1, +0.1: mean 1/30, sample SD sqrt(0.04/3), downside sqrt(0.01/3). */
    static const double eq[4] = {100, 110, 99, 108.9};
    static const double flat[3] = {100, 100, 100};
    double sd = sqrt(0.04 / 3), mean = 1.0 / 30, cagr = pow(1.089, 84) - 1;
    struct metrics m;

    metrics_from_equity(eq, 4, &m);
    NEAR(m.total_return, 0.089);
    near_at(m.cagr, cagr, 1e-9 * cagr, __LINE__, "cagr"); /* relative: cagr ~ 1288 */
    NEAR(m.volatility, sd * sqrt(252));
    NEAR(m.sharpe, mean / sd * sqrt(252));
    NEAR(m.sortino, mean / sqrt(0.01 / 3) * sqrt(252));
    NEAR(m.max_drawdown, 0.1); /* 1 - 99/110 */
    near_at(m.calmar, cagr / 0.1, 1e-9 * cagr * 10, __LINE__, "calmar");
    CHECK(m.trades == 0 && isnan(m.win_rate) && isnan(m.profit_factor));

    metrics_from_equity(flat, 3, &m); /* undefined ratios are NAN (JSON null), not 0 or inf */
    NEAR(m.total_return, 0);
    NEAR(m.volatility, 0);
    CHECK(isnan(m.sharpe) && isnan(m.sortino) && isnan(m.calmar));
    NEAR(m.max_drawdown, 0);

    m.trades = 4;
    m.wins = 1;
    m.gross_profit = 30;
    m.gross_loss = -10;
    metrics_finish_trades(&m);
    NEAR(m.win_rate, 0.25);
    NEAR(m.profit_factor, 3);
    m.gross_loss = 0;
    metrics_finish_trades(&m);
    CHECK(isnan(m.profit_factor));
}

/* ---- helpers for backtests ---------------------------------------------------------- */

#define MAX_TRADES 4096

struct record {
    size_t ntrades, nbars;
    struct bt_trade trades[MAX_TRADES];
    double *equity;
    long *position;
};

static void rec_trade(void *arg, const struct bt_trade *tr)
{
    struct record *r = arg;

    if (r->ntrades < MAX_TRADES)
        r->trades[r->ntrades++] = *tr;
}

static void rec_bar(void *arg, size_t t, double equity, long position)
{
    struct record *r = arg;

    r->equity[t] = equity;
    r->position[t] = position;
    r->nbars = t + 1;
}

static struct record *rec_new(size_t n)
{
    struct record *r = calloc(1, sizeof *r);

    r->equity = calloc(n, sizeof *r->equity);
    r->position = calloc(n, sizeof *r->position);
    return r;
}

static void rec_free(struct record *r)
{
    free(r->equity);
    free(r->position);
    free(r);
}

static int run(const char *name, const double *p, const struct series *s, struct record *r,
               struct bt_result *res)
{
    const struct strategy *st = strategy_find(name);
    struct bt_callbacks cb = {rec_trade, rec_bar, r};
    struct err e = {0};
    int rc;

    r->ntrades = r->nbars = 0;
    rc = backtest_run(st, p, s, &cb, res, &e);
    if (rc != 0)
        fprintf(stderr, "backtest %s: %s\n", name, e.msg);
    return rc;
}

static void params_for(const char *name, double *p)
{
    strategy_defaults(strategy_find(name), p);
}

static void check_trade(const struct bt_trade *t, size_t bar, enum order side, long shares,
                        double price, double cash, long pos, int line)
{
    checks++;
    if (t->bar == bar && t->side == side && t->shares == shares && fabs(t->price - price) < 1e-9 &&
        fabs(t->cash - cash) < 1e-9 && t->position == pos)
        return;
    failures++;
    fprintf(stderr,
            "%s:%d: trade bar %zu side %d shares %ld price %g cash %.10g pos %ld; want bar %zu "
            "side %d shares %ld price %g cash %.10g pos %ld\n",
            __FILE__, line, t->bar, t->side, t->shares, t->price, t->cash, t->position, bar, side,
            shares, price, cash, pos);
}

#define TRADE(t, ...) check_trade(t, __VA_ARGS__, __LINE__)

static struct series series_of(const double *open, const double *close, size_t n)
{
    static char dates[16][11];
    int day;
    struct series s;
    size_t i;

    memset(&s, 0, sizeof s);
    for (i = 0; i < n; i++) {
        day = (int)(i % 28) + 1;
        snprintf(dates[i], sizeof dates[i], "2020-01-%02d", day);
    }
    snprintf(s.name, sizeof s.name, "hand.csv");
    s.n = n;
    s.date = dates;
    s.open = (double *)open;
    s.close = (double *)close;
    return s;
}

/* ---- 3. momentum ------------------------------------------------------------------ */

static void test_momentum(void)
{
    /* lookback 2, threshold 0.05, size 10, capital 1000, commission 1 per share. */
    static const double open[8] = {100, 100, 101, 105, 111, 98, 99, 121};
    static const double close[8] = {100, 100, 110, 112, 100, 99, 120, 125};
    struct series s = series_of(open, close, 8);
    struct record *r = rec_new(8);
    struct bt_result res;
    double p[STRATEGY_MAX_PARAMS];

    params_for("momentum", p);
    p[PARAM_CAPITAL] = 1000;
    p[PARAM_COMMISSION] = 1;
    p[MOMENTUM_LOOKBACK] = 2;
    p[MOMENTUM_THRESHOLD] = 0.05;
    p[MOMENTUM_SIZE] = 10;
    CHECK(run("momentum", p, &s, r, &res) == 0);
    /* t2 roc 0.1 -> buy at t3's open 105: floor(1000/106) = 9 < 10 shares (cash limit),
     * cash 1000 - 945 - 9. t4 roc 100/110-1 < -0.05 -> sell 9 at t5's open 98: cash 46 + 882 -
     * 9 = 919, pnl (98-105)*9 - 18 = -81. t6 roc 0.2 -> buy at t7's open 121: floor(919/122) =
     * 7, cash 919 - 847 - 7 = 65. Closed at the last close 125 for the statistics: pnl 28 - 7. */
    CHECK(r->ntrades == 4);
    TRADE(&r->trades[0], 3, ORDER_BUY, 9, 105, 46, 9);
    TRADE(&r->trades[1], 5, ORDER_SELL, 9, 98, 919, 0);
    NEAR(r->trades[1].pnl, -81);
    NEAR(r->trades[1].commission, 9);
    TRADE(&r->trades[2], 7, ORDER_BUY, 7, 121, 65, 7);
    TRADE(&r->trades[3], 7, ORDER_SELL, 7, 125, 940, 0);
    CHECK(r->trades[3].end == 1 && r->trades[2].end == 0);
    NEAR(r->trades[3].pnl, 21);
    NEAR(r->equity[2], 1000);
    NEAR(r->equity[3], 46 + 9 * 112.0);
    NEAR(r->equity[4], 946);
    NEAR(r->equity[5], 919);
    NEAR(r->equity[7], 940);
    NEAR(res.final_equity, 940);
    CHECK(res.m.trades == 2 && res.m.wins == 1);
    NEAR(res.m.win_rate, 0.5);
    NEAR(res.m.profit_factor, 21.0 / 81);
    NEAR(res.m.exposure, 3.0 / 8); /* holding at the closes of t3, t4, t7 */
    NEAR(res.m.total_return, -0.06);

    /* With shorts: t5 roc 99/112-1 < -0.05 while flat -> short at t6's open 99: floor(919/100)
     * = 9, cash 919 + 891 - 9 = 1801; t6 roc 0.2 -> cover at t7's open 121: cash 1801 - 1089 -
     * 9 = 703, pnl (99-121)*9 - 18 = -216. */
    p[PARAM_ALLOW_SHORT] = 1;
    CHECK(run("momentum", p, &s, r, &res) == 0);
    CHECK(r->ntrades == 4);
    TRADE(&r->trades[2], 6, ORDER_SHORT, 9, 99, 1801, -9);
    TRADE(&r->trades[3], 7, ORDER_COVER, 9, 121, 703, 0);
    NEAR(r->trades[3].pnl, -216);
    NEAR(r->equity[6], 1801 - 9 * 120.0);
    NEAR(res.final_equity, 703);
    CHECK(res.m.trades == 2 && res.m.wins == 0);
    CHECK(isnan(res.m.profit_factor) == 0);
    NEAR(res.m.profit_factor, 0);

    /* Too few bars: 3 < lookback 2 + 2. */
    {
        struct err e = {0};

        s.n = 3;
        CHECK(backtest_run(strategy_find("momentum"), p, &s, NULL, &res, &e) == -1);
        CHECK(e.code == EXIT_DATA && strstr(e.msg, "needs at least 4") != NULL);
    }
    rec_free(r);
}

/* ---- 4. mean-reversion ------------------------------------------------------------ */

static void test_meanrev(void)
{
    /* period 3, entryZ 1, exitZ 0.5, size 5, capital 10000, no commission.
     * z: t2 (10,11,8) -1.336; t3 (11,8,9) -0.267; t4 (8,9,12) +1.373; t5 (9,12,10) -0.267;
     * t6 (12,10,10) -0.707. */
    static const double open[8] = {10, 10.5, 9, 8.5, 9.5, 11.5, 10.2, 10};
    static const double close[8] = {10, 11, 8, 9, 12, 10, 10, 10};
    struct series s = series_of(open, close, 8);
    struct record *r = rec_new(8);
    struct bt_result res;
    double p[STRATEGY_MAX_PARAMS];

    params_for("mean-reversion", p);
    p[PARAM_CAPITAL] = 10000;
    p[MEANREV_PERIOD] = 3;
    p[MEANREV_ENTRY_Z] = 1;
    p[MEANREV_EXIT_Z] = 0.5;
    p[MEANREV_SIZE] = 5;
    /* Long only: buy at t3's open 8.5 (z -1.336 < -1), sell at t4's open 9.5 (z -0.267 >
     * -0.5); t4's z of +1.37 would short, but shorts are off. */
    CHECK(run("mean-reversion", p, &s, r, &res) == 0);
    CHECK(r->ntrades == 2);
    TRADE(&r->trades[0], 3, ORDER_BUY, 5, 8.5, 10000 - 42.5, 5);
    TRADE(&r->trades[1], 4, ORDER_SELL, 5, 9.5, 10005, 0);
    NEAR(r->trades[1].pnl, 5);
    NEAR(res.final_equity, 10005);
    CHECK(isnan(res.m.profit_factor)); /* no losing trade */
    NEAR(res.m.win_rate, 1);

    /* With shorts: also short at t5's open 11.5 (z +1.373 > 1) and cover at t6's open 10.2
     * (z -0.267 < 0.5): pnl (11.5-10.2)*5 = 6.5. */
    p[PARAM_ALLOW_SHORT] = 1;
    CHECK(run("mean-reversion", p, &s, r, &res) == 0);
    CHECK(r->ntrades == 4);
    TRADE(&r->trades[2], 5, ORDER_SHORT, 5, 11.5, 10005 + 57.5, -5);
    TRADE(&r->trades[3], 6, ORDER_COVER, 5, 10.2, 10011.5, 0);
    NEAR(r->trades[3].pnl, 6.5);
    NEAR(r->equity[5], 10062.5 - 50); /* short 5 marked at the close 10 */
    NEAR(res.final_equity, 10011.5);
    NEAR(res.m.exposure, 2.0 / 8); /* long at t3's close, short at t5's */

    /* No open column: orders fill at the next close instead (buy at 9, sell at 12). */
    s.open = NULL;
    p[PARAM_ALLOW_SHORT] = 0;
    CHECK(run("mean-reversion", p, &s, r, &res) == 0);
    CHECK(r->ntrades == 2);
    TRADE(&r->trades[0], 3, ORDER_BUY, 5, 9, 10000 - 45, 5);
    TRADE(&r->trades[1], 4, ORDER_SELL, 5, 12, 10015, 0);
    rec_free(r);
}

static int same_trade(const struct bt_trade *a, const struct bt_trade *b)
{
    return a->bar == b->bar && a->side == b->side && a->shares == b->shares &&
           a->price == b->price && a->cash == b->cash && a->position == b->position &&
           a->pnl == b->pnl && a->end == b->end;
}

/* ---- 5. neural-forecast ----------------------------------------------------------- */

static void test_neural(const struct series *spx)
{
    struct record *a = rec_new(spx->n), *b = rec_new(spx->n);
    struct bt_result ra, rb;
    double p[STRATEGY_MAX_PARAMS];
    size_t i, bad_size = 0, bad_hold = 0, diff = 0;

    params_for("neural-forecast", p);
    CHECK(run("neural-forecast", p, spx, a, &ra) == 0);
    CHECK(run("neural-forecast", p, spx, b, &rb) == 0);
    CHECK(a->ntrades > 20); /* it does trade on SPX with its defaults */
    CHECK(a->ntrades == b->ntrades);
    for (i = 0; i < a->ntrades && i < b->ntrades; i++)
        diff += !same_trade(&a->trades[i], &b->trades[i]);
    CHECK(diff == 0);
    CHECK(memcmp(a->equity, b->equity, spx->n * sizeof(double)) == 0);
    CHECK(a->trades[0].bar >= 60 + 5 + 1); /* first decision at lookback + horizon */
    for (i = 0; i < a->ntrades; i++) {
        const struct bt_trade *t = &a->trades[i];

        if (t->side == ORDER_BUY && (t->shares < 5 || t->shares > 50))
            bad_size++;
        /* Exit after at most horizon bars: the sell fills <= horizon bars after the buy. */
        if (t->side == ORDER_SELL && i > 0 && t->bar - a->trades[i - 1].bar > 5)
            bad_hold++;
        CHECK(t->side != ORDER_SHORT);
    }
    CHECK(bad_size == 0);
    CHECK(bad_hold == 0);

    p[NEURAL_SEED] = 7; /* another seed gives other weights, hence other trades */
    CHECK(run("neural-forecast", p, spx, b, &rb) == 0);
    for (i = 0; i < spx->n; i++)
        diff += a->equity[i] != b->equity[i];
    CHECK(diff > 0);

    p[NEURAL_SEED] = 42;
    p[PARAM_ALLOW_SHORT] = 1;
    CHECK(run("neural-forecast", p, spx, b, &rb) == 0);
    for (i = 0, diff = 0; i < b->ntrades; i++)
        diff += b->trades[i].side == ORDER_SHORT;
    CHECK(diff > 0);
    rec_free(a);
    rec_free(b);
}

/* ---- 6. no look-ahead ------------------------------------------------------------- */

static uint64_t rng_state = 12345;

static double rng_uniform(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

struct copy {
    struct series s;
    double *buf;
};

/* A copy of spx whose bars after t are scaled by a random factor per bar (all four prices of
 * a bar by the same factor, so the bar stays valid). */
static void perturb(const struct series *spx, size_t t, struct copy *c)
{
    size_t n = spx->n, i;
    double f;

    c->s = *spx;
    c->buf = malloc(4 * n * sizeof(double));
    c->s.open = memcpy(c->buf, spx->open, n * sizeof(double));
    c->s.high = memcpy(c->buf + n, spx->high, n * sizeof(double));
    c->s.low = memcpy(c->buf + 2 * n, spx->low, n * sizeof(double));
    c->s.close = memcpy(c->buf + 3 * n, spx->close, n * sizeof(double));
    for (i = t + 1; i < n; i++) {
        f = 0.7 + 0.6 * rng_uniform();
        c->s.open[i] *= f;
        c->s.high[i] *= f;
        c->s.low[i] *= f;
        c->s.close[i] *= f;
    }
}

/* The strategy's signal at bars 0..t on both series, bit for bit (NAN equals NAN). */
static int same_signals(const struct strategy *st, const double *p, const struct series *a,
                        const struct series *b, size_t t, size_t *later_diff)
{
    void *sa = NULL, *sb = NULL;
    struct err e = {0};
    size_t i;
    int ok = 1;
    double x, y;

    if (st->ops->start(&sa, a, p, &e) != 0 || st->ops->start(&sb, b, p, &e) != 0)
        return 0;
    for (i = 0; i < a->n; i++) {
        x = st->ops->signal(sa, i);
        y = st->ops->signal(sb, i);
        if (i <= t)
            ok &= (isnan(x) && isnan(y)) || memcmp(&x, &y, sizeof x) == 0;
        else
            *later_diff += !(isnan(x) && isnan(y)) && x != y;
    }
    st->ops->free(sa);
    st->ops->free(sb);
    return ok;
}

static void test_lookahead_one(const struct series *spx, const char *name, const double *p)
{
    static const size_t cuts[] = {150, 400, 777, 1200, 2000, 2500, 3333, 4000, 4500, 5000, 5100};
    size_t later_signal_diff = 0;
    struct record *base = rec_new(spx->n), *r = rec_new(spx->n);
    struct bt_result res;
    size_t k, i, nb, nr, later_diff = 0, early_trades = 0;

    CHECK(run(name, p, spx, base, &res) == 0);
    for (k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        size_t t = cuts[k];
        struct copy c;
        int ok = 1, decided_base = 0, decided_r = 0;
        enum order side_base = ORDER_NONE, side_r = ORDER_NONE;

        perturb(spx, t, &c);
        CHECK(run(name, p, &c.s, r, &res) == 0);
        for (nb = 0; nb < base->ntrades && base->trades[nb].bar <= t; nb++)
            ;
        for (nr = 0; nr < r->ntrades && r->trades[nr].bar <= t; nr++)
            ;
        ok = nb == nr;
        for (i = 0; ok && i < nb; i++)
            ok = same_trade(&base->trades[i], &r->trades[i]);
        for (i = 0; ok && i <= t; i++)
            ok = base->equity[i] == r->equity[i] && base->position[i] == r->position[i];
        /* The decision taken at t's close shows as a fill at t+1: same side, if any. */
        if (nb < base->ntrades && base->trades[nb].bar == t + 1 && !base->trades[nb].end) {
            decided_base = 1;
            side_base = base->trades[nb].side;
        }
        if (nr < r->ntrades && r->trades[nr].bar == t + 1 && !r->trades[nr].end) {
            decided_r = 1;
            side_r = r->trades[nr].side;
        }
        if (!ok || decided_base != decided_r || side_base != side_r) {
            failures++;
            fprintf(stderr, "look-ahead: %s changed at or before bar %zu when later bars did\n",
                    name, t);
        }
        checks++;
        if (!same_signals(strategy_find(name), p, spx, &c.s, t, &later_signal_diff)) {
            failures++;
            fprintf(stderr, "look-ahead: %s's signal changed at or before bar %zu\n", name, t);
        }
        checks++;
        early_trades += nb;
        for (i = t + 1; i < spx->n; i++)
            later_diff += base->equity[i] != r->equity[i];
        free(c.buf);
    }
    /* Not vacuous: trades happened before the cuts and the perturbation changed later bars. */
    CHECK(early_trades > 0);
    CHECK(later_diff > 0);
    CHECK(later_signal_diff > 0);
    rec_free(base);
    rec_free(r);
}

static void test_lookahead(const struct series *spx)
{
    double p[STRATEGY_MAX_PARAMS];

    params_for("momentum", p);
    test_lookahead_one(spx, "momentum", p);
    p[PARAM_ALLOW_SHORT] = 1;
    test_lookahead_one(spx, "momentum", p);
    params_for("mean-reversion", p);
    test_lookahead_one(spx, "mean-reversion", p);
    p[PARAM_ALLOW_SHORT] = 1;
    test_lookahead_one(spx, "mean-reversion", p);
    params_for("neural-forecast", p);
    test_lookahead_one(spx, "neural-forecast", p);
    p[PARAM_ALLOW_SHORT] = 1;
    p[NEURAL_HORIZON] = 3;
    p[NEURAL_LOOKBACK] = 20;
    test_lookahead_one(spx, "neural-forecast", p);
}

int main(int argc, char **argv)
{
    struct series spx;
    struct err e = {0};

    if (argc != 2) {
        fprintf(stderr, "usage: runner_test SPX.csv\n");
        return 2;
    }
    if (series_load(&spx, argv[1], &e) != 0) {
        fprintf(stderr, "runner_test: %s\n", e.msg);
        return 1;
    }
    CHECK(spx.n > 5000 && spx.open != NULL && spx.high != NULL && spx.low != NULL);
    test_indicators();
    test_metrics();
    test_momentum();
    test_meanrev();
    test_neural(&spx);
    test_lookahead(&spx);
    series_free(&spx);
    printf("runner_test: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
