/*
 * app_ops.c: the console commands of the operator's day (issue 16), kept
 * apart from app_cmds.c's table-and-dispatcher file: the output pane's line
 * filters. Each is an exec of the command table (app_cmds.c) and follows
 * its contract: validate, act or hand slow work to the job worker, set
 * dirty bits, never draw.
 *
 * UI thread only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "catalog.h"
#include "traj.h"
#include "prefs.h"
#include "traj.h"
#include "util.h"

/* `@`: show or hide the "@@" protocol lines of the output pane. */
int app_c_protocol(struct app *a, const char *x)
{
    (void)x;
    a->lv.hide_proto = !a->lv.hide_proto;
    app_notify(a, 0, "protocol lines (@@) %s", a->lv.hide_proto ? "hidden" : "shown");
    a->dirty |= D_OUTPUT;
    return 0;
}

/* Show only the output lines containing arg ("" or NULL: every line); the
 * matches are highlighted too (the search text follows the filter). */
int app_c_ofilter(struct app *a, const char *arg)
{
    logview_set_filter(&a->lv, arg ? arg : "");
    snprintf(a->lv.search, sizeof a->lv.search, "%s", arg ? arg : "");
    a->lv.match_seq = 0;
    a->dirty |= D_OUTPUT;
    return 0;
}

size_t app_host_providers(const struct app *a, int host, struct provider_health *out, size_t max)
{
    size_t n = a->nprov < max ? a->nprov : max;

    if (a->multi && host >= 0 && host < a->nrem && a->rem[host] != NULL)
        return remote_providers(a->rem[host], out, max);
    memcpy(out, a->prov, n * sizeof *out);
    return n;
}

void app_provider_kind(const struct app *a, int host, const char *name, char *kind, size_t n)
{
    struct provider_health ph[8];
    size_t np = app_host_providers(a, host, ph, 8);

    snprintf(kind, n, "%s", name ? name : "");
    for (size_t i = 0; name && i < np; i++)
        if (strcmp(ph[i].name, name) == 0) {
            snprintf(kind, n, "%s", ph[i].kind);
            return;
        }
}

int app_launch_confirm(struct app *a, long agents, const char *strategy, const char *provider)
{
    int many = agents > console_prefs.confirm_agents, paid;
    char msg[512], kind[32];

    /* the kind of the provider of the host the launch goes to, not the first host's */
    app_provider_kind(a, a->deploy_host, provider, kind, sizeof kind);
    paid = console_prefs.confirm_paid && prefs_paid_provider(kind);

    /* With several hosts every launch names its host and asks first. */
    if (a->launch_ok || (!many && !paid && !a->multi)) {
        a->launch_ok = 0;
        return 0;
    }
    snprintf(msg, sizeof msg, "Launch %ld agent%s of %s on %s%s%s?%s%s", agents,
             agents == 1 ? "" : "s", strategy, provider && *provider ? provider : "local",
             a->multi ? " at host " : "", a->multi ? app_host_name(a, a->deploy_host) : "",
             paid ? "\n\nThis provider is paid: every sandbox is billed." : "",
             many ? "\n\nThat is more than the confirmation threshold." : "");
    a->confirm_kind = CF_LAUNCH;
    dialog_init(&a->dlg, "Launch", msg, "Cancel", "Launch");
    a->overlay = OV_CONFIRM;
    a->dirty = D_ALL;
    return 1;
}

int app_failed_over(const struct app *a, int64_t id, const char *prov)
{
    char key[32], kind[32];
    const char *asked;
    snprintf(key, sizeof key, "%lld", (long long)id);
    if (json_object_get(a->failovers, key) != NULL)
        return 1;
    asked = json_string_value(json_object_get(a->asked, key));
    if (asked == NULL || prov == NULL || strcmp(asked, prov) == 0)
        return 0;
    app_provider_kind(a, REMOTE_HOST(id), prov, kind, sizeof kind); /* the row's host's */
    return strcmp(asked, kind) != 0;
}

void app_prov_cell(const struct app *a, int64_t id, const char *prov, char *b, size_t n)
{
    /* the column is 5 wide at 80 columns: the name is cut so the mark shows */
    if (app_failed_over(a, id, prov))
        snprintf(b, n, "%.4s~", prov);
    else
        snprintf(b, n, "%s", prov);
}

int app_symbol_synthetic(struct app *a, const char *symbol)
{
    json_t *v;
    struct data_source ds;
    struct sd_err err = {0};
    int syn;

    if (symbol == NULL || !*symbol)
        return 0;
    if (a->synth == NULL)
        a->synth = json_object();
    if ((v = json_object_get(a->synth, symbol)) != NULL)
        return json_is_true(v);
    /* two access() calls, once per symbol: no store read on the UI thread */
    syn = catalog_data_resolve(NULL, symbol, NULL, &ds, &err) == 0 && ds.synthetic;
    json_object_set_new(a->synth, symbol, json_boolean(syn));
    return syn;
}

int app_c_sugg_down(struct app *a, const char *x)
{
    (void)x;
    return a->overlay == OV_DEPLOY ? app_deploy_sugg_scroll(a, 1) : 0;
}

int app_c_sugg_up(struct app *a, const char *x)
{
    (void)x;
    return a->overlay == OV_DEPLOY ? app_deploy_sugg_scroll(a, -1) : 0;
}

void app_run_track(struct app *a, int64_t run, int64_t first, int64_t last, int own)
{
    a->runs = xrealloc(a->runs, (a->nruns + 1) * sizeof *a->runs);
    a->runs[a->nruns++] = (struct app_run){run, first, last, own};
}

void app_runs_check(struct app *a)
{
    for (size_t i = 0; i < a->nruns; i++) {
        struct app_run *r = &a->runs[i];
        int open = 0, failed = 0;
        if (!r->own)
            continue;
        for (int64_t id = r->first; id <= r->last && !open; id++) {
            const struct deploy_view *v = app_live_view(a, id);
            if (v == NULL) /* not listed yet: still to come */
                open = 1;
            else if (!traj_state_terminal(v->state))
                open = 1;
            else if (v->state != TS_SUCCEEDED)
                failed = 1;
        }
        if (open)
            continue;
        run_end(a->store, r->run, failed ? "failed" : "succeeded", NULL);
        r->own = 0; /* ended: keep it for app_row_run */
    }
}

void app_runs_close(struct app *a)
{
    for (size_t i = 0; i < a->nruns; i++)
        if (a->runs[i].own) {
            run_end(a->store, a->runs[i].run, "cancelled", "the console quit");
            a->runs[i].own = 0;
        }
}

int64_t app_row_run(const struct app *a, int64_t id)
{
    char key[32];
    for (size_t i = 0; i < a->nruns; i++)
        if (id >= a->runs[i].first && id <= a->runs[i].last)
            return a->runs[i].run;
    snprintf(key, sizeof key, "%lld", (long long)id);
    return json_integer_value(json_object_get(a->runmap, key));
}

/* `*`: tag every row the table shows (what the filter lets through). */
int app_c_tag_all(struct app *a, const char *x)
{
    size_t n = 0;
    (void)x;
    for (size_t i = 0; i < a->tbl.nview; i++) {
        int64_t id = a->tbl.rows[a->tbl.view[i]].id;
        if (!table_tagged(&a->tbl, id)) {
            table_tag_toggle(&a->tbl, id);
            n++;
        }
    }
    app_notify(a, 0, "tagged %zu row(s)%s (U untags all)", n,
               a->tbl.filter[0] ? " the filter shows" : "");
    a->dirty |= D_TABLE;
    return 0;
}

/* `U`: untag every row (htop). */
int app_c_untag_all(struct app *a, const char *x)
{
    size_t n = a->tbl.ntags;
    (void)x;
    table_untag_all(&a->tbl);
    app_notify(a, 0, "untagged %zu row(s)", n);
    a->dirty |= D_TABLE;
    return 0;
}

/* Tag every row of the selected row's run (or run arg); returns the run,
 * or 0 (said) when there is none. With several hosts each numbers its own
 * runs: the selected row's host's. */
static int64_t tag_run(struct app *a, const char *arg)
{
    int64_t run = arg && *arg ? strtoll(arg[0] == '#' ? arg + 1 : arg, NULL, 10)
                              : app_row_run(a, table_selected(&a->tbl));
    int host = REMOTE_HOST(table_selected(&a->tbl) > 0 ? table_selected(&a->tbl) : 0);
    size_t n = 0;
    if (run <= 0) {
        app_notify(a, 1, arg && *arg ? "no run \"%s\"" : "the selected row belongs to no run%s",
                   arg && *arg ? arg : "");
        return 0;
    }
    table_untag_all(&a->tbl);
    for (size_t i = 0; i < a->tbl.nrows; i++)
        if (app_row_run(a, a->tbl.rows[i].id) == run &&
            (!a->multi || REMOTE_HOST(a->tbl.rows[i].id) == host)) {
            table_tag_toggle(&a->tbl, a->tbl.rows[i].id);
            n++;
        }
    if (n == 0) {
        app_notify(a, 1, "run #%lld has no row in the table", (long long)run);
        return 0;
    }
    app_notify(a, 0, "tagged the %zu row(s) of run #%lld", n, (long long)run);
    a->dirty |= D_TABLE;
    return run;
}

int app_c_tag_run(struct app *a, const char *arg)
{
    return tag_run(a, arg) > 0 ? 0 : -1;
}

/* Kill a run: tag its rows, then the kill confirmation (of what still runs). */
int app_c_kill_run(struct app *a, const char *arg)
{
    if (tag_run(a, arg) <= 0)
        return -1;
    return app_cmd_run(a, "kill");
}

/* Export the selected row's run: its rows tagged, then export. */
int app_c_export_run(struct app *a, const char *arg)
{
    char line[INPUT_MAX];
    if (tag_run(a, NULL) <= 0)
        return -1;
    snprintf(line, sizeof line, "export %s", arg);
    return app_cmd_run(a, line);
}

int app_c_rerun(struct app *a, const char *x)
{
    (void)x;
    if (!app_engine(a)) {
        app_notify(a, 1, "re-run: no engine in this console (read-only, no daemon)");
        return -1;
    }
    return app_deploy_rerun(a);
}
