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

static int tv_has(const struct textview *tv, const char *s)
{
    for (size_t i = 0; i < tv->n; i++)
        if (strstr(tv->lines[i].text, s) || (tv->lines[i].label && strstr(tv->lines[i].label, s)))
            return 1;
    return 0;
}

/* The suggestion panel: every row fits, words are never split, the
 * recommendation is a whole parameter set with its interval and the runs it
 * rests on, and what Ctrl-A will change is listed (old -> new). */
static void t_suggestion_panel(void)
{
    const char *js =
        "{\"expectedReward\":0.5646,\"confidence\":0.17,\"evidence\":{\"runs\":3},"
        "\"rewardInterval\":[0.4615,0.6677],"
        "\"reasoning\":[\"reward model (4 runs, length scale 0.25, noise sd 0.047): expected "
        "reward 0.565, 90% interval 0.462 to 0.668 and a verylongwordthatcannotfitanywhereatall\"],"
        "\"recommendedOperations\":[{\"op\":\"set_param\",\"name\":\"lookback\",\"value\":20},"
        "{\"op\":\"set_param\",\"name\":\"threshold\",\"value\":0.02}],"
        "\"recommendation\":{\"params\":{\"lookback\":20,\"threshold\":0.02,\"positionSize\":10},"
        "\"run\":1,\"predictedReward\":0.5646,\"interval\":[0.4615,0.6677],"
        "\"restsOn\":[1,6,9],\"basis\":\"out-of-sample\",\"significant\":false,"
        "\"sharpe\":{\"deflated\":0.25,\"trials\":4}}}";
    json_t *s = json_loads(js, 0, NULL),
           *cur = json_pack("{s:i, s:f}", "lookback", 10, "threshold", 0.02);
    struct textview tv;
    const int w = 30;

    CHECK(s != NULL);
    textview_init(&tv, 0);
    pane_suggestion_fill(&tv, s, NULL, cur, w);
    for (size_t i = 0; i < tv.n; i++) {
        size_t l = strlen(tv.lines[i].text);
        CHECK(l <= (size_t)w);
        if (getenv("WIDGETS_DEBUG"))
            fprintf(stderr, "[%s]\n", tv.lines[i].text);
    }
    /* wrapped on words: "interval" and "0.462" are whole on some row */
    CHECK(tv_has(&tv, "interval") && tv_has(&tv, "0.462"));
    CHECK(tv_has(&tv, "expected reward 0.565"));
    CHECK(tv_has(&tv, "best parameter set"));
    CHECK(tv_has(&tv, "lookback=20") && tv_has(&tv, "positionSize=10"));
    CHECK(tv_has(&tv, "reward 0.565 (90% 0.462 to"));
    CHECK(tv_has(&tv, "rests on #1 #6 #9"));
    CHECK(tv_has(&tv, "not significant: deflated") && tv_has(&tv, "Sharpe 25%"));
    CHECK(tv_has(&tv, "Ctrl-A will set:"));
    CHECK(tv_has(&tv, "lookback 10 -> 20"));
    CHECK(!tv_has(&tv, "threshold 0.02 -> 0.02")); /* no change: not listed */
    CHECK(!tv_has(&tv, "accuracy"));
    /* nothing recommended: said */
    json_object_set_new(s, "recommendedOperations", json_array());
    pane_suggestion_fill(&tv, s, NULL, cur, w);
    CHECK(tv_has(&tv, "Ctrl-A: nothing to change"));
    pane_suggestion_fill(&tv, NULL, "fix the highlighted field for a suggestion", cur, w);
    CHECK(tv_has(&tv, "fix the highlighted") && tv.n >= 3);
    textview_free(&tv);
    json_decref(s);
    json_decref(cur);
}

/* The Learning pane: the reward skill line (MAE against the running mean,
 * skill, rank correlation); no success "accuracy" when nothing failed
 * (true by construction), shown against the majority when runs failed. */
static void t_learning_labels(void)
{
    const char *js =
        "{\"computeMs\":1,\"stats\":{\"totalTrajectories\":10,\"succeeded\":10,"
        "\"avgSuccessRate\":1,\"avgReward\":0.5,\"predictionAccuracy\":null,"
        "\"reward\":{\"predictions\":8,\"mae\":0.031,\"baselineMae\":0.045,\"skill\":0.31,"
        "\"rankCorrelation\":0.42},\"success\":{\"failures\":0,\"accuracy\":null}},"
        "\"strategies\":[{\"name\":\"momentum\",\"stats\":{\"totalTrajectories\":10,"
        "\"succeeded\":7,\"avgSuccessRate\":0.7,\"avgReward\":0.5,"
        "\"reward\":{\"predictions\":8,\"mae\":0.05,\"baselineMae\":0.04,\"skill\":-0.25,"
        "\"rankCorrelation\":null},\"success\":{\"failures\":3,\"predictions\":8,"
        "\"accuracy\":0.75,\"majorityAccuracy\":0.7,\"brierScore\":0.2,"
        "\"baselineBrier\":0.21}}}]}";
    json_t *s = json_loads(js, 0, NULL);
    struct textview tv;
    size_t skills = 0;

    CHECK(s != NULL);
    textview_init(&tv, 12);
    pane_learning_fill(&tv, s, 60, &glyphs_ascii);
    for (size_t i = 0; i < tv.n; i++) {
        if (getenv("WIDGETS_DEBUG"))
            fprintf(stderr, "%s | %s\n", tv.lines[i].label ? tv.lines[i].label : "",
                    tv.lines[i].text);
        CHECK(strstr(tv.lines[i].text, "accuracy") == NULL);
        skills += strstr(tv.lines[i].text, "MAE") != NULL;
    }
    CHECK(skills == 2);
    CHECK(tv_has(&tv, "MAE 0.031 vs 0.045 running mean") && tv_has(&tv, "skill +31%"));
    CHECK(tv_has(&tv, "rank corr 0.42 (8)"));
    CHECK(tv_has(&tv, "skill -25%"));
    CHECK(tv_has(&tv, "right 75% vs 70% majority"));
    textview_free(&tv);
    json_decref(s);
}

/* Patterns rank by the lower bound on reward (LB), not by the success
 * bound, which is 1 for every backtest that ran. */
static void t_patterns_by_reward(void)
{
    const char *js =
        "{\"patterns\":[{\"name\":\"momentum a\",\"strategyName\":\"momentum\","
        "\"confidence\":0.9,\"successRate\":1,\"observationCount\":9,\"meanReward\":0.5,"
        "\"rewardLowerBound\":0.41},{\"name\":\"momentum b\",\"strategyName\":\"momentum\","
        "\"confidence\":0.3,\"successRate\":1,\"observationCount\":2,\"meanReward\":0.6,"
        "\"rewardLowerBound\":0.55}]}";
    json_t *s = json_loads(js, 0, NULL);
    struct table t;
    CHECK(s != NULL);
    table_init(&t, pattern_cols, PC_COUNT);
    table_sort_by(&t, PC_LB, 1);
    pane_patterns_fill(&t, s);
    CHECK(t.nview == 2);
    CHECK(strcmp(t.rows[t.view[0]].text[PC_NAME], "momentum b") == 0);
    CHECK(strcmp(t.rows[t.view[0]].text[PC_LB], "0.550") == 0);
    CHECK(strcmp(pattern_cols[0].title, "LB") == 0);
    table_free(&t);
    json_decref(s);
}

static const struct check_case tests[] = {
    {"suggestion_panel", t_suggestion_panel},     {"learning_labels", t_learning_labels},
    {"patterns_by_reward", t_patterns_by_reward}, {"launch_confirm", t_launch_confirm},
    {"logview_protocol", t_logview_protocol},     {"logview_filter", t_logview_filter},
};

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "C.UTF-8");
    return check_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
