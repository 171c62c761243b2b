/*
 * metrics.h: performance metrics with the conventions of R's PerformanceAnalytics
 * (design.md 4.3).
 *
 * DESIGN. From an equity curve E_0..E_n (E_0 = starting capital, one value per bar after it)
 * and daily returns r_t = E_t/E_{t-1} - 1, t = 1..n:
 *
 *   total_return  E_n/E_0 - 1
 *   cagr          (E_n/E_0)^(252/n) - 1
 *   volatility    sample SD(r) (n-1 denominator) * sqrt(252)
 *   sharpe        mean(r) / sample SD(r) * sqrt(252), risk-free 0
 *   sortino       mean(r) / sqrt(sum(min(r,0)^2)/n) * sqrt(252)
 *   max_drawdown  max_t 1 - E_t/max(E_0..E_t), a positive fraction
 *   calmar        cagr / max_drawdown
 *
 * Trade statistics (trades, win_rate = wins/trades, profit_factor = gross profit/|gross loss|,
 * exposure = share of bars holding a position) come from the backtest and are stored here so
 * one struct describes a run. A value that is undefined (a division by zero, e.g. the Sharpe
 * ratio of a flat curve or the profit factor without a losing trade) is NAN and is written as
 * JSON null. Pure functions, any thread.
 */
#ifndef RUNNER_METRICS_H
#define RUNNER_METRICS_H

#include <stddef.h>

struct metrics {
    double total_return, cagr, volatility, sharpe, sortino, max_drawdown, calmar;
    long trades, wins;
    double gross_profit, gross_loss; /* gross_loss <= 0 */
    double win_rate, profit_factor, exposure;
};

/*
 * Fill the return metrics of *m from equity[0..count-1] (count = n+1 >= 1; every value > 0)
 * and set the trade statistics to "no trades" (trades 0, win_rate, profit_factor and exposure
 * NAN). Can't fail.
 */
void metrics_from_equity(const double *equity, size_t count, struct metrics *m);

/*
 * Derive win_rate and profit_factor from m->trades, m->wins, m->gross_profit and
 * m->gross_loss. Can't fail.
 */
void metrics_finish_trades(struct metrics *m);

#endif
