/*
 * window.c: a walk-forward window as the dates a user strategy is given
 * (catalog.h: catalog_window).
 *
 * The built-in runner cuts its series itself (--train-until, --validate;
 * strategies/cmd_run.c). A user strategy gets the training window as two
 * dates instead, --from and --to, computed here from the same CSV and by
 * the same rule: with train_until the bars dated up to it, with validate
 * the first n * (1 - validate) bars (truncated, as the runner does).
 */
#include "catalog.h"

#include <stdio.h>
#include <string.h>

#include "series.h"

int catalog_window(const char *csv_path, const char *train_until, double validate, char from[11],
                   char to[11], struct sd_err *err)
{
    struct series s;
    struct err e = {0};
    size_t k = 0;

    if (series_load(&s, csv_path, &e) != 0)
        return sd_err_set(err, SD_EUSAGE, "%s", e.msg);
    if (train_until != NULL) {
        while (k < s.n && strcmp(s.date[k], train_until) <= 0)
            k++;
    } else {
        k = (size_t)((double)s.n * (1 - validate));
    }
    if (k == 0 || k >= s.n) {
        sd_err_set(err, SD_EUSAGE, "the window leaves no bar %s it: %.200s has bars from %s to %s",
                   k == 0 ? "before" : "after", s.name, s.date[0], s.date[s.n - 1]);
        series_free(&s);
        return -1;
    }
    snprintf(from, 11, "%s", s.date[0]);
    snprintf(to, 11, "%s", s.date[k - 1]);
    series_free(&s);
    return 0;
}
