/*
 * widgets_ops_test.c: widget tests for the operator's-day console fixes
 * (issue 16): the output view's line filters (protocol lines hidden, a
 * text filter) and the other widget behaviour those fixes added. Drawing
 * is tested headless (newterm on /dev/null, read back with mvinnstr).
 * `test-widgets-ops NAME` runs one test.
 */
#define _GNU_SOURCE
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "logview.h"
#include "prefs.h"
#include "table.h"
#include "textview.h"

#include "check.h"

static SCREEN *scr;
static attr_t roles[ROLE_COUNT];

static void headless(int lines, int cols_)
{
    char b[16];
    snprintf(b, sizeof b, "%d", lines);
    setenv("LINES", b, 1);
    snprintf(b, sizeof b, "%d", cols_);
    setenv("COLUMNS", b, 1);
    scr = newterm("xterm-256color", fopen("/dev/null", "w"), fopen("/dev/null", "r"));
    if (scr == NULL) {
        fprintf(stderr, "newterm failed\n");
        exit(1);
    }
    memset(roles, 0, sizeof roles);
}

static void row_text(int y, char *out, int n)
{
    mvinnstr(y, 0, out, n);
    for (int i = (int)strlen(out) - 1; i >= 0 && out[i] == ' '; i--)
        out[i] = '\0';
    if (getenv("WIDGETS_DEBUG"))
        fprintf(stderr, "row %d: [%s]\n", y, out);
}

static void done_curses(void)
{
    endwin();
    delscreen(scr);
}

/* A source of lines 1..last: every third is a protocol line
 * ("@@progress {...}"), every tenth a human line with "needle". */
struct arr {
    uint64_t first, last;
};
static uint64_t a_first(void *c)
{
    return ((struct arr *)c)->first;
}
static uint64_t a_last(void *c)
{
    return ((struct arr *)c)->last;
}
static size_t a_get(void *c, uint64_t from, struct lv_line *out, size_t max)
{
    struct arr *a = c;
    size_t n = 0;
    for (uint64_t s = from < a->first ? a->first : from; s <= a->last && n < max; s++, n++) {
        char b[64];
        if (s % 3 == 0)
            snprintf(b, sizeof b, "@@progress {\"i\":%llu}", (unsigned long long)s);
        else
            snprintf(b, sizeof b, "line %llu%s", (unsigned long long)s,
                     s % 10 == 0 ? " needle" : "");
        out[n].seq = s;
        out[n].stream = 1;
        out[n].time_ms = 0;
        out[n].text = strdup(b);
    }
    return n;
}
static void a_release(void *c, struct lv_line *l, size_t n)
{
    (void)c;
    for (size_t i = 0; i < n; i++)
        free(l[i].text);
}

/* Whether any of rows 0..h-1 contains s. */
static int screen_has(int h, const char *s)
{
    char line[128];
    for (int y = 0; y < h; y++) {
        row_text(y, line, sizeof line);
        if (strstr(line, s))
            return 1;
    }
    return 0;
}

/* Protocol lines hidden: the window (following, scrolled, at Home) holds
 * only human lines, full pages of them; shown again, they are back. */
static void t_logview_protocol(void)
{
    struct arr src = {1, 300};
    struct lv_source s = {&src, a_first, a_last, a_get, a_release};
    struct logview lv;
    struct draw_ctx dc = {roles, &glyphs_ascii, 1};
    char line[128];

    headless(12, 40);
    logview_init(&lv);
    logview_set_source(&lv, &s);
    lv.hide_proto = 1;
    CHECK(!logview_shows(&lv, "@@progress {}") && logview_shows(&lv, "line 1"));
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 40, &dc);
    CHECK(!screen_has(10, "@@"));
    row_text(9, line, sizeof line);
    CHECK(strcmp(line, "line 299") == 0);
    row_text(0, line, sizeof line);
    CHECK(strcmp(line, "line 286") == 0); /* the last ten human lines: 286..299 */
    /* scroll up by 5 visible lines: the top moves by 5 human lines */
    CHECK(logview_scroll(&lv, -5) == WF_DIRTY && !lv.follow);
    erase();
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 40, &dc);
    CHECK(!screen_has(10, "@@"));
    row_text(0, line, sizeof line);
    CHECK(strcmp(line, "line 278") == 0);
    row_text(9, line, sizeof line);
    CHECK(strncmp(line, "line 292 ", 9) == 0); /* then the " paused " marker */
    /* Home: the first human line; a page down moves by visible lines */
    logview_ops.key(&lv, WK_HOME);
    erase();
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 40, &dc);
    row_text(0, line, sizeof line);
    CHECK(strcmp(line, "line 1") == 0);
    row_text(9, line, sizeof line);
    CHECK(strncmp(line, "line 14 ", 8) == 0);
    logview_ops.key(&lv, WK_PGDN); /* nine visible lines */
    erase();
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 40, &dc);
    row_text(0, line, sizeof line);
    CHECK(strcmp(line, "line 14") == 0);
    /* scrolling down to the end follows again */
    CHECK(logview_scroll(&lv, 500) == WF_DIRTY && lv.follow);
    /* shown: the protocol lines are back, at their place */
    lv.hide_proto = 0;
    erase();
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 40, &dc);
    row_text(8, line, sizeof line);
    CHECK(strcmp(line, "line 299") == 0);
    row_text(9, line, sizeof line);
    CHECK(strcmp(line, "@@progress {\"i\":300}") == 0);
    /* a source of protocol lines only: said, not a blank pane */
    lv.hide_proto = 1;
    src.first = src.last = 3;
    erase();
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 40, &dc);
    row_text(0, line, sizeof line);
    CHECK(strstr(line, "protocol") != NULL);
    done_curses();
}

/* The text filter shows only matching lines; search skips hidden ones;
 * clearing the filter shows everything again. */
static void t_logview_filter(void)
{
    struct arr src = {1, 300};
    struct lv_source s = {&src, a_first, a_last, a_get, a_release};
    struct logview lv;
    struct draw_ctx dc = {roles, &glyphs_ascii, 1};
    char line[128];

    headless(12, 40);
    logview_init(&lv);
    logview_set_source(&lv, &s);
    logview_set_filter(&lv, "NEEDLE"); /* case-insensitive */
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 40, &dc);
    for (int y = 0; y < 10; y++) {
        row_text(y, line, sizeof line);
        CHECK(strstr(line, "needle") != NULL);
    }
    row_text(9, line, sizeof line);
    CHECK(strcmp(line, "line 290 needle") == 0); /* 300 is a protocol line */
    row_text(0, line, sizeof line);
    CHECK(strcmp(line, "line 160 needle") == 0);
    /* search within the filter: "line 1" matches line 1 but only visible ones count */
    CHECK(logview_search(&lv, "line 1", 1) == 0 && lv.match_seq == 10);
    /* nothing matches: said */
    logview_set_filter(&lv, "no such text");
    CHECK(lv.follow);
    erase();
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 40, &dc);
    row_text(0, line, sizeof line);
    CHECK(strstr(line, "no line matches") != NULL);
    CHECK(logview_search(&lv, "line", 1) == -1);
    logview_set_filter(&lv, "");
    erase();
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 40, &dc);
    row_text(9, line, sizeof line);
    CHECK(strcmp(line, "@@progress {\"i\":300}") == 0);
    done_curses();
}

/* The launch confirmation: more agents than the threshold, or a paid
 * provider (an E2B instance, by its kind), ask first naming the count and
 * the provider; a confirmed launch goes ahead once. */
static void t_launch_confirm(void)
{
    struct app *a = calloc(1, sizeof *a);
    snprintf(a->prov[0].name, sizeof a->prov[0].name, "local");
    snprintf(a->prov[0].kind, sizeof a->prov[0].kind, "local");
    snprintf(a->prov[1].name, sizeof a->prov[1].name, "eu-sandboxes");
    snprintf(a->prov[1].kind, sizeof a->prov[1].kind, "e2b");
    a->nprov = 2;
    CHECK(console_prefs.confirm_agents == 50 && console_prefs.confirm_paid == 1);
    CHECK(app_launch_confirm(a, 50, "momentum", "local") == 0 && a->overlay == OV_NONE);
    CHECK(app_launch_confirm(a, 51, "momentum", "local") == 1 && a->overlay == OV_CONFIRM);
    CHECK(a->confirm_kind == CF_LAUNCH &&
          strstr(a->dlg.msg, "Launch 51 agents of momentum on local?"));
    CHECK(strstr(a->dlg.msg, "paid") == NULL);
    a->overlay = OV_NONE;
    CHECK(app_launch_confirm(a, 1, "momentum", "eu-sandboxes") == 1);
    CHECK(strstr(a->dlg.msg, "Launch 1 agent of momentum on eu-sandboxes?") != NULL);
    CHECK(strstr(a->dlg.msg, "paid") != NULL);
    a->launch_ok = 1; /* confirmed: goes ahead once, then asks again */
    CHECK(app_launch_confirm(a, 1, "momentum", "eu-sandboxes") == 0 && a->launch_ok == 0);
    CHECK(app_launch_confirm(a, 1, "momentum", "eu-sandboxes") == 1);
    console_prefs.confirm_paid = 0;
    console_prefs.confirm_agents = 1000;
    CHECK(app_launch_confirm(a, 200, "momentum", "eu-sandboxes") == 0);
    console_prefs.confirm_paid = 1;
    console_prefs.confirm_agents = 50;
    CHECK(prefs_paid_provider("e2b") && !prefs_paid_provider("local") &&
          !prefs_paid_provider(NULL));
    free(a);
}

static const struct check_case tests[] = {
    {"launch_confirm", t_launch_confirm},
    {"logview_protocol", t_logview_protocol},
    {"logview_filter", t_logview_filter},
};

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "C.UTF-8");
    return check_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
