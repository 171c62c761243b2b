/*
 * routes_jobs.c: the daemon's background-job routes (routes.h, bgjob.h):
 * start, log, interrupt.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>

#include "bgjob.h"
#include "routes.h"

/* POST /v1/jobs {"command": "benchmark", "args": [...], "cwd": "/abs"}: run
 * the command as the daemon's child (bgjob.h) -> 201 {job, pid}. */
enum MHD_Result h_job_start(struct call *k)
{
    struct sd_err err = {0};
    const char *cmd = json_string_value(json_object_get(k->body, "command"));
    const char *cwd = json_string_value(json_object_get(k->body, "cwd"));
    int64_t id;

    if (cmd == NULL)
        return route_fail(k->conn, MHD_HTTP_BAD_REQUEST, "a job needs \"command\"");
    if (bgjob_start(k->s->jobs, cmd, json_object_get(k->body, "args"), cwd, &id, &err) != 0)
        return route_fail(k->conn, route_err_status(&err), "%s", err.msg);
    fprintf(stderr, "swarmdeck serve: job %" PRId64 " (%s) started for pid %d uid %d\n", id, cmd,
            (int)k->pid, (int)k->uid);
    return route_answer(k->conn, MHD_HTTP_CREATED, json_pack("{s:I}", "job", (json_int_t)id));
}

/* GET /v1/jobs/ID/log?from=N: its output from byte N, whether it ended. */
enum MHD_Result h_job_log(struct call *k)
{
    struct sd_err err = {0};
    uint64_t from = 0;
    json_t *o;

    if (route_query_u64(k->conn, "from", &from) != 0)
        return route_fail(k->conn, MHD_HTTP_BAD_REQUEST, "from must be a whole number");
    if ((o = bgjob_log(k->s->jobs, k->id, from, 256 * 1024, &err)) == NULL)
        return route_fail(
            k->conn, err.code == SD_EUSAGE ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR,
            "%s", err.msg);
    return route_answer(k->conn, MHD_HTTP_OK, o);
}

/* POST /v1/jobs/ID/interrupt: SIGINT, as Ctrl-C on its terminal would. */
enum MHD_Result h_job_interrupt(struct call *k)
{
    struct sd_err err = {0};
    if (bgjob_interrupt(k->s->jobs, k->id, &err) != 0)
        return route_fail(k->conn, MHD_HTTP_NOT_FOUND, "%s", err.msg);
    return route_answer(k->conn, MHD_HTTP_OK, json_pack("{s:I}", "interrupted", (json_int_t)k->id));
}
