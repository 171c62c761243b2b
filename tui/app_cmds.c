/*
 * app_cmds.c: the console's commands (app_int.h): the command table (name,
 * arguments, help, flags, exec), each command's exec, and the one
 * dispatcher, app_cmd_run, which keys, the `:` palette and the prompts all
 * go through and which alone enforces --readonly (commands flagged
 * CMD_MUTATES are refused). Help, palette completion and --dump-keys come
 * from the table. A command validates, then acts or hands slow work to the
 * job worker (app_jobs.c); handlers only set dirty bits, never draw.
 *
 * UI thread only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "app_int.h"
#include "traj.h"
#include "util.h"

/* --- commands ---------------------------------------------------------------- */

/* A key for pane p's widget (the focused one, or the one under the mouse
 * wheel). */
int app_pane_key(struct app *a, int p, int key)
{
    int f = 0;
    switch (p) {
    case P_TABLE:
        f = table_ops.key(&a->tbl, key);
        if (f & WF_DIRTY)
            a->dirty |= D_TABLE | D_OUTPUT | D_DETAILS;
        app_sync_output(a);
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
    return app_pane_key(a, a->focus == P_DETAILS ? P_OUTPUT : a->focus, key);
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
        app_sync_output(a);
        a->dirty |= D_TABLE | D_OUTPUT | D_DETAILS;
    }
    return 0;
}

static int c_focus(struct app *a, const char *arg)
{
    int p = arg ? atoi(arg) - 1 : 0;
    if (p < 0 || p >= P_COUNT) {
        app_notify(a, 1, "focus: no pane %s", arg ? arg : "");
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
    app_sync_output(a);
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
        prompt(a, IN_OFILTER, "filter output: ", a->lv.filter);
    return 0;
}

static int c_filter(struct app *a, const char *arg)
{
    table_set_filter(&a->tbl, arg ? arg : "");
    app_sync_output(a);
    a->dirty |= D_TABLE | D_OUTPUT | D_DETAILS;
    return 0;
}

static int c_search(struct app *a, const char *arg)
{
    if (logview_search(&a->lv, arg, 1) != 0)
        app_notify(a, 1, "search: \"%s\" not found", arg ? arg : a->lv.search);
    a->dirty |= D_OUTPUT;
    return 0;
}

static int c_search_next(struct app *a, const char *x)
{
    (void)x;
    if (!a->lv.search[0])
        return c_slash(a, NULL);
    if (logview_search(&a->lv, NULL, 1) != 0)
        app_notify(a, 1, "search: no more matches for \"%s\"", a->lv.search);
    a->dirty |= D_OUTPUT;
    return 0;
}

static int c_search_prev(struct app *a, const char *x)
{
    (void)x;
    if (logview_search(&a->lv, NULL, -1) != 0)
        app_notify(a, 1, "search: no earlier match for \"%s\"", a->lv.search);
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
    app_notify(a, 1, "sort: no column \"%s\"", arg ? arg : "");
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
    {
        /* a finished deployment: its whole output from the store (the pane
         * holds only the newest lines); a running one: what the ring holds */
        const struct deploy_view *v = app_live_view(a, a->out_id);
        if (a->out_id > 0 &&
            (v ? traj_state_terminal(v->state) : app_hist_row(a, a->out_id) != NULL))
            return app_job_save(a, a->out_id, arg);
    }
    if ((n = logview_save(&a->lv, arg)) < 0)
        app_notify(a, 1, "save: %s: %s", arg, strerror(errno));
    else
        app_notify(a, 0, "saved %ld lines to %s (what the pane holds: the run goes on)", n, arg);
    return 0;
}

static int c_export(struct app *a, const char *arg)
{
    int fd;
    FILE *f;
    if (arg == NULL || !*arg) {
        app_notify(a, 1, "export needs a FILE");
        return -1;
    }
    if ((fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
        (f = fdopen(fd, "w")) == NULL) {
        app_notify(a, 1, "export: %s: %s", arg, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    for (int c = 0; c < a->tbl.ncols; c++)
        fprintf(f, "%s%s", c ? "," : "", a->tbl.cols[c].title);
    fputs(",RUN\n", f);
    {
        size_t n = 0;
        for (size_t i = 0; i < a->tbl.nview; i++) {
            const struct table_row *r = &a->tbl.rows[a->tbl.view[i]];
            int64_t run = app_row_run(a, r->id);
            if (a->tbl.ntags && !table_tagged(&a->tbl, r->id))
                continue; /* tagged rows only, when some are */
            for (int c = 0; c < a->tbl.ncols; c++)
                fprintf(f, "%s%s", c ? "," : "", r->text[c] ? r->text[c] : "");
            if (run > 0)
                fprintf(f, ",%lld\n", (long long)run);
            else
                fputs(",\n", f);
            n++;
        }
        if (fclose(f) != 0) {
            app_notify(a, 1, "export: %s: %s", arg, strerror(errno));
            return -1;
        }
        app_notify(a, 0, "exported %zu rows to %s", n, arg);
    }
    return 0;
}

static int c_pause(struct app *a, const char *x)
{
    (void)x;
    a->paused = !a->paused;
    if (!a->paused) {
        app_refresh(a);
        app_take_snapshot(a);
    }
    app_notify(a, 0, a->paused ? "updates paused (Z resumes)" : "updates resumed");
    a->dirty |= D_HEADER;
    return 0;
}

static int c_verify(struct app *a, const char *x)
{
    (void)x;
    if (a->fetch == NULL) {
        app_notify(a, 1, "verify: the store reader is not running");
        return -1;
    }
    a->verify_asked = 1;
    fetch_chain(a->fetch, 1);
    app_notify(a, 0, "verifying the fingerprint chain...");
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
        app_notify(a, 1, "interval must be 100..60000 ms");
        return -1;
    }
    a->interval_ms = (int)v;
    app_notify(a, 0, "refresh every %d ms", a->interval_ms);
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

void app_apply_theme(struct app *a)
{
    theme_apply(&a->theme, a->colors, a->roles);
    a->dirty = D_ALL;
}

static int c_theme(struct app *a, const char *arg)
{
    char err[256];
    if (arg == NULL || !*arg) {
        app_notify(a, 1, "theme needs a NAME");
        return -1;
    }
    if (theme_load(theme_dir(), arg, &a->theme, err, sizeof err) != 0)
        app_notify(a, 1, "%s; using the default theme", err);
    else
        app_notify(a, 0, "theme %s%s", arg, a->colors ? "" : " (no colour: attributes only)");
    app_apply_theme(a);
    return 0;
}

static int c_theme_next(struct app *a, const char *x)
{
    char names[32][64];
    int n = theme_list(theme_dir(), names, 32), i;
    (void)x;
    if (n == 0) {
        app_notify(a, 1, "no themes in %s", theme_dir());
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
        app_notify(a, 1, "sparklines: no style \"%s\" (block or braille)", arg);
        return -1;
    }
    if (braille && (why = braille_refused(a)) != NULL) {
        app_notify(a, 1, "%s", why);
        return -1;
    }
    a->spark_g = braille ? &glyphs_braille : a->g;
    a->learn_w = -1; /* the Learning pane's lines carry the sparklines */
    a->dirty |= D_LEARNING | D_DETAILS;
    app_notify(a, 0, "sparklines: %s", braille ? "braille (two values a cell)" : "block");
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
            const struct deploy_view *v = app_live_view(a, ids[i]);
            if (v && !traj_state_terminal(v->state))
                a->targets[a->ntargets++] = ids[i];
        }
    }
    if (a->ntargets == 0) {
        app_notify(a, 1, "kill: nothing selected is queued or running");
        return -1;
    }
    len = (size_t)snprintf(msg, sizeof msg, "Kill %zu deployment%s:", a->ntargets,
                           a->ntargets == 1 ? "" : "s");
    for (size_t i = 0; i < a->ntargets && len < sizeof msg - 40; i++) {
        const struct deploy_view *v = app_live_view(a, a->targets[i]);
        char idl[96];
        app_id_label(a, v->id, idl, sizeof idl);
        len +=
            (size_t)snprintf(msg + len, sizeof msg - len, " %s %s/%s", idl, v->strategy, v->symbol);
    }
    snprintf(msg + len, sizeof msg - len, "?");
    confirm(a, CF_KILL, "Kill", msg, "Kill");
    return 0;
}

/* Reap orphans (recover_orphans: kills, removals, store writes) on the job
 * worker; the finished rows are hidden when it is done (app_jobs.c). */
static int c_cleanup(struct app *a, const char *x)
{
    (void)x;
    if (a->nhidden > 0) { /* a toggle: the hidden rows come back */
        size_t n = a->nhidden;
        a->nhidden = 0;
        app_refresh(a);
        app_notify(a, 0, "cleanup: %zu finished row(s) shown again (c hides them)", n);
        return 0;
    }
    return app_job_cleanup(a, 0);
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
    /* Beside a daemon what runs goes on (docs/daemon.md): nothing to ask. */
    if (live == 0 || a->remote != NULL) {
        a->quit = 1;
        return 0;
    }
    snprintf(msg, sizeof msg, "%d deployment(s) are queued or running. Quitting cancels them.",
             live);
    confirm(a, CF_QUIT, "Quit", msg, "Quit");
    return 0;
}

static int c_deploy(struct app *a, const char *x)
{
    (void)x;
    if (!app_engine(a)) {
        app_notify(a, 1, "deploy: no engine in this console (read-only, no daemon)");
        return -1;
    }
    app_deploy_open(a);
    return 0;
}

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
        app_notify(a, 1, "patterns: nothing selected");
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
    if (!app_engine(a)) {
        app_notify(a, 1, "deploy: no engine in this console (read-only, no daemon)");
        return -1;
    }
    if ((p = current_pattern(a)) == NULL) {
        app_notify(a, 1, "patterns: select a pattern to deploy from");
        return -1;
    }
    app_deploy_from_pattern(a, p);
    return 0;
}

/* Esc in the main view: back out of the innermost thing open (a pattern's
 * detail, a filter, full screen). */
static int c_back(struct app *a, const char *x)
{
    (void)x;
    if (a->focus == P_PATTERNS && a->pat.open)
        c_pattern_open(a, NULL); /* back to the list */
    else if (a->focus == P_PATTERNS && a->pat.list.filter[0])
        c_pfilter(a, "");
    else if ((a->focus == P_OUTPUT || a->focus == P_DETAILS) &&
             (a->lv.filter[0] || a->lv.search[0]))
        app_c_ofilter(a, "");
    else if (a->tbl.filter[0])
        c_filter(a, "");
    else if (a->fullscreen)
        c_fullscreen(a, NULL);
    return 0;
}

/* Ctrl-A in the deploy dialog. */
static int c_apply(struct app *a, const char *x)
{
    (void)x;
    if (a->overlay != OV_DEPLOY) {
        app_notify(a, 1, "apply: the deploy dialog is not open");
        return -1;
    }
    return app_deploy_apply(a);
}

const struct command app_commands[] = {
    {"deploy", "", "open the deploy dialog", CMD_MUTATES | CMD_DAEMON, c_deploy},
    {"rerun", "", "open the deploy dialog filled from the selected deployment (R)",
     CMD_MUTATES | CMD_DAEMON, app_c_rerun},
    {"pattern-deploy", "", "open the deploy dialog filled from the selected pattern",
     CMD_MUTATES | CMD_DAEMON, c_pattern_deploy},
    {"pattern-open", "", "show or hide the selected pattern's detail and evidence", 0,
     c_pattern_open},
    {"kill", "", "kill the tagged (or selected) deployments, after confirmation",
     CMD_MUTATES | CMD_DAEMON, c_kill},
    {"pause-deployment", "", "pause the tagged (or selected) running deployments; paused: resume",
     CMD_MUTATES | CMD_DAEMON, app_c_pause_dep},
    {"run-output", "", "the output of the selected row's run (or the tagged rows), prefixed [ID]",
     0, app_c_run_output},
    {"cleanup", "", "reap orphans and hide finished rows; again: show them", CMD_MUTATES,
     c_cleanup},
    {"cleanup-all", "", "cancel everything and reap every sandbox (confirmation)", CMD_MUTATES,
     c_cleanup_all},
    {"quit", "", "quit (asks when deployments are running)", 0, c_quit},
    {"q", "", "quit, as in vi (:q)", 0, c_quit},
    {"help", "", "show the keys", 0, c_help},
    {"theme", "NAME", "switch to a theme (themes/NAME.theme)", CMD_ARG, c_theme},
    {"theme-next", "", "cycle through the themes", 0, c_theme_next},
    {"sparklines", "[STYLE]", "sparklines in block or braille (no STYLE: switch)", 0, c_sparklines},
    {"export", "FILE", "write the tagged rows (none: the visible table) as CSV (0600)", CMD_ARG,
     c_export},
    {"export-run", "FILE", "write the selected row's run as CSV (0600)", CMD_ARG, app_c_export_run},
    {"save", "[FILE]",
     "save the selection's whole output to FILE (0600; running: the pane's lines)", 0, c_save},
    {"filter", "TEXT", "filter the table (text, or column:text)", 0, c_filter},
    {"filter-patterns", "TEXT", "filter the patterns (text, or column:text)", 0, c_pfilter},
    {"search", "TEXT", "search the output (highlight, n/N move)", CMD_ARG, c_search},
    {"filter-output", "TEXT", "show only the output lines containing TEXT (none: every line)", 0,
     app_c_ofilter},
    {"protocol", "", "show or hide the output's @@ protocol lines", 0, app_c_protocol},
    {"search-next", "", "next search match", 0, c_search_next},
    {"search-prev", "", "previous search match", 0, c_search_prev},
    {"find", "", "filter the focused list or the output's lines (Esc clears)", 0, c_slash},
    {"sort", "COLUMN", "sort the focused list by COLUMN", CMD_ARG, c_sort},
    {"sort-next", "", "sort by the next column", 0, c_sort_next},
    {"sort-invert", "", "invert the sort order", 0, c_sort_invert},
    {"tag", "", "tag or untag the selected row", 0, c_tag},
    {"tag-all", "", "tag every row the table shows (the filter's)", 0, app_c_tag_all},
    {"untag-all", "", "untag every row", 0, app_c_untag_all},
    {"compare", "",
     "compare the two tagged deployments (or the two runs of the tagged rows) side by side", 0,
     app_c_compare},
    {"compare-run", "A B", "compare runs A and B side by side", CMD_ARG, app_c_compare_run},
    {"host", "[NAME]", "show only host NAME's deployments (none: every host's)", 0, app_c_host},
    {"host-next", "", "show the next host's deployments only, then every host's", 0,
     app_c_host_next},
    {"deploy-host", "", "the deploy dialog's next host (with several)", 0, app_c_deploy_host},
    {"tag-run", "[RUN]", "tag the rows of RUN (none: the selected row's run)", 0, app_c_tag_run},
    {"kill-run", "[RUN]", "kill what still runs of RUN (none: the selected row's), confirmed",
     CMD_MUTATES | CMD_DAEMON, app_c_kill_run},
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
    {"back", "", "close the pattern detail, clear the filter or search or leave full screen", 0,
     c_back},
    {"apply", "", "deploy dialog: apply the suggestion's recommended values", 0, c_apply},
    {"suggestion-down", "", "deploy dialog: scroll the suggestion down a page", 0, app_c_sugg_down},
    {"suggestion-up", "", "deploy dialog: scroll the suggestion up a page", 0, app_c_sugg_up},
    {NULL, NULL, NULL, 0, NULL},
};
static const struct command *cmd_find(const char *name, size_t len)
{
    for (const struct command *c = app_commands; c->name; c++)
        if (strlen(c->name) == len && strncmp(c->name, name, len) == 0)
            return c;
    return NULL;
}

/* The one dispatcher: keys and the palette both come here, and this is the
 * only place --readonly is enforced. */
int app_cmd_run(struct app *a, const char *line)
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
        app_notify(a, 1, "unknown command \"%.*s\" (Tab completes, ? lists keys)",
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
    if ((c->flags & CMD_MUTATES) && a->readonly && !((c->flags & CMD_DAEMON) && a->remote)) {
        app_notify(a, 1, "read-only: \"%s\" refused (started with --readonly)", c->name);
        return -1;
    }
    if ((c->flags & CMD_ARG) && arg == NULL) {
        app_notify(a, 1, "%s needs %s", c->name, c->args);
        return -1;
    }
    return c->exec(a, arg);
}

int app_cmd_complete(void *ctx, const char *line, const char **out, int max)
{
    static char names[32][64];
    int n = 0;
    const char *sp = strchr(line, ' ');
    (void)ctx;
    if (sp == NULL) {
        for (const struct command *c = app_commands; c->name && n < max; c++)
            if (strncmp(c->name, line, strlen(line)) == 0)
                out[n++] = c->name;
        return n;
    }
    if (strncmp(line, "theme ", 6) == 0) {
        int k = theme_list(theme_dir(), names, 32);
        for (int i = 0; i < k && n < max; i++)
            if (strncmp(names[i], sp + 1, strlen(sp + 1)) == 0)
                out[n++] = names[i];
    } else if (strncmp(line, "host ", 5) == 0 && ctx != NULL) {
        const struct app *ap = ctx; /* the hosts' names */
        for (int h = 0; h < ap->nrem && n < max; h++)
            if (ap->rem[h] && strncmp(ap->hname[h], sp + 1, strlen(sp + 1)) == 0)
                out[n++] = ap->hname[h];
    } else if (strncmp(line, "sort ", 5) == 0) {
        const struct table *t = ctx ? &((struct app *)ctx)->tbl : NULL;
        for (int i = 0; t && i < t->ncols && n < max; i++)
            if (strncasecmp(t->cols[i].title, sp + 1, strlen(sp + 1)) == 0)
                out[n++] = t->cols[i].title;
    }
    return n;
}
/* --- confirmations and prompts ---------------------------------------------- */

void app_confirm_done(struct app *a, int yes)
{
    a->overlay = OV_NONE;
    a->dirty = D_ALL;
    if (a->confirm_kind == CF_LAUNCH) { /* back to the dialog, launched or not */
        a->overlay = OV_DEPLOY;
        a->launch_ok = yes;
        if (yes)
            app_deploy_submit(a);
        else
            app_notify(a, 0, "launch not confirmed: the dialog is as it was");
        return;
    }
    if (!yes) {
        app_notify(a, 0, "cancelled");
        return;
    }
    if (a->confirm_kind == CF_QUIT) {
        a->quit = 1;
    } else if (a->confirm_kind == CF_KILL) {
        /* Cancelling a queued deployment writes its final state to the
         * store: the job worker does it (app_jobs.c). */
        table_untag_all(&a->tbl);
        app_job_kill(a, a->targets, a->ntargets);
    } else if (a->confirm_kind == CF_CLEANUP_ALL) {
        app_job_cleanup(a, 1);
    }
}

/* A key while the palette or a prompt is open: the line goes to the
 * command it was opened for when submitted; filters apply as typed. */
void app_input_key(struct app *a, int key)
{
    int f = inputline_ops.key(&a->in, key);
    a->dirty |= D_FOOTER | (a->in.cands[0] ? D_ALL : 0);
    if (f & WF_CANCEL) {
        /* Esc clears what the prompt set (a filter applies as typed) */
        a->overlay = OV_NONE;
        a->dirty = D_ALL;
        if (a->input_kind == IN_FILTER)
            c_filter(a, "");
        else if (a->input_kind == IN_PFILTER)
            c_pfilter(a, "");
        else if (a->input_kind == IN_OFILTER)
            app_c_ofilter(a, "");
        else if (a->input_kind == IN_SEARCH) {
            a->lv.search[0] = '\0';
            a->lv.match_seq = 0;
        }
    } else if (f & WF_SUBMIT) {
        char line[INPUT_MAX];
        snprintf(line, sizeof line, "%s", a->in.buf);
        a->overlay = OV_NONE;
        a->dirty = D_ALL;
        if (a->input_kind == IN_CMD)
            app_cmd_run(a, line);
        else if (a->input_kind == IN_FILTER)
            c_filter(a, line);
        else if (a->input_kind == IN_PFILTER)
            c_pfilter(a, line);
        else if (a->input_kind == IN_SEARCH)
            c_search(a, line);
        else if (a->input_kind == IN_OFILTER)
            app_c_ofilter(a, line);
        else if (a->input_kind == IN_SAVE)
            c_save(a, line[0] ? line : NULL);
    } else if ((f & WF_CHANGED) && a->input_kind == IN_FILTER) {
        c_filter(a, a->in.buf); /* filter as typed */
    } else if ((f & WF_CHANGED) && a->input_kind == IN_PFILTER) {
        c_pfilter(a, a->in.buf);
    } else if ((f & WF_CHANGED) && a->input_kind == IN_OFILTER) {
        app_c_ofilter(a, a->in.buf);
    }
}

const char *app_cmd_desc(const char *line)
{
    const char *sp = strchr(line, ' ');
    const struct command *c = cmd_find(line, sp ? (size_t)(sp - line) : strlen(line));
    return c ? c->desc : "";
}
