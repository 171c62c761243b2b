/*
 * app_int.h: the console's private header: the state every part of the
 * console shares (struct app) and what each part offers the others.
 *
 * THE PARTS (tui.h is the public face)
 *   app.c         tui_run: set-up, the poll loop, signals, tear-down
 *   app_state.c   the data: live views and history merged into the table,
 *                 the output pane's source, the readers' results, events,
 *                 the isolation probe, flash messages
 *   app_cmds.c    the command table, its commands and the one dispatcher
 *                 (app_cmd_run), the palette's input and confirmations
 *   app_keys.c    the key table (bindings with scopes), key and mouse
 *                 dispatch, --dump-keys
 *   app_deploy.c  the deploy dialog and the learner's suggestion beside it
 *   app_draw.c    layout and drawing: one frame, dirty panes only
 *   app_ops.c     the operator's-day commands (issue 16): output filters,
 *                 launch confirmation, run-wide tagging, re-run, compare
 *   app_jobs.c    the console's slow jobs (clean up, kill, deploy) on a
 *                 worker thread, and their outcome on the UI thread
 *   app_hosts.c   several daemons in one console (docs/fleet.md): whose
 *                 row is whose, each host's health, the host filter
 *
 * THREADS: everything declared here runs on the UI thread, the only one
 * that calls curses, except what app_jobs.c's jobs run (which never touch
 * struct app).
 */
#ifndef SD_TUI_APP_INT_H
#define SD_TUI_APP_INT_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <curses.h>
#include <jansson.h>

#include "browser.h"
#include "complete.h"
#include "dialog.h"
#include "fetch.h"
#include "form.h"
#include "inputline.h"
#include "learnsnap.h"
#include "logview.h"
#include "panes.h"
#include "remote.h"
#include "table.h"
#include "textview.h"
#include "theme.h"
#include "tui.h"

struct runlog; /* runlog.h */
struct ev;     /* evq.h */

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
enum overlay { OV_NONE, OV_DEPLOY, OV_CONFIRM, OV_HELP, OV_INPUT, OV_COMPARE, OV_RUNLOG };
enum input_kind { IN_CMD, IN_FILTER, IN_SEARCH, IN_SAVE, IN_PFILTER, IN_OFILTER };
enum confirm_kind { CF_KILL, CF_CLEANUP_ALL, CF_QUIT, CF_LAUNCH };
/* Where a binding applies: any pane, the sandboxes table, the output, a
 * list (sandboxes or patterns), the patterns browser, the deploy dialog. */
enum scope { S_ANY, S_TABLE, S_OUTPUT, S_LIST, S_PATTERNS, S_DEPLOY, S_COUNT };

#define SPARK_N 240
/* Everything fits from 80x23 (an 80x24 terminal less a tmux or screen
 * status line); below, down to 30x8, one pane at a time, columns dropped
 * from the right and the header shrunk; below that a notice. */
#define FULL_COLS  80
#define FULL_LINES 23
#define MIN_COLS   30
#define MIN_LINES  8

struct spark {
    int64_t id;
    double v[SPARK_N];
    int n;
};

struct app_jobs;

struct app {
    struct tui_conf conf;
    json_t *sugg;            /* the learner's suggestion for the deploy form, or NULL */
    char sugg_err[200];      /* why there is none (invalid field, learning off) */
    struct textview sugg_tv; /* its panel's lines (panes_sugg.c), scrolled with PgDn/PgUp */
    struct coord *coord;
    struct remote *remote; /* the daemon running the engine (NULL: coord, or none) */
    /* Every daemon shown (app_hosts.c): rem[h] is host h's (remote.h's
     * REMOTE_ID), NULL when not shown; a single daemon is rem[0]. */
    struct remote *rem[REMOTE_MAX_HOSTS];
    char hname[REMOTE_MAX_HOSTS][64];
    int nrem;                 /* hosts' indexes in use: 0..nrem-1 */
    int multi;                /* --host given: ids per host (REMOTE_ID), host names everywhere */
    int host_col;             /* more than one host shown: the HOST column */
    int host_filter;          /* show only this host's rows (-1: every host) */
    char origin_filter[64];   /* or only the past rows synced from this host ("" none) */
    int deploy_host;          /* the deploy dialog's host */
    struct remote_info rinfo; /* what it said of itself, read with the views */
    struct catalog *cat;      /* beside a daemon: the console's own catalog */
    struct store *store;
    struct fetch *fetch;   /* reads the store off the UI thread (fetch.h) */
    struct app_jobs *jobs; /* runs slow commands off the UI thread (app_jobs.c) */
    char busy[96];         /* the job under way, for the status line ("" none) */
    int deploying;         /* the deploy dialog's submission is under way */
    int launch_ok;         /* the operator confirmed this launch (app_launch_confirm) */
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
    json_t *detail;           /* out_id's stored details (query_console2.h), or NULL */
    json_t *failovers;        /* {"ID": reason} of the past rows a failover moved, or NULL */
    json_t *asked;            /* {"ID": provider} asked for by this console's launches */
    json_t *synth;            /* {"SYM": true/false}: bundled series generated (cache) */
    json_t *cmp[2];           /* the compare overlay's two details (app_compare.c) */
    struct textview cmp_tv;   /* its lines */
    json_t *last_launch;      /* the last launch's form (app_deploy.c), or NULL */
    struct complete symc;     /* the deploy dialog's symbol completion (complete.h) */
    struct textview rl_tv;    /* a run's merged output (app_runlog.c) */
    char rl_title[96];        /* its overlay's title */
    int64_t rl_run;           /* the run it shows (0: tagged rows, rl_ids) */
    int64_t rl_ids[64];       /* the tagged rows it shows when not a run */
    size_t rl_nids;
    struct runlog *rl_log; /* where its reads stopped (runlog.h); NULL while a read has it */
    json_t *rl_lines;      /* the lines it shows, [[id, stream, text], ...], the newest 5000 */
    int rl_trunc;          /* older lines were dropped */
    unsigned rl_gen;       /* bumped by each fresh read: an older read's result is dropped */
    int rl_busy;           /* a read of rl_gen is on the job worker */
    int rl_pending;        /* an output event of its deployments since the last read */
    uint64_t rl_last_ns;   /* when the last follow read started (mono): <= 4 reads/s */
    json_t *runmap;        /* {"ID": run} of the past rows (query_console2.h), or NULL */
    struct app_run {
        int64_t run, first, last;
        int own; /* this console's engine launched it: it ends the run in the store */
    } * runs;    /* this console's launches */
    size_t nruns;

    struct spark *sparks;
    size_t nsparks;

    char flash[256];
    int flash_err;
    uint64_t flash_until; /* mono ns */

    int focus, tabs, fullscreen, too_small;
    int dirty, paused, quit, interval_ms, tick;
    long frames;
    int counts[TS_COUNT];      /* the header's: live_counts plus the finished past rows */
    int live_counts[TS_COUNT]; /* the engine's own deployments (coord_counts) */

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
    /* With several hosts: each host's learning snapshot as last drawn
     * (remote_learning_gen), so the pane redraws when one changes. */
    uint64_t learn_gen[REMOTE_MAX_HOSTS];
    struct browser pat; /* the Patterns pane */

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

extern const char *const app_pane_names[P_COUNT];

/* --- app_state.c ------------------------------------------------------------ */

enum {
    C_ID,
    C_STRAT,
    C_SYM,
    C_PROV,
    C_STATE,
    C_ELAPSED,
    C_CPU,
    C_MEM,
    C_PROG,
    C_RET,
    C_SHARPE,
    C_HOST /* only with several hosts (app->multi) */
};
#define APP_NCOLS 11
extern const struct table_col app_cols[APP_NCOLS + 1];
/* The same with HOST second, for several hosts (app_state.c maps C_*). */
extern const struct table_col app_cols_hosts[APP_NCOLS + 1];

/* A new console's state for conf, no thread started, no terminal touched:
 * the tables, the views, the palette. Can't fail (aborts on memory). */
struct app *app_new(const struct tui_conf *conf);

/* Stop and join every thread the console started (jobs, learning view,
 * store reader) and free a and all it holds. Accepts NULL. May block for
 * the work under way (fetch_stop's bound). */
void app_free(struct app *a);

/* Say fmt on the status line for four seconds (err: in the error colour). */
void app_notify(struct app *a, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

struct spark *app_spark(struct app *a, int64_t id, int create);
const struct deploy_view *app_live_view(const struct app *a, int64_t id);
const struct console_traj *app_hist_row(const struct app *a, int64_t id);
int app_state_role(int state);

/* The engine, whichever runs it: the coordinator in this process or the
 * daemon (remote.h). app_engine: whether there is one (else history only);
 * app_catalog: its strategies (beside a daemon, the console's own copy);
 * app_learning: whether it learns; app_suggest: its suggestion for r (new
 * reference, or NULL with err set); app_events: its event queue. */
int app_engine(const struct app *a);
const struct catalog *app_catalog(const struct app *a);
int app_learning(const struct app *a);
json_t *app_suggest(struct app *a, const struct deploy_req *r, struct sd_err *err);
struct evq *app_events(const struct app *a);
/* The default provider and deployment timeout of the engine. */
const char *app_default_provider(const struct app *a);
int64_t app_default_timeout(const struct app *a);

/* Point the output pane at the selected deployment (if it changed). */
void app_sync_output(struct app *a);
/* Re-read the coordinator's views (cheap copies) and rebuild the table;
 * asks the reader for the history when it is stale. */
void app_refresh(struct app *a);
/* What the reader has finished (its fd was readable). */
void app_take_fetched(struct app *a);
/* A new learning snapshot, if one is ready. */
void app_take_snapshot(struct app *a);
/* Drain the coordinator's events; returns the dirty bits they cause. */
int app_drain_events(struct app *a);
/* Hide every finished row of the table (cleanup); returns how many. */
size_t app_hide_finished(struct app *a);

void app_probe_start(struct app *a);
void app_probe_read(struct app *a);

/* --- app_cmds.c ------------------------------------------------------------- */

/* CMD_DAEMON: beside a daemon, --readonly is the daemon's to enforce (it
 * refuses the request), not the console's. */
enum cmd_flags { CMD_MUTATES = 1, CMD_ARG = 2, CMD_DAEMON = 4 };

struct command {
    const char *name;
    const char *args;
    const char *desc;
    int flags;
    int (*exec)(struct app *a, const char *arg);
};

extern const struct command app_commands[]; /* ends with a NULL name */

/* The one dispatcher: keys and the palette both come here, and this is the
 * only place --readonly is enforced. Returns the command's result, -1 when
 * refused (said on the status line). */
int app_cmd_run(struct app *a, const char *line);
/* The description of line's command, or "". */
const char *app_cmd_desc(const char *line);
/* The palette's completion (inputline.h). */
int app_cmd_complete(void *ctx, const char *line, const char **out, int max);
/* A key for pane p's widget. */
int app_pane_key(struct app *a, int p, int key);
/* A key while the palette or a prompt is open. */
void app_input_key(struct app *a, int key);
/* The confirmation dialog closed (yes: confirmed). */
void app_confirm_done(struct app *a, int yes);

/* --- app_ops.c -------------------------------------------------------------- */

/* Command execs of app_ops.c (app_cmds.c's table lists them). */
int app_c_protocol(struct app *a, const char *x);
int app_c_ofilter(struct app *a, const char *arg);
int app_c_sugg_down(struct app *a, const char *x);
int app_c_tag_all(struct app *a, const char *x);
int app_c_untag_all(struct app *a, const char *x);
int app_c_tag_run(struct app *a, const char *arg);
int app_c_kill_run(struct app *a, const char *arg);
int app_c_export_run(struct app *a, const char *arg);
int app_c_rerun(struct app *a, const char *x);
int app_c_sugg_up(struct app *a, const char *x);
/* Before a launch of agents deployments on provider (an instance name):
 * when they are more than console_prefs.confirm_agents or the provider is
 * paid (E2B), open a confirmation naming both and return 1 (the launch
 * waits for it: app_confirm_done submits again with launch_ok set); else
 * 0 (go ahead). */
int app_launch_confirm(struct app *a, long agents, const char *strategy, const char *provider);
/* Host's provider health into out (at most max; returns how many): with
 * several hosts that host's daemon's (remote_providers), else what the
 * header read (a->prov). */
size_t app_host_providers(const struct app *a, int host, struct provider_health *out, size_t max);
/* The kind ("local", "e2b") of host's provider instance name into kind (n
 * bytes); name itself when unknown. */
void app_provider_kind(const struct app *a, int host, const char *name, char *kind, size_t n);
/* The table's PROV cell of deployment id running on prov: prov, or its
 * first four characters and "~" (the column's width) when a failover moved it (the store's failover
 * operation, or this console launched it on another provider). */
void app_prov_cell(const struct app *a, int64_t id, const char *prov, char *b, size_t n);
/* A launch of this console: run covers deployments first..last; own: the
 * engine is in this process, so the console ends the run in the store
 * when they have all ended (app_runs_check). */
void app_run_track(struct app *a, int64_t run, int64_t first, int64_t last, int own);
/* End (in the store) each own run whose deployments have all ended. */
void app_runs_check(struct app *a);
/* End every own run still open (the console quits: what runs is cancelled). */
void app_runs_close(struct app *a);
/* The run of deployment id (0: none known). */
int64_t app_row_run(const struct app *a, int64_t id);

/* Whether symbol's bundled series is generated (SYM.synthetic.csv), for a
 * past row whose result does not say (failed, cancelled). Cached. */
int app_symbol_synthetic(struct app *a, const char *symbol);
/* Whether a failover moved deployment id (see app_prov_cell). */
int app_failed_over(const struct app *a, int64_t id, const char *prov);

/* --- app_compare.c ---------------------------------------------------------- */

/* `=`: compare the two tagged deployments side by side. */
int app_c_compare(struct app *a, const char *x);
/* Open the compare overlay on details d0 and d1 (store_console_detail's;
 * the overlay takes the references). */
void app_compare_show(struct app *a, json_t *d0, json_t *d1);
/* Build the overlay's lines for a box w columns wide (pure: tests). */
void app_compare_fill(struct textview *tv, const json_t *d0, const json_t *d1, int w,
                      const struct glyphs *g);
/* A key while it is open; its drawing. */
/* The overlay's lines for two runs' summaries s0 and s1 (cmprun.h). */
void app_cmprun_fill(struct textview *tv, const json_t *s0, const json_t *s1, int w,
                     const struct glyphs *g);
/* `:compare-run A B`: compare runs A and B side by side. */
int app_c_compare_run(struct app *a, const char *x);
/* Read runs r0's and r1's deployments on the job worker and open the compare overlay on
 * their summaries (cmprun.h; app_compare_show). Unless asked (`:compare-run`), two runs of one
 * deployment each are compared as those deployments (`=` on two single launches). */
int app_job_cmprun(struct app *a, int64_t r0, int64_t r1, int asked);
void app_compare_key(struct app *a, int key);
void app_compare_draw(struct app *a);

/* --- app_keys.c ------------------------------------------------------------- */

struct binding {
    int key;
    int scope;
    const char *cmd; /* command line run through app_cmd_run */
    int hint;        /* shown in the footer */
};

#define APP_MAX_BINDINGS 80
extern const struct binding app_bindings[];
extern const size_t app_nbindings;
extern const char *const app_scope_names[S_COUNT]; /* for the help screen */

/* Whether a binding of scope applies now. */
int app_scope_ok(const struct app *a, int scope);
/* Whether an earlier binding of the same key applies now (so binding i
 * never runs). */
int app_shadowed(const struct app *a, size_t i);
/* One key from the terminal. */
void app_key(struct app *a, int key);
/* Whether to ask the terminal for mouse events. */
int app_mouse_ok(void);

/* --- app_deploy.c ----------------------------------------------------------- */

void app_deploy_open(struct app *a);
void app_deploy_from_pattern(struct app *a, const json_t *p);
/* `R`: the dialog filled from the selected deployment (its stored details). */
int app_deploy_rerun(struct app *a);
/* A key while the dialog is open. */
void app_deploy_key(struct app *a, int key);
/* Its host changed (app_c_deploy_host): that host's providers. */
void app_deploy_host_changed(struct app *a);
/* Submit the dialog's form (Enter; again after a launch confirmation). */
void app_deploy_submit(struct app *a);
/* PgDn (1) / PgUp (-1) in the dialog: scroll the suggestion panel. */
int app_deploy_sugg_scroll(struct app *a, int pages);
/* Ctrl-A: apply the suggestion's recommended values. */
int app_deploy_apply(struct app *a);
/* The dialog's outcome from the job worker: error "" (deployed first..last
 * of strategy) or why not. */
void app_deploy_done(struct app *a, const char *error, int64_t first, int64_t last,
                     const char *strategy);
/* Draw the dialog (and the suggestion) over the panes. */
void app_deploy_draw(struct app *a);

/* --- app_draw.c ------------------------------------------------------------- */

struct draw_ctx app_dctx(const struct app *a, int focused);
void app_layout(struct app *a);
void app_apply_theme(struct app *a);
/* Repaint the dirty panes and the overlay; one doupdate. */
void app_draw_frame(struct app *a);

/* --- app_jobs.c ------------------------------------------------------------- */

/* Start the job worker. Returns NULL with err set when it cannot start. */
struct app_jobs *app_jobs_start(struct sd_err *err);
/* Stop it: waits for the job under way (may block: recovery, a spawn),
 * drops jobs not run or not taken. Accepts NULL. */
void app_jobs_stop(struct app_jobs *j);
int app_jobs_fd(const struct app_jobs *j);
/* The outcome of every finished job, on the UI thread. */
void app_jobs_take(struct app *a);

/* Queue a job (each says "..." on the status line until its outcome). They
 * return 0, or -1 when the worker is not running (said on the status
 * line). */
int app_job_cleanup(struct app *a, int all);
int app_job_kill(struct app *a, const int64_t *ids, size_t n);
/* Pause (on) or resume deployments ids (coord_pause, or the daemon's /pause and /resume). */
int app_job_pause(struct app *a, const int64_t *ids, size_t n, int on);
/* `p` (app_pause.c): pause the tagged or selected running deployments, or, when every one of
 * them is paused already, resume them. */
int app_c_pause_dep(struct app *a, const char *x);
/* How many live deployments are paused (the header says so beside running). */
int app_paused_count(const struct app *a);
/* `L` (app_runlog.c): the merged output of the selected row's run, or of the tagged rows, each
 * line prefixed with its deployment's id, in written order; `L` or `r` in it reads again. */
int app_c_run_output(struct app *a, const char *x);
/* Read the merged output of run (or, run 0, of ids) on the job worker, then show it. With
 * a->rl_log set, the read resumes where it stopped (the job takes it and hands it back);
 * without, it reads from the first line. */
int app_job_runlog(struct app *a, int64_t run, const int64_t *ids, size_t n);
/* The job's outcome: lines, an array of [id, stream, text] (stolen), shown in the overlay. */
/* A read's result (the UI thread): lines (taken) are appended to the view, or replace it when
 * fresh; rl (taken) is where the read stopped; gen, the read's app->rl_gen (an older one's
 * result is dropped). */
void app_runlog_show(struct app *a, json_t *lines, int truncated, struct runlog *rl, unsigned gen,
                     int fresh);
/* An engine event e (app_drain_events): an output, progress or state event of a deployment
 * the open run output view shows, while it is scrolled to the end, marks a read due. */
void app_runlog_event(struct app *a, const struct ev *e);
/* Before the loop polls (app.c): starts a due follow read when the last started >= 250 ms ago.
 * Returns the ms until one is due, or -1 (none due). */
int app_runlog_tick(struct app *a, uint64_t now_ns);
/* Drop the follow state (the console ends). */
void app_runlog_free(struct app *a);
void app_runlog_key(struct app *a, int key);
void app_runlog_draw(struct app *a);
/* Read deployments x and y's details from the store, then show them side
 * by side (app_compare_show). */
int app_job_compare(struct app *a, int64_t x, int64_t y);
/* Write deployment id's whole stored output to path (0600, truncated), in
 * logview_save's format, read on the worker from the store. */
int app_job_save(struct app *a, int64_t id, const char *path);
/* The deploy form's submission: agents deployments of strategy over the
 * comma-separated symbols, checked all before any is queued. params is
 * borrowed (the job keeps a deep copy). */
struct app_deploy_req {
    int host; /* whose daemon (app_hosts.c) */
    const char *strategy, *symbols, *description, *provider;
    json_t *params;
    long agents;
    int64_t timeout_ms;
    int pace;
};
int app_job_deploy(struct app *a, const struct app_deploy_req *r);

/* --- app_hosts.c ------------------------------------------------------------ */

/* The hosts of conf (tui.h) into a (before the table is made). */
void app_hosts_init(struct app *a, const struct tui_conf *conf);
/* The daemon of the row id (NULL: none, or the engine is in this process). */
struct remote *app_remote_of(const struct app *a, int64_t id);
/* Host h's name ("local" for 0 when it has none), or "?" out of range. */
const char *app_host_name(const struct app *a, int h);
/* The host index named name (exact, else a unique prefix), or -1. */
int app_host_find(const struct app *a, const char *name);
/* "#ID" of row id, "#ID on HOST" with several hosts, into b. */
void app_id_label(const struct app *a, int64_t id, char *b, size_t n);
/* Every shown daemon's views into a->views (grown as needed) and their
 * counts summed into a->live_counts; a->rinfo is the first host's. */
void app_hosts_load(struct app *a);
/* One host's health for the header: full ("B: connected", "B: reconnecting
 * in 4s", "B: unreachable: WHY") and compact texts; returns 0 when up, 1
 * retrying after it was up, 2 unreachable. Pure (tests). */
int app_host_health(const char *name, const struct remote_info *ri, int64_t now_ms, char *full,
                    size_t nf, char *compact, size_t nc);
/* A host's open and half-open breakers of p[0..n-1] appended to its health
 * texts (full ", e2b open", compact " e2b open"), truncated to fit. Returns
 * 1 if any, else 0 (texts unchanged). */
int app_host_breakers(const struct provider_health *p, size_t n, char *full, size_t nf,
                      char *compact, size_t nc);
/* The Learning pane's lines with several hosts (pane_hosts_learning_fill):
 * each shown host's daemon snapshot, only the filtered host's when the
 * table is filtered by host, then the local store's, for width w. */
void app_hosts_learning_fill(struct app *a, int w);
/* Whether a shown host's learning snapshot changed since the pane was
 * built (then it is rebuilt: a->learn_w = -1). Returns 1 if so. */
int app_hosts_learning_changed(struct app *a);
/* Whether a shown host is not connected (the header counts down). */
int app_hosts_waiting(const struct app *a);
/* The header's segments of every host (with several), into hi. */
void app_hosts_header(const struct app *a, struct header_in *hi);
/* A past row's host: its origin when synced from another, else host 0's. */
const char *app_hist_host(const struct app *a, const struct console_traj *h);
/* Whether the history holds synced rows (the HOST column then shows). */
int app_hosts_synced(const struct app *a);
/* Whether the host filter shows a row of the host named name. */
int app_host_shown(const struct app *a, const char *name);
/* Commands: `host [NAME]` filters the table by host, a shown one or a
 * synced row's origin (none: every host), `host-next` cycles the filter,
 * `deploy-host` cycles the dialog's host. */
int app_c_host(struct app *a, const char *arg);
int app_c_host_next(struct app *a, const char *x);
int app_c_deploy_host(struct app *a, const char *x);

#endif
