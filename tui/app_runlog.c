/*
 * app_runlog.c: `L`, a run's output merged (app_int.h): every deployment of the selected row's
 * run, or the tagged rows, one line per output line prefixed with its deployment's id, in the
 * order the lines were written (runlog.h, as `swarmdeck logs --run` prints them). The store is
 * read on the job worker (app_job_runlog), never on the UI thread. The view keeps the newest
 * 5000 lines and follows: while it is open and scrolled to the end, an output, progress or
 * state event of one of its deployments makes a read of only what was written since the last
 * (the runlog keeps where it stopped), at most 4 reads a second; `L` or `r` in it reads all
 * again. stderr lines are drawn in the warning colour.
 *
 * UI thread only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "app_int.h"
#include "evq.h"
#include "runlog.h"

#define RL_KEEP   5000                   /* lines the view keeps, the newest */
#define RL_GAP_NS (250u * 1000u * 1000u) /* between two following reads: <= 4 a second */

/* The view is at its end: it follows the new lines, as the output pane does. */
static int at_end(const struct app *a)
{
    return a->rl_tv.top + (size_t)(a->rl_tv.page > 0 ? a->rl_tv.page : 1) >= a->rl_tv.n;
}

void app_runlog_free(struct app *a)
{
    runlog_free(a->rl_log);
    a->rl_log = NULL;
    json_decref(a->rl_lines);
    a->rl_lines = NULL;
    a->rl_gen++; /* a read still on the worker: its result is dropped */
    a->rl_busy = a->rl_pending = 0;
}

/* What the overlay shows again on `r`: the run, or the tagged rows. */
static int reread(struct app *a)
{
    runlog_free(a->rl_log); /* from the first line */
    a->rl_log = NULL;
    a->rl_gen++;
    a->rl_pending = 0;
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

void app_runlog_show(struct app *a, json_t *lines, int truncated, struct runlog *rl, unsigned gen,
                     int fresh)
{
    size_t i, n;
    int follow = a->overlay != OV_RUNLOG || at_end(a);
    json_t *l;

    if (gen != a->rl_gen || (!fresh && a->overlay != OV_RUNLOG)) { /* overtaken, or closed */
        json_decref(lines);
        runlog_free(rl);
        return;
    }
    runlog_free(a->rl_log);
    a->rl_log = rl;
    if (fresh || a->rl_lines == NULL) {
        json_decref(a->rl_lines);
        a->rl_lines = lines;
        a->rl_trunc = truncated;
    } else {
        json_array_extend(a->rl_lines, lines);
        json_decref(lines);
        a->rl_trunc |= truncated;
    }
    if ((n = json_array_size(a->rl_lines)) > RL_KEEP) { /* the newest kept */
        json_t *keep = json_array();
        for (i = n - RL_KEEP; i < n; i++)
            json_array_append(keep, json_array_get(a->rl_lines, i));
        json_decref(a->rl_lines);
        a->rl_lines = keep;
        a->rl_trunc = 1;
    }
    textview_clear(&a->rl_tv);
    if (a->rl_trunc)
        textview_add(&a->rl_tv, ROLE_DIM, NULL, "(older lines not shown: `swarmdeck logs --run`)");
    json_array_foreach(a->rl_lines, i, l)
    {
        char label[24];
        snprintf(label, sizeof label, "[%lld]",
                 (long long)json_integer_value(json_array_get(l, 0)));
        textview_add(&a->rl_tv,
                     json_integer_value(json_array_get(l, 1)) == 2 ? ROLE_WARN : ROLE_NORMAL, label,
                     "%s", json_string_value(json_array_get(l, 2)));
    }
    if (json_array_size(a->rl_lines) == 0)
        textview_add(&a->rl_tv, ROLE_DIM, NULL, "(no output yet)");
    if (follow) /* follow the newest lines, as the output pane does */
        textview_scroll(&a->rl_tv, (long)a->rl_tv.n);
    else if (a->rl_tv.top >= a->rl_tv.n)
        a->rl_tv.top = a->rl_tv.n ? a->rl_tv.n - 1 : 0;
    a->overlay = OV_RUNLOG;
    a->dirty = D_ALL;
}

/* Whether deployment id is one the open view shows. */
static int shown(const struct app *a, int64_t id)
{
    if (a->rl_run > 0)
        return app_row_run(a, id) == a->rl_run;
    for (size_t i = 0; i < a->rl_nids; i++)
        if (a->rl_ids[i] == id)
            return 1;
    return 0;
}

void app_runlog_event(struct app *a, const struct ev *e)
{
    if (a->overlay != OV_RUNLOG || a->rl_pending ||
        (e->type != EV_OUTPUT && e->type != EV_PROGRESS && e->type != EV_STATE))
        return;
    if (at_end(a) && shown(a, e->traj_id))
        a->rl_pending = 1;
}

int app_runlog_tick(struct app *a, uint64_t now_ns)
{
    if (!a->rl_pending || a->overlay != OV_RUNLOG || a->rl_busy)
        return -1; /* a read on the worker: its result wakes the loop, and this runs again */
    if (a->rl_log == NULL) { /* no read to resume (the first failed): `r` reads again */
        a->rl_pending = 0;
        return -1;
    }
    if (now_ns - a->rl_last_ns < RL_GAP_NS)
        return (int)((RL_GAP_NS - (now_ns - a->rl_last_ns)) / 1000000u) + 1;
    a->rl_last_ns = now_ns;
    a->rl_pending = 0;
    app_job_runlog(a, a->rl_run, a->rl_ids, a->rl_nids);
    return -1;
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
        a->rl_pending = 1; /* following again: what was written meanwhile is read */
    else if (key == 'r' || key == 'L')
        reread(a);
    else {
        a->overlay = OV_NONE;
        app_runlog_free(a);
    }
    if (key == WK_END || key == 'G')
        textview_scroll(tv, (long)tv->n);
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
