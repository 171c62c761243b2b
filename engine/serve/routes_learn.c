/*
 * routes_learn.c: the daemon's learning routes (routes.h): POST /suggest and
 * GET /learning.
 */
#define _GNU_SOURCE
#include <jansson.h>

#include "coord.h"
#include "evlog.h"
#include "pump.h"
#include "request.h"
#include "routes.h"

enum MHD_Result h_suggest(struct call *k)
{
    struct sd_err err = {0};
    struct deploy_req r;
    json_t *sugg;

    if (request_suggest(k->body, &r, &err) != 0)
        return route_fail(k->conn, MHD_HTTP_BAD_REQUEST, "%s", err.msg);
    if (coord_learn(k->s->c) == NULL)
        return route_fail(k->conn, MHD_HTTP_NOT_FOUND, "this daemon runs without learning");
    if ((sugg = coord_suggest(k->s->c, &r, &err)) == NULL)
        return route_fail(k->conn, route_err_status(&err), "%s", err.msg);
    return route_answer(k->conn, MHD_HTTP_OK, sugg);
}

/* GET /v1/learning: {seq, learning: pump_learning's snapshot}. seq is read
 * first, so a change the snapshot misses comes as a "learning" event after
 * it (list+watch). 404 on a daemon without learning. */
enum MHD_Result h_learning(struct call *k)
{
    uint64_t seq = evlog_last(k->s->log);
    json_t *snap;

    if (coord_learn(k->s->c) == NULL)
        return route_fail(k->conn, MHD_HTTP_NOT_FOUND, "this daemon runs without learning");
    if ((snap = pump_learning(coord_learn(k->s->c))) == NULL)
        return route_fail(k->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    return route_answer(k->conn, MHD_HTTP_OK,
                        json_pack("{s:I, s:o}", "seq", (json_int_t)seq, "learning", snap));
}
