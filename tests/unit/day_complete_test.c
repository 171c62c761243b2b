/*
 * day_complete_test.c: the deploy dialog's symbol completion (tui/complete.c), headless.
 *
 * The candidates are a data list as catalog_data_list returns it (a case also loads the real
 * one from the bundled data directory). Cases: complete a unique prefix (any case), extend to
 * the common prefix, cycle through several on repeated Tab and start again after an edit, only
 * the last comma-separated symbol is touched, nothing to do on an empty or unknown token,
 * unknown symbols refused naming them, the hint marks synthetic series, duplicates merged.
 * And the console header's count of paused deployments (pane_header), also headless.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "check.h"
#include "complete.h"
#include "panes.h"
#include "traj.h"

static json_t *list(void)
{
    return json_pack("[{s:s, s:b}, {s:s, s:b}, {s:s, s:b}, {s:s, s:b}, {s:s, s:b}, {s:s, s:b}]",
                     "symbol", "SPY", "synthetic", 0, "symbol", "SPX", "synthetic", 0, "symbol",
                     "QQQ", "synthetic", 1, "symbol", "TSLA", "synthetic", 1, "symbol", "IWM",
                     "synthetic", 1, "symbol", "spy", "synthetic", 0 /* a duplicate */);
}

static struct complete c;

static void load(void)
{
    json_t *l = list();
    CHECK(complete_load(&c, l) == 5);
    json_decref(l);
}

static void test_complete(void)
{
    char b[160];

    load();
    snprintf(b, sizeof b, "ts");
    CHECK(complete_tab(&c, b, sizeof b) == 1 && strcmp(b, "TSLA") == 0);
    CHECK(complete_tab(&c, b, sizeof b) == 0 && strcmp(b, "TSLA") == 0); /* done: Tab moves on */
    snprintf(b, sizeof b, "s");                                          /* SPX, SPY: "SP" */
    CHECK(complete_tab(&c, b, sizeof b) == 1 && strcmp(b, "SP") == 0);
    /* Nothing longer in common: cycle SPX, SPY, SPX ... */
    CHECK(complete_tab(&c, b, sizeof b) == 1 && strcmp(b, "SPX") == 0);
    CHECK(complete_tab(&c, b, sizeof b) == 1 && strcmp(b, "SPY") == 0);
    CHECK(complete_tab(&c, b, sizeof b) == 1 && strcmp(b, "SPX") == 0);
    /* An edit starts again from what is typed. */
    snprintf(b, sizeof b, "SPY, q");
    CHECK(complete_tab(&c, b, sizeof b) == 1 && strcmp(b, "SPY, QQQ") == 0);
    snprintf(b, sizeof b, "QQQ,i");
    CHECK(complete_tab(&c, b, sizeof b) == 1 && strcmp(b, "QQQ,IWM") == 0);
    snprintf(b, sizeof b, "SPY,");
    CHECK(complete_tab(&c, b, sizeof b) == 0 && strcmp(b, "SPY,") == 0);
    snprintf(b, sizeof b, "XY");
    CHECK(complete_tab(&c, b, sizeof b) == 0 && strcmp(b, "XY") == 0);
    /* Too long to fit: unchanged. */
    snprintf(b, 4, "ts");
    CHECK(complete_tab(&c, b, 4) == 0 && strcmp(b, "ts") == 0);
    complete_free(&c);
}

static void test_check_and_hint(void)
{
    char m[96], h[96];

    load();
    CHECK(complete_check(&c, "SPY,qqq, TSLA", m, sizeof m) == 0);
    CHECK(complete_check(&c, "SPY,XYZ", m, sizeof m) == -1);
    CHECK(strcmp(m, "unknown symbol XYZ (see `swarmdeck data list`)") == 0);
    CHECK(complete_check(&c, "SPY,,QQQ", m, sizeof m) == -1 && strstr(m, "empty") != NULL);
    CHECK(complete_check(&c, "SPYX", m, sizeof m) == -1 && strstr(m, "SPYX") != NULL);
    complete_hint(&c, "SPY,", h, sizeof h);
    CHECK(strcmp(h, "Tab: IWM* QQQ* SPX SPY TSLA*") == 0);
    complete_hint(&c, "SPY, t", h, sizeof h);
    CHECK(strcmp(h, "Tab: TSLA*") == 0);
    complete_hint(&c, "SPY,TSLA", h, sizeof h); /* written out: nothing to offer */
    CHECK(h[0] == '\0');
    complete_hint(&c, "SP", h, sizeof h);
    CHECK(strcmp(h, "Tab: SPX SPY") == 0);
    complete_hint(&c, "zz", h, sizeof h);
    CHECK(h[0] == '\0');
    complete_hint(&c, "", h, 12);
    CHECK(strcmp(h, "Tab: ...") == 0 || strcmp(h, "Tab: IWM* ...") == 0);
    complete_free(&c);
    /* Nothing loaded: nothing can be checked or hinted. */
    CHECK(complete_check(&c, "ANY", m, sizeof m) == 0);
    complete_hint(&c, "A", h, sizeof h);
    CHECK(h[0] == '\0');
}

/* The real list: what `swarmdeck data list` shows of the bundled data (no store). */
static void test_bundled(void)
{
    struct sd_err err = {0};
    json_t *l = catalog_data_list(NULL, &err);
    char b[160], h[96];

    CHECK(l != NULL);
    CHECK(complete_load(&c, l) == json_array_size(l));
    snprintf(b, sizeof b, "tsl");
    CHECK(complete_tab(&c, b, sizeof b) == 1 && strcmp(b, "TSLA") == 0);
    complete_hint(&c, "TS", h, sizeof h);
    CHECK(strcmp(h, "Tab: TSLA*") == 0); /* the bundled TSLA is synthetic */
    json_decref(l);
    complete_free(&c);
}

/* The header says how many of the running are paused, and nothing when none is. */
static void test_header_paused(void)
{
    int counts[TS_COUNT] = {0};
    struct header_in in = {.version = "t", .counts = counts};
    struct header_out out;
    int found = 0;

    counts[TS_RUNNING] = 3;
    pane_header(&in, &out);
    for (int i = 0; i < out.n; i++)
        found |= strstr(out.text[i][0], "paused") != NULL;
    CHECK(!found);
    in.held = 2;
    pane_header(&in, &out);
    for (int i = 0; i < out.n; i++)
        found |= strstr(out.text[i][0], "3 running 0 queued 0 done 0 failed 2 paused") != NULL;
    CHECK(found);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"header_paused", test_header_paused},
        {"complete", test_complete},
        {"check_and_hint", test_check_and_hint},
        {"bundled", test_bundled},
    };
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
