/*
 * backtest.h: the engine that runs a strategy over a series (design.md 4.1, common rules).
 *
 * DESIGN. One pass over the bars. At bar t:
 *   1. the order decided at t-1's close (if any) fills at t's open (the close when the series
 *      has no open column): buys and shorts take min(wanted, floor(cash/(price+commission)))
 *      shares, and 0 shares means no trade; sells and covers close the whole position;
 *      commission is charged per share on every fill;
 *   2. equity = cash + position * close[t] is marked;
 *   3. if t < n-1 and t >= the strategy's warm-up, the strategy decides an order at t's close.
 * After the last bar an open position is closed at the last close without commission (a
 * valuation for the trade statistics, so final equity equals the last mark) and reported as a
 * trade with "end" set.
 *
 * A round trip's profit is (exit - entry) * shares for longs, (entry - exit) * shares for
 * shorts, minus the commissions of both fills; it is a win when > 0. Shorts need allowShort
 * (the engine drops short orders otherwise) and are limited to the cash like buys (no
 * leverage). Equity E_0 = capital, E_{t+1} = the mark at bar t, so metrics see n returns.
 *
 * The engine calls back on every fill and every bar so the command can stream output and pace
 * itself; callbacks may be NULL (tests and the benchmark). Deterministic, no global state: any
 * thread, one run per call.
 */
#ifndef RUNNER_BACKTEST_H
#define RUNNER_BACKTEST_H

#include <stddef.h>

#include "error.h"
#include "metrics.h"
#include "series.h"
#include "strategy.h"

struct bt_trade {
    size_t bar;        /* 0-based bar of the fill */
    enum order side;   /* ORDER_BUY, ORDER_SELL, ORDER_SHORT or ORDER_COVER */
    long shares;       /* > 0 */
    double price;      /* fill price */
    double commission; /* total for this fill */
    double cash;       /* after the fill */
    long position;     /* signed shares after the fill */
    double pnl;        /* round-trip profit, for closing fills (0 for openings) */
    int end;           /* 1 for the valuation close after the last bar */
};

struct bt_callbacks {
    void (*on_trade)(void *arg, const struct bt_trade *tr);
    void (*on_bar)(void *arg, size_t t, double equity, long position);
    void *arg;
};

struct bt_result {
    struct metrics m;
    double final_equity;
    size_t warmup; /* first decision bar */
};

/* Bars a run with these parameters needs: the warm-up plus a decision and its fill. */
size_t backtest_min_bars(const struct strategy *st, const double *p);

/*
 * Run `st` with resolved parameters p over s. Returns 0 with *out filled, or -1 with e set:
 * EXIT_DATA when the series is shorter than backtest_min_bars() (the message names the
 * strategy's warm-up parameter), or on allocation failure. No state survives the call.
 */
int backtest_run(const struct strategy *st, const double *p, const struct series *s,
                 const struct bt_callbacks *cb, struct bt_result *out, struct err *e);

#endif
