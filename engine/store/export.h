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

#endif
