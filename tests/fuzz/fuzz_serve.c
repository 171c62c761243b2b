/*
 * fuzz_serve.c: the daemon's request parsing (engine/serve/request.c) as a
 * hostile client would drive it: any bytes as the body of POST
 * /v1/deployments (a launch: one deployment, or a "deployments" list), POST
 * /v1/suggest, and as the path of a request (the id of GET /deployments/ID
 * and POST /deployments/ID/cancel).
 *
 * Checked beyond "no crash, no leak, no read out of bounds": whatever is
 * accepted is in range (a strategy named, pace and timeout within their
 * limits, params an object), whatever is refused says why, and an id taken
 * from a path is a positive number whose digits are all in the path.
 */
#include <stdlib.h>
#include <string.h>

#include "launch.h"
#include "request.h"

static const char *patterns[] = {
    "/deployments",
    "/deployments/#",
    "/deployments/#/output",
    "/deployments/#/cancel",
    "/events",
    "/runs/#",
    "/suggest",
    "/status",
};

static void check_req(int rc, const struct deploy_req *r, const struct sd_err *err)
{
    if (rc != 0) {
        if (err->msg[0] == '\0')
            abort(); /* a refusal that does not say why */
        return;
    }
    if (r->strategy == NULL || r->pace < 0 || r->pace > 100000 || r->timeout_ms < 0 ||
        r->timeout_ms > 86400000LL || (r->params != NULL && !json_is_object(r->params)))
        abort();
}

/* A launch's body, the way launch.c's expand reads it before the catalog. */
static void launch(json_t *spec)
{
    json_t *list = json_object_get(spec, "deployments");
    struct deploy_req r;
    struct sd_err err = {0};
    long long agents = 1;

    if (json_is_array(list)) {
        size_t i;
        json_t *d;
        json_array_foreach(list, i, d)
        {
            memset(&err, 0, sizeof err);
            check_req(request_deployment(d, &r, &err), &r, &err);
            if (i > 64)
                break;
        }
        return;
    }
    check_req(request_deployment(spec, &r, &err), &r, &err);
    memset(&err, 0, sizeof err);
    if (request_int(spec, "agents", 1, LAUNCH_MAX, &agents, &err) == 0 &&
        (agents < 1 || agents > LAUNCH_MAX))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sd_err err = {0};
    struct deploy_req r;
    json_t *body = request_body((const char *)data, size, &err);
    char url[256];
    size_t n = size < sizeof url - 1 ? size : sizeof url - 1;

    if (body == NULL && err.msg[0] == '\0')
        abort();
    if (body != NULL) {
        launch(body);
        memset(&err, 0, sizeof err);
        check_req(request_suggest(body, &r, &err), &r, &err);
        json_decref(body);
    }

    /* The same bytes as a path (up to its first NUL). */
    memcpy(url, data, n);
    url[n] = '\0';
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        int64_t id = 0;
        if (request_match(patterns[i], url, &id) && strchr(patterns[i], '#') != NULL && id < 1)
            abort();
    }
    return 0;
}
