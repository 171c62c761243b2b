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

const char *app_provider_kind(const struct app *a, const char *name)
{
    for (size_t i = 0; name && i < a->nprov; i++)
        if (strcmp(a->prov[i].name, name) == 0)
            return a->prov[i].kind;
    return name ? name : "";
}

int app_launch_confirm(struct app *a, long agents, const char *strategy, const char *provider)
{
    int many = agents > console_prefs.confirm_agents;
    int paid = console_prefs.confirm_paid && prefs_paid_provider(app_provider_kind(a, provider));
    char msg[512];

    if (a->launch_ok || (!many && !paid)) {
        a->launch_ok = 0;
        return 0;
    }
    snprintf(msg, sizeof msg, "Launch %ld agent%s of %s on %s?%s%s", agents, agents == 1 ? "" : "s",
             strategy, provider && *provider ? provider : "local",
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
    char key[32];
    const char *asked;
    snprintf(key, sizeof key, "%lld", (long long)id);
    if (json_object_get(a->failovers, key) != NULL)
        return 1;
    asked = json_string_value(json_object_get(a->asked, key));
    return asked != NULL && prov != NULL && strcmp(asked, prov) != 0 &&
           strcmp(asked, app_provider_kind(a, prov)) != 0;
}

void app_prov_cell(const struct app *a, int64_t id, const char *prov, char *b, size_t n)
{
    snprintf(b, n, "%s%s", prov, app_failed_over(a, id, prov) ? "~" : "");
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
