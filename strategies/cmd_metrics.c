/*
 * cmd_metrics.c: `swarmdeck-runner metrics`, the metrics of design.md 4.3 for an equity
 * curve given as CSV (date,equity; other columns ignored). The first row is E_0, so n rows
 * give n-1 returns. Trade statistics cannot be derived from a curve alone and are null, which
 * keeps the document's keys the same as @@result's.
 */
#include <stdio.h>

#include "csv.h"
#include "metrics.h"
#include "protocol.h"
#include "runner.h"

enum { OPT_EQUITY, OPT_COUNT };

static const struct arg_opt metrics_opts[OPT_COUNT] = {
    [OPT_EQUITY] = {"--equity", "FILE.csv",
                    "equity curve: header with date,equity; first row "
                    "is the starting capital"},
};

static const struct csv_column equity_columns[] = {{"date", 1}, {"equity", 1}};

static int metrics_exec(const struct args *a, struct err *e)
{
    struct csv_table t;
    struct metrics m;
    const double *eq;
    size_t i;

    if (a->value[OPT_EQUITY] == NULL)
        return err_set(e, EXIT_USAGE, "metrics: --equity FILE.csv is required");
    if (csv_load(a->value[OPT_EQUITY], equity_columns, 2, &t, e) != 0)
        return -1;
    eq = t.col[1];
    for (i = 0; i < t.n; i++) {
        if (!(eq[i] > 0)) {
            err_set(e, EXIT_DATA, "%s:%u: equity must be > 0, got %.10g", t.name, t.line[i], eq[i]);
            csv_free(&t);
            return -1;
        }
    }
    if (t.n < 2) {
        err_set(e, EXIT_DATA, "%s: needs at least 2 rows (the starting capital and one more)",
                t.name);
        csv_free(&t);
        return -1;
    }
    metrics_from_equity(eq, t.n, &m);
    protocol_print(json_pack(
        "{s:s, s:b, s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:n, s:n, s:n, s:n}",
        "data", t.name, "synthetic", t.synthetic, "bars", (json_int_t)(t.n - 1), "first_date",
        t.date[0], "last_date", t.date[t.n - 1], "final_equity", protocol_number(eq[t.n - 1]),
        "total_return", protocol_number(m.total_return), "cagr", protocol_number(m.cagr),
        "volatility", protocol_number(m.volatility), "sharpe", protocol_number(m.sharpe), "sortino",
        protocol_number(m.sortino), "max_drawdown", protocol_number(m.max_drawdown), "calmar",
        protocol_number(m.calmar), "trades", "win_rate", "profit_factor", "exposure"));
    csv_free(&t);
    return 0;
}

const struct cmd_entry cmd_metrics_entry = {
    .name = "metrics",
    .usage = "--equity FILE.csv",
    .summary = "print the metrics of an equity curve as JSON (total_return, cagr, volatility, "
               "sharpe, sortino, max_drawdown, calmar)",
    .opts = metrics_opts,
    .nopts = OPT_COUNT,
    .exec = metrics_exec,
};
