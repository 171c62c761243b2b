/*
 * metrics.c: the metrics of metrics.h, in two passes over the returns (mean first, then
 * squared deviations) so the SD is accurate for long, low-volatility curves.
 */
#include <math.h>

#include "metrics.h"

void metrics_from_equity(const double *equity, size_t count, struct metrics *m)
{
    size_t n = count - 1, t;
    double sum = 0, ss = 0, down = 0, peak = equity[0], dd, r, mean, sd, growth;

    m->max_drawdown = 0;
    for (t = 1; t <= n; t++) {
        r = equity[t] / equity[t - 1] - 1.0;
        sum += r;
        if (r < 0)
            down += r * r;
        if (equity[t] > peak)
            peak = equity[t];
        dd = 1.0 - equity[t] / peak;
        if (dd > m->max_drawdown)
            m->max_drawdown = dd;
    }
    mean = n > 0 ? sum / n : NAN;
    for (t = 1; t <= n; t++) {
        r = equity[t] / equity[t - 1] - 1.0;
        ss += (r - mean) * (r - mean);
    }
    sd = n > 1 ? sqrt(ss / (n - 1)) : NAN;
    growth = equity[n] / equity[0];
    m->total_return = growth - 1.0;
    m->cagr = n > 0 ? pow(growth, 252.0 / n) - 1.0 : NAN;
    m->volatility = sd * sqrt(252.0);
    m->sharpe = sd > 0 ? mean / sd * sqrt(252.0) : NAN;
    m->sortino = down > 0 ? mean / sqrt(down / n) * sqrt(252.0) : NAN;
    m->calmar = m->max_drawdown > 0 ? m->cagr / m->max_drawdown : NAN;
    m->trades = m->wins = 0;
    m->gross_profit = m->gross_loss = 0;
    m->win_rate = m->profit_factor = m->exposure = NAN;
}

void metrics_finish_trades(struct metrics *m)
{
    m->win_rate = m->trades > 0 ? (double)m->wins / m->trades : NAN;
    m->profit_factor = m->gross_loss < 0 ? m->gross_profit / -m->gross_loss : NAN;
}
