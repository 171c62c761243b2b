/*
 * chain.h: the trajectory fingerprint chain (docs/security.md).
 *
 * DESIGN
 * Once a trajectory is final (its status terminal) the store's writer seals
 * it, in the same transaction that made it final: it gets the next chain
 * position (trajectories.chain_seq = 1, 2, ...), prev_fingerprint = the
 * fingerprint at the previous position (NULL at position 1), and
 *
 *     fingerprint = hex(SHA3-512(canonical || "\n" || prev_fingerprint))
 *
 * where canonical is the trajectory as export.h writes it (every field but
 * id, runId, fingerprint, prevFingerprint and output), plus
 * "outputDigest": hex SHA3-512 over its output chunks in sequence order
 * (each as seq and stream in 8 + 1 big-endian bytes, length in 8, then the
 * bytes), serialised as compact JSON with sorted keys, ASCII only, reals
 * with 17 significant digits. Operations are part of it, so are timings,
 * status, result and reward. meta.chain_head holds "position:fingerprint"
 * of the last sealed record, encrypted (so authenticated) on an encrypted
 * store, so removing the newest records is noticed too.
 *
 * The same canonical form is computed from an export bundle's JSON, so a
 * bundle's fingerprints are checked before it is imported.
 *
 * THREADS: each function uses only the connection it is given.
 */
#ifndef SD_CHAIN_H
#define SD_CHAIN_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "util.h"

#define CHAIN_HEX_LEN 129 /* 128 hex digits and a NUL */

/* Seal trajectory id (writer connection, inside a transaction; reads it
 * through the sd_plain_* views), with the statements of store s's writer
 * cache (store_stmt_get; s NULL: prepared for this call). A trajectory that
 * is not final or already sealed is left alone (0). Returns 0 or -1 with err
 * (nothing changed). */
struct store;
int chain_seal(struct store *s, sqlite3 *db, int64_t id, struct sd_err *err);

/* The fingerprint of trajectory id read through db (tables named
 * <prefix>trajectories, <prefix>operations is always main, <prefix>output)
 * given the previous fingerprint ("" at position 1). Returns 0 or -1. */
int chain_fingerprint_db(sqlite3 *db, const char *prefix, int64_t id, const char *prev,
                         char out[CHAIN_HEX_LEN], struct sd_err *err);

/* The same from one trajectory of an export bundle (with its "output"
 * chunks in base64). Returns 0 or -1 with err (malformed output). */
int chain_fingerprint_json(json_t *traj, const char *prev, char out[CHAIN_HEX_LEN],
                           struct sd_err *err);

struct chain_report {
    int64_t sealed;   /* records in the chain */
    int64_t unsealed; /* final records outside it (should be 0) */
    int ok;           /* 1: every check passed */
    int64_t bad_id;   /* first record that does not match (0 = none or the head) */
    char bad_uuid[40];
    char why[256];
    char head[CHAIN_HEX_LEN]; /* fingerprint of the last record ("" if none) */
};

/* Check the whole chain through a reader connection (store_reader: it sees
 * plaintext). Returns 0 with r filled (r->ok says whether it holds), or -1
 * with err when the store cannot be read at all. */
int chain_verify(sqlite3 *db, struct chain_report *r, struct sd_err *err);

/* Check the fingerprints and links of a bundle's trajectories (in bundle
 * order). Returns 0, or -1 with err (SD_EUSAGE) naming the first mismatch. */
int chain_verify_bundle(json_t *trajs, struct sd_err *err);

#endif
