/*
 * store_crypt.c: the store's key, its SQL functions and decrypting views
 * (store_crypt.h).
 *
 * KEY
 * A secret that is standard base64 of exactly 32 bytes is the key itself
 * (what the original generated with crypto.randomBytes(32)); any other
 * string is a passphrase, stretched with scrypt (N = 2^15, r = 8, p = 1, a
 * 16-byte random salt kept in meta). enc_check is a box of the store id with
 * associated data "key-check", so checking a key costs one derivation and
 * one AES-GCM open, and nothing else of the store is read.
 *
 * ASSOCIATED DATA
 * A value's associated data is its tag (the column) and the identity of its
 * record, joined by 0x1f (unit separator): "params\x1f<uuid>",
 * "output\x1f<traj_id>\x1f<seq>\x1f<stream>", "spec\x1f<run id>",
 * "detail\x1f<traj_id>\x1f<seq>" (an operation's detail: error messages,
 * the same text as the trajectory's error, so it is sealed too). A box
 * copied to another column or record fails to open.
 */
#define _GNU_SOURCE
#include "store_crypt.h"
#include "store_zstd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"

#define KDF_LOG2N 15
#define KDF_R     8
#define KDF_P     1
#define SALT_LEN  16

void skey_free(struct skey *k)
{
    if (k == NULL)
        return;
    crypto_wipe(k, sizeof *k);
    free(k);
}

int store_meta_get(sqlite3 *db, const char *key, char *buf, size_t n)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "SELECT value FROM main.meta WHERE key = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(buf, n, "%s", t ? (const char *)t : "");
        rc = 1;
    } else {
        rc = rc == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_meta_set(sqlite3 *db, const char *key, const char *value)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO main.meta(key, value) VALUES(?1, ?2)", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

static int unhex(const char *h, unsigned char *out, size_t max)
{
    size_t n = strlen(h);
    if (n % 2 != 0 || n / 2 > max)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (unsigned char)v;
    }
    return (int)(n / 2);
}

/* The key for secret with the salt and scrypt parameters given. */
static int derive(const char *secret, const unsigned char *salt, size_t salt_len, unsigned log2n,
                  unsigned r, unsigned p, struct skey *k)
{
    if (crypto_key_from_base64(secret, k->k) == 0)
        return 0;
    return crypto_scrypt(secret, strlen(secret), salt, salt_len, log2n, r, p, k->k, CRYPTO_KEY_LEN);
}

int skey_holds(sqlite3 *db, const struct skey *key, const char *store_id)
{
    char check[512];
    unsigned char box[256], plain[256];
    int rc = store_meta_get(db, "enc_check", check, sizeof check), box_len;

    if (rc < 0)
        return -1;
    if (rc == 0 || key == NULL)
        return rc == 0 && key == NULL;
    if ((box_len = unhex(check, box, sizeof box)) < 0 ||
        crypto_box_open(key->k, "key-check", 9, box, (size_t)box_len, plain) < 0)
        return 0;
    return (size_t)box_len - CRYPTO_BOX_OVER == strlen(store_id) &&
           memcmp(plain, store_id, strlen(store_id)) == 0;
}

static const char key_hint[] = "give it with --encryption-key KEY or the SWARMDECK_KEY "
                               "environment variable";

int skey_check(sqlite3 *db, const char *path, const char *secret, struct skey **key, int *need_init,
               struct sd_err *err)
{
    char check[512], salt_hex[64], kdf[64], id[64];
    unsigned char salt[SALT_LEN], box[256], plain[256];
    unsigned log2n, r, p;
    struct skey *k;
    int salt_len, box_len, rc;

    *key = NULL;
    *need_init = 0;
    rc = store_meta_get(db, "enc_check", check, sizeof check);
    if (rc < 0) {
        /* No meta table yet (a new store): nothing is encrypted. */
        rc = 0;
    }
    if (rc == 0) {
        *need_init = secret != NULL;
        return 0;
    }
    if (secret == NULL)
        return sd_err_set(err, SD_EKEY, "%s: the store is encrypted; %s", path, key_hint);
    if (store_meta_get(db, "enc_salt", salt_hex, sizeof salt_hex) != 1 ||
        store_meta_get(db, "enc_kdf", kdf, sizeof kdf) != 1 ||
        store_meta_get(db, "store_id", id, sizeof id) != 1 ||
        sscanf(kdf, "scrypt:%u:%u:%u", &log2n, &r, &p) != 3 ||
        (salt_len = unhex(salt_hex, salt, sizeof salt)) < 0 ||
        (box_len = unhex(check, box, sizeof box)) < 0)
        return sd_err_set(err, SD_EKEY,
                          "%s: the store's key-check record is damaged; restore a backup", path);
    if ((k = calloc(1, sizeof *k)) == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    if (derive(secret, salt, (size_t)salt_len, log2n, r, p, k) != 0) {
        skey_free(k);
        return sd_err_set(err, SD_EKEY, "%s: cannot derive the key (scrypt failed)", path);
    }
    if (crypto_box_open(k->k, "key-check", 9, box, (size_t)box_len, plain) < 0 ||
        (size_t)box_len - CRYPTO_BOX_OVER != strlen(id) || memcmp(plain, id, strlen(id)) != 0) {
        skey_free(k);
        return sd_err_set(err, SD_EKEY,
                          "%s: wrong encryption key for this store (nothing was read or "
                          "changed); %s",
                          path, key_hint);
    }
    *key = k;
    return 0;
}

int skey_write_meta(sqlite3 *db, const char *secret, const char *store_id, struct skey **key,
                    struct sd_err *err)
{
    unsigned char salt[SALT_LEN], box[64 + CRYPTO_BOX_OVER];
    char hex[2 * sizeof box + 1], kdf[64];
    size_t idlen = strlen(store_id);
    struct skey *k;

    *key = NULL;
    if (idlen > 64)
        return sd_err_set(err, SD_EENV, "store id too long");
    if ((k = calloc(1, sizeof *k)) == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    if (crypto_random(salt, sizeof salt) != 0 ||
        derive(secret, salt, sizeof salt, KDF_LOG2N, KDF_R, KDF_P, k) != 0 ||
        crypto_box_seal(k->k, 0, "key-check", 9, store_id, idlen, box) != 0) {
        skey_free(k);
        return sd_err_set(err, SD_EENV, "cannot derive or seal the key (OpenSSL failed)");
    }
    crypto_hex(box, idlen + CRYPTO_BOX_OVER, hex);
    snprintf(kdf, sizeof kdf, "scrypt:%u:%u:%u", KDF_LOG2N, KDF_R, KDF_P);
    if (store_meta_set(db, "enc_check", hex) != 0 || store_meta_set(db, "enc_kdf", kdf) != 0 ||
        (crypto_hex(salt, sizeof salt, hex), store_meta_set(db, "enc_salt", hex)) != 0) {
        skey_free(k);
        return store_dberr(err, db, "cannot write the key-check record");
    }
    *key = k;
    return 0;
}

int skey_drop_meta(sqlite3 *db)
{
    return sqlite3_exec(db,
                        "DELETE FROM main.meta WHERE key IN ('enc_check', 'enc_kdf', 'enc_salt')",
                        NULL, NULL, NULL) == SQLITE_OK
               ? 0
               : -1;
}

int skey_init(sqlite3 *db, const char *path, const char *secret, const char *store_id,
              struct skey **key, struct sd_err *err)
{
    char buf[8];
    sqlite3_stmt *st = NULL;
    int has_data;

    if (sqlite3_prepare_v2(db,
                           "SELECT EXISTS(SELECT 1 FROM main.trajectories) OR "
                           "EXISTS(SELECT 1 FROM main.output) OR EXISTS(SELECT 1 FROM main.runs)",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return store_dberr(err, db, path);
    }
    has_data = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (store_meta_get(db, "enc_check", buf, sizeof buf) == 1)
        return sd_err_set(err, SD_EKEY,
                          "%s: another process encrypted the store meanwhile; "
                          "run the command again",
                          path);
    if (has_data)
        return sd_err_set(err, SD_EKEY,
                          "%s: the store holds unencrypted data; encrypt it with `swarmdeck "
                          "rekey --new-key KEY` (without --encryption-key), or use a new store",
                          path);
    return skey_write_meta(db, secret, store_id, key, err);
}

/* --- SQL functions ----------------------------------------------------------- */

/* The associated data of a call: argv[1] (the tag) and argv[2..] joined by
 * 0x1f. Returns a malloc'ed string or NULL. */
static char *call_aad(int argc, sqlite3_value **argv, size_t *len)
{
    size_t n = 0, off = 0;
    char *a;

    for (int i = 1; i < argc; i++)
        n += (size_t)sqlite3_value_bytes(argv[i]) + 1;
    if ((a = malloc(n + 1)) == NULL)
        return NULL;
    for (int i = 1; i < argc; i++) {
        const unsigned char *t = sqlite3_value_text(argv[i]);
        size_t l = (size_t)sqlite3_value_bytes(argv[i]);
        if (i > 1)
            a[off++] = 0x1f;
        if (t != NULL && l > 0)
            memcpy(a + off, t, l);
        off += l;
    }
    a[off] = '\0';
    *len = off;
    return a;
}

unsigned char *skey_seal(const struct skey *key, int kind, const char *aad, const void *data,
                         size_t len, size_t *out_len)
{
    unsigned char *box = malloc(len + CRYPTO_BOX_OVER);
    if (box == NULL)
        return NULL;
    if (crypto_box_seal(key->k, kind, aad, strlen(aad), data, len, box) != 0) {
        free(box);
        return NULL;
    }
    *out_len = len + CRYPTO_BOX_OVER;
    return box;
}

unsigned char *skey_open(const struct skey *key, const char *aad, const void *box, size_t len,
                         size_t *out_len, int *kind)
{
    unsigned char *out;
    if (!crypto_is_box(box, len) || (out = malloc(len - CRYPTO_BOX_OVER + 1)) == NULL)
        return NULL;
    if ((*kind = crypto_box_open(key->k, aad, strlen(aad), box, len, out)) < 0) {
        free(out);
        return NULL;
    }
    *out_len = len - CRYPTO_BOX_OVER;
    out[*out_len] = '\0';
    return out;
}

/* Seal argv[0] with key into ctx's result (NULL and numbers pass). */
static void result_sealed(sqlite3_context *ctx, const struct skey *key, int argc,
                          sqlite3_value **argv)
{
    int type = sqlite3_value_type(argv[0]);
    size_t aad_len, n;
    char *aad;
    unsigned char *box;
    int kind = type == SQLITE_BLOB ? KIND_BLOB : KIND_TEXT;
    const void *data;
    size_t len;

    if (key == NULL || (type != SQLITE_TEXT && type != SQLITE_BLOB)) {
        sqlite3_result_value(ctx, argv[0]);
        return;
    }
    data =
        kind == KIND_BLOB ? sqlite3_value_blob(argv[0]) : (const void *)sqlite3_value_text(argv[0]);
    len = (size_t)sqlite3_value_bytes(argv[0]);
    if ((aad = call_aad(argc, argv, &aad_len)) == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    box = skey_seal(key, kind, aad, data ? data : "", len, &n);
    free(aad);
    if (box == NULL) {
        sqlite3_result_error(ctx, "store: cannot encrypt a value (OpenSSL failed)", -1);
        return;
    }
    sqlite3_result_blob(ctx, box, (int)n, free);
}

/* Open argv[0] (a box) with key into ctx's result (anything else passes). */
static void result_opened(sqlite3_context *ctx, const struct skey *key, int argc,
                          sqlite3_value **argv)
{
    size_t aad_len, n;
    char *aad;
    unsigned char *plain;
    int kind;

    if (key == NULL || sqlite3_value_type(argv[0]) != SQLITE_BLOB) {
        sqlite3_result_value(ctx, argv[0]);
        return;
    }
    if ((aad = call_aad(argc, argv, &aad_len)) == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    plain = skey_open(key, aad, sqlite3_value_blob(argv[0]), (size_t)sqlite3_value_bytes(argv[0]),
                      &n, &kind);
    if (plain == NULL) {
        char msg[320];
        for (char *p = aad; *p; p++)
            if (*p == 0x1f)
                *p = ' ';
        snprintf(msg, sizeof msg,
                 "store: the encrypted value %.200s failed authentication (changed outside "
                 "swarmdeck)",
                 aad);
        free(aad);
        sqlite3_result_error(ctx, msg, -1);
        return;
    }
    free(aad);
    if (kind == KIND_TEXT)
        sqlite3_result_text(ctx, (char *)plain, (int)n, free);
    else
        sqlite3_result_blob(ctx, plain, (int)n, free);
}

static void fn_seal(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    result_sealed(ctx, *(struct skey **)sqlite3_user_data(ctx), argc, argv);
}

static void fn_open(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    result_opened(ctx, *(struct skey **)sqlite3_user_data(ctx), argc, argv);
}

static void cell_destroy(void *p)
{
    struct skey **cell = p;
    skey_free(*cell);
    free(cell);
}

/* A heap cell holding a copy of *keyp (or NULL). */
static struct skey **cell_new(struct skey *const *keyp)
{
    struct skey **cell = calloc(1, sizeof *cell);
    if (cell == NULL)
        return NULL;
    if (*keyp != NULL) {
        if ((*cell = malloc(sizeof **cell)) == NULL) {
            free(cell);
            return NULL;
        }
        **cell = **keyp;
    }
    return cell;
}

int skey_register(sqlite3 *db, struct skey **keyp, int copy)
{
    struct skey **a = keyp, **b = keyp;
    void (*destroy)(void *) = copy ? cell_destroy : NULL;
    /* Direct-only: a store's own schema (a planted trigger or view in main)
     * cannot call them; our TEMP views may. */
    int flags = SQLITE_UTF8 | SQLITE_DIRECTONLY;

    if (copy && ((a = cell_new(keyp)) == NULL || (b = cell_new(keyp)) == NULL)) {
        if (a != NULL)
            cell_destroy(a);
        return -1;
    }
    /* sd_seal is not deterministic (a fresh nonce per value); sd_open is. */
    if (sqlite3_create_function_v2(db, "sd_seal", -1, flags, a, fn_seal, NULL, NULL, destroy) !=
        SQLITE_OK) {
        if (copy)
            cell_destroy(b);
        return -1;
    }
    if (sqlite3_create_function_v2(db, "sd_open", -1, flags | SQLITE_DETERMINISTIC, b, fn_open,
                                   NULL, NULL, destroy) != SQLITE_OK)
        return -1;
    /* Output chunks may be compressed: every connection that can open them
     * can also inflate them (store_zstd.h). */
    return store_z_register(db);
}

/* --- views --------------------------------------------------------------------- */

struct enc_col {
    const char *table, *column, *tag, *aad_sql;
};

/* The encrypted columns and the SQL of their associated data after the tag. */
static const struct enc_col enc_cols[] = {
    {"trajectories", "params", "params", "uuid"},
    {"trajectories", "result", "result", "uuid"},
    {"trajectories", "description", "description", "uuid"},
    {"trajectories", "error", "error", "uuid"},
    {"output", "data", "output", "traj_id, seq, stream"},
    {"runs", "spec", "spec", "id"},
    {"runs", "summary", "summary", "id"},
    {"operations", "detail", "detail", "traj_id, seq"},
};

static const struct enc_col *enc_col(const char *table, const char *column)
{
    for (size_t i = 0; i < sizeof enc_cols / sizeof enc_cols[0]; i++)
        if (strcmp(enc_cols[i].table, table) == 0 && strcmp(enc_cols[i].column, column) == 0)
            return &enc_cols[i];
    return NULL;
}

/* CREATE TEMP VIEW name AS SELECT <columns of main.table, decrypted>. */
static int make_view(sqlite3 *db, const char *table, const char *name, int encrypted,
                     struct sd_err *err)
{
    char sql[4096], q[128];
    size_t off;
    sqlite3_stmt *st = NULL;
    int first = 1, rc;

    off =
        (size_t)snprintf(sql, sizeof sql, "CREATE TEMP VIEW IF NOT EXISTS \"%s\" AS SELECT ", name);
    snprintf(q, sizeof q, "PRAGMA main.table_info(\"%s\")", table);
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
        return store_dberr(err, db, "store");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && off < sizeof sql) {
        const char *col = (const char *)sqlite3_column_text(st, 1);
        const struct enc_col *e = encrypted ? enc_col(table, col) : NULL;
        if (e != NULL)
            off += (size_t)snprintf(sql + off, sizeof sql - off,
                                    "%ssd_open(\"%s\", '%s', %s) AS \"%s\"", first ? "" : ", ", col,
                                    e->tag, e->aad_sql, col);
        else
            off +=
                (size_t)snprintf(sql + off, sizeof sql - off, "%s\"%s\"", first ? "" : ", ", col);
        first = 0;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE || first || off >= sizeof sql)
        return sd_err_set(err, SD_EENV, "store: cannot read the columns of %s", table);
    snprintf(sql + off, sizeof sql - off, " FROM main.\"%s\"", table);
    if (off + strlen(table) + 16 >= sizeof sql)
        return sd_err_set(err, SD_EENV, "store: view of %s too wide", table);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(q, sizeof q, "store: cannot create the view %s", name);
        return store_dberr(err, db, q);
    }
    return 0;
}

int skey_views(sqlite3 *db, int encrypted, int shadow, struct sd_err *err)
{
    static const char *const tables[] = {"trajectories", "output", "runs", "operations"};
    char name[64];

    /* Inside a transaction (rekey) the pragma cannot change: the writer
     * sets it at open for that reason. */
    if (encrypted && sqlite3_get_autocommit(db) &&
        sqlite3_exec(db, "PRAGMA temp_store=MEMORY", NULL, NULL, NULL) != SQLITE_OK)
        return store_dberr(err, db, "store");
    if (shadow && !encrypted)
        return 0;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        snprintf(name, sizeof name, "%s%s", shadow ? "" : "sd_plain_", tables[i]);
        if (make_view(db, tables[i], name, encrypted, err) != 0)
            return -1;
    }
    return 0;
}

int skey_fts(sqlite3 *db, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    int have;

    if (sqlite3_prepare_v2(db, "SELECT 1 FROM temp.sqlite_schema WHERE name = 'traj_fts'", -1, &st,
                           NULL) != SQLITE_OK)
        return store_dberr(err, db, "store");
    have = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (have)
        return 0;
    /* External content over the temp view: the index lives in memory only
     * (temp_store=MEMORY) and is rebuilt from decrypted rows. */
    if (sqlite3_exec(db,
                     "CREATE VIRTUAL TABLE temp.traj_fts USING fts5(strategy, symbol, params,"
                     " description, content='trajectories', content_rowid='id');"
                     "INSERT INTO temp.traj_fts(traj_fts) VALUES('rebuild')",
                     NULL, NULL, NULL) != SQLITE_OK)
        return store_dberr(err, db, "store: cannot build the search index");
    return 0;
}

/* --- rekey --------------------------------------------------------------------- */

struct reseal {
    const struct skey *old, *new_;
    long count, fault_at; /* fault_at > 0: abort() after that many values (tests) */
};

/* sd_reseal(value, tag, k...): open with the old key (a plaintext value
 * passes), seal with the new one (or leave plaintext). */
static void fn_reseal(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct reseal *r = sqlite3_user_data(ctx);
    sqlite3_value *v = argv[0];
    int type = sqlite3_value_type(v);
    unsigned char *plain = NULL;
    size_t n = 0, aad_len;
    int kind = type == SQLITE_BLOB ? KIND_BLOB : KIND_TEXT;
    char *aad;

    if (type != SQLITE_TEXT && type != SQLITE_BLOB) {
        sqlite3_result_value(ctx, v);
        return;
    }
    if (r->fault_at > 0 && ++r->count > r->fault_at)
        abort(); /* SWARMDECK_FAULT_REKEY: die mid-rekey, as a crash would */
    if ((aad = call_aad(argc, argv, &aad_len)) == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (r->old != NULL && type == SQLITE_BLOB) {
        plain = skey_open(r->old, aad, sqlite3_value_blob(v), (size_t)sqlite3_value_bytes(v), &n,
                          &kind);
        if (plain == NULL) {
            free(aad);
            sqlite3_result_error(ctx, "store: a value failed authentication with the current key",
                                 -1);
            return;
        }
    } else {
        n = (size_t)sqlite3_value_bytes(v);
        if ((plain = malloc(n + 1)) == NULL) {
            free(aad);
            sqlite3_result_error_nomem(ctx);
            return;
        }
        if (n > 0)
            memcpy(plain,
                   type == SQLITE_BLOB ? sqlite3_value_blob(v)
                                       : (const void *)sqlite3_value_text(v),
                   n);
        plain[n] = '\0';
    }
    if (r->new_ != NULL) {
        size_t bn;
        unsigned char *box = skey_seal(r->new_, kind, aad, plain, n, &bn);
        crypto_wipe(plain, n);
        free(plain);
        free(aad);
        if (box == NULL) {
            sqlite3_result_error(ctx, "store: cannot encrypt a value (OpenSSL failed)", -1);
            return;
        }
        sqlite3_result_blob(ctx, box, (int)bn, free);
        return;
    }
    free(aad);
    if (kind == KIND_TEXT)
        sqlite3_result_text(ctx, (char *)plain, (int)n, free);
    else
        sqlite3_result_blob(ctx, plain, (int)n, free);
}

int skey_rekey(sqlite3 *db, const struct skey *old, const struct skey *new_, struct sd_err *err)
{
    /* One statement per table (parenthesised: each is one string). */
    static const char *const sql[] = {
        ("UPDATE main.trajectories SET params = sd_reseal(params, 'params', uuid),"
         " result = sd_reseal(result, 'result', uuid),"
         " description = sd_reseal(description, 'description', uuid),"
         " error = sd_reseal(error, 'error', uuid)"),
        "UPDATE main.output SET data = sd_reseal(data, 'output', traj_id, seq, stream)",
        ("UPDATE main.runs SET spec = sd_reseal(spec, 'spec', id),"
         " summary = sd_reseal(summary, 'summary', id)"),
        "UPDATE main.operations SET detail = sd_reseal(detail, 'detail', traj_id, seq)",
        "UPDATE main.meta SET value = sd_reseal(value, 'chain_head') WHERE key = 'chain_head'",
    };
    struct reseal r = {old, new_, 0, 0};
    const char *fault = getenv("SWARMDECK_FAULT_REKEY");
    int rc = 0;

    if (fault != NULL)
        r.fault_at = strtol(fault, NULL, 10);
    if (sqlite3_create_function_v2(db, "sd_reseal", -1, SQLITE_UTF8 | SQLITE_DIRECTONLY, &r,
                                   fn_reseal, NULL, NULL, NULL) != SQLITE_OK)
        return store_dberr(err, db, "store");
    for (size_t i = 0; i < sizeof sql / sizeof sql[0] && rc == 0; i++)
        if (sqlite3_exec(db, sql[i], NULL, NULL, NULL) != SQLITE_OK)
            rc = store_dberr(err, db, "rekey");
    /* The UPDATEs kept the index consistent through its triggers, but FTS5
     * keeps deleted tokens in its segments until they merge: rewrite the
     * index from scratch with what the triggers index (NULL for a box). */
    if (rc == 0 &&
        sqlite3_exec(db,
                     "INSERT INTO main.traj_fts(traj_fts) VALUES('delete-all');"
                     "INSERT INTO main.traj_fts(rowid, strategy, symbol, params, description)"
                     " SELECT id, strategy, symbol,"
                     " CASE WHEN typeof(params) = 'blob' THEN NULL ELSE params END,"
                     " CASE WHEN typeof(description) = 'blob' THEN NULL ELSE description END"
                     " FROM main.trajectories",
                     NULL, NULL, NULL) != SQLITE_OK)
        rc = store_dberr(err, db, "rekey: search index");
    sqlite3_create_function_v2(db, "sd_reseal", -1, SQLITE_UTF8, NULL, NULL, NULL, NULL, NULL);
    return rc;
}
