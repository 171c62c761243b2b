/*
 * series.c: price series on top of the strict CSV reader (see series.h for the checks).
 * The csv_table owns the arrays; the series points into it, so loading copies nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "series.h"

enum { COL_DATE, COL_OPEN, COL_HIGH, COL_LOW, COL_CLOSE, COL_VOLUME, COL_COUNT };

static const struct csv_column series_columns[COL_COUNT] = {
    [COL_DATE] = {"date", 1}, [COL_OPEN] = {"open", 0},   [COL_HIGH] = {"high", 0},
    [COL_LOW] = {"low", 0},   [COL_CLOSE] = {"close", 1}, [COL_VOLUME] = {"volume", 0},
};

/* Check one row's prices. Returns NULL or writes the problem into buf and returns it. */
static const char *check_row(const struct csv_table *t, size_t i, char *buf, size_t len)
{
    static const int priced[] = {COL_OPEN, COL_HIGH, COL_LOW, COL_CLOSE};
    const double *lo = t->col[COL_LOW], *hi = t->col[COL_HIGH];
    size_t k;

    for (k = 0; k < sizeof priced / sizeof priced[0]; k++) {
        const double *c = t->col[priced[k]];

        if (c != NULL && !(c[i] > 0)) {
            snprintf(buf, len, "%s must be > 0, got %.10g", series_columns[priced[k]].name, c[i]);
            return buf;
        }
    }
    if (lo != NULL && hi != NULL && lo[i] > hi[i]) {
        snprintf(buf, len, "low %.10g is above high %.10g", lo[i], hi[i]);
        return buf;
    }
    for (k = 0; k < 2; k++) {
        int col = k == 0 ? COL_OPEN : COL_CLOSE;
        const double *c = t->col[col];
        const char *cn = series_columns[col].name;

        if (c == NULL)
            continue;
        if (lo != NULL && c[i] < lo[i]) {
            snprintf(buf, len, "%s %.10g is below low %.10g", cn, c[i], lo[i]);
            return buf;
        }
        if (hi != NULL && c[i] > hi[i]) {
            snprintf(buf, len, "%s %.10g is above high %.10g", cn, c[i], hi[i]);
            return buf;
        }
    }
    if (t->col[COL_VOLUME] != NULL && t->col[COL_VOLUME][i] < 0) {
        snprintf(buf, len, "volume must be >= 0, got %.10g", t->col[COL_VOLUME][i]);
        return buf;
    }
    return NULL;
}

int series_load(struct series *s, const char *path, struct err *e)
{
    struct csv_table *t;
    char why[256];
    size_t i;

    memset(s, 0, sizeof *s);
    if ((t = calloc(1, sizeof *t)) == NULL)
        return err_set(e, EXIT_DATA, "%s: out of memory", csv_basename(path));
    if (csv_load(path, series_columns, COL_COUNT, t, e) != 0) {
        free(t);
        return -1;
    }
    for (i = 0; i < t->n; i++) {
        if (check_row(t, i, why, sizeof why) != NULL) {
            err_set(e, EXIT_DATA, "%s:%u: %s", t->name, t->line[i], why);
            csv_free(t);
            free(t);
            return -1;
        }
    }
    snprintf(s->name, sizeof s->name, "%s", t->name);
    s->n = t->n;
    s->date = t->date;
    s->open = t->col[COL_OPEN];
    s->high = t->col[COL_HIGH];
    s->low = t->col[COL_LOW];
    s->close = t->col[COL_CLOSE];
    s->volume = t->col[COL_VOLUME];
    s->synthetic = t->synthetic;
    s->owner = t;
    return 0;
}

void series_free(struct series *s)
{
    if (s == NULL)
        return;
    if (s->owner != NULL) {
        csv_free(s->owner);
        free(s->owner);
    }
    memset(s, 0, sizeof *s);
}
