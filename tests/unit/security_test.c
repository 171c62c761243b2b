/*
 * security_test.c: encryption at rest, the fingerprint chain, rekey, and
 * export/import integrity at the engine level (docs/security.md).
 *
 * `test-security NAME` runs one test (security.cmake registers each); every
 * test works in a fresh temporary directory. The checks look at the bytes
 * of the store file itself, not only at what the API returns: a value that
 * is encrypted must not appear in any file of the store.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chain.h"
#include "export.h"
#include "store.h"
#include "store_schema.h"
#include "traj.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)
#define CHECK_OK(call, err)                                                                        \
    do {                                                                                           \
        if ((call) != 0) {                                                                         \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, (err)->msg);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char KEY[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
static const char KEY2[] = "correct horse battery staple";
static const char SECRET_PARAM[] = "\"lookback\":17,\"secretPARAM\":\"p4r4m-"
                                   "SENTINEL\"";
static const char SECRET_DESC[] = "desc-SENTINEL zebra";
static const char SECRET_OUT[] = "output-SENTINEL bytes\n";
static char tmpdir[256];

static char *tpath(const char *name)
{
    static char buf[8][512];
    static int i;
    char *p = buf[i++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static struct store *open_key(const char *path, const char *key)
{
    struct store *s = NULL;
    struct sd_err err = {0};
    if (store_open_key(path, STORE_CREATE, key, &s, &err) != 0) {
        fprintf(stderr, "store_open_key %s: %s\n", path, err.msg);
        abort();
    }
    return s;
}

/* Count occurrences of needle in the file at path (0 if it is missing). */
static int file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0, cap = 0, nl = strlen(needle);
    char *buf = NULL;
    int hits = 0;

    if (f == NULL)
        return 0;
    for (;;) {
        if (n == cap)
            buf = realloc(buf, cap = cap ? 2 * cap : 1 << 16);
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    for (size_t i = 0; i + nl <= n; i++)
        if (memcmp(buf + i, needle, nl) == 0)
            hits++;
    free(buf);
    return hits;
}

/* Occurrences in the store and its -wal and -shm files. */
static int store_has(const char *path, const char *needle)
{
    char p[600];
    int n = file_has(path, needle);
    snprintf(p, sizeof p, "%s-wal", path);
    n += file_has(p, needle);
    snprintf(p, sizeof p, "%s-shm", path);
    return n + file_has(p, needle);
}

/* One finished trajectory with operations and output. Returns its id. */
static int64_t add_traj(struct store *s, const char *uuid, int state)
{
    struct sd_err err = {0};
    char params[256];
    snprintf(params, sizeof params, "{%s}", SECRET_PARAM);
    struct traj_new t = {.uuid = uuid,
                         .strategy = "momentum",
                         .symbol = "SPY",
                         .params = params,
                         .provider = "local",
                         .description = SECRET_DESC};
    int64_t id = traj_insert(s, &t, &err);
    CHECK(id > 0);
    traj_running(s, id, "sbx", 1000);
    traj_op(s, id, 1, "create", 1000, 1.5, 1, NULL);
    traj_op(s, id, 2, "start", 1002, 2.5, 1, NULL);
    /* an operation's detail carries error text, so it is sealed too */
    traj_op(s, id, 3, "collect", 1004, 0.5, state == TS_SUCCEEDED, "detail-SENTINEL");
    CHECK(store_output_append(s, id, 1, SECRET_OUT, strlen(SECRET_OUT)) == 0);
    CHECK(store_output_append(s, id, 2, "warn\n", 5) == 0);
    struct traj_final f = {
        .state = state,
        .exit_code = state == TS_SUCCEEDED ? 0 : 1,
        .error = state == TS_SUCCEEDED ? NULL : "error-SENTINEL",
        .ended_at = 2000,
        .duration_ms = 1000,
        .result = state == TS_SUCCEEDED ? "{\"sharpe\":1.25,\"r\":\"res-SENTINEL\"}" : NULL,
        .reward = 0.75,
        .op_sequence = "create,start"};
    traj_finish(s, id, &f);
    store_output_end(s, id);
    CHECK_OK(store_flush(s, &err), &err);
    return id;
}

static struct chain_report verify(struct store *s)
{
    struct chain_report r;
    struct sd_err err = {0};
    sqlite3 *db = store_reader(s, &err);
    CHECK(db != NULL);
    CHECK_OK(chain_verify(db, &r, &err), &err);
    sqlite3_close_v2(db);
    return r;
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
        abort();
    }
    sqlite3_close(db);
}

/* 1. The chain over a plaintext store: sealed at commit, verified, and a
 * changed row, a removed row and a removed newest row are each named. */
static void t_chain(void)
{
    const char *path = tpath("c.db");
    struct store *s = open_key(path, NULL);
    struct chain_report r;
    char buf[64];
    int64_t a, b, c;

    a = add_traj(s, "u-a", TS_SUCCEEDED);
    b = add_traj(s, "u-b", TS_FAILED);
    c = add_traj(s, "u-c", TS_SUCCEEDED);
    r = verify(s);
    if (!r.ok)
        fprintf(stderr, "verify: #%lld %s\n", (long long)r.bad_id, r.why);
    CHECK(r.ok && r.sealed == 3 && r.unsealed == 0);
    store_chain_summary(s, buf, sizeof buf);
    CHECK(strcmp(buf, "unverified (3)") == 0);
    {
        char state[200];
        struct sd_err err = {0};
        snprintf(state, sizeof state, "3:%s", r.head);
        CHECK_OK(store_chain_verified(s, state, &err), &err);
        store_chain_summary(s, buf, sizeof buf);
        CHECK(strcmp(buf, "ok (3)") == 0);
    }
    store_close(s);

    /* The reward of the middle record changes behind swarmdeck's back. */
    raw_exec(path, "UPDATE trajectories SET reward = 0.99 WHERE uuid = 'u-b'");
    s = open_key(path, NULL);
    r = verify(s);
    CHECK(!r.ok && r.bad_id == b && strcmp(r.bad_uuid, "u-b") == 0);
    CHECK(strstr(r.why, "does not match its fingerprint") != NULL);
    store_close(s);
    raw_exec(path, "UPDATE trajectories SET reward = 0.75 WHERE uuid = 'u-b'");
    /* One output byte changes. */
    raw_exec(path, "UPDATE output SET data = CAST('warn!' || char(10) AS BLOB) WHERE traj_id = 1"
                   " AND stream = 2");
    s = open_key(path, NULL);
    r = verify(s);
    CHECK(!r.ok && r.bad_id == a);
    store_close(s);
    raw_exec(path, "UPDATE output SET data = CAST('warn' || char(10) AS BLOB) WHERE traj_id = 1"
                   " AND stream = 2");
    s = open_key(path, NULL);
    CHECK(verify(s).ok);
    store_close(s);
    /* An operation's timing changes. */
    raw_exec(path, "UPDATE operations SET duration_ms = 0.5 WHERE traj_id = 3 AND seq = 2");
    s = open_key(path, NULL);
    r = verify(s);
    CHECK(!r.ok && r.bad_id == c);
    store_close(s);
    raw_exec(path, "UPDATE operations SET duration_ms = 2.5 WHERE traj_id = 3 AND seq = 2");
    /* The middle record is deleted: its successor is named. */
    raw_exec(path,
             "DELETE FROM operations WHERE traj_id = 2; DELETE FROM trajectories WHERE id = 2");
    s = open_key(path, NULL);
    r = verify(s);
    CHECK(!r.ok && r.bad_id == c && strstr(r.why, "removed") != NULL);
    store_close(s);
    /* Without the newest record, the head in meta no longer matches. */
    raw_exec(path, "DELETE FROM trajectories WHERE id = 3");
    s = open_key(path, NULL);
    r = verify(s);
    CHECK(!r.ok && r.bad_id == 0 && strstr(r.why, "head") != NULL);
    store_close(s);
    (void)a;
}

/* 2. An encrypted store: callers read plaintext, no file holds it, and a
 * missing or wrong key is refused before anything is read or written. */
static void t_encrypted(void)
{
    const char *path = tpath("e.db");
    struct store *s = open_key(path, KEY);
    struct sd_err err = {0};
    sqlite3 *db;
    sqlite3_stmt *st;
    struct stat before, after;

    CHECK(store_encrypted(s));
    add_traj(s, "u-1", TS_SUCCEEDED);
    add_traj(s, "u-2", TS_FAILED);
    db = store_reader(s, &err);
    CHECK(db != NULL);
    CHECK(sqlite3_prepare_v2(db,
                             "SELECT params, description, result, error FROM trajectories"
                             " ORDER BY id",
                             -1, &st, NULL) == SQLITE_OK);
    if (sqlite3_step(st) != SQLITE_ROW)
        fprintf(stderr, "read: %s\n", sqlite3_errmsg(db));
    CHECK(strstr((const char *)sqlite3_column_text(st, 0), "p4r4m-SENTINEL") != NULL);
    CHECK(strcmp((const char *)sqlite3_column_text(st, 1), SECRET_DESC) == 0);
    CHECK(strstr((const char *)sqlite3_column_text(st, 2), "res-SENTINEL") != NULL);
    CHECK(sqlite3_column_type(st, 3) == SQLITE_NULL);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK(strcmp((const char *)sqlite3_column_text(st, 3), "error-SENTINEL") == 0);
    sqlite3_finalize(st);
    CHECK(sqlite3_prepare_v2(db, "SELECT data FROM output WHERE traj_id = 1 ORDER BY seq", -1, &st,
                             NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK(sqlite3_column_bytes(st, 0) == (int)strlen(SECRET_OUT) &&
          memcmp(sqlite3_column_blob(st, 0), SECRET_OUT, strlen(SECRET_OUT)) == 0);
    sqlite3_finalize(st);
    CHECK(sqlite3_prepare_v2(db, "SELECT detail FROM operations WHERE traj_id = 2 AND seq = 3", -1,
                             &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK(strcmp((const char *)sqlite3_column_text(st, 0), "detail-SENTINEL") == 0);
    sqlite3_finalize(st);
    /* Task search works through the in-memory index. */
    CHECK_OK(store_reader_fts(s, db, &err), &err);
    CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM traj_fts WHERE traj_fts MATCH 'zebra'", -1,
                             &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 2);
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    CHECK(verify(s).ok && verify(s).sealed == 2);
    store_close(s);
    /* No plaintext in any file, nor the key. */
    CHECK(store_has(path, "SENTINEL") == 0);
    CHECK(store_has(path, "zebra") == 0);
    CHECK(store_has(path, KEY) == 0);
    CHECK(store_has(path, "secretPARAM") == 0);

    /* Missing and wrong keys: SD_EKEY, and the file is untouched. */
    CHECK(stat(path, &before) == 0);
    CHECK(store_open_key(path, STORE_CREATE, NULL, &s, &err) == -1 && err.code == SD_EKEY);
    CHECK(strstr(err.msg, "encrypted") != NULL && strstr(err.msg, "SWARMDECK_KEY") != NULL);
    CHECK(store_open_key(path, STORE_CREATE, KEY2, &s, &err) == -1 && err.code == SD_EKEY);
    CHECK(strstr(err.msg, "wrong encryption key") != NULL && strstr(err.msg, KEY2) == NULL);
    CHECK(store_open_key(path, STORE_READONLY, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh4=", &s,
                         &err) == -1 &&
          err.code == SD_EKEY);
    CHECK(stat(path, &after) == 0 && before.st_mtime == after.st_mtime &&
          before.st_size == after.st_size);
    CHECK(access(tpath("e.db-wal"), F_OK) != 0);
    /* A key on a plaintext store that holds data is refused, not applied. */
    s = open_key(tpath("p.db"), NULL);
    add_traj(s, "u-p", TS_SUCCEEDED);
    store_close(s);
    CHECK(store_open_key(tpath("p.db"), STORE_CREATE, KEY, &s, &err) == -1 && err.code == SD_EKEY &&
          strstr(err.msg, "rekey") != NULL);

    /* A ciphertext changed in the file fails authentication, and verify
     * names the record. */
    raw_exec(path, "UPDATE trajectories SET description = CAST(substr(description, 1, 20) ||"
                   " x'00' || substr(description, 22) AS BLOB) WHERE uuid = 'u-2'");
    s = open_key(path, KEY);
    {
        struct chain_report r = verify(s);
        CHECK(!r.ok && r.bad_id == 2 && strstr(r.why, "authentication") != NULL);
    }
    store_close(s);
    /* A box moved to another record does not open either. */
    raw_exec(path, "UPDATE trajectories SET params = (SELECT params FROM trajectories WHERE"
                   " uuid = 'u-2') WHERE uuid = 'u-1'");
    s = open_key(path, KEY);
    {
        struct chain_report r = verify(s);
        CHECK(!r.ok && r.bad_id == 1);
    }
    store_close(s);
}

/* 3. A passphrase (scrypt) store, rekeyed to a raw key, then to plaintext
 * and back; the data survive each step and the old key stops working. */
static void t_rekey(void)
{
    const char *path = tpath("r.db");
    struct store *s = open_key(path, KEY2);
    struct sd_err err = {0};

    add_traj(s, "u-1", TS_SUCCEEDED);
    store_close(s);
    /* A detail written before details were sealed (plaintext in an
     * encrypted store) reads as it is, verifies, and rekey seals it. */
    raw_exec(path, "UPDATE operations SET detail = 'detail-SENTINEL' WHERE seq = 3");
    CHECK(store_has(path, "detail-SENTINEL") > 0);
    s = open_key(path, KEY2);
    CHECK(verify(s).ok);
    CHECK_OK(store_rekey(s, KEY, &err), &err);
    add_traj(s, "u-2", TS_SUCCEEDED);
    store_close(s);
    CHECK(store_has(path, "detail-SENTINEL") == 0);
    CHECK(store_open_key(path, STORE_CREATE, KEY2, &s, &err) == -1 && err.code == SD_EKEY);
    s = open_key(path, KEY);
    CHECK(verify(s).ok && verify(s).sealed == 2);
    CHECK_OK(store_rekey(s, NULL, &err), &err);
    CHECK(!store_encrypted(s));
    store_close(s);
    CHECK(store_has(path, "SENTINEL") > 0); /* plaintext now, by request */
    s = open_key(path, NULL);
    CHECK(verify(s).ok);
    {
        /* The on-disk index was rebuilt from the plaintext. */
        sqlite3 *db = store_reader(s, &err);
        sqlite3_stmt *st;
        CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM traj_fts WHERE traj_fts MATCH 'zebra'",
                                 -1, &st, NULL) == SQLITE_OK);
        CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 2);
        sqlite3_finalize(st);
        sqlite3_close_v2(db);
    }
    /* Encrypting a plaintext store leaves no plaintext behind (index,
     * freed pages, WAL). */
    CHECK_OK(store_rekey(s, KEY, &err), &err);
    store_close(s);
    CHECK(store_has(path, "SENTINEL") == 0);
    CHECK(store_has(path, "zebra") == 0);
    s = open_key(path, KEY);
    CHECK(verify(s).ok && verify(s).sealed == 2);
    /* The index stays consistent for later writes and another rekey. */
    add_traj(s, "u-3", TS_SUCCEEDED);
    CHECK_OK(store_rekey(s, KEY2, &err), &err);
    add_traj(s, "u-4", TS_SUCCEEDED);
    CHECK(verify(s).ok && verify(s).sealed == 4);
    store_close(s);
    raw_exec(path, "INSERT INTO traj_fts(traj_fts) VALUES('integrity-check')");
}

/* 3b. Another store handle (as another process would) rekeys while this
 * one is open: this one's next write is refused with SD_EKEY instead of
 * sealing values with the old key, and the store verifies under the new
 * key. Both ways: re-encrypt, and encrypt a plaintext store. */
static void t_rekey_concurrent(void)
{
    const char *keys[][2] = {{KEY, KEY2}, {NULL, KEY}};

    for (size_t i = 0; i < 2; i++) {
        char name[32];
        struct store *a, *b;
        struct sd_err err = {0};
        struct traj_new t = {.uuid = "u-late",
                             .strategy = "momentum",
                             .symbol = "SPY",
                             .params = "{}",
                             .provider = "local",
                             .description = SECRET_DESC};

        snprintf(name, sizeof name, "c%zu.db", i);
        a = open_key(tpath(name), keys[i][0]);
        add_traj(a, "u-1", TS_SUCCEEDED);
        b = open_key(tpath(name), keys[i][0]);
        CHECK_OK(store_rekey(b, keys[i][1], &err), &err);
        store_close(b);
        CHECK(traj_insert(a, &t, &err) <= 0);
        CHECK(err.code == SD_EKEY && strstr(err.msg, "changed the store's encryption key"));
        memset(&err, 0, sizeof err);
        store_output_append(a, 1, 1, "late", 4); /* asynchronous: the flush reports it */
        CHECK(store_flush(a, &err) != 0);
        store_close(a);
        a = open_key(tpath(name), keys[i][1]);
        CHECK(verify(a).ok && verify(a).sealed == 1);
        store_close(a);
        CHECK(store_has(tpath(name), "SENTINEL") == 0);
    }
}

/* 4. Rekey interrupted: the child aborts in the middle of re-encrypting
 * (SWARMDECK_FAULT_REKEY); the store opens with the old key, all of it. */
static void t_rekey_crash(void)
{
    const char *path = tpath("k.db");
    struct store *s = open_key(path, KEY);
    struct sd_err err = {0};
    pid_t pid;
    int status;

    for (int i = 0; i < 20; i++) {
        char uuid[16];
        snprintf(uuid, sizeof uuid, "u-%d", i);
        add_traj(s, uuid, TS_SUCCEEDED);
    }
    store_close(s);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        setenv("SWARMDECK_FAULT_REKEY", "37", 1);
        s = open_key(path, KEY);
        store_rekey(s, KEY2, &err);
        _exit(0); /* not reached: the fault hook aborts */
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CHECK(store_open_key(path, STORE_CREATE, KEY2, &s, &err) == -1 && err.code == SD_EKEY);
    s = open_key(path, KEY);
    {
        struct chain_report r = verify(s);
        CHECK(r.ok && r.sealed == 20);
    }
    /* And a rekey that completes switches keys. */
    CHECK_OK(store_rekey(s, KEY2, &err), &err);
    store_close(s);
    CHECK(store_open_key(path, STORE_CREATE, KEY, &s, &err) == -1 && err.code == SD_EKEY);
    s = open_key(path, KEY2);
    CHECK(verify(s).ok && verify(s).sealed == 20);
    store_close(s);
}

/* 5. A v1 store (before this schema) migrates to v2 and its finished
 * trajectories are sealed at the first commit. */
static void t_migrate_v1(void)
{
    const char *path = tpath("v1.db");
    struct store *s;
    struct sd_err err = {0};
    sqlite3 *db;
    char sql[1024];

    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, store_migrations[0], NULL, NULL, NULL) == SQLITE_OK);
    snprintf(sql, sizeof sql,
             "INSERT INTO meta VALUES('schema_version', '1'), ('store_id', 'abc');"
             "INSERT INTO trajectories(uuid, strategy, params, provider, status, created_at,"
             " ended_at, reward) VALUES('old-1', 'momentum', '{}', 'local', 'succeeded', 5, 6,"
             " 0.5), ('old-2', 'momentum', '{}', 'local', 'running', 7, NULL, NULL);");
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    s = open_key(path, NULL);
    add_traj(s, "new-1", TS_SUCCEEDED);
    {
        struct chain_report r = verify(s);
        CHECK(r.ok && r.sealed == 2 && r.unsealed == 0);
    }
    CHECK(traj_mark_orphans_interrupted(s, 1, &err) == 1);
    {
        struct chain_report r = verify(s);
        CHECK(r.ok && r.sealed == 3);
    }
    store_close(s);
}

static int dump_file(json_t *b, const char *path)
{
    return json_dump_file(b, path, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
}

/* 6. Export from an encrypted store, import into a fresh one: the bundle
 * carries fingerprints and a digest; a changed bundle is refused and the
 * store is unchanged. */
static void t_bundle(void)
{
    struct store *a = open_key(tpath("a.db"), KEY), *b;
    struct sd_err err = {0};
    struct import_report rep;
    json_error_t je;
    json_t *bundle, *copy, *t;

    add_traj(a, "u-1", TS_SUCCEEDED);
    add_traj(a, "u-2", TS_FAILED);
    bundle = export_bundle(a, &err);
    CHECK(bundle != NULL);
    CHECK_OK(export_seal_bundle(bundle, &err), &err);
    CHECK(json_string_value(json_object_get(bundle, "digest")) != NULL);
    CHECK(dump_file(bundle, tpath("b.json")) == 0);
    store_close(a);
    /* The bundle holds the plaintext (that is its point) but never the key. */
    CHECK(file_has(tpath("b.json"), KEY) == 0);

    b = open_key(tpath("b.db"), NULL);
    /* Tampered: a reward changed, digest recomputed -> the fingerprint
     * catches it. */
    copy = json_deep_copy(bundle);
    t = json_array_get(json_object_get(copy, "trajectories"), 1);
    json_object_set_new(t, "reward", json_real(0.125));
    CHECK_OK(export_seal_bundle(copy, &err), &err);
    CHECK(import_bundle(b, copy, &rep, &err) == -1 && strstr(err.msg, "fingerprint") != NULL);
    json_decref(copy);
    /* Tampered without recomputing the digest. */
    copy = json_deep_copy(bundle);
    t = json_array_get(json_object_get(copy, "trajectories"), 0);
    json_object_set_new(t, "description", json_string("changed"));
    CHECK(import_bundle(b, copy, &rep, &err) == -1 && strstr(err.msg, "digest") != NULL);
    json_decref(copy);
    /* A record dropped from the middle (digest recomputed). */
    copy = json_deep_copy(bundle);
    json_array_remove(json_object_get(copy, "trajectories"), 0);
    CHECK_OK(export_seal_bundle(copy, &err), &err);
    CHECK(import_bundle(b, copy, &rep, &err) == -1 && strstr(err.msg, "chain") != NULL);
    json_decref(copy);
    {
        struct chain_report r = verify(b);
        CHECK(r.ok && r.sealed == 0);
    }
    /* The file round trip imports, and joins b's chain. */
    copy = json_load_file(tpath("b.json"), 0, &je);
    CHECK(copy != NULL);
    CHECK_OK(import_bundle(b, copy, &rep, &err), &err);
    CHECK(rep.added == 2);
    json_decref(copy);
    {
        struct chain_report r = verify(b);
        CHECK(r.ok && r.sealed == 2);
    }
    store_close(b);
    json_decref(bundle);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    {"chain", t_chain},
    {"encrypted", t_encrypted},
    {"rekey", t_rekey},
    {"rekey_crash", t_rekey_crash},
    {"migrate_v1", t_migrate_v1},
    {"bundle", t_bundle},
    {"rekey_concurrent", t_rekey_concurrent},
};

int main(int argc, char **argv)
{
    int ran = 0;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
            continue;
        snprintf(tmpdir, sizeof tmpdir, "%s/sd-sec-XXXXXX", base);
        CHECK(mkdtemp(tmpdir) != NULL);
        tests[i].fn();
        printf("ok %s\n", tests[i].name);
        ran++;
        {
            char cmd[300];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
            if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", tmpdir);
        }
    }
    if (ran == 0) {
        fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "");
        return 2;
    }
    return 0;
}
