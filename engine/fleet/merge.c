/*
 * merge.c: verify and insert trajectories from another host (merge.h).
 */
#define _GNU_SOURCE
#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "fleet_store.h"

/* Check one envelope; the record and origin are borrowed from it. */
static int check_env(json_t *env, json_t **rec, const char **origin, struct sd_err *err)
{
    *rec = json_object_get(env, "record");
    *origin = json_string_value(json_object_get(env, "origin"));
    if (!json_is_object(env) || !json_is_object(*rec))
        return sd_err_set(err, SD_EUSAGE, "not a fleet record ({\"origin\", \"record\"})");
    if (!fleet_name_ok(*origin))
        return sd_err_set(err, SD_EUSAGE, "record: \"origin\" is not a host name");
    return import_record_check(*rec, err);
}

int fleet_merge(struct store *s, json_t *envs, struct fleet_merge_report *r, int *status,
                void (*refused_fn)(size_t i, const char *why, void *arg), void *arg,
                fleet_added_fn added, void *added_arg, struct sd_err *err)
{
    size_t n = json_array_size(envs), k = 0;
    json_t **recs = calloc(n ? n : 1, sizeof *recs);
    const char **origins = calloc(n ? n : 1, sizeof *origins);
    size_t *at = calloc(n ? n : 1, sizeof *at);
    int *out = calloc(n ? n : 1, sizeof *out), rc = 0;
    int64_t *ids = calloc(n ? n : 1, sizeof *ids);

    memset(r, 0, sizeof *r);
    if (recs == NULL || origins == NULL || at == NULL || out == NULL || ids == NULL) {
        rc = sd_err_set(err, SD_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        struct sd_err e = {0};
        if (status != NULL)
            status[i] = -1;
        if (check_env(json_array_get(envs, i), &recs[k], &origins[k], &e) != 0) {
            r->refused++;
            if (r->why[0] == '\0')
                snprintf(r->why, sizeof r->why, "%.250s", e.msg);
            if (refused_fn != NULL)
                refused_fn(i, e.msg, arg);
            continue;
        }
        at[k++] = i;
    }
    if (import_records(s, recs, origins, k, out, ids, err) != 0) {
        int refused = r->refused;
        char why[sizeof r->why];
        memcpy(why, r->why, sizeof why);
        memset(r, 0, sizeof *r);
        r->refused = refused;
        memcpy(r->why, why, sizeof why);
        rc = -1;
        goto done;
    }
    for (size_t j = 0; j < k; j++) {
        if (status != NULL)
            status[at[j]] = out[j];
        if (out[j] == 1) {
            r->added++;
            if (added != NULL)
                added(ids[j], recs[j], added_arg);
        } else if (out[j] == 0) {
            r->skipped++;
        } else {
            const char *why = "what would be stored does not match its fingerprint";
            r->refused++;
            if (r->why[0] == '\0')
                snprintf(r->why, sizeof r->why, "%s", why);
            if (refused_fn != NULL)
                refused_fn(at[j], why, arg);
        }
    }
done:
    free(recs);
    free(origins);
    free(at);
    free(out);
    free(ids);
    return rc;
}
