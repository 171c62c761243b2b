/*
 * fleet_store.h: what the fleet (engine/fleet, docs/fleet.md) keeps in the
 * store: the outbox of local finished trajectories still to publish, the
 * per-peer cursors of `swarmdeck sync`, the origin of synced trajectories
 * and the fleet name of this store.
 *
 * The outbox is filled from the fingerprint chain, not by the code that
 * ends a trajectory: every local trajectory sealed at a chain position above
 * meta fleet_outbox_mark is queued, and the mark moves, in one transaction.
 * So a trajectory that ended while no daemon ran, or while NATS was away, or
 * just before a crash, is still queued once (never twice) the next time.
 *
 * Conventions of query.h: `db` is a reader (store_reader), a function given
 * `struct store *s` runs a writer job and waits for its commit; failure is
 * -1 (or NULL) with err set and nothing changed.
 */
#ifndef SD_FLEET_STORE_H
#define SD_FLEET_STORE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "store.h"

#define FLEET_NAME_MAX 64

/* 1 when name may name a fleet host: 1-63 characters of A-Z a-z 0-9 . _ -
 * (what a hostname holds), not starting with '.' or '-'. */
int fleet_name_ok(const char *name);

/* This store's fleet name: meta fleet_name when set, else the hostname,
 * '-' and the first 8 digits of the store id (so two stores on one host
 * differ). Writes at most FLEET_NAME_MAX bytes into buf. Returns 0 or -1. */
int store_fleet_name(sqlite3 *db, const char *store_id, char *buf, size_t n);

/* Set meta fleet_name (checked with fleet_name_ok: SD_EUSAGE). Flushes. */
int store_fleet_name_set(struct store *s, const char *name, struct sd_err *err);

/* Queue every local (origin NULL) trajectory sealed above the mark and
 * move the mark; *queued (may be NULL) gets how many. Flushes. */
int store_fleet_outbox_fill(struct store *s, int64_t *queued, struct sd_err *err);

/* Up to max queued trajectory ids, oldest first, skipping those marked too
 * big to publish. *n gets the count. Returns 0 or -1. */
int store_fleet_outbox_next(sqlite3 *db, int64_t *ids, size_t max, size_t *n, struct sd_err *err);

/* Trajectories still queued (too big ones included). -1 on error. */
int64_t store_fleet_outbox_size(sqlite3 *db);

/* Drop ids[0..n) from the outbox (published), or with too_big keep them
 * marked so they are not tried again. Flushes. */
int store_fleet_outbox_done(struct store *s, const int64_t *ids, size_t n, int too_big,
                            struct sd_err *err);

/* Trajectory id as the fleet sends it: {"origin": NAME, "record": {record.h
 * with output}}, where NAME is its origin or, for a local one, self. New
 * reference, NULL with err. */
json_t *store_fleet_envelope(sqlite3 *db, int64_t id, const char *self, struct sd_err *err);

/* Finished trajectories at chain positions above after, in chain order, at
 * most max, as envelopes (store_fleet_envelope) in a new array, leaving out
 * those whose origin is skip_origin (may be NULL): what the asking peer
 * sent here. *last gets the last position looked at (after when none), so
 * a cursor moves past the left-out ones too. NULL with err. */
json_t *store_fleet_after(sqlite3 *db, int64_t after, size_t max, const char *self,
                          const char *skip_origin, int64_t *last, struct sd_err *err);

/* The highest chain position (0 when none). -1 on error. */
int64_t store_fleet_head(sqlite3 *db);

/* One page for a peer, in one read snapshot so head and page agree: this
 * store's fleet name into name (n bytes; store_id names it when unset), its
 * head, and store_fleet_after's page and *last. NULL with err. */
json_t *store_fleet_page(sqlite3 *db, const char *store_id, int64_t after, size_t max,
                         const char *skip_origin, char *name, size_t n, int64_t *head,
                         int64_t *last, struct sd_err *err);

/* The cursor of sync peer (0, 0 when none yet). Returns 0 or -1. */
int store_fleet_cursor_get(sqlite3 *db, const char *peer, int64_t *pulled, int64_t *pushed,
                           struct sd_err *err);
/* Set it. Flushes. */
int store_fleet_cursor_set(struct store *s, const char *peer, int64_t pulled, int64_t pushed,
                           struct sd_err *err);

/* Finished trajectories by origin: [{"origin": null|NAME, "trajectories":
 * N}, ...], local (null) first, then by count. strategy (may be NULL)
 * narrows to one strategy. New reference, NULL with err. */
json_t *store_fleet_origins(sqlite3 *db, const char *strategy, struct sd_err *err);

#endif
