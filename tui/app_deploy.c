/*
 * app_deploy.c: the deploy dialog (app_int.h): a form built from the
 * catalog (strategy, symbols, agents, provider, pace, timeout, description,
 * then the strategy's own parameters), filled from a learned pattern on
 * request, with the learner's suggestion beside it. Enter hands the form
 * to the job worker (app_jobs.c), which checks every deployment before it
 * queues any; the dialog says "deploying..." and ignores edits until the
 * outcome: closed on success, the error in the form on failure.
 *
 * UI thread only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "catalog.h"
#include "launch.h"
#include "prefs.h"
#include "util.h"

#define DEPLOY_STR_(x) #x
#define DEPLOY_STR(x)  DEPLOY_STR_(x) /* a number macro as a string literal */

/* --- deploy dialog ------------------------------------------------------------ */

#define DF_STRATEGY 0
#define DF_SYMBOLS  1
#define DF_AGENTS   2
#define DF_PROVIDER 3
#define DF_PACE     4
#define DF_TIMEOUT  5
#define DF_DESC     6
#define DF_PARAMS   7

static void deploy_suggest(struct app *a);
static void deploy_providers(struct app *a);
static int deploy_fill(struct app *a, const json_t *spec);

/* The symbol field against `data list` (complete.h): the hint lists what the last symbol
 * completes to (synthetic marked), an unknown symbol is the field's error. While typing
 * (final 0) a last symbol that is still the start of some known one is not an error yet.
 * Returns 0 when every symbol is known. */
static int deploy_symbols_check(struct app *a, int final)
{
    struct form_field *f = &a->form.f[DF_SYMBOLS];
    char hint[sizeof f->hint], head[sizeof f->buf];
    const char *comma = strrchr(f->buf, ',');

    complete_hint(&a->symc, f->buf, hint, sizeof hint);
    snprintf(f->hint, sizeof f->hint, "%s",
             hint[0] ? hint : "comma-separated; agents take them round robin; Tab completes");
    if (form_validate(f) != 0)
        return -1;
    if (!final && hint[0]) { /* the last one is being typed: check those before it */
        if (comma == NULL)
            return 0;
        snprintf(head, sizeof head, "%.*s", (int)(comma - f->buf), f->buf);
        return complete_check(&a->symc, head, f->err, sizeof f->err);
    }
    return complete_check(&a->symc, f->buf, f->err, sizeof f->err);
}

static void deploy_params(struct app *a)
{
    const struct catalog *cat = app_catalog(a);
    const struct strategy_def *d = catalog_at(cat, (size_t)a->form.f[DF_STRATEGY].choice);
    char syms[160] = "";

    form_truncate(&a->form, DF_PARAMS);
    for (size_t i = 0; d->symbols && i < json_array_size(d->symbols); i++) {
        size_t l = strlen(syms);
        snprintf(syms + l, sizeof syms - l, "%s%s", i ? "," : "",
                 json_string_value(json_array_get(d->symbols, i)));
    }
    /* The operator's default symbols (config) before the strategy's own. */
    if (console_prefs.symbols[0])
        form_set(&a->form, DF_SYMBOLS, console_prefs.symbols);
    else
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

/* The provider field's choices: every provider instance of the engine (of
 * the dialog's host, with several), its default first chosen. Its breaker
 * state is in the header, and the suggestion says when it is open. */
static void deploy_providers(struct app *a)
{
    struct form_field *f = &a->form.f[DF_PROVIDER];
    struct provider_health h[8];
    const char *want = app_default_provider(a);
    struct remote_info ri;
    size_t np = app_host_providers(a, a->deploy_host, h, 8);
    int sel = 0;

    if (a->multi && a->rem[a->deploy_host] != NULL) {
        remote_info(a->rem[a->deploy_host], &ri);
        want = ri.default_provider;
    }
    for (size_t i = 0; i < np && i < 8; i++) {
        memcpy(a->dlg_prov[i], h[i].name, sizeof a->dlg_prov[i]); /* both char[32] */
        a->dlg_prov[i][sizeof a->dlg_prov[i] - 1] = '\0';
        f->choices[i] = a->dlg_prov[i];
        if (want && sel == 0 && (strcmp(h[i].name, want) == 0 || strcmp(h[i].kind, want) == 0))
            sel = (int)i;
    }
    f->nchoices = (int)(np < 8 ? np : 8);
    f->choice = sel;
    form_validate(f);
}

/* The provider field's hint: the chosen instance's health on the host the
 * launch goes to (kind, region, breaker, failures, create latency), read
 * at each frame, so a breaker that opens while the dialog is open shows. */
static void deploy_provider_health(struct app *a)
{
    struct form_field *f = &a->form.f[DF_PROVIDER];
    struct provider_health h[8];
    size_t np = app_host_providers(a, a->deploy_host, h, 8);
    const char *name = form_value(&a->form, DF_PROVIDER);

    f->hint[0] = '\0';
    for (size_t i = 0; name && i < np; i++) {
        char what[64];
        size_t l;
        if (strcmp(h[i].name, name) != 0)
            continue;
        snprintf(what, sizeof what, "%s%s%s%s", h[i].kind, h[i].region[0] ? " (" : "", h[i].region,
                 h[i].region[0] ? ")" : "");
        l = (size_t)snprintf(f->hint, sizeof f->hint, "%s%s%s%s, breaker %s", a->multi ? "on " : "",
                             a->multi ? app_host_name(a, a->deploy_host) : "", a->multi ? ": " : "",
                             what, h[i].breaker[0] ? h[i].breaker : "?");
        if (h[i].failures > 0 && l < sizeof f->hint)
            l += (size_t)snprintf(f->hint + l, sizeof f->hint - l, ", %d failure%s", h[i].failures,
                                  h[i].failures == 1 ? "" : "s");
        if (h[i].create_ms > 0 && l < sizeof f->hint)
            snprintf(f->hint + l, sizeof f->hint - l, ", create %.0f ms", h[i].create_ms);
        return;
    }
}

void app_deploy_host_changed(struct app *a)
{
    deploy_providers(a);
    deploy_suggest(a);
}

void app_deploy_open(struct app *a)
{
    const struct catalog *cat = app_catalog(a);
    int64_t row = table_selected(&a->tbl);

    /* With several hosts: the selected row's host, else the last one used. */
    if (a->multi && row > 0 && app_remote_of(a, row) != NULL)
        a->deploy_host = REMOTE_HOST(row);
    const char *names[FORM_MAX_CHOICES];
    size_t n = catalog_count(cat);
    char tmo[32], pace[24];

    form_init(&a->form, "Deploy");
    for (size_t i = 0; i < n && i < FORM_MAX_CHOICES; i++)
        names[i] = catalog_at(cat, i)->name;
    form_add_choice(&a->form, "strategy", "strategy", names, (int)n, 0);
    form_add(&a->form, "symbols", "symbol(s)", FT_TEXT, "SPY", 0, 0,
             "comma-separated; agents take them round robin");
    a->form.f[DF_SYMBOLS].required = 1;
    /* the daemon's and the CLI's bound (LAUNCH_MAX); the launch
     * confirmation guards the large counts */
    form_add(&a->form, "agents", "agents", FT_INT, "1", 1, LAUNCH_MAX,
             "[1, " DEPLOY_STR(LAUNCH_MAX) "] deployments");
    form_add_choice(&a->form, "provider", "provider", NULL, 0, 0);
    deploy_providers(a);
    snprintf(pace, sizeof pace, "%ld", console_prefs.pace);
    form_add(&a->form, "pace", "pace", FT_INT, pace, 0, 100000,
             "[0, 100000] bars/s to replay (0 = full speed)");
    snprintf(tmo, sizeof tmo, "%g", (double)app_default_timeout(a) / 1000);
    form_add(&a->form, "timeout", "timeout s", FT_NUM, tmo, 0.001, 86400, "[0.001, 86400] seconds");
    form_add(&a->form, "description", "description", FT_TEXT, "", 0, 0, "searchable later");
    {
        struct sd_err err = {0};
        json_t *syms = catalog_data_list(a->store, &err); /* what `data list` lists */
        complete_load(&a->symc, syms);
        json_decref(syms);
    }
    deploy_params(a);
    if (a->last_launch != NULL) /* the dialog remembers the last launch */
        deploy_fill(a, a->last_launch);
    a->overlay = OV_DEPLOY;
    a->sugg_tv.top = 0;
    deploy_suggest(a);
    deploy_symbols_check(a, 0);
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

/* Fill the open dialog from spec {strategy, symbols, agents, provider, pace,
 * timeout (s), description, params} (each optional; the strategy first, as
 * it decides the parameter fields). Returns the values that did not fit
 * (out of range, unknown): 0 when all did; -1 when the strategy is not in
 * the catalog (nothing changed). */
static int deploy_fill(struct app *a, const json_t *spec)
{
    const struct catalog *cat = app_catalog(a);
    const char *strat = json_string_value(json_object_get(spec, "strategy")), *key;
    static const char *const fields[] = {"symbols", "agents", "pace", "timeout", "description"};
    static const int idx[] = {DF_SYMBOLS, DF_AGENTS, DF_PACE, DF_TIMEOUT, DF_DESC};
    json_t *v;
    char buf[160];
    int bad = 0, found = -1;

    for (size_t i = 0; strat && i < catalog_count(cat) && i < FORM_MAX_CHOICES; i++)
        if (strcmp(catalog_at(cat, i)->name, strat) == 0)
            found = (int)i;
    if (found < 0)
        return -1;
    a->form.f[DF_STRATEGY].choice = found;
    deploy_params(a);
    for (size_t k = 0; k < sizeof idx / sizeof idx[0]; k++)
        if ((v = json_object_get(spec, fields[k])) != NULL && !json_is_null(v)) {
            json_text(v, buf, sizeof buf);
            bad += form_set(&a->form, idx[k], buf) != 0;
        }
    if (json_is_string(json_object_get(spec, "provider"))) {
        const char *p = json_string_value(json_object_get(spec, "provider"));
        for (int i = 0; i < a->form.f[DF_PROVIDER].nchoices; i++)
            if (strcmp(a->form.f[DF_PROVIDER].choices[i], p) == 0)
                a->form.f[DF_PROVIDER].choice = i;
    }
    json_object_foreach(json_object_get(spec, "params"), key, v)
    {
        int k = form_find(&a->form, key);
        if (k < DF_PARAMS)
            continue;
        json_text(v, buf, sizeof buf);
        bad += form_set(&a->form, k, buf) != 0;
    }
    return bad;
}

/* What the form holds, as deploy_fill takes it (new reference). */
static json_t *form_params(const struct app *a);
static json_t *form_spec(const struct app *a)
{
    const struct strategy_def *d =
        catalog_at(app_catalog(a), (size_t)a->form.f[DF_STRATEGY].choice);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "strategy", d ? d->name : "",
                     "symbols", form_value(&a->form, DF_SYMBOLS), "agents",
                     form_value(&a->form, DF_AGENTS), "provider", form_value(&a->form, DF_PROVIDER),
                     "pace", form_value(&a->form, DF_PACE), "timeout",
                     form_value(&a->form, DF_TIMEOUT), "description", form_value(&a->form, DF_DESC),
                     "params", form_params(a));
}

/* `R`: the dialog filled from the selected past deployment: its strategy,
 * symbol, parameters, provider and description (from the store's details),
 * one agent. Nothing launches until Enter. */
int app_deploy_rerun(struct app *a)
{
    int64_t id = table_selected(&a->tbl);
    const json_t *d = a->detail;
    const struct deploy_view *lv = app_live_view(a, id);
    json_t *spec, *own = NULL;
    char desc[200];
    int bad;

    if (id <= 0) {
        app_notify(a, 1, "re-run: select a deployment");
        return -1;
    }
    if (REMOTE_HOST(id) > 0 && lv != NULL) {
        /* Another host's: its parameters are in its store, there; what its
         * daemon says of it (strategy, symbol, provider) fills the dialog. */
        own = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "strategy", lv->strategy,
                        "symbol", lv->symbol, "provider", lv->provider[0] ? lv->provider : "local");
        d = own;
    }
    if (d == NULL || json_integer_value(json_object_get(d, "id")) != id) {
        app_notify(a, 1, "re-run: #%lld's parameters are still being read; try again",
                   (long long)id);
        fetch_detail(a->fetch, id);
        return -1;
    }
    snprintf(desc, sizeof desc, "re-run of #%lld%s%.150s", (long long)REMOTE_LOCAL(id),
             json_is_string(json_object_get(d, "description")) ? ": " : "",
             json_is_string(json_object_get(d, "description"))
                 ? json_string_value(json_object_get(d, "description"))
                 : "");
    spec = json_pack("{s:O, s:O, s:i, s:O, s:s, s:O}", "strategy", json_object_get(d, "strategy"),
                     "symbols", json_object_get(d, "symbol"), "agents", 1, "provider",
                     json_object_get(d, "provider"), "description", desc, "params",
                     json_object_get(d, "params"));
    if (spec == NULL || !json_is_string(json_object_get(d, "strategy"))) {
        json_decref(spec);
        json_decref(own);
        app_notify(a, 1, "re-run: #%lld has no strategy to re-run", (long long)REMOTE_LOCAL(id));
        return -1;
    }
    app_deploy_open(a);
    bad = deploy_fill(a, spec);
    json_decref(spec);
    if (bad < 0) {
        a->overlay = OV_NONE;
        app_notify(a, 1, "re-run: strategy \"%s\" is not in this console's catalog",
                   json_string_value(json_object_get(d, "strategy")));
        json_decref(own);
        return -1;
    }
    deploy_suggest(a);
    if (own != NULL)
        app_notify(a, 0, "re-run of #%lld: its parameters are in %s's store; the defaults here",
                   (long long)REMOTE_LOCAL(id), app_host_name(a, REMOTE_HOST(id)));
    else
        app_notify(a, bad ? 1 : 0, "re-run of #%lld: the dialog holds its parameters%s",
                   (long long)id, bad ? " (some no longer valid)" : "");
    json_decref(own);
    a->dirty = D_ALL;
    return 0;
}

/* The deploy dialog filled from a learned pattern (panes.h: the parameters
 * and symbol of its best evidence run, else the middle of its region). The
 * operator reviews the form and the suggestion beside it before Enter. */
void app_deploy_from_pattern(struct app *a, const json_t *p)
{
    const struct catalog *cat = app_catalog(a);
    json_t *d = pane_pattern_deploy(p), *v;
    const char *strat = json_string_value(json_object_get(d, "strategy")), *key;
    int found = -1, set = 0, bad = 0;
    char desc[160], buf[160];

    for (size_t i = 0; i < catalog_count(cat) && i < FORM_MAX_CHOICES; i++)
        if (strcmp(catalog_at(cat, i)->name, strat) == 0)
            found = (int)i;
    if (found < 0) {
        app_notify(a, 1, "pattern: strategy \"%s\" is not in this console's catalog", strat);
        json_decref(d);
        return;
    }
    app_deploy_open(a);
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
    app_notify(a, bad ? 1 : 0, "deploy filled from the pattern (%s: %d value(s)%s)",
               json_string_value(json_object_get(d, "from")), set,
               bad ? ", some out of range" : "");
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

/* Enter: the form to the job worker (app_jobs.c), which checks every
 * deployment before it queues any; the outcome comes to app_deploy_done. */
void app_deploy_submit(struct app *a)
{
    const struct catalog *cat = app_catalog(a);
    const struct strategy_def *d = catalog_at(cat, (size_t)a->form.f[DF_STRATEGY].choice);
    json_t *params = form_params(a);
    struct app_deploy_req r = {
        .host = a->deploy_host,
        .strategy = d->name,
        .symbols = form_value(&a->form, DF_SYMBOLS),
        .description = form_value(&a->form, DF_DESC)[0] ? form_value(&a->form, DF_DESC) : NULL,
        .provider = form_value(&a->form, DF_PROVIDER),
        .params = params,
        .agents = strtol(form_value(&a->form, DF_AGENTS), NULL, 10),
        .timeout_ms = (int64_t)(strtod(form_value(&a->form, DF_TIMEOUT), NULL) * 1000),
        .pace = (int)strtol(form_value(&a->form, DF_PACE), NULL, 10),
    };

    if (app_launch_confirm(a, r.agents, r.strategy, r.provider)) {
        json_decref(params); /* asked first: the form stays as it is */
        return;
    }
    if (app_job_deploy(a, &r) == 0)
        a->deploying = 1;
    json_decref(params);
    a->dirty = D_ALL;
}

void app_deploy_done(struct app *a, const char *error, int64_t first, int64_t last,
                     const char *strategy)
{
    a->deploying = 0;
    a->dirty = D_ALL;
    if (a->overlay != OV_DEPLOY)
        return;
    if (error[0]) {
        snprintf(a->form.error, sizeof a->form.error, "%s", error);
        app_notify(a, 1, "deploy: not deployed");
        return;
    }
    {
        /* what was asked for, so a failover shows in the table (app_prov_cell) */
        const char *prov = form_value(&a->form, DF_PROVIDER);
        if (a->asked == NULL)
            a->asked = json_object();
        for (int64_t id = first; prov && *prov && id <= last; id++) {
            char key[32];
            snprintf(key, sizeof key, "%lld", (long long)id);
            json_object_set_new(a->asked, key, json_string(prov));
        }
    }
    json_decref(a->last_launch); /* the next dialog opens with it */
    a->last_launch = form_spec(a);
    a->overlay = OV_NONE;
    app_refresh(a);
    table_select_id(&a->tbl, first);
    app_sync_output(a);
    if (first == last)
        app_notify(a, 0, "deployed #%lld %s%s%s", (long long)REMOTE_LOCAL(first), strategy,
                   a->multi ? " on " : "", a->multi ? app_host_name(a, REMOTE_HOST(first)) : "");
    else
        app_notify(a, 0, "deployed #%lld..#%lld %s%s%s", (long long)REMOTE_LOCAL(first),
                   (long long)REMOTE_LOCAL(last), strategy, a->multi ? " on " : "",
                   a->multi ? app_host_name(a, REMOTE_HOST(first)) : "");
}

/* A key while the dialog is open (its own bindings, Ctrl-A, went through
 * the key table). While the submission is under way the form is frozen:
 * what was sent is what it shows. */
void app_deploy_key(struct app *a, int key)
{
    int f;

    if (a->deploying) {
        app_notify(a, 0, "deploying... (the dialog closes when it is done)");
        return;
    }
    if (key == WK_TAB && a->form.cur == DF_SYMBOLS) {
        /* Tab completes or cycles the last symbol; with nothing to complete it moves on. */
        char buf[sizeof a->form.f[DF_SYMBOLS].buf];
        snprintf(buf, sizeof buf, "%s", a->form.f[DF_SYMBOLS].buf);
        if (complete_tab(&a->symc, buf, sizeof buf)) {
            form_set(&a->form, DF_SYMBOLS, buf);
            a->form.error[0] = '\0';
            deploy_suggest(a);
            deploy_symbols_check(a, 0);
            a->dirty = D_ALL;
            return;
        }
    }
    f = form_ops.key(&a->form, key);
    if ((f & WF_SUBMIT) && deploy_symbols_check(a, 1) != 0) {
        /* An unknown symbol is refused here, naming it, before anything is sent. */
        snprintf(a->form.error, sizeof a->form.error, "symbol(s): %s", a->form.f[DF_SYMBOLS].err);
        a->form.cur = DF_SYMBOLS;
        a->dirty = D_ALL;
        return;
    }
    if (f & WF_CANCEL) {
        a->overlay = OV_NONE;
        app_notify(a, 0, "deploy cancelled");
    } else if (f & WF_SUBMIT) {
        a->form.error[0] = '\0';
        app_deploy_submit(a);
    } else if ((f & WF_CHANGED) && a->form.changed_field == DF_STRATEGY) {
        deploy_params(a);
    }
    if (f & WF_CHANGED) {
        a->form.error[0] = '\0';
        deploy_suggest(a); /* (it validates the form, which knows nothing of symbols) */
        deploy_symbols_check(a, 0);
    }
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
    const struct catalog *cat = app_catalog(a);
    const struct strategy_def *d = catalog_at(cat, (size_t)a->form.f[DF_STRATEGY].choice);
    char sym[32] = "SPY";
    struct sd_err err = {0};
    json_t *params;

    json_decref(a->sugg);
    a->sugg = NULL;
    a->sugg_err[0] = '\0';
    if (!app_learning(a) || d == NULL)
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
        a->sugg = app_suggest(a, &r, &err);
    }
    if (a->sugg == NULL)
        snprintf(a->sugg_err, sizeof a->sugg_err, "%.190s", err.msg);
    json_decref(params);
}

/* Ctrl-A: set every recommended parameter value in the form. */
static int apply_recommended(struct app *a)
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

int app_deploy_apply(struct app *a)
{
    int n;
    if (a->deploying)
        return 0; /* the form is frozen (app_deploy_key) */
    if ((n = apply_recommended(a)) > 0)
        app_notify(a, 0, "applied %d recommended value(s)", n);
    else
        app_notify(a, 0, "no recommendation to apply");
    deploy_suggest(a);
    a->dirty = D_ALL;
    return 0;
}

static int suggestion_width(const struct app *a)
{
    /* wider on wide screens: fewer wrapped rows */
    return app_learning(a) && COLS >= 120 ? (COLS >= 180 ? SUGG_W + 16 : SUGG_W) : 0;
}

/* Draw the panel in the rectangle (y, x, h, w): the suggestion's lines
 * (panes.h), wrapped on words, scrolled by PgDn/PgUp (sugg_tv.top). */
static void draw_suggestion(struct app *a, int y, int x, int h, int w)
{
    struct draw_ctx dc = app_dctx(a, 1);
    json_t *cur = form_params(a);
    pane_suggestion_fill(&a->sugg_tv, a->sugg, a->sugg_err, cur, w);
    json_decref(cur);
    textview_ops.draw(&a->sugg_tv, stdscr, y, x, h, w, &dc);
    if (a->sugg_tv.n > (size_t)h) { /* more than fits: say where the rest is */
        char m[48];
        snprintf(m, sizeof m, " PgDn/PgUp %zu/%zu ", a->sugg_tv.top + 1,
                 a->sugg_tv.n - (size_t)h + 1);
        wattrset(stdscr, a->roles[ROLE_FLASH]);
        glyph_put(stdscr, y + h - 1, x + w - glyph_width(m), m, glyph_width(m), 0);
        wattrset(stdscr, A_NORMAL);
    }
}

/* PgDn/PgUp in the dialog: scroll the suggestion. */
int app_deploy_sugg_scroll(struct app *a, int pages)
{
    int page = a->sugg_tv.page > 1 ? a->sugg_tv.page - 1 : 1;
    textview_scroll(&a->sugg_tv, (long)pages * page);
    a->dirty = D_ALL;
    return 0;
}

void app_deploy_draw(struct app *a)
{
    struct draw_ctx dc = app_dctx(a, 1);
    int sw = suggestion_width(a);
    int w = COLS - 4 > 110 + sw ? 110 + sw : COLS - 4, h = a->form.n + 5;
    int y0, x0;
    if (h > LINES - 2)
        h = LINES - 2;
    y0 = (LINES - h) / 2, x0 = (COLS - w) / 2;
    wattrset(stdscr, a->roles[ROLE_DIALOG]);
    for (int r = 0; r < h; r++)
        mvhline(y0 + r, x0, ' ', w);
    {
        char t[160];
        if (a->multi) /* the host: Ctrl-O cycles it (app_hosts.c) */
            snprintf(t, sizeof t,
                     "Deploy to %s (Enter launches, Esc cancels, Left/Right choose, "
                     "Ctrl-O host)",
                     app_host_name(a, a->deploy_host));
        else
            snprintf(t, sizeof t, "Deploy (Enter launches, Esc cancels, Left/Right choose)");
        glyph_box(stdscr, a->g, y0, x0, h, w, a->roles[ROLE_BORDER], t, a->roles[ROLE_TITLE_FOCUS]);
    }
    deploy_provider_health(a);
    form_ops.draw(&a->form, stdscr, y0 + 1, x0 + 2, h - 2, w - 4 - sw, &dc);
    if (sw > 0) {
        draw_suggestion(a, y0 + 1, x0 + w - sw - 1, h - 2, sw - 2);
    } else if (app_learning(a) && y0 + h < LINES) {
        /* Narrow terminal: the headline under the dialog. */
        char b[160];
        if (a->sugg) {
            const json_t *iv = json_object_get(a->sugg, "rewardInterval");
            size_t nops = json_array_size(json_object_get(a->sugg, "recommendedOperations"));
            if (json_array_size(iv) == 2)
                snprintf(b, sizeof b, " suggestion: reward %.3f (90%% %.3f to %.3f)%s ",
                         json_number_value(json_object_get(a->sugg, "expectedReward")),
                         json_number_value(json_array_get(iv, 0)),
                         json_number_value(json_array_get(iv, 1)),
                         nops ? ", Ctrl-A applies the recommendation" : "");
            else
                snprintf(b, sizeof b, " suggestion: reward %.3f from %lld similar run(s)%s ",
                         json_number_value(json_object_get(a->sugg, "expectedReward")),
                         (long long)json_integer_value(
                             json_object_get(json_object_get(a->sugg, "evidence"), "runs")),
                         nops ? ", Ctrl-A applies the recommendation" : "");
        } else
            snprintf(b, sizeof b, " suggestion: %.120s ", a->sugg_err[0] ? a->sugg_err : "none");
        wattrset(stdscr, a->roles[ROLE_DIALOG]);
        glyph_put(stdscr, y0 + h, x0, b, w, 1);
        wattrset(stdscr, A_NORMAL);
    }
}
