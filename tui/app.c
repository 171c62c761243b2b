/*
 * app.c: the console: state, main loop, layout, panes, dialogs and the
 * key-binding and command tables (tui.h).
 *
 * DESIGN
 * Everything here runs on the UI thread, the only thread that calls curses.
 * The loop poll()s stdin, the coordinator's event fd, a signal self-pipe
 * (SIGWINCH, SIGTERM, SIGHUP, SIGINT) and the isolation probe's pipe; it has
 * a timeout only while deployments run or a flash message is showing, so an
 * idle console sleeps in poll (0 % CPU, 0 bytes to the terminal).
 *
 * Input: a key is looked up in the binding table (key, scope, command,
 * description); the command runs through ONE dispatcher, cmd_run, which is
 * also what the `:` palette calls and the only place that enforces
 * --readonly (commands flagged CMD_MUTATES are refused). Help, the footer
 * hints and --dump-keys are generated from the binding table.
 *
 * Output: handlers only set dirty bits; draw_frame repaints the dirty panes
 * into stdscr and calls doupdate once, so curses sends only changed cells.
 * Bulk output is pulled from the selected deployment's log ring for the
 * visible window only (widgets/logview.h).
 *
 * Data: the sandboxes table merges the coordinator's live views
 * (coord_list) with past trajectories read from the store through a
 * read-only connection at start and after each batch of state changes.
 * The Learning and Patterns panes show snapshots computed by the learnsnap
 * worker thread (learnsnap.h), requested when a deployment ends and taken
 * when its pipe is readable; their content is built by panes.c. The header
 * (panes.c: pane_header) reads provider health and the encryption mark with
 * cheap calls at each refresh; the chain state comes from the reader thread
 * (fetch_chain), which also verifies the whole chain at start, after
 * deployments end and on `verify`, rate-limited (fetch.h), and records the
 * outcome unless --readonly. The header shows the last state it got.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>
#include <jansson.h>

#include "browser.h"
#include "dialog.h"
#include "fetch.h"
#include "form.h"
#include "hints.h"
#include "inputline.h"
#include "learnsnap.h"
#include "logview.h"
#include "panes.h"
#include "recover.h"
#include "sparkline.h"
#include "statusline.h"
#include "table.h"
#include "textview.h"
#include "theme.h"
#include "traj.h"
#include "tui.h"
#include "util.h"

extern char **environ;

enum pane { P_TABLE, P_OUTPUT, P_DETAILS, P_LEARNING, P_PATTERNS, P_COUNT };
enum dirty {
    D_HEADER = 1,
    D_TABLE = 2,
    D_OUTPUT = 4,
    D_DETAILS = 8,
    D_FOOTER = 16,
    D_LEARNING = 32,
    D_PATTERNS = 64,
    D_ALL = 127
};
enum overlay { OV_NONE, OV_DEPLOY, OV_CONFIRM, OV_HELP, OV_INPUT };
enum input_kind { IN_CMD, IN_FILTER, IN_SEARCH, IN_SAVE, IN_PFILTER };
enum confirm_kind { CF_KILL, CF_CLEANUP_ALL, CF_QUIT };
/* Where a binding applies: any pane, the sandboxes table, the output, a
 * list (sandboxes or patterns), the patterns browser. */
enum scope { S_ANY, S_TABLE, S_OUTPUT, S_LIST, S_PATTERNS };

static const char *const pane_names[P_COUNT] = {"Sandboxes", "Output", "Details", "Learning",
                                                "Patterns"};

#define SPARK_N   240
#define MIN_COLS  80
#define MIN_LINES 24

struct spark {
    int64_t id;
    double v[SPARK_N];
    int n;
};

struct app {
    struct tui_conf conf;
    json_t *sugg;       /* the learner's suggestion for the deploy form, or NULL */
    char sugg_err[200]; /* why there is none (invalid field, learning off) */
    struct coord *coord;
    struct store *store;
    struct fetch *fetch; /* reads the store off the UI thread (fetch.h) */
    int readonly;

    struct table tbl;
    struct logview lv;
    struct form form;
    struct dialog dlg;
    struct inputline in;
    int overlay, input_kind, confirm_kind, help_top;
    int64_t targets[1024];
    size_t ntargets;

    struct deploy_view *views;
    size_t nviews, capviews;
    struct console_traj *hist;
    size_t nhist;
    int hist_stale;  /* ask the reader for the history at the next refresh */
    int hist_loaded; /* the first history result has arrived */
    int64_t *hidden;
    size_t nhidden;

    int64_t out_id;           /* whose output the output pane shows */
    struct logring *own_ring; /* a past trajectory's output, loaded from the store */
    int64_t out_loading;      /* the output the reader is loading for the pane (0: none) */
    char out_err[200];        /* why out_id's stored output could not be read */

    struct spark *sparks;
    size_t nsparks;

    char flash[256];
    int flash_err;
    uint64_t flash_until; /* mono ns */

    int focus, tabs, fullscreen, too_small;
    int dirty, paused, quit, interval_ms, tick;
    long frames;
    int counts[TS_COUNT];

    const struct glyphs *g;
    const struct glyphs *spark_g; /* g, or glyphs_braille for braille sparklines */
    attr_t roles[ROLE_COUNT];
    struct theme theme;
    int colors;

    char isolation[32];
    int probe_fd;
    pid_t probe_pid;
    char probe_buf[4096];
    size_t probe_len;

    /* Learning and patterns: snapshots computed off the UI thread. */
    struct learnsnap *ls;
    json_t *snap;          /* the newest snapshot, or NULL before the first */
    struct textview learn; /* the Learning pane's lines */
    int learn_w;           /* width they were built for (-1: rebuild) */
    struct browser pat;    /* the Patterns pane */

    /* Header: provider health, encryption and the fingerprint chain. */
    struct provider_health prov[8];
    char dlg_prov[8][32]; /* the deploy dialog's provider choices (the form keeps pointers) */
    size_t nprov;
    int encrypted;
    char chain[FETCH_CHAIN_LEN]; /* the last chain state from the reader */
    int verify_asked;            /* `verify` ran: say the outcome when it comes */

    int sig_pipe[2];
    /* pane rectangles (y, x, h, w) */
    int rect[P_COUNT][4];
};

static struct app *g_app; /* for the signal handler's pipe only */

static void take_snapshot(struct app *a);

/* --- small helpers ----------------------------------------------------------- */

static void notify(struct app *a, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void notify(struct app *a, int err, const char *fmt, ...)
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

static struct spark *spark_for(struct app *a, int64_t id, int create)
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

static const struct deploy_view *live_view(const struct app *a, int64_t id)
{
    for (size_t i = 0; i < a->nviews; i++)
        if (a->views[i].id == id)
            return &a->views[i];
    return NULL;
}

static const struct console_traj *hist_row(const struct app *a, int64_t id)
{
    for (size_t i = 0; i < a->nhist; i++)
        if (a->hist[i].id == id)
            return &a->hist[i];
    return NULL;
}

/* --- data ---------------------------------------------------------------- */

static void load_views(struct app *a)
{
    size_t n;
    if (a->coord == NULL)
        return;
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
    coord_counts(a->coord, a->counts);
}

static int state_role(int state)
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

static void num_cell(struct table *t, size_t r, int c, double v, const char *fmt)
{
    char b[32];
    if (isnan(v))
        snprintf(b, sizeof b, "-");
    else
        snprintf(b, sizeof b, fmt, v);
    table_set(t, r, c, b, v);
}

enum { C_ID, C_STRAT, C_SYM, C_PROV, C_STATE, C_ELAPSED, C_CPU, C_MEM, C_PROG, C_RET, C_SHARPE };

static const struct table_col cols[] = {
    {"ID", 5, 1, 0, 1, 0},     {"STRATEGY", 8, 0, 1, 0, 24}, {"SYM", 5, 0, 0, 0, 0},
    {"PROV", 5, 0, 0, 0, 0},   {"STATE", 9, 0, 0, 0, 0},     {"ELAPSED", 7, 1, 0, 1, 0},
    {"CPU%", 4, 1, 0, 1, 0},   {"MEM", 5, 1, 0, 1, 0},       {"PROG", 4, 1, 0, 1, 0},
    {"RETURN", 7, 1, 0, 1, 0}, {"SHARPE", 6, 1, 0, 1, 0},
};

static void rebuild_table(struct app *a)
{
    int64_t now = sd_now_ms();
    int hist_counts[TS_COUNT] = {0};

    table_clear(&a->tbl);
    for (size_t i = 0; i < a->nviews; i++) {
        const struct deploy_view *v = &a->views[i];
        int64_t start = v->started_at ? v->started_at : v->created_at;
        int64_t el = v->ended_at ? v->ended_at - start : (v->started_at ? now - start : -1);
        char b[64];
        size_t r;
        if (is_hidden(a, v->id))
            continue;
        r = table_add(&a->tbl, v->id, state_role(v->state));
        snprintf(b, sizeof b, "%lld", (long long)v->id);
        table_set(&a->tbl, r, C_ID, b, (double)v->id);
        table_set(&a->tbl, r, C_STRAT, v->strategy, NAN);
        snprintf(b, sizeof b, "%s%s", v->symbol, v->synthetic ? "*" : "");
        table_set(&a->tbl, r, C_SYM, b, NAN);
        table_set(&a->tbl, r, C_PROV, v->provider[0] ? v->provider : "local", NAN);
        table_set(&a->tbl, r, C_STATE, traj_state_name(v->state), v->state);
        fmt_dur(el, b, sizeof b);
        table_set(&a->tbl, r, C_ELAPSED, b, (double)el);
        num_cell(&a->tbl, r, C_CPU,
                 el > 0 && v->cpu_ms > 0 ? 100.0 * (double)v->cpu_ms / (double)el : NAN, "%.0f");
        fmt_mem(v->mem_kb, b, sizeof b);
        table_set(&a->tbl, r, C_MEM, b, v->mem_kb > 0 ? (double)v->mem_kb : NAN);
        num_cell(&a->tbl, r, C_PROG, v->progress * 100, "%.0f%%");
        num_cell(&a->tbl, r, C_RET, v->total_return * 100, "%+.2f%%");
        num_cell(&a->tbl, r, C_SHARPE, v->sharpe, "%.2f");
    }
    for (size_t i = 0; i < a->nhist; i++) {
        const struct console_traj *h = &a->hist[i];
        int st = traj_state_from_name(h->state);
        int64_t start = h->started_at ? h->started_at : h->created_at;
        char b[64];
        size_t r;
        if (st >= 0 && !live_view(a, h->id))
            hist_counts[st]++;
        if (live_view(a, h->id) || is_hidden(a, h->id))
            continue;
        r = table_add(&a->tbl, h->id, st >= 0 ? state_role(st) : ROLE_DIM);
        snprintf(b, sizeof b, "%lld", (long long)h->id);
        table_set(&a->tbl, r, C_ID, b, (double)h->id);
        table_set(&a->tbl, r, C_STRAT, h->strategy, NAN);
        snprintf(b, sizeof b, "%s%s", h->symbol, h->synthetic ? "*" : "");
        table_set(&a->tbl, r, C_SYM, b, NAN);
        table_set(&a->tbl, r, C_PROV, h->provider, NAN);
        table_set(&a->tbl, r, C_STATE, h->state, st);
        fmt_dur(h->ended_at ? h->ended_at - start : -1, b, sizeof b);
        table_set(&a->tbl, r, C_ELAPSED, b, h->ended_at ? (double)(h->ended_at - start) : NAN);
        table_set(&a->tbl, r, C_CPU, "-", NAN);
        table_set(&a->tbl, r, C_MEM, "-", NAN);
        num_cell(&a->tbl, r, C_PROG, traj_state_terminal(st > 0 ? st : 0) ? 100 : NAN, "%.0f%%");
        num_cell(&a->tbl, r, C_RET, h->ret * 100, "%+.2f%%");
        num_cell(&a->tbl, r, C_SHARPE, h->sharpe, "%.2f");
    }
    table_commit(&a->tbl);
    if (a->coord == NULL)
        memcpy(a->counts, hist_counts, sizeof a->counts);
    else
        for (int s = TS_SUCCEEDED; s < TS_COUNT; s++)
            a->counts[s] += hist_counts[s];
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
static void sync_output(struct app *a)
{
    int64_t id = table_selected(&a->tbl);
    struct logring *r = NULL;

    if (id == a->out_id)
        return;
    a->out_id = id;
    a->out_err[0] = '\0';
    logring_free(a->own_ring);
    a->own_ring = NULL;
    if (id > 0 && a->coord != NULL)
        r = coord_log(a->coord, id);
    /* A past run: its output comes from the reader thread (output_loaded);
     * "loading output..." meanwhile. Any other load is abandoned. */
    a->out_loading = id > 0 && r == NULL ? id : 0;
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

/* The past trajectories from the reader. */
static void history_loaded(struct app *a, struct fetch_result *res)
{
    if (res->error[0]) {
        notify(a, 1, "%s", res->error);
        return;
    }
    free(a->hist);
    a->hist = res->rows;
    a->nhist = res->nrows;
    res->rows = NULL;
    a->hist_loaded = 1;
    rebuild_table(a);
    sync_output(a);
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
        notify(a, 1, "%s", res->error);
        a->verify_asked = 0;
        return;
    }
    if (!res->verified)
        return;
    if (!r->ok && (a->verify_asked || !was_broken)) {
        if (r->bad_id > 0)
            notify(a, 1, "chain BROKEN at #%lld: %s", (long long)r->bad_id, r->why);
        else
            notify(a, 1, "chain BROKEN: %s", r->why);
    } else if (r->ok && a->verify_asked) {
        notify(a, 0, "chain ok: %lld record(s) verified in %.0f ms", (long long)r->sealed,
               res->verify_ms);
    }
    a->verify_asked = 0;
}

/* Whatever the reader has finished (its fd was readable). */
static void take_fetched(struct app *a)
{
    struct fetch_result *res;
    while ((res = fetch_take(a->fetch)) != NULL) {
        if (res->kind == FETCH_OUTPUT)
            output_loaded(a, res);
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
    a->nprov = a->coord ? coord_providers(a->coord, a->prov, 8) : 0;
    a->encrypted = store_encrypted(a->store);
    fetch_chain(a->fetch, 0);
}

static void refresh_data(struct app *a)
{
    if (a->hist_stale) {
        a->hist_stale = 0;
        fetch_history(a->fetch);
    }
    load_views(a);
    load_health(a);
    rebuild_table(a);
    sync_output(a);
    a->dirty |= D_TABLE | D_HEADER | D_DETAILS;
}

/* --- isolation probe (background) ------------------------------------------ */

static void probe_start(struct app *a)
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

static void probe_read(struct app *a)
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

/* --- commands ---------------------------------------------------------------- */

enum cmd_flags { CMD_MUTATES = 1, CMD_ARG = 2 };

struct command {
    const char *name;
    const char *args;
    const char *desc;
    int flags;
    int (*exec)(struct app *a, const char *arg);
};

static const struct command commands[];
static int cmd_run(struct app *a, const char *line);

/* A key for pane p's widget (the focused one, or the one under the mouse
 * wheel). */
static int pane_key(struct app *a, int p, int key)
{
    int f = 0;
    switch (p) {
    case P_TABLE:
        f = table_ops.key(&a->tbl, key);
        if (f & WF_DIRTY)
            a->dirty |= D_TABLE | D_OUTPUT | D_DETAILS;
        sync_output(a);
        break;
    case P_LEARNING:
        if (textview_ops.key(&a->learn, key) & WF_DIRTY)
            a->dirty |= D_LEARNING;
        break;
    case P_PATTERNS:
        if (browser_ops.key(&a->pat, key) & WF_DIRTY)
            a->dirty |= D_PATTERNS;
        break;
    case P_OUTPUT:
        if (logview_ops.key(&a->lv, key) & WF_DIRTY)
            a->dirty |= D_OUTPUT;
        break;
    }
    return 0;
}

static int focused_key(struct app *a, int key)
{
    /* The details pane has no widget: its keys move the output. */
    return pane_key(a, a->focus == P_DETAILS ? P_OUTPUT : a->focus, key);
}

/* The table the list commands (sort, filter) act on: the focused one. */
static struct table *focused_table(struct app *a)
{
    return a->focus == P_PATTERNS ? &a->pat.list : &a->tbl;
}

static int c_down(struct app *a, const char *x)
{
    (void)x;
    return focused_key(a, WK_DOWN);
}
static int c_up(struct app *a, const char *x)
{
    (void)x;
    return focused_key(a, WK_UP);
}
static int c_pgdn(struct app *a, const char *x)
{
    (void)x;
    return focused_key(a, WK_PGDN);
}
static int c_pgup(struct app *a, const char *x)
{
    (void)x;
    return focused_key(a, WK_PGUP);
}
static int c_home(struct app *a, const char *x)
{
    (void)x;
    return focused_key(a, WK_HOME);
}
static int c_end(struct app *a, const char *x)
{
    (void)x;
    return focused_key(a, WK_END);
}

static int c_tag(struct app *a, const char *x)
{
    (void)x;
    if (a->focus == P_TABLE) {
        table_ops.key(&a->tbl, ' ');
        sync_output(a);
        a->dirty |= D_TABLE | D_OUTPUT | D_DETAILS;
    }
    return 0;
}

static int c_focus(struct app *a, const char *arg)
{
    int p = arg ? atoi(arg) - 1 : 0;
    if (p < 0 || p >= P_COUNT) {
        notify(a, 1, "focus: no pane %s", arg ? arg : "");
        return -1;
    }
    a->focus = p;
    a->dirty = D_ALL;
    return 0;
}

static int c_focus_next(struct app *a, const char *x)
{
    (void)x;
    a->focus = (a->focus + 1) % P_COUNT;
    a->dirty = D_ALL;
    return 0;
}

static int c_focus_prev(struct app *a, const char *x)
{
    (void)x;
    a->focus = (a->focus + P_COUNT - 1) % P_COUNT;
    a->dirty = D_ALL;
    return 0;
}

static int c_open(struct app *a, const char *x)
{
    (void)x;
    sync_output(a);
    a->focus = P_OUTPUT;
    a->dirty = D_ALL;
    return 0;
}

static void prompt(struct app *a, int kind, const char *p, const char *text)
{
    a->overlay = OV_INPUT;
    a->input_kind = kind;
    inputline_start(&a->in, p, text);
    a->dirty |= D_FOOTER;
}

static int c_prompt(struct app *a, const char *x)
{
    (void)x;
    prompt(a, IN_CMD, ":", "");
    return 0;
}

static int c_slash(struct app *a, const char *x)
{
    (void)x;
    if (a->focus == P_TABLE)
        prompt(a, IN_FILTER, "filter: ", a->tbl.filter);
    else if (a->focus == P_PATTERNS)
        prompt(a, IN_PFILTER, "filter patterns: ", a->pat.list.filter);
    else
        prompt(a, IN_SEARCH, "search: ", "");
    return 0;
}

static int c_filter(struct app *a, const char *arg)
{
    table_set_filter(&a->tbl, arg ? arg : "");
    sync_output(a);
    a->dirty |= D_TABLE | D_OUTPUT | D_DETAILS;
    return 0;
}

static int c_search(struct app *a, const char *arg)
{
    if (logview_search(&a->lv, arg, 1) != 0)
        notify(a, 1, "search: \"%s\" not found", arg ? arg : a->lv.search);
    a->dirty |= D_OUTPUT;
    return 0;
}

static int c_search_next(struct app *a, const char *x)
{
    (void)x;
    if (!a->lv.search[0])
        return c_slash(a, NULL);
    if (logview_search(&a->lv, NULL, 1) != 0)
        notify(a, 1, "search: no more matches for \"%s\"", a->lv.search);
    a->dirty |= D_OUTPUT;
    return 0;
}

static int c_search_prev(struct app *a, const char *x)
{
    (void)x;
    if (logview_search(&a->lv, NULL, -1) != 0)
        notify(a, 1, "search: no earlier match for \"%s\"", a->lv.search);
    a->dirty |= D_OUTPUT;
    return 0;
}

static int c_pfilter(struct app *a, const char *arg)
{
    table_set_filter(&a->pat.list, arg ? arg : "");
    a->dirty |= D_PATTERNS;
    return 0;
}

static int c_sort_next(struct app *a, const char *x)
{
    (void)x;
    table_cycle_sort(focused_table(a));
    a->dirty |= D_TABLE | D_PATTERNS;
    return 0;
}

static int c_sort_invert(struct app *a, const char *x)
{
    (void)x;
    table_invert_sort(focused_table(a));
    a->dirty |= D_TABLE | D_PATTERNS;
    return 0;
}

static int c_sort(struct app *a, const char *arg)
{
    struct table *t = focused_table(a);
    for (int c = 0; c < t->ncols; c++)
        if (arg && strcasecmp(t->cols[c].title, arg) == 0) {
            table_sort_by(t, c, t->cols[c].sort_desc);
            a->dirty |= D_TABLE | D_PATTERNS;
            return 0;
        }
    notify(a, 1, "sort: no column \"%s\"", arg ? arg : "");
    return -1;
}

static int c_follow(struct app *a, const char *x)
{
    (void)x;
    logview_set_follow(&a->lv, !a->lv.follow);
    a->dirty |= D_OUTPUT;
    return 0;
}

static int c_wrap(struct app *a, const char *x)
{
    (void)x;
    a->lv.wrap = !a->lv.wrap;
    a->dirty |= D_OUTPUT;
    return 0;
}

static int c_timestamps(struct app *a, const char *x)
{
    (void)x;
    a->lv.timestamps = !a->lv.timestamps;
    a->dirty |= D_OUTPUT;
    return 0;
}

/* The focused pane full screen (from the sandboxes table: its output). */
static int c_fullscreen(struct app *a, const char *x)
{
    (void)x;
    a->fullscreen = !a->fullscreen;
    if (a->fullscreen && a->focus == P_TABLE)
        a->focus = P_OUTPUT;
    a->dirty = D_ALL;
    return 0;
}

static int c_save(struct app *a, const char *arg)
{
    long n;
    if (arg == NULL || !*arg) {
        char def[64];
        snprintf(def, sizeof def, "swarmdeck-%lld.log", (long long)a->out_id);
        prompt(a, IN_SAVE, "save to: ", def);
        return 0;
    }
    if ((n = logview_save(&a->lv, arg)) < 0)
        notify(a, 1, "save: %s: %s", arg, strerror(errno));
    else
        notify(a, 0, "saved %ld lines to %s", n, arg);
    return 0;
}

static int c_export(struct app *a, const char *arg)
{
    int fd;
    FILE *f;
    if (arg == NULL || !*arg) {
        notify(a, 1, "export needs a FILE");
        return -1;
    }
    if ((fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
        (f = fdopen(fd, "w")) == NULL) {
        notify(a, 1, "export: %s: %s", arg, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    for (int c = 0; c < a->tbl.ncols; c++)
        fprintf(f, "%s%s", c ? "," : "", cols[c].title);
    fputc('\n', f);
    for (size_t i = 0; i < a->tbl.nview; i++) {
        const struct table_row *r = &a->tbl.rows[a->tbl.view[i]];
        for (int c = 0; c < a->tbl.ncols; c++)
            fprintf(f, "%s%s", c ? "," : "", r->text[c] ? r->text[c] : "");
        fputc('\n', f);
    }
    fclose(f);
    notify(a, 0, "exported %zu rows to %s", a->tbl.nview, arg);
    return 0;
}

static int c_pause(struct app *a, const char *x)
{
    (void)x;
    a->paused = !a->paused;
    if (!a->paused) {
        refresh_data(a);
        take_snapshot(a);
    }
    notify(a, 0, a->paused ? "updates paused (Z resumes)" : "updates resumed");
    a->dirty |= D_HEADER;
    return 0;
}

static int c_verify(struct app *a, const char *x)
{
    (void)x;
    if (a->fetch == NULL) {
        notify(a, 1, "verify: the store reader is not running");
        return -1;
    }
    a->verify_asked = 1;
    fetch_chain(a->fetch, 1);
    notify(a, 0, "verifying the fingerprint chain...");
    return 0;
}

static int c_redraw(struct app *a, const char *x)
{
    (void)x;
    clearok(curscr, TRUE);
    a->dirty = D_ALL;
    return 0;
}

static int c_interval(struct app *a, const char *arg)
{
    long v = arg ? strtol(arg, NULL, 10) : 0;
    if (v < 100 || v > 60000) {
        notify(a, 1, "interval must be 100..60000 ms");
        return -1;
    }
    a->interval_ms = (int)v;
    notify(a, 0, "refresh every %d ms", a->interval_ms);
    return 0;
}

static int c_faster(struct app *a, const char *x)
{
    char b[16];
    (void)x;
    snprintf(b, sizeof b, "%d", a->interval_ms > 200 ? a->interval_ms / 2 : 100);
    return c_interval(a, b);
}

static int c_slower(struct app *a, const char *x)
{
    char b[16];
    (void)x;
    snprintf(b, sizeof b, "%d", a->interval_ms < 30000 ? a->interval_ms * 2 : 60000);
    return c_interval(a, b);
}

static void apply_theme(struct app *a)
{
    theme_apply(&a->theme, a->colors, a->roles);
    a->dirty = D_ALL;
}

static int c_theme(struct app *a, const char *arg)
{
    char err[256];
    if (arg == NULL || !*arg) {
        notify(a, 1, "theme needs a NAME");
        return -1;
    }
    if (theme_load(theme_dir(), arg, &a->theme, err, sizeof err) != 0)
        notify(a, 1, "%s; using the default theme", err);
    else
        notify(a, 0, "theme %s%s", arg, a->colors ? "" : " (no colour: attributes only)");
    apply_theme(a);
    return 0;
}

static int c_theme_next(struct app *a, const char *x)
{
    char names[32][64];
    int n = theme_list(theme_dir(), names, 32), i;
    (void)x;
    if (n == 0) {
        notify(a, 1, "no themes in %s", theme_dir());
        return -1;
    }
    for (i = 0; i < n; i++)
        if (strcmp(names[i], a->theme.name) == 0)
            break;
    return c_theme(a, names[i >= n ? 0 : (i + 1) % n]);
}

/* Why braille cannot be drawn here, or NULL: it needs a UTF-8 locale, and
 * the Linux console's and a vt100's fonts have no braille. */
static const char *braille_refused(const struct app *a)
{
    const char *term = getenv("TERM");
    if (!a->g->utf8)
        return "braille sparklines need a UTF-8 locale";
    if (term && (strcmp(term, "linux") == 0 || strncmp(term, "vt", 2) == 0))
        return "braille sparklines: this terminal's font has no braille";
    return NULL;
}

static int c_sparklines(struct app *a, const char *arg)
{
    int braille = arg ? strcmp(arg, "braille") == 0 : !a->spark_g->braille;
    const char *why;
    if (arg && !braille && strcmp(arg, "block") != 0) {
        notify(a, 1, "sparklines: no style \"%s\" (block or braille)", arg);
        return -1;
    }
    if (braille && (why = braille_refused(a)) != NULL) {
        notify(a, 1, "%s", why);
        return -1;
    }
    a->spark_g = braille ? &glyphs_braille : a->g;
    a->learn_w = -1; /* the Learning pane's lines carry the sparklines */
    a->dirty |= D_LEARNING | D_DETAILS;
    notify(a, 0, "sparklines: %s", braille ? "braille (two values a cell)" : "block");
    return 0;
}

static int c_help(struct app *a, const char *x)
{
    (void)x;
    a->overlay = OV_HELP;
    a->help_top = 0;
    a->dirty = D_ALL;
    return 0;
}

static void confirm(struct app *a, int kind, const char *title, const char *msg, const char *ok)
{
    a->confirm_kind = kind;
    dialog_init(&a->dlg, title, msg, "Cancel", ok);
    a->overlay = OV_CONFIRM;
    a->dirty = D_ALL;
}

static int c_kill(struct app *a, const char *x)
{
    char msg[900];
    size_t len;
    (void)x;
    a->ntargets = 0;
    {
        int64_t ids[1024];
        size_t n = table_targets(&a->tbl, ids, 1024);
        for (size_t i = 0; i < n; i++) {
            const struct deploy_view *v = live_view(a, ids[i]);
            if (v && !traj_state_terminal(v->state))
                a->targets[a->ntargets++] = ids[i];
        }
    }
    if (a->ntargets == 0) {
        notify(a, 1, "kill: nothing selected is queued or running");
        return -1;
    }
    len = (size_t)snprintf(msg, sizeof msg, "Kill %zu deployment%s:", a->ntargets,
                           a->ntargets == 1 ? "" : "s");
    for (size_t i = 0; i < a->ntargets && len < sizeof msg - 40; i++) {
        const struct deploy_view *v = live_view(a, a->targets[i]);
        len += (size_t)snprintf(msg + len, sizeof msg - len, " #%lld %s/%s", (long long)v->id,
                                v->strategy, v->symbol);
    }
    snprintf(msg + len, sizeof msg - len, "?");
    confirm(a, CF_KILL, "Kill", msg, "Kill");
    return 0;
}

static int c_cleanup(struct app *a, const char *x)
{
    struct recover_report r = {0};
    struct sd_err err = {0};
    size_t hid = 0;
    (void)x;
    if (recover_orphans(a->store, a->conf.helper_path, 0, &r, &err) != 0) {
        notify(a, 1, "cleanup: %s", err.msg);
        return -1;
    }
    for (size_t i = 0; i < a->tbl.nrows; i++) {
        int64_t id = a->tbl.rows[i].id;
        const struct deploy_view *v = live_view(a, id);
        const struct console_traj *h = hist_row(a, id);
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
    a->hist_stale = 1;
    refresh_data(a);
    notify(a, 0, "cleanup: %zu finished row(s) hidden, %d orphan sandbox(es) reaped", hid,
           r.leases_reaped);
    return 0;
}

static int c_cleanup_all(struct app *a, const char *x)
{
    (void)x;
    confirm(a, CF_CLEANUP_ALL, "Cleanup everything",
            "Cancel every deployment of this console and reap EVERY sandbox and lease in the "
            "store, including other swarmdeck processes' (recover --all)?",
            "Clean up");
    return 0;
}

static int c_quit(struct app *a, const char *x)
{
    int live = a->counts[TS_RUNNING] + a->counts[TS_QUEUED];
    char msg[128];
    (void)x;
    if (live == 0) {
        a->quit = 1;
        return 0;
    }
    snprintf(msg, sizeof msg, "%d deployment(s) are queued or running. Quitting cancels them.",
             live);
    confirm(a, CF_QUIT, "Quit", msg, "Quit");
    return 0;
}

static void deploy_open(struct app *a);
static void deploy_suggest(struct app *a);

static int c_deploy(struct app *a, const char *x)
{
    (void)x;
    if (a->coord == NULL) {
        notify(a, 1, "deploy: no coordinator in this console");
        return -1;
    }
    deploy_open(a);
    return 0;
}

static void deploy_from_pattern(struct app *a, const json_t *p);

/* The pattern the patterns pane points at: the one whose detail is open,
 * else the selected row. */
static json_t *current_pattern(struct app *a)
{
    return pane_pattern_find(a->snap, a->pat.open ? a->pat.item : table_selected(&a->pat.list));
}

static int c_pattern_open(struct app *a, const char *x)
{
    json_t *p;
    (void)x;
    a->dirty |= D_PATTERNS;
    if (a->pat.open) {
        browser_close(&a->pat);
        return 0;
    }
    if ((p = current_pattern(a)) == NULL) {
        notify(a, 1, "patterns: nothing selected");
        return -1;
    }
    pane_pattern_detail(&a->pat.detail, p);
    browser_open(&a->pat, pane_pattern_id(p));
    return 0;
}

static int c_pattern_deploy(struct app *a, const char *x)
{
    json_t *p;
    (void)x;
    if (a->coord == NULL) {
        notify(a, 1, "deploy: no coordinator in this console");
        return -1;
    }
    if ((p = current_pattern(a)) == NULL) {
        notify(a, 1, "patterns: select a pattern to deploy from");
        return -1;
    }
    deploy_from_pattern(a, p);
    return 0;
}

static const struct command commands[] = {
    {"deploy", "", "open the deploy dialog", CMD_MUTATES, c_deploy},
    {"pattern-deploy", "", "open the deploy dialog filled from the selected pattern", CMD_MUTATES,
     c_pattern_deploy},
    {"pattern-open", "", "show or hide the selected pattern's detail and evidence", 0,
     c_pattern_open},
    {"kill", "", "kill the tagged (or selected) deployments, after confirmation", CMD_MUTATES,
     c_kill},
    {"cleanup", "", "reap orphans and hide finished rows", CMD_MUTATES, c_cleanup},
    {"cleanup-all", "", "cancel everything and reap every sandbox (confirmation)", CMD_MUTATES,
     c_cleanup_all},
    {"quit", "", "quit (asks when deployments are running)", 0, c_quit},
    {"help", "", "show the keys", 0, c_help},
    {"theme", "NAME", "switch to a theme (themes/NAME.theme)", CMD_ARG, c_theme},
    {"theme-next", "", "cycle through the themes", 0, c_theme_next},
    {"sparklines", "[STYLE]", "sparklines in block or braille (no STYLE: switch)", 0, c_sparklines},
    {"export", "FILE", "write the visible table as CSV (0600)", CMD_ARG, c_export},
    {"save", "[FILE]", "save the output pane's lines to FILE (0600)", 0, c_save},
    {"filter", "TEXT", "filter the table (text, or column:text)", 0, c_filter},
    {"filter-patterns", "TEXT", "filter the patterns (text, or column:text)", 0, c_pfilter},
    {"search", "TEXT", "search the output", CMD_ARG, c_search},
    {"search-next", "", "next search match", 0, c_search_next},
    {"search-prev", "", "previous search match", 0, c_search_prev},
    {"find", "", "filter the table or search the output (by pane)", 0, c_slash},
    {"sort", "COLUMN", "sort the focused list by COLUMN", CMD_ARG, c_sort},
    {"sort-next", "", "sort by the next column", 0, c_sort_next},
    {"sort-invert", "", "invert the sort order", 0, c_sort_invert},
    {"tag", "", "tag or untag the selected row", 0, c_tag},
    {"open", "", "show the selected deployment's output", 0, c_open},
    {"follow", "", "toggle following the newest output", 0, c_follow},
    {"wrap", "", "toggle wrapping long lines", 0, c_wrap},
    {"timestamps", "", "toggle line timestamps", 0, c_timestamps},
    {"fullscreen", "", "toggle the focused pane (sandboxes: the output) full screen", 0,
     c_fullscreen},
    {"pause", "", "pause or resume screen updates", 0, c_pause},
    {"redraw", "", "repaint the whole screen", 0, c_redraw},
    {"verify", "", "verify the fingerprint chain now (the header shows the outcome)", 0, c_verify},
    {"interval", "MS", "refresh interval while running", CMD_ARG, c_interval},
    {"faster", "", "halve the refresh interval", 0, c_faster},
    {"slower", "", "double the refresh interval", 0, c_slower},
    {"focus", "N", "focus pane N (1 sandboxes, 2 output, 3 details, 4 learning, 5 patterns)",
     CMD_ARG, c_focus},
    {"focus-next", "", "focus the next pane", 0, c_focus_next},
    {"focus-prev", "", "focus the previous pane", 0, c_focus_prev},
    {"prompt", "", "open the command palette", 0, c_prompt},
    {"down", "", "move down", 0, c_down},
    {"up", "", "move up", 0, c_up},
    {"page-down", "", "page down", 0, c_pgdn},
    {"page-up", "", "page up", 0, c_pgup},
    {"home", "", "go to the first row or line", 0, c_home},
    {"end", "", "go to the last row or line (output: follow)", 0, c_end},
    {NULL, NULL, NULL, 0, NULL},
};

struct binding {
    int key;
    int scope;
    const char *cmd; /* command line run through cmd_run */
    int hint;        /* shown in the footer */
};

static const struct binding bindings[] = {
    {'q', S_ANY, "quit", 1},
    {'d', S_PATTERNS, "pattern-deploy", 1},
    {'d', S_ANY, "deploy", 1},
    {'k', S_ANY, "kill", 1},
    {'c', S_ANY, "cleanup", 0},
    {'C', S_ANY, "cleanup-all", 0},
    {'?', S_ANY, "help", 1},
    {WK_FN(KEY_F(1)), S_ANY, "help", 0},
    {':', S_ANY, "prompt", 1},
    {'/', S_ANY, "find", 1},
    {'n', S_OUTPUT, "search-next", 0},
    {'N', S_OUTPUT, "search-prev", 0},
    {' ', S_TABLE, "tag", 0},
    {'s', S_LIST, "sort-next", 1},
    {'r', S_LIST, "sort-invert", 0},
    {WK_ENTER, S_TABLE, "open", 0},
    {WK_ENTER, S_PATTERNS, "pattern-open", 1},
    {'f', S_OUTPUT, "follow", 1},
    {'w', S_OUTPUT, "wrap", 1},
    {'T', S_OUTPUT, "timestamps", 0},
    {'S', S_OUTPUT, "save", 0},
    {'F', S_ANY, "fullscreen", 0},
    {'t', S_ANY, "theme-next", 0},
    {'b', S_ANY, "sparklines", 0},
    {WK_TAB, S_ANY, "focus-next", 1},
    {WK_BTAB, S_ANY, "focus-prev", 0},
    {'1', S_ANY, "focus 1", 0},
    {'2', S_ANY, "focus 2", 0},
    {'3', S_ANY, "focus 3", 0},
    {'4', S_ANY, "focus 4", 0},
    {'5', S_ANY, "focus 5", 0},
    {'+', S_ANY, "faster", 0},
    {'-', S_ANY, "slower", 0},
    {'Z', S_ANY, "pause", 0},
    {WK_CTRL('l'), S_ANY, "redraw", 0},
    {'V', S_ANY, "verify", 0},
    {WK_DOWN, S_ANY, "down", 0},
    {'j', S_ANY, "down", 0},
    {WK_UP, S_ANY, "up", 0},
    {WK_PGDN, S_ANY, "page-down", 0},
    {WK_PGUP, S_ANY, "page-up", 0},
    {WK_HOME, S_ANY, "home", 0},
    {'g', S_ANY, "home", 0},
    {WK_END, S_ANY, "end", 0},
    {'G', S_ANY, "end", 0},
};
#define NBINDINGS (sizeof bindings / sizeof bindings[0])

static const struct command *cmd_find(const char *name, size_t len)
{
    for (const struct command *c = commands; c->name; c++)
        if (strlen(c->name) == len && strncmp(c->name, name, len) == 0)
            return c;
    return NULL;
}

/* The one dispatcher: keys and the palette both come here, and this is the
 * only place --readonly is enforced. */
static int cmd_run(struct app *a, const char *line)
{
    const char *sp, *arg = NULL;
    const struct command *c;
    char argbuf[INPUT_MAX];

    while (*line == ' ')
        line++;
    if (!*line)
        return 0;
    sp = strchr(line, ' ');
    c = cmd_find(line, sp ? (size_t)(sp - line) : strlen(line));
    if (c == NULL) {
        notify(a, 1, "unknown command \"%.*s\" (Tab completes, ? lists keys)",
               (int)(sp ? sp - line : (long)strlen(line)), line);
        return -1;
    }
    if (sp) {
        while (*sp == ' ')
            sp++;
        snprintf(argbuf, sizeof argbuf, "%s", sp);
        for (size_t l = strlen(argbuf); l > 0 && argbuf[l - 1] == ' '; l--)
            argbuf[l - 1] = '\0';
        arg = argbuf[0] ? argbuf : NULL;
    }
    if ((c->flags & CMD_MUTATES) && a->readonly) {
        notify(a, 1, "read-only: \"%s\" refused (started with --readonly)", c->name);
        return -1;
    }
    if ((c->flags & CMD_ARG) && arg == NULL) {
        notify(a, 1, "%s needs %s", c->name, c->args);
        return -1;
    }
    return c->exec(a, arg);
}

static int complete_cmd(void *ctx, const char *line, const char **out, int max)
{
    static char names[32][64];
    int n = 0;
    const char *sp = strchr(line, ' ');
    (void)ctx;
    if (sp == NULL) {
        for (const struct command *c = commands; c->name && n < max; c++)
            if (strncmp(c->name, line, strlen(line)) == 0)
                out[n++] = c->name;
        return n;
    }
    if (strncmp(line, "theme ", 6) == 0) {
        int k = theme_list(theme_dir(), names, 32);
        for (int i = 0; i < k && n < max; i++)
            if (strncmp(names[i], sp + 1, strlen(sp + 1)) == 0)
                out[n++] = names[i];
    } else if (strncmp(line, "sort ", 5) == 0) {
        for (size_t i = 0; i < sizeof cols / sizeof cols[0] && n < max; i++)
            if (strncasecmp(cols[i].title, sp + 1, strlen(sp + 1)) == 0)
                out[n++] = cols[i].title;
    }
    return n;
}

static int scope_ok(const struct app *a, int scope)
{
    switch (scope) {
    case S_TABLE:
        return a->focus == P_TABLE;
    case S_OUTPUT:
        return a->focus == P_OUTPUT;
    case S_LIST:
        return a->focus == P_TABLE || (a->focus == P_PATTERNS && !a->pat.open);
    case S_PATTERNS:
        return a->focus == P_PATTERNS;
    default:
        return 1;
    }
}

/* Whether an earlier binding of the same key applies in this pane (the
 * dispatcher takes the first match, so this one would never run). */
static int shadowed(const struct app *a, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (bindings[k].key == bindings[i].key && scope_ok(a, bindings[k].scope))
            return 1;
    return 0;
}

static const char *cmd_desc(const char *line)
{
    const char *sp = strchr(line, ' ');
    const struct command *c = cmd_find(line, sp ? (size_t)(sp - line) : strlen(line));
    return c ? c->desc : "";
}

void tui_dump_keys(FILE *f)
{
    static const char *const scopes[] = {"any pane", "sandboxes", "output", "sandboxes, patterns",
                                         "patterns"};
    char k[32];
    fprintf(f, "| key | pane | command | what it does |\n|---|---|---|---|\n");
    for (size_t i = 0; i < NBINDINGS; i++)
        fprintf(f, "| `%s` | %s | `%s` | %s |\n", wk_name(bindings[i].key, k, sizeof k),
                scopes[bindings[i].scope], bindings[i].cmd, cmd_desc(bindings[i].cmd));
    fprintf(f, "\nCommands for the `:` palette (mutating ones are refused with --readonly):\n\n");
    fprintf(f, "| command | arguments | what it does |\n|---|---|---|\n");
    for (const struct command *c = commands; c->name; c++)
        fprintf(f, "| `%s` | %s | %s%s |\n", c->name, c->args[0] ? c->args : "", c->desc,
                c->flags & CMD_MUTATES ? " (mutating)" : "");
}

/* --- deploy dialog ------------------------------------------------------------ */

#define DF_STRATEGY 0
#define DF_SYMBOLS  1
#define DF_AGENTS   2
#define DF_PROVIDER 3
#define DF_PACE     4
#define DF_TIMEOUT  5
#define DF_DESC     6
#define DF_PARAMS   7

static void deploy_params(struct app *a)
{
    const struct catalog *cat = coord_catalog(a->coord);
    const struct strategy_def *d = catalog_at(cat, (size_t)a->form.f[DF_STRATEGY].choice);
    char syms[160] = "";

    form_truncate(&a->form, DF_PARAMS);
    for (size_t i = 0; d->symbols && i < json_array_size(d->symbols); i++) {
        size_t l = strlen(syms);
        snprintf(syms + l, sizeof syms - l, "%s%s", i ? "," : "",
                 json_string_value(json_array_get(d->symbols, i)));
    }
    form_set(&a->form, DF_SYMBOLS, syms[0] ? syms : "SPY");
    for (size_t i = 0; i < d->nparams; i++) {
        const struct param_schema *p = &d->params[i];
        char val[64], hint[128];
        if (p->type == PT_BOOLEAN) {
            form_add(&a->form, p->name, p->name, FT_BOOL, p->def != 0 ? "true" : "false", 0, 1,
                     p->description);
            continue;
        }
        snprintf(val, sizeof val, p->type == PT_INTEGER ? "%.0f" : "%g", p->def);
        snprintf(hint, sizeof hint, "[%g, %g] %.90s", p->min, p->max, p->description);
        form_add(&a->form, p->name, p->name, p->type == PT_INTEGER ? FT_INT : FT_NUM, val, p->min,
                 p->max, hint);
    }
}

static void deploy_open(struct app *a)
{
    const struct catalog *cat = coord_catalog(a->coord);
    const char *names[FORM_MAX_CHOICES];
    size_t n = catalog_count(cat);
    char tmo[32];

    form_init(&a->form, "Deploy");
    for (size_t i = 0; i < n && i < FORM_MAX_CHOICES; i++)
        names[i] = catalog_at(cat, i)->name;
    form_add_choice(&a->form, "strategy", "strategy", names, (int)n, 0);
    form_add(&a->form, "symbols", "symbol(s)", FT_TEXT, "SPY", 0, 0,
             "comma-separated; agents take them round robin");
    a->form.f[DF_SYMBOLS].required = 1;
    form_add(&a->form, "agents", "agents", FT_INT, "1", 1, 1000, "[1, 1000] deployments");
    {
        /* Every configured provider instance; the coordinator's default first
         * chosen. Its breaker state is in the header, and the suggestion says
         * when it is open. */
        struct provider_health h[8];
        const char *pn[8], *want = coord_default_provider(a->coord);
        size_t np = coord_providers(a->coord, h, 8);
        int sel = 0;
        for (size_t i = 0; i < np && i < 8; i++) {
            memcpy(a->dlg_prov[i], h[i].name, sizeof a->dlg_prov[i]); /* both char[32] */
            a->dlg_prov[i][sizeof a->dlg_prov[i] - 1] = '\0';
            pn[i] = a->dlg_prov[i];
            if (want && sel == 0 && (strcmp(h[i].name, want) == 0 || strcmp(h[i].kind, want) == 0))
                sel = (int)i;
        }
        form_add_choice(&a->form, "provider", "provider", pn, (int)np, sel);
    }
    form_add(&a->form, "pace", "pace", FT_INT, "0", 0, 100000,
             "[0, 100000] bars/s to replay (0 = full speed)");
    snprintf(tmo, sizeof tmo, "%g", (double)coord_options(a->coord)->timeout_ms / 1000);
    form_add(&a->form, "timeout", "timeout s", FT_NUM, tmo, 0.001, 86400, "[0.001, 86400] seconds");
    form_add(&a->form, "description", "description", FT_TEXT, "", 0, 0, "searchable later");
    deploy_params(a);
    a->overlay = OV_DEPLOY;
    deploy_suggest(a);
    a->dirty = D_ALL;
}

/* A JSON scalar as form text. */
static void json_text(const json_t *v, char *buf, size_t n)
{
    if (json_is_boolean(v))
        snprintf(buf, n, "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v))
        snprintf(buf, n, "%s", json_string_value(v));
    else
        snprintf(buf, n, "%.6g", json_number_value(v));
}

/* The deploy dialog filled from a learned pattern (panes.h: the parameters
 * and symbol of its best evidence run, else the middle of its region). The
 * operator reviews the form and the suggestion beside it before Enter. */
static void deploy_from_pattern(struct app *a, const json_t *p)
{
    const struct catalog *cat = coord_catalog(a->coord);
    json_t *d = pane_pattern_deploy(p), *v;
    const char *strat = json_string_value(json_object_get(d, "strategy")), *key;
    int found = -1, set = 0, bad = 0;
    char desc[160], buf[160];

    for (size_t i = 0; i < catalog_count(cat) && i < FORM_MAX_CHOICES; i++)
        if (strcmp(catalog_at(cat, i)->name, strat) == 0)
            found = (int)i;
    if (found < 0) {
        notify(a, 1, "pattern: strategy \"%s\" is not in this console's catalog", strat);
        json_decref(d);
        return;
    }
    deploy_open(a);
    a->form.f[DF_STRATEGY].choice = found;
    deploy_params(a);
    if (json_is_string(json_object_get(d, "symbol")))
        form_set(&a->form, DF_SYMBOLS, json_string_value(json_object_get(d, "symbol")));
    json_object_foreach(json_object_get(d, "params"), key, v)
    {
        int k = form_find(&a->form, key);
        if (k < DF_PARAMS)
            continue;
        json_text(v, buf, sizeof buf);
        if (form_set(&a->form, k, buf) == 0)
            set++;
        else
            bad++;
    }
    snprintf(desc, sizeof desc, "pattern: %.140s",
             json_string_value(json_object_get(p, "name"))
                 ? json_string_value(json_object_get(p, "name"))
                 : "?");
    form_set(&a->form, DF_DESC, desc);
    deploy_suggest(a);
    notify(a, bad ? 1 : 0, "deploy filled from the pattern (%s: %d value(s)%s)",
           json_string_value(json_object_get(d, "from")), set, bad ? ", some out of range" : "");
    json_decref(d);
    a->dirty = D_ALL;
}

/* The strategy parameters typed in the deploy form, as a JSON object. */
static json_t *form_params(const struct app *a)
{
    json_t *params = json_object();
    for (int i = DF_PARAMS; i < a->form.n; i++) {
        const struct form_field *f = &a->form.f[i];
        if (f->type == FT_BOOL)
            json_object_set_new(params, f->name, json_boolean(f->choice));
        else if (f->type == FT_INT)
            json_object_set_new(params, f->name, json_integer(strtoll(f->buf, NULL, 10)));
        else
            json_object_set_new(params, f->name, json_real(strtod(f->buf, NULL)));
    }
    return params;
}

static void deploy_submit(struct app *a)
{
    const struct catalog *cat = coord_catalog(a->coord);
    const struct strategy_def *d = catalog_at(cat, (size_t)a->form.f[DF_STRATEGY].choice);
    json_t *params = form_params(a);
    char syms[160], *symv[64], *save = NULL;
    int nsym = 0;
    long agents = strtol(form_value(&a->form, DF_AGENTS), NULL, 10);
    struct sd_err err = {0};
    int64_t first = 0, last = 0;

    snprintf(syms, sizeof syms, "%s", form_value(&a->form, DF_SYMBOLS));
    for (char *s = strtok_r(syms, ", ", &save); s && nsym < 64; s = strtok_r(NULL, ", ", &save))
        symv[nsym++] = s;
    if (nsym == 0) {
        snprintf(a->form.error, sizeof a->form.error, "give at least one symbol");
        goto out;
    }
    for (long i = 0; i < agents; i++) { /* check all before queueing any */
        struct deploy_req r = {.strategy = d->name, .params = params, .symbol = symv[i % nsym]};
        if (coord_check(a->coord, &r, &err) != 0) {
            snprintf(a->form.error, sizeof a->form.error, "%.250s", err.msg);
            goto out;
        }
    }
    for (long i = 0; i < agents; i++) {
        struct deploy_req r = {
            .strategy = d->name,
            .params = params,
            .symbol = symv[i % nsym],
            .description = form_value(&a->form, DF_DESC)[0] ? form_value(&a->form, DF_DESC) : NULL,
            .timeout_ms = (int64_t)(strtod(form_value(&a->form, DF_TIMEOUT), NULL) * 1000),
            .pace = (int)strtol(form_value(&a->form, DF_PACE), NULL, 10),
            .provider = form_value(&a->form, DF_PROVIDER),
        };
        int64_t id;
        if (coord_submit(a->coord, &r, &id, &err) != 0) {
            snprintf(a->form.error, sizeof a->form.error, "%.200s (%ld queued)", err.msg, i);
            goto out;
        }
        if (!first)
            first = id;
        last = id;
    }
    a->overlay = OV_NONE;
    refresh_data(a);
    table_select_id(&a->tbl, first);
    sync_output(a);
    if (first == last)
        notify(a, 0, "deployed #%lld %s", (long long)first, d->name);
    else
        notify(a, 0, "deployed #%lld..#%lld %s", (long long)first, (long long)last, d->name);
out:
    json_decref(params);
    a->dirty = D_ALL;
}

/* SUGGESTION PANEL: the learner's suggestion for what the form holds
 * (coord_suggest, under 1 ms), recomputed whenever a field changes and drawn
 * beside the form (below it on narrow terminals): expected success and
 * reward, confidence, the reasoning and the recommended changes. Ctrl-A
 * applies the recommended parameter values. Nothing is shown when learning
 * is off: no placeholder numbers. */
#define SUGG_W 46

static void deploy_suggest(struct app *a)
{
    const struct catalog *cat = coord_catalog(a->coord);
    const struct strategy_def *d = catalog_at(cat, (size_t)a->form.f[DF_STRATEGY].choice);
    char sym[32] = "SPY";
    struct sd_err err = {0};
    json_t *params;

    json_decref(a->sugg);
    a->sugg = NULL;
    a->sugg_err[0] = '\0';
    if (coord_learn(a->coord) == NULL || d == NULL)
        return;
    if (form_first_invalid(&a->form) >= 0) {
        snprintf(a->sugg_err, sizeof a->sugg_err, "fix the highlighted field for a suggestion");
        return;
    }
    sscanf(form_value(&a->form, DF_SYMBOLS), "%31[^, ]", sym);
    params = form_params(a);
    {
        struct deploy_req r = {.strategy = d->name,
                               .params = params,
                               .symbol = sym,
                               .provider = form_value(&a->form, DF_PROVIDER)};
        a->sugg = coord_suggest(a->coord, &r, &err);
    }
    if (a->sugg == NULL)
        snprintf(a->sugg_err, sizeof a->sugg_err, "%.190s", err.msg);
    json_decref(params);
}

/* Ctrl-A: set every recommended parameter value in the form. */
static int deploy_apply(struct app *a)
{
    size_t i;
    json_t *op;
    int n = 0;

    json_array_foreach(json_object_get(a->sugg, "recommendedOperations"), i, op)
    {
        const char *name = json_string_value(json_object_get(op, "name"));
        json_t *v = json_object_get(op, "value");
        char buf[64];
        const char *kind = json_string_value(json_object_get(op, "op"));
        if (name == NULL || kind == NULL || strcmp(kind, "set_param") != 0)
            continue;
        if (json_is_boolean(v))
            snprintf(buf, sizeof buf, "%s", json_is_true(v) ? "true" : "false");
        else if (json_is_integer(v))
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        else
            snprintf(buf, sizeof buf, "%.6g", json_number_value(v));
        for (int k = DF_PARAMS; k < a->form.n; k++)
            if (strcmp(a->form.f[k].name, name) == 0 && form_set(&a->form, k, buf) == 0)
                n++;
    }
    return n;
}

static int suggestion_width(const struct app *a)
{
    return coord_learn(a->coord) != NULL && COLS >= 120 ? SUGG_W : 0;
}

/* Draw the panel in the rectangle (y, x, h, w); returns rows used. */
static int draw_suggestion(const struct app *a, int y, int x, int h, int w)
{
    json_t *s = a->sugg, *v;
    char line[512];
    int row = 0;
    size_t i;

#define SLINE(role, ...)                                                                           \
    do {                                                                                           \
        if (row < h) {                                                                             \
            snprintf(line, sizeof line, __VA_ARGS__);                                              \
            wattrset(stdscr, a->roles[role]);                                                      \
            glyph_put(stdscr, y + row++, x, line, w, 1);                                           \
        }                                                                                          \
    } while (0)
    SLINE(ROLE_TITLE_FOCUS, "Suggestion (learned)");
    if (s == NULL) {
        SLINE(ROLE_DIM, "%s", a->sugg_err[0] ? a->sugg_err : "no suggestion");
        wattrset(stdscr, A_NORMAL);
        return row;
    }
    SLINE(ROLE_DIALOG, "expected success %.0f%%  reward %.3f",
          100 * json_number_value(json_object_get(s, "expectedSuccessRate")),
          json_number_value(json_object_get(s, "expectedReward")));
    SLINE(ROLE_DIALOG, "confidence %.2f from %lld similar run(s)",
          json_number_value(json_object_get(s, "confidence")),
          (long long)json_integer_value(json_object_get(json_object_get(s, "evidence"), "runs")));
    json_array_foreach(json_object_get(s, "reasoning"), i, v)
    {
        const char *t = json_string_value(v);
        /* Wrap each reasoning line over as many rows as it needs. */
        for (size_t off = 0, n = strlen(t); off < n && row < h - 2; off += (size_t)(w - 2))
            SLINE(ROLE_DIM, "%s%.*s", off ? "  " : "- ", w - 2, t + off);
    }
    json_array_foreach(json_object_get(s, "recommendedOperations"), i, v)
    {
        const char *op = json_string_value(json_object_get(v, "op"));
        char *val =
            json_dumps(json_object_get(v, "value"), JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
        if (op && strcmp(op, "set_param") == 0)
            SLINE(ROLE_OK, "recommend %s = %s", json_string_value(json_object_get(v, "name")),
                  val ? val : "?");
        else if (op && strcmp(op, "raise_timeout") == 0)
            SLINE(ROLE_WARN, "recommend timeout %lld s",
                  (long long)(json_integer_value(json_object_get(v, "timeoutMs")) + 999) / 1000);
        else if (op)
            SLINE(ROLE_WARN, "recommend %s %s", op,
                  json_is_string(json_object_get(v, "provider"))
                      ? json_string_value(json_object_get(v, "provider"))
                      : "");
        free(val);
    }
    if (json_array_size(json_object_get(s, "recommendedOperations")) > 0)
        SLINE(ROLE_KEY, "Ctrl-A applies the recommendation");
#undef SLINE
    wattrset(stdscr, A_NORMAL);
    return row;
}

/* --- drawing ------------------------------------------------------------------ */

static struct draw_ctx dctx(const struct app *a, int focused)
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
static void layout(struct app *a)
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
        int th = body / 2, rw = COLS / 4 < 40 ? 40 : COLS / 4, lw = COLS - rw;
        int dh = body / 3 < 13 ? body / 3 : 13, lh = (body - dh) / 2;
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
    struct draw_ctx dc = dctx(a, 1);
    struct header_out ho;
    struct header_in hi = {
        .version = a->conf.version ? a->conf.version : SWARMDECK_VERSION,
        .readonly = a->readonly,
        .paused = a->paused,
        .spin = a->counts[TS_RUNNING] + a->counts[TS_QUEUED] && !a->conf.no_anim ? spin[a->tick & 3]
                                                                                 : 0,
        .isolation = first && first->isolation_level[0] ? first->isolation_level : a->isolation,
        .prov = a->prov,
        .nprov = a->nprov,
        .counts = a->counts,
        .encrypted = a->encrypted,
        .chain = a->chain,
        .store_path = store_path(a->store),
    };

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
            snprintf(name, sizeof name, " %d %s ", p + 1, pane_names[p]);
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
    struct draw_ctx dc = dctx(a, a->focus == P_TABLE);
    if (r[2] < 3)
        return;
    snprintf(title, sizeof title, "Sandboxes (%zu/%zu)%s%s%s%s", a->tbl.nview, a->tbl.nrows,
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
    struct draw_ctx dc = dctx(a, a->focus == P_OUTPUT);
    const struct deploy_view *v = live_view(a, a->out_id);
    const struct console_traj *h = v ? NULL : hist_row(a, a->out_id);
    if (r[2] < 3)
        return;
    if (a->out_id > 0)
        snprintf(title, sizeof title, "Output #%lld %s %s%s%s%s%s", (long long)a->out_id,
                 v   ? v->strategy
                 : h ? h->strategy
                     : "",
                 v   ? v->symbol
                 : h ? h->symbol
                     : "",
                 a->lv.follow ? " [follow]" : " [paused]", a->lv.wrap ? " [wrap]" : "",
                 a->lv.timestamps ? " [time]" : "", a->lv.search[0] ? " /" : "");
    else
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

static void draw_details(struct app *a)
{
    int *r = a->rect[P_DETAILS], y = r[0] + 1, x = r[1] + 2, w = r[3] - 4;
    const struct deploy_view *v = live_view(a, a->out_id);
    const struct console_traj *h = v ? NULL : hist_row(a, a->out_id);
    char b[256];
    if (r[2] < 3)
        return;
    pane_box(a, P_DETAILS, "Details");
    if (!v && !h) {
        wattrset(stdscr, a->roles[ROLE_DIM]);
        glyph_put(stdscr, y, x, "(nothing selected)", w, 0);
        return;
    }
    snprintf(b, sizeof b, "#%lld", (long long)a->out_id);
    kv(a, &y, x, w, "id", b, ROLE_NORMAL);
    kv(a, &y, x, w, "strategy", v ? v->strategy : h->strategy, ROLE_NORMAL);
    snprintf(b, sizeof b, "%s%s", v ? v->symbol : h->symbol,
             (v ? v->synthetic : h->synthetic) ? " (synthetic series)" : "");
    kv(a, &y, x, w, "symbol", b, ROLE_NORMAL);
    {
        int st = v ? v->state : traj_state_from_name(h->state);
        kv(a, &y, x, w, "state", v ? traj_state_name(v->state) : h->state,
           st >= 0 ? state_role(st) : ROLE_DIM);
    }
    if (v) {
        kv(a, &y, x, w, "sandbox", v->sandbox_id[0] ? v->sandbox_id : "-", ROLE_NORMAL);
        kv(a, &y, x, w, "isolation", v->isolation_level[0] ? v->isolation_level : "-", ROLE_NORMAL);
        snprintf(b, sizeof b, "%.0f%%  equity %.2f", v->progress * 100, v->equity);
        kv(a, &y, x, w, "progress", b, ROLE_NORMAL);
        if (v->exit_code >= 0) {
            snprintf(b, sizeof b, "%d", v->exit_code);
            kv(a, &y, x, w, "exit", b, ROLE_NORMAL);
        }
        if (v->error[0])
            kv(a, &y, x, w, "error", v->error, ROLE_ERROR);
        {
            struct spark *sp = spark_for(a, v->id, 0);
            if (sp && sp->n > 1 && y < r[0] + r[2] - 1) {
                char line[1024];
                sparkline_render(sp->v, (size_t)sp->n, w - 10, a->spark_g, line, sizeof line);
                wattrset(stdscr, a->roles[ROLE_DIM]);
                glyph_put(stdscr, y, x, "equity", 10, 1);
                wattrset(stdscr, a->roles[ROLE_SPARK]);
                glyph_put(stdscr, y, x + 10, line, w - 10, 0);
                y++;
            }
        }
    }
    {
        double ret = v ? v->total_return : h->ret, sh = v ? v->sharpe : h->sharpe;
        if (!isnan(ret)) {
            snprintf(b, sizeof b, "%+.2f%%  sharpe %.2f", ret * 100, sh);
            kv(a, &y, x, w, "result", b, ret >= 0 ? ROLE_OK : ROLE_ERROR);
        }
    }
    wattrset(stdscr, A_NORMAL);
}

static void draw_learning(struct app *a)
{
    int *r = a->rect[P_LEARNING];
    struct draw_ctx dc = dctx(a, a->focus == P_LEARNING);
    char title[96];
    if (r[2] < 3)
        return;
    if (a->learn_w != r[3] - 2) { /* lines are built for the pane's width */
        size_t top = a->learn.top;
        pane_learning_fill(&a->learn, a->snap, r[3] - 2, a->spark_g);
        a->learn.top = top;
        a->learn_w = r[3] - 2;
    }
    snprintf(title, sizeof title, "Learning%s",
             a->snap && json_is_number(json_object_get(a->snap, "computeMs")) ? ""
                                                                              : " (computing)");
    pane_box(a, P_LEARNING, title);
    textview_ops.draw(&a->learn, stdscr, r[0] + 1, r[1] + 2, r[2] - 2, r[3] - 3, &dc);
}

static void draw_patterns(struct app *a)
{
    int *r = a->rect[P_PATTERNS];
    struct draw_ctx dc = dctx(a, a->focus == P_PATTERNS);
    char title[256];
    long long total = json_integer_value(json_object_get(a->snap, "patternsTotal"));
    if (r[2] < 3)
        return;
    if (a->pat.open)
        snprintf(title, sizeof title, "Pattern (Esc: back to the list, d deploys)");
    else
        snprintf(title, sizeof title, "Patterns (%zu/%lld)%s%s", a->pat.list.nview, total,
                 a->pat.list.filter[0] ? " filter: " : "", a->pat.list.filter);
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
static void take_snapshot(struct app *a)
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

static void draw_footer(struct app *a)
{
    struct draw_ctx dc = dctx(a, 1);
    int y = LINES - 1;
    if (a->overlay == OV_INPUT) {
        inputline_ops.draw(&a->in, stdscr, y, 0, 1, COLS, &dc);
        if (a->in.cands[0]) {
            wattrset(stdscr, a->roles[ROLE_DIM]);
            glyph_put(stdscr, y - 1, 0, a->in.cands, COLS, 1);
        }
        return;
    }
    if (a->flash[0]) {
        wattrset(stdscr, a->roles[a->flash_err ? ROLE_ERROR : ROLE_FLASH]);
        mvhline(y, 0, ' ', COLS);
        glyph_put(stdscr, y, 0, a->flash, COLS, 1);
        wattrset(stdscr, A_NORMAL);
        return;
    }
    {
        struct hint h[NBINDINGS];
        char keys[NBINDINGS][16];
        int n = 0;
        for (size_t i = 0; i < NBINDINGS; i++)
            if (bindings[i].hint && scope_ok(a, bindings[i].scope) && !shadowed(a, i)) {
                wk_name(bindings[i].key, keys[n], sizeof keys[n]);
                h[n].key = keys[n];
                h[n].label = bindings[i].cmd;
                n++;
            }
        hints_draw(stdscr, y, 0, COLS, h, n, &dc);
    }
}

static void draw_help(struct app *a)
{
    int h = LINES - 4, w = COLS - 8 > 100 ? 100 : COLS - 8, y0 = 2, x0 = (COLS - w) / 2, row = 0;
    static const char *const scopes[] = {"", "[sandboxes] ", "[output] ", "[lists] ",
                                         "[patterns] "};
    wattrset(stdscr, a->roles[ROLE_DIALOG]);
    for (int r = 0; r < h; r++)
        mvhline(y0 + r, x0, ' ', w);
    glyph_box(stdscr, a->g, y0, x0, h, w, a->roles[ROLE_BORDER], "Keys (Esc closes, arrows scroll)",
              a->roles[ROLE_TITLE_FOCUS]);
    if (a->help_top > (int)NBINDINGS - 1)
        a->help_top = (int)NBINDINGS - 1;
    for (size_t i = (size_t)a->help_top; i < NBINDINGS && row < h - 2; i++, row++) {
        char k[16], line[256];
        wk_name(bindings[i].key, k, sizeof k);
        wattrset(stdscr, a->roles[ROLE_KEY]);
        glyph_put(stdscr, y0 + 1 + row, x0 + 2, k, 8, 1);
        snprintf(line, sizeof line, "%-14s %s%s", bindings[i].cmd, scopes[bindings[i].scope],
                 cmd_desc(bindings[i].cmd));
        wattrset(stdscr, a->roles[ROLE_DIALOG]);
        glyph_put(stdscr, y0 + 1 + row, x0 + 11, line, w - 13, 0);
    }
    wattrset(stdscr, A_NORMAL);
}

static void draw_overlay(struct app *a)
{
    struct draw_ctx dc = dctx(a, 1);
    if (a->overlay == OV_CONFIRM) {
        int h, w;
        dialog_size(&a->dlg, COLS, &h, &w);
        dialog_ops.draw(&a->dlg, stdscr, (LINES - h) / 2, (COLS - w) / 2, h, w, &dc);
    } else if (a->overlay == OV_HELP) {
        draw_help(a);
    } else if (a->overlay == OV_DEPLOY) {
        int sw = suggestion_width(a);
        int w = COLS - 4 > 110 + sw ? 110 + sw : COLS - 4, h = a->form.n + 5;
        int y0, x0;
        if (h > LINES - 2)
            h = LINES - 2;
        y0 = (LINES - h) / 2, x0 = (COLS - w) / 2;
        wattrset(stdscr, a->roles[ROLE_DIALOG]);
        for (int r = 0; r < h; r++)
            mvhline(y0 + r, x0, ' ', w);
        glyph_box(stdscr, a->g, y0, x0, h, w, a->roles[ROLE_BORDER],
                  "Deploy (Enter launches, Esc cancels, Left/Right choose)",
                  a->roles[ROLE_TITLE_FOCUS]);
        form_ops.draw(&a->form, stdscr, y0 + 1, x0 + 2, h - 2, w - 4 - sw, &dc);
        if (sw > 0) {
            draw_suggestion(a, y0 + 1, x0 + w - sw - 1, h - 2, sw - 1);
        } else if (coord_learn(a->coord) != NULL && y0 + h < LINES) {
            /* Narrow terminal: the headline under the dialog. */
            char b[160];
            if (a->sugg)
                snprintf(b, sizeof b, " suggestion: expected success %.0f%%, confidence %.2f%s ",
                         100 * json_number_value(json_object_get(a->sugg, "expectedSuccessRate")),
                         json_number_value(json_object_get(a->sugg, "confidence")),
                         json_array_size(json_object_get(a->sugg, "recommendedOperations"))
                             ? " (Ctrl-A applies)"
                             : "");
            else
                snprintf(b, sizeof b, " suggestion: %.120s ",
                         a->sugg_err[0] ? a->sugg_err : "none");
            wattrset(stdscr, a->roles[ROLE_DIALOG]);
            glyph_put(stdscr, y0 + h, x0, b, w, 1);
            wattrset(stdscr, A_NORMAL);
        }
    }
}

static void draw_frame(struct app *a)
{
    if (a->dirty == 0)
        return;
    if (a->too_small) {
        char b[96];
        wattrset(stdscr, a->roles[ROLE_NORMAL]);
        erase();
        snprintf(b, sizeof b, "terminal too small: %dx%d, need at least %dx%d", COLS, LINES,
                 MIN_COLS, MIN_LINES);
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

/* --- input ---------------------------------------------------------------------- */

static void confirm_done(struct app *a, int yes)
{
    a->overlay = OV_NONE;
    a->dirty = D_ALL;
    if (!yes) {
        notify(a, 0, "cancelled");
        return;
    }
    if (a->confirm_kind == CF_QUIT) {
        a->quit = 1;
    } else if (a->confirm_kind == CF_KILL) {
        int n = 0;
        for (size_t i = 0; i < a->ntargets; i++)
            n += coord_cancel(a->coord, a->targets[i]) == 0;
        table_untag_all(&a->tbl);
        notify(a, 0, "killed %d deployment(s)", n);
        refresh_data(a);
    } else if (a->confirm_kind == CF_CLEANUP_ALL) {
        struct recover_report r = {0};
        struct sd_err err = {0};
        if (a->coord)
            coord_cancel_all(a->coord);
        if (recover_orphans(a->store, a->conf.helper_path, 1, &r, &err) != 0)
            notify(a, 1, "cleanup: %s", err.msg);
        else
            notify(a, 0,
                   "cleanup: %d lease(s) reaped, %d helper(s) killed, %d trajectory(ies) "
                   "interrupted, %d cgroup(s) removed",
                   r.leases_reaped, r.helpers_killed, r.trajectories_interrupted,
                   r.cgroups_removed);
        a->hist_stale = 1;
        refresh_data(a);
    }
}

/* MOUSE (on where the terminal has a mouse protocol, unless --no-mouse): a
 * click focuses the pane under it and selects the table row it lands on,
 * or picks a tab; the wheel scrolls the pane under the pointer by three
 * lines or rows without moving the focus. Overlays ignore the mouse. */
static int pane_at(const struct app *a, int y, int x)
{
    for (int p = 0; p < P_COUNT; p++) {
        const int *r = a->rect[p];
        if (r[2] > 0 && y >= r[0] && y < r[0] + r[2] && x >= r[1] && x < r[1] + r[3])
            return p;
    }
    return -1;
}

/* The tab drawn at column x of the tab bar (as draw_header lays it out). */
static int tab_at(int x)
{
    int x0 = 0;
    for (int p = 0; p < P_COUNT; p++) {
        char name[32];
        int w = snprintf(name, sizeof name, " %d %s ", p + 1, pane_names[p]);
        if (x >= x0 && x < x0 + w)
            return p;
        x0 += w + 1;
    }
    return -1;
}

static void handle_mouse(struct app *a)
{
    MEVENT ev;
    int p, dy;

    if (getmouse(&ev) != OK || a->too_small || a->overlay != OV_NONE)
        return;
    if ((ev.bstate & BUTTON1_PRESSED) && a->tabs && !a->fullscreen && ev.y == 1) {
        if ((p = tab_at(ev.x)) >= 0 && p != a->focus) {
            a->focus = p;
            a->dirty = D_ALL;
        }
        return;
    }
    if ((p = pane_at(a, ev.y, ev.x)) < 0)
        return;
    if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
        for (int i = 0; i < 3; i++)
            pane_key(a, p == P_DETAILS ? P_OUTPUT : p,
                     ev.bstate & BUTTON4_PRESSED ? WK_UP : WK_DOWN);
        return;
    }
    if (!(ev.bstate & BUTTON1_PRESSED))
        return;
    if (a->focus != p) {
        a->focus = p;
        a->dirty = D_ALL;
    }
    dy = ev.y - a->rect[p][0] - 1; /* 0: the table's header line */
    if (p == P_TABLE && (table_click(&a->tbl, dy) & WF_DIRTY)) {
        sync_output(a);
        a->dirty |= D_TABLE | D_OUTPUT | D_DETAILS;
    } else if (p == P_PATTERNS && !a->pat.open && (table_click(&a->pat.list, dy) & WF_DIRTY)) {
        a->dirty |= D_PATTERNS;
    }
}

/* Whether to ask for mouse events: the terminal must describe a mouse
 * protocol (kmous); the Linux console's (gpm) is left alone; and not inside
 * GNU screen (STY set), which holds back a lone Esc while an application
 * has mouse reporting on, until the next key (console e2e gnu_screen). */
static int mouse_ok(void)
{
    const char *term = getenv("TERM");
    char *km = tigetstr("kmous");
    return km != NULL && km != (char *)-1 && *km && !(term && strcmp(term, "linux") == 0) &&
           getenv("STY") == NULL;
}

static void handle_key(struct app *a, int key)
{
    int f;
    if (key == WK_RESIZE)
        return;
    if (key == WK_FN(KEY_MOUSE)) {
        handle_mouse(a);
        return;
    }
    if (a->too_small) {
        if (key == 'q')
            a->quit = 1;
        return;
    }
    switch (a->overlay) {
    case OV_CONFIRM:
        f = dialog_ops.key(&a->dlg, key);
        if (f & WF_CANCEL)
            confirm_done(a, 0);
        else if (f & WF_SUBMIT)
            confirm_done(a, a->dlg.chosen == 1);
        a->dirty = D_ALL;
        return;
    case OV_HELP:
        if (key == WK_DOWN || key == 'j')
            a->help_top++;
        else if (key == WK_UP && a->help_top > 0)
            a->help_top--;
        else
            a->overlay = OV_NONE;
        a->dirty = D_ALL;
        return;
    case OV_DEPLOY:
        if (key == 1) { /* Ctrl-A */
            int n = deploy_apply(a);
            if (n > 0)
                notify(a, 0, "applied %d recommended value(s)", n);
            else
                notify(a, 0, "no recommendation to apply");
            deploy_suggest(a);
            a->dirty = D_ALL;
            return;
        }
        f = form_ops.key(&a->form, key);
        if (f & WF_CANCEL) {
            a->overlay = OV_NONE;
            notify(a, 0, "deploy cancelled");
        } else if (f & WF_SUBMIT) {
            a->form.error[0] = '\0';
            deploy_submit(a);
        } else if ((f & WF_CHANGED) && a->form.changed_field == DF_STRATEGY) {
            deploy_params(a);
        }
        if (f & WF_CHANGED) {
            a->form.error[0] = '\0';
            deploy_suggest(a);
        }
        a->dirty = D_ALL;
        return;
    case OV_INPUT:
        f = inputline_ops.key(&a->in, key);
        a->dirty |= D_FOOTER | (a->in.cands[0] ? D_ALL : 0);
        if (f & WF_CANCEL) {
            a->overlay = OV_NONE;
            a->dirty = D_ALL;
        } else if (f & WF_SUBMIT) {
            char line[INPUT_MAX];
            snprintf(line, sizeof line, "%s", a->in.buf);
            a->overlay = OV_NONE;
            a->dirty = D_ALL;
            if (a->input_kind == IN_CMD)
                cmd_run(a, line);
            else if (a->input_kind == IN_FILTER)
                c_filter(a, line);
            else if (a->input_kind == IN_PFILTER)
                c_pfilter(a, line);
            else if (a->input_kind == IN_SEARCH)
                c_search(a, line);
            else if (a->input_kind == IN_SAVE)
                c_save(a, line[0] ? line : NULL);
        } else if ((f & WF_CHANGED) && a->input_kind == IN_FILTER) {
            c_filter(a, a->in.buf); /* filter as typed */
        } else if ((f & WF_CHANGED) && a->input_kind == IN_PFILTER) {
            c_pfilter(a, a->in.buf);
        }
        return;
    }
    if (key == WK_ESC) {
        if (a->focus == P_PATTERNS && a->pat.open)
            c_pattern_open(a, NULL); /* back to the list */
        else if (a->focus == P_PATTERNS && a->pat.list.filter[0])
            c_pfilter(a, "");
        else if (a->tbl.filter[0])
            c_filter(a, "");
        else if (a->fullscreen)
            c_fullscreen(a, NULL);
        return;
    }
    if (key == WK_CTRL('c')) {
        c_quit(a, NULL);
        return;
    }
    for (size_t i = 0; i < NBINDINGS; i++)
        if (bindings[i].key == key && scope_ok(a, bindings[i].scope)) {
            cmd_run(a, bindings[i].cmd);
            return;
        }
}

/* --- events and signals ------------------------------------------------------- */

static void on_signal(int sig)
{
    int saved = errno;
    char b = (char)sig;
    if (g_app && write(g_app->sig_pipe[1], &b, 1) < 0) {
        /* the pipe is full: a wake-up is already pending */
    }
    errno = saved;
}

static int drain_events(struct app *a)
{
    struct ev evs[512];
    size_t n;
    int changed = 0;
    if (a->coord == NULL)
        return 0;
    while ((n = evq_drain(coord_events(a->coord), evs, 512)) > 0) {
        for (size_t i = 0; i < n; i++) {
            const struct ev *e = &evs[i];
            switch (e->type) {
            case EV_RESYNC:
                changed |= D_ALL;
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
                if (e->traj_id == a->out_id)
                    changed |= D_OUTPUT;
                break;
            case EV_OUTPUT:
                if (e->traj_id == a->out_id)
                    changed |= D_OUTPUT;
                break;
            case EV_PROGRESS: {
                struct spark *sp = spark_for(a, e->traj_id, 1);
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
                break;
            }
        }
        if (n < 512)
            break;
    }
    return changed;
}

static int open_log(void)
{
    const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[4096], path[4200];
    if (x && *x)
        snprintf(dir, sizeof dir, "%s/swarmdeck", x);
    else
        snprintf(dir, sizeof dir, "%s/.local/state/swarmdeck", home ? home : "/tmp");
    if (sd_mkdir_p(dir, 0700) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/console.log", dir);
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

int tui_run(const struct tui_conf *conf)
{
    struct app *a = xcalloc(1, sizeof *a);
    struct sigaction sa, old[4];
    static const int sigs[4] = {SIGWINCH, SIGTERM, SIGHUP, SIGINT};
    int logfd, saved_err = -1, status = 0;
    struct sd_err err = {0};
    SCREEN *scr;
    char terr[256];

    a->conf = *conf;
    a->coord = conf->coord;
    a->store = conf->store;
    a->readonly = conf->readonly || conf->coord == NULL;
    a->interval_ms = conf->interval_ms > 0 ? conf->interval_ms : 1000;
    a->out_id = -1;
    a->probe_fd = -1;
    a->hist_stale = 1;
    table_init(&a->tbl, cols, (int)(sizeof cols / sizeof cols[0]));
    table_sort_by(&a->tbl, C_ID, 1);
    logview_init(&a->lv);
    inputline_init(&a->in, ":", complete_cmd, a);
    textview_init(&a->learn, 12);
    a->learn_w = -1;
    browser_init(&a->pat, pattern_cols, PC_COUNT, 12);
    table_sort_by(&a->pat.list, PC_CONF, 1);
    {
        struct fetch_conf fc = {.store = a->store, .record = !a->readonly};
        snprintf(a->chain, sizeof a->chain, "...");
        if ((a->fetch = fetch_start(&fc, &err)) == NULL)
            notify(a, 1, "%s", err.msg);
        fetch_chain(a->fetch, 1); /* verify once at start, in the background */
    }
    {
        struct learnsnap_conf lc = {
            .learn = a->coord ? coord_learn(a->coord) : NULL,
            .store = a->store,
            .runner_path = a->coord ? NULL : conf->runner_path,
        };
        struct sd_err lerr = {0};
        if ((a->ls = learnsnap_start(&lc, &lerr)) == NULL)
            notify(a, 1, "%s", lerr.msg);
    }

    setlocale(LC_ALL, "");
    a->g = glyph_pick();
    a->spark_g = a->g;
    if (conf->sparklines && strcmp(conf->sparklines, "block") != 0)
        c_sparklines(a, conf->sparklines); /* refused: says why, stays block */
    if (pipe2(a->sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        free(a);
        return 3;
    }
    /* Nothing may write to the terminal while curses owns it. */
    if ((logfd = open_log()) >= 0) {
        fflush(stderr);
        saved_err = dup(2);
        dup2(logfd, 2);
        close(logfd);
    }
    if ((scr = newterm(NULL, stdout, stdin)) == NULL) {
        if (saved_err >= 0)
            dup2(saved_err, 2);
        fprintf(stderr, "swarmdeck: cannot start the console on this terminal (TERM=%s)\n",
                getenv("TERM") ? getenv("TERM") : "");
        free(a);
        return 3;
    }
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    if (!conf->no_mouse && mouse_ok()) {
        mouseinterval(0); /* presses as they come: no wait to tell a click */
        mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    }
    curs_set(0);
    a->colors = 0;
    if (!conf->no_color && has_colors()) {
        start_color();
        use_default_colors();
        a->colors = COLORS;
    }
    if (theme_load(theme_dir(), conf->theme ? conf->theme : "default", &a->theme, terr,
                   sizeof terr) != 0)
        notify(a, 1, "%s; using the built-in default", terr);
    apply_theme(a);

    g_app = a;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    for (int i = 0; i < 4; i++)
        sigaction(sigs[i], &sa, &old[i]);

    probe_start(a);
    refresh_data(a); /* asks the reader for the history */
    layout(a);
    a->dirty = D_ALL;

    while (!a->quit) {
        struct pollfd pf[6];
        int nfd = 0, timeout = -1, live;
        uint64_t now;

        draw_frame(a);
        if (conf->frames > 0 && a->frames >= conf->frames)
            break;
        pf[nfd++] = (struct pollfd){0, POLLIN, 0};
        pf[nfd++] = (struct pollfd){a->sig_pipe[0], POLLIN, 0};
        pf[nfd++] = (struct pollfd){a->coord && !a->paused ? evq_fd(coord_events(a->coord)) : -1,
                                    POLLIN, 0};
        pf[nfd++] = (struct pollfd){a->probe_fd, POLLIN, 0};
        pf[nfd++] = (struct pollfd){a->paused ? -1 : learnsnap_fd(a->ls), POLLIN, 0};
        pf[nfd++] = (struct pollfd){fetch_fd(a->fetch), POLLIN, 0};
        live = a->counts[TS_RUNNING] + a->counts[TS_QUEUED];
        if (live && !a->paused)
            timeout = a->interval_ms;
        now = sd_mono_ns();
        if (a->flash[0]) {
            int left = a->flash_until > now ? (int)((a->flash_until - now) / 1000000) + 1 : 0;
            timeout = timeout < 0 || left < timeout ? left : timeout;
        }
        if (poll(pf, (nfds_t)nfd, timeout) < 0 && errno != EINTR)
            break;
        if (pf[1].revents & POLLIN) {
            char b[64];
            ssize_t n = read(a->sig_pipe[0], b, sizeof b);
            for (ssize_t i = 0; i < n; i++) {
                if (b[i] == SIGWINCH) {
                    struct winsize ws;
                    if (ioctl(1, TIOCGWINSZ, &ws) == 0)
                        resizeterm(ws.ws_row, ws.ws_col);
                    layout(a);
                    a->dirty = D_ALL;
                } else if (b[i] == SIGINT) {
                    c_quit(a, NULL);
                } else {
                    a->quit = 1; /* SIGTERM, SIGHUP: orderly shutdown */
                }
            }
        }
        if (pf[3].revents & (POLLIN | POLLHUP))
            probe_read(a);
        if (pf[4].revents & POLLIN)
            take_snapshot(a);
        if (pf[5].revents & POLLIN)
            take_fetched(a);
        if (pf[0].revents & POLLIN) {
            int k;
            while ((k = wk_read(stdscr)) != WK_NONE) {
                if (k == WK_RESIZE) {
                    layout(a);
                    a->dirty = D_ALL;
                    continue;
                }
                handle_key(a, k);
                layout(a);
            }
        }
        if (!a->paused) {
            int ch = drain_events(a);
            if (ch || (live && timeout >= 0)) {
                const struct deploy_view *v = live_view(a, a->out_id);
                refresh_data(a);
                a->dirty |= ch | D_HEADER;
                if (v && !traj_state_terminal(v->state))
                    a->dirty |= D_OUTPUT; /* a throttled last chunk still shows */
                a->tick++;
            }
        }
        if (a->flash[0] && sd_mono_ns() >= a->flash_until) {
            a->flash[0] = '\0';
            a->dirty |= D_FOOTER;
        }
    }

    learnsnap_stop(a->ls); /* before the caller frees the coordinator and its learner */
    fetch_stop(a->fetch);
    for (int i = 0; i < 4; i++)
        sigaction(sigs[i], &old[i], NULL);
    g_app = NULL;
    endwin();
    delscreen(scr);
    if (saved_err >= 0) {
        dup2(saved_err, 2);
        close(saved_err);
    }
    if (a->probe_fd >= 0) {
        close(a->probe_fd);
        waitpid(a->probe_pid, NULL, 0);
    }
    close(a->sig_pipe[0]);
    close(a->sig_pipe[1]);
    logring_free(a->own_ring);
    json_decref(a->sugg);
    json_decref(a->snap);
    textview_free(&a->learn);
    browser_free(&a->pat);
    table_free(&a->tbl);
    free(a->views);
    free(a->hist);
    free(a->hidden);
    free(a->sparks);
    free(a);
    return status;
}
