/*
 * export.h: export bundles and their import.
 *
 * An export bundle is one JSON object:
 *   {"format": "swarmdeck-export", "version": 2, "exportedAt": ms, "storeId": "...",
 *    "metrics": {...}, "strategies": [manifest...], "trajectories": [traj...],
 *    "digest": "<SHA3-512 hex>"}
 * where each traj carries its operations and its captured output (base64
 * chunks with sequence numbers and streams), so a bundle holds every byte the
 * store holds. Import merges by trajectory uuid: a trajectory already present
 * is skipped, so importing a bundle twice adds nothing. A bundle is checked
 * whole before anything is written, and written in one transaction: a bad
 * bundle imports nothing.
 */
#ifndef SD_EXPORT_H
#define SD_EXPORT_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "store.h"

#define EXPORT_VERSION 2

/* Set b's "digest" over everything else in b; call it last, just before
 * writing b out. Returns 0 or -1 with err. */
int export_seal_bundle(json_t *b, struct sd_err *err);

/* The whole store as a bundle (new reference), or NULL with err set. */
json_t *export_bundle(struct store *s, struct sd_err *err);

struct import_report {
    int added, skipped, strategies_added;
    int unfinished; /* queued or running when exported: not imported */
};

/* Merge bundle into s. The bundle is hostile input (export.c): every field
 * is checked, finished trajectories must carry fingerprints, and each one's
 * fingerprint is recomputed from what is stored. Unfinished trajectories
 * are not imported (r->unfinished); strategy manifests are kept but not
 * runnable (r->strategies_added counts them). Returns 0 (r filled) or -1
 * with err set (SD_EUSAGE for a bad bundle) and nothing changed. */
int import_bundle(struct store *s, json_t *bundle, struct import_report *r, struct sd_err *err);

/* import_bundle refusing a manifest named like one of reserved (a
 * NULL-terminated list, may be NULL): the built-in strategies. */
int import_bundle_reserved(struct store *s, json_t *bundle, const char *const *reserved,
                           struct import_report *r, struct sd_err *err);

/* --- single records (the fleet's sync: engine/fleet/merge.h) ------------- */

/* Check one trajectory record t from another host (record.h's JSON with
 * its output) as import checks a bundle's: it must be finished, every field
 * as bundle_check.h says, and its fingerprint must be the one recomputed
 * from its content and its own prevFingerprint (a record travels without
 * its chain, so the link itself is not checked). Pure. Returns 0, or -1
 * with err (SD_EUSAGE) saying what is wrong. */
int import_record_check(json_t *t, struct sd_err *err);

/* Merge records[0..n) (each passed import_record_check) into s in one
 * transaction, record i marked with origins[i] (trajectories.origin; NULL
 * for none). Each record stands alone (a savepoint): out[i] is 1 added, 0
 * skipped (its uuid is here already) or -1 refused (what would be stored
 * does not match its fingerprint; nothing of it is kept). Records join this
 * store's chain as imported ones do. ids (may be NULL) gets each added
 * record's new trajectories.id. Flushes before returning. Returns 0,
 * or -1 with err when the store failed (then nothing was added). */
int import_records(struct store *s, json_t *const *records, const char *const *origins, size_t n,
                   int *out, int64_t *ids, struct sd_err *err);

#endif
