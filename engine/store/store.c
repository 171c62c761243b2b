/*
 * store.c: the trajectory store's life: open (create, check, migrate, set up
 * encryption, start the writer), close, the accessors, the chain summary and
 * reader connections (store.h has the contracts).
 *
 * DESIGN
 * Opening refuses a stray file before SQLite touches it (prepare_file), and
 * a newer schema or a missing or wrong key before anything is written. The
 * migrations run in one IMMEDIATE transaction, and only when the store is
 * not current, so an up-to-date store opens without waiting for the write
 * lock a running swarm's writer holds. A read-only store gets no writer
 * thread; its one connection is the owner's. A read-write store starts the
 * writer thread (store_writer.c) last, with s->lock held so the thread
 * never runs before s->writer is set. store_close stops and joins it, then
 * (after a rekey that turned encryption on or off) compacts the file.
 *
 * Readers and the chain summary open connections of their own, so they never
 * touch the writer's.
 *
 * The rest of the store's machinery: the queue (store_queue.c), the writer
 * thread (store_writer.c), output capture (store_output.c), the statement
 * cache (store_sql.c), rekey and leases (store_jobs.c); store_int.h has the
 * struct and its locking.
 *
 * THREADS
 * store_open/store_close: the owner thread. The accessors, store_reader,
 * store_reader_borrow and _return (a pool under s->lock), store_reader_fts
 * and store_chain_summary: any thread.
 */
#define _GNU_SOURCE
#include "store_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain.h"
#include "store_crypt.h"
#include "store_schema.h"

#define STORE_BUSY_TIMEOUT_MS 5000

/* --- open, migrate --------------------------------------------------------- */

/* Read one text value from a query with one result column into buf. Returns
 * 1 if a row was found, 0 if none, -1 on error. */
static int query_text(sqlite3 *db, const char *sql, const char *bind, char *buf, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (bind != NULL)
        sqlite3_bind_text(st, 1, bind, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
        rc = 1;
    } else {
        rc = rc == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Column col of st as text into buf ("" for NULL). */
static void copy_text(sqlite3_stmt *st, int col, char *buf, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
}

/* The schema version recorded in meta: 0 for an empty database. */
static int read_version(sqlite3 *db, long *version)
{
    char buf[32];
    int rc = query_text(db, "SELECT name FROM sqlite_schema WHERE type='table' AND name='meta'",
                        NULL, buf, sizeof buf);
    *version = 0;
    if (rc <= 0)
        return rc;
    rc = store_meta_get(db, "schema_version", buf, sizeof buf);
    if (rc < 0)
        return -1;
    if (rc == 1)
        *version = strtol(buf, NULL, 10);
    return 0;
}

static int random_hex(char *out, size_t nbytes)
{
    unsigned char b[64];
    size_t got = 0;

    assert(nbytes <= sizeof b);
    while (got < nbytes) {
        ssize_t n = getrandom(b + got, nbytes - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    for (size_t i = 0; i < nbytes; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    return 0;
}

/* Run the migrations from *version up, inside one IMMEDIATE transaction, and
 * make sure meta has store_id and created_at. The version is re-read inside
 * the transaction because another process may have migrated meanwhile. */
static int migrate(struct store *s, struct sd_err *err)
{
    sqlite3 *db = s->db;
    char buf[64];
    long version;
    int rc = -1;

    /* An up-to-date store needs no write, so do not wait for the write
     * lock: a busy process's writer takes it batch after batch (only while
     * its jobs run, store_writer.c), and opening should not queue behind
     * it. Its own writes retry (writer_exec_retry). */
    if (read_version(db, &version) == 0 && version == STORE_SCHEMA_VERSION &&
        store_meta_get(db, "store_id", s->id, sizeof s->id) == 1)
        return 0;
    if (store_exec(db, "BEGIN IMMEDIATE") != SQLITE_OK)
        return store_sql_err(err, db, s->path, "cannot lock the store to migrate it");
    if (read_version(db, &version) != 0) {
        store_sql_err(err, db, s->path, "cannot read the schema version");
        goto out;
    }
    if (version > STORE_SCHEMA_VERSION) {
        sd_err_set(err, SD_EENV,
                   "%s: store schema version %ld is newer than this swarmdeck (%d); upgrade "
                   "swarmdeck or use another store",
                   s->path, version, STORE_SCHEMA_VERSION);
        goto out;
    }
    for (long v = version; v < (long)store_migrations_count; v++) {
        if (store_exec(db, store_migrations[v]) != SQLITE_OK) {
            snprintf(buf, sizeof buf, "migration %ld failed", v + 1);
            store_sql_err(err, db, s->path, buf);
            goto out;
        }
    }
    /* Write only what changed: opening an up-to-date store for a command that
     * is then refused must leave the file's bytes as they were. */
    snprintf(buf, sizeof buf, "%d", STORE_SCHEMA_VERSION);
    if (version != STORE_SCHEMA_VERSION && store_meta_set(db, "schema_version", buf) != 0)
        goto meta_fail;
    if (store_meta_get(db, "store_id", s->id, sizeof s->id) != 1) {
        if (random_hex(s->id, 16) != 0) {
            sd_err_set(err, SD_EENV, "%s: cannot read random bytes: %s", s->path, strerror(errno));
            goto out;
        }
        snprintf(buf, sizeof buf, "%lld", (long long)sd_now_ms());
        if (store_meta_set(db, "store_id", s->id) != 0 ||
            store_meta_set(db, "created_at", buf) != 0)
            goto meta_fail;
    }
    if (store_exec(db, "COMMIT") != SQLITE_OK) {
        store_sql_err(err, db, s->path, "cannot commit the migration");
        goto out;
    }
    return 0;
meta_fail:
    store_sql_err(err, db, s->path, "cannot write meta");
out:
    store_exec(db, "ROLLBACK");
    return rc;
}

/* Read-only: the schema must be exactly this binary's (no migrating). */
static int check_readonly(struct store *s, struct sd_err *err)
{
    long version;

    if (read_version(s->db, &version) != 0)
        return store_sql_err(err, s->db, s->path, "cannot read the schema version");
    if (version > STORE_SCHEMA_VERSION)
        return sd_err_set(err, SD_EENV,
                          "%s: store schema version %ld is newer than this swarmdeck (%d); "
                          "upgrade swarmdeck or use another store",
                          s->path, version, STORE_SCHEMA_VERSION);
    if (version < STORE_SCHEMA_VERSION)
        return sd_err_set(err, SD_EENV,
                          "%s: store schema version %ld is older than this swarmdeck (%d); "
                          "open it once read-write to upgrade it",
                          s->path, version, STORE_SCHEMA_VERSION);
    if (store_meta_get(s->db, "store_id", s->id, sizeof s->id) < 0)
        return store_sql_err(err, s->db, s->path, "cannot read the store id");
    return 0;
}

/* Create the file (0600) if asked, and check that an existing non-empty file
 * starts with SQLite's magic, so a stray file is refused before SQLite
 * touches it. *created is set when this call created the file. */
static int prepare_file(const char *path, int flags, int *created, struct sd_err *err)
{
    static const char magic[16] = "SQLite format 3";
    char hdr[16];
    struct stat st;
    ssize_t n;
    int fd;

    *created = 0;
    if (flags & STORE_CREATE) {
        char *dir = strdup(path), *slash;
        if (dir == NULL)
            return sd_err_set(err, SD_ENOMEM, "out of memory");
        slash = strrchr(dir, '/');
        if (slash != NULL && slash != dir) {
            *slash = '\0';
            if (sd_mkdir_p(dir, 0700) != 0) {
                sd_err_set(err, SD_EENV, "%s: cannot create the directory: %s", dir,
                           strerror(errno));
                free(dir);
                return -1;
            }
        }
        free(dir);
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0)
            *created = 1;
        else if (errno == EEXIST)
            fd = open(path, O_RDONLY | O_CLOEXEC);
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        if (errno == ENOENT)
            return sd_err_set(err, SD_EENV, "%s: no store here; create one first", path);
        return sd_err_set(err, SD_EENV, "%s: cannot open the store: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sd_err_set(err, SD_EENV, "%s: not a regular file; give the path of a store file",
                          path);
    }
    n = st.st_size > 0 ? pread(fd, hdr, sizeof hdr, 0) : 0;
    close(fd);
    if (st.st_size > 0 && (n != (ssize_t)sizeof hdr || memcmp(hdr, magic, sizeof hdr) != 0))
        return sd_err_set(err, SD_EENV,
                          "%s: not a swarmdeck store (not an SQLite database); move it aside "
                          "or choose another path",
                          path);
    if (st.st_size == 0 && !(flags & STORE_CREATE))
        return sd_err_set(err, SD_EENV, "%s: the store is empty; open it read-write to create it",
                          path);
    return 0;
}

/* SQLite creates -wal and -shm with the database's mode minus the umask;
 * enforce 0600 in case the database file had been made wider. */
static void tighten_companions(const char *path)
{
    static const char *const suffix[] = {"-wal", "-shm"};
    char buf[4096];

    for (size_t i = 0; i < 2; i++) {
        snprintf(buf, sizeof buf, "%s%s", path, suffix[i]);
        (void)chmod(buf, 0600);
    }
}

int store_open(const char *path, int flags, struct store **out, struct sd_err *err)
{
    return store_open_key(path, flags, NULL, out, err);
}

/* Set up encryption on the writer connection once the schema is current:
 * create the key of a new store, register sd_seal/sd_open, the writer's
 * sd_plain_* views, and secure_delete so freed pages never keep plaintext. */
static int open_crypto(struct store *s, const char *secret, int need_init, struct sd_err *err)
{
    if (need_init) {
        if (store_exec(s->db, "BEGIN IMMEDIATE") != SQLITE_OK)
            return store_sql_err(err, s->db, s->path, "cannot lock the store");
        if (skey_init(s->db, s->path, secret, s->id, &s->key, err) != 0) {
            store_exec(s->db, "ROLLBACK");
            return -1;
        }
        if (store_exec(s->db, "COMMIT") != SQLITE_OK) {
            store_sql_err(err, s->db, s->path, "cannot record the key check");
            store_exec(s->db, "ROLLBACK");
            return -1;
        }
    }
    /* Always in memory, so a later rekey never spills decrypted rows. */
    if (store_exec(s->db, "PRAGMA temp_store=MEMORY") != SQLITE_OK ||
        skey_register(s->db, &s->key, 0) != 0)
        return store_sql_err(err, s->db, s->path, "cannot register the store functions");
    if (skey_views(s->db, s->key != NULL, 0, err) != 0)
        return -1;
    if (s->key != NULL && store_exec(s->db, "PRAGMA secure_delete=ON") != SQLITE_OK)
        return store_sql_err(err, s->db, s->path, "cannot configure the store");
    return 0;
}

int store_open_key(const char *path, int flags, const char *secret, struct store **out,
                   struct sd_err *err)
{
    struct store *s;
    int created = 0, oflags, rc = -1, need_init = 0;
    char mode[16];

    *out = NULL;
    if (flags & STORE_READONLY)
        flags &= ~STORE_CREATE;
    s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        free(s);
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    }
    s->flags = flags;
    s->out_head = s->out_tail = 1 << 20;
    s->data_version = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_cond_init(&s->wcond, NULL);

    if (prepare_file(path, flags, &created, err) != 0)
        goto out;
    /* A read-only store still opens read-write when the file allows it, with
     * query_only set below: SQLite lets only a read-write connection remove
     * the -wal and -shm files at its close, so a read-only command leaves the
     * store's files exactly as it found them. */
    oflags = (flags & STORE_READONLY) && access(path, W_OK) != 0 ? SQLITE_OPEN_READONLY
                                                                 : SQLITE_OPEN_READWRITE;
    if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        if (s->db == NULL)
            sd_err_set(err, SD_ENOMEM, "out of memory");
        else
            store_sql_err(err, s->db, path, "cannot open the store");
        goto out;
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    if (store_exec(s->db, "PRAGMA foreign_keys=ON") != SQLITE_OK) {
        store_sql_err(err, s->db, path, "cannot configure the store");
        goto out;
    }
    if (flags & STORE_READONLY) {
        if (store_exec(s->db, "PRAGMA query_only=1") != SQLITE_OK) {
            store_sql_err(err, s->db, path, "cannot configure the store");
            goto out;
        }
        if (check_readonly(s, err) != 0)
            goto out;
        if (skey_check(s->db, path, secret, &s->key, &need_init, err) != 0)
            goto out;
        if (need_init) {
            sd_err_set(err, SD_EKEY,
                       "%s: an encryption key was given but the store is not encrypted; open it "
                       "read-write to encrypt a new store, or `swarmdeck rekey` an existing one",
                       path);
            goto out;
        }
        if (skey_register(s->db, &s->key, 0) != 0) {
            store_sql_err(err, s->db, path, "cannot register the store functions");
            goto out;
        }
        *out = s;
        return 0;
    }
    {
        /* Refuse a newer schema before the journal mode is changed. */
        long version;
        if (read_version(s->db, &version) != 0) {
            store_sql_err(err, s->db, path, "cannot read the store");
            goto out;
        }
        if (version > STORE_SCHEMA_VERSION) {
            sd_err_set(err, SD_EENV,
                       "%s: store schema version %ld is newer than this swarmdeck (%d); upgrade "
                       "swarmdeck or use another store",
                       path, version, STORE_SCHEMA_VERSION);
            goto out;
        }
        /* A missing or wrong key is refused before anything else is read
         * or the file is touched. */
        if (skey_check(s->db, path, secret, &s->key, &need_init, err) != 0)
            goto out;
        /* Trajectories finished before the chain existed are sealed by the
         * first commit. */
        s->seal_all = version == 1;
    }
    if (query_text(s->db, "PRAGMA journal_mode=WAL", NULL, mode, sizeof mode) != 1 ||
        strcmp(mode, "wal") != 0) {
        store_sql_err(err, s->db, path, "cannot switch the store to WAL mode");
        goto out;
    }
    if (store_exec(s->db, "PRAGMA synchronous=NORMAL") != SQLITE_OK) {
        store_sql_err(err, s->db, path, "cannot configure the store");
        goto out;
    }
    if (migrate(s, err) != 0)
        goto out;
    if (open_crypto(s, secret, need_init, err) != 0)
        goto out;
    tighten_companions(path);
    /* Hold the lock across pthread_create: the writer's first act is to take
     * it, so it never runs before s->writer and s->writer_started are set. */
    store_lock(s);
    s->writer_started = 1;
    if (pthread_create(&s->writer, NULL, store_writer_main, s) != 0) {
        s->writer_started = 0;
        store_unlock(s);
        sd_err_set(err, SD_EENV, "cannot start the store writer thread");
        goto out;
    }
    store_unlock(s);
    *out = s;
    return 0;
out:
    sqlite3_close_v2(s->db);
    skey_free(s->key);
    if (created) {
        /* Leave nothing behind: we made the file, so it holds nothing else. */
        char buf[4096];
        unlink(path);
        snprintf(buf, sizeof buf, "%s-wal", path);
        unlink(buf);
        snprintf(buf, sizeof buf, "%s-shm", path);
        unlink(buf);
    }
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    pthread_cond_destroy(&s->wcond);
    free(s->path);
    free(s);
    return rc;
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    store_reader_pool_drain(s); /* before VACUUM, which no reader may hold up */
    if (s->writer_started) {
        store_lock(s);
        s->stopping = 1;
        pthread_cond_broadcast(&s->cond);
        pthread_cond_signal(&s->wcond);
        store_unlock(s);
        pthread_join(s->writer, NULL);
    }
    if (s->vacuum_at_close) {
        /* After rekey: rewrite the file so no page freed by it keeps old
         * bytes, and empty the WAL, which still holds the old pages. */
        store_exec(s->db, "VACUUM");
        store_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)");
    }
    sqlite3_close_v2(s->db);
    skey_free(s->key);
    free(s->seal_ids);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    pthread_cond_destroy(&s->wcond);
    free(s->path);
    free(s);
}

const char *store_path(const struct store *s)
{
    return s->path;
}

const char *store_id(const struct store *s)
{
    return s->id;
}

int store_encrypted(const struct store *s)
{
    return s->key != NULL;
}

/* The summary compares the chain's current head with the one the last
 * `swarmdeck verify` recorded (meta chain_verified: "n:fingerprint" or
 * "broken:id"), and the head record in meta with the last row: two indexed
 * lookups, never a walk of the chain. */
void store_chain_summary(struct store *s, char *buf, size_t n)
{
    sqlite3 *db = NULL;
    char verified[CHAIN_HEX_LEN + 32] = "", head[CHAIN_HEX_LEN + 32] = "", last[CHAIN_HEX_LEN + 32];
    sqlite3_stmt *st = NULL;
    int64_t seq = 0;

    /* A bare connection: only sd_open is needed, not the decrypting views. */
    if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        skey_register(db, &s->key, 1) != 0) {
        snprintf(buf, n, "unreadable");
        sqlite3_close_v2(db);
        return;
    }
    sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT chain_seq || ':' || fingerprint FROM main.trajectories"
                           " WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1),"
                           " (SELECT sd_open(value, 'chain_head') FROM main.meta"
                           " WHERE key = 'chain_head'),"
                           " (SELECT value FROM main.meta WHERE key = 'chain_verified')",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        snprintf(buf, n, "unreadable");
        goto out;
    }
    copy_text(st, 0, last, sizeof last);
    copy_text(st, 1, head, sizeof head);
    copy_text(st, 2, verified, sizeof verified);
    seq = strtoll(last, NULL, 10);
    if (strncmp(verified, "broken:", 7) == 0)
        snprintf(buf, n, "BROKEN at #%s", verified + 7);
    else if (strcmp(head, last) != 0)
        snprintf(buf, n, "BROKEN at head");
    else if (seq == 0)
        snprintf(buf, n, "empty");
    else if (strcmp(verified, last) == 0)
        snprintf(buf, n, "ok (%lld)", (long long)seq);
    else
        snprintf(buf, n, "unverified (%lld)", (long long)seq);
out:
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
}

/* --- readers --------------------------------------------------------------- */

sqlite3 *store_reader(struct store *s, struct sd_err *err)
{
    sqlite3 *db = NULL;

    store_lock(s);
    s->stats.readers_opened++;
    store_unlock(s);
    if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        if (db == NULL)
            sd_err_set(err, SD_ENOMEM, "out of memory");
        else
            store_sql_err(err, db, s->path, "cannot open a reader");
        sqlite3_close_v2(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
    /* Plaintext for the caller: sd_open with its own copy of the key and,
     * on an encrypted store, the shadowing views (store_crypt.h). */
    if (skey_register(db, &s->key, 1) != 0) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        sqlite3_close_v2(db);
        return NULL;
    }
    if (s->key != NULL && skey_views(db, 1, 1, err) != 0) {
        sqlite3_close_v2(db);
        return NULL;
    }
    return db;
}

sqlite3 *store_reader_borrow(struct store *s, uint64_t *gen, struct sd_err *err)
{
    sqlite3 *db = NULL;

    store_lock(s);
    *gen = s->key_gen;
    if (s->nrpool > 0) {
        db = s->rpool[--s->nrpool];
        s->stats.readers_reused++;
    }
    store_unlock(s);
    return db != NULL ? db : store_reader(s, err);
}

void store_reader_return(struct store *s, sqlite3 *db, uint64_t gen)
{
    int kept = 0;

    if (db == NULL)
        return;
    /* Only an idle connection is kept: a statement left stepping would pin
     * an old snapshot of the WAL for the next borrower. */
    if (sqlite3_next_stmt(db, NULL) == NULL && sqlite3_get_autocommit(db)) {
        store_lock(s);
        if (gen == s->key_gen && s->nrpool < STORE_READER_POOL) {
            s->rpool[s->nrpool++] = db;
            kept = 1;
        }
        store_unlock(s);
    }
    if (!kept)
        sqlite3_close_v2(db);
}

void store_reader_pool_drain(struct store *s)
{
    sqlite3 *v[STORE_READER_POOL];
    int n;

    store_lock(s);
    s->key_gen++;
    n = s->nrpool;
    memcpy(v, s->rpool, sizeof v);
    s->nrpool = 0;
    store_unlock(s);
    for (int i = 0; i < n; i++)
        sqlite3_close_v2(v[i]);
}

int store_reader_fts(struct store *s, sqlite3 *db, struct sd_err *err)
{
    return s->key != NULL ? skey_fts(db, err) : 0;
}
