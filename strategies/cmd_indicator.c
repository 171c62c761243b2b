/*
 * cmd_indicator.c: `swarmdeck-runner indicator NAME`, one indicator over a price series as
 * CSV (date,value or date,col1,col2,...), warm-up values as empty fields, never zero.
 *
 * A table lists each indicator's columns, default period and which options apply; an option
 * that does not apply is refused rather than ignored. Values are printed with %.17g so a
 * reader gets the exact double.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "indicator.h"
#include "protocol.h"
#include "runner.h"
#include "series.h"

enum { OPT_DATA, OPT_PERIOD, OPT_K, OPT_FAST, OPT_SLOW, OPT_SIGNAL, OPT_COUNT };

static const struct arg_opt indicator_opts[OPT_COUNT] = {
    [OPT_DATA] = {"--data", "FILE.csv", "price series (close; atr also needs high and low)"},
    [OPT_PERIOD] = {"--period", "N", "window (default per indicator: see below)"},
    [OPT_K] = {"--k", "K", "bbands: band width in population SDs (default 2)"},
    [OPT_FAST] = {"--fast", "N", "macd: fast EMA period (default 12)"},
    [OPT_SLOW] = {"--slow", "N", "macd: slow EMA period (default 26)"},
    [OPT_SIGNAL] = {"--signal", "N", "macd: signal EMA period (default 9)"},
};

struct ind_args {
    long period, fast, slow, signal;
    double k;
};

struct indicator_def {
    const char *name;
    const char *columns; /* header after "date," */
    int ncols;
    long period, min_period; /* default and smallest --period */
    unsigned opts;           /* bit per OPT_* accepted besides --data */
    int needs_hl;            /* needs high and low columns */
    void (*compute)(const struct series *s, const struct ind_args *ia, double **out);
};

#define BIT(o) (1u << (o))

static void ind_sma(const struct series *s, const struct ind_args *ia, double **out)
{
    indicator_sma(s->close, s->n, (int)ia->period, out[0]);
}

static void ind_ema(const struct series *s, const struct ind_args *ia, double **out)
{
    indicator_ema(s->close, s->n, (int)ia->period, out[0]);
}

static void ind_rsi(const struct series *s, const struct ind_args *ia, double **out)
{
    indicator_rsi(s->close, s->n, (int)ia->period, out[0]);
}

static void ind_bbands(const struct series *s, const struct ind_args *ia, double **out)
{
    indicator_bbands(s->close, s->n, (int)ia->period, ia->k, out[0], out[1], out[2]);
}

static void ind_atr(const struct series *s, const struct ind_args *ia, double **out)
{
    indicator_atr(s->high, s->low, s->close, s->n, (int)ia->period, out[0]);
}

static void ind_roc(const struct series *s, const struct ind_args *ia, double **out)
{
    indicator_roc(s->close, s->n, (int)ia->period, out[0]);
}

static void ind_zscore(const struct series *s, const struct ind_args *ia, double **out)
{
    indicator_zscore(s->close, s->n, (int)ia->period, out[0]);
}

static void ind_macd(const struct series *s, const struct ind_args *ia, double **out)
{
    indicator_macd(s->close, s->n, (int)ia->fast, (int)ia->slow, (int)ia->signal, out[0], out[1],
                   out[2]);
}

static const struct indicator_def indicator_table[] = {
    {"sma", "value", 1, 20, 1, BIT(OPT_PERIOD), 0, ind_sma},
    {"ema", "value", 1, 20, 1, BIT(OPT_PERIOD), 0, ind_ema},
    {"rsi", "value", 1, 14, 1, BIT(OPT_PERIOD), 0, ind_rsi},
    {"bbands", "lower,middle,upper", 3, 20, 2, BIT(OPT_PERIOD) | BIT(OPT_K), 0, ind_bbands},
    {"atr", "value", 1, 14, 1, BIT(OPT_PERIOD), 1, ind_atr},
    {"roc", "value", 1, 10, 1, BIT(OPT_PERIOD), 0, ind_roc},
    {"zscore", "value", 1, 20, 2, BIT(OPT_PERIOD), 0, ind_zscore},
    {"macd", "macd,signal,hist", 3, 0, 0, BIT(OPT_FAST) | BIT(OPT_SLOW) | BIT(OPT_SIGNAL), 0,
     ind_macd},
};

#define NINDICATORS (sizeof indicator_table / sizeof indicator_table[0])
#define MAX_PERIOD  10000

/* "sma, ema, ..." from the table. */
static const char *indicator_names(void)
{
    static char buf[256];
    size_t i, used = 0;

    for (i = 0; i < NINDICATORS && used < sizeof buf; i++)
        used += snprintf(buf + used, sizeof buf - used, "%s%s", i > 0 ? ", " : "",
                         indicator_table[i].name);
    return buf;
}

static int indicator_parse(const struct indicator_def *d, const struct args *a, struct ind_args *ia,
                           struct err *e)
{
    size_t o;

    ia->period = d->period;
    ia->k = 2.0;
    ia->fast = 12;
    ia->slow = 26;
    ia->signal = 9;
    for (o = OPT_PERIOD; o < OPT_COUNT; o++) {
        if (a->value[o] != NULL && !(d->opts & BIT(o)))
            return err_set(e, EXIT_USAGE, "option %s does not apply to indicator %s",
                           indicator_opts[o].name, d->name);
    }
    if (a->value[OPT_PERIOD] != NULL &&
        args_integer("--period", a->value[OPT_PERIOD], d->min_period, MAX_PERIOD, &ia->period, e) !=
            0)
        return -1;
    if (a->value[OPT_K] != NULL && args_number("--k", a->value[OPT_K], 0, 100, &ia->k, e) != 0)
        return -1;
    if (a->value[OPT_FAST] != NULL &&
        args_integer("--fast", a->value[OPT_FAST], 1, MAX_PERIOD, &ia->fast, e) != 0)
        return -1;
    if (a->value[OPT_SLOW] != NULL &&
        args_integer("--slow", a->value[OPT_SLOW], 1, MAX_PERIOD, &ia->slow, e) != 0)
        return -1;
    if (a->value[OPT_SIGNAL] != NULL &&
        args_integer("--signal", a->value[OPT_SIGNAL], 1, MAX_PERIOD, &ia->signal, e) != 0)
        return -1;
    if (ia->fast >= ia->slow && (d->opts & BIT(OPT_FAST)))
        return err_set(e, EXIT_USAGE, "--fast (%ld) must be smaller than --slow (%ld)", ia->fast,
                       ia->slow);
    return 0;
}

static void indicator_write(const struct indicator_def *d, const struct series *s, double **out)
{
    size_t t;
    int c;

    printf("date,%s\n", d->columns);
    for (t = 0; t < s->n; t++) {
        fputs(s->date[t], stdout);
        for (c = 0; c < d->ncols; c++) {
            if (isnan(out[c][t]))
                fputs(",", stdout);
            else
                printf(",%.17g", out[c][t]);
        }
        fputs("\n", stdout);
    }
}

static int indicator_exec(const struct args *a, struct err *e)
{
    const struct indicator_def *d = NULL;
    struct ind_args ia;
    struct series s;
    double *out[3] = {NULL, NULL, NULL};
    size_t i;
    int c, rc = -1;

    if (a->npos != 1)
        return err_set(e, EXIT_USAGE, "indicator: name the indicator (%s)", indicator_names());
    for (i = 0; i < NINDICATORS; i++) {
        if (strcmp(indicator_table[i].name, a->pos[0]) == 0)
            d = &indicator_table[i];
    }
    if (d == NULL)
        return err_set(e, EXIT_USAGE, "unknown indicator \"%s\" (known: %s)", a->pos[0],
                       indicator_names());
    if (a->value[OPT_DATA] == NULL)
        return err_set(e, EXIT_USAGE, "indicator: --data FILE.csv is required");
    if (indicator_parse(d, a, &ia, e) != 0)
        return -1;
    if (series_load(&s, a->value[OPT_DATA], e) != 0)
        return -1;
    if (d->needs_hl && (s.high == NULL || s.low == NULL)) {
        err_set(e, EXIT_DATA, "%s: indicator %s needs high and low columns", s.name, d->name);
        goto out;
    }
    for (c = 0; c < d->ncols; c++) {
        if ((out[c] = malloc(s.n * sizeof(double))) == NULL) {
            err_set(e, EXIT_DATA, "out of memory for %zu bars", s.n);
            goto out;
        }
    }
    d->compute(&s, &ia, out);
    indicator_write(d, &s, out);
    rc = 0;
out:
    for (c = 0; c < 3; c++)
        free(out[c]);
    series_free(&s);
    return rc;
}

const struct cmd_entry cmd_indicator_entry = {
    .name = "indicator",
    .usage = "NAME --data FILE.csv [--period N] [--k K] [--fast N --slow N --signal N]",
    .summary = "print an indicator as CSV (date,value[,...]); warm-up values are empty. "
               "NAME: sma, ema, rsi (14), bbands (lower,middle,upper), atr (14), roc (10), "
               "zscore, macd (macd,signal,hist; 12/26/9); default period 20 otherwise",
    .maxpos = 1,
    .opts = indicator_opts,
    .nopts = OPT_COUNT,
    .exec = indicator_exec,
};
