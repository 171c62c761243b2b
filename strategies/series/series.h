/*
 * series.h: a daily price series loaded from CSV and checked for sanity.
 *
 * DESIGN. A series is a struct of arrays (date, open, high, low, close, volume), the layout the
 * strategies and indicators scan. Only date and close are required; a missing column is a NULL
 * array, never a fabricated one (the backtest fills at the close when open is absent, ATR
 * refuses to run without high and low). On top of csv.c's format checks, each row must have
 * prices > 0, low <= open, close <= high where those columns exist, and volume >= 0.
 * A series is immutable once loaded; any thread may read it.
 */
#ifndef RUNNER_SERIES_H
#define RUNNER_SERIES_H

#include <stddef.h>

#include "error.h"

struct series {
    char name[256];   /* file basename */
    size_t n;         /* bars, >= 1 */
    char (*date)[11]; /* YYYY-MM-DD, strictly increasing */
    double *open;     /* NULL when the file has no open column */
    double *high;     /* NULL when absent */
    double *low;      /* NULL when absent */
    double *close;    /* always present */
    double *volume;   /* NULL when absent */
    int synthetic;    /* a leading comment said "synthetic" */
    void *owner;      /* internal: the arrays' allocation */
};

/*
 * Load and check a series. Returns 0 and fills *s (free with series_free()), or -1 with e set
 * (EXIT_DATA, message `FILE:LINE: problem`) and *s empty.
 */
int series_load(struct series *s, const char *path, struct err *e);

/* Free a series from series_load(). Accepts NULL and an empty series. */
void series_free(struct series *s);

#endif
