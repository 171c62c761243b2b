/*
 * request.c: a client's request, from bytes to checked values (request.h
 * has the contract). Only jansson and string work: the checks here are
 * the shape of the input; whether a strategy, symbol or provider exists is
 * the coordinator's question (coord_check), asked after these pass.
 */
#define _GNU_SOURCE
#include "request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

json_t *request_body(const char *data, size_t len, struct sd_err *err)
{
    json_error_t je;
    json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);

    if (j == NULL)
        sd_err_set(err, SD_EUSAGE, "the body is not valid JSON: %s (line %d)", je.text, je.line);
    return j;
}

int request_match(const char *pattern, const char *url, int64_t *id)
{
    while (*pattern != '\0') {
        if (*pattern == '#') {
            char *end;
            long long v;
            if (*url < '1' || *url > '9')
                return 0;
            errno = 0;
            v = strtoll(url, &end, 10);
            if (errno != 0)
                return 0;
            *id = v;
            url = end;
            pattern++;
            continue;
        }
        if (*pattern++ != *url++)
            return 0;
    }
    return *url == '\0';
}

int request_str(json_t *o, const char *key, const char **out, struct sd_err *err)
{
    json_t *v = json_object_get(o, key);

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return sd_err_set(err, SD_EUSAGE, "\"%s\" must be a string", key);
    *out = json_string_value(v);
    return 0;
}

int request_int(json_t *o, const char *key, long long lo, long long hi, long long *out,
                struct sd_err *err)
{
    json_t *v = json_object_get(o, key);

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return sd_err_set(err, SD_EUSAGE, "\"%s\" must be an integer from %lld to %lld", key, lo,
                          hi);
    *out = json_integer_value(v);
    return 0;
}

int request_deployment(json_t *d, struct deploy_req *r, struct sd_err *err)
{
    long long pace = 0, timeout = 0;
    json_t *params = json_object_get(d, "params");

    memset(r, 0, sizeof *r);
    if (!json_is_object(d))
        return sd_err_set(err, SD_EUSAGE, "a deployment must be a JSON object");
    if (request_str(d, "strategy", &r->strategy, err) ||
        request_str(d, "symbol", &r->symbol, err) ||
        request_str(d, "description", &r->description, err) ||
        request_str(d, "provider", &r->provider, err) ||
        request_int(d, "pace", 0, 100000, &pace, err) ||
        request_int(d, "timeoutMs", 0, 86400000LL, &timeout, err))
        return -1;
    if (r->strategy == NULL)
        return sd_err_set(err, SD_EUSAGE, "a deployment needs \"strategy\"");
    if (params != NULL && !json_is_object(params))
        return sd_err_set(err, SD_EUSAGE, "\"params\" must be a JSON object");
    r->params = params;
    r->pace = (int)pace;
    r->timeout_ms = timeout;
    return 0;
}

int request_suggest(json_t *body, struct deploy_req *r, struct sd_err *err)
{
    memset(r, 0, sizeof *r);
    if (!json_is_object(body))
        return sd_err_set(err, SD_EUSAGE, "the body must be a JSON object");
    if (request_str(body, "strategy", &r->strategy, err) ||
        request_str(body, "symbol", &r->symbol, err) ||
        request_str(body, "provider", &r->provider, err))
        return -1;
    if (r->strategy == NULL)
        return sd_err_set(err, SD_EUSAGE, "suggest needs \"strategy\"");
    r->params = json_object_get(body, "params");
    if (r->params != NULL && !json_is_object(r->params))
        return sd_err_set(err, SD_EUSAGE, "\"params\" must be a JSON object");
    return 0;
}
