/*
 * routes_deploy.c: the daemon's deployment routes (routes.h): version,
 * status, the deployments (list, one, output, launch, cancel, pause,
 * resume, cancel many) and runs. docs/daemon.md has the paths.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord.h"
#include "evlog.h"
#include "launch.h"
#include "pump.h"
#include "query.h"
#include "routes.h"
#include "server.h"
#include "span.h"
#include "store.h"

#define OUTPUT_MAX 5000 /* lines in one output answer */

/* Every deployment this daemon has run, oldest first. */
static json_t *views_json(struct coord *c)
{
    size_t n;
    struct deploy_view *v = coord_list_all(c, &n);
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, coord_view_json(&v[i]));
    free(v);
    return a;
}

enum MHD_Result h_version(struct call *k)
{
    return route_answer(k->conn, MHD_HTTP_OK,
                        json_pack("{s:i, s:s, s:i, s:s, s:s, s:b}", "protocol", SERVE_PROTOCOL,
                                  "version", SWARMDECK_VERSION, "pid", (int)getpid(), "instance",
                                  k->s->instance, "store", k->s->store_path, "readonly",
                                  k->readonly));
}

/* How many of c's running deployments are paused (coord_pause): /v1/status counts them under
 * "paused" besides "running", which includes them. */
static int paused_count(struct coord *c)
{
    size_t n;
    int paused = 0;
    struct deploy_view *v = coord_list_all(c, &n);

    for (size_t i = 0; i < n; i++)
        paused += v[i].state == TS_RUNNING && v[i].paused;
    free(v);
    return paused;
}

enum MHD_Result h_status(struct call *k)
{
    int counts[TS_COUNT];
    struct provider_health h[16];
    size_t np = coord_providers(k->s->c, h, 16);
    json_t *cj = json_object();
    uint64_t seq = evlog_last(k->s->log);

    coord_counts(k->s->c, counts);
    for (int i = 0; i < TS_COUNT; i++)
        json_object_set_new(cj, traj_state_name(i), json_integer(counts[i]));
    json_object_set_new(cj, "paused", json_integer(paused_count(k->s->c)));
    return route_answer(k->conn, MHD_HTTP_OK,
                        json_pack("{s:I, s:o, s:o, s:o, s:I, s:i, s:i, s:s, s:I, s:b}", "seq",
                                  (json_int_t)seq, "counts", cj, "providers",
                                  coord_health_json(h, np), "deployments", views_json(k->s->c),
                                  "runsOpen", (json_int_t)pump_runs_open(k->s->pump), "clients",
                                  atomic_load(&k->s->clients), "pid", (int)getpid(),
                                  "defaultProvider", coord_default_provider(k->s->c), "timeoutMs",
                                  (json_int_t)coord_options(k->s->c)->timeout_ms, "learning",
                                  coord_learn(k->s->c) != NULL));
}

enum MHD_Result h_list(struct call *k)
{
    /* The number first: a change after the list is then seen by a watch
     * from it (maybe twice, never not at all: events are idempotent). */
    uint64_t seq = evlog_last(k->s->log);
    return route_answer(
        k->conn, MHD_HTTP_OK,
        json_pack("{s:I, s:o}", "seq", (json_int_t)seq, "deployments", views_json(k->s->c)));
}

enum MHD_Result h_one(struct call *k)
{
    struct deploy_view v;
    json_t *res;

    if (coord_view(k->s->c, k->id, &v) != 0)
        return route_fail(k->conn, MHD_HTTP_NOT_FOUND, "deployment %" PRId64 " is not live here",
                          k->id);
    res = coord_result(k->s->c, k->id);
    return route_answer(k->conn, MHD_HTTP_OK,
                        json_pack("{s:o, s:o}", "deployment", coord_view_json(&v), "result",
                                  res ? res : json_null()));
}

enum MHD_Result h_output(struct call *k)
{
    struct logring *r = coord_log(k->s->c, k->id);
    uint64_t from = 1, max = 1000;
    struct logline *lines;
    size_t n;
    json_t *a;

    if (r == NULL)
        return route_fail(k->conn, MHD_HTTP_NOT_FOUND, "deployment %" PRId64 " is not live here",
                          k->id);
    if (route_query_u64(k->conn, "from", &from) != 0 || route_query_u64(k->conn, "max", &max) != 0)
        return route_fail(k->conn, MHD_HTTP_BAD_REQUEST, "from and max must be whole numbers");
    if (max > OUTPUT_MAX)
        max = OUTPUT_MAX;
    if ((lines = calloc(max ? max : 1, sizeof *lines)) == NULL)
        return route_fail(k->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    n = logring_get(r, from, lines, max);
    a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:I, s:i, s:b, s:I, s:s}", "seq",
                                           (json_int_t)lines[i].seq, "stream", lines[i].stream,
                                           "partial", lines[i].partial, "time",
                                           (json_int_t)lines[i].time_ms, "text", lines[i].text));
    logline_free_all(lines, n);
    free(lines);
    return route_answer(k->conn, MHD_HTTP_OK,
                        json_pack("{s:I, s:I, s:o}", "first", (json_int_t)logring_first_seq(r),
                                  "last", (json_int_t)logring_last_seq(r), "lines", a));
}

/* Who asked: the peer's pid and uid (SO_PEERCRED), its user name and the
 * terminal it says it runs on. New reference. */
static json_t *by_json(struct call *k)
{
    const char *tty = MHD_lookup_connection_value(k->conn, MHD_HEADER_KIND, "X-Swarmdeck-Tty");

    return json_pack("{s:i, s:i, s:s, s:s}", "pid", (int)k->pid, "uid", (int)k->uid, "user",
                     k->uid == getuid() ? k->s->user : "?", "tty", tty ? tty : "");
}

enum MHD_Result h_run(struct call *k)
{
    struct sd_err err = {0};
    sqlite3 *db = store_reader(coord_store(k->s->c), &err);
    json_t *r = db ? store_run_get(db, k->id, &err) : NULL;

    sqlite3_close_v2(db);
    if (r != NULL)
        json_object_set_new(r, "open", json_boolean(pump_run_open(k->s->pump, k->id)));
    if (r == NULL)
        return route_fail(
            k->conn, err.code == SD_EUSAGE ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR,
            "%s", err.msg);
    return route_answer(k->conn, MHD_HTTP_OK, r);
}

enum MHD_Result h_launch(struct call *k)
{
    struct sd_err err = {0};
    uint64_t t_req = sd_mono_ns();
    json_t *ids = NULL, *by = by_json(k);
    json_t *kind = json_object_get(k->body, "kind");
    int64_t run;
    int rc;
    /* Taken before anything is queued: a watch from it sees every event of
     * this launch's deployments. */
    uint64_t seq = evlog_last(k->s->log);

    rc = launch_submit(
        k->s->c,
        json_is_string(kind) && strcmp(json_string_value(kind), "swarm") == 0 ? "swarm" : "deploy",
        k->body, by, &run, &ids, &err);
    json_decref(by);
    if (rc != 0)
        return route_fail(k->conn, route_err_status(&err), "%s", err.msg);
    if (pump_run_add(k->s->pump, run, ids) != 0)
        fprintf(stderr, "swarmdeck serve: run %" PRId64 ": cannot track its end\n", run);
    sd_span_at(SPAN_REQUEST, json_integer_value(json_array_get(ids, 0)), t_req);
    sd_span(SPAN_ANSWERED, json_integer_value(json_array_get(ids, 0)));
    return route_answer(
        k->conn, MHD_HTTP_CREATED,
        json_pack("{s:I, s:o, s:I}", "run", (json_int_t)run, "ids", ids, "seq", (json_int_t)seq));
}

enum MHD_Result h_cancel(struct call *k)
{
    char by[160];
    json_t *bj = by_json(k);

    launch_by_text(bj, by, sizeof by);
    json_decref(bj);
    if (coord_cancel_by(k->s->c, k->id, by) != 0)
        return route_fail(k->conn, MHD_HTTP_NOT_FOUND, "deployment %" PRId64 " is not live here",
                          k->id);
    fprintf(stderr, "swarmdeck serve: deployment %" PRId64 " cancelled by pid %d uid %d\n", k->id,
            (int)k->pid, (int)k->uid);
    return route_answer(k->conn, MHD_HTTP_OK, json_pack("{s:I}", "cancelled", (json_int_t)k->id));
}

/* POST /v1/deployments/ID/pause and /resume: stop or continue every process of a running
 * deployment's sandbox (coord_pause). 200 {"id":ID,"state":"paused"|"running"}; 400 when it
 * is not running or its provider cannot pause (E2B), 404 when not live here. */
static enum MHD_Result pause_one(struct call *k, int on)
{
    struct sd_err err = {0};
    struct deploy_view v;

    if (coord_view(k->s->c, k->id, &v) != 0)
        return route_fail(k->conn, MHD_HTTP_NOT_FOUND, "deployment %" PRId64 " is not live here",
                          k->id);
    if (coord_pause(k->s->c, k->id, on, &err) != 0)
        return route_fail(k->conn, route_err_status(&err), "%s", err.msg);
    fprintf(stderr, "swarmdeck serve: deployment %" PRId64 " %s by pid %d uid %d\n", k->id,
            on ? "paused" : "resumed", (int)k->pid, (int)k->uid);
    coord_view(k->s->c, k->id, &v);
    return route_answer(
        k->conn, MHD_HTTP_OK,
        json_pack("{s:I, s:s}", "id", (json_int_t)k->id, "state", coord_view_state(&v)));
}

enum MHD_Result h_pause(struct call *k)
{
    return pause_one(k, 1);
}

enum MHD_Result h_resume(struct call *k)
{
    return pause_one(k, 0);
}

/* POST /v1/cancel {"ids": [...]} or {"all": true}: many at once (a
 * console's tagged rows, its cleanup). Ids not live or already ended are
 * skipped; the answer counts those cancelled. */
enum MHD_Result h_cancel_many(struct call *k)
{
    json_t *ids = json_object_get(k->body, "ids"), *x;
    int all = json_is_true(json_object_get(k->body, "all"));
    size_t i, n = 0;
    char by[160];
    json_t *bj = by_json(k);

    launch_by_text(bj, by, sizeof by);
    json_decref(bj);
    if (!all && !json_is_array(ids))
        return route_fail(k->conn, MHD_HTTP_BAD_REQUEST,
                          "cancel needs \"ids\": [...] or \"all\": true");
    if (!all)
        json_array_foreach(ids, i,
                           x) if (!json_is_integer(x) ||
                                  json_integer_value(x) <=
                                      0) return route_fail(k->conn, MHD_HTTP_BAD_REQUEST,
                                                           "\"ids\" must hold deployment ids");
    if (all) {
        struct deploy_view *v = coord_list_all(k->s->c, &i);
        for (size_t j = 0; j < i; j++)
            n += !traj_state_terminal(v[j].state) && coord_cancel_by(k->s->c, v[j].id, by) == 0;
        free(v);
    } else {
        json_array_foreach(ids, i, x) n += coord_cancel_by(k->s->c, json_integer_value(x), by) == 0;
    }
    fprintf(stderr, "swarmdeck serve: %zu deployment(s) cancelled by pid %d uid %d\n", n,
            (int)k->pid, (int)k->uid);
    return route_answer(k->conn, MHD_HTTP_OK, json_pack("{s:I}", "cancelled", (json_int_t)n));
}
