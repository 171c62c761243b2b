/*
 * cmd_run.c: `swarmdeck-runner run`, backtest one strategy over one CSV file and stream it.
 *
 * Validation order: strategy name and --params (exit 2), --pace (exit 2), then the data file
 * and its length (exit 3); nothing but the error is printed until all of it passed. Then the
 * backtest streams: a human line and an @@trade line per fill, @@progress about every 1% of
 * the bars (every bar with --pace) and on the last bar, a human equity line every 10%, and
 * finally one @@result. Bars in the output are 1-based (bar k of n is the k-th data row).
 * --pace sleeps until bar k's slot (start + k/pace seconds, absolute, so it never drifts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backtest.h"
#include "protocol.h"
#include "runner.h"

enum {
    OPT_STRATEGY,
    OPT_DATA,
    OPT_PARAMS,
    OPT_PACE,
    OPT_TRAIN_UNTIL,
    OPT_VALIDATE,
    OPT_FOLDS,
    OPT_COUNT
};

static const struct arg_opt run_opts[OPT_COUNT] = {
    [OPT_STRATEGY] = {"--strategy", "NAME", "momentum, mean-reversion or neural-forecast"},
    [OPT_DATA] = {"--data", "FILE.csv",
                  "price series: header with date,close (open,high,low,"
                  "volume optional)"},
    [OPT_PARAMS] = {"--params", "JSON", "parameter object, e.g. '{\"lookback\":30}' (see list)"},
    [OPT_PACE] = {"--pace", "BARS_PER_SEC",
                  "replay at this many bars per second (default: as "
                  "fast as possible)"},
    [OPT_TRAIN_UNTIL] = {"--train-until", "DATE",
                         "score in sample up to DATE (inclusive), out of sample after it"},
    [OPT_VALIDATE] = {"--validate", "FRACTION",
                      "hold out the last FRACTION of the bars (0 < F < 1) as out of sample"},
    [OPT_FOLDS] = {"--folds", "K",
                   "walk forward: cut the held-out bars into K consecutive blocks (2..50), each "
                   "scored after all the bars before it"},
};

static const char *side_names[] = {
    [ORDER_NONE] = "none",   [ORDER_BUY] = "buy",     [ORDER_SELL] = "sell",
    [ORDER_SHORT] = "short", [ORDER_COVER] = "cover",
};

struct run_ctx {
    const struct series *s;
    double pace;
    struct timespec start;
    size_t progress_every, human_every;
    /* A held-out window: bars 0..split are in sample, split+1..n-1 out of
     * sample (split = n - 1: no window). equity[t + 1] is bar t's mark;
     * closing fills are counted by the window of their bar. */
    size_t split;
    double *equity;
    struct metrics win[2];
    size_t nfold;          /* --folds: 0, or the held-out bars cut into nfold blocks */
    struct metrics *folds; /* their round trips */
};

/* The fold of held-out bar t (> split). */
static size_t fold_of(const struct run_ctx *rc, size_t t)
{
    size_t noos = rc->s->n - rc->split - 1;
    return (t - rc->split - 1) * rc->nfold / noos;
}

static void run_wait(const struct run_ctx *rc, size_t t)
{
    double at = (double)t / rc->pace;
    struct timespec ts = rc->start;
    long sec = (long)at;

    ts.tv_sec += sec;
    ts.tv_nsec += (long)((at - sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
        ; /* EINTR: sleep on until the slot */
}

static void run_on_bar(void *arg, size_t t, double equity, long position)
{
    const struct run_ctx *rc = arg;
    size_t n = rc->s->n;

    if (rc->pace > 0 && t > 0) {
        protocol_flush(); /* what this bar follows is complete: let it out before sleeping */
        run_wait(rc, t);
    }
    if (rc->equity != NULL)
        rc->equity[t + 1] = equity;
    if ((t + 1) % rc->human_every == 0 && t + 1 < n)
        printf("%s equity %.2f position %ld (bar %zu/%zu)\n", rc->s->date[t], equity, position,
               t + 1, n);
    if ((t + 1) % rc->progress_every == 0 || t + 1 == n)
        protocol_emit("progress", json_pack("{s:I, s:I, s:o}", "bar", (json_int_t)(t + 1), "of",
                                            (json_int_t)n, "equity", protocol_number(equity)));
    protocol_tick(); /* a long run without lines still lets a human line out in time */
}

static void run_on_trade(void *arg, const struct bt_trade *tr)
{
    struct run_ctx *rc = arg;
    const char *date = rc->s->date[tr->bar];
    json_t *o;

    if (rc->equity != NULL && (tr->side == ORDER_SELL || tr->side == ORDER_COVER)) {
        struct metrics *ws[2] = {&rc->win[tr->bar > rc->split], NULL};
        if (rc->nfold > 0 && tr->bar > rc->split)
            ws[1] = &rc->folds[fold_of(rc, tr->bar)];
        for (int k = 0; k < 2 && ws[k] != NULL; k++) {
            struct metrics *w = ws[k];
            w->trades++;
            w->wins += tr->pnl > 0;
            if (tr->pnl > 0)
                w->gross_profit += tr->pnl;
            else
                w->gross_loss += tr->pnl;
        }
    }
    printf("%s %s %ld @ %.4f%s, cash %.2f, position %ld", date, side_names[tr->side], tr->shares,
           tr->price, tr->end ? " (closed at the last bar for the statistics)" : "", tr->cash,
           tr->position);
    if (tr->side == ORDER_SELL || tr->side == ORDER_COVER)
        printf(", profit %.2f", tr->pnl);
    printf("\n");
    o = json_pack("{s:s, s:s, s:I, s:o, s:I, s:o, s:o, s:I}", "side", side_names[tr->side], "date",
                  date, "bar", (json_int_t)(tr->bar + 1), "price", protocol_number(tr->price),
                  "shares", (json_int_t)tr->shares, "commission", protocol_number(tr->commission),
                  "cash", protocol_number(tr->cash), "position", (json_int_t)tr->position);
    json_object_set_new(o, "pnl",
                        tr->side == ORDER_SELL || tr->side == ORDER_COVER ? protocol_number(tr->pnl)
                                                                          : json_null());
    json_object_set_new(o, "end", json_boolean(tr->end));
    protocol_emit("trade", o);
}

/* The metrics of one window (design.md 4.3 over its own equity). */
static json_t *window_json(const struct series *s, size_t first, size_t last, const double *eq,
                           struct metrics *m)
{
    struct metrics t = *m;
    metrics_from_equity(eq, last - first + 2, m);
    m->trades = t.trades;
    m->wins = t.wins;
    m->gross_profit = t.gross_profit;
    m->gross_loss = t.gross_loss;
    metrics_finish_trades(m);
    return json_pack(
        "{s:o, s:o, s:o, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o}", "final_equity",
        protocol_number(eq[last - first + 1]), "cagr", protocol_number(m->cagr), "calmar",
        protocol_number(m->calmar), "first_date", s->date[first], "last_date", s->date[last],
        "bars", (json_int_t)(last - first + 1), "total_return", protocol_number(m->total_return),
        "sharpe", protocol_number(m->sharpe), "sortino", protocol_number(m->sortino),
        "max_drawdown", protocol_number(m->max_drawdown), "volatility",
        protocol_number(m->volatility), "trades", (json_int_t)m->trades, "win_rate",
        protocol_number(m->win_rate), "profit_factor", protocol_number(m->profit_factor));
}

static json_t *run_result(const struct strategy *st, const double *p, const struct series *s,
                          const struct bt_result *r)
{
    const struct metrics *m = &r->m;

    return json_pack(
        "{s:s, s:o, s:s, s:b, s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
        "s:o, s:I, s:o, s:o, s:o}",
        "strategy", st->name, "params", strategy_params_json(st, p), "data", s->name, "synthetic",
        s->synthetic, "bars", (json_int_t)s->n, "first_date", s->date[0], "last_date",
        s->date[s->n - 1], "final_equity", protocol_number(r->final_equity), "total_return",
        protocol_number(m->total_return), "cagr", protocol_number(m->cagr), "volatility",
        protocol_number(m->volatility), "sharpe", protocol_number(m->sharpe), "sortino",
        protocol_number(m->sortino), "max_drawdown", protocol_number(m->max_drawdown), "calmar",
        protocol_number(m->calmar), "trades", (json_int_t)m->trades, "win_rate",
        protocol_number(m->win_rate), "profit_factor", protocol_number(m->profit_factor),
        "exposure", protocol_number(m->exposure));
}

static int run_exec(const struct args *a, struct err *e)
{
    const struct strategy *st;
    struct series s;
    struct bt_result r;
    struct run_ctx rc = {0};
    struct bt_callbacks cb = {run_on_trade, run_on_bar, &rc};
    double p[STRATEGY_MAX_PARAMS], validate = 0;
    long folds = 0;
    char names[256];
    size_t need;
    json_t *res;

    strategy_names(names, sizeof names);
    if (a->value[OPT_STRATEGY] == NULL)
        return err_set(e, EXIT_USAGE, "run: --strategy is required (known: %s)", names);
    if ((st = strategy_find(a->value[OPT_STRATEGY])) == NULL)
        return err_set(e, EXIT_USAGE, "unknown strategy \"%s\" (known: %s)", a->value[OPT_STRATEGY],
                       names);
    if (a->value[OPT_DATA] == NULL)
        return err_set(e, EXIT_USAGE, "run: --data FILE.csv is required");
    if (strategy_resolve(st, a->value[OPT_PARAMS], p, e) != 0)
        return -1;
    if (a->value[OPT_PACE] != NULL &&
        args_number("--pace", a->value[OPT_PACE], 0.001, 1e6, &rc.pace, e) != 0)
        return -1;
    if (a->value[OPT_TRAIN_UNTIL] != NULL && a->value[OPT_VALIDATE] != NULL)
        return err_set(e, EXIT_USAGE, "run: give --train-until or --validate, not both");
    if (a->value[OPT_VALIDATE] != NULL &&
        args_number("--validate", a->value[OPT_VALIDATE], 1e-9, 1 - 1e-9, &validate, e) != 0)
        return -1;
    if (a->value[OPT_FOLDS] != NULL &&
        args_integer("--folds", a->value[OPT_FOLDS], 2, 50, &folds, e) != 0)
        return -1;
    if (folds > 0 && a->value[OPT_TRAIN_UNTIL] == NULL && a->value[OPT_VALIDATE] == NULL)
        return err_set(e, EXIT_USAGE, "run: --folds needs --train-until or --validate");
    if (series_load(&s, a->value[OPT_DATA], e) != 0)
        return -1;
    need = backtest_min_bars(st, p);
    rc.split = s.n - 1;
    if (a->value[OPT_TRAIN_UNTIL] != NULL || validate > 0) {
        const char *until = a->value[OPT_TRAIN_UNTIL];
        size_t k = 0;
        if (until != NULL) { /* dates are ISO, so they compare as text */
            while (k < s.n && strcmp(s.date[k], until) <= 0)
                k++;
        } else {
            k = (size_t)((double)s.n * (1 - validate));
        }
        if (k < need || k >= s.n) {
            err_set(e, EXIT_DATA,
                    "%s: the training window %s leaves %zu of %zu bars in sample and %zu out of "
                    "sample; both need bars (in sample at least %zu: the warm-up, a decision and "
                    "its fill)",
                    s.name, until ? until : a->value[OPT_VALIDATE], k, s.n, s.n - k, need);
            series_free(&s);
            return -1;
        }
        rc.split = k - 1;
        rc.nfold = (size_t)folds;
        if (rc.nfold > s.n - k) {
            err_set(e, EXIT_DATA, "%s: %zu held-out bars cannot make %zu folds", s.name, s.n - k,
                    rc.nfold);
            series_free(&s);
            return -1;
        }
        if ((rc.equity = calloc(s.n + 1, sizeof *rc.equity)) == NULL ||
            (rc.nfold && (rc.folds = calloc(rc.nfold, sizeof *rc.folds)) == NULL)) {
            free(rc.equity);
            series_free(&s);
            return err_set(e, EXIT_DATA, "out of memory for %zu bars", s.n);
        }
    }
    if (s.n < need) {
        /* backtest_run() words the error; nothing is printed before it. */
        backtest_run(st, p, &s, NULL, &r, e);
        series_free(&s);
        return -1;
    }

    rc.s = &s;
    rc.progress_every = rc.pace > 0 || s.n < 100 ? 1 : s.n / 100;
    rc.human_every = s.n < 10 ? 1 : s.n / 10;
    clock_gettime(CLOCK_MONOTONIC, &rc.start);
    printf("running %s on %s: %zu bars from %s to %s\n", st->name, s.name, s.n, s.date[0],
           s.date[s.n - 1]);
    if (s.synthetic)
        printf("note: synthetic series, not market history\n");
    if (backtest_run(st, p, &s, &cb, &r, e) != 0) {
        free(rc.equity);
        free(rc.folds);
        series_free(&s);
        return -1;
    }
    printf("done: final equity %.2f, total return %.2f%%, %ld trades\n", r.final_equity,
           r.m.total_return * 100, r.m.trades);
    res = run_result(st, p, &s, &r);
    if (rc.equity != NULL) {
        /* The held-out window: the top-level metrics become the in-sample
         * ones (the reward, and so auto-optimise, sees only those); the
         * full period and the out-of-sample window are reported beside. */
        json_t *full = json_deep_copy(res), *ins, *oos;
        rc.equity[0] = p[PARAM_CAPITAL];
        ins = window_json(&s, 0, rc.split, rc.equity, &rc.win[0]);
        oos = window_json(&s, rc.split + 1, s.n - 1, rc.equity + rc.split + 1, &rc.win[1]);
        json_object_update(res, ins);
        json_object_del(res, "exposure"); /* the full period's: in fullPeriod */
        json_object_set_new(res, "inSample", ins);
        if (rc.nfold > 0) { /* each block after every bar before it */
            json_t *fa = json_array();
            size_t first = rc.split + 1, noos = s.n - first;
            for (size_t f = 0; f < rc.nfold; f++) {
                size_t lo = first + f * noos / rc.nfold, hi = first + (f + 1) * noos / rc.nfold - 1;
                json_array_append_new(fa, window_json(&s, lo, hi, rc.equity + lo, &rc.folds[f]));
            }
            json_object_set_new(oos, "folds", fa);
        }
        json_object_set_new(res, "outOfSample", oos);
        json_object_del(full, "params");
        json_object_set_new(res, "fullPeriod", full);
        json_object_set_new(res, "window",
                            json_pack("{s:s, s:s, s:s}", "split", s.date[rc.split], "mode",
                                      a->value[OPT_TRAIN_UNTIL] ? "train-until" : "validate",
                                      "value",
                                      a->value[OPT_TRAIN_UNTIL] ? a->value[OPT_TRAIN_UNTIL]
                                                                : a->value[OPT_VALIDATE]));
        printf("in sample to %s: sharpe %.3f, %ld trades; out of sample from %s: sharpe %.3f, "
               "%ld trades\n",
               s.date[rc.split], rc.win[0].sharpe, rc.win[0].trades, s.date[rc.split + 1],
               rc.win[1].sharpe, rc.win[1].trades);
    }
    protocol_emit("result", res);
    free(rc.equity);
    free(rc.folds);
    series_free(&s);
    return 0;
}

const struct cmd_entry cmd_run_entry = {
    .name = "run",
    .usage = "--strategy NAME --data FILE.csv [--params JSON] [--pace BARS_PER_SEC] "
             "[--train-until DATE | --validate FRACTION] [--folds K]",
    .summary = "backtest a strategy, streaming trades, @@progress and one @@result",
    .opts = run_opts,
    .nopts = OPT_COUNT,
    .exec = run_exec,
};
