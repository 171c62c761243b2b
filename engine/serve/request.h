/*
 * request.h: what a client sends the daemon, from bytes to checked values:
 * the request body (JSON), a path with a deployment id in it, and the fields
 * of a launch (POST /v1/deployments), a suggestion (POST /v1/suggest) and
 * the id of a cancel (POST /v1/deployments/ID/cancel).
 *
 * This is the part of the API a hostile client controls byte for byte, so it
 * is kept apart from the HTTP plumbing (server.c) and the work (launch.c,
 * the coordinator): no I/O, no coordinator, no store, nothing kept between
 * calls. tests/fuzz/fuzz_serve.c feeds it arbitrary bytes.
 *
 * Every function fills an sd_err with a message for the client (SD_EUSAGE,
 * answered 400) when it refuses; values it hands back point into the JSON
 * it was given (borrowed: valid while that lives).
 *
 * Thread safety: any thread.
 */
#ifndef SD_REQUEST_H
#define SD_REQUEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "coord.h"

/* Parse len bytes of a request body as JSON; a key given twice is refused.
 * Returns a new reference, or NULL with err ("the body is not valid JSON:
 * WHY (line N)"). */
json_t *request_body(const char *data, size_t len, struct sd_err *err);

/* Does url match pattern? A "#" in pattern matches a deployment id: a whole
 * number from 1 with no sign, no leading zero and no overflow, stored in
 * *id. Everything else must match exactly, to the end. Returns 1 or 0. */
int request_match(const char *pattern, const char *url, int64_t *id);

/* Member key of object o as a string: *out is it, or NULL when absent or
 * null. Returns 0, or -1 with err when it is of another type. */
int request_str(json_t *o, const char *key, const char **out, struct sd_err *err);

/* Member key of object o as an integer in [lo, hi]: *out is set when it is
 * present (left alone when absent or null). Returns 0, or -1 with err. */
int request_int(json_t *o, const char *key, long long lo, long long hi, long long *out,
                struct sd_err *err);

/* One deployment of a launch (launch.h's format: strategy, symbol,
 * description, provider, params, pace, timeoutMs) into r (zeroed first;
 * its strings and params point into d). Returns 0, or -1 with err: d is not
 * an object, a member has the wrong type or range, or "strategy" is
 * missing. Says nothing of whether the strategy exists (coord_check). */
int request_deployment(json_t *d, struct deploy_req *r, struct sd_err *err);

/* The body of POST /v1/suggest ({strategy, params, symbol, provider}) into
 * r (zeroed first; pointing into body). Returns 0, or -1 with err. */
int request_suggest(json_t *body, struct deploy_req *r, struct sd_err *err);

#endif
