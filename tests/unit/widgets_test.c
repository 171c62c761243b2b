/*
 * widgets_test.c: tests of the console's widgets and theme parser.
 *
 * Pure logic is tested directly; drawing is tested headless: an ncurses
 * SCREEN on /dev/null (newterm) with LINES/COLUMNS from the environment,
 * read back with mvinnstr. `test-widgets NAME` runs one test.
 */
#define _GNU_SOURCE
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "browser.h"
#include "dialog.h"
#include "form.h"
#include "logview.h"
#include "sparkline.h"
#include "statusline.h"
#include "table.h"
#include "textview.h"
#include "theme.h"

#include "check.h"

static const struct table_col tcols[] = {
    {"ID", 4, 1, 0, 1, 0}, {"NAME", 8, 0, 1, 0, 0}, {"SCORE", 6, 1, 0, 1, 0}};

static void fill(struct table *t, int n, const int *ids, const char *const *names,
                 const double *scores)
{
    table_clear(t);
    for (int i = 0; i < n; i++) {
        char b[32];
        size_t r = table_add(t, ids[i], ROLE_NORMAL);
        snprintf(b, sizeof b, "%d", ids[i]);
        table_set(t, r, 0, b, ids[i]);
        table_set(t, r, 1, names[i], NAN);
        snprintf(b, sizeof b, "%.1f", scores[i]);
        table_set(t, r, 2, b, scores[i]);
    }
    table_commit(t);
}

static const int ids[] = {3, 1, 2, 4};
static const char *const names[] = {"gamma", "alpha", "beta", "alpha"};
static const double scores[] = {1.0, 5.0, 3.0, 5.0};

static int64_t view_id(const struct table *t, size_t i)
{
    return t->rows[t->view[i]].id;
}

static void t_table_sort(void)
{
    struct table t;
    table_init(&t, tcols, 3);
    fill(&t, 4, ids, names, scores);
    CHECK(t.nview == 4 && view_id(&t, 0) == 1 && view_id(&t, 3) == 4); /* unsorted: by id */
    table_sort_by(&t, 2, 1);                                           /* score desc; ties by id */
    CHECK(view_id(&t, 0) == 1 && view_id(&t, 1) == 4 && view_id(&t, 2) == 2 && view_id(&t, 3) == 3);
    table_invert_sort(&t);
    CHECK(view_id(&t, 0) == 3 && view_id(&t, 3) == 4);
    table_sort_by(&t, 1, 0); /* text */
    CHECK(view_id(&t, 0) == 1 && view_id(&t, 1) == 4 && view_id(&t, 2) == 2);
    table_cycle_sort(&t);
    CHECK(t.sort_col == 2 && t.sort_desc == 1);
    table_free(&t);
}

static void t_table_filter(void)
{
    struct table t;
    table_init(&t, tcols, 3);
    fill(&t, 4, ids, names, scores);
    table_set_filter(&t, "ALPHA");
    CHECK(t.nview == 2);
    table_set_filter(&t, "name:et");
    CHECK(t.nview == 1 && view_id(&t, 0) == 2);
    table_set_filter(&t, "score:5");
    CHECK(t.nview == 2);
    table_set_filter(&t, "nothing");
    CHECK(t.nview == 0 && table_selected(&t) == -1);
    table_set_filter(&t, "");
    CHECK(t.nview == 4);
    table_free(&t);
}

static void t_table_selection_by_id(void)
{
    struct table t;
    static const int ids2[] = {5, 3, 1, 2, 4};
    static const char *const names2[] = {"eps", "gamma", "alpha", "beta", "alpha"};
    static const double scores2[] = {9.0, 1.0, 5.0, 3.0, 5.0};
    table_init(&t, tcols, 3);
    table_sort_by(&t, 2, 1);
    fill(&t, 4, ids, names, scores);
    CHECK(table_select_id(&t, 2) == 0 && t.sel == 2);
    fill(&t, 5, ids2, names2, scores2); /* a new row sorts first: row 2 moves down */
    CHECK(table_selected(&t) == 2 && t.sel == 3);
    fill(&t, 3, ids, names, scores); /* row 4 gone; selection stays on 2 */
    CHECK(table_selected(&t) == 2);
    table_select_id(&t, 3);
    fill(&t, 2, ids + 1, names + 1, scores + 1); /* the selected row vanished: clamp */
    CHECK(table_selected(&t) != -1 && t.sel < t.nview);
    t.sel = 0;
    CHECK(table_move(&t, 100) == WF_DIRTY && t.sel == t.nview - 1);
    CHECK(table_move(&t, 1) == 0);
    table_free(&t);
}

static void t_table_targets(void)
{
    struct table t;
    int64_t out[8];
    table_init(&t, tcols, 3);
    fill(&t, 4, ids, names, scores);
    table_select_id(&t, 3);
    CHECK(table_targets(&t, out, 8) == 1 && out[0] == 3);
    table_tag_toggle(&t, 1);
    table_tag_toggle(&t, 4);
    CHECK(table_targets(&t, out, 8) == 2 && out[0] == 1 && out[1] == 4);
    table_set_filter(&t, "gamma"); /* tags outside the view are not targets */
    CHECK(table_targets(&t, out, 8) == 1 && out[0] == 3);
    table_tag_toggle(&t, 1);
    CHECK(!table_tagged(&t, 1) && table_tagged(&t, 4));
    table_free(&t);
}

/* --- headless curses ------------------------------------------------------- */

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
    roles[ROLE_SELECT] = A_REVERSE;
}

static void row_text(int y, char *out, int n)
{
    mvinnstr(y, 0, out, n);
    for (int i = (int)strlen(out) - 1; i >= 0 && out[i] == ' '; i--)
        out[i] = '\0';
    if (getenv("WIDGETS_DEBUG"))
        fprintf(stderr, "row %d: [%s]\n", y, out);
}

static void t_table_draw(void)
{
    struct table t;
    struct draw_ctx dc = {roles, &glyphs_ascii, 1};
    char line[128];
    headless(10, 40);
    table_init(&t, tcols, 3);
    table_sort_by(&t, 2, 1);
    fill(&t, 4, ids, names, scores);
    table_tag_toggle(&t, 4);
    table_ops.draw(&t, stdscr, 0, 0, 6, 40, &dc);
    row_text(0, line, sizeof line);
    CHECK(strcmp(line, "    ID NAME                      SCOREv") == 0);
    row_text(1, line, sizeof line);
    CHECK(strcmp(line, "     1 alpha                        5.0") == 0);
    row_text(2, line, sizeof line);
    CHECK(strcmp(line, "*    4 alpha                        5.0") == 0);
    CHECK((mvinch(1, 5) & A_REVERSE) != 0); /* the selected row is highlighted */
    CHECK((mvinch(2, 5) & A_REVERSE) == 0);
    erase();
    table_ops.draw(&t, stdscr, 0, 0, 6, 20, &dc); /* narrow: SCORE dropped */
    row_text(1, line, sizeof line);
    CHECK(strncmp(line, "     1 alpha", 12) == 0 && strstr(line, "5.0") == NULL);
    table_free(&t);
    endwin();
    delscreen(scr);
}

/* The sort arrow shows on every column, even one whose title is as wide as
 * the column (CPU%, PROG, SHARPE, ELAPSED at 80 columns): the title gives
 * up a letter instead. */
static void t_table_sort_arrow(void)
{
    static const struct table_col nc[] = {
        {"ID", 2, 1, 0, 1, 0}, {"CPU%", 4, 1, 0, 1, 0}, {"SHARPE", 6, 1, 0, 0, 0}};
    static const char *const want[3][2] = {{"Iv", "I^"}, {"CPUv", "CPU^"}, {"SHARPv", "SHARP^"}};
    struct table t;
    struct draw_ctx dc = {roles, &glyphs_ascii, 1};
    char line[128];

    headless(6, 40);
    table_init(&t, nc, 3);
    for (int c = 0; c < 3; c++)
        for (int desc = 1; desc >= 0; desc--) {
            table_sort_by(&t, c, desc);
            erase();
            /* exactly the minimum widths: 2 + (2+1) + (4+1) + (6+1) = 17 */
            table_ops.draw(&t, stdscr, 0, 0, 4, 17, &dc);
            row_text(0, line, sizeof line);
            if (getenv("WIDGETS_DEBUG"))
                fprintf(stderr, "sorted by %d %s: [%s]\n", c, desc ? "desc" : "asc", line);
            CHECK(strstr(line, want[c][desc ? 0 : 1]) != NULL);
        }
    /* with room, the whole title and the arrow */
    table_sort_by(&t, 2, 0);
    erase();
    table_ops.draw(&t, stdscr, 0, 0, 4, 30, &dc);
    row_text(0, line, sizeof line);
    CHECK(strstr(line, "SHARPE^") != NULL);
    table_free(&t);
    endwin();
    delscreen(scr);
}

/* A click selects the row drawn where it lands, scrolled or not. */
static void t_table_click(void)
{
    struct table t;
    struct draw_ctx dc = {roles, &glyphs_ascii, 1};
    int many[12];
    const char *nm[12];
    double sc[12];
    headless(10, 40);
    for (int i = 0; i < 12; i++)
        many[i] = i + 1, nm[i] = "row", sc[i] = i;
    table_init(&t, tcols, 3);
    table_sort_by(&t, 0, 0); /* by id, ascending */
    fill(&t, 12, many, nm, sc);
    table_ops.draw(&t, stdscr, 0, 0, 5, 40, &dc); /* a header and 4 rows: ids 1..4 */
    CHECK(table_click(&t, 3) == (WF_HANDLED | WF_DIRTY) && table_selected(&t) == 3);
    CHECK(table_click(&t, 3) == WF_HANDLED);                   /* already there */
    CHECK(table_click(&t, 0) == 0 && table_click(&t, 5) == 0); /* header, below the rows */
    CHECK(table_selected(&t) == 3);
    table_move(&t, 6); /* id 9: the view scrolls when drawn */
    table_ops.draw(&t, stdscr, 0, 0, 5, 40, &dc);
    CHECK(table_click(&t, 1) & WF_DIRTY);
    CHECK(table_selected(&t) == 6); /* rows 6..9 are drawn */
    table_free(&t);
    endwin();
    delscreen(scr);
}

/* Widths: minimums, a capped flex column, the rest spread; always exactly
 * the pane's width (tag column, columns and one space after each). */
static void t_table_layout(void)
{
    static const struct table_col c[] = {
        {"ID", 4, 1, 0, 1, 0}, {"STRATEGY", 8, 0, 1, 0, 24}, {"STATE", 9, 0, 0, 0, 0}};
    struct table t;
    int cw[3], sum;

    table_init(&t, c, 3);
    /* Exactly the minimums: 2 + (4+1) + (8+1) + (9+1) = 26. */
    CHECK(table_layout(&t, 26, cw) == 3 && cw[0] == 4 && cw[1] == 8 && cw[2] == 9);
    /* Some room: all of it to the flex column, below its max. */
    CHECK(table_layout(&t, 36, cw) == 3 && cw[0] == 4 && cw[1] == 18 && cw[2] == 9);
    /* Wide: the flex column stops at 24, the other 50 are spread evenly. */
    CHECK(table_layout(&t, 92, cw) == 3);
    CHECK(cw[1] == 24 + 17 && cw[0] == 4 + 17 && cw[2] == 9 + 16);
    sum = 2 + cw[0] + cw[1] + cw[2] + 3;
    CHECK(sum == 92);
    for (int w = 26; w < 300; w++) {
        table_layout(&t, w, cw);
        CHECK(2 + cw[0] + cw[1] + cw[2] + 3 == w);
        CHECK(cw[1] - 8 >= cw[0] - 4); /* the flex column never gets less */
    }
    /* Narrow: what does not fit is dropped from the right. */
    CHECK(table_layout(&t, 25, cw) == 2);
    table_free(&t);
    /* Without a max the flex column takes everything (the patterns list). */
    table_init(&t, tcols, 3);
    CHECK(table_layout(&t, 100, cw) == 3 && cw[0] == 4 && cw[2] == 6 && cw[1] == 100 - 2 - 13);
    table_free(&t);
}

/* --- logview over an array source ------------------------------------------ */

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
        snprintf(b, sizeof b, "line %llu%s", (unsigned long long)s, s % 10 == 0 ? " needle" : "");
        out[n].seq = s;
        out[n].stream = s % 7 == 0 ? 2 : 1;
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

static void t_logview_follow(void)
{
    struct arr src = {1, 100};
    struct lv_source s = {&src, a_first, a_last, a_get, a_release};
    struct logview lv;
    struct draw_ctx dc = {roles, &glyphs_ascii, 1};
    char line[128];

    headless(12, 40);
    logview_init(&lv);
    logview_set_source(&lv, &s);
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 40, &dc);
    row_text(9, line, sizeof line);
    CHECK(strcmp(line, "line 100 needle") == 0);
    row_text(0, line, sizeof line);
    CHECK(strcmp(line, "line 91") == 0);
    CHECK(logview_scroll(&lv, -5) == WF_DIRTY && !lv.follow && lv.top == 86);
    src.last = 130; /* 30 new lines while not following */
    CHECK(logview_new_lines(&lv) == 30);
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 40, &dc);
    row_text(0, line, sizeof line);
    CHECK(strcmp(line, "line 86") == 0);
    row_text(9, line, sizeof line);
    CHECK(strstr(line, "+30 new") != NULL);
    logview_ops.key(&lv, WK_END);
    CHECK(lv.follow && logview_new_lines(&lv) == 0);
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 40, &dc);
    row_text(9, line, sizeof line);
    CHECK(strcmp(line, "line 130 needle") == 0);
    /* wrap: a long line takes several rows, the newest still at the bottom */
    lv.wrap = 1;
    erase();
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 8, &dc);
    row_text(9, line, sizeof line);
    CHECK(strcmp(line, " needle") == 0);
    row_text(8, line, sizeof line);
    CHECK(strcmp(line, "line 130") == 0);
    /* old lines fall off: the view clamps to the first held */
    src.first = 125;
    logview_set_follow(&lv, 0);
    lv.top = 1;
    lv.wrap = 0;
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 40, &dc);
    row_text(0, line, sizeof line);
    CHECK(strcmp(line, "line 125") == 0);
    endwin();
    delscreen(scr);
}

/* A finished deployment's view: scrolled up, the marker counts the lines
 * below the window, never "+N new" (nothing more will come). */
static void t_logview_done(void)
{
    struct arr src = {1, 100};
    struct lv_source s = {&src, a_first, a_last, a_get, a_release};
    struct logview lv;
    struct draw_ctx dc = {roles, &glyphs_ascii, 1};
    char line[128];

    headless(12, 40);
    logview_init(&lv);
    logview_set_source(&lv, &s);
    lv.done = 1;
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 40, &dc);
    CHECK(logview_scroll(&lv, -30) == WF_DIRTY && !lv.follow && lv.top == 61);
    logview_ops.draw(&lv, stdscr, 0, 0, 10, 40, &dc);
    row_text(9, line, sizeof line);
    CHECK(strstr(line, "30 below") != NULL && strstr(line, "new") == NULL);
    /* set_source forgets it: a new source may grow */
    logview_set_source(&lv, &s);
    CHECK(lv.done == 0);
    endwin();
    delscreen(scr);
}

/* Feed bytes to a SCREEN for terminal `term` and read keys with wk_read
 * until none is left: the keys in out, their count returned. */
static int keys_of(const char *term, const char *bytes, int *out, int max)
{
    int fd[2], n = 0, k;
    FILE *in;
    SCREEN *sc;

    if (pipe(fd) != 0)
        return -1;
    if (write(fd[1], bytes, strlen(bytes)) != (ssize_t)strlen(bytes))
        return -1;
    close(fd[1]); /* everything is there before the first read */
    in = fdopen(fd[0], "r");
    setenv("LINES", "24", 1);
    setenv("COLUMNS", "80", 1);
    if ((sc = newterm(term, fopen("/dev/null", "w"), in)) == NULL)
        return -2;
    raw();
    noecho();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    wk_init();
    while (n < max && (k = wk_read(stdscr)) != WK_NONE)
        out[n++] = k;
    endwin();
    delscreen(sc);
    fclose(in);
    return n;
}

/* Home and End in every common form arrive as Home and End on every
 * common terminal type; an unknown sequence is dropped whole (its bytes
 * never run as keys); a lone Esc is still Esc. */
static void t_keys_variants(void)
{
    static const char *terms[] = {"xterm-256color", "xterm", "vt100", "tmux-256color",
                                  "screen",         "putty", "rxvt"};
    static const char *homes[] = {"\033[1~", "\033[7~", "\033[H", "\033OH"};
    static const char *ends[] = {"\033[4~", "\033[8~", "\033[F", "\033OF"};
    int keys[32], n, tried = 0;

    for (size_t t = 0; t < sizeof terms / sizeof terms[0]; t++) {
        for (size_t i = 0; i < 4; i++) {
            char b[64];
            snprintf(b, sizeof b, "%sx%sy", homes[i], ends[i]);
            n = keys_of(terms[t], b, keys, 32);
            if (n == -2)
                break; /* no terminfo entry for this one here */
            tried++;
            if (!(n == 4 && keys[0] == WK_HOME && keys[1] == 'x' && keys[2] == WK_END &&
                  keys[3] == 'y'))
                fprintf(stderr, "TERM=%s: %s: %d keys (%x %x %x %x)\n", terms[t], homes[i] + 1, n,
                        n > 0 ? keys[0] : 0, n > 1 ? keys[1] : 0, n > 2 ? keys[2] : 0,
                        n > 3 ? keys[3] : 0);
            CHECK(n == 4 && keys[0] == WK_HOME && keys[1] == 'x' && keys[2] == WK_END &&
                  keys[3] == 'y');
        }
        /* PgUp, PgDn, Del in vt220 form (arrows: some entries call ESC [ A a
         * shifted arrow, which is a key too) */
        n = keys_of(terms[t], "\033[5~\033[6~\033[3~", keys, 32);
        CHECK(n == 3 && keys[0] == WK_PGUP && keys[1] == WK_PGDN && keys[2] == WK_DC);
        /* sequences no entry knows are dropped whole */
        n = keys_of(terms[t], "\033[99;7;3Xa\033[200;1~b\033O5Pc", keys, 32);
        if (getenv("WIDGETS_DEBUG"))
            fprintf(stderr, "TERM=%s: %d keys (%x %x %x)\n", terms[t], n, keys[0], keys[1],
                    keys[2]);
        CHECK(n == 3 && keys[0] == 'a' && keys[1] == 'b' && keys[2] == 'c');
    }
    CHECK(tried >= 3 * 4); /* xterm, vt100 and tmux at least */
    /* a lone Esc, and Esc then a plain key (Alt-q), stay as they were */
    n = keys_of("xterm-256color", "\033", keys, 32);
    CHECK(n == 1 && keys[0] == WK_ESC);
    n = keys_of("xterm-256color", "\033q", keys, 32);
    CHECK(n == 2 && keys[0] == WK_ESC && keys[1] == 'q');
    /* Esc then a key curses knows (Up): both, the key as a key */
    n = keys_of("xterm-256color", "\033\033OA", keys, 32);
    if (getenv("WIDGETS_DEBUG"))
        fprintf(stderr, "Esc Up: %d keys (%x %x)\n", n, keys[0], keys[1]);
    CHECK(n == 2 && keys[0] == WK_ESC && keys[1] == WK_UP);
}

static void t_logview_search(void)
{
    struct arr src = {1, 100};
    struct lv_source s = {&src, a_first, a_last, a_get, a_release};
    struct logview lv;
    logview_init(&lv);
    logview_set_source(&lv, &s);
    lv.page = 10;
    CHECK(logview_search(&lv, "NEEDLE", 1) == 0 && lv.match_seq == 10 && !lv.follow);
    CHECK(logview_search(&lv, NULL, 1) == 0 && lv.match_seq == 20);
    CHECK(logview_search(&lv, NULL, -1) == 0 && lv.match_seq == 10);
    CHECK(logview_search(&lv, NULL, -1) == -1);
    CHECK(logview_search(&lv, "line 77", 1) == -1 || lv.match_seq == 77);
    lv.match_seq = 0;
    src.last = 1000;
    CHECK(logview_search(&lv, "line 999", 1) == 0 && lv.match_seq == 999); /* across chunks */
    CHECK(logview_search(&lv, "absent", 1) == -1);
}

static void t_logview_save(void)
{
    struct arr src = {5, 14};
    struct lv_source s = {&src, a_first, a_last, a_get, a_release};
    struct logview lv;
    char path[] = "/tmp/widgets-save-XXXXXX", buf[512];
    struct stat st;
    FILE *f;
    size_t n;
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    logview_init(&lv);
    logview_set_source(&lv, &s);
    CHECK(logview_save(&lv, path) == 10);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    f = fopen(path, "r");
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    CHECK(strncmp(buf, "line 5\n", 7) == 0 && strstr(buf, "[stderr] line 7\n") != NULL);
    unlink(path);
}

static void t_sparkline_utf8(void)
{
    double v[] = {0, 1, 2, 3, 4, 5, 6, 7};
    char out[128];
    CHECK(sparkline_render(v, 8, 8, &glyphs_utf8, out, sizeof out) == 8);
    CHECK(strcmp(out, "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588") == 0);
    CHECK(sparkline_render(v, 8, 3, &glyphs_utf8, out, sizeof out) == 3); /* the last 3 */
    CHECK(strcmp(out, "\u2581\u2585\u2588") == 0);
    double flat[] = {2, 2, 2};
    sparkline_render(flat, 3, 10, &glyphs_utf8, out, sizeof out);
    CHECK(strcmp(out, "\u2581\u2581\u2581") == 0);
    CHECK(sparkline_level(5, 0, 10) == 4 && sparkline_level(-1, 0, 10) == 0 &&
          sparkline_level(11, 0, 10) == 7);
}

static void t_sparkline_ascii(void)
{
    double v[] = {0, 7, NAN, 3.5};
    char out[16];
    sparkline_render(v, 4, 10, &glyphs_ascii, out, sizeof out);
    CHECK(strcmp(out, "_# -") == 0 || strcmp(out, "_# =") == 0);
    CHECK(sparkline_render(v, 4, 10, &glyphs_ascii, out, 3) == 2); /* truncation */
}

static void t_sparkline_range(void)
{
    double full[] = {1, 1, 1}, half[] = {0, 0.5, 1}, out_of[] = {-1, 2};
    char out[64];
    /* A flat 100 % is the top level on a fixed [0, 1] scale, not the bottom. */
    sparkline_render_range(full, 3, 10, 0, 1, &glyphs_ascii, out, sizeof out);
    CHECK(strcmp(out, "###") == 0);
    sparkline_render(full, 3, 10, &glyphs_ascii, out, sizeof out); /* own range: flat = low */
    CHECK(strcmp(out, "___") == 0);
    sparkline_render_range(half, 3, 10, 0, 1, &glyphs_ascii, out, sizeof out);
    CHECK(strcmp(out, "_=#") == 0 || strcmp(out, "_-#") == 0);
    sparkline_render_range(out_of, 2, 10, 0, 1, &glyphs_ascii, out, sizeof out); /* clamped */
    CHECK(strcmp(out, "_#") == 0);
    CHECK(sparkline_render_range(half, 3, 0, 0, 1, &glyphs_ascii, out, sizeof out) == 0);
}

/* Two values a cell, bars of 1 to 4 dots from the bottom, newest right. */
static void t_sparkline_braille(void)
{
    double up[] = {0, 1, 2, 3}, odd[] = {0, 3, 3}, full[] = {1, 1}, gap[] = {NAN, NAN, 0, 3};
    double many[10] = {0, 0, 0, 0, 0, 0, 3, 3, 3, 3};
    char out[64];

    /* Levels 0,1 | 2,3: left dot 7, right dots 8+6 = U+28E0; left dots 7+3+2,
     * right all four = U+28FE. */
    CHECK(sparkline_render(up, 4, 10, &glyphs_braille, out, sizeof out) == 2);
    CHECK(strcmp(out, "\u28e0\u28fe") == 0);
    /* Odd count: the oldest value is the first cell's right half. */
    CHECK(sparkline_render(odd, 3, 10, &glyphs_braille, out, sizeof out) == 2);
    CHECK(strcmp(out, "\u2880\u28ff") == 0);
    /* A fixed scale: a flat 1 on [0, 1] is full. */
    sparkline_render_range(full, 2, 10, 0, 1, &glyphs_braille, out, sizeof out);
    CHECK(strcmp(out, "\u28ff") == 0);
    /* NaN: no dots; a cell without any is a space. */
    sparkline_render(gap, 4, 10, &glyphs_braille, out, sizeof out);
    CHECK(strcmp(out, " \u28f8") == 0);
    /* width cells hold the last 2 * width values, scaled among themselves:
     * the last four are flat (the lowest level, one dot each)... */
    CHECK(sparkline_render(many, 10, 2, &glyphs_braille, out, sizeof out) == 2);
    CHECK(strcmp(out, "\u28c0\u28c0") == 0);
    /* ...the last six are not. */
    CHECK(sparkline_render(many, 10, 3, &glyphs_braille, out, sizeof out) == 3);
    CHECK(strcmp(out, "\u28c0\u28ff\u28ff") == 0);
    /* Truncation at a cell boundary, never inside a character. */
    CHECK(sparkline_render(up, 4, 10, &glyphs_braille, out, 5) == 1);
    CHECK(strlen(out) == 3);
    CHECK(sparkline_render(up, 4, 0, &glyphs_braille, out, sizeof out) == 0 && out[0] == '\0');
    /* The block form is unchanged by the table's other fields. */
    CHECK(sparkline_render(up, 4, 10, &glyphs_utf8, out, sizeof out) == 4);
}

/* --- textview and browser ---------------------------------------------------- */

static void t_textview(void)
{
    struct textview tv;
    struct draw_ctx dc = {roles, &glyphs_ascii, 1};
    char line[128];
    size_t i;

    textview_init(&tv, 8);
    for (int k = 0; k < 10; k++)
        textview_add(&tv, ROLE_NORMAL, k == 0 ? "label" : NULL, "line %d", k);
    i = textview_add(&tv, ROLE_NORMAL, "spark", "0.50   _.-#");
    textview_set_alt(&tv, i, 7, ROLE_SPARK);
    CHECK(tv.n == 11 && tv.lines[i].alt_at == 7);
    textview_set_alt(&tv, i, 99, ROLE_SPARK); /* past the end: ignored */
    CHECK(tv.lines[i].alt_at == 7);

    headless(10, 40);
    roles[ROLE_SPARK] = A_BOLD;
    textview_ops.draw(&tv, stdscr, 0, 0, 4, 30, &dc); /* 4 rows: lines 0..3 */
    row_text(0, line, sizeof line);
    CHECK(strcmp(line, "label   line 0") == 0);
    row_text(1, line, sizeof line);
    CHECK(strcmp(line, "line 1") == 0); /* no label: the left edge */
    row_text(3, line, sizeof line);
    CHECK(line[29] == 'v'); /* more below */
    /* Scrolling is clamped to the last page. */
    CHECK(textview_scroll(&tv, 100) == WF_DIRTY && tv.top == 7);
    CHECK(textview_scroll(&tv, 1) == 0);
    CHECK((textview_ops.key(&tv, WK_HOME) & WF_DIRTY) && tv.top == 0);
    CHECK((textview_ops.key(&tv, 'G') & WF_DIRTY) && tv.top == 7);
    erase();
    textview_ops.draw(&tv, stdscr, 0, 0, 4, 30, &dc);
    row_text(3, line, sizeof line);
    CHECK(strncmp(line, "spark   0.50   _.-#", 19) == 0);
    CHECK((mvinch(3, 8) & A_BOLD) == 0 && (mvinch(3, 15) & A_BOLD) != 0); /* the alt role */
    row_text(0, line, sizeof line);
    CHECK(line[29] == '^'); /* more above */
    /* A rebuild keeps the scroll position, clamped to the new length. */
    textview_clear(&tv);
    for (int k = 0; k < 6; k++)
        textview_add(&tv, ROLE_NORMAL, NULL, "new %d", k);
    textview_ops.draw(&tv, stdscr, 0, 0, 4, 30, &dc);
    CHECK(tv.top == 2);
    textview_free(&tv);
    textview_free(NULL);
    endwin();
    delscreen(scr);
}

static void t_browser(void)
{
    struct browser b;
    int f;

    browser_init(&b, tcols, 3, 8);
    CHECK(browser_ops.key(&b, WK_ENTER) == WF_HANDLED); /* empty: nothing to open */
    fill(&b.list, 4, ids, names, scores);
    table_sort_by(&b.list, 2, 1);
    CHECK(table_selected(&b.list) == 1);
    browser_ops.key(&b, WK_DOWN);
    CHECK(table_selected(&b.list) == 4);
    f = browser_ops.key(&b, WK_ENTER);
    CHECK((f & WF_SUBMIT) && !b.open); /* the owner fills the detail, then opens */
    textview_add(&b.detail, ROLE_NORMAL, "id", "4");
    browser_open(&b, table_selected(&b.list));
    CHECK(b.open && b.item == 4);
    /* While open, keys scroll the detail, not the list. */
    browser_ops.key(&b, WK_DOWN);
    CHECK(table_selected(&b.list) == 4);
    /* A refill keeps the detail open and the selection. */
    fill(&b.list, 4, ids, names, scores);
    CHECK(b.open && table_selected(&b.list) == 4);
    f = browser_ops.key(&b, WK_ESC);
    CHECK((f & WF_CANCEL) && (f & WF_DIRTY) && !b.open && b.item == -1);
    CHECK(table_selected(&b.list) == 4); /* back where it was */
    browser_ops.key(&b, WK_ENTER);
    browser_open(&b, 4);
    CHECK((browser_ops.key(&b, WK_LEFT) & WF_CANCEL) && !b.open);
    browser_free(&b);
    browser_free(NULL);
}

/* --- statusline ---------------------------------------------------------------- */

static void t_statusline_fit(void)
{
    const struct sl_seg seg[] = {
        {"swarmdeck 0.1.0", "swarmdeck", ROLE_STATUSBAR, 4, 0, 0},        /* 15 / 9 */
        {"isolation: strict", "strict", ROLE_STATUSBAR, 8, 0, 0},         /* 17 / 6 */
        {"1 running 0 queued", "r1 q0", ROLE_STATUSBAR, 9, 0, 0},         /* 18 / 5 */
        {"chain off", NULL, ROLE_STATUSBAR, 1, 0, 0},                     /* 9 */
        {"/var/lib/some/where/store.db", NULL, ROLE_STATUSBAR, 2, 1, 12}, /* 28 */
    };
    int form[SL_MAX], width[SL_MAX];

    /* Wide: everything as written (4 separators of 3). */
    CHECK(statusline_fit(seg, 5, 200, 3, form, width) == 15 + 17 + 18 + 9 + 28 + 12);
    for (int i = 0; i < 5; i++)
        CHECK(form[i] == 0);
    /* 90 (99 wanted): the lowest priority goes first: "chain off" (1) can
     * only be dropped: 87. */
    CHECK(statusline_fit(seg, 5, 90, 3, form, width) == 87);
    CHECK(form[3] == -1 && form[4] == 0 && width[4] == 28 && form[0] == 0 && form[2] == 0);
    /* 74: then the path (2) is cut from the left by the 13 columns over. */
    CHECK(statusline_fit(seg, 5, 74, 3, form, width) == 74);
    CHECK(form[3] == -1 && form[4] == 0 && width[4] == 15 && form[0] == 0);
    /* 71: down to its minimum of 12. */
    CHECK(statusline_fit(seg, 5, 71, 3, form, width) == 71 && width[4] == 12);
    /* 70: below its minimum the path is dropped; the rest whole: 15+17+18+6. */
    CHECK(statusline_fit(seg, 5, 70, 3, form, width) == 56);
    CHECK(form[4] == -1 && form[0] == 0 && form[1] == 0 && form[2] == 0);
    /* 50: the version (4) goes compact: 9+17+18+6 = 50. */
    CHECK(statusline_fit(seg, 5, 50, 3, form, width) == 50);
    CHECK(form[0] == 1 && form[1] == 0 && form[2] == 0);
    /* 30: the compact version is dropped (38), then the isolation (8)
     * compact: 6+18+3 = 27; the counts (9) stay whole. */
    CHECK(statusline_fit(seg, 5, 30, 3, form, width) == 27);
    CHECK(form[0] == -1 && form[1] == 1 && form[2] == 0);
    /* Nothing fits: all dropped, width 0. */
    CHECK(statusline_fit(seg, 5, 2, 3, form, width) == 0);
}

static void t_statusline_draw(void)
{
    const struct sl_seg seg[] = {
        {"counts", NULL, ROLE_STATUSBAR, 9, 0, 0},
        {"open", NULL, ROLE_ERROR, 9, 0, 0},
        {"/var/lib/store.db", NULL, ROLE_STATUSBAR, 2, 1, 8},
    };
    struct draw_ctx dc = {roles, &glyphs_ascii, 1};
    char line[128];

    headless(5, 40);
    roles[ROLE_ERROR] = A_BOLD;
    statusline_draw(stdscr, 0, 0, 40, seg, 3, " | ", &dc);
    row_text(0, line, sizeof line);
    CHECK(strcmp(line, "counts | open | /var/lib/store.db") == 0);
    CHECK((mvinch(0, 9) & A_BOLD) != 0 && (mvinch(0, 0) & A_BOLD) == 0);
    erase();
    statusline_draw(stdscr, 0, 0, 24, seg, 3, " | ", &dc); /* 24 - 15 = 9 for the path */
    row_text(0, line, sizeof line);
    CHECK(strcmp(line, "counts | open | ~tore.db") == 0); /* cut to its 8 columns */
    endwin();
    delscreen(scr);
}

static void t_form_validation(void)
{
    struct form fm;
    int i;
    form_init(&fm, "t");
    i = form_add(&fm, "lookback", "lookback", FT_INT, "20", 2, 500, NULL);
    form_add(&fm, "threshold", "threshold", FT_NUM, "0.02", 0, 1, NULL);
    CHECK(form_first_invalid(&fm) == -1);
    fm.cur = i;
    form_ops.key(&fm, WK_BACKSPACE);
    form_ops.key(&fm, WK_BACKSPACE);
    CHECK(fm.f[i].err[0] != '\0'); /* empty required number */
    form_ops.key(&fm, '1');
    CHECK(strstr(fm.f[i].err, "range") != NULL); /* 1 < 2, said as typed */
    form_ops.key(&fm, '0');
    CHECK(fm.f[i].err[0] == '\0');
    CHECK(form_ops.key(&fm, 'x') == WF_HANDLED && strcmp(fm.f[i].buf, "10") == 0);
    form_ops.key(&fm, '.');
    form_ops.key(&fm, '5');
    CHECK(strstr(fm.f[i].err, "whole") != NULL);
    fm.cur = 1;
    CHECK((form_ops.key(&fm, WK_ENTER) & WF_SUBMIT) == 0 && fm.cur == 0); /* jumps to the bad one */
    form_set(&fm, 0, "499");
    CHECK(form_ops.key(&fm, WK_ENTER) & WF_SUBMIT);
    CHECK(form_set(&fm, 1, "1.5") == -1 && form_set(&fm, 1, "1e-3") == 0);
    CHECK(form_ops.key(&fm, WK_ESC) & WF_CANCEL);
}

static void t_form_choice(void)
{
    static const char *const s[] = {"momentum", "mean-reversion", "neural-forecast"};
    struct form fm;
    form_init(&fm, "t");
    form_add_choice(&fm, "strategy", "strategy", s, 3, 0);
    form_add(&fm, "allowShort", "allowShort", FT_BOOL, "false", 0, 1, NULL);
    CHECK(form_ops.key(&fm, WK_RIGHT) & WF_CHANGED);
    CHECK(strcmp(form_value(&fm, 0), "mean-reversion") == 0 && fm.changed_field == 0);
    form_ops.key(&fm, WK_LEFT);
    form_ops.key(&fm, WK_LEFT);
    CHECK(strcmp(form_value(&fm, 0), "neural-forecast") == 0);
    form_ops.key(&fm, WK_DOWN);
    form_ops.key(&fm, ' ');
    CHECK(strcmp(form_value(&fm, 1), "true") == 0);
    form_truncate(&fm, 1);
    CHECK(fm.n == 1 && fm.cur == 0);
}

static void t_theme_parser(void)
{
    struct theme t;
    char err[256];
    theme_default(&t);
    CHECK(theme_parse("# c\n\nselect = black bright-cyan bold reverse # x\nerror = 196 default\n",
                      &t, err, sizeof err) == 0);
    CHECK(t.r[ROLE_SELECT].fg == 0 && t.r[ROLE_SELECT].bg == 14 &&
          t.r[ROLE_SELECT].attrs == (A_BOLD | A_REVERSE));
    CHECK(t.r[ROLE_ERROR].fg == 196 && t.r[ROLE_ERROR].bg == -1 && t.r[ROLE_ERROR].attrs == 0);
    CHECK(t.r[ROLE_HEADER].bg == 110); /* untouched roles keep the default */
}

static void t_theme_bad_files(void)
{
    struct theme t, before;
    char err[256];
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"bordr = red black\n", "line 1: unknown role \"bordr\""},
        {"\nborder red black\n", "line 2: expected"},
        {"border = red\n", "needs a foreground and a background"},
        {"border = red 256\n", "bad colour \"256\""},
        {"border = purple black\n", "bad colour \"purple\""},
        {"border = red black blink\n", "unknown attribute \"blink\""},
        {"a b = red black\n", "one role name"},
    };
    theme_default(&t);
    before = t;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK(theme_parse(bad[i].text, &t, err, sizeof err) == -1);
        CHECK(strstr(err, bad[i].want) != NULL);
        CHECK(memcmp(&t, &before, sizeof t) == 0); /* unchanged on failure */
    }
    /* a bad file falls back to the default and says why */
    {
        char dir[] = "/tmp/widgets-theme-XXXXXX", path[128];
        FILE *f;
        CHECK(mkdtemp(dir) != NULL);
        snprintf(path, sizeof path, "%s/broken.theme", dir);
        f = fopen(path, "w");
        fputs("normal = default default\nselect = nope black\n", f);
        fclose(f);
        CHECK(theme_load(dir, "broken", &t, err, sizeof err) == -1);
        CHECK(strstr(err, "theme \"broken\": line 2: bad colour \"nope\"") != NULL);
        CHECK(strcmp(t.name, "default") == 0 && memcmp(t.r, before.r, sizeof t.r) == 0);
        CHECK(theme_load(dir, "missing", &t, err, sizeof err) == -1 && strstr(err, "missing"));
        CHECK(theme_load(dir, "../etc", &t, err, sizeof err) == -1);
        unlink(path);
        rmdir(dir);
    }
}

static void t_theme_shipped(void)
{
    static const char *const shipped[] = {"default", "light", "monochrome", "high-contrast"};
    char list[16][64], err[256];
    struct theme t;
    attr_t out[ROLE_COUNT];
    int n = theme_list(SWARMDECK_SOURCE_THEMES, list, 16);
    CHECK(n >= 4);
    for (size_t i = 0; i < 4; i++) {
        CHECK(theme_load(SWARMDECK_SOURCE_THEMES, shipped[i], &t, err, sizeof err) == 0);
        if (strcmp(t.name, shipped[i]) != 0)
            fprintf(stderr, "%s\n", err);
    }
    /* no colour: attributes only, and the selection is still visible */
    headless(10, 40);
    theme_load(SWARMDECK_SOURCE_THEMES, "default", &t, err, sizeof err);
    theme_apply(&t, 0, out);
    CHECK((out[ROLE_SELECT] & A_COLOR) == 0 && (out[ROLE_SELECT] & (A_REVERSE | A_BOLD)) != 0);
    CHECK((out[ROLE_STATUSBAR] & A_REVERSE) != 0);
    endwin();
    delscreen(scr);
}

static void t_dialog_default(void)
{
    struct dialog d;
    dialog_init(&d, "Kill", "Kill 2 deployments: #1 #2?", "Cancel", "Kill");
    CHECK(d.cur == 0);
    CHECK((dialog_ops.key(&d, WK_ENTER) & WF_SUBMIT) && d.chosen == 0); /* Cancel by default */
    dialog_ops.key(&d, WK_TAB);
    CHECK((dialog_ops.key(&d, WK_ENTER) & WF_SUBMIT) && d.chosen == 1);
    CHECK((dialog_ops.key(&d, 'y') & WF_SUBMIT) && d.chosen == 1);
    CHECK(dialog_ops.key(&d, WK_ESC) & WF_CANCEL);
    CHECK(dialog_ops.key(&d, 'x') == WF_HANDLED); /* modal */
}

static const struct check_case tests[] = {
    {"table_sort", t_table_sort},
    {"table_filter", t_table_filter},
    {"table_selection_by_id", t_table_selection_by_id},
    {"table_targets", t_table_targets},
    {"table_draw", t_table_draw},
    {"table_layout", t_table_layout},
    {"table_click", t_table_click},
    {"table_sort_arrow", t_table_sort_arrow},
    {"logview_follow", t_logview_follow},
    {"logview_search", t_logview_search},
    {"logview_done", t_logview_done},
    {"keys_variants", t_keys_variants},
    {"logview_save", t_logview_save},
    {"sparkline_utf8", t_sparkline_utf8},
    {"sparkline_ascii", t_sparkline_ascii},
    {"form_validation", t_form_validation},
    {"form_choice", t_form_choice},
    {"theme_parser", t_theme_parser},
    {"theme_bad_files", t_theme_bad_files},
    {"theme_shipped", t_theme_shipped},
    {"dialog_default", t_dialog_default},
    {"sparkline_range", t_sparkline_range},
    {"sparkline_braille", t_sparkline_braille},
    {"textview", t_textview},
    {"browser", t_browser},
    {"statusline_fit", t_statusline_fit},
    {"statusline_draw", t_statusline_draw},
};

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "C.UTF-8");
    return check_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
