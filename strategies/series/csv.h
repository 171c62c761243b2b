/*
 * csv.h: the strict CSV reader behind every file the runner reads (price series and equity
 * curves).
 *
 * DESIGN. The whole file is read into memory and parsed in one pass; files are small (a
 * century of daily bars is ~2 MB). The format is deliberately narrow, because a runner that
 * guesses silently produces wrong backtests:
 *
 *   - optional leading comment lines starting with '#' (only before the header); a comment
 *     containing "synthetic" (any case) marks the series synthetic;
 *   - one header line of comma-separated names (matched case-insensitively, surrounding
 *     spaces ignored); the caller names the columns it wants and which are required; other
 *     columns are ignored; a wanted name appearing twice is an error;
 *   - data lines with exactly as many fields as the header, no quoting; the `date` column is
 *     YYYY-MM-DD, a real calendar date, strictly increasing; wanted numeric fields must parse
 *     completely with strtod and be finite;
 *   - LF or CRLF line ends; a final newline is optional; any other empty line is an error.
 *
 * Every error names the file (basename), the 1-based line and the problem, e.g.
 * `SPX.csv:17: close is not a number: "abc"`. Nothing is skipped silently.
 */
#ifndef RUNNER_CSV_H
#define RUNNER_CSV_H

#include <stddef.h>

#include "error.h"

#define CSV_MAX_COLS 8

struct csv_column {
    const char *name; /* lowercase; "date" is the date column, all others are numbers */
    int required;
};

struct csv_table {
    char name[256];            /* the file's basename, for messages and results */
    size_t n;                  /* data rows */
    char (*date)[11];          /* n NUL-terminated YYYY-MM-DD strings */
    double *col[CSV_MAX_COLS]; /* per wanted column: n values, or NULL when absent */
    unsigned *line;            /* 1-based line number of each row, for later messages */
    int synthetic;             /* a leading comment said "synthetic" */
};

/*
 * Read `path` wanting the `ncols` columns of `cols` (one of them must be "date"). On success
 * returns 0 and fills *t, which the caller frees with csv_free(). On failure returns -1 with
 * e set (code EXIT_DATA) and *t left empty (csv_free() is still safe).
 */
int csv_load(const char *path, const struct csv_column *cols, size_t ncols, struct csv_table *t,
             struct err *e);

/* Free the arrays of a table filled by csv_load(). Accepts a zeroed or NULL table. */
void csv_free(struct csv_table *t);

/* The basename of a path (pointer into it). Can't fail. */
const char *csv_basename(const char *path);

#endif
