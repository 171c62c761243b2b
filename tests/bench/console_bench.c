/*
 * console_bench.c: frame cost of the console's widgets, headless.
 *
 * Builds a 1000-row table like the sandboxes pane (11 columns, sorted by a
 * numeric column, a filter), then times refill+commit+draw+doupdate frames
 * on an ncurses SCREEN writing to /dev/null at 200x50, and a logview frame
 * over a 100k-line source. Prints one line per measurement.
 */
#define _GNU_SOURCE
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logview.h"
#include "table.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const struct table_col cols[] = {
    {"ID", 5, 1, 0, 1, 0},     {"STRATEGY", 8, 0, 1, 0, 0}, {"SYM", 5, 0, 0, 0, 0},
    {"PROV", 5, 0, 0, 0, 0},   {"STATE", 9, 0, 0, 0, 0},    {"ELAPSED", 7, 1, 0, 1, 0},
    {"CPU%", 4, 1, 0, 1, 0},   {"MEM", 5, 1, 0, 1, 0},      {"PROG", 4, 1, 0, 1, 0},
    {"RETURN", 7, 1, 0, 1, 0}, {"SHARPE", 6, 1, 0, 1, 0},
};

static void fill(struct table *t, int n, int frame)
{
    static const char *const strat[] = {"momentum", "mean-reversion", "neural-forecast"};
    static const char *const sym[] = {"SPY", "QQQ*", "IWM*", "TSLA*"};
    table_clear(t);
    for (int i = 0; i < n; i++) {
        char b[32];
        size_t r = table_add(t, i + 1, ROLE_NORMAL);
        double v = sin(i * 0.37 + frame * 0.01);
        snprintf(b, sizeof b, "%d", i + 1);
        table_set(t, r, 0, b, i + 1);
        table_set(t, r, 1, strat[i % 3], NAN);
        table_set(t, r, 2, sym[i % 4], NAN);
        table_set(t, r, 3, "local", NAN);
        table_set(t, r, 4, i % 5 ? "running" : "succeeded", i % 5);
        snprintf(b, sizeof b, "%.1fs", i * 0.1 + frame);
        table_set(t, r, 5, b, i * 0.1 + frame);
        snprintf(b, sizeof b, "%d", i % 100);
        table_set(t, r, 6, b, i % 100);
        table_set(t, r, 7, "12.3M", 12.3);
        snprintf(b, sizeof b, "%d%%", (i + frame) % 100);
        table_set(t, r, 8, b, (i + frame) % 100);
        snprintf(b, sizeof b, "%+.2f%%", v * 10);
        table_set(t, r, 9, b, v);
        snprintf(b, sizeof b, "%.2f", v);
        table_set(t, r, 10, b, v);
    }
    table_commit(t);
}

static uint64_t src_first(void *c)
{
    (void)c;
    return 1;
}
static uint64_t src_last(void *c)
{
    (void)c;
    return 100000;
}
static size_t src_get(void *c, uint64_t from, struct lv_line *out, size_t max)
{
    size_t n = 0;
    (void)c;
    for (uint64_t s = from; s <= 100000 && n < max; s++, n++) {
        char b[128];
        snprintf(b, sizeof b, "2018-04-27 equity 101349.53 position %llu (bar %llu/6358)",
                 (unsigned long long)s % 50, (unsigned long long)s);
        out[n].seq = s;
        out[n].stream = 1;
        out[n].time_ms = 0;
        out[n].text = strdup(b);
    }
    return n;
}
static void src_release(void *c, struct lv_line *l, size_t n)
{
    (void)c;
    for (size_t i = 0; i < n; i++)
        free(l[i].text);
}

int main(int argc, char **argv)
{
    int frames = argc > 1 ? atoi(argv[1]) : 500;
    attr_t roles[ROLE_COUNT] = {0};
    struct draw_ctx dc = {roles, &glyphs_utf8, 1};
    struct table t;
    struct logview lv;
    struct lv_source src = {NULL, src_first, src_last, src_get, src_release};
    double t0, fill_ms = 0, draw_ms = 0;
    SCREEN *scr;

    setlocale(LC_ALL, "C.UTF-8");
    setenv("LINES", "50", 1);
    setenv("COLUMNS", "200", 1);
    scr = newterm("xterm-256color", fopen("/dev/null", "w"), fopen("/dev/null", "r"));
    if (scr == NULL)
        return 1;
    roles[ROLE_SELECT] = A_REVERSE;
    table_init(&t, cols, 11);
    table_sort_by(&t, 9, 1);
    for (int f = 0; f < frames; f++) {
        t0 = now_ms();
        fill(&t, 1000, f);
        fill_ms += now_ms() - t0;
        t0 = now_ms();
        table_ops.draw(&t, stdscr, 1, 1, 24, 198, &dc);
        wnoutrefresh(stdscr);
        doupdate();
        draw_ms += now_ms() - t0;
    }
    printf("table 1000 rows, 200x50: refill+filter+sort %.3f ms, draw+doupdate %.3f ms, frame "
           "%.3f ms (mean of %d frames)\n",
           fill_ms / frames, draw_ms / frames, (fill_ms + draw_ms) / frames, frames);
    logview_init(&lv);
    logview_set_source(&lv, &src);
    t0 = now_ms();
    for (int f = 0; f < frames; f++) {
        logview_ops.draw(&lv, stdscr, 26, 1, 23, 198, &dc);
        wnoutrefresh(stdscr);
        doupdate();
    }
    printf("logview, 100000-line source, 23 visible rows: frame %.3f ms (mean of %d frames)\n",
           (now_ms() - t0) / frames, frames);
    table_free(&t);
    endwin();
    delscreen(scr);
    return 0;
}
