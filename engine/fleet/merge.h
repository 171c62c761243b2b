/*
 * merge.h: the one way a trajectory from another host enters the store,
 * shared by the NATS fleet (fleet.h) and `swarmdeck sync` (the daemon's
 * /v1/fleet/records and the command that calls it).
 *
 * What arrives is an envelope {"origin": NAME, "record": {...}} (record.h's
 * JSON with output, fleet_store.h). Each one is checked alone, as hostile
 * input, exactly as `import` checks a bundle's trajectories
 * (import_record_check: finished, every field's type and range, finite
 * numbers, the fingerprint recomputed from the content); a bad one is
 * refused and counted, never stored, and does not stop the others. The good
 * ones are inserted through the store's normal import path (so an
 * encrypted store seals them) when their uuid is absent: the merge is a
 * union, and merging the same envelope twice adds nothing.
 *
 * THREADS: any thread (the store's writer does the writing).
 */
#ifndef SD_FLEET_MERGE_H
#define SD_FLEET_MERGE_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"

struct fleet_merge_report {
    int added, skipped, refused;
    char why[256]; /* the first refusal's reason ("" when none) */
};

/* Called for each record added, with its new trajectories.id and the
 * record (borrowed): the daemon's learning index observes it. */
typedef void (*fleet_added_fn)(int64_t id, json_t *record, void *arg);

/* Merge the envelopes of array envs into s; r->refused counts the bad ones
 * and for each of them refused_fn (may be NULL) gets its index and reason.
 * status (may be NULL, else json_array_size(envs) ints) gets per envelope
 * 1 added, 0 skipped, -1 refused; added (may be NULL) is called with
 * added_arg for each one added, after the commit. Returns 0 with r filled,
 * or -1 with err when the store failed (nothing of this call was added;
 * call again). */
int fleet_merge(struct store *s, json_t *envs, struct fleet_merge_report *r, int *status,
                void (*refused_fn)(size_t i, const char *why, void *arg), void *arg,
                fleet_added_fn added, void *added_arg, struct sd_err *err);

#endif
