/*
 * app_state.c: the console's data (app_int.h): the coordinator's live views
 * and the past trajectories merged into the Sandboxes table, the output
 * pane's source (a live ring, or a past run's output from the reader), the
 * readers' results, the engine's events, the isolation probe and the flash
 * messages. It also makes and frees struct app (app_new, app_free).
 *
 * Data: the table merges the coordinator's live views (coord_list, cheap
 * copies under its lock) with past trajectories the reader thread reads
 * (fetch.h) at start and after each batch of state changes. The header
 * reads provider health and the encryption mark with cheap calls at each
 * refresh; the chain state comes from the reader (fetch_chain), which also
 * verifies the whole chain at start, after deployments end and on
 * `verify`, rate-limited, and records the outcome unless --readonly.
 *
 * UI thread only.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app_int.h"
#include "prefs.h"
#include "traj.h"
#include "util.h"

/* --- small helpers ----------------------------------------------------------- */

void app_notify(struct app *a, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->flash, sizeof a->flash, fmt, ap);
    va_end(ap);
    a->flash_err = err;
    a->flash_until = sd_mono_ns() + 4000000000ull;
    a->dirty |= D_FOOTER;
}

static void fmt_dur(int64_t ms, char *b, size_t n)
{
    if (ms < 0)
        snprintf(b, n, "-");
    else if (ms < 1000)
        snprintf(b, n, "%lldms", (long long)ms);
    else if (ms < 60000)
        snprintf(b, n, "%.1fs", (double)ms / 1000);
    else if (ms < 3600000)
        snprintf(b, n, "%lldm%02lld", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
    else
        snprintf(b, n, "%lldh%02lld", (long long)(ms / 3600000), (long long)(ms / 60000 % 60));
}

static void fmt_mem(int64_t kb, char *b, size_t n)
{
    if (kb <= 0)
        snprintf(b, n, "-");
    else if (kb < 1024)
        snprintf(b, n, "%lldK", (long long)kb);
    else if (kb < 1024 * 1024)
        snprintf(b, n, "%.1fM", (double)kb / 1024);
    else
        snprintf(b, n, "%.1fG", (double)kb / 1048576);
}

struct spark *app_spark(struct app *a, int64_t id, int create)
{
    for (size_t i = 0; i < a->nsparks; i++)
        if (a->sparks[i].id == id)
            return &a->sparks[i];
    if (!create)
        return NULL;
    a->sparks = xrealloc(a->sparks, (a->nsparks + 1) * sizeof *a->sparks);
    memset(&a->sparks[a->nsparks], 0, sizeof *a->sparks);
    a->sparks[a->nsparks].id = id;
    return &a->sparks[a->nsparks++];
}

static int is_hidden(const struct app *a, int64_t id)
{
    for (size_t i = 0; i < a->nhidden; i++)
        if (a->hidden[i] == id)
            return 1;
    return 0;
}

const struct deploy_view *app_live_view(const struct app *a, int64_t id)
{
    for (size_t i = 0; i < a->nviews; i++)
        if (a->views[i].id == id)
            return &a->views[i];
    return NULL;
}

const struct console_traj *app_hist_row(const struct app *a, int64_t id)
{
    for (size_t i = 0; i < a->nhist; i++)
        if (a->hist[i].id == id)
            return &a->hist[i];
    return NULL;
}

/* --- the state's life ----------------------------------------------------- */

struct app *app_new(const struct tui_conf *conf)
{
    struct app *a = xcalloc(1, sizeof *a);

    a->conf = *conf;
    a->coord = conf->coord;
    a->remote = conf->coord ? NULL : conf->remote;
    a->store = conf->store;
    a->readonly = conf->readonly || (a->coord == NULL && a->remote == NULL);
    app_hosts_init(a, conf);
    if (a->remote != NULL) {
        /* The deploy dialog validates as the operator types, from the
         * strategies in the store: the daemon checks again on submit. */
        struct sd_err err = {0};
        remote_info(a->remote, &a->rinfo);
        if (catalog_load(&a->cat, conf->runner_path, conf->store, &err) != 0)
            app_notify(a, 1, "strategies: %s (no deploy dialog)", err.msg);
    }
    a->interval_ms = conf->interval_ms > 0 ? conf->interval_ms : 1000;
    a->out_id = -1;
    a->probe_fd = -1;
    a->sig_pipe[0] = a->sig_pipe[1] = -1;
    a->hist_stale = 1;
    if (a->host_col)
        table_init(&a->tbl, app_cols_hosts, APP_NCOLS + 1);
    else
        table_init(&a->tbl, app_cols, APP_NCOLS);
    table_sort_by(&a->tbl, C_ID, 1);
    logview_init(&a->lv);
    a->lv.hide_proto = !console_prefs.show_protocol;
    inputline_init(&a->in, ":", app_cmd_complete, a);
    textview_init(&a->learn, 12);
    textview_init(&a->sugg_tv, 0);
    textview_init(&a->cmp_tv, 12);
    textview_init(&a->rl_tv, 8);
    a->learn_w = -1;
    browser_init(&a->pat, pattern_cols, PC_COUNT, 12);
    table_sort_by(&a->pat.list, PC_LB, 1);
    snprintf(a->chain, sizeof a->chain, "...");
    return a;
}

void app_free(struct app *a)
{
    if (a == NULL)
        return;
    /* The threads first: the job worker may hold the coordinator, the
     * learning view its learner, the reader the store. */
    app_jobs_stop(a->jobs);
    learnsnap_stop(a->ls);
    fetch_stop(a->fetch);
    if (a->probe_fd >= 0) {
        close(a->probe_fd);
        waitpid(a->probe_pid, NULL, 0);
    }
    if (a->sig_pipe[0] >= 0) {
        close(a->sig_pipe[0]);
        close(a->sig_pipe[1]);
    }
    logring_free(a->own_ring);
    catalog_free(a->cat);
    json_decref(a->sugg);
    json_decref(a->snap);
    json_decref(a->detail);
    json_decref(a->failovers);
    json_decref(a->asked);
    json_decref(a->synth);
    json_decref(a->runmap);
    json_decref(a->last_launch);
    complete_free(&a->symc);
    free(a->runs);
    textview_free(&a->learn);
    textview_free(&a->sugg_tv);
    textview_free(&a->cmp_tv);
    textview_free(&a->rl_tv);
    json_decref(a->cmp[0]);
    json_decref(a->cmp[1]);
    browser_free(&a->pat);
    table_free(&a->tbl);
    free(a->views);
    free(a->hist);
    free(a->hidden);
    free(a->sparks);
    free(a);
}

/* --- data ---------------------------------------------------------------- */

/* --- the engine, in this process or the daemon's ---------------------------- */

int app_engine(const struct app *a)
{
    return a->coord != NULL || (a->remote != NULL && a->cat != NULL);
}

const struct catalog *app_catalog(const struct app *a)
{
    return a->coord ? coord_catalog(a->coord) : a->cat;
}

/* The engine's info: with several hosts, that of the host the deploy
 * dialog deploys to (zeros until it has been reached). */
static void engine_info(const struct app *a, struct remote_info *ri)
{
    if (a->multi && a->rem[a->deploy_host] != NULL)
        remote_info(a->rem[a->deploy_host], ri);
    else
        *ri = a->rinfo;
}

int app_learning(const struct app *a)
{
    struct remote_info ri;
    if (a->coord)
        return coord_learn(a->coord) != NULL;
    engine_info(a, &ri);
    return a->remote != NULL && ri.learning;
}

struct evq *app_events(const struct app *a)
{
    return a->coord ? coord_events(a->coord) : a->remote ? remote_events(a->remote) : NULL;
}

const char *app_default_provider(const struct app *a)
{
    return a->coord ? coord_default_provider(a->coord) : a->rinfo.default_provider;
}

int64_t app_default_timeout(const struct app *a)
{
    struct remote_info ri;
    struct coord_opts o;

    if (a->coord)
        return coord_options(a->coord)->timeout_ms;
    engine_info(a, &ri);
    if (ri.timeout_ms > 0)
        return ri.timeout_ms;
    coord_opts_default(&o); /* a host not reached yet: the engine's default */
    return o.timeout_ms;
}

json_t *app_suggest(struct app *a, const struct deploy_req *r, struct sd_err *err)
{
    json_t *body, *out = NULL;
    struct remote *rem;

    if (a->coord != NULL)
        return coord_suggest(a->coord, r, err);
    if (a->remote == NULL) {
        sd_err_set(err, SD_EUSAGE, "no engine");
        return NULL;
    }
    /* with several hosts, the learner of the host the dialog deploys to */
    rem = a->multi && a->rem[a->deploy_host] != NULL ? a->rem[a->deploy_host] : a->remote;
    /* The daemon's index is warm: one request on the local socket. */
    body = json_pack("{s:s, s:O, s:s?, s:s?}", "strategy", r->strategy, "params",
                     r->params ? r->params : json_object(), "symbol", r->symbol, "provider",
                     r->provider);
    if (body == NULL) {
        sd_err_set(err, SD_EUSAGE, "bad request");
        return NULL;
    }
    remote_call(rem, "POST", "/suggest", body, &out, err);
    json_decref(body);
    return out;
}

static void load_views(struct app *a)
{
    size_t n;
    if (a->coord == NULL && a->remote == NULL)
        return;
    if (a->remote != NULL) {
        app_hosts_load(a); /* every daemon's */
        return;
    }
    for (;;) {
        if (a->capviews == 0) {
            a->capviews = 256;
            a->views = xrealloc(a->views, a->capviews * sizeof *a->views);
        }
        n = coord_list(a->coord, a->views, a->capviews);
        if (n < a->capviews)
            break;
        a->capviews *= 2;
        a->views = xrealloc(a->views, a->capviews * sizeof *a->views);
    }
    a->nviews = n;
    coord_counts(a->coord, a->live_counts);
}

int app_state_role(int state)
{
    switch (state) {
    case TS_RUNNING:
        return ROLE_RUNNING;
    case TS_QUEUED:
        return ROLE_DIM;
    case TS_SUCCEEDED:
        return ROLE_OK;
    case TS_FAILED:
    case TS_TIMEOUT:
        return ROLE_ERROR;
    default:
        return ROLE_WARN;
    }
}

/* The table's column of C_* c: with several hosts HOST is second
 * (app_cols_hosts), so it shows on narrow terminals too. */
static int col(const struct app *a, int c)
{
    if (!a->host_col)
        return c;
    return c == C_ID ? 0 : c == C_HOST ? 1 : c + 1;
}

static void set(struct app *a, size_t r, int c, const char *text, double key)
{
    table_set(&a->tbl, r, col(a, c), text, key);
}

static void num_cell(struct app *a, size_t r, int c, double v, const char *fmt)
{
    char b[32];
    if (isnan(v))
        snprintf(b, sizeof b, "-");
    else
        snprintf(b, sizeof b, fmt, v);
    set(a, r, c, b, v);
}

const struct table_col app_cols[APP_NCOLS + 1] = {
    {"ID", 5, 1, 0, 1, 0},     {"STRATEGY", 8, 0, 1, 0, 24}, {"SYM", 5, 0, 0, 0, 0},
    {"PROV", 5, 0, 0, 0, 0},   {"STATE", 9, 0, 0, 0, 0},     {"ELAPSED", 7, 1, 0, 1, 0},
    {"CPU%", 4, 1, 0, 1, 0},   {"MEM", 5, 1, 0, 1, 0},       {"PROG", 4, 1, 0, 1, 0},
    {"RETURN", 7, 1, 0, 1, 0}, {"SHARPE", 6, 1, 0, 1, 0},    {"HOST", 9, 0, 1, 0, 24},
};
const struct table_col app_cols_hosts[APP_NCOLS + 1] = {
    {"ID", 5, 1, 0, 1, 0},      {"HOST", 9, 0, 1, 0, 24},  {"STRATEGY", 8, 0, 1, 0, 24},
    {"SYM", 5, 0, 0, 0, 0},     {"PROV", 5, 0, 0, 0, 0},   {"STATE", 9, 0, 0, 0, 0},
    {"ELAPSED", 7, 1, 0, 1, 0}, {"CPU%", 4, 1, 0, 1, 0},   {"MEM", 5, 1, 0, 1, 0},
    {"PROG", 4, 1, 0, 1, 0},    {"RETURN", 7, 1, 0, 1, 0}, {"SHARPE", 6, 1, 0, 1, 0},
};

static void rebuild_table(struct app *a)
{
    int64_t now = sd_now_ms();
    int hist_counts[TS_COUNT] = {0};

    table_clear(&a->tbl);
    if (!a->host_col && app_hosts_synced(a)) {
        /* synced rows arrived: the HOST column says whose (col()'s order,
         * the sort kept on its column) */
        int sc = a->tbl.sort_col;
        a->host_col = 1;
        a->tbl.cols = app_cols_hosts;
        a->tbl.ncols = APP_NCOLS + 1;
        a->tbl.sort_col = sc <= 0 ? sc : sc + 1;
    }
    for (size_t i = 0; i < a->nviews; i++) {
        const struct deploy_view *v = &a->views[i];
        int64_t start = v->started_at ? v->started_at : v->created_at;
        int64_t el = v->ended_at ? v->ended_at - start : (v->started_at ? now - start : -1);
        char b[64];
        size_t r;
        if (is_hidden(a, v->id) || !app_host_shown(a, app_host_name(a, REMOTE_HOST(v->id))))
            continue;
        r = table_add(&a->tbl, v->id, v->paused ? ROLE_WARN : app_state_role(v->state));
        /* the daemon's own number; with several hosts the HOST column says
         * whose (sorted by number, then host) */
        snprintf(b, sizeof b, "%lld", (long long)REMOTE_LOCAL(v->id));
        set(a, r, C_ID, b, (double)REMOTE_LOCAL(v->id) + (double)REMOTE_HOST(v->id) / 100);
        if (a->host_col)
            set(a, r, C_HOST, app_host_name(a, REMOTE_HOST(v->id)), NAN);
        set(a, r, C_STRAT, v->strategy, NAN);
        snprintf(b, sizeof b, "%s%s", v->symbol, v->synthetic ? "*" : "");
        set(a, r, C_SYM, b, NAN);
        app_prov_cell(a, v->id, v->provider[0] ? v->provider : "local", b, sizeof b);
        set(a, r, C_PROV, b, NAN);
        /* Waiting for E2B capacity is not running yet: the row says so
         * (the details say why and when the next try is). */
        set(a, r, C_STATE,
            v->waiting[0] && !traj_state_terminal(v->state) ? "waiting" : coord_view_state(v),
            v->state);
        fmt_dur(el, b, sizeof b);
        set(a, r, C_ELAPSED, b, (double)el);
        num_cell(a, r, C_CPU,
                 el > 0 && v->cpu_ms > 0 ? 100.0 * (double)v->cpu_ms / (double)el : NAN, "%.0f");
        fmt_mem(v->mem_kb, b, sizeof b);
        set(a, r, C_MEM, b, v->mem_kb > 0 ? (double)v->mem_kb : NAN);
        num_cell(a, r, C_PROG, v->progress * 100, "%.0f%%");
        num_cell(a, r, C_RET, v->total_return * 100, "%+.2f%%");
        num_cell(a, r, C_SHARPE, v->sharpe, "%.2f");
    }
    for (size_t i = 0; i < a->nhist; i++) {
        const struct console_traj *h = &a->hist[i];
        int st = traj_state_from_name(h->state);
        int64_t start = h->started_at ? h->started_at : h->created_at;
        char b[64];
        size_t r;
        /* the store's history is the local daemon's: shown with it */
        if (a->multi && a->rem[0] == NULL)
            break;
        if (st >= 0 && !app_live_view(a, h->id))
            hist_counts[st]++;
        if (app_live_view(a, h->id) || is_hidden(a, h->id) ||
            !app_host_shown(a, app_hist_host(a, h)))
            continue;
        r = table_add(&a->tbl, h->id, st >= 0 ? app_state_role(st) : ROLE_DIM);
        snprintf(b, sizeof b, "%lld", (long long)h->id);
        set(a, r, C_ID, b, (double)h->id);
        if (a->host_col)
            set(a, r, C_HOST, app_hist_host(a, h), NAN);
        set(a, r, C_STRAT, h->strategy, NAN);
        /* a run without a result (failed, cancelled) is marked from its data */
        snprintf(b, sizeof b, "%s%s", h->symbol,
                 h->synthetic || (isnan(h->ret) && app_symbol_synthetic(a, h->symbol)) ? "*" : "");
        set(a, r, C_SYM, b, NAN);
        app_prov_cell(a, h->id, h->provider, b, sizeof b);
        set(a, r, C_PROV, b, NAN);
        set(a, r, C_STATE, h->state, st);
        fmt_dur(h->ended_at ? h->ended_at - start : -1, b, sizeof b);
        set(a, r, C_ELAPSED, b, h->ended_at ? (double)(h->ended_at - start) : NAN);
        set(a, r, C_CPU, "-", NAN);
        set(a, r, C_MEM, "-", NAN);
        /* a past run's progress is not stored: only a success is known to be whole */
        num_cell(a, r, C_PROG, st == TS_SUCCEEDED ? 100 : NAN, "%.0f%%");
        num_cell(a, r, C_RET, h->ret * 100, "%+.2f%%");
        num_cell(a, r, C_SHARPE, h->sharpe, "%.2f");
    }
    table_commit(&a->tbl);
    /* Recomputed whole at every rebuild: the engine's deployments plus the
     * past rows it does not hold (a rebuild without a new engine list must
     * not add the history twice). */
    for (int s = 0; s < TS_COUNT; s++)
        a->counts[s] = a->coord || a->remote
                           ? a->live_counts[s] + (s >= TS_SUCCEEDED ? hist_counts[s] : 0)
                           : hist_counts[s];
}

/* The log ring as a logview source. */
static uint64_t lr_first(void *c)
{
    return logring_first_seq(c);
}
static uint64_t lr_last(void *c)
{
    return logring_last_seq(c);
}
static size_t lr_get(void *c, uint64_t from, struct lv_line *out, size_t max)
{
    struct logline tmp[512];
    size_t n = logring_get(c, from, tmp, max < 512 ? max : 512);
    for (size_t i = 0; i < n; i++) {
        out[i].seq = tmp[i].seq;
        out[i].stream = tmp[i].stream;
        out[i].time_ms = tmp[i].time_ms;
        out[i].text = tmp[i].text; /* ownership moves to out; freed in lr_release */
    }
    return n;
}
static void lr_release(void *c, struct lv_line *l, size_t n)
{
    (void)c;
    for (size_t i = 0; i < n; i++)
        free(l[i].text);
}

static void set_output_ring(struct app *a, struct logring *r);

/* Point the output pane at the selected deployment (if it changed). */
void app_sync_output(struct app *a)
{
    int64_t id = table_selected(&a->tbl);
    const struct deploy_view *v;
    struct logring *r = NULL;

    if (id == a->out_id)
        return;
    a->out_id = id;
    a->out_err[0] = '\0';
    json_decref(a->detail);
    a->detail = NULL;
    fetch_detail(a->fetch, REMOTE_HOST(id) == 0 ? id : 0); /* another host's: not here */
    logring_free(a->own_ring);
    a->own_ring = NULL;
    /* A live deployment's output comes from its ring; a finished one's from
     * the store, whole (the engine keeps only a finished ring's tail). */
    v = app_live_view(a, id);
    if (id > 0 && v != NULL && !traj_state_terminal(v->state))
        r = a->coord               ? coord_log(a->coord, id)
            : app_remote_of(a, id) ? remote_log(app_remote_of(a, id), id)
                                   : NULL;
    else if (id > 0 && REMOTE_HOST(id) > 0 && app_remote_of(a, id) != NULL)
        r = remote_log(app_remote_of(a, id), id); /* its store is on its host */
    if (id > 0 && r == NULL && REMOTE_HOST(id) > 0)
        snprintf(a->out_err, sizeof a->out_err,
                 "(its store is on %.60s: `swarmdeck --host URL logs %lld` prints it)",
                 app_host_name(a, REMOTE_HOST(id)), (long long)REMOTE_LOCAL(id));
    /* A past run: its output comes from the reader thread (output_loaded);
     * "loading output..." meanwhile. Any other load is abandoned. Another
     * host's deployments are not in this store. */
    a->out_loading = id > 0 && r == NULL && REMOTE_HOST(id) == 0 ? id : 0;
    fetch_output(a->fetch, a->out_loading);
    set_output_ring(a, r);
    a->dirty |= D_OUTPUT | D_DETAILS;
}

/* The output pane's source: ring r, or nothing. */
static void set_output_ring(struct app *a, struct logring *r)
{
    struct lv_source src;

    if (r == NULL) {
        logview_set_source(&a->lv, NULL);
    } else {
        src.ctx = r;
        src.first = lr_first;
        src.last = lr_last;
        src.get = lr_get;
        src.release = lr_release;
        logview_set_source(&a->lv, &src);
    }
}

/* A stored output from the reader: shown if it is still the selected one. */
static void output_loaded(struct app *a, struct fetch_result *res)
{
    if (res->id != a->out_id || a->out_loading != res->id)
        return; /* the operator has moved on */
    a->out_loading = 0;
    if (res->ring == NULL) {
        snprintf(a->out_err, sizeof a->out_err, "(%.190s)", res->error);
    } else {
        a->own_ring = res->ring;
        res->ring = NULL;
        set_output_ring(a, a->own_ring);
    }
    a->dirty |= D_OUTPUT;
}

/* A trajectory's stored details: kept if it is still the selected one. */
static void detail_loaded(struct app *a, struct fetch_result *res)
{
    if (res->id != a->out_id)
        return;
    if (res->detail != NULL || !res->error[0]) {
        json_decref(a->detail);
        a->detail = res->detail;
        res->detail = NULL;
    }
    a->dirty |= D_DETAILS;
}

/* The past trajectories from the reader. */
static void history_loaded(struct app *a, struct fetch_result *res)
{
    if (res->error[0]) {
        app_notify(a, 1, "%s", res->error);
        return;
    }
    free(a->hist);
    a->hist = res->rows;
    a->nhist = res->nrows;
    res->rows = NULL;
    if (res->failovers != NULL) {
        json_decref(a->failovers);
        a->failovers = res->failovers;
        res->failovers = NULL;
    }
    if (res->runmap != NULL) {
        json_decref(a->runmap);
        a->runmap = res->runmap;
        res->runmap = NULL;
    }
    a->hist_loaded = 1;
    fetch_detail(a->fetch, a->out_id); /* a run that just ended: its final row */
    rebuild_table(a);
    app_sync_output(a);
    a->dirty |= D_TABLE | D_HEADER | D_DETAILS | D_OUTPUT;
}

/* The chain state from the reader, perhaps after a verification: shown in
 * the header; the outcome is said when the operator asked for it or when
 * the chain has just been found broken. */
static void chain_loaded(struct app *a, struct fetch_result *res)
{
    const struct chain_report *r = &res->report;
    int was_broken = strncmp(a->chain, "BROKEN", 6) == 0;

    snprintf(a->chain, sizeof a->chain, "%s", res->chain);
    a->dirty |= D_HEADER;
    if (res->error[0]) {
        app_notify(a, 1, "%s", res->error);
        a->verify_asked = 0;
        return;
    }
    if (!res->verified)
        return;
    if (!r->ok && (a->verify_asked || !was_broken)) {
        if (r->bad_id > 0)
            app_notify(a, 1, "chain BROKEN at #%lld: %s", (long long)r->bad_id, r->why);
        else
            app_notify(a, 1, "chain BROKEN: %s", r->why);
    } else if (r->ok && a->verify_asked) {
        app_notify(a, 0, "chain ok: %lld record(s) verified in %.0f ms", (long long)r->sealed,
                   res->verify_ms);
    }
    a->verify_asked = 0;
}

/* Whatever the reader has finished (its fd was readable). */
void app_take_fetched(struct app *a)
{
    struct fetch_result *res;
    while ((res = fetch_take(a->fetch)) != NULL) {
        if (res->kind == FETCH_OUTPUT)
            output_loaded(a, res);
        else if (res->kind == FETCH_DETAIL)
            detail_loaded(a, res);
        else if (res->kind == FETCH_CHAIN)
            chain_loaded(a, res);
        else
            history_loaded(a, res);
        fetch_result_free(res);
    }
}

/* The header's health line: cheap calls (copies under the coordinator's
 * lock), never a store read, a verification or a network call; the chain
 * state is asked of the reader (chain_loaded). */
static void load_health(struct app *a)
{
    a->nprov = a->coord    ? coord_providers(a->coord, a->prov, 8)
               : a->remote ? remote_providers(a->remote, a->prov, 8)
                           : 0;
    a->encrypted = store_encrypted(a->store);
    fetch_chain(a->fetch, 0);
}

void app_refresh(struct app *a)
{
    if (a->hist_stale) {
        a->hist_stale = 0;
        fetch_history(a->fetch);
    }
    load_views(a);
    if (a->nruns)
        app_runs_check(a); /* a launch whose deployments have all ended: its run ends */
    load_health(a);
    rebuild_table(a);
    app_sync_output(a);
    a->dirty |= D_TABLE | D_HEADER | D_DETAILS;
}

size_t app_hide_finished(struct app *a)
{
    size_t hid = 0;
    for (size_t i = 0; i < a->tbl.nrows; i++) {
        int64_t id = a->tbl.rows[i].id;
        const struct deploy_view *v = app_live_view(a, id);
        const struct console_traj *h = app_hist_row(a, id);
        if ((v && traj_state_terminal(v->state)) ||
            (!v && h &&
             traj_state_terminal(traj_state_from_name(h->state) < 0
                                     ? TS_INTERRUPTED
                                     : traj_state_from_name(h->state)))) {
            a->hidden = xrealloc(a->hidden, (a->nhidden + 1) * sizeof *a->hidden);
            a->hidden[a->nhidden++] = id;
            hid++;
        }
    }
    return hid;
}

/* --- isolation probe (background) ------------------------------------------ */

void app_probe_start(struct app *a)
{
    int p[2];
    posix_spawn_file_actions_t fa;
    char *argv[] = {(char *)a->conf.helper_path, "--probe", "--json", NULL};

    snprintf(a->isolation, sizeof a->isolation, "probing");
    a->probe_fd = -1;
    if (a->conf.helper_path == NULL || pipe2(p, O_CLOEXEC) != 0) {
        snprintf(a->isolation, sizeof a->isolation, "unknown");
        return;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&a->probe_pid, argv[0], &fa, NULL, argv, environ) != 0) {
        close(p[0]);
        snprintf(a->isolation, sizeof a->isolation, "unknown");
    } else {
        a->probe_fd = p[0];
        fcntl(p[0], F_SETFL, O_NONBLOCK);
    }
    close(p[1]);
    posix_spawn_file_actions_destroy(&fa);
}

void app_probe_read(struct app *a)
{
    ssize_t n;
    while ((n = read(a->probe_fd, a->probe_buf + a->probe_len,
                     sizeof a->probe_buf - 1 - a->probe_len)) > 0)
        a->probe_len += (size_t)n;
    if (n == 0 || a->probe_len >= sizeof a->probe_buf - 1) {
        json_t *j;
        a->probe_buf[a->probe_len] = '\0';
        j = json_loads(a->probe_buf, 0, NULL);
        snprintf(a->isolation, sizeof a->isolation, "%s",
                 j && json_is_string(json_object_get(j, "level"))
                     ? json_string_value(json_object_get(j, "level"))
                     : "unknown");
        json_decref(j);
        close(a->probe_fd);
        a->probe_fd = -1;
        waitpid(a->probe_pid, NULL, 0);
        a->dirty |= D_HEADER;
    }
}

void app_take_snapshot(struct app *a)
{
    json_t *s = learnsnap_take(a->ls);
    if (s == NULL)
        return;
    json_decref(a->snap);
    a->snap = s;
    a->learn_w = -1;
    pane_patterns_fill(&a->pat.list, s);
    if (a->pat.open) {
        json_t *p = pane_pattern_find(s, a->pat.item);
        size_t top = a->pat.detail.top;
        if (p != NULL) {
            pane_pattern_detail(&a->pat.detail, p);
            a->pat.detail.top = top;
        }
    }
    a->dirty |= D_LEARNING | D_PATTERNS;
}

/* One notice of a daemon (remote.h): a run's end, the connection lost or
 * back. On the status line; a run's end also rings the bell or sends a
 * desktop notification (OSC 9) when the operator asked. */
static void notice_one(struct app *a, const char *text, int run)
{
    {
        app_notify(a, !run && strstr(text, "lost the daemon") != NULL, "%s", text);
        if (run && a->conf.bell)
            beep();
        if (run && a->conf.osc9) {
            char clean[200];
            size_t k = 0;
            for (const char *p = text; *p && k + 1 < sizeof clean; p++)
                if ((unsigned char)*p >= 0x20 && *p != 0x7f)
                    clean[k++] = *p;
            clean[k] = '\0';
            printf("\033]9;swarmdeck: %s\a", clean);
            fflush(stdout);
        }
        if (run) {
            a->hist_stale = 1; /* its rows are in the store now */
            learnsnap_request(a->ls);
        }
    }
}

/* What every daemon has to say (notice_one). */
static void take_notices(struct app *a)
{
    char text[200];
    int run;

    for (int h = 0; h < a->nrem; h++)
        while (a->rem[h] && remote_notice(a->rem[h], text, sizeof text, &run))
            notice_one(a, text, run);
}

int app_drain_events(struct app *a)
{
    struct ev evs[512];
    size_t n;
    int changed = 0;
    if (app_events(a) == NULL)
        return 0;
    while ((n = evq_drain(app_events(a), evs, 512)) > 0) {
        for (size_t i = 0; i < n; i++) {
            const struct ev *e = &evs[i];
            app_runlog_event(a, e); /* the open run output view follows (app_runlog.c) */
            switch (e->type) {
            case EV_RESYNC:
                changed |= D_ALL;
                app_hosts_learning_changed(a); /* listed again: its snapshot too */
                a->hist_stale = 1;
                learnsnap_request(a->ls);
                fetch_chain(a->fetch, 1);
                break;
            case EV_STATE:
                changed |= D_TABLE | D_HEADER | D_DETAILS;
                if (traj_state_terminal(e->state)) {
                    a->hist_stale = 1;
                    learnsnap_request(a->ls); /* the learner has observed it */
                    fetch_chain(a->fetch, 1); /* sealed into the chain: verify (coalesced) */
                }
                if (e->traj_id == a->out_id) {
                    changed |= D_OUTPUT;
                    fetch_detail(a->fetch, a->out_id); /* its exit, error, times */
                }
                break;
            case EV_OUTPUT:
                if (e->traj_id == a->out_id)
                    changed |= D_OUTPUT;
                break;
            case EV_PROGRESS: {
                struct spark *sp = app_spark(a, e->traj_id, 1);
                if (sp->n == SPARK_N) {
                    memmove(sp->v, sp->v + 1, sizeof sp->v[0] * (SPARK_N - 1));
                    sp->n--;
                }
                sp->v[sp->n++] = e->equity;
                /* progress lines are output too, and the engine throttles
                 * its output events with the same clock */
                changed |= D_TABLE | (e->traj_id == a->out_id ? D_DETAILS | D_OUTPUT : 0);
                break;
            }
            case EV_SAMPLE:
                changed |= D_TABLE;
                if (e->traj_id == 0 && app_hosts_learning_changed(a))
                    changed |= D_LEARNING; /* a host's snapshot (remote.h) */
                break;
            case EV_NOTICE:
                changed |= D_FOOTER | D_HEADER;
                take_notices(a);
                break;
            }
        }
        if (n < 512)
            break;
    }
    return changed;
}
