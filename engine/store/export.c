/*
 * export.c: export bundles and their import (export.h). A bundle's
 * trajectories are record.h's JSON with output.
 *
 * Import treats a bundle as hostile input. Before it writes anything it
 * checks every field (bundle_check.c), the digest and the fingerprint chain
 * (chain.h); every finished trajectory must carry its fingerprint. While it
 * inserts, it recomputes each record's fingerprint from what the store now
 * holds and compares it with the bundle's (verify_stored), all in one
 * transaction: any mismatch imports nothing. Strategy manifests are kept
 * for reference only, never runnable (STORE_STRATEGY_IMPORTED): only
 * `strategies add` by the operator makes a strategy runnable.
 */
#define _GNU_SOURCE
#include "export.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_check.h"
#include "chain.h"
#include "crypto.h"
#include "query.h"
#include "record.h"
#include "traj.h"

json_t *export_bundle(struct store *s, struct sd_err *err)
{
    sqlite3 *db = store_reader(s, err);
    sqlite3_stmt *st = NULL;
    json_t *b, *trajs, *strats, *by;
    int64_t total = 0, ok = 0, finished = 0;
    double reward = 0;

    if (db == NULL)
        return NULL;
    /* One read transaction so the bundle is a consistent snapshot. */
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    b = json_object();
    json_object_set_new(b, "format", json_string("swarmdeck-export"));
    json_object_set_new(b, "version", json_integer(EXPORT_VERSION));
    json_object_set_new(b, "exportedAt", json_integer(sd_now_ms()));
    json_object_set_new(b, "storeId", json_string(store_id(s)));
    if ((strats = store_strategy_manifests(db, NULL)) == NULL)
        strats = json_array();
    trajs = json_array();
    by = json_object();
    /* Chain order, so an importer can follow prevFingerprint links; records
     * not yet final (outside the chain) last. */
    if (sqlite3_prepare_v2(db,
                           "SELECT id, status, reward FROM trajectories"
                           " ORDER BY chain_seq IS NULL, chain_seq, id",
                           -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *state = (const char *)sqlite3_column_text(st, 1);
            json_t *t = record_trajectory(db, "", sqlite3_column_int64(st, 0), 1, err);
            json_t *cnt = json_object_get(by, state);
            if (t == NULL) {
                /* An unreadable record (tampered ciphertext): refuse to
                 * write a bundle that silently lacks it. */
                sd_err_prefix(err, "export: trajectory #%lld",
                              (long long)sqlite3_column_int64(st, 0));
                sqlite3_finalize(st);
                sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
                sqlite3_close_v2(db);
                json_decref(b);
                json_decref(trajs);
                json_decref(strats);
                json_decref(by);
                return NULL;
            }
            json_array_append_new(trajs, t);
            json_object_set_new(by, state, json_integer(cnt ? json_integer_value(cnt) + 1 : 1));
            total++;
            if (strcmp(state, "queued") != 0 && strcmp(state, "running") != 0) {
                finished++;
                reward += sqlite3_column_double(st, 2);
            }
            if (strcmp(state, "succeeded") == 0)
                ok++;
        }
    }
    sqlite3_finalize(st);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close_v2(db);
    json_object_set_new(b, "metrics",
                        json_pack("{s:I, s:o, s:f, s:f}", "totalTrajectories", (json_int_t)total,
                                  "byStatus", by, "successRate",
                                  finished ? (double)ok / (double)finished : 0.0, "avgReward",
                                  finished ? reward / (double)finished : 0.0));
    json_object_set_new(b, "strategies", strats);
    json_object_set_new(b, "trajectories", trajs);
    return b;
}

/* SHA3-512 of the canonical form of b without its "digest" member. */
static int bundle_digest(json_t *b, char out[CHAIN_HEX_LEN], struct sd_err *err)
{
    json_t *c = json_copy(b);
    unsigned char d[CRYPTO_SHA3_LEN];
    char *text;
    int rc;

    if (c == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    json_object_del(c, "digest");
    text =
        json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17));
    json_decref(c);
    if (text == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    rc = crypto_sha3_512(text, strlen(text), d);
    free(text);
    if (rc != 0)
        return sd_err_set(err, SD_EENV, "SHA3-512 failed");
    crypto_hex(d, sizeof d, out);
    return 0;
}

int export_seal_bundle(json_t *b, struct sd_err *err)
{
    char hex[CHAIN_HEX_LEN];

    if (bundle_digest(b, hex, err) != 0)
        return -1;
    json_object_set_new(b, "digest", json_string(hex));
    return 0;
}

/* --- import ----------------------------------------------------------------- */

/* The whole bundle, before anything is written: its form, every field
 * (bundle_check.c), its digest and its fingerprint chain (chain.c). */
static int check_bundle(json_t *b, const char *const *reserved, struct sd_err *err)
{
    if (!json_is_object(b) || !json_is_string(json_object_get(b, "format")) ||
        strcmp(json_string_value(json_object_get(b, "format")), "swarmdeck-export") != 0)
        return sd_err_set(err, SD_EUSAGE, "not a swarmdeck export bundle (no \"format\")");
    if (!json_is_integer(json_object_get(b, "version")) ||
        json_integer_value(json_object_get(b, "version")) != EXPORT_VERSION)
        return sd_err_set(err, SD_EUSAGE,
                          "unsupported bundle version (this build reads %d, with a digest)",
                          EXPORT_VERSION);
    if (bundle_check_fields(b, reserved, err) != 0)
        return -1;
    {
        const char *have = json_string_value(json_object_get(b, "digest"));
        char want[CHAIN_HEX_LEN];
        if (have == NULL)
            return sd_err_set(err, SD_EUSAGE, "bundle has no digest; refusing it");
        if (bundle_digest(b, want, err) != 0)
            return -1;
        if (strcmp(have, want) != 0)
            return sd_err_set(err, SD_EUSAGE,
                              "bundle digest does not match its content: it was changed or "
                              "damaged after export");
    }
    return chain_verify_bundle(json_object_get(b, "trajectories"), err);
}

struct import_job {
    json_t *b;
    struct import_report *r;
};

static char *dumps_or_null(json_t *j)
{
    if (j == NULL || json_is_null(j))
        return NULL;
    if (json_is_string(j))
        return xstrdup(json_string_value(j));
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
}

static void bind_json(sqlite3_stmt *st, int i, json_t *j)
{
    char *s = dumps_or_null(j);
    if (s)
        sqlite3_bind_text(st, i, s, -1, free);
    else
        sqlite3_bind_null(st, i);
}

static void bind_int_or_null(sqlite3_stmt *st, int i, json_t *j)
{
    if (json_is_integer(j))
        sqlite3_bind_int64(st, i, json_integer_value(j));
    else
        sqlite3_bind_null(st, i);
}

static void bind_real_or_null(sqlite3_stmt *st, int i, json_t *j)
{
    if (json_is_number(j))
        sqlite3_bind_double(st, i, json_number_value(j));
    else
        sqlite3_bind_null(st, i);
}

/* The fingerprint of trajectory id as this store now holds it (read back
 * through the writer's plaintext views, within the import's transaction)
 * must be the one the bundle's chain vouched for: so what is stored is
 * exactly what was verified, whatever types or values the bundle used to
 * try to make the two differ. Returns 0 or -1 with err. */
static int verify_stored(sqlite3 *db, int64_t id, json_t *t, struct sd_err *err)
{
    const char *want = json_string_value(json_object_get(t, "fingerprint"));
    const char *prev = json_string_value(json_object_get(t, "prevFingerprint"));
    char fp[CHAIN_HEX_LEN];

    if (chain_fingerprint_db(db, "sd_plain_", id, prev ? prev : "", fp, err) != 0)
        return -1;
    if (want == NULL || strcmp(fp, want) != 0)
        return sd_err_set(err, SD_EUSAGE,
                          "bundle: trajectory %s: what would be stored does not match its "
                          "fingerprint (a changed or malformed record)",
                          json_string_value(json_object_get(t, "uuid")));
    return 0;
}

static int import_one(struct store *s, sqlite3 *db, json_t *t, const char *origin,
                      struct sd_err *err)
{
    sqlite3_stmt *st;
    int64_t id;
    const char *status = json_string_value(json_object_get(t, "status"));
    json_t *ops = json_object_get(t, "operations"), *out = json_object_get(t, "output");

    st = store_stmt(s,
                    "INSERT INTO trajectories(uuid, strategy, symbol, params, provider, "
                    "sandbox_id, status, exit_code, error, created_at, started_at, ended_at, "
                    "duration_ms, result, reward, prediction, description, op_sequence, "
                    "isolation, auto_optimized, output_bytes, output_dropped, fingerprint, "
                    "prev_fingerprint) VALUES(?1,?2,?3,sd_seal(?4,'params',?1),?5,?6,?7,?8,"
                    "sd_seal(?9,'error',?1),?10,?11,?12,?13,sd_seal(?14,'result',?1),?15,?16,"
                    "sd_seal(?17,'description',?1),?18,?19,?20,?21,?22,?23,?24)",
                    err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, json_string_value(json_object_get(t, "uuid")), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, json_string_value(json_object_get(t, "strategyName")), -1,
                      SQLITE_TRANSIENT);
    bind_json(st, 3, json_object_get(t, "symbol"));
    {
        char *p = dumps_or_null(json_object_get(t, "params"));
        sqlite3_bind_text(st, 4, p ? p : "{}", -1, SQLITE_TRANSIENT);
        free(p);
    }
    sqlite3_bind_text(st, 5, json_string_value(json_object_get(t, "provider")), -1,
                      SQLITE_TRANSIENT);
    bind_json(st, 6, json_object_get(t, "sandboxId"));
    sqlite3_bind_text(st, 7, status, -1, SQLITE_TRANSIENT);
    bind_int_or_null(st, 8, json_object_get(t, "exitCode"));
    bind_json(st, 9, json_object_get(t, "error"));
    sqlite3_bind_int64(st, 10, json_integer_value(json_object_get(t, "createdAt")));
    bind_int_or_null(st, 11, json_object_get(t, "startedAt"));
    bind_int_or_null(st, 12, json_object_get(t, "endedAt"));
    bind_real_or_null(st, 13, json_object_get(t, "duration"));
    bind_json(st, 14, json_object_get(t, "result"));
    bind_real_or_null(st, 15, json_object_get(t, "reward"));
    bind_json(st, 16, json_object_get(t, "prediction"));
    bind_json(st, 17, json_object_get(t, "description"));
    bind_json(st, 18, json_object_get(t, "operationSequence"));
    bind_json(st, 19, json_object_get(t, "isolation"));
    sqlite3_bind_int(st, 20, json_is_true(json_object_get(t, "autoOptimized")));
    sqlite3_bind_int64(st, 21, json_integer_value(json_object_get(t, "outputBytes")));
    sqlite3_bind_int64(st, 22, json_integer_value(json_object_get(t, "outputDropped")));
    /* 23, 24: the bundle's fingerprints were checked, and are checked again
     * against what was stored (verify_stored); the trajectory joins this
     * store's chain afresh (store_chain_note below). */
    sqlite3_bind_null(st, 23);
    sqlite3_bind_null(st, 24);
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_dberr(err, db, "store");
    id = sqlite3_last_insert_rowid(db);
    if (origin != NULL) {
        st = store_stmt(s, "UPDATE trajectories SET origin = ?2 WHERE id = ?1", err);
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, origin, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            return store_dberr(err, db, "store");
    }
    if (store_chain_note(s, id) != 0)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    for (size_t k = 0; k < json_array_size(ops); k++) {
        json_t *o = json_array_get(ops, k);
        st = store_stmt(s,
                        "INSERT INTO operations(traj_id, seq, name, started_at, duration_ms, ok, "
                        "detail) VALUES(?1,?2,?3,?4,?5,?6,sd_seal(?7,'detail',?1,?2))",
                        err);
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, json_integer_value(json_object_get(o, "seq")));
        sqlite3_bind_text(st, 3, json_string_value(json_object_get(o, "name")), -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, json_integer_value(json_object_get(o, "startedAt")));
        sqlite3_bind_double(st, 5, json_number_value(json_object_get(o, "duration")));
        sqlite3_bind_int(st, 6, json_is_true(json_object_get(o, "ok")));
        bind_json(st, 7, json_object_get(o, "detail"));
        if (sqlite3_step(st) != SQLITE_DONE)
            return store_dberr(err, db, "store");
    }
    for (size_t k = 0; k < json_array_size(out); k++) {
        json_t *o = json_array_get(out, k);
        const char *d = json_string_value(json_object_get(o, "data"));
        const char *stream = json_string_value(json_object_get(o, "stream"));
        size_t dl = strlen(d);
        unsigned char *raw = malloc(dl / 4 * 3 + 3);
        long n;
        if (raw == NULL)
            return sd_err_set(err, SD_ENOMEM, "out of memory");
        n = crypto_b64_decode(d, dl, raw);
        if (n < 0) {
            free(raw);
            return sd_err_set(err, SD_EUSAGE, "bundle: output of %s is not base64",
                              json_string_value(json_object_get(t, "uuid")));
        }
        st = store_stmt(s,
                        "INSERT INTO output(traj_id, seq, stream, data)"
                        " VALUES(?1,?2,?3,sd_seal(?4,'output',?1,?2,?3))",
                        err);
        if (st == NULL) {
            free(raw);
            return -1;
        }
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, json_integer_value(json_object_get(o, "seq")));
        sqlite3_bind_int(st, 3, stream && strcmp(stream, "stderr") == 0 ? 2 : 1);
        sqlite3_bind_blob(st, 4, raw, (int)n, free);
        if (sqlite3_step(st) != SQLITE_DONE)
            return store_dberr(err, db, "store");
    }
    return verify_stored(db, id, t, err);
}

static int import_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct import_job *j = arg;
    json_t *trajs = json_object_get(j->b, "trajectories"),
           *strats = json_object_get(j->b, "strategies");
    sqlite3_stmt *st;

    if (store_savepoint(db, "import", err) != 0)
        return -1;
    for (size_t i = 0; i < json_array_size(strats); i++) {
        json_t *m = json_array_get(strats, i);
        char *text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
        st = store_stmt(s,
                        "INSERT OR IGNORE INTO strategies(name, manifest, builtin, added_at) "
                        "VALUES(?1, ?2, " STORE_STRATEGY_IMPORTED_S ", ?3)",
                        err);
        if (st == NULL) {
            free(text);
            goto fail;
        }
        sqlite3_bind_text(st, 1, json_string_value(json_object_get(m, "name")), -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, text, -1, free);
        sqlite3_bind_int64(st, 3, sd_now_ms());
        if (sqlite3_step(st) != SQLITE_DONE) {
            store_dberr(err, db, "store");
            goto fail;
        }
        j->r->strategies_added += sqlite3_changes(db);
    }
    for (size_t i = 0; i < json_array_size(trajs); i++) {
        json_t *t = json_array_get(trajs, i);
        int exists;
        /* Unfinished when exported: outside the chain, so nothing vouches
         * for it. Not imported; export again once it has finished. */
        if (!traj_state_terminal(
                traj_state_from_name(json_string_value(json_object_get(t, "status"))))) {
            j->r->unfinished++;
            continue;
        }
        st = store_stmt(s, "SELECT 1 FROM trajectories WHERE uuid = ?1", err);
        if (st == NULL)
            goto fail;
        sqlite3_bind_text(st, 1, json_string_value(json_object_get(t, "uuid")), -1,
                          SQLITE_TRANSIENT);
        exists = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_reset(st);
        if (exists) {
            j->r->skipped++;
            continue;
        }
        if (import_one(s, db, t, NULL, err) != 0)
            goto fail;
        j->r->added++;
    }
    return store_savepoint_end(db, "import", 0);
fail:
    memset(j->r, 0, sizeof *j->r);
    return store_savepoint_end(db, "import", -1);
}

int import_bundle(struct store *s, json_t *bundle, struct import_report *r, struct sd_err *err)
{
    return import_bundle_reserved(s, bundle, NULL, r, err);
}

int import_bundle_reserved(struct store *s, json_t *bundle, const char *const *reserved,
                           struct import_report *r, struct sd_err *err)
{
    struct import_job j = {bundle, r};

    memset(r, 0, sizeof *r);
    if (check_bundle(bundle, reserved, err) != 0)
        return -1;
    if (store_call(s, import_fn, &j, err) != 0)
        return -1;
    return store_flush(s, err);
}

/* --- single records ----------------------------------------------------- */

int import_record_check(json_t *t, struct sd_err *err)
{
    const char *have = json_string_value(json_object_get(t, "fingerprint"));
    const char *prev = json_string_value(json_object_get(t, "prevFingerprint"));
    json_t *b;
    char fp[CHAIN_HEX_LEN];
    int rc;

    if (!json_is_object(t))
        return sd_err_set(err, SD_EUSAGE, "record: not a JSON object");
    if (!traj_state_terminal(traj_state_from_name(json_string_value(json_object_get(t, "status")))))
        return sd_err_set(err, SD_EUSAGE, "record: not a finished trajectory");
    if (have == NULL)
        return sd_err_set(err, SD_EUSAGE, "record: no fingerprint");
    b = json_pack("{s:[O]}", "trajectories", t);
    if (b == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    rc = bundle_check_fields(b, NULL, err);
    json_decref(b);
    if (rc != 0)
        return -1;
    if (chain_fingerprint_json(t, prev ? prev : "", fp, err) != 0)
        return -1;
    if (strcmp(fp, have) != 0)
        return sd_err_set(err, SD_EUSAGE,
                          "record %s does not match its fingerprint (changed on the way)",
                          json_string_value(json_object_get(t, "uuid")));
    return 0;
}

struct records_job {
    json_t *const *recs;
    const char *const *origins;
    size_t n;
    int *out;
    int64_t *ids;
};

static int records_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct records_job *j = arg;

    for (size_t i = 0; i < j->n; i++) {
        sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM trajectories WHERE uuid = ?1", err);
        struct sd_err e = {0};
        int exists;
        if (st == NULL)
            return -1;
        sqlite3_bind_text(st, 1, json_string_value(json_object_get(j->recs[i], "uuid")), -1,
                          SQLITE_TRANSIENT);
        exists = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_reset(st);
        if (exists) {
            j->out[i] = 0;
            continue;
        }
        if (store_savepoint(db, "record", err) != 0)
            return -1;
        if (store_savepoint_end(
                db, "record",
                import_one(s, db, j->recs[i], j->origins ? j->origins[i] : NULL, &e)) != 0) {
            /* A record that would not be stored as it was verified is
             * refused alone; a store that fails fails the whole job. */
            if (e.code != SD_EUSAGE) {
                *err = e;
                return -1;
            }
            j->out[i] = -1;
            continue;
        }
        j->out[i] = 1;
        if (j->ids != NULL) {
            st = store_stmt(s, "SELECT id FROM trajectories WHERE uuid = ?1", err);
            if (st == NULL)
                return -1;
            sqlite3_bind_text(st, 1, json_string_value(json_object_get(j->recs[i], "uuid")), -1,
                              SQLITE_TRANSIENT);
            j->ids[i] = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
            sqlite3_reset(st);
        }
    }
    return 0;
}

int import_records(struct store *s, json_t *const *records, const char *const *origins, size_t n,
                   int *out, int64_t *ids, struct sd_err *err)
{
    struct records_job j = {records, origins, n, out, ids};

    if (n == 0)
        return 0;
    if (store_call(s, records_fn, &j, err) != 0)
        return -1;
    return store_flush(s, err);
}
