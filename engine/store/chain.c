/*
 * chain.c: sealing and verifying the trajectory fingerprint chain
 * (chain.h).
 *
 * The canonical form is built from record_trajectory's JSON (record.h) so
 * that the store and a bundle agree by construction: one function decides
 * what a trajectory "is", and the chain, export and import all use it.
 */
#define _GNU_SOURCE
#include "chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "query.h"
#include "record.h"

#define TERMINAL "('succeeded','failed','timeout','cancelled','interrupted')"

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static int digest_chunk(struct crypto_hash *h, int64_t seq, int stream, const void *data,
                        size_t len)
{
    unsigned char hdr[17];
    put_be(hdr, (uint64_t)seq, 8);
    hdr[8] = (unsigned char)stream;
    put_be(hdr + 9, (uint64_t)len, 8);
    return crypto_hash_update(h, hdr, sizeof hdr) || crypto_hash_update(h, data, len) ? -1 : 0;
}

/* canonical || "\n" || prev, hashed into out. Steals nothing; t is changed
 * (keys removed, outputDigest set). */
static int finish_fp(json_t *t, const unsigned char digest[CRYPTO_SHA3_LEN], const char *prev,
                     char out[CHAIN_HEX_LEN], struct sd_err *err)
{
    static const char *const drop[] = {"id", "runId", "fingerprint", "prevFingerprint", "output"};
    char hex[CHAIN_HEX_LEN];
    struct crypto_hash *h;
    unsigned char fp[CRYPTO_SHA3_LEN];
    char *canon;
    int rc;

    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        json_object_del(t, drop[i]);
    crypto_hex(digest, CRYPTO_SHA3_LEN, hex);
    json_object_set_new(t, "outputDigest", json_string(hex));
    canon = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII |
                              JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY);
    if (canon == NULL || (h = crypto_hash_new()) == NULL) {
        free(canon);
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    }
    rc = crypto_hash_update(h, canon, strlen(canon)) || crypto_hash_update(h, "\n", 1) ||
         crypto_hash_update(h, prev, strlen(prev));
    free(canon);
    if (rc != 0) {
        crypto_hash_free(h);
        return sd_err_set(err, SD_EENV, "fingerprint: SHA3-512 failed");
    }
    if (crypto_hash_final(h, fp) != 0)
        return sd_err_set(err, SD_EENV, "fingerprint: SHA3-512 failed");
    crypto_hex(fp, sizeof fp, out);
    return 0;
}

/* chain_fingerprint_db with the writer's cached statements when s is not
 * NULL (store_stmt_get). */
static int fingerprint_on(struct store *s, sqlite3 *db, const char *prefix, int64_t id,
                          const char *prev, char out[CHAIN_HEX_LEN], struct sd_err *err)
{
    unsigned char digest[CRYPTO_SHA3_LEN];
    struct crypto_hash *h = NULL;
    sqlite3_stmt *st = NULL;
    char sql[160];
    json_t *t;
    int rc = -1, step;

    if ((t = record_trajectory_on(s, db, prefix, id, 0, err)) == NULL)
        return -1;
    snprintf(
        sql, sizeof sql,
        "SELECT seq, stream, sd_unz(data, z) FROM \"%soutput\" WHERE traj_id = ?1 ORDER BY seq",
        prefix);
    if ((h = crypto_hash_new()) == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        goto out;
    }
    if ((st = store_stmt_get(s, db, sql)) == NULL) {
        store_dberr(err, db, "fingerprint");
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const void *d = sqlite3_column_blob(st, 2);
        if (digest_chunk(h, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1), d ? d : "",
                         (size_t)sqlite3_column_bytes(st, 2)) != 0) {
            sd_err_set(err, SD_EENV, "fingerprint: SHA3-512 failed");
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        store_dberr(err, db, NULL);
        goto out;
    }
    rc = crypto_hash_final(h, digest);
    h = NULL;
    if (rc != 0) {
        sd_err_set(err, SD_EENV, "fingerprint: SHA3-512 failed");
        goto out;
    }
    rc = finish_fp(t, digest, prev, out, err);
out:
    crypto_hash_free(h);
    store_stmt_put(s, st);
    json_decref(t);
    return rc;
}

int chain_fingerprint_db(sqlite3 *db, const char *prefix, int64_t id, const char *prev,
                         char out[CHAIN_HEX_LEN], struct sd_err *err)
{
    return fingerprint_on(NULL, db, prefix, id, prev, out, err);
}

int chain_fingerprint_json(json_t *traj, const char *prev, char out[CHAIN_HEX_LEN],
                           struct sd_err *err)
{
    unsigned char digest[CRYPTO_SHA3_LEN];
    json_t *t = json_deep_copy(traj), *chunks = json_object_get(traj, "output");
    struct crypto_hash *h = crypto_hash_new();
    int rc = -1;

    if (t == NULL || h == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < json_array_size(chunks); k++) {
        json_t *c = json_array_get(chunks, k);
        const char *d = json_string_value(json_object_get(c, "data"));
        const char *stream = json_string_value(json_object_get(c, "stream"));
        size_t dl = d ? strlen(d) : 0;
        unsigned char *raw;
        long n;
        if (d == NULL || dl % 4 != 0 || !json_is_integer(json_object_get(c, "seq"))) {
            sd_err_set(err, SD_EUSAGE, "output chunk %zu is malformed", k);
            goto out;
        }
        if ((raw = malloc(dl / 4 * 3 + 1)) == NULL) {
            sd_err_set(err, SD_ENOMEM, "out of memory");
            goto out;
        }
        n = crypto_b64_decode(d, dl, raw);
        if (n < 0 ||
            digest_chunk(h, json_integer_value(json_object_get(c, "seq")),
                         stream && strcmp(stream, "stderr") == 0 ? 2 : 1, raw, (size_t)n) != 0) {
            free(raw);
            sd_err_set(err, SD_EUSAGE, "output chunk %zu is not base64", k);
            goto out;
        }
        free(raw);
    }
    rc = crypto_hash_final(h, digest);
    h = NULL;
    if (rc != 0) {
        sd_err_set(err, SD_EENV, "fingerprint: SHA3-512 failed");
        goto out;
    }
    rc = finish_fp(t, digest, prev, out, err);
out:
    crypto_hash_free(h);
    json_decref(t);
    return rc;
}

/* Position and fingerprint of the chain's last record (0 and "" if none);
 * statements as store_stmt_get gives them (s NULL: prepared here). */
static int chain_last(struct store *s, sqlite3 *db, const char *table, int64_t *seq,
                      char fp[CHAIN_HEX_LEN])
{
    sqlite3_stmt *st = NULL;
    char sql[200];
    int rc;

    snprintf(sql, sizeof sql,
             "SELECT chain_seq, fingerprint FROM %s WHERE chain_seq IS NOT NULL"
             " ORDER BY chain_seq DESC LIMIT 1",
             table);
    *seq = 0;
    fp[0] = '\0';
    if ((st = store_stmt_get(s, db, sql)) == NULL)
        return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *f = sqlite3_column_text(st, 1);
        *seq = sqlite3_column_int64(st, 0);
        snprintf(fp, CHAIN_HEX_LEN, "%s", f ? (const char *)f : "");
    }
    store_stmt_put(s, st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int chain_seal(struct store *s, sqlite3 *db, int64_t id, struct sd_err *err)
{
    char prev[CHAIN_HEX_LEN], fp[CHAIN_HEX_LEN], head[CHAIN_HEX_LEN + 32];
    sqlite3_stmt *st = NULL;
    int64_t last;
    int rc;

    if ((st = store_stmt_get(s, db,
                             "SELECT 1 FROM main.trajectories WHERE id = ?1 AND fingerprint IS NULL"
                             " AND status IN " TERMINAL)) == NULL)
        return store_dberr(err, db, "chain");
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    store_stmt_put(s, st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return store_dberr(err, db, "chain");
    if (chain_last(s, db, "main.trajectories", &last, prev) != 0)
        return store_dberr(err, db, "chain");
    if (fingerprint_on(s, db, "sd_plain_", id, prev, fp, err) != 0)
        return -1;
    if ((st = store_stmt_get(s, db,
                             "UPDATE main.trajectories SET chain_seq = ?2, prev_fingerprint = ?3,"
                             " fingerprint = ?4 WHERE id = ?1")) == NULL)
        return store_dberr(err, db, "chain");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, last + 1);
    if (prev[0])
        sqlite3_bind_text(st, 3, prev, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, fp, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    store_stmt_put(s, st);
    if (rc != SQLITE_DONE)
        return store_dberr(err, db, "chain");
    snprintf(head, sizeof head, "%lld:%s", (long long)(last + 1), fp);
    if ((st = store_stmt_get(s, db,
                             "INSERT OR REPLACE INTO main.meta(key, value)"
                             " VALUES('chain_head', sd_seal(?1, 'chain_head'))")) == NULL)
        return store_dberr(err, db, "chain");
    sqlite3_bind_text(st, 1, head, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    store_stmt_put(s, st);
    if (rc != SQLITE_DONE)
        return store_dberr(err, db, "chain");
    return 0;
}

static int bad(struct chain_report *r, int64_t id, const char *uuid, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int bad(struct chain_report *r, int64_t id, const char *uuid, const char *fmt, ...)
{
    va_list ap;
    r->ok = 0;
    r->bad_id = id;
    snprintf(r->bad_uuid, sizeof r->bad_uuid, "%s", uuid ? uuid : "");
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    return 0;
}

int chain_verify(sqlite3 *db, struct chain_report *r, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    char prev[CHAIN_HEX_LEN] = "", fp[CHAIN_HEX_LEN], head[CHAIN_HEX_LEN + 32];
    int64_t expect = 1;
    int rc, step;

    memset(r, 0, sizeof *r);
    r->ok = 1;
    /* Read everything in one snapshot. */
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(db,
                           "SELECT id, uuid, chain_seq, fingerprint, prev_fingerprint FROM "
                           "main.trajectories WHERE chain_seq IS NOT NULL ORDER BY chain_seq",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = store_dberr(err, db, "verify");
        goto out;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), seq = sqlite3_column_int64(st, 2);
        const char *uuid = (const char *)sqlite3_column_text(st, 1);
        const char *have = (const char *)sqlite3_column_text(st, 3);
        const char *hprev = (const char *)sqlite3_column_text(st, 4);
        struct sd_err e = {0};

        if (seq != expect) {
            bad(r, id, uuid, "chain position %lld follows %lld: %lld record(s) removed",
                (long long)seq, (long long)(expect - 1), (long long)(seq - expect));
            break;
        }
        if (strcmp(hprev ? hprev : "", prev) != 0) {
            bad(r, id, uuid, "its previous fingerprint does not match record at position %lld",
                (long long)(seq - 1));
            break;
        }
        if (chain_fingerprint_db(db, "", id, prev, fp, &e) != 0) {
            bad(r, id, uuid, "cannot be read: %s", e.msg);
            break;
        }
        if (have == NULL || strcmp(have, fp) != 0) {
            bad(r, id, uuid, "its content does not match its fingerprint");
            break;
        }
        snprintf(prev, sizeof prev, "%s", fp);
        r->sealed++;
        expect++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (r->ok && step != SQLITE_DONE) {
        rc = store_dberr(err, db, "verify");
        goto out;
    }
    snprintf(r->head, sizeof r->head, "%s", prev);
    if (r->ok) {
        /* The head record catches removal of the newest records. */
        char want[CHAIN_HEX_LEN + 32];
        snprintf(want, sizeof want, "%lld:%s", (long long)r->sealed, prev);
        if (sqlite3_prepare_v2(db,
                               "SELECT sd_open(value, 'chain_head') FROM main.meta"
                               " WHERE key = 'chain_head'",
                               -1, &st, NULL) != SQLITE_OK) {
            rc = store_dberr(err, db, "verify");
            goto out;
        }
        step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            snprintf(head, sizeof head, "%s", t ? (const char *)t : "");
            if (strcmp(head, want) != 0)
                bad(r, 0, NULL,
                    "the chain head recorded in meta (position %lld) does not match "
                    "the last record: records were removed or rewritten",
                    strtoll(head, NULL, 10));
        } else if (step == SQLITE_DONE) {
            if (r->sealed > 0)
                bad(r, 0, NULL, "the chain head record is missing from meta");
        } else {
            bad(r, 0, NULL, "the chain head cannot be read: %s", sqlite3_errmsg(db));
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT id, uuid FROM main.trajectories WHERE chain_seq IS NULL AND"
                           " status IN " TERMINAL " ORDER BY id",
                           -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (r->unsealed++ == 0 && r->ok)
                bad(r, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                    "it is final but has no fingerprint (written outside swarmdeck?)");
        }
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return rc;
}

int chain_verify_bundle(json_t *trajs, struct sd_err *err)
{
    char prev[CHAIN_HEX_LEN] = "", fp[CHAIN_HEX_LEN];

    for (size_t i = 0; i < json_array_size(trajs); i++) {
        json_t *t = json_array_get(trajs, i);
        const char *have = json_string_value(json_object_get(t, "fingerprint"));
        const char *hprev = json_string_value(json_object_get(t, "prevFingerprint"));
        const char *uuid = json_string_value(json_object_get(t, "uuid"));
        struct sd_err e = {0};

        if (have == NULL) /* not final when exported: outside the chain */
            continue;
        if (strcmp(hprev ? hprev : "", prev) != 0)
            return sd_err_set(err, SD_EUSAGE,
                              "bundle: trajectory %zu (%s): the chain is broken before it "
                              "(records removed or reordered)",
                              i, uuid ? uuid : "?");
        if (chain_fingerprint_json(t, prev, fp, &e) != 0)
            return sd_err_set(err, e.code, "bundle: trajectory %zu (%s): %s", i, uuid ? uuid : "?",
                              e.msg);
        if (strcmp(fp, have) != 0)
            return sd_err_set(err, SD_EUSAGE,
                              "bundle: trajectory %zu (%s) does not match its fingerprint "
                              "(changed after export)",
                              i, uuid ? uuid : "?");
        snprintf(prev, sizeof prev, "%s", fp);
    }
    return 0;
}
