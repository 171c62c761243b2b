/*
 * scenario.c: the benchmark's scenarios and plans (scenario.h).
 *
 * The built-in scenarios are a table; a custom file is checked key by key
 * and every refusal names the file, the scenario and the rule, because the
 * operator fixes the file from that message alone. The check of a plan
 * does not try every deployment: requests repeat with a period (agents x the
 * lcm of the strategy count and each symbol list's length), so it tries
 * each distinct (agent parameters, strategy, symbol) once.
 */
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int agents, iterations;
} builtins[BENCH_BUILTINS] = {
    {"light-load", 1, 10}, {"medium-load", 5, 20}, {"heavy-load", 10, 30},
    {"stress", 20, 50},    {"burst-load", 50, 10},
};

static void scen_clear(struct bench_scen *s)
{
    json_decref(s->strategies);
    json_decref(s->params);
    json_decref(s->agent_params);
    json_decref(s->symbols);
    memset(s, 0, sizeof *s);
}

void bench_plan_init(struct bench_plan *p)
{
    memset(p, 0, sizeof *p);
    bench_thresholds_default(&p->th);
    p->tolerance = 0.2;
    for (size_t i = 0; i < BENCH_BUILTINS; i++) {
        struct bench_scen *s = &p->sc[p->nsc++];
        snprintf(s->name, sizeof s->name, "%s", builtins[i].name);
        s->agents = builtins[i].agents;
        s->iterations = builtins[i].iterations;
    }
}

void bench_plan_clear(struct bench_plan *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nsc; i++)
        scen_clear(&p->sc[i]);
    p->nsc = 0;
}

/* --- custom scenario files ------------------------------------------------- */

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 48)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return 0;
    return 1;
}

static int is_builtin(const char *name)
{
    for (size_t i = 0; i < BENCH_BUILTINS; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return 1;
    return 0;
}

static int int_in(json_t *v, long lo, long hi)
{
    return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

/* The file's "thresholds" object into th. */
static int file_thresholds(const char *file, json_t *t, struct bench_thresholds *th,
                           struct sd_err *err)
{
    const char *key;
    json_t *v;

    if (!json_is_object(t))
        return sd_err_set(err, SD_EUSAGE, "%s: \"thresholds\" must be an object", file);
    json_object_foreach(t, key, v)
    {
        double *dst = strcmp(key, "maxLatencyMs") == 0     ? &th->max_latency_ms
                      : strcmp(key, "minThroughput") == 0  ? &th->min_throughput
                      : strcmp(key, "maxErrorRate") == 0   ? &th->max_error_rate
                      : strcmp(key, "minSuccessRate") == 0 ? &th->min_success_rate
                                                           : NULL;
        if (dst == NULL)
            return sd_err_set(err, SD_EUSAGE,
                              "%s: unknown threshold \"%s\" (maxLatencyMs, minThroughput, "
                              "maxErrorRate, minSuccessRate)",
                              file, key);
        if (!json_is_number(v) || json_number_value(v) < 0 ||
            (strstr(key, "Rate") && json_number_value(v) > 1))
            return sd_err_set(err, SD_EUSAGE, "%s: threshold %s must be a number >= 0%s", file, key,
                              strstr(key, "Rate") ? " and <= 1" : "");
        *dst = json_number_value(v);
    }
    return 0;
}

/* A non-empty array of strings each passing ok (NULL: any string). */
static int strings_ok(json_t *v, int (*ok)(const char *))
{
    size_t k;
    json_t *x;

    if (!json_is_array(v) || json_array_size(v) == 0)
        return 0;
    json_array_foreach(v, k, x)
    {
        if (!json_is_string(x) || (ok && !ok(json_string_value(x))))
            return 0;
    }
    return 1;
}

/* One custom scenario object e (number i of file) into s. */
static int file_scenario(const char *file, size_t i, json_t *e, struct bench_scen *s,
                         struct sd_err *err)
{
    static const char *const keys[] = {"name",    "agents",      "iterations", "strategies",
                                       "params",  "agentParams", "symbol",     "symbols",
                                       "timeout", NULL};
    const char *key, *name = json_string_value(json_object_get(e, "name"));
    json_t *v;

    if (!json_is_object(e))
        return sd_err_set(err, SD_EUSAGE, "%s: scenario %zu must be an object", file, i);
    json_object_foreach(e, key, v)
    {
        size_t k = 0;
        while (keys[k] && strcmp(keys[k], key) != 0)
            k++;
        if (keys[k] == NULL)
            return sd_err_set(err, SD_EUSAGE, "%s: scenario %zu: unknown key \"%s\"", file, i, key);
    }
    if (name == NULL || !name_ok(name))
        return sd_err_set(err, SD_EUSAGE,
                          "%s: scenario %zu needs a \"name\" of 1-48 letters, digits, '-', '_' "
                          "or '.'",
                          file, i);
    if (is_builtin(name))
        return sd_err_set(err, SD_EUSAGE,
                          "%s: scenario \"%s\" is a built-in scenario; pick another name", file,
                          name);
    snprintf(s->name, sizeof s->name, "%s", name);
    if (!int_in(json_object_get(e, "agents"), 1, 1000) ||
        !int_in(json_object_get(e, "iterations"), 1, 100000))
        return sd_err_set(err, SD_EUSAGE,
                          "%s: scenario %s needs \"agents\" (1-1000) and \"iterations\" "
                          "(1-100000)",
                          file, name);
    s->agents = (int)json_integer_value(json_object_get(e, "agents"));
    s->iterations = (int)json_integer_value(json_object_get(e, "iterations"));
    if ((long)s->agents * s->iterations > 1000000)
        return sd_err_set(err, SD_EUSAGE,
                          "%s: scenario %s: at most 1000000 deployments (agents x iterations)",
                          file, name);
    if ((v = json_object_get(e, "strategies")) != NULL) {
        if (!json_is_array(v) || json_array_size(v) == 0)
            return sd_err_set(err, SD_EUSAGE,
                              "%s: scenario %s: \"strategies\" must be a non-empty array", file,
                              name);
        if (!strings_ok(v, NULL))
            return sd_err_set(err, SD_EUSAGE, "%s: scenario %s: strategies must be strings", file,
                              name);
        s->strategies = json_incref(v);
    }
    if ((v = json_object_get(e, "params")) != NULL) {
        if (!json_is_object(v))
            return sd_err_set(err, SD_EUSAGE, "%s: scenario %s: \"params\" must be an object", file,
                              name);
        s->params = json_incref(v);
    }
    if ((v = json_object_get(e, "agentParams")) != NULL) {
        size_t k;
        json_t *x;
        if (!json_is_array(v) || json_array_size(v) > (size_t)s->agents)
            return sd_err_set(err, SD_EUSAGE,
                              "%s: scenario %s: \"agentParams\" must be an array of at most "
                              "\"agents\" objects",
                              file, name);
        json_array_foreach(v, k, x)
        {
            if (!json_is_object(x))
                return sd_err_set(err, SD_EUSAGE,
                                  "%s: scenario %s: agentParams[%zu] must be an object", file, name,
                                  k);
        }
        s->agent_params = json_incref(v);
    }
    if ((v = json_object_get(e, "symbol")) != NULL) {
        if (!json_is_string(v) || !catalog_symbol_ok(json_string_value(v)))
            return sd_err_set(err, SD_EUSAGE, "%s: scenario %s: bad \"symbol\"", file, name);
        s->symbols = json_pack("[O]", v);
    }
    if ((v = json_object_get(e, "symbols")) != NULL) {
        if (s->symbols != NULL || !json_is_array(v) || json_array_size(v) == 0)
            return sd_err_set(err, SD_EUSAGE,
                              "%s: scenario %s: give \"symbol\" or a non-empty \"symbols\" array",
                              file, name);
        if (!strings_ok(v, catalog_symbol_ok))
            return sd_err_set(err, SD_EUSAGE, "%s: scenario %s: bad symbol in \"symbols\"", file,
                              name);
        s->symbols = json_incref(v);
    }
    if ((v = json_object_get(e, "timeout")) != NULL) {
        if (!json_is_number(v) || json_number_value(v) < 0.001 || json_number_value(v) > 86400)
            return sd_err_set(err, SD_EUSAGE,
                              "%s: scenario %s: \"timeout\" must be 0.001-86400 seconds", file,
                              name);
        s->timeout_ms = (int64_t)(json_number_value(v) * 1000);
    }
    return 0;
}

/* The scenario list of root, after checking its top-level keys and taking
 * its thresholds; NULL with err set when refused. Borrowed from root. */
static json_t *file_list(const char *file, json_t *root, struct bench_thresholds *th,
                         struct sd_err *err)
{
    json_t *list = json_is_array(root) ? root : json_object_get(root, "scenarios");

    if (json_is_object(root)) {
        const char *key;
        json_t *v;
        json_object_foreach(root, key, v)
        {
            if (strcmp(key, "scenarios") != 0 && strcmp(key, "thresholds") != 0) {
                sd_err_set(err, SD_EUSAGE, "%s: unknown key \"%s\" (scenarios, thresholds)", file,
                           key);
                return NULL;
            }
        }
        if ((v = json_object_get(root, "thresholds")) != NULL &&
            file_thresholds(file, v, th, err) != 0)
            return NULL;
    }
    if (!json_is_array(list) || json_array_size(list) == 0) {
        sd_err_set(err, SD_EUSAGE, "%s: expected a non-empty array of scenarios", file);
        return NULL;
    }
    return list;
}

int bench_plan_load(struct bench_plan *p, const char *file, struct sd_err *err)
{
    json_error_t je;
    json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &je), *list, *e;
    size_t i;
    int rc = -1;

    if (root == NULL)
        return sd_err_set(err, SD_EUSAGE, "%s:%d:%d: %s", file, je.line, je.column, je.text);
    p->from_file = 1;
    if ((list = file_list(file, root, &p->th, err)) == NULL)
        goto out;
    json_array_foreach(list, i, e)
    {
        struct bench_scen *s;
        if (p->nsc >= BENCH_MAX_SCENARIOS) {
            sd_err_set(err, SD_EUSAGE, "%s: at most %d scenarios", file, BENCH_MAX_SCENARIOS);
            goto out;
        }
        s = &p->sc[p->nsc];
        if (file_scenario(file, i, e, s, err) != 0) {
            scen_clear(s);
            goto out;
        }
        for (size_t k = 0; k < p->nsc; k++)
            if (strcmp(p->sc[k].name, s->name) == 0) {
                sd_err_set(err, SD_EUSAGE, "%s: scenario \"%s\" appears twice", file, s->name);
                scen_clear(s);
                goto out;
            }
        p->nsc++;
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* --- choosing and checking ------------------------------------------------- */

int bench_plan_select(struct bench_plan *p, const char *only, struct sd_err *err)
{
    size_t keep = 0;

    for (size_t i = 0; i < p->nsc; i++) {
        int want = only ? strcmp(p->sc[i].name, only) == 0
                        : (p->from_file ? i >= BENCH_BUILTINS : i < BENCH_BUILTINS);
        if (want)
            p->sc[keep++] = p->sc[i];
        else
            scen_clear(&p->sc[i]);
    }
    for (size_t i = keep; i < p->nsc; i++)
        memset(&p->sc[i], 0, sizeof p->sc[i]);
    p->nsc = keep;
    if (keep == 0) {
        char names[512] = "";
        for (size_t i = 0; i < BENCH_BUILTINS; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     builtins[i].name);
        return sd_err_set(err, SD_EUSAGE, "unknown scenario \"%s\" (built-in: %s%s)", only, names,
                          p->from_file ? "; or one of the file's" : "");
    }
    return 0;
}

int bench_plan_max_agents(const struct bench_plan *p)
{
    int most = 1;
    for (size_t i = 0; i < p->nsc; i++)
        if (p->sc[i].agents > most)
            most = p->sc[i].agents;
    return most;
}

json_t *bench_plan_strategies(struct bench_plan *p, const struct catalog *cat, const char *list,
                              struct sd_err *err)
{
    json_t *names = json_array();

    if (list != NULL) {
        /* Split on commas without strtok (the list is the caller's). */
        for (const char *t = list; *t;) {
            size_t n = strcspn(t, ",");
            if (n > 0)
                json_array_append_new(names, json_stringn(t, n));
            t += n + (t[n] == ',');
        }
        if (json_array_size(names) == 0) {
            json_decref(names);
            sd_err_set(err, SD_EUSAGE, "--strategies needs a comma-separated list of names");
            return NULL;
        }
    } else {
        for (size_t i = 0; i < catalog_count(cat); i++)
            if (catalog_at(cat, i)->builtin)
                json_array_append_new(names, json_string(catalog_at(cat, i)->name));
    }
    for (size_t i = 0; i < p->nsc; i++)
        if (p->sc[i].strategies == NULL)
            p->sc[i].strategies = json_incref(names);
    return names;
}

static size_t lcm(size_t a, size_t b)
{
    size_t x = a, y = b;
    while (y != 0) {
        size_t t = x % y;
        x = y;
        y = t;
    }
    return a / x * b;
}

json_t *bench_scen_params(const struct bench_scen *s, int a)
{
    json_t *p = s->params ? json_deep_copy(s->params) : json_object();
    json_t *over = json_array_get(s->agent_params, (size_t)a);
    if (over != NULL)
        json_object_update(p, over);
    return p;
}

struct deploy_req bench_scen_request(const struct bench_plan *p, const struct bench_scen *s,
                                     const struct catalog *cat, size_t k, json_t *params,
                                     int64_t run)
{
    const char *strat =
        json_string_value(json_array_get(s->strategies, k % json_array_size(s->strategies)));
    const struct strategy_def *def = s->symbols ? NULL : catalog_find(cat, strat, NULL);
    json_t *syms = s->symbols ? s->symbols : def ? def->symbols : NULL;
    struct deploy_req r = {
        .strategy = strat,
        .params = params,
        .symbol = syms ? json_string_value(json_array_get(syms, k % json_array_size(syms))) : NULL,
        .description = "benchmark",
        .provider = p->provider,
        .run_id = run,
        .timeout_ms = s->timeout_ms,
    };
    return r;
}

/* Check scenario s: each distinct request once. */
static int scen_check(const struct bench_plan *p, const struct bench_scen *s, struct coord *c,
                      struct sd_err *err)
{
    const struct catalog *cat = coord_catalog(c);
    size_t na = json_array_size(s->agent_params), ns = json_array_size(s->strategies);
    size_t period = ns ? ns : 1; /* lcm of the strategy count and every symbol list's length */
    size_t total = (size_t)s->agents * (size_t)s->iterations;
    struct sd_err e = {0};
    json_t *seen;
    int rc = 0;

    for (size_t st = 0; st < ns; st++) {
        const struct strategy_def *def =
            catalog_find(cat, json_string_value(json_array_get(s->strategies, st)), &e);
        size_t len;
        if (def == NULL)
            return sd_err_set(err, SD_EUSAGE, "scenario %s: %s", s->name, e.msg);
        len = json_array_size(s->symbols ? s->symbols : def->symbols);
        if (len > 0 && period < 100000)
            period = lcm(period, len);
    }
    /* Deployment k is (agent k mod agents, strategy k mod ns, symbol k mod
     * len): the requests repeat every agents x period deployments. */
    seen = json_object();
    for (size_t k = 0; rc == 0 && k < total && k < (size_t)s->agents * period; k++) {
        int a = (int)(k % (size_t)s->agents);
        json_t *params = bench_scen_params(s, a);
        struct deploy_req r = bench_scen_request(p, s, cat, k, params, 0);
        char key[256];
        snprintf(key, sizeof key, "%d|%s|%s", a < (int)na ? a : -1, r.strategy,
                 r.symbol ? r.symbol : "");
        if (json_object_get(seen, key) == NULL) {
            json_object_set_new(seen, key, json_true());
            if (coord_check(c, &r, &e) != 0)
                rc = sd_err_set(err, SD_EUSAGE, "scenario %s, agent %d (%s): %s", s->name, a,
                                r.strategy, e.msg);
        }
        json_decref(params);
    }
    json_decref(seen);
    return rc;
}

int bench_plan_check(const struct bench_plan *p, struct coord *c, struct sd_err *err)
{
    for (size_t i = 0; i < p->nsc; i++)
        if (scen_check(p, &p->sc[i], c, err) != 0)
            return -1;
    return 0;
}

json_t *bench_plan_spec(const struct bench_plan *p, int max_agents)
{
    json_t *spec = json_object(), *arr = json_array();
    for (size_t i = 0; i < p->nsc; i++) {
        const struct bench_scen *s = &p->sc[i];
        json_t *x = json_pack("{s:s, s:i, s:i, s:O}", "name", s->name, "agents", s->agents,
                              "iterations", s->iterations, "strategies", s->strategies);
        if (s->params)
            json_object_set(x, "params", s->params);
        if (s->agent_params)
            json_object_set(x, "agentParams", s->agent_params);
        if (s->symbols)
            json_object_set(x, "symbols", s->symbols);
        if (s->timeout_ms)
            json_object_set_new(x, "timeoutMs", json_integer(s->timeout_ms));
        json_array_append_new(arr, x);
    }
    json_object_set_new(spec, "scenarios", arr);
    json_object_set_new(spec, "maxAgents", json_integer(max_agents));
    json_object_set_new(spec, "provider", json_string(p->provider ? p->provider : "local"));
    return spec;
}
