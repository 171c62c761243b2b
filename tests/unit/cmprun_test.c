/*
 * cmprun_test.c: two runs compared (issue 16), headless: cmprun_summary (tui/cmprun.c) sums a
 * run's deployment details up, and app_cmprun_fill lays two summaries side by side.
 *
 * Cases: counts by state (timed out counted failed, interrupted cancelled, not ended live),
 * mean and best return and Sharpe, the worst drawdown, a missing result left out of the means
 * (and null when no deployment has one), each parameter's distinct values, the mean equity
 * curve point by point; the overlay shows both runs' numbers, marks only the parameters that
 * differ, and draws both mean curves.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "check.h"
#include "cmprun.h"
#include "sparkline.h"

static json_t *dep(int64_t id, const char *status, double ret, double sharpe, double dd, int fast,
                   const char *eq)
{
    json_t *d = json_pack("{s:I, s:s, s:s, s:s, s:{s:i, s:i}, s:o}", "id", (json_int_t)id,
                          "strategy", "momentum", "symbol", "SPY", "status", status, "params",
                          "fast", fast, "slow", 30, "equity", json_loads(eq, 0, NULL));
    if (!isnan(ret))
        json_object_set_new(d, "result",
                            json_pack("{s:f, s:f, s:f}", "total_return", ret, "sharpe", sharpe,
                                      "max_drawdown", dd));
    else
        json_object_set_new(d, "result", json_null());
    return d;
}

static double num(const json_t *s, const char *k)
{
    return json_number_value(json_object_get(s, k));
}

static void test_summary(void)
{
    json_t *ds = json_array(), *s;
    json_array_append_new(ds, dep(1, "succeeded", 0.10, 1.5, 0.05, 5, "[100, 110, 120]"));
    json_array_append_new(ds, dep(2, "succeeded", -0.04, 0.5, 0.12, 10, "[100, 90]"));
    json_array_append_new(ds, dep(3, "timeout", NAN, 0, 0, 5, "[]"));
    json_array_append_new(ds, dep(4, "interrupted", NAN, 0, 0, 5, "[]"));
    json_array_append_new(ds, dep(5, "running", NAN, 0, 0, 5, "[]"));
    s = cmprun_summary(7, ds);
    CHECK(s != NULL);
    CHECK(json_integer_value(json_object_get(s, "run")) == 7);
    CHECK(json_integer_value(json_object_get(s, "count")) == 5);
    CHECK(json_integer_value(json_object_get(s, "succeeded")) == 2);
    CHECK(json_integer_value(json_object_get(s, "failed")) == 1);
    CHECK(json_integer_value(json_object_get(s, "cancelled")) == 1);
    CHECK(json_integer_value(json_object_get(s, "running")) == 1);
    CHECK(fabs(num(s, "returnMean") - 0.03) < 1e-9);
    CHECK(fabs(num(s, "returnBest") - 0.10) < 1e-9);
    CHECK(fabs(num(s, "sharpeMean") - 1.0) < 1e-9);
    CHECK(fabs(num(s, "sharpeBest") - 1.5) < 1e-9);
    CHECK(fabs(num(s, "drawdownWorst") - 0.12) < 1e-9);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(s, "values"), "fast")),
                 "10, 5") == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(s, "values"), "slow")), "30") ==
          0);
    CHECK(json_array_size(json_object_get(s, "equity")) == 3);
    CHECK(fabs(json_number_value(json_array_get(json_object_get(s, "equity"), 1)) - 100) < 1e-9);
    CHECK(fabs(json_number_value(json_array_get(json_object_get(s, "equity"), 2)) - 120) < 1e-9);
    json_decref(s);
    json_decref(ds);

    /* no results at all: the numbers are null, not zero */
    ds = json_array();
    json_array_append_new(ds, dep(9, "failed", NAN, 0, 0, 5, "[]"));
    s = cmprun_summary(8, ds);
    CHECK(json_is_null(json_object_get(s, "returnMean")));
    CHECK(json_is_null(json_object_get(s, "drawdownWorst")));
    CHECK(json_integer_value(json_object_get(s, "failed")) == 1);
    json_decref(s);
    json_decref(ds);
}

/* The line of tv whose label is label, or NULL. */
static const char *line(const struct textview *tv, const char *label)
{
    for (size_t i = 0; i < tv->n; i++)
        if (tv->lines[i].label && strcmp(tv->lines[i].label, label) == 0)
            return tv->lines[i].text;
    return NULL;
}

static void test_fill(void)
{
    json_t *a = json_array(), *b = json_array(), *s0, *s1;
    struct textview tv;
    const char *t;
    json_array_append_new(a, dep(1, "succeeded", 0.10, 1.5, 0.05, 5, "[100, 110, 120]"));
    json_array_append_new(b, dep(2, "succeeded", -0.04, 0.5, 0.12, 10, "[100, 90, 80]"));
    json_array_append_new(b, dep(3, "failed", NAN, 0, 0, 10, "[]"));
    s0 = cmprun_summary(1, a);
    s1 = cmprun_summary(2, b);
    textview_init(&tv, 14);
    app_cmprun_fill(&tv, s0, s1, 80, &glyphs_ascii);
    CHECK((t = line(&tv, "deployments")) != NULL && strstr(t, "1") && strstr(t, "2"));
    CHECK((t = line(&tv, "return mean")) != NULL && strstr(t, "+10.00%") && strstr(t, "-4.00%"));
    CHECK((t = line(&tv, "sharpe best")) != NULL && strstr(t, "1.50") && strstr(t, "0.50"));
    CHECK((t = line(&tv, "worst dd")) != NULL && strstr(t, "5.00%") && strstr(t, "12.00%"));
    CHECK((t = line(&tv, "states")) != NULL && strstr(t, "1 ok 0 failed") &&
          strstr(t, "1 ok 1 failed"));
    CHECK((t = line(&tv, "* fast")) != NULL && strstr(t, "5") && strstr(t, "10"));
    CHECK(line(&tv, "* slow") == NULL && line(&tv, "slow") == NULL); /* the same: not listed */
    CHECK((t = line(&tv, "mean eq #1")) != NULL && strcmp(t, "-") != 0);
    CHECK((t = line(&tv, "mean eq #2")) != NULL && strcmp(t, "-") != 0);
    textview_free(&tv);
    json_decref(s0);
    json_decref(s1);
    json_decref(a);
    json_decref(b);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"summary", test_summary},
        {"fill", test_fill},
    };
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
