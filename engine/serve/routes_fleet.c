/*
 * routes_fleet.c: the daemon's fleet routes (routes.h, docs/fleet.md):
 * GET and POST /fleet/records, and the taps that feed the fleet the
 * pump's events and the learner the fleet's trajectories.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "coord.h"
#include "fleet.h"
#include "fleet_store.h"
#include "learn.h"
#include "merge.h"
#include "pump.h"
#include "routes.h"
#include "store.h"

void route_fleet_tap(const char *json, int terminal, void *arg)
{
    fleet_live(arg, json);
    if (terminal)
        fleet_notify(arg);
}

#define FLEET_PAGE_MAX 1000

/* A trajectory another host made was added (fleet/merge.h): the warm
 * learning index observes it as the coordinator does its own, so
 * suggestions use the fleet's runs without a restart. arg: the coord. */
void route_learn_added(int64_t id, json_t *t, void *arg)
{
    struct learn *l = coord_learn(arg);
    struct learn_obs o = {
        .id = id,
        .strategy = json_string_value(json_object_get(t, "strategyName")),
        .symbol = json_string_value(json_object_get(t, "symbol")),
        .provider = json_string_value(json_object_get(t, "provider")),
        .params = json_object_get(t, "params"),
        .state = traj_state_from_name(json_string_value(json_object_get(t, "status"))),
        .reward = json_number_value(json_object_get(t, "reward")),
        .created_at = json_integer_value(json_object_get(t, "createdAt")),
        .duration_ms = json_number_value(json_object_get(t, "duration")),
        .op_sequence = json_string_value(json_object_get(t, "operationSequence")),
        .prediction = json_is_object(json_object_get(t, "prediction"))
                          ? json_object_get(t, "prediction")
                          : NULL,
        .result =
            json_is_object(json_object_get(t, "result")) ? json_object_get(t, "result") : NULL,
    };
    if (l != NULL && o.strategy != NULL)
        learn_observe(l, &o);
}

/* GET /v1/fleet/records?after=N&max=M&skip=NAME: `swarmdeck sync` pulls
 * finished trajectories past chain position N (fleet_store.h), leaving out
 * those whose origin is NAME (the asking peer's own). */
enum MHD_Result h_fleet_get(struct call *k)
{
    struct store *st = coord_store(k->s->c);
    const char *skip = MHD_lookup_connection_value(k->conn, MHD_GET_ARGUMENT_KIND, "skip");
    uint64_t after = 0, max = 200;
    int64_t last = 0, head;
    char name[FLEET_NAME_MAX];
    struct sd_err err = {0};
    sqlite3 *db;
    json_t *a;

    if (route_query_u64(k->conn, "after", &after) != 0 ||
        route_query_u64(k->conn, "max", &max) != 0 || after > INT64_MAX)
        return route_fail(k->conn, MHD_HTTP_BAD_REQUEST, "after and max must be whole numbers");
    if (max == 0 || max > FLEET_PAGE_MAX)
        max = FLEET_PAGE_MAX;
    if ((db = store_reader(st, &err)) == NULL)
        return route_fail(k->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.msg);
    a = store_fleet_page(db, store_id(st), (int64_t)after, (size_t)max, skip, name, sizeof name,
                         &head, &last, &err);
    sqlite3_close_v2(db);
    if (a == NULL)
        return route_fail(k->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.msg);
    return route_answer(k->conn, MHD_HTTP_OK,
                        json_pack("{s:s, s:I, s:I, s:o}", "name", name, "head", (json_int_t)head,
                                  "last", (json_int_t)last, "records", a));
}

/* POST /v1/fleet/records {"records": [envelope...]}: `swarmdeck sync`
 * pushes; each record is verified and merged (fleet/merge.h). */
enum MHD_Result h_fleet_post(struct call *k)
{
    json_t *recs = json_object_get(k->body, "records");
    struct fleet_merge_report r;
    struct sd_err err = {0};

    if (!json_is_array(recs))
        return route_fail(k->conn, MHD_HTTP_BAD_REQUEST, "\"records\" must be an array");
    if (fleet_merge(coord_store(k->s->c), recs, &r, NULL, NULL, NULL, route_learn_added, k->s->c,
                    &err) != 0)
        return route_fail(k->conn, route_err_status(&err), "%s", err.msg);
    if (r.refused > 0)
        fprintf(stderr, "swarmdeck: sync: refused %d record(s) from pid %d: %s\n", r.refused,
                (int)k->pid, r.why);
    return route_answer(k->conn, MHD_HTTP_OK,
                        json_pack("{s:i, s:i, s:i, s:s}", "added", r.added, "skipped", r.skipped,
                                  "refused", r.refused, "why", r.why));
}
