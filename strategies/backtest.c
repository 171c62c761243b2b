/*
 * backtest.c: the fill/cash/equity loop of backtest.h. Strategies only decide; everything that
 * touches money is here, once.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"

struct book {
    double cash, commission, entry_price, entry_commission;
    long position;
    size_t entry_bar;
    struct metrics *m;
    const struct bt_callbacks *cb;
};

static void book_report(struct book *b, size_t t, enum order side, long shares, double price,
                        double comm, double pnl, int end)
{
    struct bt_trade tr = {
        .bar = t,
        .side = side,
        .shares = shares,
        .price = price,
        .commission = comm,
        .cash = b->cash,
        .position = b->position,
        .pnl = pnl,
        .end = end,
    };

    if (b->cb != NULL && b->cb->on_trade != NULL)
        b->cb->on_trade(b->cb->arg, &tr);
}

/* Close the whole position at price; commission_per_share 0 for the final valuation. */
static void book_close(struct book *b, size_t t, double price, double per_share, int end)
{
    long shares = labs(b->position);
    double comm = per_share * shares, pnl;
    enum order side = b->position > 0 ? ORDER_SELL : ORDER_COVER;

    if (b->position > 0)
        pnl = (price - b->entry_price) * shares;
    else
        pnl = (b->entry_price - price) * shares;
    pnl -= comm + b->entry_commission;
    b->cash += b->position * price - comm;
    b->position = 0;
    b->m->trades++;
    if (pnl > 0) {
        b->m->wins++;
        b->m->gross_profit += pnl;
    } else {
        b->m->gross_loss += pnl;
    }
    book_report(b, t, side, shares, price, comm, pnl, end);
}

static void book_fill(struct book *b, size_t t, enum order o, long want, double price)
{
    long shares;
    double comm;

    if (o == ORDER_SELL || o == ORDER_COVER) {
        if ((o == ORDER_SELL) == (b->position > 0) && b->position != 0)
            book_close(b, t, price, b->commission, 0);
        return;
    }
    if (b->position != 0 || want <= 0)
        return;
    shares = (long)floor(b->cash / (price + b->commission));
    if (shares > want)
        shares = want;
    if (shares <= 0)
        return;
    comm = b->commission * shares;
    b->position = o == ORDER_BUY ? shares : -shares;
    b->cash -= b->position * price + comm;
    b->entry_price = price;
    b->entry_commission = comm;
    b->entry_bar = t;
    book_report(b, t, o, shares, price, comm, 0, 0);
}

size_t backtest_min_bars(const struct strategy *st, const double *p)
{
    return st->ops->warmup(p) + 2;
}

int backtest_run(const struct strategy *st, const double *p, const struct series *s,
                 const struct bt_callbacks *cb, struct bt_result *out, struct err *e)
{
    size_t t, n = s->n, warmup = st->ops->warmup(p), need = warmup + 2, bars_held = 0;
    const double *fill_px = s->open != NULL ? s->open : s->close;
    int allow_short = p[PARAM_ALLOW_SHORT] != 0;
    enum order pending = ORDER_NONE;
    long want = 0;
    double *equity, mark;
    void *state = NULL;
    struct metrics ts;
    struct book b;

    if (n < need)
        return err_set(e, EXIT_DATA,
                       "%s: %zu bars is too few: strategy \"%s\" with %s %.17g needs at least "
                       "%zu (a warm-up of %zu bars, then one decision and its fill)",
                       s->name, n, st->name, st->warmup_param, p[PARAM_COMMON], need, warmup);
    if ((equity = malloc((n + 1) * sizeof *equity)) == NULL)
        return err_set(e, EXIT_DATA, "out of memory for %zu bars", n);
    if (st->ops->start(&state, s, p, e) != 0) {
        free(equity);
        return -1;
    }
    memset(out, 0, sizeof *out);
    memset(&b, 0, sizeof b);
    memset(&ts, 0, sizeof ts);
    b.cash = p[PARAM_CAPITAL];
    b.commission = p[PARAM_COMMISSION];
    b.m = &ts;
    b.cb = cb;
    equity[0] = b.cash;

    for (t = 0; t < n; t++) {
        if (pending != ORDER_NONE)
            book_fill(&b, t, pending, want, fill_px[t]);
        pending = ORDER_NONE;
        mark = b.cash + b.position * s->close[t];
        equity[t + 1] = mark;
        bars_held += b.position != 0;
        if (cb != NULL && cb->on_bar != NULL)
            cb->on_bar(cb->arg, t, mark, b.position);
        if (t + 1 < n && t >= warmup) {
            want = 0;
            pending = st->ops->decide(state, t, b.position,
                                      b.position != 0 ? t - b.entry_bar + 1 : 0, &want);
            if ((pending == ORDER_SHORT && !allow_short) ||
                ((pending == ORDER_BUY || pending == ORDER_SHORT) && b.position != 0))
                pending = ORDER_NONE;
        }
    }
    if (b.position != 0)
        book_close(&b, n - 1, s->close[n - 1], 0, 1);
    metrics_from_equity(equity, n + 1, &out->m);
    out->m.trades = ts.trades;
    out->m.wins = ts.wins;
    out->m.gross_profit = ts.gross_profit;
    out->m.gross_loss = ts.gross_loss;
    out->m.exposure = (double)bars_held / n;
    metrics_finish_trades(&out->m);
    out->final_equity = equity[n];
    out->warmup = warmup;
    st->ops->free(state);
    free(equity);
    return 0;
}
