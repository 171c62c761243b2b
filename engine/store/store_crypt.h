/*
 * store_crypt.h: encryption at rest for the store (private to store*.c,
 * traj.c and export.c; docs/security.md says what is protected and how).
 *
 * DESIGN
 * Encryption happens at the store boundary, inside SQLite, so no caller
 * changes how it reads:
 *
 * - Two SQL functions are registered on every connection the store opens:
 *   sd_seal(value, tag, k1, ...) and sd_open(value, tag, k1, ...). On an
 *   encrypted store sd_seal turns a text or blob into an AES-256-GCM box
 *   (crypto.h) whose associated data is "tag|k1|..." (the column and the
 *   record's identity), and sd_open reverses it; a box that fails to open is
 *   an SQL error naming the column and record. On a plaintext store both
 *   return their argument unchanged.
 * - Writers wrap the sensitive values in sd_seal() in their SQL.
 * - Readers (store_reader) of an encrypted store get TEMP views named
 *   trajectories, output, runs and operations that shadow the tables
 *   (SQLite resolves an unqualified name in temp first) and call sd_open,
 *   so `SELECT params FROM trajectories` returns plaintext. The writer gets
 *   the same views under the names sd_plain_* (it must still write the real
 *   tables).
 * - The key itself is never stored: meta holds enc_salt (for passphrases),
 *   enc_kdf and enc_check, a box of the store id under the key. A wrong key
 *   fails to open enc_check.
 *
 * Encrypted columns: trajectories.params, result, description, error;
 * output.data; runs.spec, summary; meta chain_head. Everything else (ids,
 * strategy, symbol, status, timings, reward, operations, bars, manifests) is
 * plaintext so indexes and aggregates work.
 *
 * THREADS: the functions here run on the thread that owns db.
 */
#ifndef SD_STORE_CRYPT_H
#define SD_STORE_CRYPT_H

#include <sqlite3.h>

#include "crypto.h"
#include "util.h"

/* The kinds of a sealed value (the box's second byte). */
#define KIND_TEXT 1
#define KIND_BLOB 2

/* The store's key (heap, wiped and freed by skey_free). */
struct skey {
    unsigned char k[CRYPTO_KEY_LEN];
};

void skey_free(struct skey *k);

/* The meta table (main.meta, under any TEMP view): store_meta_get copies
 * key's value into buf and returns 1, 0 when there is none, -1 on error;
 * store_meta_set inserts or replaces, returns 0 or -1. */
int store_meta_get(sqlite3 *db, const char *key, char *buf, size_t n);
int store_meta_set(sqlite3 *db, const char *key, const char *value);

/* Check secret against the store's meta (db open, any transaction state).
 * Results: 0 with *key NULL for a plaintext store opened without a secret;
 * 0 with *key set for an encrypted store and the right secret; 0 with
 * *need_init = 1 when a secret was given and the store has no key yet;
 * -1 with err (code SD_EKEY) for a missing or wrong key. Reads only meta. */
int skey_check(sqlite3 *db, const char *path, const char *secret, struct skey **key, int *need_init,
               struct sd_err *err);

/* Is key still the store's key? 1 when meta's key check opens with key
 * (or, key NULL, the store has none), 0 when another process changed it
 * (rekey, encrypt or decrypt), -1 when meta cannot be read. Reads only
 * meta; costs one AES-GCM open, no key derivation. */
int skey_holds(sqlite3 *db, const struct skey *key, const char *store_id);

/* Make the store encrypted under secret: refuses (SD_EKEY) a store that
 * already holds data (rekey encrypts those). Must run inside a write
 * transaction; writes meta only. On success *key is set. */
int skey_init(sqlite3 *db, const char *path, const char *secret, const char *store_id,
              struct skey **key, struct sd_err *err);

/* Derive the key for secret with fresh parameters and return, in *meta_sql
 * order, what skey_init would store: used by rekey to write the new key's
 * meta. Writes the meta rows with db (inside the caller's transaction). */
int skey_write_meta(sqlite3 *db, const char *secret, const char *store_id, struct skey **key,
                    struct sd_err *err);
/* Remove the encryption meta rows (rekey to plaintext). */
int skey_drop_meta(sqlite3 *db);

/* Register sd_seal and sd_open on db. Without copy they read *keyp at each
 * call (NULL = plaintext), so the owner may change the key (rekey) without
 * registering again; *keyp must outlive db. With copy the connection keeps
 * its own copy of the key, wiped when db closes. Returns 0 or -1. */
int skey_register(sqlite3 *db, struct skey **keyp, int copy);

/* Create the TEMP decrypting views on db: shadowing (readers: trajectories,
 * output, runs, operations) or prefixed sd_plain_ (writer). On a plaintext store the
 * prefixed views are plain copies and no shadowing views are made. Also sets
 * temp_store=MEMORY when encrypted, so nothing decrypted reaches a temp file. */
int skey_views(sqlite3 *db, int encrypted, int shadow, struct sd_err *err);

/* Build the in-memory TEMP FTS index over decrypted rows on a reader of an
 * encrypted store (idempotent). */
int skey_fts(sqlite3 *db, struct sd_err *err);

/* Seal or open one value with key outside SQL (kind 1 text, 2 blob).
 * Returns a malloc'ed buffer (*out_len bytes; opened text is also
 * NUL-terminated) or NULL. */
unsigned char *skey_seal(const struct skey *key, int kind, const char *aad, const void *data,
                         size_t len, size_t *out_len);
unsigned char *skey_open(const struct skey *key, const char *aad, const void *box, size_t len,
                         size_t *out_len, int *kind);

/* --- the writer's sealer (store_seal.c) ----------------------------------------
 * Output chunks are sealed by the writer in C, not through sd_seal: no SQL
 * function call, no fresh cipher context and key schedule, no call to the
 * random generator per chunk. One random nonce is drawn per writer batch and
 * each box of the batch uses it plus a counter (nonce = base + i over its
 * last 8 bytes), so every box still gets a distinct nonce under the key.
 * The boxes are the same format as skey_seal's (sd_open opens them).
 * Writer thread only. */
struct skey_sealer;

/* A sealer (NULL when out of memory). Free with skey_sealer_free (wipes its
 * copy of the key; accepts NULL). */
struct skey_sealer *skey_sealer_new(void);
void skey_sealer_free(struct skey_sealer *z);

/* A new batch begins: the next box draws a fresh random nonce. */
void skey_sealer_batch(struct skey_sealer *z);

/* Seal len bytes of data (kind 1 text, 2 blob) under key with associated
 * data tag and the fields joined by 0x1f, as sd_seal(data, tag, f0, f1, f2)
 * would. Returns the box (z's buffer, valid until the next call; *out_len
 * bytes) or NULL when OpenSSL or randomness fails or out of memory. */
const unsigned char *skey_sealer_seal(struct skey_sealer *z, const struct skey *key, int kind,
                                      const char *aad, const void *data, size_t len,
                                      size_t *out_len);

/* Re-encrypt every encrypted value from old to new_ (either may be NULL:
 * plaintext) with one UPDATE per table, inside the caller's transaction, so
 * a crash leaves the store wholly under one key. The FTS index is rewritten
 * from scratch, so no token of an old plaintext survives in it. The caller
 * writes the new key's meta (skey_write_meta / skey_drop_meta) in the same
 * transaction. Returns 0 or -1 with err. SWARMDECK_FAULT_REKEY=N makes it
 * abort() after N values (for the crash-safety test). */
int skey_rekey(sqlite3 *db, const struct skey *old, const struct skey *new_, struct sd_err *err);

#endif
