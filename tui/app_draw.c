/*
 * app_draw.c: layout and drawing (app_int.h). Handlers only set dirty
 * bits; app_draw_frame repaints the dirty panes into stdscr and calls
 * doupdate once, so curses sends only changed cells. Bulk output is pulled
 * from the selected deployment's log ring for the visible window only
 * (widgets/logview.h). The panes' text is built by panes.c.
 *
 * UI thread only.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app_int.h"
#include "hints.h"
#include "sparkline.h"
#include "statusline.h"
#include "traj.h"
#include "util.h"

const char *const app_pane_names[P_COUNT] = {"Sandboxes", "Output", "Details", "Learning",
                                             "Patterns"};

/* --- drawing ------------------------------------------------------------------ */

struct draw_ctx app_dctx(const struct app *a, int focused)
{
    struct draw_ctx d = {a->roles, a->g, focused};
    return d;
}

static void set_rect(struct app *a, int p, int y, int x, int h, int w)
{
    a->rect[p][0] = y, a->rect[p][1] = x, a->rect[p][2] = h, a->rect[p][3] = w;
}

/* Tabs below 120x32 (one pane at a time under a tab bar); above, a grid:
 * sandboxes over output on the left, details, learning and patterns stacked
 * on the right. Fullscreen gives the focused pane everything. */
void app_layout(struct app *a)
{
    int body = LINES - 2, top = 1;
    memset(a->rect, 0, sizeof a->rect);
    a->too_small = COLS < MIN_COLS || LINES < MIN_LINES;
    a->tabs = COLS < 120 || LINES < 32;
    a->learn_w = -1;
    if (a->too_small)
        return;
    if (a->fullscreen) {
        set_rect(a, a->focus, top, 0, body, COLS);
        return;
    }
    if (a->tabs) {
        set_rect(a, a->focus, top + 1, 0, body - 1, COLS);
        return;
    }
    {
        /* the right-hand column grows on wide screens; the details get up to 17 rows */
        int th = body / 2,
            rw = COLS >= 180     ? COLS / 3
                 : COLS / 4 < 40 ? 40
                                 : COLS / 4,
            lw = COLS - rw;
        int dh = body / 3 < 17 ? body / 3 : 17, lh = (body - dh) / 2;
        set_rect(a, P_TABLE, top, 0, th, lw);
        set_rect(a, P_OUTPUT, top + th, 0, body - th, lw);
        set_rect(a, P_DETAILS, top, lw, dh, rw);
        set_rect(a, P_LEARNING, top + dh, lw, lh, rw);
        set_rect(a, P_PATTERNS, top + dh + lh, lw, body - dh - lh, rw);
    }
}

/* The header: version and mode, provider health (local: isolation level;
 * every other instance: its breaker), counts, the encryption mark, the
 * fingerprint chain and the store path, shrunk to fit (statusline.h). */
static void draw_header(struct app *a)
{
    static const char spin[] = "|/-\\";
    const struct deploy_view *first = a->nviews ? &a->views[0] : NULL;
    struct draw_ctx dc = app_dctx(a, 1);
    struct header_out ho;
    struct header_in hi = {
        .version = a->conf.version ? a->conf.version : SWARMDECK_VERSION,
        .readonly = a->readonly,
        .paused = a->paused,
        .daemon = a->remote ? (int)a->rinfo.pid : 0,
        .daemon_lost = a->remote && !a->rinfo.connected,
        .spin = a->counts[TS_RUNNING] + a->counts[TS_QUEUED] && !a->conf.no_anim ? spin[a->tick & 3]
                                                                                 : 0,
        .isolation = first && first->isolation_level[0] ? first->isolation_level : a->isolation,
        .prov = a->prov,
        .nprov = a->nprov,
        .counts = a->counts,
        .held = app_paused_count(a),
        .encrypted = a->encrypted,
        .chain = a->chain,
        .store_path = store_path(a->store),
    };

    app_hosts_header(a, &hi);
    pane_header(&hi, &ho);
    wattrset(stdscr, a->roles[ROLE_STATUSBAR]);
    mvhline(0, 0, ' ', COLS);
    statusline_draw(stdscr, 0, 1, COLS - 1, ho.seg, ho.n, " | ", &dc);
    if (a->tabs && !a->fullscreen) {
        int x = 0;
        wattrset(stdscr, a->roles[ROLE_NORMAL]);
        mvhline(1, 0, ' ', COLS);
        for (int p = 0; p < P_COUNT; p++) {
            char name[32];
            snprintf(name, sizeof name, " %d %s ", p + 1, app_pane_names[p]);
            wattrset(stdscr, a->roles[p == a->focus ? ROLE_SELECT : ROLE_DIM]);
            x += glyph_put(stdscr, 1, x, name, COLS - x, 0);
            wattrset(stdscr, a->roles[ROLE_NORMAL]);
            x += glyph_put(stdscr, 1, x, " ", COLS - x, 0);
        }
    }
    wattrset(stdscr, A_NORMAL);
}

static void pane_box(struct app *a, int p, const char *title)
{
    int *r = a->rect[p];
    wattrset(stdscr, a->roles[ROLE_NORMAL]);
    for (int y = 1; y < r[2] - 1; y++)
        mvhline(r[0] + y, r[1] + 1, ' ', r[3] - 2);
    glyph_box(stdscr, a->g, r[0], r[1], r[2], r[3], a->roles[ROLE_BORDER], title,
              a->roles[p == a->focus ? ROLE_TITLE_FOCUS : ROLE_TITLE]);
}

static void draw_table(struct app *a)
{
    int *r = a->rect[P_TABLE];
    char title[256];
    struct draw_ctx dc = app_dctx(a, a->focus == P_TABLE);
    if (r[2] < 3)
        return;
    snprintf(title, sizeof title, "Sandboxes (%zu/%zu)%s%s%s%s%s%s", a->tbl.nview, a->tbl.nrows,
             a->host_filter >= 0 || a->origin_filter[0] ? " host: " : "",
             a->origin_filter[0]   ? a->origin_filter
             : a->host_filter >= 0 ? app_host_name(a, a->host_filter)
                                   : "",
             a->tbl.filter[0] ? " filter: " : "", a->tbl.filter, a->tbl.ntags ? " tagged: " : "",
             a->tbl.ntags ? "" : "");
    if (a->tbl.ntags) {
        size_t l = strlen(title);
        snprintf(title + l, sizeof title - l, "%zu", a->tbl.ntags);
    }
    pane_box(a, P_TABLE, title);
    if (a->tbl.nrows == 0 && r[2] > 3) {
        table_ops.draw(&a->tbl, stdscr, r[0] + 1, r[1] + 1, r[2] - 2, r[3] - 2, &dc);
        wattrset(stdscr, a->roles[ROLE_DIM]);
        glyph_put(stdscr, r[0] + 2, r[1] + 3,
                  !a->hist_loaded ? "loading history..."
                  : a->readonly   ? "no deployments in the store"
                                  : "no deployments yet: press d to deploy",
                  r[3] - 5, 0);
        return;
    }
    table_ops.draw(&a->tbl, stdscr, r[0] + 1, r[1] + 1, r[2] - 2, r[3] - 2, &dc);
}

static void draw_output(struct app *a)
{
    int *r = a->rect[P_OUTPUT];
    char title[256];
    struct draw_ctx dc = app_dctx(a, a->focus == P_OUTPUT);
    const struct deploy_view *v = app_live_view(a, a->out_id);
    const struct console_traj *h = v ? NULL : app_hist_row(a, a->out_id);
    /* a past row still running elsewhere (another process) may grow */
    int hs = h ? traj_state_from_name(h->state) : -1,
        done = v ? traj_state_terminal(v->state) : hs < 0 || traj_state_terminal(hs);
    a->lv.done = a->out_id > 0 && done;
    if (r[2] < 3)
        return;
    if (a->out_id > 0) {
        char idl[96];
        app_id_label(a, a->out_id, idl, sizeof idl);
        snprintf(title, sizeof title, "Output %s %s %s%s%s%s%s%s", idl,
                 v   ? v->strategy
                 : h ? h->strategy
                     : "",
                 v   ? v->symbol
                 : h ? h->symbol
                     : "",
                 /* finished: nothing more comes, so no [follow]; [paused]
                  * still says the view is scrolled away from the end */
                 done && a->lv.follow ? " [ended]"
                 : done               ? " [ended] [paused]"
                 : a->lv.follow       ? " [follow]"
                                      : " [paused]",
                 a->lv.wrap ? " [wrap]" : "", a->lv.timestamps ? " [time]" : "",
                 a->lv.hide_proto ? "" : " [@@]",
                 a->lv.filter[0]   ? " filter: "
                 : a->lv.search[0] ? " /"
                                   : "");
    } else
        snprintf(title, sizeof title, "Output");
    if (a->lv.search[0]) {
        size_t l = strlen(title);
        snprintf(title + l, sizeof title - l, "%s", a->lv.search);
    }
    pane_box(a, P_OUTPUT, title);
    a->lv.empty = a->out_id <= 0                ? "(select a deployment)"
                  : a->out_loading == a->out_id ? "loading output..."
                  : a->out_err[0]               ? a->out_err
                                                : "(no output yet)";
    logview_ops.draw(&a->lv, stdscr, r[0] + 1, r[1] + 1, r[2] - 2, r[3] - 2, &dc);
}

static void kv(struct app *a, int *y, int x, int w, const char *k, const char *v, int role)
{
    int *r = a->rect[P_DETAILS];
    if (*y >= r[0] + r[2] - 1)
        return;
    wattrset(stdscr, a->roles[ROLE_DIM]);
    glyph_put(stdscr, *y, x, k, 10, 1);
    wattrset(stdscr, a->roles[role]);
    glyph_put(stdscr, *y, x + 10, v, w - 10, 1);
    (*y)++;
}

/* v over as many rows as it needs (at most max), cut on spaces. */
static void kv_wrap(struct app *a, int *y, int x, int w, const char *k, const char *v, int role,
                    int max)
{
    int cw = w - 10 > 8 ? w - 10 : 8;
    for (int row = 0; *v && row < max; row++) {
        char part[512];
        size_t n = strlen(v), cut = n;
        if ((int)n > cw) {
            cut = (size_t)cw;
            while (cut > 0 && v[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = (size_t)cw;
        }
        if (row == max - 1 && cut < n && cut > 3) { /* the last row: say it is cut */
            snprintf(part, sizeof part, "%.*s...", (int)(cut - 3), v);
        } else {
            snprintf(part, sizeof part, "%.*s", (int)(cut < sizeof part ? cut : sizeof part - 1),
                     v);
        }
        kv(a, y, x, w, row ? "" : k, part, role);
        v += cut;
        while (*v == ' ')
            v++;
    }
}

/* ms since the epoch as local "YYYY-MM-DD hh:mm:ss", or "-". */
static void fmt_time(int64_t ms, char *b, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || localtime_r(&t, &tm) == NULL)
        snprintf(b, n, "-");
    else
        strftime(b, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static int64_t dint(const json_t *d, const char *k)
{
    return json_integer_value(json_object_get(d, k));
}
static const char *dstr(const json_t *d, const char *k)
{
    return json_string_value(json_object_get(d, k));
}

/* The parameters as "name=value name=value", sorted by name. */
static void fmt_params(const json_t *params, char *b, size_t n)
{
    const char *keys[64];
    size_t k = 0, len = 0;
    const char *key;
    json_t *v;
    b[0] = '\0';
    json_object_foreach((json_t *)params, key, v)
    {
        if (k < 64)
            keys[k++] = key;
    }
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    for (size_t i = 0; i < k && len < n; i++) {
        char *val =
            json_dumps(json_object_get(params, keys[i]), JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
        len +=
            (size_t)snprintf(b + len, n - len, "%s%s=%s", i ? " " : "", keys[i], val ? val : "?");
        free(val);
    }
}

/* Everything about the selected deployment: the live view (the engine's)
 * and what the store holds (app->detail: parameters, description, run,
 * exit code, error, times, failover, a past run's equity). */
static void draw_details(struct app *a)
{
    int *r = a->rect[P_DETAILS], y = r[0] + 1, x = r[1] + 2, w = r[3] - 4;
    const struct deploy_view *v = app_live_view(a, a->out_id);
    const struct console_traj *h = v ? NULL : app_hist_row(a, a->out_id);
    const json_t *d = a->detail && dint(a->detail, "id") == a->out_id ? a->detail : NULL;
    char b[1024], t1[32], t2[32];
    int st, exit_code = -1;
    const char *err = NULL, *fo = NULL;
    if (r[2] < 3)
        return;
    pane_box(a, P_DETAILS, "Details");
    if (!v && !h) {
        wattrset(stdscr, a->roles[ROLE_DIM]);
        glyph_put(stdscr, y, x, "(nothing selected)", w, 0);
        return;
    }
    {
        char idl[96];
        app_id_label(a, a->out_id, idl, sizeof idl);
        if (d && json_is_integer(json_object_get(d, "runId")))
            snprintf(b, sizeof b, "%s  run #%lld", idl, (long long)dint(d, "runId"));
        else
            snprintf(b, sizeof b, "%s", idl);
    }
    kv(a, &y, x, w, "id", b, ROLE_NORMAL);
    if (h && h->origin[0]) { /* merged here by the fleet or `sync` */
        snprintf(b, sizeof b, "%s (synced from there)", h->origin);
        kv(a, &y, x, w, "host", b, ROLE_NORMAL);
    }
    kv(a, &y, x, w, "strategy", v ? v->strategy : h->strategy, ROLE_NORMAL);
    snprintf(
        b, sizeof b, "%s%s", v ? v->symbol : h->symbol,
        (v ? v->synthetic : h->synthetic || (isnan(h->ret) && app_symbol_synthetic(a, h->symbol)))
            ? " (synthetic series)"
            : "");
    kv(a, &y, x, w, "symbol", b, ROLE_NORMAL);
    st = v ? v->state : traj_state_from_name(h->state);
    if (v && v->exit_code >= 0)
        exit_code = v->exit_code;
    else if (d && json_is_integer(json_object_get(d, "exitCode")))
        exit_code = (int)dint(d, "exitCode");
    if (exit_code >= 0)
        snprintf(b, sizeof b, "%s  exit %d", v ? coord_view_state(v) : h->state, exit_code);
    else
        snprintf(b, sizeof b, "%s", v ? coord_view_state(v) : h->state);
    kv(a, &y, x, w, "state", b, st >= 0 ? app_state_role(st) : ROLE_DIM);
    {
        const char *prov = v ? (v->provider[0] ? v->provider : "local") : h->provider;
        char key[32];
        const json_t *asked;
        snprintf(key, sizeof key, "%lld", (long long)a->out_id);
        asked = json_object_get(a->asked, key);
        fo = d ? dstr(d, "failover") : NULL;
        if (fo == NULL && a->failovers)
            fo = json_string_value(json_object_get(a->failovers, key));
        if (fo)
            snprintf(b, sizeof b, "%s  (failover: %s)", prov, fo);
        else if (json_is_string(asked) && app_failed_over(a, a->out_id, prov))
            snprintf(b, sizeof b, "%s  (asked for %s)", prov, json_string_value(asked));
        else
            snprintf(b, sizeof b, "%s", prov);
        kv_wrap(a, &y, x, w, "provider", b, fo ? ROLE_WARN : ROLE_NORMAL, 2);
    }
    {
        int64_t c = v ? v->created_at : h->created_at, s = v ? v->started_at : h->started_at,
                e = v ? v->ended_at : h->ended_at;
        fmt_time(c, b, sizeof b);
        kv(a, &y, x, w, "created", b, ROLE_NORMAL);
        fmt_time(s, t1, sizeof t1);
        fmt_time(e, t2, sizeof t2);
        snprintf(b, sizeof b, "%s .. %s", s ? t1 + 11 : "-", e ? t2 + 11 : "-");
        kv(a, &y, x, w, "ran", b, ROLE_NORMAL);
    }
    if (v) {
        kv(a, &y, x, w, "sandbox", v->sandbox_id[0] ? v->sandbox_id : "-", ROLE_NORMAL);
        kv(a, &y, x, w, "isolation", v->isolation_level[0] ? v->isolation_level : "-", ROLE_NORMAL);
        snprintf(b, sizeof b, "%.0f%%  equity %.2f", v->progress * 100, v->equity);
        kv(a, &y, x, w, "progress", b, ROLE_NORMAL);
        if (v->waiting[0])
            kv_wrap(a, &y, x, w, "waiting", v->waiting, ROLE_WARN, 4);
    }
    {
        double ret = v ? v->total_return : h->ret, sh = v ? v->sharpe : h->sharpe;
        if (!isnan(ret)) {
            if (isnan(sh))
                snprintf(b, sizeof b, "%+.2f%%  sharpe -", ret * 100);
            else
                snprintf(b, sizeof b, "%+.2f%%  sharpe %.2f", ret * 100, sh);
            kv(a, &y, x, w, "result", b, ret >= 0 ? ROLE_OK : ROLE_ERROR);
        }
    }
    err = v && v->error[0] ? v->error : d ? dstr(d, "error") : NULL;
    if (err && *err)
        kv_wrap(a, &y, x, w, "error", err, ROLE_ERROR, 3);
    {
        /* the equity: the live sparkline, else the stored run's */
        double vals[SPARK_N];
        int nv = 0;
        struct spark *sp = app_spark(a, a->out_id, 0);
        if (sp && sp->n > 1) {
            memcpy(vals, sp->v, sizeof vals[0] * (size_t)sp->n);
            nv = sp->n;
        } else if (d) {
            size_t i;
            json_t *e;
            json_array_foreach(json_object_get(d, "equity"), i, e)
            {
                if (nv < SPARK_N)
                    vals[nv++] = json_number_value(e);
            }
        }
        if (nv > 1 && y < r[0] + r[2] - 1) {
            char line[1024];
            sparkline_render(vals, (size_t)nv, w - 10, a->spark_g, line, sizeof line);
            wattrset(stdscr, a->roles[ROLE_DIM]);
            glyph_put(stdscr, y, x, "equity", 10, 1);
            wattrset(stdscr, a->roles[ROLE_SPARK]);
            glyph_put(stdscr, y, x + 10, line, w - 10, 0);
            y++;
        }
    }
    if (d) {
        fmt_params(json_object_get(d, "params"), b, sizeof b);
        kv_wrap(a, &y, x, w, "params", b[0] ? b : "(defaults)", ROLE_NORMAL, 4);
        if (dstr(d, "description") && *dstr(d, "description"))
            kv_wrap(a, &y, x, w, "desc", dstr(d, "description"), ROLE_NORMAL, 2);
    } else if (REMOTE_HOST(a->out_id) > 0) { /* another host's: its store is there */
        snprintf(b, sizeof b, "in %s's store", app_host_name(a, REMOTE_HOST(a->out_id)));
        kv(a, &y, x, w, "params", b, ROLE_DIM);
    } else {
        kv(a, &y, x, w, "params", "loading...", ROLE_DIM);
    }
    wattrset(stdscr, A_NORMAL);
}

static void draw_learning(struct app *a)
{
    int *r = a->rect[P_LEARNING];
    struct draw_ctx dc = app_dctx(a, a->focus == P_LEARNING);
    char title[96];
    if (r[2] < 3)
        return;
    if (a->learn_w != r[3] - 2) { /* lines are built for the pane's width */
        size_t top = a->learn.top;
        if (a->multi) /* each host's, named, then the local store's */
            app_hosts_learning_fill(a, r[3] - 2);
        else
            pane_learning_fill(&a->learn, a->snap, r[3] - 2, a->spark_g);
        a->learn.top = top;
        a->learn_w = r[3] - 2;
    }
    /* With several hosts the pane says so: a section per host, then the
     * local store's (with what the fleet synced into it, docs/fleet.md). */
    snprintf(title, sizeof title, "Learning%s%s", a->multi ? " (per host)" : "",
             a->snap && json_is_number(json_object_get(a->snap, "computeMs")) ? ""
                                                                              : " (computing)");
    pane_box(a, P_LEARNING, title);
    textview_ops.draw(&a->learn, stdscr, r[0] + 1, r[1] + 2, r[2] - 2, r[3] - 3, &dc);
}

static void draw_patterns(struct app *a)
{
    int *r = a->rect[P_PATTERNS];
    struct draw_ctx dc = app_dctx(a, a->focus == P_PATTERNS);
    char title[256];
    long long total = json_integer_value(json_object_get(a->snap, "patternsTotal"));
    if (r[2] < 3)
        return;
    if (a->pat.open)
        snprintf(title, sizeof title, "Pattern (Esc: back to the list, d deploys)");
    else
        snprintf(title, sizeof title, "Patterns (%zu/%lld)%s%s%s", a->pat.list.nview, total,
                 a->multi ? " local store" : "", a->pat.list.filter[0] ? " filter: " : "",
                 a->pat.list.filter);
    pane_box(a, P_PATTERNS, title);
    if (a->pat.list.nrows == 0 && !a->pat.open && r[2] > 3) {
        wattrset(stdscr, a->roles[ROLE_DIM]);
        glyph_put(stdscr, r[0] + 1, r[1] + 2,
                  a->snap == NULL ? "computing..."
                  : json_is_string(json_object_get(a->snap, "error"))
                      ? json_string_value(json_object_get(a->snap, "error"))
                      : "no patterns yet: finished deployments make them",
                  r[3] - 4, 0);
        return;
    }
    browser_ops.draw(&a->pat, stdscr, r[0] + 1, r[1] + (a->pat.open ? 2 : 1), r[2] - 2,
                     r[3] - (a->pat.open ? 3 : 2), &dc);
}

/* A new learning snapshot from the worker: rebuild what shows it, keeping
 * the operator's place (scroll, selection, an open detail). */
static void draw_footer(struct app *a)
{
    struct draw_ctx dc = app_dctx(a, 1);
    int y = LINES - 1;
    if (a->overlay == OV_INPUT) {
        inputline_ops.draw(&a->in, stdscr, y, 0, 1, COLS, &dc);
        if (a->in.cands[0]) {
            wattrset(stdscr, a->roles[ROLE_DIM]);
            glyph_put(stdscr, y - 1, 0, a->in.cands, COLS, 1);
        }
        return;
    }
    if (a->overlay == OV_DEPLOY || a->overlay == OV_CONFIRM || a->overlay == OV_HELP ||
        a->overlay == OV_COMPARE || a->overlay == OV_RUNLOG) {
        /* the open dialog's keys (its own, not the panes') */
        static const struct hint deploy[] = {{"Enter", "launch"},         {"Esc", "cancel"},
                                             {"C-a", "apply suggestion"}, {"Up/Down", "field"},
                                             {"Left/Right", "choose"},    {"C-u", "clear"}};
        static const struct hint conf[] = {
            {"Enter", "choose"}, {"y", "confirm"}, {"n/Esc", "cancel"}, {"Tab", "move"}};
        static const struct hint help[] = {{"PgDn/PgUp", "page"},
                                           {"Up/Down", "scroll"},
                                           {"Home/End", "first/last"},
                                           {"Esc", "close"}};
        const struct hint *h = a->overlay == OV_DEPLOY    ? deploy
                               : a->overlay == OV_CONFIRM ? conf
                                                          : help;
        int n = a->overlay == OV_DEPLOY ? 6 : 4;
        if (a->flash[0] && a->overlay != OV_HELP && a->overlay != OV_COMPARE &&
            a->overlay != OV_RUNLOG) { /* a message first, for its 4 s */
            wattrset(stdscr, a->roles[a->flash_err ? ROLE_ERROR : ROLE_FLASH]);
            mvhline(y, 0, ' ', COLS);
            glyph_put(stdscr, y, 0, a->flash, COLS, 1);
            wattrset(stdscr, A_NORMAL);
            return;
        }
        hints_draw(stdscr, y, 0, COLS, h, n, &dc);
        return;
    }
    if (a->flash[0] || a->busy[0]) {
        /* A message, else the job under way ("cleaning up..."). */
        wattrset(stdscr, a->roles[a->flash[0] && a->flash_err ? ROLE_ERROR : ROLE_FLASH]);
        mvhline(y, 0, ' ', COLS);
        glyph_put(stdscr, y, 0, a->flash[0] ? a->flash : a->busy, COLS, 1);
        wattrset(stdscr, A_NORMAL);
        return;
    }
    {
        struct hint h[APP_MAX_BINDINGS];
        char keys[APP_MAX_BINDINGS][16];
        int n = 0;
        for (size_t i = 0; i < app_nbindings; i++)
            if (app_bindings[i].hint && app_scope_ok(a, app_bindings[i].scope) &&
                !app_shadowed(a, i)) {
                wk_name(app_bindings[i].key, keys[n], sizeof keys[n]);
                h[n].key = keys[n];
                h[n].label = app_bindings[i].cmd;
                n++;
            }
        hints_draw(stdscr, y, 0, COLS, h, n, &dc);
    }
}

static void draw_help(struct app *a)
{
    int h = LINES - 4, w = COLS - 8 > 100 ? 100 : COLS - 8, y0 = 2, x0 = (COLS - w) / 2, row = 0;
    static const char *const scopes[S_COUNT] = {"",         "[sandboxes] ", "[output] ",
                                                "[lists] ", "[patterns] ",  "[deploy] "};
    char help_title[96];
    int rows = h - 2 > 0 ? h - 2 : 1, n = (int)app_nbindings, pages = (n + rows - 1) / rows;
    if (a->help_top > n - rows) /* the last page is a whole one */
        a->help_top = n - rows > 0 ? n - rows : 0;
    snprintf(help_title, sizeof help_title, "Keys (Esc closes, PgDn/PgUp: page %d of %d)",
             a->help_top + rows >= n ? pages : a->help_top / rows + 1, pages);
    wattrset(stdscr, a->roles[ROLE_DIALOG]);
    for (int r = 0; r < h; r++)
        mvhline(y0 + r, x0, ' ', w);
    glyph_box(stdscr, a->g, y0, x0, h, w, a->roles[ROLE_BORDER], help_title,
              a->roles[ROLE_TITLE_FOCUS]);
    for (size_t i = (size_t)a->help_top; i < app_nbindings && row < h - 2; i++, row++) {
        char k[16], line[256];
        wk_name(app_bindings[i].key, k, sizeof k);
        wattrset(stdscr, a->roles[ROLE_KEY]);
        glyph_put(stdscr, y0 + 1 + row, x0 + 2, k, 8, 1);
        snprintf(line, sizeof line, "%-14s %s%s", app_bindings[i].cmd,
                 scopes[app_bindings[i].scope], app_cmd_desc(app_bindings[i].cmd));
        wattrset(stdscr, a->roles[ROLE_DIALOG]);
        glyph_put(stdscr, y0 + 1 + row, x0 + 11, line, w - 13, 0);
    }
    wattrset(stdscr, A_NORMAL);
}

static void draw_overlay(struct app *a)
{
    struct draw_ctx dc = app_dctx(a, 1);
    if (a->overlay == OV_CONFIRM) {
        int h, w;
        dialog_size(&a->dlg, COLS, &h, &w);
        dialog_ops.draw(&a->dlg, stdscr, (LINES - h) / 2, (COLS - w) / 2, h, w, &dc);
    } else if (a->overlay == OV_HELP) {
        draw_help(a);
    } else if (a->overlay == OV_DEPLOY) {
        app_deploy_draw(a);
    } else if (a->overlay == OV_COMPARE) {
        app_compare_draw(a);
    } else if (a->overlay == OV_RUNLOG) {
        app_runlog_draw(a);
    }
}

void app_draw_frame(struct app *a)
{
    if (a->dirty == 0)
        return;
    if (a->too_small) {
        char b[96];
        wattrset(stdscr, a->roles[ROLE_NORMAL]);
        erase();
        snprintf(b, sizeof b, "terminal too small: %dx%d, need at least %dx%d (%dx%d for all)",
                 COLS, LINES, MIN_COLS, MIN_LINES, FULL_COLS, FULL_LINES);
        glyph_put(stdscr, LINES / 2, 0, b, COLS, 0);
        wnoutrefresh(stdscr);
        doupdate();
        a->dirty = 0;
        return;
    }
    if (a->overlay != OV_NONE && a->overlay != OV_INPUT)
        a->dirty = D_ALL; /* the overlay sits over every pane */
    if (a->dirty == D_ALL) {
        wattrset(stdscr, a->roles[ROLE_NORMAL]);
        erase();
    }
    if (a->dirty & D_HEADER)
        draw_header(a);
    if ((a->dirty & D_TABLE) && a->rect[P_TABLE][2])
        draw_table(a);
    if ((a->dirty & D_OUTPUT) && a->rect[P_OUTPUT][2])
        draw_output(a);
    if ((a->dirty & D_DETAILS) && a->rect[P_DETAILS][2])
        draw_details(a);
    if ((a->dirty & D_LEARNING) && a->rect[P_LEARNING][2])
        draw_learning(a);
    if ((a->dirty & D_PATTERNS) && a->rect[P_PATTERNS][2])
        draw_patterns(a);
    if (a->dirty & D_FOOTER)
        draw_footer(a);
    draw_overlay(a);
    wnoutrefresh(stdscr);
    doupdate();
    a->dirty = 0;
    a->frames++;
}
