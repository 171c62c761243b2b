/*
 * launch.c: a launch description into one run of queued deployments
 * (launch.h has the contract).
 */
#define _GNU_SOURCE
#include "launch.h"

#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "span.h"

/* The symbols a deploy's agents run on (new reference) or NULL. */
static json_t *agent_symbols(struct coord *c, const struct deploy_req *r, struct sd_err *err)
{
    const struct strategy_def *d = catalog_find(coord_catalog(c), r->strategy, err);
    return d ? catalog_agent_symbols(d, r->symbol, r->params, err) : NULL;
}

/* The launch as n requests (*reqs malloc'd; they point into spec and *syms). */
static int expand(struct coord *c, json_t *spec, struct deploy_req **reqs, size_t *n, json_t **syms,
                  struct sd_err *err)
{
    json_t *list = json_object_get(spec, "deployments");
    long long agents = 1;
    struct deploy_req proto;

    *reqs = NULL;
    *syms = NULL;
    if (!json_is_object(spec))
        return sd_err_set(err, SD_EUSAGE, "a launch must be a JSON object");
    if (list != NULL) {
        if (!json_is_array(list) || json_array_size(list) == 0 ||
            json_array_size(list) > LAUNCH_MAX)
            return sd_err_set(err, SD_EUSAGE,
                              "\"deployments\" must be an array of 1 to %d deployments",
                              LAUNCH_MAX);
        *n = json_array_size(list);
        *reqs = calloc(*n, sizeof **reqs);
        if (*reqs == NULL)
            return sd_err_set(err, SD_ENOMEM, "out of memory");
        for (size_t i = 0; i < *n; i++)
            if (request_deployment(json_array_get(list, i), &(*reqs)[i], err) != 0) {
                sd_err_prefix(err, "deployment %zu: ", i + 1);
                return -1;
            }
        return 0;
    }
    if (request_deployment(spec, &proto, err) != 0 ||
        request_int(spec, "agents", 1, LAUNCH_MAX, &agents, err))
        return -1;
    if ((*syms = agent_symbols(c, &proto, err)) == NULL)
        return -1;
    *n = (size_t)agents;
    if ((*reqs = calloc(*n, sizeof **reqs)) == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    for (size_t i = 0; i < *n; i++) {
        (*reqs)[i] = proto;
        (*reqs)[i].symbol = json_string_value(json_array_get(*syms, i % json_array_size(*syms)));
    }
    return 0;
}

void launch_by_text(json_t *by, char *buf, size_t len)
{
    const char *user = json_string_value(json_object_get(by, "user"));
    const char *tty = json_string_value(json_object_get(by, "tty"));

    snprintf(buf, len, "pid %lld uid %lld user %s tty %s",
             (long long)json_integer_value(json_object_get(by, "pid")),
             (long long)json_integer_value(json_object_get(by, "uid")), user ? user : "?",
             tty && tty[0] ? tty : "-");
}

int launch_submit(struct coord *c, const char *kind, json_t *spec, json_t *by, int64_t *run,
                  json_t **ids, struct sd_err *err)
{
    struct deploy_req *reqs = NULL;
    json_t *syms = NULL, *rspec = NULL;
    char *rtxt = NULL, bys[160] = "";
    size_t n = 0, checked;
    int rc = -1;
    uint64_t t_in = sd_mono_ns(), t_checked, t_run;

    *run = 0;
    *ids = NULL;
    if (expand(c, spec, &reqs, &n, &syms, err) != 0)
        goto out;
    /* A deploy's requests differ only by symbol: checking one agent per symbol checks all. */
    checked = syms != NULL && json_array_size(syms) < n ? json_array_size(syms) : n;
    for (size_t i = 0; i < checked; i++)
        if (coord_check(c, &reqs[i], err) != 0)
            goto out;
    t_checked = sd_mono_ns();
    rspec = json_deep_copy(spec);
    if (by != NULL)
        json_object_set(rspec, "by", by);
    rtxt = json_dumps(rspec, JSON_COMPACT);
    if ((*run = run_begin(coord_store(c), kind, rtxt ? rtxt : "{}", err)) <= 0)
        goto out;
    t_run = sd_mono_ns();
    if (by != NULL)
        launch_by_text(by, bys, sizeof bys);
    *ids = json_array();
    for (size_t i = 0; i < n; i++) {
        int64_t id;
        reqs[i].run_id = *run;
        reqs[i].by = bys[0] ? bys : NULL;
        if (coord_submit(c, &reqs[i], &id, err) != 0) {
            /* Validated above, so this is the store or memory: undo the run. */
            size_t k;
            json_t *v;
            json_array_foreach(*ids, k, v) coord_cancel(c, json_integer_value(v));
            run_end(coord_store(c), *run, "failed", err->msg);
            json_decref(*ids);
            *ids = NULL;
            goto out;
        }
        json_array_append_new(*ids, json_integer(id));
        sd_span_at(SPAN_LAUNCH_IN, id, t_in);
        sd_span_at(SPAN_CHECKED, id, t_checked);
        sd_span_at(SPAN_RUN_ROW, id, t_run);
        sd_span(SPAN_SUBMITTED, id);
    }
    rc = 0;
out:
    free(rtxt);
    json_decref(rspec);
    json_decref(syms);
    free(reqs);
    return rc;
}
