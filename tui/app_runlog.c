/*
 * app_runlog.c: `L`, a run's output merged (app_int.h): every deployment of the selected row's
 * run, or the tagged rows, one line per output line prefixed with its deployment's id, in the
 * order the lines were written (runlog.h, as `swarmdeck logs --run` prints them). The store is
 * read on the job worker (app_job_runlog), never on the UI thread; the overlay shows a snapshot,
 * the newest 5000 lines, and `L` or `r` in it reads again (the run may still be writing).
 * stderr lines are drawn in the warning colour.
 *
 * UI thread only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "app_int.h"

/* What the overlay shows again on `r`: the run, or the tagged rows. */
static int reread(struct app *a)
{
    return app_job_runlog(a, a->rl_run, a->rl_ids, a->rl_nids);
}

int app_c_run_output(struct app *a, const char *x)
{
    int64_t ids[64];
    size_t n = a->tbl.ntags ? table_targets(&a->tbl, ids, 64) : 0;

    (void)x;
    if (a->store == NULL) {
        app_notify(a, 1, "run output: no store in this console");
        return -1;
    }
    /* The merged output is read from this machine's store: another host's
     * deployments write theirs to its own. */
    for (size_t i = 0; i < n; i++)
        if (REMOTE_HOST(ids[i]) != 0) {
            app_notify(a, 1,
                       "run output: #%lld is on %s; its output is in that host's store "
                       "(swarmdeck --host HOST logs --run RUN)",
                       (long long)REMOTE_LOCAL(ids[i]), app_host_name(a, REMOTE_HOST(ids[i])));
            return -1;
        }
    if (n == 0 && table_selected(&a->tbl) >= 0 && REMOTE_HOST(table_selected(&a->tbl)) != 0) {
        int h = REMOTE_HOST(table_selected(&a->tbl));
        app_notify(a, 1,
                   "run output: the selected row is on %s; its output is in that host's store "
                   "(swarmdeck --host HOST logs --run RUN)",
                   app_host_name(a, h));
        return -1;
    }
    if (n > 0) {
        a->rl_run = 0;
        memcpy(a->rl_ids, ids, n * sizeof ids[0]);
        a->rl_nids = n;
        snprintf(a->rl_title, sizeof a->rl_title, "Output of %zu tagged deployment(s)", n);
    } else {
        int64_t run = app_row_run(a, table_selected(&a->tbl));
        if (run <= 0) {
            app_notify(a, 1, "run output: the selected row belongs to no run (tag rows instead)");
            return -1;
        }
        a->rl_run = run;
        a->rl_nids = 0;
        snprintf(a->rl_title, sizeof a->rl_title, "Output of run #%lld", (long long)run);
    }
    return reread(a);
}

void app_runlog_show(struct app *a, json_t *lines, int truncated)
{
    size_t i,
        at_end = a->overlay != OV_RUNLOG || a->rl_tv.top + (size_t)a->rl_tv.page >= a->rl_tv.n;
    json_t *l;

    textview_clear(&a->rl_tv);
    if (truncated)
        textview_add(&a->rl_tv, ROLE_DIM, NULL, "(older lines not shown: `swarmdeck logs --run`)");
    json_array_foreach(lines, i, l)
    {
        char label[24];
        snprintf(label, sizeof label, "[%lld]",
                 (long long)json_integer_value(json_array_get(l, 0)));
        textview_add(&a->rl_tv,
                     json_integer_value(json_array_get(l, 1)) == 2 ? ROLE_WARN : ROLE_NORMAL, label,
                     "%s", json_string_value(json_array_get(l, 2)));
    }
    if (json_array_size(lines) == 0)
        textview_add(&a->rl_tv, ROLE_DIM, NULL, "(no output yet)");
    json_decref(lines);
    if (at_end) /* follow the newest lines, as the output pane does */
        textview_scroll(&a->rl_tv, (long)a->rl_tv.n);
    a->overlay = OV_RUNLOG;
    a->dirty = D_ALL;
}

void app_runlog_key(struct app *a, int key)
{
    struct textview *tv = &a->rl_tv;
    long page = tv->page > 1 ? tv->page - 1 : 1;

    if (key == WK_DOWN || key == 'j')
        textview_scroll(tv, 1);
    else if (key == WK_UP || key == 'k')
        textview_scroll(tv, -1);
    else if (key == WK_PGDN || key == ' ')
        textview_scroll(tv, page);
    else if (key == WK_PGUP)
        textview_scroll(tv, -page);
    else if (key == WK_HOME || key == 'g')
        tv->top = 0;
    else if (key == WK_END || key == 'G')
        textview_scroll(tv, (long)tv->n);
    else if (key == 'r' || key == 'L')
        reread(a);
    else
        a->overlay = OV_NONE;
    a->dirty = D_ALL;
}

void app_runlog_draw(struct app *a)
{
    struct draw_ctx dc = app_dctx(a, 1);
    int w = COLS - 2, h = LINES - 4, y0 = 2, x0 = 1;
    char title[160];

    if (h < 3 || w < 20)
        return;
    snprintf(title, sizeof title, "%s (r reads again, Esc closes)", a->rl_title);
    wattrset(stdscr, a->roles[ROLE_DIALOG]);
    for (int r = 0; r < h; r++)
        mvhline(y0 + r, x0, ' ', w);
    glyph_box(stdscr, a->g, y0, x0, h, w, a->roles[ROLE_BORDER], title, a->roles[ROLE_TITLE_FOCUS]);
    textview_ops.draw(&a->rl_tv, stdscr, y0 + 1, x0 + 2, h - 2, w - 4, &dc);
    wattrset(stdscr, A_NORMAL);
}
